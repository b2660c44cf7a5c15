//! motif: local semantic similarity, overlaps and themes.
//!
//! Data flows one way through small modules, each owning one stage:
//! `ingest` (files to documents) → `split` (documents to passages) →
//! `embed` (passages to vectors through the `Embedder` trait; the model
//! runtime itself is the `motif-bert` crate) → `store` (the index
//! directory's SQLite database) and `ann` (the HNSW graph over its vectors)
//! → the analyses built on them. `matrix` holds the vector arithmetic.
//! `eval` and `bench` measure quality and speed. The binary (`src/main.rs`)
//! is the only place that wires them.

pub mod align;
pub mod ann;
pub mod bench;
pub mod cluster;
pub mod embed;
pub mod eval;
pub mod eval_cluster;
pub mod ingest;
pub mod keywords;
pub mod matrix;
pub mod npy;
pub mod overlaps;
pub mod overlaps_report;
pub mod report;
pub mod split;
pub mod store;
pub mod themes;
