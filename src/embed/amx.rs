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

use super::cpu::Init;

/// Rows of an AMX tile, and f32 columns of an accumulator tile.
const TILE: usize = 16;
/// bf16 values along k in one A tile row (64 bytes).
const TILE_K: usize = 32;

/// True when the CPU has AMX-BF16 and the kernel granted this process
/// the tile state.
pub fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            // Leaf 7 reports zeros on CPUs too old to know it.
            let leaf = std::arch::x86_64::__cpuid_count(7, 0);
            let amx_bf16 = leaf.edx & (1 << 22) != 0;
            let amx_tile = leaf.edx & (1 << 24) != 0;
            if !(amx_bf16 && amx_tile && cfg!(target_os = "linux")) {
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

/// Round-to-nearest-even f32 → bf16.
#[inline(always)]
fn to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) as u16
}

/// A weight matrix (n × k, PyTorch's Linear layout) packed for AMX: for
/// each 16-column block and each 32-wide k block, one tile of 16 rows of
/// (column, k-pair) bf16 values.
pub struct PackedWeight {
    n: usize,
    k: usize,
    data: Vec<u16>,
}

impl PackedWeight {
    pub fn new(w: &[f32], n: usize, k: usize) -> Option<PackedWeight> {
        if n % (2 * TILE) != 0 || k % TILE_K != 0 || w.len() != n * k {
            return None;
        }
        let kb = k / TILE_K;
        let mut data = vec![0u16; n * k];
        for jb in 0..n / TILE {
            for b in 0..kb {
                let tile = &mut data[(jb * kb + b) * TILE * TILE_K..][..TILE * TILE_K];
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

    fn tile(&self, jb: usize, b: usize) -> *const u16 {
        self.data[(jb * (self.k / TILE_K) + b) * TILE * TILE_K..].as_ptr()
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
    let (n, k) = (w.n, w.k);
    assert!(dst.len() >= t * n && x.len() >= t * k);
    if let Init::Bias(b) = init {
        assert_eq!(b.len(), n, "one bias per output column");
    }
    thread_local! {
        // Kept between calls: a fresh buffer per call costs page faults.
        static ROUNDED: std::cell::RefCell<Vec<u16>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    ROUNDED.with_borrow_mut(|a| {
        // Rows rounded up to whole 32-row blocks; the padding rows are zero.
        let rows = t.div_ceil(2 * TILE) * 2 * TILE;
        if a.len() < rows * k {
            a.resize(rows * k, 0);
        }
        a[t * k..rows * k].fill(0);
        a[..t * k].par_chunks_mut(k * 64).zip(x[..t * k].par_chunks(k * 64)).for_each(|(d, s)| {
            d.iter_mut().zip(s).for_each(|(d, &s)| *d = to_bf16(s));
        });
        multiply(dst, &a[..rows * k], w, t, init);
    });
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
                                Init::Bias(_) => *d.add(c) = v,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_f32_within_bf16_rounding() {
        if !available() {
            eprintln!("SKIPPED: no AMX-BF16 on this CPU");
            return;
        }
        let (t, k, n) = (70, 64, 64);
        let x: Vec<f32> = (0..t * k).map(|i| ((i * 7919 % 97) as f32 - 48.0) / 50.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 104_729 % 89) as f32 - 44.0) / 60.0).collect();
        let packed = PackedWeight::new(&w, n, k).unwrap();
        let bias: Vec<f32> = (0..n).map(|j| j as f32 / 10.0 - 3.0).collect();
        // Starting from dst (1.0 everywhere) and from the bias; t = 70 leaves
        // a partial 32-row block, which takes the other store path.
        let mut acc = vec![1.0f32; t * n];
        linear(&mut acc, &x, &packed, t, Init::Accumulate);
        let mut biased = vec![f32::NAN; t * n];
        linear(&mut biased, &x, &packed, t, Init::Bias(&bias));
        for i in 0..t {
            for j in 0..n {
                let product: f32 = (0..k).map(|q| x[i * k + q] * w[j * k + q]).sum::<f32>();
                let scale: f32 = (0..k).map(|q| (x[i * k + q] * w[j * k + q]).abs()).sum::<f32>();
                let (got, want) = (acc[i * n + j], 1.0 + product);
                assert!((got - want).abs() <= 0.01 * scale + 1e-3, "accumulate ({i},{j}) {got} vs {want}");
                let (got, want) = (biased[i * n + j], bias[j] + product);
                assert!((got - want).abs() <= 0.01 * scale + 1e-3, "bias ({i},{j}) {got} vs {want}");
            }
        }
        assert!(PackedWeight::new(&w, 48, 64).is_none(), "widths must be multiples of 32");
    }
}
