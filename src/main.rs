//! The `motif` command line: parses arguments, runs one command of
//! `cli/`, and reports errors (the cause chain on stderr, control
//! characters shown as escapes; a closed pipe is not an error). Results go
//! to stdout, progress and notes to stderr.

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` for results: a closed stdout (`motif info --docs | head -1`)
/// ends the process quietly with success, as it does for any Unix filter,
/// instead of panicking.
macro_rules! outln {
    () => {
        $crate::print_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::print_line(format_args!($($arg)*))
    };
}

mod cli;

/// Writes one line of results to stdout (see `outln!`).
fn print_line(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("motif: error: cannot write the results to stdout: {e}");
        std::process::exit(1);
    }
}

/// Whether an error is stdout closed by its reader: a normal end.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>().and_then(|j| j.io_error_kind()) == Some(io::ErrorKind::BrokenPipe)
    })
}

#[derive(Parser)]
#[command(
    name = "motif",
    version,
    about = "Local semantic similarity, overlaps and themes for your own documents",
    long_about = "motif splits documents into passages, embeds them with a local transformer model \
(all-MiniLM-L6-v2 by default, fetched once on first use) and answers similarity questions, \
all on this machine.\n\nStart with:\n  motif report seeds/            # index, overlaps, themes: report/report.html\n  \
motif query \"troops at the border\"\n  motif overlaps --granularity sentence\n  motif themes\n  motif model list"
)]
struct Cli {
    /// Threads for the model's kernels and the analyses (default: all cores; at most 4 per core).
    #[arg(long, global = true, env = "MOTIF_THREADS", value_parser = cli::thread_count)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Split documents into passages and print each passage's vector.
    #[command(long_about = cli::embed::LONG_ABOUT)]
    Embed(cli::embed::EmbedArgs),
    /// Split, embed and store documents in an index (only new or changed ones on later runs).
    #[command(long_about = cli::index::LONG_ABOUT)]
    Index(cli::index::IndexArgs),
    /// The passages of an index most similar to a text.
    Query(cli::search::QueryArgs),
    /// The passages most similar to a stored passage (DOC#PASSAGE) or to each passage of a document (DOC).
    Similar(cli::search::SimilarArgs),
    /// Show an index: model, dimension, documents, passages, size, graph parameters, dates.
    Info(cli::index::InfoArgs),
    /// Passages from different documents that say the same thing, grouped into echo groups.
    #[command(long_about = cli::overlaps::LONG_ABOUT)]
    Overlaps(cli::overlaps::OverlapsArgs),
    /// Recurring themes: clusters of sentences (or passages) with keywords, central sentences and the documents they span.
    #[command(long_about = cli::themes::LONG_ABOUT)]
    Themes(cli::themes::ThemesArgs),
    /// The whole batch: index PATHs (when given), find overlaps and themes, write report.html, report.md and report.json.
    #[command(long_about = cli::report::LONG_ABOUT)]
    Report(cli::report::ReportArgs),
    /// Write an index and its overlaps and themes as Parquet (or JSON lines) tables, for DuckDB, pandas, Spark.
    #[command(long_about = cli::export::LONG_ABOUT)]
    Export(cli::export::ExportArgs),
    /// List, fetch and check the known models.
    Model {
        #[command(subcommand)]
        command: cli::model::ModelCommand,
    },
    /// Measure quality on labelled data (STS-B, MRPC, reuse, themes).
    Eval {
        #[command(subcommand)]
        command: cli::eval::EvalCommand,
    },
    /// Measure speed on this machine.
    Bench(cli::bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        // Read by rayon and by the model's kernels when they first start.
        std::env::set_var("RAYON_NUM_THREADS", n.max(1).to_string());
    }
    let result = match cli.command {
        Command::Embed(args) => cli::embed::run(args),
        Command::Index(args) => cli::index::run(args),
        Command::Query(args) => cli::search::query(args),
        Command::Similar(args) => cli::search::similar(args),
        Command::Info(args) => cli::index::info(args),
        Command::Overlaps(args) => cli::overlaps::run(args),
        Command::Themes(args) => cli::themes::run(args),
        Command::Report(args) => cli::report::run(args),
        Command::Export(args) => cli::export::run(args),
        Command::Model { command } => cli::model::run(command),
        Command::Eval { command } => cli::eval::run(command),
        Command::Bench(args) => cli::bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if closed_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            // Messages name files and quote inputs: their control characters are shown, not sent.
            let shown = |m: String| motif::report::escape_controls(&m).into_owned();
            eprintln!("motif: error: {}", shown(e.to_string()));
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {}", shown(cause.to_string()));
            }
            ExitCode::FAILURE
        }
    }
}
