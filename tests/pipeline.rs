//! End-to-end tests of the whole pipeline on the real binary with the
//! built-in hashing embedder (`--model hash`): no model download, so they
//! run in a debug build in seconds. They check the wiring (index → corpus →
//! units → one k-NN graph → overlaps and themes → report), incremental
//! indexing against a fresh index, the flags every command shares, and
//! errors on bad input; the real model's quality is checked by the other
//! suites.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{motif, repo, run_err, run_ok};
use serde_json::Value;

/// The binary with the hashing embedder as the default model.
fn fake() -> Command {
    let mut cmd = motif();
    cmd.env("MOTIF_MODEL", "hash").env_remove("MOTIF_INDEX");
    cmd
}

fn json(cmd: &mut Command) -> Value {
    let out = run_ok(cmd);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// A small corpus of news-like paragraphs: three documents share a claim
/// in other words, one is unrelated.
fn corpus(dir: &Path) -> PathBuf {
    let docs = dir.join("docs");
    fs::create_dir_all(&docs).unwrap();
    let files = [
        (
            "a.txt",
            "North Korea has sent about ten thousand troops to Russia, officials in Seoul said on Monday.\n\n\
             The soldiers are expected to fight near the Kursk border region within weeks.\n\n\
             Grain exports from the southern ports rose again in the third quarter of the year.",
        ),
        (
            "b.txt",
            "Officials in Seoul said North Korea sent ten thousand troops to Russia this month.\n\n\
             Analysts expect the North Korean soldiers to fight in the Kursk region soon.\n\n\
             The central bank kept interest rates unchanged and signalled patience on inflation.",
        ),
        (
            "c.txt",
            "About ten thousand North Korean troops went to Russia, Seoul officials said.\n\n\
             Pyongyang gains battlefield experience and money from the deployment, experts say.",
        ),
        (
            "d.txt",
            "The local football club won its third match in a row on Saturday afternoon.\n\n\
             Fans celebrated in the town square until late into the night with songs.",
        ),
    ];
    for (name, text) in files {
        fs::write(docs.join(name), text).unwrap();
    }
    docs
}

#[test]
fn report_finds_the_shared_claim_and_its_themes_match_motif_themes() {
    let dir = tempfile::tempdir().unwrap();
    let docs = corpus(dir.path());
    let index = dir.path().join("idx");
    let out = dir.path().join("rep");
    run_ok(fake().arg("report").arg(&docs).arg("--index").arg(&index).arg("--out").arg(&out).args(["--min-size", "2"]));
    let report: Value = serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["model"], "hash");
    assert_eq!(report["unit"], "sentence");
    assert_eq!(report["documents"].as_array().unwrap().len(), 4);
    // The troops claim links a, b and c in one echo group; d is in none.
    let passages = report["passages"].as_array().unwrap();
    let doc_of = |p: &Value| report["documents"][p.as_u64().unwrap() as usize]["id"].as_str().unwrap().to_string();
    let group_docs: Vec<Vec<String>> = report["echo_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let mut d: Vec<String> = g["passages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| doc_of(&passages[p.as_u64().unwrap() as usize]["doc"]))
                .collect();
            d.sort();
            d.dedup();
            d
        })
        .collect();
    assert!(
        group_docs.iter().any(|d| d.len() == 3 && d.iter().all(|n| !n.ends_with("d.txt"))),
        "groups {group_docs:?}"
    );
    assert!(
        group_docs.iter().all(|d| d.iter().all(|n| !n.ends_with("d.txt"))),
        "the unrelated document echoes nothing: {group_docs:?}"
    );
    for name in ["report.html", "report.md"] {
        assert!(fs::metadata(out.join(name)).unwrap().len() > 1000, "{name}");
    }

    // `motif themes` reads the same index through the same graph: same themes.
    let themes = json(fake().args(["themes", "--json", "--min-size", "2", "--index"]).arg(&index));
    let sizes = |v: &Value, key: &str| -> Vec<u64> {
        v["themes"].as_array().unwrap().iter().map(|t| t[key].as_u64().unwrap()).collect()
    };
    assert_eq!(sizes(&themes, "size"), sizes(&report, "size"));
    assert_eq!(themes["units"].as_u64().unwrap() as usize, report["units"].as_array().unwrap().len());
    let labels = |v: &Value| -> Vec<String> {
        v["themes"].as_array().unwrap().iter().map(|t| t["label"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(labels(&themes), labels(&report));

    // Same index, same report, byte for byte.
    let again = dir.path().join("rep2");
    run_ok(fake().arg("report").arg("--index").arg(&index).arg("--out").arg(&again).args(["--min-size", "2"]));
    assert_eq!(fs::read(out.join("report.json")).unwrap(), fs::read(again.join("report.json")).unwrap());
}

#[test]
fn overlaps_and_themes_read_motif_index_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let docs = corpus(dir.path());
    let index = dir.path().join("elsewhere.motif");
    run_ok(fake().arg("index").arg(&docs).arg("--index").arg(&index));
    // Run where there is no ./.motif: only MOTIF_INDEX can lead to the index.
    let cwd = tempfile::tempdir().unwrap();
    for args in [&["overlaps", "--json"][..], &["themes", "--json"][..]] {
        let v = json(fake().current_dir(cwd.path()).env("MOTIF_INDEX", &index).args(args));
        assert!(v.is_object(), "{args:?}");
    }
    let err = run_err(fake().current_dir(cwd.path()).args(["overlaps", "--json"]));
    assert!(err.contains(".motif"), "{err}");
}

#[test]
fn incremental_indexing_matches_a_fresh_index_of_the_final_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let docs = corpus(dir.path());
    let grown = dir.path().join("grown");
    run_ok(fake().arg("index").arg(&docs).arg("--index").arg(&grown));
    // Edit one, remove one, add one; prune.
    fs::write(docs.join("b.txt"), "Seoul officials now say twelve thousand North Korean troops are in Russia.")
        .unwrap();
    fs::remove_file(docs.join("d.txt")).unwrap();
    fs::write(docs.join("e.txt"), "Russia denied that any foreign troops fight near Kursk.").unwrap();
    let summary = json(fake().arg("index").arg(&docs).arg("--index").arg(&grown).args(["--prune", "--json"]));
    assert_eq!(summary["replaced"].as_array().unwrap().len(), 1);
    assert_eq!(summary["removed"].as_array().unwrap().len(), 1);
    assert_eq!(summary["added"].as_array().unwrap().len(), 1);
    assert_eq!(summary["kept"], 2);
    let fresh = dir.path().join("fresh");
    run_ok(fake().arg("index").arg(&docs).arg("--index").arg(&fresh));
    for target in ["a.txt", "e.txt#0"] {
        let name = format!("{}", docs.join(target).display());
        let q = |idx: &Path| json(fake().args(["similar", &name, "--json", "-k", "4", "--index"]).arg(idx));
        let (g, f) = (q(&grown), q(&fresh));
        let key = |v: &Value| -> Vec<(String, u64)> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|h| (h["doc"].as_str().unwrap().to_string(), h["passage"].as_u64().unwrap()))
                .collect()
        };
        assert_eq!(key(&g), key(&f), "{target}");
    }
    // Nothing changed: nothing is embedded again and the graph stays.
    let summary = json(fake().arg("index").arg(&docs).arg("--index").arg(&grown).args(["--json"]));
    assert_eq!((summary["passages_embedded"].as_u64(), summary["graph_rebuilt"].as_bool()), (Some(0), Some(false)));
}

#[test]
fn a_title_is_text_not_a_template() {
    let dir = tempfile::tempdir().unwrap();
    let docs = corpus(dir.path());
    let out = dir.path().join("rep");
    run_ok(
        fake()
            .arg("report")
            .arg(&docs)
            .arg("--index")
            .arg(dir.path().join("idx"))
            .arg("--out")
            .arg(&out)
            .args(["--title", "{{DATA}} & <b>"]),
    );
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    let title = &html[html.find("<title>").unwrap()..html.find("</title>").unwrap()];
    assert_eq!(title, "<title>{{DATA}} &amp; &lt;b&gt;");
}

#[test]
fn seeds_run_end_to_end_with_every_unit_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("idx");
    run_ok(fake().arg("index").arg(repo().join("seeds")).arg("--index").arg(&index));
    let t = json(fake().args(["themes", "--json", "--index"]).arg(&index));
    let members: usize = t["themes"].as_array().unwrap().iter().map(|th| th["members"].as_array().unwrap().len()).sum();
    assert_eq!(members + t["outlier_units"].as_array().unwrap().len(), t["units"].as_u64().unwrap() as usize);
    let o = json(fake().args(["overlaps", "--granularity", "sentence", "--json", "--index"]).arg(&index));
    assert!(o.is_object());
    let exact =
        json(fake().args(["overlaps", "--granularity", "sentence", "--exact", "--json", "--index"]).arg(&index));
    // The exact k-NN graph (below 50,000 units) finds what scoring all pairs finds.
    assert_eq!(o["pairs"], exact["pairs"]);
    let info = json(fake().args(["info", "--json", "--index"]).arg(&index));
    assert_eq!(info["model"], "hash");
    assert_eq!(info["graph"]["status"], "fresh");
}

#[test]
fn bad_input_gets_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let err = run_err(fake().arg("index").arg(&empty).arg("--index").arg(dir.path().join("idx")));
    assert!(err.contains("no text"), "{err}");
    assert!(!dir.path().join("idx").exists(), "bad input leaves no index behind");
    // A .npy with no rows names the file instead of dividing by zero.
    let npy = dir.path().join("empty.npy");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 384), }";
    let pad = 64 - (10 + header.len() + 1) % 64;
    let header = format!("{header}{}\n", " ".repeat(pad));
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    fs::write(&npy, bytes).unwrap();
    let err = run_err(fake().args(["bench", "index", "--n", "10", "--vectors"]).arg(&npy));
    assert!(err.contains("empty.npy") && err.contains("no vectors"), "{err}");
    let err = run_err(fake().args(["similar", "nope.txt", "--index"]).arg(dir.path().join("missing")));
    assert!(err.contains("missing"), "{err}");
}

/// Paragraphs of several sentences, three of them restating one claim, so
/// that passage overlaps align sentences inside passages.
fn restated(dir: &Path) -> PathBuf {
    let docs = dir.join("restated");
    fs::create_dir_all(&docs).unwrap();
    let files = [
        (
            "a.txt",
            "North Korea has sent about ten thousand troops to Russia, officials in Seoul said on Monday. \
             The soldiers are expected to fight near the Kursk border region within weeks.\n\n\
             Grain exports from the southern ports rose again. Shipping insurers lowered their rates.",
        ),
        (
            "b.txt",
            "Officials in Seoul said on Monday that North Korea has sent about ten thousand troops to Russia. \
             The soldiers are expected to fight near Kursk within weeks.\n\n\
             The central bank kept interest rates unchanged. It signalled patience on inflation.",
        ),
        (
            "c.txt",
            "North Korea sent about ten thousand troops to Russia, Seoul officials said on Monday. \
             Analysts say the soldiers will fight near the Kursk border region.\n\n\
             The local football club won its third match in a row. Fans celebrated in the town square.",
        ),
    ];
    for (name, text) in files {
        fs::write(docs.join(name), text).unwrap();
    }
    docs
}

#[test]
fn an_index_stores_every_sentence_so_its_readers_embed_none_and_find_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let docs = restated(dir.path());
    let index = dir.path().join("idx");
    let summary = json(fake().arg("index").arg(&docs).arg("--index").arg(&index).arg("--json"));
    assert!(summary["sentences_embedded"].as_u64().unwrap() > 0, "{summary}");
    let again = json(fake().arg("index").arg(&docs).arg("--index").arg(&index).arg("--json"));
    assert_eq!((again["passages_embedded"].as_u64(), again["sentences_embedded"].as_u64()), (Some(0), Some(0)));

    // overlaps (passages, their sentences aligned) and themes: the index
    // embeds nothing and finds what reading the files finds.
    // Both granularities that embed below the passage: the passages' own
    // sentences aligned, and claims (stored with their sentences).
    for granularity in ["passage", "claim"] {
        let overlaps = |from: &[&std::ffi::OsStr]| {
            json(fake().args(["overlaps", "--granularity", granularity, "--json"]).args(from))
        };
        let (stored, read) = (overlaps(&["--index".as_ref(), index.as_os_str()]), overlaps(&[docs.as_os_str()]));
        assert_eq!(stored["meta"]["sentences_embedded"], 0, "{granularity}: {}", stored["meta"]);
        assert!(read["meta"]["sentences_embedded"].as_u64().unwrap() > 0);
        assert!(!stored["pairs"].as_array().unwrap().is_empty(), "{granularity}");
        if granularity == "passage" {
            assert!(stored["pairs"].as_array().unwrap().iter().any(|p| p["sentences"].as_array().unwrap().len() > 1));
        }
        for key in ["pairs", "groups"] {
            assert_eq!(stored[key], read[key], "{granularity}: {key}");
        }
    }
    let themes = |from: &[&std::ffi::OsStr]| {
        json(fake().args(["themes", "--json", "--min-size", "2", "--no-save-themes"]).args(from))
    };
    let (stored, read) = (themes(&["--index".as_ref(), index.as_os_str()]), themes(&[docs.as_os_str()]));
    assert_eq!(stored["sentences_embedded"], 0);
    assert!(read["sentences_embedded"].as_u64().unwrap() > 0);
    assert_eq!(stored["units"], read["units"]);
    // An index's themes are tracked across runs (`status`); files' are not.
    let untracked = |v: &Value| -> Vec<Value> {
        let mut themes = v["themes"].as_array().unwrap().clone();
        themes.iter_mut().for_each(|t| drop(t.as_object_mut().unwrap().remove("status")));
        themes
    };
    assert!(!untracked(&stored).is_empty());
    assert_eq!(untracked(&stored), untracked(&read));

    // report: says it embedded nothing.
    let report = |idx: &Path, out: &str| {
        let out = dir.path().join(out);
        let run = run_ok(fake().arg("report").arg("--index").arg(idx).arg("--out").arg(&out).args([
            "--min-size",
            "2",
            "--no-save-themes",
            "--title",
            "t",
        ]));
        (String::from_utf8_lossy(&run.stderr).into_owned(), fs::read_to_string(out.join("report.json")).unwrap())
    };
    let (said, stored) = report(&index, "rep");
    assert!(said.contains("motif: 0 sentences embedded in this run"), "{said}");

    // The same index as motif before format 4 wrote it: readers embed the
    // sentences in memory (and say so) and report the same.
    let old = dir.path().join("old");
    common::copy_dir(&index, &old);
    let conn = rusqlite::Connection::open(old.join("index.sqlite")).unwrap();
    conn.execute_batch("DROP TABLE sentences; UPDATE manifest SET value = '3' WHERE key = 'format_version'").unwrap();
    drop(conn);
    let (said, in_memory) = report(&old, "rep-old");
    assert!(said.contains("does not store") && said.contains("motif index"), "{said}");
    assert_eq!(stored, in_memory);
    // The next `motif index` stores them once, changing nothing else.
    let run = run_ok(fake().arg("index").arg(&docs).arg("--index").arg(&old).arg("--json"));
    let upgraded: Value = serde_json::from_slice(&run.stdout).unwrap();
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(said.contains("had no stored sentences"), "{said}");
    assert_eq!(upgraded["sentences_embedded"], summary["sentences_embedded"]);
    assert_eq!((upgraded["passages_embedded"].as_u64(), upgraded["graph_rebuilt"].as_bool()), (Some(0), Some(false)));
    let (said, upgraded) = report(&old, "rep-upgraded");
    assert!(said.contains("motif: 0 sentences embedded in this run"), "{said}");
    assert_eq!(stored, upgraded);
}
