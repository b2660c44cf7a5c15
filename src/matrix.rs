//! Vectors as one currency: every set of vectors in motif, from the store
//! to the report, is an `ndarray` matrix with one unit-length row per item
//! (`Array2<f32>` owned, `ArrayView2<f32>` borrowed, always in standard
//! row-major layout). This module owns what is done to such rows: the one
//! dot product, normalisation, the finiteness check, and `.npy` files
//! (through `ndarray-npy`, so NumPy reads what motif writes).

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use ndarray::{Array2, ArrayBase, ArrayView2, Data, Ix2};

#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error("{path}: cannot read: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: cannot write: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("{path}: not a 2-D little-endian float32 .npy file in C order ({why})")]
    NotNpy { path: String, why: String },
    #[error("{path}: holds no vectors (shape {rows} × {dim}); it needs at least one row of at least one number")]
    EmptyNpy { path: String, rows: usize, dim: usize },
    #[error("{what}: row {row} is not finite (NaN or infinity)")]
    NotFinite { what: String, row: usize },
}

/// Row `i` of a row-major matrix as a slice.
///
/// Every matrix motif builds is in standard layout, so this never copies.
pub fn row<S: Data<Elem = f32>>(m: &ArrayBase<S, Ix2>, i: usize) -> &[f32] {
    let dim = m.ncols();
    &m.as_slice().expect("vectors are kept in standard row-major layout")[i * dim..(i + 1) * dim]
}

/// The dot product (the cosine, for unit vectors): the one used by search,
/// overlaps and themes alike. Sixteen running sums let the compiler
/// vectorise it without reordering a float sum; `multiversion` compiles it
/// for AVX-512 and AVX2 as well and picks the best at run time. The sum is
/// the same on every CPU: the order of additions does not depend on the
/// instruction set.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let whole = n / LANES * LANES;
    for (ca, cb) in a[..whole].chunks_exact(LANES).zip(b[..whole].chunks_exact(LANES)) {
        for j in 0..LANES {
            acc[j] += ca[j] * cb[j];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for i in whole..n {
        s += a[i] * b[i];
    }
    s
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Errors on the first row holding a NaN or an infinity; `what` names the
/// vectors for the message.
pub fn check_finite(m: ArrayView2<f32>, what: &str) -> Result<(), MatrixError> {
    match m.rows().into_iter().position(|r| r.iter().any(|x| !x.is_finite())) {
        Some(row) => Err(MatrixError::NotFinite { what: what.to_string(), row }),
        None => Ok(()),
    }
}

/// The normalised mean of the given rows (a zero vector for none), summed
/// in f64 so large groups lose nothing to rounding.
pub fn centroid(m: ArrayView2<f32>, rows: &[usize]) -> Vec<f32> {
    let mut c = vec![0f64; m.ncols()];
    for &r in rows {
        for (s, x) in c.iter_mut().zip(row(&m, r)) {
            *s += *x as f64;
        }
    }
    let norm = c.iter().map(|x| x * x).sum::<f64>().sqrt();
    c.iter().map(|x| if norm > 0.0 { (x / norm) as f32 } else { 0.0 }).collect()
}

/// Reads a 2-D float32 `.npy` file (as NumPy and `motif embed --format npy`
/// write them) with at least one row and one column.
pub fn read_npy(path: &Path) -> Result<Array2<f32>, MatrixError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|source| MatrixError::Read { path: shown.clone(), source })?;
    let m: Array2<f32> = ndarray_npy::ReadNpyExt::read_npy(BufReader::new(file)).map_err(|e| match e {
        // A file too short for a header is not a .npy file, not a failed read.
        ndarray_npy::ReadNpyError::Io(source) if source.kind() != std::io::ErrorKind::UnexpectedEof => {
            MatrixError::Read { path: shown.clone(), source }
        }
        other => MatrixError::NotNpy { path: shown.clone(), why: other.to_string() },
    })?;
    if m.nrows() == 0 || m.ncols() == 0 {
        return Err(MatrixError::EmptyNpy { path: shown, rows: m.nrows(), dim: m.ncols() });
    }
    // Fortran-order files read into another layout; keep one layout everywhere.
    Ok(if m.is_standard_layout() { m } else { m.as_standard_layout().into_owned() })
}

/// Writes a matrix as a float32 `.npy` file.
pub fn write_npy(path: &Path, m: ArrayView2<f32>) -> Result<(), MatrixError> {
    let shown = path.display().to_string();
    let file = File::create(path).map_err(|source| MatrixError::Write { path: shown.clone(), source })?;
    let mut out = BufWriter::new(file);
    write_npy_to(&mut out, m).map_err(|source| MatrixError::Write { path: shown.clone(), source })?;
    out.flush().map_err(|source| MatrixError::Write { path: shown, source })
}

/// Writes a matrix as `.npy` bytes to any writer (stdout included).
pub fn write_npy_to<W: Write>(out: &mut W, m: ArrayView2<f32>) -> std::io::Result<()> {
    ndarray_npy::WriteNpyExt::write_npy(&m, out).map_err(|e| match e {
        ndarray_npy::WriteNpyError::Io(e) => e,
        other => std::io::Error::other(other.to_string()),
    })
}

/// Unit-length vectors in clusters, from a fixed seed: for tests and
/// benchmarks that need vectors with some structure, without a model.
pub fn clustered_vectors(n: usize, dim: usize, clusters: usize, spread: f32, seed: u64) -> Array2<f32> {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    // xorshift64* and Box-Muller: enough randomness for test data.
    let mut uniform = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        ((state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut normal = move || {
        let (u, v) = (uniform(), uniform());
        ((-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()) as f32
    };
    let centres: Vec<f32> = (0..clusters.max(1) * dim).map(|_| normal()).collect();
    let mut out = Vec::with_capacity(n * dim);
    for i in 0..n {
        let c = &centres[(i % clusters.max(1)) * dim..][..dim];
        let mut v: Vec<f32> = c.iter().map(|&x| x + spread * normal()).collect();
        normalize(&mut v);
        out.extend_from_slice(&v);
    }
    Array2::from_shape_vec((n, dim), out).expect("n rows of dim")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn dot_matches_a_plain_sum_for_every_length() {
        for n in [0, 1, 7, 15, 16, 17, 33, 384] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            assert!((dot(&a, &b) as f64 - plain).abs() < 1e-4, "length {n}");
        }
    }

    #[test]
    fn normalize_gives_unit_length_and_keeps_zero() {
        let mut v = vec![3.0, 4.0];
        normalize(&mut v);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        let mut z = vec![0.0; 3];
        normalize(&mut z);
        assert_eq!(z, vec![0.0; 3]);
    }

    #[test]
    fn finiteness_is_checked_per_row() {
        let m = array![[1.0f32, 0.0], [f32::NAN, 0.0]];
        assert!(matches!(check_finite(m.view(), "x"), Err(MatrixError::NotFinite { row: 1, .. })));
        assert!(check_finite(array![[1.0f32]].view(), "x").is_ok());
    }

    #[test]
    fn npy_round_trips_and_refuses_empty_or_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.npy");
        let m = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
        write_npy(&path, m.view()).unwrap();
        assert_eq!(read_npy(&path).unwrap(), m);

        let empty = dir.path().join("empty.npy");
        write_npy(&empty, Array2::<f32>::zeros((0, 384)).view()).unwrap();
        assert!(matches!(read_npy(&empty), Err(MatrixError::EmptyNpy { rows: 0, dim: 384, .. })));

        let text = dir.path().join("text.npy");
        std::fs::write(&text, "not numpy").unwrap();
        let err = read_npy(&text).unwrap_err().to_string();
        assert!(err.contains("text.npy") && err.contains(".npy"), "{err}");
        std::fs::write(&text, "hi").unwrap();
        assert!(matches!(read_npy(&text), Err(MatrixError::NotNpy { .. })), "a file shorter than a header");

        let f64s = dir.path().join("f64.npy");
        ndarray_npy::write_npy(&f64s, &array![[1.0f64]]).unwrap();
        assert!(matches!(read_npy(&f64s), Err(MatrixError::NotNpy { .. })));
    }

    #[test]
    fn centroid_is_the_normalised_mean() {
        let m = array![[1.0f32, 0.0], [0.0, 1.0], [5.0, 5.0]];
        let c = centroid(m.view(), &[0, 1]);
        assert!((c[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert_eq!(centroid(m.view(), &[]), vec![0.0, 0.0]);
    }
}
