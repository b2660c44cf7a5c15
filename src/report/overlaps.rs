//! Writers for `motif overlaps`: Markdown (for terminals and git viewers),
//! JSON and CSV. They take the finished overlaps and echo groups and only
//! format them; nothing here decides what overlaps. The Markdown escape is
//! the batch report's (`report::md_escape`).

use std::io::{self, Write};

use serde::Serialize;

use super::flatten;
pub use super::md_escape;
use crate::corpus::meta::{Dated, DocMeta};
use crate::corpus::Passage;
use crate::overlaps::align;
use crate::overlaps::claims::Conflict;
use crate::overlaps::{Group, Overlap, SentenceOverlap};
use crate::spread::{self, Travel};

/// A unit left out as boilerplate, located.
#[derive(Debug, Clone, Serialize)]
pub struct BoilerplateRow {
    pub doc: String,
    pub passage: usize,
    pub start: usize,
    pub end: usize,
    pub documents: usize,
    pub relevance: f32,
    pub text: String,
}

/// How the overlaps were found, for the report's header.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub model: String,
    pub granularity: String,
    pub route: String,
    pub threshold: f32,
    pub lexical_weight: f32,
    pub units: usize,
    pub candidates: usize,
    pub too_short: usize,
    /// Sentences embedded for this run (0 on an index that stores them all).
    pub sentences_embedded: usize,
}

const CSV_HEADER: [&str; 29] = [
    "pair",
    "group",
    "doc_a",
    "passage_a",
    "start_a",
    "end_a",
    "doc_b",
    "passage_b",
    "start_b",
    "end_b",
    "score",
    "cosine",
    "kind",
    "sentence_a_start",
    "sentence_a_end",
    "sentence_b_start",
    "sentence_b_end",
    "sentence_score",
    "sentence_kind",
    "date_a",
    "source_a",
    "date_b",
    "source_b",
    "earlier",
    "claim_a_start",
    "claim_a_end",
    "claim_b_start",
    "claim_b_end",
    "conflicting_figures",
];

pub struct Report<'a> {
    pub documents: &'a [String],
    /// Each document's date and source (one per document).
    pub doc_meta: &'a [DocMeta],
    pub passages: &'a [Passage],
    pub overlaps: &'a [Overlap],
    pub groups: &'a [Group],
    pub boilerplate: &'a [BoilerplateRow],
    pub meta: &'a Meta,
}

fn r4(x: f32) -> f64 {
    (x as f64 * 10_000.0).round() / 10_000.0
}

#[derive(Serialize)]
struct JsonEnd<'a> {
    doc: &'a str,
    passage: usize,
    start: usize,
    end: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<Dated>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonSentence<'a> {
    a: [usize; 2],
    b: [usize; 2],
    score: f64,
    cosine: f64,
    lexical: f64,
    kind: &'static str,
    /// The matching claims inside the two sentences.
    claim_a: [usize; 2],
    claim_b: [usize; 2],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    anchored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    conflict: Option<&'a Conflict>,
}

#[derive(Serialize)]
struct JsonPair<'a> {
    id: usize,
    group: usize,
    a: JsonEnd<'a>,
    b: JsonEnd<'a>,
    score: f64,
    cosine: f64,
    lexical: f64,
    kind: &'static str,
    /// "a" or "b": the end dated earlier (absent when a date is missing or both are the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    earlier: Option<&'static str>,
    sentences: Vec<JsonSentence<'a>>,
}

#[derive(Serialize)]
struct JsonGroup<'a> {
    id: usize,
    members: Vec<JsonMember<'a>>,
    pairs: &'a [usize],
    /// The earliest document by date (absent when none is dated).
    #[serde(skip_serializing_if = "Option::is_none")]
    earliest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_date: Option<Dated>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_date: Option<Dated>,
    #[serde(skip_serializing_if = "Option::is_none")]
    days: Option<i64>,
    /// Sources in the order the claim reached them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sources: Vec<String>,
    /// Documents of the group without a date.
    undated: usize,
}

#[derive(Serialize)]
struct JsonMember<'a> {
    doc: &'a str,
    passage: usize,
}

impl Report<'_> {
    fn group_of(&self) -> Vec<usize> {
        let mut of = vec![0; self.overlaps.len()];
        for (g, group) in self.groups.iter().enumerate() {
            for &p in &group.pairs {
                of[p] = g;
            }
        }
        of
    }

    fn end(&self, p: usize) -> JsonEnd<'_> {
        let info = &self.passages[p];
        let m = &self.doc_meta[info.doc];
        JsonEnd {
            doc: &self.documents[info.doc],
            passage: info.ordinal,
            start: info.start,
            end: info.end,
            date: m.date,
            source: m.source.as_deref(),
        }
    }

    /// "a" or "b": the end of a pair whose document is dated earlier.
    fn earlier(&self, o: &Overlap) -> Option<&'static str> {
        let (a, b) = (&self.doc_meta[self.passages[o.a].doc], &self.doc_meta[self.passages[o.b].doc]);
        spread::earlier(a, b)
    }

    fn travel(&self, group: &Group) -> Travel {
        let docs: Vec<usize> = group.members.iter().map(|&p| self.passages[p].doc).collect();
        spread::travel(&docs, self.doc_meta)
    }

    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        let group_of = self.group_of();
        let pairs: Vec<JsonPair> = self
            .overlaps
            .iter()
            .enumerate()
            .map(|(id, o)| JsonPair {
                id,
                group: group_of[id],
                a: self.end(o.a),
                b: self.end(o.b),
                score: r4(o.score),
                cosine: r4(o.cosine),
                lexical: r4(o.lexical),
                kind: o.kind.as_str(),
                earlier: self.earlier(o),
                sentences: o
                    .sentences
                    .iter()
                    .map(|s| JsonSentence {
                        a: [s.a.0, s.a.1],
                        b: [s.b.0, s.b.1],
                        score: r4(s.score),
                        cosine: r4(s.cosine),
                        lexical: r4(s.lexical),
                        kind: s.kind.as_str(),
                        claim_a: [s.claim_a.0, s.claim_a.1],
                        claim_b: [s.claim_b.0, s.claim_b.1],
                        anchored: s.anchored,
                        conflict: s.conflict.as_ref(),
                    })
                    .collect(),
            })
            .collect();
        let groups: Vec<JsonGroup> = self
            .groups
            .iter()
            .enumerate()
            .map(|(id, g)| (id, g, self.travel(g)))
            .map(|(id, g, t)| JsonGroup {
                id,
                earliest: t.earliest.map(|d| self.documents[d].as_str()),
                first_date: t.first_date,
                last_date: t.last_date,
                days: t.days,
                sources: t.sources,
                undated: t.undated,
                members: g
                    .members
                    .iter()
                    .map(|&p| JsonMember {
                        doc: &self.documents[self.passages[p].doc],
                        passage: self.passages[p].ordinal,
                    })
                    .collect(),
                pairs: &g.pairs,
            })
            .collect();
        // Fields in this order, as earlier versions wrote them.
        #[derive(Serialize)]
        struct JsonReport<'b> {
            boilerplate: &'b [BoilerplateRow],
            groups: Vec<JsonGroup<'b>>,
            meta: &'b Meta,
            pairs: Vec<JsonPair<'b>>,
        }
        let value = JsonReport { boilerplate: self.boilerplate, groups, meta: self.meta, pairs };
        serde_json::to_writer_pretty(&mut *out, &value)?;
        writeln!(out)
    }

    /// One row per matched sentence pair, with its pair's columns repeated.
    /// Fields are quoted only where they need it (a comma, quote or line break).
    pub fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let group_of = self.group_of();
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(CSV_HEADER)?;
        for (id, o) in self.overlaps.iter().enumerate() {
            let (a, b) = (&self.passages[o.a], &self.passages[o.b]);
            let (ma, mb) = (&self.doc_meta[a.doc], &self.doc_meta[b.doc]);
            let date = |m: &DocMeta| m.date.map(|d| d.to_string()).unwrap_or_default();
            let (date_a, date_b) = (date(ma), date(mb));
            for s in &o.sentences {
                let conflict = s
                    .conflict
                    .as_ref()
                    .map(|c| format!("{} vs {}", c.figures_a.join(" "), c.figures_b.join(" ")))
                    .unwrap_or_default();
                let row: [&str; 29] = [
                    &id.to_string(),
                    &group_of[id].to_string(),
                    &self.documents[a.doc],
                    &a.ordinal.to_string(),
                    &a.start.to_string(),
                    &a.end.to_string(),
                    &self.documents[b.doc],
                    &b.ordinal.to_string(),
                    &b.start.to_string(),
                    &b.end.to_string(),
                    &r4(o.score).to_string(),
                    &r4(o.cosine).to_string(),
                    o.kind.as_str(),
                    &s.a.0.to_string(),
                    &s.a.1.to_string(),
                    &s.b.0.to_string(),
                    &s.b.1.to_string(),
                    &r4(s.score).to_string(),
                    s.kind.as_str(),
                    &date_a,
                    ma.source.as_deref().unwrap_or(""),
                    &date_b,
                    mb.source.as_deref().unwrap_or(""),
                    self.earlier(o).unwrap_or(""),
                    &s.claim_a.0.to_string(),
                    &s.claim_a.1.to_string(),
                    &s.claim_b.0.to_string(),
                    &s.claim_b.1.to_string(),
                    &conflict,
                ];
                csv.write_record(row)?;
            }
        }
        csv.flush()
    }

    /// For each echo group: the claim's strongest sentence, then each
    /// document's version (its matching sentences, matching words in bold),
    /// then the pairs.
    pub fn write_markdown(&self, out: &mut dyn Write) -> io::Result<()> {
        let m = self.meta;
        let docs_in: usize = {
            let mut d: Vec<usize> =
                self.overlaps.iter().flat_map(|o| [self.passages[o.a].doc, self.passages[o.b].doc]).collect();
            d.sort_unstable();
            d.dedup();
            d.len()
        };
        writeln!(out, "# Overlaps\n")?;
        writeln!(
            out,
            "{} overlapping pair{} in {} echo group{} across {} document{} (of {}).  ",
            self.overlaps.len(),
            plural(self.overlaps.len()),
            self.groups.len(),
            plural(self.groups.len()),
            docs_in,
            plural(docs_in),
            self.documents.len()
        )?;
        writeln!(
            out,
            "Decision: {:.2}·cosine + {:.2}·shared words ≥ {:.3}, by {}, candidates from {} ({} model).\n",
            1.0 - m.lexical_weight,
            m.lexical_weight,
            m.threshold,
            m.granularity,
            m.route,
            md_escape(&m.model)
        )?;
        self.write_conflicts(out)?;
        for (g, group) in self.groups.iter().enumerate() {
            self.write_group(out, g, group)?;
        }
        let between = crate::overlaps::between_groups(self.overlaps.len(), self.groups);
        if !between.is_empty() {
            writeln!(out, "## Between groups\n")?;
            writeln!(out, "Pairs whose passages fall in two different echo groups:\n")?;
            self.write_pair_table(out, &between)?;
        }
        if !self.boilerplate.is_empty() {
            writeln!(out, "## Left out as boilerplate\n")?;
            writeln!(out, "Repeated nearly verbatim in many documents and unrelated to the rest of its own (use --keep-boilerplate to keep):\n")?;
            let mut seen = std::collections::HashSet::new();
            for b in self.boilerplate {
                let text = flatten(&b.text);
                if seen.insert(text.clone()) {
                    writeln!(
                        out,
                        "- \"{}\" ({} documents), e.g. {} bytes {}..{}",
                        md_escape(&text),
                        b.documents,
                        md_escape(&b.doc),
                        b.start,
                        b.end
                    )?;
                }
            }
            writeln!(out)?;
        }
        Ok(())
    }

    /// "Conflicting figures": each sentence pair whose claims give
    /// different figures for the same thing, first, since a fact-checker
    /// wants those before anything else.
    fn write_conflicts(&self, out: &mut dyn Write) -> io::Result<()> {
        // One entry per passage pair and disputed figures, as in the
        // report (a clause and a window over it can dispute the same numbers).
        let mut seen = std::collections::HashSet::new();
        let conflicts: Vec<(&Overlap, &Conflict)> = self
            .overlaps
            .iter()
            .flat_map(|o| o.sentences.iter().filter_map(move |s| s.conflict.as_ref().map(|c| (o, c))))
            .filter(|(o, c)| seen.insert((o.a, o.b, &c.figures_a, &c.figures_b)))
            .collect();
        if conflicts.is_empty() {
            return Ok(());
        }
        writeln!(
            out,
            "## Conflicting figures
"
        )?;
        writeln!(
            out,
            "Claims about the same names that give different figures ({}):
",
            conflicts.len()
        )?;
        for (o, c) in conflicts {
            let (pa, pb) = (&self.passages[o.a], &self.passages[o.b]);
            writeln!(
                out,
                "- **{}** vs **{}**: {} `[{}..{}]` — {} `[{}..{}]`",
                md_escape(&c.figures_a.join(", ")),
                md_escape(&c.figures_b.join(", ")),
                md_escape(&self.documents[pa.doc]),
                c.a.0,
                c.a.1,
                md_escape(&self.documents[pb.doc]),
                c.b.0,
                c.b.1
            )?;
            writeln!(out, "  - \"{}\"", md_escape(&flatten(pa.slice(c.a))))?;
            writeln!(out, "  - \"{}\"", md_escape(&flatten(pb.slice(c.b))))?;
        }
        writeln!(out)
    }

    fn write_group(&self, out: &mut dyn Write, g: usize, group: &Group) -> io::Result<()> {
        let best = &self.overlaps[group.pairs[0]];
        let claim = best.sentences.first();
        let docs: std::collections::BTreeSet<usize> = group.members.iter().map(|&p| self.passages[p].doc).collect();
        let claim_text = claim.map(|s| flatten(self.passages[best.a].slice(s.a))).unwrap_or_default();
        writeln!(
            out,
            "## {}. {} documents, {} passages, strongest {:.3} ({})\n",
            g + 1,
            docs.len(),
            group.members.len(),
            best.score,
            best.kind.as_str()
        )?;
        writeln!(out, "**Claim:** {}\n", md_escape(&claim_text))?;
        let t = self.travel(group);
        if let Some(first) = t.earliest {
            let m = &self.doc_meta[first];
            let about: Vec<String> = [m.date.map(|d| d.to_string()), m.source.clone()].into_iter().flatten().collect();
            let mut line =
                format!("**First seen:** {} ({})", md_escape(&self.documents[first]), md_escape(&about.join(" · ")));
            if !t.sources.is_empty() {
                let reached: Vec<String> = t.sources.iter().map(|s| md_escape(&flatten(s))).collect();
                line.push_str(&format!("; reached {}", reached.join(" → ")));
            }
            if let Some(days) = t.days.filter(|d| *d > 0) {
                line.push_str(&format!(" over {days} day{}", plural(days as usize)));
            }
            if t.undated > 0 {
                line.push_str(&format!("; {} undated", t.undated));
            }
            writeln!(out, "{line}.\n")?;
        }
        // Each member's sentences that take part in the group's matches,
        // with the texts they were matched to.
        for &p in &group.members {
            let info = &self.passages[p];
            let mut sentences: Vec<((usize, usize), Vec<String>)> = Vec::new();
            for &e in &group.pairs {
                let o = &self.overlaps[e];
                for s in &o.sentences {
                    let (mine, theirs, other) = if o.a == p {
                        (s.a, s.b, o.b)
                    } else if o.b == p {
                        (s.b, s.a, o.a)
                    } else {
                        continue;
                    };
                    let their_text = self.passages[other].slice(theirs).to_string();
                    match sentences.iter_mut().find(|(span, _)| *span == mine) {
                        Some((_, others)) => others.push(their_text),
                        None => sentences.push((mine, vec![their_text])),
                    }
                }
            }
            sentences.sort_by_key(|(span, _)| *span);
            writeln!(
                out,
                "**{}** · passage {} · bytes {}..{}\n",
                md_escape(&self.documents[info.doc]),
                info.ordinal,
                info.start,
                info.end
            )?;
            for (span, others) in &sentences {
                let text = info.slice(*span);
                let others: Vec<&str> = others.iter().map(|s| s.as_str()).collect();
                writeln!(out, "> {} `[{}..{}]`\n", marked(text, &others), span.0, span.1)?;
            }
        }
        self.write_pair_table(out, &group.pairs)
    }

    fn write_pair_table(&self, out: &mut dyn Write, pairs: &[usize]) -> io::Result<()> {
        writeln!(out, "| pair | A | B | score | cosine | kind |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for &e in pairs {
            let o = &self.overlaps[e];
            writeln!(
                out,
                "| {e} | {} | {} | {:.3} | {:.3} | {} |",
                self.place(o.a, o.sentences.first().map(|s| s.a)),
                self.place(o.b, o.sentences.first().map(|s| s.b)),
                o.score,
                o.cosine,
                sentence_kinds(&o.sentences)
            )?;
        }
        writeln!(out)
    }

    fn place(&self, p: usize, span: Option<(usize, usize)>) -> String {
        let info = &self.passages[p];
        // `md_escape` writes `|` as `\|` already: a second escape would
        // make it `\\|`, an escaped backslash and a cell's end.
        let doc = md_escape(&self.documents[info.doc]);
        match span {
            Some((s, e)) => format!("{doc} ¶{} [{s}..{e}]", info.ordinal),
            None => format!("{doc} ¶{}", info.ordinal),
        }
    }
}

fn sentence_kinds(sentences: &[SentenceOverlap]) -> String {
    let kinds: Vec<&str> = sentences.iter().map(|s| s.kind.as_str()).collect();
    kinds.join(", ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The text flattened and escaped, with the words matching `others` in bold.
pub fn marked(text: &str, others: &[&str]) -> String {
    let mut out = String::new();
    let mut pos = 0;
    for r in align::marks(text, others) {
        out.push_str(&md_escape(&flatten_keep_edges(&text[pos..r.start])));
        out.push_str("**");
        out.push_str(&md_escape(&flatten(&text[r.clone()])));
        out.push_str("**");
        pos = r.end;
    }
    out.push_str(&md_escape(&flatten_keep_edges(&text[pos..])));
    out
}

/// Like `flatten`, but keeps one space where the text starts or ends with
/// whitespace, so pieces join with their spaces.
fn flatten_keep_edges(s: &str) -> String {
    let mut out = String::new();
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    if space {
        out.push(' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overlaps::align::Kind;

    fn report_parts() -> (Vec<String>, Vec<Passage>, Vec<Overlap>, Vec<Group>, Meta) {
        let documents = vec!["a.txt".to_string(), "b, c.txt".to_string()];
        let passages = vec![
            Passage {
                doc: 0,
                ordinal: 0,
                start: 10,
                end: 60,
                windowed: false,
                text: "About 10,000 troops went. Nothing *else* here.".into(),
            },
            Passage {
                doc: 1,
                ordinal: 2,
                start: 0,
                end: 40,
                windowed: false,
                text: "Some 10,000 troops were sent.".into(),
            },
        ];
        let overlaps = vec![Overlap {
            a: 0,
            b: 1,
            cosine: 0.8,
            lexical: 0.5,
            score: 0.78,
            kind: Kind::Paraphrase,
            sentences: vec![SentenceOverlap::whole((10, 35), (0, 29), 0.8, 0.5, 0.78, Kind::Paraphrase)],
        }];
        let groups = vec![Group { members: vec![0, 1], pairs: vec![0] }];
        let meta = Meta {
            model: "m".into(),
            granularity: "passage".into(),
            route: "k-NN".into(),
            threshold: 0.75,
            lexical_weight: 0.25,
            units: 2,
            candidates: 1,
            too_short: 0,
            sentences_embedded: 0,
        };
        (documents, passages, overlaps, groups, meta)
    }

    /// A pair that lies in no echo group still shows in the Markdown.
    #[test]
    fn markdown_lists_pairs_between_groups() {
        let (documents, passages, overlaps, _, meta) = report_parts();
        let doc_meta = vec![DocMeta::default(); documents.len()];
        let r = Report {
            documents: &documents,
            doc_meta: &doc_meta,
            passages: &passages,
            overlaps: &overlaps,
            groups: &[],
            boilerplate: &[],
            meta: &meta,
        };
        let mut md = Vec::new();
        r.write_markdown(&mut md).unwrap();
        let md = String::from_utf8(md).unwrap();
        let between = md.split("## Between groups").nth(1).expect("a section for pairs outside groups");
        assert!(between.contains("| 0 | a.txt"), "{md}");
    }

    #[test]
    fn writers_show_pairs_groups_and_marks() {
        let (documents, passages, overlaps, groups, meta) = report_parts();
        let mut doc_meta = vec![DocMeta::default(); documents.len()];
        doc_meta[0].date = Dated::parse("2024-03-05");
        doc_meta[1].date = Dated::parse("2024-03-01");
        doc_meta[1].source = Some("Herald, daily".into());
        let r = Report {
            documents: &documents,
            doc_meta: &doc_meta,
            passages: &passages,
            overlaps: &overlaps,
            groups: &groups,
            boilerplate: &[],
            meta: &meta,
        };
        let mut md = Vec::new();
        r.write_markdown(&mut md).unwrap();
        let md = String::from_utf8(md).unwrap();
        assert!(md.contains("**Claim:** About 10,000 troops went."), "{md}");
        assert!(md.contains("> About **10,000 troops** went. `[10..35]`"), "{md}");
        assert!(
            md.contains("**First seen:** b, c.txt (2024-03-01 · Herald, daily); reached Herald, daily over 4 days."),
            "{md}"
        );
        let mut js = Vec::new();
        r.write_json(&mut js).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&js).unwrap();
        assert_eq!(v["pairs"][0]["a"]["doc"], "a.txt");
        assert_eq!(v["pairs"][0]["sentences"][0]["b"], serde_json::json!([0, 29]));
        assert_eq!(v["groups"][0]["members"][1]["passage"], 2);
        assert_eq!(v["groups"][0]["pairs"], serde_json::json!([0]));
        assert_eq!((&v["groups"][0]["earliest"], &v["groups"][0]["days"]), (&"b, c.txt".into(), &4.into()));
        assert_eq!(v["pairs"][0]["earlier"], "b");
        assert_eq!(v["pairs"][0]["b"]["source"], "Herald, daily");
        let mut csv = Vec::new();
        r.write_csv(&mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.lines().nth(1).unwrap().starts_with("0,0,a.txt,0,10,60,\"b, c.txt\",2,0,40,"), "{csv}");
    }

    /// A clause and a window over it that dispute the same figures make
    /// one entry in "Conflicting figures"; other figures make another.
    #[test]
    fn markdown_lists_each_conflict_once() {
        let (documents, passages, mut overlaps, groups, meta) = report_parts();
        let conflict = |figures_b: &str| {
            let mut s = SentenceOverlap::whole((10, 35), (0, 29), 0.7, 0.4, 0.6, Kind::Conflict);
            s.conflict = Some(Conflict {
                a: (16, 22),
                b: (5, 11),
                figures_a: vec!["10,000".into()],
                figures_b: vec![figures_b.into()],
            });
            s
        };
        overlaps[0].sentences = vec![conflict("3,000"), conflict("3,000"), conflict("4,000")];
        let doc_meta = vec![DocMeta::default(); documents.len()];
        let r = Report {
            documents: &documents,
            doc_meta: &doc_meta,
            passages: &passages,
            overlaps: &overlaps,
            groups: &groups,
            boilerplate: &[],
            meta: &meta,
        };
        let mut md = Vec::new();
        r.write_markdown(&mut md).unwrap();
        let md = String::from_utf8(md).unwrap();
        assert!(md.contains("give different figures (2):"), "{md}");
        assert_eq!(md.matches("**10,000** vs **3,000**").count(), 1, "{md}");
        assert_eq!(md.matches("**10,000** vs **4,000**").count(), 1, "{md}");
    }

    /// A `|` or a line break in a file name stays inside its cell of the pair table.
    #[test]
    fn pair_table_keeps_odd_names_in_their_cells() {
        let (mut documents, passages, overlaps, groups, meta) = report_parts();
        documents[0] = "pipe|na\nme.txt".into();
        let doc_meta = vec![DocMeta::default(); documents.len()];
        let r = Report {
            documents: &documents,
            doc_meta: &doc_meta,
            passages: &passages,
            overlaps: &overlaps,
            groups: &groups,
            boilerplate: &[],
            meta: &meta,
        };
        let mut md = Vec::new();
        r.write_markdown(&mut md).unwrap();
        let md = String::from_utf8(md).unwrap();
        let row = md.lines().find(|l| l.starts_with("| 0 |")).expect("the pair's row");
        assert!(row.starts_with("| 0 | pipe\\|na\\nme.txt ¶0 [10..35] | b, c.txt"), "{md}");
        // Six cells: seven `|` that no backslash escapes.
        assert_eq!(row.replace("\\|", "").matches('|').count(), 7, "{row}");
    }

    #[test]
    fn csv_keeps_its_header_and_quotes_what_needs_it() {
        let (mut documents, passages, overlaps, groups, meta) = report_parts();
        documents[0] = "say \"hi\"\nthere.txt".into();
        let mut doc_meta = vec![DocMeta::default(); documents.len()];
        doc_meta[0].date = Dated::parse("2024-03-05");
        doc_meta[1].date = Dated::parse("2024-03-01");
        doc_meta[1].source = Some("Herald, daily".into());
        let r = Report {
            documents: &documents,
            doc_meta: &doc_meta,
            passages: &passages,
            overlaps: &overlaps,
            groups: &groups,
            boilerplate: &[],
            meta: &meta,
        };
        let mut csv = Vec::new();
        r.write_csv(&mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert_eq!(
            csv,
            "pair,group,doc_a,passage_a,start_a,end_a,doc_b,passage_b,start_b,end_b,score,cosine,kind,sentence_a_start,sentence_a_end,\
             sentence_b_start,sentence_b_end,sentence_score,sentence_kind,date_a,source_a,date_b,source_b,earlier,\
             claim_a_start,claim_a_end,claim_b_start,claim_b_end,conflicting_figures\n\
             0,0,\"say \"\"hi\"\"\nthere.txt\",0,10,60,\"b, c.txt\",2,0,40,0.78,0.8,paraphrase,10,35,0,29,0.78,paraphrase,\
             2024-03-05,,2024-03-01,\"Herald, daily\",b,10,35,0,29,\n"
        );
    }

    #[test]
    fn markdown_escapes_markup() {
        assert_eq!(md_escape("a*b_c [x] #1"), "a\\*b_c \\[x\\] \\#1");
        // An underscore inside a word cannot start emphasis; at a word's edge it can.
        assert_eq!(md_escape("_edge_ seeds/000_44e9.txt"), "\\_edge\\_ seeds/000_44e9.txt");
        assert_eq!(marked("the *big* troops\nmoved", &["troops moved"]), "the \\*big\\* **troops moved**");
    }
}
