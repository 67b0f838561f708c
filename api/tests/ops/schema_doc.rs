//! docs/schema.md is generated from the migrated database, so it cannot
//! drift from migrations/: this test migrates a fresh database, renders the
//! page and fails when the committed one differs. To regenerate after adding
//! a migration: `scripts/schema-doc.sh` (UPDATE_SCHEMA_DOC=1 on this test).

use sqlx::PgPool;
use testkit::fresh_database;

use crate::root;

async fn render(pool: &PgPool) -> String {
    let mut out = String::from(
        "# Database schema\n\n\
         Generated from `migrations/` by `scripts/schema-doc.sh` (the test\n\
         `api/tests/ops/schema_doc.rs` fails when this page is stale). Do not edit by hand:\n\
         write a migration, then regenerate. Why each table exists:\n\
         [architecture.md](architecture.md); backups: [deployment.md](deployment.md).\n\n\
         ## Migrations\n\n| version | description |\n|---|---|\n",
    );
    let migrations: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, description FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await
            .unwrap();
    for (version, description) in migrations {
        out.push_str(&format!("| {version} | {description} |\n"));
    }
    let tables: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT c.relname::text, obj_description(c.oid, 'pg_class') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> '_sqlx_migrations' \
         ORDER BY c.relname",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, comment) in tables {
        out.push_str(&format!("\n## {table}\n\n"));
        if let Some(c) = comment {
            out.push_str(&format!("{c}\n\n"));
        }
        out.push_str("| column | type | null | default |\n|---|---|---|---|\n");
        let columns: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, \
                    pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        )
        .bind(format!("public.\"{table}\""))
        .fetch_all(pool)
        .await
        .unwrap();
        for (name, ty, nullable, default) in columns {
            out.push_str(&format!(
                "| `{name}` | {ty} | {} | {} |\n",
                if nullable { "yes" } else { "no" },
                default
                    .map(|d| format!("`{}`", d.replace('|', "\\|")))
                    .unwrap_or_default()
            ));
        }
        let constraints: Vec<(String, String)> = sqlx::query_as(
            "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = $1::regclass ORDER BY contype, conname",
        )
        .bind(format!("public.\"{table}\""))
        .fetch_all(pool)
        .await
        .unwrap();
        if !constraints.is_empty() {
            out.push_str("\nConstraints:\n\n");
            for (name, def) in constraints {
                out.push_str(&format!("- `{name}`: `{def}`\n"));
            }
        }
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT indexname::text, indexdef FROM pg_indexes \
             WHERE schemaname = 'public' AND tablename = $1 ORDER BY indexname",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .unwrap();
        if !indexes.is_empty() {
            out.push_str("\nIndexes:\n\n");
            for (name, def) in indexes {
                let def = def.replace(" ON public.", " ON ");
                out.push_str(&format!("- `{name}`: `{def}`\n"));
            }
        }
    }
    let functions: Vec<String> = sqlx::query_scalar(
        "SELECT p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')' \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = 'public' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    if !functions.is_empty() {
        out.push_str("\n## Functions\n\n");
        for f in functions {
            out.push_str(&format!("- `{f}`\n"));
        }
    }
    out
}

#[tokio::test]
async fn the_schema_page_matches_the_migrations() {
    let (_name, pool) = fresh_database().await;
    let page = render(&pool).await;
    let path = root().join("docs/schema.md");
    if std::env::var_os("UPDATE_SCHEMA_DOC").is_some() {
        std::fs::write(&path, &page).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == page,
        "docs/schema.md is stale: run scripts/schema-doc.sh and commit the result"
    );
    pool.close().await;
}
