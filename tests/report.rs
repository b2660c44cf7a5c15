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
    let out = run_ok(motif().current_dir(work.path()).args(["overlaps", "--json", "--index", ".motif"]));
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
    // The colour control: by theme, or by source (each seed's folder, "seeds"); no document has a date.
    assert!(dom.contains("id=\"colourby\""), "the map's colour control");
    assert!(
        dom.contains("<option value=\"theme\">theme</option><option value=\"source\">source</option></select>"),
        "theme and source are the choices here"
    );
    assert!(dom.contains("coloured by theme"), "the map starts coloured by theme");
    // Claims are matched inside sentences: the seeds' different troop
    // figures are listed, and matching claims are marked in their passages.
    let conflicts = json["conflicts"].as_array().expect("the seeds disagree on troop numbers");
    assert!(!conflicts.is_empty());
    assert_eq!(dom.matches("class=\"conflict\"").count(), conflicts.len().min(300), "one box per conflict");
    assert!(dom.contains("<mark class=\"fig\">3,000</mark>"), "the disputed figure is shown");
    assert!(dom.contains("<mark class=\"claim\">"), "claims are highlighted inside their passages");

    // The same page with sources and dates on some documents, carrying a
    // sample of 10,000 of 20,500 units (as motif writes the page of a large
    // corpus): the control offers both, the date ramp runs from the earliest
    // to the latest, every unit carried is drawn and the title says it is a sample.
    let mut data = json.clone();
    let sources = [Some("Wire"), Some("Daily <b>"), None, Some("Wire"), Some("Weekly")];
    let dates = [Some("2024-01-05"), None, Some("2024-03-01T10:00:00Z"), Some("2023-12-31"), None];
    for (d, (s, t)) in data["documents"].as_array_mut().unwrap().iter_mut().zip(sources.iter().zip(&dates)) {
        match s {
            Some(s) => d["source"] = (*s).into(),
            None => drop(d.as_object_mut().unwrap().remove("source")),
        }
        if let Some(t) = t {
            d["date"] = (*t).into();
        }
    }
    let many: Vec<serde_json::Value> = units.iter().cycle().take(10_000).cloned().collect();
    data["units"] = many.into();
    data["all_units"] = 20_500.into();
    data["all_outliers"] = 0.into();
    data["all_echo_groups"] = data["echo_groups"].as_array().unwrap().len().into();
    let embedded =
        serde_json::to_string(&data).unwrap().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
    let (head, rest) = page.split_once("<script type=\"application/json\" id=\"data\">").unwrap();
    let tail = &rest[rest.find("</script>").unwrap()..];
    let variant = out_dir.join("variant.html");
    std::fs::write(&variant, format!("{head}<script type=\"application/json\" id=\"data\">{embedded}{tail}")).unwrap();
    let dom = draw(&browser, &out_dir.join("variant.html#colour=date"));
    assert!(dom.contains("data-rendered=\"ok\""), "the variant page's script did not finish");
    assert_eq!(dom.matches("<circle").count(), 10_000, "every unit the page carries is drawn");
    assert!(dom.contains("a sample of 10,000 of 20,500 drawn"), "the title says so");
    assert!(dom.contains("themes over 20,500 sentences"), "the summary counts all units");
    assert!(dom.contains("<option value=\"source\">source</option><option value=\"date\">date</option>"));
    assert!(dom.contains("coloured by date"), "#colour=date opens the map coloured by date");
    assert!(
        dom.contains("fill=\"rgb(68,1,84)\"") && dom.contains("fill=\"rgb(253,231,37)\""),
        "earliest and latest ends of the ramp"
    );
    assert!(dom.contains("2023-12-31<span class=\"ramp\"") && dom.contains("undated (2 documents)"), "the date legend");
    let dom = draw(&browser, &out_dir.join("variant.html#colour=source"));
    assert!(
        dom.contains("coloured by source")
            && dom.contains("Daily &lt;b&gt; (1 document)")
            && dom.contains("Wire (2 documents)")
    );
    assert!(dom.contains("no source (1 document)"), "the source legend");
}

/// All of BBC News (2,225 articles, ~44,000 sentences; the hashing embedder,
/// so no model is needed): report.html stays under 5 MB however large the
/// corpus (a sample of the units, the first echo groups; report.json has
/// everything) and headless Chromium draws it.
#[test]
#[cfg_attr(debug_assertions, ignore = "a large corpus: too slow unoptimised; cargo test --release runs it")]
fn the_page_of_all_bbc_news_stays_under_five_megabytes_and_draws() {
    let Some(bbc) = common::data_file("bbc/bbc.jsonl") else { return };
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("rep");
    // Run inside the temporary folder: `report PATH` indexes into
    // `./.motif`, which must not be the repository's own.
    run_ok(motif().current_dir(work.path()).args(["report", "--model", "hash", "--out"]).arg(&out).arg(&bbc));
    let html = out.join("report.html");
    let (page, whole) =
        (std::fs::metadata(&html).unwrap().len(), std::fs::metadata(out.join("report.json")).unwrap().len());
    assert!(page < 5_000_000, "report.html is {page} bytes");
    assert!(whole > 3 * page, "report.json ({whole} bytes) keeps everything the page leaves out");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let units = json["units"].as_array().unwrap().len();
    assert!(units > 40_000, "{units} units: the test must be of a large report");
    let Some(browser) = chromium() else {
        common::skip("no chromium on PATH to draw report.html (apt-get install chromium)");
        return;
    };
    let dom = draw(&browser, &html);
    assert!(dom.contains("data-rendered=\"ok\""), "the page's script did not finish");
    let drawn = dom.matches("<circle").count();
    assert!((motif::report::PAGE_UNITS..units).contains(&drawn), "{drawn} points drawn of {units}");
    let title = format!("a sample of {} of {} drawn", fmt_thousands(drawn), fmt_thousands(units));
    assert!(dom.contains(&title), "the map says it is a sample: {title}");
}

/// 44209 → "44,209", as the page prints counts.
fn fmt_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
