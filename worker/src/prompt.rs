//! The system prompt: what the assistant is and how it should use the tools.

use todo_common::tools::Tool;

use crate::clock::UserNow;

/// The same for every user and turn: a prefix a provider (or a local
/// server's prompt cache) keeps. The user's date and time go with their
/// message instead ([`with_clock`]): at the end of this prompt they changed
/// it every minute, and Qwen's template puts the tool schemas after it, so
/// llama.cpp evaluated the whole ~2,000-token prompt on every turn
/// (docs/models.md, Run E).
pub fn system() -> String {
    format!(
        "You are Todo Chat, an assistant that manages the user's to-do list. \
         Use the tools for every read or change of tasks: {tools}. Never invent task numbers: \
         look tasks up with {list} when \
         the user names a task by its title. Due dates are YYYY-MM-DD or RFC 3339 timestamps \
         (a time of day with the user's UTC offset); resolve words like \"tomorrow\", \"Friday\" \
         or \"at 5pm\" against the user's date and time, given after their message. If a request is \
         ambiguous, ask one short question: when words match several tasks, name them with \
         their numbers and ask which; before a change to many tasks, ask. To undo your last \
         change, call {undo} rather than changing tasks back yourself. Listings come 25 \
         at a time with the true totals: state those totals. Change only what the user asked for. Once the tool \
         results answer the request, reply in words instead of calling more tools. Answer \
         briefly and say what you did, with task numbers, claiming only changes a tool result \
         confirmed.",
        tools = Tool::ALL.map(Tool::name).join(", "),
        list = Tool::ListTasks.name(),
        undo = Tool::UndoLastChange.name(),
    )
}

/// The user's message as the model reads it: their words, then when they
/// sent it on their own clock.
pub fn with_clock(content: &str, now: &UserNow) -> String {
    todo_common::llm::stamp(content, now.local().fixed_offset(), &now.zone.to_string())
}

#[cfg(test)]
mod tests {
    use todo_common::domain::TimeZone;

    use super::*;

    #[test]
    fn the_message_carries_the_users_own_date_time_and_offset() {
        // 22:30 UTC on Sunday 29 March 2026 is already Monday 00:30 in
        // Berlin, on summer time since that night.
        let now = UserNow {
            instant: "2026-03-29T22:30:00Z".parse().unwrap(),
            zone: TimeZone::parse("Europe/Berlin").unwrap(),
        };
        let message = with_clock("add call mom tomorrow", &now);
        assert_eq!(
            message,
            "add call mom tomorrow\n\n(Sent Monday, 2026-03-30, 00:30 in my time zone, \
             Europe/Berlin (UTC+02:00).)"
        );
    }
}
