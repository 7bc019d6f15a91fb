package tests

// Tests of the chart's read-only ops identity (ServiceAccount, Role, RoleBinding "<fullname>-ops")
// and its kagent Agent. The Role is checked rule by rule and then through an RBAC evaluator that
// follows the API server's own matching rules, so "may the ops identity do X" is answered the way
// Kubernetes would answer it: every command of the runbook in docs/operations.md is allowed;
// Secrets, exec/attach/port-forward, every write verb, other namespaces and cluster scope are not.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/todo-chatbot/todo-chatbot/tests/runbook"
)

// kagentAgent mirrors kagent's kagent.dev/v1alpha2 Agent (go/api/v1alpha2/agent_types.go in
// kagent-dev/kagent) for the fields the chart may set. Strict decoding into it rejects a field
// kagent does not have, as the API server's structural schema would.
type kagentAgent struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		Type        string `json:"type"`
		Description string `json:"description,omitempty"`
		Declarative *struct {
			SystemMessage string `json:"systemMessage,omitempty"`
			ModelConfig   string `json:"modelConfig,omitempty"`
			Stream        bool   `json:"stream,omitempty"`
			Tools         []struct {
				Type      string `json:"type,omitempty"`
				McpServer *struct {
					Kind           string   `json:"kind"`
					APIGroup       string   `json:"apiGroup"`
					Name           string   `json:"name"`
					Namespace      string   `json:"namespace,omitempty"`
					ToolNames      []string `json:"toolNames,omitempty"`
					AllowedHeaders []string `json:"allowedHeaders,omitempty"`
				} `json:"mcpServer,omitempty"`
			} `json:"tools,omitempty"`
		} `json:"declarative,omitempty"`
	} `json:"spec,omitempty"`
}

// opsReadOnlyGrants is everything the ops Role may grant: group -> resource -> verbs. Adding a
// resource, a verb or a group to the Role without adding it here fails TestChartOpsRoleRuleByRule;
// what must never be added is checked independently in TestChartOpsForbidden.
var opsReadOnlyGrants = map[string]map[string][]string{
	"": {
		"pods": {"get", "list", "watch"}, "pods/log": {"get", "list", "watch"}, "events": {"get", "list", "watch"},
		"services": {"get", "list", "watch"}, "endpoints": {"get", "list", "watch"},
		"configmaps": {"get", "list", "watch"}, "persistentvolumeclaims": {"get", "list", "watch"},
	},
	"events.k8s.io":     {"events": {"get", "list", "watch"}},
	"discovery.k8s.io":  {"endpointslices": {"get", "list", "watch"}},
	"apps":              {"deployments": {"get", "list", "watch"}, "replicasets": {"get", "list", "watch"}, "statefulsets": {"get", "list", "watch"}},
	"autoscaling":       {"horizontalpodautoscalers": {"get", "list", "watch"}},
	"policy":            {"poddisruptionbudgets": {"get", "list", "watch"}},
	"networking.k8s.io": {"ingresses": {"get", "list", "watch"}, "networkpolicies": {"get", "list", "watch"}},
	"metrics.k8s.io":    {"pods": {"get", "list"}},
}

// kagentReadOnlyTools are kagent's Kubernetes tools that only read (kagent-dev/tools). The
// schema's enum for ops.kagent.toolNames must be exactly this list.
var kagentReadOnlyTools = []string{
	"k8s_get_resources", "k8s_get_resource_yaml", "k8s_describe_resource", "k8s_get_pod_logs",
	"k8s_get_events", "k8s_get_available_api_resources",
}

// kagentWriteTools are kagent tools that change the cluster or run commands in it.
var kagentWriteTools = []string{
	"k8s_apply_manifest", "k8s_patch_resource", "k8s_delete_resource", "k8s_execute_command",
	"k8s_create_resource", "k8s_create_resource_from_url", "k8s_annotate_resource", "k8s_label_resource",
	"k8s_remove_annotation", "k8s_remove_label", "k8s_rollout", "k8s_scale", "k8s_patch_status",
	"k8s_generate_resource", "helm_upgrade", "helm_uninstall", "helm_rollback",
}

// ---------------------------------------------------------------------------------------------
// An RBAC evaluator with the API server's matching rules (k8s.io/kubernetes
// pkg/apis/rbac/v1/evaluation_helpers.go: VerbMatches, APIGroupMatches, ResourceMatches,
// ResourceNameMatches), for the rules of one namespaced Role.

// rbacRequest is one API request. Namespace "" is a cluster-scoped request.
type rbacRequest struct {
	Verb, Group, Resource, Subresource, Name, Namespace string
}

func (r rbacRequest) String() string {
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	g := r.Group
	if g == "" {
		g = "core"
	}
	where := "cluster scope"
	if r.Namespace != "" {
		where = "namespace " + r.Namespace
	}
	return r.Verb + " " + g + " " + res + " " + r.Name + " in " + where
}

func rbacRuleAllows(rule rbacv1.PolicyRule, r rbacRequest) bool {
	if len(rule.NonResourceURLs) > 0 && len(rule.Resources) == 0 {
		return false
	}
	has := func(list []string, v string) bool { return slices.Contains(list, "*") || slices.Contains(list, v) }
	if !has(rule.Verbs, r.Verb) || !has(rule.APIGroups, r.Group) {
		return false
	}
	combined := r.Resource
	if r.Subresource != "" {
		combined += "/" + r.Subresource
	}
	resourceOK := false
	for _, res := range rule.Resources {
		if res == "*" || res == combined ||
			(r.Subresource != "" && res == "*/"+r.Subresource) {
			resourceOK = true
			break
		}
	}
	if !resourceOK {
		return false
	}
	return len(rule.ResourceNames) == 0 || slices.Contains(rule.ResourceNames, r.Name)
}

// rbacRoleAllows: a Role only ever grants requests in its own namespace.
func rbacRoleAllows(role *rbacv1.Role, r rbacRequest) bool {
	if r.Namespace == "" || r.Namespace != role.Namespace {
		return false
	}
	for _, rule := range role.Rules {
		if rbacRuleAllows(rule, r) {
			return true
		}
	}
	return false
}

// rbacDefaultAllowed are the requests every authenticated identity may make through the
// cluster's default ClusterRoles (system:basic-user, system:discovery), not through the ops Role.
func rbacDefaultAllowed(r rbacRequest) bool {
	return r.Verb == "create" && r.Group == "authorization.k8s.io" &&
		(r.Resource == "selfsubjectaccessreviews" || r.Resource == "selfsubjectrulesreviews")
}

// ---------------------------------------------------------------------------------------------

func chartOpsRole(t *testing.T, r chartRendered, name string) *rbacv1.Role {
	t.Helper()
	m, ok := r.find("Role", name)
	if !ok {
		t.Fatalf("no Role %s", name)
	}
	return m.Obj.(*rbacv1.Role)
}

func TestChartOpsIdentity(t *testing.T) {
	for _, sc := range chartScenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			r := renderChart(t, sc.values)
			name := chartFullname + "-ops"
			m, ok := r.find("ServiceAccount", name)
			if !ok {
				t.Fatalf("no ServiceAccount %s (ops.enabled is on by default and in the program's values)", name)
			}
			if sa := m.Obj.(*corev1.ServiceAccount); sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
				t.Error("the ops ServiceAccount must not automount tokens: no pod runs as it")
			}
			role := chartOpsRole(t, r, name)
			if role.Namespace != chartNamespace {
				t.Errorf("Role in %q, want the release namespace", role.Namespace)
			}
			bm, ok := r.find("RoleBinding", name)
			if !ok {
				t.Fatal("no RoleBinding")
			}
			rb := bm.Obj.(*rbacv1.RoleBinding)
			if rb.RoleRef != (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name}) {
				t.Errorf("RoleBinding refers to %+v, want the ops Role (never a ClusterRole)", rb.RoleRef)
			}
			if len(rb.Subjects) == 0 || rb.Subjects[0] != (rbacv1.Subject{Kind: "ServiceAccount", Name: name, Namespace: chartNamespace}) {
				t.Errorf("first subject %+v, want the ops ServiceAccount", rb.Subjects)
			}
			// Nothing else in the chart grants anything.
			for _, kind := range []string{"ClusterRole", "ClusterRoleBinding"} {
				if len(r.byKind(kind)) > 0 {
					t.Errorf("the chart renders a %s", kind)
				}
			}
			if n := len(r.byKind("Role")) + len(r.byKind("RoleBinding")); n != 2 {
				t.Errorf("%d Roles and RoleBindings, want exactly the ops pair", n)
			}
		})
	}
	r := renderChart(t, chartMerge(chartSecretValues(), chartValuesYAML(t, `ops: {enabled: false}`)))
	for _, kind := range []string{"Role", "RoleBinding"} {
		if len(r.byKind(kind)) > 0 {
			t.Errorf("ops.enabled=false still renders a %s", kind)
		}
	}
	if _, ok := r.find("ServiceAccount", chartFullname+"-ops"); ok {
		t.Error("ops.enabled=false still renders the ops ServiceAccount")
	}
}

// Every rule, one by one: read verbs only, no wildcard, no resource names, no non-resource URLs,
// and exactly the grants of opsReadOnlyGrants.
func TestChartOpsRoleRuleByRule(t *testing.T) {
	role := chartOpsRole(t, renderChart(t, chartProgramValues(t, "dev")), chartFullname+"-ops")
	got := map[string]map[string][]string{}
	for i, rule := range role.Rules {
		if len(rule.NonResourceURLs) > 0 || len(rule.ResourceNames) > 0 {
			t.Errorf("rule %d: nonResourceURLs/resourceNames %v %v", i, rule.NonResourceURLs, rule.ResourceNames)
		}
		for _, v := range rule.Verbs {
			if v != "get" && v != "list" && v != "watch" {
				t.Errorf("rule %d grants verb %q: the ops identity only reads", i, v)
			}
		}
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				if g == "*" || strings.Contains(res, "*") || slices.Contains(rule.Verbs, "*") {
					t.Errorf("rule %d: wildcard in %q %q %v", i, g, res, rule.Verbs)
				}
				if res == "secrets" || strings.HasPrefix(res, "secrets/") {
					t.Errorf("rule %d grants Secrets", i)
				}
				if sub, ok := strings.CutPrefix(res, "pods/"); ok && sub != "log" {
					t.Errorf("rule %d grants pods/%s: only pods/log is a read", i, sub)
				}
				if strings.HasSuffix(res, "/proxy") {
					t.Errorf("rule %d grants %s: proxying is not reading", i, res)
				}
				if got[g] == nil {
					got[g] = map[string][]string{}
				}
				got[g][res] = append(got[g][res], rule.Verbs...)
			}
		}
	}
	for g, resources := range got {
		for res, verbs := range resources {
			sort.Strings(verbs)
			got[g][res] = slices.Compact(verbs)
		}
	}
	want := map[string]map[string][]string{}
	for g, resources := range opsReadOnlyGrants {
		want[g] = map[string][]string{}
		for res, verbs := range resources {
			v := slices.Clone(verbs)
			sort.Strings(v)
			want[g][res] = v
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the ops Role grants\n  %v\nwant exactly\n  %v", got, want)
	}
}

// opsForbiddenRequests are what the ops identity must never be able to do, whatever else is
// added to its Role.
func opsForbiddenRequests() []rbacRequest {
	ns := chartNamespace
	var out []rbacRequest
	for _, v := range []string{"get", "list", "watch", "create", "update", "patch", "delete"} {
		out = append(out, rbacRequest{Verb: v, Resource: "secrets", Namespace: ns},
			rbacRequest{Verb: v, Resource: "secrets", Name: chartExistingSecret, Namespace: ns})
	}
	for _, sub := range []string{"exec", "attach", "portforward", "proxy", "ephemeralcontainers", "eviction", "binding", "status"} {
		for _, v := range []string{"get", "create", "update", "patch"} {
			out = append(out, rbacRequest{Verb: v, Resource: "pods", Subresource: sub, Name: "p", Namespace: ns})
		}
	}
	out = append(out,
		rbacRequest{Verb: "get", Resource: "services", Subresource: "proxy", Name: chartFullname + "-backend", Namespace: ns},
		rbacRequest{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Name: chartFullname + "-backend", Namespace: ns},
		rbacRequest{Verb: "impersonate", Resource: "serviceaccounts", Name: chartFullname + "-backend", Namespace: ns},
		rbacRequest{Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "roles", Name: chartFullname + "-ops", Namespace: ns},
		rbacRequest{Verb: "bind", Group: "rbac.authorization.k8s.io", Resource: "roles", Name: chartFullname + "-ops", Namespace: ns},
		rbacRequest{Verb: "update", Group: "rbac.authorization.k8s.io", Resource: "roles", Name: chartFullname + "-ops", Namespace: ns},
		rbacRequest{Verb: "create", Resource: "pods", Namespace: ns},
		rbacRequest{Verb: "delete", Group: "apps", Resource: "deployments", Name: chartFullname + "-backend", Namespace: ns},
		rbacRequest{Verb: "patch", Group: "apps", Resource: "deployments", Subresource: "scale", Name: chartFullname + "-backend", Namespace: ns},
		rbacRequest{Verb: "get", Group: "apps", Resource: "controllerrevisions", Namespace: ns},
		rbacRequest{Verb: "list", Group: "batch", Resource: "jobs", Namespace: ns},
	)
	// Every write verb on everything the Role does grant.
	for g, resources := range opsReadOnlyGrants {
		for res := range resources {
			resource, sub, _ := strings.Cut(res, "/")
			for _, v := range []string{"create", "update", "patch", "delete", "deletecollection"} {
				out = append(out, rbacRequest{Verb: v, Group: g, Resource: resource, Subresource: sub, Name: "x", Namespace: ns})
			}
			// And the same reads in any other namespace or across the cluster.
			out = append(out,
				rbacRequest{Verb: "list", Group: g, Resource: resource, Subresource: sub, Namespace: "kube-system"},
				rbacRequest{Verb: "list", Group: g, Resource: resource, Subresource: sub, Namespace: ""})
		}
	}
	for _, cr := range []struct{ g, r string }{{"", "nodes"}, {"", "namespaces"}, {"", "persistentvolumes"},
		{"rbac.authorization.k8s.io", "clusterroles"}, {"apiextensions.k8s.io", "customresourcedefinitions"},
		{"storage.k8s.io", "storageclasses"}} {
		out = append(out, rbacRequest{Verb: "list", Group: cr.g, Resource: cr.r})
	}
	return out
}

func TestChartOpsForbidden(t *testing.T) {
	for _, sc := range chartScenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			role := chartOpsRole(t, renderChart(t, sc.values), chartFullname+"-ops")
			for _, req := range opsForbiddenRequests() {
				if rbacRoleAllows(role, req) {
					t.Errorf("the ops Role allows %s", req)
				}
			}
		})
	}
}

// The evaluator itself: the rules the tests above must catch are caught.
func TestChartOpsEvaluatorCatchesGrants(t *testing.T) {
	base := chartOpsRole(t, renderChart(t, chartProgramValues(t, "dev")), chartFullname+"-ops")
	for name, extra := range map[string]rbacv1.PolicyRule{
		"secrets":      {APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}},
		"exec":         {APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}},
		"write verb":   {APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"patch"}},
		"all verbs":    {APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"*"}},
		"subresources": {APIGroups: []string{""}, Resources: []string{"*/portforward"}, Verbs: []string{"get", "create"}},
		"everything":   {APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
	} {
		role := base.DeepCopy()
		role.Rules = append(role.Rules, extra)
		caught := false
		for _, req := range opsForbiddenRequests() {
			caught = caught || rbacRoleAllows(role, req)
		}
		if !caught {
			t.Errorf("adding a %s rule went unnoticed", name)
		}
	}
	// Other namespaces stay out even for the widest rule.
	role := base.DeepCopy()
	role.Rules = []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}
	if rbacRoleAllows(role, rbacRequest{Verb: "get", Resource: "secrets", Namespace: "kube-system"}) ||
		rbacRoleAllows(role, rbacRequest{Verb: "list", Resource: "nodes"}) {
		t.Error("a Role's rules leaked beyond its namespace")
	}
}

func TestChartOpsExtraSubjects(t *testing.T) {
	r := renderChart(t, chartMerge(chartSecretValues(), chartValuesYAML(t, `
ops:
  extraSubjects:
    - {kind: ServiceAccount, name: kagent-tools, namespace: kagent}
    - {kind: Group, name: oncall, apiGroup: rbac.authorization.k8s.io}
`)))
	m, _ := r.find("RoleBinding", chartFullname+"-ops")
	got := m.Obj.(*rbacv1.RoleBinding).Subjects
	want := []rbacv1.Subject{
		{Kind: "ServiceAccount", Name: chartFullname + "-ops", Namespace: chartNamespace},
		{Kind: "ServiceAccount", Name: "kagent-tools", Namespace: "kagent"},
		{Kind: "Group", Name: "oncall", APIGroup: "rbac.authorization.k8s.io"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("subjects %+v, want %+v", got, want)
	}
}

// ---------------------------------------------------------------------------------------------
// The runbook

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
	if len(args) < 2 || args[0] != "kubectl" {
		t.Fatalf("not a kubectl command: %s", line)
	}
	ns := chartNamespace
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
		if len(words) == 0 {
			t.Fatalf("%s: no resource", line)
		}
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
		if !ok {
			t.Fatalf("%s: unknown resource %q (add it to kubectlResources)", line, kind)
		}
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
		if len(rest) == 0 || (rest[0] != "pod" && rest[0] != "pods" && rest[0] != "po") {
			t.Fatalf("%s: only `kubectl top pod` is namespaced", line)
		}
		return in(rbacRequest{Verb: "list", Group: "metrics.k8s.io", Resource: "pods"})
	case "events":
		return in(rbacRequest{Verb: "list", Resource: "events"})
	case "rollout":
		if len(rest) < 2 {
			t.Fatalf("%s: rollout needs a subcommand and a target", line)
		}
		kinds, name := target(rest[1:])
		g, res := resolve(kinds[0])
		switch rest[0] {
		case "status":
			return in(rbacRequest{Verb: "get", Group: g, Resource: res, Name: name}, rbacRequest{Verb: "watch", Group: g, Resource: res})
		case "history":
			if res != "deployments" {
				t.Fatalf("%s: rollout history of %s reads ControllerRevisions, which the ops Role does not grant", line, res)
			}
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
	t.Fatalf("%s: command form not understood by kubectlRequests", line)
	return nil
}

// chartRunbookCommands are the kubectl lines of the "## Runbook" section of docs/operations.md.
func chartRunbookCommands(t *testing.T) []string {
	t.Helper()
	cmds, err := runbook.Commands(chartOperationsDoc(t))
	if err != nil {
		t.Fatalf("docs/operations.md: %v", err)
	}
	return cmds
}

func chartOperationsDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartRepoRoot(t), "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestChartOpsRunbookCommandsAreAllowed(t *testing.T) {
	if questions := runbook.Questions(chartOperationsDoc(t)); questions < 8 || questions > 10 {
		t.Errorf("the runbook has %d questions, want 8 to 10", runbook.Questions(chartOperationsDoc(t)))
	}
	cmds := chartRunbookCommands(t)
	if len(cmds) < 20 {
		t.Fatalf("only %d runbook commands found", len(cmds))
	}
	role := chartOpsRole(t, renderChart(t, chartProgramValues(t, "dev")), chartFullname+"-ops")
	for _, cmd := range cmds {
		for _, req := range kubectlRequests(t, cmd) {
			if !rbacRoleAllows(role, req) && !rbacDefaultAllowed(req) {
				t.Errorf("%s\n  needs %s, which the ops Role does not allow", cmd, req)
			}
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
		if !denied {
			t.Errorf("%s is allowed, want Forbidden", cmd)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// The kagent Agent

func chartKagentCapabilities(t *testing.T) *chartutil.Capabilities {
	caps := chartCapabilities(t)
	caps.APIVersions = append(slices.Clone(caps.APIVersions), "kagent.dev/v1alpha2", "kagent.dev/v1alpha2/Agent")
	return caps
}

func TestChartKagentAgent(t *testing.T) {
	on := chartMerge(chartProgramValues(t, "dev"), chartValuesYAML(t, `ops: {kagent: {enabled: true}}`))

	// A cluster without kagent: nothing rendered, the install does not fail, NOTES say why.
	r := renderChart(t, on)
	if len(r.byKind("Agent")) != 0 {
		t.Error("Agent rendered although the API server does not serve kagent.dev/v1alpha2")
	}
	if !strings.Contains(r.Files["todo-chatbot/templates/NOTES.txt"], "was NOT installed") {
		t.Error("NOTES do not say the Agent was skipped")
	}
	// Off by default even where kagent runs.
	if a := renderChartWith(t, chartReleaseName, chartProgramValues(t, "dev"), chartKagentCapabilities(t)).byKind("Agent"); len(a) != 0 {
		t.Error("Agent rendered with ops.kagent.enabled=false")
	}

	for name, r := range map[string]chartRendered{
		"served": renderChartWith(t, chartReleaseName, on, chartKagentCapabilities(t)),
		"forced": renderChart(t, chartMerge(on, chartValuesYAML(t, `ops: {kagent: {force: true}}`))),
	} {
		t.Run(name, func(t *testing.T) {
			agents := r.byKind("Agent")
			if len(agents) != 1 {
				t.Fatalf("%d Agents rendered", len(agents))
			}
			a := agents[0].Obj.(*kagentAgent)
			if a.APIVersion != "kagent.dev/v1alpha2" || a.Name != chartFullname+"-ops" || a.Namespace != "kagent" {
				t.Errorf("Agent %s %s/%s", a.APIVersion, a.Namespace, a.Name)
			}
			chartAssertStandardLabels(t, "Agent", a.Labels)
			s := a.Spec
			if s.Type != "Declarative" || s.Declarative == nil || s.Description == "" {
				t.Fatalf("spec: type %q, declarative %v, description %q", s.Type, s.Declarative != nil, s.Description)
			}
			if s.Declarative.ModelConfig != "default-model-config" {
				t.Errorf("modelConfig %q", s.Declarative.ModelConfig)
			}
			msg := s.Declarative.SystemMessage
			for _, want := range []string{
				`namespace "` + chartNamespace + `"`, chartFullname + "-backend", chartFullname + "-frontend",
				chartFullname + "-postgresql", "/healthz", "/readyz", "read-only", "Never create, change",
				"CrashLoopBackOff", "OOMKilled", "database unreachable", "NetworkPolicies", "Pending",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("systemMessage does not mention %q", want)
				}
			}
			if len(s.Declarative.Tools) != 1 {
				t.Fatalf("%d tool entries, want one", len(s.Declarative.Tools))
			}
			tool := s.Declarative.Tools[0]
			if tool.Type != "McpServer" || tool.McpServer == nil {
				t.Fatalf("tool %+v", tool)
			}
			mcp := tool.McpServer
			if mcp.Kind != "RemoteMCPServer" || mcp.APIGroup != "kagent.dev" || mcp.Name != "kagent-tool-server" || mcp.Namespace != "kagent" {
				t.Errorf("mcpServer reference %+v", mcp)
			}
			if len(mcp.ToolNames) == 0 {
				t.Error("no toolNames: kagent would offer every tool of the server")
			}
			for _, tn := range mcp.ToolNames {
				if !slices.Contains(kagentReadOnlyTools, tn) || slices.Contains(kagentWriteTools, tn) {
					t.Errorf("tool %q is not a read-only kagent tool", tn)
				}
			}
		})
	}
}

// The schema's list of accepted tool names is the read-only list, and nothing that writes.
func TestChartKagentSchemaAcceptsOnlyReadOnlyTools(t *testing.T) {
	var schema struct {
		Properties struct {
			Ops struct {
				Properties struct {
					Kagent struct {
						Properties struct {
							ToolNames struct {
								Items struct {
									Enum []string `json:"enum"`
								} `json:"items"`
							} `json:"toolNames"`
						} `json:"properties"`
					} `json:"kagent"`
				} `json:"properties"`
			} `json:"ops"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(loadTodoChart(t).Schema, &schema); err != nil {
		t.Fatal(err)
	}
	enum := schema.Properties.Ops.Properties.Kagent.Properties.ToolNames.Items.Enum
	if !reflect.DeepEqual(enum, kagentReadOnlyTools) {
		t.Errorf("schema accepts tools %v, want exactly the read-only %v", enum, kagentReadOnlyTools)
	}
	for _, w := range kagentWriteTools {
		vals := chartMerge(chartProgramValues(t, "dev"), map[string]any{"ops": map[string]any{"kagent": map[string]any{
			"enabled": true, "force": true, "toolNames": []any{"k8s_get_resources", w}}}})
		if _, err := renderChartFiles(t, vals); err == nil {
			t.Errorf("tool %s accepted", w)
		}
	}
}
