//! `HashEmbedder`: a deterministic stand-in for a model, for tests and for
//! trying motif without fetching one (`--model hash`).
//!
//! A text's vector is a bag of hashed word features: each content word's
//! light stem (weight 1) and the word itself (½), and each pair of
//! neighbouring content words (½), lower-cased, hashed with FNV-1a into one
//! of `dim` buckets with a ± sign taken from the hash, then scaled to unit
//! length. Texts that share words get a high cosine, unrelated texts one
//! near 0, and the same text always the same vector, on every machine.
//! It knows no synonyms: "car" and "automobile" are unrelated to it.
//!
//! Tokens, for the splitter, are whitespace-separated words, so long
//! paragraphs are windowed by words.

use ndarray::Array2;
use rayon::prelude::*;

use super::{EmbedError, Embedder, HASH_MODEL};

/// Content tokens a window may hold, as for a 256-token model.
const MAX_CONTENT_TOKENS: usize = 254;
/// Texts per progress report.
const PROGRESS_EVERY: usize = 256;

/// Words too common to say what a text is about. Kept small: the point is
/// that "the" does not make two unrelated sentences look alike.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "for", "from", "had", "has", "have", "he", "her",
    "his", "i", "in", "is", "it", "its", "of", "on", "or", "she", "that", "the", "their", "they", "this", "to", "was",
    "we", "were", "which", "will", "with", "you",
];

#[derive(Debug, Clone)]
pub struct HashEmbedder {
    dim: usize,
}

impl HashEmbedder {
    /// Vectors of `dim` values (at least 1).
    pub fn new(dim: usize) -> Self {
        HashEmbedder { dim: dim.max(1) }
    }

    /// Identifies the feature scheme and dimension: change the scheme, change the version.
    pub fn fingerprint(&self) -> String {
        format!("hash-v1-{}", self.dim)
    }

    /// One text's unit-length vector. A text without words gets the first
    /// basis vector: fixed, and of unit length like every other.
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dim];
        let lowered: Vec<String> =
            text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        let content: Vec<&str> = lowered.iter().map(String::as_str).filter(|w| !STOP_WORDS.contains(w)).collect();
        // A text of stop words only is still told apart from another.
        let words = if content.is_empty() { lowered.iter().map(String::as_str).collect() } else { content };
        if words.is_empty() {
            v[0] = 1.0;
            return v;
        }
        let stems: Vec<String> = words.iter().map(|w| stem(w)).collect();
        for (word, stem) in words.iter().zip(&stems) {
            self.add(&mut v, b"s", stem.as_bytes(), 1.0);
            self.add(&mut v, b"w", word.as_bytes(), 0.5);
        }
        for pair in stems.windows(2) {
            self.add(&mut v, b"b", format!("{} {}", pair[0], pair[1]).as_bytes(), 0.5);
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        } else {
            // Features that cancelled out exactly (opposite signs, one bucket).
            v[0] = 1.0;
        }
        v
    }

    /// Adds one feature, `kind:feature` hashed, into its bucket with its sign.
    fn add(&self, v: &mut [f32], kind: &[u8], feature: &[u8], weight: f32) {
        let h = fnv1a(&[kind, b":", feature].concat());
        let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
        v[(h % self.dim as u64) as usize] += sign * weight;
    }
}

impl Default for HashEmbedder {
    /// The dimension of `--model hash`.
    fn default() -> Self {
        HashEmbedder::new(super::HASH_DIM)
    }
}

/// 64-bit FNV-1a: fixed, so vectors are the same on every machine and in
/// every version of this scheme.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |h, &b| (h ^ b as u64).wrapping_mul(PRIME))
}

/// A light English stem: plural and verb endings off ("troops" → "troop",
/// "deployed" → "deploy", "cities" → "city"), short words kept whole.
fn stem(word: &str) -> String {
    let n = word.len();
    if n > 4 {
        if let Some(base) = word.strip_suffix("ies") {
            return format!("{base}y");
        }
    }
    if n > 5 {
        if let Some(base) = word.strip_suffix("ing") {
            return base.to_string();
        }
    }
    if n > 4 {
        for suffix in ["ed", "ly"] {
            if let Some(base) = word.strip_suffix(suffix) {
                return base.to_string();
            }
        }
        if let Some(base) = word.strip_suffix("es") {
            if base.ends_with(['s', 'x', 'z', 'h']) {
                return base.to_string();
            }
        }
    }
    if n > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") && !word.ends_with("is") {
        return word[..n - 1].to_string();
    }
    word.to_string()
}

impl Embedder for HashEmbedder {
    fn name(&self) -> &str {
        HASH_MODEL
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn max_content_tokens(&self) -> usize {
        MAX_CONTENT_TOKENS
    }

    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedError> {
        Ok(crate::text::whitespace_spans(text))
    }

    fn embed(&self, texts: &[&str], progress: &mut dyn FnMut(usize)) -> Result<Array2<f32>, EmbedError> {
        let mut out = Array2::zeros((texts.len(), self.dim));
        for (chunk, mut rows) in
            texts.chunks(PROGRESS_EVERY).zip(out.axis_chunks_iter_mut(ndarray::Axis(0), PROGRESS_EVERY))
        {
            // Each row is its own text's: the same vectors on any number of cores.
            let vectors: Vec<Vec<f32>> = chunk.par_iter().map(|text| self.vector(text)).collect();
            for (v, mut row) in vectors.iter().zip(rows.outer_iter_mut()) {
                row.assign(&ndarray::ArrayView1::from(v));
            }
            progress(chunk.len());
        }
        Ok(out)
    }

    fn device_name(&self) -> String {
        "cpu".into()
    }

    fn kernels(&self) -> String {
        "hashed words".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::split::{SplitMode, Splitter};

    fn cos(e: &HashEmbedder, a: &str, b: &str) -> f32 {
        let m = e.embed(&[a, b], &mut |_| {}).unwrap();
        m.row(0).dot(&m.row(1))
    }

    #[test]
    fn vectors_have_unit_length_and_come_in_input_order() {
        let e = HashEmbedder::default();
        let texts = ["North Korean troops", "", "the of and", "Ünïcödé wörds, numbers 42 and punctuation!?"];
        let mut done = 0;
        let m = e.embed(&texts, &mut |n| done += n).unwrap();
        assert_eq!(m.dim(), (4, 384));
        assert_eq!(done, 4, "progress counts every text");
        for (row, text) in m.outer_iter().zip(texts) {
            assert!((row.dot(&row) - 1.0).abs() < 1e-5, "{text:?}");
            assert_eq!(row.to_vec(), e.vector(text), "row order is input order");
        }
        assert!(e.embed(&[], &mut |_| {}).unwrap().is_empty());
    }

    #[test]
    fn the_same_text_always_gives_the_same_vector() {
        let (a, b) = (HashEmbedder::default(), HashEmbedder::new(384));
        let text = "Troops were deployed along the border on Tuesday.";
        assert_eq!(a.vector(text), b.vector(text));
        assert_eq!(a.vector(text), a.vector(text));
        assert_eq!(a.fingerprint(), "hash-v1-384");
    }

    /// The scheme as documented, computed by hand for a one-word text.
    #[test]
    fn a_word_is_its_stem_plus_half_the_word() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c, "the published FNV-1a 64 test vector");
        let mut want = vec![0f32; 384];
        for (feature, weight) in [(&b"s:troop"[..], 1.0), (&b"w:troops"[..], 0.5)] {
            let h = fnv1a(feature);
            want[(h % 384) as usize] += if h >> 63 == 0 { weight } else { -weight };
        }
        let norm = want.iter().map(|x| x * x).sum::<f32>().sqrt();
        want.iter_mut().for_each(|x| *x /= norm);
        assert_eq!(HashEmbedder::default().vector("Troops"), want);
    }

    #[test]
    fn texts_sharing_words_are_closer_than_unrelated_ones() {
        let e = HashEmbedder::default();
        let a = "North Korean troops have been deployed to Russia.";
        let paraphrase = "Troops from North Korea were deployed in Russia.";
        let unrelated = "The recipe needs two cups of flour and an egg.";
        let (near, far) = (cos(&e, a, paraphrase), cos(&e, a, unrelated));
        assert!(near > 0.5, "shared words: {near}");
        assert!(far.abs() < 0.2, "unrelated: {far}");
        assert!(near > far + 0.3);
        assert!((cos(&e, a, a) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn an_empty_text_gets_a_fixed_unit_vector() {
        let e = HashEmbedder::default();
        for empty in ["", "   \n", "…!?"] {
            let v = e.vector(empty);
            assert_eq!(v[0], 1.0, "{empty:?}");
            assert_eq!(v.iter().filter(|x| **x != 0.0).count(), 1);
        }
    }

    #[test]
    fn stems_are_light() {
        for (word, want) in [
            ("troops", "troop"),
            ("deployed", "deploy"),
            ("cities", "city"),
            ("running", "runn"),
            ("boxes", "box"),
            ("glass", "glass"),
            ("bus", "bus"),
            ("is", "is"),
            ("sing", "sing"),
        ] {
            assert_eq!(stem(word), want, "{word}");
        }
    }

    #[test]
    fn tokens_are_words_so_the_splitter_windows_long_paragraphs_by_words() {
        let e = HashEmbedder::default();
        assert_eq!(e.token_spans("  two  words\n").unwrap(), vec![(2, 5), (7, 12)]);
        let long: String = (0..600).map(|i| format!("word{i} ")).collect();
        let splitter = Splitter { mode: SplitMode::Paragraph, window_tokens: 128, overlap: 32 };
        let passages = splitter.split(0, long.trim_end(), &e).unwrap();
        assert!(passages.len() >= 3 && passages.iter().all(|p| p.windowed));
        for p in &passages {
            assert!(long[p.span()].split_whitespace().count() <= MAX_CONTENT_TOKENS);
        }
        assert_eq!(passages.last().unwrap().end, long.trim_end().len());
    }
}
