//! Interchange with the tools people already run (DuckDB, pandas, Spark,
//! Ray, vector stores): an index's tables and the analyses' results written
//! as Parquet or JSON lines with a documented schema (`export`), and
//! passages whose vectors were computed elsewhere read back for indexing
//! (`import`), through `crate::table`, the one Parquet/JSON-lines reader
//! and writer.
//!
//! Every Parquet file motif writes carries its provenance as key-value
//! metadata (`motif.model`, `motif.model_fingerprint`, `motif.dim`,
//! `motif.split`, `motif.version`, `motif.table`), so vectors made by one
//! model are never mixed with another's.

pub mod export;
pub mod import;

use std::collections::HashMap;
use std::path::Path;

pub use crate::table::Format;
use crate::table::TableError;

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: row {row}: {message}")]
    BadValue { path: String, row: usize, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error(
        "{path}: its vectors were made by model {have} (fingerprint {have_fp}), but this index uses {want} (fingerprint {want_fp}); vectors of different models do not mix. Index it with --model {have}, or into another --index DIR"
    )]
    ModelMismatch { path: String, have: String, have_fp: String, want: String, want_fp: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl ExchangeError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        ExchangeError::Io { path: path.display().to_string(), source }
    }
}

/// How a table's vectors were made, as every file motif writes records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    pub model: String,
    pub model_fingerprint: String,
    pub dim: usize,
    /// How documents were cut into passages (as an index records it).
    pub split: String,
}

impl Provenance {
    /// Parquet key-value metadata for a table of this provenance.
    pub fn metadata(&self, table: &str) -> Vec<(String, String)> {
        vec![
            ("motif.model".into(), self.model.clone()),
            ("motif.model_fingerprint".into(), self.model_fingerprint.clone()),
            ("motif.dim".into(), self.dim.to_string()),
            ("motif.split".into(), self.split.clone()),
            ("motif.version".into(), env!("CARGO_PKG_VERSION").into()),
            ("motif.table".into(), table.into()),
        ]
    }

    /// Reads it back from a file's metadata; `None` when the file was not
    /// written by motif (or its metadata was dropped on the way).
    pub fn from_metadata(meta: &HashMap<String, String>) -> Option<Provenance> {
        Some(Provenance {
            model: meta.get("motif.model")?.clone(),
            model_fingerprint: meta.get("motif.model_fingerprint")?.clone(),
            dim: meta.get("motif.dim")?.parse().ok()?,
            split: meta.get("motif.split").cloned().unwrap_or_default(),
        })
    }
}

fn short(fp: &str) -> String {
    fp.chars().take(12).collect()
}
