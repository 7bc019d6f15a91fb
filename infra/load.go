package infra

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
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
// Pulumi.yaml and Pulumi.<stack>.yaml, without the engine. Encrypted
// (`secure:`) values count as set; their plaintext stays unknown, so only
// their presence is checked. Tests and the chart renderer use it to see
// exactly what a committed stack file deploys.
//
// Secrets a stack file does not hold (a prod stack's are set per machine with
// `pulumi config set --secret`) can be supplied with WithSecrets; without
// them the error names each missing one, as `pulumi preview` would.
func LoadStackFiles(projectFile, stackFile string, opts ...LoadOption) (*Config, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	var project struct {
		Name   string                    `yaml:"name"`
		Config map[string]map[string]any `yaml:"config"`
	}
	if err := readYAML(projectFile, &project); err != nil {
		return nil, err
	}
	if project.Name != Project {
		return nil, fmt.Errorf("%s: project name %q, want %q", projectFile, project.Name, Project)
	}
	var stack struct {
		Config map[string]any `yaml:"config"`
	}
	if err := readYAML(stackFile, &stack); err != nil {
		return nil, err
	}

	raw := map[string]rawValue{}
	// Project-level `value:` entries apply to every stack; stack files override them.
	for name, decl := range project.Config {
		if v, ok := decl["value"]; ok {
			raw[strings.TrimPrefix(name, Project+":")] = rawValue{value: fmt.Sprint(v), known: true}
		}
	}
	for full, v := range stack.Config {
		name, ok := strings.CutPrefix(full, Project+":")
		if !ok {
			continue // another namespace (a provider's own config)
		}
		if m, isMap := v.(map[string]any); isMap {
			if _, secure := m["secure"]; secure {
				raw[name] = rawValue{secret: true, value: "(encrypted)", known: false}
				continue
			}
			return nil, fmt.Errorf("%s: %s: structured values are not supported", stackFile, full)
		}
		raw[name] = rawValue{value: fmt.Sprint(v), known: true}
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

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
