#!/usr/bin/env bash
# Runs the whole system on this machine: the API (and the web app) on
# http://localhost:8000 and a worker, on the local PostgreSQL and RabbitMQ. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
scripts/web.sh build
cargo build --bin todo-api --bin todo-worker
./target/debug/todo-api migrate up
./target/debug/todo-worker &
worker=$!
trap 'kill -TERM $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT
./target/debug/todo-api serve
