//go:build e2e

// Package e2e drives the Pulumi program (package infra, the same function main.go runs) through
// the Automation API against the local control plane of cluster.sh, and once through the real
// `pulumi` CLI and Go language host. Run it with tests/e2e/run.sh (or `make e2e`), which builds
// the tools, starts the cluster and sets:
//
//	KUBECONFIG, TODO_E2E_CONTEXT   the harness's kubeconfig and context
//	TODO_TOOLS_BIN                 the built tools (pulumi, plugins), also first on PATH
//	PULUMI_CONFIG_PASSPHRASE, PULUMI_SKIP_UPDATE_CHECK, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION
package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/todo-chatbot/todo-chatbot/infra"
)

const (
	stackName   = "e2e"
	namespace   = "todo-e2e"
	releaseName = "todo-chatbot"
	// Placeholder images: nothing runs in kwok's pods, so they are never pulled.
	backendImage  = "registry.invalid/todo-chatbot/backend:e2e"
	frontendImage = "registry.invalid/todo-chatbot/frontend:e2e"
)

var (
	timings []string
	// Secret config values with a unique marker, searched for where they must not appear.
	jwtSecret        = fmt.Sprintf("e2e-jwt-secret-%d-0123456789abcdefghijklmnop", time.Now().UnixNano())
	postgresPassword = fmt.Sprintf("e2e-pg-password-%d", time.Now().UnixNano())
	rotatedJWTSecret = fmt.Sprintf("e2e-rotated-jwt-%d-0123456789abcdefghijklmnop", time.Now().UnixNano())
)

func TestMain(m *testing.M) {
	code := m.Run()
	if len(timings) > 0 {
		fmt.Println("e2e timings:")
		for _, l := range timings {
			fmt.Println("  " + l)
		}
	}
	os.Exit(code)
}

// step runs one timed step as a subtest; the caller stops when it fails.
func step(t *testing.T, name string, fn func(t *testing.T)) bool {
	t.Helper()
	start := time.Now()
	ok := t.Run(name, fn)
	d := time.Since(start).Round(100 * time.Millisecond)
	status := "ok"
	if !ok {
		status = "FAILED"
	}
	line := fmt.Sprintf("%-28s %8s  %s", name, d, status)
	timings = append(timings, line)
	t.Logf("e2e step %s", line)
	return ok
}

func requireEnv(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if os.Getenv(n) == "" {
			t.Fatalf("%s is not set: run the end-to-end tests through tests/e2e/run.sh (make e2e)", n)
		}
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

// copyTree copies src into dst (regular files and dirs only).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == "node_modules" || d.Name() == ".git" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

func kubectl(args ...string) (string, error) {
	full := append([]string{"--context", os.Getenv("TODO_E2E_CONTEXT")}, args...)
	cmd := exec.Command("kubectl", full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func kubectlJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, err := kubectl(append(args, "-o", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("kubectl %v: %v", args, err)
	}
}

// eventually polls cond every 500ms until it returns nil or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %v", what, timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// ---- the chart copy ----------------------------------------------------------------------

// chartEdit inserts a line into the backend Deployment's pod template annotations (next to
// its checksum/config annotation) of the chart copy under root; "" restores the original.
type chartCopy struct {
	file     string
	original string
}

func newChartCopy(t *testing.T, root string) *chartCopy {
	t.Helper()
	f := filepath.Join(root, infra.ChartDir, "templates", "deployment-backend.yaml")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return &chartCopy{file: f, original: string(b)}
}

var checksumLine = regexp.MustCompile(`(?m)^( +)checksum/config:.*$`)

func (c *chartCopy) podAnnotation(t *testing.T, line string) {
	t.Helper()
	s := c.original
	if line != "" {
		loc := checksumLine.FindStringSubmatchIndex(s)
		if loc == nil {
			t.Fatalf("%s: no checksum/config pod annotation to insert next to", c.file)
		}
		indent := s[loc[2]:loc[3]]
		s = s[:loc[1]] + "\n" + indent + line + s[loc[1]:]
	}
	if err := os.WriteFile(c.file, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ---- Helm release records ----------------------------------------------------------------

type helmRelease struct {
	Name    string         `json:"name"`
	Version int            `json:"version"`
	Info    map[string]any `json:"info"`
	Config  map[string]any `json:"config"`
	raw     string
}

// helmReleases decodes the release records Helm stores as Secrets in the namespace.
func helmReleases(t *testing.T) []helmRelease {
	t.Helper()
	var list struct {
		Items []struct {
			Data map[string]string `json:"data"`
		} `json:"items"`
	}
	kubectlJSON(t, &list, "-n", namespace, "get", "secrets", "-l", "owner=helm,name="+releaseName)
	var out []helmRelease
	for _, it := range list.Items {
		b, err := base64.StdEncoding.DecodeString(it.Data["release"])
		if err != nil {
			t.Fatal(err)
		}
		b, err = base64.StdEncoding.DecodeString(string(b))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		var r helmRelease
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		r.raw = string(b)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

func latestVersion(rels []helmRelease) int {
	if len(rels) == 0 {
		return 0
	}
	return rels[len(rels)-1].Version
}

func releaseStatus(r helmRelease) string { s, _ := r.Info["status"].(string); return s }

// ---- live object checks ------------------------------------------------------------------

type objList struct {
	Items []map[string]any `json:"items"`
}

func get(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func workloadsAvailable() error {
	var deps, sts objList
	out, err := kubectl("-n", namespace, "get", "deployments", "-o", "json")
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), &deps); err != nil {
		return err
	}
	if len(deps.Items) == 0 {
		return fmt.Errorf("no Deployments in %s", namespace)
	}
	for _, d := range deps.Items {
		name := get(d, "metadata", "name")
		want := num(get(d, "spec", "replicas"))
		// Status counts describe the generation the controller last saw; an
		// older one would let the previous rollout pass for this one.
		if og, g := num(get(d, "status", "observedGeneration")), num(get(d, "metadata", "generation")); og < g {
			return fmt.Errorf("Deployment %v: generation %d not yet observed (at %d)", name, g, og)
		}
		if got := num(get(d, "status", "availableReplicas")); got < want {
			return fmt.Errorf("Deployment %v: %d/%d available", name, got, want)
		}
		if num(get(d, "status", "updatedReplicas")) < want {
			return fmt.Errorf("Deployment %v: rollout not finished", name)
		}
	}
	out, err = kubectl("-n", namespace, "get", "statefulsets", "-o", "json")
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), &sts); err != nil {
		return err
	}
	for _, s := range sts.Items {
		want := num(get(s, "spec", "replicas"))
		if og, g := num(get(s, "status", "observedGeneration")), num(get(s, "metadata", "generation")); og < g {
			return fmt.Errorf("StatefulSet %v: generation %d not yet observed (at %d)", get(s, "metadata", "name"), g, og)
		}
		if got := num(get(s, "status", "readyReplicas")); got < want {
			return fmt.Errorf("StatefulSet %v: %d/%d ready", get(s, "metadata", "name"), got, want)
		}
	}
	return nil
}

// backendTemplateHash is the pod-template-hash of the backend Deployment's newest ReplicaSet.
func backendTemplateHash(t *testing.T) string {
	t.Helper()
	var rs objList
	kubectlJSON(t, &rs, "-n", namespace, "get", "replicasets", "-l", "app.kubernetes.io/component=backend")
	best, bestRev := "", -1
	for _, r := range rs.Items {
		rev := 0
		fmt.Sscan(fmt.Sprint(get(r, "metadata", "annotations", "deployment.kubernetes.io/revision")), &rev)
		if rev > bestRev {
			bestRev = rev
			best, _ = get(r, "metadata", "labels", "pod-template-hash").(string)
		}
	}
	if best == "" {
		t.Fatalf("no backend ReplicaSet with a pod-template-hash in %s (%d ReplicaSets)", namespace, len(rs.Items))
	}
	return best
}

func secretMarkers() []string {
	var out []string
	for _, s := range []string{jwtSecret, postgresPassword, rotatedJWTSecret} {
		out = append(out, s, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	return out
}

func assertNoSecret(t *testing.T, where, text string) {
	t.Helper()
	for _, m := range secretMarkers() {
		if strings.Contains(text, m) {
			t.Errorf("a secret config value appears in %s", where)
			return
		}
	}
}

// ---- the test ----------------------------------------------------------------------------

type e2eStack struct {
	stack    auto.Stack
	stateDir string
	root     string
	chart    *chartCopy
}

func setupStack(t *testing.T, ctx context.Context) *e2eStack {
	t.Helper()
	requireEnv(t, "KUBECONFIG", "TODO_E2E_CONTEXT", "PULUMI_CONFIG_PASSPHRASE")
	root := t.TempDir()
	copyTree(t, filepath.Join(repoRoot(t), "helm"), filepath.Join(root, "helm"))
	stateDir := t.TempDir()

	// The program resolves the chart relative to its working directory, like main.go does
	// from the project directory: run it (in-process) and the CLI from the copy.
	prev, _ := os.Getwd()
	if err := os.Chdir(root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chdir(prev) })

	env := map[string]string{
		"PULUMI_BACKEND_URL":                          "file://" + stateDir,
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_HOME":                                 filepath.Join(stateDir, ".pulumi-home"),
	}
	s, err := auto.UpsertStackInlineSource(ctx, stackName, infra.Project, infra.Program("."),
		auto.WorkDir(root),
		auto.Project(workspace.Project{Name: infra.Project, Runtime: workspace.NewProjectRuntimeInfo("go", nil)}),
		auto.SecretsProvider("passphrase"),
		auto.EnvVars(env),
	)
	if err != nil {
		t.Fatalf("create stack: %v", err)
	}
	cfg := auto.ConfigMap{
		"kubeContext":        {Value: os.Getenv("TODO_E2E_CONTEXT")},
		"kubeconfig":         {Value: os.Getenv("KUBECONFIG")},
		"namespace":          {Value: namespace},
		"releaseName":        {Value: releaseName},
		"imageBuild":         {Value: "false"},
		"backendImage":       {Value: backendImage},
		"frontendImage":      {Value: frontendImage},
		"logLevel":           {Value: "info"},
		"helmTimeoutSeconds": {Value: "120"},
		"jwtSecret":          {Value: jwtSecret, Secret: true},
		"postgresPassword":   {Value: postgresPassword, Secret: true},
	}
	full := auto.ConfigMap{}
	for k, v := range cfg {
		full[infra.Project+":"+k] = v
	}
	if err := s.SetAllConfig(ctx, full); err != nil {
		t.Fatalf("set config: %v", err)
	}
	return &e2eStack{stack: s, stateDir: stateDir, root: root, chart: newChartCopy(t, root)}
}

func changes(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func TestDeployLifecycle(t *testing.T) {
	ctx := context.Background()
	e := setupStack(t, ctx)
	stream := optup.ProgressStreams(os.Stdout)
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			t.Log("cleanup: destroying the stack after a failure")
			if _, err := e.stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout)); err != nil {
				t.Logf("cleanup destroy: %v", err)
			}
		}
	})

	if !step(t, "1-preview", func(t *testing.T) {
		res, err := e.stack.Preview(ctx, optpreview.ProgressStreams(os.Stdout))
		if err != nil {
			t.Fatalf("preview: %v", err)
		}
		t.Logf("preview: %v", res.ChangeSummary)
		if res.ChangeSummary[apitype.OpCreate] < 4 {
			t.Fatalf("preview lists %d creates, want the namespace, provider, secret, release and more", res.ChangeSummary[apitype.OpCreate])
		}
	}) {
		return
	}

	if !step(t, "2-up", func(t *testing.T) {
		res, err := e.stack.Up(ctx, stream)
		if err != nil {
			t.Fatalf("up: %v", err)
		}
		if res.Summary.ResourceChanges != nil {
			t.Logf("up: %s", changes(*res.Summary.ResourceChanges))
		}
		for _, k := range []string{"namespace", "releaseName", "releaseStatus", "backendImage", "frontendImage", "accessCommand"} {
			if _, ok := res.Outputs[k]; !ok {
				t.Errorf("stack output %q missing (outputs: %v)", k, keys(res.Outputs))
			}
		}
		if st, _ := res.Outputs["releaseStatus"].Value.(string); st != "deployed" {
			t.Errorf("releaseStatus output = %q, want deployed", st)
		}
		rels := helmReleases(t)
		if len(rels) == 0 || releaseStatus(rels[len(rels)-1]) != "deployed" {
			t.Fatalf("Helm release records: %v, want the latest deployed", summarize(rels))
		}
		eventually(t, 60*time.Second, "every Deployment/StatefulSet available", workloadsAvailable)
	}) {
		return
	}

	if !step(t, "3-noop-up", func(t *testing.T) {
		res, err := e.stack.Up(ctx, stream, optup.ExpectNoChanges())
		if err != nil {
			t.Fatalf("second up is not a no-op: %v", err)
		}
		if res.Summary.ResourceChanges != nil {
			for op, n := range *res.Summary.ResourceChanges {
				if op != string(apitype.OpSame) && n > 0 {
					t.Errorf("second up: %d %s, want only same", n, op)
				}
			}
		}
	}) {
		return
	}

	var goodHash string
	if !step(t, "4-upgrade", func(t *testing.T) {
		before := backendTemplateHash(t)
		revBefore := latestVersion(helmReleases(t))
		if err := e.stack.SetConfig(ctx, infra.Project+":logLevel", auto.ConfigValue{Value: "debug"}); err != nil {
			t.Fatal(err)
		}
		e.chart.podAnnotation(t, `e2e/template-edit: "1"`)
		if _, err := e.stack.Up(ctx, stream); err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		eventually(t, 60*time.Second, "the upgrade rolled out", workloadsAvailable)
		goodHash = backendTemplateHash(t)
		if goodHash == before {
			t.Errorf("backend pod-template-hash still %s after a template edit", before)
		}
		rels := helmReleases(t)
		if latestVersion(rels) <= revBefore || releaseStatus(rels[len(rels)-1]) != "deployed" {
			t.Errorf("Helm release records after upgrade: %v", summarize(rels))
		}
		var cm objList
		kubectlJSON(t, &cm, "-n", namespace, "get", "configmaps")
		if !strings.Contains(fmt.Sprint(cm.Items), "debug") {
			t.Errorf("no ConfigMap carries the new log level")
		}
	}) {
		return
	}

	if !step(t, "5-broken-upgrade", func(t *testing.T) {
		// An annotation key the API server rejects: Helm's upgrade fails and `atomic` rolls back.
		e.chart.podAnnotation(t, `"e2e/not a valid key!": "x"`)
		_, err := e.stack.Up(ctx, stream)
		e.chart.podAnnotation(t, `e2e/template-edit: "1"`)
		if err == nil {
			t.Fatal("an upgrade with an invalid object succeeded")
		}
		t.Logf("broken upgrade failed as expected: %.300s", err)
		rels := helmReleases(t)
		if len(rels) == 0 || releaseStatus(rels[len(rels)-1]) != "deployed" {
			t.Errorf("after the failed upgrade the latest Helm release record is not deployed: %v", summarize(rels))
		}
		if h := backendTemplateHash(t); h != goodHash {
			t.Errorf("backend pod-template-hash %s after the rollback, want the previous %s", h, goodHash)
		}
		eventually(t, 60*time.Second, "the previous revision still serving", workloadsAvailable)
		// The stack converges back to the good revision.
		if _, err := e.stack.Up(ctx, stream); err != nil {
			t.Fatalf("up after the rollback: %v", err)
		}
	}) {
		return
	}

	step(t, "5b-secret-rotation", func(t *testing.T) {
		// The chart cannot read the Pulumi-made Secret; the program passes its
		// resourceVersion, so a rotated secret rolls the backend that reads it.
		before := backendTemplateHash(t)
		if err := e.stack.SetConfig(ctx, infra.Project+":jwtSecret", auto.ConfigValue{Value: rotatedJWTSecret, Secret: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.stack.Up(ctx, stream); err != nil {
			t.Fatalf("up with a rotated jwtSecret: %v", err)
		}
		eventually(t, 60*time.Second, "the rotation rolled out", workloadsAvailable)
		if h := backendTemplateHash(t); h == before {
			t.Errorf("backend pod-template-hash still %s after the JWT secret was rotated", before)
		}
	})

	step(t, "6-live-checks", func(t *testing.T) { liveChecks(t, ctx, e) })

	step(t, "7-destroy", func(t *testing.T) {
		if _, err := e.stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout)); err != nil {
			t.Fatalf("destroy: %v", err)
		}
		destroyed = true
		// The in-cluster PostgreSQL's data outlives destroy (`make down`): its namespace is
		// retained with the PVC in it. Deleting the namespace is what `make down PURGE=1` does.
		out, err := kubectl("get", "pvc", "-n", namespace, "-o", "name")
		if err != nil {
			t.Fatalf("after destroy, the retained namespace: %v", err)
		}
		if !strings.Contains(out, "persistentvolumeclaim/data-") {
			t.Errorf("after destroy, PostgreSQL's PVC is gone (got %q); make down must keep the data", out)
		}
		if _, err := kubectl("delete", "namespace", namespace, "--wait=false"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 90*time.Second, "namespace "+namespace+" gone", func() error {
			out, err := kubectl("get", "namespace", namespace, "--ignore-not-found", "-o", "name")
			if err != nil {
				return err
			}
			if strings.TrimSpace(out) != "" {
				return fmt.Errorf("still there")
			}
			return nil
		})
		dep, err := e.stack.Export(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Resources []json.RawMessage `json:"resources"`
		}
		_ = json.Unmarshal(dep.Deployment, &d)
		if len(d.Resources) != 0 {
			t.Errorf("stack still has %d resources after destroy", len(d.Resources))
		}
	})
}

func liveChecks(t *testing.T, ctx context.Context, e *e2eStack) {
	var ns map[string]any
	kubectlJSON(t, &ns, "get", "namespace", namespace)
	labels, _ := get(ns, "metadata", "labels").(map[string]any)
	if labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace labels %v: want pod-security.kubernetes.io/enforce=restricted", labels)
	}

	var pods objList
	kubectlJSON(t, &pods, "-n", namespace, "get", "pods")
	if len(pods.Items) == 0 {
		t.Error("no pods")
	}
	for _, p := range pods.Items {
		name := get(p, "metadata", "name")
		psc, _ := get(p, "spec", "securityContext").(map[string]any)
		if psc["runAsNonRoot"] != true {
			t.Errorf("pod %v: securityContext.runAsNonRoot not true", name)
		}
		if get(psc, "seccompProfile", "type") != "RuntimeDefault" {
			t.Errorf("pod %v: seccompProfile not RuntimeDefault", name)
		}
		for _, kind := range []string{"initContainers", "containers"} {
			cs, _ := get(p, "spec", kind).([]any)
			for _, c := range cs {
				sc, _ := get(c, "securityContext").(map[string]any)
				if sc["allowPrivilegeEscalation"] != false {
					t.Errorf("pod %v container %v: allowPrivilegeEscalation not false", name, get(c, "name"))
				}
				drop, _ := get(sc, "capabilities", "drop").([]any)
				if fmt.Sprint(drop) != "[ALL]" {
					t.Errorf("pod %v container %v: capabilities.drop %v, want [ALL]", name, get(c, "name"), drop)
				}
			}
		}
	}

	var nps objList
	kubectlJSON(t, &nps, "-n", namespace, "get", "networkpolicies")
	if len(nps.Items) == 0 {
		t.Error("no NetworkPolicies")
	}

	var secrets objList
	kubectlJSON(t, &secrets, "-n", namespace, "get", "secrets")
	found := false
	for _, s := range secrets.Items {
		if get(s, "type") == "Opaque" {
			found = true
		}
	}
	if !found {
		t.Error("no Opaque Secret with the app's secrets")
	}

	for _, r := range helmReleases(t) {
		b, _ := json.Marshal(r.Config)
		assertNoSecret(t, fmt.Sprintf("Helm release revision %d's stored values", r.Version), string(b))
		assertNoSecret(t, fmt.Sprintf("Helm release revision %d's record", r.Version), r.raw)
	}

	var state []byte
	_ = filepath.WalkDir(e.stateDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") && strings.Contains(p, "stacks") {
			b, _ := os.ReadFile(p)
			state = append(state, b...)
		}
		return nil
	})
	if len(state) == 0 {
		t.Error("no stack state file found under " + e.stateDir)
	}
	assertNoSecret(t, "the stack's state file", string(state))

	outs, err := e.stack.Outputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(outs)
	assertNoSecret(t, "the stack outputs", string(b))
}

func keys(m auto.OutputMap) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func summarize(rels []helmRelease) []string {
	var out []string
	for _, r := range rels {
		out = append(out, fmt.Sprintf("v%d:%s", r.Version, releaseStatus(r)))
	}
	return out
}

// TestCLIPreview runs the real `pulumi preview` on a copy of the project directory, as a user
// would: the built CLI compiles main.go through the Go language host.
func TestCLIPreview(t *testing.T) {
	requireEnv(t, "KUBECONFIG", "TODO_E2E_CONTEXT", "PULUMI_CONFIG_PASSPHRASE")
	src := repoRoot(t)
	if _, err := os.Stat(filepath.Join(src, "Pulumi.yaml")); err != nil {
		t.Fatalf("no Pulumi.yaml in the project directory %s", src)
	}
	proj := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "go.mod", "go.sum", "main.go"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proj, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"infra", "helm"} {
		copyTree(t, filepath.Join(src, d), filepath.Join(proj, d))
	}
	state := t.TempDir()
	env := append(os.Environ(),
		"PULUMI_BACKEND_URL=file://"+state,
		"PULUMI_HOME="+filepath.Join(state, ".pulumi-home"),
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
	)
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		cmd := exec.Command("pulumi", append(args, "--non-interactive", "--cwd", proj)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("pulumi %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	step(t, "cli-preview", func(t *testing.T) {
		run(t, "stack", "init", "e2e-cli", "--secrets-provider", "passphrase")
		set := map[string]string{
			"kubeContext": os.Getenv("TODO_E2E_CONTEXT"), "kubeconfig": os.Getenv("KUBECONFIG"),
			"namespace": namespace + "-cli", "imageBuild": "false",
			"backendImage": backendImage, "frontendImage": frontendImage,
		}
		secrets := map[string]string{"jwtSecret": jwtSecret, "postgresPassword": postgresPassword}
		// A user sets no more than this: every other key has a default in
		// Pulumi.yaml, and jwtSecret is the one secret the CLI itself requires.
		for k, v := range set {
			run(t, "config", "set", "--stack", "e2e-cli", infra.Project+":"+k, v)
		}
		for k, v := range secrets {
			run(t, "config", "set", "--stack", "e2e-cli", "--secret", infra.Project+":"+k, v)
		}
		out := run(t, "preview", "--stack", "e2e-cli", "--diff")
		t.Log(out)
		if !strings.Contains(out, "create") {
			t.Errorf("pulumi preview lists no creates")
		}
		assertNoSecret(t, "the pulumi preview output", out)
	})
}
