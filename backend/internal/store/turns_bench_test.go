package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

// BenchmarkChatHistory reads what a turn of a long conversation reads first: the window of its
// last 60 messages (here 15 turns of "what's left?", each a message, a tool call, its result
// and the reply), and reports the server's allocations with it. bench/backend.sh's chat only
// starts conversations; this is the part it does not load.
//
//	scripts/with-postgres.sh go test ./internal/store -run XXX -bench ChatHistory
func BenchmarkChatHistory(b *testing.B) {
	ctx := context.Background()
	st := store.New(testdb.Pool(b))
	u, err := st.CreateUser(ctx, "history-"+testdb.Unique()+"@example.com", "x")
	if err != nil {
		b.Fatal(err)
	}
	result := `{"tasks":[{"number":1,"title":"buy milk","description":"2 litres","completed":false},` +
		`{"number":2,"title":"call mom","description":"","completed":false}]}`
	var conv int64
	for i := range 20 {
		turn := []store.Message{
			{Role: store.RoleUser, Content: fmt.Sprintf("what's left? (%d)", i)},
			{Role: store.RoleAssistant, ToolCalls: []store.ToolCall{{ID: fmt.Sprintf("offline_%d_1", i), Name: "list_tasks", Arguments: `{"status":"pending"}`}}},
			{Role: store.RoleTool, ToolCallID: fmt.Sprintf("offline_%d_1", i), Content: result},
			{Role: store.RoleAssistant, Content: "You have 2 open tasks:\n1. buy milk\n2. call mom"},
		}
		conv, _ = saveTurn(b, st, u.ID, conv, turn)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		msgs, err := st.Messages(ctx, u.ID, conv, 60)
		if err != nil || len(msgs) != 60 {
			b.Fatalf("%v, %d messages, want 60", err, len(msgs))
		}
	}
}
