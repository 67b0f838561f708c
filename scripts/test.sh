#!/usr/bin/env bash
# Runs the whole test suite against this machine's PostgreSQL and RabbitMQ.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
cargo test --workspace --all-targets "$@"
