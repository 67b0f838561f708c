#!/usr/bin/env bash
# Counts what PostgreSQL runs per chat turn (issue 20): bench-chat with one
# client against mock-openai, with log_statement=all on the machine's
# PostgreSQL for the run's database only; prints statements and
# transactions per turn and the statements by text (numbers folded to N).
#
#   scripts/turn-statements.sh [TURNS] [BIN_DIR]     # default 200, target/release
#
# Needs a superuser (ALTER SYSTEM); the setting is reset at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
turns=${1:-200}
bin=${2:-target/release}
log=/var/log/postgresql/postgresql-15-main.log
psql_su() { psql -U postgres -h 127.0.0.1 -qAtc "$1"; }
trap 'psql_su "ALTER SYSTEM RESET log_statement" >/dev/null; psql_su "SELECT pg_reload_conf()" >/dev/null' EXIT
psql_su "ALTER SYSTEM SET log_statement = 'all'" >/dev/null
psql_su "SELECT pg_reload_conf()" >/dev/null
start=$(stat -c %s "$log")
out=$(BENCH_LOG_LEVEL=error "$bin/bench-chat" --bin-dir "$bin" --workers 1 --clients 1 --turns "$turns")
echo "$out" | grep -E "turns/s|turns " | head -3
slice=$(mktemp)
trap 'rm -f "$slice"; psql_su "ALTER SYSTEM RESET log_statement" >/dev/null; psql_su "SELECT pg_reload_conf()" >/dev/null' EXIT
tail -c +"$((start + 1))" "$log" >"$slice"
python3 - "$turns" "$slice" <<'PY'
import re, sys, collections
turns = int(sys.argv[1])
# One database per bench run (todo_bench_...): count only its statements.
line = re.compile(r'^\S+ \S+ \S+ \[\d+\] \S+@(todo_bench\S*) LOG:  (?:statement|execute [^:]*): (.*)$')
by_text, dbs = collections.Counter(), collections.Counter()
for raw in open(sys.argv[2], errors="replace"):
    m = line.match(raw.rstrip('\n'))
    if not m:
        continue
    dbs[m.group(1)] += 1
    text = re.sub(r'\s+', ' ', m.group(2)).strip()
    text = re.sub(r'\b\d+\b', 'N', text)
    by_text[(m.group(1), text[:110])] += 1
db = dbs.most_common(1)[0][0]
rows = [(n, t) for (d, t), n in by_text.items() if d == db]
total = sum(n for n, _ in rows)
begins = sum(n for n, t in rows if t.upper().startswith('BEGIN'))
control = sum(n for n, t in rows if re.match(r'(?i)(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)', t))
print(f"database {db}: {total} statements for {turns} turns")
print(f"per turn: {total / turns:.1f} statements, {begins / turns:.1f} transactions, "
      f"{(total - control) / turns:.1f} besides BEGIN/COMMIT/SAVEPOINT")
for n, t in sorted(rows, reverse=True):
    if n / turns >= 0.05:
        print(f"{n / turns:6.2f}  {t}")
PY
