//! End-to-end tests of `motif similar --documents` on the real binary with
//! the hashing embedder (`MOTIF_MODEL=hash`): a copy of `seeds/` plus a
//! near-duplicate of one seed, indexed in a temporary directory.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod common;

use common::{repo, run_err, run_ok};

const SEED: &str = "seeds/000_44e9cad41cf57f3b.txt";
const COPY: &str = "seeds/zz_copy.txt";

fn fake(cwd: &Path) -> Command {
    let mut cmd = common::motif();
    cmd.current_dir(cwd).env("MOTIF_MODEL", "hash").env_remove("MOTIF_INDEX");
    cmd
}

fn json(cmd: &mut Command) -> Value {
    let out = run_ok(cmd);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{cmd:?}: not JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout)))
}

/// seeds/ and a near copy of SEED (its last paragraph dropped, one word
/// changed), indexed in `.motif`.
fn indexed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    fs::create_dir(cwd.join("seeds")).unwrap();
    for entry in fs::read_dir(repo().join("seeds")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), cwd.join("seeds").join(entry.file_name())).unwrap();
    }
    let text = fs::read_to_string(cwd.join(SEED)).unwrap();
    let paragraphs: Vec<&str> = text.trim_end().split("\n\n").collect();
    let kept = paragraphs[..paragraphs.len() - 1].join("\n\n").replacen("estimated", "approximate", 1);
    fs::write(cwd.join(COPY), kept).unwrap();
    run_ok(fake(cwd).args(["index", "seeds"]));
    dir
}

#[test]
fn a_near_duplicate_comes_first_and_every_list_is_json() {
    let ws = indexed();
    let cwd = ws.path();
    for agg in ["best-match", "mean", "top-matches"] {
        let hits = json(fake(cwd).args(["similar", SEED, "--documents", "--json", "-k", "3", "--aggregate", agg]));
        let hits = hits.as_array().unwrap();
        assert_eq!(hits.len(), 3, "{agg}");
        assert_eq!(hits[0]["doc"], COPY, "{agg}: {hits:?}");
        assert!(hits.iter().all(|h| h["from_doc"] == SEED && h["doc"] != SEED), "{agg}");
        assert!(hits.windows(2).all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()), "{agg}");
        let mut keys: Vec<&str> = hits[0].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        // The seeds' folder is their source; a first line that reads as a title is one.
        keys.retain(|k| !["source", "title", "date", "url"].contains(k));
        assert_eq!(keys, ["doc", "from_doc", "passages", "rank", "score"]);
        assert_eq!(hits[0]["source"], "seeds", "{agg}");
    }
    let text = String::from_utf8(run_ok(fake(cwd).args(["similar", SEED, "--documents"])).stdout).unwrap();
    assert!(text.contains("nearest documents by mean") && text.contains(COPY), "{text}");

    // The whole index: one flat array, each document's own list in it.
    let all = json(fake(cwd).args(["similar", "--documents", "--all", "--json", "-k", "2"]));
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 6 * 2, "six documents, two each");
    let first = |from: &str| all.iter().find(|h| h["from_doc"] == from && h["rank"] == 1).unwrap()["doc"].clone();
    assert_eq!(first(SEED), COPY);
    assert_eq!(first(COPY), SEED);
    let one = json(fake(cwd).args(["similar", SEED, "--documents", "--json", "-k", "2"]));
    let from_all: Vec<&Value> = all.iter().filter(|h| h["from_doc"] == SEED).collect();
    assert_eq!(
        from_all,
        one.as_array().unwrap().iter().collect::<Vec<_>>(),
        "one document's list is its part of --all"
    );
    // --exact takes the same route at this size, so the same lists.
    let exact = json(fake(cwd).args(["similar", "--documents", "--all", "--json", "-k", "2", "--exact"]));
    assert_eq!(exact.as_array().unwrap(), all);
    let out = run_ok(fake(cwd).args(["similar", "--documents", "--all"]));
    let (text, err) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
    assert!(
        text.contains(&format!("{COPY} (")) && err.contains("nearest documents by mean") && err.contains(": exact"),
        "{text}\n{err}"
    );
}

#[test]
fn wrong_targets_get_clear_errors() {
    let ws = indexed();
    let cwd = ws.path();
    let err = run_err(fake(cwd).args(["similar", "seeds/nope.txt", "--documents"]));
    assert!(err.contains("seeds/nope.txt: no such document"), "{err}");
    let err = run_err(fake(cwd).args(["similar", &format!("{SEED}#0"), "--documents"]));
    assert!(err.contains("whole documents") && err.contains(SEED), "{err}");
    let err = run_err(fake(cwd).args(["similar", "--all"]));
    assert!(err.contains("--documents"), "{err}");
    let err = run_err(fake(cwd).args(["similar", SEED, "--documents", "--all"]));
    assert!(err.contains("cannot be used with"), "{err}");

    // An index of one document: nothing to compare it with.
    let lone = tempfile::tempdir().unwrap();
    fs::write(lone.path().join("only.txt"), "One lonely document about troops near Kursk.").unwrap();
    run_ok(fake(lone.path()).args(["index", "only.txt"]));
    let err = run_err(fake(lone.path()).args(["similar", "only.txt", "--documents"]));
    assert!(err.contains("only.txt is the only document"), "{err}");
    let text = String::from_utf8(run_ok(fake(lone.path()).args(["similar", "--documents", "--all"])).stdout).unwrap();
    assert!(text.contains("(no other documents)"), "{text}");
}
