//! Quality on labelled data, through the same code the commands use:
//! sentence-pair similarity (STS-B, `pairs`), the overlap decision (MRPC
//! and its calibration, `decision`), text reuse (`reuse`), themes
//! against topic labels (`themes`, scored by `clusters`), and the nearest
//! documents against the same labels (`documents`).
//!
//! Each evaluation is a typed call: an `Embedder`, plain settings and a
//! `Progress` in, a `#[derive(Serialize)]` result out. A result serialises
//! as `motif eval … --json` prints it (after the command's own `task` and
//! file name): shares as percentages with one decimal, correlations and
//! thresholds with four; its Rust fields keep the unrounded figures
//! (shares as fractions) for the text output and for other callers.

pub mod claims;
pub mod clusters;
pub mod decision;
pub mod documents;
pub mod pairs;
pub mod reuse;
pub mod themes;

use crate::embed::EmbedError;
use crate::overlaps::OverlapError;
use crate::themes::ThemeError;

/// What can go wrong in an evaluation: its input files (each error names
/// the file, and the line where there is one) or the stages it runs.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: cannot read")]
    Io { path: String, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Format { path: String, line: usize, message: String },
    #[error("{path}: no pairs found")]
    Empty { path: String },
    #[error("{path}: no answer/source pairs to evaluate")]
    NothingToEvaluate { path: String },
    #[error("{path}: {records} records with text but {labels} labels")]
    LabelCount { path: String, records: usize, labels: usize },
    #[error(
        "{vectors_path}: shape ({rows}, {cols}) is not the {passages} passages × {dim} dimensions of {corpus}; was it made from the same file and split settings?"
    )]
    VectorShape { vectors_path: String, corpus: String, rows: usize, cols: usize, passages: usize, dim: usize },
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Overlaps(#[from] OverlapError),
    #[error(transparent)]
    Themes(#[from] ThemeError),
    #[error(transparent)]
    Documents(#[from] crate::documents::DocumentsError),
    #[error(transparent)]
    Corpus(#[from] crate::corpus::CorpusError),
}

/// Reads a whole input file, naming it when it cannot be read.
fn read_file(path: &std::path::Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|source| EvalError::Io { path: path.display().to_string(), source })
}

/// `x` rounded to `digits` decimals.
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Serialisers for the figures of the results, as the commands print them.
mod figures {
    use serde::{Serialize, Serializer};

    use super::pairs::BinaryScores;
    use super::round;

    pub fn round2<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        round(*x, 2).serialize(s)
    }

    pub fn round3<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        round(*x, 3).serialize(s)
    }

    pub fn round4<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        round(*x, 4).serialize(s)
    }

    /// A share (0..1) as a percentage with one decimal.
    pub fn pct<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        round(*x * 100.0, 1).serialize(s)
    }

    /// A decision's figures: the threshold with four decimals, the rest as
    /// percentages.
    pub fn scores<S: Serializer>(b: &BinaryScores, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Percent {
            threshold: f64,
            accuracy: f64,
            f1: f64,
            precision: f64,
            recall: f64,
        }
        let p = |x: f64| round(x * 100.0, 1);
        Percent {
            threshold: round(b.threshold, 4),
            accuracy: p(b.accuracy),
            f1: p(b.f1),
            precision: p(b.precision),
            recall: p(b.recall),
        }
        .serialize(s)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A model-free embedder for the evaluations' tests: each content word
    //! hashed to one of 64 dimensions, so texts sharing words are close
    //! and copies are identical.

    use ndarray::Array2;

    use crate::embed::{EmbedError, Embedder};
    use crate::overlaps::align;

    pub struct Words;

    pub const DIM: usize = 64;

    impl Embedder for Words {
        fn name(&self) -> &str {
            "words"
        }
        fn dim(&self) -> usize {
            DIM
        }
        fn max_content_tokens(&self) -> usize {
            510
        }
        fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedError> {
            Ok(align::words(text).into_iter().map(|w| (w.start, w.end)).collect())
        }
        fn embed(&self, texts: &[&str], progress: &mut dyn FnMut(usize)) -> Result<Array2<f32>, EmbedError> {
            let mut m = Array2::<f32>::zeros((texts.len(), DIM));
            for (i, t) in texts.iter().enumerate() {
                for w in align::words(t).into_iter().filter(|w| w.content) {
                    let h = w.stem.bytes().fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
                    m[[i, h as usize % DIM]] += 1.0;
                }
                let norm = m.row(i).dot(&m.row(i)).sqrt();
                if norm > 0.0 {
                    m.row_mut(i).mapv_inplace(|x| x / norm);
                } else {
                    m[[i, 0]] = 1.0;
                }
            }
            progress(texts.len());
            Ok(m)
        }
        fn device_name(&self) -> String {
            "cpu".into()
        }

        fn kernels(&self) -> String {
            "a test's words".into()
        }
    }

    /// The keys of a JSON object, sorted (as the commands print them).
    pub fn keys(v: &serde_json::Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }
}
