//! The phrase table (issue 22): every row of `phrases/table.txt` through
//! `respond_at` at Monday 2026-12-07 10:00, compared exactly.
//!
//! It prints a score per category and overall (rows exactly right / rows)
//! and the rows that are wrong. Enforced: at least [`MIN_OVERALL`] of all
//! rows right, and every row of the categories that must never act wrongly
//! (negative and ambiguous rows) right. A wrong row stays in the table and
//! counts as wrong: expectations are never weakened to pass.

#[path = "phrases/table.rs"]
mod table;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};
use table::{Expect, FIXTURE, Row, rows};
use todo_assistant::{confident, respond_at};
use todo_common::llm::{Message, Reply};

/// The share of rows that must be exactly right: the issue asks for 95 %;
/// enforced is the level reached (100 % when this was set) less a margin
/// for new rows that show a gap before it is fixed (they stay in the table,
/// counted as wrong).
const MIN_OVERALL: f64 = 0.98;
/// Categories (by their header's first word) where every row must be right.
const MUST_BE_PERFECT: &[&str] = &["Negative", "Ambiguous"];

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, 7)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("valid time")
}

/// list_tasks over the fixture: status, query, tag and limit are applied
/// (the other filters are not needed by second rounds).
fn list_tasks(args: &Value) -> String {
    let fixture: Vec<Value> = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    let status = args
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("pending");
    let query = args
        .get("query")
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let tag = args.get("tag").and_then(Value::as_str);
    let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(25) as usize;
    let done = |t: &Value| t.get("done").and_then(Value::as_bool).unwrap_or(false);
    let matching: Vec<&Value> = fixture
        .iter()
        .filter(|t| match status {
            "completed" => done(t),
            "all" => true,
            _ => !done(t),
        })
        .filter(|t| {
            query.as_ref().is_none_or(|q| {
                t["title"]
                    .as_str()
                    .is_some_and(|title| title.to_lowercase().contains(q))
            })
        })
        .filter(|t| {
            tag.is_none_or(|tag| {
                t.get("tags")
                    .and_then(Value::as_array)
                    .is_some_and(|tags| tags.iter().any(|x| x == tag))
            })
        })
        .collect();
    let open = fixture.iter().filter(|t| !done(t)).count();
    json!({
        "tasks": matching.iter().take(limit).collect::<Vec<_>>(),
        "matching": matching.len(),
        "open": open,
        "overdue": 1,
        "due_today": 2,
        "next_cursor": null,
    })
    .to_string()
}

fn calls_of(reply: &Reply) -> Vec<(String, Value)> {
    reply
        .tool_calls
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                serde_json::from_str(&c.arguments).unwrap_or(Value::Null),
            )
        })
        .collect()
}

fn show(reply: &Reply) -> String {
    if reply.tool_calls.is_empty() {
        return format!("text: {:?}", reply.content.as_deref().unwrap_or(""));
    }
    calls_of(reply)
        .iter()
        .map(|(name, args)| format!("{name} {args}"))
        .collect::<Vec<_>>()
        .join("\n        ")
}

fn matches(expect: &Expect, reply: &Reply) -> bool {
    let text = reply.content.as_deref().unwrap_or("");
    match expect {
        Expect::Calls(calls) => reply.content.is_none() && calls_of(reply) == *calls,
        Expect::Say(part) => reply.tool_calls.is_empty() && text.contains(part.as_str()),
        Expect::Ask(candidates) => {
            reply.tool_calls.is_empty()
                && text.contains('?')
                && candidates.iter().all(|c| text.contains(c.as_str()))
        }
    }
}

/// delete_task over the fixture as far as a second round needs it: a
/// recurring task without a scope is refused the way the tool refuses it.
fn delete_task(args: &Value) -> String {
    let fixture: Vec<Value> = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    let task = fixture.iter().find(|t| t["id"] == args["task_id"]);
    match task {
        Some(task) if task.get("repeats").is_some() && args.get("scope").is_none() => json!({
            "error": format!(
                "scope: task {} (\"{}\") repeats: skip just this occurrence, or delete the whole series (scope \"series\")?",
                task["id"],
                task["title"].as_str().unwrap_or("")
            )
        }),
        _ => json!({"error": "not simulated"}),
    }
    .to_string()
}

/// The row's outcome: None when right, else what was wrong.
fn run(row: &Row) -> Option<String> {
    let mut messages = row.conversation();
    let first = respond_at(&messages, now());
    if !matches(&row.first, &first) {
        return Some(format!("round 1: {}", show(&first)));
    }
    let second = row.second.as_ref()?;
    let mut asked = Message::assistant("");
    asked.tool_calls = first.tool_calls.clone();
    messages.push(asked);
    for call in &first.tool_calls {
        let args = serde_json::from_str(&call.arguments).unwrap_or(Value::Null);
        let result = match call.name.as_str() {
            "list_tasks" => list_tasks(&args),
            "delete_task" => delete_task(&args),
            _ => json!({"error": "not simulated"}).to_string(),
        };
        messages.push(Message::tool_result(call.id.clone(), result));
    }
    let reply = respond_at(&messages, now());
    (!matches(second, &reply)).then(|| format!("round 2: {}", show(&reply)))
}

/// Whether the row's message gets the same first round without the
/// previous answer.
fn same_alone(row: &Row) -> bool {
    let alone = respond_at(&[Message::user(row.message.as_str())], now());
    let after = respond_at(&row.conversation(), now());
    alone.content == after.content && calls_of(&alone) == calls_of(&after)
}

#[test]
fn phrase_table() {
    let rows = rows().expect("the table reads");
    assert!(rows.len() >= 300, "only {} rows", rows.len());
    let mut categories: Vec<(String, usize, usize)> = Vec::new();
    let mut wrong = Vec::new();
    // Hybrid mode answers a confident row with no model call: such a row
    // must be right, and no ambiguous row may be confident.
    let mut sure = 0;
    let mut sure_but_wrong = Vec::new();
    for row in &rows {
        let failure = run(row);
        if confident(&row.message, now()) {
            sure += 1;
            // Hybrid mode reads the message alone: a confident message
            // must mean the same with or without the answer before it.
            if failure.is_some()
                || row.category.starts_with("Ambiguous")
                || (row.previous.is_some() && !same_alone(row))
            {
                sure_but_wrong.push(format!("  line {} {:?}", row.line, row.message));
            }
        }
        // A category may have several blocks: scored as one.
        let at = match categories.iter().position(|(c, _, _)| *c == row.category) {
            Some(at) => at,
            None => {
                categories.push((row.category.clone(), 0, 0));
                categories.len() - 1
            }
        };
        if let Some((_, right, total)) = categories.get_mut(at) {
            *total += 1;
            *right += usize::from(failure.is_none());
        }
        if let Some(failure) = failure {
            wrong.push(format!(
                "  line {} [{}] {}{:?}\n    want {:?}{}\n    got  {failure}",
                row.line,
                row.category,
                row.previous
                    .as_ref()
                    .map(|p| format!("after {p:?}: "))
                    .unwrap_or_default(),
                row.message,
                row.first,
                row.second
                    .as_ref()
                    .map(|s| format!("\n    then {s:?}"))
                    .unwrap_or_default()
            ));
        }
    }
    if !wrong.is_empty() {
        println!("Wrong rows:\n{}\n", wrong.join("\n"));
    }
    let right: usize = categories.iter().map(|c| c.1).sum();
    println!("Phrase table at Mon 2026-12-07 10:00:");
    for (name, ok, total) in &categories {
        println!(
            "  {name:<45} {ok:>3}/{total:<3} {:>5.1} %",
            100.0 * *ok as f64 / *total as f64
        );
    }
    let share = right as f64 / rows.len() as f64;
    println!(
        "  {:<45} {right:>3}/{:<3} {:>5.1} %",
        "overall",
        rows.len(),
        100.0 * share
    );
    println!(
        "Enforced: overall >= {:.0} %, 100 % of {:?}",
        100.0 * MIN_OVERALL,
        MUST_BE_PERFECT
    );
    for (name, ok, total) in &categories {
        if MUST_BE_PERFECT.iter().any(|p| name.starts_with(p)) {
            assert_eq!(ok, total, "every row of {name} must be right");
        }
    }
    println!(
        "Hybrid: {sure} of {} rows ({:.1} %) answered with no model call",
        rows.len(),
        100.0 * sure as f64 / rows.len() as f64
    );
    assert!(
        sure_but_wrong.is_empty(),
        "confident yet wrong or ambiguous (hybrid would answer these without a model):\n{}",
        sure_but_wrong.join("\n")
    );
    assert!(
        share >= MIN_OVERALL,
        "{:.1} % of rows right, below {:.0} %",
        100.0 * share,
        100.0 * MIN_OVERALL
    );
}
