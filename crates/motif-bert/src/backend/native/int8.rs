//! int8 linear layers for `--precision int8`: weights quantised once per
//! output column (symmetric, ±127), activations per row at every call
//! (asymmetric u8 over the row's own range, so a row of GELU outputs,
//! mostly small and positive, keeps all 256 levels), products summed
//! exactly in i32 and scaled back to f32:
//!
//! `x·w ≈ sx·sw · Σ (qx − zx)·qw = sx·sw · (Σ qx·qw − zx·Σ qw)`
//!
//! where `Σ qw` per column is computed once at load. This is the scheme of
//! onnxruntime's dynamic quantisation, with one scale per row instead of
//! one per tensor.
//!
//! The multiply runs on AMX-INT8 tiles (`amx`), 512-bit VNNI, 256-bit
//! AVX-VNNI or plain AVX2 (`avx512`), whichever the CPU offers, chosen once
//! at load. AVX2 has no 4-way u8 × i8 dot product: `vpmaddubsw` sums pairs
//! into i16 with saturation, so its activations get 128 levels (0..=127),
//! which keeps every pair sum (≤ 2·127·127) exact. All four read the
//! weights in one layout: per block of 16 columns and 64
//! values of k, 16 rows of (column, 4 consecutive k) bytes, which is both
//! AMX's B tile and what one `vpdpbusd` multiplies against a broadcast of
//! four activation bytes.

use std::cell::RefCell;

use rayon::prelude::*;

use super::kernels::{quantize_row, Aligned, Init};
use super::{amx, avx512};
use crate::backend::cpu::CpuFeatures;

/// Output columns per weight tile.
pub const COLS: usize = 16;
/// Values of k per weight tile (64 bytes per tile row).
pub const K_BLOCK: usize = 64;

/// Which instructions multiply int8 on this CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Kernel {
    Amx,
    Avx512Vnni,
    AvxVnni,
    Avx2,
}

impl Int8Kernel {
    /// The fastest int8 kernel these features allow, if any.
    pub fn best(cpu: &CpuFeatures) -> Option<Int8Kernel> {
        if cpu.amx_int8 && cpu.avx512 {
            Some(Int8Kernel::Amx)
        } else if cpu.avx512_vnni {
            Some(Int8Kernel::Avx512Vnni)
        } else if cpu.avx_vnni {
            Some(Int8Kernel::AvxVnni)
        } else if cpu.avx2 {
            Some(Int8Kernel::Avx2)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Int8Kernel::Amx => "AMX-INT8",
            Int8Kernel::Avx512Vnni => "AVX-512 VNNI",
            Int8Kernel::AvxVnni => "AVX-VNNI",
            Int8Kernel::Avx2 => "AVX2",
        }
    }

    /// The highest activation level: 255, or 127 on AVX2 (see the module doc).
    pub fn top_level(self) -> f32 {
        if self == Int8Kernel::Avx2 {
            127.0
        } else {
            255.0
        }
    }

    /// Rows each kernel computes at once; the quantised activations are
    /// padded to a multiple (the extra rows are computed and dropped).
    fn row_block(self) -> usize {
        match self {
            Int8Kernel::Amx => 32,
            Int8Kernel::Avx512Vnni => avx512::VNNI_ROWS,
            Int8Kernel::AvxVnni | Int8Kernel::Avx2 => avx512::AVX_VNNI_ROWS,
        }
    }
}

/// A weight matrix (n × k, PyTorch's Linear layout) quantised per output
/// column and packed in the tile layout above.
pub struct Int8Weight {
    pub(super) n: usize,
    pub(super) k: usize,
    data: Aligned<i8>,
    /// Per column: w ≈ scale · q.
    pub(super) scale: Vec<f32>,
    /// Per column: Σ over k of q, for the activations' zero points.
    pub(super) sum: Vec<i32>,
}

impl Int8Weight {
    /// None unless n is a multiple of 32 and k of 64.
    pub fn new(w: &[f32], n: usize, k: usize) -> Option<Int8Weight> {
        if !n.is_multiple_of(2 * COLS) || !k.is_multiple_of(K_BLOCK) || w.len() != n * k {
            return None;
        }
        let mut scale = Vec::with_capacity(n);
        let mut sum = Vec::with_capacity(n);
        let mut q = vec![0i8; n * k];
        for (j, row) in w.chunks_exact(k).enumerate() {
            let max = row.iter().fold(0f32, |m, &v| m.max(v.abs()));
            let s = if max > 0.0 { max / 127.0 } else { 1.0 };
            let qs = &mut q[j * k..(j + 1) * k];
            for (d, &v) in qs.iter_mut().zip(row) {
                *d = (v / s).round_ties_even().clamp(-127.0, 127.0) as i8;
            }
            scale.push(s);
            sum.push(qs.iter().map(|&v| v as i32).sum());
        }
        let kb = k / K_BLOCK;
        let mut data = Aligned::zeroed(n * k);
        let slots = data.fit(n * k);
        for jb in 0..n / COLS {
            for b in 0..kb {
                let tile = &mut slots[(jb * kb + b) * COLS * K_BLOCK..][..COLS * K_BLOCK];
                for p in 0..K_BLOCK / 4 {
                    for c in 0..COLS {
                        let src = &q[(jb * COLS + c) * k + b * K_BLOCK + 4 * p..][..4];
                        tile[p * 4 * COLS + 4 * c..][..4].copy_from_slice(src);
                    }
                }
            }
        }
        Some(Int8Weight { n, k, data, scale, sum })
    }

    /// The tile of column block `jb` (16 columns) and k block `b`.
    pub(super) fn tile(&self, jb: usize, b: usize) -> *const i8 {
        self.data.as_slice()[(jb * (self.k / K_BLOCK) + b) * COLS * K_BLOCK..].as_ptr()
    }
}

/// Activations quantised per row, rows padded to the kernel's block.
#[derive(Default)]
pub struct QuantRows {
    pub(super) data: Aligned<u8>,
    pub(super) scale: Vec<f32>,
    pub(super) zero: Vec<i32>,
}

/// `dst (t × n) = init + x (t × k) · Wᵀ` through int8; `kernel` must be one
/// `Int8Kernel::best` returned on this CPU.
pub fn linear(dst: &mut [f32], x: &[f32], w: &Int8Weight, t: usize, init: Init, kernel: Int8Kernel) {
    let (n, k) = (w.n, w.k);
    assert!(dst.len() >= t * n && x.len() >= t * k);
    if let Init::Bias(b) = init {
        assert_eq!(b.len(), n, "one bias per output column");
    }
    thread_local! {
        // Kept between calls: a fresh buffer per call costs page faults.
        static ROWS: RefCell<QuantRows> = RefCell::new(QuantRows::default());
    }
    ROWS.with_borrow_mut(|q| {
        let rows = t.next_multiple_of(kernel.row_block());
        q.scale.resize(t, 0.0);
        q.zero.resize(t, 0);
        let a = q.data.fit(rows * k);
        let top = kernel.top_level();
        const CHUNK: usize = 64;
        a[..t * k]
            .par_chunks_mut(k * CHUNK)
            .zip(x[..t * k].par_chunks(k * CHUNK))
            .zip(q.scale.par_chunks_mut(CHUNK).zip(q.zero.par_chunks_mut(CHUNK)))
            .for_each(|((dst, src), (scales, zeros))| {
                for (((d, s), scale), zero) in
                    dst.chunks_exact_mut(k).zip(src.chunks_exact(k)).zip(scales.iter_mut()).zip(zeros.iter_mut())
                {
                    (*scale, *zero) = quantize_row(s, d, top);
                }
            });
        let q = &*q;
        match kernel {
            Int8Kernel::Amx => amx::multiply_int8(dst, q, w, t, init),
            Int8Kernel::Avx512Vnni => avx512::multiply_vnni512(dst, q, w, t, init),
            Int8Kernel::AvxVnni => avx512::multiply_avx_vnni(dst, q, w, t, init),
            Int8Kernel::Avx2 => avx512::multiply_avx2(dst, q, w, t, init),
        }
    });
}

/// The f32 outputs of one row's i32 sums for `cols` columns from `col`:
/// `dst[c] = init + sx·sw[c]·(acc[c] − zx·Σqw[c])`.
/// # Safety
/// `dst` and `acc` must hold `cols` values; col + cols ≤ n.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn dequantize(
    dst: *mut f32,
    acc: *const i32,
    cols: usize,
    col: usize,
    w: &Int8Weight,
    sx: f32,
    zx: i32,
    init: Init,
) {
    let dst = std::slice::from_raw_parts_mut(dst, cols);
    let acc = std::slice::from_raw_parts(acc, cols);
    let (scale, sum) = (&w.scale[col..col + cols], &w.sum[col..col + cols]);
    match init {
        Init::Bias(bias) => {
            let bias = &bias[col..col + cols];
            for c in 0..cols {
                dst[c] = bias[c] + sx * scale[c] * (acc[c] - zx * sum[c]) as f32;
            }
        }
        Init::Accumulate => {
            for c in 0..cols {
                dst[c] += sx * scale[c] * (acc[c] - zx * sum[c]) as f32;
            }
        }
        Init::Zero => {
            for c in 0..cols {
                dst[c] = sx * scale[c] * (acc[c] - zx * sum[c]) as f32;
            }
        }
    }
}

/// `dequantize` compiled for AVX-512 (the AMX and 512-bit VNNI kernels).
/// # Safety
/// As `dequantize`, on a CPU with AVX-512 F and BW.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn dequantize_avx512(
    dst: *mut f32,
    acc: *const i32,
    cols: usize,
    col: usize,
    w: &Int8Weight,
    sx: f32,
    zx: i32,
    init: Init,
) {
    dequantize(dst, acc, cols, col, w, sx, zx, init)
}

/// `dequantize` compiled for AVX2 (the AVX-VNNI and AVX2 kernels).
/// # Safety
/// As `dequantize`, on a CPU with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn dequantize_avx2(
    dst: *mut f32,
    acc: *const i32,
    cols: usize,
    col: usize,
    w: &Int8Weight,
    sx: f32,
    zx: i32,
    init: Init,
) {
    dequantize(dst, acc, cols, col, w, sx, zx, init)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Inputs with the spread of a real layer: mostly small values and a
    /// few large ones per row (the outlier columns BERT's activations have).
    pub fn test_inputs(t: usize, k: usize, n: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let x: Vec<f32> = (0..t * k)
            .map(|i| {
                let v = ((i * 7919 % 97) as f32 - 48.0) / 50.0;
                if i % k == 5 {
                    v * 8.0
                } else {
                    v
                }
            })
            .collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 104_729 % 89) as f32 - 44.0) / 60.0).collect();
        let bias: Vec<f32> = (0..n).map(|j| j as f32 / 10.0 - 3.0).collect();
        (x, w, bias)
    }

    /// Each kernel against the f32 product, from each start, for a row
    /// count that leaves a partial block; quantisation error bounded by
    /// the rows' and columns' ranges.
    pub fn check_kernel(kernel: Int8Kernel) {
        for (t, k, n) in [(70, 128, 64), (7, 64, 96), (1, 192, 32)] {
            let (x, w, bias) = test_inputs(t, k, n);
            let packed = Int8Weight::new(&w, n, k).unwrap();
            let mut acc = vec![1.0f32; t * n];
            linear(&mut acc, &x, &packed, t, Init::Accumulate, kernel);
            let mut biased = vec![f32::NAN; t * n];
            linear(&mut biased, &x, &packed, t, Init::Bias(&bias), kernel);
            // dst not read: NaN there must not show.
            let mut bare = vec![f32::NAN; t * n];
            linear(&mut bare, &x, &packed, t, Init::Zero, kernel);
            for i in 0..t {
                let row = &x[i * k..(i + 1) * k];
                let range = row.iter().fold(0f32, |m, &v| m.max(v)) - row.iter().fold(0f32, |m, &v| m.min(v));
                for j in 0..n {
                    let wr = &w[j * k..(j + 1) * k];
                    let product: f32 = row.iter().zip(wr).map(|(a, b)| a * b).sum();
                    let wmax = wr.iter().fold(0f32, |m, &v| m.max(v.abs()));
                    // Half a step of each operand's grid per term, summed.
                    let tol = k as f32
                        * (range / (2.0 * kernel.top_level()) * wmax
                            + row.iter().map(|v| v.abs()).sum::<f32>() / k as f32 * wmax / 254.0)
                        + 1e-3;
                    let at = i * n + j;
                    assert!(
                        (acc[at] - (1.0 + product)).abs() <= tol,
                        "{kernel:?} accumulate ({i},{j}) {} vs {}",
                        acc[at],
                        1.0 + product
                    );
                    assert!((biased[at] - (bias[j] + product)).abs() <= tol, "{kernel:?} bias ({i},{j})");
                    assert!((bare[at] - product).abs() <= tol, "{kernel:?} zero ({i},{j}) {} vs {product}", bare[at]);
                }
            }
            // Far tighter than the bound on average: the rounding errors cancel.
            let mean_err: f32 =
                (0..t * n).map(|at| (bare[at] - (biased[at] - bias[at % n])).abs()).sum::<f32>() / (t * n) as f32;
            assert!(mean_err < 1e-4, "{kernel:?}: the three starts disagree by {mean_err}");
        }
    }

    #[test]
    fn quantised_weights_reconstruct_within_half_a_step() {
        let (_, w, _) = test_inputs(1, 128, 64);
        let q = Int8Weight::new(&w, 64, 128).unwrap();
        assert!(Int8Weight::new(&w, 48, 128 + 32).is_none(), "k must be a multiple of 64 and n of 32");
        for j in 0..64 {
            let max = w[j * 128..(j + 1) * 128].iter().fold(0f32, |m, &v| m.max(v.abs()));
            assert!((q.scale[j] - max / 127.0).abs() < 1e-9);
        }
        // Unpack through the tile layout and compare.
        let data = q.data.as_slice();
        let mut sums = vec![0i32; 64];
        for j in 0..64 {
            for kk in 0..128 {
                let (jb, c, b, p, e) = (j / COLS, j % COLS, kk / K_BLOCK, (kk % K_BLOCK) / 4, kk % 4);
                let v = data[(jb * 2 + b) * COLS * K_BLOCK + p * 4 * COLS + 4 * c + e];
                sums[j] += v as i32;
                let back = v as f32 * q.scale[j];
                assert!((back - w[j * 128 + kk]).abs() <= q.scale[j] / 2.0 + 1e-6, "({j},{kk})");
            }
        }
        assert_eq!(sums, q.sum);
    }

    #[test]
    fn a_row_quantises_over_its_range_and_keeps_zero_exact() {
        let row = [0.0f32, -1.0, 3.0, 0.5, 2.999];
        let mut q = [0u8; 5];
        let (scale, zero) = quantize_row(&row, &mut q, 255.0);
        assert!((scale - 4.0 / 255.0).abs() < 1e-7);
        assert_eq!(q[0] as i32, zero, "0 maps to the zero point exactly");
        assert_eq!((q[1], q[2]), (0, 255));
        for (&x, &v) in row.iter().zip(&q) {
            assert!((scale * (v as i32 - zero) as f32 - x).abs() <= scale / 2.0 + 1e-6);
        }
        // A row of zeros, and a row of one sign.
        let (s, z) = quantize_row(&[0.0; 3], &mut q[..3], 255.0);
        assert_eq!((s, z, &q[..3]), (1.0, 0, &[0u8, 0, 0][..]));
        let (_, z) = quantize_row(&[1.0, 2.0], &mut q[..2], 255.0);
        assert_eq!((z, q[1]), (0, 255));
        // AVX2's 128 levels.
        let (scale, zero) = quantize_row(&row, &mut q, 127.0);
        assert!((scale - 4.0 / 127.0).abs() < 1e-7);
        assert_eq!((q[0] as i32, q[1], q[2]), (zero, 0, 127));
    }
}
