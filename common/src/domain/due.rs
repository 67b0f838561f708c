//! When a task is due: on a day (all-day), at a time of day, or not at all
//! (issue 21). A day is the user's day, in their zone; a time is an instant.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

use super::TimeZone;
use crate::error::{Error, Result};

/// A stored due date: the day, and the instant when the task has a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub date: NaiveDate,
    pub at: Option<DateTime<Utc>>,
}

/// A due date as a caller sent it (`due_date`, `due_at` or both), checked
/// but not yet placed in the user's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueSpec {
    /// All day.
    Day(NaiveDate),
    /// At a time; with the day the caller expects it on, when it sent both.
    At {
        time: DueTime,
        day: Option<NaiveDate>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueTime {
    /// An RFC 3339 timestamp: this instant, wherever the user is.
    Instant(DateTime<Utc>),
    /// `YYYY-MM-DDTHH:MM[:SS]` without an offset: that wall time in the user's zone.
    Wall(NaiveDateTime),
}

impl DueSpec {
    /// Reads the two input fields; `None` when neither is sent.
    pub fn parse(due_date: Option<&str>, due_at: Option<&str>) -> Result<Option<Self>> {
        let day = due_date.map(parse_date).transpose()?;
        let time = due_at.map(parse_time).transpose()?;
        Ok(match (day, time) {
            (None, None) => None,
            (Some(day), None) => Some(Self::Day(day)),
            (day, Some(time)) => Some(Self::At { time, day }),
        })
    }

    /// Whether placing it needs the user's zone (only a day does not).
    pub fn needs_zone(&self) -> bool {
        matches!(self, Self::At { .. })
    }

    /// The due date in `zone`. A day sent with a time must be that time's
    /// day there: a mismatch is refused rather than silently picked.
    pub fn place(self, zone: TimeZone) -> Result<Due> {
        match self {
            Self::Day(date) => {
                in_range("due_date", date.year())?;
                Ok(Due { date, at: None })
            }
            Self::At { time, day } => {
                let at = match time {
                    DueTime::Instant(at) => at,
                    DueTime::Wall(wall) => zone.instant(wall),
                };
                let date = zone.local(at).date_naive();
                in_range("due_at", at.year())?;
                in_range("due_at", date.year())?;
                if let Some(day) = day.filter(|d| *d != date) {
                    return Err(Error::invalid(
                        "due_date",
                        format!(
                            "{day} is not the day of due_at in your time zone ({zone}), which is {date}; send one of the two"
                        ),
                    ));
                }
                Ok(Due { date, at: Some(at) })
            }
        }
    }

    /// A stable text of what was sent (for idempotency fingerprints).
    pub fn canonical(&self) -> String {
        match self {
            Self::Day(d) => d.to_string(),
            Self::At { time, day } => {
                let time = match time {
                    DueTime::Instant(at) => at.to_rfc3339(),
                    DueTime::Wall(wall) => wall.to_string(),
                };
                match day {
                    Some(day) => format!("{day} {time}"),
                    None => time,
                }
            }
        }
    }
}

/// Years a due date may fall in: its day and its instant, in any zone,
/// stay four-digit years, as RFC 3339 writes them.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9998;

/// Refuses a year outside [`YEARS`] for `field`.
pub fn in_range(field: &str, year: i32) -> Result<()> {
    if YEARS.contains(&year) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!(
                "must fall between the years {} and {}",
                YEARS.start(),
                YEARS.end()
            ),
        ))
    }
}

/// `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| Error::invalid("due_date", "must be a date such as 2026-12-24"))
}

/// RFC 3339, or a wall time without an offset (`2026-12-24T18:00`).
fn parse_time(raw: &str) -> Result<DueTime> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(DueTime::Instant(at.with_timezone(&Utc)));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .map(DueTime::Wall)
        .ok_or_else(|| {
            Error::invalid(
                "due_at",
                "must be an RFC 3339 timestamp such as 2026-12-01T17:00:00Z, or a local time such as 2026-12-01T17:00",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse(name).unwrap()
    }

    fn spec(date: Option<&str>, at: Option<&str>) -> Result<Option<DueSpec>> {
        DueSpec::parse(date, at)
    }

    #[test]
    fn a_date_alone_is_all_day_whatever_the_zone() {
        let due = spec(Some("2026-12-08"), None)
            .unwrap()
            .unwrap()
            .place(zone("Pacific/Auckland"))
            .unwrap();
        assert_eq!(due.date.to_string(), "2026-12-08");
        assert_eq!(due.at, None);
    }

    #[test]
    fn an_instant_is_due_on_its_day_in_the_users_zone() {
        let s = spec(None, Some("2026-12-08T23:30:00Z")).unwrap().unwrap();
        assert_eq!(s.place(zone("UTC")).unwrap().date.to_string(), "2026-12-08");
        // Berlin is an hour ahead: the 9th at 00:30.
        let berlin = s.place(zone("Europe/Berlin")).unwrap();
        assert_eq!(berlin.date.to_string(), "2026-12-09");
        assert_eq!(berlin.at.unwrap().to_rfc3339(), "2026-12-08T23:30:00+00:00");
    }

    #[test]
    fn a_wall_time_is_that_time_in_the_users_zone() {
        let s = spec(None, Some("2026-12-08T18:00")).unwrap().unwrap();
        let ny = s.place(zone("America/New_York")).unwrap();
        assert_eq!(ny.at.unwrap().to_rfc3339(), "2026-12-08T23:00:00+00:00");
        assert_eq!(ny.date.to_string(), "2026-12-08");
        // Summer: the offset is the one of that date, not of today.
        let s = spec(None, Some("2027-07-01T18:00:00")).unwrap().unwrap();
        let ny = s.place(zone("America/New_York")).unwrap();
        assert_eq!(ny.at.unwrap().to_rfc3339(), "2027-07-01T22:00:00+00:00");
    }

    #[test]
    fn a_day_sent_with_a_time_must_agree_with_it() {
        let s = spec(Some("2026-12-08"), Some("2026-12-08T23:30:00Z"))
            .unwrap()
            .unwrap();
        assert!(s.place(zone("UTC")).is_ok());
        let err = s.place(zone("Europe/Berlin")).unwrap_err().to_string();
        assert!(
            err.starts_with("due_date: 2026-12-08 is not the day"),
            "{err}"
        );
    }

    #[test]
    fn dates_stay_within_four_digit_years() {
        let err = spec(Some("0000-06-01"), None)
            .unwrap()
            .unwrap()
            .place(zone("UTC"));
        assert!(
            err.unwrap_err()
                .to_string()
                .starts_with("due_date: must fall between")
        );
        // Midnight of year 1 in Berlin is still year 0 in UTC.
        let s = spec(None, Some("0001-01-01T00:00")).unwrap().unwrap();
        assert!(s.place(zone("Europe/Berlin")).is_err());
        assert!(s.place(zone("UTC")).is_ok());
    }

    #[test]
    fn bad_input_names_its_field() {
        let err = spec(Some("tomorrow"), None).unwrap_err().to_string();
        assert!(err.starts_with("due_date:"), "{err}");
        let err = spec(None, Some("2026-12-01 17:00"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("due_at:"), "{err}");
        assert_eq!(spec(None, None).unwrap(), None);
    }
}
