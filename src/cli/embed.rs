//! `motif embed`: documents to passages and vectors, as JSON lines, a
//! NumPy `.npy` matrix, or a readable table.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{ellipsize, embed_files, output, ModelArgs, ReadArgs};
use motif::matrix;

pub const LONG_ABOUT: &str = "Split documents into passages and print each passage's vector.\n\n\
Inputs are files, folders (read recursively: .txt .md .rst .html .jsonl), glob patterns or - for stdin. \
Each passage is printed as one JSON object per line with doc, passage, start, end (byte offsets into the \
document's text), text and embedding (unit length).\n\nExamples:\n  motif embed seeds/ > passages.jsonl\n  \
motif embed --format npy --output vectors.npy 'notes/**/*.md'\n  echo 'Some text.' | motif embed -";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmbedFormat {
    /// One JSON object per passage per line (default when stdout is not a terminal).
    Jsonl,
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
}

pub fn run(args: EmbedArgs) -> Result<()> {
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let format = args.format.unwrap_or(if to_terminal { EmbedFormat::Table } else { EmbedFormat::Jsonl });
    if format == EmbedFormat::Npy && to_terminal {
        bail!("npy output is binary: write it to a file with --output FILE or redirect stdout");
    }
    let embedder = args.model.load(&args.model.name_or(None))?;
    let corpus = embed_files(&args.paths, &args.read, &*embedder)?;
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
                };
                serde_json::to_writer(&mut out, &row)?;
                out.write_all(b"\n")?;
            }
        }
        EmbedFormat::Npy => matrix::write_npy_to(&mut out, corpus.vectors.view())?,
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
