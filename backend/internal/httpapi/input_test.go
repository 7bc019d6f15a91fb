package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

// Bad text in any field is a 400 naming the field, judged on the bytes sent (the JSON decoder
// would turn invalid UTF-8 into U+FFFD and \u0000 into a NUL PostgreSQL rejects), and nothing
// is written.
func TestControlCharactersAndInvalidUTF8(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	task := h.createTask(tok, "keep me", "as I am")
	taskPath := fmt.Sprintf("/api/tasks/%d", task.ID)
	pool := testdb.Pool(t)

	// Each is spliced raw into a JSON string literal.
	everywhere := map[string]string{
		"NUL escape": `\u0000`, "ESC escape": `\u001b`, "DEL escape": `\u007f`, "C1 escape": `\u0085`,
		"carriage return": `\r`, "backspace": `\b`, "raw C1": "\xc2\x85", "invalid byte": "\xff",
		"truncated sequence": "\xe2\x82", "lone high surrogate": `\ud800`, "lone low surrogate": `\udc00`,
		"encoded surrogate": "\xed\xa0\x80", "overlong NUL": "\xc0\x80",
	}
	singleLineOnly := map[string]string{"newline": `\n`, "tab": `\t`}
	type target struct {
		method, path, field, before, after string
		multiline                          bool
	}
	email := "new-" + testdb.Unique()
	targets := []target{
		{"POST", "/api/auth/signup", "email", `{"email":"` + email, `@example.com","password":"password1"}`, false},
		{"POST", "/api/auth/signup", "password", `{"email":"` + email + `@example.com","password":"pass`, `word1"}`, false},
		{"POST", "/api/auth/login", "email", `{"email":"x`, `@example.com","password":"password1"}`, false},
		{"POST", "/api/auth/login", "password", `{"email":"x@example.com","password":"pass`, `word1"}`, false},
		{"POST", "/api/tasks", "title", `{"title":"buy`, ` milk"}`, false},
		{"POST", "/api/tasks", "description", `{"title":"buy milk","description":"a`, `b"}`, true},
		{"PATCH", taskPath, "title", `{"title":"x`, `y"}`, false},
		{"PATCH", taskPath, "description", `{"completed":true,"description":"x`, `y"}`, true},
		{"POST", "/api/chat", "message", `{"message":"add buy`, ` milk"}`, true},
	}
	n := 0
	for _, tg := range targets {
		cases := map[string]string{}
		for k, v := range everywhere {
			cases[k] = v
		}
		if !tg.multiline {
			for k, v := range singleLineOnly {
				cases[k] = v
			}
		}
		for name, bad := range cases {
			n++
			r := h.req(tg.method, tg.path, tok, tg.before+bad+tg.after)
			if r.status != http.StatusBadRequest {
				t.Errorf("%s %s %s with %s: %d %s", tg.method, tg.path, tg.field, name, r.status, r.body)
				continue
			}
			if msg := r.errorMsg(t); !strings.HasPrefix(msg, tg.field+" must") {
				t.Errorf("%s %s with %s: error %q does not name the field", tg.path, tg.field, name, msg)
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d cases ran", n)
	}
	// Nothing was written.
	tasks := h.tasks(tok)
	if len(tasks) != 1 || tasks[0].Title != "keep me" || tasks[0].Description != "as I am" || tasks[0].Completed {
		t.Fatalf("tasks changed by rejected requests: %+v", tasks)
	}
	if r := h.req("GET", "/api/conversations", tok, nil); string(r.body) != "[]\n" {
		t.Fatalf("conversations written by rejected chats: %s", r.body)
	}
	var users int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM users WHERE email LIKE $1", email+"%").Scan(&users); err != nil || users != 0 {
		t.Fatalf("users created by rejected signups: %d %v", users, err)
	}

	// Newlines and tabs are fine where text is multi-line, and escaped non-BMP characters too.
	created := h.createTask(tok, "pair \U0001F35D", "line one\nline\ttwo")
	if r := h.req("POST", "/api/tasks", tok, `{"title":"pasta \ud83c\udf5d","description":"a\nb\tc"}`); r.status != 201 {
		t.Fatalf("escaped surrogate pair: %d %s", r.status, r.body)
	}
	if created.Description != "line one\nline\ttwo" {
		t.Fatalf("description %q", created.Description)
	}
	if r := h.req("POST", "/api/chat", tok, `{"message":"add call mom\n"}`); r.status != 200 {
		t.Fatalf("chat with a newline: %d %s", r.status, r.body)
	}
}
