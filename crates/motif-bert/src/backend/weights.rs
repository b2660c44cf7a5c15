//! What both backends read from a model folder: `config.json` and the
//! tensors of `model.safetensors`, whatever prefix and LayerNorm naming the
//! checkpoint uses.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use crate::error::Error;

#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub model_type: Option<String>,
    /// RoBERTa and MPNet count positions on from it (`arch::Architecture::first_position`).
    #[serde(default)]
    pub pad_token_id: Option<usize>,
    #[serde(default)]
    pub position_embedding_type: Option<String>,
    /// MPNet's relative attention buckets.
    #[serde(default)]
    pub relative_attention_num_buckets: Option<usize>,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}

/// Reads a JSON file of the model folder.
pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text).map_err(|source| Error::Json { path: path.to_path_buf(), source })
}

/// Finds tensors whatever prefix a checkpoint uses (`bert.`, `model.`, none)
/// and whichever LayerNorm naming (`weight`/`bias` or `gamma`/`beta`).
pub struct Weights {
    tensors: HashMap<String, Tensor>,
    prefix: String,
    path: PathBuf,
}

impl Weights {
    /// Reads model.safetensors as `dtype` tensors on `device`.
    pub fn load(dir: &Path, device: &Device, dtype: DType) -> Result<Weights, Error> {
        let path = dir.join("model.safetensors");
        let weights_err = |source| Error::Weights { path: path.clone(), source: Box::new(source) };
        let tensors = candle_core::safetensors::load(&path, device).map_err(weights_err)?;
        let tensors: HashMap<String, Tensor> = tensors
            .into_iter()
            .map(|(k, t)| t.to_dtype(dtype).map(|t| (k, t)))
            .collect::<candle_core::Result<_>>()
            .map_err(weights_err)?;
        let prefix = ["", "bert.", "roberta.", "mpnet.", "model.", "0.auto_model."]
            .into_iter()
            .find(|p| tensors.contains_key(&format!("{p}embeddings.word_embeddings.weight")))
            .ok_or_else(|| Error::Model {
                path: path.clone(),
                message: "no encoder embeddings (embeddings.word_embeddings.weight) in this file".into(),
            })?
            .to_string();
        Ok(Weights { tensors, prefix, path })
    }

    /// A tensor's values, flattened row-major.
    pub fn vec(&self, name: &str) -> Result<Vec<f32>, Error> {
        self.get(name)?.flatten_all().and_then(|t| t.to_vec1::<f32>()).map_err(|source| Error::Tensor {
            path: self.path.clone(),
            name: name.to_string(),
            source: Box::new(source),
        })
    }

    pub fn get(&self, name: &str) -> Result<Tensor, Error> {
        let full = format!("{}{name}", self.prefix);
        if let Some(t) = self.tensors.get(&full) {
            return Ok(t.clone());
        }
        let legacy = full.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta");
        self.tensors
            .get(&legacy)
            .cloned()
            .ok_or_else(|| Error::Model { path: self.path.clone(), message: format!("missing tensor {full}") })
    }

    /// The file the tensors came from, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
