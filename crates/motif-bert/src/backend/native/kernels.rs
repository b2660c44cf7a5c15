//! Element-wise kernels, written as plain loops that LLVM vectorises, and
//! compiled three times (AVX-512, AVX2+FMA, baseline) with the best chosen
//! at run time, so one binary runs everywhere and fast where it can.
//!
//! Also the pieces both the f32 path (`native`) and the bf16 path (`amx`)
//! share: how a linear layer's output starts (`Init`), 64-byte aligned
//! buffers (`Aligned`) and the f32 → bf16 rounding (`to_bf16`). Nothing
//! here imports either of them.

/// How a linear layer's output starts before the product is added.
#[derive(Clone, Copy)]
pub enum Init<'a> {
    /// `dst = bias + x·Wᵀ`.
    Bias(&'a [f32]),
    /// `dst += x·Wᵀ` (the residual stream).
    Accumulate,
    /// `dst = x·Wᵀ`, dst not read: the bias is added by the pass that
    /// reads the product next (attention, GELU), which saves a pass that
    /// would fill dst with it.
    Zero,
}

/// A growable buffer of plain numbers (f32, u16) starting on a 64-byte
/// boundary. Tile loads and stores of rows that straddle cache lines ran
/// 2-3× slower here (measured with a probe of tileloadd alone), and `Vec`
/// only promises the element's alignment.
pub struct Aligned<T> {
    lines: Vec<Line>,
    len: usize,
    _t: std::marker::PhantomData<T>,
}

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

impl<T: Copy> Default for Aligned<T> {
    fn default() -> Self {
        Aligned { lines: Vec::new(), len: 0, _t: std::marker::PhantomData }
    }
}

impl<T: Copy> Aligned<T> {
    /// `len` zeroed values.
    pub fn zeroed(len: usize) -> Self {
        let mut a = Self::default();
        a.fit(len);
        a
    }

    /// The first `len` values, growing (with zeros) when needed; values
    /// already there are kept.
    pub fn fit(&mut self, len: usize) -> &mut [T] {
        let lines = (len * std::mem::size_of::<T>()).div_ceil(64);
        if self.lines.len() < lines {
            self.lines.resize(lines, Line([0; 64]));
        }
        self.len = self.len.max(len);
        // SAFETY: the lines hold at least len values of T (a plain number
        // type, for which zero bytes are a valid value), 64-byte aligned.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr() as *mut T, len) }
    }

    pub fn as_slice(&self) -> &[T] {
        // SAFETY: as in `fit`; len values were made available.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr() as *const T, self.len) }
    }
}

/// f32 → bf16 bits, rounding to nearest even; a NaN stays a NaN (quiet,
/// sign kept) and ±inf stay ±inf.
#[inline(always)]
pub fn to_bf16(x: f32) -> u16 {
    half::bf16::from_f32(x).to_bits()
}

macro_rules! multiversion {
    ($(#[$doc:meta])* pub fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        pub fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn imp($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { imp($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { imp($($arg),*) }
                if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bw") {
                    // SAFETY: the features were detected on this CPU.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: as above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            imp($($arg),*)
        }
    };
}

/// erf for |x| ≤ 4 (±1 beyond) as a rational function: Eigen's and
/// TensorFlow's coefficients, max error ~1e-7 in f32.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10_f32;
    p = p.mul_add(x2, 2.770_681_4e-8);
    p = p.mul_add(x2, -2.101_024e-6);
    p = p.mul_add(x2, -5.692_506_4e-5);
    p = p.mul_add(x2, -7.349_906_3e-4);
    p = p.mul_add(x2, -2.954_600_1e-3);
    p = p.mul_add(x2, -1.609_603_3e-2);
    let mut q = -1.456_607_2e-5_f32;
    q = q.mul_add(x2, -2.133_740_6e-4);
    q = q.mul_add(x2, -1.682_827e-3);
    q = q.mul_add(x2, -7.373_329_3e-3);
    q = q.mul_add(x2, -1.426_473_9e-2);
    x * p / q
}

/// ln 2 in two parts (high part exact in few bits) for `exp`'s range
/// reduction, and Cephes' polynomial for e^r on |r| ≤ ln 2 / 2.
const EXP_LN2: [f32; 2] = [0.693_359_4, -2.121_944_4e-4];
const EXP_POLY: [f32; 6] = [1.987_569_1e-4, 1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 5e-1];

/// e^x, Cephes' polynomial after range reduction by ln 2 (~1 ulp).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // Round to nearest by the 1.5·2^23 trick, which vectorises.
    let shifted = x * std::f32::consts::LOG2_E + 12_582_912.0;
    let n = shifted - 12_582_912.0;
    let r = n.mul_add(-EXP_LN2[0], x);
    let r = n.mul_add(-EXP_LN2[1], r);
    let mut y = EXP_POLY[0];
    for c in &EXP_POLY[1..] {
        y = y.mul_add(r, *c);
    }
    let y = (y * r).mul_add(r, r) + 1.0;
    // The shifted float's low bits hold n (+0x4B40_0000): 2^n from
    // integer ops alone, which vectorise where `n as i32` does not.
    let two_n = shifted.to_bits().wrapping_sub(0x4B40_0000).wrapping_add(127) << 23;
    y * f32::from_bits(two_n)
}

/// Exact (erf) GELU: x·½(1 + erf(x/√2)).
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

multiversion! {
    /// GELU in place of rows of `bias.len()` values with the bias added
    /// first (the up projection's, left out of its multiply).
    pub fn gelu_bias(xs: &mut [f32], bias: &[f32]) {
        for row in xs.chunks_exact_mut(bias.len()) {
            for (x, &b) in row.iter_mut().zip(bias) {
                *x = gelu(*x + b);
            }
        }
    }
}

/// Sum with 16 independent accumulators: a plain `sum()` is one serial
/// chain of adds, which the compiler may not reorder into vectors.
#[inline(always)]
fn lane_sum(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let chunks = xs.chunks_exact(16);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for i in 0..16 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `op` folded over `xs` in 16 independent lanes (so the compiler keeps
/// them in one vector register), then across the lanes and the tail.
#[inline(always)]
fn lane_fold(xs: &[f32], identity: f32, op: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [identity; 16];
    let chunks = xs.chunks_exact(16);
    let tail = chunks.remainder().iter().fold(identity, |m, &v| op(m, v));
    for c in chunks {
        for i in 0..16 {
            acc[i] = op(acc[i], c[i]);
        }
    }
    acc.iter().fold(tail, |m, &v| op(m, v))
}

#[inline(always)]
fn lane_max(xs: &[f32]) -> f32 {
    lane_fold(xs, f32::NEG_INFINITY, f32::max)
}

#[inline(always)]
fn lane_min(xs: &[f32]) -> f32 {
    lane_fold(xs, f32::INFINITY, f32::min)
}

multiversion! {
    /// Softmax of one row without the division: the row is left holding
    /// exp(x - max) and 1 / their sum is returned, which the weighted sum
    /// applies to its output row (one multiply per head column instead
    /// of a pass over the row).
    pub fn softmax_exp(row: &mut [f32]) -> f32 {
        let max = lane_max(row);
        for v in row.iter_mut() {
            *v = exp(*v - max);
        }
        1.0 / lane_sum(row)
    }
}

multiversion! {
    /// GELU of `xs` written rounded to bf16 into `out` (`xs` unchanged).
    pub fn gelu_bf16(xs: &mut [f32], out: &mut [u16]) {
        for (o, &x) in out.iter_mut().zip(xs.iter()) {
            *o = to_bf16(gelu(x));
        }
    }
}

multiversion! {
    /// `dst = bf16(scale · src)`, rounding to nearest even.
    pub fn round_bf16(src: &[f32], scale: f32, dst: &mut [u16]) {
        for (d, &x) in dst.iter_mut().zip(src) {
            *d = to_bf16(x * scale);
        }
    }
}

multiversion! {
    /// One row quantised to 0..=top over its own range (asymmetric;
    /// top is 255, or 127 where products are summed in i16 pairs):
    /// `x ≈ scale · (q - zero)`. The range always holds 0, so a zero stays
    /// exactly zero. Returns (scale, zero).
    pub fn quantize_row(src: &[f32], dst: &mut [u8], top: f32) -> (f32, i32) {
        let (lo, hi) = (lane_min(src).min(0.0), lane_max(src).max(0.0));
        let scale = if hi > lo { (hi - lo) / top } else { 1.0 };
        let inv = 1.0 / scale;
        let zero = (-lo * inv).round_ties_even().clamp(0.0, top);
        for (d, &x) in dst.iter_mut().zip(src) {
            *d = (x * inv + zero).round_ties_even().clamp(0.0, top) as u8;
        }
        (scale, zero as i32)
    }
}

multiversion! {
    /// Softmax of one row, written rounded to bf16 into `out`; `row` is
    /// left holding the exponentials.
    pub fn softmax_bf16(row: &mut [f32], out: &mut [u16]) {
        let max = lane_max(row);
        for v in row.iter_mut() {
            *v = exp(*v - max);
        }
        let inv = 1.0 / lane_sum(row);
        for (o, &v) in out.iter_mut().zip(row.iter()) {
            *o = to_bf16(v * inv);
        }
    }
}

multiversion! {
    /// LayerNorm of every row (width `w.len()`) in place, after adding
    /// `bias` to each row when given (the preceding layer's bias).
    pub fn layer_norm_rows(xs: &mut [f32], width: usize, bias: Option<&[f32]>, w: &[f32], b: &[f32], eps: f32, rounded: Option<&mut [u16]>) {
        let mut rounded = rounded.map(|r| r.chunks_exact_mut(width));
        for row in xs.chunks_exact_mut(width) {
            if let Some(bias) = bias {
                row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
            }
            let mean = lane_sum(row) / width as f32;
            row.iter_mut().for_each(|v| *v -= mean);
            let mut sq = [0.0f32; 16];
            let chunks = row.chunks_exact(16);
            let tail: f32 = chunks.remainder().iter().map(|v| v * v).sum();
            for c in chunks {
                for i in 0..16 {
                    sq[i] += c[i] * c[i];
                }
            }
            let var = (sq.iter().sum::<f32>() + tail) / width as f32;
            let inv = 1.0 / (var + eps).sqrt();
            for j in 0..width {
                row[j] = row[j] * inv * w[j] + b[j];
            }
            if let Some(out) = rounded.as_mut().and_then(|r| r.next()) {
                for (o, &v) in out.iter_mut().zip(row.iter()) {
                    *o = to_bf16(v);
                }
            }
        }
    }
}

/// Per-task buffers of `attend`, kept across calls.
#[derive(Default)]
pub struct HeadScratch {
    q: Vec<f32>,
    kt: Vec<f32>,
    v: Vec<f32>,
    s: Vec<f32>,
    inv: Vec<f32>,
}

fn fit(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

/// One attention head of one sequence, read in place: `len` rows of
/// `hd` values each for Q, K and V, rows `stride` values apart.
#[derive(Clone, Copy)]
pub struct Head {
    pub q: *const f32,
    pub k: *const f32,
    pub v: *const f32,
    pub stride: usize,
    pub len: usize,
    pub hd: usize,
    /// Applied to the scores: 1/√hd.
    pub scale: f32,
    /// The head's Q bias when the projection left it out; its K and V
    /// biases follow at `+h` and `+2h` like the fused columns (`stride`
    /// is `3h`). Q's is added to the Q copy; K's shifts every score of
    /// a row by the same q·b, which softmax cancels, so it is skipped;
    /// V's is added to the output, the probabilities summing to one.
    pub bias: Option<*const f32>,
    /// MPNet: the head's bias by distance, at distance 0 (`arch::RelativeBias`):
    /// score (query i, key j) gains `*relative.offset(j − i)`.
    pub relative: Option<*const f32>,
}

impl Head {
    /// Head `index` of a sequence whose first row of the fused Q|K|V
    /// projection (3·h values) starts at `row0`.
    ///
    /// # Safety
    /// `row0` must point into the projection with `len` rows after it.
    pub unsafe fn in_fused(row0: *const f32, h: usize, heads: usize, index: usize, len: usize) -> Head {
        let hd = h / heads;
        let q = row0.add(index * hd);
        Head {
            q,
            k: q.add(h),
            v: q.add(2 * h),
            stride: 3 * h,
            len,
            hd,
            scale: 1.0 / (hd as f32).sqrt(),
            bias: None,
            relative: None,
        }
    }
}

/// One attention head over one sequence: softmax(scale·Q·Kᵀ)·V, the
/// output rows written at `out_stride`.
///
/// Heads are small (L ≤ 512 rows of 32-64 values), where a general GEMM
/// spends more time packing than multiplying; these register-blocked
/// loops (4 rows × 32 keys, 4 rows × the head width) work in place.
///
/// # Safety
/// The head's rows must be readable and `dst` writable for `len` rows of
/// `hd` at `out_stride`.
pub unsafe fn attend(head: &Head, dst: *mut f32, out_stride: usize, scratch: &mut HeadScratch) {
    let wide = avx512::usable() && head.stride * 16 < i32::MAX as usize;
    attend_on(head, dst, out_stride, scratch, wide)
}

/// `attend` on the AVX-512 kernels (`wide`) or the plain ones, which
/// serve other CPUs (tests run both).
///
/// # Safety
/// As `attend`; `wide` only where `avx512::usable()` and 16·stride < 2³¹.
pub(crate) unsafe fn attend_on(head: &Head, dst: *mut f32, out_stride: usize, scratch: &mut HeadScratch, wide: bool) {
    let Head { q, k, v, stride, len, hd, scale, bias, relative } = *head;
    let lp = len.next_multiple_of(32);
    let rp = len.next_multiple_of(4);
    let q_bias = bias.map(|b| std::slice::from_raw_parts(b, hd));
    let v_bias = bias.map(|b| std::slice::from_raw_parts(b.add(2 * (stride / 3)), hd));
    // Q rows are copied (biased, scaled), K transposed so that scores
    // run along keys in vectors, and V rows copied: read in place, rows
    // 3h apart fall into a few L1 sets and evict each other on every
    // pass of the weighted sum.
    let qs = fit(&mut scratch.q, rp * hd);
    qs[len * hd..].fill(0.0);
    let kt = fit(&mut scratch.kt, hd * lp);
    let vs = fit(&mut scratch.v, len * hd);
    if wide {
        // SAFETY: AVX-512F is present; K has len rows of hd at stride,
        // kt holds hd rows of lp ≥ len.
        avx512::transpose(k, stride, len, hd, kt, lp);
    } else {
        for r in 0..len {
            for d in 0..hd {
                kt[d * lp + r] = *k.add(r * stride + d);
            }
        }
        for d in 0..hd {
            kt[d * lp + len..(d + 1) * lp].fill(0.0);
        }
    }
    for r in 0..len {
        let row = |p: *const f32| std::slice::from_raw_parts(p.add(r * stride), hd);
        let qr = &mut qs[r * hd..(r + 1) * hd];
        match q_bias {
            Some(b) => qr.iter_mut().zip(row(q)).zip(b).for_each(|((d, &x), &b)| *d = (x + b) * scale),
            None => qr.iter_mut().zip(row(q)).for_each(|(d, &x)| *d = x * scale),
        }
        vs[r * hd..(r + 1) * hd].copy_from_slice(row(v));
    }
    let s = fit(&mut scratch.s, rp * lp);
    if wide {
        // SAFETY: AVX-512F is present; q holds rp rows of hd, kt hd rows
        // of lp (a multiple of 32), s rp rows of lp.
        avx512::scores(qs, kt, s, rp, lp, hd);
    } else {
        scores(qs, kt, s, rp, lp, hd);
    }
    if let Some(bias) = relative {
        // Added to the scaled scores before softmax, as MPNetSelfAttention does.
        for (i, row) in s.chunks_exact_mut(lp).take(len).enumerate() {
            let by_distance = std::slice::from_raw_parts(bias.sub(i), len);
            row[..len].iter_mut().zip(by_distance).for_each(|(s, b)| *s += b);
        }
    }
    let inv = fit(&mut scratch.inv, rp);
    for (row, inv) in s.chunks_exact_mut(lp).zip(inv.iter_mut()).take(len) {
        *inv = if wide {
            // SAFETY: AVX-512F is present.
            avx512::softmax_exp(&mut row[..len])
        } else {
            softmax_exp(&mut row[..len])
        };
    }
    let out = std::slice::from_raw_parts_mut(dst, (len - 1) * out_stride + hd);
    match hd {
        // SAFETY (both): AVX-512F is present; p holds rp rows of lp (rp a
        // multiple of 4 ≥ len), v len rows of hd, out len rows at out_stride.
        32 if wide => avx512::weighted_sum::<32, 2>(s, vs, inv, v_bias, out, len, lp, out_stride),
        64 if wide => avx512::weighted_sum::<64, 4>(s, vs, inv, v_bias, out, len, lp, out_stride),
        32 => weighted_sum_32(s, vs, inv, v_bias, out, len, lp, out_stride),
        64 => weighted_sum_64(s, vs, inv, v_bias, out, len, lp, out_stride),
        _ => weighted_sum_any(s, vs, inv, v_bias, out, len, lp, hd, out_stride),
    }
}

/// The two attention products in AVX-512 intrinsics. Written out
/// because the compiler, vectorising the plain loops, reloaded each
/// vector of K or V from memory once per row of the block (twelve loads
/// for eight FMAs) and checked bounds in the inner loop.
#[cfg(target_arch = "x86_64")]
pub mod avx512 {
    use std::arch::x86_64::*;

    pub fn usable() -> bool {
        std::arch::is_x86_feature_detected!("avx512f")
    }

    /// s (rp × lp) = q (rp × hd) · kt (hd × lp): blocks of 8 (then 4)
    /// rows × 32 columns, 16 (8) accumulators.
    ///
    /// # Safety
    /// AVX-512F must be present; rp a multiple of 4, lp of 32, and the
    /// slices at least rp·hd, hd·lp and rp·lp long.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn scores(q: &[f32], kt: &[f32], s: &mut [f32], rp: usize, lp: usize, hd: usize) {
        assert!(
            rp.is_multiple_of(4)
                && lp.is_multiple_of(32)
                && q.len() >= rp * hd
                && kt.len() >= hd * lp
                && s.len() >= rp * lp
        );
        let mut i0 = 0;
        while i0 + 8 <= rp {
            scores_block::<8>(q.as_ptr().add(i0 * hd), kt.as_ptr(), s.as_mut_ptr().add(i0 * lp), lp, hd);
            i0 += 8;
        }
        while i0 < rp {
            scores_block::<4>(q.as_ptr().add(i0 * hd), kt.as_ptr(), s.as_mut_ptr().add(i0 * lp), lp, hd);
            i0 += 4;
        }
    }

    /// kt (hd × lp) = Kᵀ, K being len rows of hd values `stride` apart,
    /// columns past len zero: 16 keys per masked gather instead of one
    /// scalar store per value.
    ///
    /// # Safety
    /// AVX-512F must be present; K readable for len rows at `stride`
    /// (with 16·stride < 2³¹), kt at least hd·lp with lp ≥ len a
    /// multiple of 16.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn transpose(k: *const f32, stride: usize, len: usize, hd: usize, kt: &mut [f32], lp: usize) {
        assert!(lp >= len && lp.is_multiple_of(16) && kt.len() >= hd * lp);
        let lanes = _mm512_mullo_epi32(
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            _mm512_set1_epi32(stride as i32),
        );
        for r0 in (0..lp).step_by(16) {
            let rows = len.saturating_sub(r0).min(16);
            if rows == 0 {
                for d in 0..hd {
                    _mm512_storeu_ps(kt.as_mut_ptr().add(d * lp + r0), _mm512_setzero_ps());
                }
                continue;
            }
            let mask: __mmask16 = if rows == 16 { 0xFFFF } else { (1u16 << rows) - 1 };
            let base = k.add(r0 * stride);
            for d in 0..hd {
                let col = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), mask, lanes, base.add(d));
                _mm512_storeu_ps(kt.as_mut_ptr().add(d * lp + r0), col);
            }
        }
    }

    /// `kernels::softmax_exp` (same exp, same result) with the row's
    /// tail in masked vectors: rows are short (tens of keys), where
    /// the scalar tail and the two horizontal reductions cost as much
    /// as the exponentials.
    ///
    /// # Safety
    /// AVX-512F must be present.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn softmax_exp(row: &mut [f32]) -> f32 {
        let n = row.len();
        let ptr = row.as_mut_ptr();
        let mask = |i: usize| -> __mmask16 {
            if n - i >= 16 {
                0xFFFF
            } else {
                (1u16 << (n - i)) - 1
            }
        };
        let mut max = _mm512_set1_ps(f32::NEG_INFINITY);
        for i in (0..n).step_by(16) {
            max = _mm512_mask_max_ps(max, mask(i), max, _mm512_maskz_loadu_ps(mask(i), ptr.add(i)));
        }
        let max = _mm512_set1_ps(_mm512_reduce_max_ps(max));
        let mut sum = _mm512_setzero_ps();
        for i in (0..n).step_by(16) {
            let m = mask(i);
            let e = exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, ptr.add(i)), max));
            _mm512_mask_storeu_ps(ptr.add(i), m, e);
            sum = _mm512_mask_add_ps(sum, m, sum, e);
        }
        1.0 / _mm512_reduce_add_ps(sum)
    }

    /// `kernels::exp` on 16 lanes.
    #[inline(always)]
    unsafe fn exp(x: __m512) -> __m512 {
        use super::{EXP_LN2, EXP_POLY};
        let x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0)), _mm512_set1_ps(88.0));
        let magic = _mm512_set1_ps(12_582_912.0);
        let shifted = _mm512_fmadd_ps(x, _mm512_set1_ps(std::f32::consts::LOG2_E), magic);
        let n = _mm512_sub_ps(shifted, magic);
        let r = _mm512_fmadd_ps(n, _mm512_set1_ps(-EXP_LN2[0]), x);
        let r = _mm512_fmadd_ps(n, _mm512_set1_ps(-EXP_LN2[1]), r);
        let mut y = _mm512_set1_ps(EXP_POLY[0]);
        for c in &EXP_POLY[1..] {
            y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(*c));
        }
        let y = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(y, r), r, r), _mm512_set1_ps(1.0));
        let bits = _mm512_slli_epi32::<23>(_mm512_add_epi32(
            _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x4B40_0000)),
            _mm512_set1_epi32(127),
        ));
        _mm512_mul_ps(y, _mm512_castsi512_ps(bits))
    }

    #[inline(always)]
    unsafe fn scores_block<const R: usize>(q: *const f32, kt: *const f32, s: *mut f32, lp: usize, hd: usize) {
        for j0 in (0..lp).step_by(32) {
            let mut acc = [[_mm512_setzero_ps(); 2]; R];
            let mut k = kt.add(j0);
            for d in 0..hd {
                let k0 = _mm512_loadu_ps(k);
                let k1 = _mm512_loadu_ps(k.add(16));
                for (r, a) in acc.iter_mut().enumerate() {
                    let qv = _mm512_set1_ps(*q.add(r * hd + d));
                    a[0] = _mm512_fmadd_ps(qv, k0, a[0]);
                    a[1] = _mm512_fmadd_ps(qv, k1, a[1]);
                }
                k = k.add(lp);
            }
            for (r, a) in acc.iter().enumerate() {
                _mm512_storeu_ps(s.add(r * lp + j0), a[0]);
                _mm512_storeu_ps(s.add(r * lp + j0 + 16), a[1]);
            }
        }
    }

    /// out row i = inv[i] · p (first len columns) · v (len × HD) + bias,
    /// HD = 16·V: blocks of 8 (V ≤ 2) or 4 rows.
    ///
    /// # Safety
    /// AVX-512F must be present; p holds rp rows of lp with rp the
    /// next multiple of 4 of len (rows past len are read, finite, and
    /// dropped), v len rows of HD, bias HD values, out len rows of HD
    /// at out_stride.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn weighted_sum<const HD: usize, const V: usize>(
        p: &[f32],
        v: &[f32],
        inv: &[f32],
        bias: Option<&[f32]>,
        out: &mut [f32],
        len: usize,
        lp: usize,
        out_stride: usize,
    ) {
        let rp = len.next_multiple_of(4);
        assert!(
            HD == 16 * V
                && p.len() >= rp * lp
                && v.len() >= len * HD
                && bias.is_none_or(|b| b.len() == HD)
                && inv.len() >= len
        );
        assert!(out.len() >= (len - 1) * out_stride + HD);
        let mut i0 = 0;
        if V <= 2 {
            while i0 + 8 <= rp {
                weighted_block::<8, V>(p, v, inv, bias, out, i0, len, lp, out_stride);
                i0 += 8;
            }
        }
        while i0 < rp {
            weighted_block::<4, V>(p, v, inv, bias, out, i0, len, lp, out_stride);
            i0 += 4;
        }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn weighted_block<const R: usize, const V: usize>(
        p: &[f32],
        v: &[f32],
        inv: &[f32],
        bias: Option<&[f32]>,
        out: &mut [f32],
        i0: usize,
        len: usize,
        lp: usize,
        out_stride: usize,
    ) {
        let mut acc = [[_mm512_setzero_ps(); V]; R];
        let (pp, vp) = (p.as_ptr().add(i0 * lp), v.as_ptr());
        for j in 0..len {
            let mut vr = [_mm512_setzero_ps(); V];
            for (c, x) in vr.iter_mut().enumerate() {
                *x = _mm512_loadu_ps(vp.add(j * 16 * V + 16 * c));
            }
            for (r, a) in acc.iter_mut().enumerate() {
                let w = _mm512_set1_ps(*pp.add(r * lp + j));
                for c in 0..V {
                    a[c] = _mm512_fmadd_ps(w, vr[c], a[c]);
                }
            }
        }
        for (r, a) in acc.iter().enumerate().take(len.saturating_sub(i0)) {
            let scale = _mm512_set1_ps(inv[i0 + r]);
            let o = out.as_mut_ptr().add((i0 + r) * out_stride);
            for (c, &a) in a.iter().enumerate() {
                let b = bias.map_or(_mm512_setzero_ps(), |b| _mm512_loadu_ps(b.as_ptr().add(16 * c)));
                _mm512_storeu_ps(o.add(16 * c), _mm512_fmadd_ps(a, scale, b));
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub mod avx512 {
    pub fn usable() -> bool {
        false
    }
    pub unsafe fn softmax_exp(_: &mut [f32]) -> f32 {
        unreachable!("no AVX-512 off x86-64")
    }
    pub unsafe fn transpose(_: *const f32, _: usize, _: usize, _: usize, _: &mut [f32], _: usize) {
        unreachable!("no AVX-512 off x86-64")
    }
    pub unsafe fn scores(_: &[f32], _: &[f32], _: &mut [f32], _: usize, _: usize, _: usize) {
        unreachable!("no AVX-512 off x86-64")
    }
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn weighted_sum<const HD: usize, const V: usize>(
        _: &[f32],
        _: &[f32],
        _: &[f32],
        _: Option<&[f32]>,
        _: &mut [f32],
        _: usize,
        _: usize,
        _: usize,
    ) {
        unreachable!("no AVX-512 off x86-64")
    }
}

multiversion! {
    /// s (rp × lp) = q (rp × hd) · kt (hd × lp), 4 rows × 32 columns at a
    /// time: eight independent accumulators, enough to hide the FMA
    /// latency that four (4 × 16) left exposed.
    pub fn scores(q: &[f32], kt: &[f32], s: &mut [f32], rp: usize, lp: usize, hd: usize) {
        for i0 in (0..rp).step_by(4) {
            for j0 in (0..lp).step_by(32) {
                let mut acc = [[0.0f32; 32]; 4];
                for d in 0..hd {
                    let kv: &[f32; 32] = kt[d * lp + j0..d * lp + j0 + 32].try_into().expect("32 lanes");
                    for r in 0..4 {
                        let qv = q[(i0 + r) * hd + d];
                        for c in 0..32 {
                            acc[r][c] = qv.mul_add(kv[c], acc[r][c]);
                        }
                    }
                }
                for r in 0..4 {
                    s[(i0 + r) * lp + j0..(i0 + r) * lp + j0 + 32].copy_from_slice(&acc[r]);
                }
            }
        }
    }
}

/// out row i = inv[i] · p (len × lp, first len columns) · v (len × HD)
/// + v_bias, 4 rows at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weighted_sum<const HD: usize>(
    p: &[f32],
    v: &[f32],
    inv: &[f32],
    v_bias: Option<&[f32]>,
    out: &mut [f32],
    len: usize,
    lp: usize,
    out_stride: usize,
) {
    for i0 in (0..len).step_by(4) {
        let rows = (len - i0).min(4);
        let mut acc = [[0.0f32; HD]; 4];
        for j in 0..len {
            let vr: &[f32; HD] = v[j * HD..(j + 1) * HD].try_into().expect("a row of V");
            for r in 0..4 {
                // Rows past `len` read p's padding rows, finite and unused.
                let w = p[(i0 + r) * lp + j];
                for c in 0..HD {
                    acc[r][c] = w.mul_add(vr[c], acc[r][c]);
                }
            }
        }
        for (r, a) in acc.iter().enumerate().take(rows) {
            let row = &mut out[(i0 + r) * out_stride..(i0 + r) * out_stride + HD];
            row.iter_mut().zip(a).for_each(|(o, &a)| *o = a * inv[i0 + r]);
            if let Some(b) = v_bias {
                row.iter_mut().zip(b).for_each(|(o, &b)| *o += b);
            }
        }
    }
}

multiversion! {
    pub fn weighted_sum_32(p: &[f32], v: &[f32], inv: &[f32], v_bias: Option<&[f32]>, out: &mut [f32], len: usize, lp: usize, out_stride: usize) {
        weighted_sum::<32>(p, v, inv, v_bias, out, len, lp, out_stride)
    }
}

multiversion! {
    pub fn weighted_sum_64(p: &[f32], v: &[f32], inv: &[f32], v_bias: Option<&[f32]>, out: &mut [f32], len: usize, lp: usize, out_stride: usize) {
        weighted_sum::<64>(p, v, inv, v_bias, out, len, lp, out_stride)
    }
}

#[allow(clippy::too_many_arguments)]
fn weighted_sum_any(
    p: &[f32],
    v: &[f32],
    inv: &[f32],
    v_bias: Option<&[f32]>,
    out: &mut [f32],
    len: usize,
    lp: usize,
    hd: usize,
    out_stride: usize,
) {
    for i in 0..len {
        let row = &mut out[i * out_stride..i * out_stride + hd];
        match v_bias {
            Some(b) => row.copy_from_slice(b),
            None => row.fill(0.0),
        }
        for j in 0..len {
            let w = p[i * lp + j] * inv[i];
            for c in 0..hd {
                row[c] += w * v[j * hd + c];
            }
        }
    }
}

/// Q, K, V rows for one head, interleaved at a stride like the fused
/// projection's, with values in [-1, 1).
#[cfg(test)]
pub(crate) fn test_qkv(len: usize, hd: usize) -> (Vec<f32>, usize) {
    let stride = 3 * hd + 5;
    ((0..len * stride).map(|i| ((i * 7919) % 61) as f32 / 30.0 - 1.0).collect(), stride)
}

/// The head `test_qkv` lays out: Q, K, V side by side in each row.
#[cfg(test)]
pub(crate) fn test_head(qkv: &[f32], stride: usize, len: usize, hd: usize) -> Head {
    let q = qkv.as_ptr();
    // SAFETY: offsets inside the first row of qkv.
    let (k, v) = unsafe { (q.add(hd), q.add(2 * hd)) };
    Head { q, k, v, stride, len, hd, scale: 1.0 / (hd as f32).sqrt(), bias: None, relative: None }
}

/// softmax(scale·Q·Kᵀ)·V in f64, straight from the formula (len × hd).
#[cfg(test)]
pub(crate) fn naive_attention(qkv: &[f32], stride: usize, len: usize, hd: usize, scale: f32) -> Vec<f64> {
    naive_attention_with(qkv, stride, len, hd, scale, &|_| 0.0)
}

/// `naive_attention` with `relative(j − i)` added to each score (MPNet).
#[cfg(test)]
pub(crate) fn naive_attention_with(
    qkv: &[f32],
    stride: usize,
    len: usize,
    hd: usize,
    scale: f32,
    relative: &dyn Fn(i64) -> f64,
) -> Vec<f64> {
    let at = |r: usize, part: usize, d: usize| qkv[r * stride + part * hd + d] as f64;
    let mut out = Vec::with_capacity(len * hd);
    for i in 0..len {
        let scores: Vec<f64> = (0..len)
            .map(|j| {
                (0..hd).map(|d| at(i, 0, d) * at(j, 1, d)).sum::<f64>() * scale as f64 + relative(j as i64 - i as i64)
            })
            .collect();
        let max = scores.iter().cloned().fold(f64::MIN, f64::max);
        let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        out.extend((0..hd).map(|d| (0..len).map(|j| e[j] / sum * at(j, 2, d)).sum::<f64>()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// bf16 from f32 rounds to nearest even and keeps NaN a NaN and inf an
    /// inf, whatever the sign (a carry out of the mantissa must not turn a
    /// NaN into inf, nor a negative NaN overflow).
    #[test]
    fn to_bf16_rounds_to_nearest_even_and_keeps_nan_and_inf() {
        let back = |b: u16| f32::from_bits((b as u32) << 16);
        for nan in
            [f32::NAN, -f32::NAN, f32::from_bits(0x7FFF_FFFF), f32::from_bits(0xFFFF_FFFF), f32::from_bits(0x7F80_0001)]
        {
            assert!(back(to_bf16(nan)).is_nan(), "{:#010x} must stay NaN, got {:#06x}", nan.to_bits(), to_bf16(nan));
            assert_eq!(to_bf16(nan) >> 15, (nan.to_bits() >> 31) as u16, "the sign of {:#010x} is kept", nan.to_bits());
        }
        assert_eq!(to_bf16(f32::INFINITY), 0x7F80);
        assert_eq!(to_bf16(f32::NEG_INFINITY), 0xFF80);
        // The largest finite f32 is past bf16's largest finite: rounds to inf.
        assert_eq!(to_bf16(f32::MAX), 0x7F80);
        assert_eq!(to_bf16(1.0), 0x3F80);
        assert_eq!(to_bf16(-2.5), 0xC020);
        // 1 + 2^-8 lies halfway between bf16's 1 and 1 + 2^-7: the even one (1).
        assert_eq!(to_bf16(f32::from_bits(0x3F80_8000)), 0x3F80);
        // 1 + 3·2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6: up, to even.
        assert_eq!(to_bf16(f32::from_bits(0x3F81_8000)), 0x3F82);
        // Just past halfway rounds up; just below rounds down.
        assert_eq!(to_bf16(f32::from_bits(0x3F80_8001)), 0x3F81);
        assert_eq!(to_bf16(f32::from_bits(0x3F80_7FFF)), 0x3F80);
        // The multiversioned pass rounds as the scalar does.
        let xs = [1.0f32, f32::from_bits(0x3F81_8000), f32::NAN, -0.0, f32::NEG_INFINITY, 3.3];
        let mut out = [0u16; 6];
        round_bf16(&xs, 1.0, &mut out);
        for (x, o) in xs.iter().zip(out) {
            assert_eq!(o, to_bf16(*x), "{x}");
        }
    }

    #[test]
    fn erf_and_exp_are_accurate() {
        let mut worst_erf = 0.0f64;
        let mut worst_exp = 0.0f64;
        for i in -6000..6000 {
            let x = i as f32 / 1000.0;
            worst_erf = worst_erf.max((erf(x) as f64 - libm_erf(x as f64)).abs());
            let arg = x * 10.0;
            let e = (arg as f64).exp();
            worst_exp = worst_exp.max(((exp(arg) as f64) - e).abs() / e);
        }
        assert!(worst_erf < 5e-7, "erf error {worst_erf}");
        assert!(worst_exp < 3e-7, "exp relative error {worst_exp}");
    }

    /// erf in f64 as a reference: its Taylor series up to 3, the
    /// asymptotic series of erfc beyond.
    fn libm_erf(x: f64) -> f64 {
        let a = x.abs();
        let value = if a <= 3.0 {
            let (mut sum, mut term, mut n) = (0.0, a, 0.0);
            while term.abs() > 1e-18 {
                sum += term / (2.0 * n + 1.0);
                n += 1.0;
                term *= -a * a / n;
            }
            2.0 / std::f64::consts::PI.sqrt() * sum
        } else {
            let z = 1.0 / (2.0 * a * a);
            let series = 1.0 - z + 3.0 * z * z - 15.0 * z * z * z + 105.0 * z.powi(4);
            1.0 - (-a * a).exp() / (a * std::f64::consts::PI.sqrt()) * series
        };
        value.copysign(x)
    }

    #[test]
    fn attention_matches_the_naive_formula_for_any_head_width() {
        attention_matches_the_naive_formula(false);
    }

    #[test]
    #[cfg_attr(not(host_avx512), ignore = "this CPU has no AVX-512")]
    fn avx512_attention_matches_the_naive_formula_for_any_head_width() {
        assert!(avx512::usable());
        attention_matches_the_naive_formula(true);
    }

    fn attention_matches_the_naive_formula(wide: bool) {
        for (len, hd) in [(1, 32), (7, 32), (37, 64), (21, 20), (9, 64)] {
            let (qkv, stride) = test_qkv(len, hd);
            let scale = 1.0 / (hd as f32).sqrt();
            let mut out = vec![0f32; len * hd];
            let mut scratch = HeadScratch::default();
            unsafe {
                attend_on(&test_head(&qkv, stride, len, hd), out.as_mut_ptr(), hd, &mut scratch, wide);
            }
            let want = naive_attention(&qkv, stride, len, hd, scale);
            for (i, (got, want)) in out.iter().zip(&want).enumerate() {
                assert!((*got as f64 - want).abs() < 1e-5, "wide {wide} len {len} hd {hd} at {i}: {got} vs {want}");
            }
        }
    }

    /// MPNet's relative bias: a value per distance added to the scores.
    #[test]
    fn attention_adds_the_relative_bias() {
        attention_with_relative_bias(false);
    }

    #[test]
    #[cfg_attr(not(host_avx512), ignore = "this CPU has no AVX-512")]
    fn avx512_attention_adds_the_relative_bias() {
        assert!(avx512::usable());
        attention_with_relative_bias(true);
    }

    fn attention_with_relative_bias(wide: bool) {
        let max = 50usize;
        // Distances −49..=49, large enough to move the probabilities.
        let by_distance: Vec<f32> = (0..2 * max - 1).map(|i| ((i * 37) % 23) as f32 / 5.0 - 2.0).collect();
        for (len, hd) in [(1, 32), (9, 32), (40, 64), (13, 20)] {
            let (qkv, stride) = test_qkv(len, hd);
            let mut head = test_head(&qkv, stride, len, hd);
            head.relative = Some(by_distance[max - 1..].as_ptr());
            let mut out = vec![0f32; len * hd];
            let mut scratch = HeadScratch::default();
            unsafe {
                attend_on(&head, out.as_mut_ptr(), hd, &mut scratch, wide);
            }
            let scale = 1.0 / (hd as f32).sqrt();
            let want = naive_attention_with(&qkv, stride, len, hd, scale, &|d| {
                by_distance[(max as i64 - 1 + d) as usize] as f64
            });
            let plain = naive_attention(&qkv, stride, len, hd, scale);
            for (i, (got, want)) in out.iter().zip(&want).enumerate() {
                assert!((*got as f64 - want).abs() < 2e-5, "wide {wide} len {len} hd {hd} at {i}: {got} vs {want}");
            }
            if len > 1 {
                let moved = want.iter().zip(&plain).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                assert!(moved > 1e-2, "the bias must matter in this test (len {len}: {moved})");
            }
        }
    }

    /// A projection whose bias was left out (`Init::Zero`): attention
    /// given the bias must equal attention over the biased Q, K, V.
    #[test]
    fn attention_adds_a_left_out_bias() {
        attention_with_left_out_bias(false);
    }

    #[test]
    #[cfg_attr(not(host_avx512), ignore = "this CPU has no AVX-512")]
    fn avx512_attention_adds_a_left_out_bias() {
        assert!(avx512::usable());
        attention_with_left_out_bias(true);
    }

    fn attention_with_left_out_bias(wide: bool) {
        for (len, hd) in [(1, 32), (9, 32), (40, 64), (13, 20)] {
            let (qkv, stride) = test_qkv(len, hd);
            // The fused layout: biases of Q, K, V `stride / 3` apart.
            let third = stride / 3;
            let bias: Vec<f32> = (0..stride).map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0).collect();
            let mut biased = qkv.clone();
            for r in 0..len {
                for part in 0..3 {
                    for d in 0..hd {
                        biased[r * stride + part * hd + d] += bias[part * third + d];
                    }
                }
            }
            let mut head = test_head(&qkv, stride, len, hd);
            // test_head puts Q, K, V side by side (hd apart), so lay the
            // bias out the way `attend` reads it: Q at 0, V at 2·(stride/3).
            let mut laid = vec![0f32; 3 * third];
            for part in [0, 2] {
                laid[part * third..part * third + hd].copy_from_slice(&bias[part * third..part * third + hd]);
            }
            head.bias = Some(laid.as_ptr());
            let mut out = vec![0f32; len * hd];
            let mut scratch = HeadScratch::default();
            unsafe {
                attend_on(&head, out.as_mut_ptr(), hd, &mut scratch, wide);
            }
            let want = naive_attention(&biased, stride, len, hd, 1.0 / (hd as f32).sqrt());
            for (i, (got, want)) in out.iter().zip(&want).enumerate() {
                assert!((*got as f64 - want).abs() < 2e-5, "wide {wide} len {len} hd {hd} at {i}: {got} vs {want}");
            }
        }
    }

    #[test]
    #[cfg_attr(not(host_avx512), ignore = "this CPU has no AVX-512")]
    fn wide_softmax_matches_the_plain_one() {
        assert!(avx512::usable());
        for n in [1, 2, 15, 16, 17, 33, 82, 130] {
            let row: Vec<f32> = (0..n).map(|i| ((i * 7919) % 113) as f32 / 9.0 - 6.0).collect();
            let (mut plain, mut wide) = (row.clone(), row.clone());
            // Values past the row must stay untouched.
            wide.push(123.0);
            let inv_plain = softmax_exp(&mut plain);
            // SAFETY: checked above.
            let inv_wide = unsafe { avx512::softmax_exp(&mut wide[..n]) };
            assert!((inv_plain - inv_wide).abs() <= 1e-6 * inv_plain, "n {n}: {inv_plain} vs {inv_wide}");
            for (a, b) in plain.iter().zip(&wide) {
                assert!((a - b).abs() <= 1e-6 * a.abs().max(1e-30), "n {n}: {a} vs {b}");
            }
            assert_eq!(wide[n], 123.0);
        }
    }

    #[test]
    fn softmax_and_layer_norm() {
        let mut row = vec![1.0, 2.0, 3.0, -10_000.0];
        let inv = softmax_exp(&mut row);
        row.iter_mut().for_each(|v| *v *= inv);
        let e: Vec<f64> = [1.0f64, 2.0, 3.0].iter().map(|v| (v - 3.0).exp()).collect();
        let s: f64 = e.iter().sum();
        for i in 0..3 {
            assert!((row[i] as f64 - e[i] / s).abs() < 1e-6);
        }
        assert!(row[3] < 1e-30, "a masked score vanishes: {}", row[3]);
        let mut xs = vec![1.0, 2.0, 3.0, 4.0];
        layer_norm_rows(&mut xs, 4, None, &[1.0; 4], &[0.0; 4], 0.0, None);
        let expected = [-1.341_640_8, -0.447_213_6, 0.447_213_6, 1.341_640_8];
        assert!(xs.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-5));
    }
}
