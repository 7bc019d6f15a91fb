package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

func TestIdempotentCreateTask(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"IDEMPOTENCY_TTL": "2s"}, nil)
	tok, _ := h.signup()
	other, _ := h.signup()
	key := "create-" + testdb.Unique()
	body := `{"title":"buy milk","description":"2 litres"}`

	first := h.req("POST", "/api/tasks", tok, body, "Idempotency-Key", key)
	again := h.req("POST", "/api/tasks", tok, body, "Idempotency-Key", key)
	if first.status != 201 || again.status != 201 || !bytes.Equal(first.body, again.body) ||
		again.header.Get("Location") != first.header.Get("Location") || again.header.Get("Idempotent-Replayed") != "true" ||
		first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("replay: %d %s %v / %d %s %v", first.status, first.body, first.header, again.status, again.body, again.header)
	}
	if n := len(h.tasks(tok)); n != 1 {
		t.Fatalf("%d tasks after a replay", n)
	}
	// Same key, other request: refused, nothing written.
	if r := h.req("POST", "/api/tasks", tok, `{"title":"buy bread"}`, "Idempotency-Key", key); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("key reused for another body: %d %s", r.status, r.body)
	}
	if r := h.req("POST", "/api/chat", tok, `{"message":"add buy milk"}`, "Idempotency-Key", key); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("key reused on another route: %d %s", r.status, r.body)
	}
	// Keys are per user.
	if r := h.req("POST", "/api/tasks", other, body, "Idempotency-Key", key); r.status != 201 || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("another user's key: %d %v", r.status, r.header)
	}
	if n := len(h.tasks(tok)); n != 1 {
		t.Fatalf("%d tasks", n)
	}
	// Malformed keys.
	for _, bad := range []string{" ", "has space", string(bytes.Repeat([]byte("k"), 256)), "caf\u00e9"} {
		if r := h.req("POST", "/api/tasks", tok, body, "Idempotency-Key", bad); r.status != http.StatusBadRequest {
			t.Errorf("key %q: %d", bad, r.status)
		}
	}
	// Concurrent retries of one action: one task, every answer the same.
	key2 := "race-" + testdb.Unique()
	var wg sync.WaitGroup
	results := make([]resp, 12)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = h.req("POST", "/api/tasks", tok, `{"title":"once"}`, "Idempotency-Key", key2)
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.status != 201 || !bytes.Equal(r.body, results[0].body) {
			t.Fatalf("concurrent replay: %d %s vs %s", r.status, r.body, results[0].body)
		}
	}
	if n := len(h.tasks(tok)); n != 2 {
		t.Fatalf("%d tasks after 12 concurrent requests with one key", n)
	}
	// The lifetime is bounded: after IDEMPOTENCY_TTL the key is new again, for any request,
	// and its retries replay the new answer.
	time.Sleep(2100 * time.Millisecond)
	bread := `{"title":"buy bread"}`
	renewed := h.req("POST", "/api/tasks", tok, bread, "Idempotency-Key", key)
	if renewed.status != 201 || renewed.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("expired key replayed: %d %v", renewed.status, renewed.header)
	}
	if r := h.req("POST", "/api/tasks", tok, bread, "Idempotency-Key", key); r.status != 201 ||
		r.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(r.body, renewed.body) {
		t.Fatalf("retry of the renewed key: %d %s, want the replay of %s", r.status, r.body, renewed.body)
	}
	if r := h.req("POST", "/api/tasks", tok, body, "Idempotency-Key", key); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("renewed key sent with its expired request: %d %s", r.status, r.body)
	}
	if n := len(h.tasks(tok)); n != 3 {
		t.Fatalf("%d tasks after the key expired", n)
	}
	// Expired keys of every user are pruned.
	st := store.New(testdb.Pool(t))
	time.Sleep(2100 * time.Millisecond)
	if n, err := st.PruneKeys(context.Background(), 2*time.Second); err != nil || n < 3 {
		t.Fatalf("pruned %d keys: %v", n, err)
	}
}

func TestIdempotentChat(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tok, _ := h.signup()
	key := "chat-" + testdb.Unique()
	first := h.req("POST", "/api/chat", tok, `{"message":"add buy milk"}`, "Idempotency-Key", key)
	again := h.req("POST", "/api/chat", tok, `{"message":"add buy milk"}`, "Idempotency-Key", key)
	if first.status != 200 || again.status != 200 || !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("chat replay: %d %s / %d %s", first.status, first.body, again.status, again.body)
	}
	if n := len(h.tasks(tok)); n != 1 {
		t.Fatalf("%d tasks after a replayed chat", n)
	}
	c := decodeAs[chatResp](t, first)
	msgs := decodeAs[[]store.Message](t, h.req("GET", "/api/conversations/"+itoa(c.ConversationID)+"/messages", tok, nil))
	if users := countRole(msgs, "user"); users != 1 {
		t.Fatalf("conversation has %d user messages after a replay: %+v", users, msgs)
	}
	// A follow-up in the same conversation with a new key is a new action.
	next := h.req("POST", "/api/chat", tok, `{"message":"add buy milk","conversation_id":`+itoa(c.ConversationID)+`}`, "Idempotency-Key", key+"-2")
	if next.status != 200 || len(h.tasks(tok)) != 2 {
		t.Fatalf("new key: %d %s", next.status, next.body)
	}
}
