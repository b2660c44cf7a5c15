//! Themes: groups of passages that recur across a corpus, each with an id,
//! its size, keywords and a short label, its most central passages and the
//! documents it appears in (with a passage count for each).
//!
//! Built from passage vectors, texts and the document of each passage; the
//! grouping is `cluster`'s, the keywords `keywords`'s. Passages that belong
//! to no theme are outliers, listed as such; `reassign_outliers` attaches
//! each to the theme whose centroid is closest instead. Everything is
//! ordered by fixed rules (size, then position), so the same input and seed
//! always give the same themes.

use crate::cluster::{self, ClusterError, Clustering, Params, Vectors};
use crate::keywords::{self, Keyword, StopWords};

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
    /// Central passages shown per theme.
    pub central: usize,
    /// Attach every outlier to its nearest theme.
    pub reassign_outliers: bool,
    pub stop_words: StopWords,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cluster: Params::default(),
            keywords: 10,
            central: 3,
            reassign_outliers: false,
            stop_words: StopWords::default(),
        }
    }
}

/// A passage near its theme's centre, with its cosine to the centroid.
#[derive(Debug, Clone, PartialEq)]
pub struct Central {
    pub passage: usize,
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub id: usize,
    /// Passages in the theme, in corpus order.
    pub members: Vec<usize>,
    pub keywords: Vec<Keyword>,
    pub label: String,
    /// Most central passages first.
    pub central: Vec<Central>,
    /// (document, passages in the theme), most passages first, then document order.
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
    /// Passages in no theme (empty after reassignment).
    pub outliers: Vec<usize>,
    /// Outliers that were attached to their nearest theme.
    pub reassigned: usize,
    /// Each passage's theme.
    pub assignment: Vec<Option<usize>>,
}

/// Normalised mean of the given rows (zero vector for none).
pub fn centroid(v: Vectors, rows: &[usize]) -> Vec<f32> {
    let mut c = vec![0f64; v.dim];
    for &r in rows {
        for (s, x) in c.iter_mut().zip(v.row(r)) {
            *s += *x as f64;
        }
    }
    let norm = c.iter().map(|x| x * x).sum::<f64>().sqrt();
    c.iter().map(|x| if norm > 0.0 { (x / norm) as f32 } else { 0.0 }).collect()
}

/// Clusters the passages and describes each group. `docs[i]` is passage
/// i's document (any numbering).
pub fn build(v: Vectors, texts: &[&str], docs: &[usize], opts: &Options) -> Result<Themes, ThemeError> {
    if texts.len() != v.len() || docs.len() != v.len() {
        return Err(ThemeError::Mismatch { vectors: v.len(), texts: texts.len(), docs: docs.len() });
    }
    let clustering = cluster::cluster(v, &opts.cluster)?;
    Ok(describe(v, texts, docs, &clustering, opts))
}

/// Describes a clustering already made (see `build`).
pub fn describe(v: Vectors, texts: &[&str], docs: &[usize], clustering: &Clustering, opts: &Options) -> Themes {
    let mut assignment = clustering.labels.clone();
    let mut members = clustering.members();
    let mut centroids: Vec<Vec<f32>> = members.iter().map(|m| centroid(v, m)).collect();
    let mut reassigned = 0;
    if opts.reassign_outliers && !centroids.is_empty() {
        for (i, a) in assignment.iter_mut().enumerate() {
            if a.is_none() {
                let best = nearest(&centroids, v.row(i));
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
                members.iter().map(|&p| Central { passage: p, score: cluster::dot(&c, v.row(p)) }).collect();
            central.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.passage.cmp(&b.passage)));
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
        let s = cluster::dot(v, x);
        if s > best.0 {
            best = (s, c);
        }
    }
    best.1
}

/// One vector per document: the normalised mean of its passages' vectors.
/// `docs[i]` is passage i's document in `0..count`; a document without
/// passages gets a zero vector.
pub fn document_vectors(v: Vectors, docs: &[usize], count: usize) -> Vec<f32> {
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (i, &d) in docs.iter().enumerate() {
        rows[d].push(i);
    }
    rows.iter().flat_map(|r| centroid(v, r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    /// Two topics in 8-D, spread over three documents, plus one odd passage.
    fn corpus() -> (Vec<f32>, Vec<String>, Vec<usize>) {
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
        (data, texts, docs)
    }

    #[test]
    fn themes_have_keywords_central_passages_and_documents() {
        let (data, texts, docs) = corpus();
        let v = Vectors::new(&data, 8).unwrap();
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
    fn mismatched_inputs_are_an_error() {
        let data = unit(&[1.0, 0.0]);
        let v = Vectors::new(&data, 2).unwrap();
        assert!(build(v, &[], &[0], &Options::default()).is_err());
    }

    #[test]
    fn document_vectors_are_unit_means() {
        let data = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0];
        let v = Vectors::new(&data, 2).unwrap();
        let d = document_vectors(v, &[0, 0, 1], 3);
        assert!((d[0] - 0.70710677).abs() < 1e-6 && (d[1] - 0.70710677).abs() < 1e-6);
        assert_eq!(&d[2..4], &[1.0, 0.0]);
        assert_eq!(&d[4..6], &[0.0, 0.0]);
    }
}
