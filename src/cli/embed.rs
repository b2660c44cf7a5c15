//! `motif embed`: documents to passages and vectors, as JSON lines,
//! Parquet (the embedded-passages table `motif index --from` reads), a
//! NumPy `.npy` matrix, or a readable table.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{ellipsize, output, ModelArgs, ReadArgs};
use motif::corpus::meta::DocMeta;
use motif::corpus::Corpus;
use motif::exchange::Provenance;
use motif::matrix;
use motif::table::{Format, Table, TableWriter, Values};

pub const LONG_ABOUT: &str = "Split documents into passages and print each passage's vector.\n\n\
Inputs are files, folders (read recursively: .txt .md .rst .html .jsonl .csv .parquet), glob patterns or - for \
stdin (--stdin-format jsonl: JSON lines of records, each a document named by its --id-field). \
Each passage is printed as one JSON object per line with doc, passage, start, end (byte offsets into the \
document's text), text and embedding (unit length). --format parquet writes the same as a Parquet table \
(columns document, content_hash, ordinal, byte_start, byte_end, windowed, text, embedding (dim float32), metadata, date, \
source, title, url, and the \
model's name and fingerprint in the file's metadata), which `motif index --from` stores without embedding again.\n\n\
Examples:\n  motif embed seeds/ > passages.jsonl\n  motif embed --format parquet -o passages.parquet seeds/\n  \
motif embed --format npy --output vectors.npy 'notes/**/*.md'\n  echo 'Some text.' | motif embed -\n  \
some-tool | motif embed - --stdin-format jsonl --format parquet > part.parquet";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmbedFormat {
    /// One JSON object per passage per line (default when stdout is not a terminal).
    Jsonl,
    /// A Parquet table of embedded passages (what `motif index --from` reads).
    Parquet,
    /// A NumPy array of float32, one row per passage, in passage order.
    Npy,
    /// A readable summary (default on a terminal).
    Table,
}

#[derive(Args)]
pub struct EmbedArgs {
    /// Files, folders, glob patterns, or - for stdin.
    #[arg(required = true)]
    paths: Vec<String>,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Output format (default: jsonl, or table on a terminal).
    #[arg(long, value_enum)]
    format: Option<EmbedFormat>,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Serialize)]
struct PassageRow<'a> {
    doc: &'a str,
    passage: usize,
    start: usize,
    end: usize,
    text: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    windowed: bool,
    embedding: &'a [f32],
    /// The document's date, source, title and URL, where known.
    #[serde(flatten)]
    meta: &'a DocMeta,
}

pub fn run(args: EmbedArgs) -> Result<()> {
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let format = args.format.unwrap_or(if to_terminal { EmbedFormat::Table } else { EmbedFormat::Jsonl });
    if matches!(format, EmbedFormat::Npy | EmbedFormat::Parquet) && to_terminal {
        bail!("this output is binary: write it to a file with --output FILE or redirect stdout");
    }
    let name = args.model.name_or(None);
    let embedder = args.model.load(&name)?;
    let docs = super::read_documents(&args.paths, &args.read, &*embedder)?;
    let hashes: Vec<String> = docs.documents.iter().map(|d| d.hash.clone()).collect();
    let metadata: Vec<Option<String>> = docs.documents.iter().map(|d| d.metadata.clone()).collect();
    let split = args.read.options().split_description();
    let corpus = super::embed_read(docs, &*embedder)?;
    if format == EmbedFormat::Parquet {
        let provenance = Provenance {
            model: embedder.name().to_string(),
            model_fingerprint: super::choose_model(&name)?.fingerprint()?,
            dim: embedder.dim(),
            split,
        };
        let out: Box<dyn Write + Send> = match &args.output {
            Some(path) => Box::new(io::BufWriter::new(
                std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?,
            )),
            None => Box::new(io::BufWriter::new(io::stdout())),
        };
        let shown = args.output.clone().unwrap_or_else(|| PathBuf::from("stdout"));
        let table = embedded_passages(&corpus, &hashes, &metadata);
        let mut w = TableWriter::new(out, Format::Parquet, &table, &provenance.metadata("embedded_passages"), &shown)?;
        w.write(&table)?;
        w.finish()?;
        return Ok(());
    }
    let mut out = output(args.output.as_deref())?;
    match format {
        EmbedFormat::Jsonl => {
            for (i, p) in corpus.passages.iter().enumerate() {
                let row = PassageRow {
                    doc: &corpus.documents[p.doc],
                    passage: p.ordinal,
                    start: p.start,
                    end: p.end,
                    text: &p.text,
                    windowed: p.windowed,
                    embedding: matrix::row(&corpus.vectors, i),
                    meta: &corpus.meta[p.doc],
                };
                serde_json::to_writer(&mut out, &row)?;
                out.write_all(b"\n")?;
            }
        }
        EmbedFormat::Npy => matrix::write_npy_to(&mut out, corpus.vectors.view())?,
        EmbedFormat::Parquet => unreachable!("written above"),
        EmbedFormat::Table => {
            writeln!(out, "{:<40} {:>4} {:>13}  text", "doc", "#", "bytes")?;
            for p in &corpus.passages {
                let doc = &corpus.documents[p.doc];
                writeln!(
                    out,
                    "{:<40} {:>4} {:>13}  {}",
                    ellipsize(doc, 40),
                    p.ordinal,
                    format!("{}..{}", p.start, p.end),
                    ellipsize(&p.text, 70)
                )?;
            }
            writeln!(
                out,
                "\n{} passages from {} documents, {} dimensions, model {} on {}. Use --format jsonl or npy for the vectors.",
                corpus.passages.len(),
                corpus.documents.len(),
                embedder.dim(),
                embedder.name(),
                embedder.device_name()
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The embedded-passages table: one row a passage, with its document's
/// name, content hash and metadata (`hashes`, `metadata`, by document)
/// and its vector.
fn embedded_passages(corpus: &Corpus, hashes: &[String], metadata: &[Option<String>]) -> Table {
    let ps = &corpus.passages;
    Table::new()
        .with("document", Values::Text(ps.iter().map(|p| corpus.documents[p.doc].clone()).collect()))
        .with("content_hash", Values::Text(ps.iter().map(|p| hashes[p.doc].clone()).collect()))
        .with("ordinal", Values::I32(ps.iter().map(|p| p.ordinal as i32).collect()))
        .with("byte_start", Values::I64(ps.iter().map(|p| p.start as i64).collect()))
        .with("byte_end", Values::I64(ps.iter().map(|p| p.end as i64).collect()))
        .with("windowed", Values::Bool(ps.iter().map(|p| p.windowed).collect()))
        .with("text", Values::Text(ps.iter().map(|p| p.text.clone()).collect()))
        .with(
            "embedding",
            Values::Vector { dim: corpus.vectors.ncols(), data: corpus.vectors.iter().copied().collect() },
        )
        .with("metadata", Values::OptText(ps.iter().map(|p| metadata[p.doc].clone()).collect()))
        .with("date", Values::OptText(ps.iter().map(|p| corpus.meta[p.doc].date.map(|d| d.to_string())).collect()))
        .with("source", Values::OptText(ps.iter().map(|p| corpus.meta[p.doc].source.clone()).collect()))
        .with("title", Values::OptText(ps.iter().map(|p| corpus.meta[p.doc].title.clone()).collect()))
        .with("url", Values::OptText(ps.iter().map(|p| corpus.meta[p.doc].url.clone()).collect()))
}
