//! The rule: parsed from RRULE text, printed back in a canonical order.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::Occurrence;

/// Longer input is refused before it is read: a real rule is under 200 characters.
const MAX_LEN: usize = 500;
const MAX_INTERVAL: u32 = 1000;
const MAX_COUNT: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// A `BYDAY` entry: a weekday, every one of them in the period (`nth == 0`)
/// or the nth from the start (`3FR`) or the end (`-1FR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct DaySpec {
    pub nth: i32,
    pub weekday: Weekday,
}

impl DaySpec {
    fn key(self) -> (u32, bool, i32) {
        (self.weekday.num_days_from_monday(), self.nth < 0, self.nth)
    }
}

/// The end of a series given by `UNTIL`, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Until {
    /// `YYYYMMDD`: through that local day.
    Date(NaiveDate),
    /// `YYYYMMDDTHHMMSS`: through that wall time.
    Local(NaiveDateTime),
    /// `YYYYMMDDTHHMMSSZ`: through that instant.
    Utc(DateTime<Utc>),
}

impl Until {
    pub(crate) fn is_before(self, occurrence: &Occurrence) -> bool {
        match self {
            Until::Date(day) => occurrence.local.date() > day,
            Until::Local(local) => occurrence.local > local,
            Until::Utc(at) => occurrence.at > at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum End {
    Never,
    Count(u32),
    Until(Until),
}

/// A parsed recurrence rule (the RRULE subset of issue 21). Two rules are
/// equal when they say the same thing: lists are kept sorted and without
/// repeats, defaults (`INTERVAL=1`, `WKST=MO`) are not told apart from
/// their absence, and `WKST` is kept only where it changes the series.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    pub(crate) freq: Freq,
    pub(crate) interval: u32,
    pub(crate) by_month: Vec<u32>,
    pub(crate) by_month_day: Vec<i32>,
    pub(crate) by_day: Vec<DaySpec>,
    pub(crate) by_hour: Vec<u32>,
    pub(crate) by_minute: Vec<u32>,
    pub(crate) by_set_pos: Vec<i32>,
    pub(crate) week_start: Weekday,
    pub(crate) end: End,
}

/// Why a rule was refused, in words fit for an HTTP 422 ("BYDAY: `XY` is not
/// a weekday").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError(String);

impl RuleError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RuleError {}

impl Rule {
    /// Reads RRULE text such as `FREQ=WEEKLY;BYDAY=MO,FR`, with or without a
    /// leading `RRULE:`; keys and values in any case. Never panics.
    pub fn parse(raw: &str) -> Result<Rule, RuleError> {
        if raw.len() > MAX_LEN {
            return Err(RuleError::new(format!(
                "the rule is longer than {MAX_LEN} characters"
            )));
        }
        let mut text = raw.trim();
        if text
            .get(..6)
            .is_some_and(|head| head.eq_ignore_ascii_case("RRULE:"))
        {
            text = text[6..].trim_start();
        }
        // One trailing `;` is common in the wild and harmless.
        let text = text.strip_suffix(';').unwrap_or(text);
        if text.is_empty() {
            return Err(RuleError::new("the rule is empty: it needs at least FREQ"));
        }
        let mut parts = Parts::default();
        for part in text.split(';') {
            parts.add(part.trim())?;
        }
        parts.into_rule()
    }

    /// Whether the rule fixes the time of day (`BYHOUR` or `BYMINUTE`);
    /// otherwise the series keeps its start's.
    pub fn has_time_of_day(&self) -> bool {
        !self.by_hour.is_empty() || !self.by_minute.is_empty()
    }

    /// `COUNT`: how many occurrences the series has, if limited that way.
    pub fn count(&self) -> Option<u32> {
        match self.end {
            End::Count(count) => Some(count),
            _ => None,
        }
    }

    /// The rule in plain English, produced by us: "every day", "every
    /// weekday", "every other week on Monday and Friday", "every 3rd Friday",
    /// "every month on the last day", "every year on 29 February", "every day
    /// at 09:00", "every 3 days, 5 times", "every Monday until 31 March 2027".
    /// `start` is the first occurrence's local date-time: rules that take
    /// their day from it (`FREQ=MONTHLY`) say it ("every month on the 7th").
    pub fn describe(&self, start: NaiveDateTime) -> String {
        crate::describe::describe(self, start)
    }

    /// The series' occurrences in local wall time, starting with `start` when
    /// it matches the rule (and with the first match after it otherwise),
    /// strictly increasing in wall time and in instant, no duplicates, COUNT
    /// and UNTIL applied. A wall time that falls in a DST gap is kept (moved
    /// forward, see [`crate::resolve`]) unless a later occurrence would come at
    /// or before its instant: then it is left out, so instants never go back.
    pub fn occurrences(
        &self,
        start: NaiveDateTime,
        zone: Tz,
    ) -> impl Iterator<Item = Occurrence> + use<> {
        crate::expand::Series::new(self.clone(), start, zone, 0)
    }

    /// The first occurrence whose wall time is strictly after `after`. Jumps
    /// to the period holding `after` instead of walking there, unless the rule
    /// has a COUNT (at most 1,000 occurrences to count through).
    pub fn next_after(
        &self,
        start: NaiveDateTime,
        after: NaiveDateTime,
        zone: Tz,
    ) -> Option<Occurrence> {
        if self.count().is_some() {
            return self.occurrences(start, zone).find(|o| o.local > after);
        }
        let first = crate::expand::period_before(self, start, after);
        crate::expand::Series::new(self.clone(), start, zone, first).find(|o| o.local > after)
    }
}

/// The canonical RRULE text: FREQ first, then INTERVAL, BYMONTH, BYMONTHDAY,
/// BYDAY, BYHOUR, BYMINUTE, BYSETPOS, WKST, COUNT or UNTIL; defaults left out.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let freq = match self.freq {
            Freq::Daily => "DAILY",
            Freq::Weekly => "WEEKLY",
            Freq::Monthly => "MONTHLY",
            Freq::Yearly => "YEARLY",
        };
        write!(f, "FREQ={freq}")?;
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        write_list(f, "BYMONTH", &self.by_month)?;
        write_list(f, "BYMONTHDAY", &self.by_month_day)?;
        if !self.by_day.is_empty() {
            let days: Vec<String> = self
                .by_day
                .iter()
                .map(|d| {
                    let code = weekday_code(d.weekday);
                    if d.nth == 0 {
                        code.to_string()
                    } else {
                        format!("{}{code}", d.nth)
                    }
                })
                .collect();
            write!(f, ";BYDAY={}", days.join(","))?;
        }
        write_list(f, "BYHOUR", &self.by_hour)?;
        write_list(f, "BYMINUTE", &self.by_minute)?;
        write_list(f, "BYSETPOS", &self.by_set_pos)?;
        if self.week_start != Weekday::Mon {
            write!(f, ";WKST={}", weekday_code(self.week_start))?;
        }
        match self.end {
            End::Never => Ok(()),
            End::Count(count) => write!(f, ";COUNT={count}"),
            End::Until(Until::Date(day)) => write!(f, ";UNTIL={}", day.format("%Y%m%d")),
            End::Until(Until::Local(local)) => {
                write!(f, ";UNTIL={}", local.format("%Y%m%dT%H%M%S"))
            }
            End::Until(Until::Utc(at)) => write!(f, ";UNTIL={}", at.format("%Y%m%dT%H%M%SZ")),
        }
    }
}

fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, key: &str, values: &[T]) -> fmt::Result {
    if values.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = values.iter().map(ToString::to_string).collect();
    write!(f, ";{key}={}", values.join(","))
}

/// Monday to Friday ("every weekday"), and the weekend.
pub(crate) const WORKWEEK: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];
pub(crate) const WEEKEND: [Weekday; 2] = [Weekday::Sat, Weekday::Sun];

impl Rule {
    /// The hours and minutes of the series' times of day: BYHOUR and
    /// BYMINUTE, or the start's where the rule leaves them out.
    pub(crate) fn hours_minutes(&self, start: NaiveDateTime) -> (Vec<u32>, Vec<u32>) {
        let or_start = |values: &[u32], own: u32| {
            if values.is_empty() {
                vec![own]
            } else {
                values.to_vec()
            }
        };
        (
            or_start(&self.by_hour, start.hour()),
            or_start(&self.by_minute, start.minute()),
        )
    }
}

pub(crate) fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn weekday_from_code(code: &str) -> Option<Weekday> {
    Some(match code {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

/// A part's text as quoted in an error: short, whatever the input.
fn quote(text: &str) -> String {
    let mut short: String = text.chars().take(24).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    format!("`{short}`")
}

/// Monthly and yearly-per-month ordinals go to 5 (there is no 6th Friday);
/// a yearly rule without BYMONTH counts weekdays through the year.
const MAX_NTH_IN_MONTH: i32 = 5;
const MAX_NTH_IN_YEAR: i32 = 53;

/// The parts as read, before they are checked against each other.
#[derive(Default)]
struct Parts {
    freq: Option<Freq>,
    interval: Option<u32>,
    by_month: Option<Vec<u32>>,
    by_month_day: Option<Vec<i32>>,
    by_day: Option<Vec<DaySpec>>,
    by_hour: Option<Vec<u32>>,
    by_minute: Option<Vec<u32>>,
    by_set_pos: Option<Vec<i32>>,
    week_start: Option<Weekday>,
    count: Option<u32>,
    until: Option<Until>,
}

impl Parts {
    fn add(&mut self, part: &str) -> Result<(), RuleError> {
        if part.is_empty() {
            return Err(RuleError::new("the rule has an empty part (`;;`)"));
        }
        let Some((key, value)) = part.split_once('=') else {
            return Err(RuleError::new(format!(
                "{} is not a KEY=VALUE part",
                quote(part)
            )));
        };
        let key = key.trim().to_ascii_uppercase();
        let value = value.trim().to_ascii_uppercase();
        let known = [
            "FREQ",
            "INTERVAL",
            "BYMONTH",
            "BYMONTHDAY",
            "BYDAY",
            "BYHOUR",
            "BYMINUTE",
            "BYSETPOS",
            "WKST",
            "COUNT",
            "UNTIL",
        ];
        if !known.contains(&key.as_str()) {
            return Err(RuleError::new(match key.as_str() {
                "" => "a part has no key before `=`".to_string(),
                "BYSECOND" | "BYYEARDAY" | "BYWEEKNO" => format!(
                    "{key} is not supported: use FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, \
                     BYSETPOS, BYHOUR, BYMINUTE, COUNT, UNTIL and WKST"
                ),
                _ => format!("unknown part {}", quote(&key)),
            }));
        }
        if value.is_empty() {
            return Err(RuleError::new(format!("{key} has no value")));
        }
        let seen = match key.as_str() {
            "FREQ" => self.freq.replace(freq(&value)?).is_some(),
            "INTERVAL" => self
                .interval
                .replace(number(&key, &value, 1, MAX_INTERVAL)?)
                .is_some(),
            "BYMONTH" => self
                .by_month
                .replace(list(&key, &value, |v| number(&key, v, 1, 12))?)
                .is_some(),
            "BYMONTHDAY" => self
                .by_month_day
                .replace(list(&key, &value, |v| signed(&key, v, 31))?)
                .is_some(),
            "BYDAY" => self.by_day.replace(list(&key, &value, day_spec)?).is_some(),
            "BYHOUR" => self
                .by_hour
                .replace(list(&key, &value, |v| number(&key, v, 0, 23))?)
                .is_some(),
            "BYMINUTE" => self
                .by_minute
                .replace(list(&key, &value, |v| number(&key, v, 0, 59))?)
                .is_some(),
            "BYSETPOS" => self
                .by_set_pos
                .replace(list(&key, &value, |v| signed(&key, v, 366))?)
                .is_some(),
            "WKST" => self.week_start.replace(week_start(&value)?).is_some(),
            "COUNT" => self
                .count
                .replace(number(&key, &value, 1, MAX_COUNT)?)
                .is_some(),
            _ => self.until.replace(until(&value)?).is_some(),
        };
        if seen {
            return Err(RuleError::new(format!("{key} appears more than once")));
        }
        Ok(())
    }

    fn into_rule(self) -> Result<Rule, RuleError> {
        let freq = self
            .freq
            .ok_or_else(|| RuleError::new("FREQ is missing (DAILY, WEEKLY, MONTHLY or YEARLY)"))?;
        let end = match (self.count, self.until) {
            (Some(_), Some(_)) => {
                return Err(RuleError::new("COUNT and UNTIL cannot be used together"));
            }
            (Some(count), None) => End::Count(count),
            (None, Some(until)) => End::Until(until),
            (None, None) => End::Never,
        };
        let mut by_month = self.by_month.unwrap_or_default();
        let mut by_month_day = self.by_month_day.unwrap_or_default();
        let mut by_day = self.by_day.unwrap_or_default();
        let mut by_hour = self.by_hour.unwrap_or_default();
        let mut by_minute = self.by_minute.unwrap_or_default();
        let mut by_set_pos = self.by_set_pos.unwrap_or_default();

        if freq == Freq::Weekly && !by_month_day.is_empty() {
            return Err(RuleError::new(
                "BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545)",
            ));
        }
        if let Some(spec) = by_day.iter().find(|d| d.nth != 0) {
            let max = match freq {
                Freq::Daily | Freq::Weekly => {
                    return Err(RuleError::new(format!(
                        "BYDAY: `{}{}` has an ordinal, which needs FREQ=MONTHLY or FREQ=YEARLY",
                        spec.nth,
                        weekday_code(spec.weekday)
                    )));
                }
                Freq::Yearly if by_month.is_empty() => MAX_NTH_IN_YEAR,
                _ => MAX_NTH_IN_MONTH,
            };
            if let Some(spec) = by_day.iter().find(|d| d.nth.abs() > max) {
                return Err(RuleError::new(format!(
                    "BYDAY: `{}{}` is out of range: a {} has at most {max} of each weekday",
                    spec.nth,
                    weekday_code(spec.weekday),
                    if max == MAX_NTH_IN_YEAR {
                        "year"
                    } else {
                        "month"
                    }
                )));
            }
        }
        let other_by = !by_month.is_empty()
            || !by_month_day.is_empty()
            || !by_day.is_empty()
            || !by_hour.is_empty()
            || !by_minute.is_empty();
        if !by_set_pos.is_empty() && !other_by {
            return Err(RuleError::new(
                "BYSETPOS needs another BY part (BYDAY, BYMONTHDAY, BYMONTH, BYHOUR or BYMINUTE) \
                 to pick from",
            ));
        }

        by_month.sort_unstable();
        by_month.dedup();
        by_month_day.sort_unstable_by_key(|&v| (v < 0, v));
        by_month_day.dedup();
        by_day.sort_unstable_by_key(|d| d.key());
        by_day.dedup();
        by_hour.sort_unstable();
        by_hour.dedup();
        by_minute.sort_unstable();
        by_minute.dedup();
        by_set_pos.sort_unstable_by_key(|&v| (v < 0, v));
        by_set_pos.dedup();

        // A day or a week holds a known number of candidates: a BYSETPOS past
        // it can never match, and would cost a 400-year search to find out.
        if !by_set_pos.is_empty() {
            let times = by_hour.len().max(1) * by_minute.len().max(1);
            let most = match freq {
                Freq::Daily => Some(("day", times)),
                // Deduplicated, and without ordinals: one entry per weekday.
                Freq::Weekly => Some(("week", by_day.len().max(1) * times)),
                Freq::Monthly | Freq::Yearly => None,
            };
            if let Some((period, most)) = most
                && by_set_pos.iter().all(|p| p.unsigned_abs() as usize > most)
            {
                return Err(RuleError::new(format!(
                    "BYSETPOS can never match: each {period} has at most {most} \
                         occurrence{}",
                    if most == 1 { "" } else { "s" }
                )));
            }
        }

        // The week's first day only decides which weeks an every-n-weeks rule
        // with BYDAY takes (RFC 5545 3.3.10; there is no BYWEEKNO here):
        // elsewhere it says nothing, and is dropped.
        let week_start = match (freq, self.interval, by_day.is_empty()) {
            (Freq::Weekly, Some(2..), false) => self.week_start.unwrap_or(Weekday::Mon),
            _ => Weekday::Mon,
        };
        Ok(Rule {
            freq,
            interval: self.interval.unwrap_or(1),
            by_month,
            by_month_day,
            by_day,
            by_hour,
            by_minute,
            by_set_pos,
            week_start,
            end,
        })
    }
}

fn freq(value: &str) -> Result<Freq, RuleError> {
    match value {
        "DAILY" => Ok(Freq::Daily),
        "WEEKLY" => Ok(Freq::Weekly),
        "MONTHLY" => Ok(Freq::Monthly),
        "YEARLY" => Ok(Freq::Yearly),
        "SECONDLY" | "MINUTELY" | "HOURLY" => Err(RuleError::new(format!(
            "FREQ: `{value}` is not supported: a task repeats at most daily (use DAILY with \
             BYHOUR for several times a day)"
        ))),
        _ => Err(RuleError::new(format!(
            "FREQ: {} is not DAILY, WEEKLY, MONTHLY or YEARLY",
            quote(value)
        ))),
    }
}

fn list<T>(
    key: &str,
    value: &str,
    item: impl Fn(&str) -> Result<T, RuleError>,
) -> Result<Vec<T>, RuleError> {
    value
        .split(',')
        .map(|v| {
            let v = v.trim();
            if v.is_empty() {
                Err(RuleError::new(format!("{key} has an empty item")))
            } else {
                item(v)
            }
        })
        .collect()
}

fn number(key: &str, value: &str, min: u32, max: u32) -> Result<u32, RuleError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            RuleError::new(format!(
                "{key}: {} is not a whole number from {min} to {max}",
                quote(value)
            ))
        })
}

/// A non-zero number in `-max..=max`.
fn signed(key: &str, value: &str, max: i32) -> Result<i32, RuleError> {
    value
        .parse::<i32>()
        .ok()
        .filter(|n| *n != 0 && n.abs() <= max)
        .ok_or_else(|| {
            RuleError::new(format!(
                "{key}: {} is not a number from 1 to {max} or -1 to -{max}",
                quote(value)
            ))
        })
}

fn day_spec(value: &str) -> Result<DaySpec, RuleError> {
    let split = value.len().saturating_sub(2);
    let (nth, code) = match (value.get(..split), value.get(split..)) {
        (Some(nth), Some(code)) => (nth, code),
        _ => ("", value),
    };
    let weekday = weekday_from_code(code).ok_or_else(|| {
        RuleError::new(format!(
            "BYDAY: {} is not a weekday (MO, TU, WE, TH, FR, SA, SU, optionally after an \
             ordinal such as 3FR or -1FR)",
            quote(value)
        ))
    })?;
    let nth = if nth.is_empty() {
        0
    } else {
        nth.parse::<i32>()
            .ok()
            .filter(|n| *n != 0 && n.abs() <= MAX_NTH_IN_YEAR)
            .ok_or_else(|| {
                RuleError::new(format!(
                    "BYDAY: {} has an ordinal that is not 1 to {MAX_NTH_IN_YEAR} or -1 to \
                     -{MAX_NTH_IN_YEAR}",
                    quote(value)
                ))
            })?
    };
    Ok(DaySpec { nth, weekday })
}

fn week_start(value: &str) -> Result<Weekday, RuleError> {
    match value {
        "MO" => Ok(Weekday::Mon),
        "SU" => Ok(Weekday::Sun),
        _ => Err(RuleError::new(format!(
            "WKST: {} is not supported: weeks start on MO or SU",
            quote(value)
        ))),
    }
}

fn until(value: &str) -> Result<Until, RuleError> {
    let bad = || {
        RuleError::new(format!(
            "UNTIL: {} is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSS, or with Z for UTC)",
            quote(value)
        ))
    };
    if !value.is_ascii() {
        return Err(bad());
    }
    match value.len() {
        8 => NaiveDate::parse_from_str(value, "%Y%m%d")
            .map(Until::Date)
            .map_err(|_| bad()),
        15 => NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S")
            .map(Until::Local)
            .map_err(|_| bad()),
        16 if value.ends_with('Z') => NaiveDateTime::parse_from_str(&value[..15], "%Y%m%dT%H%M%S")
            .map(|t| Until::Utc(t.and_utc()))
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(raw: &str) -> String {
        Rule::parse(raw).expect_err(raw).to_string()
    }

    #[test]
    fn accepts_the_subset_in_any_case_with_or_without_the_prefix() {
        let rule = Rule::parse("rrule:freq=weekly;byday=mo,fr;interval=2").unwrap();
        assert_eq!(rule.to_string(), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR");
        assert_eq!(
            Rule::parse(" RRULE: FREQ=MONTHLY;BYDAY=-1FR,3FR; ")
                .unwrap()
                .to_string(),
            "FREQ=MONTHLY;BYDAY=3FR,-1FR"
        );
        assert_eq!(
            Rule::parse("FREQ=YEARLY;UNTIL=20270331T080000Z;BYMONTH=3,1,3")
                .unwrap()
                .to_string(),
            "FREQ=YEARLY;BYMONTH=1,3;UNTIL=20270331T080000Z"
        );
        assert_eq!(
            Rule::parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU")
                .unwrap()
                .to_string(),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU"
        );
    }

    #[test]
    fn equal_rules_are_equal_whatever_their_spelling() {
        assert_eq!(
            Rule::parse("FREQ=WEEKLY;BYDAY=FR,MO,MO;INTERVAL=1;WKST=MO").unwrap(),
            Rule::parse("FREQ=WEEKLY;BYDAY=MO,FR").unwrap()
        );
        // The week's start changes nothing every week, or without BYDAY.
        for raw in [
            "FREQ=WEEKLY;BYDAY=MO,SU;WKST=SU",
            "FREQ=MONTHLY;WKST=SU",
            "FREQ=WEEKLY;INTERVAL=2;WKST=SU",
        ] {
            assert!(
                !Rule::parse(raw).unwrap().to_string().contains("WKST"),
                "{raw}"
            );
        }
    }

    #[test]
    fn has_time_of_day_and_count() {
        let rule = Rule::parse("FREQ=DAILY;BYHOUR=9;COUNT=5").unwrap();
        assert!(rule.has_time_of_day());
        assert_eq!(rule.count(), Some(5));
        let rule = Rule::parse("FREQ=DAILY").unwrap();
        assert!(!rule.has_time_of_day());
        assert_eq!(rule.count(), None);
    }

    #[test]
    fn refusals_name_the_part() {
        let cases = [
            ("", "empty"),
            ("INTERVAL=2", "FREQ is missing"),
            ("FREQ=HOURLY", "FREQ: `HOURLY` is not supported"),
            ("FREQ=MINUTELY", "FREQ: `MINUTELY` is not supported"),
            ("FREQ=SECONDLY", "FREQ: `SECONDLY` is not supported"),
            ("FREQ=FORTNIGHTLY", "FREQ: `FORTNIGHTLY`"),
            ("FREQ=WEEKLY;BYDAY=XY", "BYDAY: `XY` is not a weekday"),
            ("FREQ=WEEKLY;BYDAY=1MO", "BYDAY: `1MO` has an ordinal"),
            ("FREQ=DAILY;BYDAY=-1FR", "BYDAY: `-1FR` has an ordinal"),
            ("FREQ=MONTHLY;BYDAY=6MO", "BYDAY: `6MO` is out of range"),
            ("FREQ=MONTHLY;BYDAY=0MO", "BYDAY: `0MO`"),
            ("FREQ=YEARLY;BYDAY=54MO", "BYDAY: `54MO`"),
            (
                "FREQ=YEARLY;BYMONTH=2;BYDAY=6MO",
                "BYDAY: `6MO` is out of range",
            ),
            ("FREQ=DAILY;INTERVAL=0", "INTERVAL: `0`"),
            ("FREQ=DAILY;INTERVAL=1001", "INTERVAL: `1001`"),
            ("FREQ=DAILY;COUNT=0", "COUNT: `0`"),
            ("FREQ=DAILY;COUNT=1001", "COUNT: `1001`"),
            ("FREQ=DAILY;COUNT=-1", "COUNT: `-1`"),
            ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY: `32`"),
            ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY: `0`"),
            ("FREQ=MONTHLY;BYMONTHDAY=-32", "BYMONTHDAY: `-32`"),
            (
                "FREQ=WEEKLY;BYMONTHDAY=1",
                "BYMONTHDAY cannot be used with FREQ=WEEKLY",
            ),
            ("FREQ=YEARLY;BYMONTH=13", "BYMONTH: `13`"),
            ("FREQ=DAILY;BYHOUR=24", "BYHOUR: `24`"),
            ("FREQ=DAILY;BYMINUTE=60", "BYMINUTE: `60`"),
            ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=367", "BYSETPOS: `367`"),
            ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS needs another BY part"),
            (
                "FREQ=DAILY;BYHOUR=9;BYSETPOS=2",
                "BYSETPOS can never match: each day has at most 1 occurrence",
            ),
            (
                "FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=9,10;BYSETPOS=5,-5",
                "BYSETPOS can never match: each week has at most 4 occurrences",
            ),
            (
                "FREQ=DAILY;COUNT=3;UNTIL=20270101",
                "COUNT and UNTIL cannot be used together",
            ),
            ("FREQ=DAILY;UNTIL=2027-01-01", "UNTIL: `2027-01-01`"),
            ("FREQ=DAILY;UNTIL=20270230", "UNTIL: `20270230`"),
            (
                "FREQ=DAILY;UNTIL=20270101T250000",
                "UNTIL: `20270101T250000`",
            ),
            ("FREQ=WEEKLY;WKST=TU", "WKST: `TU` is not supported"),
            ("FREQ=DAILY;BYSECOND=0", "BYSECOND is not supported"),
            ("FREQ=YEARLY;BYYEARDAY=1", "BYYEARDAY is not supported"),
            ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO is not supported"),
            ("FREQ=DAILY;FOO=1", "unknown part `FOO`"),
            ("FREQ=DAILY;FREQ=WEEKLY", "FREQ appears more than once"),
            (
                "FREQ=DAILY;BYHOUR=9;BYHOUR=10",
                "BYHOUR appears more than once",
            ),
            ("FREQ=DAILY;BYHOUR=", "BYHOUR has no value"),
            ("FREQ=DAILY;BYHOUR=9,,10", "BYHOUR has an empty item"),
            ("FREQ=DAILY;;BYHOUR=9", "empty part"),
            ("FREQ=DAILY;BYHOUR", "`BYHOUR` is not a KEY=VALUE part"),
            ("FREQ=DAILY;=3", "no key"),
            ("FREQ=DAILY;BYDAY=MO,", "BYDAY has an empty item"),
        ];
        for (raw, expected) in cases {
            let message = error(raw);
            assert!(
                message.contains(expected),
                "{raw:?}: {message:?} does not contain {expected:?}"
            );
        }
    }

    #[test]
    fn refuses_long_input_before_reading_it() {
        let long = format!("FREQ=DAILY;{}", "BYHOUR=1;".repeat(60));
        assert!(error(&long).contains("longer than 500"));
    }

    #[test]
    fn quotes_stay_short_and_unicode_is_safe() {
        let message = error(&format!("FREQ={}", "é".repeat(100)));
        assert!(message.chars().count() < 120, "{message}");
        assert!(error("RRULÉ:FREQ=DAILY").contains("unknown part"));
        assert!(Rule::parse("ééé").is_err());
        assert!(Rule::parse("FREQ=DAILY;UNTIL=2027010éZ").is_err());
    }
}
