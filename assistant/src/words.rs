//! Words of the user's sentence, and matching word patterns against them.

/// One word of the input: where it is, and its lowercase form without
/// surrounding punctuation (what the patterns compare).
#[derive(Debug, Clone)]
pub(super) struct Tok {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) key: String,
}

const EDGE_PUNCT: &[char] = &[
    ',', '.', ';', ':', '!', '?', '"', '\'', '(', ')', '[', ']', '{', '}', '“', '”', '‘', '«', '»',
    '…', '-', '–', '—', '*',
];

pub(super) fn tokenize(src: &str) -> Vec<Tok> {
    tokenize_range(src, 0, src.len())
}

/// Words of `src[from..to]`, with offsets into `src`.
pub(super) fn tokenize_range(src: &str, from: usize, to: usize) -> Vec<Tok> {
    let part = src.get(from..to).unwrap_or("");
    let mut toks = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in part.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                toks.push(make_tok(src, from + s, from + i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        toks.push(make_tok(src, from + s, to));
    }
    toks
}

fn make_tok(src: &str, start: usize, end: usize) -> Tok {
    let raw = src.get(start..end).unwrap_or("");
    let key = raw.to_lowercase().replace('’', "'");
    Tok {
        start,
        end,
        key: key.trim_matches(EDGE_PUNCT).to_string(),
    }
}

/// The words as the user typed them, single-spaced.
pub(super) fn words(src: &str, toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| src.get(t.start..t.end).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn starts_with(toks: &[Tok], pattern: &[&str]) -> bool {
    pattern.len() <= toks.len() && toks.iter().zip(pattern).all(|(t, p)| t.key == *p)
}

pub(super) fn ends_with(toks: &[Tok], pattern: &[&str]) -> bool {
    pattern.len() <= toks.len()
        && toks
            .iter()
            .rev()
            .zip(pattern.iter().rev())
            .all(|(t, p)| t.key == *p)
}

/// What follows the first matching prefix (list longer patterns first).
pub(super) fn after_prefix<'t>(toks: &'t [Tok], patterns: &[&[&str]]) -> Option<&'t [Tok]> {
    patterns
        .iter()
        .find(|p| starts_with(toks, p))
        .and_then(|p| toks.get(p.len()..))
}

/// What precedes the first matching suffix.
pub(super) fn before_suffix<'t>(toks: &'t [Tok], patterns: &[&[&str]]) -> Option<&'t [Tok]> {
    patterns
        .iter()
        .find(|p| ends_with(toks, p))
        .and_then(|p| toks.get(..toks.len() - p.len()))
}

pub(super) fn key_in(tok: &Tok, set: &[&str]) -> bool {
    set.contains(&tok.key.as_str())
}

/// Trims what is not part of a title: stray punctuation around it, and
/// quotes when they enclose the whole of it.
pub(super) fn clean(s: &str) -> String {
    let mut s = s
        .trim_start_matches(|c: char| c.is_whitespace() || ",;:-–—".contains(c))
        .trim_end_matches(|c: char| c.is_whitespace() || ",;:.!?-–—".contains(c));
    const QUOTES: &[char] = &['"', '\'', '“', '”', '‘', '’', '«', '»'];
    while s.chars().count() >= 2 && s.starts_with(QUOTES) && s.ends_with(QUOTES) {
        let mut chars = s.chars();
        chars.next();
        chars.next_back();
        s = chars.as_str().trim();
    }
    s.to_string()
}
