package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// Offline is the deterministic brain: Parse plus tool calls, no network.
type Offline struct{}

// HelpText lists what the offline brain understands.
const HelpText = `I can manage your tasks. Try:
• "add buy milk" or "remind me to call mom"
• "what's left?", "show completed tasks", "show all my tasks"
• "mark task 3 as done", "done with the milk one"
• "reopen task 3"
• "rename task 1 to pay rent", "change task 2 description to before Friday"
• "delete task 4", "remove the dog task", "delete all completed tasks"`

type offlineRun struct {
	ctx     context.Context
	tools   *Tools
	history []store.Message
	msgs    []store.Message
	n       int
}

func (r *offlineRun) call(name string, args any) (Result, error) {
	b := mustJSON(args)
	r.n++
	id := fmt.Sprintf("offline_%d_%d", len(r.history), r.n)
	res, err := r.tools.Call(r.ctx, name, []byte(b))
	if err != nil {
		return Result{}, err
	}
	out := r.tools.Calls[len(r.tools.Calls)-1].Result
	r.msgs = append(r.msgs,
		store.Message{Role: "assistant", ToolCalls: []store.ToolCall{{ID: id, Name: name, Arguments: b}}},
		store.Message{Role: "tool", ToolCallID: id, Content: string(out)})
	return res, nil
}

var rePendingAsk = regexp.MustCompile(`Which task should I (complete|delete|reopen)\b`)

// pendingAction returns the action the last assistant reply asked a task for, if any.
func pendingAction(history []store.Message) Kind {
	for i := len(history) - 1; i >= 0; i-- {
		m := history[i]
		if m.Role == "user" {
			return KindUnknown
		}
		if m.Role == "assistant" && m.Content != "" {
			if mm := rePendingAsk.FindStringSubmatch(m.Content); mm != nil {
				return map[string]Kind{"complete": KindComplete, "delete": KindDelete, "reopen": KindReopen}[mm[1]]
			}
			return KindUnknown
		}
	}
	return KindUnknown
}

// lastTaskID is the task most recently touched in the conversation ("it", "that one").
func lastTaskID(history []store.Message) int64 {
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Role != "tool" {
			continue
		}
		var res Result
		if json.Unmarshal([]byte(history[i].Content), &res) == nil && res.Task != nil {
			return res.Task.ID
		}
	}
	return 0
}

// Respond implements Brain.
func (Offline) Respond(ctx context.Context, history []store.Message, user string, tools *Tools) (string, []store.Message, error) {
	r := &offlineRun{ctx: ctx, tools: tools, history: history}
	in := Parse(user)
	if in.Kind == KindUnknown || in.Kind == KindAsk {
		if k := pendingAction(history); k != KindUnknown {
			if t, ok := targetOf(Normalize(user)); ok {
				in = Intent{Kind: k, Target: t}
			}
		}
	}
	reply, err := r.dispatch(in)
	if err != nil {
		return "", nil, err
	}
	r.msgs = append(r.msgs, store.Message{Role: "assistant", Content: reply})
	return reply, r.msgs, nil
}

func (r *offlineRun) dispatch(in Intent) (string, error) {
	switch in.Kind {
	case KindGreet:
		return "Hi! " + HelpText, nil
	case KindHelp:
		return HelpText, nil
	case KindThanks:
		return "You're welcome! Anything else I can do for your list?", nil
	case KindAsk:
		switch in.AskFor {
		case KindAdd:
			return `What should I add? For example: "add buy milk".`, nil
		case KindUpdate:
			return `Which task should I change, and to what? For example: "rename task 3 to pay rent".`, nil
		default:
			return fmt.Sprintf("Which task should I %s? Tell me its number or a word from its title.", verbOf(in.AskFor)), nil
		}
	case KindAdd:
		res, err := r.call(ToolAdd, AddArgs{Title: in.Title, Description: in.Description})
		if err != nil {
			return "", err
		}
		if res.Error != "" {
			return "I couldn't add that: " + res.Error + ".", nil
		}
		s := fmt.Sprintf("Added task %d: %s", res.Task.ID, res.Task.Title)
		if res.Task.Description != "" {
			s += fmt.Sprintf(" (description: %s)", res.Task.Description)
		}
		return s, nil
	case KindList:
		res, err := r.call(ToolList, ListArgs{Status: in.Status})
		if err != nil {
			return "", err
		}
		return formatList(res.Tasks, in.Status), nil
	case KindComplete, KindReopen, KindDelete, KindUpdate:
		return r.act(in)
	}
	return "Sorry, I didn't understand that. " + HelpText, nil
}

func verbOf(k Kind) string {
	switch k {
	case KindComplete:
		return "complete"
	case KindReopen:
		return "reopen"
	case KindDelete:
		return "delete"
	case KindUpdate:
		return "update"
	}
	return "use"
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func formatList(tasks []store.Task, status string) string {
	if len(tasks) == 0 {
		switch status {
		case store.StatusPending:
			return "You have no pending tasks — all caught up!"
		case store.StatusCompleted:
			return "You haven't completed any tasks yet."
		}
		return `Your list is empty. Try "add buy milk".`
	}
	var b strings.Builder
	switch status {
	case store.StatusPending:
		fmt.Fprintf(&b, "You have %s left:", plural(len(tasks), "pending task"))
	case store.StatusCompleted:
		fmt.Fprintf(&b, "You have completed %s:", plural(len(tasks), "task"))
	default:
		done := 0
		for _, t := range tasks {
			if t.Completed {
				done++
			}
		}
		fmt.Fprintf(&b, "You have %s (%d pending, %d done):", plural(len(tasks), "task"), len(tasks)-done, done)
	}
	for _, t := range tasks {
		mark := "[ ]"
		if t.Completed {
			mark = "[x]"
		}
		fmt.Fprintf(&b, "\n%s #%d %s", mark, t.ID, t.Title)
		if t.Description != "" {
			fmt.Fprintf(&b, " — %s", t.Description)
		}
	}
	return b.String()
}

// resolve turns a Target into task ids, or returns a reply asking/explaining instead.
func (r *offlineRun) resolve(in Intent) ([]int64, string, error) {
	t := in.Target
	verb := verbOf(in.Kind)
	prefer := ""
	switch in.Kind {
	case KindComplete:
		prefer = store.StatusPending
	case KindReopen:
		prefer = store.StatusCompleted
	}
	switch {
	case len(t.IDs) > 0:
		return t.IDs, "", nil
	case t.Pronoun:
		if id := lastTaskID(r.history); id != 0 {
			return []int64{id}, "", nil
		}
		return nil, fmt.Sprintf("Which task should I %s? Tell me its number or a word from its title.", verb), nil
	case t.All:
		if in.Kind == KindUpdate {
			return nil, "I can only change one task at a time — which one?", nil
		}
		status := t.Status
		if status == "" || status == store.StatusAll {
			if prefer != "" {
				status = prefer
			} else {
				status = store.StatusAll
			}
		}
		res, err := r.call(ToolList, ListArgs{Status: status})
		if err != nil {
			return nil, "", err
		}
		if len(res.Tasks) == 0 {
			switch status {
			case store.StatusPending:
				return nil, "There are no pending tasks to " + verb + ".", nil
			case store.StatusCompleted:
				return nil, "There are no completed tasks to " + verb + ".", nil
			}
			return nil, "Your list is already empty.", nil
		}
		ids := make([]int64, len(res.Tasks))
		for i, task := range res.Tasks {
			ids[i] = task.ID
		}
		return ids, "", nil
	}
	status := store.StatusAll
	if t.Ordinal != 0 && prefer != "" {
		status = prefer
	}
	res, err := r.call(ToolList, ListArgs{Status: status})
	if err != nil {
		return nil, "", err
	}
	if t.Ordinal != 0 {
		n := t.Ordinal
		if n < 0 {
			n = len(res.Tasks)
		}
		if n < 1 || n > len(res.Tasks) {
			return nil, fmt.Sprintf("You don't have that many tasks. Which task should I %s?", verb), nil
		}
		return []int64{res.Tasks[n-1].ID}, "", nil
	}
	m := MatchTitle(t.Text, res.Tasks, prefer, t.Verb)
	switch {
	case len(m.Tasks) == 0:
		if t.Verb != "" {
			return nil, "Sorry, I didn't understand that. " + HelpText, nil
		}
		return nil, fmt.Sprintf("I couldn't find a task matching %q. Say \"show my tasks\" to see them.", t.Text), nil
	case m.Ambiguous:
		opts := make([]string, len(m.Tasks))
		for i, task := range m.Tasks {
			opts[i] = fmt.Sprintf("#%d %q", task.ID, task.Title)
		}
		return nil, fmt.Sprintf("Which task should I %s: %s?", verb, joinOr(opts)), nil
	}
	return []int64{m.Tasks[0].ID}, "", nil
}

func joinOr(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

func (r *offlineRun) act(in Intent) (string, error) {
	ids, reply, err := r.resolve(in)
	if err != nil || reply != "" {
		return reply, err
	}
	var lines []string
	for _, id := range ids {
		var res Result
		var err error
		switch in.Kind {
		case KindComplete:
			res, err = r.call(ToolComplete, IDArgs{TaskID: id})
		case KindDelete:
			res, err = r.call(ToolDelete, IDArgs{TaskID: id})
		case KindReopen:
			no := false
			res, err = r.call(ToolUpdate, UpdateArgs{TaskID: id, Completed: &no})
		case KindUpdate:
			res, err = r.call(ToolUpdate, UpdateArgs{TaskID: id, Title: in.NewTitle, Description: in.NewDesc})
		}
		if err != nil {
			return "", err
		}
		if res.Error != "" {
			if strings.HasSuffix(res.Error, "not found") {
				lines = append(lines, fmt.Sprintf("I couldn't find task %d.", id))
			} else {
				lines = append(lines, fmt.Sprintf("I couldn't change task %d: %s.", id, res.Error))
			}
			continue
		}
		task := res.Task
		switch in.Kind {
		case KindComplete:
			lines = append(lines, fmt.Sprintf("Marked task %d as done: %s", task.ID, task.Title))
		case KindDelete:
			lines = append(lines, fmt.Sprintf("Deleted task %d: %s", task.ID, task.Title))
		case KindReopen:
			lines = append(lines, fmt.Sprintf("Reopened task %d: %s", task.ID, task.Title))
		case KindUpdate:
			if in.NewTitle != nil {
				lines = append(lines, fmt.Sprintf("Updated task %d: renamed to %q", task.ID, task.Title))
			} else {
				lines = append(lines, fmt.Sprintf("Updated task %d (%s): description is now %q", task.ID, task.Title, task.Description))
			}
		}
	}
	return strings.Join(lines, "\n"), nil
}
