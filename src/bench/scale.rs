//! `motif bench scale`: a corpus of any size made from real documents, run
//! through the pipeline the commands use, with a stopwatch on each stage.
//!
//! The corpus (`synthesize`): the base documents first, then copies of
//! them in turn until there are enough passages. Each copy replaces a share
//! of its words by words drawn from the base documents' own vocabulary
//! (keeping case and the punctuation around them), so its texts are new,
//! read like the originals, and lie near them, not on them, in any model's
//! space; it is then cut by the splitter an index uses. Its vectors come
//! from the model the bench is given, embedded for real.
//!
//! The stages (`run`): index 99 % of the documents (embed and store, build
//! the graph on all cores), add the last 1 % (embed and store, insert into
//! the saved graph), search the index, load the corpus with its stored
//! sentences, the one k-NN graph, overlaps, themes, the report.
//!
//! The stopwatch (`Stopwatch`) is a `pipeline::Progress`: every stage the
//! pipeline reports is timed, with the peak resident memory during it
//! (Linux: the high-water mark is reset as each stage begins, so a figure
//! is the stage's own peak, data still held from earlier stages included).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::{peak_rss_bytes, reset_peak_rss, Machine};
use crate::corpus::ingest::Document;
use crate::corpus::split::Splitter;
use crate::corpus::{CorpusError, Passage, ReadDocuments, UnitKind};
use crate::embed::Embedder;
use crate::index::{exact_search_many, recall_at_k, Params};
use crate::matrix::row;
use crate::overlaps;
use crate::pipeline::{self, AnalysisSettings, IndexSettings, PipelineError, Progress};
use crate::store::update::Vectors;
use crate::store::{NewIndex, Store, StoreError};
use crate::text::whitespace_spans;
use crate::themes::cluster::SplitMix;
use crate::themes::{self, ThemeError};

/// One stage's figures.
#[derive(Debug, Clone, Serialize)]
pub struct StageFigures {
    pub stage: String,
    /// What the stage worked through (passages, units, queries), as it
    /// announced; 0 where it did not say.
    pub items: usize,
    pub seconds: f64,
    /// Peak resident memory during the stage (None off Linux).
    pub peak_rss_bytes: Option<u64>,
}

/// Times the stages reported through it, passing everything on to `inner`
/// (the command's progress bars).
pub struct Stopwatch<'a> {
    inner: &'a mut dyn Progress,
    /// Put before the stage names the pipeline reports ("add 1 %: graph").
    phase: String,
    open: Vec<(String, usize, Instant)>,
    pub stages: Vec<StageFigures>,
}

impl<'a> Stopwatch<'a> {
    pub fn new(inner: &'a mut dyn Progress) -> Self {
        Stopwatch { inner, phase: String::new(), open: Vec::new(), stages: Vec::new() }
    }

    /// Names the stages that follow "`phase`: stage".
    pub fn phase(&mut self, phase: &str) {
        self.phase = phase.to_string();
    }

    /// Runs `f` as one stage named `stage`.
    pub fn time<T>(&mut self, stage: &str, items: usize, f: impl FnOnce(&mut Self) -> T) -> T {
        self.begin(stage, items);
        let out = f(self);
        self.end();
        out
    }
}

impl Progress for Stopwatch<'_> {
    fn begin(&mut self, stage: &str, total: usize) {
        // A stage inside another keeps the outer one's high-water mark.
        if self.open.is_empty() {
            reset_peak_rss();
        }
        let name = if self.phase.is_empty() { stage.to_string() } else { format!("{}: {stage}", self.phase) };
        self.inner.begin(stage, total);
        self.open.push((name, total, Instant::now()));
    }

    fn advance(&mut self, n: usize) {
        self.inner.advance(n);
    }

    fn end(&mut self) {
        self.inner.end();
        if let Some((stage, items, start)) = self.open.pop() {
            let seconds = (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
            self.stages.push(StageFigures { stage, items, seconds, peak_rss_bytes: peak_rss_bytes() });
        }
    }
}

/// How the scale benchmark runs.
#[derive(Debug, Clone)]
pub struct ScaleSettings {
    /// Passages to make (the corpus ends at the first document that reaches it).
    pub passages: usize,
    /// How the copies are edited.
    pub edits: Edits,
    /// The units overlaps and themes run on.
    pub unit: UnitKind,
    /// Searches timed, one at a time.
    pub queries: usize,
    pub k: usize,
    pub params: Params,
    pub splitter: Splitter,
    /// The model's name and fingerprint as the index records them.
    pub model: String,
    pub model_fingerprint: String,
    /// When a passage pair overlaps (the model's calibrated decision).
    pub decision: overlaps::decision::Decision,
    pub themes: themes::Options,
    /// The index and the report are written here.
    pub dir: PathBuf,
}

/// What `run` measured.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleRun {
    pub machine: Machine,
    pub model: String,
    pub documents: usize,
    pub passages: usize,
    pub sentences_stored: usize,
    pub units: usize,
    pub unit: &'static str,
    pub stages: Vec<StageFigures>,
    pub queries: usize,
    pub queries_per_second: f64,
    pub recall_at_k: f64,
    pub k: usize,
    pub graph_incremental: bool,
    pub themes: usize,
    pub outliers: usize,
    pub overlaps: usize,
    pub echo_groups: usize,
    pub report_html_bytes: usize,
    pub total_seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    #[error("the base corpus holds no passages to copy")]
    EmptyBase,
    #[error("{0} must be between 0 and 1 (got {1})")]
    Share(&'static str, f64),
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    #[error(transparent)]
    Pipeline(Box<PipelineError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Themes(#[from] ThemeError),
    #[error("{path}: cannot write the report: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<PipelineError> for ScaleError {
    fn from(e: PipelineError) -> Self {
        ScaleError::Pipeline(Box::new(e))
    }
}

/// The words of `text`'s tokens without their surrounding punctuation,
/// lower-cased: what a copy draws its replacement words from.
fn word_core(token: &str) -> Option<(usize, usize)> {
    let start = token.find(|c: char| c.is_alphanumeric())?;
    let last = token.rfind(|c: char| c.is_alphanumeric())?;
    let end = last + token[last..].chars().next().map_or(1, char::len_utf8);
    Some((start, end))
}

fn vocabulary(base: &ReadDocuments) -> Vec<String> {
    let mut words = BTreeSet::new();
    for d in &base.documents {
        for (s, e) in whitespace_spans(&d.text) {
            let token = &d.text[s..e];
            if let Some((a, b)) = word_core(token) {
                words.insert(token[a..b].to_lowercase());
            }
        }
    }
    words.into_iter().collect()
}

/// `text` with about `share` of its words replaced by words of `vocab`
/// (capitalised where the word replaced was), whitespace and the
/// punctuation around each word kept.
fn edited(text: &str, vocab: &[String], share: f64, rng: &mut SplitMix) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut last = 0;
    for (s, e) in whitespace_spans(text) {
        out.push_str(&text[last..s]);
        let token = &text[s..e];
        let draw = unit_draw(rng);
        match word_core(token) {
            Some((a, b)) if draw < share && !vocab.is_empty() => {
                let word = &vocab[rng.below(vocab.len())];
                out.push_str(&token[..a]);
                if token[a..].starts_with(char::is_uppercase) {
                    let mut c = word.chars();
                    out.extend(c.next().into_iter().flat_map(char::to_uppercase));
                    out.push_str(c.as_str());
                } else {
                    out.push_str(word);
                }
                out.push_str(&token[b..]);
            }
            _ => out.push_str(token),
        }
        last = e;
    }
    out.push_str(&text[last..]);
    out
}

/// How copies are edited. A copy's paragraph is either reused (a light
/// edit: the overlap a reader would want found) or rewritten (a heavy
/// edit: same subject, other words, so it stays near its theme but is no
/// overlap); only about `reuse` of them are reused, so overlaps stay as
/// sparse as in a real archive however many copies there are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Edits {
    /// Share of a copy's paragraphs that are reused.
    pub reuse: f64,
    /// Share of a reused paragraph's words replaced.
    pub light: f64,
    /// Share of a rewritten paragraph's words replaced.
    pub heavy: f64,
    pub seed: u64,
}

impl Default for Edits {
    fn default() -> Self {
        Edits { reuse: 0.05, light: 0.15, heavy: 0.6, seed: 42 }
    }
}

impl Edits {
    fn check(&self) -> Result<(), ScaleError> {
        for (name, x) in [("--reuse", self.reuse), ("--light-edit", self.light), ("--heavy-edit", self.heavy)] {
            if !(0.0..=1.0).contains(&x) {
                return Err(ScaleError::Share(name, x));
            }
        }
        Ok(())
    }

    /// Copy `round` of `text`, paragraph by paragraph (blank-line blocks).
    fn copy(&self, text: &str, vocab: &[String], round: usize, doc: usize) -> String {
        let mut rng = SplitMix::new(self.seed ^ (round as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ doc as u64);
        let mut out = String::with_capacity(text.len() + text.len() / 8);
        for (i, block) in text.split("\n\n").enumerate() {
            if i > 0 {
                out.push_str("\n\n");
            }
            let share = if unit_draw(&mut rng) < self.reuse { self.light } else { self.heavy };
            out.push_str(&edited(block, vocab, share, &mut rng));
        }
        out
    }
}

fn unit_draw(rng: &mut SplitMix) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// The first documents of the endless sequence "base documents, then
/// copy 1 of each, copy 2 of each, …" that hold at least `passages`
/// passages as cut by `splitter`. Copy r of document NAME is named
/// `NAME~r` and keeps its metadata. The sequence does not depend on
/// `passages`, so a smaller corpus is a prefix of a larger one.
pub fn synthesize(
    base: &ReadDocuments,
    splitter: &Splitter,
    tokens: &dyn Embedder,
    passages: usize,
    edits: &Edits,
) -> Result<ReadDocuments, ScaleError> {
    if base.passages.is_empty() {
        return Err(ScaleError::EmptyBase);
    }
    edits.check()?;
    let vocab = vocabulary(base);
    let mut read = ReadDocuments::default();
    for round in 0.. {
        if read.passages.len() >= passages {
            break;
        }
        // One round on all cores, then kept in order up to the count.
        let made: Vec<(Document, Vec<Passage>)> = base
            .documents
            .par_iter()
            .enumerate()
            .map(|(d, original)| {
                let mut doc = if round == 0 {
                    original.clone()
                } else {
                    let mut doc = Document::new(
                        format!("{}~{round}", original.id),
                        None,
                        edits.copy(&original.text, &vocab, round, d),
                    );
                    doc.metadata = original.metadata.clone();
                    doc.meta = original.meta.clone();
                    doc
                };
                doc.source = None;
                let cut = splitter
                    .split(0, &doc.text, tokens)
                    .map_err(|source| CorpusError::Split { doc: doc.id.clone(), source })?;
                Ok((doc, cut))
            })
            .collect::<Result<_, ScaleError>>()?;
        for (doc, mut cut) in made {
            if read.passages.len() >= passages {
                break;
            }
            if cut.is_empty() {
                continue;
            }
            let d = read.documents.len();
            cut.iter_mut().for_each(|p| p.doc = d);
            read.documents.push(doc);
            read.passages.extend(cut);
        }
    }
    Ok(read)
}

/// Runs every stage on a corpus of `settings.passages` passages made from
/// `base`, with vectors from `embedder`, in `settings.dir` (which must not
/// hold an index yet).
pub fn run(
    base: &ReadDocuments,
    embedder: &dyn Embedder,
    settings: &ScaleSettings,
    progress: &mut dyn Progress,
) -> Result<ScaleRun, ScaleError> {
    let start = Instant::now();
    let mut watch = Stopwatch::new(progress);
    let new = NewIndex {
        model: settings.model.clone(),
        model_fingerprint: settings.model_fingerprint.clone(),
        dim: embedder.dim(),
        split: crate::corpus::ReadOptions { splitter: settings.splitter.clone(), ..Default::default() }
            .split_description(),
        params: settings.params,
    };
    let index = IndexSettings {
        params: settings.params,
        prune: false,
        rebuild_graph: false,
        parallel_build: true,
        commit_every: 1024,
        skip_bad: false,
    };
    let dir = settings.dir.as_path();
    let all = watch.time("make corpus", settings.passages, |_| {
        synthesize(base, &settings.splitter, embedder, settings.passages, &settings.edits)
    })?;
    let documents = all.documents.len();

    // 99 % of the passages (whole documents, at least one left out), then
    // the rest added to the saved index.
    watch.phase("index 99 %");
    let most = first_documents(&all, settings.passages - settings.passages / 100);
    index_all(dir, &most, &new, embedder, &index, &mut watch)?;
    drop(most);
    watch.phase("add 1 %");
    let added = index_all(dir, &all, &new, embedder, &index, &mut watch)?;
    drop(all);
    let graph_incremental = added.graph.as_ref().is_some_and(|g| g.incremental);

    watch.phase("");
    let store = Store::open_read(dir)?;
    let (qps, recall, queries) = watch.time("search", settings.queries, |w| search(&store, settings, w))?;

    let corpus = watch.time("load corpus", 0, |_| store.load_corpus_for_analysis())?;
    let analysis_settings = AnalysisSettings {
        unit: settings.unit,
        overlaps: overlaps::Settings { decision: settings.decision, ..overlaps::Settings::default() },
        themes: settings.themes.clone(),
        route: crate::index::Route::Auto,
    };
    let analysis = pipeline::analyse(&corpus, embedder, &analysis_settings, &mut watch)?;
    let threshold = analysis_settings.overlaps.decision.threshold;
    let report = watch.time("report", analysis.units.len(), |_| {
        let report = pipeline::report(&corpus, &analysis, "motif bench scale".to_string(), threshold, None);
        let out = dir.join("report");
        std::fs::create_dir_all(&out).map_err(|source| ScaleError::Write { path: out.clone(), source })?;
        let html = report.to_html();
        for (name, body) in [("report.html", &html), ("report.json", &report.to_json())] {
            let path = out.join(name);
            std::fs::write(&path, body).map_err(|source| ScaleError::Write { path, source })?;
        }
        Ok::<_, ScaleError>((report.themes.len(), report.outliers.len(), html.len()))
    })?;
    let stages = std::mem::take(&mut watch.stages);
    Ok(ScaleRun {
        machine: Machine::detect(),
        model: settings.model.clone(),
        documents,
        passages: corpus.passages.len(),
        sentences_stored: corpus.sentences.len(),
        units: analysis.units.len(),
        unit: settings.unit.name(),
        stages,
        queries,
        queries_per_second: (qps * 10.0).round() / 10.0,
        recall_at_k: (recall * 10_000.0).round() / 10_000.0,
        k: settings.k,
        graph_incremental,
        themes: report.0,
        outliers: report.1,
        overlaps: analysis.echoes.overlaps.len(),
        echo_groups: analysis.echoes.groups.len(),
        report_html_bytes: report.2,
        total_seconds: (start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    })
}

/// The first documents of `read` holding at most `passages` passages, but
/// at least one document and never all of them (when there are two or more).
fn first_documents(read: &ReadDocuments, passages: usize) -> ReadDocuments {
    let n = read.documents.len();
    let (mut docs, mut count) = (0, 0);
    for range in read.by_document() {
        if count + range.len() > passages {
            break;
        }
        count += range.len();
        docs += 1;
    }
    let docs = if n < 2 { n } else { docs.clamp(1, n - 1) };
    ReadDocuments {
        documents: read.documents[..docs].to_vec(),
        passages: read.passages.iter().take_while(|p| p.doc < docs).cloned().collect(),
        ..Default::default()
    }
}

/// `motif index` of documents that have no files.
fn index_all(
    dir: &Path,
    read: &ReadDocuments,
    new: &NewIndex,
    embedder: &dyn Embedder,
    settings: &IndexSettings,
    progress: &mut dyn Progress,
) -> Result<pipeline::IndexSummary, PipelineError> {
    let sources = vec![None; read.documents.len()];
    pipeline::index_documents(dir, read, Some(&sources), new, Vectors::Embed(embedder), settings, progress)
}

/// Queries/s and recall@k of `settings.queries` stored passages searched
/// one at a time through the index, against exact search.
fn search(
    store: &Store,
    settings: &ScaleSettings,
    progress: &mut dyn Progress,
) -> Result<(f64, f64, usize), ScaleError> {
    let corpus = store.load_corpus()?;
    let (searcher, _) = pipeline::searcher(store, &corpus, false, None, progress)?;
    let n = corpus.passages.len();
    let step = (n / settings.queries.max(1)).max(1);
    let queries: Vec<usize> = (0..n).step_by(step).take(settings.queries).collect();
    let rows = corpus.vectors.view();
    let start = Instant::now();
    let found: Vec<_> = queries.iter().map(|&q| searcher.search(row(&rows, q), settings.k, &|_| false, 0)).collect();
    let qps = queries.len() as f64 / start.elapsed().as_secs_f64().max(1e-9);
    let query_rows = rows.select(ndarray::Axis(0), &queries);
    let exact = exact_search_many(rows, query_rows.view(), settings.k, &|_, _| false);
    Ok((qps, recall_at_k(&exact, &found, settings.k), queries.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::HashEmbedder;

    fn base() -> ReadDocuments {
        let docs = [
            ("a", "The council met on Tuesday.\n\nIt voted to close the library, citing costs."),
            ("b", "Flooding closed the A40 near Witney. Drivers were told to avoid the area."),
        ];
        let embedder = HashEmbedder::new(64);
        let documents: Vec<Document> = docs.iter().map(|(id, t)| Document::new(*id, None, t.to_string())).collect();
        let mut passages = Vec::new();
        for (i, d) in documents.iter().enumerate() {
            passages.extend(Splitter::default().split(i, &d.text, &embedder).unwrap());
        }
        ReadDocuments { documents, passages, ..Default::default() }
    }

    #[test]
    fn copies_are_edited_named_and_a_smaller_corpus_is_a_prefix() {
        let base = base();
        let e = HashEmbedder::new(64);
        let big = synthesize(&base, &Splitter::default(), &e, 20, &edits(1.0, 0.3, 0.3)).unwrap();
        assert!(big.passages.len() >= 20, "{}", big.passages.len());
        assert_eq!(big.documents[0].text, base.documents[0].text, "the base documents come first, unedited");
        assert_eq!(big.documents[2].id, "a~1");
        assert_eq!(big.documents[3].id, "b~1");
        let copy = &big.documents[2].text;
        assert_ne!(copy, &base.documents[0].text, "a copy is edited");
        // Same shape: the paragraph break and the punctuation stay.
        assert_eq!(copy.matches("\n\n").count(), 1);
        assert!(copy.ends_with('.'));
        assert_eq!(copy.split_whitespace().count(), base.documents[0].text.split_whitespace().count());
        // Replacement words come from the base vocabulary.
        let vocab = vocabulary(&base);
        for w in copy.split_whitespace() {
            let (a, b) = word_core(w).unwrap();
            assert!(vocab.contains(&w[a..b].to_lowercase()), "{w}");
        }
        let small = synthesize(&base, &Splitter::default(), &e, 7, &edits(1.0, 0.3, 0.3)).unwrap();
        assert!(small.documents.len() < big.documents.len());
        for (s, b) in small.documents.iter().zip(&big.documents) {
            assert_eq!((&s.id, &s.text), (&b.id, &b.text));
        }
        // Passages are numbered by their document in the new corpus.
        assert!(big.passages.windows(2).all(|w| w[0].doc <= w[1].doc));
        assert_eq!(big.passages.last().unwrap().doc, big.documents.len() - 1);
    }

    fn edits(reuse: f64, light: f64, heavy: f64) -> Edits {
        Edits { reuse, light, heavy, seed: 7 }
    }

    #[test]
    fn reused_paragraphs_get_the_light_edit_and_the_others_the_heavy_one() {
        let base = base();
        let e = HashEmbedder::new(64);
        let split = Splitter::default();
        let same = synthesize(&base, &split, &e, 8, &edits(1.0, 0.0, 1.0)).unwrap();
        assert_eq!(same.documents[2].text, base.documents[0].text, "reused, no light edit: the same text");
        let rewritten = synthesize(&base, &split, &e, 8, &edits(0.0, 0.0, 1.0)).unwrap();
        let (copy, original) = (&rewritten.documents[2].text, &base.documents[0].text);
        for (c, o) in copy.split("\n\n").zip(original.split("\n\n")) {
            let kept = c.split_whitespace().zip(o.split_whitespace()).filter(|(a, b)| a == b).count();
            assert!(kept * 2 < o.split_whitespace().count(), "rewritten paragraph {c:?} of {o:?}");
        }
        // Exactly enough passages, whatever the copies' cuts.
        for n in [1, 5, 9, 13] {
            let got = synthesize(&base, &split, &e, n, &edits(0.5, 0.1, 0.6)).unwrap();
            let last_doc = got.passages.iter().filter(|p| p.doc == got.documents.len() - 1).count();
            assert!(got.passages.len() >= n && got.passages.len() - last_doc < n, "{n}: {}", got.passages.len());
        }
    }

    #[test]
    fn the_first_part_is_whole_documents_and_leaves_one_out() {
        let base = base();
        let e = HashEmbedder::new(64);
        let all = synthesize(&base, &Splitter::default(), &e, 12, &edits(0.5, 0.1, 0.6)).unwrap();
        let n = all.documents.len();
        for want in [0, 1, 5, all.passages.len() - 1, all.passages.len(), 1000] {
            let part = first_documents(&all, want);
            let docs = part.documents.len();
            assert!((1..n).contains(&docs), "{want}: {docs} of {n} documents");
            assert_eq!(part.passages.len(), all.passages.iter().filter(|p| p.doc < docs).count());
            assert!(part.passages.len() <= want.max(all.passages.iter().filter(|p| p.doc == 0).count()), "{want}");
            assert_eq!(part.documents[docs - 1].id, all.documents[docs - 1].id);
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        let base = base();
        let e = HashEmbedder::new(64);
        let split = Splitter::default();
        for bad in [edits(1.5, 0.1, 0.1), edits(0.1, -0.1, 0.1), edits(0.1, 0.1, f64::NAN)] {
            assert!(matches!(synthesize(&base, &split, &e, 8, &bad), Err(ScaleError::Share(..))), "{bad:?}");
        }
        let empty = ReadDocuments::default();
        assert!(matches!(synthesize(&empty, &split, &e, 8, &Edits::default()), Err(ScaleError::EmptyBase)));
    }

    #[test]
    fn the_stopwatch_names_times_and_nests_stages() {
        let mut quiet = crate::pipeline::Quiet;
        let mut w = Stopwatch::new(&mut quiet);
        w.phase("add");
        w.time("outer", 3, |w| {
            w.begin("inner", 2);
            w.end();
        });
        let names: Vec<_> = w.stages.iter().map(|s| (s.stage.as_str(), s.items)).collect();
        assert_eq!(names, [("add: inner", 2), ("add: outer", 3)]);
        assert!(w.stages.iter().all(|s| s.seconds >= 0.0));
        if cfg!(target_os = "linux") {
            assert!(w.stages.iter().all(|s| s.peak_rss_bytes.is_some_and(|b| b > 0)));
        }
    }
}
