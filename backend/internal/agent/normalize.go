package agent

import (
	"slices"
	"strings"
	"unicode"
)

// Normalize cleans a message for matching: typographic quotes, spacing, trailing punctuation,
// politeness at either end. Case is preserved (titles keep the user's spelling).
func Normalize(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\u2018', '\u2019', '\u02bc', '`', '´':
			return '\''
		case '\u201c', '\u201d', '«', '»':
			return '"'
		case '\u2013', '\u2014':
			return '-'
		}
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(collapseSpaces(s))
	for i := 0; i < 6; i++ {
		before := s
		s = trimTrailFill(trimTrailPunc(s))
		if t := strings.TrimSpace(reLeadFill.ReplaceAllString(s, "")); t != "" {
			s = t
		}
		if t := strings.TrimSpace(reLeadAsk.ReplaceAllString(s, "")); t != "" {
			s = t
		}
		if m := reLeadWant.FindStringSubmatch(s); m != nil {
			s = m[1]
		}
		s = strings.TrimSpace(s)
		if s == before {
			break
		}
	}
	return s
}

// Every chat turn normalizes its message, several times over until nothing changes, so the
// cleaning below is done with plain string functions where a regular expression would scan the
// message from every position (a trailing "$" match does). normalize_test.go holds each one's
// regular-expression form and checks the two agree.

// trailFill are the courtesies dropped from the end of a message ("…, please", "… thanks").
var trailFill = []string{"please", "pls", "plz", "thanks", "thank you", "thx", "ty", "for me", "if you can",
	"if you could", "if possible", "when you can", "would you", "will you", "could you", "ok", "okay", "cheers"}

// trailFillEnds are the last words of trailFill: a message ending in none of them has none to drop.
var trailFillEnds = func() []string {
	var out []string
	for _, f := range trailFill {
		w := f[strings.LastIndexByte(f, ' ')+1:]
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}()

// isBlank is RE2's \s: ASCII white space only.
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// collapseSpaces turns every run of white space into one space.
func collapseSpaces(s string) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		if isBlank(s[i]) && (s[i] != ' ' || i+1 < len(s) && isBlank(s[i+1])) {
			clean = false
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if !isBlank(s[i]) {
			b.WriteByte(s[i])
		} else if i == 0 || !isBlank(s[i-1]) {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// trimTrailPunc drops the white space and sentence punctuation a message ends with.
func trimTrailPunc(s string) string {
	return strings.TrimRightFunc(s, func(r rune) bool {
		switch r {
		case ' ', '\t', '\n', '\f', '\r', '.', '!', '?', ',', ';', ':', '…':
			return true
		}
		return false
	})
}

// trimTrailFill drops the courtesies (trailFill) a message ends with.
func trimTrailFill(s string) string {
	i := strings.LastIndexAny(s, " \t\n\f\r,")
	if i < 0 {
		return s
	}
	for _, w := range trailFillEnds {
		if strings.EqualFold(s[i+1:], w) {
			return reTrailFill.ReplaceAllString(s, "")
		}
	}
	return s
}
