//! New tasks: the add verbs, then one task or several ("milk, eggs and
//! bread"), each read by `modifiers`.

use super::super::{Command, Mods};
use super::modifiers::{quoted_mask, read_task};
use super::sentence::Parser;
use super::vocab::{ADD_PREFIXES, BODY_LEADS, CONNECTORS, LIST_SUFFIXES};
use crate::words::{
    Tok, after_prefix, before_suffix, clean, key_in, starts_with, tokenize_range, words,
};

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
        // "3 things: milk, eggs, flour", "the following: ..."
        let body = match body.iter().take(3).position(|t| {
            self.src
                .get(t.start..t.end)
                .is_some_and(|raw| raw.ends_with(':'))
                && key_in(
                    t,
                    &[
                        "things",
                        "items",
                        "tasks",
                        "following",
                        "these",
                        "todos",
                        "stuff",
                    ],
                )
        }) {
            Some(at) => body.get(at + 1..).unwrap_or_default(),
            None => body,
        };
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
