package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/todo-chatbot/todo-chatbot/infra"
)

// chartProgramSecrets stand in for the secrets a committed stack file does not hold (they are set
// per machine with `pulumi config set --secret`). infra.ChartValues never reads them; the chart
// tests check that none of them reaches a rendered object.
var chartProgramSecrets = map[string]string{
	"jwtSecret":        "PROGRAM-SECRET-jwt-7d1e0c4b9a8f7e6d5c4b3a291807f6e5",
	"postgresPassword": "PROGRAM-SECRET-pg-5a0e9c81",
	"databaseUrl":      "postgres://todo:PROGRAM-SECRET-db-3f6b@db.example.com:5432/todo?sslmode=require",
	"llmApiKey":        "PROGRAM-SECRET-llm-c2d94e17",
	"registryPassword": "PROGRAM-SECRET-registry-8b03f1a6",
}

var chartMissingSecret = regexp.MustCompile(`pulumi config set --secret (\w+)`)

// chartProgramValues is exactly what the Pulumi program hands the Helm Release for a committed
// stack file: infra.LoadStackFiles reads Pulumi.yaml and Pulumi.<stack>.yaml, infra.ChartValues
// turns the configuration into chart values. Only the image references are filled in here, the
// way the program computes them: content-hash tags, and for a registry stack a digest (known only
// after the push, so a stand-in digest derived from the tag).
func chartProgramValues(t testing.TB, stack string) map[string]any {
	t.Helper()
	root := chartRepoRoot(t)
	project, stackFile := filepath.Join(root, "Pulumi.yaml"), filepath.Join(root, "Pulumi."+stack+".yaml")
	// Supply just the secrets the stack needs: the loader names each missing one.
	secrets := map[string]string{}
	cfg, err := infra.LoadStackFiles(project, stackFile)
	for attempt := 0; err != nil && attempt < 2; attempt++ {
		for _, m := range chartMissingSecret.FindAllStringSubmatch(err.Error(), -1) {
			v, ok := chartProgramSecrets[m[1]]
			if !ok {
				t.Fatalf("stack %s needs secret %s the chart tests have no stand-in for", stack, m[1])
			}
			secrets[m[1]] = v
		}
		cfg, err = infra.LoadStackFiles(project, stackFile, infra.WithSecrets(secrets))
	}
	if err != nil {
		t.Fatalf("stack %s: %v", stack, err)
	}

	var images infra.Images
	for _, c := range []struct {
		component string
		ref       *infra.ImageRef
		given     string
	}{{"backend", &images.Backend, cfg.BackendImage}, {"frontend", &images.Frontend, cfg.FrontendImage}} {
		if !cfg.ImageBuild {
			if *c.ref, err = infra.ParseImageRef(c.given); err != nil {
				t.Fatal(err)
			}
			continue
		}
		hash, err := infra.ContextHash(filepath.Join(root, c.component))
		if err != nil {
			t.Fatal(err)
		}
		*c.ref = infra.ImageRef{Repository: infra.ImageRepository(cfg, c.component), Tag: hash[:20], PullPolicy: "IfNotPresent"}
		if cfg.Push() {
			sum := sha256.Sum256([]byte(c.ref.Tag))
			c.ref.Digest = "sha256:" + hex.EncodeToString(sum[:])
		}
	}
	checksum, err := infra.ChartChecksum(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return infra.ChartValues(cfg, images, checksum, "48213")
}
