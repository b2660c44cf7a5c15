//! The encoder families motif runs, told apart by config.json's
//! `model_type`, and what differs between them. All three are BERT's
//! post-norm layer (attention, residual + LayerNorm, GELU feed-forward,
//! residual + LayerNorm); they differ in
//! - tensor names (MPNet: `attention.attn.q`, `attention.LayerNorm`);
//! - where position ids start: BERT at 0, RoBERTa/XLM-R and MPNet at
//!   `padding_idx + 1` (transformers' `create_position_ids_from_input_ids`);
//! - token types: BERT has two, RoBERTa one, MPNet none;
//! - MPNet adds a learned bias per head and relative distance (bucketed)
//!   to every attention score, shared by all layers.
//!
//! Both backends read these facts from here, so an architecture is added
//! in one place.

use std::path::Path;

use super::weights::{BertConfig, Weights};
use crate::error::Error;

/// The `model_type`s motif runs, for messages.
pub const SUPPORTED: &str = "bert, roberta, xlm-roberta, camembert and mpnet";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    Bert,
    /// RoBERTa, XLM-RoBERTa, CamemBERT: BERT's layer, positions from padding_idx + 1.
    Roberta,
    MPNet,
}

/// The tensor names of one layer.
pub struct LayerNames {
    pub q: String,
    pub k: String,
    pub v: String,
    pub attn_out: String,
    pub attn_norm: String,
    pub up: String,
    pub down: String,
    pub out_norm: String,
}

impl Architecture {
    /// The family config.json names; a config without `model_type` (old
    /// BERT checkpoints) is BERT.
    pub fn of(config: &BertConfig, path: &Path) -> Result<Architecture, Error> {
        let model_err = |message: String| Error::Model { path: path.to_path_buf(), message };
        let arch = match config.model_type.as_deref() {
            None | Some("bert") => Architecture::Bert,
            Some("roberta" | "xlm-roberta" | "camembert") => Architecture::Roberta,
            Some("mpnet") => Architecture::MPNet,
            Some(other) => {
                return Err(model_err(format!(
                    "model_type \"{other}\" is not supported; motif runs {SUPPORTED} encoders"
                )))
            }
        };
        if let Some(kind) = config.position_embedding_type.as_deref().filter(|k| *k != "absolute") {
            return Err(model_err(format!(
                "position_embedding_type \"{kind}\" is not supported; motif runs absolute position embeddings"
            )));
        }
        if !config.hidden_act.starts_with("gelu") {
            return Err(model_err(format!(
                "activation {} is not supported (these encoders use gelu)",
                config.hidden_act
            )));
        }
        if config.num_attention_heads == 0 || !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            return Err(model_err("hidden_size is not a multiple of num_attention_heads".into()));
        }
        Ok(arch)
    }

    pub fn name(self) -> &'static str {
        match self {
            Architecture::Bert => "bert",
            Architecture::Roberta => "roberta",
            Architecture::MPNet => "mpnet",
        }
    }

    /// The position id of a sequence's first token.
    pub fn first_position(self, config: &BertConfig) -> usize {
        match self {
            Architecture::Bert => 0,
            // Pads take padding_idx itself; real tokens count on from it.
            Architecture::Roberta | Architecture::MPNet => config.pad_token_id.unwrap_or(1) + 1,
        }
    }

    /// Tokens a sequence may hold: the position table less its offset.
    pub fn max_tokens(self, config: &BertConfig) -> usize {
        config.max_position_embeddings.saturating_sub(self.first_position(config)).max(1)
    }

    pub fn layer_names(self, layer: usize) -> LayerNames {
        let p = format!("encoder.layer.{layer}");
        // Only the attention block is named differently; the feed-forward is BERT's.
        let (q, k, v, attn_out, attn_norm) = match self {
            Architecture::Bert | Architecture::Roberta => {
                ("self.query", "self.key", "self.value", "output.dense", "output.LayerNorm")
            }
            Architecture::MPNet => ("attn.q", "attn.k", "attn.v", "attn.o", "LayerNorm"),
        };
        let attention = |part: &str| format!("{p}.attention.{part}");
        LayerNames {
            q: attention(q),
            k: attention(k),
            v: attention(v),
            attn_out: attention(attn_out),
            attn_norm: attention(attn_norm),
            up: format!("{p}.intermediate.dense"),
            down: format!("{p}.output.dense"),
            out_norm: format!("{p}.output.LayerNorm"),
        }
    }

    /// The token-type table, if the family has one.
    pub fn token_types(self) -> Option<&'static str> {
        match self {
            Architecture::MPNet => None,
            _ => Some("embeddings.token_type_embeddings.weight"),
        }
    }

    /// MPNet's relative attention bias, laid out for lookup; None for the others.
    pub fn relative_bias(self, w: &Weights, config: &BertConfig) -> Result<Option<RelativeBias>, Error> {
        if self != Architecture::MPNet {
            return Ok(None);
        }
        let name = "encoder.relative_attention_bias.weight";
        let table = w.vec(name)?;
        let heads = config.num_attention_heads;
        let buckets = config.relative_attention_num_buckets.unwrap_or(32);
        if table.len() != buckets * heads || buckets < MPNET_BUCKETS {
            return Err(Error::Model {
                path: w.path().to_path_buf(),
                message: format!("{name} holds {} values, not {MPNET_BUCKETS} buckets × {heads} heads", table.len()),
            });
        }
        Ok(Some(RelativeBias::new(&table, heads, self.max_tokens(config))))
    }
}

/// The buckets MPNet's encoder uses: transformers calls
/// `compute_position_bias(x)` with its default `num_buckets=32`, whatever
/// the config says (modeling_mpnet.py, `MPNetEncoder.forward`).
const MPNET_BUCKETS: usize = 32;
const MPNET_MAX_DISTANCE: f32 = 128.0;

/// The bucket of a relative distance `key - query`, as transformers'
/// `MPNetEncoder.relative_position_bucket` computes it (modeling_mpnet.py):
/// half the buckets per direction, exact up to 8, logarithmic up to 128,
/// the last bucket beyond. In f32, as torch computes it, so that distances
/// on the boundaries (16, 32, 64) fall in the same bucket.
pub fn relative_bucket(relative: i64) -> usize {
    let half = (MPNET_BUCKETS / 2) as i64;
    let n = -relative;
    let mut bucket = if n < 0 { half } else { 0 };
    let n = n.abs();
    let max_exact = half / 2;
    bucket += if n < max_exact {
        n
    } else {
        let ratio = (n as f32 / max_exact as f32).ln() / (MPNET_MAX_DISTANCE / max_exact as f32).ln();
        let large = max_exact + (ratio * (half - max_exact) as f32) as i64;
        large.min(half - 1)
    };
    bucket as usize
}

/// The bias each head adds to a score, by distance: `at(head, key - query)`.
pub struct RelativeBias {
    /// heads rows of 2·max − 1 values, distance −(max − 1) first.
    values: Vec<f32>,
    max: usize,
}

impl RelativeBias {
    fn new(table: &[f32], heads: usize, max: usize) -> RelativeBias {
        let span = 2 * max - 1;
        let mut values = vec![0f32; heads * span];
        for (i, d) in (-(max as i64 - 1)..max as i64).enumerate() {
            let bucket = relative_bucket(d);
            for h in 0..heads {
                values[h * span + i] = table[bucket * heads + h];
            }
        }
        RelativeBias { values, max }
    }

    /// Head `head`'s values from distance −(max − 1) to max − 1: index
    /// `max - 1 + d` holds distance d.
    pub fn head(&self, head: usize) -> &[f32] {
        let span = 2 * self.max - 1;
        &self.values[head * span..(head + 1) * span]
    }

    /// Longest sequence the table covers.
    pub fn max(&self) -> usize {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// transformers 5.24 `MPNetEncoder.relative_position_bucket(torch.tensor(d))`
    /// at distances d (key − query) around every boundary, printed by torch 2.15.
    #[test]
    fn buckets_match_transformers() {
        let expected = [
            (0, 0),
            (-1, 1),
            (-7, 7),
            (-8, 8),
            (-11, 8),
            (-12, 9),
            (-16, 10),
            (-31, 11),
            (-32, 12),
            (-64, 14),
            (-127, 15),
            (-128, 15),
            (-140, 15),
            (1, 17),
            (8, 24),
            (16, 26),
            (32, 28),
            (64, 30),
            (140, 31),
            (11, 24),
            (12, 25),
            (15, 25),
            (17, 26),
            (22, 26),
            (23, 27),
            (45, 28),
            (46, 29),
            (90, 30),
            (91, 31),
        ];
        for (d, b) in expected {
            assert_eq!(relative_bucket(d), b, "distance {d}");
        }
    }
}
