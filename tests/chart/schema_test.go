package chart

// values.schema.json: what it refuses, with the message a user sees.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

func TestChartSchemaRejectsBadValues(t *testing.T) {
	base := fixture.ProgramValues(t, "dev")
	cases := []struct {
		name   string
		values string
		want   []string // all must appear in the error
	}{
		{"zero replicas", `backend: {replicaCount: 0}`, []string{"/backend/replicaCount", "minimum"}},
		{"negative replicas", `frontend: {replicaCount: -1}`, []string{"/frontend/replicaCount", "minimum"}},
		{"replicas as a word", `backend: {replicaCount: two}`, []string{"/backend/replicaCount", "integer"}},
		{"bad host name", `ingress: {host: "Not_A_Host!"}`, []string{"/ingress/host", "Not_A_Host!"}},
		{"empty host with ingress on", `ingress: {enabled: true, host: ""}`, []string{"/ingress/host", "minLength"}},
		{"unknown top-level key", `replicas: 3`, []string{"replicas", "additional properties"}},
		{"unknown nested key", `backend: {replicas: 3}`, []string{"/backend", "replicas"}},
		{"wrong pull policy", `backend: {image: {pullPolicy: Sometimes}}`, []string{"/backend/image/pullPolicy", "must be one of"}},
		{"missing required repository", `frontend: {image: {repository: null}}`, []string{"/frontend/image", "repository"}},
		{"missing required limits", `backend: {resources: {limits: null}}`, []string{"/backend/resources", "limits"}},
		{"bad digest", `backend: {image: {digest: "md5:1234"}}`, []string{"/backend/image/digest", "md5:1234"}},
		{"unknown LLM provider", `llm: {provider: claude}`, []string{"/llm/provider", "must be one of"}},
		{"openai without a model", `llm: {provider: openai, baseURL: "https://x.example.com/v1"}`, []string{"/llm/model", "minLength"}},
		{"base URL not http(s)", `llm: {baseURL: "ftp://x.example.com"}`, []string{"/llm/baseURL"}},
		{"port out of range", `backend: {service: {port: 70000}}`, []string{"/backend/service/port", "maximum"}},
		{"CPU target over 100", `frontend: {autoscaling: {targetCPUUtilizationPercentage: 150}}`, []string{"/frontend/autoscaling/targetCPUUtilizationPercentage"}},
		{"bad storage size", `postgresql: {storage: {size: lots}}`, []string{"/postgresql/storage/size"}},
		{"boolean as a string", `networkPolicy: {enabled: "yes"}`, []string{"/networkPolicy/enabled", "boolean"}},
		{"root user", `backend: {podSecurityContext: {runAsUser: 0}}`, []string{"/backend/podSecurityContext/runAsUser", "minimum"}},
		{"secret smuggled into env", `backend: {env: {JWT_SECRET: x}}`, []string{"propertyName 'JWT_SECRET'"}},
		{"short JWT secret", `secrets: {jwtSecret: short}`, []string{"/secrets/jwtSecret", "minLength"}},
		{"bad log level", `backend: {logLevel: loud}`, []string{"/backend/logLevel", "must be one of"}},
		{"bad secret name", `existingSecret: "Bad Name"`, []string{"/existingSecret", "Bad Name"}},
		{"ops switch as a string", `ops: {enabled: "yes"}`, []string{"/ops/enabled", "boolean"}},
		{"ops rules from values", `ops: {rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]}`, []string{"/ops", "rules"}},
		{"kagent write tool", `ops: {kagent: {toolNames: [k8s_get_resources, k8s_delete_resource]}}`, []string{"/ops/kagent/toolNames/1", "must be one of"}},
		{"kagent no tools", `ops: {kagent: {toolNames: []}}`, []string{"/ops/kagent/toolNames", "minItems"}},
		{"kagent empty model config", `ops: {kagent: {modelConfig: ""}}`, []string{"/ops/kagent/modelConfig"}},
		{"extra subject of unknown kind", `ops: {extraSubjects: [{kind: Robot, name: r2}]}`, []string{"/ops/extraSubjects/0/kind"}},
		{"service account subject without namespace", `ops: {extraSubjects: [{kind: ServiceAccount, name: kagent-tools}]}`, []string{"/ops/extraSubjects/0", "namespace"}},
	}
	require.GreaterOrEqual(t, len(cases), 10, "at least ten bad-value cases")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := fixture.RenderFiles(t, fixture.Merge(base, fixture.ValuesYAML(t, c.values)))
			require.Error(t, err, "values %s were accepted", c.values)
			msg := err.Error()
			assert.Contains(t, msg, "values don't meet the specifications of the schema", "not a schema error")
			for _, w := range c.want {
				assert.Contains(t, msg, w, "error does not name %q", w)
			}
		})
	}
	// And the good values pass (the scenarios render above; here the bare defaults too).
	_, err := fixture.RenderFiles(t, fixture.ValuesYAML(t, `existingSecret: s`))
	assert.NoError(t, err, "defaults with existingSecret rejected")
}
