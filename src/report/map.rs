//! The report's map: where each unit lies on the page, so that units close
//! in meaning lie close together and the themes show as separate islands.
//!
//! `layout` is a UMAP-style layout (McInnes, Healy and Melville 2018) of the
//! analysis's one k-NN graph (`index::Neighbours`): the graph cut to
//! `NEIGHBOURS` neighbours, weighted as UMAP's fuzzy simplicial set
//! (`themes::cluster::fuzzy_graph`, the weights clustering reads), laid out
//! by stochastic gradient descent with negative sampling from the PCA
//! positions, for a number of epochs that falls with the graph's size
//! (`epochs`). Sequential, so the same vectors, graph and seed give the same
//! map on every machine. Units outside the graph (too few content words)
//! are placed next to their most similar member (by cosine, an exact scan).
//!
//! `project_2d` is the PCA projection that initialises the layout and is
//! the whole map when there is no graph to lay out: the units projected
//! onto their first two principal components, computed in f64 with ndarray
//! (one GEMM for the covariance, then power iteration on it),
//! deterministically: fixed start vectors and a fixed number of steps.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::index::{Neighbours, Route};
use crate::matrix::row;
use crate::themes::cluster::{fuzzy_graph, SplitMix};

/// Rows converted to f64 at a time: bounds the f64 copy of the vectors.
const BLOCK: usize = 4096;

/// Power iteration steps per component.
const STEPS: usize = 100;

/// The seed the report's map is laid out with.
pub const SEED: u64 = 42;

/// Neighbours per member the layout reads from the k-NN graph (UMAP's default).
pub const NEIGHBOURS: usize = 15;

/// Negative samples per positive one (UMAP's default).
const NEGATIVE: usize = 5;

/// UMAP's low-dimensional similarity 1 / (1 + a d^(2b)), fitted as
/// umap-learn's `find_ab_params` does to min_dist 0.1, spread 1.0 (the
/// curve that is 1 up to 0.1 and exp(-(d - 0.1)) beyond); the fit is
/// checked in the tests.
const A: f32 = 1.576_943_5;
const B: f32 = 0.895_060_9;

/// The PCA start is scaled to [-INIT, INIT] on each axis, as UMAP scales its start.
const INIT: f32 = 10.0;

/// Largest step along an axis in one update (UMAP's clip).
const CLIP: f32 = 4.0;

/// Query rows per block of the scan that places the units outside the graph.
const QUERY_BLOCK: usize = 256;

/// Epochs of the layout of `n` points: 200 up to 10,000 points, then
/// falling with √n (about 90 at 50,000, 63 at 100,000), never below 50,
/// so the time grows slower than n.
pub fn epochs(n: usize) -> usize {
    if n <= 10_000 {
        200
    } else {
        ((200.0 * (10_000.0 / n as f64).sqrt()) as usize).max(50)
    }
}

/// The map of every unit (rows of `vectors`), each coordinate scaled into
/// [-1, 1]: the members of `graph` (a k-NN graph over some of these rows,
/// its local ids `graph.members`) laid out as the module doc says, the
/// others next to their most similar member. Where the graph cannot be laid
/// out (fewer than three members, no neighbours) it is `project_2d`.
pub fn layout(vectors: ArrayView2<f32>, graph: &Neighbours, seed: u64) -> Vec<(f32, f32)> {
    let n = vectors.nrows();
    let m = graph.len();
    if m < 3 || graph.knn.k == 0 || graph.members.last().is_some_and(|&u| u >= n) {
        return project_2d(vectors);
    }
    let mut rng = SplitMix::new(seed);
    let mut pos: Vec<[f32; 2]> = project_2d(graph.vectors())
        .into_iter()
        .map(|(x, y)| [x * INIT + 1e-4 * uniform(&mut rng), y * INIT + 1e-4 * uniform(&mut rng)])
        .collect();
    let epochs = epochs(m);
    let edges = edges(graph, epochs);
    optimise(&mut pos, &edges, epochs, &mut rng);
    if pos.iter().any(|p| !(p[0].is_finite() && p[1].is_finite())) {
        return project_2d(vectors);
    }
    let mut out = vec![[0f32; 2]; n];
    for (l, &u) in graph.members.iter().enumerate() {
        out[u] = pos[l];
    }
    let others: Vec<usize> = (0..n).filter(|&u| graph.local(u).is_none()).collect();
    // Through the graph's own index where it has one (large corpora: a scan
    // of every member for each other unit would cost their product).
    let nearest: Vec<usize> = if graph.route == Route::Hnsw {
        others.par_iter().map(|&u| graph.nearest_member(row(&vectors, u)).unwrap_or(0)).collect()
    } else {
        nearest_members(vectors, &others, graph.vectors())
    };
    for (&u, &l) in others.iter().zip(&nearest) {
        // A little apart from the member, so both can be seen and pointed at.
        out[u] = [pos[l][0] + 0.1 * uniform(&mut rng), pos[l][1] + 0.1 * uniform(&mut rng)];
    }
    let xs = fitted(out.iter().map(|p| p[0]).collect());
    let ys = fitted(out.iter().map(|p| p[1]).collect());
    xs.into_iter().zip(ys).collect()
}

/// Uniform in [-1, 1).
fn uniform(rng: &mut SplitMix) -> f32 {
    (rng.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

/// One directed edge of the layout: (head, tail, epochs between its samples).
type Edge = (u32, u32, f32);

/// The fuzzy graph's edges, both directions, each sampled in proportion to
/// its weight: the heaviest every epoch, one of weight w every
/// max/w epochs; those too light to be sampled once are dropped (as UMAP).
fn edges(graph: &Neighbours, epochs: usize) -> Vec<Edge> {
    let fuzzy = fuzzy_graph(&graph.truncated(graph.knn.k.min(NEIGHBOURS)));
    let mut all: Vec<(u32, u32, f64)> = Vec::new();
    for i in 0..fuzzy.len() {
        all.extend(fuzzy.edges(i).filter(|&(j, _)| j != i).map(|(j, w)| (i as u32, j as u32, w)));
    }
    let max = all.iter().fold(0f64, |m, e| m.max(e.2));
    all.into_iter()
        .filter(|e| e.2 > 0.0 && e.2 >= max / epochs as f64)
        .map(|(i, j, w)| (i, j, (max / w) as f32))
        .collect()
}

/// UMAP's optimisation: each epoch, every edge due is pulled together and
/// its head pushed away from `NEGATIVE` random points per sample, with a
/// learning rate falling linearly from 1 to 0.
fn optimise(pos: &mut [[f32; 2]], edges: &[Edge], epochs: usize, rng: &mut SplitMix) {
    let n = pos.len();
    let mut next: Vec<f32> = edges.iter().map(|e| e.2).collect();
    let per_negative: Vec<f32> = edges.iter().map(|e| e.2 / NEGATIVE as f32).collect();
    let mut next_negative = per_negative.clone();
    for epoch in 0..epochs {
        let alpha = 1.0 - epoch as f32 / epochs as f32;
        let now = (epoch + 1) as f32;
        for (e, &(i, j, every)) in edges.iter().enumerate() {
            if next[e] > now {
                continue;
            }
            next[e] += every;
            let (i, j) = (i as usize, j as usize);
            let (d, d2) = offset(pos[i], pos[j]);
            if d2 > 0.0 {
                let pow = pow_b(d2);
                let coeff = -2.0 * A * B * pow / d2 / (A * pow + 1.0);
                for (c, dc) in d.iter().enumerate() {
                    let g = (coeff * dc).clamp(-CLIP, CLIP) * alpha;
                    pos[i][c] += g;
                    pos[j][c] -= g;
                }
            }
            let negatives = ((now - next_negative[e]) / per_negative[e]).max(0.0) as usize;
            next_negative[e] += negatives as f32 * per_negative[e];
            // The pushes are taken from the same position and added
            // together: independent, so they overlap in the processor
            // (one after another they would wait on each other).
            let here = pos[i];
            let mut push = [0f32; 2];
            for _ in 0..negatives {
                // Uniform below n by a multiply, not a 64-bit division.
                let k = ((rng.next_u64() as u128 * n as u128) >> 64) as usize;
                if k == i {
                    continue;
                }
                let (d, d2) = offset(here, pos[k]);
                if d2 > 0.0 {
                    let coeff = 2.0 * B / ((0.001 + d2) * (A * pow_b(d2) + 1.0));
                    push[0] += (coeff * d[0]).clamp(-CLIP, CLIP);
                    push[1] += (coeff * d[1]).clamp(-CLIP, CLIP);
                }
            }
            pos[i][0] += push[0] * alpha;
            pos[i][1] += push[1] * alpha;
        }
    }
}

/// x^B for x > 0 to about 2e-5 relative, as 2^(B log2 x) with short
/// series: the optimisation's one transcendental, six times per sample,
/// several times faster than `powf` (plain arithmetic: the same result on
/// every machine that has IEEE f32).
fn pow_b(x: f32) -> f32 {
    if x.is_nan() || x < 1e-30 {
        return 0.0;
    }
    let bits = x.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127;
    // x = m 2^e with m in [1, 2); ln m = 2 atanh(t), t = (m - 1) / (m + 1) < 1/3.
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let ln_m = 2.0 * t * (1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 / 9.0))));
    let y = B * (e as f32 + ln_m * std::f32::consts::LOG2_E);
    // 2^y = 2^i e^(f ln 2), f in [0, 1).
    let i = y.floor();
    let z = (y - i) * std::f32::consts::LN_2;
    let exp_z = 1.0 + z * (1.0 + z * (0.5 + z * (1.0 / 6.0 + z * (1.0 / 24.0 + z * (1.0 / 120.0 + z / 720.0)))));
    let i = (i as i32).clamp(-126, 127);
    exp_z * f32::from_bits(((i + 127) as u32) << 23)
}

/// a - b and its squared length.
fn offset(a: [f32; 2], b: [f32; 2]) -> ([f32; 2], f32) {
    let d = [a[0] - b[0], a[1] - b[1]];
    (d, d[0] * d[0] + d[1] * d[1])
}

/// For each of `queries` (rows of `vectors`), the row of `members` with the
/// largest dot product (the first of equals), by blocks of matrix products.
fn nearest_members(vectors: ArrayView2<f32>, queries: &[usize], members: ArrayView2<f32>) -> Vec<usize> {
    queries
        .par_chunks(QUERY_BLOCK)
        .flat_map_iter(|block| {
            let q = vectors.select(Axis(0), block);
            let sims = q.dot(&members.t());
            sims.rows()
                .into_iter()
                .map(|r| {
                    r.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (j, &s)| if s > b.1 { (j, s) } else { b }).0
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Shifted and scaled so that the lowest value is -1 and the highest 1
/// (all 0 when they are equal), except that the lowest and highest 0.2 %
/// do not count: a far island of a few units would squeeze the rest into
/// a corner, so those sit on the frame's edge instead.
fn fitted(vals: Vec<f32>) -> Vec<f32> {
    let mut sorted: Vec<f32> = vals.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return vec![0.0; vals.len()];
    }
    sorted.sort_unstable_by(f32::total_cmp);
    let cut = sorted.len() / 500;
    let (lo, hi) = (sorted[cut], sorted[sorted.len() - 1 - cut]);
    let (mid, half) = ((lo + hi) / 2.0, (hi - lo) / 2.0);
    if half.is_nan() || half <= 1e-12 {
        return vec![0.0; vals.len()];
    }
    vals.into_iter().map(|v| ((v - mid) / half).clamp(-1.0, 1.0)).collect()
}

/// Projects unit vectors (one row per unit) onto their first two principal
/// components, by power iteration on the covariance (deterministic: fixed
/// start vectors). Each coordinate is scaled into [-1, 1]. A component's
/// sign is the one power iteration reaches from its start vector. Where the
/// units vary in fewer than two directions (all on a line, or all equal),
/// the missing coordinates are 0.
pub fn project_2d(vectors: ArrayView2<f32>) -> Vec<(f32, f32)> {
    let (n, dim) = vectors.dim();
    if n == 0 {
        return Vec::new();
    }
    let mut mean = Array1::<f64>::zeros(dim);
    for row in vectors.rows() {
        mean.zip_mut_with(&row, |m, x| *m += f64::from(*x) / n as f64);
    }
    let centred = |block: ArrayView2<f32>| block.mapv(f64::from) - &mean;
    // Cov = XᵀX of the centred rows (unnormalised: only directions matter), a block of rows at a time.
    let mut cov = Array2::<f64>::zeros((dim, dim));
    for block in vectors.axis_chunks_iter(Axis(0), BLOCK) {
        let x = centred(block);
        general_mat_mul(1.0, &x.t(), &x, 1.0, &mut cov);
    }
    // Below this share of the total variance a direction is rounding noise: the component is taken as zero.
    let floor = 1e-10 * cov.diag().sum();
    let mut components: Vec<Array1<f64>> = Vec::with_capacity(2);
    for c in 0..2 {
        let start: Array1<f64> = (0..dim).map(|i| ((i * 7 + c * 13) % 11) as f64 - 5.0).collect();
        let mut u = &start / start.dot(&start).sqrt().max(f64::MIN_POSITIVE);
        for _ in 0..STEPS {
            let mut next = cov.dot(&u);
            for prev in &components {
                let d = next.dot(prev);
                next.scaled_add(-d, prev);
            }
            // |Cov u| for a unit u: the variance along u, once converged.
            let norm = next.dot(&next).sqrt();
            if norm <= floor {
                u.fill(0.0);
                break;
            }
            u = next / norm;
        }
        components.push(u);
    }
    let (mut xs, mut ys) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for block in vectors.axis_chunks_iter(Axis(0), BLOCK) {
        let x = centred(block);
        xs.extend(x.dot(&components[0]));
        ys.extend(x.dot(&components[1]));
    }
    scaled(xs).into_iter().zip(scaled(ys)).collect()
}

/// Divides by the largest magnitude, into [-1, 1].
fn scaled(vals: Vec<f64>) -> Vec<f32> {
    let max = vals.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-12);
    vals.into_iter().map(|v| (v / max) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scalar projection the report used before this module (Xᵀ(X u) per step, sequential sums).
    fn reference(vectors: &[Vec<f32>]) -> Vec<(f32, f32)> {
        let n = vectors.len();
        let dim = vectors[0].len();
        let mut mean = vec![0f64; dim];
        for v in vectors {
            mean.iter_mut().zip(v).for_each(|(m, x)| *m += *x as f64 / n as f64);
        }
        let centred: Vec<Vec<f64>> =
            vectors.iter().map(|v| v.iter().zip(&mean).map(|(x, m)| *x as f64 - m).collect()).collect();
        let mut components: Vec<Vec<f64>> = Vec::new();
        for c in 0..2 {
            let mut u: Vec<f64> = (0..dim).map(|i| ((i * 7 + c * 13) % 11) as f64 - 5.0).collect();
            for _ in 0..100 {
                let xu: Vec<f64> = centred.iter().map(|r| r.iter().zip(&u).map(|(a, b)| a * b).sum()).collect();
                let mut next = vec![0f64; dim];
                for (r, s) in centred.iter().zip(&xu) {
                    next.iter_mut().zip(r).for_each(|(nx, x)| *nx += x * s);
                }
                for prev in &components {
                    let d: f64 = next.iter().zip(prev).map(|(a, b)| a * b).sum();
                    next.iter_mut().zip(prev).for_each(|(a, b)| *a -= d * b);
                }
                let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
                if norm < 1e-12 {
                    break;
                }
                u = next.into_iter().map(|x| x / norm).collect();
            }
            components.push(u);
        }
        let p = |r: &Vec<f64>, c: &Vec<f64>| r.iter().zip(c).map(|(a, b)| a * b).sum::<f64>();
        let xs = scaled(centred.iter().map(|r| p(r, &components[0])).collect());
        let ys = scaled(centred.iter().map(|r| p(r, &components[1])).collect());
        xs.into_iter().zip(ys).collect()
    }

    /// Deterministic pseudo-random vectors around a few centres, like embedded sentences.
    fn clustered(n: usize, dim: usize) -> Array2<f32> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let centres: Vec<Vec<f32>> = (0..5).map(|_| (0..dim).map(|_| next()).collect()).collect();
        Array2::from_shape_fn((n, dim), |(i, j)| centres[i % 5][j] + 0.3 * next())
    }

    #[test]
    fn projection_separates_clusters() {
        let mut vs = Array2::<f32>::zeros((10, 8));
        for i in 0..10 {
            vs[[i, if i < 5 { 0 } else { 1 }]] = 1.0;
            vs[[i, 2]] = 0.01 * i as f32;
        }
        let xy = project_2d(vs.view());
        let (a, b) = (xy[0], xy[9]);
        assert!(((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt() > 1.0);
        assert!(xy.iter().all(|p| p.0.abs() <= 1.0 && p.1.abs() <= 1.0));
    }

    #[test]
    fn points_on_a_line_spread_along_x() {
        let vs = Array2::from_shape_fn((7, 5), |(i, j)| (i as f32 - 3.0) * [0.5, -1.0, 2.0, 0.0, 0.25][j] + 1.0);
        let xy = project_2d(vs.view());
        let mut xs: Vec<f32> = xy.iter().map(|p| p.0).collect();
        assert!(xy.iter().all(|p| p.1.abs() < 1e-6), "{xy:?}");
        assert!((xs[0].abs() - 1.0).abs() < 1e-6 && (xs[0] + xs[6]).abs() < 1e-6, "the ends at ±1: {xs:?}");
        xs.dedup_by(|a, b| (*a - *b).abs() < 0.1);
        assert_eq!(xs.len(), 7, "distinct x for each point: {xy:?}");
    }

    #[test]
    fn projection_is_deterministic_and_matches_the_scalar_one() {
        // More rows than one block, so the blocked covariance is exercised.
        let vs = clustered(BLOCK + 300, 24);
        let xy = project_2d(vs.view());
        assert_eq!(xy, project_2d(vs.view()));
        let rows: Vec<Vec<f32>> = vs.rows().into_iter().map(|r| r.to_vec()).collect();
        let old = reference(&rows);
        let worst = xy.iter().zip(&old).map(|(a, b)| (a.0 - b.0).abs().max((a.1 - b.1).abs())).fold(0f32, f32::max);
        assert!(worst < 1e-5, "largest difference from the scalar projection {worst}");
    }

    use crate::index::Route;

    /// Unit vectors of two groups apart along one direction (±1 on axis 3)
    /// but spread more widely along three others (uniform in ±2, more
    /// variance than the gap gives): PCA's first two components follow the
    /// spread, a neighbour graph follows the gap. A large constant axis
    /// puts them on the sphere with cosine order ≈ Euclidean order.
    fn two_groups(per: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
        let mut rng = SplitMix::new(seed);
        let dim = 8;
        let mut v = Array2::<f32>::zeros((2 * per, dim));
        let mut group = Vec::new();
        for i in 0..2 * per {
            let g = i % 2;
            group.push(g);
            for c in 0..3 {
                v[[i, c]] = 2.0 * uniform(&mut rng);
            }
            v[[i, 3]] = if g == 0 { -1.0 } else { 1.0 };
            for c in 4..dim - 1 {
                v[[i, c]] = 0.05 * uniform(&mut rng);
            }
            v[[i, dim - 1]] = 10.0;
            let norm = v.row(i).dot(&v.row(i)).sqrt();
            v.row_mut(i).mapv_inplace(|x| x / norm);
        }
        (v, group)
    }

    /// Mean 2-D distance within the groups over mean distance between them.
    fn within_over_between(xy: &[(f32, f32)], group: &[usize]) -> f64 {
        let (mut within, mut between) = ((0f64, 0usize), (0f64, 0usize));
        for i in 0..xy.len() {
            for j in i + 1..xy.len() {
                let d = (((xy[i].0 - xy[j].0).powi(2) + (xy[i].1 - xy[j].1).powi(2)) as f64).sqrt();
                let acc = if group[i] == group[j] { &mut within } else { &mut between };
                acc.0 += d;
                acc.1 += 1;
            }
        }
        (within.0 / within.1 as f64) / (between.0 / between.1 as f64)
    }

    fn all_units(v: &Array2<f32>, k: usize) -> Neighbours {
        Neighbours::build(v.view(), (0..v.nrows()).collect(), k, Route::Exact, &mut |_| {})
    }

    #[test]
    fn layout_separates_groups_that_pca_mixes() {
        let (v, group) = two_groups(300, 7);
        let pca = within_over_between(&project_2d(v.view()), &group);
        let graph = all_units(&v, 15);
        let xy = layout(v.view(), &graph, SEED);
        let umap = within_over_between(&xy, &group);
        assert!(pca > 0.8, "PCA should mix the groups here (within/between {pca:.3}), else the test proves nothing");
        assert!(umap < 0.5, "the layout keeps the groups apart: within/between {umap:.3} (PCA {pca:.3})");
        // Each point's nearest point on the map is of its own group.
        let agree = (0..xy.len())
            .filter(|&i| {
                let d = |j: usize| (xy[i].0 - xy[j].0).powi(2) + (xy[i].1 - xy[j].1).powi(2);
                let j = (0..xy.len()).filter(|&j| j != i).min_by(|&a, &b| d(a).total_cmp(&d(b))).unwrap();
                group[j] == group[i]
            })
            .count();
        assert!(agree as f64 > 0.95 * xy.len() as f64, "{agree} of {} nearest on the map share the group", xy.len());
        assert!(xy.iter().all(|p| p.0.abs() <= 1.0 && p.1.abs() <= 1.0 && p.0.is_finite() && p.1.is_finite()));
        let span = |f: fn(&(f32, f32)) -> f32| {
            xy.iter().map(f).fold(f32::MIN, f32::max) - xy.iter().map(f).fold(f32::MAX, f32::min)
        };
        assert!((span(|p| p.0) - 2.0).abs() < 1e-5 && (span(|p| p.1) - 2.0).abs() < 1e-5, "fills [-1, 1]");
    }

    #[test]
    fn layout_is_deterministic_for_a_seed() {
        let (v, _) = two_groups(120, 3);
        let graph = all_units(&v, 10);
        let xy = layout(v.view(), &graph, 5);
        assert_eq!(xy, layout(v.view(), &graph, 5));
        assert_ne!(xy, layout(v.view(), &graph, 6), "the seed is used");
    }

    #[test]
    fn units_outside_the_graph_sit_by_their_nearest_member() {
        let (v, _) = two_groups(100, 11);
        let members: Vec<usize> = (0..v.nrows()).filter(|i| i % 10 != 0).collect();
        // Both routes: the exact scan, and a search of the HNSW graph.
        for route in [Route::Exact, Route::Hnsw] {
            let graph = Neighbours::build(v.view(), members.clone(), 15, route, &mut |_| {});
            assert_eq!(graph.route, route);
            by_nearest_member(&v, &members, &layout(v.view(), &graph, SEED));
        }
    }

    fn by_nearest_member(v: &Array2<f32>, members: &[usize], xy: &[(f32, f32)]) {
        assert_eq!(xy.len(), v.nrows());
        for u in (0..v.nrows()).step_by(10) {
            let best = *members
                .iter()
                .max_by(|&&a, &&b| v.row(u).dot(&v.row(a)).total_cmp(&v.row(u).dot(&v.row(b))).then(b.cmp(&a)))
                .unwrap();
            let d = ((xy[u].0 - xy[best].0).powi(2) + (xy[u].1 - xy[best].1).powi(2)).sqrt();
            assert!(d < 0.05, "unit {u} is {d} from its nearest member {best}");
        }
    }

    #[test]
    fn epochs_fall_with_size_but_not_below_fifty() {
        assert_eq!(epochs(10), 200);
        assert_eq!(epochs(10_000), 200);
        assert_eq!(epochs(40_000), 100);
        assert!(epochs(50_000) < 100 && epochs(50_000) > 80);
        assert_eq!(epochs(10_000_000), 50);
    }

    /// A and B are the least-squares fit UMAP makes for min_dist 0.1,
    /// spread 1 (on 300 distances in [0, 3]): nudging either fits worse.
    #[test]
    fn the_curve_fits_min_dist_a_tenth() {
        let err = |a: f64, b: f64| -> f64 {
            (0..300)
                .map(|i| {
                    let d = 3.0 * i as f64 / 299.0;
                    let target = if d < 0.1 { 1.0 } else { (-(d - 0.1)).exp() };
                    (1.0 / (1.0 + a * d.powf(2.0 * b)) - target).powi(2)
                })
                .sum()
        };
        let (a, b) = (A as f64, B as f64);
        let best = err(a, b);
        for (da, db) in [(0.01, 0.0), (-0.01, 0.0), (0.0, 0.01), (0.0, -0.01)] {
            assert!(err(a + da, b + db) > best, "({da}, {db}) fits better than A, B");
        }
    }

    #[test]
    fn small_graphs_do_not_panic() {
        for n in 0..5 {
            let (v, _) = two_groups(3, 1);
            let v = v.slice(ndarray::s![..n, ..]).to_owned();
            for members in [(0..n).collect::<Vec<_>>(), (0..n).filter(|i| i % 2 == 0).collect(), Vec::new()] {
                let graph = Neighbours::build(v.view(), members, 15, Route::Exact, &mut |_| {});
                let xy = layout(v.view(), &graph, SEED);
                assert_eq!(xy.len(), n);
                assert!(xy.iter().all(|p| p.0.is_finite() && p.1.is_finite() && p.0.abs() <= 1.0 && p.1.abs() <= 1.0));
            }
        }
        // All the same vector: one point, laid out without NaN.
        let v = Array2::<f32>::from_elem((40, 4), 0.5);
        let xy = layout(v.view(), &all_units(&v, 10), SEED);
        assert!(xy.iter().all(|p| p.0.is_finite() && p.1.is_finite()), "{xy:?}");
    }

    /// The optimisation's time on a random graph of 50,000 points, 15 edges
    /// each (`cargo test --release --lib report::map -- --ignored --nocapture`).
    #[test]
    #[ignore = "a timing, not a check"]
    fn optimise_time_on_fifty_thousand_points() {
        let n = 50_000;
        let mut rng = SplitMix::new(1);
        let mut edges: Vec<Edge> = Vec::new();
        for i in 0..n as u32 {
            for _ in 0..15 {
                let j = rng.below(n) as u32;
                let every = 1.0 / (0.05 + 0.95 * (uniform(&mut rng) + 1.0) / 2.0);
                edges.extend([(i, j, every), (j, i, every)]);
            }
        }
        let mut pos: Vec<[f32; 2]> = (0..n).map(|_| [10.0 * uniform(&mut rng), 10.0 * uniform(&mut rng)]).collect();
        let t = std::time::Instant::now();
        optimise(&mut pos, &edges, epochs(n), &mut rng);
        eprintln!("{} edges, {} epochs: {:?}", edges.len(), epochs(n), t.elapsed());
    }

    #[test]
    fn a_far_island_does_not_squeeze_the_map() {
        let mut vals: Vec<f32> = (0..1000).map(|i| i as f32 / 999.0).collect();
        vals.push(1000.0);
        let out = fitted(vals);
        assert!(out[0] == -1.0 && out[999] > 0.99 && out[1000] == 1.0, "{} {} {}", out[0], out[999], out[1000]);
    }

    #[test]
    fn pow_b_is_powf_to_two_in_a_hundred_thousand() {
        let mut worst = 0f32;
        for k in -3000..=3000 {
            let x = 10f32.powf(k as f32 / 500.0);
            let (fast, exact) = (pow_b(x), x.powf(B));
            worst = worst.max(((fast - exact) / exact).abs());
        }
        assert!(worst < 2e-5, "largest relative error {worst}");
        assert_eq!(pow_b(0.0), 0.0);
        assert_eq!(pow_b(f32::NAN), 0.0);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        assert!(project_2d(Array2::<f32>::zeros((0, 4)).view()).is_empty());
        assert_eq!(project_2d(Array2::<f32>::zeros((3, 0)).view()), vec![(0.0, 0.0); 3]);
        assert_eq!(project_2d(Array2::<f32>::ones((1, 4)).view()), vec![(0.0, 0.0)]);
    }
}
