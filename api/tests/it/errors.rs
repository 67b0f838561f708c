//! Every error a client can cause is JSON with the right status, never a 500.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, expect_error};

/// A body sent as it is, labelled as JSON.
async fn post_raw(app: &TestApp, path: &str, token: &str, body: String) -> reqwest::Response {
    app.request(Method::POST, path, Some(token))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_bodies_are_400_with_a_reason() {
    let app = TestApp::spawn().await;
    let user = app.signup("malformed@example.com").await;
    let path = format!("/api/{}/tasks", user.id);
    for raw in [
        "{",
        "{\"title\": }",
        "[1,2",
        "not json",
        "{\"title\":\"a\"} trailing",
    ] {
        let res = post_raw(&app, &path, &user.token, raw.to_string()).await;
        let err = expect_error(res, StatusCode::BAD_REQUEST, "malformed_json").await;
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("malformed JSON"),
            "{err}"
        );
    }
    // Valid JSON of the wrong shape.
    let res = app
        .send_json(Method::POST, &path, Some(&user.token), &json!([1, 2]))
        .await;
    expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;
}

#[tokio::test]
async fn wrong_content_type_is_415_and_big_bodies_are_413() {
    let app = TestApp::spawn().await;
    let user = app.signup("types@example.com").await;
    let path = format!("/api/{}/tasks", user.id);
    let res = app
        .request(Method::POST, &path, Some(&user.token))
        .header("content-type", "text/plain")
        .body(r#"{"title":"x"}"#)
        .send()
        .await
        .unwrap();
    expect_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let res = app
        .request(Method::POST, &path, Some(&user.token))
        .body(r#"{"title":"x"}"#)
        .send()
        .await
        .unwrap();
    expect_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;

    let huge = json!({"title": "x", "description": "y".repeat(70 * 1024)});
    let res = app
        .send_json(Method::POST, &path, Some(&user.token), &huge)
        .await;
    expect_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // Just under the limit is read (and then rejected for its field, not its size).
    let near = json!({"title": "x", "description": "y".repeat(60 * 1024)});
    let res = app
        .send_json(Method::POST, &path, Some(&user.token), &near)
        .await;
    expect_error(res, StatusCode::BAD_REQUEST, "validation_failed").await;

    let (_, list) = app.list_tasks(&user, "").await;
    assert_eq!(list["tasks"], json!([]));
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let app = TestApp::spawn().await;
    let user = app.signup("routes@example.com").await;
    let res = app
        .call(Method::GET, "/api/nothing/here/at/all", None)
        .await;
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .call(
            Method::PATCH,
            &format!("/api/{}/tasks", user.id),
            Some(&user.token),
        )
        .await;
    expect_error(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let res = app.call(Method::DELETE, "/health", None).await;
    expect_error(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let res = app
        .call(
            Method::GET,
            &format!("/api/{}/tasks/99999", user.id),
            Some(&user.token),
        )
        .await;
    let err = expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(err["error"]["message"], "task 99999 not found");
}

#[tokio::test]
async fn cors_follows_the_configuration() {
    let app = TestApp::spawn().await; // ALLOWED_ORIGINS=https://app.example.com
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/api/auth/login", None)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let res = preflight("https://app.example.com").await.unwrap();
    assert!(res.status().is_success());
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    let methods = res.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_string();
    for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    let res = preflight("https://evil.example.net").await.unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));

    // A plain request from the allowed origin carries the header too.
    let res = app
        .request(Method::GET, "/health", None)
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
}

#[tokio::test]
async fn security_headers_and_hsts_only_in_production() {
    let app = TestApp::spawn().await;
    let res = app.call(Method::GET, "/health", None).await;
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    assert!(!res.headers().contains_key("strict-transport-security"));

    let prod = TestApp::spawn_with(&[
        ("ENVIRONMENT", "production"),
        ("BETTER_AUTH_SECRET", "Zq8v3Lr1Mx7Kp2Wd9Ty4Hb6Nc0Fs5Gj-x4Ke"),
        ("SECRET_KEY", "Pa4Rm8Xe2Vu6Qi0Lo3Jy7Tw1Bn5Kd9Ch-m2Qz"),
        ("DATABASE_URL", "postgres://db.internal/app?sslmode=require"),
    ])
    .await;
    let res = prod.call(Method::GET, "/health", None).await;
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
}

#[tokio::test]
async fn deeply_nested_bodies_are_a_400_not_a_crash() {
    let app = TestApp::spawn().await;
    let user = app.signup("nested@example.com").await;
    let path = format!("/api/{}/tasks", user.id);
    // As deep as 64 KiB allows: far past any recursion a parser should do.
    let depth = 30_000;
    for body in [
        format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
        format!(
            "{{\"title\": \"x\", \"tags\": {}{}}}",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    ] {
        let res = post_raw(&app, &path, &user.token, body).await;
        let err = expect_error(res, StatusCode::BAD_REQUEST, "malformed_json").await;
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("recursion"),
            "{err}"
        );
    }
    let (_, list) = app.list_tasks(&user, "").await;
    assert_eq!(
        list["tasks"],
        json!([]),
        "nothing stored, and still serving"
    );
}

/// A deadlock or serialization failure is a race the request lost, not a
/// fault: 503 with Retry-After, a code a client can act on, and nothing
/// stored, so sending it again is safe (issue 19).
#[tokio::test]
async fn deadlocks_and_serialization_failures_are_503_to_retry_and_store_nothing() {
    let app = TestApp::spawn().await;
    let user = app.signup("contended@example.com").await;
    let path = format!("/api/{}/tasks", user.id);
    for code in ["40P01", "40001"] {
        // What PostgreSQL raises in the transaction it picks as a deadlock's
        // victim, or cannot serialize.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE OR REPLACE FUNCTION lose_the_race() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '{code}'; END $$; \
             CREATE OR REPLACE TRIGGER lose_the_race BEFORE INSERT ON tasks \
             FOR EACH ROW EXECUTE FUNCTION lose_the_race();"
        )))
        .execute(&app.pool)
        .await
        .unwrap();
        let res = app
            .send_json(
                Method::POST,
                &path,
                Some(&user.token),
                &json!({"title": "Buy milk"}),
            )
            .await;
        assert_eq!(
            res.headers().get("retry-after").map(|v| v.as_bytes()),
            Some(&b"1"[..]),
            "{code}"
        );
        let err = expect_error(res, StatusCode::SERVICE_UNAVAILABLE, "transaction_conflict").await;
        assert!(!err.to_string().contains("forced"), "{code}: {err}");
    }
    let (_, list) = app.list_tasks(&user, "").await;
    assert_eq!(list["tasks"], json!([]), "nothing was stored");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE type LIKE 'task.%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(events, 0, "no event was recorded");

    // Once the race is over, the same request goes through.
    sqlx::query("DROP TRIGGER lose_the_race ON tasks")
        .execute(&app.pool)
        .await
        .unwrap();
    app.create_task(&user, json!({"title": "Buy milk"})).await;
}
