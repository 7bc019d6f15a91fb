// Package httpapi is the HTTP/JSON API: routing (net/http ServeMux patterns), middleware,
// handlers and metrics.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/auth"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/config"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

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

	admission *admission
	chatSlots chan struct{} // chat turns holding a pool connection at once
	ready     *readiness
	stopped   context.Context // cancelled by Abort
	abort     context.CancelFunc
	// versions caches users' token versions briefly, so revocation costs one query per user
	// per versionCacheTTL rather than one per request.
	versions *versionCache
}

// New builds a Server. Its request bounds come from cfg and the Go memory limit (LimitsFor).
func New(cfg *config.Config, log *slog.Logger, pool *pgxpool.Pool, brain agent.Brain) *Server {
	stopped, abort := context.WithCancel(context.Background())
	return &Server{
		admission: newAdmission(LimitsFor(debug.SetMemoryLimit(-1), cfg.MaxInFlight)),
		chatSlots: make(chan struct{}, max(1, cfg.DBMaxConns/2)),
		ready:     newReadiness(pool.Config().ConnConfig),
		stopped:   stopped,
		abort:     abort,
		cfg:       cfg,
		log:       log,
		pool:      pool,
		store:     store.New(pool),
		tokens:    &auth.Tokens{Secret: cfg.JWTSecret, TTL: cfg.TokenTTL},
		brain:     brain,
		metrics:   NewMetrics(pool),
		limits:    store.LoginLimits{Window: cfg.LoginWindow, PerIP: cfg.LoginPerIP, PerAccount: cfg.LoginPerAccount},
		versions:  &versionCache{},
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
	mux.HandleFunc("DELETE /api/tasks/{id}", s.requireAuth(s.taskByID(s.deleteTask, http.StatusNoContent)))
	mux.HandleFunc("POST /api/tasks/{id}/restore", s.requireAuth(s.taskByID(s.restoreTask, http.StatusOK)))

	mux.HandleFunc("POST /api/chat", s.requireAuth(s.chat))
	mux.HandleFunc("GET /api/conversations", s.requireAuth(s.listConversations))
	mux.HandleFunc("GET /api/conversations/{id}/messages", s.requireAuth(s.conversationMessages))

	mux.Handle(MCPPath, s.mcpHandler())

	return s.observe(s.cors(s.route(mux)))
}

// Limits returns the request bounds in force.
func (s *Server) Limits() Limits { return s.admission.limits }

// SetLimits replaces the request bounds (before serving).
func (s *Server) SetLimits(l Limits) { s.admission = newAdmission(l) }

// route admits matched requests (limits.go) and turns the mux's own plain-text 404 and 405
// answers into JSON errors (keeping the Allow header of a 405).
func (s *Server) route(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := mux.Handler(r); pattern != "" {
			r.Pattern = pattern
			if strings.IndexByte(pattern, '{') >= 0 {
				h = mux // only the mux's own ServeHTTP sets the path values; else match once
			}
			s.admit(w, r, h)
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

// Header values shared by every JSON answer (assigned, never appended to in place: a
// later Add copies the one-element slice).
var (
	hdrJSON    = []string{"application/json; charset=utf-8"}
	hdrNosniff = []string{"nosniff"}
	hdrNoStore = []string{"no-store"}
)

// jsonBuffers recycles answer buffers: a list of tasks is encoded into one, which then goes
// out as one Write with its Content-Length (no chunking, no per-answer encoder buffer).
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps one large answer from pinning its buffer in the pool.
const maxPooledBuffer = 64 << 10

func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	_ = json.NewEncoder(buf).Encode(v) // v is always encodable here
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["X-Content-Type-Options"] = hdrNosniff
	h["Cache-Control"] = hdrNoStore
	h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	if buf.Cap() <= maxPooledBuffer {
		jsonBuffers.Put(buf)
	}
}

// jsonBody is v as writeJSON sends it (v is always encodable here).
func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}
