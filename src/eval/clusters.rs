//! Agreement between a clustering and reference labels: normalised mutual
//! information (NMI, arithmetic normalisation as scikit-learn's default),
//! adjusted Rand index (ARI), and V-measure with its homogeneity and
//! completeness. Labels are any comparable values; an outlier is simply one
//! more predicted label chosen by the caller.

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    pub nmi: f64,
    pub ari: f64,
    pub v_measure: f64,
    pub homogeneity: f64,
    pub completeness: f64,
}

/// The contingency table: counts per (truth, predicted) pair, with row and
/// column sums.
struct Table {
    cells: Vec<f64>,
    rows: Vec<f64>,
    cols: Vec<f64>,
    n: f64,
}

fn codes<T: Eq + Hash + Clone>(labels: &[T]) -> (Vec<usize>, usize) {
    let mut map: HashMap<T, usize> = HashMap::new();
    let coded = labels
        .iter()
        .map(|l| {
            let next = map.len();
            *map.entry(l.clone()).or_insert(next)
        })
        .collect();
    (coded, map.len())
}

fn table<A: Eq + Hash + Clone, B: Eq + Hash + Clone>(truth: &[A], pred: &[B]) -> Table {
    assert_eq!(truth.len(), pred.len(), "label lists differ in length");
    let (t, nt) = codes(truth);
    let (p, np) = codes(pred);
    let mut cells = vec![0.0; nt * np];
    let mut rows = vec![0.0; nt];
    let mut cols = vec![0.0; np];
    for (&a, &b) in t.iter().zip(&p) {
        cells[a * np + b] += 1.0;
        rows[a] += 1.0;
        cols[b] += 1.0;
    }
    Table { cells, rows, cols, n: truth.len() as f64 }
}

fn entropy(counts: &[f64], n: f64) -> f64 {
    counts.iter().filter(|&&c| c > 0.0).map(|&c| -(c / n) * (c / n).ln()).sum()
}

/// All five scores of `pred` against `truth` (same length).
pub fn scores<A: Eq + Hash + Clone, B: Eq + Hash + Clone>(truth: &[A], pred: &[B]) -> Scores {
    if truth.is_empty() {
        return Scores { nmi: 1.0, ari: 1.0, v_measure: 1.0, homogeneity: 1.0, completeness: 1.0 };
    }
    let t = table(truth, pred);
    let np = t.cols.len();
    let (h_t, h_p) = (entropy(&t.rows, t.n), entropy(&t.cols, t.n));
    let mut mi = 0.0;
    for (a, &ra) in t.rows.iter().enumerate() {
        for (b, &cb) in t.cols.iter().enumerate() {
            let c = t.cells[a * np + b];
            if c > 0.0 {
                mi += c / t.n * (c * t.n / (ra * cb)).ln();
            }
        }
    }
    let mi = mi.max(0.0);
    // scikit-learn: both labelings constant (or identical singletons) score 1.
    let nmi = if h_t == 0.0 && h_p == 0.0 { 1.0 } else { mi / ((h_t + h_p) / 2.0).max(f64::MIN_POSITIVE) };
    let homogeneity = if h_t == 0.0 { 1.0 } else { mi / h_t };
    let completeness = if h_p == 0.0 { 1.0 } else { mi / h_p };
    let v_measure = if homogeneity + completeness == 0.0 {
        0.0
    } else {
        2.0 * homogeneity * completeness / (homogeneity + completeness)
    };
    Scores { nmi: nmi.min(1.0), ari: ari(&t), v_measure, homogeneity, completeness }
}

fn ari(t: &Table) -> f64 {
    let pairs = |x: f64| x * (x - 1.0) / 2.0;
    let index: f64 = t.cells.iter().map(|&c| pairs(c)).sum();
    let a: f64 = t.rows.iter().map(|&c| pairs(c)).sum();
    let b: f64 = t.cols.iter().map(|&c| pairs(c)).sum();
    let total = pairs(t.n);
    let expected = if total > 0.0 { a * b / total } else { 0.0 };
    let max = (a + b) / 2.0;
    if max == expected {
        // Both partitions trivial in the same way: perfect agreement.
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn identical_up_to_renaming_is_perfect() {
        let s = scores(&["a", "a", "b", "b", "c"], &[2, 2, 0, 0, 1]);
        assert!(close(s.nmi, 1.0) && close(s.ari, 1.0) && close(s.v_measure, 1.0), "{s:?}");
    }

    #[test]
    fn matches_scikit_learn() {
        // sklearn.metrics on truth=[0,0,0,1,1,1], pred=[0,0,1,1,2,2]:
        // normalized_mutual_info_score 0.5158037429793889,
        // adjusted_rand_score 0.24242424242424243,
        // homogeneity 0.6666666666666669, completeness 0.420619835714305,
        // v_measure 0.5158037429793889.
        let s = scores(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]);
        assert!(close(s.nmi, 0.5158037429793889), "{s:?}");
        assert!(close(s.ari, 0.24242424242424243), "{s:?}");
        assert!(close(s.homogeneity, 0.6666666666666669), "{s:?}");
        assert!(close(s.completeness, 0.420619835714305), "{s:?}");
        assert!(close(s.v_measure, s.nmi));
    }

    #[test]
    fn independent_labels_score_near_zero() {
        let truth: Vec<usize> = (0..1000).map(|i| i % 2).collect();
        let pred: Vec<usize> = (0..1000).map(|i| (i / 2) % 2).collect();
        let s = scores(&truth, &pred);
        assert!(s.nmi < 1e-9 && s.ari.abs() < 0.01, "{s:?}");
    }
}
