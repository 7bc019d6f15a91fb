package httpapi_test

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkGetTasks measures GET /api/tasks through the whole stack (HTTP on loopback,
// middleware, JWT, PostgreSQL). bench/backend.sh is the load test; this is for profiling:
//
//	scripts/with-postgres.sh go test ./internal/httpapi -run XXX -bench GetTasks -cpuprofile cpu.out
func BenchmarkGetTasks(b *testing.B) {
	h := newHarness(b, map[string]string{"LOG_LEVEL": "info"}, nil)
	tok, _ := h.signup()
	h.createTask(tok, "buy milk", "2 litres")
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", h.srv.URL+"/api/tasks", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
