//! bf16 matrix multiply on Intel AMX tiles (Sapphire Rapids and newer), for
//! `--precision bf16`: weights are packed once into the tile layout,
//! activations are rounded to bf16 per call, products accumulate in f32.
//!
//! Rust has no stable AMX intrinsics, so the five tile instructions used are
//! written as inline assembly. Linux hands out AMX state only on request
//! (`arch_prctl(ARCH_REQ_XCOMP_PERM)`), which `available()` makes once.

use std::arch::asm;
use std::sync::OnceLock;

use rayon::prelude::*;

use super::int8::{dequantize_avx512, Int8Weight, QuantRows};
use super::kernels::{round_bf16, softmax_bf16, to_bf16, Aligned, Head, Init};

/// Rows of an AMX tile, and f32 columns of an accumulator tile.
const TILE: usize = 16;
/// bf16 values along k in one A tile row (64 bytes).
const TILE_K: usize = 32;
/// int8 values along k in one A tile row.
const INT8_K: usize = 64;

/// True when the CPU has AMX-BF16 and the kernel granted this process
/// the tile state.
pub fn available() -> bool {
    granted() && cpuid7_edx() & (1 << 22) != 0
}

/// True when the CPU has AMX-INT8 and the kernel granted the tile state.
pub fn int8_available() -> bool {
    granted() && cpuid7_edx() & (1 << 25) != 0
}

fn cpuid7_edx() -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        // Leaf 7 reports zeros on CPUs too old to know it.
        std::arch::x86_64::__cpuid_count(7, 0).edx
    }
    #[cfg(not(target_arch = "x86_64"))]
    0
}

/// True when the CPU has AMX tiles and Linux granted this process their
/// state (asked for once).
fn granted() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            let amx_tile = cpuid7_edx() & (1 << 24) != 0;
            if !(amx_tile && cfg!(target_os = "linux")) {
                return false;
            }
            const SYS_ARCH_PRCTL: i64 = 158;
            const ARCH_REQ_XCOMP_PERM: i64 = 0x1023;
            const XFEATURE_XTILEDATA: i64 = 18;
            let ret: i64;
            // SAFETY: a plain system call; it only changes this process's
            // permitted extended state.
            unsafe {
                asm!("syscall", inlateout("rax") SYS_ARCH_PRCTL => ret, in("rdi") ARCH_REQ_XCOMP_PERM,
                     in("rsi") XFEATURE_XTILEDATA, lateout("rcx") _, lateout("r11") _, options(nostack));
            }
            ret == 0
        }
        #[cfg(not(target_arch = "x86_64"))]
        false
    })
}

/// A weight matrix (n × k, PyTorch's Linear layout) packed for AMX: for
/// each 16-column block and each 32-wide k block, one tile of 16 rows of
/// (column, k-pair) bf16 values.
pub struct PackedWeight {
    pub(super) n: usize,
    pub(super) k: usize,
    data: Aligned<u16>,
}

impl PackedWeight {
    pub fn new(w: &[f32], n: usize, k: usize) -> Option<PackedWeight> {
        if !n.is_multiple_of(2 * TILE) || !k.is_multiple_of(TILE_K) || w.len() != n * k {
            return None;
        }
        let kb = k / TILE_K;
        let mut data = Aligned::zeroed(n * k);
        let slots = data.fit(n * k);
        for jb in 0..n / TILE {
            for b in 0..kb {
                let tile = &mut slots[(jb * kb + b) * TILE * TILE_K..][..TILE * TILE_K];
                for pair in 0..TILE_K / 2 {
                    for j in 0..TILE {
                        let row = &w[(jb * TILE + j) * k + b * TILE_K + 2 * pair..];
                        tile[pair * 2 * TILE + 2 * j] = to_bf16(row[0]);
                        tile[pair * 2 * TILE + 2 * j + 1] = to_bf16(row[1]);
                    }
                }
            }
        }
        Some(PackedWeight { n, k, data })
    }

    pub(super) fn tile(&self, jb: usize, b: usize) -> *const u16 {
        self.data.as_slice()[(jb * (self.k / TILE_K) + b) * TILE * TILE_K..].as_ptr()
    }
}

/// Eight tiles of 16 rows × 64 bytes: four accumulators, two A, two B.
#[repr(C, align(64))]
struct TileConfig([u8; 64]);

fn config() -> TileConfig {
    let mut c = [0u8; 64];
    c[0] = 1;
    for t in 0..8 {
        c[16 + 2 * t] = 64;
        c[48 + t] = TILE as u8;
    }
    TileConfig(c)
}

/// `dst (t × n) = init + x (t × k) · Wᵀ`, in bf16 with f32 accumulation.
/// `available()` must have returned true.
pub fn linear(dst: &mut [f32], x: &[f32], w: &PackedWeight, t: usize, init: Init) {
    let k = w.k;
    assert!(x.len() >= t * k);
    thread_local! {
        // Kept between calls: a fresh buffer per call costs page faults.
        static ROUNDED: std::cell::RefCell<Aligned<u16>> = std::cell::RefCell::new(Aligned::default());
    }
    ROUNDED.with_borrow_mut(|a| {
        let a = a.fit(t.next_multiple_of(2 * TILE) * k);
        a[..t * k].par_chunks_mut(k * 64).zip(x[..t * k].par_chunks(k * 64)).for_each(|(d, s)| {
            round_bf16(s, 1.0, d);
        });
        linear_bf16(dst, a, w, t, init);
    });
}

/// `linear` with x already rounded: `a` holds t rows of k bf16 values and
/// is readable up to the next multiple of 32 rows (those rows' products
/// are computed and dropped).
pub fn linear_bf16(dst: &mut [f32], a: &[u16], w: &PackedWeight, t: usize, init: Init) {
    let (n, k) = (w.n, w.k);
    let rows = t.next_multiple_of(2 * TILE);
    assert!(dst.len() >= t * n && a.len() >= rows * k);
    assert_eq!(a.as_ptr() as usize % 64, 0, "tile rows must start on cache lines");
    if let Init::Bias(b) = init {
        assert_eq!(b.len(), n, "one bias per output column");
    }
    multiply(dst, &a[..rows * k], w, t, init);
}

/// The tile loop: each task owns 32 rows of `dst` and walks all columns,
/// 32 at a time (four accumulator tiles), over k in steps of 32. The
/// accumulators start from dst's rows, or from the bias loaded with a row
/// stride of zero (every tile row the same 16 values), which saves a pass
/// that would fill dst with it.
fn multiply(dst: &mut [f32], a: &[u16], w: &PackedWeight, t: usize, init: Init) {
    let (n, k) = (w.n, w.k);
    let dst_addr = dst.as_mut_ptr() as usize;
    (0..a.len() / (2 * TILE * k)).into_par_iter().for_each(|ib| {
        let cfg = config();
        let mut out = [0f32; 4 * TILE * TILE];
        // Whole 32-row blocks accumulate straight into dst; the last,
        // partial block goes through `out` so no row past t is touched.
        let whole = (ib + 1) * 2 * TILE <= t;
        // SAFETY: AMX is available (caller's contract) and configured
        // below on this thread; tile loads read 16 rows × 64 bytes inside
        // `a` (padded to whole blocks), a packed weight tile, or (for whole
        // blocks) dst rows of this task; stores go to those dst rows or
        // `out`. Tasks own disjoint rows of dst.
        unsafe {
            asm!("ldtilecfg [{}]", in(reg) cfg.0.as_ptr(), options(nostack));
            let a0 = a.as_ptr().add(ib * 2 * TILE * k);
            let a1 = a0.add(TILE * k);
            let dst = dst_addr as *mut f32;
            let c_stride = n * 4;
            for jb in (0..n / TILE).step_by(2) {
                let c00 = dst.add(ib * 2 * TILE * n + jb * TILE);
                let c10 = c00.add(TILE * n);
                if let Init::Bias(bias) = init {
                    asm!(
                        "tileloadd tmm0, [{b0} + {z}*1]",
                        "tileloadd tmm1, [{b1} + {z}*1]",
                        "tileloadd tmm2, [{b0} + {z}*1]",
                        "tileloadd tmm3, [{b1} + {z}*1]",
                        b0 = in(reg) bias.as_ptr().add(jb * TILE),
                        b1 = in(reg) bias.as_ptr().add((jb + 1) * TILE),
                        z = in(reg) 0usize, options(nostack),
                    );
                } else if let Init::Zero = init {
                    asm!("tilezero tmm0", "tilezero tmm1", "tilezero tmm2", "tilezero tmm3", options(nostack));
                } else if whole {
                    asm!(
                        "tileloadd tmm0, [{c00} + {s}*1]",
                        "tileloadd tmm1, [{c01} + {s}*1]",
                        "tileloadd tmm2, [{c10} + {s}*1]",
                        "tileloadd tmm3, [{c11} + {s}*1]",
                        c00 = in(reg) c00, c01 = in(reg) c00.add(TILE),
                        c10 = in(reg) c10, c11 = in(reg) c10.add(TILE),
                        s = in(reg) c_stride, options(nostack),
                    );
                } else {
                    asm!("tilezero tmm0", "tilezero tmm1", "tilezero tmm2", "tilezero tmm3", options(nostack));
                }
                for b in 0..k / TILE_K {
                    asm!(
                        "tileloadd tmm4, [{a0} + {sa}*1]",
                        "tileloadd tmm5, [{a1} + {sa}*1]",
                        "tileloadd tmm6, [{b0} + {sb}*1]",
                        "tileloadd tmm7, [{b1} + {sb}*1]",
                        "tdpbf16ps tmm0, tmm4, tmm6",
                        "tdpbf16ps tmm1, tmm4, tmm7",
                        "tdpbf16ps tmm2, tmm5, tmm6",
                        "tdpbf16ps tmm3, tmm5, tmm7",
                        a0 = in(reg) a0.add(b * TILE_K),
                        a1 = in(reg) a1.add(b * TILE_K),
                        b0 = in(reg) w.tile(jb, b),
                        b1 = in(reg) w.tile(jb + 1, b),
                        sa = in(reg) k * 2,
                        sb = in(reg) 64usize,
                        options(nostack),
                    );
                }
                if whole {
                    asm!(
                        "tilestored [{c00} + {s}*1], tmm0",
                        "tilestored [{c01} + {s}*1], tmm1",
                        "tilestored [{c10} + {s}*1], tmm2",
                        "tilestored [{c11} + {s}*1], tmm3",
                        c00 = in(reg) c00, c01 = in(reg) c00.add(TILE),
                        c10 = in(reg) c10, c11 = in(reg) c10.add(TILE),
                        s = in(reg) c_stride, options(nostack),
                    );
                    continue;
                }
                let o = out.as_mut_ptr();
                asm!(
                    "tilestored [{o0} + {s}*1], tmm0",
                    "tilestored [{o1} + {s}*1], tmm1",
                    "tilestored [{o2} + {s}*1], tmm2",
                    "tilestored [{o3} + {s}*1], tmm3",
                    o0 = in(reg) o,
                    o1 = in(reg) o.add(TILE * TILE),
                    o2 = in(reg) o.add(2 * TILE * TILE),
                    o3 = in(reg) o.add(3 * TILE * TILE),
                    s = in(reg) TILE * 4,
                    options(nostack),
                );
                for (q, (ri, cj)) in [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate() {
                    for r in 0..TILE {
                        let row = ib * 2 * TILE + ri * TILE + r;
                        if row >= t {
                            break;
                        }
                        let d = dst.add(row * n + (jb + cj) * TILE);
                        for c in 0..TILE {
                            let v = out[q * TILE * TILE + r * TILE + c];
                            match init {
                                Init::Bias(_) | Init::Zero => *d.add(c) = v,
                                Init::Accumulate => *d.add(c) += v,
                            }
                        }
                    }
                }
            }
            asm!("tilerelease", options(nostack));
        }
    });
}

/// int8 `linear` on AMX tiles (`int8::linear` quantised `a`, its rows
/// padded to whole 32-row blocks): each task owns 32 rows and walks all
/// columns 32 at a time, four i32 accumulator tiles summed over k in steps
/// of 64, then scaled back to f32 into dst. `int8_available()` must have
/// returned true.
pub fn multiply_int8(dst: &mut [f32], a: &QuantRows, w: &Int8Weight, t: usize, init: Init) {
    let (n, k) = (w.n, w.k);
    let data = a.data.as_slice();
    assert!(dst.len() >= t * n && data.len() >= t.next_multiple_of(2 * TILE) * k);
    assert_eq!(data.as_ptr() as usize % 64, 0, "tile rows must start on cache lines");
    let dst_addr = dst.as_mut_ptr() as usize;
    (0..t.div_ceil(2 * TILE)).into_par_iter().for_each(|ib| {
        let cfg = config();
        // Four 16 × 16 tiles as one 32 × 32 block, rows 128 bytes apart.
        let mut out = Aligned::<i32>::zeroed(4 * TILE * TILE);
        let out = out.fit(4 * TILE * TILE);
        let o = out.as_mut_ptr();
        // SAFETY: AMX-INT8 is available (caller's contract) and configured
        // below on this thread; tile loads read 16 rows × 64 bytes inside
        // `a` (padded to whole blocks) or a weight tile; stores go to
        // `out`, and the dequantised rows to this task's rows of dst (< t).
        unsafe {
            asm!("ldtilecfg [{}]", in(reg) cfg.0.as_ptr(), options(nostack));
            let a0 = data.as_ptr().add(ib * 2 * TILE * k);
            let a1 = a0.add(TILE * k);
            for jb in (0..n / TILE).step_by(2) {
                asm!("tilezero tmm0", "tilezero tmm1", "tilezero tmm2", "tilezero tmm3", options(nostack));
                for b in 0..k / INT8_K {
                    asm!(
                        "tileloadd tmm4, [{a0} + {sa}*1]",
                        "tileloadd tmm5, [{a1} + {sa}*1]",
                        "tileloadd tmm6, [{b0} + {sb}*1]",
                        "tileloadd tmm7, [{b1} + {sb}*1]",
                        "tdpbusd tmm0, tmm4, tmm6",
                        "tdpbusd tmm1, tmm4, tmm7",
                        "tdpbusd tmm2, tmm5, tmm6",
                        "tdpbusd tmm3, tmm5, tmm7",
                        a0 = in(reg) a0.add(b * INT8_K),
                        a1 = in(reg) a1.add(b * INT8_K),
                        b0 = in(reg) w.tile(jb, b),
                        b1 = in(reg) w.tile(jb + 1, b),
                        sa = in(reg) k,
                        sb = in(reg) 64usize,
                        options(nostack),
                    );
                }
                asm!(
                    "tilestored [{o0} + {s}*1], tmm0",
                    "tilestored [{o1} + {s}*1], tmm1",
                    "tilestored [{o2} + {s}*1], tmm2",
                    "tilestored [{o3} + {s}*1], tmm3",
                    o0 = in(reg) o,
                    o1 = in(reg) o.add(TILE),
                    o2 = in(reg) o.add(2 * TILE * TILE),
                    o3 = in(reg) o.add(2 * TILE * TILE + TILE),
                    s = in(reg) 2 * TILE * 4,
                    options(nostack),
                );
                for r in 0..2 * TILE {
                    let row = ib * 2 * TILE + r;
                    if row >= t {
                        break;
                    }
                    let d = (dst_addr as *mut f32).add(row * n + jb * TILE);
                    dequantize_avx512(d, o.add(r * 2 * TILE), 2 * TILE, jb * TILE, w, a.scale[row], a.zero[row], init);
                }
            }
            asm!("tilerelease", options(nostack));
        }
    });
}

/// Per-task buffers of `attend`, kept across calls.
#[derive(Default)]
pub struct HeadScratch {
    q: Aligned<u16>,
    k: Aligned<u16>,
    v: Aligned<u16>,
    s: Aligned<f32>,
    p: Aligned<u16>,
    out: Aligned<f32>,
}

/// One attention head over one sequence on AMX tiles: softmax(scale·Q·Kᵀ)·V
/// with Q, K, V and the probabilities rounded to bf16, scores and outputs in
/// f32, the output rounded to bf16 (it feeds the next bf16 multiply). The
/// same contract as `kernels::attend` otherwise, for head widths that
/// are multiples of 32.
///
/// Layouts: Q and P are plain row-major A operands; Kᵀ and V are packed as
/// B operands, whose tile rows hold pairs along the summed dimension (head
/// columns for Q·Kᵀ, keys for P·V) for 16 output columns.
///
/// # Safety
/// `available()` must have returned true; the head's rows must be readable
/// and `dst` writable for `len` rows of `hd` at `out_stride`.
pub unsafe fn attend(head: &Head, dst: *mut u16, out_stride: usize, scratch: &mut HeadScratch) {
    let Head { q, k, v, stride, len, hd, scale, bias, relative } = *head;
    assert!(bias.is_none(), "the AMX path multiplies with the bias in place");
    assert!(relative.is_none(), "MPNet's relative bias is refused at load for bf16");
    assert!(hd % TILE_K == 0 && len > 0);
    let rows = len.next_multiple_of(TILE);
    let keys = len.next_multiple_of(TILE_K);
    let (d_blocks, c_blocks) = (hd / TILE_K, hd / TILE);
    let row = |p: *const f32, r: usize| std::slice::from_raw_parts(p.add(r * stride), hd);

    let qs = scratch.q.fit(rows * hd);
    for r in 0..len {
        round_bf16(row(q, r), scale, &mut qs[r * hd..(r + 1) * hd]);
    }
    qs[len * hd..].fill(0);
    // Kᵀ tile (key block jb, head-column block b): row p, key j holds
    // K[j][2p], K[j][2p + 1].
    let ks = scratch.k.fit(keys * hd);
    ks.fill(0);
    for j in 0..len {
        let kr = row(k, j);
        let (jb, jj) = (j / TILE, j % TILE);
        for (d, &x) in kr.iter().enumerate() {
            let (b, p, e) = (d / TILE_K, (d % TILE_K) / 2, d % 2);
            ks[((jb * d_blocks + b) * TILE + p) * TILE_K + 2 * jj + e] = to_bf16(x);
        }
    }
    // V tile (key block kb of 32, column block cb): row p, column c holds
    // V[2p][c], V[2p + 1][c].
    let vs = scratch.v.fit(keys * hd);
    vs.fill(0);
    for j in 0..len {
        let vr = row(v, j);
        let (kb, p, e) = (j / TILE_K, (j % TILE_K) / 2, j % 2);
        for (c, &x) in vr.iter().enumerate() {
            let (cb, cc) = (c / TILE, c % TILE);
            vs[((kb * c_blocks + cb) * TILE + p) * TILE_K + 2 * cc + e] = to_bf16(x);
        }
    }

    let cfg = config();
    let s = scratch.s.fit(rows * keys);
    let ps = scratch.p.fit(rows * keys);
    let out = scratch.out.fit(TILE * TILE);
    asm!("ldtilecfg [{}]", in(reg) cfg.0.as_ptr(), options(nostack));
    // Scores, one 16 × 16 tile at a time (only key blocks holding keys).
    for ib in 0..rows / TILE {
        for jb in 0..len.div_ceil(TILE) {
            let a = qs.as_ptr().add(ib * TILE * hd);
            let b = ks.as_ptr().add(jb * d_blocks * TILE * TILE_K);
            dot_tile(a, hd, b, TILE * TILE_K, d_blocks);
            store_tile(s.as_mut_ptr().add(ib * TILE * keys + jb * TILE), keys);
        }
    }
    for r in 0..len {
        let (sr, pr) = (&mut s[r * keys..(r + 1) * keys], &mut ps[r * keys..(r + 1) * keys]);
        softmax_bf16(&mut sr[..len], &mut pr[..len]);
        pr[len..].fill(0);
    }
    ps[len * keys..].fill(0);
    // Output: P · V, 16 rows × 16 head columns per tile.
    for ib in 0..rows / TILE {
        for cb in 0..c_blocks {
            let a = ps.as_ptr().add(ib * TILE * keys);
            let b = vs.as_ptr().add(cb * TILE * TILE_K);
            dot_tile(a, keys, b, c_blocks * TILE * TILE_K, keys / TILE_K);
            store_tile(out.as_mut_ptr(), TILE);
            for r in 0..TILE.min(len - ib * TILE) {
                let d = std::slice::from_raw_parts_mut(dst.add((ib * TILE + r) * out_stride + cb * TILE), TILE);
                round_bf16(&out[r * TILE..(r + 1) * TILE], 1.0, d);
            }
        }
    }
    asm!("tilerelease", options(nostack));
}

/// tmm0 = Σ over `steps` of (A tile: 16 rows of `a_width` bf16 values
/// starting at a + 32·step) × (B tile at b + step·b_step, 64-byte rows).
///
/// # Safety
/// Tiles configured by `config()`; every tile read must lie in its buffer.
#[inline(always)]
unsafe fn dot_tile(a: *const u16, a_width: usize, b: *const u16, b_step: usize, steps: usize) {
    asm!("tilezero tmm0", options(nostack));
    for step in 0..steps {
        asm!(
            "tileloadd tmm4, [{a} + {sa}*1]",
            "tileloadd tmm6, [{b} + {sb}*1]",
            "tdpbf16ps tmm0, tmm4, tmm6",
            a = in(reg) a.add(step * TILE_K),
            b = in(reg) b.add(step * b_step),
            sa = in(reg) a_width * 2,
            sb = in(reg) 64usize,
            options(nostack),
        );
    }
}

/// Stores tmm0 (16 × 16 f32) at `c`, rows `width` values apart.
///
/// # Safety
/// `c` must be writable for 16 rows of 16 values at that stride.
#[inline(always)]
unsafe fn store_tile(c: *mut f32, width: usize) {
    asm!("tilestored [{c} + {s}*1], tmm0", c = in(reg) c, s = in(reg) width * 4, options(nostack));
}

#[cfg(test)]
mod tests {
    use super::super::kernels::{naive_attention, test_head, test_qkv};
    use super::*;

    #[test]
    #[cfg_attr(not(host_amx), ignore = "this CPU has no AMX-BF16")]
    fn matches_f32_within_bf16_rounding() {
        assert!(available(), "the build found AMX-BF16 but the OS does not grant it");
        let (t, k, n) = (70, 64, 64);
        let x: Vec<f32> = (0..t * k).map(|i| ((i * 7919 % 97) as f32 - 48.0) / 50.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 104_729 % 89) as f32 - 44.0) / 60.0).collect();
        let packed = PackedWeight::new(&w, n, k).unwrap();
        let bias: Vec<f32> = (0..n).map(|j| j as f32 / 10.0 - 3.0).collect();
        // Starting from dst (1.0 everywhere), from the bias and from zero
        // (dst not read: NaN there must not show); t = 70 leaves
        // a partial 32-row block, which takes the other store path.
        let mut acc = vec![1.0f32; t * n];
        linear(&mut acc, &x, &packed, t, Init::Accumulate);
        let mut biased = vec![f32::NAN; t * n];
        linear(&mut biased, &x, &packed, t, Init::Bias(&bias));
        let mut bare = vec![f32::NAN; t * n];
        linear(&mut bare, &x, &packed, t, Init::Zero);
        for i in 0..t {
            for j in 0..n {
                let product: f32 = (0..k).map(|q| x[i * k + q] * w[j * k + q]).sum::<f32>();
                let scale: f32 = (0..k).map(|q| (x[i * k + q] * w[j * k + q]).abs()).sum::<f32>();
                let (got, want) = (acc[i * n + j], 1.0 + product);
                assert!((got - want).abs() <= 0.01 * scale + 1e-3, "accumulate ({i},{j}) {got} vs {want}");
                let (got, want) = (biased[i * n + j], bias[j] + product);
                assert!((got - want).abs() <= 0.01 * scale + 1e-3, "bias ({i},{j}) {got} vs {want}");
                let got = bare[i * n + j];
                assert!((got - product).abs() <= 0.01 * scale + 1e-3, "zero ({i},{j}) {got} vs {product}");
            }
        }
        assert!(PackedWeight::new(&w, 48, 64).is_none(), "widths must be multiples of 32");
    }

    #[test]
    #[cfg_attr(not(host_amx_int8), ignore = "this CPU has no AMX-INT8")]
    fn int8_matches_f32_within_quantisation() {
        assert!(int8_available(), "the build found AMX-INT8 but the OS does not grant it");
        super::super::int8::tests::check_kernel(super::super::int8::Int8Kernel::Amx);
    }

    #[test]
    #[cfg_attr(not(host_amx), ignore = "this CPU has no AMX-BF16")]
    fn attention_matches_the_naive_formula_within_bf16_rounding() {
        assert!(available(), "the build found AMX-BF16 but the OS does not grant it");
        // Lengths below, at and across tile edges (16 rows, 32 keys).
        for (len, hd) in [(1, 32), (16, 32), (17, 32), (33, 32), (70, 64), (130, 32)] {
            let (qkv, stride) = test_qkv(len, hd);
            let scale = 1.0 / (hd as f32).sqrt();
            // Written at a wider stride, as into one head's columns of the
            // context; the gap must stay untouched.
            let out_stride = hd + 8;
            let seven = to_bf16(7.0);
            let mut out = vec![seven; len * out_stride];
            let mut scratch = HeadScratch::default();
            unsafe {
                attend(&test_head(&qkv, stride, len, hd), out.as_mut_ptr(), out_stride, &mut scratch);
            }
            let want = naive_attention(&qkv, stride, len, hd, scale);
            for i in 0..len {
                for d in 0..hd {
                    let got = f32::from_bits((out[i * out_stride + d] as u32) << 16) as f64;
                    assert!(
                        (got - want[i * hd + d]).abs() < 0.01,
                        "len {len} hd {hd} ({i},{d}): {got} vs {}",
                        want[i * hd + d]
                    );
                }
                assert!(
                    out[i * out_stride + hd..(i + 1) * out_stride].iter().all(|&x| x == seven),
                    "len {len}: wrote past the head"
                );
            }
        }
    }
}
