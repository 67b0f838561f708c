#!/usr/bin/env bash
# Regenerates docs/schema.md from migrations/ (migrated into a fresh database
# on this machine's PostgreSQL). scripts/test.sh fails while it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
UPDATE_SCHEMA_DOC=1 cargo test -p todo-api --test ops -- --exact schema_doc::the_schema_page_matches_the_migrations
echo "docs/schema.md regenerated"
