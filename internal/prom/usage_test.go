package prom

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newTestClient(t testing.TB, url string, opts Options) *Client {
	t.Helper()
	opts.URL = url
	if opts.Retry.MinBackoff == 0 {
		opts.Retry.MinBackoff = time.Millisecond
	}
	c, err := New(opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The number of queries depends on the window, not on the number of containers.
func TestUsageQueryCountIndependentOfContainers(t *testing.T) {
	counts := map[int]int64{}
	for _, containers := range []int{10, 10_000} {
		f, srv := newFakeProm(t, containers)
		c := newTestClient(t, srv.URL, Options{Chunk: time.Hour})
		samples, err := c.Usage(context.Background(), t0, t0.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if want := containers * 180; len(samples) != want {
			t.Fatalf("%d containers: %d samples, want %d", containers, len(samples), want)
		}
		counts[containers] = c.QueryCount()
		// The working set: one hour, and the 6 minutes of MaxGap before and after it.
		if f.maxPoints != 72 {
			t.Errorf("%d containers: longest series %d points, want 72 (one hour and 6 minutes either side)", containers, f.maxPoints)
		}
		if f.queriesByPath[pathQuery] != 1 {
			t.Errorf("%d containers: %d instant queries, want 1", containers, f.queriesByPath[pathQuery])
		}
	}
	if counts[10] != counts[10_000] || counts[10] != 1+usageQueries*3 {
		t.Fatalf("queries for 10 and 10,000 containers: %d and %d, want 1 + 6 queries × 3 chunks = 19 each", counts[10], counts[10_000])
	}
}

// MaxSamples shrinks the chunks in time, never splits them by container, and no answer
// exceeds it or Prometheus's 11,000 points per series.
func TestUsageRespectsMaxSamplesAndPointLimit(t *testing.T) {
	f, srv := newFakeProm(t, 1_000)
	c := newTestClient(t, srv.URL, Options{Chunk: time.Hour, MaxSamples: 20_000})
	if _, err := c.Usage(context.Background(), t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// 1,000 series × 20 points, 12 of which are the MaxGap either side: chunks of 7
	// minutes, ⌈60/7⌉ = 9 chunks.
	if f.maxSamples > 20_000 {
		t.Fatalf("an answer had %d samples, over MaxSamples", f.maxSamples)
	}
	if got, want := c.QueryCount(), int64(1+usageQueries*9); got != want {
		t.Fatalf("%d queries, want %d", got, want)
	}

	// A week at 1-minute steps in one chunk would be 10,081 points; 8 days would pass the limit.
	f, srv = newFakeProm(t, 1)
	c = newTestClient(t, srv.URL, Options{Chunk: 8 * 24 * time.Hour})
	samples, err := c.Usage(context.Background(), t0, t0.Add(8*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if f.maxPoints > maxPointsPerSeries || len(samples) != 8*24*60 {
		t.Fatalf("longest series %d points, %d samples", f.maxPoints, len(samples))
	}
}

func TestUsageValuesFromFake(t *testing.T) {
	_, srv := newFakeProm(t, 3)
	c := newTestClient(t, srv.URL, Options{Chunk: 20 * time.Minute})
	samples, err := c.Usage(context.Background(), t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range samples {
		if want := t0.Add(time.Duration(i/3) * time.Minute); !s.Timestamp.Equal(want) {
			t.Fatalf("sample %d at %s, want %s (time order)", i, s.Timestamp, want)
		}
		if s.CPUUsageCores != 0.25 || s.CPUPeriods != 600 || s.CPUThrottledPeriods != 3 || s.MemoryWorkingSetBytes < 100_000_000 {
			t.Fatalf("sample %d = %+v", i, s)
		}
		if s.Cluster != "" || s.Workload != (model.WorkloadRef{}) {
			t.Fatalf("sample %d has cluster or workload set: %+v", i, s)
		}
	}
}

func TestUsageRejectsBadWindows(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", Options{})
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     string
	}{
		{"empty", t0, t0, "from must be before to"},
		{"reversed", t0.Add(time.Hour), t0, "from must be before to"},
		{"from not aligned", t0.Add(30 * time.Second), t0.Add(time.Hour), "not aligned"},
		{"to not aligned", t0, t0.Add(time.Hour + time.Second), "not aligned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Usage(context.Background(), tc.from, tc.to)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if c.QueryCount() != 0 {
		t.Fatal("a rejected window was queried")
	}
}

// containerRows turns rows of containers into rows of their only instance, with no id (a
// setup without the id label).
func containerRows(rows map[containerLabels][]float64) map[instanceLabels][]float64 {
	out := make(map[instanceLabels][]float64, len(rows))
	for l, v := range rows {
		out[instanceLabels{containerLabels: l}] = v
	}
	return out
}

func TestAppendUsage(t *testing.T) {
	nan := math.NaN()
	a := containerLabels{"ns", "a", "app"}     // steady, throttled
	b := containerLabels{"ns", "b", "app"}     // counter reset at minute 2
	cc := containerLabels{"ns", "c", "app"}    // starts at minute 1, stops after minute 2
	d := containerLabels{"ns", "d", "app"}     // memory only
	e := containerLabels{"ns", "e", "app"}     // throttling only: not running
	stale := containerLabels{"ns", "f", "app"} // counter flat, no memory: stopped (lookback)
	cpu := tableOf(5, containerRows(map[containerLabels][]float64{
		a:     {0, 30, 60, 90, 120},
		b:     {100, 160, 10, 70, 130},
		cc:    {nan, 5, 20, 35, 35},
		stale: {50, 50, 50, 50, nan},
	}))
	mem := tableOf(4, map[containerLabels][]float64{
		a:  {1e9, 2e9, 1.5e9, 1e9},
		b:  {1, 2, 3, 4},
		cc: {7, 8, 9, nan},
		d:  {5, nan, 5, 5},
	})
	throttled := tableOf(5, containerRows(map[containerLabels][]float64{
		a: {0, 10, 20, 30, 40},
		e: {0, 1, 2, 3, 4},
	}))
	periods := tableOf(5, containerRows(map[containerLabels][]float64{
		a: {0, 600, 1200, 1800, 2400},
	}))
	got := appendUsage(nil, t0, time.Minute, 4, usageTables{cpu: cpu, mem: mem, throttled: throttled, periods: periods})

	type key struct {
		pod    string
		minute int
	}
	want := map[key]model.UsageSample{
		{"a", 0}: {CPUUsageCores: 0.5, MemoryWorkingSetBytes: 1e9, CPUThrottledPeriods: 10, CPUPeriods: 600},
		{"a", 1}: {CPUUsageCores: 0.5, MemoryWorkingSetBytes: 2e9, CPUThrottledPeriods: 10, CPUPeriods: 600},
		{"a", 2}: {CPUUsageCores: 0.5, MemoryWorkingSetBytes: 1.5e9, CPUThrottledPeriods: 10, CPUPeriods: 600},
		{"a", 3}: {CPUUsageCores: 0.5, MemoryWorkingSetBytes: 1e9, CPUThrottledPeriods: 10, CPUPeriods: 600},
		{"b", 0}: {CPUUsageCores: 1, MemoryWorkingSetBytes: 1},
		{"b", 1}: {CPUUsageCores: 10.0 / 60, MemoryWorkingSetBytes: 2}, // reset: the new value
		{"b", 2}: {CPUUsageCores: 1, MemoryWorkingSetBytes: 3},
		{"b", 3}: {CPUUsageCores: 1, MemoryWorkingSetBytes: 4},
		{"c", 0}: {MemoryWorkingSetBytes: 7}, // no counter reading at its start, no start time
		{"c", 1}: {CPUUsageCores: 0.25, MemoryWorkingSetBytes: 8},
		{"c", 2}: {CPUUsageCores: 0.25, MemoryWorkingSetBytes: 9},
		// c, minute 3: counter flat and no working set: stopped.
		{"d", 0}: {MemoryWorkingSetBytes: 5},
		{"d", 2}: {MemoryWorkingSetBytes: 5},
		{"d", 3}: {MemoryWorkingSetBytes: 5},
	}
	if len(got) != len(want) {
		t.Errorf("%d samples, want %d", len(got), len(want))
	}
	for i, s := range got {
		minute := int(s.Timestamp.Sub(t0) / time.Minute)
		w, ok := want[key{s.Pod, minute}]
		if !ok {
			t.Errorf("unexpected sample %+v", s)
			continue
		}
		w.Timestamp, w.Namespace, w.Pod, w.Container = s.Timestamp, "ns", s.Pod, "app"
		if s != w {
			t.Errorf("pod %s minute %d: got %+v, want %+v", s.Pod, minute, s, w)
		}
		if i > 0 {
			p := got[i-1]
			if p.Timestamp.After(s.Timestamp) || (p.Timestamp.Equal(s.Timestamp) && p.Pod >= s.Pod) {
				t.Errorf("samples out of order at %d", i)
			}
		}
	}
}

func TestAppendUsageNilTables(t *testing.T) {
	mem := tableOf(2, map[containerLabels][]float64{{"ns", "p", "c"}: {1, 2}})
	if got := appendUsage(nil, t0, time.Minute, 2, usageTables{mem: mem}); len(got) != 2 {
		t.Fatalf("%d samples, want 2", len(got))
	}
}
