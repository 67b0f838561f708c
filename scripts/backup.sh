#!/usr/bin/env bash
# Backs up the Todo Chat database with pg_dump.
#
#   scripts/backup.sh [FILE]
#
# DATABASE_URL names the database (the services' variable; default: this
# machine's todo_chat). FILE defaults to backups/todo_chat-<UTC time>.dump.
# The dump is pg_dump's custom format (compressed, restorable table by
# table), without owners or grants, so it restores into a database owned by
# any user. It is written to FILE.partial and renamed once complete and
# readable, so a FILE that exists is a whole backup. Prints FILE.
# Restore with scripts/restore.sh; see docs/deployment.md.
set -euo pipefail

url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/todo_chat}
out=${1:-backups/todo_chat-$(date -u +%Y%m%dT%H%M%SZ).dump}

mkdir -p "$(dirname "$out")"
pg_dump --format=custom --no-owner --no-acl --file="$out.partial" --dbname="$url"
# A truncated or corrupt file fails here rather than on the day it is needed.
pg_restore --list "$out.partial" >/dev/null
mv "$out.partial" "$out"
echo "$out"
