package tests

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/todo-chatbot/todo-chatbot/infra"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// Image tags come from the build context's content: the same source gives the
// same tag (no rebuild, no rollout); any change the build sees gives a new one;
// what .dockerignore leaves out does not count.
func TestImageTagFollowsTheBuildContext(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\nCOPY . /\n")
	writeFile(t, filepath.Join(dir, ".dockerignore"), "*.log\nnode_modules\ndocs/**\n!docs/keep.md\n")
	writeFile(t, filepath.Join(dir, "main.go"), "package main\n")
	writeFile(t, filepath.Join(dir, "docs", "keep.md"), "kept\n")

	hash := func() string {
		h, err := infra.ContextHash(dir)
		require.NoError(t, err)
		return h
	}
	base := hash()
	assert.Equal(t, base, hash(), "hashing is deterministic")

	steps := []struct {
		name    string
		change  func()
		changes bool
	}{
		{"ignored log file", func() { writeFile(t, filepath.Join(dir, "debug.log"), "noise") }, false},
		{"ignored directory", func() { writeFile(t, filepath.Join(dir, "node_modules", "x", "index.js"), "x") }, false},
		{"ignored docs file", func() { writeFile(t, filepath.Join(dir, "docs", "draft.md"), "draft") }, false},
		{"re-included docs file", func() { writeFile(t, filepath.Join(dir, "docs", "keep.md"), "edited") }, true},
		{"source edit", func() { writeFile(t, filepath.Join(dir, "main.go"), "package main\n// edit\n") }, true},
		{"new source file", func() { writeFile(t, filepath.Join(dir, "util.go"), "package main\n") }, true},
		{"executable bit", func() { require.NoError(t, os.Chmod(filepath.Join(dir, "util.go"), 0o755)) }, true},
		{"rename", func() {
			require.NoError(t, os.Rename(filepath.Join(dir, "util.go"), filepath.Join(dir, "util2.go")))
		}, true},
		{"dockerfile edit", func() { writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\nCOPY . /app/\n") }, true},
	}
	prev := base
	for _, s := range steps {
		s.change()
		got := hash()
		if s.changes {
			assert.NotEqual(t, prev, got, "%s must change the tag", s.name)
		} else {
			assert.Equal(t, prev, got, "%s must not change the tag", s.name)
		}
		prev = got
	}
}

// Through the program: an unchanged repository keeps both image names (so
// the docker.Image resources show no diff); a backend edit changes only the
// backend's.
func TestProgramRetagsOnlyTheChangedImage(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{infra.ChartDir, "backend", "frontend"} {
		copyDir(t, filepath.Join(repoRoot, d), filepath.Join(root, d))
	}
	names := func() map[string]string {
		m, err := run(t, devConfig(t), "dev", infra.Program(root))
		require.NoError(t, err)
		out := map[string]string{}
		for _, img := range m.ofType(typeImage) {
			out[img.Name] = img.Inputs["imageName"].StringValue()
		}
		return out
	}
	first := names()
	require.Len(t, first, 2)
	assert.Equal(t, first, names())

	writeFile(t, filepath.Join(root, "backend", "internal", "zz_edit.go"), "package internal\n")
	second := names()
	assert.NotEqual(t, first["todo-chatbot-backend"], second["todo-chatbot-backend"])
	assert.Equal(t, first["todo-chatbot-frontend"], second["todo-chatbot-frontend"])
}

// Images are built for the Docker daemon's own platform unless the stack names one: Minikube's
// daemon is the node's, so an arm64 laptop runs arm64 images; prod pins its cluster's platform.
func TestImagePlatformIsTheStacksChoice(t *testing.T) {
	for _, img := range runProgram(t, devConfig(t), "dev").ofType(typeImage) {
		assert.True(t, get(img.Inputs, "build", "platform").IsNull(), "dev builds for the daemon's platform: %s", img.Name)
	}
	prod := runProgram(t, prodConfig(t), "prod").ofType(typeImage)
	require.Len(t, prod, 2)
	for _, img := range prod {
		assert.Equal(t, "linux/amd64", get(img.Inputs, "build", "platform").StringValue(), img.Name)
	}
	tags := map[string]string{}
	for _, img := range runProgram(t, devConfig(t), "dev").ofType(typeImage) {
		tags[img.Name] = img.Inputs["imageName"].StringValue()
	}
	arm := runProgram(t, devConfig(t).set("imagePlatform", "linux/arm64", false), "dev").ofType(typeImage)
	require.Len(t, arm, 2)
	for _, img := range arm {
		assert.Equal(t, "linux/arm64", get(img.Inputs, "build", "platform").StringValue(), img.Name)
		assert.NotEqual(t, tags[img.Name], img.Inputs["imageName"].StringValue(), "another platform, another tag: %s", img.Name)
	}
}
