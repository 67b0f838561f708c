//! Tool calls a model wrote into its text instead of `tool_calls`.
//!
//! Small local models often answer a tools request with the call as JSON
//! (in a ```` ```json ```` fence or `<tool_call>` tags) that the server's
//! parser does not recognise for that model, so it arrives as the answer's
//! text: the user would read raw JSON and nothing would change. When the
//! whole text is such a call of one of our tools, it is run as one.
//! Anything else, even almost-calls, stays text.

use serde_json::Value;

use super::Tool;
use crate::llm::ToolCall;

/// The calls in `text` when it is nothing but calls of known tools, each
/// given an id `{id_prefix}{index}`.
pub fn calls_written_as_text(text: &str, id_prefix: &str) -> Option<Vec<ToolCall>> {
    let body = unwrap(text.trim());
    let value: Value = serde_json::from_str(body).ok()?;
    let items = match value {
        Value::Array(items) if !items.is_empty() => items,
        Value::Object(_) => vec![value],
        _ => return None,
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = item.get("name")?.as_str()?;
            Tool::from_name(name)?;
            let arguments = match item.get("arguments").or_else(|| item.get("parameters")) {
                None => "{}".to_string(),
                Some(Value::Object(map)) => Value::Object(map.clone()).to_string(),
                // Some models write the arguments as a JSON string, as the wire does.
                Some(Value::String(s)) if s.trim_start().starts_with('{') => s.clone(),
                Some(_) => return None,
            };
            Some(ToolCall {
                id: format!("{id_prefix}{i}"),
                name: name.to_string(),
                arguments,
            })
        })
        .collect()
}

/// The JSON inside one ```` ```json ```` fence or one `<tool_call>` pair.
fn unwrap(text: &str) -> &str {
    if let Some(inner) = text
        .strip_prefix("<tool_call>")
        .and_then(|t| t.strip_suffix("</tool_call>"))
    {
        return inner.trim();
    }
    if let Some(inner) = text.strip_prefix("```").and_then(|t| t.strip_suffix("```")) {
        let inner = inner.strip_prefix("json").unwrap_or(inner);
        return inner.trim();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Option<Vec<(String, String)>> {
        calls_written_as_text(text, "t")
            .map(|calls| calls.into_iter().map(|c| (c.name, c.arguments)).collect())
    }

    #[test]
    fn fenced_tagged_and_bare_calls_are_recognised() {
        let want = Some(vec![(
            "add_task".to_string(),
            r#"{"title":"buy milk"}"#.to_string(),
        )]);
        for text in [
            "```json\n{\"name\": \"add_task\", \"arguments\": {\"title\": \"buy milk\"}}\n```",
            "```\n{\"name\": \"add_task\", \"arguments\": {\"title\": \"buy milk\"}}\n```",
            "<tool_call>\n{\"name\": \"add_task\", \"arguments\": {\"title\": \"buy milk\"}}\n</tool_call>",
            "  {\"name\": \"add_task\", \"parameters\": {\"title\": \"buy milk\"}}  ",
            "{\"name\": \"add_task\", \"arguments\": \"{\\\"title\\\":\\\"buy milk\\\"}\"}",
        ] {
            assert_eq!(names(text), want, "{text}");
        }
    }

    #[test]
    fn several_calls_get_their_own_ids() {
        let calls = calls_written_as_text(
            r#"[{"name": "complete_task", "arguments": {"task_id": 3}}, {"name": "list_tasks"}]"#,
            "text_1_",
        )
        .unwrap();
        assert_eq!(calls[0].id, "text_1_0");
        assert_eq!(calls[1].id, "text_1_1");
        assert_eq!(calls[1].arguments, "{}");
    }

    #[test]
    fn anything_else_stays_text() {
        for text in [
            "Added buy milk (task 3).",
            "Here is the call: {\"name\": \"add_task\", \"arguments\": {}}",
            "{\"name\": \"launch_rockets\", \"arguments\": {}}",
            "{\"title\": \"buy milk\"}",
            "[]",
            "{\"name\": \"add_task\", \"arguments\": 5}",
            "[{\"name\": \"add_task\"}, {\"name\": \"nope\"}]",
            "```json\n{\"name\": \"add_task\"\n```",
        ] {
            assert_eq!(names(text), None, "{text}");
        }
    }
}
