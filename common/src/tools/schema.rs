//! The tools' JSON-schema parameters, as sent to the model and listed by
//! the MCP server.

use serde_json::{Value, json};

use super::Tool;

pub(super) fn parameters(tool: Tool) -> Value {
    let due = json!({"type": "string", "description": "Due date: YYYY-MM-DD, or an RFC 3339 timestamp such as 2026-12-01T17:00:00Z"});
    let priority = json!({"type": "string", "enum": ["low", "medium", "high"]});
    let tags = json!({"type": "array", "items": {"type": "string"}, "maxItems": 10,
                      "description": "Short lower-case labels, no spaces"});
    let task_id = json!({"type": "integer", "description": "The task's number (id)"});
    match tool {
        Tool::AddTask => json!({
            "type": "object",
            "properties": {
                "title": {"type": "string", "description": "What to do, 1-200 characters"},
                "description": {"type": "string", "description": "Optional details, up to 2000 characters"},
                "due_at": due,
                "priority": priority,
                "tags": tags,
            },
            "required": ["title"],
        }),
        Tool::ListTasks => json!({
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["all", "pending", "completed"]},
                "query": {"type": "string", "description": "Text to search in titles and descriptions"},
            },
        }),
        Tool::CompleteTask => json!({
            "type": "object",
            "properties": {"task_id": task_id, "completed": {"type": "boolean"}},
            "required": ["task_id"],
        }),
        Tool::UpdateTask => json!({
            "type": "object",
            "properties": {
                "task_id": task_id,
                "title": {"type": "string"},
                "description": {"type": "string"},
                "due_at": due,
                "priority": priority,
                "tags": tags,
            },
            "required": ["task_id"],
        }),
        Tool::DeleteTask => json!({
            "type": "object",
            "properties": {"task_id": task_id},
            "required": ["task_id"],
        }),
    }
}
