package httpapi

import (
	"math"
	"net/http"
	"strings"
	"sync/atomic"
)

// Memory arithmetic. The process must stay under its container limit however many large
// requests arrive at once, so what a request may hold is budgeted from the Go memory limit L
// (GOMEMLIMIT; the server derives it from the container limit, see cmd/server):
//
//	L = BaseReserve + MaxInFlight × PerRequest + BodyFactor × BodyBudget
//
// BaseReserve covers the runtime, code, the pgx pool and metrics (idle RSS is about 15 MiB).
// PerRequest covers a request's goroutine stack, bufio reader and writer, pgx buffers and its
// small JSON answer. A request body is held twice at most (the raw bytes, kept to check them,
// and the decoded strings), hence BodyFactor. Each request reserves its Content-Length (1 MiB
// when unknown) of BodyBudget before its body is read; without room it gets 503 at once. With
// the chart's 128Mi limit, L = 96 MiB and MaxInFlight = 128: BodyBudget = (96-24-4)/2 = 34 MiB,
// i.e. 34 concurrent 1 MiB bodies, and any number of small ones up to MaxInFlight.
const (
	BaseReserve = 24 << 20
	PerRequest  = 32 << 10
	BodyFactor  = 2
)

// Limits bounds what the server holds at once.
type Limits struct {
	MaxInFlight int   // API requests being served
	BodyBudget  int64 // bytes of request bodies being held
}

// LimitsFor sizes the body budget from the Go memory limit (math.MaxInt64: none).
func LimitsFor(memLimit int64, maxInFlight int) Limits {
	l := Limits{MaxInFlight: maxInFlight}
	if memLimit <= 0 || memLimit == math.MaxInt64 {
		l.BodyBudget = int64(maxInFlight) * MaxBodyBytes
		return l
	}
	l.BodyBudget = (memLimit - BaseReserve - int64(maxInFlight)*PerRequest) / BodyFactor
	// One largest body is always admitted, or nothing large could ever be sent.
	l.BodyBudget = max(l.BodyBudget, MaxBodyBytes)
	return l
}

// admission enforces Limits and the per-request deadline.
type admission struct {
	limits   Limits
	slots    chan struct{}
	bodyUsed atomic.Int64
}

func newAdmission(l Limits) *admission {
	return &admission{limits: l, slots: make(chan struct{}, l.MaxInFlight)}
}

// bodyReservation is what a request's body may occupy: its declared length, or the limit.
func bodyReservation(r *http.Request) int64 {
	switch {
	case r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0:
		return 0
	case r.ContentLength < 0 || r.ContentLength > MaxBodyBytes:
		return MaxBodyBytes
	default:
		return r.ContentLength
	}
}

// shed answers 503 at once: queueing would only grow goroutines and memory while every
// request waits longer.
func shed(w http.ResponseWriter, why string) {
	w.Header().Set("Retry-After", RetryAfterSeconds)
	writeError(w, http.StatusServiceUnavailable, "server busy ("+why+"); retry shortly")
}

// admit serves an API request within the bounds (its deadline is set by observe, on the same
// request copy as the request state). Probes and metrics are never shed.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, serve http.Handler) {
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		serve.ServeHTTP(w, r)
		return
	}
	a := s.admission
	select {
	case a.slots <- struct{}{}:
		defer func() { <-a.slots }()
	default:
		s.metrics.shed.WithLabelValues("in_flight").Inc()
		shed(w, "too many requests in flight")
		return
	}
	if n := bodyReservation(r); n > 0 {
		if a.bodyUsed.Add(n) > a.limits.BodyBudget {
			a.bodyUsed.Add(-n)
			s.metrics.shed.WithLabelValues("body_memory").Inc()
			shed(w, "too many large requests")
			return
		}
		defer a.bodyUsed.Add(-n)
	}
	serve.ServeHTTP(w, r)
}
