package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/store"
	"github.com/tally-finops/tally/internal/weekly"
)

// DefaultWeeklySchedule writes last week's reports on Monday at 00:30 UTC, after the
// collector's allocation job has written the week's last hour (at 00:10).
const DefaultWeeklySchedule = "30 0 * * 1"

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
}

// Weekly writes the weekly reports of the last complete week on a schedule.
type Weekly struct {
	opts     WeeklyOptions
	store    *store.Store
	log      *slog.Logger
	schedule cron.Schedule
	running  sync.Mutex
	runs     *prometheus.CounterVec
	last     prometheus.Gauge
}

// Outcomes of a run, the "result" label of tally_api_weekly_runs_total.
const (
	WeeklyWritten = "written"
	WeeklySkipped = "skipped" // the week's files are there already
	WeeklyNoData  = "nodata"
	WeeklyBusy    = "busy" // a run was still going
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
	w := &Weekly{
		opts: opts, store: st, log: logger.With("component", "weekly"), schedule: sched,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_api_weekly_runs_total",
			Help: "Scheduled runs of the weekly reports, by result: written, skipped, nodata, busy or failed.",
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
func (w *Weekly) Run(ctx context.Context) {
	l := cronLogger{w.log}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(l), cron.WithChain(cron.Recover(l), cron.SkipIfStillRunning(l)))
	c.Schedule(w.schedule, cron.FuncJob(func() { _, _ = w.RunOnce(ctx) }))
	c.Start()
	w.log.Info("weekly reports scheduled", "schedule", w.opts.Schedule, "next", w.schedule.Next(w.opts.Now().UTC()), "dir", w.opts.Dir)
	<-ctx.Done()
	<-c.Stop().Done()
}

// RunOnce writes the last complete week's reports into Dir/<YYYY-Www>/ unless all of them
// are there already, and returns the outcome. It never runs twice at once: a call while
// another runs returns WeeklyBusy.
func (w *Weekly) RunOnce(ctx context.Context) (string, error) {
	if !w.running.TryLock() {
		w.runs.WithLabelValues(WeeklyBusy).Inc()
		w.log.Warn("weekly reports still being written; this run is skipped")
		return WeeklyBusy, nil
	}
	defer w.running.Unlock()
	result, err := w.write(ctx)
	w.runs.WithLabelValues(result).Inc()
	if result == WeeklyWritten || result == WeeklySkipped {
		w.last.SetToCurrentTime()
	}
	return result, err
}

func (w *Weekly) write(ctx context.Context) (string, error) {
	now := w.opts.Now()
	year, week := now.UTC().AddDate(0, 0, -7).ISOWeek() // the last complete ISO week
	dir := filepath.Join(w.opts.Dir, weekName(year, week))
	if complete(dir) {
		w.log.Debug("weekly reports already written", "week", weekName(year, week), "dir", dir)
		return WeeklySkipped, nil
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	start := time.Now()
	res, err := weekly.Write(ctx, w.store, weekly.Options{Cluster: w.opts.Cluster, Year: year, Week: week, Dir: dir, Now: now, Policy: w.opts.Policy})
	switch {
	case errors.Is(err, weekly.ErrNoData):
		w.log.Warn("no cost data for the week; no reports written", "week", weekName(year, week), "cluster", w.opts.Cluster)
		return WeeklyNoData, err
	case err != nil:
		w.log.Error("weekly reports failed; the next run retries", "week", weekName(year, week), "cluster", w.opts.Cluster, "err", err)
		return WeeklyFailed, err
	}
	w.log.Info("weekly reports written", "week", weekName(year, week), "dir", dir, "files", len(res.Files), "took", time.Since(start).Round(time.Millisecond))
	return WeeklyWritten, nil
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
