//! A BERT encoder in candle, as sentence-transformers runs it: word +
//! position + token-type embeddings, N post-norm transformer layers with
//! exact (erf) GELU, then pooling over the attention mask.
//!
//! It follows candle-transformers' BertModel, with three changes: Q, K and V
//! are one fused projection (one large matrix multiply instead of three),
//! the attention mask is a finite bias (f32::MIN turns into -inf in half
//! precision and then NaN), and tokens are kept flat as (batch × length,
//! hidden) so every projection is a plain 2-D GEMM.

use std::path::Path;

use candle_core::{DType, Device, Tensor, D};

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
    token_type: Tensor,
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
        let path = dir.join("config.json");
        let model_err = |message: String| Error::Model { path: path.clone(), message };
        if !config.hidden_act.starts_with("gelu") {
            return Err(model_err(format!(
                "activation {} is not supported (BERT-family models use gelu)",
                config.hidden_act
            )));
        }
        if !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            return Err(model_err("hidden_size is not a multiple of num_attention_heads".into()));
        }
        let dtype = match precision {
            Precision::F32 => DType::F32,
            Precision::Bf16 if device.is_cuda() => DType::BF16,
            Precision::Bf16 => {
                return Err(Error::Device("bf16 on the CPU runs on the native backend, not candle's".into()))
            }
        };
        let w = Weights::load(dir, device, dtype)?;
        let eps = config.layer_norm_eps;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let q = Dense::load(&w, &format!("{p}.attention.self.query"))?;
            let k = Dense::load(&w, &format!("{p}.attention.self.key"))?;
            let v = Dense::load(&w, &format!("{p}.attention.self.value"))?;
            let fuse = |a: [&Tensor; 3]| {
                Tensor::cat(&a, 0)
                    .map_err(|source| Error::Weights { path: w.path().to_path_buf(), source: Box::new(source) })
            };
            let qkv =
                Dense { weight: fuse([&q.weight, &k.weight, &v.weight])?, bias: fuse([&q.bias, &k.bias, &v.bias])? };
            layers.push(Layer {
                qkv,
                attn_out: Dense::load(&w, &format!("{p}.attention.output.dense"))?,
                attn_norm: Norm::load(&w, &format!("{p}.attention.output.LayerNorm"), eps)?,
                up: Dense::load(&w, &format!("{p}.intermediate.dense"))?,
                down: Dense::load(&w, &format!("{p}.output.dense"))?,
                out_norm: Norm::load(&w, &format!("{p}.output.LayerNorm"), eps)?,
            });
        }
        Ok(CandleBert {
            word: w.get("embeddings.word_embeddings.weight")?,
            position: w.get("embeddings.position_embeddings.weight")?,
            token_type: w.get("embeddings.token_type_embeddings.weight")?,
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
        let positions = Tensor::arange(0u32, l as u32, &self.device)?;
        let x = self.word.index_select(&ids, 0)?.reshape((b, l, self.hidden))?;
        let x = x.broadcast_add(&self.position.index_select(&positions, 0)?)?;
        let x = (x + self.token_type.index_select(&types, 0)?.reshape((b, l, self.hidden))?)?;
        let mut x = self.embed_norm.forward(&x.reshape((b * l, self.hidden))?)?;
        let mask = Tensor::from_slice(&batch.mask, (b, 1, 1, l), &self.device)?.to_dtype(self.dtype)?;
        let bias = ((1.0 - mask)? * MASK_BIAS)?;
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
        match self.pooling {
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1),
            Pooling::Mean => {
                let mask =
                    Tensor::from_slice(&batch.mask, (batch.rows, batch.len, 1), &self.device)?.to_dtype(DType::F32)?;
                let sum = hidden.broadcast_mul(&mask)?.sum(1)?;
                let count = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
                sum.broadcast_div(&count)
            }
            Pooling::Max => {
                let mask =
                    Tensor::from_slice(&batch.mask, (batch.rows, batch.len, 1), &self.device)?.to_dtype(DType::F32)?;
                let masked = hidden.broadcast_add(&((1.0 - mask)? * -1e9)?)?;
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

    fn device_name(&self) -> String {
        match &self.device {
            Device::Cpu => "cpu".into(),
            Device::Cuda(_) => "cuda:0".into(),
            other => format!("{other:?}"),
        }
    }
}
