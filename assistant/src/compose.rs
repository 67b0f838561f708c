//! The final answer, written from tool results.

use chrono::{DateTime, NaiveDate};
use serde_json::Value;

use super::ToolResult;
use todo_common::tools::Tool;

/// Longer lists are cut: a chat answer is not a report (list_tasks sends
/// 25 rows unless asked for more).
pub(super) const MAX_LISTED: usize = 50;

pub(super) fn compose(results: &[ToolResult]) -> String {
    let lines: Vec<String> = results.iter().map(result_line).collect();
    if lines.is_empty() {
        "Done.".to_string()
    } else {
        lines.join("\n")
    }
}

fn result_line(result: &ToolResult) -> String {
    let Ok(value) = serde_json::from_str::<Value>(result.content.trim()) else {
        return raw_line(result.content);
    };
    if let Some(error) = error_of(&value) {
        return error_line(&error);
    }
    let tool = result.call.and_then(|c| Tool::from_name(&c.name));
    let args = result
        .call
        .and_then(|c| serde_json::from_str::<Value>(&c.arguments).ok())
        .unwrap_or(Value::Null);
    if (value.is_array() || tool == Some(Tool::ListTasks))
        && let Some(items) = task_items(&value)
    {
        return list_text(&args, &value, items);
    }
    if !value.is_object() {
        return raw_line(result.content);
    }
    // An undo says itself what it put back.
    if tool == Some(Tool::UndoLastChange)
        && let Some(message) = str_field(&value, "message")
    {
        return message.to_string();
    }
    let status = str_field(&value, "status").unwrap_or("");
    let now_completed = value.get("completed").and_then(Value::as_bool);
    let asked_reopen =
        tool == Some(Tool::CompleteTask) && args.get("completed") == Some(&Value::Bool(false));
    let repeats = value.get("repeats").is_some_and(|r| !r.is_null());
    let action = match status {
        "created" => Action::Added,
        "skipped" => Action::Skipped,
        // A recurring task comes back pending, at its next date.
        "completed" if repeats && now_completed == Some(false) => Action::DoneNext,
        "deleted" => Action::Deleted,
        "reopened" | "uncompleted" => Action::Reopened,
        "completed" if now_completed == Some(false) => Action::Reopened,
        "completed" => Action::Done,
        "updated" if tool == Some(Tool::CompleteTask) => {
            if asked_reopen || now_completed == Some(false) {
                Action::Reopened
            } else {
                Action::Done
            }
        }
        "updated" => Action::Updated,
        _ => match tool {
            Some(Tool::AddTask) => Action::Added,
            Some(Tool::CompleteTask) if asked_reopen => Action::Reopened,
            Some(Tool::CompleteTask) => Action::Done,
            Some(Tool::UpdateTask) => Action::Updated,
            Some(Tool::DeleteTask) => Action::Deleted,
            Some(Tool::ListTasks | Tool::UndoLastChange) | None => {
                return raw_line(result.content);
            }
        },
    };
    let id = int_field(&value, &["task_id", "id"]).or_else(|| int_field(&args, &["task_id"]));
    let title = str_field(&value, "title").or_else(|| str_field(&args, "title"));
    let subject = subject(title, id);
    match action {
        Action::Added => format!("Added {subject}{}.", details(&value, &args, false)),
        Action::Done => format!("Marked {subject} as done."),
        Action::DoneNext => format!("Marked {subject} as done{}.", next_due(&value)),
        Action::Skipped => format!("Skipped this one of {subject}{}.", next_due(&value)),
        Action::Reopened => format!("Reopened {subject}."),
        Action::Deleted => format!("Deleted {subject}."),
        Action::Updated => {
            let head = match (id, title) {
                (Some(id), Some(title)) => format!("Updated task {id}: \"{title}\""),
                (Some(id), None) => format!("Updated task {id}"),
                (None, Some(title)) => format!("Updated \"{title}\""),
                (None, None) => "Updated the task".to_string(),
            };
            format!("{head}{}.", details(&value, &args, true))
        }
    }
}

enum Action {
    Added,
    Done,
    /// Done, and the recurring task moved on.
    DoneNext,
    Skipped,
    Reopened,
    Updated,
    Deleted,
}

/// `"call mom" (task 3)`, with whatever of the two is known.
pub(super) fn subject(title: Option<&str>, id: Option<i64>) -> String {
    match (title, id) {
        (Some(title), Some(id)) => format!("\"{title}\" (task {id})"),
        (Some(title), None) => format!("\"{title}\""),
        (None, Some(id)) => format!("task {id}"),
        (None, None) => "the task".to_string(),
    }
}

/// `; next due 2026-12-14`, for a recurring task that moved.
fn next_due(value: &Value) -> String {
    due_display(value.get("due_date"), value.get("due_at"))
        .map(|due| format!("; next due {due}"))
        .unwrap_or_default()
}

/// `, due 2026-11-26, high priority, tagged #work`. For updates only the
/// fields that were asked for; for new tasks a default priority is noise.
fn details(value: &Value, args: &Value, only_asked: bool) -> String {
    let field = |name: &str| -> Option<&Value> {
        let asked = args.get(name).filter(|v| !v.is_null());
        if only_asked && asked.is_none() {
            return None;
        }
        value.get(name).filter(|v| !v.is_null()).or(asked)
    };
    let mut out = String::new();
    if let Some(due) = due_display(field("due_date"), field("due_at")) {
        out.push_str(&format!(", due {due}"));
    }
    if let Some(priority) = field("priority").and_then(Value::as_str)
        && (priority != "medium" || args.get("priority").is_some())
    {
        out.push_str(&format!(", {priority} priority"));
    }
    if let Some(repeats) = field("repeats").and_then(Value::as_str) {
        out.push_str(&format!(", {repeats}"));
    }
    if let Some(reminders) = field("reminders").and_then(Value::as_array)
        && let Some(first) = reminders.first().and_then(Value::as_str)
    {
        let when = due_display(None, Some(&Value::from(first))).unwrap_or_default();
        out.push_str(&format!(", reminder at {when}"));
    }
    let tags: Vec<&str> = field("tags")
        .and_then(Value::as_array)
        .map(|tags| tags.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !tags.is_empty() {
        let tags: Vec<String> = tags.iter().map(|t| format!("#{t}")).collect();
        out.push_str(&format!(", tagged {}", tags.join(" ")));
    }
    out
}

/// A listing: the true total (the tool counts every match, not only the
/// rows it returned), what was asked for, and the rows.
fn list_text(args: &Value, result: &Value, items: &[Value]) -> String {
    // list_tasks lists open tasks unless asked otherwise.
    let status = str_field(args, "status").unwrap_or("pending");
    let query = str_field(args, "query").filter(|q| !q.trim().is_empty());
    let (one, many) = match status {
        "pending" => ("open task", "open tasks"),
        "completed" => ("completed task", "completed tasks"),
        _ => ("task", "tasks"),
    };
    // Only a listing of everything needs to say which ones are done.
    let mark_done = status != "completed";
    let lines: Vec<String> = items
        .iter()
        .filter_map(|item| task_line(item, mark_done))
        .take(MAX_LISTED)
        .collect();
    let shown = lines.len();
    let total = int_field(result, &["matching"])
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(items.len())
        .max(shown);
    let filter = filter_words(args);
    if total == 0 {
        return match query {
            Some(query) => format!("No {many}{filter} match \"{query}\"."),
            None => format!("You have no {many}{filter}."),
        };
    }
    let noun = if total == 1 { one } else { many };
    let mut head = match query {
        Some(query) => format!(
            "{} {noun}{filter} {} \"{query}\"",
            thousands(total),
            if total == 1 { "matches" } else { "match" }
        ),
        None => format!("You have {} {noun}{filter}", thousands(total)),
    };
    // The user's overall picture, when the listing is of everything open.
    if query.is_none() && filter.is_empty() && status == "pending" {
        let counts: Vec<String> = [("overdue", "overdue"), ("due_today", "due today")]
            .iter()
            .filter_map(|(key, words)| {
                int_field(result, &[key])
                    .filter(|n| *n > 0)
                    .map(|n| format!("{} {words}", thousands(n as usize)))
            })
            .collect();
        if !counts.is_empty() {
            head.push_str(&format!(" ({})", counts.join(", ")));
        }
    }
    let mut out = vec![if total > shown {
        let order = match str_field(args, "sort").unwrap_or("due") {
            "priority" => "most important",
            "created" => "newest",
            _ => "due soonest",
        };
        format!("{head}; the {shown} {order}:")
    } else {
        format!("{head}:")
    }];
    out.extend(lines);
    if total > shown {
        out.push(format!("...and {} more.", thousands(total - shown)));
    }
    out.join("\n")
}

/// ` due today`, ` tagged #work`, ...: the list_tasks filters of `args`, in words.
fn filter_words(args: &Value) -> String {
    let mut words = String::new();
    match str_field(args, "due") {
        Some("overdue") => words.push_str(" overdue"),
        Some("today") => words.push_str(" due today"),
        Some("tomorrow") => words.push_str(" due tomorrow"),
        Some("week") => words.push_str(" due this week"),
        Some("none") => words.push_str(" without a date"),
        Some("any") => words.push_str(" with a date"),
        _ => {}
    }
    match (str_field(args, "due_from"), str_field(args, "due_to")) {
        (Some(from), Some(to)) if from == to => words.push_str(&format!(" due {from}")),
        (Some(from), Some(to)) => words.push_str(&format!(" due {from} to {to}")),
        (Some(from), None) => words.push_str(&format!(" due from {from}")),
        (None, Some(to)) => words.push_str(&format!(" due by {to}")),
        (None, None) => {}
    }
    match str_field(args, "priority_at_least") {
        Some("urgent") => words.push_str(" marked urgent"),
        Some(p) if p != "low" => words.push_str(&format!(" of {p} priority or higher")),
        _ => {}
    }
    if let Some(tag) = str_field(args, "tag") {
        words.push_str(&format!(" tagged #{}", tag.trim_start_matches(['#', '@'])));
    }
    match args.get("recurring").and_then(Value::as_bool) {
        Some(true) => words.push_str(" that repeat"),
        Some(false) => words.push_str(" that do not repeat"),
        None => {}
    }
    words
}

/// `1,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `- #3 call mom (due 2026-11-26, high)`.
fn task_line(item: &Value, mark_done: bool) -> Option<String> {
    if let Some(s) = item.as_str() {
        return Some(format!("- {s}"));
    }
    if !item.is_object() {
        return None;
    }
    let title = str_field(item, "title").unwrap_or("(untitled)");
    let head = match int_field(item, &["id", "task_id"]) {
        Some(id) => format!("- #{id} {title}"),
        None => format!("- {title}"),
    };
    let mut notes: Vec<String> = Vec::new();
    let done = ["done", "completed"]
        .iter()
        .any(|key| item.get(*key).and_then(Value::as_bool) == Some(true));
    if mark_done && done {
        notes.push("done".to_string());
    }
    // list_tasks rows carry `due`: a day, or a local `YYYY-MM-DDTHH:MM`.
    let due = str_field(item, "due").map(|d| d.replacen('T', " ", 1));
    if let Some(due) = due.or_else(|| due_display(item.get("due_date"), item.get("due_at"))) {
        notes.push(format!("due {due}"));
    }
    if let Some(priority) = str_field(item, "priority").filter(|p| *p != "medium") {
        notes.push(priority.to_string());
    }
    Some(if notes.is_empty() {
        head
    } else {
        format!("{head} ({})", notes.join(", "))
    })
}

pub(super) fn error_line(error: &str) -> String {
    let error = error.trim().trim_end_matches('.');
    format!("I couldn't do that: {error}.")
}

/// A result that is not JSON we understand: pass it on, briefly.
fn raw_line(content: &str) -> String {
    let content = content.trim();
    if content.is_empty() {
        return "Done.".to_string();
    }
    let short: String = content.chars().take(200).collect();
    let more = if short.len() < content.len() {
        "..."
    } else {
        ""
    };
    format!("The tool answered: {short}{more}")
}

pub(super) fn error_of(value: &Value) -> Option<String> {
    match value.get("error")? {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) => Some(s.clone()),
        other => Some(
            other
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| other.to_string(), str::to_string),
        ),
    }
}

/// A list result: an array, or an object wrapping one.
pub(super) fn task_items(value: &Value) -> Option<&[Value]> {
    if let Some(items) = value.as_array() {
        return Some(items);
    }
    ["tasks", "items", "results"]
        .iter()
        .find_map(|key| value.get(*key).and_then(Value::as_array))
        .map(Vec::as_slice)
}

pub(super) fn str_field<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.get(name).and_then(Value::as_str)
}

pub(super) fn int_field(value: &Value, names: &[&str]) -> Option<i64> {
    names.iter().find_map(|name| match value.get(*name)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Timestamps are shown as their date; anything else as it is.
/// `2026-11-26`, or `2026-11-26 18:00` for a task due at a time (tools
/// give `due_at` on the user's wall clock, with its offset).
fn due_display(date: Option<&Value>, at: Option<&Value>) -> Option<String> {
    let at = at.and_then(Value::as_str);
    if let Some(local) = at.and_then(|a| DateTime::parse_from_rfc3339(a).ok()) {
        return Some(local.format("%Y-%m-%d %H:%M").to_string());
    }
    let day = date.and_then(Value::as_str).or(at)?;
    Some(match day.get(..10) {
        Some(d) if NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() => d.to_string(),
        _ => day.to_string(),
    })
}
