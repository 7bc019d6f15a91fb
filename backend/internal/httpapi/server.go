// Package httpapi is the HTTP/JSON API: routing (net/http ServeMux patterns), middleware,
// handlers and metrics.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/auth"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/config"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// MaxBodyBytes bounds every request body (413 above).
const MaxBodyBytes = 1 << 20

// HistoryLimit is how many stored messages of a conversation feed the brain each turn.
const HistoryLimit = 60

// Server holds the dependencies of the handlers. It has no per-conversation state.
type Server struct {
	cfg     *config.Config
	log     *slog.Logger
	pool    *pgxpool.Pool
	store   *store.Store
	tokens  *auth.Tokens
	brain   agent.Brain
	metrics *Metrics
	limits  store.LoginLimits
	// versions caches users' token versions briefly, so revocation costs one query per user
	// per versionCacheTTL rather than one per request.
	versions *versionCache
}

// New builds a Server.
func New(cfg *config.Config, log *slog.Logger, pool *pgxpool.Pool, brain agent.Brain) *Server {
	return &Server{
		cfg:      cfg,
		log:      log,
		pool:     pool,
		store:    store.New(pool),
		tokens:   &auth.Tokens{Secret: cfg.JWTSecret, TTL: cfg.TokenTTL},
		brain:    brain,
		metrics:  NewMetrics(pool),
		limits:   store.LoginLimits{Window: cfg.LoginWindow, PerIP: cfg.LoginPerIP, PerAccount: cfg.LoginPerAccount},
		versions: &versionCache{},
	}
}

// Handler returns the routed, wrapped http.Handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))

	mux.HandleFunc("POST /api/auth/signup", s.signup)
	mux.HandleFunc("POST /api/auth/login", s.login)
	mux.HandleFunc("GET /api/me", s.requireAuth(s.me))
	mux.HandleFunc("POST /api/auth/logout", s.requireAuth(s.logout))

	mux.HandleFunc("GET /api/tasks", s.requireAuth(s.listTasks))
	mux.HandleFunc("POST /api/tasks", s.requireAuth(s.createTask))
	mux.HandleFunc("GET /api/tasks/{id}", s.requireAuth(s.taskByID(s.store.GetTask, http.StatusOK)))
	mux.HandleFunc("PATCH /api/tasks/{id}", s.requireAuth(s.patchTask))
	mux.HandleFunc("DELETE /api/tasks/{id}", s.requireAuth(s.taskByID(s.store.DeleteTask, http.StatusNoContent)))
	mux.HandleFunc("POST /api/tasks/{id}/restore", s.requireAuth(s.taskByID(s.store.RestoreTask, http.StatusOK)))

	mux.HandleFunc("POST /api/chat", s.requireAuth(s.chat))
	mux.HandleFunc("GET /api/conversations", s.requireAuth(s.listConversations))
	mux.HandleFunc("GET /api/conversations/{id}/messages", s.requireAuth(s.conversationMessages))

	return s.observe(s.cors(jsonMuxErrors(mux)))
}

// jsonMuxErrors turns the mux's own plain-text 404 and 405 answers into JSON errors (keeping
// the Allow header of a 405).
func jsonMuxErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		c := &captureStatus{header: http.Header{}}
		mux.ServeHTTP(c, r)
		if allow := c.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		if c.status == http.StatusMethodNotAllowed {
			writeError(w, c.status, "method not allowed")
			return
		}
		writeError(w, http.StatusNotFound, "not found")
	})
}

// captureStatus records a status and headers and discards the body.
type captureStatus struct {
	header http.Header
	status int
}

func (c *captureStatus) Header() http.Header { return c.header }
func (c *captureStatus) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captureStatus) Write(b []byte) (int, error) { return len(b), nil }

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// internalError logs err with the request id and answers a generic 500 (no SQL, no stack).
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		s.log.Info("request cancelled by client", "request_id", RequestID(r.Context()))
		writeError(w, 499, "request cancelled")
		return
	}
	s.log.Error("internal error", "request_id", RequestID(r.Context()), "err", err.Error())
	writeError(w, http.StatusInternalServerError, "internal error")
}

// DecodeJSON reads exactly one JSON object into v with a 1 MiB limit and no unknown fields.
// It returns the status and message to answer on failure.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) (int, string) {
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return http.StatusRequestEntityTooLarge, "request body too large (limit 1 MiB)"
		case errors.Is(err, io.EOF):
			return http.StatusBadRequest, "request body must be a JSON object"
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return http.StatusBadRequest, "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
		case errors.As(err, &ute):
			if ute.Field != "" {
				return http.StatusBadRequest, "field " + ute.Field + " has the wrong type"
			}
			return http.StatusBadRequest, "request body must be a JSON object"
		default:
			return http.StatusBadRequest, "malformed JSON"
		}
	}
	// Exactly one value: anything but whitespace after it is malformed.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return http.StatusRequestEntityTooLarge, "request body too large (limit 1 MiB)"
		}
		return http.StatusBadRequest, "malformed JSON: trailing data after the object"
	}
	return 0, ""
}

func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if status, msg := DecodeJSON(w, r, v); status != 0 {
		writeError(w, status, msg)
		return false
	}
	return true
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "request_id", RequestID(r.Context()), "err", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
