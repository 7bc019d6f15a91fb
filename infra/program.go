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
		for name, out := range app.Outputs() {
			ctx.Export(name, out)
		}
		return nil
	}
}
