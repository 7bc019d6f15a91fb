package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// fakeOpenAI is a scripted Chat Completions endpoint. Each step sees the request the real
// client library sent and returns either tool calls or a final answer.
type fakeOpenAI struct {
	mu       sync.Mutex
	t        *testing.T
	steps    []func(req fakeRequest) map[string]any
	requests []fakeRequest
	authz    []string
	srv      *httptest.Server
}

type fakeRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role       string `json:"role"`
		Content    any    `json:"content"`
		ToolCallID string `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	f := &fakeOpenAI{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, `{"error":{"message":"not found"}}`, 404)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var req fakeRequest
		if err := json.Unmarshal(b, &req); err != nil {
			t.Errorf("fake openai: bad request body: %v", err)
		}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.authz = append(f.authz, r.Header.Get("Authorization"))
		n := len(f.requests)
		var step func(fakeRequest) map[string]any
		if n <= len(f.steps) {
			step = f.steps[n-1]
		} else if len(f.steps) > 0 {
			step = f.steps[len(f.steps)-1]
		}
		f.mu.Unlock()
		if step == nil {
			http.Error(w, `{"error":{"message":"no script"}}`, 500)
			return
		}
		out := step(req)
		if code, ok := out["__status"].(int); ok {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(`{"error":{"message":"boom","type":"server_error"}}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func toolCallsResponse(calls ...[2]string) map[string]any {
	var tcs []map[string]any
	for i, c := range calls {
		tcs = append(tcs, map[string]any{"id": fmt.Sprintf("call_%s_%d", c[0], i), "type": "function",
			"function": map[string]any{"name": c[0], "arguments": c[1]}})
	}
	return map[string]any{"id": "chatcmpl-x", "object": "chat.completion", "created": 1, "model": "fake-model",
		"choices": []map[string]any{{"index": 0, "finish_reason": "tool_calls",
			"message": map[string]any{"role": "assistant", "content": nil, "tool_calls": tcs}}}}
}

func answer(text string) map[string]any {
	return map[string]any{"id": "chatcmpl-y", "object": "chat.completion", "created": 1, "model": "fake-model",
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": text}}}}
}

func (f *fakeOpenAI) harness(t *testing.T, maxSteps int) *harness {
	brain := agent.NewOpenAI(f.srv.URL+"/v1", "test-key", "fake-model", f.srv.Client())
	if maxSteps > 0 {
		brain.MaxSteps = maxSteps
	}
	return newHarness(t, map[string]string{"LLM_PROVIDER": "openai", "LLM_MODEL": "fake-model", "LLM_API_KEY": "test-key"}, brain)
}

func lastMessage(req fakeRequest) (role, content, toolCallID string) {
	m := req.Messages[len(req.Messages)-1]
	s, _ := m.Content.(string)
	return m.Role, s, m.ToolCallID
}

func TestOpenAIBrainMultiStep(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t)
	var addedID int64
	f.steps = []func(fakeRequest) map[string]any{
		func(req fakeRequest) map[string]any {
			if req.Model != "fake-model" || len(req.Tools) != len(agent.Specs) || req.Messages[0].Role != "system" {
				t.Errorf("first request: model %q, %d tools, first role %q", req.Model, len(req.Tools), req.Messages[0].Role)
			}
			if role, content, _ := lastMessage(req); role != "user" || content != "please add buy milk and show me the list" {
				t.Errorf("first request ends with %s %q", role, content)
			}
			return toolCallsResponse([2]string{"add_task", `{"title":"buy milk","description":"2 litres"}`})
		},
		func(req fakeRequest) map[string]any {
			role, content, id := lastMessage(req)
			var res agent.Result
			_ = json.Unmarshal([]byte(content), &res)
			if role != "tool" || id != "call_add_task_0" || res.Task == nil || res.Task.Title != "buy milk" {
				t.Errorf("tool result not fed back: %s %s %q", role, id, content)
			} else {
				addedID = res.Task.Number // tools name tasks by the user's number
			}
			return toolCallsResponse([2]string{"list_tasks", `{"status":"all"}`}, [2]string{"no_such_tool", `{}`})
		},
		func(req fakeRequest) map[string]any {
			n := len(req.Messages)
			if req.Messages[n-2].Role != "tool" || req.Messages[n-1].Role != "tool" || !strings.Contains(fmt.Sprint(req.Messages[n-1].Content), "unknown tool") {
				t.Errorf("two tool results expected, got %+v", req.Messages[n-2:])
			}
			return answer(fmt.Sprintf("Added task %d: buy milk", addedID))
		},
	}
	h := f.harness(t, 0)
	tok, _ := h.signup()
	res := h.chat(tok, "please add buy milk and show me the list", 0)
	if len(f.requests) != 3 {
		t.Fatalf("%d model calls, want 3", len(f.requests))
	}
	if f.authz[0] != "Bearer test-key" {
		t.Errorf("authorization header %q", f.authz[0])
	}
	if res.Reply != fmt.Sprintf("Added task %d: buy milk", addedID) {
		t.Errorf("reply %q", res.Reply)
	}
	if len(res.ToolCalls) != 3 || res.ToolCalls[0].Name != "add_task" || res.ToolCalls[1].Name != "list_tasks" ||
		!strings.Contains(string(res.ToolCalls[2].Result), "unknown tool") {
		t.Errorf("tool calls %+v", res.ToolCalls)
	}
	tasks := h.tasks(tok)
	if len(tasks) != 1 || tasks[0].Title != "buy milk" || tasks[0].Description != "2 litres" {
		t.Fatalf("tasks %+v", tasks)
	}

	// Second turn, same conversation: the stored history (including tool calls and results)
	// is sent back to the model.
	f.mu.Lock()
	f.steps = append(f.steps,
		func(req fakeRequest) map[string]any {
			var roles []string
			for _, m := range req.Messages {
				roles = append(roles, m.Role)
			}
			want := "system user assistant tool assistant tool tool assistant user"
			if strings.Join(roles, " ") != want {
				t.Errorf("history roles %q, want %q", strings.Join(roles, " "), want)
			}
			if len(req.Messages[2].ToolCalls) != 1 || req.Messages[2].ToolCalls[0].Function.Name != "add_task" {
				t.Errorf("stored assistant tool call not replayed: %+v", req.Messages[2])
			}
			return toolCallsResponse([2]string{"complete_task", fmt.Sprintf(`{"task_id":%d}`, addedID)})
		},
		func(req fakeRequest) map[string]any { return answer("Marked buy milk as done.") },
	)
	f.mu.Unlock()
	res2 := h.chat(tok, "I bought it", res.ConversationID)
	if res2.Reply != "Marked buy milk as done." || !h.tasks(tok)[0].Completed {
		t.Fatalf("second turn: %+v", res2)
	}
}

func TestOpenAIBrainBoundedLoop(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t)
	f.steps = []func(fakeRequest) map[string]any{
		func(fakeRequest) map[string]any { return toolCallsResponse([2]string{"list_tasks", `{}`}) },
	}
	h := f.harness(t, 4)
	tok, _ := h.signup()
	res := h.chat(tok, "loop forever", 0)
	if len(f.requests) != 4 || len(res.ToolCalls) != 4 || !strings.Contains(res.Reply, "couldn't finish") {
		t.Fatalf("%d requests, reply %q, %d calls", len(f.requests), res.Reply, len(res.ToolCalls))
	}
	// The stored turn is consistent: every assistant tool call has its result.
	msgs := decodeAs[[]store.Message](t, h.req("GET", fmt.Sprintf("/api/conversations/%d/messages", res.ConversationID), tok, nil))
	calls, results := 0, 0
	for _, m := range msgs {
		calls += len(m.ToolCalls)
		if m.Role == "tool" {
			results++
		}
	}
	if calls != 4 || results != 4 {
		t.Fatalf("stored %d calls, %d results", calls, results)
	}
}

func TestOpenAIBrainBadArgumentsAndErrors(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t)
	f.steps = []func(fakeRequest) map[string]any{
		func(fakeRequest) map[string]any {
			return toolCallsResponse([2]string{"complete_task", `{"task_id":"seven"}`}, [2]string{"delete_task", `{"task_id":999999999}`}, [2]string{"add_task", `not json`})
		},
		func(req fakeRequest) map[string]any {
			for _, m := range req.Messages[len(req.Messages)-3:] {
				if m.Role != "tool" || !strings.Contains(fmt.Sprint(m.Content), "error") {
					t.Errorf("want an error result, got %+v", m)
				}
			}
			return answer("Sorry, I could not do that.")
		},
		func(fakeRequest) map[string]any { return map[string]any{"__status": 500} },
	}
	h := f.harness(t, 0)
	tok, _ := h.signup()
	res := h.chat(tok, "do weird things", 0)
	if res.Reply != "Sorry, I could not do that." || len(h.tasks(tok)) != 0 {
		t.Fatalf("reply %q", res.Reply)
	}
	// The model endpoint failing (after the client's retries) is a 502 with a JSON error.
	r := h.req("POST", "/api/chat", tok, `{"message":"hello"}`)
	if r.status != http.StatusBadGateway || strings.Contains(r.errorMsg(t), "boom") {
		t.Fatalf("model failure: %d %s", r.status, r.body)
	}
}
