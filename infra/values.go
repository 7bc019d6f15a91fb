package infra

// ImageRef is one container image as the chart consumes it.
type ImageRef struct {
	Repository string
	Tag        string
	Digest     string // "sha256:..."; when set, pods pull repository@digest
	PullPolicy string
}

// Ref is the reference a pod will pull.
func (r ImageRef) Ref() string {
	if r.Digest != "" {
		return r.Repository + "@" + r.Digest
	}
	return r.Repository + ":" + r.Tag
}

// Images holds the two application images.
type Images struct {
	Backend  ImageRef
	Frontend ImageRef
}

// MaxReleaseName is the longest release name the program accepts. The program
// passes the release name to the chart as fullnameOverride, the prefix of every
// name the chart creates, and the chart's longest derived name (the PostgreSQL
// StatefulSet's controller-revision-hash label, "<prefix>-postgresql-<hash>")
// must fit the 63 characters of a label value; values.schema.json holds the
// chart's side of this limit.
const MaxReleaseName = 41

// Fullname is the prefix of every object the chart creates. The program
// decides it (the chart's fullnameOverride) so that no script or output has
// to re-derive the chart's own naming rule.
func Fullname(c *Config) string { return c.ReleaseName }

// FrontendServiceName is the frontend's Service, which the access command and
// `make up` port-forward to; the chart names it "<fullname>-frontend".
func FrontendServiceName(c *Config) string { return Fullname(c) + "-frontend" }

// SecretName is the Kubernetes Secret the program creates and the chart
// references (docs/contracts.md lists its keys).
func SecretName(c *Config) string { return c.ReleaseName + "-app-secrets" }

// OpsServiceAccountName is the chart's read-only ops identity
// ("<fullname>-ops"), the one scripts/ask.sh mints tokens for.
func OpsServiceAccountName(c *Config) string { return Fullname(c) + "-ops" }

// KAgentToolServerServiceAccount is the ServiceAccount of kagent's tool
// server (its kagent-tools chart's default); the ops Role is bound to it so
// the Agent's tools can read this namespace whatever kagent's own RBAC is.
const KAgentToolServerServiceAccount = "kagent-tools"

// Keys of the Kubernetes Secret; the chart reads the same names (its
// "todo-chatbot.secretKey" helper), and a test proves the two agree.
const (
	SecretKeyJWT              = "jwt-secret"
	SecretKeyPostgresPassword = "postgres-password"
	SecretKeyLLMAPIKey        = "llm-api-key"
	SecretKeyDatabaseURL      = "database-url"
)

// SecretKeys lists every key the program may write into the Secret.
func SecretKeys() []string {
	return []string{SecretKeyJWT, SecretKeyPostgresPassword, SecretKeyLLMAPIKey, SecretKeyDatabaseURL}
}

// HTTPPort is the port both application containers listen on (the images'
// own setting, the chart's "todo-chatbot.port" helper) and the port their
// Services expose, which the access command forwards to.
const HTTPPort = 8080

// ChartValues is the one function that turns a stack's configuration into the
// chart's values. The program passes its result to the Helm Release and the
// chart tests render the chart with it, so the two cannot drift. It never
// contains a secret value: the chart reads those from the Secret by name.
//
// chartChecksum (ChartChecksum of the chart) makes a chart edit a change of
// the Release; secretVersion (the Secret's resourceVersion) changes whenever
// the Secret does, so the pods that read it roll after a rotation.
func ChartValues(c *Config, images Images, chartChecksum, secretVersion string) map[string]any {
	// tier is one workload's values; both tiers listen on HTTPPort (docs/contracts.md).
	tier := func(replicas int, img ImageRef, reqCPU, reqMem, limCPU, limMem string) map[string]any {
		return map[string]any{
			"replicaCount": replicas,
			"image": map[string]any{
				"repository": img.Repository,
				"tag":        img.Tag,
				"digest":     img.Digest,
				"pullPolicy": img.PullPolicy,
			},
			"service": map[string]any{"port": HTTPPort},
			"resources": map[string]any{
				"requests": map[string]any{"cpu": reqCPU, "memory": reqMem},
				"limits":   map[string]any{"cpu": limCPU, "memory": limMem},
			},
			"autoscaling": map[string]any{
				"enabled":                        c.Autoscaling,
				"minReplicas":                    replicas,
				"maxReplicas":                    max(c.AutoscalingMaxReplicas, replicas),
				"targetCPUUtilizationPercentage": 70,
			},
			"env": map[string]any{},
		}
	}
	backend := tier(c.BackendReplicas, images.Backend, "100m", "64Mi", "500m", "128Mi")
	backend["logLevel"] = c.LogLevel

	externalSecret := ""
	if !c.PostgresInCluster {
		externalSecret = SecretName(c)
	}
	return map[string]any{
		"fullnameOverride":      Fullname(c),
		"chartChecksum":         chartChecksum,
		"existingSecret":        SecretName(c),
		"existingSecretVersion": secretVersion,
		"backend":               backend,
		"frontend":              tier(c.FrontendReplicas, images.Frontend, "50m", "32Mi", "250m", "64Mi"),
		"ingress": map[string]any{
			"enabled":   c.IngressEnabled,
			"className": c.IngressClassName,
			"host":      c.IngressHost,
			"tls": map[string]any{
				"enabled":    c.IngressTLS,
				"secretName": c.IngressTLSSecretName,
			},
		},
		"postgresql": map[string]any{
			"enabled": c.PostgresInCluster,
			"storage": map[string]any{
				"size":             c.PostgresStorageSize,
				"storageClassName": c.PostgresStorageClass,
			},
		},
		"externalDatabase": map[string]any{
			"existingSecret": externalSecret,
			"key":            SecretKeyDatabaseURL,
		},
		"llm": map[string]any{
			"provider": c.LLMProvider,
			"baseURL":  c.LLMBaseURL,
			"model":    c.LLMModel,
		},
		"networkPolicy":       map[string]any{"enabled": c.NetworkPolicy},
		"ops":                 opsValues(c),
		"podDisruptionBudget": map[string]any{"enabled": c.PodDisruptionBudget},
	}
}

// opsValues switch on the read-only ops identity (always: `make ask` needs
// it) and, with kagent on, the Agent and the tool server's binding.
func opsValues(c *Config) map[string]any {
	ops := map[string]any{
		"enabled":       true,
		"extraSubjects": []any{},
		"kagent":        map[string]any{"enabled": c.KAgent},
	}
	if c.KAgent {
		ops["extraSubjects"] = []any{map[string]any{
			"kind": "ServiceAccount", "name": KAgentToolServerServiceAccount, "namespace": c.KAgentNamespace,
		}}
		ops["kagent"] = map[string]any{
			"enabled":    true,
			"namespace":  c.KAgentNamespace,
			"toolServer": map[string]any{"namespace": c.KAgentNamespace},
		}
	}
	return ops
}
