//! Searching stored vectors for a query: the HNSW graph when there is one,
//! exact search otherwise, leaving out rows the caller names (the query's
//! own passage, or its whole document).

use ndarray::ArrayView2;

use rayon::prelude::*;

use super::{exact_search, exact_search_many, Graph, Hit};

/// Stored vectors and the means to search them.
pub struct Searcher<'a> {
    vectors: ArrayView2<'a, f32>,
    graph: Option<Graph>,
    ef: usize,
}

impl<'a> Searcher<'a> {
    /// Searches by scanning every row.
    pub fn exact(vectors: ArrayView2<'a, f32>) -> Self {
        Searcher { vectors, graph: None, ef: 0 }
    }

    /// Searches through `graph` (built over `vectors`) with beam width `ef`.
    pub fn with_graph(vectors: ArrayView2<'a, f32>, graph: Graph, ef: usize) -> Self {
        Searcher { vectors, graph: Some(graph), ef: ef.max(1) }
    }

    pub fn vectors(&self) -> ArrayView2<'a, f32> {
        self.vectors
    }

    /// The k best rows for `query`, leaving out rows for which `skip` is
    /// true; `skipped` bounds how many rows `skip` can reject, so the graph
    /// search asks for enough to still return k.
    pub fn search(&self, query: &[f32], k: usize, skip: &dyn Fn(u32) -> bool, skipped: usize) -> Vec<Hit> {
        match &self.graph {
            None => exact_search(self.vectors, query, k, skip),
            Some(g) => {
                let want = k + skipped;
                let mut hits = g.search(self.vectors, query, want, self.ef.max(want));
                hits.retain(|h| !skip(h.id));
                hits.truncate(k);
                hits
            }
        }
    }

    /// `search` for each row of `queries` (`skip(q, id)` per query): one
    /// batched matrix product when exact, parallel graph searches otherwise.
    pub fn search_many(
        &self,
        queries: ArrayView2<f32>,
        k: usize,
        skip: &(dyn Fn(usize, u32) -> bool + Sync),
        skipped: usize,
    ) -> Vec<Vec<Hit>> {
        match &self.graph {
            None => exact_search_many(self.vectors, queries, k, skip),
            Some(_) => (0..queries.nrows())
                .into_par_iter()
                .map(|q| self.search(crate::matrix::row(&queries, q), k, &|id| skip(q, id), skipped))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Params;
    use crate::matrix::{clustered_vectors, row};

    #[test]
    fn skipped_rows_never_come_back_and_k_is_still_met() {
        let v = clustered_vectors(800, 16, 8, 0.5, 4);
        let (graph, _) = Graph::build(v.view(), Params::default(), false, &mut |_| {});
        let fast = Searcher::with_graph(v.view(), graph, 64);
        let exact = Searcher::exact(v.view());
        // Leave out the query's whole "document": every 8th row from 0.
        let skip = |id: u32| id.is_multiple_of(8);
        let skipped = 100;
        for q in [0usize, 8, 400] {
            for s in [&fast, &exact] {
                let hits = s.search(row(&v, q), 10, &skip, skipped);
                assert_eq!(hits.len(), 10);
                assert!(hits.iter().all(|h| !skip(h.id)));
            }
            let a: Vec<u32> = fast.search(row(&v, q), 10, &skip, skipped).iter().map(|h| h.id).collect();
            let e: Vec<u32> = exact.search(row(&v, q), 10, &skip, skipped).iter().map(|h| h.id).collect();
            let shared = a.iter().filter(|x| e.contains(x)).count();
            assert!(shared >= 9, "graph {a:?} vs exact {e:?}");
        }
    }
}
