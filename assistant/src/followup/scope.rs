//! Deleting a repeating task: only this occurrence, or the whole series?
//! delete_task refuses a repeating task without a `scope` and says why; the
//! assistant then asks, offering the two commands that answer it, and reads
//! the next message ("the whole series", "just this one") as one of them.

use serde_json::Value;
use todo_common::llm::{Message, Role};
use todo_common::tools::Tool;

use super::and_list;
use crate::command::{DeleteScope, delete_example};
use crate::compose::{compose, error_of, int_field, subject, task_items};
use crate::{ToolResult, found_tasks};

/// The question's words, as [`question`] asks it.
const ASKED: &str = "Delete only this occurrence (skip to the next) or the whole series?";

/// A repeating task the tool would not delete without a scope.
struct Refused {
    id: i64,
    title: Option<String>,
    /// "every Wednesday", when a lookup this turn said so.
    repeats: Option<String>,
}

/// When a delete of a repeating task was refused for want of a scope: the
/// other results, then the question. `earlier` is this turn's messages,
/// whose lookups may tell the task's title and rule.
pub(crate) fn question(results: &[ToolResult], earlier: &[Message]) -> Option<String> {
    let mut refused: Vec<(i64, String)> = Vec::new();
    let mut others: Vec<ToolResult> = Vec::new();
    for result in results {
        match refusal(result) {
            Some(refusal) => refused.push(refusal),
            None => others.push(*result),
        }
    }
    if refused.is_empty() {
        return None;
    }
    let seen: Vec<Value> = earlier
        .iter()
        .filter(|m| m.role == Role::Tool)
        .filter_map(|m| serde_json::from_str(m.content.trim()).ok())
        .collect();
    let rows: Vec<_> = seen
        .iter()
        .filter_map(task_items)
        .flat_map(found_tasks)
        .collect();
    let refused: Vec<Refused> = refused
        .into_iter()
        .map(|(id, why)| {
            let row = rows.iter().find(|t| t.id == id);
            Refused {
                id,
                title: row
                    .map(|t| t.title.to_string())
                    .or_else(|| title_in_refusal(&why)),
                repeats: row.and_then(|t| t.repeats).map(str::to_string),
            }
        })
        .collect();
    let subjects: Vec<String> = refused
        .iter()
        .map(|r| subject(r.title.as_deref(), Some(r.id)))
        .collect();
    let head = match refused.as_slice() {
        [one] => match &one.repeats {
            Some(rule) => format!("{} repeats {rule}.", and_list(&subjects)),
            None => format!("{} repeats.", and_list(&subjects)),
        },
        _ => format!("{} repeat.", and_list(&subjects)),
    };
    let ids: Vec<String> = refused.iter().map(|r| r.id.to_string()).collect();
    let ids = and_list(&ids);
    let asked = format!(
        "{head} {ASKED} Say \"{}\" or \"{}\".",
        delete_example(&ids, Some(DeleteScope::Occurrence)),
        delete_example(&ids, Some(DeleteScope::Series)),
    );
    Some(if others.is_empty() {
        asked
    } else {
        format!("{}\n{asked}", compose(&others))
    })
}

/// The task a delete was refused for and why, when the refusal is for
/// want of a scope (the tool names the argument it needs).
fn refusal(result: &ToolResult) -> Option<(i64, String)> {
    let call = result.call?;
    if Tool::from_name(&call.name) != Some(Tool::DeleteTask) {
        return None;
    }
    let args: Value = serde_json::from_str(&call.arguments).ok()?;
    if args.get("scope").is_some() {
        return None;
    }
    let value: Value = serde_json::from_str(result.content.trim()).ok()?;
    let why = error_of(&value).filter(|e| e.starts_with("scope:"))?;
    Some((int_field(&args, &["task_id"])?, why))
}

/// `Gym` of `scope: task 4 ("Gym") repeats: ...`.
fn title_in_refusal(why: &str) -> Option<String> {
    let (_, rest) = why.split_once("(\"")?;
    let (title, _) = rest.rsplit_once("\") repeats")?;
    Some(title.to_string())
}

/// The command `answer` means after `question`, if it picks a scope.
pub(super) fn resolve(question: &str, answer: &str) -> Option<String> {
    let (_, offered) = question.split_once(ASKED)?;
    // Say "delete 4, just this one" or "delete 4, whole series".
    let mut quoted = offered.split('"').skip(1).step_by(2);
    let (occurrence, series) = (quoted.next()?, quoted.next()?);
    Some(match chosen(answer)? {
        DeleteScope::Occurrence => occurrence.to_string(),
        DeleteScope::Series => series.to_string(),
    })
}

/// The scope `answer` picks: "the whole series", "all of them", "just this
/// one", "only today's".
pub(super) fn chosen(answer: &str) -> Option<DeleteScope> {
    const FILLER: &[&str] = &[
        "the", "just", "only", "please", "delete", "remove", "yes", "ok", "okay", "it", "",
    ];
    let lower = answer.to_lowercase();
    let words: Vec<&str> = lower
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\''))
        .filter(|w| !FILLER.contains(w))
        .collect();
    match words.join(" ").as_str() {
        "whole series" | "entire series" | "series" | "whole thing" | "all of them"
        | "them all" | "all" | "everything" | "all occurrences" | "every occurrence"
        | "all of it" => Some(DeleteScope::Series),
        "this one" | "this" | "this occurrence" | "occurrence" | "this time" | "this once"
        | "once" | "today's" | "today's one" | "today" | "skip" | "next" => {
            Some(DeleteScope::Occurrence)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;

    const ASKED: &str = "\"Gym\" (task 4) repeats every Monday. Delete only this occurrence \
                         (skip to the next) or the whole series? Say \"delete 4, just this one\" \
                         or \"delete 4, whole series\".";

    #[test]
    fn the_answer_picks_the_occurrence_or_the_series() {
        for answer in [
            "the whole series",
            "All of them",
            "series",
            "everything",
            "delete the whole series please",
        ] {
            let command = resolve(ASKED, answer);
            assert_eq!(
                command.as_deref(),
                Some("delete 4, whole series"),
                "{answer}"
            );
        }
        for answer in [
            "just this one",
            "only this one",
            "this one",
            "just today's",
            "Just this once.",
        ] {
            let command = resolve(ASKED, answer);
            assert_eq!(
                command.as_deref(),
                Some("delete 4, just this one"),
                "{answer}"
            );
        }
    }

    #[test]
    fn anything_else_is_not_an_answer() {
        for answer in [
            "yes",
            "4",
            "the first one",
            "delete 3",
            "all but this one",
            "",
        ] {
            assert_eq!(resolve(ASKED, answer), None, "{answer}");
        }
        assert_eq!(
            resolve("Deleted \"Gym\" (task 4).", "the whole series"),
            None
        );
    }
}
