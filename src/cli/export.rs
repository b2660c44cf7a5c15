//! `motif export`: an index and the results of its analyses as Parquet or
//! JSON-lines tables (`exchange::export`), for DuckDB, pandas, Spark and
//! vector stores.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::overlaps::DecisionArgs;
use super::progress::Bars;
use super::themes::{ThemeArgs, UnitArg};
use super::{IndexArg, ModelArgs};
use motif::exchange::{export, Format};
use motif::index::Route;
use motif::overlaps;
use motif::pipeline::{self, AnalysisSettings, Progress};

pub const LONG_ABOUT: &str = "Write everything an index holds, and the results of its analyses, as one file per table \
in a folder: documents, passages, vectors (embedding as a list of dim float32, the model's name and fingerprint in each \
Parquet file's metadata), overlaps (pairs with both spans, score, kind, echo group), echo_groups, themes (label, \
keywords, size) and theme_members, plus manifest.json listing them with their row counts. Ids are positions in \
motif's canonical order (documents by name, passages by document then ordinal), so passage_id joins passages, \
vectors, overlaps and theme_members. The overlaps and themes are those `motif report` finds with the same options; \
--no-analyses exports the stored tables only (no model needed). The stored tables stream from the index a chunk \
at a time, so their memory stays bounded (the analyses hold the corpus, as `motif report` does). `motif index --from DIR` reads an export back into a new index.\n\n\
Examples:\n  motif export --out export/\n  motif export --format jsonl --out export-jsonl/\n  \
duckdb -c \"SELECT t.label, count(DISTINCT m.document_id) FROM 'export/themes.parquet' t \
JOIN 'export/theme_members.parquet' m USING (theme_id) GROUP BY ALL\"";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Parquet files (read by DuckDB, pandas, Polars, Spark, Arrow).
    Parquet,
    /// JSON lines, one file per table.
    Jsonl,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    dir: IndexArg,
    /// The folder the tables are written into (created if missing).
    #[arg(long, default_value = "export", value_name = "DIR")]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    format: ExportFormat,
    /// Export the stored tables only (documents, passages, vectors), without overlaps and themes.
    #[arg(long)]
    no_analyses: bool,
    /// What themes group and overlaps compare: sentences, or whole passages.
    #[arg(long, value_enum, default_value_t = UnitArg::Sentence)]
    unit: UnitArg,
    #[command(flatten)]
    theme: ThemeArgs,
    #[command(flatten)]
    decision: DecisionArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Print the manifest as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let format = match args.format {
        ExportFormat::Parquet => Format::Parquet,
        ExportFormat::Jsonl => Format::Jsonl,
    };
    let mut bars = Bars::new();
    let report = if args.no_analyses {
        None
    } else {
        let kind = args.unit.kind();
        let themes = args.theme.options(kind)?;
        let source = super::open_index(&args.dir, &args.model, None)?;
        let settings = AnalysisSettings {
            unit: kind,
            overlaps: overlaps::Settings {
                decision: args.decision.decision_for(&source.corpus.model)?,
                ..overlaps::Settings::default()
            },
            themes,
            route: Route::Auto,
        };
        let analysis = pipeline::analyse(&source.corpus, &*source.embedder, &settings, &mut bars)?;
        let title = format!("Themes and overlaps in {} documents ({})", source.corpus.documents.len(), source.name);
        Some(pipeline::report(&source.corpus, &analysis, title, settings.overlaps.decision.threshold, None))
    };
    let store = args.dir.open()?;
    let (_, passages) = store.counts()?;
    bars.begin("exporting", passages);
    let manifest = export::export(&store, report.as_ref(), &args.out, format, &mut |n| bars.advance(n))
        .with_context(|| format!("exporting {} to {}", args.dir.index.display(), args.out.display()))?;
    bars.end();
    if args.json {
        return super::print_json(&manifest);
    }
    for (name, t) in &manifest.tables {
        outln!("{name:<14} {:>9} rows  {}", t.rows, args.out.join(&t.file).display());
    }
    outln!("wrote {}", args.out.join(export::MANIFEST_FILE).display());
    Ok(())
}
