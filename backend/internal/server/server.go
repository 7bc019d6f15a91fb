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

// Run serves on ln (or on :PORT when ln is nil) until ctx is done, then stops accepting,
// waits for in-flight requests up to SHUTDOWN_TIMEOUT and closes the pool.
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
	log.Info("listening", "addr", ln.Addr().String(), "llm_provider", cfg.LLMProvider)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("graceful shutdown incomplete", "err", err.Error())
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
