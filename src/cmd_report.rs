//! `motif report`: the whole batch in one command. Indexes the given paths
//! (only what changed, as `motif index` does), finds the overlapping claims
//! (sentence level, as `motif overlaps --granularity sentence`) and the
//! themes (as `motif themes`, over the same sentences and their vectors),
//! and writes report.html, report.md and report.json.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use motif::cluster::{Params as ClusterParams, Vectors};
use motif::report::{self, EchoGroup, EchoPair, Report, ReportDocument, ReportPassage, ReportTheme, ReportUnit};
use motif::store::Store;
use motif::themes::{self, Options as ThemeOptions};

use crate::cmd_themes::{default_resolution, UnitKind, Units};

#[derive(Args)]
pub struct ReportArgs {
    /// Files, folders or globs to index first (optional: without them the index is reported as it is).
    paths: Vec<String>,
    /// The index directory.
    #[arg(long, env = "MOTIF_INDEX", default_value = ".motif", value_name = "DIR")]
    index: PathBuf,
    /// Where report.html, report.md and report.json are written.
    #[arg(long, default_value = "report", value_name = "DIR")]
    out: PathBuf,
    /// The report's title (default: the index's folder and its document count).
    #[arg(long)]
    title: Option<String>,
    /// Seed of the clustering: same index and seed, same report.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Groups smaller than this are outliers, not themes.
    #[arg(long, default_value_t = 5)]
    min_size: usize,
    /// What is grouped into themes: sentences, or whole passages.
    #[arg(long, value_enum, default_value_t = UnitKind::Auto)]
    unit: UnitKind,
    /// Modularity resolution of the themes: higher gives more, smaller themes [default: 1.0 for sentences, 0.75 for passages].
    #[arg(long)]
    resolution: Option<f64>,
    /// Overlap threshold (default: the calibrated one of `motif overlaps`).
    #[arg(long)]
    threshold: Option<f32>,
}

pub fn cmd_report(args: ReportArgs) -> Result<()> {
    let index = args.index.display().to_string();
    if !args.paths.is_empty() {
        crate::cmd_index::index_from_argv(&[&["--index", index.as_str()][..], &args.paths.iter().map(String::as_str).collect::<Vec<_>>()].concat())?;
    }
    let threshold = args.threshold.map(|t| t.to_string());
    let mut argv = vec!["--index", index.as_str(), "--granularity", "sentence"];
    if let Some(t) = &threshold {
        argv.extend(["--threshold", t.as_str()]);
    }
    let mut overlaps = crate::cmd_overlaps::compute_from_argv(&argv)
        .with_context(|| format!("reading the index {index} (index documents with `motif report PATH...` or `motif index PATH...`)"))?;

    let store = Store::open_read(&args.index)?;
    let unit = args.unit.resolve(overlaps.units.len(), overlaps.passages.len());
    let sentences = unit == UnitKind::Sentence;
    // Units: the sentences `overlaps` cut and embedded, or the stored passages.
    let (Units { passage: unit_passage, span: unit_span, text: unit_text, vectors: unit_vectors, .. }, dim) = if sentences {
        let units = Units {
            kind: unit,
            passage: overlaps.units.iter().map(|u| u.passage).collect(),
            span: overlaps.units.iter().map(|u| (u.start, u.end)).collect(),
            text: std::mem::take(&mut overlaps.unit_texts),
            vectors: std::mem::take(&mut overlaps.unit_vectors),
        };
        (units, overlaps.dim)
    } else {
        let table = store.vectors()?;
        if table.passages.len() != overlaps.passages.len() {
            bail!("{index}: the index changed while the report was being made; run it again");
        }
        let ps = &overlaps.passages;
        (Units::whole_passages(ps.iter().map(|p| (p.start, p.end)).collect(), ps.iter().map(|p| p.text.clone()).collect(), table.data), table.dim)
    };
    let texts: Vec<&str> = unit_text.iter().map(String::as_str).collect();
    let docs: Vec<usize> = unit_passage.iter().map(|&p| overlaps.passages[p].doc).collect();
    let vectors = Vectors::new(&unit_vectors, dim)?;
    let options = ThemeOptions {
        cluster: ClusterParams {
            seed: args.seed,
            min_size: args.min_size,
            resolution: args.resolution.unwrap_or_else(|| default_resolution(sentences)),
            ..ClusterParams::default()
        },
        ..ThemeOptions::default()
    };
    options.cluster.check()?;
    let found = themes::build(vectors, &texts, &docs, &options)?;

    let xy = report::map::project_2d(ndarray::ArrayView2::from_shape((vectors.len(), dim), &unit_vectors)?);
    let units: Vec<ReportUnit> = (0..unit_passage.len())
        .map(|u| ReportUnit {
            passage: unit_passage[u],
            start: unit_span[u].0,
            end: unit_span[u].1,
            text: unit_text[u].clone(),
            theme: found.assignment[u].map(|t| found.themes[t].id),
            x: xy[u].0,
            y: xy[u].1,
        })
        .collect();
    let passage_theme = Report::passage_themes(overlaps.passages.len(), &units);
    let passages: Vec<ReportPassage> = overlaps
        .passages
        .iter()
        .enumerate()
        .map(|(i, p)| ReportPassage { doc: p.doc, passage: p.ordinal, start: p.start, end: p.end, text: p.text.clone(), theme: passage_theme[i] })
        .collect();
    let echo_pair = |i: usize| {
        let o = &overlaps.overlaps[i];
        EchoPair { a: o.a, b: o.b, score: o.score, kind: o.kind.as_str().to_string() }
    };
    let echo_groups: Vec<EchoGroup> = overlaps
        .groups
        .iter()
        .map(|g| {
            let strongest = &overlaps.overlaps[g.pairs[0]];
            let claim = strongest
                .sentences
                .first()
                .map(|s| overlaps.passages[strongest.a].slice(s.a).to_string())
                .unwrap_or_else(|| overlaps.passages[strongest.a].text.clone());
            EchoGroup {
                passages: g.members.clone(),
                pairs: g.pairs.iter().map(|&i| echo_pair(i)).collect(),
                claim,
            }
        })
        .collect();
    // A group belongs to the theme that holds most of its passages.
    let mut groups_of_theme: HashMap<usize, Vec<usize>> = HashMap::new();
    for (gi, g) in echo_groups.iter().enumerate() {
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for &p in &g.passages {
            if let Some(t) = passages[p].theme {
                *counts.entry(t).or_default() += 1;
            }
        }
        if let Some((&t, _)) = counts.iter().max_by_key(|(t, c)| (**c, std::cmp::Reverse(**t))) {
            groups_of_theme.entry(t).or_default().push(gi);
        }
    }
    let themes: Vec<ReportTheme> = found
        .themes
        .iter()
        .map(|t| ReportTheme {
            id: t.id,
            label: t.label.clone(),
            keywords: t.keywords.iter().map(|k| k.term.clone()).collect(),
            size: t.size(),
            central: t.central.iter().map(|c| c.unit).collect(),
            documents: t.documents.clone(),
            echo_groups: groups_of_theme.get(&t.id).cloned().unwrap_or_default(),
        })
        .collect();
    let documents: Vec<ReportDocument> = overlaps
        .documents
        .iter()
        .enumerate()
        .map(|(d, id)| ReportDocument { id: id.clone(), passages: overlaps.passages.iter().filter(|p| p.doc == d).count() })
        .collect();
    let title = args.title.clone().unwrap_or_else(|| format!("Themes and overlaps in {} documents ({index})", documents.len()));
    let report = Report {
        title,
        model: store.manifest().model.clone(),
        motif_version: env!("CARGO_PKG_VERSION").to_string(),
        unit: unit.name().to_string(),
        documents,
        passages,
        units,
        themes,
        outliers: found.outliers.clone(),
        echo_groups,
        between_groups: motif::overlaps::between_groups(overlaps.overlaps.len(), &overlaps.groups).into_iter().map(echo_pair).collect(),
        overlap_threshold: overlaps.threshold,
    };

    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create the folder", args.out.display()))?;
    for (name, body) in [("report.html", report.to_html()), ("report.md", report.to_markdown()), ("report.json", report.to_json())] {
        let path = args.out.join(name);
        // Write then rename: a reader never sees half a report.
        let tmp = args.out.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, body).with_context(|| format!("{}: cannot write", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("{}: cannot write", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!(
        "{} documents, {} passages: {} themes over {} {}s ({} outliers), {} echo groups",
        report.documents.len(),
        report.passages.len(),
        report.themes.len(),
        report.units.len(),
        report.unit,
        report.outliers.len(),
        report.echo_groups.len()
    );
    Ok(())
}
