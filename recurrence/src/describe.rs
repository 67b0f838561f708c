//! A rule in plain English. Every form [`crate::words`] reads comes out in a
//! wording it reads back; rarer combinations get a plainer, longer wording.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};

use crate::rule::{DaySpec, End, Freq, Rule, Until, WEEKEND, WORKWEEK};

/// More times of day than this are summarised as hours and minutes.
const MAX_LISTED_TIMES: usize = 6;

pub(crate) fn describe(rule: &Rule, start: NaiveDateTime) -> String {
    let mut text = days(rule, start);
    if rule.freq != Freq::Yearly && !rule.by_month.is_empty() {
        text.push_str(" in ");
        text.push_str(&months(&rule.by_month));
    }
    if rule.has_time_of_day() {
        text.push_str(&times(rule, start));
    }
    if rule.week_start == Weekday::Sun {
        // Kept only where it picks the weeks (see Rule).
        text.push_str(", weeks starting on Sunday");
    }
    if !rule.by_set_pos.is_empty() && set_pos_days(rule).is_none() {
        let unit = match rule.freq {
            Freq::Daily => "day",
            Freq::Weekly => "week",
            Freq::Monthly => "month",
            Freq::Yearly => "year",
        };
        let positions: Vec<String> = rule.by_set_pos.iter().map(|&p| nth_word(p)).collect();
        text.push_str(&format!(
            ", keeping only the {} of each {unit}",
            join(&positions, "and")
        ));
    }
    match rule.end {
        End::Never => {}
        End::Count(1) => text.push_str(", once"),
        End::Count(count) => text.push_str(&format!(", {count} times")),
        End::Until(Until::Date(day)) => text.push_str(&format!(" until {}", date(day))),
        // The time first: "until 31 March 2027 at 17:00" would read as a
        // series at 17:00 that ends on the 31st.
        End::Until(Until::Local(local)) => text.push_str(&format!(
            " until {} on {}",
            clock(local.time()),
            date(local.date())
        )),
        End::Until(Until::Utc(at)) => text.push_str(&format!(
            " until {} UTC on {}",
            clock(at.time()),
            date(at.date_naive())
        )),
    }
    text
}

/// The frequency and the days: "every 3rd Friday", "every other week on
/// Monday and Friday", "every year on 29 February".
fn days(rule: &Rule, start: NaiveDateTime) -> String {
    let weekdays: Vec<Weekday> = rule.by_day.iter().map(|d| d.weekday).collect();
    let plain_weekdays = rule.by_day.iter().all(|d| d.nth == 0);
    let nths = rule.by_day.iter().all(|d| d.nth != 0);
    let has_month_days = !rule.by_month_day.is_empty();
    let has_weekdays = !rule.by_day.is_empty();
    match rule.freq {
        Freq::Daily => {
            let base = every(rule.interval, "day");
            match (has_month_days, has_weekdays) {
                (false, false) => base,
                (false, true) if rule.interval == 1 => every_weekday(&weekdays),
                (true, false) if rule.interval == 1 => {
                    format!("every month on {}", month_days(&rule.by_month_day))
                }
                (false, true) => format!("{base}, only on {}", plurals(&weekdays)),
                (true, _) => {
                    let mut text = format!("{base}, only on {}", month_days(&rule.by_month_day));
                    if has_weekdays {
                        text.push_str(&format!(" when it is {}", when_weekdays(&rule.by_day)));
                    }
                    text
                }
            }
        }
        Freq::Weekly => {
            let weekdays = if weekdays.is_empty() {
                vec![start.weekday()]
            } else {
                weekdays
            };
            if rule.interval == 1 {
                every_weekday(&weekdays)
            } else {
                format!(
                    "{} on {}",
                    every(rule.interval, "week"),
                    join(&names(&weekdays), "and")
                )
            }
        }
        Freq::Monthly => {
            let period = every(rule.interval, "month");
            if let Some(days) = set_pos_days(rule) {
                return format!("{period} on {days}");
            }
            match (has_month_days, has_weekdays) {
                (false, false) => format!("{period} on the {}", ordinal(start.day())),
                (true, false) => format!("{period} on {}", month_days(&rule.by_month_day)),
                (false, true) if nths && rule.interval == 1 && rule.by_day.len() == 1 => {
                    let day = rule.by_day[0];
                    format!("every {} {}", nth_word(day.nth), name(day.weekday))
                }
                (false, true) if nths => format!("{period} on {}", nth_weekdays(&rule.by_day)),
                (false, true) if plain_weekdays && rule.interval == 1 => every_weekday(&weekdays),
                (false, true) => format!("{period} on {}", weekday_items(&rule.by_day)),
                (true, true) => format!(
                    "{period} on {} when it is {}",
                    month_days(&rule.by_month_day),
                    when_weekdays(&rule.by_day)
                ),
            }
        }
        Freq::Yearly => yearly(rule, start),
    }
}

fn yearly(rule: &Rule, start: NaiveDateTime) -> String {
    let period = every(rule.interval, "year");
    let weekdays: Vec<Weekday> = rule.by_day.iter().map(|d| d.weekday).collect();
    let in_months = if rule.by_month.is_empty() {
        String::new()
    } else {
        format!(" in {}", months(&rule.by_month))
    };
    let of_months = if rule.by_month.is_empty() {
        " of the year".to_string()
    } else {
        format!(" of {}", months(&rule.by_month))
    };
    if let Some(days) = set_pos_days(rule) {
        return format!("{period} on {days}{of_months}");
    }
    let plain_weekdays = rule.by_day.iter().all(|d| d.nth == 0);
    let nths = rule.by_day.iter().all(|d| d.nth != 0);
    match (!rule.by_month_day.is_empty(), !rule.by_day.is_empty()) {
        (false, false) => {
            let months = if rule.by_month.is_empty() {
                vec![start.month()]
            } else {
                rule.by_month.clone()
            };
            format!("{period} on {}", day_and_months(start.day(), &months))
        }
        (true, false) => match rule.by_month_day.as_slice() {
            [day] if *day > 0 && !rule.by_month.is_empty() => {
                format!(
                    "{period} on {}",
                    day_and_months(day.unsigned_abs(), &rule.by_month)
                )
            }
            _ if rule.by_month.is_empty() => format!(
                "{period}, every month on {}",
                month_days(&rule.by_month_day)
            ),
            _ => format!(
                "{period} on {} of {}",
                month_days(&rule.by_month_day),
                months(&rule.by_month)
            ),
        },
        (false, true) if nths => format!("{period} on {}{of_months}", nth_weekdays(&rule.by_day)),
        (false, true) if plain_weekdays && rule.interval == 1 => {
            format!("{}{in_months}", every_weekday(&weekdays))
        }
        (false, true) if plain_weekdays => {
            format!("{period} on {}{in_months}", plurals(&weekdays))
        }
        (false, true) => format!("{period} on {}{of_months}", weekday_items(&rule.by_day)),
        (true, true) => {
            let of_months = if rule.by_month.is_empty() {
                " of every month".to_string()
            } else {
                format!(" of {}", months(&rule.by_month))
            };
            format!(
                "{period} on {}{of_months} when it is {}",
                month_days(&rule.by_month_day),
                when_weekdays(&rule.by_day)
            )
        }
    }
}

/// BYSETPOS over a set of weekdays, said directly: "the last weekday", "the
/// 3rd Tuesday, Wednesday or Thursday". None when the set is anything else,
/// or spans several months of a year: "the 1st Monday of January and
/// February" would read as one in each, where the set holds both months'.
fn set_pos_days(rule: &Rule) -> Option<String> {
    let simple = !rule.by_set_pos.is_empty()
        && matches!(rule.freq, Freq::Monthly | Freq::Yearly)
        && !(rule.freq == Freq::Yearly && rule.by_month.len() > 1)
        && rule.by_month_day.is_empty()
        && !rule.by_day.is_empty()
        && rule.by_day.iter().all(|d| d.nth == 0)
        && rule.by_hour.len() <= 1
        && rule.by_minute.len() <= 1;
    if !simple {
        return None;
    }
    let weekdays: Vec<Weekday> = rule.by_day.iter().map(|d| d.weekday).collect();
    let noun = if weekdays == WORKWEEK {
        "weekday".to_string()
    } else if weekdays == WEEKEND {
        "weekend day".to_string()
    } else if weekdays.len() == 7 {
        "day".to_string()
    } else {
        join(&names(&weekdays), "or")
    };
    let positions: Vec<String> = rule.by_set_pos.iter().map(|&p| nth_word(p)).collect();
    Some(format!("the {} {noun}", join(&positions, "and")))
}

/// " at 09:00", " at 09:00 and 17:30"; many times as hours and minutes.
fn times(rule: &Rule, start: NaiveDateTime) -> String {
    let (hours, minutes) = rule.hours_minutes(start);
    if hours.len() * minutes.len() > MAX_LISTED_TIMES {
        let hours: Vec<String> = hours.iter().map(|h| format!("{h:02}")).collect();
        let minutes: Vec<String> = minutes.iter().map(|m| format!(":{m:02}")).collect();
        return format!(" at {} past {}", join(&minutes, "and"), join(&hours, "and"));
    }
    let listed: Vec<String> = hours
        .iter()
        .flat_map(|&h| minutes.iter().map(move |&m| format!("{h:02}:{m:02}")))
        .collect();
    format!(" at {}", join(&listed, "and"))
}

/// "every day", "every other week", "every 3 months".
fn every(interval: u32, unit: &str) -> String {
    match interval {
        1 => format!("every {unit}"),
        2 => format!("every other {unit}"),
        n => format!("every {n} {unit}s"),
    }
}

/// "every weekday", "every Monday and Friday", "every day" (all seven).
fn every_weekday(weekdays: &[Weekday]) -> String {
    if weekdays == WORKWEEK {
        "every weekday".to_string()
    } else if weekdays.len() == 7 {
        "every day".to_string()
    } else {
        format!("every {}", join(&names(weekdays), "and"))
    }
}

/// "the 7th", "the 2nd and 15th", "the last day", "the 1st and the last day".
fn month_days(values: &[i32]) -> String {
    if values.iter().all(|&v| v > 0) {
        let ordinals: Vec<String> = values.iter().map(|&v| ordinal(v.unsigned_abs())).collect();
        return format!("the {}", join(&ordinals, "and"));
    }
    let items: Vec<String> = values
        .iter()
        .map(|&v| {
            if v > 0 {
                format!("the {}", ordinal(v.unsigned_abs()))
            } else {
                format!("the {} day", nth_word(v))
            }
        })
        .collect();
    join(&items, "and")
}

/// "the 1st and last Sunday", "the 1st Monday and the 3rd Friday".
fn nth_weekdays(specs: &[DaySpec]) -> String {
    let first = specs[0].weekday;
    if specs.iter().all(|d| d.weekday == first) {
        let nths: Vec<String> = specs.iter().map(|d| nth_word(d.nth)).collect();
        return format!("the {} {}", join(&nths, "and"), name(first));
    }
    let items: Vec<String> = specs
        .iter()
        .map(|d| format!("the {} {}", nth_word(d.nth), name(d.weekday)))
        .collect();
    join(&items, "and")
}

/// A mix of every-such-weekday and nth weekdays: "Tuesdays and the 1st Friday".
fn weekday_items(specs: &[DaySpec]) -> String {
    let items: Vec<String> = specs
        .iter()
        .map(|d| {
            if d.nth == 0 {
                format!("{}s", name(d.weekday))
            } else {
                format!("the {} {}", nth_word(d.nth), name(d.weekday))
            }
        })
        .collect();
    join(&items, "and")
}

/// After "when it is": "a Friday", "a Monday or a Friday", "the 1st Friday".
fn when_weekdays(specs: &[DaySpec]) -> String {
    let items: Vec<String> = specs
        .iter()
        .map(|d| {
            if d.nth == 0 {
                format!("a {}", name(d.weekday))
            } else {
                format!("the {} {}", nth_word(d.nth), name(d.weekday))
            }
        })
        .collect();
    join(&items, "or")
}

/// "29 February", "10 June and 10 July".
fn day_and_months(day: u32, months: &[u32]) -> String {
    let items: Vec<String> = months
        .iter()
        .map(|&m| format!("{day} {}", month_name(m)))
        .collect();
    join(&items, "and")
}

fn months(months: &[u32]) -> String {
    let names: Vec<String> = months.iter().map(|&m| month_name(m).to_string()).collect();
    join(&names, "and")
}

fn plurals(weekdays: &[Weekday]) -> String {
    let names: Vec<String> = weekdays.iter().map(|&d| format!("{}s", name(d))).collect();
    join(&names, "and")
}

fn names(weekdays: &[Weekday]) -> Vec<String> {
    weekdays.iter().map(|&d| name(d).to_string()).collect()
}

/// "A", "A and B", "A, B and C".
fn join(items: &[String], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

pub(crate) fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// "3rd", "last", "2nd to last".
fn nth_word(nth: i32) -> String {
    match nth {
        -1 => "last".to_string(),
        n if n < 0 => format!("{} to last", ordinal(n.unsigned_abs())),
        n => ordinal(n.unsigned_abs()),
    }
}

fn date(day: NaiveDate) -> String {
    format!("{} {} {}", day.day(), month_name(day.month()), day.year())
}

fn clock(time: NaiveTime) -> String {
    if time.second() == 0 {
        format!("{:02}:{:02}", time.hour(), time.minute())
    } else {
        format!(
            "{:02}:{:02}:{:02}",
            time.hour(),
            time.minute(),
            time.second()
        )
    }
}

pub(crate) fn name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

pub(crate) fn month_name(month: u32) -> &'static str {
    match month {
        1 => "January",
        2 => "February",
        3 => "March",
        4 => "April",
        5 => "May",
        6 => "June",
        7 => "July",
        8 => "August",
        9 => "September",
        10 => "October",
        11 => "November",
        _ => "December",
    }
}
