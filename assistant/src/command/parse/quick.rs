//! Quick add (`crate::quick_add`): the whole text is one task, read like the
//! words after "add", with each modifier's place kept for its chip.

use chrono::NaiveDateTime;
use todo_recurrence::Rule;

use super::super::{Mods, Priority};
use super::modifiers::{Piece, read_task_keeping};
use crate::dates::When;
use crate::quick_add::{Chip, ChipKind, QuickAdd, day_label, reminder_label};
use crate::words::{Tok, clean, tokenize, words};

/// Text past this many words is left in the title unread, as in the chat.
const MAX_WORDS: usize = 200;

pub(crate) fn quick_add(text: &str, now: NaiveDateTime, keep: &[(usize, usize)]) -> QuickAdd {
    let mut toks = tokenize(text);
    let unread = toks
        .get(MAX_WORDS..)
        .map(<[Tok]>::to_vec)
        .unwrap_or_default();
    toks.truncate(MAX_WORDS);
    let read = read_task_keeping(text, &toks, now, false, keep);
    let mut mods = read.mods;
    mods.finish(now, false);
    let mut title = read.title;
    title.extend(unread);
    let mut fields = serde_json::Map::new();
    fields.insert("title".into(), clean(&words(text, &title)).into());
    mods.write_to(&mut fields);
    let chips = read
        .parts
        .iter()
        .filter(|(.., used)| *used)
        .filter_map(|(start, len, piece, _)| {
            let first = toks.get(*start)?;
            let last = toks.get(start + len - 1)?;
            let (start, end) = trimmed(text, first.start, last.end);
            let (kind, label) = describe(piece, &mods, now);
            Some(Chip {
                kind,
                start,
                end,
                label,
            })
        })
        .collect();
    QuickAdd { fields, chips }
}

/// `start..end` without the punctuation a phrase's last word carries
/// ("tomorrow," "p1.").
fn trimmed(text: &str, start: usize, end: usize) -> (usize, usize) {
    let part = text.get(start..end).unwrap_or("");
    let inner = part.trim_end_matches([',', ';', '.', '!', '?', ':', ')']);
    let inner_start = inner.trim_start_matches('(');
    (
        start + (inner.len() - inner_start.len()),
        start + inner.len(),
    )
}

fn describe(piece: &Piece, mods: &Mods, now: NaiveDateTime) -> (ChipKind, String) {
    let today = now.date();
    match piece {
        Piece::When(When::Date(day)) => (ChipKind::Date, day_label(*day, today)),
        // The day a time alone lands on is the one `finish` chose.
        Piece::When(When::Time(time)) => {
            let day = mods.at.map_or(today, |at| at.date());
            (
                ChipKind::Time,
                format!("{} {}", day_label(day, today), time.format("%H:%M")),
            )
        }
        Piece::When(When::Both(day, time)) => (
            ChipKind::DateTime,
            format!("{} {}", day_label(*day, today), time.format("%H:%M")),
        ),
        Piece::Priority(priority) => (
            ChipKind::Priority,
            match priority {
                Priority::Urgent => "Urgent",
                Priority::High => "High priority",
                Priority::Medium => "Medium priority",
                Priority::Low => "Low priority",
            }
            .to_string(),
        ),
        Piece::Tag(tag) => (ChipKind::Tag, format!("#{tag}")),
        Piece::Repeat(rule, from_completion, _) => {
            let start = mods
                .at
                .or_else(|| mods.due.and_then(|d| d.and_hms_opt(0, 0, 0)))
                .unwrap_or(now);
            let words = Rule::parse(rule).map_or_else(|_| rule.clone(), |r| r.describe(start));
            let mut label = capitalized(&words);
            if *from_completion {
                label.push_str(", from completion");
            }
            (ChipKind::Recurrence, label)
        }
        Piece::Remind(minutes) => (ChipKind::Reminder, reminder_label(*minutes)),
    }
}

fn capitalized(words: &str) -> String {
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>()
    })
}
