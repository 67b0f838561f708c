//! Recurring tasks (issue 21): a task's rule (RFC 5545 RRULE subset, see
//! the `todo-recurrence` crate), what its next date counts from, and where
//! the series started. One task stands for the series: completing it moves
//! it to its next occurrence.

use chrono::NaiveDateTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use todo_recurrence::Rule;

use crate::error::{Error, Result};

/// What the next occurrence counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Anchor {
    /// The series' own dates: every Monday stays on Mondays.
    #[default]
    Due,
    /// When it was done (Todoist's `every!`): "every! 3 days" is 3 days after
    /// the last time it was done.
    Completion,
}

/// A checked rule as a caller sent it, before it is placed on a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurrenceSpec {
    pub rule: Rule,
    pub anchor: Anchor,
}

/// What a caller sends: `{"rrule": "FREQ=WEEKLY;BYDAY=MO", "anchor": "due"}`.
/// `text` is ours to write; one sent back (a client echoing a task) is ignored.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RecurrenceInput)]
pub struct RecurrenceInput {
    /// An RFC 5545 RRULE: FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL,
    /// BYDAY (with ordinals: 3FR, -1FR), BYMONTHDAY (-1 is the last day),
    /// BYMONTH, BYSETPOS, BYHOUR, BYMINUTE, COUNT or UNTIL.
    #[schema(example = "FREQ=WEEKLY;BYDAY=MO")]
    pub rrule: String,
    /// `due` (default) or `completion`.
    #[serde(default)]
    pub anchor: Option<Anchor>,
    /// Ignored: the API writes the rule in words itself.
    #[serde(default)]
    pub text: Option<String>,
}

impl RecurrenceInput {
    pub fn parse(self) -> Result<RecurrenceSpec> {
        let rule = Rule::parse(&self.rrule)
            .map_err(|e| Error::invalid("recurrence.rrule", e.to_string()))?;
        Ok(RecurrenceSpec {
            rule,
            anchor: self.anchor.unwrap_or_default(),
        })
    }
}

/// A task's recurrence as stored (`tasks.recurrence`, JSON) and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    pub rule: Rule,
    pub anchor: Anchor,
    /// The series' first occurrence, on the user's wall clock (midnight for
    /// a task due all day). With `anchor: completion` each completion starts
    /// the series again.
    pub start: NaiveDateTime,
    /// Occurrences done or skipped so far (for COUNT when the series restarts).
    pub done: u32,
}

impl Recurrence {
    /// The rule in plain words ("every Monday").
    pub fn text(&self) -> String {
        let words = self.rule.describe(self.start);
        match self.anchor {
            Anchor::Due => words,
            Anchor::Completion => format!("{words}, counted from completion"),
        }
    }

    /// The stored form (with `done`, without `text`).
    pub fn stored(&self) -> serde_json::Value {
        serde_json::json!({
            "rrule": self.rule.to_string(),
            "anchor": self.anchor,
            "start": self.start,
            "done": self.done,
        })
    }
}

/// Shown as `{rrule, anchor, text, start}`.
impl Serialize for Recurrence {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            rrule: String,
            anchor: Anchor,
            text: String,
            start: &'a NaiveDateTime,
        }
        Shown {
            rrule: self.rule.to_string(),
            anchor: self.anchor,
            text: self.text(),
            start: &self.start,
        }
        .serialize(s)
    }
}

/// Reads the stored form and the shown one (events are read back by the API's hub).
impl<'de> Deserialize<'de> for Recurrence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            rrule: String,
            anchor: Anchor,
            start: NaiveDateTime,
            #[serde(default)]
            done: u32,
        }
        let raw = Raw::deserialize(d)?;
        Ok(Recurrence {
            rule: Rule::parse(&raw.rrule).map_err(serde::de::Error::custom)?,
            anchor: raw.anchor,
            start: raw.start,
            done: raw.done,
        })
    }
}

/// Stored as JSON (`tasks.recurrence`, [`Recurrence::stored`]).
impl sqlx::Type<sqlx::Postgres> for Recurrence {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <sqlx::types::Json<Self> as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <sqlx::types::Json<Self> as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl sqlx::Decode<'_, sqlx::Postgres> for Recurrence {
    fn decode(
        value: sqlx::postgres::PgValueRef<'_>,
    ) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        let sqlx::types::Json(recurrence) =
            <sqlx::types::Json<Self> as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Ok(recurrence)
    }
}

/// In the API document: what [`Recurrence`]'s `Serialize` writes.
#[derive(utoipa::ToSchema)]
#[schema(as = Recurrence)]
#[allow(dead_code)]
pub struct RecurrenceSchema {
    /// The rule, as RFC 5545 RRULE text in a fixed part order.
    #[schema(example = "FREQ=WEEKLY;BYDAY=MO")]
    rrule: String,
    anchor: Anchor,
    /// The rule in plain words.
    #[schema(example = "every Monday")]
    text: String,
    /// The series' first occurrence, on the user's wall clock.
    #[schema(value_type = String, example = "2026-12-07T00:00:00")]
    start: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_checked_by_field_and_shown_in_words() {
        let input: RecurrenceInput =
            serde_json::from_str(r#"{"rrule": "freq=weekly;byday=mo", "text": "whatever"}"#)
                .unwrap();
        let spec = input.parse().unwrap();
        assert_eq!(spec.anchor, Anchor::Due);
        let rec = Recurrence {
            rule: spec.rule,
            anchor: spec.anchor,
            start: "2026-12-07T00:00:00".parse().unwrap(),
            done: 0,
        };
        let shown = serde_json::to_value(&rec).unwrap();
        assert_eq!(shown["rrule"], "FREQ=WEEKLY;BYDAY=MO");
        assert_eq!(shown["text"], "every Monday");
        assert!(shown.get("done").is_none());
        // Both forms read back as the same recurrence.
        let back: Recurrence = serde_json::from_value(shown).unwrap();
        assert_eq!(back, rec);
        let stored: Recurrence = serde_json::from_value(rec.stored()).unwrap();
        assert_eq!(stored, rec);

        let bad: RecurrenceInput = serde_json::from_str(r#"{"rrule": "FREQ=HOURLY"}"#).unwrap();
        let err = bad.parse().unwrap_err().to_string();
        assert!(err.starts_with("recurrence.rrule: "), "{err}");
    }
}
