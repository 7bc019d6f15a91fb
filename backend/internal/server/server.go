// Package server wires configuration, database, brain and HTTP server together and runs them
// until the context ends (SIGTERM), then shuts down gracefully.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/config"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/httpapi"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// NewPool opens a pgx pool for cfg. DATABASE_URL may omit the password: pgx then reads
// PGPASSWORD (and the other libpq variables) like libpq does.
func NewPool(ctx context.Context, cfg *config.Config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		// The parse error may echo the URL (and a password in it): never print it.
		return nil, errors.New("DATABASE_URL is not a valid PostgreSQL connection string")
	}
	pc.MaxConns = cfg.DBMaxConns
	pc.MinConns = 1
	pc.MaxConnIdleTime = 5 * time.Minute
	pc.HealthCheckPeriod = 30 * time.Second
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	// Server-side backstops of the request deadlines (which cancel queries from the client
	// side): no statement outlives its request, no transaction sits idle past a chat turn.
	if pc.ConnConfig.RuntimeParams["statement_timeout"] == "" {
		pc.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(max(store.StatementTimeout(cfg.RequestTimeout).Milliseconds(), 1), 10)
	}
	if pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] == "" {
		pc.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt((httpapi.ChatTimeout + 10*time.Second).Milliseconds(), 10)
	}
	// Each prepared statement is planned once per connection, not on every call. PostgreSQL's
	// default plans a statement again for each call's values whenever that looks cheaper than
	// its generic plan, which skewed data (a few users with thousands of tasks, most with a
	// handful) makes true nearly always: the task-list read of a chat turn or an MCP call was
	// planned anew each time, for longer than it ran.
	// Every statement the server prepares finds its rows through an index on an id, a user or
	// a login-limit key, which serves any value alike; PruneKeys, a range over all users, plans per call itself.
	if pc.ConnConfig.RuntimeParams["plan_cache_mode"] == "" {
		pc.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	if pc.ConnConfig.RuntimeParams["application_name"] == "" {
		pc.ConnConfig.RuntimeParams["application_name"] = "todo-chatbot-backend"
	}
	return pgxpool.NewWithConfig(ctx, pc)
}

// NewBrain picks the brain from cfg.
func NewBrain(cfg *config.Config) agent.Brain {
	if cfg.LLMProvider == "openai" {
		return agent.NewOpenAI(cfg.LLMBaseURL, cfg.LLMAPIKey, cfg.LLMModel, nil)
	}
	return agent.Offline{}
}

// Migrate connects and applies the migrations (the `server migrate` subcommand).
func Migrate(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	pool, err := NewPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := waitForDB(ctx, pool, log); err != nil {
		return err
	}
	return store.Migrate(ctx, pool, log)
}

// waitForDB pings until PostgreSQL answers (it may still be starting next to us) or ctx ends.
func waitForDB(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	delay := 250 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := pool.Ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		log.Warn("waiting for the database", "err", err.Error(), "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return fmt.Errorf("database unreachable: %w", err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// ErrRequestsCut is returned by Run when requests were still running at the end of
// SHUTDOWN_TIMEOUT and had to be cut (main then exits non-zero).
var ErrRequestsCut = errors.New("shutdown timeout reached: in-flight requests were cut")

// Run serves on ln (or on :PORT when ln is nil) until ctx is done. Then it drains: /readyz
// fails at once while requests are still served for DRAIN_WINDOW (the time the cluster needs
// to take this replica out of the Service), then the listener closes and in-flight requests get
// up to SHUTDOWN_TIMEOUT; those still running then are cut and Run returns ErrRequestsCut.
func Run(ctx context.Context, cfg *config.Config, log *slog.Logger, ln net.Listener) error {
	pool, err := NewPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.MigrateOnStart {
		mctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := waitForDB(mctx, pool, log)
		if err == nil {
			err = store.Migrate(mctx, pool, log)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
	}
	if cfg.BcryptCost < 10 {
		log.Warn("BCRYPT_COST is below 10: acceptable for tests only", "bcrypt_cost", cfg.BcryptCost)
	}
	api := httpapi.New(cfg, log, pool, NewBrain(cfg))
	defer api.Close()
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if ln == nil {
		ln, err = net.Listen("tcp", net.JoinHostPort(cfg.ListenHost, cfg.Port))
		if err != nil {
			return err
		}
	}
	lim := api.Limits()
	log.Info("listening", "addr", ln.Addr().String(), "llm_provider", cfg.LLMProvider,
		"go_memory_limit", debug.SetMemoryLimit(-1), "max_in_flight", lim.MaxInFlight, "body_budget", lim.BodyBudget,
		"request_timeout", cfg.RequestTimeout.String(), "drain_window", cfg.DrainWindow.String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	pruneDone := make(chan struct{})
	pctx, stopPrune := context.WithCancel(context.WithoutCancel(ctx))
	go func() { defer close(pruneDone); pruneKeys(pctx, store.New(pool), cfg.IdempotencyTTL, log) }()
	defer func() { stopPrune(); <-pruneDone }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	api.Drain()
	// Each connection closes after its current response: clients reconnect, and new
	// connections go to the replicas still in the Service.
	srv.SetKeepAlivesEnabled(false)
	log.Info("draining: readiness fails, still serving", "drain_window", cfg.DrainWindow.String())
	select {
	case <-time.After(cfg.DrainWindow):
	case err := <-errc:
		return err
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	cut := false
	if err := srv.Shutdown(sctx); err != nil {
		cut = true
		log.Error("shutdown timeout reached: cutting in-flight requests", "err", err.Error())
		api.Abort()
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if cut {
		return ErrRequestsCut
	}
	log.Info("stopped")
	return nil
}

// pruneKeys deletes expired idempotency keys every few minutes until ctx ends (each request
// also ignores its own key once expired, so this only bounds the table's size).
func pruneKeys(ctx context.Context, st *store.Store, ttl time.Duration, log *slog.Logger) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		n, err := st.PruneKeys(qctx, ttl)
		cancel()
		if err != nil {
			log.Warn("pruning idempotency keys failed", "err", err.Error())
		} else if n > 0 {
			log.Info("pruned idempotency keys", "deleted", n)
		}
	}
}
