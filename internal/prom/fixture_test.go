package prom

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The integration fixture: three containers over three hours of 2025-06-10 scraped every
// 30 s, with the kube-state-metrics series that describe them, and (cAdvisor only) four
// more whose instances start, restart and pause in the ways Usage must handle. Every value
// is a plain function of time, so the test can work out what Usage and KubeState must
// return.
//
// Changing any value below means bumping fixtureVersion: blocks already loaded into the
// stack's Prometheus stay there, and a second, different copy of a series at the same
// timestamps would make both unreliable. The version is part of every namespace.
const fixtureVersion = "v2"

var (
	fxBase  = time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC) // the window is [fxBase, fxBase+3h)
	fxStart = fxBase.Add(-5 * time.Minute)                 // A and C run from here ...
	fxEnd   = fxBase.Add(3*time.Hour + 5*time.Minute)      // ... to here
)

const (
	mib = 1 << 20

	fxNSWeb   = "promtest-" + fixtureVersion + "-web"
	fxNSBatch = "promtest-" + fixtureVersion + "-batch"
	fxNSAPI   = "promtest-" + fixtureVersion + "-api"

	// Container A: Deployment web. 0.25 cores flat, scraped on the minute and half minute.
	// A working-set peak of 700 MiB sampled at exactly 01:17:00, on a minute boundary.
	fxPodA = "web-7d9f8b6c5-abc12"
	// Container B: CronJob report (Job report-29340000), 00:20:00–02:40:00, scraped at :15
	// and :45. Its rate steps every 10 minutes through 0.05, 0.1, 0.15, 0.2 cores.
	fxPodB = "report-29340000-xk2lp"
	// Container C: StatefulSet api, 0.5 cores, scraped at :15 and :45. OOM-killed at
	// 01:30:00: its counters restart from zero, its restart count goes to 1.
	fxPodC = "api-0"
	// A pod without owner (kube-state-metrics only).
	fxPodDebug = "debug"

	// cAdvisor only, with container_start_time_seconds, all scraped at :15 and :45.
	fxNSOOM  = "promtest-" + fixtureVersion + "-oom"
	fxNSJobs = "promtest-" + fixtureVersion + "-jobs"
	// Container D: OOM-killed at 01:00:20, the way cAdvisor shows it: the first instance's
	// series (0.4 cores) just stops after its 01:00:15 sample, no staleness marker, and
	// lingers five minutes in the lookback; the new instance (new id and name, 0.6 cores)
	// starts at 01:00:40 and is first sampled at 01:00:45.
	fxPodD = "queue-0"
	// Container F: 0.1 cores all along, but no samples from 01:30:15 to 01:39:45 (a scrape
	// gap longer than the lookback); its readings resume at 01:40:15, cumulative.
	fxPodF = "cache-0"
	// Containers E and G: Job runs at 0.3 cores, E from 00:10:30 to 00:50:00, G from
	// 01:59:30 (the last minute of a one-hour chunk) to 02:30:00.
	fxPodE = "etl-29340010-qv7rt"
	fxPodG = "etl-29340119-m2x8d"
)

var (
	fxOOM    = fxBase.Add(90 * time.Minute)  // C's OOM kill and restart
	fxPeakAt = fxBase.Add(77 * time.Minute)  // A's working-set peak
	fxBStart = fxBase.Add(20 * time.Minute)  // B starts
	fxBEnd   = fxBase.Add(160 * time.Minute) // B ends; its pod is deleted 10 minutes later

	fxDKill    = fxBase.Add(60*time.Minute + 20*time.Second) // D's first instance is OOM-killed
	fxDRestart = fxBase.Add(60*time.Minute + 40*time.Second) // D's second instance starts
	fxFGapFrom = fxBase.Add(90 * time.Minute)                // F has no samples in (from, to)
	fxFGapTo   = fxBase.Add(100 * time.Minute)
	fxEStart   = fxBase.Add(10*time.Minute + 30*time.Second)
	fxEEnd     = fxBase.Add(50 * time.Minute)
	fxGStart   = fxBase.Add(119*time.Minute + 30*time.Second)
	fxGEnd     = fxBase.Add(150 * time.Minute)
)

// fxSample is one sample: Unix seconds and value.
type fxSample struct {
	ts int64
	v  float64
}

// fxSeries is one series of the fixture.
type fxSeries struct {
	family string // the OpenMetrics family: the name without _total for counters
	typ    string // counter or gauge
	name   string // the sample name
	labels map[string]string
	points []fxSample
}

// scrapes returns the scrape times from..to (inclusive) every 30 s, starting offset into
// each half minute.
func scrapes(from, to time.Time, offset time.Duration) []time.Time {
	var out []time.Time
	for t := from.Truncate(30 * time.Second).Add(offset); !t.After(to); t = t.Add(30 * time.Second) {
		if !t.Before(from) {
			out = append(out, t)
		}
	}
	return out
}

// bRate is B's CPU rate during the 10-minute block holding t.
func bRate(t time.Time) float64 {
	block := int(t.Sub(fxBase) / (10 * time.Minute))
	return 0.05 * float64(1+block%4)
}

// bCPU is B's CPU counter at t: the integral of its rate since it started.
func bCPU(t time.Time) float64 {
	total := 0.0
	for s := fxBStart; s.Before(t); {
		next := s.Truncate(10 * time.Minute).Add(10 * time.Minute)
		if next.After(t) {
			next = t
		}
		total += bRate(s) * next.Sub(s).Seconds()
		s = next
	}
	return total
}

func cadvisorLabels(ns, pod, container, node string, restart int) map[string]string {
	id := fmt.Sprintf("/kubepods/burstable/pod-%s/%s-%d", pod, container, restart)
	return map[string]string{
		"namespace": ns, "pod": pod, "container": container,
		"id": id, "name": fmt.Sprintf("%s-%d", container, restart), "image": "registry.example/" + container + ":1",
		"instance": node,
	}
}

// fixtureSeries builds every series of the fixture.
func fixtureSeries() []*fxSeries {
	var all []*fxSeries
	add := func(family, typ, name string, labels map[string]string, times []time.Time, value func(time.Time) float64) {
		s := &fxSeries{family: family, typ: typ, name: name, labels: labels}
		for _, t := range times {
			s.points = append(s.points, fxSample{t.Unix(), value(t)})
		}
		all = append(all, s)
	}
	const (
		cpuF, memF    = "container_cpu_usage_seconds", "container_memory_working_set_bytes"
		thrF, perF    = "container_cpu_cfs_throttled_periods", "container_cpu_cfs_periods"
		cpuN, thrN    = cpuF + "_total", thrF + "_total"
		perN          = perF + "_total"
		counter, gaug = "counter", "gauge"
	)
	aTimes := scrapes(fxStart, fxEnd, 0)
	bTimes := scrapes(fxBStart, fxBEnd, 15*time.Second)
	cTimes := scrapes(fxStart, fxEnd, 15*time.Second)
	since := func(t0 time.Time) func(time.Time) float64 {
		return func(t time.Time) float64 { return t.Sub(t0).Seconds() }
	}
	scaled := func(f func(time.Time) float64, k float64) func(time.Time) float64 {
		return func(t time.Time) float64 { return k * f(t) }
	}
	constant := func(v float64) func(time.Time) float64 { return func(time.Time) float64 { return v } }

	// cAdvisor. A: one series per metric plus the pod cgroup and the pause container,
	// which must be left out.
	la := cadvisorLabels(fxNSWeb, fxPodA, "app", "promtest-node-1", 0)
	add(cpuF, counter, cpuN, la, aTimes, scaled(since(fxStart), 0.25))
	add(cpuF, counter, cpuN, cadvisorLabels(fxNSWeb, fxPodA, "", "promtest-node-1", 0), aTimes, scaled(since(fxStart), 9))
	add(cpuF, counter, cpuN, cadvisorLabels(fxNSWeb, fxPodA, "POD", "promtest-node-1", 0), aTimes, scaled(since(fxStart), 7))
	add(memF, gaug, memF, la, aTimes, func(t time.Time) float64 {
		switch {
		case t.Equal(fxPeakAt):
			return 700 * mib
		case t.Equal(fxPeakAt.Add(-30 * time.Second)):
			return 300 * mib
		}
		return 200 * mib
	})
	add(memF, gaug, memF, cadvisorLabels(fxNSWeb, fxPodA, "", "promtest-node-1", 0), aTimes, constant(4096*mib))
	add(thrF, counter, thrN, la, aTimes, scaled(since(fxStart), 0.5)) // 30 a minute
	add(perF, counter, perN, la, aTimes, scaled(since(fxStart), 10))  // 600 a minute

	lb := cadvisorLabels(fxNSBatch, fxPodB, "worker", "promtest-node-2", 0)
	add(cpuF, counter, cpuN, lb, bTimes, bCPU)
	add(memF, gaug, memF, lb, bTimes, func(t time.Time) float64 { return 100*mib + 1024*t.Sub(fxBStart).Seconds() })

	// C keeps its labels across the restart: the counters drop on the same series.
	lc := cadvisorLabels(fxNSAPI, fxPodC, "server", "promtest-node-3", 0)
	cCPU := func(t time.Time) float64 {
		if t.Before(fxOOM) {
			return 0.5 * t.Sub(fxStart).Seconds()
		}
		return 0.5 * t.Sub(fxOOM).Seconds()
	}
	cSince := func(k float64) func(time.Time) float64 {
		return func(t time.Time) float64 { return cCPU(t) * 2 * k }
	}
	add(cpuF, counter, cpuN, lc, cTimes, cCPU)
	add(memF, gaug, memF, lc, cTimes, func(t time.Time) float64 {
		switch {
		case t.Equal(fxOOM.Add(-15 * time.Second)):
			return 256 * mib
		case t.Before(fxOOM):
			return 200 * mib
		}
		return 64 * mib
	})
	add(thrF, counter, thrN, lc, cTimes, cSince(1)) // 60 a minute
	add(perF, counter, perN, lc, cTimes, cSince(10))

	// D, E, F and G: one set of series per container instance, each with its start time.
	// Counters start from zero at the instance's start: CPU at cores, CFS periods at 100 a
	// second, throttled periods at 10 per CPU second.
	instance := func(ns, pod, container, node string, restart int, start, stop time.Time, cores float64, memBytes float64,
		keep func(time.Time) bool,
	) {
		l := cadvisorLabels(ns, pod, container, node, restart)
		var times []time.Time
		for _, t := range scrapes(start, stop, 15*time.Second) {
			if keep == nil || keep(t) {
				times = append(times, t)
			}
		}
		cpu := scaled(since(start), cores)
		add(cpuF, counter, cpuN, l, times, cpu)
		add(memF, gaug, memF, l, times, constant(memBytes))
		add(thrF, counter, thrN, l, times, scaled(cpu, 10))
		add(perF, counter, perN, l, times, scaled(since(start), 100))
		add("container_start_time_seconds", gaug, "container_start_time_seconds", l, times, constant(float64(start.Unix())))
	}
	instance(fxNSOOM, fxPodD, "consumer", "promtest-node-4", 0, fxStart, fxDKill, 0.4, 300*mib, nil)
	instance(fxNSOOM, fxPodD, "consumer", "promtest-node-4", 1, fxDRestart, fxEnd, 0.6, 100*mib, nil)
	instance(fxNSOOM, fxPodF, "redis", "promtest-node-4", 0, fxStart, fxEnd, 0.1, 30*mib, func(t time.Time) bool {
		return !t.After(fxFGapFrom) || !t.Before(fxFGapTo)
	})
	instance(fxNSJobs, fxPodE, "etl", "promtest-node-4", 0, fxEStart, fxEEnd, 0.3, 80*mib, nil)
	instance(fxNSJobs, fxPodG, "etl", "promtest-node-4", 0, fxGStart, fxGEnd, 0.3, 80*mib, nil)

	// kube-state-metrics, scraped at :15 and :45.
	ksmTimes := func(from, to time.Time) []time.Time { return scrapes(from, to, 15*time.Second) }
	all3 := ksmTimes(fxStart, fxEnd)
	bLife := ksmTimes(fxBStart, fxBEnd.Add(10*time.Minute))
	type pod struct {
		ns, name, uid, node  string
		ownerKind, ownerName string
		times                []time.Time
	}
	pods := []pod{
		{fxNSWeb, fxPodA, "uid-a", "promtest-node-1", "ReplicaSet", "web-7d9f8b6c5", all3},
		{fxNSBatch, fxPodB, "uid-b", "promtest-node-2", "Job", "report-29340000", bLife},
		{fxNSAPI, fxPodC, "uid-c", "promtest-node-3", "StatefulSet", "api", all3},
		{fxNSWeb, fxPodDebug, "uid-d", "promtest-node-1", "<none>", "<none>", all3},
	}
	one := constant(1)
	for _, p := range pods {
		add("kube_pod_info", gaug, "kube_pod_info", map[string]string{
			"namespace": p.ns, "pod": p.name, "uid": p.uid, "node": p.node, "host_ip": "10.0.0.1", "pod_ip": "10.1.0.1",
		}, p.times, one)
		controller := "true"
		if p.ownerKind == "<none>" {
			controller = "<none>"
		}
		add("kube_pod_owner", gaug, "kube_pod_owner", map[string]string{
			"namespace": p.ns, "pod": p.name, "uid": p.uid, "owner_kind": p.ownerKind, "owner_name": p.ownerName, "owner_is_controller": controller,
		}, p.times, one)
		for _, phase := range []string{"Pending", "Running", "Succeeded", "Failed", "Unknown"} {
			add("kube_pod_status_phase", gaug, "kube_pod_status_phase", map[string]string{
				"namespace": p.ns, "pod": p.name, "uid": p.uid, "phase": phase,
			}, p.times, func(t time.Time) float64 {
				current := "Running"
				if p.name == fxPodB && !t.Before(fxBEnd) {
					current = "Succeeded"
				}
				if phase == current {
					return 1
				}
				return 0
			})
		}
	}
	add("kube_replicaset_owner", gaug, "kube_replicaset_owner", map[string]string{
		"namespace": fxNSWeb, "replicaset": "web-7d9f8b6c5", "owner_kind": "Deployment", "owner_name": "web", "owner_is_controller": "true",
	}, all3, one)
	add("kube_job_owner", gaug, "kube_job_owner", map[string]string{
		"namespace": fxNSBatch, "job_name": "report-29340000", "owner_kind": "CronJob", "owner_name": "report", "owner_is_controller": "true",
	}, bLife, one)

	type res struct {
		ns, pod, container, resource, unit string
		request, limit                     float64
		times                              []time.Time
	}
	for _, r := range []res{
		{fxNSWeb, fxPodA, "app", "cpu", "core", 0.25, 1, all3},
		{fxNSWeb, fxPodA, "app", "memory", "byte", 256 * mib, 512 * mib, all3},
		{fxNSBatch, fxPodB, "worker", "cpu", "core", 0.2, 0, bLife},
		{fxNSAPI, fxPodC, "server", "cpu", "core", 0.5, 0.5, all3},
		{fxNSAPI, fxPodC, "server", "memory", "byte", 128 * mib, 256 * mib, all3},
		{fxNSAPI, fxPodC, "server", "ephemeral_storage", "byte", 1 << 30, 0, all3}, // not read
	} {
		l := map[string]string{"namespace": r.ns, "pod": r.pod, "container": r.container, "resource": r.resource, "unit": r.unit, "node": "n"}
		if r.request > 0 {
			add("kube_pod_container_resource_requests", gaug, "kube_pod_container_resource_requests", l, r.times, constant(r.request))
		}
		if r.limit > 0 {
			add("kube_pod_container_resource_limits", gaug, "kube_pod_container_resource_limits", l, r.times, constant(r.limit))
		}
	}
	type ctr struct {
		ns, pod, container string
		times              []time.Time
	}
	for _, c := range []ctr{
		{fxNSWeb, fxPodA, "app", all3}, {fxNSBatch, fxPodB, "worker", bLife},
		{fxNSAPI, fxPodC, "server", all3}, {fxNSWeb, fxPodDebug, "shell", all3},
	} {
		add("kube_pod_container_status_restarts", counter, "kube_pod_container_status_restarts_total",
			map[string]string{"namespace": c.ns, "pod": c.pod, "container": c.container, "uid": "u"}, c.times,
			func(t time.Time) float64 {
				if c.pod == fxPodC && !t.Before(fxOOM) {
					return 1
				}
				return 0
			})
	}
	var afterOOM []time.Time
	for _, t := range all3 {
		if !t.Before(fxOOM) {
			afterOOM = append(afterOOM, t)
		}
	}
	add("kube_pod_container_status_last_terminated_reason", gaug, "kube_pod_container_status_last_terminated_reason",
		map[string]string{"namespace": fxNSAPI, "pod": fxPodC, "container": "server", "reason": "OOMKilled", "uid": "u"}, afterOOM, one)

	add("promtest_fixture_info", gaug, "promtest_fixture_info", map[string]string{"version": fixtureVersion},
		scrapes(fxStart, fxEnd, 0), one)
	return all
}

// writeOpenMetrics writes series as OpenMetrics text for promtool: families contiguous,
// counter TYPE lines without _total, "# EOF" at the end.
func writeOpenMetrics(w io.Writer, series []*fxSeries) error {
	bw := bufio.NewWriter(w)
	byFamily := map[string][]*fxSeries{}
	var families []string
	for _, s := range series {
		if _, ok := byFamily[s.family]; !ok {
			families = append(families, s.family)
		}
		byFamily[s.family] = append(byFamily[s.family], s)
	}
	for _, f := range families {
		fmt.Fprintf(bw, "# TYPE %s %s\n", f, byFamily[f][0].typ)
		for _, s := range byFamily[f] {
			keys := make([]string, 0, len(s.labels))
			for k := range s.labels {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var lb strings.Builder
			for i, k := range keys {
				if i > 0 {
					lb.WriteByte(',')
				}
				fmt.Fprintf(&lb, "%s=%q", k, s.labels[k])
			}
			for _, p := range s.points {
				fmt.Fprintf(bw, "%s{%s} %s %d\n", s.name, lb.String(), strconv.FormatFloat(p.v, 'g', -1, 64), p.ts)
			}
		}
	}
	fmt.Fprint(bw, "# EOF\n")
	return bw.Flush()
}

// fxInstancesOf finds the fixture's series of a sample name for a container, one per
// instance.
func fxInstancesOf(all []*fxSeries, name, ns, pod, container string) []*fxSeries {
	var out []*fxSeries
	for _, s := range all {
		if s.name == name && s.labels["namespace"] == ns && s.labels["pod"] == pod && s.labels["container"] == container {
			out = append(out, s)
		}
	}
	return out
}

// fxSeriesOf finds the fixture's series of a sample name for a container.
func fxSeriesOf(all []*fxSeries, name, ns, pod, container string) *fxSeries {
	for _, s := range all {
		if s.name == name && s.labels["namespace"] == ns && s.labels["pod"] == pod && s.labels["container"] == container {
			return s
		}
	}
	return nil
}

// readingAt is what Prometheus 2.x returns for a plain selector at x: the latest sample at
// or before x, at most five minutes old (both ends included); NaN when none.
func (s *fxSeries) readingAt(x time.Time) float64 {
	v := math.NaN()
	for _, p := range s.points {
		if p.ts <= x.Unix() && p.ts >= x.Unix()-300 {
			v = p.v
		}
	}
	return v
}

// maxIn is the largest sample in (from, to]; NaN when none.
func (s *fxSeries) maxIn(from, to time.Time) float64 {
	v := math.NaN()
	for _, p := range s.points {
		if p.ts > from.Unix() && p.ts <= to.Unix() && (math.IsNaN(v) || p.v > v) {
			v = p.v
		}
	}
	return v
}
