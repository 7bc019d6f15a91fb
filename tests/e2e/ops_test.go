//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/tests/runbook"
)

// repoDir is the repository root, fixed before setupStack changes the working directory.
var repoDir = func() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}()

// opsChecks runs scripts/ask.sh against the deployed stack. A stand-in pulumi answers with the
// stack's real outputs and config, and a stand-in kubectl-ai keeps the kubeconfig it was
// given. Then, with real kubectl and that kubeconfig, it proves the following:
//   - every runbook command in docs/operations.md is allowed;
//   - Secrets, writes, exec, other namespaces and cluster scope are Forbidden;
//   - the kubeconfig holds the minted token only, and the token lives as long as asked.
func opsChecks(t *testing.T, ctx context.Context, e *e2eStack) {
	outs, err := e.stack.Outputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := outs["namespace"].Value.(string)
	sa, _ := outs["opsServiceAccount"].Value.(string)
	if ns != namespace || sa != releaseName+"-ops" {
		t.Fatalf("outputs namespace %q opsServiceAccount %q", ns, sa)
	}
	opsChecksAs(t, ns, sa)
}

// opsChecksAs runs the checks for a deployed release, given its stack outputs.
func opsChecksAs(t *testing.T, ns, sa string) {

	bin, keep := t.TempDir(), filepath.Join(t.TempDir(), "ops-kubeconfig")
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("pulumi", fmt.Sprintf(`case "$1 $2 $3" in
"stack output namespace") echo %q ;;
"stack output opsServiceAccount") echo %q ;;
"config get kubeContext") echo %q ;;
"config get kubeconfig") echo %q ;;
*) echo "pulumi stand-in: $*" >&2; exit 1 ;;
esac
`, ns, sa, os.Getenv("TODO_E2E_CONTEXT"), os.Getenv("KUBECONFIG")))
	write("kubectl-ai", fmt.Sprintf("cp \"$KUBECONFIG\" %q\n", keep))

	cmd := exec.Command("bash", filepath.Join(repoDir, "scripts", "ask.sh"), "are all pods ready?")
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "STACK="+stackName, "ASK_TOKEN_DURATION=10m")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ask.sh: %v\n%s", err, out)
	}

	// The minted kubeconfig: one user, a token and nothing else.
	view := exec.Command("kubectl", "config", "view", "--kubeconfig", keep, "--raw", "-o", "json")
	b, err := view.Output()
	if err != nil {
		t.Fatalf("kubectl config view of the minted kubeconfig: %v", err)
	}
	var kc struct {
		Users []struct {
			User map[string]any `json:"user"`
		} `json:"users"`
	}
	if err := json.Unmarshal(b, &kc); err != nil {
		t.Fatal(err)
	}
	if len(kc.Users) != 1 || len(kc.Users[0].User) != 1 || kc.Users[0].User["token"] == nil {
		t.Fatalf("the minted kubeconfig's users: %v", kc.Users)
	}
	token, _ := kc.Users[0].User["token"].(string)
	claims := jwtClaims(t, token)
	if life := claims.Exp - claims.Iat; life != 600 {
		t.Errorf("the token lives %ds, want the 600 asked for (ASK_TOKEN_DURATION=10m)", life)
	}
	if want := "system:serviceaccount:" + ns + ":" + sa; claims.Sub != want {
		t.Errorf("token subject %q, want %q", claims.Sub, want)
	}

	// ops runs kubectl as the ops identity: stdout, and stderr with the error.
	ops := func(args ...string) (string, string, error) {
		c := exec.Command("kubectl", append([]string{"--kubeconfig", keep}, args...)...)
		var stdout, stderr strings.Builder
		c.Stdout, c.Stderr = &stdout, &stderr
		err := c.Run()
		return stdout.String(), stderr.String(), err
	}
	// The API server's refusal, as kubectl prints it (event messages in stdout do not count).
	forbidden := func(stderr string) bool {
		return strings.Contains(stderr, "(Forbidden)") || strings.Contains(stderr, "is forbidden: User")
	}

	// Every runbook command runs without a Forbidden. Errors that are not about permission are
	// fine here: kwok serves no container logs and there is no metrics-server.
	runbook := runbookCommands(t)
	if len(runbook) < 20 {
		t.Fatalf("only %d runbook commands", len(runbook))
	}
	for _, line := range runbook {
		c := exec.Command("bash", "-c", strings.Replace(line, "kubectl ", "kubectl --kubeconfig "+shellQuote(keep)+" ", 1))
		var stderr strings.Builder
		c.Stderr = &stderr
		err := c.Run()
		if forbidden(stderr.String()) {
			t.Errorf("runbook command refused for the ops identity: %s\n%s", line, stderr.String())
		} else if err != nil {
			t.Logf("runbook command allowed, failed for another reason (%v): %s\n%s", err, line, stderr.String())
		}
	}

	// And what it must never do. The output must name the reason: RBAC forbids it.
	var pods objList
	kubectlJSON(t, &pods, "-n", ns, "get", "pods", "-l", "app.kubernetes.io/component=backend")
	if len(pods.Items) == 0 {
		t.Fatal("no backend pod to try exec on")
	}
	pod, _ := get(pods.Items[0], "metadata", "name").(string)
	for _, args := range [][]string{
		{"get", "secrets"},
		{"get", "secret", infraSecretName()},
		{"delete", "deployment", releaseName + "-backend", "--dry-run=server"},
		{"scale", "deployment", releaseName + "-backend", "--replicas=0", "--dry-run=server"},
		{"run", "intruder", "--image=busybox", "--dry-run=server"},
		{"exec", pod, "--", "true"},
		{"create", "token", releaseName + "-backend"},
		{"-n", "kube-system", "get", "pods"},
		{"-n", "default", "get", "configmaps"},
		{"get", "nodes"},
		{"get", "namespaces"},
		{"get", "clusterroles"},
	} {
		_, stderr, err := ops(args...)
		if err == nil || !forbidden(stderr) {
			t.Errorf("kubectl %s as the ops identity: want Forbidden, got err=%v\n%s", strings.Join(args, " "), err, stderr)
		}
	}
	// `can-i VERB pods/x` would ask about a pod named x: subresources need --subresource.
	for _, q := range [][]string{
		{"get", "secrets"}, {"create", "pods"}, {"delete", "deployments.apps"}, {"patch", "deployments.apps"},
		{"create", "pods", "--subresource=exec"}, {"get", "pods", "--subresource=exec"},
		{"create", "pods", "--subresource=attach"}, {"create", "pods", "--subresource=portforward"},
		{"get", "services", "--subresource=proxy"}, {"create", "serviceaccounts", "--subresource=token"},
		{"list", "pods", "--all-namespaces"}, {"list", "nodes"}, {"impersonate", "serviceaccounts"},
	} {
		out, _, _ := ops(append([]string{"auth", "can-i"}, q...)...)
		if strings.TrimSpace(out) != "no" {
			t.Errorf("auth can-i %s: %q, want no", strings.Join(q, " "), out)
		}
	}
	// (pods.metrics.k8s.io is granted too, but can-i resolves it only where metrics-server runs.)
	for _, q := range [][]string{
		{"get", "pods"}, {"get", "pods", "--subresource=log"}, {"list", "events"}, {"watch", "deployments.apps"},
		{"list", "replicasets.apps"}, {"list", "networkpolicies.networking.k8s.io"},
		{"list", "endpointslices.discovery.k8s.io"}, {"get", "persistentvolumeclaims"},
	} {
		out, _, _ := ops(append([]string{"auth", "can-i"}, q...)...)
		if strings.TrimSpace(out) != "yes" {
			t.Errorf("auth can-i %s: %q, want yes", strings.Join(q, " "), out)
		}
	}
}

func infraSecretName() string { return releaseName + "-app-secrets" }

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

type jwtPayload struct {
	Sub string `json:"sub"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

func jwtClaims(t *testing.T, token string) jwtPayload {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT (%d parts)", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var p jwtPayload
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// runbookCommands are the kubectl lines of the runbook in docs/operations.md (the chart tests
// check the same lines against the rendered Role).
func runbookCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoDir, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := runbook.Commands(string(b))
	if err != nil {
		t.Fatalf("docs/operations.md: %v", err)
	}
	return cmds
}
