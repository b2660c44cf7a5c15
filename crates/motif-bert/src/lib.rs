//! motif's model runtime: sentence-transformers models of the BERT family
//! (BERT, RoBERTa/XLM-RoBERTa, MPNet), from a folder of files to
//! unit-length vectors, on this machine.
//!
//! - `model`: which models are known (`models/manifest.json`), where they are
//!   cached, and fetching them with SHA-256 verification.
//! - `SentenceModel`: tokenizer, prompts, batching by length, the backend,
//!   pooling and normalisation; `LoadOptions` picks device, precision,
//!   batch size and backend once, at load. `folder` reads what the
//!   sentence-transformers files say (modules, pooling, prompts, length).
//! - `backend`: the `Backend` trait and its two runtimes, the native CPU
//!   kernels (`backend::native`, f32 GEMM and multiversioned element-wise
//!   passes, bf16 on AMX tiles) and candle (`backend::candle`, for CUDA).
//!
//! Every `unsafe` of motif lives in this crate (the kernels and the AMX
//! tiles). It reads no environment variable, draws nothing and prints
//! nothing: callers pass a `model::ModelConfig` and receive
//! `model::FetchEvent`s and errors whose sources are kept.

pub mod backend;
mod error;
pub mod folder;
pub mod model;
mod sentence_model;
mod tokenize;

pub use backend::cpu::CpuFeatures;
pub use backend::{select_device, Backend, BackendKind, DeviceChoice, Pooling, Precision, SelectedDevice, TokenBatch};
pub use error::Error;
pub use sentence_model::{EmbedStats, LoadOptions, ModelInfo, Role, SentenceModel};
