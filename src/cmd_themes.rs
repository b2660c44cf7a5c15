//! `motif themes` and `motif eval themes`: the command-line side of themes.
//! Reads passages and vectors (from an index, or by embedding files
//! directly), cuts them into the units to cluster (sentences by default,
//! or whole passages), runs `themes::build`, and prints text or JSON.
//! `eval themes` clusters a labelled JSONL corpus (whole records, their
//! passages or their sentences) and scores the clusters against the labels
//! (NMI, ARI, V-measure), so that settings can be judged on data.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde_json::json;

use motif::cluster::{Params, Vectors};
use motif::embed::Embedder;
use motif::eval_cluster;
use motif::keywords::StopWords;
use motif::store::Store;
use motif::themes::{self, Options, Themes};

use crate::sentences::{SentenceUnits, SentenceVectors};
use crate::{ellipsize, embed_passages, load_embedder, read_corpus, round, InputArgs, ModelArgs, ReadArgs};

/// Clustering and description settings shared by `themes` and `eval themes`.
#[derive(Args, Clone)]
pub struct ThemeArgs {
    /// Groups smaller than this are outliers, not themes.
    #[arg(long, default_value_t = 5)]
    min_size: usize,
    /// Seed for the clustering's visiting order: same input and seed, same output.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Force this many themes (default: found from the data).
    #[arg(long)]
    themes: Option<usize>,
    /// Neighbours per passage in the k-NN graph (default: √n, between 5 and 50).
    #[arg(long)]
    neighbors: Option<usize>,
    /// Modularity resolution: higher gives more, smaller themes [default: 1.0 for sentences, 0.75 for passages and whole records].
    #[arg(long)]
    resolution: Option<f64>,
    /// Attach each outlier to its nearest theme instead of listing it apart.
    #[arg(long)]
    reassign_outliers: bool,
    /// More stop words for keywords: a file of words (whitespace or comma separated, # comments).
    #[arg(long)]
    stopwords: Option<PathBuf>,
    /// Keywords per theme.
    #[arg(long, default_value_t = 10)]
    keywords: usize,
    /// Central passages shown per theme.
    #[arg(long, default_value_t = 3)]
    central: usize,
}

/// The default resolution for a kind of unit. Whole articles: 0.75, chosen
/// on BBC News (NMI 0.815; 1.0 gives 8 themes and NMI 0.73-0.76 by seed).
/// Sentences: 1.0. A sentence carries one point, and at 0.75 the seeds'
/// sentences fall into four or five broad themes, one of them blending
/// what North Korea gains with how South Korea answers; at 1.0 those come
/// apart. On every 10th BBC article's sentences (4,463, `eval themes
/// --level sentence`) the themes' purity against the five topics holds at
/// 1.0 and drops beyond: homogeneity 0.630 at 0.75 (7 themes), 0.627 at
/// 1.0 (12), 0.611 at 1.25 (16).
pub fn default_resolution(sentences: bool) -> f64 {
    if sentences {
        1.0
    } else {
        Params::default().resolution
    }
}

impl ThemeArgs {
    fn resolution(&self, sentences: bool) -> f64 {
        self.resolution.unwrap_or_else(|| default_resolution(sentences))
    }

    fn options(&self, sentences: bool) -> Result<Options> {
        let mut stop_words = StopWords::default();
        if let Some(path) = &self.stopwords {
            stop_words.extend_from_file(path)?;
        }
        let cluster = Params {
            k: self.neighbors.unwrap_or(0),
            resolution: self.resolution(sentences),
            min_size: self.min_size,
            seed: self.seed,
            themes: self.themes,
            threads: 0,
        };
        cluster.check()?;
        if self.neighbors == Some(0) {
            bail!("--neighbors must be at least 1");
        }
        Ok(Options {
            cluster,
            keywords: self.keywords.max(1),
            central: self.central,
            reassign_outliers: self.reassign_outliers,
            stop_words,
            ..Options::default()
        })
    }

    fn settings_json(&self, sentences: bool) -> serde_json::Value {
        json!({
            "min_size": self.min_size,
            "seed": self.seed,
            "themes": self.themes,
            "neighbors": self.neighbors.map_or_else(|| json!("auto"), |k| json!(k)),
            "resolution": self.resolution(sentences),
            "reassign_outliers": self.reassign_outliers,
        })
    }
}

/// What `motif themes` groups.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnitKind {
    /// Sentences, unless the corpus has more than 100,000 of them: then whole passages.
    Auto,
    /// Each sentence of each passage (a paragraph can make several points).
    Sentence,
    /// Whole passages as the index stores them (faster on large corpora: no sentence embedding).
    Passage,
}

/// Above this many sentences `--unit auto` clusters passages: the exact
/// k-NN graph costs the square of the count, and 100,000 units take about
/// three minutes on 2 cores (`benches/cluster.rs`); the 340,000 sentences
/// of 100,000 paragraphs would take over half an hour.
pub const AUTO_MAX_SENTENCES: usize = 100_000;

impl UnitKind {
    /// The unit for a corpus of `sentences` sentences in `passages` passages.
    pub fn resolve(self, sentences: usize, passages: usize) -> UnitKind {
        match self {
            UnitKind::Auto if sentences > AUTO_MAX_SENTENCES => {
                eprintln!(
                    "motif: {sentences} sentences, more than {AUTO_MAX_SENTENCES}: themes group the {passages} passages instead \
(clustering grows with the square of the count; --unit sentence forces sentences)"
                );
                UnitKind::Passage
            }
            UnitKind::Auto => UnitKind::Sentence,
            other => other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            UnitKind::Auto => "auto",
            UnitKind::Sentence => "sentence",
            UnitKind::Passage => "passage",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            UnitKind::Auto => "units",
            UnitKind::Sentence => "sentences",
            UnitKind::Passage => "passages",
        }
    }
}

#[derive(Args)]
pub struct ThemesArgs {
    /// Files, folders or globs to embed and cluster directly (default: read the index).
    paths: Vec<String>,
    /// The index directory to read passages and vectors from (default: .motif).
    #[arg(long)]
    index: Option<PathBuf>,
    /// What is grouped into themes: sentences, or whole passages.
    #[arg(long, value_enum, default_value_t = UnitKind::Auto)]
    unit: UnitKind,
    #[command(flatten)]
    theme: ThemeArgs,
    /// Print JSON (byte-identical for the same input and seed).
    #[arg(long)]
    json: bool,
    /// How documents given as PATHs are read and cut into passages.
    #[command(flatten)]
    read: ReadArgs,
    /// Use these vectors (a .npy from `motif embed --format npy` of the same PATHs and split) instead of embedding.
    #[arg(long)]
    vectors: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

/// What the themes are computed from, whichever the source.
struct Passages {
    doc_names: Vec<String>,
    /// Per passage: document index, ordinal, byte span, text.
    doc: Vec<usize>,
    ordinal: Vec<usize>,
    span: Vec<(usize, usize)>,
    text: Vec<String>,
    vectors: Vec<f32>,
    dim: usize,
    source: String,
    /// The model that embeds sentences: the one the vectors came from.
    model: ModelArgs,
    embedder: Option<Box<dyn Embedder>>,
}

/// What is clustered: sentences or passages, each tied to its passage.
pub(crate) struct Units {
    pub kind: UnitKind,
    /// Index into the passages.
    pub passage: Vec<usize>,
    /// Byte offsets into the document.
    pub span: Vec<(usize, usize)>,
    pub text: Vec<String>,
    /// Row-major, one vector per unit.
    pub vectors: Vec<f32>,
}

impl Units {
    /// Each passage a unit of its own.
    pub(crate) fn whole_passages(span: Vec<(usize, usize)>, text: Vec<String>, vectors: Vec<f32>) -> Units {
        Units { kind: UnitKind::Passage, passage: (0..span.len()).collect(), span, text, vectors }
    }

    /// Sentences cut (and embedded) by `sentences`.
    pub(crate) fn sentences(s: SentenceUnits) -> Units {
        Units { kind: UnitKind::Sentence, passage: s.passage, span: s.span, text: s.text, vectors: s.vectors }
    }
}

impl Passages {
    /// Takes the passages' vectors (sentences reuse those of one-sentence passages).
    fn units(&mut self, kind: UnitKind) -> Result<Units> {
        let vectors = std::mem::take(&mut self.vectors);
        let spans: Vec<(&str, usize)> = self.text.iter().zip(&self.span).map(|(t, s)| (t.as_str(), s.0)).collect();
        let mut s = SentenceUnits::split(&spans);
        let kind = kind.resolve(s.len(), spans.len());
        if kind == UnitKind::Passage {
            return Ok(Units::whole_passages(self.span.clone(), self.text.clone(), vectors));
        }
        s.embed(&spans, &vectors, self.dim, &mut SentenceVectors::new(self.dim), &mut self.embedder, &self.model)?;
        Ok(Units::sentences(s))
    }
}

pub fn cmd_themes(args: ThemesArgs) -> Result<()> {
    args.theme.options(false)?; // bad settings stop the run before anything is read
    let mut passages = if args.paths.is_empty() {
        let dir = args.index.clone().unwrap_or_else(|| PathBuf::from(".motif"));
        from_index(&dir, &args.model)?
    } else {
        if args.index.is_some() {
            bail!("give either PATHs to embed or --index DIR to read, not both");
        }
        let input = InputArgs::new(args.paths.clone(), &args.read);
        from_files(&input, &args.model, args.vectors.as_deref())?
    };
    if passages.text.is_empty() {
        bail!("{}: no passages to cluster", passages.source);
    }
    let units = passages.units(args.unit)?;
    let opts = args.theme.options(units.kind == UnitKind::Sentence)?;
    let v = Vectors::new(&units.vectors, passages.dim).with_context(|| passages.source.clone())?;
    let texts: Vec<&str> = units.text.iter().map(String::as_str).collect();
    let docs: Vec<usize> = units.passage.iter().map(|&p| passages.doc[p]).collect();
    let start = Instant::now();
    let found = themes::build(v, &texts, &docs, &opts)?;
    let seconds = start.elapsed().as_secs_f64();
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.json {
        let value = themes_json(&passages, &units, &found, &args.theme);
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else {
        print_themes(&mut out, &passages, &units, &found)?;
        writeln!(out, "clustered in {seconds:.2} s (seed {})", args.theme.seed)?;
    }
    out.flush()?;
    Ok(())
}

fn from_index(dir: &Path, model: &ModelArgs) -> Result<Passages> {
    let store = Store::open_read(dir)?;
    // Sentences are embedded with the index's own model, whatever --model says.
    let mut model = model.clone();
    model.model = store.manifest().model.clone();
    let table = store.vectors()?;
    let mut doc_names: Vec<String> = Vec::new();
    let mut p = Passages {
        doc_names: Vec::new(),
        doc: Vec::with_capacity(table.passages.len()),
        ordinal: Vec::with_capacity(table.passages.len()),
        span: Vec::with_capacity(table.passages.len()),
        text: Vec::with_capacity(table.passages.len()),
        vectors: Vec::new(),
        dim: table.dim,
        source: dir.display().to_string(),
        model,
        embedder: None,
    };
    for r in &table.passages {
        // Passages come ordered by document name, so a new name is a new document.
        if doc_names.last() != Some(&r.doc) {
            doc_names.push(r.doc.clone());
        }
        p.doc.push(doc_names.len() - 1);
        p.ordinal.push(r.ordinal);
        p.span.push((r.start, r.end));
        p.text.push(store.passage_text(r.rowid)?);
    }
    p.doc_names = doc_names;
    p.vectors = table.data;
    Ok(p)
}

fn from_files(input: &InputArgs, model: &ModelArgs, cached: Option<&Path>) -> Result<Passages> {
    let embedder = load_embedder(model)?;
    let corpus = read_corpus(input, &*embedder)?;
    let texts: Vec<&str> = corpus.passages.iter().map(|p| corpus.text(p)).collect();
    let dim = embedder.dim();
    let vectors = match cached {
        Some(path) => read_npy(path, texts.len(), dim)?,
        None => crate::into_flat(embed_passages(&*embedder, &texts)?),
    };
    Ok(Passages {
        doc_names: corpus.documents.iter().map(|d| d.id.clone()).collect(),
        doc: corpus.passages.iter().map(|p| p.doc).collect(),
        ordinal: corpus.passages.iter().map(|p| p.ordinal).collect(),
        span: corpus.passages.iter().map(|p| (p.start, p.end)).collect(),
        text: texts.iter().map(|t| t.to_string()).collect(),
        vectors,
        dim,
        source: input.paths.join(" "),
        model: model.clone(),
        embedder: Some(embedder),
    })
}

/// Reads a 2-D little-endian f32 `.npy` of `rows × dim` (as `motif embed --format npy` writes).
pub fn read_npy(path: &Path, rows: usize, dim: usize) -> Result<Vec<f32>> {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .with_context(|| format!("{name}: cannot read"))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        bail!("{name}: not a .npy file");
    }
    let (header_len, offset) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => bail!("{name}: unsupported .npy version {v}"),
    };
    let Some(header) = bytes.get(offset..offset + header_len).and_then(|h| std::str::from_utf8(h).ok()) else {
        bail!("{name}: damaged .npy header");
    };
    if !header.contains("'<f4'") || header.contains("'fortran_order': True") {
        bail!("{name}: expected little-endian float32 in C order (descr '<f4')");
    }
    let want = format!("({rows}, {dim})");
    if !header.contains(&want) {
        bail!("{name}: shape is not {want}, the {rows} passages × {dim} dimensions of these inputs; was it made from the same files and split settings?");
    }
    let data = &bytes[offset + header_len..];
    if data.len() != rows * dim * 4 {
        bail!("{name}: {} bytes of data, expected {}", data.len(), rows * dim * 4);
    }
    Ok(data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

fn themes_json(p: &Passages, u: &Units, t: &Themes, settings: &ThemeArgs) -> serde_json::Value {
    let unit = |i: usize| {
        json!({
            "doc": p.doc_names[p.doc[u.passage[i]]],
            "passage": p.ordinal[u.passage[i]],
            "start": u.span[i].0,
            "end": u.span[i].1,
        })
    };
    let themes: Vec<serde_json::Value> = t
        .themes
        .iter()
        .map(|th| {
            json!({
                "id": th.id,
                "size": th.size(),
                "label": th.label,
                "keywords": th.keywords.iter().map(|k| json!({"term": k.term, "score": round(k.score, 4)})).collect::<Vec<_>>(),
                "central": th.central.iter().map(|c| {
                    let mut v = unit(c.unit);
                    v["score"] = json!(round(c.score as f64, 4));
                    v["text"] = json!(u.text[c.unit]);
                    v
                }).collect::<Vec<_>>(),
                "documents": th.documents.iter().map(|(d, n)| json!({"doc": p.doc_names[*d], "units": n})).collect::<Vec<_>>(),
                "members": th.members.iter().map(|&i| unit(i)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let n = u.text.len();
    let sentences = u.kind == UnitKind::Sentence;
    json!({
        "source": p.source,
        "unit": u.kind.name(),
        "units": n,
        "passages": p.text.len(),
        "documents": p.doc_names.len(),
        "settings": settings.settings_json(sentences),
        "themes": themes,
        "outliers": t.outliers.len(),
        "outlier_share": round(t.outliers.len() as f64 / n.max(1) as f64, 4),
        "reassigned": t.reassigned,
        "outlier_units": t.outliers.iter().map(|&i| unit(i)).collect::<Vec<_>>(),
    })
}

fn print_themes(out: &mut dyn Write, p: &Passages, u: &Units, t: &Themes) -> io::Result<()> {
    let n = u.text.len();
    let what = u.kind.plural();
    for th in &t.themes {
        let docs = th.documents.len();
        writeln!(out, "theme {}  {}  ({} {what} in {docs} document{})", th.id, th.label, th.size(), if docs == 1 { "" } else { "s" })?;
        writeln!(out, "  keywords: {}", th.keywords.iter().map(|k| k.term.as_str()).collect::<Vec<_>>().join(", "))?;
        for c in &th.central {
            let (i, q) = (c.unit, u.passage[c.unit]);
            writeln!(
                out,
                "  {:.3}  {} #{} [{}..{}]  {}",
                c.score,
                p.doc_names[p.doc[q]],
                p.ordinal[q],
                u.span[i].0,
                u.span[i].1,
                ellipsize(&u.text[i], 90)
            )?;
        }
        let docs: Vec<String> = th.documents.iter().map(|(d, k)| format!("{} ({k})", p.doc_names[*d])).collect();
        writeln!(out, "  documents: {}", docs.join(", "))?;
        writeln!(out)?;
    }
    let of_passages = if u.kind == UnitKind::Sentence { format!(" of {} passages", p.text.len()) } else { String::new() };
    writeln!(
        out,
        "{} themes over {n} {what}{of_passages} from {} documents; {} outliers ({:.1}%){}",
        t.themes.len(),
        p.doc_names.len(),
        t.outliers.len(),
        100.0 * t.outliers.len() as f64 / n.max(1) as f64,
        if t.reassigned > 0 {
            format!(", {} outliers reassigned to their nearest theme", t.reassigned)
        } else if t.outliers.is_empty() {
            String::new()
        } else {
            " (listed with --json; --reassign-outliers attaches them)".to_string()
        }
    )
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    /// One vector per record: the normalised mean of its passages' vectors.
    Article,
    /// Every passage, labelled with its record's label.
    Passage,
    /// Every sentence of every passage, labelled with its record's label.
    Sentence,
}

#[derive(Args)]
pub struct EvalThemesArgs {
    /// A JSONL file with one labelled text per line.
    file: PathBuf,
    /// The JSON field holding the text.
    #[arg(long, default_value = "text")]
    text_field: String,
    /// The JSON field holding the reference label.
    #[arg(long, default_value = "label")]
    label_field: String,
    /// What is clustered: whole records, their passages or their sentences.
    #[arg(long, value_enum, default_value_t = Level::Article)]
    level: Level,
    #[command(flatten)]
    theme: ThemeArgs,
    /// Use these passage vectors (a .npy from `motif embed --format npy FILE`) instead of embedding.
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// Write the clustered vectors (one row per record or passage) to this .npy, for other tools.
    #[arg(long)]
    save_vectors: Option<PathBuf>,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs,
}

/// Reads each non-blank line's label, in the order ingest reads the records.
fn read_labels(file: &Path, text_field: &str, label_field: &str) -> Result<Vec<String>> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).with_context(|| format!("{name}: cannot read"))?;
    let mut labels = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("{name}:{}: not JSON", i + 1))?;
        let body = value.get(text_field).and_then(|v| v.as_str()).unwrap_or("");
        if body.trim().is_empty() {
            continue; // ingest leaves records without text out too
        }
        let label = match value.get(label_field) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => v.to_string(),
            _ => bail!("{name}:{}: no label field \"{label_field}\" (choose one with --label-field)", i + 1),
        };
        labels.push(label);
    }
    Ok(labels)
}

pub fn cmd_eval_themes(args: EvalThemesArgs) -> Result<()> {
    let opts = args.theme.options(args.level == Level::Sentence)?;
    let name = args.file.display().to_string();
    let labels = read_labels(&args.file, &args.text_field, &args.label_field)?;
    let input = InputArgs::new(vec![name.clone()], &ReadArgs::for_corpus(&args.text_field));
    let mut p = from_files(&input, &args.model, args.vectors.as_deref())?;
    if p.doc_names.len() != labels.len() {
        bail!("{name}: {} records with text but {} labels", p.doc_names.len(), labels.len());
    }
    // Keywords come from the full texts of what is clustered.
    let (vectors, truth, docs, texts): (Vec<f32>, Vec<&str>, Vec<usize>, Vec<String>) = match args.level {
        Level::Article => {
            let v = Vectors::new(&p.vectors, p.dim)?;
            let docs: Vec<usize> = (0..p.doc_names.len()).collect();
            let mut t = vec![String::new(); p.doc_names.len()];
            for (i, &d) in p.doc.iter().enumerate() {
                t[d].push_str(&p.text[i]);
                t[d].push('\n');
            }
            (themes::document_vectors(v, &p.doc, p.doc_names.len()), labels.iter().map(String::as_str).collect(), docs, t)
        }
        Level::Passage => (p.vectors.clone(), p.doc.iter().map(|&d| labels[d].as_str()).collect(), p.doc.clone(), p.text.clone()),
        Level::Sentence => {
            let u = p.units(UnitKind::Sentence)?;
            let docs: Vec<usize> = u.passage.iter().map(|&i| p.doc[i]).collect();
            (u.vectors, docs.iter().map(|&d| labels[d].as_str()).collect(), docs, u.text)
        }
    };
    if let Some(path) = &args.save_vectors {
        let rows: Vec<Vec<f32>> = vectors.chunks(p.dim).map(<[f32]>::to_vec).collect();
        let mut f = io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?);
        motif::npy::write_f32_matrix(&mut f, &rows, p.dim)?;
        f.flush()?;
    }
    let v = Vectors::new(&vectors, p.dim)?;
    let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let start = Instant::now();
    let found = themes::build(v, &text_refs, &docs, &opts)?;
    let seconds = start.elapsed().as_secs_f64();
    // Outliers count as one more cluster: they are neither dropped nor rewarded.
    let pred: Vec<Option<usize>> = found.assignment.clone();
    let s = eval_cluster::scores(&truth, &pred);
    let n = truth.len();
    let outlier_share = found.outliers.len() as f64 / n.max(1) as f64;
    // Also on the clustered items only, as often reported for HDBSCAN/BERTopic.
    let kept: Vec<usize> = (0..n).filter(|&i| pred[i].is_some()).collect();
    let s_kept = eval_cluster::scores(
        &kept.iter().map(|&i| truth[i]).collect::<Vec<_>>(),
        &kept.iter().map(|&i| pred[i]).collect::<Vec<_>>(),
    );
    let classes = {
        let mut c = truth.clone();
        c.sort_unstable();
        c.dedup();
        c.len()
    };
    if args.json {
        let value = json!({
            "task": "themes",
            "file": name,
            "level": match args.level { Level::Article => "article", Level::Passage => "passage", Level::Sentence => "sentence" },
            "items": n,
            "labels": classes,
            "themes": found.themes.len(),
            "outliers": found.outliers.len(),
            "outlier_share": round(outlier_share, 4),
            "nmi": round(s.nmi, 4),
            "ari": round(s.ari, 4),
            "v_measure": round(s.v_measure, 4),
            "homogeneity": round(s.homogeneity, 4),
            "completeness": round(s.completeness, 4),
            "clustered_only": {"nmi": round(s_kept.nmi, 4), "ari": round(s_kept.ari, 4), "v_measure": round(s_kept.v_measure, 4)},
            "settings": args.theme.settings_json(args.level == Level::Sentence),
            "cluster_seconds": round(seconds, 3),
            "themes_found": found.themes.iter().map(|t| json!({"id": t.id, "size": t.size(), "label": t.label})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let level = match args.level {
        Level::Article => "records (article level: mean of passage vectors)",
        Level::Passage => "passages",
        Level::Sentence => "sentences",
    };
    println!("{name}: {n} {level}, {classes} labels");
    println!(
        "themes {}  outliers {} ({:.1}%, counted as one more cluster)",
        found.themes.len(),
        found.outliers.len(),
        outlier_share * 100.0
    );
    println!(
        "NMI {:.4}  ARI {:.4}  V-measure {:.4} (homogeneity {:.4}, completeness {:.4})",
        s.nmi, s.ari, s.v_measure, s.homogeneity, s.completeness
    );
    println!("clustered items only: NMI {:.4}  ARI {:.4}  V-measure {:.4}", s_kept.nmi, s_kept.ari, s_kept.v_measure);
    for t in &found.themes {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for &m in &t.members {
            match counts.iter_mut().find(|(l, _)| *l == truth[m]) {
                Some(e) => e.1 += 1,
                None => counts.push((truth[m], 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mix: Vec<String> = counts.iter().take(3).map(|(l, c)| format!("{l} {c}")).collect();
        println!("  theme {:>3} {:>6}  {:<40} {}", t.id, t.size(), ellipsize(&t.label, 40), mix.join(", "));
    }
    let k = args.theme.neighbors.unwrap_or_else(|| motif::cluster::auto_k(n));
    println!("clustered in {seconds:.2} s (seed {}, {k} neighbours, resolution {})", args.theme.seed, args.theme.resolution(args.level == Level::Sentence));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_takes_sentences_up_to_the_limit_then_passages() {
        assert!(UnitKind::Auto.resolve(AUTO_MAX_SENTENCES, 30_000) == UnitKind::Sentence);
        assert!(UnitKind::Auto.resolve(AUTO_MAX_SENTENCES + 1, 30_000) == UnitKind::Passage);
        assert!(UnitKind::Sentence.resolve(AUTO_MAX_SENTENCES * 3, 100_000) == UnitKind::Sentence);
        assert!(UnitKind::Passage.resolve(10, 3) == UnitKind::Passage);
    }
}
