//! The seam between motif and whatever turns texts into vectors.
//!
//! This module owns the `Embedder` trait, which everything downstream of
//! the splitter takes (`&dyn Embedder`), its error type, and the one place
//! a model is chosen: `ModelChoice::resolve` reads `--model NAME|PATH` once
//! at start-up and `ModelChoice::load` returns a boxed `Embedder`. Two
//! implementations exist:
//!
//! - a transformer (`motif_bert::SentenceModel`, adapted in `transformer`):
//!   a known model from the manifest or any sentence-transformers folder;
//! - `hash::HashEmbedder`, selected by the name `hash`: hashed word
//!   features, deterministic and instant, with no model to fetch. It is a
//!   fake for tests and for trying motif, not a semantic model: texts that
//!   share words come out close, paraphrases in other words do not.
//!
//! Model fetching, the tokenizer, the kernels and all `unsafe` code live in
//! the `motif-bert` crate; this module only chooses and adapts.

pub mod hash;
mod transformer;

use std::path::Path;

use ndarray::Array2;

pub use motif_bert::model::{FetchEvent, ModelConfig, DEFAULT_MODEL};
pub use motif_bert::{
    BackendKind, CpuFeatures, DeviceChoice, EmbedStats, LoadOptions, ModelInfo, Precision, Role, SentenceModel,
};

use motif_bert::model::{self, ModelDir, ModelError};

pub use hash::HashEmbedder;

/// Texts to unit-length vectors, and where a text's tokens are (for the
/// splitter). Implementations are cheap to share across threads.
pub trait Embedder: Send + Sync {
    /// The model's name as an index records it.
    fn name(&self) -> &str;
    /// Length of every vector.
    fn dim(&self) -> usize;
    /// Content tokens the model reads at once (special tokens excluded): the splitter's window limit.
    fn max_content_tokens(&self) -> usize;
    /// Byte ranges of the text's tokens (no special tokens, no truncation).
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedError>;
    /// Unit-length vectors, one row per text in input order; calls progress(n) as n more texts are done.
    fn embed(&self, texts: &[&str], progress: &mut dyn FnMut(usize)) -> Result<Array2<f32>, EmbedError>;
    /// `embed` for search queries, which some models prefix with a prompt
    /// of their own ("query: "); the same as `embed` for the others.
    fn embed_queries(&self, texts: &[&str]) -> Result<Array2<f32>, EmbedError> {
        self.embed(texts, &mut |_| {})
    }
    /// Where it runs, for messages.
    fn device_name(&self) -> String;
    /// What computes the vectors, for messages ("int8 on AVX-512 VNNI").
    fn kernels(&self) -> String;
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// Loading or running a transformer failed.
    #[error(transparent)]
    Model(#[from] motif_bert::Error),
    /// Finding or fetching a transformer's files failed.
    #[error(transparent)]
    Fetch(#[from] ModelError),
    #[error("unknown model \"{name}\": known models are {known}; or give the path of a sentence-transformers folder")]
    Unknown { name: String, known: String },
    #[error("\"{HASH_MODEL}\" is motif's built-in hashed-words embedder; this needs a transformer model (a known model or a sentence-transformers folder)")]
    NotTransformer,
}

/// The name that selects `HashEmbedder` (dimension `HASH_DIM`) instead of a model.
pub const HASH_MODEL: &str = "hash";
/// The dimension of the `hash` embedder.
pub const HASH_DIM: usize = 384;

/// The model `--model` names, chosen once: the built-in hash embedder, or a
/// transformer (a known model, maybe not fetched yet, or a folder).
#[derive(Debug, Clone)]
pub enum ModelChoice {
    Hash,
    Transformer(ModelDir),
}

impl ModelChoice {
    /// Reads `NAME|PATH` without loading or fetching anything: `hash` (any
    /// case) is the built-in embedder, even when a folder of that name
    /// exists (write `./hash` for the folder); an existing folder is a
    /// sentence-transformers model; anything else must be a known model.
    pub fn resolve(spec: &str, config: &ModelConfig) -> Result<ModelChoice, EmbedError> {
        if spec.eq_ignore_ascii_case(HASH_MODEL) {
            return Ok(ModelChoice::Hash);
        }
        match model::locate(spec, config) {
            Ok(dir) => Ok(ModelChoice::Transformer(dir)),
            Err(ModelError::Unknown { name, known }) => {
                Err(EmbedError::Unknown { name, known: format!("{known}, {HASH_MODEL} (built in, for tests)") })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The name an index records: `hash`, the manifest's name, or the folder as given.
    pub fn name(&self) -> &str {
        match self {
            ModelChoice::Hash => HASH_MODEL,
            ModelChoice::Transformer(dir) => &dir.name,
        }
    }

    /// Identifies the vectors' source: an index refuses vectors of another.
    pub fn fingerprint(&self) -> Result<String, EmbedError> {
        match self {
            ModelChoice::Hash => Ok(HashEmbedder::new(HASH_DIM).fingerprint()),
            ModelChoice::Transformer(dir) => Ok(dir.fingerprint()?),
        }
    }

    /// True for a known model that is not in the cache yet.
    pub fn needs_fetch(&self) -> bool {
        matches!(self, ModelChoice::Transformer(dir) if !dir.is_present())
    }

    /// Fetches a known model that is not cached yet (first use), unless the
    /// config is offline; does nothing otherwise.
    pub fn ensure(&self, config: &ModelConfig, progress: &mut dyn FnMut(FetchEvent)) -> Result<(), EmbedError> {
        match self {
            ModelChoice::Hash => Ok(()),
            ModelChoice::Transformer(dir) => Ok(model::ensure(dir, config, progress)?),
        }
    }

    /// The model's folder, for a transformer.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            ModelChoice::Hash => None,
            ModelChoice::Transformer(dir) => Some(&dir.dir),
        }
    }

    /// Loads the embedder (a known model must be fetched, see `ensure`).
    /// The options apply to transformers; `hash` needs none.
    pub fn load(&self, options: &LoadOptions) -> Result<Box<dyn Embedder>, EmbedError> {
        match self {
            ModelChoice::Hash => Ok(Box::new(HashEmbedder::new(HASH_DIM))),
            ModelChoice::Transformer(_) => Ok(Box::new(self.load_transformer(options)?)),
        }
    }

    /// The transformer itself, for what needs more than the trait (the
    /// benchmarks' token counts and FLOPs).
    pub fn load_transformer(&self, options: &LoadOptions) -> Result<SentenceModel, EmbedError> {
        match self {
            ModelChoice::Hash => Err(EmbedError::NotTransformer),
            ModelChoice::Transformer(dir) => {
                if !dir.is_present() {
                    return Err(ModelError::NotFetched { name: dir.name.clone() }.into());
                }
                Ok(SentenceModel::load(dir, options)?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_chosen_by_name_without_any_file() {
        let cache = tempfile::tempdir().unwrap();
        let config = ModelConfig { offline: true, ..ModelConfig::new(cache.path()) };
        let choice = ModelChoice::resolve("HASH", &config).unwrap();
        assert_eq!(choice.name(), "hash");
        assert_eq!(choice.fingerprint().unwrap(), "hash-v1-384");
        assert!(!choice.needs_fetch() && choice.dir().is_none());
        choice.ensure(&config, &mut |_| panic!("hash fetches nothing")).unwrap();
        let e = choice.load(&LoadOptions::default()).unwrap();
        assert_eq!((e.name(), e.dim(), e.max_content_tokens()), ("hash", 384, 254));
        assert!(matches!(choice.load_transformer(&LoadOptions::default()), Err(EmbedError::NotTransformer)));
    }

    #[test]
    fn unknown_names_list_hash_and_a_missing_model_is_not_loaded() {
        let cache = tempfile::tempdir().unwrap();
        let config = ModelConfig { offline: true, ..ModelConfig::new(cache.path()) };
        let err = ModelChoice::resolve("no-such-model", &config).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown model") && text.contains(DEFAULT_MODEL) && text.contains("hash"), "{text}");

        let known = ModelChoice::resolve(DEFAULT_MODEL, &config).unwrap();
        assert!(known.needs_fetch());
        let err = known.ensure(&config, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("motif model fetch all-MiniLM-L6-v2"), "{err}");
        let err = known.load(&LoadOptions::default()).err().expect("not fetched");
        assert!(err.to_string().contains("motif model fetch all-MiniLM-L6-v2"), "{err}");
    }

    #[test]
    fn a_broken_folder_reports_the_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), b"{}").unwrap();
        let config = ModelConfig::new(dir.path().join("cache"));
        let choice = ModelChoice::resolve(&dir.path().display().to_string(), &config).unwrap();
        assert!(!choice.needs_fetch());
        let err = choice.load(&LoadOptions::default()).err().expect("no weights");
        assert!(err.to_string().contains("model.safetensors"), "{err}");
    }
}
