//! Event streams are a bounded resource: capped per user and per instance,
//! and a stream lives no longer than the token that opened it.

use std::time::{Duration, Instant};

use reqwest::{Method, Response, StatusCode};
use serde_json::json;
use testkit::{EventStream, TEST_SECRET, TestUser, hs_token, now};

use crate::helpers::{TestApp, expect_error};

async fn open(app: &TestApp, user: &TestUser) -> Response {
    app.request(
        Method::GET,
        &format!("/api/{}/events", user.id),
        Some(&user.token),
    )
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn streams_are_capped_per_user_with_a_clear_429_and_freed_when_closed() {
    let app = TestApp::spawn_with(&[("SSE_MAX_STREAMS_PER_USER", "2")]).await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let first = open(&app, &ada).await;
    let second = open(&app, &ada).await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );

    let third = open(&app, &ada).await;
    assert!(third.headers().contains_key("retry-after"));
    let body = expect_error(third, StatusCode::TOO_MANY_REQUESTS, "too_many_streams").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 open event streams"),
        "{body}"
    );
    assert_eq!(
        open(&app, &bob).await.status(),
        StatusCode::OK,
        "another user is not affected"
    );

    // A closed stream frees its place (the server notices at its next write).
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        app.create_task(&ada, json!({ "title": "wake the streams" }))
            .await;
        let again = open(&app, &ada).await;
        if again.status() == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed stream's place was never freed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(second);
}

#[tokio::test]
async fn an_instance_serves_at_most_its_cap_of_streams() {
    let app = TestApp::spawn_with(&[("SSE_MAX_STREAMS", "2")]).await;
    let mut held = Vec::new();
    for n in 0..2 {
        let user = app.signup(&format!("u{n}@example.com")).await;
        let res = open(&app, &user).await;
        assert_eq!(res.status(), StatusCode::OK);
        held.push(res);
    }
    let late = app.signup("late@example.com").await;
    let body = expect_error(
        open(&app, &late).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_streams",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("maximum of 2"),
        "{body}"
    );
}

#[tokio::test]
async fn a_stream_ends_at_its_tokens_expiry_telling_the_client_to_sign_in_again() {
    let app = TestApp::spawn().await;
    let user = app.signup("short@example.com").await;
    // A shared-secret token that expires in two seconds.
    let short = TestUser {
        id: user.id.clone(),
        token: hs_token(
            jsonwebtoken::Algorithm::HS256,
            TEST_SECRET,
            &json!({ "sub": user.id, "iat": now(), "exp": now() + 2 }),
        ),
    };
    let mut stream = EventStream::open(&app, &short, "", None).await;
    let last = stream
        .next_within(Duration::from_secs(10))
        .await
        .expect("a last event before the stream ends");
    assert_eq!(last.event, "session.expired");
    assert_eq!(last.data["reason"], "token expired");
    assert!(
        stream.ends_within(Duration::from_secs(5)).await,
        "the stream is closed after it"
    );
}

#[tokio::test]
async fn logging_out_ends_the_tokens_open_streams() {
    let app = TestApp::spawn().await;
    let user = app.signup("leaving@example.com").await;
    let mut stream = EventStream::open(&app, &user, "", None).await;
    let res = app
        .call(Method::POST, "/api/auth/logout", Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let last = stream
        .next_within(Duration::from_secs(10))
        .await
        .expect("a last event before the stream ends");
    assert_eq!(
        (last.event.as_str(), last.data["reason"].as_str()),
        ("session.expired", Some("token revoked"))
    );
    assert!(stream.ends_within(Duration::from_secs(5)).await);
}
