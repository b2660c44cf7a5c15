//! Sentences as units: the sentences of stored passages, with byte offsets
//! into their documents and a vector each. `overlaps --granularity
//! sentence`, `themes` (whose default unit is the sentence) and `report`
//! share this, so a sentence is cut and embedded the same way everywhere.
//!
//! A passage that is a single sentence keeps the vector it already has;
//! the other sentences are embedded with the index's model, each distinct
//! text once.

use std::collections::HashMap;

use anyhow::Result;

use motif::embed::Embedder;
use motif::split;

use crate::{load_embedder, ModelArgs};

/// Embeds texts once each, remembering their vectors.
pub(crate) struct SentenceVectors {
    index: HashMap<String, usize>,
    data: Vec<f32>,
    dim: usize,
}

impl SentenceVectors {
    pub(crate) fn new(dim: usize) -> Self {
        SentenceVectors { index: HashMap::new(), data: Vec::new(), dim }
    }

    /// Adds a vector known already (a passage that is one sentence).
    pub(crate) fn insert(&mut self, text: &str, v: &[f32]) {
        if !self.index.contains_key(text) {
            self.index.insert(text.to_string(), self.data.len() / self.dim);
            self.data.extend_from_slice(v);
        }
    }

    pub(crate) fn has_all(&self, texts: &[&str]) -> bool {
        texts.iter().all(|t| self.index.contains_key(*t))
    }

    pub(crate) fn embed_missing(&mut self, embedder: &dyn Embedder, texts: &[&str]) -> Result<()> {
        let mut missing: Vec<&str> = texts.iter().copied().filter(|t| !self.index.contains_key(*t)).collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let vectors = crate::embed_passages(embedder, &missing)?;
        for (t, v) in missing.iter().zip(crate::row_slices(&vectors)) {
            self.insert(t, v);
        }
        Ok(())
    }

    pub(crate) fn get(&self, text: &str) -> &[f32] {
        let i = self.index[text];
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

/// Sentence ranges of a passage whose text starts at byte `start` of its
/// document, in document offsets.
pub(crate) fn passage_sentences(text: &str, start: usize) -> Vec<(usize, usize)> {
    split::sentences(text, 0..text.len()).into_iter().map(|r| (start + r.start, start + r.end)).collect()
}

/// The sentences of a list of passages, in passage order.
pub(crate) struct SentenceUnits {
    /// Index of the passage holding each sentence.
    pub passage: Vec<usize>,
    /// Byte offsets into the document.
    pub span: Vec<(usize, usize)>,
    pub text: Vec<String>,
    /// Row-major, one unit vector per sentence (empty until `embed`).
    pub vectors: Vec<f32>,
}

impl SentenceUnits {
    /// Cuts passages (`(text, start)` each) into sentences, without vectors yet.
    pub(crate) fn split(passages: &[(&str, usize)]) -> SentenceUnits {
        let mut units = SentenceUnits { passage: Vec::new(), span: Vec::new(), text: Vec::new(), vectors: Vec::new() };
        for (i, &(text, start)) in passages.iter().enumerate() {
            for (s, e) in passage_sentences(text, start) {
                units.passage.push(i);
                units.span.push((s, e));
                units.text.push(text[s - start..e - start].to_string());
            }
        }
        units
    }

    pub(crate) fn len(&self) -> usize {
        self.passage.len()
    }

    /// Gives every sentence a vector: a passage that is one sentence lends
    /// its own (from `passage_vectors`, when given); the rest are embedded,
    /// loading the model into `embedder` only if some sentence needs it.
    pub(crate) fn embed(
        &mut self,
        passages: &[(&str, usize)],
        passage_vectors: &[f32],
        dim: usize,
        sv: &mut SentenceVectors,
        embedder: &mut Option<Box<dyn Embedder>>,
        model: &ModelArgs,
    ) -> Result<()> {
        for (u, &i) in self.passage.iter().enumerate() {
            let (text, start) = passages[i];
            if self.span[u] == (start, start + text.len()) && passage_vectors.len() >= (i + 1) * dim {
                sv.insert(text, &passage_vectors[i * dim..(i + 1) * dim]);
            }
        }
        let refs: Vec<&str> = self.text.iter().map(String::as_str).collect();
        if !sv.has_all(&refs) {
            sv.embed_missing(loaded(embedder, model)?, &refs)?;
        }
        self.vectors = refs.iter().flat_map(|t| sv.get(t).to_vec()).collect();
        Ok(())
    }
}

/// The embedder in `slot`, loaded from `model` the first time it is needed.
pub(crate) fn loaded<'a>(slot: &'a mut Option<Box<dyn Embedder>>, model: &ModelArgs) -> Result<&'a dyn Embedder> {
    if slot.is_none() {
        *slot = Some(load_embedder(model)?);
    }
    Ok(slot.as_deref().expect("just loaded"))
}
