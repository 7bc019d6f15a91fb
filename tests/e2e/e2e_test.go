//go:build e2e

// The kwok tier: the program's lifecycle against fake nodes (see harness_test.go).
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/todo-chatbot/todo-chatbot/infra"
)

// Placeholder images: nothing runs in kwok's pods, so they are never pulled.
const (
	stackName     = "e2e"
	backendImage  = "registry.invalid/todo-chatbot/backend:e2e"
	frontendImage = "registry.invalid/todo-chatbot/frontend:e2e"
)

func TestDeployLifecycle(t *testing.T) {
	ctx := context.Background()
	e := setupStack(t, ctx, stackSpec{name: stackName, backendImage: backendImage, frontendImage: frontendImage})
	stream := optup.ProgressStreams(os.Stdout)

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
		for _, k := range []string{"namespace", "releaseName", "releaseStatus", "backendImage", "frontendImage", "accessCommand", "opsServiceAccount"} {
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

	step(t, "6b-ops-identity", func(t *testing.T) { opsChecks(t, ctx, e) })

	step(t, "7-destroy", func(t *testing.T) {
		if _, err := e.stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout)); err != nil {
			t.Fatalf("destroy: %v", err)
		}
		e.destroyed = true
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
