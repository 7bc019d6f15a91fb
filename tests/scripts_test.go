package tests

// Tests of the shell scripts the Makefile runs, with stand-ins for the tools they call
// (apt-get, minikube, pulumi, kubectl, ...): each stand-in records the arguments it was given,
// so a test sees exactly what the script would have done to the machine or the cluster.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stubTools is a directory of stand-in executables put first on PATH.
type stubTools struct {
	dir string
	log string
}

// newStubTools writes one executable per entry: its body runs after the call is recorded
// ("<name> <args>" on one line of the log); an empty body just records.
func newStubTools(t *testing.T, bodies map[string]string) stubTools {
	t.Helper()
	s := stubTools{dir: t.TempDir()}
	s.log = filepath.Join(s.dir, "calls.log")
	for name, body := range bodies {
		script := "#!/usr/bin/env bash\necho \"" + name + " $*\" >>\"" + s.log + "\"\n" + body + "\n"
		require.NoError(t, os.WriteFile(filepath.Join(s.dir, name), []byte(script), 0o755))
	}
	return s
}

// calls are the recorded invocations, in order.
func (s stubTools) calls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(s.log)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// called reports the recorded calls that start with prefix.
func (s stubTools) called(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	for _, c := range s.calls(t) {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// runScript runs a repository script with the stand-ins first on PATH and only the given
// environment (plus PATH and HOME), returning stdout, stderr and the exit code.
func runScript(t *testing.T, s stubTools, env map[string]string, script string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, script), args...)
	cmd.Env = []string{"PATH=" + s.dir + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr, "running %s: %s", script, errOut.String())
		code = exitErr.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// osRelease writes an os-release file for the given ID and ID_LIKE.
func osRelease(t *testing.T, id, like string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "os-release")
	require.NoError(t, os.WriteFile(p, []byte("ID="+id+"\nID_LIKE="+like+"\n"), 0o644))
	return p
}

// testDepsTools stands in for dpkg-query (every package installed but those in missing),
// id (uid), apt-get, service and npm.
func testDepsTools(t *testing.T, uid string, missing ...string) stubTools {
	dpkg := `pkg=${@: -1}
case " ` + strings.Join(missing, " ") + ` " in *" $pkg "*) exit 1 ;; esac
printf 'install ok installed'`
	return newStubTools(t, map[string]string{
		"dpkg-query": dpkg,
		"id":         `[ "$1" = -u ] && echo ` + uid + ` || echo tester`,
		"apt-get":    "",
		"service":    "",
		"npm":        "",
	})
}

func TestTestDepsInstallsMissingPackagesAsRootOnDebian(t *testing.T) {
	s := testDepsTools(t, "0", "nginx", "chromium")
	_, stderr, code := runScript(t, s, map[string]string{"OS_RELEASE": osRelease(t, "debian", "")}, "scripts/test-deps.sh")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, []string{"apt-get update -qq", "apt-get install -y -qq --no-install-recommends nginx chromium"},
		s.called(t, "apt-get"), "exactly the missing packages are installed")
}

func TestTestDepsNamesTheInstallCommandWhenNotRoot(t *testing.T) {
	s := testDepsTools(t, "1000", "postgresql")
	_, stderr, code := runScript(t, s, map[string]string{"OS_RELEASE": osRelease(t, "ubuntu", "debian")}, "scripts/test-deps.sh")
	assert.Equal(t, 1, code)
	assert.Equal(t, "make test: missing system packages; install them with: sudo apt-get install -y --no-install-recommends postgresql\n", stderr,
		"one line with the exact command")
	assert.Empty(t, s.called(t, "apt-get"), "nothing is installed without root")
}

func TestTestDepsDoesNothingWhenEverythingIsInstalled(t *testing.T) {
	s := testDepsTools(t, "0")
	_, stderr, code := runScript(t, s, map[string]string{"OS_RELEASE": osRelease(t, "debian", "")}, "scripts/test-deps.sh")
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, s.called(t, "apt-get"))
	assert.Empty(t, s.called(t, "service"))
}

func TestTestDepsStopsInOneLineOffDebian(t *testing.T) {
	s := testDepsTools(t, "0")
	_, stderr, code := runScript(t, s, map[string]string{"OS_RELEASE": osRelease(t, "fedora", "")}, "scripts/test-deps.sh")
	assert.Equal(t, 1, code)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	assert.Contains(t, stderr, "needs Debian or Ubuntu with: postgresql")
	assert.Empty(t, s.called(t, "apt-get"))
}

// upTools stands in for everything scripts/up.sh drives. MINIKUBE_STATE is what `minikube
// status` reports, DAEMONSETS what kube-system runs; the stack's outputs name the objects.
func upTools(t *testing.T) stubTools {
	return newStubTools(t, map[string]string{
		"go":     "",
		"docker": "",
		// Like a real port-forward, nothing answers on the local port before the forward runs
		// (up.sh starts it in the background, then polls).
		"curl": `case "$*" in *127.0.0.1:*) grep -q ' port-forward ' "$(dirname "$0")/calls.log" || exit 7 ;; esac
for a in "$@"; do [ "$a" = -w ] && echo 401; done; exit 0`,
		"openssl": `echo generated-secret`,
		"minikube": `case $1 in
status) echo "${MINIKUBE_STATE:-Stopped}" ;;
docker-env) echo 'export DOCKER_HOST=tcp://127.0.0.1:1' ;;
esac`,
		"kubectl": `case "$*" in
*"get daemonsets"*) printf '%s\n' ${DAEMONSETS:-} ;;
*"get namespace"*) [ -n "${NAMESPACE_EXISTS:-}" ] ;;
esac`,
		"pulumi": `case "$1 $2" in
"stack output") [ -n "${NO_OUTPUTS:-}" ] && exit 255
	case $3 in
	namespace) echo todo-ns ;;
	frontendService) echo blue-frontend ;;
	*) echo "$3-value" ;;
	esac ;;
"config get") case $3 in
	kubeContext) echo minikube ;;
	namespace) echo todo-ns ;;
	*) echo set ;;
	esac ;;
esac
exit 0`,
	})
}

func TestMakeUpStartsMinikubeWithAPolicyEnforcingNetwork(t *testing.T) {
	s := upTools(t)
	_, stderr, code := runScript(t, s, map[string]string{"MINIKUBE_STATE": "Stopped", "DAEMONSETS": "daemonset.apps/calico-node daemonset.apps/kube-proxy"}, "scripts/up.sh", "up")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, []string{"minikube start --addons=ingress --cni=calico"}, s.called(t, "minikube start"))
	assert.NotContains(t, stderr, "warning:", "Calico enforces NetworkPolicy: nothing to warn about")
}

func TestMakeUpWarnsInOneLineWhenMinikubeIgnoresNetworkPolicies(t *testing.T) {
	s := upTools(t)
	_, stderr, code := runScript(t, s, map[string]string{"MINIKUBE_STATE": "Running", "DAEMONSETS": "daemonset.apps/kindnet daemonset.apps/kube-proxy"}, "scripts/up.sh", "up")
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, s.called(t, "minikube start"), "a running Minikube is left as it is")
	var warnings []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "warning:") {
			warnings = append(warnings, line)
		}
	}
	require.Len(t, warnings, 1, stderr)
	assert.Contains(t, warnings[0], "does not enforce NetworkPolicy")
	assert.Contains(t, warnings[0], "minikube delete && make up", "the line names the fix")
}

// make up reaches the app through the Service the stack's output names, whatever the
// release is called: the script never rebuilds the chart's names.
func TestMakeUpPortForwardsTheServiceTheStackNames(t *testing.T) {
	s := upTools(t)
	_, stderr, code := runScript(t, s, map[string]string{"MINIKUBE_STATE": "Running", "DAEMONSETS": "daemonset.apps/calico-node"}, "scripts/up.sh", "up")
	require.Equal(t, 0, code, stderr)
	pf := s.called(t, "kubectl --context minikube -n todo-ns port-forward")
	require.Len(t, pf, 1, s.calls(t))
	assert.Contains(t, pf[0], "svc/blue-frontend ")
}

func TestMakeDownKeepsTheDataUnlessPurged(t *testing.T) {
	s := upTools(t)
	stdout, stderr, code := runScript(t, s, map[string]string{"NAMESPACE_EXISTS": "1"}, "scripts/up.sh", "down")
	require.Equal(t, 0, code, stderr)
	assert.Len(t, s.called(t, "pulumi destroy"), 1)
	assert.Empty(t, s.called(t, "kubectl --context minikube delete"), "make down deletes nothing the stack retained")
	assert.Contains(t, stdout, "kept namespace todo-ns")

	s = upTools(t)
	_, stderr, code = runScript(t, s, map[string]string{"NAMESPACE_EXISTS": "1", "PURGE": "1"}, "scripts/up.sh", "down")
	require.Equal(t, 0, code, stderr)
	calls := s.calls(t)
	destroyed := slicesIndexPrefix(calls, "pulumi destroy")
	deleted := slicesIndexPrefix(calls, "kubectl --context minikube delete namespace todo-ns")
	require.NotEqual(t, -1, deleted, "PURGE=1 deletes the namespace and the data in it: %v", calls)
	assert.Less(t, destroyed, deleted, "after the stack is destroyed")

	// make down, then later make down PURGE=1: the stack has no outputs left, and the data
	// it kept is still deleted.
	s = upTools(t)
	_, stderr, code = runScript(t, s, map[string]string{"NAMESPACE_EXISTS": "1", "PURGE": "1", "NO_OUTPUTS": "1"}, "scripts/up.sh", "down")
	require.Equal(t, 0, code, stderr)
	assert.Len(t, s.called(t, "kubectl --context minikube delete namespace todo-ns"), 1, s.calls(t))
}

func slicesIndexPrefix(list []string, prefix string) int {
	for i, s := range list {
		if strings.HasPrefix(s, prefix) {
			return i
		}
	}
	return -1
}

// Only the dev stack keeps its state on this machine: another stack without the team's shared
// backend is refused before anything runs, never started over under a local passphrase.
func TestMakeUpRefusesAStackOutsideTheSharedBackend(t *testing.T) {
	s := upTools(t)
	_, stderr, code := runScript(t, s, map[string]string{"STACK": "prod"}, "scripts/up.sh", "up")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "set PULUMI_BACKEND_URL")
	assert.Empty(t, s.called(t, "pulumi"), "nothing ran")

	s = upTools(t)
	_, stderr, code = runScript(t, s, map[string]string{"STACK": "prod", "PULUMI_BACKEND_URL": "s3://state"}, "scripts/up.sh", "preview")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, []string{"pulumi login s3://state"}, s.called(t, "pulumi login"))
	assert.Empty(t, s.called(t, "pulumi stack init"), "an existing stack is selected, never re-created")
}
