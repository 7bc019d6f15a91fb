//go:build pprof

// Profiling build (go build -tags pprof): serves net/http/pprof on 127.0.0.1:6060, for
// profiling under bench/backend.sh. Never part of the image.
package main

import (
	"net/http"
	_ "net/http/pprof"
)

func init() {
	go func() { _ = http.ListenAndServe("127.0.0.1:6060", nil) }()
}
