//go:build e2enode

// The node tier: the same program and chart on a real kubelet (containerd + runc + CNI), with
// the images built from our Dockerfiles (node/images.sh), kube-proxy, CoreDNS and kube-router
// enforcing NetworkPolicies. Run it with tests/e2e/node/run.sh (make e2e-node), which also sets:
//
//	TODO_E2E_BACKEND_IMAGE, TODO_E2E_FRONTEND_IMAGE   the built images, imported into containerd
//	TODO_E2E_TEST_IMAGE                               the chart's test image (busybox stand-in)
//	CONTAINER_RUNTIME_ENDPOINT                        the node's containerd (for crictl and ctr)
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/todo-chatbot/todo-chatbot/infra"
)

const nodeStack = "e2e-node"

func TestRealNode(t *testing.T) {
	requireEnv(t, "TODO_E2E_BACKEND_IMAGE", "TODO_E2E_FRONTEND_IMAGE", "TODO_E2E_TEST_IMAGE", "CONTAINER_RUNTIME_ENDPOINT")
	ctx := context.Background()
	backendImage := os.Getenv("TODO_E2E_BACKEND_IMAGE")
	e := setupStack(t, ctx, stackSpec{
		name:          nodeStack,
		backendImage:  backendImage,
		frontendImage: os.Getenv("TODO_E2E_FRONTEND_IMAGE"),
		config: map[string]string{
			// Two backends: a rolling upgrade and a deleted pod must not interrupt service.
			"backendReplicas":    "2",
			"helmTimeoutSeconds": "300",
		},
	})
	stream := optup.ProgressStreams(os.Stdout)
	nodeStep := func(name string, fn func(t *testing.T)) bool {
		return step(t, name, func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					dumpNamespace(t)
				}
			})
			fn(t)
		})
	}

	if !nodeStep("1-up-all-ready", func(t *testing.T) {
		start := time.Now()
		if _, err := e.stack.Up(ctx, stream); err != nil {
			t.Fatalf("up: %v", err)
		}
		eventually(t, 120*time.Second, "every Deployment/StatefulSet available with real probes", workloadsAvailable)
		timings = append(timings, fmt.Sprintf("%-28s %8s", "   up to all pods Ready", time.Since(start).Round(100*time.Millisecond)))
		for _, p := range listPods(t) {
			if p.phase != "Running" || !p.ready {
				t.Errorf("pod %s: phase %s ready %v", p.name, p.phase, p.ready)
			}
		}
	}) {
		return
	}

	if !nodeStep("2-helm-test", func(t *testing.T) {
		rel, err := helmTest(t)
		if err != nil {
			t.Fatalf("helm test: %v", err)
		}
		n := 0
		for _, h := range rel.Hooks {
			for _, ev := range h.Events {
				if ev != release.HookTest {
					continue
				}
				n++
				if h.LastRun.Phase != release.HookPhaseSucceeded {
					t.Errorf("helm test hook %s: %s", h.Name, h.LastRun.Phase)
				}
			}
		}
		if n == 0 {
			t.Fatal("the release has no test hooks")
		}
		t.Logf("%d helm test pods Succeeded", n)
	}) {
		return
	}

	app := &appClient{t: t}
	defer app.close()
	var token string
	if !nodeStep("3-smoke", func(t *testing.T) {
		app.t = t
		app.forward(t)
		page := app.must(t, "GET", "/", "", "", 200)
		if !strings.Contains(page, `<div id="root">`) {
			t.Errorf("GET / is not the app's page: %.200s", page)
		}
		token = app.signup(t, "node-e2e@example.com", "password-node-e2e")
		reply := app.must(t, "POST", "/api/chat", token, `{"message":"remind me to buy milk"}`, 200)
		t.Logf("chat: %.200s", reply)
		if !strings.Contains(app.must(t, "GET", "/api/tasks", token, "", 200), "buy milk") {
			t.Fatal("the task added by chat is not in GET /api/tasks")
		}
		// Login gives a working token too.
		tok2 := app.login(t, "node-e2e@example.com", "password-node-e2e", 200)
		app.must(t, "GET", "/api/me", tok2, "", 200)
	}) {
		return
	}

	if !nodeStep("4-pod-security", func(t *testing.T) {
		checkPodSecurity(t)
	}) {
		return
	}

	if !nodeStep("5-network-policies", func(t *testing.T) {
		checkNetworkPolicies(t)
	}) {
		return
	}

	if !nodeStep("6-pods-replaced", func(t *testing.T) {
		for _, component := range []string{"backend", "postgresql"} {
			before := podsOf(t, component)
			if len(before) == 0 {
				t.Fatalf("no %s pod", component)
			}
			if _, err := kubectl("-n", namespace, "delete", "pod", before[0], "--wait=true", "--timeout=90s"); err != nil {
				t.Fatal(err)
			}
			eventually(t, 120*time.Second, component+" replaced and Ready", workloadsAvailable)
			eventually(t, 60*time.Second, "the data is still there after the "+component+" pod was replaced", func() error {
				body, code, err := app.do("GET", "/api/tasks", token, "")
				if err != nil || code != 200 || !strings.Contains(body, "buy milk") {
					return fmt.Errorf("GET /api/tasks: %d %v %.200s", code, err, body)
				}
				return nil
			})
		}
	}) {
		return
	}

	if !nodeStep("7-rolling-upgrade", func(t *testing.T) {
		// A new tag of the same image: a new pod template, rolled out under load.
		newImage := strings.Replace(backendImage, ":", ":rollout-", 1)
		if out, err := exec.Command("ctr", "--address", strings.TrimPrefix(os.Getenv("CONTAINER_RUNTIME_ENDPOINT"), "unix://"),
			"-n", "k8s.io", "images", "tag", "--force", backendImage, newImage).CombinedOutput(); err != nil {
			t.Fatalf("ctr images tag: %v: %s", err, out)
		}
		before := backendTemplateHash(t)
		load := app.load(token, 20*time.Millisecond, 3*time.Minute)
		if err := e.stack.SetConfig(ctx, infra.Project+":backendImage", auto.ConfigValue{Value: newImage}); err != nil {
			t.Fatal(err)
		}
		_, err := e.stack.Up(ctx, stream)
		if err == nil {
			eventually(t, 120*time.Second, "the rollout finished", workloadsAvailable)
		}
		time.Sleep(2 * time.Second) // requests that were in flight at the end of the rollout
		sent, failed, samples := load.stop()
		if err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		if backendTemplateHash(t) == before {
			t.Error("the backend pod template did not change")
		}
		t.Logf("requests during the rollout: %d sent, %d failed", sent, failed)
		if sent < 50 {
			t.Errorf("only %d requests during the rollout: the load loop did not run", sent)
		}
		if failed > 0 {
			t.Errorf("%d of %d requests failed during the rolling upgrade, e.g. %v", failed, sent, samples)
		}
	}) {
		return
	}

	if !nodeStep("8-rotate-jwt-secret", func(t *testing.T) {
		if err := e.stack.SetConfig(ctx, infra.Project+":jwtSecret", auto.ConfigValue{Value: rotatedJWTSecret, Secret: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.stack.Up(ctx, stream); err != nil {
			t.Fatalf("up with the rotated secret: %v", err)
		}
		eventually(t, 120*time.Second, "the backend rolled out with the new secret", workloadsAvailable)
		eventually(t, 60*time.Second, "the old token is rejected", func() error {
			_, code, err := app.do("GET", "/api/tasks", token, "")
			if err != nil || code != 401 {
				return fmt.Errorf("GET /api/tasks with the old token: %d %v", code, err)
			}
			return nil
		})
		fresh := app.login(t, "node-e2e@example.com", "password-node-e2e", 200)
		if !strings.Contains(app.must(t, "GET", "/api/tasks", fresh, "", 200), "buy milk") {
			t.Error("after the rotation the user's tasks are not there")
		}
	}) {
		return
	}

	if !nodeStep("9-destroy-keeps-data", func(t *testing.T) {
		// `make down`: the release goes, the namespace and PostgreSQL's volume stay; the next
		// `make up` finds the user's tasks again.
		if _, err := e.stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout)); err != nil {
			t.Fatalf("destroy: %v", err)
		}
		e.destroyed = true
		eventually(t, 120*time.Second, "the release's pods gone", podsGone(t))
		if out, err := kubectl("-n", namespace, "get", "pvc", "-o", "name"); err != nil || !strings.Contains(out, "persistentvolumeclaim/data-") {
			t.Fatalf("after destroy PostgreSQL's PVC is gone (%q, %v): make down must keep the data", out, err)
		}
		if _, err := e.stack.Up(ctx, stream); err != nil {
			t.Fatalf("up after destroy: %v", err)
		}
		e.destroyed = false
		eventually(t, 120*time.Second, "every workload Ready again", workloadsAvailable)
		app.forward(t)
		fresh := app.login(t, "node-e2e@example.com", "password-node-e2e", 200)
		if !strings.Contains(app.must(t, "GET", "/api/tasks", fresh, "", 200), "buy milk") {
			t.Fatal("the tasks did not survive destroy and up")
		}
	}) {
		return
	}

	app.close()
	nodeStep("10-destroy-purge", func(t *testing.T) {
		// `make down PURGE=1`: destroy, then the retained namespace with the data.
		if _, err := e.stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout)); err != nil {
			t.Fatalf("destroy: %v", err)
		}
		e.destroyed = true
		// Pods first: a PVC deleted while its pod still terminates keeps its pvc-protection
		// finalizer until the controller's next retry (tens of seconds here).
		eventually(t, 120*time.Second, "the release's pods gone", podsGone(t))
		if _, err := kubectl("delete", "namespace", namespace, "--wait=false"); err != nil {
			t.Fatal(err)
		}
		start, lastLog := time.Now(), time.Now()
		eventually(t, 120*time.Second, "the namespace is gone", func() error {
			out, err := kubectl("get", "namespace", namespace, "--ignore-not-found", "-o", "name")
			if err == nil && strings.TrimSpace(out) == "" {
				return nil
			}
			// What the namespace controller still waits for, every 15 s.
			if time.Since(lastLog) > 15*time.Second {
				lastLog = time.Now()
				left, _ := kubectl("-n", namespace, "get", "pods,pvc,serviceaccounts,secrets", "-o", "name")
				conds, _ := kubectl("get", "namespace", namespace, "-o", "jsonpath={.status.conditions}")
				t.Logf("after %s the namespace still has %v; conditions %s", time.Since(start).Round(time.Second), strings.Fields(left), conds)
			}
			return fmt.Errorf("namespace still there: %q %v", out, err)
		})
		// The kubelet removes a deleted pod's exited containers and sandbox in its container
		// garbage collection, which runs once a minute: allow two rounds.
		eventually(t, 150*time.Second, "no sandbox or container of the namespace on the node", func() error {
			// Sandboxes in any state, and containers in any state (-a), of the namespace.
			for _, args := range [][]string{{"pods"}, {"ps", "-a"}} {
				cmd := exec.Command("crictl", append(args, "--namespace", namespace, "-q")...)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					return fmt.Errorf("crictl %s: %v: %s", args[0], err, stderr.String())
				}
				if s := strings.TrimSpace(string(out)); s != "" {
					return fmt.Errorf("crictl %s still lists %s", args[0], strings.ReplaceAll(s, "\n", " "))
				}
			}
			return nil
		})
	})
}

// ---- pods ----------------------------------------------------------------------------------

type podInfo struct {
	name, component, phase string
	ready                  bool
	containers             []string
}

func listPods(t *testing.T) []podInfo {
	t.Helper()
	var pods objList
	kubectlJSON(t, &pods, "-n", namespace, "get", "pods")
	var out []podInfo
	for _, p := range pods.Items {
		pi := podInfo{
			name:      fmt.Sprint(get(p, "metadata", "name")),
			component: fmt.Sprint(get(p, "metadata", "labels", "app.kubernetes.io/component")),
			phase:     fmt.Sprint(get(p, "status", "phase")),
		}
		conds, _ := get(p, "status", "conditions").([]any)
		for _, c := range conds {
			if get(c, "type") == "Ready" && get(c, "status") == "True" {
				pi.ready = true
			}
		}
		cs, _ := get(p, "spec", "containers").([]any)
		for _, c := range cs {
			pi.containers = append(pi.containers, fmt.Sprint(get(c, "name")))
		}
		if get(p, "metadata", "deletionTimestamp") == nil {
			out = append(out, pi)
		}
	}
	return out
}

// podsGone is a condition for eventually: no pod at all in the namespace, terminating ones
// included.
func podsGone(t *testing.T) func() error {
	return func() error {
		out, err := kubectl("-n", namespace, "get", "pods", "-o", "name")
		if err != nil {
			return err
		}
		if left := strings.Fields(out); len(left) > 0 {
			return fmt.Errorf("pods left: %v", left)
		}
		return nil
	}
}

func podsOf(t *testing.T, component string) []string {
	t.Helper()
	var names []string
	for _, p := range listPods(t) {
		if p.component == component && p.phase == "Running" {
			names = append(names, p.name)
		}
	}
	return names
}

// dumpNamespace prints what an operator would look at first: pods, events, every container's
// log (and the previous one's, after a restart).
func dumpNamespace(t *testing.T) {
	for _, args := range [][]string{
		{"-n", namespace, "get", "pods,pvc,svc,endpointslices,networkpolicies", "-o", "wide"},
		{"-n", namespace, "get", "events", "--sort-by", ".lastTimestamp"},
		{"-n", namespace, "describe", "pods"},
		{"-n", "kube-system", "get", "pods", "-o", "wide"},
	} {
		out, err := kubectl(args...)
		t.Logf("kubectl %s:\n%s%v", strings.Join(args, " "), out, errOrEmpty(err))
	}
	var pods objList
	if out, err := kubectl("-n", namespace, "get", "pods", "-o", "json"); err == nil && json.Unmarshal([]byte(out), &pods) == nil {
		for _, p := range pods.Items {
			name := fmt.Sprint(get(p, "metadata", "name"))
			for _, prev := range []string{"false", "true"} {
				out, err := kubectl("-n", namespace, "logs", name, "--all-containers", "--tail", "60", "--previous="+prev)
				if err == nil && out != "" {
					t.Logf("logs of %s (previous=%s):\n%s", name, prev, out)
				}
			}
		}
	}
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return "error: " + err.Error()
}

// ---- helm test -----------------------------------------------------------------------------

// helmTest runs the release's test hooks as `helm test` does, with Helm's own action.
func helmTest(t *testing.T) (*release.Release, error) {
	flags := genericclioptions.NewConfigFlags(false)
	kubeconfig, kubeContext, ns := os.Getenv("KUBECONFIG"), os.Getenv("TODO_E2E_CONTEXT"), namespace
	flags.KubeConfig, flags.Context, flags.Namespace = &kubeconfig, &kubeContext, &ns
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, namespace, "secret", t.Logf); err != nil {
		return nil, err
	}
	run := action.NewReleaseTesting(cfg)
	run.Namespace = namespace
	run.Timeout = 3 * time.Minute
	rel, err := run.Run(releaseName)
	if rel != nil {
		var logs bytes.Buffer
		if lerr := run.GetPodLogs(&logs, rel); lerr == nil {
			t.Logf("helm test pod logs:\n%s", logs.String())
		}
	}
	return rel, err
}

// ---- the app through its frontend Service ------------------------------------------------

// appClient talks to the app as a browser does: through a kubectl port-forward to the frontend
// Service (nginx serves the page and proxies /api/ to the backend Service).
type appClient struct {
	t    *testing.T
	mu   sync.Mutex
	cmd  *exec.Cmd
	base string
}

var forwardLine = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+)`)

func (a *appClient) forward(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopForwardLocked()
	svc := frontendService(t)
	cmd := exec.Command("kubectl", "--context", os.Getenv("TODO_E2E_CONTEXT"), "-n", namespace,
		"port-forward", "--address", "127.0.0.1", "svc/"+svc.name, fmt.Sprintf(":%d", svc.port))
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := forwardLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case port := <-found:
		a.cmd, a.base = cmd, "http://127.0.0.1:"+port
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("kubectl port-forward printed no local port in 30s")
	}
}

type serviceRef struct {
	name string
	port int
}

// clusterServices maps each component to its ClusterIP Service (reached through kube-proxy; a
// headless one is left out), failing when a component has two.
func clusterServices(t *testing.T) map[string]serviceRef {
	t.Helper()
	var list objList
	kubectlJSON(t, &list, "-n", namespace, "get", "services")
	svcs := map[string]serviceRef{}
	for _, s := range list.Items {
		ports, _ := get(s, "spec", "ports").([]any)
		comp := fmt.Sprint(get(s, "metadata", "labels", "app.kubernetes.io/component"))
		if len(ports) == 0 || get(s, "spec", "clusterIP") == "None" {
			continue
		}
		if prev, dup := svcs[comp]; dup {
			t.Fatalf("two ClusterIP Services for %s: %s and %v", comp, prev.name, get(s, "metadata", "name"))
		}
		svcs[comp] = serviceRef{name: fmt.Sprint(get(s, "metadata", "name")), port: num(get(ports[0], "port"))}
	}
	return svcs
}

func frontendService(t *testing.T) serviceRef {
	t.Helper()
	svc, ok := clusterServices(t)["frontend"]
	if !ok {
		t.Fatal("no frontend Service with a port")
	}
	return svc
}

func (a *appClient) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopForwardLocked()
}

// stopForwardLocked ends the running port-forward, if any (a.mu held).
func (a *appClient) stopForwardLocked() {
	if a.cmd != nil {
		_ = a.cmd.Process.Kill()
		_ = a.cmd.Wait()
		a.cmd = nil
	}
}

var httpClient = &http.Client{Timeout: 15 * time.Second}

func (a *appClient) do(method, path, token, body string) (string, int, error) {
	a.mu.Lock()
	base := a.base
	a.mu.Unlock()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return "", 0, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode, err
}

// must sends one request and fails the test unless it answers want; a broken port-forward (the
// pod behind it was replaced) is re-established once.
func (a *appClient) must(t *testing.T, method, path, token, body string, want int) string {
	t.Helper()
	out, code, err := a.do(method, path, token, body)
	if err != nil {
		a.forward(t)
		out, code, err = a.do(method, path, token, body)
	}
	if err != nil || code != want {
		t.Fatalf("%s %s: status %d (want %d), err %v, body %.300s", method, path, code, want, err, out)
	}
	return out
}

func (a *appClient) signup(t *testing.T, email, password string) string {
	t.Helper()
	out := a.must(t, "POST", "/api/auth/signup", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password), 201)
	return tokenOf(t, out)
}

func (a *appClient) login(t *testing.T, email, password string, want int) string {
	t.Helper()
	out := a.must(t, "POST", "/api/auth/login", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password), want)
	return tokenOf(t, out)
}

func tokenOf(t *testing.T, body string) string {
	t.Helper()
	var r struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Token == "" {
		t.Fatalf("no token in %.200s (%v)", body, err)
	}
	return r.Token
}

type loadRun struct {
	sent, failed atomic.Int64
	mu           sync.Mutex
	samples      []string
	done         chan struct{}
	finished     chan struct{}
}

// load sends GET /api/tasks every interval until stop (or at most for max), counting failures.
func (a *appClient) load(token string, interval, max time.Duration) *loadRun {
	l := &loadRun{done: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(l.finished)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		limit := time.After(max)
		for {
			select {
			case <-l.done:
				return
			case <-limit:
				return
			case <-tick.C:
			}
			l.sent.Add(1)
			body, code, err := a.do("GET", "/api/tasks", token, "")
			if err != nil || code != 200 {
				l.failed.Add(1)
				l.mu.Lock()
				if len(l.samples) < 5 {
					l.samples = append(l.samples, fmt.Sprintf("%s: %d %v %.80s", time.Now().Format("15:04:05.000"), code, err, body))
				}
				l.mu.Unlock()
			}
		}
	}()
	return l
}

func (l *loadRun) stop() (sent, failed int64, samples []string) {
	close(l.done)
	<-l.finished
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent.Load(), l.failed.Load(), l.samples
}

// ---- Pod Security, checked on the running processes -------------------------------------

// checkPodSecurity: the namespace enforces restricted (so every pod here was admitted under it),
// and each container's process really runs as its numeric non-root user with a read-only root
// file system, read from the node (/proc of the container's init process) for every container,
// and from inside (id, a write to /) where the image has a shell.
func checkPodSecurity(t *testing.T) {
	var ns map[string]any
	kubectlJSON(t, &ns, "get", "namespace", namespace)
	if l := get(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce"); l != "restricted" {
		t.Errorf("namespace enforce label %v, want restricted", l)
	}
	out, err := exec.Command("crictl", "ps", "--namespace", namespace, "-o", "json").Output()
	if err != nil {
		t.Fatalf("crictl ps: %v", err)
	}
	var ps struct {
		Containers []struct {
			ID     string            `json:"id"`
			Labels map[string]string `json:"labels"`
		} `json:"containers"`
	}
	if err := json.Unmarshal(out, &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps.Containers) == 0 {
		t.Fatal("crictl lists no running container in the namespace")
	}
	for _, c := range ps.Containers {
		name := c.Labels["io.kubernetes.pod.name"] + "/" + c.Labels["io.kubernetes.container.name"]
		insp, err := exec.Command("crictl", "inspect", c.ID).Output()
		if err != nil {
			t.Errorf("%s: crictl inspect: %v", name, err)
			continue
		}
		var info struct {
			Info struct {
				Pid int `json:"pid"`
			} `json:"info"`
		}
		if err := json.Unmarshal(insp, &info); err != nil || info.Info.Pid == 0 {
			t.Errorf("%s: no pid in crictl inspect (%v)", name, err)
			continue
		}
		uid, ro, err := procIdentity(info.Info.Pid)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		t.Logf("%s: pid %d uid %s, root file system read-only %v", name, info.Info.Pid, uid, ro)
		if uid == "0" {
			t.Errorf("%s runs as root", name)
		}
		if !ro {
			t.Errorf("%s: the root file system is writable", name)
		}
	}
	// From inside, where there is a shell (the backend's distroless image has none).
	for _, p := range listPods(t) {
		if p.component != "frontend" && p.component != "postgresql" {
			continue
		}
		c := p.containers[0]
		id, err := kubectl("-n", namespace, "exec", p.name, "-c", c, "--", "id", "-u")
		if err != nil {
			t.Errorf("%s: exec id: %v", p.name, err)
		} else if strings.TrimSpace(id) == "0" {
			t.Errorf("%s: id -u is 0 inside", p.name)
		}
		_, err = kubectl("-n", namespace, "exec", p.name, "-c", c, "--", "sh", "-c", "echo x > /e2e-write-probe")
		if err == nil || !strings.Contains(err.Error(), "Read-only file system") {
			t.Errorf("%s: a write to / was not refused as read-only: %v", p.name, err)
		}
	}
}

// procIdentity reads a process's real uid and whether its root mount is read-only.
func procIdentity(pid int) (uid string, readOnlyRoot bool, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", false, err
	}
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			uid = f[1]
		}
	}
	mounts, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return "", false, err
	}
	for _, l := range strings.Split(string(mounts), "\n") {
		// mountinfo: id parent major:minor root mountpoint options ...
		if f := strings.Fields(l); len(f) > 5 && f[4] == "/" {
			readOnlyRoot = strings.HasPrefix(f[5], "ro,") || f[5] == "ro"
		}
	}
	return uid, readOnlyRoot, nil
}

// ---- NetworkPolicies, enforced by kube-router -------------------------------------------

// checkNetworkPolicies: the app's own paths work (the smoke step already went frontend →
// backend → PostgreSQL by Service names, so DNS too); here, from the frontend pod the backend
// answers while PostgreSQL does not, and a pod the policies do not name reaches neither.
func checkNetworkPolicies(t *testing.T) {
	svcs := clusterServices(t)
	backend, pg := svcs["backend"], svcs["postgresql"]
	if backend.name == "" || pg.name == "" {
		t.Fatalf("backend/postgresql Services not found: %v", svcs)
	}
	frontend := podsOf(t, "frontend")
	if len(frontend) == 0 {
		t.Fatal("no frontend pod")
	}
	// tcpProbe prints "open" when a TCP connection is accepted within 3 s, "blocked" otherwise.
	probe := func(host string, port int) string {
		return fmt.Sprintf(`if timeout 3 bash -c 'exec 3<>/dev/tcp/%s/%d' 2>/dev/null; then echo open; else echo blocked; fi`, host, port)
	}
	fromFrontend := func(host string, port int) string {
		out, err := kubectl("-n", namespace, "exec", frontend[0], "--", "bash", "-c", probe(host, port))
		if err != nil {
			t.Fatalf("exec in %s: %v", frontend[0], err)
		}
		return strings.TrimSpace(out)
	}
	if got := fromFrontend(backend.name, backend.port); got != "open" {
		t.Errorf("frontend → backend %s:%d is %s, want open (allowed by policy)", backend.name, backend.port, got)
	}
	if got := fromFrontend(pg.name, pg.port); got != "blocked" {
		t.Errorf("frontend → PostgreSQL %s:%d is %s, want blocked (no policy allows it)", pg.name, pg.port, got)
	}

	// A pod the policies do not name, with the restricted securityContext the namespace demands.
	pod := "e2e-netpol-probe"
	script := fmt.Sprintf(`for t in %s:%d %s:%d; do
  h=${t%%:*}; p=${t#*:}
  if nc -w 3 "$h" "$p" </dev/null >/dev/null 2>&1; then echo "$t open"; else echo "$t blocked"; fi
done`, backend.name, backend.port, pg.name, pg.port)
	overrides := fmt.Sprintf(`{"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":65534,"runAsGroup":65534,"seccompProfile":{"type":"RuntimeDefault"}},
"containers":[{"name":"probe","image":%q,"imagePullPolicy":"Never","command":["sh","-c",%q],
"securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}},
"resources":{"limits":{"cpu":"100m","memory":"32Mi"},"requests":{"cpu":"10m","memory":"16Mi"}}}]}}`, testImage(t), script)
	if _, err := kubectl("-n", namespace, "run", pod, "--image", testImage(t), "--restart=Never", "--overrides", overrides); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = kubectl("-n", namespace, "delete", "pod", pod, "--wait=false") }()
	eventually(t, 60*time.Second, "the probe pod finished", func() error {
		out, _ := kubectl("-n", namespace, "get", "pod", pod, "-o", "jsonpath={.status.phase}")
		if out != "Succeeded" && out != "Failed" {
			return fmt.Errorf("phase %q", out)
		}
		return nil
	})
	out, err := kubectl("-n", namespace, "logs", pod)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unlisted pod:\n%s", out)
	for _, target := range []serviceRef{backend, pg} {
		want := fmt.Sprintf("%s:%d blocked", target.name, target.port)
		if !strings.Contains(out, want) {
			t.Errorf("an unlisted pod's connection to %s:%d was not blocked", target.name, target.port)
		}
	}
}

// testImage is the chart's test image (busybox), as deployed by the helm test hook.
func testImage(t *testing.T) string {
	t.Helper()
	img := os.Getenv("TODO_E2E_TEST_IMAGE")
	if img == "" {
		t.Fatal("TODO_E2E_TEST_IMAGE is not set")
	}
	return img
}
