package input

import "testing"

func TestProblem(t *testing.T) {
	cases := []struct {
		s         string
		multiline bool
		want      string
	}{
		{"buy milk", false, ""},
		{"emoji 🍝 RTL \u202e zero\u200bwidth", false, ""},
		{"a\nb\tc", true, ""},
		{"a\nb", false, "must not contain control characters"},
		{"a\tb", false, "must not contain control characters"},
		{"a\x00b", true, "must not contain control characters"},
		{"a\rb", true, "must not contain control characters"},
		{"bell\a", true, "must not contain control characters"},
		{"del\x7f", true, "must not contain control characters"},
		{"c1\u0085", true, "must not contain control characters"},
		{"bad \xff byte", true, "must be valid UTF-8"},
		{"cut \xe2\x82", true, "must be valid UTF-8"},
		{"surrogate \xed\xa0\x80", true, "must be valid UTF-8"},
		{"literal \uFFFD is fine", false, ""},
	}
	for _, c := range cases {
		if got := Problem(c.s, c.multiline); got != c.want {
			t.Errorf("Problem(%q, %v) = %q, want %q", c.s, c.multiline, got, c.want)
		}
	}
}
