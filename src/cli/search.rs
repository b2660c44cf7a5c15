//! `motif query` and `motif similar`: the passages of an index nearest a
//! text, or nearest a stored passage or document.

use std::collections::HashSet;
use std::io::{self, Write};

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use super::progress::Bars;
use super::{ellipsize, round, IndexArg, ModelArgs};
use motif::corpus::meta::DocMeta;
use motif::corpus::Corpus;
use motif::index::Hit;
use motif::matrix::row;
use motif::pipeline;

#[derive(Args, Clone)]
pub struct SearchArgs {
    /// Compare with every stored vector instead of searching the HNSW graph (exact; fast enough for small corpora).
    #[arg(long)]
    exact: bool,
    /// HNSW beam width for this search (default: the index's ef_search).
    #[arg(long, visible_alias = "ef-search", value_name = "N", value_parser = super::at_least_one)]
    ef: Option<usize>,
}

#[derive(Args)]
pub struct QueryArgs {
    /// The text to look for.
    text: String,
    #[command(flatten)]
    dir: IndexArg,
    /// How many passages to show.
    #[arg(short = 'k', long, default_value_t = 10, value_parser = super::at_least_one)]
    k: usize,
    #[command(flatten)]
    search: SearchArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Print a JSON array of {rank, doc, passage, start, end, score, text} and the document's date, source, title, url where known.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct SimilarArgs {
    /// A stored document, or one passage of it as DOC#PASSAGE (passages count from 0).
    target: String,
    #[command(flatten)]
    dir: IndexArg,
    /// How many passages to show for each passage.
    #[arg(short = 'k', long, default_value_t = 10, value_parser = super::at_least_one)]
    k: usize,
    /// Include passages of the same document.
    #[arg(long)]
    same_doc: bool,
    #[command(flatten)]
    search: SearchArgs,
    /// Print a JSON array of {from_doc, from_passage, rank, doc, passage, start, end, score, text, date, source, title, url}.
    #[arg(long)]
    json: bool,
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
    /// The document's date, source, title and URL, where it has them.
    #[serde(flatten)]
    meta: DocMeta,
}

fn result_rows(corpus: &Corpus, hits: &[Hit], from: Option<(String, usize)>) -> Vec<ResultRow> {
    hits.iter()
        .enumerate()
        .map(|(rank, h)| {
            let p = &corpus.passages[h.id as usize];
            ResultRow {
                from_doc: from.as_ref().map(|f| f.0.clone()),
                from_passage: from.as_ref().map(|f| f.1),
                rank: rank + 1,
                doc: corpus.documents[p.doc].clone(),
                passage: p.ordinal,
                start: p.start,
                end: p.end,
                score: round(h.score as f64, 6),
                text: p.text.clone(),
                meta: corpus.meta[p.doc].clone(),
            }
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
        let m = &r.meta;
        let about: Vec<String> =
            [m.date.map(|d| d.to_string()), m.source.clone(), m.title.clone()].into_iter().flatten().collect();
        if !about.is_empty() {
            writeln!(out, "{indent}        {}", ellipsize(&about.join(" · "), 110))?;
        }
    }
    Ok(())
}

pub fn query(args: QueryArgs) -> Result<()> {
    let store = args.dir.open()?;
    let m = store.manifest().clone();
    let name = args.model.name_or(Some(&m.model));
    let choice =
        super::choose_model(&name).with_context(|| format!("loading the model of index {}", store.dir().display()))?;
    let fingerprint = choice.fingerprint()?;
    store.check_model(choice.name(), &fingerprint, m.dim)?;
    let embedder = args.model.load(&name)?;
    store.check_model(choice.name(), &fingerprint, embedder.dim())?;
    let query = embedder.embed(&[args.text.as_str()], &mut |_| {})?;
    let corpus = store.load_corpus()?;
    let (searcher, note) = pipeline::searcher(&store, &corpus, args.search.exact, args.search.ef, &mut Bars::new())?;
    if let Some(note) = note {
        eprintln!("motif: {note}");
    }
    let hits = searcher.search(row(&query, 0), args.k, &|_| false, 0);
    let rows = result_rows(&corpus, &hits, None);
    if args.json {
        return super::print_json(&rows);
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    if rows.is_empty() {
        writeln!(out, "the index holds no passages")?;
    } else {
        writeln!(out, "{:<6}  {:<36} {:>4} {:>13}  text", "score", "doc", "#", "bytes")?;
        print_rows(&mut out, &rows, "")?;
    }
    out.flush()?;
    Ok(())
}

pub fn similar(args: SimilarArgs) -> Result<()> {
    let store = args.dir.open()?;
    let corpus = store.load_corpus()?;
    let (doc, sources) = corpus.target(&args.target, &args.dir.index.display().to_string())?;
    let (searcher, note) = pipeline::searcher(&store, &corpus, args.search.exact, args.search.ef, &mut Bars::new())?;
    if let Some(note) = note {
        eprintln!("motif: {note}");
    }
    let doc_rows: HashSet<u32> =
        (0..corpus.passages.len() as u32).filter(|&i| corpus.passages[i as usize].doc == doc).collect();
    let mut all = Vec::new();
    for &r in &sources {
        let skip = |id: u32| id as usize == r || (!args.same_doc && doc_rows.contains(&id));
        let skipped = if args.same_doc { 1 } else { doc_rows.len() };
        let hits = searcher.search(row(&corpus.vectors, r), args.k, &skip, skipped);
        let p = &corpus.passages[r];
        all.push((r, result_rows(&corpus, &hits, Some((corpus.documents[p.doc].clone(), p.ordinal)))));
    }
    if args.json {
        let flat: Vec<&ResultRow> = all.iter().flat_map(|(_, rows)| rows).collect();
        return super::print_json(&flat);
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    for (r, rows) in &all {
        let p = &corpus.passages[*r];
        writeln!(
            out,
            "{}#{} ({}..{}): {}",
            corpus.documents[p.doc],
            p.ordinal,
            p.start,
            p.end,
            ellipsize(&p.text, 80)
        )?;
        if rows.is_empty() {
            writeln!(out, "  (no other passages)")?;
        }
        print_rows(&mut out, rows, "  ")?;
    }
    out.flush()?;
    Ok(())
}
