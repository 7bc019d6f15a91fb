package chart

// Pod templates: one table of assertions (Pod Security restricted among them) over every workload
// of every scenario, and proof the table catches what it claims to.

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

type podTemplate struct {
	what     string // Kind/name
	kind     string
	isTest   bool
	meta     metav1.ObjectMeta
	spec     corev1.PodSpec
	selector *metav1.LabelSelector // nil for bare Pods
}

func podTemplates(r fixture.Rendering) []podTemplate {
	var out []podTemplate
	for _, m := range r.Manifests {
		what := m.Kind + "/" + m.Name
		switch o := m.Obj.(type) {
		case *appsv1.Deployment:
			out = append(out, podTemplate{what, m.Kind, false, o.Spec.Template.ObjectMeta, o.Spec.Template.Spec, o.Spec.Selector})
		case *appsv1.StatefulSet:
			out = append(out, podTemplate{what, m.Kind, false, o.Spec.Template.ObjectMeta, o.Spec.Template.Spec, o.Spec.Selector})
		case *corev1.Pod:
			out = append(out, podTemplate{what, m.Kind, o.Annotations["helm.sh/hook"] == "test", o.ObjectMeta, o.Spec, nil})
		}
	}
	return out
}

type podCheck struct {
	name  string
	check func(p podTemplate) error
}

var podChecks = []podCheck{
	{"PSS restricted (k8s.io/pod-security-admission, latest)", func(p podTemplate) error {
		ev, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
		if err != nil {
			return err
		}
		res := psapolicy.AggregateCheckResults(ev.EvaluatePod(
			psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}, &p.meta, &p.spec))
		if !res.Allowed {
			return fmt.Errorf("%s: %s", res.ForbiddenReason(), res.ForbiddenDetail())
		}
		return nil
	}},
	{"pod security context", func(p podTemplate) error {
		sc := p.spec.SecurityContext
		switch {
		case sc == nil:
			return fmt.Errorf("no pod securityContext")
		case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
			return fmt.Errorf("runAsNonRoot not true")
		case sc.RunAsUser == nil || *sc.RunAsUser <= 0:
			return fmt.Errorf("runAsUser not a non-zero number")
		case sc.RunAsGroup == nil || *sc.RunAsGroup <= 0:
			return fmt.Errorf("runAsGroup not a non-zero number")
		case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
			return fmt.Errorf("seccompProfile not RuntimeDefault")
		case p.spec.HostNetwork || p.spec.HostPID || p.spec.HostIPC:
			return fmt.Errorf("host namespaces shared")
		}
		return nil
	}},
	{"container security context", func(p podTemplate) error {
		for _, c := range allContainers(p.spec) {
			sc := c.SecurityContext
			switch {
			case sc == nil:
				return fmt.Errorf("%s: no securityContext", c.Name)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				return fmt.Errorf("%s: allowPrivilegeEscalation not false", c.Name)
			case sc.Privileged != nil && *sc.Privileged:
				return fmt.Errorf("%s: privileged", c.Name)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				return fmt.Errorf("%s: readOnlyRootFilesystem not true", c.Name)
			case sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
				return fmt.Errorf("%s: capabilities must drop ALL and add none", c.Name)
			case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser <= 0:
				return fmt.Errorf("%s: not pinned to a numeric non-root user", c.Name)
			}
			for _, port := range c.Ports {
				if port.HostPort != 0 {
					return fmt.Errorf("%s: hostPort", c.Name)
				}
			}
		}
		return nil
	}},
	{"volumes are emptyDir, PVC, ConfigMap or Secret; writable paths mounted", func(p podTemplate) error {
		for _, v := range p.spec.Volumes {
			if v.EmptyDir == nil && v.PersistentVolumeClaim == nil && v.ConfigMap == nil && v.Secret == nil {
				return fmt.Errorf("volume %s has a disallowed type", v.Name)
			}
			if v.EmptyDir != nil && v.EmptyDir.SizeLimit == nil {
				return fmt.Errorf("emptyDir %s without sizeLimit", v.Name)
			}
		}
		// Paths the images write to (docs/contracts.md) must be mounted volumes.
		need := map[string][]string{
			"frontend":   {"/tmp", "/etc/nginx/conf.d"},
			"postgresql": {"/tmp", "/var/run/postgresql", "/var/lib/postgresql/data"},
		}
		for _, c := range p.spec.Containers {
			mounted := map[string]bool{}
			for _, m := range c.VolumeMounts {
				mounted[m.MountPath] = true
			}
			for _, path := range need[c.Name] {
				if !mounted[path] {
					return fmt.Errorf("%s: %s is not a writable volume", c.Name, path)
				}
			}
		}
		return nil
	}},
	{"requests and limits", func(p podTemplate) error {
		for _, c := range allContainers(p.spec) {
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
				req, okReq := c.Resources.Requests[res]
				lim, okLim := c.Resources.Limits[res]
				if !okReq || !okLim || req.IsZero() || lim.IsZero() {
					return fmt.Errorf("%s: %s request and limit required", c.Name, res)
				}
				if req.Cmp(lim) > 0 {
					return fmt.Errorf("%s: %s request %s above limit %s", c.Name, res, req.String(), lim.String())
				}
			}
		}
		return nil
	}},
	{"probes (startup, liveness, readiness; distinct; on declared ports)", func(p podTemplate) error {
		if p.isTest {
			return nil // run-to-completion test pods have nothing to probe
		}
		for _, c := range p.spec.Containers {
			if c.StartupProbe == nil || c.LivenessProbe == nil || c.ReadinessProbe == nil {
				return fmt.Errorf("%s: startup, liveness and readiness probes required", c.Name)
			}
			if reflect.DeepEqual(c.LivenessProbe.ProbeHandler, c.ReadinessProbe.ProbeHandler) {
				return fmt.Errorf("%s: liveness and readiness probes are identical", c.Name)
			}
			ports := map[string]bool{}
			for _, port := range c.Ports {
				ports[port.Name] = true
				ports[fmt.Sprint(port.ContainerPort)] = true
			}
			for _, pr := range []*corev1.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
				if pr.HTTPGet != nil && !ports[pr.HTTPGet.Port.String()] {
					return fmt.Errorf("%s: probe port %s is not a container port", c.Name, pr.HTTPGet.Port.String())
				}
			}
		}
		want := map[string][3]string{ // startup, liveness, readiness paths
			"backend":  {"/healthz", "/healthz", "/readyz"},
			"frontend": {"/healthz", "/healthz", "/"},
		}
		for _, c := range p.spec.Containers {
			if w, ok := want[c.Name]; ok {
				got := [3]string{c.StartupProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path}
				if got != w || c.LivenessProbe.HTTPGet.Port.String() != "http" {
					return fmt.Errorf("%s: probe paths %v, want %v on port http", c.Name, got, w)
				}
				if c.Ports[0].ContainerPort != 8080 {
					return fmt.Errorf("%s: listens on %d, want 8080", c.Name, c.Ports[0].ContainerPort)
				}
			}
		}
		return nil
	}},
	{"labels and selector", func(p podTemplate) error {
		for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
			"app.kubernetes.io/version", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by", "helm.sh/chart"} {
			if p.meta.Labels[k] == "" {
				return fmt.Errorf("label %s missing", k)
			}
		}
		if p.selector != nil {
			sel, err := metav1.LabelSelectorAsSelector(p.selector)
			if err != nil {
				return err
			}
			if !sel.Matches(labels.Set(p.meta.Labels)) {
				return fmt.Errorf("selector %s does not match the template labels", sel)
			}
			if len(p.selector.MatchLabels) != 3 {
				return fmt.Errorf("selector should be exactly name, instance and component: %v", p.selector.MatchLabels)
			}
		}
		return nil
	}},
	{"service account token never mounted", func(p podTemplate) error {
		if p.spec.AutomountServiceAccountToken == nil || *p.spec.AutomountServiceAccountToken {
			return fmt.Errorf("automountServiceAccountToken not false")
		}
		if !p.isTest && (p.spec.ServiceAccountName == "" || p.spec.ServiceAccountName == "default") {
			return fmt.Errorf("uses the default ServiceAccount")
		}
		return nil
	}},
	{"images pinned with a pull policy", func(p podTemplate) error {
		for _, c := range allContainers(p.spec) {
			if c.ImagePullPolicy == "" {
				return fmt.Errorf("%s: no imagePullPolicy", c.Name)
			}
			ref := c.Image
			if strings.Contains(ref, "@sha256:") {
				continue
			}
			i := strings.LastIndex(ref, ":")
			if i < 0 || strings.Contains(ref[i:], "/") || ref[i+1:] == "latest" || ref[i+1:] == "" {
				return fmt.Errorf("%s: image %q is not pinned by tag or digest", c.Name, ref)
			}
		}
		return nil
	}},
}

func allContainers(spec corev1.PodSpec) []corev1.Container {
	return append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
}

func TestChartPodTemplates(t *testing.T) {
	for _, sc := range scenarios(t) {
		r := fixture.Render(t, sc.values)
		pods := podTemplates(r)
		require.GreaterOrEqual(t, len(pods), 4, "%s: only %d pod templates rendered", sc.name, len(pods))
		for _, p := range pods {
			for _, c := range podChecks {
				assert.NoError(t, c.check(p), "%s %s: %s", sc.name, p.what, c.name)
			}
		}
	}
}

// The table must catch what it claims to: break a rendered pod and watch it fail.
func TestChartPodChecksCatchViolations(t *testing.T) {
	r := fixture.Render(t, fixture.ProgramValues(t, "dev"))
	var base podTemplate
	for _, p := range podTemplates(r) {
		if p.what == "Deployment/"+fullname+"-backend" {
			base = p
		}
	}
	require.NotEmpty(t, base.what, "backend Deployment not rendered")
	breakers := map[string]func(p *podTemplate){
		"PSS": func(p *podTemplate) {
			p.spec.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		},
		"pod security": func(p *podTemplate) { p.spec.SecurityContext.RunAsUser = nil },
		"container": func(p *podTemplate) {
			f := false
			p.spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = &f
		},
		"resources":   func(p *podTemplate) { delete(p.spec.Containers[0].Resources.Limits, corev1.ResourceMemory) },
		"probes":      func(p *podTemplate) { p.spec.Containers[0].StartupProbe = nil },
		"labels":      func(p *podTemplate) { p.meta.Labels = map[string]string{"app": "x"} },
		"service acc": func(p *podTemplate) { p.spec.AutomountServiceAccountToken = nil },
		"images":      func(p *podTemplate) { p.spec.Containers[0].Image = "todo-chatbot-backend:latest" },
	}
	for name, breakIt := range breakers {
		p := base
		p.meta = *base.meta.DeepCopy()
		p.spec = *base.spec.DeepCopy()
		breakIt(&p)
		failed := 0
		for _, c := range podChecks {
			if c.check(p) != nil {
				failed++
			}
		}
		assert.NotZero(t, failed, "breaking %s went unnoticed", name)
	}
}
