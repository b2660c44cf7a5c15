//! The index commands: `motif index`, `query`, `similar`, `info` and
//! `bench index`. They wire ingest, split and embed to the store (SQLite,
//! the source of truth) and the HNSW graph (derived, rebuilt when missing or
//! stale); everything about formats and transactions lives in
//! `motif::store` and `motif::ann`.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;

use motif::ann::{self, Graph, Hit, Params, Rows};
use motif::embed::{Embedder, DEFAULT_MODEL};
use motif::store::{Manifest, NewDoc, NewIndex, NewPassage, Store, StoreError, VectorTable};

use crate::progress;
use crate::{choose_model, ellipsize, load_embedder, read_corpus, round, DeviceArg, InputArgs, ModelArgs, PrecisionArg};

#[derive(Args, Clone)]
pub struct IndexDirArg {
    /// The index directory.
    #[arg(long, env = "MOTIF_INDEX", default_value = ".motif", value_name = "DIR")]
    index: PathBuf,
}

/// The model for index commands. Unlike `embed`, the default is the model
/// the index was built with, so a custom model never has to be repeated.
#[derive(Args, Clone)]
pub struct IndexModelArgs {
    /// A known model name, a sentence-transformers folder, or `hash` (default: the index's own model; all-MiniLM-L6-v2 for a new index).
    #[arg(long, short = 'm', env = "MOTIF_MODEL")]
    model: Option<String>,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    /// Passages per model call; 16-32 suits CPUs, larger suits GPUs.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Number format of the model's matrix multiplies: f32 (reference) or
    /// bf16 (about 2.5× faster on AMX CPUs; cosine to the f32 vectors
    /// 0.99999 on average, so both can share one index).
    #[arg(long, value_enum, env = "MOTIF_PRECISION", default_value_t = PrecisionArg::F32)]
    precision: PrecisionArg,
}

#[derive(Args, Clone)]
pub struct GraphArgs {
    /// HNSW: neighbours per point and layer (twice that on the bottom layer). Default 16, or the index's.
    #[arg(long, value_name = "M")]
    hnsw_m: Option<usize>,
    /// HNSW: beam width while building. Default 200, or the index's.
    #[arg(long, value_name = "N")]
    ef_construction: Option<usize>,
    /// HNSW: default beam width while searching (raised to k). Default 64, or the index's.
    #[arg(long, value_name = "N")]
    ef_search: Option<usize>,
}

impl GraphArgs {
    fn params(&self, base: Params) -> Result<Params> {
        let p = Params {
            m: self.hnsw_m.unwrap_or(base.m),
            ef_construction: self.ef_construction.unwrap_or(base.ef_construction),
            ef_search: self.ef_search.unwrap_or(base.ef_search),
        };
        p.check()?;
        Ok(p)
    }
}

#[derive(Args)]
pub struct IndexArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    dir: IndexDirArg,
    #[command(flatten)]
    model: IndexModelArgs,
    #[command(flatten)]
    graph: GraphArgs,
    /// Remove stored documents whose file is gone (or, for .jsonl files read in this run, whose record is gone).
    #[arg(long)]
    prune: bool,
    /// Rebuild the HNSW graph even when it is up to date (also replaces a corrupted graph file).
    #[arg(long)]
    rebuild_graph: bool,
    /// Insert into the graph on all cores: faster on many cores, but the graph then depends on thread timing.
    #[arg(long)]
    parallel_build: bool,
    /// Commit after about this many embedded passages, so an interrupted run keeps its work.
    #[arg(long, default_value_t = 1024, value_name = "PASSAGES")]
    commit_every: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct QueryArgs {
    /// The text to look for.
    text: String,
    #[command(flatten)]
    dir: IndexDirArg,
    /// How many passages to show.
    #[arg(short = 'k', long, default_value_t = 10)]
    k: usize,
    #[command(flatten)]
    search: SearchArgs,
    #[command(flatten)]
    model: IndexModelArgs,
    /// Print a JSON array of {doc, passage, start, end, score, text}.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Clone)]
pub struct SearchArgs {
    /// Compare with every stored vector instead of searching the HNSW graph (exact; fast enough for small corpora).
    #[arg(long)]
    exact: bool,
    /// HNSW beam width for this search (default: the index's ef_search).
    #[arg(long, visible_alias = "ef-search", value_name = "N")]
    ef: Option<usize>,
}

#[derive(Args)]
pub struct SimilarArgs {
    /// A stored document, or one passage of it as DOC#PASSAGE (passages count from 0).
    target: String,
    #[command(flatten)]
    dir: IndexDirArg,
    /// How many passages to show for each passage.
    #[arg(short = 'k', long, default_value_t = 10)]
    k: usize,
    /// Include passages of the same document.
    #[arg(long)]
    same_doc: bool,
    #[command(flatten)]
    search: SearchArgs,
    /// Print a JSON array of {from_doc, from_passage, doc, passage, start, end, score, text}.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct InfoArgs {
    #[command(flatten)]
    dir: IndexDirArg,
    /// Also list the documents.
    #[arg(long)]
    docs: bool,
    /// Also run SQLite's consistency check on the database.
    #[arg(long)]
    check: bool,
    #[arg(long)]
    json: bool,
}

/// How passages were cut; recorded so every document of an index is split alike.
fn split_description(input: &InputArgs) -> String {
    let read = &input.read;
    let mode = read.split.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
    match read.split {
        motif::split::SplitMode::Window => format!("{mode} tokens={} overlap={}", read.window_tokens, read.overlap),
        _ => format!("{mode} overlap={}", read.overlap),
    }
}

/// Reads an existing index's manifest without changing anything; `None`
/// when there is no index yet.
fn peek_manifest(dir: &Path) -> Result<Option<Manifest>> {
    match Store::open_read(dir) {
        Ok(store) => Ok(Some(store.manifest().clone())),
        Err(StoreError::NotAnIndex { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The state of the saved graph against the store.
enum GraphState {
    Fresh(Graph),
    Stale,
    Missing,
}

fn graph_state(store: &Store, passages: usize) -> Result<GraphState> {
    let params = store.manifest().params;
    Ok(match Graph::load(&store.graph_path())? {
        None => GraphState::Missing,
        Some((g, stamp))
            if stamp == store.stamp() && g.len() == passages && g.m == params.m && g.ef_construction == params.ef_construction =>
        {
            GraphState::Fresh(g)
        }
        Some(_) => GraphState::Stale,
    })
}

#[derive(Serialize, Default)]
struct IndexSummary {
    index: String,
    created: bool,
    added: Vec<String>,
    replaced: Vec<String>,
    removed: Vec<String>,
    kept: usize,
    /// Stored documents not named in this run (left as they are).
    untouched: usize,
    /// Stored documents whose file is gone, left because --prune was not given.
    prunable: usize,
    passages_embedded: usize,
    embed_seconds: f64,
    documents: usize,
    passages: usize,
    graph_rebuilt: bool,
    graph: Option<ann::BuildReport>,
}

pub fn cmd_index(args: IndexArgs) -> Result<()> {
    let dir = args.dir.index.clone();
    let existing = peek_manifest(&dir)?;
    let model_name = args
        .model
        .model
        .clone()
        .or_else(|| existing.as_ref().map(|m| m.model.clone()))
        .unwrap_or_else(|| DEFAULT_MODEL.to_string());
    let model_choice = choose_model(&model_name)?;
    let fingerprint = model_choice.fingerprint()?;
    if let Some(m) = &existing {
        // Fail before loading the model or reading any document.
        if m.model_fingerprint != fingerprint {
            Store::open_read(&dir)?.check_model(model_choice.name(), &fingerprint, m.dim)?;
        }
    }
    let params = args.graph.params(existing.as_ref().map(|m| m.params).unwrap_or_default())?;
    let split = split_description(&args.input);
    if let Some(m) = &existing {
        if m.split != split {
            Store::open_read(&dir)?.check_split(&split)?;
        }
    }
    let embedder = load_embedder(&ModelArgs { model: model_name.clone(), device: args.model.device, batch_size: args.model.batch_size, precision: args.model.precision })?;
    let new = NewIndex {
        model: model_choice.name().to_string(),
        model_fingerprint: fingerprint.clone(),
        dim: embedder.dim(),
        split: split.clone(),
        params,
    };
    // Read the documents before touching the index, so that bad input
    // leaves no trace; the diff against the store waits for the lock.
    let corpus = read_corpus(&args.input, &*embedder)?;
    let (mut store, created) = Store::open_write(&dir, &new)?;
    store.check_model(model_choice.name(), &fingerprint, embedder.dim())?;
    store.check_split(&split)?;
    // A corrupted graph is reported before anything changes, unless the
    // user asked for a rebuild.
    let (_, stored_passages) = store.counts()?;
    let before = match graph_state(&store, stored_passages) {
        Err(e) if args.rebuild_graph => {
            eprintln!("motif: {e:#}; rebuilding it");
            GraphState::Stale
        }
        other => other?,
    };

    let mut by_doc: Vec<Vec<usize>> = vec![Vec::new(); corpus.documents.len()];
    for (i, p) in corpus.passages.iter().enumerate() {
        by_doc[p.doc].push(i);
    }
    let stored: HashMap<String, motif::store::StoredDoc> = store.documents()?.into_iter().map(|d| (d.name.clone(), d)).collect();
    let mut summary = IndexSummary { index: dir.display().to_string(), created, ..Default::default() };
    let mut seen: HashSet<&str> = HashSet::new();
    let mut read_sources: HashSet<String> = HashSet::new();
    let mut sources: Vec<Option<String>> = Vec::with_capacity(corpus.documents.len());
    let mut todo: Vec<usize> = Vec::new();
    for (i, doc) in corpus.documents.iter().enumerate() {
        let source = doc.source.as_ref().and_then(|p| std::fs::canonicalize(p).ok()).map(|p| p.display().to_string());
        if let Some(s) = &source {
            read_sources.insert(s.clone());
        }
        sources.push(source);
        if !seen.insert(doc.id.as_str()) {
            eprintln!("motif: {} was given twice; indexing it once", doc.id);
            continue;
        }
        match stored.get(&doc.id) {
            None => {
                summary.added.push(doc.id.clone());
                todo.push(i);
            }
            Some(s) if s.hash == doc.hash => summary.kept += 1,
            Some(_) => {
                summary.replaced.push(doc.id.clone());
                todo.push(i);
            }
        }
    }
    // A stored document is gone when its file is gone, or when its file
    // was read in this run without yielding it (a record removed from a
    // .jsonl file). Documents read from stdin have no file: they stay until
    // replaced by another `motif index -`.
    let mut gone: Vec<String> = Vec::new();
    for s in stored.values() {
        if seen.contains(s.name.as_str()) {
            continue;
        }
        match &s.source {
            Some(src) if !Path::new(src).exists() || read_sources.contains(src) => gone.push(s.name.clone()),
            _ => summary.untouched += 1,
        }
    }
    gone.sort();
    if args.prune {
        summary.removed = gone;
    } else {
        summary.prunable = gone.len();
        summary.untouched += gone.len();
    }

    // Embed and commit in chunks: each commit is one transaction, so a run
    // killed at any point leaves a consistent index holding every chunk
    // committed so far, and the next run embeds only what is missing.
    let total: usize = todo.iter().map(|&i| by_doc[i].len()).sum();
    let bar = progress::items_bar(total as u64, "embedding");
    let embed_start = Instant::now();
    let mut pending_removals = summary.removed.clone();
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut size = 0;
    for &i in &todo {
        if chunks.is_empty() || size >= args.commit_every.max(1) {
            chunks.push(Vec::new());
            size = 0;
        }
        chunks.last_mut().expect("just pushed").push(i);
        size += by_doc[i].len();
    }
    for chunk in &chunks {
        let texts: Vec<&str> = chunk.iter().flat_map(|&i| by_doc[i].iter().map(|&p| corpus.text(&corpus.passages[p]))).collect();
        let vectors = crate::standard_layout(embedder.embed(&texts, &mut |n| bar.inc(n as u64))?);
        let mut next = crate::row_slices(&vectors);
        let docs: Vec<NewDoc> = chunk
            .iter()
            .map(|&i| {
                let doc = &corpus.documents[i];
                NewDoc {
                    name: &doc.id,
                    source: sources[i].clone(),
                    hash: &doc.hash,
                    bytes: doc.text.len(),
                    passages: by_doc[i]
                        .iter()
                        .map(|&p| {
                            let passage = &corpus.passages[p];
                            NewPassage {
                                ordinal: passage.ordinal,
                                start: passage.start,
                                end: passage.end,
                                windowed: passage.windowed,
                                text: corpus.text(passage),
                                vector: next.next().expect("one vector per passage"),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        store.write(&docs, &pending_removals)?;
        pending_removals.clear();
        summary.passages_embedded += texts.len();
    }
    store.write(&[], &pending_removals)?;
    bar.finish_and_clear();
    summary.embed_seconds = round(embed_start.elapsed().as_secs_f64(), 3);

    let params_changed = store.manifest().params != params;
    store.set_params(params)?;
    let (documents, passages) = store.counts()?;
    summary.documents = documents;
    summary.passages = passages;
    let changed = !chunks.is_empty() || !summary.removed.is_empty();
    let fresh = matches!(before, GraphState::Fresh(_));
    if changed || !fresh || args.rebuild_graph || params_changed {
        let table = store.vectors()?;
        let (graph, report) = build_graph(&table, params, args.parallel_build);
        graph.save(&store.graph_path(), &store.stamp())?;
        summary.graph_rebuilt = true;
        summary.graph = Some(report);
    }
    print_index_summary(&summary, &store, args.json)
}

fn build_graph(table: &VectorTable, params: Params, parallel: bool) -> (Graph, ann::BuildReport) {
    let rows = Rows::new(&table.data, table.dim);
    let bar = progress::items_bar(rows.len() as u64, "graph");
    let (graph, report) = Graph::build(rows, params, parallel, &mut |n| bar.inc(n as u64));
    bar.finish_and_clear();
    if report.unreachable > 0 {
        eprintln!(
            "motif: {} of {} points were not found by a search for their own vector after insertion; repaired {}",
            report.unreachable,
            report.points,
            report.unreachable - report.unrepaired
        );
    }
    if report.unrepaired > 0 {
        eprintln!("motif: warning: {} points are still not found by a search for their own vector; --exact finds them", report.unrepaired);
    }
    (graph, report)
}

fn print_index_summary(s: &IndexSummary, store: &Store, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(s)?);
        return Ok(());
    }
    let passages_of = |n: usize| if n == 1 { "1 passage".to_string() } else { format!("{n} passages") };
    let docs = |n: usize| if n == 1 { "1 document".to_string() } else { format!("{n} documents") };
    println!(
        "{} {}: added {}, kept {}, replaced {}, removed {}",
        if s.created { "created" } else { "updated" },
        s.index,
        docs(s.added.len()),
        s.kept,
        s.replaced.len(),
        s.removed.len()
    );
    for (what, names) in [("added", &s.added), ("replaced", &s.replaced), ("removed", &s.removed)] {
        for name in names.iter().take(20) {
            println!("  {what:<8} {name}");
        }
        if names.len() > 20 {
            println!("  {what:<8} … and {} more", names.len() - 20);
        }
    }
    if s.passages_embedded > 0 {
        println!("embedded {} in {:.1} s", passages_of(s.passages_embedded), s.embed_seconds);
    }
    if s.untouched > 0 {
        println!("{} not named in this run left as they are", docs(s.untouched));
    }
    if s.prunable > 0 {
        println!("{} stored with a file that is gone; --prune removes them", docs(s.prunable));
    }
    let m = store.manifest();
    match &s.graph {
        Some(g) => println!(
            "HNSW graph rebuilt over {} in {:.1} s (M {}, ef_construction {}; self-search check {:.1} s, {} repaired)",
            passages_of(g.points),
            g.insert_seconds,
            m.params.m,
            m.params.ef_construction,
            g.check_seconds,
            g.unreachable - g.unrepaired
        ),
        None => println!("HNSW graph up to date"),
    }
    println!("index now holds {} and {}, model {}", docs(s.documents), passages_of(s.passages), m.model);
    Ok(())
}

/// Stored vectors and the means to search them.
struct Searcher {
    table: VectorTable,
    graph: Option<Graph>,
    ef: usize,
}

impl Searcher {
    fn open(store: &Store, search: &SearchArgs) -> Result<Searcher> {
        let table = store.vectors()?;
        let ef = search.ef.unwrap_or(store.manifest().params.ef_search).max(1);
        if search.exact {
            return Ok(Searcher { table, graph: None, ef });
        }
        let graph = match graph_state(store, table.passages.len())? {
            GraphState::Fresh(g) => g,
            state => {
                // Readers never write: the graph is built in memory, and the
                // next `motif index` saves it.
                let why = if matches!(state, GraphState::Missing) { "missing" } else { "stale" };
                eprintln!(
                    "motif: the HNSW graph in {} is {why}; building it in memory for this search (`motif index` saves it)",
                    store.dir().display()
                );
                build_graph(&table, store.manifest().params, false).0
            }
        };
        Ok(Searcher { table, graph: Some(graph), ef })
    }

    fn rows(&self) -> Rows<'_> {
        Rows::new(&self.table.data, self.table.dim)
    }

    /// The k best rows for `query`, leaving out rows for which `skip` is
    /// true; `skipped` bounds how many rows `skip` can reject, so the graph
    /// search asks for enough.
    fn search(&self, query: &[f32], k: usize, skip: &dyn Fn(u32) -> bool, skipped: usize) -> Vec<Hit> {
        match &self.graph {
            None => ann::exact_search(self.rows(), query, k, skip),
            Some(g) => {
                let want = k + skipped;
                let mut hits = g.search(self.rows(), query, want, self.ef.max(want));
                hits.retain(|h| !skip(h.id));
                hits.truncate(k);
                hits
            }
        }
    }
}

#[derive(Serialize)]
struct ResultRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    from_doc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_passage: Option<usize>,
    rank: usize,
    doc: String,
    passage: usize,
    start: usize,
    end: usize,
    score: f64,
    text: String,
}

fn result_rows(store: &Store, searcher: &Searcher, hits: &[Hit], from: Option<(String, usize)>) -> Result<Vec<ResultRow>> {
    hits.iter()
        .enumerate()
        .map(|(rank, h)| {
            let p = &searcher.table.passages[h.id as usize];
            Ok(ResultRow {
                from_doc: from.as_ref().map(|f| f.0.clone()),
                from_passage: from.as_ref().map(|f| f.1),
                rank: rank + 1,
                doc: p.doc.clone(),
                passage: p.ordinal,
                start: p.start,
                end: p.end,
                score: round(h.score as f64, 6),
                text: store.passage_text(p.rowid)?,
            })
        })
        .collect()
}

fn print_rows(out: &mut dyn Write, rows: &[ResultRow], indent: &str) -> io::Result<()> {
    for r in rows {
        writeln!(
            out,
            "{indent}{:.4}  {:<36} {:>4} {:>13}  {}",
            r.score,
            ellipsize(&r.doc, 36),
            r.passage,
            format!("{}..{}", r.start, r.end),
            ellipsize(&r.text, 72)
        )?;
    }
    Ok(())
}

/// Loads the index's model (or the one named, which must be the same).
fn query_embedder(store: &Store, args: &IndexModelArgs) -> Result<Box<dyn Embedder>> {
    let m = store.manifest();
    let name = args.model.clone().unwrap_or_else(|| m.model.clone());
    let choice = choose_model(&name).with_context(|| format!("loading the model of index {}", store.dir().display()))?;
    store.check_model(choice.name(), &choice.fingerprint()?, m.dim)?;
    let embedder = load_embedder(&ModelArgs { model: name, device: args.device, batch_size: args.batch_size, precision: args.precision })?;
    store.check_model(choice.name(), &choice.fingerprint()?, embedder.dim())?;
    Ok(embedder)
}

pub fn cmd_query(args: QueryArgs) -> Result<()> {
    let store = Store::open_read(&args.dir.index)?;
    let embedder = query_embedder(&store, &args.model)?;
    let vectors = embedder.embed(&[args.text.as_str()], &mut |_| {})?;
    let query = vectors.outer_iter().next().context("the model returned no vector")?.to_vec();
    let searcher = Searcher::open(&store, &args.search)?;
    let hits = searcher.search(&query, args.k, &|_| false, 0);
    let rows = result_rows(&store, &searcher, &hits, None)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else if rows.is_empty() {
        writeln!(out, "the index holds no passages")?;
    } else {
        writeln!(out, "{:<6}  {:<36} {:>4} {:>13}  text", "score", "doc", "#", "bytes")?;
        print_rows(&mut out, &rows, "")?;
    }
    out.flush()?;
    Ok(())
}

/// Resolves `DOC` or `DOC#PASSAGE` to rows of the table.
fn target_rows(table: &VectorTable, target: &str, dir: &Path) -> Result<(String, Vec<usize>)> {
    let rows_of = |doc: &str| -> Vec<usize> { (0..table.passages.len()).filter(|&i| table.passages[i].doc == doc).collect() };
    let whole = rows_of(target);
    if !whole.is_empty() {
        return Ok((target.to_string(), whole));
    }
    if let Some((doc, n)) = target.rsplit_once('#') {
        if let Ok(n) = n.parse::<usize>() {
            let rows = rows_of(doc);
            if !rows.is_empty() {
                let Some(&row) = rows.iter().find(|&&r| table.passages[r].ordinal == n) else {
                    bail!("{doc} has passages 0 to {} in {}; there is no passage {n}", rows.len() - 1, dir.display());
                };
                return Ok((doc.to_string(), vec![row]));
            }
        }
    }
    bail!("{target}: no such document in the index {} (`motif info --docs` lists them)", dir.display())
}

pub fn cmd_similar(args: SimilarArgs) -> Result<()> {
    let store = Store::open_read(&args.dir.index)?;
    let searcher = Searcher::open(&store, &args.search)?;
    let table = &searcher.table;
    let (doc, sources) = target_rows(table, &args.target, &args.dir.index)?;
    let doc_rows: HashSet<u32> = (0..table.passages.len() as u32).filter(|&i| table.passages[i as usize].doc == doc).collect();
    let mut all = Vec::new();
    for &row in &sources {
        let skip = |id: u32| id as usize == row || (!args.same_doc && doc_rows.contains(&id));
        let skipped = if args.same_doc { 1 } else { doc_rows.len() };
        let hits = searcher.search(searcher.rows().row(row), args.k, &skip, skipped);
        let p = &table.passages[row];
        all.push((row, result_rows(&store, &searcher, &hits, Some((p.doc.clone(), p.ordinal)))?));
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.json {
        let flat: Vec<&ResultRow> = all.iter().flat_map(|(_, rows)| rows).collect();
        serde_json::to_writer_pretty(&mut out, &flat)?;
        writeln!(out)?;
    } else {
        for (row, rows) in &all {
            let p = &table.passages[*row];
            let text = store.passage_text(p.rowid)?;
            writeln!(out, "{}#{} ({}..{}): {}", p.doc, p.ordinal, p.start, p.end, ellipsize(&text, 80))?;
            if rows.is_empty() {
                writeln!(out, "  (no other passages)")?;
            }
            print_rows(&mut out, rows, "  ")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `2025-11-21 20:30:00 UTC` from unix seconds (civil-from-days, H. Hinnant).
fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn human_bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < units.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", units[u])
    }
}

pub fn cmd_info(args: InfoArgs) -> Result<()> {
    let store = Store::open_read(&args.dir.index)?;
    if args.check {
        store.quick_check()?;
    }
    let m = store.manifest().clone();
    let (documents, passages) = store.counts()?;
    let state = graph_state(&store, passages)?;
    let (graph_status, graph_points, graph_layers, repaired) = match &state {
        GraphState::Fresh(g) => ("up to date", g.len(), g.top_level() + 1, g.repaired),
        GraphState::Stale => ("stale: rebuilt in memory by searches until `motif index` saves it", 0, 0, 0),
        GraphState::Missing => ("missing: rebuilt in memory by searches until `motif index` saves it", 0, 0, 0),
    };
    let graph_bytes = std::fs::metadata(store.graph_path()).map(|m| m.len()).unwrap_or(0);
    let disk = store.disk_bytes();
    let docs = if args.docs { store.documents()? } else { Vec::new() };
    if args.json {
        let out = serde_json::json!({
            "index": store.dir().display().to_string(),
            "format_version": m.format_version,
            "model": m.model,
            "model_fingerprint": m.model_fingerprint,
            "dim": m.dim,
            "split": m.split,
            "documents": documents,
            "passages": passages,
            "disk_bytes": disk,
            "graph": {
                "status": match state { GraphState::Fresh(_) => "fresh", GraphState::Stale => "stale", GraphState::Missing => "missing" },
                "m": m.params.m,
                "ef_construction": m.params.ef_construction,
                "ef_search": m.params.ef_search,
                "points": graph_points,
                "layers": graph_layers,
                "repaired": repaired,
                "bytes": graph_bytes,
            },
            "generation": m.generation,
            "created_at": utc(m.created_at),
            "updated_at": utc(m.updated_at),
            "doc_list": args.docs.then(|| docs.iter().map(|d| serde_json::json!({
                "name": d.name,
                "passages": d.passages,
                "hash": d.hash,
                "source": d.source,
                "indexed_at": utc(d.indexed_at),
            })).collect::<Vec<_>>()),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let fp: String = m.model_fingerprint.chars().take(12).collect();
    println!("index      {} (format {}, generation {})", store.dir().display(), m.format_version, m.generation);
    println!("model      {} (fingerprint {fp}…), dimension {}", m.model, m.dim);
    println!("split      {}", m.split);
    println!("documents  {documents}");
    println!("passages   {passages}");
    println!("on disk    {} (graph {})", human_bytes(disk), human_bytes(graph_bytes));
    println!("graph      HNSW M {} ef_construction {} ef_search {}: {graph_status}", m.params.m, m.params.ef_construction, m.params.ef_search);
    if let GraphState::Fresh(_) = state {
        println!("           {graph_points} points, {graph_layers} layers, {repaired} repaired after insertion");
    }
    println!("built      {}", utc(m.created_at));
    println!("updated    {}", utc(m.updated_at));
    if args.check {
        println!("check      SQLite quick_check ok");
    }
    if args.docs {
        println!();
        for d in &docs {
            println!("{:>5}  {}", d.passages, d.name);
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct BenchIndexArgs {
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
    #[arg(short = 'k', long, default_value_t = 10)]
    k: usize,
    #[command(flatten)]
    graph: GraphArgs,
    /// Build with the parallel insert.
    #[arg(long)]
    parallel_build: bool,
    /// Run scripts/peer_hnswlib.py with this Python on the same vectors and print its figures beside.
    #[arg(long, value_name = "PYTHON")]
    peer: Option<PathBuf>,
    /// Keep the vectors given to the peer here (default: a temporary file).
    #[arg(long)]
    save_npy: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// Reads a 2-D little-endian float32 .npy file.
fn read_npy_f32(path: &Path) -> Result<(Vec<f32>, usize)> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let bad = || anyhow::anyhow!("{}: not a 2-D little-endian float32 .npy file", path.display());
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad());
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (u32::from_le_bytes(bytes.get(8..12).ok_or_else(bad)?.try_into()?) as usize, 12),
    };
    let header = std::str::from_utf8(bytes.get(start..start + header_len).ok_or_else(bad)?).map_err(|_| bad())?;
    if !header.contains("'<f4'") || header.contains("'fortran_order': True") {
        return Err(bad());
    }
    let shape = header.split("'shape':").nth(1).and_then(|s| s.split(')').next()).ok_or_else(bad)?;
    let dims: Vec<usize> = shape.trim_start_matches([' ', '(']).split(',').filter_map(|d| d.trim().parse().ok()).collect();
    let [rows, dim] = dims[..] else { return Err(bad()) };
    if dim == 0 {
        return Err(bad());
    }
    let data = &bytes[start + header_len..];
    if data.len() != rows * dim * 4 {
        return Err(bad());
    }
    Ok((data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect(), dim))
}

pub fn cmd_bench_index(args: BenchIndexArgs) -> Result<()> {
    let params = args.graph.params(Params::default())?;
    let (data, dim, source) = match &args.vectors {
        Some(path) => {
            let (base, dim) = read_npy_f32(path)?;
            let rows = base.len() / dim;
            let n = if args.n == 0 { rows } else { args.n };
            let mut data = base[..n.min(rows) * dim].to_vec();
            if n > rows {
                // Each extra row: a stored row plus noise, renormalised, so
                // the set keeps the real neighbourhood structure.
                let noise = ann::clustered_vectors(n - rows, dim, 1, 1.0, 42);
                for j in 0..n - rows {
                    let base_row = &base[(j % rows) * dim..][..dim];
                    let mut v: Vec<f32> = base_row.iter().zip(&noise[j * dim..][..dim]).map(|(b, e)| b + 0.02 * e).collect();
                    motif::matrix::normalize(&mut v);
                    data.extend_from_slice(&v);
                }
            }
            (data, dim, format!("{} ({rows} rows{})", path.display(), if n > rows { ", repeated with noise" } else { "" }))
        }
        None => {
            if args.dim == 0 {
                bail!("--dim must be at least 1");
            }
            let n = args.n.max(1);
            (ann::clustered_vectors(n, args.dim, (n / 100).max(1), 0.8, 42), args.dim, "synthetic clustered vectors".to_string())
        }
    };
    let rows = Rows::new(&data, dim);
    let n = rows.len();
    let step = (n / args.queries.max(1)).max(1);
    let queries: Vec<usize> = (0..n).step_by(step).take(args.queries).collect();
    eprintln!("motif: {n} vectors of dimension {dim} from {source}; building HNSW (M {}, ef_construction {})", params.m, params.ef_construction);

    let (graph, report) = build_graph(&VectorTable { passages: Vec::new(), data: data.clone(), dim }, params, args.parallel_build);
    let start = Instant::now();
    let exact: Vec<Vec<Hit>> = queries.iter().map(|&q| ann::exact_search(rows, rows.row(q), args.k, &|_| false)).collect();
    let exact_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let approx: Vec<Vec<Hit>> = queries.iter().map(|&q| graph.search(rows, rows.row(q), args.k, params.ef_search)).collect();
    let hnsw_seconds = start.elapsed().as_secs_f64();
    let found: usize = exact.iter().zip(&approx).map(|(e, a)| a.iter().filter(|h| e.iter().any(|x| x.id == h.id)).count()).sum();
    let recall = found as f64 / (queries.len() * args.k).max(1) as f64;
    let mut out = serde_json::json!({
        "machine": motif::bench::Machine::detect(),
        "vectors": n,
        "dim": dim,
        "source": source,
        "queries": queries.len(),
        "k": args.k,
        "params": params,
        "parallel_build": args.parallel_build,
        "motif": {
            "build_seconds": round(report.insert_seconds, 3),
            "self_check_seconds": round(report.check_seconds, 3),
            "unreachable_repaired": report.unreachable - report.unrepaired,
            "queries_per_second": round(queries.len() as f64 / hnsw_seconds.max(1e-9), 1),
            "exact_queries_per_second": round(queries.len() as f64 / exact_seconds.max(1e-9), 1),
            "recall_at_k": round(recall, 4),
        },
    });
    if let Some(python) = &args.peer {
        let tmp;
        let npy = match &args.save_npy {
            Some(p) => p.clone(),
            None => {
                tmp = tempfile_path("motif-bench", "npy");
                tmp
            }
        };
        let rows_vec: Vec<Vec<f32>> = (0..n).map(|i| rows.row(i).to_vec()).collect();
        let mut f = io::BufWriter::new(std::fs::File::create(&npy).with_context(|| format!("{}: cannot create", npy.display()))?);
        motif::npy::write_f32_matrix(&mut f, &rows_vec, dim)?;
        f.flush()?;
        drop(f);
        drop(rows_vec);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/peer_hnswlib.py");
        eprintln!("motif: running {} {}", python.display(), script.display());
        let result = std::process::Command::new(python)
            .arg(&script)
            .arg(&npy)
            .args(["--queries", &queries.len().to_string(), "--k", &args.k.to_string()])
            .args(["--m", &params.m.to_string(), "--ef-construction", &params.ef_construction.to_string()])
            .args(["--ef-search", &params.ef_search.to_string()])
            .output()
            .with_context(|| format!("cannot run {}", python.display()))?;
        if args.save_npy.is_none() {
            let _ = std::fs::remove_file(&npy);
        }
        if !result.status.success() {
            bail!("the hnswlib peer failed: {}", String::from_utf8_lossy(&result.stderr).trim());
        }
        let peer: serde_json::Value = serde_json::from_slice(&result.stdout).context("the hnswlib peer printed no JSON")?;
        out["hnswlib"] = peer;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("{n} vectors × {dim}, {} queries, k {}, M {} ef_construction {} ef_search {}", queries.len(), args.k, params.m, params.ef_construction, params.ef_search);
    println!("{:<10} {:>10} {:>12} {:>12} {:>10}", "", "build s", "queries/s", "exact q/s", "recall@k");
    let row = |name: &str, v: &serde_json::Value| {
        println!(
            "{:<10} {:>10} {:>12} {:>12} {:>10}",
            name,
            v["build_seconds"],
            v["queries_per_second"],
            v.get("exact_queries_per_second").unwrap_or(&serde_json::Value::Null),
            v["recall_at_k"]
        );
    };
    row("motif", &out["motif"]);
    if out.get("hnswlib").is_some() {
        row("hnswlib", &out["hnswlib"]);
    }
    println!("(motif builds on one thread{}; its self-search check took {:.1} s more)", if args.parallel_build { " per core" } else { "" }, report.check_seconds);
    Ok(())
}

fn tempfile_path(stem: &str, ext: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{stem}-{}.{ext}", std::process::id()))
}

/// Runs `motif index ARGV` (the arguments after the command name): for
/// `motif report PATH...`, which indexes before it reports.
pub(crate) fn index_from_argv(argv: &[&str]) -> Result<()> {
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: IndexArgs,
    }
    let cli = <Cli as clap::Parser>::try_parse_from(std::iter::once("index").chain(argv.iter().copied()))?;
    cmd_index(cli.args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_763_757_000), "2025-11-21 20:30:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn bytes_read_as_people_do() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
