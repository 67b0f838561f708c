#!/usr/bin/env bash
# Where bench-chat's time goes (issue 23): runs bench-chat (1 worker, 32
# clients) from BIN_DIR and, while it runs, samples the API's and the
# worker's CPU with perf for SECONDS, counts PostgreSQL's statements with
# pg_stat_statements and RabbitMQ's messages from its Prometheus plugin.
# Needs: perf; PostgreSQL with shared_preload_libraries=pg_stat_statements;
# rabbitmq-plugins enable rabbitmq_prometheus. Writes OUT_DIR/*.txt.
#
#   scripts/profile-chat.sh target/release /tmp/profile [TURNS] [SECONDS]
set -euo pipefail
bin=${1:?BIN_DIR}; out=${2:?OUT_DIR}; turns=${3:-4000}; seconds=${4:-15}
mkdir -p "$out"
psql() { command psql -U postgres -h 127.0.0.1 -Atq "$@"; }
rabbit() { curl -s localhost:15692/metrics | grep -E '^rabbitmq_global_messages_(received|confirmed|routed|delivered)_total' || true; }

psql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" postgres
psql -c "SELECT pg_stat_statements_reset()" postgres >/dev/null
rabbit > "$out/rabbitmq-before.txt"
"$bin/bench-chat" --bin-dir "$bin" --workers 1 --clients 32 --turns "$turns" > "$out/bench-chat.txt" 2>&1 &
bench=$!
# The services start, 32 users sign up; then sample mid-run.
for _ in $(seq 100); do
  api=$(pgrep -n -f "$bin/todo-api" || true); worker=$(pgrep -n -f "$bin/todo-worker" || true)
  [[ -n $api && -n $worker ]] && break; sleep 0.2
done
sleep 8
perf record -F 299 -p "$api" -o "$out/api.data" -- sleep "$seconds" 2>/dev/null &
perf record -F 299 -p "$worker" -o "$out/worker.data" -- sleep "$seconds" 2>/dev/null &
top -b -d "$seconds" -n 2 > "$out/top.txt" &
wait "$bench" || true
wait
rabbit > "$out/rabbitmq-after.txt"
for p in api worker; do
  perf report -i "$out/$p.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v "^$" | head -120 > "$out/$p-flat.txt" || true
done
psql -c "SELECT calls, round(total_exec_time::numeric, 1) AS ms, round(mean_exec_time::numeric, 3) AS mean_ms, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 160) FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 40" postgres > "$out/statements.txt"
tail -20 "$out/bench-chat.txt"
