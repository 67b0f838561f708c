//! The OpenAI chat-completions wire format: requests in, completions and
//! stream chunks out. Parsing is lenient (missing optional fields are fine)
//! but wrong types are reported the way OpenAI reports them.

use serde_json::{Map, Value, json};
use todo_common::llm::{Message, Reply, Role, ToolCall, Usage};

/// What the mock needs from a request body.
#[derive(Debug)]
pub(crate) struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    pub stream: bool,
    pub include_usage: bool,
    /// `max_completion_tokens`, else `max_tokens`: reserved by the token
    /// rate limit until the real completion size is known.
    pub max_tokens: Option<u64>,
    /// The two fields as sent, for servers that read only one of them
    /// ([`crate::LimitFields`]).
    pub max_completion_tokens_field: Option<u64>,
    pub max_tokens_field: Option<u64>,
}

/// Model name used when a request names none.
const DEFAULT_MODEL: &str = "mock-gpt";

pub(crate) fn parse_request(body: &Value) -> Result<ChatRequest, String> {
    let Some(object) = body.as_object() else {
        return Err("The request body must be a JSON object.".to_string());
    };
    let model = match object.get("model") {
        None | Some(Value::Null) => DEFAULT_MODEL.to_string(),
        Some(Value::String(model)) if !model.trim().is_empty() => model.clone(),
        Some(_) => return Err("Invalid value for 'model': expected a model name.".to_string()),
    };
    let raw_messages = match object.get("messages") {
        Some(Value::Array(messages)) if !messages.is_empty() => messages,
        Some(Value::Array(_)) => {
            return Err(
                "Invalid 'messages': empty array. Expected at least one message.".to_string(),
            );
        }
        None | Some(Value::Null) => {
            return Err("Missing required parameter: 'messages'.".to_string());
        }
        Some(_) => return Err("Invalid type for 'messages': expected an array.".to_string()),
    };
    let messages = raw_messages
        .iter()
        .enumerate()
        .map(|(at, message)| parse_message(at, message))
        .collect::<Result<Vec<_>, _>>()?;
    let stream = match object.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(stream)) => *stream,
        Some(_) => return Err("Invalid type for 'stream': expected a boolean.".to_string()),
    };
    let include_usage = stream
        && object
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let max_completion_tokens_field = token_limit(object, "max_completion_tokens")?;
    let max_tokens_field = token_limit(object, "max_tokens")?;
    Ok(ChatRequest {
        model,
        messages,
        stream,
        include_usage,
        max_tokens: max_completion_tokens_field.or(max_tokens_field),
        max_completion_tokens_field,
        max_tokens_field,
    })
}

fn token_limit(object: &Map<String, Value>, field: &str) -> Result<Option<u64>, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or_else(|| {
            format!("Invalid value for '{field}': expected a non-negative integer.")
        }),
    }
}

fn parse_message(at: usize, raw: &Value) -> Result<Message, String> {
    let Some(object) = raw.as_object() else {
        return Err(format!(
            "Invalid type for 'messages[{at}]': expected an object."
        ));
    };
    let role = match object.get("role").and_then(Value::as_str) {
        Some("system" | "developer") => Role::System,
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("tool" | "function") => Role::Tool,
        Some(other) => {
            return Err(format!(
                "Invalid value for 'messages[{at}].role': '{other}'. Supported values are: \
                 'system', 'developer', 'user', 'assistant' and 'tool'."
            ));
        }
        None => {
            return Err(format!(
                "Missing required parameter: 'messages[{at}].role'."
            ));
        }
    };
    let content = content_text(at, object.get("content"))?;
    let tool_calls = match (role, object.get("tool_calls")) {
        (Role::Assistant, Some(Value::Array(calls))) => calls
            .iter()
            .enumerate()
            .map(|(i, call)| parse_tool_call(at, i, call))
            .collect::<Result<Vec<_>, _>>()?,
        (_, None | Some(Value::Null)) => Vec::new(),
        (Role::Assistant, Some(_)) => {
            return Err(format!(
                "Invalid type for 'messages[{at}].tool_calls': expected an array."
            ));
        }
        // Only assistants call tools; elsewhere the field means nothing.
        (_, Some(_)) => Vec::new(),
    };
    let tool_call_id = match role {
        Role::Tool => object
            .get("tool_call_id")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    };
    Ok(Message {
        role,
        content,
        tool_calls,
        tool_call_id,
    })
}

/// A string, null, or an array of content parts (their text joined).
fn content_text(at: usize, content: Option<&Value>) -> Result<String, String> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(parts)) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|part| match part {
                    Value::String(text) => Some(text.as_str()),
                    // Images and audio carry no text for the offline model.
                    Value::Object(part) => part.get("text").and_then(Value::as_str),
                    _ => None,
                })
                .collect();
            Ok(texts.join("\n"))
        }
        Some(_) => Err(format!(
            "Invalid type for 'messages[{at}].content': expected a string, an array of content \
             parts or null."
        )),
    }
}

fn parse_tool_call(at: usize, i: usize, raw: &Value) -> Result<ToolCall, String> {
    let function = raw
        .get("function")
        .filter(|f| f.is_object())
        .ok_or_else(|| {
            format!("Missing required parameter: 'messages[{at}].tool_calls[{i}].function'.")
        })?;
    let arguments = match function.get("arguments") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        // Some clients send the object itself; keep it as JSON text.
        Some(other) => other.to_string(),
    };
    Ok(ToolCall {
        id: raw
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        name: function
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        arguments,
    })
}

fn call_chars(calls: &[ToolCall]) -> usize {
    calls
        .iter()
        .map(|c| c.name.chars().count() + c.arguments.chars().count())
        .sum()
}

/// Prompt tokens: a quarter of the characters of all message contents (and
/// of the tool calls assistants made), rounded up.
pub(crate) fn prompt_tokens(messages: &[Message]) -> u64 {
    let chars: usize = messages
        .iter()
        .map(|m| m.content.chars().count() + call_chars(&m.tool_calls))
        .sum();
    u64::try_from(chars.div_ceil(4)).unwrap_or(u64::MAX)
}

/// Tokens estimated as a quarter of the characters, rounded up.
pub(crate) fn estimate_usage(messages: &[Message], reply: &Reply) -> Usage {
    let completion =
        reply.content.as_deref().map_or(0, |c| c.chars().count()) + call_chars(&reply.tool_calls);
    Usage {
        prompt_tokens: u32::try_from(prompt_tokens(messages)).unwrap_or(u32::MAX),
        completion_tokens: u32::try_from(completion.div_ceil(4)).unwrap_or(u32::MAX),
    }
}

fn usage_json(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens.saturating_add(usage.completion_tokens),
    })
}

fn finish_reason(reply: &Reply) -> &'static str {
    if reply.truncated {
        "length"
    } else if reply.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    }
}

/// Identifies one completion in the response and in every chunk.
pub(crate) struct Header<'a> {
    pub id: &'a str,
    pub created: i64,
    pub model: &'a str,
}

/// A `chat.completion` object.
pub(crate) fn completion(header: &Header, reply: &Reply, usage: Usage) -> Value {
    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    message.insert(
        "content".into(),
        reply.content.clone().map_or(Value::Null, Value::String),
    );
    if !reply.tool_calls.is_empty() {
        let calls: Vec<Value> = reply
            .tool_calls
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                })
            })
            .collect();
        message.insert("tool_calls".into(), calls.into());
    }
    json!({
        "id": header.id,
        "object": "chat.completion",
        "created": header.created,
        "model": header.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(reply),
        }],
        "usage": usage_json(usage),
    })
}

/// Server-sent events for a streamed completion, `[DONE]` included. Tool
/// arguments go out `arg_chunk_chars` characters a chunk.
pub(crate) fn stream_events(
    header: &Header,
    reply: &Reply,
    usage: Option<Usage>,
    arg_chunk_chars: usize,
) -> Vec<String> {
    let chunk = |choices: Value, usage: Option<Value>| -> String {
        let mut chunk = json!({
            "id": header.id,
            "object": "chat.completion.chunk",
            "created": header.created,
            "model": header.model,
            "choices": choices,
        });
        if let (Some(usage), Some(object)) = (usage, chunk.as_object_mut()) {
            object.insert("usage".into(), usage);
        }
        format!("data: {chunk}\n\n")
    };
    let delta = |delta: Value| {
        chunk(
            json!([{"index": 0, "delta": delta, "finish_reason": null}]),
            None,
        )
    };

    let mut events = vec![delta(json!({"role": "assistant"}))];
    if let Some(content) = &reply.content {
        events.extend(
            word_pieces(content)
                .into_iter()
                .map(|piece| delta(json!({"content": piece}))),
        );
    }
    for (index, call) in reply.tool_calls.iter().enumerate() {
        events.push(delta(json!({"tool_calls": [{
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }]})));
        events.extend(
            char_pieces(&call.arguments, arg_chunk_chars)
                .into_iter()
                .map(|piece| {
                    delta(
                        json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                    )
                }),
        );
    }
    events.push(chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": finish_reason(reply)}]),
        None,
    ));
    if let Some(usage) = usage {
        events.push(chunk(json!([]), Some(usage_json(usage))));
    }
    events.push("data: [DONE]\n\n".to_string());
    events
}

/// Splits before each run of whitespace that follows a word, so the pieces
/// put back together are the text exactly ("a b" -> "a", " b").
fn word_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if in_word {
                pieces.push(text.get(start..i).unwrap_or_default());
                start = i;
                in_word = false;
            }
        } else {
            in_word = true;
        }
    }
    if start < text.len() {
        pieces.push(text.get(start..).unwrap_or_default());
    }
    pieces
}

/// Pieces of at most `size` characters (never splitting a character).
fn char_pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size.max(1))
        .map(|piece| piece.iter().collect())
        .collect()
}

/// OpenAI's error body.
pub(crate) fn error_body(message: &str, kind: &str, code: Option<&str>) -> Value {
    json!({
        "error": {
            "message": message,
            "type": kind,
            "param": null,
            "code": code,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_pieces_rebuild_the_text() {
        for text in [
            "",
            "one",
            "Added \"call mom\" (task 3).",
            "  lead\nand  trail  ",
            "ж ж",
        ] {
            let pieces = word_pieces(text);
            assert_eq!(pieces.concat(), text);
            assert!(pieces.iter().all(|p| !p.is_empty()));
        }
        assert_eq!(word_pieces("a b  c"), vec!["a", " b", "  c"]);
    }

    #[test]
    fn char_pieces_rebuild_the_text() {
        let text = "{\"title\":\"молоко 🥛\"}";
        assert_eq!(char_pieces(text, 4).concat(), text);
        assert_eq!(char_pieces("", 4), Vec::<String>::new());
    }

    #[test]
    fn content_parts_are_joined() {
        let body = json!({"messages": [
            {"role": "developer", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}, {"type": "text", "text": "b"}]},
            {"role": "user", "content": null},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "list_tasks", "arguments": {"status": "all"}}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "[]"}
        ]});
        let request = parse_request(&body).expect("valid");
        assert_eq!(request.model, DEFAULT_MODEL);
        assert_eq!(request.messages[0].role, Role::System);
        assert_eq!(request.messages[0].content, "a\nb");
        assert_eq!(request.messages[1].content, "");
        assert_eq!(
            request.messages[2].tool_calls[0].arguments,
            "{\"status\":\"all\"}"
        );
        assert_eq!(request.messages[3].tool_call_id.as_deref(), Some("c1"));
        assert!(!request.stream);
        assert_eq!(request.max_tokens, None);
        // "a\nb" + "" + "list_tasks{\"status\":\"all\"}" + "[]" = 3 + 26 + 2 chars.
        assert_eq!(prompt_tokens(&request.messages), 8);
    }

    #[test]
    fn max_completion_tokens_wins_over_max_tokens() {
        let user = json!([{"role": "user", "content": "hi"}]);
        for (extra, expected) in [
            (json!({}), None),
            (json!({"max_tokens": 50}), Some(50)),
            (json!({"max_completion_tokens": 70}), Some(70)),
            (
                json!({"max_tokens": 50, "max_completion_tokens": 70}),
                Some(70),
            ),
            (
                json!({"max_tokens": 50, "max_completion_tokens": null}),
                Some(50),
            ),
        ] {
            let mut body = extra.clone();
            body["messages"] = user.clone();
            let request = parse_request(&body).expect("valid");
            assert_eq!(request.max_tokens, expected, "{extra}");
        }
    }

    #[test]
    fn wrong_shapes_are_errors() {
        for body in [
            json!([]),
            json!({}),
            json!({"messages": []}),
            json!({"messages": "hi"}),
            json!({"messages": [1]}),
            json!({"messages": [{"content": "hi"}]}),
            json!({"messages": [{"role": "wizard", "content": "hi"}]}),
            json!({"messages": [{"role": "user", "content": 5}]}),
            json!({"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}),
            json!({"messages": [{"role": "user", "content": "hi"}], "model": 4}),
            json!({"messages": [{"role": "assistant", "tool_calls": [{"id": "x"}]}]}),
            json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": -1}),
            json!({"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": "9"}),
        ] {
            assert!(parse_request(&body).is_err(), "{body}");
        }
    }
}
