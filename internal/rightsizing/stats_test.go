package rightsizing

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

func TestStatsFrom(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	web := model.WorkloadRef{Kind: "Deployment", Name: "web"}
	fallback := model.UnitPrices{Currency: "EUR", CPUCoreHourCost: 0.03, RAMGiBHourCost: 0.004}
	u := model.WorkloadUsage{
		Cluster: "prod", Namespace: "shop", Workload: web, Container: "app",
		Samples: 7200, CPUQuantileCores: 0.25, CPUMaxCores: 0.75, MemoryPeakBytes: 300 * mib,
		CPUThrottledPeriods: 30, CPUPeriods: 240, Pods: 4,
		// First sample 00:00 of day 1, last 23:59 of day 2: 2 days = 2,880 minutes.
		FirstSample: start, LastSample: start.Add(48*time.Hour - time.Minute),
		HasCurrent: true, CPURequestCores: 0.5, MemoryRequestBytes: 256 * mib, MemoryLimitBytes: 512 * mib,
		OOMKills: 1, MemoryLimitAtOOMBytes: 512 * mib, HPAResources: []string{"cpu"},
		CPUCoreHourCost: 0.04, RAMGiBHourCost: 0.005,
	}
	got := StatsFrom(u, 14*day, 95, fallback)
	// Span 48 h (not the 14-day window); 7,200 samples ÷ 2,880 minutes = 2.5 replicas;
	// throttled 30 ÷ 240 = 0.125; no CPU limit (0 is unset); the workload's own prices.
	want := Stats{
		Cluster: "prod", Namespace: "shop", Workload: web, Container: "app", Window: 48 * time.Hour,
		Samples: 7200, Pods: 4, Replicas: 2.5, CPUPercentileCores: 0.25, CPUPercentile: 95, CPUMaxCores: 0.75,
		MemoryPeakBytes: 300 * mib, OOMKills: 1, MemoryLimitAtOOMBytes: 512 * mib, ThrottledRatio: 0.125,
		HPAResources:    []string{"cpu"},
		Current:         Resources{CPURequest: ptr(0.5), MemoryRequest: ptr(256 * mib), MemoryLimit: ptr(512 * mib)},
		CPUCoreHourCost: 0.04, RAMGiBHourCost: 0.005, Currency: "EUR",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StatsFrom =\n%+v\nwant\n%+v", got, want)
	}

	// No snapshot, no allocated cost, no known span: all current values unset, the cluster's
	// prices, the window's length; 7,200 samples over 14 days (20,160 minutes) = 0.357... replicas.
	u.HasCurrent, u.CPUCoreHourCost, u.RAMGiBHourCost = false, 0, 0
	u.FirstSample, u.LastSample = time.Time{}, time.Time{}
	u.CPUPeriods = 0
	got = StatsFrom(u, 14*day, 95, fallback)
	if got.Current != (Resources{}) || !got.NotRunning || got.CPUCoreHourCost != 0.03 || got.RAMGiBHourCost != 0.004 ||
		got.Window != 14*day || got.Replicas != 7200.0/20160 || got.ThrottledRatio != 0 {
		t.Errorf("StatsFrom without snapshot, cost or span = %+v", got)
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("default policy: %v", err)
	}
	for name, change := range map[string]func(*Policy){
		"percentile 0":       func(p *Policy) { p.CPUPercentile = 0 },
		"percentile 100":     func(p *Policy) { p.CPUPercentile = 100 },
		"negative cpu floor": func(p *Policy) { p.CPUFloorCores = -0.01 },
		"negative buffer":    func(p *Policy) { p.MemoryBufferPercent = -1 },
		"negative mem floor": func(p *Policy) { p.MemoryFloorBytes = -1 },
		"OOM factor below 1": func(p *Policy) { p.OOMLimitFactor = 0.9 },
		"negative headroom":  func(p *Policy) { p.OOMHeadroomBytes = -1 },
		"throttle ratio 1.5": func(p *Policy) { p.ThrottleFlagRatio = 1.5 },
		"negative samples":   func(p *Policy) { p.MinSamples = -1 },
		"zero hours a month": func(p *Policy) { p.HoursPerMonth = 0 },
		"NaN cpu floor":      func(p *Policy) { p.CPUFloorCores = math.NaN() },
		"NaN buffer":         func(p *Policy) { p.MemoryBufferPercent = math.NaN() },
		"infinite headroom":  func(p *Policy) { p.OOMHeadroomBytes = math.Inf(1) },
		"NaN OOM factor":     func(p *Policy) { p.OOMLimitFactor = math.NaN() },
	} {
		p := DefaultPolicy()
		change(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
