package agent

import (
	"context"
	"fmt"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// firstCallStore records the first store call a turn makes, and answers every list with one
// pending task.
type firstCallStore struct {
	recordingStore
	first string
}

func (s *firstCallStore) note(call string) {
	if s.first == "" {
		s.first = call
	}
}

func (s *firstCallStore) ListTasks(_ context.Context, _ int64, status string) ([]store.Task, error) {
	s.note("list " + status)
	return []store.Task{{ID: 1, Number: 1, Title: "buy milk"}}, nil
}
func (s *firstCallStore) CreateTask(ctx context.Context, u int64, title, d string) (store.Task, error) {
	s.note("create")
	return s.recordingStore.CreateTask(ctx, u, title, d)
}
func (s *firstCallStore) GetTask(ctx context.Context, u, id int64) (store.Task, error) {
	s.note("get")
	return s.recordingStore.GetTask(ctx, u, id)
}
func (s *firstCallStore) UpdateTask(ctx context.Context, u, id int64, p store.TaskPatch) (store.Task, error) {
	s.note("update")
	return s.recordingStore.UpdateTask(ctx, u, id, p)
}
func (s *firstCallStore) DeleteTask(ctx context.Context, u, id int64) (store.Task, error) {
	s.note("delete")
	return s.recordingStore.DeleteTask(ctx, u, id)
}
func (s *firstCallStore) RestoreTask(ctx context.Context, u, id int64) (store.Task, error) {
	s.note("restore")
	return s.recordingStore.RestoreTask(ctx, u, id)
}
func (s *firstCallStore) TaskIDByNumber(ctx context.Context, u, n int64) (int64, error) {
	s.note("number")
	return s.recordingStore.TaskIDByNumber(ctx, u, n)
}

// The list a plan says it reads first (which a chat turn sends with its history) is the read
// its answer makes first, for every message of the judged conversation sets; and the usual
// list requests say so.
func TestTheFirstReadIsTheListTheAnswerReads(t *testing.T) {
	said := 0
	for _, msg := range phrases(t) {
		plan := Offline{}.Plan(msg)
		status, ok := plan.FirstRead()
		if !ok {
			continue
		}
		said++
		st := &firstCallStore{}
		if _, _, err := plan.Respond(context.Background(), nil, &Tools{Store: st, UserID: 1}); err != nil {
			t.Fatalf("%q: %v", msg, err)
		}
		if want := fmt.Sprint("list ", status); st.first != want {
			t.Errorf("%q: the plan reads %q first, its answer made %q", msg, want, st.first)
		}
	}
	if said == 0 {
		t.Fatal("no message of the sets has a first read")
	}
	t.Logf("%d of %d messages name their first read", said, len(phrases(t)))
	for msg, want := range map[string]string{
		"what's left?":          store.StatusPending,
		"show me all my tasks":  store.StatusAll,
		"what have I finished?": store.StatusCompleted,
	} {
		if got, ok := (Offline{}).Plan(msg).FirstRead(); !ok || got != want {
			t.Errorf("%q: first read %q, %v; want %q", msg, got, ok, want)
		}
	}
	if _, ok := (Offline{}).Plan("add buy milk").FirstRead(); ok {
		t.Error(`"add buy milk" names a first read; it reads nothing before adding`)
	}
}
