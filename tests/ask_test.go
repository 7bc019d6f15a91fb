package tests

// scripts/ask.sh (make ask) end to end, with stand-ins for pulumi, kubectl and kubectl-ai on
// PATH (kubectl-ai is not on the Go module proxy, and no cluster runs here). The stand-ins are
// this test binary itself, started under their names through symlinks: each records what it was
// given, and the kubectl-ai stand-in runs `kubectl get pods` with the kubeconfig it was handed,
// so the test sees which credential a kubectl started by kubectl-ai would really use.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/todo-chatbot/todo-chatbot/tests/internal/fixture"
)

// Stand-in state is passed through the environment.
const (
	askEnvDir      = "ASK_STANDIN_DIR"  // where calls.jsonl and copies go
	askEnvOutputs  = "ASK_FAKE_OUTPUTS" // JSON: stack output name -> value ("" = stack missing)
	askEnvConfig   = "ASK_FAKE_CONFIG"  // JSON: pulumi config key -> value
	askEnvSAs      = "ASK_FAKE_SAS"     // comma list of ServiceAccounts that exist
	askEnvCluster  = "ASK_FAKE_CLUSTER" // JSON: cluster field -> value, of the user's kube context
	askUserCert    = "USER-CLIENT-CERT-SENTINEL"
	askUserToken   = "USER-TOKEN-SENTINEL"
	askMintedToken = "eyJhbGciOiJSUzI1NiJ9.MINTED-OPS-TOKEN.sig"
)

func init() {
	switch filepath.Base(os.Args[0]) {
	case "pulumi":
		os.Exit(askStandinPulumi(os.Args[1:]))
	case "kubectl":
		os.Exit(askStandinKubectl(os.Args[1:]))
	case "kubectl-ai":
		os.Exit(askStandinKubectlAI(os.Args[1:]))
	}
}

// askCall is one recorded stand-in invocation.
type askCall struct {
	Tool       string            `json:"tool"`
	Args       []string          `json:"args"`
	Env        map[string]string `json:"env,omitempty"`
	Kubeconfig string            `json:"kubeconfig,omitempty"` // contents of the kubeconfig in use
	Mode       string            `json:"mode,omitempty"`
	Token      string            `json:"token,omitempty"`
	Namespace  string            `json:"namespace,omitempty"`
}

func askRecord(c askCall) {
	f, err := os.OpenFile(filepath.Join(os.Getenv(askEnvDir), "calls.jsonl"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	b, _ := json.Marshal(c)
	fmt.Fprintf(f, "%s\n", b)
}

func askFlag(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func askStandinPulumi(args []string) int {
	askRecord(askCall{Tool: "pulumi", Args: args})
	var m map[string]string
	if len(args) >= 3 && args[0] == "stack" && args[1] == "output" {
		_ = json.Unmarshal([]byte(os.Getenv(askEnvOutputs)), &m)
		if m == nil {
			stack, _ := askFlag(args, "--stack")
			fmt.Fprintf(os.Stderr, "error: no stack named '%s' found\n", stack)
			return 255
		}
		v, ok := m[args[2]]
		if !ok {
			fmt.Fprintf(os.Stderr, "error: current stack does not have output property '%s'\n", args[2])
			return 255
		}
		fmt.Println(v)
		return 0
	}
	if len(args) >= 3 && args[0] == "config" && args[1] == "get" {
		_ = json.Unmarshal([]byte(os.Getenv(askEnvConfig)), &m)
		if v, ok := m[args[2]]; ok {
			fmt.Println(v)
			return 0
		}
		fmt.Fprintf(os.Stderr, "error: configuration key '%s' not found for stack\n", args[2])
		return 255
	}
	fmt.Fprintf(os.Stderr, "pulumi stand-in: unexpected %v\n", args)
	return 2
}

func askStandinKubectl(args []string) int {
	kubeconfig, ok := askFlag(args, "--kubeconfig")
	if !ok {
		kubeconfig = os.Getenv("KUBECONFIG")
	}
	call := askCall{Tool: "kubectl", Args: args, Env: map[string]string{"KUBECONFIG": os.Getenv("KUBECONFIG")}}
	var words []string // positional words, flags and their values dropped
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") {
			if !strings.Contains(args[i], "=") && i+1 < len(args) && !slices.Contains([]string{"--minify", "--flatten", "--raw", "--current"}, args[i]) {
				i++
			}
			continue
		}
		words = append(words, args[i])
	}
	defer func() { askRecord(call) }()
	switch {
	case len(words) >= 3 && words[0] == "get" && words[1] == "serviceaccount":
		if slices.Contains(strings.Split(os.Getenv(askEnvSAs), ","), words[2]) {
			fmt.Println("serviceaccount/" + words[2])
			return 0
		}
		fmt.Fprintf(os.Stderr, "Error from server (NotFound): serviceaccounts %q not found\n", words[2])
		return 1
	case len(words) >= 3 && words[0] == "create" && words[1] == "token":
		fmt.Println(askMintedToken)
		return 0
	case len(words) >= 2 && words[0] == "config" && words[1] == "view":
		out, _ := askFlag(args, "-o")
		if field, ok := strings.CutPrefix(out, "jsonpath={.clusters[0].cluster."); ok {
			var cluster map[string]string
			_ = json.Unmarshal([]byte(os.Getenv(askEnvCluster)), &cluster)
			fmt.Print(cluster[strings.TrimSuffix(field, "}")])
			return 0
		}
		// The whole minified context, user credentials included (what --flatten prints).
		fmt.Printf("apiVersion: v1\nkind: Config\nclusters:\n- name: mk\n  cluster: {server: \"https://127.0.0.1:8443\"}\n"+
			"users:\n- name: me\n  user: {client-certificate-data: %s, token: %s}\ncontexts:\n- name: mk\n  context: {cluster: mk, user: me}\ncurrent-context: mk\n",
			askUserCert, askUserToken)
		return 0
	case len(words) >= 2 && words[0] == "config" && words[1] == "set-context":
		ns, _ := askFlag(args, "--namespace")
		f, err := os.OpenFile(kubeconfig, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return 1
		}
		defer f.Close()
		fmt.Fprintf(f, "# namespace %s\n", ns)
		return 0
	case len(words) >= 2 && words[0] == "get" && words[1] == "pods":
		// Started by kubectl-ai: which credential would this kubectl present?
		b, err := os.ReadFile(kubeconfig)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		var kc struct {
			Users []struct {
				User map[string]any `json:"user"`
			} `json:"users"`
			Contexts []struct {
				Context struct {
					Namespace string `json:"namespace"`
				} `json:"context"`
			} `json:"contexts"`
		}
		if err := yaml.Unmarshal(b, &kc); err != nil || len(kc.Users) == 0 {
			fmt.Fprintln(os.Stderr, "bad kubeconfig:", err)
			return 1
		}
		call.Token, _ = kc.Users[0].User["token"].(string)
		if len(kc.Contexts) > 0 {
			call.Namespace = kc.Contexts[0].Context.Namespace
		}
		fmt.Println("NAME                                    READY   STATUS    RESTARTS   AGE")
		return 0
	}
	fmt.Fprintf(os.Stderr, "kubectl stand-in: unexpected %v\n", args)
	return 2
}

func askStandinKubectlAI(args []string) int {
	kubeconfig, _ := askFlag(args, "--kubeconfig")
	call := askCall{Tool: "kubectl-ai", Args: args, Env: map[string]string{}}
	for _, k := range []string{"KUBECONFIG", "OPENAI_API_KEY", "OPENAI_ENDPOINT"} {
		call.Env[k] = os.Getenv(k)
	}
	if b, err := os.ReadFile(kubeconfig); err == nil {
		call.Kubeconfig = string(b)
	}
	if st, err := os.Stat(kubeconfig); err == nil {
		call.Mode = st.Mode().Perm().String()
	}
	askRecord(call)
	// What kubectl-ai does for the model: run kubectl with the kubeconfig it was given.
	cmd := exec.Command("kubectl", "get", "pods")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return 1
	}
	fmt.Println("kubectl-ai stand-in: answered")
	return 0
}

// ---------------------------------------------------------------------------------------------

type askRun struct {
	out    string
	err    error
	calls  []askCall
	tmpdir string
}

func (r askRun) of(tool string) []askCall {
	return fixture.Filtered(r.calls, func(c askCall) bool { return c.Tool == tool })
}

// askRunScript runs scripts/ask.sh with the stand-ins named in tools on PATH.
func askRunScript(t *testing.T, tools []string, env map[string]string, question string) askRun {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	bin, state, tmp := t.TempDir(), t.TempDir(), t.TempDir()
	for _, tool := range tools {
		require.NoError(t, os.Symlink(self, filepath.Join(bin, tool)))
	}
	defaults := map[string]string{
		askEnvOutputs: `{"namespace": "todo-chatbot", "opsServiceAccount": "todo-chatbot-ops"}`,
		askEnvConfig:  `{"kubeContext": "minikube"}`,
		askEnvSAs:     "todo-chatbot-ops",
		askEnvCluster: `{"server": "https://192.0.2.10:8443", "certificate-authority-data": "Q0EtREFUQQ=="}`,
	}
	full := []string{
		"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + t.TempDir(), "TMPDIR=" + tmp, askEnvDir + "=" + state,
		"KUBECONFIG=/nonexistent/user-kubeconfig", "OPENAI_API_KEY=sk-test", "OPENAI_ENDPOINT=http://127.0.0.1:9/v1",
	}
	for k, v := range defaults {
		if _, ok := env[k]; !ok {
			full = append(full, k+"="+v)
		}
	}
	for k, v := range env {
		if v != "" || strings.HasPrefix(k, "ASK_FAKE") {
			full = append(full, k+"="+v)
		}
	}
	cmd := exec.Command("bash", filepath.Join(repoRoot, "scripts", "ask.sh"), question)
	cmd.Env = full
	out, err := cmd.CombinedOutput()
	r := askRun{out: string(out), err: err, tmpdir: tmp}
	if b, rerr := os.ReadFile(filepath.Join(state, "calls.jsonl")); rerr == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var c askCall
			if json.Unmarshal([]byte(line), &c) == nil {
				r.calls = append(r.calls, c)
			}
		}
	}
	return r
}

var askAllTools = []string{"pulumi", "kubectl", "kubectl-ai"}

func TestAskRunsKubectlAIAsTheOpsIdentity(t *testing.T) {
	r := askRunScript(t, askAllTools, map[string]string{"ASK_PROVIDER": "openai", "ASK_MODEL": "gpt-4o-mini"}, "why is the backend not ready?")
	require.NoError(t, r.err, "ask.sh failed:\n%s", r.out)
	// The token is minted for the ServiceAccount the stack output names, in its namespace, for 15m.
	var minted []string
	for _, c := range r.of("kubectl") {
		if slices.Contains(c.Args, "token") {
			minted = c.Args
		}
	}
	want := []string{"--context", "minikube", "-n", "todo-chatbot", "create", "token", "todo-chatbot-ops", "--duration", "15m"}
	assert.Equal(t, want, minted, "the token's kubectl create token arguments")

	ai := r.of("kubectl-ai")
	require.Len(t, ai, 1, "kubectl-ai runs once\n%s", r.out)
	a := ai[0]
	kcPath, _ := askFlag(a.Args, "--kubeconfig")
	assert.NotEmpty(t, kcPath, "kubectl-ai gets --kubeconfig")
	assert.Equal(t, kcPath, a.Env["KUBECONFIG"], "--kubeconfig and KUBECONFIG must both be the minted kubeconfig")
	for _, f := range []string{"--quiet", "--llm-provider", "openai", "--model", "gpt-4o-mini"} {
		assert.Contains(t, a.Args, f, "kubectl-ai args")
	}
	assert.NotContains(t, a.Args, "--skip-permissions", "kubectl-ai must not be told to skip its permission checks")
	prompt := a.Args[len(a.Args)-1]
	for _, w := range []string{"Namespace todo-chatbot", "read-only", "todo-chatbot-backend", "why is the backend not ready?"} {
		assert.Contains(t, prompt, w, "the prompt")
	}
	assert.Equal(t, "sk-test", a.Env["OPENAI_API_KEY"], "the model settings reach kubectl-ai")
	assert.Equal(t, "http://127.0.0.1:9/v1", a.Env["OPENAI_ENDPOINT"], "the model settings reach kubectl-ai")

	// The kubeconfig: private, the cluster's address and CA, the minted token, nothing of the user's.
	assert.Equal(t, "-rw-------", a.Mode, "kubeconfig mode")
	var kc struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Clusters   []struct {
			Name    string         `json:"name"`
			Cluster map[string]any `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			Name string         `json:"name"`
			User map[string]any `json:"user"`
		} `json:"users"`
		Contexts []struct {
			Name    string            `json:"name"`
			Context map[string]string `json:"context"`
		} `json:"contexts"`
		CurrentContext string `json:"current-context"`
	}
	// Strict: a key beyond these (preferences, extensions, a second credential field) fails.
	require.NoError(t, yaml.UnmarshalStrict([]byte(a.Kubeconfig), &kc), "kubeconfig:\n%s", a.Kubeconfig)
	assert.True(t, len(kc.Clusters) == 1 && kc.Clusters[0].Cluster["server"] == "https://192.0.2.10:8443" &&
		kc.Clusters[0].Cluster["certificate-authority-data"] == "Q0EtREFUQQ==",
		"clusters %+v, want the stack context's server and CA", kc.Clusters)
	assert.True(t, len(kc.Users) == 1 && len(kc.Users[0].User) == 1 && kc.Users[0].User["token"] == askMintedToken,
		"users %+v, want one user holding only the minted token", kc.Users)
	assert.True(t, len(kc.Contexts) == 1 && kc.Contexts[0].Context["namespace"] == "todo-chatbot" && kc.CurrentContext != "",
		"contexts %+v current %q", kc.Contexts, kc.CurrentContext)
	for _, leak := range []string{askUserCert, askUserToken, "client-certificate", "client-key", "exec:", "auth-provider"} {
		assert.NotContains(t, a.Kubeconfig, leak, "the minted kubeconfig")
	}

	// The kubectl that kubectl-ai started presented the minted token, in the app's namespace.
	var used *askCall
	for _, c := range r.of("kubectl") {
		if len(c.Args) > 0 && c.Args[0] == "get" && slices.Contains(c.Args, "pods") {
			used = &c
		}
	}
	if assert.NotNil(t, used, "kubectl under kubectl-ai ran get pods") {
		assert.Equal(t, askMintedToken, used.Token, "kubectl under kubectl-ai presents the minted token")
		assert.Equal(t, "todo-chatbot", used.Namespace, "kubectl under kubectl-ai works in the app's namespace")
	}
	// Gone after the run.
	left, _ := filepath.Glob(filepath.Join(r.tmpdir, "*"))
	assert.Empty(t, left, "ask.sh leaves nothing behind")
}

func TestAskTokenDuration(t *testing.T) {
	r := askRunScript(t, askAllTools, map[string]string{"ASK_TOKEN_DURATION": "1h"}, "q")
	require.NoError(t, r.err, "%s", r.out)
	found := false
	for _, c := range r.of("kubectl") {
		if d, ok := askFlag(c.Args, "--duration"); ok {
			found = d == "1h"
		}
	}
	assert.True(t, found, "ASK_TOKEN_DURATION=1h reaches kubectl create token --duration")
	r = askRunScript(t, askAllTools, map[string]string{"ASK_TOKEN_DURATION": "forever"}, "q")
	assert.Error(t, r.err, "a bad duration is refused")
	assert.Contains(t, r.out, "ASK_TOKEN_DURATION=forever", "the refusal names the value")
}

func TestAskErrorsSayWhatToDo(t *testing.T) {
	for _, c := range []struct {
		name  string
		tools []string
		env   map[string]string
		want  string
	}{
		{"kubectl-ai missing", []string{"pulumi", "kubectl"}, nil, "kubectl-ai is not installed: see https://github.com/GoogleCloudPlatform/kubectl-ai#installation"},
		{"stack not deployed", askAllTools, map[string]string{askEnvOutputs: ""}, `cannot read the outputs of stack "dev"`},
		{"stack from an older program", askAllTools, map[string]string{askEnvOutputs: `{"namespace": "todo-chatbot"}`}, `stack "dev" has no output "opsServiceAccount": update it with this version of the program (` + "`make up`"},
		{"ops identity disabled", askAllTools, map[string]string{askEnvSAs: ""}, "ServiceAccount todo-chatbot/todo-chatbot-ops does not exist: the chart's ops identity is switched off (ops.enabled=false)"},
		{"bad credentials mode", askAllTools, map[string]string{"ASK_CREDENTIALS": "admin"}, "ASK_CREDENTIALS=admin: allowed values are ops, mine"},
		{"no question", askAllTools, nil, "usage: make ask"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := "q"
			if c.name == "no question" {
				q = ""
			}
			r := askRunScript(t, c.tools, c.env, q)
			require.Error(t, r.err, "ask.sh succeeded:\n%s", r.out)
			assert.Contains(t, r.out, c.want)
			assert.Empty(t, r.of("kubectl-ai"), "kubectl-ai ran anyway")
			for _, call := range r.of("kubectl") {
				assert.NotContains(t, call.Args, "token", "a token was minted anyway")
			}
		})
	}
}

// ASK_CREDENTIALS=mine is a deliberate, loud opt-in: the user's own context, no token minted,
// and never with --skip-permissions.
func TestAskWithOwnCredentials(t *testing.T) {
	r := askRunScript(t, askAllTools, map[string]string{"ASK_CREDENTIALS": "mine"}, "q")
	require.NoError(t, r.err, "%s", r.out)
	assert.Contains(t, r.out, "warning: ASK_CREDENTIALS=mine")
	ai := r.of("kubectl-ai")
	assert.True(t, len(ai) == 1 && strings.Contains(ai[0].Kubeconfig, askUserCert) && strings.Contains(ai[0].Kubeconfig, "# namespace todo-chatbot"),
		"kubectl-ai gets the user's context scoped to the namespace: %+v", ai)
	for _, c := range r.of("kubectl") {
		assert.NotContains(t, c.Args, "token", "a token was minted in mine mode")
	}
	r = askRunScript(t, askAllTools, map[string]string{"ASK_CREDENTIALS": "mine", "KUBECTL_AI_FLAGS": "--skip-permissions"}, "q")
	assert.Error(t, r.err, "--skip-permissions with own credentials is refused")
	assert.Contains(t, r.out, "refusing --skip-permissions")
	assert.Empty(t, r.of("kubectl-ai"), "kubectl-ai does not run")
}
