//! Sign-up, login, tokens and who may touch whose data.

use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TEST_SECRET, TestApp, expect_error, hs_token, now};

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
