//! Documents alike: how similar two documents are as wholes, computed from
//! their passages' vectors, and each document's nearest other documents.
//!
//! Owns the aggregations from passage cosines to one document score
//! (`Aggregation`), the passages regrouped by document (`Documents`), the
//! nearest documents of one document (`Documents::nearest`, always exact)
//! and of every document (`Documents::all_nearest`). For the mean, every
//! document's list comes from the k-NN graph of the mean vectors
//! (`index::Neighbours`: exact up to `index::EXACT_MAX_UNITS` documents,
//! HNSW above); for the passage-pair aggregations, every pair of documents
//! is compared up to `EXACT_MAX_PASSAGES` passages, and above that the
//! candidates come from an HNSW graph over the mean vectors.
//!
//! Every passage cosine is `matrix::dot`, pair by pair, so a score does not
//! depend on the route, the thread count or which document asked: the
//! score of A with B is bitwise the score of B with A. Lists are ordered by
//! score, higher first, then by document index.

use std::ops::Range;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::Serialize;

use crate::index::{Neighbours, Route};
use crate::matrix::{centroid, dot};

#[derive(Debug, thiserror::Error)]
pub enum DocumentsError {
    #[error("{doc} is the only document with passages in {corpus}: there is no other document to compare it with")]
    NoOthers { doc: String, corpus: String },
    #[error("{passages} passage documents but {vectors} vectors: they must match")]
    Mismatch { passages: usize, vectors: usize },
    #[error("passage {passage} belongs to document {doc}, but there are only {count} documents")]
    NoSuchDocument { passage: usize, doc: usize, count: usize },
}

/// How the cosines between two documents' passages become one score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Aggregation {
    /// The cosine of the documents' normalised mean passage vectors
    /// (`themes::document_vectors`): what the documents are about overall.
    /// The default: on BBC News (`motif eval documents`) as precise as
    /// `BestMatch` (precision@5 93.9% against 93.7%) at a twentieth of the
    /// time, and the only one whose candidates are exact at any size.
    #[default]
    Mean,
    /// For each passage, its best cosine with the other document's
    /// passages; the mean of those, taken both ways and averaged (a
    /// symmetrised Chamfer similarity): a document that holds another's
    /// passages among others of its own still scores high.
    BestMatch,
    /// The mean of the `TOP_MATCHES` highest passage-pair cosines: two
    /// documents sharing a few passages score high however much else
    /// differs.
    TopMatches,
}

impl Aggregation {
    pub const ALL: [Aggregation; 3] = [Aggregation::Mean, Aggregation::BestMatch, Aggregation::TopMatches];

    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Mean => "mean",
            Aggregation::BestMatch => "best-match",
            Aggregation::TopMatches => "top-matches",
        }
    }
}

/// Passage pairs averaged by `Aggregation::TopMatches`.
pub const TOP_MATCHES: usize = 3;

/// Up to this many passages `all_nearest` compares every document with
/// every other under `BestMatch` and `TopMatches` (each passage pair
/// twice). Measured on BBC News (13,285 passages, 384 dimensions, 2 shared
/// cores): best-match over all pairs took 32 s, growing with the square of
/// the passages (about 75 s at 20,000, 7 minutes at 50,000), so above this
/// the candidates come from an HNSW graph over the document means instead.
pub const EXACT_MAX_PASSAGES: usize = 20_000;

/// Extra candidates the mean's k-NN graph keeps beyond k, so that scoring
/// them again with `matrix::dot` (as `nearest` does) cannot change which
/// documents make the top k.
const MEAN_SLACK: usize = 8;

/// Candidates per document taken from the HNSW graph on that route (at
/// least this many, and at least four times the k asked for).
pub const HNSW_CANDIDATES: usize = 50;

/// One document found: its index and its score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DocHit {
    pub doc: usize,
    pub score: f32,
}

/// Every document's nearest others, and the route that found them.
#[derive(Debug, Clone, PartialEq)]
pub struct AllNearest {
    /// `lists[d]`: document d's nearest others, best first (empty for a
    /// document without passages, or when it is the only one).
    pub lists: Vec<Vec<DocHit>>,
    /// `Exact` or `Hnsw` (never `Auto`).
    pub route: Route,
}

/// Passage vectors regrouped by document: each document's passages as one
/// contiguous block of rows, and its normalised mean vector.
pub struct Documents {
    names: Vec<String>,
    dim: usize,
    /// Passage vectors, document by document.
    rows: Vec<f32>,
    /// Row range of each document in `rows`.
    ranges: Vec<Range<usize>>,
    /// Normalised mean per document (zero for one without passages).
    means: Array2<f32>,
}

impl Documents {
    /// Groups `vectors` (unit rows, one per passage) by `docs[i]`, passage
    /// i's document among `names`.
    pub fn new(vectors: ArrayView2<f32>, docs: &[usize], names: Vec<String>) -> Result<Documents, DocumentsError> {
        if docs.len() != vectors.nrows() {
            return Err(DocumentsError::Mismatch { passages: docs.len(), vectors: vectors.nrows() });
        }
        let count = names.len();
        let mut by_doc: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (i, &d) in docs.iter().enumerate() {
            by_doc.get_mut(d).ok_or(DocumentsError::NoSuchDocument { passage: i, doc: d, count })?.push(i);
        }
        let dim = vectors.ncols();
        let mut rows = Vec::with_capacity(vectors.len());
        let mut ranges = Vec::with_capacity(count);
        let mut means = Vec::with_capacity(count * dim);
        for members in &by_doc {
            let start = rows.len() / dim.max(1);
            for &i in members {
                rows.extend(vectors.row(i).iter());
            }
            ranges.push(start..start + members.len());
            means.extend(centroid(vectors, members));
        }
        let means = Array2::from_shape_vec((count, dim), means).expect("one mean per document");
        Ok(Documents { names, dim, rows, ranges, means })
    }

    /// The documents of a corpus.
    pub fn of(corpus: &crate::corpus::Corpus) -> Result<Documents, DocumentsError> {
        let docs: Vec<usize> = corpus.passages.iter().map(|p| p.doc).collect();
        Documents::new(corpus.vectors.view(), &docs, corpus.documents.clone())
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn name(&self, doc: usize) -> &str {
        &self.names[doc]
    }

    /// How many passages document `doc` has.
    pub fn passages(&self, doc: usize) -> usize {
        self.ranges[doc].len()
    }

    /// All passages of all documents.
    pub fn total_passages(&self) -> usize {
        self.ranges.iter().map(|r| r.len()).sum()
    }

    fn passage(&self, i: usize) -> &[f32] {
        &self.rows[i * self.dim..(i + 1) * self.dim]
    }

    /// The score of documents `a` and `b` under `agg` (symmetric; 0 when
    /// either has no passages).
    pub fn score(&self, a: usize, b: usize, agg: Aggregation) -> f32 {
        let (ra, rb) = (self.ranges[a].clone(), self.ranges[b].clone());
        if ra.is_empty() || rb.is_empty() {
            return 0.0;
        }
        match agg {
            Aggregation::Mean => {
                dot(self.means.row(a).as_slice().expect("standard"), self.means.row(b).as_slice().expect("standard"))
            }
            Aggregation::BestMatch => {
                let mut col_best = vec![f32::NEG_INFINITY; rb.len()];
                let mut rows_sum = 0f64;
                for i in ra.clone() {
                    let mut best = f32::NEG_INFINITY;
                    for (c, j) in rb.clone().enumerate() {
                        let s = dot(self.passage(i), self.passage(j));
                        best = best.max(s);
                        col_best[c] = col_best[c].max(s);
                    }
                    rows_sum += best as f64;
                }
                let cols_sum: f64 = col_best.iter().map(|&s| s as f64).sum();
                (0.5 * (rows_sum / ra.len() as f64 + cols_sum / rb.len() as f64)) as f32
            }
            Aggregation::TopMatches => {
                // The best TOP_MATCHES cosines, highest first. The pairs
                // come in the same set whichever document is `a`, and the
                // kept values do not depend on their order.
                let mut top = [f32::NEG_INFINITY; TOP_MATCHES];
                for i in ra.clone() {
                    for j in rb.clone() {
                        let s = dot(self.passage(i), self.passage(j));
                        if s > top[TOP_MATCHES - 1] {
                            let mut p = TOP_MATCHES - 1;
                            while p > 0 && top[p - 1] < s {
                                top[p] = top[p - 1];
                                p -= 1;
                            }
                            top[p] = s;
                        }
                    }
                }
                let kept: Vec<f64> = top.iter().filter(|s| s.is_finite()).map(|&s| s as f64).collect();
                (kept.iter().sum::<f64>() / kept.len() as f64) as f32
            }
        }
    }

    fn others(&self, doc: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(move |&b| b != doc && !self.ranges[b].is_empty())
    }

    /// Up to `k` documents most similar to `doc`, best first, comparing it
    /// with every other document that has passages. `corpus` names the
    /// collection in errors.
    pub fn nearest(&self, doc: usize, k: usize, agg: Aggregation, corpus: &str) -> Result<Vec<DocHit>, DocumentsError> {
        let candidates: Vec<usize> = self.others(doc).collect();
        if candidates.is_empty() {
            return Err(DocumentsError::NoOthers { doc: self.names[doc].clone(), corpus: corpus.to_string() });
        }
        Ok(self.best(doc, candidates, k, agg))
    }

    /// Scores `candidates` against `doc` and keeps the best `k`.
    fn best(&self, doc: usize, candidates: Vec<usize>, k: usize, agg: Aggregation) -> Vec<DocHit> {
        if self.ranges[doc].is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<DocHit> =
            candidates.into_par_iter().map(|b| DocHit { doc: b, score: self.score(doc, b, agg) }).collect();
        sort_hits(&mut hits);
        hits.truncate(k);
        hits
    }

    /// The route `all_nearest` takes for `Route::Auto`.
    pub fn auto_route(&self, agg: Aggregation) -> Route {
        let fits = match agg {
            Aggregation::Mean => self.len() <= crate::index::EXACT_MAX_UNITS,
            _ => self.total_passages() <= EXACT_MAX_PASSAGES,
        };
        if fits {
            Route::Exact
        } else {
            Route::Hnsw
        }
    }

    /// Every document's `k` nearest others. `route`: `Exact` finds them
    /// exactly, `Hnsw` rescores the candidates an HNSW graph over the mean
    /// vectors gives, `Auto` chooses by size (`auto_route`). `progress` is
    /// told of documents done.
    pub fn all_nearest(&self, k: usize, agg: Aggregation, route: Route, progress: &mut dyn FnMut(usize)) -> AllNearest {
        let route = match route {
            Route::Auto => self.auto_route(agg),
            other => other,
        };
        let members: Vec<usize> = (0..self.len()).filter(|&d| !self.ranges[d].is_empty()).collect();
        let want = match route {
            Route::Hnsw => Some(HNSW_CANDIDATES.max(4 * k)),
            _ if agg == Aggregation::Mean => Some(k + MEAN_SLACK),
            _ => None,
        };
        let graph = want.map(|want| Neighbours::build(self.means.view(), members.clone(), want, route, &mut |_| {}));
        let mut lists = vec![Vec::new(); self.len()];
        // Chunks of documents in parallel inside, progress between them.
        for chunk in (0..self.len()).collect::<Vec<_>>().chunks(64) {
            let done: Vec<(usize, Vec<DocHit>)> = chunk
                .par_iter()
                .map(|&a| {
                    let candidates: Vec<usize> = match &graph {
                        None => self.others(a).collect(),
                        Some(g) => match g.local(a) {
                            Some(i) => {
                                let mut c: Vec<usize> = g.nearest(i, g.knn.k).into_iter().map(|(u, _)| u).collect();
                                c.sort_unstable();
                                c
                            }
                            None => Vec::new(),
                        },
                    };
                    (a, self.best(a, candidates, k, agg))
                })
                .collect();
            for (a, hits) in done {
                lists[a] = hits;
            }
            progress(chunk.len());
        }
        AllNearest { lists, route }
    }
}

/// By score, higher first, then by document.
fn sort_hits(hits: &mut [DocHit]) {
    hits.sort_unstable_by(|x, y| y.score.total_cmp(&x.score).then(x.doc.cmp(&y.doc)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::clustered_vectors;

    /// Six documents of three passages each from 6 clusters in 16-D (each
    /// document's passages from different clusters), document 6 a near
    /// copy of document 2, and document 7 a single passage.
    fn docs() -> Documents {
        let v = clustered_vectors(22, 16, 11, 0.4, 5);
        let mut data: Vec<f32> = Vec::new();
        let mut pdoc = Vec::new();
        for d in 0..6 {
            for p in 0..3 {
                data.extend(v.row(d * 3 + p).iter());
                pdoc.push(d);
            }
        }
        // Document 6: document 2's passages, slightly moved, in another order.
        for p in [2, 0, 1] {
            let mut x: Vec<f32> = v.row(2 * 3 + p).iter().zip(v.row(18).iter()).map(|(a, b)| a + 0.05 * b).collect();
            crate::matrix::normalize(&mut x);
            data.extend(x);
            pdoc.push(6);
        }
        data.extend(v.row(19).iter());
        pdoc.push(7);
        let m = Array2::from_shape_vec((pdoc.len(), 16), data).unwrap();
        Documents::new(m.view(), &pdoc, (0..8).map(|d| format!("d{d}")).collect()).unwrap()
    }

    #[test]
    fn a_document_is_nearest_its_near_copy_by_every_aggregation() {
        let d = docs();
        for agg in Aggregation::ALL {
            let hits = d.nearest(2, 3, agg, "c").unwrap();
            assert_eq!(hits[0].doc, 6, "{agg:?}: {hits:?}");
            assert!(hits[0].score > 0.9 && hits[0].score > hits[1].score, "{agg:?}: {hits:?}");
            assert_eq!(d.nearest(6, 1, agg, "c").unwrap()[0].doc, 2, "{agg:?}");
            assert!(hits.iter().all(|h| h.doc != 2), "never itself");
        }
    }

    #[test]
    fn scores_are_symmetric_and_lists_ordered_and_deterministic() {
        let d = docs();
        for agg in Aggregation::ALL {
            for a in 0..8 {
                for b in 0..8 {
                    assert_eq!(d.score(a, b, agg).to_bits(), d.score(b, a, agg).to_bits(), "{agg:?} {a} {b}");
                }
            }
            let all = d.all_nearest(7, agg, Route::Exact, &mut |_| {});
            assert_eq!(all.route, Route::Exact);
            for (a, list) in all.lists.iter().enumerate() {
                assert_eq!(list.len(), 7);
                assert!(list
                    .windows(2)
                    .all(|w| w[0].score > w[1].score || (w[0].score == w[1].score && w[0].doc < w[1].doc)));
                assert_eq!(list, &d.nearest(a, 7, agg, "c").unwrap(), "one document's list is its row of all");
            }
            assert_eq!(all, d.all_nearest(7, agg, Route::Exact, &mut |_| {}));
        }
        // Ties go to the lower document: two identical copies.
        let m = Array2::from_shape_vec((3, 2), vec![1.0, 0.0, 0.6, 0.8, 0.6, 0.8]).unwrap();
        let d = Documents::new(m.view(), &[0, 1, 2], vec!["a".into(), "b".into(), "c".into()]).unwrap();
        let hits = d.nearest(0, 2, Aggregation::BestMatch, "c").unwrap();
        assert_eq!(hits.iter().map(|h| h.doc).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn one_passage_documents_score_their_one_cosine() {
        let d = docs();
        for agg in Aggregation::ALL {
            let hits = d.nearest(7, 7, agg, "c").unwrap();
            assert_eq!(hits.len(), 7);
        }
        let m = Array2::from_shape_vec((2, 2), vec![1.0, 0.0, 0.6, 0.8]).unwrap();
        let d = Documents::new(m.view(), &[0, 1], vec!["a".into(), "b".into()]).unwrap();
        for agg in Aggregation::ALL {
            assert!((d.score(0, 1, agg) - 0.6).abs() < 1e-6, "{agg:?}");
        }
    }

    #[test]
    fn a_lone_document_gets_a_message_not_a_panic() {
        let m = Array2::from_shape_vec((2, 2), vec![1.0, 0.0, 0.6, 0.8]).unwrap();
        // "b" has no passages, so "a" has no other document.
        let d = Documents::new(m.view(), &[0, 0], vec!["a".into(), "b".into()]).unwrap();
        let err = d.nearest(0, 5, Aggregation::BestMatch, "idx").unwrap_err().to_string();
        assert!(err.contains("a is the only document") && err.contains("idx"), "{err}");
        let all = d.all_nearest(5, Aggregation::BestMatch, Route::Auto, &mut |_| {});
        assert!(all.lists.iter().all(|l| l.is_empty()));
        assert!(matches!(
            Documents::new(m.view(), &[0, 3], vec!["a".into()]),
            Err(DocumentsError::NoSuchDocument { passage: 1, doc: 3, count: 1 })
        ));
        assert!(matches!(Documents::new(m.view(), &[0], vec!["a".into()]), Err(DocumentsError::Mismatch { .. })));
    }

    #[test]
    fn the_hnsw_route_finds_what_the_exact_one_does() {
        let v = clustered_vectors(900, 24, 30, 0.5, 11);
        let pdoc: Vec<usize> = (0..900).map(|i| i / 3).collect();
        let d = Documents::new(v.view(), &pdoc, (0..300).map(|i| format!("d{i}")).collect()).unwrap();
        let mut seen = 0;
        let exact = d.all_nearest(5, Aggregation::BestMatch, Route::Exact, &mut |n| seen += n);
        assert_eq!(seen, 300);
        let hnsw = d.all_nearest(5, Aggregation::BestMatch, Route::Hnsw, &mut |_| {});
        assert_eq!(hnsw.route, Route::Hnsw);
        let found: usize = exact
            .lists
            .iter()
            .zip(&hnsw.lists)
            .map(|(e, h)| h.iter().filter(|x| e.iter().any(|y| y.doc == x.doc)).count())
            .sum();
        assert!(found as f64 / 1500.0 > 0.95, "recall {found}/1500");
    }
}
