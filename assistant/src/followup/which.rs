//! The answer to "Which one do you mean?". When words matched several
//! tasks the assistant asked it with the candidates and an example command;
//! the user answers "8", "#8", "the second one", "the last one" or words of
//! one title ("the plumber"). The answer becomes the example command for
//! the chosen task.

use crate::matching;

/// The question's words, as `pick` asks it.
pub(crate) const WHICH_ONE: &str = "Which one do you mean?";

/// The command `answer` means after `question`, if it answers it.
pub(crate) fn resolve(question: &str, answer: &str) -> Option<String> {
    if !question.contains(WHICH_ONE) {
        return None;
    }
    let candidates: Vec<(i64, &str)> = question
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- #"))
        .filter_map(|rest| {
            let (number, title) = rest.split_once(' ')?;
            Some((number.parse().ok()?, title))
        })
        .collect();
    let (_, example) = question.rsplit_once("e.g. \"")?;
    let example = example.trim_end().strip_suffix("\".")?;
    let offered = candidates.first()?.0.to_string();
    let chosen = choose(&candidates, answer)?;
    // The example names the first candidate: name the chosen one instead.
    let mut swapped = false;
    let words: Vec<String> = example
        .split(' ')
        .map(|word| {
            if !swapped && word == offered {
                swapped = true;
                chosen.to_string()
            } else {
                word.to_string()
            }
        })
        .collect();
    swapped.then(|| words.join(" "))
}

fn choose(candidates: &[(i64, &str)], answer: &str) -> Option<i64> {
    let lower = answer.trim().to_lowercase();
    let mut words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    words.retain(|w| {
        !matches!(
            *w,
            "the" | "one" | "please" | "number" | "task" | "i" | "mean" | "it's" | "its"
        )
    });
    if let [word] = words.as_slice() {
        if let Ok(id) = word.parse::<i64>() {
            return candidates.iter().any(|(c, _)| *c == id).then_some(id);
        }
        let at = match *word {
            "first" | "1st" => Some(0),
            "second" | "2nd" => Some(1),
            "third" | "3rd" => Some(2),
            "fourth" | "4th" => Some(3),
            "fifth" | "5th" => Some(4),
            "last" => candidates.len().checked_sub(1),
            _ => None,
        };
        if let Some(at) = at {
            return candidates.get(at).map(|(id, _)| *id);
        }
    }
    if words.is_empty() {
        return None;
    }
    // Words of exactly one candidate's title.
    let said = words.join(" ");
    let mut matching = candidates
        .iter()
        .filter(|(_, title)| matching::title_match(&said, title).is_some());
    match (matching.next(), matching.next()) {
        (Some((id, _)), None) => Some(*id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;

    const ASKED: &str = "I found 2 tasks matching \"call\":\n- #1 Call mom\n- #8 Call plumber\n\
                         Which one do you mean? Tell me its number, e.g. \"complete 1\".";

    #[test]
    fn numbers_ordinals_and_titles_pick_a_candidate() {
        for (answer, want) in [
            ("8", "complete 8"),
            ("#8", "complete 8"),
            ("number 1", "complete 1"),
            ("the second one", "complete 8"),
            ("The first one, please", "complete 1"),
            ("the last one", "complete 8"),
            ("the plumber", "complete 8"),
            ("call mom", "complete 1"),
        ] {
            assert_eq!(resolve(ASKED, answer).as_deref(), Some(want), "{answer}");
        }
    }

    #[test]
    fn anything_else_is_not_an_answer() {
        for answer in ["5", "the third one", "call", "add milk", "", "yes"] {
            assert_eq!(resolve(ASKED, answer), None, "{answer}");
        }
        assert_eq!(resolve("You have 2 open tasks:", "8"), None);
        let renamed = ASKED.replace("complete 1", "rename 1 to call dad");
        assert_eq!(
            resolve(&renamed, "2nd").as_deref(),
            Some("rename 8 to call dad")
        );
    }
}
