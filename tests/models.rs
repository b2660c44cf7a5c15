//! Models beyond MiniLM through the real binary: the tiny BERT, MPNet,
//! XLM-RoBERTa and e5-style fixture folders (`tests/fixtures/models`, random
//! weights, no download) index, search and compare like any model, and a
//! multilingual model's pairs across scripts are never called copies.
//! Parity of their vectors with sentence-transformers is tested in
//! `crates/motif-bert/tests/fixtures.rs`.

mod common;

use common::*;

fn seeds() -> String {
    repo().join("seeds").display().to_string()
}

fn fixture(name: &str) -> String {
    repo().join("tests/fixtures/models").join(name).display().to_string()
}

#[test]
fn every_fixture_architecture_indexes_and_answers_queries() {
    for name in ["tiny-bert", "tiny-mpnet", "tiny-xlmr", "tiny-e5"] {
        let index = tempfile::tempdir().unwrap();
        let idx = index.path().join("idx");
        run_ok(motif().args(["index", "--model", &fixture(name), "--index"]).arg(&idx).arg(seeds()));
        let out = run_ok(
            motif().args(["query", "--json", "-k", "3", "--index"]).arg(&idx).arg("North Korean troops in Kursk"),
        );
        let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(hits.as_array().map(Vec::len), Some(3), "{name}: {hits}");
        let info = run_ok(motif().args(["info", "--json", "--index"]).arg(&idx));
        let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
        assert_eq!(info["dim"], 64, "{name}: {info}");
        // An index keeps its model: another one is refused, in one line that says what to do.
        let other = if name == "tiny-bert" { "tiny-mpnet" } else { "tiny-bert" };
        let err = run_err(motif().args(["index", "--model", &fixture(other), "--index"]).arg(&idx).arg(seeds()));
        assert!(err.contains("to switch models, index again") && err.trim().lines().count() == 1, "{name}: {err}");
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

/// A threshold is the model's: a folder model without a calibration gets
/// MiniLM's with a note; `eval calibrate --save` keeps one in the folder,
/// which overlaps then use; the flags still win.
#[test]
fn each_model_has_its_own_overlap_threshold() {
    let model = tempfile::tempdir().unwrap();
    for entry in ["config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json"] {
        let to = model.path().join(entry);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo().join("tests/fixtures/models/tiny-bert").join(entry), to).unwrap();
    }
    let name = model.path().display().to_string();
    let overlaps = |extra: &[&str]| {
        let out = run_ok(motif().args(["overlaps", "--json", "--model", &name]).args(extra).arg(seeds()));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            report["meta"]["threshold"].as_f64().unwrap(),
            report["meta"]["lexical_weight"].as_f64().unwrap(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (t, w, note) = overlaps(&[]);
    assert!((t - 0.594).abs() < 1e-6 && (w - 0.2).abs() < 1e-6, "{t} {w}");
    assert!(note.contains("no calibrated overlap threshold") && note.contains("--save"), "{note}");

    // Scored pairs in the STS-B layout: the same sentence (5), unrelated ones (0).
    let seeds_text = std::fs::read_to_string(repo().join("seeds/000_44e9cad41cf57f3b.txt")).unwrap();
    let lines: Vec<&str> = seeds_text.lines().filter(|l| l.split_whitespace().count() > 8).take(12).collect();
    let mut tsv = String::from("score\tsentence1\tsentence2\n");
    for (i, l) in lines.iter().enumerate() {
        tsv += &format!("5.0\t{l}\t{l}\n0.0\t{l}\t{}\n", lines[(i + 5) % lines.len()]);
    }
    let pairs = model.path().join("pairs.tsv");
    std::fs::write(&pairs, tsv).unwrap();
    let out = run_ok(motif().args(["eval", "calibrate", "--save", "--json", "--model", &name]).arg(&pairs));
    let calibration: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let chosen = &calibration["chosen"];
    assert!(model.path().join("motif.json").is_file());
    let (t, w, note) = overlaps(&[]);
    assert!((t - chosen["threshold"].as_f64().unwrap()).abs() < 1e-4, "{t} vs {chosen}");
    assert!((w - chosen["lexical_weight"].as_f64().unwrap()).abs() < 1e-6, "{w} vs {chosen}");
    assert!(!note.contains("no calibrated"), "{note}");
    let (t, _, _) = overlaps(&["--threshold", "0.9"]);
    assert!((t - 0.9).abs() < 1e-6);

    // A known model's calibration lives in the manifest, not in a file.
    let err = run_err(motif().args(["eval", "calibrate", "--save", "--model", "all-mpnet-base-v2"]).arg(&pairs));
    assert!(err.contains("manifest"), "{err}");
}
