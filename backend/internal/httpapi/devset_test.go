package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// phraseCase is one line of a phrasing set (format: testdata/README.md, after the shared
// chat README).
type phraseCase struct {
	Setup []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Completed   bool   `json:"completed"`
	} `json:"setup"`
	Turns   []string `json:"turns"`
	Message string   `json:"message"`
	Expect  struct {
		Created []struct {
			TitleContains       string `json:"title_contains"`
			DescriptionContains string `json:"description_contains"`
		} `json:"created"`
		Completed []int `json:"completed"`
		Reopened  []int `json:"reopened"`
		Deleted   []int `json:"deleted"`
		Updated   []struct {
			Index               int    `json:"index"`
			TitleContains       string `json:"title_contains"`
			DescriptionContains string `json:"description_contains"`
		} `json:"updated"`
		ReplyContains []string `json:"reply_contains"`
		ReplyExcludes []string `json:"reply_excludes"`
		NoChange      bool     `json:"no_change"`
		SameAsStart   bool     `json:"same_as_start"`
	} `json:"expect"`
}

func loadPhrases(t *testing.T, name string) []phraseCase {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []phraseCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var c phraseCase
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s:%d: %v", name, n, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func contains(s, sub string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(sub)) }

// runPhrases runs every case for a fresh user through the HTTP API, as the shared README says.
func runPhrases(t *testing.T, file string) {
	cases := loadPhrases(t, file)
	h := newHarness(t, nil, nil)
	for i, c := range cases {
		t.Run(fmt.Sprintf("%02d %s", i+1, c.Message), func(t *testing.T) {
			t.Parallel()
			h := &harness{t: t, srv: h.srv, ip: h.ip}
			tok, _ := h.signup()
			// The id a message names is the one this server gives people for their tasks: the
			// number. An internal id is accepted in chat only where it is not also one of the
			// user's numbers, so in a fresh database ("delete task 2" with internal id 2 and a
			// second task) it named another task and the case failed by chance.
			ids := make([]int64, len(c.Setup))
			names := make([]int64, len(c.Setup))
			for j, s := range c.Setup {
				task := h.createTask(tok, s.Title, s.Description)
				ids[j], names[j] = task.ID, task.Number
				if s.Completed {
					if r := h.req("PATCH", fmt.Sprintf("/api/tasks/%d", task.ID), tok, `{"completed":true}`); r.status != 200 {
						t.Fatalf("setup patch: %d", r.status)
					}
				}
			}
			subst := func(s string) string {
				for j, n := range names {
					s = strings.ReplaceAll(s, fmt.Sprintf("{%d}", j), fmt.Sprint(n))
				}
				return s
			}
			before := h.tasks(tok)
			var conv int64
			for _, turn := range c.Turns {
				conv = h.chat(tok, subst(turn), conv).ConversationID
			}
			res := h.chat(tok, subst(c.Message), conv)
			after := h.tasks(tok)
			checkExpect(t, c, ids, before, after, res.Reply)
			if t.Failed() {
				t.Logf("reply: %q\ntool calls: %+v", res.Reply, res.ToolCalls)
			}
		})
	}
}

func checkExpect(t *testing.T, c phraseCase, ids []int64, before, after []store.Task, reply string) {
	t.Helper()
	e := c.Expect
	byID := map[int64]store.Task{}
	for _, tk := range after {
		byID[tk.ID] = tk
	}
	setupIDs := map[int64]bool{}
	for _, id := range ids {
		setupIDs[id] = true
	}
	if e.SameAsStart {
		// After "undo": titles, completion and descriptions as before the turns.
		view := func(ts []store.Task) string {
			var b strings.Builder
			for _, tk := range ts {
				fmt.Fprintf(&b, "%q %q %v\n", tk.Title, tk.Description, tk.Completed)
			}
			return b.String()
		}
		if view(before) != view(after) {
			t.Errorf("same_as_start: before\n%s after\n%s", view(before), view(after))
		}
		return
	}
	if e.NoChange {
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("no_change: tasks changed\nbefore %+v\nafter  %+v", before, after)
		}
		if strings.TrimSpace(reply) == "" {
			t.Errorf("no_change: empty reply")
		}
	}
	var created []store.Task
	for _, tk := range after {
		if !setupIDs[tk.ID] {
			created = append(created, tk)
		}
	}
	if len(created) != len(e.Created) {
		t.Errorf("created %d tasks %+v, want %d", len(created), created, len(e.Created))
	}
	for _, want := range e.Created {
		n := 0
		for _, tk := range created {
			if contains(tk.Title, want.TitleContains) && contains(tk.Description, want.DescriptionContains) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("want exactly one new task with title ~%q desc ~%q, got %d in %+v", want.TitleContains, want.DescriptionContains, n, created)
		}
	}
	deleted, completed, reopened := map[int]bool{}, map[int]bool{}, map[int]bool{}
	for _, i := range e.Deleted {
		deleted[i] = true
	}
	for _, i := range e.Completed {
		completed[i] = true
	}
	for _, i := range e.Reopened {
		reopened[i] = true
	}
	updated := map[int]int{}
	for k, u := range e.Updated {
		updated[u.Index] = k
	}
	for i, id := range ids {
		old := before[i]
		now, exists := byID[id]
		if deleted[i] {
			if exists {
				t.Errorf("setup task %d (%q) should be deleted", i, old.Title)
			}
			continue
		}
		if !exists {
			t.Errorf("setup task %d (%q) was deleted", i, old.Title)
			continue
		}
		switch {
		case completed[i] && !now.Completed:
			t.Errorf("setup task %d (%q) should be completed", i, old.Title)
		case reopened[i] && now.Completed:
			t.Errorf("setup task %d (%q) should be reopened", i, old.Title)
		case !completed[i] && !reopened[i] && now.Completed != old.Completed:
			t.Errorf("setup task %d (%q) completion changed to %v", i, old.Title, now.Completed)
		}
		k, isUpd := updated[i]
		titleWant, descWant := "", ""
		if isUpd {
			titleWant, descWant = e.Updated[k].TitleContains, e.Updated[k].DescriptionContains
		}
		if titleWant != "" {
			if !contains(now.Title, titleWant) {
				t.Errorf("setup task %d title %q, want ~%q", i, now.Title, titleWant)
			}
		} else if now.Title != old.Title {
			t.Errorf("setup task %d title changed %q -> %q", i, old.Title, now.Title)
		}
		if descWant != "" {
			if !contains(now.Description, descWant) {
				t.Errorf("setup task %d description %q, want ~%q", i, now.Description, descWant)
			}
		} else if now.Description != old.Description {
			t.Errorf("setup task %d description changed %q -> %q", i, old.Description, now.Description)
		}
	}
	for _, s := range e.ReplyContains {
		if !contains(reply, s) {
			t.Errorf("reply %q lacks %q", reply, s)
		}
	}
	for _, s := range e.ReplyExcludes {
		if contains(reply, s) {
			t.Errorf("reply %q must not contain %q", reply, s)
		}
	}
}

// TestDevSet is the shared development set (copied from ../shared/chat/dev-set.jsonl).
func TestDevSet(t *testing.T) { runPhrases(t, "dev-set.jsonl") }

// TestSafetyDevSet is the shared safety set (copied from ../shared/chat/safety-dev-set.jsonl):
// negation changes nothing, bulk deletes wait for a yes, "undo" undoes the last change.
func TestSafetyDevSet(t *testing.T) { runPhrases(t, "safety-dev-set.jsonl") }

// TestSafetyExtraSet holds our own safety phrasings, worded unlike the shared set.
func TestSafetyExtraSet(t *testing.T) { runPhrases(t, "safety-extra-set.jsonl") }

// TestExtraSet holds our own held-out-style phrasings.
func TestExtraSet(t *testing.T) { runPhrases(t, "extra-set.jsonl") }
