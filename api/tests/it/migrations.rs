//! Migrations (up, down, status), the `todo-api` command line and start-up
//! configuration checks, through the real binary.

use std::process::Command;

use sqlx::{Connection, PgConnection};
use todo_common::db;

use crate::helpers::{fresh_database, url_for};

async fn tables(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' \
         AND tablename <> '_sqlx_migrations' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_migration_reverts_and_reapplies() {
    let (_, pool) = fresh_database().await;
    assert_eq!(
        tables(&pool).await,
        [
            "auth_throttle",
            "conversations",
            "messages",
            "tasks",
            "users"
        ]
    );
    let total = db::migrate_status(&pool).await.unwrap().len();
    for _ in 0..total {
        assert!(db::migrate_down_one(&pool).await.unwrap().is_some());
    }
    assert!(
        db::migrate_down_one(&pool).await.unwrap().is_none(),
        "nothing left to revert"
    );
    assert!(
        tables(&pool).await.is_empty(),
        "down scripts remove everything"
    );
    assert!(
        db::migrate_status(&pool)
            .await
            .unwrap()
            .iter()
            .all(|m| !m.applied)
    );
    db::migrate_up(&pool).await.unwrap();
    assert_eq!(tables(&pool).await.len(), 5);
}

#[tokio::test]
async fn the_checklist_indexes_exist() {
    let (_, pool) = fresh_database().await;
    let indexes: Vec<String> =
        sqlx::query_scalar("SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'")
            .fetch_all(&pool)
            .await
            .unwrap();
    for name in [
        "idx_conversations_user_id",
        "idx_conversations_created_at",
        "idx_messages_conversation_id",
        "idx_tasks_user_id",
    ] {
        assert!(indexes.iter().any(|i| i == name), "missing {name}");
    }
}

fn todo_api(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_todo-api"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Run in an empty directory so no developer .env file leaks in.
    cmd.current_dir(std::env::temp_dir());
    cmd.output().expect("run todo-api")
}

#[tokio::test]
async fn migrate_command_creates_the_database_and_reports_status() {
    let name = format!(
        "todo_test_{}_cli{}",
        chrono::Utc::now().timestamp(),
        uuid::Uuid::new_v4().simple()
    );
    let url = url_for(&name);
    let env = [("DATABASE_URL", url.as_str()), ("LOG_LEVEL", "error")];

    let out = todo_api(&["migrate", "status"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        status.lines().count() >= 3 && status.lines().all(|l| l.contains("pending")),
        "{status}"
    );

    let out = todo_api(&["migrate", "up"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = todo_api(&["migrate", "status"], &env);
    let status = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(status.lines().all(|l| l.contains("applied")), "{status}");

    let out = todo_api(&["migrate", "down"], &env);
    assert!(String::from_utf8_lossy(&out.stdout).contains("reverted migration"));
    let out = todo_api(&["migrate", "status"], &env);
    let status = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        status.lines().filter(|l| l.contains("pending")).count(),
        1,
        "{status}"
    );

    let mut conn = PgConnection::connect(&url).await.unwrap();
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('tasks') IS NOT NULL")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(exists, "only the newest migration was reverted");

    let out = todo_api(&["frobnicate"], &env);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn production_refuses_to_start_and_lists_every_problem() {
    let out = todo_api(
        &["serve"],
        &[
            ("ENVIRONMENT", "production"),
            ("DEBUG", "true"),
            ("BETTER_AUTH_SECRET", "too-short"),
            ("SECRET_KEY", "changeme-changeme-changeme-changeme-42"),
            ("ALLOWED_ORIGINS", "*"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
            (
                "DATABASE_URL",
                "postgres://app:hunter2-db-password@db.internal/app",
            ),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "BETTER_AUTH_SECRET",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_ORIGINS",
        "sslmode=require",
    ] {
        assert!(stderr.contains(needle), "missing {needle} in:\n{stderr}");
    }
    for secret in ["too-short", "hunter2-db-password", "changeme-changeme"] {
        assert!(
            !stderr.contains(secret),
            "secret {secret} printed:\n{stderr}"
        );
    }
}
