//! Criterion benchmarks of the index: HNSW build (serial insert plus the
//! self-search check), one HNSW search and one exact search at k = 10,
//! exact search of 1,000 queries at once over 100,000 vectors, and a
//! store round trip, on synthetic clustered unit vectors of dimension 384
//! (no model needed). `motif bench index` measures 100k vectors, recall,
//! and hnswlib beside motif on the same vectors.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use motif::index::{exact_search, exact_search_many, Graph, Params};
use motif::matrix::{clustered_vectors, row};
use motif::store::{NewDoc, NewIndex, NewPassage, Store};

const DIM: usize = 384;

fn cpu(name: &str) -> String {
    format!("cpu_{name}")
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("hnsw_build");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for n in [2_000usize, 10_000] {
        let data = clustered_vectors(n, DIM, n / 100, 0.8, 1);
        let rows = data.view();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new(cpu("serial"), n), &n, |b, _| {
            b.iter(|| Graph::build(rows, Params::default(), false, &mut |_| {}).0.len())
        });
    }
    g.finish();
}

fn search(c: &mut Criterion) {
    let n = 20_000;
    let data = clustered_vectors(n, DIM, n / 100, 0.8, 2);
    let rows = data.view();
    let params = Params::default();
    let (graph, _) = Graph::build(rows, params, false, &mut |_| {});
    let queries: Vec<&[f32]> = (0..n).step_by(97).map(|i| row(&rows, i)).collect();
    let mut g = c.benchmark_group("search_k10");
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.bench_function(BenchmarkId::new(cpu("hnsw"), n), |b| {
        b.iter(|| queries.iter().map(|q| graph.search(rows, q, 10, params.ef_search).len()).sum::<usize>())
    });
    g.sample_size(10);
    g.bench_function(BenchmarkId::new(cpu("exact"), n), |b| {
        b.iter(|| queries.iter().map(|q| exact_search(rows, q, 10, &|_| false).len()).sum::<usize>())
    });
    g.finish();
}

/// Exact search at the size the scale issue names (100,000 × 384): one
/// scan per query against a set of queries at once (batched products).
fn exact(c: &mut Criterion) {
    let n = 100_000;
    let data = clustered_vectors(n, DIM, n / 100, 0.8, 4);
    let rows = data.view();
    let picks: Vec<usize> = (0..n).step_by(n / 1000).take(1000).collect();
    let queries = rows.select(ndarray::Axis(0), &picks);
    let mut g = c.benchmark_group("exact_100k_k10");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(picks.len() as u64));
    g.bench_function(BenchmarkId::new(cpu("batched"), picks.len()), |b| {
        b.iter(|| exact_search_many(rows, queries.view(), 10, &|_, _| false).len())
    });
    let few = 50;
    g.throughput(Throughput::Elements(few as u64));
    g.bench_function(BenchmarkId::new(cpu("scan_per_query"), few), |b| {
        b.iter(|| picks[..few].iter().map(|&q| exact_search(rows, row(&rows, q), 10, &|_| false).len()).sum::<usize>())
    });
    g.finish();
}

fn store(c: &mut Criterion) {
    let n = 5_000;
    let data = clustered_vectors(n, DIM, 50, 0.8, 3);
    let rows = data.view();
    let names: Vec<String> = (0..n / 10).map(|d| format!("doc{d:05}.txt")).collect();
    let new = NewIndex {
        model: "bench".into(),
        model_fingerprint: "0".repeat(64),
        dim: DIM,
        split: "paragraph".into(),
        params: Params::default(),
    };
    let mut g = c.benchmark_group("store");
    g.sample_size(10).throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new(cpu("write_then_load_corpus"), n), |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().unwrap();
            let (mut store, _) = Store::open_write(&dir.path().join("idx"), &new).unwrap();
            let docs: Vec<NewDoc> = names
                .iter()
                .enumerate()
                .map(|(d, name)| NewDoc {
                    name,
                    source: None,
                    hash: "h",
                    bytes: 100,
                    metadata: None,
                    meta: &motif::corpus::meta::DocMeta::EMPTY,
                    passages: (0..10)
                        .map(|p| NewPassage {
                            ordinal: p,
                            start: p * 10,
                            end: p * 10 + 9,
                            windowed: false,
                            text: "text",
                            vector: row(&rows, d * 10 + p),
                            sentences: None,
                        })
                        .collect(),
                })
                .collect();
            store.write(&docs, &[]).unwrap();
            store.load_corpus().unwrap().passages.len()
        })
    });
    g.finish();
}

criterion_group!(benches, build, search, exact, store);
criterion_main!(benches);
