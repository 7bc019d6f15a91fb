// Package testdb gives tests a real, freshly migrated PostgreSQL database of their own.
//
// TEST_DATABASE_URL names a server and a database the tests may connect to (scripts/
// with-postgres.sh sets it). Each test binary creates its own database on that server, so test
// packages run in parallel without seeing each other's rows, and drops it at the end.
// Without TEST_DATABASE_URL the database tests skip — unless CI is set, where they fail, so
// the real path is the one CI runs.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/config"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

var dbURL string

// SkipMessage is printed when the database tests cannot run.
const SkipMessage = "TEST_DATABASE_URL is unset: skipping PostgreSQL tests (run them with scripts/with-postgres.sh go test ./...)"

// Main wraps m.Run: it creates and migrates a database for this test binary and drops it after.
func Main(m *testing.M) int {
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "CI is set but TEST_DATABASE_URL is not: refusing to skip the PostgreSQL tests")
			return 1
		}
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	u, err := url.Parse(base)
	if err != nil {
		fmt.Fprintln(os.Stderr, "TEST_DATABASE_URL is not a URL")
		cancel()
		return 1
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect to TEST_DATABASE_URL:", err)
		cancel()
		return 1
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		fmt.Fprintln(os.Stderr, "create test database:", err)
		cancel()
		return 1
	}
	u.Path = "/" + name
	dbURL = u.String()
	pool, err := pgxpool.New(ctx, dbURL)
	if err == nil {
		err = store.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
		pool.Close()
	}
	cancel()
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate test database:", err)
	} else {
		code = m.Run()
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer dcancel()
	if _, err := admin.Exec(dctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		fmt.Fprintln(os.Stderr, "drop test database:", err)
	}
	_ = admin.Close(dctx)
	return code
}

// URL returns the migrated test database's URL, or skips tb.
func URL(tb testing.TB) string {
	tb.Helper()
	// Read inside a test so `go test`'s cache keys on them (TestMain's reads are not recorded).
	_, _ = os.Getenv("TEST_DATABASE_URL"), os.Getenv("CI")
	if dbURL == "" {
		tb.Skip(SkipMessage)
	}
	return dbURL
}

// BaseURL returns TEST_DATABASE_URL itself (to create further databases), or skips tb.
func BaseURL(tb testing.TB) string {
	tb.Helper()
	if dbURL == "" {
		tb.Skip(SkipMessage)
	}
	return os.Getenv("TEST_DATABASE_URL")
}

// Pool opens a pool on the test database, closed when tb ends.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// Unique returns a short random suffix for emails and titles.
func Unique() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// HoldLock runs sql (a LOCK TABLE, a SELECT … FOR UPDATE) in a transaction on a connection of
// its own and keeps what it locked until the returned func is called (also at the end of tb):
// what makes a request wait on PostgreSQL.
func HoldLock(tb testing.TB, sql string, args ...any) (release func()) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		tb.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback(ctx); _ = conn.Close(ctx) }) }
	tb.Cleanup(release)
	return release
}

// Config loads a config.Config from DATABASE_URL = the test database, a test JWT secret and a
// low bcrypt cost, then the given variables layered on top (later maps win).
func Config(tb testing.TB, layers ...map[string]string) *config.Config {
	tb.Helper()
	env := map[string]string{"DATABASE_URL": URL(tb), "JWT_SECRET": "test-secret-0123456789abcdef-0123456789", "BCRYPT_COST": "4"}
	for _, l := range layers {
		for k, v := range l {
			env[k] = v
		}
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}
