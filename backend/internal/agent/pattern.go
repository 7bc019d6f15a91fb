package agent

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// pattern is a compiled expression that, when it is anchored at the start of the text, knows
// the few letters a match can begin with: a message beginning otherwise is turned down without
// running it. Parse tries dozens of anchored expressions per message and most fail, and Go's
// backtracker spends about the expression's size times the message's length on each failure,
// even when the first letter already rules a match out. An expression that begins with \b
// (the word lists: "left", "pending", ...) can only match from a word boundary, so it is
// turned down when no boundary of the message starts with one of its words' letters.
//
// Only MatchString, FindStringSubmatch and ReplaceAllString consult the starts; every other
// method is the plain regexp's.
type pattern struct {
	*regexp.Regexp
	starts map[string]struct{} // lower-case ASCII, at most startLen bytes; nil: no filter
	atWord bool                // starts apply at every word boundary, not only the beginning
}

// startLen is how many leading bytes the filter compares: three tell most command words apart.
const startLen = 3

// maxStarts bounds the set; an expression with more ways to begin is not filtered.
const maxStarts = 1024

// patterns lists every pattern compiled with rx, for the tests that hold the filter to the
// expressions.
var patterns []*pattern

// rx compiles one of the parser's case-insensitive patterns.
func rx(expr string) *pattern {
	p := newPattern(expr)
	patterns = append(patterns, p)
	return p
}

// newPattern compiles a case-insensitive pattern and derives its starts.
func newPattern(expr string) *pattern {
	p := &pattern{Regexp: regexp.MustCompile(`(?i)` + expr)}
	re, err := syntax.Parse(`(?i)`+expr, syntax.Perl)
	switch {
	case err != nil: // MustCompile accepted it: not expected, and no filter is always right
		return p
	case leads(re, syntax.OpBeginText):
	case leads(re, syntax.OpWordBoundary):
		p.atWord = true
	default:
		return p
	}
	if set, ok := startsOf(re.Simplify()); ok && !set.has("") {
		p.starts = make(map[string]struct{}, len(set))
		for s := range set {
			p.starts[s.text] = struct{}{}
		}
	}
	return p
}

// mayMatch is false only if p cannot match s: at its beginning, or with atWord at any of its
// word boundaries.
func (p *pattern) mayMatch(s string) bool {
	if p.starts == nil {
		return true
	}
	if !p.atWord {
		return p.mayStart(s)
	}
	// A boundary as \b sees it: ASCII word characters on one side only (a non-ASCII byte is
	// not one, and mayStart runs the expression when it meets one).
	word := false // the byte before i
	for i := 0; i <= len(s); i++ {
		next := i < len(s) && syntax.IsWordChar(rune(s[i]))
		if word != next && p.mayStart(s[i:]) {
			return true
		}
		word = next
	}
	return false
}

// mayStart is false only if no match of p can begin exactly at the start of s. A non-ASCII
// byte among the first startLen bytes always runs the expression: case folding maps some
// letters across ASCII ("K" to the Kelvin sign), and the filter only knows ASCII.
func (p *pattern) mayStart(s string) bool {
	var b [startLen]byte
	n := 0
	for ; n < startLen && n < len(s); n++ {
		c := s[n]
		if c >= 0x80 {
			return true
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[n] = c
	}
	for i := 1; i <= n; i++ {
		if _, ok := p.starts[string(b[:i])]; ok {
			return true
		}
	}
	return false
}

func (p *pattern) MatchString(s string) bool {
	return p.mayMatch(s) && p.Regexp.MatchString(s)
}

func (p *pattern) FindStringSubmatch(s string) []string {
	if !p.mayMatch(s) {
		return nil
	}
	return p.Regexp.FindStringSubmatch(s)
}

func (p *pattern) ReplaceAllString(src, repl string) string {
	if !p.mayMatch(src) {
		return src
	}
	return p.Regexp.ReplaceAllString(src, repl)
}

// leads reports whether every match of re begins with the assertion op: ^ (syntax.OpBeginText)
// or \b (syntax.OpWordBoundary).
func leads(re *syntax.Regexp, op syntax.Op) bool {
	switch re.Op {
	case op:
		return true
	case syntax.OpCapture:
		return leads(re.Sub[0], op)
	case syntax.OpConcat:
		return len(re.Sub) > 0 && leads(re.Sub[0], op)
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !leads(sub, op) {
				return false
			}
		}
		return true
	}
	return false
}

// start is how a match can begin: text (lower-case ASCII, at most startLen bytes), and whether
// the match can be exactly text (closed) or may go on in ways not followed (open).
type start struct {
	text   string
	closed bool
}

type startSet map[start]struct{}

func (s startSet) has(text string) bool {
	_, open := s[start{text, false}]
	_, closed := s[start{text, true}]
	return open || closed
}

func one(text string, closed bool) startSet { return startSet{{text, closed}: {}} }

// anything: the node may begin in any way (or we do not follow it).
func anything() startSet { return one("", false) }

// startsOf computes how a match of re can begin; false if the set grows past maxStarts.
// Zero-width assertions (^, $, \b) are treated as always true, which only admits more.
func startsOf(re *syntax.Regexp) (startSet, bool) {
	switch re.Op {
	case syntax.OpNoMatch:
		return startSet{}, true
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return one("", true), true
	case syntax.OpLiteral:
		set := one("", true)
		for _, r := range re.Rune {
			if !extendable(set) {
				break
			}
			var next startSet
			if r < 0x80 {
				next = one(strings.ToLower(string(r)), true)
			} else {
				next = anything()
			}
			var ok bool
			if set, ok = concat(set, next); !ok {
				return nil, false
			}
		}
		return set, true
	case syntax.OpCharClass:
		// Non-ASCII members are left out: an ASCII text cannot match them there, and a text
		// with a non-ASCII byte that early is never filtered.
		set := startSet{}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1] && r < 0x80; r++ {
				set[start{strings.ToLower(string(r)), true}] = struct{}{}
				if len(set) > 40 {
					return anything(), true
				}
			}
		}
		return set, true
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return anything(), true
	case syntax.OpCapture:
		return startsOf(re.Sub[0])
	case syntax.OpQuest, syntax.OpStar, syntax.OpPlus: // Simplify leaves no counted repeats
		sub, ok := startsOf(re.Sub[0])
		if !ok {
			return nil, false
		}
		if re.Op == syntax.OpQuest {
			return union(one("", true), sub)
		}
		// After one match of sub: nothing, or another whose end is not followed.
		more, ok := union(one("", true), opened(sub))
		if !ok || re.Op == syntax.OpStar {
			return more, ok
		}
		return concat(sub, more)
	case syntax.OpConcat:
		return combine(one("", true), re.Sub, true)
	case syntax.OpAlternate:
		return combine(startSet{}, re.Sub, false)
	}
	return anything(), true
}

// combine adds the starts of subs to set: in sequence (a concatenation, which stops once no
// start can grow: what follows cannot change how the match begins), or as alternatives.
func combine(set startSet, subs []*syntax.Regexp, seq bool) (startSet, bool) {
	for _, sub := range subs {
		if seq && !extendable(set) {
			break
		}
		next, ok := startsOf(sub)
		if !ok {
			return nil, false
		}
		if seq {
			set, ok = concat(set, next)
		} else {
			set, ok = union(set, next)
		}
		if !ok {
			return nil, false
		}
	}
	return set, true
}

// opened marks every start open: what follows it is no longer followed.
func opened(s startSet) startSet {
	out := make(startSet, len(s))
	for st := range s {
		out[start{st.text, false}] = struct{}{}
	}
	return out
}

// extendable reports whether a following node can lengthen a start of s.
func extendable(s startSet) bool {
	for st := range s {
		if st.closed && len(st.text) < startLen {
			return true
		}
	}
	return false
}

// union adds b to a, which it owns.
func union(a, b startSet) (startSet, bool) {
	for st := range b {
		a[st] = struct{}{}
	}
	return a, len(a) <= maxStarts
}

// concat: a closed start of a goes on with every start of b; an open one stays as it is.
func concat(a, b startSet) (startSet, bool) {
	out := startSet{}
	for x := range a {
		if !x.closed || len(x.text) == startLen {
			out[start{x.text, false}] = struct{}{}
			continue
		}
		for y := range b {
			text, closed := x.text+y.text, y.closed
			if len(text) >= startLen {
				text, closed = text[:startLen], false
			}
			out[start{text, closed}] = struct{}{}
		}
		if len(out) > maxStarts {
			return nil, false
		}
	}
	return out, true
}
