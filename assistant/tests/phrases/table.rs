//! Reading `table.txt` (its format is described at its top). Shared by the
//! `phrases` test and the `phrase_bench` example.

#![allow(dead_code)]

use serde_json::Value;
use todo_common::llm::Message;

/// What one round must be.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// These tool calls, in this order, with exactly these arguments.
    Calls(Vec<(String, Value)>),
    /// A text answer containing this.
    Say(String),
    /// A question (text with a "?", no tool call) naming every candidate.
    Ask(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Row {
    pub category: String,
    pub line: usize,
    /// The assistant's final answer of the turn before, if the row has one.
    pub previous: Option<String>,
    pub message: String,
    pub first: Expect,
    /// After the first round's list_tasks calls are answered from the fixture.
    pub second: Option<Expect>,
}

impl Row {
    /// The conversation of the first round: the previous answer, if any,
    /// then the message.
    pub fn conversation(&self) -> Vec<Message> {
        let mut messages: Vec<Message> = self
            .previous
            .iter()
            .map(|answer| Message::assistant(answer.as_str()))
            .collect();
        messages.push(Message::user(self.message.as_str()));
        messages
    }
}

pub const TABLE: &str = include_str!("table.txt");
pub const FIXTURE: &str = include_str!("fixture.json");

fn push(expect: &mut Option<Expect>, line: &str, at: usize) -> Result<(), String> {
    let line = line.trim();
    let new = if let Some(text) = line.strip_prefix("say:") {
        Expect::Say(text.trim().to_string())
    } else if line == "ask" {
        Expect::Ask(Vec::new())
    } else if let Some(list) = line.strip_prefix("ask:") {
        Expect::Ask(list.split('|').map(|c| c.trim().to_string()).collect())
    } else {
        let (name, args) = line.split_once(' ').unwrap_or((line, "{}"));
        let args: Value =
            serde_json::from_str(args).map_err(|e| format!("line {at}: bad JSON: {e}"))?;
        match expect {
            Some(Expect::Calls(calls)) => {
                calls.push((name.to_string(), args));
                return Ok(());
            }
            Some(_) => return Err(format!("line {at}: a call after say/ask")),
            None => Expect::Calls(vec![(name.to_string(), args)]),
        }
    };
    if expect.is_some() {
        return Err(format!("line {at}: say/ask after another expectation"));
    }
    *expect = Some(new);
    Ok(())
}

/// A row being read: its line, previous answer, message and expectations.
type Reading = (
    usize,
    Option<String>,
    String,
    Option<Expect>,
    Option<Expect>,
);

pub fn rows() -> Result<Vec<Row>, String> {
    let mut rows: Vec<Row> = Vec::new();
    let mut category = String::from("(none)");
    let mut current: Option<Reading> = None;
    // `<` lines read so far: the previous answer of the next row.
    let mut previous: Option<String> = None;
    let mut finish = |current: &mut Option<Reading>, category: &str| -> Result<(), String> {
        if let Some((line, previous, message, first, second)) = current.take() {
            let first = first.ok_or(format!("line {line}: a row without an expectation"))?;
            rows.push(Row {
                category: category.to_string(),
                line,
                previous,
                message,
                first,
                second,
            });
        }
        Ok(())
    };
    for (i, raw) in TABLE.lines().enumerate() {
        let at = i + 1;
        let line = raw.trim_end();
        if line.trim().is_empty() || line.starts_with("//") {
            continue;
        }
        if previous.is_some() && !line.starts_with("< ") && !line.starts_with("> ") {
            return Err(format!("line {at}: a previous answer without a message"));
        }
        if let Some(name) = line.strip_prefix("## ") {
            finish(&mut current, &category)?;
            category = name.trim().to_string();
        } else if let Some(answer) = line.strip_prefix("< ") {
            finish(&mut current, &category)?;
            let answer = answer.replace("\\n", "\n");
            previous = Some(match previous.take() {
                Some(earlier) => format!("{earlier}\n{answer}"),
                None => answer,
            });
        } else if let Some(rest) = line.strip_prefix(">> ") {
            let Some((_, _, _, _, second)) = current.as_mut() else {
                return Err(format!("line {at}: >> outside a row"));
            };
            push(second, rest, at)?;
        } else if let Some(message) = line.strip_prefix("> ") {
            finish(&mut current, &category)?;
            let message = message.replace("\\n", "\n");
            current = Some((at, previous.take(), message, None, None));
        } else {
            let Some((_, _, _, first, _)) = current.as_mut() else {
                return Err(format!("line {at}: an expectation outside a row"));
            };
            push(first, line, at)?;
        }
    }
    finish(&mut current, &category)?;
    Ok(rows)
}
