//! `motif report` end to end: the three files, their agreement, and the
//! HTML page drawn by a real browser (headless Chromium) without errors.

mod common;

use common::*;

#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn report_on_seeds_writes_html_markdown_and_json() {
    let work = tempfile::tempdir().unwrap();
    let seeds = work.path().join("seeds");
    copy_dir(&repo().join("seeds"), &seeds);
    let out_dir = work.path().join("report");
    run_ok(motif().current_dir(work.path()).args(["report", "seeds", "--out", "report"]));

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap()).unwrap();
    let passages = json["passages"].as_array().unwrap().len();
    let units = json["units"].as_array().unwrap();
    let themes = json["themes"].as_array().unwrap();
    assert_eq!(json["unit"], "sentence");
    assert!(units.len() > passages, "{} sentences in {passages} passages", units.len());
    for u in units {
        let p = &json["passages"][u["passage"].as_u64().unwrap() as usize];
        assert!(
            p["start"].as_u64() <= u["start"].as_u64() && u["end"].as_u64() <= p["end"].as_u64(),
            "a sentence lies inside its passage: {u}"
        );
    }
    assert_eq!(json["documents"].as_array().unwrap().len(), 5);
    assert!(passages > 50, "{passages} passages");
    assert!(themes.len() >= 3, "{} themes", themes.len());
    assert!(!json["echo_groups"].as_array().unwrap().is_empty(), "the seeds repeat claims");
    // Every pair `motif overlaps` finds is kept: inside a group or between two.
    let inside: usize =
        json["echo_groups"].as_array().unwrap().iter().map(|g| g["pairs"].as_array().unwrap().len()).sum();
    let between = json["between_groups"].as_array().unwrap().len();
    let out = run_ok(motif().current_dir(work.path()).args([
        "overlaps",
        "--granularity",
        "sentence",
        "--json",
        "--index",
        ".motif",
    ]));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inside + between, found["pairs"].as_array().unwrap().len(), "{inside} in groups, {between} between");
    let spanning = themes.iter().filter(|t| t["documents"].as_array().unwrap().len() >= 3).count();
    assert!(spanning >= 3, "{spanning} themes span three or more documents");
    // The report's themes are `motif themes`' on the same index and seed.
    let out = run_ok(motif().current_dir(work.path()).args(["themes", "--json", "--index", ".motif"]));
    let alone: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = |ts: &serde_json::Value| -> Vec<(String, u64)> {
        ts.as_array()
            .unwrap()
            .iter()
            .map(|t| (t["label"].as_str().unwrap().to_string(), t["size"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(summary(&json["themes"]), summary(&alone["themes"]));

    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains("## Documents × themes") && md.contains("## Echo groups"));
    for t in themes {
        assert!(md.contains(&format!("### T{}: {}", t["id"], t["label"].as_str().unwrap())));
    }

    // Same index, same seed: the same report, byte for byte.
    run_ok(motif().current_dir(work.path()).args(["report", "--out", "again"]));
    assert_eq!(
        std::fs::read(out_dir.join("report.json")).unwrap(),
        std::fs::read(work.path().join("again/report.json")).unwrap()
    );

    let html = out_dir.join("report.html");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "the page must load nothing from the network"
    );
    let Some(browser) = chromium() else {
        common::skip("no chromium on PATH to draw report.html (apt-get install chromium)");
        return;
    };
    let dom = draw(&browser, &html);
    assert!(dom.contains("data-rendered=\"ok\""), "the page's script did not finish: {dom}");
    assert_eq!(dom.matches("<circle").count(), units.len(), "one point per sentence on the map");
    let docs = 5;
    assert_eq!(dom.matches("class=\"cell\"").count(), docs * themes.len(), "a grid cell per document and theme");
}
