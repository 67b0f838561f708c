# Sourced by scripts/backup.sh and scripts/restore.sh.
#
#   url=$(...); pg_password_to_env "$url"; use "$PG_URL"
#
# A password inside a connection URL given as an argument (`--dbname=$url`,
# `psql "$url"`) is readable by every user of the machine in `ps` and
# /proc/<pid>/cmdline (issue 19). This moves it to PGPASSWORD, which libpq
# reads from the environment (/proc/<pid>/environ is readable by the
# process's own user and root only), and sets PG_URL to the URL without it:
# the userinfo password (percent-decoded) and any `password=` parameter.
# A URL without a password leaves PGPASSWORD (or ~/.pgpass) as it was.
pg_password_to_env() {
  local url=$1 scheme rest authority after userinfo base query param kept="" password=""
  scheme=${url%%://*}
  if [[ $scheme == "$url" ]]; then
    PG_URL=$url # not a URL (a conninfo string): left to the caller
    return
  fi
  rest=${url#*://}
  authority=${rest%%[/?]*}
  after=${rest#"$authority"}
  if [[ $authority == *@* ]]; then
    userinfo=${authority%@*}
    if [[ $userinfo == *:* ]]; then
      password=${userinfo#*:}
      authority="${userinfo%%:*}@${authority##*@}"
    fi
  fi
  base=${after%%\?*}
  query=${after#"$base"}
  query=${query#\?}
  local -a params=()
  [[ -n $query ]] && IFS='&' read -ra params <<<"$query"
  for param in "${params[@]}"; do
    if [[ $param == password=* ]]; then
      password=${param#password=}
    else
      kept+="${kept:+&}$param"
    fi
  done
  PG_URL="$scheme://$authority$base${kept:+?$kept}"
  if [[ -n $password ]]; then
    # Percent-decoding: %XX -> \xXX for printf %b (backslashes kept literal).
    password=${password//\\/\\\\}
    printf -v PGPASSWORD '%b' "${password//%/\\x}"
    export PGPASSWORD
  fi
}
