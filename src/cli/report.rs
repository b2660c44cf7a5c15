//! `motif report`: the whole batch in one command. Indexes the given paths
//! (only what changed, as `motif index` does), then `pipeline::analyse`
//! (sentence units, one k-NN graph, overlaps and themes over it) and
//! `pipeline::report`, and writes report.html, report.md and report.json.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::index::{index_paths, GraphArgs, IndexArgs};
use super::overlaps::DecisionArgs;
use super::progress::Bars;
use super::themes::{ThemeArgs, UnitArg};
use super::{IndexArg, ModelArgs, ReadArgs};
use motif::index::Route;
use motif::overlaps;
use motif::pipeline::{self, AnalysisSettings};
use motif::report::escape_controls;
use motif::spread::Period;

pub const LONG_ABOUT: &str = "The whole batch in one command: index the given paths (only new or changed documents), \
find the claims that different documents share (echo groups) and the themes that recur, and write three files: \
report.html (self-contained: a map of all sentences coloured by theme, a documents × themes grid, each theme with \
keywords, representative sentences and its overlapping claims, and the echo groups), report.md (the same without \
the map) and report.json (everything, for scripts). Overlaps and themes read one k-NN graph of the sentences; \
--unit passage groups whole passages. Same index and seed, same report.\n\nExamples:\n  \
motif report seeds/ --out report/\n  motif report --index ~/notes.motif --out ~/notes-report\n  \
motif report --unit passage --resolution 0.75   # paragraph themes";

#[derive(Args)]
pub struct ReportArgs {
    /// Files, folders or globs to index first (optional: without them the index is reported as it is).
    paths: Vec<String>,
    #[command(flatten)]
    dir: IndexArg,
    /// Where report.html, report.md and report.json are written.
    #[arg(long, default_value = "report", value_name = "DIR")]
    out: PathBuf,
    /// The report's title (default: the index's folder and its document count).
    #[arg(long)]
    title: Option<String>,
    /// What is grouped into themes and compared for overlaps: sentences, or whole passages.
    #[arg(long, value_enum, default_value_t = UnitArg::Sentence)]
    unit: UnitArg,
    #[command(flatten)]
    theme: ThemeArgs,
    /// The periods themes are counted in over time, where documents have dates (auto: days up to 90 days,
    /// then weeks, months, years, so a chart has at most about 90 bars).
    #[arg(long, value_enum, default_value_t = PeriodArg::Auto)]
    pub period: PeriodArg,
    #[command(flatten)]
    decision: DecisionArgs,
    /// Match the themes to the index's last saved run (ids, statuses), but do not save this one.
    #[arg(long)]
    no_save_themes: bool,
    /// How documents given as PATHs are read and cut into passages.
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    model: ModelArgs,
}

/// The periods of a time view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeriodArg {
    Auto,
    Day,
    Week,
    Month,
    Year,
}

impl PeriodArg {
    pub fn period(self) -> Option<Period> {
        match self {
            PeriodArg::Auto => None,
            PeriodArg::Day => Some(Period::Day),
            PeriodArg::Week => Some(Period::Week),
            PeriodArg::Month => Some(Period::Month),
            PeriodArg::Year => Some(Period::Year),
        }
    }
}

pub fn run(args: ReportArgs) -> Result<()> {
    let kind = args.unit.kind();
    let themes = args.theme.options(kind)?;
    let loaded = if !args.paths.is_empty() {
        let index = IndexArgs {
            paths: args.paths.clone(),
            from: None,
            read: args.read.clone(),
            dir: args.dir.clone(),
            model: args.model.clone(),
            graph: GraphArgs { hnsw_m: None, ef_construction: None, ef_search: None },
            prune: false,
            rebuild_graph: false,
            serial_build: false,
            parallel_build: false,
            commit_every: 1024,
            json: false,
        };
        // The sentences are embedded with the model that indexed: load it once.
        let (_, embedder) = index_paths(&index)?;
        Some(embedder)
    } else {
        None
    };
    let index = args.dir.index.display().to_string();
    let source = super::open_index(&args.dir, &args.model, loaded)?;
    let corpus = &source.corpus;
    let settings = AnalysisSettings {
        unit: kind,
        overlaps: overlaps::Settings {
            decision: args.decision.decision_for(&corpus.model)?,
            ..overlaps::Settings::default()
        },
        themes,
        route: Route::Auto,
    };
    let mut analysis = pipeline::analyse(corpus, &*source.embedder, &settings, &mut Bars::new())?;
    source.say_embedded(analysis.sentences_embedded, true);
    super::themes::track(&args.dir.index, corpus, &analysis.units, &mut analysis.themes, !args.no_save_themes)?;
    let title = args
        .title
        .clone()
        .unwrap_or_else(|| format!("Themes and overlaps in {} documents ({index})", corpus.documents.len()));
    let report = pipeline::report(corpus, &analysis, title, settings.overlaps.decision.threshold, args.period.period());

    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create the folder", args.out.display()))?;
    for (name, body) in
        [("report.html", report.to_html()), ("report.md", report.to_markdown()), ("report.json", report.to_json())]
    {
        let path = args.out.join(name);
        // Write then rename: a reader never sees half a report.
        let tmp = args.out.join(format!(".{name}.tmp"));
        // A new file, never one planted there (create_new does not follow
        // a symlink left at that name).
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("{}: cannot create", tmp.display()))?;
        std::io::Write::write_all(&mut f, body.as_bytes())
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        drop(f);
        std::fs::rename(&tmp, &path).with_context(|| format!("{}: cannot write", path.display()))?;
        outln!("wrote {}", escape_controls(&path.display().to_string()));
    }
    outln!(
        "{} documents, {} passages: {} themes over {} {}s ({} outliers), {} echo groups",
        report.documents.len(),
        report.passages.len(),
        report.themes.len(),
        report.units.len(),
        report.unit,
        report.outliers.len(),
        report.echo_groups.len()
    );
    Ok(())
}
