package agent

import (
	"strings"
	"unicode"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/store"
)

// stopwords carry no meaning when matching a phrase to a task title.
var stopwords = map[string]bool{
	"the": true, "a": true, "an": true, "my": true, "your": true, "our": true, "to": true, "for": true,
	"of": true, "on": true, "in": true, "at": true, "with": true, "and": true, "or": true, "task": true,
	"tasks": true, "item": true, "items": true, "one": true, "thing": true, "todo": true, "to-do": true,
	"that": true, "this": true, "it": true, "about": true, "from": true, "list": true, "please": true,
	"i": true, "me": true, "is": true, "as": true, "up": true, "entry": true, "reminder": true,
	"some": true, "which": true, "whose": true, "called": true, "named": true, "titled": true,
	"s": true, "t": true, "just": true, "already": true, "all": true, "be": true, "was": true,
	"are": true, "we": true, "us": true, "off": true, "out": true, "by": true, "now": true,
	"today": true, "yet": true, "again": true, "actually": true, "really": true, "also": true,
}

// irregular maps irregular verb forms to their base.
var irregular = map[string]string{
	"bought": "buy", "paid": "pay", "went": "go", "gone": "go", "did": "do", "done": "do",
	"made": "make", "wrote": "write", "written": "write", "sent": "send", "took": "take",
	"taken": "take", "ate": "eat", "eaten": "eat", "got": "get", "gotten": "get", "fed": "feed",
	"ran": "run", "met": "meet", "left": "leave", "brought": "bring", "told": "tell", "said": "say",
	"sold": "sell", "found": "find", "gave": "give", "given": "give", "kept": "keep",
	"spent": "spend", "swept": "sweep", "drove": "drive", "driven": "drive", "flew": "fly",
	"flown": "fly", "hung": "hang", "won": "win", "began": "begin", "begun": "begin",
	"caught": "catch", "taught": "teach", "thought": "think", "sang": "sing", "sung": "sing",
	"read": "read", "put": "put", "cut": "cut", "set": "set", "hit": "hit", "called": "call",
	"children": "child", "people": "person", "men": "man", "women": "woman", "mice": "mouse",
	"teeth": "tooth", "feet": "foot", "geese": "goose", "dishes": "dish", "rode": "ride",
	"ridden": "ride", "wore": "wear", "worn": "wear", "chose": "choose", "chosen": "choose",
	"spoke": "speak", "spoken": "speak", "forgot": "forget", "knew": "know", "known": "know",
	"grew": "grow", "grown": "grow", "threw": "throw", "thrown": "throw", "drew": "draw",
	"drawn": "draw", "slept": "sleep", "built": "build", "lent": "lend", "sat": "sit", "saw": "see",
	"seen": "see", "stood": "stand", "understood": "understand", "held": "hold", "fought": "fight",
	"shot": "shoot", "dug": "dig", "hid": "hide", "hidden": "hide",
}

// stem reduces an English word to a crude stem so "buying", "bought" and "buy" meet.
func stem(w string) string {
	w = strings.ToLower(w)
	w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "'")
	if b, ok := irregular[w]; ok {
		w = b
	}
	n := len(w)
	undouble := func(s string) string {
		l := len(s)
		if l >= 3 && s[l-1] == s[l-2] && !strings.ContainsRune("lsfzaeiou", rune(s[l-1])) {
			return s[:l-1]
		}
		return s
	}
	switch {
	case n > 4 && (strings.HasSuffix(w, "ies") || strings.HasSuffix(w, "ied")):
		w = w[:n-3] + "y"
	case n > 5 && strings.HasSuffix(w, "ing"):
		w = undouble(w[:n-3])
	case n > 4 && strings.HasSuffix(w, "ed") && !strings.HasSuffix(w, "eed"):
		w = undouble(w[:n-2])
	case n > 4 && strings.HasSuffix(w, "es") && (strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "ches") ||
		strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "zes")):
		w = w[:n-2]
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:n-1]
	}
	if len(w) > 3 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	return w
}

// words splits s into lower-case words (letters and digits, Unicode-aware).
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

// significant returns the stems of the meaningful words of s.
func significant(s string) []string {
	var out []string
	for _, w := range words(s) {
		w = strings.Trim(w, "'")
		if w == "" || stopwords[w] {
			continue
		}
		st := stem(w)
		if st == "" || stopwords[st] {
			continue
		}
		out = append(out, st)
	}
	return out
}

// Match is the outcome of resolving a phrase against the user's tasks.
type Match struct {
	Tasks     []store.Task // the chosen task (one) or the ambiguous candidates (several)
	Ambiguous bool
}

// MatchTitle finds the task a phrase refers to. prefer ("pending"/"completed"/"") breaks ties.
// verb, if set, is a stem that alone is not enough to match (past-tense phrasings).
func MatchTitle(phrase string, tasks []store.Task, prefer, verb string) Match {
	p := strings.ToLower(strings.TrimSpace(unquote(phrase)))
	pClean := strings.Join(words(p), " ")
	// 1. Exact title.
	var exact []store.Task
	for _, t := range tasks {
		tl := strings.Join(words(t.Title), " ")
		if tl == pClean || strings.EqualFold(strings.TrimSpace(t.Title), p) {
			exact = append(exact, t)
		}
	}
	if len(exact) > 0 {
		return pick(exact, prefer)
	}
	// 2. Overlap of significant stems.
	ps := significant(p)
	if len(ps) == 0 {
		return Match{}
	}
	type scored struct {
		t        store.Task
		hits     int
		coverage float64
	}
	var best []scored
	bestHits, bestCov := 0, 0.0
	for _, t := range tasks {
		ts := significant(t.Title)
		if len(ts) == 0 {
			continue
		}
		hits, nonVerb := 0, 0
		used := make([]bool, len(ts))
		for _, w := range ps {
			for i, tw := range ts {
				if used[i] {
					continue
				}
				if tw == w || (len(w) >= 4 && len(tw) >= 4 && (strings.HasPrefix(tw, w) || strings.HasPrefix(w, tw))) {
					used[i] = true
					hits++
					if w != verb {
						nonVerb++
					}
					break
				}
			}
		}
		if hits == 0 {
			continue
		}
		if verb != "" && nonVerb == 0 && hits < len(ts) {
			continue
		}
		cov := float64(hits) / float64(len(ts))
		switch {
		case hits > bestHits || (hits == bestHits && cov > bestCov+1e-9):
			best, bestHits, bestCov = []scored{{t, hits, cov}}, hits, cov
		case hits == bestHits && cov > bestCov-1e-9:
			best = append(best, scored{t, hits, cov})
		}
	}
	if len(best) == 0 {
		return Match{}
	}
	cands := make([]store.Task, len(best))
	for i, b := range best {
		cands[i] = b.t
	}
	return pick(cands, prefer)
}

func pick(cands []store.Task, prefer string) Match {
	if len(cands) == 1 {
		return Match{Tasks: cands}
	}
	if prefer != "" {
		var pref []store.Task
		for _, t := range cands {
			if (prefer == store.StatusCompleted) == t.Completed {
				pref = append(pref, t)
			}
		}
		if len(pref) == 1 {
			return Match{Tasks: pref}
		}
	}
	return Match{Tasks: cands, Ambiguous: true}
}
