package infra

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Project is the Pulumi project name; every config key lives under it.
const Project = "todo-chatbot"

// Secret holds a secret config value. It never prints its contents, so a
// Config can be logged or shown in a test failure without leaking anything.
type Secret struct {
	value string
	set   bool
	// known is false when the value came from a stack file's encrypted
	// `secure:` entry that could not be decrypted (LoadStackFiles).
	known bool
}

// NewSecret wraps a plaintext secret value.
func NewSecret(v string) Secret { return Secret{value: v, set: v != "", known: true} }

// Set reports whether the secret has a value.
func (s Secret) Set() bool { return s.set }

// Reveal returns the plaintext. Only the Kubernetes Secret and the registry
// login may call it, always wrapped in pulumi.ToSecret.
func (s Secret) Reveal() string { return s.value }

func (s Secret) String() string   { return "[secret]" }
func (s Secret) GoString() string { return "[secret]" }

// Config is the typed, validated configuration of one stack.
type Config struct {
	KubeContext string // kube context to deploy to; empty means the kubeconfig's current one
	Kubeconfig  string // path to a kubeconfig; empty means the default (~/.kube/config, KUBECONFIG)
	Namespace   string
	ReleaseName string

	ImageBuild       bool   // build both images (true) or deploy BackendImage/FrontendImage as given
	ImageRegistry    string // registry to push to; empty means build into the cluster's Docker daemon, no push
	RegistryUsername string
	RegistryPassword Secret
	BackendImage     string // used when ImageBuild is false
	FrontendImage    string
	DockerHost       string // explicit Docker daemon; empty means the environment's (minikube docker-env)
	// ImagePlatform is the os/arch the images are built for ("linux/arm64");
	// empty builds for the Docker daemon's own platform, which is the
	// cluster's when the daemon is Minikube's.
	ImagePlatform string

	BackendReplicas        int
	FrontendReplicas       int
	Autoscaling            bool
	AutoscalingMaxReplicas int

	IngressEnabled       bool
	IngressHost          string
	IngressClassName     string
	IngressTLS           bool
	IngressTLSSecretName string

	PostgresInCluster    bool
	PostgresStorageSize  string
	PostgresStorageClass string
	DatabaseURL          Secret // external database, when PostgresInCluster is false
	PostgresPassword     Secret

	JWTSecret Secret

	LLMProvider string
	LLMBaseURL  string
	LLMModel    string
	LLMAPIKey   Secret

	LogLevel            string
	HelmTimeoutSeconds  int
	NetworkPolicy       bool
	PodDisruptionBudget bool

	KAgent          bool   // render the chart's kagent Agent (needs kagent installed in the cluster)
	KAgentNamespace string // where kagent runs: the Agent, its ModelConfig and the tool server
}

// Push reports whether images are pushed to a registry (and deployed by digest).
func (c *Config) Push() bool { return c.ImageBuild && c.ImageRegistry != "" }

// key describes one config key: its type, default and where it lands in
// Config. Pulumi.yaml's `config:` block declares the same keys; a test keeps
// the two in step. Exactly one of str, sec, num, flag is set.
type key struct {
	name string
	def  string // default as text; "" means none
	// required: the pulumi CLI itself insists on a value (Pulumi.yaml gives
	// no default). Only keys every stack needs are required: the CLI applies
	// a declared default as a plain value, so an optional secret cannot be
	// declared `secret: true` and is checked for secrecy here instead.
	required bool
	str      func(*Config) *string
	sec      func(*Config) *Secret
	num      func(*Config) *int
	flag     func(*Config) *bool
}

// Type is the key's Pulumi config type.
func (k key) Type() string {
	switch {
	case k.num != nil:
		return "integer"
	case k.flag != nil:
		return "boolean"
	}
	return "string"
}

var (
	dns1123Label     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	quantity         = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$`)
	// A registry host, optionally with port and path ("ghcr.io/acme", "localhost:5000").
	registryRef = regexp.MustCompile(`^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)
	// An image reference with a tag or a digest (never bare, never :latest).
	imageRef = regexp.MustCompile(`^[a-zA-Z0-9][-a-zA-Z0-9._:/]*[a-zA-Z0-9](:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$`)
)

var (
	llmProviders = []string{"offline", "openai"}
	logLevels    = []string{"debug", "info", "warn", "error"}
	// An image platform as Docker spells it: os/arch[/variant] ("linux/arm64").
	imagePlatform = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$`)
)

// Limits the validation enforces; the error messages quote them.
const (
	maxNamespace        = 63 // a DNS-1123 label
	maxHostName         = 253
	maxReplicas         = 100
	minPostgresPassword = 12
	minJWTSecret        = 32
	minHelmTimeout      = 60
	maxHelmTimeout      = 3600
)

// keys is the single list of every config key the program reads.
var keys = []key{
	{name: "kubeContext", str: func(c *Config) *string { return &c.KubeContext }},
	{name: "kubeconfig", str: func(c *Config) *string { return &c.Kubeconfig }},
	{name: "namespace", def: "todo-chatbot", str: func(c *Config) *string { return &c.Namespace }},
	{name: "releaseName", def: "todo-chatbot", str: func(c *Config) *string { return &c.ReleaseName }},
	{name: "imageBuild", def: "true", flag: func(c *Config) *bool { return &c.ImageBuild }},
	{name: "imageRegistry", str: func(c *Config) *string { return &c.ImageRegistry }},
	{name: "registryUsername", str: func(c *Config) *string { return &c.RegistryUsername }},
	{name: "registryPassword", sec: func(c *Config) *Secret { return &c.RegistryPassword }},
	{name: "backendImage", str: func(c *Config) *string { return &c.BackendImage }},
	{name: "frontendImage", str: func(c *Config) *string { return &c.FrontendImage }},
	{name: "dockerHost", str: func(c *Config) *string { return &c.DockerHost }},
	{name: "imagePlatform", str: func(c *Config) *string { return &c.ImagePlatform }},
	{name: "backendReplicas", def: "1", num: func(c *Config) *int { return &c.BackendReplicas }},
	{name: "frontendReplicas", def: "1", num: func(c *Config) *int { return &c.FrontendReplicas }},
	{name: "autoscaling", def: "false", flag: func(c *Config) *bool { return &c.Autoscaling }},
	{name: "autoscalingMaxReplicas", def: "6", num: func(c *Config) *int { return &c.AutoscalingMaxReplicas }},
	{name: "ingressEnabled", def: "true", flag: func(c *Config) *bool { return &c.IngressEnabled }},
	{name: "ingressHost", def: "todo.local", str: func(c *Config) *string { return &c.IngressHost }},
	{name: "ingressClassName", def: "nginx", str: func(c *Config) *string { return &c.IngressClassName }},
	{name: "ingressTls", def: "false", flag: func(c *Config) *bool { return &c.IngressTLS }},
	{name: "ingressTlsSecretName", str: func(c *Config) *string { return &c.IngressTLSSecretName }},
	{name: "postgresInCluster", def: "true", flag: func(c *Config) *bool { return &c.PostgresInCluster }},
	{name: "postgresStorageSize", def: "1Gi", str: func(c *Config) *string { return &c.PostgresStorageSize }},
	{name: "postgresStorageClass", str: func(c *Config) *string { return &c.PostgresStorageClass }},
	{name: "postgresPassword", sec: func(c *Config) *Secret { return &c.PostgresPassword }},
	{name: "databaseUrl", sec: func(c *Config) *Secret { return &c.DatabaseURL }},
	{name: "jwtSecret", required: true, sec: func(c *Config) *Secret { return &c.JWTSecret }},
	{name: "llmProvider", def: "offline", str: func(c *Config) *string { return &c.LLMProvider }},
	{name: "llmBaseUrl", str: func(c *Config) *string { return &c.LLMBaseURL }},
	{name: "llmModel", str: func(c *Config) *string { return &c.LLMModel }},
	{name: "llmApiKey", sec: func(c *Config) *Secret { return &c.LLMAPIKey }},
	{name: "logLevel", def: "info", str: func(c *Config) *string { return &c.LogLevel }},
	{name: "helmTimeoutSeconds", def: "300", num: func(c *Config) *int { return &c.HelmTimeoutSeconds }},
	{name: "networkPolicy", def: "true", flag: func(c *Config) *bool { return &c.NetworkPolicy }},
	{name: "podDisruptionBudget", def: "false", flag: func(c *Config) *bool { return &c.PodDisruptionBudget }},
	{name: "kagent", def: "false", flag: func(c *Config) *bool { return &c.KAgent }},
	{name: "kagentNamespace", def: "kagent", str: func(c *Config) *string { return &c.KAgentNamespace }},
}

// rawValue is one config value as the source gave it.
type rawValue struct {
	value string
	// secret: stored encrypted (`pulumi config set --secret`).
	secret bool
	// known: the plaintext is available (false for an undecrypted stack file entry).
	known bool
}

// ConfigError lists every problem found in a stack's configuration.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid configuration for project %q (%d problem(s)):\n  - %s",
		Project, len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// parse turns raw key/values (keys without the project prefix) into a
// validated Config. Every problem is collected and reported together.
func parse(raw map[string]rawValue) (*Config, error) {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	known := map[string]bool{}
	c := &Config{}
	for _, k := range keys {
		known[k.name] = true
		rv, ok := raw[k.name]
		v := k.def
		if ok {
			v = strings.TrimSpace(rv.value)
		}
		switch {
		case k.sec != nil:
			if ok && v != "" && !rv.secret {
				add("%s: must be set as a secret: pulumi config set --secret %s <value>", k.name, k.name)
			}
			s := NewSecret(v)
			if ok && !rv.known {
				// Encrypted in a stack file we cannot decrypt: present, value unknown.
				s = Secret{set: true}
			}
			*k.sec(c) = s
		case k.num != nil:
			n, err := strconv.Atoi(v)
			if err != nil {
				add("%s: %q is not an integer", k.name, v)
			}
			*k.num(c) = n
		case k.flag != nil:
			b, err := strconv.ParseBool(v)
			if err != nil {
				add("%s: %q is not a boolean (allowed: true, false)", k.name, v)
			}
			*k.flag(c) = b
		default:
			*k.str(c) = v
		}
	}
	var unknown []string
	for name := range raw {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		add("%s: unknown key (see Pulumi.yaml for the keys this project reads)", name)
	}

	problems = append(problems, c.validate()...)
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	return c, nil
}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// validate checks values and their combinations; it returns every problem.
func (c *Config) validate() []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	missingSecret := func(name, why string) {
		add("%s: required %s; set it with: pulumi config set --secret %s <value>", name, why, name)
	}

	if !dns1123Label.MatchString(c.Namespace) || len(c.Namespace) > maxNamespace {
		add("namespace: %q is not a valid namespace name (lowercase letters, digits and '-', at most %d characters)", c.Namespace, maxNamespace)
	}
	if !dns1123Label.MatchString(c.ReleaseName) || len(c.ReleaseName) > MaxReleaseName {
		add("releaseName: %q is not a valid release name (lowercase letters, digits and '-', at most %d characters)", c.ReleaseName, MaxReleaseName)
	}

	// Each value's own form is checked whether or not the feature that uses it
	// is on: a value that can never be valid is a mistake to report now, not
	// when someone turns the feature on.
	if c.ImageRegistry != "" && !registryRef.MatchString(c.ImageRegistry) {
		add("imageRegistry: %q is not a registry host with optional port and path (e.g. ghcr.io/acme)", c.ImageRegistry)
	}
	if c.ImagePlatform != "" && !imagePlatform.MatchString(c.ImagePlatform) {
		add("imagePlatform: %q is not a platform os/arch[/variant] (e.g. linux/amd64, linux/arm64)", c.ImagePlatform)
	}
	if c.AutoscalingMaxReplicas < 1 || c.AutoscalingMaxReplicas > maxReplicas {
		add("autoscalingMaxReplicas: %d is out of range (allowed: 1 to %d)", c.AutoscalingMaxReplicas, maxReplicas)
	}
	if (c.IngressEnabled || c.IngressHost != "") && (!dns1123Subdomain.MatchString(c.IngressHost) || len(c.IngressHost) > maxHostName) {
		add("ingressHost: %q is not a valid host name (lowercase DNS name such as todo.local)", c.IngressHost)
	}
	if c.IngressClassName != "" && !dns1123Subdomain.MatchString(c.IngressClassName) {
		add("ingressClassName: %q is not a valid IngressClass name", c.IngressClassName)
	}
	if c.IngressTLSSecretName != "" && !dns1123Subdomain.MatchString(c.IngressTLSSecretName) {
		add("ingressTlsSecretName: %q is not a valid Secret name", c.IngressTLSSecretName)
	}
	if (c.PostgresInCluster || c.PostgresStorageSize != "") && !quantity.MatchString(c.PostgresStorageSize) {
		add("postgresStorageSize: %q is not a storage quantity (e.g. 1Gi, 500Mi)", c.PostgresStorageSize)
	}
	if c.PostgresStorageClass != "" && !dns1123Subdomain.MatchString(c.PostgresStorageClass) {
		add("postgresStorageClass: %q is not a valid StorageClass name", c.PostgresStorageClass)
	}

	if c.ImageBuild {
		if c.BackendImage != "" || c.FrontendImage != "" {
			add("backendImage/frontendImage: only used when imageBuild is false; unset them or set imageBuild: false")
		}
		if c.ImageRegistry == "" && (c.RegistryUsername != "" || c.RegistryPassword.Set()) {
			add("registryUsername/registryPassword: set only with imageRegistry")
		}
		if c.ImageRegistry != "" && (c.RegistryUsername != "") != c.RegistryPassword.Set() {
			if c.RegistryUsername == "" {
				add("registryUsername: required with registryPassword")
			} else {
				missingSecret("registryPassword", "with registryUsername")
			}
		}
	} else {
		for _, img := range []struct{ name, ref string }{{"backendImage", c.BackendImage}, {"frontendImage", c.FrontendImage}} {
			switch {
			case img.ref == "":
				add("%s: required when imageBuild is false (an image reference with a tag or digest, e.g. ghcr.io/acme/todo-%s:1.2.3)", img.name, strings.TrimSuffix(img.name, "Image"))
			case !imageRef.MatchString(img.ref):
				add("%s: %q is not an image reference with a tag or @sha256 digest", img.name, img.ref)
			case strings.HasSuffix(img.ref, ":latest"):
				add("%s: %q uses the mutable tag latest; give a version tag or a digest", img.name, img.ref)
			}
		}
		if c.ImageRegistry != "" {
			add("imageRegistry: only used when imageBuild is true")
		}
		if c.ImagePlatform != "" {
			add("imagePlatform: only used when imageBuild is true")
		}
	}

	for _, r := range []struct {
		name string
		n    int
	}{{"backendReplicas", c.BackendReplicas}, {"frontendReplicas", c.FrontendReplicas}} {
		if r.n < 1 || r.n > maxReplicas {
			add("%s: %d is out of range (allowed: 1 to %d)", r.name, r.n, maxReplicas)
		}
	}
	if floor := max(c.BackendReplicas, c.FrontendReplicas); c.Autoscaling && c.AutoscalingMaxReplicas >= 1 &&
		c.AutoscalingMaxReplicas < floor {
		add("autoscalingMaxReplicas: %d is out of range (allowed: %d, the larger replica count, to %d)", c.AutoscalingMaxReplicas, floor, maxReplicas)
	}

	if c.IngressEnabled {
		if c.IngressTLS && c.IngressTLSSecretName == "" {
			add("ingressTlsSecretName: required when ingressTls is true (the name of a kubernetes.io/tls Secret in the namespace)")
		}
	} else if c.IngressTLS {
		add("ingressTls: needs ingressEnabled: true")
	}

	if c.PostgresInCluster {
		if !c.PostgresPassword.Set() {
			missingSecret("postgresPassword", "for the in-cluster PostgreSQL (postgresInCluster: true)")
		} else if c.PostgresPassword.known && len(c.PostgresPassword.value) < minPostgresPassword {
			add("postgresPassword: too short (at least %d characters)", minPostgresPassword)
		}
		if c.DatabaseURL.Set() {
			add("databaseUrl: only used when postgresInCluster is false")
		}
	} else {
		if !c.DatabaseURL.Set() {
			missingSecret("databaseUrl", "when postgresInCluster is false (postgres://user:password@host:5432/db)")
		} else if c.DatabaseURL.known {
			if u, err := url.Parse(c.DatabaseURL.value); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
				add("databaseUrl: not a postgres:// or postgresql:// URL with a host")
			}
		}
	}

	if !c.JWTSecret.Set() {
		missingSecret("jwtSecret", fmt.Sprintf("(at least %d random characters)", minJWTSecret))
	} else if c.JWTSecret.known && len(c.JWTSecret.value) < minJWTSecret {
		add("jwtSecret: too short (at least %d characters)", minJWTSecret)
	}

	if !oneOf(c.LLMProvider, llmProviders) {
		add("llmProvider: %q is not allowed (allowed: %s)", c.LLMProvider, strings.Join(llmProviders, ", "))
	}
	if c.LLMProvider == "openai" {
		if u, err := url.Parse(c.LLMBaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("llmBaseUrl: %q is not an http(s) URL; required when llmProvider is openai (e.g. https://api.openai.com/v1)", c.LLMBaseURL)
		}
		if c.LLMModel == "" {
			add("llmModel: required when llmProvider is openai (e.g. gpt-4o-mini)")
		}
		if !c.LLMAPIKey.Set() {
			missingSecret("llmApiKey", "when llmProvider is openai")
		}
	} else if c.LLMAPIKey.Set() || c.LLMBaseURL != "" || c.LLMModel != "" {
		add("llmBaseUrl/llmModel/llmApiKey: only used when llmProvider is openai")
	}

	if !oneOf(c.LogLevel, logLevels) {
		add("logLevel: %q is not allowed (allowed: %s)", c.LogLevel, strings.Join(logLevels, ", "))
	}
	// Checked whether or not kagent is on: a name that can never be valid is refused at once.
	if !dns1123Label.MatchString(c.KAgentNamespace) || len(c.KAgentNamespace) > 63 {
		add("kagentNamespace: %q is not a valid namespace name (the namespace kagent is installed in)", c.KAgentNamespace)
	}
	if c.HelmTimeoutSeconds < minHelmTimeout || c.HelmTimeoutSeconds > maxHelmTimeout {
		add("helmTimeoutSeconds: %d is out of range (allowed: %d to %d)", c.HelmTimeoutSeconds, minHelmTimeout, maxHelmTimeout)
	}
	return p
}
