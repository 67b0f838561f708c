//! DST edges: wall time kept, a time in a spring-forward gap moved forward by
//! the gap's length (that night only), the earlier instant in an autumn
//! overlap, and Lord Howe's half-hour shift.

use chrono::{DateTime, Utc};
use chrono_tz::America::New_York;
use chrono_tz::Australia::Lord_Howe;
use chrono_tz::Europe::Berlin;
use chrono_tz::Pacific::Auckland;
use todo_recurrence::{Tz, resolve};

use crate::{local, rule};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|_| panic!("not RFC 3339: {text}"))
        .with_timezone(&Utc)
}

/// (wall time, instant) pairs of the first `n` occurrences.
fn series(zone: Tz, start: &str, text: &str, n: usize) -> Vec<(String, String)> {
    rule(text)
        .occurrences(local(start), zone)
        .take(n)
        .map(|o| {
            (
                o.local.format("%Y-%m-%d %H:%M").to_string(),
                o.at.format("%Y-%m-%dT%H:%MZ").to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(l, a)| (l.to_string(), a.to_string()))
        .collect()
}

#[test]
fn resolve_moves_a_gap_forward_and_takes_the_earlier_of_an_overlap() {
    // Berlin, 29 March 2026: 02:00 CET → 03:00 CEST.
    assert_eq!(
        resolve(local("2026-03-29 02:30"), Berlin),
        utc("2026-03-29T03:30:00+02:00")
    );
    // Berlin, 25 October 2026: 03:00 CEST → 02:00 CET; 02:30 happens twice.
    assert_eq!(
        resolve(local("2026-10-25 02:30"), Berlin),
        utc("2026-10-25T02:30:00+02:00")
    );
    assert_eq!(
        resolve(local("2026-03-08 02:30"), New_York),
        utc("2026-03-08T03:30:00-04:00")
    );
    // Lord Howe, 4 October 2026: 02:00 → 02:30 (+10:30 → +11:00).
    assert_eq!(
        resolve(local("2026-10-04 02:10"), Lord_Howe),
        utc("2026-10-04T02:40:00+11:00")
    );
    // Lord Howe, 5 April 2026: 02:00 → 01:30 (+11:00 → +10:30).
    assert_eq!(
        resolve(local("2026-04-05 01:45"), Lord_Howe),
        utc("2026-04-05T01:45:00+11:00")
    );
    // Outside any change, the only instant.
    assert_eq!(
        resolve(local("2026-07-01 12:00"), Berlin),
        utc("2026-07-01T12:00:00+02:00")
    );
}

#[test]
fn daily_0230_in_berlin_across_the_march_gap() {
    assert_eq!(
        series(Berlin, "2026-03-27 02:30", "FREQ=DAILY", 4),
        pairs(&[
            ("2026-03-27 02:30", "2026-03-27T01:30Z"),
            ("2026-03-28 02:30", "2026-03-28T01:30Z"),
            // 03:30 CEST that night only.
            ("2026-03-29 02:30", "2026-03-29T01:30Z"),
            ("2026-03-30 02:30", "2026-03-30T00:30Z"),
        ])
    );
}

#[test]
fn daily_0230_in_berlin_across_the_october_overlap() {
    assert_eq!(
        series(Berlin, "2026-10-24 02:30", "FREQ=DAILY", 3),
        pairs(&[
            ("2026-10-24 02:30", "2026-10-24T00:30Z"),
            // The first 02:30 (CEST), not the second (CET).
            ("2026-10-25 02:30", "2026-10-25T00:30Z"),
            ("2026-10-26 02:30", "2026-10-26T01:30Z"),
        ])
    );
}

#[test]
fn daily_9am_in_new_york_keeps_9am_through_both_changes() {
    assert_eq!(
        series(New_York, "2026-03-07 09:00", "FREQ=DAILY;COUNT=3", 5),
        pairs(&[
            ("2026-03-07 09:00", "2026-03-07T14:00Z"),
            ("2026-03-08 09:00", "2026-03-08T13:00Z"),
            ("2026-03-09 09:00", "2026-03-09T13:00Z"),
        ])
    );
    assert_eq!(
        series(
            New_York,
            "2026-10-31 09:00",
            "FREQ=WEEKLY;BYDAY=SA,SU;COUNT=3",
            5
        ),
        pairs(&[
            ("2026-10-31 09:00", "2026-10-31T13:00Z"),
            ("2026-11-01 09:00", "2026-11-01T14:00Z"),
            ("2026-11-07 09:00", "2026-11-07T14:00Z"),
        ])
    );
}

#[test]
fn lord_howe_shifts_by_half_an_hour() {
    assert_eq!(
        series(Lord_Howe, "2026-10-03 02:15", "FREQ=DAILY", 3),
        pairs(&[
            ("2026-10-03 02:15", "2026-10-02T15:45Z"),
            // 02:15 does not exist that night: 02:45 (+11:00).
            ("2026-10-04 02:15", "2026-10-03T15:45Z"),
            ("2026-10-05 02:15", "2026-10-04T15:15Z"),
        ])
    );
    assert_eq!(
        series(Lord_Howe, "2026-04-04 01:45", "FREQ=DAILY", 3),
        pairs(&[
            ("2026-04-04 01:45", "2026-04-03T14:45Z"),
            // 01:45 happens twice: the first (+11:00).
            ("2026-04-05 01:45", "2026-04-04T14:45Z"),
            ("2026-04-06 01:45", "2026-04-05T15:15Z"),
        ])
    );
}

#[test]
fn auckland_moves_its_spring_gap_forward() {
    assert_eq!(
        series(Auckland, "2026-09-26 02:30", "FREQ=DAILY", 3),
        pairs(&[
            ("2026-09-26 02:30", "2026-09-25T14:30Z"),
            ("2026-09-27 02:30", "2026-09-26T14:30Z"),
            ("2026-09-28 02:30", "2026-09-27T13:30Z"),
        ])
    );
}

/// Several times a day, one in the gap and one just after it: 02:30 would
/// happen at 03:30, the same instant as the rule's own 03:30, and after its
/// 03:00. The gap's wall times that would come at or after a later real one
/// are left out, so instants keep increasing.
#[test]
fn times_in_a_gap_that_would_come_after_later_ones_are_left_out() {
    let text = "FREQ=DAILY;BYHOUR=2,3;BYMINUTE=0,30";
    let occurrences = series(Berlin, "2026-03-28 02:00", text, 10);
    assert_eq!(
        occurrences,
        pairs(&[
            ("2026-03-28 02:00", "2026-03-28T01:00Z"),
            ("2026-03-28 02:30", "2026-03-28T01:30Z"),
            ("2026-03-28 03:00", "2026-03-28T02:00Z"),
            ("2026-03-28 03:30", "2026-03-28T02:30Z"),
            ("2026-03-29 03:00", "2026-03-29T01:00Z"),
            ("2026-03-29 03:30", "2026-03-29T01:30Z"),
            ("2026-03-30 02:00", "2026-03-30T00:00Z"),
            ("2026-03-30 02:30", "2026-03-30T00:30Z"),
            ("2026-03-30 03:00", "2026-03-30T01:00Z"),
            ("2026-03-30 03:30", "2026-03-30T01:30Z"),
        ])
    );
    let rule = rule(text);
    let next = rule.next_after(local("2026-03-28 02:00"), local("2026-03-29 01:00"), Berlin);
    assert_eq!(next.map(|o| o.local), Some(local("2026-03-29 03:00")));

    // With nothing after the gap to collide with, the gap's times stay.
    assert_eq!(
        series(
            Berlin,
            "2026-03-29 00:00",
            "FREQ=DAILY;BYHOUR=2;BYMINUTE=0,30",
            2
        ),
        pairs(&[
            ("2026-03-29 02:00", "2026-03-29T01:00Z"),
            ("2026-03-29 02:30", "2026-03-29T01:30Z"),
        ])
    );
    // 02:15 and 02:45 would come at 03:15 and 03:45: after the rule's 03:15.
    assert_eq!(
        series(
            Berlin,
            "2026-03-29 00:00",
            "FREQ=DAILY;BYHOUR=2,3;BYMINUTE=15,45",
            2
        ),
        pairs(&[
            ("2026-03-29 03:15", "2026-03-29T01:15Z"),
            ("2026-03-29 03:45", "2026-03-29T01:45Z"),
        ])
    );
}

/// UNTIL given in UTC ends the series at that instant, in wall time or not.
#[test]
fn until_in_utc_is_an_instant() {
    assert_eq!(
        series(
            Berlin,
            "2026-03-27 09:00",
            "FREQ=DAILY;UNTIL=20260330T070000Z",
            10
        ),
        pairs(&[
            ("2026-03-27 09:00", "2026-03-27T08:00Z"),
            ("2026-03-28 09:00", "2026-03-28T08:00Z"),
            ("2026-03-29 09:00", "2026-03-29T07:00Z"),
            ("2026-03-30 09:00", "2026-03-30T07:00Z"),
        ])
    );
    assert_eq!(
        series(
            Berlin,
            "2026-03-27 09:00",
            "FREQ=DAILY;UNTIL=20260330T085959",
            10
        )
        .len(),
        3
    );
    assert_eq!(
        series(Berlin, "2026-03-27 09:00", "FREQ=DAILY;UNTIL=20260330", 10).len(),
        4
    );
}
