#!/usr/bin/env bash
# Runs the whole test suite against this machine's PostgreSQL and RabbitMQ:
# the Rust tests, then a RabbitMQ cluster losing nodes under load
# (scripts/cluster-check.sh), the web app's browser tests on the debug binaries,
# the official MCP clients (scripts/mcp-clients.sh),
# then the operations files' checks (scripts/ops-check.sh), and
# Schemathesis against the API's /openapi.json (scripts/contract.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
# Built first: todo-api embeds web/dist.
scripts/web.sh build
# The query! macros check our SQL against the committed .sqlx/, never a
# database (also .cargo/config.toml's default; said here, as CI depends on it).
# api/tests/ops/sql_metadata.rs fails when .sqlx/ is stale.
export SQLX_OFFLINE=true
# Every target with tests (`--tests` honours `test = false`, `--all-targets`
# does not); the binaries the tests run are built too, for the scripts below.
cargo test --workspace --tests "$@"
# A three-node RabbitMQ cluster losing its turn queue's leader twice under
# load: nothing lost or repeated, every turn answered within 30 s.
scripts/cluster-check.sh
scripts/web.sh test
# MCP clients no one here wrote (Python SDK, Inspector CLI) against the debug todo-api.
SKIP_BUILD=1 scripts/mcp-clients.sh
# promtool / amtool / nginx -t / docker-compose config, and an alert delivered end to end.
scripts/ops-check.sh
# The API against its own OpenAPI document, checked by Schemathesis
# (binaries built above).
SKIP_BUILD=1 scripts/contract.sh
