package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the collector's self-observability, registered on a passed-in registry.
type metrics struct {
	jobDuration  *prometheus.HistogramVec
	jobErrors    *prometheus.CounterVec
	lastSuccess  *prometheus.GaugeVec
	watermarkLag *prometheus.GaugeVec
	rowsWritten  *prometheus.CounterVec
	lostSeconds  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, promQueries func() float64) *metrics {
	m := &metrics{
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tally_collector_job_duration_seconds",
			Help:    "How long one run of a collector job took.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}, []string{"job"}),
		jobErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_collector_job_errors_total",
			Help: "Runs of a collector job that failed.",
		}, []string{"job"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tally_collector_job_last_success_timestamp_seconds",
			Help: "Unix time of a job's last successful run.",
		}, []string{"job"}),
		watermarkLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tally_collector_watermark_lag_seconds",
			Help: "How far a job's watermark trails the time it could have reached.",
		}, []string{"job"}),
		rowsWritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_collector_rows_written_total",
			Help: "Rows written to ClickHouse, by table.",
		}, []string{"table"}),
		lostSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_collector_given_up_seconds_total",
			Help: "History a job gave up because it was older than --backfill when the job resumed.",
		}, []string{"job"}),
	}
	reg.MustRegister(m.jobDuration, m.jobErrors, m.lastSuccess, m.watermarkLag, m.rowsWritten, m.lostSeconds,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tally_collector_prometheus_queries_total",
			Help: "Queries sent to Prometheus.",
		}, promQueries))
	return m
}
