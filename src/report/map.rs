//! The report's map: unit vectors projected onto their first two principal
//! components, so that units close in meaning lie close on the page. The
//! projection is computed in f64 with ndarray (one GEMM for the covariance,
//! then power iteration on it), deterministically: fixed start vectors and
//! a fixed number of steps.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, Axis};

/// Rows converted to f64 at a time: bounds the f64 copy of the vectors.
const BLOCK: usize = 4096;

/// Power iteration steps per component.
const STEPS: usize = 100;

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

    #[test]
    fn degenerate_inputs_do_not_panic() {
        assert!(project_2d(Array2::<f32>::zeros((0, 4)).view()).is_empty());
        assert_eq!(project_2d(Array2::<f32>::zeros((3, 0)).view()), vec![(0.0, 0.0); 3]);
        assert_eq!(project_2d(Array2::<f32>::ones((1, 4)).view()), vec![(0.0, 0.0)]);
    }
}
