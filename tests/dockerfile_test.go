package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The images cannot be built here (no Docker engine), so their Dockerfiles
// are checked with BuildKit's own parser and linter: what `docker build`
// would warn about fails this test.
func TestDockerfilesAreMultiStageNonRootAndPinned(t *testing.T) {
	for _, component := range []string{"backend", "frontend"} {
		t.Run(component, func(t *testing.T) {
			contextDir := filepath.Join(repoRoot, component)
			df, err := os.ReadFile(filepath.Join(contextDir, "Dockerfile"))
			require.NoError(t, err)

			res, err := parser.Parse(strings.NewReader(string(df)))
			require.NoError(t, err)
			for _, w := range res.Warnings {
				t.Errorf("parser warning: %s", w.Short)
			}
			var lintWarnings []string
			lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
				line := 0
				if len(loc) > 0 {
					line = loc[0].Start.Line
				}
				lintWarnings = append(lintWarnings, fmt.Sprintf("%s (line %d): %s", rule, line, msg))
			}})
			stages, metaArgs, err := instructions.Parse(res.AST, lint)
			require.NoError(t, err)
			assert.Empty(t, lintWarnings, "BuildKit lint warnings")
			assert.Empty(t, metaArgs, "no global ARGs: base images are pinned literally")

			require.GreaterOrEqual(t, len(stages), 2, "multi-stage: build tools stay out of the runtime image")
			stageNames := map[string]bool{}
			for _, st := range stages {
				if !stageNames[strings.ToLower(st.BaseName)] { // not FROM an earlier stage
					assertPinned(t, st.BaseName)
				}
				// BuildKit compares stage names case-insensitively; keep them lowercase.
				assert.Equal(t, strings.ToLower(st.Name), st.Name, "stage names are lowercase")
				stageNames[strings.ToLower(st.Name)] = true
			}

			final := stages[len(stages)-1]
			var user string
			for _, cmd := range final.Commands {
				if u, ok := cmd.(*instructions.UserCommand); ok {
					user = u.User
				}
			}
			assert.Regexp(t, `^[1-9][0-9]*(:[1-9][0-9]*)?$`, user, "the final stage runs as a numeric non-root USER")

			// Every file the build copies from the context exists and is not
			// excluded by .dockerignore (or the build fails on a fresh clone).
			pm := dockerignore(t, contextDir)
			for _, st := range stages {
				for _, cmd := range st.Commands {
					cp, ok := cmd.(*instructions.CopyCommand)
					if !ok || cp.From != "" {
						continue
					}
					for _, src := range cp.SourcePaths {
						matches, err := filepath.Glob(filepath.Join(contextDir, src))
						require.NoError(t, err)
						if assert.NotEmpty(t, matches, "COPY %s: nothing in %s matches", src, contextDir) {
							for _, m := range matches {
								rel, _ := filepath.Rel(contextDir, m)
								if pm != nil && rel != "." {
									excluded, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
									require.NoError(t, err)
									assert.False(t, excluded, "COPY %s: %s is excluded by .dockerignore", src, rel)
								}
							}
						}
					}
				}
			}
		})
	}
}

var (
	pinnedTag    = regexp.MustCompile(`^[^@]+:[A-Za-z0-9_][A-Za-z0-9_.-]*(@sha256:[a-f0-9]{64})?$`)
	pinnedDigest = regexp.MustCompile(`^[^@:]+(:[^@]+)?@sha256:[a-f0-9]{64}$`)
)

func assertPinned(t *testing.T, image string) {
	t.Helper()
	if pinnedDigest.MatchString(image) {
		return
	}
	if assert.Regexp(t, pinnedTag, lastPathPart(image), "base image %q has no tag or digest", image) {
		assert.NotContains(t, image, ":latest", "base image %q uses latest", image)
		assert.NotContains(t, image, "$", "base image %q is not a literal", image)
	}
}

// lastPathPart drops the registry and path so a registry port ("host:5000/x")
// is not mistaken for a tag.
func lastPathPart(image string) string {
	return image[strings.LastIndex(image, "/")+1:]
}

func dockerignore(t *testing.T, contextDir string) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open(filepath.Join(contextDir, ".dockerignore"))
	require.NoError(t, err, "%s needs a .dockerignore so local junk stays out of the build context", contextDir)
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	require.NoError(t, err)
	pm, err := patternmatcher.New(patterns)
	require.NoError(t, err)
	return pm
}
