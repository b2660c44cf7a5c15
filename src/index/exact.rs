//! Exact neighbours: a scan of every row for one query, and the exact
//! k-NN graph of a whole set by blocked matrix products.
//!
//! The k-NN graph runs one GEMM (the `gemm` crate's) per tile of rows × columns,
//! keeping each row's top k by cosine, ties to the lower row. Tiles run on
//! all cores; each row's result depends only on the data, never on which
//! thread computed it, and the top k of a row is a prefix of its top k + j.

use std::collections::BinaryHeap;

use ndarray::{s, ArrayView2};

use super::{hits, Cand, Hit};
use crate::matrix::{dot, row};

/// The k rows most similar to `query`, by scanning all of them. Rows for
/// which `skip` is true are left out.
pub fn exact_search(rows: ArrayView2<f32>, query: &[f32], k: usize, skip: &dyn Fn(u32) -> bool) -> Vec<Hit> {
    if k == 0 {
        return Vec::new();
    }
    // A max-heap of the k best so far: its top is the worst of them.
    let mut best: BinaryHeap<Cand> = BinaryHeap::with_capacity(k + 1);
    for i in 0..rows.nrows() {
        let id = i as u32;
        if skip(id) {
            continue;
        }
        let c = Cand { dist: 1.0 - dot(query, row(&rows, i)), id };
        if best.len() < k {
            best.push(c);
        } else if c < *best.peek().expect("k > 0") {
            best.pop();
            best.push(c);
        }
    }
    hits(best.into_vec(), k)
}

/// Each point's k nearest other points by dot product (cosine for unit
/// vectors), best first: `neighbors[i * k + j]` with `scores` alike.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnGraph {
    pub n: usize,
    pub k: usize,
    pub neighbors: Vec<u32>,
    pub scores: Vec<f32>,
}

const ROW_BLOCK: usize = 256;
const COL_BLOCK: usize = 4096;

fn thread_count(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    }
}

/// Exact k-NN graph by blocked matrix products. `k` is capped at n - 1.
pub fn knn_graph(v: ArrayView2<f32>, k: usize, threads: usize) -> KnnGraph {
    let n = v.nrows();
    let k = k.min(n.saturating_sub(1));
    let (neighbors, scores) = top_k_by_tiles(v, v, k, threads, &|q, c| q == c as usize);
    KnnGraph { n, k, neighbors, scores }
}

/// The k best rows of `rows` for each row of `queries`, by blocked matrix
/// products on all cores: the same hits, in the same order, as
/// `exact_search` one query at a time, at the speed of a GEMM. `skip(q, id)`
/// leaves row `id` out of query `q`'s results (its own passage, its
/// document). A query gets fewer than k hits only when fewer rows are left.
pub fn exact_search_many(
    rows: ArrayView2<f32>,
    queries: ArrayView2<f32>,
    k: usize,
    skip: &(dyn Fn(usize, u32) -> bool + Sync),
) -> Vec<Vec<Hit>> {
    let k = k.min(rows.nrows());
    let (neighbors, scores) = top_k_by_tiles(queries, rows, k, 0, skip);
    (0..queries.nrows())
        .map(|q| {
            let r = q * k..(q + 1) * k;
            neighbors[r.clone()]
                .iter()
                .zip(&scores[r])
                .take_while(|(_, s)| s.is_finite())
                .map(|(&id, &score)| Hit { id, score })
                .collect()
        })
        .collect()
}

/// For each row of `queries`, the k rows of `base` with the highest dot
/// product (row-major k per query; a slot never filled keeps score −∞).
/// Query blocks run on `threads` workers (0: all cores), each multiplying
/// its block by tiles of `base`. Columns are scanned in increasing order,
/// so a tie never displaces a lower row: results depend on the data only.
fn top_k_by_tiles(
    queries: ArrayView2<f32>,
    base: ArrayView2<f32>,
    k: usize,
    threads: usize,
    skip: &(dyn Fn(usize, u32) -> bool + Sync),
) -> (Vec<u32>, Vec<f32>) {
    let n = queries.nrows();
    let mut neighbors = vec![0u32; n * k];
    let mut scores = vec![f32::NEG_INFINITY; n * k];
    if k == 0 || n == 0 {
        return (neighbors, scores);
    }
    let blocks: Vec<(&mut [u32], &mut [f32])> =
        neighbors.chunks_mut(ROW_BLOCK * k).zip(scores.chunks_mut(ROW_BLOCK * k)).collect();
    let queue = std::sync::Mutex::new(blocks.into_iter().enumerate());
    let workers = thread_count(threads).min(n.div_ceil(ROW_BLOCK)).max(1);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let mut tile = vec![0f32; ROW_BLOCK * COL_BLOCK];
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some((b, (nb, sc))) = next else { break };
                    top_k_block(queries, base, k, b * ROW_BLOCK, nb, sc, &mut tile, skip);
                }
            });
        }
    });
    (neighbors, scores)
}

/// `tile = a · bᵀ` (rows of `a` by rows of `b`, row-major), through the
/// `gemm` crate on one thread (the callers run one tile per core): the
/// GEMM the BERT backend uses, with its run-time choice of AVX-512, AVX2
/// or plain kernels.
fn scores_tile(a: ArrayView2<f32>, b: ArrayView2<f32>, tile: &mut [f32]) {
    let (rows, dim) = a.dim();
    let cols = b.nrows();
    assert!(a.is_standard_layout() && b.is_standard_layout() && b.ncols() == dim && tile.len() == rows * cols);
    // SAFETY: `tile` holds rows × cols, row-major (column stride 1, row
    // stride cols); `a` is rows × dim row-major; bᵀ is read from `b`
    // (cols × dim, row-major) with row stride 1 and column stride dim.
    // All three were checked above, so every access is in bounds.
    unsafe {
        gemm::gemm(
            rows,
            cols,
            dim,
            tile.as_mut_ptr(),
            1,
            cols as isize,
            false,
            a.as_ptr(),
            1,
            dim as isize,
            b.as_ptr(),
            dim as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn top_k_block(
    queries: ArrayView2<f32>,
    base: ArrayView2<f32>,
    k: usize,
    q0: usize,
    nb: &mut [u32],
    sc: &mut [f32],
    tile: &mut [f32],
    skip: &(dyn Fn(usize, u32) -> bool + Sync),
) {
    let n = base.nrows();
    let rows = nb.len() / k;
    let a = queries.slice(s![q0..q0 + rows, ..]);
    let mut c0 = 0;
    while c0 < n {
        let cols = COL_BLOCK.min(n - c0);
        let b = base.slice(s![c0..c0 + cols, ..]);
        scores_tile(a, b, &mut tile[..rows * cols]);
        for r in 0..rows {
            let q = q0 + r;
            let (top_n, top_s) = (&mut nb[r * k..(r + 1) * k], &mut sc[r * k..(r + 1) * k]);
            let line = &tile[r * cols..(r + 1) * cols];
            for (j, &s) in line.iter().enumerate() {
                // The skip test runs only for a score that would enter the
                // top k, so it costs nothing on the common path.
                let id = (c0 + j) as u32;
                if s > top_s[k - 1] && !skip(q, id) {
                    let mut p = k - 1;
                    while p > 0 && top_s[p - 1] < s {
                        top_s[p] = top_s[p - 1];
                        top_n[p] = top_n[p - 1];
                        p -= 1;
                    }
                    top_s[p] = s;
                    top_n[p] = id;
                }
            }
        }
        c0 += cols;
    }
}

impl KnnGraph {
    /// The same graph with each list cut to its first `k` (at most the stored k).
    pub fn truncated(&self, k: usize) -> KnnGraph {
        let k = k.min(self.k);
        let mut out = KnnGraph {
            n: self.n,
            k,
            neighbors: Vec::with_capacity(self.n * k),
            scores: Vec::with_capacity(self.n * k),
        };
        for i in 0..self.n {
            out.neighbors.extend_from_slice(&self.neighbors[i * self.k..i * self.k + k]);
            out.scores.extend_from_slice(&self.scores[i * self.k..i * self.k + k]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::clustered_vectors;

    /// Same ids in the same order; where a GEMM's rounding differs from
    /// the scan's, only between scores equal to 1e-5.
    fn same_hits(a: &[Hit], b: &[Hit]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x.score - y.score).abs() < 1e-5 && (x.id == y.id || (x.score - y.score).abs() < 1e-6))
    }

    #[test]
    fn batched_search_gives_the_scans_hits_with_skips() {
        // More rows than a column tile and more queries than a row block,
        // so tiles meet at both edges.
        let base = clustered_vectors(COL_BLOCK + 777, 24, 40, 0.7, 5);
        let queries = clustered_vectors(ROW_BLOCK + 45, 24, 40, 0.7, 6);
        // Leave out every row whose id shares query's residue mod 5.
        let skip = |q: usize, id: u32| id as usize % 5 == q % 5;
        let many = exact_search_many(base.view(), queries.view(), 10, &skip);
        assert_eq!(many.len(), queries.nrows());
        for (q, hits) in many.iter().enumerate() {
            let one = exact_search(base.view(), row(&queries, q), 10, &|id| skip(q, id));
            assert!(same_hits(hits, &one), "query {q}: {hits:?} vs {one:?}");
            assert!(hits.iter().all(|h| !skip(q, h.id)));
        }
    }

    #[test]
    fn batched_search_returns_what_is_left_when_k_exceeds_it() {
        let base = clustered_vectors(6, 8, 2, 0.5, 1);
        let many = exact_search_many(base.view(), base.view(), 10, &|q, id| q == id as usize);
        assert!(many.iter().all(|h| h.len() == 5), "six rows, each query skipping itself");
        assert!(exact_search_many(base.view(), base.slice(s![..0, ..]), 3, &|_, _| false).is_empty());
    }

    #[test]
    fn the_knn_graph_is_the_batched_search_of_every_row_against_the_rest() {
        let v = clustered_vectors(900, 16, 9, 0.6, 3);
        let g = knn_graph(v.view(), 7, 2);
        let many = exact_search_many(v.view(), v.view(), 7, &|q, id| q == id as usize);
        for (i, hits) in many.iter().enumerate() {
            assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), g.neighbors[i * 7..(i + 1) * 7]);
        }
    }
}
