//! Corpora of records, one document a row: JSON lines, CSV (with a header
//! row) and Parquet. The text comes from one field or column
//! (`IngestOptions::text_field`), the name from another (`id_field`, else
//! the line or row number), metadata from those named in `meta_fields`.
//! A document is named `FILE:ID` (just `ID` for records on stdin). A bad
//! row stops the run with its file and row, or with `skip_bad` is counted
//! among the skipped inputs and the rest of the file is read.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::{human_bytes, Document, IngestError, IngestOptions, Ingested, CHUNK, SNIFF};
use crate::corpus::meta::DocMeta;
use crate::table::{self, Frame, Kind, TableError, Want};

/// A bad row: an error, or with `skip_bad` one more skipped input.
fn bad_row(err: IngestError, opts: &IngestOptions, out: &mut Ingested) -> Result<(), IngestError> {
    if opts.skip_bad {
        out.skipped.push(err);
        return Ok(());
    }
    Err(err)
}

/// Record ids met in one file, with the line or row that used each first:
/// an id names a document, so two records may not share one.
#[derive(Default)]
struct Ids(HashMap<String, usize>);

impl Ids {
    /// `Err(message)` when `id` was used before; `unit` is what `line`
    /// counts ("line", "row").
    fn claim(&mut self, id: &str, line: usize, unit: &str) -> Result<(), String> {
        match self.0.get(id) {
            Some(first) => Err(format!(
                "id \"{id}\" is already used by {unit} {first}; ids name documents and must be unique in a file"
            )),
            None => {
                self.0.insert(id.to_string(), line);
                Ok(())
            }
        }
    }
}

fn too_long(limit: u64) -> String {
    format!(
        "a record longer than the limit of {} for one document; raise it with --max-document-bytes",
        human_bytes(limit)
    )
}

/// What reading one line gave.
enum Line {
    End,
    Read,
    /// Longer than the limit: passed over, not kept.
    TooLong,
}

/// Reads one line (with its newline) into `buf`, keeping at most `limit`
/// bytes; `consumed` counts every byte read.
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, limit: u64, consumed: &mut u64) -> io::Result<Line> {
    let mut over = false;
    let mut any = false;
    loop {
        let avail = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if !over && (buf.len() + take) as u64 > limit.saturating_add(1) {
            over = true;
            buf.clear();
        }
        if !over {
            buf.extend_from_slice(&avail[..take]);
        }
        reader.consume(take);
        *consumed += take as u64;
        if done {
            break;
        }
    }
    Ok(match (any, over) {
        (false, _) => Line::End,
        (true, true) => Line::TooLong,
        (true, false) => Line::Read,
    })
}

/// Reads JSON lines a line at a time: a record per line, blank lines
/// passed over. A line is at most `max_document_bytes` long.
pub(super) fn read_jsonl(
    name: &str,
    path: Option<&Path>,
    reader: impl Read,
    opts: &IngestOptions,
    out: &mut Ingested,
) -> Result<(), IngestError> {
    let io_err = |e| IngestError::io(name, e);
    let mut reader = BufReader::with_capacity(CHUNK, reader);
    let head = reader.fill_buf().map_err(io_err)?;
    super::sniff(name, head)?;
    let limit = opts.max_document_bytes;
    let mut ids = Ids::default();
    let mut buf = Vec::new();
    let mut offset = 0u64;
    let before = (out.documents.len(), out.empty.len(), out.skipped.len());
    for line_no in 1.. {
        buf.clear();
        let start = offset;
        let bad = |message: String| IngestError::BadRecord { path: name.into(), line: line_no, message };
        match read_line(&mut reader, &mut buf, limit, &mut offset).map_err(io_err)? {
            Line::End => break,
            Line::TooLong => {
                bad_row(bad(too_long(limit)), opts, out)?;
                continue;
            }
            Line::Read => {}
        }
        if let Some(i) = buf.iter().position(|&b| b == 0) {
            return Err(super::nul_error(name, &buf[..buf.len().min(SNIFF)], start + i as u64));
        }
        let mut bytes = buf.strip_suffix(b"\n").unwrap_or(&buf[..]);
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let mut skipped_bom = 0;
        if line_no == 1 && bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
            bytes = &bytes[3..];
            skipped_bom = 3;
        }
        let line = std::str::from_utf8(bytes).map_err(|e| IngestError::NotUtf8 {
            path: name.into(),
            offset: start + skipped_bom + e.valid_up_to() as u64,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                bad_row(bad(format!("not JSON: {e}")), opts, out)?;
                continue;
            }
        };
        let Some(body) = value.get(&opts.text_field).and_then(|v| v.as_str()) else {
            let message = format!("no string field \"{}\" (choose one with --text-field)", opts.text_field);
            bad_row(bad(message), opts, out)?;
            continue;
        };
        let id = match value.get(&opts.id_field) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => line_no.to_string(),
        };
        if let Err(message) = ids.claim(&id, line_no, "line") {
            bad_row(bad(message), opts, out)?;
            continue;
        }
        let meta: Map<String, Value> = opts
            .meta_fields
            .iter()
            .filter_map(|f| value.get(f).filter(|v| !v.is_null()).map(|v| (f.clone(), v.clone())))
            .collect();
        let doc_name = if path.is_some() { format!("{name}:{id}") } else { id };
        let get = |f: &str| match value.get(f) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let doc_meta = opts.fields.read(&doc_name, &get, &mut out.problems);
        push_record(out, doc_name, path, body.to_string(), meta, doc_meta);
    }
    if before == (out.documents.len(), out.empty.len(), out.skipped.len()) {
        // Not one record: say so as for an empty text file.
        out.empty.push(name.into());
    }
    Ok(())
}

/// Adds one record as a document (or as empty, when it has no text).
pub(super) fn push_record(
    out: &mut Ingested,
    name: String,
    path: Option<&Path>,
    text: String,
    meta: Map<String, Value>,
    doc_meta: DocMeta,
) {
    if text.trim().is_empty() {
        out.empty.push(name);
        return;
    }
    let mut doc = Document::new(name, path.map(Path::to_path_buf), text);
    doc.meta = doc_meta;
    if !meta.is_empty() {
        doc.metadata = Some(Value::Object(meta).to_string());
    }
    out.documents.push(doc);
}

/// A reader for the CSV parser that checks the bytes as they pass: the
/// start of the file for UTF-16 and friends, every chunk for NUL bytes,
/// and the bytes since the last record (`since`, reset by the caller) for
/// the limit of one record. What it finds is left in `found`.
struct Checked<R> {
    inner: R,
    name: String,
    offset: u64,
    since: Rc<Cell<u64>>,
    limit: u64,
    found: Rc<RefCell<Option<IngestError>>>,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let fail = |this: &mut Self, err: IngestError| {
            *this.found.borrow_mut() = Some(err);
            Err(io::Error::other("checked"))
        };
        if self.offset == 0 && n > 0 {
            if let Err(e) = super::sniff(&self.name, &buf[..n]) {
                return fail(self, e);
            }
        }
        if let Some(i) = buf[..n].iter().position(|&b| b == 0) {
            let e = super::nul_error(&self.name, &buf[..n], self.offset + i as u64);
            return fail(self, e);
        }
        self.offset += n as u64;
        self.since.set(self.since.get() + n as u64);
        // The parser reads ahead a buffer's worth: allow for it.
        if self.since.get() > self.limit.saturating_add(2 * CHUNK as u64) {
            let e = IngestError::BadRecord { path: self.name.clone(), line: 0, message: too_long(self.limit) };
            return fail(self, e);
        }
        Ok(n)
    }
}

pub(super) fn read_csv(
    name: &str,
    path: &Path,
    reader: impl Read,
    opts: &IngestOptions,
    out: &mut Ingested,
) -> Result<(), IngestError> {
    let since = Rc::new(Cell::new(0));
    let found = Rc::new(RefCell::new(None));
    let checked = Checked {
        inner: reader,
        name: name.to_string(),
        offset: 0,
        since: since.clone(),
        limit: opts.max_document_bytes,
        found: found.clone(),
    };
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(checked);
    let bad = |line: usize, message: String| IngestError::BadRecord { path: name.into(), line, message };
    // An error of the bytes themselves (not a bad row): what `Checked`
    // found, or bytes that are not UTF-8.
    let fatal = |e: &csv::Error, line: usize| -> Option<IngestError> {
        if let Some(err) = found.borrow_mut().take() {
            return Some(match err {
                IngestError::BadRecord { path, message, .. } => IngestError::BadRecord { path, line, message },
                other => other,
            });
        }
        match e.kind() {
            csv::ErrorKind::Utf8 { pos, .. } => {
                Some(IngestError::NotUtf8 { path: name.into(), offset: pos.as_ref().map_or(0, |p| p.byte()) })
            }
            csv::ErrorKind::Io(io) => Some(IngestError::io(name, io::Error::new(io.kind(), io.to_string()))),
            _ => None,
        }
    };
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(fatal(&e, 1).unwrap_or_else(|| bad(1, format!("not CSV: {e}")))),
    };
    if headers.is_empty() {
        // An empty file.
        out.empty.push(name.into());
        return Ok(());
    }
    let column = |field: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}') == field);
    let listed = || headers.iter().collect::<Vec<_>>().join(", ");
    let text_col = column(&opts.text_field).ok_or_else(|| {
        bad(
            1,
            format!(
                "no column \"{}\" in the header (it has: {}); choose one with --text-field",
                opts.text_field,
                listed()
            ),
        )
    })?;
    let id_col = column(&opts.id_field);
    let mut meta_cols = Vec::new();
    for f in &opts.meta_fields {
        let c = column(f).ok_or_else(|| bad(1, format!("no column \"{f}\" in the header (it has: {})", listed())))?;
        meta_cols.push((f.clone(), c));
    }
    let mut ids = Ids::default();
    let before = (out.documents.len(), out.empty.len(), out.skipped.len());
    let mut record = csv::StringRecord::new();
    for i in 0usize.. {
        since.set(0);
        let line = reader.position().line() as usize;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                if let Some(err) = fatal(&e, line) {
                    return Err(err);
                }
                let line = e.position().map_or(line, |p| p.line() as usize);
                bad_row(bad(line, format!("not CSV: {e}")), opts, out)?;
                continue;
            }
        }
        let body = record.get(text_col).unwrap_or("");
        if body.len() as u64 > opts.max_document_bytes {
            bad_row(bad(line, too_long(opts.max_document_bytes)), opts, out)?;
            continue;
        }
        let id = id_col
            .and_then(|c| record.get(c))
            .filter(|s| !s.is_empty())
            .map_or_else(|| (i + 1).to_string(), String::from);
        if let Err(message) = ids.claim(&id, line, "line") {
            bad_row(bad(line, message), opts, out)?;
            continue;
        }
        let meta = meta_cols
            .iter()
            .filter_map(|(f, c)| record.get(*c).filter(|v| !v.is_empty()).map(|v| (f.clone(), Value::from(v))))
            .collect();
        let doc_name = format!("{name}:{id}");
        let get = |f: &str| column(f).and_then(|c| record.get(c)).filter(|v| !v.trim().is_empty()).map(String::from);
        let doc_meta = opts.fields.read(&doc_name, &get, &mut out.problems);
        push_record(out, doc_name, Some(path), body.to_string(), meta, doc_meta);
    }
    if before == (out.documents.len(), out.empty.len(), out.skipped.len()) {
        // A header and no rows.
        out.empty.push(name.into());
    }
    Ok(())
}

/// Reads a Parquet corpus; `Some(what)` when its metadata says motif wrote
/// it (a table of `motif embed` or `motif export`).
pub(super) fn read_parquet(
    name: &str,
    path: &Path,
    opts: &IngestOptions,
    out: &mut Ingested,
) -> Result<Option<&'static str>, IngestError> {
    let mut wants = vec![Want::required(&opts.text_field, Kind::Text), Want::optional(&opts.id_field, Kind::Text)];
    wants.extend(opts.meta_fields.iter().map(|f| Want::required(f, Kind::Text)));
    for f in opts.fields.all_candidates() {
        if !wants.iter().any(|w| w.name == f) {
            wants.push(Want::optional(f, Kind::Text));
        }
    }
    let limit = opts.max_document_bytes;
    let mut ids = Ids::default();
    let result = table::read_batches(path, &wants, &mut |frame: Frame, first_row| -> Result<(), TableError> {
        let texts = frame.texts(&opts.text_field).expect("required");
        let ids_col = frame.texts(&opts.id_field);
        for i in 0..frame.rows {
            let row = first_row + i;
            let id = ids_col.and_then(|v| v[i].clone()).unwrap_or_else(|| row.to_string());
            let problem = match &texts[i] {
                None => Some(format!("no text in column \"{}\"", opts.text_field)),
                Some(t) if t.len() as u64 > limit => Some(too_long(limit)),
                Some(_) => ids.claim(&id, row, "row").err(),
            };
            if let Some(message) = problem {
                if opts.skip_bad {
                    out.skipped.push(IngestError::BadRecord { path: name.into(), line: row, message });
                    continue;
                }
                return Err(TableError::BadValue { path: name.into(), row, message });
            }
            let body = texts[i].clone().unwrap_or_default();
            let meta = opts
                .meta_fields
                .iter()
                .filter_map(|f| frame.texts(f).and_then(|v| v[i].clone()).map(|v| (f.clone(), Value::from(v))))
                .collect();
            let doc_name = format!("{name}:{id}");
            let get = |f: &str| frame.texts(f).and_then(|v| v[i].clone()).filter(|v| !v.trim().is_empty());
            let doc_meta = opts.fields.read(&doc_name, &get, &mut out.problems);
            push_record(out, doc_name, Some(path), body, meta, doc_meta);
        }
        Ok(())
    });
    let metadata = result.map_err(|e| match e {
        TableError::BadValue { row, message, .. } => IngestError::BadRecord { path: name.into(), line: row, message },
        TableError::MissingColumn { column, have, .. } => IngestError::BadRecord {
            path: name.into(),
            line: 0,
            message: format!("no column \"{column}\" (it has: {have}); choose the text column with --text-field"),
        },
        other => IngestError::Table(other),
    })?;
    Ok(metadata.contains_key("motif.table").then_some("a table motif wrote"))
}

#[cfg(test)]
mod tests {
    use super::super::read_inputs;
    use super::*;
    use crate::table::{Format, Table, TableWriter, Values};

    fn opts(meta: &[&str]) -> IngestOptions {
        IngestOptions { meta_fields: meta.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    #[test]
    fn csv_rows_become_documents_with_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.csv");
        std::fs::write(&f, "id,text,outlet\na1,\"First, with a comma.\",Herald\n,Second text.,\nb3,  ,Post\n").unwrap();
        let got = read_inputs(&[f.display().to_string()], &opts(&["outlet"])).unwrap();
        let names: Vec<&str> = got.documents.iter().map(|d| d.id.as_str()).collect();
        assert!(names[0].ends_with("c.csv:a1") && names[1].ends_with("c.csv:2"), "{names:?}");
        assert_eq!(got.documents[0].text, "First, with a comma.");
        assert_eq!(got.documents[0].metadata.as_deref(), Some("{\"outlet\":\"Herald\"}"));
        assert_eq!(got.documents[1].metadata, None);
        assert_eq!(got.empty.len(), 1);
        let err = read_inputs(&[f.display().to_string()], &opts(&["date"])).unwrap_err().to_string();
        assert!(err.contains("c.csv:1") && err.contains("no column \"date\""), "{err}");
        std::fs::write(&f, "id,text\n1,ok\n2,too,many\n3,fine\n").unwrap();
        let err = read_inputs(&[f.display().to_string()], &opts(&[])).unwrap_err().to_string();
        assert!(err.contains("c.csv:3"), "{err}");
        let skip = IngestOptions { skip_bad: true, ..opts(&[]) };
        let got = read_inputs(&[f.display().to_string()], &skip).unwrap();
        assert_eq!((got.skipped.len(), got.documents.len()), (1, 2));
    }

    #[test]
    fn parquet_rows_become_documents() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.parquet");
        let t = Table::new()
            .with("id", Values::I64(vec![7, 8]))
            .with("text", Values::OptText(vec![Some("Seven.".into()), None]))
            .with("source", Values::Text(vec!["Herald".into(), "Post".into()]));
        let mut w = TableWriter::create(&f, Format::Parquet, &t, &[]).unwrap();
        w.write(&t).unwrap();
        w.finish().unwrap();
        let err = read_inputs(&[f.display().to_string()], &opts(&["source"])).unwrap_err().to_string();
        assert!(err.contains("c.parquet:2") && err.contains("no text"), "{err}");
        let skip = IngestOptions { skip_bad: true, ..opts(&["source"]) };
        let got = read_inputs(&[f.display().to_string()], &skip).unwrap();
        // With --skip-bad, the bad row is counted and the others read.
        assert_eq!((got.skipped.len(), got.documents.len()), (1, 1));
        assert!(got.skipped[0].to_string().contains("c.parquet:2"));
        let t = Table::new().with("id", Values::I64(vec![7])).with("body", Values::Text(vec!["Seven.".into()]));
        let mut w = TableWriter::create(&f, Format::Parquet, &t, &[]).unwrap();
        w.write(&t).unwrap();
        w.finish().unwrap();
        let custom = IngestOptions { text_field: "body".into(), ..opts(&[]) };
        let got = read_inputs(&[f.display().to_string()], &custom).unwrap();
        assert!(got.documents[0].id.ends_with("c.parquet:7"));
        let err = read_inputs(&[f.display().to_string()], &opts(&[])).unwrap_err().to_string();
        assert!(err.contains("no column \"text\"") && err.contains("it has: id, body"), "{err}");
    }
}
