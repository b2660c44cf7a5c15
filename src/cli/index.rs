//! `motif index` and `motif info`: arguments into `pipeline::index_documents`
//! and a summary of what it did; the state of an index.

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::progress::Bars;
use super::{read_documents, IndexArg, ModelArgs, ReadArgs};
use motif::corpus::ingest::human_bytes;
use motif::corpus::ingest::shown;
use motif::corpus::meta::DocMeta;
use motif::corpus::ReadDocuments;
use motif::embed::Embedder;
use motif::embed::ModelChoice;
use motif::exchange::import;
use motif::index::{BuildReport, Params};
use motif::pipeline::{self, IndexSettings, IndexSummary};
use motif::report::escape_controls;
use motif::store::update::Vectors;
use motif::store::{Manifest, NewIndex, SavedGraph, Store, StoreError};

pub const LONG_ABOUT: &str = "Split, embed and store documents in an index directory (default .motif/ here).\n\n\
Run it again on a grown or edited corpus: only new or changed documents (by content hash) are embedded, \
passages of changed documents are replaced, and --prune removes documents whose files are gone. The store is \
SQLite (DIR/index.sqlite, readable with the sqlite3 shell); the HNSW graph beside it is rebuilt from it when \
missing or stale. Writes are transactional: an interrupted run leaves a usable index and the next run finishes.\n\n\
Inputs may also be corpora of records, one document a row: .jsonl, .csv (with a header row) and .parquet, \
the text from --text-field, the name from --id-field, metadata from --meta-field.\n\n\
--from PATH stores passages whose vectors were computed elsewhere instead of embedding: a `motif export` folder, \
or the Parquet/JSONL that `motif embed --format parquet|jsonl` (or scripts/ray_embed.py) writes, one file or a \
folder of part files. Their dimension and unit length are checked, and the model fingerprint motif writes into \
its files must match the index's model; a mismatch changes nothing.\n\n\
Examples:\n  motif index seeds/\n  motif index --prune --index ~/notes.motif ~/notes\n  \
motif index articles.parquet --text-field body --id-field url --meta-field outlet\n  \
motif index --from vectors/ --index big.motif\n  motif query \"troops at the border\"";

#[derive(Args, Clone, Debug)]
pub struct GraphArgs {
    /// HNSW: neighbours per point and layer (twice that on the bottom layer). Default 16, or the index's.
    #[arg(long, value_name = "M")]
    pub hnsw_m: Option<usize>,
    /// HNSW: beam width while building. Default 200, or the index's.
    #[arg(long, value_name = "N")]
    pub ef_construction: Option<usize>,
    /// HNSW: default beam width while searching (raised to k). Default 64, or the index's.
    #[arg(long, value_name = "N")]
    pub ef_search: Option<usize>,
}

impl GraphArgs {
    /// These settings over `base` (the index's, or the defaults).
    pub fn params(&self, base: Params) -> Result<Params> {
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
    /// Files, folders, glob patterns, or - for stdin.
    #[arg(required_unless_present = "from", conflicts_with = "from")]
    pub paths: Vec<String>,
    /// Store passages with vectors computed elsewhere: a `motif export` folder, or embedded passages
    /// (Parquet or JSONL with document, text and embedding columns; one file or a folder of them).
    #[arg(long, value_name = "PATH")]
    pub from: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub dir: IndexArg,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub graph: GraphArgs,
    /// Remove stored documents whose file is gone (or, for .jsonl files read in this run, whose record is gone).
    #[arg(long)]
    pub prune: bool,
    /// Rebuild the HNSW graph even when it is up to date (also replaces a corrupted graph file).
    #[arg(long)]
    pub rebuild_graph: bool,
    /// Build or update the graph on one thread, deterministically (by default all cores insert at once,
    /// and the graph then depends on thread timing).
    #[arg(long)]
    pub serial_build: bool,
    /// The default now; kept so older scripts still run.
    #[arg(long, hide = true)]
    pub parallel_build: bool,
    /// Commit after about this many embedded passages, so an interrupted run keeps its work.
    #[arg(long, default_value_t = 1024, value_name = "PASSAGES")]
    pub commit_every: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Reads an existing index's manifest without changing anything; `None`
/// when there is no index yet.
fn peek_manifest(dir: &std::path::Path) -> Result<Option<Manifest>> {
    match Store::open_read(dir) {
        Ok(store) => Ok(Some(store.manifest().clone())),
        Err(StoreError::NotAnIndex { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Indexes the given paths; `motif report PATH...` runs the same. Returns
/// the summary and the model it embedded with.
pub fn index_paths(args: &IndexArgs) -> Result<(IndexSummary, Box<dyn Embedder>)> {
    if let Some(from) = &args.from {
        return index_from(args, from);
    }
    let dir = &args.dir.index;
    let existing = peek_manifest(dir)?;
    let name = args.model.name_or(existing.as_ref().map(|m| m.model.as_str()));
    let choice = super::choose_model(&name)?;
    let fingerprint = choice.fingerprint()?;
    let split = args.read.options().split_description();
    // Fail before loading the model or reading any document.
    check_existing(dir, existing.as_ref(), &choice, &fingerprint, &split)?;
    let params = args.graph.params(existing.as_ref().map(|m| m.params).unwrap_or_default())?;
    let embedder = args.model.load(&name)?;
    // Read the documents before touching the index, so that bad input
    // leaves no trace.
    let read = read_documents(&args.paths, &args.read, &*embedder)?;
    let new = NewIndex {
        model: choice.name().to_string(),
        model_fingerprint: fingerprint,
        dim: embedder.dim(),
        split,
        params,
    };
    let summary = store_documents(args, &new, &read, None, Vectors::Embed(&*embedder))?;
    Ok((summary, embedder))
}

/// Refuses, before anything is read or written, a model or split other
/// than those of the index already in `dir` (if any).
fn check_existing(
    dir: &std::path::Path,
    existing: Option<&Manifest>,
    choice: &ModelChoice,
    fingerprint: &str,
    split: &str,
) -> Result<()> {
    if let Some(m) = existing {
        let store = Store::open_read(dir)?;
        store.check_model(choice.name(), fingerprint, m.dim)?;
        store.check_split(split)?;
    }
    Ok(())
}

/// `pipeline::index_documents` with this run's settings, then its notes.
fn store_documents(
    args: &IndexArgs,
    new: &NewIndex,
    read: &ReadDocuments,
    sources: Option<&[Option<String>]>,
    vectors: Vectors,
) -> Result<IndexSummary> {
    let summary = pipeline::index_documents(
        &args.dir.index,
        read,
        sources,
        new,
        vectors,
        &settings(args, new.params),
        &mut Bars::new(),
    )?;
    after_indexing(&summary);
    Ok(summary)
}

fn settings(args: &IndexArgs, params: Params) -> IndexSettings {
    IndexSettings {
        params,
        prune: args.prune,
        rebuild_graph: args.rebuild_graph,
        parallel_build: !args.serial_build,
        commit_every: args.commit_every,
        skip_bad: args.read.skip_bad,
    }
}

fn after_indexing(summary: &IndexSummary) {
    for note in &summary.notes {
        eprintln!("motif: {}", escape_controls(note));
    }
    if let Some(g) = &summary.graph {
        report_repairs(g);
    }
}

/// `--from`: passages with their vectors, checked against the index's
/// model before anything is written. The model is the one named, else the
/// index's, else the one the files say made them, else the default.
fn index_from(args: &IndexArgs, from: &std::path::Path) -> Result<(IndexSummary, Box<dyn Embedder>)> {
    let dir = &args.dir.index;
    let existing = peek_manifest(dir)?;
    let imported = import::read(from)?;
    let made_by = imported.provenance.as_ref().map(|p| p.model.as_str());
    let name = args.model.name_or(existing.as_ref().map(|m| m.model.as_str()).or(made_by));
    let choice = super::choose_model(&name)?;
    let fingerprint = choice.fingerprint()?;
    let embedder = args.model.load(&name)?;
    imported.check_model(from, choice.name(), &fingerprint, embedder.dim())?;
    if imported.provenance.is_none() {
        eprintln!(
            "motif: {} does not say which model made its vectors (no motif metadata); checked their dimension ({}) and unit length only",
            from.display(),
            imported.dim()
        );
    }
    // Passages cut elsewhere keep their cut: the index records the one
    // they came with, or this run's split options.
    let split = match imported.provenance.as_ref().map(|p| p.split.clone()).filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => args.read.options().split_description(),
    };
    check_existing(dir, existing.as_ref(), &choice, &fingerprint, &split)?;
    let params = args.graph.params(existing.as_ref().map(|m| m.params).unwrap_or_default())?;
    let new = NewIndex {
        model: choice.name().to_string(),
        model_fingerprint: fingerprint,
        dim: embedder.dim(),
        split,
        params,
    };
    let summary = store_documents(
        args,
        &new,
        &imported.read,
        Some(&imported.sources),
        Vectors::Given(&imported.vectors, Some(&*embedder)),
    )?;
    Ok((summary, embedder))
}

/// Says what the graph's self-search check found, when it found anything.
pub fn report_repairs(report: &BuildReport) {
    if report.unreachable > 0 {
        eprintln!(
            "motif: {} of {} points were not found by a search for their own vector after insertion; repaired {}",
            report.unreachable,
            report.points,
            report.unreachable - report.unrepaired
        );
    }
    if report.unrepaired > 0 {
        eprintln!(
            "motif: warning: {} points are still not found by a search for their own vector; --exact finds them",
            report.unrepaired
        );
    }
}

pub fn run(args: IndexArgs) -> Result<()> {
    let (summary, _) = index_paths(&args)?;
    if args.json {
        return super::print_json(&summary);
    }
    let store = Store::open_read(&args.dir.index)?;
    print_summary(&summary, store.manifest());
    Ok(())
}

fn print_summary(s: &IndexSummary, m: &Manifest) {
    let passages_of = |n: usize| if n == 1 { "1 passage".to_string() } else { format!("{n} passages") };
    let docs = |n: usize| if n == 1 { "1 document".to_string() } else { format!("{n} documents") };
    outln!(
        "{} {}: added {}, kept {}, replaced {}, removed {}",
        if s.created { "created" } else { "updated" },
        escape_controls(&s.index),
        docs(s.plan.added.len()),
        s.plan.kept,
        s.plan.replaced.len(),
        s.plan.removed.len()
    );
    for (what, names) in [
        ("added", &s.plan.added),
        ("replaced", &s.plan.replaced),
        ("repaired", &s.plan.repaired),
        ("retagged", &s.plan.retagged),
        ("removed", &s.plan.removed),
    ] {
        for name in names.iter().take(20) {
            outln!("  {what:<8} {}", shown(name));
        }
        if names.len() > 20 {
            outln!("  {what:<8} … and {} more", names.len() - 20);
        }
    }
    let sentences_of = |n: usize| if n == 1 { "1 sentence".to_string() } else { format!("{n} sentences") };
    if s.passages_embedded > 0 {
        let and = match s.sentences_embedded {
            0 => String::new(),
            n => format!(" and {}", sentences_of(n)),
        };
        outln!("embedded {}{and} in {:.1} s", passages_of(s.passages_embedded), s.embed_seconds);
    } else if s.sentences_embedded > 0 {
        outln!("embedded {} in {:.1} s", sentences_of(s.sentences_embedded), s.embed_seconds);
    }
    if s.passages_imported > 0 {
        outln!("stored {} with their given vectors", passages_of(s.passages_imported));
    }
    if s.plan.untouched > 0 {
        outln!("{} not named in this run left as they are", docs(s.plan.untouched));
    }
    if s.plan.prunable > 0 {
        let (are, their) = if s.plan.prunable == 1 { ("is", "its file") } else { ("are", "their files") };
        outln!(
            "{} {are} no longer in {their} (deleted, emptied, or read now without them); --prune removes them",
            docs(s.plan.prunable)
        );
    }
    match &s.graph {
        Some(g) if g.incremental => outln!(
            "HNSW graph updated in {:.1} s: {} inserted, {} marked removed ({} tombstones, {:.1}% of its points; rebuilt past {:.0}%); self-search check of the inserted {:.1} s, {} repaired",
            g.insert_seconds,
            g.inserted,
            g.removed,
            g.tombstones,
            100.0 * g.tombstones as f64 / (g.points + g.tombstones).max(1) as f64,
            100.0 * motif::index::REBUILD_DEAD_SHARE,
            g.check_seconds,
            g.unreachable - g.unrepaired
        ),
        Some(g) => outln!(
            "HNSW graph rebuilt over {} in {:.1} s (M {}, ef_construction {}; self-search check {:.1} s, {} repaired)",
            passages_of(g.points),
            g.insert_seconds,
            m.params.m,
            m.params.ef_construction,
            g.check_seconds,
            g.unreachable - g.unrepaired
        ),
        None => outln!("HNSW graph up to date"),
    }
    outln!("index now holds {} and {}, model {}", docs(s.documents), passages_of(s.passages), m.model);
}

#[derive(Args)]
pub struct InfoArgs {
    #[command(flatten)]
    dir: IndexArg,
    /// Also list the documents (with their date, source and title where known).
    #[arg(long)]
    docs: bool,
    /// Also check the database (SQLite's quick_check) and every stored vector (size, finite, unit length).
    #[arg(long)]
    check: bool,
    #[arg(long)]
    json: bool,
}

/// `2025-11-21 20:30:00 UTC` from unix seconds.
fn utc(secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Err(_) => format!("{secs} (unix seconds)"),
    }
}

#[derive(Serialize)]
struct GraphInfo {
    status: &'static str,
    m: usize,
    ef_construction: usize,
    ef_search: usize,
    points: usize,
    layers: usize,
    repaired: usize,
    /// Removed passages the graph still routes through (never returned).
    tombstones: usize,
    /// Their share of the graph's points.
    tombstone_share: f64,
    /// Past this share, `motif index` rebuilds the graph instead of updating it.
    rebuild_share: f64,
    bytes: u64,
}

#[derive(Serialize)]
struct DocInfo {
    name: String,
    passages: usize,
    hash: String,
    /// The file it came from.
    path: Option<String>,
    indexed_at: String,
    /// Its date, source (outlet), title and URL, where known.
    #[serde(flatten)]
    meta: DocMeta,
}

#[derive(Serialize)]
struct Info {
    index: String,
    format_version: u32,
    model: String,
    model_fingerprint: String,
    dim: usize,
    split: String,
    documents: usize,
    passages: usize,
    disk_bytes: u64,
    graph: GraphInfo,
    generation: u64,
    created_at: String,
    updated_at: String,
    doc_list: Option<Vec<DocInfo>>,
    /// With --check: passages whose stored vector is damaged.
    #[serde(skip_serializing_if = "Option::is_none")]
    damaged: Option<Vec<motif::store::Damage>>,
}

pub fn info(args: InfoArgs) -> Result<()> {
    let store = args.dir.open()?;
    let damage = if args.check {
        store.quick_check()?;
        store.damaged()?
    } else {
        Vec::new()
    };
    let m = store.manifest().clone();
    let (documents, passages) = store.counts()?;
    let state = store.saved_graph(passages)?;
    let (points, layers, repaired, tombstones, share) = match &state {
        SavedGraph::Fresh(g) => (g.len(), g.top_level() + 1, g.repaired, g.tombstones(), g.dead_share()),
        _ => (0, 0, 0, 0, 0.0),
    };
    let rebuild_share = motif::index::REBUILD_DEAD_SHARE;
    let docs = if args.docs { store.documents()? } else { Vec::new() };
    let info = Info {
        index: store.dir().display().to_string(),
        format_version: m.format_version,
        model: m.model.clone(),
        model_fingerprint: m.model_fingerprint.clone(),
        dim: m.dim,
        split: m.split.clone(),
        documents,
        passages,
        disk_bytes: store.disk_bytes(),
        graph: GraphInfo {
            status: state.name(),
            m: m.params.m,
            ef_construction: m.params.ef_construction,
            ef_search: m.params.ef_search,
            points,
            layers,
            repaired,
            tombstones,
            tombstone_share: (share * 10_000.0).round() / 10_000.0,
            rebuild_share,
            bytes: std::fs::metadata(store.graph_path()).map(|m| m.len()).unwrap_or(0),
        },
        generation: m.generation,
        created_at: utc(m.created_at),
        updated_at: utc(m.updated_at),
        damaged: args.check.then(|| damage.clone()),
        doc_list: args.docs.then(|| {
            docs.iter()
                .map(|d| DocInfo {
                    name: d.name.clone(),
                    passages: d.passages,
                    hash: d.hash.clone(),
                    path: d.source.clone(),
                    indexed_at: utc(d.indexed_at),
                    meta: d.meta.clone(),
                })
                .collect()
        }),
    };
    if args.json {
        super::print_json(&info)?;
        if !damage.is_empty() {
            anyhow::bail!("{}: {} damaged vector(s)", store.dir().display(), damage.len());
        }
        return Ok(());
    }
    let graph_status = match state {
        SavedGraph::Fresh(_) => "up to date",
        SavedGraph::Stale => "stale: rebuilt in memory by searches until `motif index` saves it",
        SavedGraph::Missing => "missing: rebuilt in memory by searches until `motif index` saves it",
        SavedGraph::Outdated(_) => "in an older format: rebuilt in memory by searches until `motif index` rebuilds it",
    };
    let fp: String = m.model_fingerprint.chars().take(12).collect();
    outln!("index      {} (format {}, generation {})", escape_controls(&info.index), m.format_version, m.generation);
    outln!("model      {} (fingerprint {fp}…), dimension {}", escape_controls(&m.model), m.dim);
    outln!("split      {}", m.split);
    outln!("documents  {documents}");
    outln!("passages   {passages}");
    outln!("on disk    {} (graph {})", human_bytes(info.disk_bytes), human_bytes(info.graph.bytes));
    outln!(
        "graph      HNSW M {} ef_construction {} ef_search {}: {graph_status}",
        m.params.m,
        m.params.ef_construction,
        m.params.ef_search
    );
    if info.graph.status == "fresh" {
        outln!("           {points} points, {layers} layers, {repaired} repaired after insertion");
        outln!(
            "           {tombstones} removed passages kept as tombstones ({:.1}% of its points; `motif index` rebuilds the graph past {:.0}%)",
            100.0 * share,
            100.0 * rebuild_share
        );
    }
    outln!("built      {}", info.created_at);
    outln!("updated    {}", info.updated_at);
    if args.check {
        outln!("check      SQLite quick_check ok");
        match damage.len() {
            0 => outln!("           every stored vector is a unit vector of dimension {}", m.dim),
            n => {
                outln!("           {n} damaged vector(s); `motif index` on their files embeds them again:");
                for d in &damage {
                    outln!("             {}#{}: {}", d.doc, d.ordinal, d.why);
                }
            }
        }
    }
    if args.docs {
        outln!();
        for d in &docs {
            let m = &d.meta;
            let about: Vec<String> =
                [m.date.map(|x| x.to_string()), m.source.clone(), m.title.clone()].into_iter().flatten().collect();
            match about.is_empty() {
                true => outln!("{:>5}  {}", d.passages, shown(&d.name)),
                false => {
                    outln!("{:>5}  {}  ({})", d.passages, shown(&d.name), super::ellipsize(&about.join(" · "), 100))
                }
            }
        }
    }
    if !damage.is_empty() {
        anyhow::bail!("{}: {} damaged vector(s) (listed above)", store.dir().display(), damage.len());
    }
    Ok(())
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
