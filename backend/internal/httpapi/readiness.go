package httpapi

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReadyTimeout bounds one readiness check (below the chart probe's timeoutSeconds).
const ReadyTimeout = 2 * time.Second

// readiness answers "can this replica serve?" on a connection of its own: through the pool,
// a probe would wait behind busy requests and take every replica out of the Service at once
// exactly when they are loaded, although PostgreSQL answers.
type readiness struct {
	cfg      *pgx.ConnConfig
	lock     chan struct{} // one check at a time; holds conn
	conn     *pgx.Conn
	draining atomic.Bool
}

func newReadiness(cfg *pgx.ConnConfig) *readiness {
	return &readiness{cfg: cfg, lock: make(chan struct{}, 1)}
}

// check pings PostgreSQL on the readiness connection, (re)connecting when needed.
func (rd *readiness) check(ctx context.Context) error {
	select {
	case rd.lock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-rd.lock }()
	if rd.conn == nil || rd.conn.IsClosed() {
		conn, err := pgx.ConnectConfig(ctx, rd.cfg.Copy())
		if err != nil {
			return err
		}
		rd.conn = conn
	}
	if err := rd.conn.Ping(ctx); err != nil {
		_ = rd.conn.Close(context.Background())
		rd.conn = nil
		return err
	}
	return nil
}

func (rd *readiness) close() {
	rd.lock <- struct{}{}
	defer func() { <-rd.lock }()
	if rd.conn != nil {
		_ = rd.conn.Close(context.Background())
		rd.conn = nil
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	// Liveness never looks at the database: restarting a healthy process cannot fix it.
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.ready.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
	defer cancel()
	if err := s.ready.check(ctx); err != nil {
		s.log.Warn("readiness check failed", "request_id", RequestID(r.Context()), "err", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Drain makes /readyz fail from now on while requests are still served, so the replica leaves
// the Service's endpoints before its listener closes.
func (s *Server) Drain() { s.ready.draining.Store(true) }

// Abort cancels the chat turns still running (they are otherwise detached from their clients):
// called when shutdown has to cut requests; their transactions roll back.
func (s *Server) Abort() { s.abort() }

// Close releases the readiness connection.
func (s *Server) Close() { s.ready.close() }
