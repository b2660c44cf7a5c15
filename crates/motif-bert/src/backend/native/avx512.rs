//! Matrix multiplies on vector dot-product instructions, for CPUs with
//! fast bf16 or int8 arithmetic but no AMX (AMD Zen 4/5, Intel Ice Lake to
//! Cooper Lake, Intel client chips with AVX-VNNI):
//! - bf16 through AVX-512 BF16 (`vdpbf16ps`), on the weights `amx` packs;
//! - int8 through 512-bit VNNI or 256-bit AVX-VNNI (`vpdpbusd`), or on
//!   plain AVX2 (`vpmaddubsw` then `vpmaddwd`), on the weights `int8` packs.
//!
//! One register-blocked micro-kernel shape for all three: a block of rows
//! of the (rounded or quantised) activations times 64 output columns (four
//! weight tiles side by side). Each step loads one 64-byte row of each of
//! the four tiles, broadcasts one 4-byte group (a bf16 pair or a u8
//! quadruple) of every activation row, and issues rows × 4 dot products
//! into accumulators that stay in registers for the whole of k.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use rayon::prelude::*;

use super::amx::PackedWeight;
use super::int8::{dequantize_avx2, dequantize_avx512, Int8Weight, QuantRows, COLS, K_BLOCK};
use super::kernels::{round_bf16, Aligned, Init};

/// Activation rows per 512-bit micro-kernel call: 6 rows × 4 column
/// vectors is 24 accumulators, plus 4 weight rows and a broadcast, within
/// the 32 registers.
pub const VNNI_ROWS: usize = 6;
/// Rows per 256-bit call (16 registers): 4 rows × 2 half-tiles is 8
/// accumulators, plus 2 weight halves and a broadcast.
pub const AVX_VNNI_ROWS: usize = 4;
/// Rows per bf16 call.
pub const BF16_ROWS: usize = 6;
/// Rows each parallel task takes: a multiple of every row block, small
/// enough to share a short batch between cores.
const TASK_ROWS: usize = 48;

/// Column tiles per micro-kernel call where n allows four (64 columns),
/// else two.
fn tiles_per_call(n: usize) -> usize {
    if n.is_multiple_of(4 * COLS) {
        4
    } else {
        2
    }
}

/// Runs `block(dst rows, first row, rows in task)` for every task of
/// TASK_ROWS rows, in parallel.
fn for_tasks(dst: &mut [f32], n: usize, t: usize, block: impl Fn(*mut f32, usize, usize) + Sync) {
    let dst_addr = dst.as_mut_ptr() as usize;
    (0..t.div_ceil(TASK_ROWS)).into_par_iter().for_each(|task| {
        let r0 = task * TASK_ROWS;
        // An address, so that tasks may share it; each task writes only
        // its own rows.
        block((dst_addr as *mut f32).wrapping_add(r0 * n), r0, TASK_ROWS.min(t - r0));
    });
}

/// int8 `linear` on 512-bit VNNI. `a` rows are readable up to the next
/// multiple of VNNI_ROWS.
pub fn multiply_vnni512(dst: &mut [f32], a: &QuantRows, w: &Int8Weight, t: usize, init: Init) {
    #[cfg(target_arch = "x86_64")]
    {
        let (n, k) = (w.n, w.k);
        let data = a.data.as_slice();
        assert!(data.len() >= t.next_multiple_of(VNNI_ROWS) * k);
        let nv = tiles_per_call(n);
        for_tasks(dst, n, t, |d, r0, rows| {
            let mut acc = [0i32; VNNI_ROWS * 4 * COLS];
            for jb in (0..n / COLS).step_by(nv) {
                for rb in (0..rows).step_by(VNNI_ROWS) {
                    // SAFETY: VNNI was detected (the kernel was chosen from
                    // CpuFeatures); reads stay in `a`'s padded rows and the
                    // tiles of column blocks jb..jb+nv; writes go to this
                    // task's rows of dst, row < t only.
                    unsafe {
                        let ap = data.as_ptr().add((r0 + rb) * k);
                        if nv == 4 {
                            vnni512_block::<4>(ap, k, w, jb, &mut acc);
                        } else {
                            vnni512_block::<2>(ap, k, w, jb, &mut acc);
                        }
                        for r in 0..VNNI_ROWS.min(rows - rb) {
                            let row = r0 + rb + r;
                            let out = d.add((rb + r) * n + jb * COLS);
                            dequantize_avx512(
                                out,
                                acc[r * 4 * COLS..].as_ptr(),
                                nv * COLS,
                                jb * COLS,
                                w,
                                a.scale[row],
                                a.zero[row],
                                init,
                            );
                        }
                    }
                }
            }
        });
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (dst, a, w, t, init);
        unreachable!("int8 kernels are chosen only on x86-64");
    }
}

/// VNNI_ROWS rows of `a` (row stride k bytes) times NV weight tiles from
/// column block jb, over all of k, into acc (rows of 64 i32).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn vnni512_block<const NV: usize>(
    a: *const u8,
    k: usize,
    w: &Int8Weight,
    jb: usize,
    acc: &mut [i32; VNNI_ROWS * 4 * COLS],
) {
    let mut c = [[_mm512_setzero_si512(); NV]; VNNI_ROWS];
    for b in 0..k / K_BLOCK {
        let tiles: [*const i8; NV] = std::array::from_fn(|v| w.tile(jb + v, b));
        for p in 0..K_BLOCK / 4 {
            let wv: [__m512i; NV] = std::array::from_fn(|v| _mm512_load_si512(tiles[v].add(p * 64) as *const _));
            for (r, cr) in c.iter_mut().enumerate() {
                let x = _mm512_set1_epi32((a.add(r * k + b * K_BLOCK + 4 * p) as *const i32).read_unaligned());
                for v in 0..NV {
                    cr[v] = _mm512_dpbusd_epi32(cr[v], x, wv[v]);
                }
            }
        }
    }
    for (r, cr) in c.iter().enumerate() {
        for (v, &cv) in cr.iter().enumerate() {
            _mm512_storeu_si512(acc.as_mut_ptr().add(r * 4 * COLS + v * COLS) as *mut _, cv);
        }
    }
}

/// int8 `linear` on 256-bit AVX-VNNI. `a` rows are readable up to the
/// next multiple of AVX_VNNI_ROWS.
pub fn multiply_avx_vnni(dst: &mut [f32], a: &QuantRows, w: &Int8Weight, t: usize, init: Init) {
    // SAFETY: the kernel was chosen from CpuFeatures::avx_vnni.
    #[cfg(target_arch = "x86_64")]
    multiply_256(dst, a, w, t, init, |a, k, w, jb, acc| unsafe { avx_vnni_block(a, k, w, jb, acc) });
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (dst, a, w, t, init);
        unreachable!("int8 kernels are chosen only on x86-64");
    }
}

/// int8 `linear` on plain AVX2, for CPUs without VNNI; `a` holds
/// activations of at most 127 (see `int8`'s module doc), rows readable up
/// to the next multiple of AVX_VNNI_ROWS.
pub fn multiply_avx2(dst: &mut [f32], a: &QuantRows, w: &Int8Weight, t: usize, init: Init) {
    // SAFETY: the kernel was chosen from CpuFeatures::avx2.
    #[cfg(target_arch = "x86_64")]
    multiply_256(dst, a, w, t, init, |a, k, w, jb, acc| unsafe { avx2_block(a, k, w, jb, acc) });
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (dst, a, w, t, init);
        unreachable!("int8 kernels are chosen only on x86-64");
    }
}

/// The 256-bit int8 multiply around `block` (AVX-VNNI's or AVX2's), which
/// must run on this CPU.
#[cfg(target_arch = "x86_64")]
fn multiply_256(
    dst: &mut [f32],
    a: &QuantRows,
    w: &Int8Weight,
    t: usize,
    init: Init,
    block: impl Fn(*const u8, usize, &Int8Weight, usize, &mut [i32; AVX_VNNI_ROWS * COLS]) + Sync,
) {
    let (n, k) = (w.n, w.k);
    let data = a.data.as_slice();
    assert!(data.len() >= t.next_multiple_of(AVX_VNNI_ROWS) * k);
    for_tasks(dst, n, t, |d, r0, rows| {
        let mut acc = [0i32; AVX_VNNI_ROWS * COLS];
        for jb in 0..n / COLS {
            for rb in (0..rows).step_by(AVX_VNNI_ROWS) {
                block(data.as_ptr().wrapping_add((r0 + rb) * k), k, w, jb, &mut acc);
                for r in 0..AVX_VNNI_ROWS.min(rows - rb) {
                    let row = r0 + rb + r;
                    // SAFETY: writes go to this task's rows of dst, row < t
                    // only; AVX2 is implied by either kernel.
                    unsafe {
                        let out = d.add((rb + r) * n + jb * COLS);
                        dequantize_avx2(
                            out,
                            acc[r * COLS..].as_ptr(),
                            COLS,
                            jb * COLS,
                            w,
                            a.scale[row],
                            a.zero[row],
                            init,
                        );
                    }
                }
            }
        }
    });
}

/// As `avx_vnni_block`, on AVX2: `vpmaddubsw` multiplies u8 × i8 and sums
/// adjacent pairs into i16 (exact, activations being ≤ 127), `vpmaddwd`
/// against ones sums those pairs into the i32 lanes `vpdpbusd` would give.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_block(a: *const u8, k: usize, w: &Int8Weight, jb: usize, acc: &mut [i32; AVX_VNNI_ROWS * COLS]) {
    let ones = _mm256_set1_epi16(1);
    let mut c = [[_mm256_setzero_si256(); 2]; AVX_VNNI_ROWS];
    for b in 0..k / K_BLOCK {
        let tile = w.tile(jb, b);
        for p in 0..K_BLOCK / 4 {
            let lo = _mm256_load_si256(tile.add(p * 64) as *const _);
            let hi = _mm256_load_si256(tile.add(p * 64 + 32) as *const _);
            for (r, cr) in c.iter_mut().enumerate() {
                let x = _mm256_set1_epi32((a.add(r * k + b * K_BLOCK + 4 * p) as *const i32).read_unaligned());
                cr[0] = _mm256_add_epi32(cr[0], _mm256_madd_epi16(_mm256_maddubs_epi16(x, lo), ones));
                cr[1] = _mm256_add_epi32(cr[1], _mm256_madd_epi16(_mm256_maddubs_epi16(x, hi), ones));
            }
        }
    }
    for (r, cr) in c.iter().enumerate() {
        _mm256_storeu_si256(acc.as_mut_ptr().add(r * COLS) as *mut _, cr[0]);
        _mm256_storeu_si256(acc.as_mut_ptr().add(r * COLS + 8) as *mut _, cr[1]);
    }
}

/// AVX_VNNI_ROWS rows of `a` times one weight tile (16 columns, two
/// 256-bit halves), over all of k.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,avxvnni")]
unsafe fn avx_vnni_block(a: *const u8, k: usize, w: &Int8Weight, jb: usize, acc: &mut [i32; AVX_VNNI_ROWS * COLS]) {
    let mut c = [[_mm256_setzero_si256(); 2]; AVX_VNNI_ROWS];
    for b in 0..k / K_BLOCK {
        let tile = w.tile(jb, b);
        for p in 0..K_BLOCK / 4 {
            let lo = _mm256_load_si256(tile.add(p * 64) as *const _);
            let hi = _mm256_load_si256(tile.add(p * 64 + 32) as *const _);
            for (r, cr) in c.iter_mut().enumerate() {
                let x = _mm256_set1_epi32((a.add(r * k + b * K_BLOCK + 4 * p) as *const i32).read_unaligned());
                cr[0] = _mm256_dpbusd_avx_epi32(cr[0], x, lo);
                cr[1] = _mm256_dpbusd_avx_epi32(cr[1], x, hi);
            }
        }
    }
    for (r, cr) in c.iter().enumerate() {
        _mm256_storeu_si256(acc.as_mut_ptr().add(r * COLS) as *mut _, cr[0]);
        _mm256_storeu_si256(acc.as_mut_ptr().add(r * COLS + 8) as *mut _, cr[1]);
    }
}

/// `dst (t × n) = init + x (t × k) · Wᵀ` in bf16 with f32 sums on AVX-512
/// BF16, for `--precision bf16` where AMX is absent. The caller has
/// checked `CpuFeatures::avx512_bf16`.
pub fn linear_bf16(dst: &mut [f32], x: &[f32], w: &PackedWeight, t: usize, init: Init) {
    let (n, k) = (w.n, w.k);
    assert!(dst.len() >= t * n && x.len() >= t * k);
    if let Init::Bias(b) = init {
        assert_eq!(b.len(), n, "one bias per output column");
    }
    thread_local! {
        static ROUNDED: std::cell::RefCell<Aligned<u16>> = std::cell::RefCell::new(Aligned::default());
    }
    ROUNDED.with_borrow_mut(|a| {
        let a = a.fit(t.next_multiple_of(BF16_ROWS) * k);
        a[..t * k].par_chunks_mut(k * 64).zip(x[..t * k].par_chunks(k * 64)).for_each(|(d, s)| {
            round_bf16(s, 1.0, d);
        });
        multiply_bf16(dst, a, w, t, init);
    });
}

fn multiply_bf16(dst: &mut [f32], a: &[u16], w: &PackedWeight, t: usize, init: Init) {
    #[cfg(target_arch = "x86_64")]
    {
        let (n, k) = (w.n, w.k);
        let nv = tiles_per_call(n);
        for_tasks(dst, n, t, |d, r0, rows| {
            for jb in (0..n / COLS).step_by(nv) {
                for rb in (0..rows).step_by(BF16_ROWS) {
                    let live = BF16_ROWS.min(rows - rb);
                    // SAFETY: AVX-512 BF16 was checked by the caller; reads
                    // stay in `a`'s padded rows and the tiles of column
                    // blocks jb..jb+nv; dst rows read and written are this
                    // task's, below t.
                    unsafe {
                        let ap = a.as_ptr().add((r0 + rb) * k);
                        let out = d.add(rb * n + jb * COLS);
                        if nv == 4 {
                            bf16_block::<4>(ap, k, w, jb, out, n, live, init);
                        } else {
                            bf16_block::<2>(ap, k, w, jb, out, n, live, init);
                        }
                    }
                }
            }
        });
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (dst, a, w, t, init);
        unreachable!("bf16 vector kernels are chosen only on x86-64");
    }
}

/// BF16_ROWS rows of `a` (bf16, row stride k) times NV weight tiles from
/// column block jb; the first `live` rows are written to `out` (row stride
/// n) from `init`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
#[allow(clippy::too_many_arguments)]
unsafe fn bf16_block<const NV: usize>(
    a: *const u16,
    k: usize,
    w: &PackedWeight,
    jb: usize,
    out: *mut f32,
    n: usize,
    live: usize,
    init: Init,
) {
    const PAIRS: usize = 16;
    let mut c = [[_mm512_setzero_ps(); NV]; BF16_ROWS];
    for b in 0..k / (2 * PAIRS) {
        let tiles: [*const u16; NV] = std::array::from_fn(|v| w.tile(jb + v, b));
        for p in 0..PAIRS {
            let wv: [__m512bh; NV] =
                std::array::from_fn(|v| std::mem::transmute(_mm512_load_si512(tiles[v].add(p * 32) as *const _)));
            for (r, cr) in c.iter_mut().enumerate() {
                let x = _mm512_set1_epi32((a.add(r * k + b * 2 * PAIRS + 2 * p) as *const i32).read_unaligned());
                let x: __m512bh = std::mem::transmute(x);
                for v in 0..NV {
                    cr[v] = _mm512_dpbf16_ps(cr[v], x, wv[v]);
                }
            }
        }
    }
    for (r, cr) in c.iter().enumerate().take(live) {
        for (v, &cv) in cr.iter().enumerate() {
            let o = out.add(r * n + v * COLS);
            let start = match init {
                Init::Bias(bias) => _mm512_loadu_ps(bias.as_ptr().add(jb * COLS + v * COLS)),
                Init::Accumulate => _mm512_loadu_ps(o),
                Init::Zero => _mm512_setzero_ps(),
            };
            _mm512_storeu_ps(o, _mm512_add_ps(start, cv));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::int8::{tests::check_kernel, Int8Kernel};
    use super::*;
    use crate::backend::cpu::CpuFeatures;

    #[test]
    #[cfg_attr(not(host_avx512_vnni), ignore = "this CPU has no AVX-512 VNNI")]
    fn vnni512_matches_f32_within_quantisation() {
        assert!(CpuFeatures::detect().avx512_vnni, "the build found AVX-512 VNNI, the run does not");
        check_kernel(Int8Kernel::Avx512Vnni);
    }

    #[test]
    #[cfg_attr(not(host_avx_vnni), ignore = "this CPU has no AVX-VNNI")]
    fn avx_vnni_matches_f32_within_quantisation() {
        assert!(CpuFeatures::detect().avx_vnni, "the build found AVX-VNNI, the run does not");
        check_kernel(Int8Kernel::AvxVnni);
    }

    #[test]
    #[cfg_attr(not(host_avx2), ignore = "this CPU has no AVX2")]
    fn avx2_matches_f32_within_quantisation() {
        assert!(CpuFeatures::detect().avx2, "the build found AVX2, the run does not");
        check_kernel(Int8Kernel::Avx2);
    }

    #[test]
    #[cfg_attr(not(host_avx512_bf16), ignore = "this CPU has no AVX-512 BF16")]
    fn bf16_matches_f32_within_rounding() {
        assert!(CpuFeatures::detect().avx512_bf16, "the build found AVX-512 BF16, the run does not");
        // n = 96 takes the two-tile kernel, 64 and 128 the four-tile one;
        // t = 70 and 7 leave partial row blocks.
        for (t, k, n) in [(70, 64, 64), (7, 96, 96), (53, 128, 128)] {
            let x: Vec<f32> = (0..t * k).map(|i| ((i * 7919 % 97) as f32 - 48.0) / 50.0).collect();
            let w: Vec<f32> = (0..n * k).map(|i| ((i * 104_729 % 89) as f32 - 44.0) / 60.0).collect();
            let packed = PackedWeight::new(&w, n, k).unwrap();
            let bias: Vec<f32> = (0..n).map(|j| j as f32 / 10.0 - 3.0).collect();
            let mut acc = vec![1.0f32; t * n];
            linear_bf16(&mut acc, &x, &packed, t, Init::Accumulate);
            let mut biased = vec![f32::NAN; t * n];
            linear_bf16(&mut biased, &x, &packed, t, Init::Bias(&bias));
            let mut bare = vec![f32::NAN; t * n];
            linear_bf16(&mut bare, &x, &packed, t, Init::Zero);
            for i in 0..t {
                for j in 0..n {
                    let product: f32 = (0..k).map(|q| x[i * k + q] * w[j * k + q]).sum::<f32>();
                    let scale: f32 = (0..k).map(|q| (x[i * k + q] * w[j * k + q]).abs()).sum::<f32>();
                    let tol = 0.01 * scale + 1e-3;
                    assert!((acc[i * n + j] - (1.0 + product)).abs() <= tol, "accumulate ({i},{j})");
                    assert!((biased[i * n + j] - (bias[j] + product)).abs() <= tol, "bias ({i},{j})");
                    assert!((bare[i * n + j] - product).abs() <= tol, "zero ({i},{j})");
                }
            }
        }
    }
}
