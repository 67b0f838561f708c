//! Sentences without a command word: "I called mom" (done), "buy paprika"
//! (a new task).

use super::super::{Command, Target};
use super::sentence::Parser;
use super::targets::{ids_only, named};
use super::vocab::TASK_VERBS;
use crate::matching::forms;
use crate::words::{Tok, key_in, words};

/// Past forms that read as the present too: only after "I".
const SAME_IN_PAST: &[&str] = &["read", "put", "set", "cut", "hit", "let", "shut", "quit"];

impl Parser<'_> {
    /// "I called mom", "bought the milk", "I did 3": a task done, named by
    /// what was done.
    pub(super) fn did(&self, toks: &[Tok]) -> Option<Command> {
        let mut rest = toks;
        let mut said_i = false;
        for lead in [
            &["i", "just"][..],
            &["i've", "just"],
            &["i", "have"],
            &["i've"],
            &["i"],
            &["just"],
            &["finally"],
        ] {
            if crate::words::starts_with(rest, lead) {
                rest = rest.get(lead.len()..).unwrap_or_default();
                said_i = true;
                break;
            }
        }
        let verb = rest.first()?;
        // "tax report submitted": the verb last.
        let Some(base) = past_base(&verb.key, said_i) else {
            let last = rest.last()?;
            if rest.len() < 2 || key_in(verb, TASK_VERBS) {
                return None;
            }
            let base = past_base(&last.key, false)?;
            // "the milk is bought"
            let mut head = rest.get(..rest.len() - 1)?;
            while head
                .last()
                .is_some_and(|t| key_in(t, &["is", "are", "was", "were", "been", "has", "got"]))
            {
                head = head.get(..head.len() - 1)?;
            }
            let object = words(self.src, head);
            return Some(Command::Complete {
                target: Target::Title(format!("{base} {object}")),
                done: true,
            });
        };
        let mut object = rest.get(1..).unwrap_or_default();
        // "took care of", "dealt with", "sorted out": say nothing of the task.
        let mut base = base;
        for idiom in [&["care", "of"][..], &["with"], &["out"]] {
            if matches!(base.as_str(), "take" | "deal" | "sort")
                && crate::words::starts_with(object, idiom)
            {
                object = object.get(idiom.len()..).unwrap_or_default();
                base = "do".to_string();
            }
        }
        if let Some(ids) = ids_only(object) {
            return Some(Command::Complete {
                target: Target::Ids(ids),
                done: true,
            });
        }
        // "did the dentist thing": the verb says nothing of the task.
        let says_nothing = matches!(base.as_str(), "do" | "finish" | "complete" | "handle");
        // "I did it": the task of the last answer.
        if says_nothing && let Some(Target::Previous) = named(self.src, object) {
            return Some(Command::Complete {
                target: Target::Previous,
                done: true,
            });
        }
        let object = words(self.src, object);
        let query = if says_nothing {
            object
        } else {
            format!("{base} {object}").trim().to_string()
        };
        Some(Command::Complete {
            target: Target::Title(query),
            done: true,
        })
    }

    /// A sentence that starts with a verb, or that has a due date, time,
    /// priority or tag besides its words: a new task.
    pub(super) fn bare_task(&self, toks: &[Tok]) -> Option<Command> {
        const QUESTIONS: &[&str] = &[
            "what", "what's", "whats", "how", "why", "when", "who", "where", "is", "are", "do",
            "does", "can", "could", "should", "will", "which",
        ];
        let first = toks.first()?;
        if key_in(first, QUESTIONS) {
            return None;
        }
        // "tell me a story", "help me": said to the assistant.
        let to_me = toks.get(1).is_some_and(|t| key_in(t, &["me", "us"]));
        let verb_first = key_in(first, TASK_VERBS) && !to_me;
        let command = self.tasks(toks, false)?;
        let has_mods = match &command {
            Command::Add { mods, .. } => !mods.is_empty(),
            _ => true,
        };
        (verb_first || has_mods).then_some(command)
    }
}

/// The base form of a past-tense verb ("called" → "call"), if it is one.
fn past_base(key: &str, said_i: bool) -> Option<String> {
    if SAME_IN_PAST.contains(&key) {
        return said_i.then(|| key.to_string());
    }
    let forms = forms(key);
    let is_past =
        key.ends_with("ed") || forms.len() > 1 && !key.ends_with('s') && !key.ends_with("ing");
    if !is_past {
        return None;
    }
    forms
        .iter()
        .skip(1)
        .find(|f| TASK_VERBS.contains(&f.as_str()) || crate::matching::is_irregular_base(f))
        .cloned()
}
