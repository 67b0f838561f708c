//! The recurrence engine's tests: RFC 5545's examples, month ends and leap
//! days, DST edges, property tests across zones, and the English wording.

mod describe;
mod dst;
mod month_ends;
mod properties;
mod rfc5545;
mod words;

use chrono::NaiveDateTime;
use todo_recurrence::{Occurrence, Rule, Tz};

/// `2026-03-29 02:30` or `20260329T023000`.
pub fn local(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S"))
        .unwrap_or_else(|_| panic!("not a local time: {text}"))
}

pub fn rule(text: &str) -> Rule {
    Rule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// An occurrence as the wall clock in `zone` shows its instant, with the
/// offset: `1997-10-28T09:00-05:00`. Also checks that this is its wall time
/// (true for every wall time outside a DST gap).
pub fn shown(occurrence: &Occurrence, zone: Tz) -> String {
    let at = occurrence.at.with_timezone(&zone);
    assert_eq!(
        at.naive_local(),
        occurrence.local,
        "{occurrence:?} is not at its wall time in {zone}"
    );
    at.format("%Y-%m-%dT%H:%M%:z").to_string()
}
