// Package agent runs the chat agent: a Brain decides which tools to call, and the Tools are the
// only way it touches data.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/input"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// TaskStore is the part of the store the tools use.
type TaskStore interface {
	CreateTask(ctx context.Context, userID int64, title, description string) (store.Task, error)
	ListTasks(ctx context.Context, userID int64, status string) ([]store.Task, error)
	GetTask(ctx context.Context, userID, id int64) (store.Task, error)
	UpdateTask(ctx context.Context, userID, id int64, p store.TaskPatch) (store.Task, error)
	DeleteTask(ctx context.Context, userID, id int64) (store.Task, error)
	RestoreTask(ctx context.Context, userID, id int64) (store.Task, error)
	TaskIDByNumber(ctx context.Context, userID, number int64) (int64, error)
}

// Tool names.
const (
	ToolAdd      = "add_task"
	ToolList     = "list_tasks"
	ToolComplete = "complete_task"
	ToolDelete   = "delete_task"
	ToolUpdate   = "update_task"
	ToolRestore  = "restore_task"
)

// Limits on tool arguments, in characters (what the UI counts), not bytes.
const (
	MaxTitleLen       = 500
	MaxDescriptionLen = 5000
)

// ToolSpec describes one tool for an LLM (JSON Schema parameters).
type ToolSpec struct {
	Name        string
	Description string
	Parameters  map[string]any
}

// taskNumber is how every tool names a task: the user's own task number (#3), never the
// internal id.
var taskNumber = map[string]any{"type": "integer", "description": "The task's number as the user sees it (#3 is 3)"}

// Specs lists the tools.
var Specs = []ToolSpec{
	{ToolAdd, "Create a new task for the user.", map[string]any{
		"type": "object",
		"properties": map[string]any{
			"title":       map[string]any{"type": "string", "description": "Short title of the task"},
			"description": map[string]any{"type": "string", "description": "Optional longer description"},
		},
		"required": []string{"title"},
	}},
	{ToolList, "List the user's tasks.", map[string]any{
		"type": "object",
		"properties": map[string]any{
			"status": map[string]any{"type": "string", "enum": []string{"all", "pending", "completed"}},
		},
	}},
	{ToolComplete, "Mark a task as completed.", map[string]any{
		"type":       "object",
		"properties": map[string]any{"task_id": taskNumber},
		"required":   []string{"task_id"},
	}},
	{ToolDelete, "Delete a task (it can be restored with restore_task). Before deleting several tasks at once, ask the user to confirm with the count.", map[string]any{
		"type":       "object",
		"properties": map[string]any{"task_id": taskNumber},
		"required":   []string{"task_id"},
	}},
	{ToolUpdate, "Change a task's title or description, or reopen it with completed=false.", map[string]any{
		"type": "object",
		"properties": map[string]any{
			"task_id":     taskNumber,
			"title":       map[string]any{"type": "string"},
			"description": map[string]any{"type": "string"},
			"completed":   map[string]any{"type": "boolean", "description": "false reopens a completed task"},
		},
		"required": []string{"task_id"},
	}},
	{ToolRestore, "Restore a deleted task (undo a delete).", map[string]any{
		"type":       "object",
		"properties": map[string]any{"task_id": taskNumber},
		"required":   []string{"task_id"},
	}},
}

// CallRecord is one executed tool call as the API reports it.
type CallRecord struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Result    json.RawMessage `json:"result"`
}

// Tools executes tool calls for one user and records them.
type Tools struct {
	Store  TaskStore
	UserID int64
	Calls  []CallRecord
}

// AddArgs etc. are the tools' arguments.
type AddArgs struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// ListArgs are list_tasks' arguments.
type ListArgs struct {
	Status string `json:"status,omitempty"`
}

// IDArgs are complete_task's, delete_task's and restore_task's arguments. TaskID is the user's
// task number.
type IDArgs struct {
	TaskID int64 `json:"task_id"`
}

// UpdateArgs are update_task's arguments.
type UpdateArgs struct {
	TaskID      int64   `json:"task_id"`
	Title       *string `json:"title,omitempty"`
	Description *string `json:"description,omitempty"`
	Completed   *bool   `json:"completed,omitempty"`
}

// Result is a tool's outcome: Task, Tasks or Error. Previous is the task as it was before
// complete_task or update_task changed it, so the change can be undone.
type Result struct {
	Task     *store.Task  `json:"task,omitempty"`
	Tasks    []store.Task `json:"tasks,omitempty"`
	Previous *store.Task  `json:"previous,omitempty"`
	Error    string       `json:"error,omitempty"`
}

// taskView is a task as tools report it: by its number, without the internal id, so neither a
// model nor a person ever sees two numbers for one task.
type taskView struct {
	Number      int64     `json:"number"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Completed   bool      `json:"completed"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func viewOf(t *store.Task) *taskView {
	if t == nil {
		return nil
	}
	return &taskView{t.Number, t.Title, t.Description, t.Completed, t.CreatedAt, t.UpdatedAt}
}

func (v *taskView) task() *store.Task {
	if v == nil {
		return nil
	}
	return &store.Task{Number: v.Number, Title: v.Title, Description: v.Description,
		Completed: v.Completed, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
}

type resultJSON struct {
	Task     *taskView  `json:"task,omitempty"`
	Tasks    []taskView `json:"tasks,omitempty"`
	Previous *taskView  `json:"previous,omitempty"`
	Error    string     `json:"error,omitempty"`
}

// MarshalJSON writes tasks by number (taskView).
func (r Result) MarshalJSON() ([]byte, error) {
	out := resultJSON{Task: viewOf(r.Task), Previous: viewOf(r.Previous), Error: r.Error}
	if r.Tasks != nil {
		out.Tasks = make([]taskView, len(r.Tasks))
		for i := range r.Tasks {
			out.Tasks[i] = *viewOf(&r.Tasks[i])
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote (stored tool results). Tasks come back with their
// number and a zero id.
func (r *Result) UnmarshalJSON(b []byte) error {
	var in resultJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = Result{Task: in.Task.task(), Previous: in.Previous.task(), Error: in.Error}
	if in.Tasks != nil {
		r.Tasks = make([]store.Task, len(in.Tasks))
		for i := range in.Tasks {
			r.Tasks[i] = *in.Tasks[i].task()
		}
	}
	return nil
}

// errUser is an error the model (or user) may see.
type errUser struct{ msg string }

func (e errUser) Error() string { return e.msg }

// Call runs the named tool with JSON arguments. Failures the caller can act on (unknown task,
// bad arguments) come back as a Result with Error set; only infrastructure errors are returned.
func (t *Tools) Call(ctx context.Context, name string, args []byte) (Result, error) {
	res, err := t.call(ctx, name, args)
	var ue errUser
	if errors.As(err, &ue) {
		res, err = Result{Error: ue.msg}, nil
	}
	if err != nil {
		return Result{}, err
	}
	if res.Tasks == nil && res.Task == nil && res.Error == "" {
		res.Tasks = []store.Task{}
	}
	// Result marshals itself; through json.Marshal its output would be scanned and copied again.
	out, mErr := res.MarshalJSON()
	if mErr != nil {
		return Result{}, mErr
	}
	canon := json.RawMessage(args)
	if !json.Valid(canon) {
		canon, _ = json.Marshal(string(args))
	}
	t.Calls = append(t.Calls, CallRecord{Name: name, Arguments: canon, Result: out})
	return res, nil
}

func decodeArgs(args []byte, v any) error {
	if len(strings.TrimSpace(string(args))) == 0 {
		args = []byte("{}")
	}
	if err := json.Unmarshal(args, v); err != nil {
		return errUser{"invalid arguments: " + err.Error()}
	}
	return nil
}

func (t *Tools) call(ctx context.Context, name string, args []byte) (Result, error) {
	switch name {
	case ToolAdd:
		var a AddArgs
		if err := decodeArgs(args, &a); err != nil {
			return Result{}, err
		}
		a.Title = strings.TrimSpace(a.Title)
		a.Description = strings.TrimSpace(a.Description)
		if a.Title == "" {
			return Result{}, errUser{"title is required"}
		}
		if utf8.RuneCountInString(a.Title) > MaxTitleLen || utf8.RuneCountInString(a.Description) > MaxDescriptionLen {
			return Result{}, errUser{"title or description too long"}
		}
		if err := checkText(a.Title, a.Description); err != nil {
			return Result{}, err
		}
		task, err := t.Store.CreateTask(ctx, t.UserID, a.Title, a.Description)
		return Result{Task: &task}, err
	case ToolList:
		var a ListArgs
		if err := decodeArgs(args, &a); err != nil {
			return Result{}, err
		}
		status, ok := listStatus(a.Status)
		if !ok {
			return Result{}, errUser{"status must be all, pending or completed"}
		}
		tasks, err := t.Store.ListTasks(ctx, t.UserID, status)
		return Result{Tasks: tasks}, err
	case ToolComplete, ToolDelete, ToolRestore:
		var a IDArgs
		if err := decodeArgs(args, &a); err != nil {
			return Result{}, err
		}
		id, err := t.idOf(ctx, a.TaskID)
		if err != nil {
			return Result{}, err
		}
		switch name {
		case ToolComplete:
			done := true
			return t.update(ctx, a.TaskID, id, store.TaskPatch{Completed: &done})
		case ToolDelete:
			task, err := t.Store.DeleteTask(ctx, t.UserID, id)
			if errors.Is(err, store.ErrNotFound) {
				return Result{}, notFoundErr(a.TaskID)
			}
			return Result{Task: &task}, err
		default:
			task, err := t.Store.RestoreTask(ctx, t.UserID, id)
			if errors.Is(err, store.ErrNotFound) {
				return Result{}, errUser{fmt.Sprintf("task %d is not deleted", a.TaskID)}
			}
			return Result{Task: &task}, err
		}
	case ToolUpdate:
		var a UpdateArgs
		if err := decodeArgs(args, &a); err != nil {
			return Result{}, err
		}
		if a.Title != nil {
			s := strings.TrimSpace(*a.Title)
			if s == "" || utf8.RuneCountInString(s) > MaxTitleLen {
				return Result{}, errUser{"title must be 1 to 500 characters"}
			}
			a.Title = &s
		}
		if a.Description != nil {
			s := strings.TrimSpace(*a.Description)
			if utf8.RuneCountInString(s) > MaxDescriptionLen {
				return Result{}, errUser{"description too long"}
			}
			a.Description = &s
		}
		if a.Title != nil {
			if err := checkText(*a.Title, ""); err != nil {
				return Result{}, err
			}
		}
		if a.Description != nil {
			if err := checkText("", *a.Description); err != nil {
				return Result{}, err
			}
		}
		if a.Title == nil && a.Description == nil && a.Completed == nil {
			return Result{}, errUser{"nothing to update: give title, description or completed"}
		}
		id, err := t.idOf(ctx, a.TaskID)
		if err != nil {
			return Result{}, err
		}
		return t.update(ctx, a.TaskID, id, store.TaskPatch{Title: a.Title, Description: a.Description, Completed: a.Completed})
	default:
		return Result{}, errUser{"unknown tool " + name}
	}
}

// checkText applies the API's text rules to what a model asks to store.
func checkText(title, description string) error {
	if p := input.Problem(title, false); p != "" {
		return errUser{"title " + p}
	}
	if p := input.Problem(description, true); p != "" {
		return errUser{"description " + p}
	}
	return nil
}

func notFoundErr(number int64) error { return errUser{fmt.Sprintf("task %d not found", number)} }

// idOf maps the user's task number to the task's internal id.
func (t *Tools) idOf(ctx context.Context, number int64) (int64, error) {
	if number <= 0 {
		return 0, notFoundErr(number)
	}
	id, err := t.Store.TaskIDByNumber(ctx, t.UserID, number)
	if errors.Is(err, store.ErrNotFound) {
		// A number this user never had may be a task's API id (from a URL or an API client
		// that read "id"): accept it when it is one of the user's own live tasks.
		if task, gErr := t.Store.GetTask(ctx, t.UserID, number); gErr == nil {
			return task.ID, nil
		}
		return 0, notFoundErr(number)
	}
	return id, err
}

// update applies p and reports the task before and after, so the change can be undone.
func (t *Tools) update(ctx context.Context, number, id int64, p store.TaskPatch) (Result, error) {
	prev, err := t.Store.GetTask(ctx, t.UserID, id)
	if err == nil {
		var task store.Task
		task, err = t.Store.UpdateTask(ctx, t.UserID, id, p)
		if err == nil {
			return Result{Task: &task, Previous: &prev}, nil
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, notFoundErr(number)
	}
	return Result{}, err
}

// Brain answers a person's messages in a conversation. It reads each message before the
// conversation is loaded (Plan), so that the turn loads only what the answer needs.
type Brain interface {
	Plan(user string) Plan
}

// listStatus is the store's status for a list_tasks call's (none: all), ok false if unknown.
func listStatus(s string) (string, bool) {
	switch s {
	case "":
		return store.StatusAll, true
	case store.StatusAll, store.StatusPending, store.StatusCompleted:
		return s, true
	}
	return "", false
}

// Plan is a brain's answer to one message, before it has read the conversation.
type Plan interface {
	// Turns is how many of the conversation's last turns Respond needs (0: all the window
	// holds). A chat turn reads only those: the history is its largest read.
	Turns() int
	// FirstRead is the status of the task list Respond reads first, when the plan knows it
	// before the history (ok false otherwise): the turn sends that read with the history's, in
	// one round trip. A wrong guess costs only the read: Respond's own reads decide.
	FirstRead() (status string, ok bool)
	// Respond decides, from the stored history, which tools to call and what to answer. It
	// returns the messages of this turn after the user's (assistant tool-call messages, tool
	// results and the final assistant reply) so they can be stored.
	Respond(ctx context.Context, history []store.Message, tools *Tools) (reply string, turn []store.Message, err error)
}

// mustJSON marshals v, which cannot fail for the argument structs used here.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
