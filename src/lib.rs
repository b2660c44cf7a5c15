//! motif: local semantic similarity, overlaps and themes.
//!
//! Data flows one way, one stage per module:
//!
//! ```text
//! files ─► corpus (ingest, split) ─► embed ─► store ─► Corpus ─► Units
//!                                                              │
//!                                index::Neighbours (ONE k-NN graph)
//!                                         ┌────────┴────────┐
//!                                     overlaps           themes
//!                                         └────────┬────────┘
//!                                               report
//! ```
//!
//! - [`corpus`]: documents read from files (`ingest`), cut into passages
//!   (`split`) and sentences (`sentences`); the `Passage`, `Corpus` and
//!   `Units` types every later stage reads.
//! - [`embed`]: the `Embedder` seam (texts → unit vectors), chosen once at
//!   start-up: the transformer (crate `motif-bert`) or a hashing fake.
//! - [`store`]: the index directory (SQLite, the source of truth) and the
//!   incremental update of it.
//! - [`index`]: the HNSW graph, exact search, and the k-NN graph of a unit
//!   set that overlaps and themes share.
//! - [`overlaps`] and [`themes`]: the two analyses.
//! - [`spread`]: themes and echo groups over time and by source, from the
//!   documents' dates and outlets (`corpus::meta`).
//! - [`documents`]: documents alike as wholes, from their passages' vectors.
//! - [`report`]: Markdown, HTML and JSON.
//! - [`exchange`]: the index and the analyses' results as Parquet or JSON
//!   lines for DuckDB, pandas, Spark and Ray, and passages with vectors
//!   computed elsewhere read back in.
//! - [`pipeline`]: the stages composed with typed calls, as the commands
//!   run them.
//! - [`eval`] and [`bench`]: quality on labelled data and speed, through the
//!   same code the commands use.
//!
//! The binary (`src/main.rs`, `src/cli/`) parses arguments into the plain
//! settings these modules take, calls them and prints; it holds no
//! analysis of its own.

pub mod bench;
pub mod corpus;
pub mod documents;
pub mod embed;
pub mod eval;
pub mod exchange;
pub mod index;
pub mod matrix;

pub mod overlaps;
pub mod pipeline;
pub mod report;
pub mod spread;
pub mod store;
pub mod table;
pub mod text;
pub mod themes;
