//! Passages whose vectors were computed elsewhere, read for `motif index
//! --from`: a motif export folder (its `documents`, `passages` and
//! `vectors` tables), or "embedded passages", one row per passage with its
//! vector, as `motif embed --format parquet|jsonl` and the Ray recipe
//! write them, in one file or a folder of part files.
//!
//! Embedded-passage columns: `document` (or `doc`), `text`, `embedding`
//! required; `ordinal` (or `passage`), `byte_start`/`byte_end` (or
//! `start`/`end`), `windowed`, `content_hash`, `metadata`, and the document's `date`, `source`,
//! `title`, `url` optional (see
//! `embedded_wants`). Everything is checked before the store is touched:
//! one dimension, finite unit-length vectors, no passage twice, and the
//! model fingerprint when the files carry motif's provenance.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::export::{ExportManifest, EXPORT_FORMAT, MANIFEST_FILE};
use super::{short, ExchangeError, Provenance};
use crate::corpus::ingest::{sha256_hex, Document};
use crate::corpus::meta::{Dated, DocMeta};
use crate::corpus::{Passage, ReadDocuments};
use crate::table::{self, Frame, Kind, Want};

/// How far from 1 a vector's length may be (float32 rounding of other
/// tools' normalisation stays far below this).
pub const NORM_TOLERANCE: f32 = 1e-3;

/// What was read: documents and passages as if read from files (the
/// documents' whole text is not there; `hash`, `bytes` and `metadata`
/// are), the vector of each passage, and how they were made when known.
#[derive(Debug)]
pub struct Imported {
    pub read: ReadDocuments,
    /// Row i belongs to `read.passages[i]`.
    pub vectors: Array2<f32>,
    /// For each document, the source the store records (see `pipeline`).
    pub sources: Vec<Option<String>>,
    /// From the files' metadata (or the export's manifest); `None` when
    /// they carry none (vectors made by another tool).
    pub provenance: Option<Provenance>,
    /// The files read, for messages.
    pub files: Vec<PathBuf>,
}

impl Imported {
    pub fn dim(&self) -> usize {
        self.vectors.ncols()
    }

    /// Refuses vectors made by another model than the index's: by
    /// fingerprint when the files say which model made them, by dimension
    /// always.
    pub fn check_model(&self, path: &Path, model: &str, fingerprint: &str, dim: usize) -> Result<(), ExchangeError> {
        let shown = path.display().to_string();
        if let Some(p) = &self.provenance {
            if p.model_fingerprint != fingerprint {
                return Err(ExchangeError::ModelMismatch {
                    path: shown,
                    have: p.model.clone(),
                    have_fp: short(&p.model_fingerprint),
                    want: model.to_string(),
                    want_fp: short(fingerprint),
                });
            }
        }
        if self.dim() != dim {
            return Err(ExchangeError::Invalid {
                path: shown,
                message: format!(
                    "its vectors have {} values, but model {model} makes {dim}; index them with the model that made them (--model)",
                    self.dim()
                ),
            });
        }
        Ok(())
    }
}

/// The columns of embedded passages, with the names `motif embed`'s JSON
/// lines use as aliases.
pub const EMBEDDED_WANTS: &[Want<'static>] = &[
    Want::required("document", Kind::Text).or(&["doc"]),
    Want::required("text", Kind::Text),
    Want::required("embedding", Kind::Vector),
    Want::optional("ordinal", Kind::Int).or(&["passage"]),
    Want::optional("byte_start", Kind::Int).or(&["start"]),
    Want::optional("byte_end", Kind::Int).or(&["end"]),
    Want::optional("windowed", Kind::Bool),
    Want::optional("content_hash", Kind::Text),
    Want::optional("metadata", Kind::Text),
    Want::optional("date", Kind::Text),
    Want::optional("source", Kind::Text),
    Want::optional("title", Kind::Text),
    Want::optional("url", Kind::Text),
];

/// Reads `path`: a motif export folder, a folder of embedded-passage part
/// files (`.parquet`, `.jsonl`; hidden and `_`-prefixed files skipped, as
/// Spark and Ray write them), or one such file.
pub fn read(path: &Path) -> Result<Imported, ExchangeError> {
    let meta = std::fs::metadata(path).map_err(|e| ExchangeError::io(path, e))?;
    if meta.is_dir() {
        if path.join(MANIFEST_FILE).is_file() {
            return read_export(path);
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| ExchangeError::io(path, e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
                p.is_file() && !name.starts_with('.') && !name.starts_with('_') && (ext == "parquet" || ext == "jsonl")
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(ExchangeError::Invalid {
                path: path.display().to_string(),
                message: "no .parquet or .jsonl files here, and no manifest.json of a motif export".into(),
            });
        }
        return read_embedded(&files);
    }
    read_embedded(&[path.to_path_buf()])
}

/// One passage as read, before grouping.
struct Row {
    document: String,
    ordinal: Option<usize>,
    start: Option<usize>,
    end: Option<usize>,
    windowed: bool,
    text: String,
    hash: Option<String>,
    metadata: Option<String>,
    /// Its document's date, source, title and URL.
    meta: DocMeta,
    /// Where it came from, for messages: file index and row.
    at: (usize, usize),
}

fn read_embedded(files: &[PathBuf]) -> Result<Imported, ExchangeError> {
    let mut rows: Vec<Row> = Vec::new();
    let mut vectors = Vectors::default();
    let mut provenance: Option<Provenance> = None;
    for (fi, file) in files.iter().enumerate() {
        let shown = file.display().to_string();
        let meta =
            table::read_batches(file, EMBEDDED_WANTS, &mut |frame: Frame, first_row| -> Result<(), ExchangeError> {
                let need = |name: &str| frame.texts(name).expect("required column");
                let (docs, texts) = (need("document"), need("text"));
                let embeddings = frame.vectors("embedding").expect("required column");
                let int = |name: &str, i: usize| frame.ints(name).and_then(|v| v[i]);
                for i in 0..frame.rows {
                    let row = first_row + i;
                    let bad = |message: String| ExchangeError::BadValue { path: shown.clone(), row, message };
                    let document = docs[i].clone().ok_or_else(|| bad("no document name".into()))?;
                    let text = texts[i].clone().ok_or_else(|| bad("no text".into()))?;
                    let embedding = embeddings[i].as_deref().ok_or_else(|| bad("no embedding".into()))?;
                    vectors.push(embedding).map_err(bad)?;
                    let offset = |name: &str| -> Result<Option<usize>, ExchangeError> {
                        int(name, i)
                            .map(|v| usize::try_from(v).map_err(|_| bad(format!("{name} is negative ({v})"))))
                            .transpose()
                    };
                    rows.push(Row {
                        document,
                        ordinal: offset("ordinal")?,
                        start: offset("byte_start")?,
                        end: offset("byte_end")?,
                        windowed: frame.bools("windowed").and_then(|v| v[i]).unwrap_or(false),
                        text,
                        hash: frame.texts("content_hash").and_then(|v| v[i].clone()),
                        metadata: frame.texts("metadata").and_then(|v| v[i].clone()),
                        meta: {
                            let text = |name: &str| frame.texts(name).and_then(|v| v[i].clone());
                            let date = text("date");
                            let parsed = date.as_deref().and_then(Dated::parse);
                            if let (Some(d), None) = (&date, parsed) {
                                return Err(bad(format!("date \"{d}\" is not a date")));
                            }
                            DocMeta { date: parsed, source: text("source"), title: text("title"), url: text("url") }
                        },
                        at: (fi, row),
                    });
                }
                Ok(())
            })?;
        if let Some(p) = Provenance::from_metadata(&meta) {
            match &provenance {
                Some(q) if q.model_fingerprint != p.model_fingerprint => {
                    return Err(ExchangeError::Invalid {
                        path: shown,
                        message: format!(
                            "made by model {} (fingerprint {}), but {} was made by {} (fingerprint {}); vectors of different models do not mix",
                            p.model,
                            short(&p.model_fingerprint),
                            files[0].display(),
                            q.model,
                            short(&q.model_fingerprint)
                        ),
                    })
                }
                Some(_) => {}
                None => provenance = Some(p),
            }
        }
    }
    let shown_of = |at: (usize, usize)| (files[at.0].display().to_string(), at.1);
    if rows.is_empty() {
        return Err(ExchangeError::Invalid {
            path: files[0].display().to_string(),
            message: "no passages in it".into(),
        });
    }
    // Group by document (in order of first appearance), passages by ordinal.
    let mut order: Vec<String> = Vec::new();
    let mut by_doc: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_doc.entry(r.document.clone()).or_insert_with(|| {
            order.push(r.document.clone());
            Vec::new()
        });
        by_doc.get_mut(&r.document).expect("just inserted").push(i);
    }
    let source = (files.len() == 1).then(|| std::fs::canonicalize(&files[0]).ok()).flatten();
    let mut documents = Vec::with_capacity(order.len());
    let mut passages = Vec::with_capacity(rows.len());
    let mut sources = Vec::with_capacity(order.len());
    let mut picked: Vec<usize> = Vec::with_capacity(rows.len());
    for (d, name) in order.iter().enumerate() {
        let mut members = by_doc.remove(name).expect("grouped");
        // Without ordinals, passages keep their order in the file.
        let ordinals: Vec<usize> = members.iter().enumerate().map(|(k, &i)| rows[i].ordinal.unwrap_or(k)).collect();
        let mut keyed: Vec<(usize, usize)> = ordinals.into_iter().zip(members.drain(..)).collect();
        keyed.sort();
        for w in keyed.windows(2) {
            if w[0].0 == w[1].0 {
                let (path, row) = shown_of(rows[w[1].1].at);
                return Err(ExchangeError::BadValue {
                    path,
                    row,
                    message: format!("passage {name}#{} appears twice", w[0].0),
                });
            }
        }
        // Without offsets, passages are laid out as if joined by blank lines.
        let mut cursor = 0;
        let mut joined = String::new();
        for &(ordinal, i) in &keyed {
            let r = &rows[i];
            let start = r.start.unwrap_or(cursor);
            let end = r.end.unwrap_or(start + r.text.len());
            if end < start {
                let (path, row) = shown_of(r.at);
                return Err(ExchangeError::BadValue {
                    path,
                    row,
                    message: format!("byte_end {end} is before byte_start {start}"),
                });
            }
            cursor = end + 2;
            if !joined.is_empty() {
                joined.push_str("\n\n");
            }
            joined.push_str(&r.text);
            passages.push(Passage { doc: d, ordinal, start, end, windowed: r.windowed, text: r.text.clone() });
            picked.push(i);
        }
        let first = &rows[keyed[0].1];
        let bytes = passages[passages.len() - keyed.len()..].iter().map(|p| p.end).max().unwrap_or(0);
        documents.push(Document {
            id: name.clone(),
            source: source.clone(),
            text: String::new(),
            // Without the document's own hash, that of its passages: the
            // same file imported again changes nothing.
            hash: first.hash.clone().unwrap_or_else(|| sha256_hex(joined.as_bytes())),
            bytes,
            metadata: first.metadata.clone(),
            meta: first.meta.clone(),
        });
        sources.push(source.as_ref().map(|p| p.display().to_string()));
    }
    let vectors = vectors.into_matrix(&picked);
    Ok(Imported {
        read: ReadDocuments { documents, passages, ..Default::default() },
        vectors,
        sources,
        provenance,
        files: files.to_vec(),
    })
}

/// Vectors as read, checked row by row.
#[derive(Default)]
struct Vectors {
    dim: usize,
    data: Vec<f32>,
}

impl Vectors {
    fn push(&mut self, v: &[f32]) -> Result<(), String> {
        if v.is_empty() {
            return Err("the embedding is empty".into());
        }
        if self.data.is_empty() {
            self.dim = v.len();
        } else if v.len() != self.dim {
            return Err(format!("the embedding has {} values; the rows before it have {}", v.len(), self.dim));
        }
        if v.iter().any(|x| !x.is_finite()) {
            return Err("the embedding holds a NaN or infinite value".into());
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if (norm - 1.0).abs() > NORM_TOLERANCE {
            return Err(format!(
                "the embedding has length {norm:.4}, not 1: motif compares unit vectors; normalise them (divide each by its L2 norm) first"
            ));
        }
        self.data.extend_from_slice(v);
        Ok(())
    }

    /// The rows in `order` as one matrix.
    fn into_matrix(self, order: &[usize]) -> Array2<f32> {
        let dim = self.dim;
        let mut out = Vec::with_capacity(order.len() * dim);
        for &i in order {
            out.extend_from_slice(&self.data[i * dim..(i + 1) * dim]);
        }
        Array2::from_shape_vec((order.len(), dim), out).expect("dim values a row")
    }
}

/// A motif export: documents ⋈ passages ⋈ vectors, by their ids.
fn read_export(dir: &Path) -> Result<Imported, ExchangeError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let body = std::fs::read_to_string(&manifest_path).map_err(|e| ExchangeError::io(&manifest_path, e))?;
    let invalid = |message: String| ExchangeError::Invalid { path: manifest_path.display().to_string(), message };
    let manifest: ExportManifest =
        serde_json::from_str(&body).map_err(|e| invalid(format!("not a motif export manifest: {e}")))?;
    if manifest.format != EXPORT_FORMAT {
        return Err(invalid(format!("format is {:?}, not {EXPORT_FORMAT:?}", manifest.format)));
    }
    let file = |table: &str| -> Result<PathBuf, ExchangeError> {
        let entry = manifest.tables.get(table).ok_or_else(|| invalid(format!("it lists no {table} table")))?;
        Ok(dir.join(&entry.file))
    };
    let (docs_path, passages_path, vectors_path) = (file("documents")?, file("passages")?, file("vectors")?);
    let docs = table::read_table(
        &docs_path,
        &[
            Want::required("document_id", Kind::Int),
            Want::required("name", Kind::Text),
            Want::optional("path", Kind::Text),
            Want::optional("source", Kind::Text),
            Want::required("content_hash", Kind::Text),
            Want::optional("bytes", Kind::Int),
            Want::optional("metadata", Kind::Text),
            Want::optional("date", Kind::Text),
            Want::optional("title", Kind::Text),
            Want::optional("url", Kind::Text),
        ],
    )?;
    let ps = table::read_table(
        &passages_path,
        &[
            Want::required("passage_id", Kind::Int),
            Want::required("document_id", Kind::Int),
            Want::required("ordinal", Kind::Int),
            Want::required("byte_start", Kind::Int),
            Want::required("byte_end", Kind::Int),
            Want::optional("windowed", Kind::Bool),
            Want::required("text", Kind::Text),
        ],
    )?;
    let vs = table::read_table(
        &vectors_path,
        &[Want::required("passage_id", Kind::Int), Want::required("embedding", Kind::Vector)],
    )?;
    let checked = |path: &Path, expected: usize, rows: usize| -> Result<(), ExchangeError> {
        if expected != rows {
            return Err(ExchangeError::Invalid {
                path: path.display().to_string(),
                message: format!(
                    "{rows} rows, but {MANIFEST_FILE} says {expected}: the export is incomplete or was changed"
                ),
            });
        }
        Ok(())
    };
    checked(&docs_path, manifest.tables["documents"].rows, docs.rows)?;
    checked(&passages_path, manifest.tables["passages"].rows, ps.rows)?;
    checked(&vectors_path, manifest.tables["vectors"].rows, vs.rows)?;

    let bad = |path: &Path, row: usize, message: String| ExchangeError::BadValue {
        path: path.display().to_string(),
        row: row + 1,
        message,
    };
    let id_at = |f: &Frame, col: &str, path: &Path, i: usize| -> Result<i64, ExchangeError> {
        f.ints(col).and_then(|v| v[i]).ok_or_else(|| bad(path, i, format!("no {col}")))
    };
    // Vectors by passage id.
    let mut vector_of: HashMap<i64, usize> = HashMap::new();
    let embeddings = vs.vectors("embedding").expect("required");
    let mut vectors = Vectors::default();
    for (i, e) in embeddings.iter().enumerate() {
        let id = id_at(&vs, "passage_id", &vectors_path, i)?;
        let e = e.as_deref().ok_or_else(|| bad(&vectors_path, i, "no embedding".into()))?;
        vectors.push(e).map_err(|m| bad(&vectors_path, i, m))?;
        if vector_of.insert(id, i).is_some() {
            return Err(bad(&vectors_path, i, format!("passage_id {id} has two vectors")));
        }
    }
    // Documents by id.
    let mut doc_index: HashMap<i64, usize> = HashMap::new();
    let mut documents = Vec::with_capacity(docs.rows);
    let mut sources = Vec::with_capacity(docs.rows);
    let text = |f: &Frame, col: &str, i: usize| f.texts(col).and_then(|v| v[i].clone());
    for i in 0..docs.rows {
        let id = id_at(&docs, "document_id", &docs_path, i)?;
        let name = text(&docs, "name", i).ok_or_else(|| bad(&docs_path, i, "no name".into()))?;
        let hash = text(&docs, "content_hash", i).ok_or_else(|| bad(&docs_path, i, "no content_hash".into()))?;
        if doc_index.insert(id, documents.len()).is_some() {
            return Err(bad(&docs_path, i, format!("document_id {id} appears twice")));
        }
        // Exports before document metadata named the file `source`; since,
        // the file is `path` and `source` the outlet.
        let (source, outlet) = match docs.texts("path") {
            Some(_) => (text(&docs, "path", i), text(&docs, "source", i)),
            None => (text(&docs, "source", i), None),
        };
        let date = text(&docs, "date", i);
        let meta = DocMeta {
            date: date.as_deref().and_then(Dated::parse),
            source: outlet,
            title: text(&docs, "title", i),
            url: text(&docs, "url", i),
        };
        if let (Some(d), None) = (&date, meta.date) {
            return Err(bad(&docs_path, i, format!("date \"{d}\" is not a date")));
        }
        documents.push(Document {
            id: name,
            source: source.as_ref().map(PathBuf::from),
            text: String::new(),
            hash,
            bytes: docs.ints("bytes").and_then(|v| v[i]).unwrap_or(0).max(0) as usize,
            metadata: text(&docs, "metadata", i),
            meta,
        });
        // The export's source is kept as it was recorded, even where that
        // file is not on this machine.
        sources.push(source);
    }
    // Passages, grouped by document and ordered by ordinal.
    let mut keyed: Vec<(usize, usize, usize)> = Vec::with_capacity(ps.rows);
    for i in 0..ps.rows {
        let doc_id = id_at(&ps, "document_id", &passages_path, i)?;
        let d = *doc_index
            .get(&doc_id)
            .ok_or_else(|| bad(&passages_path, i, format!("document_id {doc_id} is not in {}", docs_path.display())))?;
        let ordinal = id_at(&ps, "ordinal", &passages_path, i)?.max(0) as usize;
        keyed.push((d, ordinal, i));
    }
    keyed.sort();
    let mut passages = Vec::with_capacity(ps.rows);
    let mut picked = Vec::with_capacity(ps.rows);
    for (k, &(d, ordinal, i)) in keyed.iter().enumerate() {
        if k > 0 && keyed[k - 1].0 == d && keyed[k - 1].1 == ordinal {
            return Err(bad(&passages_path, i, format!("passage {}#{ordinal} appears twice", documents[d].id)));
        }
        let id = id_at(&ps, "passage_id", &passages_path, i)?;
        let v = *vector_of.get(&id).ok_or_else(|| {
            bad(&passages_path, i, format!("passage_id {id} has no vector in {}", vectors_path.display()))
        })?;
        let start = id_at(&ps, "byte_start", &passages_path, i)?.max(0) as usize;
        let end = id_at(&ps, "byte_end", &passages_path, i)?.max(0) as usize;
        passages.push(Passage {
            doc: d,
            ordinal,
            start,
            end,
            windowed: ps.bools("windowed").and_then(|v| v[i]).unwrap_or(false),
            text: text(&ps, "text", i).ok_or_else(|| bad(&passages_path, i, "no text".into()))?,
        });
        picked.push(v);
    }
    if vectors.dim != manifest.provenance.dim && !picked.is_empty() {
        return Err(invalid(format!(
            "it says dimension {}, but the vectors have {}",
            manifest.provenance.dim, vectors.dim
        )));
    }
    let vectors = vectors.into_matrix(&picked);
    Ok(Imported {
        read: ReadDocuments { documents, passages, ..Default::default() },
        vectors,
        sources,
        provenance: Some(manifest.provenance),
        files: vec![docs_path, passages_path, vectors_path],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Format, Table, TableWriter, Values};

    fn unit(dim: usize, hot: usize) -> Vec<f32> {
        (0..dim).map(|i| if i == hot { 1.0 } else { 0.0 }).collect()
    }

    fn write_embedded(path: &Path, docs: &[&str], vectors: Vec<Vec<f32>>, meta: &[(String, String)]) {
        let dim = vectors[0].len();
        let t = Table::new()
            .with("document", Values::Text(docs.iter().map(|d| d.to_string()).collect()))
            .with("text", Values::Text(docs.iter().enumerate().map(|(i, d)| format!("{d} text {i}")).collect()))
            .with("embedding", Values::Vector { dim, data: vectors.concat() });
        let format = if path.extension().unwrap() == "parquet" { Format::Parquet } else { Format::Jsonl };
        let mut w = TableWriter::create(path, format, &t, meta).unwrap();
        w.write(&t).unwrap();
        w.finish().unwrap();
    }

    #[test]
    fn embedded_passages_are_grouped_with_offsets_and_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.parquet");
        write_embedded(&f, &["b", "a", "b"], vec![unit(4, 0), unit(4, 1), unit(4, 2)], &[]);
        let imp = read(&f).unwrap();
        let names: Vec<&str> = imp.read.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        let p = &imp.read.passages;
        assert_eq!((p[0].doc, p[0].ordinal, p[1].ordinal, p[2].doc), (0, 0, 1, 1));
        // Laid out as if joined by blank lines.
        assert_eq!((p[1].start, p[1].end), (p[0].end + 2, p[0].end + 2 + p[1].text.len()));
        assert_eq!(imp.vectors.row(1).to_vec(), unit(4, 2));
        assert!(imp.provenance.is_none());
        // Reading the same file again gives the same hashes.
        assert_eq!(read(&f).unwrap().read.documents[0].hash, imp.read.documents[0].hash);
    }

    #[test]
    fn bad_vectors_are_refused_with_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.jsonl");
        write_embedded(&f, &["a", "b"], vec![unit(4, 0), vec![2.0, 0.0, 0.0, 0.0]], &[]);
        let err = read(&f).unwrap_err().to_string();
        assert!(err.contains("p.jsonl: row 2") && err.contains("not 1"), "{err}");
        std::fs::write(&f, "{\"document\": \"a\", \"text\": \"x\", \"embedding\": [1, 0]}\n{\"document\": \"a\", \"text\": \"y\", \"embedding\": [1]}\n").unwrap();
        let err = read(&f).unwrap_err().to_string();
        assert!(err.contains("row 2") && err.contains("has 1 values"), "{err}");
        std::fs::write(&f, "{\"doc\": \"a\", \"text\": \"x\"}\n").unwrap();
        let err = read(&f).unwrap_err().to_string();
        assert!(err.contains("no field \"embedding\""), "{err}");
    }

    #[test]
    fn provenance_decides_the_model_check() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.parquet");
        let prov = Provenance {
            model: "m".into(),
            model_fingerprint: "a".repeat(64),
            dim: 4,
            split: "paragraph overlap=32".into(),
        };
        write_embedded(&f, &["a"], vec![unit(4, 3)], &prov.metadata("embedded_passages"));
        let imp = read(&f).unwrap();
        assert_eq!(imp.provenance.as_ref(), Some(&prov));
        imp.check_model(&f, "m", &"a".repeat(64), 4).unwrap();
        let err = imp.check_model(&f, "other", &"b".repeat(64), 4).unwrap_err().to_string();
        assert!(err.contains("p.parquet") && err.contains("made by model m"), "{err}");
        let err = imp.check_model(&f, "m", &"a".repeat(64), 8).unwrap_err().to_string();
        assert!(err.contains("have 4 values"), "{err}");
    }
}
