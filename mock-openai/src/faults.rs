//! How real servers differ on long answers: which request field they read
//! the output limit from, and what an answer cut at that limit looks like
//! (`finish_reason: "length"`, possibly in the middle of a tool call).

use serde::{Deserialize, Serialize};
use todo_common::llm::Reply;

use crate::wire::ChatRequest;

/// Which request fields the mock honours as the output limit. Servers
/// differ: OpenAI and recent vLLM read both (`max_completion_tokens` wins),
/// Ollama and older llama.cpp read only `max_tokens`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitFields {
    /// `max_completion_tokens`, else `max_tokens`.
    #[default]
    Either,
    /// Only `max_tokens`; `max_completion_tokens` is ignored.
    MaxTokens,
    /// Only `max_completion_tokens`; `max_tokens` is ignored.
    MaxCompletionTokens,
    /// No limit at all: the model writes until it is done.
    Neither,
}

impl LimitFields {
    pub(crate) fn is_either(&self) -> bool {
        *self == Self::Either
    }

    /// The limit this server applies to `request`, if any.
    pub(crate) fn limit(self, request: &ChatRequest) -> Option<u64> {
        match self {
            Self::Either => request
                .max_completion_tokens_field
                .or(request.max_tokens_field),
            Self::MaxTokens => request.max_tokens_field,
            Self::MaxCompletionTokens => request.max_completion_tokens_field,
            Self::Neither => None,
        }
    }
}

/// How long a rambling model goes on when nothing stops it: its "context".
pub(crate) const RAMBLE_MAX_TOKENS: u64 = 16_384;

/// The mock counts four characters a token (as its usage estimate does).
const CHARS_PER_TOKEN: u64 = 4;

/// Text of about `tokens` tokens that never gets to the point.
pub(crate) fn ramble(tokens: u64) -> String {
    const SENTENCE: &str =
        "Let me think about your tasks a little more, because there is always more to say. ";
    let chars = usize::try_from(tokens.saturating_mul(CHARS_PER_TOKEN)).unwrap_or(usize::MAX);
    SENTENCE.chars().cycle().take(chars).collect()
}

/// Cuts `reply` to `limit` tokens the way a server does when the limit is
/// reached: text first, then tool calls in order, the last one possibly in
/// the middle of its arguments; the reply is then marked truncated
/// (`finish_reason: "length"`). Nothing happens within the limit.
pub(crate) fn apply_limit(mut reply: Reply, limit: Option<u64>) -> Reply {
    let Some(limit) = limit else { return reply };
    let mut budget = usize::try_from(limit.saturating_mul(CHARS_PER_TOKEN)).unwrap_or(usize::MAX);
    let mut cut = false;
    if let Some(content) = &mut reply.content {
        let length = content.chars().count();
        if length > budget {
            *content = content.chars().take(budget).collect();
            cut = true;
        }
        budget = budget.saturating_sub(length);
    }
    let mut kept = Vec::new();
    for mut call in std::mem::take(&mut reply.tool_calls) {
        if cut {
            break;
        }
        let length = call.arguments.chars().count();
        if length > budget {
            call.arguments = call.arguments.chars().take(budget).collect();
            cut = true;
        }
        budget = budget.saturating_sub(length);
        kept.push(call);
    }
    reply.tool_calls = kept;
    reply.truncated |= cut;
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_common::llm::ToolCall;

    fn call(arguments: &str) -> ToolCall {
        ToolCall {
            id: "c".into(),
            name: "add_task".into(),
            arguments: arguments.into(),
        }
    }

    #[test]
    fn within_the_limit_nothing_changes() {
        let reply = Reply {
            content: Some("short".into()),
            ..Reply::default()
        };
        assert_eq!(apply_limit(reply.clone(), Some(2)), reply);
        assert_eq!(apply_limit(reply.clone(), None), reply);
    }

    #[test]
    fn text_and_tool_calls_are_cut_at_the_limit() {
        let text = Reply {
            content: Some(ramble(100)),
            ..Reply::default()
        };
        let cut = apply_limit(text, Some(10));
        assert_eq!(cut.content.as_deref().map(str::len), Some(40));
        assert!(cut.truncated);

        let calls = Reply {
            tool_calls: vec![call(r#"{"title":"buy milk"}"#), call(r#"{"title":"x"}"#)],
            ..Reply::default()
        };
        let cut = apply_limit(calls, Some(3));
        assert!(cut.truncated);
        assert_eq!(cut.tool_calls.len(), 1, "the second call never started");
        assert_eq!(cut.tool_calls[0].arguments, r#"{"title":"bu"#);
    }
}
