//! Themes: groups of units (sentences or passages) that recur across a
//! corpus, each with an id, its size, keywords and a short label, its most
//! central units and the documents it appears in (with a unit count for
//! each).
//!
//! Built from unit vectors, texts and the document of each unit; the
//! grouping is `cluster`'s, the keywords `keywords`'s. Units that belong to
//! no theme are outliers, listed as such; `reassign_outliers` attaches each
//! to the theme whose centroid is closest instead. Everything is ordered by
//! fixed rules (size, then position), so the same input and seed always
//! give the same themes.
//!
//! What a unit is, is the caller's choice: `motif themes` clusters
//! sentences by default, because a paragraph often makes several points
//! (on the seeds, one paragraph goes from what North Korea gains to how
//! South Korea answers) and a paragraph-level theme then blends them.

pub mod cluster;
pub mod keywords;

use ndarray::{Array2, ArrayView2};

use crate::corpus::Units;
use crate::index::{Neighbours, Route};
use crate::matrix::{self, centroid, dot, row};
use crate::text;
use cluster::{ClusterError, Clustering, Params};
use keywords::{Keyword, StopWords};

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("{vectors} vectors but {texts} texts and {docs} document ids: they must match")]
    Mismatch { vectors: usize, texts: usize, docs: usize },
}

/// Settings of a themes run.
#[derive(Debug, Clone)]
pub struct Options {
    pub cluster: Params,
    /// Keywords per theme.
    pub keywords: usize,
    /// Central units shown per theme.
    pub central: usize,
    /// Attach every outlier to its nearest theme.
    pub reassign_outliers: bool,
    pub stop_words: StopWords,
    /// Units with fewer content words ("img", "Source link", a bare
    /// date) say nothing to group by: they are outliers without being
    /// clustered, so they cannot pull a theme together.
    pub min_content_words: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cluster: Params::default(),
            keywords: 10,
            central: 3,
            reassign_outliers: false,
            stop_words: StopWords::default(),
            min_content_words: 3,
        }
    }
}

/// A unit near its theme's centre, with its cosine to the centroid.
#[derive(Debug, Clone, PartialEq)]
pub struct Central {
    pub unit: usize,
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub id: usize,
    /// Units in the theme, in corpus order.
    pub members: Vec<usize>,
    pub keywords: Vec<Keyword>,
    pub label: String,
    /// Most central units first.
    pub central: Vec<Central>,
    /// (document, units in the theme), most units first, then document order.
    pub documents: Vec<(usize, usize)>,
}

impl Theme {
    pub fn size(&self) -> usize {
        self.members.len()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Themes {
    pub themes: Vec<Theme>,
    /// Units in no theme (empty after reassignment).
    pub outliers: Vec<usize>,
    /// Outliers that were attached to their nearest theme.
    pub reassigned: usize,
    /// Each unit's theme.
    pub assignment: Vec<Option<usize>>,
}

/// The default resolution for a kind of unit. Whole articles and
/// passages: 0.75, chosen on BBC News at the article level. Sentences:
/// 1.0: a sentence carries one point, and at 0.75 the seeds' sentences fall
/// into four or five broad themes, one of them blending what North Korea
/// gains with how South Korea answers; at 1.0 those come apart, and on BBC
/// sentences the themes' purity against the five topics holds at 1.0 and
/// drops beyond (figures in the README's Themes section).
pub fn default_resolution(unit: crate::corpus::UnitKind) -> f64 {
    match unit {
        crate::corpus::UnitKind::Sentence => 1.0,
        crate::corpus::UnitKind::Passage => Params::default().resolution,
    }
}

/// The units that take part in clustering: those with at least
/// `min_content_words` content words (the rest are outliers unclustered).
pub fn members(texts: &[&str], min_content_words: usize) -> Vec<usize> {
    (0..texts.len()).filter(|&i| text::content_words(texts[i]) >= min_content_words).collect()
}

/// Neighbours per member that clustering reads from the k-NN graph.
pub fn neighbours_needed(members: usize, opts: &Options) -> usize {
    let k = if opts.cluster.k == 0 { cluster::auto_k(members) } else { opts.cluster.k };
    k.min(members.saturating_sub(1))
}

/// Themes of a unit set, from its k-NN graph (built over
/// `members(.., opts.min_content_words)` with at least `neighbours_needed`
/// neighbours each): the graph overlaps read too.
pub fn find(units: &Units, graph: &Neighbours, opts: &Options) -> Result<Themes, ThemeError> {
    let texts = units.text_refs();
    let docs = units.docs();
    check(units.view(), &texts, &docs)?;
    let clustering = cluster_members(graph, texts.len(), opts)?;
    Ok(describe(units.view(), &texts, &docs, &clustering, opts))
}

/// Clusters vectors with their texts and documents, building the exact
/// k-NN graph on the way: for evaluations and callers without a graph.
/// `docs[i]` is unit i's document (any numbering).
pub fn build(v: ArrayView2<f32>, texts: &[&str], docs: &[usize], opts: &Options) -> Result<Themes, ThemeError> {
    check(v, texts, docs)?;
    let kept = members(texts, opts.min_content_words);
    let k = neighbours_needed(kept.len(), opts);
    let graph = Neighbours::build(v, kept, k, Route::Exact, &mut |_| {});
    let clustering = cluster_members(&graph, texts.len(), opts)?;
    Ok(describe(v, texts, docs, &clustering, opts))
}

fn check(v: ArrayView2<f32>, texts: &[&str], docs: &[usize]) -> Result<(), ThemeError> {
    if texts.len() != v.nrows() || docs.len() != v.nrows() {
        return Err(ThemeError::Mismatch { vectors: v.nrows(), texts: texts.len(), docs: docs.len() });
    }
    matrix::check_finite(v, "unit vectors").map_err(|e| match e {
        matrix::MatrixError::NotFinite { row, .. } => ThemeError::Cluster(ClusterError::NotFinite { row }),
        other => ThemeError::Cluster(ClusterError::Param(other.to_string())),
    })
}

/// Clusters the graph's members; every other unit is an outlier.
fn cluster_members(graph: &Neighbours, n: usize, opts: &Options) -> Result<Clustering, ThemeError> {
    opts.cluster.check()?;
    let k = neighbours_needed(graph.len(), opts);
    if graph.knn.k < k {
        return Err(ThemeError::Cluster(ClusterError::Param(format!(
            "the k-NN graph holds {} neighbours, clustering needs {k}",
            graph.knn.k
        ))));
    }
    let knn = graph.truncated(k);
    let weights = cluster::fuzzy_graph(&knn);
    let part = if graph.is_empty() {
        Clustering { labels: Vec::new(), groups: 0 }
    } else {
        cluster::cluster_graph(graph.vectors(), &knn, &weights, &opts.cluster)?
    };
    let mut labels = vec![None; n];
    for (&i, l) in graph.members.iter().zip(&part.labels) {
        labels[i] = *l;
    }
    Ok(Clustering { labels, groups: part.groups })
}

/// Describes a clustering already made (see `build`).
pub fn describe(v: ArrayView2<f32>, texts: &[&str], docs: &[usize], clustering: &Clustering, opts: &Options) -> Themes {
    let mut assignment = clustering.labels.clone();
    let mut members = clustering.members();
    let mut centroids: Vec<Vec<f32>> = members.iter().map(|m| centroid(v, m)).collect();
    let mut reassigned = 0;
    if opts.reassign_outliers && !centroids.is_empty() {
        for (i, a) in assignment.iter_mut().enumerate() {
            if a.is_none() {
                let best = nearest(&centroids, row(&v, i));
                *a = Some(best);
                members[best].push(i);
                reassigned += 1;
            }
        }
        for m in members.iter_mut() {
            m.sort_unstable();
        }
        centroids = members.iter().map(|m| centroid(v, m)).collect();
    }
    let outliers: Vec<usize> = (0..assignment.len()).filter(|&i| assignment[i].is_none()).collect();
    let keywords = keywords::class_keywords(texts, &assignment, members.len(), &opts.stop_words, opts.keywords);
    let themes = members
        .into_iter()
        .zip(keywords)
        .zip(centroids)
        .enumerate()
        .map(|(id, ((members, keywords), c))| {
            let mut central: Vec<Central> =
                members.iter().map(|&p| Central { unit: p, score: dot(&c, row(&v, p)) }).collect();
            central.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.unit.cmp(&b.unit)));
            central.truncate(opts.central);
            let mut counts: Vec<(usize, usize)> = Vec::new();
            for &p in &members {
                match counts.iter_mut().find(|(d, _)| *d == docs[p]) {
                    Some(entry) => entry.1 += 1,
                    None => counts.push((docs[p], 1)),
                }
            }
            counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let label = keywords::label(&keywords);
            Theme { id, members, keywords, label, central, documents: counts }
        })
        .collect();
    Themes { themes, outliers, reassigned, assignment }
}

fn nearest(centroids: &[Vec<f32>], x: &[f32]) -> usize {
    let mut best = (f32::NEG_INFINITY, 0);
    for (c, v) in centroids.iter().enumerate() {
        let s = dot(v, x);
        if s > best.0 {
            best = (s, c);
        }
    }
    best.1
}

/// One vector per document: the normalised mean of its passages' vectors.
/// `docs[i]` is passage i's document in `0..count`; a document without
/// passages gets a zero vector.
pub fn document_vectors(v: ArrayView2<f32>, docs: &[usize], count: usize) -> Array2<f32> {
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (i, &d) in docs.iter().enumerate() {
        rows[d].push(i);
    }
    let data: Vec<f32> = rows.iter().flat_map(|r| centroid(v, r)).collect();
    Array2::from_shape_vec((count, v.ncols()), data).expect("one centroid per document")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    /// Two topics in 8-D, spread over three documents, plus one odd passage.
    fn corpus() -> (Array2<f32>, Vec<String>, Vec<usize>) {
        let mut rng = cluster::SplitMix::new(3);
        let mut noise = move || ((rng.next_u64() >> 11) as f32 / (1u64 << 53) as f32 - 0.5) * 0.3;
        let mut data = Vec::new();
        let mut texts = Vec::new();
        let mut docs = Vec::new();
        for i in 0..12 {
            let mut a = vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
            a.iter_mut().skip(2).for_each(|x| *x += noise());
            data.extend(unit(&a));
            texts.push(format!("troops deployed near the border, more troops, unit {i}"));
            docs.push(i % 3);
            let mut b = vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
            b.iter_mut().skip(2).for_each(|x| *x += noise());
            data.extend(unit(&b));
            texts.push(format!("missile technology and satellites, item {i}"));
            docs.push((i + 1) % 3);
        }
        data.extend(unit(&[-1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]));
        texts.push("a recipe for soup".into());
        docs.push(0);
        (Array2::from_shape_vec((data.len() / 8, 8), data).unwrap(), texts, docs)
    }

    #[test]
    fn themes_have_keywords_central_passages_and_documents() {
        let (data, texts, docs) = corpus();
        let v = data.view();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let opts = Options { cluster: Params { k: 8, min_size: 3, ..Params::default() }, ..Options::default() };
        let t = build(v, &refs, &docs, &opts).unwrap();
        assert_eq!(t.themes.len(), 2, "{t:?}");
        assert_eq!(t.outliers, vec![24]);
        for th in &t.themes {
            assert_eq!(th.size(), 12);
            assert_eq!(th.documents.len(), 3);
            assert_eq!(th.documents.iter().map(|d| d.1).sum::<usize>(), 12);
            assert_eq!(th.central.len(), 3);
            assert!(th.keywords.len() >= 5, "{:?}", th.keywords);
        }
        let troops = t.themes.iter().find(|th| th.members.contains(&0)).unwrap();
        assert!(troops.label.contains("troops"), "{}", troops.label);
        assert!(t.themes.iter().any(|th| th.label.contains("missile")));

        let opts = Options { reassign_outliers: true, ..opts };
        let t = build(v, &refs, &docs, &opts).unwrap();
        assert!(t.outliers.is_empty());
        assert_eq!(t.reassigned, 1);
        assert_eq!(t.themes.iter().map(Theme::size).sum::<usize>(), 25);
    }

    #[test]
    fn units_without_content_words_are_outliers() {
        let (data, mut texts, docs) = corpus();
        // Same vectors, but two troop passages now say nothing.
        texts[0] = "img".into();
        texts[2] = "Source link".into();
        let v = data.view();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let opts = Options { cluster: Params { k: 8, min_size: 3, ..Params::default() }, ..Options::default() };
        let t = build(v, &refs, &docs, &opts).unwrap();
        assert_eq!(t.outliers, vec![0, 2, 24], "{t:?}");
        assert_eq!(t.themes.iter().map(Theme::size).sum::<usize>(), 22);
        let t = build(v, &refs, &docs, &Options { min_content_words: 0, ..opts }).unwrap();
        assert_eq!(t.outliers, vec![24]);
    }

    #[test]
    fn mismatched_inputs_are_an_error() {
        let data = Array2::from_shape_vec((1, 2), unit(&[1.0, 0.0])).unwrap();
        assert!(build(data.view(), &[], &[0], &Options::default()).is_err());
    }

    #[test]
    fn document_vectors_are_unit_means() {
        let data = ndarray::array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 0.0]];
        let d = document_vectors(data.view(), &[0, 0, 1], 3);
        assert!((d[[0, 0]] - 0.70710677).abs() < 1e-6 && (d[[0, 1]] - 0.70710677).abs() < 1e-6);
        assert_eq!(d.row(1).to_vec(), vec![1.0, 0.0]);
        assert_eq!(d.row(2).to_vec(), vec![0.0, 0.0]);
    }
}
