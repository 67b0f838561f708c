//! Migrations (up, down, status), also through the `todo-api` binary.

use sqlx::{Connection, PgConnection};
use todo_common::db;

use crate::helpers::{fresh_database, todo_api, url_for};

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
            "events",
            "messages",
            "outbox",
            "rate_limits",
            "revoked_tokens",
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
    assert_eq!(tables(&pool).await.len(), 9);
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
