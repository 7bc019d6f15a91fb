package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A cluster that does not start ends `make e2e` there, failed, with a line saying so: the tests
// never run against no cluster (they would fail on a missing KUBECONFIG and hide the cause).
func TestE2EStopsWhenTheClusterDoesNotStart(t *testing.T) {
	tools := t.TempDir()
	bin := filepath.Join(tools, "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	// The whole kwok-tier toolchain, so nothing is built; every tool exits at once, as a crashing
	// etcd would.
	for _, tool := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
		"kwok", "pulumi", "pulumi-language-go", "pulumi-resource-kubernetes"} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, tool), []byte("#!/bin/sh\nexit 1\n"), 0o755))
	}
	check := exec.Command("bash", filepath.Join(repoRoot, "tools/build.sh"), "--tier", "kwok", "--check")
	check.Env = append(os.Environ(), "TODO_TOOLS_DIR="+tools)
	require.NoError(t, check.Run(), "the stand-in toolchain lacks a tool of tools/build.sh's kwok tier")

	// kubectl reads what it is given (cluster.sh pipes manifests to `kubectl apply -f -`): a
	// stand-in that did not would break that pipe, a different failure than the one tested.
	s := newStubTools(t, map[string]string{"kubectl": "cat >/dev/null", "go": ""})
	stdout, stderr, code := runScript(t, s, map[string]string{
		"TODO_TOOLS_DIR":         tools,
		"TMPDIR":                 t.TempDir(),
		"TODO_E2E_READY_TIMEOUT": "30",
	}, "tests/e2e/run.sh")

	assert.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "e2e: FAILED: the cluster did not start")
	assert.Contains(t, stderr, "etcd exited")
	assert.Empty(t, s.called(t, "go "), "go test ran without a cluster")
}
