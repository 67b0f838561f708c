#!/usr/bin/env bash
# Runs the whole test suite against this machine's PostgreSQL and RabbitMQ:
# the Rust tests, then the web app's browser tests on the debug binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
# Built first: todo-api embeds web/dist.
scripts/web.sh build
cargo test --workspace --all-targets "$@"
cargo build --bin todo-api --bin todo-worker --bin mock-openai
scripts/web.sh test
