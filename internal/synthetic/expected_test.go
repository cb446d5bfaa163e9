package synthetic

import (
	"math"
	"strings"
	"testing"
	"time"
)

const (
	testMiB = 1 << 20
	testGiB = 1 << 30
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// podOn returns the expected container of a workload whose pod runs on the node of the
// given class (nodes of cell 0 are ip-10-0-0-10 ... -14, in nodeClasses order).
func podOn(t *testing.T, e Expected, workload, container string, nodeSuffix string) *ExpectedContainer {
	t.Helper()
	for i := range e.Containers {
		ct := &e.Containers[i]
		if ct.Workload.Name == workload && ct.Container.Container == container && strings.HasPrefix(ct.Node, "ip-10-0-0-"+nodeSuffix+".") {
			return ct
		}
	}
	t.Fatalf("no %s/%s container on node ...-%s", workload, container, nodeSuffix)
	return nil
}

// The numbers below are worked out by hand (and checked with a calculator), not with the
// package's code. Window: End = 2026-02-01T00:00Z (1769904000), Start = End − 48 h =
// 2026-01-30T00:00Z (1769731200, a UTC midnight), 2880 minutes, 48 full hours.

func TestExpectedSteady(t *testing.T) {
	e := newCluster(t, Options{}).Expected()
	// web replica r runs on slot r (od-a -10, od-b -11, spot -12) at 0.30 + 0.02·r cores and
	// 300 MiB + 16 MiB·r, for the whole window (its pod started 3 days before Start).
	for r, node := range []string{"10", "11", "12"} {
		ct := podOn(t, e, "web", "app", node)
		cores := 0.30 + 0.02*float64(r)
		// ∫ over an hour of a constant c = 3600·c; ÷ 3600 = c.
		if len(ct.Hours) != 48 || ct.RunningMinutes != 2880 {
			t.Fatalf("web-%d: %d hours, %d minutes; want 48, 2880", r, len(ct.Hours), ct.RunningMinutes)
		}
		for _, h := range ct.Hours {
			if h.RunningMinutes != 60 || !near(h.CPUUsageCores, cores, 1e-12) {
				t.Errorf("web-%d hour %s: %+v, want 60 minutes at %g cores", r, h.Hour, h, cores)
			}
			// Charged: usage below the 0.5-core, 512 MiB request every minute, so the request:
			// 60 × 0.5 = 30 core-minutes and 60 × 536870912 = 32212254720 byte-minutes.
			if !near(h.CPUChargedCoreMinutes, 30, 1e-9) || !near(h.RAMChargedByteMinutes, 32212254720, 1e-3) {
				t.Errorf("web-%d hour %s: charged %v core-minutes, %v byte-minutes; want 30, 32212254720",
					r, h.Hour, h.CPUChargedCoreMinutes, h.RAMChargedByteMinutes)
			}
		}
		// 48 h × 3600 s × c: 51840, 55296, 58752 core-seconds.
		if want := []float64{51840, 55296, 58752}[r]; !near(ct.CPUUsageCoreSeconds, want, 1e-6) {
			t.Errorf("web-%d: %v core-seconds, want %v", r, ct.CPUUsageCoreSeconds, want)
		}
		// 300 MiB = 314572800, 316 MiB = 331350016, 332 MiB = 348127232.
		if want := []uint64{314572800, 331350016, 348127232}[r]; ct.MemoryPeakBytes != want {
			t.Errorf("web-%d: peak %d, want %d", r, ct.MemoryPeakBytes, want)
		}
		if ct.QoSClass != "Guaranteed" || ct.CPURequestCores != 0.5 || ct.MemoryLimitBytes != 512*testMiB {
			t.Errorf("web-%d: %s %g cores %d bytes", r, ct.QoSClass, ct.CPURequestCores, ct.MemoryLimitBytes)
		}
		// Guaranteed with a CPU limit: 10 CFS periods a second, none throttled: 1,728,000.
		if ct.CPUPeriods != 1728000 || ct.CPUThrottledPeriods != 0 {
			t.Errorf("web-%d: periods %g throttled %g", r, ct.CPUPeriods, ct.CPUThrottledPeriods)
		}
	}
	w := e.Workload("shop", "web", "app")
	// Pooled: 3 × 2880 samples, 2880 each of 0.30, 0.32, 0.34; rank ⌈0.95·8640⌉ = 8208 lies in
	// the last third (5761..8640): p95 = 0.34. Mean (0.30+0.32+0.34)/3 = 0.32.
	if w.Samples != 8640 || w.Pods != 3 || !near(w.CPUUsageP95Cores, 0.34, 1e-12) || !near(w.CPUUsageMaxCores, 0.34, 1e-12) ||
		!near(w.CPUUsageMeanCores, 0.32, 1e-12) || w.MemoryPeakBytes != 348127232 {
		t.Errorf("web workload: %+v", w)
	}
}

func TestExpectedDiurnal(t *testing.T) {
	e := newCluster(t, Options{}).Expected()
	// api: r(t) = 0.6 + 0.4·sin(2πt/86400), t in Unix seconds; Start is a UTC midnight, so
	// hour h of a day spans angles 2πh/24 to 2π(h+1)/24. With ω = 2π/86400:
	//   ∫ r dt over [h, h+1) = 0.6·3600 − (0.4/ω)·(cos(2π(h+1)/24) − cos(2πh/24)),
	//   0.4/ω = 0.4·86400/2π = 5500.4230...
	// h = 0:  (2160 + 5500.4230·(1 − cos 15°)) / 3600 = (2160 + 187.4214) / 3600 = 0.6520615025
	// h = 6:  (2160 + 5500.4230·(cos 90° − cos 105°)) / 3600 = (2160 + 1423.6069) / 3600 = 0.9954463718
	// h = 18: (2160 − 5500.4230·(cos 285° − cos 270°)) / 3600 = (2160 − 1423.6069) / 3600 = 0.2045536282
	// h = 23: (2160 − 5500.4230·(cos 360° − cos 345°)) / 3600 = 0.5479384975
	// and over a whole day the sine integrates to 0: 0.6 cores on average.
	want := map[int]float64{0: 0.6520615025075203, 6: 0.9954463717861476, 18: 0.20455362821385273, 23: 0.5479384974924795}
	for _, node := range []string{"10", "11", "12"} {
		ct := podOn(t, e, "api", "api", node)
		if len(ct.Hours) != 48 {
			t.Fatalf("api: %d hours", len(ct.Hours))
		}
		for i, h := range ct.Hours {
			if w, ok := want[i%24]; ok && !near(h.CPUUsageCores, w, 1e-9) {
				t.Errorf("api on %s hour %s: %.12f cores, want %.12f", node, h.Hour, h.CPUUsageCores, w)
			}
		}
		if !near(ct.CPUUsageCoreSeconds, 0.6*172800, 1e-6) {
			t.Errorf("api: %v core-seconds over 2 days, want 103680", ct.CPUUsageCoreSeconds)
		}
		// Memory 640 MiB + 128 MiB·sin: the sample at 06:00 has sin = 1: 768 MiB = 805306368.
		if ct.MemoryPeakBytes != 805306368 || ct.MemoryPeakAt.Hour() != 6 {
			t.Errorf("api: peak %d at %s, want 805306368 at 06:00", ct.MemoryPeakBytes, ct.MemoryPeakAt)
		}
		if ct.QoSClass != "Burstable" || ct.CPURequestCores == ct.CPULimitCores {
			t.Errorf("api: %s, request %g limit %g: want Burstable with request ≠ limit", ct.QoSClass, ct.CPURequestCores, ct.CPULimitCores)
		}
	}
	// The p95 of a sinusoid sampled uniformly: P(sin θ > x) = 0.05 ⇔ x = sin(0.45π) =
	// 0.98769, so p95 ≈ 0.6 + 0.4·0.98769 = 0.99508; 1-minute averages and the discrete rank
	// give 0.99494 (three identical replicas pool to the same rank).
	w := e.Workload("shop", "api", "api")
	if !near(w.CPUUsageP95Cores, 0.9950753362380551, 2e-4) || !near(w.CPUUsageP95Cores, 0.9949375680190962, 1e-9) {
		t.Errorf("api p95 = %.10f", w.CPUUsageP95Cores)
	}
	if !near(w.CPUUsageMaxCores, 1, 1e-5) || !near(w.CPUUsageMeanCores, 0.6, 1e-9) || len(w.HPAResources) != 1 {
		t.Errorf("api workload: %+v", w)
	}
	if len(e.Autoscalers) != 1 || e.Autoscalers[0].Target.Name != "api" || e.Autoscalers[0].MinReplicas != 2 {
		t.Errorf("autoscalers %+v", e.Autoscalers)
	}
}

func TestExpectedOtherProfiles(t *testing.T) {
	e := newCluster(t, Options{}).Expected()
	start := time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC)

	// Spiky: 0.05 cores, 0.9 from :29 to :31: (0.05·3480 + 0.9·120)/3600 = 0.0783333 per
	// hour. Bursts are 2 of 60 minutes, so p95 = 0.05 and max = 0.9. Throttled: half the
	// periods of 120 s an hour: 0.5·10·120·48 = 28800.
	s := podOn(t, e, "search", "search", "10")
	for _, h := range s.Hours {
		if !near(h.CPUUsageCores, 0.07833333333333334, 1e-12) {
			t.Fatalf("search hour %s: %g", h.Hour, h.CPUUsageCores)
		}
	}
	if s.CPUThrottledPeriods != 28800 || s.CPUPeriods != 1728000 {
		t.Errorf("search: throttled %g of %g periods", s.CPUThrottledPeriods, s.CPUPeriods)
	}
	if w := e.Workload("shop", "search", "search"); w.CPUUsageP95Cores != 0.05 || !near(w.CPUUsageMaxCores, 0.9, 1e-12) {
		t.Errorf("search: p95 %g max %g", w.CPUUsageP95Cores, w.CPUUsageMaxCores)
	}

	// OOM: started Start − 2h47m, 128 MiB growing to 512 MiB in 20 h, killed when it gets
	// there: Start + 17h13m and Start + 37h13m. The last sample before a kill is 30 s early:
	// 128 MiB + 384 MiB/20 h·(20 h − 30 s) = 536870912 − 167772.16 → 536703139.
	o := podOn(t, e, "recommender", "model", "12")
	if len(o.OOMKills) != 2 || !o.OOMKills[0].At.Equal(start.Add(17*time.Hour+13*time.Minute)) ||
		!o.OOMKills[1].At.Equal(start.Add(37*time.Hour+13*time.Minute)) || o.OOMKills[0].MemoryLimitBytes != 512*testMiB {
		t.Errorf("OOM kills %+v", o.OOMKills)
	}
	if o.MemoryPeakBytes != 536703139 || o.RestartCount != 2 || o.LastTerminationReason != "OOMKilled" ||
		!o.StartedAt.Equal(o.OOMKills[1].At) || o.RunningMinutes != 2880 {
		t.Errorf("OOM container: peak %d restarts %d %q started %s minutes %d", o.MemoryPeakBytes, o.RestartCount,
			o.LastTerminationReason, o.StartedAt, o.RunningMinutes)
	}

	// Memory growth: cache-0 started Start − 72h + 36m and grows 4 MiB/h from 1 GiB; at End
	// it is 119.4 h old: 1073741824 + 4194304·119.4 = 1574541721.6 → 1574541721.
	if c := podOn(t, e, "cache", "cache", "10"); c.MemoryPeakBytes != 1574541721 || !c.MemoryPeakAt.Equal(e.End) {
		t.Errorf("cache-0: peak %d at %s", c.MemoryPeakBytes, c.MemoryPeakAt)
	}

	// Batch: starts at 00:40 of the middle day, runs 40 minutes: 20 minutes in each of two
	// hours at 0.8 cores: 0.8·1200/3600 = 0.2666667 each.
	b := podOn(t, e, "weekly-report", "report", "12")
	jobStart := start.Add(24*time.Hour + 40*time.Minute)
	if !b.Finished || b.Phase != "Succeeded" || !b.RunningFrom.Equal(jobStart) ||
		!b.RunningUntil.Equal(jobStart.Add(40*time.Minute)) || b.RunningMinutes != 40 || len(b.Hours) != 2 {
		t.Fatalf("batch: %+v", b)
	}
	for _, h := range b.Hours {
		if h.RunningMinutes != 20 || !near(h.CPUUsageCores, 0.8*1200/3600, 1e-12) {
			t.Errorf("batch hour %+v", h)
		}
	}
	if w := e.Workload("batch", "weekly-report", "report"); w.Samples != 40 || w.Workload.Kind != KindCronJob {
		t.Errorf("batch workload %+v", w)
	}

	// Too young: started End − 6h: 360 minutes, 6 hours of 0.08 cores.
	y := e.Workload("shop", "promo", "promo")
	if y.Samples != 360 || !y.FirstMinute.Equal(e.End.Add(-6*time.Hour)) || !y.LastMinute.Equal(e.End.Add(-time.Minute)) {
		t.Errorf("young workload %+v", y)
	}

	// BestEffort bare pod, GPU, DaemonSet.
	d := podOn(t, e, "debug", "shell", "10")
	if d.QoSClass != "BestEffort" || d.Workload.Kind != KindPod || d.Workload.Name != "debug" || d.CPURequestCores != 0 {
		t.Errorf("debug: %+v", d.Container)
	}
	g := podOn(t, e, "trainer", "trainer", "13")
	if g.GPURequest != 1 {
		t.Errorf("trainer GPU request %g", g.GPURequest)
	}
	if w := e.Workload("monitoring", "node-exporter", "node-exporter"); w.Pods != 5 || w.Workload.Kind != KindDaemonSet {
		t.Errorf("daemonset %+v", w)
	}
	gpuNodes := 0
	for _, n := range e.Nodes {
		if n.GPUCapacity == 1 && n.InstanceType == "g4dn.xlarge" && n.Labels["karpenter.sh/capacity-type"] == "on-demand" {
			gpuNodes++
		}
	}
	if len(e.Nodes) != 5 || gpuNodes != 1 || e.Nodes[2].CapacityType != "spot" || e.Nodes[4].InstanceType != "m5.large" ||
		e.Nodes[0].CPUCapacityCores != 4 || e.Nodes[0].MemoryCapacityBytes != 16*testGiB {
		t.Errorf("nodes %+v", e.Nodes)
	}
}
