//! Whether the offline assistant may answer a message on its own, with no
//! model call (ASSISTANT_MODE=hybrid). Only what it carries out exactly as
//! a good model would at best: adding a task, listing, acting on tasks
//! named by number, and undoing the last change. Anything that needs a
//! lookup by words (which may match several tasks), a follow-up to a
//! question, or small talk goes to the model: a wrong answer given with
//! confidence costs more than a model call. Only the message's text is
//! seen, so a message that reads as an answer ("everything", "the whole
//! series") is never sure: the question before it may have been the model's.

use chrono::NaiveDateTime;

use crate::command::{Command, Target, parse_command, says_add};

/// True when the offline assistant fully understands `text` (the user's
/// message) at `now` on their wall clock.
pub fn confident(text: &str, now: NaiveDateTime) -> bool {
    if crate::followup::may_answer(text) {
        return false;
    }
    match parse_command(text, now) {
        // A bare sentence read as a task ("plan my week") is a guess.
        Command::Add { title, .. } => !title.trim().is_empty() && says_add(text),
        Command::AddMany(tasks) => {
            !tasks.is_empty()
                && tasks.iter().all(|(title, _)| !title.trim().is_empty())
                && says_add(text)
        }
        // Deletes many tasks at once: the model confirms first.
        Command::ClearCompleted | Command::DeleteAll => false,
        Command::List { .. } => true,
        Command::Complete { target, .. }
        | Command::Update { target, .. }
        | Command::Delete { target, .. }
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

    fn monday() -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("valid time")
    }

    #[test]
    fn commands_it_fully_understands_and_nothing_else() {
        let now = monday();
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
            "delete everything",
            "",
        ] {
            assert!(!confident(unsure, now), "{unsure}");
        }
    }

    /// Hybrid mode sees the message alone: what only the answer before it
    /// gives a meaning goes to the model, which sees the conversation.
    #[test]
    fn follow_ups_are_never_sure() {
        let now = monday();
        for follow_up in [
            "yes",
            "yes please",
            "go ahead",
            "ok",
            "no",
            "cancel",
            "never mind",
            "8",
            "the second one",
            "the whole series",
            "all of them",
            "everything",
            "just this one",
            "move it to friday",
            "mark it done",
            "skip this one",
            "delete that",
            "make it high priority",
            "rename it to call dad",
            "it's done",
            "I did it",
            "delete the whole series",
        ] {
            assert!(!confident(follow_up, now), "{follow_up}");
        }
        // A scope said with the task's number needs nothing before it.
        assert!(confident("delete 4, whole series", now));
    }
}
