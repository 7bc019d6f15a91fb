// Package config reads the service configuration from the environment only (12-factor).
package config

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// MinJWTSecretLen is the shortest JWT_SECRET accepted: 256 bits for HS256.
const MinJWTSecretLen = 32

// Config is the whole runtime configuration.
type Config struct {
	DatabaseURL     string
	JWTSecret       []byte
	TokenTTL        time.Duration
	LLMProvider     string // offline | openai
	LLMBaseURL      string
	LLMModel        string
	LLMAPIKey       string
	Port            string
	ListenHost      string // optional bind address ("" = all interfaces)
	LogLevel        slog.Level
	CORSOrigins     []string
	MigrateOnStart  bool
	ShutdownTimeout time.Duration
	DrainWindow     time.Duration // after SIGTERM: /readyz fails but requests are still served
	RequestTimeout  time.Duration // deadline of every API request except chat turns (ChatTimeout)
	MaxInFlight     int           // API requests served at once; beyond it 503 at once
	IdempotencyTTL  time.Duration // how long an Idempotency-Key's first response is kept
	BcryptCost      int
	DBMaxConns      int32
	TrustProxy      bool // take the client address from X-Forwarded-For (set only behind a proxy)
	LoginWindow     time.Duration
	LoginPerIP      int
	LoginPerAccount int
}

// Error names the offending variable; main prints it as one line and exits.
type Error struct {
	Var    string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("config: %s %s", e.Var, e.Reason) }

// FromEnv reads the configuration with os.Getenv.
func FromEnv() (*Config, error) { return Load(os.Getenv) }

// Load reads the configuration through getenv.
func Load(getenv func(string) string) (*Config, error) {
	c := &Config{}
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c.DatabaseURL = get("DATABASE_URL", "")
	if c.DatabaseURL == "" {
		return nil, &Error{"DATABASE_URL", "is required (e.g. postgres://user@host:5432/db; the password may come from PGPASSWORD)"}
	}
	secret := getenv("JWT_SECRET")
	if secret == "" {
		return nil, &Error{"JWT_SECRET", fmt.Sprintf("is required (at least %d bytes)", MinJWTSecretLen)}
	}
	if len(secret) < MinJWTSecretLen {
		return nil, &Error{"JWT_SECRET", fmt.Sprintf("must be at least %d bytes", MinJWTSecretLen)}
	}
	c.JWTSecret = []byte(secret)

	var err error
	if c.TokenTTL, err = duration(get, "TOKEN_TTL", "24h"); err != nil {
		return nil, err
	}
	c.LLMProvider = strings.ToLower(get("LLM_PROVIDER", "offline"))
	c.LLMBaseURL = get("LLM_BASE_URL", "")
	c.LLMModel = get("LLM_MODEL", "")
	c.LLMAPIKey = getenv("LLM_API_KEY")
	switch c.LLMProvider {
	case "offline":
	case "openai":
		if c.LLMModel == "" {
			return nil, &Error{"LLM_MODEL", "is required when LLM_PROVIDER=openai"}
		}
		if c.LLMAPIKey == "" && c.LLMBaseURL == "" {
			return nil, &Error{"LLM_API_KEY", "is required when LLM_PROVIDER=openai (or set LLM_BASE_URL to a keyless endpoint)"}
		}
	default:
		return nil, &Error{"LLM_PROVIDER", "must be offline or openai"}
	}
	c.ListenHost = get("LISTEN_HOST", "")
	c.Port = get("PORT", "8080")
	if p, err := strconv.Atoi(c.Port); err != nil || p < 0 || p > 65535 {
		return nil, &Error{"PORT", "must be a port number"}
	}
	switch strings.ToLower(get("LOG_LEVEL", "info")) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return nil, &Error{"LOG_LEVEL", "must be debug, info, warn or error"}
	}
	for _, o := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	if c.MigrateOnStart, err = boolean(get, "MIGRATE_ON_START", "true"); err != nil {
		return nil, err
	}
	if c.TrustProxy, err = boolean(get, "TRUST_PROXY", "false"); err != nil {
		return nil, err
	}
	if c.ShutdownTimeout, err = duration(get, "SHUTDOWN_TIMEOUT", "15s"); err != nil {
		return nil, err
	}
	if c.DrainWindow, err = durationOrZero(get, "DRAIN_WINDOW", "5s"); err != nil {
		return nil, err
	}
	if c.RequestTimeout, err = duration(get, "REQUEST_TIMEOUT", "10s"); err != nil {
		return nil, err
	}
	if c.MaxInFlight, err = integer(get, "MAX_IN_FLIGHT", "128", 1, 100000); err != nil {
		return nil, err
	}
	if c.IdempotencyTTL, err = duration(get, "IDEMPOTENCY_TTL", "24h"); err != nil {
		return nil, err
	}
	if c.BcryptCost, err = integer(get, "BCRYPT_COST", "12", 4, 31); err != nil {
		return nil, err
	}
	maxConns, err := integer(get, "DB_MAX_CONNS", "8", 1, 1000)
	if err != nil {
		return nil, err
	}
	c.DBMaxConns = int32(maxConns)
	if c.LoginWindow, err = duration(get, "LOGIN_RATE_WINDOW", "15m"); err != nil {
		return nil, err
	}
	if c.LoginPerIP, err = integer(get, "LOGIN_RATE_PER_IP", "50", 1, 1<<30); err != nil {
		return nil, err
	}
	if c.LoginPerAccount, err = integer(get, "LOGIN_RATE_PER_ACCOUNT", "10", 1, 1<<30); err != nil {
		return nil, err
	}
	return c, nil
}

func duration(get func(string, string) string, k, def string) (time.Duration, error) {
	d, err := time.ParseDuration(get(k, def))
	if err != nil || d <= 0 {
		return 0, &Error{k, "must be a positive duration such as 15s"}
	}
	return d, nil
}

func durationOrZero(get func(string, string) string, k, def string) (time.Duration, error) {
	d, err := time.ParseDuration(get(k, def))
	if err != nil || d < 0 {
		return 0, &Error{k, "must be a duration such as 5s (0 for none)"}
	}
	return d, nil
}

func boolean(get func(string, string) string, k, def string) (bool, error) {
	b, err := strconv.ParseBool(get(k, def))
	if err != nil {
		return false, &Error{k, "must be true or false"}
	}
	return b, nil
}

func integer(get func(string, string) string, k, def string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(get(k, def))
	if err != nil || n < lo || n > hi {
		return 0, &Error{k, fmt.Sprintf("must be an integer from %d to %d", lo, hi)}
	}
	return n, nil
}
