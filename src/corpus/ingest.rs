//! Reading documents: paths, folders, globs and stdin, in the formats motif
//! understands, decoded and checked, each with a content hash.
//!
//! A `Document`'s `text` is the text as motif read it (UTF-8, byte-order mark
//! removed; for HTML, the readable text of the parsed page, see
//! `html_to_text`); every byte offset motif reports points into that text.
//! Bad inputs (missing, binary, not UTF-8, empty folders) are errors that
//! name the file; `IngestOptions::skip_bad` turns them into `Skipped`
//! entries so a large run can go on.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

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
}

impl Document {
    pub fn new(id: impl Into<String>, source: Option<PathBuf>, text: String) -> Self {
        let hash = sha256_hex(text.as_bytes());
        Document { id: id.into(), source, bytes: text.len(), text, hash, metadata: None }
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

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: no such file or directory")]
    Missing { path: String },
    #[error("{path}: cannot read: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: looks like a binary file (it contains NUL bytes); motif reads text")]
    Binary { path: String },
    #[error("{path}: not valid UTF-8 (first bad byte at offset {offset}); convert it to UTF-8 first, e.g. with iconv")]
    NotUtf8 { path: String, offset: usize },
    #[error("{path}: no text files found (looked for {exts})")]
    EmptyDir { path: String, exts: String },
    #[error("{pattern}: no file matches this pattern")]
    NoMatch { pattern: String },
    #[error("{pattern}: bad glob pattern: {message}")]
    BadGlob { pattern: String, message: String },
    #[error("{path}:{line}: {message}")]
    BadRecord { path: String, line: usize, message: String },
    #[error(transparent)]
    Table(crate::table::TableError),
}

impl IngestError {
    /// The file the error is about, for summaries of skipped inputs.
    pub fn path(&self) -> &str {
        match self {
            IngestError::Missing { path }
            | IngestError::Io { path, .. }
            | IngestError::Binary { path }
            | IngestError::NotUtf8 { path, .. }
            | IngestError::EmptyDir { path, .. }
            | IngestError::BadRecord { path, .. } => path,
            IngestError::Table(e) => e.path(),
            IngestError::NoMatch { pattern } | IngestError::BadGlob { pattern, .. } => pattern,
        }
    }
}

/// File extensions taken from folders. A file named explicitly is read
/// whatever its extension.
pub const TEXT_EXTENSIONS: &[&str] =
    &["txt", "md", "markdown", "rst", "text", "html", "htm", "jsonl", "csv", "parquet"];

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
    /// Read stdin as JSON lines (one document a record, named by its id
    /// alone) instead of as one text.
    pub stdin_records: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            skip_bad: false,
            text_field: "text".into(),
            id_field: "id".into(),
            meta_fields: Vec::new(),
            stdin_records: false,
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
}

/// Reads every input in order. Folders are walked recursively in name
/// order, skipping hidden entries; globs are expanded in name order.
pub fn read_inputs(inputs: &[String], opts: &IngestOptions) -> Result<Ingested, IngestError> {
    let mut out = Ingested::default();
    for input in inputs {
        if let Err(e) = read_input(input, opts, &mut out) {
            if opts.skip_bad {
                out.skipped.push(e);
            } else {
                return Err(e);
            }
        }
    }
    Ok(out)
}

fn read_input(input: &str, opts: &IngestOptions, out: &mut Ingested) -> Result<(), IngestError> {
    if input == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map_err(|source| IngestError::Io { path: "-".into(), source })?;
        let text = decode("-", bytes)?;
        if opts.stdin_records {
            return records::read_jsonl("-", None, &text, opts, out);
        }
        push_text(out, "-", None, text);
        return Ok(());
    }
    let path = Path::new(input);
    if path.is_dir() {
        return read_dir(input, opts, out);
    }
    if path.exists() {
        return read_file_into(input, path, opts, out);
    }
    if input.contains(['*', '?', '[']) {
        let paths = expand_glob(input)?;
        for p in paths {
            let name = p.to_string_lossy().into_owned();
            let result = if p.is_dir() { read_dir(&name, opts, out) } else { read_file_into(&name, &p, opts, out) };
            skip_or_fail(result, opts, out)?;
        }
        return Ok(());
    }
    Err(IngestError::Missing { path: input.into() })
}

fn skip_or_fail(result: Result<(), IngestError>, opts: &IngestOptions, out: &mut Ingested) -> Result<(), IngestError> {
    match result {
        Err(e) if opts.skip_bad => {
            out.skipped.push(e);
            Ok(())
        }
        other => other,
    }
}

fn expand_glob(pattern: &str) -> Result<Vec<PathBuf>, IngestError> {
    let paths = glob::glob(pattern)
        .map_err(|e| IngestError::BadGlob { pattern: pattern.into(), message: e.msg.to_string() })?;
    let mut found: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
    found.sort();
    if found.is_empty() {
        return Err(IngestError::NoMatch { pattern: pattern.into() });
    }
    Ok(found)
}

fn read_dir(dir: &str, opts: &IngestOptions, out: &mut Ingested) -> Result<(), IngestError> {
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    let mut any = false;
    for entry in walker {
        let entry = entry.map_err(|e| IngestError::Io {
            path: e.path().map(|p| p.display().to_string()).unwrap_or_else(|| dir.into()),
            source: e.into(),
        })?;
        if !entry.file_type().is_file() || !has_text_extension(entry.path()) {
            continue;
        }
        any = true;
        let name = entry.path().to_string_lossy().into_owned();
        let result = read_file_into(&name, entry.path(), opts, out);
        skip_or_fail(result, opts, out)?;
    }
    if !any {
        return Err(IngestError::EmptyDir { path: dir.into(), exts: TEXT_EXTENSIONS.join(", ") });
    }
    Ok(())
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

fn read_file_into(name: &str, path: &Path, opts: &IngestOptions, out: &mut Ingested) -> Result<(), IngestError> {
    if extension(path) == "parquet" {
        return records::read_parquet(name, path, opts, out);
    }
    let bytes = fs::read(path).map_err(|source| IngestError::Io { path: name.into(), source })?;
    let text = decode(name, bytes)?;
    match extension(path).as_str() {
        "jsonl" => records::read_jsonl(name, Some(path), &text, opts, out),
        "csv" => records::read_csv(name, path, &text, opts, out),
        "html" | "htm" => {
            push_text(out, name, Some(path.to_path_buf()), html_to_text(&text));
            Ok(())
        }
        _ => {
            push_text(out, name, Some(path.to_path_buf()), text);
            Ok(())
        }
    }
}

fn push_text(out: &mut Ingested, name: &str, source: Option<PathBuf>, text: String) {
    if text.trim().is_empty() {
        out.empty.push(name.to_string());
    } else {
        out.documents.push(Document::new(name, source, text));
    }
}

/// Checks that bytes are text and decodes them. NUL bytes mean binary:
/// UTF-8 text never contains them, and every binary format does early on.
pub fn decode(name: &str, mut bytes: Vec<u8>) -> Result<String, IngestError> {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Err(IngestError::Binary { path: name.into() });
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    String::from_utf8(bytes)
        .map_err(|e| IngestError::NotUtf8 { path: name.into(), offset: e.utf8_error().valid_up_to() })
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
    use ego_tree::iter::Edge;
    use scraper::{Html, Node};

    let doc = Html::parse_document(html);
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
