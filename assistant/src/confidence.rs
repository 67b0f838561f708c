//! Whether the offline assistant may answer a message on its own, with no
//! model call (ASSISTANT_MODE=hybrid). Only what it carries out exactly as
//! a good model would at best: adding a task, listing, acting on tasks
//! named by number, and undoing the last change. Anything that needs a
//! lookup by words (which may match several tasks), a follow-up to a
//! question, or small talk goes to the model: a wrong answer given with
//! confidence costs more than a model call.

use chrono::NaiveDateTime;

use crate::command::{Command, Target, parse_command, says_add};

/// True when the offline assistant fully understands `text` (the user's
/// message) at `now` on their wall clock.
pub fn confident(text: &str, now: NaiveDateTime) -> bool {
    match parse_command(text, now) {
        // A bare sentence read as a task ("plan my week") is a guess.
        Command::Add { title, .. } => !title.trim().is_empty() && says_add(text),
        Command::AddMany(tasks) => {
            !tasks.is_empty()
                && tasks.iter().all(|(title, _)| !title.trim().is_empty())
                && says_add(text)
        }
        // Deletes many tasks at once: the model confirms first.
        Command::ClearCompleted => false,
        Command::List { .. } => true,
        Command::Complete { target, .. }
        | Command::Update { target, .. }
        | Command::Delete { target }
        | Command::Skip { target } => matches!(target, Target::Ids(ids) if !ids.is_empty()),
        // Complete as said; which change it undoes is the tool's to find.
        Command::Undo => true,
        Command::Say(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::confident;

    #[test]
    fn commands_it_fully_understands_and_nothing_else() {
        let now = NaiveDate::from_ymd_opt(2026, 12, 7)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        for sure in [
            "add call mom tomorrow",
            "what's still open?",
            "done with 3",
            "delete 4",
            "add milk, eggs and bread",
            "remind me to call mom at 6pm",
            "undo that",
        ] {
            assert!(confident(sure, now), "{sure}");
        }
        for unsure in [
            "hello",
            "can you help me plan my week?",
            "done with the dentist thing",
            "the first one",
            "plan my week",
            "clear completed",
            "",
        ] {
            assert!(!confident(unsure, now), "{unsure}");
        }
    }
}
