package rightsizing

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

const day = 24 * time.Hour

// base is a web container with enough data and nothing special about it:
// p95 0.231 cores, peak 400 MiB, 3 pods running throughout 14 days (3 × 14 × 1440 = 60,480
// samples, more than 100), requests 0.4 cores and 800 MiB, memory limit 800 MiB, no CPU limit,
// $0.04 per core-hour and $0.005 per GiB-hour.
func base() Stats {
	return Stats{
		Cluster:            "prod",
		Namespace:          "shop",
		Workload:           model.WorkloadRef{Kind: "Deployment", Name: "web"},
		Container:          "app",
		Window:             14 * day,
		Samples:            60480,
		Pods:               3,
		Replicas:           3,
		CPUPercentileCores: 0.231,
		CPUPercentile:      95,
		CPUMaxCores:        0.5,
		MemoryPeakBytes:    400 * mib,
		Current: Resources{
			CPURequest:    ptr(0.4),
			MemoryRequest: ptr(800 * mib),
			MemoryLimit:   ptr(800 * mib),
		},
		CPUCoreHourCost: 0.04,
		RAMGiBHourCost:  0.005,
		Currency:        "USD",
	}
}

type want struct {
	cpu, cpuLimit, mem *float64 // recommended; mem is request and limit
	savings            float64
	risk               string
	flags              []string
	note               []string // substrings of the risk note; none means an empty note
}

func TestRecommend(t *testing.T) {
	tests := []struct {
		name   string
		stats  func(*Stats)
		policy func(*Policy)
		want   want
	}{
		{
			// CPU request 0.231 (p95), no limit. Memory 400 MiB × 1.15 = 460 MiB = 482,344,960 B.
			// Savings per pod-hour: CPU (0.4 − 0.231) × 0.04 = 0.00676;
			// memory (800 − 460) MiB = 340/1024 GiB = 0.33203125 GiB × 0.005 = 0.00166015625;
			// together 0.00842015625 × 3 pods × 730 h = 0.00842015625 × 2190 = 18.4401421875.
			// 460 MiB ≥ half of 800 MiB, 0.231 ≥ half of 0.4: low risk.
			name: "defaults",
			want: want{cpu: ptr(0.231), mem: ptr(482344960), savings: 18.4401421875, risk: RiskLow},
		},
		{
			// No snapshot in the window's last day: current requests unknown (not unset). The
			// recommendation stands, unpriced — before, the unknown requests counted as 0 and the
			// whole recommended request was priced as a raise.
			name: "not running at the end",
			stats: func(s *Stats) {
				s.NotRunning, s.Current = true, Resources{}
			},
			want: want{cpu: ptr(0.231), mem: ptr(482344960), savings: 0, risk: RiskMedium,
				flags: []string{FlagNotRunning}, note: []string{"current requests unknown, not priced"}},
		},
		{
			// CPU 0.004 < floor 0.010 → 0.010. Memory 40 MiB × 1.15 = 46 MiB < floor 64 MiB
			// → 67,108,864 B. Savings: CPU (0.4 − 0.01) × 0.04 = 0.0156; memory
			// (800 − 64) MiB = 736/1024 = 0.71875 GiB × 0.005 = 0.00359375; together
			// 0.01919375 × 2190 = 42.0343125. 64 MiB < 400 MiB (half the limit): high;
			// 0.010 < 0.2 cores: the CPU cut is noted too.
			name: "floors",
			stats: func(s *Stats) {
				s.CPUPercentileCores = 0.004
				s.MemoryPeakBytes = 40 * mib
			},
			want: want{cpu: ptr(0.010), mem: ptr(64 * mib), savings: 42.0343125, risk: RiskHigh,
				note: []string{"memory limit cut by more than half, 800 MiB → 64 MiB", "CPU request cut by more than half, 0.400 → 0.010 cores"}},
		},
		{
			// Peak 500 MiB, killed at a 512 MiB limit. Buffered: 500 × 1.15 = 575 MiB.
			// Bump: max(512 × 1.2 = 614.4 MiB, 500 + 100 = 600 MiB) = 614.4 MiB
			// = 614.4 × 1,048,576 = 644,245,094.4 B, above 575 MiB, so 614.4 MiB.
			// Savings: CPU 0.00676; memory (512 − 614.4) MiB = −0.1 GiB × 0.005 = −0.0005;
			// together 0.00626 × 2190 = 13.7094.
			name: "oom bump by limit factor",
			stats: func(s *Stats) {
				s.MemoryPeakBytes = 500 * mib
				s.OOMKills = 1
				s.MemoryLimitAtOOMBytes = 512 * mib
				s.Current.MemoryRequest = ptr(512 * mib)
				s.Current.MemoryLimit = ptr(512 * mib)
			},
			want: want{cpu: ptr(0.231), mem: ptr(644245094.4), savings: 13.7094, risk: RiskHigh,
				flags: []string{FlagOOMBump}, note: []string{"OOM-killed in the window: memory raised to 614 MiB"}},
		},
		{
			// Killed at 400 MiB (limit since raised), peak 500 MiB: max(400 × 1.2 = 480,
			// 500 + 100 = 600) = 600 MiB, above 575 MiB: 600 MiB = 629,145,600 B.
			// Savings: CPU 0.00676; memory (800 − 600) MiB = 0.1953125 GiB × 0.005
			// = 0.0009765625; together 0.0077365625 × 2190 = 16.943071875.
			name: "oom bump by headroom",
			stats: func(s *Stats) {
				s.MemoryPeakBytes = 500 * mib
				s.OOMKills = 2
				s.MemoryLimitAtOOMBytes = 400 * mib
			},
			want: want{cpu: ptr(0.231), mem: ptr(629145600), savings: 16.943071875, risk: RiskHigh,
				flags: []string{FlagOOMBump}, note: []string{"memory raised to 600 MiB"}},
		},
		{
			// Throttled in 25% > 10% of periods with a 0.3-core limit: flagged, limit removed.
			// Values and savings as in "defaults".
			name: "throttled removes the limit",
			stats: func(s *Stats) {
				s.ThrottledRatio = 0.25
				s.Current.CPULimit = ptr(0.3)
			},
			want: want{cpu: ptr(0.231), mem: ptr(482344960), savings: 18.4401421875, risk: RiskMedium,
				flags: []string{FlagThrottled}, note: []string{"throttled in 25.0% of CFS periods: CPU limit removed"}},
		},
		{
			// Exactly 10% is not more than 10%: not flagged.
			name:  "throttled at the threshold is not flagged",
			stats: func(s *Stats) { s.ThrottledRatio = 0.10 },
			want:  want{cpu: ptr(0.231), mem: ptr(482344960), savings: 18.4401421875, risk: RiskLow},
		},
		{
			// Guaranteed, not throttled: CPU limit = request = 0.231.
			name:   "guaranteed sets limit to request",
			policy: func(p *Policy) { p.GuaranteedCPU = true },
			want:   want{cpu: ptr(0.231), cpuLimit: ptr(0.231), mem: ptr(482344960), savings: 18.4401421875, risk: RiskLow},
		},
		{
			// Guaranteed and throttled with a 0.3-core limit: request = limit = max(0.231, 0.3,
			// max 0.5) = 0.5 (before, the request stayed 0.231: Burstable, and reporter qos set
			// request = limit = 0.231, throttling it more). Savings: CPU (0.4 − 0.5) × 0.04 =
			// −0.004, memory 0.00166015625: −0.00233984375 × 2190 = −5.1242578125.
			name: "guaranteed and throttled raises request and limit to the max",
			stats: func(s *Stats) {
				s.ThrottledRatio = 0.25
				s.Current.CPULimit = ptr(0.3)
			},
			policy: func(p *Policy) { p.GuaranteedCPU = true },
			want: want{cpu: ptr(0.5), cpuLimit: ptr(0.5), mem: ptr(482344960), savings: -5.1242578125, risk: RiskMedium,
				flags: []string{FlagThrottled}, note: []string{"throttled in 25.0% of CFS periods: CPU request = limit raised to 0.500 cores"}},
		},
		{
			// The same workload opted in by its label, not by the policy: the same answer.
			name: "opted in and throttled raises request and limit to the max",
			stats: func(s *Stats) {
				s.ThrottledRatio = 0.25
				s.Current.CPULimit = ptr(0.3)
				s.GuaranteedCPU = true
			},
			want: want{cpu: ptr(0.5), cpuLimit: ptr(0.5), mem: ptr(482344960), savings: -5.1242578125, risk: RiskMedium,
				flags: []string{FlagThrottled}, note: []string{"CPU request = limit raised to 0.500 cores"}},
		},
		{
			// Opted in by its label, not throttled: limit = request = 0.231.
			name:  "opted in sets limit to request",
			stats: func(s *Stats) { s.GuaranteedCPU = true },
			want:  want{cpu: ptr(0.231), cpuLimit: ptr(0.231), mem: ptr(482344960), savings: 18.4401421875, risk: RiskLow},
		},
		{
			// Guaranteed and throttled under a 0.8-core limit: max(0.231, 0.8, 0.5) = 0.8, kept.
			// Savings: CPU (0.4 − 0.8) × 0.04 = −0.016, memory 0.00166015625:
			// −0.01433984375 × 2190 = −31.4042578125.
			name: "guaranteed and throttled keeps a higher current limit",
			stats: func(s *Stats) {
				s.ThrottledRatio = 0.5
				s.Current.CPULimit = ptr(0.8)
			},
			policy: func(p *Policy) { p.GuaranteedCPU = true },
			want: want{cpu: ptr(0.8), cpuLimit: ptr(0.8), mem: ptr(482344960), savings: -31.4042578125, risk: RiskMedium,
				flags: []string{FlagThrottled}, note: []string{"CPU request = limit raised to 0.800 cores"}},
		},
		{
			name:  "hpa on cpu",
			stats: func(s *Stats) { s.HPAResources = []string{"cpu"} },
			want: want{cpu: ptr(0.231), mem: ptr(482344960), savings: 18.4401421875, risk: RiskMedium,
				flags: []string{FlagHPA}, note: []string{"scaled by an HPA on cpu: changing requests moves its scaling point"}},
		},
		{
			name:  "hpa on memory and cpu, listed once each",
			stats: func(s *Stats) { s.HPAResources = []string{"memory", "cpu", "cpu"} },
			want: want{cpu: ptr(0.231), mem: ptr(482344960), savings: 18.4401421875, risk: RiskMedium,
				flags: []string{FlagHPA}, note: []string{"HPA on cpu and memory"}},
		},
		{
			// An HPA on an external metric does not depend on requests.
			name:  "hpa on an external metric is not flagged",
			stats: func(s *Stats) { s.HPAResources = []string{"requests_per_second"} },
			want:  want{cpu: ptr(0.231), mem: ptr(482344960), savings: 18.4401421875, risk: RiskLow},
		},
		{
			// Current CPU request 0.5: 0.231 < 0.25 is a cut of more than half → medium.
			// Savings: CPU (0.5 − 0.231) × 0.04 = 0.01076; memory 0.00166015625;
			// together 0.01242015625 × 2190 = 27.2001421875.
			name:  "cpu cut by more than half",
			stats: func(s *Stats) { s.Current.CPURequest = ptr(0.5) },
			want: want{cpu: ptr(0.231), mem: ptr(482344960), savings: 27.2001421875, risk: RiskMedium,
				note: []string{"CPU request cut by more than half, 0.500 → 0.231 cores"}},
		},
		{
			// Current memory 1 GiB: 460 MiB < 512 MiB → high. Savings: CPU 0.00676; memory
			// (1024 − 460) MiB = 0.55078125 GiB × 0.005 = 0.00275390625; together
			// 0.00951390625 × 2190 = 20.8354546875.
			name: "memory limit cut by more than half",
			stats: func(s *Stats) {
				s.Current.MemoryRequest = ptr(gib)
				s.Current.MemoryLimit = ptr(gib)
			},
			want: want{cpu: ptr(0.231), mem: ptr(482344960), savings: 20.8354546875, risk: RiskHigh,
				note: []string{"memory limit cut by more than half, 1024 MiB → 460 MiB"}},
		},
		{
			// Nothing set: unset counts as 0, so the recommendation costs money.
			// CPU (0 − 0.231) × 0.04 = −0.00924; memory −460/1024 = −0.44921875 GiB × 0.005
			// = −0.00224609375; together −0.01148609375 × 2190 = −25.1545453125.
			name:  "negative savings when nothing is requested",
			stats: func(s *Stats) { s.Current = Resources{} },
			want:  want{cpu: ptr(0.231), mem: ptr(482344960), savings: -25.1545453125, risk: RiskLow},
		},
		{
			// One pod over a month's 730 h, with a cheaper policy month of 720 h:
			// (0.00676 + 0.00166015625) × 1 × 720 = 6.0625125.
			name:   "pods and hours per month scale the savings",
			stats:  func(s *Stats) { s.Pods, s.Replicas = 1, 1 },
			policy: func(p *Policy) { p.HoursPerMonth = 720 },
			want:   want{cpu: ptr(0.231), mem: ptr(482344960), savings: 6.0625125, risk: RiskLow},
		},
		{
			// Five pods over the window (a rollout), 2.4 running on average: savings are per
			// running replica, 0.00842015625 × 2.4 × 730 = 0.00842015625 × 1752 = 14.75211375.
			name:  "savings count running replicas, not distinct pods",
			stats: func(s *Stats) { s.Pods, s.Replicas = 5, 2.4 },
			want:  want{cpu: ptr(0.231), mem: ptr(482344960), savings: 14.75211375, risk: RiskLow},
		},
		{
			// Exactly 24 h and 100 samples is enough.
			name: "minimum data is enough",
			stats: func(s *Stats) {
				s.Window = day
				s.Samples = 100
			},
			want: want{cpu: ptr(0.231), mem: ptr(482344960), savings: 18.4401421875, risk: RiskLow},
		},
		{
			name:  "insufficient data: window too short",
			stats: func(s *Stats) { s.Window = 12 * time.Hour },
			want: want{risk: RiskHigh, flags: []string{FlagInsufficientData},
				note: []string{"insufficient data: 12h and 60,480 samples, need at least 1d and 100 samples"}},
		},
		{
			// Too few samples; the other rules (OOM, HPA) do not apply either.
			name: "insufficient data: too few samples",
			stats: func(s *Stats) {
				s.Samples = 99
				s.OOMKills = 1
				s.HPAResources = []string{"cpu"}
			},
			want: want{risk: RiskHigh, flags: []string{FlagInsufficientData},
				note: []string{"insufficient data: 14d and 99 samples, need at least 1d and 100 samples"}},
		},
		{
			// Percentile and buffer are policy numbers: p99 of 0.3 cores, buffer 20%:
			// 400 × 1.2 = 480 MiB = 503,316,480 B. Savings: CPU (0.4 − 0.3) × 0.04 = 0.004;
			// memory (800 − 480) MiB = 0.3125 GiB × 0.005 = 0.0015625; together
			// 0.0055625 × 2190 = 12.181875.
			name: "policy buffer",
			stats: func(s *Stats) {
				s.CPUPercentile = 99
				s.CPUPercentileCores = 0.3
			},
			policy: func(p *Policy) {
				p.CPUPercentile = 99
				p.MemoryBufferPercent = 20
			},
			want: want{cpu: ptr(0.3), mem: ptr(503316480), savings: 12.181875, risk: RiskLow},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p := base(), DefaultPolicy()
			if tt.stats != nil {
				tt.stats(&s)
			}
			if tt.policy != nil {
				tt.policy(&p)
			}
			got := Recommend(s, p)

			checkPtr(t, "cpu request", got.Recommended.CPURequest, tt.want.cpu)
			checkPtr(t, "cpu limit", got.Recommended.CPULimit, tt.want.cpuLimit)
			checkPtr(t, "memory request", got.Recommended.MemoryRequest, tt.want.mem)
			checkPtr(t, "memory limit", got.Recommended.MemoryLimit, tt.want.mem)
			if !near(got.MonthlySavings, tt.want.savings) {
				t.Errorf("savings = %.10f, want %.10f", got.MonthlySavings, tt.want.savings)
			}
			if got.Risk != tt.want.risk {
				t.Errorf("risk = %q, want %q (note %q)", got.Risk, tt.want.risk, got.RiskNote)
			}
			if !slices.Equal(got.Flags, tt.want.flags) {
				t.Errorf("flags = %q, want %q", got.Flags, tt.want.flags)
			}
			if len(tt.want.note) == 0 && got.RiskNote != "" {
				t.Errorf("risk note = %q, want none", got.RiskNote)
			}
			for _, n := range tt.want.note {
				if !strings.Contains(got.RiskNote, n) {
					t.Errorf("risk note = %q, want it to contain %q", got.RiskNote, n)
				}
			}
			if got.Currency != "USD" || got.Cluster != "prod" || got.Namespace != "shop" ||
				got.Workload != (model.WorkloadRef{Kind: "Deployment", Name: "web"}) || got.Container != "app" {
				t.Errorf("identity = %q %q %v %q %q", got.Cluster, got.Namespace, got.Workload, got.Container, got.Currency)
			}
			checkPtr(t, "current cpu request", got.Current.CPURequest, s.Current.CPURequest)
			checkPtr(t, "current memory limit", got.Current.MemoryLimit, s.Current.MemoryLimit)
		})
	}
}

func TestRecommendCopiesCurrent(t *testing.T) {
	s := base()
	r := Recommend(s, DefaultPolicy())
	*s.Current.CPURequest = 7
	if *r.Current.CPURequest != 0.4 {
		t.Errorf("current cpu request = %v after changing the input, want 0.4", *r.Current.CPURequest)
	}
}

func TestEvidence(t *testing.T) {
	tests := []struct {
		name  string
		stats func(*Stats)
		want  string
	}{
		{
			name: "the issue's example",
			stats: func(s *Stats) {
				s.MemoryPeakBytes = 612 * mib
				s.OOMKills = 1
				s.MemoryLimitAtOOMBytes = 512 * mib
			},
			want: "cpu p95 0.231 cores over 14d, 60,480 samples, 3 pods; memory peak 612 MiB; 1 OOM kill",
		},
		{
			name: "plain",
			want: "cpu p95 0.231 cores over 14d, 60,480 samples, 3 pods; memory peak 400 MiB",
		},
		{
			name: "hours, one pod, fractional percentile, kills and throttling",
			stats: func(s *Stats) {
				s.Window = 36 * time.Hour
				s.Samples = 1234567
				s.Pods, s.Replicas = 1, 1
				s.CPUPercentile = 99.9
				s.CPUPercentileCores = 1.5
				s.MemoryPeakBytes = 1.5 * gib
				s.OOMKills = 2
				s.ThrottledRatio = 0.125
			},
			want: "cpu p99.9 1.500 cores over 36h, 1,234,567 samples, 1 pod; memory peak 1536 MiB; 2 OOM kills; throttled 12.5% of periods",
		},
		{
			name:  "fewer replicas running than pods seen",
			stats: func(s *Stats) { s.Pods, s.Replicas = 5, 2.4 },
			want:  "cpu p95 0.231 cores over 14d, 60,480 samples, 5 pods (2.40 running on average); memory peak 400 MiB",
		},
		{
			name: "odd window, no percentile given falls back to the policy's",
			stats: func(s *Stats) {
				s.Window = 90 * time.Minute
				s.Samples = 90
				s.CPUPercentile = 0
			},
			want: "cpu p95 0.231 cores over 1h30m0s, 90 samples, 3 pods; memory peak 400 MiB",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			if tt.stats != nil {
				tt.stats(&s)
			}
			if got := Recommend(s, DefaultPolicy()).Evidence; got != tt.want {
				t.Errorf("evidence =\n%q, want\n%q", got, tt.want)
			}
		})
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 20160: "20,160", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSortAndTotals(t *testing.T) {
	rec := func(ns, name string, savings float64) Recommendation {
		return Recommendation{Cluster: "prod", Namespace: ns, Workload: model.WorkloadRef{Kind: "Deployment", Name: name}, Container: "app", MonthlySavings: savings}
	}
	recs := []Recommendation{
		rec("shop", "b", 5),
		rec("shop", "c", -2.5),
		rec("jobs", "z", 10),
		rec("shop", "a", 5),
		rec("jobs", "y", 0),
	}
	Sort(recs)
	var got []string
	for _, r := range recs {
		got = append(got, r.Namespace+"/"+r.Workload.Name)
	}
	// 10, then the two 5s by name, 0, −2.5.
	want := []string{"jobs/z", "shop/a", "shop/b", "jobs/y", "shop/c"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %q, want %q", got, want)
	}
	// 10 + 5 + 5 + 0 − 2.5 = 17.5.
	if total := Totals(recs); !near(total, 17.5) {
		t.Errorf("total = %v, want 17.5", total)
	}
	if total := Totals(nil); total != 0 {
		t.Errorf("total of none = %v, want 0", total)
	}
}

func TestDefaultPolicy(t *testing.T) {
	want := Policy{
		CPUPercentile: 95, CPUFloorCores: 0.010, MemoryBufferPercent: 15, MemoryFloorBytes: 67108864,
		OOMLimitFactor: 1.2, OOMHeadroomBytes: 104857600, ThrottleFlagRatio: 0.10,
		MinWindow: 24 * time.Hour, MinSamples: 100, HoursPerMonth: 730,
	}
	if got := DefaultPolicy(); got != want {
		t.Errorf("DefaultPolicy() = %+v, want %+v", got, want)
	}
}

func checkPtr(t *testing.T, what string, got, want *float64) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %s, want %s", what, show(got), show(want))
	case !near(*got, *want):
		t.Errorf("%s = %s, want %s", what, show(got), show(want))
	}
}

func show(p *float64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// near compares with a relative tolerance of 1e-9: the arithmetic above is exact to far
// more digits than that, and byte counts like 644,245,094.4 are not integers.
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}
