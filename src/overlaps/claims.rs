//! Overlaps at the level of a claim: inside two sentences, which claims
//! match, whether a rare shared figure or name links them at a lower
//! score, and whether they give different figures for the same thing.
//!
//! The sentence-level search (`super::find`) proposes sentence pairs: those
//! that pass, those above the cosine floor that do not (`Found::near`), and
//! pairs that share a rare anchor (`anchor_pairs`). For each, every claim
//! of one sentence (`crate::corpus::claims::cut`, the whole sentence
//! included) is scored against every claim of the other with the same
//! decision, and the best match is reported with its claim spans:
//!
//! - a pair **links** when its best match passes the threshold, or when
//!   the two matching claims share a rare figure (a quantity or date held
//!   by few sentences of the corpus) and score at least `threshold −
//!   anchor_margin`; claims of a pair that does not match as wholes link
//!   without a shared figure only at `threshold + claim_margin` (off by
//!   default: in a corpus about one event, short clauses on the topic pass
//!   the sentence threshold with one another everywhere);
//! - a pair is a **conflict** (and linked as one) when two of its claims
//!   say nearly the same thing (score ≥ `threshold − conflict_margin`)
//!   about a shared name, each gives a quantity (count, money or
//!   percentage) of one kind, none of those figures agree even rounded
//!   (`Figure::agrees`), they lie within a factor of ten of each other,
//!   and at least one side's figures occur nowhere in the other sentence
//!   (so "3,000 deployed, 10,000 by December" against "3,000 deployed …
//!   10,000 more in December" is agreement, while "3,000 deployed" against
//!   "10,000 deployed" is not).
//!
//! Claims are embedded on demand, each distinct text once, through the
//! same vector cache as sentences.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use ndarray::ArrayView2;
use serde::Serialize;

use super::align::{self, Kind};
use super::anchors::{Anchors, Figure};
use super::decision::Decision;
use super::Unit;
use crate::corpus::claims;
use crate::corpus::sentences::SentenceVectors;
use crate::embed::{EmbedError, Embedder};
use crate::matrix::{dot, row};

/// How claims take part in the decision.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ClaimSettings {
    /// Match claims inside sentences (off: sentences as wholes only).
    pub enabled: bool,
    /// How far below the threshold two claims sharing a rare figure may
    /// score and still link.
    pub anchor_margin: f32,
    /// How far below the threshold two claims about a shared name may
    /// score and still conflict when their figures differ.
    pub conflict_margin: f32,
    /// How far above the threshold a claim of a sentence pair that does
    /// not pass as wholes must score to link without a shared rare figure.
    /// In a corpus about one event, short clauses on the topic ("the
    /// partnership between Russia and North Korea") pass the sentence
    /// threshold with one another everywhere; a claim restated elsewhere
    /// either shares its figure or reads far closer.
    pub claim_margin: f32,
    /// An anchor is rare when at most this share of the sentences hold it …
    pub rare_share: f32,
    /// … or at most this many (small corpora), and never more than
    /// `rare_most` (so a frequent anchor proposes a bounded number of pairs).
    pub rare_least: usize,
    pub rare_most: usize,
}

impl Default for ClaimSettings {
    fn default() -> Self {
        ClaimSettings {
            enabled: true,
            anchor_margin: 0.15,
            conflict_margin: 0.25,
            claim_margin: 1.0,
            rare_share: 0.02,
            rare_least: 10,
            rare_most: 64,
        }
    }
}

/// Figures that disagree between two claims of a matched sentence pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    /// The two claims, byte offsets in their documents.
    pub a: (usize, usize),
    pub b: (usize, usize),
    /// Each claim's figures of the disputed kind, as written.
    pub figures_a: Vec<String>,
    pub figures_b: Vec<String>,
}

/// The best claim match inside a sentence pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimMatch {
    /// Sentence units (indices into the units searched).
    pub a: usize,
    pub b: usize,
    /// The matching claims, byte offsets in the documents (the whole
    /// sentences when they match best as wholes).
    pub claim_a: (usize, usize),
    pub claim_b: (usize, usize),
    pub cosine: f32,
    pub lexical: f32,
    pub score: f32,
    /// Linked through a shared rare anchor below the threshold.
    pub anchored: bool,
    pub kind: Kind,
    pub conflict: Option<Conflict>,
}

/// A sentence's claims: the sentence itself first, then its pieces.
/// Each piece's words, anchors and figure keys are worked out once here,
/// not again for every piece of every sentence it is compared with.
struct Pieces {
    /// Byte ranges in the sentence's text.
    ranges: Vec<Range<usize>>,
    words: Vec<Vec<align::Word>>,
    anchors: Vec<Anchors>,
    figure_keys: Vec<Vec<String>>,
}

impl Pieces {
    fn of(text: &str) -> Pieces {
        let ranges: Vec<Range<usize>> = std::iter::once(0..text.len()).chain(claims::cut(text)).collect();
        let words = ranges.iter().map(|r| align::words(&text[r.clone()])).collect();
        let anchors: Vec<Anchors> = ranges.iter().map(|r| Anchors::of(&text[r.clone()])).collect();
        let figure_keys = anchors.iter().map(Anchors::figure_keys).collect();
        Pieces { ranges, words, anchors, figure_keys }
    }
}

/// One claim of sentence a against one of sentence b (pieces `ki`, `kj`).
#[derive(Clone, Copy)]
struct Scored {
    score: f32,
    cosine: f32,
    lexical: f32,
    shared_rare: bool,
    ki: usize,
    kj: usize,
}

/// Keys of anchors held by few units, and the units holding each.
pub fn rare_anchors(texts: &[&str], skip: &[bool], settings: &ClaimSettings) -> HashMap<String, Vec<usize>> {
    let mut holders: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, t) in texts.iter().enumerate() {
        if skip[i] {
            continue;
        }
        for key in Anchors::of(t).figure_keys() {
            holders.entry(key).or_default().push(i);
        }
    }
    let limit = ((settings.rare_share * texts.len() as f32) as usize).max(settings.rare_least).min(settings.rare_most);
    holders.retain(|_, v| v.len() >= 2 && v.len() <= limit);
    holders
}

/// Cross-document pairs of units sharing a rare anchor, `(low, high)`, sorted.
pub fn anchor_pairs(units: &[Unit], rare: &HashMap<String, Vec<usize>>) -> Vec<(usize, usize)> {
    let mut out: HashSet<(usize, usize)> = HashSet::new();
    for holders in rare.values() {
        for (x, &i) in holders.iter().enumerate() {
            for &j in &holders[x + 1..] {
                if units[i].doc != units[j].doc {
                    out.insert((i.min(j), i.max(j)));
                }
            }
        }
    }
    let mut out: Vec<(usize, usize)> = out.into_iter().collect();
    out.sort_unstable();
    out
}

/// Scores the claims inside each proposed sentence pair. `passed` pairs
/// (already linked as wholes) stay linked, with their best claim match and
/// any conflict; `proposed` pairs link only through their claims. Returns
/// the linked pairs and how many claim texts were embedded.
#[allow(clippy::too_many_arguments)]
pub fn refine(
    units: &[Unit],
    texts: &[&str],
    rows: ArrayView2<f32>,
    passed: &[(usize, usize)],
    proposed: &[(usize, usize)],
    decision: &Decision,
    settings: &ClaimSettings,
    rare: &HashMap<String, Vec<usize>>,
    cache: &mut SentenceVectors,
    embedder: &dyn Embedder,
    progress: &mut dyn FnMut(usize),
) -> Result<(Vec<ClaimMatch>, usize), EmbedError> {
    let mut involved: Vec<usize> = passed.iter().chain(proposed).flat_map(|&(a, b)| [a, b]).collect();
    involved.sort_unstable();
    involved.dedup();
    let pieces: HashMap<usize, Pieces> = involved.iter().map(|&i| (i, Pieces::of(texts[i]))).collect();
    let piece_text = |i: usize, k: usize| &texts[i][pieces[&i].ranges[k].clone()];
    let mut needed: Vec<&str> = Vec::new();
    for &i in &involved {
        needed.extend((1..pieces[&i].ranges.len()).map(|k| piece_text(i, k)));
    }
    let embedded = cache.embed_missing(embedder, &needed, progress)?;
    let rare_keys: HashSet<&str> = rare.keys().map(String::as_str).collect();
    let low = decision.threshold - settings.anchor_margin;

    let vector = |i: usize, k: usize| -> &[f32] {
        if k == 0 {
            row(&rows, i)
        } else {
            cache.get(piece_text(i, k))
        }
    };
    let high = decision.threshold + settings.claim_margin;
    let close = decision.threshold - settings.conflict_margin;
    let passes = |s: &Scored| s.score >= high || (s.shared_rare && s.score >= low);
    let span = |u: usize, k: usize| {
        let r = &pieces[&u].ranges[k];
        (units[u].start + r.start, units[u].start + r.end)
    };
    let mut out = Vec::new();
    let all = passed.iter().map(|&p| (p, true)).chain(proposed.iter().map(|&p| (p, false)));
    for ((i, j), linked_whole) in all {
        let (pi, pj) = (&pieces[&i], &pieces[&j]);
        let across = align::scripts_differ(crate::text::script(texts[i]), crate::text::script(texts[j]));
        let mut scored = Vec::with_capacity(pi.ranges.len() * pj.ranges.len());
        for ki in 0..pi.ranges.len() {
            for kj in 0..pj.ranges.len() {
                let cosine = dot(vector(i, ki), vector(j, kj));
                let lex = (!across).then(|| align::lexical_words(&pi.words[ki], &pj.words[kj]));
                let shared_rare =
                    pi.figure_keys[ki].iter().any(|k| rare_keys.contains(k.as_str()) && pj.figure_keys[kj].contains(k));
                let score = decision.score_across(cosine, lex);
                scored.push(Scored { score, cosine, lexical: lex.unwrap_or(0.0), shared_rare, ki, kj });
            }
        }
        // Claims close enough to be about the same thing that give
        // different figures: a conflict, whether or not the pair links.
        let disputed = scored
            .iter()
            .filter(|s| s.score >= close)
            .filter_map(|s| {
                conflict_between(&pi.anchors[s.ki], &pj.anchors[s.kj], &pi.anchors[0], &pj.anchors[0]).map(|f| (s, f))
            })
            .max_by(|(x, _), (y, _)| x.score.total_cmp(&y.score));
        // The best passing match; for a pair linked as wholes, the best of
        // all; for a conflict that links nothing else, the disputed claims.
        let best = scored
            .iter()
            .filter(|s| linked_whole || passes(s))
            .max_by(|x, y| x.score.total_cmp(&y.score).then_with(|| (y.ki, y.kj).cmp(&(x.ki, x.kj))))
            .or(disputed.as_ref().map(|(s, _)| *s));
        let Some(&best) = best else { continue };
        let (ki, kj) = (best.ki, best.kj);
        let anchored = !linked_whole && best.score < high && best.shared_rare;
        let conflict = disputed.map(|(s, (fa, fb))| Conflict {
            a: span(i, s.ki),
            b: span(j, s.kj),
            figures_a: fa.iter().map(|f| written(piece_text(i, s.ki), f)).collect(),
            figures_b: fb.iter().map(|f| written(piece_text(j, s.kj), f)).collect(),
        });
        let kind = if conflict.is_some() {
            Kind::Conflict
        } else if across {
            Kind::CrossLanguage
        } else {
            align::kind(&pi.words[ki], &pj.words[kj])
        };
        out.push(ClaimMatch {
            a: i,
            b: j,
            claim_a: span(i, ki),
            claim_b: span(j, kj),
            cosine: best.cosine,
            lexical: best.lexical,
            score: best.score,
            anchored,
            kind,
            conflict,
        });
    }
    Ok((out, embedded))
}

fn written(text: &str, f: &Figure) -> String {
    text[f.span.clone()].to_string()
}

/// The disputed figures of two claims (see the module doc), given the
/// anchors of their whole sentences.
fn conflict_between<'a>(
    a: &'a Anchors,
    b: &'a Anchors,
    sentence_a: &Anchors,
    sentence_b: &Anchors,
) -> Option<(Vec<&'a Figure>, Vec<&'a Figure>)> {
    if !(a.shares_name(b) || sentence_a.shares_name(sentence_b)) {
        return None;
    }
    // In a fixed order (a set's iteration order would pick another kind
    // run to run when a claim gives two, as "540bn yen ($5.2bn)").
    let kinds: std::collections::BTreeSet<_> = a.quantities().map(|f| (f.kind, f.unit)).collect();
    for (kind, unit) in kinds {
        let fa: Vec<&Figure> = a.quantities().filter(|f| (f.kind, f.unit) == (kind, unit)).collect();
        let fb: Vec<&Figure> = b.quantities().filter(|f| (f.kind, f.unit) == (kind, unit)).collect();
        if fb.is_empty() || fa.iter().any(|f| fb.iter().any(|g| f.agrees(g))) {
            continue;
        }
        // Reports of one quantity that disagree stay within a factor of
        // ten; an army of 1,280,000 against 3,000 deployed are two things.
        let (lo, hi) = fa.iter().chain(&fb).fold((f64::MAX, 0f64), |(lo, hi), f| (lo.min(f.value), hi.max(f.value)));
        if lo <= 0.0 || hi > 10.0 * lo {
            continue;
        }
        let a_told_in_b = fa.iter().all(|f| sentence_b.has_figure(f));
        let b_told_in_a = fb.iter().all(|f| sentence_a.has_figure(f));
        if !(a_told_in_b && b_told_in_a) {
            return Some((fa, fb));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_figures_for_the_same_thing_conflict() {
        let a = Anchors::of("approximately 3,000 North Korean soldiers have been deployed");
        let b = Anchors::of("approximately 10,000 North Korean troops are being deployed");
        let (fa, fb) = conflict_between(&a, &b, &a, &b).expect("3,000 against 10,000");
        assert_eq!((fa[0].value, fb[0].value), (3000.0, 10000.0));
        // The same figure, however written, is agreement.
        let c = Anchors::of("ten thousand North Korean troops are being deployed");
        assert!(conflict_between(&b, &c, &b, &c).is_none());
        // Both sentences tell both figures: they agree on each.
        let whole_a = Anchors::of("3,000 North Korean troops are there and 10,000 more will come");
        let whole_b = Anchors::of("North Korean troops: 3,000 deployed, 10,000 expected");
        let claim_a = Anchors::of("3,000 North Korean troops are there");
        let claim_b = Anchors::of("North Korean troops 10,000 expected");
        assert!(conflict_between(&claim_a, &claim_b, &whole_a, &whole_b).is_none());
        // No shared name: not about the same thing.
        let d = Anchors::of("approximately 10,000 Chinese tourists are expected");
        assert!(conflict_between(&a, &d, &a, &d).is_none());
        // Years differ without conflict.
        let e = Anchors::of("North Korean troops arrived in 2023");
        let f = Anchors::of("North Korean troops arrived in 2024");
        assert!(conflict_between(&e, &f, &e, &f).is_none());
    }

    #[test]
    fn rare_anchors_are_few_and_cross_documents() {
        let texts = [
            "Kursk saw 10,000 troops arrive",
            "About ten thousand troops reached Kursk",
            "Ten thousand troops, said Kursk officials",
            "Rice prices rose in Seoul",
        ];
        let units: Vec<Unit> = [0, 1, 1, 2]
            .iter()
            .enumerate()
            .map(|(i, &doc)| Unit { doc, passage: i, start: 0, end: texts[i].len() })
            .collect();
        let settings = ClaimSettings::default();
        let rare = rare_anchors(&texts, &[false; 4], &settings);
        assert!(rare.contains_key(&Anchors::of("10,000").figures[0].key()), "{rare:?}");
        assert!(!rare.keys().any(|k| k.starts_with("name:")), "names are not linking anchors");
        let pairs = anchor_pairs(&units, &rare);
        // Units 1 and 2 share a document: never paired.
        assert_eq!(pairs, vec![(0, 1), (0, 2)]);
        // At most two holders: 10,000 (three) is no longer rare.
        let tight = ClaimSettings { rare_least: 2, rare_share: 0.0, rare_most: 2, ..settings };
        assert!(rare_anchors(&texts, &[false; 4], &tight).is_empty());
    }
}
