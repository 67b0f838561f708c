//! The parser proper: one method per kind of command, each answering None
//! when the sentence is not of its kind.

use chrono::{NaiveDate, NaiveDateTime};

use super::super::{Command, Mods, Priority, Status, Target};
use super::modifiers::{quoted_mask, read_task};
use super::targets::{ids_only, inner_ids, leading_ids, target_title};
use super::vocab::*;
use super::{change_help, which_task};
use crate::dates::count_word;
use crate::words::{
    Tok, after_prefix, before_suffix, clean, ends_with, key_in, starts_with, tokenize_range, words,
};

/// The most words the new values of a change take ("to next friday at
/// 5pm, high priority").
const MAX_CHANGE_WORDS: usize = 16;

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
        } else if let Some(rest) = after_prefix(toks, &[&["put"]]) {
            // "put eggs on my list"
            without_list_suffix(rest)?.to_vec()
        } else {
            after_prefix(toks, ADD_PREFIXES)?.to_vec()
        };
        let remind = starts_with(toks, &["remind", "me"]);
        let mut body: &[Tok] = &body;
        while let Some(rest) = after_prefix(body, &[&[""], &["called"], &["named"], &["titled"]])
            .or_else(|| after_prefix(body, BODY_LEADS))
        {
            body = rest;
        }
        // "add a task to call mom": the "to" belongs to the verb.
        if starts_with(body, &["to"]) && starts_with(toks, &["add", "a", "task"]) {
            body = body.get(1..).unwrap_or_default();
        }
        if body.is_empty() {
            // "todo" alone asks for the list.
            if toks.len() == 1 && key_in(first, &["todo", "to-do"]) && !raw_first.contains(':') {
                return None;
            }
            return Some(Command::Say(
                "What should I add? For example: \"add call mom tomorrow\".".to_string(),
            ));
        }
        Some(self.tasks(body, remind).unwrap_or_else(|| {
            Command::Say(
                "What should the task be called? For example: \"add call mom tomorrow\"."
                    .to_string(),
            )
        }))
    }

    /// One task or several ("milk, eggs and bread") from the words after
    /// the add verb; None when no title is left.
    pub(super) fn tasks(&self, body: &[Tok], remind: bool) -> Option<Command> {
        let mut items: Vec<(Vec<Tok>, Mods)> = Vec::new();
        let mut early = Mods::default();
        for segment in self.segments(body) {
            let segment = without_list_suffix(&segment).unwrap_or(&segment);
            let read = read_task(self.src, segment, self.now, false);
            let mut title: &[Tok] = &read.title;
            title = without_list_suffix(title).unwrap_or(title);
            while title
                .first()
                .is_some_and(|t| key_in(t, CONNECTORS) || key_in(t, &["then"]))
            {
                title = title.get(1..).unwrap_or_default();
            }
            if title.is_empty() {
                match items.last_mut() {
                    Some((_, mods)) => mods.merge(&read.mods),
                    None => early.merge(&read.mods),
                }
            } else {
                items.push((title.to_vec(), read.mods));
            }
        }
        // "apples, pears and plums tomorrow": the last one's date is all's.
        let n = items.len();
        if n > 1 && items.iter().take(n - 1).all(|(_, m)| m.is_empty()) {
            let last = items.last().map(|(_, m)| m.clone()).unwrap_or_default();
            for (_, mods) in items.iter_mut().take(n - 1) {
                *mods = last.clone();
            }
        }
        let mut tasks: Vec<(String, Mods)> = Vec::new();
        for (i, (title, mut mods)) in items.into_iter().enumerate() {
            if i == 0 {
                mods.merge(&early);
            }
            let title = clean(&words(self.src, &title));
            if title.is_empty() {
                continue;
            }
            mods.finish(self.now, remind);
            tasks.push((title, mods));
        }
        match tasks.len() {
            0 => None,
            1 => tasks
                .pop()
                .map(|(title, mods)| Command::Add { title, mods }),
            _ => Some(Command::AddMany(tasks)),
        }
    }

    /// The parts of a list of tasks: split at commas, semicolons and line
    /// breaks (not in quotes), and the last at "and" when the others are
    /// short ("milk, eggs and bread"); "buy milk and eggs" stays whole.
    fn segments(&self, body: &[Tok]) -> Vec<Vec<Tok>> {
        let quoted = quoted_mask(self.src, body);
        let mut parts: Vec<Vec<Tok>> = vec![Vec::new()];
        for (i, tok) in body.iter().enumerate() {
            let inside = quoted.get(i).copied().unwrap_or(false);
            let new_line = i > 0
                && body
                    .get(i - 1)
                    .and_then(|prev| self.src.get(prev.end..tok.start))
                    .is_some_and(|gap| gap.contains('\n'));
            if new_line && !inside && parts.last().is_some_and(|p| !p.is_empty()) {
                parts.push(Vec::new());
            }
            if let Some(part) = parts.last_mut() {
                part.push(tok.clone());
            }
            let raw = self.src.get(tok.start..tok.end).unwrap_or("");
            // "march 3, 2027": a year after the comma is the date's; "every
            // mon, wed and fri" is one list of days.
            let next = body.get(i + 1);
            let year_next =
                next.is_some_and(|n| n.key.len() == 4 && n.key.bytes().all(|b| b.is_ascii_digit()));
            let days = any_weekday(&tok.key) && next.is_some_and(|n| any_weekday(&n.key));
            if !inside && raw.ends_with([',', ';']) && !year_next && !days {
                parts.push(Vec::new());
            }
        }
        parts.retain(|p| p.iter().any(|t| !t.key.is_empty()));
        let short = |p: &Vec<Tok>| p.iter().filter(|t| !t.key.is_empty()).count() <= 2;
        if parts.len() >= 2
            && parts.iter().take(parts.len() - 1).all(short)
            && let Some(last) = parts.pop()
        {
            let at = last
                .iter()
                .enumerate()
                .skip(1)
                .find(|(_, t)| key_in(t, &["and", "&"]))
                .map(|(i, _)| i);
            match at {
                Some(at) => {
                    parts.push(last.get(..at).unwrap_or_default().to_vec());
                    parts.push(last.get(at + 1..).unwrap_or_default().to_vec());
                }
                None => parts.push(last),
            }
        }
        parts
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
            filters: serde_json::Map::new(),
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
        self.change(rest, false)
    }

    /// complete / reopen / delete: a verb and a target, nothing else.
    pub(super) fn simple(&self, toks: &[Tok]) -> Option<Command> {
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

    /// What follows a change verb: a target, then new values. None when
    /// it names neither a task nor a change ("move old monitor to attic" is
    /// a task of its own).
    fn change(&self, rest: &[Tok], can_rename: bool) -> Option<Command> {
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
                return match target_title(self.src, head) {
                    Some(title) => update(Target::Title(title), None, mods),
                    // "move it to friday": which task?
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
                && let Some(target) = target_title(self.src, rest.get(..at).unwrap_or_default())
            {
                let title = clean(&words(self.src, rest.get(at + 1..).unwrap_or_default()));
                if !title.is_empty() {
                    return update(Target::Title(target), Some(title), Mods::default());
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
        let title = target_title(self.src, head)?;
        Some(Command::Update {
            target: Target::Title(title),
            title: None,
            mods,
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
            let title = target_title(self.src, head)?;
            return Some(Command::Complete {
                target: Target::Title(title),
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
        let title = target_title(self.src, head)?;
        Some(Command::Complete {
            target: Target::Title(title),
            done: true,
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

/// `toks` without "to my list", "on the shopping list" at the end.
pub(super) fn without_list_suffix(toks: &[Tok]) -> Option<&[Tok]> {
    if let Some(head) = before_suffix(toks, LIST_SUFFIXES) {
        return Some(head);
    }
    let n = toks.len();
    if !toks
        .last()
        .is_some_and(|t| key_in(t, &["list", "todos", "tasks"]))
    {
        return None;
    }
    // "on|to (my|the|our) [shopping] list"
    for len in [3, 4] {
        let Some(start) = n.checked_sub(len) else {
            continue;
        };
        let (Some(prep), Some(owner)) = (toks.get(start), toks.get(start + 1)) else {
            continue;
        };
        if key_in(prep, &["on", "to", "onto"]) && key_in(owner, &["my", "the", "our"]) {
            return toks.get(..start);
        }
    }
    None
}

fn any_weekday(key: &str) -> bool {
    crate::dates::weekday(key).is_some()
        || matches!(
            key,
            "mon" | "tue" | "tues" | "wed" | "thu" | "thur" | "thurs" | "fri" | "sat" | "sun"
        )
}
