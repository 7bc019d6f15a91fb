package agent

import (
	"strings"
	"testing"
)

// checkStarts fails if a pattern's starts turn down a text its expression matches.
func checkStarts(t *testing.T, s string) {
	t.Helper()
	for _, p := range patterns {
		if !p.mayMatch(s) && p.Regexp.MatchString(s) {
			t.Fatalf("%q matches %s, but its starts turn it down", s, p)
		}
	}
}

// TestStartsNeverTurnDownAMatch holds every pattern's filter to its expression over the
// conversation sets: each message, cleaned and raw, every tail of it from a word on (the
// parsers match parts of messages too), in upper case, and the starts themselves.
func TestStartsNeverTurnDownAMatch(t *testing.T) {
	texts := []string{"", "a", "hi", "HI", "ok", "yo", "k", "\u212aeep it", "ſo", "pleaſe add milk",
		"mark \u212a as done", "\xff", "#3 done", "3 done", "i'd like to add milk", "I'D LIKE TO ADD MILK"}
	for _, p := range patterns {
		for s := range p.starts {
			texts = append(texts, s, s+" x", strings.ToUpper(s))
		}
	}
	for _, msg := range phrases(t) {
		for _, s := range []string{msg, Normalize(msg)} {
			words := strings.Fields(s)
			for i := range words {
				texts = append(texts, strings.Join(words[i:], " "))
			}
		}
	}
	for _, s := range texts {
		checkStarts(t, s)
		checkStarts(t, strings.ToUpper(s))
	}
}

func FuzzStarts(f *testing.F) {
	for _, s := range []string{"add milk", "what's left?", "mark 3 as done", "\u212a", "ſ", "I'd like to", "#1"} {
		f.Add(s)
	}
	f.Fuzz(checkStarts)
}

func TestStartsTurnDownOtherCommands(t *testing.T) {
	p := newPattern(`^(?:add|create|new)\s+(.+)$`)
	for s, want := range map[string]bool{
		"add milk": true, "ADD milk": true, "Create x": true, "new x": true, "ne": false,
		"delete milk": false, "ad milk": false, "": false,
		"crème": true, "\u212a": true, // non-ASCII: always run
	} {
		if got := p.mayMatch(s); got != want {
			t.Errorf("mayMatch(%q) = %v, want %v", s, got, want)
		}
	}
	// Most of the parser's anchored expressions have starts, and a message runs few of them.
	filtered, run := 0, 0
	for _, p := range patterns {
		if p.starts == nil {
			continue
		}
		filtered++
		if p.mayMatch("buy printer ink") {
			run++
		}
	}
	if filtered < len(patterns)/2 || run > filtered/4 {
		t.Fatalf("%d of %d patterns have starts; %d of them run on %q", filtered, len(patterns), run, "buy printer ink")
	}
}

// TestStartsOfUnusualExpressions covers forms the parser's own expressions do not use yet:
// letters that fold to or from non-ASCII, repeats, negated classes, any character, and word
// lists whose boundary falls next to a digit, an underscore, a sign or a non-ASCII letter.
func TestStartsOfUnusualExpressions(t *testing.T) {
	texts := []string{"so", "So", "ſo", "keep", "Keep", "\u212aeep", "aac", "abc", "bc", "c", "xxy", "xxxy", "xy",
		"bb", "ab", "zzz", "xyz", "q", "", "  so", "sox", "so x", "ababc", "abc", "y",
		"a left", "leftover", "x#1", "#1", "a #1", "é left", "éleft", "_left", "a_left", "9left", "a-left", "LEFT!", "a\u212aid"}
	for _, expr := range []string{`^ſo\b`, `^\x{212A}eep`, `^(?:a|b)+c`, `^x{2,3}y`, `^[^a]b`, `^.{2}z`, `^(?:so|keep)?$`, `^x*y`, `^(?:ab)*c`,
		`\b(?:left|#\d)`, `\bleft\b`, `\b(?:kid|x)`, `\b(?:left|so)|\bab`} {
		p := newPattern(expr)
		for _, s := range texts {
			if p.Regexp.MatchString(s) && !p.mayMatch(s) {
				t.Errorf("%q matches %s, but its starts turn it down", s, expr)
			}
		}
	}
}
