//! The tools' JSON-schema parameters, as sent to the model and listed by
//! the MCP server.

use serde_json::{Value, json};

use super::{IDEMPOTENCY_KEY, LIST_LIMIT, LIST_MAX, Tool};
use crate::domain::IdempotencyKey;

pub(super) fn parameters(tool: Tool) -> Value {
    let due_date = json!({"type": "string", "description": "Due all day on this date of the user's: YYYY-MM-DD"});
    let due_at = json!({"type": "string", "description": "Due at a time: the user's local time as YYYY-MM-DDTHH:MM, or an RFC 3339 timestamp. Leave out for a task due all day"});
    let priority = json!({"type": "string", "enum": ["urgent", "high", "medium", "low"]});
    let tags = json!({"type": "array", "items": {"type": "string"}, "maxItems": 10,
                      "description": "Short lower-case labels, no spaces"});
    let task_id = json!({"type": "integer", "description": "The task's number (id)"});
    let recurrence = json!({"type": "object",
        "description": "How the task repeats, in the user's time zone (null: it does not)",
        "properties": {
            "rrule": {"type": "string", "description": "RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO, FREQ=MONTHLY;BYDAY=-1FR, FREQ=DAILY;BYHOUR=9;BYMINUTE=0"},
            "anchor": {"type": "string", "enum": ["due", "completion"], "description": "completion: the next date counts from when it was done"},
        },
        "required": ["rrule"]});
    let reminders = json!({"type": "array", "maxItems": 10,
        "description": "When to remind the user: {\"at\": RFC 3339 timestamp} or {\"before_due_minutes\": N}",
        "items": {"type": "object", "properties": {
            "at": {"type": "string"},
            "before_due_minutes": {"type": "integer", "minimum": 0}}}});
    match tool {
        Tool::AddTask => json!({
            "type": "object",
            "properties": {
                "title": {"type": "string", "description": "What to do, 1-200 characters"},
                "description": {"type": "string", "description": "Optional details, up to 2000 characters"},
                "due_date": due_date,
                "due_at": due_at,
                "priority": priority,
                "tags": tags,
                "recurrence": recurrence,
                "reminders": reminders,
            },
            "required": ["title"],
        }),
        Tool::ListTasks => json!({
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["all", "pending", "completed"],
                           "description": "Default pending: the open tasks"},
                "query": {"type": "string", "description": "Text to search in titles and descriptions"},
                "due": {"type": "string", "enum": ["overdue", "today", "tomorrow", "week", "none", "any"],
                        "description": "By due day in the user's time zone; week is today and the next six days"},
                "due_from": {"type": "string", "description": "Due on this day or later: YYYY-MM-DD"},
                "due_to": {"type": "string", "description": "Due on this day or earlier: YYYY-MM-DD"},
                "priority_at_least": priority,
                "tag": {"type": "string", "description": "Only tasks with this tag"},
                "recurring": {"type": "boolean", "description": "true: only repeating tasks; false: only one-off ones"},
                "sort": {"type": "string", "enum": ["due", "priority", "created"],
                         "description": "Default due: soonest first, undated last"},
                "limit": {"type": "integer", "minimum": 1, "maximum": LIST_MAX,
                          "description": format!("Tasks to return, default {LIST_LIMIT}")},
                "cursor": {"type": "string", "description": "A previous result's next_cursor, for the next page"},
                "details": {"type": "boolean", "description": "Also return descriptions and reminders"},
            },
        }),
        Tool::CompleteTask => json!({
            "type": "object",
            "properties": {"task_id": task_id, "completed": {"type": "boolean"},
                "skip": {"type": "boolean", "description": "For a recurring task: move it to its next occurrence without marking this one done"}},
            "required": ["task_id"],
        }),
        Tool::UpdateTask => json!({
            "type": "object",
            "properties": {
                "task_id": task_id,
                "title": {"type": "string"},
                "description": {"type": "string"},
                "due_date": due_date,
                "due_at": due_at,
                "priority": priority,
                "tags": tags,
                "recurrence": recurrence,
                "reminders": reminders,
            },
            "required": ["task_id"],
        }),
        Tool::DeleteTask => json!({
            "type": "object",
            "properties": {"task_id": task_id,
                "scope": {"type": "string", "enum": ["occurrence", "series"],
                          "description": "Required for a recurring task: this occurrence only, or the whole series. Ask the user which"}},
            "required": ["task_id"],
        }),
        // What to undo is the conversation's, never the caller's to name.
        Tool::UndoLastChange => json!({"type": "object", "properties": {}}),
    }
}

/// [`parameters`], plus add_task's optional idempotency key for clients.
pub(super) fn client_parameters(tool: Tool) -> Value {
    let mut schema = parameters(tool);
    if tool == Tool::AddTask {
        schema["properties"][IDEMPOTENCY_KEY] = json!({
            "type": "string",
            "pattern": format!("^[!-~]{{1,{}}}$", IdempotencyKey::MAX_CHARS),
            "description": "Optional: a unique value (a UUID, say) to send again when this call is \
                retried; the retry returns the task the first call created instead of adding another",
        });
    }
    schema
}
