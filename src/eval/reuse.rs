//! Text reuse (the Clough & Stevenson corpus of short answers, each graded
//! cut, light, heavy or non against its source): how much of each answer
//! lies in sentences that overlap its own source, by grade.
//!
//! The method: every document is cut into paragraphs and sentences and the
//! sentences embedded as the commands do (`corpus::sentences`), their k-NN
//! graph built (`pipeline::neighbours`) and the overlaps found in it
//! (`overlaps::find`); an answer sentence counts as reused when it overlaps
//! a sentence of its answer's source, and its kind (verbatim,
//! near-verbatim, paraphrase) is its best such match's. Per answer: the
//! share of its words in such sentences; per grade: the mean share and the
//! mix of kinds. Spearman of the share against the reuse level, and ROC AUC
//! of the share separating reused answers from non ones, sum it up.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use super::figures::{pct, round4};
use super::pairs::{roc_auc, spearman};
use super::{read_file, EvalError};
use crate::corpus::sentences::{sentence_units, SentenceVectors};
use crate::corpus::{split, Passage, Unit, Units};
use crate::embed::Embedder;
use crate::index::Route as GraphRoute;
use crate::overlaps::align::{self, Kind};
use crate::overlaps::claims::ClaimSettings;
use crate::overlaps::{self, Decision, Route, Settings};
use crate::pipeline::{self, stage, Progress};

/// The grades, most reused first.
pub const GRADES: [&str; 4] = ["cut", "light", "heavy", "non"];

/// A document of the corpus (an answer or a source).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Document {
    pub id: String,
    /// The task letter (a-e).
    pub task: String,
    pub text: String,
}

/// An answer and its source (indices into the documents), its grade and
/// reuse level (0 non … 3 cut).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graded {
    pub answer: usize,
    pub source: usize,
    pub grade: String,
    pub level: u8,
}

/// The corpus as read from its folder.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub documents: Vec<Document>,
    pub pairs: Vec<Graded>,
}

/// Reads `documents.jsonl` (records with id, task, text) and `pairs.tsv`
/// (a header, then answer_id, source_id, task, label, reuse_level) from
/// `dir`, keeping the tasks whose letter is in `tasks` (all when `None`).
pub fn read(dir: &Path, tasks: Option<&str>) -> Result<Corpus, EvalError> {
    let docs_path = dir.join("documents.jsonl");
    let pairs_path = dir.join("pairs.tsv");
    let wanted = |task: &str| tasks.is_none_or(|t| t.contains(task));
    let docs_name = docs_path.display().to_string();
    let mut documents = Vec::new();
    for (i, line) in read_file(&docs_path)?.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let d: Document = serde_json::from_str(line).map_err(|e| EvalError::Format {
            path: docs_name.clone(),
            line: i + 1,
            message: format!("not a document record: {e}"),
        })?;
        if wanted(&d.task) {
            documents.push(d);
        }
    }
    let name = pairs_path.display().to_string();
    let by_id: HashMap<&str, usize> = documents.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect();
    let mut pairs = Vec::new();
    for (i, line) in read_file(&pairs_path)?.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |message: String| EvalError::Format { path: name.clone(), line: i + 1, message };
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 {
            return Err(bad("expected answer_id, source_id, task, label, reuse_level".into()));
        }
        if !wanted(f[2]) {
            continue;
        }
        let document = |id: &str| by_id.get(id).copied().ok_or_else(|| bad(format!("{id} is not in documents.jsonl")));
        let (answer, source) = (document(f[0])?, document(f[1])?);
        let level: u8 = f[4].trim().parse().map_err(|_| bad(format!("bad reuse level {:?}", f[4])))?;
        pairs.push(Graded { answer, source, grade: f[3].to_string(), level });
    }
    if pairs.is_empty() {
        return Err(EvalError::NothingToEvaluate { path: name });
    }
    Ok(Corpus { documents, pairs })
}

/// One answer's overlap with its source.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub grade: String,
    pub level: u8,
    /// Share of the answer's words in sentences that overlap its source.
    pub share: f64,
    /// Matched answer sentences by kind, indexed by `Kind as usize`.
    pub kinds: [usize; 3],
}

impl Answer {
    fn matched(&self) -> usize {
        self.kinds.iter().sum()
    }
}

/// The answers of one grade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradeRow {
    pub grade: String,
    pub answers: usize,
    pub answers_with_overlap: usize,
    /// Mean share of an answer's words in sentences overlapping its source.
    #[serde(rename = "overlapping_text_pct", serialize_with = "pct")]
    pub overlapping_text: f64,
    /// Matched answer sentences, of all kinds.
    pub matched_sentences: usize,
    /// Shares of the matched sentences by kind.
    #[serde(rename = "verbatim_pct", serialize_with = "pct")]
    pub verbatim: f64,
    #[serde(rename = "near_verbatim_pct", serialize_with = "pct")]
    pub near_verbatim: f64,
    #[serde(rename = "paraphrase_pct", serialize_with = "pct")]
    pub paraphrase: f64,
}

/// What the evaluation found.
#[derive(Debug, Clone, Serialize)]
pub struct Reuse {
    /// "claim" (sentences and the claims inside them, as `motif overlaps`
    /// by default) or "sentence" (whole sentences).
    pub granularity: &'static str,
    pub model: String,
    pub threshold: f32,
    pub lexical_weight: f32,
    pub answers: usize,
    pub sentences: usize,
    /// The grades present, in `GRADES` order.
    pub grades: Vec<GradeRow>,
    #[serde(rename = "spearman_share_vs_level", serialize_with = "round4")]
    pub spearman: f64,
    #[serde(rename = "auc_reused_vs_non", serialize_with = "round4")]
    pub auc: f64,
}

/// The sentences of every document, embedded (each distinct text once).
pub fn sentences(
    documents: &[Document],
    embedder: &dyn Embedder,
    progress: &mut dyn Progress,
) -> Result<Units, EvalError> {
    let mut passages = Vec::new();
    for (d, doc) in documents.iter().enumerate() {
        for (ordinal, para) in split::paragraphs(&doc.text).into_iter().enumerate() {
            passages.push(Passage {
                doc: d,
                ordinal,
                start: para.start,
                end: para.end,
                windowed: false,
                text: doc.text[para].to_string(),
            });
        }
    }
    let distinct: HashSet<&str> = passages
        .iter()
        .flat_map(|p| split::sentences(&p.text, 0..p.text.len()).into_iter().map(|r| &p.text[r]))
        .collect();
    let total = distinct.len();
    let mut cache = SentenceVectors::new(embedder.dim());
    // No passage vectors to lend: every sentence is embedded.
    let none = ndarray::Array2::<f32>::zeros((0, embedder.dim()));
    Ok(stage(progress, "embedding", total, |p| sentence_units(&passages, none.view(), embedder, &mut cache, p))?)
}

/// Runs the method (see the module's documentation) on a corpus read by
/// `read`, with the overlap decision `decision`.
pub fn evaluate(
    corpus: &Corpus,
    decision: Decision,
    claims: ClaimSettings,
    embedder: &dyn Embedder,
    progress: &mut dyn Progress,
) -> Result<Reuse, EvalError> {
    decision.check()?;
    let units = sentences(&corpus.documents, embedder, progress)?;
    let settings = Settings { decision, claims, ..Settings::default() };
    let graph = pipeline::neighbours(&units, None, settings.min_content_words, settings.k, GraphRoute::Auto, progress);
    let texts = units.text_refs();
    let found = overlaps::find(&units.list, &texts, units.view(), Route::Graph(&graph), &settings)?;
    let matches: Vec<Match> = if claims.enabled {
        let mut cache = SentenceVectors::new(embedder.dim());
        let (found, _) = stage(progress, "claims", 0, |p| {
            overlaps::claim_matches(&units, &found, &settings, &mut cache, embedder, p)
        })?;
        found.iter().map(|m| Match { a: m.a, b: m.b, score: m.score, kind: m.kind }).collect()
    } else {
        found
            .pairs
            .iter()
            .map(|p| Match {
                a: p.a,
                b: p.b,
                score: p.score,
                kind: align::kind(&align::words(texts[p.a]), &align::words(texts[p.b])),
            })
            .collect()
    };
    let answers = answers(&units.list, &texts, &matches, &corpus.pairs);
    let (grades, spearman, auc) = summarise(&answers);
    Ok(Reuse {
        granularity: if claims.enabled { "claim" } else { "sentence" },
        model: embedder.name().to_string(),
        threshold: decision.threshold,
        lexical_weight: decision.lexical_weight,
        answers: answers.len(),
        sentences: units.len(),
        grades,
        spearman,
        auc,
    })
}

/// Two overlapping sentence units, their score and kind (of the whole
/// sentences, or of their best matching claims).
#[derive(Debug, Clone, Copy)]
pub struct Match {
    pub a: usize,
    pub b: usize,
    pub score: f32,
    pub kind: Kind,
}

/// Each graded answer's overlap with its source, from the overlapping
/// pairs of sentence units (`units[i].doc` indexes the documents).
pub fn answers(units: &[Unit], texts: &[&str], matches: &[Match], graded: &[Graded]) -> Vec<Answer> {
    let source_of: HashMap<usize, usize> = graded.iter().map(|g| (g.answer, g.source)).collect();
    // Per answer sentence overlapping its source: the best match's score and kind.
    let mut best: HashMap<usize, (f32, Kind)> = HashMap::new();
    for m in matches {
        for (x, y) in [(m.a, m.b), (m.b, m.a)] {
            if source_of.get(&units[x].doc) == Some(&units[y].doc) {
                let e = best.entry(x).or_insert((f32::MIN, m.kind));
                if m.score > e.0 {
                    *e = (m.score, m.kind);
                }
            }
        }
    }
    graded
        .iter()
        .map(|g| {
            let (mut all, mut matched, mut kinds) = (0usize, 0usize, [0usize; 3]);
            for (u, _) in units.iter().enumerate().filter(|(_, u)| u.doc == g.answer) {
                let words = align::words(texts[u]).len();
                all += words;
                if let Some(&(_, kind)) = best.get(&u) {
                    matched += words;
                    kinds[slot(kind)] += 1;
                }
            }
            Answer {
                grade: g.grade.clone(),
                level: g.level,
                share: if all == 0 { 0.0 } else { matched as f64 / all as f64 },
                kinds,
            }
        })
        .collect()
}

/// An answer's count of paraphrase, near-verbatim and verbatim matches:
/// the corpus is English, so a cross-language match (none occurs) would
/// count as a paraphrase; the sentence alignment used here never marks
/// conflicts (`overlaps::claims` does), which would count as one too.
fn slot(kind: Kind) -> usize {
    match kind {
        Kind::CrossLanguage | Kind::Paraphrase | Kind::Conflict => 0,
        Kind::NearVerbatim => 1,
        Kind::Verbatim => 2,
    }
}

/// Per grade (those present, in `GRADES` order): the answers, the mean
/// share and the kinds of the matched sentences; with Spearman of share
/// against level and ROC AUC of share for reused (level > 0) against non.
pub fn summarise(answers: &[Answer]) -> (Vec<GradeRow>, f64, f64) {
    let shares: Vec<f64> = answers.iter().map(|a| a.share).collect();
    let levels: Vec<f64> = answers.iter().map(|a| a.level as f64).collect();
    let reused: Vec<bool> = answers.iter().map(|a| a.level > 0).collect();
    let mut rows = Vec::new();
    for grade in GRADES {
        let of: Vec<&Answer> = answers.iter().filter(|a| a.grade == grade).collect();
        if of.is_empty() {
            continue;
        }
        let mut kinds = [0usize; 3];
        for a in &of {
            for (k, n) in kinds.iter_mut().zip(a.kinds) {
                *k += n;
            }
        }
        let total: usize = kinds.iter().sum();
        let share_of = |k: Kind| if total == 0 { 0.0 } else { kinds[slot(k)] as f64 / total as f64 };
        rows.push(GradeRow {
            grade: grade.to_string(),
            answers: of.len(),
            answers_with_overlap: of.iter().filter(|a| a.matched() > 0).count(),
            overlapping_text: of.iter().map(|a| a.share).sum::<f64>() / of.len() as f64,
            matched_sentences: total,
            verbatim: share_of(Kind::Verbatim),
            near_verbatim: share_of(Kind::NearVerbatim),
            paraphrase: share_of(Kind::Paraphrase),
        });
    }
    (rows, spearman(&shares, &levels), roc_auc(&shares, &reused))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::testing::{keys, Words};
    use crate::pipeline::Quiet;

    const SOURCE: &str = "Inheritance lets a new class reuse the methods of an existing class. \
        The new class adds its own fields and methods. Dynamic programming solves problems by combining stored answers.";

    fn write(dir: &Path, docs: &[(&str, &str, &str)], pairs: &str) {
        let lines: Vec<String> = docs
            .iter()
            .map(|(id, task, text)| serde_json::json!({"id": id, "task": task, "text": text}).to_string())
            .collect();
        std::fs::write(dir.join("documents.jsonl"), lines.join("\n") + "\n").unwrap();
        std::fs::write(dir.join("pairs.tsv"), format!("answer_id\tsource_id\ttask\tlabel\treuse_level\n{pairs}"))
            .unwrap();
    }

    fn answer(grade: &str, level: u8, share: f64, kinds: [usize; 3]) -> Answer {
        Answer { grade: grade.into(), level, share, kinds }
    }

    #[test]
    fn bad_input_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, &[("a1", "a", "text"), ("src", "a", "text")], "a1\tsrc\ta\tcut\t3\n");
        assert_eq!(read(d, None).unwrap().pairs, vec![Graded { answer: 0, source: 1, grade: "cut".into(), level: 3 }]);

        // A record without an id.
        std::fs::write(
            d.join("documents.jsonl"),
            "{\"id\": \"a1\", \"task\": \"a\", \"text\": \"x\"}\n\n{\"task\": \"a\", \"text\": \"y\"}\n",
        )
        .unwrap();
        let err = read(d, None).unwrap_err().to_string();
        assert!(err.contains("documents.jsonl:3") && err.contains("id"), "{err}");

        // A pair naming a document that is not there.
        write(d, &[("a1", "a", "text"), ("src", "a", "text")], "a1\tsrc\ta\tcut\t3\na2\tsrc\ta\tnon\t0\n");
        let err = read(d, None).unwrap_err().to_string();
        assert!(err.contains("pairs.tsv:3: a2 is not in documents.jsonl"), "{err}");
        // ... unless its task is left out.
        write(d, &[("a1", "a", "text"), ("src", "a", "text")], "a1\tsrc\ta\tcut\t3\na2\tsrc\tb\tnon\t0\n");
        assert_eq!(read(d, Some("a")).unwrap().pairs.len(), 1);

        // A bad level, a short line, nothing to evaluate, no file.
        write(d, &[("a1", "a", "text"), ("src", "a", "text")], "a1\tsrc\ta\tcut\tthree\n");
        let err = read(d, None).unwrap_err().to_string();
        assert!(err.contains("pairs.tsv:2") && err.contains("bad reuse level"), "{err}");
        write(d, &[("a1", "a", "text"), ("src", "a", "text")], "a1\tsrc\ta\n");
        assert!(read(d, None).unwrap_err().to_string().contains("pairs.tsv:2: expected answer_id"));
        write(d, &[("a1", "a", "text"), ("src", "a", "text")], "a1\tsrc\ta\tcut\t3\n");
        assert!(matches!(read(d, Some("e")), Err(EvalError::NothingToEvaluate { .. })));
        let err = read(&d.join("nowhere"), None).unwrap_err().to_string();
        assert!(err.contains("nowhere") && err.contains("documents.jsonl"), "{err}");
    }

    #[test]
    fn grades_are_summed_in_grade_order() {
        let answers = [
            answer("non", 0, 0.0, [0, 0, 0]),
            answer("cut", 3, 1.0, [0, 1, 3]),
            answer("non", 0, 0.2, [1, 0, 0]),
            answer("light", 2, 0.5, [1, 1, 0]),
            answer("cut", 3, 0.6, [0, 0, 2]),
        ];
        let (rows, rho, auc) = summarise(&answers);
        assert_eq!(rows.iter().map(|r| r.grade.as_str()).collect::<Vec<_>>(), ["cut", "light", "non"]);
        let cut = &rows[0];
        assert_eq!((cut.answers, cut.answers_with_overlap, cut.matched_sentences), (2, 2, 6));
        assert!((cut.overlapping_text - 0.8).abs() < 1e-12);
        assert!(
            (cut.verbatim - 5.0 / 6.0).abs() < 1e-12
                && (cut.near_verbatim - 1.0 / 6.0).abs() < 1e-12
                && cut.paraphrase == 0.0
        );
        let non = &rows[2];
        assert_eq!((non.answers, non.answers_with_overlap, non.matched_sentences), (2, 1, 1));
        assert!((non.overlapping_text - 0.1).abs() < 1e-12 && non.paraphrase == 1.0);
        // Every reused answer shares more than every non one.
        assert_eq!(auc, 1.0);
        assert!(rho > 0.8, "{rho}");
        let v = serde_json::to_value(&rows[0]).unwrap();
        let want = [
            "answers",
            "answers_with_overlap",
            "grade",
            "matched_sentences",
            "near_verbatim_pct",
            "overlapping_text_pct",
            "paraphrase_pct",
            "verbatim_pct",
        ];
        assert_eq!(keys(&v), want);
        assert_eq!(v["overlapping_text_pct"], 80.0);
        assert_eq!(v["verbatim_pct"], 83.3);
    }

    #[test]
    fn a_copied_answer_overlaps_its_source_and_an_unrelated_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let docs = [
            (
                "cut1",
                "a",
                "Inheritance lets a new class reuse the methods of an existing class. I think this is useful.",
            ),
            ("non1", "a", "Tomatoes grow best in warm sunny gardens. Water them every evening."),
            ("orig", "a", SOURCE),
        ];
        write(d, &docs, "cut1\torig\ta\tcut\t3\nnon1\torig\ta\tnon\t0\n");
        let corpus = read(d, None).unwrap();
        // Whole sentences and claims alike: the copied sentence matches
        // best as a whole.
        for enabled in [false, true] {
            let claims = ClaimSettings { enabled, ..ClaimSettings::default() };
            let r = evaluate(&corpus, Decision::default(), claims, &Words, &mut Quiet).unwrap();
            assert_eq!(r.granularity, if enabled { "claim" } else { "sentence" });
            assert_eq!((r.answers, r.sentences), (2, 7));
            let (cut, non) = (&r.grades[0], &r.grades[1]);
            assert_eq!((cut.grade.as_str(), non.grade.as_str()), ("cut", "non"));
            assert_eq!((cut.answers_with_overlap, cut.matched_sentences, cut.verbatim), (1, 1, 1.0), "{cut:?}");
            // The copied sentence is 12 of the answer's 17 words.
            assert!((cut.overlapping_text - 12.0 / 17.0).abs() < 1e-12, "{cut:?}");
            assert_eq!((non.answers_with_overlap, non.overlapping_text), (0, 0.0), "{non:?}");
            assert_eq!(r.auc, 1.0);
            let v = serde_json::to_value(&r).unwrap();
            let want = [
                "answers",
                "auc_reused_vs_non",
                "grades",
                "granularity",
                "lexical_weight",
                "model",
                "sentences",
                "spearman_share_vs_level",
                "threshold",
            ];
            assert_eq!(keys(&v), want);
        }
    }
}
