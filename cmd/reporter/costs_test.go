package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/store"
	"github.com/tally-finops/tally/internal/store/storetest"
)

func noEnv(string) (string, bool) { return "", false }

// Every flag is checked before anything connects: the DSN below would fail to connect, so
// an error about it means the flag was not checked first.
func TestCostsRejectsBadFlagsBeforeConnecting(t *testing.T) {
	base := []string{"costs", "--clickhouse-dsn", "clickhouse://u:secret@127.0.0.1:1/db", "--cluster", "prod", "--timeout", "3s"}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantErr  string
	}{
		{"help", []string{"costs", "--help"}, nil, 0, "[TALLY_WINDOW]"},
		{"no dsn", []string{"costs", "--cluster", "prod"}, nil, 2, "--clickhouse-dsn is required"},
		{"no cluster", []string{"costs", "--clickhouse-dsn", "clickhouse://h:9000/db"}, nil, 2, "--cluster is required"},
		{"bad window", append(base, "--window", "fortnight"), nil, 2, `--window: unknown window "fortnight"`},
		{"empty window", append(base, "--window", "2026-03-02T00:00:00Z,2026-03-01T00:00:00Z"), nil, 2, "is empty"},
		{"unknown key", append(base, "--by", "namespace,team"), nil, 2, `--by: unknown aggregation key "team"`},
		{"unknown idle mode", append(base, "--idle", "spread"), nil, 2, `unknown idle mode "spread"`},
		{"unknown share mode", append(base, "--share", "fair"), nil, 2, `unknown share mode "fair"`},
		{"negative overhead", append(base, "--share-monthly", "-5"), nil, 2, "monthly shared cost -5"},
		{"unknown format", append(base, "--format", "yaml"), nil, 2, `--format: unknown format "yaml"`},
		{"bad window from the environment", base, map[string]string{"TALLY_WINDOW": "someday"}, 2, `unknown window "someday"`},
		{"extra argument", append(base, "namespace"), nil, 2, `unexpected argument "namespace"`},
		{"unreachable clickhouse", base, nil, 1, "reporter costs: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if code != tc.wantCode || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("run(%q) = %d\nstderr: %s\nwant code %d and stderr with %q", tc.args, code, stderr.String(), tc.wantCode, tc.wantErr)
			}
			if tc.wantCode != 0 {
				if lines := strings.Count(stderr.String(), "\n"); lines != 1 || !strings.HasPrefix(stderr.String(), "reporter costs: ") {
					t.Errorf("stderr is %d lines, want one error line: %q", lines, stderr.String())
				}
				if stdout.Len() > 0 {
					t.Errorf("stdout on error: %q", stdout.String())
				}
			}
			if strings.Contains(stderr.String(), "secret") {
				t.Errorf("stderr leaks the password: %s", stderr.String())
			}
		})
	}
}

// The worked example of docs/cost-model.md, section 5, through reporter costs on the stack's
// ClickHouse: one node, three pods, one hour, written as the allocation job writes them.
// The hour alone is read from the hourly rows; its whole day from the daily rollup; both
// must print the document's figures.
func TestCostsWorkedExample(t *testing.T) {
	dsn := testDatabase(t)
	hour := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	const (
		gib = 1 << 30
		c   = 0.192 * 0.126444 / 0.194236 / 4  // per core-hour
		m   = 0.192 * 0.067792 / 0.194236 / 16 // per GiB-hour
	)
	pod := func(ns, kind, name, podName string, run, cpu, cpuReq, cpuUse, ram, ramReq, ramUse float64) model.Allocation {
		return model.Allocation{Cluster: "prod", Hour: hour, Node: "ip-10-0-1-23", Namespace: ns,
			Workload: model.WorkloadRef{Kind: kind, Name: name}, App: name, Pod: podName, Container: "app",
			Labels: map[string]string{"app": name}, RunHours: run,
			CPUCoreHours: cpu, CPURequestCoreHours: cpuReq, CPUUsageCoreHours: cpuUse,
			RAMByteHours: ram * gib, RAMRequestByteHours: ramReq * gib, RAMUsageByteHours: ramUse * gib,
			CPUCost: cpu * c, RAMCost: ram * m}
	}
	rows := []model.Allocation{
		pod("shop", "Deployment", "web", "web-7d9f-abcde", 1, 1, 1, 0.6, 4, 4, 3),
		pod("shop", "Deployment", "api", "api-5c8b-fghij", 1, 0.75, 0.5, 35.0/60, 2, 2, 1.5),
		pod("batch", "CronJob", "report", "report-29131200-xk2lp", 0.5, 0.2, 0, 0.2, 0.25, 0, 0.25),
		{Cluster: "prod", Hour: hour, Node: "ip-10-0-1-23", Idle: true, RunHours: 1,
			CPUCoreHours: 2.05, RAMByteHours: 9.75 * gib, CPUCost: 2.05 * c, RAMCost: 9.75 * m},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, store.Options{DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.InsertAllocations(ctx, rows); err != nil {
		t.Fatal(err)
	}

	for _, window := range []string{"2026-03-02T10:00:00Z,2026-03-02T11:00:00Z", "2026-03-02T00:00:00Z,2026-03-03T00:00:00Z"} {
		// Step 4: by namespace, idle separate; step 6: shop's efficiency and waste.
		got := costsJSON(t, dsn, window, "separate")
		want := map[string]float64{"__idle__": 0.10489175, "shop": 0.07981178, "batch": 0.00729648}
		checkTotals(t, window, got, want)
		shop := got[1]
		for name, pair := range map[string][2]float64{
			"cpuCost": {shop.CPUCost, 0.05468243}, "ramCost": {shop.RAMCost, 0.02512935},
			"cpuEfficiency": {shop.CPUEfficiency, 0.78888889}, "ramEfficiency": {shop.RAMEfficiency, 0.75},
			"totalEfficiency": {shop.TotalEfficiency, 0.77664442}, "wasteCost": {shop.WasteCost, 0.01878118},
		} {
			if math.Abs(pair[0]-pair[1]) > 5e-9 {
				t.Errorf("%s: shop %s = %.8f, want %.8f", window, name, pair[0], pair[1])
			}
		}
		// Step 5: idle shared per resource.
		checkTotals(t, window, costsJSON(t, dsn, window, "share"), map[string]float64{"shop": 0.17650021, "batch": 0.01549979})
	}

	// The table of step 4, as a terminal shows it.
	var stdout, stderr bytes.Buffer
	code := run([]string{"costs", "--clickhouse-dsn", dsn, "--cluster", "prod", "--window",
		"2026-03-02T10:00:00Z,2026-03-02T11:00:00Z", "--by", "namespace"}, &stdout, &stderr, noEnv)
	if code != 0 {
		t.Fatalf("reporter costs = %d: %s", code, stderr.String())
	}
	want := "" +
		"NAME           CPU   RAM  TOTAL  CPU EFF  RAM EFF  WASTE\n" +
		"__idle__      0.06  0.04   0.10       0%       0%   0.00\n" +
		"shop          0.05  0.03   0.08      79%      75%   0.02\n" +
		"batch         0.01  0.00   0.01       0%       0%   0.00\n" +
		"TOTAL         0.12  0.07   0.19      92%      79%   0.02\n"
	if stdout.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", stdout.String(), want)
	}
}

// reporter costs --by label:team on the stack's ClickHouse: the pod's team label wins, a pod
// without one takes its namespace's as the namespace is at the window's end, a pod in an
// unlabelled namespace is unallocated.
func TestCostsByTeamFallsBackToNamespaceLabels(t *testing.T) {
	dsn := testDatabase(t)
	hour := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, store.Options{DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pod := func(ns, name string, labels map[string]string, cost float64) model.Allocation {
		return model.Allocation{Cluster: "prod", Hour: hour, Node: "n1", Namespace: ns,
			Workload: model.WorkloadRef{Kind: "Deployment", Name: name}, Pod: name + "-0", Container: "app",
			Labels: labels, RunHours: 1, CPUCoreHours: 1, CPUCost: cost}
	}
	if err := s.InsertAllocations(ctx, []model.Allocation{
		pod("shop", "web", map[string]string{"team": "payments"}, 0.5),
		pod("shop", "api", map[string]string{"app": "api"}, 0.25),
		pod("batch", "report", nil, 0.125),
		pod("sandbox", "debug", nil, 0.0625),
		{Cluster: "prod", Hour: hour, Node: "n1", Idle: true, RunHours: 1, CPUCoreHours: 1, CPUCost: 0.03125},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertNamespaces(ctx, []model.Namespace{
		{Cluster: "prod", ObservedAt: hour, Name: "shop", Labels: map[string]string{"team": "retail"}},
		{Cluster: "prod", ObservedAt: hour, Name: "batch", Labels: map[string]string{"team": "data"}},
		{Cluster: "prod", ObservedAt: hour.Add(30 * time.Minute), Name: "batch", Labels: map[string]string{"team": "analytics"}}, // relabelled
		{Cluster: "prod", ObservedAt: hour, Name: "sandbox"},
		{Cluster: "staging", ObservedAt: hour, Name: "sandbox", Labels: map[string]string{"team": "other-cluster"}},
	}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"costs", "--clickhouse-dsn", dsn, "--cluster", "prod", "--window",
		"2026-03-02T10:00:00Z,2026-03-02T11:00:00Z", "--by", "label:team", "--format", "json"}, &stdout, &stderr, noEnv)
	if code != 0 {
		t.Fatalf("reporter costs = %d: %s", code, stderr.String())
	}
	var totals []allocation.Total
	if err := json.Unmarshal(stdout.Bytes(), &totals); err != nil {
		t.Fatalf("%v in %s", err, stdout.String())
	}
	checkTotals(t, "by label:team", totals, map[string]float64{"payments": 0.5, "retail": 0.25, "analytics": 0.125,
		allocation.UnallocatedName: 0.0625, allocation.IdleName: 0.03125})
}

func costsJSON(t *testing.T, dsn, window, idle string) []allocation.Total {
	t.Helper()
	return costsWith(t, dsn, window, "--by", "namespace", "--idle", idle)
}

// costsWith runs reporter costs for cluster prod over window with more flags, in JSON.
func costsWith(t *testing.T, dsn, window string, flags ...string) []allocation.Total {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := append([]string{"costs", "--clickhouse-dsn", dsn, "--cluster", "prod", "--window", window, "--format", "json"}, flags...)
	if code := run(args, &stdout, &stderr, noEnv); code != 0 {
		t.Fatalf("reporter costs --window %s %v = %d: %s", window, flags, code, stderr.String())
	}
	var totals []allocation.Total
	if err := json.Unmarshal(stdout.Bytes(), &totals); err != nil {
		t.Fatalf("%v in %s", err, stdout.String())
	}
	return totals
}

// checkTotals checks the totals' names, in order of cost, and their total cost to the 8
// decimals the document prints.
func checkTotals(t *testing.T, window string, got []allocation.Total, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d totals %+v, want %d", window, len(got), got, len(want))
	}
	for i, tot := range got {
		w, ok := want[tot.Name]
		if !ok || math.Abs(tot.TotalCost-w) > 5e-9 {
			t.Errorf("%s: total %d %s = %.8f, want %v (known %v)", window, i, tot.Name, tot.TotalCost, w, ok)
		}
		if i > 0 && got[i-1].TotalCost < tot.TotalCost {
			t.Errorf("%s: totals not sorted by cost: %s before %s", window, got[i-1].Name, tot.Name)
		}
	}
}

// testDatabase creates a fresh, migrated database on the stack's ClickHouse and returns its
// DSN; the database is dropped when the test ends.
func testDatabase(t *testing.T) string {
	t.Helper()
	_, dsn := storetest.Open(t, "tally_reporter_test", nil)
	return dsn
}
