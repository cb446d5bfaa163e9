package collector

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/prom"
	"github.com/tally-finops/tally/internal/store"
)

// Prometheus is down for a first run: the usage job fails, is logged and counted, and its
// watermark does not move, while the inventory job still succeeds. Once Prometheus is back,
// the next run catches up from its history: every minute of the window is there, once.
func TestCollectorCatchesUpAfterPrometheusOutage(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	_ = l.Close() // nothing listens there now
	e := setUpE2E(t, prom.Options{URL: down, Retry: prom.Retry{Attempts: 2, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}})
	ctx := context.Background()

	err = e.c.RunOnce(ctx)
	if err == nil || !strings.Contains(err.Error(), "job usage") {
		t.Fatalf("run with Prometheus down: err = %v, want the usage job to fail", err)
	}
	if n := testutil.ToFloat64(e.c.metrics.jobErrors.WithLabelValues(JobUsage)); n != 1 {
		t.Errorf("usage job errors counted: %v, want 1", n)
	}
	wms, err := e.store.Watermarks(ctx, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wms {
		if w.Job == JobUsage {
			t.Errorf("usage watermark moved to %v although the job failed", w.Time)
		}
	}
	if !hasWatermark(wms, JobInventory) {
		t.Error("the inventory job did not run: a Prometheus outage must not stop it")
	}
	// The hours whose node history is not read yet are not priced with today's nodes: they
	// wait for it (before, they were priced for good and the watermark moved past them).
	early, err := e.store.NodePrices(ctx, store.Window{Cluster: "e2e", From: e.from.Truncate(time.Hour), To: e2eEnd})
	if err != nil {
		t.Fatal(err)
	}
	if len(early) > 0 {
		t.Errorf("%d node prices written for hours whose history Prometheus could not give yet (first %s at %s)",
			len(early), early[0].Node, early[0].Hour.Format(time.RFC3339))
	}

	// Prometheus is back: a collector on the same database, with the real address.
	back := setUpE2E(t, prom.Options{})
	back.store, back.c.deps.Store = e.store, e.store
	if err := back.c.RunOnce(ctx); err != nil {
		t.Fatalf("run after the outage: %v", err)
	}
	wms, err = e.store.Watermarks(ctx, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	var usage model.Watermark
	for _, w := range wms {
		if w.Job == JobUsage {
			usage = w
		}
	}
	if !usage.Time.Equal(e2eEnd) {
		t.Errorf("usage watermark after catch-up = %v, want %v", usage.Time, e2eEnd)
	}
	// Once back, every node is priced for every hour, from its history.
	prices, err := e.store.NodePrices(ctx, store.Window{Cluster: "e2e", From: e.from.Truncate(time.Hour), To: e2eEnd})
	if err != nil {
		t.Fatal(err)
	}
	perNode := map[string]int{}
	for _, p := range prices {
		perNode[p.Node]++
	}
	hours := int(e2eEnd.Sub(e.from.Truncate(time.Hour)) / time.Hour)
	for _, n := range e.exp.Nodes {
		if perNode[n.Name] != hours {
			t.Errorf("node %s priced for %d hours after the catch-up, want %d", n.Name, perNode[n.Name], hours)
		}
	}
	checkEveryMinuteOnce(t, e)
}

// checkEveryMinuteOnce checks that every container that ran through the whole collected
// window has exactly one sample per minute of it.
func checkEveryMinuteOnce(t *testing.T, e *e2e) {
	t.Helper()
	samples, err := e.store.UsageSamples(context.Background(), store.Window{Cluster: "e2e", From: e.from, To: e2eEnd})
	if err != nil {
		t.Fatal(err)
	}
	perCtr := map[ctrKey]int{}
	for _, s := range samples {
		perCtr[ctrKey{s.Namespace, s.Pod, s.Container}]++
	}
	minutes := int(e2eEnd.Sub(e.from) / time.Minute)
	checked := 0
	for _, c := range e.exp.Containers {
		if c.RunningFrom.After(e.from) || !c.RunningUntil.IsZero() || c.Container.Init {
			continue
		}
		checked++
		if n := perCtr[ctrKey{c.Namespace, c.Pod, c.Container.Container}]; n != minutes {
			t.Errorf("%s/%s/%s: %d minutes collected, want %d", c.Namespace, c.Pod, c.Container.Container, n, minutes)
		}
	}
	if checked < 10 {
		t.Errorf("only %d containers ran through the window", checked)
	}
}

// A run wrote the first 7 minutes of a chunk and stopped before moving the watermark (the
// watermark write failed, or the process was killed). The next run's first chunk starts at
// the same watermark and is longer: it writes the 33 minutes the first run did not, and
// none of the 7 again.
func TestUsageResumesAHalfWrittenChunk(t *testing.T) {
	e := setUpE2E(t, prom.Options{})
	ctx := context.Background()
	if err := e.c.usageInterval(ctx, Interval{From: e.from, To: e.from.Add(7 * time.Minute)},
		workloadIndex(e.c.deps.Inventory.Containers(e.now))); err != nil {
		t.Fatal(err)
	}
	if err := e.c.usage(ctx, e.now, nil); err != nil {
		t.Fatal(err)
	}
	checkEveryMinuteOnce(t, e)
	n, err := e.store.CountUsageSamples(ctx, store.Window{Cluster: "e2e", From: e.from, To: e2eEnd})
	if err != nil {
		t.Fatal(err)
	}
	days, err := e.store.UsageDaily(ctx, store.Window{Cluster: "e2e", From: e.from.Truncate(24 * time.Hour), To: e2eEnd.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var rolled uint64
	for _, d := range days {
		rolled += d.Samples
	}
	if rolled != n {
		t.Errorf("the daily rollup counts %d samples, the raw table holds %d: minutes were written twice", rolled, n)
	}
}

func hasWatermark(wms []model.Watermark, job string) bool {
	for _, w := range wms {
		if w.Job == job {
			return true
		}
	}
	return false
}

func TestHandler(t *testing.T) {
	c := &Collector{}
	reg := prometheus.NewRegistry()
	c.metrics = newMetrics(reg, func() float64 { return 7 })
	c.metrics.jobErrors.WithLabelValues(JobUsage).Inc()
	srv := httptest.NewServer(c.Handler(reg))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before catching up = %d, want 503", code)
	}
	c.ready.Store(true)
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after catching up = %d, want 200", code)
	}
	code, body := get("/metrics")
	for _, want := range []string{`tally_collector_job_errors_total{job="usage"} 1`, "tally_collector_prometheus_queries_total 7"} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
}

// At shutdown the usage job stops between chunks: with the stop channel closed it writes no
// chunk and leaves its watermark alone, so the next start resumes there.
func TestUsageStopsAtShutdown(t *testing.T) {
	e := setUpE2E(t, prom.Options{})
	ctx := context.Background()
	stop := make(chan struct{})
	close(stop)
	if err := e.c.usage(ctx, e.now, stop); err != nil {
		t.Fatal(err)
	}
	wms, err := e.store.Watermarks(ctx, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	if hasWatermark(wms, JobUsage) {
		t.Errorf("usage watermark set although the job was stopped: %+v", wms)
	}
	n, err := e.store.CountUsageSamples(ctx, store.Window{Cluster: "e2e", From: e.from, To: e2eEnd})
	if err != nil || n != 0 {
		t.Errorf("samples written after stop: %d, %v", n, err)
	}
}
