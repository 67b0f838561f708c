#!/usr/bin/env bash
# MCP clients no one here wrote, against a real todo-api (issue 12):
#  - the official Python SDK (PyPI `mcp`, pinned) connects over Streamable
#    HTTP with a bearer token, initializes, lists the tools, adds a task and
#    lists it back; the task is then read through the REST API;
#  - the MCP Inspector's command-line mode (npm `@modelcontextprotocol/inspector`,
#    pinned) lists the tools.
# Both are installed under target/mcp-clients/ (git-ignored) on first run.
# Needs PostgreSQL and RabbitMQ (scripts/services.sh) and a debug todo-api.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
MCP_PY_VERSION=2.3.0
INSPECTOR_VERSION=2.12.0
clients="$root/target/mcp-clients"

if ! "$clients/venv/bin/python" -c "import mcp" 2>/dev/null \
  || [ "$("$clients/venv/bin/pip" show mcp 2>/dev/null | sed -n 's/^Version: //p')" != "$MCP_PY_VERSION" ]; then
  python3 -m venv "$clients/venv"
  "$clients/venv/bin/pip" install -q "mcp==$MCP_PY_VERSION"
fi
inspector="$clients/node/node_modules/.bin/inspector"
if [ ! -x "$inspector" ] \
  || ! grep -q "\"version\": \"$INSPECTOR_VERSION\"" "$clients/node/node_modules/@modelcontextprotocol/inspector/package.json"; then
  mkdir -p "$clients/node"
  echo '{"private": true}' >"$clients/node/package.json"
  # --prefix keeps npm (and the package's postinstall) out of the repository.
  npm install --prefix "$clients/node" --no-audit --no-fund --silent \
    "@modelcontextprotocol/inspector@$INSPECTOR_VERSION"
fi

scripts/services.sh
# scripts/test.sh has built it already (SKIP_BUILD=1).
if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --bin todo-api
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api_port=$(free_port)
mcp_port=$(free_port)
db="todo_test_$(date +%s)_mcpclients$$"
tmp=$(mktemp -d)
api_pid=""
cleanup() {
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
  psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
psql -h 127.0.0.1 -U postgres -q -c "CREATE DATABASE \"$db\""

env -i PATH="$PATH" ENVIRONMENT=test LOG_LEVEL=warn WEB_ENABLED=false \
  BETTER_AUTH_SECRET=mcp-clients-test-only-secret-0123456789abcdef \
  SECRET_KEY=mcp-clients-test-only-secret-key-0123456789 \
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" \
  RABBITMQ_PREFIX="mcpclients$$" RABBITMQ_QUEUE_EXPIRES_SECONDS=600 \
  API_HOST=127.0.0.1 API_PORT="$api_port" \
  MCP_ENABLED=true MCP_SERVER_HOST=127.0.0.1 MCP_SERVER_PORT="$mcp_port" \
  target/debug/todo-api serve >"$tmp/api.log" 2>&1 &
api_pid=$!
api="http://127.0.0.1:$api_port"
mcp="http://127.0.0.1:$mcp_port/mcp"
for _ in $(seq 1 100); do
  curl -fs "$api/health" | grep -q '"broker_connected":true' && break
  kill -0 "$api_pid" 2>/dev/null || { cat "$tmp/api.log"; exit 1; }
  sleep 0.2
done

signup=$(curl -fs -X POST "$api/api/auth/signup" -H 'content-type: application/json' \
  -d '{"email":"mcp-clients@example.com","password":"correct horse battery","name":"MCP"}')
token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' <<<"$signup")
user=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["id"])' <<<"$signup")

echo "== MCP Python SDK $MCP_PY_VERSION"
"$clients/venv/bin/python" scripts/mcp/python_client.py "$mcp" "$api" "$user" "$token"

echo "== MCP Inspector CLI $INSPECTOR_VERSION"
tools=$(HOME="$tmp" "$inspector" --cli "$mcp" --transport http \
  --header "Authorization: Bearer $token" --method tools/list)
for name in add_task list_tasks complete_task update_task delete_task; do
  grep -q "\"$name\"" <<<"$tools" || { echo "the Inspector did not list $name: $tools" >&2; exit 1; }
done
echo "the Inspector lists all five tools"
