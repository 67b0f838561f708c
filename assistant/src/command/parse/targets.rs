//! Which task a sentence is about: task numbers, tags, titles.

use super::vocab::{ID_FILLER, VAGUE};
use crate::words::{Tok, after_prefix, before_suffix, clean, key_in, words};

/// Task numbers in one word: "3", "#3", "3,4".
pub(super) fn ids_in_key(key: &str) -> Option<Vec<i64>> {
    let ids: Option<Vec<i64>> = key
        .split([',', '&'])
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let digits = piece.strip_prefix('#').unwrap_or(piece);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<i64>().ok().filter(|n| *n > 0)
        })
        .collect();
    ids.filter(|ids| !ids.is_empty())
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
    for tok in toks {
        match ids_in_key(&tok.key) {
            Some(found) => push_ids(&mut ids, found),
            None if key_in(tok, ID_FILLER) => {}
            None => return None,
        }
    }
    (!ids.is_empty()).then_some(ids)
}

/// Task numbers at the start of `toks`, and how many words they take.
pub(super) fn leading_ids(toks: &[Tok]) -> Option<(Vec<i64>, usize)> {
    let mut ids = Vec::new();
    let mut used = 0;
    for (i, tok) in toks.iter().enumerate() {
        match ids_in_key(&tok.key) {
            Some(found) => {
                push_ids(&mut ids, found);
                used = i + 1;
            }
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

/// Splits tags (`#work`) off; `#3` is a task number, not a tag.
pub(super) fn split_tags(toks: &[Tok]) -> (Vec<Tok>, Vec<String>) {
    let mut kept = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for tok in toks {
        let tag = tok
            .key
            .strip_prefix('#')
            .filter(|rest| rest.chars().next().is_some_and(char::is_alphabetic));
        match tag {
            Some(tag) => {
                if !tags.iter().any(|t| t == tag) {
                    tags.push(tag.to_string());
                }
            }
            None => kept.push(tok.clone()),
        }
    }
    (kept, tags)
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
