//! Helpers shared by the end-to-end tests: run the real binary, find the
//! shared evaluation data, read JSON lines.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn motif() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_motif"));
    cmd.env("MOTIF_NO_PROGRESS", "1").stdin(Stdio::null());
    cmd
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/data` beside the repository (or `$MOTIF_DATA_DIR`), when present.
pub fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MOTIF_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join("../shared/data"));
    dir.is_dir().then_some(dir)
}

/// The shared data file, or None after printing why the test is skipped.
/// Under CI (`CI` set), where the data is always present, a missing file
/// fails the test instead: a skip must never pass for a result there.
pub fn data_file(rel: &str) -> Option<PathBuf> {
    match data_dir().map(|d| d.join(rel)).filter(|p| p.is_file()) {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => panic!("{rel} not found under ../shared/data, which CI must have"),
        None => {
            eprintln!("SKIPPED: {rel} not found under ../shared/data (set MOTIF_DATA_DIR)");
            None
        }
    }
}

/// Says why a test cannot run here. Under CI (`CI` set), which installs
/// everything the tests need, that is a failure, not a skip.
pub fn skip(reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("cannot run under CI: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("motif runs");
    assert!(
        out.status.success(),
        "motif failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn run_err(cmd: &mut Command) -> String {
    let out = cmd.output().expect("motif runs");
    assert!(!out.status.success(), "expected failure, got success: {}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    stderr
}

pub fn json_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(bytes).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (na * nb)
}

pub fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

/// Headless Chromium on PATH, if there is one.
pub fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
    })
}

/// The page's DOM after its scripts ran, as headless Chromium dumps it.
pub fn draw(browser: &Path, html: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--virtual-time-budget=5000", "--dump-dom"])
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!dom.is_empty(), "chromium drew nothing: {}", String::from_utf8_lossy(&out.stderr));
    dom
}
