//! Inside one overlapping pair: which sentence of A says what which sentence
//! of B says, how literally, and which words to mark.
//!
//! This module owns the lexical side of overlaps, on the words of
//! `crate::text::words` (re-exported here): the lexical similarity the
//! overlap decision blends with the cosine (`lexical`), shared word
//! sequences (`shared_runs`), the
//! verbatim / near-verbatim / paraphrase label (`kind`), the one-to-one
//! alignment of sentences by their blended score (`align`), and the word
//! ranges a report marks (`marks`). Everything works on plain text, byte
//! ranges and vectors; nothing here reads files or runs a model.

use std::collections::HashMap;
use std::ops::Range;

use serde::Serialize;

use super::decision::Decision;
use crate::matrix::dot;

pub use crate::text::{content_words, scripts_differ, words, Script, Word};

/// Content words of a text, counted.
fn content_bag(ws: &[Word]) -> HashMap<&str, usize> {
    let mut bag = HashMap::new();
    for w in ws.iter().filter(|w| w.content) {
        *bag.entry(w.stem.as_str()).or_insert(0) += 1;
    }
    bag
}

/// Shared wording of two texts, from 0 (no content word in common) to 1
/// (every content word of the shorter one occurs in the other): the overlap
/// coefficient |A ∩ B| / min(|A|, |B|) of their content-word multisets, on
/// stems. Containment rather than Dice, because a claim repeated inside a
/// longer sentence is still the same claim (and it calibrated slightly
/// better on STS-B dev: F1 70.8 against 70.4 for Dice). This is the lexical
/// evidence the overlap decision blends with the cosine.
pub fn lexical(a: &str, b: &str) -> f32 {
    lexical_words(&words(a), &words(b))
}

pub fn lexical_words(a: &[Word], b: &[Word]) -> f32 {
    let (ba, bb) = (content_bag(a), content_bag(b));
    let shared: usize = ba.iter().map(|(w, &n)| n.min(bb.get(w).copied().unwrap_or(0))).sum();
    let smaller = ba.values().sum::<usize>().min(bb.values().sum::<usize>());
    if smaller == 0 {
        return 0.0;
    }
    shared as f32 / smaller as f32
}

/// Word sequences two texts share, on normalised words.
#[derive(Debug, Clone, PartialEq)]
pub struct Shared {
    /// The longest shared sequence, in words.
    pub longest: usize,
    /// Which words of A (and of B) lie inside a shared sequence of at least
    /// `SHARED_MIN` words.
    pub in_a: Vec<bool>,
    pub in_b: Vec<bool>,
}

/// Shortest word sequence counted as shared wording.
pub const SHARED_MIN: usize = 3;

/// Longest common word sequences by dynamic programming over the two word
/// lists (O(|A|·|B|), fine for sentences and paragraphs).
pub fn shared_runs(a: &[Word], b: &[Word]) -> Shared {
    let (n, m) = (a.len(), b.len());
    let mut in_a = vec![false; n];
    let mut in_b = vec![false; m];
    let mut longest = 0;
    let mut prev = vec![0usize; m + 1];
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        for j in 1..=m {
            cur[j] = if a[i - 1].norm == b[j - 1].norm { prev[j - 1] + 1 } else { 0 };
            let run = cur[j];
            longest = longest.max(run);
            if run >= SHARED_MIN {
                for k in 0..run {
                    in_a[i - 1 - k] = true;
                    in_b[j - 1 - k] = true;
                }
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Shared { longest, in_a, in_b }
}

/// How literally a match repeats its counterpart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// In another script than its counterpart (a multilingual model links
    /// them): a translation or a report in another language, which no
    /// count of shared words can call a copy.
    CrossLanguage,
    /// Reworded: little shared wording beyond single words.
    Paraphrase,
    /// Much of the shorter text lies in shared word sequences, with edits.
    NearVerbatim,
    /// Long shared word sequences: copied, at most lightly trimmed.
    Verbatim,
    /// The same claim about the same names with different figures
    /// ("3,000 troops" against "10,000 troops"): the outlets disagree.
    /// Ordered last, so that a pair holding one is shown as one.
    Conflict,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CrossLanguage => "cross-language",
            Kind::Paraphrase => "paraphrase",
            Kind::NearVerbatim => "near-verbatim",
            Kind::Verbatim => "verbatim",
            Kind::Conflict => "conflict",
        }
    }
}

/// Labels a match by its shared word sequences: `verbatim` when at least
/// 80 % of the shorter text lies in sequences of 3+ shared words or one
/// shared sequence is 12 words long; `near-verbatim` from 40 % or a
/// 6-word sequence; `paraphrase` otherwise; `cross-language` when the two
/// are written in different scripts (names and figures they share are
/// not copied wording).
pub fn kind(a: &[Word], b: &[Word]) -> Kind {
    if scripts_differ(words_script(a), words_script(b)) {
        return Kind::CrossLanguage;
    }
    let shared = shared_runs(a, b);
    kind_of(&shared)
}

/// The script of a text's words (`text::script`).
pub fn words_script(ws: &[Word]) -> Option<Script> {
    crate::text::script(&ws.iter().map(|w| w.norm.as_str()).collect::<Vec<_>>().join(" "))
}

pub fn kind_of(shared: &Shared) -> Kind {
    let cov = |marks: &[bool]| {
        if marks.is_empty() {
            0.0
        } else {
            marks.iter().filter(|&&m| m).count() as f32 / marks.len() as f32
        }
    };
    // Coverage of the shorter text: a sentence copied whole into a longer
    // one is verbatim.
    let coverage = if shared.in_a.len() <= shared.in_b.len() { cov(&shared.in_a) } else { cov(&shared.in_b) };
    if coverage >= 0.8 || shared.longest >= 12 {
        Kind::Verbatim
    } else if coverage >= 0.4 || shared.longest >= 6 {
        Kind::NearVerbatim
    } else {
        Kind::Paraphrase
    }
}

/// A sentence taking part in an alignment: its byte range (in whatever text
/// the caller reports offsets in), its text and its unit vector.
#[derive(Debug, Clone, Copy)]
pub struct SentenceRef<'a> {
    pub span: (usize, usize),
    pub text: &'a str,
    pub vector: &'a [f32],
}

/// Sentence `a` of A matched with sentence `b` of B (indices into the
/// slices given to `align`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentenceMatch {
    pub a: usize,
    pub b: usize,
    pub cosine: f32,
    pub lexical: f32,
    pub score: f32,
    pub kind: Kind,
}

/// Aligns the sentences of A with those of B one to one: every pair is
/// scored by the overlap decision (cosine blended with shared wording), and
/// pairs are taken best first while both sentences are free and the score
/// reaches `min_score`. When none does and `keep_best` is set, the single
/// best pair is returned, so a matching passage pair always shows where it
/// matches most. Ties fall by sentence order; the result is sorted by
/// score, best first.
pub fn align(
    a: &[SentenceRef],
    b: &[SentenceRef],
    decision: &Decision,
    min_score: f32,
    keep_best: bool,
) -> Vec<SentenceMatch> {
    let wa: Vec<Vec<Word>> = a.iter().map(|s| words(s.text)).collect();
    let wb: Vec<Vec<Word>> = b.iter().map(|s| words(s.text)).collect();
    let sa: Vec<Option<Script>> = wa.iter().map(|w| words_script(w)).collect();
    let sb: Vec<Option<Script>> = wb.iter().map(|w| words_script(w)).collect();
    let mut all = Vec::with_capacity(a.len() * b.len());
    for i in 0..a.len() {
        for j in 0..b.len() {
            let cos = dot(a[i].vector, b[j].vector);
            let lex = (!scripts_differ(sa[i], sb[j])).then(|| lexical_words(&wa[i], &wb[j]));
            all.push((decision.score_across(cos, lex), cos, lex.unwrap_or(0.0), i, j));
        }
    }
    all.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.3.cmp(&y.3)).then(x.4.cmp(&y.4)));
    let mut used_a = vec![false; a.len()];
    let mut used_b = vec![false; b.len()];
    let mut out = Vec::new();
    for &(score, cos, lex, i, j) in &all {
        if score < min_score {
            break;
        }
        if used_a[i] || used_b[j] {
            continue;
        }
        used_a[i] = true;
        used_b[j] = true;
        out.push(SentenceMatch { a: i, b: j, cosine: cos, lexical: lex, score, kind: kind(&wa[i], &wb[j]) });
    }
    if out.is_empty() && keep_best {
        if let Some(&(score, cos, lex, i, j)) = all.first() {
            out.push(SentenceMatch { a: i, b: j, cosine: cos, lexical: lex, score, kind: kind(&wa[i], &wb[j]) });
        }
    }
    out
}

/// Byte ranges of `text` to mark as matching `others`: every content word
/// whose stem occurs in one of them, and every word inside a word sequence
/// of `SHARED_MIN`+ words shared with one of them. Neighbouring marked words
/// separated only by spaces or punctuation are merged into one range.
pub fn marks(text: &str, others: &[&str]) -> Vec<Range<usize>> {
    let ws = words(text);
    let mut marked = vec![false; ws.len()];
    for other in others {
        let wo = words(other);
        let stems: std::collections::HashSet<&str> = wo.iter().filter(|w| w.content).map(|w| w.stem.as_str()).collect();
        for (k, w) in ws.iter().enumerate() {
            if w.content && stems.contains(w.stem.as_str()) {
                marked[k] = true;
            }
        }
        let shared = shared_runs(&ws, &wo);
        for (k, m) in shared.in_a.iter().enumerate() {
            marked[k] |= m;
        }
    }
    let mut out: Vec<Range<usize>> = Vec::new();
    for (k, w) in ws.iter().enumerate() {
        if !marked[k] {
            continue;
        }
        match out.last_mut() {
            // Merge across a gap of spaces or light punctuation (not across
            // sentence-ending marks or quotes that would read oddly bold).
            Some(last)
                if k > 0 && marked[k - 1] && text[last.end..w.start].chars().all(|c| c.is_whitespace() || c == '-') =>
            {
                last.end = w.end
            }
            _ => out.push(w.start..w.end),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_is_containment_of_content_stems() {
        assert_eq!(lexical("North Korean troops", "the north korean troop"), 1.0);
        assert_eq!(lexical("apples", "oranges"), 0.0);
        assert_eq!(lexical("", ""), 0.0);
        // {estimate, 10000, troop} vs {10000, troop, deployed, russia}: 2/3.
        let l = lexical("An estimate of 10,000 troops", "10000 troops deployed to Russia");
        assert!((l - 2.0 / 3.0).abs() < 1e-6, "{l}");
        assert_eq!(lexical("troops left", "the troops left for the front yesterday"), 1.0);
    }

    #[test]
    fn kinds_follow_shared_sequences() {
        let src =
            "The deployment of North Korean troops to Russia marks a significant escalation of the war in Ukraine.";
        let copy = "As reported, the deployment of North Korean troops to Russia marks a significant escalation of the war in Ukraine.";
        let edited = "The deployment of North Korean soldiers to Russia marks a big escalation in the war.";
        let para = "Pyongyang sending soldiers to help Moscow is a major step up in the Ukrainian conflict.";
        assert_eq!(kind(&words(src), &words(copy)), Kind::Verbatim);
        assert_eq!(kind(&words(src), &words(edited)), Kind::NearVerbatim);
        assert_eq!(kind(&words(src), &words(para)), Kind::Paraphrase);
        // A translation shares figures and names at most: never a copy.
        let translated = "Северная Корея направила 10,000 военных в Курск, Kursk, Kursk, Kursk";
        let copy_with_names = "North Korea sent 10,000 troops to Kursk, Kursk, Kursk, Kursk";
        assert_eq!(kind(&words(copy_with_names), &words(translated)), Kind::CrossLanguage);
        let s = shared_runs(&words(src), &words(copy));
        assert_eq!(s.longest, words(src).len());
    }

    #[test]
    fn alignment_is_one_to_one_best_first_with_a_fallback() {
        let v = |x: f32, y: f32| {
            let n = (x * x + y * y).sqrt();
            vec![x / n, y / n]
        };
        let (a0, a1, b0, b1) = (v(1.0, 0.0), v(0.0, 1.0), v(0.1, 1.0), v(1.0, 0.05));
        let a = [
            SentenceRef { span: (0, 5), text: "alpha beta gamma", vector: &a0 },
            SentenceRef { span: (6, 9), text: "delta epsilon", vector: &a1 },
        ];
        let b = [
            SentenceRef { span: (0, 5), text: "delta zeta", vector: &b0 },
            SentenceRef { span: (6, 9), text: "alpha beta gamma", vector: &b1 },
        ];
        let d = Decision { threshold: 0.5, lexical_weight: 0.2 };
        let m = align(&a, &b, &d, 0.5, false);
        assert_eq!(m.iter().map(|m| (m.a, m.b)).collect::<Vec<_>>(), vec![(0, 1), (1, 0)]);
        assert!(m[0].score >= m[1].score);
        assert_eq!(m[0].kind, Kind::Verbatim);
        assert!(align(&a, &b, &d, 2.0, false).is_empty());
        assert_eq!(align(&a, &b, &d, 2.0, true).len(), 1);
    }

    #[test]
    fn marks_cover_shared_words_and_merge_neighbours() {
        let text = "About 10,000 North Korean troops went to Russia.";
        let got: Vec<&str> =
            marks(text, &["North Korean troops: 10000 in Kursk"]).into_iter().map(|r| &text[r]).collect();
        assert_eq!(got, vec!["10,000 North Korean troops"]);
        assert!(marks("nothing shared", &["at all"]).is_empty());
    }
}
