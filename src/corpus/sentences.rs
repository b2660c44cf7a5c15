//! Sentences as units: the sentences of passages, with byte offsets into
//! their documents and a vector each. Overlaps at sentence granularity,
//! the alignment inside overlapping passages, and themes (whose default
//! unit is the sentence) all cut and embed sentences here, so a sentence
//! is the same everywhere.
//!
//! A passage that is a single sentence keeps the vector it already has;
//! the other sentences are embedded, each distinct text once.

use std::collections::HashMap;

use ndarray::{Array2, ArrayView2};

use super::{Passage, Unit, UnitKind, Units};
use crate::embed::{EmbedError, Embedder};
use crate::matrix;

/// Vectors of texts, each embedded once.
pub struct SentenceVectors {
    index: HashMap<String, usize>,
    data: Vec<f32>,
    dim: usize,
}

impl SentenceVectors {
    pub fn new(dim: usize) -> Self {
        SentenceVectors { index: HashMap::new(), data: Vec::new(), dim }
    }

    /// Adds a vector known already (a passage that is one sentence).
    pub fn insert(&mut self, text: &str, v: &[f32]) {
        if !self.index.contains_key(text) {
            self.index.insert(text.to_string(), self.data.len() / self.dim);
            self.data.extend_from_slice(v);
        }
    }

    /// Embeds the texts that have no vector yet, each distinct one once.
    pub fn embed_missing(
        &mut self,
        embedder: &dyn Embedder,
        texts: &[&str],
        progress: &mut dyn FnMut(usize),
    ) -> Result<(), EmbedError> {
        let mut missing: Vec<&str> = texts.iter().copied().filter(|t| !self.index.contains_key(*t)).collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let vectors = embedder.embed(&missing, progress)?;
        for (i, t) in missing.iter().enumerate() {
            self.insert(t, matrix::row(&vectors, i));
        }
        Ok(())
    }

    /// The vector of a text given to `insert` or `embed_missing`.
    pub fn get(&self, text: &str) -> &[f32] {
        let i = self.index[text];
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

/// Sentence ranges of a passage, in document offsets.
pub fn passage_sentences(p: &Passage) -> Vec<(usize, usize)> {
    super::split::sentences(&p.text, 0..p.text.len())
        .into_iter()
        .map(|r| (p.start + r.start, p.start + r.end))
        .collect()
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
        let s = passage_sentences(p);
        if s.len() == 1 && s[0] == (p.start, p.end) {
            cache.insert(&p.text, matrix::row(&passage_vectors, i));
        }
    }
}

/// Every sentence of every passage, in passage order, with a vector each.
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
    cache.embed_missing(embedder, &refs, progress)?;
    let mut vectors = Array2::<f32>::zeros((texts.len(), cache.dim));
    for (mut row, t) in vectors.rows_mut().into_iter().zip(&refs) {
        row.as_slice_mut().expect("a fresh matrix is row-major").copy_from_slice(cache.get(t));
    }
    Ok(Units { kind: UnitKind::Sentence, list, texts, vectors })
}
