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
}
