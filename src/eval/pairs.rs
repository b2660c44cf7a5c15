//! Quality on labelled data: the standard metric of each public set, so that
//! motif's figures can be set beside published ones.
//!
//! STS-B: Spearman rank correlation (×100) between the cosine of the two
//! sentences' vectors and the human score (`stsb`). Also the pieces the
//! other evaluations share: reading scored pairs, rank correlations, a
//! binary decision's figures at a threshold, the best threshold, ROC AUC.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::figures::round2;
pub use super::EvalError;
use crate::embed::Embedder;
use crate::matrix::{dot, row};
use crate::pipeline::{stage, Progress};

/// A scored sentence pair.
#[derive(Debug, Clone)]
pub struct Pair {
    pub score: f64,
    pub a: String,
    pub b: String,
    /// Its line in the file read (from 1; 0 when made otherwise).
    pub line: usize,
}

/// Reads `score<TAB>sentence1<TAB>sentence2` lines after one header line
/// (the layout of `stsb/*.tsv` and `mrpc/test.tsv`, whose first field is a
/// 0/1 label). Fields are split on tabs only: quotes are text, not quoting
/// (many sentences start or end with `"`). Fields after the third are
/// ignored, and blank lines skipped.
pub fn read_pairs(path: &Path) -> Result<Vec<Pair>, EvalError> {
    let name = path.display().to_string();
    let text = super::read_file(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(text.as_bytes());
    let mut pairs = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        // The reader skips empty lines and then reports the position before
        // them: count them to get the record's own line.
        let before = reader.position().clone();
        let rest = text.as_bytes().get(before.byte() as usize..).unwrap_or_default();
        let skipped = rest.iter().take_while(|&&b| b == b'\n').count();
        let line = before.line() as usize + skipped;
        let bad = |message: &str| EvalError::Format { path: name.clone(), line, message: message.into() };
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(bad(&e.to_string())),
        }
        if line == 1 || record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() < 3 {
            return Err(bad("expected score<TAB>sentence1<TAB>sentence2"));
        }
        let score = record[0].trim().parse::<f64>().map_err(|_| bad("the first field is not a number"))?;
        // As `str::lines`, drop the `\r` of a `\r\n` line end.
        let b = if record.len() == 3 { record[2].strip_suffix('\r').unwrap_or(&record[2]) } else { &record[2] };
        pairs.push(Pair { score, a: record[1].to_string(), b: b.to_string(), line });
    }
    if pairs.is_empty() {
        return Err(EvalError::Empty { path: name });
    }
    Ok(pairs)
}

/// Cosine of each pair's two sentences, embedding each distinct sentence once.
pub fn pair_cosines(
    embedder: &dyn Embedder,
    pairs: &[Pair],
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<f64>, EvalError> {
    let mut unique: Vec<&str> = pairs.iter().flat_map(|p| [p.a.as_str(), p.b.as_str()]).collect();
    unique.sort_unstable();
    unique.dedup();
    let vectors = embedder.embed(&unique, progress)?;
    let index = |s: &str| unique.binary_search(&s).expect("every sentence was embedded");
    Ok(pairs.iter().map(|p| dot(row(&vectors, index(&p.a)), row(&vectors, index(&p.b))) as f64).collect())
}

/// Spearman and Pearson correlation of cosine against the gold score.
#[derive(Debug, Clone, Serialize)]
pub struct Stsb {
    pub model: String,
    pub pairs: usize,
    /// Spearman ×100.
    #[serde(serialize_with = "round2")]
    pub spearman: f64,
    /// Pearson ×100.
    #[serde(serialize_with = "round2")]
    pub pearson: f64,
    /// Embedding and scoring.
    #[serde(serialize_with = "round2")]
    pub seconds: f64,
}

/// The STS-B figures of scored pairs: Spearman (×100, the standard
/// figure) and Pearson of each pair's cosine against its score.
pub fn stsb(pairs: &[Pair], embedder: &dyn Embedder, progress: &mut dyn Progress) -> Result<Stsb, EvalError> {
    let start = Instant::now();
    let cosines = stage(progress, "sentences", pairs.len() * 2, |p| pair_cosines(embedder, pairs, p))?;
    let gold: Vec<f64> = pairs.iter().map(|p| p.score).collect();
    Ok(Stsb {
        model: embedder.name().to_string(),
        pairs: pairs.len(),
        spearman: spearman(&cosines, &gold) * 100.0,
        pearson: pearson(&cosines, &gold) * 100.0,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Ranks from 1, ties sharing their mean rank (as scipy's `rankdata`).
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = mean_rank;
        }
        i = j + 1;
    }
    ranks
}

pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx.sqrt() * vy.sqrt())
}

pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

/// A binary decision's figures at one threshold (positive: score ≥ threshold).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BinaryScores {
    pub threshold: f64,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub true_pos: usize,
    pub false_pos: usize,
    pub true_neg: usize,
    pub false_neg: usize,
}

/// Accuracy, precision, recall and F1 (positive class: `true`) of deciding
/// `score >= threshold`.
pub fn binary_scores(scores: &[f64], labels: &[bool], threshold: f64) -> BinaryScores {
    let (mut tp, mut fp, mut tn, mut fneg) = (0, 0, 0, 0);
    for (&s, &l) in scores.iter().zip(labels) {
        match (s >= threshold, l) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, false) => tn += 1,
            (false, true) => fneg += 1,
        }
    }
    from_counts(threshold, tp, fp, tn, fneg)
}

fn from_counts(threshold: f64, tp: usize, fp: usize, tn: usize, fneg: usize) -> BinaryScores {
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fneg);
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    BinaryScores {
        threshold,
        accuracy: ratio(tp + tn, tp + fp + tn + fneg),
        precision,
        recall,
        f1,
        true_pos: tp,
        false_pos: fp,
        true_neg: tn,
        false_neg: fneg,
    }
}

/// What a threshold sweep maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    Accuracy,
    F1,
}

/// The threshold that maximises `criterion`, swept over every cut between
/// two distinct scores (the threshold reported is the midpoint of the cut).
/// Ties go to the higher threshold.
pub fn best_threshold(scores: &[f64], labels: &[bool], criterion: Criterion) -> BinaryScores {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    // Nothing predicted positive: threshold above the highest score.
    let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut best = from_counts(top + 1e-6, 0, 0, negatives, positives);
    let value = |b: &BinaryScores| match criterion {
        Criterion::Accuracy => b.accuracy,
        Criterion::F1 => b.f1,
    };
    let (mut tp, mut fp) = (0, 0);
    let mut i = 0;
    while i < order.len() {
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if labels[order[i]] {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        let threshold = match order.get(i) {
            Some(&next) => (s + scores[next]) / 2.0,
            None => s,
        };
        let b = from_counts(threshold, tp, fp, negatives - fp, positives - tp);
        if value(&b) > value(&best) {
            best = b;
        }
    }
    best
}

/// Area under the ROC curve of `scores` separating `true` from `false`
/// (the probability that a random positive outscores a random negative,
/// ties counting half).
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> f64 {
    let r = ranks(scores);
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    let rank_sum: f64 = r.iter().zip(labels).filter(|(_, &l)| l).map(|(r, _)| r).sum();
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_share_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 30.0]), vec![1.5, 3.0, 1.5, 4.0]);
    }

    #[test]
    fn spearman_matches_known_values() {
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // scipy.stats.spearmanr([1,2,3,4,5],[2,1,4,3,5]) = 0.8
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]) - 0.8).abs() < 1e-12);
    }

    #[test]
    fn pairs_are_split_on_tabs_only() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.tsv");
        std::fs::write(&f, "score\ts1\ts2\n2.5\t\"Quoted, start\tplain\n").unwrap();
        let pairs = read_pairs(&f).unwrap();
        assert_eq!(pairs[0].a, "\"Quoted, start");
        std::fs::write(&f, "score\ts1\ts2\nx\ta\tb\n").unwrap();
        assert!(read_pairs(&f).unwrap_err().to_string().contains("p.tsv:2"));
    }

    #[test]
    fn quotes_are_text_and_lines_are_counted_past_blank_ones() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("q.tsv");
        // A quote opening a field and never closed would swallow the rest of
        // the file in a quoting CSV reader.
        let body = "label\tsentence1\tsentence2\r\n1\t\"Yes,\" he said.\tHe said \"yes\"\r\n\n  \n0\t\"Open quote\tclose\"\tid\textra\n";
        std::fs::write(&f, body).unwrap();
        let pairs = read_pairs(&f).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(
            (pairs[0].score, pairs[0].a.as_str(), pairs[0].b.as_str()),
            (1.0, "\"Yes,\" he said.", "He said \"yes\"")
        );
        assert_eq!((pairs[1].score, pairs[1].a.as_str(), pairs[1].b.as_str()), (0.0, "\"Open quote", "close\""));
        std::fs::write(&f, "h\n1\ta\tb\n\n\n2\tonly two\n").unwrap();
        assert_eq!(
            read_pairs(&f).unwrap_err().to_string(),
            format!("{}:5: expected score<TAB>sentence1<TAB>sentence2", f.display())
        );
        std::fs::write(&f, "h\n\n").unwrap();
        assert!(matches!(read_pairs(&f).unwrap_err(), EvalError::Empty { .. }));
    }
    #[test]
    fn binary_scores_and_sweeps() {
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
        let labels = [true, true, false, true, false, false];
        let b = binary_scores(&scores, &labels, 0.65);
        assert_eq!((b.true_pos, b.false_pos, b.true_neg, b.false_neg), (2, 1, 2, 1));
        assert!((b.accuracy - 4.0 / 6.0).abs() < 1e-12 && (b.f1 - 2.0 / 3.0).abs() < 1e-12);
        let best = best_threshold(&scores, &labels, Criterion::Accuracy);
        assert!((best.threshold - 0.75).abs() < 1e-12 || (best.threshold - 0.55).abs() < 1e-12, "{best:?}");
        assert!((best.accuracy - 5.0 / 6.0).abs() < 1e-12);
        let f1 = best_threshold(&scores, &labels, Criterion::F1);
        assert!((f1.f1 - 6.0 / 7.0).abs() < 1e-12, "{f1:?}");
        assert_eq!(binary_scores(&scores, &labels, f1.threshold), f1);
        assert!((roc_auc(&scores, &labels) - 8.0 / 9.0).abs() < 1e-12);
        assert!((roc_auc(&[1.0, 1.0], &[true, false]) - 0.5).abs() < 1e-12);
    }
}
