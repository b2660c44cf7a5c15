//! The batch report: one `Report` value (documents, passages, the units
//! themes group (sentences by default) with a 2-D map position, themes,
//! echo groups of overlapping passages) and its three renderings: JSON for
//! scripts, Markdown for terminals and git viewers, and one self-contained
//! HTML page (no network, no server) with the map of units, the documents ×
//! themes grid, the themes and the echo groups.
//!
//! The report knows nothing of how themes or overlaps are found; the CLI
//! fills it from `themes` and `overlaps`. Submodules: `map` (the 2-D
//! layout of the units for the page's map) and `overlaps` (the
//! `motif overlaps` writers: Markdown, JSON, CSV). The page is
//! `template.html`, filled by `fill`; the Markdown escape `md_escape` is
//! shared by both reports.
//!
//! Document texts, file names, titles and paths are hostile input here: no
//! rendering may run them or let them change the page's structure. The page
//! escapes every value for where it goes (`fill`: HTML text, or JSON inside
//! the data script with `<`, `>`, `&`, U+2028 and U+2029 escaped); the
//! Markdown escapes every value with `md_escape` (no raw HTML, fence, table
//! cell end or line break); `escape_controls` is the form of a name or text
//! the CLI prints, with control characters shown, not sent to the terminal.

pub mod map;
pub mod overlaps;

use std::fmt::Write as _;

use serde::Serialize;

use crate::spread::{Calendar, Counts, Travel};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    pub model: String,
    pub motif_version: String,
    /// What the themes group: "sentence" or "passage".
    pub unit: String,
    pub documents: Vec<ReportDocument>,
    pub passages: Vec<ReportPassage>,
    /// The units the themes group, in passage order.
    pub units: Vec<ReportUnit>,
    pub themes: Vec<ReportTheme>,
    /// Units in no theme (indices into `units`).
    pub outliers: Vec<usize>,
    pub echo_groups: Vec<EchoGroup>,
    /// Overlapping pairs whose passages fall in two different echo groups.
    pub between_groups: Vec<EchoPair>,
    /// Claims about the same names that give different figures, strongest
    /// pair first (empty unless overlaps were matched claim by claim).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<ReportConflict>,
    /// The blended score (cosine and shared words) from which two passages
    /// were taken to say the same thing.
    pub overlap_threshold: f32,
    /// The periods the documents' dates cover (absent when none is dated):
    /// themes' `over_time` counts follow them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub periods: Option<Calendar>,
    /// The documents' sources, most documents first: themes' `by_source`
    /// counts follow them (empty when no document names one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// The broader themes above `themes` (level 1 first): each merges the
    /// themes listed in its `children`; empty when there are few themes.
    pub broader_themes: Vec<ReportTheme>,
    /// The previous run's themes without a successor (with an index).
    pub vanished_themes: Vec<ReportVanished>,
}

/// A theme of the previous run that has no successor.
#[derive(Debug, Clone, Serialize)]
pub struct ReportVanished {
    pub id: usize,
    pub level: usize,
    pub label: String,
    pub size: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReportDocument {
    pub id: String,
    pub passages: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportPassage {
    /// Index into `documents`.
    pub doc: usize,
    /// Position within its document.
    pub passage: usize,
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// The theme most of its units fall in (ties: the lower id).
    pub theme: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(serde::Deserialize))]
pub struct ReportUnit {
    /// Index into `passages`.
    pub passage: usize,
    /// Byte offsets into the document.
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub theme: Option<usize>,
    /// Position on the map, each in [-1, 1] (`map::layout`: a UMAP-style
    /// layout of the k-NN graph, PCA where there is none).
    pub x: f32,
    pub y: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportTheme {
    pub id: usize,
    pub label: String,
    pub keywords: Vec<String>,
    /// Units in the theme.
    pub size: usize,
    /// Most central units first (indices into `units`).
    pub central: Vec<usize>,
    /// (document index, units of this theme in it).
    pub documents: Vec<(usize, usize)>,
    /// Indices into `echo_groups` of the groups whose passages lie mostly in this theme.
    pub echo_groups: Vec<usize>,
    /// Its units per period (`Report::periods`) and per source (`Report::sources`).
    #[serde(flatten)]
    pub spread: Counts,
    /// 0 for the themes found (the finest), 1.. for broader ones.
    pub level: usize,
    /// The id of the broader theme this one is part of (none at the top).
    pub parent: Option<usize>,
    /// The ids of the themes one level down that make this one.
    pub children: Vec<usize>,
    /// How it relates to the index's previous run: "new", "persisting",
    /// "merged" or "split" (none when no run was read).
    pub status: Option<String>,
    /// The previous run's themes a merged or split theme came from.
    pub from: Vec<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EchoGroup {
    /// Passages in the group (indices into `passages`).
    pub passages: Vec<usize>,
    pub pairs: Vec<EchoPair>,
    /// The strongest sentence of the group's strongest pair: the claim.
    pub claim: String,
    /// Its documents by date: the earliest, the sources in the order the
    /// claim reached them, the days it took (documents are indices into
    /// `documents`).
    #[serde(flatten)]
    pub travel: Travel,
}

/// Two claims that give different figures for the same thing: passages
/// (indices into `passages`), claim spans (byte offsets in the documents)
/// and the figures as written.
#[derive(Debug, Clone, Serialize)]
pub struct ReportConflict {
    pub a: usize,
    pub b: usize,
    pub claim_a: (usize, usize),
    pub claim_b: (usize, usize),
    pub figures_a: Vec<String>,
    pub figures_b: Vec<String>,
}

/// The claims that match inside a pair's sentences (byte offsets in the documents).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClaimSpans {
    pub a: (usize, usize),
    pub b: (usize, usize),
}

#[derive(Debug, Clone, Serialize)]
pub struct EchoPair {
    pub a: usize,
    pub b: usize,
    pub score: f32,
    pub kind: String,
    /// Its matching claims, one per matched sentence pair.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimSpans>,
    /// "a" or "b": the side whose document is dated earlier (absent when a
    /// date is missing or both are the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier: Option<&'static str>,
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serialises")
    }

    fn passage_ref(&self, p: usize) -> String {
        let passage = &self.passages[p];
        format!(
            "{}#{} [{}..{}]",
            md_escape(&self.documents[passage.doc].id),
            passage.passage,
            passage.start,
            passage.end
        )
    }

    fn unit_ref(&self, u: usize) -> String {
        let unit = &self.units[u];
        let passage = &self.passages[unit.passage];
        format!("{}#{} [{}..{}]", md_escape(&self.documents[passage.doc].id), passage.passage, unit.start, unit.end)
    }

    /// "sentences" or "passages".
    fn units_word(&self) -> String {
        format!("{}s", self.unit)
    }

    /// The theme most of each passage's units fall in (ties: the lower id).
    pub fn passage_themes(passages: usize, units: &[ReportUnit]) -> Vec<Option<usize>> {
        let mut counts: Vec<std::collections::BTreeMap<usize, usize>> = vec![Default::default(); passages];
        for u in units {
            if let Some(t) = u.theme {
                *counts[u.passage].entry(t).or_default() += 1;
            }
        }
        counts.iter().map(|c| c.iter().max_by_key(|(t, n)| (**n, std::cmp::Reverse(**t))).map(|(t, _)| *t)).collect()
    }

    fn theme_by_id(&self, id: usize) -> Option<&ReportTheme> {
        self.themes.iter().chain(&self.broader_themes).find(|t| t.id == id)
    }

    /// One theme under a heading of `depth` #s, and the themes inside it
    /// one level deeper.
    fn theme_markdown(&self, md: &mut String, t: &ReportTheme, depth: usize) {
        let docs = t.documents.len();
        let status = match (&t.status, t.from.is_empty()) {
            (Some(s), true) => format!(" [{s}]"),
            (Some(s), false) => {
                format!(" [{s} from {}]", t.from.iter().map(|f| format!("T{f}")).collect::<Vec<_>>().join(", "))
            }
            (None, _) => String::new(),
        };
        let inside = if t.children.is_empty() {
            String::new()
        } else {
            format!("; themes {}", t.children.iter().map(|c| format!("T{c}")).collect::<Vec<_>>().join(", "))
        };
        let _ = writeln!(
            md,
            "{} T{}: {} ({} {}, {docs} document{}{inside}){status}\n",
            "#".repeat(depth.min(6)),
            t.id,
            md_escape(&flatten(&t.label)),
            t.size,
            self.units_word(),
            if docs == 1 { "" } else { "s" }
        );
        let keywords: Vec<String> = t.keywords.iter().map(|k| md_escape(&flatten(k))).collect();
        let _ = writeln!(md, "Keywords: {}\n", keywords.join(", "));
        if t.level > 0 {
            for c in t.children.iter().filter_map(|&c| self.theme_by_id(c)) {
                self.theme_markdown(md, c, depth + 1);
            }
            return;
        }
        for &u in &t.central {
            let _ = writeln!(md, "> {}\n> — {}\n", md_escape(&snippet(&self.units[u].text, 300)), self.unit_ref(u));
        }
        if !t.echo_groups.is_empty() {
            let _ = writeln!(
                md,
                "Overlapping claims: {}\n",
                t.echo_groups.iter().map(|g| format!("E{g}")).collect::<Vec<_>>().join(", ")
            );
        }
    }

    /// The Markdown report. Every text that comes from the documents, their
    /// names, the title or the model goes through `md_escape` (texts and the
    /// title flattened to one line first), so none of it can open HTML, a
    /// code fence, a heading or a table cell, or reach a terminal as an
    /// escape sequence.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# {}\n", md_escape(&flatten(&self.title)));
        let _ = writeln!(
            md,
            "{} documents, {} passages, {} themes over {} {} ({} outliers), {} echo groups. Model {}; motif {}.\n",
            self.documents.len(),
            self.passages.len(),
            self.themes.len(),
            self.units.len(),
            self.units_word(),
            self.outliers.len(),
            self.echo_groups.len(),
            md_escape(&self.model),
            self.motif_version
        );
        if self.documents.len() <= MANY_DOCUMENTS {
            self.documents_grid(&mut md);
        } else {
            let _ = writeln!(
                md,
                "{} documents: too many for one row each; see themes × sources and each theme's documents.\n",
                self.documents.len()
            );
        }
        self.sources_grid(&mut md);
        self.over_time(&mut md);
        let _ = writeln!(md, "## Themes\n");
        if self.broader_themes.is_empty() {
            for t in &self.themes {
                self.theme_markdown(&mut md, t, 3);
            }
        } else {
            let top = self.broader_themes.iter().map(|t| t.level).max().unwrap_or(0);
            let _ = writeln!(
                md,
                "{} broad themes, with the {} themes found inside them.\n",
                self.broader_themes.iter().filter(|t| t.level == top).count(),
                self.themes.len()
            );
            for t in self.broader_themes.iter().filter(|t| t.level == top) {
                self.theme_markdown(&mut md, t, 3);
            }
        }
        if !self.vanished_themes.is_empty() {
            let _ = writeln!(md, "Themes of the previous run with no successor:\n");
            for v in &self.vanished_themes {
                let _ = writeln!(
                    md,
                    "- T{} (level {}): {} ({} {})",
                    v.id,
                    v.level,
                    md_escape(&flatten(&v.label)),
                    v.size,
                    self.units_word()
                );
            }
            md.push('\n');
        }
        if !self.conflicts.is_empty() {
            let _ = writeln!(md, "## Conflicting figures\n");
            let _ = writeln!(md, "Claims about the same names that give different figures:\n");
            for c in &self.conflicts {
                let (pa, pb) = (&self.passages[c.a], &self.passages[c.b]);
                let claim = |p: &ReportPassage, span: (usize, usize)| {
                    p.text.get(span.0 - p.start..span.1 - p.start).map(flatten).unwrap_or_default()
                };
                let _ = writeln!(
                    md,
                    "- **{}** vs **{}**: {} “{}” — {} “{}”",
                    md_escape(&c.figures_a.join(", ")),
                    md_escape(&c.figures_b.join(", ")),
                    self.passage_ref(c.a),
                    md_escape(&claim(pa, c.claim_a)),
                    self.passage_ref(c.b),
                    md_escape(&claim(pb, c.claim_b))
                );
            }
            md.push('\n');
        }
        let _ = writeln!(md, "## Echo groups\n");
        if self.echo_groups.is_empty() {
            let _ = writeln!(
                md,
                "No passages of different documents overlap above the threshold {:.3}.\n",
                self.overlap_threshold
            );
        }
        for (g, group) in self.echo_groups.iter().enumerate() {
            let docs: std::collections::BTreeSet<usize> =
                group.passages.iter().map(|&p| self.passages[p].doc).collect();
            let _ = writeln!(md, "### E{g}: {} passages in {} documents\n", group.passages.len(), docs.len());
            let _ = writeln!(md, "Claim: *{}*\n", md_escape(&flatten(&group.claim)));
            self.travel_line(&mut md, &group.travel);
            for &p in &group.passages {
                let _ = writeln!(md, "- {}: {}", self.passage_ref(p), md_escape(&snippet(&self.passages[p].text, 200)));
            }
            md.push('\n');
        }
        if !self.between_groups.is_empty() {
            let _ = writeln!(md, "Pairs between two groups:\n");
            for x in &self.between_groups {
                let _ = writeln!(md, "- {} {} {:.3}", self.pair_ref(x), x.kind, x.score);
            }
            md.push('\n');
        }
        md
    }

    /// One row per document, one column per theme.
    fn documents_grid(&self, md: &mut String) {
        let _ = writeln!(md, "## Documents × themes\n");
        let _ = writeln!(md, "{} of each theme in each document.\n", capitalised(&self.units_word()));
        let _ = write!(md, "| document |");
        for t in &self.themes {
            let _ = write!(md, " T{} |", t.id);
        }
        let _ = write!(md, "\n|---|");
        for _ in &self.themes {
            let _ = write!(md, "---:|");
        }
        md.push('\n');
        for (d, doc) in self.documents.iter().enumerate() {
            let _ = write!(md, "| {} |", md_escape(&doc.id));
            for t in &self.themes {
                let count = t.documents.iter().find(|(i, _)| *i == d).map(|(_, c)| *c).unwrap_or(0);
                let _ = write!(md, " {} |", dot_or(count));
            }
            md.push('\n');
        }
        md.push('\n');
    }

    /// One row per theme, one column per source (when documents name theirs).
    fn sources_grid(&self, md: &mut String) {
        let no_source = self.themes.iter().any(|t| t.spread.no_source > 0);
        // One source for everything (a folder of files) tells nothing.
        if self.sources.len() + usize::from(no_source) < 2 {
            return;
        }
        let _ = writeln!(md, "## Themes × sources\n");
        let _ = writeln!(md, "{} of each theme from each source.\n", capitalised(&self.units_word()));
        let _ = write!(md, "| theme |");
        for s in &self.sources {
            let _ = write!(md, " {} |", md_escape(&flatten(s)));
        }
        if no_source {
            let _ = write!(md, " no source |");
        }
        let _ = write!(md, "\n|---|{}", "---:|".repeat(self.sources.len() + usize::from(no_source)));
        md.push('\n');
        for t in &self.themes {
            let _ = write!(md, "| T{}: {} |", t.id, md_escape(&flatten(&t.label)));
            for &n in &t.spread.by_source {
                let _ = write!(md, " {} |", dot_or(n));
            }
            if no_source {
                let _ = write!(md, " {} |", dot_or(t.spread.no_source));
            }
            md.push('\n');
        }
        md.push('\n');
    }

    /// One row per period, one column per theme (when documents are dated).
    fn over_time(&self, md: &mut String) {
        let Some(cal) = &self.periods else { return };
        let _ = writeln!(md, "## Themes over time\n");
        let _ = writeln!(md, "{} of each theme per {}.\n", capitalised(&self.units_word()), cal.period.name());
        let _ = write!(md, "| {} |", cal.period.name());
        for t in &self.themes {
            let _ = write!(md, " T{} |", t.id);
        }
        let _ = write!(md, "\n|---|{}", "---:|".repeat(self.themes.len()));
        md.push('\n');
        for (i, label) in cal.labels.iter().enumerate() {
            let _ = write!(md, "| {label} |");
            for t in &self.themes {
                let _ = write!(md, " {} |", dot_or(t.spread.over_time.get(i).copied().unwrap_or(0)));
            }
            md.push('\n');
        }
        if self.themes.iter().any(|t| t.spread.undated > 0) {
            let _ = write!(md, "| undated |");
            for t in &self.themes {
                let _ = write!(md, " {} |", dot_or(t.spread.undated));
            }
            md.push('\n');
        }
        md.push('\n');
    }

    /// Where an echo group's claim appeared first and where it went.
    fn travel_line(&self, md: &mut String, t: &Travel) {
        let Some(first) = t.earliest else {
            if self.periods.is_some() {
                let _ = writeln!(md, "None of these documents is dated: where it appeared first is unknown.\n");
            }
            return;
        };
        let doc = &self.documents[first];
        let mut line = format!("First seen: {} ({})", md_escape(&doc.id), md_escape(&doc_line(doc)));
        if !t.sources.is_empty() {
            let reached: Vec<String> = t.sources.iter().map(|s| md_escape(&flatten(s))).collect();
            let _ = write!(line, "; reached {}", reached.join(" → "));
        }
        if let Some(days) = t.days.filter(|d| *d > 0) {
            let _ = write!(line, " over {days} day{}", if days == 1 { "" } else { "s" });
        }
        if t.undated > 0 {
            let _ = write!(line, "; {} undated", t.undated);
        }
        let _ = writeln!(md, "{line}.\n");
    }

    fn pair_ref(&self, x: &EchoPair) -> String {
        match x.earlier {
            Some("a") => format!("{} → {}", self.passage_ref(x.a), self.passage_ref(x.b)),
            Some(_) => format!("{} → {}", self.passage_ref(x.b), self.passage_ref(x.a)),
            None => format!("{} ↔ {}", self.passage_ref(x.a), self.passage_ref(x.b)),
        }
    }

    /// The page: `template.html` with the title as HTML text and the report
    /// as JSON inside its data script, filled in one pass (see `fill`).
    pub fn to_html(&self) -> String {
        let data = serde_json::to_string(&self.page()).expect("a report serialises");
        fill(HTML_TEMPLATE, &[("TITLE", Value::Text(&self.title)), ("DATA", Value::ScriptJson(&data))])
            .expect("the page's placeholders are TITLE and DATA")
    }
}

/// Most units the page carries for its map (report.json keeps them all):
/// enough to show every theme's shape, few enough that the page of a large
/// corpus stays a few megabytes and draws in seconds.
pub const PAGE_UNITS: usize = 10_000;

/// Most echo groups the page shows (the first, as the report orders them;
/// report.json keeps them all).
pub const PAGE_GROUPS: usize = 300;

/// Longest unit text the page carries (its tooltip shows 400 characters).
const PAGE_TEXT_CHARS: usize = 400;

impl Report {
    /// The report as the page carries it, so that the page's size depends
    /// on `PAGE_UNITS` and `PAGE_GROUPS`, not on the corpus: every theme's
    /// central units plus an even sample of the rest up to `PAGE_UNITS`
    /// (the same every run), their texts cut to the tooltip's length and map
    /// positions to three decimals; the first `PAGE_GROUPS` echo groups; a
    /// passage is `null` unless a unit or pair carried points at it, and
    /// keeps its text only where an echo group shows it. Indices into
    /// `units` are renumbered; passages and groups keep theirs. `all_units`,
    /// `all_outliers` and `all_echo_groups` count the whole report.
    fn page(&self) -> serde_json::Value {
        let n = self.units.len();
        // Evenly spread: exactly min(n, PAGE_UNITS) of them.
        let mut keep: Vec<bool> = (0..n).map(|i| n <= PAGE_UNITS || (i * PAGE_UNITS) % n < PAGE_UNITS).collect();
        for t in self.themes.iter().chain(&self.broader_themes) {
            for &u in &t.central {
                keep[u] = true;
            }
        }
        let mut new_id = vec![usize::MAX; n];
        let mut units = Vec::new();
        for (i, u) in self.units.iter().enumerate().filter(|(i, _)| keep[*i]) {
            new_id[i] = units.len();
            let round = |v: f32| (v * 1000.0).round() / 1000.0;
            units.push(ReportUnit { text: cut(&u.text, PAGE_TEXT_CHARS), x: round(u.x), y: round(u.y), ..u.clone() });
        }
        let echo_groups: Vec<EchoGroup> = self.echo_groups.iter().take(PAGE_GROUPS).cloned().collect();
        let renumber = |t: &ReportTheme| ReportTheme {
            central: t.central.iter().map(|&u| new_id[u]).collect(),
            echo_groups: t.echo_groups.iter().copied().filter(|&g| g < PAGE_GROUPS).collect(),
            ..t.clone()
        };
        // What each passage is needed for: nothing, a reference, its text.
        let mut need = vec![0u8; self.passages.len()];
        for u in &units {
            need[u.passage] = 1;
        }
        for x in self.between_groups.iter().chain(echo_groups.iter().flat_map(|g| &g.pairs)) {
            need[x.a] = need[x.a].max(1);
            need[x.b] = need[x.b].max(1);
        }
        for g in &echo_groups {
            for &p in &g.passages {
                need[p] = 2;
            }
        }
        let conflicts: Vec<ReportConflict> = self.conflicts.iter().take(PAGE_GROUPS).cloned().collect();
        for c in &conflicts {
            need[c.a] = 2;
            need[c.b] = 2;
        }
        let passages: Vec<Option<ReportPassage>> = self
            .passages
            .iter()
            .zip(&need)
            .map(|(p, &need)| match need {
                0 => None,
                1 => Some(ReportPassage { text: String::new(), ..p.clone() }),
                _ => Some(p.clone()),
            })
            .collect();
        let cut_report = Report {
            passages: Vec::new(),
            units,
            themes: self.themes.iter().map(renumber).collect(),
            broader_themes: self.broader_themes.iter().map(renumber).collect(),
            outliers: self.outliers.iter().filter(|&&u| keep[u]).map(|&u| new_id[u]).collect(),
            echo_groups,
            conflicts,
            ..self.clone()
        };
        let mut page = json_value(&cut_report);
        page["all_conflicts"] = self.conflicts.len().into();
        page["passages"] = json_value(&passages);
        page["all_passages"] = self.passages.len().into();
        page["all_units"] = n.into();
        page["all_outliers"] = self.outliers.len().into();
        page["all_echo_groups"] = self.echo_groups.len().into();
        page
    }
}

/// `v` as a JSON value, through its text, so that f32 values read back as
/// report.json writes them (0.594, not the f64 widening 0.593999981880188).
fn json_value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::from_str(&serde_json::to_string(v).expect("a report serialises")).expect("its own JSON parses")
}

/// `text` cut to at most `max` characters, with "…" when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((end, _)) if text[end..].chars().nth(1).is_some() => format!("{}…", &text[..end]),
        _ => text.to_string(),
    }
}

/// Past this many documents the reports group them instead of giving each a row.
pub const MANY_DOCUMENTS: usize = 200;

/// A count, or `·` for none.
fn dot_or(n: usize) -> String {
    if n > 0 {
        n.to_string()
    } else {
        "·".into()
    }
}

/// A document's date and source, as "2024-03-01 · Herald".
fn doc_line(d: &ReportDocument) -> String {
    [d.date.as_deref(), d.source.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" · ")
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Whitespace runs (line breaks of wrapped text included) as single spaces.
fn flatten(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text flattened, cut to `max` characters with an ellipsis.
fn snippet(text: &str, max: usize) -> String {
    let flat = flatten(text);
    if flat.chars().count() <= max {
        return flat;
    }
    format!("{}…", flat.chars().take(max - 1).collect::<String>())
}

/// Whether a character is one a terminal or a viewer acts on rather than
/// shows: C0 and C1 controls and DEL (escape sequences, bells, carriage
/// returns, backspaces, line breaks), the bidirectional embeddings,
/// overrides and isolates (which reorder what follows them on the line), and
/// the Unicode line and paragraph separators.
fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Appends `c` as the visible text of its escape: `\n`, `\t`, `\r`, else `\u{1b}`.
fn push_control(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        _ => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Text for a terminal: every control character (line breaks included),
/// bidirectional control and line separator written as its visible escape
/// (`\u{1b}[2J`, `\n`), so a file name or a document's text printed by
/// the CLI can neither send an escape sequence nor fake a line. Everything
/// else is kept as it is.
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_hidden_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden_control(c) {
            push_control(&mut out, c);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether `rest` (the text after a `&`) would make it a character
/// reference: `&name;`, `&#123;` or `&#x1F;`.
fn starts_reference(rest: &[char]) -> bool {
    let end = rest.iter().take(34).position(|&c| c == ';');
    let Some(end) = end.filter(|&e| e > 0) else { return false };
    let body = &rest[..end];
    match body {
        ['#', 'x' | 'X', hex @ ..] => !hex.is_empty() && hex.len() <= 6 && hex.iter().all(char::is_ascii_hexdigit),
        ['#', dec @ ..] => !dec.is_empty() && dec.len() <= 7 && dec.iter().all(char::is_ascii_digit),
        [first, ..] => first.is_ascii_alphabetic() && body.iter().all(char::is_ascii_alphanumeric),
        [] => false,
    }
}

/// Escapes a text for Markdown so that it reads as written, on one line,
/// wherever it is put (a table cell, a list item, a quote, a heading):
/// - the characters Markdown reads as markup (`\ * _ ` [ ] > | # ~`) get a
///   backslash (an underscore between letters or digits never starts
///   emphasis in CommonMark, `file_name_2`, so it stays as written); with
///   backticks and tildes escaped no code fence or code span can open;
/// - `<` is written `&lt;`, so no raw HTML (`<script>`, `<iframe>`, `<!--`)
///   or autolink can start; an `&` that would start a character reference
///   (`&lt;`) is written `&amp;`, so the text is not decoded either;
/// - at the start, a `-` or `+` before a space or the end (a list item),
///   a `-` before another (a rule), a `=` (a setext underline), and the
///   `.` or `)` after up to nine leading digits before a space or the end
///   (an ordered list) get a backslash, so a value put at the start of a
///   line opens no list, rule or heading;
/// - control characters (line breaks and terminal escapes included),
///   bidirectional controls and line separators are written as their
///   visible escapes (`\n`, `\u{1b}`): a line break in a file name cannot
///   end its table row, and `cat report.md` sends no escape sequence.
pub fn md_escape(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    for (i, &c) in chars.iter().enumerate() {
        if is_hidden_control(c) {
            push_control(&mut out, c);
            continue;
        }
        match c {
            '<' => {
                out.push_str("&lt;");
                continue;
            }
            '&' if starts_reference(&chars[i + 1..]) => {
                out.push_str("&amp;");
                continue;
            }
            _ => {}
        }
        // An underscore between letters or digits never starts emphasis in
        // CommonMark (`file_name_2`), so it stays as written.
        let inside_word = c == '_'
            && i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        let markup = matches!(c, '\\' | '*' | '_' | '`' | '[' | ']' | '>' | '|' | '#' | '~') && !inside_word;
        let next = chars.get(i + 1).copied();
        let blank_after = next.is_none_or(char::is_whitespace);
        let line_start = match c {
            '-' => i == 0 && (blank_after || next == Some('-')),
            '+' => i == 0 && blank_after,
            '=' => i == 0,
            '.' | ')' => i == digits && (1..=9).contains(&digits) && blank_after,
            _ => false,
        };
        if markup || line_start {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text for HTML: safe both as element content and inside a quoted attribute.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// JSON for the inside of a `<script>` element: `<`, `>` and `&` written
/// `\u003c`, `\u003e`, `\u0026`, so no text in it can end the script
/// (`</script>`), put the browser's tokenizer into its escaped states
/// (`<!--`, `<script`) or read as markup, and U+2028 and U+2029 written
/// `\u2028`, `\u2029`, as older JavaScript parsers need. These characters
/// only occur inside JSON strings, where the escapes mean the same: the
/// data parses to the same value.
fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

/// The page: data inlined as JSON, drawn by a small script (SVG map,
/// grid, themes, echo groups). When drawing finishes the body gets
/// `data-rendered="ok"`, which the browser test looks for. Its placeholders
/// are `{{TITLE}}` and `{{DATA}}`.
const HTML_TEMPLATE: &str = include_str!("template.html");

/// A template and its values that do not match: a bug in the code, not in the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum TemplateError {
    #[error("the template's placeholder {{{{{0}}}}} has no value")]
    Unknown(String),
    #[error("the value {0} has no placeholder in the template")]
    Unused(String),
}

/// A value for a placeholder, with the context it is put in: the fill
/// escapes it for that context, so no caller can forget to.
#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    /// Plain text for HTML element content or a quoted attribute (`escape_html`).
    Text(&'a str),
    /// Serialised JSON for the inside of a `<script>` element (`script_json`).
    ScriptJson(&'a str),
}

impl Value<'_> {
    fn escaped(&self) -> String {
        match self {
            Value::Text(s) => escape_html(s),
            Value::ScriptJson(s) => script_json(s),
        }
    }
}

/// Fills the template's `{{NAME}}` placeholders (NAME: ASCII capitals,
/// digits and `_`) from `values`, each escaped for its context, in one pass
/// over the template: each occurrence is replaced once and inserted text is
/// never scanned again, so a value that reads `{{DATA}}` stays as it is.
/// Other braces are copied. Every placeholder needs a value and every value
/// a placeholder.
fn fill(template: &str, values: &[(&str, Value)]) -> Result<String, TemplateError> {
    let escaped: Vec<String> = values.iter().map(|(_, v)| v.escaped()).collect();
    let mut out = String::with_capacity(template.len() + escaped.iter().map(String::len).sum::<usize>());
    let mut used = vec![false; values.len()];
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let len =
            after.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')).unwrap_or(after.len());
        if len == 0 || !after[len..].starts_with("}}") {
            // Not a placeholder: keep one brace and look again from the next.
            out.push('{');
            rest = &rest[open + 1..];
            continue;
        }
        let name = &after[..len];
        let i = values.iter().position(|(n, _)| *n == name).ok_or_else(|| TemplateError::Unknown(name.to_string()))?;
        used[i] = true;
        out.push_str(&escaped[i]);
        rest = &after[len + 2..];
    }
    out.push_str(rest);
    match used.iter().position(|u| !u) {
        Some(i) => Err(TemplateError::Unused(values[i].0.to_string())),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(doc: usize, ordinal: usize, end: usize, text: String, theme: Option<usize>) -> ReportPassage {
        ReportPassage { doc, passage: ordinal, start: 0, end, text, theme }
    }

    fn sample() -> Report {
        let passages = (0..4)
            .map(|i| passage(i % 2, i / 2, 5, format!("text </script> {i}"), if i < 3 { Some(0) } else { None }))
            .collect();
        let units = (0..4)
            .map(|i| ReportUnit {
                passage: i,
                start: 0,
                end: 5,
                text: format!("text </script> {i}"),
                theme: if i < 3 { Some(0) } else { None },
                x: 0.0,
                y: 0.0,
            })
            .collect();
        Report {
            title: "t".into(),
            model: "m".into(),
            motif_version: "0".into(),
            unit: "sentence".into(),
            documents: vec![
                ReportDocument { id: "a.txt".into(), passages: 2, ..Default::default() },
                ReportDocument { id: "b|c.txt".into(), passages: 2, ..Default::default() },
            ],
            passages,
            units,
            themes: vec![ReportTheme {
                id: 0,
                label: "troops deployment".into(),
                keywords: vec!["troops".into()],
                size: 3,
                central: vec![0],
                documents: vec![(0, 2), (1, 1)],
                echo_groups: vec![0],
                spread: Default::default(),
                level: 0,
                parent: None,
                children: Vec::new(),
                status: None,
                from: Vec::new(),
            }],
            outliers: vec![3],
            echo_groups: vec![EchoGroup {
                passages: vec![0, 1],
                pairs: vec![EchoPair {
                    a: 0,
                    b: 1,
                    score: 0.9,
                    kind: "paraphrase".into(),
                    claims: vec![],
                    earlier: None,
                }],
                claim: "text".into(),
                travel: Default::default(),
            }],
            between_groups: vec![EchoPair {
                a: 1,
                b: 2,
                score: 0.65,
                kind: "paraphrase".into(),
                claims: vec![],
                earlier: None,
            }],
            conflicts: Vec::new(),
            overlap_threshold: 0.7,
            periods: None,
            sources: Vec::new(),
            broader_themes: Vec::new(),
            vanished_themes: Vec::new(),
        }
    }

    /// A report of BBC News's size: 2,225 documents, 13,285 passages of
    /// ~380 bytes, 44,840 sentences of ~120, 28 themes over ~500 documents
    /// each, 300 echo groups of two passages.
    fn bbc_sized() -> Report {
        let mut r = sample();
        let sentence = "The minister said on Tuesday that the plan would cost £1.2bn over four years, and critics said";
        r.documents = (0..2_225)
            .map(|d| ReportDocument { id: format!("business/{d:03}.txt"), passages: 6, ..Default::default() })
            .collect();
        r.passages = (0..13_285)
            .map(|i| {
                passage(
                    i % 2_225,
                    i / 2_225,
                    380,
                    format!("{i} {sentence} {sentence} {sentence} {sentence}"),
                    Some(i % 28),
                )
            })
            .collect();
        r.units = (0..44_840)
            .map(|i| ReportUnit {
                passage: i % 13_285,
                start: 0,
                end: 120,
                text: format!("{i} {sentence}"),
                theme: Some(i % 28),
                x: 0.123_456_7,
                y: -0.765_432_1,
            })
            .collect();
        let theme = r.themes[0].clone();
        r.themes = (0..28)
            .map(|t| ReportTheme {
                id: t,
                central: (0..5).map(|c| t + 28 * c * 301).collect(),
                documents: (0..500).map(|d| ((d * 4 + t) % 2_225, 3)).collect(),
                ..theme.clone()
            })
            .collect();
        r.outliers = (0..44_840).step_by(37).collect();
        let group = r.echo_groups[0].clone();
        r.echo_groups = (0..300).map(|g| EchoGroup { passages: vec![2 * g, 2 * g + 1], ..group.clone() }).collect();
        r
    }

    #[test]
    fn the_page_carries_an_even_sample_with_every_central_unit_and_the_counts_of_all() {
        let mut r = bbc_sized();
        let group = r.echo_groups[0].clone();
        r.echo_groups.extend((0..PAGE_GROUPS).map(|_| EchoGroup { passages: vec![13_000, 13_001], ..group.clone() }));
        r.themes[0].echo_groups = vec![1, PAGE_GROUPS + 5];
        let page = r.page();
        let count = |k: &str| page[k].as_u64().unwrap() as usize;
        assert_eq!((count("all_units"), count("all_outliers")), (44_840, r.outliers.len()));
        assert_eq!((count("all_echo_groups"), count("all_passages")), (300 + PAGE_GROUPS, 13_285));
        let p: Vec<ReportUnit> = serde_json::from_value(page["units"].clone()).unwrap();
        let centrals: usize = r.themes.iter().map(|t| t.central.len()).sum();
        assert!((PAGE_UNITS..=PAGE_UNITS + centrals).contains(&p.len()), "{}", p.len());
        // Evenly spread: every stretch of the corpus is sampled.
        let first_of = |u: &ReportUnit| u.text.split(' ').next().unwrap().parse::<usize>().unwrap();
        let ids: Vec<usize> = p.iter().map(first_of).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1] && w[1] - w[0] <= 5), "in order, no gap wider than n / PAGE_UNITS");
        // Central units are carried and renumbered to the same unit.
        let themes = page["themes"].as_array().unwrap();
        for (t, pt) in r.themes.iter().zip(themes) {
            for (&old, new) in t.central.iter().zip(pt["central"].as_array().unwrap()) {
                assert_eq!(p[new.as_u64().unwrap() as usize].text, r.units[old].text);
            }
        }
        let outliers = page["outliers"].as_array().unwrap();
        assert!(outliers.iter().all(|u| r.outliers.contains(&ids[u.as_u64().unwrap() as usize])));
        // The first PAGE_GROUPS groups; a theme names only those.
        assert_eq!(page["echo_groups"].as_array().unwrap().len(), PAGE_GROUPS);
        assert_eq!(themes[0]["echo_groups"], serde_json::json!([1]));
        // Passages keep their places: those of the groups shown with their
        // text, those a carried unit is in without, the rest null.
        let passages = page["passages"].as_array().unwrap();
        assert_eq!(passages.len(), r.passages.len());
        assert!(passages[..600].iter().all(|x| !x["text"].as_str().unwrap().is_empty()));
        for u in &p {
            assert!(passages[u.passage].is_object(), "a carried unit's passage is there");
        }
        assert!(passages[13_000].is_null() || passages[13_000]["text"] == "", "a group not shown keeps no text");
        assert!(passages.iter().filter(|x| x.is_null()).count() > 1_000);
        assert_eq!(p[0].x, 0.123);
        // A small report is carried whole.
        let small = sample();
        assert_eq!(small.page()["units"].as_array().unwrap().len(), small.units.len());
    }

    #[test]
    fn a_bbc_sized_page_stays_under_five_megabytes() {
        let r = bbc_sized();
        let whole = serde_json::to_string(&r).unwrap().len();
        let page = r.to_html().len();
        assert!(whole > 12_000_000, "the whole report is {whole} bytes: the test must be of a large one");
        assert!(page < 5_000_000, "report.html is {page} bytes");
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "ab…");
        assert_eq!(cut("ééééé", 4), "ééé…");
        assert_eq!(cut("", 4), "");
    }

    #[test]
    fn markdown_shows_broad_themes_with_the_finer_inside() {
        let mut r = sample();
        let mut second = r.themes[0].clone();
        second.id = 1;
        second.label = "missile tests".into();
        second.status = Some("split".into());
        second.from = vec![4];
        r.themes.push(second);
        for t in r.themes.iter_mut() {
            t.parent = Some(2);
        }
        let mut broad = r.themes[0].clone();
        (broad.id, broad.level, broad.parent, broad.children) = (2, 1, None, vec![0, 1]);
        broad.label = "military".into();
        broad.status = Some("persisting".into());
        r.broader_themes.push(broad);
        r.vanished_themes.push(ReportVanished { id: 3, level: 0, label: "old theme".into(), size: 4 });
        let md = r.to_markdown();
        let top = md.find("### T2: military").expect(&md);
        let a = md.find("#### T0: troops deployment").expect(&md);
        let b = md.find("#### T1: missile tests").expect(&md);
        assert!(top < a && a < b, "{md}");
        assert!(md.contains("themes T0, T1) [persisting]") && md.contains("[split from T4]"), "{md}");
        assert!(md.contains("- T3 (level 0): old theme (4 sentences)"), "{md}");
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["themes"][0]["parent"], 2);
        assert_eq!(v["broader_themes"][0]["children"], serde_json::json!([0, 1]));
    }

    #[test]
    fn html_inlines_data_safely() {
        let html = sample().to_html();
        assert!(!html.contains("text </script>"), "a passage must not close the data script");
        assert!(html.contains("text \\u003c/script\\u003e"));
        assert!(
            !html.contains("http://") || html.matches("http://").all(|_| html.contains("http://www.w3.org/2000/svg"))
        );
    }

    #[test]
    fn markdown_has_grid_themes_and_groups() {
        let md = sample().to_markdown();
        assert!(md.contains("| b\\|c.txt | 1 |"), "{md}");
        assert!(md.contains("### T0: troops deployment (3 sentences, 2 documents)"), "{md}");
        assert!(md.contains("themes over 4 sentences (1 outliers)"), "{md}");
        assert!(md.contains("### E0: 2 passages in 2 documents"));
        assert!(md.contains("Pairs between two groups:"), "{md}");
        assert!(md.contains("paraphrase 0.650"), "{md}");
    }

    #[test]
    fn conflicts_are_listed_first_with_their_claims() {
        let mut r = sample();
        r.passages[0].text = "About 3,000 troops went, officials said.".into();
        r.passages[0].end = r.passages[0].text.len();
        r.passages[3].text = "Some 10,000 troops went.".into();
        r.passages[3].end = r.passages[3].text.len();
        r.conflicts = vec![ReportConflict {
            a: 0,
            b: 3,
            claim_a: (0, 23),
            claim_b: (0, 23),
            figures_a: vec!["3,000".into()],
            figures_b: vec!["10,000".into()],
        }];
        let md = r.to_markdown();
        let at = md.find("## Conflicting figures").expect("a conflicts section");
        assert!(at < md.find("## Echo groups").unwrap(), "{md}");
        assert!(md.contains("**3,000** vs **10,000**"), "{md}");
        assert!(md.contains("“About 3,000 troops went”") && md.contains("“Some 10,000 troops went”"), "{md}");
        // The page carries the conflict and the texts of both passages.
        let page = r.page();
        assert_eq!(page["conflicts"][0]["figures_b"][0], "10,000");
        assert_eq!(page["passages"][3]["text"], "Some 10,000 troops went.");
        assert_eq!(page["all_conflicts"], 1);
    }

    #[test]
    fn a_passage_takes_the_theme_of_most_of_its_units() {
        let unit = |passage: usize, theme: Option<usize>| ReportUnit {
            passage,
            start: 0,
            end: 1,
            text: String::new(),
            theme,
            x: 0.0,
            y: 0.0,
        };
        let units =
            [unit(0, Some(2)), unit(0, Some(1)), unit(0, Some(2)), unit(1, Some(3)), unit(1, Some(1)), unit(2, None)];
        assert_eq!(Report::passage_themes(4, &units), vec![Some(2), Some(1), None, None]);
    }

    /// The page before the data's text, the data (up to the first `</script>` after its tag, as a browser reads it), the rest.
    fn split_at_data(html: &str) -> (&str, &str, &str) {
        let open = "<script type=\"application/json\" id=\"data\">";
        let start = html.find(open).expect("the data script") + open.len();
        let end = start + html[start..].find("</script>").expect("the data script ends");
        (&html[..start], &html[start..end], &html[end..])
    }

    #[test]
    fn title_is_inert_text() {
        for title in ["{{DATA}}", "</title><script>alert(1)</script>", "{{TITLE}} & {{NOPE}}"] {
            let report = Report { title: title.into(), ..sample() };
            let html = report.to_html();
            let escaped = escape_html(title);
            assert_eq!(html.matches(&format!("<title>{escaped}</title>")).count(), 1, "{title}");
            assert!(html.contains(&format!("<h1>{escaped}</h1>")), "{title}");
            // The data is inlined once, and outside it only the template's own tags are there.
            assert_eq!(html.matches("\"motif_version\"").count(), 1, "{title}");
            let (before, data, after) = split_at_data(&html);
            let page = format!("{before}{after}");
            assert_eq!(page.matches("<script").count(), 2, "{title}");
            assert_eq!(page.matches("</title>").count(), 1, "{title}");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(data).expect("the inlined data is JSON")["title"],
                title
            );
        }
    }

    #[test]
    fn data_cannot_close_its_script() {
        let mut report = sample();
        report.passages[0].text = "a </script><script>alert(1)</script> </SCRIPT> b".into();
        report.themes[0].label = "{{TITLE}}".into();
        let html = report.to_html();
        assert_eq!(html.to_ascii_lowercase().matches("</script").count(), 2, "only the template's two scripts end");
        let (_, data, _) = split_at_data(&html);
        let back: serde_json::Value = serde_json::from_str(data).expect("the inlined data is JSON");
        assert_eq!(back["passages"][0]["text"], "a </script><script>alert(1)</script> </SCRIPT> b");
        assert_eq!(back["themes"][0]["label"], "{{TITLE}}", "a value is never filled in again");
    }

    /// After `<!--` and `<script` a browser's tokenizer no longer ends the script at `</script>`
    /// (the "script data double escaped" state), so the data must not contain `<!--`.
    #[test]
    fn data_cannot_hide_the_end_of_its_script() {
        let mut report = sample();
        report.units[0].text = "x <!--<script> y".into();
        let html = report.to_html();
        let (_, data, after) = split_at_data(&html);
        assert!(!data.contains("<!--"), "{data}");
        assert!(after.starts_with("</script>\n<script>"));
        let back: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(back["units"][0]["text"], "x <!--<script> y");
    }

    #[test]
    fn page_has_the_rendered_hook_and_no_placeholder_left() {
        let html = sample().to_html();
        assert!(html.contains("document.body.setAttribute(\"data-rendered\", \"ok\")"));
        assert!(!html.contains("{{"), "every placeholder is filled");
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    }

    #[test]
    fn fill_is_one_pass_and_strict() {
        let values = [("A", Value::Text("{{B}}")), ("B", Value::Text("b"))];
        assert_eq!(fill("{{A}}-{{B}}-{{A}}", &values), Ok("{{B}}-b-{{B}}".to_string()));
        let x = [("B", Value::Text("x"))];
        assert_eq!(fill("{ {{{B}}} {{b}} {{ B}} {{", &x), Ok("{ {x} {{b}} {{ B}} {{".to_string()));
        assert_eq!(fill("{{A}} {{C}}", &values), Err(TemplateError::Unknown("C".into())));
        assert_eq!(fill("{{A}}", &values), Err(TemplateError::Unused("B".into())));
        // Each value is escaped for its context by the fill itself.
        let hostile = [("T", Value::Text("<a href='x' title=\"y\">&")), ("J", Value::ScriptJson("\"</script><!--&\""))];
        assert_eq!(
            fill("<p>{{T}}</p><script>{{J}}</script>", &hostile),
            Ok("<p>&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;</p>\
                <script>\"\\u003c/script\\u003e\\u003c!--\\u0026\"</script>"
                .to_string())
        );
        // The page's own placeholders are exactly the ones `to_html` fills.
        assert!(fill(HTML_TEMPLATE, &[("TITLE", Value::Text("t")), ("DATA", Value::ScriptJson("{}"))]).is_ok());
        assert_eq!(fill(HTML_TEMPLATE, &[("TITLE", Value::Text("t"))]), Err(TemplateError::Unknown("DATA".into())));
    }

    #[test]
    fn markdown_escape_is_shared() {
        assert_eq!(
            md_escape("a|b *c* _d_e_ [f] <g> #h `i` \\"),
            "a\\|b \\*c\\* \\_d_e\\_ \\[f\\] &lt;g\\> \\#h \\`i\\` \\\\"
        );
        assert_eq!(overlaps::md_escape("x_y"), md_escape("x_y"));
        assert_eq!(snippet("a  b\n c", 10), "a b c");
        assert_eq!(snippet("abcdef", 4), "abc…");
    }

    #[test]
    fn markdown_escape_leaves_no_html_fence_or_line_start() {
        // No raw HTML: `<` is an entity; an entity in the text stays as written.
        assert_eq!(md_escape("<script>x</script>"), "&lt;script\\>x&lt;/script\\>");
        assert_eq!(md_escape("<!--<iframe>"), "&lt;!--&lt;iframe\\>");
        assert_eq!(md_escape("&lt; &#60; &#x3C; AT&T & ;"), "&amp;lt; &amp;\\#60; &amp;\\#x3C; AT&T & ;");
        // No fence, tilde or backtick.
        assert_eq!(md_escape("```rust"), "\\`\\`\\`rust");
        assert_eq!(md_escape("~~~"), "\\~\\~\\~");
        // At the start, no list, rule or setext heading; elsewhere no change.
        assert_eq!(md_escape("- a - b"), "\\- a - b");
        assert_eq!(md_escape("---"), "\\---");
        assert_eq!(md_escape("+ a"), "\\+ a");
        assert_eq!(md_escape("-"), "\\-");
        assert_eq!(md_escape("==="), "\\===");
        assert_eq!(md_escape("12. a 3. b"), "12\\. a 3. b");
        assert_eq!(md_escape("1)"), "1\\)");
        // What opens nothing stays as written.
        for plain in ["-5 °C", "+1", "1.5 m", "0.1.0", "1234567890. ten digits", "a - b"] {
            assert_eq!(md_escape(plain), plain);
        }
        // Controls show as their escapes, on one line.
        assert_eq!(
            md_escape("a\nb\tc\r\u{1b}[2J\u{7}\u{202e}\u{2028}"),
            "a\\nb\\tc\\r\\u{1b}\\[2J\\u{7}\\u{202e}\\u{2028}"
        );
    }

    #[test]
    fn controls_are_shown_not_sent() {
        assert!(matches!(escape_controls("plain – text"), std::borrow::Cow::Borrowed("plain – text")));
        assert_eq!(escape_controls("esc\u{1b}[2J\u{7}\u{9b}"), "esc\\u{1b}[2J\\u{7}\\u{9b}");
        assert_eq!(escape_controls("two\nlines\r\t\u{0}"), "two\\nlines\\r\\t\\u{0}");
        assert_eq!(escape_controls("\u{202e}txt.exe\u{2066}"), "\\u{202e}txt.exe\\u{2066}");
    }

    #[test]
    fn script_json_escapes_what_html_reads_and_means_the_same() {
        let text = "</script><!--<script> a & b > c \u{2028}\u{2029} \\< \"q\"";
        let json = serde_json::to_string(&serde_json::json!({ "t": text })).unwrap();
        let inert = script_json(&json);
        for c in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
            assert!(!inert.contains(c), "{c:?} in {inert}");
        }
        let back: serde_json::Value = serde_json::from_str(&inert).unwrap();
        assert_eq!(back["t"], text);
    }

    /// Every document text, name, label and the title reach report.md
    /// escaped, on one line each: no raw HTML, no broken table row.
    #[test]
    fn markdown_escapes_every_value() {
        let mut report = sample();
        report.title = "T <iframe src=x>\n# not a heading".into();
        report.model = "<b>m</b>".into();
        report.documents[0].id = "two\nlines|<img src=x onerror=alert(1)>.txt".into();
        report.themes[0].label = "<script>".into();
        report.themes[0].keywords = vec!["<i>".into()];
        report.units[0].text = "```\n~~~ <script>alert(1)</script>".into();
        report.echo_groups[0].claim = "- <!-- x".into();
        let md = report.to_markdown();
        assert!(!md.contains('<'), "{md}");
        assert!(md.starts_with("# T &lt;iframe src=x\\> \\# not a heading\n"), "{md}");
        assert!(md.contains("| two\\nlines\\|&lt;img src=x onerror=alert(1)\\>.txt | 2 |"), "{md}");
        assert!(md.contains("> \\`\\`\\` \\~\\~\\~ &lt;script\\>"), "{md}");
        assert!(md.contains("— two\\nlines\\|&lt;img"), "{md}");
        assert!(md.contains("Claim: *\\- &lt;!-- x*"), "{md}");
        assert!(md.lines().all(|l| !l.starts_with("two") && !l.starts_with("lines")), "{md}");
    }
}
