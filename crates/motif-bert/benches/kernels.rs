//! Criterion benchmarks of the native backend's linear layers alone, at the
//! shapes of all-MiniLM-L6-v2 for a batch of 32 passages of ~80 tokens
//! (throughput in FLOP): how near the multiplies run to the machine's peak,
//! apart from the rest of the model.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use motif_bert::backend::native::{amx, linear_f32, Init};

/// The bf16 AMX linear layer. Skipped without AMX.
fn amx_linear(c: &mut Criterion) {
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
        let packed = amx::PackedWeight::new(&w, n, k).expect("widths are multiples of 32");
        let mut dst = vec![0f32; t * n];
        g.throughput(Throughput::Elements((2 * t * k * n) as u64));
        g.bench_function(BenchmarkId::new("flop", format!("{t}x{k}x{n}")), |b| {
            b.iter(|| amx::linear(&mut dst, &x, &packed, t, Init::Bias(&bias)))
        });
    }
    g.finish();
}

/// The f32 linear layer (the `gemm` crate, rows split over the threads) at
/// the same shapes.
fn f32_linear(c: &mut Criterion) {
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

criterion_group!(benches, amx_linear, f32_linear);
criterion_main!(benches);
