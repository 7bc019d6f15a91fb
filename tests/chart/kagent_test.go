package chart

// The kagent Agent: rendered only where kagent's API is served (or forced), read-only tools only.

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

// kagentReadOnlyTools are kagent's Kubernetes tools that only read (kagent-dev/tools). The
// schema's enum for ops.kagent.toolNames must be exactly this list.
var kagentReadOnlyTools = []string{
	"k8s_get_resources", "k8s_get_resource_yaml", "k8s_describe_resource", "k8s_get_pod_logs",
	"k8s_get_events", "k8s_get_available_api_resources",
}

// kagentWriteTools are kagent tools that change the cluster or run commands in it.
var kagentWriteTools = []string{
	"k8s_apply_manifest", "k8s_patch_resource", "k8s_delete_resource", "k8s_execute_command",
	"k8s_create_resource", "k8s_create_resource_from_url", "k8s_annotate_resource", "k8s_label_resource",
	"k8s_remove_annotation", "k8s_remove_label", "k8s_rollout", "k8s_scale", "k8s_patch_status",
	"k8s_generate_resource", "helm_upgrade", "helm_uninstall", "helm_rollback",
}

// ---------------------------------------------------------------------------------------------
// The kagent Agent

func TestChartKagentAgent(t *testing.T) {
	on := fixture.Merge(fixture.ProgramValues(t, "dev"), fixture.ValuesYAML(t, `ops: {kagent: {enabled: true}}`))

	// A cluster without kagent: nothing rendered, the install does not fail, NOTES say why.
	r := fixture.Render(t, on)
	assert.Empty(t, r.ByKind("Agent"), "Agent rendered although the API server does not serve kagent.dev/v1alpha2")
	assert.Contains(t, r.Files["todo-chatbot/templates/NOTES.txt"], "was NOT installed", "NOTES do not say the Agent was skipped")
	// Off by default even where kagent runs.
	assert.Empty(t, fixture.RenderWith(t, fixture.ReleaseName, fixture.ProgramValues(t, "dev"), fixture.KagentCapabilities(t)).ByKind("Agent"),
		"Agent rendered with ops.kagent.enabled=false")

	for name, r := range map[string]fixture.Rendering{
		"served": fixture.RenderWith(t, fixture.ReleaseName, on, fixture.KagentCapabilities(t)),
		"forced": fixture.Render(t, fixture.Merge(on, fixture.ValuesYAML(t, `ops: {kagent: {force: true}}`))),
	} {
		t.Run(name, func(t *testing.T) {
			agents := r.ByKind("Agent")
			require.Len(t, agents, 1, "Agents rendered")
			a := agents[0].Obj.(*fixture.KagentAgent)
			assert.Equal(t, []string{"kagent.dev/v1alpha2", "kagent", fullname + "-ops"}, []string{a.APIVersion, a.Namespace, a.Name}, "Agent apiVersion, namespace, name")
			assertStandardLabels(t, "Agent", a.Labels)
			s := a.Spec
			require.True(t, s.Type == "Declarative" && s.Declarative != nil && s.Description != "",
				"spec: type %q, declarative %v, description %q", s.Type, s.Declarative != nil, s.Description)
			assert.Equal(t, "default-model-config", s.Declarative.ModelConfig, "modelConfig")
			msg := s.Declarative.SystemMessage
			for _, want := range []string{
				`namespace "` + fixture.Namespace + `"`, fullname + "-backend", fullname + "-frontend",
				fullname + "-postgresql", "/healthz", "/readyz", "read-only", "Never create, change",
				"CrashLoopBackOff", "OOMKilled", "database unreachable", "NetworkPolicies", "Pending",
			} {
				assert.Contains(t, msg, want, "systemMessage does not mention %q", want)
			}
			require.Len(t, s.Declarative.Tools, 1, "tool entries, want one")
			tool := s.Declarative.Tools[0]
			require.True(t, tool.Type == "McpServer" && tool.McpServer != nil, "tool %+v", tool)
			mcp := tool.McpServer
			assert.True(t, mcp.Kind == "RemoteMCPServer" && mcp.APIGroup == "kagent.dev" && mcp.Name == "kagent-tool-server" && mcp.Namespace == "kagent",
				"mcpServer reference %+v", mcp)
			assert.NotEmpty(t, mcp.ToolNames, "no toolNames: kagent would offer every tool of the server")
			for _, tn := range mcp.ToolNames {
				assert.True(t, slices.Contains(kagentReadOnlyTools, tn) && !slices.Contains(kagentWriteTools, tn), "tool %q is not a read-only kagent tool", tn)
			}
		})
	}
}

// The schema's list of accepted tool names is the read-only list, and nothing that writes.
func TestChartKagentSchemaAcceptsOnlyReadOnlyTools(t *testing.T) {
	var schema struct {
		Properties struct {
			Ops struct {
				Properties struct {
					Kagent struct {
						Properties struct {
							ToolNames struct {
								Items struct {
									Enum []string `json:"enum"`
								} `json:"items"`
							} `json:"toolNames"`
						} `json:"properties"`
					} `json:"kagent"`
				} `json:"properties"`
			} `json:"ops"`
		} `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(fixture.LoadChart(t).Schema, &schema))
	enum := schema.Properties.Ops.Properties.Kagent.Properties.ToolNames.Items.Enum
	assert.Equal(t, kagentReadOnlyTools, enum, "the schema must accept exactly the read-only tools")
	for _, w := range kagentWriteTools {
		vals := fixture.Merge(fixture.ProgramValues(t, "dev"), map[string]any{"ops": map[string]any{"kagent": map[string]any{
			"enabled": true, "force": true, "toolNames": []any{"k8s_get_resources", w}}}})
		_, err := fixture.RenderFiles(t, vals)
		assert.Error(t, err, "tool %s accepted", w)
	}
}
