package agent

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// Phrasings that must never change the list by themselves: a negated statement ("I did not
// walk the dog"), a doubtful one ("I think I paid the rent"), and the answers to a question the
// agent asked before a bulk delete.
var (
	reNegated = rx(`^(?:(?:no|nope|nah|actually|well|but|sadly|unfortunately)[,!.]?\s+)?(?:(?:i|we)(?:\s+(?:still|really|actually|just|totally|completely))?\s*)?(?:did\s+not|didn't|didnt|did\s+n't|do\s+not|don't|dont|have\s+not|haven't|havent|has\s+not|hasn't|had\s+not|hadn't|never|was\s+not|wasn't|were\s+not|weren't|am\s+not|'m\s+not|m\s+not|can\s*not|can't|cant|could\s+not|couldn't|won't|will\s+not|forgot\s+to|failed\s+to|not\s+yet|still\s+haven't|still\s+have\s+not)\b\s*(.*)$`)
	reDoubt   = rx(`^(?:i\s+think\s+(?:that\s+)?(?:i|we)|i\s+guess\s+(?:i|we)|i\s+believe\s+(?:i|we)|maybe\s+(?:i|we)?|perhaps\s+(?:i|we)?|probably|possibly|i\s+(?:might|may|could)\s+have|(?:i'?m\s+|i\s+am\s+)?not\s+sure\s+(?:if|whether)|i\s+(?:probably|possibly|maybe)|did\s+i|have\s+i|i\s+forget\s+(?:if|whether)|i\s+don't\s+remember\s+(?:if|whether)|i\s+can't\s+remember\s+(?:if|whether))\b\s*(.*)$`)
	reYes     = rx(`^(?:y|yes|yeah|yea|yep|yup|ya|sure|ok|okay|confirm|confirmed|i confirm|do it|go ahead|go for it|please do|yes please|absolutely|definitely|correct|affirmative|proceed|yes,?\s*(?:do it|go ahead|please|i'?m sure|delete (?:them|it|all|everything)(?: of them)?|remove (?:them|all)|clear (?:it|them|the list)))$`)
	reNo      = rx(`^(?:n|no|nope|nah|no thanks|no way|cancel|stop|don't|do not|keep them|never ?mind|abort|wait|not now|no,?\s*(?:keep|don't|cancel|stop).*)$`)
	reUndo    = rx(`^(?:undo|undo (?:that|it|this|(?:the |my |your )?(?:last|previous) (?:change|action|one|thing|step|command)|that (?:change|action|last change)|what (?:you|i) (?:just )?did|the last thing (?:you|i) did)|revert(?: that| it| the last change)?|take (?:that|it) back|reverse (?:that|it|the last change)|put (?:that|it) back(?: the way it was)?|roll (?:that|it) back|that was a mistake,? undo(?: it| that)?|oops,? undo(?: that| it)?|undo please)$`)
	// The question the agent asks before deleting several tasks at once.
	reBulkAsk = regexp.MustCompile(`^Delete (?:all \d+ (?:\w+ )?tasks|your only (?:\w+ )?task)\b.*\? Say "yes"`)
)

// caution returns the intent a negated or doubtful message must have instead: KindUnsure, which
// changes nothing and asks back. Doubt ("I think I…", "maybe…") holds back any change but an
// add; a negated statement holds back completing, adding and renaming. Intents that are about
// negation themselves are kept: reopen ("I didn't finish X") and delete ("I don't need to X").
func caution(s string, in Intent) Intent {
	switch in.Kind {
	case KindList, KindGreet, KindHelp, KindThanks, KindAsk:
		return in
	}
	if in.Kind != KindAdd {
		if m := reDoubt.FindStringSubmatch(s); m != nil {
			return Intent{Kind: KindUnsure, Title: strings.TrimSpace(m[1])}
		}
	}
	if in.Kind == KindReopen || in.Kind == KindDelete || reAddForget.MatchString(s) {
		return in // "don't forget to email Sarah" is a request, not a denial
	}
	if m := reNegated.FindStringSubmatch(s); m != nil {
		return Intent{Kind: KindUnsure, Title: strings.TrimSpace(m[1]), Negated: true}
	}
	return in
}

func unsureReply(in Intent) string {
	what := ""
	if in.Title != "" {
		what = fmt.Sprintf(" (%q)", in.Title)
	}
	if in.Negated {
		return fmt.Sprintf("I haven't changed anything: you said it isn't done%s. "+
			`Should it go on your list? Say "add …" to add it, or "mark task N as done" once it is done.`, what)
	}
	return fmt.Sprintf("I haven't changed anything, since you don't sound sure%s. "+
		`Tell me plainly what to do, for example "mark task 2 as done" or "delete task 2".`, what)
}

// lastAssistant returns the index of the last assistant reply with text in history if no user
// message follows it, else -1.
func lastAssistant(history []store.Message) int {
	for i := len(history) - 1; i >= 0; i-- {
		switch m := history[i]; {
		case m.Role == store.RoleUser:
			return -1
		case m.Role == store.RoleAssistant && m.Content != "":
			return i
		}
	}
	return -1
}

// toolResults pairs each tool call in msgs with its stored result.
type pastCall struct {
	name   string
	result Result
}

func callsOf(msgs []store.Message) []pastCall {
	names := map[string]string{}
	var out []pastCall
	for _, m := range msgs {
		for _, c := range m.ToolCalls {
			names[c.ID] = c.Name
		}
		if m.Role != store.RoleTool {
			continue
		}
		var res Result
		if json.Unmarshal([]byte(m.Content), &res) != nil {
			continue
		}
		out = append(out, pastCall{name: names[m.ToolCallID], result: res})
	}
	return out
}

// pendingBulkDelete returns the task numbers a bulk-delete question in the last reply asked
// about (the tasks it listed), or nil if the last reply was no such question.
func pendingBulkDelete(history []store.Message) []int64 {
	i := lastAssistant(history)
	if i < 0 || !reBulkAsk.MatchString(history[i].Content) {
		return nil
	}
	start := i
	for start > 0 && history[start-1].Role != store.RoleUser {
		start--
	}
	var nums []int64
	for _, c := range callsOf(history[start:i]) {
		if c.name == ToolList {
			nums = nums[:0]
			for _, t := range c.result.Tasks {
				nums = append(nums, t.Number)
			}
		}
	}
	return nums
}

// turnsBack returns the turns of history (each starting at a user message), newest first.
func turnsBack(history []store.Message) [][]store.Message {
	var out [][]store.Message
	end := len(history)
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Role == store.RoleUser {
			out = append(out, history[i:end])
			end = i
		}
	}
	return out
}

// changed reports whether a stored tool call changed a task.
func (c pastCall) changed() bool {
	if c.result.Error != "" || c.result.Task == nil {
		return false
	}
	switch c.name {
	case ToolAdd, ToolComplete, ToolDelete, ToolUpdate, ToolRestore:
		return true
	}
	return false
}

// inverse is the tool call that reverses c.
func (c pastCall) inverse() (string, any, bool) {
	t := c.result.Task
	switch c.name {
	case ToolAdd, ToolRestore:
		return ToolDelete, IDArgs{TaskID: t.Number}, true
	case ToolDelete:
		return ToolRestore, IDArgs{TaskID: t.Number}, true
	case ToolComplete, ToolUpdate:
		p := c.result.Previous
		if p == nil {
			return "", nil, false
		}
		a := UpdateArgs{TaskID: t.Number}
		if p.Title != t.Title {
			a.Title = &p.Title
		}
		if p.Description != t.Description {
			a.Description = &p.Description
		}
		if p.Completed != t.Completed {
			a.Completed = &p.Completed
		}
		if a.Title == nil && a.Description == nil && a.Completed == nil {
			return "", nil, false
		}
		return ToolUpdate, a, true
	}
	return "", nil, false
}

// lastChange returns the task-changing calls of the conversation's most recent turn that
// changed anything.
func lastChange(history []store.Message) []pastCall {
	for _, turn := range turnsBack(history) {
		var out []pastCall
		for _, c := range callsOf(turn) {
			if c.changed() {
				out = append(out, c)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// lastTaskNumbers are the tasks the conversation's most recent turn that touched single tasks
// touched ("it", "that one"); more than one means "it" is ambiguous.
func lastTaskNumbers(history []store.Message) []int64 {
	for _, turn := range turnsBack(history) {
		seen := map[int64]bool{}
		var out []int64
		for _, c := range callsOf(turn) {
			if t := c.result.Task; t != nil && t.Number != 0 && !seen[t.Number] {
				seen[t.Number] = true
				out = append(out, t.Number)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}
