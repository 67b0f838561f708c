#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, beside its own broker, for
# the cluster benchmark (docs/benchmarks.md, "RabbitMQ as a cluster"):
#
#   scripts/rabbitmq-cluster.sh start    # nodes todoc1..3@localhost on 127.0.0.1:5681-5683
#   scripts/rabbitmq-cluster.sh status
#   scripts/rabbitmq-cluster.sh stop     # stops the nodes and removes their data
#
# Then point the services at all three:
#   RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5681/%2f,amqp://guest:guest@127.0.0.1:5682/%2f,amqp://guest:guest@127.0.0.1:5683/%2f
# Each node has its own name, ports (AMQP 568N, distribution 2568N,
# management 1568N) and data directory under $RABBITMQ_CLUSTER_DIR, and
# shares the machine's Erlang cookie; the machine's broker (5672) is untouched.
set -euo pipefail
dir=${RABBITMQ_CLUSTER_DIR:-/tmp/todo-rabbitmq-cluster}

node_env() {
  local n=$1 base=$dir/c$1
  export RABBITMQ_NODENAME=todoc$n@localhost RABBITMQ_DIST_PORT=$((25680 + n)) \
    RABBITMQ_MNESIA_BASE=$base/mnesia RABBITMQ_LOG_BASE=$base/log \
    RABBITMQ_CONFIG_FILE=$base/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$base/enabled_plugins \
    RABBITMQ_PID_FILE=$base/pid
}

start_node() {
  local n=$1 base=$dir/c$1
  mkdir -p "$base/mnesia" "$base/log"
  cat >"$base/rabbitmq.conf" <<CONF
listeners.tcp.local = 127.0.0.1:$((5680 + n))
management.tcp.port = $((15680 + n))
loopback_users = none
CONF
  echo "[rabbitmq_management]." >"$base/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$base" 2>/dev/null || true
  (node_env "$n"; rabbitmq-server -detached)
}

case ${1:-} in
  start)
    for n in 1 2 3; do
      # A node already running is left as it is.
      rabbitmqctl -n "todoc$n@localhost" -q status >/dev/null 2>&1 || start_node "$n"
    done
    for n in 1 2 3; do
      for _ in $(seq 1 60); do
        rabbitmqctl -n "todoc$n@localhost" -q status >/dev/null 2>&1 && break
        sleep 1
      done
      rabbitmqctl -n "todoc$n@localhost" -q await_startup
    done
    for n in 2 3; do
      if ! rabbitmqctl -n todoc1@localhost -q cluster_status | grep -q "todoc$n@localhost"; then
        rabbitmqctl -n "todoc$n@localhost" -q stop_app
        rabbitmqctl -n "todoc$n@localhost" -q join_cluster todoc1@localhost
        rabbitmqctl -n "todoc$n@localhost" -q start_app
      fi
    done
    echo "todoc1..3@localhost running, clustered, on 127.0.0.1:5681-5683"
    ;;
  status) rabbitmqctl -n todoc1@localhost cluster_status ;;
  stop)
    # All three at once: their data is removed anyway.
    for n in 1 2 3; do (rabbitmqctl -n "todoc$n@localhost" -q stop 2>/dev/null || true) & done
    wait
    rm -rf "$dir"
    ;;
  *) echo "usage: scripts/rabbitmq-cluster.sh start|status|stop" >&2; exit 2 ;;
esac
