//! What a document says about itself: when it was published (`date`), who
//! published it (`source`, the outlet), its title and its URL.
//!
//! Owns `DocMeta`, the one type for these, and `Dated`, a date read from
//! any of the forms news data comes in (ISO 8601 with or without a time
//! and offset, RFC 2822 as mail and RSS write it, `YYYY-MM-DD`,
//! `YYYY/MM/DD`, Unix seconds or milliseconds). The readers in `ingest`
//! find the values (record fields, Markdown front matter, HTML `<meta>`,
//! the file's folder and first line) and hand them here; what could not be
//! read is counted in `Problems`, so a run with a few bad dates says so
//! once instead of failing or dropping them silently.

use std::fmt;

use jiff::civil::Date;
use jiff::{tz::TimeZone, Timestamp};
use serde::{Serialize, Serializer};

/// The field names tried for each value when the user names none, in
/// order (the first present wins).
pub const DATE_FIELDS: &[&str] =
    &["date", "published", "published_at", "publish_date", "pubdate", "datetime", "timestamp", "created_at"];
pub const SOURCE_FIELDS: &[&str] = &["source", "outlet", "publisher", "site", "site_name", "domain"];
pub const TITLE_FIELDS: &[&str] = &["title", "headline"];
pub const URL_FIELDS: &[&str] = &["url", "link", "permalink"];

/// A publication date: a day, or an instant when the data gives the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dated {
    /// The instant; midnight UTC for a bare day.
    pub at: Timestamp,
    /// True when only the day was given.
    pub day_only: bool,
}

impl Dated {
    /// Reads a date in the common forms; `None` for anything else.
    pub fn parse(s: &str) -> Option<Dated> {
        let s = s.trim();
        if s.is_empty() || s.len() > 64 {
            return None;
        }
        if let Ok(ts) = s.parse::<Timestamp>() {
            return Some(Dated { at: ts, day_only: false });
        }
        // An ISO date-time without an offset: taken as UTC.
        if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
            if s.len() > 10 {
                return dt.to_zoned(TimeZone::UTC).ok().map(|z| Dated { at: z.timestamp(), day_only: false });
            }
        }
        if let Some(d) = parse_day(s) {
            return day(d);
        }
        if let Ok(z) = jiff::fmt::rfc2822::parse(s) {
            return Some(Dated { at: z.timestamp(), day_only: false });
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            // Unix time: 10 digits are seconds (2001–2286), 13 milliseconds.
            let n: i64 = s.parse().ok()?;
            let ts = match s.len() {
                9 | 10 => Timestamp::from_second(n).ok()?,
                12 | 13 => Timestamp::from_millisecond(n).ok()?,
                _ => return None,
            };
            return Some(Dated { at: ts, day_only: false });
        }
        None
    }

    /// The UTC day.
    pub fn day(&self) -> Date {
        self.at.to_zoned(TimeZone::UTC).date()
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(&self) -> i64 {
        self.at.as_millisecond()
    }
}

fn day(d: Date) -> Option<Dated> {
    let at = d.to_zoned(TimeZone::UTC).ok()?.timestamp();
    Some(Dated { at, day_only: true })
}

/// `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYY.MM.DD`.
fn parse_day(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || !matches!(b[4], b'-' | b'/' | b'.') || b[7] != b[4] {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i16>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

/// `2024-03-01` for a day, RFC 3339 in UTC (`2024-03-01T10:15:00Z`) for an instant.
impl fmt::Display for Dated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.day_only {
            write!(f, "{}", self.day())
        } else {
            write!(f, "{}", self.at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        }
    }
}

impl Serialize for Dated {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a document says about itself. Every value is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DocMeta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<Dated>,
    /// The outlet or publisher.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl DocMeta {
    /// No date, source, title or URL.
    pub const EMPTY: DocMeta = DocMeta { date: None, source: None, title: None, url: None };

    pub fn is_empty(&self) -> bool {
        self == &DocMeta::default()
    }

    /// Fills what is missing here from `other`.
    pub fn or(mut self, other: DocMeta) -> DocMeta {
        self.date = self.date.or(other.date);
        self.source = self.source.or(other.source);
        self.title = self.title.or(other.title);
        self.url = self.url.or(other.url);
        self
    }
}

/// Which fields hold each value: the one the user named, or the defaults.
#[derive(Debug, Clone, Default)]
pub struct MetaFields {
    pub date: Option<String>,
    pub source: Option<String>,
    pub title: Option<String>,
    pub url: Option<String>,
}

/// The four values a document may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Date,
    Source,
    Title,
    Url,
}

impl Field {
    pub const ALL: [Field; 4] = [Field::Date, Field::Source, Field::Title, Field::Url];

    fn defaults(self) -> &'static [&'static str] {
        match self {
            Field::Date => DATE_FIELDS,
            Field::Source => SOURCE_FIELDS,
            Field::Title => TITLE_FIELDS,
            Field::Url => URL_FIELDS,
        }
    }

    fn flag(self) -> &'static str {
        match self {
            Field::Date => "--date-field",
            Field::Source => "--source-field",
            Field::Title => "--title-field",
            Field::Url => "--url-field",
        }
    }
}

impl MetaFields {
    fn named(&self, f: Field) -> Option<&str> {
        match f {
            Field::Date => self.date.as_deref(),
            Field::Source => self.source.as_deref(),
            Field::Title => self.title.as_deref(),
            Field::Url => self.url.as_deref(),
        }
    }

    /// The field names to look for, first choice first.
    pub fn candidates(&self, f: Field) -> Vec<&str> {
        match self.named(f) {
            Some(n) => vec![n],
            None => f.defaults().to_vec(),
        }
    }

    /// Every field name that may hold a value (for readers that must ask
    /// for their columns up front).
    pub fn all_candidates(&self) -> Vec<&str> {
        Field::ALL.iter().flat_map(|&f| self.candidates(f)).collect()
    }

    /// Reads a record's values through `get` (a field's value as text, if
    /// present and not empty), counting what could not be read.
    pub fn read(&self, doc: &str, get: &dyn Fn(&str) -> Option<String>, problems: &mut Problems) -> DocMeta {
        let mut meta = DocMeta::default();
        for f in Field::ALL {
            let found = self.candidates(f).into_iter().find_map(|name| get(name).map(|v| (name, v)));
            let Some((name, value)) = found else {
                if let Some(name) = self.named(f) {
                    problems.missing(f, name, doc);
                }
                continue;
            };
            let value = clean(&value);
            match f {
                Field::Date => match Dated::parse(&value) {
                    Some(d) => meta.date = Some(d),
                    None => problems.bad_date(name, doc, &value),
                },
                Field::Source => meta.source = Some(value),
                Field::Title => meta.title = Some(value),
                Field::Url => meta.url = Some(value),
            }
        }
        meta
    }
}

/// One line, trimmed, at most 500 characters: a value shown in tables.
fn clean(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(500) {
        Some((i, _)) => one_line[..i].to_string(),
        None => one_line,
    }
}

/// Values that could not be read, counted, with the first of each kind.
#[derive(Debug, Clone, Default)]
pub struct Problems {
    /// Dates that are no date: count, and the first (document, field, value).
    pub bad_dates: usize,
    pub first_bad_date: Option<(String, String, String)>,
    /// Fields the user named that some documents lack: (field, flag, count, first document).
    pub missing: Vec<(Field, String, usize, String)>,
}

impl Problems {
    pub fn bad_date(&mut self, field: &str, doc: &str, value: &str) {
        self.bad_dates += 1;
        if self.first_bad_date.is_none() {
            self.first_bad_date = Some((doc.to_string(), field.to_string(), clean(value).chars().take(80).collect()));
        }
    }

    fn missing(&mut self, f: Field, name: &str, doc: &str) {
        match self.missing.iter_mut().find(|m| m.0 == f) {
            Some(m) => m.2 += 1,
            None => self.missing.push((f, name.to_string(), 1, doc.to_string())),
        }
    }

    /// What the user should hear, one line per kind of problem.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some((doc, field, value)) = &self.first_bad_date {
            out.push(format!(
                "{} document{} had a \"{field}\" that is not a date motif reads (first: {doc}: \"{value}\"); \
                 they are kept without a date. Dates are read as ISO 8601 (2024-03-01, 2024-03-01T10:15:00Z), \
                 RFC 2822 (Fri, 01 Mar 2024 10:15:00 +0000) or Unix seconds",
                self.bad_dates,
                if self.bad_dates == 1 { "" } else { "s" },
            ));
        }
        for (f, name, count, doc) in &self.missing {
            out.push(format!(
                "{count} document{} had no \"{name}\" (named by {}; first: {doc}); they are kept without it",
                if *count == 1 { "" } else { "s" },
                f.flag()
            ));
        }
        out
    }
}

/// A title from the text's first line, when it looks like one: a short
/// line (2 to 20 words, under 200 bytes) that does not end as a sentence
/// does, followed by more text.
pub fn first_line_title(text: &str) -> Option<String> {
    let text = text.trim_start();
    let (first, rest) = text.split_once('\n')?;
    let first = first.trim();
    let words = first.split_whitespace().count();
    let sentence_end = first.ends_with(['.', ',', ';', ':']);
    let starts_upper = first.chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || c == '“');
    (!rest.trim().is_empty() && (2..=20).contains(&words) && first.len() < 200 && !sentence_end && starts_upper)
        .then(|| clean(first))
}

/// Splits Markdown front matter (`---` lines around `key: value` lines) off
/// a text: the fields (keys lower-cased, quotes dropped) and the text after it.
pub fn front_matter(text: &str) -> Option<(Vec<(String, String)>, &str)> {
    let body = text.strip_prefix("---")?;
    let body = body.strip_prefix("\r\n").or_else(|| body.strip_prefix('\n'))?;
    let mut fields = Vec::new();
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        offset += line.len();
        let l = line.trim_end();
        if l == "---" || l == "..." {
            return Some((fields, &body[offset..]));
        }
        if let Some((k, v)) = l.split_once(':') {
            let k = k.trim();
            if !k.is_empty() && !k.starts_with([' ', '-', '#']) && !k.contains(' ') {
                let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
                fields.push((k.to_ascii_lowercase(), v.to_string()));
            }
        }
        if offset > 64 * 1024 {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_common_forms() {
        let s = |x: &str| Dated::parse(x).map(|d| d.to_string());
        assert_eq!(s("2024-03-01").as_deref(), Some("2024-03-01"));
        assert_eq!(s("2024/03/01").as_deref(), Some("2024-03-01"));
        assert_eq!(s("2024-03-01T10:15:00Z").as_deref(), Some("2024-03-01T10:15:00Z"));
        assert_eq!(s("2024-03-01T10:15:00+02:00").as_deref(), Some("2024-03-01T08:15:00Z"));
        assert_eq!(s("2024-03-01T10:15:00").as_deref(), Some("2024-03-01T10:15:00Z"));
        assert_eq!(s("Fri, 01 Mar 2024 10:15:00 +0000").as_deref(), Some("2024-03-01T10:15:00Z"));
        assert_eq!(s("1709288100").as_deref(), Some("2024-03-01T10:15:00Z"));
        assert_eq!(s("1709288100000").as_deref(), Some("2024-03-01T10:15:00Z"));
        for bad in ["", "yesterday", "2024-13-01", "2024-02-30", "12", "01/03/2024", "Q1 2024"] {
            assert_eq!(Dated::parse(bad), None, "{bad}");
        }
        let (a, b) = (Dated::parse("2024-03-01").unwrap(), Dated::parse("2024-03-01T10:00:00Z").unwrap());
        assert!(a < b);
        assert_eq!(a.day(), b.day());
    }

    #[test]
    fn named_fields_and_defaults_with_problems_counted() {
        let rec = |pairs: &'static [(&'static str, &'static str)]| {
            move |f: &str| pairs.iter().find(|p| p.0 == f).map(|p| p.1.to_string())
        };
        let mut problems = Problems::default();
        let fields = MetaFields::default();
        let m = fields.read(
            "a",
            &rec(&[("published", "2024-01-02"), ("outlet", " The  Herald "), ("headline", "X")]),
            &mut problems,
        );
        assert_eq!(m.date.unwrap().to_string(), "2024-01-02");
        assert_eq!(m.source.as_deref(), Some("The Herald"));
        assert_eq!(m.title.as_deref(), Some("X"));
        assert!(problems.notes().is_empty());
        // A date that is none, and a named field some rows lack: counted, not fatal.
        let named = MetaFields { source: Some("paper".into()), ..Default::default() };
        let m = named.read("b", &rec(&[("date", "soon"), ("source", "ignored")]), &mut problems);
        assert_eq!((m.date, m.source), (None, None));
        named.read("c", &rec(&[("date", "later")]), &mut problems);
        let notes = problems.notes();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].starts_with("2 documents had a \"date\"") && notes[0].contains("b: \"soon\""), "{notes:?}");
        assert!(
            notes[1].starts_with("2 documents had no \"paper\"") && notes[1].contains("--source-field"),
            "{notes:?}"
        );
    }

    #[test]
    fn titles_from_a_first_line_that_looks_like_one() {
        assert_eq!(first_line_title("Troops sent to Kursk\n\nThe body.").as_deref(), Some("Troops sent to Kursk"));
        assert_eq!(first_line_title("img\n\nThe body."), None);
        assert_eq!(first_line_title("This is a sentence that ends.\nMore."), None);
        assert_eq!(first_line_title("Only one line"), None);
        assert_eq!(first_line_title("lower case start here\nMore."), None);
    }

    #[test]
    fn front_matter_is_split_off() {
        let (fields, rest) = front_matter("---\ntitle: \"A: b\"\ndate: 2024-03-01\n---\nBody\n").unwrap();
        assert_eq!(fields, vec![("title".into(), "A: b".into()), ("date".into(), "2024-03-01".into())]);
        assert_eq!(rest, "Body\n");
        assert!(front_matter("--- not\n").is_none());
        assert!(front_matter("---\ntitle: never closed\n").is_none());
    }
}
