#!/usr/bin/env bash
# The web app under web/:
#   scripts/web.sh build   npm ci (when the lock file changed) + Vite build into
#                          web/dist, which todo-api embeds when cargo builds it
#   scripts/web.sh check   TypeScript type check
#   scripts/web.sh test    browser tests in Debian's Chromium (installed if
#                          missing) against target/debug/{todo-api,todo-worker,mock-openai}
set -euo pipefail
cd "$(dirname "$0")/../web"

deps() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
}

chromium() {
  command -v "${CHROMIUM_PATH:-/usr/bin/chromium}" >/dev/null && return
  echo "installing Debian's chromium for the browser tests"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y --no-install-recommends chromium \
    || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends chromium; }
}

case "${1:-build}" in
  build) deps; npm run --silent build ;;
  check) deps; npm run --silent check ;;
  test) deps; chromium; npm test ;;
  *) echo "usage: scripts/web.sh build|check|test" >&2; exit 2 ;;
esac
