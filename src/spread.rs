//! Where and when things appear: a theme's units counted per period and
//! per source, and an echo group's documents in date order (the earliest
//! one, the sources it reached, the time it took).
//!
//! Owns `Period` (day, week, month, year, chosen from the corpus's span
//! unless the user names one), `Calendar` (the periods a corpus covers,
//! continuous from the first date to the last so a chart's gaps are real
//! gaps) and the counting. It reads documents' `DocMeta` and nothing
//! else: what a theme or a group is, is the caller's. Undated units and
//! units without a source are counted apart, so every row of counts adds
//! up to its theme's size.

use std::collections::HashMap;

use jiff::civil::{Date, Weekday};
use serde::Serialize;

use crate::corpus::meta::{Dated, DocMeta};

/// The length of the periods a time view counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    /// ISO weeks, Monday to Sunday, named by their Monday.
    Week,
    Month,
    Year,
}

/// Most periods a chart shows before a longer period is chosen.
const MOST_PERIODS: i64 = 90;

impl Period {
    /// The shortest period that covers `first..=last` in at most 90 steps.
    pub fn auto(first: Date, last: Date) -> Period {
        let days = i64::from(first.until(last).map_or(0, |s| s.get_days())).max(0);
        if days < MOST_PERIODS {
            Period::Day
        } else if days / 7 < MOST_PERIODS {
            Period::Week
        } else if days / 30 < MOST_PERIODS {
            Period::Month
        } else {
            Period::Year
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    /// The first day of the period holding `d`.
    pub fn start(self, d: Date) -> Date {
        match self {
            Period::Day => d,
            Period::Week => {
                let back = i64::from(d.weekday().since(Weekday::Monday));
                d.checked_sub(jiff::Span::new().days(back)).unwrap_or(d)
            }
            Period::Month => d.first_of_month(),
            Period::Year => d.first_of_year(),
        }
    }

    fn next(self, d: Date) -> Option<Date> {
        let step = match self {
            Period::Day => jiff::Span::new().days(1),
            Period::Week => jiff::Span::new().weeks(1),
            Period::Month => jiff::Span::new().months(1),
            Period::Year => jiff::Span::new().years(1),
        };
        d.checked_add(step).ok()
    }

    /// `2024-03-01` (a day, or a week by its Monday), `2024-03`, `2024`.
    pub fn label(self, start: Date) -> String {
        match self {
            Period::Day | Period::Week => start.to_string(),
            Period::Month => start.strftime("%Y-%m").to_string(),
            Period::Year => start.strftime("%Y").to_string(),
        }
    }
}

/// The periods a corpus's dates cover, and the period of each document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Calendar {
    pub period: Period,
    /// Every period from the first date's to the last's, in order.
    pub labels: Vec<String>,
    /// Each document's period (an index into `labels`); `None` when undated.
    #[serde(skip)]
    pub of_document: Vec<Option<usize>>,
}

impl Calendar {
    /// The calendar of the documents' dates; `None` when no document has one.
    pub fn new(meta: &[DocMeta], period: Option<Period>) -> Option<Calendar> {
        let days: Vec<Option<Date>> = meta.iter().map(|m| m.date.map(|d| d.day())).collect();
        let first = days.iter().flatten().min().copied()?;
        let last = days.iter().flatten().max().copied()?;
        let period = period.unwrap_or_else(|| Period::auto(first, last));
        let mut starts = Vec::new();
        let mut at = Some(period.start(first));
        while let Some(s) = at.filter(|s| *s <= last) {
            starts.push(s);
            at = period.next(s);
        }
        let index: HashMap<Date, usize> = starts.iter().enumerate().map(|(i, s)| (*s, i)).collect();
        let of_document = days.iter().map(|d| d.and_then(|d| index.get(&period.start(d)).copied())).collect();
        Some(Calendar { period, labels: starts.iter().map(|s| period.label(*s)).collect(), of_document })
    }
}

/// The corpus's sources, most documents first (ties by name), and each
/// document's source as an index into them.
pub fn sources(meta: &[DocMeta]) -> (Vec<String>, Vec<Option<usize>>) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for s in meta.iter().filter_map(|m| m.source.as_deref()) {
        *count.entry(s).or_default() += 1;
    }
    let mut names: Vec<&str> = count.keys().copied().collect();
    names.sort_by(|a, b| count[b].cmp(&count[a]).then(a.cmp(b)));
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let of_document = meta.iter().map(|m| m.source.as_deref().map(|s| index[s])).collect();
    (names.into_iter().map(String::from).collect(), of_document)
}

/// A set of units counted per period and per source: each row adds up to
/// the number of units counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Per period of the calendar (empty when there is none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub over_time: Vec<usize>,
    /// Units of undated documents (when there is a calendar).
    #[serde(skip_serializing_if = "is_zero")]
    pub undated: usize,
    /// Per source (empty when no document has one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_source: Vec<usize>,
    /// Units of documents without a source (when some have one).
    #[serde(skip_serializing_if = "is_zero")]
    pub no_source: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Counts the units of documents `docs` (one entry per unit).
pub fn count(
    docs: impl Iterator<Item = usize>,
    calendar: Option<&Calendar>,
    source_of: &[Option<usize>],
    sources: usize,
) -> Counts {
    let mut c = Counts {
        over_time: vec![0; calendar.map_or(0, |c| c.labels.len())],
        by_source: vec![0; sources],
        ..Counts::default()
    };
    for d in docs {
        if let Some(cal) = calendar {
            match cal.of_document[d] {
                Some(p) => c.over_time[p] += 1,
                None => c.undated += 1,
            }
        }
        if sources > 0 {
            match source_of[d] {
                Some(s) => c.by_source[s] += 1,
                None => c.no_source += 1,
            }
        }
    }
    c
}

/// How a set of documents spread over time and sources: where a claim
/// appeared first and how far it went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Travel {
    /// The earliest document by date (ties: corpus order); `None` when no
    /// document of the set is dated.
    pub earliest: Option<usize>,
    pub first_date: Option<Dated>,
    pub last_date: Option<Dated>,
    /// Days from the first date to the last.
    pub days: Option<i64>,
    /// The documents in date order (undated ones last, in corpus order).
    pub order: Vec<usize>,
    /// Their sources, in the order the claim reached them.
    pub sources: Vec<String>,
    /// Documents of the set without a date.
    pub undated: usize,
}

/// The travel of a set of documents (indices into `meta`).
pub fn travel(docs: &[usize], meta: &[DocMeta]) -> Travel {
    let mut order: Vec<usize> = docs.to_vec();
    order.sort_unstable();
    order.dedup();
    order.sort_by_key(|&d| (meta[d].date.is_none(), meta[d].date, d));
    let dated: Vec<Dated> = order.iter().filter_map(|&d| meta[d].date).collect();
    let (first, last) = (dated.first().copied(), dated.last().copied());
    let mut sources: Vec<String> = Vec::new();
    for &d in &order {
        if let Some(s) = &meta[d].source {
            if !sources.contains(s) {
                sources.push(s.clone());
            }
        }
    }
    Travel {
        earliest: first.map(|_| order[0]),
        first_date: first,
        last_date: last,
        days: first.zip(last).map(|(a, b)| i64::from(a.day().until(b.day()).map_or(0, |s| s.get_days()))),
        undated: order.len() - dated.len(),
        order,
        sources,
    }
}

/// Which of two documents came first by date: `Some("a")` when `a` is
/// earlier, `Some("b")` when `b` is (the side a pair's JSON names), `None`
/// when a date is missing or they are the same.
pub fn earlier(a: &DocMeta, b: &DocMeta) -> Option<&'static str> {
    match (a.date, b.date) {
        (Some(x), Some(y)) if x != y => Some(if x < y { "a" } else { "b" }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dated(d: &str, source: Option<&str>) -> DocMeta {
        DocMeta { date: Dated::parse(d), source: source.map(String::from), ..DocMeta::default() }
    }

    #[test]
    fn the_period_follows_the_span() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(Period::auto(d("2024-01-01"), d("2024-01-20")), Period::Day);
        assert_eq!(Period::auto(d("2024-01-01"), d("2024-08-01")), Period::Week);
        assert_eq!(Period::auto(d("2020-01-01"), d("2024-08-01")), Period::Month);
        assert_eq!(Period::auto(d("1990-01-01"), d("2024-08-01")), Period::Year);
        // 2024-03-06 is a Wednesday; its week starts Monday 2024-03-04.
        assert_eq!(Period::Week.start(d("2024-03-06")), d("2024-03-04"));
        assert_eq!(Period::Month.label(Period::Month.start(d("2024-03-06"))), "2024-03");
    }

    #[test]
    fn counts_add_up_and_gaps_are_kept() {
        let meta = vec![
            dated("2024-03-01", Some("Herald")),
            dated("2024-03-03", Some("Post")),
            dated("not a date", Some("Herald")),
            DocMeta::default(),
        ];
        let cal = Calendar::new(&meta, None).unwrap();
        assert_eq!(cal.period, Period::Day);
        assert_eq!(cal.labels, vec!["2024-03-01", "2024-03-02", "2024-03-03"]);
        assert_eq!(cal.of_document, vec![Some(0), Some(2), None, None]);
        let (names, of) = sources(&meta);
        assert_eq!(names, vec!["Herald", "Post"]);
        let units = [0, 0, 1, 2, 3, 3];
        let c = count(units.iter().copied(), Some(&cal), &of, names.len());
        assert_eq!(c.over_time, vec![2, 0, 1]);
        assert_eq!(c.undated, 3);
        assert_eq!(c.by_source, vec![3, 1]);
        assert_eq!(c.no_source, 2);
        assert_eq!(c.over_time.iter().sum::<usize>() + c.undated, units.len());
        assert!(Calendar::new(&[DocMeta::default()], None).is_none());
    }

    #[test]
    fn travel_names_the_earliest_document() {
        let meta = vec![
            dated("2024-03-05", Some("Post")),
            dated("2024-03-01T09:00:00Z", Some("Herald")),
            DocMeta::default(),
            dated("2024-03-01T08:00:00Z", Some("Post")),
        ];
        let t = travel(&[0, 1, 2, 3], &meta);
        assert_eq!(t.earliest, Some(3));
        assert_eq!(t.order, vec![3, 1, 0, 2]);
        assert_eq!(t.sources, vec!["Post", "Herald"]);
        assert_eq!((t.days, t.undated), (Some(4), 1));
        assert_eq!(travel(&[2], &meta).earliest, None);
        assert_eq!(earlier(&meta[0], &meta[1]), Some("b"));
        assert_eq!(earlier(&meta[1], &meta[0]), Some("a"));
        assert_eq!(earlier(&meta[0], &meta[2]), None);
    }
}
