//! Texts to unit-length vectors: tokenizer, batching by length, the model
//! backend, pooling and normalisation.
//!
//! `Embedder` owns everything up to the backend: it tokenizes, sorts texts
//! by token count so each batch carries little padding, pads each batch to
//! its own longest text, and returns vectors in the caller's order. The model
//! itself sits behind the `Backend` trait (one implementation per runtime,
//! chosen once at start-up); `bert::CandleBert` runs BERT-family models on
//! candle's CPU or CUDA device.

pub mod amx;
pub mod bert;
pub mod cpu;

use std::path::Path;
use std::sync::mpsc;

use candle_core::Device;
use serde::Deserialize;
use tokenizers::{Tokenizer, TruncationParams, TruncationStrategy};

use crate::model::ModelDir;
use crate::corpus::split::TokenSpans;

/// The tokenizer's view, used by the Embedder impl.
trait SentenceModelSpans {
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, String>;
    fn max_content_tokens(&self) -> usize;
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("{path}: {message}")]
    Model { path: String, message: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("model computation failed: {0}")]
    Compute(String),
    #[error("{0}")]
    Device(String),
}

/// How token vectors become one passage vector (from the model folder's
/// `1_Pooling/config.json`; mean when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    Mean,
    Cls,
    Max,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The CPU (always available).
    Cpu,
    /// The first CUDA GPU (needs a build with `--features cuda`).
    Cuda,
    /// A CUDA GPU when one is usable, else the CPU.
    Auto,
}

/// Number format of the model's matrix multiplies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats: the reference, in parity with sentence-transformers.
    #[default]
    F32,
    /// bfloat16 products with f32 sums: on CPUs with AMX (Intel Sapphire
    /// Rapids and newer) and on CUDA GPUs. Faster, slightly different vectors.
    Bf16,
}

/// One padded batch of token ids, row-major `rows × len`.
pub struct TokenBatch {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    pub mask: Vec<u32>,
    pub rows: usize,
    pub len: usize,
}

/// A model runtime: turns a padded batch into one pooled vector per row.
pub trait Backend: Send + Sync {
    fn embed_batch(&self, batch: &TokenBatch) -> Result<Vec<Vec<f32>>, EmbedError>;
    fn device_name(&self) -> String;
}

/// What an embedder is, for manifests, reports and `--json` output.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub name: String,
    pub dim: usize,
    pub max_tokens: usize,
    pub pooling: Pooling,
    pub precision: Precision,
    /// Floating-point operations per token in the linear layers (2 per multiply-add).
    pub linear_flops_per_token: f64,
    /// Operations per (query token, key token) pair in attention, all layers.
    pub attention_flops_per_pair: f64,
}

impl ModelInfo {
    /// The work of one forward pass over sequences of the given lengths.
    pub fn flops(&self, tokens: usize, attention_pairs: usize) -> f64 {
        self.linear_flops_per_token * tokens as f64 + self.attention_flops_per_pair * attention_pairs as f64
    }
}

pub struct SentenceModel {
    backend: Box<dyn Backend>,
    tokenizer: Tokenizer,
    /// The same tokenizer without truncation, for the splitter's windows.
    span_tokenizer: Tokenizer,
    pub info: ModelInfo,
    pub batch_size: usize,
    pad_id: u32,
}

/// Counts of one `embed` call, for progress and benchmarks.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmbedStats {
    pub texts: usize,
    /// Tokens the model read, special tokens included, padding excluded.
    pub tokens: usize,
    /// Positions a padded batch would hold (the CPU backend skips padding).
    pub padded_tokens: usize,
    /// Σ length² over texts: the (query, key) pairs attention computes.
    pub attention_pairs: usize,
}

#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, EmbedError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EmbedError::Model { path: path.display().to_string(), message: e.to_string() })?;
    serde_json::from_str(&text).map_err(|e| EmbedError::Model { path: path.display().to_string(), message: e.to_string() })
}

pub fn select_device(choice: DeviceChoice) -> Result<Device, EmbedError> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Cuda => cuda_device(),
        DeviceChoice::Auto => Ok(cuda_device().unwrap_or(Device::Cpu)),
    }
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<Device, EmbedError> {
    Device::new_cuda(0).map_err(|e| EmbedError::Device(format!("no usable CUDA device: {e}")))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<Device, EmbedError> {
    Err(EmbedError::Device(
        "this motif was built without CUDA; rebuild with `cargo build --release --features cuda` (needs the CUDA toolkit)".into(),
    ))
}

impl SentenceModel {
    /// Loads a sentence-transformers folder: config.json, model.safetensors,
    /// tokenizer.json, and 1_Pooling/config.json and sentence_bert_config.json
    /// when present.
    pub fn load(model: &ModelDir, device: DeviceChoice) -> Result<Self, EmbedError> {
        Self::load_with(model, device, Precision::F32)
    }

    /// As `load`, in the given precision.
    pub fn load_with(model: &ModelDir, device: DeviceChoice, precision: Precision) -> Result<Self, EmbedError> {
        let dir = &model.dir;
        for required in ["config.json", "model.safetensors", "tokenizer.json"] {
            if !dir.join(required).is_file() {
                return Err(EmbedError::Model {
                    path: dir.display().to_string(),
                    message: format!("no {required}: a model folder needs config.json, model.safetensors and tokenizer.json"),
                });
            }
        }
        let config: bert::BertConfig = read_json(&dir.join("config.json"))?;
        if let Some(t) = &config.model_type {
            if !matches!(t.as_str(), "bert" | "roberta" | "xlm-roberta" | "camembert") && !t.contains("bert") {
                return Err(EmbedError::Model {
                    path: dir.join("config.json").display().to_string(),
                    message: format!("model_type {t} is not BERT-family; motif runs BERT-family encoders"),
                });
            }
        }
        let pooling = if dir.join("1_Pooling/config.json").is_file() {
            let p: PoolingConfig = read_json(&dir.join("1_Pooling/config.json"))?;
            if p.pooling_mode_cls_token {
                Pooling::Cls
            } else if p.pooling_mode_max_tokens {
                Pooling::Max
            } else {
                Pooling::Mean
            }
        } else {
            Pooling::Mean
        };
        let max_tokens = if dir.join("sentence_bert_config.json").is_file() {
            read_json::<SentenceBertConfig>(&dir.join("sentence_bert_config.json"))?.max_seq_length
        } else {
            None
        }
        .or(model.known.map(|k| k.max_tokens))
        .unwrap_or(512)
        .min(config.max_position_embeddings);

        let tokenizer = load_tokenizer(&dir.join("tokenizer.json"), max_tokens)?;
        let mut span_tokenizer = tokenizer.clone();
        span_tokenizer.with_truncation(None).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let pad_id = tokenizer.get_padding().map(|p| p.pad_id).or_else(|| tokenizer.token_to_id("[PAD]")).unwrap_or(0);
        let device = select_device(device)?;
        // The native backend on the CPU; candle where it has a device we
        // don't (CUDA), or when asked for, to compare.
        let use_candle = !device.is_cpu() || std::env::var("MOTIF_BACKEND").is_ok_and(|b| b == "candle");
        let backend: Box<dyn Backend> = if use_candle {
            Box::new(bert::CandleBert::load(dir, &config, pooling, &device, precision)?)
        } else {
            Box::new(cpu::CpuBert::load(dir, &config, pooling, precision)?)
        };
        let (h, layers) = (config.hidden_size as f64, config.num_hidden_layers as f64);
        let info = ModelInfo {
            name: model.name.clone(),
            dim: config.hidden_size,
            max_tokens,
            pooling,
            precision,
            // Q, K, V and output projections (4h²) and the feed-forward pair (2·h·inter).
            linear_flops_per_token: 2.0 * layers * (4.0 * h * h + 2.0 * h * config.intermediate_size as f64),
            // Q·Kᵀ and P·V: h multiply-adds each per pair.
            attention_flops_per_pair: 2.0 * layers * 2.0 * h,
        };
        Ok(SentenceModel { backend, tokenizer, span_tokenizer, info, batch_size: 32, pad_id })
    }

    pub fn device_name(&self) -> String {
        self.backend.device_name()
    }

    /// Embeds texts, returning unit-length vectors in input order. Texts
    /// longer than the model's maximum are truncated as sentence-transformers
    /// does; passages from the splitter never are, because it windows them.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_with_progress(texts, &mut |_| {}).map(|(v, _)| v)
    }

    /// As `embed`, calling `progress` with the number of texts finished after
    /// each batch. The next chunk is tokenized on another thread while the
    /// model runs, so the tokenizer's time hides behind the model's.
    pub fn embed_with_progress(
        &self,
        texts: &[&str],
        progress: &mut dyn FnMut(usize),
    ) -> Result<(Vec<Vec<f32>>, EmbedStats), EmbedError> {
        // Sorting within chunks keeps padding low without holding every
        // text's tokens in memory at once.
        const CHUNK: usize = 2048;
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        let mut stats = EmbedStats { texts: texts.len(), ..Default::default() };
        std::thread::scope(|scope| -> Result<(), EmbedError> {
            let (tx, rx) = mpsc::sync_channel::<Result<(usize, Vec<Vec<u32>>), EmbedError>>(1);
            scope.spawn(move || {
                for (c, chunk) in texts.chunks(CHUNK).enumerate() {
                    if tx.send(self.token_ids(chunk).map(|ids| (c * CHUNK, ids))).is_err() {
                        return;
                    }
                }
            });
            for message in rx {
                let (offset, ids) = message?;
                let mut order: Vec<usize> = (0..ids.len()).collect();
                order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
                for rows in order.chunks(self.batch_size.max(1)) {
                    let batch = self.pad(rows.iter().map(|&i| ids[i].as_slice()));
                    stats.tokens += rows.iter().map(|&i| ids[i].len()).sum::<usize>();
                    stats.padded_tokens += batch.rows * batch.len;
                    stats.attention_pairs += rows.iter().map(|&i| ids[i].len() * ids[i].len()).sum::<usize>();
                    let vectors = self.backend.embed_batch(&batch)?;
                    for (&i, mut v) in rows.iter().zip(vectors) {
                        normalize(&mut v);
                        out[offset + i] = v;
                    }
                    progress(rows.len());
                }
            }
            Ok(())
        })?;
        Ok((out, stats))
    }

    /// Token ids with special tokens, truncated to the model's maximum.
    pub fn token_ids(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch_fast(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        Ok(encodings.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    fn pad<'a>(&self, rows: impl Iterator<Item = &'a [u32]> + Clone) -> TokenBatch {
        let len = rows.clone().map(<[u32]>::len).max().unwrap_or(0).max(1);
        let n = rows.clone().count();
        let mut batch = TokenBatch {
            ids: vec![self.pad_id; n * len],
            type_ids: vec![0; n * len],
            mask: vec![0; n * len],
            rows: n,
            len,
        };
        for (r, ids) in rows.enumerate() {
            batch.ids[r * len..r * len + ids.len()].copy_from_slice(ids);
            batch.mask[r * len..r * len + ids.len()].fill(1);
        }
        batch
    }
}

fn load_tokenizer(path: &Path, max_tokens: usize) -> Result<Tokenizer, EmbedError> {
    let mut tokenizer = Tokenizer::from_file(path)
        .map_err(|e| EmbedError::Model { path: path.display().to_string(), message: format!("bad tokenizer: {e}") })?;
    // tokenizer.json files often ship fixed padding and a shorter truncation
    // (all-MiniLM-L6-v2's: 128); sentence-transformers pads per batch and
    // truncates at max_seq_length, and parity needs the same.
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_tokens,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            ..Default::default()
        }))
        .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
    Ok(tokenizer)
}

pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb).max(f32::MIN_POSITIVE)
}

impl SentenceModelSpans for SentenceModel {
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, String> {
        let encoding = self.span_tokenizer.encode(text, false).map_err(|e| e.to_string())?;
        Ok(encoding.get_offsets().to_vec())
    }

    fn max_content_tokens(&self) -> usize {
        // [CLS] and [SEP] take two of the model's positions.
        self.info.max_tokens.saturating_sub(2).max(1)
    }
}

/// PROVISIONAL (replaced by the motif-bert branch): the seam every stage embeds through.
pub trait Embedder: Send + Sync {
    fn name(&self) -> &str;
    fn dim(&self) -> usize;
    fn max_content_tokens(&self) -> usize;
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedError>;
    fn embed(&self, texts: &[&str], progress: &mut dyn FnMut(usize)) -> Result<ndarray::Array2<f32>, EmbedError>;
    fn device_name(&self) -> String;
}

impl Embedder for SentenceModel {
    fn name(&self) -> &str {
        &self.info.name
    }
    fn dim(&self) -> usize {
        self.info.dim
    }
    fn max_content_tokens(&self) -> usize {
        SentenceModelSpans::max_content_tokens(self)
    }
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedError> {
        SentenceModelSpans::token_spans(self, text).map_err(EmbedError::Tokenizer)
    }
    fn embed(&self, texts: &[&str], progress: &mut dyn FnMut(usize)) -> Result<ndarray::Array2<f32>, EmbedError> {
        let (rows, _) = self.embed_with_progress(texts, progress)?;
        let mut m = ndarray::Array2::zeros((rows.len(), self.info.dim));
        for (mut r, v) in m.rows_mut().into_iter().zip(&rows) {
            r.as_slice_mut().expect("row-major").copy_from_slice(v);
        }
        Ok(m)
    }
    fn device_name(&self) -> String {
        SentenceModel::device_name(self)
    }
}

impl TokenSpans for SentenceModel {
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, String> {
        Embedder::token_spans(self, text).map_err(|e| e.to_string())
    }
    fn max_content_tokens(&self) -> usize {
        Embedder::max_content_tokens(self)
    }
}
