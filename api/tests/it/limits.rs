//! Limits that keep one client from exhausting the service or locking others
//! out (issue 10, attacks 1, 4 and 5): bounded password hashing, sign-up and
//! login throttling by client address behind trusted proxies, and the chat
//! rate under parallel bursts.

use futures_util::future::join_all;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error};

const PASSWORD: &str = "correct horse battery";

/// POST `path` with `body`, as a client the proxy at 127.0.0.1 forwards
/// with this X-Forwarded-For.
async fn post_via_proxy(app: &TestApp, path: &str, forwarded_for: &str, body: Value) -> Response {
    app.request(Method::POST, path, None)
        .header("x-forwarded-for", forwarded_for)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn login(app: &TestApp, forwarded_for: &str, email: &str, password: &str) -> StatusCode {
    post_via_proxy(
        app,
        "/api/auth/login",
        forwarded_for,
        json!({"email": email, "password": password}),
    )
    .await
    .status()
}

fn retry_after(res: &Response) -> u64 {
    res.headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn sign_ups_beyond_the_hashing_bound_get_503_instead_of_queueing() {
    let app = TestApp::spawn_with(&[
        ("PASSWORD_HASH_CONCURRENCY", "1"),
        ("PASSWORD_HASH_WAIT_MS", "0"),
        ("SIGNUP_MAX_PER_IP", "1000"),
    ])
    .await;
    let responses = join_all((0..40).map(|i| {
        let body = json!({"email": format!("burst{i}@example.com"), "password": PASSWORD});
        let app = &app;
        async move {
            app.send_json(Method::POST, "/api/auth/signup", None, &body)
                .await
        }
    }))
    .await;
    let (mut created, mut refused) = (0, 0);
    for res in responses {
        match res.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                refused += 1;
                assert!(retry_after(&res) >= 1);
                let err = expect_error(res, StatusCode::SERVICE_UNAVAILABLE, "overloaded").await;
                assert!(
                    err["error"]["message"].as_str().unwrap().contains("retry"),
                    "{err}"
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        created >= 1 && refused >= 1,
        "{created} created, {refused} refused"
    );
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, created, "a refused sign-up creates nothing");
}

#[tokio::test]
async fn sign_ups_are_throttled_per_client_ip() {
    let app =
        TestApp::spawn_with(&[("TRUSTED_PROXIES", "127.0.0.1"), ("SIGNUP_MAX_PER_IP", "3")]).await;
    let signup = |xff: &'static str, i: u32| {
        post_via_proxy(
            &app,
            "/api/auth/signup",
            xff,
            json!({"email": format!("s{i}@example.com"), "password": PASSWORD}),
        )
    };
    for i in 0..3 {
        assert_eq!(signup("203.0.113.7", i).await.status(), StatusCode::CREATED);
    }
    let res = signup("203.0.113.7", 3).await;
    let retry = retry_after(&res);
    assert!((1..=3600).contains(&retry), "Retry-After {retry}");
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another client behind the same proxy is not affected.
    assert_eq!(signup("203.0.113.8", 4).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn parallel_login_guesses_are_counted_before_the_hash() {
    let app = TestApp::spawn_with(&[
        ("LOGIN_MAX_FAILURES", "3"),
        // Verifications wait for a hashing slot rather than being refused.
        ("PASSWORD_HASH_WAIT_MS", "30000"),
    ])
    .await;
    app.signup("target@example.com").await;
    let statuses: Vec<StatusCode> = join_all((0..20).map(|i| {
        let body = json!({"email": "target@example.com", "password": format!("guess number {i}")});
        let app = &app;
        async move {
            app.send_json(Method::POST, "/api/auth/login", None, &body)
                .await
        }
    }))
    .await
    .into_iter()
    .map(|r| r.status())
    .collect();
    let verified = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (verified, throttled),
        (3, 17),
        "only LOGIN_MAX_FAILURES guesses reach the hash: {statuses:?}"
    );
}

#[tokio::test]
async fn a_client_behind_a_trusted_proxy_cannot_choose_its_throttling_address() {
    let app = TestApp::spawn_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("LOGIN_MAX_FAILURES", "2"),
    ])
    .await;
    // The attacker writes a new address in front each time; the proxy
    // appends the one it really saw. Other accounts each time, so only the
    // address can be what throttles.
    for i in 0..2 {
        let xff = format!("192.0.2.{i}, 198.51.100.9");
        let status = login(&app, &xff, &format!("n{i}@example.com"), "guess guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let status = login(&app, "192.0.2.77, 198.51.100.9", "n9@example.com", "guess").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "spoofing did not help"
    );
    // A different client behind the same proxy is its own address, not the proxy's.
    let status = login(&app, "198.51.100.10", "n10@example.com", "guess guess").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_owner_gets_in_while_the_account_is_under_attack() {
    let app = TestApp::spawn_with(&[
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("LOGIN_MAX_FAILURES", "3"),
    ])
    .await;
    app.signup("victim@example.com").await;
    let victim = "victim@example.com";
    for _ in 0..3 {
        assert_eq!(
            login(&app, "198.51.100.9", victim, "guess guess").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&app, "198.51.100.9", victim, "guess guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A second attacking address gets one guess at the attacked account, no more.
    assert_eq!(
        login(&app, "198.51.100.10", victim, "guess guess").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "198.51.100.10", victim, "guess guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The owner, from an address that has not failed, still gets in.
    assert_eq!(
        login(&app, "203.0.113.5", victim, PASSWORD).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_parallel_chat_burst_cannot_pass_the_rate_limit() {
    let app = TestApp::spawn_with(&[("CHAT_RATE_LIMIT_PER_MINUTE", "5")]).await;
    let user = app.signup("burst@example.com").await;
    let path = format!("/api/{}/chat", user.id);
    let responses = join_all((0..20).map(|i| {
        let body = json!({"message": format!("add task {i}")});
        let (app, path, token) = (&app, &path, &user.token);
        async move { app.send_json(Method::POST, path, Some(token), &body).await }
    }))
    .await;
    let (mut accepted, mut limited) = (0, 0);
    for res in responses {
        match res.status() {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                let retry = retry_after(&res);
                assert!((1..=61).contains(&retry), "Retry-After {retry}");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((accepted, limited), (5, 15));
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE user_id = $1 AND role = 'user'")
            .bind(&user.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, 5);
}

/// Issue 19, item 5: the limit counted stored messages, so deleting the
/// conversations gave their posts back (5 posts, delete, 5 more: all 202).
#[tokio::test]
async fn deleting_conversations_does_not_give_chat_posts_back() {
    let app = TestApp::spawn_with(&[("CHAT_RATE_LIMIT_PER_MINUTE", "5")]).await;
    let user = app.signup("forgetful@example.com").await;
    let path = format!("/api/{}/chat", user.id);
    for i in 0..5 {
        let body = json!({"message": format!("add task {i}")});
        let res = app
            .send_json(Method::POST, &path, Some(&user.token), &body)
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let sent: Value = res.json().await.unwrap();
        let conversation = sent["conversation_id"].as_str().unwrap().to_string();
        let gone = app
            .call(
                Method::DELETE,
                &format!("/api/{}/conversations/{conversation}", user.id),
                Some(&user.token),
            )
            .await;
        assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    }
    let body = json!({"message": "one more"});
    let res = app
        .send_json(Method::POST, &path, Some(&user.token), &body)
        .await;
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE user_id = $1")
        .bind(&user.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0, "the refused post stored nothing");
}
