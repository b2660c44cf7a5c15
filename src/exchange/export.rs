//! An index, and the results of its analyses, as one file per table in a
//! folder (Parquet or JSON lines) with a `manifest.json` that lists them.
//!
//! The tables mirror the store (`documents`, `passages`, `vectors`, with
//! its column names) and the report (`overlaps`, `echo_groups`, `themes`,
//! `theme_members`). Ids are positions in the canonical order (documents
//! by name; passages by document name, then ordinal), the order every
//! motif result uses, so `passage_id` joins to the `a`/`b` of a report's
//! pairs. Passages and vectors stream from the store a chunk at a time.
//! The manifest is written last: a folder without one is not a finished
//! export.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ExchangeError, Format, Provenance};
use crate::report::Report;
use crate::store::{Store, StoredPassage};
use crate::table::Table;
use crate::table::{TableWriter, Values};

/// What `manifest.json` says.
pub const EXPORT_FORMAT: &str = "motif-export";
pub const EXPORT_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";

/// Every table an export can hold, in the order they are written.
pub const TABLES: &[&str] = &["documents", "passages", "vectors", "overlaps", "echo_groups", "themes", "theme_members"];

/// Rows per chunk (and per Parquet row group) of the streamed tables.
const CHUNK: usize = 8192;

/// `manifest.json`: what an export holds and how its vectors were made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportManifest {
    pub format: String,
    pub version: u32,
    pub motif_version: String,
    #[serde(flatten)]
    pub provenance: Provenance,
    /// What the analyses grouped ("sentence" or "passage"), when they ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub tables: BTreeMap<String, TableEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    pub file: String,
    pub rows: usize,
}

/// Writes the index in `store` (and `report`'s results, when given) into
/// the folder `out`, created if missing. Table files of an earlier export
/// there are replaced or removed; nothing else in it is touched.
pub fn export(
    store: &Store,
    report: Option<&Report>,
    out: &Path,
    format: Format,
    progress: &mut dyn FnMut(usize),
) -> Result<ExportManifest, ExchangeError> {
    std::fs::create_dir_all(out).map_err(|e| ExchangeError::io(out, e))?;
    // An export being rewritten is not a finished one.
    let manifest_path = out.join(MANIFEST_FILE);
    match std::fs::remove_file(&manifest_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(ExchangeError::io(&manifest_path, e)),
        _ => {}
    }
    for table in TABLES {
        for f in [Format::Parquet, Format::Jsonl] {
            let old = out.join(format!("{table}.{}", f.extension()));
            if old.exists() {
                std::fs::remove_file(&old).map_err(|e| ExchangeError::io(&old, e))?;
            }
        }
    }
    let m = store.manifest();
    let provenance = Provenance {
        model: m.model.clone(),
        model_fingerprint: m.model_fingerprint.clone(),
        dim: m.dim,
        split: m.split.clone(),
    };
    let mut tables = BTreeMap::new();
    let mut put = |name: &str, rows: usize| {
        tables.insert(name.to_string(), TableEntry { file: format!("{name}.{}", format.extension()), rows });
    };
    let create = |name: &str, columns: &Table| {
        TableWriter::create(
            &out.join(format!("{name}.{}", format.extension())),
            format,
            columns,
            &provenance.metadata(name),
        )
    };

    let documents = store.documents()?;
    let doc_ids: HashMap<&str, i64> = documents.iter().enumerate().map(|(i, d)| (d.name.as_str(), i as i64)).collect();
    let docs_table = Table::new()
        .with("document_id", Values::I64((0..documents.len() as i64).collect()))
        .with("name", Values::Text(documents.iter().map(|d| d.name.clone()).collect()))
        .with("path", Values::OptText(documents.iter().map(|d| d.source.clone()).collect()))
        .with("source", Values::OptText(documents.iter().map(|d| d.meta.source.clone()).collect()))
        .with("date", Values::OptText(documents.iter().map(|d| d.meta.date.map(|x| x.to_string())).collect()))
        .with("title", Values::OptText(documents.iter().map(|d| d.meta.title.clone()).collect()))
        .with("url", Values::OptText(documents.iter().map(|d| d.meta.url.clone()).collect()))
        .with("content_hash", Values::Text(documents.iter().map(|d| d.hash.clone()).collect()))
        .with("bytes", Values::I64(documents.iter().map(|d| d.bytes as i64).collect()))
        .with("passages", Values::I64(documents.iter().map(|d| d.passages as i64).collect()))
        .with("indexed_at", Values::Seconds(documents.iter().map(|d| d.indexed_at).collect()))
        .with("metadata", Values::OptText(documents.iter().map(|d| d.metadata.clone()).collect()));
    let mut w = create("documents", &docs_table)?;
    w.write(&docs_table)?;
    put("documents", w.finish()?);

    let mut passages_w = create("passages", &passage_chunk(&[], 0, &doc_ids))?;
    let mut vectors_w = create("vectors", &vector_chunk(&[], 0, m.dim))?;
    let mut next_id = 0usize;
    store.each_passage(CHUNK, &mut |batch: &[StoredPassage]| -> Result<(), ExchangeError> {
        passages_w.write(&passage_chunk(batch, next_id, &doc_ids))?;
        vectors_w.write(&vector_chunk(batch, next_id, m.dim))?;
        next_id += batch.len();
        progress(batch.len());
        Ok(())
    })?;
    put("passages", passages_w.finish()?);
    put("vectors", vectors_w.finish()?);

    if let Some(r) = report {
        // Report documents are the corpus's (those with passages, by name).
        let doc_of = |passage: usize| doc_ids[r.documents[r.passages[passage].doc].id.as_str()];
        for (name, table) in results(r, &doc_of) {
            let mut w = create(name, &table)?;
            w.write(&table)?;
            put(name, w.finish()?);
        }
    }

    let manifest = ExportManifest {
        format: EXPORT_FORMAT.into(),
        version: EXPORT_VERSION,
        motif_version: env!("CARGO_PKG_VERSION").into(),
        provenance,
        unit: report.map(|r| r.unit.clone()),
        tables,
    };
    let tmp = out.join(format!(".{MANIFEST_FILE}.tmp"));
    let body = serde_json::to_string_pretty(&manifest).expect("a manifest serialises") + "\n";
    std::fs::write(&tmp, body).map_err(|e| ExchangeError::io(&tmp, e))?;
    std::fs::rename(&tmp, &manifest_path).map_err(|e| ExchangeError::io(&manifest_path, e))?;
    Ok(manifest)
}

fn passage_chunk(batch: &[StoredPassage], first_id: usize, doc_ids: &HashMap<&str, i64>) -> Table {
    let p = |f: fn(&StoredPassage) -> i64| Values::I64(batch.iter().map(f).collect());
    Table::new()
        .with("passage_id", Values::I64((first_id..first_id + batch.len()).map(|i| i as i64).collect()))
        .with("document_id", Values::I64(batch.iter().map(|s| doc_ids[s.document.as_str()]).collect()))
        .with("ordinal", Values::I32(batch.iter().map(|s| s.passage.ordinal as i32).collect()))
        .with("byte_start", p(|s| s.passage.start as i64))
        .with("byte_end", p(|s| s.passage.end as i64))
        .with("windowed", Values::Bool(batch.iter().map(|s| s.passage.windowed).collect()))
        .with("text", Values::Text(batch.iter().map(|s| s.passage.text.clone()).collect()))
}

fn vector_chunk(batch: &[StoredPassage], first_id: usize, dim: usize) -> Table {
    Table::new()
        .with("passage_id", Values::I64((first_id..first_id + batch.len()).map(|i| i as i64).collect()))
        .with("embedding", Values::Vector { dim, data: batch.iter().flat_map(|s| s.vector.iter().copied()).collect() })
}

/// The analyses' tables, from the report that holds their results.
fn results(r: &Report, doc_of: &dyn Fn(usize) -> i64) -> Vec<(&'static str, Table)> {
    // Pairs: those inside each echo group, then those between groups.
    let pairs: Vec<(Option<i64>, &crate::report::EchoPair)> = r
        .echo_groups
        .iter()
        .enumerate()
        .flat_map(|(g, group)| group.pairs.iter().map(move |p| (Some(g as i64), p)))
        .chain(r.between_groups.iter().map(|p| (None, p)))
        .collect();
    let side = |a: bool, f: &dyn Fn(usize) -> i64| -> Values {
        Values::I64(pairs.iter().map(|(_, p)| f(if a { p.a } else { p.b })).collect())
    };
    let id = |p: usize| p as i64;
    let start = |p: usize| r.passages[p].start as i64;
    let end = |p: usize| r.passages[p].end as i64;
    let overlaps = Table::new()
        .with("pair_id", Values::I64((0..pairs.len() as i64).collect()))
        .with("echo_group", Values::OptI64(pairs.iter().map(|(g, _)| *g).collect()))
        .with("kind", Values::Text(pairs.iter().map(|(_, p)| p.kind.clone()).collect()))
        .with("score", Values::F32(pairs.iter().map(|(_, p)| p.score).collect()))
        .with("a_passage_id", side(true, &id))
        .with("a_document_id", side(true, doc_of))
        .with("a_byte_start", side(true, &start))
        .with("a_byte_end", side(true, &end))
        .with("b_passage_id", side(false, &id))
        .with("b_document_id", side(false, doc_of))
        .with("b_byte_start", side(false, &start))
        .with("b_byte_end", side(false, &end));
    let echo_groups = Table::new()
        .with("echo_group", Values::I64((0..r.echo_groups.len() as i64).collect()))
        .with("claim", Values::Text(r.echo_groups.iter().map(|g| g.claim.clone()).collect()))
        .with("passages", Values::I64(r.echo_groups.iter().map(|g| g.passages.len() as i64).collect()));
    let themes = Table::new()
        .with("theme_id", Values::I64(r.themes.iter().map(|t| t.id as i64).collect()))
        .with("label", Values::Text(r.themes.iter().map(|t| t.label.clone()).collect()))
        .with("keywords", Values::TextList(r.themes.iter().map(|t| t.keywords.clone()).collect()))
        .with("size", Values::I64(r.themes.iter().map(|t| t.size as i64).collect()))
        .with("documents", Values::I64(r.themes.iter().map(|t| t.documents.len() as i64).collect()));
    // Members: every unit in a theme, with its rank among the theme's
    // central units where it is one.
    let mut rank: HashMap<(usize, usize), i32> = HashMap::new();
    for t in &r.themes {
        for (i, &u) in t.central.iter().enumerate() {
            rank.insert((t.id, u), i as i32);
        }
    }
    let members: Vec<(usize, usize)> =
        r.units.iter().enumerate().filter_map(|(u, unit)| unit.theme.map(|t| (t, u))).collect();
    let unit = |f: &dyn Fn(&crate::report::ReportUnit) -> i64| -> Values {
        Values::I64(members.iter().map(|&(_, u)| f(&r.units[u])).collect())
    };
    let theme_members = Table::new()
        .with("theme_id", Values::I64(members.iter().map(|&(t, _)| t as i64).collect()))
        .with("rank", Values::OptI32(members.iter().map(|&(t, u)| rank.get(&(t, u)).copied()).collect()))
        .with("passage_id", unit(&|x| x.passage as i64))
        .with("document_id", unit(&|x| doc_of(x.passage)))
        .with("byte_start", unit(&|x| x.start as i64))
        .with("byte_end", unit(&|x| x.end as i64))
        .with("text", Values::Text(members.iter().map(|&(_, u)| r.units[u].text.clone()).collect()));
    vec![("overlaps", overlaps), ("echo_groups", echo_groups), ("themes", themes), ("theme_members", theme_members)]
}
