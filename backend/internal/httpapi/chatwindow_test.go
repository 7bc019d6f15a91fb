package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/agent"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// wholeWindow is the offline brain reading every turn the window holds.
type wholeWindow struct{ agent.Offline }

func (b wholeWindow) Plan(user string) agent.Plan { return wholePlan{b.Offline.Plan(user)} }

type wholePlan struct{ agent.Plan }

func (wholePlan) Turns() int { return 0 }

// The offline brain reads only the turns it says it needs. In conversations that lean on
// earlier turns ("it", "undo", answers to its own questions, a bulk delete's yes) it answers,
// calls its tools and stores the conversation exactly as it does reading the whole window.
func TestOfflineAnswersFromItsTurnsAsFromTheWholeWindow(t *testing.T) {
	t.Parallel()
	short := newHarness(t, nil, agent.Offline{})
	whole := newHarness(t, nil, wholeWindow{})
	for _, script := range [][]string{
		// "it" and "undo" two turns back, past a turn that changed nothing.
		{"add buy milk", "what's left?", "mark it as done", "what's left?", "undo", "what's left?"},
		// A question, answered with "it": the task is the one added before the question.
		{"add walk the dog", "add call mom", "complete", "it", "reopen that one", "thanks", "undo"},
		// A bulk delete asked, confirmed, then undone past another turn.
		{"add a", "add b", "add c", "delete all tasks", "yes", "hello", "undo", "show my tasks"},
		// A bulk delete asked and declined; "it" then still means the last task touched.
		{"add pay rent", "delete everything", "no", "delete it", "undo"},
		// Nothing to refer to yet.
		{"mark it done", "undo", "yes"},
	} {
		a, _ := short.signup()
		b, _ := whole.signup()
		var ca, cb int64
		for _, msg := range script {
			ra, rb := short.chat(a, msg, ca), whole.chat(b, msg, cb)
			ca, cb = ra.ConversationID, rb.ConversationID
			if ra.Reply != rb.Reply || ra.MessageID != rb.MessageID || !slices.Equal(calls(ra.ToolCalls), calls(rb.ToolCalls)) {
				t.Errorf("%q after %q:\nfrom its turns:   %q %v\nfrom the window:  %q %v",
					msg, script, ra.Reply, calls(ra.ToolCalls), rb.Reply, calls(rb.ToolCalls))
			}
		}
		sa, sb := stored(t, short, a, ca), stored(t, whole, b, cb)
		if !slices.Equal(sa, sb) {
			t.Errorf("%q stored:\nfrom its turns:  %q\nfrom the window: %q", script, sa, sb)
		}
		ids := map[string]bool{}
		for _, m := range decodeAs[[]store.Message](t, short.req("GET", fmt.Sprintf("/api/conversations/%d/messages", ca), a, nil)) {
			for _, c := range m.ToolCalls {
				if ids[c.ID] {
					t.Errorf("%q: tool call id %s given twice in one conversation", script, c.ID)
				}
				ids[c.ID] = true
			}
		}
	}
}

// calls is each tool call's name and arguments (its result holds the task's global id and
// times, which differ between two users).
func calls(cs []agent.CallRecord) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name + " " + string(c.Arguments)
	}
	return out
}

// stored is the conversation as the messages endpoint shows it, but tool results.
func stored(t *testing.T, h *harness, token string, conv int64) []string {
	t.Helper()
	var out []string
	for _, m := range decodeAs[[]store.Message](t, h.req("GET", fmt.Sprintf("/api/conversations/%d/messages", conv), token, nil)) {
		s := fmt.Sprintf("%d %s", m.ID, m.Role)
		if m.Role != store.RoleTool {
			s += " " + m.Content
		}
		for _, c := range m.ToolCalls {
			s += fmt.Sprintf(" call %s %s %s", c.ID, c.Name, c.Arguments)
		}
		if m.ToolCallID != "" {
			s += " for " + m.ToolCallID
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out
}
