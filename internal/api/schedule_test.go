package api

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tally-finops/tally/internal/rightsizing"
)

func TestNewWeeklyChecksOptions(t *testing.T) {
	good := WeeklyOptions{Schedule: DefaultWeeklySchedule, Cluster: "prod", Dir: t.TempDir(), Policy: rightsizing.DefaultPolicy()}
	bad := rightsizing.DefaultPolicy()
	bad.CPUPercentile = 100
	tests := []struct {
		name string
		edit func(*WeeklyOptions)
		want string
	}{
		{"bad schedule", func(o *WeeklyOptions) { o.Schedule = "every monday" }, `"every monday" is not a cron expression`},
		{"six fields", func(o *WeeklyOptions) { o.Schedule = "0 30 0 * * 1" }, "is not a cron expression"},
		{"no cluster", func(o *WeeklyOptions) { o.Cluster = "" }, "need a cluster"},
		{"no directory", func(o *WeeklyOptions) { o.Dir = "" }, "need a directory"},
		{"bad policy", func(o *WeeklyOptions) { o.Policy = bad }, "cpu percentile 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.edit(&o)
			if _, err := NewWeekly(o, nil, nil, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want one with %q", err, tc.want)
			}
		})
	}
	if err := CheckWeeklySchedule("30 0 * * 1"); err != nil {
		t.Error(err)
	}
	if _, err := NewWeekly(good, nil, nil, nil); err != nil {
		t.Error(err)
	}
}

// A week whose files are all there is not written again, and no store is needed to find
// that out; a run while another runs is skipped.
func TestWeeklySkipsWrittenWeekAndNeverRunsTwice(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	clock := time.Date(2026, 3, 16, 0, 30, 0, 0, time.UTC) // Monday: week 2026-W11 just ended
	w, err := NewWeekly(WeeklyOptions{Schedule: DefaultWeeklySchedule, Cluster: "prod", Dir: dir, Policy: rightsizing.DefaultPolicy(),
		Now: func() time.Time { return clock }}, nil, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range weeklyFiles {
		path := filepath.Join(dir, "2026-W11", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if result, err := w.RunOnce(context.Background()); result != WeeklySkipped || err != nil {
		t.Errorf("RunOnce = %s, %v; want skipped", result, err)
	}
	w.running.Lock()
	if result, err := w.RunOnce(context.Background()); result != WeeklyBusy || err != nil {
		t.Errorf("RunOnce while running = %s, %v; want busy", result, err)
	}
	w.running.Unlock()
	want := `
# HELP tally_api_weekly_runs_total Scheduled runs of the weekly reports, by result: written, skipped, nodata, busy or failed.
# TYPE tally_api_weekly_runs_total counter
tally_api_weekly_runs_total{result="busy"} 1
tally_api_weekly_runs_total{result="skipped"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tally_api_weekly_runs_total"); err != nil {
		t.Error(err)
	}
}

func TestWeeklyRunStopsWithContext(t *testing.T) {
	w, err := NewWeekly(WeeklyOptions{Schedule: DefaultWeeklySchedule, Cluster: "prod", Dir: t.TempDir(), Policy: rightsizing.DefaultPolicy()}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
