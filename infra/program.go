package infra

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Program is the whole Pulumi program: main.go runs it, and the end-to-end
// tests run the same function through the Automation API.
func Program(rootDir string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := LoadConfig(ctx)
		if err != nil {
			return err
		}
		app, err := NewApp(ctx, "todo-chatbot", &AppArgs{Config: cfg, RootDir: rootDir})
		if err != nil {
			return err
		}
		ctx.Export("namespace", app.Namespace)
		ctx.Export("releaseName", app.ReleaseName)
		ctx.Export("releaseStatus", app.ReleaseStatus)
		ctx.Export("backendImage", app.BackendImage)
		ctx.Export("frontendImage", app.FrontendImage)
		ctx.Export("appUrl", app.AppURL)
		ctx.Export("accessCommand", app.AccessCommand)
		return nil
	}
}
