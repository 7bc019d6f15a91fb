//go:build e2e || e2enode

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
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/todo-chatbot/todo-chatbot/infra"
)

const (
	namespace   = "todo-e2e"
	releaseName = "todo-chatbot"
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
	// destroyed: the test's own destroy step ran; otherwise the stack is destroyed on cleanup.
	destroyed bool
	stack     auto.Stack
	stateDir  string
	root      string
	chart     *chartCopy
}

// stackSpec is what differs between the tiers' stacks: the stack name, the images deployed
// (imageBuild false) and any further config keys.
type stackSpec struct {
	name                        string
	backendImage, frontendImage string
	config                      map[string]string
}

func setupStack(t *testing.T, ctx context.Context, spec stackSpec) *e2eStack {
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
	s, err := auto.UpsertStackInlineSource(ctx, spec.name, infra.Project, infra.Program("."),
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
		"backendImage":       {Value: spec.backendImage},
		"frontendImage":      {Value: spec.frontendImage},
		"logLevel":           {Value: "info"},
		"helmTimeoutSeconds": {Value: "120"},
		"jwtSecret":          {Value: jwtSecret, Secret: true},
		"postgresPassword":   {Value: postgresPassword, Secret: true},
	}
	for k, v := range spec.config {
		cfg[k] = auto.ConfigValue{Value: v}
	}
	full := auto.ConfigMap{}
	for k, v := range cfg {
		full[infra.Project+":"+k] = v
	}
	if err := s.SetAllConfig(ctx, full); err != nil {
		t.Fatalf("set config: %v", err)
	}
	e := &e2eStack{stack: s, stateDir: stateDir, root: root, chart: newChartCopy(t, root)}
	t.Cleanup(func() {
		if !e.destroyed {
			t.Log("cleanup: destroying the stack after a failure")
			if _, err := e.stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout)); err != nil {
				t.Logf("cleanup destroy: %v", err)
			}
		}
	})
	return e
}

func changes(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
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
