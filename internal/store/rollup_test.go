package store

import (
	"context"
	"math"
	"reflect"
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
			Namespace: "shop", Workload: web, Pod: "web-a", Container: "app",
			CPUUsageCores: cpu, MemoryWorkingSetBytes: uint64(100+i) * mib, CPUThrottledPeriods: 1, CPUPeriods: 600})
	}
	// Pod b: 30 minutes from 10:00, a steady 1 core and 500 MiB.
	for i := 0; i < 30; i++ {
		samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: h10.Add(time.Duration(i) * time.Minute),
			Namespace: "shop", Workload: web, Pod: "web-b", Container: "app",
			CPUUsageCores: 1, MemoryWorkingSetBytes: 500 * mib, CPUPeriods: 600})
	}
	// Pod c of another workload: 10 minutes from 10:00 at 2 cores and 1 GiB: a row of its own.
	api := model.WorkloadRef{Kind: "StatefulSet", Name: "api"}
	for i := 0; i < 10; i++ {
		samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: h10.Add(time.Duration(i) * time.Minute),
			Namespace: "shop", Workload: api, Pod: "api-0", Container: "app",
			CPUUsageCores: 2, MemoryWorkingSetBytes: 1024 * mib, CPUPeriods: 600})
	}
	// Written in two batches, as the collector does interval by interval: the rollups must
	// combine the partial aggregates of both.
	if err := s.InsertUsageSamples(ctx, samples[:70]); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertUsageSamples(ctx, samples[70:]); err != nil {
		t.Fatal(err)
	}

	w := Window{Cluster: "prod", From: day, To: day.Add(24 * time.Hour)}
	hours, err := s.UsageHourly(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.UsageRollup{
		// Hour 10, shop/Deployment/web, pods a and b pooled: 60 + 30 = 90 samples.
		// CPU: a 30×0.1 + 30×0.3 = 12, b 30×1 = 30 → 42 core-minutes, max 1.
		// Working set: a Σ(100+i) for i=0..59 = 6000 + 1770 = 7770 MiB, b 30×500 = 15000 → 22770 MiB, max 500.
		// Throttling: a 60 of 36,000 periods, b 0 of 18,000.
		{Start: h10, Workload: web, Samples: 90, CPUUsageCoreMinutes: 42, CPUUsageMaxCores: 1, CPUUsageP95Cores: 1,
			MemoryWorkingSetSumBytes: 22770 * mib, MemoryWorkingSetMaxBytes: 500 * mib, CPUThrottledPeriods: 60, CPUPeriods: 54000},
		// Hour 10, shop/StatefulSet/api (sorts after Deployment): 10 × 2 = 20 core-minutes; 10 × 1024 MiB.
		{Start: h10, Workload: api, Samples: 10, CPUUsageCoreMinutes: 20, CPUUsageMaxCores: 2, CPUUsageP95Cores: 2,
			MemoryWorkingSetSumBytes: 10240 * mib, MemoryWorkingSetMaxBytes: 1024 * mib, CPUPeriods: 6000},
		// Hour 11, web: pod a alone: 12 core-minutes, max 0.3;
		// Σ(100+i) for i=60..119 = 6000 + 5370 = 11370 MiB, max 219 MiB.
		{Start: h10.Add(time.Hour), Workload: web, Samples: 60, CPUUsageCoreMinutes: 12, CPUUsageMaxCores: 0.3, CPUUsageP95Cores: 0.3,
			MemoryWorkingSetSumBytes: 11370 * mib, MemoryWorkingSetMaxBytes: 219 * mib, CPUThrottledPeriods: 60, CPUPeriods: 36000},
	}
	checkRollups(t, "hourly", hours, want)

	days, err := s.UsageDaily(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	checkRollups(t, "daily", days, []model.UsageRollup{
		// The day of web is its two hours: 150 samples, 42 + 12 = 54 core-minutes, 22770 + 11370 = 34140 MiB,
		// 120 throttled of 90,000 periods. p95 of 60×0.1, 60×0.3, 30×1: the top 5% (7.5 samples) are all 1.
		{Start: day, Workload: web, Samples: 150, CPUUsageCoreMinutes: 54, CPUUsageMaxCores: 1, CPUUsageP95Cores: 1,
			MemoryWorkingSetSumBytes: 34140 * mib, MemoryWorkingSetMaxBytes: 500 * mib, CPUThrottledPeriods: 120, CPUPeriods: 90000},
		// The day of api is its only hour.
		{Start: day, Workload: api, Samples: 10, CPUUsageCoreMinutes: 20, CPUUsageMaxCores: 2, CPUUsageP95Cores: 2,
			MemoryWorkingSetSumBytes: 10240 * mib, MemoryWorkingSetMaxBytes: 1024 * mib, CPUPeriods: 6000},
	})
}

// checkRollups compares rollup rows field by field: exact for counts, maxima and byte sums,
// to 1e-9 for float sums, and to 0.499% for the p95 (the value of the bucket that holds the
// nearest-rank p95, clamped to the samples' range; migrations/0011_cpu_buckets.sql).
func checkRollups(t *testing.T, what string, got, want []model.UsageRollup) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d rows, want %d: %+v", what, len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Cluster != "prod" || !g.Start.Equal(w.Start) || g.Namespace != "shop" || g.Workload != w.Workload || g.Container != "app" ||
			g.Samples != w.Samples || !near(g.CPUUsageCoreMinutes, w.CPUUsageCoreMinutes) || g.CPUUsageMaxCores != w.CPUUsageMaxCores ||
			g.MemoryWorkingSetSumBytes != w.MemoryWorkingSetSumBytes || g.MemoryWorkingSetMaxBytes != w.MemoryWorkingSetMaxBytes ||
			!near(g.CPUThrottledPeriods, w.CPUThrottledPeriods) || !near(g.CPUPeriods, w.CPUPeriods) ||
			math.Abs(g.CPUUsageP95Cores-w.CPUUsageP95Cores) > 0.00499*w.CPUUsageP95Cores {
			t.Errorf("%s row %d:\n got %+v\nwant %+v", what, i, g, w)
		}
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

// The hourly allocation's inputs, from the real server: per-minute max(request, usage) sums
// worked out by hand.
func TestContainerHours(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	h := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	// web-a/app requests 0.5 cores and 256 MiB; an older snapshot (09:30) said 0.25 cores: the
	// latest before the hour's end wins. It ran 4 minutes: CPU 0.2, 0.8, 2.0, 0.5; working set
	// 200, 300, 256, 100 MiB.
	snap := func(at time.Time, pod string, cpu float64, mem uint64) model.Container {
		return model.Container{Cluster: "prod", ObservedAt: at, Namespace: "shop", Pod: pod, Container: "app", Node: "n1",
			Workload: web, CPURequestCores: cpu, MemoryRequestBytes: mem, Labels: map[string]string{"app.kubernetes.io/name": "web", "team": "pay"}}
	}
	if err := s.InsertContainers(ctx, []model.Container{snap(h.Add(-30*time.Minute), "web-a", 0.25, 256*mib), snap(h.Add(time.Minute), "web-a", 0.5, 256*mib)}); err != nil {
		t.Fatal(err)
	}
	var samples []model.UsageSample
	for i, u := range []struct {
		cpu float64
		mem uint64
	}{{0.2, 200}, {0.8, 300}, {2.0, 256}, {0.5, 100}} {
		samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: h.Add(time.Duration(i) * time.Minute), Namespace: "shop",
			Workload: web, Pod: "web-a", Container: "app", CPUUsageCores: u.cpu, MemoryWorkingSetBytes: u.mem * mib})
	}
	// web-b/app has no snapshot (BestEffort as far as tally knows): 2 minutes at 0.1 cores, 50 MiB.
	for i := 0; i < 2; i++ {
		samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: h.Add(time.Duration(i) * time.Minute), Namespace: "shop",
			Workload: web, Pod: "web-b", Container: "app", CPUUsageCores: 0.1, MemoryWorkingSetBytes: 50 * mib})
	}
	// A sample of the next hour must not count.
	samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: h.Add(time.Hour), Namespace: "shop",
		Workload: web, Pod: "web-a", Container: "app", CPUUsageCores: 9, MemoryWorkingSetBytes: 9 * mib})
	if err := s.InsertUsageSamples(ctx, samples); err != nil {
		t.Fatal(err)
	}
	got, err := s.ContainerHours(ctx, "prod", h)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.ContainerHour{
		// CPU charged: max(0.5, 0.2) + max(0.5, 0.8) + max(0.5, 2.0) + max(0.5, 0.5) = 0.5 + 0.8 + 2 + 0.5 = 3.8;
		// used 0.2 + 0.8 + 2 + 0.5 = 3.5. Memory charged: 256 + 300 + 256 + 256 = 1068 MiB; used 200 + 300 + 256 + 100 = 856.
		{Cluster: "prod", Node: "n1", Namespace: "shop", Pod: "web-a", Container: "app", Workload: web, App: "web",
			Labels: map[string]string{"app.kubernetes.io/name": "web", "team": "pay"}, Hour: h, RunningMinutes: 4,
			CPURequestCores: 0.5, RAMRequestBytes: 256 * mib, CPUChargedCoreMinutes: 3.8, RAMChargedByteMinutes: 1068 * mib,
			CPUUsageCoreMinutes: 3.5, RAMUsageByteMinutes: 856 * mib},
		// No request: charged = used = 0.2 core-minutes and 100 MiB-minutes; node unknown.
		{Cluster: "prod", Namespace: "shop", Pod: "web-b", Container: "app", Workload: web, Hour: h, RunningMinutes: 2,
			CPUChargedCoreMinutes: 0.2, RAMChargedByteMinutes: 100 * mib, CPUUsageCoreMinutes: 0.2, RAMUsageByteMinutes: 100 * mib},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		floats := [][2]float64{{g.CPUChargedCoreMinutes, w.CPUChargedCoreMinutes}, {g.RAMChargedByteMinutes, w.RAMChargedByteMinutes},
			{g.CPUUsageCoreMinutes, w.CPUUsageCoreMinutes}, {g.RAMUsageByteMinutes, w.RAMUsageByteMinutes}}
		for _, f := range floats {
			if !near(f[0], f[1]) {
				t.Errorf("row %d: got %+v\nwant %+v", i, g, w)
			}
		}
		g.CPUChargedCoreMinutes, g.RAMChargedByteMinutes, g.CPUUsageCoreMinutes, g.RAMUsageByteMinutes = 0, 0, 0, 0
		w.CPUChargedCoreMinutes, w.RAMChargedByteMinutes, w.CPUUsageCoreMinutes, w.RAMUsageByteMinutes = 0, 0, 0, 0
		if !reflect.DeepEqual(g, w) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}
