package prom

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrapedSeries is one series' raw samples: times in Unix seconds, in order.
type scrapedSeries struct {
	labels string // JSON object of its labels
	kind   string // "cpu", "mem", "start" or "completion"
	t, v   []float64
}

// sampleProm answers Usage's queries from raw samples the way Prometheus evaluates them:
// a plain selector at t reads the latest sample in [t-5m, t] (timestamp() its time);
// max_over_time over d at t the samples in [t-d, t]. Series are not aggregated: each test
// series has distinct labels.
type sampleProm struct{ series []scrapedSeries }

func (p *sampleProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := q.Get("query")
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if r.URL.Path == pathQuery {
		fmt.Fprintf(bw, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%s,"%d"]}]}}`, q.Get("time"), len(p.series))
		return
	}
	start, _ := strconv.ParseFloat(q.Get("start"), 64)
	end, _ := strconv.ParseFloat(q.Get("end"), 64)
	step, _ := strconv.ParseFloat(q.Get("step"), 64)
	kind, window := "", 0.0
	switch {
	case strings.Contains(query, "memory"):
		kind = "mem"
		d := query[strings.LastIndex(query, "[")+1 : strings.LastIndex(query, "]")]
		dur, err := time.ParseDuration(d)
		if err != nil {
			panic(err)
		}
		window = dur.Seconds()
	case strings.Contains(query, "cpu_usage"):
		kind = "cpu"
	case strings.Contains(query, "completion_time"):
		kind = "completion"
	case strings.Contains(query, "start_time"):
		kind = "start"
	}
	stamps := strings.Contains(query, "timestamp(")
	bw.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	first := true
	for _, s := range p.series {
		if s.kind != kind {
			continue
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
		fmt.Fprintf(bw, `{"metric":%s,"values":[`, s.labels)
		n := 0
		for ts := start; ts <= end+1e-9; ts += step {
			v := math.NaN()
			for k := range s.t {
				if kind == "mem" {
					if s.t[k] >= ts-window && s.t[k] <= ts && (math.IsNaN(v) || s.v[k] > v) {
						v = s.v[k]
					}
				} else if s.t[k] <= ts && s.t[k] >= ts-300 {
					v = s.v[k]
					if stamps {
						v = s.t[k]
					}
				}
			}
			if math.IsNaN(v) {
				continue
			}
			if n > 0 {
				bw.WriteByte(',')
			}
			n++
			fmt.Fprintf(bw, `[%s,"%s"]`, strconv.FormatFloat(ts, 'f', -1, 64), strconv.FormatFloat(v, 'f', -1, 64))
		}
		bw.WriteString(`]}`)
	}
	bw.WriteString(`]}}`)
}

// scrape samples a container every interval from phase seconds after t0 while it runs
// (seconds from t0 in [from, to)), with CPU at cores and a working set of bytes.
func scrape(pod, id string, interval, phase, from, to, cores, bytes float64, withStart bool) []scrapedSeries {
	base := float64(t0.Unix())
	labels := fmt.Sprintf(`{"namespace":"ns","pod":%q,"container":"app","id":%q}`, pod, id)
	memLabels := fmt.Sprintf(`{"namespace":"ns","pod":%q,"container":"app"}`, pod)
	cpu := scrapedSeries{labels: labels, kind: "cpu"}
	mem := scrapedSeries{labels: memLabels, kind: "mem"}
	st := scrapedSeries{labels: labels, kind: "start"}
	first := phase + interval*math.Ceil((from-phase)/interval) // the first scrape at or after from
	for ts := first; ts < to; ts += interval {
		cpu.t, cpu.v = append(cpu.t, base+ts), append(cpu.v, cores*(ts-from))
		mem.t, mem.v = append(mem.t, base+ts), append(mem.v, bytes)
		st.t, st.v = append(st.t, base+ts), append(st.v, base+from)
	}
	out := []scrapedSeries{cpu, mem}
	if withStart {
		out = append(out, st)
	}
	return out
}

// Whatever the scrape interval, a steady container reads at its rate in every minute it
// ran, its working set in each, and the same however the window is cut into chunks.
func TestUsageAnyScrapeInterval(t *testing.T) {
	const steps = 30
	for _, interval := range []float64{10, 15, 30, 60, 120, 300} {
		t.Run(fmt.Sprintf("%gs", interval), func(t *testing.T) {
			// "steady" ran long before the window and after it; "born" started at 10:00
			// exactly (a container start, with start times), long before its first sample
			// for coarse scrapes, and runs on.
			var series []scrapedSeries
			series = append(series, scrape("steady", "s1", interval, 7, -3600, 3600, 0.5, 300e6, false)...)
			series = append(series, scrape("born", "b1", interval, 7, 600, 3600, 0.25, 100e6, true)...)
			srv := httptest.NewServer(&sampleProm{series: series})
			t.Cleanup(srv.Close)
			var reference map[string][]float64
			for _, chunk := range []int{30, 7, 5, 1} {
				c := newTestClient(t, srv.URL, Options{Chunk: time.Duration(chunk) * time.Minute})
				samples, err := c.Usage(context.Background(), t0, t0.Add(steps*time.Minute))
				if err != nil {
					t.Fatal(err)
				}
				got := cpuByMinute(samples, steps)
				for j, v := range got["steady"] {
					if math.Abs(v-0.5) > 1e-9 {
						t.Errorf("%d-minute chunks: steady minute %d: %v cores, want 0.5", chunk, j, v)
					}
				}
				for j, v := range got["born"] {
					want := 0.25
					if j < 10 {
						want = math.NaN()
					}
					if !sameMinutes([]float64{v}, []float64{want}) {
						t.Errorf("%d-minute chunks: born minute %d: %v cores, want %v", chunk, j, v, want)
					}
				}
				for _, s := range samples {
					if want := map[string]uint64{"steady": 300e6, "born": 100e6}[s.Pod]; s.MemoryWorkingSetBytes != want {
						t.Errorf("%d-minute chunks: %s at %s: working set %d, want %d", chunk, s.Pod, s.Timestamp.Format("15:04"), s.MemoryWorkingSetBytes, want)
					}
				}
				if reference == nil {
					reference = got
				}
				for pod, row := range got {
					if !sameMinutes(row, reference[pod]) {
						t.Errorf("%d-minute chunks: %s %v, differs from one chunk's %v", chunk, pod, row, reference[pod])
					}
				}
			}
		})
	}
}

// A container that stops runs until its last sample; a scrape gap within MaxGap is bridged
// at the counter's average rate, a longer one is not.
func TestUsageGapsAndStops(t *testing.T) {
	const steps = 20
	var series []scrapedSeries
	// Stops at 8:00: last sample 7:45 (15 s scrape from 0:00). Runs 8 minutes.
	series = append(series, scrape("stops", "x1", 15, 0, -600, 480, 0.5, 1e6, false)...)
	// A failed scrape between 4:00 and 6:00 (2 minutes without samples): bridged.
	bridged := scrape("bridged", "y1", 60, 0, -600, 1800, 0.5, 1e6, false)
	// A 9-minute gap (longer than MaxGap): the minutes between are not running.
	gapped := scrape("gapped", "z1", 60, 0, -600, 1800, 0.5, 1e6, false)
	for k := range bridged {
		bridged[k].t, bridged[k].v = dropBetween(bridged[k].t, bridged[k].v, t0.Unix()+241, t0.Unix()+359)
		gapped[k].t, gapped[k].v = dropBetween(gapped[k].t, gapped[k].v, t0.Unix()+241, t0.Unix()+779)
	}
	series = append(append(series, bridged...), gapped...)
	srv := httptest.NewServer(&sampleProm{series: series})
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	samples, err := c.Usage(context.Background(), t0, t0.Add(steps*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	got := cpuByMinute(samples, steps)
	nan := math.NaN()
	want := map[string][]float64{
		"stops":   {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan},
		"bridged": {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5},
		"gapped":  {0.5, 0.5, 0.5, 0.5, nan, nan, nan, nan, nan, nan, nan, nan, nan, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5},
	}
	// "stops": minute 7 holds its last sample at 7:45, so it ran in minute 7 (for 45 s of
	// the counter, which reads 0.5 × 45 / 60 of the minute's capacity).
	want["stops"][7] = 0.5 * 45 / 60
	// "gapped" resumes at 13:00 with the counter 9 minutes on: that CPU is not counted,
	// and minute 12 (its last reading at 4:00 then the next at 13:00) is not running.
	for pod, w := range want {
		if !sameMinutes(got[pod], w) {
			t.Errorf("%s: cores per minute %v, want %v", pod, got[pod], w)
		}
	}
}

// A finished pod ran until kube-state-metrics' completion time, past its last sample: the
// tail is counted at the last interval's rate, in the minutes it overlaps, however the
// window is chunked. A completion further than MaxGap from the last sample is not.
func TestUsageRunsUntilCompletion(t *testing.T) {
	const steps = 15
	base := float64(t0.Unix())
	completion := func(pod string, at float64) scrapedSeries {
		s := scrapedSeries{labels: fmt.Sprintf(`{"namespace":"ns","pod":%q}`, pod), kind: "completion"}
		for ts := at + 20; ts < 1800; ts += 30 {
			s.t, s.v = append(s.t, base+ts), append(s.v, base+at)
		}
		return s
	}
	var series []scrapedSeries
	// "job" runs [0, 290) at 0.5 cores, scraped every 30 s from 0:05: its last sample is at
	// 4:35, it completed at 4:50.
	series = append(series, scrape("job", "j1", 30, 5, 0, 290, 0.5, 2e6, true)...)
	series = append(series, completion("job", 290))
	// "late" stopped at 4:35 too, but its completion reads 12:00 (beyond MaxGap): not
	// extended.
	series = append(series, scrape("late", "l1", 30, 5, 0, 290, 0.5, 2e6, true)...)
	series = append(series, completion("late", 720))
	srv := httptest.NewServer(&sampleProm{series: series})
	t.Cleanup(srv.Close)
	nan := math.NaN()
	want := map[string][]float64{
		// Minute 4: 35 s measured, 15 s of tail at the same rate.
		"job": {0.5, 0.5, 0.5, 0.5, 0.5 * 50 / 60, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan},
		// Minute 4: the 35 s up to its last sample only.
		"late": {0.5, 0.5, 0.5, 0.5, 0.5 * 35 / 60, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan},
	}
	for _, chunk := range []int{15, 5, 4, 1} {
		c := newTestClient(t, srv.URL, Options{Chunk: time.Duration(chunk) * time.Minute})
		samples, err := c.Usage(context.Background(), t0, t0.Add(steps*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		got := cpuByMinute(samples, steps)
		for pod, w := range want {
			if !sameMinutes(got[pod], w) {
				t.Errorf("%d-minute chunks: %s: cores per minute %v, want %v", chunk, pod, got[pod], w)
			}
		}
		for _, s := range samples {
			if s.MemoryWorkingSetBytes != 2e6 {
				t.Errorf("%d-minute chunks: %s at %s: working set %d, want its last sample's 2000000", chunk, s.Pod, s.Timestamp.Format("15:04"), s.MemoryWorkingSetBytes)
			}
		}
	}
}

func dropBetween(ts, vs []float64, from, to int64) ([]float64, []float64) {
	var t2, v2 []float64
	for k := range ts {
		if ts[k] >= float64(from) && ts[k] <= float64(to) {
			continue
		}
		t2, v2 = append(t2, ts[k]), append(v2, vs[k])
	}
	return t2, v2
}

// The kubelet's /metrics/resource exports the CPU counter without an id label beside
// cAdvisor's per-instance series: counted once. Where it is the only source, it is used.
func TestUsageResourceEndpointCountedOnce(t *testing.T) {
	const steps = 10
	var series []scrapedSeries
	series = append(series, scrape("both", "/kubepods/pod1/c1", 15, 3, -600, 1200, 0.2, 1e6, false)...)
	resource := scrape("both", "", 15, 5, -600, 1200, 0.2, 1e6, false)
	series = append(series, resource[0]) // its CPU counter; working sets are max-merged anyway
	series = append(series, scrape("only", "", 15, 5, -600, 1200, 0.3, 1e6, false)...)
	srv := httptest.NewServer(&sampleProm{series: series})
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	samples, err := c.Usage(context.Background(), t0, t0.Add(steps*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	got := cpuByMinute(samples, steps)
	for pod, cores := range map[string]float64{"both": 0.2, "only": 0.3} {
		for j, v := range got[pod] {
			if math.Abs(v-cores) > 1e-9 {
				t.Errorf("%s minute %d: %v cores, want %v", pod, j, v, cores)
			}
		}
	}
}
