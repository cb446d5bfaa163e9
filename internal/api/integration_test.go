package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/report"
	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/stacktest"
	"github.com/tally-finops/tally/internal/store"
	"github.com/tally-finops/tally/internal/store/storetest"
)

// costRows are the hourly cost rows of a small cluster from start for hours hours: three
// namespaces (one of them shared), two teams, two nodes with their idle rows. Every amount
// is a sum of powers of two, so ClickHouse's sums are exact in any order (its parallel sums
// of other floats may differ in the last bit from one query to the next).
func costRows(cluster string, start time.Time, hours int) []model.Allocation {
	type pod struct{ ns, team, app, node string }
	pods := []pod{{"shop", "retail", "web", "n1"}, {"shop", "retail", "web", "n2"}, {"payments", "finance", "api", "n1"},
		{"kube-system", "", "coredns", "n2"}}
	var rows []model.Allocation
	for h := range hours {
		hour := start.Add(time.Duration(h) * time.Hour)
		for i, p := range pods {
			labels := map[string]string{"app.kubernetes.io/name": p.app}
			if p.team != "" {
				labels["team"] = p.team
			}
			f := float64(1 + (h+i)%4)
			rows = append(rows, model.Allocation{Cluster: cluster, Hour: hour, Node: p.node, Namespace: p.ns,
				Workload: model.WorkloadRef{Kind: "Deployment", Name: p.app}, App: p.app, Pod: fmt.Sprintf("%s-%d", p.app, i),
				Container: "app", Labels: labels, RunHours: 1, CPUCoreHours: f / 4, CPURequestCoreHours: 0.25, CPUUsageCoreHours: f / 8,
				RAMByteHours: f * (1 << 28), RAMRequestByteHours: 1 << 28, RAMUsageByteHours: f * (1 << 27),
				CPUCost: f / 4 / 32, RAMCost: f / 4 / 256})
		}
		for _, n := range []string{"n1", "n2"} {
			rows = append(rows, model.Allocation{Cluster: cluster, Hour: hour, Node: n, Idle: true, RunHours: 1,
				CPUCoreHours: 1, RAMByteHours: 1 << 31, CPUCost: 1.0 / 32, RAMCost: 2.0 / 256})
		}
	}
	return rows
}

func openStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	return storetest.Open(t, "tally_api_test", nil)
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	return do(h, "GET", target)
}

// /api/v1/costs answers with the bytes `reporter costs` prints for the same rows: the
// store's cost rows, allocation.Aggregate and report.Costs.Render, for every format and a
// spread of options.
func TestCostsMatchTheReport(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	start := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	if err := s.InsertAllocations(ctx, costRows("prod", start, 7*24)); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertAllocations(ctx, costRows("staging", start, 24)); err != nil {
		t.Fatal(err)
	}
	// kube-system's pods have no team label: a label:team takes its namespace's.
	if err := s.InsertNamespaces(ctx, []model.Namespace{{Cluster: "prod", ObservedAt: start.Add(20 * time.Hour), Name: "kube-system",
		Labels: map[string]string{"team": "platform"}}}); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 3, 16, 6, 30, 0, 0, time.UTC)
	h, err := New(Options{DefaultCluster: "prod", CacheTTL: time.Minute, Now: func() time.Time { return clock }},
		Deps{Store: s}, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query   string // of the API
		cluster string
		window  report.Window
		opts    allocation.Options
		format  string
	}{
		{"window=7d", "prod", report.Window{From: clock.Truncate(time.Hour).Add(-7 * 24 * time.Hour), To: clock.Truncate(time.Hour)},
			allocation.Options{By: []string{"namespace"}}, "json"},
		{"window=2026-03-09T18:00:00Z,2026-03-12T06:00:00Z&by=namespace,label:team&idle=share&format=csv", "prod",
			report.Window{From: start.Add(18 * time.Hour), To: start.Add(3*24*time.Hour + 6*time.Hour)},
			allocation.Options{By: []string{"namespace", "label:team"}, Idle: allocation.IdleShare}, "csv"},
		{"window=lastweek&by=app&idle=hide&share-namespaces=kube-system&share=even&share-monthly=730", "prod",
			report.Window{From: start, To: start.Add(7 * 24 * time.Hour)},
			allocation.Options{By: []string{"app"}, Idle: allocation.IdleHide, ShareNamespaces: []string{"kube-system"},
				Share: allocation.ShareEven, ShareMonthly: 730}, "json"},
		{"cluster=staging&window=2026-03-09T00:00:00Z,2026-03-10T00:00:00Z&by=node,workload", "staging",
			report.Window{From: start, To: start.Add(24 * time.Hour)}, allocation.Options{By: []string{"node", "workload"}}, "json"},
		{"cluster=nowhere&window=7d", "nowhere",
			report.Window{From: clock.Truncate(time.Hour).Add(-7 * 24 * time.Hour), To: clock.Truncate(time.Hour)},
			allocation.Options{By: []string{"namespace"}}, "json"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			rows, err := s.CostRows(ctx, tc.cluster, tc.window.From, tc.window.To)
			if err != nil {
				t.Fatal(err)
			}
			tc.opts.WindowHours = tc.window.Hours()
			if allocation.NeedsNamespaceLabels(tc.opts.By) {
				w := store.Window{Cluster: tc.cluster, From: tc.window.From, To: tc.window.To}
				if tc.opts.Namespaces, err = s.NamespaceLabels(ctx, w); err != nil {
					t.Fatal(err)
				}
			}
			totals, err := allocation.Aggregate(rows, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := (report.Costs{Keys: tc.opts.By}).Render(&want, tc.format, totals); err != nil {
				t.Fatal(err)
			}
			rec := get(t, h, "/api/v1/costs?"+tc.query)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			if rec.Body.String() != want.String() {
				t.Errorf("body:\n%s\nwant the report's:\n%s", rec.Body.String(), want.String())
			}
			if allocation.NeedsNamespaceLabels(tc.opts.By) && !strings.Contains(rec.Body.String(), "kube-system/platform") {
				t.Errorf("by label:team, kube-system's pods do not take their namespace's team:\n%s", rec.Body.String())
			}
			if ct := rec.Header().Get("Content-Type"); ct != contentTypes[tc.format] {
				t.Errorf("Content-Type %q, want %q", ct, contentTypes[tc.format])
			}
			if rec.Header().Get("X-Tally-Cache") != cacheMiss {
				t.Errorf("first request: cache %q, want miss", rec.Header().Get("X-Tally-Cache"))
			}
			if again := get(t, h, "/api/v1/costs?"+tc.query); again.Body.String() != want.String() || again.Header().Get("X-Tally-Cache") != cacheHit {
				t.Errorf("second request: cache %q, body equal %v; want a hit with the same body",
					again.Header().Get("X-Tally-Cache"), again.Body.String() == want.String())
			}
		})
	}
	// The same window, said two ways, is one report.
	a := get(t, h, "/api/v1/costs?window=lastweek")
	b := get(t, h, "/api/v1/costs?window="+url.QueryEscape("2026-03-09T00:00:00Z,2026-03-16T00:00:00Z")+"&by=namespace&idle=separate")
	if a.Header().Get("X-Tally-Cache") != cacheMiss || b.Header().Get("X-Tally-Cache") != cacheHit || a.Body.String() != b.Body.String() {
		t.Errorf("lastweek and its RFC 3339 window: cache %s then %s, same body %v; want miss then hit, same body",
			a.Header().Get("X-Tally-Cache"), b.Header().Get("X-Tally-Cache"), a.Body.String() == b.Body.String())
	}
}

// Rightsizing and qos answer on an empty database as the CLI would: with no rows.
func TestSizingEndpointsOnEmptyDatabase(t *testing.T) {
	s, _ := openStore(t)
	h, err := New(Options{DefaultCluster: "prod", Now: func() time.Time { return now }}, Deps{Store: s}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string]string{
		"/api/v1/rightsizing":                             "[]\n",
		"/api/v1/rightsizing?format=csv":                  strings.Join(report.RightsizingCSVHeader, ",") + "\n",
		"/api/v1/rightsizing?backtest=true&format=csv":    strings.Join(report.BacktestCSVHeader, ",") + "\n",
		"/api/v1/qos?format=csv":                          strings.Join(report.QoSCSVHeader, ",") + "\n",
		"/api/v1/qos?at=2026-03-16T06:00:00Z&format=json": `"findings": []`,
	} {
		rec := get(t, h, target)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d %q, want 200 with %q", target, rec.Code, rec.Body.String(), want)
		}
	}
}

// A store failure is a 502 or 503 whose body names no password, user, host or database;
// /readyz turns 503.
func TestStoreFailuresHideTheDSN(t *testing.T) {
	_, dsn := openStore(t)
	user, password := stacktest.ClickHousePasswordUser(t)
	secretDSN := strings.Replace(dsn, "://default@", "://"+user+":"+password+"@", 1)
	u, err := url.Parse(secretDSN)
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{DSN: secretDSN}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	handler := func(o Options) http.Handler {
		o.DefaultCluster = "prod"
		h, err := New(o, Deps{Store: s}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	leaks := []string{password, user + ":", u.Host, db, "clickhouse://"}
	check := func(t *testing.T, rec *httptest.ResponseRecorder, status []int, msg string) {
		t.Helper()
		body := rec.Body.String()
		if !contains(status, rec.Code) || !strings.Contains(body, msg) {
			t.Errorf("status %d, body %q; want one of %v with %q", rec.Code, body, status, msg)
		}
		for _, leak := range leaks {
			if strings.Contains(body, leak) {
				t.Errorf("body %q leaks %q", body, leak)
			}
		}
	}

	if rec := get(t, handler(Options{}), "/readyz"); rec.Code != 200 {
		t.Fatalf("readyz on a working store: %d %s", rec.Code, rec.Body.String())
	}
	t.Run("deadline", func(t *testing.T) {
		rec := get(t, handler(Options{QueryTimeout: time.Nanosecond}), "/api/v1/costs?window=7d")
		check(t, rec, []int{503}, "ClickHouse did not answer within 1ns")
	})
	t.Run("database dropped", func(t *testing.T) {
		storetest.Exec(t, dsn, 30*time.Second, "DROP TABLE "+db+".cost_daily")
		for _, target := range []string{"/api/v1/costs?window=7d", "/api/v1/costs?window=24h&format=csv"} {
			check(t, get(t, handler(Options{}), target), []int{502}, "ClickHouse query failed (error id ")
		}
	})
	t.Run("connection closed", func(t *testing.T) {
		_ = s.Close()
		check(t, get(t, handler(Options{}), "/api/v1/rightsizing"), []int{502, 503}, "ClickHouse")
		check(t, get(t, handler(Options{}), "/readyz"), []int{503}, "clickhouse unavailable")
	})
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// The schedule writes the last complete week into its directory; the API lists and serves
// what it wrote, byte for byte; the next run finds the week written and skips it.
func TestWeeklyWritesWhatTheAPIServes(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	week := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC) // 2026-W11
	if err := s.InsertAllocations(ctx, costRows("prod", week.AddDate(0, 0, -7), 14*24)); err != nil {
		t.Fatal(err)
	}
	// The collector allocated every hour of the week.
	if err := s.SetWatermark(ctx, model.Watermark{Cluster: "prod", Job: model.JobAllocation, Time: week.AddDate(0, 0, 7)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clock := func() time.Time { return time.Date(2026, 3, 16, 0, 30, 0, 0, time.UTC) }
	w, err := NewWeekly(WeeklyOptions{Schedule: DefaultWeeklySchedule, Cluster: "prod", Dir: dir, Policy: rightsizing.DefaultPolicy(), Now: clock},
		s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if result, err := w.RunOnce(ctx); result != WeeklyWritten || err != nil {
		t.Fatalf("RunOnce = %s, %v; want written", result, err)
	}
	h, err := New(Options{ReportsDir: dir, Now: clock}, Deps{Store: s}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := listReports(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(weeklyFiles) {
		t.Fatalf("listed %+v, want the %d weekly files", files, len(weeklyFiles))
	}
	for _, f := range files {
		if f.Week != "2026-W11" {
			t.Errorf("%s listed in week %s, want 2026-W11", f.Name, f.Week)
		}
		want, err := os.ReadFile(filepath.Join(dir, "2026-W11", f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if rec := get(t, h, f.URL); rec.Code != 200 || rec.Body.String() != string(want) {
			t.Errorf("GET %s: %d, %d bytes; want 200 and the file's %d", f.URL, rec.Code, rec.Body.Len(), len(want))
		}
	}
	if result, err := w.RunOnce(ctx); result != WeeklySkipped || err != nil {
		t.Errorf("second RunOnce = %s, %v; want skipped", result, err)
	}
	// A week without data: logged, nothing written, retried on the next run.
	w.opts.Cluster = "nowhere"
	if err := os.RemoveAll(filepath.Join(dir, "2026-W11")); err != nil {
		t.Fatal(err)
	}
	// Nothing allocated yet: wait for the collector.
	if result, err := w.RunOnce(ctx); result != WeeklyPending || err != nil {
		t.Errorf("RunOnce before any allocation = %s, %v; want pending", result, err)
	}
	// Allocated past the week's end, and still no cost row: no data.
	if err := s.SetWatermark(ctx, model.Watermark{Cluster: "nowhere", Job: model.JobAllocation, Time: week.AddDate(0, 0, 7)}); err != nil {
		t.Fatal(err)
	}
	if result, err := w.RunOnce(ctx); result != WeeklyNoData || err == nil {
		t.Errorf("RunOnce without data = %s, %v; want nodata and its error", result, err)
	}
}
