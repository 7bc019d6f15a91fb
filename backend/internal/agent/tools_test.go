package agent

import (
	"context"
	"strings"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// recordingStore counts the writes tools make.
type recordingStore struct{ writes int }

func (s *recordingStore) CreateTask(context.Context, int64, string, string) (store.Task, error) {
	s.writes++
	return store.Task{ID: 1}, nil
}
func (s *recordingStore) ListTasks(context.Context, int64, string) ([]store.Task, error) {
	return nil, nil
}
func (s *recordingStore) UpdateTask(context.Context, int64, int64, store.TaskPatch) (store.Task, error) {
	s.writes++
	return store.Task{ID: 1}, nil
}
func (s *recordingStore) DeleteTask(context.Context, int64, int64) (store.Task, error) {
	return store.Task{}, nil
}
func (s *recordingStore) GetTask(context.Context, int64, int64) (store.Task, error) {
	return store.Task{ID: 1, Number: 1}, nil
}
func (s *recordingStore) RestoreTask(context.Context, int64, int64) (store.Task, error) {
	s.writes++
	return store.Task{ID: 1, Number: 1}, nil
}
func (s *recordingStore) TaskIDByNumber(_ context.Context, _, number int64) (int64, error) {
	return number, nil
}

// A model asking to store a NUL or another control character gets an error result the model can
// read, and nothing is written (PostgreSQL would refuse the NUL with an error mid-turn).
func TestToolsRejectControlCharacters(t *testing.T) {
	st := &recordingStore{}
	tools := &Tools{Store: st, UserID: 1}
	for _, c := range []struct{ name, args, want string }{
		{ToolAdd, `{"title":"buy\u0000milk"}`, "title must not contain control characters"},
		{ToolAdd, `{"title":"buy milk","description":"a\u001bb"}`, "description must not contain control characters"},
		{ToolUpdate, `{"task_id":1,"title":"x\u0007"}`, "title must not contain control characters"},
		{ToolUpdate, `{"task_id":1,"description":"\u0000"}`, "description must not contain control characters"},
	} {
		res, err := tools.Call(context.Background(), c.name, []byte(c.args))
		if err != nil || !strings.Contains(res.Error, c.want) {
			t.Errorf("%s %s: %+v %v, want %q", c.name, c.args, res, err, c.want)
		}
	}
	if st.writes != 0 {
		t.Fatalf("%d writes of rejected text", st.writes)
	}
	// Multi-line descriptions are fine.
	if res, err := tools.Call(context.Background(), ToolAdd, []byte(`{"title":"list","description":"eggs\nmilk\ttwo"}`)); err != nil || res.Error != "" || st.writes != 1 {
		t.Fatalf("multi-line description: %+v %v", res, err)
	}
}
