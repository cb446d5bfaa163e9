package prom

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// Tables in these tests start at Unix time 0: boundary j is at j minutes, so start times
// are written in seconds from there.

func inst(pod, id string) instanceLabels {
	return instanceLabels{containerLabels{"ns", pod, "app"}, id}
}

// cpuByMinute returns each pod's CPU cores per minute (NaN: no sample) over steps minutes.
func cpuByMinute(samples []model.UsageSample, steps int) map[string][]float64 {
	out := map[string][]float64{}
	for _, s := range samples {
		row, ok := out[s.Pod]
		if !ok {
			row = make([]float64, steps)
			for i := range row {
				row[i] = math.NaN()
			}
			out[s.Pod] = row
		}
		row[int(s.Timestamp.Sub(t0)/time.Minute)] = s.CPUUsageCores
	}
	return out
}

// sameMinutes compares per-minute values, NaN equal to NaN.
func sameMinutes(got, want []float64) bool {
	return slices.EqualFunc(got, want, func(a, b float64) bool {
		return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) < 1e-12
	})
}

func TestAppendUsageInstances(t *testing.T) {
	nan := math.NaN()
	const steps = 9
	rep := func(v float64, n int) []float64 { return slices.Repeat([]float64{v}, n) }
	cpu := tableOf(steps+1, map[instanceLabels][]float64{
		// An OOM kill at 2:20: the old instance's last sample (2:15) lingers, frozen, for
		// five minutes of lookback (boundaries 3–7) while its successor, started at 2:30,
		// grows; both at 0.5 cores. Summed first, the sum would drop at boundary 8 and the
		// drop be taken as a counter reset.
		inst("oom", "old"): {100, 130, 160, 167.5, 167.5, 167.5, 167.5, 167.5, nan, nan},
		inst("oom", "new"): {nan, nan, nan, 15, 45, 75, 105, 135, 165, 195},
		// A new instance started at 1:30, first sampled at 1:45 (4.5 s of CPU at 0.3 cores).
		inst("job", "job-1"): {nan, nan, 4.5, 22.5, 40.5, 58.5, 76.5, 94.5, 112.5, 130.5},
		// The same without a start-time series: its first reading is not counted.
		inst("nostart", "ns-1"): {nan, nan, 4.5, 22.5, 40.5, 58.5, 76.5, 94.5, 112.5, 130.5},
		// Readings resuming after a gap (boundary 2, e.g. a failed scrape's staleness
		// marker) of an instance started long before: the first reading after the gap is
		// cumulative and not counted.
		inst("gap", "gap-1"): {10, 40, nan, 100, 130, 160, 190, 220, 250, 280},
		// Started at 3:50, but its clock says 4:01 (later than the reading at 4:00): still
		// its first reading.
		inst("skew", "skew-1"): {nan, nan, nan, nan, 3, 33, 63, 93, 123, 153},
	})
	starts := tableOf(steps+1, map[instanceLabels][]float64{
		inst("oom", "old"):      append(rep(-86400, 8), nan, nan),
		inst("oom", "new"):      append(rep(nan, 3), rep(150, 7)...),
		inst("job", "job-1"):    append(rep(nan, 2), rep(90, 8)...),
		inst("gap", "gap-1"):    {-3600, -3600, nan, -3600, -3600, -3600, -3600, -3600, -3600, -3600},
		inst("skew", "skew-1"):  append(rep(nan, 4), rep(241, 6)...),
		inst("other", "other"):  rep(0, 10),  // no counters: ignored
		inst("nostart", "ns-2"): rep(90, 10), // another instance's start time
	})
	// CFS counters follow the same rules: the job's first minute counts 100 periods a second.
	periods := tableOf(steps+1, map[instanceLabels][]float64{
		inst("job", "job-1"): {nan, nan, 1500, 7500, 13500, 19500, 25500, 31500, 37500, 43500},
	})
	got := cpuByMinute(appendUsage(nil, t0, time.Minute, steps, usageTables{cpu: cpu, starts: starts, periods: periods}), steps)

	want := map[string][]float64{
		// Minute 2: the old instance's last 15 s (7.5) and the new one's first 30 s (15).
		"oom":     {0.5, 0.5, (7.5 + 15) / 60, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5},
		"job":     {nan, 4.5 / 60, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3},
		"nostart": {nan, nan, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3},
		"gap":     {0.5, nan, nan, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5},
		"skew":    {nan, nan, nan, 3.0 / 60, 0.5, 0.5, 0.5, 0.5, 0.5},
	}
	for pod, w := range want {
		if !sameMinutes(got[pod], w) {
			t.Errorf("%s: cores per minute %v, want %v", pod, got[pod], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("pods %v, want %d", got, len(want))
	}

	samples := appendUsage(nil, t0, time.Minute, steps, usageTables{cpu: cpu, starts: starts, periods: periods})
	for _, s := range samples {
		if s.Pod == "job" {
			if wantPeriods := 6000.0; s.Timestamp.Equal(t0.Add(2*time.Minute)) && s.CPUPeriods != wantPeriods {
				t.Errorf("job minute 2: %v periods, want %v", s.CPUPeriods, wantPeriods)
			}
			if s.Timestamp.Equal(t0.Add(time.Minute)) && s.CPUPeriods != 1500 {
				t.Errorf("job first minute: %v periods, want 1500", s.CPUPeriods)
			}
		}
	}
}

// A container whose first sample lies exactly on a minute boundary started then: the
// working-set window (t, t+1m] of the minute before contains that sample, but the container
// did not run in that minute and gets no sample for it.
func TestAppendUsageStartOnBoundary(t *testing.T) {
	nan := math.NaN()
	const steps = 4
	rep := func(v float64, n int) []float64 { return slices.Repeat([]float64{v}, n) }
	cpu := tableOf(steps+1, map[instanceLabels][]float64{
		// Started at 2:00 exactly, 0.5 cores: readings 0 at 2:00, 30 at 3:00, 60 at 4:00.
		inst("aligned", "a-1"): {nan, nan, 0, 30, 60},
		// Started at 1:50, first sampled at 2:00 (5 s of CPU at 0.5 cores): it ran in minute 1.
		inst("early", "e-1"): {nan, nan, 5, 35, 65},
	})
	starts := tableOf(steps+1, map[instanceLabels][]float64{
		inst("aligned", "a-1"): append(rep(nan, 2), rep(120, 3)...),
		inst("early", "e-1"):   append(rep(nan, 2), rep(110, 3)...),
	})
	mem := tableOf(steps, map[containerLabels][]float64{
		// The peak of minute j is read from (j, j+1]: the first sample, at 2:00, lands in minute 1.
		{"ns", "aligned", "app"}: {nan, 100, 100, 100},
		{"ns", "early", "app"}:   {nan, 100, 100, 100},
	})
	got := cpuByMinute(appendUsage(nil, t0, time.Minute, steps, usageTables{cpu: cpu, starts: starts, mem: mem}), steps)
	want := map[string][]float64{
		"aligned": {nan, nan, 0.5, 0.5},      // minute 1 is not a running minute
		"early":   {nan, 5.0 / 60, 0.5, 0.5}, // it was: 10 s, 5 core-seconds
	}
	for pod, w := range want {
		if !sameMinutes(got[pod], w) {
			t.Errorf("%s: cores per minute %v, want %v", pod, got[pod], w)
		}
	}
}

// instanceProm serves fixed series of container instances, one value per minute boundary
// from t0 (index j: t0 + j minutes), for the queries Usage sends.
type instanceProm struct {
	cpu, starts map[instanceLabels][]float64
	mem         map[containerLabels][]float64 // index j: the peak of minute j
}

func (p *instanceProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := q.Get("query")
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if r.URL.Path == pathQuery {
		fmt.Fprintf(bw, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%s,"%d"]}]}}`, q.Get("time"), len(p.cpu))
		return
	}
	start, _ := strconv.ParseInt(q.Get("start"), 10, 64)
	end, _ := strconv.ParseInt(q.Get("end"), 10, 64)
	write := func(first bool, metric string, row []float64, offset int) {
		if !first {
			bw.WriteByte(',')
		}
		fmt.Fprintf(bw, `{"metric":%s,"values":[`, metric)
		n := 0
		for ts := start; ts <= end; ts += 60 {
			j := int((ts-t0.Unix())/60) + offset
			if j < 0 || j >= len(row) || math.IsNaN(row[j]) {
				continue
			}
			if n > 0 {
				bw.WriteByte(',')
			}
			n++
			fmt.Fprintf(bw, `[%d,"%s"]`, ts, strconv.FormatFloat(row[j], 'f', -1, 64))
		}
		bw.WriteString(`]}`)
	}
	bw.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	first := true
	switch {
	case strings.Contains(query, "timestamp("):
		// No sample times: the readings are taken as samples at the boundaries.
	case strings.Contains(query, "memory"):
		for l, row := range p.mem {
			write(first, fmt.Sprintf(`{"namespace":%q,"pod":%q,"container":%q}`, l.Namespace, l.Pod, l.Container), row, -1)
			first = false
		}
	case strings.Contains(query, "cpu_usage"), strings.Contains(query, "start_time"):
		series := p.cpu
		if strings.Contains(query, "start_time") {
			series = p.starts
		}
		for l, row := range series {
			write(first, fmt.Sprintf(`{"namespace":%q,"pod":%q,"container":%q,"id":%q}`, l.Namespace, l.Pod, l.Container, l.ID), row, 0)
			first = false
		}
	}
	bw.WriteString(`]}}`)
}

// Cut into chunks of any length, Usage returns the same samples: an instance that starts in
// the last minute of a chunk is counted there, once, and one whose readings resume in the
// middle of a gap is never counted.
func TestUsageInstancesAcrossChunks(t *testing.T) {
	nan := math.NaN()
	const steps = 12
	at := func(min, sec int) float64 { return float64(t0.Unix()) + float64(min*60+sec) }
	grow := func(from int, first, rate float64) []float64 {
		row := make([]float64, steps+1)
		for j := range row {
			row[j] = nan
			if j >= from {
				row[j] = first + rate*60*float64(j-from)
			}
		}
		return row
	}
	since := func(from int, v float64) []float64 {
		row := make([]float64, steps+1)
		for j := range row {
			row[j] = nan
			if j >= from {
				row[j] = v
			}
		}
		return row
	}
	// "late": started at 4:40, first read at 5:00 (10 s at 0.5 cores): minute 4 is the
	// last of a chunk whenever chunks are 5 or 1 minutes long.
	late := grow(5, 10, 0.5)
	// "gap": no readings at boundaries 5–7 (a scrape gap longer than the lookback), then
	// cumulative readings again: never counted, however the chunks fall.
	gap := grow(0, 1000, 0.25)
	for j := 5; j <= 7; j++ {
		gap[j] = nan
	}
	// "oom": the old instance last sampled at 6:10, then frozen there for five minutes of
	// lookback; the new one started at 6:20.
	old := grow(0, 0, 1)
	for j := 7; j <= 11; j++ {
		old[j] = old[6] + 10
	}
	old[12] = nan
	p := &instanceProm{
		cpu: map[instanceLabels][]float64{
			inst("late", "late-1"): late,
			inst("gap", "gap-1"):   gap,
			inst("oom", "oom-1"):   old,
			inst("oom", "oom-2"):   grow(7, 20, 0.5),
		},
		starts: map[instanceLabels][]float64{
			inst("late", "late-1"): since(5, at(4, 40)),
			inst("gap", "gap-1"):   since(0, at(-600, 0)),
			inst("oom", "oom-1"):   since(0, at(-600, 0)),
			inst("oom", "oom-2"):   since(7, at(6, 20)),
		},
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)

	want := map[string][]float64{
		"late": append(slices.Repeat([]float64{nan}, 4), 10.0/60, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5),
		"gap":  {0.25, 0.25, 0.25, 0.25, nan, nan, nan, nan, 0.25, 0.25, 0.25, 0.25},
		"oom":  {1, 1, 1, 1, 1, 1, (10 + 20) / 60.0, 0.5, 0.5, 0.5, 0.5, 0.5},
	}
	for _, chunk := range []int{12, 7, 5, 4, 3, 2, 1} {
		c := newTestClient(t, srv.URL, Options{Chunk: time.Duration(chunk) * time.Minute})
		samples, err := c.Usage(context.Background(), t0, t0.Add(steps*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		chunks := (steps + chunk - 1) / chunk
		if got, want := c.QueryCount(), int64(1+usageQueries*chunks); got != want {
			t.Errorf("%d-minute chunks: %d queries, want 1 + 6 × %d", chunk, got, chunks)
		}
		got := cpuByMinute(samples, steps)
		for pod, w := range want {
			if !sameMinutes(got[pod], w) {
				t.Errorf("%d-minute chunks: %s cores per minute %v, want %v", chunk, pod, got[pod], w)
			}
		}
	}
}
