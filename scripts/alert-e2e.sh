#!/usr/bin/env bash
# An alert delivered end to end, offline, with Debian's prometheus and
# prometheus-alertmanager and the debug todo-api (scripts/ops-check.sh runs it):
#
#   todo-api started without its broker (RABBITMQ_URL on a closed port)
#     -> /metrics says rabbitmq_connected 0
#     -> Prometheus scrapes it and evaluates grafana/prometheus/alerts.yml
#        (with every `for:` cut to 0s so it fires at once)
#     -> ApiBrokerDisconnected fires and goes to Alertmanager, configured by
#        grafana/alertmanager/alertmanager.yml (webhook URL pointed at localhost)
#     -> the `log` receiver, grafana/alertmanager/alert_log.py, writes one JSON line.
#
# It passes when that line arrives (within 90 s) and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
api_port=$(free_port); metrics_port=$(free_port); prom_port=$(free_port)
am_port=$(free_port); hook_port=$(free_port); closed_port=$(free_port)

# The receiver.
ALERT_LOG_PORT=$hook_port ALERT_LOG_FILE=$tmp/alerts.log python3 grafana/alertmanager/alert_log.py \
  >"$tmp/alert-log.log" 2>&1 &
pids+=($!)

# todo-api on its own test database (named so the test suite's sweep drops it later).
db="todo_test_$(date +%s)_alerte2e$$"
env -i PATH="$PATH" ENVIRONMENT=test LOG_LEVEL=warn \
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" \
  RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$closed_port/%2f" \
  RABBITMQ_PREFIX="e2e$$" API_HOST=127.0.0.1 API_PORT="$api_port" METRICS_PORT="$metrics_port" \
  WEB_ENABLED=false MCP_ENABLED=false "$root/target/debug/todo-api" serve >"$tmp/api.log" 2>&1 &
pids+=($!)

# Prometheus: the real rules, `for` cut to 0s, fast scrape and evaluation.
sed -E 's/^( +)for: .*/\1for: 0s/' grafana/prometheus/alerts.yml > "$tmp/alerts.yml"
cat > "$tmp/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$tmp/alerts.yml"]
alerting:
  alertmanagers: [{static_configs: [{targets: ["127.0.0.1:$am_port"]}]}]
scrape_configs:
  - job_name: todo-api
    static_configs: [{targets: ["127.0.0.1:$metrics_port"]}]
YAML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus" \
  --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)

# Alertmanager: the real routes and receiver, the webhook on localhost, no waiting to group.
sed -e "s#http://alert-log:9095/alerts#http://127.0.0.1:$hook_port/alerts#" \
    -e 's/group_wait: .*/group_wait: 1s/' \
    grafana/alertmanager/alertmanager.yml > "$tmp/alertmanager.yml"
prometheus-alertmanager --config.file="$tmp/alertmanager.yml" --storage.path="$tmp/alertmanager" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$tmp/alertmanager.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 90); do
  if grep -q '"alertname": "ApiBrokerDisconnected"' "$tmp/alerts.log" 2>/dev/null; then
    echo "alert-e2e: delivered through Prometheus and Alertmanager to the log receiver:"
    grep '"alertname": "ApiBrokerDisconnected"' "$tmp/alerts.log" | head -n1
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    exit 0
  fi
  sleep 1
done
echo "alert-e2e: no ApiBrokerDisconnected alert reached the receiver within 90 s" >&2
for f in api prometheus alertmanager alert-log; do
  echo "--- $f" >&2; tail -n 20 "$tmp/$f.log" 2>/dev/null >&2 || true
done
exit 1
