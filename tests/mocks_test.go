package tests

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/todo-chatbot/todo-chatbot/infra"
	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

// repoRoot is where the tests find the chart, the build contexts and the
// stack files.
var repoRoot = fixture.Root()

// testSecrets are the plaintext values the tests give the secret config keys.
// They must never show up anywhere but the Kubernetes Secret.
var testSecrets = fixture.Secrets

// registered is one resource the program asked the engine to create.
type registered struct {
	Type     string
	Name     string
	Inputs   resource.PropertyMap
	Provider string
	// RetainOnDelete: the engine leaves the object in the cluster on destroy.
	RetainOnDelete bool
}

// mocks records registrations and answers like the providers would.
type mocks struct {
	mu        sync.Mutex
	resources []registered
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	retain := args.RegisterRPC != nil && args.RegisterRPC.GetRetainOnDelete()
	m.resources = append(m.resources, registered{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs, Provider: args.Provider, RetainOnDelete: retain})
	m.mu.Unlock()

	outputs := args.Inputs.Copy()
	switch args.TypeToken {
	case "docker:index/image:Image":
		// A pushed image's repoDigest: repository@sha256 of its name, stable per tag.
		name := args.Inputs["imageName"].StringValue()
		repo := name[:strings.LastIndex(name, ":")]
		sum := sha256.Sum256([]byte(name))
		outputs["repoDigest"] = resource.NewStringProperty(repo + "@sha256:" + hex.EncodeToString(sum[:]))
	case "kubernetes:core/v1:Secret":
		// The API server gives every change a new resourceVersion; here it
		// follows the content, so an unchanged Secret keeps its version.
		data := args.Inputs["stringData"]
		if data.IsSecret() {
			data = data.SecretValue().Element
		}
		sum := sha256.Sum256([]byte(fmt.Sprint(data.Mappable())))
		meta := outputs["metadata"].ObjectValue().Copy()
		meta["resourceVersion"] = resource.NewStringProperty(fmt.Sprint(binary.BigEndian.Uint32(sum[:])))
		outputs["metadata"] = resource.NewObjectProperty(meta)
	case "kubernetes:helm.sh/v3:Release":
		outputs["status"] = resource.NewObjectProperty(resource.PropertyMap{
			"status": resource.NewStringProperty("deployed"),
		})
	}
	return args.Name + "-id", outputs, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return args.Args, nil
}

func (m *mocks) ofType(typ string) []registered {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []registered
	for _, r := range m.resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

func (m *mocks) one(t *testing.T, typ string) registered {
	t.Helper()
	rs := m.ofType(typ)
	require.Len(t, rs, 1, "want exactly one %s", typ)
	return rs[0]
}

// stackConfig is a stack's configuration as the engine hands it to the
// program: plain values and which keys are secret.
type stackConfig struct {
	values  map[string]string
	secrets map[string]bool
}

// readStackFile loads a committed stack file and supplies the secrets the
// stack needs (as `pulumi config set --secret` would have).
func readStackFile(t *testing.T, stack string, secretKeys ...string) stackConfig {
	t.Helper()
	sc := stackConfig{values: fixture.StackValues(t, stack), secrets: map[string]bool{}}
	for k, v := range fixture.SecretsOf(secretKeys...) {
		sc.set(k, v, true)
	}
	return sc
}

func (sc stackConfig) set(key, value string, secret bool) stackConfig {
	sc.values[key] = value
	if secret {
		sc.secrets[key] = true
	} else {
		delete(sc.secrets, key)
	}
	return sc
}

// devConfig is the committed dev stack with its generated secrets.
func devConfig(t *testing.T) stackConfig {
	return readStackFile(t, "dev", fixture.StackSecrets["dev"]...)
}

// prodConfig is the committed prod stack with the secrets its operators set.
func prodConfig(t *testing.T) stackConfig {
	return readStackFile(t, "prod", fixture.StackSecrets["prod"]...)
}

// setEnv hands the configuration to the Go SDK the way the language host
// does, through PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS.
func (sc stackConfig) setEnv(t *testing.T) {
	t.Helper()
	cfg := map[string]string{}
	var secretKeys []string
	for k, v := range sc.values {
		cfg[infra.Project+":"+k] = v
		if sc.secrets[k] {
			secretKeys = append(secretKeys, infra.Project+":"+k)
		}
	}
	cfgJSON, err := json.Marshal(cfg)
	require.NoError(t, err)
	keysJSON, err := json.Marshal(secretKeys)
	require.NoError(t, err)
	t.Setenv(pulumi.EnvConfig, string(cfgJSON))
	t.Setenv(pulumi.EnvConfigSecretKeys, string(keysJSON))
}

// run executes fn as a Pulumi program against the mocks.
func run(t *testing.T, sc stackConfig, stack string, fn pulumi.RunFunc) (*mocks, error) {
	t.Helper()
	sc.setEnv(t)
	m := &mocks{}
	err := pulumi.RunErr(fn, pulumi.WithMocks(infra.Project, stack, m))
	return m, err
}

// runProgram runs the real program (what main.go runs) on the repository.
func runProgram(t *testing.T, sc stackConfig, stack string) *mocks {
	t.Helper()
	m, err := run(t, sc, stack, infra.Program(repoRoot))
	require.NoError(t, err)
	return m
}
