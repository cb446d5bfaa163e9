package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// WorkloadUsage merges the partial first day and the partial last day of the window from the
// hourly rollup with the whole day between them from the daily rollup, and joins the pods,
// the current requests, OOM kills, HPAs and unit prices. Every expected value is worked out
// by hand below; samples outside the window or of another cluster or namespace carry values
// (5 cores, 999 MiB) that would show if they leaked in.
func TestWorkloadUsage(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	d := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	from, to := d.Add(20*time.Hour), d.Add(52*time.Hour) // 20:00 of d to 04:00 of d+2
	api := model.WorkloadRef{Kind: "StatefulSet", Name: "api"}

	var samples []model.UsageSample
	add := func(cluster, ns string, wl model.WorkloadRef, pod string, start time.Time, n int, cpu float64, memMiB uint64, throttled, periods float64) {
		for i := 0; i < n; i++ {
			samples = append(samples, model.UsageSample{Cluster: cluster, Timestamp: start.Add(time.Duration(i) * time.Minute),
				Namespace: ns, Workload: wl, Pod: pod, Container: "app", CPUUsageCores: cpu,
				MemoryWorkingSetBytes: memMiB * mib, CPUThrottledPeriods: throttled, CPUPeriods: periods})
		}
	}
	add("prod", "shop", web, "web-c", d.Add(19*time.Hour), 1, 5, 999, 100, 100)               // before the window
	add("prod", "shop", web, "web-a", d.Add(20*time.Hour), 10, 0.25, 100, 1, 4)               // hourly, day d
	add("prod", "shop", web, "web-a", d.Add(36*time.Hour), 30, 0.25, 200, 1, 4)               // daily, d+1
	add("prod", "shop", web, "web-b", d.Add(51*time.Hour+55*time.Minute), 5, 0.25, 300, 1, 4) // hourly, d+2, to 03:59
	add("prod", "shop", web, "web-b", d.Add(52*time.Hour), 1, 5, 999, 100, 100)               // at the window's end
	add("prod", "shop", api, "api-0", d.Add(30*time.Hour), 1, 0.5, 50, 0, 4)
	add("prod", "shop", api, "api-0", d.Add(31*time.Hour), 1, 1.5, 60, 0, 4)
	add("prod", "other", web, "web-x", d.Add(30*time.Hour), 3, 5, 999, 100, 100) // another namespace
	add("dev", "shop", web, "web-a", d.Add(30*time.Hour), 3, 5, 999, 100, 100)   // another cluster
	if err := s.InsertUsageSamples(ctx, samples); err != nil {
		t.Fatal(err)
	}

	snap := func(at time.Time, pod string, cpuReq, cpuLim float64, memReq, memLim uint64) model.Container {
		return model.Container{Cluster: "prod", ObservedAt: at, Namespace: "shop", Pod: pod, Container: "app", Node: "n1",
			Phase: "Running", QoSClass: "Burstable", Workload: web, CPURequestCores: cpuReq, CPULimitCores: cpuLim,
			MemoryRequestBytes: memReq, MemoryLimitBytes: memLim}
	}
	if err := s.InsertContainers(ctx, []model.Container{
		snap(to.Add(-49*time.Hour), "web-a", 9, 9, 9*mib, 9*mib), // older than the window's last day
		snap(to.Add(-2*time.Hour), "web-a", 0.25, 1, 128*mib, 256*mib),
		snap(to.Add(-time.Hour), "web-b", 0.5, 0, 256*mib, 512*mib), // the latest in the window
		snap(to.Add(time.Minute), "web-b", 7, 7, 7*mib, 7*mib),      // after it
	}); err != nil {
		t.Fatal(err)
	}
	oom := func(at time.Time, pod string, count uint32, limitMiB uint64) model.ContainerEvent {
		return model.ContainerEvent{Cluster: "prod", Timestamp: at, Namespace: "shop", Workload: web, Pod: pod, Container: "app",
			Kind: model.EventOOMKill, Reason: "OOMKilled", Count: count, MemoryLimitBytes: limitMiB * mib}
	}
	evict := oom(d.Add(33*time.Hour), "web-a", 1, 4096)
	evict.Kind, evict.Reason = model.EventEviction, "Evicted"
	if err := s.InsertContainerEvents(ctx, []model.ContainerEvent{
		oom(d.Add(32*time.Hour), "web-a", 1, 256),
		oom(d.Add(33*time.Hour), "web-a", 2, 384),
		oom(d.Add(53*time.Hour), "web-b", 1, 999), // after the window
		evict,
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertAutoscalers(ctx, to.Add(-time.Hour), []model.Autoscaler{
		{Cluster: "prod", Namespace: "shop", Name: "web", Target: web, MinReplicas: 2, MaxReplicas: 6, Resources: []string{"cpu"}},
	}); err != nil {
		t.Fatal(err)
	}
	// Unit prices: 0.125 for 2 core-hours = 0.0625 per core-hour; 0.0078125 for 2 GiB-hours =
	// 0.00390625 per GiB-hour. The other cluster's row must not count.
	cost := func(cluster string, cpuCost, ramCost float64) model.Allocation {
		return model.Allocation{Cluster: cluster, Hour: d.Add(36 * time.Hour), Node: "n1", Namespace: "shop", Workload: web,
			Pod: "web-a", Container: "app", RunHours: 1, CPUCoreHours: 2, RAMByteHours: 2 << 30, CPUCost: cpuCost, RAMCost: ramCost}
	}
	if err := s.InsertAllocations(ctx, []model.Allocation{cost("prod", 0.125, 0.0078125), cost("dev", 64, 64)}); err != nil {
		t.Fatal(err)
	}

	w := Window{Cluster: "prod", From: from, To: to}
	namespaces, err := s.UsageNamespaces(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"other", "shop"}; !reflect.DeepEqual(namespaces, want) {
		t.Errorf("UsageNamespaces = %q, want %q", namespaces, want)
	}

	got, err := s.WorkloadUsage(ctx, w, []string{"shop"}, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	// Sorted by workload kind: Deployment web, then StatefulSet api.
	// api: 2 samples on d+1, max 1.5 cores, peak 60 MiB, 8 periods, none throttled; one pod
	// seen 06:00 to 07:00 of d+1; no snapshot, event, HPA or cost.
	// web: 10 + 30 + 5 = 45 samples, all at 0.25 cores (so p95 = max = 0.25), peak 300 MiB,
	// 45 of 180 CFS periods throttled; pods web-a and web-b (web-c ran before the window);
	// first sample 20:00 of d; web-b's last sample (04:00 of d+2) is clipped to 03:59.
	// Current: web-b's snapshot an hour before the end. OOM: 1 + 2 kills, the largest limit
	// 384 MiB. HPA on cpu.
	want := []model.WorkloadUsage{
		{Cluster: "prod", Namespace: "shop", Workload: web, Container: "app", Samples: 45,
			CPUQuantileCores: 0.25, CPUMaxCores: 0.25, MemoryPeakBytes: 300 * mib, CPUThrottledPeriods: 45, CPUPeriods: 180,
			Pods: 2, FirstSample: from, LastSample: to.Add(-time.Minute),
			HasCurrent: true, CPURequestCores: 0.5, MemoryRequestBytes: 256 * mib, MemoryLimitBytes: 512 * mib,
			OOMKills: 3, MemoryLimitAtOOMBytes: 384 * mib, HPAResources: []string{"cpu"},
			CPUCoreHourCost: 0.0625, RAMGiBHourCost: 0.00390625},
		{Cluster: "prod", Namespace: "shop", Workload: api, Container: "app", Samples: 2,
			CPUQuantileCores: -1, CPUMaxCores: 1.5, MemoryPeakBytes: 60 * mib, CPUPeriods: 8, Pods: 1,
			FirstSample: d.Add(30 * time.Hour), LastSample: d.Add(31 * time.Hour), HPAResources: []string{}},
	}
	if len(got) != len(want) {
		t.Fatalf("WorkloadUsage = %d rows, want %d:\n%+v", len(got), len(want), got)
	}
	// api's p95 of two samples is the 2nd (⌈0.95 × 2⌉), 1.5, as its bucket's value: at most
	// 0.499% below it, clamped to the maximum.
	if q := got[1].CPUQuantileCores; q < 1.5*(1-0.00499) || q > 1.5 {
		t.Errorf("api p95 = %v, want 1.5 less at most 0.499%%", q)
	}
	got[1].CPUQuantileCores = -1
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d =\n%+v\nwant\n%+v", i, got[i], want[i])
		}
	}

	if _, err := s.WorkloadUsage(ctx, w, []string{"shop"}, 95); err == nil {
		t.Error("quantile 95: no error, want one (a quantile is in (0, 1))")
	}
	if rows, err := s.WorkloadUsage(ctx, w, nil, 0.95); err != nil || rows != nil {
		t.Errorf("no namespaces = %v, %v; want nothing", rows, err)
	}
}

func TestUnitPrices(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	h := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	price := func(hour time.Time, node string, cpu, ram float64) model.NodePrice {
		return model.NodePrice{Cluster: "prod", Hour: hour, Node: node, Currency: "EUR", HourlyCost: 1, CPUCoreHourCost: cpu, RAMGiBHourCost: ram}
	}
	if err := s.InsertNodePrices(ctx, []model.NodePrice{
		price(h, "n1", 0.25, 0.125), price(h.Add(time.Hour), "n2", 0.75, 0.375), price(h.Add(2*time.Hour), "n1", 64, 64),
	}); err != nil {
		t.Fatal(err)
	}
	// The window holds the first two: (0.25 + 0.75) / 2 = 0.5 and (0.125 + 0.375) / 2 = 0.25.
	p, ok, err := s.UnitPrices(ctx, Window{Cluster: "prod", From: h, To: h.Add(2 * time.Hour)})
	if err != nil || !ok || p != (model.UnitPrices{Currency: "EUR", CPUCoreHourCost: 0.5, RAMGiBHourCost: 0.25}) {
		t.Errorf("UnitPrices = %+v, %v, %v; want EUR 0.5 and 0.25", p, ok, err)
	}
	if _, ok, err := s.UnitPrices(ctx, Window{Cluster: "dev", From: h, To: h.Add(2 * time.Hour)}); err != nil || ok {
		t.Errorf("UnitPrices of a cluster without prices: ok %v, err %v; want false, nil", ok, err)
	}
}

// RunningContainers reads the latest snapshot of the window (not an older one, not init
// containers or finished pods) with each container's latest working set.
func TestRunningContainers(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	h := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ctr := func(at time.Time, pod, name string, init bool, phase string, memLimit uint64) model.Container {
		return model.Container{Cluster: "prod", ObservedAt: at, Namespace: "shop", Pod: pod, Container: name, Init: init,
			Node: "n1", Phase: phase, QoSClass: "Burstable", Workload: web, CPURequestCores: 0.25,
			MemoryRequestBytes: 128 * mib, MemoryLimitBytes: memLimit, Labels: map[string]string{"tally.dev/guaranteed-cpu": "true"}}
	}
	latest := h.Add(9 * time.Minute)
	if err := s.InsertContainers(ctx, []model.Container{
		ctr(h.Add(8*time.Minute), "web-old", "app", false, "Running", 0), // an older snapshot
		ctr(latest, "web-a", "app", false, "Running", 256*mib),
		ctr(latest, "web-a", "init", true, "Succeeded", 0),
		ctr(latest, "job-x", "app", false, "Succeeded", 0),
		ctr(h.Add(10*time.Minute), "web-new", "app", false, "Running", 0), // after the window
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertContainers(ctx, []model.Container{ctr(latest, "web-a", "app", false, "Running", 256*mib)}); err != nil {
		t.Fatal(err) // the same snapshot again: still one row
	}
	sample := func(at time.Time, ws uint64) model.UsageSample {
		return model.UsageSample{Cluster: "prod", Timestamp: at, Namespace: "shop", Workload: web, Pod: "web-a", Container: "app",
			CPUUsageCores: 0.1, MemoryWorkingSetBytes: ws * mib}
	}
	if err := s.InsertUsageSamples(ctx, []model.UsageSample{sample(h.Add(7*time.Minute), 90), sample(h.Add(8*time.Minute), 100), sample(h.Add(10*time.Minute), 999)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.RunningContainers(ctx, Window{Cluster: "prod", From: h, To: h.Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("RunningContainers = %+v, want web-a/app alone", got)
	}
	g := got[0]
	if g.Pod != "web-a" || g.Container.Container != "app" || g.MemoryLimitBytes != 256*mib || g.MemoryRequestBytes != 128*mib ||
		g.CPURequestCores != 0.25 || g.QoSClass != "Burstable" || g.Workload != web || g.Node != "n1" ||
		g.MemoryWorkingSetBytes != 100*mib || g.Labels["tally.dev/guaranteed-cpu"] != "true" {
		t.Errorf("RunningContainers[0] = %+v; want web-a/app's 10:09 snapshot with its 10:08 working set, 100 MiB", g)
	}
}

// Exceedances counts the samples of the later window above each container's thresholds.
func TestExceedances(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	h := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	api := model.WorkloadRef{Kind: "StatefulSet", Name: "api"}
	var samples []model.UsageSample
	add := func(ns string, wl model.WorkloadRef, at time.Time, cpu float64, wsMiB uint64) {
		samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: at, Namespace: ns, Workload: wl, Pod: wl.Name + "-0",
			Container: "app", CPUUsageCores: cpu, MemoryWorkingSetBytes: wsMiB * mib})
	}
	// web: 4 samples; CPU 0.1 0.3 0.5 0.2 against a 0.25 request: 2 above (0.3, 0.5; equal
	// would not count); working set 100 200 300 256 MiB against 256 MiB: 1 above (300).
	for i, v := range []struct {
		cpu float64
		ws  uint64
	}{{0.1, 100}, {0.3, 200}, {0.5, 300}, {0.25, 256}} {
		add("shop", web, h.Add(time.Duration(i)*time.Minute), v.cpu, v.ws)
	}
	add("shop", web, h.Add(-time.Minute), 9, 9999) // before the window
	add("shop", api, h, 0.1, 10)                   // no threshold: not scored
	add("zoo", web, h, 9, 9999)                    // outside the namespace range
	if err := s.InsertUsageSamples(ctx, samples); err != nil {
		t.Fatal(err)
	}
	got, err := s.Exceedances(ctx, Window{Cluster: "prod", From: h, To: h.Add(time.Hour)},
		[]Threshold{{Namespace: "shop", Workload: web, Container: "app", CPURequestCores: 0.25, MemoryLimitBytes: 256 * mib}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Exceedance{{Namespace: "shop", Workload: web, Container: "app", Samples: 4, CPUOverRequest: 2, MemoryOverLimit: 1, MemoryPeakBytes: 300 * mib}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Exceedances = %+v, want %+v", got, want)
	}
}
