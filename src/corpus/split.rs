//! Passage boundaries: paragraphs (the default), sentences, or token
//! windows, always as byte ranges into the document's text.
//!
//! A unit longer than the model can read is never truncated: it is cut into
//! overlapping token windows, and each window is marked `windowed` so that
//! callers can report it. Token positions come from a `TokenSpans`, which
//! every `Embedder` is; the splitter knows nothing of models.

use std::ops::Range;

use super::Passage;
use crate::embed::{EmbedError, Embedder};

/// Where the model's tokens fall in a text.
pub trait TokenSpans {
    /// Byte ranges of the text's tokens, special tokens excluded.
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedError>;
    /// How many content tokens the model reads at once (its maximum minus
    /// the special tokens it adds).
    fn max_content_tokens(&self) -> usize;
}

/// Any embedder can be given to `Splitter::split`, `&dyn Embedder` included.
impl<E: Embedder + ?Sized> TokenSpans for E {
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedError> {
        Embedder::token_spans(self, text)
    }

    fn max_content_tokens(&self) -> usize {
        Embedder::max_content_tokens(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitMode {
    /// One passage per paragraph: a non-blank line, or a hard-wrapped block.
    Paragraph,
    /// One passage per sentence.
    Sentence,
    /// Fixed token windows over the whole document, ignoring layout.
    Window,
}

#[derive(Debug, Clone)]
pub struct Splitter {
    pub mode: SplitMode,
    /// Window length in tokens for `SplitMode::Window` (capped at the model's maximum).
    pub window_tokens: usize,
    /// Tokens shared by consecutive windows.
    pub overlap: usize,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter { mode: SplitMode::Paragraph, window_tokens: 128, overlap: 32 }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot tokenize a passage")]
pub struct SplitError(#[source] EmbedError);

impl Splitter {
    /// Splits one document's text into passages, numbered from 0.
    pub fn split<T: TokenSpans + ?Sized>(
        &self,
        doc: usize,
        text: &str,
        tokens: &T,
    ) -> Result<Vec<Passage>, SplitError> {
        let max = tokens.max_content_tokens().max(1);
        let units: Vec<Range<usize>> = match self.mode {
            SplitMode::Paragraph => paragraphs(text),
            SplitMode::Sentence => paragraphs(text).into_iter().flat_map(|p| sentences(text, p)).collect(),
            SplitMode::Window => std::iter::once(0..text.len()).collect(),
        };
        let window = match self.mode {
            SplitMode::Window => self.window_tokens.clamp(1, max),
            _ => max,
        };
        let mut out = Vec::new();
        for unit in units {
            for (span, windowed) in windows(text, unit, window, self.overlap, tokens)? {
                out.push(Passage {
                    doc,
                    ordinal: out.len(),
                    start: span.start,
                    end: span.end,
                    windowed,
                    text: text[span].to_string(),
                });
            }
        }
        Ok(out)
    }
}

/// Cuts a unit into token windows of at most `size` tokens, sharing
/// `overlap` tokens between neighbours. A unit that fits is returned whole.
/// Bytes tokenized at a time. A tokenizer holds several structures per
/// token, so a 20 MB paragraph tokenized whole took over a gigabyte; in
/// pieces cut at whitespace (where a WordPiece tokenizer splits anyway)
/// the spans are the same and memory stays at one piece.
const TOKENIZE_PIECE: usize = 64 * 1024;

/// Token spans of `text`, tokenized a piece at a time.
fn spans_in_pieces<T: TokenSpans + ?Sized>(text: &str, tokens: &T) -> Result<Vec<(usize, usize)>, SplitError> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + TOKENIZE_PIECE).min(text.len());
        if end < text.len() {
            // Back to the last whitespace of the piece (else a char boundary).
            match text[start..end].rfind(char::is_whitespace) {
                Some(i) if i > 0 => end = start + i,
                _ => {
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                }
            }
        }
        let piece = tokens.token_spans(&text[start..end]).map_err(SplitError)?;
        out.extend(piece.into_iter().map(|(a, b)| (start + a, start + b)));
        start = end;
    }
    Ok(out)
}

fn windows<T: TokenSpans + ?Sized>(
    text: &str,
    unit: Range<usize>,
    size: usize,
    overlap: usize,
    tokens: &T,
) -> Result<Vec<(Range<usize>, bool)>, SplitError> {
    // A WordPiece token covers at least one byte, so a short unit cannot
    // overflow and need not be tokenized here.
    if unit.len() <= size {
        return Ok(vec![(unit, false)]);
    }
    let spans = spans_in_pieces(&text[unit.clone()], tokens)?;
    if spans.len() <= size {
        return Ok(vec![(unit, false)]);
    }
    let stride = size.saturating_sub(overlap.min(size / 2)).max(1);
    let mut out = Vec::new();
    let mut first = 0;
    loop {
        let last = (first + size).min(spans.len()) - 1;
        let start = unit.start + spans[first].0;
        let end = unit.start + spans[last].1;
        out.push((start..end, true));
        if last + 1 == spans.len() {
            break;
        }
        first += stride;
    }
    Ok(out)
}

/// Paragraph ranges, trimmed of surrounding whitespace.
///
/// Every non-blank line is a paragraph (news text often uses single line
/// breaks), except that lines which look hard-wrapped (60-100 characters,
/// followed by another line of the same block that does not start a list
/// item or heading) are joined with the next.
pub fn paragraphs(text: &str) -> Vec<Range<usize>> {
    let mut lines: Vec<Range<usize>> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = trim_range(text, pos..pos + line.len());
        pos += line.len();
        lines.push(trimmed);
    }
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut joining = false;
    for line in lines {
        if line.is_empty() {
            joining = false;
            continue;
        }
        let s = &text[line.clone()];
        match out.last_mut() {
            Some(last) if joining && !starts_block(s) => last.end = line.end,
            _ => out.push(line.clone()),
        }
        let chars = s.chars().count();
        joining = (60..=100).contains(&chars);
    }
    out
}

fn starts_block(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    matches!(first, "-" | "*" | "+" | ">" | "•")
        || first.starts_with('#')
        || (first.ends_with('.') && first[..first.len() - 1].chars().all(|c| c.is_ascii_digit()) && first.len() > 1)
}

fn trim_range(text: &str, r: Range<usize>) -> Range<usize> {
    let s = &text[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    if lead == s.len() {
        return r.start..r.start;
    }
    r.start + lead..r.end - trail
}

/// Words after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "capt", "cmdr", "adm",
    "maj", "jr", "sr", "vs", "etc", "e.g", "i.e", "u.s", "u.k", "u.n", "no", "inc", "ltd", "co", "corp", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "fig", "approx", "est", "dept", "univ",
];

/// Sentence ranges inside `range`, trimmed. A sentence ends at `.`, `!`,
/// `?` or `…` (with any closing quotes or brackets) followed by whitespace
/// and a capital, digit or opening quote, unless the word before the stop
/// is a known abbreviation or a single initial.
pub fn sentences(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let s = &text[range.clone()];
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (_, c) = chars[i];
        if matches!(c, '.' | '!' | '?' | '…') {
            let mut j = i + 1;
            while j < chars.len() && matches!(chars[j].1, '"' | '\'' | '”' | '’' | ')' | ']' | '.' | '!' | '?') {
                j += 1;
            }
            let end = chars.get(j).map(|x| x.0).unwrap_or(s.len());
            let mut k = j;
            while k < chars.len() && chars[k].1.is_whitespace() {
                k += 1;
            }
            let next_starts = k < chars.len()
                && k > j
                && (chars[k].1.is_uppercase()
                    || chars[k].1.is_ascii_digit()
                    || matches!(chars[k].1, '"' | '“' | '‘' | '\'' | '('));
            if next_starts && !(c == '.' && is_abbreviation(&s[start..chars[i].0])) {
                out.push(trim_range(text, range.start + start..range.start + end));
                start = chars[k].0;
                i = k;
                continue;
            }
        }
        i += 1;
    }
    out.push(trim_range(text, range.start + start..range.end));
    out.retain(|r| !r.is_empty());
    out
}

fn is_abbreviation(before: &str) -> bool {
    let word = before.rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
    let lower = word.to_lowercase();
    let single_initial = word.chars().count() == 1 && word.chars().all(|c| c.is_uppercase());
    single_initial || ABBREVIATIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whitespace-separated words as tokens, with a small maximum, so the
    /// windowing can be checked without a model.
    struct Words(usize);
    impl TokenSpans for Words {
        fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedError> {
            Ok(crate::text::whitespace_spans(text))
        }
        fn max_content_tokens(&self) -> usize {
            self.0
        }
    }

    fn texts<'a>(text: &'a str, ps: &[Passage]) -> Vec<&'a str> {
        ps.iter().map(|p| &text[p.span()]).collect()
    }

    #[test]
    fn long_units_are_tokenized_in_pieces_with_the_same_spans() {
        let text: String = (0..40_000).map(|i| format!("wörd{i} ")).collect::<String>() + "end";
        assert!(text.len() > 3 * TOKENIZE_PIECE);
        let whole = crate::text::whitespace_spans(&text);
        assert_eq!(spans_in_pieces(&text, &Words(8)).unwrap(), whole);
        // No whitespace at all: cut at char boundaries, every byte covered once.
        let solid = "é".repeat(100_000);
        let spans = spans_in_pieces(&solid, &Words(8)).unwrap();
        assert_eq!(spans.first().map(|s| s.0), Some(0));
        assert_eq!(spans.last().map(|s| s.1), Some(solid.len()));
        assert!(spans.windows(2).all(|w| w[0].1 == w[1].0));
    }

    #[test]
    fn paragraphs_from_single_and_blank_line_breaks_with_offsets() {
        let text = "  Title line\nFirst para.\n\n\n   \nSecond para. \r\nlast";
        let ps = Splitter::default().split(7, text, &Words(100)).unwrap();
        assert_eq!(texts(text, &ps), vec!["Title line", "First para.", "Second para.", "last"]);
        assert_eq!((ps[0].start, ps[0].end), (2, 12));
        assert!(ps.iter().enumerate().all(|(i, p)| p.ordinal == i && p.doc == 7 && !p.windowed));
    }

    #[test]
    fn offsets_hold_for_multibyte_text() {
        let text = "Ukraine’s border — “quoted”\n\nKraków, Zürich, 東京。 Ünïcödé line";
        let ps = Splitter::default().split(0, text, &Words(100)).unwrap();
        assert_eq!(texts(text, &ps), vec!["Ukraine’s border — “quoted”", "Kraków, Zürich, 東京。 Ünïcödé line"]);
        for p in &ps {
            assert!(text.is_char_boundary(p.start) && text.is_char_boundary(p.end));
        }
        let sentences = Splitter { mode: SplitMode::Sentence, ..Default::default() };
        let text = "Él dijo «hola». Über alles! Ça va? Oui… Fin.";
        let ps = sentences.split(0, text, &Words(100)).unwrap();
        assert_eq!(texts(text, &ps), vec!["Él dijo «hola».", "Über alles!", "Ça va?", "Oui…", "Fin."]);
    }

    #[test]
    fn hard_wrapped_blocks_are_joined_but_lists_are_not() {
        let wrapped = "This paragraph was wrapped by an editor at a fixed column of text\nand continues on this line.\n\n- item one that is long enough to look wrapped at sixty chars\n- item two";
        let ps = Splitter::default().split(0, wrapped, &Words(100)).unwrap();
        assert_eq!(ps.len(), 3, "{:?}", texts(wrapped, &ps));
        assert!(texts(wrapped, &ps)[0].ends_with("this line."));
    }

    #[test]
    fn sentences_respect_abbreviations_and_initials() {
        let text =
            "Mr. Kim met Gen. Park in the U.S. on Monday. J. Smith said 10,000 troops left. \"Really?\" she asked.";
        let s = Splitter { mode: SplitMode::Sentence, ..Default::default() };
        let ps = s.split(0, text, &Words(100)).unwrap();
        assert_eq!(
            texts(text, &ps),
            vec![
                "Mr. Kim met Gen. Park in the U.S. on Monday.",
                "J. Smith said 10,000 troops left.",
                "\"Really?\" she asked."
            ]
        );
    }

    #[test]
    fn long_units_become_overlapping_windows_that_cover_everything() {
        let words: Vec<String> = (0..23).map(|i| format!("w{i}")).collect();
        let text = format!("short one\n{}", words.join(" "));
        let ps = Splitter { overlap: 2, ..Default::default() }.split(0, &text, &Words(10)).unwrap();
        let got = texts(&text, &ps);
        assert_eq!(got[0], "short one");
        assert!(!ps[0].windowed);
        assert_eq!(got[1], "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9");
        assert_eq!(got[2], "w8 w9 w10 w11 w12 w13 w14 w15 w16 w17");
        assert_eq!(got[3], "w16 w17 w18 w19 w20 w21 w22");
        assert_eq!(ps.len(), 4);
        assert!(ps[1..].iter().all(|p| p.windowed));
        // Every token of the long unit lies in some window.
        for w in &words {
            assert!(got[1..].iter().any(|g| g.split(' ').any(|t| t == w)), "{w} lost");
        }
    }

    #[test]
    fn window_mode_ignores_layout() {
        let text = "a b c\n\nd e f\ng h";
        let s = Splitter { mode: SplitMode::Window, window_tokens: 4, overlap: 0 };
        let ps = s.split(0, text, &Words(100)).unwrap();
        assert_eq!(texts(text, &ps), vec!["a b c\n\nd", "e f\ng h"]);
    }

    #[test]
    fn blank_documents_have_no_passages() {
        assert!(Splitter::default().split(0, " \n\t\n", &Words(10)).unwrap().is_empty());
    }
}
