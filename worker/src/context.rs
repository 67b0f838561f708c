//! What of a conversation's history fits the model's context window.
//!
//! A model server refuses a request whose prompt plus output limit exceeds
//! its context (OpenAI and llama.cpp answer 400; Ollama silently drops the
//! start). Without a budget a long conversation fails every later turn, so
//! with `OPENAI_CONTEXT_TOKENS` set the oldest history is left out until
//! the request fits. Nothing of the current turn is ever left out.

use todo_common::llm::Message;

/// Characters per token for fitting. Real tokenizers give about 4 for
/// English prose but fewer for JSON, code and other languages; an overshoot
/// fails the turn while an undershoot only drops an old message, so this
/// errs low.
const CHARS_PER_TOKEN: usize = 3;
/// Role markers and separators a chat template adds around each message.
const TOKENS_PER_MESSAGE: usize = 8;

/// Estimated tokens of messages as a chat template renders them.
pub fn tokens<'m>(messages: impl IntoIterator<Item = &'m Message>) -> usize {
    messages
        .into_iter()
        .map(|m| {
            let chars = m.content.len()
                + m.tool_calls
                    .iter()
                    .map(|c| c.name.len() + c.arguments.len())
                    .sum::<usize>();
            chars.div_ceil(CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE
        })
        .sum()
}

/// Estimated tokens of the tool schemas sent with every request.
pub fn tool_tokens(schema_chars: usize) -> usize {
    schema_chars.div_ceil(CHARS_PER_TOKEN)
}

/// The newest part of `history` that fits in `budget` tokens, starting with
/// a user message (chat templates expect user and assistant to alternate
/// from a user message).
pub fn fit(history: &[Message], budget: usize) -> &[Message] {
    let mut used = 0;
    let mut start = history.len();
    for (i, message) in history.iter().enumerate().rev() {
        used += tokens([message]);
        if used > budget {
            break;
        }
        start = i;
    }
    let kept = &history[start..];
    let first_user = kept
        .iter()
        .position(|m| m.role == todo_common::llm::Role::User)
        .unwrap_or(kept.len());
    &kept[first_user..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(turns: usize, chars: usize) -> Vec<Message> {
        (0..turns)
            .flat_map(|i| {
                [
                    Message::user(format!("{i}{}", "q".repeat(chars))),
                    Message::assistant(format!("{i}{}", "a".repeat(chars))),
                ]
            })
            .collect()
    }

    #[test]
    fn everything_fits_a_large_budget() {
        let history = conversation(5, 30);
        assert_eq!(fit(&history, 100_000).len(), 10);
        assert!(fit(&[], 0).is_empty());
    }

    #[test]
    fn the_oldest_go_first_and_the_rest_starts_with_a_user_message() {
        // Each message: 300 characters = 100 tokens + 8.
        let history = conversation(5, 299);
        let one = tokens(&history[..1]);
        assert_eq!(one, 108);
        // Room for three messages: the newest three are an answer, a
        // question and an answer; the lone answer is left out as well.
        let kept = fit(&history, one * 3 + 10);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].content, history[8].content);
        assert_eq!(kept[1].content, history[9].content);
        // Room for four: two whole turns.
        assert_eq!(fit(&history, one * 4), &history[6..]);
    }

    #[test]
    fn no_room_leaves_no_history() {
        let history = conversation(2, 3_000);
        assert!(fit(&history, 50).is_empty());
    }

    #[test]
    fn tool_calls_count() {
        let mut with_call = Message::assistant(String::new());
        with_call.tool_calls.push(todo_common::llm::ToolCall {
            id: "c1".into(),
            name: "add_task".into(),
            arguments: "x".repeat(292),
        });
        assert_eq!(tokens(&[with_call]), 100 + 8);
    }
}
