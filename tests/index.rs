//! End-to-end tests of `motif index`, `query`, `similar` and `info` on the
//! real binary, over copies of `seeds/` in temporary directories.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::repo;

/// The binary, run in `cwd`, with no index or model from the environment.
fn motif(cwd: &Path) -> Command {
    let mut cmd = common::motif();
    cmd.current_dir(cwd).env_remove("MOTIF_INDEX").env_remove("MOTIF_MODEL");
    cmd
}

fn ok(cmd: &mut Command) -> Output {
    common::run_ok(cmd)
}

fn json(cmd: &mut Command) -> Value {
    let out = ok(cmd);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{cmd:?}: not JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout)))
}

/// Runs a command that must fail; returns its stderr.
fn fails(cmd: &mut Command) -> String {
    common::run_err(cmd)
}

/// A temporary directory holding a copy of seeds/ (as `seeds/`).
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("seeds")).unwrap();
    for entry in fs::read_dir(repo().join("seeds")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join("seeds").join(entry.file_name())).unwrap();
    }
    dir
}

fn seed_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.join("seeds"))
        .unwrap()
        .map(|e| format!("seeds/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    names.sort();
    names
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

/// Every stored passage with its vector, read straight from SQLite.
fn stored_passages(index: &Path) -> Vec<(String, i64, i64, i64, String, Vec<f32>)> {
    let conn =
        rusqlite::Connection::open_with_flags(index.join("index.sqlite"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT d.name, p.ordinal, p.byte_start, p.byte_end, p.text, v.vector FROM passages p
             JOIN documents d ON d.id = p.doc JOIN vectors v ON v.passage = p.id ORDER BY d.name, p.ordinal",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            let blob: Vec<u8> = r.get(5)?;
            let v = blob.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, v))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// Search results of an index: `similar` for every document (graph and
/// exact) and two queries.
fn search_results(cwd: &Path, index: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for doc in seed_names(cwd) {
        for exact in [false, true] {
            let mut cmd = motif(cwd);
            cmd.args(["similar", &doc, "--index", index, "-k", "5", "--json"]);
            if exact {
                cmd.arg("--exact");
            }
            out.push(json(&mut cmd));
        }
    }
    for q in ["North Korean troops sent to Russia", "sanctions and the reaction in Seoul"] {
        out.push(json(motif(cwd).args(["query", q, "--index", index, "-k", "8", "--json"])));
    }
    out
}

/// Same hits in the same order; scores equal to 1e-5 (a passage embedded
/// in another batch may differ in the last bits).
fn assert_same_results(a: &[Value], b: &[Value]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (x.as_array().unwrap(), y.as_array().unwrap());
        assert_eq!(x.len(), y.len());
        for (p, q) in x.iter().zip(y) {
            for key in ["from_doc", "from_passage", "rank", "doc", "passage", "start", "end", "text"] {
                assert_eq!(p.get(key), q.get(key), "{key} differs:\n{p}\n{q}");
            }
            let (s, t) = (p["score"].as_f64().unwrap(), q["score"].as_f64().unwrap());
            assert!((s - t).abs() < 1e-5, "scores {s} and {t}");
        }
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn incremental_runs_give_the_same_index_as_a_fresh_one() {
    let ws = workspace();
    let cwd = ws.path();
    let names = seed_names(cwd);
    // Start without the last document.
    let held = cwd.join("held.txt");
    fs::rename(cwd.join(&names[4]), &held).unwrap();

    let s = json(motif(cwd).args(["index", "seeds", "--json"]));
    assert_eq!(strings(&s["added"]), names[..4].to_vec());
    assert_eq!(s["created"], true);
    assert!(cwd.join(".motif/index.sqlite").is_file(), "the default index is .motif/ here");

    // Grown: only the new document is embedded.
    fs::rename(&held, cwd.join(&names[4])).unwrap();
    let s = json(motif(cwd).args(["index", "seeds", "--json"]));
    assert_eq!(strings(&s["added"]), vec![names[4].clone()]);
    assert_eq!(s["kept"], 4);
    let new_passages = s["passages_embedded"].as_u64().unwrap();
    assert!(new_passages > 0 && new_passages < 40, "{s}");
    // The saved graph was updated, not rebuilt: its new points inserted.
    let g = &s["graph"];
    assert_eq!((s["graph_rebuilt"].as_bool(), g["incremental"].as_bool()), (Some(false), Some(true)), "{s}");
    assert_eq!((g["inserted"].as_u64(), g["removed"].as_u64()), (Some(new_passages), Some(0)), "{s}");

    // Edited: the document's passages are replaced.
    let edited = cwd.join(&names[1]);
    let mut text = fs::read_to_string(&edited).unwrap();
    text = text.replacen("North Korea", "The DPRK", 1);
    text.push_str("\n\nA closing paragraph added later, about talks planned in Geneva next spring.\n");
    fs::write(&edited, text).unwrap();
    let s = json(motif(cwd).args(["index", "seeds", "--json"]));
    assert_eq!(strings(&s["replaced"]), vec![names[1].clone()]);
    assert_eq!((s["kept"].as_u64(), s["added"].as_array().unwrap().len()), (Some(4), 0));
    // Updated: the changed passages are new points, their old ones tombstones.
    let g = &s["graph"];
    assert_eq!(g["incremental"].as_bool(), Some(true), "{s}");
    assert!(g["inserted"].as_u64().unwrap() >= 2 && g["removed"].as_u64().unwrap() >= 1, "{s}");
    assert_eq!(g["tombstones"], g["removed"], "{s}");
    let info = json(motif(cwd).args(["info", "--json"]));
    assert_eq!(info["graph"]["tombstones"], g["tombstones"], "{info}");
    assert_eq!(info["graph"]["rebuild_share"], 0.2);
    // The updated graph, tombstones and all, answers as a fresh index of
    // the same corpus does.
    let s = json(motif(cwd).args(["index", "seeds", "--index", "fresh-after-edit", "--json"]));
    assert_eq!(s["graph"]["incremental"].as_bool(), Some(false));
    assert_same_results(&search_results(cwd, ".motif"), &search_results(cwd, "fresh-after-edit"));

    // Removed: kept until --prune, then dropped.
    fs::remove_file(cwd.join(&names[2])).unwrap();
    let s = json(motif(cwd).args(["index", "seeds", "--json"]));
    assert_eq!(s["prunable"], 1);
    assert!(s["removed"].as_array().unwrap().is_empty());
    let s = json(motif(cwd).args(["index", "seeds", "--prune", "--json"]));
    assert_eq!(strings(&s["removed"]), vec![names[2].clone()]);
    assert_eq!((s["documents"].as_u64(), s["passages_embedded"].as_u64()), (Some(4), Some(0)));
    // On this small corpus the removed document's points would pass the
    // tombstone share (20%): the graph is rebuilt without them.
    let g = &s["graph"];
    assert_eq!((s["graph_rebuilt"].as_bool(), g["incremental"].as_bool()), (Some(true), Some(false)), "{s}");
    assert_eq!(g["tombstones"], 0);
    // Nothing left to do: nothing is embedded and the graph is kept.
    let s = json(motif(cwd).args(["index", "seeds", "--json"]));
    assert_eq!((s["kept"].as_u64(), s["graph_rebuilt"].as_bool()), (Some(4), Some(false)));

    let summary = String::from_utf8(ok(motif(cwd).args(["index", "seeds", "--index", "scratch"])).stdout).unwrap();
    assert!(summary.contains("created scratch: added 4 documents"), "{summary}");

    let incremental = stored_passages(&cwd.join(".motif"));
    let scratch = stored_passages(&cwd.join("scratch"));
    assert_eq!(incremental.len(), scratch.len());
    for (a, b) in incremental.iter().zip(&scratch) {
        assert_eq!((&a.0, a.1, a.2, a.3, &a.4), (&b.0, b.1, b.2, b.3, &b.4));
        let cos: f32 = a.5.iter().zip(&b.5).map(|(x, y)| x * y).sum();
        assert!(cos > 0.99999, "{} #{}: cosine {cos}", a.0, a.1);
    }
    let a = search_results(cwd, ".motif");
    let b = search_results(cwd, "scratch");
    assert_same_results(&a, &b);

    // The graph finds what exact search finds on this small corpus, and
    // results are deterministic.
    for pair in a.chunks(2).take(4) {
        assert_same_results(&pair[..1], &pair[1..]);
    }
    assert_same_results(&a, &search_results(cwd, ".motif"));

    // Query output: fields and order.
    let hits = json(motif(cwd).args(["query", "troops", "-k", "3", "--json"]));
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 3);
    for h in hits {
        for key in ["doc", "passage", "start", "end", "score", "text"] {
            assert!(h.get(key).is_some(), "no {key} in {h}");
        }
    }
    assert!(hits.windows(2).all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()));

    // similar DOC#N excludes its own document unless --same-doc.
    let target = format!("{}#1", names[0]);
    let other = json(motif(cwd).args(["similar", &target, "-k", "20", "--json"]));
    assert!(other.as_array().unwrap().iter().all(|h| h["doc"] != names[0].as_str() && h["from_passage"] == 1));
    let same = json(motif(cwd).args(["similar", &target, "-k", "1000", "--json", "--same-doc"]));
    let same = same.as_array().unwrap();
    let total = json(motif(cwd).args(["info", "--json"]))["passages"].as_u64().unwrap() as usize;
    assert_eq!(same.len(), total - 1, "every passage but itself");
    assert!(same.iter().any(|h| h["doc"] == names[0].as_str()));
    assert!(
        same.iter().all(|h| !(h["doc"] == names[0].as_str() && h["passage"] == 1)),
        "a passage is not similar to itself"
    );
    let err = fails(motif(cwd).args(["similar", "seeds/nope.txt"]));
    assert!(err.contains("seeds/nope.txt: no such document"), "{err}");

    let info = json(motif(cwd).args(["info", "--json"]));
    assert_eq!(info["documents"], 4);
    assert_eq!(info["model"], "all-MiniLM-L6-v2");
    assert_eq!(info["dim"], 384);
    assert_eq!(info["graph"]["status"], "fresh");
    assert_eq!(info["graph"]["m"], 16);
    let text = String::from_utf8(ok(motif(cwd).args(["info"])).stdout).unwrap();
    for word in ["model", "dimension", "documents", "passages", "on disk", "ef_construction", "built"] {
        assert!(text.contains(word), "info lacks {word}:\n{text}");
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn a_killed_index_run_leaves_a_usable_index_and_the_next_run_completes() {
    let ws = workspace();
    let cwd = ws.path();
    // Commit after every document, and kill the writer after its first commit.
    let mut child = motif(cwd)
        .args(["index", "seeds", "--commit-every", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let db = cwd.join(".motif/index.sqlite");
    let start = Instant::now();
    let committed = loop {
        let docs = db.is_file().then(|| {
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| c.query_row("SELECT count(*) FROM documents", [], |r| r.get::<_, i64>(0)))
                .unwrap_or(0)
        });
        if docs.unwrap_or(0) >= 1 || start.elapsed() > Duration::from_secs(120) {
            break docs.unwrap_or(0);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(committed >= 1);
    assert!(!status.success(), "the writer finished before it could be killed; the test proves nothing");

    // The index opens, passes SQLite's check and answers queries (the graph
    // was never saved; an index this small is searched exactly, so there is
    // no graph to build in memory).
    let info = json(motif(cwd).args(["info", "--json", "--check"]));
    let docs = info["documents"].as_u64().unwrap();
    assert!((1..5).contains(&docs), "{info}");
    assert_ne!(info["graph"]["status"], "fresh");
    let out = ok(motif(cwd).args(["query", "North Korean troops", "--json"]));
    assert!(!serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().is_empty());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("building it in memory"));

    // The next run embeds only what is missing and completes the index.
    let s = json(motif(cwd).args(["index", "seeds", "--json"]));
    assert_eq!(s["kept"].as_u64(), Some(docs));
    assert_eq!(s["added"].as_array().unwrap().len() as u64, 5 - docs);
    assert_eq!(s["documents"], 5);
    let info = json(motif(cwd).args(["info", "--json"]));
    assert_eq!(info["graph"]["status"], "fresh");

    // Killed while the graph is written, too: the store is complete, the
    // graph stale or missing; readers cope and the next run saves it.
    fs::remove_file(cwd.join(".motif/graph.hnsw")).unwrap();
    ok(motif(cwd).args(["similar", &seed_names(cwd)[0], "--json"]));
    let s = json(motif(cwd).args(["index", "seeds", "--json"]));
    assert_eq!((s["kept"].as_u64(), s["graph_rebuilt"].as_bool()), (Some(5), Some(true)));
}

fn file_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        // SQLite's -wal/-shm files come and go with connections.
        .filter(|e| {
            !e.file_name().to_string_lossy().ends_with("-shm") && !e.file_name().to_string_lossy().ends_with("-wal")
        })
        .map(|e| (e.file_name().to_string_lossy().into_owned(), fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

fn copy_index(from: &Path, to: &Path) {
    fs::create_dir(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn bad_indexes_get_clear_errors_and_no_change() {
    let ws = workspace();
    let cwd = ws.path();
    ok(motif(cwd).args(["index", "seeds"]));
    let good = cwd.join(".motif");

    // A directory that is not an index.
    let err = fails(motif(cwd).args(["query", "x", "--index", "seeds"]));
    assert!(err.contains("seeds: not a motif index"), "{err}");
    let before = file_bytes(&cwd.join("seeds"));
    let err = fails(motif(cwd).args(["index", "seeds", "--index", "seeds"]));
    assert!(err.contains("is not a motif index"), "{err}");
    assert_eq!(file_bytes(&cwd.join("seeds")), before);
    let err = fails(motif(cwd).args(["info", "--index", "seeds/000_44e9cad41cf57f3b.txt"]));
    assert!(err.contains("not a directory") || err.contains("not a motif index"), "{err}");

    // Unreadable input leaves no index behind.
    let err = fails(motif(cwd).args(["index", "no-such-folder", "--index", "fresh"]));
    assert!(err.contains("no-such-folder: no such file or directory"), "{err}");
    assert!(!cwd.join("fresh").exists());

    // A corrupted database.
    let broken = cwd.join("broken-db");
    copy_index(&good, &broken);
    let db = broken.join("index.sqlite");
    let mut bytes = fs::read(&db).unwrap();
    for b in &mut bytes[..4096] {
        *b = 0x5a;
    }
    fs::write(&db, &bytes).unwrap();
    let before = file_bytes(&broken);
    for args in [
        vec!["info"],
        vec!["query", "troops"],
        vec!["similar", "seeds/000_44e9cad41cf57f3b.txt"],
        vec!["index", "seeds"],
    ] {
        let err = fails(motif(cwd).args(&args).args(["--index", "broken-db"]));
        assert!(err.contains("broken-db/index.sqlite: not a usable motif index database"), "{args:?}: {err}");
        assert_eq!(file_bytes(&broken), before, "{args:?} changed the files");
    }

    // A format version from the future.
    let future = cwd.join("future");
    copy_index(&good, &future);
    {
        let conn = rusqlite::Connection::open(future.join("index.sqlite")).unwrap();
        conn.execute("UPDATE manifest SET value = '99' WHERE key = 'format_version'", []).unwrap();
    }
    let before = file_bytes(&future);
    for args in [vec!["info"], vec!["query", "troops"], vec!["index", "seeds"]] {
        let err = fails(motif(cwd).args(&args).args(["--index", "future"]));
        assert!(err.contains("index format 99 was written by a newer motif"), "{args:?}: {err}");
        assert_eq!(file_bytes(&future), before, "{args:?} changed the files");
    }

    // A corrupted graph: `info` and `index` refuse it, searches of an index
    // this small (searched exactly) warn about it, --exact does not need it,
    // and `index --rebuild-graph` replaces it.
    let graph = cwd.join("bad-graph");
    copy_index(&good, &graph);
    let mut g = fs::read(graph.join("graph.hnsw")).unwrap();
    let mid = g.len() / 2;
    g[mid] ^= 0x10;
    fs::write(graph.join("graph.hnsw"), &g).unwrap();
    let before = file_bytes(&graph);
    for args in [vec!["info"], vec!["index", "seeds"]] {
        let err = fails(motif(cwd).args(&args).args(["--index", "bad-graph"]));
        assert!(err.contains("bad-graph/graph.hnsw: corrupted HNSW graph file"), "{args:?}: {err}");
        assert_eq!(file_bytes(&graph), before, "{args:?} changed the files");
    }
    for args in [vec!["query", "troops"], vec!["similar", "seeds/000_44e9cad41cf57f3b.txt"]] {
        let out = ok(motif(cwd).args(&args).args(["--index", "bad-graph"]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("warning: ") && err.contains("corrupted HNSW graph file"), "{args:?}: {err}");
        assert_eq!(file_bytes(&graph), before, "{args:?} changed the files");
    }
    ok(motif(cwd).args(["query", "troops", "--exact", "--index", "bad-graph"]));
    ok(motif(cwd).args(["index", "seeds", "--rebuild-graph", "--index", "bad-graph"]));
    ok(motif(cwd).args(["query", "troops", "--index", "bad-graph"]));

    // Another model's vectors and queries are refused.
    let model_dir = String::from_utf8(ok(motif(cwd).args(["model", "path"])).stdout).unwrap().trim().to_string();
    let other = cwd.join("other-model");
    fs::create_dir(&other).unwrap();
    for entry in fs::read_dir(&model_dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), other.join(entry.file_name())).unwrap();
        } else {
            let sub = other.join(entry.file_name());
            fs::create_dir(&sub).unwrap();
            for f in fs::read_dir(entry.path()).unwrap() {
                let f = f.unwrap();
                fs::copy(f.path(), sub.join(f.file_name())).unwrap();
            }
        }
    }
    // Another fingerprint: the same weights under a changed config.
    let config = fs::read_to_string(other.join("config.json")).unwrap();
    fs::write(other.join("config.json"), format!("{config}\n")).unwrap();
    let before = file_bytes(&good);
    let other_name = other.display().to_string();
    let err = fails(motif(cwd).args(["query", "troops", "--model", &other_name]));
    assert!(err.contains("was built with model all-MiniLM-L6-v2"), "{err}");
    let err = fails(motif(cwd).args(["index", "seeds", "--model", &other_name]));
    assert!(err.contains("vectors of different models do not mix"), "{err}");
    // Other split settings would mix passages cut differently.
    let err = fails(motif(cwd).args(["index", "seeds", "--split", "sentence"]));
    assert!(err.contains("this index was built with paragraph"), "{err}");

    // A second writer fails at once with a clear message.
    let lock = fs::File::options().write(true).open(good.join("lock")).unwrap();
    lock.try_lock().unwrap();
    let err = fails(motif(cwd).args(["index", "seeds"]));
    assert!(err.contains("another `motif index` is writing this index"), "{err}");
    // Readers are not blocked by a writer.
    ok(motif(cwd).args(["similar", "seeds/000_44e9cad41cf57f3b.txt#0"]));
    drop(lock);
    assert_eq!(file_bytes(&good), before);
}

/// Recall@10 of the HNSW graph against exact search on the passages of the
/// BBC corpus, with default parameters. Embedding its ~13k paragraphs takes
/// minutes on a CPU, so the vectors are cached under the temp directory;
/// run with `cargo test --release -- --ignored bbc`.
#[test]
#[ignore = "embeds all BBC paragraphs (minutes): cargo test --release -- --ignored bbc"]
fn bbc_recall_at_10_is_at_least_0_99() {
    let bbc = repo().join("../shared/data/bbc/bbc.jsonl");
    if !bbc.is_file() {
        assert!(std::env::var_os("CI").is_none(), "{} not found, which CI must have", bbc.display());
        eprintln!("SKIPPED: {} not found", bbc.display());
        return;
    }
    let cache = std::env::temp_dir().join("motif-bbc-paragraphs.npy");
    if !cache.is_file() {
        ok(motif(&repo()).args(["embed", "--format", "npy", "--output"]).arg(&cache).arg(&bbc));
    }
    let out = json(
        motif(&repo()).args(["bench", "index", "--n", "0", "--queries", "100000", "--json", "--vectors"]).arg(&cache),
    );
    let recall = out["motif"]["recall_at_k"].as_f64().unwrap();
    println!("BBC paragraphs: {} vectors, recall@10 {recall}", out["vectors"]);
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
    assert!(recall >= 0.99, "recall@10 {recall}");
}
