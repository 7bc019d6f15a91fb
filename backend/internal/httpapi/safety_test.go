package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// Each user numbers tasks 1, 2, 3… and the chat understands those numbers, whoever else uses
// the service.
func TestPerUserTaskNumbers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	a, _ := h.signup()
	b, _ := h.signup()
	a1 := h.createTask(a, "a first", "")
	b1 := h.createTask(b, "b first", "")
	b2 := h.createTask(b, "b second", "")
	if a1.Number != 1 || b1.Number != 1 || b2.Number != 2 {
		t.Fatalf("numbers: a1=%d b1=%d b2=%d, want 1 1 2", a1.Number, b1.Number, b2.Number)
	}
	if got := decodeAs[store.Task](t, h.req("GET", fmt.Sprintf("/api/tasks/%d", b2.ID), b, nil)); got.Number != 2 {
		t.Fatalf("GET task: number %d", got.Number)
	}
	res := h.chat(b, "Mark 1 as done", 0)
	if !strings.Contains(res.Reply, "task 1") || !strings.Contains(res.Reply, "b first") {
		t.Fatalf("reply %q", res.Reply)
	}
	if ts := h.tasks(b); !ts[0].Completed || ts[1].Completed {
		t.Fatalf("b's tasks after 'Mark 1 as done': %+v", ts)
	}
	if ts := h.tasks(a); ts[0].Completed {
		t.Fatalf("a's task 1 changed by b's chat: %+v", ts)
	}
	// Numbers are not reused after a delete: a new task never takes over an old number.
	if r := h.req("DELETE", fmt.Sprintf("/api/tasks/%d", b2.ID), b, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.status)
	}
	if b3 := h.createTask(b, "b third", ""); b3.Number != 3 {
		t.Fatalf("number after delete: %d, want 3", b3.Number)
	}
	// Tool results name tasks by number only; the internal id stays in URLs.
	add := h.chat(a, "add water the plants", 0)
	if len(add.ToolCalls) != 1 || strings.Contains(string(add.ToolCalls[0].Result), `"id"`) ||
		!strings.Contains(string(add.ToolCalls[0].Result), `"number":2`) {
		t.Fatalf("tool result %s", add.ToolCalls[0].Result)
	}
}

// Concurrent creates of one user get distinct consecutive numbers.
func TestTaskNumbersConcurrent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	const n = 12
	done := make(chan int64, n)
	for i := range n {
		go func() {
			r := h.req("POST", "/api/tasks", tok, map[string]string{"title": fmt.Sprint("t", i)})
			done <- decodeAs[store.Task](t, r).Number
		}()
	}
	seen := map[int64]bool{}
	for range n {
		seen[<-done] = true
	}
	for i := int64(1); i <= n; i++ {
		if !seen[i] {
			t.Fatalf("numbers %v lack %d", seen, i)
		}
	}
}

// A deleted task is hidden, and restorable by its owner only, once.
func TestDeleteThenRestore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	other, _ := h.signup()
	task := h.createTask(tok, "buy milk", "2 litres")
	path := fmt.Sprintf("/api/tasks/%d", task.ID)
	if r := h.req("DELETE", path, tok, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.status)
	}
	if len(h.tasks(tok)) != 0 {
		t.Fatal("deleted task still listed")
	}
	for _, r := range []resp{h.req("GET", path, tok, nil), h.req("PATCH", path, tok, `{"completed":true}`), h.req("DELETE", path, tok, nil)} {
		if r.status != http.StatusNotFound {
			t.Fatalf("deleted task answered %d", r.status)
		}
	}
	if r := h.req("POST", path+"/restore", other, nil); r.status != http.StatusNotFound {
		t.Fatalf("another user's restore: %d", r.status)
	}
	r := h.req("POST", path+"/restore", tok, nil)
	got := decodeAs[store.Task](t, r)
	if r.status != http.StatusOK || got.Number != task.Number || got.Title != "buy milk" || got.Description != "2 litres" {
		t.Fatalf("restore: %d %+v", r.status, got)
	}
	if len(h.tasks(tok)) != 1 {
		t.Fatal("restored task not listed")
	}
	if r := h.req("POST", path+"/restore", tok, nil); r.status != http.StatusNotFound {
		t.Fatalf("restoring a live task: %d", r.status)
	}
}

// Limits count characters, as the UI does: 200 emoji fit in a title, 501 letters do not.
func TestLengthLimitsInCharacters(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	emoji := strings.Repeat("😀", 200)
	if r := h.req("POST", "/api/tasks", tok, map[string]string{"title": emoji}); r.status != http.StatusCreated {
		t.Fatalf("200 emoji: %d %s", r.status, r.body)
	}
	if r := h.req("POST", "/api/tasks", tok, map[string]string{"title": strings.Repeat("é", 500)}); r.status != http.StatusCreated {
		t.Fatalf("500 é: %d %s", r.status, r.body)
	}
	r := h.req("POST", "/api/tasks", tok, map[string]string{"title": strings.Repeat("a", 501)})
	if r.status != http.StatusBadRequest || !strings.Contains(r.errorMsg(t), "500 characters") {
		t.Fatalf("501 chars: %d %s", r.status, r.body)
	}
}

// Two tabs on one conversation: "it" and "yes" mean what the sending tab has shown.
func TestChatReadsOnlyWhatThisClientSaw(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	send := func(msg string, conv, seen int64) chatResp {
		t.Helper()
		body := map[string]any{"message": msg, "conversation_id": conv, "seen_message_id": seen}
		r := h.req("POST", "/api/chat", tok, body)
		if r.status != http.StatusOK {
			t.Fatalf("chat %q: %d %s", msg, r.status, r.body)
		}
		return decodeAs[chatResp](t, r)
	}
	a := h.chat(tok, "add buy milk", 0) // tab A
	seenByB := a.MessageID              // tab B opens the conversation now
	if seenByB == 0 {
		t.Fatal("chat response lacks message_id")
	}
	send("add buy eggs", a.ConversationID, a.MessageID) // tab A again; B never shows it
	res := send("delete it", a.ConversationID, seenByB)
	titles := []string{}
	for _, tk := range h.tasks(tok) {
		titles = append(titles, tk.Title)
	}
	if strings.Join(titles, ",") != "buy eggs" {
		t.Fatalf("tab B's \"delete it\" left %v (reply %q); want only buy eggs left", titles, res.Reply)
	}

	// A bulk question asked in tab A is not answered by a "yes" from tab B.
	q := send("delete everything", a.ConversationID, res.MessageID)
	if !strings.Contains(q.Reply, "Delete your only task") {
		t.Fatalf("question %q", q.Reply)
	}
	send("yes", a.ConversationID, res.MessageID)
	if len(h.tasks(tok)) != 1 {
		t.Fatal("a yes from a tab that never saw the question deleted tasks")
	}
	send("yes", a.ConversationID, q.MessageID)
	if len(h.tasks(tok)) != 0 {
		t.Fatal("the yes of the tab that saw the question did not delete")
	}
}

// "it" never reaches into another conversation.
func TestPronounStaysInItsConversation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	h.chat(tok, "add buy milk", 0)
	res := h.chat(tok, "delete it", 0) // "New chat"
	if len(h.tasks(tok)) != 1 || !strings.Contains(res.Reply, "Which task") {
		t.Fatalf("new conversation's \"delete it\": reply %q, tasks %+v", res.Reply, h.tasks(tok))
	}
}

// Logging out revokes the token on the server: it stops working at once, not after 24 h.
func TestLogoutRevokesToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, email := h.signup()
	if r := h.req("GET", "/api/tasks", tok, nil); r.status != http.StatusOK {
		t.Fatalf("before logout: %d", r.status)
	}
	if r := h.req("POST", "/api/auth/logout", tok, nil); r.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/api/tasks", "/api/me", "/api/conversations"} {
		if r := h.req("GET", p, tok, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("%s with a logged-out token: %d", p, r.status)
		}
	}
	r := h.req("POST", "/api/auth/login", "", map[string]string{"email": email, "password": "correct horse"})
	fresh := decodeAs[authResp](t, r).Token
	if r := h.req("GET", "/api/tasks", fresh, nil); r.status != http.StatusOK {
		t.Fatalf("a new login after logout: %d", r.status)
	}
}

// A confirmed bulk delete removes exactly the tasks the question listed: one added meanwhile
// (in the list, another tab) survives, and "undo" brings back all that were deleted.
func TestBulkDeleteDeletesOnlyWhatItAskedAbout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	h.createTask(tok, "buy bread", "")
	h.createTask(tok, "call dad", "")
	q := h.chat(tok, "delete all my tasks", 0)
	if !strings.Contains(q.Reply, "Delete all 2 tasks") || len(h.tasks(tok)) != 2 {
		t.Fatalf("question %q", q.Reply)
	}
	h.createTask(tok, "added meanwhile", "")
	yes := h.chat(tok, "yes", q.ConversationID)
	left := h.tasks(tok)
	if len(left) != 1 || left[0].Title != "added meanwhile" {
		t.Fatalf("after yes (%q): %+v", yes.Reply, left)
	}
	h.chat(tok, "undo", q.ConversationID)
	if n := len(h.tasks(tok)); n != 3 {
		t.Fatalf("after undo: %d tasks, want 3", n)
	}
}
