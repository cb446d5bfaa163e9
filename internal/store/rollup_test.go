package store

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

const mib = 1 << 20

// The rollups are filled by materialized views as samples are written; the expected values
// below are worked out by hand from the samples.
func TestUsageRollupsProduceExpectedSums(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	h10 := day.Add(10 * time.Hour)

	var samples []model.UsageSample
	// Pod a: 120 minutes from 10:00. CPU 0.1 on even minutes, 0.3 on odd ones; working set
	// 100 MiB + i MiB at minute i; 1 of 600 CFS periods throttled every minute.
	for i := 0; i < 120; i++ {
		cpu := 0.1
		if i%2 == 1 {
			cpu = 0.3
		}
		samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: h10.Add(time.Duration(i) * time.Minute),
			Namespace: "shop", Workload: web, Pod: "web-a", Container: "app", Node: "n1",
			CPUUsageCores: cpu, MemoryWorkingSetBytes: uint64(100+i) * mib, CPUThrottledPeriods: 1, CPUPeriods: 600})
	}
	// Pod b: 30 minutes from 10:00, a steady 1 core and 500 MiB.
	for i := 0; i < 30; i++ {
		samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: h10.Add(time.Duration(i) * time.Minute),
			Namespace: "shop", Workload: web, Pod: "web-b", Container: "app", Node: "n2",
			CPUUsageCores: 1, MemoryWorkingSetBytes: 500 * mib, CPUPeriods: 600})
	}
	// Written in two batches, as the collector does interval by interval: the rollups must
	// combine the partial aggregates of both.
	if err := s.InsertUsageSamples(ctx, samples[:70]); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertUsageSamples(ctx, samples[70:]); err != nil {
		t.Fatal(err)
	}

	hours, err := s.UsageHourly(ctx, Window{Cluster: "prod", From: day, To: day.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := []model.UsageHour{
		// Hour 10, pod a: 30×0.1 + 30×0.3 = 12 core-minutes, max 0.3; working set
		// Σ(100+i) for i=0..59 = 6000 + 1770 = 7770 MiB, max 159 MiB; 60 throttled of 36,000 periods.
		{Hour: h10, Pod: "web-a", Node: "n1", Samples: 60, CPUUsageCoreMinutes: 12, CPUUsageMaxCores: 0.3,
			MemoryWorkingSetSumBytes: 7770 * mib, MemoryWorkingSetMaxBytes: 159 * mib, CPUThrottledPeriods: 60, CPUPeriods: 36000},
		// Hour 10, pod b: 30 × 1 = 30 core-minutes, p95 of a constant 1 is 1; 30 × 500 MiB.
		{Hour: h10, Pod: "web-b", Node: "n2", Samples: 30, CPUUsageCoreMinutes: 30, CPUUsageMaxCores: 1, CPUUsageP95Cores: 1,
			MemoryWorkingSetSumBytes: 15000 * mib, MemoryWorkingSetMaxBytes: 500 * mib, CPUPeriods: 18000},
		// Hour 11, pod a: again 12 core-minutes; Σ(100+i) for i=60..119 = 6000 + 5370 = 11370 MiB, max 219 MiB.
		{Hour: h10.Add(time.Hour), Pod: "web-a", Node: "n1", Samples: 60, CPUUsageCoreMinutes: 12, CPUUsageMaxCores: 0.3,
			MemoryWorkingSetSumBytes: 11370 * mib, MemoryWorkingSetMaxBytes: 219 * mib, CPUThrottledPeriods: 60, CPUPeriods: 36000},
	}
	if len(hours) != len(want) {
		t.Fatalf("got %d hourly rows, want %d: %+v", len(hours), len(want), hours)
	}
	for i, w := range want {
		g := hours[i]
		if g.Hour != w.Hour || g.Pod != w.Pod || g.Node != w.Node || g.Namespace != "shop" || g.Workload != web || g.Container != "app" ||
			g.Samples != w.Samples || !near(g.CPUUsageCoreMinutes, w.CPUUsageCoreMinutes) || g.CPUUsageMaxCores != w.CPUUsageMaxCores ||
			g.MemoryWorkingSetSumBytes != w.MemoryWorkingSetSumBytes || g.MemoryWorkingSetMaxBytes != w.MemoryWorkingSetMaxBytes ||
			!near(g.CPUThrottledPeriods, w.CPUThrottledPeriods) || !near(g.CPUPeriods, w.CPUPeriods) {
			t.Errorf("hourly row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	// Pod a's minutes are half 0.1 and half 0.3: its 95th percentile lies at the upper value
	// (the t-digest keeps Float32 precision).
	if p := hours[0].CPUUsageP95Cores; p < 0.29 || p > 0.3+1e-6 {
		t.Errorf("pod a p95 = %v, want ≈ 0.3", p)
	}
	if p := hours[1].CPUUsageP95Cores; p != 1 {
		t.Errorf("pod b p95 = %v, want 1", p)
	}

	days, err := s.UsageDaily(ctx, Window{Cluster: "prod", From: day, To: day.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// The day pools both pods: 150 samples, 12 + 12 + 30 = 54 core-minutes, peaks 1 core and 500 MiB.
	if len(days) != 1 {
		t.Fatalf("got %d daily rows, want 1: %+v", len(days), days)
	}
	d := days[0]
	if !d.Day.Equal(day) || d.Workload != web || d.Container != "app" || d.Pods != 2 || d.Samples != 150 ||
		!near(d.CPUUsageCoreMinutes, 54) || d.CPUUsageMaxCores != 1 || d.MemoryWorkingSetMaxBytes != 500*mib ||
		!near(d.CPUThrottledPeriods, 120) || !near(d.CPUPeriods, 90000) {
		t.Errorf("daily row = %+v", d)
	}
}

func TestCostDailyRollupSumsHours(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	row := func(h int, pod string, labels map[string]string, cpuCost, ramCost float64) model.Allocation {
		return model.Allocation{Cluster: "prod", Hour: day.Add(time.Duration(h) * time.Hour), Node: "n1", Namespace: "shop",
			Workload: web, App: "web", Pod: pod, Container: "app", Labels: labels, RunHours: 1,
			CPUCoreHours: 0.5, RAMByteHours: 512 * mib, CPUCost: cpuCost, RAMCost: ramCost}
	}
	rows := []model.Allocation{
		row(10, "web-a", map[string]string{"team": "payments"}, 0.5, 0.125),
		row(11, "web-a", map[string]string{"team": "payments"}, 0.25, 0.125),
		row(11, "web-b", map[string]string{"team": "checkout"}, 0.25, 0.25), // other labels: other rollup key
		{Cluster: "prod", Hour: day.Add(10 * time.Hour), Node: "n1", Namespace: "__idle__", Idle: true, RunHours: 1, CPUCost: 2},
		row(10, "web-a", nil, 99, 99), // made a row of another cluster below: must not count
	}
	rows[4].Cluster = "staging"
	if err := s.InsertAllocations(ctx, rows[:2]); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertAllocations(ctx, rows[2:]); err != nil {
		t.Fatal(err)
	}
	got, err := s.CostDaily(ctx, Window{Cluster: "prod", From: day, To: day.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// Idle ("__idle__") sorts before "shop". Web: three pod-hours: run 3 h, 1.5 core-hours,
	// 1536 MiB-hours, CPU 0.5 + 0.25 + 0.25 = 1.0, RAM 0.125 + 0.125 + 0.25 = 0.5.
	if len(got) != 2 {
		t.Fatalf("got %d rows, want 2 (idle, web): %+v", len(got), got)
	}
	idle, w := got[0], got[1]
	if !idle.Idle || idle.CPUCost != 2 || idle.RunHours != 1 {
		t.Errorf("idle row = %+v", idle)
	}
	if w.Idle || !w.Day.Equal(day) || w.Workload != web || w.App != "web" || w.Node != "n1" || w.RunHours != 3 ||
		!near(w.CPUCoreHours, 1.5) || !near(w.RAMByteHours, 1536*mib) || !near(w.CPUCost, 1) || !near(w.RAMCost, 0.5) {
		t.Errorf("web row = %+v", w)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
