//! The next turn, read against the assistant's last answer. The assistant
//! keeps no state: a question it asks carries what its answer needs (the
//! candidates' numbers, an example command), and the answer becomes that
//! command, carried out exactly as if the user had typed it.
//!
//! - `which`: "Which one do you mean?" answered with "8", "the second one".
//! - `previous`: "move it to friday" after an answer about one task.

mod previous;
mod which;

pub(crate) use previous::task_of;
pub(crate) use which::WHICH_ONE;

/// The command `answer` means after the assistant's last answer `asked`,
/// when it answers the question that answer asked.
pub(crate) fn resolve(asked: &str, answer: &str) -> Option<String> {
    which::resolve(asked, answer)
}
