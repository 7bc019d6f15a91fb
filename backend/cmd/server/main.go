// Command server is the Todo Chatbot API.
//
//	server          run the HTTP server (migrating first unless MIGRATE_ON_START=false)
//	server migrate  apply the database migrations and exit
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/config"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/logbuf"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/server"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// tuneGC trades a little memory for throughput unless the operator set GOGC: the heap of this
// server is small, so the default GOGC=100 collects very often under load. The soft memory
// limit keeps the process under its container's limit: GOMEMLIMIT if set, else 3/4 of
// MEMORY_LIMIT (the container limit in bytes, which the chart passes from the downward API; the
// rest is headroom for what the runtime cannot return at once), else 40 MiB — measured peak RSS
// stays well under 60 MB in bench/backend.sh. The API's request bounds are sized from it
// (httpapi.LimitsFor).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		limit := int64(40 << 20)
		if v, err := strconv.ParseInt(strings.TrimSpace(os.Getenv("MEMORY_LIMIT")), 10, 64); err == nil && v > 0 {
			limit = v / 4 * 3
		}
		debug.SetMemoryLimit(limit)
	}
}

func run(args []string) int {
	tuneGC()
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		return 2
	}
	// Log lines are batched (flushed every 100 ms and at exit) so access logging costs no
	// write(2) per request.
	out := logbuf.New(os.Stdout, 64<<10, 100*time.Millisecond)
	defer out.Close()
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve":
		err = server.Run(ctx, cfg, log, nil)
	case "migrate":
		err = server.Migrate(ctx, cfg, log)
		if err == nil {
			log.Info("migrations up to date")
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q (want serve or migrate)\n", cmd)
		return 2
	}
	if err != nil {
		log.Error("fatal", "err", err.Error())
		return 1
	}
	return 0
}
