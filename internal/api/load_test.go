package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/store"
	"github.com/tally-finops/tally/internal/store/storetest"
)

// loadCostRows writes the cost rows of BenchmarkCostReport30Days' cluster (10,000 pods:
// 3,334 three-replica workloads in 40 namespaces, one container each, on 300 nodes, each
// node with an idle row every hour) for the hours [start, end), one insert per UTC day
// touched, as the allocation job writes them. It returns the number of rows.
func loadCostRows(tb testing.TB, s *store.Store, start, end time.Time) int {
	tb.Helper()
	const pods, nodes = 10_000, 300
	infos := make([]model.Allocation, 0, pods+nodes)
	for p := range pods {
		w := p / 3
		ns := fmt.Sprintf("team-%02d", w%40)
		name := fmt.Sprintf("service-%04d", w)
		infos = append(infos, model.Allocation{Cluster: "prod", Node: fmt.Sprintf("ip-10-0-%d-%d", p%nodes/250, p%nodes%250),
			Namespace: ns, Workload: model.WorkloadRef{Kind: "Deployment", Name: name}, App: name,
			Pod: fmt.Sprintf("%s-7d9f8c6b5-%05d", name, p), Container: "app",
			Labels:   map[string]string{"app.kubernetes.io/name": name, "team": ns},
			RunHours: 1, CPUCoreHours: 0.5, CPURequestCoreHours: 0.5, CPUUsageCoreHours: float64(p%10) / 20,
			RAMByteHours: 1 << 30, RAMRequestByteHours: 1 << 30, RAMUsageByteHours: float64(p%8) * (1 << 27),
			CPUCost: 0.5 * 0.0316, RAMCost: 0.0042})
	}
	for n := range nodes {
		infos = append(infos, model.Allocation{Cluster: "prod", Node: fmt.Sprintf("ip-10-0-%d-%d", n/250, n%250), Idle: true,
			RunHours: 1, CPUCoreHours: 2, RAMByteHours: 4 << 30, CPUCost: 2 * 0.0316, RAMCost: 4 * 0.0042})
	}
	var rows []model.Allocation
	total := 0
	for day := start; day.Before(end); {
		next := day.Truncate(24 * time.Hour).Add(24 * time.Hour)
		if next.After(end) {
			next = end
		}
		rows = rows[:0]
		for h := day; h.Before(next); h = h.Add(time.Hour) {
			for _, a := range infos {
				a.Hour = h
				rows = append(rows, a)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err := s.InsertAllocations(ctx, rows)
		cancel()
		if err != nil {
			tb.Fatal(err)
		}
		total += len(rows)
		day = next
	}
	return total
}

// latencies summarises request latencies.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(q*float64(len(s))+0.999999) - 1 // nearest rank
	return s[max(0, min(i, len(s)-1))]
}

func (l latencies) String() string {
	return fmt.Sprintf("p50 %v, p90 %v, p99 %v, max %v", l.quantile(0.5).Round(time.Millisecond),
		l.quantile(0.9).Round(time.Millisecond), l.quantile(0.99).Round(time.Millisecond), l.quantile(1).Round(time.Millisecond))
}

// TestLoad7DayCostsP99 is the "must show": the API serves 200 concurrent requests
// for a 7-day namespace cost report with a p99 latency under 500 ms, on the stack's
// ClickHouse, over a real HTTP server on 127.0.0.1. The data are 7 days of hourly cost rows
// of BenchmarkCostReport30Days' cluster (10,000 pods, 40 namespaces, 300 nodes: 1.73 M
// rows); the window [2026-03-02T06:00Z, 2026-03-09T06:00Z) is "7d" at the test's clock, so
// 6 whole days come from the daily rollup and 24 hours from the hourly rows.
//
// It measures, with the API's defaults (4 query slots, a 60 s cache):
//
//   - a cold burst: 200 clients send the request at once to an empty cache;
//   - sustained load: 200 clients send it back to back for 15 s;
//
// and, for the record only: single requests straight to the store; the burst and 5 s of
// sustained load with the cache off (only requests in flight share a computation); 8
// distinct reports at once, which share nothing and queue for the query slots. The test fails when the
// p99 of the burst or of the sustained load is 500 ms or more. The load phases are bounded
// to 60 s. Skipped unless TALLY_LOAD_TEST=1:
//
//	eval "$(hack/stack/env.sh)" && TALLY_LOAD_TEST=1 go test ./internal/api/ -run TestLoad7DayCostsP99 -count=1 -v -timeout 15m
func TestLoad7DayCostsP99(t *testing.T) {
	if os.Getenv("TALLY_LOAD_TEST") != "1" {
		t.Skip(`load test skipped: run it with eval "$(hack/stack/env.sh)" && TALLY_LOAD_TEST=1 go test ./internal/api/ -run TestLoad7DayCostsP99 -count=1 -v -timeout 15m`)
	}
	const (
		clients   = 200
		sustained = 15 * time.Second
		budget    = 60 * time.Second
		p99Limit  = 500 * time.Millisecond
		target    = "/api/v1/costs?window=7d&by=namespace"
	)
	s, _ := storetest.Open(t, "tally_api_load", nil)
	clock := time.Date(2026, 3, 9, 6, 30, 0, 0, time.UTC)
	from, to := clock.Truncate(time.Hour).Add(-7*24*time.Hour), clock.Truncate(time.Hour)
	loadStart := time.Now()
	n := loadCostRows(t, s, from, to)
	t.Logf("loaded %d cost rows (7 days × 10,300) in %v", n, time.Since(loadStart).Round(100*time.Millisecond))

	// What one report costs without the API: the store's query, alone.
	var direct latencies
	for range 5 {
		start := time.Now()
		rows, err := s.CostRows(context.Background(), "prod", from, to)
		if err != nil {
			t.Fatal(err)
		}
		direct = append(direct, time.Since(start))
		if len(rows) != 10_300 {
			t.Fatalf("%d cost rows, want 10,300 (one per pod's group and idle node)", len(rows))
		}
	}
	t.Logf("Store.CostRows alone, 5 sequential calls: %v", direct)

	serve := func(t *testing.T, opts Options) (base string, reg *prometheus.Registry) {
		t.Helper()
		opts.DefaultCluster, opts.Now = "prod", func() time.Time { return clock }
		reg = prometheus.NewRegistry()
		h, err := New(opts, Deps{Store: s}, nil, reg)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 45 * time.Second, IdleTimeout: time.Minute}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		return "http://" + ln.Addr().String(), reg
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	want := ""
	request := func(url string) (time.Duration, error) {
		start := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		took := time.Since(start)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		if want != "" && string(body) != want {
			return 0, errors.New("a body differs from the first one")
		}
		return took, nil
	}
	// burst sends one request from each client at once; run sends them back to back until
	// the deadline. Both return every latency and the first error.
	burst := func(url string) (latencies, error) {
		var (
			mu    sync.Mutex
			out   latencies
			errs  []error
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				took, err := request(url)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				out = append(out, took)
			}()
		}
		close(start)
		wg.Wait()
		return out, errors.Join(errs...)
	}
	run := func(url string, d time.Duration) (latencies, time.Duration, error) {
		var (
			mu   sync.Mutex
			out  latencies
			errs []error
			wg   sync.WaitGroup
		)
		start := time.Now()
		deadline := start.Add(d)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					took, err := request(url)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					out = append(out, took)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return out, time.Since(start), errors.Join(errs...)
	}
	phasesStart := time.Now()

	// Warm the connections (not the cache): one request per client to /healthz.
	base, reg := serve(t, Options{CacheTTL: time.Minute})
	if _, err := burst(base + "/healthz"); err != nil {
		t.Fatal(err)
	}
	body, err := client.Get(base + target + "&format=csv") // another key: the cache of target stays empty
	if err != nil {
		t.Fatal(err)
	}
	_ = body.Body.Close()

	cold, err := burst(base + target)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold burst, %d concurrent requests, empty cache: %v", len(cold), cold)
	resp, err := client.Get(base + target)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	want = string(b)

	hot, took, err := run(base+target, sustained)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sustained, %d clients back to back for %v: %d requests, %.0f requests/s, %v",
		clients, took.Round(time.Millisecond), len(hot), float64(len(hot))/took.Seconds(), hot)
	misses := cacheCount(t, reg, cacheMiss)
	t.Logf("ClickHouse report computations for all %d requests: %.0f (+1 for the csv warm-up)", len(cold)+len(hot)+1, misses-1)

	// For the record: the cache off, only requests in flight share a computation. Bodies of
	// different computations may differ in the last bits of their sums (ClickHouse adds
	// floats in parallel, in no fixed order), so they are not compared.
	want = ""
	base0, _ := serve(t, Options{})
	if _, err := burst(base0 + "/healthz"); err != nil {
		t.Fatal(err)
	}
	uncached, err := burst(base0 + target)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold burst without the cache (requests in flight share one computation): %v", uncached)
	uncachedRun, took0, err := run(base0+target, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sustained without the cache, %d clients for %v: %d requests, %.0f requests/s, %v",
		clients, took0.Round(time.Millisecond), len(uncachedRun), float64(len(uncachedRun))/took0.Seconds(), uncachedRun)

	// For the record: distinct reports at once do not share; they queue for the 4 query slots.
	var (
		distinct latencies
		mu       sync.Mutex
		wg       sync.WaitGroup
	)
	for _, by := range []string{"namespace", "app", "workload", "node", "cluster", "label:team", "namespace,app", "node,namespace"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			took, err := request(base0 + "/api/v1/costs?window=7d&by=" + by)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			distinct = append(distinct, took)
		}()
	}
	wg.Wait()
	t.Logf("8 distinct 7-day reports at once (by namespace, app, workload, ...; 4 query slots): %v", distinct)

	if d := time.Since(phasesStart); d > budget {
		t.Errorf("the load phases took %v, over their %v budget", d.Round(time.Second), budget)
	}
	if p := cold.quantile(0.99); p >= p99Limit {
		t.Errorf("cold burst p99 %v ≥ %v", p, p99Limit)
	}
	if p := hot.quantile(0.99); p >= p99Limit {
		t.Errorf("sustained p99 %v ≥ %v", p, p99Limit)
	}
}

// cacheCount is tally_api_report_cache_total{result=result} in reg.
func cacheCount(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "tally_api_report_cache_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
