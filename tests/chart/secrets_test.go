package chart

// Secrets: values reach the pods only through the Secret and secretKeyRef.

import (
	"encoding/base64"
	"strings"
	"testing"

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
		if n := len(r.ByKind("Secret")); n != 0 {
			t.Errorf("%s: the chart rendered %d Secret(s); the program makes its own", stack, n)
		}
		for _, m := range r.Manifests {
			for key, secret := range fixture.Secrets {
				if strings.Contains(m.YAML, secret) || strings.Contains(m.YAML, base64.StdEncoding.EncodeToString([]byte(secret))) {
					t.Errorf("%s: %s/%s contains the program's %s", stack, m.Kind, m.Name, key)
				}
			}
		}
	}
	for name, vals := range variants {
		r := fixture.Render(t, vals)
		secrets := r.ByKind("Secret")
		if len(secrets) != 1 {
			t.Fatalf("%s: want exactly one Secret, got %d", name, len(secrets))
		}
		s := secrets[0].Obj.(*corev1.Secret)
		found := map[string]bool{}
		for _, v := range s.Data {
			for _, sentinel := range sentinels {
				if string(v) == sentinel {
					found[sentinel] = true
				}
			}
		}
		if len(found) < 3 {
			t.Errorf("%s: the Secret holds only %d of the sentinel values", name, len(found))
		}
		for _, m := range r.Manifests {
			if m.Kind == "Secret" {
				continue
			}
			for _, sentinel := range sentinels {
				b64 := base64.StdEncoding.EncodeToString([]byte(sentinel))
				if strings.Contains(m.YAML, sentinel) || strings.Contains(m.YAML, b64) {
					t.Errorf("%s: %s/%s contains a secret value", name, m.Kind, m.Name)
				}
			}
		}
		for _, f := range []string{"NOTES.txt"} {
			for k, content := range r.Files {
				if strings.HasSuffix(k, f) {
					for _, sentinel := range sentinels {
						if strings.Contains(content, sentinel) {
							t.Errorf("%s: %s shows a secret value", name, f)
						}
					}
				}
			}
		}
		// Belt and braces on the typed objects: ConfigMap data and env literals.
		for _, m := range r.ByKind("ConfigMap") {
			for k, v := range m.Obj.(*corev1.ConfigMap).Data {
				if looksSecret(v) {
					t.Errorf("%s: ConfigMap %s key %s holds a secret", name, m.Name, k)
				}
			}
		}
		for _, p := range podTemplates(r) {
			for k, v := range envLiterals(p.spec) {
				if looksSecret(v) {
					t.Errorf("%s: %s env %s is a secret literal", name, p.what, k)
				}
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
	if !ok {
		t.Fatalf("Deployment %s not rendered", deployment)
	}
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
	if n := len(r.ByKind("Secret")); n != 0 {
		t.Fatalf("existingSecret set but %d Secret(s) rendered", n)
	}
	refs := secretRefs(t, r, fullname+"-backend")
	want := map[string]string{"JWT_SECRET": "jwt-secret", "PGPASSWORD": "postgres-password", "LLM_API_KEY": "llm-api-key"}
	for env, key := range want {
		ref, ok := refs[env]
		if !ok || ref.Name != existingSecret || ref.Key != key {
			t.Errorf("%s: secretKeyRef %+v, want %s/%s", env, ref, existingSecret, key)
		}
	}
	m, _ := r.Find("StatefulSet", fullname+"-postgresql")
	for _, e := range m.Obj.(*appsv1.StatefulSet).Spec.Template.Spec.Containers[0].Env {
		if e.Name == "POSTGRES_PASSWORD" && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != existingSecret ||
			e.ValueFrom.SecretKeyRef.Key != "postgres-password") {
			t.Errorf("postgres reads its password from %+v", e.ValueFrom)
		}
	}
	// Offline agent: no LLM key at all.
	r = fixture.Render(t, map[string]any{"existingSecret": existingSecret})
	if _, ok := secretRefs(t, r, fullname+"-backend")["LLM_API_KEY"]; ok {
		t.Error("LLM_API_KEY referenced although llm.provider is offline")
	}
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
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("values %s: error %v, want one containing %q", c.values, err, c.want)
		}
	}
}
