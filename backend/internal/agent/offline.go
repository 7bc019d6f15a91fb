package agent

import (
	"context"
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
	// An id pairs a call with its result within the turn. Numbered on from the last message the
	// brain read, not from how many it read, ids also differ from turn to turn of a conversation.
	last := int64(0)
	if n := len(r.history); n > 0 {
		last = r.history[n-1].ID
	}
	id := fmt.Sprintf("offline_%d_%d", last, r.n)
	res, err := r.tools.Call(r.ctx, name, []byte(b))
	if err != nil {
		return Result{}, err
	}
	out := r.tools.Calls[len(r.tools.Calls)-1].Result
	r.msgs = append(r.msgs,
		store.Message{Role: store.RoleAssistant, ToolCalls: []store.ToolCall{{ID: id, Name: name, Arguments: b}}},
		store.Message{Role: store.RoleTool, ToolCallID: id, Content: string(out)})
	return res, nil
}

var rePendingAsk = regexp.MustCompile(`Which task should I (complete|delete|reopen)\b`)

// pendingAction returns the action the last assistant reply asked a task for, if any.
func pendingAction(history []store.Message) Kind {
	for i := len(history) - 1; i >= 0; i-- {
		m := history[i]
		if m.Role == store.RoleUser {
			return KindUnknown
		}
		if m.Role == store.RoleAssistant && m.Content != "" {
			if mm := rePendingAsk.FindStringSubmatch(m.Content); mm != nil {
				return map[string]Kind{"complete": KindComplete, "delete": KindDelete, "reopen": KindReopen}[mm[1]]
			}
			return KindUnknown
		}
	}
	return KindUnknown
}

// Plan implements Brain: the message is parsed once, before the conversation is read.
func (Offline) Plan(user string) Plan {
	return &offlinePlan{norm: Normalize(user), in: Parse(user)}
}

// offlinePlan is the offline brain's reading of one message.
type offlinePlan struct {
	norm string // the message, Normalized
	in   Intent // its Parse, on its own
}

// Turns implements Plan. The last turn holds any question this brain asked (a pending action
// or bulk delete); only "it" and "undo" look further back, to the last turn that touched a task.
func (p *offlinePlan) Turns() int {
	if p.in.Kind == KindUndo || p.in.Target.Pronoun {
		return 0
	}
	if p.in.Kind == KindUnknown || p.in.Kind == KindAsk {
		// It may answer the last turn's question, naming the task as "it" (Respond).
		if t, ok := targetOf(p.norm); ok && t.Pronoun {
			return 0
		}
	}
	return 1
}

// FirstRead implements Plan: a list request's first read is its list (unless the history
// turns it into the answer to a question, which Respond then acts on instead).
func (p *offlinePlan) FirstRead() (string, bool) {
	if p.in.Kind != KindList {
		return "", false
	}
	return listStatus(p.in.Status)
}

// Respond implements Plan.
func (p *offlinePlan) Respond(ctx context.Context, history []store.Message, tools *Tools) (string, []store.Message, error) {
	r := &offlineRun{ctx: ctx, tools: tools, history: history}
	if nums := pendingBulkDelete(history); nums != nil {
		// Only an explicit yes to the question just asked deletes; anything else cancels it.
		reply := ""
		var err error
		switch {
		case reYes.MatchString(p.norm):
			reply, err = r.deleteNumbers(nums)
		case reNo.MatchString(p.norm):
			reply = "OK, I didn't delete anything."
		}
		if err != nil {
			return "", nil, err
		}
		if reply != "" {
			r.msgs = append(r.msgs, store.Message{Role: store.RoleAssistant, Content: reply})
			return reply, r.msgs, nil
		}
	}
	in := p.in
	if in.Kind == KindUnknown || in.Kind == KindAsk {
		if k := pendingAction(history); k != KindUnknown {
			if t, ok := targetOf(p.norm); ok {
				in = Intent{Kind: k, Target: t}
			}
		}
	}
	reply, err := r.dispatch(in)
	if err != nil {
		return "", nil, err
	}
	r.msgs = append(r.msgs, store.Message{Role: store.RoleAssistant, Content: reply})
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
		s := fmt.Sprintf("Added task %d: %s", res.Task.Number, res.Task.Title)
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
	case KindUndo:
		return r.undo()
	case KindUnsure:
		return unsureReply(in), nil
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
		fmt.Fprintf(&b, "\n%s #%d %s", mark, t.Number, t.Title)
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
		// Only this conversation (as far as this client has seen it) can give "it" a meaning.
		switch nums := lastTaskNumbers(r.history); len(nums) {
		case 1:
			return nums, "", nil
		case 0:
		default:
			opts := make([]string, len(nums))
			for i, n := range nums {
				opts[i] = fmt.Sprintf("#%d", n)
			}
			return nil, fmt.Sprintf("Which task should I %s: %s?", verb, joinOr(opts)), nil
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
		if in.Kind == KindDelete && status != store.StatusCompleted {
			// Deleting unfinished work in bulk waits for a yes; clearing finished tasks does
			// not (it is the usual "clear completed", and "undo" brings them back).
			return nil, bulkDeleteQuestion(res.Tasks, status), nil
		}
		ids := make([]int64, len(res.Tasks))
		for i, task := range res.Tasks {
			ids[i] = task.Number
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
		return []int64{res.Tasks[n-1].Number}, "", nil
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
			opts[i] = fmt.Sprintf("#%d %q", task.Number, task.Title)
		}
		return nil, fmt.Sprintf("Which task should I %s: %s?", verb, joinOr(opts)), nil
	}
	return []int64{m.Tasks[0].Number}, "", nil
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
	deleted := 0
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
			if err == nil && res.Error != "" && strings.HasSuffix(res.Error, "not found") {
				// "bring it back", "restore task 3": a deleted task comes back.
				if rr, rErr := r.call(ToolRestore, IDArgs{TaskID: id}); rErr != nil || rr.Error == "" {
					res, err = rr, rErr
					if err == nil {
						lines = append(lines, fmt.Sprintf("Restored task %d: %s", rr.Task.Number, rr.Task.Title))
						continue
					}
				}
			}
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
			lines = append(lines, fmt.Sprintf("Marked task %d as done: %s", task.Number, task.Title))
		case KindDelete:
			lines = append(lines, fmt.Sprintf("Deleted task %d: %s", task.Number, task.Title))
			deleted++
		case KindReopen:
			lines = append(lines, fmt.Sprintf("Reopened task %d: %s", task.Number, task.Title))
		case KindUpdate:
			if in.NewTitle != nil {
				lines = append(lines, fmt.Sprintf("Updated task %d: renamed to %q", task.Number, task.Title))
			} else {
				lines = append(lines, fmt.Sprintf("Updated task %d (%s): description is now %q", task.Number, task.Title, task.Description))
			}
		}
	}
	switch {
	case deleted == 1:
		lines = append(lines, `Say "undo" to bring it back.`)
	case deleted > 1:
		lines = append(lines, `Say "undo" to bring them back.`)
	}
	return strings.Join(lines, "\n"), nil
}

// bulkDeleteQuestion asks before deleting several tasks at once, with the count and the tasks.
func bulkDeleteQuestion(tasks []store.Task, status string) string {
	kind := ""
	if status == store.StatusPending || status == store.StatusCompleted {
		kind = status + " "
	}
	names := make([]string, 0, len(tasks))
	for i, t := range tasks {
		if i == 10 {
			names = append(names, fmt.Sprintf("and %d more", len(tasks)-10))
			break
		}
		names = append(names, fmt.Sprintf("#%d %s", t.Number, t.Title))
	}
	if len(tasks) == 1 {
		return fmt.Sprintf(`Delete your only %stask (%s)? Say "yes" to delete it, or anything else to keep it.`, kind, names[0])
	}
	return fmt.Sprintf(`Delete all %d %stasks (%s)? Say "yes" to delete them, or anything else to keep them.`,
		len(tasks), kind, strings.Join(names, ", "))
}

// deleteNumbers carries out a confirmed bulk delete of exactly the tasks the question listed.
func (r *offlineRun) deleteNumbers(nums []int64) (string, error) {
	var lines []string
	n := 0
	for _, num := range nums {
		res, err := r.call(ToolDelete, IDArgs{TaskID: num})
		if err != nil {
			return "", err
		}
		if res.Error != "" {
			lines = append(lines, fmt.Sprintf("Task %d was already gone.", num))
			continue
		}
		n++
		lines = append(lines, fmt.Sprintf("Deleted task %d: %s", res.Task.Number, res.Task.Title))
	}
	head := fmt.Sprintf(`Deleted %s. Say "undo" to bring them back.`, plural(n, "task"))
	if n == 1 {
		head = `Deleted 1 task. Say "undo" to bring it back.`
	}
	return strings.Join(append([]string{head}, lines...), "\n"), nil
}

// undo reverses the conversation's last change: delete -> restore, complete <-> reopen,
// add -> remove, rename -> the old title.
func (r *offlineRun) undo() (string, error) {
	calls := lastChange(r.history)
	if len(calls) == 0 {
		return "There's nothing to undo in this conversation.", nil
	}
	var lines []string
	for i := len(calls) - 1; i >= 0; i-- {
		c := calls[i]
		name, args, ok := c.inverse()
		if !ok {
			continue
		}
		res, err := r.call(name, args)
		if err != nil {
			return "", err
		}
		before := c.result.Task
		if res.Error != "" {
			lines = append(lines, fmt.Sprintf("I couldn't undo the change to task %d: %s.", before.Number, res.Error))
			continue
		}
		t := res.Task
		switch c.name {
		case ToolAdd:
			lines = append(lines, fmt.Sprintf("Undone: removed task %d (%s).", t.Number, t.Title))
		case ToolRestore:
			lines = append(lines, fmt.Sprintf("Undone: deleted task %d (%s) again.", t.Number, t.Title))
		case ToolDelete:
			lines = append(lines, fmt.Sprintf("Undone: task %d (%s) is back.", t.Number, t.Title))
		default:
			p := c.result.Previous
			switch {
			case p.Title != before.Title:
				lines = append(lines, fmt.Sprintf("Undone: task %d is back to %q.", t.Number, t.Title))
			case p.Description != before.Description:
				lines = append(lines, fmt.Sprintf("Undone: task %d (%s) has its old description again.", t.Number, t.Title))
			case t.Completed:
				lines = append(lines, fmt.Sprintf("Undone: task %d (%s) is done again.", t.Number, t.Title))
			default:
				lines = append(lines, fmt.Sprintf("Undone: task %d (%s) is open again.", t.Number, t.Title))
			}
		}
	}
	if len(lines) == 0 {
		return "There's nothing to undo in this conversation.", nil
	}
	return strings.Join(lines, "\n"), nil
}
