//! The parser proper: one method per kind of command, each answering None
//! when the sentence is not of its kind.

use chrono::{NaiveDate, NaiveDateTime};

use super::super::{Command, Mods, Priority, Status, Target};
use super::targets::{ids_only, inner_ids, leading_ids, split_tags, target_title};
use super::vocab::*;
use super::{change_help, which_task};
use crate::dates::{before_core, date_core, time_core};
use crate::words::{
    Tok, after_prefix, before_suffix, clean, ends_with, key_in, starts_with, tokenize_range, words,
};

pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    pub(super) today: NaiveDate,
    /// The user's wall clock: "at 5pm" is the next 5pm from here.
    pub(super) now: NaiveDateTime,
}

impl Parser<'_> {
    pub(super) fn add(&self, toks: &[Tok]) -> Option<Command> {
        let first = toks.first()?;
        let raw_first = self.src.get(first.start..first.end).unwrap_or("");
        let end = toks.last().map_or(first.end, |t| t.end);
        // "todo: X" and "todo:X" (the colon may glue the first word on).
        let body: Vec<Tok> = if raw_first
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("todo:"))
        {
            tokenize_range(self.src, first.start + 5, end)
        } else {
            after_prefix(toks, ADD_PREFIXES)?.to_vec()
        };
        let mut body: &[Tok] = &body;
        while let Some(rest) = after_prefix(body, &[&[""], &["called"], &["named"], &["titled"]]) {
            body = rest;
        }
        // "add a task to call mom": the "to" belongs to the verb.
        if starts_with(body, &["to"]) && starts_with(toks, &["add", "a", "task"]) {
            body = body.get(1..).unwrap_or_default();
        }
        if body.is_empty() {
            return Some(Command::Say(
                "What should I add? For example: \"add call mom tomorrow\".".to_string(),
            ));
        }
        // "every monday", "every! 3 days": cut out wherever it stands.
        let (body, repeat) = self.repeat_in(body);
        let (kept, tags) = split_tags(&body);
        let mut mods = Mods {
            tags,
            repeat,
            ..Mods::default()
        };
        let mut title_toks: &[Tok] = &kept;
        title_toks = before_suffix(title_toks, LIST_SUFFIXES).unwrap_or(title_toks);
        let n = self.strip_mods(title_toks, false, &mut mods);
        title_toks = title_toks.get(..n).unwrap_or_default();
        title_toks = before_suffix(title_toks, LIST_SUFFIXES).unwrap_or(title_toks);
        let title = clean(&words(self.src, title_toks));
        if title.is_empty() {
            return Some(Command::Say(
                "What should the task be called? For example: \"add call mom tomorrow\"."
                    .to_string(),
            ));
        }
        mods.finish(self.now, starts_with(toks, &["remind", "me"]));
        Some(Command::Add { title, mods })
    }

    /// The words of `body` without a recurrence phrase in them, and the
    /// phrase's rule.
    fn repeat_in(&self, body: &[Tok]) -> (Vec<Tok>, Option<(String, bool)>) {
        let (Some(first), Some(last)) = (body.first(), body.last()) else {
            return (body.to_vec(), None);
        };
        let text = self.src.get(first.start..last.end).unwrap_or("");
        let Some(phrase) = todo_recurrence::words::parse(text) else {
            return (body.to_vec(), None);
        };
        let (from, to) = (
            first.start + phrase.span.start,
            first.start + phrase.span.end,
        );
        let kept = body
            .iter()
            .filter(|t| t.end <= from || t.start >= to)
            .cloned()
            .collect();
        (
            kept,
            Some((phrase.rule.to_string(), phrase.from_completion)),
        )
    }

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
        })
    }

    fn target(&self, toks: &[Tok]) -> Option<Target> {
        if let Some(ids) = ids_only(toks) {
            return Some(Target::Ids(ids));
        }
        target_title(self.src, toks).map(Target::Title)
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
        Some(self.change(rest, false))
    }

    /// complete / reopen / delete: a verb and a target, nothing else.
    pub(super) fn simple(&self, toks: &[Tok]) -> Option<Command> {
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
        Some(match self.target(rest) {
            Some(target) => Command::Delete { target },
            None => which_task("delete 3"),
        })
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
        Some(self.change(toks.get(1..).unwrap_or_default(), *can_rename))
    }

    fn rename(&self, rest: &[Tok]) -> Command {
        const TO: &[&str] = &["to", "as", "into"];
        let usage = "I can rename a task like this: \"rename 3 to buy oat milk\".";
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
            && let Some(target) = target_title(self.src, rest.get(..at).unwrap_or_default())
        {
            let title = clean(&words(self.src, rest.get(at + 1..).unwrap_or_default()));
            if !title.is_empty() {
                return Command::Update {
                    target: Target::Title(target),
                    title: Some(title),
                    mods: Mods::default(),
                };
            }
        }
        Command::Say(usage.to_string())
    }

    /// What follows a change verb: a target, then new values.
    fn change(&self, rest: &[Tok], can_rename: bool) -> Command {
        let update = |target, title, mods| Command::Update {
            target,
            title,
            mods,
        };
        if let Some((ids, used)) = leading_ids(rest) {
            let tail = rest.get(used..).unwrap_or_default();
            if let Some(mods) = self.exact_mods(tail) {
                return update(Target::Ids(ids), None, mods);
            }
            if can_rename && starts_with(tail, &["to"]) {
                let title = clean(&words(self.src, tail.get(1..).unwrap_or_default()));
                if !title.is_empty() {
                    return update(Target::Ids(ids), Some(title), Mods::default());
                }
            }
            return change_help();
        }
        // "set the priority of task 3 to high"
        if let Some((ids, start, end)) = inner_ids(rest) {
            let mut tail: Vec<Tok> = rest.get(..start).unwrap_or_default().to_vec();
            tail.extend_from_slice(rest.get(end..).unwrap_or_default());
            if let Some(mods) = self.exact_mods(&tail) {
                return update(Target::Ids(ids), None, mods);
            }
        }
        // By title: the longest run of new values at the end.
        for at in 1..rest.len() {
            let (head, tail) = rest.split_at(at);
            if let Some(mods) = self.exact_mods(tail)
                && let Some(title) = target_title(self.src, head)
            {
                return update(Target::Title(title), None, mods);
            }
        }
        if can_rename {
            let split = rest
                .iter()
                .skip(1)
                .position(|t| t.key == "to")
                .map(|i| i + 1);
            if let Some(at) = split
                && let Some(target) = target_title(self.src, rest.get(..at).unwrap_or_default())
            {
                let title = clean(&words(self.src, rest.get(at + 1..).unwrap_or_default()));
                if !title.is_empty() {
                    return update(Target::Title(target), Some(title), Mods::default());
                }
            }
        }
        change_help()
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

    /// "buy milk is done".
    pub(super) fn title_is_done(&self, toks: &[Tok]) -> Option<Command> {
        let head = before_suffix(
            toks,
            &[
                &["is", "done"],
                &["is", "finished"],
                &["is", "complete"],
                &["is", "completed"],
            ],
        )?;
        let title = target_title(self.src, head)?;
        Some(Command::Complete {
            target: Target::Title(title),
            done: true,
        })
    }

    /// Modifiers that make up all of `toks` (bar filler words), if any.
    fn exact_mods(&self, toks: &[Tok]) -> Option<Mods> {
        let (kept, tags) = split_tags(toks);
        let mut mods = Mods {
            tags,
            ..Mods::default()
        };
        let n = self.strip_mods(&kept, true, &mut mods);
        let left = kept.get(..n).unwrap_or_default();
        mods.finish(self.now, false);
        (left.iter().all(|t| key_in(t, CHANGE_FILLER)) && !mods.is_empty()).then_some(mods)
    }

    /// Peels due dates and priorities off the end of `toks` into `mods`;
    /// returns how many words are left. The last one written wins.
    /// `bare` also takes a lone "high"/"low" (fine after "set 3 to").
    fn strip_mods(&self, toks: &[Tok], bare: bool, mods: &mut Mods) -> usize {
        let mut n = toks.len();
        loop {
            let head = toks.get(..n).unwrap_or_default();
            let keys: Vec<&str> = head.iter().map(|t| t.key.as_str()).collect();
            let used = if let Some((used, minutes)) = before_core(&keys) {
                mods.remind_before.get_or_insert(minutes);
                used + reminder_words(&keys[..keys.len() - used])
            } else if let Some((used, time)) = time_core(&keys) {
                mods.time.get_or_insert(time);
                // "remind me at 5pm": a reminder at that time.
                let asked = reminder_words(&keys[..keys.len() - used]);
                if asked > 0 {
                    mods.remind_before.get_or_insert(0);
                }
                used + asked
            } else if let Some((used, date)) = self.date_at_end(head) {
                mods.due.get_or_insert(date);
                used
            } else if let Some((used, priority)) = priority_at_end(head, bare) {
                mods.priority.get_or_insert(priority);
                used
            } else {
                return n;
            };
            n = n.saturating_sub(used);
            while n > 0 && toks.get(n - 1).is_some_and(|t| key_in(t, CONNECTORS)) {
                n -= 1;
            }
        }
    }

    /// A date phrase ending `toks`, with its "on"/"by"/"due" in front.
    fn date_at_end(&self, toks: &[Tok]) -> Option<(usize, NaiveDate)> {
        let keys: Vec<&str> = toks.iter().map(|t| t.key.as_str()).collect();
        let (mut used, date) = date_core(&keys, self.today)?;
        while used < keys.len()
            && keys
                .get(keys.len() - used - 1)
                .is_some_and(|k| DATE_PREFIXES.contains(k))
        {
            used += 1;
        }
        Some((used, date))
    }
}

fn priority_at_end(toks: &[Tok], bare: bool) -> Option<(usize, Priority)> {
    let last = toks.last()?.key.as_str();
    let prev = toks
        .len()
        .checked_sub(2)
        .and_then(|i| toks.get(i))
        .map(|t| t.key.as_str());
    let level = |word: Option<&str>| word.and_then(Priority::from_level);
    let (mut used, priority) = match (prev, last) {
        (Some(p), "priority" | "prio") if level(Some(p)).is_some() => (2, level(Some(p))?),
        (Some("priority" | "prio"), l) if level(Some(l)).is_some() => (2, level(Some(l))?),
        (Some("not"), "urgent" | "important") => (2, Priority::Low),
        (_, "urgent" | "important" | "asap" | "urgently" | "high-priority") => (1, Priority::High),
        (_, "low-priority") => (1, Priority::Low),
        (_, "medium-priority" | "normal-priority") => (1, Priority::Medium),
        (_, l) if bare && level(Some(l)).is_some() => (1, level(Some(l))?),
        _ => return None,
    };
    while used < toks.len()
        && toks
            .get(toks.len() - used - 1)
            .is_some_and(|t| key_in(t, PRIORITY_PREFIXES))
    {
        used += 1;
    }
    Some((used, priority))
}

/// "remind me", "and remind me", "with a reminder" just before a reminder's
/// time: how many words.
fn reminder_words(keys: &[&str]) -> usize {
    const LEADS: &[&[&str]] = &[
        &["and", "remind", "me"],
        &["remind", "me"],
        &["with", "a", "reminder"],
        &["and", "a", "reminder"],
        &["a", "reminder"],
        &["reminder"],
    ];
    LEADS
        .iter()
        .find(|lead| keys.ends_with(lead))
        .map_or(0, |lead| lead.len())
}
