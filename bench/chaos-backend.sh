#!/usr/bin/env bash
# bench/chaos-backend.sh — the backend's fault scenarios on loopback, as a table.
#
# Builds the server and backend/cmd/chaos, then runs them against a throwaway PostgreSQL
# (scripts/with-postgres.sh) on 127.0.0.1: bad bytes in every field, the tasks table locked
# under load, 200 concurrent 1 MiB bodies, PostgreSQL stopped and crashed under writes with
# Idempotency-Key retries, SIGTERM under load. Prints: fault, expected, observed, held; exits
# non-zero if any did not hold. Bounded: about a minute, a few thousand requests.
# Env: LOCK (table lock duration, default 15s), RATE (req/s during the lock, default 200).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${WITH_POSTGRES_DATA:-}" ]; then
  unset TEST_DATABASE_URL
  exec "$root/scripts/with-postgres.sh" "$0" "$@"
fi
work="$(mktemp -d -t chaos-backend.XXXXXX)"
trap 'rm -rf "$work"' EXIT
echo "building server and chaos runner..." >&2
(cd "$root/backend" && CGO_ENABLED=0 go build -trimpath -o "$work/server" ./cmd/server && go build -o "$work/chaos" ./cmd/chaos)
"$work/chaos" -server "$work/server" -db "$TEST_DATABASE_URL" -lock "${LOCK:-15s}" -rate "${RATE:-200}"
