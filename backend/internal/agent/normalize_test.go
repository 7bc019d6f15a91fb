package agent

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The regular-expression forms of the string functions normalize.go uses instead: what they
// must do, on every input.
var (
	reSpaces    = regexp.MustCompile(`\s+`)
	reTrailPunc = regexp.MustCompile(`[\s.!?,;:…]+$`)
)

func checkCleaners(t *testing.T, s string) {
	t.Helper()
	if got, want := collapseSpaces(s), reSpaces.ReplaceAllString(s, " "); got != want {
		t.Errorf("collapseSpaces(%q) = %q, the regular expression gives %q", s, got, want)
	}
	if got, want := trimTrailPunc(s), reTrailPunc.ReplaceAllString(s, ""); got != want {
		t.Errorf("trimTrailPunc(%q) = %q, the regular expression gives %q", s, got, want)
	}
	if got, want := trimTrailFill(s), reTrailFill.ReplaceAllString(s, ""); got != want {
		t.Errorf("trimTrailFill(%q) = %q, the regular expression gives %q", s, got, want)
	}
}

// phrases are the messages of the conversation sets the agent is judged on.
func phrases(t testing.TB) []string {
	files, _ := filepath.Glob("../../testdata/*.jsonl")
	if len(files) == 0 {
		t.Fatal("no conversation sets in testdata")
	}
	var out []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var c struct{ Message string }
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, c.Message)
		}
		f.Close()
	}
	return out
}

func TestCleanersMatchTheirRegularExpressions(t *testing.T) {
	cases := []string{"", " ", "a  b", "a\tb", "a \t\n b", " lead", "trail ", "\f\r", "what's left?", "done!!! ",
		"… ok?", "add milk, please", "add milk please.", "add milk PLEASE", "add milk,thanks", "add milk thank you",
		"add milk for me please", "add milk if you can, thanks", "pleaſe", "add milk pleaſe", "ok", " ok", ",ok",
		"Okay", "add milk ty ty", "add milk types", "add milk cheers!", "\xff please", "add milk \u212a",
		"add milk o\u212a", "add milk thank  you", "x\u00a0please", "x \u00a0please", "wait…", "done …!", "a…b"}
	cases = append(cases, phrases(t)...)
	for _, s := range cases {
		checkCleaners(t, s)
		checkCleaners(t, strings.ToUpper(s))
	}
}

func FuzzCleaners(f *testing.F) {
	for _, s := range []string{"add milk, please", "what's left?", "a \t b", "x thank you", "… ok?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkCleaners(t, s) })
}

// BenchmarkNormalize cleans every message of the conversation sets in turn.
func BenchmarkNormalize(b *testing.B) { eachPhrase(b, func(s string) { Normalize(s) }) }

// eachPhrase runs fn on the conversation sets' messages in turn, b.N times in all.
func eachPhrase(b *testing.B, fn func(string)) { cycle(b, phrases(b), fn) }

// cycle runs fn on msgs in turn, b.N times in all.
func cycle(b *testing.B, msgs []string, fn func(string)) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fn(msgs[i%len(msgs)])
	}
}
