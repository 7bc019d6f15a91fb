package chart

// helm lint, strict decoding into typed objects, metadata and labels.

import (
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

func TestChartLint(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion(fixture.KubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			linter := lint.AllWithKubeVersion(fixture.ChartDir(t), fixture.DeepCopy(t, sc.values), fixture.Namespace, kv)
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
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			r := fixture.Render(t, sc.values) // strict decoding happens here
			seen := map[string]bool{}
			for _, m := range r.Manifests {
				key := m.Kind + "/" + m.Name
				if seen[key] {
					t.Errorf("%s rendered twice", key)
				}
				seen[key] = true
				meta := m.Obj.(metav1.ObjectMetaAccessor).GetObjectMeta()
				wantNS := fixture.Namespace
				if m.Kind == "Agent" {
					wantNS = "kagent" // ops.kagent.namespace: kagent reads the ModelConfig from there
				}
				if meta.GetNamespace() != wantNS {
					t.Errorf("%s: namespace %q, want %q", key, meta.GetNamespace(), wantNS)
				}
				assertStandardLabels(t, key, meta.GetLabels())
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
				if len(r.ByKind(kind)) == 0 {
					t.Errorf("no %s rendered", kind)
				}
			}
		})
	}
}

func TestChartMetadata(t *testing.T) {
	md := fixture.LoadChart(t).Metadata
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
	if fixture.LoadChart(t).Schema == nil {
		t.Error("values.schema.json not loaded with the chart")
	}
}

// The longest release name Helm accepts (53 characters) still gives valid object names with
// plain Helm, where the chart derives its fullname (the program passes fullnameOverride).
func TestChartLongReleaseName(t *testing.T) {
	release := strings.Repeat("r", 53)
	vals := fixture.ProgramValues(t, "dev")
	delete(vals, "fullnameOverride")
	r := fixture.RenderAs(t, release, vals)
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
	if _, err := fixture.DecodeStrict("x.yaml", doc); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Fatalf("misspelled field not caught: %v", err)
	}
	doc = "apiVersion: v1\nkind: Service\nmetadata: {name: x, name: y}\n"
	if _, err := fixture.DecodeStrict("x.yaml", doc); err == nil {
		t.Fatal("duplicate key not caught")
	}
}

func assertStandardLabels(t *testing.T, what string, l map[string]string) {
	t.Helper()
	want := map[string]string{
		"app.kubernetes.io/name":       "todo-chatbot",
		"app.kubernetes.io/instance":   fixture.ReleaseName,
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
