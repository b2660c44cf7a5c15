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
/// README's measurements (2 cores, 384 dimensions): the exact graph of
/// 44,840 BBC sentences took 26 s and grows with the square of the count
/// (about 190 s at 100,000); the HNSW route costs a serial build (about
/// 60 s at 100,000; none for passages whose index has a saved graph, see
/// `Neighbours::build_over_index`) plus one search per unit, growing about
/// linearly, so the two meet near 50,000.
pub const EXACT_MAX_UNITS: usize = 50_000;

impl Route {
    /// The route taken for `n` units (never `Auto`).
    pub fn resolve(self, n: usize) -> Route {
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
        let local = member_rows(vectors, &members);
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

    /// `build` on the HNSW route, over the rows of an index whose saved
    /// graph is `index` (built over these same rows): the members' graph
    /// is that graph with every other row made a tombstone (searched
    /// through, never returned), so no second graph is built over the same
    /// vectors and the result depends only on the index. Builds a graph of
    /// its own when the index's does not fit (other rows, or non-members
    /// past the share of tombstones a graph keeps).
    pub fn build_over_index(
        vectors: ArrayView2<f32>,
        members: Vec<usize>,
        k: usize,
        index: &Graph,
        progress: &mut dyn FnMut(usize),
    ) -> Neighbours {
        if index.len() != vectors.nrows() {
            return Neighbours::build(vectors, members, k, Route::Hnsw, progress);
        }
        let local = member_rows(vectors, &members);
        let keys: Vec<u64> = members.iter().map(|&m| index.keys()[m]).collect();
        let params = Params { m: index.m, ef_construction: index.ef_construction, ..Params::default() };
        let graph = match index.update(Some(vectors), local.view(), &keys, params, false, &mut |_| {}) {
            Update::Updated(g, _) => *g,
            Update::Rebuild(_) => return Neighbours::build(vectors, members, k, Route::Hnsw, progress),
        };
        let n = members.len();
        let k = k.min(n.saturating_sub(1));
        let knn = hnsw_knn(&graph, local.view(), k);
        progress(n);
        Neighbours { members, knn, vectors: local, graph: Some(graph), route: Route::Hnsw }
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

    /// The local id of the member most similar to `query` (a vector not in
    /// the graph), through the HNSW graph when that was the route; `None`
    /// on the exact route, where a caller batches the scan itself.
    pub fn nearest_member(&self, query: &[f32]) -> Option<usize> {
        let g = self.graph.as_ref()?;
        let ef = Params::default().ef_search;
        let best = g.search(self.vectors.view(), query, 1, ef).into_iter().next();
        Some(best.map_or(0, |h| h.id as usize))
    }

    /// The graph cut to its first `k` neighbours per member (k ≤ stored).
    pub fn truncated(&self, k: usize) -> KnnGraph {
        self.knn.truncated(k)
    }
}

/// The rows of `vectors` for `members` (ascending), in that order.
fn member_rows(vectors: ArrayView2<f32>, members: &[usize]) -> Array2<f32> {
    if members.len() == vectors.nrows() {
        vectors.to_owned()
    } else {
        vectors.select(ndarray::Axis(0), members)
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

/// Scores closer than this count as equal in `recall_at_k` (the float
/// error of two ways to compute one cosine).
const RECALL_TIE: f32 = 1e-5;

/// recall@k of approximate results against exact ones: the share of the
/// exact top k that the approximate lists found (the one measure used by
/// tests and benchmarks). As in ann-benchmarks, a hit scoring as high as
/// the exact k-th (within `RECALL_TIE`) counts, whatever its id: among
/// equal vectors (a heading repeated in many documents) any is a right
/// answer, and which one exact search lists is only its tie order.
pub fn recall_at_k(exact: &[Vec<Hit>], approx: &[Vec<Hit>], k: usize) -> f64 {
    let found: usize = exact
        .iter()
        .zip(approx)
        .map(|(e, a)| {
            let top = &e[..k.min(e.len())];
            let Some(kth) = top.last() else { return 0 };
            a.iter().take(k).filter(|h| h.score >= kth.score - RECALL_TIE || top.iter().any(|x| x.id == h.id)).count()
        })
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
    fn the_index_graph_serves_the_members_without_a_second_build() {
        let v = clustered_vectors(2000, 32, 20, 0.6, 4);
        let (index, _) = Graph::build(v.view(), Params::default(), false, &mut |_| {});
        let members: Vec<usize> = (0..2000).filter(|i| i % 9 != 4).collect();
        let exact = Neighbours::build(v.view(), members.clone(), 10, Route::Exact, &mut |_| {});
        let over = Neighbours::build_over_index(v.view(), members.clone(), 10, &index, &mut |_| {});
        assert_eq!(over.route, Route::Hnsw);
        assert_eq!(
            over.graph.as_ref().map(Graph::tombstones),
            Some(2000 - members.len()),
            "non-members are tombstones"
        );
        let mut found = 0;
        for i in 0..exact.len() {
            let o = over.nearest(i, 10);
            assert_eq!(o.len(), 10);
            assert!(o.iter().all(|(u, _)| *u != members[i] && members.binary_search(u).is_ok()), "members only");
            let e = exact.nearest(i, 10);
            found += o.iter().filter(|x| e.iter().any(|y| y.0 == x.0)).count();
            // Widening searches the same graph and keeps to members.
            let wide = over.nearest(i, 30);
            assert!(wide.iter().all(|(u, _)| *u != members[i] && members.binary_search(u).is_ok()));
        }
        let recall = found as f64 / (exact.len() * 10) as f64;
        assert!(recall >= 0.98, "k-NN recall through the index graph {recall}");
        // The same index, the same lists.
        let again = Neighbours::build_over_index(v.view(), members.clone(), 10, &index, &mut |_| {});
        assert_eq!(again.knn, over.knn);
        // A graph over other rows is not used: the members get their own.
        let (other, _) = Graph::build(v.slice(ndarray::s![..1000, ..]), Params::default(), false, &mut |_| {});
        let own = Neighbours::build_over_index(v.view(), members.clone(), 10, &other, &mut |_| {});
        assert_eq!(own.graph.as_ref().map(Graph::tombstones), Some(0));
        // Too few members for the graph's tombstone share: their own too.
        let few: Vec<usize> = (0..2000).step_by(3).collect();
        let own = Neighbours::build_over_index(v.view(), few.clone(), 10, &index, &mut |_| {});
        assert_eq!((own.graph.as_ref().map(Graph::tombstones), own.len()), (Some(0), few.len()));
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
        let h = |hits: &[(u32, f32)]| hits.iter().map(|&(id, score)| Hit { id, score }).collect::<Vec<_>>();
        assert_eq!(recall_at_k(&[h(&[(1, 0.9), (2, 0.8)])], &[h(&[(2, 0.8), (3, 0.7)])], 2), 0.5);
        assert_eq!(recall_at_k(&[], &[], 10), 0.0);
        // A hit tied with the exact k-th is as right as the one listed.
        assert_eq!(recall_at_k(&[h(&[(1, 0.9), (2, 0.8)])], &[h(&[(1, 0.9), (5, 0.8)])], 2), 1.0);
        // Only the first k of the approximate list count.
        assert_eq!(recall_at_k(&[h(&[(1, 0.9), (2, 0.8)])], &[h(&[(3, 0.1), (4, 0.0), (1, 0.9)])], 2), 0.0);
    }
}
