//! `motif overlaps`: arguments into `overlaps::Settings`, the corpus from
//! files or an index, `overlaps::find_echoes` over the unit set's k-NN
//! graph, and the Markdown, JSON or CSV writer.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::progress::Bars;
use super::{open_source, output, IndexArg, ModelArgs, ReadArgs};
use motif::corpus::UnitKind;
use motif::index::Route as GraphRoute;
use motif::overlaps::claims::ClaimSettings;
use motif::overlaps::{self, Decision, Route, Settings};
use motif::pipeline;
use motif::report::overlaps::{BoilerplateRow, Meta, Report};

pub const LONG_ABOUT: &str =
    "Passages from different documents that say the same thing, strongest first, grouped into \
echo groups, with the matching sentences inside each pair and, by default, the matching claims inside those \
sentences (verbatim, near-verbatim, paraphrase, cross-language between scripts, or conflict: the same claim about \
the same names with different figures, listed first).\n\n\
A pair overlaps when (1-w)*cosine + w*shared-words >= threshold (defaults calibrated on STS-B dev; see \
`motif eval calibrate` and `motif eval mrpc`). Candidates come from the k-NN graph of the units (exact up to \
50,000 units, HNSW beyond); --exact scores all pairs. At --granularity claim (the default) each sentence is also cut \
into its claims (clauses), every claim of one sentence is scored against every claim of the other, two claims that \
give the same rare figure link at threshold - --anchor-margin, and claims that give different figures for the same \
thing are marked as conflicts (`motif eval claims` measures both). Titles and boilerplate repeated nearly verbatim \
across many documents and unrelated to its own document are left out.\n\n\
Examples:\n  motif overlaps seeds/\n  motif overlaps --json seeds/ > overlaps.json\n  \
motif overlaps --granularity passage --index .motif --format csv";

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
    /// Single sentences anywhere in the corpus, compared as wholes.
    Sentence,
    /// Sentences, and the claims inside them (clauses cut at their boundaries): a long sentence's
    /// claim restated elsewhere is found, figures and names anchor matches, and different figures
    /// for the same thing are marked as conflicts.
    Claim,
}

impl Granularity {
    fn unit(self) -> UnitKind {
        match self {
            Granularity::Passage => UnitKind::Passage,
            Granularity::Sentence | Granularity::Claim => UnitKind::Sentence,
        }
    }
}

/// The overlap decision's two settings, shared by `overlaps`, `report` and the evaluations.
#[derive(Args, Clone, Copy, Debug)]
pub struct DecisionArgs {
    /// Overlap threshold on the blended score. Default: the model's own, calibrated on STS-B dev
    /// (`motif model list` shows it; all-MiniLM-L6-v2: 0.594).
    #[arg(long)]
    pub threshold: Option<f32>,
    /// Weight of shared wording in the blended score (0: plain cosine). Default: the model's own
    /// (all-MiniLM-L6-v2: 0.20).
    #[arg(long)]
    pub lexical_weight: Option<f32>,
}

impl DecisionArgs {
    /// The decision for vectors of `model` (as `--model` or an index names
    /// it): the flags given, else the model's calibrated values, else
    /// MiniLM's, with a note saying how to calibrate.
    pub fn decision_for(&self, model: &str) -> Result<Decision> {
        let calibrated = overlaps::Calibrated::of(model)?;
        let base = calibrated.decision().unwrap_or_default();
        let d = Decision {
            threshold: self.threshold.unwrap_or(base.threshold),
            lexical_weight: self.lexical_weight.unwrap_or(base.lexical_weight),
        };
        if calibrated == overlaps::Calibrated::Missing && (self.threshold.is_none() || self.lexical_weight.is_none()) {
            eprintln!(
                "motif: {model} has no calibrated overlap threshold; using all-MiniLM-L6-v2's ({:.3}, lexical weight {:.2}). \
                 Calibrate it once: motif eval calibrate STSB_DEV.tsv --model {model} --save",
                d.threshold, d.lexical_weight
            );
        }
        d.check()?;
        Ok(d)
    }
}

/// The claim-level decision's margins, shared by `overlaps` and `eval claims`.
#[derive(Args, Clone, Copy, Debug)]
pub struct ClaimArgs {
    /// Claims: how far below the threshold two claims that give the same rare figure may score and
    /// still link.
    #[arg(long, default_value_t = ClaimSettings::default().anchor_margin, value_parser = margin)]
    pub anchor_margin: f32,
    /// Claims: how far below the threshold two claims about the same name may score and still be
    /// marked as conflicting when their figures differ.
    #[arg(long, default_value_t = ClaimSettings::default().conflict_margin, value_parser = margin)]
    pub conflict_margin: f32,
    /// Claims: how far above the threshold a claim must score to link two sentences that do not
    /// match as wholes and share no rare figure (1: never).
    #[arg(long, default_value_t = ClaimSettings::default().claim_margin, value_parser = margin)]
    pub claim_margin: f32,
}

impl ClaimArgs {
    pub fn settings(&self, enabled: bool) -> ClaimSettings {
        ClaimSettings {
            enabled,
            anchor_margin: self.anchor_margin,
            conflict_margin: self.conflict_margin,
            claim_margin: self.claim_margin,
            ..Default::default()
        }
    }
}

fn margin(s: &str) -> Result<f32, String> {
    let m: f32 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&m) {
        Ok(m)
    } else {
        Err(format!("{m} is outside 0..=1"))
    }
}

#[derive(Args)]
pub struct OverlapsArgs {
    /// Files, folders or globs to read and embed now, instead of reading an index.
    paths: Vec<String>,
    #[command(flatten)]
    dir: IndexArg,
    #[command(flatten)]
    decision: DecisionArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OverlapFormat::Md)]
    format: OverlapFormat,
    /// Same as --format json.
    #[arg(long)]
    json: bool,
    /// What is compared: claims inside sentences, whole sentences, or whole passages.
    #[arg(long, value_enum, default_value_t = Granularity::Claim)]
    granularity: Granularity,
    /// Score all pairs instead of the k-NN candidates (slow; for checking).
    #[arg(long)]
    exact: bool,
    /// Neighbours asked for per passage or sentence at first (widened while above the cosine floor).
    #[arg(long, default_value_t = 16, value_parser = super::at_least_one)]
    k: usize,
    #[command(flatten)]
    claims: ClaimArgs,
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

pub fn run(args: OverlapsArgs) -> Result<()> {
    let source = open_source(&args.paths, &args.dir, &args.read, &args.model)?;
    let corpus = &source.corpus;
    let settings = Settings {
        decision: args.decision.decision_for(&corpus.model)?,
        k: args.k.max(1),
        min_content_words: args.min_words,
        boilerplate_docs: args.boilerplate_docs,
        keep_boilerplate: args.keep_boilerplate,
        claims: args.claims.settings(args.granularity == Granularity::Claim),
        ..Settings::default()
    };
    let mut bars = Bars::new();
    let units = pipeline::units(corpus, args.granularity.unit(), &*source.embedder, &mut bars)?;
    let graph;
    let route = if args.exact {
        Route::AllPairs
    } else {
        graph = pipeline::neighbours(
            &units,
            corpus.index_graph.as_deref(),
            settings.min_content_words,
            settings.k,
            GraphRoute::Auto,
            &mut bars,
        );
        Route::Graph(&graph)
    };
    let echoes = overlaps::find_echoes(corpus, &units, route, &settings, &*source.embedder, &mut |_| {})?;
    if echoes.capped > 0 {
        eprintln!(
            "motif: {} unit(s) had more than {} neighbours above the cosine floor; some of their pairs may be missing (use --exact to check)",
            echoes.capped, settings.max_k
        );
    }
    let boilerplate: Vec<BoilerplateRow> = echoes
        .boilerplate
        .iter()
        .map(|b| {
            let u = &units.list[b.unit];
            let p = &corpus.passages[u.passage];
            BoilerplateRow {
                doc: corpus.documents[p.doc].clone(),
                passage: p.ordinal,
                start: u.start,
                end: u.end,
                documents: b.documents,
                relevance: b.relevance,
                text: units.texts[b.unit].clone(),
            }
        })
        .collect();
    let meta = Meta {
        model: corpus.model.clone(),
        granularity: if settings.claims.enabled { "claim".into() } else { units.kind.name().into() },
        route: match route {
            Route::AllPairs => "all pairs (exact)",
            Route::Graph(g) if g.route == GraphRoute::Hnsw => "the HNSW k-NN graph",
            Route::Graph(_) => "the exact k-NN graph",
        }
        .into(),
        threshold: settings.decision.threshold,
        lexical_weight: settings.decision.lexical_weight,
        units: units.len(),
        candidates: echoes.candidates,
        too_short: echoes.too_short,
        sentences_embedded: units.embedded + echoes.sentences_embedded,
    };
    source.say_embedded(meta.sentences_embedded, false);
    let report = Report {
        documents: &corpus.documents,
        doc_meta: &corpus.meta,
        passages: &corpus.passages,
        overlaps: &echoes.overlaps,
        groups: &echoes.groups,
        boilerplate: &boilerplate,
        meta: &meta,
    };
    let mut out = output(args.output.as_deref())?;
    let format = if args.json { OverlapFormat::Json } else { args.format };
    match format {
        OverlapFormat::Md => report.write_markdown(&mut out)?,
        OverlapFormat::Json => report.write_json(&mut out)?,
        OverlapFormat::Csv => report.write_csv(&mut out)?,
    }
    out.flush()?;
    Ok(())
}
