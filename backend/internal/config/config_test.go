package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "postgres://x"}, "JWT_SECRET"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": "short"}, "JWT_SECRET"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32), "LLM_PROVIDER": "magic"}, "LLM_PROVIDER"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32), "LLM_PROVIDER": "openai"}, "LLM_MODEL"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32), "LLM_PROVIDER": "openai", "LLM_MODEL": "m"}, "LLM_API_KEY"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32), "PORT": "http"}, "PORT"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32), "LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32), "MIGRATE_ON_START": "maybe"}, "MIGRATE_ON_START"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32), "SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32), "DRAIN_WINDOW": "-1s"}, "DRAIN_WINDOW"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32), "REQUEST_TIMEOUT": "0s"}, "REQUEST_TIMEOUT"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32), "MAX_IN_FLIGHT": "0"}, "MAX_IN_FLIGHT"},
		{map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32), "IDEMPOTENCY_TTL": "forever"}, "IDEMPOTENCY_TTL"},
	} {
		_, err := Load(env(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("env %v: error %v, want one line naming %s", c.env, err, c.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://x", "JWT_SECRET": strings.Repeat("k", 32),
		"CORS_ALLOWED_ORIGINS": " https://a.example/, https://b.example ,,"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != "8080" || c.LLMProvider != "offline" || !c.MigrateOnStart || c.ShutdownTimeout != 15*time.Second ||
		c.DrainWindow != 5*time.Second || c.RequestTimeout != 10*time.Second || c.MaxInFlight != 128 || c.IdempotencyTTL != 24*time.Hour ||
		c.BcryptCost < 10 || len(c.CORSOrigins) != 2 || c.CORSOrigins[0] != "https://a.example" {
		t.Fatalf("%+v", c)
	}
}
