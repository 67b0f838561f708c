//! From a rule and a start to occurrences, period by period on the wall clock
//! (RFC 5545 3.3.10's expand/limit table for the subset), then placed in the
//! zone.

use std::collections::VecDeque;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};
use chrono_tz::Tz;

use crate::rule::{DaySpec, End, Freq, Rule, Until};
use crate::{Occurrence, resolve};

/// 400 Gregorian years, the calendar's cycle: no series goes further past its
/// start, which bounds the search for a rule that cannot match again.
const HORIZON_DAYS: u64 = 146_097;

/// The rule's occurrences: candidates placed in the zone, with those a DST gap
/// would put out of order left out, then UNTIL and COUNT applied.
pub(crate) struct Series {
    candidates: Candidates,
    zone: Tz,
    /// Candidates read ahead while deciding whether one in a gap stays.
    ahead: VecDeque<Occurrence>,
    until: Option<Until>,
    left: Option<u32>,
    finished: bool,
}

impl Series {
    /// The series from its `first_period` on (0: from the start).
    pub(crate) fn new(rule: Rule, start: NaiveDateTime, zone: Tz, first_period: u64) -> Self {
        let (until, left) = match rule.end {
            End::Never => (None, None),
            End::Count(count) => (None, Some(count)),
            End::Until(until) => (Some(until), None),
        };
        Self {
            candidates: Candidates::new(rule, start, first_period),
            zone,
            ahead: VecDeque::new(),
            until,
            left,
            finished: false,
        }
    }

    fn pull(&mut self) -> bool {
        match self.candidates.next() {
            Some(local) => {
                let at = resolve(local, self.zone);
                self.ahead.push_back(Occurrence { local, at });
                true
            }
            None => false,
        }
    }
}

impl Iterator for Series {
    type Item = Occurrence;

    fn next(&mut self) -> Option<Occurrence> {
        while !self.finished && self.left != Some(0) {
            if self.ahead.is_empty() && !self.pull() {
                break;
            }
            let candidate = self.ahead[0];
            let wall = candidate.at.with_timezone(&self.zone).naive_local();
            if wall != candidate.local {
                // In a gap, the candidate happens when the clock reads `wall`:
                // a later candidate up to `wall` (02:30 → 03:30, then a 03:00
                // or 03:30 of the same rule) would come at or before it. The
                // later one is a real wall time, so it is the one kept.
                while self.ahead.back().is_some_and(|last| last.local <= wall) && self.pull() {}
                if self
                    .ahead
                    .iter()
                    .skip(1)
                    .any(|later| later.at <= candidate.at)
                {
                    self.ahead.pop_front();
                    continue;
                }
            }
            self.ahead.pop_front();
            if self.until.is_some_and(|until| until.is_before(&candidate)) {
                break;
            }
            if let Some(left) = &mut self.left {
                *left -= 1;
            }
            return Some(candidate);
        }
        self.finished = true;
        None
    }
}

/// The index of the period that holds `after` (0 when `after` is before the
/// start): a series started there yields the same occurrences after `after`
/// as one started at the beginning, since nothing decides an occurrence's fate
/// but the candidates after it.
pub(crate) fn period_before(rule: &Rule, start: NaiveDateTime, after: NaiveDateTime) -> u64 {
    if after <= start {
        return 0;
    }
    let (from, to) = (start.date(), after.date());
    let periods = match rule.freq {
        Freq::Daily => (to - from).num_days(),
        Freq::Weekly => {
            (week_of(to, rule.week_start) - week_of(from, rule.week_start)).num_days() / 7
        }
        Freq::Monthly => month_index(to) - month_index(from),
        Freq::Yearly => i64::from(to.year()) - i64::from(from.year()),
    };
    u64::try_from(periods).unwrap_or(0) / u64::from(rule.interval)
}

/// Candidate wall times, strictly increasing, period by period, none before
/// the start; COUNT and UNTIL are not applied here.
struct Candidates {
    rule: Rule,
    start: NaiveDateTime,
    /// Every time of day the rule gives, sorted: BYHOUR × BYMINUTE, else the start's.
    times: Vec<NaiveTime>,
    horizon: NaiveDate,
    next_period: u64,
    /// The current period's days, sorted.
    days: Vec<NaiveDate>,
    /// BYSETPOS's picks among the period's `days × times`, in order; None: all.
    picks: Option<Vec<usize>>,
    cursor: usize,
    done: bool,
}

impl Candidates {
    fn new(rule: Rule, start: NaiveDateTime, first_period: u64) -> Self {
        let times = times(&rule, start);
        let horizon = start
            .date()
            .checked_add_days(Days::new(HORIZON_DAYS))
            .unwrap_or(NaiveDate::MAX);
        Self {
            rule,
            start,
            times,
            horizon,
            next_period: first_period,
            days: Vec::new(),
            picks: None,
            cursor: 0,
            done: false,
        }
    }

    /// Moves to the next period; false once past the horizon or the calendar.
    fn load(&mut self) -> bool {
        let Some(days) = period_days(&self.rule, self.start, self.next_period, self.horizon) else {
            return false;
        };
        self.next_period += 1;
        self.cursor = 0;
        let all = days.len() * self.times.len();
        self.picks = (!self.rule.by_set_pos.is_empty()).then(|| {
            let mut picks: Vec<usize> = self
                .rule
                .by_set_pos
                .iter()
                .filter_map(|&pos| {
                    let index = if pos > 0 {
                        usize::try_from(pos - 1).ok()?
                    } else {
                        all.checked_sub(usize::try_from(pos.unsigned_abs()).ok()?)?
                    };
                    (index < all).then_some(index)
                })
                .collect();
            picks.sort_unstable();
            picks.dedup();
            picks
        });
        self.days = days;
        true
    }
}

impl Iterator for Candidates {
    type Item = NaiveDateTime;

    fn next(&mut self) -> Option<NaiveDateTime> {
        while !self.done {
            let len = match &self.picks {
                Some(picks) => picks.len(),
                None => self.days.len() * self.times.len(),
            };
            if self.cursor >= len {
                if !self.load() {
                    self.done = true;
                }
                continue;
            }
            let index = self.picks.as_ref().map_or(self.cursor, |p| p[self.cursor]);
            self.cursor += 1;
            let per_day = self.times.len();
            let local = self.days[index / per_day].and_time(self.times[index % per_day]);
            if local < self.start {
                continue;
            }
            if local.date() > self.horizon {
                self.done = true;
                break;
            }
            return Some(local);
        }
        None
    }
}

fn times(rule: &Rule, start: NaiveDateTime) -> Vec<NaiveTime> {
    let (hours, minutes) = rule.hours_minutes(start);
    let mut times = Vec::with_capacity(hours.len() * minutes.len());
    for &hour in &hours {
        for &minute in &minutes {
            // The start's seconds ride along (RFC 5545: missing BY parts come from DTSTART).
            let time =
                NaiveTime::from_hms_nano_opt(hour, minute, start.second(), start.nanosecond())
                    .or_else(|| NaiveTime::from_hms_opt(hour, minute, 0));
            times.extend(time);
        }
    }
    times
}

/// The days of period `index` that match the rule, sorted; None when the
/// period begins past the horizon or outside the calendar.
fn period_days(
    rule: &Rule,
    start: NaiveDateTime,
    index: u64,
    horizon: NaiveDate,
) -> Option<Vec<NaiveDate>> {
    let step = index.checked_mul(u64::from(rule.interval))?;
    let from = start.date();
    match rule.freq {
        Freq::Daily => {
            let day = from.checked_add_days(Days::new(step))?;
            (day <= horizon).then(|| {
                if matches_limits(rule, day) {
                    vec![day]
                } else {
                    Vec::new()
                }
            })
        }
        Freq::Weekly => {
            let first =
                week_of(from, rule.week_start).checked_add_days(Days::new(step.checked_mul(7)?))?;
            if first > horizon {
                return None;
            }
            let mut days = Vec::with_capacity(7);
            for offset in 0..7 {
                let Some(day) = first.checked_add_days(Days::new(offset)) else {
                    break;
                };
                let weekday_ok = if rule.by_day.is_empty() {
                    day.weekday() == from.weekday()
                } else {
                    rule.by_day.iter().any(|d| d.weekday == day.weekday())
                };
                if weekday_ok && month_ok(rule, day.month()) {
                    days.push(day);
                }
            }
            Some(days)
        }
        Freq::Monthly => {
            let month = month_index(from).checked_add(i64::try_from(step).ok()?)?;
            let year = i32::try_from(month.div_euclid(12)).ok()?;
            let month = u32::try_from(month.rem_euclid(12)).ok()? + 1;
            let first = NaiveDate::from_ymd_opt(year, month, 1)?;
            if first > horizon {
                return None;
            }
            if !month_ok(rule, month) {
                return Some(Vec::new());
            }
            Some(days_in_month(rule, from.day(), year, month))
        }
        Freq::Yearly => {
            let year =
                i32::try_from(i64::from(from.year()).checked_add(i64::try_from(step).ok()?)?)
                    .ok()?;
            let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
            if first > horizon {
                return None;
            }
            Some(days_in_year(rule, from, year))
        }
    }
}

/// DAILY: BYMONTH, BYMONTHDAY and BYDAY only limit.
fn matches_limits(rule: &Rule, day: NaiveDate) -> bool {
    month_ok(rule, day.month())
        && (rule.by_month_day.is_empty()
            || rule
                .by_month_day
                .iter()
                .any(|&v| clamp(v, month_len(day.year(), day.month())) == day.day()))
        && (rule.by_day.is_empty() || rule.by_day.iter().any(|d| d.weekday == day.weekday()))
}

fn month_ok(rule: &Rule, month: u32) -> bool {
    rule.by_month.is_empty() || rule.by_month.contains(&month)
}

/// MONTHLY: BYMONTHDAY and BYDAY each pick days; given both, a day needs both
/// (Friday the 13th); given neither, the start's day of month.
fn days_in_month(rule: &Rule, start_day: u32, year: i32, month: u32) -> Vec<NaiveDate> {
    let picked =
        (!rule.by_month_day.is_empty()).then(|| month_days(&rule.by_month_day, year, month));
    let weekdays = (!rule.by_day.is_empty()).then(|| {
        let (first, last) = month_bounds(year, month);
        weekdays_between(&rule.by_day, first, last)
    });
    match (picked, weekdays) {
        (Some(days), Some(weekdays)) => intersect(days, &weekdays),
        (Some(days), None) | (None, Some(days)) => days,
        (None, None) => month_days(&[start_day as i32], year, month),
    }
}

/// YEARLY: BYMONTH picks months (else the start's, or every month when
/// BYMONTHDAY or BYDAY pick days); BYDAY counts within each BYMONTH month, or
/// within the year when there is no BYMONTH.
fn days_in_year(rule: &Rule, start: NaiveDate, year: i32) -> Vec<NaiveDate> {
    let months: Vec<u32> = if !rule.by_month.is_empty() {
        rule.by_month.clone()
    } else if !rule.by_month_day.is_empty() || !rule.by_day.is_empty() {
        (1..=12).collect()
    } else {
        vec![start.month()]
    };
    let picked = if !rule.by_month_day.is_empty() {
        Some(
            months
                .iter()
                .flat_map(|&m| month_days(&rule.by_month_day, year, m))
                .collect(),
        )
    } else if rule.by_day.is_empty() {
        Some(
            months
                .iter()
                .flat_map(|&m| month_days(&[start.day() as i32], year, m))
                .collect(),
        )
    } else {
        None
    };
    let weekdays = (!rule.by_day.is_empty()).then(|| {
        if rule.by_month.is_empty() {
            match (
                NaiveDate::from_ymd_opt(year, 1, 1),
                NaiveDate::from_ymd_opt(year, 12, 31),
            ) {
                (Some(first), Some(last)) => weekdays_between(&rule.by_day, first, last),
                _ => Vec::new(),
            }
        } else {
            months
                .iter()
                .flat_map(|&m| {
                    let (first, last) = month_bounds(year, m);
                    weekdays_between(&rule.by_day, first, last)
                })
                .collect()
        }
    });
    let mut days = match (picked, weekdays) {
        (Some(days), Some(weekdays)) => intersect(days, &weekdays),
        (Some(days), None) | (None, Some(days)) => days,
        (None, None) => Vec::new(),
    };
    days.sort_unstable();
    days.dedup();
    days
}

/// BYMONTHDAY values as dates of one month, clamped into it (RFC 7529
/// SKIP=BACKWARD: the 31st of a 30-day month is its 30th), sorted, once each.
fn month_days(values: &[i32], year: i32, month: u32) -> Vec<NaiveDate> {
    let len = month_len(year, month);
    let mut days: Vec<NaiveDate> = values
        .iter()
        .filter_map(|&v| NaiveDate::from_ymd_opt(year, month, clamp(v, len)))
        .collect();
    days.sort_unstable();
    days.dedup();
    days
}

/// A month day in a month of `len` days: past the end → the last day; before
/// the start (`-31` in February) → the 1st.
fn clamp(value: i32, len: u32) -> u32 {
    let len = len as i32;
    let day = if value > 0 {
        value.min(len)
    } else {
        (len + 1 + value).max(1)
    };
    day as u32
}

/// The days between `first` and `last` (inclusive) that BYDAY names: every
/// such weekday, or the nth from either end.
fn weekdays_between(specs: &[DaySpec], first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    for spec in specs {
        let ahead = days_from(first.weekday(), spec.weekday);
        let Some(earliest) = first.checked_add_days(Days::new(ahead)) else {
            continue;
        };
        match spec.nth {
            0 => {
                let mut day = earliest;
                while day <= last {
                    days.push(day);
                    match day.checked_add_days(Days::new(7)) {
                        Some(next) => day = next,
                        None => break,
                    }
                }
            }
            nth if nth > 0 => {
                let weeks = u64::from(nth.unsigned_abs() - 1) * 7;
                if let Some(day) = earliest.checked_add_days(Days::new(weeks))
                    && day <= last
                {
                    days.push(day);
                }
            }
            nth => {
                let back =
                    days_from(spec.weekday, last.weekday()) + u64::from(nth.unsigned_abs() - 1) * 7;
                if let Some(day) = last.checked_sub_days(Days::new(back))
                    && day >= first
                {
                    days.push(day);
                }
            }
        }
    }
    days.sort_unstable();
    days.dedup();
    days
}

/// Days from weekday `from` forward to weekday `to` (0..7).
fn days_from(from: Weekday, to: Weekday) -> u64 {
    u64::from((7 + to.num_days_from_monday() - from.num_days_from_monday()) % 7)
}

fn intersect(days: Vec<NaiveDate>, others: &[NaiveDate]) -> Vec<NaiveDate> {
    days.into_iter()
        .filter(|d| others.binary_search(d).is_ok())
        .collect()
}

/// The first day of the week (starting on `week_start`) that holds `day`.
fn week_of(day: NaiveDate, week_start: Weekday) -> NaiveDate {
    day.checked_sub_days(Days::new(days_from(week_start, day.weekday())))
        .unwrap_or(day)
}

fn month_index(day: NaiveDate) -> i64 {
    i64::from(day.year()) * 12 + i64::from(day.month0())
}

fn month_bounds(year: i32, month: u32) -> (NaiveDate, NaiveDate) {
    let len = month_len(year, month);
    match (
        NaiveDate::from_ymd_opt(year, month, 1),
        NaiveDate::from_ymd_opt(year, month, len),
    ) {
        (Some(first), Some(last)) => (first, last),
        // Outside chrono's calendar: an empty range.
        _ => (NaiveDate::MAX, NaiveDate::MIN),
    }
}

pub(crate) fn month_len(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if NaiveDate::from_ymd_opt(year, 2, 29).is_some() => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_into_the_month() {
        assert_eq!(clamp(31, 30), 30);
        assert_eq!(clamp(31, 28), 28);
        assert_eq!(clamp(15, 28), 15);
        assert_eq!(clamp(-1, 28), 28);
        assert_eq!(clamp(-3, 31), 29);
        assert_eq!(clamp(-31, 28), 1);
        assert_eq!(clamp(-31, 31), 1);
    }

    #[test]
    fn nth_weekdays_from_either_end() {
        let (first, last) = month_bounds(2026, 5);
        let spec = |nth, weekday| DaySpec { nth, weekday };
        let days = weekdays_between(&[spec(1, Weekday::Fri)], first, last);
        assert_eq!(days, [NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()]);
        let days = weekdays_between(&[spec(-1, Weekday::Sun)], first, last);
        assert_eq!(days, [NaiveDate::from_ymd_opt(2026, 5, 31).unwrap()]);
        let days = weekdays_between(&[spec(5, Weekday::Mon)], first, last);
        assert!(days.is_empty(), "May 2026 has four Mondays");
        let days = weekdays_between(&[spec(-5, Weekday::Sun)], first, last);
        assert_eq!(days, [NaiveDate::from_ymd_opt(2026, 5, 3).unwrap()]);
    }
}
