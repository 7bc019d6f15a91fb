package chart

// The runbook of docs/operations.md, command by command, against the ops Role: each kubectl line
// is translated into the API requests it makes and checked with the RBAC evaluator of rbac_test.go.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
	"github.com/todo-chatbot/todo-chatbot/tests/runbook"
)

var kubectlResources = map[string]struct{ group, resource string }{
	"pod": {"", "pods"}, "pods": {"", "pods"}, "po": {"", "pods"},
	"event": {"", "events"}, "events": {"", "events"}, "ev": {"", "events"},
	"service": {"", "services"}, "services": {"", "services"}, "svc": {"", "services"},
	"endpoints": {"", "endpoints"}, "ep": {"", "endpoints"},
	"configmap": {"", "configmaps"}, "configmaps": {"", "configmaps"}, "cm": {"", "configmaps"},
	"pvc": {"", "persistentvolumeclaims"}, "persistentvolumeclaim": {"", "persistentvolumeclaims"}, "persistentvolumeclaims": {"", "persistentvolumeclaims"},
	"secret": {"", "secrets"}, "secrets": {"", "secrets"},
	"endpointslice": {"discovery.k8s.io", "endpointslices"}, "endpointslices": {"discovery.k8s.io", "endpointslices"},
	"deployment": {"apps", "deployments"}, "deployments": {"apps", "deployments"}, "deploy": {"apps", "deployments"},
	"replicaset": {"apps", "replicasets"}, "replicasets": {"apps", "replicasets"}, "rs": {"apps", "replicasets"},
	"statefulset": {"apps", "statefulsets"}, "statefulsets": {"apps", "statefulsets"}, "sts": {"apps", "statefulsets"},
	"hpa": {"autoscaling", "horizontalpodautoscalers"}, "horizontalpodautoscalers": {"autoscaling", "horizontalpodautoscalers"},
	"pdb": {"policy", "poddisruptionbudgets"}, "poddisruptionbudgets": {"policy", "poddisruptionbudgets"},
	"ingress": {"networking.k8s.io", "ingresses"}, "ingresses": {"networking.k8s.io", "ingresses"}, "ing": {"networking.k8s.io", "ingresses"},
	"networkpolicy": {"networking.k8s.io", "networkpolicies"}, "networkpolicies": {"networking.k8s.io", "networkpolicies"}, "netpol": {"networking.k8s.io", "networkpolicies"},
	"node": {"", "nodes"}, "nodes": {"", "nodes"}, "namespace": {"", "namespaces"}, "namespaces": {"", "namespaces"},
}

// kubectlClusterScoped resources are read across the cluster whatever the namespace.
var kubectlClusterScoped = map[string]bool{"nodes": true, "namespaces": true}

// kubectlDescribeReads are what `kubectl describe <kind>` reads besides the object and events
// (k8s.io/kubectl/pkg/describe).
var kubectlDescribeReads = map[string][]rbacRequest{
	"deployments":            {{Verb: "list", Group: "apps", Resource: "replicasets"}},
	"statefulsets":           {{Verb: "list", Resource: "pods"}},
	"services":               {{Verb: "list", Group: "discovery.k8s.io", Resource: "endpointslices"}},
	"persistentvolumeclaims": {{Verb: "list", Resource: "pods"}},
	"ingresses":              {{Verb: "get", Resource: "services"}, {Verb: "list", Group: "discovery.k8s.io", Resource: "endpointslices"}},
}

// shellFields splits a command line the way the shell would (quotes, backslash escapes).
func shellFields(line string) []string {
	var out []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// kubectlRequests turns one runbook command into the API requests kubectl makes for it, in the
// namespace of the ops kubeconfig's context. An unknown command form fails the test: teach this
// function what it does rather than leave a command unchecked.
func kubectlRequests(t *testing.T, line string) []rbacRequest {
	t.Helper()
	args := shellFields(line)
	require.True(t, len(args) >= 2 && args[0] == "kubectl", "not a kubectl command: %s", line)
	ns := fixture.Namespace
	var pos []string
	selector, watch := false, false
	valueFlags := map[string]bool{"-o": true, "-l": true, "--selector": true, "--tail": true, "--sort-by": true,
		"--field-selector": true, "--timeout": true, "--revision": true, "-c": true, "--container": true, "--since": true}
	for i := 1; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(a, "=")
		switch {
		case a == "-n" || a == "--namespace":
			i++
			ns = args[i]
		case strings.HasPrefix(a, "--namespace="):
			ns = strings.TrimPrefix(a, "--namespace=")
		case a == "-A" || a == "--all-namespaces":
			ns = ""
		case a == "-w" || a == "--watch":
			watch = true
		case name == "-l" || name == "--selector":
			selector = true
			if !hasValue {
				i++
			}
		case valueFlags[name]:
			if !hasValue {
				i++
			}
		case strings.HasPrefix(a, "-"):
			// boolean flags: --previous, --show-labels, --list, -o wide handled above
		default:
			pos = append(pos, a)
		}
	}
	// kind/name or "kind name" or a bare kind (comma lists allowed for get).
	target := func(words []string) (kinds []string, name string) {
		require.NotEmpty(t, words, "%s: no resource", line)
		if k, n, ok := strings.Cut(words[0], "/"); ok {
			return []string{k}, n
		}
		if len(words) > 1 {
			name = words[1]
		}
		return strings.Split(words[0], ","), name
	}
	resolve := func(kind string) (string, string) {
		r, ok := kubectlResources[strings.ToLower(kind)]
		require.True(t, ok, "%s: unknown resource %q (add it to kubectlResources)", line, kind)
		return r.group, r.resource
	}
	in := func(rs ...rbacRequest) []rbacRequest {
		for i := range rs {
			rs[i].Namespace = ns
		}
		return rs
	}
	readOf := func(kind, name string) []rbacRequest {
		g, res := resolve(kind)
		req := rbacRequest{Verb: "list", Group: g, Resource: res, Namespace: ns}
		if name != "" {
			req.Verb, req.Name = "get", name
		}
		if kubectlClusterScoped[res] {
			req.Namespace = ""
		}
		return []rbacRequest{req}
	}
	// logs resolves a workload to its pods, then reads each pod's log.
	logsOf := func(words []string) []rbacRequest {
		var out []rbacRequest
		if selector {
			out = in(rbacRequest{Verb: "list", Resource: "pods"})
		} else if k, n, ok := strings.Cut(words[0], "/"); ok && k != "pod" && k != "pods" {
			out = append(readOf(k, n), in(rbacRequest{Verb: "list", Resource: "pods"})...)
		} else {
			out = in(rbacRequest{Verb: "get", Resource: "pods", Name: strings.TrimPrefix(strings.TrimPrefix(words[0], "pods/"), "pod/")})
		}
		return append(out, in(rbacRequest{Verb: "get", Resource: "pods", Subresource: "log", Name: "p"})...)
	}

	switch verb, rest := pos[0], pos[1:]; verb {
	case "get":
		kinds, name := target(rest)
		var out []rbacRequest
		for _, k := range kinds {
			out = append(out, readOf(k, name)...)
			if watch {
				g, res := resolve(k)
				out = append(out, in(rbacRequest{Verb: "watch", Group: g, Resource: res})...)
			}
		}
		return out
	case "describe":
		kinds, name := target(rest)
		g, res := resolve(kinds[0])
		out := readOf(kinds[0], name)
		if name == "" && !selector {
			out = in(rbacRequest{Verb: "list", Group: g, Resource: res})
		}
		out = append(out, in(rbacRequest{Verb: "list", Resource: "events"})...)
		return append(out, in(kubectlDescribeReads[res]...)...)
	case "logs":
		return logsOf(rest)
	case "top":
		require.True(t, len(rest) > 0 && (rest[0] == "pod" || rest[0] == "pods" || rest[0] == "po"), "%s: only `kubectl top pod` is namespaced", line)
		return in(rbacRequest{Verb: "list", Group: "metrics.k8s.io", Resource: "pods"})
	case "events":
		return in(rbacRequest{Verb: "list", Resource: "events"})
	case "rollout":
		require.GreaterOrEqual(t, len(rest), 2, "%s: rollout needs a subcommand and a target", line)
		kinds, name := target(rest[1:])
		g, res := resolve(kinds[0])
		switch rest[0] {
		case "status":
			return in(rbacRequest{Verb: "get", Group: g, Resource: res, Name: name}, rbacRequest{Verb: "watch", Group: g, Resource: res})
		case "history":
			require.Equal(t, "deployments", res, "%s: rollout history of %s reads ControllerRevisions, which the ops Role does not grant", line, res)
			return in(rbacRequest{Verb: "get", Group: g, Resource: res, Name: name}, rbacRequest{Verb: "list", Group: "apps", Resource: "replicasets"})
		}
	case "auth":
		if len(rest) > 0 && rest[0] == "can-i" {
			if slices.Contains(args, "--list") {
				return in(rbacRequest{Verb: "create", Group: "authorization.k8s.io", Resource: "selfsubjectrulesreviews"})
			}
			return in(rbacRequest{Verb: "create", Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"})
		}
	}
	require.FailNow(t, line+": command form not understood by kubectlRequests")
	return nil
}

// runbookCommands are the kubectl lines of the "## Runbook" section of docs/operations.md.
func runbookCommands(t *testing.T) []string {
	t.Helper()
	cmds, err := runbook.Commands(operationsDoc(t))
	require.NoError(t, err, "docs/operations.md")
	return cmds
}

func operationsDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixture.Root(), "docs", "operations.md"))
	require.NoError(t, err)
	return string(b)
}

func TestChartOpsRunbookCommandsAreAllowed(t *testing.T) {
	questions := runbook.Questions(operationsDoc(t))
	assert.True(t, questions >= 8 && questions <= 10, "the runbook has %d questions, want 8 to 10", questions)
	cmds := runbookCommands(t)
	require.GreaterOrEqual(t, len(cmds), 20, "only %d runbook commands found", len(cmds))
	role := opsRole(t, fixture.Render(t, fixture.ProgramValues(t, "dev")), fullname+"-ops")
	for _, cmd := range cmds {
		for _, req := range kubectlRequests(t, cmd) {
			assert.True(t, rbacRoleAllows(role, req) || rbacDefaultAllowed(req), "%s\n  needs %s, which the ops Role does not allow", cmd, req)
		}
	}
	// And the translation is not a rubber stamp: these are refused.
	for _, cmd := range []string{
		"kubectl get secrets",
		"kubectl get pods -A",
		"kubectl -n kube-system logs deployment/coredns",
		"kubectl describe secret todo-chatbot-app-secrets",
		"kubectl get nodes,pods",
	} {
		denied := false
		for _, req := range kubectlRequests(t, cmd) {
			denied = denied || !(rbacRoleAllows(role, req) || rbacDefaultAllowed(req))
		}
		assert.True(t, denied, "%s is allowed, want Forbidden", cmd)
	}
}
