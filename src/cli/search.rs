//! `motif query` and `motif similar`: the passages of an index nearest a
//! text, or nearest a stored passage or document; with `--documents`, the
//! documents nearest a document as a whole, or every document's nearest
//! (computed by `motif::documents`).

use std::collections::HashSet;
use std::io::{self, Write};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::progress::Bars;
use super::{ellipsize, round, IndexArg, ModelArgs};
use motif::corpus::meta::DocMeta;
use motif::corpus::Corpus;
use motif::documents::{Aggregation, DocHit, Documents};
use motif::index::{Hit, Route};
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
#[command(after_help = "With --documents, two documents are compared through all their passages: by default by \
the cosine of their mean passage vectors (--aggregate mean); best-match and top-matches compare passage pairs. \
`motif similar DOC --documents` compares DOC with every other document exactly. `--documents --all` lists every \
document's nearest documents: exactly up to 50000 documents for the mean and 20000 passages for the others, and \
above that by rescoring the candidates an HNSW graph over the documents' mean vectors gives (--exact finds them \
exactly at any size). \
With --json both print one flat array of {from_doc, rank, doc, score, passages} (passages: how many the found \
document has), ready for pandas or DuckDB.")]
pub struct SimilarArgs {
    /// A stored document, or one passage of it as DOC#PASSAGE (passages count from 0); with --documents, a document (none with --all).
    #[arg(required_unless_present = "all")]
    target: Option<String>,
    #[command(flatten)]
    dir: IndexArg,
    /// How many passages to show for each passage (with --documents: how many documents for each document).
    #[arg(short = 'k', long, default_value_t = 10, value_parser = super::at_least_one)]
    k: usize,
    /// Include passages of the same document.
    #[arg(long, conflicts_with = "documents")]
    same_doc: bool,
    #[command(flatten)]
    search: SearchArgs,
    /// Compare whole documents: the documents most similar to DOC, from all their passages' vectors.
    #[arg(long, conflicts_with = "ef")]
    documents: bool,
    /// With --documents: every document's nearest documents, for the whole index.
    #[arg(long, requires = "documents", conflicts_with = "target")]
    all: bool,
    /// With --documents: how passage cosines become one document score.
    #[arg(long, value_enum, default_value_t = AggregateArg::Mean)]
    aggregate: AggregateArg,
    /// Print a JSON array of {from_doc, from_passage, rank, doc, passage, start, end, score, text, date, source, title, url}; with --documents, of {from_doc, rank, doc, score, passages, date, source, title, url}.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AggregateArg {
    /// The cosine of the documents' mean passage vectors (as precise as best-match on BBC News, twenty times faster).
    Mean,
    /// Each passage's best cosine with the other document's passages, averaged both ways.
    BestMatch,
    /// The mean of the three highest passage-pair cosines.
    TopMatches,
}

impl AggregateArg {
    fn aggregation(self) -> Aggregation {
        match self {
            AggregateArg::BestMatch => Aggregation::BestMatch,
            AggregateArg::Mean => Aggregation::Mean,
            AggregateArg::TopMatches => Aggregation::TopMatches,
        }
    }
}

#[derive(Serialize)]
struct DocRow<'a> {
    from_doc: &'a str,
    rank: usize,
    doc: &'a str,
    score: f64,
    passages: usize,
    /// The document's date, source, title and URL, where known.
    #[serde(flatten)]
    meta: &'a DocMeta,
}

fn doc_rows<'a>(docs: &'a Documents, meta: &'a [DocMeta], from: usize, hits: &[DocHit]) -> Vec<DocRow<'a>> {
    hits.iter()
        .enumerate()
        .map(|(rank, h)| DocRow {
            from_doc: docs.name(from),
            rank: rank + 1,
            doc: docs.name(h.doc),
            score: round(h.score as f64, 6),
            passages: docs.passages(h.doc),
            meta: &meta[h.doc],
        })
        .collect()
}

fn print_doc_rows(out: &mut dyn Write, rows: &[DocRow], indent: &str) -> io::Result<()> {
    for r in rows {
        writeln!(out, "{indent}{:.4}  {:<60} {:>8}", r.score, ellipsize(r.doc, 60), r.passages)?;
    }
    Ok(())
}

fn similar_documents(args: &SimilarArgs) -> Result<()> {
    let store = args.dir.open()?;
    let corpus = store.load_corpus()?;
    let shown = args.dir.index.display().to_string();
    let docs = Documents::of(&corpus)?;
    let agg = args.aggregate.aggregation();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let Some(target) = &args.target else {
        let route = if args.search.exact { Route::Exact } else { Route::Auto };
        let all = pipeline::stage(&mut Bars::new(), "nearest documents", docs.len(), |p| {
            docs.all_nearest(args.k, agg, route, p)
        });
        let how = match all.route {
            Route::Hnsw => {
                "candidates from an HNSW graph over the documents' mean vectors (--exact finds them exactly)"
            }
            _ => "exact",
        };
        eprintln!("motif: nearest documents by {} over {} passages: {how}", agg.name(), docs.total_passages());
        if args.json {
            let flat: Vec<DocRow> =
                all.lists.iter().enumerate().flat_map(|(a, l)| doc_rows(&docs, &corpus.meta, a, l)).collect();
            drop(out);
            return super::print_json(&flat);
        }
        for (a, list) in all.lists.iter().enumerate() {
            writeln!(out, "{} ({} passages)", docs.name(a), docs.passages(a))?;
            if list.is_empty() {
                writeln!(out, "  (no other documents)")?;
            }
            print_doc_rows(&mut out, &doc_rows(&docs, &corpus.meta, a, list), "  ")?;
        }
        out.flush()?;
        return Ok(());
    };
    let (doc, _) = corpus.target(target, &shown)?;
    if corpus.documents[doc] != *target {
        anyhow::bail!(
            "--documents compares whole documents: {target} names one passage of {}; give the document",
            corpus.documents[doc]
        );
    }
    let hits = docs.nearest(doc, args.k, agg, &shown)?;
    let rows = doc_rows(&docs, &corpus.meta, doc, &hits);
    if args.json {
        drop(out);
        return super::print_json(&rows);
    }
    writeln!(out, "{} ({} passages): nearest documents by {}", target, docs.passages(doc), agg.name())?;
    writeln!(out, "{:<6}  {:<60} {:>8}", "score", "doc", "passages")?;
    print_doc_rows(&mut out, &rows, "")?;
    out.flush()?;
    Ok(())
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
    let query = embedder.embed_queries(&[args.text.as_str()])?;
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
    if args.documents {
        return similar_documents(&args);
    }
    let Some(target) = &args.target else { anyhow::bail!("name a document or a passage (--all needs --documents)") };
    let store = args.dir.open()?;
    let corpus = store.load_corpus()?;
    let (doc, sources) = corpus.target(target, &args.dir.index.display().to_string())?;
    let (searcher, note) = pipeline::searcher(&store, &corpus, args.search.exact, args.search.ef, &mut Bars::new())?;
    if let Some(note) = note {
        eprintln!("motif: {note}");
    }
    let doc_rows: HashSet<u32> =
        (0..corpus.passages.len() as u32).filter(|&i| corpus.passages[i as usize].doc == doc).collect();
    // All the target's passages are searched at once (one matrix product
    // when the search is exact).
    let queries = corpus.vectors.select(ndarray::Axis(0), &sources);
    let skip = |q: usize, id: u32| id as usize == sources[q] || (!args.same_doc && doc_rows.contains(&id));
    let skipped = if args.same_doc { 1 } else { doc_rows.len() };
    let found = searcher.search_many(queries.view(), args.k, &skip, skipped);
    let all: Vec<(usize, Vec<ResultRow>)> = sources
        .iter()
        .zip(&found)
        .map(|(&r, hits)| {
            let p = &corpus.passages[r];
            (r, result_rows(&corpus, hits, Some((corpus.documents[p.doc].clone(), p.ordinal))))
        })
        .collect();
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
