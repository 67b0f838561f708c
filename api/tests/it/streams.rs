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

/// A raw connection to the API: what a client's bytes get, unparsed.
async fn raw(app: &TestApp) -> tokio::net::TcpStream {
    let addr = app.base.trim_start_matches("http://");
    tokio::net::TcpStream::connect(addr).await.unwrap()
}

/// Reads from `tcp` until `want` has arrived (or fails after 10 s).
async fn read_until(tcp: &mut tokio::net::TcpStream, got: &mut String, want: &str) {
    use tokio::io::AsyncReadExt;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !got.contains(want) {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline.into(), tcp.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {want:?} within 10 s; got {got:?}"))
            .unwrap();
        assert!(n > 0, "closed before {want:?}; got {got:?}");
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

/// A stream opened as its connection's first request, read up to the end
/// of its first chunk (the "connected" comment); what was read so far.
async fn open_raw(app: &TestApp, user: &TestUser) -> (tokio::net::TcpStream, String) {
    use tokio::io::AsyncWriteExt;
    let mut tcp = raw(app).await;
    tcp.write_all(stream_request(user).as_bytes())
        .await
        .unwrap();
    let mut got = String::new();
    read_until(&mut tcp, &mut got, ": connected\n\n\r\n").await;
    (tcp, got)
}

/// A chunked body's data, each chunk checked against its stated size.
fn dechunk(mut raw: &str) -> String {
    let mut data = String::new();
    while let Some((size, rest)) = raw.split_once("\r\n") {
        let size = usize::from_str_radix(size, 16).unwrap_or_else(|_| panic!("size {size:?}"));
        assert_eq!(&rest[size..size + 2], "\r\n", "chunk of {size} in {raw:?}");
        data.push_str(&rest[..size]);
        raw = &rest[size + 2..];
    }
    assert!(raw.is_empty(), "a partial chunk: {raw:?}");
    data
}

fn stream_request(user: &TestUser) -> String {
    format!(
        "GET /api/{}/events HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\r\n",
        user.id, user.token
    )
}

#[tokio::test]
async fn a_stream_that_opens_its_connection_is_framed_delivers_and_frees_its_place_when_the_client_leaves()
 {
    let app = TestApp::spawn_with(&[("SSE_MAX_STREAMS_PER_USER", "1")]).await;
    let ada = app.signup("ada@example.com").await;
    let (mut tcp, mut got) = open_raw(&app, &ada).await;
    let head = got.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    for line in [
        "content-type: text/event-stream",
        "transfer-encoding: chunked",
        "connection: close",
        "cache-control: no-cache",
    ] {
        assert!(head.contains(line), "{line} missing in {head}");
    }
    // A task made elsewhere arrives as an event, in a chunk of its own size.
    app.create_task(&ada, json!({ "title": "seen live" })).await;
    // The event's whole chunk: its data, the blank line, the chunk's end.
    read_until(&mut tcp, &mut got, "}\n\n\r\n").await;
    let body = dechunk(got.split_once("\r\n\r\n").unwrap().1);
    assert!(
        body.starts_with("id: 0\nretry: 3000\n: connected\n\n"),
        "{body}"
    );
    assert!(body.contains("event: task.created\n"), "{body}");

    // Its place is taken while it is open, and given back as soon as the
    // client goes, with no event needed to notice.
    let refused = open(&app, &ada).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    drop(tcp);
    let deadline = Instant::now() + Duration::from_secs(5);
    while open(&app, &ada).await.status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "the place was never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_refused_stream_gets_its_whole_error_and_the_connection_closes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let mut tcp = raw(&app).await;
    let forged = TestUser {
        id: ada.id,
        token: "not-a-token".into(),
    };
    tcp.write_all(stream_request(&forged).as_bytes())
        .await
        .unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut all))
        .await
        .expect("the server closes the connection after the answer")
        .unwrap();
    let all = String::from_utf8(all).unwrap();
    let (head, body) = all.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 401 "), "{head}");
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .expect("a content-length");
    assert_eq!(length.parse::<usize>().unwrap(), body.len(), "{all}");
    let error: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(error["error"]["code"], "unauthorized", "{error}");
}

#[tokio::test]
async fn a_stream_asked_for_after_another_request_on_the_same_connection_is_served_too() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let mut tcp = raw(&app).await;
    tcp.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut got = String::new();
    read_until(&mut tcp, &mut got, "\"status\"").await;
    assert!(got.starts_with("HTTP/1.1 200 OK"), "{got}");
    tcp.write_all(stream_request(&ada).as_bytes())
        .await
        .unwrap();
    read_until(&mut tcp, &mut got, ": connected").await;
    app.create_task(&ada, json!({ "title": "on a reused connection" }))
        .await;
    read_until(&mut tcp, &mut got, "on a reused connection").await;
}

#[tokio::test]
async fn on_shutdown_a_stream_ends_cleanly_and_the_server_returns() {
    use tokio::io::AsyncReadExt;
    let mut app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let (mut tcp, mut got) = open_raw(&app, &ada).await;

    app.shutdown.cancel();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut rest))
        .await
        .expect("the stream ends within 10 s")
        .unwrap();
    got.push_str(&String::from_utf8_lossy(&rest));
    // The last chunk is the empty one: the answer ended, it was not cut off.
    assert!(got.ends_with("\r\n0\r\n\r\n"), "{got:?}");
    let body = got.split_once("\r\n\r\n").unwrap().1;
    dechunk(body.strip_suffix("0\r\n\r\n").unwrap());
    let result = tokio::time::timeout(Duration::from_secs(10), &mut app.server)
        .await
        .expect("the server returns within 10 s")
        .expect("no panic");
    assert!(result.is_ok(), "{result:?}");
}
