//! The task tools, one typed list for every door that offers them: the chat
//! agent (sent to the model), the offline assistant (which calls them by
//! [`Tool`]) and the MCP server (`tools/list`, `tools/call`). Each entry has
//! its name, description, JSON schema, annotations, metric label and
//! dispatch here, so adding a tool is one change in this module; the
//! compiler points at every `match` that must learn it. The chat door
//! offers them all ([`Tool::ALL`]); MCP offers [`Tool::MCP`], without the
//! one that needs a conversation (undo, see `undo`).
//!
//! Every tool calls `crate::tasks`, the same implementation the REST routes
//! use; the user is bound by the caller (the queued turn, the MCP token),
//! never taken from the arguments, so no prompt can reach another user's tasks.

mod args;
mod schema;
mod undo;
mod written;

use serde_json::{Value, json};

use crate::domain::{TimeZone, UserId};
use crate::error::Error;
use crate::tasks::{self, DeleteScope, Deleted, Task};
use crate::work::Work;

use args::Args;
pub use undo::InTurn;
use undo::{Kind, Record};
pub use written::calls_written_as_text;

/// The task tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    AddTask,
    ListTasks,
    CompleteTask,
    UpdateTask,
    DeleteTask,
    UndoLastChange,
}

/// What a client may assume about a tool (MCP's tool annotations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Annotations {
    /// Changes nothing.
    pub read_only: bool,
    /// May overwrite or remove what the user stored (not only add to it).
    pub destructive: bool,
    /// Repeating the same call changes nothing more.
    pub idempotent: bool,
}

impl Tool {
    /// Every tool: what the chat door (model and offline assistant) offers.
    pub const ALL: [Tool; 6] = [
        Tool::AddTask,
        Tool::ListTasks,
        Tool::CompleteTask,
        Tool::UpdateTask,
        Tool::DeleteTask,
        Tool::UndoLastChange,
    ];

    /// What an MCP client is offered: an MCP session has no conversation,
    /// so no last change of its own to undo.
    pub const MCP: [Tool; 5] = [
        Tool::AddTask,
        Tool::ListTasks,
        Tool::CompleteTask,
        Tool::UpdateTask,
        Tool::DeleteTask,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tool::AddTask => "add_task",
            Tool::ListTasks => "list_tasks",
            Tool::CompleteTask => "complete_task",
            Tool::UpdateTask => "update_task",
            Tool::DeleteTask => "delete_task",
            Tool::UndoLastChange => "undo_last_change",
        }
    }

    /// The tool called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn description(self) -> &'static str {
        match self {
            Tool::AddTask => "Create a new task for the user.",
            Tool::ListTasks => {
                "List the user's tasks: open ones, soonest due first, 25 at a time unless `limit` \
                 says otherwise. The result counts every match (`matching`) and the user's `open`, \
                 `overdue` and `due_today` tasks: say those totals rather than counting the rows, \
                 and pass `next_cursor` back as `cursor` for more. To act on a task the user named \
                 by its words, look it up with `query`; when several match, ask which one."
            }
            Tool::CompleteTask => "Mark a task as done (or, with completed=false, as not done).",
            Tool::UpdateTask => "Change a task's title, description, due date, priority or tags.",
            Tool::DeleteTask => "Delete a task.",
            Tool::UndoLastChange => {
                "Undo, once, the last change made in this conversation (all one earlier message \
                 added, completed, changed or deleted) when the user says \"undo\" or \"revert \
                 that\". No arguments; tell the user the result's `message`."
            }
        }
    }

    /// The JSON schema of the arguments, as the chat model is told them.
    pub fn parameters(self) -> Value {
        schema::parameters(self)
    }

    /// The JSON schema of the arguments for a client that retries calls
    /// itself (MCP, whose calls carry no headers): add_task also takes an
    /// optional [`IDEMPOTENCY_KEY`]. The model is not told of it: a chat
    /// turn runs each call once already, and a key a model made up could
    /// meet one from another conversation.
    pub fn client_parameters(self) -> Value {
        schema::client_parameters(self)
    }

    pub fn annotations(self) -> Annotations {
        let (read_only, destructive, idempotent) = match self {
            // Each call adds one more task.
            Tool::AddTask => (false, false, false),
            Tool::ListTasks => (true, false, true),
            // Completing a completed task keeps its completed_at; nothing is lost.
            Tool::CompleteTask => (false, false, true),
            // The old title, description, ... are overwritten.
            Tool::UpdateTask => (false, true, true),
            // A second delete finds nothing to delete (and says so).
            Tool::DeleteTask => (false, true, true),
            // Removes a task it added; a second call finds nothing more.
            Tool::UndoLastChange => (false, true, true),
        };
        Annotations {
            read_only,
            destructive,
            idempotent,
        }
    }

    /// The `tool` label of tool metrics (bounded: one per tool).
    pub fn metric_label(self) -> &'static str {
        self.name()
    }

    /// Runs the tool for `user` inside the caller's unit of work, in chat
    /// `turn` (None: a door without a conversation). What reverts a change
    /// goes to `record` (see `undo`). `Err` only for trouble the caller must
    /// handle (see [`Output::from_result`]).
    async fn run(
        self,
        work: &mut Work,
        user: &UserId,
        args: Args,
        turn: Option<InTurn<'_>>,
        record: &mut Record,
    ) -> crate::Result<Value> {
        match self {
            Tool::AddTask => {
                let new = args.new_task()?.parse()?;
                let key = args.idempotency_key()?;
                // A replay answers as the first call did.
                let created = tasks::create(work, user, new, key.as_ref()).await?;
                if !created.replayed {
                    record.created(&created.task);
                }
                let zone = zone_for(work, user, [&created.task]).await?;
                Ok(changed(&created.task, "created", zone))
            }
            Tool::ListTasks => {
                let query = args.list_params()?.parse()?;
                let page = tasks::list_in(work, user, &query).await?;
                let tally = tasks::tally_in(work, user, &query).await?;
                let zone = zone_for(work, user, &page.tasks).await?;
                let details = args.boolean("details")?.unwrap_or(false);
                Ok(json!({
                    "matching": tally.matching,
                    "shown": page.tasks.len(),
                    "open": tally.open,
                    "overdue": tally.overdue,
                    "due_today": tally.due_today,
                    "tasks": page.tasks.iter().map(|t| listed(t, zone, details)).collect::<Vec<_>>(),
                    "next_cursor": page.next_cursor,
                }))
            }
            Tool::CompleteTask => {
                let id = args.task_id()?;
                if args.boolean("skip")? == Some(true) {
                    let before = record.before(work, user, id).await?;
                    let task = tasks::skip(work, user, id).await?;
                    record.changed(Kind::Skipped, before, &task);
                    let zone = zone_for(work, user, [&task]).await?;
                    return Ok(changed(&task, "skipped", zone));
                }
                let completed = args.boolean("completed")?.unwrap_or(true);
                let before = record.before(work, user, id).await?;
                // A recurring task comes back pending, at its next date
                // (`due_date` and `repeats` in the result say so).
                let task = tasks::set_completed(work, user, id, completed).await?;
                let kind = if completed {
                    Kind::Completed
                } else {
                    Kind::Reopened
                };
                record.changed(kind, before, &task);
                let zone = zone_for(work, user, [&task]).await?;
                Ok(changed(
                    &task,
                    if completed { "completed" } else { "updated" },
                    zone,
                ))
            }
            Tool::UpdateTask => {
                let id = args.task_id()?;
                let patch = args.patch()?.parse()?;
                let before = record.before(work, user, id).await?;
                let task = tasks::update(work, user, id, patch).await?;
                record.changed(Kind::Updated, before, &task);
                let zone = zone_for(work, user, [&task]).await?;
                Ok(changed(&task, "updated", zone))
            }
            Tool::DeleteTask => {
                let scope = args
                    .string("scope")
                    .filter(|s| !s.is_empty())
                    .map(|s| DeleteScope::parse(&s))
                    .transpose()?;
                let id = args.task_id()?;
                let before = record.before(work, user, id).await?;
                let (task, status) = match tasks::delete(work, user, id, scope).await? {
                    Deleted::Gone(task) => {
                        record.deleted(&task);
                        (task, "deleted")
                    }
                    Deleted::Skipped(task) => {
                        record.changed(Kind::Skipped, before, &task);
                        (task, "skipped")
                    }
                };
                let zone = zone_for(work, user, [&task]).await?;
                Ok(changed(&task, status, zone))
            }
            Tool::UndoLastChange => undo::run(work, user, turn, record).await,
        }
    }
}

/// What a tool call came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// It did what was asked; the result.
    Done(Value),
    /// It refused (bad arguments, unknown task): why, in words the caller can act on.
    Refused(String),
}

impl Output {
    /// Sorts a tool's `Result`: what the caller got wrong becomes a refusal;
    /// infrastructure trouble (database down) stays an error, after which
    /// a chat turn is retried rather than answered.
    fn from_result(result: crate::Result<Value>) -> crate::Result<Output> {
        match result {
            Ok(value) => Ok(Output::Done(value)),
            Err(e @ (Error::Invalid { .. } | Error::NotFound(_))) => {
                Ok(Output::Refused(e.to_string()))
            }
            Err(Error::Conflict { message, .. }) => Ok(Output::Refused(message)),
            // In the argument's words, not the header's.
            Err(Error::IdempotencyKeyReused) => Ok(Output::Refused(format!(
                "{IDEMPOTENCY_KEY}: was sent before with another task; use a new key for a new task"
            ))),
            Err(other) => Err(other),
        }
    }

    /// The result as a model reads it: the value, or `{"error": "..."}`.
    pub fn into_json(self) -> Value {
        match self {
            Output::Done(value) => value,
            Output::Refused(message) => json!({ "error": message }),
        }
    }

    /// The `outcome` label of tool metrics.
    pub fn outcome_label(&self) -> &'static str {
        match self {
            Output::Done(_) => "ok",
            Output::Refused(_) => "refused",
        }
    }
}

/// Tasks a list_tasks call answers with unless it asks for more: enough to
/// answer "what's next?", few enough that 1,000 tasks stay a few KB of the
/// model's context (issue 22).
pub const LIST_LIMIT: u32 = 25;
/// The most a list_tasks call may ask for.
pub const LIST_MAX: u32 = 100;

/// The add_task argument that makes a client's retries safe (see
/// [`Tool::client_parameters`]).
pub const IDEMPOTENCY_KEY: &str = "idempotency_key";

/// Calls `tool` for a client (MCP) with already-decoded arguments (a JSON
/// object, or null); add_task honours an [`IDEMPOTENCY_KEY`].
pub async fn call(
    work: &mut Work,
    user: &UserId,
    tool: Tool,
    arguments: Value,
) -> crate::Result<Output> {
    let result = match Args::from_value(arguments) {
        Err(problem) => Err(Error::invalid("arguments", problem)),
        // No conversation, nothing to undo: no record is kept.
        Ok(args) => {
            tool.run(work, user, args, None, &mut Record::new(false))
                .await
        }
    };
    Output::from_result(result)
}

/// [`call`] as a unit of work of its own (MCP): the change and its events
/// commit, then the user's live streams are woken.
pub async fn call_alone(
    tasks: &tasks::Tasks,
    user: &UserId,
    tool: Tool,
    arguments: Value,
) -> crate::Result<Output> {
    let mut work = tasks.begin().await?;
    let output = call(&mut work, user, tool, arguments).await?;
    work.commit().await?;
    Ok(output)
}

/// A chat tool call's outcome, for the turn to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed {
    /// The result as the model reads it.
    pub result: Value,
    /// The metadata of the result's row: what reverts the call's changes,
    /// or what an undo reverted (see `undo`); `{}` when neither.
    pub record: Value,
}

/// Runs tool `name` in chat `turn` as the model asked for it (raw, possibly
/// malformed argument text) and answers as the model reads it. `Err` only
/// for infrastructure trouble.
pub async fn execute(
    work: &mut Work,
    user: &UserId,
    turn: InTurn<'_>,
    name: &str,
    arguments: &str,
) -> crate::Result<Executed> {
    let Some(tool) = Tool::from_name(name) else {
        let known: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
        let problem = format!("unknown tool `{name}`; available: {}", known.join(", "));
        return Ok(Executed {
            result: Output::Refused(Error::invalid("name", problem).to_string()).into_json(),
            record: json!({}),
        });
    };
    let mut record = Record::new(true);
    let output = match args::parse_text(arguments) {
        Err(problem) => Output::from_result(Err(Error::invalid("arguments", problem)))?,
        // The model is not offered a key (see `Tool::client_parameters`);
        // one it sends anyway is dropped, as the turn's own record of the
        // call (`chat::turns::run_round`) already runs it once.
        Ok(args) => {
            let args = args.without(IDEMPOTENCY_KEY);
            Output::from_result(tool.run(work, user, args, Some(turn), &mut record).await)?
        }
    };
    Ok(Executed {
        result: output.into_json(),
        record: record.into_metadata(),
    })
}

/// A tool as the model is told about it.
#[derive(Debug, Clone)]
pub struct ToolDefinition {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: Value,
}

/// Every tool, for the model (the chat door offers them all).
pub fn definitions() -> Vec<ToolDefinition> {
    Tool::ALL
        .into_iter()
        .map(|tool| ToolDefinition {
            name: tool.name(),
            description: tool.description(),
            parameters: tool.parameters(),
        })
        .collect()
}

/// The user's zone when a result shows a time of day (read once per unit
/// of work, and not at all for results without one).
async fn zone_for<'t>(
    work: &mut Work,
    user: &UserId,
    tasks: impl IntoIterator<Item = &'t Task>,
) -> crate::Result<TimeZone> {
    if tasks
        .into_iter()
        .any(|t| t.due_at.is_some() || t.reminders.0.iter().any(|r| r.fired_at.is_none()))
    {
        work.zone(user).await
    } else {
        Ok(TimeZone::UTC)
    }
}

/// A due time as the user's wall clock shows it, with its offset
/// (`2026-12-08T18:00:00+01:00`): what a model should repeat to them.
fn local_due(task: &Task, zone: TimeZone) -> Value {
    task.due_at
        .map_or(Value::Null, |at| zone.local(at).to_rfc3339().into())
}

/// The original system's result shape for changes, plus the fields a reply needs.
fn changed(task: &Task, status: &str, zone: TimeZone) -> Value {
    json!({
        "task_id": task.id,
        "status": status,
        "title": task.title,
        "completed": task.completed,
        "priority": task.priority,
        "due_date": task.due_date,
        "due_at": local_due(task, zone),
        "repeats": repeats(task),
        "reminders": reminders(task, zone),
    })
}

/// Reminders still to come, on the user's clock, for a result a model reads.
fn reminders(task: &Task, zone: TimeZone) -> Value {
    task.reminders
        .0
        .iter()
        .filter(|r| r.fired_at.is_none())
        .map(|r| Value::from(zone.local(r.at).to_rfc3339()))
        .collect()
}

/// The rule in words, for a result a model reads.
fn repeats(task: &Task) -> Value {
    task.recurrence
        .as_ref()
        .map_or(Value::Null, |r| r.text().into())
}

/// A compact row: what a model needs to name and pick a task. Fields
/// without a value are left out; `details` adds the description and
/// reminders.
fn listed(task: &Task, zone: TimeZone, details: bool) -> Value {
    let mut row = json!({
        "id": task.id,
        "title": task.title,
        "priority": task.priority,
    });
    let due = match task.due_at {
        Some(at) => Some(zone.local(at).format("%Y-%m-%dT%H:%M").to_string()),
        None => task.due_date.map(|d| d.to_string()),
    };
    let optional = [
        ("due", due.map(Value::from)),
        ("done", task.completed.then_some(Value::Bool(true))),
        ("tags", (!task.tags.is_empty()).then(|| json!(task.tags))),
        ("repeats", task.recurrence.as_ref().map(|r| r.text().into())),
        (
            "description",
            details
                .then(|| task.description.clone())
                .filter(|d| !d.is_empty())
                .map(Value::from),
        ),
        (
            "reminders",
            details
                .then(|| reminders(task, zone))
                .filter(|r| r != &json!([])),
        ),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            row[key] = value;
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_tool_has_an_object_schema() {
        for tool in Tool::ALL {
            assert_eq!(Tool::from_name(tool.name()), Some(tool));
            assert_eq!(tool.parameters()["type"], "object", "{tool:?}");
            assert!(!tool.description().is_empty());
        }
        assert_eq!(Tool::from_name("drop_tables"), None);
    }

    #[test]
    fn only_clients_are_offered_an_idempotency_key_and_only_for_add_task() {
        for tool in Tool::ALL {
            assert!(tool.parameters()["properties"][IDEMPOTENCY_KEY].is_null());
            let mut client = tool.client_parameters();
            let key = client["properties"]
                .as_object_mut()
                .unwrap()
                .remove(IDEMPOTENCY_KEY);
            assert_eq!(key.is_some(), tool == Tool::AddTask, "{tool:?}");
            assert_eq!(client, tool.parameters(), "{tool:?}: nothing else differs");
        }
    }

    #[test]
    fn mcp_offers_every_tool_but_the_one_that_needs_a_conversation() {
        let chat_only: Vec<Tool> = Tool::ALL
            .into_iter()
            .filter(|t| !Tool::MCP.contains(t))
            .collect();
        assert_eq!(chat_only, [Tool::UndoLastChange]);
        assert!(Tool::MCP.iter().all(|t| Tool::ALL.contains(t)));
    }

    #[test]
    fn only_listing_is_read_only() {
        let read_only: Vec<Tool> = Tool::ALL
            .into_iter()
            .filter(|t| t.annotations().read_only)
            .collect();
        assert_eq!(read_only, [Tool::ListTasks]);
    }
}
