//! Changes to tasks: rename, move, push, set, make, prioritize; "3 due
//! tomorrow"; "call mom is urgent".

use super::super::{Command, Mods, Priority, Target};
use super::modifiers::read_task;
use super::sentence::Parser;
use super::targets::{inner_ids, leading_ids, named};
use super::vocab::{CHANGE_FILLER, CHANGE_VERBS, ID_DONE_TAILS, RENAME_PREFIXES, VAGUE};
use super::{change_help, which_task};
use crate::dates::count_word;
use crate::words::{Tok, after_prefix, before_suffix, clean, key_in, starts_with, words};

/// The most words the new values of a change take ("to next friday at
/// 5pm, high priority").
const MAX_CHANGE_WORDS: usize = 16;

impl Parser<'_> {
    /// "can we do the plumber on friday instead": "instead" makes a move
    /// of a task named before the new date.
    pub(super) fn instead(&self, toks: &[Tok]) -> Option<Command> {
        let rest = before_suffix(toks, &[&["instead"]])?;
        const LEADS: &[&[&str]] = &[
            &["can", "we"],
            &["could", "we"],
            &["let's"],
            &["lets"],
            &["we'll"],
            &["i'll"],
            &["let", "me"],
        ];
        let rest = after_prefix(rest, LEADS).unwrap_or(rest);
        let rest = after_prefix(rest, &[&["do"], &["have"], &["make"], &["move"], &["put"]])
            .unwrap_or(rest);
        self.change(rest, false)
    }

    /// rename / change / set / move ... and prioritize.
    pub(super) fn update(&self, toks: &[Tok]) -> Option<Command> {
        if let Some(rest) = after_prefix(toks, RENAME_PREFIXES) {
            return Some(self.rename(rest));
        }
        for (verbs, priority) in [
            (&["prioritize", "prioritise"], Priority::High),
            (&["deprioritize", "deprioritise"], Priority::Low),
        ] {
            if toks.first().is_some_and(|t| key_in(t, verbs)) {
                let rest = toks.get(1..).unwrap_or_default();
                return Some(match self.target(rest) {
                    Some(target) => Command::Update {
                        target,
                        title: None,
                        mods: Mods {
                            priority: Some(priority),
                            ..Mods::default()
                        },
                    },
                    None => which_task("prioritize 3"),
                });
            }
        }
        let first = toks.first()?;
        let (_, can_rename) = CHANGE_VERBS.iter().find(|(verb, _)| first.key == *verb)?;
        self.change(toks.get(1..).unwrap_or_default(), *can_rename)
    }

    fn rename(&self, rest: &[Tok]) -> Command {
        const TO: &[&str] = &["to", "as", "into"];
        let usage =
            "Which task should I rename, and to what? For example: \"rename 3 to buy oat milk\".";
        if let Some((ids, used)) = leading_ids(rest) {
            let mut tail = rest.get(used..).unwrap_or_default();
            if tail.first().is_some_and(|t| key_in(t, TO)) {
                tail = tail.get(1..).unwrap_or_default();
            }
            let title = clean(&words(self.src, tail));
            if title.is_empty() {
                return Command::Say(usage.to_string());
            }
            return Command::Update {
                target: Target::Ids(ids),
                title: Some(title),
                mods: Mods::default(),
            };
        }
        // By title: the first "to" separates the old title from the new.
        let split = rest
            .iter()
            .skip(1)
            .position(|t| key_in(t, TO))
            .map(|i| i + 1);
        if let Some(at) = split
            && let Some(target) = named(self.src, rest.get(..at).unwrap_or_default())
        {
            let title = clean(&words(self.src, rest.get(at + 1..).unwrap_or_default()));
            if !title.is_empty() {
                return Command::Update {
                    target,
                    title: Some(title),
                    mods: Mods::default(),
                };
            }
        }
        Command::Say(usage.to_string())
    }

    /// What follows a change verb: a target, then new values. None when
    /// it names neither a task nor a change ("move old monitor to attic" is
    /// a task of its own).
    pub(super) fn change(&self, rest: &[Tok], can_rename: bool) -> Option<Command> {
        let update = |target, title, mods| {
            Some(Command::Update {
                target,
                title,
                mods,
            })
        };
        if let Some((ids, used)) = leading_ids(rest) {
            let tail = rest.get(used..).unwrap_or_default();
            if let Some(mods) = self.exact_mods(tail) {
                return update(Target::Ids(ids), None, mods);
            }
            // "change 3's title to ..."
            let tail = after_prefix(tail, &[&["title"], &["name"]]).unwrap_or(tail);
            if can_rename && starts_with(tail, &["to"]) {
                let title = clean(&words(self.src, tail.get(1..).unwrap_or_default()));
                if !title.is_empty() {
                    return update(Target::Ids(ids), Some(title), Mods::default());
                }
            }
            return Some(change_help());
        }
        // "set the priority of task 3 to high"
        if let Some((ids, start, end)) = inner_ids(rest) {
            let mut tail: Vec<Tok> = rest.get(..start).unwrap_or_default().to_vec();
            tail.extend_from_slice(rest.get(end..).unwrap_or_default());
            if let Some(mods) = self.exact_mods(&tail) {
                return update(Target::Ids(ids), None, mods);
            }
        }
        // By title: the longest run of new values at the end (a few words).
        for at in rest.len().saturating_sub(MAX_CHANGE_WORDS).max(1)..rest.len() {
            let (head, tail) = rest.split_at(at);
            if let Some(mods) = self.exact_mods(tail) {
                if says_overdue(head) {
                    return update(Target::Overdue, None, mods);
                }
                return match named(self.src, head) {
                    Some(target) => update(target, None, mods),
                    // "move them to friday": which task?
                    None => Some(which_task("move 3 to friday")),
                };
            }
        }
        if can_rename {
            let split = rest
                .iter()
                .skip(1)
                .position(|t| t.key == "to")
                .map(|i| i + 1);
            if let Some(at) = split
                && let Some(target) = named(self.src, rest.get(..at).unwrap_or_default())
            {
                let title = clean(&words(self.src, rest.get(at + 1..).unwrap_or_default()));
                if !title.is_empty() {
                    return update(target, Some(title), Mods::default());
                }
            }
        }
        if rest.iter().all(|t| key_in(t, VAGUE)) {
            return Some(which_task("move 3 to friday"));
        }
        None
    }

    /// "3 is done", "3 due tomorrow", "5 high priority".
    pub(super) fn id_first(&self, toks: &[Tok]) -> Option<Command> {
        let (ids, used) = leading_ids(toks)?;
        let tail = toks.get(used..).unwrap_or_default();
        if tail.is_empty() {
            return None;
        }
        if let Some((_, done)) = ID_DONE_TAILS
            .iter()
            .find(|(words, _)| words.len() == tail.len() && starts_with(tail, words))
        {
            return Some(Command::Complete {
                target: Target::Ids(ids),
                done: *done,
            });
        }
        let mods = self.exact_mods(tail)?;
        Some(Command::Update {
            target: Target::Ids(ids),
            title: None,
            mods,
        })
    }

    /// "call mom is urgent", "the tax report is due friday".
    pub(super) fn title_is(&self, toks: &[Tok]) -> Option<Command> {
        let at = toks
            .iter()
            .position(|t| key_in(t, &["is", "are", "should", "must"]))
            .filter(|at| *at > 0)?;
        let (head, tail) = toks.split_at(at);
        let mods = self.exact_mods(tail)?;
        Some(Command::Update {
            target: named(self.src, head)?,
            title: None,
            mods,
        })
    }

    /// Modifiers that make up all of `toks` (bar filler words), if any.
    fn exact_mods(&self, toks: &[Tok]) -> Option<Mods> {
        if let Some(days) = shift_in(toks) {
            return Some(Mods {
                shift: Some(days),
                ..Mods::default()
            });
        }
        let read = read_task(self.src, toks, self.now, true);
        let mut mods = read.mods;
        mods.finish(self.now, false);
        (read.title.iter().all(|t| key_in(t, CHANGE_FILLER)) && !mods.is_empty()).then_some(mods)
    }
}

/// "by 2 days", "back a week", "an hour later": a move of the due date,
/// in minutes.
fn shift_in(toks: &[Tok]) -> Option<i64> {
    let keys: Vec<&str> = toks
        .iter()
        .map(|t| t.key.as_str())
        .filter(|k| {
            !matches!(
                *k,
                "" | "it" | "by" | "back" | "out" | "forward" | "later" | "further"
            )
        })
        .collect();
    let moved = toks
        .iter()
        .any(|t| key_in(t, &["by", "back", "out", "forward", "later", "further"]));
    match keys.as_slice() {
        [n, unit] if moved => {
            let n = i64::try_from(count_word(n)?).ok()?;
            let minutes = match *unit {
                "minute" | "minutes" | "min" | "mins" => 1,
                "hour" | "hours" | "hr" | "hrs" => 60,
                "day" | "days" => 24 * 60,
                "week" | "weeks" => 7 * 24 * 60,
                _ => return None,
            };
            n.checked_mul(minutes)
        }
        _ => None,
    }
}

/// "everything overdue", "all my overdue tasks", "the overdue ones".
fn says_overdue(toks: &[Tok]) -> bool {
    const AROUND: &[&str] = &[
        "everything",
        "all",
        "the",
        "my",
        "tasks",
        "task",
        "ones",
        "items",
        "stuff",
        "that's",
        "that",
        "is",
        "are",
        "of",
        "",
    ];
    toks.iter().any(|t| t.key == "overdue")
        && toks.iter().all(|t| t.key == "overdue" || key_in(t, AROUND))
}
