//! The model's tokenizer, set up as sentence-transformers runs it, and the
//! padding of token ids into batches.

use std::path::Path;

use tokenizers::{Tokenizer, TruncationParams, TruncationStrategy};

use crate::backend::TokenBatch;
use crate::error::Error;

pub(crate) struct Tokens {
    tokenizer: Tokenizer,
    /// The same tokenizer without truncation, for the splitter's windows.
    spans: Tokenizer,
    pad_id: u32,
}

impl Tokens {
    /// Reads tokenizer.json, truncating at `max_tokens` (special tokens included).
    pub(crate) fn load(path: &Path, max_tokens: usize) -> Result<Tokens, Error> {
        let file_err = |source| Error::TokenizerFile { path: path.to_path_buf(), source };
        let mut tokenizer = Tokenizer::from_file(path).map_err(file_err)?;
        // tokenizer.json files often ship fixed padding and a shorter truncation
        // (all-MiniLM-L6-v2's: 128); sentence-transformers pads per batch and
        // truncates at max_seq_length, and parity needs the same.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                ..Default::default()
            }))
            .map_err(file_err)?;
        let mut spans = tokenizer.clone();
        spans.with_truncation(None).map_err(file_err)?;
        let pad_id = tokenizer
            .get_padding()
            .map(|p| p.pad_id)
            .or_else(|| tokenizer.token_to_id("[PAD]"))
            .or_else(|| tokenizer.token_to_id("<pad>"))
            .unwrap_or(0);
        Ok(Tokens { tokenizer, spans, pad_id })
    }

    /// Token ids with special tokens, truncated to the model's maximum.
    pub(crate) fn ids(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, Error> {
        let encodings = self.tokenizer.encode_batch_fast(texts.to_vec(), true).map_err(Error::Tokenize)?;
        Ok(encodings.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// Byte ranges of the text's tokens, without special tokens or truncation.
    pub(crate) fn offsets(&self, text: &str) -> Result<Vec<(usize, usize)>, Error> {
        let encoding = self.spans.encode(text, false).map_err(Error::Tokenize)?;
        Ok(encoding.get_offsets().to_vec())
    }

    /// Rows padded to the longest (at least 1), with the attention mask.
    pub(crate) fn pad<'a>(&self, rows: impl Iterator<Item = &'a [u32]> + Clone) -> TokenBatch {
        let len = rows.clone().map(<[u32]>::len).max().unwrap_or(0).max(1);
        let n = rows.clone().count();
        let mut batch = TokenBatch {
            ids: vec![self.pad_id; n * len],
            type_ids: vec![0; n * len],
            mask: vec![0; n * len],
            rows: n,
            len,
            pool_skip: 0,
        };
        for (r, ids) in rows.enumerate() {
            batch.ids[r * len..r * len + ids.len()].copy_from_slice(ids);
            batch.mask[r * len..r * len + ids.len()].fill(1);
        }
        batch
    }
}
