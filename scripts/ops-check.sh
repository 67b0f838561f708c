#!/usr/bin/env bash
# Checks the operations files with the real tools, as CI does (scripts/test.sh
# runs it last):
#   promtool check rules + test rules (grafana/prometheus/alerts*.yml), promtool check config,
#   amtool check-config (grafana/alertmanager/alertmanager.yml), nginx -t (deploy/nginx/nginx.conf),
#   docker-compose config -q (docker-compose.yml), and, when target/debug/todo-api
#   exists, scripts/alert-e2e.sh (an alert delivered end to end).
# The tools come from Debian's packages (prometheus, prometheus-alertmanager,
# nginx-light, docker-compose), installed when missing and apt-get can (as
# root); their services are not started. A tool that cannot be installed is
# reported and its check skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A package=(
  [promtool]=prometheus [amtool]=prometheus-alertmanager
  [nginx]=nginx-light [docker-compose]=docker-compose
)
missing=()
for tool in "${!package[@]}"; do
  command -v "$tool" >/dev/null || missing+=("${package[$tool]}")
done
if ((${#missing[@]})) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]}"
  # Debian starts a package's service on install; these are only tools here.
  policy=/usr/sbin/policy-rc.d
  made_policy=false
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=true
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } \
    || echo "could not install ${missing[*]}" >&2
  if $made_policy; then rm -f "$policy"; fi
fi

skipped=()
have() {
  command -v "$1" >/dev/null || { skipped+=("$1"); echo "SKIP  $1 is not installed"; return 1; }
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if have promtool; then
  promtool check rules grafana/prometheus/alerts.yml
  promtool test rules grafana/prometheus/alerts.test.yml
  # The config names the rules at their path inside the container.
  sed "s#/etc/prometheus/alerts.yml#$PWD/grafana/prometheus/alerts.yml#" \
    grafana/prometheus/prometheus.yml > "$tmp/prometheus.yml"
  promtool check config "$tmp/prometheus.yml"
fi
if have amtool; then
  amtool check-config grafana/alertmanager/alertmanager.yml
fi
if have nginx; then
  nginx -t -q -c "$PWD/deploy/nginx/nginx.conf" -g "pid $tmp/nginx.pid; error_log stderr;"
  echo "nginx -t: deploy/nginx/nginx.conf is valid"
fi
if have docker-compose; then
  # The required secrets must be set for the file to resolve; any value will do here.
  env -i PATH="$PATH" HOME="$tmp" BETTER_AUTH_SECRET=x SECRET_KEY=x POSTGRES_PASSWORD=x \
    RABBITMQ_PASSWORD=x GRAFANA_ADMIN_PASSWORD=x docker-compose -f docker-compose.yml config -q
  # ...and without them it refuses, naming the first one missing.
  if env -i PATH="$PATH" HOME="$tmp" docker-compose -f docker-compose.yml config -q 2>"$tmp/err"; then
    echo "docker-compose.yml starts without its secrets" >&2
    exit 1
  fi
  grep -q "set " "$tmp/err"
  echo "docker-compose config: valid, and refuses to start without its secrets"
fi
if [[ -x target/debug/todo-api ]] && command -v prometheus >/dev/null && command -v prometheus-alertmanager >/dev/null; then
  scripts/alert-e2e.sh
else
  skipped+=(alert-e2e)
  echo "SKIP  alert-e2e (needs target/debug/todo-api, prometheus and prometheus-alertmanager)"
fi
if ((${#skipped[@]})); then
  echo "ops-check passed, skipped: ${skipped[*]}"
else
  echo "ops-check passed"
fi
