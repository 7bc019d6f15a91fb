package chart

// The PostgreSQL switch: in-cluster StatefulSet or an external database.

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

func TestChartPostgresInCluster(t *testing.T) {
	r := fixture.Render(t, fixture.ProgramValues(t, "dev"))
	ss, ok := r.Find("StatefulSet", fullname+"-postgresql")
	if !ok {
		t.Fatal("no PostgreSQL StatefulSet")
	}
	sts := ss.Obj.(*appsv1.StatefulSet)
	if _, ok := r.Find("Service", sts.Spec.ServiceName); !ok {
		t.Errorf("headless Service %s missing", sts.Spec.ServiceName)
	} else if m, _ := r.Find("Service", sts.Spec.ServiceName); m.Obj.(*corev1.Service).Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("%s is not headless", sts.Spec.ServiceName)
	}
	if _, ok := r.Find("Service", fullname+"-postgresql"); !ok {
		t.Error("ClusterIP Service for PostgreSQL missing")
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String() != "1Gi" {
		t.Errorf("volumeClaimTemplates: %+v", sts.Spec.VolumeClaimTemplates)
	}
	c := sts.Spec.Template.Spec.Containers[0]
	if !strings.HasPrefix(c.Image, "postgres:") || strings.HasSuffix(c.Image, ":latest") {
		t.Errorf("image %q: want the official postgres image, pinned", c.Image)
	}
	if u := *sts.Spec.Template.Spec.SecurityContext.RunAsUser; u != 70 {
		t.Errorf("postgres runs as %d, want 70 (the Alpine image's postgres user)", u)
	}
	if c.LivenessProbe.Exec == nil || c.LivenessProbe.Exec.Command[0] != "pg_isready" {
		t.Errorf("liveness probe should use pg_isready: %+v", c.LivenessProbe)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if !strings.HasPrefix(env["PGDATA"].Value, "/var/lib/postgresql/data/") {
		t.Errorf("PGDATA %q must be a subdirectory of the volume", env["PGDATA"].Value)
	}
	// The backend connects to the ClusterIP Service, password from the Secret.
	m, _ := r.Find("Deployment", fullname+"-backend")
	benv := map[string]corev1.EnvVar{}
	for _, e := range m.Obj.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Env {
		benv[e.Name] = e
	}
	wantURL := "postgres://todo@" + fullname + "-postgresql:5432/todo?sslmode=disable"
	if benv["DATABASE_URL"].Value != wantURL {
		t.Errorf("DATABASE_URL %q, want %q", benv["DATABASE_URL"].Value, wantURL)
	}
	if ref := benv["PGPASSWORD"].ValueFrom; ref == nil || ref.SecretKeyRef.Key != "postgres-password" {
		t.Errorf("PGPASSWORD must come from the Secret's postgres-password: %+v", ref)
	}
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
		if n := len(r.ByKind("StatefulSet")); n != 0 {
			t.Errorf("%s: %d StatefulSet(s) rendered with postgresql.enabled=false", name, n)
		}
		for _, m := range r.Manifests {
			if strings.Contains(m.Name, "postgresql") {
				t.Errorf("%s: %s/%s rendered with postgresql.enabled=false", name, m.Kind, m.Name)
			}
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
		if ref, ok := refs["DATABASE_URL"]; !ok || ref.Name != want || ref.Key != wantKey {
			t.Errorf("%s: DATABASE_URL from %+v, want secret %s key %s", name, ref, want, wantKey)
		}
		if _, ok := refs["PGPASSWORD"]; ok {
			t.Errorf("%s: PGPASSWORD set without in-cluster PostgreSQL", name)
		}
		// Egress to the external database instead of the in-cluster pods.
		m, _ := r.Find("NetworkPolicy", fullname+"-backend")
		found := false
		for _, rule := range m.Obj.(*networkingv1.NetworkPolicy).Spec.Egress {
			for _, p := range rule.Ports {
				found = found || (p.Port.IntValue() == 5432 && rule.To[0].IPBlock != nil)
			}
		}
		if !found {
			t.Errorf("%s: no backend egress to the external database", name)
		}
	}
}
