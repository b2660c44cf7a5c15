//! Documents alike against topic labels: every record's nearest other
//! records (`documents::Documents::all_nearest`, as `motif similar
//! --documents --all` finds them), scored by precision@k, the share of
//! those neighbours that carry the record's own label, for each
//! aggregation of passage cosines into a document score.

use std::time::Instant;

use serde::Serialize;

use super::figures::{pct, round2};
use super::themes::Labels;
use super::EvalError;
use crate::corpus::Corpus;
use crate::documents::{Aggregation, Documents};
use crate::index::Route;

/// One aggregation's figures.
#[derive(Debug, Clone, Serialize)]
pub struct AggregationScore {
    pub aggregation: Aggregation,
    /// The route taken (`Exact` or `Hnsw`).
    pub route: Route,
    /// Mean over records of the share of their k nearest with their label.
    #[serde(serialize_with = "pct")]
    pub precision_at_k: f64,
    /// The share of records whose nearest other record has their label.
    #[serde(serialize_with = "pct")]
    pub precision_at_1: f64,
    #[serde(serialize_with = "round2")]
    pub seconds: f64,
}

/// The nearest-documents lists of a labelled corpus, scored.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentEval {
    pub documents: usize,
    pub passages: usize,
    /// Distinct reference labels.
    pub labels: usize,
    pub k: usize,
    pub aggregations: Vec<AggregationScore>,
}

/// Scores each of `aggregations` on `corpus` (one label per document in
/// `labels`) by precision@k; `route` as `Documents::all_nearest` takes it.
pub fn score(
    corpus: &Corpus,
    labels: &Labels,
    k: usize,
    aggregations: &[Aggregation],
    route: Route,
    progress: &mut dyn crate::pipeline::Progress,
) -> Result<DocumentEval, EvalError> {
    let n = corpus.documents.len();
    if n != labels.labels.len() {
        return Err(EvalError::LabelCount { path: labels.file.clone(), records: n, labels: labels.labels.len() });
    }
    let docs = Documents::of(corpus)?;
    let mut distinct: Vec<&String> = labels.labels.iter().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut out = Vec::new();
    for &agg in aggregations {
        let started = Instant::now();
        let all = crate::pipeline::stage(progress, &format!("nearest documents ({})", agg.name()), n, |p| {
            docs.all_nearest(k, agg, route, p)
        });
        let (mut at_k, mut at_1, mut scored) = (0f64, 0f64, 0usize);
        for (a, list) in all.lists.iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            let same = |h: &&crate::documents::DocHit| labels.labels[h.doc] == labels.labels[a];
            at_k += list.iter().filter(same).count() as f64 / list.len() as f64;
            at_1 += list.iter().take(1).filter(same).count() as f64;
            scored += 1;
        }
        let scored = scored.max(1) as f64;
        out.push(AggregationScore {
            aggregation: agg,
            route: all.route,
            precision_at_k: at_k / scored,
            precision_at_1: at_1 / scored,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    Ok(DocumentEval { documents: n, passages: corpus.passages.len(), labels: distinct.len(), k, aggregations: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{self, ReadOptions};
    use crate::eval::testing::Words;

    #[test]
    fn neighbours_sharing_the_label_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.jsonl");
        let lines = [
            r#"{"text": "Cats purr and cats nap in the sun.\n\nKittens chase string.", "label": "cat"}"#,
            r#"{"text": "A cat naps while kittens purr.", "label": "cat"}"#,
            r#"{"text": "Engines burn fuel in cars.\n\nPistons move in engines.", "label": "car"}"#,
            r#"{"text": "Cars need fuel and pistons.", "label": "car"}"#,
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let name = path.display().to_string();
        let mut opts = ReadOptions::default();
        opts.ingest.text_field = "text".into();
        let read = corpus::read(std::slice::from_ref(&name), &opts, &Words).unwrap();
        let c = Corpus::embed(read, &Words, &mut |_| {}).unwrap();
        let labels = super::super::themes::read_labels(&path, "text", "label").unwrap();
        let r = score(&c, &labels, 1, &Aggregation::ALL, Route::Auto, &mut crate::pipeline::Quiet).unwrap();
        assert_eq!((r.documents, r.labels), (4, 2));
        for a in &r.aggregations {
            assert_eq!(a.route, Route::Exact);
            assert_eq!(a.precision_at_1, 1.0, "{:?}", a.aggregation);
        }
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["aggregations"][1]["aggregation"], "best-match");
        assert_eq!(json["aggregations"][1]["precision_at_k"], 100.0);
        let short = Labels { file: "x".into(), labels: vec!["a".into()] };
        assert!(matches!(
            score(&c, &short, 1, &Aggregation::ALL, Route::Auto, &mut crate::pipeline::Quiet),
            Err(EvalError::LabelCount { .. })
        ));
    }
}
