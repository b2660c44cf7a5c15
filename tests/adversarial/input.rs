//! Adversarial tests: input. What `motif index`, `embed` and `report`
//! make of inputs a hostile or careless user gives them: endless and
//! special files, unreadable folders, links and loops, UTF-16, motif's own
//! outputs, one file under two names, hostile names and records.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// The binary with the fast built-in embedder, run in `cwd`, with no
/// index from the environment.
fn m(cwd: &Path) -> Command {
    let mut cmd = motif();
    cmd.current_dir(cwd).env_remove("MOTIF_INDEX").env("MOTIF_MODEL", "hash");
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Runs `cmd`, killing it after `secs` (a test of something that once
/// hung or ate memory must not do so again).
fn within(cmd: &mut Command, secs: u64) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("motif starts");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    panic!("still running after {secs} s; stderr so far: {}", stderr(&out));
}

/// The document names `motif embed` read from `paths` (JSON lines out).
fn embedded_docs(cwd: &Path, args: &[&str]) -> (Vec<String>, String) {
    let out = run_ok(m(cwd).arg("embed").args(args).args(["--format", "jsonl"]));
    let mut docs: Vec<String> =
        json_lines(&out.stdout).iter().map(|r| r["doc"].as_str().unwrap().to_string()).collect();
    docs.dedup();
    (docs, stderr(&out))
}

fn index_json(cwd: &Path, args: &[&str]) -> serde_json::Value {
    json(&run_ok(m(cwd).arg("index").args(args).arg("--json")))
}

fn stored_docs(cwd: &Path, index: &str) -> Vec<String> {
    let out = run_ok(m(cwd).args(["info", "--docs", "--json", "--index", index]));
    json(&out)["doc_list"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect()
}

fn names(v: &serde_json::Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, text).unwrap();
}

// ------------------------------------------------------------ records

#[test]
fn a_bad_jsonl_line_with_skip_bad_keeps_every_other_record_even_with_prune() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let good = "{\"id\":\"a\",\"text\":\"First record about the harbour.\"}\n\
                {\"id\":\"b\",\"text\":\"Second record about the market.\"}\n\
                {\"id\":\"c\",\"text\":\"Third record about the river.\"}\n\
                {\"id\":\"d\",\"text\":\"Fourth record about the bridge.\"}\n";
    write(&cwd.join("c.jsonl"), good);
    let s = index_json(cwd, &["c.jsonl", "--index", "idx"]);
    assert_eq!(names(&s["added"]).len(), 4);
    // Line 2 broken: the later records are still read, and --prune
    // removes nothing (not even record b, whose line is now bad).
    write(&cwd.join("c.jsonl"), &good.replace("{\"id\":\"b\"", "{\"id\":\"b\" oops"));
    let out = run_ok(m(cwd).args(["index", "c.jsonl", "--index", "idx", "--skip-bad", "--prune", "--json"]));
    let s = json(&out);
    assert_eq!(s["kept"], 3, "{s}");
    assert!(names(&s["removed"]).is_empty(), "{s}");
    assert!(stderr(&out).contains("c.jsonl:2: not JSON"), "{}", stderr(&out));
    assert_eq!(stored_docs(cwd, "idx"), ["c.jsonl:a", "c.jsonl:b", "c.jsonl:c", "c.jsonl:d"]);
    let (docs, _) = embedded_docs(cwd, &["c.jsonl", "--skip-bad"]);
    assert_eq!(docs, ["c.jsonl:a", "c.jsonl:c", "c.jsonl:d"]);
}

#[test]
fn records_sharing_an_id_are_a_bad_record_not_one_silently_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    write(&cwd.join("c.jsonl"), "{\"id\":\"x\",\"text\":\"One text.\"}\n{\"id\":\"x\",\"text\":\"Another text.\"}\n");
    let err = run_err(m(cwd).args(["embed", "c.jsonl"]));
    assert!(err.contains("c.jsonl:2") && err.contains("\"x\" is already used by line 1"), "{err}");
    write(&cwd.join("c.csv"), "id,text\n7,One text.\n7,Another text.\n");
    let err = run_err(m(cwd).args(["embed", "c.csv"]));
    assert!(err.contains("c.csv:3") && err.contains("already used by line 2"), "{err}");
}

#[test]
fn an_emptied_file_or_corpus_is_no_longer_its_documents() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    write(&cwd.join("docs/a.txt"), "Alpha text about the sea.");
    write(&cwd.join("docs/b.txt"), "Beta text about the hills.");
    write(&cwd.join("docs/c.jsonl"), "{\"text\":\"A record.\"}\n");
    write(&cwd.join("docs/e.csv"), "id,text\n1,A row.\n");
    index_json(cwd, &["docs", "--index", "idx"]);
    for f in ["b.txt", "c.jsonl", "e.csv"] {
        fs::write(cwd.join("docs").join(f), "").unwrap();
    }
    let out = run_ok(m(cwd).args(["index", "docs", "--index", "idx"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 documents are no longer in their files"), "{text}");
    assert!(stderr(&out).contains("docs/e.csv: no text, ignored"), "{}", stderr(&out));
    let s = index_json(cwd, &["docs", "--index", "idx", "--prune"]);
    assert_eq!(names(&s["removed"]), ["docs/b.txt", "docs/c.jsonl:1", "docs/e.csv:1"], "{s}");
    assert_eq!(stored_docs(cwd, "idx"), ["docs/a.txt"]);
}

// ------------------------------------------------------------ endless, huge and special files

#[test]
fn dev_zero_stops_at_once_with_a_clear_line() {
    if !Path::new("/dev/zero").exists() {
        return skip("no /dev/zero");
    }
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    // Under a 4 GB address-space limit, so that a regression fails
    // instead of eating the machine.
    let bin = env!("CARGO_BIN_EXE_motif");
    let out = within(
        Command::new("sh")
            .args(["-c", &format!("ulimit -v 4000000; exec '{bin}' embed /dev/zero")])
            .current_dir(dir.path())
            .env("MOTIF_MODEL", "hash")
            .env("MOTIF_NO_PROGRESS", "1"),
        30,
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("/dev/zero: looks like a binary file (a NUL byte at offset 0)"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn one_document_has_a_size_limit_that_names_the_file_and_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    write(&cwd.join("big.txt"), &"A sentence of some words.\n".repeat(200));
    let err = run_err(m(cwd).args(["embed", "big.txt", "--max-document-bytes", "1K"]));
    assert!(
        err.contains("big.txt: 5.1 KiB (5200 bytes), over the limit of 1 KiB for one document")
            && err.contains("--max-document-bytes"),
        "{err}"
    );
    let (docs, _) = embedded_docs(cwd, &["big.txt", "--max-document-bytes", "64k"]);
    assert_eq!(docs, ["big.txt"]);
    let err = run_err(m(cwd).args(["embed", "big.txt", "--max-document-bytes", "lots"]));
    assert!(err.contains("not a size"), "{err}");
    // A stream without end stops at the limit, not at the end of memory.
    let mut child = m(cwd)
        .args(["embed", "-", "--max-document-bytes", "1M"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let line = "y\n".repeat(4096);
        for _ in 0..1024 {
            if stdin.write_all(line.as_bytes()).is_err() {
                return;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("-: more than 1 MiB (reading stopped there), over the limit"), "{}", stderr(&out));
    // A record longer than the limit is a bad record, skippable.
    write(&cwd.join("r.jsonl"), &format!("{{\"text\":\"{}\"}}\n{{\"text\":\"short\"}}\n", "x".repeat(3000)));
    let err = run_err(m(cwd).args(["embed", "r.jsonl", "--max-document-bytes", "1K"]));
    assert!(err.contains("r.jsonl:1: a record longer than the limit of 1 KiB"), "{err}");
    let (docs, _) = embedded_docs(cwd, &["r.jsonl", "--max-document-bytes", "1K", "--skip-bad"]);
    assert_eq!(docs, ["r.jsonl:2"]);
}

#[cfg(unix)]
fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo").arg(path).status().is_ok_and(|s| s.success())
}

#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_when_named_and_never_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    if !mkfifo(&cwd.join("pipe.txt")) {
        return skip("mkfifo is not available");
    }
    // No writer: given up after a few seconds, with a clear line.
    let out = within(m(cwd).args(["embed", "pipe.txt"]), 30);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pipe.txt: a named pipe that no program opened for writing"), "{}", stderr(&out));
    // A writer: read as a file.
    let path = cwd.join("pipe.txt");
    let writer = std::thread::spawn(move || {
        let mut f = fs::OpenOptions::new().write(true).open(path).unwrap();
        f.write_all(b"Words that come through a pipe.").unwrap();
    });
    let (docs, _) = embedded_docs(cwd, &["pipe.txt"]);
    writer.join().unwrap();
    assert_eq!(docs, ["pipe.txt"]);
    // In a folder: left out (with a note), the rest read, nothing waits.
    write(&cwd.join("a.txt"), "A plain file.");
    let out = within(m(cwd).args(["embed", ".", "--format", "jsonl"]), 30);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("./pipe.txt: a named pipe, not a regular file"), "{}", stderr(&out));
    assert_eq!(json_lines(&out.stdout).len(), 1);
}

// ------------------------------------------------------------ unreadable folders

/// Whether this process runs as root (which reads whatever the
/// permission bits say).
#[cfg(unix)]
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    let f = tempfile::NamedTempFile::new().unwrap();
    f.as_file().metadata().unwrap().uid() == 0
}

/// `motif` as a process that permission bits bind: as it is, or, for
/// root, without the capabilities that pass over them (through setpriv);
/// `None` after saying why when that cannot be arranged.
#[cfg(unix)]
fn bound_by_permissions(cwd: &Path) -> Option<Command> {
    if !is_root() {
        return Some(m(cwd));
    }
    let drop = ["--bounding-set", "-dac_override,-dac_read_search", "--"];
    let probe = tempfile::tempdir().unwrap();
    let locked = probe.path().join("locked");
    fs::create_dir(&locked).unwrap();
    set_mode(&locked, 0o000);
    let works = Command::new("setpriv")
        .args(drop)
        .arg("ls")
        .arg(&locked)
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| !s.success())
        && Command::new("setpriv").args(drop).arg("true").status().is_ok_and(|s| s.success());
    set_mode(&locked, 0o755);
    if !works {
        skip("running as root without setpriv able to drop CAP_DAC_OVERRIDE: cannot make a folder unreadable");
        return None;
    }
    let mut cmd = Command::new("setpriv");
    cmd.args(drop).arg(env!("CARGO_BIN_EXE_motif"));
    cmd.current_dir(cwd)
        .env("MOTIF_NO_PROGRESS", "1")
        .env_remove("MOTIF_INDEX")
        .env("MOTIF_MODEL", "hash")
        .stdin(Stdio::null());
    Some(cmd)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[test]
fn an_unreadable_folder_is_skipped_with_skip_bad_and_the_walk_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    write(&cwd.join("docs/a.txt"), "Alpha about the sea.");
    write(&cwd.join("docs/b/inner.txt"), "Inside the locked folder.");
    write(&cwd.join("docs/c.txt"), "Gamma about the hills.");
    set_mode(&cwd.join("docs/b"), 0o000);
    let Some(mut cmd) = bound_by_permissions(cwd) else { return set_mode(&cwd.join("docs/b"), 0o755) };
    let out = cmd.args(["embed", "docs", "--skip-bad", "--format", "jsonl"]).output().unwrap();
    let mut plain = bound_by_permissions(cwd).unwrap();
    let without = plain.args(["embed", "docs"]).output().unwrap();
    set_mode(&cwd.join("docs/b"), 0o755);
    assert!(out.status.success(), "{}", stderr(&out));
    let docs: Vec<String> = json_lines(&out.stdout).iter().map(|r| r["doc"].as_str().unwrap().to_string()).collect();
    assert_eq!(docs, ["docs/a.txt", "docs/c.txt"], "{}", stderr(&out));
    assert!(stderr(&out).contains("skipped docs/b: cannot read: Permission denied"), "{}", stderr(&out));
    assert!(stderr(&out).contains("skipped 1 bad input"), "{}", stderr(&out));
    // Without --skip-bad: an error that names the folder.
    assert!(!without.status.success());
    assert!(stderr(&without).contains("docs/b: cannot read: Permission denied"), "{}", stderr(&without));
}

#[cfg(unix)]
#[test]
fn prune_never_takes_an_unreadable_folder_for_gone() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    write(&cwd.join("docs/a.txt"), "Alpha about the sea.");
    write(&cwd.join("docs/b/inner.txt"), "Inside the folder to be locked.");
    index_json(cwd, &["docs", "--index", "idx"]);
    set_mode(&cwd.join("docs/b"), 0o000);
    let Some(mut cmd) = bound_by_permissions(cwd) else { return set_mode(&cwd.join("docs/b"), 0o755) };
    let skipping = cmd.args(["index", "docs", "--index", "idx", "--prune", "--skip-bad", "--json"]).output().unwrap();
    let mut cmd = bound_by_permissions(cwd).unwrap();
    // Named on its own, the readable file; the other document's folder
    // cannot be looked at: --prune refuses to guess.
    let strict = cmd.args(["index", "docs/a.txt", "--index", "idx", "--prune"]).output().unwrap();
    set_mode(&cwd.join("docs/b"), 0o755);
    assert!(skipping.status.success(), "{}", stderr(&skipping));
    let s = json(&skipping);
    assert!(names(&s["removed"]).is_empty(), "{s}");
    assert!(
        stderr(&skipping).contains("cannot tell whether the file of docs/b/inner.txt is still there"),
        "{}",
        stderr(&skipping)
    );
    assert!(!strict.status.success());
    let err = stderr(&strict);
    assert!(
        err.contains("--prune: cannot tell whether docs/b/inner.txt is still there")
            && err.contains("Permission denied"),
        "{err}"
    );
    assert_eq!(stored_docs(cwd, "idx"), ["docs/a.txt", "docs/b/inner.txt"]);
    // Readable again and really deleted: now it goes.
    fs::remove_dir_all(cwd.join("docs/b")).unwrap();
    let s = index_json(cwd, &["docs", "--index", "idx", "--prune"]);
    assert_eq!(names(&s["removed"]), ["docs/b/inner.txt"]);
}

// ------------------------------------------------------------ links

#[cfg(unix)]
#[test]
fn links_in_folders_are_followed_and_loops_reported_as_loops() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    write(&cwd.join("outside.txt"), "A file outside the folder, reached by a link.");
    write(&cwd.join("elsewhere/deep.md"), "A folder outside, reached by a link.");
    write(&cwd.join("docs/plain.txt"), "A plain file.");
    symlink("../outside.txt", cwd.join("docs/linked.txt")).unwrap();
    symlink("../elsewhere", cwd.join("docs/linked_dir")).unwrap();
    symlink(".", cwd.join("docs/here")).unwrap();
    let (docs, err) = embedded_docs(cwd, &["docs"]);
    assert_eq!(docs, ["docs/linked.txt", "docs/linked_dir/deep.md", "docs/plain.txt"], "{err}");
    assert!(
        err.contains("docs/here: a symbolic link back to docs, a folder being read (a loop); not followed"),
        "{err}"
    );

    symlink("self.txt", cwd.join("docs/self.txt")).unwrap();
    symlink("nowhere.txt", cwd.join("docs/dangling.txt")).unwrap();
    let err = run_err(m(cwd).args(["embed", "docs/self.txt"]));
    assert!(err.contains("docs/self.txt: symbolic link loop"), "{err}");
    let err = run_err(m(cwd).args(["embed", "docs"]));
    assert!(err.contains("docs/dangling.txt: broken symbolic link (to nowhere.txt"), "{err}");
    let (docs, err) = embedded_docs(cwd, &["docs", "--skip-bad"]);
    assert_eq!(docs.len(), 3, "{err}");
    assert!(
        err.contains("skipped docs/self.txt: symbolic link loop") && err.contains("skipped 2 bad input(s)"),
        "{err}"
    );
}

// ------------------------------------------------------------ encodings

#[test]
fn utf16_is_named_with_how_to_convert_it() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let text = "Some words in UTF-16.\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
    fs::write(cwd.join("bom.txt"), [&[0xFF, 0xFE][..], &le].concat()).unwrap();
    fs::write(cwd.join("le.txt"), &le).unwrap();
    fs::write(cwd.join("be.txt"), &be).unwrap();
    fs::write(cwd.join("bom.jsonl"), [&[0xFE, 0xFF][..], &be].concat()).unwrap();
    let err = run_err(m(cwd).args(["embed", "bom.txt"]));
    assert!(
        err.contains("bom.txt: UTF-16 (little-endian, with a byte-order mark) text, not UTF-8")
            && err.contains("iconv -f UTF-16 -t UTF-8 bom.txt > bom.utf8.txt"),
        "{err}"
    );
    let err = run_err(m(cwd).args(["embed", "le.txt"]));
    assert!(err.contains("without a byte-order mark") && err.contains("iconv -f UTF-16LE -t UTF-8"), "{err}");
    let err = run_err(m(cwd).args(["embed", "be.txt"]));
    assert!(err.contains("big-endian") && err.contains("iconv -f UTF-16BE -t UTF-8"), "{err}");
    let err = run_err(m(cwd).args(["embed", "bom.jsonl"]));
    assert!(err.contains("bom.jsonl: UTF-16 (big-endian"), "{err}");
    // Real binary is still called binary.
    fs::write(cwd.join("zip.txt"), b"PK\x03\x04\x14\x00\x00\x00\x08\x00binary").unwrap();
    let err = run_err(m(cwd).args(["embed", "zip.txt"]));
    assert!(err.contains("zip.txt: looks like a binary file (a NUL byte at offset 5)"), "{err}");
}

// ------------------------------------------------------------ motif's own outputs

#[test]
fn report_on_a_folder_never_reads_its_own_earlier_report_or_index() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    copy_dir(&repo().join("seeds"), cwd);
    let passages = |out: &Output| -> String {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().find(|l| l.contains("passages:")).unwrap_or_default().to_string()
    };
    // The default report/ folder, and an index folder that is not hidden.
    let first = run_ok(m(cwd).args(["report", ".", "--index", "idx"]));
    let second = run_ok(m(cwd).args(["report", ".", "--index", "idx"]));
    let third = run_ok(m(cwd).args(["report", ".", "--index", "idx"]));
    assert_eq!(passages(&first), passages(&second));
    assert_eq!(passages(&first), passages(&third));
    let err = stderr(&second);
    assert!(err.contains("./idx: a motif index, not read"), "{err}");
    assert!(err.contains("./report: a report motif wrote, not read"), "{err}");
    let stored = stored_docs(cwd, "idx");
    assert_eq!(stored.len(), 5, "{stored:?}");
    // A report written into the folder itself (--out .) is left out too.
    run_ok(m(cwd).args(["report", ".", "--index", "idx", "--out", "."]));
    let again = run_ok(m(cwd).args(["report", ".", "--index", "idx", "--out", "."]));
    assert_eq!(passages(&first), passages(&again));
    assert_eq!(stored_docs(cwd, "idx").len(), 5);
    // motif embed's own JSON lines, in the folder: left out.
    let out = run_ok(m(cwd).args(["embed", ".", "--format", "jsonl"]));
    fs::write(cwd.join("passages.jsonl"), &out.stdout).unwrap();
    let s = index_json(cwd, &[".", "--index", "idx"]);
    assert!(names(&s["added"]).is_empty(), "{s}");
    // Named, a report is read.
    let (docs, _) = embedded_docs(cwd, &["report/report.md"]);
    assert_eq!(docs, ["report/report.md"]);
}

// ------------------------------------------------------------ one file, two names

#[test]
fn one_file_under_two_spellings_is_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    fs::create_dir(cwd.join("seeds")).unwrap();
    copy_dir(&repo().join("seeds"), &cwd.join("seeds"));
    let abs = cwd.canonicalize().unwrap().join("seeds").display().to_string();
    let out = run_ok(m(cwd).args(["index", "seeds/", &abs, "--index", "idx", "--json"]));
    let s = json(&out);
    assert_eq!(names(&s["added"]).len(), 5, "{s}");
    assert!(stderr(&out).contains(&format!("{abs}: the same files as seeds/; reading them once")), "{}", stderr(&out));
    // Later, under the other spelling: the same documents, kept under
    // the names first given, and no word of files that are gone.
    let out = run_ok(m(cwd).args(["index", &abs, "--index", "idx"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("added 0 documents, kept 5, replaced 0, removed 0"), "{text}");
    assert!(!text.contains("no longer in"), "{text}");
    assert!(stderr(&out).contains("is stored as seeds/"), "{}", stderr(&out));
    assert!(stored_docs(cwd, "idx").iter().all(|d| d.starts_with("seeds/")));
    // The same path twice: read once, so nothing overlaps its copy.
    let (docs, err) = embedded_docs(cwd, &["seeds", "seeds"]);
    assert_eq!(docs.len(), 5);
    assert!(err.contains("seeds was given twice; reading it once"), "{err}");
    let out = run_ok(m(cwd).args(["overlaps", "seeds", "seeds", "--json"]));
    assert!(same_passage_pairs(&json(&out)) == 0, "{}", String::from_utf8_lossy(&out.stdout));
}

/// Overlapping pairs (objects with ends `a` and `b`) whose two ends are
/// the same passage of the same document.
fn same_passage_pairs(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(items) => items.iter().map(same_passage_pairs).sum(),
        serde_json::Value::Object(o) => {
            let own = match (o.get("a"), o.get("b")) {
                (Some(a), Some(b)) if a.get("doc").is_some() => {
                    usize::from(a["doc"] == b["doc"] && a["passage"] == b["passage"])
                }
                _ => 0,
            };
            own + o.values().map(same_passage_pairs).sum::<usize>()
        }
        _ => 0,
    }
}

// ------------------------------------------------------------ hostile names and paths

#[cfg(unix)]
#[test]
fn hostile_file_names_cannot_break_lines_or_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let name = "evil\u{1b}[31mred\nsecond line.txt";
    fs::write(cwd.join(name), b"\x00\x01binary").unwrap();
    let err = run_err(m(cwd).args(["embed", name]));
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err:?}");
    assert!(err.contains("evil\\u{1b}[31mred\\nsecond line.txt: looks like a binary file"), "{err:?}");
    // In a folder, with --skip-bad: every line of the output stays one line.
    write(&cwd.join("ok.txt"), "A good file.");
    let out = run_ok(m(cwd).args(["index", ".", "--skip-bad", "--index", "idx"]));
    assert!(!stderr(&out).contains('\u{1b}'), "{:?}", stderr(&out));
    assert!(stderr(&out).contains("skipped ./evil\\u{1b}[31mred\\nsecond line.txt"), "{:?}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn file_names_that_are_not_utf8_stay_distinct_documents() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    fs::create_dir(cwd.join("docs")).unwrap();
    for (b, text) in [(0xFE, "One text about rivers."), (0xFF, "Another text about mountains.")] {
        let bytes = [b'n', b, b'.', b't', b'x', b't'];
        fs::write(cwd.join("docs").join(std::ffi::OsStr::from_bytes(&bytes)), text).unwrap();
    }
    let s = index_json(cwd, &["docs", "--index", "idx"]);
    assert_eq!(names(&s["added"]), ["docs/n\\xfe.txt", "docs/n\\xff.txt"], "{s}");
    assert!(names(&s["duplicates"]).is_empty(), "{s}");
}

#[test]
fn odd_paths_get_errors_that_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    write(&cwd.join("a.txt"), "A file.");
    let err = run_err(m(cwd).args(["embed", "a.txt/"]));
    assert!(err.contains("a.txt/: a file, not a folder; name it without the trailing /"), "{err}");
    let err = run_err(m(cwd).args(["embed", ""]));
    assert!(err.contains("'': no such file or directory"), "{err}");
    // Empty files: no text, said so; an empty CSV, or one with a header
    // and no rows, too.
    write(&cwd.join("empty.txt"), "");
    write(&cwd.join("empty.csv"), "");
    write(&cwd.join("header.csv"), "id,text\n");
    let (docs, err) = embedded_docs(cwd, &["a.txt", "empty.txt", "empty.csv", "header.csv"]);
    assert_eq!(docs, ["a.txt"]);
    for f in ["empty.txt", "empty.csv", "header.csv"] {
        assert!(err.contains(&format!("motif: {f}: no text, ignored")), "{err}");
    }
    // A PDF named .txt is called a PDF, not bad UTF-8.
    fs::write(cwd.join("paper.txt"), b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj").unwrap();
    let err = run_err(m(cwd).args(["embed", "paper.txt"]));
    assert!(err.contains("paper.txt: a PDF, not text; extract its text first"), "{err}");
    // A pattern, as in a shell, does not match hidden files.
    write(&cwd.join(".hidden.md"), "Hidden.");
    write(&cwd.join("seen.md"), "Seen.");
    let (docs, _) = embedded_docs(cwd, &["*.md"]);
    assert_eq!(docs, ["seen.md"]);
    // A folder that holds only motif's outputs says so.
    run_ok(m(cwd).args(["index", "a.txt", "--index", "out/idx"]));
    let err = run_err(m(cwd).args(["embed", "out"]));
    assert!(err.contains("out: holds only motif's own outputs"), "{err}");
}
