//! motif: local semantic similarity, overlaps and themes.
//!
//! Data flows one way through small modules, each owning one stage:
//! `ingest` (files to documents) → `split` (documents to passages) →
//! `embed` (passages to vectors, with `model` finding the weights) → the
//! index and the analyses built on it. `eval` and `bench` measure quality and
//! speed. The binary (`src/main.rs`) is the only place that wires them.

pub mod bench;
pub mod embed;
pub mod eval;
pub mod ingest;
pub mod model;
pub mod npy;
pub mod progress;
pub mod split;
