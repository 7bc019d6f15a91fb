package chart

// The chart's read-only ops identity (ServiceAccount, Role, RoleBinding "<fullname>-ops"). The Role
// is checked rule by rule and then through an RBAC evaluator that follows the API server's own
// matching rules, so "may the ops identity do X" is answered the way Kubernetes would answer it:
// every command of the runbook in docs/operations.md is allowed (runbook_test.go); Secrets,
// exec/attach/port-forward, every write verb, other namespaces and cluster scope are not.

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

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

func opsRole(t *testing.T, r fixture.Rendering, name string) *rbacv1.Role {
	t.Helper()
	m, ok := r.Find("Role", name)
	require.True(t, ok, "no Role %s", name)
	return m.Obj.(*rbacv1.Role)
}

func TestChartOpsIdentity(t *testing.T) {
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			r := fixture.Render(t, sc.values)
			name := fullname + "-ops"
			m, ok := r.Find("ServiceAccount", name)
			require.True(t, ok, "no ServiceAccount %s (ops.enabled is on by default and in the program's values)", name)
			sa := m.Obj.(*corev1.ServiceAccount)
			assert.True(t, sa.AutomountServiceAccountToken != nil && !*sa.AutomountServiceAccountToken, "the ops ServiceAccount must not automount tokens: no pod runs as it")
			role := opsRole(t, r, name)
			assert.Equal(t, fixture.Namespace, role.Namespace, "the Role belongs in the release namespace")
			bm, ok := r.Find("RoleBinding", name)
			require.True(t, ok, "no RoleBinding")
			rb := bm.Obj.(*rbacv1.RoleBinding)
			assert.Equal(t, rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name}, rb.RoleRef, "the RoleBinding must refer to the ops Role (never a ClusterRole)")
			assert.True(t, len(rb.Subjects) > 0 && rb.Subjects[0] == (rbacv1.Subject{Kind: "ServiceAccount", Name: name, Namespace: fixture.Namespace}),
				"first subject %+v, want the ops ServiceAccount", rb.Subjects)
			// Nothing else in the chart grants anything.
			for _, kind := range []string{"ClusterRole", "ClusterRoleBinding"} {
				assert.Empty(t, r.ByKind(kind), "the chart renders a %s", kind)
			}
			assert.Equal(t, 2, len(r.ByKind("Role"))+len(r.ByKind("RoleBinding")), "Roles and RoleBindings: want exactly the ops pair")
		})
	}
	r := fixture.Render(t, fixture.Merge(secretValues(), fixture.ValuesYAML(t, `ops: {enabled: false}`)))
	for _, kind := range []string{"Role", "RoleBinding"} {
		assert.Empty(t, r.ByKind(kind), "ops.enabled=false still renders a %s", kind)
	}
	_, ok := r.Find("ServiceAccount", fullname+"-ops")
	assert.False(t, ok, "ops.enabled=false still renders the ops ServiceAccount")
}

// Every rule, one by one: read verbs only, no wildcard, no resource names, no non-resource URLs,
// and exactly the grants of opsReadOnlyGrants.
func TestChartOpsRoleRuleByRule(t *testing.T) {
	role := opsRole(t, fixture.Render(t, fixture.ProgramValues(t, "dev")), fullname+"-ops")
	got := map[string]map[string][]string{}
	for i, rule := range role.Rules {
		assert.True(t, len(rule.NonResourceURLs) == 0 && len(rule.ResourceNames) == 0, "rule %d: nonResourceURLs/resourceNames %v %v", i, rule.NonResourceURLs, rule.ResourceNames)
		for _, v := range rule.Verbs {
			assert.Contains(t, []string{"get", "list", "watch"}, v, "rule %d grants verb %q: the ops identity only reads", i, v)
		}
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				assert.False(t, g == "*" || strings.Contains(res, "*") || slices.Contains(rule.Verbs, "*"), "rule %d: wildcard in %q %q %v", i, g, res, rule.Verbs)
				assert.False(t, res == "secrets" || strings.HasPrefix(res, "secrets/"), "rule %d grants Secrets", i)
				if sub, ok := strings.CutPrefix(res, "pods/"); ok {
					assert.Equal(t, "log", sub, "rule %d grants pods/%s: only pods/log is a read", i, sub)
				}
				assert.False(t, strings.HasSuffix(res, "/proxy"), "rule %d grants %s: proxying is not reading", i, res)
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
	assert.Equal(t, want, got, "the ops Role must grant exactly opsReadOnlyGrants")
}

// opsForbiddenRequests are what the ops identity must never be able to do, whatever else is
// added to its Role.
func opsForbiddenRequests() []rbacRequest {
	ns := fixture.Namespace
	var out []rbacRequest
	for _, v := range []string{"get", "list", "watch", "create", "update", "patch", "delete"} {
		out = append(out, rbacRequest{Verb: v, Resource: "secrets", Namespace: ns},
			rbacRequest{Verb: v, Resource: "secrets", Name: existingSecret, Namespace: ns})
	}
	for _, sub := range []string{"exec", "attach", "portforward", "proxy", "ephemeralcontainers", "eviction", "binding", "status"} {
		for _, v := range []string{"get", "create", "update", "patch"} {
			out = append(out, rbacRequest{Verb: v, Resource: "pods", Subresource: sub, Name: "p", Namespace: ns})
		}
	}
	out = append(out,
		rbacRequest{Verb: "get", Resource: "services", Subresource: "proxy", Name: fullname + "-backend", Namespace: ns},
		rbacRequest{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Name: fullname + "-backend", Namespace: ns},
		rbacRequest{Verb: "impersonate", Resource: "serviceaccounts", Name: fullname + "-backend", Namespace: ns},
		rbacRequest{Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "roles", Name: fullname + "-ops", Namespace: ns},
		rbacRequest{Verb: "bind", Group: "rbac.authorization.k8s.io", Resource: "roles", Name: fullname + "-ops", Namespace: ns},
		rbacRequest{Verb: "update", Group: "rbac.authorization.k8s.io", Resource: "roles", Name: fullname + "-ops", Namespace: ns},
		rbacRequest{Verb: "create", Resource: "pods", Namespace: ns},
		rbacRequest{Verb: "delete", Group: "apps", Resource: "deployments", Name: fullname + "-backend", Namespace: ns},
		rbacRequest{Verb: "patch", Group: "apps", Resource: "deployments", Subresource: "scale", Name: fullname + "-backend", Namespace: ns},
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
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			role := opsRole(t, fixture.Render(t, sc.values), fullname+"-ops")
			for _, req := range opsForbiddenRequests() {
				assert.False(t, rbacRoleAllows(role, req), "the ops Role allows %s", req)
			}
		})
	}
}

// The evaluator itself: the rules the tests above must catch are caught.
func TestChartOpsEvaluatorCatchesGrants(t *testing.T) {
	base := opsRole(t, fixture.Render(t, fixture.ProgramValues(t, "dev")), fullname+"-ops")
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
		assert.True(t, caught, "adding a %s rule went unnoticed", name)
	}
	// Other namespaces stay out even for the widest rule.
	role := base.DeepCopy()
	role.Rules = []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}
	assert.False(t, rbacRoleAllows(role, rbacRequest{Verb: "get", Resource: "secrets", Namespace: "kube-system"}) ||
		rbacRoleAllows(role, rbacRequest{Verb: "list", Resource: "nodes"}), "a Role's rules leaked beyond its namespace")
}

func TestChartOpsExtraSubjects(t *testing.T) {
	r := fixture.Render(t, fixture.Merge(secretValues(), fixture.ValuesYAML(t, `
ops:
  extraSubjects:
    - {kind: ServiceAccount, name: kagent-tools, namespace: kagent}
    - {kind: Group, name: oncall, apiGroup: rbac.authorization.k8s.io}
`)))
	m, _ := r.Find("RoleBinding", fullname+"-ops")
	got := m.Obj.(*rbacv1.RoleBinding).Subjects
	want := []rbacv1.Subject{
		{Kind: "ServiceAccount", Name: fullname + "-ops", Namespace: fixture.Namespace},
		{Kind: "ServiceAccount", Name: "kagent-tools", Namespace: "kagent"},
		{Kind: "Group", Name: "oncall", APIGroup: "rbac.authorization.k8s.io"},
	}
	assert.Equal(t, want, got, "the ops RoleBinding's subjects")
}
