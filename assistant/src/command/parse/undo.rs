//! "undo", "undo that", "revert the last change", "oops, undo": put back the
//! last change of the conversation (the tool finds which, server-side).
//! "undo 3" and "undo the dentist" name a task instead: they reopen it
//! (`sentence`).

use super::super::Command;
use crate::words::{Tok, after_prefix, starts_with};

const VERBS: &[&[&str]] = &[&["undo"], &["revert"], &["roll", "back"]];

/// What may follow the verb: nothing, or words for the last change.
const LAST_CHANGE: &[&[&str]] = &[
    &[],
    &["that"],
    &["this"],
    &["it"],
    &["that", "change"],
    &["the", "change"],
    &["the", "last", "change"],
    &["last", "change"],
    &["my", "last", "change"],
    &["your", "last", "change"],
    &["that", "last", "change"],
    &["the", "last", "thing"],
    &["what", "you", "did"],
    &["what", "you", "just", "did"],
];

/// The undo command, when the whole sentence is one.
pub(super) fn last_change(toks: &[Tok]) -> Option<Command> {
    let rest = after_prefix(toks, VERBS)?;
    LAST_CHANGE
        .iter()
        .any(|words| words.len() == rest.len() && starts_with(rest, words))
        .then_some(Command::Undo)
}
