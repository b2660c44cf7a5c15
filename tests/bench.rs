//! `motif bench --json` reports every stage with positive figures. Speed
//! itself is not asserted here: that is what the benchmarks are for.

mod common;

use common::*;

#[test]
#[cfg_attr(debug_assertions, ignore = "runs the real model: too slow unoptimised; cargo test --release runs it")]
fn bench_json_has_every_stage_with_positive_figures() {
    let out = run_ok(motif().current_dir(repo()).args(["bench", "--json", "--passages", "64", "--vectors", "2000"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let positive = |path: &str| {
        let x = v.pointer(path).and_then(|x| x.as_f64()).unwrap_or_else(|| panic!("{path} missing in {v}"));
        assert!(x > 0.0, "{path} = {x}");
    };
    for path in [
        "/model_load_seconds",
        "/tokenize_tokens_per_second",
        "/embed/passages_per_second",
        "/embed/tokens_per_second",
        "/embed/gflops",
        "/gemm_peak_gflops",
        "/index/build_seconds",
        "/index/queries_per_second",
        "/index/recall_at_k",
        "/cluster/seconds",
        "/cluster/themes",
        "/peak_rss_bytes",
        "/machine/cores",
    ] {
        positive(path);
    }
    // 2,000 generated vectors: the graph must find nearly all true neighbours.
    let recall = v["index"]["recall_at_k"].as_f64().unwrap();
    assert!(recall >= 0.9, "recall@10 {recall}");
    assert_eq!(v["embed"]["passages"], 64);
    assert!(!v["machine"]["cpu"].as_str().unwrap().is_empty());
    assert!(v["machine"]["motif_version"].is_string());
    assert_eq!(v["device"], "cpu");
    // Every precision, in order, each measured or saying why it cannot run
    // here; f32 is the reference the others are compared with.
    let precisions = v["precisions"].as_array().unwrap_or_else(|| panic!("no precisions in {v}"));
    let names: Vec<&str> = precisions.iter().map(|p| p["precision"].as_str().unwrap()).collect();
    assert_eq!(names, ["f32", "bf16", "int8"]);
    assert_eq!(precisions[0]["speedup_vs_f32"], 1.0);
    assert!(precisions[0]["cosine_to_f32"].is_null());
    for p in precisions {
        if let Some(why) = p["unavailable"].as_str() {
            assert!(why.contains("needs") && p["passages_per_second"].is_null(), "{p}");
            continue;
        }
        assert!(p["passages_per_second"].as_f64().unwrap() > 0.0, "{p}");
        assert!(p["kernels"].as_str().unwrap().starts_with(p["precision"].as_str().unwrap()), "{p}");
        if p["precision"] != "f32" {
            let mean = p["cosine_to_f32"]["mean"].as_f64().unwrap();
            assert!((0.99..=1.0 + 1e-6).contains(&mean), "{p}");
        }
    }
    // int8 runs wherever the CPU has AVX2 or better.
    let int8_here = cfg!(any(host_amx_int8, host_avx512_vnni, host_avx_vnni, host_avx2));
    assert_eq!(precisions[2]["unavailable"].is_null(), int8_here, "{}", precisions[2]);
}

/// `motif bench scale` runs every stage on a corpus made from the seeds and
/// reports each; the index it leaves holds the corpus it describes and the
/// last 1 % went into the saved graph.
#[test]
fn bench_scale_times_every_stage_and_leaves_a_searchable_index() {
    let dir = std::env::temp_dir().join(format!("motif-test-bench-scale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let index = dir.join("scale.motif");
    let out = run_ok(motif().current_dir(repo()).args([
        "bench",
        "scale",
        "--n",
        "600",
        "--queries",
        "50",
        "--json",
        "--index",
        index.to_str().unwrap(),
    ]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stages: Vec<&str> = v["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    for want in [
        "make corpus",
        "index 99 %: embedding",
        "index 99 %: graph",
        "add 1 %: embedding",
        "add 1 %: graph",
        "search",
        "load corpus",
        "overlaps",
        "themes",
        "report",
    ] {
        assert!(stages.iter().any(|s| s.starts_with(want)), "no stage {want:?} in {stages:?}");
    }
    for s in v["stages"].as_array().unwrap() {
        assert!(s["seconds"].as_f64().unwrap() >= 0.0, "{s}");
        if cfg!(target_os = "linux") {
            assert!(s["peak_rss_bytes"].as_u64().unwrap() > 0, "{s}");
        }
    }
    let passages = v["passages"].as_u64().unwrap();
    assert!((600..700).contains(&passages), "{passages} passages for --n 600");
    assert_eq!(v["graph_incremental"], true, "the 1 % is inserted into the saved graph: {v}");
    assert!(v["recall_at_k"].as_f64().unwrap() >= 0.99, "{v}");
    assert_eq!(v["units"].as_u64(), Some(passages), "--unit passage analyses every passage");
    assert!(v["themes"].as_u64().unwrap() > 0, "{v}");
    assert!(v["overlaps"].as_u64().unwrap() > 0, "copies overlap their originals: {v}");
    // The index is a real one, holding the corpus described.
    let stats = run_ok(motif().args(["info", "--json", "--index", index.to_str().unwrap()]));
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["passages"].as_u64(), Some(passages), "{stats}");
    assert_eq!(stats["documents"], v["documents"], "{stats}");
    assert!(index.join("report/report.html").is_file());
    // A second run into the same folder is refused before anything is written.
    let again = motif()
        .current_dir(repo())
        .args(["bench", "scale", "--n", "10", "--index", index.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"), "{}", String::from_utf8_lossy(&again.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
