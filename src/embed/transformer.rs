//! `motif_bert::SentenceModel` as an `Embedder`: the trait's calls map one
//! to one onto the model's own, whose errors become `EmbedError`s.

use ndarray::Array2;

use super::{EmbedError, Embedder, Role, SentenceModel};

impl Embedder for SentenceModel {
    fn name(&self) -> &str {
        &self.info().name
    }

    fn dim(&self) -> usize {
        self.info().dim
    }

    fn max_content_tokens(&self) -> usize {
        SentenceModel::max_content_tokens(self)
    }

    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedError> {
        Ok(self.token_offsets(text)?)
    }

    fn embed(&self, texts: &[&str], progress: &mut dyn FnMut(usize)) -> Result<Array2<f32>, EmbedError> {
        Ok(self.embed_with_stats(texts, progress)?.0)
    }

    fn embed_queries(&self, texts: &[&str]) -> Result<Array2<f32>, EmbedError> {
        Ok(self.embed_as(Role::Query, texts, &mut |_| {})?.0)
    }

    fn device_name(&self) -> String {
        SentenceModel::device_name(self)
    }

    fn kernels(&self) -> String {
        self.info().kernels.clone()
    }
}
