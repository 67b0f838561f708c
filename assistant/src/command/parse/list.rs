//! Sentences that ask for a list of tasks ("what's still open?", "what's
//! due before friday", "show #work", "show the 5 most important tasks"),
//! with the filters of `list_tasks`.

use chrono::{Datelike, Days, NaiveDate};
use serde_json::{Map, Value};

use super::super::{Command, Status};
use super::sentence::Parser;
use crate::dates::{Reader, When, count_word, ymd};
use crate::words::{Tok, clean, key_in, words};

/// Words that may stand in a listing question without changing it.
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
    "how",
    "many",
    "there",
    "any",
    "anything",
    "that",
    "i'm",
    "am",
    "a",
    "an",
    "you",
    "can",
    "",
    "due",
    "has",
    "have",
    "with",
    "should",
    "up",
    "coming",
    "upcoming",
    "ones",
    "one",
    "only",
    "just",
    "please",
    "list",
    "them",
    "tasks?",
    "planned",
    "scheduled",
    "for",
    "it",
    "be",
    "first",
    "plate",
    "agenda",
    "calendar",
    "schedule",
    "lined",
    "coming",
    "and",
    "or",
    "plus",
];

/// Words that make a sentence a listing question.
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
    "anything",
    "any",
    "how",
    "agenda",
    "highest",
];

#[derive(Default)]
struct Ask {
    status: Option<Status>,
    /// "all", "everything": every status, unless dates say otherwise.
    every: bool,
    /// "what's due": tasks with a due date, unless dates say which.
    due: bool,
    query: Option<String>,
    filters: Map<String, Value>,
}

impl Parser<'_> {
    pub(super) fn list(&self, toks: &[Tok]) -> Option<Command> {
        if !toks.iter().any(|t| key_in(t, TRIGGERS)) {
            return None;
        }
        // "complete my tasks" is a (vague) command, not a question, and so
        // is "finished everything".
        if toks
            .first()
            .is_some_and(|t| key_in(t, &["complete", "finish"]))
            && toks.len() > 1
        {
            return None;
        }
        if toks
            .first()
            .is_some_and(|t| key_in(t, &["finished", "done", "completed"]))
            && toks
                .iter()
                .skip(1)
                .any(|t| key_in(t, &["everything", "all", "it", "them"]))
        {
            return None;
        }
        let mut ask = Ask::default();
        let reader = Reader {
            toks,
            src: self.src,
            now: self.now,
        };
        let today = self.today;
        let mut i = 0;
        while i < toks.len() {
            let used = self.filter_at(&reader, i, today, &mut ask)?;
            i += used.max(1);
        }
        // "what did I do today": when they were done, which no filter says.
        if ask.status == Some(Status::Completed) {
            for key in ["due", "due_from", "due_to"] {
                ask.filters.remove(key);
            }
        }
        let dated = ["due", "due_from", "due_to"]
            .iter()
            .any(|k| ask.filters.contains_key(*k));
        if ask.due && !dated {
            ask.filters.insert("due".to_string(), "any".into());
        }
        // "my most important task": one.
        if ask.filters.get("sort").is_some_and(|s| s == "priority")
            && !ask.filters.contains_key("limit")
            && toks.iter().any(|t| key_in(t, &["task", "thing", "todo"]))
        {
            ask.filters.insert("limit".to_string(), 1.into());
        }
        let status = ask
            .status
            .unwrap_or(if ask.query.is_some() || (ask.every && !dated) {
                Status::All
            } else {
                Status::Pending
            });
        Some(Command::List {
            status,
            query: ask.query,
            filters: ask.filters,
        })
    }

    /// Reads one filter (or listing word) at `i`: how many words it takes;
    /// None when the word does not belong in a listing question.
    fn filter_at(
        &self,
        reader: &Reader,
        i: usize,
        today: NaiveDate,
        ask: &mut Ask,
    ) -> Option<usize> {
        let toks = reader.toks;
        let key = |n: usize| toks.get(i + n).map(|t| t.key.as_str());
        let k0 = key(0)?;
        let set = |ask: &mut Ask, name: &str, value: Value| {
            ask.filters.insert(name.to_string(), value);
        };
        // "#work", "@family"
        if let Some(tag) = k0.strip_prefix(['#', '@'])
            && tag.chars().next().is_some_and(char::is_alphabetic)
        {
            set(ask, "tag", tag.into());
            return Some(1);
        }
        match k0 {
            // "what's due next week": "due" only says dates follow.
            "due" => {
                ask.due = true;
                return Some(1);
            }
            "tagged" | "labeled" | "labelled" => {
                let tag = key(1)?.trim_start_matches(['#', '@']);
                set(ask, "tag", tag.into());
                return Some(2);
            }
            "about" | "mentioning" | "regarding" | "containing" | "matching" => {
                let mut rest = toks.get(i + 1..)?;
                while rest.len() > 1
                    && rest
                        .first()
                        .is_some_and(|t| key_in(t, &["the", "my", "a", "an"]))
                {
                    rest = rest.get(1..)?;
                }
                let query = clean(&words(self.src, rest));
                if query.is_empty() {
                    return None;
                }
                ask.query = Some(query);
                return Some(toks.len() - i);
            }
            "soon" | "upcoming" => {
                set(ask, "due", "week".into());
                return Some(1);
            }
            "overdue" | "late" => {
                set(ask, "due", "overdue".into());
                return Some(1);
            }
            "past" if key(1) == Some("due") => {
                set(ask, "due", "overdue".into());
                return Some(2);
            }
            "today's" => {
                set(ask, "due", "today".into());
                return Some(1);
            }
            "tomorrow's" => {
                set(ask, "due", "tomorrow".into());
                return Some(1);
            }
            "urgent" => {
                set(ask, "priority_at_least", "urgent".into());
                return Some(1);
            }
            "important" | "high-priority" => {
                set(ask, "priority_at_least", "high".into());
                return Some(1);
            }
            "high" if matches!(key(1), Some("priority" | "prio")) => {
                set(ask, "priority_at_least", "high".into());
                return Some(2);
            }
            "most" if matches!(key(1), Some("important" | "urgent" | "pressing")) => {
                set(ask, "sort", "priority".into());
                return Some(2);
            }
            "by" | "sorted" | "ordered"
                if key(1) == Some("priority") || key(2) == Some("priority") =>
            {
                set(ask, "sort", "priority".into());
                return Some(if key(1) == Some("priority") { 2 } else { 3 });
            }
            "newest" | "latest" | "recent" | "recently" | "new" => {
                set(ask, "sort", "created".into());
                let first = matches!(key(1), Some("first"));
                return Some(1 + usize::from(first));
            }
            "details" | "detail" | "detailed" | "descriptions" | "notes" => {
                set(ask, "details", true.into());
                return Some(1);
            }
            "recurring" | "repeating" | "repeat" | "repeats" | "repeated" | "recur" => {
                set(ask, "recurring", true.into());
                return Some(1);
            }
            "undated" => {
                set(ask, "due", "none".into());
                return Some(1);
            }
            "without" | "no" => {
                let mut n = 1;
                while matches!(key(n), Some("a" | "any" | "due")) {
                    n += 1;
                }
                if matches!(key(n), Some("date" | "dates" | "deadline" | "due")) {
                    set(ask, "due", "none".into());
                    return Some(n + 1);
                }
                if k0 == "no" && key(1) == Some("due") {
                    set(ask, "due", "none".into());
                    return Some(2);
                }
                return None;
            }
            "completed" | "complete" | "done" | "finished" | "finish" | "did" => {
                ask.status = Some(Status::Completed);
                return Some(1);
            }
            "all" | "everything" | "every" => {
                ask.every = true;
                return Some(1);
            }
            "highest" | "top" if matches!(key(1), Some("priority" | "prio")) => {
                set(ask, "sort", "priority".into());
                return Some(2);
            }
            "top" => {
                set(ask, "sort", "priority".into());
                if let Some(n) = key(1)
                    .and_then(count_word)
                    .filter(|n| (1..=100).contains(n))
                {
                    set(ask, "limit", n.into());
                    return Some(2);
                }
                return Some(1);
            }
            "priorities" | "prioritized" => {
                set(ask, "sort", "priority".into());
                return Some(1);
            }
            "next" | "coming" if key(2).is_some_and(|k| matches!(k, "days" | "weeks")) => {
                let n = key(1)
                    .and_then(count_word)
                    .filter(|n| (1..=366).contains(n))?;
                let days = if key(2) == Some("weeks") { n * 7 } else { n };
                set(ask, "due_from", ymd(today).into());
                set(
                    ask,
                    "due_to",
                    ymd(today.checked_add_days(Days::new(days))?).into(),
                );
                return Some(3);
            }
            "next" => {
                if let Some(n) = key(1)
                    .and_then(count_word)
                    .filter(|n| (1..=100).contains(n))
                {
                    set(ask, "limit", n.into());
                    return Some(2);
                }
                if reader.when_at(i).is_none() {
                    set(ask, "limit", 1.into());
                    return Some(1);
                }
            }
            _ => {}
        }
        // "(on) this weekend", "next weekend": Saturday and Sunday.
        let lead = usize::from(matches!(k0, "on" | "for" | "over"));
        let w0 = key(lead).unwrap_or("");
        if matches!(w0, "this" | "next" | "weekend")
            && (w0 == "weekend" || key(lead + 1) == Some("weekend"))
        {
            let ahead = (5 + 7 - today.weekday().num_days_from_monday()) % 7;
            let mut sat = today.checked_add_days(Days::new(u64::from(ahead)))?;
            if w0 == "next" && ahead == 0 {
                sat = sat.checked_add_days(Days::new(7))?;
            }
            set(ask, "due_from", ymd(sat).into());
            set(ask, "due_to", ymd(sat.succ_opt()?).into());
            return Some(lead + if w0 == "weekend" { 1 } else { 2 });
        }
        // "this month", "next month"
        if matches!(k0, "this" | "next") && matches!(key(1), Some("month" | "month's")) {
            let first = today.with_day(1)?;
            let (from, first) = if k0 == "this" {
                (today, first)
            } else {
                let next = first.checked_add_months(chrono::Months::new(1))?;
                (next, next)
            };
            let last = first
                .checked_add_months(chrono::Months::new(1))?
                .pred_opt()?;
            set(ask, "due_from", ymd(from).into());
            set(ask, "due_to", ymd(last).into());
            return Some(2);
        }
        // "this week", "next week"
        if matches!(k0, "this" | "next") && matches!(key(1), Some("week" | "week's")) {
            let monday = today
                .checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_monday())))?;
            let (from, to) = if k0 == "this" {
                (today, monday.checked_add_days(Days::new(6))?)
            } else {
                (
                    monday.checked_add_days(Days::new(7))?,
                    monday.checked_add_days(Days::new(13))?,
                )
            };
            set(ask, "due_from", ymd(from).into());
            set(ask, "due_to", ymd(to).into());
            return Some(2);
        }
        // "before friday", "by friday", "on friday", "for dec 24", "tomorrow".
        let (lead, at) = match k0 {
            "before" | "by" | "until" | "till" | "on" | "for" => (Some(k0), i + 1),
            _ => (None, i),
        };
        if let Some(found) = reader.when_at(at)
            && let When::Date(day) | When::Both(day, _) = found.when
        {
            let used = at - i + found.len;
            match lead {
                Some("before") => {
                    set(ask, "due_to", ymd(day.pred_opt()?).into());
                }
                Some("by" | "until" | "till") => {
                    set(ask, "due_to", ymd(day).into());
                }
                _ if day == today => set(ask, "due", "today".into()),
                _ if Some(day) == today.succ_opt() => set(ask, "due", "tomorrow".into()),
                _ => {
                    set(ask, "due_from", ymd(day).into());
                    set(ask, "due_to", ymd(day).into());
                }
            }
            return Some(used);
        }
        // "the 5 most important", "my next 3 tasks"
        let before = i
            .checked_sub(1)
            .and_then(|p| toks.get(p))
            .map(|t| t.key.as_str());
        if let Some(n) = count_word(k0).filter(|n| (1..=100).contains(n))
            && k0.bytes().all(|b| b.is_ascii_digit())
            && (matches!(
                key(1),
                Some("most" | "tasks" | "task" | "todos" | "items" | "things")
            ) || matches!(before, Some("the" | "top" | "first")))
        {
            set(ask, "limit", n.into());
            return Some(1);
        }
        if VOCAB.contains(&k0) {
            return Some(1);
        }
        // "show work tasks": a word before "tasks" is a tag.
        if matches!(key(1), Some("tasks" | "task" | "todos" | "items" | "stuff"))
            && k0.chars().all(char::is_alphanumeric)
            && i > 0
        {
            set(ask, "tag", k0.into());
            return Some(1);
        }
        None
    }
}
