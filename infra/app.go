package infra

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ChartDir is the chart's path relative to the repository root.
const ChartDir = "helm/todo-chatbot"

// AppArgs configures the App component.
type AppArgs struct {
	Config *Config
	// RootDir is the repository root; the build contexts and the chart are
	// found under it. Pulumi runs the program there, so main passes ".".
	RootDir string
}

// App is the whole Todo Chatbot on one cluster: namespace, secrets, images
// and the Helm release. Everything it creates is its child.
type App struct {
	pulumi.ResourceState

	Namespace     pulumi.StringOutput `pulumi:"namespace"`
	ReleaseName   pulumi.StringOutput `pulumi:"releaseName"`
	ReleaseStatus pulumi.StringOutput `pulumi:"releaseStatus"`
	BackendImage  pulumi.StringOutput `pulumi:"backendImage"`
	FrontendImage pulumi.StringOutput `pulumi:"frontendImage"`
	AppURL        pulumi.StringOutput `pulumi:"appUrl"`
	AccessCommand pulumi.StringOutput `pulumi:"accessCommand"`
	// OpsServiceAccount is the chart's read-only identity; `make ask` runs
	// kubectl-ai with a short-lived token for it.
	OpsServiceAccount pulumi.StringOutput `pulumi:"opsServiceAccount"`
	// FrontendService is the frontend's Service name, for scripts that reach the app.
	FrontendService pulumi.StringOutput `pulumi:"frontendService"`
}

// Pod Security Standards labels: the namespace admits only pods that meet
// the restricted profile, and audits and warns on the same.
func pssLabels() pulumi.StringMap {
	m := pulumi.StringMap{}
	for _, mode := range []string{"enforce", "audit", "warn"} {
		m["pod-security.kubernetes.io/"+mode] = pulumi.String("restricted")
		m["pod-security.kubernetes.io/"+mode+"-version"] = pulumi.String("latest")
	}
	return m
}

// NewApp registers the component and all of its children.
func NewApp(ctx *pulumi.Context, name string, args *AppArgs, opts ...pulumi.ResourceOption) (*App, error) {
	if args == nil || args.Config == nil {
		return nil, fmt.Errorf("NewApp: a Config is required")
	}
	cfg, root := args.Config, args.RootDir
	if root == "" {
		root = "."
	}

	app := &App{}
	if err := ctx.RegisterComponentResource("todo-chatbot:index:App", name, app, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(app)

	// An explicit provider: nothing depends on whatever the ambient kube
	// context happens to be on the machine running `pulumi up`.
	providerArgs := &kubernetes.ProviderArgs{EnableServerSideApply: pulumi.Bool(true)}
	if cfg.KubeContext != "" {
		providerArgs.Context = pulumi.String(cfg.KubeContext)
	}
	if cfg.Kubeconfig != "" {
		providerArgs.Kubeconfig = pulumi.String(cfg.Kubeconfig)
	}
	k8s, err := kubernetes.NewProvider(ctx, name+"-k8s", providerArgs, parent)
	if err != nil {
		return nil, err
	}
	onCluster := []pulumi.ResourceOption{parent, pulumi.Provider(k8s)}

	// The in-cluster PostgreSQL keeps its data in a PVC that outlives the
	// release (the chart retains it), but not its namespace: so the namespace
	// is left in place on destroy, and `make down PURGE=1` deletes it.
	ns, err := corev1.NewNamespace(ctx, name+"-ns", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:   pulumi.String(cfg.Namespace),
			Labels: pssLabels(),
		},
	}, append(onCluster, pulumi.RetainOnDelete(cfg.PostgresInCluster))...)
	if err != nil {
		return nil, err
	}

	secret, err := corev1.NewSecret(ctx, name+"-secrets", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(SecretName(cfg)),
			Namespace: ns.Metadata.Name(),
			Labels: pulumi.StringMap{
				"app.kubernetes.io/part-of":    pulumi.String("todo-chatbot"),
				"app.kubernetes.io/managed-by": pulumi.String("pulumi"),
			},
		},
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.ToSecret(secretData(cfg)).(pulumi.StringMapOutput),
	}, append(onCluster, pulumi.AdditionalSecretOutputs([]string{"data", "stringData"}))...)
	if err != nil {
		return nil, err
	}

	images, err := newImages(ctx, name, cfg, root, parent)
	if err != nil {
		return nil, err
	}

	chartPath := filepath.Join(root, ChartDir)
	checksum, err := ChartChecksum(chartPath)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", chartPath, err)
	}
	secretVersion := secret.Metadata.ResourceVersion().Elem()
	values := pulumi.All(images.backend, images.frontend, secretVersion).ApplyT(func(in []any) map[string]any {
		return ChartValues(cfg, Images{Backend: in[0].(ImageRef), Frontend: in[1].(ImageRef)}, checksum, in[2].(string))
	}).(pulumi.MapOutput)
	refOf := func(v any) string { return v.(ImageRef).Ref() }

	release, err := NewRelease(ctx, name, &ReleaseArgs{
		Name:          pulumi.String(cfg.ReleaseName),
		Chart:         pulumi.String(localChartRef(chartPath)),
		Namespace:     ns.Metadata.Name(),
		Values:        values,
		Atomic:        pulumi.Bool(true),
		CleanupOnFail: pulumi.Bool(true),
		Timeout:       pulumi.Int(cfg.HelmTimeoutSeconds),
		SkipAwait:     pulumi.Bool(false),
		WaitForJobs:   pulumi.Bool(true),
		MaxHistory:    pulumi.Int(10),
	}, append(onCluster, pulumi.DependsOn([]pulumi.Resource{secret}))...)
	if err != nil {
		return nil, err
	}

	app.Namespace = ns.Metadata.Name().Elem()
	app.ReleaseName = release.Name.Elem()
	app.ReleaseStatus = release.StatusText()
	app.BackendImage = images.backend.ApplyT(refOf).(pulumi.StringOutput)
	app.FrontendImage = images.frontend.ApplyT(refOf).(pulumi.StringOutput)
	app.AppURL = pulumi.String(appURL(cfg)).ToStringOutput()
	app.AccessCommand = pulumi.String(accessCommand(cfg)).ToStringOutput()
	// Known once the release is up: ask.sh must not find a name before its ServiceAccount exists.
	app.OpsServiceAccount = release.Name.Elem().ApplyT(func(string) string { return OpsServiceAccountName(cfg) }).(pulumi.StringOutput)
	app.FrontendService = pulumi.String(FrontendServiceName(cfg)).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(app, app.Outputs()); err != nil {
		return nil, err
	}
	return app, nil
}

// Outputs are the component's outputs by name; the program exports the same
// names as stack outputs.
func (a *App) Outputs() pulumi.Map {
	return pulumi.Map{
		"namespace":         a.Namespace,
		"releaseName":       a.ReleaseName,
		"releaseStatus":     a.ReleaseStatus,
		"backendImage":      a.BackendImage,
		"frontendImage":     a.FrontendImage,
		"appUrl":            a.AppURL,
		"accessCommand":     a.AccessCommand,
		"opsServiceAccount": a.OpsServiceAccount,
		// Names the release's objects by what the chart calls them, so scripts
		// read them instead of rebuilding the chart's naming rule.
		"frontendService": a.FrontendService,
	}
}

// localChartRef spells a chart directory so Helm takes it as a local path,
// never as a "repository/chart" name: relative paths start with "./" or "../".
func localChartRef(dir string) string {
	p := filepath.ToSlash(filepath.Clean(dir))
	if filepath.IsAbs(dir) || p == ".." || strings.HasPrefix(p, "../") {
		return p
	}
	return "./" + p
}

// secretData is what the Kubernetes Secret holds; keys follow docs/contracts.md.
func secretData(cfg *Config) pulumi.StringMap {
	data := pulumi.StringMap{SecretKeyJWT: pulumi.String(cfg.JWTSecret.Reveal())}
	if cfg.PostgresInCluster {
		data[SecretKeyPostgresPassword] = pulumi.String(cfg.PostgresPassword.Reveal())
	} else {
		data[SecretKeyDatabaseURL] = pulumi.String(cfg.DatabaseURL.Reveal())
	}
	if cfg.LLMProvider == "openai" {
		data[SecretKeyLLMAPIKey] = pulumi.String(cfg.LLMAPIKey.Reveal())
	}
	return data
}

// localPort is where the access command makes the app reachable on the
// machine running `pulumi up`.
const localPort = 8080

func appURL(cfg *Config) string {
	if !cfg.IngressEnabled {
		return fmt.Sprintf("http://localhost:%d", localPort)
	}
	scheme := "http"
	if cfg.IngressTLS {
		scheme = "https"
	}
	return scheme + "://" + cfg.IngressHost
}

// accessCommand is the exact command that makes the app reachable from the
// machine running `pulumi up`.
func accessCommand(cfg *Config) string {
	var kubectl strings.Builder
	kubectl.WriteString("kubectl")
	if cfg.Kubeconfig != "" {
		kubectl.WriteString(" --kubeconfig " + cfg.Kubeconfig)
	}
	if cfg.KubeContext != "" {
		kubectl.WriteString(" --context " + cfg.KubeContext)
	}
	portForward := fmt.Sprintf("%s -n %s port-forward svc/%s %d:%d", kubectl.String(), cfg.Namespace, FrontendServiceName(cfg), localPort, HTTPPort)
	if cfg.KubeContext == "minikube" && cfg.IngressEnabled {
		return fmt.Sprintf("minikube tunnel  # then map %s to 127.0.0.1 in /etc/hosts; or: %s", cfg.IngressHost, portForward)
	}
	return portForward
}
