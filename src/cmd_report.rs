//! `motif report`: the whole batch in one command. Indexes the given paths
//! (only what changed, as `motif index` does), finds the overlapping claims
//! (sentence level, as `motif overlaps --granularity sentence`) and the
//! themes (as `motif themes`), and writes report.html, report.md and
//! report.json.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use motif::cluster::{Params as ClusterParams, Vectors};
use motif::report::{self, EchoGroup, EchoPair, Report, ReportDocument, ReportPassage, ReportTheme};
use motif::store::Store;
use motif::themes::{self, Options as ThemeOptions};

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
    let overlaps = crate::cmd_overlaps::compute_from_argv(&argv)
        .with_context(|| format!("reading the index {index} (index documents with `motif report PATH...` or `motif index PATH...`)"))?;

    let store = Store::open_read(&args.index)?;
    let table = store.vectors()?;
    if table.passages.len() != overlaps.passages.len() {
        bail!("{index}: the index changed while the report was being made; run it again");
    }
    let texts: Vec<&str> = overlaps.passages.iter().map(|p| p.text.as_str()).collect();
    let docs: Vec<usize> = overlaps.passages.iter().map(|p| p.doc).collect();
    let vectors = Vectors::new(&table.data, table.dim)?;
    let options = ThemeOptions {
        cluster: ClusterParams { seed: args.seed, min_size: args.min_size, ..ClusterParams::default() },
        ..ThemeOptions::default()
    };
    let found = themes::build(vectors, &texts, &docs, &options)?;

    let rows: Vec<Vec<f32>> = table.data.chunks_exact(table.dim).map(<[f32]>::to_vec).collect();
    let xy = report::project_2d(&rows);
    let passages: Vec<ReportPassage> = overlaps
        .passages
        .iter()
        .enumerate()
        .map(|(i, p)| ReportPassage {
            doc: p.doc,
            passage: p.ordinal,
            start: p.start,
            end: p.end,
            text: p.text.clone(),
            theme: found.assignment[i].map(|t| found.themes[t].id),
            x: xy[i].0,
            y: xy[i].1,
        })
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
            central: t.central.iter().map(|c| c.passage).collect(),
            documents: t.documents.clone(),
            echo_groups: groups_of_theme.get(&t.id).cloned().unwrap_or_default(),
        })
        .collect();
    let documents: Vec<ReportDocument> = overlaps
        .documents
        .iter()
        .enumerate()
        .map(|(d, id)| ReportDocument { id: id.clone(), passages: docs.iter().filter(|&&x| x == d).count() })
        .collect();
    let title = args.title.clone().unwrap_or_else(|| format!("Themes and overlaps in {} documents ({index})", documents.len()));
    let report = Report {
        title,
        model: store.manifest().model.clone(),
        motif_version: env!("CARGO_PKG_VERSION").to_string(),
        documents,
        passages,
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
        "{} documents, {} passages: {} themes, {} outliers, {} echo groups",
        report.documents.len(),
        report.passages.len(),
        report.themes.len(),
        report.outliers.len(),
        report.echo_groups.len()
    );
    Ok(())
}
