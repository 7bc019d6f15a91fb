package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/config"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/httpapi"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const testSecret = "test-secret-0123456789abcdef-0123456789"

func testConfig(t testing.TB, env map[string]string) *config.Config {
	t.Helper()
	return testdb.Config(t, map[string]string{
		"JWT_SECRET":             testSecret,
		"TRUST_PROXY":            "true",
		"LOGIN_RATE_PER_ACCOUNT": "5",
		"LOGIN_RATE_PER_IP":      "20",
		"CORS_ALLOWED_ORIGINS":   "https://app.example",
	}, env)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

type harness struct {
	t   testing.TB
	api *httpapi.Server
	srv *httptest.Server
	ip  string // this client's address as the (trusted) proxy reports it
}

// newHarness starts an API server over the shared test database. Every harness has its own
// client address so login rate limits of parallel tests do not interact.
func newHarness(t testing.TB, env map[string]string, brain agent.Brain) *harness {
	t.Helper()
	return newHarnessWith(t, env, brain, nil)
}

// newHarnessWith is newHarness with a hook to adjust the API before it serves.
func newHarnessWith(t testing.TB, env map[string]string, brain agent.Brain, setup func(*httpapi.Server)) *harness {
	t.Helper()
	cfg := testConfig(t, env)
	pool := testdb.Pool(t)
	if brain == nil {
		brain = agent.Offline{}
	}
	api := httpapi.New(cfg, quietLogger(), pool, brain)
	t.Cleanup(api.Close)
	if setup != nil {
		setup(api)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return &harness{t: t, api: api, srv: srv, ip: fmt.Sprintf("10.%d.%d.%d", rand.IntN(250), rand.IntN(250), 1+rand.IntN(250))}
}

type resp struct {
	status int
	body   []byte
	header http.Header
}

func (r resp) errorMsg(t testing.TB) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" {
		t.Fatalf("want a JSON error body, got %d %q", r.status, r.body)
	}
	return e.Error
}

func (h *harness) req(method, path, token string, body any, hdr ...string) resp {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	rq, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		rq.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		rq.Header.Set("Authorization", "Bearer "+token)
	}
	rq.Header.Set("X-Forwarded-For", h.ip)
	for i := 0; i+1 < len(hdr); i += 2 {
		rq.Header.Set(hdr[i], hdr[i+1])
	}
	rs, err := h.srv.Client().Do(rq)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rs.Body.Close()
	b, err := io.ReadAll(rs.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp{status: rs.StatusCode, body: b, header: rs.Header}
}

func decodeAs[T any](t testing.TB, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T from %d %q: %v", v, r.status, r.body, err)
	}
	return v
}

type authResp struct {
	Token string `json:"token"`
	User  struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
}

// signup creates a fresh user and returns its token.
func (h *harness) signup() (token, email string) {
	h.t.Helper()
	email = "user-" + testdb.Unique() + "@example.com"
	r := h.req("POST", "/api/auth/signup", "", map[string]string{"email": email, "password": "correct horse"})
	if r.status != http.StatusCreated {
		h.t.Fatalf("signup: %d %s", r.status, r.body)
	}
	return decodeAs[authResp](h.t, r).Token, email
}

func (h *harness) createTask(token, title, desc string) store.Task {
	h.t.Helper()
	r := h.req("POST", "/api/tasks", token, map[string]string{"title": title, "description": desc})
	if r.status != http.StatusCreated {
		h.t.Fatalf("create task: %d %s", r.status, r.body)
	}
	return decodeAs[store.Task](h.t, r)
}

func (h *harness) tasks(token string) []store.Task {
	h.t.Helper()
	r := h.req("GET", "/api/tasks?status=all", token, nil)
	if r.status != http.StatusOK {
		h.t.Fatalf("list tasks: %d %s", r.status, r.body)
	}
	return decodeAs[[]store.Task](h.t, r)
}

type chatResp struct {
	ConversationID int64              `json:"conversation_id"`
	MessageID      int64              `json:"message_id"`
	Reply          string             `json:"reply"`
	ToolCalls      []agent.CallRecord `json:"tool_calls"`
}

func (h *harness) chat(token, msg string, conv int64) chatResp {
	h.t.Helper()
	body := map[string]any{"message": msg}
	if conv != 0 {
		body["conversation_id"] = conv
	}
	r := h.req("POST", "/api/chat", token, body)
	if r.status != http.StatusOK {
		h.t.Fatalf("chat %q: %d %s", msg, r.status, r.body)
	}
	return decodeAs[chatResp](h.t, r)
}

func newServer(t testing.TB, api *httpapi.Server) *httptest.Server {
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func itoa(n int64) string { return fmt.Sprint(n) }

func countRole(msgs []store.Message, role string) int {
	n := 0
	for _, m := range msgs {
		if m.Role == role {
			n++
		}
	}
	return n
}
