package chart

// NOTES.txt and the values' documentation.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

func TestChartNotes(t *testing.T) {
	r := fixture.Render(t, fixture.ProgramValues(t, "dev"))
	var notes string
	for k, v := range r.Files {
		if strings.HasSuffix(k, "NOTES.txt") {
			notes = v
		}
	}
	for _, want := range []string{"http://todo.local/", "http://todo.local/mcp", "minikube tunnel",
		"port-forward service/" + fullname + "-frontend 8080:8080", "helm test " + fixture.ReleaseName} {
		assert.Contains(t, notes, want, "NOTES.txt lacks %q", want)
	}
}

// Every value in values.yaml is documented: a comment above it, above the run of sibling keys
// it belongs to, or above one of its parent blocks.
func TestChartValuesDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixture.ChartDir(t), "values.yaml"))
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	indentOf := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		key, value, isKey := strings.Cut(trimmed, ":")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "- ") || !isKey ||
			strings.TrimSpace(value) == "" || strings.Contains(key, " ") {
			continue // blank, comment, list item or a block key (its leaves are checked)
		}
		documented := false
		indent := indentOf(line)
		for j := i - 1; j >= 0; j-- {
			pl := lines[j]
			pt := strings.TrimSpace(pl)
			if pt == "" {
				break
			}
			pIndent := indentOf(pl)
			if strings.HasPrefix(pt, "#") {
				if pIndent <= indent {
					documented = true
					break
				}
				continue
			}
			if pIndent < indent {
				indent = pIndent // the parent block: its comment covers this key
			}
		}
		assert.True(t, documented, "values.yaml:%d: %q has no comment", i+1, trimmed)
	}
}
