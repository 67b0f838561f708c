//! The built-in offline assistant: a deterministic stand-in for a model.
//!
//! It understands plain commands ("add call mom tomorrow", "complete 3",
//! "show my tasks") and answers through the same tool-calling protocol as a
//! real model, so the agent loop, the tools and the tests run without a
//! provider. It keeps no state: every round is derived again from the
//! conversation (the last user message plus the tool calls and results that
//! follow it).

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Message, Reply, Role, ToolCall};

/// Answers like a model would: either tool calls or final text.
///
/// `today` anchors relative dates ("tomorrow", "friday"). `usage` is left
/// `None`: the caller estimates it.
pub fn respond(messages: &[Message], today: NaiveDate) -> Reply {
    let Some(user_at) = messages.iter().rposition(|m| m.role == Role::User) else {
        return text(help_text(""));
    };
    let user = messages.get(user_at).map_or("", |m| m.content.as_str());
    let after = messages.get(user_at + 1..).unwrap_or_default();
    let command = parse_command(user, today);
    if after.iter().any(|m| m.role == Role::Tool) {
        follow_up(&command, after)
    } else {
        first_round(&command)
    }
}

// ---------------------------------------------------------------------------
// What the user asked for.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priority {
    Low,
    Medium,
    High,
}

impl Priority {
    fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    fn from_level(word: &str) -> Option<Self> {
        match word {
            "high" | "highest" | "top" => Some(Self::High),
            "medium" | "normal" | "mid" => Some(Self::Medium),
            "low" | "lowest" => Some(Self::Low),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    All,
    Pending,
    Completed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Pending => "pending",
            Self::Completed => "completed",
        }
    }
}

/// Which task(s) a command is about: numbers, or a title still to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Ids(Vec<i64>),
    Title(String),
}

/// Due date, priority and tags picked out of a sentence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Mods {
    due: Option<NaiveDate>,
    priority: Option<Priority>,
    tags: Vec<String>,
}

impl Mods {
    fn is_empty(&self) -> bool {
        self.due.is_none() && self.priority.is_none() && self.tags.is_empty()
    }

    fn write_to(&self, args: &mut Map<String, Value>) {
        if let Some(due) = self.due {
            args.insert("due_at".into(), ymd(due).into());
        }
        if let Some(priority) = self.priority {
            args.insert("priority".into(), priority.as_str().into());
        }
        if !self.tags.is_empty() {
            args.insert("tags".into(), self.tags.clone().into());
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    Add {
        title: String,
        mods: Mods,
    },
    List {
        status: Status,
        query: Option<String>,
    },
    /// `done: false` reopens.
    Complete {
        target: Target,
        done: bool,
    },
    Update {
        target: Target,
        title: Option<String>,
        mods: Mods,
    },
    Delete {
        target: Target,
    },
    /// Nothing to do with tools: answer with this text.
    Say(String),
}

impl Command {
    fn target(&self) -> Option<&Target> {
        match self {
            Self::Complete { target, .. }
            | Self::Update { target, .. }
            | Self::Delete { target } => Some(target),
            _ => None,
        }
    }

    fn with_ids(&self, ids: Vec<i64>) -> Self {
        let mut command = self.clone();
        if let Self::Complete { target, .. }
        | Self::Update { target, .. }
        | Self::Delete { target } = &mut command
        {
            *target = Target::Ids(ids);
        }
        command
    }

    /// Which tasks a title lookup searches: only those the action can apply to.
    fn lookup_status(&self) -> Status {
        match self {
            Self::Complete { done: true, .. } => Status::Pending,
            Self::Complete { done: false, .. } => Status::Completed,
            _ => Status::All,
        }
    }

    /// A command the user could type to pick task `id`, for "which one?".
    fn example(&self, id: i64) -> String {
        match self {
            Self::Complete { done: true, .. } => format!("complete {id}"),
            Self::Complete { done: false, .. } => format!("reopen {id}"),
            Self::Delete { .. } => format!("delete {id}"),
            Self::Update { title, mods, .. } => {
                if let Some(title) = title {
                    format!("rename {id} to {title}")
                } else if let Some(due) = mods.due {
                    format!("move {id} to {}", ymd(due))
                } else if let Some(priority) = mods.priority {
                    format!("set {id} priority {}", priority.as_str())
                } else {
                    format!("task {id}")
                }
            }
            _ => format!("task {id}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Replies.

fn text(content: impl Into<String>) -> Reply {
    Reply {
        content: Some(content.into()),
        tool_calls: Vec::new(),
        usage: None,
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
        usage: None,
    }
}

fn tool_call(name: &str, args: Map<String, Value>) -> ToolCall {
    let hex = Uuid::new_v4().simple().to_string();
    ToolCall {
        id: format!("call_{}", hex.get(..24).unwrap_or(&hex)),
        name: name.to_string(),
        arguments: Value::Object(args).to_string(),
    }
}

fn list_call(status: Status, query: Option<&str>) -> ToolCall {
    let mut args = Map::new();
    args.insert("status".into(), status.as_str().into());
    if let Some(query) = query {
        args.insert("query".into(), query.into());
    }
    tool_call("list_tasks", args)
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
            Some(tool_call("complete_task", args))
        }
        Command::Update { title, mods, .. } => {
            if let Some(title) = title {
                args.insert("title".into(), title.as_str().into());
            }
            mods.write_to(&mut args);
            Some(tool_call("update_task", args))
        }
        Command::Delete { .. } => Some(tool_call("delete_task", args)),
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
            calls(vec![tool_call("add_task", args)])
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
        && calls_made.iter().all(|c| c.name == "list_tasks")
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

// ---------------------------------------------------------------------------
// The final answer, written from tool results.

/// Longer lists are cut: a chat answer is not a report.
const MAX_LISTED: usize = 50;

fn compose(results: &[ToolResult]) -> String {
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
    let name = result.call.map_or("", |c| c.name.as_str());
    let args = result
        .call
        .and_then(|c| serde_json::from_str::<Value>(&c.arguments).ok())
        .unwrap_or(Value::Null);
    if (value.is_array() || name == "list_tasks")
        && let Some(items) = task_items(&value)
    {
        return list_text(&args, items);
    }
    if !value.is_object() {
        return raw_line(result.content);
    }
    let status = str_field(&value, "status").unwrap_or("");
    let now_completed = value.get("completed").and_then(Value::as_bool);
    let asked_reopen =
        name == "complete_task" && args.get("completed") == Some(&Value::Bool(false));
    let action = match status {
        "created" => Action::Added,
        "deleted" => Action::Deleted,
        "reopened" | "uncompleted" => Action::Reopened,
        "completed" if now_completed == Some(false) => Action::Reopened,
        "completed" => Action::Done,
        "updated" if name == "complete_task" => {
            if asked_reopen || now_completed == Some(false) {
                Action::Reopened
            } else {
                Action::Done
            }
        }
        "updated" => Action::Updated,
        _ => match name {
            "add_task" => Action::Added,
            "complete_task" if asked_reopen => Action::Reopened,
            "complete_task" => Action::Done,
            "update_task" => Action::Updated,
            "delete_task" => Action::Deleted,
            _ => return raw_line(result.content),
        },
    };
    let id = int_field(&value, &["task_id", "id"]).or_else(|| int_field(&args, &["task_id"]));
    let title = str_field(&value, "title").or_else(|| str_field(&args, "title"));
    let subject = subject(title, id);
    match action {
        Action::Added => format!("Added {subject}{}.", details(&value, &args, false)),
        Action::Done => format!("Marked {subject} as done."),
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
    Reopened,
    Updated,
    Deleted,
}

/// `"call mom" (task 3)`, with whatever of the two is known.
fn subject(title: Option<&str>, id: Option<i64>) -> String {
    match (title, id) {
        (Some(title), Some(id)) => format!("\"{title}\" (task {id})"),
        (Some(title), None) => format!("\"{title}\""),
        (None, Some(id)) => format!("task {id}"),
        (None, None) => "the task".to_string(),
    }
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
    if let Some(due) = field("due_at").and_then(Value::as_str) {
        out.push_str(&format!(", due {}", date_display(due)));
    }
    if let Some(priority) = field("priority").and_then(Value::as_str)
        && (priority != "medium" || args.get("priority").is_some())
    {
        out.push_str(&format!(", {priority} priority"));
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

fn list_text(args: &Value, items: &[Value]) -> String {
    let status = str_field(args, "status").unwrap_or("all");
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
        .collect();
    if lines.is_empty() {
        return match query {
            Some(query) => format!("No tasks match \"{query}\"."),
            None => format!("You have no {many}."),
        };
    }
    let mut out = vec![match query {
        Some(query) => format!("Tasks matching \"{query}\":"),
        None if lines.len() == 1 => format!("You have 1 {one}:"),
        None => format!("You have {} {many}:", lines.len()),
    }];
    let total = lines.len();
    out.extend(lines.into_iter().take(MAX_LISTED));
    if total > MAX_LISTED {
        out.push(format!("...and {} more.", total - MAX_LISTED));
    }
    out.join("\n")
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
    if mark_done && item.get("completed").and_then(Value::as_bool) == Some(true) {
        notes.push("done".to_string());
    }
    if let Some(due) = str_field(item, "due_at") {
        notes.push(format!("due {}", date_display(due)));
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

fn error_line(error: &str) -> String {
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

fn error_of(value: &Value) -> Option<String> {
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
fn task_items(value: &Value) -> Option<&[Value]> {
    if let Some(items) = value.as_array() {
        return Some(items);
    }
    ["tasks", "items", "results"]
        .iter()
        .find_map(|key| value.get(*key).and_then(Value::as_array))
        .map(Vec::as_slice)
}

fn str_field<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.get(name).and_then(Value::as_str)
}

fn int_field(value: &Value, names: &[&str]) -> Option<i64> {
    names.iter().find_map(|name| match value.get(*name)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Timestamps are shown as their date; anything else as it is.
fn date_display(raw: &str) -> &str {
    match raw.get(..10) {
        Some(day) if NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok() => day,
        _ => raw,
    }
}

fn ymd(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn help_text(opening: &str) -> String {
    format!(
        "{opening}I can keep your to-do list. Try \"add call mom tomorrow, high priority\", \
         \"show my tasks\" or \"complete 3\". I also understand rename, move, reopen, delete and find."
    )
}

// ---------------------------------------------------------------------------
// Reading the user's sentence.

/// One word of the input: where it is, and its lowercase form without
/// surrounding punctuation (what the patterns compare).
#[derive(Debug, Clone)]
struct Tok {
    start: usize,
    end: usize,
    key: String,
}

const EDGE_PUNCT: &[char] = &[
    ',', '.', ';', ':', '!', '?', '"', '\'', '(', ')', '[', ']', '{', '}', '“', '”', '‘', '«', '»',
    '…', '-', '–', '—', '*',
];

fn tokenize(src: &str) -> Vec<Tok> {
    tokenize_range(src, 0, src.len())
}

/// Words of `src[from..to]`, with offsets into `src`.
fn tokenize_range(src: &str, from: usize, to: usize) -> Vec<Tok> {
    let part = src.get(from..to).unwrap_or("");
    let mut toks = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in part.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                toks.push(make_tok(src, from + s, from + i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        toks.push(make_tok(src, from + s, to));
    }
    toks
}

fn make_tok(src: &str, start: usize, end: usize) -> Tok {
    let raw = src.get(start..end).unwrap_or("");
    let key = raw.to_lowercase().replace('’', "'");
    Tok {
        start,
        end,
        key: key.trim_matches(EDGE_PUNCT).to_string(),
    }
}

/// The words as the user typed them, single-spaced.
fn words(src: &str, toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| src.get(t.start..t.end).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

fn starts_with(toks: &[Tok], pattern: &[&str]) -> bool {
    pattern.len() <= toks.len() && toks.iter().zip(pattern).all(|(t, p)| t.key == *p)
}

fn ends_with(toks: &[Tok], pattern: &[&str]) -> bool {
    pattern.len() <= toks.len()
        && toks
            .iter()
            .rev()
            .zip(pattern.iter().rev())
            .all(|(t, p)| t.key == *p)
}

/// What follows the first matching prefix (list longer patterns first).
fn after_prefix<'t>(toks: &'t [Tok], patterns: &[&[&str]]) -> Option<&'t [Tok]> {
    patterns
        .iter()
        .find(|p| starts_with(toks, p))
        .and_then(|p| toks.get(p.len()..))
}

/// What precedes the first matching suffix.
fn before_suffix<'t>(toks: &'t [Tok], patterns: &[&[&str]]) -> Option<&'t [Tok]> {
    patterns
        .iter()
        .find(|p| ends_with(toks, p))
        .and_then(|p| toks.get(..toks.len() - p.len()))
}

fn key_in(tok: &Tok, set: &[&str]) -> bool {
    set.contains(&tok.key.as_str())
}

/// Trims what is not part of a title: stray punctuation around it, and
/// quotes when they enclose the whole of it.
fn clean(s: &str) -> String {
    let mut s = s
        .trim_start_matches(|c: char| c.is_whitespace() || ",;:-–—".contains(c))
        .trim_end_matches(|c: char| c.is_whitespace() || ",;:.!?-–—".contains(c));
    const QUOTES: &[char] = &['"', '\'', '“', '”', '‘', '’', '«', '»'];
    while s.chars().count() >= 2 && s.starts_with(QUOTES) && s.ends_with(QUOTES) {
        let mut chars = s.chars();
        chars.next();
        chars.next_back();
        s = chars.as_str().trim();
    }
    s.to_string()
}

const GREETINGS: &[&str] = &["hi", "hello", "hey", "hiya", "howdy", "yo", "good"];

const LEADING_FILLER: &[&[&str]] = &[
    &["hey", "there"],
    &["hi", "there"],
    &["hello", "there"],
    &["good", "morning"],
    &["good", "afternoon"],
    &["good", "evening"],
    &["can", "you", "please"],
    &["could", "you", "please"],
    &["would", "you", "please"],
    &["can", "you"],
    &["could", "you"],
    &["would", "you"],
    &["will", "you"],
    &["i", "want", "you", "to"],
    &["i'd", "like", "you", "to"],
    &["go", "ahead", "and"],
    &["please"],
    &["pls"],
    &["plz"],
    &["kindly"],
    &["hey"],
    &["hi"],
    &["hello"],
    &["hiya"],
    &["howdy"],
    &["yo"],
    &["ok"],
    &["okay"],
    &["just"],
    &[""],
];

const TRAILING_FILLER: &[&[&str]] = &[
    &["thank", "you"],
    &["thanks"],
    &["thx"],
    &["please"],
    &["pls"],
    &["plz"],
    &[""],
];

/// Drops politeness around the command; says whether it started with hello.
fn strip_filler(toks: &[Tok]) -> (&[Tok], bool) {
    let mut rest = toks;
    let mut greeted = false;
    while let Some(p) = LEADING_FILLER.iter().find(|p| starts_with(rest, p)) {
        greeted |= p.first().is_some_and(|w| GREETINGS.contains(w));
        rest = rest.get(p.len()..).unwrap_or_default();
    }
    while let Some(shorter) = before_suffix(rest, TRAILING_FILLER) {
        rest = shorter;
    }
    (rest, greeted)
}

fn parse_command(src: &str, today: NaiveDate) -> Command {
    let all = tokenize(src);
    const THANKS: &[&str] = &[
        "thanks", "thank", "you", "thx", "ty", "cheers", "great", "cool", "ok", "okay", "nice",
        "perfect", "awesome", "",
    ];
    if all
        .iter()
        .any(|t| key_in(t, &["thanks", "thank", "thx", "ty"]))
        && all.iter().all(|t| key_in(t, THANKS))
    {
        return Command::Say("You're welcome!".to_string());
    }
    let (toks, greeted) = strip_filler(&all);
    if toks.is_empty() {
        return Command::Say(help_text(if greeted { "Hi! " } else { "" }));
    }
    if is_help(toks) {
        return Command::Say(help_text(""));
    }
    let parser = Parser { src, today };
    parser
        .add(toks)
        .or_else(|| parser.search(toks))
        .or_else(|| list(toks))
        .or_else(|| parser.mark(toks))
        .or_else(|| parser.simple(toks))
        .or_else(|| parser.update(toks))
        .or_else(|| parser.id_first(toks))
        .or_else(|| parser.title_is_done(toks))
        .unwrap_or_else(|| {
            Command::Say(help_text(if greeted {
                "Hi! "
            } else {
                "Sorry, I didn't understand that. "
            }))
        })
}

fn is_help(toks: &[Tok]) -> bool {
    const HELP: &[&[&str]] = &[
        &["help"],
        &["help", "me"],
        &["what", "can", "you", "do"],
        &["what", "do", "you", "do"],
        &["how", "does", "this", "work"],
        &["how", "do", "i", "use", "this"],
        &["who", "are", "you"],
        &["commands"],
        &["usage"],
        &["menu"],
    ];
    HELP.iter()
        .any(|p| p.len() == toks.len() && starts_with(toks, p))
}

const ADD_PREFIXES: &[&[&str]] = &[
    &["add", "a", "new", "task"],
    &["add", "new", "task"],
    &["add", "a", "task"],
    &["add", "task"],
    &["add", "a", "todo"],
    &["add", "todo"],
    &["create", "a", "new", "task"],
    &["create", "new", "task"],
    &["create", "a", "task"],
    &["create", "task"],
    &["new", "task"],
    &["new", "todo"],
    &["remind", "me", "to"],
    &["remember", "to"],
    &["don't", "forget", "to"],
    &["add"],
    &["create"],
];

const SEARCH_PREFIXES: &[&[&str]] = &[
    &["search", "for"],
    &["search"],
    &["find"],
    &["look", "for"],
    &["look", "up"],
    &["lookup"],
];

const COMPLETE_PREFIXES: &[&[&str]] = &[
    &["i'm", "done", "with"],
    &["i", "am", "done", "with"],
    &["i've", "finished"],
    &["i", "finished"],
    &["i", "completed"],
    &["i've", "completed"],
    &["done", "with"],
    &["finished", "with"],
    &["check", "off"],
    &["tick", "off"],
    &["cross", "off"],
    &["complete"],
    &["completed"],
    &["finish"],
    &["finished"],
    &["done"],
    &["close"],
];

const REOPEN_PREFIXES: &[&[&str]] = &[
    &["re-open"],
    &["reopen"],
    &["undo"],
    &["uncomplete"],
    &["un-complete"],
    &["unfinish"],
    &["uncheck"],
    &["unmark"],
];

const DELETE_PREFIXES: &[&[&str]] = &[
    &["get", "rid", "of"],
    &["delete"],
    &["remove"],
    &["drop"],
    &["cancel"],
    &["erase"],
    &["trash"],
    &["discard"],
];

const RENAME_PREFIXES: &[&[&str]] = &[
    &["change", "the", "title", "of"],
    &["change", "title", "of"],
    &["change", "the", "name", "of"],
    &["rename"],
    &["retitle"],
];

/// Verbs that change fields; `true` when "VERB 3 to X" can mean a new title.
const CHANGE_VERBS: &[(&str, bool)] = &[
    ("change", true),
    ("update", true),
    ("edit", true),
    ("set", false),
    ("make", false),
    ("move", false),
    ("push", false),
    ("reschedule", false),
    ("postpone", false),
    ("schedule", false),
    ("delay", false),
    ("bump", false),
];

/// "mark 3 ..." endings; `false` reopens. Not-done forms come first since
/// they end in the same words.
const MARK_SUFFIXES: &[(&[&str], bool)] = &[
    (&["as", "not", "done"], false),
    (&["not", "done"], false),
    (&["as", "not", "completed"], false),
    (&["not", "completed"], false),
    (&["as", "undone"], false),
    (&["undone"], false),
    (&["as", "incomplete"], false),
    (&["incomplete"], false),
    (&["as", "unfinished"], false),
    (&["unfinished"], false),
    (&["as", "open"], false),
    (&["open"], false),
    (&["as", "pending"], false),
    (&["pending"], false),
    (&["as", "todo"], false),
    (&["as", "done"], true),
    (&["done"], true),
    (&["as", "complete"], true),
    (&["complete"], true),
    (&["as", "completed"], true),
    (&["completed"], true),
    (&["as", "finished"], true),
    (&["finished"], true),
    (&["off"], true),
];

/// "3 is done" endings after a task number.
const ID_DONE_TAILS: &[(&[&str], bool)] = &[
    (&["is", "not", "done"], false),
    (&["isn't", "done"], false),
    (&["is", "not", "finished"], false),
    (&["not", "done"], false),
    (&["is", "open", "again"], false),
    (&["is", "open"], false),
    (&["undone"], false),
    (&["is", "done"], true),
    (&["is", "finished"], true),
    (&["is", "complete"], true),
    (&["is", "completed"], true),
    (&["are", "done"], true),
    (&["are", "finished"], true),
    (&["done"], true),
    (&["finished"], true),
    (&["complete"], true),
    (&["completed"], true),
];

/// Words that may surround a task number without changing its meaning.
const ID_FILLER: &[&str] = &[
    "task", "tasks", "number", "numbers", "no", "nr", "#", "id", "ids", "and", "&", "", "plus",
];

/// Words that name no task in particular ("delete it", "complete all").
const VAGUE: &[&str] = &[
    "all",
    "everything",
    "them",
    "it",
    "that",
    "this",
    "those",
    "these",
    "tasks",
    "task",
    "my",
    "the",
    "of",
    "one",
    "ones",
    "todo",
    "todos",
    "",
];

/// Words allowed around the modifiers of a change ("set 3 to high").
const CHANGE_FILLER: &[&str] = &[
    "", "to", "as", "for", "due", "on", "by", "priority", "prio", "of", "the", "its", "it", "it's",
    "is", "be", "date", "deadline", "until", "till", "and", "with", "a", "an", "level", "at",
];

/// Words that may be left between two modifiers ("tomorrow, and urgent").
const CONNECTORS: &[&str] = &["", "and", "&", "with", "plus", "also"];

const DATE_PREFIXES: &[&str] = &[
    "on", "by", "due", "before", "until", "till", "for", "deadline",
];

const PRIORITY_PREFIXES: &[&str] = &["with", "as", "at", "a", "an", "is"];

/// "to my list" and friends at the end of an add.
const LIST_SUFFIXES: &[&[&str]] = &[
    &["to", "my", "todo", "list"],
    &["to", "my", "to-do", "list"],
    &["to", "the", "todo", "list"],
    &["to", "my", "list"],
    &["to", "the", "list"],
    &["to", "my", "tasks"],
    &["to", "my", "todos"],
    &["on", "my", "list"],
];

/// Task numbers in one word: "3", "#3", "3,4".
fn ids_in_key(key: &str) -> Option<Vec<i64>> {
    let ids: Option<Vec<i64>> = key
        .split([',', '&'])
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let digits = piece.strip_prefix('#').unwrap_or(piece);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<i64>().ok().filter(|n| *n > 0)
        })
        .collect();
    ids.filter(|ids| !ids.is_empty())
}

fn push_ids(into: &mut Vec<i64>, found: Vec<i64>) {
    for id in found {
        if !into.contains(&id) {
            into.push(id);
        }
    }
}

/// The task numbers when `toks` is nothing but ("task 3 and #5").
fn ids_only(toks: &[Tok]) -> Option<Vec<i64>> {
    let mut ids = Vec::new();
    for tok in toks {
        match ids_in_key(&tok.key) {
            Some(found) => push_ids(&mut ids, found),
            None if key_in(tok, ID_FILLER) => {}
            None => return None,
        }
    }
    (!ids.is_empty()).then_some(ids)
}

/// Task numbers at the start of `toks`, and how many words they take.
fn leading_ids(toks: &[Tok]) -> Option<(Vec<i64>, usize)> {
    let mut ids = Vec::new();
    let mut used = 0;
    for (i, tok) in toks.iter().enumerate() {
        match ids_in_key(&tok.key) {
            Some(found) => {
                push_ids(&mut ids, found);
                used = i + 1;
            }
            None if key_in(tok, ID_FILLER) => {}
            None => break,
        }
    }
    (!ids.is_empty()).then_some((ids, used))
}

/// Task numbers somewhere inside ("the due date of task 3 to friday"): the
/// numbers and the range of words they take.
fn inner_ids(toks: &[Tok]) -> Option<(Vec<i64>, usize, usize)> {
    let first = toks.iter().position(|t| ids_in_key(&t.key).is_some())?;
    let mut start = first;
    while start > 0
        && toks
            .get(start - 1)
            .is_some_and(|t| key_in(t, &["task", "number", "#", "no", "nr"]))
    {
        start -= 1;
    }
    let (ids, used) = leading_ids(toks.get(first..)?)?;
    Some((ids, start, first + used))
}

/// Splits tags (`#work`) off; `#3` is a task number, not a tag.
fn split_tags(toks: &[Tok]) -> (Vec<Tok>, Vec<String>) {
    let mut kept = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for tok in toks {
        let tag = tok
            .key
            .strip_prefix('#')
            .filter(|rest| rest.chars().next().is_some_and(char::is_alphabetic));
        match tag {
            Some(tag) => {
                if !tags.iter().any(|t| t == tag) {
                    tags.push(tag.to_string());
                }
            }
            None => kept.push(tok.clone()),
        }
    }
    (kept, tags)
}

/// A task named by its title ("the milk task" -> "milk"); `None` when the
/// words name no task in particular.
fn target_title(src: &str, toks: &[Tok]) -> Option<String> {
    const LEAD: &[&[&str]] = &[
        &["the", "task", "called"],
        &["the", "task", "named"],
        &["task", "called"],
        &["task", "named"],
        &["the", "due", "date", "of"],
        &["due", "date", "of"],
        &["the", "priority", "of"],
        &["priority", "of"],
        &["the", "deadline", "of"],
        &["the", "deadline", "for"],
        &["the", "task"],
        &["the", "todo"],
        &["task"],
        &["the"],
        &["my"],
    ];
    let mut rest = after_prefix(toks, LEAD).unwrap_or(toks);
    while let Some(shorter) = before_suffix(rest, &[&["task"], &["todo"], &["item"], &[""]]) {
        rest = shorter;
    }
    if rest.iter().all(|t| key_in(t, VAGUE)) {
        return None;
    }
    let title = clean(&words(src, rest));
    (!title.is_empty()).then_some(title)
}

fn which_task(example: &str) -> Command {
    Command::Say(format!(
        "Which task? Tell me its number or title, e.g. \"{example}\"."
    ))
}

fn change_help() -> Command {
    Command::Say(
        "I can change a task's title, due date or priority, e.g. \"rename 3 to buy oat milk\", \
         \"move 3 to friday\" or \"set 3 priority high\"."
            .to_string(),
    )
}

/// "show my tasks", "what's still open", "what did I finish": sentences made
/// only of listing words, with at least one that asks for a list.
fn list(toks: &[Tok]) -> Option<Command> {
    const VOCAB: &[&str] = &[
        "list",
        "show",
        "display",
        "view",
        "see",
        "get",
        "give",
        "tell",
        "me",
        "my",
        "the",
        "all",
        "everything",
        "every",
        "tasks",
        "task",
        "todo",
        "todos",
        "to-do",
        "to-dos",
        "items",
        "things",
        "stuff",
        "what",
        "what's",
        "whats",
        "which",
        "is",
        "are",
        "still",
        "open",
        "left",
        "pending",
        "remaining",
        "outstanding",
        "unfinished",
        "incomplete",
        "undone",
        "do",
        "i",
        "have",
        "to",
        "need",
        "got",
        "completed",
        "complete",
        "done",
        "finished",
        "finish",
        "did",
        "i've",
        "ive",
        "already",
        "so",
        "far",
        "yet",
        "of",
        "on",
        "in",
        "status",
        "current",
        "currently",
        "now",
        "today",
        "how",
        "many",
        "there",
        "any",
        "that",
        "i'm",
        "am",
        "a",
        "an",
        "you",
        "can",
        "",
    ];
    const TRIGGERS: &[&str] = &[
        "list",
        "show",
        "display",
        "view",
        "see",
        "tasks",
        "todo",
        "todos",
        "to-do",
        "to-dos",
        "what",
        "what's",
        "whats",
        "which",
        "pending",
        "open",
        "left",
        "remaining",
        "outstanding",
        "everything",
        "items",
    ];
    if !toks.iter().all(|t| key_in(t, VOCAB)) || !toks.iter().any(|t| key_in(t, TRIGGERS)) {
        return None;
    }
    // "complete my tasks" is a (vague) command, not a question.
    if toks
        .first()
        .is_some_and(|t| key_in(t, &["complete", "finish"]))
    {
        return None;
    }
    let status = if toks.iter().any(|t| {
        key_in(
            t,
            &["completed", "complete", "done", "finished", "finish", "did"],
        )
    }) {
        Status::Completed
    } else if toks
        .iter()
        .any(|t| key_in(t, &["all", "everything", "every"]))
    {
        Status::All
    } else {
        Status::Pending
    };
    Some(Command::List {
        status,
        query: None,
    })
}

struct Parser<'a> {
    src: &'a str,
    today: NaiveDate,
}

impl Parser<'_> {
    fn add(&self, toks: &[Tok]) -> Option<Command> {
        let first = toks.first()?;
        let raw_first = self.src.get(first.start..first.end).unwrap_or("");
        let end = toks.last().map_or(first.end, |t| t.end);
        // "todo: X" and "todo:X" (the colon may glue the first word on).
        let body: Vec<Tok> = if raw_first
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("todo:"))
        {
            tokenize_range(self.src, first.start + 5, end)
        } else {
            after_prefix(toks, ADD_PREFIXES)?.to_vec()
        };
        let mut body: &[Tok] = &body;
        while let Some(rest) = after_prefix(body, &[&[""], &["called"], &["named"], &["titled"]]) {
            body = rest;
        }
        // "add a task to call mom": the "to" belongs to the verb.
        if starts_with(body, &["to"]) && starts_with(toks, &["add", "a", "task"]) {
            body = body.get(1..).unwrap_or_default();
        }
        if body.is_empty() {
            return Some(Command::Say(
                "What should I add? For example: \"add call mom tomorrow\".".to_string(),
            ));
        }
        let (kept, tags) = split_tags(body);
        let mut mods = Mods {
            tags,
            ..Mods::default()
        };
        let mut title_toks: &[Tok] = &kept;
        title_toks = before_suffix(title_toks, LIST_SUFFIXES).unwrap_or(title_toks);
        let n = self.strip_mods(title_toks, false, &mut mods);
        title_toks = title_toks.get(..n).unwrap_or_default();
        title_toks = before_suffix(title_toks, LIST_SUFFIXES).unwrap_or(title_toks);
        let title = clean(&words(self.src, title_toks));
        if title.is_empty() {
            return Some(Command::Say(
                "What should the task be called? For example: \"add call mom tomorrow\"."
                    .to_string(),
            ));
        }
        Some(Command::Add { title, mods })
    }

    fn search(&self, toks: &[Tok]) -> Option<Command> {
        const LEAD: &[&str] = &[
            "tasks",
            "task",
            "my",
            "the",
            "all",
            "about",
            "with",
            "for",
            "matching",
            "containing",
            "named",
            "called",
            "titled",
            "that",
            "mention",
            "mentioning",
            "",
        ];
        let mut rest = after_prefix(toks, SEARCH_PREFIXES)?;
        if rest.is_empty() {
            return Some(Command::Say(
                "What should I look for? For example: \"find milk\".".to_string(),
            ));
        }
        while rest.first().is_some_and(|t| key_in(t, LEAD)) {
            rest = rest.get(1..).unwrap_or_default();
        }
        while let Some(shorter) = before_suffix(rest, &[&["task"], &["tasks"], &[""]]) {
            rest = shorter;
        }
        let query = clean(&words(self.src, rest));
        Some(Command::List {
            status: Status::All,
            query: (!query.is_empty()).then_some(query),
        })
    }

    fn target(&self, toks: &[Tok]) -> Option<Target> {
        if let Some(ids) = ids_only(toks) {
            return Some(Target::Ids(ids));
        }
        target_title(self.src, toks).map(Target::Title)
    }

    /// "mark 3 as done", "mark buy milk not done", "mark 3 as urgent".
    fn mark(&self, toks: &[Tok]) -> Option<Command> {
        let rest = after_prefix(toks, &[&["mark"], &["flag"]])?;
        for (suffix, done) in MARK_SUFFIXES {
            if let Some(head) = before_suffix(rest, &[*suffix]) {
                let example = if *done {
                    "mark 3 as done"
                } else {
                    "mark 3 as not done"
                };
                return Some(match self.target(head) {
                    Some(target) => Command::Complete {
                        target,
                        done: *done,
                    },
                    None => which_task(example),
                });
            }
        }
        Some(self.change(rest, false))
    }

    /// complete / reopen / delete: a verb and a target, nothing else.
    fn simple(&self, toks: &[Tok]) -> Option<Command> {
        // "check 3 off", "tick buy milk off"
        if toks.len() >= 3
            && toks
                .first()
                .is_some_and(|t| key_in(t, &["check", "tick", "cross"]))
            && ends_with(toks, &["off"])
        {
            let middle = toks.get(1..toks.len() - 1).unwrap_or_default();
            return Some(match self.target(middle) {
                Some(target) => Command::Complete { target, done: true },
                None => which_task("check off 3"),
            });
        }
        if let Some(rest) = after_prefix(toks, COMPLETE_PREFIXES) {
            let rest = before_suffix(rest, &[&["as", "done"], &["off"]]).unwrap_or(rest);
            return Some(match self.target(rest) {
                Some(target) => Command::Complete { target, done: true },
                None => which_task("complete 3"),
            });
        }
        if let Some(rest) = after_prefix(toks, REOPEN_PREFIXES) {
            return Some(match self.target(rest) {
                Some(target) => Command::Complete {
                    target,
                    done: false,
                },
                None => which_task("reopen 3"),
            });
        }
        let rest = after_prefix(toks, DELETE_PREFIXES)?;
        Some(match self.target(rest) {
            Some(target) => Command::Delete { target },
            None => which_task("delete 3"),
        })
    }

    /// rename / change / set / move ... and prioritize.
    fn update(&self, toks: &[Tok]) -> Option<Command> {
        if let Some(rest) = after_prefix(toks, RENAME_PREFIXES) {
            return Some(self.rename(rest));
        }
        for (verbs, priority) in [
            (&["prioritize", "prioritise"], Priority::High),
            (&["deprioritize", "deprioritise"], Priority::Low),
        ] {
            if toks.first().is_some_and(|t| key_in(t, verbs)) {
                let rest = toks.get(1..).unwrap_or_default();
                return Some(match self.target(rest) {
                    Some(target) => Command::Update {
                        target,
                        title: None,
                        mods: Mods {
                            priority: Some(priority),
                            ..Mods::default()
                        },
                    },
                    None => which_task("prioritize 3"),
                });
            }
        }
        let first = toks.first()?;
        let (_, can_rename) = CHANGE_VERBS.iter().find(|(verb, _)| first.key == *verb)?;
        Some(self.change(toks.get(1..).unwrap_or_default(), *can_rename))
    }

    fn rename(&self, rest: &[Tok]) -> Command {
        const TO: &[&str] = &["to", "as", "into"];
        let usage = "I can rename a task like this: \"rename 3 to buy oat milk\".";
        if let Some((ids, used)) = leading_ids(rest) {
            let mut tail = rest.get(used..).unwrap_or_default();
            if tail.first().is_some_and(|t| key_in(t, TO)) {
                tail = tail.get(1..).unwrap_or_default();
            }
            let title = clean(&words(self.src, tail));
            if title.is_empty() {
                return Command::Say(usage.to_string());
            }
            return Command::Update {
                target: Target::Ids(ids),
                title: Some(title),
                mods: Mods::default(),
            };
        }
        // By title: the first "to" separates the old title from the new.
        let split = rest
            .iter()
            .skip(1)
            .position(|t| key_in(t, TO))
            .map(|i| i + 1);
        if let Some(at) = split
            && let Some(target) = target_title(self.src, rest.get(..at).unwrap_or_default())
        {
            let title = clean(&words(self.src, rest.get(at + 1..).unwrap_or_default()));
            if !title.is_empty() {
                return Command::Update {
                    target: Target::Title(target),
                    title: Some(title),
                    mods: Mods::default(),
                };
            }
        }
        Command::Say(usage.to_string())
    }

    /// What follows a change verb: a target, then new values.
    fn change(&self, rest: &[Tok], can_rename: bool) -> Command {
        let update = |target, title, mods| Command::Update {
            target,
            title,
            mods,
        };
        if let Some((ids, used)) = leading_ids(rest) {
            let tail = rest.get(used..).unwrap_or_default();
            if let Some(mods) = self.exact_mods(tail) {
                return update(Target::Ids(ids), None, mods);
            }
            if can_rename && starts_with(tail, &["to"]) {
                let title = clean(&words(self.src, tail.get(1..).unwrap_or_default()));
                if !title.is_empty() {
                    return update(Target::Ids(ids), Some(title), Mods::default());
                }
            }
            return change_help();
        }
        // "set the priority of task 3 to high"
        if let Some((ids, start, end)) = inner_ids(rest) {
            let mut tail: Vec<Tok> = rest.get(..start).unwrap_or_default().to_vec();
            tail.extend_from_slice(rest.get(end..).unwrap_or_default());
            if let Some(mods) = self.exact_mods(&tail) {
                return update(Target::Ids(ids), None, mods);
            }
        }
        // By title: the longest run of new values at the end.
        for at in 1..rest.len() {
            let (head, tail) = rest.split_at(at);
            if let Some(mods) = self.exact_mods(tail)
                && let Some(title) = target_title(self.src, head)
            {
                return update(Target::Title(title), None, mods);
            }
        }
        if can_rename {
            let split = rest
                .iter()
                .skip(1)
                .position(|t| t.key == "to")
                .map(|i| i + 1);
            if let Some(at) = split
                && let Some(target) = target_title(self.src, rest.get(..at).unwrap_or_default())
            {
                let title = clean(&words(self.src, rest.get(at + 1..).unwrap_or_default()));
                if !title.is_empty() {
                    return update(Target::Title(target), Some(title), Mods::default());
                }
            }
        }
        change_help()
    }

    /// "3 is done", "3 due tomorrow", "5 high priority".
    fn id_first(&self, toks: &[Tok]) -> Option<Command> {
        let (ids, used) = leading_ids(toks)?;
        let tail = toks.get(used..).unwrap_or_default();
        if tail.is_empty() {
            return None;
        }
        if let Some((_, done)) = ID_DONE_TAILS
            .iter()
            .find(|(words, _)| words.len() == tail.len() && starts_with(tail, words))
        {
            return Some(Command::Complete {
                target: Target::Ids(ids),
                done: *done,
            });
        }
        let mods = self.exact_mods(tail)?;
        Some(Command::Update {
            target: Target::Ids(ids),
            title: None,
            mods,
        })
    }

    /// "buy milk is done".
    fn title_is_done(&self, toks: &[Tok]) -> Option<Command> {
        let head = before_suffix(
            toks,
            &[
                &["is", "done"],
                &["is", "finished"],
                &["is", "complete"],
                &["is", "completed"],
            ],
        )?;
        let title = target_title(self.src, head)?;
        Some(Command::Complete {
            target: Target::Title(title),
            done: true,
        })
    }

    /// Modifiers that make up all of `toks` (bar filler words), if any.
    fn exact_mods(&self, toks: &[Tok]) -> Option<Mods> {
        let (kept, tags) = split_tags(toks);
        let mut mods = Mods {
            tags,
            ..Mods::default()
        };
        let n = self.strip_mods(&kept, true, &mut mods);
        let left = kept.get(..n).unwrap_or_default();
        (left.iter().all(|t| key_in(t, CHANGE_FILLER)) && !mods.is_empty()).then_some(mods)
    }

    /// Peels due dates and priorities off the end of `toks` into `mods`;
    /// returns how many words are left. The last one written wins.
    /// `bare` also takes a lone "high"/"low" (fine after "set 3 to").
    fn strip_mods(&self, toks: &[Tok], bare: bool, mods: &mut Mods) -> usize {
        let mut n = toks.len();
        loop {
            let head = toks.get(..n).unwrap_or_default();
            let used = if let Some((used, date)) = self.date_at_end(head) {
                mods.due.get_or_insert(date);
                used
            } else if let Some((used, priority)) = priority_at_end(head, bare) {
                mods.priority.get_or_insert(priority);
                used
            } else {
                return n;
            };
            n = n.saturating_sub(used);
            while n > 0 && toks.get(n - 1).is_some_and(|t| key_in(t, CONNECTORS)) {
                n -= 1;
            }
        }
    }

    /// A date phrase ending `toks`, with its "on"/"by"/"due" in front.
    fn date_at_end(&self, toks: &[Tok]) -> Option<(usize, NaiveDate)> {
        let keys: Vec<&str> = toks.iter().map(|t| t.key.as_str()).collect();
        let (mut used, date) = date_core(&keys, self.today)?;
        while used < keys.len()
            && keys
                .get(keys.len() - used - 1)
                .is_some_and(|k| DATE_PREFIXES.contains(k))
        {
            used += 1;
        }
        Some((used, date))
    }
}

fn priority_at_end(toks: &[Tok], bare: bool) -> Option<(usize, Priority)> {
    let last = toks.last()?.key.as_str();
    let prev = toks
        .len()
        .checked_sub(2)
        .and_then(|i| toks.get(i))
        .map(|t| t.key.as_str());
    let level = |word: Option<&str>| word.and_then(Priority::from_level);
    let (mut used, priority) = match (prev, last) {
        (Some(p), "priority" | "prio") if level(Some(p)).is_some() => (2, level(Some(p))?),
        (Some("priority" | "prio"), l) if level(Some(l)).is_some() => (2, level(Some(l))?),
        (Some("not"), "urgent" | "important") => (2, Priority::Low),
        (_, "urgent" | "important" | "asap" | "urgently" | "high-priority") => (1, Priority::High),
        (_, "low-priority") => (1, Priority::Low),
        (_, "medium-priority" | "normal-priority") => (1, Priority::Medium),
        (_, l) if bare && level(Some(l)).is_some() => (1, level(Some(l))?),
        _ => return None,
    };
    while used < toks.len()
        && toks
            .get(toks.len() - used - 1)
            .is_some_and(|t| key_in(t, PRIORITY_PREFIXES))
    {
        used += 1;
    }
    Some((used, priority))
}

// ---------------------------------------------------------------------------
// Dates.

/// The date a phrase at the end of `keys` means, and how many words it takes.
fn date_core(keys: &[&str], today: NaiveDate) -> Option<(usize, NaiveDate)> {
    let back = |n: usize| keys.len().checked_sub(n).and_then(|i| keys.get(i)).copied();
    let last = back(1)?;
    let prev = back(2);
    match last {
        "today" | "tonight" => return Some((1, today)),
        "tomorrow" | "tmrw" | "tmr" | "tomorow" | "tommorow" => {
            if prev == Some("after") && back(3) == Some("day") {
                let used = if back(4) == Some("the") { 4 } else { 3 };
                return Some((used, add_days(today, 2)?));
            }
            return Some((1, add_days(today, 1)?));
        }
        "week" if prev == Some("next") => return Some((2, add_days(today, 7)?)),
        "month" if prev == Some("next") => {
            return Some((2, today.checked_add_months(Months::new(1))?));
        }
        _ => {}
    }
    if let Some(day) = weekday(last) {
        let used = if matches!(prev, Some("next" | "this" | "coming")) {
            2
        } else {
            1
        };
        return Some((used, next_weekday(today, day)?));
    }
    if back(3) == Some("in")
        && let Some(count) = prev.and_then(count_word)
    {
        let date = match last {
            "day" | "days" => add_days(today, count)?,
            "week" | "weeks" => add_days(today, count.checked_mul(7)?)?,
            "month" | "months" => {
                today.checked_add_months(Months::new(u32::try_from(count).ok()?))?
            }
            _ => return month_day(keys, today),
        };
        return Some((3, date));
    }
    if let Ok(date) = NaiveDate::parse_from_str(last, "%Y-%m-%d") {
        return Some((1, date));
    }
    month_day(keys, today)
}

fn add_days(today: NaiveDate, days: u64) -> Option<NaiveDate> {
    today.checked_add_days(Days::new(days))
}

/// The next `day` strictly after `today` (a week ahead when it is today).
fn next_weekday(today: NaiveDate, day: Weekday) -> Option<NaiveDate> {
    let ahead = (day.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
    add_days(today, if ahead == 0 { 7 } else { u64::from(ahead) })
}

fn weekday(key: &str) -> Option<Weekday> {
    Some(match key {
        "monday" => Weekday::Mon,
        "tuesday" => Weekday::Tue,
        "wednesday" => Weekday::Wed,
        "thursday" => Weekday::Thu,
        "friday" => Weekday::Fri,
        "saturday" => Weekday::Sat,
        "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// "3", "three", "a": small counts for "in N days".
fn count_word(key: &str) -> Option<u64> {
    let n = match key {
        "a" | "an" | "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        // Bounded so the date arithmetic stays in range.
        digits => digits.parse::<u64>().ok().filter(|n| *n <= 100_000)?,
    };
    Some(n)
}

fn month(key: &str) -> Option<u32> {
    Some(match key {
        "january" | "jan" => 1,
        "february" | "feb" => 2,
        "march" | "mar" => 3,
        "april" | "apr" => 4,
        "may" => 5,
        "june" | "jun" => 6,
        "july" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "october" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    })
}

/// "1", "1st", "22nd".
fn day_of_month(key: &str) -> Option<u32> {
    let digits = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|suffix| key.strip_suffix(suffix))
        .unwrap_or(key);
    digits.parse::<u32>().ok().filter(|d| (1..=31).contains(d))
}

fn year(key: &str) -> Option<i32> {
    (key.len() == 4)
        .then(|| key.parse::<i32>().ok())
        .flatten()
        .filter(|y| (1970..=9999).contains(y))
}

/// "december 1", "1 dec", "the 5th of march", "december 1, 2026". Without a
/// year: the next such day from today on.
fn month_day(keys: &[&str], today: NaiveDate) -> Option<(usize, NaiveDate)> {
    let back = |n: usize| keys.len().checked_sub(n).and_then(|i| keys.get(i)).copied();
    if let Some(y) = back(1).and_then(year) {
        if let (Some(m), Some(d)) = (back(3).and_then(month), back(2).and_then(day_of_month)) {
            return Some((3, NaiveDate::from_ymd_opt(y, m, d)?));
        }
        if let (Some(d), Some(m)) = (back(3).and_then(day_of_month), back(2).and_then(month)) {
            return Some((3, NaiveDate::from_ymd_opt(y, m, d)?));
        }
    }
    let upcoming = |m: u32, d: u32| -> Option<NaiveDate> {
        let this_year = NaiveDate::from_ymd_opt(today.year(), m, d)?;
        if this_year >= today {
            Some(this_year)
        } else {
            NaiveDate::from_ymd_opt(today.year() + 1, m, d)
        }
    };
    if let (Some(m), Some(d)) = (back(2).and_then(month), back(1).and_then(day_of_month)) {
        return Some((2, upcoming(m, d)?));
    }
    if let (Some(d), Some(m)) = (back(2).and_then(day_of_month), back(1).and_then(month)) {
        return Some((2, upcoming(m, d)?));
    }
    if back(2) == Some("of")
        && let (Some(d), Some(m)) = (back(3).and_then(day_of_month), back(1).and_then(month))
    {
        return Some((3, upcoming(m, d)?));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A Wednesday.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).expect("valid date")
    }

    fn reply_to(text: &str) -> Reply {
        respond(&[Message::system("be brief"), Message::user(text)], today())
    }

    /// The one tool call `text` produces, with parsed arguments.
    fn call_for(text: &str) -> (String, Value) {
        let reply = reply_to(text);
        assert_eq!(reply.content, None, "{text:?}: {reply:?}");
        assert_eq!(reply.tool_calls.len(), 1, "{text:?}: {reply:?}");
        let call = &reply.tool_calls[0];
        let args = serde_json::from_str(&call.arguments).expect("arguments are JSON");
        (call.name.clone(), args)
    }

    #[track_caller]
    fn assert_call(text: &str, name: &str, args: Value) {
        assert_eq!(call_for(text), (name.to_string(), args), "{text:?}");
    }

    fn text_of(reply: &Reply) -> &str {
        assert!(reply.tool_calls.is_empty(), "{reply:?}");
        reply.content.as_deref().expect("a text reply")
    }

    fn text_for(text: &str) -> String {
        text_of(&reply_to(text)).to_string()
    }

    /// The conversation after the assistant asked for `reply`'s calls and
    /// got `results` (one per call, in order).
    fn with_results(user: &str, reply: &Reply, results: &[&str]) -> Vec<Message> {
        let mut messages = vec![Message::user(user)];
        let mut asked = Message::assistant("");
        asked.tool_calls = reply.tool_calls.clone();
        messages.push(asked);
        for (call, result) in reply.tool_calls.iter().zip(results) {
            messages.push(Message::tool_result(call.id.clone(), *result));
        }
        messages
    }

    /// The final text after one round of `results` for `user`'s calls.
    fn answer(user: &str, results: &[&str]) -> String {
        let first = reply_to(user);
        let messages = with_results(user, &first, results);
        text_of(&respond(&messages, today())).to_string()
    }

    #[test]
    fn the_example_from_the_brief() {
        assert_call(
            "add call mom tomorrow, high priority",
            "add_task",
            json!({"title": "call mom", "due_at": "2026-11-26", "priority": "high"}),
        );
    }

    #[test]
    fn tool_call_ids_are_unique_and_shaped_like_openai() {
        let reply = reply_to("complete 3 and 5");
        let ids: Vec<&str> = reply.tool_calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), 2);
        assert_ne!(ids[0], ids[1]);
        for id in ids {
            let hex = id.strip_prefix("call_").expect("call_ prefix");
            assert_eq!(hex.len(), 24);
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_eq!(reply.usage, None);
    }

    #[test]
    fn add_verbs_and_politeness() {
        for text in [
            "add call mom",
            "Add call mom.",
            "create call mom",
            "new task call mom",
            "new task: call mom",
            "remember to call mom",
            "remind me to call mom",
            "todo: call mom",
            "todo:call mom",
            "please add call mom",
            "can you add call mom?",
            "could you please add call mom please!",
            "hey, add call mom",
            "add a task to call mom",
            "add task: call mom",
            "add call mom to my list",
        ] {
            assert_call(text, "add_task", json!({"title": "call mom"}));
        }
    }

    #[test]
    fn add_keeps_the_title_as_typed() {
        assert_call("add Call Mom", "add_task", json!({"title": "Call Mom"}));
        assert_call(
            "add купить молоко 🥛",
            "add_task",
            json!({"title": "купить молоко 🥛"}),
        );
        assert_call(
            "add 読書する tomorrow",
            "add_task",
            json!({"title": "読書する", "due_at": "2026-11-26"}),
        );
        // Date words inside the title stay there.
        assert_call(
            "add prepare tomorrow's meeting",
            "add_task",
            json!({"title": "prepare tomorrow's meeting"}),
        );
        assert_call(
            "add \"buy milk\" today",
            "add_task",
            json!({"title": "buy milk", "due_at": "2026-11-25"}),
        );
    }

    #[test]
    fn add_modifiers() {
        let cases = [
            (
                "add pay rent today",
                json!({"title": "pay rent", "due_at": "2026-11-25"}),
            ),
            (
                "add movie tonight",
                json!({"title": "movie", "due_at": "2026-11-25"}),
            ),
            (
                "add pay rent on friday",
                json!({"title": "pay rent", "due_at": "2026-11-27"}),
            ),
            (
                "add pay rent by Friday",
                json!({"title": "pay rent", "due_at": "2026-11-27"}),
            ),
            (
                "add pay rent next friday",
                json!({"title": "pay rent", "due_at": "2026-11-27"}),
            ),
            (
                "add pay rent monday",
                json!({"title": "pay rent", "due_at": "2026-11-30"}),
            ),
            (
                "add pay rent in 3 days",
                json!({"title": "pay rent", "due_at": "2026-11-28"}),
            ),
            (
                "add pay rent in a week",
                json!({"title": "pay rent", "due_at": "2026-12-02"}),
            ),
            (
                "add pay rent in 2 weeks",
                json!({"title": "pay rent", "due_at": "2026-12-09"}),
            ),
            (
                "add pay rent next week",
                json!({"title": "pay rent", "due_at": "2026-12-02"}),
            ),
            (
                "add pay rent 2026-12-01",
                json!({"title": "pay rent", "due_at": "2026-12-01"}),
            ),
            (
                "add pay rent due 2027-01-15",
                json!({"title": "pay rent", "due_at": "2027-01-15"}),
            ),
            (
                "add pay rent december 1",
                json!({"title": "pay rent", "due_at": "2026-12-01"}),
            ),
            (
                "add pay rent 3rd of march",
                json!({"title": "pay rent", "due_at": "2027-03-03"}),
            ),
            (
                "add pay rent the day after tomorrow",
                json!({"title": "pay rent", "due_at": "2026-11-27"}),
            ),
            (
                "add pay rent, urgent",
                json!({"title": "pay rent", "priority": "high"}),
            ),
            (
                "add pay rent important",
                json!({"title": "pay rent", "priority": "high"}),
            ),
            (
                "add pay rent low priority",
                json!({"title": "pay rent", "priority": "low"}),
            ),
            (
                "add pay rent medium priority",
                json!({"title": "pay rent", "priority": "medium"}),
            ),
            (
                "add pay rent with high priority",
                json!({"title": "pay rent", "priority": "high"}),
            ),
            (
                "add pay rent #home",
                json!({"title": "pay rent", "tags": ["home"]}),
            ),
            (
                "add #home pay rent #money",
                json!({"title": "pay rent", "tags": ["home", "money"]}),
            ),
            (
                "add pay rent tomorrow and urgent",
                json!({"title": "pay rent", "due_at": "2026-11-26", "priority": "high"}),
            ),
            (
                "add pay rent, high priority, by friday #home please",
                json!({"title": "pay rent", "due_at": "2026-11-27", "priority": "high", "tags": ["home"]}),
            ),
            // "#12" is not a tag.
            ("add fix bug #12", json!({"title": "fix bug #12"})),
        ];
        for (text, args) in cases {
            assert_call(text, "add_task", args);
        }
    }

    #[test]
    fn add_without_a_title_asks() {
        for text in ["add", "add tomorrow", "create urgent", "todo:"] {
            let reply = text_for(text);
            assert!(reply.contains("add call mom"), "{text:?}: {reply}");
        }
    }

    #[test]
    fn weekday_arithmetic_wraps_and_skips_today() {
        let wed = today();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        assert_eq!(wed.weekday(), Weekday::Wed);
        assert_eq!(next_weekday(wed, Weekday::Thu), Some(day(2026, 11, 26)));
        assert_eq!(next_weekday(wed, Weekday::Mon), Some(day(2026, 11, 30)));
        assert_eq!(next_weekday(wed, Weekday::Tue), Some(day(2026, 12, 1)));
        // Plain and "next" wednesday on a wednesday: a week ahead.
        assert_eq!(next_weekday(wed, Weekday::Wed), Some(day(2026, 12, 2)));
        let fri = day(2026, 11, 27);
        for text in ["add x friday", "add x next friday", "add x on friday"] {
            let reply = respond(&[Message::user(text)], fri);
            let args: Value = serde_json::from_str(&reply.tool_calls[0].arguments).expect("json");
            assert_eq!(args["due_at"], "2026-12-04", "{text}");
        }
        // Across a year end.
        let eve = day(2026, 12, 31);
        let reply = respond(&[Message::user("add party in 2 days")], eve);
        let args: Value = serde_json::from_str(&reply.tool_calls[0].arguments).expect("json");
        assert_eq!(args["due_at"], "2027-01-02");
        // Far beyond the calendar: no date, no panic.
        let reply = respond(&[Message::user("add x in 99999999999999999999 days")], eve);
        assert_eq!(reply.tool_calls[0].name, "add_task");
        let late = day(262_000, 1, 1);
        let reply = respond(&[Message::user("add x tomorrow")], late);
        assert_eq!(reply.tool_calls.len(), 1);
    }

    #[test]
    fn list_phrases() {
        let cases = [
            ("list", "pending"),
            ("list tasks", "pending"),
            ("show tasks", "pending"),
            ("Show my tasks please", "pending"),
            ("show pending", "pending"),
            ("what's still open?", "pending"),
            ("What’s still open?", "pending"),
            ("what is left", "pending"),
            ("what do I have to do?", "pending"),
            ("what do I need to do today", "pending"),
            ("todo", "pending"),
            ("my tasks", "pending"),
            ("show completed", "completed"),
            ("what did I finish", "completed"),
            ("done tasks", "completed"),
            ("show all", "all"),
            ("list everything", "all"),
            ("all tasks", "all"),
        ];
        for (text, status) in cases {
            assert_call(text, "list_tasks", json!({"status": status}));
        }
    }

    #[test]
    fn search_phrases() {
        for text in [
            "find milk",
            "search milk",
            "search for milk",
            "find tasks about milk",
        ] {
            assert_call(
                text,
                "list_tasks",
                json!({"status": "all", "query": "milk"}),
            );
        }
        assert_call(
            "search for Oat Milk",
            "list_tasks",
            json!({"status": "all", "query": "Oat Milk"}),
        );
        assert!(text_for("search").contains("find milk"));
    }

    #[test]
    fn complete_phrases_and_number_forms() {
        for text in [
            "complete 3",
            "done with 3",
            "finish 3",
            "mark 3 done",
            "mark 3 as done",
            "check off 3",
            "check 3 off",
            "3 is done",
            "3 done",
            "done 3",
            "complete #3",
            "complete task 3",
            "complete number 3",
            "complete task #3",
            "please complete task 3!",
            "I finished 3",
        ] {
            assert_call(text, "complete_task", json!({"task_id": 3}));
        }
    }

    #[test]
    fn several_numbers_make_several_calls() {
        for text in [
            "complete 3 and 5",
            "done with 3, 5",
            "done with 3,5",
            "finish tasks 3 & 5",
            "complete 3 and 5 and 3",
        ] {
            let reply = reply_to(text);
            let got: Vec<(String, Value)> = reply
                .tool_calls
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        serde_json::from_str(&c.arguments).expect("json"),
                    )
                })
                .collect();
            assert_eq!(
                got,
                vec![
                    ("complete_task".to_string(), json!({"task_id": 3})),
                    ("complete_task".to_string(), json!({"task_id": 5})),
                ],
                "{text}"
            );
        }
        assert_eq!(reply_to("delete 1, 2 and 3").tool_calls.len(), 3);
    }

    #[test]
    fn reopen_phrases() {
        for text in [
            "reopen 3",
            "undo 3",
            "uncomplete 3",
            "mark 3 not done",
            "mark 3 as not done",
            "3 is not done",
        ] {
            assert_call(
                text,
                "complete_task",
                json!({"task_id": 3, "completed": false}),
            );
        }
    }

    #[test]
    fn update_phrases() {
        let cases = [
            (
                "rename 3 to buy oat milk",
                json!({"task_id": 3, "title": "buy oat milk"}),
            ),
            (
                "rename task #3 to Buy Oat Milk",
                json!({"task_id": 3, "title": "Buy Oat Milk"}),
            ),
            (
                "change 3 to buy oat milk",
                json!({"task_id": 3, "title": "buy oat milk"}),
            ),
            (
                "set 3 priority high",
                json!({"task_id": 3, "priority": "high"}),
            ),
            (
                "set 3 to low priority",
                json!({"task_id": 3, "priority": "low"}),
            ),
            (
                "make 3 high priority",
                json!({"task_id": 3, "priority": "high"}),
            ),
            ("make 3 urgent", json!({"task_id": 3, "priority": "high"})),
            (
                "mark 3 as urgent",
                json!({"task_id": 3, "priority": "high"}),
            ),
            ("prioritize 3", json!({"task_id": 3, "priority": "high"})),
            (
                "set the priority of task 3 to high",
                json!({"task_id": 3, "priority": "high"}),
            ),
            (
                "move 3 to friday",
                json!({"task_id": 3, "due_at": "2026-11-27"}),
            ),
            (
                "3 due tomorrow",
                json!({"task_id": 3, "due_at": "2026-11-26"}),
            ),
            (
                "push 3 to 2026-12-01",
                json!({"task_id": 3, "due_at": "2026-12-01"}),
            ),
            (
                "change 3 to next monday",
                json!({"task_id": 3, "due_at": "2026-11-30"}),
            ),
            (
                "reschedule 3 for in 2 days",
                json!({"task_id": 3, "due_at": "2026-11-27"}),
            ),
            (
                "change the due date of 3 to friday",
                json!({"task_id": 3, "due_at": "2026-11-27"}),
            ),
            (
                "move 3 to friday, high priority",
                json!({"task_id": 3, "due_at": "2026-11-27", "priority": "high"}),
            ),
        ];
        for (text, args) in cases {
            assert_call(text, "update_task", args);
        }
        for text in ["move 3 to someday", "update 3", "set 3"] {
            assert!(text_for(text).contains("move 3 to friday"), "{text}");
        }
        assert!(text_for("rename 3").contains("rename 3 to"));
    }

    #[test]
    fn delete_phrases() {
        for text in [
            "delete 3",
            "remove 3",
            "drop task 3",
            "cancel 3",
            "get rid of #3",
        ] {
            assert_call(text, "delete_task", json!({"task_id": 3}));
        }
    }

    #[test]
    fn vague_targets_ask_which_task() {
        for text in [
            "delete it",
            "complete all",
            "complete",
            "reopen",
            "remove them",
        ] {
            let reply = text_for(text);
            assert!(reply.starts_with("Which task?"), "{text:?}: {reply}");
        }
    }

    #[test]
    fn titles_start_with_a_lookup() {
        let cases = [
            ("complete buy milk", "pending", "buy milk"),
            ("done with call mom", "pending", "call mom"),
            ("buy milk is done", "pending", "buy milk"),
            ("mark buy milk as done", "pending", "buy milk"),
            ("reopen buy milk", "completed", "buy milk"),
            ("delete the milk task", "all", "milk"),
            ("rename buy milk to buy oat milk", "all", "buy milk"),
            ("move buy milk to friday", "all", "buy milk"),
            ("make buy milk urgent", "all", "buy milk"),
        ];
        for (text, status, query) in cases {
            assert_call(
                text,
                "list_tasks",
                json!({"status": status, "query": query}),
            );
        }
    }

    const TWO_MILKS: &str = r#"[
        {"id": 3, "title": "buy milk", "completed": false, "priority": "medium", "due_at": null, "tags": []},
        {"id": 5, "title": "buy milk and eggs", "completed": false, "priority": "high", "due_at": null, "tags": []}
    ]"#;

    /// Runs a title command through its lookup with `found` as the result.
    fn after_lookup(text: &str, found: &str) -> Reply {
        let first = reply_to(text);
        assert_eq!(first.tool_calls[0].name, "list_tasks", "{text}");
        respond(&with_results(text, &first, &[found]), today())
    }

    fn only_call(reply: &Reply) -> (String, Value) {
        assert_eq!(reply.content, None, "{reply:?}");
        assert_eq!(reply.tool_calls.len(), 1, "{reply:?}");
        let call = &reply.tool_calls[0];
        (
            call.name.clone(),
            serde_json::from_str(&call.arguments).expect("json"),
        )
    }

    #[test]
    fn a_single_match_gets_the_real_call() {
        let one = r#"[{"id": 7, "title": "Buy milk", "completed": false}]"#;
        let cases = [
            ("complete buy milk", "complete_task", json!({"task_id": 7})),
            ("delete the milk task", "delete_task", json!({"task_id": 7})),
            (
                "rename buy milk to buy oat milk",
                "update_task",
                json!({"task_id": 7, "title": "buy oat milk"}),
            ),
            (
                "move buy milk to friday",
                "update_task",
                json!({"task_id": 7, "due_at": "2026-11-27"}),
            ),
        ];
        for (text, name, args) in cases {
            assert_eq!(
                only_call(&after_lookup(text, one)),
                (name.to_string(), args),
                "{text}"
            );
        }
        let done = r#"[{"id": 7, "title": "buy milk", "completed": true}]"#;
        assert_eq!(
            only_call(&after_lookup("reopen buy milk", done)),
            (
                "complete_task".to_string(),
                json!({"task_id": 7, "completed": false})
            )
        );
    }

    #[test]
    fn an_exact_title_beats_longer_ones() {
        assert_eq!(
            only_call(&after_lookup("complete buy milk", TWO_MILKS)),
            ("complete_task".to_string(), json!({"task_id": 3}))
        );
        // Already completed tasks are not candidates for completing.
        let mixed = r#"[{"id": 3, "title": "milk", "completed": true},
                        {"id": 4, "title": "oat milk", "completed": false}]"#;
        assert_eq!(
            only_call(&after_lookup("complete milk", mixed)),
            ("complete_task".to_string(), json!({"task_id": 4}))
        );
    }

    #[test]
    fn no_match_says_so() {
        let reply = after_lookup("delete buy milk", "[]");
        assert_eq!(
            text_of(&reply),
            "I couldn't find a task matching \"buy milk\"."
        );
        let reply = after_lookup("complete buy milk", r#"{"tasks": []}"#);
        assert_eq!(
            text_of(&reply),
            "I couldn't find an open task matching \"buy milk\"."
        );
        let reply = after_lookup("delete buy milk", r#"{"error": "database unavailable"}"#);
        assert_eq!(text_of(&reply), "I couldn't do that: database unavailable.");
    }

    #[test]
    fn several_matches_ask_which() {
        let reply = after_lookup("delete milk", TWO_MILKS);
        assert_eq!(
            text_of(&reply),
            "I found 2 tasks matching \"milk\":\n- #3 buy milk\n- #5 buy milk and eggs\n\
             Which one do you mean? Tell me its number, e.g. \"delete 3\"."
        );
        let reply = after_lookup("rename milk to oat milk", TWO_MILKS);
        assert!(text_of(&reply).ends_with("e.g. \"rename 3 to oat milk\"."));
    }

    #[test]
    fn the_follow_up_happens_once() {
        let text = "complete buy milk";
        let lookup = reply_to(text);
        let mut messages = with_results(text, &lookup, &[r#"[{"id": 7, "title": "buy milk"}]"#]);
        let action = respond(&messages, today());
        assert_eq!(action.tool_calls[0].name, "complete_task");
        let mut asked = Message::assistant("");
        asked.tool_calls = action.tool_calls.clone();
        messages.push(asked);
        messages.push(Message::tool_result(
            action.tool_calls[0].id.clone(),
            r#"{"task_id": 7, "status": "completed", "title": "buy milk"}"#,
        ));
        let done = respond(&messages, today());
        assert_eq!(text_of(&done), "Marked \"buy milk\" (task 7) as done.");
        // Even when a second round was lookups again: text, not another call.
        let mut looping = with_results(text, &lookup, &["[]"]);
        let mut again = Message::assistant("");
        again.tool_calls = lookup.tool_calls.clone();
        looping.push(again);
        looping.push(Message::tool_result(
            lookup.tool_calls[0].id.clone(),
            TWO_MILKS,
        ));
        assert!(respond(&looping, today()).tool_calls.is_empty());
    }

    #[test]
    fn final_texts() {
        assert_eq!(
            answer(
                "add call mom tomorrow, high priority",
                &[
                    r#"{"task_id": 12, "status": "created", "title": "call mom", "due_at": "2026-11-26T00:00:00Z", "priority": "high"}"#
                ]
            ),
            "Added \"call mom\" (task 12), due 2026-11-26, high priority."
        );
        assert_eq!(
            answer(
                "add call mom",
                &[
                    r#"{"task_id": 12, "status": "created", "title": "call mom", "priority": "medium", "due_at": null}"#
                ]
            ),
            "Added \"call mom\" (task 12)."
        );
        assert_eq!(
            answer(
                "add call mom #family",
                &[
                    r#"{"task_id": 12, "status": "created", "title": "call mom", "tags": ["family"]}"#
                ]
            ),
            "Added \"call mom\" (task 12), tagged #family."
        );
        assert_eq!(
            answer(
                "complete 3",
                &[r#"{"task_id": 3, "status": "completed", "title": "call mom"}"#]
            ),
            "Marked \"call mom\" (task 3) as done."
        );
        assert_eq!(
            answer(
                "reopen 3",
                &[
                    r#"{"task_id": 3, "status": "updated", "title": "call mom", "completed": false}"#
                ]
            ),
            "Reopened \"call mom\" (task 3)."
        );
        assert_eq!(
            answer(
                "rename 3 to buy oat milk",
                &[
                    r#"{"task_id": 3, "status": "updated", "title": "buy oat milk", "priority": "high"}"#
                ]
            ),
            "Updated task 3: \"buy oat milk\"."
        );
        assert_eq!(
            answer(
                "move 3 to friday",
                &[
                    r#"{"task_id": 3, "status": "updated", "title": "call mom", "due_at": "2026-11-27T00:00:00Z"}"#
                ]
            ),
            "Updated task 3: \"call mom\", due 2026-11-27."
        );
        assert_eq!(
            answer(
                "delete 3",
                &[r#"{"task_id": 3, "status": "deleted", "title": "call mom"}"#]
            ),
            "Deleted \"call mom\" (task 3)."
        );
        assert_eq!(
            answer("delete 42", &[r#"{"error": "task 42 not found"}"#]),
            "I couldn't do that: task 42 not found."
        );
        assert_eq!(
            answer(
                "complete 3 and 42",
                &[
                    r#"{"task_id": 3, "status": "completed"}"#,
                    r#"{"error": {"message": "task 42 not found."}}"#
                ]
            ),
            "Marked task 3 as done.\nI couldn't do that: task 42 not found."
        );
    }

    #[test]
    fn list_texts() {
        let open = r#"[
            {"id": 3, "title": "call mom", "completed": false, "priority": "high", "due_at": "2026-11-26T00:00:00Z", "tags": []},
            {"id": 5, "title": "buy milk", "completed": false, "priority": "medium", "due_at": null, "tags": []}
        ]"#;
        assert_eq!(
            answer("show my tasks", &[open]),
            "You have 2 open tasks:\n- #3 call mom (due 2026-11-26, high)\n- #5 buy milk"
        );
        assert_eq!(answer("what's left", &["[]"]), "You have no open tasks.");
        assert_eq!(
            answer("show completed", &["[]"]),
            "You have no completed tasks."
        );
        assert_eq!(answer("show all", &["[]"]), "You have no tasks.");
        assert_eq!(
            answer(
                "show completed",
                &[r#"[{"id": 1, "title": "taxes", "completed": true}]"#]
            ),
            "You have 1 completed task:\n- #1 taxes"
        );
        assert_eq!(
            answer(
                "show all",
                &[r#"[{"id": 1, "title": "taxes", "completed": true, "priority": "low"}]"#]
            ),
            "You have 1 task:\n- #1 taxes (done, low)"
        );
        assert_eq!(
            answer("find milk", &[r#"[{"id": 5, "title": "buy milk"}]"#]),
            "Tasks matching \"milk\":\n- #5 buy milk"
        );
        assert_eq!(answer("find milk", &["[]"]), "No tasks match \"milk\".");
        let many: Vec<Value> = (1..=60)
            .map(|i| json!({"id": i, "title": format!("t{i}")}))
            .collect();
        let many = Value::from(many).to_string();
        let listed = answer("list", &[&many]);
        assert!(listed.starts_with("You have 60 open tasks:\n- #1 t1\n"));
        assert!(listed.ends_with("- #50 t50\n...and 10 more."));
    }

    #[test]
    fn small_talk_and_gibberish_get_help() {
        for text in [
            "",
            "   ",
            "hello",
            "help",
            "what can you do?",
            "asdf qwer",
            "🙂",
            "?!",
        ] {
            let reply = text_for(text);
            assert!(reply.contains("add call mom tomorrow"), "{text:?}: {reply}");
            assert!(reply.contains("complete 3"), "{text:?}: {reply}");
        }
        assert!(text_for("hi").starts_with("Hi! "));
        assert!(text_for("Good morning!").starts_with("Hi! "));
        assert!(text_for("asdf").starts_with("Sorry"));
        assert_eq!(text_for("thanks!"), "You're welcome!");
    }

    #[test]
    fn garbage_never_panics() {
        let day = today();
        // No messages, no user message, only tool results.
        assert!(respond(&[], day).content.is_some());
        assert!(
            respond(&[Message::system("x"), Message::assistant("y")], day)
                .content
                .is_some()
        );
        let orphan = Message::tool_result("nope", "not json at all");
        assert_eq!(
            text_of(&respond(
                &[Message::user("complete 3"), orphan.clone()],
                day
            )),
            "The tool answered: not json at all"
        );
        // Results that are not what the tools return.
        for result in [
            "",
            "null",
            "42",
            "\"ok\"",
            "[1, 2]",
            "{}",
            "{\"status\": 5}",
            "[{\"id\": \"x\"}]",
            "{\"error\": null}",
            "{\"tasks\": 3}",
            "\u{0}\u{1}",
            "{\"task_id\": 1e400}",
        ] {
            for user in [
                "complete 3",
                "complete buy milk",
                "show tasks",
                "add x",
                "reopen milk",
                "hi",
            ] {
                let first = reply_to(user);
                let reply = respond(&with_results(user, &first, &[result]), day);
                assert!(
                    reply.content.is_some() || !reply.tool_calls.is_empty(),
                    "{user} / {result}"
                );
                let reply = respond(
                    &[Message::user(user), Message::tool_result("", result)],
                    day,
                );
                assert!(
                    reply.content.is_some() || !reply.tool_calls.is_empty(),
                    "{user} / {result}"
                );
            }
        }
        // Odd inputs for the parser.
        let long = "add ".to_string() + &"ж".repeat(10_000);
        for text in [
            "todo:",
            "todo:é",
            "#",
            "# # #",
            "add #",
            "complete #",
            "complete 0",
            "complete -3",
            "complete 99999999999999999999999",
            "rename to to to",
            "change to",
            "move",
            "set priority of to high",
            "mark",
            "mark as done",
            "3",
            "3 3 3",
            "in 3 days",
            "add in",
            "add x in days",
            "add x feb 30",
            "add x 31 february 2027",
            "’’’",
            "\"\"",
            "add \"",
            "add “”",
            long.as_str(),
            "\u{202e}add x",
            "add\tx\ny",
            "ＡＤＤ x",
        ] {
            let reply = reply_to(text);
            assert!(
                reply.content.is_some() || !reply.tool_calls.is_empty(),
                "{text:?}"
            );
            for call in &reply.tool_calls {
                serde_json::from_str::<Value>(&call.arguments).expect("arguments are JSON");
            }
        }
    }
}
