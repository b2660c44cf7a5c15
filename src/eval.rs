//! Quality on labelled data: the standard metric of each public set, so that
//! motif's figures can be set beside published ones.
//!
//! STS-B: Spearman rank correlation (×100) between the cosine of the two
//! sentences' vectors and the human score.

use std::path::Path;

use crate::embed::{cosine, EmbedError, Embedder};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Format { path: String, line: usize, message: String },
    #[error("{path}: no pairs found")]
    Empty { path: String },
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

/// A scored sentence pair.
#[derive(Debug, Clone)]
pub struct Pair {
    pub score: f64,
    pub a: String,
    pub b: String,
}

/// Reads `score<TAB>sentence1<TAB>sentence2` lines after one header line
/// (the layout of `stsb/*.tsv` and `mrpc/test.tsv`). Fields are split on
/// tabs only: quotes are text, not quoting.
pub fn read_pairs(path: &Path) -> Result<Vec<Pair>, EvalError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io { path: name.clone(), source })?;
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: &str| EvalError::Format { path: name.clone(), line: i + 1, message: message.into() };
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() < 3 {
            return Err(bad("expected score<TAB>sentence1<TAB>sentence2"));
        }
        let score = fields[0].trim().parse::<f64>().map_err(|_| bad("the first field is not a number"))?;
        pairs.push(Pair { score, a: fields[1].to_string(), b: fields[2].to_string() });
    }
    if pairs.is_empty() {
        return Err(EvalError::Empty { path: name });
    }
    Ok(pairs)
}

/// Cosine of each pair's two sentences, embedding each distinct sentence once.
pub fn pair_cosines(embedder: &Embedder, pairs: &[Pair], progress: &mut dyn FnMut(usize)) -> Result<Vec<f64>, EvalError> {
    let mut unique: Vec<&str> = pairs.iter().flat_map(|p| [p.a.as_str(), p.b.as_str()]).collect();
    unique.sort_unstable();
    unique.dedup();
    let (vectors, _) = embedder.embed_with_progress(&unique, progress)?;
    let index = |s: &str| unique.binary_search(&s).expect("every sentence was embedded");
    Ok(pairs.iter().map(|p| cosine(&vectors[index(&p.a)], &vectors[index(&p.b)]) as f64).collect())
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
}
