#!/usr/bin/env bash
# bench/backend.sh — load the API on loopback and compare with raw PostgreSQL.
#
# Builds the server, starts it on 127.0.0.1 against a throwaway PostgreSQL (scripts/
# with-postgres.sh, or TEST_DATABASE_URL if set), seeds users and tasks, then runs wrk at
# CONNS connections for DURATION each on GET /api/tasks (one user's one-task list),
# POST /api/tasks (USERS users, and one user; then with an Idempotency-Key on each, as the UI
# sends it), POST /api/chat (offline brain, USERS users: a new conversation per turn, then as the
# UI sends it, keyed and continuing each user's conversation) and MCP tools/call list_tasks
# (POST /mcp), and pgbench with the equivalent single-row SELECT at the same client count.
# Prints req/s, p50, p99 and errors, the API/pgbench ratio and the server's peak RSS (VmHWM).
# After every run, the same wrk load goes to bench/floor, a net/http server that answers with the
# real GET's bytes and does no work: its p99 (column "floor p99") is the machine's at that moment.
# Then PostgreSQL's top statements of each run (pg_stat_statements, loaded in the throwaway cluster).
#
# Needs: wrk (apt-get install wrk), pgbench and psql (postgresql-contrib / postgresql client), curl, go.
# Env: DURATION (default 10s, per run), ROUNDS (3 alternating GET/pgbench rounds), CONNS (64), THREADS (2),
# USERS (accounts the writes and chat come from, default CONNS), DB_MAX_CONNS (server pool, default 8),
# LOG_LEVEL (info), BENCH_ONLY=get,chat,... (only those runs of get, post, post1, postkey, chat,
# chatui, mcp; for quick experiments),
# BENCH_PPROF=prefix (build with the pprof tag and save a CPU profile of each run, prefix.get.pb.gz
# for the first GET round, prefix.chat.pb.gz and so on for the others),
# BENCH_BASELINE=path/to/server (another build, e.g. of main: served beside this one on the same
# database and loaded with GET in every round too, so a change is compared under the same load),
# BENCH_BUSY=own|shared (a CPU-heavy build — the backend rebuilt from scratch, `go build -a -p 2`,
# over and over — runs beside every run: "own" starts it in a session of its own, as from another
# terminal, so the kernel's autogroup schedules it as one group against the benchmark's, the way
# a node's cgroups schedule another pod; "shared" keeps it in the benchmark's session, where each
# of its threads competes one for one with the server's and PostgreSQL's).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  # pg_stat_statements breaks PostgreSQL's share of each run down by statement (see pg_top),
  # with the time spent planning them, which a statement re-planned on every call shows.
  WITH_POSTGRES_SETTINGS="shared_preload_libraries=pg_stat_statements pg_stat_statements.track_planning=on ${WITH_POSTGRES_SETTINGS:-}" \
    exec "$root/scripts/with-postgres.sh" "$0" "$@"
fi
DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
CONNS="${CONNS:-64}"
THREADS="${THREADS:-2}"
case "${BENCH_BUSY:-}" in ""|own|shared) ;; *) echo "bench/backend.sh: BENCH_BUSY is own or shared, not '$BENCH_BUSY'" >&2; exit 2 ;; esac
for tool in wrk pgbench psql curl go; do
  command -v "$tool" >/dev/null || { echo "bench/backend.sh: $tool is required" >&2; exit 1; }
done

work="$(mktemp -d -t bench-backend.XXXXXX)"
server_pid=""
stop_pid() { # pid (or empty): stop that process if it still runs
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
cleanup() {
  stop_pid "${baseline_pid:-}"
  stop_pid "${floor_pid:-}"
  stop_pid "$server_pid"
  if [ -n "${busy_pid:-}" ]; then
    kill -TERM -- "-$busy_pid" 2>/dev/null || true
    wait "$busy_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "building server..." >&2
tags=""; [ -n "${BENCH_PPROF:-}" ] && tags="pprof"
(cd "$root/backend" && CGO_ENABLED=0 go build -tags "$tags" -trimpath -ldflags "-s -w" -o "$work/server" ./cmd/server)
(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/floor" ./bench/floor)

# The busy build's process group (its own pid), so cleanup stops the go command and its compilers.
busy_pid=""
# Its load stays the same whatever runtime settings (GOMAXPROCS, GOGC) the server is given.
busy_loop=(env -u GOMAXPROCS -u GOGC -u GOMEMLIMIT bash -c 'cd "$1" && while :; do GOCACHE="$2" go build -a -p 2 -o /dev/null ./cmd/server >/dev/null 2>&1; done' busy "$root/backend" "$work/busy-gocache")
case "${BENCH_BUSY:-}" in
  "") busy_note="idle" ;;
  own)
    setsid "${busy_loop[@]}" &
    busy_pid=$!
    busy_note="busy: a go build -a -p 2 loop beside every run, in its own session (autogroup $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo '?'))" ;;
  shared)
    set -m; "${busy_loop[@]}" & busy_pid=$!; set +m
    busy_note="busy: a go build -a -p 2 loop beside every run, in the benchmark's session" ;;
esac

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_server() { # binary port log
  DATABASE_URL="$TEST_DATABASE_URL" JWT_SECRET="bench-secret-0123456789abcdef-0123456789" \
    LISTEN_HOST=127.0.0.1 PORT="$2" LOG_LEVEL="${LOG_LEVEL:-info}" DB_MAX_CONNS="${DB_MAX_CONNS:-8}" DRAIN_WINDOW=0s \
    "$1" >"$3" 2>&1 &
}
wait_ready() { # base log
  for _ in $(seq 1 100); do
    curl -sf "$1/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "$1/readyz" >/dev/null || { echo "$1 did not become ready" >&2; cat "$2" >&2; exit 1; }
}
port="$(free_port)"
base="http://127.0.0.1:$port"
start_server "$work/server" "$port" "$work/server.log"
server_pid=$!
wait_ready "$base" "$work/server.log"

# PostgreSQL's statements per request: what each run's "pg µs" was spent executing. Only when
# the cluster loaded pg_stat_statements (a TEST_DATABASE_URL given from outside may not have).
pgss=""
if psql "$TEST_DATABASE_URL" -XAtc "SHOW shared_preload_libraries" | grep -qw pg_stat_statements; then
  psql "$TEST_DATABASE_URL" -X -q -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
  pgss=1
fi
statements=()
pg_reset() { [ -z "$pgss" ] || psql "$TEST_DATABASE_URL" -XAtq -c "SELECT pg_stat_statements_reset()" >/dev/null; }
# pg_top NAME REQUESTS: the three statements that took the most execution time since pg_reset
# (of those over 1% of it), each with its calls per request, µs per call executing and µs per
# call planning (a statement planned once per connection shows about 0), into statements.
# Statements of the same text are one (PostgreSQL may track one under two ids).
pg_top() {
  [ -n "$pgss" ] || return 0
  local line
  while IFS='|' read -r per us plan query; do
    printf -v line '%-22s %9s %8s %8s  %s' "$1" "$per" "$us" "$plan" "$query"
    statements+=("$line")
  done < <(psql "$TEST_DATABASE_URL" -XAt -c "
    SELECT to_char(calls / $2, 'FM990.00'), to_char(exec * 1000 / calls, 'FM99990.0'),
      to_char(plan * 1000 / calls, 'FM99990.0'), left(query, 100)
    FROM (SELECT sum(calls) AS calls, sum(total_exec_time) AS exec, sum(total_plan_time) AS plan,
            sum(sum(total_exec_time)) OVER () AS run,
            regexp_replace(query, '\s+', ' ', 'g') AS query
          FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND toplevel
            AND query NOT LIKE '%pg_stat_statements%'
          GROUP BY 5) s
    WHERE exec >= run / 100
    ORDER BY exec DESC LIMIT 3")
}

baseline_pid=""
if [ -n "${BENCH_BASELINE:-}" ]; then
  baseline_port="$(free_port)"
  baseline="http://127.0.0.1:$baseline_port"
  start_server "$BENCH_BASELINE" "$baseline_port" "$work/baseline.log"
  baseline_pid=$!
  wait_ready "$baseline" "$work/baseline.log"
fi

json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }
signup() {
  curl -sf -X POST "$base/api/auth/signup" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1@bench.example\",\"password\":\"bench-password\"}"
}
get_resp="$(signup get)"; get_token="$(echo "$get_resp" | json_field '["token"]')"; get_uid="$(echo "$get_resp" | json_field '["user"]["id"]')"
post_token="$(signup post | json_field '["token"]')"
# GET user: one task, so GET /api/tasks and the pgbench query both return a single row.
curl -sf -X POST "$base/api/tasks" -H "Authorization: Bearer $get_token" -H 'Content-Type: application/json' \
  -d '{"title":"buy milk","description":"2 litres"}' >/dev/null
# The floor answers with the bytes of that user's GET.
curl -sf "$base/api/tasks" -H "Authorization: Bearer $get_token" -o "$work/get-answer.json"
floor_port="$(free_port)"
floor="http://127.0.0.1:$floor_port"
"$work/floor" -addr "127.0.0.1:$floor_port" -body "$work/get-answer.json" >"$work/floor.log" 2>&1 &
floor_pid=$!
wait_ready "$floor" "$work/floor.log" # it answers every path
# Writes and chat come from USERS people at once each (default: one per connection), as a
# deployed app sees them; the "1 user" row puts every connection on one account. The chat users
# are others, with three tasks each for "what's left?" to list (the writers' lists grow).
USERS="${USERS:-$CONNS}"
wants() { case ",${BENCH_ONLY:-get,post,post1,postkey,chat,chatui,mcp}," in *,"$1",*) return 0 ;; esac; return 1; }
if wants post || wants postkey || wants chat || wants chatui; then
  echo "signing up 2 x $USERS users..." >&2
  post_tokens=""; chat_tokens=""
  for i in $(seq 1 "$USERS"); do
    post_tokens+="${post_tokens:+,}$(signup "writer$i" | json_field '["token"]')"
    token="$(signup "chatter$i" | json_field '["token"]')"
    for t in "buy milk" "walk the dog" "call mom"; do
      curl -sf -X POST "$base/api/tasks" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "{\"title\":\"$t\"}" >/dev/null
    done
    chat_tokens+="${chat_tokens:+,}$token"
  done
fi
# The UI's chat: each chatter's conversation, begun with one turn, which every turn continues.
if wants chatui; then
  chat_convs=""
  for token in ${chat_tokens//,/ }; do
    conv="$(curl -sf -X POST "$base/api/chat" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d '{"message":"hello"}' | json_field '["conversation_id"]')"
    chat_convs+="${chat_convs:+,}$conv"
  done
fi
# Each chatter has used the app before: 20 earlier conversations of one turn. A deployed app's
# conversations and turns are never empty, and PostgreSQL plans the statements a connection
# prepares (and the foreign-key checks) on the tables' statistics. Planned on a fresh database's
# nearly empty tables, finding a conversation by id is a scan of the whole table, which the chat
# runs grow by thousands of rows a second; the plan stayed until autovacuum, which looks once a
# minute, happened to re-analyse the table, so a chat run's figures depended on the runs before
# it (measured: a turn's saved turn took 146 µs alone and 450–1070 µs after the write runs).
if wants chat || wants chatui; then
  psql "$TEST_DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<'SQL'
WITH c AS (
  INSERT INTO conversations (user_id, title, message_count, created_at, updated_at)
  SELECT u.id, 'earlier ' || g, 2, now() - make_interval(days => g), now() - make_interval(days => g)
  FROM users u CROSS JOIN generate_series(1, 20) g WHERE u.email LIKE 'chatter%@bench.example'
  RETURNING id, created_at)
INSERT INTO turns (conversation_id, first_message, messages, created_at)
SELECT id, 1, '[{"role":"user","content":"what''s left?"},{"role":"assistant","content":"You have no open tasks."}]', created_at FROM c;
ANALYZE conversations, turns;
SQL
fi

# CPU time (user+system, in clock ticks) a process has used: per request, it is steadier than
# req/s on a shared machine (the process's own cost, whatever else runs).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The same for PostgreSQL, so a change that moves work into the database shows there: every
# postgres process on the machine (the throwaway cluster's, when nothing else runs one), and
# for a postmaster also its exited children's (pgbench's backends and autovacuum come and go).
pg_ticks() {
  local p
  for p in $(pgrep -x postgres); do
    # Fields after the ")" of comm: 4 is the parent, 12-15 utime stime cutime cstime.
    sed 's/.*) //' "/proc/$p/stat" 2>/dev/null || true
  done | awk -v pids=" $(pgrep -x postgres | tr '\n' ' ') " '
    { t += $12 + $13; if (index(pids, " " $2 " ") == 0) t += $14 + $15 }
    END { print t + 0 }'
}
hz="$(getconf CLK_TCK)"
per_req_us() { python3 -c "print(f'{($2 - $1) / $hz / $3 * 1e6:.0f}')"; } # ticks0 ticks1 requests

# pprof listens on 127.0.0.1:6060 (cmd/server/pprof.go); a profile covers a run but its edges.
pprof_pid=""
start_pprof() { # key
  [ -n "${BENCH_PPROF:-}" ] || return 0
  curl -sf -o "$BENCH_PPROF.$1.pb.gz" "http://127.0.0.1:6060/debug/pprof/profile?seconds=$(( ${DURATION%s} - 2 ))" &
  pprof_pid=$!
}
wait_pprof() { if [ -n "$pprof_pid" ]; then wait "$pprof_pid"; pprof_pid=""; fi; }

# wrk_load METHOD URL BODY TOKENS: one wrk run at CONNS connections for DURATION; sets
# requests= duration_us= p50_us= p99_us= non2xx= socket_errors= from its RESULT line.
wrk_load() {
  local out
  out="$(BENCH_METHOD="$1" BENCH_BODY="$3" BENCH_TOKENS="$4" BENCH_ACCEPT="${BENCH_ACCEPT:-}" \
    BENCH_KEY_PREFIX="${BENCH_KEY_PREFIX:-}" BENCH_CONVERSATIONS="${BENCH_CONVERSATIONS:-}" \
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 5s -s "$root/bench/backend.lua" "$2" | grep '^RESULT')"
  eval "${out#RESULT }"
}

# The server's own view of its tail: how many requests of ROUTE (a ServeMux pattern) its
# handlers have finished, and how many of them within 25 ms (the latency histogram's bucket).
# wrk's p99 also counts time outside the handlers: requests waiting to be read, answers
# waiting for wrk's own threads, which a busy machine preempts too.
handler_counts() { # route -> "count within_25ms"
  curl -sf "$base/metrics" | awk -v r="route=\"$1\"" '
    index($0, "http_request_duration_seconds_bucket{") == 1 && index($0, r) && index($0, "le=\"0.025\"") { w += $2 }
    index($0, "http_request_duration_seconds_count{") == 1 && index($0, r) { n += $2 }
    END { print n + 0, w + 0 }'
}
over_25ms() { # "count within" before, "count within" after -> share of the requests in between over 25 ms
  python3 -c "import sys; n0, w0, n1, w1 = map(float, sys.argv[1:]); n = n1 - n0; print(f'{((n - (w1 - w0)) / n * 100) if n else 0:.2f}%')" $1 $2
}

# floor_p99: the floor's p99 in ms under the same wrk load, run right after the API's.
floor_p99() {
  local requests duration_us p50_us p99_us non2xx socket_errors
  # A plain GET, whatever the run before it sent (keys, conversations).
  BENCH_KEY_PREFIX="" BENCH_CONVERSATIONS="" BENCH_ACCEPT="" wrk_load GET "$floor/api/tasks" "" "$get_token"
  # Errors would make its p99 meaningless: say so in its place.
  if [ "$((non2xx + socket_errors))" != 0 ]; then echo "errors"; return; fi
  python3 -c "print(f'{$p99_us/1000:.2f}')"
}

results=()
run_wrk() { # name method path body tokens(comma-separated) key route
  local name="$1" s0 p0 h0
  # The runs share one database, and the write runs grow tasks from a few hundred rows to
  # hundreds of thousands in seconds. Until autovacuum re-analyses it (a minute or more on a
  # busy machine), plans PostgreSQL cached on the tiny table stay: a list read then scans the
  # whole table (measured: MCP list_tasks at 180 req/s, 11 ms of PostgreSQL CPU each). Each run
  # starts from fresh statistics of tasks instead, as a deployment's steady state has them.
  # Only tasks: the chat runs' tables start from their earlier conversations' statistics (above).
  psql "$TEST_DATABASE_URL" -X -q -c "ANALYZE tasks"
  # The statements' own queries stay outside the CPU per request they break down.
  pg_reset
  h0="$(handler_counts "$7")"
  s0="$(cpu_ticks "$server_pid")"; p0="$(pg_ticks)"
  start_pprof "$6"
  wrk_load "$2" "$base$3" "$4" "$5"
  wait_pprof
  local rps; rps="$(python3 -c "print(f'{$requests/($duration_us/1e6):.0f}')")"
  local row; row="$(printf '%-22s %10s %9.2f %9.2f %8s %8s %8s %10s' "$name" "$rps" "$(python3 -c "print($p50_us/1000)")" "$(python3 -c "print($p99_us/1000)")" "$((non2xx + socket_errors))" \
    "$(per_req_us "$s0" "$(cpu_ticks "$server_pid")" "$requests")" "$(per_req_us "$p0" "$(pg_ticks)" "$requests")" \
    "$(over_25ms "$h0" "$(handler_counts "$7")")")"
  pg_top "$name" "$requests"
  echo "$name: the floor under the same load..." >&2
  results+=("$(printf '%s %10s' "$row" "$(floor_p99)")")
  eval "rps_$6=$rps"
}

echo "warming up..." >&2
BENCH_METHOD=GET BENCH_BODY="" BENCH_TOKENS="$get_token" wrk -t1 -c8 -d2s -s "$root/bench/backend.lua" "$base/api/tasks" >/dev/null

# GET /api/tasks and pgbench alternate in ROUNDS short rounds so both see the same machine
# load (other work on a shared machine moves either figure by tens of percent); the medians
# are reported.
cat >"$work/select.sql" <<SQL
SELECT id, title, description, completed, created_at, updated_at FROM tasks WHERE user_id = $get_uid ORDER BY id;
SQL
secs="${DURATION%s}"
get_rps=(); get_p50=(); get_p99=(); get_floor=(); get_err=0; pg_tps_all=(); base_rps=(); base_p99=(); get_cpu=(); get_pgcpu=(); base_cpu=()
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
floor_median() { # the rounds' floor p99s -> their median, or "errors" if a round had any
  case " $* " in *" errors "*) echo errors ;; *) printf '%.2f' "$(median "$@")" ;; esac
}
if wants get; then
get_h0="$(handler_counts "GET /api/tasks")"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS: wrk GET /api/tasks ($CONNS connections, $DURATION), then pgbench..." >&2
  if [ "$round" = 1 ]; then start_pprof get; pg_reset; fi
  t0="$(cpu_ticks "$server_pid")"; p0="$(pg_ticks)"
  wrk_load GET "$base/api/tasks" "" "$get_token"
  get_cpu+=("$(per_req_us "$t0" "$(cpu_ticks "$server_pid")" "$requests")"); get_pgcpu+=("$(per_req_us "$p0" "$(pg_ticks)" "$requests")")
  if [ "$round" = 1 ]; then pg_top "GET /api/tasks" "$requests"; fi
  get_rps+=("$(python3 -c "print($requests/($duration_us/1e6))")"); get_p50+=("$p50_us"); get_p99+=("$p99_us")
  get_err=$((get_err + non2xx + socket_errors))
  wait_pprof
  if [ -n "$baseline_pid" ]; then
    echo "round $round/$ROUNDS: wrk GET /api/tasks on the baseline..." >&2
    t0="$(cpu_ticks "$baseline_pid")"
    wrk_load GET "$baseline/api/tasks" "" "$get_token"
    base_cpu+=("$(per_req_us "$t0" "$(cpu_ticks "$baseline_pid")" "$requests")")
    base_rps+=("$(python3 -c "print($requests/($duration_us/1e6))")"); base_p99+=("$p99_us")
  fi
  pg_out="$(pgbench -n -M prepared -c "$CONNS" -j "$THREADS" -T "$secs" -f "$work/select.sql" "$TEST_DATABASE_URL" 2>&1)"
  pg_tps_all+=("$(echo "$pg_out" | awk '/^tps = / {print $3; exit}')")
  echo "round $round/$ROUNDS: the floor..." >&2
  get_floor+=("$(floor_p99)")
done
rps_get="$(printf '%.0f' "$(median "${get_rps[@]}")")"
pg_tps="$(printf '%.0f' "$(median "${pg_tps_all[@]}")")"
results+=("$(printf '%-22s %10s %9.2f %9.2f %8s %8.0f %8.0f %10s %10s' "GET /api/tasks" "$rps_get" "$(python3 -c "print($(median "${get_p50[@]}")/1000)")" "$(python3 -c "print($(median "${get_p99[@]}")/1000)")" "$get_err" \
  "$(median "${get_cpu[@]}")" "$(median "${get_pgcpu[@]}")" "$(over_25ms "$get_h0" "$(handler_counts "GET /api/tasks")")" "$(floor_median "${get_floor[@]}")")")
echo "GET rounds req/s: ${get_rps[*]}; p99 µs: ${get_p99[*]}; the floor's p99 ms: ${get_floor[*]}; server CPU µs per GET: ${get_cpu[*]}; pgbench rounds tps: ${pg_tps_all[*]}" >&2
fi
create_body='{"title":"benchmark task","description":"created by wrk"}'
if wants post; then
  echo "wrk: POST /api/tasks..." >&2
  run_wrk "POST /api/tasks" POST /api/tasks "$create_body" "$post_tokens" post "POST /api/tasks"
fi
if wants post1; then
  # One account's creates take its next task number one at a time (a row lock until COMMIT).
  echo "wrk: POST /api/tasks, one user..." >&2
  run_wrk "POST /api/tasks 1 user" POST /api/tasks "$create_body" "$post_token" post1 "POST /api/tasks"
fi
if wants postkey; then
  echo "wrk: POST /api/tasks with an Idempotency-Key each..." >&2
  BENCH_KEY_PREFIX="postkey-$(date +%s%N)" \
    run_wrk "POST /api/tasks +key" POST /api/tasks "$create_body" "$post_tokens" postkey "POST /api/tasks"
fi
if wants chat; then
  echo "wrk: POST /api/chat (offline)..." >&2
  run_wrk "POST /api/chat" POST /api/chat "{\"message\":\"what's left?\"}" "$chat_tokens" chat "POST /api/chat"
fi
if wants chatui; then
  # What the UI sends: an Idempotency-Key and the conversation, whose history the turn reads.
  echo "wrk: POST /api/chat as the UI sends it..." >&2
  BENCH_KEY_PREFIX="chatui-$(date +%s%N)" BENCH_CONVERSATIONS="$chat_convs" \
    run_wrk "POST /api/chat UI" POST /api/chat "{\"message\":\"what's left?\",\"conversation_id\":{conversation}}" "$chat_tokens" chatui "POST /api/chat"
fi
if wants mcp; then
  # The same one-task list as GET /api/tasks, through MCP (stateless streamable HTTP, JSON answers).
  mcp_body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_tasks","arguments":{}}}'
  mcp_accept="application/json, text/event-stream"
  curl -sf "$base/mcp" -H "Authorization: Bearer $get_token" -H 'Content-Type: application/json' -H "Accept: $mcp_accept" \
    -d "$mcp_body" | grep -q '"structuredContent":{"tasks":\[{' || { echo "MCP list_tasks did not answer the task" >&2; exit 1; }
  echo "wrk: POST /mcp tools/call list_tasks..." >&2
  BENCH_ACCEPT="$mcp_accept" run_wrk "MCP list_tasks" POST /mcp "$mcp_body" "$get_token" mcp /mcp
fi

rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")"
errors_in_log="$(grep -c '"level":"ERROR"' "$work/server.log" || true)"
mkdir -p "$root/bench/results"
{
echo "== backend benchmark: $CONNS connections, $DURATION per run (GET and pgbench: median of $ROUNDS alternating rounds), $(nproc) cores, loopback, load average $(cut -d' ' -f1-3 /proc/loadavg) =="
echo "== $busy_note =="
# CPU µs per request: the server's own, and PostgreSQL's (all its processes) for the same
# requests; then the share of requests the server's handlers took over 25 ms (its metrics), and
# the p99 of bench/floor, which does no work, under the same load right after (GET: median).
printf '%-22s %10s %9s %9s %8s %8s %8s %10s %10s\n' "endpoint" "req/s" "p50 ms" "p99 ms" "errors" "srv µs" "pg µs" "srv >25ms" "floor p99"
for r in "${results[@]}"; do echo "$r"; done
if wants get; then
  printf '%-22s %10s\n' "pgbench SELECT (tps)" "$pg_tps"
  echo "GET /api/tasks / pgbench SELECT = $(python3 -c "print(f'{$rps_get/$pg_tps*100:.1f}%')")"
fi
if [ -n "$baseline_pid" ] && wants get; then
  echo "baseline GET rounds req/s: ${base_rps[*]}; server CPU µs per GET: ${base_cpu[*]}" >&2
  b_rps="$(median "${base_rps[@]}")"
  echo "baseline GET /api/tasks: $(printf '%.0f' "$b_rps") req/s, p99 $(python3 -c "print($(median "${base_p99[@]}")/1000)") ms, $(python3 -c "print(f'{$b_rps/$pg_tps*100:.1f}%')") of pgbench; this build / baseline = $(python3 -c "print(f'{$rps_get/$b_rps:.3f}')"); baseline CPU per GET $(printf '%.1f' "$(median "${base_cpu[@]}")") µs"
fi
echo "server peak RSS (VmHWM) = $((rss_kb / 1024)) MB"
echo "server log ERROR lines = $errors_in_log"
# The first few, with the warnings that say why (a 503's cause is logged at WARN).
[ "${errors_in_log:-0}" = 0 ] || grep -E '"level":"(ERROR|WARN)"' "$work/server.log" | head -8
if [ -n "$pgss" ]; then
  echo "PostgreSQL's top statements per run (pg_stat_statements; wall-clock µs per call executing, lock and CPU waits included, and planning; GET: its first round):"
  printf '%-22s %9s %8s %8s  %s\n' "endpoint" "per req" "µs each" "plan µs" "statement"
  for r in "${statements[@]}"; do echo "$r"; done
else
  echo "PostgreSQL's statements: not broken down (pg_stat_statements is not loaded in this cluster)"
fi
} | tee "$root/bench/results/backend-$(date -u +%Y%m%dT%H%M%SZ).txt"
