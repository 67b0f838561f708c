//! Lenient reading of tool arguments. Models (and OpenAI-compatible servers)
//! send numbers as strings, HTML-escaped quotes, stray spaces, dates without
//! a time: accept what is unambiguous, then apply the same rules as REST.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{IDEMPOTENCY_KEY, LIST_LIMIT, LIST_MAX};
use crate::domain::{IdempotencyKey, TaskId};
use crate::domain::{RecurrenceInput, ReminderInput};
use crate::error::{Error, Result};
use crate::tasks::{ListParams, NewTaskInput, TaskPatchInput};

/// A tool's arguments: a JSON object, read leniently.
pub(super) struct Args(Map<String, Value>);

/// Parses the model's argument text into a JSON object.
pub(super) fn parse_text(raw: &str) -> std::result::Result<Args, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(Args(Map::new()));
    }
    let value = serde_json::from_str::<Value>(text)
        .or_else(|_| serde_json::from_str::<Value>(&unescape_html(text)))
        .map_err(|e| format!("arguments are not valid JSON ({e})"))?;
    Args::from_value(value)
}

impl Args {
    /// Decoded arguments: an object, nothing (null), or (as some servers
    /// double-encode) a JSON string holding the object.
    pub(super) fn from_value(value: Value) -> std::result::Result<Args, String> {
        match value {
            Value::Object(map) => Ok(Args(map)),
            Value::String(inner) => parse_text(&inner),
            Value::Null => Ok(Args(Map::new())),
            _ => Err("arguments must be a JSON object".into()),
        }
    }
}

fn unescape_html(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Args {
    /// A string field; numbers and booleans are accepted as their text.
    pub(super) fn string(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The arguments without `key`, for a door that does not take it.
    pub(super) fn without(mut self, key: &str) -> Self {
        self.0.remove(key);
        self
    }

    /// add_task's idempotency key: a string taken as sent (not trimmed,
    /// as a retry must send it the same way).
    pub(super) fn idempotency_key(&self) -> Result<Option<IdempotencyKey>> {
        match self.0.get(IDEMPOTENCY_KEY) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(raw)) => IdempotencyKey::parse(IDEMPOTENCY_KEY, raw).map(Some),
            Some(_) => Err(Error::invalid(IDEMPOTENCY_KEY, "must be a string")),
        }
    }

    fn present(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(|v| !v.is_null())
    }

    pub(super) fn task_id(&self) -> Result<TaskId> {
        match self.0.get("task_id").or_else(|| self.0.get("id")) {
            Some(Value::Number(n)) => n
                .as_i64()
                .and_then(TaskId::new)
                .ok_or_else(|| Error::invalid("task_id", "must be a positive task number")),
            Some(Value::String(s)) => TaskId::parse(s)
                .map_err(|_| Error::invalid("task_id", "must be a positive task number")),
            _ => Err(Error::invalid("task_id", "is required")),
        }
    }

    pub(super) fn boolean(&self, key: &str) -> Result<Option<bool>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" => Ok(Some(true)),
                "false" | "no" => Ok(Some(false)),
                _ => Err(Error::invalid(key, "must be true or false")),
            },
            Some(_) => Err(Error::invalid(key, "must be true or false")),
        }
    }

    fn tags(&self) -> Result<Option<Vec<String>>> {
        match self.0.get("tags") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.trim().trim_start_matches('#').to_string()),
                    _ => Err(Error::invalid("tags", "must be a list of strings")),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            // "work, home" or "#work #home"
            Some(Value::String(s)) => Ok(Some(
                s.split([',', ' '])
                    .map(|t| t.trim().trim_start_matches('#').to_string())
                    .filter(|t| !t.is_empty())
                    .collect(),
            )),
            Some(_) => Err(Error::invalid("tags", "must be a list of strings")),
        }
    }

    /// The due fields as the door takes them. A date sent as `due_at`
    /// means all day; a time without an offset (either separator) is the
    /// user's wall time.
    fn due(&self) -> (Option<String>, Option<String>) {
        let date = self.string("due_date").filter(|d| !d.is_empty());
        let Some(at) = self.string("due_at").filter(|d| !d.is_empty()) else {
            return (date, None);
        };
        if NaiveDate::parse_from_str(&at, "%Y-%m-%d").is_ok() {
            return (date.or(Some(at)), None);
        }
        let at = match at.split_once(' ') {
            Some((day, time)) if NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok() => {
                format!("{day}T{time}")
            }
            _ => at,
        };
        (date, Some(at))
    }

    /// A priority; Todoist's p1-p4 too.
    fn priority(&self) -> Option<String> {
        self.priority_in("priority")
    }

    fn priority_in(&self, key: &str) -> Option<String> {
        self.string(key)
            .map(|p| match p.to_ascii_lowercase().as_str() {
                "p1" => "urgent".into(),
                "p2" => "high".into(),
                "p3" => "medium".into(),
                "p4" => "low".into(),
                _ => p,
            })
    }

    /// A recurrence: `{"rrule": ..., "anchor": ...}`, or the RRULE text alone.
    fn recurrence(&self) -> Result<Option<RecurrenceInput>> {
        let input = match self.0.get("recurrence") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(rrule)) => RecurrenceInput {
                rrule: rrule.clone(),
                anchor: None,
                text: None,
            },
            Some(other) => serde_json::from_value(other.clone()).map_err(|_| {
                Error::invalid(
                    "recurrence",
                    "must be {\"rrule\": \"FREQ=...\", \"anchor\": \"due\" or \"completion\"}",
                )
            })?,
        };
        Ok(Some(input))
    }

    /// Reminders: a list of `{"at": ...}` / `{"before_due_minutes": N}`, or one of them.
    fn reminders(&self) -> Result<Option<Vec<ReminderInput>>> {
        let items = match self.0.get("reminders") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Array(items)) => items.clone(),
            Some(one @ Value::Object(_)) => vec![one.clone()],
            Some(_) => return Err(Error::invalid("reminders", "must be a list of reminders")),
        };
        items
            .into_iter()
            .map(|item| {
                serde_json::from_value(item).map_err(|_| {
                    Error::invalid(
                        "reminders",
                        "each reminder is {\"at\": timestamp} or {\"before_due_minutes\": N}",
                    )
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// list_tasks' arguments as REST's listing takes them: open tasks,
    /// soonest due first, [`LIST_LIMIT`] at a time unless asked otherwise.
    pub(super) fn list_params(&self) -> Result<ListParams> {
        let limit = match self.string("limit") {
            None => LIST_LIMIT,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=LIST_MAX).contains(n))
                .ok_or_else(|| {
                    Error::invalid(
                        "limit",
                        format!("must be a whole number from 1 to {LIST_MAX}"),
                    )
                })?,
        };
        Ok(ListParams {
            // Models say "open" or "done" as often as the enum's words.
            status: Some(self.string("status").map_or_else(
                || "pending".into(),
                |s| match s.to_ascii_lowercase().as_str() {
                    "open" | "todo" | "incomplete" | "not done" => "pending".into(),
                    "done" | "finished" | "complete" => "completed".into(),
                    _ => s,
                },
            )),
            q: self.string("query"),
            tag: self
                .string("tag")
                .map(|t| t.trim_start_matches(['#', '@']).to_string()),
            priority_at_least: self.priority_in("priority_at_least"),
            due: self.string("due"),
            due_from: self.string("due_from"),
            due_to: self.string("due_to"),
            recurring: self.boolean("recurring")?.map(|b| b.to_string()),
            sort: Some(self.string("sort").unwrap_or_else(|| "due".into())),
            limit: Some(limit.to_string()),
            cursor: self.string("cursor"),
            ..ListParams::default()
        })
    }

    pub(super) fn new_task(&self) -> Result<NewTaskInput> {
        let (due_date, due_at) = self.due();
        Ok(NewTaskInput {
            title: self
                .string("title")
                .ok_or_else(|| Error::invalid("title", "is required"))?,
            description: self.string("description"),
            due_date,
            due_at,
            priority: self.priority(),
            tags: self.tags()?,
            recurrence: self.recurrence()?,
            reminders: self.reminders()?,
        })
    }

    pub(super) fn patch(&self) -> Result<TaskPatchInput> {
        // Either due field sent (even empty or null) changes the due date;
        // what is left of them is the new one, or none.
        let due_sent = self.0.contains_key("due_date") || self.0.contains_key("due_at");
        let (due_date, due_at) = self.due();
        Ok(TaskPatchInput {
            title: self.string("title"),
            description: self
                .present("description")
                .then(|| self.string("description")),
            due_date: due_sent.then_some(due_date),
            due_at: due_sent.then_some(due_at),
            priority: self.priority(),
            tags: self.present("tags").then(|| self.tags()).transpose()?,
            recurrence: self
                .0
                .contains_key("recurrence")
                .then(|| self.recurrence())
                .transpose()?,
            reminders: self
                .0
                .contains_key("reminders")
                .then(|| self.reminders())
                .transpose()?,
            completed: self.boolean("completed")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaped_and_double_encoded_arguments_parse() {
        let a = parse_text("{&quot;title&quot;: &quot;milk &amp; eggs&quot;}").unwrap();
        assert_eq!(a.string("title").as_deref(), Some("milk & eggs"));
        let a = parse_text(r##""{\"task_id\": \"#7\"}""##).unwrap();
        assert_eq!(a.task_id().unwrap().get(), 7);
        assert!(parse_text("{\"title\": ").is_err());
        assert!(parse_text("[1,2]").is_err());
    }

    #[test]
    fn a_date_alone_is_all_day_and_a_time_without_offset_is_local() {
        let due = |json: &str| {
            let t = parse_text(json).unwrap().new_task().unwrap();
            (t.due_date, t.due_at)
        };
        assert_eq!(
            due(r#"{"title":"x","due_at":"2026-11-26"}"#),
            (Some("2026-11-26".into()), None)
        );
        assert_eq!(
            due(r#"{"title":"x","due_at":"2026-11-26 09:30:00"}"#),
            (None, Some("2026-11-26T09:30:00".into()))
        );
        assert_eq!(
            due(r#"{"title":"x","due_date":"2026-11-26","due_at":"2026-11-26T09:30:00Z"}"#),
            (
                Some("2026-11-26".into()),
                Some("2026-11-26T09:30:00Z".into())
            )
        );
        let patch = parse_text(r#"{"task_id":1,"due_at":null}"#)
            .unwrap()
            .patch()
            .unwrap();
        assert_eq!((patch.due_date, patch.due_at), (Some(None), Some(None)));
        let patch = parse_text(r#"{"task_id":1,"title":"y"}"#)
            .unwrap()
            .patch()
            .unwrap();
        assert_eq!((patch.due_date, patch.due_at), (None, None));
    }

    #[test]
    fn todoist_priorities_are_understood() {
        let a = parse_text(r#"{"title":"x","priority":"P1"}"#).unwrap();
        assert_eq!(a.new_task().unwrap().priority.as_deref(), Some("urgent"));
    }

    #[test]
    fn tags_may_come_as_text() {
        let a = parse_text(r##"{"title":"x","tags":"#Work, home"}"##).unwrap();
        assert_eq!(a.new_task().unwrap().tags.unwrap(), ["Work", "home"]);
    }
}
