#!/usr/bin/env bash
# Issue 19's sequence, short, against a real three-node RabbitMQ cluster:
# bench-load (debug binaries, 2 workers, a steady chat rate) stops the node
# that leads the run's turn queue, starts it again, then stops the node
# leading by then, and exits non-zero unless no turn was lost, failed or
# duplicated and every turn was answered within 30 s of each stop.
# docs/benchmarks.md, "RabbitMQ as a cluster", has the longer runs.
#
#   cargo build --workspace --all-targets && scripts/cluster-check.sh
#
# The nodes (todoc1..3@localhost on 127.0.0.1:5681-5683, scripts/rabbitmq-
# cluster.sh) are started unless running, and stopped and removed at the end
# whatever happens; the machine's own broker (5672) is not touched. Run as
# root (or rabbitmq): Debian's rabbitmq-server and rabbitmqctl run as the
# rabbitmq user, which owns the nodes' data directories. 75-85 s.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN_DIR:-target/debug}
if [[ $(id -u) != 0 && $(id -un) != rabbitmq ]]; then
  echo "cluster-check: run as root or rabbitmq (Debian's rabbitmq-server and rabbitmqctl refuse other users)" >&2
  exit 1
fi
for b in bench-load todo-api todo-worker mock-openai; do
  [[ -x $bin/$b ]] || { echo "$bin/$b is missing: cargo build --workspace --all-targets" >&2; exit 1; }
done

trap 'scripts/rabbitmq-cluster.sh stop' EXIT
# Not running: start afresh (a run killed midway may have left its data).
rabbitmqctl -n todoc1@localhost -q status >/dev/null 2>&1 || scripts/rabbitmq-cluster.sh stop
scripts/rabbitmq-cluster.sh start

BENCH_RABBITMQ_URL=$(printf 'amqp://guest:guest@127.0.0.1:%s/%%2f,' 5681 5682 5683)
export BENCH_RABBITMQ_URL=${BENCH_RABBITMQ_URL%,}
# Stops at 3 s and 14 s, 6 s each: the first node is back before the second
# stop (stop_app takes up to 6 s, start_app 1-2 s) and turns are posted
# during and after both.
"$bin/bench-load" --bin-dir "$bin" --workers 2 --users 10 --rate 3 --duration 36 \
  --restart-broker-at 3,14 --broker-down 6 --broker-node leader:todoc1@localhost \
  --drain-timeout 60
