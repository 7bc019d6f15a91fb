package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/todo-chatbot/todo-chatbot/infra"
	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

const (
	typeProvider  = "pulumi:providers:kubernetes"
	typeDockerP   = "pulumi:providers:docker"
	typeNamespace = "kubernetes:core/v1:Namespace"
	typeSecret    = "kubernetes:core/v1:Secret"
	typeImage     = "docker:index/image:Image"
	typeRelease   = "kubernetes:helm.sh/v3:Release"
	typeApp       = "todo-chatbot:index:App"
)

// get walks nested objects: get(m, "metadata", "name").
func get(m resource.PropertyMap, path ...string) resource.PropertyValue {
	v := resource.NewObjectProperty(m)
	for _, p := range path {
		if v.IsSecret() {
			v = v.SecretValue().Element
		}
		if !v.IsObject() {
			return resource.NewNullProperty()
		}
		v = v.ObjectValue()[resource.PropertyKey(p)]
	}
	return v
}

// strings collects every string in a property value, noting whether it sits
// inside a secret.
func collectStrings(v resource.PropertyValue, inSecret bool, visit func(s string, secret bool)) {
	switch {
	case v.IsSecret():
		collectStrings(v.SecretValue().Element, true, visit)
	case v.IsString():
		visit(v.StringValue(), inSecret)
	case v.IsObject():
		for _, e := range v.ObjectValue() {
			collectStrings(e, inSecret, visit)
		}
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			collectStrings(e, inSecret, visit)
		}
	case v.IsOutput():
		collectStrings(v.OutputValue().Element, inSecret || v.OutputValue().Secret, visit)
	}
}

func assertNoSecretValues(t *testing.T, what string, v resource.PropertyValue) {
	t.Helper()
	collectStrings(v, false, func(s string, _ bool) {
		for key, secret := range testSecrets {
			assert.NotContains(t, s, secret, "%s contains the value of %s", what, key)
		}
	})
}

func TestDevStackDeploysToMinikube(t *testing.T) {
	m := runProgram(t, devConfig(t), "dev")

	app := m.one(t, typeApp)
	assert.Equal(t, "todo-chatbot", app.Name)

	// The explicit provider targets Minikube, never the ambient context.
	p := m.one(t, typeProvider)
	assert.Equal(t, "minikube", p.Inputs["context"].StringValue())

	ns := m.one(t, typeNamespace)
	assert.Equal(t, "todo-chatbot", get(ns.Inputs, "metadata", "name").StringValue())
	labels := get(ns.Inputs, "metadata", "labels").ObjectValue()
	for _, mode := range []string{"enforce", "audit", "warn"} {
		assert.Equal(t, "restricted", labels[resource.PropertyKey("pod-security.kubernetes.io/"+mode)].StringValue(), mode)
	}

	// Every cluster resource goes through the explicit provider.
	for _, typ := range []string{typeNamespace, typeSecret, typeRelease} {
		r := m.one(t, typ)
		assert.Contains(t, r.Provider, "todo-chatbot-k8s", "%s must use the stack's provider", typ)
	}

	images := m.ofType(typeImage)
	require.Len(t, images, 2)
	for _, img := range images {
		component := strings.TrimPrefix(img.Name, "todo-chatbot-")
		assert.Equal(t, filepath.Join(repoRoot, component), get(img.Inputs, "build", "context").StringValue())
		assert.Equal(t, filepath.Join(repoRoot, component, "Dockerfile"), get(img.Inputs, "build", "dockerfile").StringValue())
		assert.True(t, img.Inputs["skipPush"].BoolValue(), "dev builds into Minikube's daemon and never pushes")
		assert.True(t, get(img.Inputs, "registry").IsNull(), "dev needs no registry login")
		name := img.Inputs["imageName"].StringValue()
		assert.Regexp(t, `^todo-chatbot-`+component+`:[0-9a-f]{20}$`, name, "tag is the build context's content hash, never latest")
	}

	rel := m.one(t, typeRelease)
	assert.Equal(t, filepath.ToSlash(filepath.Join(repoRoot, infra.ChartDir)), rel.Inputs["chart"].StringValue(), "the chart from the program's root")
	assert.Equal(t, "todo-chatbot", rel.Inputs["name"].StringValue())
	assert.Equal(t, "todo-chatbot", rel.Inputs["namespace"].StringValue())
	assert.True(t, rel.Inputs["atomic"].BoolValue())
	assert.True(t, rel.Inputs["cleanupOnFail"].BoolValue())
	assert.False(t, rel.Inputs["skipAwait"].BoolValue(), "the release waits for readiness")
	assert.Equal(t, 300.0, rel.Inputs["timeout"].NumberValue())

	values := rel.Inputs["values"]
	assert.Equal(t, 1.0, get(values.ObjectValue(), "backend", "replicaCount").NumberValue())
	assert.Equal(t, "IfNotPresent", get(values.ObjectValue(), "backend", "image", "pullPolicy").StringValue())
	assert.Equal(t, "", get(values.ObjectValue(), "backend", "image", "digest").StringValue())
	assert.Equal(t, "todo.local", get(values.ObjectValue(), "ingress", "host").StringValue())
	assert.True(t, get(values.ObjectValue(), "postgresql", "enabled").BoolValue())
	assert.Equal(t, "offline", get(values.ObjectValue(), "llm", "provider").StringValue())
	assert.Equal(t, "todo-chatbot-app-secrets", get(values.ObjectValue(), "existingSecret").StringValue())

	// The image the release runs is exactly the one built.
	for _, img := range images {
		component := strings.TrimPrefix(img.Name, "todo-chatbot-")
		name := img.Inputs["imageName"].StringValue()
		repo, tag, _ := strings.Cut(name, ":")
		assert.Equal(t, repo, get(values.ObjectValue(), component, "image", "repository").StringValue())
		assert.Equal(t, tag, get(values.ObjectValue(), component, "image", "tag").StringValue())
	}
}

func TestProdStackPushesAndDeploysByDigest(t *testing.T) {
	m := runProgram(t, prodConfig(t), "prod")

	assert.Equal(t, "prod", m.one(t, typeProvider).Inputs["context"].StringValue())
	rel := m.one(t, typeRelease)
	values := rel.Inputs["values"].ObjectValue()

	images := m.ofType(typeImage)
	require.Len(t, images, 2)
	for _, img := range images {
		component := strings.TrimPrefix(img.Name, "todo-chatbot-")
		assert.False(t, img.Inputs["skipPush"].BoolValue(), "registry stacks push")
		assert.Regexp(t, `^ghcr.io/todo-chatbot/todo-chatbot-`+component+`:[0-9a-f]{20}$`, img.Inputs["imageName"].StringValue())
		assert.Equal(t, "ghcr.io", get(img.Inputs, "registry", "server").StringValue())
		assert.Equal(t, "todo-chatbot-ci", get(img.Inputs, "registry", "username").StringValue())
		pw := get(img.Inputs, "registry", "password")
		assert.True(t, pw.IsSecret(), "the registry password is a secret input")

		assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, get(values, component, "image", "digest").StringValue(), "deployed by digest")
		assert.Equal(t, 3.0, get(values, component, "replicaCount").NumberValue())
		assert.True(t, get(values, component, "autoscaling", "enabled").BoolValue())
		assert.Equal(t, 10.0, get(values, component, "autoscaling", "maxReplicas").NumberValue())
	}
	assert.False(t, get(values, "postgresql", "enabled").BoolValue())
	assert.Equal(t, "todo-chatbot-app-secrets", get(values, "externalDatabase", "existingSecret").StringValue())
	assert.Equal(t, infra.SecretKeyDatabaseURL, get(values, "externalDatabase", "key").StringValue())
	assert.Equal(t, "openai", get(values, "llm", "provider").StringValue())
	assert.Equal(t, "gpt-4o-mini", get(values, "llm", "model").StringValue())
	assert.True(t, get(values, "ingress", "tls", "enabled").BoolValue())
	assert.True(t, get(values, "podDisruptionBudget", "enabled").BoolValue())
	assert.Equal(t, 600.0, rel.Inputs["timeout"].NumberValue())

	secret := m.one(t, typeSecret)
	data := get(secret.Inputs, "stringData")
	require.True(t, data.IsSecret())
	keys := data.SecretValue().Element.ObjectValue()
	assert.Equal(t, testSecrets["databaseUrl"], keys[infra.SecretKeyDatabaseURL].StringValue())
	assert.Equal(t, testSecrets["llmApiKey"], keys[infra.SecretKeyLLMAPIKey].StringValue())
	assert.NotContains(t, keys, resource.PropertyKey(infra.SecretKeyPostgresPassword), "no in-cluster database, no password for it")
}

func TestSecretsLiveOnlyInTheKubernetesSecret(t *testing.T) {
	for _, tc := range []struct {
		stack string
		cfg   func(*testing.T) stackConfig
		want  map[string]string
	}{
		{"dev", devConfig, map[string]string{
			infra.SecretKeyJWT: testSecrets["jwtSecret"], infra.SecretKeyPostgresPassword: testSecrets["postgresPassword"],
		}},
		{"prod", prodConfig, map[string]string{
			infra.SecretKeyJWT: testSecrets["jwtSecret"], infra.SecretKeyDatabaseURL: testSecrets["databaseUrl"],
			infra.SecretKeyLLMAPIKey: testSecrets["llmApiKey"],
		}},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			m := runProgram(t, tc.cfg(t), tc.stack)

			secret := m.one(t, typeSecret)
			assert.Equal(t, "todo-chatbot-app-secrets", get(secret.Inputs, "metadata", "name").StringValue())
			data := get(secret.Inputs, "stringData")
			require.True(t, data.IsSecret(), "stringData must be marked secret so state and logs mask it")
			got := map[string]string{}
			for k, v := range data.SecretValue().Element.ObjectValue() {
				got[string(k)] = v.StringValue()
			}
			assert.Equal(t, tc.want, got)

			// Helm stores values in the cluster and in Pulumi state: nothing secret there.
			rel := m.one(t, typeRelease)
			assertNoSecretValues(t, "Release values", rel.Inputs["values"])
			for _, r := range m.resources {
				if r.Type == typeSecret {
					continue
				}
				collectStrings(resource.NewObjectProperty(r.Inputs), false, func(s string, inSecret bool) {
					for key, secret := range testSecrets {
						if strings.Contains(s, secret) {
							assert.True(t, inSecret, "%s %s carries %s in plain text", r.Type, r.Name, key)
						}
					}
				})
			}
		})
	}
}

// outputsOf builds the App and awaits its outputs.
func outputsOf(t *testing.T, sc stackConfig, stack string) map[string]internals.UnsafeAwaitOutputResult {
	t.Helper()
	got := map[string]internals.UnsafeAwaitOutputResult{}
	_, err := run(t, sc, stack, func(ctx *pulumi.Context) error {
		cfg, err := infra.LoadConfig(ctx)
		if err != nil {
			return err
		}
		app, err := infra.NewApp(ctx, "todo-chatbot", &infra.AppArgs{Config: cfg, RootDir: repoRoot})
		if err != nil {
			return err
		}
		for name, out := range app.Outputs() {
			res, err := internals.UnsafeAwaitOutput(ctx.Context(), out.(pulumi.StringOutput))
			if err != nil {
				return err
			}
			got[name] = res
		}
		return nil
	})
	require.NoError(t, err)
	return got
}

func TestOutputsTellHowToReachTheApp(t *testing.T) {
	out := outputsOf(t, devConfig(t), "dev")
	var names []string
	for name := range out {
		names = append(names, name)
	}
	assert.ElementsMatch(t, []string{"namespace", "releaseName", "releaseStatus", "backendImage",
		"frontendImage", "appUrl", "accessCommand", "opsServiceAccount", "frontendService"}, names, "the stack outputs")
	for name, res := range out {
		assert.True(t, res.Known, name)
		assert.False(t, res.Secret, "%s is a plain output", name)
		for key, secret := range testSecrets {
			assert.NotContains(t, res.Value, secret, "output %s leaks %s", name, key)
		}
	}
	assert.Equal(t, "todo-chatbot", out["namespace"].Value)
	assert.Equal(t, "todo-chatbot", out["releaseName"].Value)
	assert.Equal(t, "deployed", out["releaseStatus"].Value)
	assert.Equal(t, "todo-chatbot-frontend", out["frontendService"].Value)
	assert.Equal(t, "http://todo.local", out["appUrl"].Value)
	assert.Equal(t, "todo-chatbot-ops", out["opsServiceAccount"].Value, "what make ask mints a token for")
	assert.Regexp(t, `^todo-chatbot-backend:[0-9a-f]{20}$`, out["backendImage"].Value)
	assert.Regexp(t, `^todo-chatbot-frontend:[0-9a-f]{20}$`, out["frontendImage"].Value)
	assert.Equal(t, "minikube tunnel  # then map todo.local to 127.0.0.1 in /etc/hosts; or: "+
		"kubectl --context minikube -n todo-chatbot port-forward svc/todo-chatbot-frontend 8080:8080",
		out["accessCommand"].Value)

	prod := outputsOf(t, prodConfig(t), "prod")
	assert.Equal(t, "https://todo.example.com", prod["appUrl"].Value)
	assert.Regexp(t, `^ghcr.io/todo-chatbot/todo-chatbot-backend@sha256:[0-9a-f]{64}$`, prod["backendImage"].Value)
	assert.Equal(t, "kubectl --context prod -n todo-chatbot port-forward svc/todo-chatbot-frontend 8080:8080", prod["accessCommand"].Value)
}

func TestPrebuiltImagesNeedNoDocker(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	sc := devConfig(t).
		set("imageBuild", "false", false).
		set("backendImage", "registry.local:5000/todo-backend:1.2.3", false).
		set("frontendImage", "registry.local:5000/todo-frontend@"+digest, false)
	m := runProgram(t, sc, "dev")

	assert.Empty(t, m.ofType(typeImage), "no image is built")
	assert.Empty(t, m.ofType(typeDockerP), "no Docker provider, so no daemon is contacted")
	values := m.one(t, typeRelease).Inputs["values"].ObjectValue()
	assert.Equal(t, "registry.local:5000/todo-backend", get(values, "backend", "image", "repository").StringValue())
	assert.Equal(t, "1.2.3", get(values, "backend", "image", "tag").StringValue())
	assert.Equal(t, "registry.local:5000/todo-frontend", get(values, "frontend", "image", "repository").StringValue())
	assert.Equal(t, digest, get(values, "frontend", "image", "digest").StringValue())
}

func TestInvalidConfigFailsBeforeAnyResource(t *testing.T) {
	sc := devConfig(t).
		set("backendReplicas", "0", false).
		set("llmProvider", "claude", false).
		set("ingressHost", "Not_A_Host!", false)
	m, err := run(t, sc, "dev", infra.Program(repoRoot))
	require.Error(t, err)
	msg := err.Error()
	// All problems at once, each naming its key, the value and what is allowed.
	assert.Contains(t, msg, `backendReplicas: 0 is out of range (allowed: 1 to 100)`)
	assert.Contains(t, msg, `llmProvider: "claude" is not allowed (allowed: offline, openai)`)
	assert.Contains(t, msg, `ingressHost: "Not_A_Host!" is not a valid host name`)
	assert.Empty(t, m.resources, "nothing is registered when the configuration is invalid")
}

func TestChartEditRollsOutThroughTheRelease(t *testing.T) {
	// Copy the repository's chart, render values, edit a template, render again.
	root := t.TempDir()
	copyDir(t, filepath.Join(repoRoot, infra.ChartDir), filepath.Join(root, infra.ChartDir))
	for _, c := range []string{"backend", "frontend"} {
		copyDir(t, filepath.Join(repoRoot, c), filepath.Join(root, c))
	}
	valuesChecksum := func() string {
		m, err := run(t, devConfig(t), "dev", infra.Program(root))
		require.NoError(t, err)
		return get(m.one(t, typeRelease).Inputs["values"].ObjectValue(), "chartChecksum").StringValue()
	}
	before := valuesChecksum()
	require.Regexp(t, `^[0-9a-f]{64}$`, before)
	assert.Equal(t, before, valuesChecksum(), "an unchanged chart keeps the release unchanged")

	tpl := filepath.Join(root, infra.ChartDir, "templates", "service-backend.yaml")
	b, err := os.ReadFile(tpl)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(tpl, append(b, []byte("\n# an edit\n")...), 0o644))
	assert.NotEqual(t, before, valuesChecksum(), "a template edit changes the release's values, so it rolls out")
}

// The chart's checksum covers what Helm loads: a docs-only edit, or a file the
// chart's .helmignore leaves out, changes nothing, so no release is upgraded.
func TestChartChecksumHonoursHelmignore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "chart")
	copyDir(t, filepath.Join(repoRoot, infra.ChartDir), dir)
	sum := func() string {
		s, err := infra.ChartChecksum(dir)
		require.NoError(t, err)
		return s
	}
	appendTo := func(rel, text string) {
		f, err := os.OpenFile(filepath.Join(dir, rel), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		require.NoError(t, err)
		_, err = f.WriteString(text)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	before := sum()
	appendTo("README.md", "\nA docs-only edit.\n")
	assert.Equal(t, before, sum(), "README.md is in .helmignore")
	appendTo("values.yaml.bak", "left by an editor\n")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".git"), 0o755))
	appendTo(".git/HEAD", "ref: refs/heads/main\n")
	assert.Equal(t, before, sum(), "files .helmignore excludes")
	appendTo("templates/service-backend.yaml", "\n# an edit\n")
	assert.NotEqual(t, before, sum(), "a template edit changes the checksum")
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == "node_modules" || d.Name() == "dist" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	require.NoError(t, err)
}

// The names the program hands out (the frontendService output, the access
// command) are the objects the chart really creates, for any release name:
// the program passes the release name as fullnameOverride, so nothing outside
// the chart re-derives the chart's naming rule.
func TestOutputsNameTheChartsServiceForAnyRelease(t *testing.T) {
	for _, release := range []string{"todo-chatbot", "staging", "my-todo-chatbot-blue", strings.Repeat("a", infra.MaxReleaseName)} {
		out := outputsOf(t, devConfig(t).set("releaseName", release, false), "dev")
		svc, _ := out["frontendService"].Value.(string)
		assert.Equal(t, release+"-frontend", svc)
		assert.Contains(t, out["accessCommand"].Value, "port-forward svc/"+svc+" 8080:8080", release)

		cfg := loadDevStack(t)
		cfg.ReleaseName = release
		rendered := fixture.RenderAs(t, release, infra.ChartValues(cfg, stubImages(), "sum", "1"))
		_, ok := rendered.Find("Service", svc)
		assert.True(t, ok, "the chart renders Service %s for release %s", svc, release)
		for _, sts := range rendered.ByKind("StatefulSet") {
			// Its pods carry controller-revision-hash=<name>-<10-character hash>.
			assert.Empty(t, validation.IsValidLabelValue(sts.Name+"-0123456789"), "release %s", release)
		}
	}
	// One character more and a derived name would not fit a label value: refused up front.
	_, err := run(t, devConfig(t).set("releaseName", strings.Repeat("a", infra.MaxReleaseName+1), false), "dev", infra.Program(repoRoot))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "at most 41 characters")
}

// loadDevStack is the committed dev stack file with its secrets supplied.
func loadDevStack(t *testing.T) *infra.Config {
	return fixture.LoadStack(t, "dev")
}

// stubImages are image references for tests that render the chart without building.
func stubImages() infra.Images {
	return infra.Images{
		Backend:  infra.ImageRef{Repository: "b", Tag: "1", PullPolicy: "IfNotPresent"},
		Frontend: infra.ImageRef{Repository: "f", Tag: "1", PullPolicy: "IfNotPresent"},
	}
}

// The stack's logLevel reaches the backend's environment through the chart.
func TestLogLevelReachesTheBackend(t *testing.T) {
	for _, level := range []string{"debug", "warn"} {
		cfg := loadDevStack(t)
		cfg.LogLevel = level
		vals := infra.ChartValues(cfg, stubImages(), "sum", "1")
		cm, ok := fixture.Render(t, vals).Find("ConfigMap", "todo-chatbot-backend")
		require.True(t, ok)
		assert.Contains(t, cm.YAML, "LOG_LEVEL: \""+level+"\"")
	}
}

// The chart reference is a local path however the root is given: Pulumi runs
// the program from the project directory ("."), tests and the Automation API
// may pass an absolute path.
func TestReleaseChartIsALocalPath(t *testing.T) {
	abs, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	for root, want := range map[string]string{
		".":       "./helm/todo-chatbot",
		"./":      "./helm/todo-chatbot",
		"..":      "../helm/todo-chatbot",
		abs:       filepath.ToSlash(filepath.Join(abs, infra.ChartDir)),
		abs + "/": filepath.ToSlash(filepath.Join(abs, infra.ChartDir)),
	} {
		t.Run(root, func(t *testing.T) {
			sc := devConfig(t)
			if !filepath.IsAbs(root) && root != ".." {
				t.Chdir(repoRoot) // Pulumi's own case: run from the project directory
			}
			m, err := run(t, sc, "dev", infra.Program(root))
			require.NoError(t, err)
			assert.Equal(t, want, m.one(t, typeRelease).Inputs["chart"].StringValue())
		})
	}
}

// Rotating a secret changes the Secret, and with it the Release's
// existingSecretVersion, so the chart rolls the pods that read it; an
// unchanged Secret leaves the Release alone.
func TestSecretRotationRollsThePods(t *testing.T) {
	versionOf := func(sc stackConfig) string {
		m := runProgram(t, sc, "dev")
		v := get(m.one(t, typeRelease).Inputs["values"].ObjectValue(), "existingSecretVersion")
		require.True(t, v.IsString())
		require.NotEmpty(t, v.StringValue())
		return v.StringValue()
	}
	before := versionOf(devConfig(t))
	assert.Equal(t, before, versionOf(devConfig(t)), "same secrets, same values: no upgrade")
	rotated := devConfig(t).set("jwtSecret", "a-rotated-jwt-secret-value-0123456789abcdef", true)
	assert.NotEqual(t, before, versionOf(rotated), "a rotated secret must reach the pods")
}

// scripts/ask.sh mints its token for the opsServiceAccount output: the chart must create exactly
// that ServiceAccount, for any release name.
func TestOpsServiceAccountOutputNamesTheChartsServiceAccount(t *testing.T) {
	for _, release := range []string{"todo-chatbot", "staging", strings.Repeat("a", 40)} {
		cfg := devConfig(t).set("releaseName", release, false)
		out := outputsOf(t, cfg, "dev")
		sa, _ := out["opsServiceAccount"].Value.(string)
		// The chart rendered with the values the program passes for that release.
		rendered := fixture.RenderAs(t, release, m1Values(t, cfg).Mappable())
		_, ok := rendered.Find("ServiceAccount", sa)
		assert.True(t, ok, "the chart renders ServiceAccount %s for release %s", sa, release)
		_, ok = rendered.Find("RoleBinding", sa)
		assert.True(t, ok, "and binds it (RoleBinding %s)", sa)
	}
}

// The kagent switch: off by default (the identity still on, for make ask); on, the chart's Agent
// is enabled in kagent's namespace and kagent's tool server is bound to the read-only Role.
func TestKagentSwitch(t *testing.T) {
	values := m1Values(t, devConfig(t))
	assert.True(t, get(values, "ops", "enabled").BoolValue(), "the ops identity is always on")
	assert.False(t, get(values, "ops", "kagent", "enabled").BoolValue())
	assert.Empty(t, get(values, "ops", "extraSubjects").ArrayValue())

	values = m1Values(t, devConfig(t).set("kagent", "true", false).set("kagentNamespace", "ai-ops", false))
	assert.True(t, get(values, "ops", "kagent", "enabled").BoolValue())
	assert.Equal(t, "ai-ops", get(values, "ops", "kagent", "namespace").StringValue())
	assert.Equal(t, "ai-ops", get(values, "ops", "kagent", "toolServer", "namespace").StringValue())
	assert.True(t, get(values, "ops", "kagent", "force").IsNull(),
		"the program never forces the Agent: the release renders it when the cluster serves kagent's API")
	subjects := get(values, "ops", "extraSubjects").ArrayValue()
	require.Len(t, subjects, 1)
	s := subjects[0].ObjectValue()
	assert.Equal(t, "ServiceAccount", s["kind"].StringValue())
	assert.Equal(t, infra.KAgentToolServerServiceAccount, s["name"].StringValue())
	assert.Equal(t, "ai-ops", s["namespace"].StringValue())

	// What the program passes renders: the Agent where kagent runs, bound tool server, schema-valid.
	ops := values["ops"].Mappable()
	r := fixture.RenderWith(t, fixture.ReleaseName, fixture.Merge(fixture.ProgramValues(t, "dev"), map[string]any{"ops": ops}), fixture.KagentCapabilities(t))
	agents := r.ByKind("Agent")
	require.Len(t, agents, 1)
	assert.Equal(t, "ai-ops", agents[0].Obj.(*fixture.KagentAgent).Namespace)
	assert.Equal(t, "ai-ops", agents[0].Obj.(*fixture.KagentAgent).Spec.Declarative.Tools[0].McpServer.Namespace)
}

// m1Values are the Helm Release's values for a stack configuration.
func m1Values(t *testing.T, sc stackConfig) resource.PropertyMap {
	t.Helper()
	return runProgram(t, sc, "dev").one(t, typeRelease).Inputs["values"].ObjectValue()
}

// The in-cluster PostgreSQL's data survives `pulumi destroy` (make down): its
// PVC lives in the namespace, so the namespace is retained; a stack without
// in-cluster data deletes its namespace as usual.
func TestNamespaceIsRetainedOnDestroyOnlyWithInClusterData(t *testing.T) {
	dev := runProgram(t, devConfig(t), "dev")
	assert.True(t, dev.one(t, typeNamespace).RetainOnDelete, "dev keeps PostgreSQL's data on destroy")
	for _, typ := range []string{typeSecret, typeRelease} {
		assert.False(t, dev.one(t, typ).RetainOnDelete, "%s is removed on destroy", typ)
	}

	prod := runProgram(t, prodConfig(t), "prod")
	assert.False(t, prod.one(t, typeNamespace).RetainOnDelete, "no data in the cluster: nothing to keep")
}
