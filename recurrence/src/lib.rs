//! Recurring tasks (issue 21): a subset of RFC 5545's RRULE, evaluated in the
//! user's wall time, described in plain English, and read from English
//! phrases ([`words`]). Pure computation: no I/O, no clock (callers pass
//! "now").
//!
//! Why not the `rrule` crate (0.14): tried here, it keeps a daily 09:00
//! across DST, but its open issue #115 still reproduces (an hourly rule
//! repeats 02:00 on London's spring-forward night), and a rule inside our
//! subset, `FREQ=DAILY;BYHOUR=2,3;BYMINUTE=0,30` in Berlin, gives 03:00 and
//! 03:30 twice, out of order, that night. It also follows RFC 5545 in skipping
//! invalid dates ("every 31st" has no February) and refuses RFC 7529's
//! `RSCALE`/`SKIP=BACKWARD`, the clamping our contract asks for. The subset is
//! small enough to own: occurrences are computed on the wall clock
//! ([`NaiveDateTime`]) and only then placed in the zone ([`resolve`]).
//!
//! The semantics, in one place:
//! - Occurrences are wall times: 09:00 stays 09:00 across DST; each one's
//!   instant is [`resolve`]`(local, zone)`.
//! - What the rule leaves out comes from the start: its time of day, and its
//!   weekday (weekly), day of month (monthly) or month and day (yearly).
//! - Month days clamp (RFC 7529 `SKIP=BACKWARD`): the 31st, or a yearly 29
//!   February, falls on the month's last day when the month is shorter; a
//!   negative day (`-31`) that falls before the 1st falls on the 1st. Two days
//!   that clamp to the same date give one occurrence.
//! - The series starts at the start when the start matches the rule, else at
//!   the first match after it (RFC 5545 would count a non-matching start).
//! - A series never goes beyond 400 years (one Gregorian cycle) past its start:
//!   this bounds the search for rules that cannot match again (`BYDAY=5MO` in
//!   February, a `BYSETPOS` that is out of range).

mod describe;
mod expand;
mod rule;
pub mod words;

use chrono::{DateTime, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};

pub use chrono_tz::Tz;
pub use rule::{Rule, RuleError};

/// One occurrence of a series: its wall time and the instant that wall time
/// is in the series' zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Occurrence {
    pub local: NaiveDateTime,
    pub at: DateTime<Utc>,
}

/// A local wall time as an instant in `zone`: in a DST gap, moved forward by
/// the gap's length (02:30 on a spring-forward night where 02:00→03:00 becomes
/// 03:30); when ambiguous (the hour repeated in autumn), the earlier instant.
/// Same rule everywhere.
pub fn resolve(local: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    if let Some(instant) = zone.from_local_datetime(&local).earliest() {
        return instant.with_timezone(&Utc);
    }
    // In a gap: read the wall time with the offset in force before the jump
    // (RFC 5545 3.3.5), which moves it forward by the gap's length. A day
    // earlier is before the jump and after any previous transition.
    let before = local
        .checked_sub_signed(TimeDelta::days(1))
        .unwrap_or(local);
    let offset = zone
        .offset_from_utc_datetime(&before)
        .fix()
        .local_minus_utc();
    local
        .checked_sub_signed(TimeDelta::seconds(offset.into()))
        .unwrap_or(local)
        .and_utc()
}
