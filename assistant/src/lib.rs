//! The built-in offline assistant: a deterministic stand-in for a model.
//!
//! It understands plain commands ("add call mom tomorrow", "complete 3",
//! "show my tasks") and answers through the same tool-calling protocol as a
//! real model, so the agent loop, the tools and the tests run without a
//! provider. It keeps no state: every round is derived again from the
//! conversation (the last user message plus the tool calls and results that
//! follow it).

mod command;
mod compose;
mod confidence;
mod dates;
#[cfg(test)]
mod tests;
mod words;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{Map, Value};
use uuid::Uuid;

use command::{Command, Status, Target, help_text, parse_command};
use compose::{MAX_LISTED, compose, error_line, error_of, int_field, str_field, task_items};
pub use confidence::confident;
use todo_common::llm::{Message, Reply, Role, ToolCall};
use todo_common::tools::Tool;

/// Answers like a model would: either tool calls or final text.
///
/// `today` anchors relative dates ("tomorrow", "friday"); times of day are
/// read as if it were noon (see [`respond_at`]). `usage` is left `None`:
/// the caller estimates it.
pub fn respond(messages: &[Message], today: NaiveDate) -> Reply {
    respond_at(
        messages,
        today.and_time(NaiveTime::from_hms_opt(12, 0, 0).expect("noon")),
    )
}

/// [`respond`] at `now` on the user's wall clock: "at 5pm" without a day is
/// today's 5pm while it is still to come, else tomorrow's.
pub fn respond_at(messages: &[Message], now: NaiveDateTime) -> Reply {
    let Some(user_at) = messages.iter().rposition(|m| m.role == Role::User) else {
        return text(help_text(""));
    };
    let user = messages.get(user_at).map_or("", |m| m.content.as_str());
    let after = messages.get(user_at + 1..).unwrap_or_default();
    let command = parse_command(user, now);
    if after.iter().any(|m| m.role == Role::Tool) {
        follow_up(&command, after)
    } else {
        first_round(&command)
    }
}

fn text(content: impl Into<String>) -> Reply {
    Reply {
        content: Some(content.into()),
        tool_calls: Vec::new(),
        ..Reply::default()
    }
}

fn calls(tool_calls: Vec<ToolCall>) -> Reply {
    if tool_calls.is_empty() {
        // A reply must say something; should not happen with parsed commands.
        return text(help_text(""));
    }
    Reply {
        content: None,
        tool_calls,
        ..Reply::default()
    }
}

fn tool_call(tool: Tool, args: Map<String, Value>) -> ToolCall {
    let hex = Uuid::new_v4().simple().to_string();
    ToolCall {
        id: format!("call_{}", hex.get(..24).unwrap_or(&hex)),
        name: tool.name().to_string(),
        arguments: Value::Object(args).to_string(),
    }
}

fn list_call(status: Status, query: Option<&str>) -> ToolCall {
    let mut args = Map::new();
    args.insert("status".into(), status.as_str().into());
    if let Some(query) = query {
        args.insert("query".into(), query.into());
    }
    tool_call(Tool::ListTasks, args)
}

/// The tool call that carries out `command` on task `id`.
fn action_call(command: &Command, id: i64) -> Option<ToolCall> {
    let mut args = Map::new();
    args.insert("task_id".into(), id.into());
    match command {
        Command::Complete { done, .. } => {
            if !done {
                args.insert("completed".into(), false.into());
            }
            Some(tool_call(Tool::CompleteTask, args))
        }
        Command::Update { title, mods, .. } => {
            if let Some(title) = title {
                args.insert("title".into(), title.as_str().into());
            }
            mods.write_to(&mut args);
            Some(tool_call(Tool::UpdateTask, args))
        }
        Command::Delete { .. } => Some(tool_call(Tool::DeleteTask, args)),
        Command::Skip { .. } => {
            args.insert("skip".into(), true.into());
            Some(tool_call(Tool::CompleteTask, args))
        }
        _ => None,
    }
}

/// The user just spoke: call tools (or answer right away).
fn first_round(command: &Command) -> Reply {
    match command {
        Command::Say(message) => text(message.as_str()),
        Command::Add { title, mods } => {
            let mut args = Map::new();
            args.insert("title".into(), title.as_str().into());
            mods.write_to(&mut args);
            calls(vec![tool_call(Tool::AddTask, args)])
        }
        Command::List { status, query } => calls(vec![list_call(*status, query.as_deref())]),
        _ => match command.target() {
            Some(Target::Title(title)) => calls(vec![list_call(
                command.lookup_status(),
                Some(title.as_str()),
            )]),
            Some(Target::Ids(ids)) => calls(
                ids.iter()
                    .filter_map(|&id| action_call(command, id))
                    .collect(),
            ),
            None => text(help_text("")),
        },
    }
}

/// One tool result and the call it answers (when that can be found).
struct ToolResult<'a> {
    call: Option<&'a ToolCall>,
    content: &'a str,
}

fn tool_results<'a>(messages: &'a [Message], calls_made: &[&'a ToolCall]) -> Vec<ToolResult<'a>> {
    messages
        .iter()
        .filter(|m| m.role == Role::Tool)
        .map(|m| ToolResult {
            call: m
                .tool_call_id
                .as_deref()
                .and_then(|id| calls_made.iter().copied().find(|c| c.id == id)),
            content: m.content.as_str(),
        })
        .collect()
}

/// Tool results came back: resolve a title lookup, or write the answer.
fn follow_up(command: &Command, after: &[Message]) -> Reply {
    let calls_made: Vec<&ToolCall> = after
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .flat_map(|m| m.tool_calls.iter())
        .collect();
    let asks = |m: &Message| m.role == Role::Assistant && !m.tool_calls.is_empty();
    let rounds = after.iter().filter(|m| asks(m)).count();
    // Only the latest round matters: earlier ones were lookups.
    let last_round = after.iter().rposition(asks).map_or(0, |i| i + 1);
    let mut results = tool_results(after.get(last_round..).unwrap_or_default(), &calls_made);
    if results.is_empty() {
        results = tool_results(after, &calls_made);
    }
    // A title lookup is resolved once; after that only text, so never a loop.
    if let Some(Target::Title(query)) = command.target()
        && rounds <= 1
        && calls_made
            .iter()
            .all(|c| Tool::from_name(&c.name) == Some(Tool::ListTasks))
    {
        return resolve_lookup(command, query, &results);
    }
    text(compose(&results))
}

/// The `list_tasks` result of a title lookup came back: act on the one
/// match, or say there is none or which ones there are.
fn resolve_lookup(command: &Command, query: &str, results: &[ToolResult]) -> Reply {
    for result in results {
        let Ok(value) = serde_json::from_str::<Value>(result.content.trim()) else {
            continue;
        };
        if let Some(items) = task_items(&value) {
            return pick(command, query, items);
        }
        if let Some(error) = error_of(&value) {
            return text(error_line(&error));
        }
    }
    text(compose(results))
}

fn pick(command: &Command, query: &str, items: &[Value]) -> Reply {
    // Tasks already in the wanted state cannot be completed/reopened again.
    let want_completed = match command {
        Command::Complete { done, .. } => Some(!done),
        _ => None,
    };
    let mut candidates: Vec<(i64, &str)> = Vec::new();
    for item in items {
        let Some(id) = int_field(item, &["id", "task_id"]) else {
            continue;
        };
        let completed = item.get("completed").and_then(Value::as_bool);
        if let (Some(want), Some(is)) = (want_completed, completed)
            && want != is
        {
            continue;
        }
        if !candidates.iter().any(|(seen, _)| *seen == id) {
            candidates.push((id, str_field(item, "title").unwrap_or("")));
        }
    }
    // Prefer an exact title, then titles containing the words, then anything
    // the search returned (it may match descriptions or tags too).
    let wanted = query.trim().to_lowercase();
    let exact: Vec<(i64, &str)> = candidates
        .iter()
        .copied()
        .filter(|(_, t)| t.trim().to_lowercase() == wanted)
        .collect();
    let containing: Vec<(i64, &str)> = candidates
        .iter()
        .copied()
        .filter(|(_, t)| t.to_lowercase().contains(&wanted))
        .collect();
    let chosen = if !exact.is_empty() {
        exact
    } else if !containing.is_empty() {
        containing
    } else {
        candidates
    };
    match chosen.as_slice() {
        [] => {
            let which = match command {
                Command::Complete { done: true, .. } => "an open task",
                Command::Complete { done: false, .. } => "a completed task",
                _ => "a task",
            };
            text(format!("I couldn't find {which} matching \"{query}\"."))
        }
        [(id, _)] => first_round(&command.with_ids(vec![*id])),
        several => {
            let mut lines = vec![format!(
                "I found {} tasks matching \"{query}\":",
                several.len()
            )];
            lines.extend(
                several
                    .iter()
                    .take(MAX_LISTED)
                    .map(|(id, title)| format!("- #{id} {title}")),
            );
            if several.len() > MAX_LISTED {
                lines.push(format!("...and {} more.", several.len() - MAX_LISTED));
            }
            let first = several.first().map_or(1, |(id, _)| *id);
            lines.push(format!(
                "Which one do you mean? Tell me its number, e.g. \"{}\".",
                command.example(first)
            ));
            text(lines.join("\n"))
        }
    }
}
