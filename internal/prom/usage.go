package prom

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// cAdvisor queries. Container-level series only: container="" is the pod's cgroup and
// container="POD" its pause container.
//
// Counters are read per container instance: cAdvisor's id label is the instance's cgroup,
// new every time the container starts (a restart after an OOM kill included), and so is a
// new series. Each instance is differenced on its own and the increases summed in Go; summed
// first, an ended instance whose series lingers with its last value (Prometheus's lookback,
// when no staleness marker ended it) would make the sum drop when it vanished, which reads
// as a counter reset. Where there is no id label the queries degrade to one series per
// container. Other labels (image, name, instance, job, metrics_path, a replica label ...)
// are aggregated away with max, never sum: the same counter scraped twice — by two jobs, by
// the two Prometheus servers of an HA pair written into one store — is the same counter,
// counted once. The kubelet's /metrics/resource endpoint exports the CPU counter under the
// same name without an id label; where a container also has cAdvisor series (with an id),
// those id-less series are ignored in Go (see dedupe), so each container's CPU is counted
// once in every set-up.
const (
	// queryCPUSeconds is cumulative CPU time read raw and differenced in Go, not rate():
	// rate extrapolates to the edges of its window, which distorts one-minute values.
	queryCPUSeconds = `max by (namespace, pod, container, id) (container_cpu_usage_seconds_total{container!="", container!="POD"})`
	// queryCPUSampleTimes is the time (Unix seconds) of the CPU counter reading that
	// queryCPUSeconds returns at each step: the latest sample within the lookback. With it,
	// each increase is known to span the time between two samples, whatever the scrape
	// interval, and is spread over the minutes those samples enclose (see Usage).
	queryCPUSampleTimes = `max by (namespace, pod, container, id) (timestamp(container_cpu_usage_seconds_total{container!="", container!="POD"}))`
	// queryThrottledPeriods and queryCFSPeriods are CFS counters, differenced like CPU.
	queryThrottledPeriods = `max by (namespace, pod, container, id) (container_cpu_cfs_throttled_periods_total{container!="", container!="POD"})`
	queryCFSPeriods       = `max by (namespace, pod, container, id) (container_cpu_cfs_periods_total{container!="", container!="POD"})`
	// queryStartTime is each instance's start (Unix seconds): it tells an instance that
	// started during a step, whose first reading is its usage in that step, from one whose
	// readings resume after a gap.
	queryStartTime = `max by (namespace, pod, container, id) (container_start_time_seconds{container!="", container!="POD"})`
	// queryWorkingSetPeak is the largest working set in each step, evaluated at the step's
	// end. %s is the step less one millisecond: Prometheus 2.x ranges include both ends, so
	// [1m] would count a sample at the minute's boundary in two minutes, while [59999ms]
	// covers (t-1m, t] exactly (and means the same in Prometheus 3 and VictoriaMetrics, whose
	// ranges exclude their start). It takes actual samples only, no lookback, so an ended
	// instance adds nothing.
	queryWorkingSetPeak = `max by (namespace, pod, container) (max_over_time(container_memory_working_set_bytes{container!="", container!="POD"}[%s]))`
	// queryInstanceCount is the most container instances at any of the instants %s apart
	// within the last %s: cheap (one sample per series per instant) and enough to size the
	// chunks, the counter queries answering one series per instance.
	queryInstanceCount = `max_over_time(count(count by (namespace, pod, container, id) (container_cpu_usage_seconds_total{container!="", container!="POD"}))[%s:%s])`
	// queryCompletion is when kube-state-metrics saw each finished pod complete (Unix
	// seconds): the end of its containers' last instances, which ran on past their last
	// cAdvisor sample (see Usage).
	queryCompletion = `max by (namespace, pod) (kube_pod_completion_time)`
)

// The range queries of a usage chunk, in the order they are sent.
const (
	readCPU = iota
	readCPUTimes
	readMem
	readThrottled
	readPeriods
	readStarts
	readCompletions
	usageQueries // range queries per usage chunk
)

// containerLabels identify a container. They are the labels of the working-set query.
type containerLabels struct {
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	Container string `json:"container"`
}

func compareContainers(a, b containerLabels) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Pod, b.Pod), cmp.Compare(a.Container, b.Container))
}

// podLabels identify a pod. They are the labels of the completion-time query.
type podLabels struct {
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
}

// instanceLabels identify one instance of a container: ID is cAdvisor's cgroup path, empty
// where the setup has no id label. They are the labels of the counter and start-time
// queries.
type instanceLabels struct {
	containerLabels
	ID string `json:"id"`
}

// usageTables are the answers of one span's queries. The counters and starts hold readings
// at the span's steps + 1 boundaries, one row per container instance; mem holds each step's
// peak working set, one row per container. Any of them may be nil (no answer).
//
// The counter tables (cpu, cpuTimes, throttled, periods, starts) have their point 0 at the
// span's first boundary and may hold more points after its last one (the lookahead, so that
// the sample after the span is seen); mem has memBefore points before the span's first step
// (to carry a working set into a step that had no sample) and may hold more after its last.
type usageTables struct {
	cpu, cpuTimes, throttled, periods, starts *table[instanceLabels]
	mem                                       *table[containerLabels]
	completions                               *table[podLabels] // may be nil
	memBefore                                 int
	maxGap                                    float64 // seconds; see Options.MaxGap
}

// usageChunk is one span and the answers of its queries.
type usageChunk struct {
	span
	usageTables
	pending int // queries not answered yet
}

// Usage returns one sample per container and step (a minute by default) in [from, to), for
// every container that ran during it, ordered by time, then namespace, pod and container.
// Timestamp is the start of the step; Cluster and Workload are left empty for the caller.
//
// The per-minute model holds whatever the scrape interval (10 s to Options.MaxGap, 5 min
// and more): each reading of a counter comes with the time of its sample, and
//
//   - CPUUsageCores of [t, t+1m) is the CPU time the container's instances used in it
//     / 60 s. Between two consecutive samples of an instance, taken at T₁ < T₂ no more
//     than MaxGap apart, it used C(T₂) − C(T₁) (C(T₂) itself after a counter reset), spread
//     evenly over [T₁, T₂]: each minute gets the share of that increase its overlap with
//     [T₁, T₂] is of T₂ − T₁. An instance's first sample after it started
//     (container_start_time_seconds at S ≤ T₁, T₁ − S ≤ MaxGap) used C(T₁), spread over
//     [S, T₁]. With a 15 s scrape this is the counter's increase over the minute, shifted
//     by the scrape phase; with a 2-minute scrape, the increase of each 2 minutes split
//     evenly between them — never a minute at twice the rate beside one at none.
//   - A container ran during a minute that such an interval overlaps (for any of its
//     instances), or in which a working set was sampled. Samples further apart than MaxGap
//     are a gap: the container did not run between them. A series that lingers in
//     Prometheus's lookback after its container stopped repeats a sample already seen, so
//     it adds nothing.
//   - MemoryWorkingSetBytes is the largest working set sampled in (t, t+1m]: peaks are
//     exact. A running minute without a sample (a scrape coarser than a minute) takes the
//     latest sample before it within MaxGap, else the first after it: the working set
//     stands until it is measured again, as Prometheus's own lookback reads it.
//   - CPUThrottledPeriods and CPUPeriods are the CFS counters' increases, spread like CPU
//     over the times of the CPU samples of the same instance (cAdvisor stamps a container's
//     metrics of one housekeeping with one time).
//   - A finished pod's containers ran until kube-state-metrics' kube_pod_completion_time F,
//     past their last sample T (up to a scrape interval: cAdvisor stops exporting a container
//     that exited). When T < F ≤ T + MaxGap, the last instance of each of its containers is
//     taken to have run over [T, F] at the rate of its last interval (an estimate, the one
//     unmeasured part of the model), with its last working set; so a Job's running minutes
//     and CPU match its real duration rather than stopping at its last scrape.
//
// Every chunk reads the samples up to MaxGap after its end, so an interval that crosses a
// chunk's end is split the same way by both chunks: the answer does not depend on where the
// chunks are cut. The caller must therefore ask for windows that end at least one scrape
// interval before now (the collector's usage delay).
//
// from and to must be multiples of the step. The queries issued are 1 + 7 × chunks, where
// chunks = ⌈steps / per chunk⌉ and per chunk = min(Chunk / Step, 10,999 − 2·lookahead,
// MaxSamples / instances − 1 − 2·lookahead), lookahead = ⌈MaxGap / Step⌉ and instances
// the most container instances seen at once: they depend on the number of containers only
// when a chunk would return more than MaxSamples points.
func (c *Client) Usage(ctx context.Context, from, to time.Time) ([]model.UsageSample, error) {
	step := c.opts.Step
	if err := c.checkWindow(from, to); err != nil {
		return nil, err
	}
	from, to = from.UTC(), to.UTC()
	n := int(to.Sub(from) / step)
	ahead := int((c.opts.MaxGap + step - 1) / step) // points read past a chunk, and held before it

	instances, err := c.countSeries(ctx, "container instances", queryInstanceCount, from, to)
	if err != nil {
		return nil, err
	}
	per := intervalsPerChunk(step, c.opts.Chunk, c.opts.MaxSamples, instances)
	per = max(1, min(per, maxPointsPerSeries-1-2*ahead))
	if instances > 0 {
		per = max(1, min(per, c.opts.MaxSamples/instances-1-2*ahead))
	}
	spans := planSpans(n, per)
	chunks := make([]usageChunk, len(spans))
	for k, s := range spans {
		chunks[k] = usageChunk{span: s, pending: usageQueries}
		chunks[k].memBefore = ahead
		chunks[k].maxGap = c.opts.MaxGap.Seconds()
	}

	out := make([]model.UsageSample, 0, min(instances*n, 1<<24))
	var (
		mu   sync.Mutex
		next int // first chunk not yet turned into samples
	)
	// Chunks are turned into samples in order as soon as they are complete, and their
	// tables dropped, so no more than a few chunks' answers are held at once.
	finish := func(k, query int, counters *table[instanceLabels], mem *table[containerLabels], pods *table[podLabels]) {
		mu.Lock()
		defer mu.Unlock()
		ch := &chunks[k]
		switch query {
		case readCPU:
			ch.cpu = counters
		case readCPUTimes:
			ch.cpuTimes = counters
		case readMem:
			ch.mem = mem
		case readThrottled:
			ch.throttled = counters
		case readPeriods:
			ch.periods = counters
		case readStarts:
			ch.starts = counters
		}
		if pods != nil {
			ch.completions = pods
		}
		ch.pending--
		for next < len(chunks) && chunks[next].pending == 0 {
			done := &chunks[next]
			start := from.Add(time.Duration(done.First) * step)
			out = appendUsage(out, start, step, done.Len(), done.usageTables)
			*done = usageChunk{}
			next++
		}
	}

	memQuery := fmt.Sprintf(queryWorkingSetPeak, promDuration(step-time.Millisecond))
	err = runTasks(ctx, len(chunks)*usageQueries, c.opts.Concurrency, func(ctx context.Context, i int) error {
		k, query := i/usageQueries, i%usageQueries
		s := spans[k]
		start := from.Add(time.Duration(s.First) * step)
		if query == readMem {
			memStart := start.Add(step - time.Duration(ahead)*step)
			t, err := fetch[containerLabels](ctx, c, rangeRequest("memory working set", memQuery, memStart, step, s.Len()+2*ahead), instances)
			if err != nil {
				return err
			}
			finish(k, query, nil, t, nil)
			return nil
		}
		if query == readCompletions {
			r := rangeRequest("pod completion times", queryCompletion, start, step, s.Len()+1+ahead)
			t, err := fetch[podLabels](ctx, c, r, 0)
			if err != nil {
				return err
			}
			finish(k, query, nil, nil, t)
			return nil
		}
		var r request
		points := s.Len() + 1 + ahead
		switch query {
		case readCPU:
			r = rangeRequest("cpu usage", queryCPUSeconds, start, step, points)
		case readCPUTimes:
			r = rangeRequest("cpu sample times", queryCPUSampleTimes, start, step, points)
		case readThrottled:
			r = rangeRequest("cpu throttled periods", queryThrottledPeriods, start, step, points)
		case readPeriods:
			r = rangeRequest("cpu cfs periods", queryCFSPeriods, start, step, points)
		case readStarts:
			r = rangeRequest("container start times", queryStartTime, start, step, points)
		}
		t, err := fetch[instanceLabels](ctx, c, r, instances)
		if err != nil {
			return err
		}
		finish(k, query, t, nil, nil)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkWindow rejects a window that is empty or not aligned to the step.
func (c *Client) checkWindow(from, to time.Time) error {
	if !from.Before(to) {
		return fmt.Errorf("window %s: from must be before to", windowString(from, to))
	}
	return errors.Join(checkAligned("from", from, c.opts.Step), checkAligned("to", to, c.opts.Step))
}

// countSeries runs one of the count queries over [from, to] and returns its answer, 0 when
// there are no such series.
func (c *Client) countSeries(ctx context.Context, what, query string, from, to time.Time) (int, error) {
	window := to.Sub(from)
	q := fmt.Sprintf(query, promDuration(window), promDuration(min(c.opts.Chunk, window)))
	t, err := fetch[struct{}](ctx, c, instantRequest(what, q, to), 1)
	if err != nil {
		return 0, err
	}
	if t.rows() == 0 || math.IsNaN(t.at(0, 0)) || t.at(0, 0) < 0 {
		return 0, nil
	}
	return int(min(t.at(0, 0), math.MaxInt32)), nil
}

// toBytes converts a gauge of bytes to a byte count; NaN, negative or infinite values are 0.
func toBytes(v float64) uint64 {
	if math.IsNaN(v) || v <= 0 || math.IsInf(v, 0) {
		return 0
	}
	if v >= math.MaxUint64 {
		return math.MaxUint64
	}
	return uint64(math.Round(v))
}
