package synthetic

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// omSample is one parsed sample line.
type omSample struct {
	name   string
	labels map[string]string
	series string // name and labels as written
	value  float64
	ts     int64
}

func parseSample(line string) (omSample, error) {
	brace := strings.IndexByte(line, '{')
	end := strings.LastIndex(line, "} ")
	if brace <= 0 || end < brace {
		return omSample{}, errors.New("no label set")
	}
	s := omSample{name: line[:brace], series: line[:end+1], labels: map[string]string{}}
	rest := line[brace+1 : end]
	for rest != "" {
		eq := strings.Index(rest, `="`)
		if eq <= 0 {
			return s, fmt.Errorf("bad label in %q", rest)
		}
		key := rest[:eq]
		rest = rest[eq+2:]
		var val strings.Builder
		i := 0
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' {
				i++
			}
			val.WriteByte(rest[i])
		}
		if i == len(rest) {
			return s, errors.New("unterminated label value")
		}
		if _, dup := s.labels[key]; dup {
			return s, fmt.Errorf("duplicate label %s", key)
		}
		s.labels[key] = val.String()
		rest = strings.TrimPrefix(rest[i+1:], ",")
	}
	fields := strings.Fields(line[end+2:])
	if len(fields) != 2 {
		return s, errors.New("want value and timestamp")
	}
	var err error
	if s.value, err = strconv.ParseFloat(fields[0], 64); err != nil {
		return s, err
	}
	if fields[0] != strconv.FormatFloat(s.value, 'g', -1, 64) {
		return s, fmt.Errorf("value %s not in 'g' -1 form", fields[0])
	}
	if s.ts, err = strconv.ParseInt(fields[1], 10, 64); err != nil {
		return s, fmt.Errorf("timestamp: %w", err)
	}
	return s, nil
}

// omFile checks the structure of an OpenMetrics stream while reading it and calls sample
// for every sample.
func checkOpenMetrics(t *testing.T, c *Cluster, r io.Reader, sample func(omSample)) (families []string) {
	t.Helper()
	type seriesState struct {
		last    int64
		value   float64
		counter bool
	}
	series := map[string]*seriesState{}
	types := map[string]string{}
	done := map[string]bool{}
	family, typ := "", ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n, eof := 0, false
	for sc.Scan() {
		n++
		line := sc.Text()
		if eof {
			t.Fatalf("line %d after # EOF: %q", n, line)
		}
		switch {
		case line == "# EOF":
			eof = true
		case strings.HasPrefix(line, "# HELP "):
			name := strings.Fields(line)[2]
			if done[name] || name == family {
				t.Fatalf("line %d: family %s declared twice", n, name)
			}
			if family != "" {
				done[family] = true
			}
			family = name
			families = append(families, name)
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(line)
			if len(f) != 4 || f[2] != family {
				t.Fatalf("line %d: TYPE %q without HELP", n, line)
			}
			if strings.HasSuffix(f[2], "_total") {
				t.Fatalf("line %d: family %s named with _total", n, f[2])
			}
			typ = f[3]
			types[family] = typ
		case strings.HasPrefix(line, "#"):
			t.Fatalf("line %d: unexpected comment %q", n, line)
		default:
			s, err := parseSample(line)
			if err != nil {
				t.Fatalf("line %d: %v: %q", n, err, line)
			}
			want := family
			if typ == "counter" {
				want += "_total"
			}
			if s.name != want {
				t.Fatalf("line %d: sample %s in family %s (%s)", n, s.name, family, typ)
			}
			if s.ts < c.start || s.ts > c.end || (s.ts-c.start)%c.scrape != 0 {
				t.Fatalf("line %d: timestamp %d off the scrape grid [%d, %d] step %d", n, s.ts, c.start, c.end, c.scrape)
			}
			st := series[s.series]
			switch {
			case st == nil:
				series[s.series] = &seriesState{last: s.ts, value: s.value, counter: typ == "counter"}
			case s.ts != st.last+c.scrape:
				t.Fatalf("line %d: %s: timestamp %d after %d (want strictly increasing, one per scrape)", n, s.series, s.ts, st.last)
			case st.counter && s.value < st.value && s.labels["id"] != "":
				// A series without id (the kubelet's /metrics/resource) spans a container's
				// restarts, and its counter resets as the real one does.
				t.Fatalf("line %d: counter %s decreases from %g to %g", n, s.series, st.value, s.value)
			default:
				st.last, st.value = s.ts, s.value
			}
			if typ == "counter" && s.value < 0 || math.IsNaN(s.value) {
				t.Fatalf("line %d: bad value %g", n, s.value)
			}
			sample(s)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !eof {
		t.Fatal("no # EOF at the end")
	}
	return families
}

type key3 struct{ namespace, pod, container string }

func TestOpenMetricsMatchesExpected(t *testing.T) {
	c := newCluster(t, Options{})
	e := c.Expected()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(c.WriteOpenMetrics(pw)) }()

	type usage struct {
		peak     float64
		minutes  map[int64]bool
		cpuAt    map[string]map[int64]float64 // series → hour mark → counter
		restarts float64
		requests map[string]float64
		limits   map[string]float64
	}
	got := map[key3]*usage{}
	phases := map[key3]map[string]float64{} // pod → phase → value at End
	get := func(s omSample) *usage {
		k := key3{s.labels["namespace"], s.labels["pod"], s.labels["container"]}
		u := got[k]
		if u == nil {
			u = &usage{minutes: map[int64]bool{}, cpuAt: map[string]map[int64]float64{},
				requests: map[string]float64{}, limits: map[string]float64{}}
			got[k] = u
		}
		return u
	}
	families := checkOpenMetrics(t, c, pr, func(s omSample) {
		switch s.name {
		case "container_memory_working_set_bytes":
			u := get(s)
			u.peak = max(u.peak, s.value)
			if s.ts < c.end {
				u.minutes[s.ts/60] = true
			}
		case "container_cpu_usage_seconds_total":
			if s.ts%secondsPerHour == 0 {
				u := get(s)
				if u.cpuAt[s.series] == nil {
					u.cpuAt[s.series] = map[int64]float64{}
				}
				u.cpuAt[s.series][s.ts] = s.value
			}
		case "kube_pod_container_status_restarts_total":
			get(s).restarts = s.value
		case "kube_pod_container_resource_requests":
			get(s).requests[s.labels["resource"]] = s.value
		case "kube_pod_container_resource_limits":
			get(s).limits[s.labels["resource"]] = s.value
		case "kube_pod_status_phase":
			if s.ts == c.end {
				k := key3{s.labels["namespace"], s.labels["pod"], ""}
				if phases[k] == nil {
					phases[k] = map[string]float64{}
				}
				phases[k][s.labels["phase"]] = s.value
			}
		}
	})
	wantFamilies := []string{"container_cpu_usage_seconds", "container_memory_working_set_bytes",
		"container_start_time_seconds", "container_cpu_cfs_periods", "container_cpu_cfs_throttled_periods",
		"kube_node_status_capacity", "kube_node_status_allocatable", "kube_pod_info", "kube_pod_owner",
		"kube_pod_start_time", "kube_pod_completion_time", "kube_pod_status_phase", "kube_replicaset_owner",
		"kube_job_owner", "kube_pod_container_resource_requests", "kube_pod_container_resource_limits",
		"kube_pod_container_status_restarts", "kube_pod_container_status_last_terminated_reason",
		"kube_persistentvolume_capacity_bytes", "kube_persistentvolume_info", "kube_persistentvolume_claim_ref",
		"kube_persistentvolume_status_phase", "kube_persistentvolumeclaim_info",
		"kube_persistentvolumeclaim_resource_requests_storage_bytes", "kube_pod_spec_volumes_persistentvolumeclaims_info"}
	if strings.Join(families, " ") != strings.Join(wantFamilies, " ") {
		t.Errorf("families = %v\nwant %v", families, wantFamilies)
	}

	for _, ec := range e.Containers {
		k := key3{ec.Namespace, ec.Pod, ec.Container.Container}
		u := got[k]
		if u == nil {
			t.Errorf("%v: no series", k)
			continue
		}
		if uint64(u.peak) != ec.MemoryPeakBytes {
			t.Errorf("%v: file's working-set peak %g, expected %d", k, u.peak, ec.MemoryPeakBytes)
		}
		if len(u.minutes) != ec.RunningMinutes {
			t.Errorf("%v: %d minutes with samples, expected %d running minutes", k, len(u.minutes), ec.RunningMinutes)
		}
		if int(u.restarts) != int(ec.RestartCount) {
			t.Errorf("%v: restarts counter %g, expected %d", k, u.restarts, ec.RestartCount)
		}
		if u.requests["cpu"] != ec.CPURequestCores || u.limits["cpu"] != ec.CPULimitCores ||
			uint64(u.requests["memory"]) != ec.MemoryRequestBytes || uint64(u.limits["memory"]) != ec.MemoryLimitBytes ||
			u.requests["nvidia_com_gpu"] != ec.GPURequest {
			t.Errorf("%v: requests %v limits %v do not match %+v", k, u.requests, u.limits, ec.Container)
		}
		if ph := phases[key3{ec.Namespace, ec.Pod, ""}]; ph[ec.Phase] != 1 || len(ph) != 5 {
			t.Errorf("%v: phases at End %v, expected %s", k, ph, ec.Phase)
		}
		// Hours covered by one series: the counter's increase is the expected CPU.
		checked := 0
		for _, h := range ec.Hours {
			from, to := h.Hour.Unix(), h.Hour.Unix()+secondsPerHour
			for _, at := range u.cpuAt {
				a, okA := at[from]
				b, okB := at[to]
				if okA && okB {
					checked++
					if got, want := (b-a)/secondsPerHour, h.CPUUsageCores; math.Abs(got-want) > 1e-9*max(want, 1e-3) {
						t.Errorf("%v hour %s: counter increase / 3600 = %.12g, expected %.12g", k, h.Hour, got, want)
					}
				}
			}
		}
		if checked < len(ec.Hours)-2*len(ec.OOMKills)-2 {
			t.Errorf("%v: only %d of %d hours could be checked against the counter", k, checked, len(ec.Hours))
		}
	}
	if len(got) != len(e.Containers) {
		t.Errorf("file has %d containers, Expected %d", len(got), len(e.Containers))
	}
}

// excerpt keeps every metadata line of an OpenMetrics stream and the first n samples of each
// family: still a valid exposition, with every family and label set shape in it.
func excerpt(t *testing.T, r io.Reader, n int) string {
	t.Helper()
	var b strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	kept := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			kept = 0
		} else if kept++; kept > n {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestOpenMetricsExpfmt decodes the file with prometheus/common's OpenMetrics 1.0 decoder.
// The decoder parses each line against the ABNF grammar and manages about 70 lines a second
// here, so it gets an excerpt: all metadata and the first samples of every family. The whole
// file's structure is checked by checkOpenMetrics, and promtool loads it in TestPrometheus.
func TestOpenMetricsExpfmt(t *testing.T) {
	c := newCluster(t, Options{})
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(c.WriteOpenMetrics(pw)) }()
	text := excerpt(t, pr, 3)
	dec := expfmt.NewDecoder(strings.NewReader(text), expfmt.NewFormat(expfmt.TypeOpenMetrics))
	types := map[string]string{}
	var names []string
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decode after %v: %v", names, err)
		}
		names = append(names, mf.GetName())
		types[mf.GetName()] = mf.GetType().String()
		if len(mf.GetMetric()) != 3 {
			t.Errorf("%s: %d samples, want 3", mf.GetName(), len(mf.GetMetric()))
		}
		for _, m := range mf.GetMetric() {
			if ms := m.GetTimestampMs(); ms < c.start*1000 || ms > c.end*1000 || len(m.GetLabel()) < 2 {
				t.Errorf("%s: sample at %d ms with labels %v", mf.GetName(), ms, m.GetLabel())
			}
		}
	}
	if len(names) != 25 { // 6 cAdvisor families, 19 kube-state-metrics ones
		t.Errorf("decoded %d families %v, want 25", len(names), names)
	}
	for _, name := range []string{"container_cpu_usage_seconds_total", "container_cpu_cfs_periods_total",
		"container_cpu_cfs_throttled_periods_total", "kube_pod_container_status_restarts_total"} {
		if types[name] != "COUNTER" {
			t.Errorf("%s decoded as %q, want COUNTER (types %v)", name, types[name], types)
		}
	}
}

// countingWriter counts bytes and discards them.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestWriteOpenMetricsStreams checks that writing allocates far less than it writes: the
// output is streamed, not built in memory.
func TestWriteOpenMetricsStreams(t *testing.T) {
	c := newCluster(t, Options{Scale: 20, Duration: 24 * time.Hour, Scrape: time.Minute})
	var before, after runtime.MemStats
	var w countingWriter
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := c.WriteOpenMetrics(&w); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("wrote %d MB, allocated %d KB", w.n>>20, allocated>>10)
	if w.n < 100<<20 || allocated > uint64(w.n)/100 {
		t.Errorf("wrote %d bytes allocating %d bytes; want at least 100 MB written with under 1%% allocated", w.n, allocated)
	}
}

// BenchmarkWriteOpenMetrics measures the default history (48 h at 30 s, Scale 1).
func BenchmarkWriteOpenMetrics(b *testing.B) {
	c := newCluster(b, Options{})
	var w countingWriter
	for b.Loop() {
		w.n = 0
		if err := c.WriteOpenMetrics(&w); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(w.n)
}

func BenchmarkExpected(b *testing.B) {
	c := newCluster(b, Options{})
	for b.Loop() {
		_ = c.Expected()
	}
}
