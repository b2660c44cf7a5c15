//! The index directory and its SQLite store: the source of truth for
//! documents, passages (with byte offsets and text), their vectors and the
//! manifest that says how they were made.
//!
//! Layout of an index directory:
//!
//! - `index.sqlite` (with `-wal`/`-shm` while in use): tables `manifest`
//!   (key/value: format version, model name and fingerprint, dimension,
//!   split settings, HNSW parameters, generation), `documents`, `passages`,
//!   `vectors` (little-endian f32 BLOBs) and, since format 4, `sentences`:
//!   each passage's sentences as `corpus::sentences::passage_sentences`
//!   cuts them (passage, ordinal, document byte offsets) with a vector
//!   each, and since format 5 their claims (`corpus::claims::cut`, rows
//!   after the sentences with `claim_of` naming their sentence's ordinal),
//!   written in the same transaction as their passage, so that
//!   analyses of an index embed nothing again. A passage with no rows
//!   there has not been cut yet (stored by an older motif, or imported
//!   with given vectors and no model to embed with): the next `motif
//!   index` embeds and stores its sentences, readers meanwhile embed them
//!   in memory. Anyone can read it with the `sqlite3` shell.
//! - `graph.hnsw`: the HNSW graph, derived from the vectors (see `index::hnsw`);
//!   stamped with the store's index id and generation, so a stale one is
//!   told apart and rebuilt. Never the only copy of anything.
//! - `lock`: held (an OS file lock) by the one writer.
//!
//! Writes happen in SQLite transactions, so a writer killed at any moment
//! leaves the last committed state; WAL mode lets readers go on while a
//! writer runs, each reader seeing one consistent snapshot.

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

mod themes;
pub mod update;

use ndarray::Array2;

use crate::corpus::meta::{Dated, DocMeta};
use crate::corpus::sentences::{self, SentenceVectors};
use crate::corpus::{Corpus, Passage};
use crate::index::hnsw::{AnnError, Graph, Params};

/// The store layout this motif writes and the newest it reads. Formats 1
/// (no document metadata), 2 (no date, source, title, URL) and 3 (no
/// sentences) are read as they are and upgraded by the first write.
pub const FORMAT_VERSION: u32 = 5;
pub const DB_FILE: &str = "index.sqlite";
pub const GRAPH_FILE: &str = "graph.hnsw";
pub const LOCK_FILE: &str = "lock";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{dir}: not a motif index (no {DB_FILE}); build one with `motif index PATH --index {dir}`")]
    NotAnIndex { dir: String },
    #[error("{dir}: not a directory")]
    NotADirectory { dir: String },
    #[error(
        "{dir}: exists and is not a motif index (it holds other files); choose a new or empty directory with --index"
    )]
    ForeignDirectory { dir: String },
    #[error("{path}: not a usable motif index database ({why}); motif changed nothing. Move it away and run `motif index` again to rebuild it")]
    Corrupt { path: String, why: String },
    #[error("{path}: index format {found} was written by a newer motif (this one reads up to format {supported}); upgrade motif. Nothing was changed")]
    FutureFormat { path: String, found: u32, supported: u32 },
    #[error(
        "{dir}: another `motif index` is writing this index (it holds {lock}); wait for it to finish, then run again"
    )]
    Locked { dir: String, lock: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Sqlite { path: String, source: rusqlite::Error },
    #[error(
        "{dir}: this index was built with model {have} (fingerprint {have_fp}), not {want} (fingerprint {want_fp}); vectors of different models do not mix. Use --model {have}; to switch models, index again into another --index DIR"
    )]
    ModelMismatch { dir: String, have: String, have_fp: String, want: String, want_fp: String },
    #[error("{dir}: this index was built with {have}; this run asks for {want}. Use the same split options, or another --index DIR")]
    SplitMismatch { dir: String, have: String, want: String },
    #[error("vector of {found} values for an index of dimension {dim}")]
    WrongDimension { found: usize, dim: usize },
    #[error(
        "{path}: passage {doc}#{ordinal} has a damaged vector ({why}); run `motif index` on its file to embed it again (`motif info --check` lists every damaged passage)"
    )]
    DamagedVector { path: String, doc: String, ordinal: usize, why: String },
    #[error("a vector to store is not unit length ({norm}); motif stores unit vectors")]
    NotUnit { norm: f32 },
}

/// Refuses a vector to store that is not a unit vector of `dim` values.
fn check_vector(v: &[f32], dim: usize) -> Result<(), StoreError> {
    if v.len() != dim {
        return Err(StoreError::WrongDimension { found: v.len(), dim });
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm.is_nan() || (norm - 1.0).abs() > NORM_TOLERANCE {
        return Err(StoreError::NotUnit { norm });
    }
    Ok(())
}

/// A vector as its stored BLOB (little-endian f32), into `blob`.
fn to_blob(v: &[f32], blob: &mut Vec<u8>) {
    blob.clear();
    for x in v {
        blob.extend_from_slice(&x.to_le_bytes());
    }
}

fn from_blob(blob: &[u8]) -> Vec<f32> {
    blob.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect()
}

/// How far from 1 a stored vector's length may be before it counts as
/// damaged: rounding leaves ~1e-7; a flipped bit in a float almost always
/// moves it by far more.
pub const NORM_TOLERANCE: f32 = 1e-3;

/// Why a stored vector blob is not a unit vector of `dim` floats, if it is not.
fn vector_damage(blob: &[u8], dim: usize) -> Option<String> {
    if blob.len() != dim * 4 {
        return Some(format!("{} bytes, expected {}", blob.len(), dim * 4));
    }
    let mut sum = 0f64;
    for c in blob.chunks_exact(4) {
        let x = f32::from_le_bytes(c.try_into().expect("4 bytes"));
        if !x.is_finite() {
            return Some("a value is NaN or infinite".into());
        }
        sum += f64::from(x) * f64::from(x);
    }
    let norm = sum.sqrt() as f32;
    ((norm - 1.0).abs() > NORM_TOLERANCE).then(|| format!("length {norm}, not 1"))
}

/// A stored passage whose vector is damaged.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Damage {
    pub doc: String,
    pub ordinal: usize,
    pub why: String,
}

fn short(fp: &str) -> String {
    fp.chars().take(12).collect()
}

/// What an index records about how it was made.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Manifest {
    pub format_version: u32,
    /// The model's name as given (a known name or a folder path).
    pub model: String,
    /// Identifies the weights (see `model::ModelDir::fingerprint`).
    pub model_fingerprint: String,
    pub dim: usize,
    /// How documents were split, e.g. `paragraph window=128 overlap=32`.
    pub split: String,
    pub params: Params,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// Bumped by every write that changes passages.
    pub generation: u64,
    /// Random id of this index, so a graph from another index never passes as fresh.
    pub index_id: String,
}

/// How a new index is made: what its manifest starts with.
#[derive(Debug, Clone)]
pub struct NewIndex {
    pub model: String,
    pub model_fingerprint: String,
    pub dim: usize,
    pub split: String,
    pub params: Params,
}

/// A stored document.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDoc {
    pub name: String,
    /// Absolute path of the file it came from, if any.
    pub source: Option<String>,
    pub hash: String,
    pub bytes: usize,
    pub passages: usize,
    pub indexed_at: i64,
    /// Fields read with the document (a JSON object), if any.
    pub metadata: Option<String>,
    /// Its date, source, title and URL.
    pub meta: DocMeta,
}

/// A stored passage with its document's name and its vector, as
/// `Store::each_passage` streams them.
#[derive(Debug, Clone)]
pub struct StoredPassage {
    pub document: String,
    pub passage: Passage,
    pub vector: Vec<f32>,
}

/// A passage to store with its vector.
#[derive(Debug, Clone)]
pub struct NewPassage<'a> {
    pub ordinal: usize,
    pub start: usize,
    pub end: usize,
    pub windowed: bool,
    pub text: &'a str,
    pub vector: &'a [f32],
    /// Its sentences, in order, as `corpus::sentences::passage_sentences`
    /// cuts it; `None` leaves it uncut (no model to embed them with).
    pub sentences: Option<Vec<NewSentence<'a>>>,
}

/// A sentence of a passage to store, or a claim inside one: document
/// byte offsets and a vector.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSentence<'a> {
    pub start: usize,
    pub end: usize,
    /// For a claim, the position of its sentence among the passage's.
    pub claim_of: Option<usize>,
    /// `None` for a sentence that is its whole passage: it shares the
    /// passage's vector (stored as NULL, not as a second copy).
    pub vector: Option<&'a [f32]>,
}

/// A document to store (replacing any stored one of the same name).
#[derive(Debug, Clone)]
pub struct NewDoc<'a> {
    pub name: &'a str,
    pub source: Option<String>,
    pub hash: &'a str,
    pub bytes: usize,
    /// Fields read with the document (a JSON object).
    pub metadata: Option<&'a str>,
    /// Its date, source, title and URL.
    pub meta: &'a DocMeta,
    pub passages: Vec<NewPassage<'a>>,
}

/// A stored passage whose sentences are not stored yet, by its row id.
#[derive(Debug, Clone)]
pub struct UncutPassage {
    pub id: i64,
    /// `doc` is 0: only its offsets and text matter here.
    pub passage: Passage,
}

/// Inserts sentence rows.
struct SentenceWriter<'c> {
    insert: rusqlite::Statement<'c>,
    blob: Vec<u8>,
}

impl<'c> SentenceWriter<'c> {
    fn new(conn: &'c Connection) -> rusqlite::Result<Self> {
        let insert = conn.prepare(
            "INSERT INTO sentences (passage, ordinal, byte_start, byte_end, vector, claim_of) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        Ok(SentenceWriter { insert, blob: Vec::new() })
    }

    fn write(&mut self, passage: i64, sentences: &[NewSentence]) -> rusqlite::Result<()> {
        for (i, s) in sentences.iter().enumerate() {
            let vector = match s.vector {
                Some(v) => {
                    to_blob(v, &mut self.blob);
                    Some(self.blob.as_slice())
                }
                None => None,
            };
            let claim_of = s.claim_of.map(|c| c as i64);
            self.insert.execute(params![passage, i as i64, s.start as i64, s.end as i64, vector, claim_of])?;
        }
        Ok(())
    }
}

/// The saved HNSW graph against the store.
#[derive(Debug)]
pub enum SavedGraph {
    /// Built from exactly the stored vectors, with the recorded parameters.
    Fresh(Graph),
    /// From an earlier generation or other parameters.
    Stale,
    Missing,
    /// In an older file format (derived data: rebuilt); says so.
    Outdated(String),
}

impl SavedGraph {
    pub fn name(&self) -> &'static str {
        match self {
            SavedGraph::Fresh(_) => "fresh",
            SavedGraph::Stale => "stale",
            SavedGraph::Missing => "missing",
            SavedGraph::Outdated(_) => "in an older format",
        }
    }
}

/// What is in an index directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DirState {
    Missing,
    /// Exists, holding nothing but (possibly) motif's own lock or temporary files.
    Empty,
    Index,
    Foreign,
}

fn dir_state(dir: &Path) -> Result<DirState, StoreError> {
    let shown = dir.display().to_string();
    match fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(DirState::Missing),
        Err(source) => return Err(StoreError::Io { path: shown, source }),
        Ok(m) if !m.is_dir() => return Err(StoreError::NotADirectory { dir: shown }),
        Ok(_) => {}
    }
    if dir.join(DB_FILE).is_file() {
        return Ok(DirState::Index);
    }
    let entries = fs::read_dir(dir).map_err(|source| StoreError::Io { path: shown.clone(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| StoreError::Io { path: shown.clone(), source })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name == LOCK_FILE
            || name.starts_with(GRAPH_FILE)
            || name.starts_with("graph.tmp-")
            || name.starts_with(DB_FILE);
        if !ours {
            return Ok(DirState::Foreign);
        }
    }
    Ok(DirState::Empty)
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

const SCHEMA: &str = "
CREATE TABLE manifest (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE documents (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,  -- as the user gave it, e.g. seeds/000_x.txt
    source     TEXT,                  -- absolute path of its file, for --prune
    hash       TEXT NOT NULL,         -- SHA-256 of the text: unchanged documents are not embedded again
    bytes      INTEGER NOT NULL,
    indexed_at INTEGER NOT NULL,      -- unix seconds
    metadata   TEXT,                  -- fields read with it (a JSON object), since format 2
    date       TEXT,                  -- publication date, ISO 8601 (YYYY-MM-DD or UTC RFC 3339), since format 3
    outlet     TEXT,                  -- its source: the outlet or publisher, since format 3
    title      TEXT,                  -- since format 3
    url        TEXT                   -- since format 3
);
CREATE TABLE passages (
    id         INTEGER PRIMARY KEY,
    doc        INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal    INTEGER NOT NULL,      -- 0-based position in its document
    byte_start INTEGER NOT NULL,      -- byte offsets into the document's text
    byte_end   INTEGER NOT NULL,
    windowed   INTEGER NOT NULL,      -- 1 when a window of an over-long paragraph
    text       TEXT NOT NULL,
    UNIQUE (doc, ordinal)
);
CREATE TABLE vectors (
    passage INTEGER PRIMARY KEY REFERENCES passages(id) ON DELETE CASCADE,
    vector  BLOB NOT NULL             -- dim little-endian f32, unit length
);
";

/// Since format 4. The primary key also indexes `passage`, which the
/// cascade from a deleted passage looks its sentences up by.
const SENTENCES_TABLE: &str = "
CREATE TABLE sentences (
    passage    INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    ordinal    INTEGER NOT NULL,      -- 0-based position in its passage
    byte_start INTEGER NOT NULL,      -- byte offsets into the document's text
    byte_end   INTEGER NOT NULL,
    vector     BLOB,                  -- dim little-endian f32, unit length; NULL: the sentence is
                                      -- the whole passage and shares the passage's vector
    claim_of   INTEGER,               -- since format 5: NULL for a sentence; for a claim inside
                                      -- one (rows after the sentences), that sentence's ordinal
    PRIMARY KEY (passage, ordinal)
);
";

/// A document's date, outlet, title and url from columns `at..at + 4`
/// (a stored date that no longer reads is left out).
fn meta_at(r: &rusqlite::Row, at: usize) -> rusqlite::Result<DocMeta> {
    let date: Option<String> = r.get(at)?;
    Ok(DocMeta {
        date: date.as_deref().and_then(Dated::parse),
        source: r.get(at + 1)?,
        title: r.get(at + 2)?,
        url: r.get(at + 3)?,
    })
}

/// An open index: a reader (one consistent snapshot) or the one writer.
pub struct Store {
    dir: PathBuf,
    conn: Connection,
    manifest: Manifest,
    /// Held for the writer's lifetime; the OS drops the lock if it dies.
    _lock: Option<File>,
}

impl Store {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    pub fn graph_path(&self) -> PathBuf {
        self.dir.join(GRAPH_FILE)
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// What a graph built from the current passages is stamped with.
    pub fn stamp(&self) -> String {
        format!("{}:{}", self.manifest.index_id, self.manifest.generation)
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |e| sql_error(&self.db_path(), e)
    }

    /// Opens an index for reading. Nothing in the directory changes. The
    /// store reads one snapshot: a writer committing meanwhile is not seen.
    pub fn open_read(dir: &Path) -> Result<Store, StoreError> {
        match dir_state(dir)? {
            DirState::Index => {}
            _ => return Err(StoreError::NotAnIndex { dir: dir.display().to_string() }),
        }
        let path = dir.join(DB_FILE);
        let conn = match open_snapshot(&path, false) {
            // A WAL database needs its shared-memory file, which a reader
            // who may not write the folder cannot create: read it as an
            // immutable file instead (no writer can be at work there on
            // this reader's behalf).
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) => {
                open_snapshot(&path, true).map_err(|e| sql_error(&path, e))?
            }
            other => other.map_err(|e| sql_error(&path, e))?,
        };
        if is_blank(&conn, &path)? {
            // A first run killed before its first commit.
            return Err(StoreError::NotAnIndex { dir: dir.display().to_string() });
        }
        let manifest = read_manifest(&conn, &path)?;
        Ok(Store { dir: dir.to_path_buf(), conn, manifest, _lock: None })
    }

    /// Opens an index for writing, creating it (and its directory) if there
    /// is none yet, with `new` as its manifest. Takes the writer lock, and
    /// fails at once if another writer holds it. Returns whether the index
    /// was created.
    pub fn open_write(dir: &Path, new: &NewIndex) -> Result<(Store, bool), StoreError> {
        let shown = dir.display().to_string();
        let state = dir_state(dir)?;
        let path = dir.join(DB_FILE);
        match state {
            DirState::Foreign => return Err(StoreError::ForeignDirectory { dir: shown }),
            // Check before touching anything: a damaged or newer index is
            // reported and left exactly as it is.
            DirState::Index => {
                let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .map_err(|e| sql_error(&path, e))?;
                if !is_blank(&conn, &path)? {
                    read_manifest(&conn, &path)?;
                }
            }
            DirState::Missing => {
                fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: shown.clone(), source })?
            }
            DirState::Empty => {}
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StoreError::Io { path: lock_path.display().to_string(), source })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked { dir: shown, lock: lock_path.display().to_string() })
            }
            Err(fs::TryLockError::Error(source)) => {
                return Err(StoreError::Io { path: lock_path.display().to_string(), source })
            }
        }
        remove_stale_temporaries(dir);
        let mut conn = Connection::open(&path).map_err(|e| sql_error(&path, e))?;
        let sql = |e| sql_error(&path, e);
        // WAL: readers keep their snapshot while this writer commits.
        // synchronous=NORMAL is safe against a killed process (what WAL
        // cannot promise under it is only the last commit on power loss).
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(sql)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sql)?;
        let created = is_blank(&conn, &path)?;
        if created {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
            tx.execute_batch(SCHEMA).map_err(sql)?;
            tx.execute_batch(SENTENCES_TABLE).map_err(sql)?;
            let t = now();
            let id = crate::corpus::ingest::sha256_hex(
                format!("{:?}{}{}", SystemTime::now(), std::process::id(), shown).as_bytes(),
            );
            let manifest = Manifest {
                format_version: FORMAT_VERSION,
                model: new.model.clone(),
                model_fingerprint: new.model_fingerprint.clone(),
                dim: new.dim,
                split: new.split.clone(),
                params: new.params,
                created_at: t,
                updated_at: t,
                generation: 0,
                index_id: id[..16].to_string(),
            };
            write_manifest(&tx, &manifest).map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        let mut manifest = read_manifest(&conn, &path)?;
        if manifest.format_version < FORMAT_VERSION {
            upgrade(&mut conn, &mut manifest).map_err(sql)?;
        }
        Ok((Store { dir: dir.to_path_buf(), conn, manifest, _lock: Some(lock) }, created))
    }

    /// Refuses a model other than the index's own.
    pub fn check_model(&self, name: &str, fingerprint: &str, dim: usize) -> Result<(), StoreError> {
        let m = &self.manifest;
        if m.model_fingerprint == fingerprint && m.dim != dim {
            return Err(StoreError::Corrupt {
                path: self.db_path().display().to_string(),
                why: format!("it records dimension {} for model {}, which makes {dim}", m.dim, m.model),
            });
        }
        if m.model_fingerprint != fingerprint {
            return Err(StoreError::ModelMismatch {
                dir: self.dir.display().to_string(),
                have: m.model.clone(),
                have_fp: short(&m.model_fingerprint),
                want: name.to_string(),
                want_fp: short(fingerprint),
            });
        }
        Ok(())
    }

    /// Refuses split settings other than the index's own: unchanged
    /// documents keep their passages, so all must be split alike.
    pub fn check_split(&self, split: &str) -> Result<(), StoreError> {
        if self.manifest.split != split {
            return Err(StoreError::SplitMismatch {
                dir: self.dir.display().to_string(),
                have: self.manifest.split.clone(),
                want: split.to_string(),
            });
        }
        Ok(())
    }

    /// Every stored document, by name.
    pub fn documents(&self) -> Result<Vec<StoredDoc>, StoreError> {
        // Format 1 had no metadata column, format 2 no date, outlet, title, url.
        let metadata = if self.manifest.format_version >= 2 { "d.metadata" } else { "NULL" };
        let meta = self.meta_columns();
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT d.name, d.source, d.hash, d.indexed_at, (SELECT count(*) FROM passages p WHERE p.doc = d.id),
                        d.bytes, {metadata}, {meta}
                 FROM documents d ORDER BY d.name"
            ))
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(StoredDoc {
                    name: r.get(0)?,
                    source: r.get(1)?,
                    hash: r.get(2)?,
                    indexed_at: r.get(3)?,
                    passages: r.get::<_, i64>(4)? as usize,
                    bytes: r.get::<_, i64>(5)? as usize,
                    metadata: r.get(6)?,
                    meta: meta_at(r, 7)?,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sql())
    }

    /// The date, outlet, title and url columns (NULLs before format 3).
    fn meta_columns(&self) -> &'static str {
        if self.manifest.format_version >= 3 {
            "d.date, d.outlet, d.title, d.url"
        } else {
            "NULL, NULL, NULL, NULL"
        }
    }

    /// Each stored document's date, source, title and URL, by name.
    pub fn document_meta(&self) -> Result<HashMap<String, DocMeta>, StoreError> {
        let meta = self.meta_columns();
        let mut stmt = self.conn.prepare(&format!("SELECT d.name, {meta} FROM documents d")).map_err(self.sql())?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, meta_at(r, 1)?))).map_err(self.sql())?;
        rows.collect::<Result<HashMap<_, _>, _>>().map_err(self.sql())
    }

    pub fn counts(&self) -> Result<(usize, usize), StoreError> {
        let docs: i64 = self.conn.query_row("SELECT count(*) FROM documents", [], |r| r.get(0)).map_err(self.sql())?;
        let passages: i64 =
            self.conn.query_row("SELECT count(*) FROM passages", [], |r| r.get(0)).map_err(self.sql())?;
        Ok((docs as usize, passages as usize))
    }

    /// Stores documents (each replacing any of the same name) and removes
    /// others by name, in one transaction; bumps the generation when
    /// anything changed.
    pub fn write(&mut self, docs: &[NewDoc], remove: &[String]) -> Result<(), StoreError> {
        if docs.is_empty() && remove.is_empty() {
            return Ok(());
        }
        let dim = self.manifest.dim;
        for p in docs.iter().flat_map(|d| &d.passages) {
            check_vector(p.vector, dim)?;
            for v in p.sentences.iter().flatten().filter_map(|s| s.vector) {
                check_vector(v, dim)?;
            }
        }
        let path = self.db_path();
        let sql = |e| sql_error(&path, e);
        let t = now();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        {
            let mut delete = tx.prepare("DELETE FROM documents WHERE name = ?1").map_err(sql)?;
            let mut insert_doc = tx
                .prepare(
                    "INSERT INTO documents (name, source, hash, bytes, indexed_at, metadata, date, outlet, title, url)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(sql)?;
            let mut insert_passage = tx
                .prepare("INSERT INTO passages (doc, ordinal, byte_start, byte_end, windowed, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(sql)?;
            let mut insert_vector = tx.prepare("INSERT INTO vectors (passage, vector) VALUES (?1, ?2)").map_err(sql)?;
            let mut insert_sentences = SentenceWriter::new(&tx).map_err(sql)?;
            for name in remove.iter().map(String::as_str).chain(docs.iter().map(|d| d.name)) {
                // Passages, their vectors and sentences go with their
                // document (ON DELETE CASCADE).
                delete.execute([name]).map_err(sql)?;
            }
            let mut blob = Vec::with_capacity(dim * 4);
            for d in docs {
                let m = d.meta;
                let date = m.date.map(|x| x.to_string());
                insert_doc
                    .execute(params![
                        d.name,
                        d.source,
                        d.hash,
                        d.bytes as i64,
                        t,
                        d.metadata,
                        date,
                        m.source,
                        m.title,
                        m.url
                    ])
                    .map_err(sql)?;
                let doc_id = tx.last_insert_rowid();
                for p in &d.passages {
                    insert_passage
                        .execute(params![doc_id, p.ordinal as i64, p.start as i64, p.end as i64, p.windowed, p.text])
                        .map_err(sql)?;
                    let passage_id = tx.last_insert_rowid();
                    to_blob(p.vector, &mut blob);
                    insert_vector.execute(params![passage_id, blob]).map_err(sql)?;
                    if let Some(sentences) = &p.sentences {
                        insert_sentences.write(passage_id, sentences).map_err(sql)?;
                    }
                }
            }
        }
        let mut manifest = self.manifest.clone();
        manifest.generation += 1;
        manifest.updated_at = t;
        write_manifest(&tx, &manifest).map_err(sql)?;
        tx.commit().map_err(sql)?;
        self.manifest = manifest;
        Ok(())
    }

    /// Records new graph parameters (the caller rebuilds the graph).
    /// Sets stored documents' date, source, title and URL, in one
    /// transaction (their passages and vectors stay; the graph stays fresh).
    pub fn set_meta(&mut self, docs: &[(&str, &DocMeta)]) -> Result<(), StoreError> {
        if docs.is_empty() {
            return Ok(());
        }
        let path = self.db_path();
        let sql = |e| sql_error(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        {
            let mut update = tx
                .prepare("UPDATE documents SET date = ?2, outlet = ?3, title = ?4, url = ?5 WHERE name = ?1")
                .map_err(sql)?;
            for (name, m) in docs {
                let date = m.date.map(|d| d.to_string());
                update.execute(params![name, date, m.source, m.title, m.url]).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    pub fn set_params(&mut self, params: Params) -> Result<(), StoreError> {
        if params == self.manifest.params {
            return Ok(());
        }
        let path = self.db_path();
        let sql = |e| sql_error(&path, e);
        let mut manifest = self.manifest.clone();
        manifest.params = params;
        manifest.updated_at = now();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        write_manifest(&tx, &manifest).map_err(sql)?;
        tx.commit().map_err(sql)?;
        self.manifest = manifest;
        Ok(())
    }

    /// The saved graph, told fresh only if it matches the store's current
    /// generation, its `passages` count and its recorded parameters.
    pub fn saved_graph(&self, passages: usize) -> Result<SavedGraph, AnnError> {
        let params = self.manifest.params;
        let loaded = match Graph::load(&self.graph_path()) {
            Err(e @ AnnError::OldFormat { .. }) => return Ok(SavedGraph::Outdated(e.to_string())),
            other => other?,
        };
        Ok(match loaded {
            None => SavedGraph::Missing,
            Some((g, stamp))
                if stamp == self.stamp()
                    && g.len() == passages
                    && g.m == params.m
                    && g.ef_construction == params.ef_construction =>
            {
                SavedGraph::Fresh(g)
            }
            Some(_) => SavedGraph::Stale,
        })
    }

    /// Every stored passage with its document's name and its vector, in
    /// the canonical order (document name, then passage ordinal), handed
    /// to `each` in chunks of `chunk`: memory stays at one chunk whatever
    /// the index's size.
    pub fn each_passage<E: From<StoreError>>(
        &self,
        chunk: usize,
        each: &mut dyn FnMut(&[StoredPassage]) -> Result<(), E>,
    ) -> Result<usize, E> {
        let dim = self.manifest.dim;
        let path = self.db_path();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT d.name, p.ordinal, p.byte_start, p.byte_end, p.windowed, p.text, v.vector
                 FROM passages p JOIN documents d ON d.id = p.doc JOIN vectors v ON v.passage = p.id
                 ORDER BY d.name, p.ordinal",
            )
            .map_err(self.sql())?;
        let mut rows = stmt.query([]).map_err(self.sql())?;
        let mut batch: Vec<StoredPassage> = Vec::with_capacity(chunk.max(1));
        let mut total = 0;
        while let Some(r) = rows.next().map_err(self.sql())? {
            let document: String = r.get(0).map_err(self.sql())?;
            let passage = Passage {
                doc: 0,
                ordinal: r.get::<_, i64>(1).map_err(self.sql())? as usize,
                start: r.get::<_, i64>(2).map_err(self.sql())? as usize,
                end: r.get::<_, i64>(3).map_err(self.sql())? as usize,
                windowed: r.get(4).map_err(self.sql())?,
                text: r.get(5).map_err(self.sql())?,
            };
            let blob = r.get_ref(6).map_err(self.sql())?.as_blob().map_err(|e| sql_error(&path, e.into()))?;
            if let Some(why) = vector_damage(blob, dim) {
                let path = path.display().to_string();
                return Err(StoreError::DamagedVector { path, doc: document, ordinal: passage.ordinal, why }.into());
            }
            let vector = from_blob(blob);
            batch.push(StoredPassage { document, passage, vector });
            if batch.len() >= chunk.max(1) {
                total += batch.len();
                each(&batch)?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            total += batch.len();
            each(&batch)?;
        }
        Ok(total)
    }

    /// Every stored passage with its text and vector, in the canonical
    /// order (document name, then passage ordinal): row i of the vectors
    /// belongs to passage i. Graphs are built over this order, so the same
    /// passages always give the same rows. The stored sentences are left
    /// out (searches and the graph need none); analyses read them with
    /// `load_corpus_with_sentences`.
    pub fn load_corpus(&self) -> Result<Corpus, StoreError> {
        self.load(false)
    }

    /// `load_corpus` with the stored sentence vectors in
    /// `Corpus::sentences`, so that sentence units and the alignment
    /// inside overlapping passages embed only sentences the index does not
    /// store (none, once `motif index` has cut every passage).
    pub fn load_corpus_with_sentences(&self) -> Result<Corpus, StoreError> {
        self.load(true)
    }

    /// `load_corpus_with_sentences`, with the saved graph attached when
    /// the analyses would take the HNSW route over the passages (more than
    /// `index::EXACT_MAX_UNITS`) and the graph is fresh; a missing or stale
    /// graph is simply not attached (the analysis builds its own).
    pub fn load_corpus_for_analysis(&self) -> Result<Corpus, StoreError> {
        let mut corpus = self.load(true)?;
        let n = corpus.passages.len();
        if crate::index::Route::Auto.resolve(n) == crate::index::Route::Hnsw {
            if let Ok(SavedGraph::Fresh(g)) = self.saved_graph(n) {
                corpus.index_graph = Some(std::sync::Arc::new(g));
            }
        }
        Ok(corpus)
    }

    fn load(&self, with_sentences: bool) -> Result<Corpus, StoreError> {
        let dim = self.manifest.dim;
        let path = self.db_path();
        let (_, count) = self.counts()?;
        let mut documents: Vec<String> = Vec::new();
        let mut passages = Vec::with_capacity(count);
        let mut data: Vec<f32> = Vec::with_capacity(count * dim);
        self.each_passage(4096, &mut |batch: &[StoredPassage]| -> Result<(), StoreError> {
            for p in batch {
                if documents.last() != Some(&p.document) {
                    documents.push(p.document.clone());
                }
                passages.push(Passage { doc: documents.len() - 1, ..p.passage.clone() });
                data.extend_from_slice(&p.vector);
            }
            Ok(())
        })?;
        if passages.len() != count {
            return Err(StoreError::Corrupt {
                path: path.display().to_string(),
                why: format!("{count} passages but {} vectors", passages.len()),
            });
        }
        let vectors = Array2::from_shape_vec((passages.len(), dim), data).expect("dim values per passage");
        let sentences = match with_sentences {
            true => self.stored_sentences(&documents, &passages, vectors.view())?,
            false => SentenceVectors::new(dim),
        };
        let mut stored_meta = self.document_meta()?;
        let meta = documents.iter().map(|d| stored_meta.remove(d).unwrap_or_default()).collect();
        Corpus::new(documents, passages, vectors, self.manifest.model.clone())
            .map(|c| c.with_meta(meta).with_sentences(sentences))
            .map_err(|e| StoreError::Corrupt { path: path.display().to_string(), why: e.to_string() })
    }

    /// The stored sentence vectors of `passages` (in canonical order, as
    /// `load_corpus` reads them, `documents` naming their documents), by
    /// text; a one-sentence passage lends its own vector first, as
    /// `corpus::sentences::sentence_units` does. A stored vector that is
    /// damaged, or whose span is not in its passage, is left out (an
    /// analysis embeds that sentence again; `damaged` reports it).
    fn stored_sentences(
        &self,
        documents: &[String],
        passages: &[Passage],
        vectors: ndarray::ArrayView2<f32>,
    ) -> Result<SentenceVectors, StoreError> {
        let dim = self.manifest.dim;
        let mut known = SentenceVectors::new(dim);
        sentences::lend_passage_vectors(passages, vectors, &mut known, 0..passages.len());
        if self.manifest.format_version < 4 {
            return Ok(known);
        }
        let path = self.db_path();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT d.name, p.ordinal, s.byte_start, s.byte_end, s.vector
                 FROM sentences s JOIN passages p ON p.id = s.passage JOIN documents d ON d.id = p.doc
                 WHERE s.vector IS NOT NULL ORDER BY d.name, p.ordinal, s.ordinal",
            )
            .map_err(self.sql())?;
        let mut rows = stmt.query([]).map_err(self.sql())?;
        // Both in canonical order: walk the passages alongside.
        let mut at = 0;
        while let Some(r) = rows.next().map_err(self.sql())? {
            let doc: String = r.get(0).map_err(self.sql())?;
            let ordinal = r.get::<_, i64>(1).map_err(self.sql())? as usize;
            let key = |i: usize| (documents[passages[i].doc].as_str(), passages[i].ordinal);
            while at < passages.len() && key(at) < (doc.as_str(), ordinal) {
                at += 1;
            }
            if at == passages.len() {
                break;
            }
            if key(at) != (doc.as_str(), ordinal) {
                continue;
            }
            let span =
                (r.get::<_, i64>(2).map_err(self.sql())? as usize, r.get::<_, i64>(3).map_err(self.sql())? as usize);
            let blob = r.get_ref(4).map_err(self.sql())?.as_blob().map_err(|e| sql_error(&path, e.into()))?;
            let text = passages[at].slice(span);
            if !text.is_empty() && vector_damage(blob, dim).is_none() {
                known.insert(text, &from_blob(blob));
            }
        }
        Ok(known)
    }

    /// How many stored passages have no stored sentences yet.
    pub fn uncut_count(&self) -> Result<usize, StoreError> {
        let sql = if self.manifest.format_version < 4 {
            "SELECT count(*) FROM passages"
        } else {
            "SELECT count(*) FROM passages p WHERE NOT EXISTS (SELECT 1 FROM sentences s WHERE s.passage = p.id)"
        };
        let n: i64 = self.conn.query_row(sql, [], |r| r.get(0)).map_err(self.sql())?;
        Ok(n as usize)
    }

    /// Up to `limit` stored passages with no stored sentences yet, by row
    /// id, those after row `after` only (to page through them).
    pub fn uncut_passages(&self, after: i64, limit: usize) -> Result<Vec<UncutPassage>, StoreError> {
        let uncut = if self.manifest.format_version < 4 {
            ""
        } else {
            "AND NOT EXISTS (SELECT 1 FROM sentences s WHERE s.passage = p.id)"
        };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT p.id, p.ordinal, p.byte_start, p.byte_end, p.windowed, p.text FROM passages p
                 WHERE p.id > ?1 {uncut} ORDER BY p.id LIMIT ?2"
            ))
            .map_err(self.sql())?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| {
                Ok(UncutPassage {
                    id: r.get(0)?,
                    passage: Passage {
                        doc: 0,
                        ordinal: r.get::<_, i64>(1)? as usize,
                        start: r.get::<_, i64>(2)? as usize,
                        end: r.get::<_, i64>(3)? as usize,
                        windowed: r.get(4)?,
                        text: r.get(5)?,
                    },
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.sql())
    }

    /// Stores the sentences of passages already stored (by row id, as
    /// `uncut_passages` gives them), in one transaction, replacing any
    /// they have. The passages and their vectors do not change, so neither
    /// does the generation: the graph stays fresh.
    pub fn add_sentences(&mut self, passages: &[(i64, Vec<NewSentence>)]) -> Result<(), StoreError> {
        if passages.is_empty() {
            return Ok(());
        }
        let dim = self.manifest.dim;
        for v in passages.iter().flat_map(|(_, s)| s).filter_map(|s| s.vector) {
            check_vector(v, dim)?;
        }
        let path = self.db_path();
        let sql = |e| sql_error(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        {
            let mut clear = tx.prepare("DELETE FROM sentences WHERE passage = ?1").map_err(sql)?;
            let mut insert = SentenceWriter::new(&tx).map_err(sql)?;
            for (id, sentences) in passages {
                clear.execute([id]).map_err(sql)?;
                insert.write(*id, sentences).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    /// Bytes the index takes on disk (every file in its directory).
    pub fn disk_bytes(&self) -> u64 {
        fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Every passage whose stored vector, or one of whose stored sentence
    /// vectors, is damaged (wrong size, not finite, or not unit length), in
    /// canonical order.
    pub fn damaged(&self) -> Result<Vec<Damage>, StoreError> {
        let dim = self.manifest.dim;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT d.name, p.ordinal, v.vector FROM passages p JOIN documents d ON d.id = p.doc
                 LEFT JOIN vectors v ON v.passage = p.id ORDER BY d.name, p.ordinal",
            )
            .map_err(self.sql())?;
        let mut rows = stmt.query([]).map_err(self.sql())?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(self.sql())? {
            let why = match r.get_ref(2).map_err(self.sql())? {
                rusqlite::types::ValueRef::Blob(b) => vector_damage(b, dim),
                rusqlite::types::ValueRef::Null => Some("no vector".into()),
                _ => Some("not a vector".into()),
            };
            if let Some(why) = why {
                out.push(Damage {
                    doc: r.get(0).map_err(self.sql())?,
                    ordinal: r.get::<_, i64>(1).map_err(self.sql())? as usize,
                    why,
                });
            }
        }
        if self.manifest.format_version >= 4 {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT d.name, p.ordinal, s.ordinal, s.vector FROM sentences s
                     JOIN passages p ON p.id = s.passage JOIN documents d ON d.id = p.doc
                     WHERE s.vector IS NOT NULL ORDER BY d.name, p.ordinal, s.ordinal",
                )
                .map_err(self.sql())?;
            let mut rows = stmt.query([]).map_err(self.sql())?;
            while let Some(r) = rows.next().map_err(self.sql())? {
                let why = match r.get_ref(3).map_err(self.sql())? {
                    rusqlite::types::ValueRef::Blob(b) => vector_damage(b, dim),
                    _ => Some("not a vector".into()),
                };
                if let Some(why) = why {
                    let sentence: i64 = r.get(2).map_err(self.sql())?;
                    out.push(Damage {
                        doc: r.get(0).map_err(self.sql())?,
                        ordinal: r.get::<_, i64>(1).map_err(self.sql())? as usize,
                        why: format!("sentence {sentence}: {why}"),
                    });
                }
            }
            // Stable: a passage's own damage before its sentences'.
            out.sort_by(|a, b| (&a.doc, a.ordinal).cmp(&(&b.doc, b.ordinal)));
        }
        Ok(out)
    }

    /// SQLite's own consistency check (`PRAGMA quick_check`).
    pub fn quick_check(&self) -> Result<(), StoreError> {
        let result: String = self.conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(self.sql())?;
        if result != "ok" {
            return Err(StoreError::Corrupt { path: self.db_path().display().to_string(), why: result });
        }
        Ok(())
    }
}

/// Graph files half-written by a writer that was killed: only the writer
/// (who holds the lock now) writes them, so none is in progress.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        if entry.file_name().to_string_lossy().starts_with("graph.tmp-") {
            // Best effort: a leftover that cannot be removed harms nothing.
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// A read-only connection holding one read transaction for the store's
/// life, so every query sees the same snapshot whatever a writer commits
/// meanwhile. `immutable` opens the file without its WAL side files.
fn open_snapshot(path: &Path, immutable: bool) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = if immutable {
        let uri = format!("file:{}?immutable=1", uri_path(path));
        Connection::open_with_flags(uri, flags)?
    } else {
        Connection::open_with_flags(path, flags - OpenFlags::SQLITE_OPEN_URI)?
    };
    conn.execute_batch("BEGIN")?;
    // The first read is what needs the shared-memory file.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
    Ok(conn)
}

/// A path as a `file:` URI path (percent-encoding what URIs reserve).
fn uri_path(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for b in abs.to_string_lossy().bytes() {
        match b {
            b'?' | b'#' | b'%' | 0x80.. => out.push_str(&format!("%{b:02X}")),
            _ => out.push(b as char),
        }
    }
    out
}

/// True when the database holds no tables at all: new, or a creation that
/// was interrupted before its first commit.
fn is_blank(conn: &Connection, path: &Path) -> Result<bool, StoreError> {
    let n: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(|e| sql_error(path, e))?;
    Ok(n == 0)
}

fn sql_error(path: &Path, e: rusqlite::Error) -> StoreError {
    let shown = path.display().to_string();
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        use rusqlite::ErrorCode::*;
        if matches!(f.code, NotADatabase | DatabaseCorrupt) {
            return StoreError::Corrupt { path: shown, why: e.to_string() };
        }
    }
    StoreError::Sqlite { path: shown, source: e }
}

const MANIFEST_KEYS: &[&str] = &[
    "format_version",
    "model",
    "model_fingerprint",
    "dim",
    "split",
    "hnsw_m",
    "hnsw_ef_construction",
    "hnsw_ef_search",
    "created_at",
    "updated_at",
    "generation",
    "index_id",
];

fn write_manifest(conn: &Connection, m: &Manifest) -> rusqlite::Result<()> {
    let values = [
        m.format_version.to_string(),
        m.model.clone(),
        m.model_fingerprint.clone(),
        m.dim.to_string(),
        m.split.clone(),
        m.params.m.to_string(),
        m.params.ef_construction.to_string(),
        m.params.ef_search.to_string(),
        m.created_at.to_string(),
        m.updated_at.to_string(),
        m.generation.to_string(),
        m.index_id.clone(),
    ];
    let mut stmt = conn.prepare("INSERT OR REPLACE INTO manifest (key, value) VALUES (?1, ?2)")?;
    for (k, v) in MANIFEST_KEYS.iter().zip(values) {
        stmt.execute(params![k, v])?;
    }
    Ok(())
}

/// Brings a store of an older format up to this one, in one transaction.
/// Format 1 → 2: documents gain their `metadata` column; 2 → 3: their
/// `date`, `outlet`, `title` and `url` (none for the documents already
/// stored: re-index them to read those); 3 → 4: the `sentences` table,
/// empty (the next `motif index` cuts and embeds the stored passages); 4 →
/// 5: the sentences gain their claims (`claim_of`): the stored rows are
/// dropped, so the next `motif index` cuts each passage's sentences and
/// claims once, and readers meanwhile embed them in memory.
fn upgrade(conn: &mut Connection, manifest: &mut Manifest) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if manifest.format_version < 2 {
        tx.execute_batch("ALTER TABLE documents ADD COLUMN metadata TEXT")?;
    }
    if manifest.format_version < 3 {
        tx.execute_batch(
            "ALTER TABLE documents ADD COLUMN date TEXT; ALTER TABLE documents ADD COLUMN outlet TEXT;
             ALTER TABLE documents ADD COLUMN title TEXT; ALTER TABLE documents ADD COLUMN url TEXT;",
        )?;
    }
    if manifest.format_version < 4 {
        tx.execute_batch(SENTENCES_TABLE)?;
    } else if manifest.format_version < 5 {
        tx.execute_batch("ALTER TABLE sentences ADD COLUMN claim_of INTEGER; DELETE FROM sentences;")?;
    }
    let mut upgraded = manifest.clone();
    upgraded.format_version = FORMAT_VERSION;
    write_manifest(&tx, &upgraded)?;
    tx.commit()?;
    *manifest = upgraded;
    Ok(())
}

fn read_manifest(conn: &Connection, path: &Path) -> Result<Manifest, StoreError> {
    let shown = path.display().to_string();
    let corrupt = |why: String| StoreError::Corrupt { path: shown.clone(), why };
    let has_table: Option<String> = conn
        .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'manifest'", [], |r| r.get(0))
        .optional()
        .map_err(|e| sql_error(path, e))?;
    if has_table.is_none() {
        return Err(corrupt("no manifest table: not a motif index".into()));
    }
    let get = |key: &str| -> Result<String, StoreError> {
        conn.query_row("SELECT value FROM manifest WHERE key = ?1", [key], |r| r.get::<_, String>(0))
            .optional()
            .map_err(|e| sql_error(path, e))?
            .ok_or_else(|| corrupt(format!("manifest has no {key}")))
    };
    fn num<T: std::str::FromStr>(
        key: &str,
        s: String,
        corrupt: &dyn Fn(String) -> StoreError,
    ) -> Result<T, StoreError> {
        s.parse().map_err(|_| corrupt(format!("manifest {key} is not a number: {s:?}")))
    }
    // The version first: a newer layout may have changed everything else.
    let format_version: u32 = num("format_version", get("format_version")?, &corrupt)?;
    if format_version > FORMAT_VERSION {
        return Err(StoreError::FutureFormat { path: shown.clone(), found: format_version, supported: FORMAT_VERSION });
    }
    for table in ["documents", "passages", "vectors"] {
        let found: Option<String> = conn
            .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |r| r.get(0))
            .optional()
            .map_err(|e| sql_error(path, e))?;
        if found.is_none() {
            return Err(corrupt(format!("no {table} table")));
        }
    }
    Ok(Manifest {
        format_version,
        model: get("model")?,
        model_fingerprint: get("model_fingerprint")?,
        dim: num("dim", get("dim")?, &corrupt)?,
        split: get("split")?,
        params: Params {
            m: num("hnsw_m", get("hnsw_m")?, &corrupt)?,
            ef_construction: num("hnsw_ef_construction", get("hnsw_ef_construction")?, &corrupt)?,
            ef_search: num("hnsw_ef_search", get("hnsw_ef_search")?, &corrupt)?,
        },
        created_at: num("created_at", get("created_at")?, &corrupt)?,
        updated_at: num("updated_at", get("updated_at")?, &corrupt)?,
        generation: num("generation", get("generation")?, &corrupt)?,
        index_id: get("index_id")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_index() -> NewIndex {
        NewIndex {
            model: "m".into(),
            model_fingerprint: "f".repeat(64),
            dim: 3,
            split: "paragraph".into(),
            params: Params::default(),
        }
    }

    fn doc<'a>(name: &'a str, hash: &'a str, vectors: &'a [[f32; 3]]) -> NewDoc<'a> {
        NewDoc {
            name,
            source: None,
            hash,
            bytes: 10,
            metadata: None,
            meta: &DocMeta::EMPTY,
            passages: vectors
                .iter()
                .enumerate()
                .map(|(i, v)| NewPassage {
                    ordinal: i,
                    start: i * 2,
                    end: i * 2 + 1,
                    windowed: false,
                    text: "t",
                    vector: v,
                    sentences: Some(vec![NewSentence { start: i * 2, end: i * 2 + 1, vector: None, claim_of: None }]),
                })
                .collect(),
        }
    }

    mod sentences {
        use super::*;
        use crate::corpus::sentences::passage_sentences;
        use crate::corpus::{ReadDocuments, UnitKind};
        use crate::embed::{Embedder, HashEmbedder};
        use crate::store::update::{self, Vectors};
        use std::collections::HashSet;

        const DIM: usize = 16;

        fn index() -> NewIndex {
            NewIndex { dim: DIM, ..new_index() }
        }

        /// Brings the store up to date with `docs` (one passage each) as
        /// `motif index` does, embedding with the hashing embedder.
        fn index_docs(store: &mut Store, docs: &[(&str, &str)], prune: bool) -> update::Applied {
            let read = ReadDocuments::one_passage_each(docs);
            let sources: Vec<Option<String>> = docs.iter().map(|(n, _)| Some(format!("/x/{n}"))).collect();
            let whole: HashSet<String> = sources.iter().flatten().cloned().collect();
            let plan = update::plan(
                &read,
                &sources,
                &whole,
                &store.documents().unwrap(),
                prune,
                &|_| update::SourceState::Gone,
                &HashSet::new(),
            );
            let embedder = HashEmbedder::new(DIM);
            update::apply(store, &read, &sources, &plan, Vectors::Embed(&embedder), 2, &mut |_| {}).unwrap()
        }

        fn sentence_rows(store: &Store) -> (i64, i64, i64) {
            store
                .conn
                .query_row(
                    "SELECT count(*), count(vector), (SELECT count(*) FROM sentences WHERE passage NOT IN (SELECT id FROM passages)) FROM sentences",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap()
        }

        const A: &str = "Troops crossed the river at dawn. Officials confirmed it later.";
        const B: &str = "The harvest festival drew farmers.";
        const C: &str = "Markets fell sharply. Investors fled to bonds. Gold rose.";

        #[test]
        fn stored_sentence_vectors_equal_a_fresh_embedding_and_nothing_is_embedded_again() {
            let dir = tempfile::tempdir().unwrap();
            let (mut store, _) = Store::open_write(&dir.path().join("idx"), &index()).unwrap();
            let done = index_docs(&mut store, &[("a", A), ("b", B), ("c", C)], false);
            // b is one sentence: it shares its passage's vector.
            assert_eq!(done, update::Applied { passages: 3, sentences: 5 });
            assert_eq!(sentence_rows(&store), (6, 5, 0));
            let corpus = store.load_corpus_with_sentences().unwrap();
            let embedder = HashEmbedder::new(DIM);
            for p in &corpus.passages {
                let cut = passage_sentences(p);
                let texts: Vec<&str> = cut.iter().map(|&r| p.slice(r)).collect();
                let fresh = embedder.embed(&texts, &mut |_| {}).unwrap();
                for (i, t) in texts.iter().enumerate() {
                    assert_eq!(corpus.sentences.get(t), fresh.row(i).to_vec().as_slice(), "{t}");
                }
            }
            let units = corpus.units(UnitKind::Sentence, &embedder, &mut |_| {}).unwrap();
            assert_eq!((units.len(), units.embedded), (6, 0));
            // The same units as cutting and embedding the documents now.
            let read = ReadDocuments::one_passage_each(&[("a", A), ("b", B), ("c", C)]);
            let now = crate::corpus::Corpus::embed(read, &embedder, &mut |_| {}).unwrap();
            let fresh = now.units(UnitKind::Sentence, &embedder, &mut |_| {}).unwrap();
            assert_eq!(fresh.embedded, 5);
            assert_eq!((fresh.list, fresh.texts, fresh.vectors), (units.list, units.texts, units.vectors));
        }

        #[test]
        fn sentences_of_replaced_and_removed_documents_go_away() {
            let dir = tempfile::tempdir().unwrap();
            let (mut store, _) = Store::open_write(&dir.path().join("idx"), &index()).unwrap();
            index_docs(&mut store, &[("a", A), ("b", B), ("c", C)], false);
            assert_eq!(sentence_rows(&store).0, 6);
            // a replaced by one sentence, c gone (pruned), b kept.
            index_docs(&mut store, &[("a", "Now a single sentence."), ("b", B)], true);
            assert_eq!(store.counts().unwrap(), (2, 2));
            assert_eq!(sentence_rows(&store), (2, 0, 0));
            let corpus = store.load_corpus_with_sentences().unwrap();
            assert!(!corpus.sentences.contains("Markets fell sharply.") && !corpus.sentences.contains("Gold rose."));
            assert!(!corpus.sentences.contains("Officials confirmed it later."));
        }

        const D: &str = "While the exact number remains unclear, officials estimate that 3,000 soldiers have been \
                         deployed, with the potential for this number to reach 10,000 by December. Gold rose.";

        fn claim_rows(store: &Store) -> Vec<(i64, i64, i64)> {
            let mut stmt = store
                .conn
                .prepare(
                    "SELECT byte_start, byte_end, claim_of FROM sentences WHERE claim_of IS NOT NULL ORDER BY ordinal",
                )
                .unwrap();
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
            rows.map(Result::unwrap).collect()
        }

        /// Claims are stored with their sentences, so that claim-level
        /// overlaps on an index embed nothing; a format-4 index (sentences
        /// without claims) is cut again, claims included, by the next run.
        #[test]
        fn claims_are_stored_with_their_sentences_and_a_format_4_index_gets_them() {
            let dir = tempfile::tempdir().unwrap();
            let idx = dir.path().join("idx");
            let (mut store, _) = Store::open_write(&idx, &index()).unwrap();
            let done = index_docs(&mut store, &[("d", D)], false);
            let claims = claim_rows(&store);
            let texts: Vec<&str> = claims.iter().map(|&(s, e, _)| &D[s as usize..e as usize]).collect();
            assert_eq!(
                texts,
                vec![
                    "While the exact number remains unclear",
                    "officials estimate that 3,000 soldiers have been deployed",
                    "the potential for this number to reach 10,000 by December",
                ]
            );
            assert!(claims.iter().all(|c| c.2 == 0), "all inside the first sentence");
            // Two sentences and three claims, each embedded once.
            assert_eq!(done, update::Applied { passages: 1, sentences: 5 });
            let corpus = store.load_corpus_with_sentences().unwrap();
            assert!(texts.iter().all(|t| corpus.sentences.contains(t)));
            drop(store);
            // As motif before claims wrote it.
            let conn = Connection::open(idx.join(DB_FILE)).unwrap();
            conn.execute_batch(
                "DELETE FROM sentences WHERE claim_of IS NOT NULL; ALTER TABLE sentences DROP COLUMN claim_of;
                 UPDATE manifest SET value = '4' WHERE key = 'format_version'",
            )
            .unwrap();
            drop(conn);
            let reader = Store::open_read(&idx).unwrap();
            assert_eq!(reader.manifest().format_version, 4);
            let corpus = reader.load_corpus_with_sentences().unwrap();
            assert!(corpus.sentences.contains("Gold rose.") && !corpus.sentences.contains(texts[1]));
            drop(reader);
            let (mut store, _) = Store::open_write(&idx, &index()).unwrap();
            assert_eq!((store.manifest().format_version, store.uncut_count().unwrap()), (FORMAT_VERSION, 1));
            let cut = update::cut_stored(&mut store, &HashEmbedder::new(DIM), 10, &mut |_| {}).unwrap();
            assert_eq!(cut, update::Cut { passages: 1, sentences: 5 });
            assert_eq!(claim_rows(&store), claims);
        }

        #[test]
        fn a_format_3_index_is_upgraded_and_its_passages_get_their_sentences_on_the_next_index() {
            let dir = tempfile::tempdir().unwrap();
            let idx = dir.path().join("idx");
            let (mut store, _) = Store::open_write(&idx, &index()).unwrap();
            index_docs(&mut store, &[("a", A), ("b", B)], false);
            let before = store.load_corpus_with_sentences().unwrap();
            drop(store);
            // Make it a format-3 store, as motif before sentences wrote it.
            let conn = Connection::open(idx.join(DB_FILE)).unwrap();
            conn.execute_batch("DROP TABLE sentences; UPDATE manifest SET value = '3' WHERE key = 'format_version'")
                .unwrap();
            drop(conn);
            let embedder = HashEmbedder::new(DIM);
            // A reader reads it as it is, and embeds what it does not store.
            let reader = Store::open_read(&idx).unwrap();
            assert_eq!(reader.manifest().format_version, 3);
            let corpus = reader.load_corpus_with_sentences().unwrap();
            assert_eq!(corpus.vectors, before.vectors);
            assert_eq!(corpus.units(UnitKind::Sentence, &embedder, &mut |_| {}).unwrap().embedded, 2);
            drop(reader);
            // A writer upgrades it: data kept, the table added, no passage cut yet.
            let (mut store, _) = Store::open_write(&idx, &index()).unwrap();
            let generation = store.manifest().generation;
            assert_eq!(store.manifest().format_version, FORMAT_VERSION);
            assert_eq!(store.counts().unwrap(), (2, 2));
            assert_eq!((store.uncut_count().unwrap(), sentence_rows(&store).0), (2, 0));
            // The next index run: nothing changed in the documents, so
            // only the stored passages' sentences are embedded.
            assert_eq!(index_docs(&mut store, &[("a", A), ("b", B)], false), update::Applied::default());
            let cut = update::cut_stored(&mut store, &embedder, 1, &mut |_| {}).unwrap();
            assert_eq!(cut, update::Cut { passages: 2, sentences: 2 });
            assert_eq!((store.uncut_count().unwrap(), sentence_rows(&store)), (0, (3, 2, 0)));
            // The passages and the graph's generation stay.
            assert_eq!(store.manifest().generation, generation);
            let after = store.load_corpus_with_sentences().unwrap();
            assert_eq!((&after.passages, &after.vectors), (&before.passages, &before.vectors));
            assert_eq!(after.units(UnitKind::Sentence, &embedder, &mut |_| {}).unwrap().embedded, 0);
            assert!(store.damaged().unwrap().is_empty());
            // Nothing left to cut: a second pass embeds nothing.
            assert_eq!(update::cut_stored(&mut store, &embedder, 1, &mut |_| {}).unwrap(), update::Cut::default());
        }

        #[test]
        fn given_vectors_without_a_model_leave_passages_uncut_and_a_damaged_sentence_is_reported() {
            let dir = tempfile::tempdir().unwrap();
            let (mut store, _) = Store::open_write(&dir.path().join("idx"), &index()).unwrap();
            let read = ReadDocuments::one_passage_each(&[("a", A)]);
            let embedder = HashEmbedder::new(DIM);
            let given = embedder.embed(&[A], &mut |_| {}).unwrap();
            let plan = update::plan(
                &read,
                &[None],
                &HashSet::new(),
                &[],
                false,
                &|_| update::SourceState::Present,
                &HashSet::new(),
            );
            let done =
                update::apply(&mut store, &read, &[None], &plan, Vectors::Given(&given, None), 8, &mut |_| {}).unwrap();
            assert_eq!(done, update::Applied { passages: 1, sentences: 0 });
            assert_eq!(store.uncut_count().unwrap(), 1);
            update::cut_stored(&mut store, &embedder, 8, &mut |_| {}).unwrap();
            assert_eq!(store.uncut_count().unwrap(), 0);
            store.conn.execute("UPDATE sentences SET vector = zeroblob(64) WHERE ordinal = 1", []).unwrap();
            let damage = store.damaged().unwrap();
            assert_eq!(damage.len(), 1);
            assert!(damage[0].why.starts_with("sentence 1: "), "{}", damage[0].why);
            // A reader leaves the damaged vector out and embeds that sentence again.
            let units =
                store.load_corpus_with_sentences().unwrap().units(UnitKind::Sentence, &embedder, &mut |_| {}).unwrap();
            assert_eq!(units.embedded, 1);
        }
    }

    #[test]
    fn write_replace_remove_and_read_back_in_canonical_order() {
        let dir = tempfile::tempdir().unwrap();
        let idx = dir.path().join("idx");
        let (mut store, created) = Store::open_write(&idx, &new_index()).unwrap();
        assert!(created);
        let v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        store.write(&[doc("b", "h1", &v), doc("a", "h2", &v[..1])], &[]).unwrap();
        assert_eq!(store.manifest().generation, 1);
        let c = store.load_corpus_with_sentences().unwrap();
        let keys: Vec<_> = c.passages.iter().map(|p| (c.documents[p.doc].as_str(), p.ordinal)).collect();
        assert_eq!(keys, vec![("a", 0), ("b", 0), ("b", 1)]);
        assert_eq!(c.vectors.row(2).to_vec(), vec![0.0, 1.0, 0.0]);
        assert_eq!((c.passages[2].start, c.passages[2].text.as_str()), (2, "t"));
        store.write(&[doc("b", "h3", &v[1..])], &["a".to_string()]).unwrap();
        assert_eq!(store.counts().unwrap(), (1, 1));
        let docs = store.documents().unwrap();
        assert_eq!((docs[0].name.as_str(), docs[0].hash.as_str(), docs[0].passages), ("b", "h3", 1));
        drop(store);

        // A reader sees the same, and a second writer is refused while one runs.
        let reader = Store::open_read(&idx).unwrap();
        assert_eq!(reader.manifest().generation, 2);
        let (_writer, created) = Store::open_write(&idx, &new_index()).unwrap();
        assert!(!created);
        assert!(matches!(Store::open_write(&idx, &new_index()), Err(StoreError::Locked { .. })));
        assert!(reader.check_model("other", &"0".repeat(64), 3).is_err());
        reader.check_model("m", &"f".repeat(64), 3).unwrap();
    }

    #[test]
    fn bad_directories_and_databases_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Store::open_read(dir.path()), Err(StoreError::NotAnIndex { .. })));
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        assert!(matches!(Store::open_write(dir.path(), &new_index()), Err(StoreError::ForeignDirectory { .. })));
        assert!(!dir.path().join(LOCK_FILE).exists());

        let garbage = tempfile::tempdir().unwrap();
        let db = garbage.path().join(DB_FILE);
        let junk = b"this is not a database, just some bytes that happen to be here....".repeat(100);
        fs::write(&db, &junk).unwrap();
        let err = Store::open_read(garbage.path()).err().unwrap();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        let err = Store::open_write(garbage.path(), &new_index()).err().unwrap();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert_eq!(fs::read(&db).unwrap(), junk);
    }

    #[test]
    fn format_1_is_read_as_it_is_and_upgraded_by_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let idx = dir.path().join("idx");
        let (mut store, _) = Store::open_write(&idx, &new_index()).unwrap();
        let v = [[1.0, 0.0, 0.0]];
        let mut d = doc("a", "h", &v);
        d.metadata = Some("{\"source\":\"x\"}");
        let meta = DocMeta {
            date: Dated::parse("2024-03-01"),
            source: Some("Herald".into()),
            title: Some("T".into()),
            url: Some("https://example.org/a".into()),
        };
        d.meta = &meta;
        store.write(&[d], &[]).unwrap();
        assert_eq!(store.documents().unwrap()[0].metadata.as_deref(), Some("{\"source\":\"x\"}"));
        assert_eq!(store.documents().unwrap()[0].meta, meta);
        assert_eq!(store.load_corpus_with_sentences().unwrap().meta, vec![meta.clone()]);
        drop(store);
        // Make it a format-1 store, as an older motif wrote it.
        let conn = Connection::open(idx.join(DB_FILE)).unwrap();
        conn.execute_batch(
            "ALTER TABLE documents DROP COLUMN metadata; ALTER TABLE documents DROP COLUMN date;
             ALTER TABLE documents DROP COLUMN outlet; ALTER TABLE documents DROP COLUMN title;
             ALTER TABLE documents DROP COLUMN url; DROP TABLE sentences;
             UPDATE manifest SET value = '1' WHERE key = 'format_version'",
        )
        .unwrap();
        drop(conn);
        let reader = Store::open_read(&idx).unwrap();
        assert_eq!(reader.manifest().format_version, 1);
        assert_eq!(reader.documents().unwrap()[0].metadata, None);
        assert_eq!(reader.documents().unwrap()[0].meta, DocMeta::default());
        assert_eq!(reader.load_corpus_with_sentences().unwrap().passages.len(), 1);
        drop(reader);
        let (writer, _) = Store::open_write(&idx, &new_index()).unwrap();
        assert_eq!(writer.manifest().format_version, FORMAT_VERSION);
        assert_eq!(writer.documents().unwrap()[0].name, "a");
        let mut writer = writer;
        let mut d = doc("b", "h2", &v);
        d.meta = &meta;
        writer.write(&[d], &[]).unwrap();
        assert_eq!(writer.documents().unwrap()[1].meta, meta);
        drop(writer);
        assert_eq!(Store::open_read(&idx).unwrap().manifest().format_version, FORMAT_VERSION);
    }
}
