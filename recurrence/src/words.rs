//! English recurrence phrases in a task's text, as rules: "every monday",
//! "every! 3 days", "every 3rd friday at 9am", "daily until 31 march 2027".
//! A small grammar, not a language model: what it does not know it leaves
//! alone ("everyone", "every" alone, "evening walk" are not phrases).
//!
//! A phrase that names days gives a rule that names them too ("every 15th"
//! → `FREQ=MONTHLY;BYMONTHDAY=15`), so the series does not depend on the
//! start a caller picks; a phrase that names only a frequency ("every
//! month") takes its day from the start. Every wording [`Rule::describe`]
//! gives for the forms below reads back as the same rule.
//!
//! Understood, in any case, with the optional parts after it in any order:
//! - `every day`, `daily`, `every other day`, `every N days` (also weeks,
//!   months, years, and `every second week`), `every week`, `weekly`,
//!   `fortnightly`, `every month`, `monthly`, `every year`, `yearly`,
//!   `annually`;
//! - `every weekday`, `every weekend`, `every monday`, `every mon and thu`,
//!   `every other monday`, `every week on monday and friday`;
//! - `every 15th`, `every 1st and 15th`, `every last day`, `every 3rd friday`,
//!   `every last friday`, `every 2nd to last monday`, `every month on the 7th`,
//!   `every month on the 1st and last sunday`;
//! - `every 29 february`, `every february 29th`, `every year on 10 june and 10 july`,
//!   `every year on the 1st sunday of april`;
//! - `every morning` (09:00), `every evening` (19:00);
//! - then `at 9am`, `at 17:30`, `at 9:00 and 17:00`, `morning`, `in the
//!   evening`, `in march`, `until 31 march 2027`, `until 17:00 on 31 march
//!   2027`, `for 5 times`, `5 times`, `once`, `twice`, `weeks starting on
//!   sunday`.
//!
//! `every!` (Todoist's notation) counts the next occurrence from completion.

use std::ops::Range;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};

use crate::Rule;
use crate::rule::{WEEKEND, WORKWEEK, weekday_code};

/// Longer texts are read only this far: a task title is short.
const MAX_TOKENS: usize = 200;
/// "every morning", "every evening": the times these words mean.
const MORNING: (u32, u32) = (9, 0);
const EVENING: (u32, u32) = (19, 0);

/// A recurrence phrase found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    pub rule: Rule,
    /// `every!`: the next occurrence counts from when the task was done
    /// (the recurrence's `anchor: "completion"`), not from its due date.
    pub from_completion: bool,
    /// What the phrase fixed beyond the frequency; None when it named only a
    /// frequency ("every 3 days", "every! month").
    pub start: Option<StartHint>,
    /// The bytes of the text the phrase covers, to cut it out of a title.
    pub span: Range<usize>,
}

/// What a phrase fixes about the first occurrence, for a caller choosing the
/// task's first due date. The rule carries the same facts; this says which
/// kind the phrase gave, so the caller knows whether a start of its own
/// (the due date the user typed, or today) decides the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartHint {
    /// The phrase names the days ("every monday", "every 15th", "every last
    /// friday", "every 29 february"), perhaps a time too: the first due date
    /// is the rule's first occurrence from today.
    Day,
    /// The phrase names only a time of day ("every day at 9am", "every
    /// morning"): the first of these times is given; the day is the caller's.
    Time(NaiveTime),
}

/// The first recurrence phrase in `text`, if any.
pub fn parse(text: &str) -> Option<Phrase> {
    let tokens = tokenize(text);
    (0..tokens.len()).find_map(|at| phrase_at(&tokens, at))
}

struct Token {
    word: String,
    span: Range<usize>,
}

/// Words and numbers, lowercased, with their byte ranges; `:` and `-` stay
/// inside numbers ("17:30", "2027-03-31"), `!` after "every".
fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() && tokens.len() < MAX_TOKENS {
        let (start, c) = chars[i];
        if !c.is_alphanumeric() {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while let Some(&(_, c)) = chars.get(j) {
            let between_digits = matches!(c, ':' | '-')
                && chars[j - 1].1.is_ascii_digit()
                && chars.get(j + 1).is_some_and(|n| n.1.is_ascii_digit());
            if c.is_alphanumeric() || between_digits {
                j += 1;
            } else {
                break;
            }
        }
        let mut end = chars.get(j).map_or(text.len(), |c| c.0);
        let mut word = text[start..end].to_lowercase();
        if word == "every" && chars.get(j).is_some_and(|c| c.1 == '!') {
            word.push('!');
            end += 1;
            j += 1;
        }
        tokens.push(Token {
            word,
            span: start..end,
        });
        i = j;
    }
    tokens
}

/// The rule being read.
#[derive(Debug, Clone)]
struct Draft {
    freq: &'static str,
    interval: u32,
    by_month: Vec<u32>,
    by_month_day: Vec<i32>,
    by_day: Vec<(i32, Weekday)>,
    times: Vec<(u32, u32)>,
    count: Option<u32>,
    /// UNTIL's value.
    until: Option<String>,
    week_starts_sunday: bool,
}

impl Draft {
    fn new(freq: &'static str, interval: u32) -> Self {
        Self {
            freq,
            interval,
            by_month: Vec::new(),
            by_month_day: Vec::new(),
            by_day: Vec::new(),
            times: Vec::new(),
            count: None,
            until: None,
            week_starts_sunday: false,
        }
    }

    fn weekly(interval: u32, days: Vec<Weekday>) -> Self {
        let mut draft = Self::new("WEEKLY", interval);
        draft.by_day = days.into_iter().map(|d| (0, d)).collect();
        draft
    }

    fn with_days(mut self, days: Days) -> Self {
        match days {
            Days::Month(values) => self.by_month_day = values,
            Days::Nth(values) => self.by_day = values,
        }
        self
    }

    fn rrule(&self) -> String {
        let join = |values: Vec<String>| values.join(",");
        let mut text = format!("FREQ={};INTERVAL={}", self.freq, self.interval);
        if !self.by_month.is_empty() {
            text += &format!(
                ";BYMONTH={}",
                join(self.by_month.iter().map(u32::to_string).collect())
            );
        }
        if !self.by_month_day.is_empty() {
            text += &format!(
                ";BYMONTHDAY={}",
                join(self.by_month_day.iter().map(i32::to_string).collect())
            );
        }
        if !self.by_day.is_empty() {
            let days = self
                .by_day
                .iter()
                .map(|&(nth, day)| match nth {
                    0 => weekday_code(day).to_string(),
                    nth => format!("{nth}{}", weekday_code(day)),
                })
                .collect();
            text += &format!(";BYDAY={}", join(days));
        }
        if !self.times.is_empty() {
            let (hours, minutes) = split_times(&self.times);
            text += &format!(
                ";BYHOUR={};BYMINUTE={}",
                join(hours.iter().map(u32::to_string).collect()),
                join(minutes.iter().map(u32::to_string).collect())
            );
        }
        if self.week_starts_sunday {
            text += ";WKST=SU";
        }
        if let Some(count) = self.count {
            text += &format!(";COUNT={count}");
        }
        if let Some(until) = &self.until {
            text += &format!(";UNTIL={until}");
        }
        text
    }

    fn hint(&self) -> Option<StartHint> {
        if !self.by_day.is_empty() || !self.by_month_day.is_empty() {
            Some(StartHint::Day)
        } else {
            let &(hour, minute) = self.times.iter().min()?;
            NaiveTime::from_hms_opt(hour, minute, 0).map(StartHint::Time)
        }
    }
}

/// A list of times as BYHOUR and BYMINUTE, sorted and without repeats.
fn split_times(times: &[(u32, u32)]) -> (Vec<u32>, Vec<u32>) {
    let mut hours: Vec<u32> = times.iter().map(|t| t.0).collect();
    let mut minutes: Vec<u32> = times.iter().map(|t| t.1).collect();
    hours.sort_unstable();
    hours.dedup();
    minutes.sort_unstable();
    minutes.dedup();
    (hours, minutes)
}

/// Days a phrase names: days of the month (`-1` the last), or nth weekdays.
enum Days {
    Month(Vec<i32>),
    Nth(Vec<(i32, Weekday)>),
}

fn phrase_at(tokens: &[Token], at: usize) -> Option<Phrase> {
    let mut p = Reader { tokens, at };
    let head = p.word(0)?;
    p.at += 1;
    let from_completion = head == "every!";
    let mut draft = match head {
        "every" | "every!" | "each" => p.every()?,
        "daily" => Draft::new("DAILY", 1),
        "weekly" => p.on_weekdays(Draft::new("WEEKLY", 1)),
        "fortnightly" => p.on_weekdays(Draft::new("WEEKLY", 2)),
        "monthly" => p.on_month_days(Draft::new("MONTHLY", 1)),
        "yearly" | "annually" => p.on_year_days(Draft::new("YEARLY", 1)),
        _ => return None,
    };
    p.extras(&mut draft);
    let rule = Rule::parse(&draft.rrule()).ok()?;
    let last = tokens.get(p.at.checked_sub(1)?)?;
    Some(Phrase {
        rule,
        from_completion,
        start: draft.hint(),
        span: tokens[at].span.start..last.span.end,
    })
}

/// Reads tokens from `at`; a method that fails leaves `at` where it was.
struct Reader<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl<'a> Reader<'a> {
    fn word(&self, ahead: usize) -> Option<&'a str> {
        self.tokens.get(self.at + ahead).map(|t| t.word.as_str())
    }

    fn eat(&mut self, word: &str) -> bool {
        let found = self.word(0) == Some(word);
        if found {
            self.at += 1;
        }
        found
    }

    /// Runs `read`, putting the position back when it finds nothing.
    fn attempt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let at = self.at;
        let found = read(self);
        if found.is_none() {
            self.at = at;
        }
        found
    }

    /// After "every".
    fn every(&mut self) -> Option<Draft> {
        let word = self.word(0)?;
        if let Some(n) = count_word(word).or_else(|| (word == "other").then_some(2)) {
            if let Some(draft) = self.attempt(|p| p.year_days().map(yearly)) {
                return Some(draft);
            }
            self.at += 1;
            return self.attempt(|p| p.unit(n));
        }
        // "every second week", "every 3rd day" (but "every first day of the
        // month" is a month day, and "every 3rd friday" a weekday).
        let unit_follows = matches!(self.word(1), Some("day" | "week" | "month" | "year"));
        if let Some((n, _)) = ordinal(word).filter(|_| unit_follows) {
            let unit = self.attempt(|p| {
                p.at += 1;
                let draft = p.unit(n.unsigned_abs())?;
                (p.word(0) != Some("of")).then_some(draft)
            });
            if unit.is_some() {
                return unit;
            }
        }
        let simple = match word {
            "day" => Some(Draft::new("DAILY", 1)),
            "weekday" | "weekdays" => Some(Draft::weekly(1, WORKWEEK.to_vec())),
            "weekend" | "weekends" => Some(Draft::weekly(1, WEEKEND.to_vec())),
            "morning" | "evening" => {
                let mut draft = Draft::new("DAILY", 1);
                draft.times = vec![if word == "morning" { MORNING } else { EVENING }];
                Some(draft)
            }
            _ => None,
        };
        if let Some(draft) = simple {
            self.at += 1;
            return Some(draft);
        }
        match word {
            "week" | "month" | "year" => self.unit(1),
            _ if weekday(word).is_some() => self.weekdays().map(|days| Draft::weekly(1, days)),
            _ => self
                .attempt(|p| p.year_days().map(yearly))
                .or_else(|| self.attempt(|p| p.ordinal_days())),
        }
    }

    /// "day(s)", "week(s) [on …]", "month(s) [on …]", "year(s) [on …]", or
    /// weekdays ("every other monday"), every `n`.
    fn unit(&mut self, n: u32) -> Option<Draft> {
        let word = self.word(0)?;
        let draft = match word {
            "day" | "days" => Draft::new("DAILY", n),
            "week" | "weeks" => {
                self.at += 1;
                return Some(self.on_weekdays(Draft::new("WEEKLY", n)));
            }
            "month" | "months" => {
                self.at += 1;
                return Some(self.on_month_days(Draft::new("MONTHLY", n)));
            }
            "year" | "years" => {
                self.at += 1;
                return Some(self.on_year_days(Draft::new("YEARLY", n)));
            }
            "weekday" | "weekdays" => Draft::weekly(n, WORKWEEK.to_vec()),
            _ => return self.weekdays().map(|days| Draft::weekly(n, days)),
        };
        self.at += 1;
        Some(draft)
    }

    /// "[on] monday and friday" after a weekly frequency.
    fn on_weekdays(&mut self, draft: Draft) -> Draft {
        let days = self.attempt(|p| {
            p.eat("on");
            p.weekdays()
        });
        match days {
            Some(days) => Draft {
                by_day: days.into_iter().map(|d| (0, d)).collect(),
                ..draft
            },
            None => draft,
        }
    }

    /// "on the 7th", "on the last day", "on the 1st and last sunday" after a
    /// monthly frequency.
    fn on_month_days(&mut self, draft: Draft) -> Draft {
        let days = self.attempt(|p| {
            p.eat("on");
            let days = p.month_days()?;
            p.of_the_month();
            Some(days)
        });
        match days {
            Some(days) => draft.with_days(days),
            None => draft,
        }
    }

    /// "on 29 february", "on 10 june and 10 july", "on the 1st sunday of
    /// april" after a yearly frequency.
    fn on_year_days(&mut self, draft: Draft) -> Draft {
        let dated = self.attempt(|p| {
            p.eat("on");
            p.year_days()
        });
        if let Some((months, days)) = dated {
            return Draft {
                by_month: months,
                by_month_day: days,
                ..draft
            };
        }
        let named = self.attempt(|p| {
            p.eat("on");
            let days = p.month_days()?;
            let months = p
                .attempt(|p| {
                    (p.eat("of") || p.eat("in")).then_some(())?;
                    p.months()
                })
                .unwrap_or_default();
            if months.is_empty() {
                p.attempt(|p| (p.eat("of") && p.eat("the") && p.eat("year")).then_some(()));
            }
            Some((days, months))
        });
        match named {
            Some((days, months)) => Draft {
                by_month: months,
                ..draft.with_days(days)
            },
            None => draft,
        }
    }

    /// "every 15th", "every 3rd friday", "every last day [of the month]",
    /// "every last friday of may".
    fn ordinal_days(&mut self) -> Option<Draft> {
        let days = self.month_days()?;
        let months = self.attempt(|p| {
            (p.eat("of") || p.eat("in")).then_some(())?;
            p.months()
        });
        match months {
            Some(months) => Some(Draft {
                by_month: months,
                ..Draft::new("YEARLY", 1).with_days(days)
            }),
            None => {
                self.of_the_month();
                Some(Draft::new("MONTHLY", 1).with_days(days))
            }
        }
    }

    /// "of the month", "of every month", "of each month": said, nothing to add.
    fn of_the_month(&mut self) {
        self.attempt(|p| {
            (p.eat("of") && (p.eat("the") || p.eat("every") || p.eat("each")) && p.eat("month"))
                .then_some(())
        });
    }

    /// "the 2nd and 15th", "the 1st and the last day", "the 3rd to last
    /// day", "the 3rd friday", "the 1st and last sunday", "the 1st monday and
    /// the 3rd friday": days of the month, or nth weekdays, not both.
    fn month_days(&mut self) -> Option<Days> {
        self.attempt(|p| {
            let mut month_days = Vec::new();
            let mut nths = Vec::new();
            // Ordinals waiting for the word that says what they count.
            let mut pending: Vec<(i32, bool)> = Vec::new();
            loop {
                let before = p.at;
                p.eat("the");
                let Some(n) = p.ordinal_expr() else {
                    p.at = before;
                    break;
                };
                pending.push(n);
                if let Some(day) = p.word(0).and_then(weekday) {
                    p.at += 1;
                    nths.extend(pending.drain(..).map(|(n, _)| (n, day)));
                } else if p.eat("day") {
                    month_days.extend(pending.drain(..).map(|(n, _)| n));
                }
                let before = p.at;
                p.eat("and");
                if !p.next_is_ordinal() {
                    p.at = before;
                    break;
                }
            }
            // Bare ordinals are days of the month when written as numbers ("every 15th").
            for (n, numeric) in pending {
                if n < 0 || !numeric {
                    return None;
                }
                month_days.push(n);
            }
            match (month_days.is_empty(), nths.is_empty()) {
                (false, true) => Some(Days::Month(month_days)),
                (true, false) => Some(Days::Nth(nths)),
                _ => None,
            }
        })
    }

    fn next_is_ordinal(&self) -> bool {
        let offset = usize::from(self.word(0) == Some("the"));
        self.word(offset)
            .is_some_and(|w| w == "last" || ordinal(w).is_some())
    }

    /// "3rd" (3, written as a number), "third" (3), "last" (-1), "2nd to
    /// last" (-2).
    fn ordinal_expr(&mut self) -> Option<(i32, bool)> {
        let word = self.word(0)?;
        if word == "last" {
            self.at += 1;
            return Some((-1, false));
        }
        let (n, numeric) = ordinal(word)?;
        self.at += 1;
        if self.word(0) == Some("to") && self.word(1) == Some("last") {
            self.at += 2;
            return Some((-n, false));
        }
        Some((n, numeric))
    }

    /// "monday and friday", "mon thu", "mondays or fridays".
    fn weekdays(&mut self) -> Option<Vec<Weekday>> {
        let first = weekday(self.word(0)?)?;
        self.at += 1;
        let mut days = vec![first];
        loop {
            let before = self.at;
            let _ = self.eat("and") || self.eat("or");
            match self.word(0).and_then(weekday) {
                Some(day) => {
                    self.at += 1;
                    days.push(day);
                }
                None => {
                    self.at = before;
                    break;
                }
            }
        }
        Some(days)
    }

    /// "29 february", "february 29th", "the 29th of february", and lists of
    /// them that make one month day in several months or several days in one
    /// month: (months, days).
    fn year_days(&mut self) -> Option<(Vec<u32>, Vec<i32>)> {
        self.attempt(|p| {
            let mut dates = vec![p.year_day()?];
            loop {
                let before = p.at;
                p.eat("and");
                match p.year_day() {
                    Some(date) => dates.push(date),
                    None => {
                        p.at = before;
                        break;
                    }
                }
            }
            let mut months: Vec<u32> = dates.iter().map(|d| d.0).collect();
            let mut days: Vec<i32> = dates.iter().map(|d| d.1).collect();
            months.sort_unstable();
            months.dedup();
            days.sort_unstable();
            days.dedup();
            (months.len() * days.len() == dates.len()).then_some((months, days))
        })
    }

    /// A day of a month that has one, in some year ("29 february", not "30 february").
    fn year_day(&mut self) -> Option<(u32, i32)> {
        self.attempt(|p| {
            p.eat("the");
            let (month, day) = if let Some(month) = p.word(0).and_then(month) {
                p.at += 1;
                (month, p.day_number()?)
            } else {
                let day = p.day_number()?;
                p.eat("of");
                let month = p.word(0).and_then(month)?;
                p.at += 1;
                (month, day)
            };
            // 2000 was a leap year: its months are as long as months get.
            (day.unsigned_abs() <= crate::expand::month_len(2000, month)).then_some((month, day))
        })
    }

    /// "29" or "29th".
    fn day_number(&mut self) -> Option<i32> {
        let word = self.word(0)?;
        let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let suffix = &word[digits.len()..];
        if !matches!(suffix, "" | "st" | "nd" | "rd" | "th") {
            return None;
        }
        let day: i32 = digits.parse().ok().filter(|d| (1..=31).contains(d))?;
        self.at += 1;
        Some(day)
    }

    fn months(&mut self) -> Option<Vec<u32>> {
        let mut months = vec![month(self.word(0)?)?];
        self.at += 1;
        loop {
            let before = self.at;
            self.eat("and");
            match self.word(0).and_then(month) {
                Some(m) => {
                    self.at += 1;
                    months.push(m);
                }
                None => {
                    self.at = before;
                    break;
                }
            }
        }
        Some(months)
    }

    /// What may follow the frequency and days, in any order, each once.
    fn extras(&mut self, draft: &mut Draft) {
        loop {
            let found = match self.word(0) {
                Some("at") if draft.times.is_empty() => self
                    .attempt(|p| {
                        p.at += 1;
                        p.times()
                    })
                    .map(|times| draft.times = times)
                    .is_some(),
                Some("morning" | "evening") if draft.times.is_empty() => {
                    draft.times = vec![if self.eat("morning") {
                        MORNING
                    } else {
                        self.at += 1;
                        EVENING
                    }];
                    true
                }
                Some("in") => self
                    .attempt(|p| {
                        p.at += 1;
                        if draft.times.is_empty() && p.eat("the") {
                            let time = match p.word(0)? {
                                "morning" => MORNING,
                                "evening" => EVENING,
                                _ => return None,
                            };
                            p.at += 1;
                            draft.times = vec![time];
                            return Some(());
                        }
                        if !draft.by_month.is_empty() {
                            return None;
                        }
                        draft.by_month = p.months()?;
                        Some(())
                    })
                    .is_some(),
                // "weeks starting on sunday": which weeks "every other week" takes.
                Some("weeks") if draft.freq == "WEEKLY" && !draft.week_starts_sunday => self
                    .attempt(|p| {
                        {
                            p.at += 1;
                            (p.eat("starting") || p.eat("start")) && p.eat("on") && p.eat("sunday")
                        }
                        .then_some(())
                    })
                    .map(|()| draft.week_starts_sunday = true)
                    .is_some(),
                Some("until") if draft.until.is_none() && draft.count.is_none() => self
                    .attempt(|p| {
                        p.at += 1;
                        p.until()
                    })
                    .map(|until| draft.until = Some(until))
                    .is_some(),
                Some(_) if draft.count.is_none() && draft.until.is_none() => self
                    .attempt(|p| p.count())
                    .map(|n| draft.count = Some(n))
                    .is_some(),
                _ => false,
            };
            if !found {
                break;
            }
        }
    }

    /// "for 5 times", "5 times", "for 5 occurrences", "once", "twice".
    fn count(&mut self) -> Option<u32> {
        match self.word(0)? {
            "once" => {
                self.at += 1;
                return Some(1);
            }
            "twice" => {
                self.at += 1;
                return Some(2);
            }
            _ => {}
        }
        self.eat("for");
        let n = count_word(self.word(0)?)?;
        self.at += 1;
        (self.eat("times") || self.eat("time") || self.eat("occurrences")).then_some(n)
    }

    /// "9am", "9 am", "9:30pm", "17:30", "noon", "midnight", and lists of
    /// them that are every hour with every minute ("9:00 and 17:00").
    fn times(&mut self) -> Option<Vec<(u32, u32)>> {
        let mut times = vec![self.time()?];
        loop {
            let before = self.at;
            self.eat("and");
            match self.time() {
                Some(time) => times.push(time),
                None => {
                    self.at = before;
                    break;
                }
            }
        }
        times.sort_unstable();
        times.dedup();
        let (hours, minutes) = split_times(&times);
        (hours.len() * minutes.len() == times.len()).then_some(times)
    }

    fn time(&mut self) -> Option<(u32, u32)> {
        let word = self.word(0)?;
        match word {
            "noon" | "midday" => {
                self.at += 1;
                return Some((12, 0));
            }
            "midnight" => {
                self.at += 1;
                return Some((0, 0));
            }
            _ => {}
        }
        let (body, mut meridiem) = match (word.strip_suffix("am"), word.strip_suffix("pm")) {
            (Some(body), _) => (body, Some(false)),
            (_, Some(body)) => (body, Some(true)),
            _ => (word, None),
        };
        let (hour, minute) = match body.split_once(':') {
            Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
            None => (body.parse::<u32>().ok()?, 0),
            _ => return None,
        };
        let mut used = 1;
        if meridiem.is_none() {
            meridiem = match self.word(1) {
                Some("am") => Some(false),
                Some("pm") => Some(true),
                _ => None,
            };
            used += usize::from(meridiem.is_some());
        }
        let hour = match meridiem {
            // "at 9" alone could be either 09:00 or 21:00.
            None if !body.contains(':') => return None,
            None => hour,
            Some(_) if !(1..=12).contains(&hour) => return None,
            Some(pm) => hour % 12 + if pm { 12 } else { 0 },
        };
        if hour > 23 || minute > 59 {
            return None;
        }
        self.at += used;
        Some((hour, minute))
    }

    /// After "until": a date ("31 march 2027": through that day), or a time
    /// on a date ("17:00 on 31 march 2027", "16:00 utc on 31 march 2027"),
    /// as UNTIL's value. A time after the date ("until 31 march 2027 at
    /// 9am") is the series' time, not the end's.
    fn until(&mut self) -> Option<String> {
        let time = self.attempt(|p| {
            let time = p.time()?;
            let utc = p.eat("utc");
            p.eat("on").then_some((time, utc))
        });
        let day = self.date()?;
        Some(match time {
            None => day.format("%Y%m%d").to_string(),
            Some(((hour, minute), utc)) => format!(
                "{}T{hour:02}{minute:02}00{}",
                day.format("%Y%m%d"),
                if utc { "Z" } else { "" }
            ),
        })
    }

    /// A date with its year: "31 march 2027", "march 31 2027", "march 31st
    /// 2027", "2027-03-31".
    fn date(&mut self) -> Option<NaiveDate> {
        self.attempt(|p| {
            if let Some(day) = p
                .word(0)
                .and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok())
            {
                p.at += 1;
                return Some(day);
            }
            let (month, day) = p.year_day()?;
            let year: i32 = p.word(0)?.parse().ok().filter(|y| *y >= 1000)?;
            p.at += 1;
            NaiveDate::from_ymd_opt(year, month, day.unsigned_abs()).filter(|d| d.year() == year)
        })
    }
}

/// Turns (months, days) into a yearly rule.
fn yearly((months, days): (Vec<u32>, Vec<i32>)) -> Draft {
    Draft {
        by_month: months,
        by_month_day: days,
        ..Draft::new("YEARLY", 1)
    }
}

fn weekday(word: &str) -> Option<Weekday> {
    Some(match word {
        "monday" | "mondays" | "mon" => Weekday::Mon,
        "tuesday" | "tuesdays" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wednesdays" | "wed" => Weekday::Wed,
        "thursday" | "thursdays" | "thu" | "thur" | "thurs" => Weekday::Thu,
        "friday" | "fridays" | "fri" => Weekday::Fri,
        "saturday" | "saturdays" | "sat" => Weekday::Sat,
        "sunday" | "sundays" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// A month's English name or its usual abbreviation (lowercase), as its
/// number: "march" and "mar" are 3. The offline assistant reads dates with it too.
pub fn month(word: &str) -> Option<u32> {
    Some(match word {
        "january" | "jan" => 1,
        "february" | "feb" => 2,
        "march" | "mar" => 3,
        "april" | "apr" => 4,
        "may" => 5,
        "june" | "jun" => 6,
        "july" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "october" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    })
}

/// "3" or "three" (to twelve), at most 1,000.
fn count_word(word: &str) -> Option<u32> {
    const WORDS: [&str; 12] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    if let Some(index) = WORDS.iter().position(|w| *w == word) {
        return u32::try_from(index + 1).ok();
    }
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    word.parse().ok().filter(|n| (1..=1000).contains(n))
}

/// "3rd" → (3, true), "third" → (3, false); up to the 31st and "fifth".
fn ordinal(word: &str) -> Option<(i32, bool)> {
    const WORDS: [&str; 5] = ["first", "second", "third", "fourth", "fifth"];
    if let Some(index) = WORDS.iter().position(|w| *w == word) {
        return i32::try_from(index + 1).ok().map(|n| (n, false));
    }
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    if digits.is_empty() || !matches!(suffix, "st" | "nd" | "rd" | "th") {
        return None;
    }
    let n: i32 = digits.parse().ok().filter(|n| (1..=31).contains(n))?;
    Some((n, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_times_dates_and_every_bang_whole() {
        let tokens = tokenize("Call mom EVERY! 3 days, at 17:30 until 2027-03-31.");
        let words: Vec<&str> = tokens.iter().map(|t| t.word.as_str()).collect();
        assert_eq!(
            words,
            [
                "call",
                "mom",
                "every!",
                "3",
                "days",
                "at",
                "17:30",
                "until",
                "2027-03-31"
            ]
        );
        assert_eq!(tokens[2].span, 9..15);
    }

    #[test]
    fn ordinals_and_numbers() {
        assert_eq!(ordinal("3rd"), Some((3, true)));
        assert_eq!(ordinal("31st"), Some((31, true)));
        assert_eq!(ordinal("third"), Some((3, false)));
        assert_eq!(ordinal("32nd"), None);
        assert_eq!(ordinal("rd"), None);
        assert_eq!(count_word("twelve"), Some(12));
        assert_eq!(count_word("1001"), None);
        assert_eq!(count_word("-3"), None);
    }
}
