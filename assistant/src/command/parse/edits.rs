//! Changes that have words of their own: notes ("add a note to 3: ..."),
//! no due date ("no date for 3"), tags ("tag 7 with @gifts") and clearing
//! completed tasks.

use super::super::{Command, Mods, Target};
use super::sentence::Parser;
use super::targets::{ids_in_key, inner_ids, push_ids};
use super::vocab::DELETE_PREFIXES;
use super::which_task;
use crate::words::{Tok, after_prefix, clean, key_in, starts_with};

impl Parser<'_> {
    /// "add a note to 3: bring insurance card", "note on 11: window seat".
    pub(super) fn note(&self, toks: &[Tok]) -> Option<Command> {
        const LEADS: &[&[&str]] = &[
            &["add", "a", "note", "to"],
            &["add", "a", "note", "on"],
            &["add", "a", "note", "for"],
            &["add", "note", "to"],
            &["add", "a", "description", "to"],
            &["add", "description", "to"],
            &["note", "on"],
            &["note", "for"],
            &["note", "to"],
        ];
        let rest = after_prefix(toks, LEADS)?;
        // The target ends with a colon, or at "saying"/"that says".
        let split = rest.iter().position(|t| {
            self.src
                .get(t.start..t.end)
                .is_some_and(|raw| raw.ends_with(':'))
        });
        let (target, text) = match split {
            Some(at) => (rest.get(..=at)?, rest.get(at + 1..)?),
            None => {
                let at = rest.iter().position(|t| key_in(t, &["saying", "says"]))?;
                let mut head = rest.get(..at)?;
                if head.last().is_some_and(|t| t.key == "that") {
                    head = head.get(..head.len() - 1)?;
                }
                (head, rest.get(at + 1..)?)
            }
        };
        // "note to self: ..." is a task.
        if starts_with(target, &["self"]) {
            return None;
        }
        // As typed, to the end ("... please" included).
        let description = text
            .first()
            .and_then(|t| self.src.get(t.start..))
            .map(clean)
            .unwrap_or_default();
        let Some(target) = self.target(target) else {
            return Some(which_task("add a note to 3: bring the insurance card"));
        };
        if description.is_empty() {
            return Some(Command::Say(
                "What should the note say? For example: \"add a note to 3: bring the insurance card\"."
                    .to_string(),
            ));
        }
        Some(Command::Update {
            target,
            title: None,
            mods: Mods {
                description: Some(description),
                ..Mods::default()
            },
        })
    }

    /// "no date for 3", "remove the due date from 8", "8 has no deadline".
    pub(super) fn no_date(&self, toks: &[Tok]) -> Option<Command> {
        const DATE: &[&str] = &["date", "due", "deadline", "due-date"];
        const REMOVE: &[&str] = &[
            "no", "remove", "clear", "drop", "delete", "unset", "without", "undate",
        ];
        const FILLER: &[&str] = &[
            "the", "of", "from", "for", "on", "task", "has", "a", "its", "it", "to", "set", "none",
            "needs", "", "number", "#", "and", "that", "this",
        ];
        if !toks.iter().any(|t| key_in(t, DATE)) || !toks.iter().any(|t| key_in(t, REMOVE)) {
            return None;
        }
        let mut ids = Vec::new();
        for tok in toks {
            match ids_in_key(&tok.key) {
                Some(found) => push_ids(&mut ids, found),
                None if key_in(tok, DATE) || key_in(tok, REMOVE) || key_in(tok, FILLER) => {}
                None => return None,
            }
        }
        // "remove its due date": the task of the last answer.
        let target = if !ids.is_empty() {
            Target::Ids(ids)
        } else if toks
            .iter()
            .any(|t| key_in(t, &["it", "its", "that", "this"]))
        {
            Target::Previous
        } else {
            return Some(which_task("no date for 3"));
        };
        Some(Command::Update {
            target,
            title: None,
            mods: Mods {
                clear_due: true,
                ..Mods::default()
            },
        })
    }

    /// "tag 7 with @gifts", "label the lisbon flights as #travel", "add
    /// #family to 7".
    pub(super) fn tag(&self, toks: &[Tok]) -> Option<Command> {
        if let Some(command) = self.add_tag(toks) {
            return Some(command);
        }
        let rest = after_prefix(toks, &[&["tag"], &["label"]])?;
        let at = rest
            .iter()
            .position(|t| key_in(t, &["with", "as"]))
            .or_else(|| {
                // "tag 7 #gifts"
                let (_, _, end) = inner_ids(rest)?;
                Some(end)
            })?;
        let (target, tags) = rest.split_at(at);
        let tags: Vec<String> = tags
            .iter()
            .filter(|t| !key_in(t, &["with", "as", "and", ""]))
            .map(|t| t.key.trim_start_matches(['#', '@']).to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if tags.is_empty() {
            return None;
        }
        let Some(target) = self.target(target) else {
            return Some(which_task("tag 3 with #work"));
        };
        Some(tagging(target, tags))
    }

    /// "add #family to 7", "add the tag #work to the tax report".
    fn add_tag(&self, toks: &[Tok]) -> Option<Command> {
        let rest = after_prefix(toks, &[&["add"], &["put"]])?;
        let to = rest.iter().position(|t| key_in(t, &["to", "on"]))?;
        let (tags, target) = (rest.get(..to)?, rest.get(to + 1..)?);
        let is_tag = |t: &Tok| {
            t.key
                .strip_prefix(['#', '@'])
                .is_some_and(|tag| tag.chars().next().is_some_and(char::is_alphabetic))
        };
        if !tags.iter().any(is_tag)
            || !tags.iter().all(|t| {
                is_tag(t) || key_in(t, &["the", "tag", "tags", "label", "labels", "and", ""])
            })
        {
            return None;
        }
        let target = self.target(target)?;
        let tags = tags
            .iter()
            .filter(|t| is_tag(t))
            .map(|t| t.key.trim_start_matches(['#', '@']).to_string())
            .collect();
        Some(tagging(target, tags))
    }

    /// "clear completed", "delete all completed tasks"; "clear my list",
    /// "delete everything" (every open task, asked first).
    pub(super) fn clear(&self, toks: &[Tok]) -> Option<Command> {
        const VERBS: &[&str] = &["clear", "delete", "remove", "purge", "archive", "empty"];
        const DONE: &[&str] = &["completed", "done", "finished", "checked", "complete"];
        const FILLER: &[&str] = &[
            "all",
            "the",
            "my",
            "tasks",
            "task",
            "todos",
            "items",
            "ones",
            "out",
            "off",
            "list",
            "",
            "of",
            "every",
            "everything",
        ];
        let rest = toks.get(1..).unwrap_or_default();
        if toks.first().is_some_and(|t| key_in(t, VERBS))
            && rest.iter().any(|t| key_in(t, DONE))
            && rest.iter().all(|t| key_in(t, DONE) || key_in(t, FILLER))
        {
            return Some(Command::ClearCompleted);
        }
        self.delete_all(toks)
    }

    /// "delete everything", "remove all my tasks", "clear my list", "delete
    /// the lot"; not "delete them" (which ones?).
    fn delete_all(&self, toks: &[Tok]) -> Option<Command> {
        const VERBS: &[&[&str]] = &[&["clear"], &["purge"], &["wipe"], &["empty"]];
        const ALL: &[&str] = &[
            "all",
            "everything",
            "every",
            "lot",
            "list",
            "whole",
            "entire",
        ];
        const FILLER: &[&str] = &[
            "my", "the", "of", "tasks", "task", "todos", "todo", "to-do", "items", "open", "",
        ];
        let rest = after_prefix(toks, VERBS).or_else(|| after_prefix(toks, DELETE_PREFIXES))?;
        (rest.iter().any(|t| key_in(t, ALL))
            && rest.iter().all(|t| key_in(t, ALL) || key_in(t, FILLER)))
        .then_some(Command::DeleteAll)
    }
}

/// Adds `tags` to the target's (the lookup merges them with its own).
fn tagging(target: Target, tags: Vec<String>) -> Command {
    Command::Update {
        target,
        title: None,
        mods: Mods {
            tags,
            ..Mods::default()
        },
    }
}
