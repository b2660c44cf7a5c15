//! Adversarial tests: the index and the command line. Read-only and
//! damaged indexes, leftovers of a killed writer, closed pipes, bad flag
//! values, and `kill -9` at seeded points of `motif index`.

use std::path::Path;
use std::process::Stdio;

use crate::common::*;

fn seeds_index(work: &Path, index: &str) {
    copy_dir(&repo().join("seeds"), &work.join("seeds"));
    run_ok(motif().current_dir(work).args(["index", "seeds", "--index", index, "--model", "hash"]));
}

fn sql(work: &Path, index: &str) -> rusqlite::Connection {
    rusqlite::Connection::open(work.join(index).join("index.sqlite")).unwrap()
}

fn vectors(work: &Path, index: &str) -> Vec<(String, i64, Vec<u8>)> {
    let conn = sql(work, index);
    let mut stmt = conn
        .prepare(
            "SELECT d.name, p.ordinal, v.vector FROM passages p JOIN documents d ON d.id = p.doc
             JOIN vectors v ON v.passage = p.id ORDER BY d.name, p.ordinal",
        )
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn damaged_vectors_are_found_refused_and_repaired() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    seeds_index(w, "I");
    let clean = vectors(w, "I");
    let target = format!("{}#{}", clean[3].0, clean[3].1);
    // Flip bits in one vector (a float becomes huge), and cut another short.
    let mut flipped = clean[3].2.clone();
    flipped[1] ^= 0x7f;
    flipped[3] ^= 0x40;
    let conn = sql(w, "I");
    let set = |i: usize, blob: &[u8]| {
        conn.execute(
            "UPDATE vectors SET vector = ?1 WHERE passage = (SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc WHERE d.name = ?2 AND p.ordinal = ?3)",
            rusqlite::params![blob, clean[i].0, clean[i].1],
        )
        .unwrap()
    };
    assert_eq!(set(3, &flipped), 1);
    assert_eq!(set(10, &clean[10].2[..100]), 1);
    drop(conn);

    // Searching refuses to use them (no scores near 20,000) and says what to do.
    let err = run_err(motif().current_dir(w).args(["similar", &target, "--index", "I"]));
    assert!(err.contains("damaged vector") && err.contains("motif index"), "{err}");
    // The check finds both and fails.
    let out = motif().current_dir(w).args(["info", "--check", "--index", "I"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("2 damaged vector(s)") && text.contains(&target) && text.contains("100 bytes, expected 1536"),
        "{text}"
    );
    // Indexing the same files repairs them, and the vectors are those of a clean run.
    let out = run_ok(motif().current_dir(w).args(["index", "seeds", "--index", "I"]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("damaged vectors in the index and are embedded again"));
    run_ok(motif().current_dir(w).args(["info", "--check", "--index", "I"]));
    assert_eq!(vectors(w, "I"), clean);
}

#[test]
fn a_read_only_index_can_be_read() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    seeds_index(w, "I");
    // Closed cleanly: no WAL side files, which a reader who cannot write the folder cannot create.
    for side in ["index.sqlite-wal", "index.sqlite-shm"] {
        let _ = std::fs::remove_file(w.join("I").join(side));
    }
    let as_reader = |args: &[&str]| -> std::process::Output {
        let mut cmd;
        // Root may write anywhere: read as another user, for whom the folder is read-only.
        if is_root() {
            cmd = std::process::Command::new("runuser");
            cmd.args(["-u", "nobody", "--", env!("CARGO_BIN_EXE_motif")]);
        } else {
            cmd = std::process::Command::new(env!("CARGO_BIN_EXE_motif"));
        }
        cmd.args(args).current_dir(w).env("MOTIF_NO_PROGRESS", "1").stdin(Stdio::null()).output().unwrap()
    };
    set_mode(w, 0o755);
    set_mode_all(&w.join("I"), 0o555, 0o444);
    for args in [&["info", "--index", "I"][..], &["query", "troops", "--index", "I", "--model", "hash"]] {
        let out = as_reader(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!String::from_utf8_lossy(&out.stdout).is_empty());
    }
    set_mode_all(&w.join("I"), 0o755, 0o644);
}

fn is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn set_mode_all(dir: &Path, dir_mode: u32, file_mode: u32) {
    for e in std::fs::read_dir(dir).unwrap() {
        set_mode(&e.unwrap().path(), file_mode);
    }
    set_mode(dir, dir_mode);
}

#[test]
fn leftovers_of_a_killed_graph_save_are_cleaned() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    seeds_index(w, "I");
    std::fs::write(w.join("I/graph.tmp-99999"), b"half a graph").unwrap();
    run_ok(motif().current_dir(w).args(["index", "seeds", "--index", "I"]));
    assert!(!w.join("I/graph.tmp-99999").exists());
}

#[test]
fn a_closed_stdout_is_a_normal_end() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    seeds_index(w, "I");
    for args in [
        &["info", "--docs", "--index", "I"][..],
        &["query", "troops", "--json", "--index", "I"],
        &["query", "troops", "--index", "I"],
        &["embed", "seeds", "--model", "hash", "--format", "jsonl"],
        &["similar", "seeds/000_44e9cad41cf57f3b.txt", "--index", "I"],
    ] {
        let mut child =
            motif().current_dir(w).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // The reader goes away before motif writes anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?} exited {:?}: {stderr}", out.status.code());
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn bad_flag_values_are_refused_by_name() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    seeds_index(w, "I");
    for (args, expect) in [
        (&["query", "troops", "-k", "0", "--index", "I"][..], "must be at least 1"),
        (&["similar", "seeds/000_44e9cad41cf57f3b.txt", "-k", "0", "--index", "I"], "must be at least 1"),
        (&["overlaps", "--k", "0", "--index", "I"], "must be at least 1"),
        (&["--threads", "100000", "info", "--index", "I"], "--threads"),
        (&["--threads", "0", "info", "--index", "I"], "--threads"),
        (&["report", "--threshold", "NaN", "--index", "I"], "threshold NaN"),
        (&["report", "--threshold", "2", "--index", "I"], "threshold 2"),
        (&["query", "troops", "--ef", "0", "--index", "I"], "ef"),
    ] {
        let err = run_err(motif().current_dir(w).args(args));
        let first = err.lines().next().unwrap_or("");
        assert!(first.contains(expect), "{args:?}: {expect:?} not in the first line of {err}");
        assert!(!first.contains("index"), "{args:?} blames the index: {first}");
    }
}

#[test]
fn a_dimension_mismatch_names_both_sides_once() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    seeds_index(w, "I");
    sql(w, "I").execute("UPDATE manifest SET value = '100' WHERE key = 'dim'", []).unwrap();
    let err = run_err(motif().current_dir(w).args(["query", "troops", "--index", "I"]));
    assert!(err.contains("dimension 100") && err.contains("makes 384"), "{err}");
}

#[test]
fn motif_index_env_is_read_by_every_command() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    seeds_index(w, "elsewhere");
    // A decoy index where the default would be.
    std::fs::create_dir(w.join("decoy")).unwrap();
    std::fs::write(w.join("decoy/d.txt"), "A decoy document about harvest festivals and apples.").unwrap();
    run_ok(motif().current_dir(w).args(["index", "decoy", "--model", "hash"]));
    for args in
        [&["overlaps", "--format", "json"][..], &["themes", "--json"], &["info"], &["query", "troops", "--json"]]
    {
        let out = run_ok(motif().current_dir(w).env("MOTIF_INDEX", "elsewhere").args(args));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("decoy"), "{args:?} read ./.motif: {text}");
    }
}

/// A corpus of `n` BBC articles as text files (the test skips without the data).
fn bbc_files(work: &Path, n: usize) -> Option<()> {
    let path = data_file("bbc/bbc.jsonl")?;
    let dir = work.join("bbc");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, line) in std::fs::read_to_string(path).unwrap().lines().take(n).enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        std::fs::write(dir.join(format!("{i:04}.txt")), v["text"].as_str().unwrap()).unwrap();
    }
    Some(())
}

/// One stored passage: document name and hash, ordinal, offsets, text, vector.
type StoredRow = (String, String, i64, i64, i64, String, Vec<u8>);

/// Everything an index holds that a rerun must reproduce: documents with
/// their hashes, passages with their text, offsets and vectors.
fn contents(work: &Path, index: &str) -> Vec<StoredRow> {
    let conn = sql(work, index);
    let mut stmt = conn
        .prepare(
            "SELECT d.name, d.hash, p.ordinal, p.byte_start, p.byte_end, p.text, v.vector FROM passages p
             JOIN documents d ON d.id = p.doc JOIN vectors v ON v.passage = p.id ORDER BY d.name, p.ordinal",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn kill_9_at_seeded_points_of_index_loses_nothing_committed() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    if bbc_files(w, 300).is_none() {
        return;
    }
    let args = ["index", "bbc", "--model", "hash", "--commit-every", "16"];
    let started = std::time::Instant::now();
    run_ok(motif().current_dir(w).args(args).args(["--index", "clean"]));
    let first = started.elapsed();
    // The quicker of two clean runs: one slowed by a burst of other work
    // on the machine would put every kill point past the end of the runs.
    let started = std::time::Instant::now();
    run_ok(motif().current_dir(w).args(args).args(["--index", "clean2"]));
    let full = first.min(started.elapsed());
    let clean = contents(w, "clean");
    assert_eq!(contents(w, "clean2"), clean, "two clean runs store the same");
    // Kill points spread over the whole run (reading, embedding and
    // commits, the graph build and its save), from a fixed seed.
    let mut seed: u64 = 19;
    let mut killed = 0;
    for round in 0..12 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        // Within the first 80 % of a clean run's time: later points often
        // find the run already done on a quieter machine.
        let at = full.mul_f64(0.8 * (seed >> 11) as f64 / (1u64 << 53) as f64);
        let index = format!("k{round}");
        let mut child = motif()
            .current_dir(w)
            .args(args)
            .args(["--index", &index])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        killed += usize::from(!status.success());
        // Whatever was committed is readable and checks out.
        if w.join(&index).join("index.sqlite").is_file() {
            let out = motif().current_dir(w).args(["info", "--check", "--index", &index]).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() || stderr.contains("not a motif index"), "round {round} at {at:?}: {stderr}");
        }
        // The rerun completes it, to exactly what a clean run stores.
        run_ok(motif().current_dir(w).args(args).args(["--index", &index]));
        assert_eq!(contents(w, &index), clean, "round {round}, killed at {at:?}");
        let info = run_ok(motif().current_dir(w).args(["info", "--json", "--index", &index]));
        let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
        assert_eq!(info["graph"]["status"], "fresh", "round {round}");
    }
    assert!(killed >= 6, "only {killed} of 12 runs were killed before they finished: the test proves little");
}

/// The cached default model, copied into a cache of the test's own.
fn model_cache(work: &Path) -> Option<std::path::PathBuf> {
    let out = motif().args(["model", "path", "all-MiniLM-L6-v2"]).output().unwrap();
    let dir = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !out.status.success() || !dir.join("model.safetensors").is_file() {
        skip("the default model is not cached (run `motif model fetch`)");
        return None;
    }
    let cache = work.join("cache");
    copy_tree(&dir, &cache.join("models/all-MiniLM-L6-v2"));
    Some(cache)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn a_damaged_model_cache_is_refused_listed_and_repaired() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let Some(cache) = model_cache(w) else { return };
    let good = w.join("good");
    copy_tree(&cache.join("models/all-MiniLM-L6-v2"), &good);
    let weights = cache.join("models/all-MiniLM-L6-v2/model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&weights, &bytes).unwrap();
    let with_cache = |args: &[&str]| {
        let mut cmd = motif();
        cmd.current_dir(w).env("MOTIF_CACHE_DIR", &cache).env("MOTIF_OFFLINE", "1").args(args);
        cmd
    };
    std::fs::write(w.join("t.txt"), "Troops crossed the river.").unwrap();
    let err = run_err(&mut with_cache(&["embed", "t.txt", "--format", "jsonl"]));
    assert!(
        err.contains("model.safetensors")
            && err.contains("damaged")
            && err.contains("motif model fetch all-MiniLM-L6-v2"),
        "{err}"
    );
    let list = run_ok(&mut with_cache(&["model", "list"]));
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.lines().any(|l| l.starts_with("all-MiniLM-L6-v2") && l.contains("damaged")), "{list}");
    run_ok(&mut with_cache(&["model", "fetch", "all-MiniLM-L6-v2", "--from", good.to_str().unwrap()]));
    run_ok(&mut with_cache(&["embed", "t.txt", "--format", "jsonl"]));
    let list = run_ok(&mut with_cache(&["model", "list"]));
    assert!(!String::from_utf8_lossy(&list.stdout).contains("damaged"));
}
