//! Month ends and leap days: RFC 7529's SKIP=BACKWARD clamping, and rules
//! that match rarely or never.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use chrono_tz::UTC;

use crate::{local, rule};

fn dates(start: &str, text: &str, n: usize) -> Vec<NaiveDate> {
    rule(text)
        .occurrences(local(start), UTC)
        .take(n)
        .map(|o| o.local.date())
        .collect()
}

fn ymd(list: &[(i32, u32, u32)]) -> Vec<NaiveDate> {
    list.iter()
        .map(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
        .collect()
}

const MONTH_ENDS_2026: [(i32, u32, u32); 12] = [
    (2026, 1, 31),
    (2026, 2, 28),
    (2026, 3, 31),
    (2026, 4, 30),
    (2026, 5, 31),
    (2026, 6, 30),
    (2026, 7, 31),
    (2026, 8, 31),
    (2026, 9, 30),
    (2026, 10, 31),
    (2026, 11, 30),
    (2026, 12, 31),
];

#[test]
fn every_31st_falls_on_each_months_last_day() {
    let expected = ymd(&MONTH_ENDS_2026);
    let start = "2026-01-31 09:00";
    assert_eq!(dates(start, "FREQ=MONTHLY;BYMONTHDAY=31", 12), expected);
    // Taking the day from a start on the 31st clamps the same way, and the
    // day comes back to the 31st after a short month.
    assert_eq!(dates(start, "FREQ=MONTHLY", 12), expected);
    assert_eq!(dates(start, "FREQ=MONTHLY;BYMONTHDAY=-1", 12), expected);
    assert_eq!(dates(start, "FREQ=DAILY;BYMONTHDAY=31", 12), expected);
    // From earlier in January, the first match is still the 31st.
    assert_eq!(
        dates("2026-01-05 09:00", "FREQ=MONTHLY;BYMONTHDAY=31", 12),
        expected
    );
}

#[test]
fn days_that_clamp_to_the_same_date_give_one_occurrence() {
    assert_eq!(
        dates("2026-01-30 09:00", "FREQ=MONTHLY;BYMONTHDAY=30,31", 8),
        ymd(&[
            (2026, 1, 30),
            (2026, 1, 31),
            (2026, 2, 28),
            (2026, 3, 30),
            (2026, 3, 31),
            (2026, 4, 30),
            (2026, 5, 30),
            (2026, 5, 31),
        ])
    );
    assert_eq!(
        dates(
            "2026-02-01 09:00",
            "FREQ=MONTHLY;BYMONTHDAY=29,30,31,-1;COUNT=3",
            10
        ),
        ymd(&[(2026, 2, 28), (2026, 3, 29), (2026, 3, 30)])
    );
}

#[test]
fn a_negative_day_before_the_first_falls_on_the_first() {
    assert_eq!(
        dates("2026-01-01 09:00", "FREQ=MONTHLY;BYMONTHDAY=-31", 4),
        ymd(&[(2026, 1, 1), (2026, 2, 1), (2026, 3, 1), (2026, 4, 1)])
    );
}

#[test]
fn yearly_from_29_february_takes_the_28th_in_common_years() {
    let expected = ymd(&[
        (2028, 2, 29),
        (2029, 2, 28),
        (2030, 2, 28),
        (2031, 2, 28),
        (2032, 2, 29),
    ]);
    assert_eq!(dates("2028-02-29 08:00", "FREQ=YEARLY", 5), expected);
    assert_eq!(
        dates("2028-02-29 08:00", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", 5),
        expected
    );
    assert_eq!(
        dates("2028-01-30 08:00", "FREQ=MONTHLY", 3),
        ymd(&[(2028, 1, 30), (2028, 2, 29), (2028, 3, 30)])
    );
}

#[test]
fn a_rare_rule_is_found_decades_ahead() {
    // A fifth Monday in February needs a leap year whose February starts on a Monday.
    assert_eq!(
        dates("2026-01-01 09:00", "FREQ=YEARLY;BYMONTH=2;BYDAY=5MO", 2),
        ymd(&[(2044, 2, 29), (2072, 2, 29)])
    );
    let rule = rule("FREQ=MONTHLY;BYMONTH=2;BYDAY=5MO");
    let next = rule.next_after(local("2026-01-01 09:00"), local("2044-03-01 00:00"), UTC);
    assert_eq!(next.map(|o| o.local), Some(local("2072-02-29 09:00")));
}

#[test]
fn a_rule_that_never_matches_ends_after_a_bounded_search() {
    let started = Instant::now();
    for text in [
        // No month has a sixth Monday.
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
        // At most three months a year start on a Monday.
        "FREQ=YEARLY;BYMONTHDAY=1;BYDAY=MO;BYSETPOS=13",
        // February's fifth Monday is its 29th, never its 1st.
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=1;BYDAY=5MO",
        // Every seven days from a Thursday is always a Thursday.
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",
    ] {
        let rule = rule(text);
        let start = local("2026-01-01 09:00");
        assert_eq!(rule.occurrences(start, UTC).next(), None, "{text}");
        assert_eq!(
            rule.next_after(start, local("2030-01-01 00:00"), UTC),
            None,
            "{text}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_series_stops_400_years_after_its_start() {
    let rule = rule("FREQ=YEARLY");
    let start = local("2026-06-01 09:00");
    let last = rule.occurrences(start, UTC).last().map(|o| o.local);
    assert_eq!(last, Some(local("2426-06-01 09:00")));
    assert_eq!(rule.next_after(start, local("2426-06-01 09:00"), UTC), None);
}
