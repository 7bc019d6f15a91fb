package tests

// What the program, the chart and the images agree on, proved from both sides: the keys of the
// Secret the program writes and the pods read, and the port the containers listen on.

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/todo-chatbot/todo-chatbot/infra"
	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

// secretSetups are the stacks the program deploys, between them every optional part of the
// Secret: in-cluster or external database, offline or OpenAI-compatible model.
func secretSetups(t *testing.T) map[string]func() (stackConfig, string) {
	return map[string]func() (stackConfig, string){
		"dev":        func() (stackConfig, string) { return devConfig(t), "dev" },
		"prod":       func() (stackConfig, string) { return prodConfig(t), "prod" },
		"dev+openai": func() (stackConfig, string) { return withOpenAI(devConfig(t)), "dev" },
		"prod+offline": func() (stackConfig, string) {
			sc := prodConfig(t).set("llmProvider", "offline", false)
			for _, k := range []string{"llmBaseUrl", "llmModel", "llmApiKey"} {
				delete(sc.values, k)
				delete(sc.secrets, k)
			}
			return sc, "prod"
		},
	}
}

func withOpenAI(sc stackConfig) stackConfig {
	return sc.set("llmProvider", "openai", false).set("llmBaseUrl", "https://api.example.com/v1", false).
		set("llmModel", "m", false).set("llmApiKey", testSecrets["llmApiKey"], true)
}

// podSpecs are the pod templates of every workload in a rendering.
func podSpecs(r fixture.Rendering) map[string]corev1.PodSpec {
	out := map[string]corev1.PodSpec{}
	for _, m := range r.Manifests {
		switch o := m.Obj.(type) {
		case *appsv1.Deployment:
			out[m.Kind+"/"+m.Name] = o.Spec.Template.Spec
		case *appsv1.StatefulSet:
			out[m.Kind+"/"+m.Name] = o.Spec.Template.Spec
		case *corev1.Pod:
			out[m.Kind+"/"+m.Name] = o.Spec
		}
	}
	return out
}

// For every setup, the keys the pods read from the program's Secret are exactly the keys the
// program writes into it: a key renamed on one side only fails here, whichever side.
func TestPodsReadExactlyTheSecretKeysTheProgramWrites(t *testing.T) {
	seen := map[string]bool{}
	for name, setup := range secretSetups(t) {
		t.Run(name, func(t *testing.T) {
			sc, stack := setup()
			m := runProgram(t, sc, stack)

			secret := m.one(t, typeSecret)
			secretName := get(secret.Inputs, "metadata", "name").StringValue()
			var written []string
			for k := range get(secret.Inputs, "stringData").SecretValue().Element.ObjectValue() {
				written = append(written, string(k))
				seen[string(k)] = true
			}

			values := m.one(t, typeRelease).Inputs["values"].Mappable().(map[string]any)
			rendered := fixture.Render(t, values)
			read := map[string]bool{}
			for pod, spec := range podSpecs(rendered) {
				for _, c := range append(spec.InitContainers, spec.Containers...) {
					for _, e := range c.Env {
						if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
							continue
						}
						ref := e.ValueFrom.SecretKeyRef
						assert.Equal(t, secretName, ref.Name, "%s %s %s reads another Secret", pod, c.Name, e.Name)
						read[ref.Key] = true
					}
				}
			}
			assert.ElementsMatch(t, written, keysOf(read), "keys the program writes vs. keys the pods read")
		})
	}
	assert.ElementsMatch(t, infra.SecretKeys(), keysOf(seen), "every key of the program is written by some setup")
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The containers listen where the images do, and where the program points the Services and
// its access command: one number, checked on every side.
func TestTheHTTPPortIsOneNumberEverywhere(t *testing.T) {
	want := int32(infra.HTTPPort)
	rendered := fixture.Render(t, fixture.ProgramValues(t, "dev"))
	for _, name := range []string{"todo-chatbot-backend", "todo-chatbot-frontend"} {
		dep, ok := rendered.Find("Deployment", name)
		require.True(t, ok, name)
		c := dep.Obj.(*appsv1.Deployment).Spec.Template.Spec.Containers[0]
		require.Len(t, c.Ports, 1)
		assert.Equal(t, want, c.Ports[0].ContainerPort, "%s listens on", name)

		svc, ok := rendered.Find("Service", name)
		require.True(t, ok, name)
		assert.Equal(t, want, svc.Obj.(*corev1.Service).Spec.Ports[0].Port, "Service %s", name)
	}
	cm, ok := rendered.Find("ConfigMap", "todo-chatbot-backend")
	require.True(t, ok)
	assert.Equal(t, strconv.Itoa(infra.HTTPPort), cm.Obj.(*corev1.ConfigMap).Data["PORT"], "the backend is told to listen on")

	// The images' own settings.
	for file, re := range map[string]*regexp.Regexp{
		"frontend/nginx.conf":  regexp.MustCompile(`(?m)^\s*listen\s+(\d+);`),
		"backend/Dockerfile":   regexp.MustCompile(`(?m)^ENV PORT=(\d+)$`),
		"frontend/Dockerfile":  regexp.MustCompile(`(?m)^EXPOSE (\d+)$`),
		"backend/Dockerfile#2": regexp.MustCompile(`(?m)^EXPOSE (\d+)$`),
	} {
		path := regexp.MustCompile(`#\d+$`).ReplaceAllString(file, "")
		b, err := os.ReadFile(repoRoot + "/" + path)
		require.NoError(t, err)
		got := re.FindSubmatch(b)
		require.NotNil(t, got, "%s: %s not found", path, re)
		assert.Equal(t, strconv.Itoa(infra.HTTPPort), string(got[1]), "%s", file)
	}
}
