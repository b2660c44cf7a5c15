//! Vector arithmetic on plain `f32` slices, one implementation each: the dot
//! product (the cosine of two unit vectors) and normalisation to unit length.
//!
//! Written so that the compiler vectorises them without `unsafe` or
//! intrinsics: eight independent accumulators break the one serial chain of
//! adds a plain `zip().map().sum()` makes (which the compiler may not
//! reorder, floating-point addition not being associative).

/// Σ a[i]·b[i] over the shorter of the two.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Scales `v` to unit length; a zero vector stays zero.
pub fn normalize(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_the_plain_sum_at_every_length() {
        for n in [0, 1, 7, 8, 9, 16, 31, 384] {
            let a: Vec<f32> = (0..n).map(|i| ((i * 7919) % 61) as f32 / 30.0 - 1.0).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 104_729) % 53) as f32 / 26.0 - 1.0).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            assert!((dot(&a, &b) as f64 - plain).abs() < 1e-4, "n {n}: {} vs {plain}", dot(&a, &b));
        }
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, 5.0]), 14.0, "the shorter length counts");
    }

    #[test]
    fn normalize_gives_unit_length_and_keeps_zero() {
        let mut v = vec![3.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 12.0];
        normalize(&mut v);
        assert!((dot(&v, &v) - 1.0).abs() < 1e-6);
        assert!((v[0] - 3.0 / 13.0).abs() < 1e-6);
        let mut zero = vec![0.0; 5];
        normalize(&mut zero);
        assert!(zero.iter().all(|&x| x == 0.0));
    }
}
