// Package input decides which user text the service accepts: valid UTF-8 without control
// characters (newline and tab are allowed in multi-line fields). PostgreSQL cannot store NUL in
// text, and silently replacing bad bytes would store something the user never sent, so both
// the HTTP API and the agent's tools check text here before anything is written.
package input

import (
	"unicode/utf8"
)

// Problem returns what is wrong with s ("" if nothing): "must be valid UTF-8" or "must not
// contain control characters". multiline allows '\n' and '\t'.
func Problem(s string, multiline bool) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return "must be valid UTF-8"
		}
		if Control(r, multiline) {
			return "must not contain control characters"
		}
		i += size
	}
	return ""
}

// Control reports whether r is a C0/C1 control character or DEL that a field may not hold.
func Control(r rune, multiline bool) bool {
	if multiline && (r == '\n' || r == '\t') {
		return false
	}
	return r < 0x20 || (r >= 0x7f && r <= 0x9f)
}
