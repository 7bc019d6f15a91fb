package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/todo-chatbot/todo-chatbot/backend/internal/httpapi"
	"github.com/todo-chatbot/todo-chatbot/backend/internal/testdb"
)

func TestLimitsArithmetic(t *testing.T) {
	// The chart: 128Mi container limit, GOMEMLIMIT = 3/4 of it = 96 MiB, 128 requests in flight.
	l := httpapi.LimitsFor(96<<20, 128)
	if want := int64(96<<20-httpapi.BaseReserve-128*httpapi.PerRequest) / httpapi.BodyFactor; l.BodyBudget != want || l.MaxInFlight != 128 {
		t.Fatalf("%+v, want budget %d", l, want)
	}
	// Worst case held at once stays under the Go limit, itself under the container limit.
	if worst := httpapi.BaseReserve + 128*httpapi.PerRequest + httpapi.BodyFactor*l.BodyBudget; worst > 96<<20 {
		t.Fatalf("worst case %d above the limit", worst)
	}
	if l := httpapi.LimitsFor(16<<20, 128); l.BodyBudget != httpapi.MaxBodyBytes {
		t.Fatalf("a tiny limit still admits one largest body: %+v", l)
	}
}

// lockTasks holds an ACCESS EXCLUSIVE lock on tasks until the returned func is called.
func lockTasks(t *testing.T) (unlock func()) {
	return testdb.HoldLock(t, "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
}

// A locked table: requests end at their deadline with 503 and Retry-After instead of waiting,
// and /readyz stays 200 although every pool connection is busy, because PostgreSQL answers.
func TestDeadlineAndReadinessUnderTableLock(t *testing.T) {
	h := newHarness(t, map[string]string{"REQUEST_TIMEOUT": "700ms"}, nil)
	tok, _ := h.signup()
	h.createTask(tok, "before the lock", "")
	unlock := lockTasks(t)
	var wg sync.WaitGroup
	results := make([]resp, 16)
	took := make([]time.Duration, len(results))
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			if i%2 == 0 {
				results[i] = h.req("GET", "/api/tasks", tok, nil)
			} else {
				results[i] = h.req("POST", "/api/tasks", tok, `{"title":"during the lock"}`)
			}
			took[i] = time.Since(start)
		}()
	}
	time.Sleep(200 * time.Millisecond) // the pool is exhausted now
	start := time.Now()
	if r := h.req("GET", "/readyz", "", nil); r.status != 200 || time.Since(start) > time.Second {
		t.Errorf("readyz with the pool busy and PostgreSQL up: %d after %v", r.status, time.Since(start))
	}
	wg.Wait()
	for i, r := range results {
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || took[i] > 5*time.Second {
			t.Errorf("request %d under the lock: %d %s after %v", i, r.status, r.body, took[i])
		}
	}
	// The statements still queued in PostgreSQL behind the lock run when it goes: none of the
	// creates the client was told failed may commit then.
	unlock()
	time.Sleep(300 * time.Millisecond)
	if tasks := h.tasks(tok); len(tasks) != 1 {
		t.Fatalf("503'd creates were written: %+v", tasks)
	}
}

// Writes stuck behind a row lock past their deadline answer 503, and stay undone when the lock
// goes: a create (behind the user's task counter) and a restore (behind the task). Unlike a
// table lock, a row lock makes a statement wait while it executes, past its parse: without a
// guard it would commit once the lock goes.
func TestWritesPastTheirDeadlineBehindARowLockNeverHappen(t *testing.T) {
	h := newHarness(t, map[string]string{"REQUEST_TIMEOUT": "700ms"}, nil)
	tok, email := h.signup()
	gone := h.createTask(tok, "deleted before the lock", "")
	if r := h.req("DELETE", fmt.Sprintf("/api/tasks/%d", gone.ID), tok, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	// Every connection of the pool has run both statements before: they wait while executing.
	for range 10 {
		h.createTask(tok, "warm-up", "")
		h.req("POST", fmt.Sprintf("/api/tasks/%d/restore", 1<<40), tok, nil)
	}
	before := len(h.tasks(tok))

	unlockUser := testdb.HoldLock(t, "SELECT 1 FROM users WHERE lower(email) = lower($1) FOR UPDATE", email)
	if r := h.req("POST", "/api/tasks", tok, `{"title":"during the lock"}`); r.status != http.StatusServiceUnavailable {
		t.Errorf("create behind the user's lock: %d %s, want 503", r.status, r.body)
	}
	unlockTask := testdb.HoldLock(t, "SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", gone.ID)
	if r := h.req("POST", fmt.Sprintf("/api/tasks/%d/restore", gone.ID), tok, nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("restore behind the task's lock: %d %s, want 503", r.status, r.body)
	}
	unlockUser()
	unlockTask()
	time.Sleep(300 * time.Millisecond) // what a write still queued in PostgreSQL would need now
	if got := h.tasks(tok); len(got) != before {
		titles := []string{}
		for _, task := range got {
			titles = append(titles, task.Title)
		}
		t.Fatalf("after the locks: %d tasks, want %d (a 503'd write happened): %q", len(got), before, titles)
	}
}

// Beyond MaxInFlight an API request is refused at once (503, Retry-After) instead of queueing;
// probes are never refused.
func TestInFlightBound(t *testing.T) {
	h := newHarnessWith(t, map[string]string{"REQUEST_TIMEOUT": "3s"}, nil, func(s *httpapi.Server) {
		s.SetLimits(httpapi.Limits{MaxInFlight: 3, BodyBudget: 8 << 20})
	})
	tok, _ := h.signup()
	unlock := lockTasks(t)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); h.req("GET", "/api/tasks", tok, nil) }()
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	r := h.req("GET", "/api/me", tok, nil)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || time.Since(start) > time.Second {
		t.Fatalf("request beyond the bound: %d %s after %v", r.status, r.body, time.Since(start))
	}
	if r := h.req("GET", "/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz shed: %d", r.status)
	}
	if r := h.req("GET", "/readyz", "", nil); r.status != 200 {
		t.Fatalf("readyz shed: %d", r.status)
	}
	unlock()
	wg.Wait()
	if r := h.req("GET", "/api/me", tok, nil); r.status != 200 {
		t.Fatalf("after the burst: %d", r.status)
	}
}

// Large bodies held at once are bounded by the body budget; small requests still pass.
func TestBodyBudget(t *testing.T) {
	h := newHarnessWith(t, nil, nil, func(s *httpapi.Server) {
		s.SetLimits(httpapi.Limits{MaxInFlight: 100, BodyBudget: 3 << 19}) // 1.5 MiB
	})
	tok, _ := h.signup()
	// A client uploading 1 MiB slowly holds its reservation.
	pr, pw := io.Pipe()
	slow, _ := http.NewRequest("POST", h.srv.URL+"/api/tasks", pr)
	slow.ContentLength = httpapi.MaxBodyBytes
	slow.Header.Set("Authorization", "Bearer "+tok)
	done := make(chan int, 1)
	go func() {
		resp, err := h.srv.Client().Do(slow)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	_, _ = pw.Write([]byte(`{"title":"`))
	time.Sleep(200 * time.Millisecond)
	big := `{"title":"x","description":"` + strings.Repeat("d", httpapi.MaxBodyBytes-40) + `"}`
	if r := h.req("POST", "/api/tasks", tok, big); r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("second large body while one is held: %d %.100s", r.status, r.body)
	}
	if r := h.req("POST", "/api/tasks", tok, `{"title":"small"}`); r.status != 201 {
		t.Fatalf("small body: %d %s", r.status, r.body)
	}
	_ = pw.CloseWithError(io.ErrUnexpectedEOF)
	<-done
	// The reservation is released when the handler returns, just after its answer is sent.
	r := h.req("POST", "/api/tasks", tok, big)
	for deadline := time.Now().Add(5 * time.Second); r.status == http.StatusServiceUnavailable && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		r = h.req("POST", "/api/tasks", tok, big)
	}
	if r.status != http.StatusBadRequest {
		t.Fatalf("large body once room is back: %d %.100s", r.status, r.body)
	}
}
