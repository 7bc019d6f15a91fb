package chart

// Rendered manifests for kube-score (scripts/kube-score.sh).

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

// TestWriteRenderedManifests writes every scenario's rendering to $CHART_MANIFESTS_DIR.
func TestWriteRenderedManifests(t *testing.T) {
	dir := os.Getenv("CHART_MANIFESTS_DIR")
	if dir == "" {
		t.Skip("CHART_MANIFESTS_DIR not set (scripts/kube-score.sh sets it)")
	}
	// dev.yaml and prod.yaml are what the script scores; the other scenarios come along for a
	// closer look (scripts/kube-score.sh --all scores them too).
	for _, sc := range scenarios(t) {
		fixture.WriteFile(t, filepath.Join(dir, sc.name+".yaml"), fixture.Render(t, sc.values).AllYAML())
	}
}
