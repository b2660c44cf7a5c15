//! `motif bench`: every stage's speed on this machine in one run — model
//! load, tokenizing, embedding, index build and queries, clustering — with
//! peak memory, the machine's description and its matrix-multiply peak.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use ndarray::{s, Array2};
use serde::Serialize;

use super::index::GraphArgs;
use super::progress::items_bar;
use super::{read_documents, round, ModelArgs, PrecisionArg, ReadArgs};
use motif::bench::scale::Edits;
use motif::bench::{self, EmbedBench, Machine};
use motif::embed::{Precision, SentenceModel};
use motif::index::{exact_search, exact_search_many, recall_at_k, Graph, Hit, Params as GraphParams};
use motif::matrix::{self, clustered_vectors, row};
use motif::themes::cluster::{self, Params as ClusterParams};

/// Without a subcommand: every stage (load, tokenize, embed, index, search,
/// cluster) with peak memory and the machine's description.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: Option<BenchWhat>,
    #[command(flatten)]
    all: BenchAllArgs,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Embedding speed: model load, tokenization rate, passages/s and tokens/s.
    Embed(BenchEmbedArgs),
    /// HNSW build time, queries/s and recall@k against exact search (optionally beside hnswlib).
    Index(BenchIndexArgs),
    /// Every stage of the pipeline on a corpus of N passages made from real text, with time and peak memory.
    #[command(long_about = SCALE_ABOUT)]
    Scale(Box<BenchScaleArgs>),
}

pub fn run(args: BenchArgs) -> Result<()> {
    match args.what {
        Some(BenchWhat::Embed(a)) => bench_embed_cmd(a),
        Some(BenchWhat::Index(a)) => bench_index_cmd(a),
        Some(BenchWhat::Scale(a)) => bench_scale_cmd(*a),
        None => cmd_bench_all(args.all),
    }
}

#[derive(Args)]
struct BenchEmbedArgs {
    /// The corpus: files, folders or .jsonl (default: seeds/).
    #[arg(long)]
    corpus: Vec<String>,
    /// Use at most this many passages (0: all).
    #[arg(long, default_value_t = 0)]
    limit: usize,
    /// The JSON field holding the text in .jsonl corpora.
    #[arg(long, default_value = "text")]
    text_field: String,
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    json: bool,
}

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
    let run = run_embed(&args.model, &args.corpus, &args.text_field, |all| {
        all.iter().cycle().take(passages).cloned().collect()
    })?;
    super::model::record_speed(&run);
    let precisions = bench_precisions(&run, &args.model)?;
    let (embedder, embed) = (&run.embedder, &run.embed);
    let distinct: Vec<&str> = run.distinct.iter().map(String::as_str).collect();

    // Index and clustering need distinct vectors: the corpus's when it has
    // enough, else generated ones of the same dimension.
    let dim = embedder.info().dim;
    let unique = distinct.len().min(embed.passages);
    let (vectors, source) = if unique >= args.vectors.min(5_000) {
        (motif::embed::Embedder::embed(embedder, &distinct[..unique], &mut |_| {})?, "corpus")
    } else {
        (clustered_vectors(args.vectors, dim, 50, 0.6, 7), "generated")
    };
    let index = bench_index(&vectors, source)?;
    let clustering = bench_cluster(&vectors)?;
    let peak = bench::peak_rss_bytes();

    if args.json {
        let mut out = embed_json(&run);
        out["tokenize_tokens_per_second"] = serde_json::json!(round(embed.tokens_per_second_tokenize, 0));
        out["precisions"] = serde_json::json!(precisions);
        out["index"] = serde_json::json!(index);
        out["cluster"] = serde_json::json!(clustering);
        out["peak_rss_bytes"] = serde_json::json!(peak);
        outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    print_embed(&run);
    print_precisions(&precisions);
    outln!(
        "index     {} {} vectors: build {:.2} s ({:.0}/s); k={} search {:.0} queries/s (exact {:.0}/s), recall@{} {:.4}",
        index.vectors, index.source, index.build_seconds, index.vectors_per_second, index.k, index.queries_per_second,
        index.exact_queries_per_second, index.k, index.recall_at_k
    );
    outln!(
        "cluster   {} vectors in {:.2} s: {} themes, {:.1}% outliers",
        clustering.vectors,
        clustering.seconds,
        clustering.themes,
        clustering.outlier_share * 100.0
    );
    if let Some(peak) = peak {
        outln!("peak RSS  {:.0} MiB", peak as f64 / (1024.0 * 1024.0));
    }
    Ok(())
}

/// Cosine between two models' vectors of the same passages.
#[derive(Serialize, Clone, Copy)]
struct Agreement {
    mean: f32,
    min: f32,
    passages: usize,
}

/// `fast`'s vectors against `reference`'s on the first 300 of `texts`.
fn agreement_with(fast: &SentenceModel, reference: &SentenceModel, texts: &[&str]) -> Result<Agreement> {
    let sample = &texts[..texts.len().min(300)];
    let a = motif::embed::Embedder::embed(fast, sample, &mut |_| {})?;
    let b = motif::embed::Embedder::embed(reference, sample, &mut |_| {})?;
    let cosines: Vec<f32> = (0..sample.len()).map(|i| matrix::dot(row(&a, i), row(&b, i))).collect();
    Ok(Agreement {
        mean: cosines.iter().sum::<f32>() / cosines.len().max(1) as f32,
        min: cosines.iter().copied().fold(f32::MAX, f32::min),
        passages: sample.len(),
    })
}

/// One precision's line in `motif bench`: its speed on the same passages
/// and how far its vectors are from f32's, or why this machine cannot run it.
#[derive(Serialize)]
struct PrecisionBench {
    precision: &'static str,
    /// e.g. "int8 on AMX-INT8"; absent when unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    kernels: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    passages_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens_per_second: Option<f64>,
    /// Passages/s over f32's in the same run.
    #[serde(skip_serializing_if = "Option::is_none")]
    speedup_vs_f32: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cosine_to_f32: Option<Agreement>,
    /// Why it cannot run here (the loader's message).
    #[serde(skip_serializing_if = "Option::is_none")]
    unavailable: Option<String>,
}

/// Every precision on the same passages as `run`, with the device and CPU
/// features `run` used: f32 first (the reference), then bf16 and int8
/// where this machine has kernels for them. The run's own precision is
/// not measured twice.
fn bench_precisions(run: &EmbedRun, model: &ModelArgs) -> Result<Vec<PrecisionBench>> {
    let texts: Vec<String> = run.distinct.iter().cycle().take(run.embed.passages).cloned().collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let own = run.embedder.info().precision;
    let load = |p: PrecisionArg| load_model(&ModelArgs { precision: p, ..model.clone() });
    let f32_model = if own == Precision::F32 { None } else { Some(load(PrecisionArg::F32)?) };
    let reference = f32_model.as_ref().unwrap_or(&run.embedder);
    let mut out = Vec::new();
    let mut f32_speed = None;
    for p in [PrecisionArg::F32, PrecisionArg::Bf16, PrecisionArg::Int8] {
        let loaded;
        let (embedder, embed) = if Precision::from(p) == own {
            (&run.embedder, run.embed.clone())
        } else {
            let model = if p == PrecisionArg::F32 {
                reference
            } else {
                match load(p) {
                    Ok(m) => {
                        loaded = m;
                        &loaded
                    }
                    Err(e) => {
                        out.push(PrecisionBench {
                            precision: p.name(),
                            kernels: None,
                            passages_per_second: None,
                            tokens_per_second: None,
                            speedup_vs_f32: None,
                            cosine_to_f32: None,
                            unavailable: Some(e.root_cause().to_string()),
                        });
                        continue;
                    }
                }
            };
            let bar = items_bar(texts.len() as u64, &format!("embedding ({})", p.name()));
            let embed = bench::bench_embed(model, &texts, &mut |n| bar.inc(n as u64))?;
            bar.finish_and_clear();
            (model, embed)
        };
        let f32_pps = *f32_speed.get_or_insert(embed.passages_per_second);
        let cosine_to_f32 =
            if p == PrecisionArg::F32 { None } else { Some(agreement_with(embedder, reference, &texts)?) };
        out.push(PrecisionBench {
            precision: p.name(),
            kernels: Some(embed.kernels.clone()),
            passages_per_second: Some(round(embed.passages_per_second, 1)),
            tokens_per_second: Some(round(embed.tokens_per_second, 0)),
            speedup_vs_f32: Some(round(embed.passages_per_second / f32_pps, 2)),
            cosine_to_f32,
            unavailable: None,
        });
    }
    Ok(out)
}

fn print_precisions(precisions: &[PrecisionBench]) {
    for p in precisions {
        match (&p.kernels, p.passages_per_second, p.speedup_vs_f32) {
            (Some(kernels), Some(pps), Some(speedup)) => {
                let cosine = p
                    .cosine_to_f32
                    .map(|a| format!("; cosine to f32 mean {:.5}, min {:.5}", a.mean, a.min))
                    .unwrap_or_default();
                let on = if kernels == p.precision { String::new() } else { format!(" ({kernels})") };
                outln!("{:<9} {pps:.1} passages/s{on}, {speedup:.2}× f32{cosine}", p.precision);
            }
            _ => outln!("{:<9} unavailable: {}", p.precision, p.unavailable.as_deref().unwrap_or("")),
        }
    }
}

fn bench_index(vectors: &Array2<f32>, source: &'static str) -> Result<IndexBench> {
    let rows = vectors.view();
    let n = rows.nrows();
    let params = GraphParams::default();
    let start = Instant::now();
    let (graph, _) = Graph::build(rows, params, false, &mut |_| {});
    let build_seconds = start.elapsed().as_secs_f64();
    let k = 10;
    let queries: Vec<usize> = (0..n).step_by((n / 1000).max(1)).take(1000).collect();
    let start = Instant::now();
    let found: Vec<Vec<Hit>> =
        queries.iter().map(|&q| graph.search(rows, row(&rows, q), k, params.ef_search)).collect();
    let search_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let exact: Vec<Vec<Hit>> = queries.iter().map(|&q| exact_search(rows, row(&rows, q), k, &|_| false)).collect();
    let exact_seconds = start.elapsed().as_secs_f64();
    Ok(IndexBench {
        vectors: n,
        source,
        build_seconds,
        vectors_per_second: n as f64 / build_seconds.max(1e-9),
        queries: queries.len(),
        k,
        queries_per_second: queries.len() as f64 / search_seconds.max(1e-9),
        exact_queries_per_second: queries.len() as f64 / exact_seconds.max(1e-9),
        recall_at_k: recall_at_k(&exact, &found, k),
    })
}

fn bench_cluster(vectors: &Array2<f32>) -> Result<ClusterBench> {
    let start = Instant::now();
    let clustering = cluster::cluster(vectors.view(), &ClusterParams::default())?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(ClusterBench {
        vectors: vectors.nrows(),
        seconds,
        themes: clustering.groups,
        outlier_share: clustering.outliers() as f64 / vectors.nrows().max(1) as f64,
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
    let embedder = load_model(model)?;
    let load_seconds = start.elapsed().as_secs_f64();
    let paths = if corpus.is_empty() {
        if !std::path::Path::new("seeds").is_dir() {
            bail!("no corpus: pass --corpus PATH (files, folders or .jsonl), or run from a folder that has seeds/");
        }
        vec!["seeds".to_string()]
    } else {
        corpus.to_vec()
    };
    let docs = read_documents(&paths, &ReadArgs::for_corpus(text_field), &embedder)?;
    let distinct: Vec<String> = docs.passages.into_iter().map(|p| p.text).collect();
    let chosen = pick(&distinct);
    let texts: Vec<&str> = chosen.iter().map(String::as_str).collect();
    let bar = items_bar(texts.len() as u64, "embedding");
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
    outln!("machine   {} ({} cores, {} threads; {})", m.cpu, m.cores, m.threads, m.simd.join(" "));
    outln!(
        "motif     {} | model {} on {} | {} | batch {}",
        m.motif_version,
        run.embedder.info().name,
        run.embedder.device_name(),
        e.kernels,
        e.batch_size
    );
    outln!("corpus    {} passages, {} tokens (mean {:.1})", e.passages, e.tokens, e.mean_tokens);
    outln!("load      {:.2} s", run.load_seconds);
    outln!("tokenize  {:.0} tokens/s", e.tokens_per_second_tokenize);
    outln!(
        "embed     {:.1} passages/s, {:.0} tokens/s ({:.1} s)",
        e.passages_per_second,
        e.tokens_per_second,
        e.embed_seconds
    );
    outln!(
        "compute   {:.1} GFLOP/s = {:.0}% of this machine's f32 GEMM peak ({peak:.1} GFLOP/s, 1024³, {} threads)",
        e.gflops,
        100.0 * e.gflops / peak,
        m.threads
    );
}

/// The concrete model (benchmarks read its token counts and FLOPs).
fn load_model(model: &ModelArgs) -> Result<SentenceModel> {
    model.load_transformer(&model.name_or(None))
}

fn bench_embed_cmd(args: BenchEmbedArgs) -> Result<()> {
    let limit = args.limit;
    let run = run_embed(&args.model, &args.corpus, &args.text_field, |all| {
        all.iter().take(if limit > 0 { limit } else { all.len() }).cloned().collect()
    })?;
    let (embedder, result) = (&run.embedder, &run.embed);
    let texts: Vec<&str> = run.distinct.iter().take(result.passages).map(String::as_str).collect();
    // What a faster precision costs: its vectors against f32's on a sample.
    let agreement = if embedder.info().precision != Precision::F32 {
        let reference = load_model(&ModelArgs { precision: PrecisionArg::F32, ..args.model.clone() })?;
        Some(agreement_with(embedder, &reference, &texts)?)
    } else {
        None
    };
    super::model::record_speed(&run);
    let peak = bench::peak_rss_bytes();
    if args.json {
        let mut out = embed_json(&run);
        out["cosine_to_f32"] = serde_json::json!(agreement);
        out["peak_rss_bytes"] = serde_json::json!(peak);
        return super::print_json(&out);
    }
    print_embed(&run);
    if let Some(a) = agreement {
        outln!("vs f32    cosine mean {:.5}, min {:.5} over {} passages", a.mean, a.min, a.passages);
    }
    if let Some(peak) = peak {
        outln!("peak RSS  {:.0} MiB", peak as f64 / (1024.0 * 1024.0));
    }
    Ok(())
}

#[derive(Args)]
struct BenchIndexArgs {
    /// Vectors to index: a .npy file of float32 rows, e.g. from `motif embed --format npy` (default: synthetic clustered vectors).
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// How many vectors to index (0: all rows of --vectors). Beyond the file's rows, rows are repeated with a little noise.
    #[arg(long, default_value_t = 100_000)]
    n: usize,
    /// Dimension of synthetic vectors.
    #[arg(long, default_value_t = 384)]
    dim: usize,
    /// How many stored vectors to use as queries (spread evenly).
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    #[arg(short = 'k', long, default_value_t = 10, value_parser = super::at_least_one)]
    k: usize,
    #[command(flatten)]
    graph: GraphArgs,
    /// Thread counts to measure: "both" (one thread, then all cores), "1" or "all".
    #[arg(long, default_value = "both", value_parser = ["both", "1", "all"])]
    cores: String,
    /// Also build with hnsw_rs (the crate motif built with before) on one thread, for comparison.
    #[arg(long)]
    hnsw_rs: bool,
    /// Leave out the "add 1 %" phase (a graph over 99 % of the vectors, then the rest inserted).
    #[arg(long)]
    no_add: bool,
    /// Run scripts/peer_hnswlib.py with this Python on the same vectors and print its figures beside.
    #[arg(long, value_name = "PYTHON")]
    peer: Option<PathBuf>,
    /// Keep the vectors given to the peer here (default: a temporary file).
    #[arg(long)]
    save_npy: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

fn bench_index_cmd(args: BenchIndexArgs) -> Result<()> {
    let params = args.graph.params(GraphParams::default())?;
    let (data, dim, source) = match &args.vectors {
        Some(path) => {
            // At least one row of at least one number, or a clear error.
            let base = matrix::read_npy(path)?;
            let (rows, dim) = base.dim();
            let n = if args.n == 0 { rows } else { args.n };
            let mut data = Array2::<f32>::zeros((n, dim));
            data.slice_mut(s![..n.min(rows), ..]).assign(&base.slice(s![..n.min(rows), ..]));
            if n > rows {
                // Each extra row: a stored row plus noise, renormalised, so
                // the set keeps the real neighbourhood structure.
                let noise = clustered_vectors(n - rows, dim, 1, 1.0, 42);
                for j in 0..n - rows {
                    let mut v: Vec<f32> =
                        row(&base, j % rows).iter().zip(row(&noise, j)).map(|(b, e)| b + 0.02 * e).collect();
                    matrix::normalize(&mut v);
                    data.row_mut(rows + j).assign(&ndarray::ArrayView1::from(&v[..]));
                }
            }
            (
                data,
                dim,
                format!("{} ({rows} rows{})", path.display(), if n > rows { ", repeated with noise" } else { "" }),
            )
        }
        None => {
            if args.dim == 0 {
                bail!("--dim must be at least 1");
            }
            let n = args.n.max(1);
            (
                clustered_vectors(n, args.dim, (n / 100).max(1), 0.8, 42),
                args.dim,
                "synthetic clustered vectors".to_string(),
            )
        }
    };
    let rows = data.view();
    let n = rows.nrows();
    let step = (n / args.queries.max(1)).max(1);
    let queries: Vec<usize> = (0..n).step_by(step).take(args.queries).collect();
    let all = std::thread::available_parallelism().map(|t| t.get()).unwrap_or(1);
    let modes: Vec<usize> = match args.cores.as_str() {
        "1" => vec![1],
        "all" => vec![all],
        _ if all == 1 => vec![1],
        _ => vec![1, all],
    };
    eprintln!(
        "motif: {n} vectors of dimension {dim} from {source}; HNSW M {} ef_construction {} ef_search {}; threads {modes:?}",
        params.m, params.ef_construction, params.ef_search
    );
    // Exact search as the library runs it for a set of queries: batched
    // matrix products on all cores (the peer's NumPy figure is one product).
    let query_rows = rows.select(ndarray::Axis(0), &queries);
    let start = Instant::now();
    let exact: Vec<Vec<Hit>> = exact_search_many(rows, query_rows.view(), args.k, &|_, _| false);
    let exact_qps = queries.len() as f64 / start.elapsed().as_secs_f64().max(1e-9);
    let npy = args.save_npy.clone().unwrap_or_else(|| tempfile_path("motif-bench", "npy"));
    if args.peer.is_some() {
        matrix::write_npy(&npy, rows)?;
    }
    let mut runs = Vec::new();
    for &threads in &modes {
        // hnswlib first, then motif, on the same vectors and thread count.
        let hnswlib = match &args.peer {
            Some(python) => Some(run_peer(python, &npy, &args, queries.len(), params, threads)?),
            None => None,
        };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
        let motif = pool.install(|| motif_figures(rows, &queries, &exact, &args, params, threads));
        runs.push(ThreadRun { threads, motif, hnswlib });
    }
    if args.peer.is_some() && args.save_npy.is_none() {
        let _ = std::fs::remove_file(&npy);
    }
    let hnsw_rs = args.hnsw_rs.then(|| {
        eprintln!("motif: building with hnsw_rs on one thread");
        let start = Instant::now();
        let g = Graph::build_with_hnsw_rs(rows, params, false);
        let build_seconds = start.elapsed().as_secs_f64();
        let (approx, qps) = timed_queries(&g, rows, &queries, args.k, params.ef_search, false);
        IndexFigures {
            build_seconds: round(build_seconds, 3),
            queries_per_second: round(qps, 1),
            recall_at_k: round(recall_at_k(&exact, &approx, args.k), 4),
            ..IndexFigures::default()
        }
    });
    let out = IndexRun {
        machine: Machine::detect(),
        vectors: n,
        dim,
        source,
        queries: queries.len(),
        k: args.k,
        params,
        exact_queries_per_second: round(exact_qps, 1),
        runs,
        hnsw_rs,
    };
    if args.json {
        return super::print_json(&out);
    }
    outln!(
        "{n} vectors × {dim}, {} queries, k {}, M {} ef_construction {} ef_search {}; exact search {:.0} queries/s",
        queries.len(),
        args.k,
        params.m,
        params.ef_construction,
        params.ef_search,
        out.exact_queries_per_second
    );
    outln!(
        "{:<8} {:<10} {:>9} {:>9} {:>11} {:>9} {:>9} {:>10}",
        "threads",
        "",
        "build s",
        "+check s",
        "queries/s",
        "recall@k",
        "add 1% s",
        "recall"
    );
    let opt = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |x| x.to_string());
    for r in &out.runs {
        let line = |name: &str, f: &IndexFigures| {
            outln!(
                "{:<8} {:<10} {:>9} {:>9} {:>11} {:>9} {:>9} {:>10}",
                r.threads,
                name,
                f.build_seconds,
                opt(f.self_check_seconds),
                f.queries_per_second,
                f.recall_at_k,
                opt(f.add_seconds),
                opt(f.recall_after_add)
            );
        };
        if let Some(peer) = &r.hnswlib {
            line("hnswlib", peer);
        }
        line("motif", &r.motif);
    }
    if let Some(f) = &out.hnsw_rs {
        outln!(
            "{:<8} {:<10} {:>9} {:>9} {:>11} {:>9}",
            1,
            "hnsw_rs",
            f.build_seconds,
            "-",
            f.queries_per_second,
            f.recall_at_k
        );
    }
    outln!(
        "(build s: insertion; +check s: motif's self-search check and repair after it; add 1%: inserting the last 1% into a graph of the other 99%, with its check; queries one at a time per thread)"
    );
    Ok(())
}

/// Queries through `graph`, one at a time per thread (on all of the current
/// pool's threads when `parallel`): the hits and queries/s.
fn timed_queries(
    graph: &Graph,
    rows: ndarray::ArrayView2<f32>,
    queries: &[usize],
    k: usize,
    ef: usize,
    parallel: bool,
) -> (Vec<Vec<Hit>>, f64) {
    use rayon::prelude::*;
    let start = Instant::now();
    let found: Vec<Vec<Hit>> = if parallel {
        queries.par_iter().map(|&q| graph.search(rows, row(&rows, q), k, ef)).collect()
    } else {
        queries.iter().map(|&q| graph.search(rows, row(&rows, q), k, ef)).collect()
    };
    (found, queries.len() as f64 / start.elapsed().as_secs_f64().max(1e-9))
}

/// motif's build, queries and add-1% phase on `threads` threads (the
/// current rayon pool).
fn motif_figures(
    rows: ndarray::ArrayView2<f32>,
    queries: &[usize],
    exact: &[Vec<Hit>],
    args: &BenchIndexArgs,
    params: GraphParams,
    threads: usize,
) -> IndexFigures {
    let n = rows.nrows();
    let parallel = threads > 1;
    let bar = items_bar(n as u64, "graph");
    let (graph, report) = Graph::build(rows, params, parallel, &mut |k| bar.inc(k as u64));
    bar.finish_and_clear();
    super::index::report_repairs(&report);
    let (approx, qps) = timed_queries(&graph, rows, queries, args.k, params.ef_search, parallel);
    drop(graph);
    let mut f = IndexFigures {
        build_seconds: round(report.insert_seconds, 3),
        self_check_seconds: Some(round(report.check_seconds, 3)),
        unreachable_repaired: Some(report.unreachable - report.unrepaired),
        queries_per_second: round(qps, 1),
        recall_at_k: round(recall_at_k(exact, &approx, args.k), 4),
        ..IndexFigures::default()
    };
    if !args.no_add && n >= 100 {
        let base = n - n / 100;
        let (before, _) = Graph::build(rows.slice(s![..base, ..]), params, parallel, &mut |_| {});
        let keys: Vec<u64> = (0..n as u64).collect();
        let start = Instant::now();
        match before.update(None, rows, &keys, params, parallel, &mut |_| {}) {
            motif::index::Update::Updated(after, _) => {
                f.add_seconds = Some(round(start.elapsed().as_secs_f64(), 3));
                let (approx, _) = timed_queries(&after, rows, queries, args.k, params.ef_search, parallel);
                f.recall_after_add = Some(round(recall_at_k(exact, &approx, args.k), 4));
            }
            motif::index::Update::Rebuild(why) => eprintln!("motif: the add phase asked for a rebuild: {why}"),
        }
    }
    f
}

/// `motif bench index --json`.
#[derive(Serialize)]
struct IndexRun {
    machine: Machine,
    vectors: usize,
    dim: usize,
    source: String,
    queries: usize,
    k: usize,
    params: GraphParams,
    exact_queries_per_second: f64,
    /// One thread, then all cores: hnswlib and motif each.
    runs: Vec<ThreadRun>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hnsw_rs: Option<IndexFigures>,
}

#[derive(Serialize)]
struct ThreadRun {
    threads: usize,
    motif: IndexFigures,
    #[serde(skip_serializing_if = "Option::is_none")]
    hnswlib: Option<IndexFigures>,
}

/// One index's figures: motif's, or the hnswlib peer's (as its script prints them).
#[derive(Serialize, serde::Deserialize, Default)]
struct IndexFigures {
    build_seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    self_check_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unreachable_repaired: Option<usize>,
    queries_per_second: f64,
    recall_at_k: f64,
    /// Inserting the last 1 % into a graph of the other 99 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    add_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recall_after_add: Option<f64>,
    /// What else the peer reports (its version, thread count, NumPy's exact time).
    #[serde(default, flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    other: serde_json::Map<String, serde_json::Value>,
}

/// Runs scripts/peer_hnswlib.py with `python` on the same vectors and settings.
fn run_peer(
    python: &Path,
    npy: &Path,
    args: &BenchIndexArgs,
    queries: usize,
    params: GraphParams,
    threads: usize,
) -> Result<IndexFigures> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/peer_hnswlib.py");
    eprintln!("motif: running {} {} on {threads} thread(s)", python.display(), script.display());
    let result = std::process::Command::new(python)
        .arg(&script)
        .arg(npy)
        .args(["--queries", &queries.to_string(), "--k", &args.k.to_string()])
        .args(["--m", &params.m.to_string(), "--ef-construction", &params.ef_construction.to_string()])
        .args(["--ef-search", &params.ef_search.to_string(), "--threads", &threads.to_string()])
        .args(["--add", if args.no_add { "0" } else { "0.01" }])
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !result.status.success() {
        bail!("the hnswlib peer failed: {}", String::from_utf8_lossy(&result.stderr).trim());
    }
    serde_json::from_slice(&result.stdout)
        .context("the hnswlib peer printed no JSON with build_seconds, queries_per_second and recall_at_k")
}

fn tempfile_path(stem: &str, ext: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{stem}-{}.{ext}", std::process::id()))
}

const SCALE_ABOUT: &str = "Every stage of the pipeline on a corpus of N passages, with its time and peak memory: \
the corpus is the documents given (default: seeds/), then copies of them until there are N passages. A copy reuses \
a few of its original's paragraphs with light edits (--reuse, --light-edit: the overlaps to find) and rewrites the \
rest (--heavy-edit of their words replaced by words of the same documents: near their subject, no overlap), so the \
texts read like the originals and overlaps stay as sparse as in a real archive. The stages: index 99 % of the \
documents (embed, store, graph build on all cores), add the last 1 % (embed, store, insert into the saved graph), \
search (queries/s and recall@k against exact search), load the corpus, the k-NN graph, overlaps, themes, the \
report.\n\nThe default model is the built-in hashing embedder, so that the stages after embedding can be timed at a \
million passages; its vectors are bags of hashed words, nearly orthogonal to each other, a harder case for any HNSW \
graph than a transformer's (lower recall, more repairs). --model all-MiniLM-L6-v2 times the real model and its \
vectors (the passages and every sentence are embedded: hours at a million on a laptop CPU).\n\n\
Examples:\n  motif bench scale --n 20000\n  motif bench scale --corpus ../shared/data/bbc/bbc.jsonl --n 1000000 --json > scale.json\n  \
motif bench scale --n 100000 --unit sentence --index /tmp/scale.motif   # keeps the index and report/";

#[derive(Args)]
struct BenchScaleArgs {
    /// The documents copied: files, folders or .jsonl (default: seeds/).
    #[arg(long)]
    corpus: Vec<String>,
    /// Passages in the corpus (it ends with the first document that reaches this many).
    #[arg(long, default_value_t = 100_000, value_parser = super::at_least_one)]
    n: usize,
    /// Share of a copy's paragraphs that are reused (lightly edited: overlaps to find); the rest are rewritten.
    #[arg(long, default_value_t = Edits::default().reuse)]
    reuse: f64,
    /// Share of a reused paragraph's words replaced by other words of the corpus.
    #[arg(long, default_value_t = Edits::default().light)]
    light_edit: f64,
    /// Share of a rewritten paragraph's words replaced (it stays near its subject, not an overlap).
    #[arg(long, default_value_t = Edits::default().heavy)]
    heavy_edit: f64,
    /// Seed of the edits (--seed is the clustering's).
    #[arg(long, default_value_t = Edits::default().seed)]
    edit_seed: u64,
    /// What overlaps and themes run on: whole passages, or each sentence of each passage (about 3 per paragraph).
    #[arg(long, value_enum, default_value_t = super::themes::UnitArg::Passage)]
    unit: super::themes::UnitArg,
    /// Searches timed, one at a time.
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    /// Neighbours per search.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Where the index and its report are written (a new or empty folder; default: a temporary folder, removed after).
    #[arg(long, value_name = "DIR")]
    index: Option<PathBuf>,
    /// Keep the index and report (always kept with --index).
    #[arg(long)]
    keep: bool,
    #[command(flatten)]
    graph: GraphArgs,
    #[command(flatten)]
    theme: super::themes::ThemeArgs,
    #[command(flatten)]
    decision: super::overlaps::DecisionArgs,
    /// How the documents are cut into passages.
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    json: bool,
}

fn bench_scale_cmd(args: BenchScaleArgs) -> Result<()> {
    use motif::bench::scale;
    let kind = args.unit.kind();
    let themes = args.theme.options(kind)?;
    let name = args.model.model.clone().unwrap_or_else(|| motif::embed::HASH_MODEL.to_string());
    let choice = super::choose_model(&name)?;
    let decision = args.decision.decision_for(choice.name())?;
    let params = args.graph.params(GraphParams::default())?;
    let (dir, remove) = match &args.index {
        Some(dir) => {
            if dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
                bail!("{}: not empty; bench scale writes a new index, give a new or empty folder", dir.display());
            }
            (dir.clone(), false)
        }
        None => (std::env::temp_dir().join(format!("motif-bench-scale-{}", std::process::id())), !args.keep),
    };
    let embedder = args.model.load(&name)?;
    let paths = if args.corpus.is_empty() { vec!["seeds/".to_string()] } else { args.corpus.clone() };
    let base = read_documents(&paths, &args.read, &*embedder)?;
    let settings = scale::ScaleSettings {
        passages: args.n,
        edits: Edits { reuse: args.reuse, light: args.light_edit, heavy: args.heavy_edit, seed: args.edit_seed },
        unit: kind,
        queries: args.queries.max(1),
        k: args.k.max(1),
        params,
        splitter: args.read.options().splitter,
        model: choice.name().to_string(),
        model_fingerprint: choice.fingerprint()?,
        decision,
        themes,
        dir: dir.clone(),
    };
    eprintln!("motif: bench scale: {} passages from {} in {}", args.n, paths.join(" "), dir.display());
    let result = scale::run(&base, &*embedder, &settings, &mut super::progress::Bars::new());
    if remove {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("motif: the index and its report are in {}", dir.display());
    }
    let run = result.with_context(|| format!("bench scale in {}", dir.display()))?;
    if args.json {
        return super::print_json(&run);
    }
    print_scale(&run);
    Ok(())
}

fn print_scale(run: &motif::bench::scale::ScaleRun) {
    let m = &run.machine;
    outln!("machine   {} ({} cores)", m.cpu, m.cores);
    outln!(
        "corpus    {} documents, {} passages, {} sentences stored; model {}; {} {}s analysed",
        run.documents,
        run.passages,
        run.sentences_stored,
        run.model,
        run.units,
        run.unit
    );
    outln!("{:<36} {:>10} {:>10} {:>10}", "stage", "items", "seconds", "peak MiB");
    for s in &run.stages {
        let items = if s.items > 0 { s.items.to_string() } else { String::new() };
        let peak = s.peak_rss_bytes.map_or(String::new(), |b| format!("{:.0}", b as f64 / (1024.0 * 1024.0)));
        outln!("{:<36} {:>10} {:>10.2} {:>10}", s.stage, items, s.seconds, peak);
    }
    outln!(
        "search    {:.0} queries/s at k={}, recall@{} {:.4} ({} queries); the 1 % was {}",
        run.queries_per_second,
        run.k,
        run.k,
        run.recall_at_k,
        run.queries,
        if run.graph_incremental { "inserted into the saved graph" } else { "added by rebuilding the graph" }
    );
    outln!(
        "found     {} themes, {} outliers, {} overlapping pairs in {} echo groups; report.html {:.1} MB",
        run.themes,
        run.outliers,
        run.overlaps,
        run.echo_groups,
        run.report_html_bytes as f64 / 1e6
    );
    outln!("total     {:.1} s", run.total_seconds);
}
