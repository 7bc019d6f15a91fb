package tests

// TEMPORARY stand-in for infra.LoadStackFiles + infra.ChartValues until the program lands;
// same shape as docs/contracts.md. Deleted when chart_program_test.go uses the real functions.

import "testing"

func chartProgramValues(t testing.TB, stack string) map[string]any {
	t.Helper()
	img := func(repo, tag, digest string) map[string]any {
		return map[string]any{"repository": repo, "tag": tag, "digest": digest, "pullPolicy": "IfNotPresent"}
	}
	res := func(a, b, c, d string) map[string]any {
		return map[string]any{"requests": map[string]any{"cpu": a, "memory": b}, "limits": map[string]any{"cpu": c, "memory": d}}
	}
	as := func(enabled bool, min int) map[string]any {
		return map[string]any{"enabled": enabled, "minReplicas": min, "maxReplicas": 6, "targetCPUUtilizationPercentage": 70}
	}
	switch stack {
	case "dev":
		return map[string]any{
			"chartChecksum":  "abc",
			"existingSecret": "todo-app-secrets",
			"backend": map[string]any{"replicaCount": 1, "image": img("todo-chatbot-backend", "0123456789ab", ""),
				"service": map[string]any{"port": 8080}, "resources": res("100m", "64Mi", "500m", "128Mi"),
				"autoscaling": as(false, 1), "env": map[string]any{"LOG_LEVEL": "info"}},
			"frontend": map[string]any{"replicaCount": 1, "image": img("todo-chatbot-frontend", "0123456789ab", ""),
				"service": map[string]any{"port": 8080}, "resources": res("50m", "32Mi", "250m", "64Mi"),
				"autoscaling": as(false, 1), "env": map[string]any{}},
			"ingress":             map[string]any{"enabled": true, "className": "nginx", "host": "todo.local", "tls": map[string]any{"enabled": false, "secretName": ""}},
			"postgresql":          map[string]any{"enabled": true, "storage": map[string]any{"size": "1Gi", "storageClassName": ""}},
			"externalDatabase":    map[string]any{"existingSecret": "", "key": "database-url"},
			"llm":                 map[string]any{"provider": "offline", "baseURL": "", "model": ""},
			"networkPolicy":       map[string]any{"enabled": true},
			"podDisruptionBudget": map[string]any{"enabled": false},
		}
	case "prod":
		d := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		return map[string]any{
			"chartChecksum":  "abc",
			"existingSecret": "todo-app-secrets",
			"backend": map[string]any{"replicaCount": 3, "image": img("ghcr.io/acme/todo-chatbot-backend", "", d),
				"service": map[string]any{"port": 8080}, "resources": res("100m", "64Mi", "500m", "128Mi"),
				"autoscaling": as(true, 3), "env": map[string]any{"LOG_LEVEL": "info"}},
			"frontend": map[string]any{"replicaCount": 3, "image": img("ghcr.io/acme/todo-chatbot-frontend", "", d),
				"service": map[string]any{"port": 8080}, "resources": res("50m", "32Mi", "250m", "64Mi"),
				"autoscaling": as(true, 3), "env": map[string]any{}},
			"ingress":             map[string]any{"enabled": true, "className": "nginx", "host": "todo.example.com", "tls": map[string]any{"enabled": true, "secretName": "todo-tls"}},
			"postgresql":          map[string]any{"enabled": false, "storage": map[string]any{"size": "1Gi", "storageClassName": ""}},
			"externalDatabase":    map[string]any{"existingSecret": "todo-app-secrets", "key": "database-url"},
			"llm":                 map[string]any{"provider": "openai", "baseURL": "https://api.openai.com/v1", "model": "gpt-4o-mini"},
			"networkPolicy":       map[string]any{"enabled": true},
			"podDisruptionBudget": map[string]any{"enabled": true},
		}
	}
	t.Fatalf("unknown stack %q", stack)
	return nil
}
