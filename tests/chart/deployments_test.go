package chart

// Deployments: rollout, replicas, spreading, checksums, autoscaling.

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

func TestChartDeployments(t *testing.T) {
	for _, sc := range scenarios(t) {
		r := fixture.Render(t, sc.values)
		vals := fixture.Coalesced(t, sc.values)
		hpas := map[string]*autoscalingv2.HorizontalPodAutoscaler{}
		for _, m := range r.ByKind("HorizontalPodAutoscaler") {
			h := m.Obj.(*autoscalingv2.HorizontalPodAutoscaler)
			hpas[h.Spec.ScaleTargetRef.Name] = h
		}
		for _, component := range []string{"backend", "frontend"} {
			what := sc.name + " " + component
			m, ok := r.Find("Deployment", fullname+"-"+component)
			require.True(t, ok, "%s: Deployment not rendered", what)
			d := m.Obj.(*appsv1.Deployment)
			cv := vals[component].(map[string]any)
			replicas := int32(fixture.Int(cv["replicaCount"]))
			autoscaling := cv["autoscaling"].(map[string]any)["enabled"].(bool)

			ru := d.Spec.Strategy.RollingUpdate
			assert.True(t, d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType && ru != nil &&
				ru.MaxUnavailable != nil && ru.MaxUnavailable.IntValue() == 0 && ru.MaxSurge != nil && ru.MaxSurge.IntValue() == 1,
				"%s: strategy must be RollingUpdate maxUnavailable 0, maxSurge 1: %+v", what, d.Spec.Strategy)
			if autoscaling {
				assert.Nil(t, d.Spec.Replicas, "%s: HPA enabled but the Deployment sets replicas", what)
				if h := hpas[d.Name]; assert.NotNil(t, h, "%s: HPA enabled but none targets the Deployment", what) {
					assert.True(t, h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.APIVersion == "apps/v1" &&
						h.Spec.MinReplicas != nil && *h.Spec.MinReplicas >= 1 && h.Spec.MaxReplicas >= *h.Spec.MinReplicas,
						"%s: bad HPA %+v", what, h.Spec)
				}
			} else {
				if assert.NotNil(t, d.Spec.Replicas, "%s: replicas unset, want %d", what, replicas) {
					assert.Equal(t, replicas, *d.Spec.Replicas, "%s: replicas", what)
				}
				assert.Nil(t, hpas[d.Name], "%s: HPA rendered while disabled", what)
			}
			multi := autoscaling || replicas > 1
			tsc := d.Spec.Template.Spec.TopologySpreadConstraints
			if multi {
				assert.True(t, len(tsc) == 1 && tsc[0].TopologyKey == "kubernetes.io/hostname" &&
					tsc[0].WhenUnsatisfiable == corev1.ScheduleAnyway && tsc[0].MaxSkew == 1 &&
					reflect.DeepEqual(tsc[0].LabelSelector, d.Spec.Selector),
					"%s: several replicas need a hostname spread (ScheduleAnyway): %+v", what, tsc)
			} else {
				assert.Empty(t, tsc, "%s: single replica should not carry spread constraints", what)
			}
			ann := d.Spec.Template.Annotations
			assert.Len(t, ann["checksum/config"], 64, "%s: checksum/config annotation missing", what)
			if component == "backend" {
				assert.Len(t, ann["checksum/secret"], 64, "%s: checksum/secret annotation missing", what)
			}
		}
	}
}

// A configuration change must change the pods' checksum annotation (and so roll them).
func TestChartChecksumRollsPods(t *testing.T) {
	dev := fixture.ProgramValues(t, "dev")
	a := fixture.Render(t, dev)
	b := fixture.Render(t, fixture.Merge(dev, map[string]any{"backend": map[string]any{"env": map[string]any{"CORS_ALLOWED_ORIGINS": "https://changed.example.com"}}}))
	ann := func(r fixture.Rendering, name, key string) string {
		m, _ := r.Find("Deployment", name)
		return m.Obj.(*appsv1.Deployment).Spec.Template.Annotations[key]
	}
	assert.NotEqual(t, ann(a, fullname+"-backend", "checksum/config"), ann(b, fullname+"-backend", "checksum/config"), "changing backend.env did not change checksum/config")
	c := fixture.Render(t, secretValues())
	d := fixture.Render(t, fixture.Merge(secretValues(), map[string]any{"secrets": map[string]any{"jwtSecret": strings.Repeat("z", 40)}}))
	assert.NotEqual(t, ann(c, fullname+"-backend", "checksum/secret"), ann(d, fullname+"-backend", "checksum/secret"), "changing secrets.jwtSecret did not change checksum/secret")

	// With existingSecret the chart cannot see the content: existingSecretVersion
	// (the Secret's resourceVersion, from the program) rolls what reads it.
	e := fixture.Render(t, fixture.Merge(dev, map[string]any{"existingSecretVersion": "1001"}))
	f := fixture.Render(t, fixture.Merge(dev, map[string]any{"existingSecretVersion": "1002"}))
	assert.NotEqual(t, ann(e, fullname+"-backend", "checksum/secret"), ann(f, fullname+"-backend", "checksum/secret"), "a new existingSecretVersion did not change the backend's checksum/secret")
	sts := func(r fixture.Rendering) string {
		m, ok := r.Find("StatefulSet", fullname+"-postgresql")
		require.True(t, ok, "no PostgreSQL StatefulSet")
		return m.Obj.(*appsv1.StatefulSet).Spec.Template.Annotations["checksum/secret"]
	}
	// PostgreSQL reads its password only when it first initialises its data
	// directory, so restarting it on a rotation would be downtime for nothing.
	assert.Equal(t, sts(e), sts(f), "PostgreSQL must not restart for a new existingSecretVersion")
	assert.Equal(t, ann(e, fullname+"-frontend", "checksum/config"), ann(f, fullname+"-frontend", "checksum/config"), "the frontend reads no secret and must not roll with existingSecretVersion")
}
