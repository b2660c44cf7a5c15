//! Speed on the user's own machine: what the machine is, and how fast each
//! stage runs on a given corpus. Figures are measured each run, never stored.

pub mod scale;

use std::time::Instant;

use serde::Serialize;

use crate::embed::{EmbedError, EmbedStats, Precision, SentenceModel};

pub use motif_bert::backend::native::gemm_peak_gflops;

/// The machine a figure was measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    /// Threads the compute kernels use (RAYON_NUM_THREADS or all cores).
    pub threads: usize,
    pub simd: Vec<&'static str>,
    pub os: String,
    pub motif_version: &'static str,
}

impl Machine {
    pub fn detect() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        // The pool the kernels and analyses run on (`--threads` sizes it).
        let threads = rayon::current_num_threads();
        Machine {
            cpu,
            cores,
            threads,
            simd: simd_features(),
            os: std::env::consts::OS.to_string(),
            motif_version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn simd_features() -> Vec<&'static str> {
    let mut out = Vec::new();
    macro_rules! probe {
        ($($f:tt),*) => { $( if std::arch::is_x86_feature_detected!($f) { out.push($f); } )* };
    }
    probe!("sse4.2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vnni", "avx512bf16");
    // Usable, not only present: `--precision bf16` needs the kernel's
    // permission too.
    if motif_bert::backend::native::amx::available() {
        out.push("amx-bf16");
    }
    out
}

#[cfg(target_arch = "aarch64")]
fn simd_features() -> Vec<&'static str> {
    let mut out = vec!["neon"];
    if std::arch::is_aarch64_feature_detected!("bf16") {
        out.push("bf16");
    }
    out
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn simd_features() -> Vec<&'static str> {
    Vec::new()
}

/// Peak resident memory of this process so far, in bytes (Linux; None elsewhere).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Starts the peak-memory count again from the memory held now (Linux:
/// `clear_refs` 5 resets the high-water mark `peak_rss_bytes` reads);
/// false where it cannot.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Embedding speed on a list of passages.
#[derive(Debug, Clone, Serialize)]
pub struct EmbedBench {
    pub passages: usize,
    /// Tokens the model read, special tokens included, padding excluded.
    pub tokens: usize,
    pub mean_tokens: f64,
    /// Share of computed positions that were padding.
    pub padding_share: f64,
    pub tokenize_seconds: f64,
    pub tokens_per_second_tokenize: f64,
    pub embed_seconds: f64,
    pub passages_per_second: f64,
    pub tokens_per_second: f64,
    /// Arithmetic rate of the model's work (linear layers and attention).
    pub gflops: f64,
    pub batch_size: usize,
    pub precision: Precision,
    /// Which multiply computed it ("int8 on AVX-512 VNNI").
    pub kernels: String,
}

/// Times tokenization alone, then the whole embedding (which tokenizes again,
/// overlapped with the model, as real runs do).
pub fn bench_embed(
    model: &SentenceModel,
    texts: &[&str],
    progress: &mut dyn FnMut(usize),
) -> Result<EmbedBench, EmbedError> {
    let start = Instant::now();
    let ids = model.token_ids(texts)?;
    let tokenize_seconds = start.elapsed().as_secs_f64();
    let token_count: usize = ids.iter().map(Vec::len).sum();
    drop(ids);

    let start = Instant::now();
    let (_, stats): (_, EmbedStats) = model.embed_with_stats(texts, progress)?;
    let embed_seconds = start.elapsed().as_secs_f64();
    Ok(EmbedBench {
        passages: texts.len(),
        tokens: stats.tokens,
        mean_tokens: stats.tokens as f64 / texts.len().max(1) as f64,
        padding_share: 1.0 - stats.tokens as f64 / stats.padded_tokens.max(1) as f64,
        tokenize_seconds,
        tokens_per_second_tokenize: token_count as f64 / tokenize_seconds.max(1e-9),
        embed_seconds,
        passages_per_second: texts.len() as f64 / embed_seconds.max(1e-9),
        tokens_per_second: stats.tokens as f64 / embed_seconds.max(1e-9),
        gflops: model.info().flops(stats.tokens, stats.attention_pairs) / embed_seconds.max(1e-9) / 1e9,
        batch_size: model.batch_size(),
        precision: model.info().precision,
        kernels: model.info().kernels.clone(),
    })
}
