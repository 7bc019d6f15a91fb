package agent

import (
	"context"
	"testing"
	"time"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// listStore answers as a list of three tasks does: every read sees them, writes change nothing.
type listStore struct{ recordingStore }

var benchTasks = func() []store.Task {
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	return []store.Task{
		{ID: 11, Number: 1, Title: "buy milk", Description: "2 litres", CreatedAt: at, UpdatedAt: at},
		{ID: 12, Number: 2, Title: "walk the dog", CreatedAt: at, UpdatedAt: at},
		{ID: 13, Number: 3, Title: "call mom", Completed: true, CreatedAt: at, UpdatedAt: at},
	}
}()

func (listStore) ListTasks(context.Context, int64, string) ([]store.Task, error) {
	return append([]store.Task(nil), benchTasks...), nil
}
func (listStore) GetTask(_ context.Context, _, id int64) (store.Task, error) {
	return benchTasks[(id-1)%3], nil
}

// BenchmarkRespond is the offline brain's own CPU per chat turn (parsing, tools, the JSON of their
// results), without PostgreSQL: every conversation-set message in turn, as a first message.
func BenchmarkRespond(b *testing.B) {
	ctx := context.Background()
	eachPhrase(b, func(s string) {
		tools := &Tools{Store: &listStore{}, UserID: 1}
		if _, _, err := (Offline{}).Plan(s).Respond(ctx, nil, tools); err != nil {
			b.Fatal(err)
		}
	})
}
