//! Criterion benchmarks of the embedding pipeline on the bundled seeds:
//! splitting, tokenizing, one model batch, and the whole corpus.
//! `motif bench embed --corpus ...` measures the same on any corpus.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use motif::embed::{DeviceChoice, SentenceModel as Embedder};
use motif::corpus::ingest::{read_inputs, IngestOptions};
use motif::corpus::split::Splitter;

fn seeds() -> Vec<motif::corpus::ingest::Document> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds").to_string();
    read_inputs(&[dir], &IngestOptions::default()).expect("seeds/ is readable").documents
}

fn embedding(c: &mut Criterion) {
    let model = motif::model::resolve(motif::model::DEFAULT_MODEL, true).expect("the default model (motif model fetch)");
    let embedder = Embedder::load(&model, DeviceChoice::Cpu).expect("model loads");
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
        b.iter(|| docs.iter().enumerate().map(|(i, d)| splitter.split(i, &d.text, &embedder).unwrap().len()).sum::<usize>())
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
        g.bench_with_input(BenchmarkId::new("batch", batch), slice, |b, s| b.iter(|| embedder.embed(s).unwrap()));
    }
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("seeds_corpus", |b| b.iter(|| embedder.embed(&texts).unwrap()));
    g.finish();
}

/// The bf16 AMX linear layer alone, at the FFN's shape for a batch of 32
/// passages of ~80 tokens (throughput in FLOP): how near the tiles run to
/// their peak, apart from the rest of the model. Skipped without AMX.
fn amx_linear(c: &mut Criterion) {
    use motif::embed::amx::{self, PackedWeight};
    use motif::embed::cpu::Init;
    if !amx::available() {
        eprintln!("SKIPPED amx_linear: no AMX-BF16 on this CPU");
        return;
    }
    let t = 2624;
    let mut g = c.benchmark_group("amx_linear");
    for (k, n) in [(384usize, 1536usize), (1536, 384), (384, 1152)] {
        let x: Vec<f32> = (0..t * k).map(|i| ((i * 7919 % 97) as f32 - 48.0) / 50.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 104_729 % 89) as f32 - 44.0) / 60.0).collect();
        let bias = vec![0.5f32; n];
        let packed = PackedWeight::new(&w, n, k).expect("widths are multiples of 32");
        let mut dst = vec![0f32; t * n];
        g.throughput(Throughput::Elements((2 * t * k * n) as u64));
        g.bench_function(BenchmarkId::new("flop", format!("{t}x{k}x{n}")), |b| {
            b.iter(|| amx::linear(&mut dst, &x, &packed, t, Init::Bias(&bias)))
        });
    }
    g.finish();
}

/// The f32 linear layer (the `gemm` crate, rows split over the threads) at
/// the same shapes: the share of the machine's f32 peak the multiplies get.
fn f32_linear(c: &mut Criterion) {
    use motif::embed::cpu::{linear_f32, Init};
    let t = 2624;
    let threads = rayon::current_num_threads();
    let mut g = c.benchmark_group("f32_linear");
    for (k, n) in [(384usize, 1536usize), (1536, 384), (384, 1152), (384, 384)] {
        let x: Vec<f32> = (0..t * k).map(|i| ((i * 7919 % 97) as f32 - 48.0) / 50.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 104_729 % 89) as f32 - 44.0) / 60.0).collect();
        let bias = vec![0.5f32; n];
        let mut dst = vec![0f32; t * n];
        g.throughput(Throughput::Elements((2 * t * k * n) as u64));
        g.bench_function(BenchmarkId::new("flop", format!("{t}x{k}x{n}")), |b| {
            b.iter(|| linear_f32(&mut dst, &x, &w, t, k, n, threads, Init::Bias(&bias)))
        });
    }
    g.finish();
}

criterion_group!(benches, embedding, amx_linear, f32_linear);
criterion_main!(benches);
