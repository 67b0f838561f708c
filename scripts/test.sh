#!/usr/bin/env bash
# Runs the whole test suite against this machine's PostgreSQL and RabbitMQ:
# the Rust tests, then, in one lane, a RabbitMQ cluster losing nodes under
# load (scripts/cluster-check.sh), the web app's browser tests on the debug
# binaries and the operations files' checks (scripts/ops-check.sh), and
# beside it, in another, Schemathesis against the API's /openapi.json
# (scripts/contract.sh) and the official MCP clients (scripts/mcp-clients.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
# Built first: todo-api embeds web/dist.
scripts/web.sh build
# The query! macros check our SQL against the committed .sqlx/, never a
# database (also .cargo/config.toml's default; said here, as CI depends on it).
# api/tests/ops/sql_metadata.rs fails when .sqlx/ is stale.
export SQLX_OFFLINE=true
# The tests wait on sockets, processes and clocks far more than on the two
# cores: four at a time halve the integration binaries' wall time (six
# still pass; twelve run PostgreSQL out of its 100 connections).
export RUST_TEST_THREADS=${RUST_TEST_THREADS:-4}
mkdir -p target/ci
lane=""
cleanup() {
  # The lane is its own process group (setsid): stop all of it.
  if [[ -n $lane ]]; then kill -TERM -- "-$lane" 2>/dev/null || true; wait "$lane" 2>/dev/null || true; fi
  scripts/rabbitmq-cluster.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
# The cluster check's three RabbitMQ nodes boot (~40 s, mostly waiting)
# while the tests build and run; the check finds them running.
if [[ $(id -u) == 0 || $(id -un) == rabbitmq ]]; then
  scripts/rabbitmq-cluster.sh start >target/ci/cluster-start.log 2>&1 &
  booting=$!
fi
# Every target with tests (`--tests` honours `test = false`, `--all-targets`
# does not); the binaries the tests run are built too, for the scripts below.
cargo test --workspace --tests "$@"
[[ -n ${booting:-} ]] && { wait "$booting" || cat target/ci/cluster-start.log; }

# Two lanes from here, of about equal length and each mostly waiting on
# its own work; the background one is printed when done.
# - Schemathesis: the API against its own OpenAPI document; then the MCP
#   clients no one here wrote (Python SDK, Inspector CLI). Both against
#   the debug binaries built above.
setsid bash -c 'set -e; SKIP_BUILD=1 scripts/contract.sh; SKIP_BUILD=1 scripts/mcp-clients.sh' \
  >target/ci/lane.log 2>&1 &
lane=$!
# - A three-node RabbitMQ cluster losing its turn queue's leader twice under
#   load: nothing lost or repeated, every turn answered within 30 s.
scripts/cluster-check.sh
scripts/web.sh test
# - promtool / amtool / nginx -t / docker-compose config, and an alert
#   delivered end to end.
scripts/ops-check.sh
status=0
wait "$lane" || status=$?
lane=""
echo "--- contract and MCP clients (target/ci/lane.log) ---"
cat target/ci/lane.log
exit "$status"
