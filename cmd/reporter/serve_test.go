package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/api"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/store"
	"github.com/tally-finops/tally/internal/store/storetest"
)

func TestServeRejectsBadFlags(t *testing.T) {
	dsn := []string{"--clickhouse-dsn", "clickhouse://u:secret@127.0.0.1:1/db"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"help", []string{"--help"}, nil, 0, "[TALLY_TOKEN]"},
		{"no dsn", nil, nil, 2, "--clickhouse-dsn is required"},
		{"schedule without cluster", dsn, nil, 2, "--weekly-schedule needs --cluster"},
		{"bad schedule", append(dsn, "--cluster", "prod", "--weekly-schedule", "mondays"), nil, 2, `--weekly-schedule: "mondays" is not a cron expression`},
		{"bad schedule from the environment", append(dsn, "--cluster", "prod"), map[string]string{"TALLY_WEEKLY_SCHEDULE": "* *"}, 2, "--weekly-schedule"},
		{"zero query timeout", append(dsn, "--weekly-schedule", "", "--query-timeout", "0s"), nil, 2, "--query-timeout 0s"},
		{"negative cache ttl", append(dsn, "--weekly-schedule", "", "--cache-ttl", "-1s"), nil, 2, "--cache-ttl -1s"},
		{"no query slots", append(dsn, "--weekly-schedule", "", "--max-queries", "0"), nil, 2, "--max-queries 0"},
		{"bad log level", append(dsn, "--weekly-schedule", "", "--log-level", "loud"), nil, 2, `invalid log level "loud"`},
		{"empty listen", append(dsn, "--weekly-schedule", "", "--listen", ""), nil, 2, "--listen is required"},
		{"extra argument", append(dsn, "now"), nil, 2, `unexpected argument "now"`},
		{"unreachable clickhouse", append(dsn, "--weekly-schedule", ""), nil, 1, "reporter serve stopped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"serve"}, tc.args...), &stdout, &stderr, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.want)
			}
			if strings.Contains(stderr.String(), "secret") {
				t.Errorf("stderr leaks the password: %s", stderr.String())
			}
		})
	}
}

// A bad query parameter is reported in the words `reporter costs`, `rightsize` and `qos`
// use for the same flag: the API's "NAME: message" is the CLI's "--NAME: message" or its
// message alone where the CLI names no flag.
func TestParameterErrorsAreTheFlagErrors(t *testing.T) {
	h, err := api.New(api.Options{DefaultCluster: "prod", Now: func() time.Time { return cliNow }}, api.Deps{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cmd         string
		flag, value string
	}{
		{"costs", "window", "fortnight"},
		{"costs", "window", "2026-03-02T00:00:00Z,2026-03-01T00:00:00Z"},
		{"costs", "by", "namespace,team"},
		{"costs", "by", "namespace,namespace"},
		{"costs", "idle", "spread"},
		{"costs", "share", "fair"},
		{"costs", "share-monthly", "-5"},
		{"costs", "share-namespaces", "a,,b"},
		{"rightsize", "window", "fortnight"},
		{"rightsize", "cpu-percentile", "100"},
		{"rightsize", "memory-buffer", "-5"},
		{"rightsize", "oom-factor", "0.5"},
		{"rightsize", "throttle-ratio", "1.5"},
		{"rightsize", "hours-per-month", "0"},
		{"rightsize", "memory-floor-mib", "-1"},
		{"qos", "cpu-floor", "-0.5"},
		{"qos", "oom-headroom-mib", "-1"},
		{"qos", "window", "0h"},
	}
	endpoint := map[string]string{"costs": "/api/v1/costs", "rightsize": "/api/v1/rightsizing", "qos": "/api/v1/qos"}
	for _, tc := range tests {
		t.Run(tc.cmd+" "+tc.flag+"="+tc.value, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := []string{"--clickhouse-dsn", "clickhouse://127.0.0.1:1/db", "--cluster", "prod", "--" + tc.flag, tc.value}
			var code int
			switch tc.cmd {
			case "costs":
				code = costs(args, &stdout, &stderr, noEnv, cliNow)
			case "rightsize":
				code = rightsize(args, &stdout, &stderr, noEnv, cliNow)
			case "qos":
				code = qosCommand(args, &stdout, &stderr, noEnv, cliNow)
			}
			if code != 2 {
				t.Fatalf("reporter %s --%s %s: exit %d (%s), want 2", tc.cmd, tc.flag, tc.value, code, stderr.String())
			}
			cliMsg := strings.TrimSpace(strings.TrimPrefix(stderr.String(), "reporter "+tc.cmd+": "))
			cliMsg = strings.TrimPrefix(cliMsg, "--"+tc.flag+": ")

			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", endpoint[tc.cmd]+"?"+url.Values{tc.flag: {tc.value}}.Encode(), nil))
			var body struct{ Error, Parameter string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 400 {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body.String())
			}
			if body.Parameter != tc.flag || body.Error != tc.flag+": "+cliMsg {
				t.Errorf("API: %q (parameter %q)\nCLI: %q", body.Error, body.Parameter, stderr.String())
			}
		})
	}
}

var cliNow = time.Date(2026, 3, 16, 6, 30, 0, 0, time.UTC)

// loadCluster writes four days of a small cluster into s: cost rows, node prices, 1-minute
// usage samples of three workloads and hourly snapshots of their containers and nodes, up
// to 2026-03-16T00:00Z. Amounts and usage are multiples of powers of two, so the CLI's and
// the API's queries sum them to the same bits in whatever order ClickHouse adds them.
func loadCluster(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
	end := start.Add(4 * 24 * time.Hour)
	type pod struct {
		ns, name, node string
		wl             model.WorkloadRef
		cpu, cpuReq    float64
		mem, memReq    uint64
		memLimit       uint64
	}
	const mib = 1 << 20
	pods := []pod{
		{"shop", "web-a", "n1", model.WorkloadRef{Kind: "Deployment", Name: "web"}, 0.25, 1, 300 * mib, 1024 * mib, 0},
		{"shop", "web-b", "n2", model.WorkloadRef{Kind: "Deployment", Name: "web"}, 0.375, 1, 320 * mib, 1024 * mib, 0},
		{"payments", "api-0", "n1", model.WorkloadRef{Kind: "StatefulSet", Name: "api"}, 0.75, 0.5, 900 * mib, 512 * mib, 1024 * mib},
		{"batch", "etl-0", "n2", model.WorkloadRef{Kind: "Deployment", Name: "etl"}, 1.5, 2, 3000 * mib, 4096 * mib, 4096 * mib},
	}
	var samples []model.UsageSample
	var containers []model.Container
	var nodes []model.Node
	var prices []model.NodePrice
	var allocations []model.Allocation
	for at := start; at.Before(end); at = at.Add(time.Minute) {
		m := at.Sub(start).Minutes()
		for i, p := range pods {
			wave := float64(int(m+float64(i)*37)%64) / 64 // 0..1 over 64 minutes
			samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: at, Namespace: p.ns, Workload: p.wl, Pod: p.name,
				Container: "app", CPUUsageCores: p.cpu * (0.5 + wave), MemoryWorkingSetBytes: p.mem + uint64(wave*64*mib),
				CPUThrottledPeriods: float64(i) * wave, CPUPeriods: 600})
		}
		if at.Minute() != 30 {
			continue
		}
		for _, p := range pods {
			qos := "Burstable"
			if p.memLimit == p.memReq && p.cpuReq > 0 {
				qos = "Guaranteed"
			}
			lim := 0.0
			if p.memLimit > 0 {
				lim = p.cpuReq
			}
			containers = append(containers, model.Container{Cluster: "prod", ObservedAt: at, Namespace: p.ns, Pod: p.name, PodUID: p.name,
				Container: "app", Node: p.node, Phase: "Running", QoSClass: qos, Workload: p.wl, CPURequestCores: p.cpuReq,
				CPULimitCores: lim, MemoryRequestBytes: p.memReq, MemoryLimitBytes: p.memLimit, StartedAt: start})
			allocations = append(allocations, model.Allocation{Cluster: "prod", Hour: at.Truncate(time.Hour), Node: p.node,
				Namespace: p.ns, Workload: p.wl, App: p.wl.Name, Pod: p.name, Container: "app", RunHours: 1,
				CPUCoreHours: p.cpuReq, CPURequestCoreHours: p.cpuReq, CPUUsageCoreHours: p.cpu, RAMByteHours: float64(p.memReq),
				RAMRequestByteHours: float64(p.memReq), RAMUsageByteHours: float64(p.mem),
				CPUCost: p.cpuReq / 32, RAMCost: float64(p.memReq) / (1 << 30) / 256})
		}
		for _, n := range []string{"n1", "n2"} {
			nodes = append(nodes, model.Node{Cluster: "prod", ObservedAt: at, Name: n, InstanceType: "m5.xlarge",
				CPUCapacityCores: 4, CPUAllocatableCores: 3.9, MemoryCapacityBytes: 16 << 30, MemoryAllocatableBytes: 4 << 30})
			prices = append(prices, model.NodePrice{Cluster: "prod", Hour: at.Truncate(time.Hour), Node: n, InstanceType: "m5.xlarge",
				Currency: "USD", HourlyCost: 0.1875, CPUCoreHourCost: 1.0 / 32, RAMGiBHourCost: 1.0 / 256, Source: "defaults"})
		}
	}
	for _, err := range []error{s.InsertUsageSamples(ctx, samples), s.InsertContainers(ctx, containers), s.InsertNodes(ctx, nodes),
		s.InsertNodePrices(ctx, prices), s.InsertAllocations(ctx, allocations)} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The API answers with the bytes the CLI prints, for the same data and parameters.
func TestServeAnswersAsTheCLI(t *testing.T) {
	s, dsn := storetest.Open(t, "tally_serve_test", nil)
	loadCluster(t, s)
	h, err := api.New(api.Options{DefaultCluster: "prod", Now: time.Now}, api.Deps{Store: s}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const (
		twoDays  = "2026-03-14T00:00:00Z,2026-03-16T00:00:00Z"
		fourDays = "2026-03-12T00:00:00Z,2026-03-16T00:00:00Z"
		at       = "2026-03-16T00:00:00Z"
	)
	tests := []struct {
		cli   []string
		query string
	}{
		{[]string{"costs", "--window", fourDays, "--format", "json"}, "/api/v1/costs?window=" + fourDays},
		{[]string{"costs", "--window", twoDays, "--by", "namespace,workload", "--idle", "share", "--format", "csv"},
			"/api/v1/costs?window=" + twoDays + "&by=namespace,workload&idle=share&format=csv"},
		{[]string{"rightsize", "--window", twoDays, "--format", "json"}, "/api/v1/rightsizing?window=" + twoDays},
		{[]string{"rightsize", "--window", twoDays, "--format", "csv", "--cpu-percentile", "99", "--memory-buffer", "30"},
			"/api/v1/rightsizing?window=" + twoDays + "&format=csv&cpu-percentile=99&memory-buffer=30"},
		{[]string{"rightsize", "--window", twoDays, "--format", "yaml", "--guaranteed-cpu", "--namespace", "shop,payments"},
			"/api/v1/rightsizing?window=" + twoDays + "&format=yaml&guaranteed-cpu=true&namespace=shop,payments"},
		{[]string{"rightsize", "--window", twoDays, "--backtest", "--format", "json"},
			"/api/v1/rightsizing?window=" + twoDays + "&backtest=true"},
		{[]string{"rightsize", "--window", twoDays, "--backtest", "--format", "csv"},
			"/api/v1/rightsizing?window=" + twoDays + "&backtest=true&format=csv"},
		{[]string{"qos", "--window", twoDays, "--at", at, "--format", "json"}, "/api/v1/qos?window=" + twoDays + "&at=" + at},
		{[]string{"qos", "--window", twoDays, "--at", at, "--format", "csv", "--guaranteed-cpu"},
			"/api/v1/qos?window=" + twoDays + "&at=" + at + "&format=csv&guaranteed-cpu=true"},
		{[]string{"qos", "--window", twoDays, "--at", at, "--format", "yaml", "--kill-order", "1"},
			"/api/v1/qos?window=" + twoDays + "&at=" + at + "&format=yaml&kill-order=1"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.cli, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{tc.cli[0], "--clickhouse-dsn", dsn, "--cluster", "prod"}, tc.cli[1:]...)
			if code := run(args, &stdout, &stderr, noEnv); code != 0 {
				t.Fatalf("reporter %s: exit %d: %s", strings.Join(tc.cli, " "), code, stderr.String())
			}
			if strings.Count(stdout.String(), "\n") < 3 || strings.HasPrefix(stdout.String(), "[]") {
				t.Errorf("the CLI printed only %q: the data should give a report with rows", stdout.String())
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tc.query, nil))
			if rec.Code != 200 {
				t.Fatalf("GET %s: %d %s", tc.query, rec.Code, rec.Body.String())
			}
			if rec.Body.String() != stdout.String() {
				t.Errorf("GET %s:\n%s\nreporter %s:\n%s", tc.query, rec.Body.String(), strings.Join(tc.cli, " "), stdout.String())
			}
		})
	}
}

// top=N keeps the first N recommendations of the full answer.
func TestServeTop(t *testing.T) {
	s, _ := storetest.Open(t, "tally_serve_test", nil)
	loadCluster(t, s)
	h, err := api.New(api.Options{DefaultCluster: "prod"}, api.Deps{Store: s}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs := func(query string) []json.RawMessage {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/rightsizing?window=2026-03-14T00:00:00Z,2026-03-16T00:00:00Z"+query, nil))
		var out []json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
			t.Fatalf("%s: %d %s", query, rec.Code, rec.Body.String())
		}
		return out
	}
	all, top := recs(""), recs("&top=2")
	if len(all) < 3 || len(top) != 2 || string(top[0]) != string(all[0]) || string(top[1]) != string(all[1]) {
		t.Errorf("top=2 gave %d of %d recommendations, or not the first two", len(top), len(all))
	}
	if got := recs("&top=0"); len(got) != len(all) {
		t.Errorf("top=0 gave %d of %d", len(got), len(all))
	}
}

// reporter serve end to end: flags and environment, a real listener, the token, and a
// graceful stop on SIGTERM.
func TestServeRunsUntilSIGTERM(t *testing.T) {
	_, dsn := storetest.Open(t, "tally_serve_test", nil)
	addr := freeAddr(t)
	env := map[string]string{"TALLY_CLICKHOUSE_DSN": dsn, "TALLY_TOKEN": "t0ken", "TALLY_CLUSTER": "prod"}
	base := "http://" + addr
	done, stderr := startServe(t, http.DefaultClient, base, []string{"--listen", addr, "--reports-dir", t.TempDir(), "--log-level", "debug"}, env)
	status := func(path, token string) int {
		req, _ := http.NewRequest("GET", base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/api/v1/costs", "", 401}, {"/api/v1/costs", "t0ken", 200}, {"/api/v1/reports", "t0ken", 200},
		{"/healthz", "", 200}, {"/metrics", "", 200},
	} {
		if got := status(c.path, c.token); got != c.want {
			t.Errorf("GET %s (token %q): %d, want %d", c.path, c.token, got, c.want)
		}
	}
	stopServe(t, done, stderr)
	for _, want := range []string{"reporter serving", "weekly reports scheduled", "shutting down"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "t0ken") {
		t.Errorf("the log names the token:\n%s", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
