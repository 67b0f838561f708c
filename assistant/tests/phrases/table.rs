//! Reading `table.txt` (its format is described at its top). Shared by the
//! `phrases` test and the `phrase_bench` example.

#![allow(dead_code)]

use serde_json::Value;

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
    pub message: String,
    pub first: Expect,
    /// After the first round's list_tasks calls are answered from the fixture.
    pub second: Option<Expect>,
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

pub fn rows() -> Result<Vec<Row>, String> {
    let mut rows: Vec<Row> = Vec::new();
    let mut category = String::from("(none)");
    let mut current: Option<(usize, String, Option<Expect>, Option<Expect>)> = None;
    let mut finish = |current: &mut Option<(usize, String, Option<Expect>, Option<Expect>)>,
                      category: &str|
     -> Result<(), String> {
        if let Some((line, message, first, second)) = current.take() {
            let first = first.ok_or(format!("line {line}: a row without an expectation"))?;
            rows.push(Row {
                category: category.to_string(),
                line,
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
        if let Some(name) = line.strip_prefix("## ") {
            finish(&mut current, &category)?;
            category = name.trim().to_string();
        } else if let Some(rest) = line.strip_prefix(">> ") {
            let Some((_, _, _, second)) = current.as_mut() else {
                return Err(format!("line {at}: >> outside a row"));
            };
            push(second, rest, at)?;
        } else if let Some(message) = line.strip_prefix("> ") {
            finish(&mut current, &category)?;
            current = Some((at, message.replace("\\n", "\n"), None, None));
        } else {
            let Some((_, _, first, _)) = current.as_mut() else {
                return Err(format!("line {at}: an expectation outside a row"));
            };
            push(first, line, at)?;
        }
    }
    finish(&mut current, &category)?;
    Ok(rows)
}
