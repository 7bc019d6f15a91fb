package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/httpapi"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/mcpserver"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

// bearer adds a fixed Authorization header to every request of an HTTP client.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// mcpSession connects the SDK's own client to the server's /mcp over streamable HTTP.
func (h *harness) mcpSession(token string) *mcp.ClientSession {
	h.t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "todo-test-client", Version: "1"}, nil)
	tr := &mcp.StreamableClientTransport{
		Endpoint:   h.srv.URL + httpapi.MCPPath,
		HTTPClient: &http.Client{Transport: bearer{token, h.srv.Client().Transport}, Timeout: 30 * time.Second},
		MaxRetries: -1,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, tr, nil)
	if err != nil {
		h.t.Fatalf("connect MCP client: %v", err)
	}
	h.t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// callTool calls a tool and fails the test on a protocol error (a tool error is a result).
func callTool(t testing.TB, cs *mcp.ClientSession, name string, args any) *mcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s(%v): %v", name, args, err)
	}
	return res
}

func resultText(t testing.TB, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("want one content block, got %d", len(res.Content))
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("want text content, got %T", res.Content[0])
	}
	return tc.Text
}

// structured decodes a successful result's structured content, checking that its text block
// carries the same JSON.
func structured[T any](t testing.TB, res *mcp.CallToolResult) T {
	t.Helper()
	if res.IsError {
		t.Fatalf("tool error: %s", resultText(t, res))
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var v, fromText T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("structured content %s: %v", raw, err)
	}
	if err := json.Unmarshal([]byte(resultText(t, res)), &fromText); err != nil {
		t.Fatalf("text content is not the result's JSON: %v", err)
	}
	if a, b := mustJSON(t, v), mustJSON(t, fromText); a != b {
		t.Fatalf("text %s and structured content %s differ", b, a)
	}
	return v
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// toolError asserts res is a tool error (isError) and returns its message.
func toolError(t testing.TB, res *mcp.CallToolResult) string {
	t.Helper()
	if !res.IsError {
		t.Fatalf("want a tool error, got %s", mustJSON(t, res.StructuredContent))
	}
	return resultText(t, res)
}

func findTask(tasks []store.Task, id int64) (store.Task, bool) {
	for _, task := range tasks {
		if task.ID == id {
			return task, true
		}
	}
	return store.Task{}, false
}

func TestMCPListsExactlyTheChatTools(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	token, _ := h.signup()
	cs := h.mcpSession(token)
	if got := cs.InitializeResult().ServerInfo.Name; got != mcpserver.ServerName {
		t.Errorf("server name %q, want %q", got, mcpserver.ServerName)
	}
	ctx := context.Background()
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names, want []string
	schemas := map[string]map[string]any{}
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
		var s map[string]any
		if err := json.Unmarshal([]byte(mustJSON(t, tool.InputSchema)), &s); err != nil {
			t.Fatal(err)
		}
		schemas[tool.Name] = s
		if tool.OutputSchema == nil {
			t.Errorf("%s has no output schema", tool.Name)
		}
	}
	for _, spec := range agent.Specs {
		want = append(want, spec.Name)
	}
	sort.Strings(names)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("tools %v, want the chat agent's %v", names, want)
	}

	// The MCP schemas and the chat agent's specs agree on every property and required field.
	for _, spec := range agent.Specs {
		s := schemas[spec.Name]
		props, _ := s["properties"].(map[string]any)
		specProps := spec.Parameters["properties"].(map[string]any)
		var got, exp []string
		for p := range props {
			got = append(got, p)
		}
		for p := range specProps {
			exp = append(exp, p)
		}
		sort.Strings(got)
		sort.Strings(exp)
		if !slices.Equal(got, exp) {
			t.Errorf("%s: MCP properties %v, chat properties %v", spec.Name, got, exp)
		}
		var req []string
		reqs, _ := s["required"].([]any)
		for _, r := range reqs {
			req = append(req, r.(string))
		}
		specReq, _ := spec.Parameters["required"].([]string)
		sort.Strings(req)
		if !slices.Equal(req, specReq) && !(len(req) == 0 && len(specReq) == 0) {
			t.Errorf("%s: MCP required %v, chat required %v", spec.Name, req, specReq)
		}
		if s["additionalProperties"] == nil || s["additionalProperties"] == true {
			t.Errorf("%s: unknown fields are allowed: %v", spec.Name, s["additionalProperties"])
		}
		for name, p := range props {
			pt := p.(map[string]any)
			wantType := specProps[name].(map[string]any)["type"]
			if pt["type"] != wantType {
				t.Errorf("%s.%s: type %v, chat says %v", spec.Name, name, pt["type"], wantType)
			}
		}
	}
	prop := func(tool, name, key string) any {
		return schemas[tool]["properties"].(map[string]any)[name].(map[string]any)[key]
	}
	checks := []struct {
		tool, prop, key string
		want            any
	}{
		{agent.ToolAdd, "title", "maxLength", float64(agent.MaxTitleLen)},
		{agent.ToolAdd, "title", "minLength", float64(1)},
		{agent.ToolAdd, "description", "maxLength", float64(agent.MaxDescriptionLen)},
		{agent.ToolUpdate, "title", "maxLength", float64(agent.MaxTitleLen)},
		{agent.ToolComplete, "task_id", "type", "integer"},
		{agent.ToolComplete, "task_id", "minimum", float64(1)},
		{agent.ToolDelete, "task_id", "minimum", float64(1)},
		{agent.ToolUpdate, "task_id", "minimum", float64(1)},
	}
	for _, c := range checks {
		if got := prop(c.tool, c.prop, c.key); got != c.want {
			t.Errorf("%s.%s %s = %v, want %v", c.tool, c.prop, c.key, got, c.want)
		}
	}
	if got := mustJSON(t, prop(agent.ToolList, "status", "enum")); got != `["all","pending","completed"]` {
		t.Errorf("list_tasks status enum %s", got)
	}
}

func TestMCPToolsHappyPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	token, _ := h.signup()
	cs := h.mcpSession(token)

	added := structured[mcpserver.TaskResult](t, callTool(t, cs, agent.ToolAdd,
		map[string]any{"title": "  buy milk ", "description": "two litres"})).Task
	if added.ID == 0 || added.Title != "buy milk" || added.Description != "two litres" || added.Completed {
		t.Fatalf("added %+v", added)
	}
	got, ok := findTask(h.tasks(token), added.ID)
	if !ok || got.Title != "buy milk" {
		t.Fatalf("GET /api/tasks does not show the task added over MCP: %+v", h.tasks(token))
	}
	other := h.createTask(token, "walk the dog", "")

	all := structured[mcpserver.TaskListResult](t, callTool(t, cs, agent.ToolList, map[string]any{})).Tasks
	if len(all) != 2 || all[0].ID != added.ID || all[1].ID != other.ID {
		t.Fatalf("list_tasks: %+v", all)
	}

	done := structured[mcpserver.TaskResult](t, callTool(t, cs, agent.ToolComplete, map[string]any{"task_id": added.ID})).Task
	if !done.Completed {
		t.Fatalf("complete_task: %+v", done)
	}
	if got, _ := findTask(h.tasks(token), added.ID); !got.Completed {
		t.Fatal("GET /api/tasks does not show the task completed")
	}
	pending := structured[mcpserver.TaskListResult](t, callTool(t, cs, agent.ToolList, map[string]any{"status": "pending"})).Tasks
	completed := structured[mcpserver.TaskListResult](t, callTool(t, cs, agent.ToolList, map[string]any{"status": "completed"})).Tasks
	if len(pending) != 1 || pending[0].ID != other.ID || len(completed) != 1 || completed[0].ID != added.ID {
		t.Fatalf("pending %+v completed %+v", pending, completed)
	}

	upd := structured[mcpserver.TaskResult](t, callTool(t, cs, agent.ToolUpdate,
		map[string]any{"task_id": added.ID, "title": "buy oat milk", "completed": false})).Task
	if upd.Title != "buy oat milk" || upd.Completed || upd.Description != "two litres" {
		t.Fatalf("update_task: %+v", upd)
	}
	if got, _ := findTask(h.tasks(token), added.ID); got.Title != "buy oat milk" || got.Completed {
		t.Fatalf("GET /api/tasks after update: %+v", got)
	}

	del := structured[mcpserver.TaskResult](t, callTool(t, cs, agent.ToolDelete, map[string]any{"task_id": added.ID})).Task
	if del.ID != added.ID {
		t.Fatalf("delete_task answered %+v", del)
	}
	if _, ok := findTask(h.tasks(token), added.ID); ok {
		t.Fatal("GET /api/tasks still shows the deleted task")
	}
	if msg := toolError(t, callTool(t, cs, agent.ToolDelete, map[string]any{"task_id": added.ID})); msg != fmt.Sprintf("task %d not found", added.ID) {
		t.Fatalf("deleting twice: %q", msg)
	}
	empty := h.mcpSession(h.signupToken())
	if tasks := structured[mcpserver.TaskListResult](t, callTool(t, empty, agent.ToolList, nil)).Tasks; tasks == nil || len(tasks) != 0 {
		t.Fatalf("a new user's list_tasks: %#v (want an empty array)", tasks)
	}
}

func (h *harness) signupToken() string {
	token, _ := h.signup()
	return token
}

func TestMCPAndChatSeeTheSameTasks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	token, _ := h.signup()
	cs := h.mcpSession(token)

	structured[mcpserver.TaskResult](t, callTool(t, cs, agent.ToolAdd, map[string]any{"title": "renew passport"}))
	if r := h.chat(token, "show my tasks", 0); !strings.Contains(r.Reply, "renew passport") {
		t.Fatalf("chat does not list the task added over MCP: %q", r.Reply)
	}
	r := h.chat(token, "remind me to water the plants", 0)
	if len(r.ToolCalls) != 1 || r.ToolCalls[0].Name != agent.ToolAdd {
		t.Fatalf("chat add: %+v", r)
	}
	tasks := structured[mcpserver.TaskListResult](t, callTool(t, cs, agent.ToolList, map[string]any{"status": "pending"})).Tasks
	var titles []string
	for _, task := range tasks {
		titles = append(titles, task.Title)
	}
	if !slices.Contains(titles, "water the plants") {
		t.Fatalf("MCP list_tasks does not show the task added in chat: %v", titles)
	}
}

// roundRobin sends each request to the next of several servers, as a load balancer in front of
// replicas may, and counts what each one got.
type roundRobin struct {
	mu    sync.Mutex
	hosts []string
	n     int
	got   map[string]int
	next  http.RoundTripper
}

func (rr *roundRobin) RoundTrip(r *http.Request) (*http.Response, error) {
	rr.mu.Lock()
	host := rr.hosts[rr.n%len(rr.hosts)]
	rr.n++
	rr.got[host]++
	rr.mu.Unlock()
	r = r.Clone(r.Context())
	r.URL.Host, r.Host = host, host
	return rr.next.RoundTrip(r)
}

func TestMCPAnyReplicaAnswersAnyRequest(t *testing.T) {
	t.Parallel()
	a := newHarness(t, nil, nil)
	b := newHarness(t, nil, nil) // a second replica: same database, same JWT secret
	token, _ := a.signup()
	rr := &roundRobin{hosts: []string{a.srv.Listener.Addr().String(), b.srv.Listener.Addr().String()},
		got: map[string]int{}, next: a.srv.Client().Transport}
	client := mcp.NewClient(&mcp.Implementation{Name: "balanced", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: a.srv.URL + httpapi.MCPPath, MaxRetries: -1,
		HTTPClient: &http.Client{Transport: bearer{token, rr}, Timeout: 30 * time.Second},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	added := structured[mcpserver.TaskResult](t, callTool(t, cs, agent.ToolAdd, map[string]any{"title": "scale out"})).Task
	structured[mcpserver.TaskResult](t, callTool(t, cs, agent.ToolComplete, map[string]any{"task_id": added.ID}))
	tasks := structured[mcpserver.TaskListResult](t, callTool(t, cs, agent.ToolList, map[string]any{"status": "completed"})).Tasks
	if len(tasks) != 1 || tasks[0].ID != added.ID {
		t.Fatalf("completed tasks across replicas: %+v", tasks)
	}
	for host, n := range rr.got {
		if n < 2 {
			t.Errorf("replica %s served %d requests: %v", host, n, rr.got)
		}
	}
}

// mcpPost sends one raw JSON-RPC body to /mcp as a streamable HTTP client would.
func (h *harness) mcpPost(token string, body any, hdr ...string) resp {
	h.t.Helper()
	return h.req("POST", httpapi.MCPPath, token, body, append([]string{"Accept", "application/json, text/event-stream"}, hdr...)...)
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`

func TestMCPRequiresAValidToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	token, _ := h.signup()
	uid := fmt.Sprint(decodeAs[map[string]int64](t, h.req("GET", "/api/me", token, nil))["id"])
	future := time.Now().Add(time.Hour)
	cases := map[string]string{
		"no token":      "",
		"garbage":       "not.a.jwt",
		"bad signature": sign(t, jwt.SigningMethodHS256, claims(uid, future), []byte("another-secret-0123456789abcdef-xyz")),
		"expired":       sign(t, jwt.SigningMethodHS256, claims(uid, time.Now().Add(-time.Minute)), []byte(testSecret)),
		"alg none":      sign(t, jwt.SigningMethodNone, claims(uid, future), jwt.UnsafeAllowNoneSignatureType),
	}
	for name, bad := range cases {
		for _, method := range []string{"POST", "GET", "DELETE"} {
			var r resp
			if method == "POST" {
				r = h.mcpPost(bad, initializeBody)
			} else {
				r = h.req(method, httpapi.MCPPath, bad, nil, "Accept", "text/event-stream")
			}
			if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: %d %s, want 401 with WWW-Authenticate", name, method, r.status, r.body)
				continue
			}
			r.errorMsg(t)
		}
		// The SDK's client cannot even initialize.
		client := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil)
		tr := &mcp.StreamableClientTransport{Endpoint: h.srv.URL + httpapi.MCPPath, MaxRetries: -1,
			HTTPClient: &http.Client{Transport: bearer{bad, h.srv.Client().Transport}}}
		if cs, err := client.Connect(context.Background(), tr, nil); err == nil {
			_ = cs.Close()
			t.Errorf("%s: the MCP client connected", name)
		}
	}
	if r := h.mcpPost(token, initializeBody); r.status != http.StatusOK {
		t.Fatalf("valid token: %d %s", r.status, r.body)
	}
}

func TestMCPActsOnTheTokensUserOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	tokenA, _ := h.signup()
	tokenB, _ := h.signup()
	a := h.createTask(tokenA, "A's secret plan", "only A may see this")
	missing := h.createTask(tokenA, "soon gone", "")
	if r := h.req("DELETE", fmt.Sprintf("/api/tasks/%d", missing.ID), tokenA, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.status)
	}
	b := h.mcpSession(tokenB)

	if tasks := structured[mcpserver.TaskListResult](t, callTool(t, b, agent.ToolList, nil)).Tasks; len(tasks) != 0 {
		t.Fatalf("B lists A's tasks: %+v", tasks)
	}
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{agent.ToolComplete, map[string]any{}},
		{agent.ToolUpdate, map[string]any{"title": "hijacked"}},
		{agent.ToolUpdate, map[string]any{"completed": true}},
		{agent.ToolDelete, map[string]any{}},
	} {
		// Another user's task answers exactly like a task that does not exist.
		var msgs []string
		for _, id := range []int64{a.ID, missing.ID} {
			args := map[string]any{"task_id": id}
			for k, v := range c.args {
				args[k] = v
			}
			msg := toolError(t, callTool(t, b, c.tool, args))
			msgs = append(msgs, strings.Replace(msg, fmt.Sprint(id), "N", 1))
		}
		if msgs[0] != msgs[1] || msgs[0] != "task N not found" {
			t.Errorf("%s on A's task %q, on a missing task %q", c.tool, msgs[0], msgs[1])
		}
	}
	r := h.req("GET", fmt.Sprintf("/api/tasks/%d", a.ID), tokenA, nil)
	if got := decodeAs[store.Task](t, r); r.status != http.StatusOK || got != a {
		t.Fatalf("A's task changed through B's MCP calls: %d %+v, was %+v", r.status, got, a)
	}
}

func TestMCPBadArgumentsAreToolErrorsAndChangeNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	token, _ := h.signup()
	task := h.createTask(token, "keep me", "as I am")
	cs := h.mcpSession(token)
	before := h.tasks(token)

	long := strings.Repeat("x", agent.MaxTitleLen+1)
	wide := strings.Repeat("é", agent.MaxTitleLen+1) // over the limit in characters, whatever their bytes
	cases := []struct {
		name string
		tool string
		args any
	}{
		{"add: title of the wrong type", agent.ToolAdd, map[string]any{"title": 5}},
		{"add: no title", agent.ToolAdd, map[string]any{"description": "x"}},
		{"add: blank title", agent.ToolAdd, map[string]any{"title": "   "}},
		{"add: huge title", agent.ToolAdd, map[string]any{"title": long}},
		{"add: title over the limit in two-byte characters", agent.ToolAdd, map[string]any{"title": wide}},
		{"add: huge description", agent.ToolAdd, map[string]any{"title": "ok", "description": strings.Repeat("d", agent.MaxDescriptionLen+1)}},
		{"add: unknown field", agent.ToolAdd, map[string]any{"title": "ok", "owner_id": 1}},
		{"add: null title", agent.ToolAdd, map[string]any{"title": nil}},
		{"list: unknown status", agent.ToolList, map[string]any{"status": "overdue"}},
		{"list: unknown field", agent.ToolList, map[string]any{"user_id": 2}},
		{"complete: id as a string", agent.ToolComplete, map[string]any{"task_id": "1"}},
		{"complete: fractional id", agent.ToolComplete, map[string]any{"task_id": 1.5}},
		{"complete: negative id", agent.ToolComplete, map[string]any{"task_id": -task.ID}},
		{"complete: zero id", agent.ToolComplete, map[string]any{"task_id": 0}},
		{"complete: id beyond int64", agent.ToolComplete, map[string]any{"task_id": 1e30}},
		{"complete: no id", agent.ToolComplete, map[string]any{}},
		{"delete: negative id", agent.ToolDelete, map[string]any{"task_id": -1}},
		{"delete: id and unknown field", agent.ToolDelete, map[string]any{"task_id": task.ID, "force": true}},
		{"update: nothing to change", agent.ToolUpdate, map[string]any{"task_id": task.ID}},
		{"update: huge title", agent.ToolUpdate, map[string]any{"task_id": task.ID, "title": long}},
		{"update: empty title", agent.ToolUpdate, map[string]any{"task_id": task.ID, "title": ""}},
		{"update: completed as a string", agent.ToolUpdate, map[string]any{"task_id": task.ID, "completed": "yes"}},
		{"update: unknown field", agent.ToolUpdate, map[string]any{"task_id": task.ID, "title": "x", "user_id": 1}},
		{"unknown tool", "drop_all_tasks", map[string]any{}},
	}
	for _, c := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		cancel()
		if c.tool == "drop_all_tasks" { // the SDK answers an unknown tool as a protocol error
			if err == nil && !res.IsError {
				t.Errorf("%s: accepted", c.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: protocol error %v, want a tool error", c.name, err)
			continue
		}
		if !res.IsError {
			t.Errorf("%s: accepted: %s", c.name, mustJSON(t, res.StructuredContent))
			continue
		}
		if msg := resultText(t, res); msg == "" || strings.Contains(strings.ToLower(msg), "sql") {
			t.Errorf("%s: message %q", c.name, msg)
		}
	}
	if after := h.tasks(token); mustJSON(t, after) != mustJSON(t, before) {
		t.Fatalf("bad arguments changed tasks:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestMCPMalformedRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	token, _ := h.signup()
	huge := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add_task","arguments":{"title":"` +
		strings.Repeat("x", httpapi.MaxBodyBytes) + `"}}}`
	cases := []struct {
		name   string
		body   string
		status int
		code   int
	}{
		{"not JSON", `{"jsonrpc":"2.0",`, http.StatusBadRequest, -32700},
		{"empty body", ``, http.StatusBadRequest, -32700},
		{"trailing garbage", initializeBody + `x`, http.StatusBadRequest, -32700},
		{"not JSON-RPC", `{"hello":"world"}`, http.StatusBadRequest, -32600},
		{"wrong version", `{"jsonrpc":"1.0","id":1,"method":"tools/list"}`, http.StatusBadRequest, -32600},
		{"a string", `"tools/list"`, http.StatusBadRequest, -32600},
		{"empty batch", `[]`, http.StatusBadRequest, -32600},
		{"batch of junk", `[1,2]`, http.StatusBadRequest, -32600},
		{"over 1 MiB", huge, http.StatusRequestEntityTooLarge, -32600},
	}
	for _, c := range cases {
		r := h.mcpPost(token, c.body)
		var e struct {
			JSONRPC string `json:"jsonrpc"`
			Error   struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if r.status != c.status || json.Unmarshal(r.body, &e) != nil || e.JSONRPC != "2.0" || e.Error.Code != c.code {
			t.Errorf("%s: %d %.200s, want %d with JSON-RPC error %d", c.name, r.status, r.body, c.status, c.code)
		}
	}
	// Well-formed JSON-RPC the server cannot serve: a JSON-RPC error, never a 500.
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":7,"method":"no/such/method"}`,
		`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":"nope"}`,
	} {
		r := h.mcpPost(token, body)
		var e struct {
			Error *struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		if r.status >= 500 || json.Unmarshal(r.body, &e) != nil || e.Error == nil || e.Error.Code == 0 {
			t.Errorf("%s: %d %s, want a JSON-RPC error", body, r.status, r.body)
		}
		if bytes.Contains(r.body, []byte("goroutine")) || bytes.Contains(r.body, []byte(".go:")) {
			t.Errorf("%s: answer shows internals: %s", body, r.body)
		}
	}
	// The SDK's own refusals come back as JSON-RPC errors too, with the request's id.
	for _, c := range []struct {
		name   string
		r      resp
		status int
		code   int
	}{
		{"unknown method", h.mcpPost(token, `{"jsonrpc":"2.0","id":7,"method":"no/such/method"}`), http.StatusBadRequest, -32601},
		{"text/plain body", h.mcpPost(token, initializeBody, "Content-Type", "text/plain"), http.StatusUnsupportedMediaType, -32600},
		{"no SSE in Accept", h.mcpPost(token, initializeBody, "Accept", "application/json"), http.StatusBadRequest, -32600},
	} {
		var e struct {
			ID    any `json:"id"`
			Error struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		if c.r.status != c.status || json.Unmarshal(c.r.body, &e) != nil || e.Error.Code != c.code ||
			!strings.HasPrefix(c.r.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %q %s, want %d with JSON-RPC error %d", c.name, c.r.status, c.r.header.Get("Content-Type"), c.r.body, c.status, c.code)
		}
		if c.name == "unknown method" && e.ID != float64(7) {
			t.Errorf("%s: id %v, want 7", c.name, e.ID)
		}
	}
	// Arguments that are not an object are the tool's to refuse.
	r := h.mcpPost(token, `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"add_task","arguments":"not an object"}}`)
	if res := decodeAs[struct {
		Result mcp.CallToolResult `json:"result"`
	}](t, r).Result; r.status != http.StatusOK || !res.IsError {
		t.Errorf("arguments not an object: %d %s, want a tool error", r.status, r.body)
	}
	if got := h.tasks(token); len(got) != 0 {
		t.Fatalf("malformed requests created tasks: %+v", got)
	}
}

// syncBuffer is a log sink safe for the server's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMCPIsLoggedAndMeasuredWithoutSecrets(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	api := httpapi.New(testConfig(t, nil), slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), testdb.Pool(t), agent.Offline{})
	h := &harness{t: t, srv: newServer(t, api), ip: "198.18.0.11"}
	token, _ := h.signup()
	cs := h.mcpSession(token)
	const title = "confidential-title-7f3a"
	structured[mcpserver.TaskResult](t, callTool(t, cs, agent.ToolAdd, map[string]any{"title": title, "description": "private-desc-19c2"}))
	toolError(t, callTool(t, cs, agent.ToolAdd, map[string]any{"title": title + strings.Repeat("!", agent.MaxTitleLen)}))
	h.mcpPost("", initializeBody)

	out := logs.String()
	for _, secret := range []string{token, title, "private-desc-19c2", strings.Split(token, ".")[2]} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
	var posts, unauthorized int
	for line := range strings.Lines(out) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "request" && rec["route"] == httpapi.MCPPath {
			posts++
			if rec["status"] == float64(http.StatusUnauthorized) {
				unauthorized++
			} else if rec["user_id"] == nil {
				t.Errorf("an authenticated MCP request is logged without its user: %s", line)
			}
		}
	}
	if posts < 3 || unauthorized != 1 {
		t.Errorf("access log has %d /mcp requests (%d unauthorized):\n%s", posts, unauthorized, out)
	}
	metrics := string(h.req("GET", "/metrics", "", nil).body)
	for _, series := range []string{
		`http_requests_total{method="POST",route="/mcp",status="200"}`,
		`http_requests_total{method="POST",route="/mcp",status="401"}`,
		`http_request_duration_seconds_count{method="POST",route="/mcp"}`,
	} {
		if !strings.Contains(metrics, series) {
			t.Errorf("metrics lack %s", series)
		}
	}
}

func TestMCPFromABrowserOnAnAllowedOrigin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	r := h.req("OPTIONS", httpapi.MCPPath, "", nil, "Origin", "https://app.example",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type,mcp-protocol-version")
	allowed := strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(allowed, "mcp-protocol-version") || !strings.Contains(allowed, "authorization") {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	token, _ := h.signup()
	if r := h.mcpPost(token, initializeBody, "Origin", "https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("another origin is allowed to read MCP answers")
	}
}
