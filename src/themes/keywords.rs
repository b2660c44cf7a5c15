//! Keywords of groups of passages by class-based TF-IDF (c-TF-IDF, as in
//! BERTopic): each group's passages are one "class document"; a term's
//! weight in a class is its frequency in that class (normalised by the
//! class's length) times `ln(1 + A / f)`, where `A` is the mean number of
//! terms per class and `f` the term's frequency over all classes. Terms
//! frequent everywhere sink; terms frequent in one group rise.
//!
//! Owns tokenising (lower-cased runs of letters and digits of two or more
//! characters, apostrophes inside words kept, possessive 's dropped), the
//! English stop-word list, and bigrams: two adjacent words in the text,
//! neither a stop word. Terms must occur in at least two passages when the
//! corpus has ten or more, so that one passage's quirks are not keywords.

use std::collections::{HashMap, HashSet};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum KeywordError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// scikit-learn's English stop words (Glasgow list), plus a few clitics
/// that the tokeniser leaves behind.
pub const ENGLISH_STOP_WORDS: &[&str] = &[
    "a", "about", "above", "across", "after", "afterwards", "again", "against", "all", "almost", "alone",
    "along", "already", "also", "although", "always", "am", "among", "amongst", "amoungst", "amount", "an",
    "and", "another", "any", "anyhow", "anyone", "anything", "anyway", "anywhere", "are", "around", "as", "at",
    "back", "be", "became", "because", "become", "becomes", "becoming", "been", "before", "beforehand",
    "behind", "being", "below", "beside", "besides", "between", "beyond", "bill", "both", "bottom", "but", "by",
    "call", "can", "cannot", "cant", "co", "con", "could", "couldnt", "cry", "de", "describe", "detail", "do",
    "done", "down", "due", "during", "each", "eg", "eight", "either", "eleven", "else", "elsewhere", "empty",
    "enough", "etc", "even", "ever", "every", "everyone", "everything", "everywhere", "except", "few",
    "fifteen", "fifty", "fill", "find", "fire", "first", "five", "for", "former", "formerly", "forty", "found",
    "four", "from", "front", "full", "further", "get", "give", "go", "had", "has", "hasnt", "have", "he",
    "hence", "her", "here", "hereafter", "hereby", "herein", "hereupon", "hers", "herself", "him", "himself",
    "his", "how", "however", "hundred", "i", "ie", "if", "in", "inc", "indeed", "interest", "into", "is", "it",
    "its", "itself", "keep", "last", "latter", "latterly", "least", "less", "ltd", "made", "many", "may", "me",
    "meanwhile", "might", "mill", "mine", "more", "moreover", "most", "mostly", "move", "much", "must", "my",
    "myself", "name", "namely", "neither", "never", "nevertheless", "next", "nine", "no", "nobody", "none",
    "noone", "nor", "not", "nothing", "now", "nowhere", "of", "off", "often", "on", "once", "one", "only",
    "onto", "or", "other", "others", "otherwise", "our", "ours", "ourselves", "out", "over", "own", "part",
    "per", "perhaps", "please", "put", "rather", "re", "same", "see", "seem", "seemed", "seeming", "seems",
    "serious", "several", "she", "should", "show", "side", "since", "sincere", "six", "sixty", "so", "some",
    "somehow", "someone", "something", "sometime", "sometimes", "somewhere", "still", "such", "system", "take",
    "ten", "than", "that", "the", "their", "them", "themselves", "then", "thence", "there", "thereafter",
    "thereby", "therefore", "therein", "thereupon", "these", "they", "thick", "thin", "third", "this", "those",
    "though", "three", "through", "throughout", "thru", "thus", "to", "together", "too", "top", "toward",
    "towards", "twelve", "twenty", "two", "un", "under", "until", "up", "upon", "us", "very", "via", "was",
    "we", "well", "were", "what", "whatever", "when", "whence", "whenever", "where", "whereafter", "whereas",
    "whereby", "wherein", "whereupon", "wherever", "whether", "which", "while", "whither", "who", "whoever",
    "whole", "whom", "whose", "why", "will", "with", "within", "without", "would", "yet", "you", "your",
    "yours", "yourself", "yourselves", "said", "says", "say", "just", "like", "don't", "doesn't", "didn't",
    "isn't", "aren't", "wasn't", "weren't", "won't", "can't", "it's", "i'm", "we're", "they're", "you're",
    "he's", "she's", "that's", "there's", "i've", "we've", "they've", "i'd", "we'll", "i'll", "mr", "mrs", "ms",
];

/// A set of words left out of keywords.
#[derive(Debug, Clone)]
pub struct StopWords(HashSet<String>);

impl Default for StopWords {
    fn default() -> Self {
        StopWords(ENGLISH_STOP_WORDS.iter().map(|s| s.to_string()).collect())
    }
}

impl StopWords {
    pub fn contains(&self, word: &str) -> bool {
        self.0.contains(word)
    }

    pub fn add(&mut self, word: &str) {
        let w = word.trim().to_lowercase();
        if !w.is_empty() {
            self.0.insert(w);
        }
    }

    /// Adds the words of a file: whitespace or comma separated, `#` starts a comment.
    pub fn extend_from_file(&mut self, path: &Path) -> Result<(), KeywordError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| KeywordError::Io { path: path.display().to_string(), source })?;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            for word in line.split(|c: char| c.is_whitespace() || c == ',') {
                self.add(word);
            }
        }
        Ok(())
    }
}

/// Lower-cased words of a text, with a flag per word saying whether it
/// follows the previous one directly (only spaces between): bigrams are
/// formed only across such gaps, never across punctuation.
pub fn words(text: &str) -> Vec<(String, bool)> {
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
        let inner_apostrophe = c == '\''
            && !current.is_empty()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
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

/// The terms of one passage: unigrams and bigrams without stop words.
pub fn terms(text: &str, stop: &StopWords) -> Vec<String> {
    let ws = words(text);
    let mut out = Vec::with_capacity(ws.len() * 2);
    for (i, (w, adjacent)) in ws.iter().enumerate() {
        let keep = |w: &str| !stop.contains(w) && !w.chars().all(|c| c.is_ascii_digit() && w.len() < 3);
        if !keep(w) {
            continue;
        }
        out.push(w.clone());
        if *adjacent && i > 0 && keep(&ws[i - 1].0) {
            out.push(format!("{} {}", ws[i - 1].0, w));
        }
    }
    out
}

/// A keyword and its c-TF-IDF weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyword {
    pub term: String,
    pub score: f64,
}

/// The top `top` keywords of each class. `classes[i]` is passage i's
/// class (`None`: counted in the corpus, never a class of its own —
/// outliers); classes are `0..count`.
pub fn class_keywords(
    texts: &[&str],
    classes: &[Option<usize>],
    count: usize,
    stop: &StopWords,
    top: usize,
) -> Vec<Vec<Keyword>> {
    let min_df = if texts.len() >= 10 { 2 } else { 1 };
    let mut vocab: HashMap<String, usize> = HashMap::new();
    let mut df: Vec<usize> = Vec::new();
    let mut passage_terms: Vec<Vec<usize>> = Vec::with_capacity(texts.len());
    for text in texts {
        let mut ids: Vec<usize> = terms(text, stop)
            .into_iter()
            .map(|t| {
                let next = vocab.len();
                let id = *vocab.entry(t).or_insert(next);
                if id == df.len() {
                    df.push(0);
                }
                id
            })
            .collect();
        let mut seen = ids.clone();
        seen.sort_unstable();
        seen.dedup();
        for &id in &seen {
            df[id] += 1;
        }
        ids.shrink_to_fit();
        passage_terms.push(ids);
    }
    let mut names = vec![String::new(); vocab.len()];
    for (t, id) in vocab {
        names[id] = t;
    }
    // Outliers form one more class, as in BERTopic, so frequencies cover the corpus.
    let classes_all = count + 1;
    let mut tf: Vec<HashMap<usize, f64>> = vec![HashMap::new(); classes_all];
    for (ids, class) in passage_terms.iter().zip(classes) {
        let c = class.unwrap_or(count);
        for &id in ids {
            if df[id] >= min_df {
                *tf[c].entry(id).or_insert(0.0) += 1.0;
            }
        }
    }
    let mut freq = vec![0.0f64; names.len()];
    let mut class_len = vec![0.0f64; classes_all];
    for (c, m) in tf.iter().enumerate() {
        for (&id, &x) in m {
            freq[id] += x;
            class_len[c] += x;
        }
    }
    let used = class_len.iter().filter(|&&l| l > 0.0).count().max(1);
    let avg = class_len.iter().sum::<f64>() / used as f64;
    (0..count)
        .map(|c| {
            let len = class_len[c].max(1.0);
            let mut scored: Vec<Keyword> = tf[c]
                .iter()
                .map(|(&id, &x)| Keyword { term: names[id].clone(), score: (x / len).sqrt() * (1.0 + avg / freq[id]).ln() })
                .collect();
            scored.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.term.cmp(&b.term)));
            scored.truncate(top);
            scored
        })
        .collect()
}

/// A short label from the top keywords: the first three, skipping a word
/// already inside an earlier bigram (and a bigram whose words were both shown).
pub fn label(keywords: &[Keyword]) -> String {
    let mut shown: Vec<&str> = Vec::new();
    for k in keywords {
        let parts: Vec<&str> = k.term.split(' ').collect();
        let covered = |w: &str| shown.iter().any(|s| s.split(' ').any(|x| x == w));
        if parts.iter().all(|p| covered(p)) {
            continue;
        }
        shown.push(&k.term);
        if shown.len() == 3 {
            break;
        }
    }
    shown.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_inner_apostrophes_and_mark_gaps() {
        let w = words("North Korea's troops, the U.S. army; rock'n'roll 28,500 men.");
        let just: Vec<&str> = w.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(just, ["north", "korea", "troops", "the", "army", "rock'n'roll", "28,500", "men"]);
        let adj: Vec<bool> = w.iter().map(|x| x.1).collect();
        assert_eq!(adj, [false, true, true, false, false, false, true, true]);
    }

    #[test]
    fn bigrams_skip_stop_words_and_punctuation() {
        let stop = StopWords::default();
        let t = terms("The North Korean troops arrived. Troops left the base", &stop);
        assert!(t.contains(&"north korean".to_string()));
        assert!(t.contains(&"korean troops".to_string()));
        assert!(!t.iter().any(|x| x == "arrived troops"), "{t:?}");
        assert!(!t.iter().any(|x| x.contains("the")), "{t:?}");
    }

    #[test]
    fn class_terms_rise_above_shared_ones() {
        let texts = [
            "troops deployed to the front, troops in Kursk",
            "more troops deployed near Kursk",
            "missile technology transfer and missile tests",
            "missile technology for the regime",
            "the war goes on",
            "the war goes on, and the war tests everyone",
        ];
        let classes = [Some(0), Some(0), Some(1), Some(1), None, None];
        let kw = class_keywords(&texts, &classes, 2, &StopWords::default(), 5);
        assert_eq!(kw[0][0].term, "troops", "{:?}", kw[0]);
        assert!(kw[0].iter().any(|k| k.term == "kursk"));
        // "tests" also occurs outside the group, "missile" does not.
        assert_eq!(kw[1][0].term, "missile", "{:?}", kw[1]);
        assert!(!kw[1].iter().any(|k| k.term == "tests"), "{:?}", kw[1]);
        assert!(kw[1].iter().any(|k| k.term == "missile technology"), "{:?}", kw[1]);
        assert!(!kw[0].iter().any(|k| k.term == "war"), "{:?}", kw[0]);
    }

    #[test]
    fn extra_stop_words_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("stop.txt");
        std::fs::write(&f, "# mine\nKursk, troops\n").unwrap();
        let mut stop = StopWords::default();
        stop.extend_from_file(&f).unwrap();
        assert!(stop.contains("kursk") && stop.contains("troops") && stop.contains("the"));
        let err = stop.extend_from_file(&dir.path().join("missing.txt")).unwrap_err();
        assert!(err.to_string().contains("missing.txt"));
    }

    #[test]
    fn labels_avoid_repeating_words() {
        let kw = |t: &str| Keyword { term: t.into(), score: 1.0 };
        assert_eq!(label(&[kw("north korea"), kw("korea"), kw("troops"), kw("kursk"), kw("x")]), "north korea · troops · kursk");
    }
}
