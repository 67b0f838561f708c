//! "it", "that", "this one": the task the assistant's last answer was
//! about, when that answer named exactly one task by its number, as the
//! final answers do ("Added \"call mom\" (task 12).", "Updated task 3: ...",
//! a listing of one: "- #3 Buy milk").

/// The number of the one task `answer` names; `None` when it names none
/// or several.
pub(crate) fn task_of(answer: &str) -> Option<i64> {
    let mut named: Vec<i64> = Vec::new();
    for line in answer.lines().map(str::trim) {
        let mut found = Vec::new();
        if let Some(listed) = line.strip_prefix("- #") {
            found.push(leading_number(listed));
        } else {
            found.extend(
                line.match_indices("(task ")
                    .map(|(at, said)| line.get(at + said.len()..).and_then(leading_number)),
            );
            found.extend(line.strip_prefix("Updated task ").map(leading_number));
        }
        for id in found.into_iter().flatten() {
            if !named.contains(&id) {
                named.push(id);
            }
        }
    }
    match named.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// `12` of `12) ...`.
fn leading_number(text: &str) -> Option<i64> {
    let digits = text.split(|c: char| !c.is_ascii_digit()).next()?;
    digits.parse().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::task_of;

    #[test]
    fn an_answer_about_one_task_names_it() {
        for (answer, id) in [
            ("Added \"call mom\" (task 12), due 2026-12-08.", 12),
            ("Marked \"Buy milk\" (task 3) as done.", 3),
            ("Updated task 5: \"Dentist\", due 2026-12-11.", 5),
            ("Updated task 5.", 5),
            (
                "Skipped this one of \"Gym\" (task 4); next due 2026-12-14.",
                4,
            ),
            ("1 open task matches \"milk\":\n- #3 Buy milk", 3),
        ] {
            assert_eq!(task_of(answer), Some(id), "{answer}");
        }
    }

    #[test]
    fn an_answer_about_several_tasks_or_none_names_none() {
        for answer in [
            "Marked \"a\" (task 3) as done.\nMarked \"b\" (task 5) as done.",
            "I found 2 tasks matching \"call\":\n- #1 Call mom\n- #8 Call plumber\n\
             Which one do you mean? Tell me its number, e.g. \"complete 1\".",
            "I couldn't do that: task 42 not found.",
            "You have no open tasks.",
            "Added \"see (task 7) notes\" (task 12).",
            "",
        ] {
            assert_eq!(task_of(answer), None, "{answer}");
        }
    }
}
