package jobs

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/relink/relink/models"
	"github.com/relink/relink/providers"
)

// Metrics are Relink's Prometheus metrics: counters the health engine bumps as it works,
// and gauges read from the database at scrape time (connections by status, the outbox,
// River's queue). Labels are providers, statuses, outcomes, reasons and job states only:
// never a token, an email address or a name.
type Metrics struct {
	registry    *prometheus.Registry
	checks      *prometheus.CounterVec
	errors      *prometheus.CounterVec
	renewals    *prometheus.CounterVec
	sweepTime   prometheus.Histogram
	sweepSize   prometheus.Histogram
	lastSweepAt prometheus.Gauge
}

// scrapeEvery bounds how often a scrape reads the database: scrapes in between get the
// last figures, so a burst of requests to /metrics costs three queries at most.
const scrapeEvery = 15 * time.Second

// NewMetrics builds the registry, with Go's and the process's own collectors, and the
// database-backed gauges of store.
func NewMetrics(store *models.Store) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "relink_health_checks_total",
			Help: "Connection health checks by provider and outcome (ok, transient, action, skipped)."}, []string{"provider", "outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "relink_provider_errors_total",
			Help: "Provider failures seen by health checks, by provider and reason."}, []string{"provider", "reason"}),
		renewals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "relink_token_renewals_total",
			Help: "Token renewals by provider and result (ok, failed)."}, []string{"provider", "result"}),
		sweepTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "relink_sweep_duration_seconds",
			Help: "Duration of whole health sweeps.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}),
		sweepSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "relink_sweep_connections",
			Help: "Connections checked per health sweep.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		lastSweepAt: prometheus.NewGauge(prometheus.GaugeOpts{Name: "relink_sweep_last_completed_timestamp_seconds",
			Help: "When this process last completed a health sweep."}),
	}
	reg.MustRegister(m.checks, m.errors, m.renewals, m.sweepTime, m.sweepSize, m.lastSweepAt,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&dbCollector{store: store})
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{MaxRequestsInFlight: 2})
}

// Checked counts one check (connection.Metrics).
func (m *Metrics) Checked(provider, outcome string) {
	m.checks.WithLabelValues(provider, outcome).Inc()
}

// ProviderError counts one provider failure (connection.Metrics).
func (m *Metrics) ProviderError(provider string, reason providers.Reason) {
	m.errors.WithLabelValues(provider, string(reason)).Inc()
}

// Renewal counts one renewal attempt (connection.Metrics).
func (m *Metrics) Renewal(provider string, ok bool) {
	result := "ok"
	if !ok {
		result = "failed"
	}
	m.renewals.WithLabelValues(provider, result).Inc()
}

// Swept records one sweep (connection.Metrics).
func (m *Metrics) Swept(d time.Duration, checked int) {
	m.sweepTime.Observe(d.Seconds())
	m.sweepSize.Observe(float64(checked))
	m.lastSweepAt.SetToCurrentTime()
}

var (
	connectionsDesc = prometheus.NewDesc("relink_connections", "Connections by provider and status.", []string{"provider", "status"}, nil)
	emailsDesc      = prometheus.NewDesc("relink_emails", "Outbox emails by status (pending, sent, failed).", []string{"status"}, nil)
	queueDesc       = prometheus.NewDesc("relink_jobs", "River jobs by state.", []string{"state"}, nil)
	scrapeErrDesc   = prometheus.NewDesc("relink_metrics_scrape_error", "1 when the last database read for metrics failed.", nil, nil)
)

// dbCollector reads the gauges from the database at most once per scrapeEvery.
type dbCollector struct {
	store *models.Store
	mu    sync.Mutex
	at    time.Time
	last  []prometheus.Metric
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connectionsDesc
	ch <- emailsDesc
	ch <- queueDesc
	ch <- scrapeErrDesc
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil || time.Since(c.at) >= scrapeEvery {
		c.last, c.at = c.read(), time.Now()
	}
	for _, m := range c.last {
		ch <- m
	}
}

func (c *dbCollector) read() []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []prometheus.Metric
	failed := 0.0
	sys := c.store.System()
	if counts, err := sys.CountConnections(ctx); err == nil {
		for _, n := range counts {
			out = append(out, prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(n.Count), n.Provider, string(n.Status)))
		}
	} else {
		failed = 1
	}
	if counts, err := sys.CountNotifications(ctx); err == nil {
		for status, n := range counts {
			out = append(out, prometheus.MustNewConstMetric(emailsDesc, prometheus.GaugeValue, float64(n), status))
		}
	} else {
		failed = 1
	}
	if counts, err := sys.CountJobs(ctx); err == nil {
		// The queue-depth states are always there, zero or not, so alerts see them.
		for _, state := range []string{"available", "scheduled", "retryable", "running"} {
			counts[state] += 0
		}
		for state, n := range counts {
			out = append(out, prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), state))
		}
	} else {
		failed = 1
	}
	return append(out, prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed))
}
