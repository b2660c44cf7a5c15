//! `motif eval`: quality on labelled data. STS-B (Spearman of cosine
//! against gold scores), MRPC and calibration of the overlap decision, the
//! text-reuse corpus by grade, and themes against topic labels.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use ndarray::Array2;
use serde_json::json;

use super::overlaps::DecisionArgs;
use super::progress::Bars;
use super::themes::ThemeArgs;
use super::{ellipsize, round, ModelArgs, ReadArgs};
use motif::corpus::{split, Corpus, Unit, UnitKind};
use motif::eval::clusters as eval_cluster;
use motif::eval::pairs::{self as eval, Criterion};
use motif::index::Neighbours;
use motif::matrix;
use motif::overlaps::align::{self, Kind};
use motif::overlaps::{self, Route, Settings};
use motif::pipeline;
use motif::themes;

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Cluster a labelled JSONL corpus and score the themes against the labels (NMI, ARI, V-measure).
    Themes(EvalThemesArgs),
    /// Accuracy and F1 of the overlap decision on MRPC (label, sentence1, sentence2), at the default and the best threshold.
    Mrpc(EvalMrpcArgs),
    /// Overlaps of each answer with its source on the reuse corpus, by grade (cut, light, heavy, non).
    Reuse(EvalReuseArgs),
    /// Choose the overlap decision's lexical weight and threshold on STS-B-style pairs (F1-best).
    Calibrate(EvalCalibrateArgs),
    /// Spearman ×100 of cosine against the gold score on an STS-B TSV (score, sentence1, sentence2).
    Stsb {
        file: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: EvalCommand) -> Result<()> {
    match command {
        EvalCommand::Themes(args) => cmd_eval_themes(args),
        EvalCommand::Mrpc(args) => cmd_eval_mrpc(args),
        EvalCommand::Reuse(args) => cmd_eval_reuse(args),
        EvalCommand::Calibrate(args) => cmd_eval_calibrate(args),
        EvalCommand::Stsb { file, model, json } => cmd_eval_stsb(&file, &model, json),
    }
}

fn cmd_eval_stsb(file: &Path, model_args: &ModelArgs, json: bool) -> Result<()> {
    let pairs = eval::read_pairs(file)?;
    let embedder = model_args.load(&model_args.name_or(None))?;
    let start = Instant::now();
    let cosines = pipeline::stage(&mut Bars::new(), "sentences", pairs.len() * 2, |p| eval::pair_cosines(&*embedder, &pairs, p))?;
    let gold: Vec<f64> = pairs.iter().map(|p| p.score).collect();
    let spearman = eval::spearman(&cosines, &gold) * 100.0;
    let pearson = eval::pearson(&cosines, &gold) * 100.0;
    let seconds = start.elapsed().as_secs_f64();
    if json {
        return super::print_json(&json!({
            "task": "stsb",
            "file": file.display().to_string(),
            "model": embedder.name(),
            "pairs": pairs.len(),
            "spearman": round(spearman, 2),
            "pearson": round(pearson, 2),
            "seconds": round(seconds, 2),
        }));
    }
    println!("STS-B {}: Spearman x100 = {spearman:.2} (Pearson {pearson:.2}) over {} pairs", file.display(), pairs.len());
    println!("model {} on {}, {seconds:.1} s", embedder.name(), embedder.device_name());
    Ok(())
}


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
    let embedder = model.load(&model.name_or(None))?;
    let cosines = pipeline::stage(&mut Bars::new(), "sentences", pairs.len() * 2, |p| eval::pair_cosines(&*embedder, &pairs, p))?;
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
    let decision = args.decision.decision()?;
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
    let decision = args.decision.decision()?;
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
    let embedder = args.model.load(&args.model.name_or(None))?;
    let vectors = pipeline::stage(&mut Bars::new(), "embedding", texts.len(), |p| embedder.embed(&texts, p))?;
    let settings = Settings { decision, ..Settings::default() };
    let members = motif::themes::members(&texts, settings.min_content_words);
    let graph = Neighbours::build(vectors.view(), members, settings.k, motif::index::Route::Auto, &mut |_| {});
    let found = overlaps::find(&units, &texts, vectors.view(), Route::Graph(&graph), &settings)?;

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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    /// One vector per record: the normalised mean of its passages' vectors.
    Article,
    /// Every passage, labelled with its record's label.
    Passage,
    /// Every sentence of every passage, labelled with its record's label.
    Sentence,
}

impl Level {
    fn unit(self) -> UnitKind {
        match self {
            Level::Sentence => UnitKind::Sentence,
            _ => UnitKind::Passage,
        }
    }
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
    let opts = args.theme.options(args.level.unit())?;
    let name = args.file.display().to_string();
    let labels = read_labels(&args.file, &args.text_field, &args.label_field)?;
    let embedder = args.model.load(&args.model.name_or(None))?;
    let read = ReadArgs::for_corpus(&args.text_field);
    let p = match &args.vectors {
        Some(path) => {
            let docs = super::read_documents(std::slice::from_ref(&name), &read, &*embedder)?;
            let vectors = matrix::read_npy(path)?;
            if vectors.dim() != (docs.passages.len(), embedder.dim()) {
                bail!(
                    "{}: shape {:?} is not the {} passages × {} dimensions of {name}; was it made from the same file and split settings?",
                    path.display(),
                    vectors.dim(),
                    docs.passages.len(),
                    embedder.dim()
                );
            }
            Corpus::new(docs.documents.into_iter().map(|d| d.id).collect(), docs.passages, vectors, embedder.name().to_string())?
        }
        None => super::embed_files(std::slice::from_ref(&name), &read, &*embedder)?,
    };
    if p.documents.len() != labels.len() {
        bail!("{name}: {} records with text but {} labels", p.documents.len(), labels.len());
    }
    let pdoc: Vec<usize> = p.passages.iter().map(|x| x.doc).collect();
    // Keywords come from the full texts of what is clustered.
    let (vectors, truth, docs, texts): (Array2<f32>, Vec<&str>, Vec<usize>, Vec<String>) = match args.level {
        Level::Article => {
            let docs: Vec<usize> = (0..p.documents.len()).collect();
            let mut t = vec![String::new(); p.documents.len()];
            for x in &p.passages {
                t[x.doc].push_str(&x.text);
                t[x.doc].push('\n');
            }
            (themes::document_vectors(p.vectors.view(), &pdoc, p.documents.len()), labels.iter().map(String::as_str).collect(), docs, t)
        }
        Level::Passage => (p.vectors.clone(), pdoc.iter().map(|&d| labels[d].as_str()).collect(), pdoc.clone(), p.passages.iter().map(|x| x.text.clone()).collect()),
        Level::Sentence => {
            let u = pipeline::units(&p, UnitKind::Sentence, &*embedder, &mut Bars::new())?;
            let docs = u.docs();
            (u.vectors, docs.iter().map(|&d| labels[d].as_str()).collect(), docs, u.texts)
        }
    };
    if let Some(path) = &args.save_vectors {
        matrix::write_npy(path, vectors.view())?;
    }
    let v = vectors.view();
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
            "settings": args.theme.settings_json(args.level.unit()),
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
    let k = args.theme.neighbors.unwrap_or_else(|| motif::themes::cluster::auto_k(n));
    println!("clustered in {seconds:.2} s (seed {}, {k} neighbours, resolution {})", args.theme.seed, args.theme.resolution(args.level.unit()));
    Ok(())
}

