//! mock-openai's OpenAI-style rate limits (`rpm`, `tpm`) over real HTTP:
//! refusals with 429 and retry headers, refills, `x-ratelimit-*` headers and
//! limits changed at runtime.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::support::{Mock, start};

impl Mock {
    async fn configure(&self, config: Value) {
        let (status, _, body) = self.post("/_mock/config", &config).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

fn user(text: &str) -> Value {
    json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]})
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
        .to_str()
        .expect("ascii")
}

fn number(headers: &HeaderMap, name: &str) -> u64 {
    header(headers, name).parse().expect("a number")
}

fn ratelimit_headers(headers: &HeaderMap) -> Vec<&str> {
    headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("x-ratelimit-"))
        .collect()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).expect("small")
}

/// Checks an enforcement 429 and returns its `retry-after-ms`.
fn refused(status: StatusCode, headers: &HeaderMap, body: &Value, kind: &str) -> u64 {
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let error = &body["error"];
    assert_eq!(error["type"], kind);
    assert_eq!(error["code"], "rate_limit_exceeded");
    assert_eq!(error["param"], Value::Null);
    let ms = number(headers, "retry-after-ms");
    assert_eq!(number(headers, "retry-after"), ms.div_ceil(1000));
    ms
}

#[tokio::test]
async fn a_burst_over_rpm_is_refused_until_the_bucket_refills() {
    let mock = start().await;
    mock.configure(json!({"rpm": 60})).await;
    let started = Instant::now();
    let (status, headers, _) = mock.chat(&user("list")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-ratelimit-limit-requests"), "60");
    assert_eq!(header(&headers, "x-ratelimit-remaining-requests"), "59");
    assert_eq!(header(&headers, "x-ratelimit-reset-requests"), "1s");
    assert!(headers.get("x-ratelimit-limit-tokens").is_none());
    for _ in 1..60 {
        let (status, _, body) = mock.chat(&user("list")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let (status, headers, body) = mock.chat(&user("list")).await;
    let elapsed = millis(started.elapsed());
    assert!(
        elapsed < 900,
        "the burst took {elapsed}ms, too slow to test"
    );
    let ms = refused(status, &headers, &body, "requests");
    // Whatever refilled since the first request shortens the wait.
    assert!(
        (1000 - elapsed - 1..=1000).contains(&ms),
        "retry-after-ms {ms} after {elapsed}ms"
    );
    assert_eq!(header(&headers, "retry-after"), "1");
    let message = body["error"]["message"].as_str().expect("message");
    let wait = if ms == 1000 {
        "1s".to_string()
    } else {
        format!("{ms}ms")
    };
    assert!(
        message.starts_with("Rate limit reached for requests per min (RPM)")
            && message.ends_with(&format!(
                "Limit 60, Used 60, Requested 1. Please try again in {wait}."
            )),
        "{message}"
    );
    assert_eq!(header(&headers, "x-ratelimit-limit-requests"), "60");
    assert_eq!(header(&headers, "x-ratelimit-remaining-requests"), "0");
    assert!(header(&headers, "x-ratelimit-reset-requests").ends_with('s'));

    let stats = mock.get("/_mock/stats").await;
    assert_eq!(stats["requests"], 61);
    assert_eq!(stats["rate_limited"], 1);
    assert_eq!(stats["by_status"], json!({"200": 60, "429": 1}));

    // The refused request took nothing: after the wait there is room again,
    // for one request only.
    tokio::time::sleep(Duration::from_millis(ms)).await;
    let (status, headers, body) = mock.chat(&user("list")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(header(&headers, "x-ratelimit-remaining-requests"), "0");
    let (status, headers, body) = mock.chat(&user("list")).await;
    let ms = refused(status, &headers, &body, "requests");
    assert!(ms > 900, "{ms}");
    assert_eq!(mock.get("/_mock/stats").await["rate_limited"], 2);
}

#[tokio::test]
async fn tpm_counts_the_prompt_and_max_tokens() {
    let mock = start().await;
    mock.configure(json!({"tpm": 1000})).await;
    // 2000 characters: 500 prompt tokens, plus 100 reserved for the answer.
    let mut big = user(&"x".repeat(2000));
    big["max_tokens"] = json!(100);
    let started = Instant::now();
    let (status, headers, body) = mock.chat(&big).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["usage"]["prompt_tokens"], 500);
    let completion = body["usage"]["completion_tokens"].as_u64().expect("usage");
    assert!(completion < 100, "{completion}");
    assert_eq!(header(&headers, "x-ratelimit-limit-tokens"), "1000");
    assert_eq!(header(&headers, "x-ratelimit-remaining-tokens"), "400");
    // 600 tokens at 1000 a minute.
    assert_eq!(header(&headers, "x-ratelimit-reset-tokens"), "36s");
    assert!(headers.get("x-ratelimit-limit-requests").is_none());

    // The unused part of max_tokens came back: 500 - completion left.
    let (status, headers, body) = mock.chat(&big).await;
    let elapsed = millis(started.elapsed());
    let ms = refused(status, &headers, &body, "tokens");
    let missing = 100 + completion; // tokens, 60ms each
    assert!(
        (missing * 60 - elapsed - 1..=missing * 60).contains(&ms),
        "retry-after-ms {ms} for {missing} tokens after {elapsed}ms"
    );
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("Rate limit reached for tokens per min (TPM)")
            && message.contains("Limit 1000, Used ")
            && message.contains(", Requested 600. Please try again in "),
        "{message}"
    );
    let remaining = number(&headers, "x-ratelimit-remaining-tokens");
    assert!(
        (500 - completion..=500 - completion + elapsed / 60 + 1).contains(&remaining),
        "{remaining}"
    );

    // A small request still fits: the limit is on tokens, not requests.
    let (status, _, body) = mock.chat(&user("list")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // More than the limit can ever give: refused without a retry time.
    for body in [
        user(&"x".repeat(4004)),
        json!({"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 1000}),
    ] {
        let (status, headers, body) = mock.chat(&body).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"]["type"], "tokens");
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.starts_with("Request too large for tokens per min (TPM)"));
        assert!(message.contains("Limit 1000, Requested 1001."), "{message}");
        assert!(headers.get("retry-after-ms").is_none());
        assert!(headers.get("retry-after").is_none());
        assert_eq!(header(&headers, "x-ratelimit-limit-tokens"), "1000");
    }
    let stats = mock.get("/_mock/stats").await;
    assert_eq!(stats["rate_limited"], 3);
    assert_eq!(stats["by_status"], json!({"200": 2, "429": 3}));
}

#[tokio::test]
async fn ratelimit_headers_only_for_limits_that_are_set() {
    let mock = start().await;
    let stream = json!({"messages": [{"role": "user", "content": "list"}], "stream": true});

    // No limits, like Ollama: no headers at all.
    let (status, headers, _) = mock.chat(&user("list")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ratelimit_headers(&headers), Vec::<&str>::new());
    let (status, headers, _) = mock
        .post_raw("/v1/chat/completions", &stream.to_string())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ratelimit_headers(&headers), Vec::<&str>::new());

    mock.configure(json!({"rpm": 10})).await;
    let (_, headers, _) = mock.chat(&user("list")).await;
    let mut names = ratelimit_headers(&headers);
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "x-ratelimit-limit-requests",
            "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests"
        ]
    );

    mock.configure(json!({"rpm": 10, "tpm": 5000})).await;
    assert_eq!(
        mock.get("/_mock/config").await,
        json!({"latency_ms": 0, "chunk_delay_ms": 0, "behaviour": "normal", "rpm": 10, "tpm": 5000})
    );
    let (status, headers, text) = mock
        .post_raw("/v1/chat/completions", &stream.to_string())
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(header(&headers, "content-type"), "text/event-stream");
    assert_eq!(ratelimit_headers(&headers).len(), 6);
    assert_eq!(header(&headers, "x-ratelimit-limit-requests"), "10");
    assert_eq!(header(&headers, "x-ratelimit-remaining-requests"), "8");
    assert_eq!(header(&headers, "x-ratelimit-limit-tokens"), "5000");
    // "list" is one prompt token; no max_tokens reserves nothing more.
    assert_eq!(header(&headers, "x-ratelimit-remaining-tokens"), "4999");
    assert_eq!(header(&headers, "x-ratelimit-reset-tokens"), "12ms");

    // Malformed requests and injected failures carry the state too, and
    // take nothing from it.
    let (status, headers, _) = mock.post_raw("/v1/chat/completions", "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(header(&headers, "x-ratelimit-remaining-requests"), "8");
    let (status, _, body) = mock.post("/_mock/fail", &json!({"status": 503})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, headers, _) = mock.chat(&user("list")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(header(&headers, "x-ratelimit-remaining-requests"), "8");
    assert_eq!(ratelimit_headers(&headers).len(), 6);
    assert_eq!(mock.get("/_mock/stats").await["rate_limited"], 0);
}

#[tokio::test]
async fn limit_changes_take_effect_at_once() {
    let mock = start().await;
    mock.configure(json!({"rpm": 1000})).await;
    for _ in 0..5 {
        let (status, _, body) = mock.chat(&user("list")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The same limit with other settings keeps the bucket.
    mock.configure(json!({"rpm": 1000, "behaviour": "plain_text"}))
        .await;
    let (status, headers, body) = mock.chat(&user("list")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "Sure, noted.");
    let remaining = number(&headers, "x-ratelimit-remaining-requests");
    assert!((994..=995).contains(&remaining), "{remaining}");

    // Shrunk below what was used in the last minute: refused right away.
    mock.configure(json!({"rpm": 3})).await;
    let (status, headers, body) = mock.chat(&user("list")).await;
    let ms = refused(status, &headers, &body, "requests");
    assert!(
        (19_000..=20_000).contains(&ms),
        "one request at 3 a minute: {ms}"
    );
    assert_eq!(header(&headers, "x-ratelimit-limit-requests"), "3");
    assert_eq!(header(&headers, "x-ratelimit-remaining-requests"), "0");

    // Lifted: no limit, no headers.
    mock.configure(json!({"rpm": null})).await;
    let (status, headers, _) = mock.chat(&user("list")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ratelimit_headers(&headers), Vec::<&str>::new());

    // Set again: a fresh, full bucket.
    mock.configure(json!({"rpm": 2})).await;
    for remaining in ["1", "0"] {
        let (status, headers, _) = mock.chat(&user("list")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            header(&headers, "x-ratelimit-remaining-requests"),
            remaining
        );
    }
    let (status, headers, body) = mock.chat(&user("list")).await;
    refused(status, &headers, &body, "requests");

    // Reset forgets limits and usage.
    let (status, _, _) = mock.post("/_mock/reset", &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, _) = mock.chat(&user("list")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ratelimit_headers(&headers), Vec::<&str>::new());
}

#[tokio::test]
async fn concurrent_requests_share_the_limit() {
    let mock = start().await;
    mock.configure(json!({"rpm": 20})).await;
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let request = mock
            .http
            .post(format!("{}/v1/chat/completions", mock.base))
            .json(&user("list"));
        burst.spawn(async move { request.send().await.expect("request").status() });
    }
    let statuses = burst.join_all().await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    // One more may have refilled (one every 3s) while the burst ran.
    assert!((20..=21).contains(&ok), "{ok} succeeded");
    assert_eq!(ok + refused, 30);
    let stats = mock.get("/_mock/stats").await;
    assert_eq!(stats["rate_limited"], refused);
}
