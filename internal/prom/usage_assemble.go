package prom

import (
	"math"
	"slices"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// This file turns the answers of one usage chunk into per-minute samples: the rules are
// those of Client.Usage's doc comment.

// reading is one sample of a counter: its time (Unix seconds) and value, and the first
// boundary at which it was read.
type reading struct {
	t, v float64
	j    int
}

// grid is the chunk's step boundaries: boundary j at t0 + j·step seconds; steps 0..n-1
// are the chunk's own.
type grid struct {
	t0, step float64
	n        int
}

func (g grid) boundary(j int) float64 { return g.t0 + float64(j)*g.step }

// spread adds inc, used evenly over [from, to], to the steps it overlaps (into[j] gets the
// share of the overlap), and the overlap's length to covered when that is not nil. An
// empty interval adds its increase to the step whose (start, end] holds it, covering
// nothing.
func (g grid) spread(inc, from, to float64, into, covered []float64) {
	if to <= from {
		j := int(math.Ceil((to-g.t0)/g.step)) - 1
		if j >= 0 && j < g.n {
			into[j] += inc
		}
		return
	}
	first := max(int(math.Floor((from-g.t0)/g.step)), 0)
	last := min(int(math.Ceil((to-g.t0)/g.step))-1, g.n-1)
	for j := first; j <= last; j++ {
		lo, hi := max(from, g.boundary(j)), min(to, g.boundary(j+1))
		if hi <= lo {
			continue
		}
		if into != nil {
			into[j] += inc * (hi - lo) / (to - from)
		}
		if covered != nil {
			covered[j] += hi - lo
		}
	}
}

// counterSeries is one counter table with, for each of its rows, where to find the
// instance's sample times and start time.
type counterSeries struct {
	tab    *table[instanceLabels]
	times  *table[instanceLabels] // the CPU counter's sample times; may be nil
	starts *table[instanceLabels] // may be nil
	timeOf []int32                // per row of tab: its row in times, -1 when none
	start  []int32                // per row of tab: its row in starts, -1 when none
}

func newCounterSeries(tab, times, starts *table[instanceLabels], timeRow, startRow map[instanceLabels]int32) *counterSeries {
	c := &counterSeries{tab: tab, times: times, starts: starts}
	if tab == nil {
		return c
	}
	c.timeOf = make([]int32, tab.rows())
	c.start = make([]int32, tab.rows())
	for i, l := range tab.labels {
		c.timeOf[i], c.start[i] = -1, -1
		if r, ok := timeRow[l]; ok {
			c.timeOf[i] = r
		}
		if r, ok := startRow[l]; ok {
			c.start[i] = r
		}
	}
	return c
}

// readings returns row i's distinct samples in time order. Without sample times (no
// timestamp series), each reading is taken to be a sample at its boundary: timed is false.
// A missing reading then means no sample within Prometheus's lookback, a gap longer than
// any scrape interval.
func (c *counterSeries) readings(g grid, i int32) (rs []reading, timed bool) {
	timed = c.timeOf[i] >= 0
	last := math.Inf(-1)
	for j := range c.tab.points {
		v := c.tab.at(int(i), j)
		if math.IsNaN(v) {
			continue
		}
		t := g.boundary(j)
		if timed {
			t = c.times.at(int(c.timeOf[i]), j)
			if math.IsNaN(t) {
				continue
			}
		}
		if t <= last {
			continue // the same sample again (a scrape coarser than the step, or the lookback)
		}
		rs = append(rs, reading{t, v, j})
		last = t
	}
	return rs, timed
}

// startTime is the instance's start (Unix seconds), NaN when unknown.
func (c *counterSeries) startTime(i int32) float64 {
	r := c.start[i]
	if r < 0 {
		return math.NaN()
	}
	for _, v := range c.starts.row(int(r)) {
		if !math.IsNaN(v) {
			return v
		}
	}
	return math.NaN()
}

// accumulate spreads row i's increases over the grid's steps (into), and marks the time
// the instance ran (covered, when not nil). Without sample times a flat counter is not
// taken as running: a series lingering in the lookback looks the same. until, when not
// NaN, is when the instance ended (its pod's completion): the time from its last sample to
// until, if no longer than maxGap, is taken to have run at the rate of its last interval.
func (c *counterSeries) accumulate(g grid, i int32, maxGap, until float64, into, covered []float64) {
	rs, timed := c.readings(g, i)
	if len(rs) == 0 {
		return
	}
	rate := math.NaN() // of the latest interval, per second
	if s := c.startTime(i); !math.IsNaN(s) && math.Abs(rs[0].t-s) <= maxGap &&
		(timed || rs[0].j == 0 || s >= g.boundary(rs[0].j-1)) {
		// The instance's first sample: its counter started from zero at s. A start time
		// after its first sample is the node's clock running ahead; it started by then.
		g.spread(rs[0].v, min(s, rs[0].t), rs[0].t, into, covered)
		if rs[0].t > s {
			rate = rs[0].v / (rs[0].t - s)
		}
	}
	for k := 1; k < len(rs); k++ {
		a, b := rs[k-1], rs[k]
		rate = math.NaN()
		if b.t-a.t > maxGap || (!timed && b.j != a.j+1) {
			continue // a gap: the container did not run in between
		}
		inc, _ := counterIncrease(a.v, b.v)
		if !timed && inc == 0 {
			continue
		}
		g.spread(inc, a.t, b.t, into, covered)
		rate = inc / (b.t - a.t)
	}
	last := rs[len(rs)-1].t
	if timed && !math.IsNaN(until) && until > last && until-last <= maxGap {
		if math.IsNaN(rate) {
			rate = 0 // it ran, at a rate never measured
		}
		g.spread(rate*(until-last), last, until, into, covered)
	}
}

// lastReading is the time of row i's latest sample, -Inf when it has none.
func (c *counterSeries) lastReading(g grid, i int32) float64 {
	rs, _ := c.readings(g, i)
	if len(rs) == 0 {
		return math.Inf(-1)
	}
	return rs[len(rs)-1].t
}

// completionTimes is each finished pod's completion (Unix seconds) from the completion
// table: the value of its first point that has one.
func completionTimes(t *table[podLabels]) map[podLabels]float64 {
	out := map[podLabels]float64{}
	if t == nil {
		return out
	}
	for i, l := range t.labels {
		for _, v := range t.row(i) {
			if !math.IsNaN(v) && v > 0 {
				out[l] = v
				break
			}
		}
	}
	return out
}

// groupByContainer groups tab's rows by container, dropping the id-less rows of a container
// that has rows with an id: those are the kubelet's /metrics/resource copy of a counter
// that cAdvisor also exports per instance.
func groupByContainer(tab *table[instanceLabels]) map[containerLabels][]int32 {
	out := map[containerLabels][]int32{}
	if tab == nil {
		return out
	}
	for i, l := range tab.labels {
		out[l.containerLabels] = append(out[l.containerLabels], int32(i))
	}
	for key, rows := range out {
		if slices.ContainsFunc(rows, func(r int32) bool { return tab.labels[r].ID != "" }) {
			out[key] = slices.DeleteFunc(rows, func(r int32) bool { return tab.labels[r].ID == "" })
		}
	}
	return out
}

// appendUsage appends the samples of one span of steps starting at start.
func appendUsage(out []model.UsageSample, start time.Time, step time.Duration, steps int, in usageTables) []model.UsageSample {
	// The grid's times are those of the counter tables (they are start's in Usage).
	g := grid{t0: float64(start.UnixMilli()) / 1000, step: step.Seconds(), n: steps}
	if in.cpu != nil {
		g.t0 = float64(in.cpu.start) / 1000
	}
	maxGap := in.maxGap
	if maxGap <= 0 {
		maxGap = DefaultMaxGap.Seconds()
	}
	rowIndex := func(t *table[instanceLabels]) map[instanceLabels]int32 {
		if t == nil {
			return nil
		}
		m := make(map[instanceLabels]int32, t.rows())
		for i, l := range t.labels {
			m[l] = int32(i)
		}
		return m
	}
	timeRow, startRow := rowIndex(in.cpuTimes), rowIndex(in.starts)
	cpu := newCounterSeries(in.cpu, in.cpuTimes, in.starts, timeRow, startRow)
	throttled := newCounterSeries(in.throttled, in.cpuTimes, in.starts, timeRow, startRow)
	periods := newCounterSeries(in.periods, in.cpuTimes, in.starts, timeRow, startRow)
	cpuRows, throttledRows, periodsRows := groupByContainer(in.cpu), groupByContainer(in.throttled), groupByContainer(in.periods)
	completed := completionTimes(in.completions)

	keys := make([]containerLabels, 0, len(cpuRows))
	for k := range cpuRows {
		keys = append(keys, k)
	}
	memRow := map[containerLabels]int32{}
	if in.mem != nil {
		for i, l := range in.mem.labels {
			memRow[l] = int32(i)
			if _, ok := cpuRows[l]; !ok {
				keys = append(keys, l)
			}
		}
	}
	// Throttling alone does not make a container present; it only adds to those that are.
	slices.SortFunc(keys, compareContainers)

	holdSteps := int(math.Ceil(maxGap / g.step))
	type container struct {
		key                              containerLabels
		cpu, covered, throttled, periods []float64
		hasCPU, timed                    bool
		startsBy                         float64 // every instance started at or after this (NaN: unknown)
		mem                              int32
	}
	all := make([]container, len(keys))
	for n, key := range keys {
		ct := &all[n]
		ct.key, ct.mem, ct.startsBy = key, -1, math.NaN()
		if r, ok := memRow[key]; ok {
			ct.mem = r
		}
		// A finished pod's containers ran on past their last sample, to its completion: the
		// latest instance of each (the one that ran last) is extended.
		until := func(*counterSeries, int32) float64 { return math.NaN() }
		if done, ok := completed[podLabels{key.Namespace, key.Pod}]; ok {
			latest, latestAt := instanceLabels{}, math.Inf(-1)
			for _, i := range cpuRows[key] {
				if t := cpu.lastReading(g, i); t > latestAt {
					latest, latestAt = cpu.tab.labels[i], t
				}
			}
			until = func(c *counterSeries, i int32) float64 {
				if latestAt > math.Inf(-1) && c.tab.labels[i] == latest {
					return done
				}
				return math.NaN()
			}
		}
		if rows := cpuRows[key]; len(rows) > 0 {
			ct.hasCPU = true
			ct.cpu, ct.covered = make([]float64, steps), make([]float64, steps)
			earliest := math.Inf(1)
			for _, i := range rows {
				ct.timed = ct.timed || cpu.timeOf[i] >= 0
				cpu.accumulate(g, i, maxGap, until(cpu, i), ct.cpu, ct.covered)
				s := cpu.startTime(i)
				if math.IsNaN(s) {
					earliest = math.NaN()
				} else if !math.IsNaN(earliest) {
					earliest = min(earliest, s)
				}
			}
			ct.startsBy = earliest
		}
		if rows := throttledRows[key]; len(rows) > 0 {
			ct.throttled = make([]float64, steps)
			for _, i := range rows {
				throttled.accumulate(g, i, maxGap, until(throttled, i), ct.throttled, nil)
			}
		}
		if rows := periodsRows[key]; len(rows) > 0 {
			ct.periods = make([]float64, steps)
			for _, i := range rows {
				periods.accumulate(g, i, maxGap, until(periods, i), ct.periods, nil)
			}
		}
	}

	// memAt is the working set of container ct in step j: the step's peak, ok when sampled;
	// held is the latest sample before it (else the first after it) within MaxGap.
	memAt := func(ct *container, j int) (peak float64, ok bool, held float64) {
		if ct.mem < 0 {
			return 0, false, 0
		}
		row := in.mem.row(int(ct.mem))
		k := in.memBefore + j
		if k < len(row) && !math.IsNaN(row[k]) {
			return row[k], true, row[k]
		}
		for d := 1; d <= holdSteps; d++ {
			if k-d >= 0 && k-d < len(row) && !math.IsNaN(row[k-d]) {
				return 0, false, row[k-d]
			}
		}
		for d := 1; d <= holdSteps; d++ {
			if k+d < len(row) && !math.IsNaN(row[k+d]) {
				return 0, false, row[k+d]
			}
		}
		return 0, false, math.NaN()
	}

	for j := range steps {
		ts := start.Add(time.Duration(j) * step)
		for n := range all {
			ct := &all[n]
			peak, sampled, held := memAt(ct, j)
			running := sampled
			if ct.hasCPU {
				switch {
				case ct.timed:
					// The samples' times tell when it ran; a working set sampled on the
					// step's end belongs to the interval that the next step covers.
					running = ct.covered[j] > 0 || ct.cpu[j] > 0
				case ct.covered[j] > 0 || ct.cpu[j] > 0:
					running = true
				case sampled && !math.IsNaN(ct.startsBy) && ct.startsBy >= g.boundary(j+1):
					// Its first sample lies exactly on the step's end, which the working-set
					// window (t, t+1m] includes: it started at t+1m, not during this step.
					running = false
				}
			}
			if !running {
				continue
			}
			s := model.UsageSample{
				Timestamp: ts,
				Namespace: ct.key.Namespace,
				Pod:       ct.key.Pod,
				Container: ct.key.Container,
			}
			if ct.hasCPU {
				s.CPUUsageCores = ct.cpu[j] / g.step
			}
			if sampled {
				s.MemoryWorkingSetBytes = toBytes(peak)
			} else {
				s.MemoryWorkingSetBytes = toBytes(held)
			}
			if ct.throttled != nil {
				s.CPUThrottledPeriods = ct.throttled[j]
			}
			if ct.periods != nil {
				s.CPUPeriods = ct.periods[j]
			}
			out = append(out, s)
		}
	}
	return out
}
