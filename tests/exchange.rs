//! Interchange end to end: `motif export` → `motif index --from` gives the
//! same report; `motif embed --format parquet` is what `--from` reads;
//! CSV and Parquet corpora; and every bad input (another model, a wrong
//! dimension, a missing column, a corrupt file) is one clear line that
//! leaves the index as it was.

mod common;

use std::path::Path;

use common::*;
use motif::table::{Format, Table, TableWriter, Values};

fn report_json(work: &Path, index: &str, model: &[&str]) -> String {
    let out = format!("report-{index}");
    run_ok(motif().current_dir(work).args(["report", "--index", index, "--out", &out, "--title", "T"]).args(model));
    std::fs::read_to_string(work.join(out).join("report.json")).unwrap()
}

fn db_bytes(work: &Path, index: &str) -> Vec<u8> {
    std::fs::read(work.join(index).join("index.sqlite")).unwrap()
}

/// `motif index seeds`, export, import into a new index: the same report.
fn round_trip(model: &[&str], format: &str) {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    copy_dir(&repo().join("seeds"), &w.join("seeds"));
    run_ok(motif().current_dir(w).args(["index", "seeds", "--index", "A"]).args(model));
    run_ok(motif().current_dir(w).args(["export", "--index", "A", "--out", "E", "--format", format]).args(model));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.join("E/manifest.json")).unwrap()).unwrap();
    for table in ["documents", "passages", "vectors", "overlaps", "echo_groups", "themes", "theme_members"] {
        let file = manifest["tables"][table]["file"].as_str().unwrap_or_else(|| panic!("{table} listed: {manifest}"));
        assert!(w.join("E").join(file).is_file(), "{file}");
    }
    assert_eq!(manifest["tables"]["documents"]["rows"], 5);
    // No model flag: the export says which model made its vectors.
    let out = run_ok(motif().current_dir(w).args(["index", "--from", "E", "--index", "B", "--json"]));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["passages_embedded"], 0, "nothing is embedded again: {summary}");
    assert_eq!(summary["passages_imported"], manifest["tables"]["passages"]["rows"]);
    assert_eq!(report_json(w, "A", model), report_json(w, "B", &[]));
    // Queries (embedded with the index's model) and similar passages answer alike.
    for args in [
        &["query", "North Korean troops in Russia", "-k", "5", "--json"][..],
        &["similar", "seeds/000_44e9cad41cf57f3b.txt#0", "--json"],
    ] {
        let ask = |index: &str| run_ok(motif().current_dir(w).args(args).args(["--index", index])).stdout;
        assert_eq!(String::from_utf8_lossy(&ask("A")), String::from_utf8_lossy(&ask("B")), "{args:?}");
    }
    // The same corpus indexed again into B changes nothing: names, hashes and sources came along.
    let again = run_ok(motif().current_dir(w).args(["index", "seeds", "--index", "B", "--json"]));
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!((again["kept"].as_u64(), again["passages_embedded"].as_u64()), (Some(5), Some(0)), "{again}");
}

#[test]
fn export_and_import_give_the_same_report_parquet() {
    round_trip(&["--model", "hash"], "parquet");
}

#[test]
fn export_and_import_give_the_same_report_jsonl() {
    round_trip(&["--model", "hash"], "jsonl");
}

#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn export_and_import_give_the_same_report_with_the_real_model() {
    round_trip(&[], "parquet");
}

#[test]
fn embed_parquet_is_what_index_from_reads() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    copy_dir(&repo().join("seeds"), &w.join("seeds"));
    run_ok(motif().current_dir(w).args(["index", "seeds", "--index", "A", "--model", "hash"]));
    run_ok(motif().current_dir(w).args([
        "embed",
        "seeds",
        "--model",
        "hash",
        "--format",
        "parquet",
        "-o",
        "p.parquet",
    ]));
    run_ok(motif().current_dir(w).args(["index", "--from", "p.parquet", "--index", "B"]));
    assert_eq!(report_json(w, "A", &[]), report_json(w, "B", &[]));
    // JSON lines from `motif embed` (doc, passage, start, end) are read too.
    let lines = run_ok(motif().current_dir(w).args(["embed", "seeds", "--model", "hash", "--format", "jsonl"]));
    std::fs::write(w.join("p.jsonl"), &lines.stdout).unwrap();
    let stderr =
        run_ok(motif().current_dir(w).args(["index", "--from", "p.jsonl", "--index", "C", "--model", "hash"])).stderr;
    assert!(String::from_utf8_lossy(&stderr).contains("does not say which model made its vectors"));
    assert_eq!(report_json(w, "A", &[]), report_json(w, "C", &[]));
}

#[test]
fn stdin_records_are_documents_named_by_their_id() {
    let work = tempfile::tempdir().unwrap();
    let mut child = motif()
        .current_dir(work.path())
        .args(["embed", "-", "--stdin-format", "jsonl", "--model", "hash", "--format", "jsonl"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"id\": \"news/a.txt\", \"text\": \"Troops crossed the river.\\n\\nThey stayed.\"}\n{\"id\": 7, \"text\": \"Seven.\"}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = json_lines(&out.stdout);
    let docs: Vec<&str> = rows.iter().map(|r| r["doc"].as_str().unwrap()).collect();
    assert_eq!(docs, ["news/a.txt", "news/a.txt", "7"]);
}

#[test]
fn csv_and_parquet_corpora_with_metadata() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(
        w.join("c.csv"),
        "url,body,outlet\nu1,\"Troops crossed the river near the border town, officials said.\",Herald\nu2,The harvest festival drew farmers selling apples.,Post\n",
    )
    .unwrap();
    let t = Table::new()
        .with("url", Values::Text(vec!["p1".into(), "p2".into()]))
        .with(
            "body",
            Values::Text(vec![
                "Officials confirmed the troops crossed the river.".into(),
                "Apples and pears at the market.".into(),
            ]),
        )
        .with("outlet", Values::Text(vec!["Herald".into(), "Gazette".into()]));
    let mut tw = TableWriter::create(&w.join("c.parquet"), Format::Parquet, &t, &[]).unwrap();
    tw.write(&t).unwrap();
    tw.finish().unwrap();
    let read = ["--text-field", "body", "--id-field", "url", "--meta-field", "outlet", "--model", "hash"];
    run_ok(motif().current_dir(w).args(["index", "c.csv", "c.parquet", "--index", "A"]).args(read));
    run_ok(motif().current_dir(w).args(["export", "--index", "A", "--out", "E", "--format", "jsonl", "--no-analyses"]));
    let docs = json_lines(&std::fs::read(w.join("E/documents.jsonl")).unwrap());
    let names: Vec<&str> = docs.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["c.csv:u1", "c.csv:u2", "c.parquet:p1", "c.parquet:p2"]);
    assert_eq!(docs[3]["metadata"], "{\"outlet\":\"Gazette\"}");
    assert!(!w.join("E/themes.jsonl").exists(), "--no-analyses writes the stored tables only");
    // A text column that is not there names the file and the columns it has.
    let err = run_err(motif().current_dir(w).args(["index", "c.parquet", "--index", "A", "--model", "hash"]));
    assert!(
        err.contains("c.parquet") && err.contains("no column \"text\"") && err.contains("url, body, outlet"),
        "{err}"
    );
    // Changed metadata alone updates the document.
    std::fs::write(
        w.join("c.csv"),
        "url,body,outlet\nu1,\"Troops crossed the river near the border town, officials said.\",Courier\nu2,The harvest festival drew farmers selling apples.,Post\n",
    )
    .unwrap();
    let out = run_ok(motif().current_dir(w).args(["index", "c.csv", "--index", "A", "--json"]).args(read));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["replaced"], serde_json::json!(["c.csv:u1"]), "{s}");
}

#[test]
fn bad_imports_are_one_clear_line_and_change_nothing() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    copy_dir(&repo().join("seeds"), &w.join("seeds"));
    let hash = ["--model", "hash"];
    run_ok(motif().current_dir(w).args(["index", "seeds", "--index", "A"]).args(hash));
    run_ok(motif().current_dir(w).args(["export", "--index", "A", "--out", "E", "--no-analyses"]));
    // The target index already holds something: it must survive every refusal.
    std::fs::create_dir(w.join("notes")).unwrap();
    std::fs::write(w.join("notes/n.txt"), "A note about rivers and troops.").unwrap();
    run_ok(motif().current_dir(w).args(["index", "notes", "--index", "B"]).args(hash));
    let before = db_bytes(w, "B");
    let refused = |args: &[&str], expect: &[&str]| {
        let err = run_err(motif().current_dir(w).args(["index", "--index", "B"]).args(args));
        let first = err.lines().next().unwrap_or("");
        for e in expect {
            assert!(first.contains(e), "{e:?} not in the first line of:\n{err}");
        }
        assert_eq!(db_bytes(w, "B"), before, "the index changed after: {err}");
    };

    // Another model: the export's provenance says so.
    let manifest = std::fs::read_to_string(w.join("E/manifest.json")).unwrap();
    copy_dir(&w.join("E"), &w.join("E2"));
    std::fs::write(w.join("E2/manifest.json"), manifest.replace("hash-v1-384", "0123456789abcdef0123")).unwrap();
    refused(&["--from", "E2"], &["E2", "made by model hash (fingerprint 0123456789ab)", "this index uses hash"]);

    // A wrong dimension.
    std::fs::write(w.join("d.jsonl"), "{\"document\": \"x\", \"text\": \"t\", \"embedding\": [0.6, 0.8]}\n").unwrap();
    refused(&["--from", "d.jsonl"], &["d.jsonl", "have 2 values", "makes 384"]);

    // Not unit length.
    std::fs::write(w.join("n.jsonl"), "{\"document\": \"x\", \"text\": \"t\", \"embedding\": [3.0, 4.0]}\n").unwrap();
    refused(&["--from", "n.jsonl"], &["n.jsonl: row 1", "length 5.0000, not 1"]);

    // A missing column.
    std::fs::write(w.join("m.jsonl"), "{\"document\": \"x\", \"text\": \"t\"}\n").unwrap();
    refused(&["--from", "m.jsonl"], &["m.jsonl: row 1", "no field \"embedding\""]);
    let t = Table::new().with("document", Values::Text(vec!["x".into()])).with("text", Values::Text(vec!["t".into()]));
    let mut tw = TableWriter::create(&w.join("m.parquet"), Format::Parquet, &t, &[]).unwrap();
    tw.write(&t).unwrap();
    tw.finish().unwrap();
    refused(&["--from", "m.parquet"], &["m.parquet", "no column \"embedding\" (it has: document, text)"]);

    // A corrupt Parquet file.
    copy_dir(&w.join("E"), &w.join("E3"));
    let vectors = std::fs::read(w.join("E3/vectors.parquet")).unwrap();
    std::fs::write(w.join("E3/vectors.parquet"), &vectors[..vectors.len() / 2]).unwrap();
    refused(&["--from", "E3"], &["E3/vectors.parquet", "not a readable Parquet file"]);

    // A table whose rows do not match the manifest.
    copy_dir(&w.join("E"), &w.join("E4"));
    std::fs::copy(w.join("E4/documents.parquet"), w.join("E4/passages.parquet")).unwrap();
    refused(&["--from", "E4"], &["E4/passages.parquet", "no column \"passage_id\""]);

    // And a good import into B still works afterwards.
    run_ok(motif().current_dir(w).args(["index", "--from", "E", "--index", "B"]));
    let info = run_ok(motif().current_dir(w).args(["info", "--index", "B", "--json"]));
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["documents"], 6, "{info}");
}
