//! scripts/backup.sh and scripts/restore.sh against the real PostgreSQL: a
//! database with data is backed up, restored into a fresh database and
//! compared table by table; a restore refuses to mix into a database that
//! holds data unless told to replace it, and then replaces it exactly. The
//! dump is readable by its owner only, and the database password never
//! reaches a command line (issue 19).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;
use testkit::{TestApp, fresh_database, url_for};

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

/// scripts/`name` under umask 022, as cron and most shells run it: what the
/// files it writes may be read by is the script's own choice.
fn command(name: &str, database_url: &str, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .args(["-c", "umask 022 && exec \"$0\" \"$@\""])
        .arg(root().join("scripts").join(name))
        .args(args)
        .env("DATABASE_URL", database_url)
        .current_dir(std::env::temp_dir());
    command
}

fn script(name: &str, database_url: &str, args: &[&str]) -> std::process::Output {
    run(name, command(name, database_url, args))
}

fn run(name: &str, mut command: Command) -> std::process::Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("run scripts/{name}: {e}"))
}

fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("todo-backup-{}", uuid::Uuid::new_v4().simple()))
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

    let dir = temp_dir();
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

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn a_backup_and_the_directory_made_for_it_are_readable_by_their_owner_only() {
    let (name, pool) = fresh_database().await;
    let dir = temp_dir();
    let file = dir.join("nightly").join("backup.dump");
    let out = script("backup.sh", &url_for(&name), &[file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every user's email, password hash and chats are in it.
    assert_eq!(mode(&file), 0o600, "the dump");
    assert_eq!(
        mode(&dir.join("nightly")),
        0o700,
        "the directory made for it"
    );
    pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// `postgres://user@host/db` with `password` (as written in a URL) added.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.split_once('@').expect("the test URL names its user");
    let user = userinfo.split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{host}")
}

/// `pg_dump`, `pg_restore` and `psql` stand-ins in `bin` that append their
/// arguments to `log`/argv and their PGPASSWORD to `log`/env, then run the
/// real tool.
fn recording_wrappers(bin: &Path, log: &Path) {
    std::fs::create_dir_all(bin).unwrap();
    for tool in ["pg_dump", "pg_restore", "psql"] {
        let real = std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .map(|dir| dir.join(tool))
            .find(|path| path.is_file())
            .unwrap_or_else(|| panic!("{tool} is not on PATH"));
        let wrapper = bin.join(tool);
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\n\
                 printf '%s %s\\n' {tool} \"$*\" >> '{log}/argv'\n\
                 printf '%s %s\\n' {tool} \"${{PGPASSWORD-}}\" >> '{log}/env'\n\
                 exec '{real}' \"$@\"\n",
                log = log.display(),
                real = real.display(),
            ),
        )
        .unwrap();
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[tokio::test]
async fn the_database_password_never_appears_on_a_command_line() {
    // PostgreSQL here trusts 127.0.0.1, so a URL with a password connects:
    // enough to see where the password travels. `%2F` is a `/`, as a
    // password with one is written in a URL.
    let (encoded, password) = ("Nk4-s3cr%2Ft", "Nk4-s3cr/t");
    let (name, pool) = fresh_database().await;
    let before = contents(&pool).await;
    let dir = temp_dir();
    let (bin, file) = (dir.join("bin"), dir.join("backup.dump"));
    recording_wrappers(&bin, &dir);
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let with_wrappers = |name: &str, url: &str, args: &[&str]| {
        let mut command = command(name, &with_password(url, encoded), args);
        command.env("PATH", &path);
        let out = run(name, command);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };

    with_wrappers("backup.sh", &url_for(&name), &[file.to_str().unwrap()]);
    let target_name = format!(
        "todo_test_{}_{}",
        chrono::Utc::now().timestamp(),
        uuid::Uuid::new_v4().simple()
    );
    with_wrappers(
        "restore.sh",
        &url_for(&target_name),
        &[file.to_str().unwrap()],
    );
    let target = PgPool::connect(&url_for(&target_name)).await.unwrap();
    assert_eq!(contents(&target).await, before, "the backup still restores");

    // What `ps` and /proc/<pid>/cmdline show: no password, in either spelling.
    let argv = std::fs::read_to_string(dir.join("argv")).unwrap();
    for tool in ["pg_dump ", "pg_restore ", "psql "] {
        assert!(
            argv.lines().any(|l| l.starts_with(tool)),
            "{tool}ran:\n{argv}"
        );
    }
    for secret in [encoded, password, "Nk4-s3cr"] {
        assert!(
            !argv.contains(secret),
            "`{secret}` on a command line:\n{argv}"
        );
    }
    // It travels in the environment of the tools that connect instead,
    // decoded (pg_restore only reads and writes files here).
    let env = std::fs::read_to_string(dir.join("env")).unwrap();
    for line in env
        .lines()
        .filter(|l| l.starts_with("pg_dump ") || l.starts_with("psql "))
    {
        assert!(line.ends_with(&format!(" {password}")), "{line}");
    }
    target.close().await;
    pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
