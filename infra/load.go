package infra

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// LoadConfig reads and validates the stack's configuration once, before any
// resource is registered. Secret values arrive decrypted from the engine.
func LoadConfig(ctx *pulumi.Context) (*Config, error) {
	raw := map[string]rawValue{}
	for _, k := range keys {
		full := Project + ":" + k.name
		if v, ok := ctx.GetConfig(full); ok {
			raw[k.name] = rawValue{value: v, secret: ctx.IsConfigSecret(full), known: true}
		}
	}
	// The engine hands a Go program its whole configuration in PULUMI_CONFIG
	// (inline Automation API programs get it another way and skip this); a
	// key this program does not read is a typo worth reporting.
	if env := os.Getenv(pulumi.EnvConfig); env != "" {
		var all map[string]any
		if err := json.Unmarshal([]byte(env), &all); err == nil {
			for full := range all {
				if name, ok := strings.CutPrefix(full, Project+":"); ok {
					if _, seen := raw[name]; !seen {
						raw[name] = rawValue{value: fmt.Sprint(all[full]), known: true}
					}
				}
			}
		}
	}
	return parse(raw)
}

// ConfigKey describes one declared config key, for docs and for the test that
// keeps Pulumi.yaml in step with the program.
type ConfigKey struct {
	Name    string
	Type    string // string | integer | boolean
	Default string // "" when none
	// Secret: a value must be set with `pulumi config set --secret`.
	Secret bool
	// Required: the CLI requires a value (no default in Pulumi.yaml).
	Required bool
}

// ConfigKeys lists every key the program reads.
func ConfigKeys() []ConfigKey {
	out := make([]ConfigKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, ConfigKey{Name: k.name, Type: k.Type(), Default: k.def, Secret: k.sec != nil, Required: k.required})
	}
	return out
}

// LoadStackFiles reads a stack's configuration the way `pulumi` would from
// Pulumi.yaml and Pulumi.<stack>.yaml, without the engine: the files are read
// by the Pulumi SDK's own workspace loaders, so whatever the CLI accepts in
// them (an ESC `environment:` block, a cloud secrets provider's
// `secretsprovider:` and `encryptedkey:`) is accepted here too. Encrypted
// (`secure:`) values count as set; their plaintext stays unknown, so only
// their presence is checked. Tests and the chart renderer use it to see
// exactly what a committed stack file deploys.
//
// Secrets a stack file does not hold (a prod stack's are set per machine with
// `pulumi config set --secret`, or come from its ESC environment) can be
// supplied with WithSecrets; without them the error names each missing one, as
// `pulumi preview` would.
func LoadStackFiles(projectFile, stackFile string, opts ...LoadOption) (*Config, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	project, err := workspace.LoadProject(projectFile)
	if err != nil {
		return nil, err
	}
	if project.Name.String() != Project {
		return nil, fmt.Errorf("%s: project name %q, want %q", projectFile, project.Name, Project)
	}
	if _, err := os.Stat(stackFile); err != nil {
		return nil, err // the SDK would read a missing stack file as an empty one
	}
	stack, err := workspace.LoadProjectStack(nil, project, stackFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stackFile, err)
	}

	raw := map[string]rawValue{}
	// Project-level `value:` entries apply to every stack; stack files override them.
	for name, decl := range project.Config {
		if decl.Value != nil {
			raw[strings.TrimPrefix(name, Project+":")] = rawValue{value: fmt.Sprint(decl.Value), known: true}
		}
	}
	for k, v := range stack.Config {
		if k.Namespace() != Project {
			continue // another namespace (a provider's own config)
		}
		name := k.Name()
		switch {
		case v.Secure():
			raw[name] = rawValue{secret: true, value: "(encrypted)", known: false}
		case v.Object():
			return nil, fmt.Errorf("%s: %s: structured values are not supported", stackFile, k.String())
		default:
			text, err := v.Value(config.NopDecrypter)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", stackFile, k.String(), err)
			}
			raw[name] = rawValue{value: text, known: true}
		}
	}
	for name, v := range o.secrets {
		if _, inFile := raw[name]; !inFile {
			raw[name] = rawValue{value: v, secret: true, known: true}
		}
	}
	return parse(raw)
}

type loadOptions struct{ secrets map[string]string }

// LoadOption adjusts LoadStackFiles.
type LoadOption func(*loadOptions)

// WithSecrets supplies secret values (by key, without the project prefix) as
// if they had been set with `pulumi config set --secret`.
func WithSecrets(secrets map[string]string) LoadOption {
	return func(o *loadOptions) { o.secrets = secrets }
}
