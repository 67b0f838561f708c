//! Dates in the user's sentence ("tomorrow", "next friday", "in 3 days",
//! "december 1") relative to today.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveTime, Weekday};
use todo_recurrence::words::month;

/// The date a phrase at the end of `keys` means, and how many words it takes.
pub(super) fn date_core(keys: &[&str], today: NaiveDate) -> Option<(usize, NaiveDate)> {
    let back = |n: usize| keys.len().checked_sub(n).and_then(|i| keys.get(i)).copied();
    let last = back(1)?;
    let prev = back(2);
    match last {
        "today" | "tonight" => return Some((1, today)),
        "tomorrow" | "tmrw" | "tmr" | "tomorow" | "tommorow" => {
            if prev == Some("after") && back(3) == Some("day") {
                let used = if back(4) == Some("the") { 4 } else { 3 };
                return Some((used, add_days(today, 2)?));
            }
            return Some((1, add_days(today, 1)?));
        }
        "week" if prev == Some("next") => return Some((2, add_days(today, 7)?)),
        "month" if prev == Some("next") => {
            return Some((2, today.checked_add_months(Months::new(1))?));
        }
        _ => {}
    }
    if let Some(day) = weekday(last) {
        let used = if matches!(prev, Some("next" | "this" | "coming")) {
            2
        } else {
            1
        };
        return Some((used, next_weekday(today, day)?));
    }
    if back(3) == Some("in")
        && let Some(count) = prev.and_then(count_word)
    {
        let date = match last {
            "day" | "days" => add_days(today, count)?,
            "week" | "weeks" => add_days(today, count.checked_mul(7)?)?,
            "month" | "months" => {
                today.checked_add_months(Months::new(u32::try_from(count).ok()?))?
            }
            _ => return month_day(keys, today),
        };
        return Some((3, date));
    }
    if let Ok(date) = NaiveDate::parse_from_str(last, "%Y-%m-%d") {
        return Some((1, date));
    }
    month_day(keys, today)
}

/// A time of day at the end of `keys` ("at 5pm", "5:30 pm", "at 17:30",
/// "noon", "tonight", "this evening", the "morning" of "tomorrow morning"),
/// and how many words it takes. A bare "at 5" is left alone: am or pm?
pub(super) fn time_core(keys: &[&str]) -> Option<(usize, NaiveTime)> {
    let back = |n: usize| keys.len().checked_sub(n).and_then(|i| keys.get(i)).copied();
    let last = back(1)?;
    let prev = back(2);
    let hm = |h: u32, m: u32| NaiveTime::from_hms_opt(h, m, 0);
    let (used, time) = match last {
        "noon" | "midday" => (1, hm(12, 0)?),
        "tonight" => (1, hm(20, 0)?),
        "morning" | "afternoon" | "evening" | "night" => {
            let time = match last {
                "morning" => hm(9, 0)?,
                "afternoon" => hm(15, 0)?,
                "evening" => hm(19, 0)?,
                _ => hm(20, 0)?,
            };
            match (back(3), prev) {
                (Some("in"), Some("the")) => (3, time),
                (_, Some("this")) => (2, time),
                // "tomorrow morning", "friday evening": the day stays for the date.
                (_, Some(day)) if date_word(day) => (1, time),
                _ => return None,
            }
        }
        "am" | "pm" | "a.m" | "p.m" => {
            let (h, m) = clock(prev?)?;
            (2, twelve_hour(h, m, last.starts_with('p'))?)
        }
        _ => {
            if let Some(number) = last.strip_suffix("am").or_else(|| last.strip_suffix("pm")) {
                let (h, m) = clock(number)?;
                (1, twelve_hour(h, m, last.ends_with("pm"))?)
            } else if last.contains(':') {
                let (h, m) = clock(last)?;
                (1, hm(h, m)?)
            } else {
                return None;
            }
        }
    };
    let at = matches!(back(used + 1), Some("at" | "@" | "by" | "around"));
    Some((used + usize::from(at), time))
}

/// "5", "5:30", "17:30" as hours and minutes.
fn clock(text: &str) -> Option<(u32, u32)> {
    let (h, m) = match text.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h, m),
        Some(_) => return None,
        None => (text, "0"),
    };
    if h.is_empty() || h.len() > 2 || !h.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((h.parse().ok()?, m.parse().ok()?))
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

fn date_word(key: &str) -> bool {
    matches!(key, "today" | "tomorrow" | "tmrw" | "tmr") || weekday(key).is_some()
}

/// "30 minutes before", "an hour before", "2 days before" at the end of
/// `keys`: the minutes, and how many words.
pub(super) fn before_core(keys: &[&str]) -> Option<(usize, i64)> {
    let back = |n: usize| keys.len().checked_sub(n).and_then(|i| keys.get(i)).copied();
    if !matches!(back(1)?, "before" | "earlier" | "ahead") {
        return None;
    }
    let unit = match back(2)? {
        "minute" | "minutes" | "min" | "mins" => 1,
        "hour" | "hours" | "hr" | "hrs" => 60,
        "day" | "days" => 24 * 60,
        _ => return None,
    };
    let count = i64::try_from(count_word(back(3)?)?).ok()?;
    Some((3, count.checked_mul(unit)?))
}

fn add_days(today: NaiveDate, days: u64) -> Option<NaiveDate> {
    today.checked_add_days(Days::new(days))
}

/// The next `day` strictly after `today` (a week ahead when it is today).
fn next_weekday(today: NaiveDate, day: Weekday) -> Option<NaiveDate> {
    let ahead = (day.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
    add_days(today, if ahead == 0 { 7 } else { u64::from(ahead) })
}

fn weekday(key: &str) -> Option<Weekday> {
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

/// "3", "three", "a": small counts for "in N days".
fn count_word(key: &str) -> Option<u64> {
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
    digits.parse::<u32>().ok().filter(|d| (1..=31).contains(d))
}

fn year(key: &str) -> Option<i32> {
    (key.len() == 4)
        .then(|| key.parse::<i32>().ok())
        .flatten()
        .filter(|y| (1970..=9999).contains(y))
}

/// "december 1", "1 dec", "the 5th of march", "december 1, 2026". Without a
/// year: the next such day from today on.
fn month_day(keys: &[&str], today: NaiveDate) -> Option<(usize, NaiveDate)> {
    let back = |n: usize| keys.len().checked_sub(n).and_then(|i| keys.get(i)).copied();
    if let Some(y) = back(1).and_then(year) {
        if let (Some(m), Some(d)) = (back(3).and_then(month), back(2).and_then(day_of_month)) {
            return Some((3, NaiveDate::from_ymd_opt(y, m, d)?));
        }
        if let (Some(d), Some(m)) = (back(3).and_then(day_of_month), back(2).and_then(month)) {
            return Some((3, NaiveDate::from_ymd_opt(y, m, d)?));
        }
    }
    let upcoming = |m: u32, d: u32| -> Option<NaiveDate> {
        let this_year = NaiveDate::from_ymd_opt(today.year(), m, d)?;
        if this_year >= today {
            Some(this_year)
        } else {
            NaiveDate::from_ymd_opt(today.year() + 1, m, d)
        }
    };
    if let (Some(m), Some(d)) = (back(2).and_then(month), back(1).and_then(day_of_month)) {
        return Some((2, upcoming(m, d)?));
    }
    if let (Some(d), Some(m)) = (back(2).and_then(day_of_month), back(1).and_then(month)) {
        return Some((2, upcoming(m, d)?));
    }
    if back(2) == Some("of")
        && let (Some(d), Some(m)) = (back(3).and_then(day_of_month), back(1).and_then(month))
    {
        return Some((3, upcoming(m, d)?));
    }
    None
}

pub(super) fn ymd(date: NaiveDate) -> String {
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
