//! Claims: the pieces of a sentence that each say one thing, with byte
//! offsets.
//!
//! A news sentence often carries two or three claims ("While the exact
//! number remains unclear, intelligence estimates suggest approximately
//! 3,000 soldiers have been deployed, with the potential for this number
//! to reach over 10,000 by year's end"), and its vector blends them, so a
//! plain restatement of one of them elsewhere scores low against the whole.
//! `cut` finds the clause boundaries a reader of English news would use:
//!
//! - `;`, `:` and a dash between spaces;
//! - a comma before a connective that opens a new clause (`with`, `while`,
//!   `and`, `but`, `which`, `according to`, …) or before a participle
//!   (`, raising concerns …`);
//! - the comma closing an opening subordinate clause (`While …, …`);
//! - `that` after a reporting verb (`confirmed that …`, `said that …`):
//!   the frame and the reported claim are two pieces;
//! - `and` / `but` without a comma when a capitalised subject follows and
//!   both sides are long (`… in the war and South Korean intelligence
//!   suspects …`).
//!
//! Pieces with too few content words to claim anything (a frame such as
//! "officials said") join the piece after them; a piece still longer than
//! `WINDOW_WORDS` words is also covered by overlapping word windows, so a
//! claim inside a long unpunctuated sentence has a unit of its own size.
//! A sentence that is one piece has no claims: it is its own finest unit.
//! Nothing here reads files or runs a model.

use std::ops::Range;

use crate::text::{words, Word};

/// A piece needs this many content words to stand as a claim.
pub const MIN_CLAIM_CONTENT_WORDS: usize = 3;
/// Pieces longer than this many words are also cut into windows.
pub const WINDOW_WORDS: usize = 24;
/// Step between windows (half a window: every claim of up to half a
/// window's length lies whole inside one).
pub const WINDOW_STEP: usize = WINDOW_WORDS / 2;

/// Words after a comma that open a new clause; the connective itself is
/// left out of the claim when it carries no content (`with`, `while`).
const CLAUSE_CONNECTIVES: &[&str] = &[
    "with",
    "while",
    "whilst",
    "and",
    "but",
    "which",
    "who",
    "whereas",
    "although",
    "though",
    "yet",
    "according",
    "where",
    "because",
    "since",
    "as",
    "amid",
    "despite",
    "after",
    "before",
    "adding",
    "saying",
];

/// Connectives kept inside the claim they open (they name its relation).
const KEPT_CONNECTIVES: &[&str] = &["according", "adding", "saying", "despite", "amid", "after", "before"];

/// Words that open a sentence with a subordinate clause ending at its first comma.
const SUBORDINATORS: &[&str] = &[
    "while", "whilst", "although", "though", "as", "after", "since", "because", "if", "when", "whereas", "despite",
    "unlike", "with", "amid",
];

/// Verbs after which `that` opens reported speech.
const REPORTING_VERBS: &[&str] = &[
    "said",
    "say",
    "says",
    "confirmed",
    "confirm",
    "confirms",
    "suggest",
    "suggests",
    "suggested",
    "suspect",
    "suspects",
    "suspected",
    "believe",
    "believes",
    "believed",
    "reported",
    "reports",
    "announced",
    "announces",
    "warned",
    "warns",
    "claimed",
    "claims",
    "estimated",
    "estimates",
    "added",
    "noted",
    "stated",
    "states",
    "argued",
    "argues",
    "insisted",
    "insists",
    "indicated",
    "indicate",
    "indicates",
    "revealed",
    "reveals",
    "told",
    "showed",
    "shows",
    "show",
    "found",
    "finds",
    "thinks",
    "think",
    "thought",
    "expects",
    "expect",
    "expected",
    "denied",
    "denies",
    "acknowledged",
    "admitted",
    "admits",
    "predicted",
    "predicts",
    "argue",
    "claim",
    "report",
    "announce",
    "warn",
    "note",
    "state",
    "reveal",
    "estimate",
    "agreed",
    "agree",
    "agrees",
    "fear",
    "fears",
    "feared",
    "hope",
    "hopes",
    "hoped",
];

/// The claims of a passage's sentences (`sentences` in document offsets,
/// as `corpus::sentences::passage_sentences` cuts them): each claim's
/// sentence (its position in `sentences`) and its document offsets.
pub fn passage_claims(p: &super::Passage, sentences: &[(usize, usize)]) -> Vec<(usize, (usize, usize))> {
    sentences
        .iter()
        .enumerate()
        .flat_map(|(i, &(s, e))| cut(p.slice((s, e))).into_iter().map(move |r| (i, (s + r.start, s + r.end))))
        .collect()
}

/// Claim ranges of a sentence (byte offsets into `sentence`), in order;
/// empty when the sentence is a single claim. Clause pieces come first,
/// then any windows over long pieces; ranges start and end on words.
pub fn cut(sentence: &str) -> Vec<Range<usize>> {
    let ws = words(sentence);
    if ws.len() < 2 {
        return Vec::new();
    }
    let pieces = merge_short(&ws, clause_pieces(sentence, &ws));
    let mut out: Vec<Range<usize>> = Vec::new();
    for &(a, b) in &pieces {
        out.push(ws[a].start..ws[b - 1].end);
    }
    for &(a, b) in &pieces {
        if b - a > WINDOW_WORDS {
            let mut s = a;
            loop {
                let e = (s + WINDOW_WORDS).min(b);
                out.push(ws[s].start..ws[e - 1].end);
                if e == b {
                    break;
                }
                s += WINDOW_STEP;
            }
        }
    }
    out.dedup();
    if out.len() < 2 || out.iter().all(|r| *r == (ws[0].start..ws[ws.len() - 1].end)) {
        return Vec::new();
    }
    out
}

/// A piece of a sentence as a word range, and whether it is a
/// reported-speech frame ("officials confirmed"), which joins its claim.
#[derive(Clone, Copy)]
struct Piece {
    first: usize,
    past_last: usize,
    frame: bool,
}

/// Clause pieces, before short ones and frames are merged.
fn clause_pieces(text: &str, ws: &[Word]) -> Vec<Piece> {
    let n = ws.len();
    let mut pieces = Vec::new();
    let mut start = 0;
    let opens_subordinate = SUBORDINATORS.contains(&ws[0].norm.as_str());
    let mut first_comma_seen = false;
    let capitalised = |w: &Word| text[w.start..].chars().next().is_some_and(char::is_uppercase);
    for i in 1..n {
        let gap = &text[ws[i - 1].end..ws[i].start];
        let word = ws[i].norm.as_str();
        let comma = gap.contains(',');
        // (cut here, the next piece starts at word i or i + 1)
        let mut cut: Option<usize> = None;
        let mut frame = false;
        let strong = gap.contains(';') || gap.contains(':') || is_spaced_dash(gap);
        if strong || (comma && opens_subordinate && !first_comma_seen) {
            cut = Some(i);
        } else if comma && CLAUSE_CONNECTIVES.contains(&word) {
            cut = Some(if KEPT_CONNECTIVES.contains(&word) { i } else { i + 1 });
        } else if comma && is_participle(word) {
            cut = Some(i);
        } else if gap.trim().is_empty() && word == "that" && REPORTING_VERBS.contains(&ws[i - 1].norm.as_str()) {
            cut = Some(i + 1);
            frame = true;
        } else if gap.trim().is_empty()
            && matches!(word, "and" | "but")
            && i >= 6
            && n - i > 6
            && ws.get(i + 1).is_some_and(capitalised)
        {
            cut = Some(i + 1);
        }
        if comma {
            first_comma_seen = true;
        }
        if let Some(next) = cut {
            if i > start {
                pieces.push(Piece { first: start, past_last: i, frame });
            }
            start = next.min(n);
        }
    }
    if start < n {
        pieces.push(Piece { first: start, past_last: n, frame: false });
    }
    pieces
}

/// A dash between spaces (`—`, `–`, or a hyphen used as one).
fn is_spaced_dash(gap: &str) -> bool {
    let t = gap.trim();
    gap.starts_with(char::is_whitespace) && gap.ends_with(char::is_whitespace) && matches!(t, "—" | "–" | "-" | "--")
}

/// An `-ing` word long enough not to be `thing`, `king`, `during`, …
fn is_participle(w: &str) -> bool {
    w.len() > 6
        && w.ends_with("ing")
        && !matches!(w, "something" | "anything" | "everything" | "nothing" | "morning" | "evening")
}

/// Joins frames and pieces with fewer than `MIN_CLAIM_CONTENT_WORDS`
/// content words to the piece after them (the last to the one before),
/// spanning the gap; returns word ranges `(first, past_last)`.
fn merge_short(ws: &[Word], pieces: Vec<Piece>) -> Vec<(usize, usize)> {
    let content = |(a, b): (usize, usize)| ws[a..b].iter().filter(|w| w.content).count();
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut pending: Option<usize> = None;
    for p in pieces {
        let range = (pending.take().unwrap_or(p.first), p.past_last);
        if p.frame || content(range) < MIN_CLAIM_CONTENT_WORDS {
            pending = Some(range.0);
        } else {
            out.push(range);
        }
    }
    if let Some(a) = pending {
        match out.last_mut() {
            Some(last) => last.1 = ws.len().max(last.1),
            None => out.push((a, ws.len())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<&str> {
        cut(s).into_iter().map(|r| &s[r]).collect()
    }

    #[test]
    fn a_three_claim_sentence_is_cut_at_its_clauses() {
        let s = "While the exact number and roles of these troops remain unclear, South Korean intelligence \
                 estimates suggest approximately 3,000 North Korean soldiers have been deployed, with the \
                 potential for this number to reach over 10,000 by year’s end.";
        assert_eq!(
            texts(s),
            vec![
                "While the exact number and roles of these troops remain unclear",
                "South Korean intelligence estimates suggest approximately 3,000 North Korean soldiers have been deployed",
                "the potential for this number to reach over 10,000 by year’s end",
            ]
        );
    }

    #[test]
    fn reported_speech_and_a_joined_clause() {
        let s = "The USA has confirmed that 3,000 North Korean troops have been deployed in the Russia-Ukraine \
                 war and South Korean intelligence suspects that 10,000 more will be deployed in December.";
        // The frames ("The USA has confirmed", "South Korean intelligence
        // suspects") are too short to stand alone and join their claims.
        assert_eq!(
            texts(s),
            vec![
                "The USA has confirmed that 3,000 North Korean troops have been deployed in the Russia-Ukraine war",
                "South Korean intelligence suspects that 10,000 more will be deployed in December",
            ]
        );
    }

    #[test]
    fn one_claim_sentences_have_no_claims() {
        assert!(cut("The Pentagon confirmed the deployment on Monday.").is_empty());
        assert!(cut("Officials said that it rained.").is_empty());
        assert!(cut("").is_empty());
        assert!(cut("Yes.").is_empty());
    }

    #[test]
    fn offsets_are_on_words_and_char_boundaries_in_multibyte_text() {
        let s = "Der Bürgermeister sagte: „Die Brücke über die Elbe wird gesperrt“; die Straßenbahn fährt \
                 weiter, während Fußgänger ausweichen müssen.";
        let claims = cut(s);
        assert!(claims.len() >= 2, "{:?}", texts(s));
        for r in &claims {
            assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
            let piece = &s[r.clone()];
            assert_eq!(piece.trim(), piece);
            assert!(piece.chars().next().unwrap().is_alphanumeric(), "{piece:?}");
            assert!(piece.chars().last().unwrap().is_alphanumeric(), "{piece:?}");
        }
        assert!(texts(s).contains(&"Die Brücke über die Elbe wird gesperrt"), "{:?}", texts(s));
    }

    #[test]
    fn long_unpunctuated_sentences_get_overlapping_windows() {
        let words: Vec<String> = (0..60).map(|i| format!("word{i}")).collect();
        let s = words.join(" ");
        let claims = cut(&s);
        // One piece of 60 words: itself, then windows of 24 every 12 words.
        assert_eq!(claims[0], 0..s.len());
        let windows: Vec<&str> = claims[1..].iter().map(|r| &s[r.clone()]).collect();
        assert_eq!(windows.len(), 4);
        assert!(windows[0].starts_with("word0 ") && windows[0].ends_with(" word23"));
        assert!(windows[1].starts_with("word12 ") && windows[1].ends_with(" word35"));
        assert!(windows[3].starts_with("word36 ") && windows[3].ends_with(" word59"));
        assert!(claims.iter().all(|r| r.end <= s.len()));
    }

    #[test]
    fn noun_phrases_joined_by_and_stay_whole() {
        assert!(cut("Russia and North Korea signed a mutual defence agreement in June.").is_empty());
        assert!(cut(
            "The deepening cooperation between Russia and North Korea holds the potential to escalate the conflict."
        )
        .is_empty());
    }
}
