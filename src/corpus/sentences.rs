//! Sentences as units: the sentences of passages, with byte offsets into
//! their documents and a vector each. Overlaps at sentence granularity,
//! the alignment inside overlapping passages, and themes (whose default
//! unit is the sentence) all cut and embed sentences here, and `motif
//! index` stores them cut here, so a sentence is the same everywhere
//! (`passage_sentences`).
//!
//! A passage that is a single sentence keeps the vector it already has;
//! the other sentences are embedded, each distinct text once, unless the
//! corpus already knows their vectors (a `Corpus` read from an index
//! carries the stored ones as `Corpus::sentences`; a run layers what it
//! embeds over them with `SentenceVectors::over`).

use std::collections::HashMap;
use std::sync::Arc;

use ndarray::{Array2, ArrayView2};

use super::{Passage, Unit, UnitKind, Units};
use crate::embed::{EmbedError, Embedder};
use crate::matrix;

/// Vectors of texts, each embedded once; optionally over a shared set of
/// vectors known before (looked up first, never changed).
#[derive(Clone)]
pub struct SentenceVectors {
    base: Option<Arc<SentenceVectors>>,
    index: HashMap<String, usize>,
    data: Vec<f32>,
    dim: usize,
}

impl std::fmt::Debug for SentenceVectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentenceVectors").field("texts", &self.len()).field("dim", &self.dim).finish()
    }
}

impl SentenceVectors {
    pub fn new(dim: usize) -> Self {
        SentenceVectors { base: None, index: HashMap::new(), data: Vec::new(), dim }
    }

    /// An empty set that looks texts up in `base` first and keeps only
    /// what `base` does not know.
    pub fn over(base: &Arc<SentenceVectors>) -> Self {
        SentenceVectors { base: Some(Arc::clone(base)), ..SentenceVectors::new(base.dim) }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Texts known, `base` included.
    pub fn len(&self) -> usize {
        self.index.len() + self.base.as_ref().map_or(0, |b| b.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, text: &str) -> bool {
        self.index.contains_key(text) || self.base.as_ref().is_some_and(|b| b.contains(text))
    }

    /// Adds a vector known already (a passage that is one sentence, a
    /// stored sentence); a text known already keeps its first vector.
    pub fn insert(&mut self, text: &str, v: &[f32]) {
        if !self.contains(text) {
            self.index.insert(text.to_string(), self.data.len() / self.dim.max(1));
            self.data.extend_from_slice(v);
        }
    }

    /// Embeds the texts that have no vector yet, each distinct one once,
    /// and returns how many it embedded.
    pub fn embed_missing(
        &mut self,
        embedder: &dyn Embedder,
        texts: &[&str],
        progress: &mut dyn FnMut(usize),
    ) -> Result<usize, EmbedError> {
        let mut missing: Vec<&str> = texts.iter().copied().filter(|t| !self.contains(t)).collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(0);
        }
        let vectors = embedder.embed(&missing, progress)?;
        for (i, t) in missing.iter().enumerate() {
            self.insert(t, matrix::row(&vectors, i));
        }
        Ok(missing.len())
    }

    /// The vector of a text given to `insert` or `embed_missing` (here or in `base`).
    pub fn get(&self, text: &str) -> &[f32] {
        match self.index.get(text) {
            Some(&i) => &self.data[i * self.dim..(i + 1) * self.dim],
            None => self.base.as_ref().map(|b| b.get(text)).unwrap_or_else(|| panic!("no vector for {text:?}")),
        }
    }
}

/// Sentence ranges of a passage, in document offsets.
pub fn passage_sentences(p: &Passage) -> Vec<(usize, usize)> {
    super::split::sentences(&p.text, 0..p.text.len())
        .into_iter()
        .map(|r| (p.start + r.start, p.start + r.end))
        .collect()
}

/// Whether a passage is one sentence, all of it: that sentence's vector
/// is the passage's own.
pub fn is_whole(p: &Passage, sentences: &[(usize, usize)]) -> bool {
    sentences.len() == 1 && sentences[0] == (p.start, p.end)
}

/// Lends each one-sentence passage's vector to its sentence.
pub fn lend_passage_vectors(
    passages: &[Passage],
    passage_vectors: ArrayView2<f32>,
    cache: &mut SentenceVectors,
    which: impl Iterator<Item = usize>,
) {
    if passage_vectors.nrows() != passages.len() {
        return;
    }
    for i in which {
        let p = &passages[i];
        if is_whole(p, &passage_sentences(p)) {
            cache.insert(&p.text, matrix::row(&passage_vectors, i));
        }
    }
}

/// Every sentence of every passage, in passage order, with a vector each;
/// `Units::embedded` says how many texts had to be embedded.
pub fn sentence_units(
    passages: &[Passage],
    passage_vectors: ArrayView2<f32>,
    embedder: &dyn Embedder,
    cache: &mut SentenceVectors,
    progress: &mut dyn FnMut(usize),
) -> Result<Units, EmbedError> {
    let mut list = Vec::new();
    let mut texts = Vec::new();
    for (i, p) in passages.iter().enumerate() {
        for (s, e) in passage_sentences(p) {
            list.push(Unit { doc: p.doc, passage: i, start: s, end: e });
            texts.push(p.slice((s, e)).to_string());
        }
    }
    lend_passage_vectors(passages, passage_vectors, cache, 0..passages.len());
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let embedded = cache.embed_missing(embedder, &refs, progress)?;
    let mut vectors = Array2::<f32>::zeros((texts.len(), cache.dim));
    for (mut row, t) in vectors.rows_mut().into_iter().zip(&refs) {
        row.as_slice_mut().expect("a fresh matrix is row-major").copy_from_slice(cache.get(t));
    }
    Ok(Units { kind: UnitKind::Sentence, list, texts, vectors, embedded })
}
