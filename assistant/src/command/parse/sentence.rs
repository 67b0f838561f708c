//! The parser: what every kind of command reads from (`Parser`; each kind
//! is a method answering None when the sentence is not of its kind), and
//! the plain ones here: complete, reopen, delete, skip, mark, find.

use chrono::{NaiveDate, NaiveDateTime};

use super::super::{Command, DeleteScope, Status, Target};
use super::targets::{ids_only, named};
use super::vocab::*;
use super::which_task;
use crate::words::{
    Tok, after_prefix, before_suffix, clean, ends_with, key_in, starts_with, words,
};

pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    pub(super) today: NaiveDate,
    /// The user's wall clock: "at 5pm" is the next 5pm from here.
    pub(super) now: NaiveDateTime,
}

impl Parser<'_> {
    /// "skip 3", "skip the gym": a recurring task to its next occurrence.
    pub(super) fn skip(&self, toks: &[Tok]) -> Option<Command> {
        let rest = after_prefix(toks, &[&["skip", "task"], &["skip"]])?;
        let rest =
            before_suffix(rest, &[&["this", "time"], &["today"], &["for", "now"]]).unwrap_or(rest);
        Some(match self.target(rest) {
            Some(target) => Command::Skip { target },
            None => which_task("skip 3"),
        })
    }

    pub(super) fn search(&self, toks: &[Tok]) -> Option<Command> {
        const LEAD: &[&str] = &[
            "tasks",
            "task",
            "my",
            "the",
            "all",
            "about",
            "with",
            "for",
            "matching",
            "containing",
            "named",
            "called",
            "titled",
            "that",
            "mention",
            "mentioning",
            "",
        ];
        let mut rest = after_prefix(toks, SEARCH_PREFIXES)?;
        if rest.is_empty() {
            return Some(Command::Say(
                "What should I look for? For example: \"find milk\".".to_string(),
            ));
        }
        while rest.first().is_some_and(|t| key_in(t, LEAD)) {
            rest = rest.get(1..).unwrap_or_default();
        }
        while let Some(shorter) = before_suffix(rest, &[&["task"], &["tasks"], &[""]]) {
            rest = shorter;
        }
        let query = clean(&words(self.src, rest));
        Some(Command::List {
            status: Status::All,
            query: (!query.is_empty()).then_some(query),
            filters: serde_json::Map::new(),
        })
    }

    pub(super) fn target(&self, toks: &[Tok]) -> Option<Target> {
        if let Some(ids) = ids_only(toks) {
            return Some(Target::Ids(ids));
        }
        named(self.src, toks)
    }

    /// "mark 3 as done", "mark buy milk not done", "mark 3 as urgent".
    pub(super) fn mark(&self, toks: &[Tok]) -> Option<Command> {
        let rest = after_prefix(toks, &[&["mark"], &["flag"]])?;
        for (suffix, done) in MARK_SUFFIXES {
            if let Some(head) = before_suffix(rest, &[*suffix]) {
                let example = if *done {
                    "mark 3 as done"
                } else {
                    "mark 3 as not done"
                };
                return Some(match self.target(head) {
                    Some(target) => Command::Complete {
                        target,
                        done: *done,
                    },
                    None => which_task(example),
                });
            }
        }
        self.change(rest, false)
    }

    /// complete / reopen / delete: a verb and a target, nothing else.
    pub(super) fn simple(&self, toks: &[Tok]) -> Option<Command> {
        // "tick 1", "check 3": a number only (not "check the oven").
        if toks
            .first()
            .is_some_and(|t| key_in(t, &["tick", "check", "cross", "✓"]))
            && let Some(ids) = ids_only(toks.get(1..).unwrap_or_default())
        {
            return Some(Command::Complete {
                target: Target::Ids(ids),
                done: true,
            });
        }
        // "got 8 done"
        if starts_with(toks, &["got"])
            && ends_with(toks, &["done"])
            && let Some(ids) = ids_only(toks.get(1..toks.len() - 1).unwrap_or_default())
        {
            return Some(Command::Complete {
                target: Target::Ids(ids),
                done: true,
            });
        }
        // "check 3 off", "tick buy milk off"
        if toks.len() >= 3
            && toks
                .first()
                .is_some_and(|t| key_in(t, &["check", "tick", "cross"]))
            && ends_with(toks, &["off"])
        {
            let middle = toks.get(1..toks.len() - 1).unwrap_or_default();
            return Some(match self.target(middle) {
                Some(target) => Command::Complete { target, done: true },
                None => which_task("check off 3"),
            });
        }
        if let Some(rest) = after_prefix(toks, COMPLETE_PREFIXES) {
            let rest = before_suffix(rest, &[&["as", "done"], &["off"]]).unwrap_or(rest);
            return Some(match self.target(rest) {
                Some(target) => Command::Complete { target, done: true },
                None => which_task("complete 3"),
            });
        }
        if let Some(rest) = after_prefix(toks, REOPEN_PREFIXES) {
            return Some(match self.target(rest) {
                Some(target) => Command::Complete {
                    target,
                    done: false,
                },
                None => which_task("reopen 3"),
            });
        }
        let rest = after_prefix(toks, DELETE_PREFIXES)?;
        let (rest, scope) = delete_scope(rest);
        // "delete the whole series": of the task the last answer named.
        let target = match rest {
            [] if scope.is_some() => Some(Target::Previous),
            _ => self.target(rest),
        };
        Some(match target {
            Some(target) => Command::Delete { target, scope },
            None => which_task("delete 3"),
        })
    }

    /// "buy milk is done", "the bill isn't done".
    pub(super) fn title_is_done(&self, toks: &[Tok]) -> Option<Command> {
        if let Some(head) = before_suffix(
            toks,
            &[
                &["is", "not", "done"],
                &["isn't", "done"],
                &["isn't", "done", "yet"],
                &["isn't", "finished"],
                &["is", "not", "finished"],
            ],
        ) {
            return Some(Command::Complete {
                target: named(self.src, head)?,
                done: false,
            });
        }
        let head = before_suffix(
            toks,
            &[
                &["is", "done"],
                &["is", "finished"],
                &["is", "complete"],
                &["is", "completed"],
                &["done"],
                &["finished"],
            ],
        )?;
        Some(Command::Complete {
            target: named(self.src, head)?,
            done: true,
        })
    }
}

/// What a delete says of a repeating task's scope ("delete the whole gym
/// series", "delete 4, just this one"), and the words left.
fn delete_scope(rest: &[Tok]) -> (&[Tok], Option<DeleteScope>) {
    if let Some(head) = before_suffix(rest, SERIES_TAILS) {
        // "the whole gym series"
        let head = after_prefix(head, &[&["the", "whole"], &["the", "entire"], &["whole"]])
            .unwrap_or(head);
        return (head, Some(DeleteScope::Series));
    }
    if let Some(tail) = after_prefix(rest, SERIES_LEADS) {
        return (tail, Some(DeleteScope::Series));
    }
    if let Some(head) = before_suffix(rest, OCCURRENCE_TAILS) {
        return (head, Some(DeleteScope::Occurrence));
    }
    if let Some(tail) = after_prefix(rest, OCCURRENCE_LEADS) {
        return (tail, Some(DeleteScope::Occurrence));
    }
    (rest, None)
}
