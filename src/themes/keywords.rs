//! Keywords of groups of passages by class-based TF-IDF (c-TF-IDF, as in
//! BERTopic): each group's passages are one "class document"; a term's
//! weight in a class is its frequency in that class (normalised by the
//! class's length) times `ln(1 + A / f)`, where `A` is the mean number of
//! terms per class and `f` the term's frequency over all classes. Terms
//! frequent everywhere sink; terms frequent in one group rise.
//!
//! Owns terms and their weights: unigrams, and bigrams (two adjacent words
//! in the text, neither a stop word), over the words of
//! `crate::text::keyword_words` (re-exported here as `words`) minus a
//! `StopWords` set, by default `crate::text::ENGLISH_STOP_WORDS`. Terms
//! must occur in at least two passages when the corpus has ten or more, so
//! that one passage's quirks are not keywords.

use std::collections::{HashMap, HashSet};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum KeywordError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

pub use crate::text::{keyword_words as words, ENGLISH_STOP_WORDS};

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
                .map(|(&id, &x)| Keyword {
                    term: names[id].clone(),
                    score: (x / len).sqrt() * (1.0 + avg / freq[id]).ln(),
                })
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
        assert_eq!(
            label(&[kw("north korea"), kw("korea"), kw("troops"), kw("kursk"), kw("x")]),
            "north korea · troops · kursk"
        );
    }
}
