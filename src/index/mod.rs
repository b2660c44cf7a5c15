//! Neighbours: which vectors are nearest which. Owns the HNSW graph
//! (`hnsw`: built and updated by motif's own insertion, `insert`, then kept
//! and searched as plain arrays),
//! exact search (`exact`: one scan per query, or blocked matrix products
//! for a whole set), and THE k-NN graph of a unit set (`Neighbours`), built
//! once and read by both overlaps and themes.
//!
//! Scores are dot products (cosines of unit vectors); results are ordered
//! by score, higher first, then by row, so they never depend on how ties
//! fell.

pub mod exact;
pub mod hnsw;
mod insert;
pub mod search;

use std::cmp::Ordering;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::Serialize;

use crate::matrix::row;
pub use exact::{exact_search, exact_search_many, knn_graph, KnnGraph};
pub use hnsw::{point_key, AnnError, BuildReport, Graph, Params, Update, REBUILD_DEAD_SHARE};
pub use search::Searcher;

/// One search result: a row and its cosine to the query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    pub id: u32,
    pub score: f32,
}

/// A point during search: smaller is better (distance, then row).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cand {
    pub(crate) dist: f32,
    pub(crate) id: u32,
}

impl PartialEq for Cand {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Cand {}
impl PartialOrd for Cand {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Cand {
    fn cmp(&self, other: &Self) -> Ordering {
        self.dist.total_cmp(&other.dist).then(self.id.cmp(&other.id))
    }
}

pub(crate) fn hits(mut best: Vec<Cand>, k: usize) -> Vec<Hit> {
    best.sort_unstable();
    best.truncate(k);
    best.into_iter().map(|c| Hit { id: c.id, score: 1.0 - c.dist }).collect()
}

/// How the k-NN graph of a unit set is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    /// Exact below `EXACT_MAX_UNITS` units, the HNSW graph above.
    Auto,
    /// Blocked matrix products over all pairs: exact, O(n²).
    Exact,
    /// An HNSW graph built over the units, searched for each of them.
    Hnsw,
}

/// Up to this many units the exact graph is the faster route. From the
/// README's measurements (2 cores, 384 dimensions): the exact graph of 44,840 BBC sentences took
/// 26 s and grows with the square of the count (about 190 s at 100,000);
/// the HNSW route costs a serial build (70 s at 100,000) plus one search
/// per unit, growing about linearly, so the two meet near 50,000.
pub const EXACT_MAX_UNITS: usize = 50_000;

impl Route {
    fn resolve(self, n: usize) -> Route {
        match self {
            Route::Auto if n <= EXACT_MAX_UNITS => Route::Exact,
            Route::Auto => Route::Hnsw,
            other => other,
        }
    }
}

/// The k-NN graph of a unit set: for each member, its k nearest other
/// members, best first. Members are the units an analysis may pair or
/// group (overlaps and themes both leave out units with too few content
/// words), so the graph is built over them alone. Beyond the k stored, a
/// member's list is widened on demand from the same index.
pub struct Neighbours {
    /// Unit ids of the members, ascending; local id i is unit `members[i]`.
    pub members: Vec<usize>,
    /// Over local ids.
    pub knn: KnnGraph,
    /// The members' vectors (local order), for widening.
    vectors: Array2<f32>,
    /// The HNSW graph over them, when that was the route.
    graph: Option<Graph>,
    /// The route taken (never `Auto`).
    pub route: Route,
}

impl Neighbours {
    /// Builds the graph over `members` (ascending unit ids; rows of `vectors`)
    /// with k nearest others each (capped at members - 1).
    pub fn build(
        vectors: ArrayView2<f32>,
        members: Vec<usize>,
        k: usize,
        route: Route,
        progress: &mut dyn FnMut(usize),
    ) -> Neighbours {
        let local = if members.len() == vectors.nrows() {
            vectors.to_owned()
        } else {
            vectors.select(ndarray::Axis(0), &members)
        };
        let n = members.len();
        let k = k.min(n.saturating_sub(1));
        let route = route.resolve(n);
        let (knn, graph) = match route {
            Route::Hnsw => {
                let (graph, _) = Graph::build(local.view(), Params::default(), false, progress);
                let knn = hnsw_knn(&graph, local.view(), k);
                (knn, Some(graph))
            }
            _ => {
                let knn = knn_graph(local.view(), k, 0);
                progress(n);
                (knn, None)
            }
        };
        Neighbours { members, knn, vectors: local, graph, route }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members' vectors, row i for local id i.
    pub fn vectors(&self) -> ArrayView2<'_, f32> {
        self.vectors.view()
    }

    /// The local id of a unit, if it is a member.
    pub fn local(&self, unit: usize) -> Option<usize> {
        self.members.binary_search(&unit).ok()
    }

    /// Up to `k` nearest other members of member `i` (local id), best
    /// first, as (unit id, cosine): the stored list when it is long enough,
    /// else a search of the same index.
    pub fn nearest(&self, i: usize, k: usize) -> Vec<(usize, f32)> {
        let stored = self.knn.k;
        if k <= stored {
            let r = i * stored..i * stored + k;
            return self.knn.neighbors[r.clone()]
                .iter()
                .zip(&self.knn.scores[r])
                .map(|(&j, &s)| (self.members[j as usize], s))
                .collect();
        }
        let me = i as u32;
        let query = row(&self.vectors, i);
        let found = match &self.graph {
            Some(g) => {
                let mut hits = g.search(self.vectors.view(), query, k + 1, k + 1);
                hits.retain(|h| h.id != me);
                hits.truncate(k);
                hits
            }
            None => exact_search(self.vectors.view(), query, k, &|j| j == me),
        };
        found.into_iter().map(|h| (self.members[h.id as usize], h.score)).collect()
    }

    /// The graph cut to its first `k` neighbours per member (k ≤ stored).
    pub fn truncated(&self, k: usize) -> KnnGraph {
        self.knn.truncated(k)
    }
}

/// Each row's k nearest other rows through the HNSW graph; a row whose
/// search comes back short (a sparse corner of the graph) is completed by
/// an exact scan, so every list holds k.
fn hnsw_knn(graph: &Graph, rows: ArrayView2<f32>, k: usize) -> KnnGraph {
    let n = rows.nrows();
    let ef = Params::default().ef_search.max(k + 1);
    let lists: Vec<Vec<Hit>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let me = i as u32;
            let mut hits = graph.search(rows, row(&rows, i), k + 1, ef);
            hits.retain(|h| h.id != me);
            hits.truncate(k);
            if hits.len() < k {
                hits = exact_search(rows, row(&rows, i), k, &|j| j == me);
            }
            hits
        })
        .collect();
    let mut knn = KnnGraph { n, k, neighbors: Vec::with_capacity(n * k), scores: Vec::with_capacity(n * k) };
    for hits in lists {
        knn.neighbors.extend(hits.iter().map(|h| h.id));
        knn.scores.extend(hits.iter().map(|h| h.score));
    }
    knn
}

/// recall@k of approximate results against exact ones: the share of the
/// exact top k that the approximate lists found (the one measure used by
/// tests and benchmarks).
pub fn recall_at_k(exact: &[Vec<Hit>], approx: &[Vec<Hit>], k: usize) -> f64 {
    let found: usize = exact
        .iter()
        .zip(approx)
        .map(|(e, a)| a.iter().take(k).filter(|h| e.iter().take(k).any(|x| x.id == h.id)).count())
        .sum();
    found as f64 / (exact.len() * k).max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::clustered_vectors;

    #[test]
    fn exact_and_hnsw_routes_agree_and_widening_extends_the_lists() {
        let v = clustered_vectors(2000, 32, 20, 0.6, 9);
        let members: Vec<usize> = (0..2000).filter(|i| i % 7 != 3).collect();
        let exact = Neighbours::build(v.view(), members.clone(), 10, Route::Exact, &mut |_| {});
        let hnsw = Neighbours::build(v.view(), members.clone(), 10, Route::Hnsw, &mut |_| {});
        assert_eq!((exact.route, hnsw.route), (Route::Exact, Route::Hnsw));
        let mut found = 0;
        for i in 0..exact.len() {
            let e = exact.nearest(i, 10);
            assert!(e.iter().all(|(u, _)| *u != members[i] && members.contains(u)), "members only, never itself");
            assert!(e.windows(2).all(|w| w[0].1 >= w[1].1));
            let h = hnsw.nearest(i, 10);
            found += h.iter().filter(|x| e.iter().any(|y| y.0 == x.0)).count();
            // Widening past the stored k keeps the stored prefix.
            let wide = exact.nearest(i, 25);
            assert_eq!(wide.len(), 25);
            assert_eq!(&wide[..10].iter().map(|x| x.0).collect::<Vec<_>>(), &e.iter().map(|x| x.0).collect::<Vec<_>>());
        }
        let recall = found as f64 / (exact.len() * 10) as f64;
        assert!(recall >= 0.98, "HNSW k-NN recall {recall}");
    }

    #[test]
    fn a_stored_list_is_a_prefix_of_a_longer_one() {
        let v = clustered_vectors(300, 16, 5, 0.5, 2);
        let all: Vec<usize> = (0..300).collect();
        let long = Neighbours::build(v.view(), all.clone(), 20, Route::Exact, &mut |_| {});
        let short = Neighbours::build(v.view(), all, 8, Route::Exact, &mut |_| {});
        assert_eq!(long.truncated(8), short.knn);
    }

    #[test]
    fn recall_counts_the_exact_top_k_found() {
        let h = |ids: &[u32]| ids.iter().map(|&id| Hit { id, score: 0.0 }).collect::<Vec<_>>();
        assert_eq!(recall_at_k(&[h(&[1, 2])], &[h(&[2, 3])], 2), 0.5);
        assert_eq!(recall_at_k(&[], &[], 10), 0.0);
    }
}
