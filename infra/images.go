package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Components built into images: name, build context (relative to the root).
var components = []string{"backend", "frontend"}

// imageOutputs carries each component's ImageRef as an Output (AnyOutput
// holding an ImageRef), known once the image is built or, with
// imageBuild: false, at once.
type imageOutputs struct {
	backend, frontend pulumi.AnyOutput
}

// tagLength keeps tags short but collision-safe for one repository's history.
const tagLength = 20

// newImages builds (or, with imageBuild: false, just references) both images.
func newImages(ctx *pulumi.Context, name string, cfg *Config, root string, parent pulumi.ResourceOption) (imageOutputs, error) {
	if !cfg.ImageBuild {
		be, err := ParseImageRef(cfg.BackendImage)
		if err != nil {
			return imageOutputs{}, fmt.Errorf("backendImage: %w", err)
		}
		fe, err := ParseImageRef(cfg.FrontendImage)
		if err != nil {
			return imageOutputs{}, fmt.Errorf("frontendImage: %w", err)
		}
		return imageOutputs{backend: pulumi.Any(be), frontend: pulumi.Any(fe)}, nil
	}

	// An explicit provider: the Docker daemon is Minikube's (DOCKER_HOST
	// and DOCKER_CERT_PATH from `minikube docker-env`) or dockerHost.
	providerArgs := &docker.ProviderArgs{}
	if cfg.DockerHost != "" {
		providerArgs.Host = pulumi.String(cfg.DockerHost)
	}
	dockerProvider, err := docker.NewProvider(ctx, name+"-docker", providerArgs, parent)
	if err != nil {
		return imageOutputs{}, err
	}

	out := map[string]pulumi.AnyOutput{}
	for _, component := range components {
		contextDir := filepath.Join(root, component)
		hash, err := ContextHash(contextDir)
		if err != nil {
			return imageOutputs{}, fmt.Errorf("hashing the %s build context: %w", component, err)
		}
		repository := ImageRepository(cfg, component)
		tag := imageTag(hash, cfg.ImagePlatform)
		build := &docker.DockerBuildArgs{
			Context:        pulumi.String(contextDir),
			Dockerfile:     pulumi.String(filepath.Join(contextDir, "Dockerfile")),
			BuilderVersion: docker.BuilderVersionBuilderBuildKit,
		}
		// Unset, BuildKit builds for the daemon's own platform: Minikube's
		// daemon is the node's, so an arm64 laptop gets arm64 images with no
		// emulation. A registry stack names the platform its cluster runs.
		if cfg.ImagePlatform != "" {
			build.Platform = pulumi.String(cfg.ImagePlatform)
		}
		args := &docker.ImageArgs{
			ImageName: pulumi.String(repository + ":" + tag),
			Build:     build,
			SkipPush:  pulumi.Bool(!cfg.Push()),
		}
		if cfg.Push() && cfg.RegistryUsername != "" {
			args.Registry = &docker.RegistryArgs{
				Server:   pulumi.String(registryHost(cfg.ImageRegistry)),
				Username: pulumi.String(cfg.RegistryUsername),
				Password: pulumi.ToSecret(pulumi.String(cfg.RegistryPassword.Reveal())).(pulumi.StringOutput),
			}
		}
		img, err := docker.NewImage(ctx, name+"-"+component, args, parent, pulumi.Provider(dockerProvider))
		if err != nil {
			return imageOutputs{}, err
		}
		if cfg.Push() {
			// Registry stacks deploy by digest: what was pushed is what runs.
			out[component] = img.RepoDigest.ApplyT(func(repoDigest string) (any, error) {
				_, digest, ok := strings.Cut(repoDigest, "@")
				if !ok {
					return nil, fmt.Errorf("image %s: no digest after push (repoDigest %q)", repository, repoDigest)
				}
				return ImageRef{Repository: repository, Tag: tag, Digest: digest, PullPolicy: "IfNotPresent"}, nil
			}).(pulumi.AnyOutput)
		} else {
			// Built straight into the cluster's Docker daemon: never pulled.
			out[component] = img.ImageName.ApplyT(func(string) any {
				return ImageRef{Repository: repository, Tag: tag, PullPolicy: "IfNotPresent"}
			}).(pulumi.AnyOutput)
		}
	}
	return imageOutputs{backend: out["backend"], frontend: out["frontend"]}, nil
}

// imageTag is the tag of an image built from a context with the given content
// hash. The platform is part of what is built, so another platform gets
// another tag: a node never runs an image built for the wrong one.
func imageTag(contextHash, platform string) string {
	if platform != "" {
		sum := sha256.Sum256([]byte(contextHash + "\n" + platform))
		contextHash = hex.EncodeToString(sum[:])
	}
	return contextHash[:tagLength]
}

// ImageRepository is the repository a component's image is built into.
func ImageRepository(cfg *Config, component string) string {
	repo := "todo-chatbot-" + component
	if cfg.ImageRegistry != "" {
		return strings.TrimSuffix(cfg.ImageRegistry, "/") + "/" + repo
	}
	return repo
}

// registryHost is the host[:port] part of a registry path such as ghcr.io/acme.
func registryHost(registry string) string {
	host, _, _ := strings.Cut(registry, "/")
	return host
}

// ParseImageRef splits "repo:tag" or "repo@sha256:..." into an ImageRef.
func ParseImageRef(ref string) (ImageRef, error) {
	if !imageRef.MatchString(ref) {
		return ImageRef{}, fmt.Errorf("%q is not an image reference with a tag or @sha256 digest", ref)
	}
	if repo, digest, ok := strings.Cut(ref, "@"); ok {
		return ImageRef{Repository: repo, Digest: digest, PullPolicy: "IfNotPresent"}, nil
	}
	i := strings.LastIndex(ref, ":")
	return ImageRef{Repository: ref[:i], Tag: ref[i+1:], PullPolicy: "IfNotPresent"}, nil
}
