package prom

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// tableOf builds a table with points 0..points-1 one minute apart (NaN: missing).
func tableOf[L comparable](points int, rows map[L][]float64) *table[L] {
	t := newTable[L](0, 60_000, points, len(rows))
	for l, vals := range rows {
		var pts []point
		for j, v := range vals {
			if !math.IsNaN(v) {
				pts = append(pts, point{int64(j) * 60_000, v})
			}
		}
		if err := t.add(l, pts); err != nil {
			panic(err)
		}
	}
	return t
}

func instantOf[L comparable](labels ...L) *table[L] {
	t := newTable[L](0, 0, 1, len(labels))
	for _, l := range labels {
		if err := t.add(l, []point{{0, 1}}); err != nil {
			panic(err)
		}
	}
	return t
}

func TestAssembleKubeState(t *testing.T) {
	nan := math.NaN()
	const mi = 1 << 20
	origin := t0.Add(-time.Minute) // point 0; the window's steps are points 1..3
	ch := kubeStateChunk{
		span: span{First: 0, End: 3},
		requests: tableOf(4, map[resourceLabels][]float64{
			{"shop", "web-1", "app", "cpu"}:          {0.5, 0.5, 0.5, 0.5},
			{"shop", "web-1", "app", "memory"}:       {256 * mi, 256 * mi, 256 * mi, 256 * mi},
			{"db", "pg-0", "pg", "cpu"}:              {1, 1, 1, 1},
			{"db", "pg-0", "pg", "memory"}:           {512 * mi, 512 * mi, 512 * mi, 512 * mi},
			{"ml", "train", "gpu", "nvidia_com_gpu"}: {nan, nan, 2, 2},
		}),
		limits: tableOf(4, map[resourceLabels][]float64{
			{"shop", "web-1", "app", "memory"}: {512 * mi, 512 * mi, 512 * mi, 512 * mi},
			{"db", "pg-0", "pg", "cpu"}:        {1, 1, 1, 1},
			{"db", "pg-0", "pg", "memory"}:     {512 * mi, 512 * mi, 512 * mi, 512 * mi},
		}),
		podInfo: tableOf(4, map[podInfoLabels][]float64{
			{"shop", "web-1", "uid-1", "node-a"}: {1, 1, 1, 1},
			{"db", "pg-0", "uid-2", "node-b"}:    {1, 1, nan, nan}, // gone from pod info: the window's node is kept
			{"ml", "train", "uid-3", ""}:         {nan, nan, 1, 1}, // pending, never scheduled
		}),
		phase: tableOf(4, map[phaseLabels][]float64{
			{"shop", "web-1", "Running"}: {1, 1, 1, 1},
			{"db", "pg-0", "Running"}:    {1, 1, 1, 1},
			{"ml", "train", "Pending"}:   {nan, nan, 1, 1},
		}),
		reasons: tableOf(4, map[reasonLabels][]float64{
			{"db", "pg-0", "pg", "OOMKilled"}: {nan, 1, 1, 1},
			{"shop", "web-1", "app", "Error"}: {1, 1, 1, 1},
		}),
		restarts: tableOf(4, map[containerLabels][]float64{
			{"db", "pg-0", "pg"}:     {0, 2, 2, 3}, // OOM at the first step (2 restarts) and the third
			{"shop", "web-1", "app"}: {1, 1, 2, 2}, // restarted, but not OOM-killed
		}),
		oomEvents: tableOf(4, map[instanceLabels][]float64{
			// pg's kill at the first step is seen by its counter too (1 of the 2 restarts);
			// at the third step the counter says 2, one more than the restarts.
			{containerLabels{"db", "pg-0", "pg"}, "id-pg"}: {0, 1, 1, 3},
			// A process of web-1 killed at the second step; its restart (not an OOM kill)
			// starts a new instance at 0.
			{containerLabels{"shop", "web-1", "app"}, "id-a"}: {0, 0, 1, nan},
			{containerLabels{"shop", "web-1", "app"}, "id-b"}: {nan, nan, nan, 0},
			// Not a container kube-state-metrics knows: ignored.
			{containerLabels{"shop", "gone", "app"}, "id-c"}: {0, 5, 5, 5},
		}),
		podOwners: instantOf(
			podOwnerLabels{"shop", "web-1", "ReplicaSet", "web-7d"},
			podOwnerLabels{"db", "pg-0", "StatefulSet", "pg"},
			podOwnerLabels{"ml", "train", "<none>", "<none>"},
		),
		rsOwners:  instantOf(replicaSetOwnerLabels{"shop", "web-7d", "Deployment", "web"}),
		jobOwners: instantOf[jobOwnerLabels](),
	}
	ks := assembleKubeState(origin, time.Minute, []kubeStateChunk{ch})
	if !ks.Present {
		t.Fatal("Present = false")
	}
	// 3 steps: pg and web at each, train at steps 2 and 3.
	if len(ks.Containers) != 8 {
		for _, c := range ks.Containers {
			t.Logf("%s %s/%s/%s", c.ObservedAt.Format(time.TimeOnly), c.Namespace, c.Pod, c.Container)
		}
		t.Fatalf("%d snapshots, want 8", len(ks.Containers))
	}
	first := ks.Containers[0]
	want := model.Container{
		ObservedAt: t0, Namespace: "db", Pod: "pg-0", PodUID: "uid-2", Container: "pg", Node: "node-b",
		Phase: "Running", QoSClass: "Guaranteed", Workload: model.WorkloadRef{Kind: "StatefulSet", Name: "pg"},
		CPURequestCores: 1, CPULimitCores: 1, MemoryRequestBytes: 512 * mi, MemoryLimitBytes: 512 * mi,
		RestartCount: 2, LastTerminationReason: "OOMKilled",
	}
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("first snapshot\n got %+v\nwant %+v", first, want)
	}
	for _, c := range ks.Containers {
		switch c.Pod {
		case "web-1":
			if c.Workload != (model.WorkloadRef{Kind: "Deployment", Name: "web"}) || c.Node != "node-a" || c.QoSClass != "Burstable" {
				t.Errorf("web-1: %+v", c)
			}
		case "pg-0":
			if c.Node != "node-b" {
				t.Errorf("pg-0: %+v", c)
			}
		case "train": // Kubernetes's QoS classes count CPU and memory only
			if c.Workload != (model.WorkloadRef{Kind: "Pod", Name: "train"}) || c.Node != "" || c.Phase != "Pending" || c.GPURequest != 2 || c.QoSClass != "BestEffort" {
				t.Errorf("train: %+v", c)
			}
		}
	}
	wantEvents := []struct {
		at     time.Time
		pod    string
		reason string
		count  uint32
	}{
		{t0, "pg-0", "OOMKilled", 2},
		{t0.Add(time.Minute), "web-1", "ProcessOOMKilled", 1},
		{t0.Add(2 * time.Minute), "pg-0", "OOMKilled", 2}, // one restart + one more process
	}
	if len(ks.Events) != len(wantEvents) {
		t.Fatalf("events = %+v, want %d", ks.Events, len(wantEvents))
	}
	for i, w := range wantEvents {
		e := ks.Events[i]
		if !e.Timestamp.Equal(w.at) || e.Pod != w.pod || e.Kind != model.EventOOMKill || e.Reason != w.reason || e.Count != w.count {
			t.Errorf("event %d = %+v, want %+v", i, e, w)
		}
	}
	for _, i := range []int{0, 2} {
		if e := ks.Events[i]; e.MemoryLimitBytes != 512*mi || e.Node != "node-b" || e.Workload.Kind != "StatefulSet" {
			t.Errorf("event %d = %+v", i, e)
		}
	}
	if e := ks.Events[1]; e.Workload != (model.WorkloadRef{Kind: "Deployment", Name: "web"}) || e.MemoryLimitBytes != 512*mi ||
		!strings.Contains(e.Message, "1 process of the container OOM-killed") {
		t.Errorf("process OOM event = %+v", e)
	}
	if msg := ks.Events[2].Message; !strings.Contains(msg, "restart count 3") || !strings.Contains(msg, "1 more process") {
		t.Errorf("combined event message %q", msg)
	}

	empty := assembleKubeState(origin, time.Minute, []kubeStateChunk{{span: span{0, 3}}})
	if empty.Present || len(empty.Containers) != 0 || len(empty.Events) != 0 {
		t.Fatalf("no series: %+v", empty)
	}
}

func TestKubeStateQueryCount(t *testing.T) {
	_, srv := newFakeProm(t, 5_000)
	c := newTestClient(t, srv.URL, Options{Chunk: time.Hour})
	ks, err := c.KubeState(context.Background(), t0, t0.Add(3*time.Hour), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// 36 steps plus the reading before the window, at most 12 steps a chunk: 3 chunks.
	if got, want := c.QueryCount(), int64(1+kubeStateQueries*3); got != want {
		t.Fatalf("%d queries, want %d", got, want)
	}
	if ks.Present {
		t.Fatal("Present without kube-state-metrics series")
	}
	if _, err := c.KubeState(context.Background(), t0, t0, time.Minute); err == nil {
		t.Fatal("empty window accepted")
	}
}

// oomProm answers kube-state-metrics queries for one container that is OOM-killed every
// 10 minutes from t0 (restarts 1 at t0+10m, 2 at t0+20m, ...) while its cgroup counts a kill
// every 100 s (container_oom_events_total: the restarts' kills and processes'). Everything
// else is empty.
func oomProm(t *testing.T) string {
	series := func(labels string, value func(ts int64) float64, start, end, step int64) string {
		var b strings.Builder
		fmt.Fprintf(&b, `{"metric":{%s},"values":[`, labels)
		for ts := start; ts <= end; ts += step {
			if ts > start {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `[%d,"%g"]`, ts, value(ts))
		}
		b.WriteString("]}")
		return b.String()
	}
	base := t0.Unix()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		query := q.Get("query")
		if r.URL.Path == pathQuery {
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%s,"1"]}]}}`, q.Get("time"))
			return
		}
		start, _ := strconv.ParseFloat(q.Get("start"), 64)
		end, _ := strconv.ParseFloat(q.Get("end"), 64)
		step, _ := strconv.ParseFloat(q.Get("step"), 64)
		s, e, st := int64(start), int64(end), int64(step)
		const c = `"namespace":"db","pod":"pg-0","container":"pg"`
		var result string
		switch {
		case strings.Contains(query, "kube_pod_container_status_restarts_total"):
			result = series(c, func(ts int64) float64 { return float64(max(ts-base, 0) / 600) }, s, e, st)
		case strings.Contains(query, "last_terminated_reason"):
			result = series(c+`,"reason":"OOMKilled"`, func(int64) float64 { return 1 }, s, e, st)
		case strings.Contains(query, "kube_pod_container_resource_requests"):
			result = series(c+`,"resource":"cpu"`, func(int64) float64 { return 1 }, s, e, st)
		case strings.Contains(query, "container_oom_events_total"):
			result = series(c+`,"id":"/pod/pg"`, func(ts int64) float64 { return float64(max(ts-base, 0) / 100) }, s, e, st)
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[%s]}}`, result)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Every kill is counted once however the window is cut: the steps are the multiples of the
// step, so windows shorter than the step (the usage job every minute) and windows that do
// not start on a step give the same kills as one window.
func TestKubeStateKillsCountedOnceWhateverTheWindows(t *testing.T) {
	c := newTestClient(t, oomProm(t), Options{})
	const step = 5 * time.Minute
	kills := func(from, to time.Time, window time.Duration) (restarts, processes uint32) {
		for w := from; w.Before(to); w = w.Add(window) {
			ks, err := c.KubeState(context.Background(), w, w.Add(window), step)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ks.Events {
				switch e.Reason {
				case "OOMKilled":
					restarts += e.Count
				case "ProcessOOMKilled":
					processes += e.Count
				}
			}
		}
		return restarts, processes
	}
	// The steps t0+5m .. t0+60m each see 3 kills in the cgroup (300 s / 100 s). At t0+10m,
	// 20m, ..., 60m the container also restarted once: one OOMKilled event of 3 kills (the
	// restart and 2 processes); at t0+5m, 15m, ..., 55m 3 ProcessOOMKilled. 18 + 18 = 36 =
	// ⌊3600 / 100⌋ kills in all.
	from, to := t0.Add(time.Minute), t0.Add(61*time.Minute)
	for _, window := range []time.Duration{time.Minute, 3 * time.Minute, 7 * time.Minute, 60 * time.Minute} {
		restarts, processes := kills(from, to, window)
		if restarts != 18 || processes != 18 {
			t.Errorf("windows of %s: %d kills in OOMKilled events and %d in ProcessOOMKilled ones, want 18 and 18", window, restarts, processes)
		}
	}
	if ks, err := c.KubeState(context.Background(), t0.Add(time.Minute), t0.Add(2*time.Minute), step); err != nil || len(ks.Containers) != 0 || ks.Present {
		t.Errorf("a window without a step: %+v, %v; want nothing", ks, err)
	}
}

// A container instance that started after the previous step has no reading there: its OOM
// kills up to the first step it is seen at are counted (its counter began at 0), while an
// instance that reappears after a gap in the data, started long before, is not counted
// again.
func TestKubeStateKillsOfANewInstance(t *testing.T) {
	base := t0.Unix()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		query := q.Get("query")
		if r.URL.Path == pathQuery {
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%s,"1"]}]}}`, q.Get("time"))
			return
		}
		start, _ := strconv.ParseInt(q.Get("start"), 10, 64)
		end, _ := strconv.ParseInt(q.Get("end"), 10, 64)
		step, _ := strconv.ParseInt(q.Get("step"), 10, 64)
		// "new" started at t0+2m and counts a kill every 30 s; "old" started an hour before
		// t0 with 40 kills and has no data before t0+3m.
		type inst struct {
			labels      string
			started     int64
			seenFrom    int64
			kills       func(ts int64) float64
			withRequest string
		}
		insts := []inst{
			{`"namespace":"a","pod":"new-0","container":"c","id":"/new"`, base + 120, base + 120, func(ts int64) float64 { return float64((ts - base - 120) / 30) }, `"namespace":"a","pod":"new-0","container":"c"`},
			{`"namespace":"a","pod":"old-0","container":"c","id":"/old"`, base - 3600, base + 180, func(int64) float64 { return 40 }, `"namespace":"a","pod":"old-0","container":"c"`},
		}
		var parts []string
		for _, in := range insts {
			labels, value := in.labels, in.kills
			switch {
			case strings.Contains(query, "container_oom_events_total"):
			case strings.Contains(query, "container_start_time_seconds"):
				value = func(int64) float64 { return float64(in.started) }
			case strings.Contains(query, "kube_pod_container_resource_requests"):
				labels, value = in.withRequest+`,"resource":"cpu"`, func(int64) float64 { return 1 }
			default:
				continue
			}
			var vals []string
			for ts := start; ts <= end; ts += step {
				if ts >= in.seenFrom {
					vals = append(vals, fmt.Sprintf(`[%d,"%g"]`, ts, value(ts)))
				}
			}
			parts = append(parts, fmt.Sprintf(`{"metric":{%s},"values":[%s]}`, labels, strings.Join(vals, ",")))
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[%s]}}`, strings.Join(parts, ","))
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	ks, err := c.KubeState(context.Background(), t0, t0.Add(15*time.Minute), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]uint32{}
	for _, e := range ks.Events {
		got[e.Pod] = append(got[e.Pod], e.Count)
	}
	// new-0: 6 kills by t0+5m (3 minutes at one per 30 s), 10 more by t0+10m. old-0: none.
	if len(got) != 1 || !slices.Equal(got["new-0"], []uint32{6, 10}) {
		t.Errorf("kills per step %v, want new-0 [6 10] and nothing for old-0", got)
	}
}
