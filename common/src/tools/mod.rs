//! The task tools as the chat assistant (and later the MCP server) sees
//! them: names, JSON-schema parameters, lenient argument parsing and result
//! shapes. Every tool calls `crate::tasks`, the same implementation the REST
//! routes use; the user is bound by the caller (the queued turn), never
//! taken from the arguments, so no prompt can reach another user's tasks.

mod args;
mod schema;

use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::domain::UserId;
use crate::error::Error;
use crate::tasks::{self, ListParams, Task};

pub use schema::{ToolDefinition, definitions};

/// A tool's answer as the model reads it: a JSON value. `Ok` carries both
/// successes and the model-readable failures (`{"error": "..."}`); `Err` is
/// only for infrastructure trouble (database down), after which the turn is
/// retried rather than answered.
pub type ToolResult = Result<Value, Error>;

/// Runs tool `name` for `user` inside the caller's transaction.
pub async fn execute(
    conn: &mut PgConnection,
    user: &UserId,
    name: &str,
    arguments: &str,
) -> ToolResult {
    let outcome = match args::parse_object(arguments) {
        Err(problem) => Err(Error::invalid("arguments", problem)),
        Ok(args) => run(conn, user, name, args).await,
    };
    match outcome {
        Ok(value) => Ok(value),
        Err(e @ (Error::Invalid { .. } | Error::NotFound(_))) => {
            Ok(json!({ "error": e.to_string() }))
        }
        Err(Error::Conflict { message, .. }) => Ok(json!({ "error": message })),
        Err(other) => Err(other),
    }
}

async fn run(conn: &mut PgConnection, user: &UserId, name: &str, args: args::Args) -> ToolResult {
    match name {
        "add_task" => {
            let task = tasks::create(&mut *conn, user, args.new_task()?.parse()?).await?;
            Ok(changed(&task, "created"))
        }
        "list_tasks" => {
            let params = ListParams {
                // Models say "open" or "done" as often as the enum's words.
                status: args
                    .string("status")
                    .map(|s| match s.to_ascii_lowercase().as_str() {
                        "open" | "todo" | "incomplete" | "not done" => "pending".into(),
                        "done" | "finished" | "complete" => "completed".into(),
                        _ => s,
                    }),
                q: args.string("query"),
                limit: Some(tasks::MAX_LIST_LIMIT.to_string()),
                ..ListParams::default()
            };
            let page = tasks::list(&mut *conn, user, &params.parse()?).await?;
            Ok(Value::Array(page.tasks.iter().map(listed).collect()))
        }
        "complete_task" => {
            let id = args.task_id()?;
            let completed = args.boolean("completed")?.unwrap_or(true);
            let task = tasks::set_completed(&mut *conn, user, id, completed).await?;
            Ok(changed(
                &task,
                if completed { "completed" } else { "updated" },
            ))
        }
        "update_task" => {
            let id = args.task_id()?;
            let task = tasks::update(&mut *conn, user, id, args.patch()?.parse()?).await?;
            Ok(changed(&task, "updated"))
        }
        "delete_task" => {
            let task = tasks::delete(&mut *conn, user, args.task_id()?).await?;
            Ok(changed(&task, "deleted"))
        }
        other => Err(Error::invalid(
            "name",
            format!(
                "unknown tool `{other}`; available: {}",
                definitions()
                    .iter()
                    .map(|d| d.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The original system's result shape for changes, plus the fields a reply needs.
fn changed(task: &Task, status: &str) -> Value {
    json!({
        "task_id": task.id,
        "status": status,
        "title": task.title,
        "completed": task.completed,
        "priority": task.priority,
        "due_at": task.due_at,
    })
}

fn listed(task: &Task) -> Value {
    json!({
        "id": task.id,
        "title": task.title,
        "completed": task.completed,
        "priority": task.priority,
        "due_at": task.due_at,
        "tags": task.tags,
        "description": task.description,
    })
}
