package tests

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/todo-chatbot/todo-chatbot/infra"
	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

func TestEveryValidationErrorNamesKeyAndAllowedValues(t *testing.T) {
	type change struct{ key, value string }
	plain := func(kv ...string) []change {
		var cs []change
		for i := 0; i < len(kv); i += 2 {
			cs = append(cs, change{kv[i], kv[i+1]})
		}
		return cs
	}
	cases := []struct {
		name    string
		changes []change
		secrets map[string]string // extra secrets to set
		unset   []string          // secrets to remove
		want    string
	}{
		{name: "namespace", changes: plain("namespace", "Todo_NS"), want: `namespace: "Todo_NS" is not a valid namespace name`},
		{name: "release name too long", changes: plain("releaseName", strings.Repeat("a", 42)), want: `releaseName: "` + strings.Repeat("a", 42) + `" is not a valid release name (lowercase letters, digits and '-', at most 41 characters)`},
		{name: "integer", changes: plain("backendReplicas", "two"), want: `backendReplicas: "two" is not an integer`},
		{name: "boolean", changes: plain("autoscaling", "yes please"), want: `autoscaling: "yes please" is not a boolean (allowed: true, false)`},
		{name: "replicas zero", changes: plain("frontendReplicas", "0"), want: `frontendReplicas: 0 is out of range (allowed: 1 to 100)`},
		{name: "replicas negative", changes: plain("backendReplicas", "-3"), want: `backendReplicas: -3 is out of range (allowed: 1 to 100)`},
		{name: "autoscaling bound", changes: plain("autoscaling", "true", "backendReplicas", "4", "autoscalingMaxReplicas", "2"), want: `autoscalingMaxReplicas: 2 is out of range (allowed: 4, the larger replica count, to 100)`},
		// A value that can never be valid is refused even while its feature is off.
		{name: "autoscaling max negative while off", changes: plain("autoscalingMaxReplicas", "-3"), want: `autoscalingMaxReplicas: -3 is out of range (allowed: 1 to 100)`},
		{name: "autoscaling max too large while off", changes: plain("autoscalingMaxReplicas", "101"), want: `autoscalingMaxReplicas: 101 is out of range (allowed: 1 to 100)`},
		{name: "host while ingress off", changes: plain("ingressEnabled", "false", "ingressHost", "Not_A_Host"), want: `ingressHost: "Not_A_Host" is not a valid host name`},
		{name: "tls secret name while tls off", changes: plain("ingressTlsSecretName", "Bad Name"), want: `ingressTlsSecretName: "Bad Name" is not a valid Secret name`},
		{name: "storage size while postgres external", changes: plain("postgresInCluster", "false", "postgresStorageSize", "lots"), unset: []string{"postgresPassword"}, secrets: map[string]string{"databaseUrl": testSecrets["databaseUrl"]}, want: `postgresStorageSize: "lots" is not a storage quantity`},
		{name: "image platform", changes: plain("imagePlatform", "arm64"), want: `imagePlatform: "arm64" is not a platform os/arch[/variant] (e.g. linux/amd64, linux/arm64)`},
		{name: "image platform with prebuilt images", changes: plain("imageBuild", "false", "backendImage", "acme/backend:1", "frontendImage", "acme/frontend:1", "imagePlatform", "linux/arm64"), want: `imagePlatform: only used when imageBuild is true`},
		{name: "host", changes: plain("ingressHost", "todo..local"), want: `ingressHost: "todo..local" is not a valid host name`},
		{name: "tls without secret", changes: plain("ingressTls", "true"), want: `ingressTlsSecretName: required when ingressTls is true`},
		{name: "tls without ingress", changes: plain("ingressEnabled", "false", "ingressTls", "true", "ingressTlsSecretName", "x"), want: `ingressTls: needs ingressEnabled: true`},
		{name: "storage", changes: plain("postgresStorageSize", "lots"), want: `postgresStorageSize: "lots" is not a storage quantity (e.g. 1Gi, 500Mi)`},
		{name: "llm provider", changes: plain("llmProvider", "claude"), want: `llmProvider: "claude" is not allowed (allowed: offline, openai)`},
		{name: "openai needs url", changes: plain("llmProvider", "openai", "llmModel", "m"), secrets: map[string]string{"llmApiKey": "k"}, want: `llmBaseUrl: "" is not an http(s) URL; required when llmProvider is openai`},
		{name: "openai needs model", changes: plain("llmProvider", "openai", "llmBaseUrl", "http://127.0.0.1:9/v1"), secrets: map[string]string{"llmApiKey": "k"}, want: `llmModel: required when llmProvider is openai`},
		{name: "openai needs key", changes: plain("llmProvider", "openai", "llmBaseUrl", "http://127.0.0.1:9/v1", "llmModel", "m"), want: `llmApiKey: required when llmProvider is openai; set it with: pulumi config set --secret llmApiKey <value>`},
		{name: "llm settings without openai", changes: plain("llmModel", "gpt"), want: `llmBaseUrl/llmModel/llmApiKey: only used when llmProvider is openai`},
		{name: "log level", changes: plain("logLevel", "verbose"), want: `logLevel: "verbose" is not allowed (allowed: debug, info, warn, error)`},
		{name: "helm timeout", changes: plain("helmTimeoutSeconds", "5"), want: `helmTimeoutSeconds: 5 is out of range (allowed: 60 to 3600)`},
		{name: "jwt missing", unset: []string{"jwtSecret"}, want: `jwtSecret: required (at least 32 random characters); set it with: pulumi config set --secret jwtSecret <value>`},
		{name: "jwt short", secrets: map[string]string{"jwtSecret": "short"}, want: `jwtSecret: too short (at least 32 characters)`},
		{name: "postgres password missing", unset: []string{"postgresPassword"}, want: `postgresPassword: required for the in-cluster PostgreSQL`},
		{name: "external db missing", changes: plain("postgresInCluster", "false"), unset: []string{"postgresPassword"}, want: `databaseUrl: required when postgresInCluster is false`},
		{name: "external db not a url", changes: plain("postgresInCluster", "false"), unset: []string{"postgresPassword"}, secrets: map[string]string{"databaseUrl": "mysql://x"}, want: `databaseUrl: not a postgres:// or postgresql:// URL with a host`},
		{name: "prebuilt images missing", changes: plain("imageBuild", "false"), want: `backendImage: required when imageBuild is false`},
		{name: "prebuilt latest", changes: plain("imageBuild", "false", "backendImage", "acme/backend:latest", "frontendImage", "acme/frontend:1"), want: `backendImage: "acme/backend:latest" uses the mutable tag latest`},
		{name: "prebuilt untagged", changes: plain("imageBuild", "false", "backendImage", "acme/backend", "frontendImage", "acme/frontend:1"), want: `backendImage: "acme/backend" is not an image reference with a tag or @sha256 digest`},
		{name: "images given while building", changes: plain("backendImage", "acme/backend:1"), want: `backendImage/frontendImage: only used when imageBuild is false`},
		{name: "registry", changes: plain("imageRegistry", "https://ghcr.io"), want: `imageRegistry: "https://ghcr.io" is not a registry host`},
		{name: "registry password without user", changes: plain("imageRegistry", "ghcr.io/acme"), secrets: map[string]string{"registryPassword": "p"}, want: `registryUsername: required with registryPassword`},
		{name: "kagent namespace", changes: plain("kagent", "true", "kagentNamespace", "Kagent NS"), want: `kagentNamespace: "Kagent NS" is not a valid namespace name`},
		{name: "unknown key", changes: plain("replicas", "3"), want: `replicas: unknown key`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := devConfig(t)
			for _, c := range tc.changes {
				sc.set(c.key, c.value, false)
			}
			for k, v := range tc.secrets {
				sc.set(k, v, true)
			}
			for _, k := range tc.unset {
				delete(sc.values, k)
				delete(sc.secrets, k)
			}
			m, err := run(t, sc, "dev", infra.Program(repoRoot))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, m.resources, "validation happens before any resource is registered")
		})
	}
}

func TestSecretsMustBeSetAsSecrets(t *testing.T) {
	sc := devConfig(t).set("jwtSecret", testSecrets["jwtSecret"], false)
	_, err := run(t, sc, "dev", infra.Program(repoRoot))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "jwtSecret: must be set as a secret: pulumi config set --secret jwtSecret <value>")
	assert.NotContains(t, err.Error(), testSecrets["jwtSecret"], "the error itself must not echo the secret")
}

func TestProdStackNamesEachMissingSecret(t *testing.T) {
	_, err := run(t, readStackFile(t, "prod"), "prod", infra.Program(repoRoot))
	require.Error(t, err)
	for _, key := range []string{"registryPassword", "jwtSecret", "databaseUrl", "llmApiKey"} {
		assert.Contains(t, err.Error(), key+": required", "the preview error names %s", key)
		assert.Contains(t, err.Error(), "pulumi config set --secret "+key)
	}
	// The same answer without the engine, from the committed files.
	_, err = infra.LoadStackFiles(repoRoot+"/Pulumi.yaml", repoRoot+"/Pulumi.prod.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "llmApiKey: required")
}

func TestCommittedStackFilesLoadWithoutTheEngine(t *testing.T) {
	dev, err := infra.LoadStackFiles(repoRoot+"/Pulumi.yaml", repoRoot+"/Pulumi.dev.yaml",
		infra.WithSecrets(fixture.SecretsOf("jwtSecret", "postgresPassword")))
	require.NoError(t, err)
	assert.Equal(t, "minikube", dev.KubeContext)
	assert.True(t, dev.ImageBuild)
	assert.False(t, dev.Push())
	assert.Equal(t, 1, dev.BackendReplicas)
	assert.Equal(t, "offline", dev.LLMProvider)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", dev, dev, dev), testSecrets["jwtSecret"], "a Config never prints its secrets")

	prod, err := infra.LoadStackFiles(repoRoot+"/Pulumi.yaml", repoRoot+"/Pulumi.prod.yaml", infra.WithSecrets(fixture.SecretsOf(
		"jwtSecret", "databaseUrl", "llmApiKey", "registryPassword")))
	require.NoError(t, err)
	assert.True(t, prod.Push())
	assert.Equal(t, 3, prod.BackendReplicas)
	assert.False(t, prod.PostgresInCluster)
}

// Pulumi.yaml declares exactly the keys the program reads, with the same
// types, defaults and secrecy, so `pulumi config` tells users the truth. It is
// read (and validated against the project schema) by the CLI's own loader.
func TestPulumiYamlDeclaresEveryKey(t *testing.T) {
	project, err := workspace.LoadProject(repoRoot + "/Pulumi.yaml")
	require.NoError(t, err)
	assert.Equal(t, infra.Project, project.Name.String())
	assert.Equal(t, "go", project.Runtime.Name())

	declared := map[string]bool{}
	for _, k := range infra.ConfigKeys() {
		declared[k.Name] = true
		d, ok := project.Config[k.Name]
		if !assert.True(t, ok, "Pulumi.yaml does not declare %s", k.Name) {
			continue
		}
		assert.Equal(t, k.Type, d.TypeName(), k.Name)
		assert.NotEmpty(t, d.Description, k.Name)
		if !k.Required {
			assert.NotNil(t, d.Default, "%s: an optional key needs a default, or the CLI demands a value", k.Name)
		}
		switch {
		case k.Secret && k.Required:
			// The CLI demands it and refuses a plain-text value.
			assert.True(t, d.Secret, "%s: declared secret", k.Name)
			assert.Nil(t, d.Default, "%s: a required secret has no default", k.Name)
		case k.Secret:
			// Optional secrets: the CLI stores a declared default in plain text and
			// then rejects it for a secret key, so they default to "" and the
			// program checks secrecy (TestSecretsMustBeSetAsSecrets).
			assert.False(t, d.Secret, "%s", k.Name)
			assert.Equal(t, "", d.Default, "%s", k.Name)
			assert.Contains(t, d.Description, "--secret", "%s: the description says how to set it", k.Name)
		default:
			assert.False(t, d.Secret, "%s", k.Name)
			assert.Equal(t, k.Default, fmt.Sprint(orEmpty(d.Default)), "%s default", k.Name)
		}
	}
	for name := range project.Config {
		assert.True(t, declared[name], "Pulumi.yaml declares %s, which the program does not read", name)
	}
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// A prod stack file as its operators keep it: a cloud KMS secrets provider, an ESC environment
// that supplies values, and encrypted secrets. The program's loader reads it with the Pulumi
// SDK's own loaders, so what the CLI accepts it accepts.
func TestStackFileWithEnvironmentAndKMSLoads(t *testing.T) {
	prod, err := os.ReadFile(repoRoot + "/Pulumi.prod.yaml")
	require.NoError(t, err)
	file := "secretsprovider: awskms://alias/todo-chatbot-prod?region=eu-west-1\n" +
		"encryptedkey: AQICAHhAbc123==\n" +
		"environment:\n  - todo-chatbot/prod\n" +
		strings.Replace(string(prod), "config:\n", "config:\n  todo-chatbot:jwtSecret:\n    secure: AAABAJ0Fh1cw==\n  aws:region: eu-west-1\n", 1)
	path := t.TempDir() + "/Pulumi.prod.yaml"
	require.NoError(t, os.WriteFile(path, []byte(file), 0o600))

	cfg, err := infra.LoadStackFiles(repoRoot+"/Pulumi.yaml", path, infra.WithSecrets(fixture.SecretsOf(
		"databaseUrl", "llmApiKey", "registryPassword")))
	require.NoError(t, err)
	assert.True(t, cfg.JWTSecret.Set(), "the encrypted jwtSecret counts as set")
	assert.Equal(t, "linux/amd64", cfg.ImagePlatform)
	assert.Equal(t, 3, cfg.BackendReplicas)

	// The map form of the block (an inline definition) is accepted too.
	inline := strings.Replace(file, "environment:\n  - todo-chatbot/prod\n", "environment:\n  imports:\n    - todo-chatbot/prod\n", 1)
	require.NoError(t, os.WriteFile(path, []byte(inline), 0o600))
	_, err = infra.LoadStackFiles(repoRoot+"/Pulumi.yaml", path, infra.WithSecrets(fixture.SecretsOf(
		"databaseUrl", "llmApiKey", "registryPassword")))
	require.NoError(t, err)
}
