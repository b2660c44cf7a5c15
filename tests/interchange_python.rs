//! The Python side of interchange, run for real: `scripts/ray_embed.py`
//! (Ray Data in local mode calling `motif embed` per worker) gives the
//! vectors, document names and report of a plain `motif index`, and
//! `scripts/check_export.py` reads every table of a `motif export` with
//! DuckDB (and fails on a tampered one).
//!
//! Python comes from `$MOTIF_PYTHON`, a venv with
//! `scripts/requirements-interchange.txt` installed (`.ci/run` makes one).
//! Without it the tests say why and skip; under CI that is a failure.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};

use common::*;
use serde_json::Value;

/// `$MOTIF_PYTHON` when it can import ray, duckdb and pyarrow; otherwise
/// None after saying why (which under CI fails the test).
fn python() -> Option<OsString> {
    let install = "python3 -m venv .venv-interchange && .venv-interchange/bin/pip install -r \
                   scripts/requirements-interchange.txt, then MOTIF_PYTHON=.venv-interchange/bin/python";
    let Some(py) = std::env::var_os("MOTIF_PYTHON") else {
        skip(&format!("MOTIF_PYTHON is not set ({install})"));
        return None;
    };
    match Command::new(&py).args(["-c", "import ray, duckdb, pyarrow"]).output() {
        Ok(out) if out.status.success() => Some(py),
        Ok(out) => {
            let why = String::from_utf8_lossy(&out.stderr);
            let last = why.lines().last().unwrap_or("");
            skip(&format!("{} cannot import ray, duckdb, pyarrow: {last} ({install})", Path::new(&py).display()));
            None
        }
        Err(e) => {
            skip(&format!("MOTIF_PYTHON={} does not run: {e} ({install})", Path::new(&py).display()));
            None
        }
    }
}

fn script(py: &OsString, name: &str, work: &Path) -> Command {
    let mut cmd = Command::new(py);
    cmd.current_dir(work).env("MOTIF_NO_PROGRESS", "1").arg(repo().join("scripts").join(name));
    cmd
}

fn run_script(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("python runs");
    assert!(
        out.status.success(),
        "script failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// corpus.jsonl: the seeds (id: the file name) and the first 40 BBC articles.
fn write_corpus(work: &Path, bbc: &Path) {
    let mut seeds: Vec<_> = std::fs::read_dir(repo().join("seeds")).unwrap().map(|e| e.unwrap().path()).collect();
    seeds.sort();
    let mut lines: Vec<String> = seeds
        .iter()
        .map(|p| {
            let id = p.file_name().unwrap().to_string_lossy();
            serde_json::json!({"id": id, "text": std::fs::read_to_string(p).unwrap()}).to_string()
        })
        .collect();
    for line in std::fs::read_to_string(bbc).unwrap().lines().take(40) {
        let v: Value = serde_json::from_str(line).unwrap();
        lines.push(serde_json::json!({"id": v["id"], "text": v["text"]}).to_string());
    }
    std::fs::write(work.join("corpus.jsonl"), lines.join("\n") + "\n").unwrap();
}

/// Every passage's vector in an index, by (document name, ordinal), read
/// from a JSONL export of it.
fn vectors(work: &Path, index: &str) -> BTreeMap<(String, u64), Vec<f64>> {
    let out = format!("vectors-{index}");
    let args = ["export", "--index", index, "--out", &out, "--format", "jsonl", "--no-analyses"];
    run_ok(motif().current_dir(work).args(args));
    let read = |table: &str| json_lines(&std::fs::read(work.join(&out).join(format!("{table}.jsonl"))).unwrap());
    let names: BTreeMap<u64, String> = read("documents")
        .iter()
        .map(|d| (d["document_id"].as_u64().unwrap(), d["name"].as_str().unwrap().to_string()))
        .collect();
    let passages: BTreeMap<u64, (String, u64)> = read("passages")
        .iter()
        .map(|p| {
            let doc = names[&p["document_id"].as_u64().unwrap()].clone();
            (p["passage_id"].as_u64().unwrap(), (doc, p["ordinal"].as_u64().unwrap()))
        })
        .collect();
    read("vectors")
        .iter()
        .map(|v| (passages[&v["passage_id"].as_u64().unwrap()].clone(), floats(&v["embedding"])))
        .collect()
}

/// Where two JSON values first differ, as a path, for a readable failure.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<_> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(u), Some(v)) => first_difference(u, v, &format!("{path}.{k}")),
                _ => Some(format!("{path}.{k}: only on one side")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (u, v))| first_difference(u, v, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => {
            let short = |v: &Value| v.to_string().chars().take(200).collect::<String>();
            Some(format!("{path}: {} vs {}", short(a), short(b)))
        }
    }
}

fn report(work: &Path, index: &str) -> Value {
    let out = format!("report-{index}");
    run_ok(motif().current_dir(work).args(["report", "--index", index, "--out", &out, "--title", "T"]));
    serde_json::from_str(&std::fs::read_to_string(work.join(out).join("report.json")).unwrap()).unwrap()
}

#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn ray_embeddings_index_and_report_like_motif_s_own() {
    let Some(py) = python() else { return };
    let Some(bbc) = data_file("bbc/bbc.jsonl") else { return };
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    write_corpus(w, &bbc);
    run_ok(motif().current_dir(w).args(["index", "corpus.jsonl", "--index", "A"]));

    let started = std::time::Instant::now();
    let out = run_script(
        script(&py, "ray_embed.py", w)
            .args(["corpus.jsonl", "--out", "ray-out", "--batch-rows", "16"])
            .args(["--motif", env!("CARGO_BIN_EXE_motif")]),
    );
    eprintln!("ray_embed.py took {:.1} s", started.elapsed().as_secs_f64());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("passages in"), "{stderr}");
    let parts: Vec<_> = std::fs::read_dir(w.join("ray-out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert!(!parts.is_empty(), "Ray wrote Parquet part files");

    // No model flag: the part files' metadata names the model.
    let out = run_ok(motif().current_dir(w).args(["index", "--from", "ray-out", "--index", "B", "--json"]));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["passages_embedded"], 0, "nothing is embedded again: {summary}");

    // (i) The same documents, named alike, with the same passages and vectors.
    let (mine, ray) = (vectors(w, "A"), vectors(w, "B"));
    assert_eq!(mine.keys().collect::<Vec<_>>(), ray.keys().collect::<Vec<_>>(), "the same (document, ordinal) keys");
    assert!(mine.len() > 200, "{} passages", mine.len());
    assert!(mine.keys().any(|(d, _)| d == "corpus.jsonl:000_44e9cad41cf57f3b.txt"), "names are FILE:ID");
    for (key, v) in &mine {
        let c = cosine(v, &ray[key]);
        assert!(c >= 0.9999, "{key:?}: cosine {c}");
    }

    // (ii) The same report, field for field.
    let (a, b) = (report(w, "A"), report(w, "B"));
    if let Some(diff) = first_difference(&a, &b, "report.json") {
        panic!("the reports differ at {diff}");
    }
}

#[test]
fn duckdb_reads_every_export_and_catches_a_tampered_one() {
    let Some(py) = python() else { return };
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    copy_dir(&repo().join("seeds"), &w.join("seeds"));
    run_ok(motif().current_dir(w).args(["index", "seeds", "--index", "A", "--model", "hash"]));
    run_ok(motif().current_dir(w).args(["export", "--index", "A", "--out", "E"]));
    run_ok(motif().current_dir(w).args(["export", "--index", "A", "--out", "E2", "--format", "jsonl"]));
    run_ok(motif().current_dir(w).args(["export", "--index", "A", "--out", "E3", "--no-analyses"]));

    for dir in ["E", "E2", "E3"] {
        let out = run_script(script(&py, "check_export.py", w).arg(dir));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(": OK"), "{dir}: {stdout}");
        assert!(stdout.contains("passages JOIN vectors JOIN documents"), "{dir}: {stdout}");
        assert!(stdout.contains("example query"), "{dir}: {stdout}");
    }
    let full = String::from_utf8_lossy(&run_script(script(&py, "check_export.py", w).arg("E")).stdout).into_owned();
    for table in ["documents", "passages", "vectors", "overlaps", "echo_groups", "themes", "theme_members"] {
        assert!(full.contains(&format!("  {table} ")), "{table} checked: {full}");
    }
    assert!(full.contains("000_44e9cad41cf57f3b.txt"), "the example query lists the sources: {full}");

    // A manifest that says one passage more than the file holds: the check fails, naming both.
    copy_dir(&w.join("E"), &w.join("T"));
    let path = w.join("T/manifest.json");
    let mut manifest: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let rows = manifest["tables"]["passages"]["rows"].as_u64().unwrap();
    manifest["tables"]["passages"]["rows"] = (rows + 1).into();
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    let out = script(&py, "check_export.py", w).arg("T").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{rows} rows, manifest.json says {}", rows + 1)), "{stderr}");

    // A vectors file that lost a row: the count and the join both fail.
    copy_dir(&w.join("E2"), &w.join("T2"));
    let vectors = std::fs::read_to_string(w.join("T2/vectors.jsonl")).unwrap();
    let kept: Vec<&str> = vectors.lines().skip(1).collect();
    std::fs::write(w.join("T2/vectors.jsonl"), kept.join("\n") + "\n").unwrap();
    let out = script(&py, "check_export.py", w).arg("T2").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("passages JOIN vectors JOIN documents"), "{stderr}");
}
