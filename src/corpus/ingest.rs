//! Reading documents: paths, folders, globs and stdin, in the formats motif
//! understands, decoded and checked, each with a content hash.
//!
//! A `Document`'s `text` is the text as motif read it (UTF-8, byte-order mark
//! removed; for HTML, the readable text of the parsed page, see
//! `html_to_text`); every byte offset motif reports points into that text.
//! Bad inputs (missing, binary, UTF-16, not UTF-8, too large, broken links,
//! unreadable folders) are errors that name the file;
//! `IngestOptions::skip_bad` turns them into `Skipped` entries so a large run
//! can go on.
//!
//! Reading is bounded: files are read in chunks, checked as they come (a
//! NUL byte stops at once, so `/dev/zero` costs one chunk), and one
//! document holds at most `IngestOptions::max_document_bytes`. Named pipes
//! and devices are read only when named (a pipe that no program writes to
//! is given up after `PIPE_WAIT`). Folder walks follow symbolic links (a
//! loop back to a folder being walked is noted and not followed), read
//! regular files with a text extension, and leave out hidden entries and
//! motif's own outputs (index folders, exports, reports, `motif embed`
//! tables), which are read only when named. A file reached twice (under
//! two spellings, or through a link) is read once, under the name it was
//! first given.

use crate::corpus::meta::{self, Dated, DocMeta, MetaFields, Problems};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

mod records;

/// One document as read.
#[derive(Debug, Clone)]
pub struct Document {
    /// The name motif shows: the path as the user gave it (joined with the
    /// path inside a folder), `-` for stdin, `FILE:ID` for a JSONL record.
    pub id: String,
    /// The file it came from, when it came from one.
    pub source: Option<PathBuf>,
    pub text: String,
    /// Hex SHA-256 of `text`, so re-indexing can tell changed documents.
    pub hash: String,
    /// Length of the text in bytes (also for documents imported as
    /// passages, whose whole text motif never sees).
    pub bytes: usize,
    /// Fields read with it (from a record's other columns), as a JSON object.
    pub metadata: Option<String>,
    /// Its date, source, title and URL, where it gives them.
    pub meta: DocMeta,
}

impl Document {
    pub fn new(id: impl Into<String>, source: Option<PathBuf>, text: String) -> Self {
        let hash = sha256_hex(text.as_bytes());
        Document { id: id.into(), source, bytes: text.len(), text, hash, metadata: None, meta: DocMeta::default() }
    }
}

/// Hex SHA-256 of `bytes`, as `sha256sum` writes it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`, two digits a byte: the one hex writer, also
/// for digests hashed elsewhere as a stream (`model`).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// A name as messages show it: control characters (a newline, a terminal
/// escape) and the invisible direction overrides written as escapes, so
/// that a file name can neither break a message's line nor drive the
/// terminal; `''` for the empty name.
pub fn shown(name: &str) -> Cow<'_, str> {
    let hostile = |c: char| {
        c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if name.is_empty() {
        return Cow::Borrowed("''");
    }
    if !name.chars().any(hostile) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if hostile(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path as a document's name: as it is when it is UTF-8; else with each
/// byte that is not written `\xNN`, so that two names that differ only
/// there stay two names.
pub fn path_name(path: &Path) -> String {
    if let Some(s) = path.to_str() {
        return s.to_string();
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut out = String::new();
        for chunk in path.as_os_str().as_bytes().utf8_chunks() {
            out.push_str(chunk.valid());
            for b in chunk.invalid() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
        out
    }
    #[cfg(not(unix))]
    path.to_string_lossy().into_owned()
}

/// Sizes as people read them: `512 B`, `64 MiB`, `1.5 GiB`.
pub fn human_bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < units.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else if x.fract() == 0.0 {
        format!("{x:.0} {}", units[u])
    } else {
        format!("{x:.1} {}", units[u])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{}: no such file or directory", shown(.path))]
    Missing { path: String },
    #[error("{}: cannot read: {error}", shown(.path))]
    Io { path: String, error: std::io::Error },
    #[error("{}: looks like a binary file (a NUL byte at offset {offset}); motif reads text", shown(.path))]
    Binary { path: String, offset: u64 },
    #[error("{}: {encoding} text, not UTF-8; convert it first, e.g. iconv -f {iconv} -t UTF-8 {} > {}", shown(.path), shell_word(.path), shell_word(&converted_name(.path)))]
    Encoding { path: String, encoding: &'static str, iconv: &'static str },
    #[error("{}: {what}, not text; {hint}", shown(.path))]
    NotText { path: String, what: &'static str, hint: &'static str },
    #[error("{}: not valid UTF-8 (first bad byte at offset {offset}); convert it to UTF-8 first, e.g. with iconv", shown(.path))]
    NotUtf8 { path: String, offset: u64 },
    #[error("{}: {}, over the limit of {} for one document; split it, or raise the limit with --max-document-bytes", shown(.path), size_text(.size, .limit), limit_text(.limit))]
    TooLarge { path: String, size: Option<u64>, limit: u64 },
    #[error("{}: symbolic link loop (following it never reaches a file); fix or remove the link", shown(.path))]
    LinkLoop { path: String },
    #[error("{}: broken symbolic link (to {}, which does not exist); fix or remove the link", shown(.path), shown(.target))]
    BrokenLink { path: String, target: String },
    #[error("{}: {kind}, not a file; motif reads files, folders, glob patterns and - (stdin)", shown(.path))]
    NotAFile { path: String, kind: &'static str },
    #[error("{}: a named pipe that no program opened for writing within {} s; start the writer first, or pipe into `-`", shown(.path), PIPE_WAIT.as_secs())]
    PipeWithoutWriter { path: String },
    #[error("{}: a file, not a folder; name it without the trailing /", shown(.path))]
    NotAFolder { path: String },
    #[error("{}: no text files found (looked for {exts})", shown(.path))]
    EmptyDir { path: String, exts: String },
    #[error("{}: holds only motif's own outputs ({what}), which folders never read; name the files to read them", shown(.path))]
    OnlyOutputs { path: String, what: String },
    #[error("{}: no file matches this pattern", shown(.pattern))]
    NoMatch { pattern: String },
    #[error("{}: bad glob pattern: {message}", shown(.pattern))]
    BadGlob { pattern: String, message: String },
    #[error("{}:{line}: {}", shown(.path), shown(.message))]
    BadRecord { path: String, line: usize, message: String },
    #[error(transparent)]
    Table(crate::table::TableError),
}

fn size_text(size: &Option<u64>, limit: &u64) -> String {
    match size {
        Some(n) => format!("{} ({n} bytes)", human_bytes(*n)),
        None => format!("more than {} (reading stopped there)", human_bytes(*limit)),
    }
}

fn limit_text(limit: &u64) -> String {
    human_bytes(*limit)
}

/// A path as one shell word (single-quoted when it needs quoting).
fn shell_word(path: &str) -> String {
    let shown = shown(path);
    if !shown.is_empty() && shown.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c)) {
        return shown.into_owned();
    }
    format!("'{}'", shown.replace('\'', r"'\''"))
}

/// Where `iconv` could write a converted copy: `notes.utf8.txt` for `notes.txt`.
fn converted_name(path: &str) -> String {
    let p = Path::new(path);
    match (p.file_stem(), p.extension()) {
        (Some(stem), Some(ext)) => {
            p.with_file_name(format!("{}.utf8.{}", stem.to_string_lossy(), ext.to_string_lossy())).display().to_string()
        }
        _ => format!("{path}.utf8.txt"),
    }
}

impl IngestError {
    /// The file the error is about, for summaries of skipped inputs.
    pub fn path(&self) -> &str {
        match self {
            IngestError::Missing { path }
            | IngestError::Io { path, .. }
            | IngestError::Binary { path, .. }
            | IngestError::Encoding { path, .. }
            | IngestError::NotText { path, .. }
            | IngestError::NotUtf8 { path, .. }
            | IngestError::TooLarge { path, .. }
            | IngestError::LinkLoop { path }
            | IngestError::BrokenLink { path, .. }
            | IngestError::NotAFile { path, .. }
            | IngestError::PipeWithoutWriter { path }
            | IngestError::NotAFolder { path }
            | IngestError::EmptyDir { path, .. }
            | IngestError::OnlyOutputs { path, .. }
            | IngestError::BadRecord { path, .. } => path,
            IngestError::Table(e) => e.path(),
            IngestError::NoMatch { pattern } | IngestError::BadGlob { pattern, .. } => pattern,
        }
    }

    fn io(path: &str, error: io::Error) -> Self {
        IngestError::Io { path: path.into(), error }
    }
}

/// File extensions taken from folders. A file named explicitly is read
/// whatever its extension.
pub const TEXT_EXTENSIONS: &[&str] =
    &["txt", "md", "markdown", "rst", "text", "html", "htm", "jsonl", "csv", "parquet"];

/// The most one document may hold unless told otherwise: 64 MiB.
pub const DEFAULT_MAX_DOCUMENT_BYTES: u64 = 64 << 20;

/// How long a named pipe may wait for a program to open it for writing.
pub const PIPE_WAIT: Duration = Duration::from_secs(5);

/// Bytes read at a time.
const CHUNK: usize = 64 * 1024;

/// Bytes looked at to tell an encoding.
const SNIFF: usize = 8192;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Report bad files as skipped instead of failing.
    pub skip_bad: bool,
    /// The field (JSON lines) or column (CSV, Parquet) that holds a
    /// record's text.
    pub text_field: String,
    /// The field or column that names a record (its row or line number when absent).
    pub id_field: String,
    /// Fields or columns kept with each record as its metadata.
    pub meta_fields: Vec<String>,
    /// The fields (or front-matter keys) that hold a document's date,
    /// source, title and URL.
    pub fields: MetaFields,
    /// Read stdin as JSON lines (one document a record, named by its id
    /// alone) instead of as one text.
    pub stdin_records: bool,
    /// The most bytes one document may hold: a text file (or stdin), or
    /// one record's line or text in a corpus file.
    pub max_document_bytes: u64,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            skip_bad: false,
            text_field: "text".into(),
            id_field: "id".into(),
            meta_fields: Vec::new(),
            fields: MetaFields::default(),
            stdin_records: false,
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
        }
    }
}

/// What a run read: the documents, and the inputs it skipped (only with
/// `skip_bad`), and files that held no text at all.
#[derive(Debug, Default)]
pub struct Ingested {
    pub documents: Vec<Document>,
    pub skipped: Vec<IngestError>,
    pub empty: Vec<String>,
    /// Files read whole, as given (every record accounted for, none
    /// skipped; empty files too): a stored document of one of them that
    /// was not read now is no longer in its file.
    pub complete: Vec<PathBuf>,
    /// What the user should hear about: a path given twice, motif's own
    /// outputs left out of a folder, a link loop not followed.
    pub notes: Vec<String>,
    /// Dates that could not be read, named fields some records lack.
    pub problems: Problems,
}

/// How much of `Ingested` there was, to undo a file that failed half-way.
struct Mark(usize, usize, usize);

impl Ingested {
    fn mark(&self) -> Mark {
        Mark(self.documents.len(), self.skipped.len(), self.empty.len())
    }

    fn undo(&mut self, m: &Mark) {
        self.documents.truncate(m.0);
        self.skipped.truncate(m.1);
        self.empty.truncate(m.2);
    }
}

/// Reads every input in order. Folders are walked recursively in name
/// order, skipping hidden entries; globs are expanded in name order.
pub fn read_inputs(inputs: &[String], opts: &IngestOptions) -> Result<Ingested, IngestError> {
    let mut reader = Reader {
        opts,
        out: Ingested::default(),
        seen: HashMap::new(),
        stdin: None,
        input: 0,
        dups: Vec::new(),
        fresh: 0,
    };
    for (n, input) in inputs.iter().enumerate() {
        reader.input = n;
        reader.dups.clear();
        reader.fresh = 0;
        let result = reader.read_input(input);
        reader.skip_or_fail(result)?;
        reader.note_duplicates(inputs);
    }
    let mut out = reader.out;
    let problems = out.problems.notes();
    out.notes.extend(problems);
    Ok(out)
}

/// A file already read, met again.
struct Duplicate {
    name: String,
    first: String,
    first_input: usize,
}

struct Reader<'a> {
    opts: &'a IngestOptions,
    out: Ingested,
    /// Files read so far, by canonical path: the name first given, and its input.
    seen: HashMap<PathBuf, (String, usize)>,
    /// The input that read stdin.
    stdin: Option<usize>,
    /// The input being read, its files met again, and how many it read afresh.
    input: usize,
    dups: Vec<Duplicate>,
    fresh: usize,
}

impl Reader<'_> {
    fn skip_or_fail(&mut self, result: Result<(), IngestError>) -> Result<(), IngestError> {
        match result {
            Err(e) if self.opts.skip_bad => {
                self.out.skipped.push(e);
                Ok(())
            }
            other => other,
        }
    }

    fn note(&mut self, note: String) {
        self.out.notes.push(note);
    }

    fn note_duplicates(&mut self, inputs: &[String]) {
        let Some(d) = self.dups.first() else { return };
        let input = &inputs[self.input];
        let from_one = self.dups.iter().all(|x| x.first_input == d.first_input) && d.first_input != self.input;
        let note = if self.fresh == 0 && self.dups.iter().all(|x| x.name == x.first) {
            format!("{} was given twice; reading it once", shown(input))
        } else if self.dups.len() == 1 {
            format!("{} is the same file as {}; reading it once", shown(&d.name), shown(&d.first))
        } else if self.fresh == 0 && from_one {
            format!("{}: the same files as {}; reading them once", shown(input), shown(&inputs[d.first_input]))
        } else {
            format!(
                "{}: {} files already read under other names (e.g. {} is {}); reading each once",
                shown(input),
                self.dups.len(),
                shown(&d.name),
                shown(&d.first)
            )
        };
        self.note(note);
    }

    fn read_input(&mut self, input: &str) -> Result<(), IngestError> {
        if input == "-" {
            return self.stdin();
        }
        let path = Path::new(input);
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => self.dir(input),
            Ok(meta) => self.file(input, path, &meta, false),
            Err(_) if input.contains(['*', '?', '[']) => self.glob(input),
            Err(e) => Err(unreadable(input, path, e)),
        }
    }

    fn stdin(&mut self) -> Result<(), IngestError> {
        if self.stdin.is_some() {
            self.note("- was given twice; stdin is read once".into());
            return Ok(());
        }
        self.stdin = Some(self.input);
        let mark = self.out.mark();
        let stdin = io::stdin().lock();
        let result = if self.opts.stdin_records {
            records::read_jsonl("-", None, stdin, self.opts, &mut self.out)
        } else {
            read_text("-", stdin, self.opts.max_document_bytes)
                .map(|text| push_text(&mut self.out, "-", None, text, DocMeta::default()))
        };
        if result.is_err() {
            self.out.undo(&mark);
        }
        result
    }

    fn glob(&mut self, pattern: &str) -> Result<(), IngestError> {
        // As in a shell, `*` does not match a leading dot.
        let options = glob::MatchOptions { require_literal_leading_dot: true, ..Default::default() };
        let paths = glob::glob_with(pattern, options)
            .map_err(|e| IngestError::BadGlob { pattern: pattern.into(), message: e.msg.to_string() })?;
        let mut found = Vec::new();
        for p in paths {
            match p {
                Ok(p) => found.push(p),
                Err(e) => {
                    let name = path_name(e.path());
                    self.skip_or_fail(Err(IngestError::io(&name, e.into())))?;
                }
            }
        }
        found.sort();
        if found.is_empty() {
            return Err(IngestError::NoMatch { pattern: pattern.into() });
        }
        for p in found {
            let name = path_name(&p);
            let result = match fs::metadata(&p) {
                Ok(m) if m.is_dir() => match motif_folder(&p) {
                    Some(what) => {
                        self.note(left_out(&name, what));
                        Ok(())
                    }
                    None => self.dir(&name),
                },
                Ok(m) if m.is_file() => match motif_file(&p) {
                    Some(what) => {
                        self.note(left_out(&name, what));
                        Ok(())
                    }
                    None => self.file(&name, &p, &m, true),
                },
                Ok(m) => {
                    self.note(special_left_out(&name, &m));
                    Ok(())
                }
                Err(e) => Err(unreadable(&name, &p, e)),
            };
            self.skip_or_fail(result)?;
        }
        Ok(())
    }

    fn dir(&mut self, dir: &str) -> Result<(), IngestError> {
        let mut outputs: Vec<(String, &'static str)> = Vec::new();
        let walker = walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name().into_iter().filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            if e.file_name().to_string_lossy().starts_with('.') {
                return false;
            }
            if e.file_type().is_dir() {
                if let Some(what) = motif_folder(e.path()) {
                    outputs.push((path_name(e.path()), what));
                    return false;
                }
            }
            true
        });
        let mut any = false;
        let mut reports: HashMap<PathBuf, bool> = HashMap::new();
        let mut report_files: Vec<String> = Vec::new();
        let mut tables: Vec<(String, &'static str)> = Vec::new();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    if let Some(ancestor) = e.loop_ancestor() {
                        let link = e.path().map(path_name).unwrap_or_default();
                        let note = format!(
                            "{}: a symbolic link back to {}, a folder being read (a loop); not followed",
                            shown(&link),
                            shown(&ancestor.to_string_lossy())
                        );
                        self.note(note);
                        continue;
                    }
                    let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(dir));
                    let name = path_name(&path);
                    let is_link = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
                    // A broken link whose name is not a text file's: not ours to read.
                    if is_link && e.depth() > 0 && !has_text_extension(&path) {
                        continue;
                    }
                    let err = match e.into_io_error() {
                        Some(io) => unreadable(&name, &path, io),
                        None => IngestError::Missing { path: name },
                    };
                    self.skip_or_fail(Err(err))?;
                    continue;
                }
            };
            let file_type = entry.file_type();
            if file_type.is_dir() || !has_text_extension(entry.path()) {
                continue;
            }
            let name = path_name(entry.path());
            let meta = match entry.metadata() {
                Ok(m) => m,
                Err(e) => {
                    let err = match e.into_io_error() {
                        Some(io) => unreadable(&name, entry.path(), io),
                        None => IngestError::Missing { path: name },
                    };
                    self.skip_or_fail(Err(err))?;
                    continue;
                }
            };
            if !meta.is_file() {
                self.note(special_left_out(&name, &meta));
                continue;
            }
            if is_report_file(entry.path(), &mut reports) {
                report_files.push(name);
                continue;
            }
            if let Some(what) = motif_file(entry.path()) {
                tables.push((name, what));
                continue;
            }
            any = true;
            let result = self.file(&name, entry.path(), &meta, true);
            self.skip_or_fail(result)?;
        }
        let mut folders: Vec<&Path> = report_files.iter().filter_map(|f| Path::new(f).parent()).collect();
        folders.dedup();
        for folder in folders {
            let name = if folder.as_os_str().is_empty() { ".".into() } else { folder.to_string_lossy() };
            self.note(left_out(&name, "a report motif wrote"));
        }
        let mut kinds: Vec<&str> = outputs.iter().chain(&tables).map(|(_, what)| *what).collect();
        if !report_files.is_empty() {
            kinds.push("a report motif wrote");
        }
        kinds.sort();
        kinds.dedup();
        for (name, what) in outputs.iter().chain(&tables) {
            self.note(left_out(name, what));
        }
        if !any {
            if !kinds.is_empty() {
                return Err(IngestError::OnlyOutputs { path: dir.into(), what: kinds.join(", ") });
            }
            return Err(IngestError::EmptyDir { path: dir.into(), exts: TEXT_EXTENSIONS.join(", ") });
        }
        Ok(())
    }

    /// Reads one file (once: a file met again under another name is noted
    /// and passed over). `walked`: found in a folder or by a pattern, not named.
    fn file(&mut self, name: &str, path: &Path, meta: &fs::Metadata, walked: bool) -> Result<(), IngestError> {
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some((first, first_input)) = self.seen.get(&canonical) {
            self.dups.push(Duplicate { name: name.into(), first: first.clone(), first_input: *first_input });
            return Ok(());
        }
        self.seen.insert(canonical, (name.to_string(), self.input));
        self.fresh += 1;
        let mark = self.out.mark();
        match self.read_file(name, path, meta, walked) {
            Ok(Some(what)) => {
                // A table motif wrote, found in a folder: not a corpus.
                self.out.undo(&mark);
                self.note(left_out(name, what));
                Ok(())
            }
            Ok(None) => {
                if self.out.skipped.len() == mark.1 {
                    self.out.complete.push(path.to_path_buf());
                }
                Ok(())
            }
            Err(e) => {
                self.out.undo(&mark);
                Err(e)
            }
        }
    }

    /// Reads a file into `out`; `Some(what)` when it turned out to be one
    /// of motif's own tables, found in a folder (and so not to be read).
    fn read_file(
        &mut self,
        name: &str,
        path: &Path,
        meta: &fs::Metadata,
        walked: bool,
    ) -> Result<Option<&'static str>, IngestError> {
        let limit = self.opts.max_document_bytes;
        let ext = extension(path);
        if ext == "parquet" {
            if !meta.is_file() {
                return Err(IngestError::NotAFile {
                    path: name.into(),
                    kind: "not a regular file (Parquet needs one)",
                });
            }
            let made_by_motif = records::read_parquet(name, path, self.opts, &mut self.out)?;
            return Ok(made_by_motif.filter(|_| walked));
        }
        if meta.is_file() && meta.len() > limit && !matches!(ext.as_str(), "jsonl" | "csv") {
            return Err(IngestError::TooLarge { path: name.into(), size: Some(meta.len()), limit });
        }
        let file = open(name, path, meta)?;
        match ext.as_str() {
            "jsonl" => records::read_jsonl(name, Some(path), file, self.opts, &mut self.out)?,
            "csv" => records::read_csv(name, path, file, self.opts, &mut self.out)?,
            "html" | "htm" => {
                // One parse serves both the head's metadata and the text.
                let html = scraper::Html::parse_document(&read_text(name, file, limit)?);
                let meta = html_meta(&html, &self.opts.fields, name, &mut self.out.problems);
                let text = parsed_html_text(&html);
                push_text(&mut self.out, name, Some(path.to_path_buf()), text, meta);
            }
            "md" | "markdown" => {
                let text = read_text(name, file, limit)?;
                let (meta, body) = match meta::front_matter(&text) {
                    Some((fields, body)) => {
                        let get = |f: &str| fields.iter().find(|(k, v)| k == f && !v.is_empty()).map(|kv| kv.1.clone());
                        (self.opts.fields.read(name, &get, &mut self.out.problems), body.to_string())
                    }
                    None => (DocMeta::default(), text),
                };
                push_text(&mut self.out, name, Some(path.to_path_buf()), body, meta);
            }
            _ => {
                let text = read_text(name, file, limit)?;
                push_text(&mut self.out, name, Some(path.to_path_buf()), text, DocMeta::default());
            }
        }
        Ok(None)
    }
}

/// Why a path cannot be read, from the error of looking it up: a link
/// loop or a broken link is called so, a file named as a folder too.
fn unreadable(name: &str, path: &Path, e: io::Error) -> IngestError {
    let link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_loop(&e) {
        return IngestError::LinkLoop { path: name.into() };
    }
    match e.kind() {
        io::ErrorKind::NotFound if link => {
            let target = fs::read_link(path).map(|t| path_name(&t)).unwrap_or_default();
            IngestError::BrokenLink { path: name.into(), target }
        }
        io::ErrorKind::NotFound => IngestError::Missing { path: name.into() },
        io::ErrorKind::NotADirectory if name.ends_with('/') && Path::new(name.trim_end_matches('/')).is_file() => {
            IngestError::NotAFolder { path: name.into() }
        }
        io::ErrorKind::NotADirectory => IngestError::Missing { path: name.into() },
        _ => IngestError::io(name, e),
    }
}

/// Whether an error is "too many levels of symbolic links".
fn is_loop(e: &io::Error) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const ELOOP: i32 = 40;
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd"
    ))]
    const ELOOP: i32 = 62;
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd"
    )))]
    const ELOOP: i32 = -1;
    e.raw_os_error() == Some(ELOOP)
}

/// What kind of special file this is, for messages.
fn special_kind(meta: &fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    let _ = meta;
    "not a regular file"
}

fn special_left_out(name: &str, meta: &fs::Metadata) -> String {
    format!(
        "{}: {}, not a regular file; folders and patterns read only regular files (name it to read it)",
        shown(name),
        special_kind(meta)
    )
}

fn left_out(name: &str, what: &str) -> String {
    format!("{}: {what}, not read (motif reads its own outputs only when a file of them is named)", shown(name))
}

/// Opens a file to read. A named pipe waits at most `PIPE_WAIT` for a
/// writer (opening one blocks until a program opens it for writing); a
/// socket is refused.
fn open(name: &str, path: &Path, meta: &fs::Metadata) -> Result<File, IngestError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_socket() {
            return Err(IngestError::NotAFile { path: name.into(), kind: "a socket" });
        }
        if t.is_fifo() {
            let (tx, rx) = std::sync::mpsc::channel();
            let owned = path.to_path_buf();
            // The opening thread stays blocked if no writer ever comes; it
            // ends with the process.
            std::thread::spawn(move || {
                let _ = tx.send(File::open(owned));
            });
            return match rx.recv_timeout(PIPE_WAIT) {
                Ok(opened) => opened.map_err(|e| IngestError::io(name, e)),
                Err(_) => Err(IngestError::PipeWithoutWriter { path: name.into() }),
            };
        }
    }
    let _ = meta;
    File::open(path).map_err(|e| IngestError::io(name, e))
}

/// Motif's own output folders: an index (it holds `index.sqlite`) or an
/// export (its `manifest.json` says so).
fn motif_folder(dir: &Path) -> Option<&'static str> {
    if dir.join(crate::store::DB_FILE).is_file() {
        return Some("a motif index");
    }
    use crate::exchange::export::{EXPORT_FORMAT, MANIFEST_FILE};
    let manifest = read_head(&dir.join(MANIFEST_FILE), 1 << 20)?;
    let value: serde_json::Value = serde_json::from_slice(&manifest).ok()?;
    (value.get("format").and_then(|f| f.as_str()) == Some(EXPORT_FORMAT)).then_some("a motif export")
}

/// Motif's own output files, told by their content: the passages and
/// vectors `motif embed` writes as JSON lines. (Its Parquet tables are
/// told by their metadata as they are read.)
fn motif_file(path: &Path) -> Option<&'static str> {
    if extension(path) != "jsonl" {
        return None;
    }
    let head = read_head(path, 1 << 20)?;
    let line = head.split(|&b| b == b'\n').next()?;
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    let o = value.as_object()?;
    (o.contains_key("doc") && o.contains_key("passage") && o.contains_key("embedding"))
        .then_some("passages and vectors motif embed wrote")
}

/// The files of a report; a folder holding them is a report motif wrote
/// when its `report.json` carries motif's version key.
const REPORT_FILES: [&str; 3] = ["report.html", "report.md", "report.json"];

fn is_report_file(path: &Path, folders: &mut HashMap<PathBuf, bool>) -> bool {
    let named = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| REPORT_FILES.contains(&n));
    if !named {
        return false;
    }
    let folder = path.parent().unwrap_or(Path::new("")).to_path_buf();
    *folders.entry(folder).or_insert_with_key(|folder| {
        // report.json is pretty-printed, so a line that starts with two
        // spaces and a key is one of its top-level keys.
        read_head(&folder.join("report.json"), 64 * 1024)
            .is_some_and(|head| head.starts_with(b"{") && head.windows(20).any(|w| w == b"\n  \"motif_version\": "))
    })
}

/// The first `max` bytes of a regular file, if it is one and can be read.
fn read_head(path: &Path, max: u64) -> Option<Vec<u8>> {
    if !fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut head = Vec::new();
    File::open(path).ok()?.take(max).read_to_end(&mut head).ok()?;
    Some(head)
}

fn has_text_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| TEXT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

fn extension(path: &Path) -> String {
    path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase()
}

/// Adds a file's text as a document. What the file did not say is filled
/// in: the title from a first line that looks like one, the source from
/// the folder holding the file.
fn push_text(out: &mut Ingested, name: &str, source: Option<PathBuf>, text: String, meta: DocMeta) {
    if text.trim().is_empty() {
        out.empty.push(name.to_string());
        return;
    }
    let folder = source
        .as_deref()
        .and_then(|p| fs::canonicalize(p).ok())
        .and_then(|p| p.parent().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().into_owned()));
    let guessed = DocMeta { title: meta::first_line_title(&text), source: folder, ..DocMeta::default() };
    let mut doc = Document::new(name, source, text);
    doc.meta = meta.or(guessed);
    out.documents.push(doc);
}

/// What an HTML page says about itself in its head: `<title>`, the Open
/// Graph and article `<meta>` tags, `<link rel=canonical>`; the fields the
/// user named are looked up among the `<meta>` names too.
fn html_meta(doc: &scraper::Html, fields: &MetaFields, name: &str, problems: &mut Problems) -> DocMeta {
    use scraper::Selector;
    let select = |css: &str| Selector::parse(css).ok();
    let mut tags: Vec<(String, String)> = Vec::new();
    if let Some(sel) = select("meta") {
        for m in doc.select(&sel) {
            let e = m.value();
            let key = e.attr("property").or(e.attr("name")).or(e.attr("itemprop"));
            if let (Some(k), Some(v)) = (key, e.attr("content")) {
                tags.push((k.to_ascii_lowercase(), v.to_string()));
            }
        }
    }
    let tag = |keys: &[&str]| {
        keys.iter().find_map(|k| tags.iter().find(|(t, v)| t == k && !v.trim().is_empty()).map(|t| t.1.clone()))
    };
    let text_of = |css: &str| {
        let sel = select(css)?;
        let t: String = doc.select(&sel).next()?.text().collect();
        (!t.trim().is_empty()).then_some(t)
    };
    let attr_of = |css: &str, attr: &str| {
        let sel = select(css)?;
        doc.select(&sel).next()?.value().attr(attr).map(String::from)
    };
    // The user's named fields first, among the page's meta tags.
    let named = match [&fields.date, &fields.source, &fields.title, &fields.url].iter().any(|f| f.is_some()) {
        true => fields.read(name, &|f: &str| tag(&[&f.to_ascii_lowercase()]), &mut Problems::default()),
        false => DocMeta::default(),
    };
    let date = tag(&[
        "article:published_time",
        "og:published_time",
        "datepublished",
        "pubdate",
        "publishdate",
        "date",
        "dc.date",
    ])
    .or_else(|| attr_of("time[datetime]", "datetime"));
    let date = date.and_then(|d| {
        let parsed = Dated::parse(&d);
        if parsed.is_none() {
            problems.bad_date("the page's date", name, &d);
        }
        parsed
    });
    let found = DocMeta {
        date,
        source: tag(&["og:site_name", "application-name", "publisher", "article:publisher"]),
        title: tag(&["og:title", "twitter:title"])
            .or_else(|| text_of("title"))
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" ")),
        url: attr_of("link[rel=canonical]", "href").or_else(|| tag(&["og:url"])),
    };
    named.or(found)
}

/// Reads a whole text of at most `limit` bytes, a chunk at a time, and
/// checks it as it comes: a byte-order mark of UTF-16 or UTF-32, a NUL
/// byte or bytes that are not UTF-8 stop the reading there.
fn read_text(name: &str, mut reader: impl Read, limit: u64) -> Result<String, IngestError> {
    let mut bytes: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    let mut valid = 0;
    let mut sniffed = false;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(IngestError::io(name, e)),
        };
        if n == 0 {
            break;
        }
        if (bytes.len() + n) as u64 > limit {
            return Err(IngestError::TooLarge { path: name.into(), size: None, limit });
        }
        let start = bytes.len();
        bytes.extend_from_slice(&chunk[..n]);
        if !sniffed && bytes.len() >= 4 {
            sniff(name, &bytes)?;
            sniffed = true;
        }
        if let Some(i) = chunk[..n].iter().position(|&b| b == 0) {
            return Err(nul_error(name, &bytes, (start + i) as u64));
        }
        valid = check_utf8(name, &bytes, valid)?;
    }
    if !sniffed {
        sniff(name, &bytes)?;
    }
    if valid < bytes.len() {
        // Ends inside a character.
        return Err(IngestError::NotUtf8 { path: name.into(), offset: valid as u64 });
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    String::from_utf8(bytes)
        .map_err(|e| IngestError::NotUtf8 { path: name.into(), offset: e.utf8_error().valid_up_to() as u64 })
}

/// How far `bytes` is valid UTF-8, checking on from `from` (a character
/// boundary); a character cut by the end of the bytes read so far is not
/// yet an error.
fn check_utf8(name: &str, bytes: &[u8], from: usize) -> Result<usize, IngestError> {
    match std::str::from_utf8(&bytes[from..]) {
        Ok(_) => Ok(bytes.len()),
        Err(e) if e.error_len().is_none() => Ok(from + e.valid_up_to()),
        Err(e) => Err(IngestError::NotUtf8 { path: name.into(), offset: (from + e.valid_up_to()) as u64 }),
    }
}

/// Checks the start of a file for what is not UTF-8 text: the
/// byte-order mark of UTF-32 or UTF-16, or a NUL byte.
fn sniff(name: &str, head: &[u8]) -> Result<(), IngestError> {
    if let Some((encoding, iconv)) = bom_encoding(head) {
        return Err(IngestError::Encoding { path: name.into(), encoding, iconv });
    }
    if head.starts_with(b"%PDF-") {
        return Err(IngestError::NotText {
            path: name.into(),
            what: "a PDF",
            hint: "extract its text first, e.g. with pdftotext",
        });
    }
    let head = &head[..head.len().min(SNIFF)];
    match head.iter().position(|&b| b == 0) {
        Some(i) => Err(nul_error(name, head, i as u64)),
        None => Ok(()),
    }
}

fn bom_encoding(head: &[u8]) -> Option<(&'static str, &'static str)> {
    if head.starts_with(&[0xFF, 0xFE, 0, 0]) || head.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Some(("UTF-32 (with a byte-order mark)", "UTF-32"));
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return Some(("UTF-16 (little-endian, with a byte-order mark)", "UTF-16"));
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Some(("UTF-16 (big-endian, with a byte-order mark)", "UTF-16"));
    }
    None
}

/// The error for a NUL byte at `offset`: UTF-16 or UTF-32 text when the
/// start of the file looks like it, else binary.
fn nul_error(name: &str, bytes: &[u8], offset: u64) -> IngestError {
    let head = &bytes[..bytes.len().min(SNIFF)];
    match bom_encoding(head).or_else(|| utf16_without_bom(head)) {
        Some((encoding, iconv)) => IngestError::Encoding { path: name.into(), encoding, iconv },
        None => IngestError::Binary { path: name.into(), offset },
    }
}

/// UTF-16 without a byte-order mark, as text in Latin script is: every
/// other byte NUL, the bytes between them letters, digits, punctuation
/// or spaces.
fn utf16_without_bom(head: &[u8]) -> Option<(&'static str, &'static str)> {
    let pairs: Vec<[u8; 2]> = head.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
    if pairs.len() < 2 {
        return None;
    }
    let texty = |b: u8| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7E | 0xA0..=0xFF);
    let looks = |zero: usize| {
        let with_zero: Vec<u8> = pairs.iter().filter(|p| p[zero] == 0).map(|p| p[1 - zero]).collect();
        let other_zero = pairs.iter().filter(|p| p[1 - zero] == 0).count();
        with_zero.len() * 2 >= pairs.len()
            && other_zero * 20 <= pairs.len()
            && with_zero.iter().filter(|&&b| texty(b)).count() * 10 >= with_zero.len() * 9
    };
    if looks(1) {
        Some(("UTF-16 (little-endian, without a byte-order mark)", "UTF-16LE"))
    } else if looks(0) {
        Some(("UTF-16 (big-endian, without a byte-order mark)", "UTF-16BE"))
    } else {
        None
    }
}

/// Checks that bytes are text and decodes them (see `read_text`).
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<String, IngestError> {
    read_text(name, &bytes[..], u64::MAX)
}

/// Extracts readable text from HTML with a standard (html5ever) parser, so
/// malformed markup is repaired as a browser would and every named and
/// numeric entity is decoded. Comments, `head`, `script`, `style`,
/// `noscript`, `template` and `iframe` are dropped. Block elements (`p`,
/// `div`, `li`, headings, table rows, ...) become paragraph breaks (a blank
/// line), so the splitter sees one paragraph per block; `br` is a line
/// break, and two in a row a paragraph break. Other whitespace, as in a
/// browser, collapses to one space, except for the line breaks of `pre`.
pub fn html_to_text(html: &str) -> String {
    parsed_html_text(&scraper::Html::parse_document(html))
}

/// The text of a parsed page (see `html_to_text`).
fn parsed_html_text(doc: &scraper::Html) -> String {
    use ego_tree::iter::Edge;
    use scraper::Node;

    let mut out = TextOut::default();
    // The dropped element being skipped, and how many `pre` are open.
    let mut skipping = None;
    let mut pre = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) if skipping.is_none() => match node.value() {
                Node::Text(t) => out.text(t, pre > 0),
                Node::Element(e) => match html_role(e.name()) {
                    HtmlRole::Dropped => skipping = Some(node.id()),
                    HtmlRole::Block => out.gap(Gap::Paragraph),
                    HtmlRole::Cell => out.gap(Gap::Space),
                    HtmlRole::LineBreak => out.line_break(),
                    HtmlRole::Pre => {
                        out.gap(Gap::Paragraph);
                        pre += 1;
                    }
                    HtmlRole::Inline => {}
                },
                _ => {}
            },
            Edge::Open(_) => {}
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                } else if skipping.is_none() {
                    if let Node::Element(e) = node.value() {
                        match html_role(e.name()) {
                            HtmlRole::Block => out.gap(Gap::Paragraph),
                            HtmlRole::Cell => out.gap(Gap::Space),
                            HtmlRole::Pre => {
                                out.gap(Gap::Paragraph);
                                pre = pre.saturating_sub(1);
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    out.text
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HtmlRole {
    Dropped,
    Block,
    Pre,
    Cell,
    LineBreak,
    Inline,
}

fn html_role(name: &str) -> HtmlRole {
    match name {
        "head" | "script" | "style" | "noscript" | "template" | "iframe" => HtmlRole::Dropped,
        "pre" => HtmlRole::Pre,
        "td" | "th" => HtmlRole::Cell,
        "br" => HtmlRole::LineBreak,
        "address" | "article" | "aside" | "blockquote" | "body" | "caption" | "dd" | "details" | "dialog" | "div"
        | "dl" | "dt" | "fieldset" | "figcaption" | "figure" | "footer" | "form" | "h1" | "h2" | "h3" | "h4" | "h5"
        | "h6" | "header" | "hgroup" | "hr" | "html" | "legend" | "li" | "main" | "menu" | "nav" | "ol" | "p"
        | "section" | "summary" | "table" | "tbody" | "tfoot" | "thead" | "title" | "tr" | "ul" => HtmlRole::Block,
        _ => HtmlRole::Inline,
    }
}

/// Separators between runs of text, weakest first: a pending separator is
/// written only when more text follows, so none leads or trails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
enum Gap {
    #[default]
    None,
    Space,
    Line,
    Paragraph,
}

#[derive(Default)]
struct TextOut {
    text: String,
    gap: Gap,
}

impl TextOut {
    fn gap(&mut self, gap: Gap) {
        self.gap = self.gap.max(gap);
    }

    fn line_break(&mut self) {
        // A second `br` in a row (nothing between) starts a new paragraph.
        let gap = if self.gap >= Gap::Line { Gap::Paragraph } else { Gap::Line };
        self.gap(gap);
    }

    fn text(&mut self, s: &str, pre: bool) {
        for c in s.chars() {
            if pre && c == '\n' {
                self.line_break();
            } else if c.is_whitespace() {
                self.gap(Gap::Space);
            } else {
                if !self.text.is_empty() {
                    match self.gap {
                        Gap::None => {}
                        Gap::Space => self.text.push(' '),
                        Gap::Line => self.text.push('\n'),
                        Gap::Paragraph => self.text.push_str("\n\n"),
                    }
                }
                self.gap = Gap::None;
                self.text.push(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> IngestOptions {
        IngestOptions::default()
    }

    #[test]
    fn hashes_are_lower_case_hex() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(hex(&[]), "");
        // sha256sum of "abc".
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn missing_path_is_named() {
        let err = read_inputs(&["/no/such/file.txt".into()], &opts()).unwrap_err();
        assert_eq!(err.to_string(), "/no/such/file.txt: no such file or directory");
    }

    #[test]
    fn binary_and_bad_utf8_are_refused_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("a.txt");
        fs::write(&bin, b"PK\x03\x04\x00\x00binary").unwrap();
        let latin = dir.path().join("b.txt");
        fs::write(&latin, b"caf\xe9 au lait").unwrap();
        let err = read_inputs(&[bin.display().to_string()], &opts()).unwrap_err();
        assert!(matches!(err, IngestError::Binary { .. }), "{err}");
        assert!(err.to_string().contains("a.txt"));
        let err = read_inputs(&[latin.display().to_string()], &opts()).unwrap_err();
        assert!(matches!(err, IngestError::NotUtf8 { offset: 3, .. }), "{err}");

        let mut skipping = opts();
        skipping.skip_bad = true;
        let got = read_inputs(&[dir.path().display().to_string()], &skipping).unwrap();
        assert_eq!(got.documents.len(), 0);
        assert_eq!(got.skipped.len(), 2);
    }

    #[test]
    fn names_in_messages_cannot_break_lines_or_drive_the_terminal() {
        assert_eq!(shown("plain name.txt"), "plain name.txt");
        assert_eq!(shown("a\nb\u{1b}[31m\u{202e}c"), "a\\nb\\u{1b}[31m\\u{202e}c");
        assert_eq!(shown(""), "''");
        let err = IngestError::Missing { path: "x\ny".into() };
        assert_eq!(err.to_string(), "x\\ny: no such file or directory");
    }

    #[test]
    fn reading_stops_at_the_first_sign_of_trouble() {
        // An endless stream of NULs, of text, of bytes that are not UTF-8:
        // each stops after one chunk or at the limit.
        let zeros = std::io::repeat(0).take(1 << 40);
        assert!(matches!(read_text("z", zeros, 1 << 30), Err(IngestError::Binary { offset: 0, .. })));
        let text = std::io::repeat(b'y').take(1 << 40);
        assert!(matches!(
            read_text("y", text, 1 << 20),
            Err(IngestError::TooLarge { size: None, limit: 1_048_576, .. })
        ));
        let latin = std::io::repeat(0xE9).take(1 << 40);
        assert!(matches!(read_text("l", latin, 1 << 30), Err(IngestError::NotUtf8 { offset: 0, .. })));
        // A character cut by a chunk boundary is fine; one cut by the end is not.
        let mut bytes = vec![b'a'; CHUNK - 1];
        bytes.extend("é and more".as_bytes());
        assert_eq!(read_text("ok", &bytes[..], u64::MAX).unwrap().len(), bytes.len());
        assert!(matches!(read_text("cut", &b"caf\xc3"[..], u64::MAX), Err(IngestError::NotUtf8 { offset: 3, .. })));
        // A NUL after the first chunk is binary too.
        let mut late = vec![b'a'; 3 * CHUNK];
        late.push(0);
        assert!(
            matches!(read_text("late", &late[..], u64::MAX), Err(IngestError::Binary { offset, .. }) if offset == 3 * CHUNK as u64)
        );
    }

    #[test]
    fn utf16_and_utf32_are_named() {
        let le: Vec<u8> = "Hello, world.\n".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = "Hello, world.\n".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        let enc = |bytes: &[u8]| match decode("f.txt", bytes.to_vec()) {
            Err(IngestError::Encoding { iconv, .. }) => iconv,
            other => panic!("{other:?}"),
        };
        assert_eq!(enc(&[&[0xFF, 0xFE][..], &le].concat()), "UTF-16");
        assert_eq!(enc(&[&[0xFE, 0xFF][..], &be].concat()), "UTF-16");
        assert_eq!(enc(&le), "UTF-16LE");
        assert_eq!(enc(&be), "UTF-16BE");
        assert_eq!(enc(&[0xFF, 0xFE, 0, 0, b'h', 0, 0, 0]), "UTF-32");
        // CJK in UTF-16 with a BOM has no NUL at all: the BOM tells.
        let cjk: Vec<u8> = "漢字かな".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(enc(&[&[0xFF, 0xFE][..], &cjk].concat()), "UTF-16");
        let err = decode("my notes.txt", le).unwrap_err().to_string();
        assert!(err.contains("iconv -f UTF-16LE -t UTF-8 'my notes.txt' > 'my notes.utf8.txt'"), "{err}");
        let err = decode("paper.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj".to_vec()).unwrap_err().to_string();
        assert_eq!(err, "paper.txt: a PDF, not text; extract its text first, e.g. with pdftotext");
        // Binary with NULs spread about stays binary.
        assert!(matches!(decode("b", vec![1, 0, 0, 0, 7, 0, 0, 3, 0, 0]), Err(IngestError::Binary { .. })));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_reached_twice_is_read_once_under_its_first_name() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("real")).unwrap();
        fs::write(dir.path().join("real/a.txt"), "text").unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("alias")).unwrap();
        let root = dir.path().display().to_string();
        let inputs = [format!("{root}/real"), format!("{root}/real/a.txt"), format!("{root}/alias/")];
        let got = read_inputs(&inputs, &opts()).unwrap();
        let ids: Vec<_> = got.documents.iter().map(|d| d.id.clone()).collect();
        assert_eq!(ids, [format!("{root}/real/a.txt")]);
        assert_eq!(got.complete.len(), 1);
        assert_eq!(
            got.notes,
            [
                format!("{root}/real/a.txt was given twice; reading it once"),
                format!("{root}/alias/a.txt is the same file as {root}/real/a.txt; reading it once")
            ]
        );
    }

    #[test]
    fn folder_without_text_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("image.png"), b"\x89PNG").unwrap();
        let err = read_inputs(&[dir.path().display().to_string()], &opts()).unwrap_err();
        assert!(matches!(err, IngestError::EmptyDir { .. }), "{err}");
    }

    #[test]
    fn folders_are_walked_in_order_skipping_hidden() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::create_dir(dir.path().join(".motif")).unwrap();
        fs::write(dir.path().join("b.txt"), "bee").unwrap();
        fs::write(dir.path().join("sub/a.md"), "ay").unwrap();
        fs::write(dir.path().join(".motif/x.txt"), "hidden").unwrap();
        let root = dir.path().display().to_string();
        let got = read_inputs(std::slice::from_ref(&root), &opts()).unwrap();
        let ids: Vec<_> = got.documents.iter().map(|d| d.id.clone()).collect();
        assert_eq!(ids, vec![format!("{root}/b.txt"), format!("{root}/sub/a.md")]);
    }

    #[test]
    fn globs_expand_and_report_no_match() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("one.txt"), "1").unwrap();
        fs::write(dir.path().join("two.txt"), "2").unwrap();
        let pattern = format!("{}/*.txt", dir.path().display());
        assert_eq!(read_inputs(&[pattern], &opts()).unwrap().documents.len(), 2);
        let none = format!("{}/*.md", dir.path().display());
        assert!(matches!(read_inputs(&[none], &opts()).unwrap_err(), IngestError::NoMatch { .. }));
    }

    #[test]
    fn jsonl_records_become_documents() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.jsonl");
        fs::write(&f, "{\"id\":\"x1\",\"text\":\"hello\"}\n\n{\"text\":\"world\"}\n").unwrap();
        let got = read_inputs(&[f.display().to_string()], &opts()).unwrap();
        let ids: Vec<_> = got.documents.iter().map(|d| d.id.rsplit(':').next().unwrap().to_string()).collect();
        assert_eq!(ids, vec!["x1", "3"]);
        fs::write(&f, "{\"body\":\"hello\"}\n").unwrap();
        let err = read_inputs(&[f.display().to_string()], &opts()).unwrap_err();
        assert!(err.to_string().contains("c.jsonl:1"), "{err}");
        // With skip_bad, bad lines are counted and the good ones kept.
        fs::write(&f, "{\"text\":\"one\"}\nnot json\n{\"body\":\"x\"}\n{\"text\":\"four\"}\n").unwrap();
        let skip = IngestOptions { skip_bad: true, ..opts() };
        let got = read_inputs(&[f.display().to_string()], &skip).unwrap();
        assert_eq!((got.documents.len(), got.skipped.len()), (2, 2));
        assert!(got.skipped[0].to_string().contains("c.jsonl:2: not JSON"), "{}", got.skipped[0]);
    }

    #[test]
    fn bom_is_dropped_and_html_is_flattened() {
        assert_eq!(decode("x", b"\xEF\xBB\xBFhi".to_vec()).unwrap(), "hi");
        let text = html_to_text("<html><head><style>p{}</style></head><body><p>One &amp; two</p><p>Caf&eacute;&#233;  <b>bold</b></p><script>x<y</script></body>");
        assert_eq!(text, "One & two\n\nCaféé bold");
    }

    #[test]
    fn html_comments_scripts_and_head_leak_nothing() {
        let text = html_to_text(
            "<head><title>Site name</title><meta charset=utf-8></head><p>Before<!-- a > b, hidden --> after</p>\
             <script>var s = '</p><p>not text';</script><noscript>enable js</noscript><template><p>tpl</p></template><p>End</p>",
        );
        assert_eq!(text, "Before after\n\nEnd");
    }

    #[test]
    fn html_entities_are_all_decoded() {
        let text =
            html_to_text("<p>Caf&eacute; &#8217;s&nbsp;&nbsp;menu &amp;c &#x2014; &hellip; &lt;b&gt; &bogus; AT&T</p>");
        assert_eq!(text, "Café ’s menu &c — … <b> &bogus; AT&T");
    }

    #[test]
    fn html_blocks_become_paragraphs() {
        let html = "<body>\n  <div><p>First\n   paragraph,\twrapped</p><div><h2>Heading</h2><ul><li>one</li><li>two <em>items</em></li></ul></div></div>\
                    <p>line<br>break<br><br>new para</p><table><tr><td>a</td><td>b</td></tr></table><pre>x  y\nz</pre>inline <span>tail</span></body>";
        let text = html_to_text(html);
        assert_eq!(text, "First paragraph, wrapped\n\nHeading\n\none\n\ntwo items\n\nline\nbreak\n\nnew para\n\na b\n\nx y\nz\n\ninline tail");
        let paragraphs: Vec<&str> = crate::corpus::split::paragraphs(&text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            paragraphs,
            [
                "First paragraph, wrapped",
                "Heading",
                "one",
                "two items",
                "line",
                "break",
                "new para",
                "a b",
                "x y",
                "z",
                "inline tail"
            ]
        );
    }

    #[test]
    fn malformed_html_does_not_panic() {
        let text = html_to_text("<p>open <b>bold <div>block</p></b> text </i><<>> &#xD800; &#99999999; <p <a href='x>y</a> <!-- never closed");
        assert!(text.starts_with("open bold\n\nblock"), "{text:?}");
        for html in [
            "",
            "<",
            "<!--",
            "<script>",
            "</p>",
            "&",
            "&#",
            "<![CDATA[x]]>",
            "<svg><p>in svg</svg>",
            &"<div>".repeat(2_000),
        ] {
            let _ = html_to_text(html);
        }
    }
}
