#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]
#
# Runs CMD with TEST_DATABASE_URL pointing at a throwaway PostgreSQL cluster that listens on
# 127.0.0.1 only, at a free random port, and is torn down when CMD exits (also on failure or
# interrupt). If TEST_DATABASE_URL is already set, CMD simply runs against that database.
#
# Uses Debian's server binaries (/usr/lib/postgresql/<ver>/bin). When run as root, initdb and
# postgres run as the `postgres` OS user (runuser); the data directory lives in a mktemp dir.
#
# WITH_POSTGRES_SETTINGS="name=value ..." adds server settings to the cluster's own (for
# settings read only at start, such as shared_preload_libraries).
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi

extra=() settings=()
read -ra settings <<<"${WITH_POSTGRES_SETTINGS:-}"
for setting in "${settings[@]}"; do
  case "$setting" in
    ?*=*) extra+=(-c "$setting") ;;
    *) echo "with-postgres.sh: WITH_POSTGRES_SETTINGS holds name=value entries, not '$setting'" >&2; exit 2 ;;
  esac
done

pgbin=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then pgbin="$d"; break; fi
done
if [ -z "$pgbin" ]; then
  echo "with-postgres.sh: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
  exit 1
fi

as_pg=()
pguser="$(id -un)"
if [ "$(id -u)" -eq 0 ]; then
  as_pg=(runuser -u postgres --)
  pguser=postgres
fi

tmp="$(mktemp -d -t with-postgres.XXXXXX)"
chmod 755 "$tmp"
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$tmp"; fi
pgdata="$tmp/data"
pgpid=""

cleanup() {
  rc=$?
  trap - EXIT INT TERM
  if [ -n "$pgpid" ] && kill -0 "$pgpid" 2>/dev/null; then
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1 || kill "$pgpid" 2>/dev/null || true
    wait "$pgpid" 2>/dev/null || true
  fi
  # A server restarted by CMD (fault tests) is not our child: stop it by its data directory.
  if [ -f "$pgdata/postmaster.pid" ]; then
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 - <<'PY' 2>/dev/null && return 0
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
  # Fallback without python: pick a random high port that nothing listens on.
  while :; do
    p=$(( (RANDOM << 1 | RANDOM & 1) % 20000 + 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
}

"${as_pg[@]}" "$pgbin/initdb" -D "$pgdata" -U "$pguser" --auth=trust -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 \
  || "${as_pg[@]}" "$pgbin/initdb" -D "$pgdata" -U "$pguser" --auth=trust -E UTF8 --no-locale >"$tmp/initdb.log" 2>&1 \
  || { cat "$tmp/initdb.log" >&2; exit 1; }

started=""
for attempt in 1 2 3 4 5; do
  port="$(free_port)"
  "${as_pg[@]}" "$pgbin/postgres" -D "$pgdata" \
    -c listen_addresses=127.0.0.1 -c port="$port" -c unix_socket_directories="$tmp" \
    -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c shared_buffers=128MB -c log_min_messages=warning "${extra[@]}" >"$tmp/postgres.log" 2>&1 &
  pgpid=$!
  for _ in $(seq 1 100); do
    if "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then started=1; break; fi
    if ! kill -0 "$pgpid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  [ -n "$started" ] && break
  kill "$pgpid" 2>/dev/null || true; wait "$pgpid" 2>/dev/null || true; pgpid=""
done
if [ -z "$started" ]; then
  echo "with-postgres.sh: PostgreSQL did not start" >&2
  cat "$tmp/postgres.log" >&2 || true
  exit 1
fi

"${as_pg[@]}" "$pgbin/psql" -h 127.0.0.1 -p "$port" -U "$pguser" -d postgres -qAt -v ON_ERROR_STOP=1 \
  -c "CREATE DATABASE app" >/dev/null

export TEST_DATABASE_URL="postgres://$pguser@127.0.0.1:$port/app?sslmode=disable"
export WITH_POSTGRES_BIN="$pgbin" WITH_POSTGRES_DATA="$pgdata" WITH_POSTGRES_HOST=127.0.0.1 WITH_POSTGRES_PORT="$port" WITH_POSTGRES_USER="$pguser"
echo "with-postgres.sh: PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2

set +e
"$@"
rc=$?
set -e
exit "$rc"
