package prom

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
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
// container. Other labels (image, name, instance, ...) are aggregated away.
const (
	// queryCPUSeconds is cumulative CPU time read raw and differenced in Go, not rate():
	// rate extrapolates to the edges of its window, which distorts one-minute values.
	queryCPUSeconds = `sum by (namespace, pod, container, id) (container_cpu_usage_seconds_total{container!="", container!="POD"})`
	// queryThrottledPeriods and queryCFSPeriods are CFS counters, differenced like CPU.
	queryThrottledPeriods = `sum by (namespace, pod, container, id) (container_cpu_cfs_throttled_periods_total{container!="", container!="POD"})`
	queryCFSPeriods       = `sum by (namespace, pod, container, id) (container_cpu_cfs_periods_total{container!="", container!="POD"})`
	// queryStartTime is each instance's start (Unix seconds): it tells an instance that
	// started during a step, whose first reading is its usage in that step, from one whose
	// readings resume after a gap.
	queryStartTime = `max by (namespace, pod, container, id) (container_start_time_seconds{container!="", container!="POD"})`
	// queryWorkingSetPeak is the largest working set in each step, evaluated at the step's
	// end. %s is the step less one millisecond: Prometheus 2.x ranges include both ends, so
	// [1m] would count a sample at the minute's boundary in two minutes, while [59999ms]
	// covers (t-1m, t] exactly (and means the same in Prometheus 3, whose ranges exclude
	// their start). It takes actual samples only, no lookback, so an ended instance adds
	// nothing.
	queryWorkingSetPeak = `max by (namespace, pod, container) (max_over_time(container_memory_working_set_bytes{container!="", container!="POD"}[%s]))`
	// queryInstanceCount is the most container instances at any of the instants %s apart
	// within the last %s: cheap (one sample per series per instant) and enough to size the
	// chunks, the counter queries answering one series per instance.
	queryInstanceCount = `max_over_time(count(count by (namespace, pod, container, id) (container_cpu_usage_seconds_total{container!="", container!="POD"}))[%s:%s])`
)

// The range queries of a usage chunk, in the order they are sent.
const (
	readCPU = iota
	readMem
	readThrottled
	readPeriods
	readStarts
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

// instanceLabels identify one instance of a container: ID is cAdvisor's cgroup path, empty
// where the setup has no id label. They are the labels of the counter and start-time
// queries.
type instanceLabels struct {
	containerLabels
	ID string `json:"id"`
}

func compareInstances(a, b instanceLabels) int {
	return cmp.Or(compareContainers(a.containerLabels, b.containerLabels), cmp.Compare(a.ID, b.ID))
}

// usageTables are the answers of one span's queries. The counters and starts hold readings
// at the span's steps + 1 boundaries, one row per container instance; mem holds each step's
// peak working set, one row per container. Any of them may be nil (no answer).
type usageTables struct {
	cpu, throttled, periods, starts *table[instanceLabels]
	mem                             *table[containerLabels]
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
//   - CPUUsageCores of [t, t+1m) is the CPU time the container's instances used in it
//     / 60 s. An instance used C(t+1m) − C(t), C being its CPU counter's latest reading at
//     that time; after a counter reset (a decrease), C(t+1m) itself. An instance with no
//     reading at t that started at t or later (container_start_time_seconds) used
//     C(t+1m): its counter started from zero in the step. Otherwise an instance missing
//     either reading adds nothing: with no start time, or an earlier one (readings resuming
//     after a gap), C(t+1m) is not the step's usage, and a cumulative value is never
//     counted as one step's.
//   - MemoryWorkingSetBytes is the largest working set sampled in (t, t+1m]: peaks are
//     exact.
//   - CPUThrottledPeriods and CPUPeriods are the CFS counters' increases, like CPU.
//
// A container ran during a step when a working set was sampled in it or its CPU time grew.
// A CPU counter that did not move and no working set is not running: that is what
// Prometheus's five-minute lookback shows for a container (or an instance of it) that has
// stopped when no staleness marker ended its series (backfilled data, a restarted
// Prometheus). Such a lingering instance adds nothing to its successor's usage.
//
// from and to must be multiples of the step. The queries issued are 1 + 5 × chunks, where
// chunks = ⌈steps / per chunk⌉ and per chunk = min(Chunk / Step, 10,999,
// MaxSamples / instances − 1), instances being the most container instances seen at once:
// they depend on the number of containers only when a chunk would return more than
// MaxSamples points.
func (c *Client) Usage(ctx context.Context, from, to time.Time) ([]model.UsageSample, error) {
	step := c.opts.Step
	if err := c.checkWindow(from, to); err != nil {
		return nil, err
	}
	from, to = from.UTC(), to.UTC()
	n := int(to.Sub(from) / step)

	instances, err := c.countSeries(ctx, "container instances", queryInstanceCount, from, to)
	if err != nil {
		return nil, err
	}
	per := intervalsPerChunk(step, c.opts.Chunk, c.opts.MaxSamples, instances)
	spans := planSpans(n, per)
	chunks := make([]usageChunk, len(spans))
	for k, s := range spans {
		chunks[k] = usageChunk{span: s, pending: usageQueries}
	}

	out := make([]model.UsageSample, 0, min(instances*n, 1<<24))
	var (
		mu   sync.Mutex
		next int // first chunk not yet turned into samples
	)
	// Chunks are turned into samples in order as soon as they are complete, and their
	// tables dropped, so no more than a few chunks' answers are held at once.
	finish := func(k, query int, counters *table[instanceLabels], mem *table[containerLabels]) {
		mu.Lock()
		defer mu.Unlock()
		ch := &chunks[k]
		switch query {
		case readCPU:
			ch.cpu = counters
		case readMem:
			ch.mem = mem
		case readThrottled:
			ch.throttled = counters
		case readPeriods:
			ch.periods = counters
		case readStarts:
			ch.starts = counters
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
			t, err := fetch[containerLabels](ctx, c, rangeRequest("memory working set", memQuery, start.Add(step), step, s.Len()), instances)
			if err != nil {
				return err
			}
			finish(k, query, nil, t)
			return nil
		}
		var r request
		switch query {
		case readCPU:
			r = rangeRequest("cpu usage", queryCPUSeconds, start, step, s.Len()+1)
		case readThrottled:
			r = rangeRequest("cpu throttled periods", queryThrottledPeriods, start, step, s.Len()+1)
		case readPeriods:
			r = rangeRequest("cpu cfs periods", queryCFSPeriods, start, step, s.Len()+1)
		case readStarts:
			r = rangeRequest("container start times", queryStartTime, start, step, s.Len()+1)
		}
		t, err := fetch[instanceLabels](ctx, c, r, instances)
		if err != nil {
			return err
		}
		finish(k, query, t, nil)
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

// rowRange is the rows order[Lo:Hi] of a counterRows: one container's instances.
type rowRange struct{ Lo, Hi int32 }

// counterRows is one counter's table with its rows grouped by container.
type counterRows struct {
	tab    *table[instanceLabels]
	order  []int32 // row indices, by container, then id
	starts *table[instanceLabels]
	start  []int32 // per row of tab: the instance's row in starts, -1 when it has none
}

// newCounterRows groups tab's rows by container and finds each instance's start-time row
// (startRow indexes starts). tab may be nil.
func newCounterRows(tab, starts *table[instanceLabels], startRow map[instanceLabels]int32) *counterRows {
	c := &counterRows{tab: tab, starts: starts}
	if tab == nil {
		return c
	}
	c.order = make([]int32, tab.rows())
	c.start = make([]int32, tab.rows())
	for i, l := range tab.labels {
		c.order[i] = int32(i)
		c.start[i] = -1
		if r, ok := startRow[l]; ok {
			c.start[i] = r
		}
	}
	slices.SortFunc(c.order, func(a, b int32) int { return compareInstances(tab.labels[a], tab.labels[b]) })
	return c
}

// each calls f with each container's range of rows, in order.
func (c *counterRows) each(f func(key containerLabels, rows rowRange)) {
	for lo := 0; lo < len(c.order); {
		key := c.tab.labels[c.order[lo]].containerLabels
		hi := lo + 1
		for hi < len(c.order) && c.tab.labels[c.order[hi]].containerLabels == key {
			hi++
		}
		f(key, rowRange{int32(lo), int32(hi)})
		lo = hi
	}
}

// increase is how much the counter of the instances rows grew during step j, from boundary
// j to j+1, summed over the instances; ok is false when no instance has a value.
func (c *counterRows) increase(rows rowRange, j int) (sum float64, ok bool) {
	for _, i := range c.order[rows.Lo:rows.Hi] {
		prev, cur := c.tab.at(int(i), j), c.tab.at(int(i), j+1)
		inc, iok := counterIncrease(prev, cur)
		if !iok && math.IsNaN(prev) && !math.IsNaN(cur) && c.startedBy(i, j) {
			// A new instance: its counter started at zero within the step.
			inc, iok = cur, true
		}
		if iok {
			sum += inc
			ok = true
		}
	}
	return sum, ok
}

// startsAfter reports whether the container (instances rows) had not started during step
// j: no instance has a reading at boundary j, and every instance with a reading at boundary
// j+1 is known to have started at or after it.
func (c *counterRows) startsAfter(rows rowRange, j int) bool {
	if rows.Lo == rows.Hi {
		return false
	}
	boundary := float64(c.tab.start+int64(j+1)*c.tab.step) / 1000 // seconds
	for _, i := range c.order[rows.Lo:rows.Hi] {
		if !math.IsNaN(c.tab.at(int(i), j)) {
			return false
		}
		if math.IsNaN(c.tab.at(int(i), j+1)) {
			continue
		}
		r := c.start[i]
		if r < 0 {
			return false
		}
		if st := c.starts.at(int(r), j+1); math.IsNaN(st) || st < boundary {
			return false
		}
	}
	return true
}

// startedBy reports whether instance row i is known to have started at or after boundary j:
// its start time, as read at boundary j+1, is not before boundary j. Such an instance had no
// sample before boundary j, so no earlier step counted any of its counter, wherever the
// chunks are cut. There is no upper bound: an instance with a reading at j+1 started by
// then, whatever its start time says (clocks differ).
func (c *counterRows) startedBy(i int32, j int) bool {
	r := c.start[i]
	if r < 0 {
		return false
	}
	s := c.starts.at(int(r), j+1)
	if math.IsNaN(s) {
		return false
	}
	boundary := c.tab.start + int64(j)*c.tab.step // milliseconds
	return s*1000 >= float64(boundary)
}

// appendUsage appends the samples of one span of steps starting at start.
func appendUsage(out []model.UsageSample, start time.Time, step time.Duration, steps int, in usageTables) []model.UsageSample {
	var startRow map[instanceLabels]int32
	if in.starts != nil {
		startRow = make(map[instanceLabels]int32, in.starts.rows())
		for i, l := range in.starts.labels {
			startRow[l] = int32(i)
		}
	}
	cpu := newCounterRows(in.cpu, in.starts, startRow)
	throttled := newCounterRows(in.throttled, in.starts, startRow)
	periods := newCounterRows(in.periods, in.starts, startRow)
	startRow = nil

	type rows struct {
		key                     containerLabels
		mem                     int32
		cpu, throttled, periods rowRange
	}
	index := make(map[containerLabels]int32)
	var all []rows
	lookup := func(key containerLabels) *rows {
		i, ok := index[key]
		if !ok {
			i = int32(len(all))
			index[key] = i
			all = append(all, rows{key: key, mem: -1})
		}
		return &all[i]
	}
	cpu.each(func(key containerLabels, r rowRange) { lookup(key).cpu = r })
	if in.mem != nil {
		for i, l := range in.mem.labels {
			lookup(l).mem = int32(i)
		}
	}
	// Throttling alone does not make a container present; it only adds to those that are.
	throttled.each(func(key containerLabels, r rowRange) {
		if i, ok := index[key]; ok {
			all[i].throttled = r
		}
	})
	periods.each(func(key containerLabels, r rowRange) {
		if i, ok := index[key]; ok {
			all[i].periods = r
		}
	})
	index = nil
	slices.SortFunc(all, func(a, b rows) int { return compareContainers(a.key, b.key) })

	seconds := step.Seconds()
	for j := range steps {
		ts := start.Add(time.Duration(j) * step)
		for k := range all {
			r := &all[k]
			memBytes, memOK := math.NaN(), false
			if r.mem >= 0 {
				memBytes = in.mem.at(int(r.mem), j)
				memOK = !math.IsNaN(memBytes)
			}
			cpuInc, cpuOK := cpu.increase(r.cpu, j)
			if !memOK && (!cpuOK || cpuInc == 0) {
				continue // not running during this step
			}
			if cpuInc == 0 && cpu.startsAfter(r.cpu, j) {
				// Its first sample lies exactly on the step's end, which the working-set
				// window (t, t+1m] includes: it started at t+1m, not during this step.
				continue
			}
			s := model.UsageSample{
				Timestamp: ts,
				Namespace: r.key.Namespace,
				Pod:       r.key.Pod,
				Container: r.key.Container,
			}
			if cpuOK {
				s.CPUUsageCores = cpuInc / seconds
			}
			if memOK {
				s.MemoryWorkingSetBytes = toBytes(memBytes)
			}
			s.CPUThrottledPeriods, _ = throttled.increase(r.throttled, j)
			s.CPUPeriods, _ = periods.increase(r.periods, j)
			out = append(out, s)
		}
	}
	return out
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
