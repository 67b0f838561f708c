//! The built-in offline assistant: a deterministic stand-in for a model.
//!
//! It understands plain commands ("add call mom tomorrow", "complete 3",
//! "show my tasks") and answers through the same tool-calling protocol as a
//! real model, so the agent loop, the tools and the tests run without a
//! provider. It keeps no state: every round is derived again from the
//! conversation (the last user message, the tool calls and results that
//! follow it, and its own answer before it, which a follow-up such as "the
//! second one" or "delete it" refers to).

mod command;
mod compose;
mod confidence;
mod dates;
mod followup;
mod matching;
pub mod quick_add;
#[cfg(test)]
mod tests;
mod words;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{Map, Value};
use uuid::Uuid;

use command::{Command, Status, Target, help_text, parse_command, which_task};
use compose::{MAX_LISTED, compose, error_line, error_of, int_field, str_field, task_items};
pub use confidence::confident;
use followup::Followup;
pub use quick_add::{Chip, ChipKind, QuickAdd};
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
    // The assistant's last answer: an answer to the question it asked is
    // the command that question offered, for the task chosen; "it" is the
    // task it was about.
    let asked = messages
        .get(..user_at)
        .unwrap_or_default()
        .iter()
        .rev()
        .find(|m| m.role == Role::Assistant && m.tool_calls.is_empty())
        .map(|m| m.content.as_str());
    let command = match followup::resolve(asked, user) {
        Some(Followup::Command(answered)) => parse_command(&answered, now),
        Some(Followup::Say(answer)) => Command::Say(answer),
        None => parse_command(user, now),
    };
    let command = on_previous(command, asked);
    if after.iter().any(|m| m.role == Role::Tool) {
        follow_up(&command, after, now.date())
    } else {
        first_round(&command)
    }
}

/// "move it to friday": on the task the last answer named, or, when it
/// named none or several, a question (never a guess).
fn on_previous(command: Command, asked: Option<&str>) -> Command {
    if command.target() != Some(&Target::Previous) {
        return command;
    }
    match asked.and_then(followup::task_of) {
        Some(id) => command.with_ids(vec![id]),
        None => which_task(&command.example(3)),
    }
}

/// Quick add: `text` read as one task at `now` on the user's wall clock.
/// Words that touch a `keep` byte range stay in the title, as quoted words
/// do: the chips the user dismissed.
pub fn quick_add(text: &str, now: NaiveDateTime, keep: &[(usize, usize)]) -> QuickAdd {
    command::quick_add(text, now, keep)
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

fn list_call(status: Status, query: Option<&str>, filters: &Map<String, Value>) -> ToolCall {
    let mut args = Map::new();
    args.insert("status".into(), status.as_str().into());
    if let Some(query) = query {
        args.insert("query".into(), query.into());
    }
    for (key, value) in filters {
        args.insert(key.clone(), value.clone());
    }
    tool_call(Tool::ListTasks, args)
}

/// Tasks are looked up this many at a time to find one by its words.
const LOOKUP_LIMIT: i64 = 100;

/// The lookup before acting on tasks named by their words, or on tasks
/// whose current state the change depends on: the tasks the action can
/// apply to, matched here.
fn lookup_call(status: Status) -> ToolCall {
    let mut filters = Map::new();
    filters.insert("limit".into(), LOOKUP_LIMIT.into());
    list_call(status, None, &filters)
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
        Command::Delete { scope, .. } => {
            if let Some(scope) = scope {
                args.insert("scope".into(), command::scope_arg(*scope).into());
            }
            Some(tool_call(Tool::DeleteTask, args))
        }
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
        Command::Add { title, mods } => calls(vec![add_call(title, mods)]),
        Command::AddMany(tasks) => calls(
            tasks
                .iter()
                .map(|(title, mods)| add_call(title, mods))
                .collect(),
        ),
        Command::ClearCompleted => calls(vec![lookup_call(Status::Completed)]),
        Command::DeleteAll => calls(vec![lookup_call(Status::Pending)]),
        Command::List {
            status,
            query,
            filters,
        } => calls(vec![list_call(*status, query.as_deref(), filters)]),
        Command::Undo => calls(vec![tool_call(Tool::UndoLastChange, Map::new())]),
        _ => match command.target() {
            Some(Target::Title(_)) => calls(vec![lookup_call(command.lookup_status())]),
            Some(Target::Ids(_)) if command.needs_current() => {
                calls(vec![lookup_call(command.lookup_status())])
            }
            Some(Target::Ids(ids)) => calls(
                ids.iter()
                    .filter_map(|&id| action_call(command, id))
                    .collect(),
            ),
            Some(Target::Overdue) => {
                let mut filters = Map::new();
                filters.insert("due".into(), "overdue".into());
                filters.insert("limit".into(), LOOKUP_LIMIT.into());
                calls(vec![list_call(Status::Pending, None, &filters)])
            }
            // "it" is a number by now (`on_previous`).
            Some(Target::Previous) | None => text(help_text("")),
        },
    }
}

fn add_call(title: &str, mods: &command::Mods) -> ToolCall {
    let mut args = Map::new();
    args.insert("title".into(), title.into());
    mods.write_to(&mut args);
    tool_call(Tool::AddTask, args)
}

/// One tool result and the call it answers (when that can be found).
#[derive(Clone, Copy)]
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

/// Tool results came back: resolve a lookup, or write the answer.
fn follow_up(command: &Command, after: &[Message], today: NaiveDate) -> Reply {
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
    // A lookup is resolved once; after that only text, so never a loop.
    let only_lookups = calls_made
        .iter()
        .all(|c| Tool::from_name(&c.name) == Some(Tool::ListTasks));
    let looked_up = match command {
        Command::ClearCompleted | Command::DeleteAll => true,
        _ => match command.target() {
            Some(Target::Title(_) | Target::Overdue) => true,
            Some(Target::Ids(_)) => command.needs_current(),
            Some(Target::Previous) | None => false,
        },
    };
    // Two lookups at most: the open tasks, then a search by the words.
    if looked_up && rounds <= 2 && only_lookups {
        return resolve_lookup(command, &results, today, rounds == 1);
    }
    // A repeating task deleted without a scope: the tool asked which, and
    // so does the assistant.
    if let Some(question) = followup::scope_question(&results, after) {
        return text(question);
    }
    text(compose(&results))
}

/// A task as a lookup returned it.
struct Found<'a> {
    id: i64,
    title: &'a str,
    done: Option<bool>,
    due: Option<&'a str>,
    tags: Vec<String>,
    /// "every Wednesday": how it repeats, if it does.
    repeats: Option<&'a str>,
}

fn found_tasks(items: &[Value]) -> Vec<Found<'_>> {
    let mut out: Vec<Found> = Vec::new();
    for item in items {
        let Some(id) = int_field(item, &["id", "task_id"]) else {
            continue;
        };
        if out.iter().any(|f| f.id == id) {
            continue;
        }
        let done = ["done", "completed"]
            .iter()
            .find_map(|k| item.get(*k).and_then(Value::as_bool));
        let due = ["due", "due_at", "due_date"]
            .iter()
            .find_map(|k| str_field(item, k));
        let tags = item
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| {
                tags.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        out.push(Found {
            id,
            title: str_field(item, "title").unwrap_or(""),
            done,
            due,
            tags,
            repeats: str_field(item, "repeats"),
        });
    }
    out
}

/// The `list_tasks` result of a lookup came back: act on the one match,
/// or say there is none or which ones there are. When the first lookup
/// (`first`) saw only part of the user's tasks and none of them is the one
/// named, the tool is asked to search for its words before saying so.
fn resolve_lookup(
    command: &Command,
    results: &[ToolResult],
    today: NaiveDate,
    first: bool,
) -> Reply {
    for result in results {
        let Ok(value) = serde_json::from_str::<Value>(result.content.trim()) else {
            continue;
        };
        if let Some(items) = task_items(&value) {
            let tasks = found_tasks(items);
            let more = value.get("next_cursor").is_some_and(Value::is_string);
            if first
                && more
                && let Some(Target::Title(query)) = command.target()
                && matched(command, query, &tasks).is_empty()
                && let Some(word) = matching::search_word(query)
            {
                let mut filters = Map::new();
                filters.insert("limit".into(), LOOKUP_LIMIT.into());
                return calls(vec![list_call(
                    command.lookup_status(),
                    Some(&word),
                    &filters,
                )]);
            }
            return match (command, command.target()) {
                (Command::ClearCompleted, _) => clear_completed(&tasks),
                // Asked first: a yes in the next message deletes these.
                (Command::DeleteAll, _) => {
                    let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
                    let total = int_field(&value, &["matching"])
                        .and_then(|n| usize::try_from(n).ok())
                        .unwrap_or(ids.len());
                    let repeating = tasks.iter().any(|t| t.repeats.is_some());
                    text(followup::delete_all_question(&ids, total, repeating))
                }
                (_, Some(Target::Title(query))) => pick(command, query, &tasks, today),
                (_, Some(Target::Ids(ids))) => act_on_ids(command, ids, &tasks, today),
                (_, Some(Target::Overdue)) if tasks.is_empty() => {
                    text("Nothing is overdue: you're all caught up.")
                }
                // Each keeps its time of day (`act_on_ids`); undo puts them back.
                (_, Some(Target::Overdue)) => {
                    let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
                    act_on_ids(command, &ids, &tasks, today)
                }
                (_, Some(Target::Previous) | None) => text(compose(results)),
            };
        }
        if let Some(error) = error_of(&value) {
            return text(error_line(&error));
        }
    }
    text(compose(results))
}

fn clear_completed(tasks: &[Found]) -> Reply {
    let done: Vec<ToolCall> = tasks
        .iter()
        .filter(|t| t.done != Some(false))
        .map(|t| {
            let mut args = Map::new();
            args.insert("task_id".into(), t.id.into());
            tool_call(Tool::DeleteTask, args)
        })
        .collect();
    if done.is_empty() {
        return text("You have no completed tasks to clear.");
    }
    calls(done)
}

/// The calls for `ids`, each changed as it is now (when it was found).
fn act_on_ids(command: &Command, ids: &[i64], tasks: &[Found], today: NaiveDate) -> Reply {
    calls(
        ids.iter()
            .filter_map(|&id| {
                let found = tasks.iter().find(|t| t.id == id);
                let command = command.on_current(
                    found.and_then(|t| t.due),
                    found.map(|t| t.tags.as_slice()).unwrap_or_default(),
                    today,
                );
                action_call(&command, id)
            })
            .collect(),
    )
}

/// The tasks `query` names, best matches only.
fn matched<'t, 'a>(command: &Command, query: &str, tasks: &'t [Found<'a>]) -> Vec<&'t Found<'a>> {
    // Tasks already in the wanted state cannot be completed/reopened again.
    let want_completed = match command {
        Command::Complete { done, .. } => Some(!done),
        _ => None,
    };
    let candidates: Vec<&Found> = tasks
        .iter()
        .filter(|t| match (want_completed, t.done) {
            (Some(want), Some(is)) => want == is,
            _ => true,
        })
        .collect();
    // Prefer an exact title, then the titles with every word said (exact
    // words over near ones, a title said whole over a longer one).
    let wanted = query.trim().to_lowercase();
    let exact: Vec<&Found> = candidates
        .iter()
        .copied()
        .filter(|t| t.title.trim().to_lowercase() == wanted)
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    let scored: Vec<(&Found, (u32, bool))> = candidates
        .iter()
        .filter_map(|t| matching::title_match(query, t.title).map(|m| (*t, m)))
        .collect();
    let best = scored.iter().map(|(_, m)| *m).max();
    scored
        .iter()
        .filter(|(_, m)| Some(*m) == best)
        .map(|(t, _)| *t)
        .collect()
}

fn pick(command: &Command, query: &str, tasks: &[Found], today: NaiveDate) -> Reply {
    let chosen = matched(command, query, tasks);
    match chosen.as_slice() {
        [] => {
            let which = match command {
                Command::Complete { done: true, .. } => "an open task",
                Command::Complete { done: false, .. } => "a completed task",
                _ => "a task",
            };
            text(format!("I couldn't find {which} matching \"{query}\"."))
        }
        [one] => {
            let command = command
                .with_ids(vec![one.id])
                .on_current(one.due, &one.tags, today);
            calls(action_call(&command, one.id).into_iter().collect())
        }
        several => {
            let mut lines = vec![format!(
                "I found {} tasks matching \"{query}\":",
                several.len()
            )];
            lines.extend(
                several
                    .iter()
                    .take(MAX_LISTED)
                    .map(|t| format!("- #{} {}", t.id, t.title)),
            );
            if several.len() > MAX_LISTED {
                lines.push(format!("...and {} more.", several.len() - MAX_LISTED));
            }
            let first = several.first().map_or(1, |t| t.id);
            lines.push(format!(
                "{} Tell me its number, e.g. \"{}\".",
                followup::WHICH_ONE,
                command.example(first)
            ));
            text(lines.join("\n"))
        }
    }
}
