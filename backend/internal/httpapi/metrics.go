package httpapi

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds the service's Prometheus collectors on its own registry (one per server, so
// several servers can live in one test process).
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	shed     *prometheus.CounterVec

	// series caches the children of requests and latency per (method, route, status): the
	// vectors' WithLabelValues hashes and checks its label strings on every call. Bounded
	// (methods of unmatched requests are the client's to choose).
	series     sync.Map // seriesKey -> *series
	seriesSize atomic.Int32
}

type seriesKey struct {
	method, route string
	status        int
}

type series struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

const maxSeriesCached = 512

// observe counts one request and its latency.
func (m *Metrics) observe(method, route string, status int, seconds float64) {
	k := seriesKey{method, route, status}
	if v, ok := m.series.Load(k); ok {
		s := v.(*series)
		s.requests.Inc()
		s.latency.Observe(seconds)
		return
	}
	s := &series{
		requests: m.requests.WithLabelValues(method, route, strconv.Itoa(status)),
		latency:  m.latency.WithLabelValues(method, route),
	}
	if m.seriesSize.Load() < maxSeriesCached {
		if _, loaded := m.series.LoadOrStore(k, s); !loaded {
			m.seriesSize.Add(1)
		}
	}
	s.requests.Inc()
	s.latency.Observe(seconds)
}

// NewMetrics registers the HTTP metrics, Go/process collectors and, if pool is set, pool stats.
func NewMetrics(pool *pgxpool.Pool) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_shed_total",
			Help: "API requests answered 503 at once because a bound was reached, by bound.",
		}, []string{"reason"}),
	}
	m.Registry.MustRegister(m.requests, m.latency, m.shed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if pool != nil {
		m.Registry.MustRegister(&poolCollector{pool: pool})
	}
	return m
}

var (
	descAcquired  = prometheus.NewDesc("pgxpool_acquired_conns", "Connections currently acquired.", nil, nil)
	descIdle      = prometheus.NewDesc("pgxpool_idle_conns", "Idle connections in the pool.", nil, nil)
	descTotal     = prometheus.NewDesc("pgxpool_total_conns", "Total connections in the pool.", nil, nil)
	descMax       = prometheus.NewDesc("pgxpool_max_conns", "Maximum size of the pool.", nil, nil)
	descAcqCount  = prometheus.NewDesc("pgxpool_acquire_count_total", "Successful acquires.", nil, nil)
	descAcqDur    = prometheus.NewDesc("pgxpool_acquire_duration_seconds_total", "Total time spent acquiring connections.", nil, nil)
	descEmptyAcq  = prometheus.NewDesc("pgxpool_empty_acquire_count_total", "Acquires that had to wait for a connection.", nil, nil)
	descCancelAcq = prometheus.NewDesc("pgxpool_canceled_acquire_count_total", "Acquires cancelled by their context.", nil, nil)
	descNewConns  = prometheus.NewDesc("pgxpool_new_conns_count_total", "Connections opened.", nil, nil)
)

type poolCollector struct{ pool *pgxpool.Pool }

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAcquired, descIdle, descTotal, descMax, descAcqCount, descAcqDur, descEmptyAcq, descCancelAcq, descNewConns} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(descAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(descIdle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(descTotal, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(descMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(descAcqCount, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(descAcqDur, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(descEmptyAcq, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(descCancelAcq, prometheus.CounterValue, float64(s.CanceledAcquireCount()))
	ch <- prometheus.MustNewConstMetric(descNewConns, prometheus.CounterValue, float64(s.NewConnsCount()))
}
