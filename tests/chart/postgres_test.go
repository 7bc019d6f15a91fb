package chart

// The PostgreSQL switch: in-cluster StatefulSet or an external database.

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

func TestChartPostgresInCluster(t *testing.T) {
	r := fixture.Render(t, fixture.ProgramValues(t, "dev"))
	ss, ok := r.Find("StatefulSet", fullname+"-postgresql")
	require.True(t, ok, "no PostgreSQL StatefulSet")
	sts := ss.Obj.(*appsv1.StatefulSet)
	if hs, ok := r.Find("Service", sts.Spec.ServiceName); assert.True(t, ok, "headless Service %s missing", sts.Spec.ServiceName) {
		assert.Equal(t, corev1.ClusterIPNone, hs.Obj.(*corev1.Service).Spec.ClusterIP, "%s is not headless", sts.Spec.ServiceName)
	}
	_, ok = r.Find("Service", fullname+"-postgresql")
	assert.True(t, ok, "ClusterIP Service for PostgreSQL missing")
	assert.True(t, len(sts.Spec.VolumeClaimTemplates) == 1 && sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String() == "1Gi",
		"volumeClaimTemplates: %+v", sts.Spec.VolumeClaimTemplates)
	c := sts.Spec.Template.Spec.Containers[0]
	assert.True(t, strings.HasPrefix(c.Image, "postgres:") && !strings.HasSuffix(c.Image, ":latest"), "image %q: want the official postgres image, pinned", c.Image)
	assert.Equal(t, int64(70), *sts.Spec.Template.Spec.SecurityContext.RunAsUser, "postgres runs as the Alpine image's postgres user")
	assert.True(t, c.LivenessProbe.Exec != nil && c.LivenessProbe.Exec.Command[0] == "pg_isready", "liveness probe should use pg_isready: %+v", c.LivenessProbe)
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	assert.True(t, strings.HasPrefix(env["PGDATA"].Value, "/var/lib/postgresql/data/"), "PGDATA %q must be a subdirectory of the volume", env["PGDATA"].Value)
	// The backend connects to the ClusterIP Service, password from the Secret.
	m, _ := r.Find("Deployment", fullname+"-backend")
	benv := map[string]corev1.EnvVar{}
	for _, e := range m.Obj.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Env {
		benv[e.Name] = e
	}
	wantURL := "postgres://todo@" + fullname + "-postgresql:5432/todo?sslmode=disable"
	assert.Equal(t, wantURL, benv["DATABASE_URL"].Value, "DATABASE_URL")
	ref := benv["PGPASSWORD"].ValueFrom
	assert.True(t, ref != nil && ref.SecretKeyRef.Key == "postgres-password", "PGPASSWORD must come from the Secret's postgres-password: %+v", ref)
}

func TestChartPostgresDisabled(t *testing.T) {
	for name, c := range map[string]struct {
		values     map[string]any
		wantSecret string
	}{
		"external secret":  {fixture.ValuesYAML(t, "existingSecret: app\npostgresql: {enabled: false}\nexternalDatabase: {existingSecret: db, key: url}"), "db"},
		"release's secret": {fixture.ValuesYAML(t, "existingSecret: app\npostgresql: {enabled: false}"), "app"},
		"program prod":     {fixture.ProgramValues(t, "prod"), ""},
	} {
		vals := fixture.Coalesced(t, c.values)
		if vals["postgresql"].(map[string]any)["enabled"].(bool) {
			continue // a prod stack file with in-cluster PostgreSQL is covered by the dev test
		}
		r := fixture.Render(t, c.values)
		assert.Empty(t, r.ByKind("StatefulSet"), "%s: StatefulSet rendered with postgresql.enabled=false", name)
		for _, m := range r.Manifests {
			assert.NotContains(t, m.Name, "postgresql", "%s: %s/%s rendered with postgresql.enabled=false", name, m.Kind, m.Name)
		}
		refs := secretRefs(t, r, fullname+"-backend")
		want := c.wantSecret
		if want == "" {
			ext := vals["externalDatabase"].(map[string]any)
			want, _ = ext["existingSecret"].(string)
			if want == "" {
				want = vals["existingSecret"].(string)
			}
		}
		wantKey := vals["externalDatabase"].(map[string]any)["key"].(string)
		ref, ok := refs["DATABASE_URL"]
		assert.True(t, ok && ref.Name == want && ref.Key == wantKey, "%s: DATABASE_URL from %+v, want secret %s key %s", name, ref, want, wantKey)
		assert.NotContains(t, refs, "PGPASSWORD", "%s: PGPASSWORD set without in-cluster PostgreSQL", name)
		// Egress to the external database instead of the in-cluster pods.
		m, _ := r.Find("NetworkPolicy", fullname+"-backend")
		found := false
		for _, rule := range m.Obj.(*networkingv1.NetworkPolicy).Spec.Egress {
			for _, p := range rule.Ports {
				found = found || (p.Port.IntValue() == 5432 && rule.To[0].IPBlock != nil)
			}
		}
		assert.True(t, found, "%s: no backend egress to the external database", name)
	}
}
