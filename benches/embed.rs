//! Criterion benchmarks of the embedding pipeline on the bundled seeds:
//! splitting, tokenizing, one model batch, and the whole corpus.
//! `motif bench embed --corpus ...` measures the same on any corpus; the
//! kernels alone are benchmarked in `crates/motif-bert/benches/kernels.rs`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use motif::corpus::ingest::{read_inputs, IngestOptions};
use motif::corpus::split::Splitter;
use motif::embed::{LoadOptions, ModelConfig, SentenceModel, DEFAULT_MODEL};

fn seeds() -> Vec<motif::corpus::ingest::Document> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds").to_string();
    read_inputs(&[dir], &IngestOptions::default()).expect("seeds/ is readable").documents
}

/// The model cache the command line uses: `$MOTIF_CACHE_DIR`, else `~/.cache/motif`.
fn cache_config() -> ModelConfig {
    let dir = std::env::var_os("MOTIF_CACHE_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into())).join(".cache/motif")
    });
    ModelConfig::new(dir)
}

fn embedding(c: &mut Criterion) {
    let model = motif_bert::model::resolve(DEFAULT_MODEL, &cache_config(), &mut |_| {})
        .expect("the default model (motif model fetch)");
    let embedder = SentenceModel::load(&model, &LoadOptions::default()).expect("model loads");
    let docs = seeds();
    let splitter = Splitter::default();
    let passages: Vec<(usize, std::ops::Range<usize>)> = docs
        .iter()
        .enumerate()
        .flat_map(|(i, d)| splitter.split(i, &d.text, &embedder).unwrap().into_iter().map(move |p| (i, p.span())))
        .collect();
    let texts: Vec<&str> = passages.iter().map(|(i, r)| &docs[*i].text[r.clone()]).collect();
    let bytes: usize = docs.iter().map(|d| d.text.len()).sum();

    let mut g = c.benchmark_group("split");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("paragraphs_seeds", |b| {
        b.iter(|| {
            docs.iter().enumerate().map(|(i, d)| splitter.split(i, &d.text, &embedder).unwrap().len()).sum::<usize>()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("tokenize");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("seeds_passages", |b| b.iter(|| embedder.token_ids(&texts).unwrap()));
    g.finish();

    let mut g = c.benchmark_group("embed");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for batch in [1usize, 32] {
        let slice = &texts[..batch.min(texts.len())];
        g.throughput(Throughput::Elements(slice.len() as u64));
        g.bench_with_input(BenchmarkId::new("batch", batch), slice, |b, s| {
            b.iter(|| embedder.embed_with_stats(s, &mut |_| {}).unwrap())
        });
    }
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("seeds_corpus", |b| b.iter(|| embedder.embed_with_stats(&texts, &mut |_| {}).unwrap()));
    g.finish();
}

criterion_group!(benches, embedding);
criterion_main!(benches);
