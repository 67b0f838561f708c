//! Lenient reading of tool arguments. Models (and OpenAI-compatible servers)
//! send numbers as strings, HTML-escaped quotes, stray spaces, dates without
//! a time: accept what is unambiguous, then apply the same rules as REST.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::IDEMPOTENCY_KEY;
use crate::domain::{IdempotencyKey, TaskId};
use crate::error::{Error, Result};
use crate::tasks::{NewTaskInput, TaskPatchInput};

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

    /// A due date: RFC 3339, or a plain date meaning the end of that day (UTC),
    /// or a timestamp without zone taken as UTC.
    fn due_at(&self) -> Result<Option<String>> {
        let Some(raw) = self.string("due_at") else {
            return Ok(None);
        };
        if raw.is_empty() {
            return Ok(None);
        }
        if let Ok(date) = NaiveDate::parse_from_str(&raw, "%Y-%m-%d") {
            return Ok(Some(format!("{date}T23:59:59Z")));
        }
        if chrono::NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M:%S").is_ok()
            || chrono::NaiveDateTime::parse_from_str(&raw, "%Y-%m-%d %H:%M:%S").is_ok()
        {
            return Ok(Some(format!("{}Z", raw.replace(' ', "T"))));
        }
        Ok(Some(raw))
    }

    pub(super) fn new_task(&self) -> Result<NewTaskInput> {
        Ok(NewTaskInput {
            title: self
                .string("title")
                .ok_or_else(|| Error::invalid("title", "is required"))?,
            description: self.string("description"),
            due_at: self.due_at()?,
            priority: self.string("priority"),
            tags: self.tags()?,
        })
    }

    pub(super) fn patch(&self) -> Result<TaskPatchInput> {
        Ok(TaskPatchInput {
            title: self.string("title"),
            description: self
                .present("description")
                .then(|| self.string("description")),
            due_at: self.present("due_at").then(|| self.due_at()).transpose()?,
            priority: self.string("priority"),
            tags: self.present("tags").then(|| self.tags()).transpose()?,
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
    fn dates_without_time_mean_end_of_day() {
        let a = parse_text(r#"{"title":"x","due_at":"2026-11-26"}"#).unwrap();
        assert_eq!(
            a.new_task().unwrap().due_at.as_deref(),
            Some("2026-11-26T23:59:59Z")
        );
        let a = parse_text(r#"{"title":"x","due_at":"2026-11-26 09:30:00"}"#).unwrap();
        assert_eq!(
            a.new_task().unwrap().due_at.as_deref(),
            Some("2026-11-26T09:30:00Z")
        );
    }

    #[test]
    fn tags_may_come_as_text() {
        let a = parse_text(r##"{"title":"x","tags":"#Work, home"}"##).unwrap();
        assert_eq!(a.new_task().unwrap().tags.unwrap(), ["Work", "home"]);
    }
}
