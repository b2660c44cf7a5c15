//! The stages composed with typed calls, as the commands run them:
//! `index_documents` (read documents → an up-to-date store and graph),
//! `neighbours` (THE k-NN graph of a unit set), `analyse` (units → one
//! graph → overlaps and themes) and `report` (an analysis → the report).
//!
//! ```text
//! let corpus   = store.load_corpus_for_analysis()?;
//! let analysis = pipeline::analyse(&corpus, &*embedder, &settings, &mut progress)?;
//! let report   = pipeline::report(&corpus, &analysis, title);
//! ```
//!
//! Progress is reported through `Progress`, which the CLI draws; nothing
//! here prints.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::corpus::ingest::shown;
use crate::corpus::{Corpus, ReadDocuments, UnitKind, Units};
use crate::embed::{EmbedError, Embedder};
use crate::index::{point_key, AnnError, BuildReport, Graph, Neighbours, Params, Route, Searcher, Update};
use crate::overlaps::{self, Echoes, OverlapError};
use crate::report::{
    self, ClaimSpans, EchoGroup, EchoPair, Report, ReportConflict, ReportDocument, ReportPassage, ReportTheme,
    ReportUnit, ReportVanished,
};
use crate::spread::{self, Calendar, Period};
use crate::store::update::{self, Plan, UpdateError, Vectors};
use crate::store::{NewIndex, SavedGraph, Store, StoreError};
use crate::themes::{self, ThemeError, Themes};

/// Where long work reports how far it is.
pub trait Progress {
    /// A stage of `total` items begins.
    fn begin(&mut self, stage: &str, total: usize);
    /// `n` more items are done.
    fn advance(&mut self, n: usize);
    /// The stage is over.
    fn end(&mut self);
}

/// Progress that goes nowhere (tests, scripts).
pub struct Quiet;

impl Progress for Quiet {
    fn begin(&mut self, _: &str, _: usize) {}
    fn advance(&mut self, _: usize) {}
    fn end(&mut self) {}
}

/// Runs `f` as one stage of `progress`.
pub fn stage<T>(
    progress: &mut dyn Progress,
    what: &str,
    total: usize,
    f: impl FnOnce(&mut dyn FnMut(usize)) -> T,
) -> T {
    progress.begin(what, total);
    let out = f(&mut |n| progress.advance(n));
    progress.end();
    out
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Update(#[from] UpdateError),
    #[error(transparent)]
    Graph(#[from] AnnError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Overlaps(#[from] OverlapError),
    #[error(transparent)]
    Themes(#[from] ThemeError),
    #[error("{0}: the index holds no passages; add documents with `motif index PATH`")]
    EmptyIndex(String),
    #[error(
        "--prune: cannot tell whether {} is still there ({why}){}; nothing was changed. Make it readable, or pass --skip-bad to keep such documents and go on",
        crate::corpus::ingest::shown(.doc),
        more_documents(.others)
    )]
    UnknownSource { doc: String, why: String, others: usize },
}

fn more_documents(others: &usize) -> String {
    match others {
        0 => String::new(),
        n => format!(", nor whether {n} more stored documents' files are"),
    }
}

// ------------------------------------------------------------ indexing

/// How `index_documents` runs.
#[derive(Debug, Clone)]
pub struct IndexSettings {
    /// Graph parameters to record and build with.
    pub params: Params,
    /// Remove stored documents whose file is gone.
    pub prune: bool,
    /// Rebuild the graph even when it is up to date (also replaces a corrupted graph file).
    pub rebuild_graph: bool,
    /// Insert into the graph on all cores (its layout then depends on
    /// timing); `motif index` does unless asked for a serial build.
    pub parallel_build: bool,
    /// Commit after about this many embedded passages.
    pub commit_every: usize,
    /// With `prune`, keep documents whose file cannot be looked at (and
    /// say so) instead of failing.
    pub skip_bad: bool,
}

/// What an indexing run did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct IndexSummary {
    pub index: String,
    pub created: bool,
    /// What changed, by document name.
    #[serde(flatten)]
    pub plan: Plan,
    pub passages_embedded: usize,
    /// Passages stored with vectors computed elsewhere (`--from`).
    pub passages_imported: usize,
    /// Sentence texts embedded and stored with their passages (those of
    /// the passages stored now, and of stored passages cut only now).
    pub sentences_embedded: usize,
    pub embed_seconds: f64,
    pub documents: usize,
    pub passages: usize,
    pub graph_rebuilt: bool,
    pub graph: Option<BuildReport>,
    /// Things the user should hear about (duplicates, a replaced graph file).
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// Brings the index in `dir` up to date with `read` (created if missing):
/// new and changed documents are embedded (or given their `Vectors`) and
/// stored, gone ones pruned when asked, and the graph rebuilt when
/// anything changed or it is stale. The documents were read before this
/// call, so bad input leaves no trace. `sources`, when given, are the
/// documents' sources as the store records them; by default each
/// document's file, canonicalised.
pub fn index_documents(
    dir: &Path,
    read: &ReadDocuments,
    sources: Option<&[Option<String>]>,
    new: &NewIndex,
    vectors: Vectors,
    settings: &IndexSettings,
    progress: &mut dyn Progress,
) -> Result<IndexSummary, PipelineError> {
    let (mut store, created) = Store::open_write(dir, new)?;
    store.check_model(&new.model, &new.model_fingerprint, new.dim)?;
    store.check_split(&new.split)?;
    let mut summary = IndexSummary { index: dir.display().to_string(), created, ..Default::default() };
    // A corrupted graph is reported before anything changes, unless a
    // rebuild was asked for.
    let (_, stored_passages) = store.counts()?;
    let before = match store.saved_graph(stored_passages) {
        Err(e) if settings.rebuild_graph => {
            summary.notes.push(format!("{e}; rebuilding it"));
            SavedGraph::Stale
        }
        other => other?,
    };

    let canonical = |p: &Path| std::fs::canonicalize(p).ok().map(|p| p.display().to_string());
    let (sources, read_whole): (Vec<Option<String>>, HashSet<String>) = match sources {
        Some(given) => (given.to_vec(), given.iter().flatten().cloned().collect()),
        None => (
            read.documents.iter().map(|d| d.source.as_deref().and_then(canonical)).collect(),
            read.complete.iter().filter_map(|p| canonical(p)).collect(),
        ),
    };
    let damage = store.damaged()?;
    let damaged: std::collections::HashSet<&str> = damage.iter().map(|d| d.doc.as_str()).collect();
    let plan: Plan = update::plan(
        read,
        &sources,
        &read_whole,
        &store.documents()?,
        settings.prune,
        &|p| update::source_state(Path::new(p)),
        &damaged,
    );
    if settings.prune && !settings.skip_bad {
        if let Some((doc, why)) = plan.unknown.first() {
            let others = plan.unknown.len() - 1;
            return Err(PipelineError::UnknownSource { doc: doc.clone(), why: why.clone(), others });
        }
    }
    summary.notes.extend(plan.duplicates.iter().map(|d| format!("{} was given twice; indexing it once", shown(d))));
    if let Some((now, stored)) = plan.respelled.first() {
        let more = match plan.respelled.len() {
            1 => String::new(),
            n => format!(" (and {} more files)", n - 1),
        };
        summary.notes.push(format!(
            "{} is stored as {}{more}: the same file, named so when first indexed; keeping that name",
            shown(now),
            shown(stored)
        ));
    }
    if let Some((doc, why)) = plan.unknown.first() {
        let more = match plan.unknown.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        summary.notes.push(format!(
            "cannot tell whether the file of {}{more} is still there ({}); kept as it is",
            shown(doc),
            shown(why)
        ));
    }
    if !plan.repaired.is_empty() {
        summary.notes.push(format!(
            "{} document(s) had damaged vectors in the index and are embedded again: {}",
            plan.repaired.len(),
            plan.repaired.join(", ")
        ));
    }
    let left: Vec<String> = damage
        .iter()
        .filter(|d| {
            !plan.repaired.contains(&d.doc) && !plan.replaced.contains(&d.doc) && !plan.removed.contains(&d.doc)
        })
        .map(|d| format!("{}#{}", d.doc, d.ordinal))
        .collect();
    if !left.is_empty() {
        summary.notes.push(format!(
            "warning: {} stored passage(s) have damaged vectors and their documents were not read in this run: {}; index their files to repair them",
            left.len(),
            left.join(", ")
        ));
    }

    // The saved graph is updated in place unless a rebuild is asked for,
    // its parameters change, or damaged vectors are repaired (they cannot
    // be read to keep as tombstones). An update turns removed passages into
    // tombstones, which keep their vectors: read them before the store
    // drops them.
    let params_changed = store.manifest().params != settings.params;
    let update_in_place = matches!(before, SavedGraph::Fresh(_))
        && !settings.rebuild_graph
        && !params_changed
        && plan.repaired.is_empty();
    let removes = !plan.removed.is_empty() || !plan.replaced.is_empty();
    let old_vectors = if update_in_place && removes { Some(store.load_corpus()?.vectors) } else { None };

    let total = update::work(read, &plan, vectors);
    let start = Instant::now();
    let what = if matches!(vectors, Vectors::Given(_, None)) { "storing" } else { "embedding" };
    let stored = stage(progress, what, total, |p| {
        update::apply(&mut store, read, &sources, &plan, vectors, settings.commit_every, p)
    })?;
    match vectors {
        Vectors::Embed(_) => summary.passages_embedded = stored.passages,
        Vectors::Given(..) => summary.passages_imported = stored.passages,
    }
    summary.sentences_embedded = stored.sentences;
    cut_stored_passages(&mut store, vectors, settings, &mut summary, progress)?;
    summary.embed_seconds = (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;

    store.set_params(settings.params)?;
    let (documents, passages) = store.counts()?;
    (summary.documents, summary.passages) = (documents, passages);
    let fresh = matches!(before, SavedGraph::Fresh(_));
    if plan.changes_passages() || !fresh || settings.rebuild_graph || params_changed {
        let corpus = store.load_corpus()?;
        let keys = passage_keys(&corpus);
        let rows = corpus.vectors.view();
        // Insert into the saved graph when it is fresh (else build anew).
        let updated = match before {
            SavedGraph::Fresh(saved) if update_in_place => {
                match stage(progress, "graph", 0, |p| {
                    saved.update(
                        old_vectors.as_ref().map(|v| v.view()),
                        rows,
                        &keys,
                        settings.params,
                        settings.parallel_build,
                        p,
                    )
                }) {
                    Update::Updated(g, report) => Some((*g, report)),
                    Update::Rebuild(why) => {
                        summary.notes.push(format!("rebuilding the HNSW graph: {why}"));
                        None
                    }
                }
            }
            SavedGraph::Outdated(why) => {
                summary.notes.push(format!("{why}; rebuilding it"));
                None
            }
            _ => None,
        };
        let (graph, report) = match updated {
            Some(done) => done,
            None => stage(progress, "graph", corpus.passages.len(), |p| {
                Graph::build_keyed(rows, keys, settings.params, settings.parallel_build, p)
            }),
        };
        graph.save(&store.graph_path(), &store.stamp())?;
        summary.graph_rebuilt = !report.incremental;
        summary.graph = Some(report);
    }
    summary.plan = plan;
    Ok(summary)
}

/// Stores the sentences of stored passages that have none yet (an index
/// from before format 4, or passages imported without a model), when
/// this run has a model to embed them with; says so once either way.
fn cut_stored_passages(
    store: &mut Store,
    vectors: Vectors,
    settings: &IndexSettings,
    summary: &mut IndexSummary,
    progress: &mut dyn Progress,
) -> Result<(), PipelineError> {
    let uncut = store.uncut_count()?;
    if uncut == 0 {
        return Ok(());
    }
    let Some(embedder) = vectors.sentence_embedder() else {
        summary.notes.push(format!(
            "{uncut} stored passage(s) have no stored sentences (their vectors were given, with no model to embed sentences): `overlaps`, `themes` and `report` embed them on every run until `motif index` stores them"
        ));
        return Ok(());
    };
    let cut = stage(progress, "sentences", uncut, |p| update::cut_stored(store, embedder, settings.commit_every, p))?;
    if cut.passages > 0 {
        summary.notes.push(format!(
            "{} stored passage(s) had no stored sentences (indexed by a motif before index format 4, or imported without a model): embedded their {} sentence(s) once and stored them, so that `overlaps`, `themes` and `report` embed nothing",
            cut.passages, cut.sentences
        ));
    }
    summary.sentences_embedded += cut.sentences;
    Ok(())
}

/// Up to this many passages a search scans them all: exact, and at this
/// size about as quick as a walk of the graph (a few hundred microseconds),
/// with nothing to load.
pub const EXACT_SEARCH_MAX: usize = 2_000;

/// Each passage's graph key (`index::point_key`), row by row.
pub fn passage_keys(corpus: &Corpus) -> Vec<u64> {
    corpus
        .passages
        .iter()
        .enumerate()
        .map(|(i, p)| point_key(&corpus.documents[p.doc], p.ordinal, crate::matrix::row(&corpus.vectors, i)))
        .collect()
}

/// The means to search an index's passages (`corpus`, loaded from
/// `store`): exact search when asked or when the index is small, else the saved graph when it is
/// fresh, else a graph built in memory (readers never write; the next
/// `motif index` saves it), with a note saying so.
pub fn searcher<'a>(
    store: &Store,
    corpus: &'a Corpus,
    exact: bool,
    ef: Option<usize>,
    progress: &mut dyn Progress,
) -> Result<(Searcher<'a>, Option<String>), PipelineError> {
    if exact {
        return Ok((Searcher::exact(corpus.vectors.view()), None));
    }
    if corpus.passages.len() <= EXACT_SEARCH_MAX {
        // The graph is not needed, but a damaged one is still worth a word.
        let note = store.saved_graph(corpus.passages.len()).err().map(|e| {
            format!("warning: {e}; this index is small enough to search exactly, so the search goes on without it")
        });
        return Ok((Searcher::exact(corpus.vectors.view()), note));
    }
    let params = store.manifest().params;
    let ef = ef.unwrap_or(params.ef_search);
    Ok(match store.saved_graph(corpus.passages.len())? {
        SavedGraph::Fresh(g) => (Searcher::with_graph(corpus.vectors.view(), g, ef), None),
        state => {
            let note = format!(
                "the HNSW graph in {} is {}; building it in memory for this search (`motif index` saves it)",
                store.dir().display(),
                state.name()
            );
            let (g, _) = stage(progress, "graph", corpus.passages.len(), |p| {
                Graph::build_keyed(corpus.vectors.view(), passage_keys(corpus), params, false, p)
            });
            (Searcher::with_graph(corpus.vectors.view(), g, ef), Some(note))
        }
    })
}

// ------------------------------------------------------------ analyses

/// The k-NN graph of a unit set, over the units with at least
/// `min_content_words` content words, with `k` neighbours each.
/// Passage units read the graph from `index`, the saved graph of the
/// index they came from (`Corpus::index_graph`), on the HNSW route
/// (`Neighbours::build_over_index`).
pub fn neighbours(
    units: &Units,
    index: Option<&Graph>,
    min_content_words: usize,
    k: usize,
    route: Route,
    progress: &mut dyn Progress,
) -> Neighbours {
    let members = themes::members(&units.text_refs(), min_content_words);
    let index = index.filter(|_| units.kind == UnitKind::Passage && route.resolve(members.len()) == Route::Hnsw);
    stage(progress, "neighbours", members.len(), |p| match index {
        Some(g) => Neighbours::build_over_index(units.view(), members, k, g, p),
        None => Neighbours::build(units.view(), members, k, route, p),
    })
}

/// What `analyse` does.
#[derive(Debug, Clone)]
pub struct AnalysisSettings {
    pub unit: UnitKind,
    pub overlaps: overlaps::Settings,
    pub themes: themes::Options,
    pub route: Route,
}

/// Units, their one k-NN graph, and what both analyses found in it.
pub struct Analysis {
    pub units: Units,
    pub graph: Neighbours,
    pub echoes: Echoes,
    pub themes: Themes,
    /// Sentence texts embedded in this analysis (0 on an index that
    /// stores every sentence).
    pub sentences_embedded: usize,
}

/// Cuts the corpus into units, builds their k-NN graph once, and finds the
/// overlaps and the themes in it.
pub fn analyse(
    corpus: &Corpus,
    embedder: &dyn Embedder,
    s: &AnalysisSettings,
    progress: &mut dyn Progress,
) -> Result<Analysis, PipelineError> {
    let units = units(corpus, s.unit, embedder, progress)?;
    // Both analyses leave out units with too few content words; one
    // setting for both, so one graph serves both.
    let min_words = s.overlaps.min_content_words;
    let themes_opts = themes::Options { min_content_words: min_words, ..s.themes.clone() };
    let members = themes::members(&units.text_refs(), min_words).len();
    let k = s.overlaps.k.max(themes::neighbours_needed(members, &themes_opts));
    let graph = neighbours(&units, corpus.index_graph.as_deref(), min_words, k, s.route, progress);
    let echoes = stage(progress, "overlaps", 0, |p| {
        overlaps::find_echoes(corpus, &units, overlaps::Route::Graph(&graph), &s.overlaps, embedder, p)
    })?;
    let found = stage(progress, "themes", members, |_| themes::find(&units, &graph, &themes_opts))?;
    let sentences_embedded = units.embedded + echoes.sentences_embedded;
    Ok(Analysis { units, graph, echoes, themes: found, sentences_embedded })
}

/// The corpus's units of a kind (sentences are embedded, except those that
/// are whole passages or that the corpus knows: an index stores them;
/// `Units::embedded` counts the others).
pub fn units(
    corpus: &Corpus,
    kind: UnitKind,
    embedder: &dyn Embedder,
    progress: &mut dyn Progress,
) -> Result<Units, EmbedError> {
    stage(progress, "sentences", 0, |p| corpus.units(kind, embedder, p))
}

// ------------------------------------------------------------ report

/// The batch report of an analysis.
pub fn report(corpus: &Corpus, a: &Analysis, title: String, overlap_threshold: f32, period: Option<Period>) -> Report {
    let calendar = Calendar::new(&corpus.meta, period);
    let (sources, source_of) = spread::sources(&corpus.meta);
    let units = &a.units;
    let found = &a.themes;
    let echoes = &a.echoes;
    let xy = report::map::layout(units.view(), &a.graph, report::map::SEED);
    let report_units: Vec<ReportUnit> = (0..units.len())
        .map(|u| ReportUnit {
            passage: units.list[u].passage,
            start: units.list[u].start,
            end: units.list[u].end,
            text: units.texts[u].clone(),
            theme: found.assignment[u].map(|t| found.themes[t].id),
            x: xy[u].0,
            y: xy[u].1,
        })
        .collect();
    let passage_theme = Report::passage_themes(corpus.passages.len(), &report_units);
    let passages: Vec<ReportPassage> = corpus
        .passages
        .iter()
        .enumerate()
        .map(|(i, p)| ReportPassage {
            doc: p.doc,
            passage: p.ordinal,
            start: p.start,
            end: p.end,
            text: p.text.clone(),
            theme: passage_theme[i],
        })
        .collect();
    let echo_pair = |i: usize| {
        let o = &echoes.overlaps[i];
        let (da, db) = (&corpus.meta[corpus.passages[o.a].doc], &corpus.meta[corpus.passages[o.b].doc]);
        let earlier = spread::earlier(da, db);
        // Claim spans where they are finer than the sentences.
        let claims = o
            .sentences
            .iter()
            .filter(|s| (s.claim_a, s.claim_b) != (s.a, s.b))
            .map(|s| ClaimSpans { a: s.claim_a, b: s.claim_b })
            .collect();
        EchoPair { a: o.a, b: o.b, score: o.score, kind: o.kind.as_str().to_string(), claims, earlier }
    };
    let conflicts: Vec<ReportConflict> = echoes
        .overlaps
        .iter()
        .flat_map(|o| {
            o.sentences.iter().filter_map(move |s| {
                s.conflict.as_ref().map(|c| ReportConflict {
                    a: o.a,
                    b: o.b,
                    claim_a: c.a,
                    claim_b: c.b,
                    figures_a: c.figures_a.clone(),
                    figures_b: c.figures_b.clone(),
                })
            })
        })
        .collect();
    // One entry per passage pair and disputed figures (a clause and a
    // window over it can dispute the same numbers).
    let mut seen = std::collections::HashSet::new();
    let conflicts: Vec<ReportConflict> =
        conflicts.into_iter().filter(|c| seen.insert((c.a, c.b, c.figures_a.clone(), c.figures_b.clone()))).collect();
    let echo_groups: Vec<EchoGroup> = echoes
        .groups
        .iter()
        .map(|g| {
            let strongest = &echoes.overlaps[g.pairs[0]];
            let first = &corpus.passages[strongest.a];
            let claim =
                strongest.sentences.first().map(|s| first.slice(s.a).to_string()).unwrap_or_else(|| first.text.clone());
            let docs: Vec<usize> = g.members.iter().map(|&p| corpus.passages[p].doc).collect();
            EchoGroup {
                passages: g.members.clone(),
                pairs: g.pairs.iter().map(|&i| echo_pair(i)).collect(),
                claim,
                travel: spread::travel(&docs, &corpus.meta),
            }
        })
        .collect();
    // A group belongs to the theme that holds most of its passages.
    let mut groups_of_theme: HashMap<usize, Vec<usize>> = HashMap::new();
    for (gi, g) in echo_groups.iter().enumerate() {
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for &p in &g.passages {
            if let Some(t) = passages[p].theme {
                *counts.entry(t).or_default() += 1;
            }
        }
        if let Some((&t, _)) = counts.iter().max_by_key(|(t, c)| (**c, std::cmp::Reverse(**t))) {
            groups_of_theme.entry(t).or_default().push(gi);
        }
    }
    // A broader theme holds the groups of the leaves below it.
    let leaf_groups = |t: &themes::Theme| -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let mut stack = vec![t];
        while let Some(x) = stack.pop() {
            if x.level == 0 {
                out.extend(groups_of_theme.get(&x.id).into_iter().flatten());
            }
            stack.extend(x.children.iter().filter_map(|&c| found.by_id(c)));
        }
        out.sort_unstable();
        out.dedup();
        out
    };
    let report_theme = |t: &themes::Theme| ReportTheme {
        id: t.id,
        label: t.label.clone(),
        keywords: t.keywords.iter().map(|k| k.term.clone()).collect(),
        size: t.size(),
        central: t.central.iter().map(|c| c.unit).collect(),
        documents: t.documents.clone(),
        echo_groups: leaf_groups(t),
        level: t.level,
        parent: t.parent,
        children: t.children.clone(),
        status: t.status.map(|s| s.as_str().to_string()),
        from: t.from.clone(),
        spread: spread::count(
            t.members.iter().map(|&u| units.list[u].doc),
            calendar.as_ref(),
            &source_of,
            sources.len(),
        ),
    };
    let themes: Vec<ReportTheme> = found.themes.iter().map(report_theme).collect();
    let broader_themes: Vec<ReportTheme> = found.broader.iter().map(report_theme).collect();
    let documents: Vec<ReportDocument> = corpus
        .documents
        .iter()
        .zip(corpus.passage_counts())
        .zip(&corpus.meta)
        .map(|((id, passages), m)| ReportDocument {
            id: id.clone(),
            passages,
            source: m.source.clone(),
            date: m.date.map(|d| d.to_string()),
            title: m.title.clone(),
            url: m.url.clone(),
        })
        .collect();
    Report {
        title,
        model: corpus.model.clone(),
        motif_version: env!("CARGO_PKG_VERSION").to_string(),
        unit: units.kind.name().to_string(),
        documents,
        passages,
        units: report_units,
        themes,
        outliers: found.outliers.clone(),
        echo_groups,
        between_groups: overlaps::between_groups(echoes.overlaps.len(), &echoes.groups)
            .into_iter()
            .map(echo_pair)
            .collect(),
        conflicts,
        overlap_threshold,
        periods: calendar,
        sources,
        broader_themes,
        vanished_themes: found
            .vanished
            .iter()
            .map(|v| ReportVanished { id: v.id, level: v.level, label: v.label.clone(), size: v.size })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::HashEmbedder;

    /// Documents of one paragraph each, embedded with the hashing embedder.
    fn corpus(texts: &[&str]) -> Corpus {
        let names: Vec<String> = (0..texts.len()).map(|i| format!("d{i}")).collect();
        let docs: Vec<(&str, &str)> = names.iter().map(String::as_str).zip(texts.iter().copied()).collect();
        Corpus::embed(ReadDocuments::one_passage_each(&docs), &HashEmbedder::new(64), &mut |_| {}).unwrap()
    }

    #[test]
    fn one_graph_serves_overlaps_and_themes() {
        let mut texts = Vec::new();
        for i in 0..6 {
            texts.push(format!("Troops from the north crossed the river near the border town {i}. Officials confirmed the troops crossed the river."));
            texts.push(format!(
                "The harvest festival drew farmers selling apples and pears at market stall {i}. Farmers sold apples."
            ));
        }
        texts.push("Okay.".to_string());
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let c = corpus(&refs);
        let embedder = HashEmbedder::new(64);
        let settings = AnalysisSettings {
            unit: UnitKind::Sentence,
            overlaps: overlaps::Settings::default(),
            themes: themes::Options {
                cluster: themes::cluster::Params { min_size: 3, ..Default::default() },
                ..Default::default()
            },
            route: Route::Auto,
        };
        let a = analyse(&c, &embedder, &settings, &mut Quiet).unwrap();
        // The graph holds every sentence with enough content words, and only those.
        let short = a.units.texts.iter().position(|t| t == "Okay.").unwrap();
        assert!(a.graph.local(short).is_none());
        assert_eq!(a.graph.len(), a.units.len() - 1);
        assert!(a.graph.knn.k >= settings.overlaps.k.min(a.graph.len() - 1));
        // Overlaps link the restated claim across documents, never within one.
        assert!(!a.echoes.overlaps.is_empty());
        assert!(a.echoes.overlaps.iter().all(|o| c.passages[o.a].doc != c.passages[o.b].doc));
        // Themes come out of the same graph: the two topics, the short sentence an outlier.
        assert!(a.themes.themes.len() >= 2, "{:?}", a.themes.themes.iter().map(|t| &t.label).collect::<Vec<_>>());
        assert!(a.themes.outliers.contains(&short));
        let r = report(&c, &a, "t".into(), settings.overlaps.decision.threshold, None);
        assert_eq!(r.units.len(), a.units.len());
        assert_eq!(r.themes.len(), a.themes.themes.len());
        // Same corpus and settings, same analysis.
        let b = analyse(&c, &embedder, &settings, &mut Quiet).unwrap();
        assert_eq!(a.themes, b.themes);
        assert_eq!(a.echoes.overlaps, b.echoes.overlaps);
    }
}
