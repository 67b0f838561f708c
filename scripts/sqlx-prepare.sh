#!/usr/bin/env bash
# Rewrites .sqlx/, the metadata the sqlx::query! family of macros checks our
# SQL with when the build is offline (SQLX_OFFLINE=true: .cargo/config.toml,
# scripts/test.sh, the Dockerfile). Run it after adding or changing a
# query! / query_as! / query_scalar!, or a migration, and commit .sqlx/ with
# the change; api/tests/ops/sql_metadata.rs fails while it is stale.
#
# What `cargo sqlx prepare` does, without installing sqlx-cli (minutes of
# compiling on 2 cores): the macros write their own metadata when they expand
# against a database with SQLX_OFFLINE_DIR set. So: a scratch database with
# migrations/ applied, .sqlx/ emptied, every crate of ours expanded again by
# `cargo check` online, the scratch database dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh

# The admin connection the tests use (testkit), and a database of our own.
admin=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db="todo_sqlx_prepare_$(date +%s)_$$"
url="${admin%/*}/$db"
psql -q -X -v ON_ERROR_STOP=1 "$admin" -c "CREATE DATABASE \"$db\""
trap 'psql -q -X "$admin" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"' EXIT

# Migrated as sqlx migrates (todo-api cannot do it: it is built with these
# macros): each *.up.sql in version order in a transaction (unless it says
# otherwise), recorded in
# sqlx's own table, whose columns some queries (migrate status, preflight) read.
psql -q -X -v ON_ERROR_STOP=1 "$url" <<'SQL'
CREATE TABLE _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);
SQL
for up in migrations/*.up.sql; do
  name=$(basename "$up" .up.sql)
  version=${name%%_*}
  description=${name#*_}
  checksum=$(sha384sum "$up" | cut -d' ' -f1)
  # A migration starting "-- no-transaction" (CREATE INDEX CONCURRENTLY)
  # runs outside one, as sqlx runs it.
  tx=--single-transaction
  [[ $(head -n1 "$up") == "-- no-transaction"* ]] && tx=
  psql -q -X -v ON_ERROR_STOP=1 $tx "$url" -f "$up" \
    -c "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
        VALUES ($version, '${description//_/ }', true, decode('$checksum', 'hex'), 0)"
done

# The macros do not tell cargo which database or files they read, so an
# unchanged crate would not expand again: touch every source of ours. A
# compile error stops the script with .sqlx/ partly written: fix, run again.
rm -f .sqlx/query-*.json
mkdir -p .sqlx
find api worker common assistant bench testkit mock-openai -name '*.rs' -exec touch {} +
DATABASE_URL=$url SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$PWD/.sqlx" \
  cargo check --workspace --all-targets --quiet
echo "$(ls .sqlx/query-*.json 2>/dev/null | wc -l) queries in .sqlx/; commit it with the change"
