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
pub mod hierarchy;
pub mod keywords;
pub mod stable;

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
    /// Unique over all levels. Found afresh: leaves 0.., then each broader
    /// level in turn; `stable::track` gives back the previous run's ids.
    pub id: usize,
    /// Units in the theme, in corpus order.
    pub members: Vec<usize>,
    pub keywords: Vec<Keyword>,
    pub label: String,
    /// Most central units first.
    pub central: Vec<Central>,
    /// (document, units in the theme), most units first, then document order.
    pub documents: Vec<(usize, usize)>,
    /// 0 for the themes found (the finest), 1.. for broader ones (see `hierarchy`).
    pub level: usize,
    /// The id of the broader theme this one is part of (none at the top).
    pub parent: Option<usize>,
    /// The ids of the themes one level down that make this one (empty at level 0).
    pub children: Vec<usize>,
    /// The normalised mean of the members' vectors.
    pub centroid: Vec<f32>,
    /// How the theme relates to the previous run's (`None`: no previous run was read).
    pub status: Option<stable::Status>,
    /// The previous run's themes it came from, when merged or split.
    pub from: Vec<usize>,
}

impl Theme {
    pub fn size(&self) -> usize {
        self.members.len()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Themes {
    /// The themes found: level 0, the leaves of the tree.
    pub themes: Vec<Theme>,
    /// The broader themes, level 1 first; within a level by size, then
    /// first member. Empty when there are few themes (`hierarchy::TOP`).
    pub broader: Vec<Theme>,
    /// The previous run's themes that have no successor (`stable::track`).
    pub vanished: Vec<stable::Vanished>,
    /// Units in no theme (empty after reassignment).
    pub outliers: Vec<usize>,
    /// Outliers that were attached to their nearest theme.
    pub reassigned: usize,
    /// Each unit's theme (a position in `themes`).
    pub assignment: Vec<Option<usize>>,
}

impl Themes {
    /// Levels in the tree (1 when there are no broader themes).
    pub fn levels(&self) -> usize {
        1 + self.broader.iter().map(|t| t.level).max().unwrap_or(0)
    }

    /// The themes of one level (none beyond the top).
    pub fn level(&self, level: usize) -> Vec<&Theme> {
        if level == 0 {
            self.themes.iter().collect()
        } else {
            self.broader.iter().filter(|t| t.level == level).collect()
        }
    }

    /// Every theme, leaves first.
    pub fn all(&self) -> impl Iterator<Item = &Theme> {
        self.themes.iter().chain(&self.broader)
    }

    pub fn by_id(&self, id: usize) -> Option<&Theme> {
        self.all().find(|t| t.id == id)
    }

    /// The theme at the top of the tree above `theme` (itself at the top).
    pub fn root_of<'a>(&'a self, mut theme: &'a Theme) -> &'a Theme {
        while let Some(p) = theme.parent.and_then(|p| self.by_id(p)) {
            theme = p;
        }
        theme
    }

    /// Checks the tree: ids unique, every parent exists one level up and
    /// lists the theme among its children, and every broader theme's
    /// members are exactly its children's, each unit once.
    pub fn check_tree(&self) -> Result<(), String> {
        let mut ids: Vec<usize> = self.all().map(|t| t.id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(format!("ids repeat: {ids:?}"));
        }
        for t in self.all() {
            if let Some(p) = t.parent {
                let parent = self.by_id(p).ok_or(format!("theme {}: parent {p} does not exist", t.id))?;
                if parent.level != t.level + 1 || !parent.children.contains(&t.id) {
                    return Err(format!(
                        "theme {} (level {}): parent {p} (level {}) does not list it",
                        t.id, t.level, parent.level
                    ));
                }
            } else if t.level + 1 < self.levels() {
                return Err(format!("theme {} at level {} below the top has no parent", t.id, t.level));
            }
            if t.level > 0 {
                let mut union: Vec<usize> = Vec::new();
                for c in &t.children {
                    let child = self.by_id(*c).ok_or(format!("theme {}: child {c} does not exist", t.id))?;
                    union.extend(&child.members);
                }
                union.sort_unstable();
                if union != t.members {
                    return Err(format!("theme {}: its children's members do not add up to its own", t.id));
                }
            }
        }
        Ok(())
    }

    /// Each unit's theme at `level`, as a position in `level(level)`.
    pub fn assignment_at(&self, level: usize) -> Vec<Option<usize>> {
        let at = self.level(level);
        let mut up: Vec<Option<usize>> = vec![None; self.themes.len()];
        for (leaf, t) in self.themes.iter().enumerate() {
            let mut t = t;
            while t.level < level {
                match t.parent.and_then(|p| self.by_id(p)) {
                    Some(p) => t = p,
                    None => break,
                }
            }
            if t.level == level {
                up[leaf] = at.iter().position(|x| x.id == t.id);
            }
        }
        self.assignment.iter().map(|a| a.and_then(|l| up[l])).collect()
    }
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
    let leaves = describe_level(v, texts, docs, &assignment, members, centroids, 0, 0, opts);
    let mut themes =
        Themes { themes: leaves, broader: Vec::new(), vanished: Vec::new(), outliers, reassigned, assignment };
    build_tree(v, texts, docs, &mut themes, opts);
    themes
}

/// Describes the groups of one level: `assignment` maps each unit to its
/// group (a position in `members`); ids start at `first_id`.
#[allow(clippy::too_many_arguments)]
fn describe_level(
    v: ArrayView2<f32>,
    texts: &[&str],
    docs: &[usize],
    assignment: &[Option<usize>],
    members: Vec<Vec<usize>>,
    centroids: Vec<Vec<f32>>,
    level: usize,
    first_id: usize,
    opts: &Options,
) -> Vec<Theme> {
    let keywords = keywords::class_keywords(texts, assignment, members.len(), &opts.stop_words, opts.keywords);
    members
        .into_iter()
        .zip(keywords)
        .zip(centroids)
        .enumerate()
        .map(|(i, ((members, keywords), c))| {
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
            Theme {
                id: first_id + i,
                members,
                keywords,
                label,
                central,
                documents: counts,
                level,
                parent: None,
                children: Vec::new(),
                centroid: c,
                status: None,
                from: Vec::new(),
            }
        })
        .collect()
}

/// Adds the broader levels above the leaves (`hierarchy`), with parents
/// and children linked by id.
fn build_tree(v: ArrayView2<f32>, texts: &[&str], docs: &[usize], t: &mut Themes, opts: &Options) {
    let centroids: Vec<Vec<f32>> = t.themes.iter().map(|x| x.centroid.clone()).collect();
    let weights: Vec<usize> = t.themes.iter().map(Theme::size).collect();
    // The leaves below each theme of the level just built (level 0: itself).
    let mut below: Vec<Vec<usize>> = (0..t.themes.len()).map(|l| vec![l]).collect();
    let mut below_ids: Vec<usize> = t.themes.iter().map(|x| x.id).collect();
    let mut next_id = t.themes.len();
    for (depth, groups) in hierarchy::levels(&centroids, &weights).into_iter().enumerate() {
        let level = depth + 1;
        let count = groups.iter().max().map_or(0, |m| m + 1);
        // Leaves of each new group, and its children (themes of the level below).
        let mut leaves: Vec<Vec<usize>> = vec![Vec::new(); count];
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (child, under) in below.iter().enumerate() {
            let g = groups[under[0]];
            leaves[g].extend(under);
            children[g].push(child);
        }
        let mut members: Vec<Vec<usize>> = leaves
            .iter()
            .map(|ls| {
                let mut m: Vec<usize> = ls.iter().flat_map(|&l| t.themes[l].members.iter().copied()).collect();
                m.sort_unstable();
                m
            })
            .collect();
        // By size, then first member.
        let mut order: Vec<usize> = (0..count).collect();
        order.sort_by(|&a, &b| {
            members[b].len().cmp(&members[a].len()).then(members[a].first().cmp(&members[b].first()))
        });
        let leaves: Vec<Vec<usize>> = order.iter().map(|&g| std::mem::take(&mut leaves[g])).collect();
        let children: Vec<Vec<usize>> = order.iter().map(|&g| std::mem::take(&mut children[g])).collect();
        members = order.iter().map(|&g| std::mem::take(&mut members[g])).collect();
        let mut group_of_leaf = vec![None; t.themes.len()];
        for (g, ls) in leaves.iter().enumerate() {
            for &l in ls {
                group_of_leaf[l] = Some(g);
            }
        }
        let assignment: Vec<Option<usize>> = t.assignment.iter().map(|a| a.and_then(|l| group_of_leaf[l])).collect();
        let cs: Vec<Vec<f32>> = members.iter().map(|m| centroid(v, m)).collect();
        let mut made = describe_level(v, texts, docs, &assignment, members, cs, level, next_id, opts);
        for (g, theme) in made.iter_mut().enumerate() {
            theme.children = children[g].iter().map(|&c| below_ids[c]).collect();
            for &c in &children[g] {
                let child = below_ids[c];
                if let Some(x) = t.themes.iter_mut().chain(t.broader.iter_mut()).find(|x| x.id == child) {
                    x.parent = Some(theme.id);
                }
            }
        }
        next_id += made.len();
        below_ids = made.iter().map(|x| x.id).collect();
        below = leaves;
        t.broader.extend(made);
    }
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
    fn the_tree_nests_and_every_parent_exists() {
        // Nine directions, 20 units each, with words of their own.
        let data = matrix::clustered_vectors(9 * 20, 24, 9, 0.3, 5);
        let texts: Vec<String> =
            (0..9 * 20).map(|i| format!("topic{} word{} shared words here, item {i}", i % 9, i % 9)).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let docs: Vec<usize> = (0..texts.len()).map(|i| i % 4).collect();
        let t = build(data.view(), &refs, &docs, &Options::default()).unwrap();
        assert!(t.themes.len() > hierarchy::TOP, "{} themes", t.themes.len());
        assert_eq!(t.levels(), 2);
        t.check_tree().unwrap();
        let top = t.level(1);
        assert_eq!(top.len(), hierarchy::level_sizes(t.themes.len())[0]);
        assert_eq!(top.iter().map(|x| x.size()).sum::<usize>(), t.themes.iter().map(Theme::size).sum::<usize>());
        for x in &top {
            assert!(!x.keywords.is_empty() && !x.label.is_empty() && !x.central.is_empty());
            assert_eq!(x.documents.iter().map(|d| d.1).sum::<usize>(), x.size());
        }
        assert!(t.themes.iter().all(|x| x.parent.is_some_and(|p| p >= t.themes.len())));
        // Each unit's top theme is its leaf's parent.
        let up = t.assignment_at(1);
        for (u, a) in t.assignment.iter().enumerate() {
            let want = a.map(|l| t.themes[l].parent.unwrap());
            assert_eq!(up[u].map(|p| top[p].id), want);
        }
        // A broken tree is caught.
        let mut bad = t.clone();
        bad.broader[0].members.pop();
        assert!(bad.check_tree().is_err());
        let mut bad = t.clone();
        bad.themes[0].parent = Some(999);
        assert!(bad.check_tree().is_err());
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
