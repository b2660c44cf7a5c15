//! `motif bench`: every stage's speed on this machine in one run — model
//! load, tokenizing, embedding, index build and queries, clustering — with
//! peak memory, the machine's description and its matrix-multiply peak.

use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;

use motif::ann::{self, Graph, Params as GraphParams, Rows};
use motif::bench::{self, EmbedBench, Machine};
use motif::cluster::{self, Params as ClusterParams, Vectors};
use motif::embed::SentenceModel;

use crate::progress;
use crate::{into_flat, load_sentence_model, read_corpus, round, InputArgs, ModelArgs, ReadArgs};

#[derive(Args)]
pub struct BenchAllArgs {
    /// The corpus: files, folders or .jsonl (default: seeds/, repeated up to --passages).
    #[arg(long)]
    corpus: Vec<String>,
    /// Passages to embed: the corpus is cut to this many, or the seeds repeated up to it.
    #[arg(long, default_value_t = 1000)]
    passages: usize,
    /// Vectors for the index and clustering stages when the corpus has fewer
    /// distinct passages (generated, clustered unit vectors of the model's dimension).
    #[arg(long, default_value_t = 20_000)]
    vectors: usize,
    /// The JSON field holding the text in .jsonl corpora.
    #[arg(long, default_value = "text")]
    text_field: String,
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct IndexBench {
    vectors: usize,
    /// "corpus" when the vectors are the embedded passages, "generated" otherwise.
    source: &'static str,
    build_seconds: f64,
    vectors_per_second: f64,
    queries: usize,
    k: usize,
    queries_per_second: f64,
    exact_queries_per_second: f64,
    recall_at_k: f64,
}

#[derive(Serialize)]
struct ClusterBench {
    vectors: usize,
    seconds: f64,
    themes: usize,
    outlier_share: f64,
}

pub fn cmd_bench_all(args: BenchAllArgs) -> Result<()> {
    let passages = args.passages.max(1);
    let run = run_embed(&args.model, &args.corpus, &args.text_field, |all| all.iter().cycle().take(passages).cloned().collect())?;
    let (embedder, embed) = (&run.embedder, &run.embed);
    let distinct: Vec<&str> = run.distinct.iter().map(String::as_str).collect();

    // Index and clustering need distinct vectors: the corpus's when it has
    // enough, else generated ones of the same dimension.
    let dim = embedder.info().dim;
    let unique = distinct.len().min(embed.passages);
    let (vectors, source) = if unique >= args.vectors.min(5_000) {
        let (v, _) = embedder.embed_with_stats(&distinct[..unique], &mut |_| {})?;
        (into_flat(v), "corpus")
    } else {
        (ann::clustered_vectors(args.vectors, dim, 50, 0.6, 7), "generated")
    };
    let index = bench_index(&vectors, dim, source)?;
    let clustering = bench_cluster(&vectors, dim)?;
    let peak = bench::peak_rss_bytes();

    if args.json {
        let mut out = embed_json(&run);
        out["tokenize_tokens_per_second"] = serde_json::json!(round(embed.tokens_per_second_tokenize, 0));
        out["index"] = serde_json::json!(index);
        out["cluster"] = serde_json::json!(clustering);
        out["peak_rss_bytes"] = serde_json::json!(peak);
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    print_embed(&run);
    println!(
        "index     {} {} vectors: build {:.2} s ({:.0}/s); k={} search {:.0} queries/s (exact {:.0}/s), recall@{} {:.4}",
        index.vectors, index.source, index.build_seconds, index.vectors_per_second, index.k, index.queries_per_second,
        index.exact_queries_per_second, index.k, index.recall_at_k
    );
    println!(
        "cluster   {} vectors in {:.2} s: {} themes, {:.1}% outliers",
        clustering.vectors, clustering.seconds, clustering.themes, clustering.outlier_share * 100.0
    );
    if let Some(peak) = peak {
        println!("peak RSS  {:.0} MiB", peak as f64 / (1024.0 * 1024.0));
    }
    Ok(())
}

fn bench_index(vectors: &[f32], dim: usize, source: &'static str) -> Result<IndexBench> {
    let rows = Rows::new(vectors, dim);
    let params = GraphParams::default();
    let start = Instant::now();
    let (graph, _) = Graph::build(rows, params, false, &mut |_| {});
    let build_seconds = start.elapsed().as_secs_f64();
    let k = 10;
    let queries: Vec<usize> = (0..rows.len()).step_by((rows.len() / 1000).max(1)).take(1000).collect();
    let start = Instant::now();
    let found: Vec<Vec<u32>> = queries.iter().map(|&q| graph.search(rows, rows.row(q), k, params.ef_search).iter().map(|h| h.id).collect()).collect();
    let search_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let exact: Vec<Vec<u32>> =
        queries.iter().map(|&q| ann::exact_search(rows, rows.row(q), k, &|_| false).iter().map(|h| h.id).collect()).collect();
    let exact_seconds = start.elapsed().as_secs_f64();
    let hits: usize = found.iter().zip(&exact).map(|(f, e)| f.iter().filter(|id| e.contains(id)).count()).sum();
    Ok(IndexBench {
        vectors: rows.len(),
        source,
        build_seconds,
        vectors_per_second: rows.len() as f64 / build_seconds.max(1e-9),
        queries: queries.len(),
        k,
        queries_per_second: queries.len() as f64 / search_seconds.max(1e-9),
        exact_queries_per_second: queries.len() as f64 / exact_seconds.max(1e-9),
        recall_at_k: hits as f64 / (queries.len() * k).max(1) as f64,
    })
}

fn bench_cluster(vectors: &[f32], dim: usize) -> Result<ClusterBench> {
    let v = Vectors::new(vectors, dim)?;
    let start = Instant::now();
    let clustering = cluster::cluster(v, &ClusterParams::default())?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(ClusterBench {
        vectors: v.len(),
        seconds,
        themes: clustering.groups,
        outlier_share: clustering.outliers() as f64 / v.len().max(1) as f64,
    })
}

/// The embedding stage both `motif bench` and `motif bench embed` start with.
pub(crate) struct EmbedRun {
    pub machine: Machine,
    pub embedder: SentenceModel,
    pub load_seconds: f64,
    pub paths: Vec<String>,
    /// The corpus's passages, each once, in corpus order.
    pub distinct: Vec<String>,
    pub embed: EmbedBench,
    pub peak_gflops: f64,
}

/// Loads the model (timed), reads the corpus (seeds/ by default), embeds the
/// passages `pick` chooses from it, and measures the GEMM peak.
pub(crate) fn run_embed(
    model: &ModelArgs,
    corpus: &[String],
    text_field: &str,
    pick: impl FnOnce(&[String]) -> Vec<String>,
) -> Result<EmbedRun> {
    let machine = Machine::detect();
    let start = Instant::now();
    let embedder = load_sentence_model(model)?;
    let load_seconds = start.elapsed().as_secs_f64();
    let paths = if corpus.is_empty() {
        if !std::path::Path::new("seeds").is_dir() {
            bail!("no corpus: pass --corpus PATH (files, folders or .jsonl), or run from a folder that has seeds/");
        }
        vec!["seeds".to_string()]
    } else {
        corpus.to_vec()
    };
    let input = InputArgs::new(paths.clone(), &ReadArgs::for_corpus(text_field));
    let corpus = read_corpus(&input, &embedder)?;
    let distinct: Vec<String> = corpus.passages.iter().map(|p| corpus.text(p).to_string()).collect();
    let chosen = pick(&distinct);
    let texts: Vec<&str> = chosen.iter().map(String::as_str).collect();
    let bar = progress::items_bar(texts.len() as u64, "embedding");
    let embed = bench::bench_embed(&embedder, &texts, &mut |n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    let peak_gflops = bench::gemm_peak_gflops(machine.threads);
    Ok(EmbedRun { machine, embedder, load_seconds, paths, distinct, embed, peak_gflops })
}

/// The human-readable lines of the embedding stage.
/// The `--json` fields `motif bench` and `motif bench embed` share: the
/// machine, the model and the embedding stage with its share of the GEMM peak.
pub(crate) fn embed_json(run: &EmbedRun) -> serde_json::Value {
    serde_json::json!({
        "machine": run.machine,
        "model": run.embedder.info().name,
        "device": run.embedder.device_name(),
        "corpus": run.paths,
        "model_load_seconds": round(run.load_seconds, 3),
        "embed": run.embed,
        "gemm_peak_gflops": round(run.peak_gflops, 1),
        "fraction_of_gemm_peak": round(run.embed.gflops / run.peak_gflops, 3),
    })
}

pub(crate) fn print_embed(run: &EmbedRun) {
    let (m, e, peak) = (&run.machine, &run.embed, run.peak_gflops);
    println!("machine   {} ({} cores, {} threads; {})", m.cpu, m.cores, m.threads, m.simd.join(" "));
    println!(
        "motif     {} | model {} on {} | {:?} | batch {}",
        m.motif_version,
        run.embedder.info().name,
        run.embedder.device_name(),
        e.precision,
        e.batch_size
    );
    println!("corpus    {} passages, {} tokens (mean {:.1})", e.passages, e.tokens, e.mean_tokens);
    println!("load      {:.2} s", run.load_seconds);
    println!("tokenize  {:.0} tokens/s", e.tokens_per_second_tokenize);
    println!("embed     {:.1} passages/s, {:.0} tokens/s ({:.1} s)", e.passages_per_second, e.tokens_per_second, e.embed_seconds);
    println!(
        "compute   {:.1} GFLOP/s = {:.0}% of this machine's f32 GEMM peak ({peak:.1} GFLOP/s, 1024³, {} threads)",
        e.gflops,
        100.0 * e.gflops / peak,
        m.threads
    );
}
