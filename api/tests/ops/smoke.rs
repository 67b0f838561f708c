//! `todo-api smoke`'s logic against a running instance (the API and a worker
//! with the offline assistant, on the real PostgreSQL and RabbitMQ): every
//! item passes and what it created is gone afterwards; and the items fail
//! when the instance is missing, the credentials are wrong or the origin is
//! not allowed.

use testkit::TestApp;
use todo_api::ops::Status;
use todo_api::ops::smoke::{Options, smoke};

#[tokio::test]
async fn a_deployment_passes_every_item_and_is_left_clean() {
    let app = TestApp::spawn_with(&[("WEB_ENABLED", "false")]).await;
    let worker = app.spawn_worker(None, &[]).await;
    let mut options = Options::new(&app.base);
    options.origin = Some("https://app.example.com".into());
    let report = smoke(&options).await;
    let text = report.to_text();
    assert!(report.passed(), "{text}");
    for id in [
        "health",
        "signup",
        "login",
        "auth.required",
        "chat",
        "tasks.pending",
        "events",
        "conversation",
        "errors",
        "cors",
        "web",
        "docs",
        "cleanup",
    ] {
        assert_eq!(
            report.get(id).map(|c| c.status.clone()),
            Some(Status::Pass),
            "{id}:\n{text}"
        );
    }
    // What it made is gone: no task, no conversation, every token revoked.
    let user: String = sqlx::query_scalar("SELECT id FROM users WHERE email LIKE 'smoke-%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let left: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM tasks WHERE user_id = $1), \
                (SELECT count(*) FROM conversations WHERE user_id = $1)",
    )
    .bind(&user)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(left, (0, 0), "{text}");
    let revoked: bool =
        sqlx::query_scalar("SELECT tokens_valid_after IS NOT NULL FROM users WHERE id = $1")
            .bind(&user)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(revoked, "the throwaway account is logged out everywhere");

    // Given credentials are used instead of a sign-up, and a wrong
    // origin fails the CORS item.
    let mut options = Options::new(&app.base);
    options.credentials = Some(("reuse@example.com".into(), "correct horse battery".into()));
    app.send_json(
        reqwest::Method::POST,
        "/api/auth/signup",
        None,
        &serde_json::json!({"email": "reuse@example.com", "password": "correct horse battery"}),
    )
    .await;
    options.origin = Some("https://evil.example.net".into());
    let report = smoke(&options).await;
    assert!(report.get("signup").is_none(), "{}", report.to_text());
    assert_eq!(report.get("login").unwrap().status, Status::Pass);
    assert_eq!(
        report.get("cors").unwrap().status,
        Status::Fail,
        "{}",
        report.to_text()
    );
    assert!(!report.passed());
    worker.stop().await;
}

#[tokio::test]
async fn no_instance_fails_at_health_and_stops() {
    let port = testkit::free_port();
    let report = smoke(&Options::new(format!("http://127.0.0.1:{port}"))).await;
    assert_eq!(report.checks.len(), 1, "{}", report.to_text());
    assert_eq!(report.get("health").unwrap().status, Status::Fail);
    assert!(!report.passed());
}

#[tokio::test]
async fn wrong_credentials_fail_at_login() {
    let app = TestApp::spawn().await;
    let mut options = Options::new(&app.base);
    options.credentials = Some(("nobody@example.com".into(), "not the password".into()));
    let report = smoke(&options).await;
    let login = report.get("login").unwrap();
    assert_eq!(login.status, Status::Fail, "{}", report.to_text());
    assert!(login.reason.contains("401"), "{}", login.reason);
    assert!(!report.passed());
}
