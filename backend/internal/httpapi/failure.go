package httpapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// RetryAfterSeconds is what 503 answers put in Retry-After.
const RetryAfterSeconds = "1"

// fail answers err. A database that is down, restarting, overloaded or slower than the request's
// deadline — or a server shutting down — is a 503 with Retry-After: the client may retry (a
// write with the same Idempotency-Key). A client that went away gets 499 (it reads nothing).
// Everything else is a generic 500 with the details only in the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	rid := RequestID(r.Context())
	switch {
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil && !errors.Is(r.Context().Err(), context.DeadlineExceeded):
		s.log.Info("request cancelled by client", "request_id", rid)
		writeError(w, 499, "request cancelled")
	case Transient(err):
		s.log.Warn("database unavailable", "request_id", rid, "err", err.Error())
		w.Header().Set("Retry-After", RetryAfterSeconds)
		writeError(w, http.StatusServiceUnavailable, "the service is temporarily unavailable; retry shortly")
	default:
		s.log.Error("internal error", "request_id", rid, "err", err.Error())
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

// Transient reports whether err means "not now" rather than "never": a deadline, a lost or
// refused connection, a closed pool, or a PostgreSQL error of a class a retry can clear.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"),          // insufficient resources (too many connections, disk full)
			strings.HasPrefix(pgErr.Code, "57P"),         // admin/crash shutdown, cannot connect now
			pgErr.Code == "57014",                        // query_canceled: statement_timeout
			pgErr.Code == "55P03",                        // lock_not_available
			pgErr.Code == "40001", pgErr.Code == "40P01", // serialization failure, deadlock
			pgErr.Code == "25P03", pgErr.Code == "25006": // idle-in-transaction timeout, read-only transaction (failover)
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err) {
		return true
	}
	// pgx's own words for a connection that died under it, and pgxpool's for a closed pool
	// (the server is shutting down).
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "closed pool")
}
