package tests

// Tests of the Helm chart helm/todo-chatbot, rendered client-side with the Helm Go SDK using the
// chart defaults, the values the Pulumi program produces for the committed dev and prod stack
// files, and a few feature switches. See chart_render_test.go for the rendering helpers.

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"
)

// Sentinel secret values: rendered through the chart's own secret.yaml, they must appear in the
// Secret and nowhere else.
const (
	chartSentinelJWT      = "SENTINEL-jwt-0123456789abcdef0123456789abcdef"
	chartSentinelPGPass   = "SENTINEL-pgpass-b7f1c9d2"
	chartSentinelLLMKey   = "SENTINEL-llmkey-4e8a2f60"
	chartSentinelDBURL    = "postgres://app:SENTINEL-dbpass-91c3@db.example.com:5432/todo?sslmode=require"
	chartFullname         = "todo-chatbot" // release "todo-chatbot" contains the chart name
	chartTestDigest       = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	chartExistingSecret   = "todo-chatbot-secrets"
	chartExternalDBSecret = "external-db"
)

var chartSentinels = []string{chartSentinelJWT, chartSentinelPGPass, chartSentinelLLMKey, chartSentinelDBURL}

// chartSecretValues are what a plain-helm user passes when not using existingSecret.
func chartSecretValues() map[string]any {
	return map[string]any{"secrets": map[string]any{
		"jwtSecret":        chartSentinelJWT,
		"postgresPassword": chartSentinelPGPass,
		"llmApiKey":        chartSentinelLLMKey,
		"databaseUrl":      chartSentinelDBURL,
	}}
}

type chartScenario struct {
	name   string
	values map[string]any
}

// chartScenarios are the renderings every structural test runs over.
func chartScenarios(t testing.TB) []chartScenario {
	t.Helper()
	return []chartScenario{
		// (a) chart defaults plus the values a plain `helm install` requires.
		{"defaults", chartSecretValues()},
		// (b), (c) exactly what the Pulumi program passes for the committed stack files.
		{"dev", chartProgramValues(t, "dev")},
		{"prod", chartProgramValues(t, "prod")},
		// The chart's own example for a real cluster.
		{"values-prod", chartValuesFile(t, filepath.Join(chartDir(t), "values-prod.yaml"))},
		// Every switch flipped the other way at once.
		{"everything", chartMerge(chartSecretValues(), chartValuesYAML(t, `
backend:
  replicaCount: 3
  image: {digest: "`+chartTestDigest+`", pullPolicy: Always}
  autoscaling: {enabled: true, minReplicas: 3, maxReplicas: 9}
  env: {CORS_ALLOWED_ORIGINS: "https://todo.example.com"}
frontend:
  replicaCount: 2
  image: {tag: "1.2.3", pullPolicy: Always}
  podLabels: {team: web}
ingress:
  host: todo.example.com
  tls: {enabled: true}
  annotations: {cert-manager.io/cluster-issuer: letsencrypt}
postgresql:
  enabled: false
externalDatabase:
  existingSecret: `+chartExternalDBSecret+`
llm: {provider: openai, baseURL: "https://llm.example.com/v1", model: small}
networkPolicy:
  metricsFrom:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
podDisruptionBudget: {enabled: true}
imagePullSecrets: [{name: regcred}]
ops:
  extraSubjects: [{kind: ServiceAccount, name: kagent-tools, namespace: kagent}]
  kagent: {enabled: true, force: true}
`))},
	}
}

// ---------------------------------------------------------------------------------------------
// Lint and strict decoding

func TestChartLint(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion(chartKubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range chartScenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			linter := lint.AllWithKubeVersion(chartDir(t), chartDeepCopy(t, sc.values), chartNamespace, kv)
			for _, m := range linter.Messages {
				if m.Severity > support.InfoSev {
					t.Errorf("lint: %s", m)
				} else {
					t.Logf("lint: %s", m)
				}
			}
		})
	}
}

func TestChartRendersStrictTypedObjects(t *testing.T) {
	for _, sc := range chartScenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			r := renderChart(t, sc.values) // strict decoding happens here
			seen := map[string]bool{}
			for _, m := range r.Manifests {
				key := m.Kind + "/" + m.Name
				if seen[key] {
					t.Errorf("%s rendered twice", key)
				}
				seen[key] = true
				meta := m.Obj.(metav1.ObjectMetaAccessor).GetObjectMeta()
				wantNS := chartNamespace
				if m.Kind == "Agent" {
					wantNS = "kagent" // ops.kagent.namespace: kagent reads the ModelConfig from there
				}
				if meta.GetNamespace() != wantNS {
					t.Errorf("%s: namespace %q, want %q", key, meta.GetNamespace(), wantNS)
				}
				chartAssertStandardLabels(t, key, meta.GetLabels())
				// Names and labels the API server would reject.
				nameErrs := validation.IsDNS1123Subdomain(m.Name)
				if m.Kind == "Service" {
					nameErrs = validation.IsDNS1035Label(m.Name)
				}
				for _, e := range nameErrs {
					t.Errorf("%s: invalid name: %s", key, e)
				}
				for k, v := range meta.GetLabels() {
					for _, e := range append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...) {
						t.Errorf("%s: invalid label %s=%s: %s", key, k, v, e)
					}
				}
			}
			for _, kind := range []string{"Deployment", "Service", "ConfigMap", "ServiceAccount", "NetworkPolicy", "Pod", "Role", "RoleBinding"} {
				if len(r.byKind(kind)) == 0 {
					t.Errorf("no %s rendered", kind)
				}
			}
		})
	}
}

func TestChartMetadata(t *testing.T) {
	md := loadTodoChart(t).Metadata
	if err := md.Validate(); err != nil {
		t.Fatal(err)
	}
	if md.APIVersion != "v2" || md.Type != "application" || md.AppVersion == "" || md.Description == "" {
		t.Errorf("Chart.yaml: apiVersion %q type %q appVersion %q", md.APIVersion, md.Type, md.AppVersion)
	}
	if _, err := semver.StrictNewVersion(md.Version); err != nil {
		t.Errorf("Chart.yaml version %q is not semantic: %v", md.Version, err)
	}
	for _, v := range []string{"v1.27.0", "v1.31.0", "v1.34.1"} {
		if !chartutil.IsCompatibleRange(md.KubeVersion, v) {
			t.Errorf("kubeVersion %q excludes %s", md.KubeVersion, v)
		}
	}
	if chartutil.IsCompatibleRange(md.KubeVersion, "v1.26.9") {
		t.Errorf("kubeVersion %q admits 1.26, older than the APIs the chart uses", md.KubeVersion)
	}
	if loadTodoChart(t).Schema == nil {
		t.Error("values.schema.json not loaded with the chart")
	}
}

// The longest release name Helm accepts (53 characters) still gives valid object names with
// plain Helm, where the chart derives its fullname (the program passes fullnameOverride).
func TestChartLongReleaseName(t *testing.T) {
	release := strings.Repeat("r", 53)
	vals := chartProgramValues(t, "dev")
	delete(vals, "fullnameOverride")
	r := renderChartAs(t, release, vals)
	for _, m := range r.Manifests {
		errs := validation.IsDNS1123Subdomain(m.Name)
		if m.Kind == "Service" {
			errs = validation.IsDNS1035Label(m.Name)
		}
		if m.Kind == "StatefulSet" {
			// Its pods carry controller-revision-hash=<name>-<10-character hash>.
			errs = append(errs, validation.IsValidLabelValue(m.Name+"-0123456789")...)
		}
		for _, e := range errs {
			t.Errorf("%s/%s: %s", m.Kind, m.Name, e)
		}
	}
}

// The strict decoder itself must catch a misspelled field, or the test above proves nothing.
func TestChartStrictDecoderCatchesMisspelledFields(t *testing.T) {
	doc := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n"
	if _, err := chartDecodeStrict("x.yaml", doc); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Fatalf("misspelled field not caught: %v", err)
	}
	doc = "apiVersion: v1\nkind: Service\nmetadata: {name: x, name: y}\n"
	if _, err := chartDecodeStrict("x.yaml", doc); err == nil {
		t.Fatal("duplicate key not caught")
	}
}

func chartAssertStandardLabels(t *testing.T, what string, l map[string]string) {
	t.Helper()
	want := map[string]string{
		"app.kubernetes.io/name":       "todo-chatbot",
		"app.kubernetes.io/instance":   chartReleaseName,
		"app.kubernetes.io/part-of":    "todo-chatbot",
		"app.kubernetes.io/managed-by": "Helm",
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("%s: label %s=%q, want %q", what, k, l[k], v)
		}
	}
	for _, k := range []string{"app.kubernetes.io/version", "app.kubernetes.io/component", "helm.sh/chart"} {
		if l[k] == "" {
			t.Errorf("%s: label %s missing", what, k)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Pod templates: one table of assertions over every workload of every scenario

type chartPodTemplate struct {
	what     string // Kind/name
	kind     string
	isTest   bool
	meta     metav1.ObjectMeta
	spec     corev1.PodSpec
	selector *metav1.LabelSelector // nil for bare Pods
}

func chartPodTemplates(r chartRendered) []chartPodTemplate {
	var out []chartPodTemplate
	for _, m := range r.Manifests {
		what := m.Kind + "/" + m.Name
		switch o := m.Obj.(type) {
		case *appsv1.Deployment:
			out = append(out, chartPodTemplate{what, m.Kind, false, o.Spec.Template.ObjectMeta, o.Spec.Template.Spec, o.Spec.Selector})
		case *appsv1.StatefulSet:
			out = append(out, chartPodTemplate{what, m.Kind, false, o.Spec.Template.ObjectMeta, o.Spec.Template.Spec, o.Spec.Selector})
		case *corev1.Pod:
			out = append(out, chartPodTemplate{what, m.Kind, o.Annotations["helm.sh/hook"] == "test", o.ObjectMeta, o.Spec, nil})
		}
	}
	return out
}

type chartPodCheck struct {
	name  string
	check func(p chartPodTemplate) error
}

var chartPodChecks = []chartPodCheck{
	{"PSS restricted (k8s.io/pod-security-admission, latest)", func(p chartPodTemplate) error {
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
	{"pod security context", func(p chartPodTemplate) error {
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
	{"container security context", func(p chartPodTemplate) error {
		for _, c := range chartAllContainers(p.spec) {
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
	{"volumes are emptyDir, PVC, ConfigMap or Secret; writable paths mounted", func(p chartPodTemplate) error {
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
	{"requests and limits", func(p chartPodTemplate) error {
		for _, c := range chartAllContainers(p.spec) {
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
	{"probes (startup, liveness, readiness; distinct; on declared ports)", func(p chartPodTemplate) error {
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
	{"labels and selector", func(p chartPodTemplate) error {
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
	{"service account token never mounted", func(p chartPodTemplate) error {
		if p.spec.AutomountServiceAccountToken == nil || *p.spec.AutomountServiceAccountToken {
			return fmt.Errorf("automountServiceAccountToken not false")
		}
		if !p.isTest && (p.spec.ServiceAccountName == "" || p.spec.ServiceAccountName == "default") {
			return fmt.Errorf("uses the default ServiceAccount")
		}
		return nil
	}},
	{"images pinned with a pull policy", func(p chartPodTemplate) error {
		for _, c := range chartAllContainers(p.spec) {
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

func chartAllContainers(spec corev1.PodSpec) []corev1.Container {
	return append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
}

func TestChartPodTemplates(t *testing.T) {
	for _, sc := range chartScenarios(t) {
		r := renderChart(t, sc.values)
		pods := chartPodTemplates(r)
		if len(pods) < 4 {
			t.Fatalf("%s: only %d pod templates rendered", sc.name, len(pods))
		}
		for _, p := range pods {
			for _, c := range chartPodChecks {
				if err := c.check(p); err != nil {
					t.Errorf("%s %s: %s: %v", sc.name, p.what, c.name, err)
				}
			}
		}
	}
}

// The table must catch what it claims to: break a rendered pod and watch it fail.
func TestChartPodChecksCatchViolations(t *testing.T) {
	r := renderChart(t, chartProgramValues(t, "dev"))
	var base chartPodTemplate
	for _, p := range chartPodTemplates(r) {
		if p.what == "Deployment/"+chartFullname+"-backend" {
			base = p
		}
	}
	if base.what == "" {
		t.Fatal("backend Deployment not rendered")
	}
	breakers := map[string]func(p *chartPodTemplate){
		"PSS": func(p *chartPodTemplate) {
			p.spec.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		},
		"pod security": func(p *chartPodTemplate) { p.spec.SecurityContext.RunAsUser = nil },
		"container": func(p *chartPodTemplate) {
			f := false
			p.spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = &f
		},
		"resources":   func(p *chartPodTemplate) { delete(p.spec.Containers[0].Resources.Limits, corev1.ResourceMemory) },
		"probes":      func(p *chartPodTemplate) { p.spec.Containers[0].StartupProbe = nil },
		"labels":      func(p *chartPodTemplate) { p.meta.Labels = map[string]string{"app": "x"} },
		"service acc": func(p *chartPodTemplate) { p.spec.AutomountServiceAccountToken = nil },
		"images":      func(p *chartPodTemplate) { p.spec.Containers[0].Image = "todo-chatbot-backend:latest" },
	}
	for name, breakIt := range breakers {
		p := base
		p.meta = *base.meta.DeepCopy()
		p.spec = *base.spec.DeepCopy()
		breakIt(&p)
		failed := 0
		for _, c := range chartPodChecks {
			if c.check(p) != nil {
				failed++
			}
		}
		if failed == 0 {
			t.Errorf("breaking %s went unnoticed", name)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Deployments: rollout, replicas, spreading, checksums, autoscaling

func TestChartDeployments(t *testing.T) {
	for _, sc := range chartScenarios(t) {
		r := renderChart(t, sc.values)
		vals := chartCoalesced(t, sc.values)
		hpas := map[string]*autoscalingv2.HorizontalPodAutoscaler{}
		for _, m := range r.byKind("HorizontalPodAutoscaler") {
			h := m.Obj.(*autoscalingv2.HorizontalPodAutoscaler)
			hpas[h.Spec.ScaleTargetRef.Name] = h
		}
		for _, component := range []string{"backend", "frontend"} {
			what := sc.name + " " + component
			m, ok := r.find("Deployment", chartFullname+"-"+component)
			if !ok {
				t.Fatalf("%s: Deployment not rendered", what)
			}
			d := m.Obj.(*appsv1.Deployment)
			cv := vals[component].(map[string]any)
			replicas := int32(chartInt(cv["replicaCount"]))
			autoscaling := cv["autoscaling"].(map[string]any)["enabled"].(bool)

			ru := d.Spec.Strategy.RollingUpdate
			if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil ||
				ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 || ru.MaxSurge == nil || ru.MaxSurge.IntValue() != 1 {
				t.Errorf("%s: strategy must be RollingUpdate maxUnavailable 0, maxSurge 1: %+v", what, d.Spec.Strategy)
			}
			if autoscaling {
				if d.Spec.Replicas != nil {
					t.Errorf("%s: HPA enabled but the Deployment sets replicas", what)
				}
				h := hpas[d.Name]
				if h == nil {
					t.Errorf("%s: HPA enabled but none targets the Deployment", what)
				} else if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.APIVersion != "apps/v1" ||
					h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
					t.Errorf("%s: bad HPA %+v", what, h.Spec)
				}
			} else {
				if d.Spec.Replicas == nil || *d.Spec.Replicas != replicas {
					t.Errorf("%s: replicas %v, want %d", what, d.Spec.Replicas, replicas)
				}
				if hpas[d.Name] != nil {
					t.Errorf("%s: HPA rendered while disabled", what)
				}
			}
			multi := autoscaling || replicas > 1
			tsc := d.Spec.Template.Spec.TopologySpreadConstraints
			if multi {
				if len(tsc) != 1 || tsc[0].TopologyKey != "kubernetes.io/hostname" ||
					tsc[0].WhenUnsatisfiable != corev1.ScheduleAnyway || tsc[0].MaxSkew != 1 ||
					!reflect.DeepEqual(tsc[0].LabelSelector, d.Spec.Selector) {
					t.Errorf("%s: several replicas need a hostname spread (ScheduleAnyway): %+v", what, tsc)
				}
			} else if len(tsc) != 0 {
				t.Errorf("%s: single replica should not carry spread constraints", what)
			}
			ann := d.Spec.Template.Annotations
			if len(ann["checksum/config"]) != 64 {
				t.Errorf("%s: checksum/config annotation missing", what)
			}
			if component == "backend" && len(ann["checksum/secret"]) != 64 {
				t.Errorf("%s: checksum/secret annotation missing", what)
			}
		}
	}
}

// A configuration change must change the pods' checksum annotation (and so roll them).
func TestChartChecksumRollsPods(t *testing.T) {
	dev := chartProgramValues(t, "dev")
	a := renderChart(t, dev)
	b := renderChart(t, chartMerge(dev, map[string]any{"backend": map[string]any{"env": map[string]any{"CORS_ALLOWED_ORIGINS": "https://changed.example.com"}}}))
	ann := func(r chartRendered, name, key string) string {
		m, _ := r.find("Deployment", name)
		return m.Obj.(*appsv1.Deployment).Spec.Template.Annotations[key]
	}
	if ann(a, chartFullname+"-backend", "checksum/config") == ann(b, chartFullname+"-backend", "checksum/config") {
		t.Error("changing backend.env did not change checksum/config")
	}
	c := renderChart(t, chartSecretValues())
	d := renderChart(t, chartMerge(chartSecretValues(), map[string]any{"secrets": map[string]any{"jwtSecret": strings.Repeat("z", 40)}}))
	if ann(c, chartFullname+"-backend", "checksum/secret") == ann(d, chartFullname+"-backend", "checksum/secret") {
		t.Error("changing secrets.jwtSecret did not change checksum/secret")
	}

	// With existingSecret the chart cannot see the content: existingSecretVersion
	// (the Secret's resourceVersion, from the program) rolls what reads it.
	e := renderChart(t, chartMerge(dev, map[string]any{"existingSecretVersion": "1001"}))
	f := renderChart(t, chartMerge(dev, map[string]any{"existingSecretVersion": "1002"}))
	if ann(e, chartFullname+"-backend", "checksum/secret") == ann(f, chartFullname+"-backend", "checksum/secret") {
		t.Error("a new existingSecretVersion did not change the backend's checksum/secret")
	}
	sts := func(r chartRendered) string {
		m, ok := r.find("StatefulSet", chartFullname+"-postgresql")
		if !ok {
			t.Fatal("no PostgreSQL StatefulSet")
		}
		return m.Obj.(*appsv1.StatefulSet).Spec.Template.Annotations["checksum/secret"]
	}
	// PostgreSQL reads its password only when it first initialises its data
	// directory, so restarting it on a rotation would be downtime for nothing.
	if sts(e) != sts(f) {
		t.Error("PostgreSQL must not restart for a new existingSecretVersion")
	}
	if ann(e, chartFullname+"-frontend", "checksum/config") != ann(f, chartFullname+"-frontend", "checksum/config") {
		t.Error("the frontend reads no secret and must not roll with existingSecretVersion")
	}
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicies

// chartFlowAllowed evaluates the rendered NetworkPolicies for a connection between two pods of
// the release namespace (the only peers the chart names besides namespaces and CIDRs).
func chartFlowAllowed(pols []*networkingv1.NetworkPolicy, src, dst map[string]string, port int32) bool {
	selects := func(sel metav1.LabelSelector, l map[string]string) bool {
		s, err := metav1.LabelSelectorAsSelector(&sel)
		return err == nil && s.Matches(labels.Set(l))
	}
	hasType := func(p *networkingv1.NetworkPolicy, ty networkingv1.PolicyType) bool {
		for _, x := range p.Spec.PolicyTypes {
			if x == ty {
				return true
			}
		}
		return false
	}
	peerMatches := func(peers []networkingv1.NetworkPolicyPeer, l map[string]string) bool {
		if len(peers) == 0 {
			return true
		}
		for _, peer := range peers {
			// Same-namespace pod peers only: namespaceSelector/ipBlock peers are other places.
			if peer.PodSelector != nil && peer.NamespaceSelector == nil && peer.IPBlock == nil && selects(*peer.PodSelector, l) {
				return true
			}
		}
		return false
	}
	portMatches := func(ports []networkingv1.NetworkPolicyPort) bool {
		if len(ports) == 0 {
			return true
		}
		for _, p := range ports {
			if (p.Protocol == nil || *p.Protocol == corev1.ProtocolTCP) && (p.Port == nil || p.Port.IntValue() == int(port)) {
				return true
			}
		}
		return false
	}
	// Egress from src: allowed when no policy selects it for egress, or some rule allows.
	egressOK, egressIsolated := false, false
	ingressOK, ingressIsolated := false, false
	for _, p := range pols {
		if hasType(p, networkingv1.PolicyTypeEgress) && selects(p.Spec.PodSelector, src) {
			egressIsolated = true
			for _, rule := range p.Spec.Egress {
				if peerMatches(rule.To, dst) && portMatches(rule.Ports) {
					egressOK = true
				}
			}
		}
		if hasType(p, networkingv1.PolicyTypeIngress) && selects(p.Spec.PodSelector, dst) {
			ingressIsolated = true
			for _, rule := range p.Spec.Ingress {
				if peerMatches(rule.From, src) && portMatches(rule.Ports) {
					ingressOK = true
				}
			}
		}
	}
	return (!egressIsolated || egressOK) && (!ingressIsolated || ingressOK)
}

func TestChartNetworkPolicies(t *testing.T) {
	for _, sc := range chartScenarios(t) {
		r := renderChart(t, sc.values)
		var pols []*networkingv1.NetworkPolicy
		for _, m := range r.byKind("NetworkPolicy") {
			pols = append(pols, m.Obj.(*networkingv1.NetworkPolicy))
		}
		pods := chartPodTemplates(r)

		// A default deny (both directions, no rules) that selects every pod of the release.
		var deny *networkingv1.NetworkPolicy
		for _, p := range pols {
			if len(p.Spec.Ingress) == 0 && len(p.Spec.Egress) == 0 && len(p.Spec.PolicyTypes) == 2 {
				deny = p
			}
		}
		if deny == nil {
			t.Fatalf("%s: no default-deny NetworkPolicy", sc.name)
		}
		denySel, _ := metav1.LabelSelectorAsSelector(&deny.Spec.PodSelector)
		for _, p := range pods {
			if !denySel.Matches(labels.Set(p.meta.Labels)) {
				t.Errorf("%s: default deny does not select %s", sc.name, p.what)
			}
			// Every pod has an ingress and an egress policy (kube-score's requirement too).
			var in, out bool
			for _, pol := range pols {
				s, _ := metav1.LabelSelectorAsSelector(&pol.Spec.PodSelector)
				if !s.Matches(labels.Set(p.meta.Labels)) {
					continue
				}
				for _, ty := range pol.Spec.PolicyTypes {
					in = in || ty == networkingv1.PolicyTypeIngress
					out = out || ty == networkingv1.PolicyTypeEgress
				}
			}
			if !in || !out {
				t.Errorf("%s: %s lacks an ingress or egress NetworkPolicy", sc.name, p.what)
			}
		}
		// Every policy selects at least one pod.
		for _, pol := range pols {
			s, _ := metav1.LabelSelectorAsSelector(&pol.Spec.PodSelector)
			any := false
			for _, p := range pods {
				any = any || s.Matches(labels.Set(p.meta.Labels))
			}
			if !any {
				t.Errorf("%s: NetworkPolicy %s selects no pod", sc.name, pol.Name)
			}
		}

		// The flows the app needs, and a few it must not have.
		podLabels := map[string]map[string]string{}
		for _, p := range pods {
			podLabels[p.meta.Labels["app.kubernetes.io/component"]] = p.meta.Labels
		}
		pgEnabled := chartCoalesced(t, sc.values)["postgresql"].(map[string]any)["enabled"].(bool)
		type flow struct {
			src, dst string
			port     int32
			allowed  bool
		}
		flows := []flow{
			{"frontend", "backend", 8080, true},
			{"test", "backend", 8080, true},
			{"test", "frontend", 8080, true},
			{"backend", "frontend", 8080, false},
			{"frontend", "backend", 5432, false},
		}
		if pgEnabled {
			flows = append(flows,
				flow{"backend", "postgresql", 5432, true},
				flow{"frontend", "postgresql", 5432, false},
				flow{"test", "postgresql", 5432, false},
				flow{"postgresql", "backend", 8080, false},
			)
		}
		for _, f := range flows {
			if podLabels[f.src] == nil || podLabels[f.dst] == nil {
				t.Errorf("%s: no %s or %s pod rendered", sc.name, f.src, f.dst)
				continue
			}
			if got := chartFlowAllowed(pols, podLabels[f.src], podLabels[f.dst], f.port); got != f.allowed {
				t.Errorf("%s: %s -> %s:%d allowed=%v, want %v", sc.name, f.src, f.dst, f.port, got, f.allowed)
			}
		}

		// Egress beyond the namespace: DNS for all, the ingress controller in, LLM only with openai.
		llm := chartCoalesced(t, sc.values)["llm"].(map[string]any)["provider"] == "openai"
		var dns, controller, llmEgress bool
		for _, pol := range pols {
			for _, rule := range pol.Spec.Egress {
				for _, p := range rule.Ports {
					if p.Port != nil && p.Port.IntValue() == 53 && len(rule.To) > 0 && rule.To[0].NamespaceSelector != nil {
						dns = true
					}
					if p.Port != nil && p.Port.IntValue() == 443 {
						llmEgress = true
					}
				}
			}
			for _, rule := range pol.Spec.Ingress {
				for _, peer := range rule.From {
					if peer.NamespaceSelector != nil && peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == "ingress-nginx" {
						controller = true
					}
				}
			}
		}
		if !dns || !controller {
			t.Errorf("%s: DNS egress (%v) or ingress-controller ingress (%v) missing", sc.name, dns, controller)
		}
		if llmEgress != llm {
			t.Errorf("%s: LLM egress rendered=%v, want %v (provider openai)", sc.name, llmEgress, llm)
		}
	}
	// Switched off: no policies at all.
	r := renderChart(t, chartMerge(chartProgramValues(t, "dev"), map[string]any{"networkPolicy": map[string]any{"enabled": false}}))
	if n := len(r.byKind("NetworkPolicy")); n != 0 {
		t.Errorf("networkPolicy.enabled=false rendered %d NetworkPolicies", n)
	}
}

// ---------------------------------------------------------------------------------------------
// Secrets

func chartEnvLiterals(spec corev1.PodSpec) map[string]string {
	out := map[string]string{}
	for _, c := range chartAllContainers(spec) {
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				out[c.Name+"/"+e.Name] = e.Value
			}
		}
	}
	return out
}

func TestChartNoSecretValueOutsideTheSecret(t *testing.T) {
	variants := map[string]map[string]any{ // each renders 3 secrets
		"in-cluster postgres, openai": chartMerge(chartSecretValues(), chartValuesYAML(t, `
llm: {provider: openai, baseURL: "https://llm.example.com/v1", model: m}`)),
		"external database, openai": chartMerge(chartSecretValues(), chartValuesYAML(t, `
postgresql: {enabled: false}
llm: {provider: openai, baseURL: "https://llm.example.com/v1", model: m}`)),
	}
	// The program's stacks: the Secret is Pulumi's, and no secret it holds reaches the chart.
	for _, stack := range []string{"dev", "prod"} {
		r := renderChart(t, chartProgramValues(t, stack))
		if n := len(r.byKind("Secret")); n != 0 {
			t.Errorf("%s: the chart rendered %d Secret(s); the program makes its own", stack, n)
		}
		for _, m := range r.Manifests {
			for key, secret := range chartProgramSecrets {
				if strings.Contains(m.YAML, secret) || strings.Contains(m.YAML, base64.StdEncoding.EncodeToString([]byte(secret))) {
					t.Errorf("%s: %s/%s contains the program's %s", stack, m.Kind, m.Name, key)
				}
			}
		}
	}
	for name, vals := range variants {
		r := renderChart(t, vals)
		secrets := r.byKind("Secret")
		if len(secrets) != 1 {
			t.Fatalf("%s: want exactly one Secret, got %d", name, len(secrets))
		}
		s := secrets[0].Obj.(*corev1.Secret)
		found := map[string]bool{}
		for _, v := range s.Data {
			for _, sentinel := range chartSentinels {
				if string(v) == sentinel {
					found[sentinel] = true
				}
			}
		}
		if len(found) < 3 {
			t.Errorf("%s: the Secret holds only %d of the sentinel values", name, len(found))
		}
		for _, m := range r.Manifests {
			if m.Kind == "Secret" {
				continue
			}
			for _, sentinel := range chartSentinels {
				b64 := base64.StdEncoding.EncodeToString([]byte(sentinel))
				if strings.Contains(m.YAML, sentinel) || strings.Contains(m.YAML, b64) {
					t.Errorf("%s: %s/%s contains a secret value", name, m.Kind, m.Name)
				}
			}
		}
		for _, f := range []string{"NOTES.txt"} {
			for k, content := range r.Files {
				if strings.HasSuffix(k, f) {
					for _, sentinel := range chartSentinels {
						if strings.Contains(content, sentinel) {
							t.Errorf("%s: %s shows a secret value", name, f)
						}
					}
				}
			}
		}
		// Belt and braces on the typed objects: ConfigMap data and env literals.
		for _, m := range r.byKind("ConfigMap") {
			for k, v := range m.Obj.(*corev1.ConfigMap).Data {
				if chartLooksSecret(v) {
					t.Errorf("%s: ConfigMap %s key %s holds a secret", name, m.Name, k)
				}
			}
		}
		for _, p := range chartPodTemplates(r) {
			for k, v := range chartEnvLiterals(p.spec) {
				if chartLooksSecret(v) {
					t.Errorf("%s: %s env %s is a secret literal", name, p.what, k)
				}
			}
		}
	}
}

func chartLooksSecret(v string) bool {
	for _, s := range chartSentinels {
		if strings.Contains(v, s) || strings.Contains(v, "SENTINEL") {
			return true
		}
	}
	return false
}

// Secret-bearing variables reach the pods only through secretKeyRef.
func chartSecretRefs(t *testing.T, r chartRendered, deployment string) map[string]corev1.SecretKeySelector {
	t.Helper()
	m, ok := r.find("Deployment", deployment)
	if !ok {
		t.Fatalf("Deployment %s not rendered", deployment)
	}
	out := map[string]corev1.SecretKeySelector{}
	for _, e := range m.Obj.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			out[e.Name] = *e.ValueFrom.SecretKeyRef
		}
	}
	return out
}

func TestChartExistingSecret(t *testing.T) {
	vals := chartValuesYAML(t, `
existingSecret: `+chartExistingSecret+`
llm: {provider: openai, baseURL: "https://llm.example.com/v1", model: m}`)
	r := renderChart(t, vals)
	if n := len(r.byKind("Secret")); n != 0 {
		t.Fatalf("existingSecret set but %d Secret(s) rendered", n)
	}
	refs := chartSecretRefs(t, r, chartFullname+"-backend")
	want := map[string]string{"JWT_SECRET": "jwt-secret", "PGPASSWORD": "postgres-password", "LLM_API_KEY": "llm-api-key"}
	for env, key := range want {
		ref, ok := refs[env]
		if !ok || ref.Name != chartExistingSecret || ref.Key != key {
			t.Errorf("%s: secretKeyRef %+v, want %s/%s", env, ref, chartExistingSecret, key)
		}
	}
	m, _ := r.find("StatefulSet", chartFullname+"-postgresql")
	for _, e := range m.Obj.(*appsv1.StatefulSet).Spec.Template.Spec.Containers[0].Env {
		if e.Name == "POSTGRES_PASSWORD" && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != chartExistingSecret ||
			e.ValueFrom.SecretKeyRef.Key != "postgres-password") {
			t.Errorf("postgres reads its password from %+v", e.ValueFrom)
		}
	}
	// Offline agent: no LLM key at all.
	r = renderChart(t, map[string]any{"existingSecret": chartExistingSecret})
	if _, ok := chartSecretRefs(t, r, chartFullname+"-backend")["LLM_API_KEY"]; ok {
		t.Error("LLM_API_KEY referenced although llm.provider is offline")
	}
}

// Without existingSecret, each secret the configuration needs is required, by name.
func TestChartRequiredSecrets(t *testing.T) {
	cases := []struct {
		values string
		want   string
	}{
		{`{}`, "secrets.jwtSecret is required"},
		{`secrets: {jwtSecret: "` + strings.Repeat("j", 32) + `"}`, "secrets.postgresPassword is required"},
		{`{secrets: {jwtSecret: "` + strings.Repeat("j", 32) + `", postgresPassword: p}, llm: {provider: openai, baseURL: "https://x.example.com", model: m}}`, "secrets.llmApiKey is required"},
		{`{secrets: {jwtSecret: "` + strings.Repeat("j", 32) + `"}, postgresql: {enabled: false}}`, "secrets.databaseUrl is required"},
	}
	for _, c := range cases {
		_, err := renderChartFiles(t, chartValuesYAML(t, c.values))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("values %s: error %v, want one containing %q", c.values, err, c.want)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL switch

func TestChartPostgresInCluster(t *testing.T) {
	r := renderChart(t, chartProgramValues(t, "dev"))
	ss, ok := r.find("StatefulSet", chartFullname+"-postgresql")
	if !ok {
		t.Fatal("no PostgreSQL StatefulSet")
	}
	sts := ss.Obj.(*appsv1.StatefulSet)
	if _, ok := r.find("Service", sts.Spec.ServiceName); !ok {
		t.Errorf("headless Service %s missing", sts.Spec.ServiceName)
	} else if m, _ := r.find("Service", sts.Spec.ServiceName); m.Obj.(*corev1.Service).Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("%s is not headless", sts.Spec.ServiceName)
	}
	if _, ok := r.find("Service", chartFullname+"-postgresql"); !ok {
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
	m, _ := r.find("Deployment", chartFullname+"-backend")
	benv := map[string]corev1.EnvVar{}
	for _, e := range m.Obj.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Env {
		benv[e.Name] = e
	}
	wantURL := "postgres://todo@" + chartFullname + "-postgresql:5432/todo?sslmode=disable"
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
		"external secret":  {chartValuesYAML(t, "existingSecret: app\npostgresql: {enabled: false}\nexternalDatabase: {existingSecret: db, key: url}"), "db"},
		"release's secret": {chartValuesYAML(t, "existingSecret: app\npostgresql: {enabled: false}"), "app"},
		"program prod":     {chartProgramValues(t, "prod"), ""},
	} {
		vals := chartCoalesced(t, c.values)
		if vals["postgresql"].(map[string]any)["enabled"].(bool) {
			continue // a prod stack file with in-cluster PostgreSQL is covered by the dev test
		}
		r := renderChart(t, c.values)
		if n := len(r.byKind("StatefulSet")); n != 0 {
			t.Errorf("%s: %d StatefulSet(s) rendered with postgresql.enabled=false", name, n)
		}
		for _, m := range r.Manifests {
			if strings.Contains(m.Name, "postgresql") {
				t.Errorf("%s: %s/%s rendered with postgresql.enabled=false", name, m.Kind, m.Name)
			}
		}
		refs := chartSecretRefs(t, r, chartFullname+"-backend")
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
		m, _ := r.find("NetworkPolicy", chartFullname+"-backend")
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

// ---------------------------------------------------------------------------------------------
// Images, ingress, services, NOTES

func TestChartImages(t *testing.T) {
	r := renderChart(t, chartValuesYAML(t, `
existingSecret: s
backend: {image: {repository: reg.example.com:5000/team/api, tag: v9, digest: "`+chartTestDigest+`", pullPolicy: Always}}
frontend: {image: {repository: web, tag: "2.0.1", pullPolicy: Never}}
`))
	img := func(name string) (string, corev1.PullPolicy) {
		m, _ := r.find("Deployment", name)
		c := m.Obj.(*appsv1.Deployment).Spec.Template.Spec.Containers[0]
		return c.Image, c.ImagePullPolicy
	}
	if ref, pp := img(chartFullname + "-backend"); ref != "reg.example.com:5000/team/api@"+chartTestDigest || pp != corev1.PullAlways {
		t.Errorf("digest image: %s %s", ref, pp)
	}
	if ref, pp := img(chartFullname + "-frontend"); ref != "web:2.0.1" || pp != corev1.PullNever {
		t.Errorf("tag image: %s %s", ref, pp)
	}
	// No tag: the chart's appVersion.
	r = renderChart(t, map[string]any{"existingSecret": "s"})
	if ref, _ := img(chartFullname + "-backend"); ref != "todo-chatbot-backend:"+loadTodoChart(t).Metadata.AppVersion {
		t.Errorf("default tag: %s", ref)
	}
	// What the program asks for is what the pods run.
	for _, stack := range []string{"dev", "prod"} {
		vals := chartProgramValues(t, stack)
		r = renderChart(t, vals)
		for _, component := range []string{"backend", "frontend"} {
			iv := vals[component].(map[string]any)["image"].(map[string]any)
			want := fmt.Sprintf("%s:%s", iv["repository"], iv["tag"])
			if d, _ := iv["digest"].(string); d != "" {
				want = fmt.Sprintf("%s@%s", iv["repository"], d)
			}
			if ref, pp := img(chartFullname + "-" + component); ref != want || string(pp) != iv["pullPolicy"] {
				t.Errorf("%s %s: runs %s (%s), program asked for %s (%s)", stack, component, ref, pp, want, iv["pullPolicy"])
			}
		}
	}
}

func TestChartIngressAndServices(t *testing.T) {
	for _, sc := range chartScenarios(t) {
		r := renderChart(t, sc.values)
		vals := chartCoalesced(t, sc.values)
		iv := vals["ingress"].(map[string]any)
		ings := r.byKind("Ingress")
		if enabled := iv["enabled"].(bool); !enabled {
			if len(ings) != 0 {
				t.Errorf("%s: Ingress rendered while disabled", sc.name)
			}
		} else {
			if len(ings) != 1 {
				t.Fatalf("%s: want one Ingress, got %d", sc.name, len(ings))
			}
			ing := ings[0].Obj.(*networkingv1.Ingress)
			if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != iv["className"] {
				t.Errorf("%s: ingressClassName %v", sc.name, ing.Spec.IngressClassName)
			}
			rule := ing.Spec.Rules[0]
			if rule.Host != iv["host"] || rule.HTTP.Paths[0].Backend.Service.Name != chartFullname+"-frontend" {
				t.Errorf("%s: rule %+v", sc.name, rule)
			}
			tls := iv["tls"].(map[string]any)
			if tls["enabled"].(bool) != (len(ing.Spec.TLS) == 1) {
				t.Errorf("%s: tls %+v", sc.name, ing.Spec.TLS)
			}
		}
		// Services select exactly their Deployment's pods, on the named container port.
		for _, component := range []string{"backend", "frontend"} {
			sm, ok := r.find("Service", chartFullname+"-"+component)
			dm, ok2 := r.find("Deployment", chartFullname+"-"+component)
			if !ok || !ok2 {
				t.Fatalf("%s: %s Service or Deployment missing", sc.name, component)
			}
			svc, dep := sm.Obj.(*corev1.Service), dm.Obj.(*appsv1.Deployment)
			if !reflect.DeepEqual(svc.Spec.Selector, dep.Spec.Selector.MatchLabels) || svc.Spec.Type != corev1.ServiceTypeClusterIP {
				t.Errorf("%s: Service %s selector %v, Deployment selector %v", sc.name, svc.Name, svc.Spec.Selector, dep.Spec.Selector.MatchLabels)
			}
			wantPort := chartInt(vals[component].(map[string]any)["service"].(map[string]any)["port"])
			if int(svc.Spec.Ports[0].Port) != wantPort || svc.Spec.Ports[0].TargetPort.String() != "http" {
				t.Errorf("%s: Service %s ports %+v", sc.name, svc.Name, svc.Spec.Ports)
			}
		}
		// One ServiceAccount per workload, none mounting tokens.
		for _, m := range r.byKind("ServiceAccount") {
			sa := m.Obj.(*corev1.ServiceAccount)
			if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
				t.Errorf("%s: ServiceAccount %s mounts its token", sc.name, sa.Name)
			}
		}
		for _, p := range chartPodTemplates(r) {
			if p.isTest {
				continue
			}
			if _, ok := r.find("ServiceAccount", p.spec.ServiceAccountName); !ok {
				t.Errorf("%s: %s uses ServiceAccount %q which the chart does not render", sc.name, p.what, p.spec.ServiceAccountName)
			}
		}
		// PodDisruptionBudgets when enabled, matching the Deployments.
		pdbs := r.byKind("PodDisruptionBudget")
		if vals["podDisruptionBudget"].(map[string]any)["enabled"].(bool) != (len(pdbs) == 2) {
			t.Errorf("%s: %d PodDisruptionBudgets", sc.name, len(pdbs))
		}
	}
}

func TestChartTestPods(t *testing.T) {
	r := renderChart(t, chartProgramValues(t, "dev"))
	urls := map[string]bool{}
	for _, m := range r.byKind("Pod") {
		p := m.Obj.(*corev1.Pod)
		if p.Annotations["helm.sh/hook"] != "test" || p.Spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("%s: not a helm test hook pod", p.Name)
		}
		for _, e := range p.Spec.Containers[0].Env {
			if e.Name == "URL" {
				urls[e.Value] = true
			}
		}
	}
	for _, want := range []string{
		"http://" + chartFullname + "-backend:8080/readyz",
		"http://" + chartFullname + "-frontend:8080/",
	} {
		if !urls[want] {
			t.Errorf("no helm test pod checks %s (have %v)", want, urls)
		}
	}
}

func TestChartNotes(t *testing.T) {
	r := renderChart(t, chartProgramValues(t, "dev"))
	var notes string
	for k, v := range r.Files {
		if strings.HasSuffix(k, "NOTES.txt") {
			notes = v
		}
	}
	for _, want := range []string{"http://todo.local/", "http://todo.local/mcp", "minikube tunnel",
		"port-forward service/" + chartFullname + "-frontend 8080:8080", "helm test " + chartReleaseName} {
		if !strings.Contains(notes, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, notes)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// values.schema.json

func TestChartSchemaRejectsBadValues(t *testing.T) {
	base := chartProgramValues(t, "dev")
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
	if len(cases) < 10 {
		t.Fatal("at least ten bad-value cases")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := renderChartFiles(t, chartMerge(base, chartValuesYAML(t, c.values)))
			if err == nil {
				t.Fatalf("values %s were accepted", c.values)
			}
			msg := err.Error()
			if !strings.Contains(msg, "values don't meet the specifications of the schema") {
				t.Errorf("not a schema error: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not name %q:\n%s", w, msg)
				}
			}
		})
	}
	// And the good values pass (the scenarios render above; here the bare defaults too).
	if _, err := renderChartFiles(t, chartValuesYAML(t, `existingSecret: s`)); err != nil {
		t.Errorf("defaults with existingSecret rejected: %v", err)
	}
}

// Every value in values.yaml is documented: a comment above it, above the run of sibling keys
// it belongs to, or above one of its parent blocks.
func TestChartValuesDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir(t), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	indentOf := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		key, value, isKey := strings.Cut(trimmed, ":")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "- ") || !isKey ||
			strings.TrimSpace(value) == "" || strings.Contains(key, " ") {
			continue // blank, comment, list item or a block key (its leaves are checked)
		}
		documented := false
		indent := indentOf(line)
		for j := i - 1; j >= 0; j-- {
			pl := lines[j]
			pt := strings.TrimSpace(pl)
			if pt == "" {
				break
			}
			pIndent := indentOf(pl)
			if strings.HasPrefix(pt, "#") {
				if pIndent <= indent {
					documented = true
					break
				}
				continue
			}
			if pIndent < indent {
				indent = pIndent // the parent block: its comment covers this key
			}
		}
		if !documented {
			t.Errorf("values.yaml:%d: %q has no comment", i+1, trimmed)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Rendered manifests for kube-score (scripts/kube-score.sh)

// TestWriteRenderedManifests writes every scenario's rendering to $CHART_MANIFESTS_DIR.
func TestWriteRenderedManifests(t *testing.T) {
	dir := os.Getenv("CHART_MANIFESTS_DIR")
	if dir == "" {
		t.Skip("CHART_MANIFESTS_DIR not set (scripts/kube-score.sh sets it)")
	}
	// dev.yaml and prod.yaml are what the script scores; the other scenarios come along for a
	// closer look (scripts/kube-score.sh --all scores them too).
	for _, sc := range chartScenarios(t) {
		chartWriteFile(t, filepath.Join(dir, sc.name+".yaml"), renderChart(t, sc.values).allYAML())
	}
}

// ---------------------------------------------------------------------------------------------

func chartValuesFile(t testing.TB, path string) map[string]any {
	t.Helper()
	v, err := chartutil.ReadValuesFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return v.AsMap()
}

// chartCoalesced is the full value tree a rendering used (defaults merged with the overrides).
func chartCoalesced(t testing.TB, vals map[string]any) map[string]any {
	t.Helper()
	out, err := chartutil.CoalesceValues(loadTodoChart(t), chartDeepCopy(t, vals))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func chartInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	panic(fmt.Sprintf("not a number: %#v", v))
}
