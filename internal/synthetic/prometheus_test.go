package synthetic

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/stacktest"
)

// promSample is one element of an instant-query vector.
type promSample struct {
	Metric map[string]string
	Value  float64
}

func promQuery(t *testing.T, base, query string, at time.Time) []promSample {
	t.Helper()
	u := base + "/api/v1/query?" + url.Values{"query": {query}, "time": {strconv.FormatInt(at.Unix(), 10)}}.Encode()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("query %s: %v", query, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Value  [2]json.RawMessage
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("query %s: decode: %v", query, err)
	}
	if body.Status != "success" || body.Data.ResultType != "vector" {
		t.Fatalf("query %s: status %s %s, result type %s", query, body.Status, body.Error, body.Data.ResultType)
	}
	out := make([]promSample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		var s string
		if err := json.Unmarshal(r.Value[1], &s); err != nil {
			t.Fatalf("query %s: value %s: %v", query, r.Value[1], err)
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, promSample{Metric: r.Metric, Value: v})
	}
	return out
}

// TestPrometheus loads the default history (48 h at 30 s) into the stack's Prometheus and
// checks what PromQL sees against Expected. The data lives in the two days before
// 2026-02-01 (the shared fixture is on 2026-01-01). Namespaces and nodes carry a digest of
// the generated data: a changed generator never collides with series an earlier run loaded,
// and unchanged data is loaded only once (prom-load.sh restarts Prometheus, which other
// packages' tests may be querying).
func TestPrometheus(t *testing.T) {
	base := stacktest.PrometheusURL(t)
	opts := Options{Cluster: "synthetic-it", End: testEnd, Prefix: "synit-"}
	h := sha256.New()
	if err := newCluster(t, opts).WriteOpenMetrics(h); err != nil {
		t.Fatal(err)
	}
	opts.Prefix = "synit-" + hex.EncodeToString(h.Sum(nil))[:8] + "-"
	c := newCluster(t, opts)
	e := c.Expected()
	sel := fmt.Sprintf(`namespace=~"%s.*"`, opts.Prefix)

	if n := len(promQuery(t, base, "kube_pod_info{"+sel+"}", e.End)); n == len(c.pods) {
		t.Logf("data for prefix %s already loaded", opts.Prefix)
	} else {
		if n != 0 {
			t.Fatalf("Prometheus holds %d of %d pods for prefix %s: a partial load", n, len(c.pods), opts.Prefix)
		}
		file := filepath.Join(t.TempDir(), "synthetic.om")
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		bw := bufio.NewWriterSize(f, 1<<20)
		if err := c.WriteOpenMetrics(bw); err != nil {
			t.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(file)
		t.Logf("wrote %d MB in %s", st.Size()>>20, time.Since(began).Round(time.Millisecond))
		began = time.Now()
		out, err := exec.CommandContext(t.Context(), "../../hack/stack/prom-load.sh", file).CombinedOutput()
		if err != nil {
			t.Fatalf("prom-load.sh: %v\n%s", err, out)
		}
		t.Logf("prom-load.sh (promtool backfill and Prometheus restart) took %s", time.Since(began).Round(time.Millisecond))
	}

	byKey := map[key3]*ExpectedContainer{}
	for i := range e.Containers {
		ct := &e.Containers[i]
		byKey[key3{ct.Namespace, ct.Pod, ct.Container.Container}] = ct
	}
	keyOf := func(s promSample) key3 {
		return key3{s.Metric["namespace"], s.Metric["pod"], s.Metric["container"]}
	}

	t.Run("hourly cpu", func(t *testing.T) {
		// increase() over [T−1h, T] sees samples at both ends (Prometheus 2.x ranges are
		// closed), so it needs no extrapolation where a container ran the whole hour.
		checked, worst := 0, 0.0
		for _, mark := range []time.Duration{time.Hour, 6 * time.Hour, 13 * time.Hour, 24 * time.Hour, 30 * time.Hour, 48 * time.Hour} {
			at := e.Start.Add(mark)
			got := promQuery(t, base, fmt.Sprintf(
				"sum by (namespace, pod, container) (increase(container_cpu_usage_seconds_total{%s}[1h]))", sel), at)
			seen := map[key3]float64{}
			for _, s := range got {
				seen[keyOf(s)] = s.Value
			}
			for k, ct := range byKey {
				for _, hr := range ct.Hours {
					if !hr.Hour.Equal(at.Add(-time.Hour)) || hr.RunningMinutes != 60 || killedWithin(ct, hr.Hour) {
						continue
					}
					v, ok := seen[k]
					want := hr.CPUUsageCores * 3600
					if !ok || math.Abs(v-want) > 0.005*want {
						t.Errorf("%v, hour to %s: increase %g (found %v), expected %g", k, at, v, ok, want)
					}
					worst = max(worst, math.Abs(v-want)/want)
					checked++
				}
			}
		}
		if checked < 6*20 {
			t.Errorf("only %d container-hours checked", checked)
		}
		t.Logf("%d container-hours checked, largest relative difference %.2g", checked, worst)
	})

	t.Run("memory peak", func(t *testing.T) {
		got := promQuery(t, base, fmt.Sprintf(
			"max by (namespace, pod, container) (max_over_time(container_memory_working_set_bytes{%s}[48h]))", sel), e.End)
		if len(got) != len(e.Containers) {
			t.Errorf("%d containers with a working set, want %d", len(got), len(e.Containers))
		}
		for _, s := range got {
			ct := byKey[keyOf(s)]
			if ct == nil || s.Value != float64(ct.MemoryPeakBytes) {
				t.Errorf("%v: max working set %g, expected %+v", keyOf(s), s.Value, ct)
			}
		}
	})

	t.Run("kube-state-metrics", func(t *testing.T) {
		for _, q := range []struct {
			query string
			want  func(*ExpectedContainer) float64
		}{
			{`kube_pod_container_resource_requests{resource="cpu",` + sel + `}`, func(c *ExpectedContainer) float64 { return c.CPURequestCores }},
			{`kube_pod_container_resource_limits{resource="memory",` + sel + `}`, func(c *ExpectedContainer) float64 { return float64(c.MemoryLimitBytes) }},
			{`kube_pod_container_resource_requests{resource="nvidia_com_gpu",` + sel + `}`, func(c *ExpectedContainer) float64 { return c.GPURequest }},
			{`kube_pod_container_status_restarts_total{` + sel + `}`, func(c *ExpectedContainer) float64 { return float64(c.RestartCount) }},
		} {
			found := 0
			for _, s := range promQuery(t, base, q.query, e.End) {
				ct := byKey[keyOf(s)]
				if ct == nil || s.Value != q.want(ct) {
					t.Errorf("%s: %v = %g, expected %+v", q.query, keyOf(s), s.Value, ct)
				}
				found++
			}
			if found == 0 {
				t.Errorf("%s: no series", q.query)
			}
		}
		kills := promQuery(t, base, `changes(kube_pod_container_status_last_terminated_reason{reason="OOMKilled",`+sel+`}[48h]) >= 0`, e.End)
		restarts := promQuery(t, base, `increase(kube_pod_container_status_restarts_total{`+sel+`}[48h]) > 0`, e.End)
		if len(kills) != 1 || len(restarts) != 1 || restarts[0].Value < 2 {
			t.Errorf("OOM-killed containers: reason series %v, restarts %v", kills, restarts)
		}
		gpus := promQuery(t, base, fmt.Sprintf(`kube_node_status_allocatable{resource="nvidia_com_gpu",node=~"%s.*"}`, opts.Prefix), e.End)
		if len(gpus) != 1 || gpus[0].Value != 1 {
			t.Errorf("GPU allocatable %v", gpus)
		}
		running := promQuery(t, base, `sum(kube_pod_status_phase{phase="Running",`+sel+`})`, e.End)
		if len(running) != 1 || int(running[0].Value) != len(c.pods)-1 {
			t.Errorf("running pods at End %v, want %d", running, len(c.pods)-1)
		}
	})
}

// killedWithin reports whether the container was OOM-killed inside the hour starting at h.
func killedWithin(ct *ExpectedContainer, h time.Time) bool {
	for _, k := range ct.OOMKills {
		if k.At.After(h) && k.At.Before(h.Add(time.Hour)) {
			return true
		}
	}
	return false
}
