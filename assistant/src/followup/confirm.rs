//! Yes or no. Before deleting every open task the assistant asks, listing
//! their numbers; "yes" in the next message deletes exactly those, "no"
//! leaves them. A yes with no such question acts on nothing.

use super::and_list;
use crate::command::{DeleteScope, delete_example};

/// How the delete-all question ends, as [`delete_all_question`] asks it.
const ASKED: &str = "Say \"yes\" to delete them, or \"no\".";
/// Said when some of them repeat: a yes deletes their whole series.
const SERIES: &str = "Repeating ones go with their whole series.";

/// What a short answer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Said {
    /// "yes", "sure", "go ahead".
    Yes,
    /// "ok", "delete them": a yes after a yes-or-no question, else a
    /// message of its own.
    Okay,
    /// "no", "cancel", "never mind".
    No,
}

/// The question before deleting the open tasks `ids` (the first ones, when
/// there are `total` in all); `repeating` when some of them repeat.
pub(crate) fn delete_all_question(ids: &[i64], total: usize, repeating: bool) -> String {
    let head = match (ids.len(), total) {
        (0, _) => return "You have no open tasks to delete.".to_string(),
        (1, 1) => "Delete your only open task".to_string(),
        (n, total) if n < total => format!("Delete {n} of your {total} open tasks"),
        (n, _) => format!("Delete all {n} open tasks"),
    };
    let numbers: Vec<String> = ids.iter().map(|id| format!("#{id}")).collect();
    let series = if repeating {
        format!(" {SERIES}")
    } else {
        String::new()
    };
    format!("{head} ({})?{series} {ASKED}", numbers.join(", "))
}

/// The command a yes means after `question`, if it asked to delete tasks.
pub(super) fn resolve(question: &str, said: Option<Said>) -> Option<String> {
    if !matches!(said, Some(Said::Yes | Said::Okay)) {
        return None;
    }
    let (asked, _) = question.split_once(ASKED)?;
    // "Delete all 3 open tasks (#1, #2, #5)?"
    let (_, listed) = asked.split_once("(#")?;
    let (listed, _) = listed.split_once(")?")?;
    let ids: Vec<i64> = listed
        .split(", #")
        .map(|id| id.trim().parse().ok())
        .collect::<Option<_>>()?;
    if ids.is_empty() {
        return None;
    }
    let numbers: Vec<String> = ids.iter().map(i64::to_string).collect();
    let numbers = and_list(&numbers);
    let scope = asked.contains(SERIES).then_some(DeleteScope::Series);
    Some(delete_example(&numbers, scope))
}

/// What `answer` says, when it is only a yes or a no.
pub(super) fn said(answer: &str) -> Option<Said> {
    const FILLER: &[&str] = &[
        "please", "oh", "actually", "sorry", "thanks", "thank", "you", "then", "well", "",
    ];
    let lower = answer.to_lowercase().replace('’', "'");
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\''))
        .filter(|w| !FILLER.contains(w))
        .collect();
    match words.join(" ").as_str() {
        "yes"
        | "y"
        | "yep"
        | "yeah"
        | "yup"
        | "ya"
        | "sure"
        | "sure thing"
        | "do it"
        | "yes do it"
        | "go ahead"
        | "yes go ahead"
        | "go for it"
        | "do"
        | "absolutely"
        | "of course"
        | "definitely"
        | "confirm"
        | "confirmed"
        | "proceed"
        | "yes delete them"
        | "yes delete them all"
        | "yes all"
        | "yes all of them"
        | "yes i'm sure"
        | "i'm sure" => Some(Said::Yes),
        "ok" | "okay" | "k" | "alright" | "all right" | "fine" | "correct" | "right"
        | "delete them" | "delete them all" | "delete all of them" | "ok do it" | "okay do it" => {
            Some(Said::Okay)
        }
        "no" | "n" | "nope" | "nah" | "no way" | "cancel" | "no cancel" | "abort" | "stop"
        | "never mind" | "nevermind" | "don't" | "dont" | "do not" | "no don't" | "don't do it"
        | "forget it" | "forget about it" | "leave it" | "leave them" | "keep them" | "not now" => {
            Some(Said::No)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{Said, delete_all_question, resolve, said};

    #[test]
    fn a_yes_deletes_exactly_the_tasks_asked_about() {
        let asked = delete_all_question(&[1, 2, 5], 3, false);
        assert_eq!(
            asked,
            "Delete all 3 open tasks (#1, #2, #5)? Say \"yes\" to delete them, or \"no\"."
        );
        for yes in [
            "yes",
            "Yep!",
            "sure",
            "do it",
            "go ahead",
            "yes please",
            "ok",
        ] {
            let command = resolve(&asked, said(yes));
            assert_eq!(command.as_deref(), Some("delete 1, 2 and 5"), "{yes}");
        }
        let repeating = delete_all_question(&[4], 1, true);
        assert_eq!(
            resolve(&repeating, Some(Said::Yes)).as_deref(),
            Some("delete 4, whole series")
        );
        assert!(delete_all_question(&[1, 2], 150, false).starts_with("Delete 2 of your 150"));
        assert_eq!(
            delete_all_question(&[], 0, false),
            "You have no open tasks to delete."
        );
    }

    #[test]
    fn no_and_anything_else_delete_nothing() {
        let asked = delete_all_question(&[1, 2], 2, false);
        for answer in [
            "no",
            "nope",
            "cancel",
            "never mind",
            "don't",
            "No thanks",
            "3",
            "maybe",
        ] {
            assert_eq!(resolve(&asked, said(answer)), None, "{answer}");
        }
        for no in [
            "no",
            "nope",
            "cancel",
            "never mind",
            "don't",
            "no, thank you",
        ] {
            assert_eq!(said(no), Some(Said::No), "{no}");
        }
        // A yes to an answer that asked nothing.
        assert_eq!(resolve("Deleted \"milk\" (task 3).", Some(Said::Yes)), None);
    }
}
