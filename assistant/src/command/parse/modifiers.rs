//! A task's words: what is the title and what are modifiers (due date and
//! time, priority, #tags and @labels, recurrence, reminders), like Todoist's
//! Quick Add.
//!
//! Every modifier is first found wherever it could start (`candidates`);
//! then they are taken from the end of the task backwards, from its start
//! forwards, and, for those that cannot be anything else ("tomorrow", "at
//! 5pm", "#work", "every monday", "p1"), from anywhere. What is left is the
//! title. Words in quotes are never read as modifiers.

use chrono::{NaiveDate, NaiveDateTime};
use todo_recurrence::{Rule, Tz};

use super::super::{Mods, Priority};
use super::vocab::{CONNECTORS, PRIORITY_PREFIXES};
use crate::dates::{Reader, When, count_word};
use crate::words::{Tok, key_in};

#[derive(Debug, Clone)]
pub(super) enum Piece {
    When(When),
    Priority(Priority),
    Tag(String),
    /// Rule, from completion, first day.
    Repeat(String, bool, Option<NaiveDate>),
    Remind(i64),
}

#[derive(Debug, Clone)]
struct Candidate {
    start: usize,
    len: usize,
    piece: Piece,
    strong: bool,
    /// May stand at the start of a task ("urgent: call the bank").
    head: bool,
}

/// The words of a task: the title's and the modifiers.
pub(super) struct TaskWords {
    pub(super) title: Vec<Tok>,
    pub(super) mods: Mods,
    /// Each modifier taken, in order: its first word, how many words, what
    /// it says, and whether it counted (a second date is taken, not used).
    pub(super) parts: Vec<(usize, usize, Piece, bool)>,
}

/// Reads `toks` (one task) as title and modifiers. `bare` also takes a lone
/// "high"/"low" as a priority (after "set 3 to").
pub(super) fn read_task(src: &str, toks: &[Tok], now: NaiveDateTime, bare: bool) -> TaskWords {
    read_task_keeping(src, toks, now, bare, &[])
}

/// [`read_task`], with the words that touch a `literal` byte range of
/// `src` read as if quoted: quick add's dismissed chips.
pub(super) fn read_task_keeping(
    src: &str,
    toks: &[Tok],
    now: NaiveDateTime,
    bare: bool,
    literal: &[(usize, usize)],
) -> TaskWords {
    let mut quoted = quoted_mask(src, toks);
    for (flag, tok) in quoted.iter_mut().zip(toks) {
        *flag |= literal.iter().any(|(s, e)| tok.start < *e && tok.end > *s);
    }
    let reader = Reader { toks, src, now };
    let mut all: Vec<Candidate> = Vec::new();
    let mut names: Vec<(usize, usize)> = Vec::new();
    for i in 0..toks.len() {
        if quoted.get(i).copied().unwrap_or(true) {
            continue;
        }
        candidates_at(&reader, i, bare, &quoted, &mut all, &mut names);
    }
    // Nothing of a candidate may be quoted, or in a name.
    all.retain(|c| (c.start..c.start + c.len).all(|j| !quoted.get(j).copied().unwrap_or(true)));
    all.retain(|c| {
        names
            .iter()
            .all(|(s, l)| c.start >= s + l || c.start + c.len <= *s)
    });
    let mut taken = vec![false; toks.len()];
    let mut chosen: Vec<&Candidate> = Vec::new();
    let free = |taken: &[bool], c: &Candidate| {
        (c.start..c.start + c.len).all(|j| !taken.get(j).copied().unwrap_or(true))
    };
    let filler = |i: usize| toks.get(i).is_some_and(|t| key_in(t, CONNECTORS));
    // From the end backwards.
    let mut end = toks.len();
    let mut took_tail = false;
    loop {
        let mut at = end;
        while at > 0 && filler(at - 1) {
            at -= 1;
        }
        let best = all
            .iter()
            .filter(|c| c.start + c.len == at && free(&taken, c))
            .max_by_key(|c| c.len);
        let Some(best) = best else {
            break;
        };
        for flag in taken.iter_mut().take(end).skip(best.start) {
            *flag = true;
        }
        chosen.push(best);
        took_tail = true;
        end = best.start;
    }
    // Connectors left between the title and what was taken at the end.
    if took_tail {
        let mut at = end;
        while at > 0 && filler(at - 1) {
            at -= 1;
            if let Some(flag) = taken.get_mut(at) {
                *flag = true;
            }
        }
    }
    // From the start forwards.
    let mut start = 0;
    loop {
        while start < toks.len() && filler(start) && !taken.get(start).copied().unwrap_or(true) {
            start += 1;
        }
        let best = all
            .iter()
            .filter(|c| c.start == start && (c.strong || c.head) && free(&taken, c))
            .max_by_key(|c| c.len);
        let Some(best) = best else {
            break;
        };
        for flag in taken.iter_mut().skip(best.start).take(best.len) {
            *flag = true;
        }
        chosen.push(best);
        start = best.start + best.len;
        // "remind me at 3pm to stretch": the "to" goes with the modifier.
        while start < toks.len() && toks.get(start).is_some_and(|t| key_in(t, &["to", ""])) {
            if let Some(flag) = taken.get_mut(start) {
                *flag = true;
            }
            start += 1;
        }
        for flag in taken.iter_mut().take(start) {
            *flag = true;
        }
    }
    // Anywhere, when they cannot be anything else.
    let mut strong: Vec<&Candidate> = all.iter().filter(|c| c.strong).collect();
    strong.sort_by_key(|c| (c.start, std::cmp::Reverse(c.len)));
    for c in strong {
        if free(&taken, c) {
            for flag in taken.iter_mut().skip(c.start).take(c.len) {
                *flag = true;
            }
            chosen.push(c);
        }
    }
    chosen.sort_by_key(|c| c.start);
    let mut mods = Mods::default();
    let mut parts = Vec::with_capacity(chosen.len());
    for c in chosen {
        let used = apply(&mut mods, &c.piece);
        parts.push((c.start, c.len, c.piece.clone(), used));
    }
    let title = toks
        .iter()
        .zip(&taken)
        .filter(|(_, taken)| !**taken)
        .map(|(t, _)| t.clone())
        .collect();
    TaskWords { title, mods, parts }
}

/// Writes what `piece` says into `mods` unless they say it already; says
/// whether it did.
fn apply(mods: &mut Mods, piece: &Piece) -> bool {
    match piece {
        Piece::When(when) => {
            let (day, time) = match *when {
                When::Date(d) => (Some(d), None),
                When::Time(t) => (None, Some(t)),
                When::Both(d, t) => (Some(d), Some(t)),
            };
            let new_day = day.is_some() && mods.due.is_none();
            let new_time = time.is_some() && mods.time.is_none();
            mods.due = mods.due.or(day);
            mods.time = mods.time.or(time);
            new_day || new_time
        }
        Piece::Priority(p) => {
            let new = mods.priority.is_none();
            mods.priority.get_or_insert(*p);
            new
        }
        Piece::Tag(tag) => {
            if !mods.tags.contains(tag) {
                mods.tags.push(tag.clone());
            }
            true
        }
        Piece::Repeat(rule, completion, first) => {
            if mods.repeat.is_some() {
                return false;
            }
            mods.repeat = Some((rule.clone(), *completion));
            if let Some(first) = first {
                mods.due = Some(*first);
            }
            true
        }
        Piece::Remind(minutes) => {
            let new = mods.remind_before.is_none();
            mods.remind_before.get_or_insert(*minutes);
            new
        }
    }
}

/// Which words are inside quotes ("..." or “...”).
pub(super) fn quoted_mask(src: &str, toks: &[Tok]) -> Vec<bool> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<usize> = None;
    // Single quotes only at a word's edges: "don't" and "dad's" are words.
    let mut single: Option<usize> = None;
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    for (n, &(i, c)) in chars.iter().enumerate() {
        let before = n.checked_sub(1).and_then(|p| chars.get(p)).map(|p| p.1);
        let after = chars.get(n + 1).map(|p| p.1);
        match (c, open) {
            ('"' | '“' | '”' | '«' | '»', Some(o)) => {
                spans.push((o, i + c.len_utf8()));
                open = None;
            }
            ('"' | '“' | '«', None) => open = Some(i),
            ('\'' | '‘' | '’', None) => {
                let starts = before.is_none_or(char::is_whitespace)
                    && after.is_some_and(char::is_alphanumeric);
                let ends = before.is_some_and(|b| !b.is_whitespace())
                    && after.is_none_or(|a| a.is_whitespace() || ",.;:!?)".contains(a));
                match single {
                    Some(o) if ends => {
                        spans.push((o, i + c.len_utf8()));
                        single = None;
                    }
                    None if starts => single = Some(i),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    toks.iter()
        .map(|t| spans.iter().any(|(s, e)| t.start < *e && t.end > *s))
        .collect()
}

fn candidates_at(
    reader: &Reader,
    i: usize,
    bare: bool,
    quoted: &[bool],
    out: &mut Vec<Candidate>,
    names: &mut Vec<(usize, usize)>,
) {
    let toks = reader.toks;
    let Some(tok) = toks.get(i) else {
        return;
    };
    let key = tok.key.as_str();
    let raw = reader.src.get(tok.start..tok.end).unwrap_or("");
    let colon = raw.trim_end_matches(['!', '"']).ends_with(':');
    // #tag, @label.
    if let Some(tag) = key.strip_prefix(['#', '@'])
        && tag.chars().next().is_some_and(char::is_alphabetic)
    {
        out.push(Candidate {
            start: i,
            len: 1,
            piece: Piece::Tag(tag.to_string()),
            strong: true,
            head: true,
        });
        return;
    }
    if let Some(c) = tag_phrase_at(reader, i) {
        out.push(c);
    }
    if let Some(c) = repeat_at(reader, i, quoted) {
        out.push(c);
    }
    // A change's "to february": its first day (a month alone in a task's
    // words is a name: "call Jan").
    if bare
        && key == "to"
        && let Some(found) = reader.when_at(i).or_else(|| reader.month_start(i + 1))
    {
        out.push(Candidate {
            start: i,
            len: found.len + usize::from(reader.when_at(i).is_none()),
            piece: Piece::When(found.when),
            strong: false,
            head: false,
        });
    }
    if let Some(c) = month_day_repeat(reader, i) {
        out.push(c);
    }
    // "Friday the 13th" when the next 13th is no Friday: a name.
    if let Some(day) = crate::dates::weekday(key)
        && let Some(found) = reader.when_at(i + 1)
        && matches!(toks.get(i + 1).map(|t| t.key.as_str()), Some("the"))
        && let When::Date(date) = found.when
        && chrono::Datelike::weekday(&date) != day
    {
        names.push((i, 1 + found.len));
    }
    if let Some(found) = reader.when_at(i)
        && !title_cased(reader, i, found.len, names)
    {
        out.push(Candidate {
            start: i,
            len: found.len,
            piece: Piece::When(found.when),
            strong: found.strong,
            head: false,
        });
    }
    if let Some((len, priority, strong)) = priority_at(toks, i, bare) {
        let last = toks
            .get(i + len - 1)
            .map_or("", |t| reader.src.get(t.start..t.end).unwrap_or(""));
        out.push(Candidate {
            start: i,
            len,
            piece: Piece::Priority(priority),
            strong,
            head: last.trim_end_matches('!').ends_with(':') || colon,
        });
    }
    if let Some((len, minutes)) = remind_at(toks, i) {
        out.push(Candidate {
            start: i,
            len,
            piece: Piece::Remind(minutes),
            strong: false,
            head: false,
        });
    }
}

/// "tag it bills", "tagged work", "label it as home" as the whole of a
/// task's words after a comma ("pay rent on friday, tag it bills"): a tag.
/// Elsewhere "tag" is a word of the title ("buy a gift tag", "tag the
/// photos from the trip").
fn tag_phrase_at(reader: &Reader, i: usize) -> Option<Candidate> {
    const VERBS: &[&str] = &["tag", "tagged", "label", "labeled", "labelled"];
    const LEADS: &[&[&str]] = &[
        &["it", "as"],
        &["it", "with"],
        &["it"],
        &["as"],
        &["with"],
        &[],
    ];
    let toks = reader.toks;
    let after_comma = i
        .checked_sub(1)
        .and_then(|p| toks.get(p))
        .and_then(|t| reader.src.get(t.start..t.end))
        .is_some_and(|raw| raw.ends_with(','));
    if (i != 0 && !after_comma) || !toks.get(i).is_some_and(|t| key_in(t, VERBS)) {
        return None;
    }
    let rest = toks.get(i + 1..)?;
    let lead = LEADS
        .iter()
        .find(|l| crate::words::starts_with(rest, l))?
        .len();
    // The tag ends the task's words: "tag the photos from the trip" is a title.
    if rest.len() != lead + 1 {
        return None;
    }
    let word = rest.get(lead)?;
    let tag = word.key.trim_start_matches(['#', '@']);
    if tag.is_empty()
        || !tag
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    Some(Candidate {
        start: i,
        len: 2 + lead,
        piece: Piece::Tag(tag.to_string()),
        strong: false,
        head: true,
    })
}

/// "The Day After Tomorrow": three or more words, each capitalized, are a
/// name, not a date.
fn title_cased(reader: &Reader, i: usize, len: usize, names: &mut Vec<(usize, usize)>) -> bool {
    let named = len >= 3
        && reader.toks.iter().skip(i).take(len).all(|t| {
            reader
                .src
                .get(t.start..t.end)
                .and_then(|raw| raw.chars().find(|c| c.is_alphanumeric()))
                .is_some_and(char::is_uppercase)
        });
    if named {
        names.push((i, len));
    }
    named
}

/// "(on) the 1st of every month": read as "every month on the 1st".
fn month_day_repeat(reader: &Reader, i: usize) -> Option<Candidate> {
    let key = |n: usize| reader.toks.get(i + n).map(|t| t.key.as_str());
    let lead = usize::from(key(0) == Some("on"));
    if key(lead) != Some("the") {
        return None;
    }
    let day = key(lead + 1)?;
    if !day.ends_with(|c: char| c.is_alphabetic()) || !day.starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    // "of" may be left out: "on the 1st every month".
    let of = usize::from(key(lead + 2) == Some("of"));
    if !matches!(key(lead + 2 + of), Some("every" | "each")) || key(lead + 3 + of) != Some("month")
    {
        return None;
    }
    let phrase = todo_recurrence::words::parse(&format!("every month on the {day}"))?;
    Some(Candidate {
        start: i,
        len: lead + 4 + of,
        piece: Piece::Repeat(phrase.rule.to_string(), false, None),
        strong: true,
        head: true,
    })
}

const REPEAT_WORDS: &[&str] = &[
    "every",
    "each",
    "daily",
    "weekly",
    "fortnightly",
    "monthly",
    "yearly",
    "annually",
];

/// "every monday", "every! 3 days", "daily", with "starting jan 1" or
/// "until jan 26" after it.
fn repeat_at(reader: &Reader, i: usize, quoted: &[bool]) -> Option<Candidate> {
    let toks = reader.toks;
    let tok = toks.get(i)?;
    // "mon-fri": every weekday.
    let weekdays = matches!(tok.key.as_str(), "mon-fri" | "monday-friday" | "weekdays");
    let night = matches!(tok.key.as_str(), "every" | "each")
        && toks.get(i + 1).is_some_and(|t| t.key == "night");
    let (phrase, mut len) = if weekdays {
        (todo_recurrence::words::parse("every weekday")?, 1)
    } else if night {
        // "every night": at 20:00, as "tonight" is.
        (todo_recurrence::words::parse("every day at 8pm")?, 2)
    } else {
        if !REPEAT_WORDS.contains(&tok.key.as_str()) {
            return None;
        }
        // Up to the next quoted word.
        let last = (i..toks.len())
            .take_while(|j| !quoted.get(*j).copied().unwrap_or(true))
            .last()?;
        let text = reader.src.get(tok.start..toks.get(last)?.end)?;
        let phrase = todo_recurrence::words::parse(text)?;
        if tok.start + phrase.span.start >= tok.end {
            return None;
        }
        let end = tok.start + phrase.span.end;
        let len = toks.get(i..)?.iter().take_while(|t| t.start < end).count();
        (phrase, len)
    };
    let mut rule = phrase.rule.clone();
    let mut first = None;
    // "starting jan 1", "from next week", "until jan 26".
    loop {
        match toks.get(i + len).map(|t| t.key.as_str()) {
            Some("starting" | "from" | "beginning" | "start") if first.is_none() => {
                let mut at = i + len + 1;
                if toks.get(at).is_some_and(|t| t.key == "on") {
                    at += 1;
                }
                let Some(found) = reader.when_at(at) else {
                    break;
                };
                let day = match found.when {
                    When::Date(d) | When::Both(d, _) => d,
                    When::Time(_) => break,
                };
                first = Some(first_day(&rule, phrase.start.is_some(), day));
                len = at + found.len - i;
            }
            // "every friday afternoon": that part of the day, when no time is set.
            Some(part @ ("morning" | "afternoon" | "evening" | "night"))
                if !rule.to_string().contains("BYHOUR") =>
            {
                let hour = match part {
                    "morning" => 9,
                    "afternoon" => 15,
                    "evening" => 19,
                    _ => 20,
                };
                let Ok(with) = Rule::parse(&format!("{rule};BYHOUR={hour};BYMINUTE=0")) else {
                    break;
                };
                rule = with;
                len += 1;
            }
            // "every morning at 7": a bare hour, in the part of the day said.
            Some("at" | "@") => {
                let Some(hour) = toks
                    .get(i + len + 1)
                    .and_then(|t| t.key.parse::<u32>().ok())
                    .filter(|h| (1..=12).contains(h))
                else {
                    break;
                };
                let said = |w: &str| toks.iter().skip(i).take(len).any(|t| t.key == w);
                let pm = if said("evening") || said("night") {
                    true
                } else if said("morning") {
                    false
                } else {
                    hour <= 6
                };
                let hour = match (hour, pm) {
                    (12, false) => 0,
                    (12, true) => 12,
                    (h, true) => h + 12,
                    (h, false) => h,
                };
                let kept: Vec<String> = rule
                    .to_string()
                    .split(';')
                    .filter(|p| !p.starts_with("BYHOUR=") && !p.starts_with("BYMINUTE="))
                    .map(str::to_string)
                    .collect();
                let Ok(with) = Rule::parse(&format!("{};BYHOUR={hour};BYMINUTE=0", kept.join(";")))
                else {
                    break;
                };
                rule = with;
                len += 2;
            }
            Some("until" | "till") if !rule.to_string().contains("UNTIL") => {
                let at = i + len + 1;
                let Some(found) = reader.when_at(at) else {
                    break;
                };
                let When::Date(day) = found.when else {
                    break;
                };
                let Ok(with) = Rule::parse(&format!("{rule};UNTIL={}", day.format("%Y%m%d")))
                else {
                    break;
                };
                rule = with;
                len = at + found.len - i;
            }
            _ => break,
        }
    }
    let strong = matches!(tok.key.as_str(), "every" | "each");
    Some(Candidate {
        start: i,
        len,
        piece: Piece::Repeat(rule.to_string(), phrase.from_completion, first),
        strong,
        head: true,
    })
}

/// The first due day of a series that starts on `start`: the rule's first
/// day from then on when the rule names days, else `start`.
fn first_day(rule: &Rule, names_days: bool, start: NaiveDate) -> NaiveDate {
    if !names_days {
        return start;
    }
    start
        .and_hms_opt(0, 0, 0)
        .and_then(|s| rule.occurrences(s, Tz::UTC).next())
        .map_or(start, |o| o.local.date())
}

/// A priority at word `i`: "urgent", "high priority", "priority: low",
/// "p1", "with high priority", "not urgent". How many words, which, and
/// whether it can be nothing else.
pub(super) fn priority_at(toks: &[Tok], i: usize, bare: bool) -> Option<(usize, Priority, bool)> {
    let key = |n: usize| toks.get(i + n).map(|t| t.key.as_str());
    let mut lead = 0;
    while lead < 2 && key(lead).is_some_and(|k| PRIORITY_PREFIXES.contains(&k)) {
        lead += 1;
    }
    let k0 = key(lead)?;
    let k1 = key(lead + 1);
    let is_word = |k: Option<&str>| matches!(k, Some("priority" | "prio"));
    let (len, priority, strong) = match k0 {
        "p1" => (1, Priority::Urgent, true),
        "p2" => (1, Priority::High, true),
        "p3" => (1, Priority::Medium, true),
        "p4" => (1, Priority::Low, true),
        "urgent" | "urgently" | "asap" => (1, Priority::Urgent, false),
        "important" | "high-priority" => (1, Priority::High, false),
        "low-priority" => (1, Priority::Low, false),
        "medium-priority" | "normal-priority" => (1, Priority::Medium, false),
        "not" if matches!(k1, Some("urgent" | "important")) => (2, Priority::Low, false),
        "priority" | "prio" => {
            let level = k1.and_then(Priority::from_level)?;
            (2, level, false)
        }
        level => {
            let level = Priority::from_level(level)?;
            if is_word(k1) {
                (2, level, false)
            } else if bare {
                (1, level, false)
            } else {
                return None;
            }
        }
    };
    // A lead word alone ("a", "is") is only taken with the priority.
    Some((lead + len, priority, strong))
}

/// "remind me 30 minutes before", "with a reminder 2 hours before".
fn remind_at(toks: &[Tok], i: usize) -> Option<(usize, i64)> {
    const LEADS: &[&[&str]] = &[
        &["and", "remind", "me"],
        &["remind", "me"],
        &["with", "a", "reminder"],
        &["and", "a", "reminder"],
        &["a", "reminder"],
        &["reminder"],
        &[],
    ];
    let rest = toks.get(i..)?;
    for lead in LEADS {
        if lead.len() + 3 > rest.len() || !rest.iter().zip(lead.iter()).all(|(t, w)| t.key == *w) {
            continue;
        }
        let key = |n: usize| rest.get(lead.len() + n).map(|t| t.key.as_str());
        if !matches!(key(2), Some("before" | "earlier" | "ahead")) {
            continue;
        }
        let unit = match key(1)? {
            "minute" | "minutes" | "min" | "mins" => 1,
            "hour" | "hours" | "hr" | "hrs" => 60,
            "day" | "days" => 24 * 60,
            _ => continue,
        };
        let count = i64::try_from(count_word(key(0)?)?).ok()?;
        return Some((lead.len() + 3, count.checked_mul(unit)?));
    }
    None
}
