package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/auth"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/httpapi"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

func claims(sub string, exp time.Time) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{Subject: sub, Issuer: auth.Issuer, IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(exp)}
}

func sign(t *testing.T, m jwt.SigningMethod, c jwt.Claims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuthFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	token, _ := h.signup()
	uid := fmt.Sprint(decodeAs[map[string]int64](t, h.req("GET", "/api/me", token, nil))["id"])
	future := time.Now().Add(time.Hour)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	noExp := jwt.RegisteredClaims{Subject: uid, Issuer: auth.Issuer}
	wrongIss := claims(uid, future)
	wrongIss.Issuer = "someone-else"
	parts := strings.Split(token, ".")
	tamperedPayload := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]

	cases := []struct {
		name   string
		header string // full Authorization header; "" = none
	}{
		{"no header", ""},
		{"basic scheme", "Basic dXNlcjpwYXNz"},
		{"bearer without token", "Bearer "},
		{"garbage token", "Bearer not.a.jwt"},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, claims(uid, future), jwt.UnsafeAllowNoneSignatureType)},
		{"alg HS512 with the right secret", "Bearer " + sign(t, jwt.SigningMethodHS512, claims(uid, future), []byte(testSecret))},
		{"alg HS384 with the right secret", "Bearer " + sign(t, jwt.SigningMethodHS384, claims(uid, future), []byte(testSecret))},
		{"alg ES256", "Bearer " + sign(t, jwt.SigningMethodES256, claims(uid, future), ecKey)},
		{"bad signature (other secret)", "Bearer " + sign(t, jwt.SigningMethodHS256, claims(uid, future), []byte("another-secret-0123456789abcdef-xyz"))},
		{"tampered payload", "Bearer " + tamperedPayload},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodHS256, claims(uid, time.Now().Add(-time.Minute)), []byte(testSecret))},
		{"no expiry", "Bearer " + sign(t, jwt.SigningMethodHS256, noExp, []byte(testSecret))},
		{"wrong issuer", "Bearer " + sign(t, jwt.SigningMethodHS256, wrongIss, []byte(testSecret))},
		{"non-numeric subject", "Bearer " + sign(t, jwt.SigningMethodHS256, claims("admin", future), []byte(testSecret))},
	}
	for _, c := range cases {
		for _, route := range []struct{ method, path string }{
			{"GET", "/api/tasks"}, {"POST", "/api/tasks"}, {"GET", "/api/tasks/1"}, {"PATCH", "/api/tasks/1"},
			{"DELETE", "/api/tasks/1"}, {"POST", "/api/chat"}, {"GET", "/api/conversations"}, {"GET", "/api/conversations/1/messages"},
		} {
			var hdr []string
			if c.header != "" {
				hdr = []string{"Authorization", c.header}
			}
			r := h.req(route.method, route.path, "", `{"title":"x","message":"add x"}`, hdr...)
			if r.status != http.StatusUnauthorized {
				t.Errorf("%s %s with %s: status %d, want 401 (%s)", route.method, route.path, c.name, r.status, r.body)
				continue
			}
			r.errorMsg(t)
		}
	}
	// The genuine token still works.
	if r := h.req("GET", "/api/tasks", token, nil); r.status != http.StatusOK {
		t.Fatalf("valid token: %d %s", r.status, r.body)
	}
}

func TestSignupAndLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	_, email := h.signup()

	for _, c := range []struct {
		name string
		body string
		want int
	}{
		{"bad email", `{"email":"not-an-email","password":"longenough"}`, 400},
		{"email with display name", `{"email":"Bob <bob@example.com>","password":"longenough"}`, 400},
		{"short password", `{"email":"short@example.com","password":"1234567"}`, 400},
		{"password over 72 bytes", `{"email":"long@example.com","password":"` + strings.Repeat("a", 73) + `"}`, 400},
		{"duplicate email", `{"email":"` + email + `","password":"longenough"}`, 409},
		{"duplicate email other case", `{"email":"` + strings.ToUpper(email) + `","password":"longenough"}`, 409},
		{"unknown field", `{"email":"x@example.com","password":"longenough","admin":true}`, 400},
	} {
		r := h.req("POST", "/api/auth/signup", "", c.body)
		if r.status != c.want {
			t.Errorf("signup %s: %d, want %d (%s)", c.name, r.status, c.want, r.body)
		}
		r.errorMsg(t)
	}

	ok := h.req("POST", "/api/auth/login", "", map[string]string{"email": strings.ToUpper(email), "password": "correct horse"})
	if ok.status != 200 {
		t.Fatalf("login: %d %s", ok.status, ok.body)
	}
	ar := decodeAs[authResp](t, ok)
	if ar.Token == "" || ar.User.Email != email || ar.User.ID == 0 {
		t.Fatalf("login response %s", ok.body)
	}
	if strings.Contains(string(ok.body), "password") || strings.Contains(string(ok.body), "$2a$") {
		t.Fatalf("login response leaks the hash: %s", ok.body)
	}
	wrongPw := h.req("POST", "/api/auth/login", "", map[string]string{"email": email, "password": "wrong password"})
	unknown := h.req("POST", "/api/auth/login", "", map[string]string{"email": "nobody-" + email, "password": "correct horse"})
	if wrongPw.status != 401 || unknown.status != 401 {
		t.Fatalf("bad logins: %d, %d", wrongPw.status, unknown.status)
	}
	if wrongPw.errorMsg(t) != unknown.errorMsg(t) {
		t.Fatalf("wrong password and unknown email must answer alike: %q vs %q", wrongPw.body, unknown.body)
	}
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"LOGIN_RATE_PER_ACCOUNT": "3", "LOGIN_RATE_PER_IP": "6"}, nil)
	_, email := h.signup()

	// Per account: 3 failures from different addresses, then even the right password is refused.
	for i := 0; i < 3; i++ {
		h.ip = fmt.Sprintf("192.0.2.%d", 10+i)
		if r := h.req("POST", "/api/auth/login", "", map[string]string{"email": email, "password": "wrong password"}); r.status != 401 {
			t.Fatalf("failure %d: %d", i, r.status)
		}
	}
	h.ip = "192.0.2.99"
	r := h.req("POST", "/api/auth/login", "", map[string]string{"email": email, "password": "correct horse"})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("per-account limit: %d %s", r.status, r.body)
	}
	r.errorMsg(t)

	// Per address: 6 attempts on different accounts from one address, then 429.
	h.ip = "198.51.100.7"
	for i := 0; i < 6; i++ {
		if r := h.req("POST", "/api/auth/login", "", map[string]string{"email": fmt.Sprintf("nobody%d-%s", i, email), "password": "whatever1"}); r.status != 401 {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	if r := h.req("POST", "/api/auth/login", "", map[string]string{"email": "fresh-" + email, "password": "whatever1"}); r.status != http.StatusTooManyRequests {
		t.Fatalf("per-address limit: %d %s", r.status, r.body)
	}
	// The limit lives in PostgreSQL: a second server (another replica) enforces it too.
	h2 := newHarness(t, map[string]string{"LOGIN_RATE_PER_ACCOUNT": "3", "LOGIN_RATE_PER_IP": "6"}, nil)
	h2.ip = "198.51.100.7"
	if r := h2.req("POST", "/api/auth/login", "", map[string]string{"email": "other-" + email, "password": "whatever1"}); r.status != http.StatusTooManyRequests {
		t.Fatalf("per-address limit on another replica: %d %s", r.status, r.body)
	}
}

func TestCrossUserIsolation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	alice, _ := h.signup()
	bob, _ := h.signup()
	task := h.createTask(alice, "alice's secret", "do not share")
	conv := h.chat(alice, "add another secret", 0)
	path := fmt.Sprintf("/api/tasks/%d", task.ID)

	for _, c := range []struct{ method, path, body string }{
		{"GET", path, ""},
		{"PATCH", path, `{"title":"pwned","completed":true}`},
		{"DELETE", path, ""},
		{"GET", fmt.Sprintf("/api/conversations/%d/messages", conv.ConversationID), ""},
		{"POST", "/api/chat", fmt.Sprintf(`{"message":"show my tasks","conversation_id":%d}`, conv.ConversationID)},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		r := h.req(c.method, c.path, bob, body)
		if r.status != http.StatusNotFound {
			t.Errorf("bob %s %s: %d, want 404", c.method, c.path, r.status)
		}
		if strings.Contains(string(r.body), "secret") {
			t.Errorf("bob %s %s leaks data: %s", c.method, c.path, r.body)
		}
	}
	if got := h.tasks(bob); len(got) != 0 {
		t.Fatalf("bob sees %v", got)
	}
	// Bob's agent cannot reach Alice's task by id either.
	reply := h.chat(bob, fmt.Sprintf("delete task %d", task.ID), 0)
	if strings.Contains(reply.Reply, "secret") {
		t.Fatalf("agent leaked: %q", reply.Reply)
	}
	convs := decodeAs[[]store.Conversation](t, h.req("GET", "/api/conversations", bob, nil))
	if len(convs) != 1 {
		t.Fatalf("bob's conversations: %v", convs)
	}
	got := h.req("GET", path, alice, nil)
	if got.status != 200 {
		t.Fatalf("alice lost her task: %d", got.status)
	}
	if tk := decodeAs[store.Task](t, got); tk.Title != "alice's secret" || tk.Completed {
		t.Fatalf("alice's task changed: %+v", tk)
	}
}

func TestTaskCRUD(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	a := h.createTask(tok, "  buy milk  ", "2 litres")
	if a.Title != "buy milk" || a.Description != "2 litres" || a.Completed || a.CreatedAt.IsZero() {
		t.Fatalf("created %+v", a)
	}
	b := h.createTask(tok, "walk the dog", "")
	r := h.req("PATCH", fmt.Sprintf("/api/tasks/%d", b.ID), tok, `{"completed":true}`)
	if r.status != 200 || !decodeAs[store.Task](t, r).Completed {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	for status, want := range map[string][]int64{"all": {a.ID, b.ID}, "pending": {a.ID}, "completed": {b.ID}, "": {a.ID, b.ID}} {
		got := decodeAs[[]store.Task](t, h.req("GET", "/api/tasks?status="+status, tok, nil))
		if len(got) != len(want) {
			t.Fatalf("status=%s: %v", status, got)
		}
		for i := range want {
			if got[i].ID != want[i] {
				t.Fatalf("status=%s: %v", status, got)
			}
		}
	}
	r = h.req("PATCH", fmt.Sprintf("/api/tasks/%d", a.ID), tok, `{"title":"buy oat milk","description":""}`)
	if tk := decodeAs[store.Task](t, r); tk.Title != "buy oat milk" || tk.Description != "" || !tk.UpdatedAt.After(tk.CreatedAt) {
		t.Fatalf("patch title: %+v", tk)
	}
	if r := h.req("DELETE", fmt.Sprintf("/api/tasks/%d", a.ID), tok, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.status)
	}
	if r := h.req("GET", fmt.Sprintf("/api/tasks/%d", a.ID), tok, nil); r.status != http.StatusNotFound {
		t.Fatalf("get deleted: %d", r.status)
	}
	if r := h.req("DELETE", fmt.Sprintf("/api/tasks/%d", a.ID), tok, nil); r.status != http.StatusNotFound {
		t.Fatalf("delete twice: %d", r.status)
	}
}

func TestBadInputs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	task := h.createTask(tok, "x", "")
	taskPath := fmt.Sprintf("/api/tasks/%d", task.ID)
	big := `{"title":"` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		name, method, path, body string
		want                     int
	}{
		{"oversized create", "POST", "/api/tasks", big, 413},
		{"oversized chat", "POST", "/api/chat", `{"message":"` + strings.Repeat("b", 1<<20) + `"}`, 413},
		{"oversized signup", "POST", "/api/auth/signup", big, 413},
		{"oversized patch", "PATCH", taskPath, big, 413},
		{"malformed", "POST", "/api/tasks", `{"title":`, 400},
		{"not an object", "POST", "/api/tasks", `["title"]`, 400},
		{"empty body", "POST", "/api/tasks", ``, 400},
		{"trailing data", "POST", "/api/tasks", `{"title":"a"} {"title":"b"}`, 400},
		{"unknown field", "POST", "/api/tasks", `{"title":"a","owner":1}`, 400},
		{"unknown field in patch", "PATCH", taskPath, `{"done":true}`, 400},
		{"unknown field in chat", "POST", "/api/chat", `{"message":"hi","user_id":2}`, 400},
		{"wrong type", "POST", "/api/tasks", `{"title":42}`, 400},
		{"wrong type in patch", "PATCH", taskPath, `{"completed":"yes"}`, 400},
		{"empty title", "POST", "/api/tasks", `{"title":"   "}`, 400},
		{"title too long", "POST", "/api/tasks", `{"title":"` + strings.Repeat("t", 501) + `"}`, 400},
		{"empty patch", "PATCH", taskPath, `{}`, 400},
		{"empty chat message", "POST", "/api/chat", `{"message":""}`, 400},
		{"chat message too long", "POST", "/api/chat", `{"message":"` + strings.Repeat("m", 4001) + `"}`, 400},
		{"bad status", "GET", "/api/tasks?status=everything", "", 400},
		{"non-numeric id", "GET", "/api/tasks/abc", "", 404},
		{"negative id", "GET", "/api/tasks/-1", "", 404},
		{"huge id", "GET", "/api/tasks/99999999999999999999999", "", 404},
		{"sql in id", "GET", "/api/tasks/1%20OR%201=1", "", 404},
		{"unknown conversation", "POST", "/api/chat", `{"message":"hi","conversation_id":987654321}`, 404},
		{"unknown route", "GET", "/api/nope", "", 404},
		{"wrong method", "PUT", "/api/tasks", `{}`, 405},
		{"wrong method on an item", "POST", taskPath, `{}`, 405},
	}
	for _, c := range cases {
		var body any
		if c.body != "" || c.method != "GET" {
			body = c.body
		}
		r := h.req(c.method, c.path, tok, body)
		if r.status != c.want {
			t.Errorf("%s: %d, want %d (%.200s)", c.name, r.status, c.want, r.body)
			continue
		}
		msg := r.errorMsg(t)
		for _, leak := range []string{"SQLSTATE", "pgx", "goroutine", "panic", "syntax error at"} {
			if strings.Contains(msg, leak) {
				t.Errorf("%s: error leaks internals: %q", c.name, msg)
			}
		}
	}

	// SQL-looking, HTML and odd Unicode strings are stored and returned verbatim.
	for _, s := range []string{
		`Robert'); DROP TABLE tasks;--`,
		`' OR '1'='1`,
		`<script>alert("x")</script>`,
		`<img src=x onerror=alert(1)> & "quotes" \ backslash`,
		"emoji 🍝 and RTL \u202e and zero\u200bwidth",
		`$1 $$ %s %d {{.}} ${x}`,
	} {
		created := h.createTask(tok, s, s)
		got := decodeAs[store.Task](t, h.req("GET", fmt.Sprintf("/api/tasks/%d", created.ID), tok, nil))
		if got.Title != s || got.Description != s {
			t.Errorf("round trip of %q: got %q / %q", s, got.Title, got.Description)
		}
	}
	if n := len(h.tasks(tok)); n != 7 {
		t.Fatalf("tasks after injection attempts: %d", n)
	}
}

func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	const workers, each = 32, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				body := fmt.Sprintf(`{"title":"task %d-%d"}`, w, i)
				rq, _ := http.NewRequest("POST", h.srv.URL+"/api/tasks", strings.NewReader(body))
				rq.Header.Set("Authorization", "Bearer "+tok)
				rs, err := h.srv.Client().Do(rq)
				if err != nil {
					errs <- err
					continue
				}
				rs.Body.Close()
				if rs.StatusCode != 201 {
					errs <- fmt.Errorf("status %d", rs.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := h.tasks(tok)
	if len(got) != workers*each {
		t.Fatalf("%d tasks, want %d", len(got), workers*each)
	}
	ids, titles := map[int64]bool{}, map[string]bool{}
	for _, tk := range got {
		if ids[tk.ID] || titles[tk.Title] {
			t.Fatalf("duplicate %+v", tk)
		}
		ids[tk.ID], titles[tk.Title] = true, true
	}
	for w := 0; w < workers; w++ {
		for i := 0; i < each; i++ {
			if !titles[fmt.Sprintf("task %d-%d", w, i)] {
				t.Fatalf("lost task %d-%d", w, i)
			}
		}
	}
}

func TestConversationsPersisted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	first := h.chat(tok, "add buy milk", 0)
	if first.ConversationID == 0 || !strings.Contains(first.Reply, "buy milk") || len(first.ToolCalls) != 1 || first.ToolCalls[0].Name != agent.ToolAdd {
		t.Fatalf("first turn: %+v", first)
	}
	second := h.chat(tok, "mark it as done", first.ConversationID)
	if second.ConversationID != first.ConversationID {
		t.Fatalf("conversation changed: %d", second.ConversationID)
	}
	if tk := h.tasks(tok); len(tk) != 1 || !tk[0].Completed {
		t.Fatalf("tasks: %+v (reply %q)", tk, second.Reply)
	}
	msgs := decodeAs[[]store.Message](t, h.req("GET", fmt.Sprintf("/api/conversations/%d/messages", first.ConversationID), tok, nil))
	var users, finals []string
	for _, m := range msgs {
		switch {
		case m.Role == "user":
			users = append(users, m.Content)
		case m.Role == "assistant" && m.Content != "":
			finals = append(finals, m.Content)
		}
	}
	if strings.Join(users, "|") != "add buy milk|mark it as done" || len(finals) != 2 || finals[1] != second.Reply {
		t.Fatalf("history: %+v", msgs)
	}
	convs := decodeAs[[]store.Conversation](t, h.req("GET", "/api/conversations", tok, nil))
	if len(convs) != 1 || convs[0].ID != first.ConversationID || convs[0].Title != "add buy milk" {
		t.Fatalf("conversations: %+v", convs)
	}
}

// TestStateless runs two servers (replicas) over one database: a conversation begun on one
// continues on the other, which can only work if every turn reloads history from PostgreSQL.
func TestStateless(t *testing.T) {
	t.Parallel()
	a := newHarness(t, nil, nil)
	b := newHarness(t, nil, nil)
	tok, email := a.signup()
	turn1 := a.chat(tok, "remind me to water the plants", 0)
	turn2 := b.chat(tok, "actually that one is done", turn1.ConversationID)
	if tk := b.tasks(tok); len(tk) != 1 || !tk[0].Completed {
		t.Fatalf("replica b did not see the conversation: %+v, reply %q", tk, turn2.Reply)
	}
	turn3 := a.chat(tok, "reopen it", turn1.ConversationID)
	if tk := a.tasks(tok); len(tk) != 1 || tk[0].Completed {
		t.Fatalf("replica a did not see b's turn: %+v, reply %q", tk, turn3.Reply)
	}
	// A token issued by one replica is accepted by the other; login works on either.
	if r := b.req("POST", "/api/auth/login", "", map[string]string{"email": email, "password": "correct horse"}); r.status != 200 {
		t.Fatalf("login on b: %d", r.status)
	}
	msgs := decodeAs[[]store.Message](t, b.req("GET", fmt.Sprintf("/api/conversations/%d/messages", turn1.ConversationID), tok, nil))
	n := 0
	for _, m := range msgs {
		if m.Role == "user" {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("want 3 user messages across replicas, got %d", n)
	}
}

func TestProbesMetricsAndCORS(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	if r := h.req("GET", "/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	if r := h.req("GET", "/readyz", "", nil); r.status != 200 {
		t.Fatalf("readyz %d", r.status)
	}
	tok, _ := h.signup()
	h.tasks(tok)
	h.req("GET", "/api/tasks/123456789", tok, nil)
	m := string(h.req("GET", "/metrics", "", nil).body)
	for _, want := range []string{
		`http_requests_total{method="GET",route="GET /api/tasks",status="200"}`,
		`http_requests_total{method="GET",route="GET /api/tasks/{id}",status="404"}`,
		`http_request_duration_seconds_bucket{method="GET",route="GET /api/tasks",le="0.005"}`,
		"pgxpool_total_conns", "pgxpool_acquire_count_total", "go_goroutines",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Request ids: echoed when sane, generated otherwise.
	if r := h.req("GET", "/healthz", "", nil, "X-Request-ID", "abc-123"); r.header.Get("X-Request-ID") != "abc-123" {
		t.Errorf("request id not echoed")
	}
	if r := h.req("GET", "/healthz", "", nil, "X-Request-ID", "bad id\" with spaces"); len(r.header.Get("X-Request-ID")) != 24 {
		t.Errorf("bad request id not replaced: %q", r.header.Get("X-Request-ID"))
	}
	// CORS: allowed origin, preflight, disallowed origin.
	r := h.req("OPTIONS", "/api/tasks", "", nil, "Origin", "https://app.example", "Access-Control-Request-Method", "POST")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
	if r := h.req("GET", "/api/tasks", tok, nil, "Origin", "https://app.example"); r.header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("allowed origin not echoed")
	}
	if r := h.req("GET", "/api/tasks", tok, nil, "Origin", "https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("disallowed origin allowed")
	}
}

func TestReadyzWhenDatabaseDown(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, nil)
	// A pool on a port where nothing listens: the database is down.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	h := &harness{t: t}
	api := httpapi.New(cfg, quietLogger(), pool, agent.Offline{})
	h.srv = newServer(t, api)
	r := h.req("GET", "/readyz", "", nil)
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database down: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "127.0.0.1") || strings.Contains(string(r.body), "nobody") {
		t.Fatalf("readyz leaks connection details: %s", r.body)
	}
	if r := h.req("GET", "/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz must not depend on the database: %d", r.status)
	}
	// API calls answer 503 with Retry-After (retry later), no driver details.
	tok, _ := (&auth.Tokens{Secret: cfg.JWTSecret, TTL: time.Hour}).Issue(1, 0)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/tasks", ""}, {"POST", "/api/tasks", `{"title":"x"}`}, {"POST", "/api/chat", `{"message":"add x"}`},
		{"POST", "/api/auth/login", `{"email":"a@b.example","password":"password1"}`},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		r = h.req(c.method, c.path, tok, body)
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || strings.Contains(string(r.body), "127.0.0.1") {
			t.Fatalf("%s %s with the database down: %d %v %s", c.method, c.path, r.status, r.header, r.body)
		}
	}
	// A draining replica (shutting down) reports not ready although the database is up.
	pool2 := testdb.Pool(t)
	api2 := httpapi.New(cfg, quietLogger(), pool2, agent.Offline{})
	t.Cleanup(api2.Close)
	h.srv = newServer(t, api2)
	if r := h.req("GET", "/readyz", "", nil); r.status != 200 {
		t.Fatalf("readyz with the database up: %d", r.status)
	}
	api2.Drain()
	if r := h.req("GET", "/readyz", "", nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz while draining: %d", r.status)
	}
	if r := h.req("GET", "/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz while draining: %d", r.status)
	}
}

func TestDecodeErrorsAreJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	r := h.req("POST", "/api/auth/login", "", `{"email": "a@b.c", "password": }`)
	if r.status != 400 || !json.Valid(r.body) || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %q %v", r.status, r.body, r.header)
	}
}

// A list of any size goes out with its Content-Length (one write), not chunked.
func TestListAnswerHasContentLength(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	for i := range 12 {
		h.createTask(tok, fmt.Sprintf("task %d with a title long enough to grow the list", i), strings.Repeat("d", 300))
	}
	rq, _ := http.NewRequest("GET", h.srv.URL+"/api/tasks", nil)
	rq.Header.Set("Authorization", "Bearer "+tok)
	rs, err := h.srv.Client().Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Body.Close()
	body, err := io.ReadAll(rs.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) < 4096 {
		t.Fatalf("want a list larger than the server's write buffers, got %d bytes", len(body))
	}
	if rs.ContentLength != int64(len(body)) || len(rs.TransferEncoding) != 0 {
		t.Errorf("Content-Length %d, Transfer-Encoding %v for a %d-byte list", rs.ContentLength, rs.TransferEncoding, len(body))
	}
	var tasks []store.Task
	if err := json.Unmarshal(body, &tasks); err != nil || len(tasks) != 12 {
		t.Errorf("list: %d tasks, %v", len(tasks), err)
	}
}

// Every request is counted, the first of its route and status and the later ones alike.
func TestMetricsCountEveryRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	for range 5 {
		h.tasks(tok)
	}
	h.req("GET", "/api/tasks?status=nope", tok, nil)
	m := string(h.req("GET", "/metrics", "", nil).body)
	for _, want := range []string{
		`http_requests_total{method="GET",route="GET /api/tasks",status="200"} 5`,
		`http_requests_total{method="GET",route="GET /api/tasks",status="400"} 1`,
		`http_request_duration_seconds_count{method="GET",route="GET /api/tasks"} 6`,
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
}
