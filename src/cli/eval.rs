//! `motif eval`: quality on labelled data. STS-B (Spearman of cosine
//! against gold scores), MRPC and calibration of the overlap decision, the
//! text-reuse corpus by grade, themes against topic labels, and the
//! nearest documents against the same labels. Each
//! command reads its inputs, loads the model, calls `motif::eval` and
//! prints the typed result.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::overlaps::{ClaimArgs, DecisionArgs};
use super::progress::Bars;
use super::themes::ThemeArgs;
use super::{ellipsize, round, ModelArgs, ReadArgs};
use motif::documents::Aggregation;
use motif::eval::decision::{self, SENTENCE_TRANSFORMERS_MRPC};
use motif::eval::documents as eval_documents;
use motif::eval::pairs::{self, BinaryScores};
use motif::eval::reuse;
use motif::eval::themes::{self as eval_themes, Level as EvalLevel};
use motif::index::Route;
use motif::matrix;
use motif::overlaps;

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Cluster a labelled JSONL corpus and score the themes against the labels (NMI, ARI, V-measure).
    Themes(EvalThemesArgs),
    /// Precision@k of each record's nearest records (as `motif similar --documents --all` finds them) sharing its label, per aggregation.
    Documents(EvalDocumentsArgs),
    /// Accuracy and F1 of the overlap decision on MRPC (label, sentence1, sentence2), at the default and the best threshold.
    Mrpc(EvalMrpcArgs),
    /// The claim-level overlap decision on labelled sentence pairs (same / conflict / different, or MRPC's 1 / 0):
    /// linked pairs and conflicts, beside whole sentences, with the curve over its two margins.
    Claims(EvalClaimsArgs),
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
        EvalCommand::Documents(args) => cmd_eval_documents(args),
        EvalCommand::Mrpc(args) => cmd_eval_mrpc(args),
        EvalCommand::Claims(args) => cmd_eval_claims(args),
        EvalCommand::Reuse(args) => cmd_eval_reuse(args),
        EvalCommand::Calibrate(args) => cmd_eval_calibrate(args),
        EvalCommand::Stsb { file, model, json } => cmd_eval_stsb(&file, &model, json),
    }
}

/// `--json`: the task and the input's name, then the library's result.
#[derive(Serialize)]
struct Output<'a, T: Serialize> {
    #[serde(skip_serializing_if = "Option::is_none")]
    task: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dir: Option<String>,
    #[serde(flatten)]
    result: &'a T,
}

/// Prints through `serde_json::Value`, whose keys are sorted (serde_json
/// without `preserve_order`): the output the `json!` objects gave before.
fn print_output<T: Serialize>(
    task: Option<&'static str>,
    file: Option<&Path>,
    dir: Option<&Path>,
    result: &T,
) -> Result<()> {
    let shown = |p: &Path| p.display().to_string();
    let out = Output { task, file: file.map(shown), dir: dir.map(shown), result };
    super::print_json(&serde_json::to_value(&out)?)
}

fn cmd_eval_stsb(file: &Path, model_args: &ModelArgs, json: bool) -> Result<()> {
    let pairs = pairs::read_pairs(file)?;
    let embedder = model_args.load(&model_args.name_or(None))?;
    let r = pairs::stsb(&pairs, &*embedder, &mut Bars::new())?;
    if json {
        return print_output(Some("stsb"), Some(file), None, &r);
    }
    outln!(
        "STS-B {}: Spearman x100 = {:.2} (Pearson {:.2}) over {} pairs",
        file.display(),
        r.spearman,
        r.pearson,
        r.pairs
    );
    outln!("model {} on {}, {:.1} s", r.model, embedder.device_name(), r.seconds);
    Ok(())
}

#[derive(Args)]
pub struct EvalClaimsArgs {
    /// A claim set (header starting `label`: label, id_a, id_b, sentence_a, sentence_b, note), e.g.
    /// tests/fixtures/claims/bbc_claims.tsv, or an MRPC TSV.
    file: PathBuf,
    #[command(flatten)]
    decision: DecisionArgs,
    #[command(flatten)]
    claims: ClaimArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    json: bool,
}

pub fn cmd_eval_claims(args: EvalClaimsArgs) -> Result<()> {
    use motif::eval::claims;
    let name = args.model.name_or(None);
    let d = args.decision.decision_for(&name)?;
    let pairs = claims::read(&args.file)?;
    let embedder = args.model.load(&name)?;
    let settings = args.claims.settings(true);
    let r = claims::evaluate(&pairs, d, settings, &*embedder, &mut Bars::new())?;
    if args.json {
        return print_output(Some("claims"), Some(&args.file), None, &r);
    }
    outln!(
        "{}: {} pairs ({} same, {} conflict, {} different), model {}, threshold {:.3}",
        args.file.display(),
        r.pairs,
        r.same,
        r.conflict,
        r.different,
        r.model,
        d.threshold
    );
    outln!(
        "linked: same or conflict; conflict: marked as conflicting figures
"
    );
    outln!(
        "{:<30} {:>7} {:>7} {:>6} {:>6} {:>9} {:>11} {:>10} {:>10} {:>9} {:>7}",
        "",
        "linked",
        "prec",
        "recall",
        "F1",
        "accuracy",
        "conflicts",
        "conf prec",
        "conf rec",
        "equiv acc",
        "equiv F1"
    );
    let line = |name: String, row: &claims::Row| {
        outln!(
            "{name:<30} {:>7} {:>7.1} {:>6.1} {:>6.1} {:>9.1} {:>11} {:>10.1} {:>10.1} {:>9.1} {:>7.1}",
            row.same_linked + row.conflict_linked + row.different_linked,
            row.linked.precision * 100.0,
            row.linked.recall * 100.0,
            row.linked.f1 * 100.0,
            row.linked.accuracy * 100.0,
            row.conflicts.true_pos + row.conflicts.false_pos,
            row.conflicts.precision * 100.0,
            row.conflicts.recall * 100.0,
            row.equivalent.accuracy * 100.0,
            row.equivalent.f1 * 100.0
        );
    };
    let margins = |row: &claims::Row| {
        let cm = row.claim_margin.unwrap_or(1.0);
        let cm = if cm >= 1.0 { "off".to_string() } else { format!("{cm:.2}") };
        format!("anchor {:.2}, claim {cm}", row.anchor_margin.unwrap_or(0.0))
    };
    line("whole sentences".into(), &r.whole);
    line(format!("claims ({})", margins(&r.default)), &r.default);
    outln!(
        "
curve (anchor margin, claim margin):"
    );
    for row in &r.curve {
        line(margins(row), row);
    }
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

pub fn cmd_eval_mrpc(args: EvalMrpcArgs) -> Result<()> {
    let name = args.model.name_or(None);
    let d = args.decision.decision_for(&name)?;
    let pairs = decision::read_mrpc(&args.file)?;
    let embedder = args.model.load(&name)?;
    let r = decision::mrpc(&pairs, d, &*embedder, &mut Bars::new())?;
    if args.json {
        return print_output(Some("mrpc"), Some(&args.file), None, &r);
    }
    let w = r.lexical_weight;
    outln!(
        "MRPC {}: {} pairs, {} paraphrases ({:.1} %), model {}",
        args.file.display(),
        r.pairs,
        r.paraphrases,
        100.0 * r.paraphrases as f64 / r.pairs as f64,
        r.model
    );
    outln!("overlap decision: {:.2}·cosine + {:.2}·shared words (share of the shorter sentence's content words found in the other) ≥ threshold\n", 1.0 - w, w);
    outln!("{:<54} {:>9} {:>9} {:>6} {:>10} {:>7}", "", "threshold", "accuracy", "F1", "precision", "recall");
    let rows: [(&str, &BinaryScores); 5] = [
        ("overlap decision, the model's threshold", &r.default),
        ("overlap decision, best accuracy (tuned on this file)", &r.best_accuracy),
        ("overlap decision, best F1 (tuned on this file)", &r.best_f1),
        ("plain cosine, best accuracy (tuned on this file)", &r.cosine_best_accuracy),
        ("plain cosine, best F1 (tuned on this file)", &r.cosine_best_f1),
    ];
    for (name, b) in rows {
        outln!(
            "{name:<54} {:>9.3} {:>9.1} {:>6.1} {:>10.1} {:>7.1}",
            b.threshold,
            b.accuracy * 100.0,
            b.f1 * 100.0,
            b.precision * 100.0,
            b.recall * 100.0
        );
    }
    // The reference was measured with MiniLM; another model's would differ.
    if r.model == motif::embed::DEFAULT_MODEL {
        let reference = SENTENCE_TRANSFORMERS_MRPC;
        outln!(
            "{:<54} {:>9.3} {:>9.1} {:>6.1}",
            "reference: sentence-transformers cosine, tuned here",
            reference.threshold,
            reference.accuracy,
            reference.f1
        );
    }
    outln!("\nThe default threshold was chosen on STS-B dev, not on this file; the \"tuned\" rows show the best any threshold could do here.");
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
    /// Keep the chosen threshold and weight with the model: written to motif.json in its folder,
    /// which overlaps, report and the evaluations then use by default (for a folder given by --model).
    #[arg(long)]
    save: bool,
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    json: bool,
}

/// Chooses the lexical weight and threshold that maximise F1 on labelled
/// pairs; the constants in `overlaps` come from this on STS-B dev.
pub fn cmd_eval_calibrate(args: EvalCalibrateArgs) -> Result<()> {
    let pairs = pairs::read_pairs(&args.file)?;
    let mut exclude = Vec::new();
    for f in &args.exclude {
        exclude.extend(pairs::read_pairs(f)?);
    }
    let name = args.model.name_or(None);
    let folder = std::path::Path::new(&name);
    if args.save && !folder.is_dir() {
        anyhow::bail!(
            "--save keeps a calibration in a model folder's {}; {name} is not a folder (known models carry theirs in models/manifest.json, shown by `motif model list`)",
            overlaps::MODEL_DECISION_FILE
        );
    }
    let embedder = args.model.load(&name)?;
    let r = decision::calibrate(&pairs, &exclude, args.min_score, &*embedder, &mut Bars::new())?;
    if args.save {
        let c = &r.chosen;
        let d = overlaps::Decision { threshold: c.threshold as f32, lexical_weight: c.lexical_weight as f32 };
        let how = format!(
            "motif eval calibrate {} (score ≥ {}, {} pairs left out): F1 {:.1}",
            args.file.display(),
            r.min_score,
            r.excluded,
            c.f1 * 100.0
        );
        let path = overlaps::save_model_decision(folder, d, how)?;
        eprintln!(
            "motif: wrote {} (threshold {:.3}, lexical weight {:.2})",
            path.display(),
            d.threshold,
            d.lexical_weight
        );
    }
    if args.json {
        return print_output(None, Some(&args.file), None, &r);
    }
    outln!(
        "{}: {} pairs ({} left out as also in {}), {} scored ≥ {} (the same claim)",
        args.file.display(),
        r.pairs,
        r.excluded,
        if args.exclude.is_empty() {
            "nothing".to_string()
        } else {
            args.exclude.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        },
        r.positives,
        r.min_score
    );
    outln!(
        "{:>14} {:>9} {:>6} {:>10} {:>7} {:>9}",
        "lexical weight",
        "threshold",
        "F1",
        "precision",
        "recall",
        "accuracy"
    );
    for row in &r.sweep {
        let b = &row.best_f1;
        outln!(
            "{:>14.2} {:>9.3} {:>6.1} {:>10.1} {:>7.1} {:>9.1}",
            row.lexical_weight,
            b.threshold,
            b.f1 * 100.0,
            b.precision * 100.0,
            b.recall * 100.0,
            b.accuracy * 100.0
        );
    }
    let c = &r.chosen;
    outln!("\nbest F1: lexical weight {:.2}, threshold {:.3} (F1 {:.1})", c.lexical_weight, c.threshold, c.f1 * 100.0);
    outln!(
        "built-in defaults: lexical weight {:.2}, threshold {:.3}",
        overlaps::DEFAULT_LEXICAL_WEIGHT,
        overlaps::DEFAULT_THRESHOLD
    );
    Ok(())
}

#[derive(Args)]
pub struct EvalReuseArgs {
    /// The reuse corpus folder (documents.jsonl and pairs.tsv), e.g. ../shared/data/reuse/clough_stevenson.
    dir: PathBuf,
    /// Only these tasks (letters a-e, e.g. --tasks ab); default all.
    #[arg(long)]
    tasks: Option<String>,
    /// Compare whole sentences, or sentences and the claims inside them (as `motif overlaps` does
    /// by default).
    #[arg(long, value_enum, default_value_t = ReuseGranularity::Claim)]
    granularity: ReuseGranularity,
    #[command(flatten)]
    claims: ClaimArgs,
    #[command(flatten)]
    decision: DecisionArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReuseGranularity {
    /// Single sentences, compared as wholes.
    Sentence,
    /// Sentences, and the claims inside them.
    Claim,
}

/// Overlaps between each answer and its source, by reuse grade (see
/// `motif::eval::reuse`).
pub fn cmd_eval_reuse(args: EvalReuseArgs) -> Result<()> {
    let name = args.model.name_or(None);
    let decision = args.decision.decision_for(&name)?;
    let corpus = reuse::read(&args.dir, args.tasks.as_deref())?;
    let embedder = args.model.load(&name)?;
    let claims = args.claims.settings(args.granularity == ReuseGranularity::Claim);
    let r = reuse::evaluate(&corpus, decision, claims, &*embedder, &mut Bars::new())?;
    if args.json {
        return print_output(Some("reuse"), None, Some(&args.dir), &r);
    }
    outln!(
        "reuse {}: {} answers, {} sentences, {} granularity, overlap threshold {:.3} (lexical weight {:.2}), model {}\n",
        args.dir.display(),
        r.answers,
        r.sentences,
        r.granularity,
        r.threshold,
        r.lexical_weight,
        r.model
    );
    outln!(
        "{:<6} {:>7} {:>12} {:>14} {:>9} {:>9} {:>7} {:>11}",
        "grade",
        "answers",
        "with overlap",
        "overlapping %",
        "sentences",
        "verbatim",
        "near",
        "paraphrase"
    );
    // Percentages rounded as in --json.
    let pct = |x: f64| round(x * 100.0, 1);
    for g in &r.grades {
        outln!(
            "{:<6} {:>7} {:>12} {:>14.1} {:>9} {:>8.1}% {:>6.1}% {:>10.1}%",
            g.grade,
            g.answers,
            g.answers_with_overlap,
            pct(g.overlapping_text),
            g.matched_sentences,
            pct(g.verbatim),
            pct(g.near_verbatim),
            pct(g.paraphrase)
        );
    }
    outln!("\noverlapping % = share of the answer's words in sentences that overlap its source; kinds per matched answer sentence.");
    outln!("Spearman(overlapping %, reuse level) = {:.3}; ROC AUC reused vs non = {:.3}", r.spearman, r.auc);
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
    fn level(self) -> EvalLevel {
        match self {
            Level::Article => EvalLevel::Article,
            Level::Passage => EvalLevel::Passage,
            Level::Sentence => EvalLevel::Sentence,
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

/// A labelled JSONL corpus with its passages' vectors: read from `vectors`
/// (a `.npy` of `motif embed`, checked against the corpus) or embedded.
fn labelled_corpus(
    name: &str,
    text_field: &str,
    vectors: Option<&std::path::Path>,
    embedder: &dyn motif::embed::Embedder,
) -> Result<motif::corpus::Corpus> {
    let read = ReadArgs::for_corpus(text_field);
    let inputs = [name.to_string()];
    Ok(match vectors {
        Some(path) => {
            let docs = super::read_documents(&inputs, &read, embedder)?;
            eval_themes::with_vectors(docs, matrix::read_npy(path)?, embedder, name, &path.display().to_string())?
        }
        None => super::embed_files(&inputs, &read, embedder)?,
    })
}

pub fn cmd_eval_themes(args: EvalThemesArgs) -> Result<()> {
    let level = args.level.level();
    let opts = args.theme.options(level.unit())?;
    let name = args.file.display().to_string();
    let labels = eval_themes::read_labels(&args.file, &args.text_field, &args.label_field)?;
    let embedder = args.model.load(&args.model.name_or(None))?;
    let corpus = labelled_corpus(&name, &args.text_field, args.vectors.as_deref(), &*embedder)?;
    let items = eval_themes::items(&corpus, &labels, level, &*embedder, &mut Bars::new())?;
    if let Some(path) = &args.save_vectors {
        matrix::write_npy(path, items.vectors.view())?;
    }
    let r = eval_themes::score(&items, &opts)?;
    if args.json {
        return print_output(Some("themes"), Some(&args.file), None, &r);
    }
    let what = match args.level {
        Level::Article => "records (article level: mean of passage vectors)",
        Level::Passage => "passages",
        Level::Sentence => "sentences",
    };
    outln!("{name}: {} {what}, {} labels", r.items, r.labels);
    outln!(
        "themes {}  outliers {} ({:.1}%, counted as one more cluster)",
        r.themes,
        r.outliers,
        r.outlier_share * 100.0
    );
    outln!(
        "NMI {:.4}  ARI {:.4}  V-measure {:.4} (homogeneity {:.4}, completeness {:.4})",
        r.nmi,
        r.ari,
        r.v_measure,
        r.homogeneity,
        r.completeness
    );
    let kept = &r.clustered_only;
    outln!("clustered items only: NMI {:.4}  ARI {:.4}  V-measure {:.4}", kept.nmi, kept.ari, kept.v_measure);
    for t in &r.themes_found {
        let mix: Vec<String> = t.labels.iter().take(3).map(|(l, c)| format!("{l} {c}")).collect();
        outln!("  theme {:>3} {:>6}  {:<40} {}", t.id, t.size, ellipsize(&t.label, 40), mix.join(", "));
    }
    if r.tree.len() > 1 {
        outln!("theme tree (level 0: the themes above; each level up merges them by centroid):");
        for l in &r.tree {
            outln!(
                "  level {}  {:>4} themes  NMI {:.4}  ARI {:.4}  V-measure {:.4}",
                l.level,
                l.themes,
                l.scores.nmi,
                l.scores.ari,
                l.scores.v_measure
            );
        }
    }
    outln!(
        "clustered in {:.2} s (seed {}, {} neighbours, resolution {})",
        r.cluster_seconds,
        r.settings.seed,
        r.neighbours,
        r.settings.resolution
    );
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RouteArg {
    Auto,
    Exact,
    Hnsw,
}

#[derive(Args)]
pub struct EvalDocumentsArgs {
    /// A JSONL file with one labelled text per line.
    file: PathBuf,
    /// The JSON field holding the text.
    #[arg(long, default_value = "text")]
    text_field: String,
    /// The JSON field holding the reference label.
    #[arg(long, default_value = "label")]
    label_field: String,
    /// Nearest records scored per record.
    #[arg(short = 'k', long, default_value_t = 5, value_parser = super::at_least_one)]
    k: usize,
    /// How the nearest records are found: by size (auto), exactly, or from HNSW candidates over the mean vectors (the route above the exact limits).
    #[arg(long, value_enum, default_value_t = RouteArg::Auto)]
    route: RouteArg,
    /// Use these passage vectors (a .npy from `motif embed --format npy FILE`) instead of embedding.
    #[arg(long)]
    vectors: Option<PathBuf>,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs,
}

pub fn cmd_eval_documents(args: EvalDocumentsArgs) -> Result<()> {
    let name = args.file.display().to_string();
    let labels = eval_themes::read_labels(&args.file, &args.text_field, &args.label_field)?;
    let embedder = args.model.load(&args.model.name_or(None))?;
    let corpus = labelled_corpus(&name, &args.text_field, args.vectors.as_deref(), &*embedder)?;
    let route = match args.route {
        RouteArg::Auto => Route::Auto,
        RouteArg::Exact => Route::Exact,
        RouteArg::Hnsw => Route::Hnsw,
    };
    let r = eval_documents::score(&corpus, &labels, args.k, &Aggregation::ALL, route, &mut Bars::new())?;
    if args.json {
        return print_output(Some("documents"), Some(&args.file), None, &r);
    }
    outln!(
        "{name}: {} records, {} passages, {} labels; nearest {} records each",
        r.documents,
        r.passages,
        r.labels,
        r.k
    );
    outln!("{:<12} {:>6} {:>8} {:>8} {:>9}", "aggregation", "route", format!("P@{}", r.k), "P@1", "seconds");
    for a in &r.aggregations {
        let route = if a.route == Route::Hnsw { "hnsw" } else { "exact" };
        outln!(
            "{:<12} {:>6} {:>7.1}% {:>7.1}% {:>9.2}",
            a.aggregation.name(),
            route,
            a.precision_at_k * 100.0,
            a.precision_at_1 * 100.0,
            a.seconds
        );
    }
    Ok(())
}
