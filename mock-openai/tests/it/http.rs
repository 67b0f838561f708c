//! mock-openai over real HTTP: `serve` on a random local port, requests
//! with reqwest, as the worker's OpenAI client would send them.

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use mock_openai::{Behaviour, Failure, MockConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Mock, start};

impl Mock {
    /// A successful non-streaming completion's message.
    async fn message(&self, body: &Value) -> Value {
        let (status, _, value) = self.chat(body).await;
        assert_eq!(status, StatusCode::OK, "{value}");
        value["choices"][0]["message"].clone()
    }

    async fn stats(&self) -> Value {
        self.get("/_mock/stats").await
    }
}

const ADD: &str = "add call mom tomorrow, high priority";

/// A request as the agent sends it: system prompt, tools, the user's text.
fn request(text: &str) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You manage a to-do list."},
            {"role": "user", "content": text},
        ],
        "tools": [{"type": "function", "function": {"name": "add_task", "parameters": {"type": "object"}}}],
        "tool_choice": "auto",
    })
}

/// `request(text)` continued with the assistant's `message` and one tool
/// result per call.
fn continued(text: &str, message: &Value, results: &[Value]) -> Value {
    let mut body = request(text);
    let calls = message["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let messages = body["messages"].as_array_mut().expect("messages");
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": calls}));
    for (call, result) in calls.iter().zip(results) {
        messages.push(json!({
            "role": "tool",
            "tool_call_id": call["id"],
            "content": result.to_string(),
        }));
    }
    body
}

fn args_of(call: &Value) -> Value {
    let text = call["function"]["arguments"]
        .as_str()
        .expect("arguments text");
    serde_json::from_str(text).expect("arguments are JSON")
}

fn created_result() -> Value {
    let tomorrow = Utc::now().date_naive() + Days::new(1);
    json!({"task_id": 12, "status": "created", "title": "call mom",
           "due_date": tomorrow.to_string(), "due_at": null, "priority": "high", "completed": false})
}

#[tokio::test]
async fn an_add_request_gets_an_add_task_call() {
    let mock = start().await;
    let before = Utc::now().date_naive();
    let (status, headers, body) = mock.chat(&request(ADD)).await;
    let after = Utc::now().date_naive();
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    assert!(body["id"].as_str().expect("id").starts_with("chatcmpl-"));
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert!(body["created"].as_i64().expect("created") > 1_700_000_000);
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], Value::Null);
    let calls = choice["message"]["tool_calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 1);
    assert!(calls[0]["id"].as_str().expect("id").starts_with("call_"));
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "add_task");
    let args = args_of(&calls[0]);
    let due = [before, after].map(|d| (d + Days::new(1)).to_string());
    assert!(due.iter().any(|d| args["due_date"] == *d), "{args}");
    assert_eq!(
        args,
        json!({"title": "call mom", "due_date": args["due_date"], "priority": "high"})
    );
    let usage = &body["usage"];
    let prompt = usage["prompt_tokens"].as_u64().expect("prompt");
    let completion = usage["completion_tokens"].as_u64().expect("completion");
    assert!(prompt > 0 && completion > 0);
    assert_eq!(usage["total_tokens"].as_u64(), Some(prompt + completion));
}

#[tokio::test]
async fn a_tool_result_gets_the_final_text() {
    let mock = start().await;
    let first = mock.message(&request(ADD)).await;
    let (status, _, body) = mock
        .chat(&continued(ADD, &first, &[created_result()]))
        .await;
    assert_eq!(status, StatusCode::OK);
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "stop");
    let tomorrow = Utc::now().date_naive() + Days::new(1);
    assert_eq!(
        choice["message"]["content"],
        format!("Added \"call mom\" (task 12), due {tomorrow}, high priority.")
    );
    assert!(choice["message"].get("tool_calls").is_none());
}

#[tokio::test]
async fn content_parts_and_the_short_path_work() {
    let mock = start().await;
    let body = json!({
        "model": "m",
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": [{"type": "text", "text": "delete 7"}]},
        ],
    });
    let (status, _, value) = mock.post("/chat/completions", &body).await;
    assert_eq!(status, StatusCode::OK, "{value}");
    let call = &value["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "delete_task");
    assert_eq!(args_of(call), json!({"task_id": 7}));
}

/// The `data:` payloads of an event stream, checked for framing.
fn events(body: &str) -> Vec<String> {
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    body.split("\n\n")
        .filter(|event| !event.is_empty())
        .map(|event| {
            event
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data line: {event:?}"))
                .to_string()
        })
        .collect()
}

async fn stream(mock: &Mock, mut body: Value, include_usage: bool) -> Vec<Value> {
    body["stream"] = json!(true);
    if include_usage {
        body["stream_options"] = json!({"include_usage": true});
    }
    let (status, headers, text) = mock
        .post_raw("/v1/chat/completions", &body.to_string())
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers["content-type"], "text/event-stream");
    let events = events(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).expect("chunk JSON"))
        .collect();
    let id = chunks[0]["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("chatcmpl-"));
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], id.as_str());
        assert_eq!(chunk["model"], "gpt-4o-mini");
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant"})
    );
    chunks
}

#[tokio::test]
async fn streamed_text_equals_the_plain_answer() {
    let mock = start().await;
    let first = mock.message(&request(ADD)).await;
    let body = continued(ADD, &first, &[created_result()]);
    let plain = mock.message(&body).await["content"]
        .as_str()
        .expect("text")
        .to_string();

    let chunks = stream(&mock, body, true).await;
    let content: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(content.len() > 3, "split by words: {content:?}");
    assert_eq!(content.concat(), plain);
    // Then the finish chunk, then usage with no choices.
    let n = chunks.len();
    assert_eq!(chunks[n - 2]["choices"][0]["delta"], json!({}));
    assert_eq!(chunks[n - 2]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[n - 1]["choices"], json!([]));
    let usage = &chunks[n - 1]["usage"];
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(
            usage["prompt_tokens"].as_u64().expect("prompt")
                + usage["completion_tokens"].as_u64().expect("completion")
        )
    );
    assert!(
        chunks[..n - 1].iter().all(|c| c.get("usage").is_none()),
        "usage only at the end"
    );
}

#[tokio::test]
async fn streamed_tool_calls_reassemble() {
    let mock = start().await;
    let chunks = stream(&mock, request("complete 3 and 5"), false).await;
    // Reassemble as a client does: by index, id/name once, arguments appended.
    let mut calls: Vec<(String, String, String)> = Vec::new();
    for chunk in &chunks {
        let Some(deltas) = chunk["choices"][0]["delta"]["tool_calls"].as_array() else {
            continue;
        };
        for delta in deltas {
            let index = delta["index"].as_u64().expect("index") as usize;
            if index == calls.len() {
                assert_eq!(delta["type"], "function");
                calls.push((
                    delta["id"].as_str().expect("id").to_string(),
                    delta["function"]["name"]
                        .as_str()
                        .expect("name")
                        .to_string(),
                    String::new(),
                ));
            }
            calls[index].2 += delta["function"]["arguments"].as_str().unwrap_or("");
        }
    }
    let parsed: Vec<(&str, Value)> = calls
        .iter()
        .map(|(id, name, args)| {
            assert!(id.starts_with("call_"));
            (name.as_str(), serde_json::from_str(args).expect("JSON"))
        })
        .collect();
    assert_eq!(
        parsed,
        vec![
            ("complete_task", json!({"task_id": 3})),
            ("complete_task", json!({"task_id": 5})),
        ]
    );
    let last = chunks.last().expect("chunks");
    assert_eq!(last["choices"][0]["finish_reason"], "tool_calls");
    assert!(last.get("usage").is_none(), "usage was not asked for");
}

async fn configure(mock: &Mock, config: Value) {
    let (status, _, body) = mock.post("/_mock/config", &config).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn malformed_args_break_tool_calls_only() {
    let mock = start().await;
    configure(&mock, json!({"behaviour": "malformed_args"})).await;
    let message = mock.message(&request(ADD)).await;
    let call = &message["tool_calls"][0];
    assert_eq!(call["function"]["name"], "add_task");
    assert_eq!(call["function"]["arguments"], "{\"title\": ");
    // The tool layer reports the error; the answer is text again.
    let error = json!({"error": "arguments are not valid JSON"});
    let message = mock.message(&continued(ADD, &message, &[error])).await;
    assert_eq!(
        message["content"],
        "I couldn't do that: arguments are not valid JSON."
    );
}

#[tokio::test]
async fn unknown_tool_replaces_tool_calls() {
    let mock = start().await;
    configure(&mock, json!({"behaviour": "unknown_tool"})).await;
    let message = mock.message(&request(ADD)).await;
    let calls = message["tool_calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["function"]["name"], "launch_rockets");
    assert_eq!(calls[0]["function"]["arguments"], "{}");
    assert!(
        mock.message(&request("hello")).await["content"]
            .as_str()
            .is_some()
    );
}

#[tokio::test]
async fn loop_tools_never_answers_with_text() {
    let mock = start().await;
    configure(&mock, json!({"behaviour": "loop_tools"})).await;
    let mut body = request("hello");
    for _ in 0..3 {
        let message = mock.message(&body).await;
        assert_eq!(message["content"], Value::Null);
        let call = &message["tool_calls"][0];
        assert_eq!(call["function"]["name"], "list_tasks");
        assert_eq!(args_of(call), json!({"status": "pending"}));
        body = continued("hello", &message, &[json!([])]);
    }
}

#[tokio::test]
async fn plain_text_never_calls_tools() {
    let mock = start().await;
    // In-process this time.
    mock.state.set_config(MockConfig {
        behaviour: Behaviour::PlainText,
        ..MockConfig::default()
    });
    let (_, _, body) = mock.chat(&request(ADD)).await;
    assert_eq!(body["choices"][0]["message"]["content"], "Sure, noted.");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert!(body["choices"][0]["message"].get("tool_calls").is_none());
}

#[tokio::test]
async fn latency_delays_answers() {
    let mock = start().await;
    configure(&mock, json!({"latency_ms": 200})).await;
    let started = Instant::now();
    mock.message(&request("list")).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    let (_, _, config) = mock.post("/_mock/config", &json!({})).await;
    assert_eq!(
        config,
        json!({"latency_ms": 0, "chunk_delay_ms": 0, "behaviour": "normal"})
    );
}

#[tokio::test]
async fn chunk_delay_paces_a_streamed_answer() {
    let mock = start().await;
    configure(&mock, json!({"chunk_delay_ms": 40})).await;
    let started = Instant::now();
    let chunks = stream(&mock, request("what's still open?"), false).await;
    // Every chunk but the last is followed by a pause.
    let paced = Duration::from_millis(40) * (chunks.len() as u32);
    assert!(chunks.len() >= 3, "a multi-chunk answer: {chunks:?}");
    assert!(
        started.elapsed() >= paced,
        "{} chunks in {:?}",
        chunks.len(),
        started.elapsed()
    );
}

async fn fail(mock: &Mock, failure: Value) {
    let (status, _, body) = mock.post("/_mock/fail", &failure).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn rate_limits_carry_retry_headers() {
    let mock = start().await;
    fail(
        &mock,
        json!({"status": 429, "count": 1, "retry_after_ms": 1500}),
    )
    .await;
    let (status, headers, body) = mock.chat(&request(ADD)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after-ms"], "1500");
    assert_eq!(headers["retry-after"], "2");
    let error = &body["error"];
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .starts_with("Rate limit reached")
    );
    assert_eq!(error["type"], "requests");
    assert_eq!(error["code"], "rate_limit_exceeded");
    assert_eq!(error["param"], Value::Null);
    // Used up: the next request succeeds.
    let (status, headers, _) = mock.chat(&request(ADD)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("retry-after").is_none());
}

#[tokio::test]
async fn quota_errors_look_like_openai() {
    let mock = start().await;
    fail(&mock, json!({"status": 429, "code": "insufficient_quota"})).await;
    let (status, headers, body) = mock.chat(&request(ADD)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.get("retry-after-ms").is_none());
    assert_eq!(
        body,
        json!({"error": {
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}})
    );
}

#[tokio::test]
async fn failures_are_used_in_order_and_counted() {
    let mock = start().await;
    fail(&mock, json!({"status": 503, "count": 2})).await;
    mock.state.push_failure(Failure::status(500));
    fail(
        &mock,
        json!([{"status": 429}, {"status": 401, "code": "invalid_api_key"}]),
    )
    .await;
    let server_error = json!({"error": {
        "message": "The server had an error while processing your request.",
        "type": "server_error", "param": null, "code": null}});
    for expected in [503, 503, 500, 429, 401, 200] {
        let (status, _, body) = mock.chat(&request("list")).await;
        assert_eq!(status.as_u16(), expected, "{body}");
        if expected >= 500 {
            assert_eq!(body, server_error);
        }
        if expected == 401 {
            assert_eq!(body["error"]["code"], "invalid_api_key");
        }
    }
}

#[tokio::test]
async fn hangs_are_slow_successes_and_trip_timeouts() {
    let mock = start().await;
    fail(&mock, json!({"hang_ms": 300})).await;
    let started = Instant::now();
    let (status, _, _) = mock.chat(&request("list")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));

    mock.state.push_failure(Failure::hang(2_000));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let error = impatient
        .post(format!("{}/v1/chat/completions", mock.base))
        .json(&request("list"))
        .send()
        .await
        .expect_err("times out");
    assert!(error.is_timeout(), "{error}");

    // A hang in front of an error status delays the error.
    fail(&mock, json!({"status": 500, "hang_ms": 100})).await;
    let started = Instant::now();
    let (status, _, _) = mock.chat(&request("list")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn bad_admin_requests_are_refused() {
    let mock = start().await;
    for (path, body) in [
        ("/_mock/config", "{\"behaviour\": \"chaos\"}"),
        ("/_mock/config", "{\"latency\": 5}"),
        ("/_mock/config", "not json"),
        ("/_mock/config", "{\"rpm\": 0}"),
        ("/_mock/config", "{\"tpm\": -1}"),
        ("/_mock/config", "{\"rpm\": \"60\"}"),
        ("/_mock/fail", "{\"status\": 200}"),
        ("/_mock/fail", "{\"count\": 2}"),
        ("/_mock/fail", "{\"status\": 429, \"retry_after\": 5}"),
        ("/_mock/fail", "[1]"),
    ] {
        let (status, _, text) = mock.post_raw(path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {text}");
        let value: Value = serde_json::from_str(&text).expect("JSON error");
        assert_eq!(value["error"]["type"], "invalid_request_error");
    }
    assert_eq!(mock.state.pending_failures(), 0);
    assert_eq!(mock.state.config(), MockConfig::default());
}

#[tokio::test]
async fn malformed_requests_get_400() {
    let mock = start().await;
    for body in [
        "not json",
        "",
        "[]",
        "{}",
        "{\"messages\": \"hi\"}",
        "{\"messages\": []}",
        "{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}",
        "{\"messages\": [{\"role\": \"user\", \"content\": {\"a\": 1}}]}",
        "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": 1}",
    ] {
        let (status, _, text) = mock.post_raw("/v1/chat/completions", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {text}");
        let value: Value = serde_json::from_str(&text).expect("JSON error");
        let error = &value["error"];
        assert!(!error["message"].as_str().expect("message").is_empty());
        assert_eq!(error["type"], "invalid_request_error");
        assert_eq!(error["param"], Value::Null);
        assert_eq!(error["code"], Value::Null);
    }
    let stats = mock.stats().await;
    assert_eq!(stats["requests"], 9);
    assert_eq!(stats["by_status"], json!({"400": 9}));
    assert_eq!(stats["last_request"]["messages"][0]["content"], "hi");

    let res = mock
        .http
        .get(format!("{}/v1/nothing", mock.base))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let value: Value = res.json().await.expect("JSON");
    assert_eq!(value["error"]["message"], "Invalid URL (GET /v1/nothing)");
}

#[tokio::test]
async fn stats_count_and_reset_clears() {
    let mock = start().await;
    assert_eq!(
        mock.stats().await,
        json!({"requests": 0, "by_status": {}, "last_request": null, "rate_limited": 0,
               "in_flight": 0, "peak_in_flight": 0})
    );
    fail(&mock, json!({"status": 429})).await;
    configure(&mock, json!({"latency_ms": 1, "behaviour": "plain_text"})).await;
    mock.chat(&request("list")).await;
    mock.chat(&request("list")).await;
    mock.chat(&request(ADD)).await;
    let stats = mock.stats().await;
    assert_eq!(stats["requests"], 3);
    assert_eq!(stats["by_status"], json!({"200": 2, "429": 1}));
    assert_eq!(stats["last_request"], request(ADD));
    assert_eq!(mock.state.stats().requests, 3);

    fail(&mock, json!({"status": 500, "count": 5})).await;
    let (status, _, body) = mock.post("/_mock/reset", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        mock.stats().await,
        json!({"requests": 0, "by_status": {}, "last_request": null, "rate_limited": 0,
               "in_flight": 0, "peak_in_flight": 0})
    );
    let message = mock.message(&request(ADD)).await;
    assert_eq!(message["tool_calls"][0]["function"]["name"], "add_task");
    mock.state.reset();
    assert_eq!(mock.state.stats().requests, 0);
}

#[tokio::test]
async fn stats_count_requests_in_flight_and_their_peak() {
    let mock = start().await;
    // Long enough that eight requests sent together all overlap.
    configure(&mock, json!({"latency_ms": 1000})).await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, url) = (
            mock.http.clone(),
            format!("{}/v1/chat/completions", mock.base),
        );
        calls.spawn(async move { http.post(url).json(&request("list")).send().await });
    }
    while let Some(answer) = calls.join_next().await {
        let answer = answer.expect("task").expect("request");
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let stats = mock.stats().await;
    assert_eq!(stats["in_flight"], 0, "{stats}");
    assert_eq!(stats["peak_in_flight"], 8, "{stats}");
}

#[tokio::test]
async fn models_are_listed() {
    let mock = start().await;
    let value: Value = mock
        .http
        .get(format!("{}/v1/models", mock.base))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(value["object"], "list");
    assert_eq!(value["data"][0]["id"], "mock-gpt");
}

/// The binary: address on the first stdout line, serves, stops on SIGTERM.
#[cfg(unix)]
#[tokio::test]
async fn the_binary_prints_its_address_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    todo_common::install_tls_provider();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-openai"))
        .args(["--port", "0"])
        .env("MOCK_OPENAI_RPM", "100")
        .env_remove("MOCK_OPENAI_TPM")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mock-openai");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let address = first
        .trim_end()
        .strip_prefix("listening on 127.0.0.1:")
        .map(|port| format!("127.0.0.1:{port}"))
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    let res = reqwest::Client::new()
        .post(format!("http://{address}/v1/chat/completions"))
        .json(&request("show my tasks"))
        .send()
        .await
        .expect("request");
    // The rate limit from MOCK_OPENAI_RPM.
    assert_eq!(res.headers()["x-ratelimit-limit-requests"], "100");
    assert_eq!(res.headers()["x-ratelimit-remaining-requests"], "99");
    assert!(res.headers().get("x-ratelimit-limit-tokens").is_none());
    let value: Value = res.json().await.expect("JSON");
    assert_eq!(
        value["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "list_tasks"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "{status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("mock-openai did not stop on SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
