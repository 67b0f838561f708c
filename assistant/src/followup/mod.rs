//! The next turn, read against the assistant's last answer. The assistant
//! keeps no state: a question it asks carries what its answer needs (the
//! candidates' numbers, an example command), and the answer becomes that
//! command, carried out exactly as if the user had typed it.
//!
//! - `which`: "Which one do you mean?" answered with "8", "the second one".
//! - `previous`: "move it to friday" after an answer about one task.
//! - `scope`: "Delete only this occurrence or the whole series?" of a
//!   repeating task, answered with "the whole series", "just this one".

mod previous;
mod scope;
mod which;

pub(crate) use previous::task_of;
pub(crate) use scope::question as scope_question;
pub(crate) use which::WHICH_ONE;

/// The command `answer` means after the assistant's last answer `asked`,
/// when it answers the question that answer asked.
pub(crate) fn resolve(asked: &str, answer: &str) -> Option<String> {
    which::resolve(asked, answer).or_else(|| scope::resolve(asked, answer))
}

/// Whether `text` reads as an answer to a question ("everything", "just
/// this one"): what it means depends on the question before it.
pub(crate) fn may_answer(text: &str) -> bool {
    scope::chosen(text).is_some()
}
