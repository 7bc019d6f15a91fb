package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/config"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/server"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// cfgFor is the test configuration: no drain window unless a test asks for one.
func cfgFor(t *testing.T, env map[string]string) *config.Config {
	return testdb.Config(t, map[string]string{"DRAIN_WINDOW": "0s"}, env)
}

func quiet() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// freshDB creates an empty database for migration tests and returns its URL.
func freshDB(t *testing.T) string {
	base := testdb.BaseURL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	name := "mig_" + testdb.Unique()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
		_ = admin.Close(context.Background())
	})
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	u := strings.Replace(base, "/"+cfg.Database, "/"+name, 1)
	return u
}

// Several replicas migrating one empty database at once: the advisory lock makes each
// migration apply exactly once and none fails.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	url := freshDB(t)
	cfg := cfgFor(t, map[string]string{"DATABASE_URL": url})
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- server.Migrate(context.Background(), cfg, quiet())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	migs, _ := store.Migrations()
	if n != len(migs) {
		t.Fatalf("%d migrations recorded, want %d", n, len(migs))
	}
	// Idempotent: running again changes nothing.
	if err := server.Migrate(context.Background(), cfg, quiet()); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateOnStartFalse(t *testing.T) {
	t.Parallel()
	url := freshDB(t)
	cfg := cfgFor(t, map[string]string{"DATABASE_URL": url, "MIGRATE_ON_START": "false"})
	_, cancel, done := runServer(t, cfg)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	_ = conn.QueryRow(context.Background(), "SELECT to_regclass('tasks') IS NOT NULL").Scan(&exists)
	if exists {
		t.Fatal("MIGRATE_ON_START=false still migrated")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// runServer starts server.Run on a free loopback port and returns once it answers. cancel is
// what SIGTERM is to the process; done receives Run's result.
func runServer(t *testing.T, cfg *config.Config) (base string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- server.Run(ctx, cfg, quiet(), ln) }()
	base = "http://" + ln.Addr().String()
	waitUp(t, base)
	return base, cancel, ch
}

func waitUp(t *testing.T, base string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if r, err := http.Get(base + "/healthz"); err == nil {
			r.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("server did not come up")
}

// TestGracefulShutdown: cancelling Run's context (what SIGTERM does) fails /readyz at once but
// keeps serving new requests for the drain window, then refuses new connections, lets the
// in-flight request finish, and returns nil.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	// A slow OpenAI-compatible endpoint keeps a chat request in flight.
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"slow answer"}}]}`)
	}))
	defer llm.Close()
	const drain = 1500 * time.Millisecond
	cfg := cfgFor(t, map[string]string{"LLM_PROVIDER": "openai", "LLM_BASE_URL": llm.URL, "LLM_MODEL": "m", "LLM_API_KEY": "k",
		"SHUTDOWN_TIMEOUT": "10s", "DRAIN_WINDOW": drain.String()})
	base, cancel, done := runServer(t, cfg)
	token := signupToken(t, base)

	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/api/chat", strings.NewReader(`{"message":"hi"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inflight <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-started
	cancel() // SIGTERM
	sigterm := time.Now()
	// During the drain window: readiness fails, everything else is still served on new
	// connections (the Service may still send traffic here).
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	get := func(path string) (int, error) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for ready := 200; ready == 200; time.Sleep(10 * time.Millisecond) {
		var err error
		if ready, err = get("/readyz"); err != nil || time.Since(sigterm) > drain/2 {
			t.Fatalf("readyz after SIGTERM: %d %v", ready, err)
		}
	}
	served, refused := 0, 0
	for time.Since(sigterm) < drain-300*time.Millisecond {
		if code, err := get("/api/tasks"); err != nil || code != 200 {
			refused++
		} else {
			served++
		}
		time.Sleep(20 * time.Millisecond)
	}
	if refused > 0 || served == 0 {
		t.Fatalf("during the drain window: %d served, %d refused", served, refused)
	}
	// After it, new connections are refused while the in-flight request is still running.
	for refuseBy := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := get("/healthz"); err != nil {
			break
		}
		if time.Now().After(refuseBy) {
			t.Fatal("new connections still accepted long after the drain window")
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned before the in-flight request finished: %v", err)
	default:
	}
	close(release)
	res := <-inflight
	if res.err != nil || res.status != 200 || !strings.Contains(res.body, "slow answer") {
		t.Fatalf("in-flight request: %+v", res)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

// When SHUTDOWN_TIMEOUT ends with a request still running, the request is cut, its chat turn
// rolls back, and Run reports it (the process exits non-zero).
func TestShutdownCutsRequestsAndSaysSo(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chat/completions" && strings.Contains(readAll(r.Body), `"tool"`) {
			started <- struct{}{}
			<-r.Context().Done() // never answers the second call
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"add_task","arguments":"{\"title\":\"cut short\"}"}}]}}]}`)
	}))
	defer llm.Close()
	cfg := cfgFor(t, map[string]string{"LLM_PROVIDER": "openai", "LLM_BASE_URL": llm.URL, "LLM_MODEL": "m", "LLM_API_KEY": "k",
		"SHUTDOWN_TIMEOUT": "300ms", "DRAIN_WINDOW": "0s"})
	base, cancel, done := runServer(t, cfg)
	token := signupToken(t, base)
	go func() {
		req, _ := http.NewRequest("POST", base+"/api/chat", strings.NewReader(`{"message":"add cut short"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-started // add_task ran inside the turn's transaction
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, server.ErrRequestsCut) {
			t.Fatalf("Run after cutting a request: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	conn, err := pgx.Connect(context.Background(), cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM tasks WHERE title = 'cut short'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the cut turn's task was committed: %d %v", n, err)
	}
}

func readAll(r io.Reader) string {
	b, _ := io.ReadAll(r)
	return string(b)
}

func signupToken(t *testing.T, base string) string {
	t.Helper()
	r, err := http.Post(base+"/api/auth/signup", "application/json", strings.NewReader(`{"email":"s-`+testdb.Unique()+`@example.com","password":"password1"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	return strings.Split(strings.Split(string(body), `"token":"`)[1], `"`)[0]
}

func TestBadDatabaseURLDoesNotLeak(t *testing.T) {
	cfg := cfgFor(t, map[string]string{"DATABASE_URL": "postgres://user:s3cret@host:notaport/db"})
	err := server.Run(context.Background(), cfg, quiet(), nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %v", err)
	}
}

// With the database down at start, the server waits (PostgreSQL may be starting next to it)
// and gives up cleanly when stopped.
func TestWaitsForDatabaseAtStart(t *testing.T) {
	t.Parallel()
	cfg := cfgFor(t, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"})
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := server.Run(ctx, cfg, quiet(), nil)
	if err == nil || !strings.Contains(err.Error(), "database unreachable") {
		t.Fatalf("err %v", err)
	}
	if time.Since(start) < 500*time.Millisecond {
		t.Fatalf("gave up after %v without waiting", time.Since(start))
	}
}

// A request's deadline reaches PostgreSQL: the statement it was waiting on is cancelled there
// (pgx sends a cancel request when it gives up on a connection), not left queued behind the
// lock; the client gets 503 with Retry-After, and /readyz stays 200.
func TestDeadlineCancelsTheStatementInPostgres(t *testing.T) {
	t.Parallel()
	url := freshDB(t)
	// A long statement_timeout, so that only the request's own deadline can stop the wait.
	cfg := cfgFor(t, map[string]string{"DATABASE_URL": url + "&statement_timeout=60000", "REQUEST_TIMEOUT": "500ms"})
	base, cancel, done := runServer(t, cfg)
	defer func() { cancel(); <-done }()
	token := signupToken(t, base)

	bg := context.Background()
	locker, err := pgx.Connect(bg, url)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(bg)
	tx, err := locker.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(bg)
	if _, err := tx.Exec(bg, "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/api/tasks", strings.NewReader(`{"title":"blocked"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("write blocked past its deadline: %d %v", resp.StatusCode, resp.Header)
	}
	// Nothing of ours still waits on the lock in PostgreSQL. (Asked on a connection of its own:
	// pg_stat_activity is a snapshot per transaction, and the locker is in one.)
	observer, err := pgx.Connect(bg, url)
	if err != nil {
		t.Fatal(err)
	}
	defer observer.Close(bg)
	var waiting int
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := observer.QueryRow(bg, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'todo-chatbot-backend' AND wait_event_type = 'Lock' AND datname = current_database()`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 0 || time.Now().After(deadline) {
			break
		}
	}
	if waiting != 0 {
		t.Fatalf("%d statements still wait on the lock after their request ended", waiting)
	}
	if r, err := http.Get(base + "/readyz"); err != nil || r.StatusCode != 200 {
		t.Fatalf("readyz while a table is locked: %v %v", r, err)
	}
}

// The server's connections plan each statement once, not on every call: with tasks skewed as
// a deployment's are (one user with thousands, another with two), PostgreSQL's default plans
// the small user's list read anew each time. A DATABASE_URL that chooses the mode keeps it.
func TestStatementsArePlannedOncePerConnection(t *testing.T) {
	t.Parallel()
	url := freshDB(t)
	ctx := context.Background()
	cfg := cfgFor(t, map[string]string{"DATABASE_URL": url, "DB_MAX_CONNS": "1"})
	if err := server.Migrate(ctx, cfg, quiet()); err != nil {
		t.Fatal(err)
	}
	pool, err := server.NewPool(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := store.New(pool)
	many, err := st.CreateUser(ctx, "many@example.com", "x")
	if err != nil {
		t.Fatal(err)
	}
	few, err := st.CreateUser(ctx, "few@example.com", "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO tasks (user_id, number, title)
		SELECT $1::bigint, g, 'task ' || g FROM generate_series(1, 5000) g
		UNION ALL SELECT $2::bigint, g, 'task ' || g FROM generate_series(1, 2) g`, many.ID, few.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE tasks"); err != nil {
		t.Fatal(err)
	}
	const calls = 12
	for range calls {
		tasks, err := st.ListTasks(ctx, few.ID, store.StatusPending)
		if err != nil || len(tasks) != 2 {
			t.Fatalf("list: %d tasks, %v", len(tasks), err)
		}
	}
	// One connection (DB_MAX_CONNS=1): the one whose prepared statements these are.
	var custom, generic int
	if err := pool.QueryRow(ctx, `SELECT coalesce(sum(custom_plans), 0), coalesce(sum(generic_plans), 0)
		FROM pg_prepared_statements WHERE statement LIKE '%FROM tasks WHERE user_id%'`).Scan(&custom, &generic); err != nil {
		t.Fatal(err)
	}
	if generic == 0 {
		t.Fatal("the list read is not among the connection's prepared statements")
	}
	if custom != 0 {
		t.Errorf("%d list reads: %d planned for their own values; want none (all with the one generic plan)", calls, custom)
	}

	cfg = cfgFor(t, map[string]string{"DATABASE_URL": url + "&plan_cache_mode=auto"})
	own, err := server.NewPool(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	var mode string
	if err := own.QueryRow(ctx, "SHOW plan_cache_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "auto" {
		t.Errorf("DATABASE_URL set plan_cache_mode=auto; the session has %q", mode)
	}
}
