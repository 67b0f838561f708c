//! A task's reminders (issue 21): at an instant, or some minutes before the
//! task is due. Relative ones follow the task; each fires once per time it
//! resolves to (`fired_at`); firing them is the crate's `reminders` module.

use chrono::{DateTime, Datelike, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{Due, TimeZone};
use crate::error::{Error, Result};

/// At most this many per task.
pub const MAX_REMINDERS: usize = 10;
/// At most a year before.
pub const MAX_BEFORE_MINUTES: i64 = 525_600;
/// A task due all day is reminded relative to this time on its day.
pub const ALL_DAY_AT: NaiveTime = NaiveTime::from_hms_opt(9, 0, 0).expect("09:00");

/// One reminder as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reminder {
    /// When it fires (resolved: for a relative reminder, the task's due
    /// time minus the minutes; 09:00 on the day for a task due all day).
    pub at: DateTime<Utc>,
    /// Set for a reminder relative to the due date.
    pub before_due_minutes: Option<i64>,
    /// When it fired; null until then. A relative reminder whose task moves
    /// is due again at its new time.
    pub fired_at: Option<DateTime<Utc>>,
}

/// A task's reminders, as stored (`tasks.reminders`, JSON) and shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reminders(pub Vec<Reminder>);

impl sqlx::Type<sqlx::Postgres> for Reminders {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <sqlx::types::Json<Self> as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <sqlx::types::Json<Self> as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl sqlx::Decode<'_, sqlx::Postgres> for Reminders {
    fn decode(
        value: sqlx::postgres::PgValueRef<'_>,
    ) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        let sqlx::types::Json(reminders) =
            <sqlx::types::Json<Self> as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Ok(reminders)
    }
}

impl Reminders {
    /// The stored form.
    pub fn stored(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).expect("reminders serialize")
    }

    /// See [`next_at`].
    pub fn next_at(&self) -> Option<DateTime<Utc>> {
        next_at(&self.0)
    }
}

/// What a caller sends: `{"at": "2026-12-08T17:00:00Z"}` or
/// `{"before_due_minutes": 30}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReminderInput {
    /// An RFC 3339 instant.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-12-08T17:00:00Z")]
    pub at: Option<String>,
    /// Minutes before the task is due (0 to 525600).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 525600, example = 30)]
    pub before_due_minutes: Option<i64>,
    /// Ignored (the server's own record).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub fired_at: Option<String>,
}

/// A checked reminder, before the task's due date places a relative one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderSpec {
    At(DateTime<Utc>),
    BeforeDue(i64),
}

impl ReminderInput {
    pub fn parse(self) -> Result<ReminderSpec> {
        match (self.at, self.before_due_minutes) {
            (Some(at), None) => {
                let at = DateTime::parse_from_rfc3339(at.trim())
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        Error::invalid(
                            "reminders.at",
                            "must be an RFC 3339 timestamp such as 2026-12-08T17:00:00Z",
                        )
                    })?;
                super::due::in_range("reminders.at", at.year())?;
                Ok(ReminderSpec::At(at))
            }
            (None, Some(m)) if (0..=MAX_BEFORE_MINUTES).contains(&m) => {
                Ok(ReminderSpec::BeforeDue(m))
            }
            (None, Some(_)) => Err(Error::invalid(
                "reminders.before_due_minutes",
                format!("must be from 0 to {MAX_BEFORE_MINUTES}"),
            )),
            _ => Err(Error::invalid(
                "reminders",
                "each reminder is {\"at\": timestamp} or {\"before_due_minutes\": N}",
            )),
        }
    }

    /// A list as sent: at most [`MAX_REMINDERS`].
    pub fn parse_all(list: Vec<ReminderInput>) -> Result<Vec<ReminderSpec>> {
        if list.len() > MAX_REMINDERS {
            return Err(Error::invalid(
                "reminders",
                format!("at most {MAX_REMINDERS} reminders per task"),
            ));
        }
        list.into_iter().map(ReminderInput::parse).collect()
    }
}

/// The instant a relative reminder counts back from.
pub fn due_instant(due: Due, zone: TimeZone) -> DateTime<Utc> {
    due.at
        .unwrap_or_else(|| zone.instant(due.date.and_time(ALL_DAY_AT)))
}

/// Reminders for `specs` on a task due `due`, all unfired.
pub fn place(specs: &[ReminderSpec], due: Option<Due>, zone: TimeZone) -> Result<Vec<Reminder>> {
    specs
        .iter()
        .map(|spec| match *spec {
            ReminderSpec::At(at) => Ok(Reminder {
                at,
                before_due_minutes: None,
                fired_at: None,
            }),
            ReminderSpec::BeforeDue(minutes) => {
                let due = due.ok_or_else(|| {
                    Error::invalid(
                        "reminders.before_due_minutes",
                        "needs a due date: set due_date or due_at, or remind at a time",
                    )
                })?;
                Ok(Reminder {
                    at: due_instant(due, zone) - TimeDelta::minutes(minutes),
                    before_due_minutes: Some(minutes),
                    fired_at: None,
                })
            }
        })
        .collect()
}

/// Relative reminders moved with the task to `due`; one whose time changes
/// is due again. A task no longer due keeps none of them.
pub fn follow(reminders: &[Reminder], due: Option<Due>, zone: TimeZone) -> Vec<Reminder> {
    reminders
        .iter()
        .filter_map(|r| match (r.before_due_minutes, due) {
            (None, _) => Some(r.clone()),
            (Some(_), None) => None,
            (Some(minutes), Some(due)) => {
                let at = due_instant(due, zone) - TimeDelta::minutes(minutes);
                Some(Reminder {
                    at,
                    before_due_minutes: Some(minutes),
                    fired_at: if at == r.at { r.fired_at } else { None },
                })
            }
        })
        .collect()
}

/// The earliest unfired reminder's time: when the scheduler must look.
pub fn next_at(reminders: &[Reminder]) -> Option<DateTime<Utc>> {
    reminders
        .iter()
        .filter(|r| r.fired_at.is_none())
        .map(|r| r.at)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn relative_reminders_count_back_from_the_due_time_or_nine_on_the_day() {
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        let timed = Due {
            date: "2026-12-08".parse().unwrap(),
            at: Some(at("2026-12-08T17:00:00Z")),
        };
        let all_day = Due {
            date: "2026-12-08".parse().unwrap(),
            at: None,
        };
        let specs = [
            ReminderSpec::BeforeDue(30),
            ReminderSpec::At(at("2026-12-01T10:00:00Z")),
        ];
        let placed = place(&specs, Some(timed), berlin).unwrap();
        assert_eq!(placed[0].at, at("2026-12-08T16:30:00Z"));
        assert_eq!(placed[1].at, at("2026-12-01T10:00:00Z"));
        assert_eq!(next_at(&placed), Some(at("2026-12-01T10:00:00Z")));
        let placed = place(&specs[..1], Some(all_day), berlin).unwrap();
        assert_eq!(placed[0].at, at("2026-12-08T07:30:00Z"), "08:30 in Berlin");
        assert!(place(&specs[..1], None, berlin).is_err());
    }

    #[test]
    fn a_moved_task_takes_its_relative_reminders_along_and_rearms_them() {
        let utc = TimeZone::UTC;
        let due = |s: &str| Due {
            date: s[..10].parse().unwrap(),
            at: Some(at(s)),
        };
        let specs = [
            ReminderSpec::BeforeDue(60),
            ReminderSpec::At(at("2026-12-01T10:00:00Z")),
        ];
        let mut placed = place(&specs, Some(due("2026-12-08T17:00:00Z")), utc).unwrap();
        for r in &mut placed {
            r.fired_at = Some(at("2026-12-08T16:00:00Z"));
        }
        assert_eq!(next_at(&placed), None);
        // Unchanged: still fired.
        assert_eq!(
            follow(&placed, Some(due("2026-12-08T17:00:00Z")), utc),
            placed
        );
        // Moved a week: the relative one is due again, the fixed one stays fired.
        let moved = follow(&placed, Some(due("2026-12-15T17:00:00Z")), utc);
        assert_eq!(moved[0].at, at("2026-12-15T16:00:00Z"));
        assert_eq!(moved[0].fired_at, None);
        assert_eq!(moved[1], placed[1]);
        assert_eq!(next_at(&moved), Some(at("2026-12-15T16:00:00Z")));
        // No longer due: relative reminders go.
        assert_eq!(follow(&placed, None, utc), placed[1..]);
    }

    #[test]
    fn bad_reminders_name_their_field() {
        let parse = |json: &str| {
            serde_json::from_str::<ReminderInput>(json)
                .unwrap()
                .parse()
                .unwrap_err()
                .to_string()
        };
        assert!(parse(r#"{"at": "tomorrow"}"#).starts_with("reminders.at:"));
        assert!(
            parse(r#"{"before_due_minutes": -5}"#).starts_with("reminders.before_due_minutes:")
        );
        assert!(parse(r#"{}"#).starts_with("reminders:"));
        assert!(
            parse(r#"{"at": "2026-12-08T17:00:00Z", "before_due_minutes": 5}"#)
                .starts_with("reminders:")
        );
        let eleven = (0..11)
            .map(|_| ReminderInput {
                at: None,
                before_due_minutes: Some(5),
                fired_at: None,
            })
            .collect();
        assert!(ReminderInput::parse_all(eleven).is_err());
    }
}
