//! Task fields and their rules.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::text::{bounded, check_chars};
use super::{Due, Recurrence, Reminders, UserId};
use crate::error::Error;

/// A task's id: its number in its user's list (`tasks.number`: 1, 2, 3...
/// in creation order, never reused), positive. The table's own key stays
/// inside the database.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[schema(value_type = i64, minimum = 1)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct TaskId(i64);

impl TaskId {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        raw.trim()
            .trim_start_matches('#')
            .parse::<i64>()
            .ok()
            .and_then(Self::new)
            .ok_or_else(|| Error::invalid("id", "must be a positive task number"))
    }

    pub fn new(id: i64) -> Option<Self> {
        (id > 0).then_some(Self(id))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// 1..=200 characters after trimming, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTitle(String);

impl TaskTitle {
    pub const MAX: usize = 200;
    pub fn parse(raw: &str) -> Result<Self, Error> {
        bounded("title", raw, 1, Self::MAX, false).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At most 2000 characters; may span lines; empty means "no description".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskDescription(String);

impl TaskDescription {
    pub const MAX: usize = 2000;
    pub fn parse(raw: &str) -> Result<Self, Error> {
        bounded("description", raw, 0, Self::MAX, true).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    sqlx::Type,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "task_priority", rename_all = "lowercase")]
/// Todoist's p4..p1, in sort order (the database enum's order too).
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Self::Low),
            "medium" | "normal" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            "urgent" => Ok(Self::Urgent),
            _ => Err(Error::invalid(
                "priority",
                "must be urgent, high, medium or low",
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }
}

/// Up to 10 tags, each 1..=32 characters, lower-cased, no spaces or commas;
/// repeats are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskTags(Vec<String>);

impl TaskTags {
    pub const MAX_TAGS: usize = 10;
    pub const MAX_LEN: usize = 32;

    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, Error> {
        // Counted as given, before repeats are dropped: one rule a client
        // can check without knowing how tags compare (the API document's
        // `maxItems`).
        if raw.len() > Self::MAX_TAGS {
            return Err(Error::invalid(
                "tags",
                format!("at most {} tags (got {})", Self::MAX_TAGS, raw.len()),
            ));
        }
        let mut tags: Vec<String> = Vec::with_capacity(raw.len());
        for tag in raw {
            let tag = Self::parse_one(tag.as_ref())?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        Ok(Self(tags))
    }

    /// One tag, as used by the `tag=` filter too.
    pub fn parse_one(raw: &str) -> Result<String, Error> {
        let tag = bounded("tags", raw, 1, Self::MAX_LEN, false)?.to_lowercase();
        if tag.contains(|c: char| c.is_whitespace() || c == ',') {
            return Err(Error::invalid(
                "tags",
                format!("`{tag}`: a tag must not contain spaces or commas"),
            ));
        }
        Ok(tag)
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// Free text used in searches; bounded so one request cannot send megabytes of pattern.
pub fn search_text(field: &str, raw: &str) -> Result<String, Error> {
    let text = raw.trim();
    if text.chars().count() > 200 {
        return Err(Error::invalid(field, "must be at most 200 characters"));
    }
    check_chars(field, text, false)?;
    Ok(text.to_string())
}

/// A task as stored and as returned by every front door.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Task {
    pub id: TaskId,
    pub user_id: UserId,
    pub title: String,
    /// Empty when the task has none.
    pub description: String,
    pub completed: bool,
    pub priority: Priority,
    /// Lower-cased, distinct, in the order given.
    pub tags: Vec<String>,
    /// The day it is due, in the user's time zone; null when not due.
    #[schema(value_type = Option<String>, format = Date, example = "2026-12-24")]
    pub due_date: Option<NaiveDate>,
    /// When it is due, for a task due at a time of day; null for a task due
    /// all day (or not due).
    pub due_at: Option<DateTime<Utc>>,
    /// How it repeats; null for a one-off task. A recurring task is always
    /// due: its due date is its next occurrence.
    #[schema(value_type = Option<super::recurrence::RecurrenceSchema>)]
    pub recurrence: Option<Recurrence>,
    /// When to remind the user, each with its resolved time and when it fired.
    #[schema(value_type = Vec<super::Reminder>)]
    pub reminders: Reminders,
    /// When it was last marked done; null while pending.
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Task {
    /// When it is due, if it is.
    pub fn due(&self) -> Option<Due> {
        self.due_date.map(|date| Due {
            date,
            at: self.due_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded_in_characters() {
        assert_eq!(
            TaskTitle::parse("  buy milk ").unwrap().as_str(),
            "buy milk"
        );
        assert!(TaskTitle::parse("   ").is_err());
        // 200 four-byte characters are fine: the limit counts characters.
        assert!(TaskTitle::parse(&"🥛".repeat(200)).is_ok());
        assert!(TaskTitle::parse(&"a".repeat(201)).is_err());
        assert!(TaskTitle::parse("nul\0byte").is_err());
        assert!(TaskTitle::parse("two\nlines").is_err());
    }

    #[test]
    fn descriptions_may_span_lines() {
        assert!(TaskDescription::parse("line 1\nline 2\ttab").is_ok());
        assert!(TaskDescription::parse(&"x".repeat(2001)).is_err());
        assert!(TaskDescription::parse("bell\u{7}").is_err());
    }

    #[test]
    fn tags_are_normalised() {
        let tags = TaskTags::parse(&["Work", "work", " Home "]).unwrap();
        assert_eq!(tags.as_slice(), ["work", "home"]);
        assert!(TaskTags::parse(&["two words"]).is_err());
        assert!(TaskTags::parse(&[""]).is_err());
        assert!(TaskTags::parse(&["x".repeat(33)]).is_err());
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(TaskTags::parse(&eleven).is_err());
        // Repeats count: the limit is on what was sent.
        assert!(TaskTags::parse(&["a"; 11]).is_err());
        assert_eq!(TaskTags::parse(&["a"; 10]).unwrap().as_slice(), ["a"]);
    }

    #[test]
    fn priorities_parse_case_insensitively_and_order() {
        assert_eq!(Priority::parse("HIGH").unwrap(), Priority::High);
        assert_eq!(Priority::parse(" Urgent").unwrap(), Priority::Urgent);
        assert!(Priority::parse("p1").is_err());
        assert!(Priority::Low < Priority::Medium && Priority::Medium < Priority::High);
        assert!(Priority::High < Priority::Urgent);
    }

    #[test]
    fn task_ids_are_positive_numbers() {
        assert_eq!(TaskId::parse("#42").unwrap().get(), 42);
        assert!(TaskId::parse("0").is_err());
        assert!(TaskId::parse("-3").is_err());
        assert!(TaskId::parse("abc").is_err());
        assert!(TaskId::parse("99999999999999999999").is_err());
    }
}
