//! Adversarial tests: the report. Hostile documents (script tags,
//! `<!--<script>`, `</script>`, `{{DATA}}`, `<img onerror>`, code fences,
//! table pipes, very long lines, terminal escapes), hostile file names, a
//! hostile `--title` and an index folder whose path reads `{{DATA}}` go
//! through `motif report`; then report.html is drawn by headless Chromium
//! (no document script runs, the page is not blank), report.md is checked
//! for raw HTML, open fences and broken tables, report.json for texts kept
//! exactly, and what the command prints for terminal escapes.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;

/// What a document's script would leave behind if it ran: built by
/// concatenation inside the script, so the documents' own text never
/// contains it.
const MARKER: &str = "PWNED";
const MARKER_ATTR: &str = "data-pwned";

/// A script body that, if run, marks the page (title and an attribute).
const PAYLOAD: &str = "document.title='PW'+'NED';document.documentElement.setAttribute('data-'+'pwned','yes')";

/// The hostile corpus: (file name, text). The claim about the harbour
/// budget recurs across documents so that echo groups and themes, and
/// with them every part of the page and the Markdown, carry hostile text.
fn hostile_documents() -> Vec<(String, String)> {
    let claim = "The council approved the harbour budget on Monday after a long debate.";
    let cranes = "The harbour budget pays for three new cranes and a wider quay.";
    let long_line = "word ".repeat(12_000);
    vec![
        ("script.txt".into(), format!("{claim} <script>{PAYLOAD}</script> {cranes}\n\nSchools reopen in the autumn.")),
        ("comment.txt".into(), format!("Minutes <!--<script> follow. {claim}\n\n{cranes} <script>{PAYLOAD}</script>")),
        (
            "close.txt".into(),
            format!("{claim} </script><script>{PAYLOAD}</script></SCRIPT> {cranes}\n\n--> <!-- end -->"),
        ),
        (
            "placeholders.txt".into(),
            format!("{claim} {{{{DATA}}}} and {{{{TITLE}}}} stay as written. <img src=x onerror=\"{PAYLOAD}\"> {cranes}"),
        ),
        (
            "fence.txt".into(),
            format!(
                "{claim}\n\n```\nEverything after an open fence would be code.\n\n~~~\n{cranes}\n\n\
                 <iframe src=\"javascript:{PAYLOAD}\"></iframe> [link](javascript:alert(1)) ![x](http://example.invalid/x.png)"
            ),
        ),
        (
            "markup.txt".into(),
            format!(
                "# Not a heading {claim}\n\n- not a list | a | b | c\n\n1. not ordered {cranes}\n\n---\n\n\
                 &lt;script&gt; &#60;b&#62; AT&T \u{2028}line\u{2029}para *bold* _em_ \\"
            ),
        ),
        (
            "terminal.txt".into(),
            format!("\x1b[2J\x1b]0;owned\x07{claim} \x1b[31mred\x1b[0m \u{202e}desrever\u{202c} {cranes}\r\nend\x08\x7f"),
        ),
        ("long.txt".into(), format!("{long_line}{claim}\n\n{cranes}")),
        // Odd file names (no newline: see `a_newline_in_a_file_name_keeps_tables_whole`).
        ("pipe|name|.txt".into(), format!("{cranes} {claim}")),
        ("fence```name.txt".into(), format!("{claim} Gulls nest on the old quay.")),
        (format!("<img src=x onerror=\"{PAYLOAD}\">.txt"), format!("{cranes} Gulls nest on the old quay.")),
        ("{{DATA}}.txt".into(), format!("{claim} {cranes}")),
        ("- list *name*.txt".into(), format!("{claim} Gulls nest on the old quay.")),
        ("esc\x1b[2Jname.txt".into(), format!("{cranes} {claim}")),
    ]
}

/// A work folder with the corpus in `docs/` and an index folder whose path
/// carries placeholders and markup (it is part of the default title).
struct Hostile {
    work: tempfile::TempDir,
    docs: Vec<(String, String)>,
}

impl Hostile {
    fn new(docs: Vec<(String, String)>) -> Hostile {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("docs");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &docs {
            std::fs::write(dir.join(name), text).unwrap();
        }
        Hostile { work, docs }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.work.path().join(rel)
    }

    fn index(&self) -> PathBuf {
        self.path("{{DATA}} <b>&\"{{TITLE}}/.motif")
    }

    /// Runs `motif report docs` into `out`, with `title` when given.
    fn report(&self, out: &str, title: Option<&str>) -> Output {
        let mut cmd = motif();
        cmd.current_dir(self.work.path())
            .args(["report", "docs", "--model", "hash", "--out", out])
            .arg("--index")
            .arg(self.index());
        if let Some(title) = title {
            cmd.args(["--title", title]);
        }
        run_ok(&mut cmd)
    }

    fn read(&self, out: &str, file: &str) -> String {
        std::fs::read_to_string(self.path(out).join(file)).unwrap()
    }

    fn json(&self, out: &str) -> serde_json::Value {
        serde_json::from_str(&self.read(out, "report.json")).expect("report.json is JSON")
    }
}

const HOSTILE_TITLE: &str = "{{DATA}} </title><script>document.title='PW'+'NED'</script> {{TITLE}} <img src=x \
                             onerror=\"document.title='PW'+'NED'\"> ``` | # *x*\n<iframe src=x></iframe>";

#[test]
fn html_runs_no_document_script_and_draws_everything() {
    let h = Hostile::new(hostile_documents());
    h.report("default", None);
    h.report("titled", Some(HOSTILE_TITLE));
    let Some(browser) = chromium() else {
        skip("no chromium on PATH to draw report.html (apt-get install chromium)");
        return;
    };
    for out in ["default", "titled"] {
        let json = h.json(out);
        let dom = draw(&browser, &h.path(out).join("report.html"));
        assert!(!dom.contains(MARKER) && !dom.contains(MARKER_ATTR), "{out}: a document's script ran:\n{dom}");
        assert!(dom.contains("data-rendered=\"ok\""), "{out}: the page's script did not finish (blank page):\n{dom}");
        let units = json["units"].as_array().unwrap().len();
        let themes = json["themes"].as_array().unwrap().len();
        let docs = json["documents"].as_array().unwrap().len();
        assert_eq!(docs, h.docs.len());
        assert!(themes > 0 && !json["echo_groups"].as_array().unwrap().is_empty(), "{out}: {json}");
        assert_eq!(dom.matches("<circle").count(), units, "{out}: one point per unit on the map");
        assert_eq!(dom.matches("class=\"cell\"").count(), docs * themes, "{out}: a grid cell per document and theme");
        assert_eq!(dom.matches("class=\"group\"").count(), json["echo_groups"].as_array().unwrap().len(), "{out}");
        // The page's own elements only: the documents' tags are text.
        assert_eq!(dom.matches("<script").count(), 2, "{out}: only the page's two scripts");
        for tag in ["<img", "<iframe"] {
            assert!(!dom.contains(tag), "{out}: a document's {tag} became an element");
        }
        // The hostile text is on the page, as text.
        assert!(dom.contains("&lt;script&gt;document.title='PW'+'NED'"), "{out}: the script tag shows as text");
        assert!(dom.contains("{{DATA}} and {{TITLE}} stay as written"), "{out}");
        // The title, as given, once in <title> and once in the heading.
        let title = json["title"].as_str().unwrap();
        let escaped = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        assert!(dom.contains(&format!("<title>{escaped}</title>")), "{out}: the title is text: {title}\n{dom}");
        assert!(dom.contains(&format!("<h1>{escaped}</h1>")), "{out}: the heading is text: {title}");
    }
}

/// The data inlined in the page is the report's JSON once (as the page
/// carries it); nothing in it can end or hide the end of its script.
#[test]
fn html_inlines_the_data_whole_and_inert() {
    let h = Hostile::new(hostile_documents());
    h.report("titled", Some(HOSTILE_TITLE));
    let page = h.read("titled", "report.html");
    let open = "<script type=\"application/json\" id=\"data\">";
    assert_eq!(page.matches(open).count(), 1);
    let start = page.find(open).unwrap() + open.len();
    let end = start + page[start..].find("</script>").unwrap();
    let data = &page[start..end];
    for bad in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
        assert!(!data.contains(bad), "the inlined data holds a raw {bad:?}");
    }
    let mut inlined: serde_json::Value = serde_json::from_str(data).expect("the inlined data is JSON");
    let mut whole = h.json("titled");
    // A report this small is carried whole, but for what the page never
    // shows: unit texts past the tooltip's 400 characters, map positions
    // past 3 decimals, and passage texts outside echo groups.
    let (units, all) = (inlined["units"].take(), whole["units"].take());
    assert_eq!(units.as_array().unwrap().len(), all.as_array().unwrap().len(), "every unit is carried");
    for (u, w) in units.as_array().unwrap().iter().zip(all.as_array().unwrap()) {
        let (ut, wt) = (u["text"].as_str().unwrap(), w["text"].as_str().unwrap());
        assert!(ut == wt || (ut.ends_with('…') && wt.starts_with(ut.trim_end_matches('…'))), "{ut} / {wt}");
        assert!((u["x"].as_f64().unwrap() - w["x"].as_f64().unwrap()).abs() <= 5e-4);
        assert_eq!(
            (&u["passage"], &u["start"], &u["end"], &u["theme"]),
            (&w["passage"], &w["start"], &w["end"], &w["theme"])
        );
    }
    let (passages, all) = (inlined["passages"].take(), whole["passages"].take());
    for (p, w) in passages.as_array().unwrap().iter().zip(all.as_array().unwrap()) {
        assert!(p.is_null() || p["text"] == "" || p == w, "a carried passage is itself: {p} / {w}");
        assert!(p.is_null() || (p["doc"] == w["doc"] && p["start"] == w["start"]));
    }
    for (k, n) in [("all_units", all_len(&h, "units")), ("all_echo_groups", all_len(&h, "echo_groups"))] {
        assert_eq!(inlined.as_object_mut().unwrap().remove(k).and_then(|v| v.as_u64()), Some(n as u64), "{k}");
    }
    for k in ["all_outliers", "all_passages"] {
        assert!(inlined.as_object_mut().unwrap().remove(k).is_some(), "{k}");
    }
    let conflicts = whole.get("conflicts").and_then(|c| c.as_array()).map_or(0, |c| c.len()) as u64;
    assert_eq!(inlined.as_object_mut().unwrap().remove("all_conflicts").and_then(|v| v.as_u64()), Some(conflicts));
    assert_eq!(inlined, whole, "the rest of the page's data is report.json's");
    let rest = format!("{}{}", &page[..start], &page[end..]);
    assert_eq!(rest.to_ascii_lowercase().matches("<script").count(), 2, "only the page's own scripts");
    assert_eq!(rest.matches("</title>").count(), 1);
    assert!(!rest.contains("<img") && !rest.contains("<iframe"), "the title's tags are text");
}

fn all_len(h: &Hostile, key: &str) -> usize {
    h.json("titled")[key].as_array().unwrap().len()
}

/// Cells of a Markdown table row: `|`s not escaped by a backslash, less one.
fn cells(row: &str) -> usize {
    let mut n: usize = 0;
    let mut escaped = false;
    for c in row.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '|' {
            n += 1;
        }
    }
    n.saturating_sub(1)
}

/// report.md: no raw HTML, no fence, no terminal escape, every table row
/// whole, one row per document; the title escaped and on one line.
fn check_markdown(md: &str, docs: usize, what: &str) {
    let lower = md.to_ascii_lowercase();
    for tag in ["<script", "<iframe", "<img", "<!--", "</script", "</title"] {
        assert!(!lower.contains(tag), "{what}: report.md holds a raw {tag}:\n{md}");
    }
    for c in md.chars() {
        assert!(
            c == '\n'
                || !(c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c) || c == '\u{2028}' || c == '\u{2029}'),
            "{what}: report.md holds the control character {c:?}"
        );
    }
    for line in md.lines() {
        let content = line.trim_start_matches("> ").trim_start();
        assert!(
            !content.starts_with("```") && !content.starts_with("~~~"),
            "{what}: a line opens a code fence: {line}"
        );
    }
    let title_line = md.lines().next().unwrap();
    assert!(title_line.starts_with("# "), "{what}: {title_line}");
    assert!(!md.lines().nth(1).unwrap().contains("iframe"), "{what}: the title is one line");
    // The documents × themes grid: a header, a rule, one row per document, all as wide.
    let table: Vec<&str> =
        md.lines().skip_while(|l| !l.starts_with("| document |")).take_while(|l| l.starts_with('|')).collect();
    assert_eq!(table.len(), docs + 2, "{what}: one row per document:\n{}", table.join("\n"));
    let width = cells(table[0]);
    for row in &table {
        assert_eq!(cells(row), width, "{what}: a row with the wrong number of cells: {row}");
    }
}

#[test]
fn markdown_is_inert_and_its_tables_whole() {
    let h = Hostile::new(hostile_documents());
    h.report("default", None);
    h.report("titled", Some(HOSTILE_TITLE));
    for out in ["default", "titled"] {
        check_markdown(&h.read(out, "report.md"), h.docs.len(), out);
    }
    let md = h.read("titled", "report.md");
    assert!(md.contains("\\u{1b}\\[2J") || md.contains("\\u{1b}[2J"), "an escape is shown, not sent:\n{md}");
}

/// report.json keeps every text as it was: the passages are the documents'
/// bytes, the names and the title as given.
#[test]
fn json_keeps_every_text_exactly() {
    let h = Hostile::new(hostile_documents());
    h.report("titled", Some(HOSTILE_TITLE));
    let json = h.json("titled");
    assert_eq!(json["title"], HOSTILE_TITLE);
    let ids: Vec<&str> = json["documents"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    for (name, text) in &h.docs {
        let d = ids.iter().position(|id| Path::new(id).file_name().unwrap().to_str() == Some(name.as_str()));
        let d = d.unwrap_or_else(|| panic!("{name:?} is not among the documents {ids:?}"));
        let passages: Vec<&serde_json::Value> =
            json["passages"].as_array().unwrap().iter().filter(|p| p["doc"] == d).collect();
        assert!(!passages.is_empty(), "{name:?}");
        for p in passages {
            let (start, end) = (p["start"].as_u64().unwrap() as usize, p["end"].as_u64().unwrap() as usize);
            assert_eq!(p["text"].as_str().unwrap(), &text[start..end], "{name:?}: a passage is its document's bytes");
        }
    }
    let hostile = |s: &str| s.contains("<script>") && s.contains(PAYLOAD);
    assert!(json["passages"].as_array().unwrap().iter().any(|p| hostile(p["text"].as_str().unwrap())));
    // The default title names the index folder as it is.
    h.report("default", None);
    let title = h.json("default")["title"].as_str().unwrap().to_string();
    assert!(title.contains(&h.index().display().to_string()), "{title}");
}

/// Neither stream of a run carries a control character but the line ends.
fn assert_terminal_safe(out: &Output, what: &str) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.chars().any(|c| c != '\n' && c.is_control()),
            "{what}: {stream} sends a control character: {text:?}"
        );
    }
}

/// What `motif report` prints (the files it wrote) and what `motif index`
/// and `motif info --docs` print (the documents, the index) carry no
/// terminal escape from a file name or a path: it is shown, not sent.
#[test]
fn printed_summary_sends_no_terminal_escape() {
    let h = Hostile::new(hostile_documents());
    let out = h.report("esc\x1b]0;title\x07out", None);
    assert_terminal_safe(&out, "report");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("wrote esc\\u{1b}]0;title\\u{7}out/report.html"), "{stdout}");
    let index = ["--index", "esc\x1b[31m.motif", "--model", "hash"];
    let out = run_ok(motif().current_dir(h.work.path()).arg("index").arg("docs").args(index));
    assert_terminal_safe(&out, "index");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("added    docs/esc\\u{1b}[2Jname.txt"),
        "the name is shown with its escape visible: {stdout}"
    );
    assert!(stdout.contains("created esc\\u{1b}[31m.motif"), "{stdout}");
    let out = run_ok(motif().current_dir(h.work.path()).args(["info", "--docs"]).args(&index[..2]));
    assert_terminal_safe(&out, "info --docs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("docs/esc\\u{1b}[2Jname.txt"));
}

/// An error that names a hostile path shows its escapes rather than sending them.
#[test]
fn an_error_naming_a_hostile_path_sends_no_terminal_escape() {
    let work = tempfile::tempdir().unwrap();
    let out = motif()
        .current_dir(work.path())
        .args(["report", "missing\x1b[2J\x1b]0;owned\x07\nfake line.txt", "--model", "hash"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_terminal_safe(&out, "report of a missing file");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing\\u{1b}[2J\\u{1b}]0;owned\\u{7}\\nfake line.txt"), "{stderr}");
}

/// A newline (or a tab or a pipe) in a file name stays inside its table cell.
#[test]
fn a_newline_in_a_file_name_keeps_tables_whole() {
    let claim = "The council approved the harbour budget on Monday after a long debate.";
    let docs: Vec<(String, String)> =
        ["two\nlines.txt", "tab\there.txt", "| pipe start.txt", "back\\|slash.txt", "plain.txt"]
            .iter()
            .map(|n| (n.to_string(), format!("{claim} The harbour budget pays for three new cranes.")))
            .collect();
    let h = Hostile::new(docs);
    let out = h.report("out", Some("two\nline | title"));
    check_markdown(&h.read("out", "report.md"), h.docs.len(), "newline names");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("two\nlines"), "a name printed on one line");
}

/// `motif overlaps` (Markdown) keeps its pair tables whole with odd names.
#[test]
fn overlaps_markdown_keeps_tables_whole() {
    let claim = "The council approved the harbour budget on Monday after a long debate.";
    let docs: Vec<(String, String)> = ["pipe|name.txt", "two\nlines.txt", "<img src=x onerror=alert(1)>.txt"]
        .iter()
        .map(|n| (n.to_string(), format!("{claim} <script>x</script> The harbour budget pays for three new cranes.")))
        .collect();
    let h = Hostile::new(docs);
    run_ok(motif().current_dir(h.work.path()).args(["index", "docs", "--model", "hash"]));
    let out = run_ok(motif().current_dir(h.work.path()).args(["overlaps"]));
    let md = String::from_utf8_lossy(&out.stdout).into_owned();
    let lower = md.to_ascii_lowercase();
    assert!(!lower.contains("<script") && !lower.contains("<img"), "{md}");
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert!(rows.len() > 2, "the overlaps have a pair table:\n{md}");
    for row in rows {
        assert_eq!(cells(row), 6, "a pair row with the wrong number of cells: {row}\n{md}");
    }
    assert!(!md.chars().any(|c| c != '\n' && c.is_control()), "{md:?}");
}
