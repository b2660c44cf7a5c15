//! End-to-end tests of what a document says about itself (date, source,
//! title, URL) on the real binary: read from JSONL fields, Markdown front
//! matter, HTML `<meta>` and plain files' folders and first lines; stored
//! in the index, shown by `similar` and `export`; themes counted over time
//! and by source in the report; and the earliest document of an echo group.
//! The hashing model (`--model hash`) keeps them fast: they check the
//! plumbing and the counting, not the model.

mod common;

use std::fs;
use std::path::Path;

use common::{data_file, motif, run_ok};
use serde_json::{json, Value};

fn index_args(index: &Path) -> Vec<String> {
    vec!["--index".into(), index.display().to_string(), "--model".into(), "hash".into()]
}

/// `--index DIR` alone, for the commands that read vectors only.
fn idx(index: &Path) -> [String; 2] {
    ["--index".into(), index.display().to_string()]
}

fn report_json(index: &Path, out: &Path, extra: &[&str]) -> Value {
    run_ok(motif().arg("report").args(index_args(index)).arg("--out").arg(out).args(extra));
    let text = fs::read_to_string(out.join("report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn sum(v: &Value) -> u64 {
    v.as_array().map_or(0, |a| a.iter().map(|x| x.as_u64().unwrap()).sum())
}

/// A few dozen BBC articles with invented dates and three outlets (one date
/// that is no date, one row without the outlet field): the report counts
/// every theme's sentences per period and per source, and the counts add up
/// to the theme's size.
#[test]
fn themes_over_time_and_by_source_add_up() {
    let Some(bbc) = data_file("bbc/bbc.jsonl") else { return };
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("news.jsonl");
    let mut lines = String::new();
    let outlets = ["Herald", "Post", "Wire"];
    for (i, line) in fs::read_to_string(&bbc).unwrap().lines().step_by(45).enumerate() {
        let article: Value = serde_json::from_str(line).unwrap();
        // Spread over about seven weeks, in no particular order.
        let day = (i * 17) % 50;
        let date = jiff::civil::date(2024, 3, 1).checked_add(jiff::Span::new().days(day as i64)).unwrap();
        let mut rec = json!({"id": article["id"], "text": article["text"], "published": date.to_string()});
        if i == 5 {
            rec["published"] = json!("sometime in spring");
        }
        if i != 7 {
            rec["outlet"] = json!(outlets[i % 3]);
        }
        lines.push_str(&rec.to_string());
        lines.push('\n');
    }
    fs::write(&corpus, lines).unwrap();
    let index = dir.path().join("idx");
    let out = run_ok(motif().arg("index").arg(&corpus).args(index_args(&index)).args(["--source-field", "outlet"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 document had a \"published\" that is not a date"), "{stderr}");
    assert!(stderr.contains("1 document had no \"outlet\""), "{stderr}");

    let r = report_json(&index, &dir.path().join("rep"), &[]);
    let docs = r["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 50);
    assert_eq!(docs.iter().filter(|d| d["date"].is_string()).count(), 49);
    assert_eq!(docs.iter().filter(|d| d["source"].is_string()).count(), 49);
    // Fifty days, one period a day (auto), with the days no article fell on kept.
    assert_eq!(r["periods"]["period"], "day", "{}", r["periods"]);
    let labels = r["periods"]["labels"].as_array().unwrap();
    assert_eq!(labels.first().unwrap(), "2024-03-01");
    assert_eq!(labels.len(), 50);
    let sources: Vec<&str> = r["sources"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    let mut sorted = sources.clone();
    sorted.sort();
    assert_eq!(sorted, outlets);
    let themes = r["themes"].as_array().unwrap();
    assert!(themes.len() >= 2, "{}", themes.len());
    for t in themes {
        let size = t["size"].as_u64().unwrap();
        assert_eq!(t["over_time"].as_array().unwrap().len(), labels.len());
        assert_eq!(sum(&t["over_time"]) + t["undated"].as_u64().unwrap_or(0), size, "{t}");
        assert_eq!(t["by_source"].as_array().unwrap().len(), sources.len());
        assert_eq!(sum(&t["by_source"]) + t["no_source"].as_u64().unwrap_or(0), size, "{t}");
    }
    // Every dated unit is counted once over all themes and outliers.
    let units = r["units"].as_array().unwrap();
    let themed = units.iter().filter(|u| u["theme"].is_u64()).count() as u64;
    assert_eq!(themes.iter().map(|t| t["size"].as_u64().unwrap()).sum::<u64>(), themed);

    // `motif themes --json` counts the same way.
    let out = run_ok(motif().arg("themes").args(index_args(&index)).args([
        "--json",
        "--period",
        "month",
        "--no-save-themes",
    ]));
    let t: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(t["periods"]["labels"], json!(["2024-03", "2024-04"]));
    for th in t["themes"].as_array().unwrap() {
        let size = th["size"].as_u64().unwrap();
        assert_eq!(sum(&th["over_time"]) + th["undated"].as_u64().unwrap_or(0), size, "{th}");
        assert_eq!(sum(&th["by_source"]) + th["no_source"].as_u64().unwrap_or(0), size, "{th}");
    }

    // A period the user names (ISO weeks, named by their Monday: 2024-03-01
    // is a Friday); the Markdown has both views.
    let r = report_json(&index, &dir.path().join("rep2"), &["--period", "week"]);
    assert_eq!(r["periods"]["period"], "week");
    assert_eq!(r["periods"]["labels"][0], "2024-02-26");
    let md = fs::read_to_string(dir.path().join("rep2/report.md")).unwrap();
    assert!(
        md.contains("## Themes over time") && md.contains("| week |") && md.contains("## Themes × sources"),
        "{md}"
    );

    // The page draws a chart per theme and the themes × sources grid.
    let Some(browser) = common::chromium() else {
        common::skip("no chromium on PATH to draw report.html (apt-get install chromium)");
        return;
    };
    let dom = common::draw(&browser, &dir.path().join("rep2/report.html"));
    assert!(dom.contains("data-rendered=\"ok\""), "the page's script did not finish");
    assert_eq!(
        dom.matches("<svg class=\"chart\"").count(),
        themes_in(&dir.path().join("rep2/report.json")),
        "one chart per theme"
    );
    let grid = dom.split("id=\"sgrid\"").nth(1).expect("the themes × sources grid");
    assert!(grid.contains(">Herald<") && grid.contains(">Wire<"), "{grid}");
    assert!(!dom.contains("<section id=\"sourcegrid\" hidden"), "the sources grid is shown");
}

fn themes_in(report: &Path) -> usize {
    let r: Value = serde_json::from_str(&fs::read_to_string(report).unwrap()).unwrap();
    r["themes"].as_array().unwrap().len() + r["broader_themes"].as_array().unwrap().len()
}

/// The same claim in three documents dated in three forms: the echo group
/// names the earliest (the RFC 2822 one), the sources in the order the
/// claim reached them, and each pair's earlier side.
#[test]
fn the_earliest_document_of_a_claim_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let claim =
        "Officials confirmed that ten thousand soldiers crossed the northern border before the winter storms arrived.";
    // Each outlet's own version of the claim, in a document about it (a
    // sentence repeated in documents about other things is boilerplate).
    let mut rows = vec![
        json!({"id": "late", "source": "Post", "date": "2024-03-05", "text": format!("{}\n\nThe soldiers crossed the border in long columns, and the officials said more soldiers may follow before the storms.", claim.replace("Officials confirmed", "Officials in the capital confirmed"))}),
        json!({"id": "first", "source": "Herald", "date": "Fri, 01 Mar 2024 10:00:00 +0000", "text": format!("{claim}\n\nThe Herald saw soldiers at the northern border crossing, where officials counted the columns before the storms.")}),
        json!({"id": "middle", "source": "Wire", "date": "2024-03-03T08:00:00Z", "text": format!("{}\n\nAt the border, officials said the soldiers crossed at night, and the count of ten thousand was confirmed.", claim.replace("before the winter", "ahead of the winter"))}),
    ];
    let others = [
        "Farmers sold apples and pears at the harvest market in the valley town square.",
        "The city council approved a new budget for parks and public libraries this year.",
        "A local football club signed two young strikers from the regional academy.",
        "Scientists measured rising sea temperatures along the southern coast in summer.",
        "The museum opened an exhibition of medieval maps and navigation instruments.",
        "Rail workers agreed a pay deal after months of talks with the operators.",
    ];
    for (i, text) in others.iter().enumerate() {
        rows.push(json!({"id": format!("other{i}"), "source": (["Wire", "Post"][i % 2]), "date": format!("2024-03-0{}", i + 1), "text": text}));
    }
    let corpus = dir.path().join("claims.jsonl");
    fs::write(&corpus, rows.iter().map(|r| r.to_string() + "\n").collect::<String>()).unwrap();
    let index = dir.path().join("idx");
    // Named relative to the folder, so the report names it "claims.jsonl:ID".
    run_ok(motif().current_dir(dir.path()).arg("index").arg("claims.jsonl").args(index_args(&index)));
    let r = report_json(&index, &dir.path().join("rep"), &[]);
    let docs = r["documents"].as_array().unwrap();
    let doc = |name: &str| docs.iter().position(|d| d["id"].as_str().unwrap().ends_with(name)).unwrap() as u64;
    assert_eq!(docs[doc(":first") as usize]["date"], "2024-03-01T10:00:00Z");
    let groups = r["echo_groups"].as_array().unwrap();
    let group = groups
        .iter()
        .find(|g| g["claim"].as_str().unwrap().contains("ten thousand soldiers"))
        .unwrap_or_else(|| panic!("no echo group for the claim: {groups:?}"));
    assert_eq!(group["earliest"], doc(":first"), "{group}");
    assert_eq!(group["order"], json!([doc(":first"), doc(":middle"), doc(":late")]));
    assert_eq!(group["sources"], json!(["Herald", "Wire", "Post"]));
    assert_eq!(group["first_date"], "2024-03-01T10:00:00Z");
    assert_eq!(group["last_date"], "2024-03-05");
    assert_eq!(group["days"], 4);
    let passages = r["passages"].as_array().unwrap();
    let date_of =
        |p: &Value| docs[passages[p.as_u64().unwrap() as usize]["doc"].as_u64().unwrap() as usize]["date"].clone();
    for pair in group["pairs"].as_array().unwrap() {
        let (a, b) = (date_of(&pair["a"]), date_of(&pair["b"]));
        let earlier_side = if pair["earlier"] == "a" { &pair["a"] } else { &pair["b"] };
        let later_side = if pair["earlier"] == "a" { &pair["b"] } else { &pair["a"] };
        assert!(pair["earlier"] == "a" || pair["earlier"] == "b", "{pair}");
        let (e, l) = (date_of(earlier_side), date_of(later_side));
        assert_ne!(a, b);
        // ISO text of the same kind compares as time does here.
        assert!(e.as_str().unwrap()[..10] <= l.as_str().unwrap()[..10], "{e} {l}");
    }
    let md = fs::read_to_string(dir.path().join("rep/report.md")).unwrap();
    assert!(
        md.contains(
            "First seen: claims.jsonl:first (2024-03-01T10:00:00Z · Herald); reached Herald → Wire → Post over 4 days"
        ),
        "{md}"
    );
    if let Some(browser) = common::chromium() {
        let dom = common::draw(&browser, &dir.path().join("rep/report.html"));
        let timeline =
            dom.split("<ol class=\"timeline\">").nth(1).expect("a timeline").split("</ol>").next().unwrap().to_string();
        let (h, w, p) =
            (timeline.find("Herald").unwrap(), timeline.find("Wire").unwrap(), timeline.find("Post").unwrap());
        assert!(h < w && w < p, "{timeline}");
        assert!(dom.contains("First seen in claims.jsonl:first"), "{dom}");
    } else {
        common::skip("no chromium on PATH to draw report.html (apt-get install chromium)");
    }

    // `motif overlaps` says the same.
    let out = run_ok(motif().arg("overlaps").args(index_args(&index)).arg("--json"));
    let o: Value = serde_json::from_slice(&out.stdout).unwrap();
    let g = o["groups"].as_array().unwrap().iter().find(|g| g["earliest"].is_string()).expect("a dated group");
    assert!(g["earliest"].as_str().unwrap().ends_with(":first"), "{g}");
    assert!(o["pairs"].as_array().unwrap().iter().all(|p| p["earlier"] == "a" || p["earlier"] == "b"), "{o}");
}

/// Front matter, HTML `<meta>`, a plain file's folder and first line: each
/// document's date, source and title are stored, shown by `similar` and
/// exported.
#[test]
fn files_carry_their_dates_sources_and_titles() {
    let dir = tempfile::tempdir().unwrap();
    let news = dir.path().join("news");
    for d in ["herald", "post", "wire"] {
        fs::create_dir_all(news.join(d)).unwrap();
    }
    fs::write(
        news.join("herald/a.md"),
        "---\ntitle: \"Troops: the count\"\ndate: 2024-03-02\nsource: The Herald\n---\nTen thousand soldiers crossed the border on Monday, officials said.\n",
    )
    .unwrap();
    fs::write(
        news.join("post/b.html"),
        "<html><head><title>Ignored when og:title is there</title>\
         <meta property=\"og:title\" content=\"Soldiers cross the border\">\
         <meta property=\"og:site_name\" content=\"The Post\">\
         <meta property=\"article:published_time\" content=\"2024-03-01T09:30:00+01:00\">\
         <link rel=\"canonical\" href=\"https://post.example/b\"></head>\
         <body><p>Ten thousand soldiers crossed the border on Monday, the ministry said.</p></body></html>",
    )
    .unwrap();
    fs::write(
        news.join("wire/c.txt"),
        "Border crossing confirmed\n\nSoldiers in their thousands crossed the border, the wire said.\n",
    )
    .unwrap();
    let index = dir.path().join("idx");
    run_ok(motif().arg("index").arg(&news).args(index_args(&index)));
    let out = run_ok(motif().arg("similar").arg(news.join("herald/a.md")).args(idx(&index)).arg("--json"));
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hit =
        |suffix: &str| hits.as_array().unwrap().iter().find(|h| h["doc"].as_str().unwrap().ends_with(suffix)).cloned();
    let b = hit("b.html").expect("b.html among the hits");
    assert_eq!((b["date"].as_str(), b["source"].as_str()), (Some("2024-03-01T08:30:00Z"), Some("The Post")));
    assert_eq!(
        (b["title"].as_str(), b["url"].as_str()),
        (Some("Soldiers cross the border"), Some("https://post.example/b"))
    );
    let c = hit("c.txt").expect("c.txt among the hits");
    assert_eq!(
        (c["source"].as_str(), c["title"].as_str(), c.get("date")),
        (Some("wire"), Some("Border crossing confirmed"), None)
    );
    // Text output shows them under the hit.
    let out = run_ok(motif().arg("similar").arg(news.join("herald/a.md")).args(idx(&index)));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2024-03-01T08:30:00Z · The Post · Soldiers cross the border")
    );

    let export = dir.path().join("export");
    run_ok(motif().arg("export").args(index_args(&index)).arg("--out").arg(&export).args([
        "--format",
        "jsonl",
        "--no-analyses",
    ]));
    let docs: Vec<Value> = fs::read_to_string(export.join("documents.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let a = docs.iter().find(|d| d["name"].as_str().unwrap().ends_with("a.md")).unwrap();
    assert_eq!(
        (a["date"].as_str(), a["source"].as_str(), a["title"].as_str()),
        (Some("2024-03-02"), Some("The Herald"), Some("Troops: the count"))
    );
    assert!(a["path"].as_str().unwrap().ends_with("a.md"), "{a}");
    // The front matter is not part of the text.
    let passages = fs::read_to_string(export.join("passages.jsonl")).unwrap();
    assert!(!passages.contains("title:"), "{passages}");

    // Exported and read back, the metadata comes along.
    let again = dir.path().join("idx2");
    run_ok(motif().arg("index").arg("--from").arg(&export).args(index_args(&again)));
    let out = run_ok(motif().arg("similar").arg(news.join("herald/a.md")).args(idx(&again)).arg("--json"));
    let hits2: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits, hits2);
}

/// A date named only on the second run (or an index from before dates were
/// stored): the documents are retagged in place, nothing is embedded again
/// and the graph stays as it is.
#[test]
fn a_new_date_field_retags_without_embedding_again() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c.jsonl");
    let rows = [
        json!({"id": "a", "when": "2024-05-01", "text": "Ten thousand soldiers crossed the northern border on Monday."}),
        json!({"id": "b", "when": "2024-05-03", "text": "Farmers sold apples and pears at the harvest market."}),
    ];
    fs::write(&corpus, rows.iter().map(|r| r.to_string() + "\n").collect::<String>()).unwrap();
    let index = dir.path().join("idx");
    run_ok(motif().arg("index").arg(&corpus).args(index_args(&index)));
    let undated = run_ok(motif().args(["info", "--docs", "--json"]).args(idx(&index)));
    let undated: Value = serde_json::from_slice(&undated.stdout).unwrap();
    assert!(undated["doc_list"].as_array().unwrap().iter().all(|d| d.get("date").is_none()), "{undated}");
    let generation = undated["generation"].clone();

    let out =
        run_ok(motif().arg("index").arg(&corpus).args(index_args(&index)).args(["--date-field", "when", "--json"]));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["retagged"].as_array().unwrap().len(), 2, "{summary}");
    assert_eq!(summary["passages_embedded"], 0, "{summary}");
    assert_eq!(summary["graph_rebuilt"], false, "{summary}");
    let dated = run_ok(motif().args(["info", "--docs", "--json"]).args(idx(&index)));
    let dated: Value = serde_json::from_slice(&dated.stdout).unwrap();
    let dates: Vec<&str> = dated["doc_list"].as_array().unwrap().iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2024-05-01", "2024-05-03"]);
    assert_eq!(dated["generation"], generation, "vectors unchanged: the same generation");
    assert_eq!(dated["graph"]["status"], "fresh");
}
