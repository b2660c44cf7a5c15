//! What a sentence-transformers folder says beyond config.json: its
//! modules (modules.json), how it pools (the Pooling module's
//! config.json), its maximum length and lower-casing
//! (sentence_bert_config.json), and its prompts
//! (config_sentence_transformers.json).
//!
//! sentence-transformers runs a folder as a chain of modules; motif runs
//! the chain Transformer → Pooling → Normalize and refuses any other
//! module by name, rather than return vectors that are not the model's.
//! A folder without modules.json is a plain Hugging Face encoder, which
//! sentence-transformers pools by the mean; motif does the same.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::backend::weights::read_json;
use crate::backend::Pooling;
use crate::error::Error;

/// How the folder turns token vectors into a sentence vector, and what
/// text goes in.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderConfig {
    pub pooling: Pooling,
    /// False: pooling leaves the prompt's tokens out (instructor-style models).
    pub include_prompt: bool,
    pub max_seq_length: Option<usize>,
    /// Lower-case texts before tokenizing (sentence_bert_config.json's `do_lower_case`).
    pub do_lower_case: bool,
    /// A Normalize module ends the chain. motif's vectors are unit length
    /// either way (cosine similarity is what it compares); this says whether
    /// sentence-transformers' own are.
    pub normalize: bool,
    pub prompts: Prompts,
}

/// Text put before every input, by role, as sentence-transformers' `prompts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prompts {
    /// For a search query (`motif query`): the prompt named "query" or
    /// "search_query", else the default prompt.
    pub query: Option<String>,
    /// For the texts indexed and compared with each other: "passage",
    /// "document" or "search_document", else the default prompt.
    pub passage: Option<String>,
}

#[derive(Deserialize)]
struct Module {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    path: String,
}

/// Both layouts: sentence-transformers 6 writes `embedding_dimension` and
/// `pooling_mode` ("mean", or a list of modes); older folders (most on the
/// hub) `word_embedding_dimension` and one `pooling_mode_*` flag per mode.
#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(alias = "embedding_dimension")]
    word_embedding_dimension: Option<usize>,
    pooling_mode: Option<serde_json::Value>,
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
    #[serde(default)]
    pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
    #[serde(default = "yes")]
    include_prompt: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
    #[serde(default)]
    do_lower_case: bool,
}

/// Where sentence-transformers 6 keeps the maximum length (its
/// sentence_bert_config.json no longer does).
#[derive(Deserialize)]
struct TokenizerConfig {
    model_max_length: Option<f64>,
}

#[derive(Deserialize, Default)]
struct SentenceTransformersConfig {
    #[serde(default)]
    prompts: BTreeMap<String, String>,
    default_prompt_name: Option<String>,
}

impl FolderConfig {
    /// Reads the folder's sentence-transformers files; `hidden` is the
    /// encoder's width (config.json), which the pooling must agree with.
    pub fn read(dir: &Path, hidden: usize) -> Result<FolderConfig, Error> {
        let (pooling_dir, normalize) = modules(dir)?;
        let (pooling, include_prompt) = match pooling_dir {
            Some(sub) => read_pooling(&dir.join(sub), hidden)?,
            None => (Pooling::Mean, true),
        };
        let bert_config = dir.join("sentence_bert_config.json");
        let (mut max_seq_length, do_lower_case) = if bert_config.is_file() {
            let c: SentenceBertConfig = read_json(&bert_config)?;
            (c.max_seq_length, c.do_lower_case)
        } else {
            (None, false)
        };
        let tokenizer_config = dir.join("tokenizer_config.json");
        if max_seq_length.is_none() && tokenizer_config.is_file() {
            // Tokenizers without a limit say 1e30; the position table caps it later.
            let c: TokenizerConfig = read_json(&tokenizer_config)?;
            max_seq_length = c.model_max_length.filter(|&n| n >= 1.0).map(|n| n.min(1e9) as usize);
        }
        let st_config = dir.join("config_sentence_transformers.json");
        let st: SentenceTransformersConfig =
            if st_config.is_file() { read_json(&st_config)? } else { SentenceTransformersConfig::default() };
        Ok(FolderConfig {
            pooling,
            include_prompt,
            max_seq_length,
            do_lower_case,
            normalize,
            prompts: Prompts::choose(&st.prompts, st.default_prompt_name.as_deref()),
        })
    }
}

impl Prompts {
    fn choose(prompts: &BTreeMap<String, String>, default: Option<&str>) -> Prompts {
        let named = |names: &[&str]| {
            names.iter().chain(default.as_slice()).find_map(|n| prompts.get(*n).filter(|p| !p.is_empty())).cloned()
        };
        Prompts {
            query: named(&["query", "search_query"]),
            passage: named(&["passage", "document", "search_document"]),
        }
    }
}

/// The Pooling module's folder (None: no modules.json, a plain encoder)
/// and whether a Normalize module follows.
fn modules(dir: &Path) -> Result<(Option<String>, bool), Error> {
    let path = dir.join("modules.json");
    if !path.is_file() {
        // A plain encoder, or a folder that kept only 1_Pooling: sentence-transformers
        // runs it as Transformer + Pooling, with no Normalize.
        let pooling = dir.join("1_Pooling").join("config.json").is_file().then(|| "1_Pooling".to_string());
        return Ok((pooling, false));
    }
    let modules: Vec<Module> = read_json(&path)?;
    let mut pooling = None;
    let mut normalize = false;
    for (i, m) in modules.iter().enumerate() {
        let kind = m.kind.rsplit('.').next().unwrap_or(&m.kind);
        match (i, kind) {
            (0, "Transformer") => {}
            (_, "Pooling") if pooling.is_none() => pooling = Some(m.path.clone()),
            (_, "Normalize") => normalize = true,
            _ => {
                return Err(Error::Model {
                    path,
                    message: format!(
                        "module {} ({}) is not supported: motif runs a Transformer, then Pooling, then an optional Normalize",
                        m.kind,
                        if m.path.is_empty() { "no folder" } else { &m.path }
                    ),
                })
            }
        }
    }
    if pooling.is_none() {
        return Err(Error::Model {
            path,
            message: "no Pooling module: this folder gives token vectors, not sentence vectors".into(),
        });
    }
    Ok((pooling, normalize))
}

fn read_pooling(dir: &Path, hidden: usize) -> Result<(Pooling, bool), Error> {
    let path = dir.join("config.json");
    if !path.is_file() {
        return Err(Error::Model {
            path,
            message: "missing: modules.json names this Pooling module but its config is not there; copy the \
                      model's whole folder (it says which pooling the model was trained with)"
                .into(),
        });
    }
    let c: PoolingConfig = read_json(&path)?;
    if let Some(dim) = c.word_embedding_dimension.filter(|&d| d != hidden) {
        return Err(Error::Model {
            path,
            message: format!("word_embedding_dimension is {dim} but the encoder (config.json) gives {hidden}"),
        });
    }
    let supported = "cls, mean, max, mean_sqrt_len_tokens or lasttoken";
    let modes: Vec<String> = match &c.pooling_mode {
        Some(serde_json::Value::String(mode)) => vec![mode.clone()],
        Some(serde_json::Value::Array(modes)) => modes.iter().map(|m| m.as_str().unwrap_or("?").to_string()).collect(),
        Some(other) => {
            return Err(Error::Model {
                path,
                message: format!("pooling_mode {other} is neither a mode nor a list of modes"),
            })
        }
        None => [
            (c.pooling_mode_cls_token, "cls"),
            (c.pooling_mode_mean_tokens, "mean"),
            (c.pooling_mode_max_tokens, "max"),
            (c.pooling_mode_mean_sqrt_len_tokens, "mean_sqrt_len_tokens"),
            (c.pooling_mode_lasttoken, "lasttoken"),
            (c.pooling_mode_weightedmean_tokens, "weightedmean"),
        ]
        .into_iter()
        .filter(|m| m.0)
        .map(|m| m.1.to_string())
        .collect(),
    };
    let pooling = match modes.as_slice() {
        // No flag set: sentence-transformers pools by the mean.
        [] => Pooling::Mean,
        [mode] => match mode.as_str() {
            "cls" => Pooling::Cls,
            "mean" => Pooling::Mean,
            "max" => Pooling::Max,
            "mean_sqrt_len_tokens" => Pooling::MeanSqrtLen,
            "lasttoken" => Pooling::LastToken,
            other => {
                return Err(Error::Model {
                    path,
                    message: format!("pooling mode {other} is not supported; motif pools by {supported}"),
                })
            }
        },
        several => {
            return Err(Error::Model {
                path,
                message: format!(
                    "{} pooling modes are on ({}), which sentence-transformers concatenates; motif pools one way",
                    several.len(),
                    several.join(", ")
                ),
            })
        }
    };
    Ok((pooling, c.include_prompt))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    const MODULES: &str = r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
        {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
        {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]"#;

    #[test]
    fn reads_pooling_length_case_and_prompts() {
        let dir = folder(&[
            ("modules.json", MODULES),
            (
                "1_Pooling/config.json",
                r#"{"word_embedding_dimension": 64, "pooling_mode_lasttoken": true, "include_prompt": false}"#,
            ),
            ("sentence_bert_config.json", r#"{"max_seq_length": 48, "do_lower_case": true}"#),
            (
                "config_sentence_transformers.json",
                r#"{"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": null}"#,
            ),
        ]);
        let c = FolderConfig::read(dir.path(), 64).unwrap();
        assert_eq!(
            (c.pooling, c.include_prompt, c.max_seq_length, c.do_lower_case),
            (Pooling::LastToken, false, Some(48), true)
        );
        assert!(c.normalize);
        assert_eq!(c.prompts.query.as_deref(), Some("query: "));
        assert_eq!(c.prompts.passage.as_deref(), Some("passage: "));
        // sentence-transformers 6's layout: one pooling_mode, the length in tokenizer_config.json.
        let dir = folder(&[
            ("modules.json", MODULES),
            ("1_Pooling/config.json", r#"{"embedding_dimension": 64, "pooling_mode": "cls", "include_prompt": true}"#),
            ("sentence_bert_config.json", r#"{"transformer_task": "feature-extraction"}"#),
            ("tokenizer_config.json", r#"{"model_max_length": 64}"#),
        ]);
        let c = FolderConfig::read(dir.path(), 64).unwrap();
        assert_eq!((c.pooling, c.max_seq_length), (Pooling::Cls, Some(64)));

        // A default prompt serves the role with none of its own.
        let dir = folder(&[(
            "config_sentence_transformers.json",
            r#"{"prompts": {"retrieval": "Represent this: ", "search_query": "search_query: "}, "default_prompt_name": "retrieval"}"#,
        )]);
        let c = FolderConfig::read(dir.path(), 64).unwrap();
        assert_eq!(c.pooling, Pooling::Mean, "a plain encoder is mean-pooled, as sentence-transformers does");
        assert_eq!(c.prompts.query.as_deref(), Some("search_query: "));
        assert_eq!(c.prompts.passage.as_deref(), Some("Represent this: "));
    }

    #[test]
    fn a_folder_motif_cannot_run_is_named_with_what_is_wrong() {
        let err = |files: &[(&str, &str)]| FolderConfig::read(folder(files).path(), 64).unwrap_err().to_string();
        let e = err(&[("modules.json", MODULES)]);
        assert!(e.contains("1_Pooling") && e.contains("config.json") && e.contains("missing"), "{e}");
        let e = err(&[
            ("modules.json", MODULES),
            ("1_Pooling/config.json", r#"{"word_embedding_dimension": 768, "pooling_mode_mean_tokens": true}"#),
        ]);
        assert!(e.contains("768") && e.contains("64"), "{e}");
        let e = err(&[
            ("modules.json", MODULES),
            ("1_Pooling/config.json", r#"{"pooling_mode_weightedmean_tokens": true}"#),
        ]);
        assert!(e.contains("weightedmean is not supported"), "{e}");
        let e = err(&[
            ("modules.json", MODULES),
            ("1_Pooling/config.json", r#"{"embedding_dimension": 64, "pooling_mode": ["mean", "max"]}"#),
        ]);
        assert!(e.contains("2 pooling modes") && e.contains("mean, max"), "{e}");
        let e = err(&[
            ("modules.json", MODULES),
            ("1_Pooling/config.json", r#"{"pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": true}"#),
        ]);
        assert!(e.contains("2 pooling modes"), "{e}");
        let dense = MODULES.replace(
            "2_Normalize\",\"type\":\"sentence_transformers.models.Normalize",
            "2_Dense\",\"type\":\"sentence_transformers.models.Dense",
        );
        let e = err(&[("modules.json", &dense), ("1_Pooling/config.json", r#"{"pooling_mode_mean_tokens": true}"#)]);
        assert!(e.contains("sentence_transformers.models.Dense (2_Dense) is not supported"), "{e}");
        let e = err(&[("modules.json", r#"[{"path":"","type":"sentence_transformers.models.Transformer"}]"#)]);
        assert!(e.contains("no Pooling module"), "{e}");
    }
}
