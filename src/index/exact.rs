//! Exact neighbours: a scan of every row for one query, and the exact
//! k-NN graph of a whole set by blocked matrix products.
//!
//! The k-NN graph runs one GEMM (ndarray's) per tile of rows × columns,
//! keeping each row's top k by cosine, ties to the lower row. Tiles run on
//! all cores; each row's result depends only on the data, never on which
//! thread computed it, and the top k of a row is a prefix of its top k + j.

use std::collections::BinaryHeap;

use ndarray::{linalg::general_mat_mul, s, ArrayView2, ArrayViewMut2};

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
    let mut neighbors = vec![0u32; n * k];
    let mut scores = vec![f32::NEG_INFINITY; n * k];
    if k == 0 {
        return KnnGraph { n, k, neighbors, scores };
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
                    knn_block(v, k, b * ROW_BLOCK, nb, sc, &mut tile);
                }
            });
        }
    });
    KnnGraph { n, k, neighbors, scores }
}

fn knn_block(v: ArrayView2<f32>, k: usize, r0: usize, nb: &mut [u32], sc: &mut [f32], tile: &mut [f32]) {
    let n = v.nrows();
    let rows = nb.len() / k;
    let a = v.slice(s![r0..r0 + rows, ..]);
    let mut c0 = 0;
    while c0 < n {
        let cols = COL_BLOCK.min(n - c0);
        let b = v.slice(s![c0..c0 + cols, ..]);
        let mut c = ArrayViewMut2::from_shape((rows, cols), &mut tile[..rows * cols]).expect("tile shape");
        general_mat_mul(1.0, &a, &b.t(), 0.0, &mut c);
        for r in 0..rows {
            let i = r0 + r;
            let (top_n, top_s) = (&mut nb[r * k..(r + 1) * k], &mut sc[r * k..(r + 1) * k]);
            let line = &tile[r * cols..(r + 1) * cols];
            for (j, &s) in line.iter().enumerate() {
                // Columns come in increasing order, so a tie never displaces
                // an earlier (lower) row: the order is fixed by the data.
                if s > top_s[k - 1] && c0 + j != i {
                    let mut p = k - 1;
                    while p > 0 && top_s[p - 1] < s {
                        top_s[p] = top_s[p - 1];
                        top_n[p] = top_n[p - 1];
                        p -= 1;
                    }
                    top_s[p] = s;
                    top_n[p] = (c0 + j) as u32;
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
