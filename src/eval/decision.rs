//! The overlap decision on labelled sentence pairs: its accuracy and F1 on
//! MRPC at the default and at the best threshold (`mrpc`), and the sweep
//! that chose the default lexical weight and threshold on STS-B dev
//! (`calibrate`). Pairs are scored with `Decision::score`, the blend that
//! `overlaps::find` applies, on the cosine of the two sentences' vectors
//! and `align::lexical` of their texts.

use std::collections::HashSet;
use std::path::Path;

use serde::Serialize;

use super::figures::{pct, round2, round4, scores};
use super::pairs::{best_threshold, binary_scores, pair_cosines, read_pairs, BinaryScores, Criterion, Pair};
use super::EvalError;
use crate::embed::Embedder;
use crate::overlaps::align;
use crate::overlaps::Decision;
use crate::pipeline::{stage, Progress};

/// A published figure to set beside motif's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reference {
    pub what: &'static str,
    /// Percent.
    pub accuracy: f64,
    /// ×100.
    pub f1: f64,
    pub threshold: f64,
}

/// sentence-transformers (all-MiniLM-L6-v2) on MRPC test: plain cosine at
/// the threshold tuned on the test set itself.
pub const SENTENCE_TRANSFORMERS_MRPC: Reference = Reference {
    what: "sentence-transformers, plain cosine, threshold tuned on this test set",
    accuracy: 72.5,
    f1: 81.8,
    threshold: 0.64,
};

/// The cosine and the lexical similarity of each pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    pub cosine: Vec<f64>,
    pub lexical: Vec<f64>,
}

impl Features {
    /// Embeds the pairs' sentences (each distinct one once) and compares
    /// their words.
    pub fn of(pairs: &[Pair], embedder: &dyn Embedder, progress: &mut dyn Progress) -> Result<Features, EvalError> {
        let cosine = stage(progress, "sentences", pairs.len() * 2, |p| pair_cosines(embedder, pairs, p))?;
        let lexical = pairs.iter().map(|p| align::lexical(&p.a, &p.b) as f64).collect();
        Ok(Features { cosine, lexical })
    }

    /// The decision's blended score of each pair (`Decision::score`).
    pub fn blended(&self, lexical_weight: f64) -> Vec<f64> {
        let d = Decision { lexical_weight: lexical_weight as f32, ..Decision::default() };
        self.cosine.iter().zip(&self.lexical).map(|(&c, &l)| d.score(c as f32, l as f32) as f64).collect()
    }

    /// The pairs where `keep` holds, in order.
    fn filter(self, keep: &[bool]) -> Features {
        let pick = |v: Vec<f64>| v.into_iter().zip(keep).filter(|(_, &k)| k).map(|(x, _)| x).collect();
        Features { cosine: pick(self.cosine), lexical: pick(self.lexical) }
    }
}

// ------------------------------------------------------------ MRPC

/// Reads an MRPC TSV (label 1 paraphrase or 0 not, sentence1, sentence2).
pub fn read_mrpc(path: &Path) -> Result<Vec<Pair>, EvalError> {
    let pairs = read_pairs(path)?;
    if let Some(p) = pairs.iter().find(|p| p.score != 0.0 && p.score != 1.0) {
        return Err(EvalError::Format {
            path: path.display().to_string(),
            line: p.line,
            message: format!("labels must be 0 or 1 (found {}); is this an MRPC file?", p.score),
        });
    }
    Ok(pairs)
}

/// The overlap decision on MRPC, beside plain cosine.
#[derive(Debug, Clone, Serialize)]
pub struct Mrpc {
    pub model: String,
    pub pairs: usize,
    pub paraphrases: usize,
    pub lexical_weight: f64,
    /// The decision as given (threshold included).
    #[serde(serialize_with = "scores")]
    pub default: BinaryScores,
    /// The decision's blend at the threshold best on this file.
    #[serde(serialize_with = "scores")]
    pub best_accuracy: BinaryScores,
    #[serde(serialize_with = "scores")]
    pub best_f1: BinaryScores,
    /// Plain cosine at the threshold best on this file.
    #[serde(serialize_with = "scores")]
    pub cosine_best_accuracy: BinaryScores,
    #[serde(serialize_with = "scores")]
    pub cosine_best_f1: BinaryScores,
    pub reference: Reference,
}

/// Scores MRPC pairs (read by `read_mrpc`: label 1 is a paraphrase) with
/// `decision`.
pub fn mrpc(
    pairs: &[Pair],
    decision: Decision,
    embedder: &dyn Embedder,
    progress: &mut dyn Progress,
) -> Result<Mrpc, EvalError> {
    decision.check()?;
    let features = Features::of(pairs, embedder, progress)?;
    let labels: Vec<bool> = pairs.iter().map(|p| p.score == 1.0).collect();
    Ok(mrpc_scores(embedder.name(), &features, &labels, decision))
}

/// The figures of `mrpc` from the pairs' features and labels.
pub fn mrpc_scores(model: &str, features: &Features, labels: &[bool], decision: Decision) -> Mrpc {
    let w = decision.lexical_weight as f64;
    let blended = features.blended(w);
    let cosine = &features.cosine;
    Mrpc {
        model: model.to_string(),
        pairs: labels.len(),
        paraphrases: labels.iter().filter(|&&l| l).count(),
        lexical_weight: w,
        default: binary_scores(&blended, labels, decision.threshold as f64),
        best_accuracy: best_threshold(&blended, labels, Criterion::Accuracy),
        best_f1: best_threshold(&blended, labels, Criterion::F1),
        cosine_best_accuracy: best_threshold(cosine, labels, Criterion::Accuracy),
        cosine_best_f1: best_threshold(cosine, labels, Criterion::F1),
        reference: SENTENCE_TRANSFORMERS_MRPC,
    }
}

// ------------------------------------------------------------ calibration

/// The lexical weights the calibration tries: 0 to 0.6 by 0.05.
pub fn sweep_weights() -> impl Iterator<Item = f64> {
    (0..=12).map(|step| step as f64 * 0.05)
}

/// One lexical weight of the sweep, at its F1-best threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SweepRow {
    #[serde(serialize_with = "round2")]
    pub lexical_weight: f64,
    #[serde(serialize_with = "scores")]
    pub best_f1: BinaryScores,
}

/// The weight and threshold chosen: the F1-best row of the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Chosen {
    #[serde(serialize_with = "round2")]
    pub lexical_weight: f64,
    #[serde(serialize_with = "round4")]
    pub threshold: f64,
    #[serde(serialize_with = "pct")]
    pub f1: f64,
    #[serde(serialize_with = "pct")]
    pub precision: f64,
    #[serde(serialize_with = "pct")]
    pub recall: f64,
}

/// The calibration of the overlap decision on scored pairs.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub model: String,
    /// Pairs used (after leaving out the excluded ones).
    pub pairs: usize,
    pub excluded: usize,
    /// Pairs scored at least `min_score`.
    pub positives: usize,
    pub min_score: f64,
    pub sweep: Vec<SweepRow>,
    pub chosen: Chosen,
}

/// Each lexical weight of `sweep_weights` at its F1-best threshold, and
/// the row with the highest F1 (the first of equals).
pub fn sweep(features: &Features, labels: &[bool]) -> (Vec<SweepRow>, Chosen) {
    let rows: Vec<SweepRow> = sweep_weights()
        .map(|w| SweepRow { lexical_weight: w, best_f1: best_threshold(&features.blended(w), labels, Criterion::F1) })
        .collect();
    let best = rows.iter().copied().fold(rows[0], |acc, x| if x.best_f1.f1 > acc.best_f1.f1 { x } else { acc });
    let b = best.best_f1;
    (
        rows,
        Chosen {
            lexical_weight: best.lexical_weight,
            threshold: b.threshold,
            f1: b.f1,
            precision: b.precision,
            recall: b.recall,
        },
    )
}

/// A pair's sentences with whitespace normalised, in either order.
fn pair_key(p: &Pair) -> (String, String) {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (x, y) = (norm(&p.a), norm(&p.b));
    if x <= y {
        (x, y)
    } else {
        (y, x)
    }
}

/// Chooses the lexical weight and threshold that maximise F1 on scored
/// pairs (positive: score ≥ `min_score`), leaving out the pairs that also
/// occur in `exclude` (same two sentences, either order, up to
/// whitespace). The constants in `overlaps` come from this on STS-B dev.
pub fn calibrate(
    pairs: &[Pair],
    exclude: &[Pair],
    min_score: f64,
    embedder: &dyn Embedder,
    progress: &mut dyn Progress,
) -> Result<Calibration, EvalError> {
    // Every pair is embedded, the excluded ones too, so the vectors are
    // those of the whole file whatever is left out.
    let features = Features::of(pairs, embedder, progress)?;
    let leave: HashSet<(String, String)> = exclude.iter().map(pair_key).collect();
    let keep: Vec<bool> = pairs.iter().map(|p| !leave.contains(&pair_key(p))).collect();
    let features = features.filter(&keep);
    let labels: Vec<bool> = pairs.iter().zip(&keep).filter(|(_, &k)| k).map(|(p, _)| p.score >= min_score).collect();
    let (sweep, chosen) = sweep(&features, &labels);
    Ok(Calibration {
        model: embedder.name().to_string(),
        pairs: labels.len(),
        excluded: pairs.len() - labels.len(),
        positives: labels.iter().filter(|&&l| l).count(),
        min_score,
        sweep,
        chosen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{keys, Words};
    use crate::pipeline::Quiet;

    fn pair(score: f64, a: &str, b: &str) -> Pair {
        Pair { score, a: a.into(), b: b.into(), line: 0 }
    }

    /// Cosine alone separates the labels badly; shared words separate them
    /// perfectly: the sweep must move to a lexical weight > 0.
    fn features() -> (Features, Vec<bool>) {
        let cosine = vec![0.9, 0.85, 0.8, 0.8, 0.7, 0.6];
        let lexical = vec![0.0, 1.0, 0.0, 1.0, 1.0, 0.0];
        let labels = vec![false, true, false, true, true, false];
        (Features { cosine, lexical }, labels)
    }

    #[test]
    fn blending_is_the_decisions_score() {
        let (f, _) = features();
        let b = f.blended(0.25);
        let d = Decision { threshold: 0.5, lexical_weight: 0.25 };
        assert!((b[1] - d.score(0.85, 1.0) as f64).abs() < 1e-12);
        assert!((b[1] - (0.75 * 0.85 + 0.25)).abs() < 1e-6);
        // In f32, as `overlaps::find` scores.
        assert_eq!(f.blended(0.0), f.cosine.iter().map(|&c| c as f32 as f64).collect::<Vec<_>>());
    }

    #[test]
    fn the_sweep_finds_the_weight_that_separates_the_labels() {
        let (f, labels) = features();
        let (rows, chosen) = sweep(&f, &labels);
        assert_eq!(rows.len(), 13);
        assert!((rows[12].lexical_weight - 0.6).abs() < 1e-12);
        // Plain cosine: best F1 is all-positive up to 0.7 (3 of 3 found, 5 predicted) = 0.75.
        assert!((rows[0].best_f1.f1 - 0.75).abs() < 1e-12, "{:?}", rows[0]);
        // Above 1/6, (1-w)·0.7 + w > (1-w)·0.9: every positive scores above every negative.
        assert!(rows[3].best_f1.f1 < 1.0 && rows[4].best_f1.f1 == 1.0, "{rows:?}");
        // The first perfect weight is chosen, its threshold between the
        // lowest positive and the highest negative.
        assert!((chosen.lexical_weight - 0.2).abs() < 1e-12, "{chosen:?}");
        assert_eq!((chosen.f1, chosen.precision, chosen.recall), (1.0, 1.0, 1.0));
        let d = Decision { threshold: 0.0, lexical_weight: 0.2 };
        let lowest_positive = d.score(0.7, 1.0) as f64;
        let highest_negative = d.score(0.9, 0.0) as f64;
        assert!((chosen.threshold - (lowest_positive + highest_negative) / 2.0).abs() < 1e-6, "{chosen:?}");
    }

    #[test]
    fn mrpc_scores_at_the_default_and_the_best_threshold() {
        let (f, labels) = features();
        let d = Decision { threshold: 0.75, lexical_weight: 0.2 };
        let m = mrpc_scores("m", &f, &labels, d);
        assert_eq!((m.pairs, m.paraphrases), (6, 3));
        // Blended: 0.72, 0.88, 0.64, 0.84, 0.76, 0.48 → at 0.75 three true positives, no false one.
        assert_eq!((m.default.true_pos, m.default.false_pos, m.default.false_neg), (3, 0, 0), "{:?}", m.default);
        assert_eq!(m.best_accuracy.accuracy, 1.0);
        assert!((m.best_accuracy.threshold - 0.74).abs() < 1e-6, "{:?}", m.best_accuracy);
        assert!(m.cosine_best_accuracy.accuracy < 1.0);
        assert_eq!(m.reference, SENTENCE_TRANSFORMERS_MRPC);
        let v = serde_json::to_value(&m).unwrap();
        let mut want = vec![
            "model",
            "pairs",
            "paraphrases",
            "lexical_weight",
            "default",
            "best_accuracy",
            "best_f1",
            "cosine_best_accuracy",
            "cosine_best_f1",
            "reference",
        ];
        want.sort_unstable();
        assert_eq!(keys(&v), want);
        assert_eq!(keys(&v["default"]), ["accuracy", "f1", "precision", "recall", "threshold"]);
        assert_eq!(v["default"]["accuracy"], 100.0);
        assert_eq!(v["best_accuracy"]["threshold"], 0.74);
        assert_eq!(keys(&v["reference"]), ["accuracy", "f1", "threshold", "what"]);
    }

    #[test]
    fn mrpc_labels_must_be_binary() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("m.tsv");
        std::fs::write(&f, "label\ts1\ts2\n1\ta\tb\n0\tc\td\n").unwrap();
        assert_eq!(read_mrpc(&f).unwrap().len(), 2);
        std::fs::write(&f, "label\ts1\ts2\n1\ta\tb\n3.2\tc\td\n").unwrap();
        let err = read_mrpc(&f).unwrap_err().to_string();
        assert!(err.contains("m.tsv:3") && err.contains("0 or 1"), "{err}");
    }

    #[test]
    fn calibration_leaves_out_excluded_pairs() {
        let pairs = vec![
            pair(4.5, "The troops crossed the border at dawn.", "At dawn the troops crossed the border."),
            pair(0.5, "The troops crossed the border at dawn.", "Markets fell sharply on Monday."),
            pair(3.5, "Prices of bread rose again.", "Bread prices  rose again."),
            pair(1.0, "Prices of bread rose again.", "The council met on Tuesday evening."),
        ];
        let exclude = vec![pair(0.0, "Bread prices rose again.", "Prices of bread rose again.")];
        let c = calibrate(&pairs, &exclude, 3.0, &Words, &mut Quiet).unwrap();
        assert_eq!((c.pairs, c.excluded, c.positives), (3, 1, 1));
        assert_eq!(c.sweep.len(), 13);
        assert_eq!(c.chosen.f1, 1.0);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(keys(&v), ["chosen", "excluded", "min_score", "model", "pairs", "positives", "sweep"]);
        assert_eq!(keys(&v["chosen"]), ["f1", "lexical_weight", "precision", "recall", "threshold"]);
        assert_eq!(keys(&v["sweep"][0]), ["best_f1", "lexical_weight"]);
        assert_eq!(v["chosen"]["f1"], 100.0);
    }
}
