#!/usr/bin/env bash
# Restores a scripts/backup.sh dump into the database DATABASE_URL names.
#
#   scripts/restore.sh FILE            # into a new or empty database (created if missing)
#   scripts/restore.sh --replace FILE  # drop what the database holds, then restore
#
# Stop the API and workers first (docker compose stop api worker): a restore
# under traffic mixes old and new rows. The restore runs in one transaction:
# it either completes or leaves the database as it was. After it, start the
# services of the version that made the backup (its migrations are in the
# dump's _sqlx_migrations table); see docs/deployment.md#restoring-a-backup.
# The database password goes to psql and pg_restore in their environment,
# never on their command lines (scripts/lib/pg-password.sh).
set -euo pipefail
source "$(dirname "$0")/lib/pg-password.sh"

replace=false
if [[ ${1:-} == --replace ]]; then
  replace=true
  shift
fi
file=${1:?usage: scripts/restore.sh [--replace] FILE}
[[ -r $file ]] || { echo "cannot read $file" >&2; exit 2; }
pg_restore --list "$file" >/dev/null || { echo "$file is not a pg_dump custom-format backup" >&2; exit 2; }
pg_password_to_env "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/todo_chat}"
url=$PG_URL

# postgres://user@host:port/db?params -> the same server's `postgres` database.
base=${url%%\?*}
query=${url#"$base"}
db=${base##*/}
maintenance="${base%/*}/postgres${query}"

exists=$(psql "$maintenance" -v ON_ERROR_STOP=1 -Atc "SELECT 1 FROM pg_database WHERE datname = '${db//\'/\'\'}'")
if [[ -z $exists ]]; then
  psql "$maintenance" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"${db//\"/\"\"}\""
  echo "created database $db"
fi

tables=$(psql "$url" -v ON_ERROR_STOP=1 -Atc \
  "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
reset=""
if [[ $tables != 0 ]]; then
  if ! $replace; then
    echo "database $db already holds $tables tables; restore into a new database," >&2
    echo "or pass --replace to drop its contents first" >&2
    exit 1
  fi
  # The dump recreates the schema as it was at backup time (also dropping
  # tables a later migration added).
  reset="DROP SCHEMA public CASCADE; CREATE SCHEMA public;"
fi

# The dump as SQL first: a corrupt or truncated file stops here, before
# anything is dropped. Then the drop and the whole restore in one transaction.
sql=$(mktemp)
trap 'rm -f "$sql"' EXIT
{
  echo "$reset"
  pg_restore --no-owner --no-acl --file=- "$file"
} > "$sql"
psql "$url" -v ON_ERROR_STOP=1 --single-transaction --quiet --output=/dev/null --file="$sql"
echo "restored $file into $db${reset:+ (its previous contents dropped)}"
