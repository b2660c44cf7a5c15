//! The claim-level overlap decision on labelled sentence pairs: does it
//! link the pairs that state a common claim, leave the rest, and mark
//! different figures for the same thing as conflicts?
//!
//! The set is `tests/fixtures/claims/bbc_claims.tsv` (label `same`,
//! `conflict` or `different`; how it was made and labelled is in its
//! README), or any MRPC-style file (label 1 or 0). Each pair is scored as
//! `overlaps::claims::refine` scores a sentence pair of a corpus: whole
//! sentences first, then every claim of one against every claim of the
//! other. The file's sentences stand for the corpus when deciding which
//! figures are rare (`claims::rare_anchors`, as `motif overlaps` does).
//! Linked counts as positive for `same` and `conflict` (a conflict
//! is the same claim with another figure); conflicts are scored apart; and
//! "equivalent" (linked, not a conflict) against `same` is MRPC's question.

use std::path::Path;

use serde::Serialize;

use super::pairs::{binary_scores, BinaryScores};
use super::EvalError;
use crate::corpus::sentences::SentenceVectors;
use crate::corpus::Unit;
use crate::embed::Embedder;
use crate::matrix::{dot, row};
use crate::overlaps::align::{self, Kind};
use crate::overlaps::claims::{self, ClaimSettings};
use crate::overlaps::Decision;
use crate::pipeline::{stage, Progress};

/// What a labelled pair says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Label {
    Same,
    Conflict,
    Different,
}

#[derive(Debug, Clone)]
pub struct LabelledPair {
    pub label: Label,
    pub a: String,
    pub b: String,
    pub line: usize,
}

/// Reads a claim set (`label<TAB>id_a<TAB>id_b<TAB>sentence_a<TAB>sentence_b<TAB>note`
/// after a header) or an MRPC TSV (`1|0<TAB>sentence1<TAB>sentence2`),
/// told apart by a `sentence_a` column in the header.
pub fn read(path: &Path) -> Result<Vec<LabelledPair>, EvalError> {
    let name = path.display().to_string();
    let text = super::read_file(path)?;
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, h)| h.trim_start_matches('\u{feff}')).unwrap_or("");
    let claim_set = header.split('\t').any(|f| f == "sentence_a");
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| EvalError::Format { path: name.clone(), line: i + 1, message };
        let f: Vec<&str> = line.split('\t').collect();
        let (label, a, b) = if claim_set {
            if f.len() < 5 {
                return Err(bad(format!(
                    "{} fields; a claim set has label, id_a, id_b, sentence_a, sentence_b, note",
                    f.len()
                )));
            }
            let label = match f[0] {
                "same" => Label::Same,
                "conflict" => Label::Conflict,
                "different" => Label::Different,
                other => return Err(bad(format!("label {other:?}: expected same, conflict or different"))),
            };
            (label, f[3], f[4])
        } else {
            if f.len() < 3 {
                return Err(bad(format!("{} fields; expected label, sentence1, sentence2", f.len())));
            }
            let label = match f[0].trim() {
                "1" => Label::Same,
                "0" => Label::Different,
                other => {
                    return Err(bad(format!(
                        "label {other:?}: expected 1 or 0 (or a claim set with a sentence_a column)"
                    )))
                }
            };
            (label, f[1], f[2])
        };
        out.push(LabelledPair { label, a: a.to_string(), b: b.to_string(), line: i + 1 });
    }
    if out.is_empty() {
        return Err(EvalError::Format { path: name, line: 1, message: "no pairs".into() });
    }
    Ok(out)
}

/// What the decision did with one pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub linked: bool,
    pub conflict: bool,
}

/// The decision's figures at one setting.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// None: sentences as wholes only (today's sentence granularity).
    pub anchor_margin: Option<f32>,
    pub claim_margin: Option<f32>,
    /// Linked against `same` or `conflict`.
    pub linked: BinaryScores,
    /// Marked conflict against `conflict`.
    pub conflicts: BinaryScores,
    /// Linked and not a conflict against `same`: MRPC's question (are
    /// the two equivalent?), where disagreeing figures make a pair not one.
    pub equivalent: BinaryScores,
    /// Pairs linked, per label.
    pub same_linked: usize,
    pub conflict_linked: usize,
    pub different_linked: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimEval {
    pub model: String,
    pub pairs: usize,
    pub same: usize,
    pub conflict: usize,
    pub different: usize,
    /// Sentences as wholes, at the decision's threshold.
    pub whole: Row,
    /// The settings given.
    pub default: Row,
    /// Every setting of the sweep, for the precision / recall curve.
    pub curve: Vec<Row>,
    /// Each pair at the settings given, in file order.
    pub outcomes: Vec<PairOutcome>,
}

/// One pair's label and what the decision did with it.
#[derive(Debug, Clone, Serialize)]
pub struct PairOutcome {
    pub line: usize,
    pub label: Label,
    pub linked: bool,
    pub conflict: bool,
}

/// Margins swept for the curve (`ClaimSettings::anchor_margin`, `claim_margin`).
pub const ANCHOR_MARGINS: [f32; 5] = [0.0, 0.05, 0.1, 0.15, 0.2];
pub const CLAIM_MARGINS: [f32; 4] = [0.05, 0.1, 0.15, 1.0];

/// Scores the pairs with the claim decision at `settings`, and the sweep.
pub fn evaluate(
    pairs: &[LabelledPair],
    decision: Decision,
    settings: ClaimSettings,
    embedder: &dyn Embedder,
    progress: &mut dyn Progress,
) -> Result<ClaimEval, EvalError> {
    decision.check()?;
    let texts: Vec<&str> = pairs.iter().flat_map(|p| [p.a.as_str(), p.b.as_str()]).collect();
    let mut unique = texts.clone();
    unique.sort_unstable();
    unique.dedup();
    let vectors = stage(progress, "sentences", unique.len(), |p| embedder.embed(&unique, p))?;
    let mut cache = SentenceVectors::new(vectors.ncols());
    for (i, t) in unique.iter().enumerate() {
        cache.insert(t, row(&vectors, i));
    }
    let mut rows = ndarray::Array2::<f32>::zeros((texts.len(), vectors.ncols()));
    for (i, t) in texts.iter().enumerate() {
        rows.row_mut(i).as_slice_mut().expect("row-major").copy_from_slice(cache.get(t));
    }
    let units: Vec<Unit> =
        texts.iter().enumerate().map(|(i, t)| Unit { doc: i, passage: i, start: 0, end: t.len() }).collect();
    // Rare as in a corpus: the file's sentences are the corpus, so a
    // figure most pairs mention ("two", this year) lowers no threshold.
    let rare = claims::rare_anchors(&texts, &vec![false; texts.len()], &settings);
    let whole_scores: Vec<f32> = (0..pairs.len())
        .map(|k| {
            let cos = dot(row(&rows.view(), 2 * k), row(&rows.view(), 2 * k + 1));
            decision.score(cos, align::lexical(texts[2 * k], texts[2 * k + 1]))
        })
        .collect();
    let mut run = |s: &ClaimSettings, cache: &mut SentenceVectors| -> Result<Vec<Outcome>, EvalError> {
        let passed: Vec<(usize, usize)> =
            (0..pairs.len()).filter(|&k| whole_scores[k] >= decision.threshold).map(|k| (2 * k, 2 * k + 1)).collect();
        if !s.enabled {
            let mut out = vec![Outcome { linked: false, conflict: false }; pairs.len()];
            for (a, _) in passed {
                out[a / 2].linked = true;
            }
            return Ok(out);
        }
        let proposed: Vec<(usize, usize)> =
            (0..pairs.len()).filter(|&k| whole_scores[k] < decision.threshold).map(|k| (2 * k, 2 * k + 1)).collect();
        let (matches, _) = stage(progress, "claims", 0, |p| {
            claims::refine(&units, &texts, rows.view(), &passed, &proposed, &decision, s, &rare, cache, embedder, p)
        })?;
        let mut out = vec![Outcome { linked: false, conflict: false }; pairs.len()];
        for m in matches {
            out[m.a / 2] = Outcome { linked: true, conflict: m.kind == Kind::Conflict };
        }
        Ok(out)
    };
    let labels: Vec<Label> = pairs.iter().map(|p| p.label).collect();
    let whole = row_of(&labels, &run(&ClaimSettings { enabled: false, ..settings }, &mut cache)?, None, None);
    let given = run(&settings, &mut cache)?;
    let default = row_of(&labels, &given, Some(settings.anchor_margin), Some(settings.claim_margin));
    let outcomes = pairs
        .iter()
        .zip(&given)
        .map(|(p, o)| PairOutcome { line: p.line, label: p.label, linked: o.linked, conflict: o.conflict })
        .collect();
    let mut curve = Vec::new();
    for &am in &ANCHOR_MARGINS {
        for &cm in &CLAIM_MARGINS {
            let s = ClaimSettings { anchor_margin: am, claim_margin: cm, ..settings };
            curve.push(row_of(&labels, &run(&s, &mut cache)?, Some(am), Some(cm)));
        }
    }
    let count = |l: Label| labels.iter().filter(|&&x| x == l).count();
    Ok(ClaimEval {
        model: embedder.name().to_string(),
        pairs: pairs.len(),
        same: count(Label::Same),
        conflict: count(Label::Conflict),
        different: count(Label::Different),
        whole,
        default,
        curve,
        outcomes,
    })
}

fn row_of(labels: &[Label], outcomes: &[Outcome], anchor_margin: Option<f32>, claim_margin: Option<f32>) -> Row {
    let as_score = |b: bool| if b { 1.0 } else { 0.0 };
    let linked: Vec<f64> = outcomes.iter().map(|o| as_score(o.linked)).collect();
    let conflicts: Vec<f64> = outcomes.iter().map(|o| as_score(o.conflict)).collect();
    let truth_linked: Vec<bool> = labels.iter().map(|&l| l != Label::Different).collect();
    let truth_conflict: Vec<bool> = labels.iter().map(|&l| l == Label::Conflict).collect();
    let equivalent: Vec<f64> = outcomes.iter().map(|o| as_score(o.linked && !o.conflict)).collect();
    let truth_same: Vec<bool> = labels.iter().map(|&l| l == Label::Same).collect();
    let linked_with = |l: Label| labels.iter().zip(outcomes).filter(|(&x, o)| x == l && o.linked).count();
    Row {
        anchor_margin,
        claim_margin,
        linked: binary_scores(&linked, &truth_linked, 0.5),
        conflicts: binary_scores(&conflicts, &truth_conflict, 0.5),
        equivalent: binary_scores(&equivalent, &truth_same, 0.5),
        same_linked: linked_with(Label::Same),
        conflict_linked: linked_with(Label::Conflict),
        different_linked: linked_with(Label::Different),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_claim_sets_and_mrpc_and_names_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let set = dir.path().join("claims.tsv");
        std::fs::write(
            &set,
            "label\tid_a\tid_b\tsentence_a\tsentence_b\tnote\nconflict\ta\tb\tx 3\ty 4\tn\n\nsame\ta\tc\tp\tq\t\n",
        )
        .unwrap();
        let pairs = read(&set).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!((pairs[0].label, pairs[0].a.as_str(), pairs[1].line), (Label::Conflict, "x 3", 4));
        let mrpc = dir.path().join("mrpc.tsv");
        std::fs::write(&mrpc, "\u{feff}Quality\t#1 String\t#2 String\n1\ta\tb\n0\tc\td\n").unwrap();
        let labels: Vec<Label> = read(&mrpc).unwrap().iter().map(|p| p.label).collect();
        assert_eq!(labels, vec![Label::Same, Label::Different]);
        std::fs::write(&set, "label\tid_a\tid_b\tsentence_a\tsentence_b\tnote\nmaybe\ta\tb\tx\ty\tn\n").unwrap();
        let e = read(&set).unwrap_err().to_string();
        assert!(e.contains("claims.tsv:2") && e.contains("maybe"), "{e}");
    }

    #[test]
    fn rows_count_per_label() {
        let labels = [Label::Same, Label::Conflict, Label::Different, Label::Different];
        let o = |linked, conflict| Outcome { linked, conflict };
        let r = row_of(&labels, &[o(true, false), o(true, true), o(true, false), o(false, false)], None, None);
        assert_eq!((r.same_linked, r.conflict_linked, r.different_linked), (1, 1, 1));
        assert_eq!((r.linked.true_pos, r.linked.false_pos, r.linked.true_neg), (2, 1, 1));
        assert_eq!((r.conflicts.true_pos, r.conflicts.false_pos), (1, 0));
    }
}
