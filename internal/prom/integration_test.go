package prom

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/stacktest"
)

// loadFixture makes sure the stack's Prometheus holds the fixture, loading it with
// hack/stack/prom-load.sh (which restarts Prometheus) only when it is not there yet.
func loadFixture(t *testing.T, url string) {
	t.Helper()
	c := newTestClient(t, url, Options{Retry: Retry{Attempts: 1}})
	loaded := func() bool {
		tab, err := fetch[struct{}](context.Background(), c,
			instantRequest("fixture marker", `promtest_fixture_info{version="`+fixtureVersion+`"}`, fxBase), 1)
		return err == nil && tab.rows() == 1
	}
	if loaded() {
		return
	}
	file := filepath.Join(t.TempDir(), "prom-fixture.om")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeOpenMetrics(f, fixtureSeries()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "hack/stack/prom-load.sh"), file)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("prom-load.sh: %v\n%s", err, out)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !loaded() {
		if time.Now().After(deadline) {
			t.Fatal("the fixture loaded with prom-load.sh does not show up in Prometheus within 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type usageKey struct {
	ns, pod, container string
	at                 time.Time
}

func byKey(samples []model.UsageSample, namespaces ...string) map[usageKey]model.UsageSample {
	want := map[string]bool{}
	for _, ns := range namespaces {
		want[ns] = true
	}
	m := map[usageKey]model.UsageSample{}
	for _, s := range samples {
		if want[s.Namespace] {
			m[usageKey{s.Namespace, s.Pod, s.Container, s.Timestamp}] = s
		}
	}
	return m
}

func TestIntegrationUsage(t *testing.T) {
	url := stacktest.PrometheusURL(t)
	loadFixture(t, url)
	ctx := context.Background()
	from, to := fxBase, fxBase.Add(3*time.Hour)

	c := newTestClient(t, url, Options{Chunk: time.Hour})
	samples, err := c.Usage(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	// The count query, then cpu, its sample times, memory, throttled, periods, start times
	// and pod completion times for each of 3 one-hour chunks.
	if got, want := c.QueryCount(), int64(1+7*3); got != want {
		t.Errorf("QueryCount = %d, want 1 + 7 × 3 = %d", got, want)
	}
	got := byKey(samples, fxNSWeb, fxNSBatch, fxNSAPI)
	gotAll := byKey(samples, fxNSWeb, fxNSBatch, fxNSAPI, fxNSOOM, fxNSJobs)
	for _, s := range samples {
		if s.Cluster != "" || s.Workload != (model.WorkloadRef{}) || s.Timestamp.Location() != time.UTC {
			t.Fatalf("sample %+v: cluster and workload must be empty, time UTC", s)
		}
		if s.Container == "" || s.Container == "POD" {
			t.Fatalf("pod-level series leaked: %+v", s)
		}
	}

	// Presence: A and C ran all 180 minutes, B from 00:20 to 02:40 (its counter lingers
	// five more minutes in Prometheus's lookback; those minutes must not count).
	minutes := map[string]int{}
	for k := range got {
		minutes[k.pod]++
	}
	if minutes[fxPodA] != 180 || minutes[fxPodB] != 140 || minutes[fxPodC] != 180 || len(minutes) != 3 {
		t.Fatalf("minutes per pod = %v, want A 180, B 140, C 180", minutes)
	}
	for m := range 180 {
		at := from.Add(time.Duration(m) * time.Minute)
		_, ok := got[usageKey{fxNSBatch, fxPodB, "worker", at}]
		if want := !at.Before(fxBStart) && at.Before(fxBEnd); ok != want {
			t.Errorf("B at %s: present %v, want %v", at.Format(time.TimeOnly), ok, want)
		}
	}

	at := func(hm string) time.Time {
		d, err := time.ParseDuration(hm)
		if err != nil {
			t.Fatal(err)
		}
		return fxBase.Add(d)
	}
	sample := func(ns, pod, container, hm string) model.UsageSample {
		t.Helper()
		s, ok := gotAll[usageKey{ns, pod, container, at(hm)}]
		if !ok {
			t.Fatalf("no sample for %s/%s at +%s", pod, container, hm)
		}
		return s
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %.12g, want %.12g", what, got, want)
		}
	}

	// Worked out by hand from the fixture.
	a := func(hm string) model.UsageSample { return sample(fxNSWeb, fxPodA, "app", hm) }
	b := func(hm string) model.UsageSample { return sample(fxNSBatch, fxPodB, "worker", hm) }
	cc := func(hm string) model.UsageSample { return sample(fxNSAPI, fxPodC, "server", hm) }
	for m := range 180 {
		s := a(fmt.Sprintf("%dm", m))
		near(fmt.Sprintf("A cpu minute %d", m), s.CPUUsageCores, 0.25)
		if s.CPUThrottledPeriods != 30 || s.CPUPeriods != 600 {
			t.Errorf("A minute %d: throttled %v of %v periods, want 30 of 600", m, s.CPUThrottledPeriods, s.CPUPeriods)
		}
	}
	// The 700 MiB sampled at 01:17:00 is the peak of (01:16, 01:17], not of the next minute.
	if a("76m").MemoryWorkingSetBytes != 700*mib || a("77m").MemoryWorkingSetBytes != 200*mib || a("75m").MemoryWorkingSetBytes != 200*mib {
		t.Errorf("A working set 01:15–01:17 = %d, %d, %d; want 200, 700, 200 MiB",
			a("75m").MemoryWorkingSetBytes/mib, a("76m").MemoryWorkingSetBytes/mib, a("77m").MemoryWorkingSetBytes/mib)
	}
	near("B cpu 00:35 (0.2 cores all minute)", b("35m").CPUUsageCores, 0.2)
	// B is scraped at :15 and :45 and read at the minute boundaries: the readings are the
	// samples at :45, 60 s apart, each increase spread evenly over its 60 s. Minute 00:40
	// gets 45 s of (00:39:45–00:40:45: 15 s at 0.2, 45 s at 0.05) and 15 s of
	// (00:40:45–00:41:45, at 0.05); the step in the rate is smeared over the samples' minute.
	near("B cpu 00:40", b("40m").CPUUsageCores, (0.75*(15*0.2+45*0.05)+0.25*60*0.05)/60)
	// B has no start time: its time before its first reading (00:20:45) is not seen, and
	// minute 00:20 gets the 15 s after it at 0.15 cores.
	near("B cpu 00:20 (no start time)", b("20m").CPUUsageCores, 15*0.15/60)
	if b("20m").MemoryWorkingSetBytes != 100*mib+1024*45 {
		t.Errorf("B first minute working set = %d", b("20m").MemoryWorkingSetBytes)
	}
	if b("21m").CPUThrottledPeriods != 0 || b("21m").CPUPeriods != 0 {
		t.Errorf("B has no CFS series but got %+v", b("21m"))
	}
	// C's counter resets at 01:30:00. The reset's increase (the new counter, 22.5 s at
	// 01:30:45) is spread over 01:29:45–01:30:45 like any other: 15 s of it in 01:29.
	near("C cpu 01:29", cc("89m").CPUUsageCores, (0.75*30+0.25*22.5)/60)
	near("C cpu 01:30 (reset)", cc("90m").CPUUsageCores, (0.75*22.5+0.25*30)/60)
	near("C cpu 01:31", cc("91m").CPUUsageCores, 0.5)
	if cc("89m").MemoryWorkingSetBytes != 256*mib || cc("90m").MemoryWorkingSetBytes != 64*mib {
		t.Errorf("C working set around the OOM kill: %d, %d MiB", cc("89m").MemoryWorkingSetBytes/mib, cc("90m").MemoryWorkingSetBytes/mib)
	}
	if s := cc("90m"); math.Abs(s.CPUThrottledPeriods-(0.75*45+0.25*60)) > 1e-9 || math.Abs(s.CPUPeriods-(0.75*450+0.25*600)) > 1e-9 {
		t.Errorf("C CFS counters after the reset: %v of %v, want 48.75 of 487.5", s.CPUThrottledPeriods, s.CPUPeriods)
	}

	// Hourly averages: the counter's increase over the hour / 3600.
	series := fixtureSeries()
	hourAvg := func(ns, pod, container string, hour int) float64 {
		sum := 0.0
		for m := range 60 {
			sum += got[usageKey{ns, pod, container, from.Add(time.Duration(hour*60+m) * time.Minute)}].CPUUsageCores
		}
		return sum / 60
	}
	for h := range 3 {
		near(fmt.Sprintf("A hour %d average", h), hourAvg(fxNSWeb, fxPodA, "app", h), 0.25)
	}
	bs := fxSeriesOf(series, "container_cpu_usage_seconds_total", fxNSBatch, fxPodB, "worker")
	// The hour's readings are at 00:59:45 and 01:59:45; the hour gets 45 s of the pair that
	// starts at each, and 15 s of the pair that ends at each.
	hourB := bs.readingAt(at("120m")) - bs.readingAt(at("60m")) +
		0.25*(bs.readingAt(at("121m"))-bs.readingAt(at("120m"))) - 0.25*(bs.readingAt(at("61m"))-bs.readingAt(at("60m")))
	near("B hour 1 average", hourAvg(fxNSBatch, fxPodB, "worker", 1), hourB/3600)
	near("C hour 1 average (30 min at 0.5, the restart minute's 22.5 s, 29 min at 0.5)", hourAvg(fxNSAPI, fxPodC, "server", 1), (900+22.5+870)/3600.0)

	// Container instances, worked out by hand. D: an OOM kill at 01:00:20, the old
	// instance's series frozen at its 01:00:15 value (0.4 × 3915 s = 1566) in the lookback
	// until 01:05:15, the new one started at 01:00:40.
	d := func(hm string) model.UsageSample { return sample(fxNSOOM, fxPodD, "consumer", hm) }
	near("D cpu 00:59", d("59m").CPUUsageCores, 0.4)
	// Minute 01:00: the old instance's 01:00:00–01:00:15 at 0.4 (6 s), the new one's start
	// to first sample (5 s at 0.6) and 15 s of its next pair (9 s): exactly what it used.
	near("D cpu 01:00", d("60m").CPUUsageCores, (6+3+9)/60.0)
	for m := 61; m < 180; m++ {
		near(fmt.Sprintf("D cpu minute %d (the old instance frozen, then gone: no reset)", m), d(fmt.Sprintf("%dm", m)).CPUUsageCores, 0.6)
	}
	if s := d("60m"); s.MemoryWorkingSetBytes != 300*mib || s.CPUPeriods != 3500 || s.CPUThrottledPeriods != 180 {
		t.Errorf("D at 01:00 = %+v, want 300 MiB, 3500 periods, 180 throttled", s)
	}
	if s := d("65m"); s.MemoryWorkingSetBytes != 100*mib || s.CPUPeriods != 6000 || s.CPUThrottledPeriods != 360 {
		t.Errorf("D at 01:05 = %+v, want 100 MiB, 6000 periods, 360 throttled", s)
	}
	// E and G: Jobs starting mid-minute. The first partial minute counts: E's 15 s (00:10:30
	// to its first sample) at 0.3 cores; G's the same in the last minute of the hour chunk,
	// counted once.
	e := func(hm string) model.UsageSample { return sample(fxNSJobs, fxPodE, "etl", hm) }
	g := func(hm string) model.UsageSample { return sample(fxNSJobs, fxPodG, "etl", hm) }
	// E ran 30 s of minute 00:10 (from 00:10:30), and its series ends at its last sample,
	// 00:49:45: the last 15 s are not seen.
	near("E cpu 00:10 (started 00:10:30)", e("10m").CPUUsageCores, 0.3*30/60)
	near("E cpu 00:11", e("11m").CPUUsageCores, 0.3)
	near("E cpu 00:49 (last sample 00:49:45)", e("49m").CPUUsageCores, 0.3*45/60)
	if s := e("10m"); s.CPUPeriods != 3000 || s.CPUThrottledPeriods != 90 || s.MemoryWorkingSetBytes != 80*mib {
		t.Errorf("E at 00:10 = %+v, want 3000 periods, 90 throttled, 80 MiB", s)
	}
	near("G cpu 01:59 (started 01:59:30)", g("119m").CPUUsageCores, 0.3*30/60)
	near("G cpu 02:00", g("120m").CPUUsageCores, 0.3)
	near("G cpu 02:29 (last sample 02:29:45)", g("149m").CPUUsageCores, 0.3*45/60)
	// F: no samples 01:30:15–01:39:45. The minutes of the gap have no sample (the frozen
	// readings until 01:34:45 show no growth); at 01:40 the readings resume with F's
	// cumulative time since 23:55, which is not that minute's usage.
	f := func(hm string) model.UsageSample { return sample(fxNSOOM, fxPodF, "redis", hm) }
	// F's gap (01:29:45 to 01:40:15) is longer than MaxGap: not bridged. Minute 01:29 runs to
	// its last sample (45 s); minute 01:40 from its first reading after the gap, 01:40:45.
	near("F cpu 01:29", f("89m").CPUUsageCores, 0.1*45/60)
	if s := f("100m"); math.Abs(s.CPUUsageCores-0.1*15/60) > 1e-9 || s.MemoryWorkingSetBytes != 30*mib || s.CPUPeriods != 1500 {
		t.Errorf("F at 01:40 = %+v, want 0.025 cores, 30 MiB, 1500 periods", s)
	}
	near("F cpu 01:41", f("101m").CPUUsageCores, 0.1)

	newMinutes := map[string]int{}
	for k := range byKey(samples, fxNSOOM, fxNSJobs) {
		newMinutes[k.pod]++
	}
	if want := map[string]int{fxPodD: 180, fxPodE: 40, fxPodF: 170, fxPodG: 31}; !reflect.DeepEqual(newMinutes, want) {
		t.Errorf("minutes per pod = %v, want %v", newMinutes, want)
	}
	avg := func(ns, pod, container string, hour int) float64 {
		sum := 0.0
		for m := range 60 {
			sum += gotAll[usageKey{ns, pod, container, from.Add(time.Duration(hour*60+m) * time.Minute)}].CPUUsageCores
		}
		return sum / 60
	}
	near("D hour 0 average", avg(fxNSOOM, fxPodD, "consumer", 0), 0.4)
	near("D hour 1 average (15 s at 0.4, 20 s at 0.6, then 59 minutes at 0.6)", avg(fxNSOOM, fxPodD, "consumer", 1), (6+12+59*36)/3600.0)
	near("D hour 2 average", avg(fxNSOOM, fxPodD, "consumer", 2), 0.6)
	near("E hour 0 average (4.5 s, then 39 minutes at 0.3)", avg(fxNSJobs, fxPodE, "etl", 0), (4.5+39*18)/3600)
	near("F hour 1 average (49 minutes at 0.1)", avg(fxNSOOM, fxPodF, "redis", 1), 49*6/3600.0)

	// Every minute of every container against the fixture, by the documented rules.
	for _, ct := range []struct{ ns, pod, container string }{
		{fxNSWeb, fxPodA, "app"}, {fxNSBatch, fxPodB, "worker"}, {fxNSAPI, fxPodC, "server"},
		{fxNSOOM, fxPodD, "consumer"}, {fxNSOOM, fxPodF, "redis"}, {fxNSJobs, fxPodE, "etl"}, {fxNSJobs, fxPodG, "etl"},
	} {
		cpus := fxInstancesOf(series, "container_cpu_usage_seconds_total", ct.ns, ct.pod, ct.container)
		mems := fxInstancesOf(series, "container_memory_working_set_bytes", ct.ns, ct.pod, ct.container)
		starts := fxInstancesOf(series, "container_start_time_seconds", ct.ns, ct.pod, ct.container)
		startOf := func(cpu *fxSeries) *fxSeries {
			for _, s := range starts {
				if s.labels["id"] == cpu.labels["id"] {
					return s
				}
			}
			return nil
		}
		for m := range 180 {
			m0 := from.Add(time.Duration(m) * time.Minute)
			m1 := m0.Add(time.Minute)
			wantCPU, covered := 0.0, 0.0
			for _, cpu := range cpus {
				c, cov := ruleCPU(cpu, startOf(cpu), from, to, m0, m1)
				wantCPU += c / 60
				covered += cov
			}
			peak := math.NaN()
			for _, mem := range mems {
				if v := mem.maxIn(m0, m1); !math.IsNaN(v) && !(v <= peak) {
					peak = v
				}
			}
			s, ok := gotAll[usageKey{ct.ns, ct.pod, ct.container, m0}]
			if want := covered > 0 || wantCPU > 0; ok != want {
				t.Errorf("%s at %s: present %v, want %v", ct.pod, m0.Format(time.TimeOnly), ok, want)
			}
			if !ok {
				continue
			}
			near(fmt.Sprintf("%s cpu at %s", ct.pod, m0.Format(time.TimeOnly)), s.CPUUsageCores, wantCPU)
			if want := toBytes(peak); !math.IsNaN(peak) && s.MemoryWorkingSetBytes != want {
				t.Errorf("%s working set at %s = %d, want %d", ct.pod, m0.Format(time.TimeOnly), s.MemoryWorkingSetBytes, want)
			}
		}
	}

	// Other chunkings give the same samples: chunks share their boundary readings.
	for _, opts := range []Options{{Chunk: 7 * time.Minute}, {Chunk: 3 * time.Hour, MaxSamples: 50}} {
		c2 := newTestClient(t, url, opts)
		again, err := c2.Usage(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		got2 := byKey(again, fxNSWeb, fxNSBatch, fxNSAPI, fxNSOOM, fxNSJobs)
		if len(got2) != len(gotAll) {
			t.Fatalf("chunk %s, max samples %d: %d samples, want %d", opts.Chunk, opts.MaxSamples, len(got2), len(gotAll))
		}
		for k, s := range gotAll {
			if got2[k] != s {
				t.Fatalf("chunk %s: %+v, want %+v", opts.Chunk, got2[k], s)
			}
		}
		t.Logf("chunk %s, max samples %d: %d queries", opts.Chunk, opts.MaxSamples, c2.QueryCount())
	}
}

// The stack's own fixture has samples exactly on minute boundaries: each belongs to the
// minute that ends there, and its two hours are 120 minutes, not 121.
func TestIntegrationUsageStackFixture(t *testing.T) {
	url := stacktest.PrometheusURL(t)
	c := newTestClient(t, url, Options{})
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	samples, err := c.Usage(context.Background(), from, from.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range samples {
		if s.Namespace != "shop" || s.Pod != "web-0" || s.Container != "app" {
			continue
		}
		n++
		if s.Timestamp.Before(from) || !s.Timestamp.Before(from.Add(2*time.Hour)) {
			t.Errorf("sample at %s, outside the fixture's 00:00–02:00", s.Timestamp)
		}
		if s.CPUUsageCores != 0.5 || s.MemoryWorkingSetBytes != 268435456 {
			t.Errorf("sample %+v, want 0.5 cores and 256 MiB", s)
		}
	}
	if n != 120 {
		t.Fatalf("%d samples for shop/web-0/app, want 120", n)
	}
}

func TestIntegrationKubeState(t *testing.T) {
	url := stacktest.PrometheusURL(t)
	loadFixture(t, url)
	ctx := context.Background()
	from, to := fxBase, fxBase.Add(3*time.Hour)

	c := newTestClient(t, url, Options{Chunk: time.Hour})
	ks, err := c.KubeState(ctx, from, to, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// 36 steps and the reading before the first, 12 steps a chunk: 3 chunks of 10 queries.
	if got, want := c.QueryCount(), int64(1+kubeStateQueries*3); got != want {
		t.Errorf("QueryCount = %d, want 1 + 11 × 3 = %d", got, want)
	}
	if !ks.Present {
		t.Fatal("Present = false")
	}
	type key struct {
		pod string
		at  time.Time
	}
	snaps := map[key]model.Container{}
	for _, ct := range ks.Containers {
		switch ct.Namespace {
		case fxNSWeb, fxNSBatch, fxNSAPI:
			snaps[key{ct.Pod, ct.ObservedAt}] = ct
		}
	}
	// A, C and debug at all 36 steps; B from 00:25 (its first reading is at 00:20:15) to
	// 02:50 (its last at 02:49:45, seen through the lookback until 02:54:45).
	perPod := map[string]int{}
	for k := range snaps {
		perPod[k.pod]++
	}
	if perPod[fxPodA] != 36 || perPod[fxPodC] != 36 || perPod[fxPodDebug] != 36 || perPod[fxPodB] != 30 {
		t.Errorf("snapshots per pod = %v", perPod)
	}
	check := func(pod string, at time.Duration, want model.Container) {
		t.Helper()
		got, ok := snaps[key{pod, fxBase.Add(at)}]
		if !ok {
			t.Errorf("no snapshot of %s at +%s", pod, at)
			return
		}
		want.ObservedAt, want.Namespace, want.Pod = fxBase.Add(at), got.Namespace, pod
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s at +%s:\n got %+v\nwant %+v", pod, at, got, want)
		}
	}
	check(fxPodA, time.Hour, model.Container{
		PodUID: "uid-a", Container: "app", Node: "promtest-node-1", Phase: "Running", QoSClass: "Burstable",
		Workload: model.WorkloadRef{Kind: "Deployment", Name: "web"}, CPURequestCores: 0.25, CPULimitCores: 1,
		MemoryRequestBytes: 256 * mib, MemoryLimitBytes: 512 * mib,
	})
	check(fxPodB, time.Hour, model.Container{
		PodUID: "uid-b", Container: "worker", Node: "promtest-node-2", Phase: "Running", QoSClass: "Burstable",
		Workload: model.WorkloadRef{Kind: "CronJob", Name: "report"}, CPURequestCores: 0.2,
	})
	check(fxPodB, 165*time.Minute, model.Container{
		PodUID: "uid-b", Container: "worker", Node: "promtest-node-2", Phase: "Succeeded", QoSClass: "Burstable",
		Workload: model.WorkloadRef{Kind: "CronJob", Name: "report"}, CPURequestCores: 0.2,
	})
	check(fxPodC, 2*time.Hour, model.Container{
		PodUID: "uid-c", Container: "server", Node: "promtest-node-3", Phase: "Running", QoSClass: "Burstable", // memory request < limit
		Workload: model.WorkloadRef{Kind: "StatefulSet", Name: "api"}, CPURequestCores: 0.5, CPULimitCores: 0.5,
		MemoryRequestBytes: 128 * mib, MemoryLimitBytes: 256 * mib, RestartCount: 1, LastTerminationReason: "OOMKilled",
	})
	check(fxPodDebug, 0, model.Container{
		PodUID: "uid-d", Container: "shell", Node: "promtest-node-1", Phase: "Running", QoSClass: "BestEffort",
		Workload: model.WorkloadRef{Kind: "Pod", Name: "debug"},
	})
	if _, ok := snaps[key{fxPodB, fxBase.Add(20 * time.Minute)}]; ok {
		t.Error("B seen at 00:20, before its first reading")
	}

	// Earlier versions of the fixture may be loaded too, at the same times.
	ours := func(events []model.ContainerEvent) []model.ContainerEvent {
		var out []model.ContainerEvent
		for _, e := range events {
			if e.Namespace == fxNSAPI || e.Namespace == fxNSWeb || e.Namespace == fxNSBatch {
				out = append(out, e)
			}
		}
		return out
	}
	ooms := ours(ks.Events)
	wantEvent := model.ContainerEvent{
		Timestamp: fxBase.Add(95 * time.Minute), // the first step whose reading (01:34:45) has the restart
		Namespace: fxNSAPI, Workload: model.WorkloadRef{Kind: "StatefulSet", Name: "api"}, Pod: fxPodC,
		Container: "server", Node: "promtest-node-3", Kind: model.EventOOMKill, Reason: "OOMKilled",
		Count: 1, MemoryLimitBytes: 256 * mib,
	}
	if len(ooms) != 1 {
		t.Fatalf("OOM kills = %+v, want one", ooms)
	}
	wantEvent.Message = ooms[0].Message
	if ooms[0] != wantEvent {
		t.Errorf("OOM kill\n got %+v\nwant %+v", ooms[0], wantEvent)
	}

	// At one-minute steps the kill is seen at 01:31, the first step after the 01:30:15 reading.
	c1 := newTestClient(t, url, Options{})
	ks1, err := c1.KubeState(ctx, fxBase.Add(80*time.Minute), fxBase.Add(100*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if ev := ours(ks1.Events); len(ev) != 1 || !ev[0].Timestamp.Equal(fxOOM.Add(time.Minute)) {
		t.Errorf("one-minute steps: events %+v, want one at 01:31", ev)
	}
	// Windows that start after the kill do not report it again.
	ks2, err := c1.KubeState(ctx, fxBase.Add(100*time.Minute), fxBase.Add(120*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if ev := ours(ks2.Events); len(ev) != 0 {
		t.Errorf("window after the kill: events %+v", ev)
	}

	// No kube-state-metrics at all in a window.
	none, err := c1.KubeState(ctx, fxBase.Add(12*time.Hour), fxBase.Add(13*time.Hour), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if none.Present || len(none.Containers) != 0 {
		t.Errorf("empty window: Present %v, %d containers", none.Present, len(none.Containers))
	}
}

// ruleCPU is an instance's CPU seconds in [m0, m1), and the seconds of it the instance is
// known to have run, by Usage's rule worked from the fixture's raw samples: the readings
// Prometheus returns at the minute boundaries of [from, to + MaxGap] (each the latest sample
// within the lookback, with its time), consecutive distinct ones no more than MaxGap apart
// spreading their increase evenly between them, and the first one after the instance's start
// spreading its value back to the start.
func ruleCPU(cpu, start *fxSeries, from, to, m0, m1 time.Time) (cpuSeconds, ranSeconds float64) {
	type rd struct{ t, v float64 }
	var rs []rd
	for b := from; !b.After(to.Add(DefaultMaxGap)); b = b.Add(time.Minute) {
		var last *rd
		for _, p := range cpu.points {
			if p.ts <= b.Unix() && p.ts >= b.Unix()-300 {
				last = &rd{float64(p.ts), p.v}
			}
		}
		if last != nil && (len(rs) == 0 || last.t > rs[len(rs)-1].t) {
			rs = append(rs, *last)
		}
	}
	lo, hi := float64(m0.Unix()), float64(m1.Unix())
	add := func(inc, a, b float64) {
		if o := min(b, hi) - max(a, lo); o > 0 {
			cpuSeconds += inc * o / (b - a)
			ranSeconds += o
		}
	}
	gap := DefaultMaxGap.Seconds()
	if len(rs) > 0 && start != nil && len(start.points) > 0 {
		if st := start.points[0].v; st <= rs[0].t && rs[0].t-st <= gap {
			add(rs[0].v, st, rs[0].t)
		}
	}
	for k := 1; k < len(rs); k++ {
		if rs[k].t-rs[k-1].t > gap {
			continue
		}
		inc, _ := counterIncrease(rs[k-1].v, rs[k].v)
		add(inc, rs[k-1].t, rs[k].t)
	}
	return cpuSeconds, ranSeconds
}
