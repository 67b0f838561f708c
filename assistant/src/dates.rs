//! Dates and times in the user's sentence, read forward from a word: a
//! small grammar over the words ("tomorrow", "next friday at 5pm", "in 3
//! days", "jan 27", "27/1", "mid january", "end of month", "the 15th",
//! "fri @ 7pm", "tonight"), relative to the user's wall clock.
//!
//! Every reading says how sure it is: `strong` when the words cannot be
//! anything but a date ("tomorrow", "at 5pm", "on friday", "in 3 days"),
//! weak when they might be part of a title ("friday", "may 5", "the 5th",
//! "6pm", "tom"); the caller takes weak ones only where a date stands (at
//! the end of a task).

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Weekday};
use todo_recurrence::words::month;

use crate::words::Tok;

/// What a date phrase means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    Date(NaiveDate),
    /// A time of day; the day is the next one on which it is still to come.
    Time(NaiveTime),
    Both(NaiveDate, NaiveTime),
}

/// A date phrase: how many words from where it starts, and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) len: usize,
    pub(crate) when: When,
    pub(crate) strong: bool,
}

/// The words being read, with the clock.
pub(crate) struct Reader<'a> {
    pub(crate) toks: &'a [Tok],
    pub(crate) src: &'a str,
    pub(crate) now: NaiveDateTime,
}

/// Words in front of a date that make it one for sure ("on friday").
const LEADS: &[&str] = &[
    "on", "by", "due", "before", "until", "till", "deadline", "at", "@", "around", "for",
    "sometime",
];

impl Reader<'_> {
    fn key(&self, i: usize) -> Option<&str> {
        self.toks.get(i).map(|t| t.key.as_str())
    }

    /// As typed: "Tom" is a name, "tom" may be tomorrow.
    fn capitalized(&self, i: usize) -> bool {
        self.toks
            .get(i)
            .and_then(|t| self.src.get(t.start..t.end))
            .and_then(|raw| raw.chars().find(|c| c.is_alphanumeric()))
            .is_some_and(char::is_uppercase)
    }

    fn today(&self) -> NaiveDate {
        self.now.date()
    }

    /// The longest date phrase starting at word `i`, if any.
    pub(crate) fn when_at(&self, i: usize) -> Option<Found> {
        let lead = self.key(i)?;
        if LEADS.contains(&lead) {
            // "on friday", "at 5pm", "by dec 24", "due: tomorrow", "@ 7pm".
            let mut at = i + 1;
            if lead == "due" && self.key(at) == Some("on") {
                at += 1;
            }
            let month_only = || {
                // "by march": its first day.
                (!matches!(lead, "at" | "@" | "around")).then_some(())?;
                self.month_start(at)
            };
            if let Some(found) = self
                .plain_at(at)
                .or_else(|| self.bare_hour(lead, at))
                .or_else(month_only)
            {
                // "before friday": done by thursday.
                let when = match (lead, found.when) {
                    ("before", When::Date(d)) => When::Date(d.pred_opt()?),
                    (_, when) => when,
                };
                // "tickets for Sunday in the Park": "for" is not sure.
                return Some(Found {
                    len: found.len + (at - i),
                    strong: lead != "for" || found.strong,
                    when,
                });
            }
            return None;
        }
        self.plain_at(i)
    }

    /// "at 9", "@ 3": an hour without am/pm, 1-6 in the afternoon.
    fn bare_hour(&self, lead: &str, i: usize) -> Option<Found> {
        if !matches!(lead, "at" | "@" | "around") {
            return None;
        }
        let h: u32 = self.key(i)?.parse().ok().filter(|h| (1..=12).contains(h))?;
        // "at 5 guys", "at 9 sharp" are fine; "at 3 pm" is read elsewhere.
        if self
            .key(i + 1)
            .is_some_and(|k| matches!(k, "days" | "day" | "hours" | "weeks" | "minutes"))
        {
            return None;
        }
        let h = if h <= 6 { h + 12 } else { h };
        Some(Found {
            len: 1,
            when: When::Time(NaiveTime::from_hms_opt(h, 0, 0)?),
            strong: true,
        })
    }

    /// A date and/or a time at `i`, without a leading "on"/"at".
    fn plain_at(&self, i: usize) -> Option<Found> {
        if let Some(date) = self.date_at(i) {
            // "friday at 7pm", "tomorrow morning", "dec 24, 9am".
            let mut at = i + date.len;
            if self
                .key(at)
                .is_some_and(|k| matches!(k, "at" | "@" | "around" | ""))
            {
                at += 1;
            }
            if let When::Date(day) = date.when {
                let time = self
                    .time_at(at)
                    .or_else(|| self.bare_hour(self.key(at - 1).unwrap_or(""), at))
                    .or_else(|| self.daypart(at));
                if let Some(time) = time
                    && let When::Time(t) = time.when
                {
                    return Some(Found {
                        len: at - i + time.len,
                        when: When::Both(day, t),
                        strong: date.strong || time.strong,
                    });
                }
            }
            return Some(date);
        }
        let time = self.time_at(i)?;
        // "5pm tomorrow", "at 9am on friday".
        if let When::Time(t) = time.when {
            let mut at = i + time.len;
            if self.key(at) == Some("on") {
                at += 1;
            }
            if let Some(date) = self.date_at(at)
                && let When::Date(day) = date.when
            {
                return Some(Found {
                    len: at - i + date.len,
                    when: When::Both(day, t),
                    strong: date.strong || time.strong,
                });
            }
        }
        Some(time)
    }

    /// A month alone ("february") as its next first day.
    pub(crate) fn month_start(&self, i: usize) -> Option<Found> {
        let m = month(self.key(i)?)?;
        Some(Found {
            len: 1,
            when: When::Date(upcoming(self.today(), m, 1)?),
            strong: false,
        })
    }

    /// "morning" after a day ("tomorrow morning"); as sure as the day is
    /// ("Friday Night Lights" is a title).
    fn daypart(&self, i: usize) -> Option<Found> {
        let time = daypart_time(self.key(i)?)?;
        Some(Found {
            len: 1,
            when: When::Time(time),
            strong: false,
        })
    }

    /// A day at `i`.
    fn date_at(&self, i: usize) -> Option<Found> {
        let today = self.today();
        let k0 = self.key(i)?;
        let k1 = self.key(i + 1);
        let k2 = self.key(i + 2);
        let k3 = self.key(i + 3);
        let found = |len: usize, date: NaiveDate, strong: bool| {
            Some(Found {
                len,
                when: When::Date(date),
                strong,
            })
        };
        match k0 {
            "today" => return found(1, today, true),
            "tod" => return found(1, today, false),
            "tonight" => {
                // "tonight at 9": in the evening.
                let mut len = 1;
                let mut time = hm(20, 0)?;
                if matches!(k1, Some("at" | "@" | "around")) {
                    let at = self.time_at(i + 2).or_else(|| self.bare_hour("at", i + 2));
                    if let Some(Found {
                        len: used,
                        when: When::Time(t),
                        ..
                    }) = at
                    {
                        len = 2 + used;
                        time = if t < hm(12, 0)? {
                            t.overflowing_add_signed(TimeDelta::try_hours(12)?).0
                        } else {
                            t
                        };
                    }
                }
                return Some(Found {
                    len,
                    when: When::Both(today, time),
                    strong: true,
                });
            }
            "tomorrow" | "tmrw" | "tmr" | "tomorow" | "tommorow" | "tomorrrow" => {
                return found(1, add_days(today, 1)?, true);
            }
            "tom" if !self.capitalized(i) => return found(1, add_days(today, 1)?, false),
            "the" if (k1, k2, k3) == (Some("day"), Some("after"), Some("tomorrow")) => {
                return found(4, add_days(today, 2)?, true);
            }
            "the" if k1 == Some("end") => {
                let found = self.end_of(i + 1)?;
                return Some(Found {
                    len: found.len + 1,
                    ..found
                });
            }
            "day" if (k1, k2) == (Some("after"), Some("tomorrow")) => {
                return found(3, add_days(today, 2)?, true);
            }
            "next" | "this" | "coming" => {
                match k1 {
                    Some("week") if k0 == "next" => return found(2, add_days(today, 7)?, true),
                    // "this week": by its Sunday.
                    Some("week") if k0 == "this" => {
                        return found(2, on_or_after(today, Weekday::Sun)?, true);
                    }
                    Some("month") if k0 == "next" => {
                        return found(2, today.checked_add_months(Months::new(1))?, true);
                    }
                    Some("year") if k0 == "next" => {
                        return found(2, today.checked_add_months(Months::new(12))?, true);
                    }
                    Some("weekend") => {
                        let sat = on_or_after(today, Weekday::Sat)?;
                        let sat = if k0 == "next" && sat == today {
                            add_days(sat, 7)?
                        } else {
                            sat
                        };
                        return found(2, sat, true);
                    }
                    _ => {}
                }
                if let Some(day) = k1.and_then(|k| weekday(k).or_else(|| abbreviated_weekday(k))) {
                    return found(2, next_weekday(today, day)?, true);
                }
            }
            "weekend" => return found(1, on_or_after(today, Weekday::Sat)?, false),
            "eod" => return found(1, today, false),
            "christmas" | "xmas" if k1 == Some("eve") => {
                return found(2, upcoming(today, 12, 24)?, false);
            }
            "christmas" | "xmas" => return found(1, upcoming(today, 12, 25)?, false),
            "halloween" => return found(1, upcoming(today, 10, 31)?, false),
            "nye" => return found(1, upcoming(today, 12, 31)?, false),
            "new" if matches!(k1, Some("year's" | "years")) => match k2 {
                Some("eve") => return found(3, upcoming(today, 12, 31)?, false),
                Some("day") => return found(3, upcoming(today, 1, 1)?, false),
                _ => {}
            },
            "in" => return self.in_count(i),
            // "later today"
            "later" if matches!(k1, Some("today" | "tonight" | "this")) => {
                let found = self.plain_at(i + 1)?;
                return Some(Found {
                    len: found.len + 1,
                    ..found
                });
            }
            // "first thing tomorrow": its morning.
            "first" if k1 == Some("thing") => {
                let date = self.date_at(i + 2)?;
                let When::Date(day) = date.when else {
                    return None;
                };
                return Some(Found {
                    len: 2 + date.len,
                    when: When::Both(day, hm(9, 0)?),
                    strong: true,
                });
            }
            "mid" | "mid-month" => {
                if let Some(m) = k1.and_then(month) {
                    return found(2, upcoming(today, m, 15)?, false);
                }
                if k0 == "mid-month" || k1 == Some("month") {
                    let len = if k0 == "mid-month" { 1 } else { 2 };
                    return found(len, month_day_from(today, 15)?, false);
                }
            }
            "middle" if k1 == Some("of") => {
                if let Some(m) = k2.and_then(month) {
                    return found(3, upcoming(today, m, 15)?, false);
                }
            }
            "end" | "eom" | "eoy" => return self.end_of(i),
            _ => {}
        }
        // "2 days before christmas", "a week after friday"
        if let (Some(n), Some(unit), Some(dir @ ("before" | "after"))) = (count_word(k0), k1, k2) {
            let days = match unit {
                "day" | "days" => n,
                "week" | "weeks" => n.checked_mul(7)?,
                _ => 0,
            };
            if days > 0
                && let Some(Found {
                    len,
                    when: When::Date(day),
                    ..
                }) = self.date_at(i + 3)
            {
                let days = i64::try_from(days).ok()?;
                let day = shift_days(day, if dir == "before" { -days } else { days })?;
                return found(3 + len, day, true);
            }
        }
        if let Some(m) = k0.strip_prefix("mid-").and_then(month) {
            return found(1, upcoming(today, m, 15)?, false);
        }
        if let Some(day) = weekday(k0) {
            // "friday the 18th": one date, when they agree.
            if k1 == Some("the")
                && let Some(Found {
                    len,
                    when: When::Date(date),
                    ..
                }) = self.month_day(i + 1)
                && date.weekday() == day
            {
                return found(1 + len, date, false);
            }
            return found(1, next_weekday(today, day)?, false);
        }
        if let Some(day) = abbreviated_weekday(k0) {
            return found(1, next_weekday(today, day)?, false);
        }
        if let Ok(date) = NaiveDate::parse_from_str(k0, "%Y-%m-%d") {
            return found(1, date, false);
        }
        if let Some(date) = numeric_date(k0, today) {
            return found(1, date, false);
        }
        self.month_day(i)
    }

    /// "in 3 days", "in a week", "in 2 hours", "in half an hour".
    fn in_count(&self, i: usize) -> Option<Found> {
        let today = self.today();
        let (n, at) = if (self.key(i + 1), self.key(i + 2)) == (Some("half"), Some("an")) {
            (0, i + 3)
        } else {
            (count_word(self.key(i + 1)?)?, i + 2)
        };
        let unit = self.key(at)?;
        let date = |date: Option<NaiveDate>| {
            Some(Found {
                len: at + 1 - i,
                when: When::Date(date?),
                strong: true,
            })
        };
        let later = |minutes: u64| {
            let at_time = self
                .now
                .checked_add_signed(TimeDelta::try_minutes(i64::try_from(minutes).ok()?)?)?;
            Some(Found {
                len: at + 1 - i,
                when: When::Both(at_time.date(), at_time.time()),
                strong: true,
            })
        };
        if n == 0 {
            return if unit == "hour" { later(30) } else { None };
        }
        match unit {
            "day" | "days" => date(add_days(today, n)),
            "fortnight" | "fortnights" => date(add_days(today, n.checked_mul(14)?)),
            "week" | "weeks" => date(add_days(today, n.checked_mul(7)?)),
            "month" | "months" => {
                date(today.checked_add_months(Months::new(u32::try_from(n).ok()?)))
            }
            "year" | "years" => {
                date(today.checked_add_months(Months::new(u32::try_from(n.checked_mul(12)?).ok()?)))
            }
            "hour" | "hours" | "hr" | "hrs" | "h" => later(n.checked_mul(60)?),
            "minute" | "minutes" | "min" | "mins" => later(n),
            _ => None,
        }
    }

    /// "end of month", "end of the month", "end of january", "eom".
    fn end_of(&self, i: usize) -> Option<Found> {
        let today = self.today();
        let found = |len: usize, date: NaiveDate| {
            Some(Found {
                len,
                when: When::Date(date),
                strong: false,
            })
        };
        match self.key(i)? {
            "eom" => return found(1, last_of_month(today.year(), today.month())?),
            "eoy" => return found(1, NaiveDate::from_ymd_opt(today.year(), 12, 31)?),
            _ => {}
        }
        if self.key(i + 1) != Some("of") {
            return None;
        }
        let mut at = i + 2;
        if matches!(self.key(at), Some("the" | "this")) {
            at += 1;
        }
        match self.key(at)? {
            "day" | "today" => found(at + 1 - i, today),
            "month" => found(at + 1 - i, last_of_month(today.year(), today.month())?),
            "year" => found(at + 1 - i, NaiveDate::from_ymd_opt(today.year(), 12, 31)?),
            "week" => found(at + 1 - i, on_or_after(today, Weekday::Sun)?),
            word => {
                let m = month(word)?;
                let year = if m < today.month() {
                    today.year() + 1
                } else {
                    today.year()
                };
                found(at + 1 - i, last_of_month(year, m)?)
            }
        }
    }

    /// "december 1", "dec 1st, 2027", "1 dec", "the 5th of march", "the 15th".
    fn month_day(&self, i: usize) -> Option<Found> {
        let today = self.today();
        let k = |n: usize| self.key(i + n);
        let with_year = |used: usize, m: u32, d: u32| -> Option<Found> {
            let date = match k(used).and_then(year) {
                Some(y) => (used + 1, NaiveDate::from_ymd_opt(y, m, d)?),
                None => (used, upcoming(today, m, d)?),
            };
            Some(Found {
                len: date.0,
                when: When::Date(date.1),
                strong: false,
            })
        };
        if let Some(m) = k(0).and_then(month) {
            if let Some(d) = k(1).and_then(day_of_month) {
                return with_year(2, m, d);
            }
            return None;
        }
        let (skip, d) = match (k(0), k(1).and_then(day_of_month)) {
            (Some("the"), Some(d)) => (1, d),
            _ => (0, day_of_month(k(0)?)?),
        };
        let mut at = skip + 1;
        if k(at) == Some("of") {
            at += 1;
        }
        if let Some(m) = k(at).and_then(month) {
            return with_year(at + 1, m, d);
        }
        // "the 15th": the next such day of a month; an ordinal is needed.
        if skip == 1 && k(1).is_some_and(|w| w.ends_with(|c: char| c.is_alphabetic())) {
            return Some(Found {
                len: 2,
                when: When::Date(month_day_from(today, d)?),
                strong: false,
            });
        }
        None
    }

    /// A time of day at `i` ("5pm", "5 pm", "17:30", "noon", "this
    /// evening", "in the morning"), without a day.
    fn time_at(&self, i: usize) -> Option<Found> {
        let k0 = self.key(i)?;
        let k1 = self.key(i + 1);
        let time = |len: usize, t: Option<NaiveTime>, strong: bool| {
            Some(Found {
                len,
                when: When::Time(t?),
                strong,
            })
        };
        match k0 {
            "noon" | "midday" => return time(1, hm(12, 0), false),
            "this" => return time(2, daypart_time(k1?), true),
            "in" if k1 == Some("the") => return time(3, daypart_time(self.key(i + 2)?), true),
            _ => {}
        }
        if let Some(pm) = k1.and_then(am_pm) {
            let (h, m) = clock(k0)?;
            return time(2, twelve_hour(h, m, pm), false);
        }
        if let Some((number, pm)) = ["am", "pm", "a.m", "p.m"]
            .iter()
            .find_map(|s| k0.strip_suffix(s).map(|n| (n, s.starts_with('p'))))
        {
            let (h, m) = clock(number)?;
            return time(1, twelve_hour(h, m, pm), false);
        }
        if k0.contains(':') {
            let (h, m) = clock(k0)?;
            // "at 4:15" without am/pm: the afternoon, as "at 4" is.
            let h = if (1..=6).contains(&h) && !k0.starts_with('0') {
                h + 12
            } else {
                h
            };
            return time(1, hm(h, m), false);
        }
        // "17h", "17h30"
        if let Some((h, m)) = k0.split_once('h')
            && (1..=2).contains(&h.len())
            && h.bytes().all(|b| b.is_ascii_digit())
            && (m.is_empty() || (m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit())))
        {
            let m = if m.is_empty() { "0" } else { m };
            return time(1, hm(h.parse().ok()?, m.parse().ok()?), false);
        }
        None
    }
}

fn am_pm(key: &str) -> Option<bool> {
    match key {
        "am" | "a.m" => Some(false),
        "pm" | "p.m" => Some(true),
        _ => None,
    }
}

fn daypart_time(key: &str) -> Option<NaiveTime> {
    match key {
        "morning" => hm(9, 0),
        "afternoon" => hm(15, 0),
        "evening" => hm(19, 0),
        "night" => hm(20, 0),
        "noon" | "midday" => hm(12, 0),
        _ => None,
    }
}

fn hm(h: u32, m: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
}

/// "5", "5:30", "17:30", "5.30" as hours and minutes.
fn clock(text: &str) -> Option<(u32, u32)> {
    let (h, m) = match text.split_once([':', '.']) {
        Some((h, m)) if m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()) => (h, m),
        Some(_) => return None,
        None => (text, "0"),
    };
    if h.is_empty() || h.len() > 2 || !h.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

fn twelve_hour(h: u32, m: u32, pm: bool) -> Option<NaiveTime> {
    if !(1..=12).contains(&h) {
        return None;
    }
    let h = match (h, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, true) => h + 12,
        (h, false) => h,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}

/// "27/1", "12/24", "3/4", "27.1", "24.12.2027", "12/24/27": day and month
/// (see the phrase table for the order), the next such date without a year.
fn numeric_date(key: &str, today: NaiveDate) -> Option<NaiveDate> {
    let sep = if key.contains('/') {
        '/'
    } else if key.contains('.') {
        '.'
    } else {
        return None;
    };
    let parts: Vec<&str> = key.split(sep).collect();
    let small = |p: &str| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    let (a, b, y) = match parts.as_slice() {
        [a, b] if small(a) && small(b) => (a, b, None),
        [a, b, y] if small(a) && small(b) && (y.len() == 2 || y.len() == 4) => {
            let y: i32 = y.parse().ok()?;
            (a, b, Some(if y < 100 { 2000 + y } else { y }))
        }
        _ => return None,
    };
    let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
    // Day/month unless only month/day makes sense ("12/24"); dots are
    // always day.month.
    let (d, m) = if sep == '/' && b > 12 { (b, a) } else { (a, b) };
    if m == 0 || m > 12 {
        return None;
    }
    match y {
        Some(y) => NaiveDate::from_ymd_opt(y, m, d),
        None => upcoming(today, m, d),
    }
}

fn add_days(today: NaiveDate, days: u64) -> Option<NaiveDate> {
    today.checked_add_days(Days::new(days))
}

/// `days` days later (or earlier, when negative).
pub(crate) fn shift_days(day: NaiveDate, days: i64) -> Option<NaiveDate> {
    if days >= 0 {
        day.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        day.checked_sub_days(Days::new(days.unsigned_abs()))
    }
}

/// The next `day` strictly after `today` (a week ahead when it is today).
pub(crate) fn next_weekday(today: NaiveDate, day: Weekday) -> Option<NaiveDate> {
    let ahead = (day.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
    add_days(today, if ahead == 0 { 7 } else { u64::from(ahead) })
}

fn on_or_after(today: NaiveDate, day: Weekday) -> Option<NaiveDate> {
    let ahead = (day.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
    add_days(today, u64::from(ahead))
}

pub(crate) fn weekday(key: &str) -> Option<Weekday> {
    Some(match key {
        "monday" => Weekday::Mon,
        "tuesday" => Weekday::Tue,
        "wednesday" => Weekday::Wed,
        "thursday" => Weekday::Thu,
        "friday" => Weekday::Fri,
        "saturday" => Weekday::Sat,
        "sunday" => Weekday::Sun,
        _ => return None,
    })
}

fn abbreviated_weekday(key: &str) -> Option<Weekday> {
    Some(match key {
        "mon" => Weekday::Mon,
        "tue" | "tues" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" | "thur" | "thurs" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// "3", "three", "a": small counts for "in N days".
pub(crate) fn count_word(key: &str) -> Option<u64> {
    let n = match key {
        "a" | "an" | "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        // Bounded so the date arithmetic stays in range.
        digits => digits.parse::<u64>().ok().filter(|n| *n <= 100_000)?,
    };
    Some(n)
}

/// "1", "1st", "22nd".
fn day_of_month(key: &str) -> Option<u32> {
    let digits = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|suffix| key.strip_suffix(suffix))
        .unwrap_or(key);
    if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u32>().ok().filter(|d| (1..=31).contains(d))
}

fn year(key: &str) -> Option<i32> {
    (key.len() == 4)
        .then(|| key.parse::<i32>().ok())
        .flatten()
        .filter(|y| (1970..=9999).contains(y))
}

/// Month `m`, day `d`: this year's if still to come (or today), else next year's.
fn upcoming(today: NaiveDate, m: u32, d: u32) -> Option<NaiveDate> {
    let this_year = NaiveDate::from_ymd_opt(today.year(), m, d)?;
    if this_year >= today {
        Some(this_year)
    } else {
        NaiveDate::from_ymd_opt(today.year() + 1, m, d)
    }
}

/// The next day `d` of a month, from today on.
fn month_day_from(today: NaiveDate, d: u32) -> Option<NaiveDate> {
    let mut first = today.with_day(1)?;
    for _ in 0..3 {
        if let Some(day) = first.with_day(d)
            && day >= today
        {
            return Some(day);
        }
        first = first.checked_add_months(Months::new(1))?;
    }
    None
}

fn last_of_month(year: i32, m: u32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, m, 1)?;
    first.checked_add_months(Months::new(1))?.pred_opt()
}

pub(crate) fn ymd(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::respond;
    use serde_json::Value;
    use todo_common::llm::Message;

    #[test]
    fn weekday_arithmetic_wraps_and_skips_today() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        // A Wednesday.
        let wed = day(2026, 11, 25);
        assert_eq!(wed.weekday(), Weekday::Wed);
        assert_eq!(next_weekday(wed, Weekday::Thu), Some(day(2026, 11, 26)));
        assert_eq!(next_weekday(wed, Weekday::Mon), Some(day(2026, 11, 30)));
        assert_eq!(next_weekday(wed, Weekday::Tue), Some(day(2026, 12, 1)));
        // Plain and "next" wednesday on a wednesday: a week ahead.
        assert_eq!(next_weekday(wed, Weekday::Wed), Some(day(2026, 12, 2)));
        let fri = day(2026, 11, 27);
        for text in ["add x friday", "add x next friday", "add x on friday"] {
            let reply = respond(&[Message::user(text)], fri);
            let args: Value = serde_json::from_str(&reply.tool_calls[0].arguments).expect("json");
            assert_eq!(args["due_date"], "2026-12-04", "{text}");
        }
        // Across a year end.
        let eve = day(2026, 12, 31);
        let reply = respond(&[Message::user("add party in 2 days")], eve);
        let args: Value = serde_json::from_str(&reply.tool_calls[0].arguments).expect("json");
        assert_eq!(args["due_date"], "2027-01-02");
        // Far beyond the calendar: no date, no panic.
        let reply = respond(&[Message::user("add x in 99999999999999999999 days")], eve);
        assert_eq!(reply.tool_calls[0].name, "add_task");
        let late = day(262_000, 1, 1);
        let reply = respond(&[Message::user("add x tomorrow")], late);
        assert_eq!(reply.tool_calls.len(), 1);
    }
}
