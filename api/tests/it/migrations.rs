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
            "chat_post_windows",
            "conversations",
            "events",
            "messages",
            "outbox",
            "rate_limits",
            "revoked_tokens",
            "task_completions",
            "task_numbers",
            "tasks",
            "users"
        ]
    );
    let total = db::migrate_status(&pool).await.unwrap().len();
    for _ in 0..total {
        assert_eq!(db::migrate_down(&pool, None).await.unwrap().len(), 1);
    }
    assert!(
        db::migrate_down(&pool, None).await.unwrap().is_empty(),
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
            .all(|m| m.state == db::MigrationState::Pending)
    );
    db::migrate_up(&pool, None).await.unwrap();
    assert_eq!(tables(&pool).await.len(), 12);
}

/// Issue 21: date-only due dates used to be stored as 23:59:59 UTC; the
/// migration makes them all-day, keeps every other instant and gives it its
/// day in the owner's zone; down goes back. Urgent goes back to high.
#[tokio::test]
async fn due_dates_and_priorities_migrate_both_ways() {
    let (_, pool) = fresh_database().await;
    let before_due_dates = 20261207000013;
    db::migrate_down(&pool, Some(before_due_dates))
        .await
        .unwrap();
    sqlx::raw_sql(
        "INSERT INTO users (id, email, password_hash, time_zone)
             VALUES ('u-berlin', 'b@example.com', 'x', 'Europe/Berlin');
         INSERT INTO task_numbers (user_id, last) VALUES ('u-berlin', 3);
         INSERT INTO tasks (user_id, number, title, due_at) VALUES
             ('u-berlin', 1, 'date only', '2026-12-08T23:59:59Z'),
             ('u-berlin', 2, 'late call', '2026-12-08T23:30:00Z'),
             ('u-berlin', 3, 'no date', NULL);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let rows = |pool: &sqlx::PgPool, columns: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (String, Option<String>)>(sqlx::AssertSqlSafe(format!(
                "SELECT title, {columns} FROM tasks ORDER BY number"
            )))
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let row = |title: &str, due: Option<&str>| (title.to_string(), due.map(String::from));

    db::migrate_up(&pool, None).await.unwrap();
    assert_eq!(
        rows(
            &pool,
            "due_date::text || coalesce(' ' || to_char(due_at AT TIME ZONE 'UTC', 'HH24:MI'), '')"
        )
        .await,
        [
            row("date only", Some("2026-12-08")),
            row("late call", Some("2026-12-09 23:30")),
            row("no date", None),
        ]
    );
    sqlx::query("UPDATE tasks SET priority = 'urgent' WHERE number = 1")
        .execute(&pool)
        .await
        .unwrap();

    db::migrate_down(&pool, Some(before_due_dates))
        .await
        .unwrap();
    assert_eq!(
        rows(
            &pool,
            "to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
        )
        .await,
        [
            row("date only", Some("2026-12-08 23:59:59")),
            row("late call", Some("2026-12-08 23:30:00")),
            row("no date", None),
        ]
    );
    assert_eq!(
        rows(&pool, "priority::text").await[0],
        row("date only", Some("high"))
    );
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

/// `todo-api migrate up|down [--to VERSION]|status`, as an operator runs it.
#[tokio::test]
async fn migrate_commands_apply_revert_and_report() {
    let name = crate::helpers::empty_database().await;
    let url = url_for(&name);
    let migrate = |args: &[&str]| {
        let mut all = vec!["migrate"];
        all.extend_from_slice(args);
        let out = todo_api(&all, &[("DATABASE_URL", &url), ("LOG_LEVEL", "error")]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let versions: Vec<i64> = db::MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect();
    let states = |status: &str| -> Vec<String> {
        status
            .lines()
            .map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_string())
            .collect()
    };

    let (code, status, _) = migrate(&["status"]);
    assert_eq!(code, Some(0));
    assert_eq!(states(&status), vec!["pending"; versions.len()]);

    let second = versions[1].to_string();
    let (code, out, _) = migrate(&["up", "--to", &second]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        format!(
            "applied migration {}\napplied migration {}\n",
            versions[0], versions[1]
        )
    );
    let (_, status, _) = migrate(&["status"]);
    let mut expected = vec!["applied"; 2];
    expected.extend(vec!["pending"; versions.len() - 2]);
    assert_eq!(states(&status), expected);

    let (code, _, _) = migrate(&["up"]);
    assert_eq!(code, Some(0));
    let (_, status, _) = migrate(&["status"]);
    assert_eq!(states(&status), vec!["applied"; versions.len()]);
    let (_, out, _) = migrate(&["up"]);
    assert_eq!(out, "nothing to apply\n");

    let newest = versions.last().unwrap();
    let (code, out, _) = migrate(&["down"]);
    assert_eq!(
        (code, out),
        (Some(0), format!("reverted migration {newest}\n"))
    );
    let (code, out, _) = migrate(&["down", "--to", &versions[0].to_string()]);
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), versions.len() - 2, "{out}");
    let (_, status, _) = migrate(&["status"]);
    assert_eq!(states(&status)[..2], ["applied", "pending"]);

    let (code, _, err) = migrate(&["up", "--to", "42"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no migration 42"), "{err}");

    let (code, _, _) = migrate(&["down", "--to", "0"]);
    assert_eq!(code, Some(0));
    let (_, status, _) = migrate(&["status"]);
    assert_eq!(states(&status), vec!["pending"; versions.len()]);
}

/// An API that does not migrate (production) waits for `migrate up`, then serves.
#[tokio::test]
async fn an_api_without_run_migrations_waits_for_them() {
    let name = crate::helpers::empty_database().await;
    let url = url_for(&name);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_todo-api"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ENVIRONMENT", "test")
        .env("LOG_FORMAT", "text")
        .env("DATABASE_URL", &url)
        .env("RUN_MIGRATIONS", "false")
        .env("API_HOST", "127.0.0.1")
        .env("API_PORT", "0")
        .env("WEB_ENABLED", "false")
        .env("RABBITMQ_QUEUE_EXPIRES_SECONDS", "600")
        .env(
            "RABBITMQ_PREFIX",
            format!("wait{}", &name[name.len() - 8..]),
        )
        .current_dir(std::env::temp_dir());
    let api = crate::helpers::LoggedProcess::spawn(cmd);
    let wait = std::time::Duration::from_secs(30);
    api.wait_for_line("waiting for migrations: run `todo-api migrate up`", wait)
        .await;
    assert!(!api.output().contains("API listening"));
    let out = todo_api(&["migrate", "up"], &[("DATABASE_URL", &url)]);
    assert!(out.status.success());
    api.wait_for_line("API listening", wait).await;
}
