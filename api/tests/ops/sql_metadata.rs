//! .sqlx/ is what the query! macros check our SQL against in an offline
//! build (CI, the Dockerfile, every `cargo build` here: .cargo/config.toml),
//! so it must say what the migrations make of each query. A query without
//! metadata already fails the build; this test catches the rest, as
//! `cargo sqlx prepare --check` would without installing sqlx-cli: against
//! a freshly migrated database, every `.sqlx/query-*.json` must
//! - be named after the SHA-256 of its query (as the macros look it up),
//! - describe its query as PostgreSQL describes it now (a migration that
//!   changes a column's type or nullability makes the stored one stale),
//! - belong to a query!/query_as!/query_scalar! in our sources (no orphans).
//!
//! The fix for each is the same: `scripts/sqlx-prepare.sh`, then commit .sqlx/.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, SqlSafeStr};
use testkit::{fresh_database, url_for};

use crate::root;

/// Where the workspace's Rust sources are.
const SOURCE_DIRS: &[&str] = &[
    "api",
    "worker",
    "common",
    "assistant",
    "bench",
    "testkit",
    "mock-openai",
];

const FIX: &str = "run scripts/sqlx-prepare.sh and commit .sqlx/";

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// True when `before` (the source up to a string literal) ends inside a
/// query macro's parentheses, just before its SQL.
fn opens_query_macro(before: &str) -> bool {
    let before = before.trim_end();
    if before.ends_with("query!(") || before.ends_with("query_scalar!(") {
        return true;
    }
    // query_as!(Record, "...")
    let Some(rest) = before.strip_suffix(',') else {
        return false;
    };
    let Some(at) = rest.rfind("query_as!(") else {
        return false;
    };
    let record = rest[at + "query_as!(".len()..].trim();
    !record.is_empty()
        && record
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
}

/// Whether `query` is the SQL of a macro in `sources`, written as a raw
/// string (`r#"..."#`, `r"..."`) or a plain literal without escapes: then
/// the literal's text is the query, character for character.
fn used_by_a_macro(sources: &[String], query: &str) -> bool {
    let literals = [
        format!("r#\"{query}\"#"),
        format!("r\"{query}\""),
        format!("\"{query}\""),
    ];
    sources.iter().any(|text| {
        literals.iter().any(|literal| {
            text.match_indices(literal.as_str())
                .any(|(at, _)| opens_query_macro(&text[..at]))
        })
    })
}

#[tokio::test]
async fn the_sqlx_metadata_matches_the_migrations_and_the_sources() {
    let dir = root().join(".sqlx");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; {FIX}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no metadata in .sqlx/; {FIX}");

    let mut paths = Vec::new();
    for crate_dir in SOURCE_DIRS {
        rust_sources(&root().join(crate_dir), &mut paths);
    }
    let sources: Vec<String> = paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();

    // A connection of its own, as the macros use: one that has run a query
    // (the pool's, migrating) answers for it from its statement cache,
    // without the columns' tables.
    let (db, _pool) = fresh_database().await;
    let mut conn = PgConnection::connect(&url_for(&db)).await.unwrap();
    let mut problems = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let stored: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let query = stored["query"].as_str().unwrap_or_default().to_string();
        let hash = format!("{:x}", Sha256::digest(query.as_bytes()));
        // The query on one line, cut short: enough to find it.
        let mut shown: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some((cut, _)) = shown.char_indices().nth(100) {
            shown.truncate(cut);
            shown.push_str("...");
        }
        if name != format!("query-{hash}.json") || stored["hash"] != hash.as_str() {
            problems.push(format!(
                "{name}: not named after its query's SHA-256 ({hash}): {shown}"
            ));
            continue;
        }
        if !used_by_a_macro(&sources, &query) {
            problems.push(format!(
                "{name}: no query!/query_as!/query_scalar! in the sources has this SQL \
                 (write a macro's SQL as r#\"...\"# or a plain literal without escapes, \
                 so this test can find it): {shown}"
            ));
            continue;
        }
        match conn
            .describe(AssertSqlSafe(query.clone()).into_sql_str())
            .await
        {
            Ok(described) => {
                let now = serde_json::to_value(&described).unwrap();
                if now != stored["describe"] {
                    problems.push(format!(
                        "{name}: stale, the migrations now describe it as\n  {now}\n  \
                         not as stored\n  {}\n  query: {shown}",
                        stored["describe"]
                    ));
                }
            }
            Err(e) => problems.push(format!("{name}: PostgreSQL refuses it now ({e}): {shown}")),
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} files in .sqlx/ are wrong; {FIX}:\n{}",
        problems.len(),
        files.len(),
        problems.join("\n")
    );
}
