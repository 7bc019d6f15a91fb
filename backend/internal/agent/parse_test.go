package agent

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

func TestParseKinds(t *testing.T) {
	for _, c := range []struct {
		msg  string
		kind Kind
	}{
		{"add buy milk", KindAdd}, {"remind me to call mom", KindAdd}, {"what's left?", KindList},
		{"show completed tasks", KindList}, {"I finished task 3", KindComplete}, {"mark 2 as done", KindComplete},
		{"delete task 4", KindDelete}, {"rename task 1 to pay rent", KindUpdate},
		{"change task 5 description to call first", KindUpdate}, {"done with the milk one", KindComplete},
		{"reopen task 2", KindReopen}, {"hello", KindGreet}, {"help", KindHelp}, {"complete", KindAsk},
		{"what's the weather like?", KindUnknown}, {"", KindHelp}, {"I need to finish the report", KindAdd},
	} {
		if got := Parse(c.msg).Kind; got != c.kind {
			t.Errorf("Parse(%q) = %v, want %v", c.msg, got, c.kind)
		}
	}
}

func TestParseDetails(t *testing.T) {
	in := Parse("add task pay rent with description before the 5th")
	if in.Title != "pay rent" || in.Description != "before the 5th" {
		t.Fatalf("%+v", in)
	}
	in = Parse("complete tasks 3, 4 and 5")
	if len(in.Target.IDs) != 3 || in.Target.IDs[2] != 5 {
		t.Fatalf("%+v", in.Target)
	}
	in = Parse("mark #12 as done")
	if len(in.Target.IDs) != 1 || in.Target.IDs[0] != 12 {
		t.Fatalf("%+v", in.Target)
	}
	in = Parse("delete all completed tasks")
	if !in.Target.All || in.Target.Status != store.StatusCompleted {
		t.Fatalf("%+v", in.Target)
	}
	if in := Parse("what's left?"); in.Status != store.StatusPending {
		t.Fatalf("%+v", in)
	}
}

func TestStem(t *testing.T) {
	for _, group := range [][]string{
		{"buy", "buying", "bought", "buys"}, {"walk", "walked", "walking", "walks"},
		{"call", "called", "calling"}, {"shop", "shopping", "shopped"}, {"file", "filed", "filing", "files"},
		{"tax", "taxes"}, {"grocery", "groceries"}, {"make", "making", "made"}, {"pay", "paid", "paying"},
	} {
		for _, w := range group[1:] {
			if stem(w) != stem(group[0]) {
				t.Errorf("stem(%q)=%q, stem(%q)=%q", w, stem(w), group[0], stem(group[0]))
			}
		}
	}
}

func TestMatchTitle(t *testing.T) {
	tasks := []store.Task{{ID: 1, Title: "buy milk"}, {ID: 2, Title: "buy eggs", Completed: true}, {ID: 3, Title: "walk the dog"}}
	for _, c := range []struct {
		phrase, prefer string
		want           []int64
		ambiguous      bool
	}{
		{"the milk one", "", []int64{1}, false},
		{"buying milk", "", []int64{1}, false},
		{"the dog task", "", []int64{3}, false},
		{"buy", "", []int64{1, 2}, true},
		{"buy", store.StatusPending, []int64{1}, false},
		{"buy", store.StatusCompleted, []int64{2}, false},
		{"spaceship", "", nil, false},
	} {
		m := MatchTitle(c.phrase, tasks, c.prefer, "")
		var got []int64
		for _, tk := range m.Tasks {
			got = append(got, tk.ID)
		}
		if len(got) != len(c.want) || m.Ambiguous != c.ambiguous {
			t.Errorf("MatchTitle(%q, %q) = %v ambiguous=%v, want %v %v", c.phrase, c.prefer, got, m.Ambiguous, c.want, c.ambiguous)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("MatchTitle(%q) = %v, want %v", c.phrase, got, c.want)
			}
		}
	}
}

// FuzzParse: the offline parser never panics, and what it extracts is valid text bounded by
// the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"add buy milk", "remind me to water the plants", "what's left?", "mark task 3 as done",
		"done with the milk one", "I walked the dog", "delete all completed tasks", "rename task 1 to pay rent",
		"change 'call mom' to 'call mom and dad'", "update the description of task 2 to x", "actually task 4 isn't done yet",
		"complete tasks 1, 2 and 99999999999999999999", "add réserver un restaurant 🍝", "", "   ", "''", "\"\"",
		"add ''", "change '' to ''", "#", "task #", "\x00\xff", strings.Repeat("add ", 500), "mark  as done",
		"remind me", "put on my list", "delete everything", "reopen it", "the first one",
	} {
		f.Add(s)
	}
	tasks := []store.Task{{ID: 1, Title: "buy milk"}, {ID: 2, Title: "walk the dog", Completed: true}, {ID: 3, Title: "🍝"}}
	f.Fuzz(func(t *testing.T, msg string) {
		in := Parse(msg)
		for _, s := range []string{in.Title, in.Description, in.Target.Text} {
			if utf8.ValidString(msg) && !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 extracted from %q: %q", msg, s)
			}
			if len(s) > 3*len(msg)+8 { // invalid bytes become U+FFFD (3 bytes)
				t.Fatalf("extracted %q longer than input %q", s, msg)
			}
		}
		if in.Kind == KindAdd && strings.TrimSpace(in.Title) == "" {
			t.Fatalf("add with empty title from %q", msg)
		}
		_ = MatchTitle(msg, tasks, "", "")
		_ = MatchTitle(msg, tasks, store.StatusPending, stem(msg))
	})
}

// Negation, doubt and undo are recognised before any action is taken.
func TestParseSafety(t *testing.T) {
	for _, c := range []struct {
		msg     string
		kind    Kind
		negated bool
	}{
		{"I did not walk the dog", KindUnsure, true}, {"I haven't called mom", KindUnsure, true},
		{"we never went to the gym", KindUnsure, true}, {"nope, didn't feed the cat", KindUnsure, true},
		{"I think I walked the dog", KindUnsure, false}, {"maybe I paid the rent", KindUnsure, false},
		{"not sure if I emailed Sarah", KindUnsure, false}, {"maybe delete the milk one", KindUnsure, false},
		{"don't forget to email Sarah", KindAdd, false}, {"I didn't finish buy milk", KindReopen, false},
		{"I don't need to buy milk anymore", KindDelete, false}, {"undo", KindUndo, false},
		{"undo that", KindUndo, false}, {"take that back", KindUndo, false}, {"revert the last change", KindUndo, false},
		{"I walked the dog", KindComplete, false},
	} {
		in := Parse(c.msg)
		if in.Kind != c.kind || in.Negated != c.negated {
			t.Errorf("Parse(%q) = %v negated=%v, want %v negated=%v", c.msg, in.Kind, in.Negated, c.kind, c.negated)
		}
	}
}

// BenchmarkParse parses every message of the conversation sets in turn.
func BenchmarkParse(b *testing.B) { eachPhrase(b, func(s string) { Parse(s) }) }

// BenchmarkParseByKind parses the conversation sets' messages of one kind at a time (what each
// kind costs is hidden in BenchmarkParse's average: most messages are commands).
func BenchmarkParseByKind(b *testing.B) {
	byKind := map[Kind][]string{}
	for _, m := range phrases(b) {
		k := Parse(m).Kind
		byKind[k] = append(byKind[k], m)
	}
	for k := KindUnknown; k <= KindUnsure; k++ {
		msgs := byKind[k]
		if len(msgs) == 0 {
			continue
		}
		b.Run(k.String(), func(b *testing.B) { cycle(b, msgs, func(s string) { Parse(s) }) })
	}
}
