//! Models beyond MiniLM through the real binary: the tiny BERT, MPNet,
//! XLM-RoBERTa and e5-style fixture folders (`tests/fixtures/models`, random
//! weights, no download) index, search and compare like any model, and a
//! multilingual model's pairs across scripts are never called copies.
//! Parity of their vectors with sentence-transformers is tested in
//! `crates/motif-bert/tests/fixtures.rs`.

mod common;

use common::*;

fn fixture(name: &str) -> String {
    repo().join("tests/fixtures/models").join(name).display().to_string()
}

#[test]
fn every_fixture_architecture_indexes_and_answers_queries() {
    for name in ["tiny-bert", "tiny-mpnet", "tiny-xlmr", "tiny-e5"] {
        let index = tempfile::tempdir().unwrap();
        let idx = index.path().join("idx");
        run_ok(motif().args(["index", "--model", &fixture(name), "--index"]).arg(&idx).arg(seeds()));
        let out = run_ok(motif().args(["query", "--json", "-k", "3", "--index"]).arg(&idx).arg("North Korean troops in Kursk"));
        let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(hits.as_array().map(Vec::len), Some(3), "{name}: {hits}");
        let info = run_ok(motif().args(["info", "--json", "--index"]).arg(&idx));
        let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
        assert_eq!(info["dim"], 64, "{name}: {info}");
        // An index keeps its model: another one is refused, in one line that says what to do.
        let other = if name == "tiny-bert" { "tiny-mpnet" } else { "tiny-bert" };
        let err = run_err(motif().args(["index", "--model", &fixture(other), "--index"]).arg(&idx).arg(seeds()));
        assert!(err.contains("model") && err.lines().filter(|l| !l.trim().is_empty()).count() <= 2, "{name}: {err}");
    }
}

/// A multilingual model links an English sentence with its Russian
/// translation; the pair is `cross-language`, scored by its cosine alone
/// (shared words are no evidence across scripts), while an English copy
/// stays `verbatim`.
#[test]
fn pairs_across_scripts_are_cross_language_never_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let en = "North Korea has sent 10,000 troops to Russia's Kursk region, officials said on Monday.";
    let copy = "Officials said on Monday that North Korea has sent 10,000 troops to Russia's Kursk region.";
    // Shares the figure and the name Kursk in Latin letters with the English.
    let ru = "Северная Корея направила 10,000 военных в Курскую область (Kursk) России, заявили в понедельник.";
    for (file, text) in [("en.txt", en), ("copy.txt", copy), ("ru.txt", ru)] {
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    let out = run_ok(
        motif()
            .args(["overlaps", "--json", "--threshold", "0.3", "--min-words", "1", "--model", &fixture("tiny-xlmr")])
            .arg(dir.path()),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pairs = report["pairs"].as_array().unwrap();
    let docs = |p: &serde_json::Value| {
        let name = |side: &str| p[side]["doc"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        let mut d = [name("a"), name("b")];
        d.sort();
        d
    };
    let mut across = 0;
    for p in pairs {
        let d = docs(p);
        let russian = d.iter().any(|n| n == "ru.txt");
        for s in p["sentences"].as_array().unwrap().iter().chain([p]) {
            if russian {
                assert_eq!(s["kind"], "cross-language", "{p}");
                assert_eq!(s["score"], s["cosine"], "across scripts the cosine alone scores: {p}");
            } else {
                assert_eq!(s["kind"], "verbatim", "{p}");
            }
        }
        across += russian as usize;
    }
    assert!(across >= 2, "both English texts link to the Russian one: {report}");
    assert!(pairs.iter().any(|p| docs(p) == ["copy.txt", "en.txt"]), "the English copy is found: {report}");
}
