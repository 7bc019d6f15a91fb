package tests

// Rendering helpers for the chart tests: the Helm Go SDK, client only (chart loader, values
// coalescing with schema validation, template engine), and strict decoding of every rendered
// object into its k8s.io/api type.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	chartReleaseName = "todo-chatbot"
	chartNamespace   = "todo-chatbot"
	// chartKubeVersion is the cluster version the chart is rendered and linted for (Minikube's
	// current default is newer; the chart's kubeVersion says >=1.27).
	chartKubeVersion = "v1.31.0"
)

// chartRepoRoot is the repository root (this file lives in <root>/tests).
func chartRepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source")
	}
	return filepath.Dir(filepath.Dir(file))
}

func chartDir(t testing.TB) string {
	return filepath.Join(chartRepoRoot(t), "helm", "todo-chatbot")
}

func loadTodoChart(t testing.TB) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir(t))
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	return c
}

func chartCapabilities(t testing.TB) *chartutil.Capabilities {
	t.Helper()
	caps := *chartutil.DefaultCapabilities
	kv, err := chartutil.ParseKubeVersion(chartKubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	caps.KubeVersion = *kv
	return &caps
}

// renderChartFiles renders the chart with the given user values (merged over values.yaml and
// validated against values.schema.json, as `helm install` does) and returns the rendered files.
func renderChartFiles(t testing.TB, vals map[string]any) (map[string]string, error) {
	t.Helper()
	return renderChartFilesAs(t, chartReleaseName, vals)
}

func renderChartFilesAs(t testing.TB, release string, vals map[string]any) (map[string]string, error) {
	t.Helper()
	return renderChartFilesWith(t, release, vals, chartCapabilities(t))
}

// renderChartFilesWith renders against the given cluster capabilities (API versions served).
func renderChartFilesWith(t testing.TB, release string, vals map[string]any, caps *chartutil.Capabilities) (map[string]string, error) {
	t.Helper()
	c := loadTodoChart(t)
	if !chartutil.IsCompatibleRange(c.Metadata.KubeVersion, chartKubeVersion) {
		t.Fatalf("chart kubeVersion %q excludes %s", c.Metadata.KubeVersion, chartKubeVersion)
	}
	// Values are deep-copied: Helm's coalescing mutates maps it is given.
	vals = chartDeepCopy(t, vals)
	rv, err := chartutil.ToRenderValues(c, vals, chartutil.ReleaseOptions{
		Name: release, Namespace: chartNamespace, Revision: 1, IsInstall: true,
	}, caps)
	if err != nil {
		return nil, err
	}
	return engine.Render(c, rv)
}

// chartManifest is one rendered object: its source file, raw YAML and typed object.
type chartManifest struct {
	Source string
	YAML   string
	Kind   string
	Name   string
	Obj    any
}

// chartRendered is a whole rendering.
type chartRendered struct {
	Files     map[string]string
	Manifests []chartManifest
}

func (r chartRendered) byKind(kind string) []chartManifest {
	return filtered(r.Manifests, func(m chartManifest) bool { return m.Kind == kind })
}

// filtered is the elements of xs that keep accepts, in order.
func filtered[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func (r chartRendered) find(kind, name string) (chartManifest, bool) {
	for _, m := range r.Manifests {
		if m.Kind == kind && m.Name == name {
			return m, true
		}
	}
	return chartManifest{}, false
}

// allYAML is every rendered object as one multi-document stream (what kube-score reads).
func (r chartRendered) allYAML() string {
	var b strings.Builder
	for _, m := range r.Manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Source, strings.TrimSpace(m.YAML))
	}
	return b.String()
}

// renderChart renders and strict-decodes; any error fails the test.
func renderChart(t testing.TB, vals map[string]any) chartRendered {
	t.Helper()
	return renderChartAs(t, chartReleaseName, vals)
}

func renderChartAs(t testing.TB, release string, vals map[string]any) chartRendered {
	t.Helper()
	return renderChartWith(t, release, vals, chartCapabilities(t))
}

func renderChartWith(t testing.TB, release string, vals map[string]any, caps *chartutil.Capabilities) chartRendered {
	t.Helper()
	files, err := renderChartFilesWith(t, release, vals, caps)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	r := chartRendered{Files: files}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue // NOTES.txt, _helpers.tpl
		}
		for _, doc := range chartSplitDocs(files[name]) {
			m, err := chartDecodeStrict(name, doc)
			if err != nil {
				t.Fatalf("%s: %v\n---\n%s", name, err, doc)
			}
			r.Manifests = append(r.Manifests, m)
		}
	}
	if len(r.Manifests) == 0 {
		t.Fatal("the chart rendered no objects")
	}
	return r
}

// chartSplitDocs splits a YAML stream into its non-empty documents.
func chartSplitDocs(s string) []string {
	var docs []string
	for _, part := range strings.Split("\n"+s, "\n---") {
		doc := strings.TrimSpace(part)
		if doc == "" {
			continue
		}
		// A document of comments only is empty.
		empty := true
		for _, line := range strings.Split(doc, "\n") {
			l := strings.TrimSpace(line)
			if l != "" && !strings.HasPrefix(l, "#") {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, doc)
		}
	}
	return docs
}

// chartKinds maps each kind the chart may render to its apiVersion and typed object.
var chartKinds = map[string]struct {
	apiVersion string
	newObj     func() any
}{
	"ConfigMap":               {"v1", func() any { return &corev1.ConfigMap{} }},
	"Secret":                  {"v1", func() any { return &corev1.Secret{} }},
	"Service":                 {"v1", func() any { return &corev1.Service{} }},
	"ServiceAccount":          {"v1", func() any { return &corev1.ServiceAccount{} }},
	"Pod":                     {"v1", func() any { return &corev1.Pod{} }},
	"Deployment":              {"apps/v1", func() any { return &appsv1.Deployment{} }},
	"StatefulSet":             {"apps/v1", func() any { return &appsv1.StatefulSet{} }},
	"Ingress":                 {"networking.k8s.io/v1", func() any { return &networkingv1.Ingress{} }},
	"NetworkPolicy":           {"networking.k8s.io/v1", func() any { return &networkingv1.NetworkPolicy{} }},
	"PodDisruptionBudget":     {"policy/v1", func() any { return &policyv1.PodDisruptionBudget{} }},
	"HorizontalPodAutoscaler": {"autoscaling/v2", func() any { return &autoscalingv2.HorizontalPodAutoscaler{} }},
	"Role":                    {"rbac.authorization.k8s.io/v1", func() any { return &rbacv1.Role{} }},
	"RoleBinding":             {"rbac.authorization.k8s.io/v1", func() any { return &rbacv1.RoleBinding{} }},
	"Agent":                   {"kagent.dev/v1alpha2", func() any { return &kagentAgent{} }},
}

// chartDecodeStrict converts one YAML document to JSON (duplicate keys fail) and decodes it into
// the typed object of its kind with unknown fields disallowed, so a misspelled field fails.
func chartDecodeStrict(source, doc string) (chartManifest, error) {
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return chartManifest{}, fmt.Errorf("yaml: %w", err)
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return chartManifest{}, err
	}
	k, ok := chartKinds[tm.Kind]
	if !ok {
		return chartManifest{}, fmt.Errorf("unexpected kind %q (add it to chartKinds)", tm.Kind)
	}
	if tm.APIVersion != k.apiVersion {
		return chartManifest{}, fmt.Errorf("%s has apiVersion %q, want %q", tm.Kind, tm.APIVersion, k.apiVersion)
	}
	obj := k.newObj()
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return chartManifest{}, fmt.Errorf("strict decode of %s: %w", tm.Kind, err)
	}
	meta := obj.(metav1.ObjectMetaAccessor).GetObjectMeta()
	if meta.GetName() == "" {
		return chartManifest{}, fmt.Errorf("%s without a name", tm.Kind)
	}
	return chartManifest{Source: source, YAML: doc, Kind: tm.Kind, Name: meta.GetName(), Obj: obj}, nil
}

// chartDeepCopy copies a values tree through JSON (numbers stay float64/int64 as Helm's own
// YAML reader would give them).
func chartDeepCopy(t testing.TB, in map[string]any) map[string]any {
	t.Helper()
	if in == nil {
		return map[string]any{}
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// chartValuesYAML parses values written as YAML (for readable test tables).
func chartValuesYAML(t testing.TB, s string) map[string]any {
	t.Helper()
	v, err := chartutil.ReadValues([]byte(s))
	if err != nil {
		t.Fatalf("values yaml: %v", err)
	}
	return v.AsMap()
}

// chartMerge returns base with overrides merged in (maps deeply, everything else replaced).
func chartMerge(base map[string]any, overrides ...map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for _, o := range overrides {
		for k, v := range o {
			if bm, ok := out[k].(map[string]any); ok {
				if om, ok := v.(map[string]any); ok {
					out[k] = chartMerge(bm, om)
					continue
				}
			}
			out[k] = v
		}
	}
	return out
}

// chartWriteFile writes a file, creating its directory.
func chartWriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
