//! Which task a sentence is about: task numbers, tags, titles.

use super::super::Target;
use super::vocab::{ID_FILLER, PRONOUNS, VAGUE};
use crate::words::{Tok, after_prefix, before_suffix, clean, key_in, starts_with, words};

/// The longest range of numbers "1-3" may stand for.
const MAX_RANGE: i64 = 50;

fn one_id(piece: &str) -> Option<i64> {
    let digits = piece.strip_prefix('#').unwrap_or(piece);
    // "3's title"
    let digits = digits.strip_suffix("'s").unwrap_or(digits);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().filter(|n| *n > 0)
}

/// The numbers from `a` to `b`, when that is a short range.
fn range(a: i64, b: i64) -> Option<Vec<i64>> {
    (a < b && b - a < MAX_RANGE).then(|| (a..=b).collect())
}

/// Task numbers in one word: "3", "#3", "3,4", "1-3".
pub(super) fn ids_in_key(key: &str) -> Option<Vec<i64>> {
    let mut ids = Vec::new();
    for piece in key.split([',', '&']).filter(|piece| !piece.is_empty()) {
        match piece.split_once(['-', '–']) {
            Some((a, b)) => ids.extend(range(one_id(a)?, one_id(b)?)?),
            None => ids.push(one_id(piece)?),
        }
    }
    (!ids.is_empty()).then_some(ids)
}

/// "through" in "7 through 9".
fn is_through(tok: &Tok) -> bool {
    key_in(tok, &["through", "thru", "-", "–"])
}

/// Adds `found` after "through": the numbers between too.
fn push_range(into: &mut Vec<i64>, found: Vec<i64>, through: bool) -> Option<()> {
    if through {
        let from = *into.last()?;
        let to = *found.first()?;
        push_ids(into, range(from, to)?);
    }
    push_ids(into, found);
    Some(())
}

pub(super) fn push_ids(into: &mut Vec<i64>, found: Vec<i64>) {
    for id in found {
        if !into.contains(&id) {
            into.push(id);
        }
    }
}

/// The task numbers when `toks` is nothing but ("task 3 and #5").
pub(super) fn ids_only(toks: &[Tok]) -> Option<Vec<i64>> {
    let mut ids = Vec::new();
    let mut through = false;
    for tok in toks {
        match ids_in_key(&tok.key) {
            Some(found) => {
                push_range(&mut ids, found, through)?;
                through = false;
            }
            None if is_through(tok) && !ids.is_empty() => through = true,
            None if key_in(tok, ID_FILLER) => {}
            None => return None,
        }
    }
    (!ids.is_empty() && !through).then_some(ids)
}

/// Task numbers at the start of `toks`, and how many words they take.
pub(super) fn leading_ids(toks: &[Tok]) -> Option<(Vec<i64>, usize)> {
    let mut ids = Vec::new();
    let mut used = 0;
    let mut through = false;
    for (i, tok) in toks.iter().enumerate() {
        match ids_in_key(&tok.key) {
            Some(found) => {
                push_range(&mut ids, found, through)?;
                through = false;
                used = i + 1;
            }
            None if is_through(tok) && !ids.is_empty() => through = true,
            None if key_in(tok, ID_FILLER) => {}
            None => break,
        }
    }
    (!ids.is_empty()).then_some((ids, used))
}

/// Task numbers somewhere inside ("the due date of task 3 to friday"): the
/// numbers and the range of words they take.
pub(super) fn inner_ids(toks: &[Tok]) -> Option<(Vec<i64>, usize, usize)> {
    let first = toks.iter().position(|t| ids_in_key(&t.key).is_some())?;
    let mut start = first;
    while start > 0
        && toks
            .get(start - 1)
            .is_some_and(|t| key_in(t, &["task", "number", "#", "no", "nr"]))
    {
        start -= 1;
    }
    let (ids, used) = leading_ids(toks.get(first..)?)?;
    Some((ids, start, first + used))
}

/// A task named by words: "it", "that" (the task the assistant's last
/// answer was about) or its title.
pub(super) fn named(src: &str, toks: &[Tok]) -> Option<Target> {
    if PRONOUNS
        .iter()
        .any(|p| p.len() == toks.len() && starts_with(toks, p))
    {
        return Some(Target::Previous);
    }
    target_title(src, toks).map(Target::Title)
}

/// A task named by its title ("the milk task" -> "milk"); `None` when the
/// words name no task in particular.
pub(super) fn target_title(src: &str, toks: &[Tok]) -> Option<String> {
    const LEAD: &[&[&str]] = &[
        &["the", "task", "called"],
        &["the", "task", "named"],
        &["task", "called"],
        &["task", "named"],
        &["the", "due", "date", "of"],
        &["due", "date", "of"],
        &["the", "priority", "of"],
        &["priority", "of"],
        &["the", "deadline", "of"],
        &["the", "deadline", "for"],
        &["the", "task"],
        &["the", "todo"],
        &["task"],
        &["the"],
        &["my"],
    ];
    let mut rest = after_prefix(toks, LEAD).unwrap_or(toks);
    while let Some(shorter) = before_suffix(rest, &[&["task"], &["todo"], &["item"], &[""]]) {
        rest = shorter;
    }
    if rest.iter().all(|t| key_in(t, VAGUE)) {
        return None;
    }
    let title = clean(&words(src, rest));
    (!title.is_empty()).then_some(title)
}
