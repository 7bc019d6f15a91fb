// Command floor is the benchmark's reference for latency: a net/http server that does none of
// the API's work. It answers every request with the bytes of one file, so wrk's figures
// against it are what this machine, Go's HTTP server and wrk cost on their own at that moment.
// bench/backend.sh serves it the real GET /api/tasks answer and loads it in the same rounds as
// the API: a p99 the floor shares is the machine's, not the server's.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	bodyFile := flag.String("body", "", "file whose bytes answer every request")
	contentType := flag.String("content-type", "application/json", "Content-Type of the answer")
	flag.Parse()
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(2)
	}
	length := strconv.Itoa(len(body))
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{*contentType}
		h["Content-Length"] = []string{length}
		_, _ = w.Write(body)
	})
	if err := http.ListenAndServe(*addr, handler); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}
