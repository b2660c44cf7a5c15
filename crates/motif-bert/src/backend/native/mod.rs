//! The CPU backend: the same BERT as `candle::CandleBert`, computed on plain
//! f32 buffers with the `gemm` crate and fused element-wise passes
//! (`kernels`), in bf16 on AMX tiles (`amx`) or AVX-512 BF16 (`avx512`),
//! or in int8 (`int8`) on AMX, AVX-512 VNNI, AVX-VNNI or AVX2. Which multiply
//! runs is decided once, at load (`Kernels::choose`).
//!
//! Why not candle on the CPU: measured here, a straight candle port spends
//! under half its time in matrix multiplies; the rest goes to padding,
//! a fresh allocation (and page faults) per operation, separate passes for
//! bias, residual and activation, and scalar `erf`/`exp`. This backend
//! - packs the batch's sequences end to end: no padding token is computed;
//! - keeps the residual stream in one buffer that the output projections
//!   accumulate into, adding their biases inside the LayerNorm that follows;
//!   the other biases start the GEMM's destination;
//! - runs the element-wise passes on all cores, in blocks of rows;
//! - reads Q, K and V for attention in place, through strides;
//! - uses vectorisable erf/exp approximations (max error ~1e-7), compiled
//!   for AVX-512 or AVX2 and chosen at run time;
//! - reuses its scratch buffers from batch to batch.
//!
//! Its vectors match sentence-transformers' to cosine ≥ 0.9999 (tested).

pub mod amx;
pub mod avx512;
pub mod int8;
pub mod kernels;

use std::sync::Mutex;
use std::time::Instant;

use gemm::Parallelism;
use rayon::prelude::*;

use self::amx::PackedWeight;
use self::int8::{Int8Kernel, Int8Weight};
use self::kernels::Aligned;
pub use self::kernels::Init;
use super::arch::{Architecture, RelativeBias};
use super::cpu::CpuFeatures;
use super::weights::{BertConfig, Weights};
use super::{Backend, Pooling, Precision, TokenBatch};
use crate::error::Error;

/// How the linear layers multiply, decided once at load from the
/// precision asked for and what the CPU offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernels {
    /// f32 through the `gemm` crate: the reference.
    F32,
    /// bf16 on AMX tiles. `fused`: every pass rounds its output for the
    /// next multiply and attention runs on tiles too (`layer_bf16`); not
    /// for MPNet, whose relative bias the tile attention lacks.
    AmxBf16 { fused: bool },
    /// bf16 on AVX-512 BF16, inputs rounded per multiply, attention in f32.
    Avx512Bf16,
    /// int8 weights and per-row quantised activations, attention in f32.
    Int8(Int8Kernel),
}

impl Kernels {
    /// The kernels for `precision` on `cpu`, or why there are none.
    /// `Precision::Auto` takes the fastest the CPU has within int8's
    /// quality bound: int8 on VNNI or AMX, else bf16, else f32.
    pub fn choose(precision: Precision, cpu: &CpuFeatures, relative_bias: bool) -> Result<Kernels, Error> {
        let bf16 = if cpu.amx_bf16 {
            Some(Kernels::AmxBf16 { fused: !relative_bias })
        } else if cpu.avx512_bf16 {
            Some(Kernels::Avx512Bf16)
        } else {
            None
        };
        let int8 = Int8Kernel::best(cpu).map(Kernels::Int8);
        match precision {
            Precision::F32 => Ok(Kernels::F32),
            Precision::Bf16 => bf16.ok_or_else(|| {
                Error::Device(format!(
                    "--precision bf16 on the CPU needs AMX or AVX-512 BF16, which this CPU lacks (it has: {}); use int8 or f32",
                    cpu_list(cpu)
                ))
            }),
            Precision::Int8 => int8.ok_or_else(|| {
                Error::Device(format!(
                    "--precision int8 on the CPU needs AMX-INT8, AVX-512 VNNI, AVX-VNNI or AVX2, which this CPU lacks (it has: {}); use f32",
                    cpu_list(cpu)
                ))
            }),
            // int8 on AVX2 (128 activation levels) scores 81.75 on STS-B
            // test, under int8's bound of 81.8, and gains little over f32
            // (it multiplies no faster, it only reads less): never chosen
            // for the user.
            Precision::Auto => Ok(match int8 {
                Some(Kernels::Int8(Int8Kernel::Avx2)) | None => bf16.unwrap_or(Kernels::F32),
                Some(fast) => fast,
            }),
        }
    }

    /// The precision these kernels compute in.
    pub fn precision(self) -> Precision {
        match self {
            Kernels::F32 => Precision::F32,
            Kernels::AmxBf16 { .. } | Kernels::Avx512Bf16 => Precision::Bf16,
            Kernels::Int8(_) => Precision::Int8,
        }
    }

    /// "int8 on AVX-512 VNNI", for logs and benchmarks.
    pub fn describe(self) -> String {
        match self {
            Kernels::F32 => "f32".into(),
            Kernels::AmxBf16 { .. } => "bf16 on AMX".into(),
            Kernels::Avx512Bf16 => "bf16 on AVX-512 BF16".into(),
            Kernels::Int8(k) => format!("int8 on {}", k.name()),
        }
    }
}

fn cpu_list(cpu: &CpuFeatures) -> String {
    let names = cpu.names();
    if names.is_empty() {
        "none of AVX2, AVX-512, VNNI, AMX".into()
    } else {
        names.join(", ")
    }
}

/// One linear layer's weight, in the form its kernels multiply.
enum Matrix {
    /// (n × k) row-major as stored.
    F32(Vec<f32>),
    /// Tile layout, shared by AMX and AVX-512 BF16.
    Bf16(PackedWeight),
    Int8(Int8Weight),
}

impl Matrix {
    /// `w` (n × k) in the form `kernels` multiplies, or why not.
    fn new(w: Vec<f32>, n: usize, k: usize, kernels: Kernels) -> Result<Matrix, Error> {
        let widths = |need: &str| {
            Error::Device(format!(
                "--precision {} needs layer widths that are multiples of {need} (this layer: {n} × {k}); use f32",
                kernels.precision().name()
            ))
        };
        Ok(match kernels {
            Kernels::F32 => Matrix::F32(w),
            Kernels::AmxBf16 { .. } | Kernels::Avx512Bf16 => {
                Matrix::Bf16(PackedWeight::new(&w, n, k).ok_or_else(|| widths("32"))?)
            }
            Kernels::Int8(_) => {
                Matrix::Int8(Int8Weight::new(&w, n, k).ok_or_else(|| widths("32 (outputs) and 64 (inputs)"))?)
            }
        })
    }

    fn packed_bf16(&self) -> &PackedWeight {
        match self {
            Matrix::Bf16(w) => w,
            _ => unreachable!("the fused bf16 layer runs only on bf16 weights"),
        }
    }
}

struct Layer {
    /// Fused Q, K, V projection, (3·hidden × hidden).
    qkv: Matrix,
    qkv_b: Vec<f32>,
    out: Matrix,
    out_b: Vec<f32>,
    attn_norm: (Vec<f32>, Vec<f32>),
    up: Matrix,
    up_b: Vec<f32>,
    down: Matrix,
    down_b: Vec<f32>,
    out_norm: (Vec<f32>, Vec<f32>),
}

pub struct CpuBert {
    word: Vec<f32>,
    position: Vec<f32>,
    /// One zero row for families without token types (MPNet).
    token_type: Vec<f32>,
    /// Position id of each sequence's first token (`arch`).
    first_position: usize,
    /// MPNet's bias per head and distance, added to the attention scores.
    relative: Option<RelativeBias>,
    embed_norm: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    inter: usize,
    eps: f32,
    pooling: Pooling,
    kernels: Kernels,
    scratch: Mutex<Scratch>,
}

#[derive(Default)]
struct Scratch {
    x: Aligned<f32>,
    qkv: Aligned<f32>,
    context: Aligned<f32>,
    up: Aligned<f32>,
    /// bf16 precision: the inputs of the four multiplies, rounded by the
    /// pass that produced them (LayerNorm, attention, GELU) rather than by
    /// a pass of their own; rows padded to whole tiles.
    x_bf16: Aligned<u16>,
    context_bf16: Aligned<u16>,
    up_bf16: Aligned<u16>,
}

impl CpuBert {
    pub fn load(
        dir: &std::path::Path,
        config: &BertConfig,
        pooling: Pooling,
        precision: Precision,
        cpu: &CpuFeatures,
    ) -> Result<Self, Error> {
        let w = Weights::load(dir, &candle_core::Device::Cpu, candle_core::DType::F32)?;
        let arch = Architecture::of(config, &dir.join("config.json"))?;
        let relative = arch.relative_bias(&w, config)?;
        let kernels = Kernels::choose(precision, cpu, relative.is_some())?;
        let (h, inter) = (config.hidden_size, config.intermediate_size);
        if kernels == (Kernels::AmxBf16 { fused: true }) && !(h / config.num_attention_heads).is_multiple_of(32) {
            return Err(Error::Device(format!(
                "--precision bf16 needs a head width that is a multiple of 32 (this model: {})",
                h / config.num_attention_heads
            )));
        }
        let norm = |name: &str| -> Result<(Vec<f32>, Vec<f32>), Error> {
            Ok((w.vec(&format!("{name}.weight"))?, w.vec(&format!("{name}.bias"))?))
        };
        let matrix = |name: &str, n: usize, k: usize| Matrix::new(w.vec(&format!("{name}.weight"))?, n, k, kernels);
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let n = arch.layer_names(i);
            let mut qkv_w = Vec::new();
            let mut qkv_b = Vec::new();
            for part in [&n.q, &n.k, &n.v] {
                qkv_w.extend(w.vec(&format!("{part}.weight"))?);
                qkv_b.extend(w.vec(&format!("{part}.bias"))?);
            }
            layers.push(Layer {
                qkv: Matrix::new(qkv_w, 3 * h, h, kernels)?,
                qkv_b,
                out: matrix(&n.attn_out, h, h)?,
                out_b: w.vec(&format!("{}.bias", n.attn_out))?,
                attn_norm: norm(&n.attn_norm)?,
                up: matrix(&n.up, inter, h)?,
                up_b: w.vec(&format!("{}.bias", n.up))?,
                down: matrix(&n.down, h, inter)?,
                down_b: w.vec(&format!("{}.bias", n.down))?,
                out_norm: norm(&n.out_norm)?,
            });
        }
        Ok(CpuBert {
            word: w.vec("embeddings.word_embeddings.weight")?,
            position: w.vec("embeddings.position_embeddings.weight")?,
            token_type: match arch.token_types() {
                Some(name) => w.vec(name)?,
                None => vec![0.0; config.hidden_size],
            },
            first_position: arch.first_position(config),
            relative,
            embed_norm: norm("embeddings.LayerNorm")?,
            layers,
            hidden: config.hidden_size,
            heads: config.num_attention_heads,
            inter: config.intermediate_size,
            eps: config.layer_norm_eps as f32,
            pooling,
            kernels,
            scratch: Mutex::new(Scratch::default()),
        })
    }

    /// Runs the encoder over packed sequences: `seqs[i] = (offset, len)`
    /// into `ids`, and returns the final hidden states (tokens × hidden).
    fn encode(&self, ids: &[u32], types: &[u32], seqs: &[(usize, usize)], s: &mut Scratch) -> Result<(), Error> {
        let (h, t) = (self.hidden, ids.len());
        let x = s.x.fit(t * h);
        let vocab = self.word.len() / h;
        let max_pos = self.position.len() / h;
        let type_vocab = self.token_type.len() / h;
        let first = self.first_position;
        for &(offset, len) in seqs {
            if len + first > max_pos || self.relative.as_ref().is_some_and(|r| len > r.max()) {
                return Err(Error::Input(format!(
                    "sequence of {len} tokens exceeds the model's {} positions",
                    max_pos.saturating_sub(first)
                )));
            }
            for p in 0..len {
                let tok = offset + p;
                let (id, ty) = (ids[tok] as usize, types[tok] as usize);
                if id >= vocab || ty >= type_vocab {
                    return Err(Error::Input(format!("token id {id} outside the vocabulary of {vocab}")));
                }
                let row = &mut x[tok * h..(tok + 1) * h];
                let (wr, pr, tr) = (
                    &self.word[id * h..][..h],
                    &self.position[(first + p) * h..][..h],
                    &self.token_type[ty * h..][..h],
                );
                for j in 0..h {
                    row[j] = wr[j] + pr[j] + tr[j];
                }
            }
        }
        let (w, b, eps) = (&self.embed_norm.0, &self.embed_norm.1, self.eps);
        let fused_bf16 = self.kernels == Kernels::AmxBf16 { fused: true };
        if fused_bf16 {
            let xb = s.x_bf16.fit(t.next_multiple_of(32) * h);
            par_rows2(x, xb, h, h, |rows, out| kernels::layer_norm_rows(rows, h, None, w, b, eps, Some(out)));
        } else {
            par_rows(x, h, |rows| kernels::layer_norm_rows(rows, h, None, w, b, eps, None));
        }
        for layer in &self.layers {
            if fused_bf16 {
                self.layer_bf16(layer, t, seqs, s);
            } else {
                self.layer(layer, t, seqs, s);
            }
        }
        Ok(())
    }

    /// One encoder layer. `x` is the residual stream: the output projections
    /// accumulate straight into it and their biases are added inside the
    /// LayerNorm that follows, so no pass copies or adds a residual.
    fn layer(&self, layer: &Layer, t: usize, seqs: &[(usize, usize)], s: &mut Scratch) {
        let (h, inter, eps) = (self.hidden, self.inter, self.eps);
        let threads = rayon::current_num_threads();
        let x = s.x.fit(t * h);
        let qkv = s.qkv.fit(t * 3 * h);
        self.linear(&layer.qkv, qkv, x, t, h, 3 * h, threads, Init::Zero);

        let context = s.context.fit(t * h);
        self.attention(qkv, Some(&layer.qkv_b), context, seqs);

        self.linear(&layer.out, x, context, t, h, h, threads, Init::Accumulate);
        let (w, b) = (&layer.attn_norm.0, &layer.attn_norm.1);
        par_rows(x, h, |rows| kernels::layer_norm_rows(rows, h, Some(&layer.out_b), w, b, eps, None));

        let up = s.up.fit(t * inter);
        self.linear(&layer.up, up, x, t, h, inter, threads, Init::Zero);
        par_rows(up, inter, |rows| kernels::gelu_bias(rows, &layer.up_b));

        self.linear(&layer.down, x, up, t, inter, h, threads, Init::Accumulate);
        let (w, b) = (&layer.out_norm.0, &layer.out_norm.1);
        par_rows(x, h, |rows| kernels::layer_norm_rows(rows, h, Some(&layer.down_b), w, b, eps, None));
    }

    /// The same layer in bf16 on AMX tiles. On entry `x_bf16` holds `x`
    /// rounded (the previous LayerNorm wrote both); every multiply's input
    /// comes rounded from the pass that made it.
    fn layer_bf16(&self, layer: &Layer, t: usize, seqs: &[(usize, usize)], s: &mut Scratch) {
        let (h, inter, eps) = (self.hidden, self.inter, self.eps);
        let packed = [&layer.qkv, &layer.out, &layer.up, &layer.down].map(Matrix::packed_bf16);
        let tp = t.next_multiple_of(32);
        let x = s.x.fit(t * h);
        let xb = s.x_bf16.fit(tp * h);
        let qkv = s.qkv.fit(t * 3 * h);
        amx::linear_bf16(qkv, xb, packed[0], t, Init::Bias(&layer.qkv_b));

        let context = s.context_bf16.fit(tp * h);
        self.attention_bf16(qkv, context, seqs);

        amx::linear_bf16(x, context, packed[1], t, Init::Accumulate);
        let (w, b) = (&layer.attn_norm.0, &layer.attn_norm.1);
        par_rows2(x, xb, h, h, |rows, out| kernels::layer_norm_rows(rows, h, Some(&layer.out_b), w, b, eps, Some(out)));

        let up = s.up.fit(t * inter);
        amx::linear_bf16(up, xb, packed[2], t, Init::Bias(&layer.up_b));
        let upb = s.up_bf16.fit(tp * inter);
        par_rows2(up, upb, inter, inter, kernels::gelu_bf16);

        amx::linear_bf16(x, upb, packed[3], t, Init::Accumulate);
        let (w, b) = (&layer.out_norm.0, &layer.out_norm.1);
        par_rows2(x, xb, h, h, |rows, out| {
            kernels::layer_norm_rows(rows, h, Some(&layer.down_b), w, b, eps, Some(out))
        });
    }

    /// `dst (t × n) = init + x (t × k) · Wᵀ` with this backend's kernels.
    #[allow(clippy::too_many_arguments)]
    fn linear(&self, w: &Matrix, dst: &mut [f32], x: &[f32], t: usize, k: usize, n: usize, threads: usize, init: Init) {
        match (w, self.kernels) {
            (Matrix::F32(w), _) => linear_f32(dst, x, w, t, k, n, threads, init),
            (Matrix::Bf16(w), Kernels::AmxBf16 { .. }) => amx::linear(dst, x, w, t, init),
            (Matrix::Bf16(w), _) => avx512::linear_bf16(dst, x, w, t, init),
            (Matrix::Int8(w), Kernels::Int8(kernel)) => int8::linear(dst, x, w, t, init, kernel),
            (Matrix::Int8(_), _) => unreachable!("int8 weights are made only for int8 kernels"),
        }
    }

    /// Scaled dot-product attention for every (sequence, head), taking Q, K
    /// and V from the fused projection and writing each head's output into
    /// its columns of `context`.
    /// `qkv_bias` (3h values) is the projection's bias when it was left
    /// out of `qkv` (`Init::Zero`).
    fn attention(&self, qkv: &[f32], qkv_bias: Option<&[f32]>, context: &mut [f32], seqs: &[(usize, usize)]) {
        let (h, heads) = (self.hidden, self.heads);
        let hd = h / heads;
        let qkv_ptr = qkv.as_ptr() as usize;
        // An address, not a pointer, so that the tasks may share it.
        let out = context.as_mut_ptr() as usize;
        let tasks = head_tasks(seqs, heads);
        tasks.par_iter().for_each_init(kernels::HeadScratch::default, |scratch, &(offset, len, index)| {
            // SAFETY: every pointer stays inside `qkv` (offset+len rows of
            // 3h) or `context` (offset+len rows of h); tasks write disjoint
            // (rows, head columns) blocks of `context`.
            unsafe {
                let mut head =
                    kernels::Head::in_fused((qkv_ptr as *const f32).add(offset * 3 * h), h, heads, index, len);
                if let Some(b) = qkv_bias {
                    head.bias = Some(b[index * hd..].as_ptr());
                }
                if let Some(r) = &self.relative {
                    head.relative = Some(r.head(index)[r.max() - 1..].as_ptr());
                }
                kernels::attend(&head, (out as *mut f32).add(offset * h + index * hd), h, scratch);
            }
        });
    }

    /// `attention` on AMX tiles, writing the context rounded to bf16.
    fn attention_bf16(&self, qkv: &[f32], context: &mut [u16], seqs: &[(usize, usize)]) {
        let (h, heads) = (self.hidden, self.heads);
        let hd = h / heads;
        let qkv_ptr = qkv.as_ptr() as usize;
        let out = context.as_mut_ptr() as usize;
        head_tasks(seqs, heads).par_iter().for_each_init(
            amx::HeadScratch::default,
            |scratch, &(offset, len, index)| {
                // SAFETY: as in `attention`; AMX was checked at load and the
                // head width is a multiple of 32 (checked at load).
                unsafe {
                    let head =
                        kernels::Head::in_fused((qkv_ptr as *const f32).add(offset * 3 * h), h, heads, index, len);
                    amx::attend(&head, (out as *mut u16).add(offset * h + index * hd), h, scratch);
                }
            },
        );
    }
}

/// One attention task per (sequence offset, length, head).
fn head_tasks(seqs: &[(usize, usize)], heads: usize) -> Vec<(usize, usize, usize)> {
    seqs.iter().flat_map(|&(o, l)| (0..heads).map(move |head| (o, l, head))).collect()
}

/// Runs `f` on blocks of whole rows (width `width`), one block per thread
/// when there is enough work to share: the element-wise passes would
/// otherwise leave all but one core idle between multiplies.
fn par_rows(xs: &mut [f32], width: usize, f: impl Fn(&mut [f32]) + Sync) {
    let rows = xs.len() / width;
    let threads = rayon::current_num_threads();
    if threads < 2 || xs.len() < 1 << 14 {
        return f(xs);
    }
    let per = rows.div_ceil(threads);
    xs.par_chunks_mut(per * width).for_each(&f);
}

/// `par_rows` over two buffers in step: row r of `xs` (width `wx`) goes
/// with row r of `ys` (width `wy`); `ys` may be longer (padding rows).
fn par_rows2<T: Send>(xs: &mut [f32], ys: &mut [T], wx: usize, wy: usize, f: impl Fn(&mut [f32], &mut [T]) + Sync) {
    let rows = xs.len() / wx;
    let ys = &mut ys[..rows * wy];
    let threads = rayon::current_num_threads();
    if threads < 2 || xs.len() < 1 << 14 {
        return f(xs, ys);
    }
    let per = rows.div_ceil(threads);
    xs.par_chunks_mut(per * wx).zip(ys.par_chunks_mut(per * wy)).for_each(|(x, y)| f(x, y));
}

/// `dst (t × n) = init + x (t × k) · Wᵀ`, with `w` stored (n × k) row-major
/// as PyTorch keeps Linear weights.
#[allow(clippy::too_many_arguments)]
pub fn linear_f32(dst: &mut [f32], x: &[f32], w: &[f32], t: usize, k: usize, n: usize, threads: usize, init: Init) {
    assert!(dst.len() >= t * n && x.len() >= t * k && w.len() == n * k);
    // Each thread takes its own block of rows with a single-threaded GEMM:
    // no synchronisation inside the multiply, at the cost of packing the
    // weights once per thread.
    let parts = if t * n * k > 1 << 22 { threads.max(1) } else { 1 };
    let rows = t.div_ceil(parts).next_multiple_of(16).max(16);
    dst[..t * n].par_chunks_mut(rows * n).zip(x[..t * k].par_chunks(rows * k)).for_each(|(d, xs)| {
        let m = xs.len() / k;
        if let Init::Bias(bias) = init {
            // Filled by the thread that multiplies, while the rows are hot.
            for row in d.chunks_exact_mut(n) {
                row.copy_from_slice(bias);
            }
        }
        // SAFETY: d holds m rows of n and xs m rows of k; strides describe
        // row-major d and xs and the transposed view of w.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                d.as_mut_ptr(),
                1,
                n as isize,
                !matches!(init, Init::Zero),
                xs.as_ptr(),
                1,
                k as isize,
                w.as_ptr(),
                k as isize,
                1,
                1.0,
                1.0,
                false,
                false,
                false,
                Parallelism::None,
            );
        }
    });
}

/// The machine's f32 matrix-multiply rate in GFLOP/s: the best of a few
/// 1024³ products through the same GEMM this backend uses, on `threads`
/// threads. Embedding's own rate divided by this is how close it gets.
pub fn gemm_peak_gflops(threads: usize) -> f64 {
    const N: usize = 1024;
    let a: Vec<f32> = (0..N * N).map(|i| (i % 13) as f32 * 0.01).collect();
    let b: Vec<f32> = (0..N * N).map(|i| (i % 7) as f32 * 0.01).collect();
    let mut c = vec![0f32; N * N];
    let parallelism = if threads > 1 { Parallelism::Rayon(threads) } else { Parallelism::None };
    let mut best = f64::MAX;
    for _ in 0..4 {
        let start = Instant::now();
        // SAFETY: three N×N row-major buffers, strides to match.
        unsafe {
            gemm::gemm(
                N,
                N,
                N,
                c.as_mut_ptr(),
                1,
                N as isize,
                false,
                a.as_ptr(),
                1,
                N as isize,
                b.as_ptr(),
                1,
                N as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(&c);
    2.0 * (N * N * N) as f64 / best / 1e9
}

impl Backend for CpuBert {
    fn embed_batch(&self, batch: &TokenBatch) -> Result<Vec<Vec<f32>>, Error> {
        // Unpad: pack each row's real tokens end to end.
        let mut ids = Vec::with_capacity(batch.ids.len());
        let mut types = Vec::with_capacity(batch.ids.len());
        let mut seqs = Vec::with_capacity(batch.rows);
        for r in 0..batch.rows {
            let row = r * batch.len..(r + 1) * batch.len;
            let len = batch.mask[row.clone()].iter().filter(|&&m| m != 0).count().max(1);
            seqs.push((ids.len(), len));
            ids.extend_from_slice(&batch.ids[row.start..row.start + len]);
            types.extend_from_slice(&batch.type_ids[row.start..row.start + len]);
        }
        let mut scratch = self.scratch.lock().unwrap_or_else(|p| p.into_inner());
        self.encode(&ids, &types, &seqs, &mut scratch)?;
        let h = self.hidden;
        let x = scratch.x.as_slice();
        Ok(seqs
            .iter()
            .map(|&(offset, len)| self.pooling.pool(&x[offset * h..(offset + len) * h], h, batch.pool_skip))
            .collect())
    }

    fn device_name(&self) -> String {
        "cpu".into()
    }

    fn kernels(&self) -> String {
        self.kernels.describe()
    }

    fn precision(&self) -> Precision {
        self.kernels.precision()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three starts of a linear layer, on two threads' worth of rows
    /// (t·n·k above the split size) and on one.
    #[test]
    fn each_precision_takes_the_best_kernels_the_features_allow() {
        let none = CpuFeatures::default();
        let avx2 = CpuFeatures { avx2: true, ..none };
        let zen4 = CpuFeatures { avx512: true, avx512_bf16: true, avx512_vnni: true, ..avx2 };
        let spr = CpuFeatures { amx_bf16: true, amx_int8: true, avx_vnni: true, ..zen4 };
        let choose = |p, cpu: &CpuFeatures| Kernels::choose(p, cpu, false).map(Kernels::describe);
        assert_eq!(choose(Precision::Int8, &spr).unwrap(), "int8 on AMX-INT8");
        assert_eq!(choose(Precision::Int8, &zen4).unwrap(), "int8 on AVX-512 VNNI");
        assert_eq!(choose(Precision::Int8, &CpuFeatures { avx_vnni: true, ..avx2 }).unwrap(), "int8 on AVX-VNNI");
        assert_eq!(choose(Precision::Int8, &avx2).unwrap(), "int8 on AVX2");
        assert_eq!(choose(Precision::Bf16, &spr).unwrap(), "bf16 on AMX");
        assert_eq!(choose(Precision::Bf16, &zen4).unwrap(), "bf16 on AVX-512 BF16");
        assert_eq!(choose(Precision::Auto, &spr).unwrap(), "int8 on AMX-INT8");
        // int8 on AVX2 is below int8's quality bound: asked for only.
        assert_eq!(choose(Precision::Auto, &avx2).unwrap(), "f32");
        let bf16_only = CpuFeatures { avx512: true, avx512_bf16: true, ..avx2 };
        assert_eq!(choose(Precision::Auto, &bf16_only).unwrap(), "bf16 on AVX-512 BF16");
        assert_eq!(choose(Precision::Auto, &none).unwrap(), "f32");
        assert_eq!(choose(Precision::F32, &spr).unwrap(), "f32");
        let err = choose(Precision::Int8, &none).unwrap_err().to_string();
        assert!(err.contains("needs AMX-INT8, AVX-512 VNNI, AVX-VNNI or AVX2"), "{err}");
        let err = choose(Precision::Bf16, &avx2).unwrap_err().to_string();
        assert!(err.contains("needs AMX or AVX-512 BF16") && err.contains("it has: avx2"), "{err}");
    }

    #[test]
    fn linear_starts_from_bias_dst_or_zero() {
        for (t, k, n) in [(300, 128, 160), (5, 32, 48)] {
            let x: Vec<f32> = (0..t * k).map(|i| ((i * 7919 % 97) as f32 - 48.0) / 50.0).collect();
            let w: Vec<f32> = (0..n * k).map(|i| ((i * 104_729 % 89) as f32 - 44.0) / 60.0).collect();
            let bias: Vec<f32> = (0..n).map(|j| j as f32 / 10.0 - 3.0).collect();
            let product = |i: usize, j: usize| (0..k).map(|q| x[i * k + q] as f64 * w[j * k + q] as f64).sum::<f64>();
            let mut biased = vec![f32::NAN; t * n];
            linear_f32(&mut biased, &x, &w, t, k, n, 2, Init::Bias(&bias));
            let mut acc = vec![1.0f32; t * n];
            linear_f32(&mut acc, &x, &w, t, k, n, 2, Init::Accumulate);
            // dst is not read: the NaNs must not show.
            let mut bare = vec![f32::NAN; t * n];
            linear_f32(&mut bare, &x, &w, t, k, n, 2, Init::Zero);
            for i in 0..t {
                for (j, &b) in bias.iter().enumerate() {
                    let p = product(i, j);
                    let at = i * n + j;
                    assert!((biased[at] as f64 - (p + b as f64)).abs() < 1e-3, "bias ({i},{j})");
                    assert!((acc[at] as f64 - (p + 1.0)).abs() < 1e-3, "accumulate ({i},{j})");
                    assert!((bare[at] as f64 - p).abs() < 1e-3, "zero ({i},{j})");
                }
            }
        }
    }
}
