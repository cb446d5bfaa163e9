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

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/weekly"
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
	writeWeekFiles(t, dir, "2026-W11")
	if result, err := w.RunOnce(context.Background()); result != WeeklySkipped || err != nil {
		t.Errorf("RunOnce = %s, %v; want skipped", result, err)
	}
	w.running.Lock()
	if result, err := w.RunOnce(context.Background()); result != WeeklyBusy || err != nil {
		t.Errorf("RunOnce while running = %s, %v; want busy", result, err)
	}
	w.running.Unlock()
	want := `
# HELP tally_api_weekly_runs_total Scheduled runs of the weekly reports, by result: written, skipped, nodata, pending, busy or failed.
# TYPE tally_api_weekly_runs_total counter
tally_api_weekly_runs_total{result="busy"} 1
tally_api_weekly_runs_total{result="skipped"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tally_api_weekly_runs_total"); err != nil {
		t.Error(err)
	}
}

// writeWeekFiles writes every file of a week, as a run that completed would.
func writeWeekFiles(t *testing.T, dir, week string) {
	t.Helper()
	for _, name := range weeklyFiles {
		path := filepath.Join(dir, week, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWeeklyRunStopsWithContext(t *testing.T) {
	// The week is written already: the run at start needs no store.
	dir := t.TempDir()
	writeWeekFiles(t, dir, "2026-W11")
	clock := func() time.Time { return time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC) }
	w, err := NewWeekly(WeeklyOptions{Schedule: DefaultWeeklySchedule, Cluster: "prod", Dir: dir, Policy: rightsizing.DefaultPolicy(), Now: clock}, nil, nil, nil)
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

// weekRow is one allocated container-hour of cluster prod in the hour at h.
func weekRow(h time.Time) model.Allocation {
	return model.Allocation{Cluster: "prod", Hour: h, Node: "n1", Namespace: "shop", Workload: model.WorkloadRef{Kind: "Deployment", Name: "web"},
		Pod: "web-0", Container: "app", RunHours: 1, CPUCoreHours: 1, CPURequestCoreHours: 1, CPUUsageCoreHours: 0.5, CPUCost: 0.04,
		RAMByteHours: 1 << 30, RAMRequestByteHours: 1 << 30, RAMUsageByteHours: 1 << 29, RAMCost: 0.005}
}

// A week is published only once all its hours are allocated: at Monday 00:30 the allocation
// of Sunday's last hours is late, so the run is pending and writes nothing (before, it wrote
// a short week for good); once the watermark passes the week's end, the next run writes it.
// Weeks missed while the schedule was not running are caught up, oldest first.
func TestWeeklyWaitsForAllocationAndCatchesUp(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	w10, w11, w12 := weekly.WeekStart(2026, 10), weekly.WeekStart(2026, 11), weekly.WeekStart(2026, 12)
	if err := s.InsertAllocations(ctx, []model.Allocation{weekRow(w10.Add(time.Hour)), weekRow(w11.Add(time.Hour)), weekRow(w12.Add(-time.Hour))}); err != nil {
		t.Fatal(err)
	}
	setAllocated := func(at time.Time) {
		t.Helper()
		if err := s.SetWatermark(ctx, model.Watermark{Cluster: "prod", Job: model.JobAllocation, Time: at}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	writeWeekFiles(t, dir, "2026-W09") // the newest week written before an outage
	clock := w12.Add(30 * time.Minute) // Monday 00:30 after 2026-W11
	w, err := NewWeekly(WeeklyOptions{Schedule: DefaultWeeklySchedule, Cluster: "prod", Dir: dir, Policy: rightsizing.DefaultPolicy(),
		Now: func() time.Time { return clock }}, s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Allocated up to Sunday 22:00 of W11: W10 is written, W11 waits.
	setAllocated(w12.Add(-2 * time.Hour))
	if result, err := w.RunOnce(ctx); result != WeeklyPending || err != nil {
		t.Fatalf("RunOnce with W11 not allocated = %s, %v; want pending", result, err)
	}
	if !complete(filepath.Join(dir, "2026-W10")) {
		t.Error("the missed week 2026-W10 was not caught up")
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-W11")); !os.IsNotExist(err) {
		t.Errorf("2026-W11 written before its hours were all allocated: %v", err)
	}
	if !w.retry.Load() {
		t.Error("a pending week is not retried")
	}

	// The allocation catches up: the retry writes W11, with its last hour.
	setAllocated(w12)
	clock = clock.Add(15 * time.Minute)
	if result, err := w.RunOnce(ctx); result != WeeklyWritten || err != nil {
		t.Fatalf("RunOnce once allocated = %s, %v; want written", result, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "2026-W11", weekly.FileCostsByNamespace))
	if err != nil {
		t.Fatal(err)
	}
	// Two hours of W11: 2 × (0.04 + 0.005) = 0.09 for shop.
	if !strings.Contains(string(b), "shop,0.0900") {
		t.Errorf("2026-W11 costs_by_namespace.csv lacks the week's two hours (shop 0.0900):\n%s", b)
	}
	if w.retry.Load() {
		t.Error("still retrying after every week was written")
	}
	if result, err := w.RunOnce(ctx); result != WeeklySkipped || err != nil {
		t.Errorf("RunOnce after all was written = %s, %v; want skipped", result, err)
	}
}
