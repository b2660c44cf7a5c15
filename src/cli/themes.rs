//! `motif themes`: arguments into `themes::Options`, the corpus from files
//! or an index, its units (sentences by default) and their k-NN graph,
//! `themes::find`, and text or JSON.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::progress::Bars;
use super::report::PeriodArg;
use super::{ellipsize, open_source, round, IndexArg, ModelArgs, ReadArgs};
use motif::corpus::{Corpus, UnitKind, Units};
use motif::index::Route;
use motif::pipeline;
use motif::spread::{self, Calendar, Counts, Period};
use motif::store::Store;
use motif::themes::cluster::Params;
use motif::themes::keywords::StopWords;
use motif::themes::stable::{self, UnitKey};
use motif::themes::{self, Options, Theme, Themes};

pub const LONG_ABOUT: &str =
    "Cluster the sentences of an index's passages (or of files embedded on the spot) into themes.\n\n\
Sentences, because a paragraph often makes several points; --unit passage clusters whole passages instead \
(no sentence embedding: faster on large corpora). Per theme: an id, its size, keywords (class-based TF-IDF \
against the rest of the corpus, English stop words out, bigrams in), a label made of the top keywords, the most \
central sentences (document, passage, byte offsets) and the documents it appears in with how many sentences each. \
Sentences in no theme, and those with fewer than three content words, are outliers; --reassign-outliers attaches \
each to its nearest theme. The number of themes is found from the data (community detection on the k-NN graph of \
the units, exact up to 50,000 units and HNSW beyond; --resolution sets how fine); --themes K forces it. Same input \
and seed, same output.\n\n\
Themes form a tree: level 0 holds the themes found (the finest); when there are more than five, level 1 merges them \
into about the square root as many broader themes (average linkage on their centroids), and so on up to a top of at \
most five. A broader theme's members are its children's. The text output shows the top level with the finer themes \
inside; --level N lists level N only. JSON gives each theme its level, parent and children ids.\n\n\
With an index, themes keep their ids across runs: the last run is saved in the index, and the next one matches its \
themes to it by shared sentences (document, byte span and text) and centroid. A theme that persists keeps its id and \
label; the others are new, merged or split (status in JSON), and the previous themes without a successor are listed \
as vanished. New ids never reuse old ones. --no-save-themes matches without saving; an index this user cannot write \
is matched without saving.\n\n\
Examples:\n  motif index seeds/ && motif themes\n  motif themes --index ~/notes.motif --json > themes.json\n  \
motif themes seeds/ --min-size 3\n  motif themes --unit passage";

/// What is grouped into themes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
pub enum UnitArg {
    /// Each sentence of each passage (a paragraph can make several points).
    Sentence,
    /// Whole passages as the index stores them (no sentence embedding).
    Passage,
}

impl UnitArg {
    pub fn kind(self) -> UnitKind {
        match self {
            UnitArg::Sentence => UnitKind::Sentence,
            UnitArg::Passage => UnitKind::Passage,
        }
    }
}

/// Clustering and description settings shared by `themes`, `report` and `eval themes`.
#[derive(Args, Clone, Debug)]
pub struct ThemeArgs {
    /// Groups smaller than this are outliers, not themes.
    #[arg(long, default_value_t = 5)]
    pub min_size: usize,
    /// Seed for the clustering's visiting order: same input and seed, same output.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Force this many themes (default: found from the data).
    #[arg(long)]
    pub themes: Option<usize>,
    /// Neighbours per unit in the k-NN graph (default: √n, between 5 and 50).
    #[arg(long)]
    pub neighbors: Option<usize>,
    /// Modularity resolution: higher gives more, smaller themes [default: 1.0 for sentences, 0.75 for passages and whole records].
    #[arg(long)]
    pub resolution: Option<f64>,
    /// Attach each outlier to its nearest theme instead of listing it apart.
    #[arg(long)]
    pub reassign_outliers: bool,
    /// More stop words for keywords: a file of words (whitespace or comma separated, # comments).
    #[arg(long)]
    pub stopwords: Option<PathBuf>,
    /// Keywords per theme.
    #[arg(long, default_value_t = 10)]
    pub keywords: usize,
    /// Central units shown per theme.
    #[arg(long, default_value_t = 3)]
    pub central: usize,
}

/// The settings as `--json` reports them.
#[derive(Serialize)]
pub struct SettingsJson {
    min_size: usize,
    seed: u64,
    themes: Option<usize>,
    neighbors: serde_json::Value,
    resolution: f64,
    reassign_outliers: bool,
}

impl ThemeArgs {
    pub fn resolution(&self, unit: UnitKind) -> f64 {
        self.resolution.unwrap_or_else(|| themes::default_resolution(unit))
    }

    pub fn options(&self, unit: UnitKind) -> Result<Options> {
        let mut stop_words = StopWords::default();
        if let Some(path) = &self.stopwords {
            stop_words.extend_from_file(path)?;
        }
        let cluster = Params {
            k: self.neighbors.unwrap_or(0),
            resolution: self.resolution(unit),
            min_size: self.min_size,
            seed: self.seed,
            themes: self.themes,
            threads: 0,
        };
        cluster.check()?;
        if self.neighbors == Some(0) {
            bail!("--neighbors must be at least 1");
        }
        Ok(Options {
            cluster,
            keywords: self.keywords.max(1),
            central: self.central,
            reassign_outliers: self.reassign_outliers,
            stop_words,
            ..Options::default()
        })
    }

    pub fn settings_json(&self, unit: UnitKind) -> SettingsJson {
        SettingsJson {
            min_size: self.min_size,
            seed: self.seed,
            themes: self.themes,
            neighbors: self.neighbors.map_or_else(|| serde_json::json!("auto"), |k| serde_json::json!(k)),
            resolution: self.resolution(unit),
            reassign_outliers: self.reassign_outliers,
        }
    }
}

#[derive(Args)]
pub struct ThemesArgs {
    /// Files, folders or globs to embed and cluster directly (default: read the index).
    paths: Vec<String>,
    #[command(flatten)]
    dir: IndexArg,
    /// What is grouped into themes: sentences, or whole passages.
    #[arg(long, value_enum, default_value_t = UnitArg::Sentence)]
    unit: UnitArg,
    #[command(flatten)]
    theme: ThemeArgs,
    /// The level of the theme tree to list: 0 = the themes found (the finest), 1 = the broader themes that merge
    /// them, and so on up to the top (default: the top level with the finer themes inside; JSON: level 0).
    #[arg(long, value_name = "N")]
    level: Option<usize>,
    /// Match the themes to the index's last saved run, but do not save this one.
    #[arg(long)]
    no_save_themes: bool,
    /// The periods of the JSON's per-theme counts over time, where documents have dates (auto: days up to 90
    /// days, then weeks, months, years).
    #[arg(long, value_enum, default_value_t = PeriodArg::Auto)]
    period: PeriodArg,
    /// Print JSON (byte-identical for the same input, seed and saved run).
    #[arg(long)]
    json: bool,
    /// How documents given as PATHs are read and cut into passages.
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(args: ThemesArgs) -> Result<()> {
    let kind = args.unit.kind();
    let opts = args.theme.options(kind)?; // bad settings stop the run before anything is read
    let source = open_source(&args.paths, &args.dir, &args.read, &args.model)?;
    let corpus = &source.corpus;
    let mut bars = Bars::new();
    let units = pipeline::units(corpus, kind, &*source.embedder, &mut bars)?;
    source.say_embedded(units.embedded, false);
    let start = Instant::now();
    let members = themes::members(&units.text_refs(), opts.min_content_words).len();
    let graph = pipeline::neighbours(
        &units,
        corpus.index_graph.as_deref(),
        opts.min_content_words,
        themes::neighbours_needed(members, &opts),
        Route::Auto,
        &mut bars,
    );
    let mut found = themes::find(&units, &graph, &opts)?;
    let seconds = start.elapsed().as_secs_f64();
    if let Some(level) = args.level {
        if level >= found.levels() {
            bail!(
                "--level {level}: the theme tree has {} level{} (0 to {})",
                found.levels(),
                if found.levels() == 1 { "" } else { "s" },
                found.levels() - 1
            );
        }
    }
    if args.paths.is_empty() {
        track(&args.dir.index, corpus, &units, &mut found, !args.no_save_themes)?;
    }
    if args.json {
        let level = args.level.unwrap_or(0);
        return super::print_json(&themes_json(
            &source.name,
            corpus,
            &units,
            &found,
            &args.theme,
            level,
            args.period.period(),
        ));
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    print_themes(&mut out, corpus, &units, &found, args.level)?;
    writeln!(out, "clustered in {seconds:.2} s (seed {})", args.theme.seed)?;
    out.flush()?;
    Ok(())
}

/// Each unit's key across runs (document name, byte span, text).
pub fn unit_keys(corpus: &Corpus, units: &Units) -> Vec<UnitKey> {
    units
        .list
        .iter()
        .zip(&units.texts)
        .map(|(u, t)| UnitKey::new(&corpus.documents[u.doc], u.start, u.end, t))
        .collect()
}

/// Gives the themes the ids of the index's last saved run (`stable::track`)
/// and, when `save`, saves this run as the last. An index this process
/// cannot write (read-only, or another writer holds it) is matched without
/// saving, said once on stderr; a saved run that cannot be read is ignored,
/// said too.
pub fn track(dir: &Path, corpus: &Corpus, units: &Units, found: &mut Themes, save: bool) -> Result<()> {
    let unit = units.kind.name();
    let writer = if save {
        match Store::open_to_save_themes(dir) {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("motif: themes matched to the last saved run but not saved ({e})");
                None
            }
        }
    } else {
        None
    };
    let previous = match &writer {
        Some(w) => w.saved_themes(unit),
        None => Store::open_read(dir)?.saved_themes(unit),
    };
    let previous = previous.unwrap_or_else(|e| {
        eprintln!("motif: {e}; the themes get fresh ids");
        None
    });
    let run = stable::track(found, &unit_keys(corpus, units), previous.as_ref());
    if let Some(mut w) = writer {
        if let Err(e) = w.save_themes(unit, &run) {
            eprintln!("motif: the themes were not saved ({e})");
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct UnitRef<'a> {
    doc: &'a str,
    passage: usize,
    start: usize,
    end: usize,
}

#[derive(Serialize)]
struct CentralJson<'a> {
    #[serde(flatten)]
    unit: UnitRef<'a>,
    score: f64,
    text: &'a str,
}

#[derive(Serialize)]
struct KeywordJson<'a> {
    term: &'a str,
    score: f64,
}

#[derive(Serialize)]
struct DocCount<'a> {
    doc: &'a str,
    units: usize,
}

#[derive(Serialize)]
struct ThemeJson<'a> {
    id: usize,
    size: usize,
    label: &'a str,
    keywords: Vec<KeywordJson<'a>>,
    central: Vec<CentralJson<'a>>,
    documents: Vec<DocCount<'a>>,
    members: Vec<UnitRef<'a>>,
    /// 0: the themes found; 1..: broader ones.
    level: usize,
    parent: Option<usize>,
    children: &'a [usize],
    /// new, persisting, merged or split (absent when no index was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    /// The previous run's themes a merged or split one came from.
    #[serde(skip_serializing_if = "<[usize]>::is_empty")]
    from: &'a [usize],
    /// Its units per period (`periods`) and per source (`sources`), where documents have them.
    #[serde(flatten)]
    spread: Counts,
}

#[derive(Serialize)]
struct ThemesJson<'a> {
    source: &'a str,
    unit: &'static str,
    units: usize,
    passages: usize,
    documents: usize,
    settings: SettingsJson,
    /// The level `themes` lists, and how many the tree has.
    level: usize,
    levels: usize,
    /// The periods the documents' dates cover (absent when none is dated).
    #[serde(skip_serializing_if = "Option::is_none")]
    periods: Option<Calendar>,
    /// The documents' sources, most documents first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sources: Vec<String>,
    themes: Vec<ThemeJson<'a>>,
    /// The themes above `level`.
    broader: Vec<ThemeJson<'a>>,
    /// The previous run's themes without a successor.
    vanished: &'a [stable::Vanished],
    outliers: usize,
    outlier_share: f64,
    reassigned: usize,
    outlier_units: Vec<UnitRef<'a>>,
    /// Sentences embedded for this run (0 on an index that stores them all).
    sentences_embedded: usize,
}

fn themes_json<'a>(
    source: &'a str,
    c: &'a Corpus,
    u: &'a Units,
    t: &'a Themes,
    settings: &ThemeArgs,
    level: usize,
    period: Option<Period>,
) -> ThemesJson<'a> {
    let unit = |i: usize| {
        let l = &u.list[i];
        UnitRef { doc: &c.documents[l.doc], passage: c.passages[l.passage].ordinal, start: l.start, end: l.end }
    };
    let calendar = Calendar::new(&c.meta, period);
    let (sources, source_of) = spread::sources(&c.meta);
    let spread_of = |th: &Theme| {
        spread::count(th.members.iter().map(|&m| u.list[m].doc), calendar.as_ref(), &source_of, sources.len())
    };
    let theme = |th: &'a Theme| ThemeJson {
        id: th.id,
        size: th.size(),
        label: &th.label,
        keywords: th.keywords.iter().map(|k| KeywordJson { term: &k.term, score: round(k.score, 4) }).collect(),
        central: th
            .central
            .iter()
            .map(|x| CentralJson { unit: unit(x.unit), score: round(x.score as f64, 4), text: &u.texts[x.unit] })
            .collect(),
        documents: th.documents.iter().map(|(d, n)| DocCount { doc: &c.documents[*d], units: *n }).collect(),
        members: th.members.iter().map(|&i| unit(i)).collect(),
        level: th.level,
        parent: th.parent,
        children: &th.children,
        status: th.status.map(|s| s.as_str()),
        from: &th.from,
        spread: spread_of(th),
    };
    let themes = t.level(level).into_iter().map(theme).collect();
    let broader = t.broader.iter().filter(|th| th.level > level).map(theme).collect();
    let n = u.len();
    ThemesJson {
        source,
        unit: u.kind.name(),
        units: n,
        passages: c.passages.len(),
        documents: c.documents.len(),
        settings: settings.settings_json(u.kind),
        level,
        levels: t.levels(),
        periods: calendar.clone(),
        sources: sources.clone(),
        themes,
        broader,
        vanished: &t.vanished,
        outliers: t.outliers.len(),
        outlier_share: round(t.outliers.len() as f64 / n.max(1) as f64, 4),
        reassigned: t.reassigned,
        outlier_units: t.outliers.iter().map(|&i| unit(i)).collect(),
        sentences_embedded: u.embedded,
    }
}

fn print_themes(out: &mut dyn Write, c: &Corpus, u: &Units, t: &Themes, level: Option<usize>) -> io::Result<()> {
    let n = u.len();
    let what = u.kind.plural();
    match level {
        Some(level) => {
            for th in t.level(level) {
                print_theme(out, c, u, th, what)?;
            }
        }
        None => {
            // The top level, each with the finer themes inside.
            let top = t.levels() - 1;
            for root in t.level(top) {
                if top > 0 {
                    print_header(out, root, what, 0)?;
                }
                print_below(out, c, u, t, root, what)?;
            }
        }
    }
    for v in &t.vanished {
        writeln!(
            out,
            "vanished since the last run: theme {} (level {})  {}  ({} {what})",
            v.id, v.level, v.label, v.size
        )?;
    }
    let of_passages =
        if u.kind == UnitKind::Sentence { format!(" of {} passages", c.passages.len()) } else { String::new() };
    let tree = if t.levels() > 1 {
        let counts: Vec<String> = (0..t.levels()).map(|l| format!("{} at level {l}", t.level(l).len())).collect();
        format!(" (tree: {})", counts.join(", "))
    } else {
        String::new()
    };
    writeln!(
        out,
        "{} themes{tree} over {n} {what}{of_passages} from {} documents; {} outliers ({:.1}%){}",
        t.themes.len(),
        c.documents.len(),
        t.outliers.len(),
        100.0 * t.outliers.len() as f64 / n.max(1) as f64,
        if t.reassigned > 0 {
            format!(", {} outliers reassigned to their nearest theme", t.reassigned)
        } else if t.outliers.is_empty() {
            String::new()
        } else {
            " (listed with --json; --reassign-outliers attaches them)".to_string()
        }
    )
}

/// The finer themes under `th`: headers for broader ones, leaves in full.
fn print_below(out: &mut dyn Write, c: &Corpus, u: &Units, t: &Themes, th: &Theme, what: &str) -> io::Result<()> {
    if th.level == 0 {
        return print_theme(out, c, u, th, what);
    }
    for child in th.children.iter().filter_map(|&id| t.by_id(id)) {
        if child.level > 0 {
            print_header(out, child, what, t.levels() - 1 - child.level)?;
        }
        print_below(out, c, u, t, child, what)?;
    }
    Ok(())
}

fn status(th: &Theme) -> String {
    match th.status {
        Some(s) if th.from.is_empty() => format!("  [{}]", s.as_str()),
        Some(s) => {
            format!("  [{} from {}]", s.as_str(), th.from.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", "))
        }
        None => String::new(),
    }
}

fn print_header(out: &mut dyn Write, th: &Theme, what: &str, depth: usize) -> io::Result<()> {
    writeln!(
        out,
        "{}== broad theme {} (level {})  {}  ({} {what} in {} document{}; themes {}){}",
        "  ".repeat(depth),
        th.id,
        th.level,
        th.label,
        th.size(),
        th.documents.len(),
        if th.documents.len() == 1 { "" } else { "s" },
        th.children.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "),
        status(th)
    )?;
    writeln!(out)
}

fn print_theme(out: &mut dyn Write, c: &Corpus, u: &Units, th: &Theme, what: &str) -> io::Result<()> {
    let docs = th.documents.len();
    let parent = th.parent.map(|p| format!(", in {p}")).unwrap_or_default();
    writeln!(
        out,
        "theme {}  {}  ({} {what} in {docs} document{}{parent}){}",
        th.id,
        th.label,
        th.size(),
        if docs == 1 { "" } else { "s" },
        status(th)
    )?;
    writeln!(out, "  keywords: {}", th.keywords.iter().map(|k| k.term.as_str()).collect::<Vec<_>>().join(", "))?;
    for x in &th.central {
        let l = &u.list[x.unit];
        writeln!(
            out,
            "  {:.3}  {} #{} [{}..{}]  {}",
            x.score,
            c.documents[l.doc],
            c.passages[l.passage].ordinal,
            l.start,
            l.end,
            ellipsize(&u.texts[x.unit], 90)
        )?;
    }
    let docs: Vec<String> = th.documents.iter().map(|(d, k)| format!("{} ({k})", c.documents[*d])).collect();
    writeln!(out, "  documents: {}", docs.join(", "))?;
    writeln!(out)
}
