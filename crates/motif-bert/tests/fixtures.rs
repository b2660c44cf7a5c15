//! Parity with sentence-transformers on every architecture motif runs:
//! tiny random-weight folders of BERT, MPNet and XLM-RoBERTa (and a BERT
//! with e5-style prompts), their vectors computed by sentence-transformers
//! itself for five poolings (`tests/fixtures/models`, made by
//! `scripts/make_model_fixtures.py`). Both backends, every pooling, the
//! token ids, truncation, prompts, and the errors of broken folders.

use std::path::{Path, PathBuf};

use motif_bert::model::ModelDir;
use motif_bert::{BackendKind, LoadOptions, Role, SentenceModel};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/models")
}

fn reference() -> Value {
    let text =
        std::fs::read_to_string(fixtures().join("reference.json")).expect("tests/fixtures/models/reference.json");
    serde_json::from_str(&text).unwrap()
}

fn texts(reference: &Value) -> Vec<String> {
    reference["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect()
}

fn load(dir: &Path, backend: BackendKind) -> SentenceModel {
    let model = ModelDir { name: dir.display().to_string(), dir: dir.to_path_buf(), known: None };
    // Batches of 3 so that texts of different lengths share a batch (padding).
    let options = LoadOptions { batch_size: 3, backend, ..LoadOptions::default() };
    SentenceModel::load(&model, &options).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// A copy of a fixture folder whose Pooling config names `mode`.
fn with_pooling(name: &str, mode: &str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    let from = fixtures().join(name);
    for entry in walk(&from) {
        let to = copy.path().join(entry.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    let pooling = format!(r#"{{"embedding_dimension": 64, "pooling_mode": "{mode}", "include_prompt": true}}"#);
    std::fs::write(copy.path().join("1_Pooling/config.json"), pooling).unwrap();
    copy
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn vectors(value: &Value) -> Vec<Vec<f32>> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

fn assert_parity(what: &str, got: &ndarray::Array2<f32>, want: &[Vec<f32>], texts: &[String]) {
    assert_eq!(got.nrows(), want.len(), "{what}");
    for (i, want) in want.iter().enumerate() {
        let c = cosine(got.row(i).as_slice().unwrap(), want);
        assert!(
            c >= 0.9999,
            "{what}: text {i} ({:?}…) cosine {c:.6} to sentence-transformers",
            &texts[i].chars().take(30).collect::<String>()
        );
    }
}

const MODELS: [&str; 4] = ["tiny-bert", "tiny-mpnet", "tiny-xlmr", "tiny-e5"];
const POOLINGS: [&str; 5] = ["mean", "cls", "max", "lasttoken", "mean_sqrt_len_tokens"];

#[test]
fn every_architecture_and_pooling_matches_sentence_transformers_on_both_backends() {
    let reference = reference();
    let texts = texts(&reference);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for name in MODELS {
        let r = &reference["models"][name];
        for mode in POOLINGS {
            // reference.json names the last mode by its short name.
            let key = if mode == "mean_sqrt_len_tokens" { "mean_sqrt_len" } else { mode };
            let want = vectors(&r["pooling"][key]);
            let folder = with_pooling(name, mode);
            // The pooling references are of the bare texts: tiny-e5's prompts
            // are checked in `prompts_follow_the_role`.
            std::fs::remove_file(folder.path().join("config_sentence_transformers.json")).unwrap();
            for backend in [BackendKind::Native, BackendKind::Candle] {
                let model = load(folder.path(), backend);
                let (got, _) = model.embed_with_stats(&refs, &mut |_| {}).unwrap();
                assert_parity(&format!("{name} {mode} {backend:?}"), &got, &want, &texts);
            }
        }
    }
}

#[test]
fn token_ids_and_truncation_match_sentence_transformers() {
    let reference = reference();
    let texts = texts(&reference);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for name in MODELS {
        let r = &reference["models"][name];
        let model = load(&fixtures().join(name), BackendKind::Native);
        let want: Vec<Vec<u32>> = r["token_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect())
            .collect();
        assert_eq!(model.token_ids(&refs).unwrap(), want, "{name}");
        let max = r["max_seq_length"].as_u64().unwrap() as usize;
        assert_eq!(model.info().max_tokens, max, "{name}: max_seq_length");
        assert!(want.iter().any(|ids| ids.len() == max), "{name}: a reference text is truncated");
    }
}

#[test]
fn prompts_follow_the_role() {
    let reference = reference();
    let texts = texts(&reference);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let r = &reference["models"]["tiny-e5"];
    for backend in [BackendKind::Native, BackendKind::Candle] {
        let model = load(&fixtures().join("tiny-e5"), backend);
        let (passages, _) = model.embed_as(Role::Passage, &refs, &mut |_| {}).unwrap();
        assert_parity(&format!("tiny-e5 passage {backend:?}"), &passages, &vectors(&r["prompts"]["passage"]), &texts);
        let (queries, _) = model.embed_as(Role::Query, &refs, &mut |_| {}).unwrap();
        assert_parity(&format!("tiny-e5 query {backend:?}"), &queries, &vectors(&r["prompts"]["query"]), &texts);
        // The prompt matters: a query is not embedded as a passage.
        assert!(cosine(queries.row(2).as_slice().unwrap(), passages.row(2).as_slice().unwrap()) < 0.9999);
    }
    // The splitter's windows leave room for the prompt.
    let model = load(&fixtures().join("tiny-e5"), BackendKind::Native);
    let prompt_tokens =
        model.token_offsets("passage: ").unwrap().len().max(model.token_offsets("query: ").unwrap().len());
    assert_eq!(model.max_content_tokens(), 48 - 2 - prompt_tokens);
}

#[test]
fn architectures_are_told_apart() {
    for (name, arch) in [("tiny-bert", "bert"), ("tiny-mpnet", "mpnet"), ("tiny-xlmr", "roberta"), ("tiny-e5", "bert")]
    {
        assert_eq!(load(&fixtures().join(name), BackendKind::Native).info().architecture, arch);
    }
}

/// Each broken folder gets one line that names the file and the problem.
#[test]
fn broken_folders_say_what_is_wrong() {
    let error = |edit: &dyn Fn(&Path)| {
        let copy = with_pooling("tiny-mpnet", "mean");
        edit(copy.path());
        let model = ModelDir { name: "x".into(), dir: copy.path().to_path_buf(), known: None };
        let e = SentenceModel::load(&model, &LoadOptions::default()).err().expect("a broken folder is refused");
        let line = e.to_string();
        assert!(!line.contains('\n'), "one line: {line}");
        line
    };
    let e = error(&|d| std::fs::remove_file(d.join("tokenizer.json")).unwrap());
    assert!(
        e.contains("no tokenizer.json") && e.contains("needs config.json, model.safetensors and tokenizer.json"),
        "{e}"
    );

    let e = error(&|d| {
        let config = std::fs::read_to_string(d.join("config.json")).unwrap().replace("\"mpnet\"", "\"distilbert\"");
        std::fs::write(d.join("config.json"), config).unwrap();
    });
    assert!(e.contains("model_type \"distilbert\" is not supported") && e.contains("mpnet"), "{e}");

    let e = error(&|d| {
        std::fs::write(d.join("1_Pooling/config.json"), r#"{"embedding_dimension": 768, "pooling_mode": "mean"}"#)
            .unwrap()
    });
    assert!(e.contains("1_Pooling") && e.contains("768") && e.contains("64"), "{e}");

    let e = error(&|d| std::fs::remove_file(d.join("1_Pooling/config.json")).unwrap());
    assert!(e.contains("1_Pooling") && e.contains("missing"), "{e}");

    let e = error(&|d| {
        std::fs::write(
            d.join("1_Pooling/config.json"),
            r#"{"embedding_dimension": 64, "pooling_mode": "weightedmean"}"#,
        )
        .unwrap()
    });
    assert!(e.contains("weightedmean is not supported"), "{e}");
}

/// `do_lower_case` in sentence_bert_config.json lower-cases the text before
/// the tokenizer (tiny-xlmr's tokenizer keeps case, so it shows).
#[test]
fn do_lower_case_lower_cases_before_tokenizing() {
    let folder = with_pooling("tiny-xlmr", "mean");
    let plain = load(folder.path(), BackendKind::Native);
    let text = "Great news: the launch WORKED in Zürich";
    let (upper, _) = plain.embed_with_stats(&[text], &mut |_| {}).unwrap();
    let (lower, _) = plain.embed_with_stats(&[&text.to_lowercase()], &mut |_| {}).unwrap();
    assert!(
        cosine(upper.row(0).as_slice().unwrap(), lower.row(0).as_slice().unwrap()) < 0.9999,
        "case must matter here"
    );
    std::fs::write(folder.path().join("sentence_bert_config.json"), r#"{"max_seq_length": 64, "do_lower_case": true}"#)
        .unwrap();
    let lowering = load(folder.path(), BackendKind::Native);
    let (got, _) = lowering.embed_with_stats(&[text], &mut |_| {}).unwrap();
    assert!(cosine(got.row(0).as_slice().unwrap(), lower.row(0).as_slice().unwrap()) > 0.99999);
}
