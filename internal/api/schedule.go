package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/store"
	"github.com/tally-finops/tally/internal/weekly"
)

// DefaultWeeklySchedule writes last week's reports on Monday at 00:30 UTC, after the
// collector's allocation job has normally written the week's last hour (at 00:10). A week
// whose hours are not all allocated by then is retried every WeeklyOptions.RetryEvery.
const DefaultWeeklySchedule = "30 0 * * 1"

// maxCatchUpWeeks bounds the weeks one run writes after an outage: the weeks after the
// newest one written, up to the last complete week, at most this many (the latest ones).
const maxCatchUpWeeks = 12

// WeeklyOptions configure the schedule that writes the weekly reports.
type WeeklyOptions struct {
	// Schedule is a standard five-field cron expression, in UTC.
	Schedule string
	Cluster  string
	// Dir is the reports directory; each week goes into Dir/<YYYY-Www>/.
	Dir    string
	Policy rightsizing.Policy
	// Timeout bounds one run. Default 30m.
	Timeout time.Duration
	// Now is the clock the last complete week is found from. Default time.Now.
	Now func() time.Time
	// RetryEvery is how soon a run that found a week not yet allocated, or failed, is
	// retried. Default 15m.
	RetryEvery time.Duration
}

// Weekly writes the weekly reports of the last complete week on a schedule.
type Weekly struct {
	opts     WeeklyOptions
	store    *store.Store
	log      *slog.Logger
	schedule cron.Schedule
	running  sync.Mutex
	retry    atomic.Bool // the last run left a week to write: retry it every RetryEvery
	runs     *prometheus.CounterVec
	last     prometheus.Gauge
}

// Outcomes of a run, the "result" label of tally_api_weekly_runs_total.
const (
	WeeklyWritten = "written"
	WeeklySkipped = "skipped" // the week's files are there already
	WeeklyNoData  = "nodata"
	WeeklyPending = "pending" // a week's hours are not all allocated yet: retried
	WeeklyBusy    = "busy"    // a run was still going
	WeeklyFailed  = "failed"
)

// NewWeekly checks the options; its metrics are registered on reg.
func NewWeekly(opts WeeklyOptions, st *store.Store, logger *slog.Logger, reg prometheus.Registerer) (*Weekly, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sched, err := parseSchedule(opts.Schedule)
	if err != nil {
		return nil, err
	}
	if opts.Cluster == "" {
		return nil, errors.New("weekly reports need a cluster")
	}
	if opts.Dir == "" {
		return nil, errors.New("weekly reports need a directory")
	}
	if err := opts.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("weekly reports: %w", err)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RetryEvery <= 0 {
		opts.RetryEvery = 15 * time.Minute
	}
	w := &Weekly{
		opts: opts, store: st, log: logger.With("component", "weekly"), schedule: sched,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_api_weekly_runs_total",
			Help: "Scheduled runs of the weekly reports, by result: written, skipped, nodata, pending, busy or failed.",
		}, []string{"result"}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tally_api_weekly_last_success_timestamp_seconds",
			Help: "Unix time of the last run that wrote the weekly reports or found them written.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{w.runs, w.last} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("weekly: register metrics: %w", err)
			}
		}
	}
	return w, nil
}

// CheckWeeklySchedule reports whether s is a cron expression WeeklyOptions.Schedule takes.
func CheckWeeklySchedule(s string) error {
	_, err := parseSchedule(s)
	return err
}

func parseSchedule(s string) (cron.Schedule, error) {
	sched, err := cron.ParseStandard(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a cron expression such as %q: %w", s, DefaultWeeklySchedule, err)
	}
	return sched, nil
}

// Run runs the schedule until ctx ends, then waits for a run in progress, which ctx's end
// cancels (it resumes on the next run: a week is only skipped once all its files are there).
// It runs once at start, to write the weeks missed while it was not running, and retries
// every RetryEvery while a week is left to write.
func (w *Weekly) Run(ctx context.Context) {
	l := cronLogger{w.log}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(l), cron.WithChain(cron.Recover(l), cron.SkipIfStillRunning(l)))
	c.Schedule(w.schedule, cron.FuncJob(func() { _, _ = w.RunOnce(ctx) }))
	c.Schedule(cron.Every(w.opts.RetryEvery), cron.FuncJob(func() {
		if w.retry.Load() {
			_, _ = w.RunOnce(ctx)
		}
	}))
	c.Start()
	w.log.Info("weekly reports scheduled", "schedule", w.opts.Schedule, "next", w.schedule.Next(w.opts.Now().UTC()), "dir", w.opts.Dir)
	done := make(chan struct{})
	go func() { defer close(done); _, _ = w.RunOnce(ctx) }()
	<-ctx.Done()
	<-c.Stop().Done()
	<-done
}

// RunOnce writes the reports of every week due — the last complete week and the weeks missed
// since the newest one written (at most maxCatchUpWeeks) — oldest first, into
// Dir/<YYYY-Www>/, and returns the outcome. A week is written only once all its hours are
// allocated (the collector's allocation watermark is at or past its end); until then the run
// is "pending". A week whose files are all there is not written again. It never runs twice at
// once: a call while another runs returns WeeklyBusy.
func (w *Weekly) RunOnce(ctx context.Context) (string, error) {
	if !w.running.TryLock() {
		w.runs.WithLabelValues(WeeklyBusy).Inc()
		w.log.Warn("weekly reports still being written; this run is skipped")
		return WeeklyBusy, nil
	}
	defer w.running.Unlock()
	result, err := w.write(ctx)
	w.runs.WithLabelValues(result).Inc()
	w.retry.Store(result == WeeklyPending || result == WeeklyFailed)
	if result == WeeklyWritten || result == WeeklySkipped {
		w.last.SetToCurrentTime()
	}
	return result, err
}

// isoWeek is an ISO 8601 week.
type isoWeek struct{ year, week int }

func (k isoWeek) String() string { return weekName(k.year, k.week) }
func (k isoWeek) end() time.Time { return weekly.WeekStart(k.year, k.week).AddDate(0, 0, 7) }
func (k isoWeek) before(o isoWeek) bool {
	return k.year < o.year || k.year == o.year && k.week < o.week
}

// due lists the weeks to write at now, oldest first: those after the newest complete week
// in Dir up to the last complete week (at most maxCatchUpWeeks), or, when Dir holds none,
// the last complete week alone (history before the first run is not written).
func (w *Weekly) due(now time.Time) []isoWeek {
	var last isoWeek
	last.year, last.week = weekly.LastCompleteWeek(now)
	var newest *isoWeek
	entries, _ := os.ReadDir(w.opts.Dir)
	for _, e := range entries {
		var k isoWeek
		if _, err := fmt.Sscanf(e.Name(), "%d-W%d", &k.year, &k.week); err != nil || k.String() != e.Name() {
			continue
		}
		if !last.before(k) && complete(filepath.Join(w.opts.Dir, e.Name())) && (newest == nil || newest.before(k)) {
			newest = &k
		}
	}
	if newest == nil {
		return []isoWeek{last}
	}
	var out []isoWeek
	for at := newest.end(); !at.After(weekly.WeekStart(last.year, last.week)); at = at.AddDate(0, 0, 7) {
		var k isoWeek
		k.year, k.week = at.ISOWeek()
		out = append(out, k)
	}
	if len(out) > maxCatchUpWeeks {
		out = out[len(out)-maxCatchUpWeeks:]
	}
	return out
}

func (w *Weekly) write(ctx context.Context) (string, error) {
	now := w.opts.Now()
	var todo []isoWeek
	for _, k := range w.due(now) {
		if complete(filepath.Join(w.opts.Dir, k.String())) {
			w.log.Debug("weekly reports already written", "week", k.String())
			continue
		}
		todo = append(todo, k)
	}
	if len(todo) == 0 {
		return WeeklySkipped, nil
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	allocated, err := w.allocatedUntil(ctx)
	if err != nil {
		w.log.Error("weekly reports: reading the allocation watermark failed; retried", "cluster", w.opts.Cluster, "err", err)
		return WeeklyFailed, err
	}
	result := WeeklyNoData
	var noData error
	for _, k := range todo {
		if allocated.Before(k.end()) {
			w.log.Info("weekly reports wait for the week's hours to be allocated; retried", "week", k.String(),
				"cluster", w.opts.Cluster, "allocated until", allocated, "week ends", k.end(), "retry every", w.opts.RetryEvery)
			return WeeklyPending, nil
		}
		start := time.Now()
		dir := filepath.Join(w.opts.Dir, k.String())
		res, err := weekly.Write(ctx, w.store, weekly.Options{Cluster: w.opts.Cluster, Year: k.year, Week: k.week, Dir: dir, Now: now, Policy: w.opts.Policy})
		switch {
		case errors.Is(err, weekly.ErrNoData):
			w.log.Warn("no cost data for the week; no reports written", "week", k.String(), "cluster", w.opts.Cluster)
			noData = err
			continue
		case err != nil:
			w.log.Error("weekly reports failed; retried", "week", k.String(), "cluster", w.opts.Cluster, "err", err)
			return WeeklyFailed, err
		}
		w.log.Info("weekly reports written", "week", k.String(), "dir", dir, "files", len(res.Files), "took", time.Since(start).Round(time.Millisecond))
		result = WeeklyWritten
	}
	if result == WeeklyNoData {
		return result, noData
	}
	return result, nil
}

// allocatedUntil is the collector's allocation watermark of the cluster: every hour before
// it is allocated. Zero when the collector has allocated nothing.
func (w *Weekly) allocatedUntil(ctx context.Context) (time.Time, error) {
	wms, err := w.store.Watermarks(ctx, w.opts.Cluster)
	if err != nil {
		return time.Time{}, err
	}
	for _, wm := range wms {
		if wm.Job == model.JobAllocation {
			return wm.Time, nil
		}
	}
	return time.Time{}, nil
}

// weeklyFiles are the files a complete week has.
var weeklyFiles = []string{weekly.FileCostsByNamespace, weekly.FileCostsByTeam, weekly.FileRightsizing, weekly.FileQoS, weekly.FileSummary}

// complete reports whether dir holds every weekly file.
func complete(dir string) bool {
	for _, name := range weeklyFiles {
		if info, err := os.Stat(filepath.Join(dir, name)); err != nil || !info.Mode().IsRegular() {
			return false
		}
	}
	return true
}

func weekName(year, week int) string { return fmt.Sprintf("%d-W%02d", year, week) }

// cronLogger adapts slog to robfig/cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
