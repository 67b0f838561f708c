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
# The dump holds every user's email, password hash and chats: it and the
# directory made for it are readable by their owner only, and the database
# password goes to pg_dump in its environment, never on its command line.
# Restore with scripts/restore.sh; see docs/deployment.md.
set -euo pipefail
umask 077
source "$(dirname "$0")/lib/pg-password.sh"

pg_password_to_env "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/todo_chat}"
out=${1:-backups/todo_chat-$(date -u +%Y%m%dT%H%M%SZ).dump}

mkdir -p "$(dirname "$out")"
# A partial file an earlier run left keeps its mode when written over.
rm -f "$out.partial"
pg_dump --format=custom --no-owner --no-acl --file="$out.partial" --dbname="$PG_URL"
# A truncated or corrupt file fails here rather than on the day it is needed.
pg_restore --list "$out.partial" >/dev/null
mv "$out.partial" "$out"
echo "$out"
