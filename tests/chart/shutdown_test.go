package chart

// Graceful shutdown: the backend's drain period and memory limit.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

// The backend drains on SIGTERM inside its grace period, and learns its memory limit.
func TestChartBackendDrainAndLimits(t *testing.T) {
	base := fixture.ProgramValues(t, "dev")
	r := fixture.Render(t, base)
	m, ok := r.Find("Deployment", fullname+"-backend")
	require.True(t, ok, "backend Deployment not rendered")
	pod := m.Obj.(*appsv1.Deployment).Spec.Template.Spec
	cm, ok := r.Find("ConfigMap", fullname+"-backend")
	require.True(t, ok, "backend ConfigMap not rendered")
	data := cm.Obj.(*corev1.ConfigMap).Data
	for k, want := range map[string]string{"DRAIN_WINDOW": "10s", "SHUTDOWN_TIMEOUT": "15s", "REQUEST_TIMEOUT": "10s", "MAX_IN_FLIGHT": "128"} {
		assert.Equal(t, want, data[k], "ConfigMap %s", k)
	}
	g := pod.TerminationGracePeriodSeconds
	assert.True(t, g != nil && *g > 10+15, "terminationGracePeriodSeconds %v does not cover drain window + shutdown timeout", g)
	var memEnv *corev1.EnvVar
	for i, e := range pod.Containers[0].Env {
		if e.Name == "MEMORY_LIMIT" {
			memEnv = &pod.Containers[0].Env[i]
		}
	}
	assert.True(t, memEnv != nil && memEnv.ValueFrom != nil && memEnv.ValueFrom.ResourceFieldRef != nil &&
		memEnv.ValueFrom.ResourceFieldRef.Resource == "limits.memory" && memEnv.ValueFrom.ResourceFieldRef.Divisor.String() == "1",
		"MEMORY_LIMIT must come from the container's memory limit in bytes: %+v", memEnv)

	// A grace period that the drain window and shutdown budget do not fit in is refused.
	_, err := fixture.RenderFiles(t, fixture.Merge(base, fixture.ValuesYAML(t, `backend: {drainWindow: 20s, shutdownTimeout: 15s, terminationGracePeriodSeconds: 30}`)))
	assert.ErrorContains(t, err, "terminationGracePeriodSeconds", "drain 20s + shutdown 15s in a 30s grace period must be refused")
	_, err = fixture.RenderFiles(t, fixture.Merge(base, fixture.ValuesYAML(t, `backend: {drainWindow: 1m, terminationGracePeriodSeconds: 90}`)))
	assert.NoError(t, err, "drain 1m + shutdown 15s in a 90s grace period")
	_, err = fixture.RenderFiles(t, fixture.Merge(base, fixture.ValuesYAML(t, `backend: {drainWindow: soon}`)))
	assert.ErrorContains(t, err, "/backend/drainWindow", "drainWindow: soon accepted")
}
