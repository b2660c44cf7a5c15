//! Anchors: the figures and names a claim is pinned to.
//!
//! Two passages that give the same rare figure or name and say nearly the
//! same thing are strong candidates for the same claim even at a lower
//! cosine; two that say the same thing about the same names with
//! *different* figures disagree, which is what a fact-checker wants first.
//! This module finds the anchors of a text:
//!
//! - **Figures**, normalised to a value and a kind, so that "10,000",
//!   "10 000", "10000", "ten thousand" and "10k" are one figure and
//!   "3,000" another: counts, money (with its currency: "$2,000",
//!   "£1.2bn", "200 million dollars"), percentages ("7%", "7 per cent"),
//!   years and dates ("October 22").
//! - **Names**: runs of capitalised words ("North Korean", "Lloyd
//!   Austin", "Institute for Strategic Studies"), lower-cased; a lone
//!   capitalised word opening the text is left out, since any sentence
//!   starts with one.
//!
//! Everything works on plain text and byte ranges (`crate::text::words`).

use std::ops::Range;

use serde::Serialize;

use crate::text::{words, Word};

/// What a figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FigureKind {
    /// A plain number of things ("3,000 troops").
    Count,
    /// An amount of money; `Figure::currency` says which.
    Money,
    Percent,
    /// A four-digit year standing alone ("in 2024").
    Year,
    /// A day next to a month name ("October 22", "22 October").
    Date,
}

/// A figure in a text: its normalised value and where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub kind: FigureKind,
    pub value: f64,
    /// `$`, `£`, `€`, `¥` for money (written as a symbol or a word); for a
    /// date, the month's first three letters.
    pub unit: Option<&'static str>,
    /// Byte range in the text, from the first digit or number word to the
    /// last word of the figure ("10,000", "ten thousand", "$1.2bn").
    #[serde(skip)]
    pub span: Range<usize>,
    /// Significant digits as written ("29%": 2, "28.9%": 3, "293,000": 3),
    /// for telling a rounded figure from a different one.
    #[serde(skip)]
    pub digits: u32,
}

impl Figure {
    /// Whether two figures state the same quantity (value and kind, and
    /// currency or month): their keys are equal.
    pub fn same(&self, other: &Figure) -> bool {
        self.key() == other.key()
    }

    /// Whether two figures agree once the more precise is rounded to the
    /// other's significant digits ("29%" and "28.9%", "£293,000" and
    /// "£293,264"; not "25,000" and "23,000", nor "100,000" and "94,000").
    pub fn agrees(&self, other: &Figure) -> bool {
        if self.kind != other.kind || self.unit != other.unit {
            return false;
        }
        let p = self.digits.min(other.digits).max(1);
        let round = |v: f64| {
            if v == 0.0 {
                return 0.0;
            }
            let scale = 10f64.powi(v.abs().log10().floor() as i32 + 1 - p as i32);
            (v / scale).round() * scale
        };
        let (a, b) = (round(self.value), round(other.value));
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    /// Figures that can disagree: counts, money and percentages (a year or
    /// a date in one text and another in the other is usually another event).
    pub fn is_quantity(&self) -> bool {
        matches!(self.kind, FigureKind::Count | FigureKind::Money | FigureKind::Percent)
    }

    /// A key equal for figures that state the same quantity: for indexing
    /// anchors. The value is written to 12 significant digits, so that
    /// "£1.2bn" (1.2 × 10⁹) and "£1,200 million" (1,200 × 10⁶) meet
    /// whatever the last bit of their products.
    pub fn key(&self) -> String {
        let value: f64 = format!("{:.11e}", self.value).parse().expect("a formatted float reads back");
        format!("{:?}:{}:{}", self.kind, self.unit.unwrap_or(""), value)
    }
}

const UNITS: &[(&str, f64)] = &[
    ("zero", 0.0),
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("eleven", 11.0),
    ("twelve", 12.0),
    ("thirteen", 13.0),
    ("fourteen", 14.0),
    ("fifteen", 15.0),
    ("sixteen", 16.0),
    ("seventeen", 17.0),
    ("eighteen", 18.0),
    ("nineteen", 19.0),
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("fifty", 50.0),
    ("sixty", 60.0),
    ("seventy", 70.0),
    ("eighty", 80.0),
    ("ninety", 90.0),
];

/// Scale words, written out or abbreviated as words of their own ("$1.2 bn").
const SCALES: &[(&str, f64)] = &[
    ("hundred", 1e2),
    ("thousand", 1e3),
    ("million", 1e6),
    ("millions", 1e6),
    ("mn", 1e6),
    ("billion", 1e9),
    ("billions", 1e9),
    ("bn", 1e9),
    ("trillion", 1e12),
    ("tn", 1e12),
];

const MONTHS: &[&str] = &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

const CURRENCY_WORDS: &[(&str, &str)] = &[
    ("dollar", "$"),
    ("dollars", "$"),
    ("usd", "$"),
    ("pound", "£"),
    ("pounds", "£"),
    ("sterling", "£"),
    ("gbp", "£"),
    ("euro", "€"),
    ("euros", "€"),
    ("eur", "€"),
    ("yen", "¥"),
];

fn lookup(table: &[(&str, f64)], w: &str) -> Option<f64> {
    table.iter().find(|(k, _)| *k == w).map(|&(_, v)| v)
}

/// The month a word names ("October", "Oct"), as its first three letters.
fn month(w: &str) -> Option<&'static str> {
    if w.len() < 3 {
        return None;
    }
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let i = full.iter().position(|m| *m == w || (w.len() == 3 && m.starts_with(w)))?;
    Some(MONTHS[i])
}

fn currency_symbol(c: char) -> Option<&'static str> {
    match c {
        '$' => Some("$"),
        '£' => Some("£"),
        '€' => Some("€"),
        '¥' => Some("¥"),
        _ => None,
    }
}

/// A number written in digits, with an attached scale suffix ("10k",
/// "1.13bn", "600m"; `m` counts as million only for money). Returns the
/// value and the suffix's scale.
fn digits(norm: &str) -> Option<(f64, Option<f64>, bool)> {
    let split = norm.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(norm.len());
    let (num, suffix) = norm.split_at(split);
    if num.is_empty() || !num.starts_with(|c: char| c.is_ascii_digit()) || num.ends_with('.') {
        return None;
    }
    let value: f64 = num.parse().ok()?;
    let (scale, needs_money) = match suffix {
        "" => (None, false),
        "k" => (Some(1e3), false),
        "bn" | "b" => (Some(1e9), false),
        "tn" => (Some(1e12), false),
        "m" | "mn" => (Some(1e6), true),
        // 1st, 2nd, 3rd, 10th: ordinals are not figures.
        _ => return None,
    };
    Some((value, scale, needs_money))
}

/// A spelled-out number starting at word `i` ("ten thousand", "three
/// hundred and fifty", "twenty-five"): its value and the next word.
fn spelled(ws: &[Word], text: &str, i: usize) -> Option<(f64, usize)> {
    let mut total = 0.0;
    let mut current = 0.0;
    let mut j = i;
    let mut any = false;
    let mut scaled = false;
    while j < ws.len() {
        let w = ws[j].norm.as_str();
        if j > i && !gap_is_space_or_hyphen(&text[ws[j - 1].end..ws[j].start]) {
            break;
        }
        if let Some(v) = lookup(UNITS, w) {
            current += v;
            any = true;
        } else if let Some(s) = lookup(SCALES, w).filter(|_| any) {
            if s == 1e2 {
                current *= s;
            } else {
                total += current * s;
                current = 0.0;
            }
            scaled = true;
        } else if w == "and" && any && ws.get(j + 1).is_some_and(|n| lookup(UNITS, &n.norm).is_some()) {
            // "three hundred and fifty"
        } else {
            break;
        }
        j += 1;
    }
    let value = total + current;
    // A lone small number word ("one of the", "two sides") is no anchor.
    (any && (scaled || value >= 10.0)).then_some((value, j))
}

fn gap_is_space_or_hyphen(gap: &str) -> bool {
    !gap.is_empty() && gap.chars().all(|c| c.is_whitespace() || c == '-')
}

/// A single space (or a no-break or thin space) between digit groups: "10 000".
fn is_group_gap(gap: &str) -> bool {
    matches!(gap, " " | "\u{a0}" | "\u{202f}" | "\u{2009}")
}

/// Significant digits of a number as written: "10,000" 1, "28.9" 3,
/// "1.50" 3, "293,264" 6; a number in words counts those of its value.
fn significant_digits(written: &str, value: f64) -> u32 {
    let digits: String = written.chars().take_while(|c| c.is_ascii_digit() || matches!(c, ',' | '.')).collect();
    let digits = if digits.chars().any(|c| c.is_ascii_digit()) { digits } else { format!("{value}") };
    let decimal = digits.contains('.');
    let all: String = digits.chars().filter(char::is_ascii_digit).collect();
    let trimmed = all.trim_start_matches('0');
    let trimmed = if decimal { trimmed } else { trimmed.trim_end_matches('0') };
    (trimmed.len() as u32).max(1)
}

/// The figures of a text, in order.
pub fn figures(text: &str) -> Vec<Figure> {
    figures_in(text, &words(text))
}

fn figures_in(text: &str, ws: &[Word]) -> Vec<Figure> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let start = ws[i].start;
        let parsed = if let Some((mut value, suffix, needs_money)) = digits(&ws[i].norm) {
            let mut j = i + 1;
            let mut grouped = false;
            // "10 000": digit groups of three after one to three digits.
            if suffix.is_none() && ws[i].norm.len() <= 3 && !ws[i].norm.contains('.') {
                while j < ws.len()
                    && ws[j].norm.len() == 3
                    && ws[j].norm.chars().all(|c| c.is_ascii_digit())
                    && is_group_gap(&text[ws[j - 1].end..ws[j].start])
                {
                    value = value * 1000.0 + ws[j].norm.parse::<f64>().unwrap_or(0.0);
                    grouped = true;
                    j += 1;
                }
            }
            let raw_len = text[ws[i].start..ws[j - 1].end].chars().filter(char::is_ascii_digit).count();
            Some((value, suffix, needs_money, j, grouped, raw_len))
        } else {
            spelled(ws, text, i).map(|(v, j)| (v, None, false, j, true, 0))
        };
        let digits = significant_digits(&text[ws[i].start..ws[i].end], parsed.as_ref().map_or(0.0, |p| p.0));
        let Some((mut value, suffix, needs_money, mut j, grouped, raw_len)) = parsed else {
            i += 1;
            continue;
        };
        let mut scaled = suffix.is_some();
        if let Some(s) = suffix {
            value *= s;
        }
        // A scale word after digits: "1.5 million", "$1.2 bn".
        if !scaled {
            if let Some(s) = ws.get(j).and_then(|w| lookup(SCALES, &w.norm)).filter(|&s| s > 1e2) {
                if is_group_gap(&text[ws[j - 1].end..ws[j].start]) {
                    value *= s;
                    scaled = true;
                    j += 1;
                }
            }
        }
        let before = text[..start].trim_end_matches(char::is_whitespace);
        let symbol = before.chars().last().and_then(currency_symbol);
        let after_gap = ws.get(j).map(|w| &text[ws[j - 1].end..w.start]).unwrap_or(&text[ws[j - 1].end..]);
        let next = ws.get(j).map(|w| w.norm.as_str());
        let percent_word = match next {
            Some("percent" | "pc") => Some(j + 1),
            Some("per") if ws.get(j + 1).is_some_and(|w| w.norm == "cent") => Some(j + 2),
            _ => None,
        };
        let currency_word = next.and_then(|n| CURRENCY_WORDS.iter().find(|(k, _)| *k == n)).map(|&(_, c)| c);
        let previous = i.checked_sub(1).map(|p| ws[p].norm.as_str());
        let month_next = next.and_then(month).filter(|_| is_group_gap(after_gap));
        let month_before = previous.and_then(month).filter(|_| is_group_gap(&text[ws[i - 1].end..start]));
        let (kind, unit, end) = if after_gap.starts_with('%') {
            (FigureKind::Percent, None, ws[j - 1].end + '%'.len_utf8())
        } else if let Some(k) = percent_word {
            (FigureKind::Percent, None, ws[k - 1].end)
        } else if let Some(c) = symbol {
            (FigureKind::Money, Some(c), ws[j - 1].end)
        } else if let Some(c) = currency_word {
            j += 1;
            (FigureKind::Money, Some(c), ws[j - 1].end)
        } else if needs_money {
            // "100m" without a currency: metres, not millions.
            i = j;
            continue;
        } else if let Some(m) =
            month_next.or(month_before).filter(|_| !scaled && !grouped && (1.0..=31.0).contains(&value))
        {
            (FigureKind::Date, Some(m), ws[j - 1].end)
        } else if !scaled && !grouped && raw_len == 4 && (1800.0..2100.0).contains(&value) && value.fract() == 0.0 {
            (FigureKind::Year, None, ws[j - 1].end)
        } else {
            (FigureKind::Count, None, ws[j - 1].end)
        };
        let start = if symbol.is_some() { before.len() - symbol.map_or(0, str::len) } else { start };
        out.push(Figure { kind, value, unit, span: start..end, digits });
        i = j.max(i + 1);
    }
    out
}

/// Names in a text: runs of capitalised words (joined by `of`, `for`,
/// `de`, `von` when a capitalised word follows), lower-cased, each once,
/// in order. A lone capitalised word at the start of the text is left out.
pub fn names(text: &str) -> Vec<String> {
    names_in(text, &words(text))
}

fn names_in(text: &str, ws: &[Word]) -> Vec<String> {
    let capital = |w: &Word| text[w.start..].chars().next().is_some_and(char::is_uppercase);
    let joiner = |w: &Word| matches!(w.norm.as_str(), "of" | "for" | "de" | "von");
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        if !capital(&ws[i]) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        loop {
            let adjacent =
                |k: usize| ws.get(k).is_some_and(|_| gap_is_space_or_hyphen(&text[ws[k - 1].end..ws[k].start]));
            if j < ws.len() && adjacent(j) && capital(&ws[j]) {
                j += 1;
            } else if j + 1 < ws.len() && adjacent(j) && adjacent(j + 1) && joiner(&ws[j]) && capital(&ws[j + 1]) {
                j += 2;
            } else {
                break;
            }
        }
        let lone_opening = i == 0 && j == 1;
        let is_figure = ws[i..j].iter().all(|w| w.norm.starts_with(|c: char| c.is_ascii_digit()));
        let lone_function_word = j == i + 1 && !ws[i].content;
        if !(lone_opening || is_figure || lone_function_word) {
            let name: Vec<&str> = ws[i..j].iter().map(|w| w.norm.as_str()).collect();
            let name = name.join(" ");
            if !out.contains(&name) {
                out.push(name);
            }
        }
        i = j;
    }
    out
}

/// The anchors of one text.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Anchors {
    pub figures: Vec<Figure>,
    pub names: Vec<String>,
}

impl Anchors {
    pub fn of(text: &str) -> Anchors {
        let ws = words(text);
        Anchors { figures: figures_in(text, &ws), names: names_in(text, &ws) }
    }

    /// The keys of the figures that can link two claims: quantities and
    /// dates, not bare years (a year dates many unrelated claims).
    pub fn figure_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> =
            self.figures.iter().filter(|f| f.kind != FigureKind::Year).map(Figure::key).collect();
        keys.sort();
        keys.dedup();
        keys
    }

    pub fn quantities(&self) -> impl Iterator<Item = &Figure> {
        self.figures.iter().filter(|f| f.is_quantity())
    }

    pub fn shares_name(&self, other: &Anchors) -> bool {
        self.names.iter().any(|n| other.names.contains(n))
    }

    /// Whether the text gives a figure that agrees with `f` (`Figure::agrees`).
    pub fn has_figure(&self, f: &Figure) -> bool {
        self.figures.iter().any(|g| g.agrees(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(FigureKind, f64, Option<&'static str>)> {
        figures(text).into_iter().map(|f| (f.kind, f.value, f.unit)).collect()
    }

    fn one(text: &str) -> Figure {
        let f = figures(text);
        assert_eq!(f.len(), 1, "{text:?}: {f:?}");
        f.into_iter().next().unwrap()
    }

    #[test]
    fn ten_thousand_is_one_figure_however_written() {
        let forms = [
            "10,000 troops",
            "10 000 troops",
            "10000 troops",
            "ten thousand troops",
            "10k troops",
            "10\u{a0}000 troops",
        ];
        let first = one(forms[0]);
        assert_eq!((first.kind, first.value), (FigureKind::Count, 10_000.0));
        for f in forms {
            assert!(one(f).same(&first), "{f}: {:?}", one(f));
        }
        assert!(!one("3,000 troops").same(&first));
        assert!(!one("three thousand troops").same(&first));
        assert!(one("three thousand troops").same(&one("3,000 soldiers")));
    }

    #[test]
    fn spans_cover_the_written_figure() {
        let s = "Reports suggest about ten thousand soldiers and $2,000 per month.";
        let f = figures(s);
        let written: Vec<&str> = f.iter().map(|f| &s[f.span.clone()]).collect();
        assert_eq!(written, vec!["ten thousand", "$2,000"]);
        let s = "Profits rose 7 per cent to £1.2bn, against 3.5% a year earlier.";
        let written: Vec<&str> = figures(s).iter().map(|f| &s[f.span.clone()]).collect();
        assert_eq!(written, vec!["7 per cent", "£1.2bn", "3.5%"]);
    }

    #[test]
    fn money_percent_years_and_dates() {
        assert_eq!(values("$2,000 a month"), vec![(FigureKind::Money, 2000.0, Some("$"))]);
        assert_eq!(values("over $200 million annually"), vec![(FigureKind::Money, 2e8, Some("$"))]);
        assert_eq!(values("200 million dollars"), vec![(FigureKind::Money, 2e8, Some("$"))]);
        assert!(one("£1.2bn").same(&one("1.2 billion pounds")));
        assert!(!one("£1.2bn").same(&one("$1.2bn")));
        assert!(one("£600m").same(&one("£600 million")));
        assert!(one("£1.2bn").same(&one("£1,200 million")));
        assert_eq!(values("jumped 76% to"), vec![(FigureKind::Percent, 76.0, None)]);
        assert!(one("ten per cent").same(&one("10%")));
        assert_eq!(values("in 2024 the"), vec![(FigureKind::Year, 2024.0, None)]);
        assert_eq!(values("on October 22 and"), vec![(FigureKind::Date, 22.0, Some("oct"))]);
        assert!(one("22 Oct").same(&one("October 22")));
        // Not figures: ordinals, metres without a currency, lone small words.
        assert!(figures("the 3rd round of the 100m final, one of two").is_empty());
        // Big counts keep all their digits.
        assert_eq!(values("an estimated 1,280,000 active"), vec![(FigureKind::Count, 1_280_000.0, None)]);
        assert_eq!(values("three hundred and fifty"), vec![(FigureKind::Count, 350.0, None)]);
        assert_eq!(values("twenty-five"), vec![(FigureKind::Count, 25.0, None)]);
    }

    #[test]
    fn rounded_figures_agree_and_different_ones_do_not() {
        assert!(one("29%").agrees(&one("28.9%")));
        assert!(one("5%").agrees(&one("5.11%")));
        assert!(one("£293,000").agrees(&one("£293,264")));
        assert!(one("ten thousand").agrees(&one("10,000")));
        assert!(!one("25,000").agrees(&one("23,000")));
        assert!(!one("100,000").agrees(&one("94,000")));
        assert!(!one("$1.3667").agrees(&one("$1.3666")));
        assert!(!one("3,000").agrees(&one("10,000")));
        assert!(!one("£30m").agrees(&one("$30m")));
    }

    #[test]
    fn names_are_capitalised_runs() {
        let s = "Secretary of Defense Lloyd Austin said the International Institute for Strategic Studies and \
                 North Korea’s army disagree.";
        assert_eq!(
            names(s),
            vec!["secretary of defense lloyd austin", "international institute for strategic studies", "north korea"]
        );
        // A lone capital opening the text is any sentence's first word.
        assert_eq!(names("Reports from Seoul say so."), vec!["seoul"]);
        assert!(names("The war goes on.").is_empty());
    }

    #[test]
    fn anchor_keys_match_across_spellings() {
        let a = Anchors::of("North Korea sent 10,000 troops to Kursk.");
        let b = Anchors::of("About ten thousand North Korea troops reached Kursk.");
        let shared: Vec<String> = a.figure_keys().into_iter().filter(|k| b.figure_keys().contains(k)).collect();
        assert_eq!(shared.len(), 1, "{shared:?}");
        let names: Vec<&String> = a.names.iter().filter(|n| b.names.contains(n)).collect();
        assert_eq!(names, ["north korea", "kursk"]);
        assert!(a.shares_name(&b));
        assert!(a.has_figure(&b.figures[0]));
    }
}
