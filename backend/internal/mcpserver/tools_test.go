package mcpserver_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/mcpserver"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// fakeStore counts its calls and fails each with err (nil: succeeds with nothing).
type fakeStore struct {
	err   error
	calls int
}

// errDB is what a query may fail with: its text must never reach a client.
var errDB = errors.New(`pq: relation "tasks" does not exist at SELECT id, title FROM tasks`)

func (f *fakeStore) CreateTask(context.Context, int64, string, string) (store.Task, error) {
	f.calls++
	return store.Task{}, f.err
}
func (f *fakeStore) ListTasks(context.Context, int64, string) ([]store.Task, error) {
	f.calls++
	return nil, f.err
}
func (f *fakeStore) UpdateTask(context.Context, int64, int64, store.TaskPatch) (store.Task, error) {
	f.calls++
	return store.Task{}, f.err
}
func (f *fakeStore) DeleteTask(context.Context, int64, int64) (store.Task, error) {
	f.calls++
	return store.Task{}, f.err
}
func (f *fakeStore) GetTask(context.Context, int64, int64) (store.Task, error) {
	f.calls++
	return store.Task{}, f.err
}
func (f *fakeStore) RestoreTask(context.Context, int64, int64) (store.Task, error) {
	f.calls++
	return store.Task{}, f.err
}
func (f *fakeStore) TaskIDByNumber(_ context.Context, _, number int64) (int64, error) {
	f.calls++
	return number, f.err
}

// connect serves srv over in-memory transports and returns a connected client session.
func connect(t *testing.T, srv *mcp.Server) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func TestDatabaseFailureIsAnInternalErrorThatNamesNothing(t *testing.T) {
	var logs bytes.Buffer
	srv := mcpserver.NewServer(mcpserver.Deps{
		Tasks:     &fakeStore{err: errDB},
		Log:       slog.New(slog.NewJSONHandler(&logs, nil)),
		UserID:    func(context.Context) int64 { return 7 },
		RequestID: func(context.Context) string { return "req-42" },
	})
	cs := connect(t, srv)
	for _, call := range []mcp.CallToolParams{
		{Name: agent.ToolAdd, Arguments: map[string]any{"title": "secret errand"}},
		{Name: agent.ToolList, Arguments: map[string]any{}},
		{Name: agent.ToolComplete, Arguments: map[string]any{"task_id": 3}},
		{Name: agent.ToolDelete, Arguments: map[string]any{"task_id": 3}},
		{Name: agent.ToolUpdate, Arguments: map[string]any{"task_id": 3, "title": "x"}},
	} {
		res, err := cs.CallTool(context.Background(), &call)
		var werr *jsonrpc.Error
		if !errors.As(err, &werr) || werr.Code != jsonrpc.CodeInternalError || werr.Message != "internal error" {
			t.Errorf("%s: result %+v, error %v; want a JSON-RPC internal error", call.Name, res, err)
		}
	}
	out := logs.String()
	if strings.Count(out, `"msg":"mcp tool call failed"`) != 5 || !strings.Contains(out, `"request_id":"req-42"`) ||
		!strings.Contains(out, `relation \"tasks\" does not exist`) {
		t.Errorf("failures not logged with their request and cause:\n%s", out)
	}
	if strings.Contains(out, "secret errand") {
		t.Error("the log holds task text")
	}
}

func TestNoUserNoAction(t *testing.T) {
	fake := &fakeStore{}
	srv := mcpserver.NewServer(mcpserver.Deps{
		Tasks:  fake,
		Log:    slog.New(slog.DiscardHandler),
		UserID: func(context.Context) int64 { return 0 },
	})
	cs := connect(t, srv)
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: agent.ToolList, Arguments: map[string]any{}})
	if err == nil || fake.calls != 0 {
		t.Fatalf("without a user: error %v, store calls %d", err, fake.calls)
	}
}
