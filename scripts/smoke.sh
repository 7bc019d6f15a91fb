#!/usr/bin/env bash
# scripts/smoke.sh BASE_URL — what a first user does, against a deployed app: the page loads, a
# new account signs up, a task added by chat shows in the task list, and logging in again works.
# Exits non-zero on the first step that fails, saying which. Needs curl.
set -euo pipefail
base=${1:?usage: scripts/smoke.sh http://127.0.0.1:8080}
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
json_field() { sed -n 's/.*"'"$1"'":"\([^"]*\)".*/\1/p'; }

curl -fsS "$base/" | grep -q '<div id="root">' || fail "GET / is not the app's page"
email="smoke-$(date +%s)-$RANDOM@example.com"
password="smoke-$(openssl rand -hex 8)"
token=$(curl -fsS "$base/api/auth/signup" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | json_field token)
[ -n "$token" ] || fail "signup returned no token"
curl -fsS "$base/api/chat" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"message":"remind me to buy milk"}' >/dev/null || fail "POST /api/chat"
curl -fsS "$base/api/tasks" -H "Authorization: Bearer $token" | grep -q 'buy milk' \
  || fail "the task added by chat is not in GET /api/tasks"
token2=$(curl -fsS "$base/api/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | json_field token)
[ -n "$token2" ] || fail "login returned no token"
echo "smoke: ok: page, signup, chat → task, login ($base)"
