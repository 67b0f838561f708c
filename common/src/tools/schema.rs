//! The tools' names, descriptions and JSON-schema parameters, as sent to the
//! model (and, later, listed by the MCP server).

use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct ToolDefinition {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: Value,
}

pub fn definitions() -> Vec<ToolDefinition> {
    let due = json!({"type": "string", "description": "Due date: YYYY-MM-DD, or an RFC 3339 timestamp such as 2026-12-01T17:00:00Z"});
    let priority = json!({"type": "string", "enum": ["low", "medium", "high"]});
    let tags = json!({"type": "array", "items": {"type": "string"}, "maxItems": 10,
                      "description": "Short lower-case labels, no spaces"});
    let task_id = json!({"type": "integer", "description": "The task's number (id)"});
    vec![
        ToolDefinition {
            name: "add_task",
            description: "Create a new task for the user.",
            parameters: json!({
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
        },
        ToolDefinition {
            name: "list_tasks",
            description: "List the user's tasks, optionally only pending or completed ones, or those matching a text.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "status": {"type": "string", "enum": ["all", "pending", "completed"]},
                    "query": {"type": "string", "description": "Text to search in titles and descriptions"},
                },
            }),
        },
        ToolDefinition {
            name: "complete_task",
            description: "Mark a task as done (or, with completed=false, as not done).",
            parameters: json!({
                "type": "object",
                "properties": {"task_id": task_id, "completed": {"type": "boolean"}},
                "required": ["task_id"],
            }),
        },
        ToolDefinition {
            name: "update_task",
            description: "Change a task's title, description, due date, priority or tags.",
            parameters: json!({
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
        },
        ToolDefinition {
            name: "delete_task",
            description: "Delete a task.",
            parameters: json!({
                "type": "object",
                "properties": {"task_id": task_id},
                "required": ["task_id"],
            }),
        },
    ]
}
