package chart

// Secrets: values reach the pods only through the Secret and secretKeyRef.

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

func envLiterals(spec corev1.PodSpec) map[string]string {
	out := map[string]string{}
	for _, c := range allContainers(spec) {
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				out[c.Name+"/"+e.Name] = e.Value
			}
		}
	}
	return out
}

func TestChartNoSecretValueOutsideTheSecret(t *testing.T) {
	variants := map[string]map[string]any{ // each renders 3 secrets
		"in-cluster postgres, openai": fixture.Merge(secretValues(), fixture.ValuesYAML(t, `
llm: {provider: openai, baseURL: "https://llm.example.com/v1", model: m}`)),
		"external database, openai": fixture.Merge(secretValues(), fixture.ValuesYAML(t, `
postgresql: {enabled: false}
llm: {provider: openai, baseURL: "https://llm.example.com/v1", model: m}`)),
	}
	// The program's stacks: the Secret is Pulumi's, and no secret it holds reaches the chart.
	for _, stack := range []string{"dev", "prod"} {
		r := fixture.Render(t, fixture.ProgramValues(t, stack))
		assert.Empty(t, r.ByKind("Secret"), "%s: the chart rendered a Secret; the program makes its own", stack)
		for _, m := range r.Manifests {
			for key, secret := range fixture.Secrets {
				assert.False(t, strings.Contains(m.YAML, secret) || strings.Contains(m.YAML, base64.StdEncoding.EncodeToString([]byte(secret))),
					"%s: %s/%s contains the program's %s", stack, m.Kind, m.Name, key)
			}
		}
	}
	for name, vals := range variants {
		r := fixture.Render(t, vals)
		secrets := r.ByKind("Secret")
		require.Len(t, secrets, 1, "%s: want exactly one Secret", name)
		s := secrets[0].Obj.(*corev1.Secret)
		found := map[string]bool{}
		for _, v := range s.Data {
			for _, sentinel := range sentinels {
				if string(v) == sentinel {
					found[sentinel] = true
				}
			}
		}
		assert.GreaterOrEqual(t, len(found), 3, "%s: the Secret holds only %d of the sentinel values", name, len(found))
		for _, m := range r.Manifests {
			if m.Kind == "Secret" {
				continue
			}
			for _, sentinel := range sentinels {
				b64 := base64.StdEncoding.EncodeToString([]byte(sentinel))
				assert.False(t, strings.Contains(m.YAML, sentinel) || strings.Contains(m.YAML, b64), "%s: %s/%s contains a secret value", name, m.Kind, m.Name)
			}
		}
		for _, f := range []string{"NOTES.txt"} {
			for k, content := range r.Files {
				if strings.HasSuffix(k, f) {
					for _, sentinel := range sentinels {
						assert.NotContains(t, content, sentinel, "%s: %s shows a secret value", name, f)
					}
				}
			}
		}
		// Belt and braces on the typed objects: ConfigMap data and env literals.
		for _, m := range r.ByKind("ConfigMap") {
			for k, v := range m.Obj.(*corev1.ConfigMap).Data {
				assert.False(t, looksSecret(v), "%s: ConfigMap %s key %s holds a secret", name, m.Name, k)
			}
		}
		for _, p := range podTemplates(r) {
			for k, v := range envLiterals(p.spec) {
				assert.False(t, looksSecret(v), "%s: %s env %s is a secret literal", name, p.what, k)
			}
		}
	}
}

func looksSecret(v string) bool {
	for _, s := range sentinels {
		if strings.Contains(v, s) || strings.Contains(v, "SENTINEL") {
			return true
		}
	}
	return false
}

// Secret-bearing variables reach the pods only through secretKeyRef.
func secretRefs(t *testing.T, r fixture.Rendering, deployment string) map[string]corev1.SecretKeySelector {
	t.Helper()
	m, ok := r.Find("Deployment", deployment)
	require.True(t, ok, "Deployment %s not rendered", deployment)
	out := map[string]corev1.SecretKeySelector{}
	for _, e := range m.Obj.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			out[e.Name] = *e.ValueFrom.SecretKeyRef
		}
	}
	return out
}

func TestChartExistingSecret(t *testing.T) {
	vals := fixture.ValuesYAML(t, `
existingSecret: `+existingSecret+`
llm: {provider: openai, baseURL: "https://llm.example.com/v1", model: m}`)
	r := fixture.Render(t, vals)
	require.Empty(t, r.ByKind("Secret"), "existingSecret set but a Secret rendered")
	refs := secretRefs(t, r, fullname+"-backend")
	want := map[string]string{"JWT_SECRET": "jwt-secret", "PGPASSWORD": "postgres-password", "LLM_API_KEY": "llm-api-key"}
	for env, key := range want {
		ref, ok := refs[env]
		assert.True(t, ok && ref.Name == existingSecret && ref.Key == key, "%s: secretKeyRef %+v, want %s/%s", env, ref, existingSecret, key)
	}
	m, _ := r.Find("StatefulSet", fullname+"-postgresql")
	for _, e := range m.Obj.(*appsv1.StatefulSet).Spec.Template.Spec.Containers[0].Env {
		if e.Name == "POSTGRES_PASSWORD" {
			assert.True(t, e.ValueFrom != nil && e.ValueFrom.SecretKeyRef.Name == existingSecret && e.ValueFrom.SecretKeyRef.Key == "postgres-password",
				"postgres reads its password from %+v", e.ValueFrom)
		}
	}
	// Offline agent: no LLM key at all.
	r = fixture.Render(t, map[string]any{"existingSecret": existingSecret})
	assert.NotContains(t, secretRefs(t, r, fullname+"-backend"), "LLM_API_KEY", "LLM_API_KEY referenced although llm.provider is offline")
}

// Without existingSecret, each secret the configuration needs is required, by name.
func TestChartRequiredSecrets(t *testing.T) {
	cases := []struct {
		values string
		want   string
	}{
		{`{}`, "secrets.jwtSecret is required"},
		{`secrets: {jwtSecret: "` + strings.Repeat("j", 32) + `"}`, "secrets.postgresPassword is required"},
		{`{secrets: {jwtSecret: "` + strings.Repeat("j", 32) + `", postgresPassword: p}, llm: {provider: openai, baseURL: "https://x.example.com", model: m}}`, "secrets.llmApiKey is required"},
		{`{secrets: {jwtSecret: "` + strings.Repeat("j", 32) + `"}, postgresql: {enabled: false}}`, "secrets.databaseUrl is required"},
	}
	for _, c := range cases {
		_, err := fixture.RenderFiles(t, fixture.ValuesYAML(t, c.values))
		assert.ErrorContains(t, err, c.want, "values %s", c.values)
	}
}
