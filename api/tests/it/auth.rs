//! Sign-up, login, logout, tokens and who may touch whose data.

use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TEST_SECRET, TestApp, expect_error, hs_token, now};
use todo_common::work::Work;

#[tokio::test]
async fn signup_login_and_me() {
    let app = TestApp::spawn().await;
    let res = app
        .send_json(
            Method::POST,
            "/api/auth/signup",
            None,
            &json!({"email": "  Ada@Example.com ", "password": "correct horse battery", "name": "Ada"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["name"], "Ada");
    assert!(
        body["user"].get("password_hash").is_none(),
        "no hash in responses"
    );
    let id = body["user"]["id"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(id).unwrap().get_version_num(),
        7,
        "new ids are UUIDv7"
    );
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    let hours = (expires.timestamp() - now()) as f64 / 3600.0;
    assert!(
        (23.9..=24.1).contains(&hours),
        "JWT_EXPIRATION_HOURS default 24, got {hours}"
    );

    // Email is case-insensitive at login too.
    let res = app
        .send_json(
            Method::POST,
            "/api/auth/login",
            None,
            &json!({"email": "ADA@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let login: Value = res.json().await.unwrap();
    assert_eq!(login["user"]["id"], id);

    let me: Value = app
        .call_for_json(
            Method::GET,
            "/api/auth/me",
            Some(login["token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(me["user"]["email"], "ada@example.com");

    // The stored hash is argon2id, never the password.
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"));
    assert!(!stored.contains("correct horse"));
}

#[tokio::test]
async fn signup_rejects_bad_input_and_duplicates() {
    let app = TestApp::spawn().await;
    app.signup("dup@example.com").await;
    let res = app
        .send_json(
            Method::POST,
            "/api/auth/signup",
            None,
            &json!({"email": "DUP@example.com", "password": "another password"}),
        )
        .await;
    expect_error(res, StatusCode::CONFLICT, "email_taken").await;

    for (body, field) in [
        (
            json!({"email": "not-an-email", "password": "long enough"}),
            "email",
        ),
        (
            json!({"email": "x@example.com", "password": "short"}),
            "password",
        ),
        (
            json!({"email": "x@example.com", "password": "long enough", "name": "n".repeat(101)}),
            "name",
        ),
    ] {
        let res = app
            .send_json(Method::POST, "/api/auth/signup", None, &body)
            .await;
        let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    let res = app
        .send_json(
            Method::POST,
            "/api/auth/signup",
            None,
            &json!({"email": "x@example.com"}),
        )
        .await;
    let err = expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("password"),
        "{err}"
    );

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "failed sign-ups create nothing");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = TestApp::spawn().await;
    app.signup("bob@example.com").await;
    let mut bodies = Vec::new();
    for body in [
        json!({"email": "bob@example.com", "password": "wrong password"}),
        json!({"email": "nobody@example.com", "password": "wrong password"}),
    ] {
        let res = app
            .send_json(Method::POST, "/api/auth/login", None, &body)
            .await;
        assert!(res.headers().contains_key("www-authenticate"));
        bodies.push(expect_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await);
    }
    assert_eq!(bodies[0], bodies[1], "no hint whether the account exists");
}

#[tokio::test]
async fn repeated_login_failures_are_throttled_per_account_and_per_ip() {
    let app = TestApp::spawn_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    app.signup("carol@example.com").await;
    app.signup("dave@example.com").await;
    let attempt = |email: &'static str, password: &'static str| {
        app.request(Method::POST, "/api/auth/login", None)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            attempt("carol@example.com", "guess guess")
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password waits until the window ends.
    let res = attempt("carol@example.com", "correct horse battery")
        .await
        .unwrap();
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    // The same client IP has used up its budget for other accounts too.
    let res = attempt("dave@example.com", "correct horse battery")
        .await
        .unwrap();
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    // No raw email or IP is stored in the throttle table.
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM auth_throttle")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    assert!(
        keys.iter()
            .all(|k| !k.contains("carol") && !k.contains("127.0.0.1")),
        "{keys:?}"
    );
}

#[tokio::test]
async fn routes_need_a_valid_token() {
    let app = TestApp::spawn().await;
    let user = app.signup("erin@example.com").await;
    let path = format!("/api/{}/tasks", user.id);

    let res = app.call(Method::GET, &path, None).await;
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"todo-chat\""
    );
    expect_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let claims = |exp: i64| json!({"sub": user.id, "iat": now() - 10, "exp": exp});
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let attacks = [
        ("garbage", "not.a.token".to_string()),
        ("basic scheme", String::new()),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&claims(now() + 3600))
            ),
        ),
        (
            "other HS algorithm",
            hs_token(Algorithm::HS512, TEST_SECRET, &claims(now() + 3600)),
        ),
        (
            "wrong secret",
            hs_token(
                Algorithm::HS256,
                "another-secret-another-secret-0123456789",
                &claims(now() + 3600),
            ),
        ),
        (
            "expired",
            hs_token(Algorithm::HS256, TEST_SECRET, &claims(now() - 3600)),
        ),
        (
            "no exp",
            hs_token(Algorithm::HS256, TEST_SECRET, &json!({"sub": user.id})),
        ),
        ("tampered payload", {
            let good = hs_token(Algorithm::HS256, TEST_SECRET, &claims(now() + 3600));
            let parts: Vec<&str> = good.split('.').collect();
            let evil = b64(&json!({"sub": "someone-else", "exp": now() + 3600}));
            format!("{}.{}.{}", parts[0], evil, parts[2])
        }),
    ];
    for (name, token) in attacks {
        let req = app.request(Method::GET, &path, None);
        let req = if name == "basic scheme" {
            req.header("authorization", "Basic dXNlcjpwYXNz")
        } else {
            req.bearer_auth(&token)
        };
        let res = req.send().await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{name} must be refused"
        );
        assert!(res.headers().contains_key("www-authenticate"), "{name}");
        if name == "expired" {
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["message"], "token expired");
        }
    }
    // A token that is fine in every respect works.
    let good = hs_token(Algorithm::HS256, TEST_SECRET, &claims(now() + 3600));
    let res = app.call(Method::GET, &path, Some(&good)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn one_user_never_reaches_another_users_tasks() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let mallory = app.signup("mallory@example.com").await;
    let task = app
        .create_task(&alice, json!({"title": "alice's secret plan"}))
        .await;
    let id = task["id"].as_i64().unwrap();

    // Mallory's token on Alice's path: 403 for every route.
    for (method, path) in [
        (Method::GET, format!("/api/{}/tasks", alice.id)),
        (Method::POST, format!("/api/{}/tasks", alice.id)),
        (Method::GET, format!("/api/{}/tasks/{id}", alice.id)),
        (Method::PUT, format!("/api/{}/tasks/{id}", alice.id)),
        (
            Method::PATCH,
            format!("/api/{}/tasks/{id}/complete", alice.id),
        ),
        (Method::DELETE, format!("/api/{}/tasks/{id}", alice.id)),
    ] {
        let res = app
            .send_json(
                method.clone(),
                &path,
                Some(&mallory.token),
                &json!({"title": "pwned"}),
            )
            .await;
        expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // Mallory's own path with Alice's task id: 404, as if it did not exist.
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let res = app
            .send_json(
                method.clone(),
                &format!("/api/{}/tasks/{id}", mallory.id),
                Some(&mallory.token),
                &json!({"title": "pwned"}),
            )
            .await;
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/{}/tasks/{id}/complete", mallory.id),
            Some(&mallory.token),
        )
        .await;
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let (_, list) = app.list_tasks(&mallory, "").await;
    assert_eq!(list["tasks"], json!([]));

    // Alice's task is untouched.
    let (_, list) = app.list_tasks(&alice, "").await;
    assert_eq!(list["tasks"][0]["title"], "alice's secret plan");
    assert_eq!(list["tasks"][0]["completed"], false);
}

#[tokio::test]
async fn one_user_never_reaches_another_users_conversations_messages_or_events() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let mallory = app.signup("mallory@example.com").await;
    // No worker: the turn stays queued, which is all this needs.
    let (status, turn) = app.chat(&alice, "add alice's secret", None, None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let conversation = turn["conversation_id"].as_str().unwrap().to_string();
    let message = turn["message_id"].as_str().unwrap().to_string();

    // Mallory's token on Alice's path: 403 on every route.
    let theirs = |rest: &str| format!("/api/{}{rest}", alice.id);
    for (method, path) in [
        (Method::POST, theirs("/chat")),
        (Method::GET, theirs(&format!("/chat/{message}"))),
        (Method::GET, theirs("/conversations")),
        (
            Method::GET,
            theirs(&format!("/conversations/{conversation}")),
        ),
        (
            Method::DELETE,
            theirs(&format!("/conversations/{conversation}")),
        ),
        (
            Method::GET,
            theirs(&format!("/conversations/{conversation}/messages")),
        ),
        (Method::GET, theirs("/events")),
    ] {
        let res = app
            .send_json(
                method.clone(),
                &path,
                Some(&mallory.token),
                &json!({"message": "hi"}),
            )
            .await;
        expect_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // Her own path with Alice's ids: 404, as if they did not exist.
    let mine = |rest: &str| format!("/api/{}{rest}", mallory.id);
    for (method, path) in [
        (Method::GET, mine(&format!("/chat/{message}"))),
        (Method::GET, mine(&format!("/conversations/{conversation}"))),
        (
            Method::DELETE,
            mine(&format!("/conversations/{conversation}")),
        ),
        (
            Method::GET,
            mine(&format!("/conversations/{conversation}/messages")),
        ),
    ] {
        let res = app.call(method, &path, Some(&mallory.token)).await;
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    let res = app
        .send_json(
            Method::POST,
            &mine("/chat"),
            Some(&mallory.token),
            &json!({"message": "append to hers", "conversation_id": conversation}),
        )
        .await;
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .call(
            Method::GET,
            &format!("/api/{}/events?conversation_id={conversation}", mallory.id),
            Some(&mallory.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    drop(res);

    // Alice's conversation is whole.
    let history = app
        .call_for_json(
            Method::GET,
            &theirs(&format!("/conversations/{conversation}/messages")),
            Some(&alice.token),
            None,
        )
        .await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["add alice's secret"]);
}

#[tokio::test]
async fn tool_arguments_cannot_name_another_user() {
    use todo_common::domain::UserId;
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let mallory = app.signup("mallory@example.com").await;
    let task = app
        .create_task(&alice, json!({"title": "alice's secret plan"}))
        .await;
    let id = task["id"].as_i64().unwrap();
    let mallory_id = UserId::parse(&mallory.id).unwrap();
    // What a prompt-injected model might ask for in Mallory's turn.
    for (tool, arguments) in [
        ("list_tasks", json!({"user_id": alice.id, "status": "all"})),
        ("complete_task", json!({"task_id": id, "user_id": alice.id})),
        (
            "update_task",
            json!({"task_id": id, "user_id": alice.id, "title": "pwned"}),
        ),
        ("delete_task", json!({"task_id": id, "user_id": alice.id})),
    ] {
        let mut work = Work::begin(&app.pool, &app.broker()).await.unwrap();
        // A turn of no stored conversation: only the user matters here.
        let turn = todo_common::tools::InTurn {
            conversation_id: uuid::Uuid::nil(),
            message_id: uuid::Uuid::nil(),
            earlier: &[],
        };
        let arguments = arguments.to_string();
        let result = todo_common::tools::execute(&mut work, &mallory_id, turn, tool, &arguments)
            .await
            .unwrap()
            .result;
        work.commit().await.unwrap();
        match tool {
            "list_tasks" => {
                assert_eq!(result["tasks"], json!([]), "{tool}: {result}");
                assert_eq!(result["matching"], 0, "{tool}: {result}");
            }
            _ => assert!(
                result["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("not found")),
                "{tool}: {result}"
            ),
        }
    }
    let (_, list) = app.list_tasks(&alice, "").await;
    assert_eq!(list["tasks"][0]["title"], "alice's secret plan");
    assert_eq!(list["tasks"][0]["completed"], false);
}

#[tokio::test]
async fn better_auth_tokens_with_the_shared_secret_are_accepted() {
    let app = TestApp::spawn().await;
    // A user Better Auth created elsewhere: we have never seen this id.
    let token = hs_token(
        Algorithm::HS256,
        TEST_SECRET,
        &json!({"sub": "ba_user_Zk3", "email": "Zed@Example.com", "name": "Zed", "iat": now(), "exp": now() + 600}),
    );
    let res = app
        .send_json(
            Method::POST,
            "/api/ba_user_Zk3/tasks",
            Some(&token),
            &json!({"title": "from better auth"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let me: Value = app
        .call_for_json(Method::GET, "/api/auth/me", Some(&token), None)
        .await;
    assert_eq!(me["user"]["id"], "ba_user_Zk3");
    assert_eq!(me["user"]["email"], "zed@example.com");
}

/// A fresh token for a user signed up with the test password.
async fn login(app: &TestApp, email: &str) -> String {
    let body: Value = app
        .call_for_json(
            Method::POST,
            "/api/auth/login",
            None,
            Some(&json!({"email": email, "password": "correct horse battery"})),
        )
        .await;
    body["token"].as_str().expect("a token").to_string()
}

async fn logout(app: &TestApp, token: &str, all: bool) -> reqwest::Response {
    let path = if all {
        "/api/auth/logout?all=true"
    } else {
        "/api/auth/logout"
    };
    app.call(Method::POST, path, Some(token)).await
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.call(Method::GET, "/api/auth/me", Some(token))
        .await
        .status()
}

/// Polls `/api/auth/me` until the token is refused; false if it still works
/// at the deadline.
async fn refused_within(app: &TestApp, token: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if me_status(app, token).await == StatusCode::UNAUTHORIZED {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn iat_of(token: &str) -> i64 {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice::<Value>(&bytes).unwrap()["iat"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn logout_revokes_that_token_everywhere_it_was_accepted() {
    let app = TestApp::spawn().await;
    let user = app.signup("liam@example.com").await;
    let second = login(&app, "liam@example.com").await;
    assert_ne!(user.token, second, "two logins, two tokens");

    let res = logout(&app, &user.token, false).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let res = app
        .call(Method::GET, "/api/auth/me", Some(&user.token))
        .await;
    assert!(res.headers().contains_key("www-authenticate"));
    let err = expect_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_eq!(err["error"]["message"], "token revoked");
    let (status, _) = app.list_tasks(&user, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "tasks");
    let events = format!("/api/{}/events", user.id);
    let res = app.call(Method::GET, &events, Some(&user.token)).await;
    expect_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let res = app
        .call(
            Method::GET,
            &format!("{events}?access_token={}", user.token),
            None,
        )
        .await;
    expect_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // Logging out again with the same token: it no longer works at all.
    let res = logout(&app, &user.token, false).await;
    expect_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // The other session of the same user is untouched.
    assert_eq!(me_status(&app, &second).await, StatusCode::OK);
    let res = app.call(Method::GET, &events, Some(&second)).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Stored by hash only, kept until the token's own expiry.
    let rows: Vec<(Vec<u8>, String, bool)> = sqlx::query_as(
        "SELECT token_hash, user_id, expires_at > now() + interval '23 hours' FROM revoked_tokens",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0.len(), 32);
    assert_eq!(rows[0].1, user.id);
    assert!(rows[0].2, "kept until the token expires");

    // A new instance on the same database knows at once (loaded at start).
    let fresh = app.spawn_peer().await;
    assert_eq!(
        me_status(&fresh, &user.token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me_status(&fresh, &second).await, StatusCode::OK);
}

#[tokio::test]
async fn logout_needs_a_valid_token() {
    let app = TestApp::spawn().await;
    let res = app.call(Method::POST, "/api/auth/logout", None).await;
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"todo-chat\""
    );
    expect_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let res = logout(&app, "not.a.token", false).await;
    expect_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let res = logout(&app, "not.a.token", true).await;
    expect_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM revoked_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn logout_all_revokes_every_token_and_a_login_right_after_works() {
    let app = TestApp::spawn().await;
    let user = app.signup("mia@example.com").await;
    let second = login(&app, "mia@example.com").await;
    let third = login(&app, "mia@example.com").await;

    let res = logout(&app, &second, true).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for token in [&user.token, &second, &third] {
        let res = app.call(Method::GET, "/api/auth/me", Some(token)).await;
        let err = expect_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
        assert_eq!(err["error"]["message"], "token revoked");
    }
    let (status, _) = app.list_tasks(&user, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Most likely within the same second as the logout: the new token's iat
    // is placed after the cutoff's second, the old ones' at or before it.
    let fresh = login(&app, "mia@example.com").await;
    assert_eq!(me_status(&app, &fresh).await, StatusCode::OK);
    let cutoff: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT tokens_valid_after FROM users WHERE id = $1")
            .bind(&user.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(iat_of(&fresh) > cutoff.timestamp());
    assert!(iat_of(&third) <= cutoff.timestamp());

    // Again at once: the bumped token is covered too, and the next login works.
    let res = logout(&app, &fresh, true).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(me_status(&app, &fresh).await, StatusCode::UNAUTHORIZED);
    let newest = login(&app, "mia@example.com").await;
    assert_eq!(me_status(&app, &newest).await, StatusCode::OK);

    // Other users are not affected.
    let other = app.signup("noah@example.com").await;
    assert_eq!(me_status(&app, &other.token).await, StatusCode::OK);
}

#[tokio::test]
async fn better_auth_tokens_without_jti_can_be_revoked() {
    let app = TestApp::spawn().await;
    let claims = |iat: i64| json!({"sub": "ba_user_Q", "iat": iat, "exp": now() + 600});
    let token = hs_token(Algorithm::HS256, TEST_SECRET, &claims(now() - 5));
    let other = hs_token(Algorithm::HS256, TEST_SECRET, &claims(now() - 4));
    assert_eq!(me_status(&app, &token).await, StatusCode::OK);
    assert_eq!(
        logout(&app, &token, false).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&app, &other).await, StatusCode::OK);
    // Everywhere: by `iat`, which these tokens carry.
    assert_eq!(
        logout(&app, &other, true).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(me_status(&app, &other).await, StatusCode::UNAUTHORIZED);
    let later = hs_token(Algorithm::HS256, TEST_SECRET, &claims(now() + 2));
    assert_eq!(me_status(&app, &later).await, StatusCode::OK);
}

#[tokio::test]
async fn a_logout_reaches_the_other_instances_within_seconds() {
    let app = TestApp::spawn().await;
    let peer = app.spawn_peer().await;
    let ola = app.signup("ola@example.com").await;
    let pia = app.signup("pia@example.com").await;
    let pia_other = login(&app, "pia@example.com").await;
    for token in [&ola.token, &pia.token, &pia_other] {
        assert_eq!(me_status(&peer, token).await, StatusCode::OK);
    }

    // One token, logged out on the first instance, refused by the second.
    assert_eq!(
        logout(&app, &ola.token, false).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(
        refused_within(&peer, &ola.token, Duration::from_secs(10)).await,
        "the peer still accepts a logged-out token"
    );

    // Everywhere, through the second instance, reaches the first.
    assert_eq!(
        logout(&peer, &pia.token, true).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(refused_within(&app, &pia_other, Duration::from_secs(10)).await);
    assert_eq!(me_status(&app, &pia.token).await, StatusCode::UNAUTHORIZED);
    let again = login(&app, "pia@example.com").await;
    assert_eq!(me_status(&peer, &again).await, StatusCode::OK);
}

#[tokio::test]
async fn revocations_of_expired_tokens_are_pruned() {
    let app = TestApp::spawn_with(&[("HEALTH_CHECK_INTERVAL_SECONDS", "1")]).await;
    let user = app.signup("quinn@example.com").await;
    assert_eq!(
        logout(&app, &user.token, false).await.status(),
        StatusCode::NO_CONTENT
    );
    sqlx::query(
        "INSERT INTO revoked_tokens (token_hash, user_id, expires_at) \
         VALUES (decode(repeat('ab', 32), 'hex'), 'gone', now() - interval '1 minute')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let users: Vec<String> = sqlx::query_scalar("SELECT user_id FROM revoked_tokens")
            .fetch_all(&app.pool)
            .await
            .unwrap();
        if users == [user.id.clone()] {
            break;
        }
        assert!(Instant::now() < deadline, "not pruned: {users:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(me_status(&app, &user.token).await, StatusCode::UNAUTHORIZED);
}
