//! The ways real servers go wrong on long answers, over real HTTP: a model
//! that rambles to the output limit, servers that read only one of the two
//! limit fields, a stream that stalls, tool arguments split finely.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Mock, start};

fn request(text: &str) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You manage a to-do list."},
            {"role": "user", "content": text},
        ],
    })
}

fn with(mut body: Value, extra: Value) -> Value {
    for (key, value) in extra.as_object().expect("object") {
        body[key] = value.clone();
    }
    body
}

async fn configure(mock: &Mock, config: Value) {
    let (status, _, body) = mock.post("/_mock/config", &config).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A non-streamed answer: (content, finish_reason, completion tokens).
async fn plain(mock: &Mock, body: &Value) -> (String, String, u64) {
    let (status, _, value) = mock.chat(body).await;
    assert_eq!(status, StatusCode::OK, "{value}");
    let choice = &value["choices"][0];
    (
        choice["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        choice["finish_reason"]
            .as_str()
            .expect("finish")
            .to_string(),
        value["usage"]["completion_tokens"].as_u64().expect("usage"),
    )
}

/// The chunks of a streamed answer (without `[DONE]`).
async fn chunks(mock: &Mock, body: &Value) -> Vec<Value> {
    let body = with(body.clone(), json!({"stream": true}));
    let (status, _, text) = mock
        .post_raw("/v1/chat/completions", &body.to_string())
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    text.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter(|e| *e != "[DONE]")
        .map(|e| serde_json::from_str(e).expect("chunk JSON"))
        .collect()
}

fn finish_of(chunks: &[Value]) -> Option<&str> {
    chunks
        .iter()
        .find_map(|c| c["choices"][0]["finish_reason"].as_str())
}

#[tokio::test]
async fn a_rambling_model_stops_at_the_requested_limit_with_length() {
    let mock = start().await;
    configure(&mock, json!({"behaviour": "ramble"})).await;
    for field in ["max_completion_tokens", "max_tokens"] {
        let body = with(request("hi"), json!({ field: 20 }));
        let (content, finish, tokens) = plain(&mock, &body).await;
        assert_eq!(finish, "length", "{field}");
        assert_eq!(content.chars().count(), 80, "20 tokens of 4 characters");
        assert_eq!(tokens, 20);

        let streamed = chunks(&mock, &body).await;
        let text: String = streamed
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, content, "streamed as answered");
        assert_eq!(finish_of(&streamed), Some("length"));
    }
    // With no limit it goes on for its whole "context", still cut by length.
    let (content, finish, _) = plain(&mock, &request("hi")).await;
    assert_eq!(finish, "length");
    assert!(content.len() > 60_000, "{}", content.len());
}

#[tokio::test]
async fn servers_that_read_only_one_limit_field_ignore_the_other() {
    let mock = start().await;
    let long = |field: &str| with(request("hi"), json!({ field: 10 }));
    for (reads, honoured, ignored) in [
        ("max_tokens", "max_tokens", "max_completion_tokens"),
        (
            "max_completion_tokens",
            "max_completion_tokens",
            "max_tokens",
        ),
    ] {
        configure(
            &mock,
            json!({"behaviour": "ramble", "reads_limit_from": reads}),
        )
        .await;
        let (content, finish, _) = plain(&mock, &long(honoured)).await;
        assert_eq!((content.len(), finish.as_str()), (40, "length"), "{reads}");
        let (content, _, _) = plain(&mock, &long(ignored)).await;
        assert!(content.len() > 60_000, "{reads} ignores {ignored}");
    }
    configure(
        &mock,
        json!({"behaviour": "ramble", "reads_limit_from": "neither"}),
    )
    .await;
    let (content, _, _) = plain(&mock, &long("max_tokens")).await;
    assert!(content.len() > 60_000);
}

#[tokio::test]
async fn the_limit_cuts_a_tool_call_in_the_middle_of_its_arguments() {
    let mock = start().await;
    let body = with(
        request("add buy milk and bread, high priority"),
        json!({"max_tokens": 4}),
    );
    let (status, _, value) = mock.chat(&body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(value["choices"][0]["finish_reason"], "length");
    let arguments = value["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
        .as_str()
        .expect("arguments");
    assert_eq!(arguments.chars().count(), 16);
    assert!(
        serde_json::from_str::<Value>(arguments).is_err(),
        "cut: {arguments}"
    );

    let streamed = chunks(&mock, &body).await;
    assert_eq!(finish_of(&streamed), Some("length"));
}

#[tokio::test]
async fn tool_arguments_can_be_split_one_character_a_chunk() {
    let mock = start().await;
    configure(&mock, json!({"tool_args_chunk_chars": 1})).await;
    let streamed = chunks(&mock, &request("add buy milk")).await;
    let pieces: Vec<&str> = streamed
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .filter(|a| !a.is_empty())
        .collect();
    assert!(pieces.iter().all(|p| p.chars().count() == 1), "{pieces:?}");
    let arguments: Value = serde_json::from_str(&pieces.concat()).expect("whole JSON");
    assert_eq!(arguments["title"], "buy milk");
    assert_eq!(finish_of(&streamed), Some("tool_calls"));
}

#[tokio::test]
async fn a_stalled_stream_sends_some_chunks_then_nothing_and_the_next_is_whole() {
    let mock = start().await;
    let (status, _, body) = mock
        .post("/_mock/fail", &json!({"stall_after_chunks": 2}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = with(request("hi"), json!({"stream": true}));
    let mut response = mock
        .http
        .post(format!("{}/v1/chat/completions", mock.base))
        .json(&body)
        .send()
        .await
        .expect("headers come");
    assert_eq!(response.status(), StatusCode::OK);
    let mut received = String::new();
    // Two chunks arrive, then silence: the read times out, the stream is open.
    let silent = loop {
        match tokio::time::timeout(Duration::from_millis(800), response.chunk()).await {
            Ok(Ok(Some(bytes))) => received.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(other) => panic!("the stream ended: {other:?}"),
            Err(_) => break true,
        }
    };
    assert!(silent);
    assert_eq!(received.matches("data: ").count(), 2, "{received}");
    assert!(!received.contains("[DONE]"));
    drop(response);

    let whole = chunks(&mock, &request("hi")).await;
    assert_eq!(finish_of(&whole), Some("stop"));
}

#[tokio::test]
async fn a_stall_takes_no_status() {
    let mock = start().await;
    let (status, _, _) = mock
        .post(
            "/_mock/fail",
            &json!({"status": 500, "stall_after_chunks": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_request_larger_than_the_context_is_refused_like_openai() {
    let mock = start().await;
    configure(&mock, json!({"context_tokens": 100})).await;
    // "You manage a to-do list." is 24 characters = 6 tokens; 300 more = 75.
    let fits = with(request(&"x".repeat(300)), json!({"max_tokens": 19}));
    let (status, _, value) = mock.chat(&fits).await;
    assert_eq!(status, StatusCode::OK, "{value}");

    let over = with(request(&"x".repeat(300)), json!({"max_tokens": 20}));
    let (status, _, value) = mock.chat(&over).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(value["error"]["code"], "context_length_exceeded");
    assert!(
        value["error"]["message"]
            .as_str()
            .unwrap()
            .contains("maximum context length is 100 tokens"),
        "{value}"
    );
    let (status, _, _) = mock
        .post("/_mock/config", &json!({"context_tokens": 0}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a zero window is refused");
}

#[tokio::test]
async fn tool_calls_can_come_as_text() {
    let mock = start().await;
    configure(&mock, json!({"behaviour": "tool_calls_as_text"})).await;
    let (content, finish, _) = plain(&mock, &request("add buy milk")).await;
    assert_eq!(finish, "stop");
    let json = content
        .strip_prefix("```json\n")
        .and_then(|c| c.strip_suffix("\n```"))
        .unwrap_or_else(|| panic!("fenced: {content}"));
    let call: Value = serde_json::from_str(json).unwrap();
    assert_eq!(call["name"], "add_task");
    assert_eq!(call["arguments"]["title"], "buy milk");
    // Text answers are unchanged.
    let (content, _, _) = plain(&mock, &request("hello")).await;
    assert!(!content.contains("```"), "{content}");
}
