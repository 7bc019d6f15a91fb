package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/auth"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

type ctxKey struct{}

// reqState is the per-request state the middleware shares through the context: one context
// value and one request copy per request.
type reqState struct {
	id     string // request id
	userID int64  // set by requireAuth
}

func state(ctx context.Context) *reqState {
	st, _ := ctx.Value(ctxKey{}).(*reqState)
	if st == nil {
		return &reqState{}
	}
	return st
}

// RequestID returns the request id stored in ctx.
func RequestID(ctx context.Context) string { return state(ctx).id }

func userID(ctx context.Context) int64 { return state(ctx).userID }

var reRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter records the status code and size written.
type statusWriter struct {
	http.ResponseWriter
	status int
	size   int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe is the outermost middleware: request id, panic recovery, access log, metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := r.Header.Get("X-Request-ID")
		if !reRequestID.MatchString(rid) {
			rid = newRequestID()
		}
		w.Header().Set("X-Request-ID", rid)
		sw := &statusWriter{ResponseWriter: w}
		st := &reqState{id: rid}
		ctx := context.WithValue(r.Context(), ctxKey{}, st)
		if strings.HasPrefix(r.URL.Path, "/api/") {
			// The API's deadline reaches PostgreSQL (pgx cancels the query; the pool's
			// statement_timeout backs it up). Set here so each request is copied once.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.cfg.RequestTimeout)
			defer cancel()
		}
		r = r.WithContext(ctx)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic", "request_id", rid, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, http.StatusInternalServerError, "internal error")
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			route := r.Pattern // set by ServeMux on this request
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			s.metrics.observe(r.Method, route, status, elapsed.Seconds())
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			if route == "GET /healthz" || route == "GET /readyz" || route == "GET /metrics" {
				level = slog.LevelDebug
			}
			if s.log.Enabled(r.Context(), level) {
				attrs := []slog.Attr{
					slog.String("request_id", rid), slog.String("method", r.Method),
					slog.String("path", r.URL.Path), slog.String("route", route),
					slog.Int("status", status), slog.Int("bytes", sw.size),
					slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				}
				if st.userID != 0 {
					attrs = append(attrs, slog.Int64("user_id", st.userID))
				}
				s.log.LogAttrs(r.Context(), level, "request", attrs...)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// cors answers preflights and sets CORS headers for allowed origins only.
func (s *Server) cors(next http.Handler) http.Handler {
	allowed := map[string]bool{}
	any := false
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" {
			any = true
		}
		allowed[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && (any || allowed[origin]) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After, "+ReplayedHeader)
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
				// Mcp-*: browser-based MCP clients (e.g. an inspector) on an allowed origin.
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID, "+IdempotencyHeader+", Mcp-Protocol-Version, Mcp-Session-Id")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		} else if origin != "" {
			w.Header().Add("Vary", "Origin")
		}
		next.ServeHTTP(w, r)
	})
}

// requireAuth verifies the bearer token and puts the user id in the context.
func (s *Server) requireAuth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer`)
			writeError(w, http.StatusUnauthorized, "missing or malformed Authorization header")
			return
		}
		id, ver, err := s.tokens.Verify(strings.TrimSpace(token))
		if err == nil {
			var current int64
			current, err = s.versions.get(r.Context(), id, s.store.TokenVersion)
			if errors.Is(err, store.ErrNotFound) || (err == nil && ver != current) {
				err = auth.ErrInvalidToken // logged out, or the account is gone
			} else if err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid or expired token")
			return
		}
		st, ok := r.Context().Value(ctxKey{}).(*reqState)
		if !ok { // handler used without observe (tests)
			st = &reqState{}
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
		}
		st.userID = id
		next(w, r)
	}
}

// clientIP is the peer address or, when TRUST_PROXY is set (a reverse proxy in front), the last
// X-Forwarded-For hop — the one that proxy appended, which a client cannot forge.
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			hops := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
				return ip.String()
			}
		}
		if ip := net.ParseIP(strings.TrimSpace(r.Header.Get("X-Real-IP"))); ip != nil {
			return ip.String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
