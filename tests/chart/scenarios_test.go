// Package chart tests the Helm chart helm/todo-chatbot, rendered client-side with the Helm Go SDK
// (tests/internal/fixture) using the chart defaults, the values the Pulumi program produces for the
// committed dev and prod stack files, and a few feature switches. One file per concern, named for it;
// this one holds the scenarios the structural tests run over.
package chart

import (
	"path/filepath"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

const (
	fullname         = "todo-chatbot" // release "todo-chatbot" contains the chart name
	testDigest       = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	existingSecret   = "todo-chatbot-secrets"
	externalDBSecret = "external-db"
)

// chartSecretKeys are the secrets a plain-helm user passes as values (secrets.*) when not using
// existingSecret; the registry password is the program's alone.
var chartSecretKeys = []string{"jwtSecret", "postgresPassword", "llmApiKey", "databaseUrl"}

// sentinels are their stand-in values: rendered through the chart's own secret.yaml, they must
// appear in the Secret and nowhere else.
var sentinels = func() []string {
	var out []string
	for _, k := range chartSecretKeys {
		out = append(out, fixture.Secrets[k])
	}
	return out
}()

// secretValues are what a plain-helm user passes when not using existingSecret.
func secretValues() map[string]any {
	secrets := map[string]any{}
	for k, v := range fixture.SecretsOf(chartSecretKeys...) {
		secrets[k] = v
	}
	return map[string]any{"secrets": secrets}
}

type scenario struct {
	name   string
	values map[string]any
}

// scenarios are the renderings every structural test runs over.
func scenarios(t testing.TB) []scenario {
	t.Helper()
	return []scenario{
		// (a) chart defaults plus the values a plain `helm install` requires.
		{"defaults", secretValues()},
		// (b), (c) exactly what the Pulumi program passes for the committed stack files.
		{"dev", fixture.ProgramValues(t, "dev")},
		{"prod", fixture.ProgramValues(t, "prod")},
		// The chart's own example for a real cluster.
		{"values-prod", fixture.ValuesFile(t, filepath.Join(fixture.ChartDir(t), "values-prod.yaml"))},
		// Every switch flipped the other way at once.
		{"everything", fixture.Merge(secretValues(), fixture.ValuesYAML(t, `
backend:
  replicaCount: 3
  image: {digest: "`+testDigest+`", pullPolicy: Always}
  autoscaling: {enabled: true, minReplicas: 3, maxReplicas: 9}
  env: {CORS_ALLOWED_ORIGINS: "https://todo.example.com"}
frontend:
  replicaCount: 2
  image: {tag: "1.2.3", pullPolicy: Always}
  podLabels: {team: web}
ingress:
  host: todo.example.com
  tls: {enabled: true}
  annotations: {cert-manager.io/cluster-issuer: letsencrypt}
postgresql:
  enabled: false
externalDatabase:
  existingSecret: `+externalDBSecret+`
llm: {provider: openai, baseURL: "https://llm.example.com/v1", model: small}
networkPolicy:
  metricsFrom:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
podDisruptionBudget: {enabled: true}
imagePullSecrets: [{name: regcred}]
ops:
  extraSubjects: [{kind: ServiceAccount, name: kagent-tools, namespace: kagent}]
  kagent: {enabled: true, force: true}
`))},
	}
}
