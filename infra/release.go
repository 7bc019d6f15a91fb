package infra

import (
	"errors"
	"reflect"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/utilities"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ReleaseType is pulumi-kubernetes' Helm Release resource.
const ReleaseType = "kubernetes:helm.sh/v3:Release"

// Why not import the SDK's helm/v3 package: it also holds the old Chart
// component, which imports the SDK's yaml package and with it every
// Kubernetes API group (66 packages instead of 4). Pulumi compiles this
// program on each `pulumi up`, and those packages made a cold compile take
// over ten minutes. This binds the same resource type, with the same inputs
// and defaults as helm/v3.NewRelease, for the fields the program sets.

// ReleaseArgs are the Release inputs the program uses (a subset of
// helm/v3.ReleaseArgs, same names and wire format).
type ReleaseArgs struct {
	Name          pulumi.StringPtrInput
	Chart         pulumi.StringInput
	Namespace     pulumi.StringPtrInput
	Values        pulumi.MapInput
	Atomic        pulumi.BoolPtrInput
	CleanupOnFail pulumi.BoolPtrInput
	Timeout       pulumi.IntPtrInput
	SkipAwait     pulumi.BoolPtrInput
	WaitForJobs   pulumi.BoolPtrInput
	MaxHistory    pulumi.IntPtrInput
	// Compat is set to "true" as the SDK does: the provider then answers
	// with the Release's current (not the legacy) shape.
	Compat pulumi.StringPtrInput
}

type releaseArgs struct {
	Name          *string        `pulumi:"name"`
	Chart         string         `pulumi:"chart"`
	Namespace     *string        `pulumi:"namespace"`
	Values        map[string]any `pulumi:"values"`
	Atomic        *bool          `pulumi:"atomic"`
	CleanupOnFail *bool          `pulumi:"cleanupOnFail"`
	Timeout       *int           `pulumi:"timeout"`
	SkipAwait     *bool          `pulumi:"skipAwait"`
	WaitForJobs   *bool          `pulumi:"waitForJobs"`
	MaxHistory    *int           `pulumi:"maxHistory"`
	Compat        *string        `pulumi:"compat"`
}

// ElementType tells the SDK how to serialize the inputs.
func (ReleaseArgs) ElementType() reflect.Type {
	return reflect.TypeOf((*releaseArgs)(nil)).Elem()
}

// Release is the deployed Helm release.
type Release struct {
	pulumi.CustomResourceState

	Name      pulumi.StringPtrOutput `pulumi:"name"`
	Namespace pulumi.StringPtrOutput `pulumi:"namespace"`
	Values    pulumi.MapOutput       `pulumi:"values"`
	// Status is the release's status object (name, namespace, revision, status, ...).
	Status pulumi.MapOutput `pulumi:"status"`
}

// StatusText is the release's status, e.g. "deployed".
func (r *Release) StatusText() pulumi.StringOutput {
	return r.Status.ApplyT(func(s map[string]any) string {
		v, _ := s["status"].(string)
		return v
	}).(pulumi.StringOutput)
}

// NewRelease registers a Helm release, exactly as helm/v3.NewRelease does.
func NewRelease(ctx *pulumi.Context, name string, args *ReleaseArgs, opts ...pulumi.ResourceOption) (*Release, error) {
	if args == nil || args.Chart == nil {
		return nil, errors.New("NewRelease: Chart is required")
	}
	args.Compat = pulumi.StringPtr("true")
	var r Release
	if err := ctx.RegisterResource(ReleaseType, name, args, &r, utilities.PkgResourceDefaultOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}
