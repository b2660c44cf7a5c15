//! Criterion benchmarks of theme clustering on generated vectors: clustered
//! unit vectors of dimension 384 (like all-MiniLM-L6-v2's), 50 centres with
//! noise. Measures the exact k-NN graph, the Louvain step, and the whole
//! `cluster::cluster` at 2,000 and 20,000 points.
//!
//! The scale check (100,000 passages) takes minutes per run, too long for
//! criterion's samples; run it once with
//! `MOTIF_BENCH_CLUSTER_ONCE=100000 cargo bench --bench cluster`, which
//! prints the time of each step and the peak memory, then exits.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use motif::index::knn_graph;
use motif::matrix::clustered_vectors;
use motif::themes::cluster::{self, Params};

const DIM: usize = 384;

fn once(n: usize) {
    let data = clustered_vectors(n, DIM, 50, 1.0, 1);
    let v = data.view();
    let params = Params::default();
    let k = cluster::auto_k(n);
    let threads = std::thread::available_parallelism().map(|t| t.get()).unwrap_or(1);
    let t = Instant::now();
    let knn = knn_graph(v, k, 0);
    let knn_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let graph = cluster::fuzzy_graph(&knn);
    let c = cluster::cluster_graph(v, &knn, &graph, &params).unwrap();
    let rest_s = t.elapsed().as_secs_f64();
    let peak =
        motif::bench::peak_rss_bytes().map_or("unknown".to_string(), |b| format!("{:.0} MiB", b as f64 / 1048576.0));
    println!(
        "cluster {n} x {DIM} on {threads} threads: k-NN graph (k = {k}) {knn_s:.1} s, weights + Louvain + outliers {rest_s:.1} s, \
         total {:.1} s; {} groups, {} outliers; peak RSS {peak} (vectors alone {:.0} MiB)",
        knn_s + rest_s,
        c.groups,
        c.outliers(),
        (n * DIM * 4) as f64 / 1048576.0
    );
}

fn clustering(c: &mut Criterion) {
    if let Some(n) = std::env::var("MOTIF_BENCH_CLUSTER_ONCE").ok().and_then(|s| s.parse::<usize>().ok()) {
        once(n);
        std::process::exit(0);
    }
    for n in [2_000usize, 20_000] {
        let data = clustered_vectors(n, DIM, 50, 1.0, 1);
        let v = data.view();
        let k = cluster::auto_k(n);
        let mut g = c.benchmark_group("cpu_cluster");
        g.sample_size(10).measurement_time(Duration::from_secs(if n > 5000 { 60 } else { 10 }));
        g.bench_with_input(BenchmarkId::new("knn_graph", n), &n, |b, _| b.iter(|| knn_graph(v, k, 0)));
        let knn = knn_graph(v, k, 0);
        let graph = cluster::fuzzy_graph(&knn);
        g.bench_with_input(BenchmarkId::new("louvain", n), &n, |b, _| b.iter(|| cluster::louvain(&graph, 0.75, 42)));
        g.bench_with_input(BenchmarkId::new("cluster_total", n), &n, |b, _| {
            b.iter(|| cluster::cluster(v, &Params::default()).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, clustering);
criterion_main!(benches);
