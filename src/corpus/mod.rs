//! The corpus: documents cut into passages, each with a vector, and the
//! units an analysis compares (whole passages, or the sentences inside
//! them).
//!
//! Owns the types every later stage reads: `Passage` (the one passage
//! type: its document, position, byte span and text), `Corpus` (document
//! names, passages and their vectors, from files or from a store) and
//! `Units` (what overlaps and themes work on, with one vector each). Its
//! submodules read files (`ingest`), cut them (`split`) and cut passages
//! into sentence units (`sentences`).

pub mod claims;
pub mod ingest;
pub mod meta;
pub mod sentences;
pub mod split;

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use ndarray::{Array2, ArrayView2};
use serde::Serialize;

use crate::embed::{EmbedError, Embedder};
use crate::matrix;
use ingest::{Document, IngestError, IngestOptions};
use meta::DocMeta;
use split::{SplitError, SplitMode, Splitter};

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("{}: {source}", ingest::shown(.doc))]
    Split { doc: String, source: SplitError },
    #[error("no text to read in {0}")]
    Empty(String),
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("{target}: no such document in {corpus} (`motif info --docs` lists them)")]
    NoDocument { target: String, corpus: String },
    #[error("{doc} has passages 0 to {last} in {corpus}; there is no passage {asked}")]
    NoPassage { doc: String, last: usize, asked: usize, corpus: String },
    #[error("{passages} passages but {vectors} vectors: they must match")]
    Mismatch { passages: usize, vectors: usize },
}

/// A piece of a document that gets its own vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Passage {
    /// Index of the document in the corpus.
    pub doc: usize,
    /// 0-based position of the passage within its document.
    #[serde(rename = "passage")]
    pub ordinal: usize,
    /// Byte range in the document's text.
    pub start: usize,
    pub end: usize,
    /// True when this passage is one window of a unit too long for the model.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub windowed: bool,
    pub text: String,
}

impl Passage {
    pub fn span(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The text of a byte range of the document that lies in this passage
    /// (empty where it does not).
    pub fn slice(&self, span: (usize, usize)) -> &str {
        let (s, e) = (span.0.saturating_sub(self.start), span.1.saturating_sub(self.start));
        self.text.get(s.min(self.text.len())..e.min(self.text.len())).unwrap_or("")
    }
}

/// How inputs are read and cut into passages.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub ingest: IngestOptions,
    pub splitter: Splitter,
}

impl ReadOptions {
    /// How passages are cut, as an index records it so that every document
    /// of an index is split alike.
    pub fn split_description(&self) -> String {
        let s = &self.splitter;
        match s.mode {
            SplitMode::Window => format!("window tokens={} overlap={}", s.window_tokens, s.overlap),
            SplitMode::Paragraph => format!("paragraph overlap={}", s.overlap),
            SplitMode::Sentence => format!("sentence overlap={}", s.overlap),
        }
    }
}

/// Documents read from files and cut into passages, not yet embedded.
#[derive(Debug, Default)]
pub struct ReadDocuments {
    pub documents: Vec<Document>,
    /// Grouped by document, in document order.
    pub passages: Vec<Passage>,
    /// Inputs that could not be read (with `skip_bad`).
    pub skipped: Vec<IngestError>,
    /// Inputs that held no text.
    pub empty: Vec<String>,
    /// Files read whole (see `ingest::Ingested::complete`).
    pub complete: Vec<PathBuf>,
    /// What the user should hear about the reading (see `ingest::Ingested::notes`).
    pub notes: Vec<String>,
}

impl ReadDocuments {
    /// Passages cut into windows because they were longer than the model reads.
    pub fn windowed(&self) -> usize {
        self.passages.iter().filter(|p| p.windowed).count()
    }

    /// The passages of each document, as ranges into `passages`.
    pub fn by_document(&self) -> Vec<Range<usize>> {
        let mut out = vec![0..0; self.documents.len()];
        let mut i = 0;
        while i < self.passages.len() {
            let doc = self.passages[i].doc;
            let start = i;
            while i < self.passages.len() && self.passages[i].doc == doc {
                i += 1;
            }
            out[doc] = start..i;
        }
        out
    }
}

#[cfg(test)]
impl ReadDocuments {
    /// Documents of one passage each, `(name, text)`: for tests.
    pub(crate) fn one_passage_each(docs: &[(&str, &str)]) -> ReadDocuments {
        let documents: Vec<Document> =
            docs.iter().map(|(id, text)| Document::new(*id, None, text.to_string())).collect();
        let passages = documents
            .iter()
            .enumerate()
            .map(|(i, d)| Passage {
                doc: i,
                ordinal: 0,
                start: 0,
                end: d.text.len(),
                windowed: false,
                text: d.text.clone(),
            })
            .collect();
        ReadDocuments { documents, passages, ..Default::default() }
    }
}

/// Reads files, folders, globs or `-` and cuts every document into
/// passages. The embedder is asked only where its tokens fall, so that
/// over-long paragraphs become windows it can read whole.
pub fn read(inputs: &[String], opts: &ReadOptions, embedder: &dyn Embedder) -> Result<ReadDocuments, CorpusError> {
    let ingested = ingest::read_inputs(inputs, &opts.ingest)?;
    if ingested.documents.is_empty() {
        let inputs: Vec<_> = inputs.iter().map(|i| ingest::shown(i)).collect();
        return Err(CorpusError::Empty(inputs.join(" ")));
    }
    let mut passages = Vec::new();
    for (i, doc) in ingested.documents.iter().enumerate() {
        let cut = opts
            .splitter
            .split(i, &doc.text, embedder)
            .map_err(|source| CorpusError::Split { doc: doc.id.clone(), source })?;
        passages.extend(cut);
    }
    Ok(ReadDocuments {
        documents: ingested.documents,
        passages,
        skipped: ingested.skipped,
        empty: ingested.empty,
        complete: ingested.complete,
        notes: ingested.notes,
    })
}

/// Document names, passages and one unit-length vector per passage: what
/// the analyses start from, whether it came from files or from an index.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Document names, in corpus order (passages refer to them by index).
    pub documents: Vec<String>,
    /// Grouped by document, in document order.
    pub passages: Vec<Passage>,
    /// Row i belongs to `passages[i]`.
    pub vectors: Array2<f32>,
    /// The model that made the vectors.
    pub model: String,
    /// Each document's date, source, title and URL (row i: `documents[i]`).
    pub meta: Vec<DocMeta>,
    /// Sentence vectors known before any analysis (by text): those an
    /// index stores, so that sentence units and alignments embed nothing
    /// they hold. Empty for documents embedded now.
    pub sentences: Arc<sentences::SentenceVectors>,
    /// The index's saved HNSW graph over `vectors`, when the corpus came
    /// from an index large enough to need it (see `Store::load_corpus_for_analysis`):
    /// the passages' k-NN graph is then read from it, not built again.
    pub index_graph: Option<Arc<crate::index::Graph>>,
}

impl Corpus {
    pub fn new(
        documents: Vec<String>,
        passages: Vec<Passage>,
        vectors: Array2<f32>,
        model: String,
    ) -> Result<Corpus, CorpusError> {
        if passages.len() != vectors.nrows() {
            return Err(CorpusError::Mismatch { passages: passages.len(), vectors: vectors.nrows() });
        }
        let meta = vec![DocMeta::default(); documents.len()];
        let sentences = Arc::new(sentences::SentenceVectors::new(vectors.ncols()));
        Ok(Corpus { documents, passages, vectors, model, meta, sentences, index_graph: None })
    }

    /// The corpus with its documents' metadata (one per document; missing ones are empty).
    pub fn with_meta(mut self, mut meta: Vec<DocMeta>) -> Corpus {
        meta.resize(self.documents.len(), DocMeta::default());
        self.meta = meta;
        self
    }

    /// The corpus with sentence vectors known already (see `sentences`).
    pub fn with_sentences(mut self, known: sentences::SentenceVectors) -> Corpus {
        self.sentences = Arc::new(known);
        self
    }

    /// Embeds documents read from files.
    pub fn embed(
        read: ReadDocuments,
        embedder: &dyn Embedder,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Corpus, CorpusError> {
        let texts: Vec<&str> = read.passages.iter().map(|p| p.text.as_str()).collect();
        let vectors = embedder.embed(&texts, progress)?;
        let meta = read.documents.iter().map(|d| d.meta.clone()).collect();
        let documents = read.documents.into_iter().map(|d| d.id).collect();
        Ok(Corpus::new(documents, read.passages, vectors, embedder.name().to_string())?.with_meta(meta))
    }

    /// Passages per document, in document order.
    pub fn passage_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.documents.len()];
        for p in &self.passages {
            counts[p.doc] += 1;
        }
        counts
    }

    /// The passages `target` names: a document's name (all its passages),
    /// or `DOC#N` (its passage N, from 0). `source` names the corpus in errors.
    pub fn target(&self, target: &str, source: &str) -> Result<(usize, Vec<usize>), CorpusError> {
        let rows_of =
            |doc: usize| -> Vec<usize> { (0..self.passages.len()).filter(|&i| self.passages[i].doc == doc).collect() };
        if let Some(d) = self.documents.iter().position(|n| n == target) {
            return Ok((d, rows_of(d)));
        }
        if let Some((name, n)) = target.rsplit_once('#') {
            if let (Ok(n), Some(d)) = (n.parse::<usize>(), self.documents.iter().position(|x| x == name)) {
                let rows = rows_of(d);
                return match rows.iter().find(|&&r| self.passages[r].ordinal == n) {
                    Some(&r) => Ok((d, vec![r])),
                    None => Err(CorpusError::NoPassage {
                        doc: name.to_string(),
                        last: rows.len().saturating_sub(1),
                        asked: n,
                        corpus: source.to_string(),
                    }),
                };
            }
        }
        Err(CorpusError::NoDocument { target: target.to_string(), corpus: source.to_string() })
    }

    /// Every passage as a unit, with its stored vector.
    pub fn passage_units(&self) -> Units {
        Units {
            kind: UnitKind::Passage,
            list: self
                .passages
                .iter()
                .enumerate()
                .map(|(i, p)| Unit { doc: p.doc, passage: i, start: p.start, end: p.end })
                .collect(),
            texts: self.passages.iter().map(|p| p.text.clone()).collect(),
            vectors: self.vectors.clone(),
            embedded: 0,
        }
    }

    /// Every sentence of every passage as a unit (see `sentences`): the
    /// embedder is asked only for sentences the corpus does not know.
    pub fn sentence_units(
        &self,
        embedder: &dyn Embedder,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Units, EmbedError> {
        let mut cache = sentences::SentenceVectors::over(&self.sentences);
        sentences::sentence_units(&self.passages, self.vectors.view(), embedder, &mut cache, progress)
    }

    /// The units of the given kind.
    pub fn units(
        &self,
        kind: UnitKind,
        embedder: &dyn Embedder,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Units, EmbedError> {
        match kind {
            UnitKind::Passage => Ok(self.passage_units()),
            UnitKind::Sentence => self.sentence_units(embedder, progress),
        }
    }
}

/// What an analysis compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// Whole passages as the corpus holds them.
    Passage,
    /// Each sentence of each passage (a paragraph can make several points).
    Sentence,
}

impl UnitKind {
    pub fn name(self) -> &'static str {
        match self {
            UnitKind::Passage => "passage",
            UnitKind::Sentence => "sentence",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            UnitKind::Passage => "passages",
            UnitKind::Sentence => "sentences",
        }
    }
}

/// Where a unit is: its document, the passage holding it (an index into
/// the corpus's passages) and its byte offsets in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub doc: usize,
    pub passage: usize,
    pub start: usize,
    pub end: usize,
}

/// A set of units with their texts and one unit-length vector each (row i
/// belongs to `list[i]`).
#[derive(Debug, Clone)]
pub struct Units {
    pub kind: UnitKind,
    pub list: Vec<Unit>,
    pub texts: Vec<String>,
    pub vectors: Array2<f32>,
    /// Texts embedded to make these units (0 when every vector was known:
    /// passages, or sentences an index stores).
    pub embedded: usize,
}

impl Units {
    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn text_refs(&self) -> Vec<&str> {
        self.texts.iter().map(String::as_str).collect()
    }

    pub fn docs(&self) -> Vec<usize> {
        self.list.iter().map(|u| u.doc).collect()
    }

    pub fn view(&self) -> ArrayView2<'_, f32> {
        self.vectors.view()
    }

    pub fn vector(&self, i: usize) -> &[f32] {
        matrix::row(&self.vectors, i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Corpus {
        let p = |doc: usize, ordinal: usize| Passage {
            doc,
            ordinal,
            start: ordinal * 10,
            end: ordinal * 10 + 5,
            windowed: false,
            text: "words".into(),
        };
        let passages = vec![p(0, 0), p(0, 1), p(1, 0), p(2, 0), p(2, 1), p(2, 2)];
        Corpus::new(vec!["a.txt".into(), "b#1.txt".into(), "c.txt".into()], passages, Array2::zeros((6, 2)), "m".into())
            .unwrap()
    }

    #[test]
    fn targets_name_a_document_or_one_of_its_passages() {
        let c = corpus();
        assert_eq!(c.target("c.txt", "idx").unwrap(), (2, vec![3, 4, 5]));
        assert_eq!(c.target("c.txt#2", "idx").unwrap(), (2, vec![5]));
        // A name that itself holds '#' is a document first.
        assert_eq!(c.target("b#1.txt", "idx").unwrap(), (1, vec![2]));
        let err = c.target("c.txt#7", "idx").unwrap_err().to_string();
        assert!(err.contains("passages 0 to 2") && err.contains("no passage 7"), "{err}");
        let err = c.target("nope.txt", "idx").unwrap_err().to_string();
        assert!(err.contains("nope.txt") && err.contains("motif info --docs"), "{err}");
        assert_eq!(c.passage_counts(), vec![2, 1, 3]);
    }

    #[test]
    fn passages_and_vectors_must_match() {
        assert!(matches!(
            Corpus::new(vec![], vec![], Array2::zeros((1, 2)), "m".into()),
            Err(CorpusError::Mismatch { .. })
        ));
    }
}
