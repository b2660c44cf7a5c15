//! The `overlaps` command and the evaluations of the overlap decision
//! (`eval mrpc`, `eval reuse`, `eval calibrate`): reading passages (from an
//! index, or from files embedded on the spot), embedding sentences when
//! needed, and wiring `overlaps`, `align` and `overlaps_report`.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use motif::align::{self, Kind, SentenceRef};
use motif::ann::{Graph, Params, Rows};
use motif::embed::Embedder;
use motif::eval::{self, Criterion};
use motif::overlaps::{self, Decision, Found, Overlap, Route, SentenceOverlap, Settings, Unit};
use motif::overlaps_report::{BoilerplateRow, Meta, PassageInfo, Report};
use motif::split;
use motif::store::Store;

use crate::sentences::{loaded, passage_sentences, SentenceUnits, SentenceVectors};
use crate::{load_embedder, read_corpus, round, InputArgs, ModelArgs, ReadArgs};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OverlapFormat {
    /// Echo groups with each document's version, matching words in bold.
    Md,
    /// Pairs, sentence alignments and groups as one JSON object.
    Json,
    /// One row per matched sentence pair.
    Csv,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Granularity {
    /// Whole passages (paragraphs) that say the same thing.
    Passage,
    /// Single sentences anywhere in the corpus (finds a claim inside a long paragraph).
    Sentence,
}

/// The overlap decision's two settings, shared by `overlaps` and the evals.
#[derive(Args, Clone, Copy)]
pub struct DecisionArgs {
    /// Overlap threshold on the blended score (default: calibrated on STS-B dev).
    #[arg(long, default_value_t = overlaps::DEFAULT_THRESHOLD)]
    threshold: f32,
    /// Weight of shared wording in the blended score (0: plain cosine).
    #[arg(long, default_value_t = overlaps::DEFAULT_LEXICAL_WEIGHT)]
    lexical_weight: f32,
}

impl DecisionArgs {
    fn decision(&self) -> Decision {
        Decision { threshold: self.threshold, lexical_weight: self.lexical_weight }
    }
}

#[derive(Args)]
pub struct OverlapsArgs {
    /// Files, folders or globs to read and embed now, instead of reading an index.
    paths: Vec<String>,
    /// The index to read (default: .motif/) when no paths are given.
    #[arg(long)]
    index: Option<PathBuf>,
    #[command(flatten)]
    decision: DecisionArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OverlapFormat::Md)]
    format: OverlapFormat,
    /// Same as --format json.
    #[arg(long)]
    json: bool,
    /// What is compared: passages, or single sentences.
    #[arg(long, value_enum, default_value_t = Granularity::Passage)]
    granularity: Granularity,
    /// Score all pairs instead of the k-NN candidates (slow; for checking).
    #[arg(long)]
    exact: bool,
    /// Neighbours asked for per passage or sentence at first (widened while above the cosine floor).
    #[arg(long, default_value_t = 16)]
    k: usize,
    /// Keep passages flagged as boilerplate.
    #[arg(long)]
    keep_boilerplate: bool,
    /// Near-verbatim copies in this many documents make a passage a boilerplate suspect.
    #[arg(long, default_value_t = 3)]
    boilerplate_docs: usize,
    /// Passages or sentences with fewer content words are never paired.
    #[arg(long, default_value_t = 3)]
    min_words: usize,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// How documents given as paths are read and cut into passages.
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    model: ModelArgs,
}

/// Passages with vectors, from files or an index.
struct Source {
    documents: Vec<String>,
    passages: Vec<PassageInfo>,
    vectors: Vec<f32>,
    dim: usize,
    /// A saved graph over the passage vectors, when the index has a fresh one.
    graph: Option<Graph>,
    model_name: String,
    embedder: Option<Box<dyn Embedder>>,
    model_args: ModelArgs,
}

impl Source {
    fn embedder(&mut self) -> Result<&dyn Embedder> {
        loaded(&mut self.embedder, &self.model_args)
    }
}

fn from_paths(args: &OverlapsArgs) -> Result<Source> {
    let embedder = load_embedder(&args.model)?;
    let input = InputArgs::new(args.paths.clone(), &args.read);
    let corpus = read_corpus(&input, &*embedder)?;
    let texts: Vec<&str> = corpus.passages.iter().map(|p| corpus.text(p)).collect();
    let vectors = crate::embed_passages(&*embedder, &texts)?;
    let passages = corpus
        .passages
        .iter()
        .map(|p| PassageInfo { doc: p.doc, ordinal: p.ordinal, start: p.start, end: p.end, text: corpus.text(p).to_string() })
        .collect();
    Ok(Source {
        documents: corpus.documents.iter().map(|d| d.id.clone()).collect(),
        passages,
        vectors: crate::into_flat(vectors),
        dim: embedder.dim(),
        graph: None,
        model_name: embedder.name().to_string(),
        embedder: Some(embedder),
        model_args: args.model.clone(),
    })
}

fn from_index(args: &OverlapsArgs, dir: &Path) -> Result<Source> {
    let store = Store::open_read(dir)?;
    let table = store.vectors()?;
    if table.passages.is_empty() {
        bail!("{}: the index holds no passages; add documents with `motif index PATH`", dir.display());
    }
    let mut documents: Vec<String> = Vec::new();
    let mut passages = Vec::with_capacity(table.passages.len());
    for p in &table.passages {
        if documents.last() != Some(&p.doc) {
            documents.push(p.doc.clone());
        }
        let text = store.passage_text(p.rowid)?;
        passages.push(PassageInfo { doc: documents.len() - 1, ordinal: p.ordinal, start: p.start, end: p.end, text });
    }
    let graph = match Graph::load(&store.graph_path()) {
        Ok(Some((g, stamp))) if stamp == store.stamp() && g.len() == passages.len() => Some(g),
        _ => None,
    };
    let manifest = store.manifest();
    // Sentences are embedded with the index's own model, whatever --model says.
    let mut model_args = args.model.clone();
    model_args.model = manifest.model.clone();
    Ok(Source {
        documents,
        passages,
        vectors: table.data,
        dim: table.dim,
        graph,
        model_name: manifest.model.clone(),
        embedder: None,
        model_args,
    })
}

fn knn_route<'a>(graph: &'a Graph, rows: Rows<'a>) -> impl FnMut(usize, usize) -> Vec<(usize, f32)> + 'a {
    move |i, k| graph.search(rows, rows.row(i), k, k.max(Params::default().ef_search)).into_iter().map(|h| (h.id as usize, h.score)).collect()
}

fn build_graph(rows: Rows) -> Graph {
    let bar = crate::progress::items_bar(rows.len() as u64, "graph");
    let (graph, _) = Graph::build(rows, Params::default(), false, &mut |n| bar.inc(n as u64));
    bar.finish_and_clear();
    graph
}

/// What `motif overlaps` found, before it is written: for `motif report` too.
pub(crate) struct Computed {
    pub documents: Vec<String>,
    pub passages: Vec<PassageInfo>,
    pub overlaps: Vec<Overlap>,
    pub groups: Vec<overlaps::Group>,
    pub threshold: f32,
    boilerplate: Vec<BoilerplateRow>,
    meta: Meta,
    /// What was compared (sentences or passages), with texts and vectors:
    /// `report` clusters the same sentences into themes.
    pub units: Vec<Unit>,
    pub unit_texts: Vec<String>,
    pub unit_vectors: Vec<f32>,
    pub dim: usize,
}

/// Overlaps as `motif overlaps ARGS` would find them; `argv` is parsed as
/// that command's arguments (after the command name).
pub(crate) fn compute_from_argv(argv: &[&str]) -> Result<Computed> {
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: OverlapsArgs,
    }
    let cli = <Cli as clap::Parser>::try_parse_from(std::iter::once("overlaps").chain(argv.iter().copied()))?;
    compute(&cli.args)
}

fn compute(args: &OverlapsArgs) -> Result<Computed> {
    let decision = args.decision.decision();
    decision.check()?;
    let mut source = if args.paths.is_empty() {
        let dir = args.index.clone().unwrap_or_else(|| PathBuf::from(".motif"));
        from_index(args, &dir).with_context(|| format!("reading the index {} (or pass files to read instead)", dir.display()))?
    } else {
        if args.index.is_some() {
            bail!("give either paths to read or --index DIR, not both");
        }
        from_paths(args)?
    };
    let settings = Settings {
        decision,
        k: args.k.max(1),
        min_content_words: args.min_words,
        boilerplate_docs: args.boilerplate_docs,
        keep_boilerplate: args.keep_boilerplate,
        ..Settings::default()
    };
    let dim = source.dim;

    // Units, their texts and vectors.
    let mut sv = SentenceVectors::new(dim);
    let (units, unit_texts, unit_rows): (Vec<Unit>, Vec<String>, Vec<f32>) = match args.granularity {
        Granularity::Passage => (
            source.passages.iter().enumerate().map(|(i, p)| Unit { doc: p.doc, passage: i, start: p.start, end: p.end }).collect(),
            source.passages.iter().map(|p| p.text.clone()).collect(),
            std::mem::take(&mut source.vectors),
        ),
        Granularity::Sentence => {
            let spans: Vec<(&str, usize)> = source.passages.iter().map(|p| (p.text.as_str(), p.start)).collect();
            let mut s = SentenceUnits::split(&spans);
            s.embed(&spans, &source.vectors, dim, &mut sv, &mut source.embedder, &source.model_args)?;
            let units = (0..s.len()).map(|u| Unit { doc: source.passages[s.passage[u]].doc, passage: s.passage[u], start: s.span[u].0, end: s.span[u].1 }).collect();
            (units, s.text, s.vectors)
        }
    };
    let rows = Rows::new(&unit_rows, dim);
    let texts: Vec<&str> = unit_texts.iter().map(|t| t.as_str()).collect();

    let found: Found = if args.exact {
        overlaps::find(&units, &texts, rows, Route::Exact, &settings)?
    } else {
        let graph = match (args.granularity, source.graph.take()) {
            (Granularity::Passage, Some(g)) => g,
            _ => build_graph(rows),
        };
        let mut knn = knn_route(&graph, rows);
        overlaps::find(&units, &texts, rows, Route::Knn(&mut knn), &settings)?
    };
    if found.capped > 0 {
        eprintln!(
            "motif: {} unit(s) had more than {} neighbours above the cosine floor; some of their pairs may be missing (use --exact to check)",
            found.capped, settings.max_k
        );
    }

    let mut result: Vec<Overlap> = match args.granularity {
        Granularity::Sentence => overlaps::overlaps_from_sentences(&found.pairs, &units, &texts),
        Granularity::Passage => align_passage_pairs(&mut source, &found, &settings, &mut sv)?,
    };
    overlaps::sort_overlaps(&mut result);
    let groups = overlaps::passage_groups(source.passages.len(), &result);
    let boilerplate: Vec<BoilerplateRow> = found
        .boilerplate
        .iter()
        .map(|b| {
            let u = &units[b.unit];
            let p = &source.passages[u.passage];
            BoilerplateRow {
                doc: source.documents[p.doc].clone(),
                passage: p.ordinal,
                start: u.start,
                end: u.end,
                documents: b.documents,
                relevance: b.relevance,
                text: texts[b.unit].to_string(),
            }
        })
        .collect();
    let meta = Meta {
        model: source.model_name.clone(),
        granularity: match args.granularity {
            Granularity::Passage => "passage",
            Granularity::Sentence => "sentence",
        }
        .into(),
        route: if args.exact { "all pairs (exact)" } else { "the HNSW k-NN graph" }.into(),
        threshold: decision.threshold,
        lexical_weight: decision.lexical_weight,
        units: units.len(),
        candidates: found.candidates,
        too_short: found.too_short,
    };
    Ok(Computed {
        documents: source.documents,
        passages: source.passages,
        overlaps: result,
        groups,
        threshold: decision.threshold,
        boilerplate,
        meta,
        units,
        unit_texts,
        unit_vectors: unit_rows,
        dim,
    })
}

pub fn cmd_overlaps(args: OverlapsArgs) -> Result<()> {
    let c = compute(&args)?;
    let report = Report {
        documents: &c.documents,
        passages: &c.passages,
        overlaps: &c.overlaps,
        groups: &c.groups,
        boilerplate: &c.boilerplate,
        meta: &c.meta,
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?,
        )),
        None => Box::new(io::BufWriter::new(io::stdout().lock())),
    };
    let format = if args.json { OverlapFormat::Json } else { args.format };
    match format {
        OverlapFormat::Md => report.write_markdown(&mut out)?,
        OverlapFormat::Json => report.write_json(&mut out)?,
        OverlapFormat::Csv => report.write_csv(&mut out)?,
    }
    out.flush()?;
    Ok(())
}

/// Aligns the sentences inside each overlapping passage pair.
fn align_passage_pairs(source: &mut Source, found: &Found, settings: &Settings, sv: &mut SentenceVectors) -> Result<Vec<Overlap>> {
    let dim = source.dim;
    let mut involved: Vec<usize> = found.pairs.iter().flat_map(|p| [p.a, p.b]).collect();
    involved.sort_unstable();
    involved.dedup();
    let mut spans: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
    let mut needed: Vec<String> = Vec::new();
    for &i in &involved {
        let p = &source.passages[i];
        let s = passage_sentences(&p.text, p.start);
        if s.len() == 1 && s[0] == (p.start, p.end) {
            let v = if source.vectors.is_empty() { None } else { Some(source.vectors[i * dim..(i + 1) * dim].to_vec()) };
            if let Some(v) = v {
                sv.insert(&p.text, &v);
            }
        }
        needed.extend(s.iter().map(|&r| p.slice(r).to_string()));
        spans.insert(i, s);
    }
    if !needed.is_empty() {
        let refs: Vec<&str> = needed.iter().map(|t| t.as_str()).collect();
        if !sv.has_all(&refs) {
            let embedder = source.embedder()?;
            sv.embed_missing(embedder, &refs)?;
        }
    }
    let mut out = Vec::with_capacity(found.pairs.len());
    for pair in &found.pairs {
        let refs = |i: usize| -> Vec<SentenceRef> {
            let p = &source.passages[i];
            spans[&i].iter().map(|&r| SentenceRef { span: r, text: p.slice(r), vector: sv.get(p.slice(r)) }).collect()
        };
        let (a, b) = (refs(pair.a), refs(pair.b));
        let matches = align::align(&a, &b, &settings.decision, settings.decision.threshold, true);
        let sentences: Vec<SentenceOverlap> = matches
            .iter()
            .map(|m| SentenceOverlap { a: a[m.a].span, b: b[m.b].span, cosine: m.cosine, lexical: m.lexical, score: m.score, kind: m.kind })
            .collect();
        let kind = sentences.iter().map(|s| s.kind).max().unwrap_or(Kind::Paraphrase);
        out.push(Overlap { a: pair.a, b: pair.b, cosine: pair.cosine, lexical: pair.lexical, score: pair.score, kind, sentences });
    }
    Ok(out)
}

// ---------------------------------------------------------------- eval

#[derive(Args)]
pub struct EvalMrpcArgs {
    /// MRPC TSV: label (1 paraphrase, 0 not), sentence1, sentence2.
    file: PathBuf,
    #[command(flatten)]
    decision: DecisionArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    json: bool,
}

/// Cosines and lexical similarities of a pair file's sentence pairs.
fn pair_features(file: &Path, model: &ModelArgs) -> Result<(Vec<eval::Pair>, Vec<f64>, Vec<f64>, String)> {
    let pairs = eval::read_pairs(file)?;
    let embedder = load_embedder(model)?;
    let bar = crate::progress::items_bar((pairs.len() * 2) as u64, "sentences");
    let cosines = eval::pair_cosines(&*embedder, &pairs, &mut |n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    let lexical: Vec<f64> = pairs.iter().map(|p| align::lexical(&p.a, &p.b) as f64).collect();
    Ok((pairs, cosines, lexical, embedder.name().to_string()))
}

fn blend(cos: &[f64], lex: &[f64], w: f64) -> Vec<f64> {
    cos.iter().zip(lex).map(|(c, l)| (1.0 - w) * c + w * l).collect()
}

fn pct(x: f64) -> f64 {
    round(x * 100.0, 1)
}

fn scores_json(b: &eval::BinaryScores) -> serde_json::Value {
    serde_json::json!({
        "threshold": round(b.threshold, 4),
        "accuracy": pct(b.accuracy),
        "f1": pct(b.f1),
        "precision": pct(b.precision),
        "recall": pct(b.recall),
    })
}

pub fn cmd_eval_mrpc(args: EvalMrpcArgs) -> Result<()> {
    let decision = args.decision.decision();
    decision.check()?;
    let (pairs, cos, lex, model) = pair_features(&args.file, &args.model)?;
    if let Some(p) = pairs.iter().find(|p| p.score != 0.0 && p.score != 1.0) {
        bail!("{}: labels must be 0 or 1 (found {}); is this an MRPC file?", args.file.display(), p.score);
    }
    let labels: Vec<bool> = pairs.iter().map(|p| p.score == 1.0).collect();
    let w = decision.lexical_weight as f64;
    let blended = blend(&cos, &lex, w);
    let rows = [
        ("overlap decision, default threshold", eval::binary_scores(&blended, &labels, decision.threshold as f64)),
        ("overlap decision, best accuracy (tuned on this file)", eval::best_threshold(&blended, &labels, Criterion::Accuracy)),
        ("overlap decision, best F1 (tuned on this file)", eval::best_threshold(&blended, &labels, Criterion::F1)),
        ("plain cosine, best accuracy (tuned on this file)", eval::best_threshold(&cos, &labels, Criterion::Accuracy)),
        ("plain cosine, best F1 (tuned on this file)", eval::best_threshold(&cos, &labels, Criterion::F1)),
    ];
    let positives = labels.iter().filter(|&&l| l).count();
    if args.json {
        let out = serde_json::json!({
            "task": "mrpc",
            "file": args.file.display().to_string(),
            "model": model,
            "pairs": pairs.len(),
            "paraphrases": positives,
            "lexical_weight": w,
            "default": scores_json(&rows[0].1),
            "best_accuracy": scores_json(&rows[1].1),
            "best_f1": scores_json(&rows[2].1),
            "cosine_best_accuracy": scores_json(&rows[3].1),
            "cosine_best_f1": scores_json(&rows[4].1),
            "reference": {"what": "sentence-transformers, plain cosine, threshold tuned on this test set", "accuracy": 72.5, "f1": 81.8, "threshold": 0.64},
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("MRPC {}: {} pairs, {} paraphrases ({:.1} %), model {model}", args.file.display(), pairs.len(), positives, 100.0 * positives as f64 / pairs.len() as f64);
    println!("overlap decision: {:.2}·cosine + {:.2}·shared words (share of the shorter sentence's content words found in the other) ≥ threshold\n", 1.0 - w, w);
    println!("{:<54} {:>9} {:>9} {:>6} {:>10} {:>7}", "", "threshold", "accuracy", "F1", "precision", "recall");
    for (name, b) in &rows {
        println!(
            "{name:<54} {:>9.3} {:>9.1} {:>6.1} {:>10.1} {:>7.1}",
            b.threshold,
            b.accuracy * 100.0,
            b.f1 * 100.0,
            b.precision * 100.0,
            b.recall * 100.0
        );
    }
    println!("{:<54} {:>9.3} {:>9.1} {:>6.1}", "reference: sentence-transformers cosine, tuned here", 0.64, 72.5, 81.8);
    println!("\nThe default threshold was chosen on STS-B dev, not on this file; the \"tuned\" rows show the best any threshold could do here.");
    Ok(())
}

#[derive(Args)]
pub struct EvalCalibrateArgs {
    /// STS-B TSV (score 0-5, sentence1, sentence2), e.g. ../shared/data/stsb/dev.tsv.
    file: PathBuf,
    /// Pairs scored at least this are "the same claim" (the built-in defaults use 3.0).
    #[arg(long, default_value_t = 3.0)]
    min_score: f64,
    /// Leave out pairs that also occur in these files (e.g. the MRPC test split).
    #[arg(long)]
    exclude: Vec<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    json: bool,
}

/// Chooses the lexical weight and threshold that maximise F1 on labelled
/// pairs; the constants in `overlaps` come from this on STS-B dev.
pub fn cmd_eval_calibrate(args: EvalCalibrateArgs) -> Result<()> {
    let (mut pairs, mut cos, mut lex, model) = pair_features(&args.file, &args.model)?;
    let key = |a: &str, b: &str| {
        let (x, y) = (a.split_whitespace().collect::<Vec<_>>().join(" "), b.split_whitespace().collect::<Vec<_>>().join(" "));
        if x <= y {
            (x, y)
        } else {
            (y, x)
        }
    };
    let mut excluded = 0;
    if !args.exclude.is_empty() {
        let mut leave: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
        for f in &args.exclude {
            for p in eval::read_pairs(f)? {
                leave.insert(key(&p.a, &p.b));
            }
        }
        let keep: Vec<bool> = pairs.iter().map(|p| !leave.contains(&key(&p.a, &p.b))).collect();
        excluded = keep.iter().filter(|&&k| !k).count();
        let filter = |v: Vec<f64>| v.into_iter().zip(&keep).filter(|(_, &k)| k).map(|(x, _)| x).collect::<Vec<f64>>();
        cos = filter(cos);
        lex = filter(lex);
        pairs = pairs.into_iter().zip(&keep).filter(|(_, &k)| k).map(|(p, _)| p).collect();
    }
    let labels: Vec<bool> = pairs.iter().map(|p| p.score >= args.min_score).collect();
    let mut table = Vec::new();
    for step in 0..=12 {
        let w = step as f64 * 0.05;
        let best = eval::best_threshold(&blend(&cos, &lex, w), &labels, Criterion::F1);
        table.push((w, best));
    }
    let (w, best) = table.iter().copied().fold(table[0], |acc, x| if x.1.f1 > acc.1.f1 { x } else { acc });
    let positives = labels.iter().filter(|&&l| l).count();
    if args.json {
        let out = serde_json::json!({
            "file": args.file.display().to_string(),
            "model": model,
            "pairs": pairs.len(),
            "excluded": excluded,
            "positives": positives,
            "min_score": args.min_score,
            "sweep": table.iter().map(|(w, b)| serde_json::json!({"lexical_weight": round(*w, 2), "best_f1": scores_json(b)})).collect::<Vec<_>>(),
            "chosen": {"lexical_weight": round(w, 2), "threshold": round(best.threshold, 4), "f1": pct(best.f1), "precision": pct(best.precision), "recall": pct(best.recall)},
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{}: {} pairs ({} left out as also in {}), {} scored ≥ {} (the same claim)",
        args.file.display(),
        pairs.len(),
        excluded,
        if args.exclude.is_empty() { "nothing".to_string() } else { args.exclude.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ") },
        positives,
        args.min_score
    );
    println!("{:>14} {:>9} {:>6} {:>10} {:>7} {:>9}", "lexical weight", "threshold", "F1", "precision", "recall", "accuracy");
    for (w, b) in &table {
        println!("{:>14.2} {:>9.3} {:>6.1} {:>10.1} {:>7.1} {:>9.1}", w, b.threshold, b.f1 * 100.0, b.precision * 100.0, b.recall * 100.0, b.accuracy * 100.0);
    }
    println!("\nbest F1: lexical weight {w:.2}, threshold {:.3} (F1 {:.1})", best.threshold, best.f1 * 100.0);
    println!("built-in defaults: lexical weight {:.2}, threshold {:.3}", overlaps::DEFAULT_LEXICAL_WEIGHT, overlaps::DEFAULT_THRESHOLD);
    Ok(())
}

#[derive(Args)]
pub struct EvalReuseArgs {
    /// The reuse corpus folder (documents.jsonl and pairs.tsv), e.g. ../shared/data/reuse/clough_stevenson.
    dir: PathBuf,
    /// Only these tasks (letters a-e, e.g. --tasks ab); default all.
    #[arg(long)]
    tasks: Option<String>,
    #[command(flatten)]
    decision: DecisionArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    json: bool,
}

#[derive(serde::Deserialize)]
struct ReuseDoc {
    id: String,
    task: String,
    text: String,
}

/// Overlaps between each answer and its source, by reuse grade: how much of
/// the answer's text lies in sentences that overlap the source, and how
/// literally (one kind per matched answer sentence, its best match's).
pub fn cmd_eval_reuse(args: EvalReuseArgs) -> Result<()> {
    let decision = args.decision.decision();
    decision.check()?;
    let docs_path = args.dir.join("documents.jsonl");
    let pairs_path = args.dir.join("pairs.tsv");
    let text = std::fs::read_to_string(&docs_path).with_context(|| format!("{}: cannot read", docs_path.display()))?;
    let wanted = |task: &str| args.tasks.as_deref().is_none_or(|t| t.contains(task));
    let mut docs: Vec<ReuseDoc> = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let d: ReuseDoc = serde_json::from_str(line).with_context(|| format!("{}:{}: not a document record", docs_path.display(), i + 1))?;
        if wanted(&d.task) {
            docs.push(d);
        }
    }
    let pairs_text = std::fs::read_to_string(&pairs_path).with_context(|| format!("{}: cannot read", pairs_path.display()))?;
    let mut graded: Vec<(usize, usize, String, u8)> = Vec::new();
    let by_id: HashMap<&str, usize> = docs.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect();
    for (i, line) in pairs_text.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 {
            bail!("{}:{}: expected answer_id, source_id, task, label, reuse_level", pairs_path.display(), i + 1);
        }
        if !wanted(f[2]) {
            continue;
        }
        let (Some(&a), Some(&s)) = (by_id.get(f[0]), by_id.get(f[1])) else {
            bail!("{}:{}: {} or {} is not in documents.jsonl", pairs_path.display(), i + 1, f[0], f[1]);
        };
        let level: u8 = f[4].trim().parse().with_context(|| format!("{}:{}: bad reuse level", pairs_path.display(), i + 1))?;
        graded.push((a, s, f[3].to_string(), level));
    }
    if graded.is_empty() {
        bail!("{}: no answer/source pairs to evaluate", pairs_path.display());
    }

    // Sentence units of every document.
    let mut units = Vec::new();
    let mut texts: Vec<&str> = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        for para in split::paragraphs(&doc.text) {
            for r in split::sentences(&doc.text, para) {
                units.push(Unit { doc: d, passage: units.len(), start: r.start, end: r.end });
                texts.push(&doc.text[r]);
            }
        }
    }
    let embedder = load_embedder(&args.model)?;
    let vectors = crate::into_flat(crate::embed_passages(&*embedder, &texts)?);
    let rows = Rows::new(&vectors, embedder.dim());
    let settings = Settings { decision, ..Settings::default() };
    let graph = build_graph(rows);
    let mut knn = knn_route(&graph, rows);
    let found = overlaps::find(&units, &texts, rows, Route::Knn(&mut knn), &settings)?;

    // Per answer: its sentences that overlap its own source, best match each.
    let source_of: HashMap<usize, usize> = graded.iter().map(|&(a, s, _, _)| (a, s)).collect();
    let mut best: HashMap<usize, (f32, Kind)> = HashMap::new();
    for p in &found.pairs {
        for (x, y) in [(p.a, p.b), (p.b, p.a)] {
            if source_of.get(&units[x].doc) == Some(&units[y].doc) {
                let kind = align::kind(&align::words(texts[x]), &align::words(texts[y]));
                let e = best.entry(x).or_insert((f32::MIN, kind));
                if p.score > e.0 {
                    *e = (p.score, kind);
                }
            }
        }
    }
    struct Answer {
        grade: String,
        level: u8,
        share: f64,
        kinds: [usize; 3],
    }
    let mut answers = Vec::new();
    for &(a, _, ref grade, level) in &graded {
        let (mut all, mut matched, mut kinds) = (0usize, 0usize, [0usize; 3]);
        for (u, _) in units.iter().enumerate().filter(|(_, u)| u.doc == a) {
            let words = align::words(texts[u]).len();
            all += words;
            if let Some(&(_, kind)) = best.get(&u) {
                matched += words;
                kinds[kind as usize] += 1;
            }
        }
        answers.push(Answer { grade: grade.clone(), level, share: if all == 0 { 0.0 } else { matched as f64 / all as f64 }, kinds });
    }
    let shares: Vec<f64> = answers.iter().map(|a| a.share).collect();
    let levels: Vec<f64> = answers.iter().map(|a| a.level as f64).collect();
    let reused: Vec<bool> = answers.iter().map(|a| a.level > 0).collect();
    let spearman = eval::spearman(&shares, &levels);
    let auc = eval::roc_auc(&shares, &reused);
    let mut rows_out = Vec::new();
    for grade in ["cut", "light", "heavy", "non"] {
        let of: Vec<&Answer> = answers.iter().filter(|a| a.grade == grade).collect();
        if of.is_empty() {
            continue;
        }
        let n = of.len() as f64;
        let mean_share = of.iter().map(|a| a.share).sum::<f64>() / n;
        let mut kinds = [0usize; 3];
        for a in &of {
            for k in 0..3 {
                kinds[k] += a.kinds[k];
            }
        }
        let total: usize = kinds.iter().sum();
        let share_of = |k: Kind| if total == 0 { 0.0 } else { kinds[k as usize] as f64 / total as f64 };
        let with_any = of.iter().filter(|a| a.kinds.iter().sum::<usize>() > 0).count();
        rows_out.push(serde_json::json!({
            "grade": grade,
            "answers": of.len(),
            "answers_with_overlap": with_any,
            "overlapping_text_pct": pct(mean_share),
            "matched_sentences": total,
            "verbatim_pct": pct(share_of(Kind::Verbatim)),
            "near_verbatim_pct": pct(share_of(Kind::NearVerbatim)),
            "paraphrase_pct": pct(share_of(Kind::Paraphrase)),
        }));
    }
    if args.json {
        let out = serde_json::json!({
            "task": "reuse",
            "dir": args.dir.display().to_string(),
            "model": embedder.name(),
            "threshold": decision.threshold,
            "lexical_weight": decision.lexical_weight,
            "answers": answers.len(),
            "sentences": units.len(),
            "grades": rows_out,
            "spearman_share_vs_level": round(spearman, 4),
            "auc_reused_vs_non": round(auc, 4),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "reuse {}: {} answers, {} sentences, overlap threshold {:.3} (lexical weight {:.2}), model {}\n",
        args.dir.display(),
        answers.len(),
        units.len(),
        decision.threshold,
        decision.lexical_weight,
        embedder.name()
    );
    println!("{:<6} {:>7} {:>12} {:>14} {:>9} {:>9} {:>7} {:>11}", "grade", "answers", "with overlap", "overlapping %", "sentences", "verbatim", "near", "paraphrase");
    for r in &rows_out {
        println!(
            "{:<6} {:>7} {:>12} {:>14.1} {:>9} {:>8.1}% {:>6.1}% {:>10.1}%",
            r["grade"].as_str().unwrap_or(""),
            r["answers"].as_u64().unwrap_or(0),
            r["answers_with_overlap"].as_u64().unwrap_or(0),
            r["overlapping_text_pct"].as_f64().unwrap_or(0.0),
            r["matched_sentences"].as_u64().unwrap_or(0),
            r["verbatim_pct"].as_f64().unwrap_or(0.0),
            r["near_verbatim_pct"].as_f64().unwrap_or(0.0),
            r["paraphrase_pct"].as_f64().unwrap_or(0.0)
        );
    }
    println!("\noverlapping % = share of the answer's words in sentences that overlap its source; kinds per matched answer sentence.");
    println!("Spearman(overlapping %, reuse level) = {spearman:.3}; ROC AUC reused vs non = {auc:.3}");
    Ok(())
}
