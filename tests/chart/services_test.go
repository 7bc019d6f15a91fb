package chart

// Images, ingress, Services, PodDisruptionBudgets and the helm test pods.

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

func TestChartImages(t *testing.T) {
	r := fixture.Render(t, fixture.ValuesYAML(t, `
existingSecret: s
backend: {image: {repository: reg.example.com:5000/team/api, tag: v9, digest: "`+testDigest+`", pullPolicy: Always}}
frontend: {image: {repository: web, tag: "2.0.1", pullPolicy: Never}}
`))
	img := func(name string) (string, corev1.PullPolicy) {
		m, _ := r.Find("Deployment", name)
		c := m.Obj.(*appsv1.Deployment).Spec.Template.Spec.Containers[0]
		return c.Image, c.ImagePullPolicy
	}
	ref, pp := img(fullname + "-backend")
	assert.Equal(t, []string{"reg.example.com:5000/team/api@" + testDigest, string(corev1.PullAlways)}, []string{ref, string(pp)}, "digest image and pull policy")
	ref, pp = img(fullname + "-frontend")
	assert.Equal(t, []string{"web:2.0.1", string(corev1.PullNever)}, []string{ref, string(pp)}, "tag image and pull policy")
	// No tag: the chart's appVersion.
	r = fixture.Render(t, map[string]any{"existingSecret": "s"})
	ref, _ = img(fullname + "-backend")
	assert.Equal(t, "todo-chatbot-backend:"+fixture.LoadChart(t).Metadata.AppVersion, ref, "default tag")
	// What the program asks for is what the pods run.
	for _, stack := range []string{"dev", "prod"} {
		vals := fixture.ProgramValues(t, stack)
		r = fixture.Render(t, vals)
		for _, component := range []string{"backend", "frontend"} {
			iv := vals[component].(map[string]any)["image"].(map[string]any)
			want := fmt.Sprintf("%s:%s", iv["repository"], iv["tag"])
			if d, _ := iv["digest"].(string); d != "" {
				want = fmt.Sprintf("%s@%s", iv["repository"], d)
			}
			ref, pp := img(fullname + "-" + component)
			assert.Equal(t, []any{want, iv["pullPolicy"]}, []any{ref, string(pp)}, "%s %s: the image (and pull policy) the pods run is what the program asked for", stack, component)
		}
	}
}

func TestChartIngressAndServices(t *testing.T) {
	for _, sc := range scenarios(t) {
		r := fixture.Render(t, sc.values)
		vals := fixture.Coalesced(t, sc.values)
		iv := vals["ingress"].(map[string]any)
		ings := r.ByKind("Ingress")
		if enabled := iv["enabled"].(bool); !enabled {
			assert.Empty(t, ings, "%s: Ingress rendered while disabled", sc.name)
		} else {
			require.Len(t, ings, 1, "%s: want one Ingress", sc.name)
			ing := ings[0].Obj.(*networkingv1.Ingress)
			assert.True(t, ing.Spec.IngressClassName != nil && *ing.Spec.IngressClassName == iv["className"], "%s: ingressClassName %v", sc.name, ing.Spec.IngressClassName)
			rule := ing.Spec.Rules[0]
			assert.True(t, rule.Host == iv["host"] && rule.HTTP.Paths[0].Backend.Service.Name == fullname+"-frontend", "%s: rule %+v", sc.name, rule)
			tls := iv["tls"].(map[string]any)
			assert.Equal(t, tls["enabled"].(bool), len(ing.Spec.TLS) == 1, "%s: TLS on exactly when enabled: %+v", sc.name, ing.Spec.TLS)
		}
		// Services select exactly their Deployment's pods, on the named container port.
		for _, component := range []string{"backend", "frontend"} {
			sm, ok := r.Find("Service", fullname+"-"+component)
			dm, ok2 := r.Find("Deployment", fullname+"-"+component)
			require.True(t, ok && ok2, "%s: %s Service or Deployment missing", sc.name, component)
			svc, dep := sm.Obj.(*corev1.Service), dm.Obj.(*appsv1.Deployment)
			assert.True(t, reflect.DeepEqual(svc.Spec.Selector, dep.Spec.Selector.MatchLabels) && svc.Spec.Type == corev1.ServiceTypeClusterIP,
				"%s: Service %s selector %v, Deployment selector %v", sc.name, svc.Name, svc.Spec.Selector, dep.Spec.Selector.MatchLabels)
			wantPort := fixture.Int(vals[component].(map[string]any)["service"].(map[string]any)["port"])
			assert.True(t, int(svc.Spec.Ports[0].Port) == wantPort && svc.Spec.Ports[0].TargetPort.String() == "http", "%s: Service %s ports %+v", sc.name, svc.Name, svc.Spec.Ports)
		}
		// One ServiceAccount per workload, none mounting tokens.
		for _, m := range r.ByKind("ServiceAccount") {
			sa := m.Obj.(*corev1.ServiceAccount)
			assert.True(t, sa.AutomountServiceAccountToken != nil && !*sa.AutomountServiceAccountToken, "%s: ServiceAccount %s mounts its token", sc.name, sa.Name)
		}
		for _, p := range podTemplates(r) {
			if p.isTest {
				continue
			}
			_, ok := r.Find("ServiceAccount", p.spec.ServiceAccountName)
			assert.True(t, ok, "%s: %s uses ServiceAccount %q which the chart does not render", sc.name, p.what, p.spec.ServiceAccountName)
		}
		// PodDisruptionBudgets when enabled, matching the Deployments.
		pdbs := r.ByKind("PodDisruptionBudget")
		assert.Equal(t, vals["podDisruptionBudget"].(map[string]any)["enabled"].(bool), len(pdbs) == 2, "%s: two PodDisruptionBudgets exactly when enabled, got %d", sc.name, len(pdbs))
	}
}

func TestChartTestPods(t *testing.T) {
	r := fixture.Render(t, fixture.ProgramValues(t, "dev"))
	urls := map[string]bool{}
	for _, m := range r.ByKind("Pod") {
		p := m.Obj.(*corev1.Pod)
		assert.True(t, p.Annotations["helm.sh/hook"] == "test" && p.Spec.RestartPolicy == corev1.RestartPolicyNever, "%s: not a helm test hook pod", p.Name)
		for _, e := range p.Spec.Containers[0].Env {
			if e.Name == "URL" {
				urls[e.Value] = true
			}
		}
	}
	for _, want := range []string{
		"http://" + fullname + "-backend:8080/readyz",
		"http://" + fullname + "-frontend:8080/",
	} {
		assert.True(t, urls[want], "no helm test pod checks %s (have %v)", want, urls)
	}
}
