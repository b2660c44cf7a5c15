//! A sentence-transformers model ready to embed: texts in, unit-length
//! vectors out.
//!
//! `SentenceModel` owns everything up to the backend: it tokenizes, sorts
//! texts by token count so each batch carries little padding, pads each
//! batch to its own longest text, pools (in the backend), normalises, and
//! returns the vectors in the caller's order as one matrix. The backend is
//! chosen once, at load, from `LoadOptions`.

use std::sync::mpsc;

use ndarray::Array2;

use crate::backend::arch::Architecture;
use crate::backend::candle::CandleBert;
use crate::backend::cpu::CpuFeatures;
use crate::backend::native::CpuBert;
use crate::backend::weights::{read_json, BertConfig};
use crate::backend::{select_device, Backend, BackendKind, DeviceChoice, Pooling, Precision};
use crate::error::Error;
use crate::folder::FolderConfig;
use crate::model::ModelDir;
use crate::tokenize::Tokens;

/// How a model is loaded and run; the defaults are the reference setting
/// (CPU, f32, native kernels, batches of 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    pub device: DeviceChoice,
    pub precision: Precision,
    /// Texts per model call; 16-32 suits CPUs, larger suits GPUs (0 counts as 1).
    pub batch_size: usize,
    pub backend: BackendKind,
    /// What the CPU kernels may use: `CpuFeatures::detect()`, less any
    /// features hidden to try another CPU's path.
    pub cpu: CpuFeatures,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            device: DeviceChoice::Cpu,
            precision: Precision::F32,
            batch_size: 32,
            backend: BackendKind::Native,
            cpu: CpuFeatures::detect(),
        }
    }
}

/// What a model is, for manifests, reports and `--json` output.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub name: String,
    pub dim: usize,
    /// Tokens the model reads at once, special tokens included.
    pub max_tokens: usize,
    pub pooling: Pooling,
    /// The encoder family (`backend::arch`): "bert", "roberta", "mpnet".
    pub architecture: &'static str,
    /// The precision it computes in (never `Auto`).
    pub precision: Precision,
    /// Which multiply computes it ("int8 on AVX-512 VNNI").
    pub kernels: String,
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

/// Counts of one `embed_with_stats` call, for benchmarks.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmbedStats {
    pub texts: usize,
    /// Tokens the model read, special tokens included, padding excluded.
    pub tokens: usize,
    /// Positions a padded batch would hold (the native backend skips padding).
    pub padded_tokens: usize,
    /// Σ length² over texts: the (query, key) pairs attention computes.
    pub attention_pairs: usize,
}

pub struct SentenceModel {
    backend: Box<dyn Backend>,
    tokens: Tokens,
    info: ModelInfo,
    batch_size: usize,
    /// Why `DeviceChoice::Auto` ended on the CPU.
    fallback: Option<String>,
    /// Pooling, prompts and lower-casing as the folder says.
    folder: FolderConfig,
    /// Tokens of the longer prompt: the splitter's windows leave room for it.
    prompt_tokens: usize,
}

/// What a text is to the model, which picks its prompt (`Prompts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Texts indexed and compared with each other.
    Passage,
    /// A search query.
    Query,
}

impl SentenceModel {
    /// Loads a sentence-transformers folder of a BERT, RoBERTa/XLM-R or
    /// MPNet encoder: config.json, model.safetensors, tokenizer.json, and
    /// the sentence-transformers files when present (`folder`). A known
    /// model must have been fetched (`model::ensure`).
    pub fn load(model: &ModelDir, options: &LoadOptions) -> Result<Self, Error> {
        let dir = &model.dir;
        for required in ["config.json", "model.safetensors", "tokenizer.json"] {
            if !dir.join(required).is_file() {
                return Err(Error::Model {
                    path: dir.clone(),
                    message: format!(
                        "no {required}: a model folder needs config.json, model.safetensors and tokenizer.json"
                    ),
                });
            }
        }
        let config: BertConfig = read_json(&dir.join("config.json"))?;
        let arch = Architecture::of(&config, &dir.join("config.json"))?;
        let folder = FolderConfig::read(dir, config.hidden_size)?;
        if let Some(known) = model.known.filter(|k| k.dim != config.hidden_size) {
            return Err(Error::Model {
                path: dir.join("config.json"),
                message: format!(
                    "hidden_size is {} but the manifest's {} has {} dimensions: not that model's files",
                    config.hidden_size, known.name, known.dim
                ),
            });
        }
        let max_tokens =
            folder.max_seq_length.or(model.known.map(|k| k.max_tokens)).unwrap_or(512).min(arch.max_tokens(&config));
        let tokens = Tokens::load(&dir.join("tokenizer.json"), max_tokens)?;
        let pooling = folder.pooling;
        let selected = select_device(options.device)?;
        let device = selected.device;
        // The native backend on the CPU; candle where it has a device we
        // don't (CUDA), or when asked for, to compare.
        let backend: Box<dyn Backend> = if !device.is_cpu() || options.backend == BackendKind::Candle {
            Box::new(CandleBert::load(dir, &config, pooling, &device, options.precision)?)
        } else {
            Box::new(CpuBert::load(dir, &config, pooling, options.precision, &options.cpu)?)
        };
        let (kernels, precision) = (backend.kernels(), backend.precision());
        let (h, layers) = (config.hidden_size as f64, config.num_hidden_layers as f64);
        let info = ModelInfo {
            name: model.name.clone(),
            dim: config.hidden_size,
            max_tokens,
            pooling,
            architecture: arch.name(),
            precision,
            kernels,
            // Q, K, V and output projections (4h²) and the feed-forward pair (2·h·inter).
            linear_flops_per_token: 2.0 * layers * (4.0 * h * h + 2.0 * h * config.intermediate_size as f64),
            // Q·Kᵀ and P·V: h multiply-adds each per pair.
            attention_flops_per_pair: 2.0 * layers * 2.0 * h,
        };
        let prompt_tokens = |p: &Option<String>| -> Result<usize, Error> {
            Ok(match p {
                Some(p) => tokens.offsets(p)?.len(),
                None => 0,
            })
        };
        let prompt_tokens = prompt_tokens(&folder.prompts.passage)?.max(prompt_tokens(&folder.prompts.query)?);
        Ok(SentenceModel {
            backend,
            tokens,
            info,
            batch_size: options.batch_size.max(1),
            fallback: selected.fallback,
            folder,
            prompt_tokens,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Where it runs ("cpu", "cuda:0"), with the reason when `--device auto`
    /// found no GPU: "cpu (auto: …)".
    pub fn device_name(&self) -> String {
        match &self.fallback {
            Some(why) => format!("{} (auto: {why})", self.backend.device_name()),
            None => self.backend.device_name(),
        }
    }

    /// Why `DeviceChoice::Auto` ended on the CPU; None when it did not.
    pub fn device_fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// Content tokens the model reads at once: its maximum less the two
    /// special tokens ([CLS], [SEP] or <s>, </s>) it adds and its prompt.
    pub fn max_content_tokens(&self) -> usize {
        self.info.max_tokens.saturating_sub(2 + self.prompt_tokens).max(1)
    }

    /// The folder's pooling, prompts and lower-casing.
    pub fn folder(&self) -> &FolderConfig {
        &self.folder
    }

    /// What the tokenizer reads for a text in a role: the role's prompt
    /// before it, lower-cased when the folder says so, as
    /// sentence-transformers' `encode(prompt_name=…)` builds it.
    fn prepare<'t>(&self, texts: &[&'t str], role: Role) -> Vec<std::borrow::Cow<'t, str>> {
        let prompt = self.prompt(role);
        texts
            .iter()
            .map(|&t| {
                let t: std::borrow::Cow<str> = match prompt {
                    Some(p) => format!("{p}{t}").into(),
                    None => t.into(),
                };
                if self.folder.do_lower_case {
                    t.to_lowercase().into()
                } else {
                    t
                }
            })
            .collect()
    }

    /// Tokens pooling leaves out in this role: [CLS] and the prompt when the
    /// pooling config excludes the prompt (sentence-transformers' `prompt_length`).
    fn pool_skip(&self, role: Role) -> Result<usize, Error> {
        Ok(match self.prompt(role) {
            Some(p) if !self.folder.include_prompt => self.tokens.ids(&[p])?[0].len().saturating_sub(1),
            _ => 0,
        })
    }

    /// The prompt the folder gives texts in this role.
    fn prompt(&self, role: Role) -> Option<&str> {
        match role {
            Role::Passage => self.folder.prompts.passage.as_deref(),
            Role::Query => self.folder.prompts.query.as_deref(),
        }
    }

    /// Unit-length vectors, one row per text in input order, with counts of
    /// the work done; calls `progress(n)` as n more texts are done. Texts
    /// longer than the model's maximum are truncated as sentence-transformers
    /// does (the splitter windows passages so that none is).
    ///
    /// The next chunk is tokenized on another thread while the model runs,
    /// so the tokenizer's time hides behind the model's.
    pub fn embed_with_stats(
        &self,
        texts: &[&str],
        progress: &mut dyn FnMut(usize),
    ) -> Result<(Array2<f32>, EmbedStats), Error> {
        self.embed_as(Role::Passage, texts, progress)
    }

    /// `embed_with_stats` for texts in a role (its prompt, if the model has one).
    pub fn embed_as(
        &self,
        role: Role,
        texts: &[&str],
        progress: &mut dyn FnMut(usize),
    ) -> Result<(Array2<f32>, EmbedStats), Error> {
        let prepared = self.prepare(texts, role);
        let texts: Vec<&str> = prepared.iter().map(|t| t.as_ref()).collect();
        let texts = texts.as_slice();
        let pool_skip = self.pool_skip(role)?;
        // Sorting within chunks keeps padding low without holding every
        // text's tokens in memory at once.
        const CHUNK: usize = 2048;
        let dim = self.info.dim;
        let mut out = vec![0f32; texts.len() * dim];
        let mut stats = EmbedStats { texts: texts.len(), ..Default::default() };
        std::thread::scope(|scope| -> Result<(), Error> {
            let (tx, rx) = mpsc::sync_channel::<Result<(usize, Vec<Vec<u32>>), Error>>(1);
            scope.spawn(move || {
                for (c, chunk) in texts.chunks(CHUNK).enumerate() {
                    if tx.send(self.tokens.ids(chunk).map(|ids| (c * CHUNK, ids))).is_err() {
                        return;
                    }
                }
            });
            for message in rx {
                let (offset, ids) = message?;
                let mut order: Vec<usize> = (0..ids.len()).collect();
                order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
                for rows in order.chunks(self.batch_size) {
                    let mut batch = self.tokens.pad(rows.iter().map(|&i| ids[i].as_slice()));
                    batch.pool_skip = pool_skip;
                    stats.tokens += rows.iter().map(|&i| ids[i].len()).sum::<usize>();
                    stats.padded_tokens += batch.rows * batch.len;
                    stats.attention_pairs += rows.iter().map(|&i| ids[i].len() * ids[i].len()).sum::<usize>();
                    let vectors = self.backend.embed_batch(&batch)?;
                    for (&i, mut v) in rows.iter().zip(vectors) {
                        if v.len() != dim {
                            return Err(Error::Shape { expected: dim, got: v.len() });
                        }
                        normalize(&mut v);
                        let row = offset + i;
                        out[row * dim..(row + 1) * dim].copy_from_slice(&v);
                    }
                    progress(rows.len());
                }
            }
            Ok(())
        })?;
        let matrix = Array2::from_shape_vec((texts.len(), dim), out).expect("the buffer holds texts × dim values");
        Ok((matrix, stats))
    }

    /// Token ids with special tokens, truncated to the model's maximum.
    pub fn token_ids(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, Error> {
        self.tokens.ids(texts)
    }

    /// Byte ranges of the text's tokens: no special tokens, no truncation.
    pub fn token_offsets(&self, text: &str) -> Result<Vec<(usize, usize)>, Error> {
        self.tokens.offsets(text)
    }
}

fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}
