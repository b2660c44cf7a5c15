//! A BERT-family encoder in candle (BERT, RoBERTa/XLM-R, MPNet: see
//! `arch`), as sentence-transformers runs it: word + position + token-type
//! embeddings, N post-norm transformer layers with exact (erf) GELU (and
//! MPNet's relative position bias), then pooling over the attention mask.
//!
//! It follows candle-transformers' BertModel, with three changes: Q, K and V
//! are one fused projection (one large matrix multiply instead of three),
//! the attention mask is a finite bias (f32::MIN turns into -inf in half
//! precision and then NaN), and tokens are kept flat as (batch × length,
//! hidden) so every projection is a plain 2-D GEMM.

use std::path::Path;

use candle_core::{DType, Device, Tensor, D};

use super::arch::{Architecture, RelativeBias};
use super::weights::{BertConfig, Weights};
use super::{Backend, Pooling, Precision, TokenBatch};
use crate::error::Error;

/// Added to the attention scores of padding positions. Finite, so that it
/// stays finite in f16/bf16; exp(-10000) is 0 in every float type.
const MASK_BIAS: f64 = -10_000.0;

struct Dense {
    weight: Tensor,
    bias: Tensor,
}

impl Dense {
    fn load(w: &Weights, name: &str) -> Result<Dense, Error> {
        Ok(Dense { weight: w.get(&format!("{name}.weight"))?, bias: w.get(&format!("{name}.bias"))? })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.weight.t()?)?.broadcast_add(&self.bias)
    }
}

struct Norm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl Norm {
    fn load(w: &Weights, name: &str, eps: f64) -> Result<Norm, Error> {
        Ok(Norm { weight: w.get(&format!("{name}.weight"))?, bias: w.get(&format!("{name}.bias"))?, eps: eps as f32 })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm(x, &self.weight, &self.bias, self.eps)
    }
}

struct Layer {
    qkv: Dense,
    attn_out: Dense,
    attn_norm: Norm,
    up: Dense,
    down: Dense,
    out_norm: Norm,
}

pub struct CandleBert {
    word: Tensor,
    position: Tensor,
    /// None for families without token types (MPNet).
    token_type: Option<Tensor>,
    first_position: usize,
    relative: Option<RelativeBias>,
    embed_norm: Norm,
    layers: Vec<Layer>,
    heads: usize,
    head_dim: usize,
    hidden: usize,
    pooling: Pooling,
    dtype: DType,
    device: Device,
}

impl CandleBert {
    pub fn load(
        dir: &Path,
        config: &BertConfig,
        pooling: Pooling,
        device: &Device,
        precision: Precision,
    ) -> Result<Self, Error> {
        let arch = Architecture::of(config, &dir.join("config.json"))?;
        let dtype = match precision {
            Precision::F32 => DType::F32,
            // The GPU's fastest within the quality bounds: bf16 tensor cores.
            Precision::Bf16 | Precision::Auto if device.is_cuda() => DType::BF16,
            Precision::Auto => DType::F32,
            Precision::Bf16 => {
                return Err(Error::Device("bf16 on the CPU runs on the native backend, not candle's".into()))
            }
            Precision::Int8 => {
                return Err(Error::Device(
                    "--precision int8 runs on the CPU's native kernels only; on a GPU use bf16".into(),
                ))
            }
        };
        let w = Weights::load(dir, device, dtype)?;
        let eps = config.layer_norm_eps;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let n = arch.layer_names(i);
            let q = Dense::load(&w, &n.q)?;
            let k = Dense::load(&w, &n.k)?;
            let v = Dense::load(&w, &n.v)?;
            let fuse = |a: [&Tensor; 3]| {
                Tensor::cat(&a, 0)
                    .map_err(|source| Error::Weights { path: w.path().to_path_buf(), source: Box::new(source) })
            };
            let qkv =
                Dense { weight: fuse([&q.weight, &k.weight, &v.weight])?, bias: fuse([&q.bias, &k.bias, &v.bias])? };
            layers.push(Layer {
                qkv,
                attn_out: Dense::load(&w, &n.attn_out)?,
                attn_norm: Norm::load(&w, &n.attn_norm, eps)?,
                up: Dense::load(&w, &n.up)?,
                down: Dense::load(&w, &n.down)?,
                out_norm: Norm::load(&w, &n.out_norm, eps)?,
            });
        }
        Ok(CandleBert {
            word: w.get("embeddings.word_embeddings.weight")?,
            position: w.get("embeddings.position_embeddings.weight")?,
            token_type: arch.token_types().map(|name| w.get(name)).transpose()?,
            first_position: arch.first_position(config),
            relative: arch.relative_bias(&w, config)?,
            embed_norm: Norm::load(&w, "embeddings.LayerNorm", eps)?,
            layers,
            heads: config.num_attention_heads,
            head_dim: config.hidden_size / config.num_attention_heads,
            hidden: config.hidden_size,
            pooling,
            dtype,
            device: device.clone(),
        })
    }

    fn encode(&self, batch: &TokenBatch) -> candle_core::Result<Tensor> {
        let (b, l) = (batch.rows, batch.len);
        let ids = Tensor::from_slice(&batch.ids, b * l, &self.device)?;
        let types = Tensor::from_slice(&batch.type_ids, b * l, &self.device)?;
        let first = self.first_position as u32;
        let positions = Tensor::arange(first, first + l as u32, &self.device)?;
        let x = self.word.index_select(&ids, 0)?.reshape((b, l, self.hidden))?;
        let mut x = x.broadcast_add(&self.position.index_select(&positions, 0)?)?;
        if let Some(token_type) = &self.token_type {
            x = (x + token_type.index_select(&types, 0)?.reshape((b, l, self.hidden))?)?;
        }
        let mut x = self.embed_norm.forward(&x.reshape((b * l, self.hidden))?)?;
        let mask = Tensor::from_slice(&batch.mask, (b, 1, 1, l), &self.device)?.to_dtype(self.dtype)?;
        let mut bias = ((1.0 - mask)? * MASK_BIAS)?;
        if let Some(relative) = &self.relative {
            // (1, heads, l, l): head h, query i, key j gains its bias at distance j − i.
            if l > relative.max() {
                candle_core::bail!("sequence of {l} tokens exceeds the model's {} positions", relative.max());
            }
            let zero = relative.max() - 1;
            let mut values = Vec::with_capacity(self.heads * l * l);
            for h in 0..self.heads {
                let by_distance = relative.head(h);
                for i in 0..l {
                    values.extend((0..l).map(|j| by_distance[zero + j - i]));
                }
            }
            let table = Tensor::from_vec(values, (1, self.heads, l, l), &self.device)?.to_dtype(self.dtype)?;
            bias = bias.broadcast_add(&table)?;
        }
        for layer in &self.layers {
            x = self.layer(layer, &x, b, l, &bias)?;
        }
        x.reshape((b, l, self.hidden))
    }

    fn layer(&self, layer: &Layer, x: &Tensor, b: usize, l: usize, bias: &Tensor) -> candle_core::Result<Tensor> {
        let (h, hd) = (self.heads, self.head_dim);
        let qkv = layer.qkv.forward(x)?.reshape((b, l, 3, h, hd))?.permute((2, 0, 3, 1, 4))?;
        // Scaling Q (b·l·d values) is cheaper than scaling the scores (b·h·l·l).
        let q = (qkv.get(0)?.contiguous()? * (1.0 / (hd as f64).sqrt()))?;
        let k = qkv.get(1)?.contiguous()?;
        let v = qkv.get(2)?.contiguous()?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(bias)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probs.matmul(&v)?.transpose(1, 2)?.reshape((b * l, self.hidden))?;
        let x = layer.attn_norm.forward(&(layer.attn_out.forward(&context)? + x)?)?;
        let up = layer.up.forward(&x)?.gelu_erf()?;
        layer.out_norm.forward(&(layer.down.forward(&up)? + x)?)
    }

    fn pool(&self, hidden: &Tensor, batch: &TokenBatch) -> candle_core::Result<Tensor> {
        let (b, l) = (batch.rows, batch.len);
        // The attention mask less the tokens pooling leaves out (a prompt).
        let lengths: Vec<usize> = batch.mask.chunks_exact(l).map(|m| m.iter().filter(|&&x| x != 0).count()).collect();
        let mut kept = batch.mask.clone();
        for (row, &len) in kept.chunks_exact_mut(l).zip(&lengths) {
            row[..batch.pool_skip.min(len.saturating_sub(1))].fill(0);
        }
        let mask = || Tensor::from_slice(&kept, (b, l, 1), &self.device)?.to_dtype(DType::F32);
        match self.pooling {
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1),
            Pooling::LastToken => {
                let last: Vec<u32> =
                    lengths.iter().enumerate().map(|(r, &len)| (r * l + len.max(1) - 1) as u32).collect();
                let last = Tensor::from_vec(last, b, &self.device)?;
                hidden.reshape((b * l, self.hidden))?.index_select(&last, 0)
            }
            Pooling::Mean | Pooling::MeanSqrtLen => {
                let mask = mask()?;
                let sum = hidden.broadcast_mul(&mask)?.sum(1)?;
                let count = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
                let by = if self.pooling == Pooling::Mean { count } else { count.sqrt()? };
                sum.broadcast_div(&by)
            }
            Pooling::Max => {
                let masked = hidden.broadcast_add(&((1.0 - mask()?)? * -1e9)?)?;
                masked.max(D::Minus2)
            }
        }
    }
}

impl Backend for CandleBert {
    fn embed_batch(&self, batch: &TokenBatch) -> Result<Vec<Vec<f32>>, Error> {
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let hidden = self.encode(batch)?.to_dtype(DType::F32)?;
            self.pool(&hidden, batch)?.to_device(&Device::Cpu)?.to_vec2::<f32>()
        };
        Ok(run()?)
    }

    fn precision(&self) -> Precision {
        if self.dtype == DType::BF16 {
            Precision::Bf16
        } else {
            Precision::F32
        }
    }

    fn kernels(&self) -> String {
        format!("candle {:?}", self.dtype).to_lowercase()
    }

    fn device_name(&self) -> String {
        match &self.device {
            Device::Cpu => "cpu".into(),
            Device::Cuda(_) => "cuda:0".into(),
            other => format!("{other:?}"),
        }
    }
}
