//! The next turn, read against the assistant's last answer. The assistant
//! keeps no state: a question it asks carries what its answer needs (the
//! candidates' numbers, an example command), and the answer becomes that
//! command, carried out exactly as if the user had typed it.
//!
//! - `which`: "Which one do you mean?" answered with "8", "the second one".
//! - `previous`: "move it to friday" after an answer about one task.
//! - `scope`: "Delete only this occurrence or the whole series?" of a
//!   repeating task, answered with "the whole series", "just this one".
//! - `confirm`: "Delete all 11 open tasks (#1, ...)?" answered with "yes"
//!   or "no"; a no to any question changes nothing.

mod confirm;
mod previous;
mod scope;
mod which;

use crate::command::help_text;
use confirm::Said;

pub(crate) use confirm::delete_all_question;
pub(crate) use previous::task_of;
pub(crate) use scope::question as scope_question;
pub(crate) use which::WHICH_ONE;

/// The answer to a no: nothing was done.
const LEFT_AS_IS: &str = "OK, I left your tasks as they are.";

/// What the user's message means after the assistant's last answer.
pub(crate) enum Followup {
    /// This command, as if the user had typed it.
    Command(String),
    /// Nothing to do but answer this.
    Say(String),
}

/// What `answer` means after the assistant's last answer `asked`, when it
/// answers a question or is a bare yes or no; `None`: a message of its own.
pub(crate) fn resolve(asked: Option<&str>, answer: &str) -> Option<Followup> {
    let said = confirm::said(answer);
    // A no, to whatever was asked (or nothing), changes nothing.
    if said == Some(Said::No) {
        return Some(Followup::Say(LEFT_AS_IS.to_string()));
    }
    let command = asked.and_then(|asked| {
        which::resolve(asked, answer)
            .or_else(|| scope::resolve(asked, answer))
            .or_else(|| confirm::resolve(asked, said))
    });
    match command {
        Some(command) => Some(Followup::Command(command)),
        // "yes" when nothing waits for one: never a guess at what to do.
        None if said == Some(Said::Yes) => Some(Followup::Say(help_text(
            "Nothing I asked needs a yes or no. ",
        ))),
        None => None,
    }
}

/// Whether `text` reads as an answer to a question ("yes", "everything",
/// "just this one"): what it means depends on the question before it.
pub(crate) fn may_answer(text: &str) -> bool {
    confirm::said(text).is_some() || scope::chosen(text).is_some()
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}
