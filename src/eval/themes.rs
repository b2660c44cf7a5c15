//! Themes against topic labels: a labelled JSONL corpus clustered at the
//! level of whole records (the mean of their passages' vectors), of their
//! passages or of their sentences, each item labelled with its record's
//! label, and the themes scored against those labels (NMI, ARI, V-measure,
//! from `clusters`). Clustering is `themes::build`'s, as the commands
//! cluster; outliers count as one more cluster, neither dropped nor
//! rewarded, and the scores are also given on the clustered items alone
//! (as often reported for HDBSCAN and BERTopic).

use std::path::Path;
use std::time::Instant;

use ndarray::Array2;
use serde::{Serialize, Serializer};

use super::clusters;
use super::figures::{round3, round4};
use super::{read_file, EvalError};
use crate::corpus::{Corpus, ReadDocuments, UnitKind};
use crate::embed::Embedder;
use crate::pipeline::{self, Progress};
use crate::themes::{self, Options};

/// What is clustered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// One vector per record: the normalised mean of its passages' vectors.
    Article,
    /// Every passage, labelled with its record's label.
    Passage,
    /// Every sentence of every passage, labelled with its record's label.
    Sentence,
}

impl Level {
    /// The kind of unit whose default settings apply.
    pub fn unit(self) -> UnitKind {
        match self {
            Level::Sentence => UnitKind::Sentence,
            Level::Article | Level::Passage => UnitKind::Passage,
        }
    }
}

/// The reference label of each record, in the order ingest reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// The file they came from.
    pub file: String,
    pub labels: Vec<String>,
}

/// Reads each non-blank line's label from a JSONL file, leaving out the
/// records without text as ingest does. A label may be a string, a number
/// or a boolean.
pub fn read_labels(path: &Path, text_field: &str, label_field: &str) -> Result<Labels, EvalError> {
    let file = path.display().to_string();
    let mut labels = Vec::new();
    for (i, line) in read_file(path)?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| EvalError::Format { path: file.clone(), line: i + 1, message };
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
        let body = value.get(text_field).and_then(|v| v.as_str()).unwrap_or("");
        if body.trim().is_empty() {
            continue; // ingest leaves records without text out too
        }
        let label = match value.get(label_field) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => v.to_string(),
            _ => return Err(bad(format!("no label field \"{label_field}\" (choose one with --label-field)"))),
        };
        labels.push(label);
    }
    Ok(Labels { file, labels })
}

/// The corpus of documents already read, with passage vectors made
/// elsewhere (`vectors_name` names them in errors): they must be one row
/// per passage, of the embedder's dimension.
pub fn with_vectors(
    read: ReadDocuments,
    vectors: Array2<f32>,
    embedder: &dyn Embedder,
    corpus_name: &str,
    vectors_name: &str,
) -> Result<Corpus, EvalError> {
    if vectors.dim() != (read.passages.len(), embedder.dim()) {
        return Err(EvalError::VectorShape {
            vectors_path: vectors_name.to_string(),
            corpus: corpus_name.to_string(),
            rows: vectors.nrows(),
            cols: vectors.ncols(),
            passages: read.passages.len(),
            dim: embedder.dim(),
        });
    }
    Ok(Corpus::new(
        read.documents.into_iter().map(|d| d.id).collect(),
        read.passages,
        vectors,
        embedder.name().to_string(),
    )?)
}

/// What is clustered, with a vector, a reference label, a document and a
/// text each (keywords come from the full texts of what is clustered).
#[derive(Debug, Clone)]
pub struct Items {
    pub level: Level,
    pub vectors: Array2<f32>,
    pub truth: Vec<String>,
    pub docs: Vec<usize>,
    pub texts: Vec<String>,
}

/// The items of `corpus` at `level` (sentences are embedded), labelled
/// with their record's label (`labels`: one per document).
pub fn items(
    corpus: &Corpus,
    labels: &Labels,
    level: Level,
    embedder: &dyn Embedder,
    progress: &mut dyn Progress,
) -> Result<Items, EvalError> {
    let n = corpus.documents.len();
    if n != labels.labels.len() {
        return Err(EvalError::LabelCount { path: labels.file.clone(), records: n, labels: labels.labels.len() });
    }
    let label = |d: usize| labels.labels[d].clone();
    let pdoc: Vec<usize> = corpus.passages.iter().map(|x| x.doc).collect();
    let (vectors, docs, texts) = match level {
        Level::Article => {
            let mut t = vec![String::new(); n];
            for x in &corpus.passages {
                t[x.doc].push_str(&x.text);
                t[x.doc].push('\n');
            }
            (themes::document_vectors(corpus.vectors.view(), &pdoc, n), (0..n).collect(), t)
        }
        Level::Passage => (corpus.vectors.clone(), pdoc, corpus.passages.iter().map(|x| x.text.clone()).collect()),
        Level::Sentence => {
            let u = pipeline::units(corpus, UnitKind::Sentence, embedder, progress)?;
            (u.vectors, u.list.iter().map(|x| x.doc).collect(), u.texts)
        }
    };
    let truth = docs.iter().map(|&d| label(d)).collect();
    Ok(Items { level, vectors, truth, docs, texts })
}

/// The clustering settings, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    pub min_size: usize,
    pub seed: u64,
    pub themes: Option<usize>,
    /// Neighbours per unit asked for (`None`: found from the item count).
    #[serde(serialize_with = "auto_or")]
    pub neighbors: Option<usize>,
    pub resolution: f64,
    pub reassign_outliers: bool,
}

fn auto_or<S: Serializer>(k: &Option<usize>, s: S) -> Result<S::Ok, S::Error> {
    match k {
        Some(k) => k.serialize(s),
        None => "auto".serialize(s),
    }
}

impl Settings {
    pub fn of(opts: &Options) -> Settings {
        let c = &opts.cluster;
        Settings {
            min_size: c.min_size,
            seed: c.seed,
            themes: c.themes,
            neighbors: (c.k != 0).then_some(c.k),
            resolution: c.resolution,
            reassign_outliers: opts.reassign_outliers,
        }
    }
}

/// NMI, ARI and V-measure of one assignment: of the clustered items only
/// (`ThemeEval::clustered_only`) or of one level of the tree (`LevelScore`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Agreement {
    #[serde(serialize_with = "round4")]
    pub nmi: f64,
    #[serde(serialize_with = "round4")]
    pub ari: f64,
    #[serde(serialize_with = "round4")]
    pub v_measure: f64,
}

impl From<&clusters::Scores> for Agreement {
    fn from(s: &clusters::Scores) -> Agreement {
        Agreement { nmi: s.nmi, ari: s.ari, v_measure: s.v_measure }
    }
}

/// The scores of one level of the theme tree (outliers one more cluster).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelScore {
    pub level: usize,
    pub themes: usize,
    #[serde(flatten)]
    pub scores: Agreement,
}

/// A theme found, with the reference labels of its members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundTheme {
    pub id: usize,
    pub size: usize,
    pub label: String,
    /// (reference label, members with it), most first, then by label.
    #[serde(skip)]
    pub labels: Vec<(String, usize)>,
}

/// The themes of the items, scored against their labels.
#[derive(Debug, Clone, Serialize)]
pub struct ThemeEval {
    pub level: Level,
    pub items: usize,
    /// Distinct reference labels.
    pub labels: usize,
    pub themes: usize,
    pub outliers: usize,
    #[serde(serialize_with = "round4")]
    pub outlier_share: f64,
    #[serde(serialize_with = "round4")]
    pub nmi: f64,
    #[serde(serialize_with = "round4")]
    pub ari: f64,
    #[serde(serialize_with = "round4")]
    pub v_measure: f64,
    #[serde(serialize_with = "round4")]
    pub homogeneity: f64,
    #[serde(serialize_with = "round4")]
    pub completeness: f64,
    pub clustered_only: Agreement,
    pub settings: Settings,
    #[serde(serialize_with = "round3")]
    pub cluster_seconds: f64,
    pub themes_found: Vec<FoundTheme>,
    /// The scores at each level of the theme tree, level 0 (the themes
    /// scored above) first.
    pub tree: Vec<LevelScore>,
    /// Neighbours per item the clustering read.
    #[serde(skip)]
    pub neighbours: usize,
}

/// Clusters the items with `opts` and scores the themes against the labels.
pub fn score(items: &Items, opts: &Options) -> Result<ThemeEval, EvalError> {
    let texts: Vec<&str> = items.texts.iter().map(String::as_str).collect();
    let truth: Vec<&str> = items.truth.iter().map(String::as_str).collect();
    let start = Instant::now();
    let found = themes::build(items.vectors.view(), &texts, &items.docs, opts)?;
    let cluster_seconds = start.elapsed().as_secs_f64();
    let pred = &found.assignment;
    let s = clusters::scores(&truth, pred);
    let n = truth.len();
    let kept: Vec<usize> = (0..n).filter(|&i| pred[i].is_some()).collect();
    let s_kept = clusters::scores(
        &kept.iter().map(|&i| truth[i]).collect::<Vec<_>>(),
        &kept.iter().map(|&i| pred[i]).collect::<Vec<_>>(),
    );
    let mut classes = truth.clone();
    classes.sort_unstable();
    classes.dedup();
    let themes_found = found
        .themes
        .iter()
        .map(|t| {
            let mut counts: Vec<(String, usize)> = Vec::new();
            for &m in &t.members {
                match counts.iter_mut().find(|(l, _)| l == truth[m]) {
                    Some(e) => e.1 += 1,
                    None => counts.push((truth[m].to_string(), 1)),
                }
            }
            counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            FoundTheme { id: t.id, size: t.size(), label: t.label.clone(), labels: counts }
        })
        .collect();
    let tree = (0..found.levels())
        .map(|level| {
            let s = clusters::scores(&truth, &found.assignment_at(level));
            LevelScore { level, themes: found.level(level).len(), scores: (&s).into() }
        })
        .collect();
    Ok(ThemeEval {
        level: items.level,
        items: n,
        labels: classes.len(),
        themes: found.themes.len(),
        outliers: found.outliers.len(),
        outlier_share: found.outliers.len() as f64 / n.max(1) as f64,
        nmi: s.nmi,
        ari: s.ari,
        v_measure: s.v_measure,
        homogeneity: s.homogeneity,
        completeness: s.completeness,
        clustered_only: (&s_kept).into(),
        settings: Settings::of(opts),
        cluster_seconds,
        themes_found,
        tree,
        neighbours: themes::neighbours_needed(themes::members(&texts, opts.min_content_words).len(), opts),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Passage;
    use crate::eval::testing::{keys, Words, DIM};
    use crate::pipeline::Quiet;
    use crate::themes::cluster::Params;

    #[test]
    fn labels_are_read_in_record_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("l.jsonl");
        let lines = [
            r#"{"text": "one", "label": "sport"}"#,
            "",
            r#"{"text": "  ", "label": "x"}"#,
            r#"{"body": "b", "text": "two", "label": 3}"#,
            r#"{"text": "three", "label": true}"#,
        ];
        std::fs::write(&f, lines.join("\n")).unwrap();
        let l = read_labels(&f, "text", "label").unwrap();
        assert_eq!(l.labels, ["sport", "3", "true"]);
        // Another text field: only the second record has one.
        assert_eq!(read_labels(&f, "body", "label").unwrap().labels, ["3"]);
    }

    #[test]
    fn a_missing_label_or_bad_json_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("u.jsonl");
        std::fs::write(&f, "{\"text\": \"one\", \"label\": \"a\"}\n{\"text\": \"two\"}\n").unwrap();
        let err = read_labels(&f, "text", "label").unwrap_err().to_string();
        assert!(err.contains("u.jsonl:2") && err.contains("no label field \"label\""), "{err}");
        std::fs::write(&f, "{\"text\": \"one\", \"topic\": [\"a\"]}\n").unwrap();
        let err = read_labels(&f, "text", "topic").unwrap_err().to_string();
        assert!(err.contains("u.jsonl:1") && err.contains("\"topic\""), "{err}");
        std::fs::write(&f, "{\"text\": \"one\", \"label\": \"a\"}\n\nnot json\n").unwrap();
        let err = read_labels(&f, "text", "label").unwrap_err().to_string();
        assert!(err.contains("u.jsonl:3: not JSON"), "{err}");
        assert!(matches!(read_labels(&dir.path().join("none.jsonl"), "text", "label"), Err(EvalError::Io { .. })));
    }

    /// Twelve records on two topics, two passages each; a word of its own
    /// in each passage keeps the vectors apart.
    fn corpus() -> (Corpus, Labels) {
        let topics = [
            ("troops", "Troops massed near the border at {}. Soldiers and tanks moved closer to the frontier."),
            ("bread", "Bread prices rose in the {} markets. Bakers blamed the cost of flour and wheat."),
        ];
        let mut passages = Vec::new();
        let mut labels = Vec::new();
        for d in 0..12 {
            let (label, text) = topics[d % 2];
            for ordinal in 0..2 {
                let text = text.replace("{}", &format!("site{d}x{ordinal}"));
                passages.push(Passage {
                    doc: d,
                    ordinal,
                    start: ordinal * 200,
                    end: ordinal * 200 + text.len(),
                    windowed: false,
                    text,
                });
            }
            labels.push(label.to_string());
        }
        let texts: Vec<&str> = passages.iter().map(|p| p.text.as_str()).collect();
        let vectors = Words.embed(&texts, &mut |_| {}).unwrap();
        let documents = (0..12).map(|d| format!("r{d}")).collect();
        (Corpus::new(documents, passages, vectors, "words".into()).unwrap(), Labels { file: "l.jsonl".into(), labels })
    }

    #[test]
    fn items_at_each_level_carry_their_records_label() {
        let (c, labels) = corpus();
        let a = items(&c, &labels, Level::Article, &Words, &mut Quiet).unwrap();
        assert_eq!((a.vectors.dim(), a.docs.len(), a.truth[1].as_str()), ((12, DIM), 12, "bread"));
        assert!(a.texts[0].starts_with("Troops") && a.texts[0].ends_with('\n'));
        let p = items(&c, &labels, Level::Passage, &Words, &mut Quiet).unwrap();
        assert_eq!((p.vectors.nrows(), p.docs[3], p.truth[3].as_str()), (24, 1, "bread"));
        let s = items(&c, &labels, Level::Sentence, &Words, &mut Quiet).unwrap();
        assert_eq!((s.vectors.nrows(), s.docs[4], s.truth[4].as_str()), (48, 1, "bread"));
        let short = Labels { labels: labels.labels[..11].to_vec(), ..labels };
        let err = items(&c, &short, Level::Article, &Words, &mut Quiet).unwrap_err().to_string();
        assert_eq!(err, "l.jsonl: 12 records with text but 11 labels");
    }

    #[test]
    fn two_clean_topics_score_one() {
        let (c, labels) = corpus();
        // Each passage's 11 neighbours are the rest of its topic.
        let opts = Options { cluster: Params { k: 11, min_size: 3, ..Params::default() }, ..Options::default() };
        let r = score(&items(&c, &labels, Level::Passage, &Words, &mut Quiet).unwrap(), &opts).unwrap();
        assert_eq!((r.items, r.labels, r.themes, r.outliers), (24, 2, 2, 0), "{r:?}");
        assert_eq!((r.nmi, r.ari, r.v_measure), (1.0, 1.0, 1.0));
        assert_eq!(r.clustered_only.nmi, 1.0);
        assert_eq!(r.neighbours, 11);
        assert_eq!(r.tree.len(), 1, "two themes make one level");
        assert_eq!((r.tree[0].themes, r.tree[0].scores.nmi), (2, 1.0));
        for t in &r.themes_found {
            assert_eq!((t.size, t.labels.len(), t.labels[0].1), (12, 1, 12), "{t:?}");
        }
        let v = serde_json::to_value(&r).unwrap();
        let want = [
            "ari",
            "cluster_seconds",
            "clustered_only",
            "completeness",
            "homogeneity",
            "items",
            "labels",
            "level",
            "nmi",
            "outlier_share",
            "outliers",
            "settings",
            "themes",
            "themes_found",
            "tree",
            "v_measure",
        ];
        assert_eq!(keys(&v), want);
        assert_eq!(v["level"], "passage");
        assert_eq!(v["settings"]["neighbors"], 11);
        assert_eq!(
            keys(&v["settings"]),
            ["min_size", "neighbors", "reassign_outliers", "resolution", "seed", "themes"]
        );
        assert_eq!(keys(&v["themes_found"][0]), ["id", "label", "size"]);
        let auto = Settings::of(&Options::default());
        assert_eq!(serde_json::to_value(&auto).unwrap()["neighbors"], "auto");
    }
}
