//! Overlaps: pairs of passages (or sentences) from different documents
//! that say the same thing, and the echo groups they form.
//!
//! This module owns the overlap decision and everything around it:
//!
//! - **The decision** (`Decision`): a pair overlaps when
//!   `(1 − w)·cosine + w·lexical ≥ threshold`, where `lexical` is the share
//!   of the shorter text's content words found in the other (`align::lexical`). The
//!   cosine says "same meaning"; shared wording separates a restated claim
//!   from a merely related sentence on the same topic. Both constants were
//!   calibrated on STS-B dev (see `DEFAULT_THRESHOLD`).
//! - **Candidates** come from nearest-neighbour lists (the HNSW k-NN graph),
//!   never from all pairs: no pair whose cosine is below
//!   `Decision::cosine_floor` can pass, so a unit's list is widened (k
//!   doubled) until its last neighbour falls below that floor. `Route::AllPairs`
//!   scores all pairs instead, to check the k-NN route.
//! - **Boilerplate**: a unit with near-verbatim copies in many documents that
//!   is unrelated to the rest of its own document ("Comments are closed.",
//!   bylines, "Source link") is flagged and left out unless kept.
//! - **Echo groups**: communities of the overlap graph (Louvain), so that a
//!   chain of loosely related pairs does not join everything into one group.
//! - **Order**: every list is sorted by score, then by document and offset,
//!   so the same input always gives the same output.
//!
//! Inputs are plain: units with document, passage and byte offsets, their
//! texts, a row-major matrix of unit vectors, and a neighbour function.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

pub mod align;
pub mod anchors;
pub mod claims;
pub mod decision;

use ndarray::ArrayView2;

use crate::corpus::sentences::{lend_passage_vectors, passage_sentences, SentenceVectors};
pub use crate::corpus::Unit;
use crate::corpus::{Corpus, UnitKind, Units};
use crate::embed::{EmbedError, Embedder};
use crate::index::Neighbours;
use crate::matrix::{dot, row};
use align::Kind;
pub use decision::{
    save_model_decision, Calibrated, Decision, OverlapError, DEFAULT_LEXICAL_WEIGHT, DEFAULT_THRESHOLD,
    MODEL_DECISION_FILE,
};

/// Cosine from which two units count as near-verbatim copies when looking
/// for boilerplate (together with a non-paraphrase `align::Kind`).
const COPY_COSINE: f32 = 0.9;

/// Settings of a search for overlaps.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub decision: Decision,
    /// Neighbours asked for per unit at first (widened while still above
    /// the cosine floor).
    pub k: usize,
    /// Most neighbours asked for per unit.
    pub max_k: usize,
    /// Units with fewer content words make no claim and are skipped.
    pub min_content_words: usize,
    /// Near-verbatim copies in at least this many documents (its own
    /// counted) make a unit a boilerplate suspect.
    pub boilerplate_docs: usize,
    /// A suspect is boilerplate when its cosine to the rest of its own
    /// document is below this ("says nothing" about it).
    pub boilerplate_relevance: f32,
    pub keep_boilerplate: bool,
    /// Matching inside sentences (sentence units only).
    pub claims: claims::ClaimSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            decision: Decision::default(),
            k: 16,
            max_k: 512,
            min_content_words: 3,
            boilerplate_docs: 3,
            boilerplate_relevance: 0.3,
            keep_boilerplate: false,
            claims: claims::ClaimSettings::default(),
        }
    }
}

/// Where candidate pairs come from.
#[derive(Clone, Copy)]
pub enum Route<'a> {
    /// The unit set's k-NN graph (built over the units with enough content
    /// words), widened per unit while its neighbours stay above the floor.
    Graph(&'a Neighbours),
    /// Every pair of units from different documents (for checking).
    AllPairs,
}

/// Two units that overlap; `a` comes before `b` in (document, offset) order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pair {
    pub a: usize,
    pub b: usize,
    pub cosine: f32,
    pub lexical: f32,
    pub score: f32,
}

/// A unit left out as boilerplate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Boilerplate {
    pub unit: usize,
    /// Documents holding a near-verbatim copy, its own included.
    pub documents: usize,
    /// Cosine to the rest of its own document.
    pub relevance: f32,
}

/// What a search found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Found {
    /// Overlapping pairs, strongest first.
    pub pairs: Vec<Pair>,
    pub boilerplate: Vec<Boilerplate>,
    /// Pairs of units from different documents above the cosine floor.
    pub candidates: usize,
    /// Units skipped for having too few content words, or for being
    /// titles (`text::is_title`).
    pub too_short: usize,
    /// Units whose neighbour list reached `max_k` while still above the
    /// floor (their candidates may be incomplete).
    pub capped: usize,
    /// Candidates above the floor that did not pass, `(low, high)` (kept
    /// only with `Settings::claims` enabled, for matching their claims).
    pub near: Vec<(usize, usize)>,
    /// Whether each unit is left out (too short or boilerplate).
    #[serde(skip)]
    pub left_out: Vec<bool>,
}

/// Content words as sorted interned stems, for a fast `align::lexical`,
/// and each text's script.
struct Bags {
    bags: Vec<Vec<u32>>,
    scripts: Vec<Option<align::Script>>,
}

impl Bags {
    fn new(texts: &[&str]) -> Bags {
        let mut ids: HashMap<String, u32> = HashMap::new();
        let bags = texts
            .iter()
            .map(|t| {
                let mut bag: Vec<u32> = align::words(t)
                    .into_iter()
                    .filter(|w| w.content)
                    .map(|w| {
                        let next = ids.len() as u32;
                        *ids.entry(w.stem).or_insert(next)
                    })
                    .collect();
                bag.sort_unstable();
                bag
            })
            .collect();
        let scripts = texts.iter().map(|t| crate::text::script(t)).collect();
        Bags { bags, scripts }
    }

    /// `lexical`, or None across scripts (`Decision::score_across`).
    fn lexical_across(&self, i: usize, j: usize) -> Option<f32> {
        (!align::scripts_differ(self.scripts[i], self.scripts[j])).then(|| self.lexical(i, j))
    }

    /// The same value as `align::lexical` on the two texts.
    fn lexical(&self, i: usize, j: usize) -> f32 {
        let (a, b) = (&self.bags[i], &self.bags[j]);
        if a.is_empty() || b.is_empty() {
            return 0.0;
        }
        let (mut x, mut y, mut shared) = (0, 0, 0);
        while x < a.len() && y < b.len() {
            match a[x].cmp(&b[y]) {
                std::cmp::Ordering::Less => x += 1,
                std::cmp::Ordering::Greater => y += 1,
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    x += 1;
                    y += 1;
                }
            }
        }
        shared as f32 / a.len().min(b.len()) as f32
    }
}

/// Finds every pair of units from different documents that the decision
/// accepts, through `route`.
pub fn find(
    units: &[Unit],
    texts: &[&str],
    rows: ArrayView2<f32>,
    route: Route,
    settings: &Settings,
) -> Result<Found, OverlapError> {
    settings.decision.check()?;
    if units.len() != rows.nrows() || texts.len() != units.len() {
        return Err(OverlapError::Mismatch { units: units.len(), rows: rows.nrows() });
    }
    let n = units.len();
    let bags = Bags::new(texts);
    // A title ("Russia’s Strategic Goals") names a topic and claims nothing.
    let short: Vec<bool> = bags
        .bags
        .iter()
        .zip(texts)
        .map(|(b, t)| b.len() < settings.min_content_words || crate::text::is_title(t))
        .collect();
    let floor = settings.decision.cosine_floor();

    let mut found = Found { too_short: short.iter().filter(|&&s| s).count(), ..Default::default() };
    let mut candidates: Vec<(usize, usize, f32)> = Vec::new();
    match route {
        Route::AllPairs => {
            for i in 0..n {
                if short[i] {
                    continue;
                }
                for j in i + 1..n {
                    if short[j] || units[i].doc == units[j].doc {
                        continue;
                    }
                    let cos = dot(row(&rows, i), row(&rows, j));
                    if cos >= floor {
                        candidates.push((i, j, cos));
                    }
                }
            }
        }
        Route::Graph(graph) => {
            let mut seen: HashSet<(usize, usize)> = HashSet::new();
            for i in 0..n {
                if short[i] {
                    continue;
                }
                // Units outside the graph have too few content words for it.
                let Some(local) = graph.local(i) else { continue };
                let mut k = settings.k.max(1);
                let hits = loop {
                    let hits = graph.nearest(local, k);
                    let exhausted = hits.len() < k;
                    let below = hits.last().is_some_and(|h| h.1 < floor);
                    if exhausted || below || k >= settings.max_k {
                        if !exhausted && !below {
                            found.capped += 1;
                        }
                        break hits;
                    }
                    k = (k * 2).min(settings.max_k);
                };
                for (j, cos) in hits {
                    if j == i || j >= n || short[j] || units[i].doc == units[j].doc || cos < floor {
                        continue;
                    }
                    let key = (i.min(j), i.max(j));
                    if seen.insert(key) {
                        // The cosine is recomputed so both routes score a
                        // pair identically, whichever side found it.
                        candidates.push((key.0, key.1, dot(row(&rows, key.0), row(&rows, key.1))));
                    }
                }
            }
            candidates.sort_by_key(|x| (x.0, x.1));
        }
    }
    found.candidates = candidates.len();

    let flagged = boilerplate(units, texts, rows, &candidates, settings);
    let is_boilerplate: HashSet<usize> =
        if settings.keep_boilerplate { HashSet::new() } else { flagged.iter().map(|b| b.unit).collect() };
    found.boilerplate = flagged;

    for &(i, j, cos) in &candidates {
        if is_boilerplate.contains(&i) || is_boilerplate.contains(&j) {
            continue;
        }
        let lex = bags.lexical_across(i, j);
        let score = settings.decision.score_across(cos, lex);
        let lex = lex.unwrap_or(0.0);
        if score >= settings.decision.threshold {
            let (a, b) = if (units[i].doc, units[i].start) <= (units[j].doc, units[j].start) { (i, j) } else { (j, i) };
            found.pairs.push(Pair { a, b, cosine: cos, lexical: lex, score });
        } else if settings.claims.enabled {
            found.near.push((i, j));
        }
    }
    found.left_out = (0..n).map(|i| short[i] || is_boilerplate.contains(&i)).collect();
    sort_pairs(&mut found.pairs, units);
    Ok(found)
}

/// Strongest first; ties by document and offset of `a`, then of `b`.
pub fn sort_pairs(pairs: &mut [Pair], units: &[Unit]) {
    let key = |p: &Pair| (units[p.a].doc, units[p.a].start, units[p.b].doc, units[p.b].start);
    pairs.sort_by(|x, y| y.score.total_cmp(&x.score).then_with(|| key(x).cmp(&key(y))));
}

/// Units with near-verbatim copies in at least `boilerplate_docs` documents
/// (by identical normalised words, or a candidate pair with cosine ≥ 0.9
/// that `align::kind` does not call a paraphrase) whose cosine to the rest
/// of their own document is below `boilerplate_relevance`.
pub fn boilerplate(
    units: &[Unit],
    texts: &[&str],
    rows: ArrayView2<f32>,
    candidates: &[(usize, usize, f32)],
    settings: &Settings,
) -> Vec<Boilerplate> {
    let n = units.len();
    let mut docs_of: Vec<HashSet<usize>> = units.iter().map(|u| HashSet::from([u.doc])).collect();
    // Identical texts, whatever the neighbour lists hold.
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, t) in texts.iter().enumerate() {
        let key: Vec<String> = align::words(t).into_iter().map(|w| w.norm).collect();
        if !key.is_empty() {
            by_key.entry(key.join(" ")).or_default().push(i);
        }
    }
    for same in by_key.values().filter(|v| v.len() > 1) {
        let docs: HashSet<usize> = same.iter().map(|&i| units[i].doc).collect();
        for &i in same {
            docs_of[i].extend(&docs);
        }
    }
    for &(i, j, cos) in candidates {
        if cos >= COPY_COSINE
            && matches!(
                align::kind(&align::words(texts[i]), &align::words(texts[j])),
                Kind::NearVerbatim | Kind::Verbatim
            )
        {
            let (di, dj) = (units[i].doc, units[j].doc);
            docs_of[i].insert(dj);
            docs_of[j].insert(di);
        }
    }
    let suspects: Vec<usize> = (0..n).filter(|&i| docs_of[i].len() >= settings.boilerplate_docs.max(2)).collect();
    if suspects.is_empty() {
        return Vec::new();
    }
    // Each document's vector sum, to measure a unit against the rest of it.
    let mut sums: HashMap<usize, Vec<f32>> = HashMap::new();
    for (i, u) in units.iter().enumerate() {
        let s = sums.entry(u.doc).or_insert_with(|| vec![0.0; rows.ncols()]);
        for (x, v) in s.iter_mut().zip(row(&rows, i)) {
            *x += v;
        }
    }
    let mut out = Vec::new();
    for i in suspects {
        let v = row(&rows, i);
        let rest: Vec<f32> = sums[&units[i].doc].iter().zip(v).map(|(s, x)| s - x).collect();
        let norm = dot(&rest, &rest).sqrt();
        // A unit alone in its document has nothing to be unrelated to.
        let relevance = if norm < 1e-6 { 1.0 } else { dot(v, &rest) / norm };
        if relevance < settings.boilerplate_relevance {
            out.push(Boilerplate { unit: i, documents: docs_of[i].len(), relevance });
        }
    }
    out
}

/// An echo group: passages that restate one another's claims, its nodes
/// (sorted) and the indices of the pairs inside it (in pair order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub members: Vec<usize>,
    pub pairs: Vec<usize>,
}

/// Echo groups over nodes `0..n` joined by weighted `edges` (given
/// strongest first): the communities of the overlap graph, ordered by their
/// strongest edge. Nodes without an edge form no group.
///
/// Communities, not connected components: in a corpus about one event,
/// A restates B's claim, B shares another claim with C, C with D, and the
/// components chain most passages into one group that says nothing (the
/// seeds at the default threshold: one component of 47 of 79 passages).
/// Louvain modularity (resolution 1, fixed seed, so deterministic) keeps
/// groups whose members overlap mostly with each other; a community that
/// Louvain leaves disconnected is split. Pairs between two groups belong
/// to neither (`between_groups` lists them).
pub fn echo_groups(n: usize, edges: &[(usize, usize, f32)]) -> Vec<Group> {
    let entries: Vec<(u32, u32, f64)> =
        edges.iter().flat_map(|&(a, b, w)| [(a as u32, b as u32, w as f64), (b as u32, a as u32, w as f64)]).collect();
    let graph = crate::themes::cluster::Graph::from_entries(n, entries);
    let community = crate::themes::cluster::louvain(&graph, 1.0, 0);
    let mut index: HashMap<usize, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for (e, &(a, b, _)) in edges.iter().enumerate() {
        if community[a] != community[b] {
            continue;
        }
        let g = *index.entry(community[a]).or_insert_with(|| {
            groups.push(Group { members: Vec::new(), pairs: Vec::new() });
            groups.len() - 1
        });
        groups[g].pairs.push(e);
    }
    for group in &mut groups {
        let mut members: Vec<usize> = group.pairs.iter().flat_map(|&e| [edges[e].0, edges[e].1]).collect();
        members.sort_unstable();
        members.dedup();
        group.members = members;
    }
    groups
}

/// Indices of the edges that lie inside no group (in edge order).
pub fn between_groups(edge_count: usize, groups: &[Group]) -> Vec<usize> {
    let mut inside = vec![false; edge_count];
    for e in groups.iter().flat_map(|g| &g.pairs) {
        inside[*e] = true;
    }
    (0..edge_count).filter(|&e| !inside[e]).collect()
}

/// A matched sentence pair inside an overlap, offsets in the documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentenceOverlap {
    pub a: (usize, usize),
    pub b: (usize, usize),
    pub cosine: f32,
    pub lexical: f32,
    pub score: f32,
    pub kind: Kind,
    /// The claims that match inside the two sentences, offsets in the
    /// documents (the sentences themselves when they match best whole).
    pub claim_a: (usize, usize),
    pub claim_b: (usize, usize),
    /// Linked through a rare figure or name both claims give, below the
    /// threshold (`claims::ClaimSettings::anchor_margin`).
    pub anchored: bool,
    /// Figures that disagree inside this sentence pair.
    pub conflict: Option<claims::Conflict>,
}

impl SentenceOverlap {
    /// A match of two whole sentences.
    pub fn whole(a: (usize, usize), b: (usize, usize), cosine: f32, lexical: f32, score: f32, kind: Kind) -> Self {
        SentenceOverlap { a, b, cosine, lexical, score, kind, claim_a: a, claim_b: b, anchored: false, conflict: None }
    }

    /// The same match seen from the other side.
    fn flipped(self) -> Self {
        let conflict =
            self.conflict.map(|c| claims::Conflict { a: c.b, b: c.a, figures_a: c.figures_b, figures_b: c.figures_a });
        SentenceOverlap { a: self.b, b: self.a, claim_a: self.claim_b, claim_b: self.claim_a, conflict, ..self }
    }
}

/// An overlap between two passages (indices into the caller's passage
/// list, `a` first in document order), with the sentences that match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    pub a: usize,
    pub b: usize,
    pub cosine: f32,
    pub lexical: f32,
    pub score: f32,
    /// The most literal kind among its sentence matches.
    pub kind: Kind,
    pub sentences: Vec<SentenceOverlap>,
}

/// Sentence-level pairs (units are sentences) gathered by passage pair:
/// one overlap per pair of passages, its score the best of its sentences,
/// its sentences strongest first.
pub fn overlaps_from_sentences(pairs: &[Pair], units: &[Unit], texts: &[&str]) -> Vec<Overlap> {
    let matches = pairs.iter().map(|p| {
        let (ua, ub) = (&units[p.a], &units[p.b]);
        let kind = align::kind(&align::words(texts[p.a]), &align::words(texts[p.b]));
        (p.a, p.b, SentenceOverlap::whole((ua.start, ua.end), (ub.start, ub.end), p.cosine, p.lexical, p.score, kind))
    });
    gather_by_passages(matches.collect(), units)
}

/// Claim matches inside sentence pairs (`claims::refine`) gathered by
/// passage pair, as `overlaps_from_sentences` does.
pub fn overlaps_from_claims(matches: &[claims::ClaimMatch], units: &[Unit]) -> Vec<Overlap> {
    let all = matches.iter().map(|m| {
        let (ua, ub) = (&units[m.a], &units[m.b]);
        let s = SentenceOverlap {
            a: (ua.start, ua.end),
            b: (ub.start, ub.end),
            cosine: m.cosine,
            lexical: m.lexical,
            score: m.score,
            kind: m.kind,
            claim_a: m.claim_a,
            claim_b: m.claim_b,
            anchored: m.anchored,
            conflict: m.conflict.clone(),
        };
        (m.a, m.b, s)
    });
    gather_by_passages(all.collect(), units)
}

/// Sentence matches `(unit a, unit b, match)` gathered by passage pair.
fn gather_by_passages(matches: Vec<(usize, usize, SentenceOverlap)>, units: &[Unit]) -> Vec<Overlap> {
    let mut by_passages: HashMap<(usize, usize), Vec<SentenceOverlap>> = HashMap::new();
    for (a, b, s) in matches {
        let (ua, ub) = (&units[a], &units[b]);
        let (key, s) = if ua.passage <= ub.passage {
            ((ua.passage, ub.passage), s)
        } else {
            ((ub.passage, ua.passage), s.flipped())
        };
        by_passages.entry(key).or_default().push(s);
    }
    let mut out: Vec<Overlap> = by_passages
        .into_iter()
        .map(|((a, b), mut sentences)| {
            sentences.sort_by(|x, y| y.score.total_cmp(&x.score).then_with(|| (x.a, x.b).cmp(&(y.a, y.b))));
            let best = &sentences[0];
            Overlap {
                a,
                b,
                cosine: best.cosine,
                lexical: best.lexical,
                score: best.score,
                kind: sentences.iter().map(|s| s.kind).max().expect("not empty"),
                sentences,
            }
        })
        .collect();
    sort_overlaps(&mut out);
    out
}

/// Strongest first; ties by passage indices (which follow document order).
pub fn sort_overlaps(overlaps: &mut [Overlap]) {
    overlaps.sort_by(|x, y| y.score.total_cmp(&x.score).then_with(|| (x.a, x.b).cmp(&(y.a, y.b))));
}

/// Echo groups of passage overlaps (sorted with `sort_overlaps`).
pub fn passage_groups(n_passages: usize, overlaps: &[Overlap]) -> Vec<Group> {
    let edges: Vec<(usize, usize, f32)> = overlaps.iter().map(|o| (o.a, o.b, o.score)).collect();
    echo_groups(n_passages, &edges)
}

/// Overlaps of a corpus, ready to report: passage pairs with their aligned
/// sentences, echo groups, and what the search left out.
#[derive(Debug, Clone)]
pub struct Echoes {
    /// Passage pairs (indices into the corpus's passages), strongest first.
    pub overlaps: Vec<Overlap>,
    /// Echo groups over the passages; `pairs` index `overlaps`.
    pub groups: Vec<Group>,
    /// Units left out as boilerplate (indices into the units searched).
    pub boilerplate: Vec<Boilerplate>,
    /// Cross-document unit pairs above the cosine floor.
    pub candidates: usize,
    /// Units with too few content words to pair.
    pub too_short: usize,
    /// Units whose neighbour list reached `max_k` still above the floor.
    pub capped: usize,
    /// Sentences embedded to align passage pairs (0 when the corpus knew
    /// them all, as an index's stored sentences), or, for sentence units,
    /// the claims embedded to match inside sentence pairs.
    pub sentences_embedded: usize,
}

/// Finds the overlaps among `units` of `corpus` (find, then align inside
/// each passage pair, sort, group). Sentence units are gathered by passage
/// pair; passage units get their sentences aligned, which embeds the
/// sentences not already known (`Corpus::sentences`; a one-sentence
/// passage lends its vector).
pub fn find_echoes(
    corpus: &Corpus,
    units: &Units,
    route: Route,
    settings: &Settings,
    embedder: &dyn Embedder,
    progress: &mut dyn FnMut(usize),
) -> Result<Echoes, OverlapError> {
    let texts = units.text_refs();
    let found = find(&units.list, &texts, units.view(), route, settings)?;
    let (mut overlaps, sentences_embedded) = match units.kind {
        UnitKind::Sentence if settings.claims.enabled => {
            let mut cache = SentenceVectors::over(&corpus.sentences);
            let (matches, embedded) = claim_matches(units, &found, settings, &mut cache, embedder, progress)?;
            (overlaps_from_claims(&matches, &units.list), embedded)
        }
        UnitKind::Sentence => (overlaps_from_sentences(&found.pairs, &units.list, &texts), 0),
        UnitKind::Passage => align_passage_pairs(corpus, &found.pairs, &settings.decision, embedder, progress)?,
    };
    sort_overlaps(&mut overlaps);
    let groups = passage_groups(corpus.passages.len(), &overlaps);
    Ok(Echoes {
        overlaps,
        groups,
        boilerplate: found.boilerplate,
        candidates: found.candidates,
        too_short: found.too_short,
        capped: found.capped,
        sentences_embedded,
    })
}

/// The claim matches among sentence `units` (`claims::refine`): the pairs
/// `find` passed, those it left just below the threshold (`Found::near`)
/// and those sharing a rare figure, their claims embedded through `cache`.
/// Also returns how many claim texts were embedded.
pub fn claim_matches(
    units: &Units,
    found: &Found,
    settings: &Settings,
    cache: &mut SentenceVectors,
    embedder: &dyn Embedder,
    progress: &mut dyn FnMut(usize),
) -> Result<(Vec<claims::ClaimMatch>, usize), EmbedError> {
    let texts = units.text_refs();
    let rare = claims::rare_anchors(&texts, &found.left_out, &settings.claims);
    let passed: Vec<(usize, usize)> = found.pairs.iter().map(|p| (p.a, p.b)).collect();
    let seen: HashSet<(usize, usize)> =
        passed.iter().map(|&(a, b)| (a.min(b), a.max(b))).chain(found.near.iter().copied()).collect();
    let mut proposed = found.near.clone();
    proposed.extend(claims::anchor_pairs(&units.list, &rare).into_iter().filter(|p| !seen.contains(p)));
    claims::refine(
        &units.list,
        &texts,
        units.view(),
        &passed,
        &proposed,
        &settings.decision,
        &settings.claims,
        &rare,
        cache,
        embedder,
        progress,
    )
}

/// Aligns the sentences inside each overlapping passage pair; also returns
/// how many sentences it had to embed.
fn align_passage_pairs(
    corpus: &Corpus,
    pairs: &[Pair],
    decision: &Decision,
    embedder: &dyn Embedder,
    progress: &mut dyn FnMut(usize),
) -> Result<(Vec<Overlap>, usize), EmbedError> {
    let mut involved: Vec<usize> = pairs.iter().flat_map(|p| [p.a, p.b]).collect();
    involved.sort_unstable();
    involved.dedup();
    let mut cache = SentenceVectors::over(&corpus.sentences);
    lend_passage_vectors(&corpus.passages, corpus.vectors.view(), &mut cache, involved.iter().copied());
    let mut spans: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
    let mut needed: Vec<&str> = Vec::new();
    for &i in &involved {
        let p = &corpus.passages[i];
        let s = passage_sentences(p);
        needed.extend(s.iter().map(|&r| p.slice(r)));
        spans.insert(i, s);
    }
    let embedded = cache.embed_missing(embedder, &needed, progress)?;
    let mut out = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let refs = |i: usize| -> Vec<align::SentenceRef> {
            let p = &corpus.passages[i];
            spans[&i]
                .iter()
                .map(|&r| align::SentenceRef { span: r, text: p.slice(r), vector: cache.get(p.slice(r)) })
                .collect()
        };
        let (a, b) = (refs(pair.a), refs(pair.b));
        let matches = align::align(&a, &b, decision, decision.threshold, true);
        let sentences: Vec<SentenceOverlap> = matches
            .iter()
            .map(|m| SentenceOverlap::whole(a[m.a].span, b[m.b].span, m.cosine, m.lexical, m.score, m.kind))
            .collect();
        let kind = sentences.iter().map(|s| s.kind).max().unwrap_or(Kind::Paraphrase);
        out.push(Overlap {
            a: pair.a,
            b: pair.b,
            cosine: pair.cosine,
            lexical: pair.lexical,
            score: pair.score,
            kind,
            sentences,
        });
    }
    Ok((out, embedded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Route as GraphRoute;
    use crate::matrix::clustered_vectors;
    use ndarray::Array2;

    fn matrix(vs: &[f32], dim: usize) -> Array2<f32> {
        Array2::from_shape_vec((vs.len() / dim, dim), vs.to_vec()).unwrap()
    }

    fn graph(rows: ArrayView2<f32>, k: usize, route: GraphRoute) -> Neighbours {
        Neighbours::build(rows, (0..rows.nrows()).collect(), k, route, &mut |_| {})
    }

    fn unit(doc: usize, passage: usize, start: usize) -> Unit {
        Unit { doc, passage, start, end: start + 10 }
    }

    fn normalised(v: &[f32]) -> Vec<f32> {
        let n = dot(v, v).sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn decision_blends_and_has_a_floor() {
        let d = Decision { threshold: 0.8, lexical_weight: 0.25 };
        assert!((d.score(0.8, 0.8) - 0.8).abs() < 1e-6);
        assert!(d.passes(0.92, 0.5));
        assert!(!d.passes(0.8, 0.2));
        // (0.8 - 0.25) / 0.75
        assert!((d.cosine_floor() - 0.733_333).abs() < 1e-5);
        assert!(d.passes(d.cosine_floor() + 1e-4, 1.0));
        assert!(Decision { threshold: 1.5, lexical_weight: 0.2 }.check().is_err());
        assert!(Decision { threshold: 0.5, lexical_weight: 1.0 }.check().is_err());
    }

    #[test]
    fn groups_are_communities_in_edge_order() {
        let edges = [(5, 6, 0.9), (0, 1, 0.8), (1, 2, 0.8), (7, 8, 0.8), (2, 0, 0.7)];
        let g = echo_groups(10, &edges);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0], Group { members: vec![5, 6], pairs: vec![0] });
        assert_eq!(g[1], Group { members: vec![0, 1, 2], pairs: vec![1, 2, 4] });
        assert_eq!(g[2], Group { members: vec![7, 8], pairs: vec![3] });
        assert!(between_groups(edges.len(), &g).is_empty());
        assert!(echo_groups(3, &[]).is_empty());
    }

    /// Two cliques joined by one edge are two groups, not one chain; the
    /// bridge belongs to neither.
    #[test]
    fn a_bridge_does_not_chain_two_groups() {
        let mut edges = Vec::new();
        for clique in [[0, 1, 2, 3], [4, 5, 6, 7]] {
            for i in 0..4 {
                for j in i + 1..4 {
                    edges.push((clique[i], clique[j], 0.8));
                }
            }
        }
        edges.insert(0, (3, 4, 0.95));
        let g = echo_groups(8, &edges);
        assert_eq!(g.len(), 2, "{g:?}");
        assert_eq!(g[0].members, vec![0, 1, 2, 3]);
        assert_eq!(g[1].members, vec![4, 5, 6, 7]);
        assert_eq!(between_groups(edges.len(), &g), vec![0]);
    }

    #[test]
    fn pairs_cross_documents_and_sort_deterministically() {
        let texts = [
            "North Korea sent ten thousand troops to Russia",
            "About ten thousand North Korean troops went to Russia",
            "North Korea sent ten thousand troops to Russia",
            "Rice harvest figures were published on Monday",
        ];
        let units = [unit(0, 0, 0), unit(1, 1, 0), unit(0, 2, 50), unit(2, 3, 0)];
        let vs: Vec<f32> = [[1.0, 0.0, 0.0], [0.95, 0.3, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
            .iter()
            .flat_map(|v| normalised(v))
            .collect();
        let m = matrix(&vs, 3);
        let rows = m.view();
        let settings = Settings { decision: Decision { threshold: 0.8, lexical_weight: 0.25 }, ..Default::default() };
        let found = find(&units, &texts, rows, Route::AllPairs, &settings).unwrap();
        // Units 0 and 2 share a document: never paired.
        let got: Vec<(usize, usize)> = found.pairs.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(got, vec![(0, 1), (2, 1)]);
        assert!(found.pairs[0].score >= found.pairs[1].score);
        let g = graph(rows, 2, GraphRoute::Exact);
        let again = find(&units, &texts, rows, Route::Graph(&g), &settings).unwrap();
        assert_eq!(again.pairs, found.pairs);
    }

    #[test]
    fn boilerplate_is_repeated_and_unrelated_to_its_document() {
        // Three documents, each two on-topic units and one shared footer.
        let mut texts = Vec::new();
        let mut units = Vec::new();
        let mut vs = Vec::new();
        for d in 0..3 {
            for (k, (t, v)) in [
                ("Troops crossed the border near Kursk overnight", [1.0, 0.1 * d as f32, 0.0, 0.0]),
                ("Officials confirmed more soldiers would arrive", [0.9, 0.0, 0.2, 0.0]),
                ("Comments are closed for this article today", [0.0, 0.0, 0.0, 1.0]),
            ]
            .into_iter()
            .enumerate()
            {
                texts.push(t);
                units.push(unit(d, d * 3 + k, k * 100));
                vs.extend(normalised(&v));
            }
        }
        let m = matrix(&vs, 4);
        let rows = m.view();
        let settings = Settings { decision: Decision { threshold: 0.7, lexical_weight: 0.25 }, ..Default::default() };
        let found = find(&units, &texts, rows, Route::AllPairs, &settings).unwrap();
        let flagged: Vec<usize> = found.boilerplate.iter().map(|b| b.unit).collect();
        assert_eq!(flagged, vec![2, 5, 8]);
        assert!(found.pairs.iter().all(|p| !flagged.contains(&p.a) && !flagged.contains(&p.b)));
        assert!(!found.pairs.is_empty(), "the on-topic copies still overlap");
        let kept =
            find(&units, &texts, rows, Route::AllPairs, &Settings { keep_boilerplate: true, ..settings.clone() })
                .unwrap();
        assert!(kept.pairs.iter().any(|p| p.a == 2 && p.b == 5));
        // Two documents are not "many".
        let found =
            find(&units[..6], &texts[..6], rows.slice(ndarray::s![..6, ..]), Route::AllPairs, &settings).unwrap();
        assert!(found.boilerplate.is_empty());
    }

    /// The graph route (a real HNSW graph) finds at least 99 % of the pairs
    /// that the exact route finds, on clustered vectors where many pairs
    /// pass.
    #[test]
    fn knn_route_recalls_the_exact_route() {
        let (n, dim) = (3000, 64);
        let data = clustered_vectors(n, dim, 150, 0.35, 7);
        let rows = data.view();
        let units: Vec<Unit> = (0..n).map(|i| unit(i % 40, i, 0)).collect();
        let vocab = ["troops", "border", "missile", "rice", "sanctions", "alliance", "artillery", "summit"];
        let texts_owned: Vec<String> = (0..n)
            .map(|i| (0..4).map(|w| vocab[(i * 7 + w * (i % 3 + 1)) % vocab.len()]).collect::<Vec<_>>().join(" "))
            .collect();
        let texts: Vec<&str> = texts_owned.iter().map(|s| s.as_str()).collect();
        let settings = Settings {
            decision: Decision { threshold: 0.75, lexical_weight: 0.25 },
            min_content_words: 1,
            ..Default::default()
        };
        let exact = find(&units, &texts, rows, Route::AllPairs, &settings).unwrap();
        let g = graph(rows, settings.k, GraphRoute::Hnsw);
        let approx = find(&units, &texts, rows, Route::Graph(&g), &settings).unwrap();
        assert!(exact.pairs.len() > 1000, "the test needs many pairs, got {}", exact.pairs.len());
        let got: HashSet<(usize, usize)> = approx.pairs.iter().map(|p| (p.a, p.b)).collect();
        let hit = exact.pairs.iter().filter(|p| got.contains(&(p.a, p.b))).count();
        let recall = hit as f64 / exact.pairs.len() as f64;
        assert!(recall >= 0.99, "k-NN recall {recall} over {} exact pairs", exact.pairs.len());
        assert!(got.len() <= exact.pairs.len());
    }

    #[test]
    fn sentence_pairs_gather_by_passage_pair() {
        let units = [unit(0, 0, 0), unit(0, 0, 20), unit(1, 3, 0), unit(1, 3, 30)];
        let texts = ["alpha beta gamma", "delta epsilon zeta", "alpha beta gamma", "delta epsilon eta"];
        let pairs = [
            Pair { a: 0, b: 2, cosine: 0.99, lexical: 1.0, score: 0.99 },
            Pair { a: 1, b: 3, cosine: 0.8, lexical: 0.66, score: 0.77 },
        ];
        let o = overlaps_from_sentences(&pairs, &units, &texts);
        assert_eq!(o.len(), 1);
        assert_eq!((o[0].a, o[0].b), (0, 3));
        assert_eq!(o[0].sentences.len(), 2);
        assert_eq!(o[0].sentences[0].a, (0, 10));
        assert_eq!(o[0].kind, Kind::Verbatim);
        assert_eq!(passage_groups(4, &o), vec![Group { members: vec![0, 3], pairs: vec![0] }]);
    }
}
