#!/usr/bin/env bash
# Issue 23's before/after table: each benchmark runs on the BEFORE and the
# AFTER binaries in turn (before, after, next benchmark), so both meet the
# same machine. The benchmark tools themselves come from AFTER. Writes one
# file per run to OUT_DIR and prints their summary lines. Run it on a quiet
# machine: nothing else building or testing.
#
#   scripts/bench-compare.sh /work/bin-before /work/bin-after /tmp/compare [BENCH...]
#
# BENCH: chat sse tasks signup slow (default: all, in that order).
set -euo pipefail
before=${1:?BEFORE_DIR}; after=${2:?AFTER_DIR}; out=${3:?OUT_DIR}; shift 3
benches=("$@"); [[ ${#benches[@]} -gt 0 ]] || benches=(chat sse tasks signup slow)
mkdir -p "$out"
tools=$after

# /health and the first page of 50 of 1,000 tasks with wrk, against an API
# started here on a fresh database (bench-tasks needs a running API).
tasks() {
  local dir=$1 db="todo_compare_tasks_$$" port=18391
  local url="postgres://postgres@127.0.0.1:5432/$db"
  command psql -U postgres -h 127.0.0.1 -q -c "DROP DATABASE IF EXISTS $db" postgres
  command psql -U postgres -h 127.0.0.1 -q -c "CREATE DATABASE $db" postgres
  env DATABASE_URL="$url" LOG_LEVEL=error "$dir/todo-api" migrate up >/dev/null
  env -i PATH="$PATH" DATABASE_URL="$url" API_PORT=$port API_HOST=127.0.0.1 LOG_LEVEL=error \
    WEB_ENABLED=false MCP_ENABLED=false RABBITMQ_PREFIX="compare$$" SIGNUP_MAX_PER_IP=1000 \
    "$dir/todo-api" serve &
  local api=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
  "$tools/bench-tasks" --base-url "http://127.0.0.1:$port" --tasks 1000 --wrk 10 --analyze-db "$url" || true
  echo "API peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$api/status")"
  kill "$api"; wait "$api" 2>/dev/null || true
  command psql -U postgres -h 127.0.0.1 -q -c "DROP DATABASE IF EXISTS $db" postgres
}

run() {
  local bench=$1 dir=$2
  case $bench in
    chat) "$tools/bench-chat" --bin-dir "$dir" --workers 1 --clients 32 --turns 2000 ;;
    sse) "$tools/bench-sse" --bin-dir "$dir" --connections 1000 --turns 200 ;;
    tasks) tasks "$dir" ;;
    signup) "$tools/bench-signup" --bin-dir "$dir" --signups 400 --parallel 200 ;;
    # 1,000 turns in flight against a 5 s model (two calls a turn): 100 turns/s.
    slow) "$tools/bench-load" --bin-dir "$dir" --workers 1 --users 1000 --rate 100 --duration 20 \
            --latency-ms 5000 --worker-concurrency 1200 ;;
    *) echo "unknown benchmark: $bench" >&2; return 2 ;;
  esac
}

for bench in "${benches[@]}"; do
  for side in before after; do
    dir=$before; [[ $side == after ]] && dir=$after
    echo "== $bench / $side ($(date +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
    run "$bench" "$dir" > "$out/$bench-$side.txt" 2>&1 || echo "(exit $?)"
    tail -n 12 "$out/$bench-$side.txt"
  done
done
