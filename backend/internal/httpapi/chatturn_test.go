package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

// The model fails after a tool has written: the turn rolls back, so the 502 the client gets is
// true — no task, no conversation — and a retry does not duplicate anything.
func TestChatTurnModelFailsAfterTool(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t)
	f.steps = []func(fakeRequest) map[string]any{
		func(fakeRequest) map[string]any {
			return toolCallsResponse([2]string{"add_task", `{"title":"buy milk"}`})
		},
		func(fakeRequest) map[string]any { return map[string]any{"__status": 500} },
	}
	h := f.harness(t, 0)
	tok, _ := h.signup()
	r := h.req("POST", "/api/chat", tok, `{"message":"add buy milk"}`)
	if r.status != http.StatusBadGateway || !strings.Contains(r.errorMsg(t), "nothing was changed") {
		t.Fatalf("model failure after a tool: %d %s", r.status, r.body)
	}
	if tasks := h.tasks(tok); len(tasks) != 0 {
		t.Fatalf("client told 502 but tasks exist: %+v", tasks)
	}
	if r := h.req("GET", "/api/conversations", tok, nil); string(r.body) != "[]\n" {
		t.Fatalf("conversation saved for a failed turn: %s", r.body)
	}
}

// The client goes away after the first tool ran: the turn still completes and commits as a
// whole, and the client's retry with the same key gets that turn's answer.
func TestChatTurnSurvivesClientDisconnect(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t)
	reached := make(chan struct{})
	release := make(chan struct{})
	f.steps = []func(fakeRequest) map[string]any{
		func(fakeRequest) map[string]any {
			return toolCallsResponse([2]string{"add_task", `{"title":"buy milk"}`})
		},
		func(fakeRequest) map[string]any {
			close(reached)
			<-release
			return answer("Added task: buy milk")
		},
		func(fakeRequest) map[string]any { t.Error("a replay called the model"); return answer("again") },
	}
	h := f.harness(t, 0)
	tok, _ := h.signup()
	key := "disconnect-" + testdb.Unique()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", h.srv.URL+"/api/chat", strings.NewReader(`{"message":"add buy milk"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Idempotency-Key", key)
	errc := make(chan error, 1)
	go func() {
		resp, err := h.srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-reached
	cancel() // the client disconnects after add_task ran
	if err := <-errc; err == nil {
		t.Fatal("the cancelled request got an answer")
	}
	close(release)
	// The turn finishes on its own: its task and its conversation appear together.
	var convs []store.Conversation
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		convs = decodeAs[[]store.Conversation](t, h.req("GET", "/api/conversations", tok, nil))
		if len(convs) > 0 {
			break
		}
	}
	tasks := h.tasks(tok)
	if len(convs) != 1 || len(tasks) != 1 || tasks[0].Title != "buy milk" {
		t.Fatalf("after the disconnect: conversations %+v, tasks %+v", convs, tasks)
	}
	msgs := decodeAs[[]store.Message](t, h.req("GET", "/api/conversations/"+itoa(convs[0].ID)+"/messages", tok, nil))
	if countRole(msgs, "user") != 1 || countRole(msgs, "tool") != 1 || msgs[len(msgs)-1].Content != "Added task: buy milk" {
		t.Fatalf("saved turn: %+v", msgs)
	}
	// The retry is told what happened, without a second task or model call.
	r := h.req("POST", "/api/chat", tok, `{"message":"add buy milk"}`, "Idempotency-Key", key)
	c := decodeAs[chatResp](t, r)
	if r.status != 200 || r.header.Get("Idempotent-Replayed") != "true" || c.ConversationID != convs[0].ID ||
		len(c.ToolCalls) != 1 || !strings.Contains(string(c.ToolCalls[0].Result), "buy milk") {
		t.Fatalf("retry after disconnect: %d %s", r.status, r.body)
	}
	if n := len(h.tasks(tok)); n != 1 {
		t.Fatalf("%d tasks after the retry", n)
	}
}

// Chat turns hold a pool connection while the model thinks: they may take at most half the pool
// (DB_MAX_CONNS/2), so a slow model never starves the task API; a turn that cannot start before
// its deadline gets 503 with Retry-After.
func TestSlowChatTurnsLeaveThePoolToTasks(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t)
	reached := make(chan struct{}, 1)
	release := make(chan struct{})
	f.steps = []func(fakeRequest) map[string]any{
		func(fakeRequest) map[string]any {
			reached <- struct{}{}
			<-release
			return answer("slow")
		},
	}
	h := newHarness(t, map[string]string{"LLM_PROVIDER": "openai", "LLM_MODEL": "fake-model", "LLM_API_KEY": "test-key",
		"DB_MAX_CONNS": "2", "REQUEST_TIMEOUT": "500ms"}, agent.NewOpenAI(f.srv.URL+"/v1", "test-key", "fake-model", f.srv.Client()))
	tok, _ := h.signup()
	first := make(chan resp, 1)
	go func() { first <- h.req("POST", "/api/chat", tok, `{"message":"hello"}`) }()
	<-reached // the first turn holds its slot and connection
	start := time.Now()
	r := h.req("POST", "/api/chat", tok, `{"message":"hello again"}`)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || time.Since(start) > 3*time.Second {
		t.Fatalf("second turn while the only chat slot is busy: %d %s after %v", r.status, r.body, time.Since(start))
	}
	if r := h.req("POST", "/api/tasks", tok, `{"title":"still served"}`); r.status != http.StatusCreated {
		t.Fatalf("task API during a slow chat turn: %d %s", r.status, r.body)
	}
	close(release)
	if r := <-first; r.status != 200 {
		t.Fatalf("first turn: %d %s", r.status, r.body)
	}
}
