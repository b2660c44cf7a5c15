//! The batch report: one `Report` value (documents, passages, the units
//! themes group (sentences by default) with a 2-D map position, themes,
//! echo groups of overlapping passages) and its three renderings: JSON for
//! scripts, Markdown for terminals and git viewers, and one self-contained
//! HTML page (no network, no server) with the map of units, the documents ×
//! themes grid, the themes and the echo groups.
//!
//! The report knows nothing of how themes or overlaps are found; the CLI
//! fills it from `themes` and `overlaps`. Submodules: `map` (the 2-D
//! projection of the units for the page's map) and `overlaps` (the
//! `motif overlaps` writers: Markdown, JSON, CSV).

pub mod map;
pub mod overlaps;

use std::fmt::Write as _;

use serde::Serialize;

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
    /// The blended score (cosine and shared words) from which two passages
    /// were taken to say the same thing.
    pub overlap_threshold: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportDocument {
    pub id: String,
    pub passages: usize,
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
pub struct ReportUnit {
    /// Index into `passages`.
    pub passage: usize,
    /// Byte offsets into the document.
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub theme: Option<usize>,
    /// Position on the map (first two principal components of the vectors).
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
}

#[derive(Debug, Clone, Serialize)]
pub struct EchoGroup {
    /// Passages in the group (indices into `passages`).
    pub passages: Vec<usize>,
    pub pairs: Vec<EchoPair>,
    /// The strongest sentence of the group's strongest pair: the claim.
    pub claim: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EchoPair {
    pub a: usize,
    pub b: usize,
    pub score: f32,
    pub kind: String,
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serialises")
    }

    fn passage_ref(&self, p: usize) -> String {
        let passage = &self.passages[p];
        format!("{}#{} [{}..{}]", self.documents[passage.doc].id, passage.passage, passage.start, passage.end)
    }

    fn unit_ref(&self, u: usize) -> String {
        let unit = &self.units[u];
        let passage = &self.passages[unit.passage];
        format!("{}#{} [{}..{}]", self.documents[passage.doc].id, passage.passage, unit.start, unit.end)
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

    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# {}\n", self.title);
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
            self.model,
            self.motif_version
        );
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
            let _ = write!(md, "| {} |", escape_md(&doc.id));
            for t in &self.themes {
                let count = t.documents.iter().find(|(i, _)| *i == d).map(|(_, c)| *c).unwrap_or(0);
                let _ = write!(md, " {} |", if count > 0 { count.to_string() } else { "·".into() });
            }
            md.push('\n');
        }
        let _ = writeln!(md, "\n## Themes\n");
        for t in &self.themes {
            let docs = t.documents.len();
            let _ = writeln!(md, "### T{}: {} ({} {}, {docs} document{})\n", t.id, t.label, t.size, self.units_word(), if docs == 1 { "" } else { "s" });
            let _ = writeln!(md, "Keywords: {}\n", t.keywords.join(", "));
            for &u in &t.central {
                let _ = writeln!(md, "> {}\n> — {}\n", escape_md(&snippet(&self.units[u].text, 300)), self.unit_ref(u));
            }
            if !t.echo_groups.is_empty() {
                let _ = writeln!(md, "Overlapping claims: {}\n", t.echo_groups.iter().map(|g| format!("E{g}")).collect::<Vec<_>>().join(", "));
            }
        }
        let _ = writeln!(md, "## Echo groups\n");
        if self.echo_groups.is_empty() {
            let _ = writeln!(md, "No passages of different documents overlap above the threshold {:.3}.\n", self.overlap_threshold);
        }
        for (g, group) in self.echo_groups.iter().enumerate() {
            let docs: std::collections::BTreeSet<usize> = group.passages.iter().map(|&p| self.passages[p].doc).collect();
            let _ = writeln!(md, "### E{g}: {} passages in {} documents\n", group.passages.len(), docs.len());
            let _ = writeln!(md, "Claim: *{}*\n", escape_md(&group.claim));
            for &p in &group.passages {
                let _ = writeln!(md, "- {}: {}", self.passage_ref(p), escape_md(&snippet(&self.passages[p].text, 200)));
            }
            md.push('\n');
        }
        if !self.between_groups.is_empty() {
            let _ = writeln!(md, "Pairs between two groups:\n");
            for x in &self.between_groups {
                let _ = writeln!(md, "- {} ↔ {} {} {:.3}", self.passage_ref(x.a), self.passage_ref(x.b), x.kind, x.score);
            }
            md.push('\n');
        }
        md
    }

    pub fn to_html(&self) -> String {
        let data = serde_json::to_string(self).expect("a report serialises").replace("</", "<\\/");
        HTML_TEMPLATE.replace("{{TITLE}}", &escape_html(&self.title)).replace("{{DATA}}", &data)
    }
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn snippet(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    format!("{}…", flat.chars().take(max - 1).collect::<String>())
}

fn escape_md(s: &str) -> String {
    s.replace('|', "\\|").replace('*', "\\*")
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page: data inlined as JSON, drawn by a small script (SVG map,
/// grid, themes, echo groups). When drawing finishes the body gets
/// `data-rendered="ok"`, which the browser test looks for.
const HTML_TEMPLATE: &str = r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{TITLE}}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d2329;background:#fafbfc}
header{padding:18px 28px;background:#1d2329;color:#fff}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#c6ced6}
main{padding:12px 28px 40px;max-width:1280px}
h2{margin:28px 0 10px;font-size:18px;border-bottom:1px solid #dde2e7;padding-bottom:4px}
.row{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}
#map{background:#fff;border:1px solid #dde2e7;border-radius:6px}
#map circle{stroke:#fff;stroke-width:1;cursor:pointer}#map circle:hover{stroke:#000;stroke-width:2}
#tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #aab4be;border-radius:4px;padding:6px 8px;max-width:420px;font-size:13px;box-shadow:0 2px 8px rgba(0,0,0,.15);display:none}
#legend{font-size:13px;max-width:360px}#legend div{margin:3px 0}
.sw{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:6px;vertical-align:middle}
table.grid{border-collapse:collapse;font-size:13px;background:#fff}
table.grid th,table.grid td{border:1px solid #dde2e7;padding:4px 7px;text-align:center}
table.grid th.doc,table.grid td.doc{text-align:left;max-width:340px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.theme,.group{background:#fff;border:1px solid #dde2e7;border-radius:6px;padding:10px 16px;margin:10px 0}
.kw{display:inline-block;background:#eef2f6;border-radius:10px;padding:1px 8px;margin:2px;font-size:13px}
blockquote{margin:8px 0;padding:4px 12px;border-left:3px solid #c6ced6;color:#333}
.ref{color:#68737d;font-size:12px}
</style></head>
<body>
<header><h1>{{TITLE}}</h1><p id="summary"></p></header>
<main>
<h2 id="maptitle">Map</h2>
<div class="row"><svg id="map" width="760" height="520" role="img" aria-label="units in two dimensions, coloured by theme"></svg><div id="legend"></div></div>
<h2>Documents × themes</h2>
<div style="overflow-x:auto"><table class="grid" id="grid"></table></div>
<h2>Themes</h2><div id="themes"></div>
<h2>Echo groups: the same claim in different documents</h2><div id="groups"></div>
</main>
<div id="tip"></div>
<script type="application/json" id="data">{{DATA}}</script>
<script>
"use strict";
const R = JSON.parse(document.getElementById("data").textContent);
const palette = ["#4e79a7","#f28e2b","#e15759","#76b7b2","#59a14f","#edc948","#b07aa1","#ff9da7","#9c755f","#bab0ac","#1f77b4","#d62728","#2ca02c","#9467bd","#8c564b","#e377c2","#17becf","#bcbd22"];
const colour = t => t === null ? "#c9ced3" : palette[t % palette.length];
const el = (tag, attrs, text) => { const e = document.createElement(tag); for (const k in attrs || {}) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; return e; };
const ref = p => { const q = R.passages[p]; return R.documents[q.doc].id + "#" + q.passage + " [" + q.start + ".." + q.end + "]"; };
const unitRef = u => { const x = R.units[u], q = R.passages[x.passage]; return R.documents[q.doc].id + "#" + q.passage + " [" + x.start + ".." + x.end + "]"; };
const units = R.unit + "s";
const themeName = id => { const t = R.themes.find(t => t.id === id); return t ? "T" + t.id + ": " + t.label : "outlier"; };
document.getElementById("summary").textContent = R.documents.length + " documents · " + R.passages.length + " passages · " + R.themes.length + " themes over " + R.units.length + " " + units + " · " + R.outliers.length + " outliers · " + R.echo_groups.length + " echo groups · model " + R.model + " · motif " + R.motif_version;
document.getElementById("maptitle").textContent = "Map of " + units + " (hover for the text)";

// Map
const svg = document.getElementById("map"), NS = "http://www.w3.org/2000/svg", W = 760, H = 520, pad = 24, tip = document.getElementById("tip");
R.units.forEach((p, i) => {
  const c = document.createElementNS(NS, "circle");
  c.setAttribute("cx", (pad + (p.x + 1) / 2 * (W - 2 * pad)).toFixed(1));
  c.setAttribute("cy", (pad + (1 - (p.y + 1) / 2) * (H - 2 * pad)).toFixed(1));
  c.setAttribute("r", p.theme === null ? 4 : 6);
  c.setAttribute("fill", colour(p.theme));
  c.addEventListener("mousemove", ev => {
    tip.style.display = "block"; tip.style.left = (ev.clientX + 14) + "px"; tip.style.top = (ev.clientY + 10) + "px";
    tip.innerHTML = ""; tip.append(el("b", {}, themeName(p.theme)), el("div", {class: "ref"}, unitRef(i)), el("div", {}, p.text.length > 400 ? p.text.slice(0, 399) + "…" : p.text));
  });
  c.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  svg.append(c);
});
const legend = document.getElementById("legend");
R.themes.forEach(t => { const d = el("div"); d.append(el("span", {class: "sw", style: "background:" + colour(t.id)}), document.createTextNode("T" + t.id + ": " + t.label + " (" + t.size + ")")); legend.append(d); });
if (R.outliers.length) { const d = el("div"); d.append(el("span", {class: "sw", style: "background:" + colour(null)}), document.createTextNode("outliers (" + R.outliers.length + ")")); legend.append(d); }

// Grid
const grid = document.getElementById("grid"), head = el("tr");
head.append(el("th", {class: "doc"}, "document"));
R.themes.forEach(t => head.append(el("th", {title: t.label}, "T" + t.id)));
grid.append(head);
const most = Math.max(1, ...R.themes.flatMap(t => t.documents.map(d => d[1])));
R.documents.forEach((d, di) => {
  const tr = el("tr"); tr.append(el("td", {class: "doc", title: d.id}, d.id));
  R.themes.forEach(t => {
    const hit = t.documents.find(x => x[0] === di), n = hit ? hit[1] : 0;
    const td = el("td", {class: "cell", title: d.id + " · T" + t.id + ": " + n + " " + units}, n ? String(n) : "");
    if (n) td.style.background = "rgba(78,121,167," + (0.15 + 0.75 * n / most).toFixed(2) + ")";
    tr.append(td);
  });
  grid.append(tr);
});

// Themes
const themes = document.getElementById("themes");
R.themes.forEach(t => {
  const box = el("div", {class: "theme"});
  const h = el("h3", {}, ""); h.append(el("span", {class: "sw", style: "background:" + colour(t.id)}), document.createTextNode("T" + t.id + ": " + t.label + " — " + t.size + " " + units + " in " + t.documents.length + (t.documents.length === 1 ? " document" : " documents")));
  box.append(h);
  const kws = el("div"); t.keywords.forEach(k => kws.append(el("span", {class: "kw"}, k))); box.append(kws);
  t.central.forEach(u => { const q = el("blockquote", {}, R.units[u].text); q.append(el("div", {class: "ref"}, unitRef(u))); box.append(q); });
  if (t.echo_groups.length) box.append(el("p", {}, "Overlapping claims in this theme: " + t.echo_groups.map(g => "E" + g + " “" + R.echo_groups[g].claim + "”").join("; ")));
  themes.append(box);
});

// Echo groups
const groups = document.getElementById("groups");
if (!R.echo_groups.length) groups.append(el("p", {}, "No passages of different documents overlap above the threshold " + R.overlap_threshold.toFixed(3) + "."));
R.echo_groups.forEach((g, gi) => {
  const box = el("div", {class: "group"});
  box.append(el("h3", {}, "E" + gi + ": “" + g.claim + "”"));
  const ul = el("ul");
  g.passages.forEach(p => { const li = el("li", {}, R.passages[p].text); li.append(el("div", {class: "ref"}, ref(p))); ul.append(li); });
  box.append(ul);
  box.append(el("div", {class: "ref"}, g.pairs.map(x => ref(x.a) + " ↔ " + ref(x.b) + " " + x.kind + " " + x.score.toFixed(3)).join(" · ")));
  groups.append(box);
});
if (R.between_groups.length) groups.append(el("p", {class: "ref"}, "Pairs between two groups: " + R.between_groups.map(x => ref(x.a) + " ↔ " + ref(x.b) + " " + x.kind + " " + x.score.toFixed(3)).join(" · ")));
document.body.setAttribute("data-rendered", "ok");
</script>
</body></html>
"##;

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let passages = (0..4)
            .map(|i| ReportPassage { doc: i % 2, passage: i / 2, start: 0, end: 5, text: format!("text </script> {i}"), theme: if i < 3 { Some(0) } else { None } })
            .collect();
        let units = (0..4)
            .map(|i| ReportUnit { passage: i, start: 0, end: 5, text: format!("text </script> {i}"), theme: if i < 3 { Some(0) } else { None }, x: 0.0, y: 0.0 })
            .collect();
        Report {
            title: "t".into(),
            model: "m".into(),
            motif_version: "0".into(),
            unit: "sentence".into(),
            documents: vec![ReportDocument { id: "a.txt".into(), passages: 2 }, ReportDocument { id: "b|c.txt".into(), passages: 2 }],
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
            }],
            outliers: vec![3],
            echo_groups: vec![EchoGroup {
                passages: vec![0, 1],
                pairs: vec![EchoPair { a: 0, b: 1, score: 0.9, kind: "paraphrase".into() }],
                claim: "text".into(),
            }],
            between_groups: vec![EchoPair { a: 1, b: 2, score: 0.65, kind: "paraphrase".into() }],
            overlap_threshold: 0.7,
        }
    }

    #[test]
    fn html_inlines_data_safely() {
        let html = sample().to_html();
        assert!(!html.contains("text </script>"), "a passage must not close the data script");
        assert!(html.contains("text <\\/script>"));
        assert!(!html.contains("http://") || html.matches("http://").all(|_| html.contains("http://www.w3.org/2000/svg")));
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
    fn a_passage_takes_the_theme_of_most_of_its_units() {
        let unit = |passage: usize, theme: Option<usize>| ReportUnit { passage, start: 0, end: 1, text: String::new(), theme, x: 0.0, y: 0.0 };
        let units = [unit(0, Some(2)), unit(0, Some(1)), unit(0, Some(2)), unit(1, Some(3)), unit(1, Some(1)), unit(2, None)];
        assert_eq!(Report::passage_themes(4, &units), vec![Some(2), Some(1), None, None]);
    }
}
