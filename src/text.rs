//! Words of a text, and the stop-word lists that say which words carry no
//! topic.
//!
//! This module owns both tokenisers and both stop lists:
//!
//! - `words` gives each word its byte range, a normalised form (lower case,
//!   thousands separators and possessive `'s` dropped), a light plural stem
//!   and whether it is a content word (not in `FUNCTION_WORDS`). The lexical
//!   side of overlaps (`align`, `overlaps`) and the content-word minimum of
//!   themes work on these.
//! - `keyword_words` gives lower-cased words of two or more characters, each
//!   flagged when it follows the previous one across spaces only, so that
//!   `keywords` forms bigrams within a phrase and never across punctuation.
//!   Its stop list is `ENGLISH_STOP_WORDS`.
//!
//! The two tokenisers differ in small ways (`words` keeps one-letter words
//! and writes `10,000` as `10000`; `keyword_words` keeps `10,000` and drops
//! trailing apostrophes), and the figures built on them (the calibrated
//! overlap threshold, the keywords of themes) depend on those details, so
//! they stay two. Nothing here reads files or runs a model.

use std::collections::HashSet;
use std::sync::OnceLock;

// Two stop lists, because they serve two purposes and neither contains the
// other. `FUNCTION_WORDS` (135 words) are the words that say nothing about
// what a sentence claims: they are left out of the lexical similarity, which
// was calibrated with exactly this list. `ENGLISH_STOP_WORDS` (350 words) is
// scikit-learn's list for keyword extraction, which also drops frequent
// content-poor words (`first`, `found`, `system`, numbers in words). 128
// words are in both; 7 function words are not in scikit-learn's list
// (`did`, `does`, `doing`, `having`, `theirs`, `s`, `t`), and 222 of its
// words are not function words. Each shared word is written once, in
// `SHARED_STOP_WORDS`, and each list is that part joined with its own.

/// The words in both stop lists: scikit-learn's function words, and `said`,
/// `says`, `just`, which motif adds to both.
#[rustfmt::skip]
const SHARED_STOP_WORDS: &[&str] = &[

    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",

    "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "do",

    "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "he", "her", "here", "hers",

    "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "may", "me",

    "might", "more", "most", "must", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only",

    "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such",

    "than", "that", "the", "their", "them", "themselves", "then", "there", "these", "they", "this", "those",

    "through", "to", "too", "under", "until", "up", "us", "very", "was", "we", "were", "what", "when", "where",

    "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",

    "yourselves", "said", "says", "just",
];

/// Function words that scikit-learn's list lacks.
const ONLY_FUNCTION_WORDS: &[&str] = &["did", "does", "doing", "having", "theirs", "s", "t"];

/// The rest of scikit-learn's English stop words (Glasgow list), then words
/// motif adds for keywords: reporting verbs, fillers, the clitic forms the
/// keyword tokeniser leaves whole, and titles.
#[rustfmt::skip]
const ONLY_KEYWORD_STOP_WORDS: &[&str] = &[

    "across", "afterwards", "almost", "alone", "along", "already", "although", "always", "among", "amongst",

    "amoungst", "amount", "another", "anyhow", "anyone", "anything", "anyway", "anywhere", "around", "back",

    "became", "become", "becomes", "becoming", "beforehand", "behind", "beside", "besides", "beyond", "bill",

    "bottom", "call", "cannot", "cant", "co", "con", "couldnt", "cry", "de", "describe", "detail", "done", "due",

    "eg", "eight", "either", "eleven", "else", "elsewhere", "empty", "enough", "etc", "even", "ever", "every",

    "everyone", "everything", "everywhere", "except", "fifteen", "fifty", "fill", "find", "fire", "first", "five",

    "former", "formerly", "forty", "found", "four", "front", "full", "get", "give", "go", "hasnt", "hence",

    "hereafter", "hereby", "herein", "hereupon", "however", "hundred", "ie", "inc", "indeed", "interest", "keep",

    "last", "latter", "latterly", "least", "less", "ltd", "made", "many", "meanwhile", "mill", "mine", "moreover",

    "mostly", "move", "much", "name", "namely", "neither", "never", "nevertheless", "next", "nine", "nobody", "none",

    "noone", "nothing", "nowhere", "often", "one", "onto", "others", "otherwise", "part", "per", "perhaps", "please",

    "put", "rather", "re", "see", "seem", "seemed", "seeming", "seems", "serious", "several", "show", "side",

    "since", "sincere", "six", "sixty", "somehow", "someone", "something", "sometime", "sometimes", "somewhere",

    "still", "system", "take", "ten", "thence", "thereafter", "thereby", "therefore", "therein", "thereupon",

    "thick", "thin", "third", "though", "three", "throughout", "thru", "thus", "together", "top", "toward",

    "towards", "twelve", "twenty", "two", "un", "upon", "via", "well", "whatever", "whence", "whenever",

    "whereafter", "whereas", "whereby", "wherein", "whereupon", "wherever", "whether", "whither", "whoever", "whole",

    "whose", "within", "without", "yet", "say", "like", "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't",

    "weren't", "won't", "can't", "it's", "i'm", "we're", "they're", "you're", "he's", "she's", "that's", "there's",

    "i've", "we've", "they've", "i'd", "we'll", "i'll", "mr", "mrs", "ms",
];

/// Function words, left out of the lexical similarity and never marked alone.
pub const FUNCTION_WORDS: &[&str] =
    &concat::<{ SHARED_STOP_WORDS.len() + ONLY_FUNCTION_WORDS.len() }>(SHARED_STOP_WORDS, ONLY_FUNCTION_WORDS);

/// scikit-learn's English stop words (Glasgow list), plus a few reporting
/// verbs, clitics that `keyword_words` leaves behind, and titles: the
/// default stop list of keyword extraction.
pub const ENGLISH_STOP_WORDS: &[&str] =
    &concat::<{ SHARED_STOP_WORDS.len() + ONLY_KEYWORD_STOP_WORDS.len() }>(SHARED_STOP_WORDS, ONLY_KEYWORD_STOP_WORDS);

/// `a` followed by `b`, at compile time (a wrong `N` fails the build).
const fn concat<const N: usize>(a: &[&'static str], b: &[&'static str]) -> [&'static str; N] {
    assert!(a.len() + b.len() == N);
    let mut out = [""; N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - a.len()];
        i += 1;
    }
    out
}

/// Whether a normalised word is in `FUNCTION_WORDS`.
pub fn is_function_word(w: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| FUNCTION_WORDS.iter().copied().collect()).contains(w)
}

/// A word of a text: its byte range there, its normalised form (lower case,
/// thousands separators and possessive `'s` dropped) and a light stem of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub norm: String,
    pub stem: String,
    /// False for the function words in `FUNCTION_WORDS`.
    pub content: bool,
}

/// The writing system of a text's letters, as far as telling languages
/// apart needs: two texts in different scripts share no words by
/// construction, so shared wording is no evidence either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    Latin,
    Greek,
    Cyrillic,
    Armenian,
    Hebrew,
    Arabic,
    Indic,
    Thai,
    Georgian,
    Hangul,
    /// Han, Hiragana and Katakana: Chinese and Japanese.
    Cjk,
}

/// The script of a letter; None for digits, punctuation and the rest.
fn script_of_char(c: char) -> Option<Script> {
    let u = c as u32;
    Some(match u {
        0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
        0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
        0x400..=0x52F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Script::Cyrillic,
        0x530..=0x58F => Script::Armenian,
        0x590..=0x5FF => Script::Hebrew,
        0x600..=0x6FF | 0x750..=0x77F | 0x8A0..=0x8FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => Script::Arabic,
        0x900..=0xDFF => Script::Indic,
        0xE00..=0xE7F => Script::Thai,
        0x10A0..=0x10FF => Script::Georgian,
        0x1100..=0x11FF | 0xAC00..=0xD7AF | 0x3130..=0x318F => Script::Hangul,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF => Script::Cjk,
        _ => return None,
    })
}

/// The script most of the text's letters are in; None without letters
/// (a number, a symbol) or when no script holds most of them.
pub fn script(text: &str) -> Option<Script> {
    let mut counts: Vec<(Script, usize)> = Vec::new();
    let mut letters = 0;
    for s in text.chars().filter_map(script_of_char) {
        letters += 1;
        match counts.iter_mut().find(|(k, _)| *k == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((s, 1)),
        }
    }
    counts.into_iter().max_by_key(|&(_, n)| n).filter(|&(_, n)| 2 * n > letters).map(|(s, _)| s)
}

/// True when both texts have a script and they differ: a translation
/// or a report in another language, never a copy.
pub fn scripts_differ(a: Option<Script>, b: Option<Script>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a != b)
}

/// The words of `text`: runs of letters and digits. An apostrophe between
/// letters stays inside a word (`don't`), a comma or point between digits
/// too (`10,000`, `3.5`); hyphens and other punctuation separate words, so
/// `Jong-un` matches `Jong Un`.
pub fn words(text: &str) -> Vec<Word> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].1.is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = chars[i].0;
        let mut j = i + 1;
        while j < chars.len() {
            let c = chars[j].1;
            if c.is_alphanumeric() {
                j += 1;
                continue;
            }
            let prev = chars[j - 1].1;
            let next = chars.get(j + 1).map(|x| x.1);
            let joins = match c {
                '\'' | '’' => prev.is_alphabetic() && next.is_some_and(|n| n.is_alphabetic()),
                ',' | '.' => prev.is_ascii_digit() && next.is_some_and(|n| n.is_ascii_digit()),
                _ => false,
            };
            if !joins {
                break;
            }
            j += 1;
        }
        let end = chars.get(j).map(|x| x.0).unwrap_or(text.len());
        let norm = normalise(&text[start..end]);
        let content = !is_function_word(&norm);
        let stem = stem(&norm);
        out.push(Word { start, end, norm, stem, content });
        i = j;
    }
    out
}

fn normalise(word: &str) -> String {
    let mut w: String = word.chars().map(|c| if c == '’' { '\'' } else { c }).flat_map(char::to_lowercase).collect();
    if w.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        // 10,000 and 10000 are the same number.
        w.retain(|c| c != ',');
    }
    if let Some(base) = w.strip_suffix("'s") {
        w = base.to_string();
    }
    w
}

/// A light plural stemmer (Harman's "S" stemmer), so `troops` matches
/// `troop` and `forces` matches `force` without conflating other words.
fn stem(w: &str) -> String {
    if w.len() > 4 && w.ends_with("ies") && !w.ends_with("eies") && !w.ends_with("aies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    if w.len() > 3 && w.ends_with("es") && !(w.ends_with("aes") || w.ends_with("ees") || w.ends_with("oes")) {
        return w[..w.len() - 1].to_string();
    }
    if w.len() > 3 && w.ends_with('s') && !(w.ends_with("us") || w.ends_with("ss")) {
        return w[..w.len() - 1].to_string();
    }
    w.to_string()
}

/// Whether a text is a title: a line without a closing stop whose content
/// words are all capitalised but at most one ("Russia’s Strategic Goals",
/// "North Korean Troops in Russia: Confirmation and Implications"). A
/// title names a topic and makes no claim; a headline in sentence case
/// ("Ad sales boost Time Warner profit") is not one.
pub fn is_title(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() || t.contains('\n') || t.ends_with(['.', '!', '?', '…', '"', '”', '\'', '’', ')']) {
        return false;
    }
    let content: Vec<Word> = words(t).into_iter().filter(|w| w.content).collect();
    let lower = content.iter().filter(|w| !t[w.start..].starts_with(|c: char| c.is_uppercase())).count();
    content.len() >= 2 && lower <= 1 && content.len() > 2 * lower
}

/// How many content words a text has (units with too few say no claim).
pub fn content_words(text: &str) -> usize {
    words(text).iter().filter(|w| w.content).count()
}

/// The words keyword extraction counts: lower-cased runs of letters and
/// digits of two or more characters (apostrophes inside words kept,
/// possessive `'s` dropped), with a flag per word saying whether it
/// follows the previous one directly (only spaces between): bigrams are
/// formed only across such gaps, never across punctuation.
pub fn keyword_words(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut adjacent = false;
    let mut gap_clean = true;
    let chars: Vec<char> = text.chars().collect();
    let flush = |current: &mut String, out: &mut Vec<(String, bool)>, adjacent: bool| {
        let mut w = std::mem::take(current);
        while w.ends_with('\'') {
            w.pop();
        }
        if let Some(stem) = w.strip_suffix("'s") {
            w = stem.to_string();
        }
        if w.chars().count() >= 2 {
            out.push((w, adjacent));
            true
        } else {
            false
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        let c = if c == '\u{2019}' { '\'' } else { c };
        let inner_apostrophe =
            c == '\'' && !current.is_empty() && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        // 28,500 and 1.5 stay one word.
        let inner_separator = (c == ',' || c == '.')
            && current.ends_with(|p: char| p.is_ascii_digit())
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c.is_alphanumeric() || inner_apostrophe || inner_separator {
            if current.is_empty() {
                adjacent = gap_clean && !out.is_empty();
            }
            current.extend(c.to_lowercase());
        } else {
            if !current.is_empty() {
                let pushed = flush(&mut current, &mut out, adjacent);
                gap_clean = pushed;
            }
            if !(c == ' ' || c == '\t') {
                gap_clean = false;
            }
        }
    }
    if !current.is_empty() {
        flush(&mut current, &mut out, adjacent);
    }
    out
}

/// Byte ranges of the whitespace-separated words of `text`: the tokens of
/// the hashing embedder (and of tests that need tokens without a model).
pub fn whitespace_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_capitalised_lines_without_a_stop() {
        assert!(is_title("Russia’s Strategic Goals"));
        assert!(is_title("North Korean Troops in Russia: Confirmation and Implications"));
        assert!(is_title("Increased Tensions and the West’s Response"));
        assert!(!is_title("Ad sales boost Time Warner profit"));
        assert!(!is_title("North Korea Sent Troops."));
        assert!(!is_title("Kursk"));
        assert!(!is_title("The involvement of North Korean troops in Ukraine is more than a military challenge"));
    }

    #[test]
    fn scripts_are_told_apart_by_most_letters() {
        assert_eq!(script("North Korea sent 10,000 troops"), Some(Script::Latin));
        assert_eq!(script("Les élèves über-motivés"), Some(Script::Latin));
        assert_eq!(script("Северная Корея направила 10 000 военных в Курск (Kursk)"), Some(Script::Cyrillic));
        assert_eq!(script("北京是中华人民共和国的首都。"), Some(Script::Cjk));
        assert_eq!(script("القاهرة هي عاصمة مصر"), Some(Script::Arabic));
        assert_eq!(script("10,000 — 3.5 %"), None);
        assert!(scripts_differ(script("troops"), script("военные")));
        assert!(!scripts_differ(script("troops"), script("troupes")));
        assert!(!scripts_differ(script("troops"), script("10,000")), "no script is no evidence");
    }

    fn norms(text: &str) -> Vec<String> {
        words(text).into_iter().map(|w| w.norm).collect()
    }

    #[test]
    fn words_keep_offsets_numbers_and_apostrophes() {
        let text = "Korea’s 10,000 troops — don't (Kim Jong-un) 3.5x.";
        let ws = words(text);
        assert_eq!(norms(text), vec!["korea", "10000", "troops", "don't", "kim", "jong", "un", "3.5x"]);
        for w in &ws {
            assert!(text.is_char_boundary(w.start) && text.is_char_boundary(w.end));
        }
        assert_eq!(&text[ws[0].start..ws[0].end], "Korea’s");
        assert_eq!(&text[ws[1].start..ws[1].end], "10,000");
        assert_eq!(ws[2].stem, "troop");
        assert!(!words("the of and").iter().any(|w| w.content));
    }

    #[test]
    fn content_words_skip_function_words() {
        assert_eq!(content_words("The troops of the North did not leave"), 3);
        assert_eq!(content_words(""), 0);
        assert!(is_function_word("theirs") && is_function_word("s") && !is_function_word("troops"));
    }

    #[test]
    fn keyword_words_keep_inner_apostrophes_and_mark_gaps() {
        let w = keyword_words("North Korea's troops, the U.S. army; rock'n'roll 28,500 men.");
        let just: Vec<&str> = w.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(just, ["north", "korea", "troops", "the", "army", "rock'n'roll", "28,500", "men"]);
        let adj: Vec<bool> = w.iter().map(|x| x.1).collect();
        assert_eq!(adj, [false, true, true, false, false, false, true, true]);
    }

    fn set(words: &[&'static str]) -> HashSet<&'static str> {
        words.iter().copied().collect()
    }

    #[test]
    fn stop_lists_are_composed_without_repeats() {
        // The sizes of the two lists before they shared their common words
        // (checked word by word when they were composed).
        // No word is written twice, so the parts are disjoint.
        assert_eq!(FUNCTION_WORDS.len(), set(FUNCTION_WORDS).len());
        assert_eq!(ENGLISH_STOP_WORDS.len(), set(ENGLISH_STOP_WORDS).len());
        assert_eq!((FUNCTION_WORDS.len(), ENGLISH_STOP_WORDS.len()), (135, 350));
        assert!(set(ONLY_FUNCTION_WORDS).is_disjoint(&set(ENGLISH_STOP_WORDS)));
        assert!(set(ONLY_KEYWORD_STOP_WORDS).is_disjoint(&set(FUNCTION_WORDS)));
    }
}
