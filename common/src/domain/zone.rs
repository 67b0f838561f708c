//! A user's IANA time zone ("Europe/Berlin"): where their "today", "tomorrow
//! at 5pm" and "overdue" are (issue 21).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeZone(Tz);

impl TimeZone {
    pub const UTC: Self = Self(Tz::UTC);

    /// A zone name of the IANA tz database, as it spells it
    /// ("America/New_York"); surrounding white space is ignored.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let name = raw.trim();
        Tz::from_str(name)
            .map(Self)
            .map_err(|_| Error::Unrecognised {
                field: "time_zone".into(),
                message: format!(
                    "unknown time zone `{}`; use an IANA name such as Europe/Berlin or UTC",
                    name.chars().take(64).collect::<String>()
                ),
            })
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    /// `instant` on the user's wall clock.
    pub fn local(self, instant: DateTime<Utc>) -> DateTime<Tz> {
        instant.with_timezone(&self.0)
    }

    /// The instant of a wall time here. A time the clocks skip (02:30 on a
    /// spring-forward night) moves forward by the gap, as the clock on the
    /// wall would show it; a time they show twice is the first one. The
    /// recurrence engine's rule, so due dates and occurrences agree.
    pub fn instant(self, wall: NaiveDateTime) -> DateTime<Utc> {
        todo_recurrence::resolve(wall, self.0)
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// In the API document: one of the tz database's names, listed, so a client
/// (or a schema fuzzer) knows every value the API accepts.
impl utoipa::PartialSchema for TimeZone {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
            .description(Some(
                "An IANA time zone name: where the user's \"today\", \"tomorrow at 5pm\" and \"overdue\" are.",
            ))
            .examples(["Europe/Berlin"])
            .into()
    }
}

impl utoipa::ToSchema for TimeZone {
    fn name() -> std::borrow::Cow<'static, str> {
        "TimeZone".into()
    }
}

/// Stored as its name (`users.time_zone`). A name the tz database no longer
/// knows reads as UTC rather than failing every request of its user.
impl sqlx::Type<sqlx::Postgres> for TimeZone {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <&str as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl sqlx::Decode<'_, sqlx::Postgres> for TimeZone {
    fn decode(value: sqlx::postgres::PgValueRef<'_>) -> Result<Self, sqlx::error::BoxDynError> {
        let name = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Ok(Self::parse(name).unwrap_or(Self::UTC))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_are_zones_and_anything_else_is_refused_by_field() {
        for name in [
            "UTC",
            "Europe/Berlin",
            " Asia/Kolkata ",
            "Australia/Lord_Howe",
        ] {
            assert_eq!(TimeZone::parse(name).unwrap().name(), name.trim());
        }
        for bad in ["", "Mars/Olympus", "europe/berlin", "+02:00", "CEST "] {
            let err = TimeZone::parse(bad).unwrap_err().to_string();
            assert!(
                err.starts_with("time_zone: unknown time zone"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_wall_clock_follows_the_zone_across_dst() {
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        let winter = "2026-01-15T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let summer = "2026-07-15T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(berlin.local(winter).format("%H:%M").to_string(), "13:00");
        assert_eq!(berlin.local(summer).format("%H:%M").to_string(), "14:00");
    }

    #[test]
    fn wall_times_the_clock_skips_move_forward_and_repeated_ones_are_the_first() {
        let wall = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
        let at = |zone: &str, s: &str| TimeZone::parse(zone).unwrap().instant(wall(s)).to_rfc3339();
        // Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST.
        assert_eq!(
            at("Europe/Berlin", "2026-03-29T02:30"),
            "2026-03-29T01:30:00+00:00"
        );
        assert_eq!(
            at("Europe/Berlin", "2026-03-29T03:30"),
            "2026-03-29T01:30:00+00:00"
        );
        // 25 October 2026: 02:30 happens twice; the first is still CEST.
        assert_eq!(
            at("Europe/Berlin", "2026-10-25T02:30"),
            "2026-10-25T00:30:00+00:00"
        );
        // Lord Howe moves by half an hour: 02:00 +10:30 becomes 02:30 +11.
        assert_eq!(
            at("Australia/Lord_Howe", "2026-10-04T02:15"),
            "2026-10-03T15:45:00+00:00"
        );
        assert_eq!(
            at("Asia/Kolkata", "2026-12-08T09:00"),
            "2026-12-08T03:30:00+00:00"
        );
    }
}
