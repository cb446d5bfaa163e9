// Package collector runs tally's scheduled collection jobs: inventory (every minute), usage
// (every 5 minutes, completed intervals only), prices (hourly), allocation (hourly, the cost
// of every container for each hour whose usage is complete) and retention (daily). Each job
// fetches from its source, turns what it got into model structs and writes them to ClickHouse,
// then moves its watermark. A job resumes at its watermark after a restart or an outage and
// catches up from Prometheus history, bounded by Options.Backfill; an interval already written
// is never written again.
package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/tally-finops/tally/internal/kube"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/pricing"
	"github.com/tally-finops/tally/internal/prom"
	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/store"
)

// Job names: the watermarks' keys and the metrics' job label.
const (
	JobInventory  = "inventory"
	JobUsage      = "usage"
	JobPrices     = "prices"
	JobAllocation = model.JobAllocation
	JobRetention  = "retention"
	// JobRecommendations stores each day's rightsizing recommendations.
	JobRecommendations = "recommendations"
)

// Options configure the collector. Zero values take the defaults.
type Options struct {
	Cluster  string
	Backfill time.Duration // how far back a job catches up; default 14 days
	// UsageDelay is how long after a minute ends before it is collected; default 2m. It
	// must cover the scrape interval and Prometheus's ingestion: usage reads the sample
	// after each interval to split the CPU time between two samples (prom.Client.Usage).
	// The usage job runs on multiples of UsageEvery, so it collects up to
	// now − UsageDelay rounded down to UsageEvery.
	UsageDelay time.Duration
	// UsageEvery is how often the usage job runs and the size its intervals are rounded
	// to: a whole number of minutes dividing an hour; default 5m.
	UsageEvery    time.Duration
	Chunk         time.Duration // the longest interval written as one batch; default 40m
	KubeStateStep time.Duration // resolution of inventory rebuilt from kube-state-metrics; default 5m
	Retention     time.Duration // raw samples and snapshots older than this are dropped; 0 keeps all; default 35 days
	JobTimeout    time.Duration // deadline of one job run; default 30m
	// RightsizingWindow is the usage window of each day's stored recommendations; default
	// 14 days. Rightsizing is their policy; the zero value takes rightsizing.DefaultPolicy.
	RightsizingWindow time.Duration
	Rightsizing       rightsizing.Policy
	// Clock is the current time; default time.Now. collector --once --as-of sets it to
	// replay a recorded history as if it were then.
	Clock func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Backfill <= 0 {
		o.Backfill = 14 * 24 * time.Hour
	}
	if o.UsageDelay <= 0 {
		o.UsageDelay = 2 * time.Minute
	}
	if o.UsageEvery <= 0 {
		o.UsageEvery = 5 * time.Minute
	}
	if o.Chunk <= 0 {
		o.Chunk = 40 * time.Minute
	}
	if o.KubeStateStep <= 0 {
		o.KubeStateStep = 5 * time.Minute
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 30 * time.Minute
	}
	if o.RightsizingWindow <= 0 {
		o.RightsizingWindow = 14 * 24 * time.Hour
	}
	if o.Rightsizing == (rightsizing.Policy{}) {
		o.Rightsizing = rightsizing.DefaultPolicy()
	}
	return o
}

// Deps are the collector's sources and its store.
type Deps struct {
	Store     *store.Store
	Prom      *prom.Client
	Inventory *kube.Inventory
	Prices    *pricing.Book
}

// Collector runs the jobs.
type Collector struct {
	opts    Options
	deps    Deps
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time
	ready   atomic.Bool
	events  map[string]time.Time // events written by this process in the last eventMemory, by key → timestamp
}

// New builds a collector. reg receives its self-metrics.
func New(opts Options, deps Deps, logger *slog.Logger, reg prometheus.Registerer) (*Collector, error) {
	if opts.Cluster == "" {
		return nil, errors.New("collector: cluster name is required")
	}
	if deps.Store == nil || deps.Prom == nil || deps.Inventory == nil || deps.Prices == nil {
		return nil, errors.New("collector: store, Prometheus client, inventory and price book are all required")
	}
	opts = opts.withDefaults()
	if e := opts.UsageEvery; e%time.Minute != 0 || time.Hour%e != 0 {
		return nil, fmt.Errorf("collector: usage interval %s: must be a whole number of minutes that divides an hour", e)
	}
	if opts.Backfill < opts.UsageDelay+opts.UsageEvery {
		return nil, fmt.Errorf("collector: backfill %s: shorter than the usage delay and interval (%s + %s), nothing would ever be collected", opts.Backfill, opts.UsageDelay, opts.UsageEvery)
	}
	if k := opts.KubeStateStep; k%time.Minute != 0 || time.Hour%k != 0 {
		return nil, fmt.Errorf("collector: kube-state-metrics step %s: must be a whole number of minutes that divides an hour", k)
	}
	if err := opts.Rightsizing.Validate(); err != nil {
		return nil, fmt.Errorf("collector: rightsizing policy: %w", err)
	}
	c := &Collector{
		opts:   opts,
		deps:   deps,
		log:    logger.With("component", "collector"),
		now:    func() time.Time { return time.Now().UTC() },
		events: map[string]time.Time{},
	}
	if opts.Clock != nil {
		c.now = func() time.Time { return opts.Clock().UTC() }
	}
	c.metrics = newMetrics(reg, func() float64 { return float64(deps.Prom.QueryCount()) })
	return c, nil
}

// jobFunc runs one job. ctx carries the job's deadline but not the shutdown; stop closes at
// shutdown, and a job that works in batches stops after the batch in flight.
type jobFunc func(ctx context.Context, now time.Time, stop <-chan struct{}) error

func (c *Collector) jobs() []struct {
	name, schedule string
	run            jobFunc
} {
	return []struct {
		name, schedule string
		run            jobFunc
	}{
		{JobInventory, "* * * * *", c.inventory},
		{JobUsage, fmt.Sprintf("*/%d * * * *", int(c.opts.UsageEvery/time.Minute)), c.usage},
		{JobPrices, "0 * * * *", c.prices},
		{JobAllocation, "10 * * * *", c.allocate},
		{JobRecommendations, "20 0 * * *", c.recommendations},
		{JobRetention, "30 3 * * *", c.retention},
	}
}

// RunOnce runs every job once for everything due up to now, catch-up included, and returns
// the jobs' errors joined.
func (c *Collector) RunOnce(ctx context.Context) error {
	var errs []error
	for _, j := range c.jobs() {
		errs = append(errs, c.runJob(ctx, j.name, j.run))
	}
	return errors.Join(errs...)
}

// Run catches up, then runs the jobs on their schedules until ctx ends. A job still running
// when ctx ends finishes its batch first (its own deadline still applies).
func (c *Collector) Run(ctx context.Context) error {
	if err := c.RunOnce(ctx); err != nil {
		c.log.Error("catch-up incomplete; the scheduled runs will retry", "err", err)
	}
	c.ready.Store(true)
	l := cronLogger{c.log}
	sched := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(l),
		cron.WithChain(cron.Recover(l), cron.SkipIfStillRunning(l)))
	for _, j := range c.jobs() {
		j := j
		if _, err := sched.AddFunc(j.schedule, func() { _ = c.runJob(ctx, j.name, j.run) }); err != nil {
			return fmt.Errorf("schedule job %s: %w", j.name, err)
		}
	}
	sched.Start()
	<-ctx.Done()
	c.log.Info("stopping: waiting for running jobs to finish their batch")
	<-sched.Stop().Done()
	return nil
}

// Ready reports whether the collector has caught up once and runs on schedule.
func (c *Collector) Ready() bool { return c.ready.Load() }

// runJob runs one job with its deadline, detached from ctx's cancellation so that a
// shutdown lets the batch in flight finish, and records the outcome.
func (c *Collector) runJob(ctx context.Context, name string, run jobFunc) error {
	stop := ctx.Done()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.JobTimeout)
	defer cancel()
	start := time.Now()
	err := run(ctx, c.now(), stop)
	c.metrics.jobDuration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	if err != nil {
		c.metrics.jobErrors.WithLabelValues(name).Inc()
		c.log.Error("job failed; it resumes from its watermark on the next run", "job", name, "err", err)
		return fmt.Errorf("job %s: %w", name, err)
	}
	c.metrics.lastSuccess.WithLabelValues(name).SetToCurrentTime()
	c.log.Debug("job done", "job", name, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// watermark returns a job's watermark, zero when it has none yet.
func (c *Collector) watermark(ctx context.Context, job string) (time.Time, error) {
	wms, err := c.deps.Store.Watermarks(ctx, c.opts.Cluster)
	if err != nil {
		return time.Time{}, err
	}
	for _, w := range wms {
		if w.Job == job {
			return w.Time, nil
		}
	}
	return time.Time{}, nil
}

func (c *Collector) setWatermark(ctx context.Context, job string, t, reachable time.Time) error {
	if err := c.deps.Store.SetWatermark(ctx, model.Watermark{Cluster: c.opts.Cluster, Job: job, Time: t}); err != nil {
		return err
	}
	c.metrics.watermarkLag.WithLabelValues(job).Set(reachable.Sub(t).Seconds())
	return nil
}

// cronLogger adapts slog to robfig/cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
