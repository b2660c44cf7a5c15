//! End-to-end tests of `motif themes` and `motif eval themes` on the real
//! binary: the seeds' themes (troops, what North Korea gains, South Korea
//! and its allies), byte-identical JSON for a seed, sentence and passage
//! units, outliers and their reassignment, forced theme counts, stop words,
//! the labelled evaluation (on a BBC subset in CI; the full set is
//! `#[ignore]`d), and clear errors on bad input.

mod common;

use std::path::PathBuf;

use common::{data_file, motif, run_err, run_ok};

fn seeds() -> Option<PathBuf> {
    let found = [common::repo().join("seeds"), common::repo().join("../shared/seeds")].into_iter().find(|p| p.is_dir());
    if found.is_none() {
        common::skip("no seeds/ corpus beside the repository");
    }
    found
}

/// An index of the seeds, built once per test that needs it.
fn seeds_index() -> Option<(tempfile::TempDir, String)> {
    let seeds = seeds()?;
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("idx").display().to_string();
    run_ok(motif().arg("index").arg(&seeds).args(["--index", &index]));
    Some((dir, index))
}

fn themes_json(index: &str, extra: &[&str]) -> (Vec<u8>, serde_json::Value) {
    let out = run_ok(motif().args(["themes", "--index", index, "--json"]).args(extra));
    let value = serde_json::from_slice(&out.stdout).expect("JSON");
    (out.stdout, value)
}

fn keywords(theme: &serde_json::Value) -> Vec<String> {
    theme["keywords"].as_array().unwrap().iter().map(|k| k["term"].as_str().unwrap().to_string()).collect()
}

#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn seeds_themes_span_documents_and_repeat_byte_for_byte() {
    let Some((_dir, index)) = seeds_index() else { return };
    let (first, t) = themes_json(&index, &[]);
    let (second, _) = themes_json(&index, &[]);
    assert_eq!(first, second, "same index and seed must give byte-identical JSON");
    check_tree(&t);

    assert_eq!(t["unit"], "sentence");
    let units = t["units"].as_u64().unwrap() as usize;
    assert!(units > t["passages"].as_u64().unwrap() as usize, "the seeds' paragraphs hold several sentences each");
    let themes = t["themes"].as_array().unwrap();
    let mut members = t["outliers"].as_u64().unwrap() as usize;
    assert_eq!(t["outlier_units"].as_array().unwrap().len(), members);
    for (i, th) in themes.iter().enumerate() {
        assert_eq!(th["id"].as_u64().unwrap() as usize, i);
        let size = th["size"].as_u64().unwrap() as usize;
        members += size;
        let kw = keywords(th);
        assert!((5..=10).contains(&kw.len()), "keywords {kw:?}");
        assert!(!th["label"].as_str().unwrap().is_empty());
        let central = th["central"].as_array().unwrap();
        assert!(!central.is_empty());
        for c in central {
            assert!(c["doc"].as_str().unwrap().ends_with(".txt"));
            assert!(c["start"].as_u64().unwrap() < c["end"].as_u64().unwrap());
            assert!(!c["text"].as_str().unwrap().is_empty());
        }
        let docs = th["documents"].as_array().unwrap();
        assert_eq!(docs.iter().map(|d| d["units"].as_u64().unwrap() as usize).sum::<usize>(), size);
    }
    assert_eq!(members, units, "every sentence is in one theme or an outlier");
    // Each theme lists its sentences; with the outliers they cover every sentence once.
    let mut listed: Vec<(String, u64)> = themes
        .iter()
        .flat_map(|th| th["members"].as_array().unwrap().iter())
        .chain(t["outlier_units"].as_array().unwrap().iter())
        .map(|m| (m["doc"].as_str().unwrap().to_string(), m["start"].as_u64().unwrap()))
        .collect();
    for th in themes {
        assert_eq!(th["members"].as_array().unwrap().len() as u64, th["size"].as_u64().unwrap());
    }
    listed.sort();
    listed.dedup();
    assert_eq!(listed.len(), units, "theme members and outliers cover each sentence once");

    // The seeds are five articles on one event: themes recur across them.
    let spanning: Vec<&serde_json::Value> =
        themes.iter().filter(|th| th["documents"].as_array().unwrap().len() >= 3).collect();
    assert!(spanning.len() >= 3, "themes spanning 3+ documents: {}\n{t:#}", spanning.len());
    let words: Vec<String> = spanning.iter().flat_map(|th| keywords(th)).collect();
    assert!(
        words.iter().any(|w| w.contains("troops") || w.contains("soldiers") || w.contains("deployed")),
        "{words:?}"
    );
    assert!(words.iter().any(|w| w == "south korea" || w == "south korean"), "{words:?}");

    // Another seed is as valid a run, and deterministic too.
    let (a, _) = themes_json(&index, &["--seed", "7"]);
    let (b, _) = themes_json(&index, &["--seed", "7"]);
    assert_eq!(a, b);

    // Text output names themes, documents and outliers.
    let out = run_ok(motif().args(["themes", "--index", &index]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("theme 0")
            && text.contains("documents:")
            && text.contains("sentences of 79 passages from 5 documents"),
        "{text}"
    );

    // Whole passages are still a choice.
    let (_, p) = themes_json(&index, &["--unit", "passage"]);
    assert_eq!(p["unit"], "passage");
    assert_eq!(p["units"], p["passages"]);
    assert_eq!(p["settings"]["resolution"], 0.75);
    assert!(p["themes"].as_array().unwrap().len() >= 2, "{p:#}");
}

/// The sentence a theme member covers, read from the seed file.
fn member_text(seeds: &std::path::Path, m: &serde_json::Value) -> String {
    let name = std::path::Path::new(m["doc"].as_str().unwrap()).file_name().unwrap().to_owned();
    let text = std::fs::read(seeds.join(name)).unwrap();
    String::from_utf8_lossy(&text[m["start"].as_u64().unwrap() as usize..m["end"].as_u64().unwrap() as usize])
        .into_owned()
}

/// The three themes, by sentences a reader would file under each:
/// the troop numbers, what North Korea gains, and how South Korea and its
/// allies respond, each its own theme over three or more of the articles.
#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn seeds_themes_separate_troops_gains_and_south_korea() {
    let Some(seeds) = seeds() else { return };
    let Some((_dir, index)) = seeds_index() else { return };
    let (_, t) = themes_json(&index, &[]);
    let themes = t["themes"].as_array().unwrap();
    // Theme id of every marker sentence found in a theme.
    let theme_of = |needle: &str| -> Option<u64> {
        themes.iter().find_map(|th| {
            th["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| member_text(&seeds, m).contains(needle))
                .then(|| th["id"].as_u64().unwrap())
        })
    };
    let majority = |needles: &[&str]| -> (u64, usize) {
        let ids: Vec<u64> = needles.iter().filter_map(|n| theme_of(n)).collect();
        let best = ids
            .iter()
            .copied()
            .max_by_key(|id| (ids.iter().filter(|x| *x == id).count(), std::cmp::Reverse(*id)))
            .expect("markers in themes");
        (best, ids.iter().filter(|&&x| x == best).count())
    };
    let spans = |id: u64| themes[id as usize]["documents"].as_array().unwrap().len();

    let (troops, n) = majority(&[
        "up to 10,000 troops deployed",
        "The USA has confirmed that 3,000",
        "estimates suggest approximately 3,000",
    ]);
    assert_eq!(n, 3, "the three troop estimates in one theme\n{t:#}");
    let (gains, n) = majority(&[
        "strategic benefits outweigh the costs",
        "stands to gain economically",
        "can benefit from helping Russia",
        "this engagement has several advantages",
        "expectations of increased military and economic aid",
    ]);
    assert!(n >= 4, "what North Korea gains: {n} of 5 sentences in theme {gains}\n{t:#}");
    let south_korea =
        theme_of("South Korea is likely to deepen its ties with the US-led Indo-Pacific alliance").expect("in a theme");
    let keywords = keywords(&themes[south_korea as usize]);
    assert!(keywords.iter().any(|k| k.contains("south korea") || k.contains("pacific")), "{keywords:?}");

    assert!(
        troops != gains && gains != south_korea && troops != south_korea,
        "troops {troops}, gains {gains}, South Korea {south_korea}\n{t:#}"
    );
    for id in [troops, gains, south_korea] {
        assert!(spans(id) >= 3, "theme {id} spans {} documents", spans(id));
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn outliers_reassigned_forced_counts_and_stop_words() {
    let Some((dir, index)) = seeds_index() else { return };
    let (_, t) = themes_json(&index, &["--reassign-outliers"]);
    assert_eq!(t["outliers"], 0);
    let total: u64 = t["themes"].as_array().unwrap().iter().map(|th| th["size"].as_u64().unwrap()).sum();
    assert_eq!(total, t["units"].as_u64().unwrap());

    let (_, t) = themes_json(&index, &["--themes", "2"]);
    assert_eq!(t["themes"].as_array().unwrap().len(), 2);

    let stop = dir.path().join("stop.txt");
    std::fs::write(&stop, "# words every seed shares\nkorea korean north\n").unwrap();
    let (_, t) = themes_json(&index, &["--stopwords", stop.to_str().unwrap()]);
    for th in t["themes"].as_array().unwrap() {
        for k in keywords(th) {
            assert!(!k.split(' ').any(|w| w == "korea" || w == "korean" || w == "north"), "{k}");
        }
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn bad_input_gives_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let err = run_err(motif().args(["themes", "--index", missing.to_str().unwrap()]));
    assert!(err.contains("nothing-here") && err.contains("not a motif index"), "{err}");

    let unlabelled = dir.path().join("u.jsonl");
    std::fs::write(&unlabelled, "{\"text\": \"one\", \"label\": \"a\"}\n{\"text\": \"two\"}\n").unwrap();
    let err = run_err(motif().args(["eval", "themes", unlabelled.to_str().unwrap()]));
    assert!(err.contains("u.jsonl:2") && err.contains("label"), "{err}");

    let err = run_err(motif().args(["eval", "themes", unlabelled.to_str().unwrap(), "--resolution", "0"]));
    assert!(err.contains("resolution"), "{err}");

    let err =
        run_err(motif().args(["themes", "--index", missing.to_str().unwrap(), "--stopwords", "/no/such/stop.txt"]));
    assert!(err.contains("error"), "{err}");
}

/// Every 20th BBC article (112 of 2,225, all five labels): fast enough for
/// CI, and still a real check that the themes follow the topics.
#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn eval_themes_on_a_bbc_subset() {
    let Some(bbc) = data_file("bbc/bbc.jsonl") else { return };
    let dir = tempfile::tempdir().unwrap();
    let subset = dir.path().join("bbc-subset.jsonl");
    let text = std::fs::read_to_string(bbc).unwrap();
    let lines: Vec<&str> = text.lines().step_by(20).collect();
    std::fs::write(&subset, lines.join("\n") + "\n").unwrap();
    let out = run_ok(motif().args(["eval", "themes", subset.to_str().unwrap(), "--json"]));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["items"], 112);
    assert_eq!(r["labels"], 5);
    let nmi = r["nmi"].as_f64().unwrap();
    eprintln!("BBC subset: {r}");
    assert!(nmi >= 0.7, "NMI {nmi}");
    assert!(r["outlier_share"].as_f64().unwrap() <= 0.25);
    for key in ["ari", "v_measure", "homogeneity", "completeness"] {
        assert!(r[key].as_f64().unwrap() > 0.0, "{key}");
    }
}

/// The full check of the issue: 2,225 articles, default settings. About
/// seven minutes on a 2-core CPU (embedding), so run it on purpose:
/// `cargo test --release --test themes -- --ignored`.
#[test]
#[ignore = "embeds all 2,225 BBC articles (minutes): cargo test --release --test themes -- --ignored"]
fn eval_themes_on_all_of_bbc() {
    let Some(bbc) = data_file("bbc/bbc.jsonl") else { return };
    let out = run_ok(motif().args(["eval", "themes", bbc.to_str().unwrap(), "--json"]));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("BBC: {r}");
    assert!(r["nmi"].as_f64().unwrap() >= 0.75, "{r}");
    assert!(r["outlier_share"].as_f64().unwrap() <= 0.15, "{r}");
}

/// Every theme's parent exists one level up and lists it, and a broader
/// theme's members are exactly its children's (from the JSON).
fn check_tree(t: &serde_json::Value) {
    let all: Vec<&serde_json::Value> =
        t["themes"].as_array().unwrap().iter().chain(t["broader"].as_array().unwrap()).collect();
    let by_id = |id: &serde_json::Value| all.iter().find(|x| x["id"] == *id).copied();
    let members = |x: &serde_json::Value| -> Vec<(String, u64)> {
        let mut m: Vec<(String, u64)> = x["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["doc"].as_str().unwrap().to_string(), m["start"].as_u64().unwrap()))
            .collect();
        m.sort();
        m
    };
    let levels = t["levels"].as_u64().unwrap();
    for x in &all {
        let level = x["level"].as_u64().unwrap();
        match by_id(&x["parent"]) {
            Some(p) => {
                assert_eq!(p["level"].as_u64().unwrap(), level + 1, "{x}");
                assert!(p["children"].as_array().unwrap().contains(&x["id"]));
            }
            None => assert!(x["parent"].is_null() && level + 1 == levels, "theme {} lost its parent", x["id"]),
        }
        if level > 0 {
            let mut union: Vec<(String, u64)> =
                x["children"].as_array().unwrap().iter().flat_map(|c| members(by_id(c).unwrap())).collect();
            union.sort();
            assert_eq!(union, members(x), "theme {}: children's members do not add up", x["id"]);
        }
    }
}

/// Part 4 of issue 16: index the seeds, run themes, add one unrelated
/// document, index again, run themes again. Themes that carry on keep
/// their ids and labels; the bread document's theme is new with an id
/// never used before; statuses and the vanished list agree with the runs.
#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn themes_keep_their_ids_when_a_document_is_added() {
    let Some(seeds) = seeds() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    for f in std::fs::read_dir(&seeds).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, docs.join(f.file_name().unwrap())).unwrap();
    }
    let index = dir.path().join("idx").display().to_string();
    run_ok(motif().arg("index").arg(&docs).args(["--index", &index]));
    let (_, a) = themes_json(&index, &[]);
    check_tree(&a);
    assert!(a["levels"].as_u64().unwrap() >= 2, "the seeds' themes make a tree: {}", a["levels"]);
    let all = |t: &serde_json::Value| -> Vec<serde_json::Value> {
        t["themes"].as_array().unwrap().iter().chain(t["broader"].as_array().unwrap()).cloned().collect()
    };
    assert!(all(&a).iter().all(|x| x["status"] == "new"), "a first run's themes are all new");
    // The same index again: the same bytes (the statuses of the last change stand).
    let (first, _) = themes_json(&index, &[]);
    let (second, _) = themes_json(&index, &[]);
    assert_eq!(first, second);

    std::fs::write(
        docs.join("zz_bread.txt"),
        "Baking sourdough bread at home starts with a lively starter of flour and water.\n\n\
         Feed the starter twice a day with equal weights of flour and water until it doubles within hours.\n\n\
         Mix the dough with strong bread flour, water and salt, then let it rest before folding the dough.\n\n\
         Shape the loaf gently, proof it overnight in the fridge, and bake it in a hot covered pot.\n\n\
         A good crust comes from steam in the first minutes of baking and a long bake afterwards.\n",
    )
    .unwrap();
    run_ok(motif().arg("index").arg(&docs).args(["--index", &index]));
    let (_, b) = themes_json(&index, &[]);
    check_tree(&b);
    let key = |m: &serde_json::Value| (m["doc"].as_str().unwrap().to_string(), m["start"].as_u64().unwrap());
    let set = |x: &serde_json::Value| -> std::collections::HashSet<(String, u64)> {
        x["members"].as_array().unwrap().iter().map(key).collect()
    };
    let old_ids: Vec<u64> = all(&a).iter().map(|x| x["id"].as_u64().unwrap()).collect();
    let mut persisting = 0;
    for x in all(&b) {
        let id = x["id"].as_u64().unwrap();
        match x["status"].as_str().unwrap() {
            "persisting" => {
                let old = all(&a).into_iter().find(|o| o["id"] == x["id"]).expect("a persisting id was there before");
                assert_eq!(old["label"], x["label"], "a persisting theme keeps its label");
                assert_eq!(old["level"], x["level"]);
                persisting += 1;
            }
            "new" | "merged" | "split" => assert!(!old_ids.contains(&id), "id {id} is used again"),
            other => panic!("status {other}"),
        }
    }
    // Leaves that kept most of their sentences (both ways) keep their ids.
    for o in a["themes"].as_array().unwrap() {
        let so = set(o);
        for x in b["themes"].as_array().unwrap() {
            let shared = so.intersection(&set(x)).count();
            if 2 * shared > so.len() && 2 * shared > set(x).len() {
                assert_eq!(x["id"], o["id"], "theme {} carried on as {}", o["label"], x["label"]);
                assert_eq!(x["status"], "persisting");
            }
        }
    }
    assert!(persisting * 2 >= a["themes"].as_array().unwrap().len(), "{persisting} persisting\n{b:#}");
    let bread: Vec<&serde_json::Value> = b["themes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| {
            x["members"].as_array().unwrap().iter().all(|m| m["doc"].as_str().unwrap().ends_with("zz_bread.txt"))
        })
        .collect();
    assert_eq!(bread.len(), 1, "the bread document makes one theme of its own");
    assert_eq!(bread[0]["status"], "new");
    let now_ids: Vec<u64> = all(&b).iter().map(|x| x["id"].as_u64().unwrap()).collect();
    for v in b["vanished"].as_array().unwrap() {
        let id = v["id"].as_u64().unwrap();
        assert!(old_ids.contains(&id) && !now_ids.contains(&id), "vanished {v}");
    }
    for x in all(&b) {
        for f in x["from"].as_array().into_iter().flatten() {
            assert!(old_ids.contains(&f.as_u64().unwrap()));
        }
    }
    // --level picks a level of the tree; beyond the top is an error.
    let (_, top) = themes_json(&index, &["--level", "1", "--no-save-themes"]);
    assert_eq!(top["level"], 1);
    assert!(top["themes"].as_array().unwrap().iter().all(|x| x["level"] == 1));
    let levels = b["levels"].as_u64().unwrap().to_string();
    let err = run_err(motif().args(["themes", "--index", &index, "--level", &levels]));
    assert!(err.contains("--level"), "{err}");
}
