#!/usr/bin/env bash
# The API contract tested by a tool no one here wrote: Schemathesis reads
# todo-api's /openapi.json and sends generated requests (valid and invalid)
# to every operation, following the document's links, against a live
# todo-api + todo-worker on this machine's PostgreSQL and RabbitMQ, signed in
# as freshly signed-up users. It passes when the run has no failure (no 5xx,
# no response outside the document: status, content type, headers, schema),
# at least MIN_CASES cases ran, and neither process logged an error or a panic.
#
#   scripts/contract.sh            build the debug binaries, then run
#   SKIP_BUILD=1 scripts/contract.sh   use the binaries already in target/debug
#
# Schemathesis is installed with pip into target/contract/venv (pinned
# below); the run's output, report and logs stay in target/contract/.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
MIN_CASES=${MIN_CASES:-1000}
OUT=target/contract
BIN=target/debug
ADMIN_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}

scripts/services.sh
if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --bin todo-api --bin todo-worker
fi

mkdir -p "$OUT"
if [ "$("$OUT/venv/bin/st" --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ]; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $OUT/venv"
  python3 -m venv "$OUT/venv"
  "$OUT/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

id="$(date +%s)_$$"
db="todo_contract_$id"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
api_log="$OUT/todo-api.log"
worker_log="$OUT/todo-worker.log"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -qAtc "CREATE DATABASE \"$db\""

# No OPENAI_API_KEY: the worker answers with the built-in offline assistant.
export ENVIRONMENT=test LOG_LEVEL=info LOG_FORMAT=text RUST_BACKTRACE=1
export BETTER_AUTH_SECRET=contract-test-only-secret-0123456789abcdef
export SECRET_KEY=contract-test-only-secret-key-for-throttle-01
export DATABASE_URL="${ADMIN_URL%/*}/$db"
export RABBITMQ_PREFIX="c$id" RABBITMQ_QUEUE_EXPIRES_SECONDS=600
export API_HOST=127.0.0.1 API_PORT="$port" WORKER_METRICS_PORT=0 MCP_ENABLED=false
export CHAT_RATE_LIMIT_PER_MINUTE=600
unset OPENAI_API_KEY OPENAI_BASE_URL

"$BIN/todo-api" serve >"$api_log" 2>&1 &
pids+=($!)
"$BIN/todo-worker" >"$worker_log" 2>&1 &
pids+=($!)

for _ in $(seq 1 300); do
  if curl -fsS "$base/health" 2>/dev/null | grep -q '"broker_connected":true'; then break; fi
  sleep 0.1
done
curl -fsS "$base/health" | grep -q '"broker_connected":true' || { echo "todo-api did not become healthy; see $api_log" >&2; exit 1; }

signup() {
  curl -fsS -X POST "$base/api/auth/signup" -H 'content-type: application/json' \
    -d "{\"email\":\"$1@contract.example.com\",\"password\":\"correct horse battery\",\"name\":\"Contract\"}"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }
session="$(signup "user-$id")"
CONTRACT_TOKEN="$(field "['token']" <<<"$session")"
CONTRACT_USER_ID="$(field "['user']['id']" <<<"$session")"
CONTRACT_LOGOUT_TOKEN="$(signup "logout-$id" | field "['token']")"
export CONTRACT_TOKEN CONTRACT_USER_ID CONTRACT_LOGOUT_TOKEN

echo "schemathesis $SCHEMATHESIS_VERSION against $base (output: $OUT/schemathesis.txt)"
status=0
# Run from $OUT: Schemathesis keeps its cache (.schemathesis/) in the working directory.
root="$PWD"
(cd "$OUT" && venv/bin/st --config-file "$root/scripts/contract.toml" --no-color run "$base/openapi.json" \
  --report junit --report-junit-path "$root/$OUT/junit.xml" ${SCHEMATHESIS_SEED:+--seed "$SCHEMATHESIS_SEED"}) \
  2>&1 | tee "$OUT/schemathesis.txt" || status=$?

# Stop the processes before reading their logs (and let them log their exits).
cleanup
trap - EXIT

generated="$(grep -Eo '[0-9]+ generated' "$OUT/schemathesis.txt" | tail -n1 | grep -Eo '[0-9]+' || echo 0)"
echo "test cases generated: $generated"

failed=0
if [ "$status" -ne 0 ]; then
  echo "schemathesis reported failures (exit $status): see $OUT/schemathesis.txt" >&2
  failed=1
fi
if [ "$generated" -lt "$MIN_CASES" ]; then
  echo "only $generated test cases ran; at least $MIN_CASES expected" >&2
  failed=1
fi
if grep -nE ' ERROR |panicked' "$api_log" "$worker_log" >&2; then
  echo "the services logged errors during the run (above)" >&2
  failed=1
fi
[ "$failed" -eq 0 ] && echo "contract: OK ($generated test cases, no failures, clean logs)"
exit "$failed"
