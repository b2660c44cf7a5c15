//! Corpora of records, one document a row: JSON lines, CSV (with a header
//! row) and Parquet. The text comes from one field or column
//! (`IngestOptions::text_field`), the name from another (`id_field`, else
//! the line or row number), metadata from those named in `meta_fields`.
//! A document is named `FILE:ID` (just `ID` for records on stdin). A bad
//! row stops the run with its file and row, or with `skip_bad` is counted
//! among the skipped inputs and the rest of the file is read.

use std::path::Path;

use serde_json::{Map, Value};

use super::{Document, IngestError, IngestOptions, Ingested};
use crate::table::{self, Frame, Kind, TableError, Want};

/// A bad row: an error, or with `skip_bad` one more skipped input.
fn bad_row(err: IngestError, opts: &IngestOptions, out: &mut Ingested) -> Result<(), IngestError> {
    if opts.skip_bad {
        out.skipped.push(err);
        return Ok(());
    }
    Err(err)
}

pub(super) fn read_jsonl(
    name: &str,
    path: Option<&Path>,
    text: &str,
    opts: &IngestOptions,
    out: &mut Ingested,
) -> Result<(), IngestError> {
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| IngestError::BadRecord { path: name.into(), line: line_no, message };
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
        let meta: Map<String, Value> = opts
            .meta_fields
            .iter()
            .filter_map(|f| value.get(f).filter(|v| !v.is_null()).map(|v| (f.clone(), v.clone())))
            .collect();
        let doc_name = if path.is_some() { format!("{name}:{id}") } else { id };
        push_record(out, doc_name, path, body.to_string(), meta);
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
) {
    if text.trim().is_empty() {
        out.empty.push(name);
        return;
    }
    let mut doc = Document::new(name, path.map(Path::to_path_buf), text);
    if !meta.is_empty() {
        doc.metadata = Some(Value::Object(meta).to_string());
    }
    out.documents.push(doc);
}

pub(super) fn read_csv(
    name: &str,
    path: &Path,
    text: &str,
    opts: &IngestOptions,
    out: &mut Ingested,
) -> Result<(), IngestError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let bad = |line: usize, message: String| IngestError::BadRecord { path: name.into(), line, message };
    let headers = reader.headers().map_err(|e| bad(1, format!("not CSV: {e}")))?.clone();
    let column = |field: &str| headers.iter().position(|h| h == field);
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
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(i + 2, |p| p.line() as usize);
                bad_row(bad(line, format!("not CSV: {e}")), opts, out)?;
                continue;
            }
        };
        let body = record.get(text_col).unwrap_or("").to_string();
        let id = id_col
            .and_then(|c| record.get(c))
            .filter(|s| !s.is_empty())
            .map_or_else(|| (i + 1).to_string(), String::from);
        let meta = meta_cols
            .iter()
            .filter_map(|(f, c)| record.get(*c).filter(|v| !v.is_empty()).map(|v| (f.clone(), Value::from(v))))
            .collect();
        push_record(out, format!("{name}:{id}"), Some(path), body, meta);
    }
    Ok(())
}

pub(super) fn read_parquet(
    name: &str,
    path: &Path,
    opts: &IngestOptions,
    out: &mut Ingested,
) -> Result<(), IngestError> {
    let mut wants = vec![Want::required(&opts.text_field, Kind::Text), Want::optional(&opts.id_field, Kind::Text)];
    wants.extend(opts.meta_fields.iter().map(|f| Want::required(f, Kind::Text)));
    let result = table::read_batches(path, &wants, &mut |frame: Frame, first_row| -> Result<(), TableError> {
        let texts = frame.texts(&opts.text_field).expect("required");
        let ids = frame.texts(&opts.id_field);
        for i in 0..frame.rows {
            let row = first_row + i;
            let id = ids.and_then(|v| v[i].clone()).unwrap_or_else(|| row.to_string());
            let Some(body) = texts[i].clone() else {
                let message = format!("no text in column \"{}\"", opts.text_field);
                if opts.skip_bad {
                    out.skipped.push(IngestError::BadRecord { path: name.into(), line: row, message });
                    continue;
                }
                return Err(TableError::BadValue { path: name.into(), row, message });
            };
            let meta = opts
                .meta_fields
                .iter()
                .filter_map(|f| frame.texts(f).and_then(|v| v[i].clone()).map(|v| (f.clone(), Value::from(v))))
                .collect();
            push_record(out, format!("{name}:{id}"), Some(path), body, meta);
        }
        Ok(())
    });
    result.map(|_| ()).map_err(|e| match e {
        TableError::BadValue { row, message, .. } => IngestError::BadRecord { path: name.into(), line: row, message },
        TableError::MissingColumn { column, have, .. } => IngestError::BadRecord {
            path: name.into(),
            line: 0,
            message: format!("no column \"{column}\" (it has: {have}); choose the text column with --text-field"),
        },
        other => IngestError::Table(other),
    })
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
