//! scripts/backup.sh and scripts/restore.sh against the real PostgreSQL: a
//! database with data is backed up, restored into a fresh database and
//! compared table by table; a restore refuses to mix into a database that
//! holds data unless told to replace it, and then replaces it exactly.

use std::process::Command;

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;
use testkit::{TestApp, url_for};

use crate::root;

/// Every public table's rows, as one digest per table (and its row count).
async fn contents(pool: &PgPool) -> Vec<(String, i64, String)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let (count, digest): (i64, Option<String>) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{table}\" t"
        )))
        .fetch_one(pool)
        .await
        .unwrap();
        out.push((table, count, digest.unwrap_or_default()));
    }
    out
}

fn script(name: &str, database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(root().join("scripts").join(name))
        .args(args)
        .env("DATABASE_URL", database_url)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{name}: {e}"))
}

#[tokio::test]
async fn a_backup_restores_into_a_fresh_database_with_every_row() {
    let app = TestApp::spawn().await;
    let user = app.signup("backup@example.com").await;
    app.create_task(
        &user,
        json!({"title": "survives the restore", "tags": ["a", "b"]}),
    )
    .await;
    app.create_task(&user, json!({"title": "so does this", "priority": "high"}))
        .await;
    let res = app
        .call(Method::POST, "/api/auth/logout", Some(&user.token))
        .await;
    assert_eq!(res.status(), 204);
    let source_url = app.config.database.url.expose().to_string();
    let before = contents(&app.pool).await;
    assert!(
        before.iter().any(|(t, n, _)| t == "tasks" && *n == 2),
        "{before:?}"
    );
    assert!(
        before
            .iter()
            .any(|(t, n, _)| t == "_sqlx_migrations" && *n > 0)
    );

    let dir = std::env::temp_dir().join(format!("todo-backup-{}", uuid::Uuid::new_v4().simple()));
    let file = dir.join("backup.dump");
    let file = file.to_str().unwrap();
    let out = script("backup.sh", &source_url, &[file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), file);

    // Into a database that does not exist yet: the script creates it.
    let target_name = format!(
        "todo_test_{}_{}",
        chrono::Utc::now().timestamp(),
        uuid::Uuid::new_v4().simple()
    );
    let target_url = url_for(&target_name);
    let out = script("restore.sh", &target_url, &[file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = PgPool::connect(&target_url).await.unwrap();
    assert_eq!(
        contents(&target).await,
        before,
        "the restored database equals the source"
    );

    // A second restore would mix rows: refused, nothing changed.
    sqlx::query("UPDATE tasks SET title = 'changed after the backup'")
        .execute(&target)
        .await
        .unwrap();
    let changed = contents(&target).await;
    let out = script("restore.sh", &target_url, &[file]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replace"));
    assert_eq!(contents(&target).await, changed);

    // --replace: exactly the backup again, also without tables added since.
    sqlx::query("CREATE TABLE added_by_a_later_migration (id int)")
        .execute(&target)
        .await
        .unwrap();
    let out = script("restore.sh", &target_url, &["--replace", file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(contents(&target).await, before);
    target.close().await;

    // A corrupt file fails the restore and leaves the database as it was.
    let broken = dir.join("broken.dump");
    std::fs::write(&broken, b"PGDMP not really").unwrap();
    let out = script(
        "restore.sh",
        &target_url,
        &["--replace", broken.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let target = PgPool::connect(&target_url).await.unwrap();
    assert_eq!(contents(&target).await, before);
    target.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
