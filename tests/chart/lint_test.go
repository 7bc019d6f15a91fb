package chart

// helm lint, strict decoding into typed objects, metadata and labels.

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err)
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			linter := lint.AllWithKubeVersion(fixture.ChartDir(t), fixture.DeepCopy(t, sc.values), fixture.Namespace, kv)
			for _, m := range linter.Messages {
				if assert.LessOrEqual(t, m.Severity, support.InfoSev, "lint: %s", m) {
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
				assert.False(t, seen[key], "%s rendered twice", key)
				seen[key] = true
				meta := m.Obj.(metav1.ObjectMetaAccessor).GetObjectMeta()
				wantNS := fixture.Namespace
				if m.Kind == "Agent" {
					wantNS = "kagent" // ops.kagent.namespace: kagent reads the ModelConfig from there
				}
				assert.Equal(t, wantNS, meta.GetNamespace(), "%s: namespace", key)
				assertStandardLabels(t, key, meta.GetLabels())
				// Names and labels the API server would reject.
				nameErrs := validation.IsDNS1123Subdomain(m.Name)
				if m.Kind == "Service" {
					nameErrs = validation.IsDNS1035Label(m.Name)
				}
				assert.Empty(t, nameErrs, "%s: invalid name", key)
				for k, v := range meta.GetLabels() {
					assert.Empty(t, append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...), "%s: invalid label %s=%s", key, k, v)
				}
			}
			for _, kind := range []string{"Deployment", "Service", "ConfigMap", "ServiceAccount", "NetworkPolicy", "Pod", "Role", "RoleBinding"} {
				assert.NotEmpty(t, r.ByKind(kind), "no %s rendered", kind)
			}
		})
	}
}

func TestChartMetadata(t *testing.T) {
	md := fixture.LoadChart(t).Metadata
	require.NoError(t, md.Validate())
	assert.True(t, md.APIVersion == "v2" && md.Type == "application" && md.AppVersion != "" && md.Description != "",
		"Chart.yaml: apiVersion %q type %q appVersion %q (and a description)", md.APIVersion, md.Type, md.AppVersion)
	_, err := semver.StrictNewVersion(md.Version)
	assert.NoError(t, err, "Chart.yaml version %q is not semantic", md.Version)
	for _, v := range []string{"v1.27.0", "v1.31.0", "v1.34.1"} {
		assert.True(t, chartutil.IsCompatibleRange(md.KubeVersion, v), "kubeVersion %q excludes %s", md.KubeVersion, v)
	}
	assert.False(t, chartutil.IsCompatibleRange(md.KubeVersion, "v1.26.9"), "kubeVersion %q admits 1.26, older than the APIs the chart uses", md.KubeVersion)
	assert.NotNil(t, fixture.LoadChart(t).Schema, "values.schema.json not loaded with the chart")
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
		assert.Empty(t, errs, "%s/%s: invalid name", m.Kind, m.Name)
	}
}

// The strict decoder itself must catch a misspelled field, or the test above proves nothing.
func TestChartStrictDecoderCatchesMisspelledFields(t *testing.T) {
	doc := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n"
	_, err := fixture.DecodeStrict("x.yaml", doc)
	require.ErrorContains(t, err, "replica", "misspelled field not caught")
	doc = "apiVersion: v1\nkind: Service\nmetadata: {name: x, name: y}\n"
	_, err = fixture.DecodeStrict("x.yaml", doc)
	require.Error(t, err, "duplicate key not caught")
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
		assert.Equal(t, v, l[k], "%s: label %s", what, k)
	}
	for _, k := range []string{"app.kubernetes.io/version", "app.kubernetes.io/component", "helm.sh/chart"} {
		assert.NotEmpty(t, l[k], "%s: label %s missing", what, k)
	}
}
