//! Sentences that ask for a list of tasks.

use super::super::{Command, Status};
use crate::words::{Tok, key_in};

/// "show my tasks", "what's still open", "what did I finish": sentences made
/// only of listing words, with at least one that asks for a list.
pub(super) fn list(toks: &[Tok]) -> Option<Command> {
    const VOCAB: &[&str] = &[
        "list",
        "show",
        "display",
        "view",
        "see",
        "get",
        "give",
        "tell",
        "me",
        "my",
        "the",
        "all",
        "everything",
        "every",
        "tasks",
        "task",
        "todo",
        "todos",
        "to-do",
        "to-dos",
        "items",
        "things",
        "stuff",
        "what",
        "what's",
        "whats",
        "which",
        "is",
        "are",
        "still",
        "open",
        "left",
        "pending",
        "remaining",
        "outstanding",
        "unfinished",
        "incomplete",
        "undone",
        "do",
        "i",
        "have",
        "to",
        "need",
        "got",
        "completed",
        "complete",
        "done",
        "finished",
        "finish",
        "did",
        "i've",
        "ive",
        "already",
        "so",
        "far",
        "yet",
        "of",
        "on",
        "in",
        "status",
        "current",
        "currently",
        "now",
        "today",
        "how",
        "many",
        "there",
        "any",
        "that",
        "i'm",
        "am",
        "a",
        "an",
        "you",
        "can",
        "",
    ];
    const TRIGGERS: &[&str] = &[
        "list",
        "show",
        "display",
        "view",
        "see",
        "tasks",
        "todo",
        "todos",
        "to-do",
        "to-dos",
        "what",
        "what's",
        "whats",
        "which",
        "pending",
        "open",
        "left",
        "remaining",
        "outstanding",
        "everything",
        "items",
    ];
    if !toks.iter().all(|t| key_in(t, VOCAB)) || !toks.iter().any(|t| key_in(t, TRIGGERS)) {
        return None;
    }
    // "complete my tasks" is a (vague) command, not a question.
    if toks
        .first()
        .is_some_and(|t| key_in(t, &["complete", "finish"]))
    {
        return None;
    }
    let status = if toks.iter().any(|t| {
        key_in(
            t,
            &["completed", "complete", "done", "finished", "finish", "did"],
        )
    }) {
        Status::Completed
    } else if toks
        .iter()
        .any(|t| key_in(t, &["all", "everything", "every"]))
    {
        Status::All
    } else {
        Status::Pending
    };
    Some(Command::List {
        status,
        query: None,
    })
}
