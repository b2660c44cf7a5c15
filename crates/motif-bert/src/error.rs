//! What can go wrong loading a model folder or running it. Underlying
//! errors (I/O, JSON, candle, tokenizers) are kept as sources, so a caller
//! that prints the chain shows the root cause; the messages themselves say
//! which file or step failed.

use std::path::PathBuf;

/// A model folder that cannot be loaded, or a batch that cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder's content is not something motif can run.
    #[error("{}: {message}", path.display())]
    Model { path: PathBuf, message: String },
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not the JSON this file should hold", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: cannot read the weights", path.display())]
    Weights {
        path: PathBuf,
        #[source]
        source: Box<candle_core::Error>,
    },
    #[error("{}: cannot read tensor {name}", path.display())]
    Tensor {
        path: PathBuf,
        name: String,
        #[source]
        source: Box<candle_core::Error>,
    },
    #[error("{}: not a usable tokenizer", path.display())]
    TokenizerFile {
        path: PathBuf,
        #[source]
        source: tokenizers::Error,
    },
    #[error("the tokenizer failed")]
    Tokenize(#[source] tokenizers::Error),
    #[error("the model computation failed")]
    Compute(#[source] Box<candle_core::Error>),
    /// A batch the model cannot take (too long, unknown token ids).
    #[error("{0}")]
    Input(String),
    /// The device or precision asked for is not available here.
    #[error("{0}")]
    Device(String),
    #[error("no usable CUDA device")]
    Cuda(#[source] Box<candle_core::Error>),
    #[error("the backend returned {got} values for a {expected}-dimension vector")]
    Shape { expected: usize, got: usize },
}

// candle's errors are large; boxed, they keep every `Result` small.
impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Compute(Box::new(e))
    }
}

/// An error and its sources on one line, `a: b: c`, for messages that
/// carry an error as text (the `--device auto` fallback note).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}
