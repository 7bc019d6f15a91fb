#!/usr/bin/env bash
# End-to-end test of the frontend in real headless Chromium.
#
#   frontend/e2e/run.sh                 # real backend + throwaway PostgreSQL (CI)
#   frontend/e2e/run.sh --fake-backend  # development only: the unit tests' in-memory API
#
# Builds the app (npm run build) and the backend binary, starts PostgreSQL (scripts/with-postgres.sh),
# the backend on a free loopback port, and Debian's nginx serving dist/ with frontend/nginx.conf
# rendered by envsubst exactly as the nginx-unprivileged image's entrypoint does (only
# ${BACKEND_HOST} and ${BACKEND_PORT} substituted; listen and root pointed at the test's port and
# dist/). Then runs e2e/app.e2e.mjs with playwright-core driving /usr/bin/chromium. Everything
# listens on 127.0.0.1 and is torn down on exit. Screenshots: frontend/e2e/screenshots/.
#
# Needs: node + npm, go, Debian packages chromium nginx postgresql gettext-base (envsubst).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fe="$(dirname "$here")"
root="$(dirname "$fe")"
E2E_TIMEOUT="${E2E_TIMEOUT:-300}"   # seconds for the browser script
log() { echo "e2e: $*" >&2; }

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_http URL SECONDS: poll until URL answers 2xx.
wait_http() {
  local url="$1" deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

# ---------------------------------------------------------------------------------------------
# Inner part: runs under with-postgres.sh (TEST_DATABASE_URL set) or with the fake backend.
# ---------------------------------------------------------------------------------------------
if [ "${1:-}" = "--inner" ]; then
  tmp="$2"
  mode="$3"
  backend_pid=""
  nginx_pid=""
  e2e_pid=""
  cleanup_inner() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$e2e_pid" ] && kill -0 "$e2e_pid" 2>/dev/null; then
      kill -TERM "$e2e_pid" 2>/dev/null || true   # timeout passes it on; playwright closes Chromium
      for _ in $(seq 1 100); do kill -0 "$e2e_pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$e2e_pid" 2>/dev/null || true
      wait "$e2e_pid" 2>/dev/null || true
    fi
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
      kill -QUIT "$nginx_pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$nginx_pid" 2>/dev/null || true
      wait "$nginx_pid" 2>/dev/null || true
    fi
    if [ -n "$backend_pid" ] && kill -0 "$backend_pid" 2>/dev/null; then
      kill -TERM "$backend_pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$backend_pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$backend_pid" 2>/dev/null || true
      wait "$backend_pid" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ]; then
      for f in backend.log nginx/error.log; do
        if [ -s "$tmp/$f" ]; then log "--- last lines of $f"; tail -n 40 "$tmp/$f" >&2; fi
      done
    fi
    exit "$rc"
  }
  trap cleanup_inner EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  # --- backend ---
  bport="$(free_port)"
  if [ "$mode" = fake ]; then
    node "$here/fake-server.mjs" "$tmp/fake-backend.mjs" "$bport" >"$tmp/backend.log" 2>&1 &
  else
    : "${TEST_DATABASE_URL:?with-postgres.sh did not set TEST_DATABASE_URL}"
    DATABASE_URL="$TEST_DATABASE_URL" \
      JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')" \
      PORT="$bport" LLM_PROVIDER=offline LOG_LEVEL=warn MIGRATE_ON_START=true DRAIN_WINDOW=0s \
      "$tmp/server" >"$tmp/backend.log" 2>&1 &
  fi
  backend_pid=$!
  wait_http "http://127.0.0.1:$bport/readyz" 60 || { log "backend did not become ready on :$bport"; exit 1; }
  log "backend ($mode) ready on 127.0.0.1:$bport"

  # --- nginx: the image's layout, rooted in $tmp/nginx ---
  fport="$(free_port)"
  ng="$tmp/nginx"
  mkdir -p "$ng/conf.d"
  chmod 755 "$tmp" "$ng"
  # As the image's 20-envsubst-on-templates.sh does: substitute every variable that is set in
  # the environment (so the template must not clash with any), and nothing else.
  (
    export BACKEND_HOST=127.0.0.1 BACKEND_PORT="$bport"
    defined_envs=$(printf '${%s} ' $(awk 'END { for (name in ENVIRON) { print name } }' </dev/null))
    envsubst "$defined_envs" <"$fe/nginx.conf" >"$ng/conf.d/default.conf"
  )
  # The only two differences from the image: a loopback test port, and dist/ as the root.
  sed -i -e "s|^\(\s*\)listen 8080;|\1listen 127.0.0.1:$fport;|" \
    -e "s|^\(\s*\)root /usr/share/nginx/html;|\1root $fe/dist;|" "$ng/conf.d/default.conf"
  grep -q "listen 127.0.0.1:$fport;" "$ng/conf.d/default.conf" || { log "could not set the listen port"; exit 1; }
  grep -q "root $fe/dist;" "$ng/conf.d/default.conf" || { log "could not set the root"; exit 1; }
  grep -q 'proxy_pass http://127.0.0.1:'"$bport"';' "$ng/conf.d/default.conf" || { log "template not rendered"; exit 1; }
  user_line=""
  if [ "$(id -u)" -eq 0 ]; then user_line="user nobody nogroup;"; fi
  # Mirrors the nginx-unprivileged image's /etc/nginx/nginx.conf (pid and temp paths moved).
  cat >"$ng/nginx.conf" <<CONF
$user_line
worker_processes 1;
error_log $ng/error.log notice;
pid $ng/nginx.pid;
events { worker_connections 256; }
http {
    proxy_temp_path $ng/proxy_temp;
    client_body_temp_path $ng/client_temp;
    fastcgi_temp_path $ng/fastcgi_temp;
    uwsgi_temp_path $ng/uwsgi_temp;
    scgi_temp_path $ng/scgi_temp;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $ng/access.log;
    sendfile on;
    keepalive_timeout 65;
    include $ng/conf.d/*.conf;
}
CONF
  nginx -t -q -p "$ng" -c "$ng/nginx.conf" -e "$ng/error.log"
  nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/error.log" -g 'daemon off;' &
  nginx_pid=$!
  wait_http "http://127.0.0.1:$fport/healthz" 20 || { log "nginx did not start on :$fport"; exit 1; }
  log "nginx ready on 127.0.0.1:$fport"

  # --- the browser ---
  mkdir -p "$here/screenshots"
  BASE_URL="http://127.0.0.1:$fport" SCREENSHOT_DIR="$here/screenshots" USER_DATA_DIR="$tmp/chromium" \
    BACKEND_MODE="$mode" timeout --kill-after=10 "$E2E_TIMEOUT" node "$here/app.e2e.mjs" &
  e2e_pid=$!
  # In the background and waited for, so that a TERM or INT runs the trap at once.
  rc=0
  wait "$e2e_pid" || rc=$?
  e2e_pid=""
  exit "$rc"
fi

# ---------------------------------------------------------------------------------------------
# Outer part: build, then run the inner part with PostgreSQL (or the fake backend).
# ---------------------------------------------------------------------------------------------
mode=real
if [ "${1:-}" = "--fake-backend" ]; then mode=fake; fi

for cmd in node npm curl envsubst nginx timeout; do
  command -v "$cmd" >/dev/null || { log "missing $cmd (apt-get install -y chromium nginx gettext-base curl)"; exit 1; }
done
[ -x /usr/bin/chromium ] || { log "missing /usr/bin/chromium (apt-get install -y chromium)"; exit 1; }

tmp="$(mktemp -d -t todo-e2e.XXXXXX)"
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cd "$fe"
[ -d node_modules ] || npm ci --no-audit --no-fund
log "building the frontend"
npm run --silent build >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
node scripts/size.mjs

if [ "$mode" = fake ]; then
  node_modules/.bin/esbuild src/test/fakeBackend.ts --bundle --format=esm --platform=node \
    --log-level=warning --outfile="$tmp/fake-backend.mjs"
  bash "$0" --inner "$tmp" fake
else
  [ -d "$root/backend/cmd/server" ] || { log "backend/cmd/server not found: the backend is needed"; exit 1; }
  [ -x "$root/scripts/with-postgres.sh" ] || [ -f "$root/scripts/with-postgres.sh" ] \
    || { log "scripts/with-postgres.sh not found"; exit 1; }
  log "building the backend"
  (cd "$root/backend" && go build -o "$tmp/server" ./cmd/server)
  bash "$root/scripts/with-postgres.sh" bash "$0" --inner "$tmp" real
fi
