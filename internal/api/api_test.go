package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// now is the clock of the unit tests: windows such as "7d" end at 2026-03-16T06:00:00Z.
var now = time.Date(2026, 3, 16, 6, 30, 0, 0, time.UTC)

// newTestHandler is the API without a store: every request that passes validation ends at
// the store, as a 503 "no ClickHouse store configured".
func newTestHandler(t *testing.T, opts Options) (http.Handler, *prometheus.Registry) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return now }
	}
	reg := prometheus.NewRegistry()
	h, err := New(opts, Deps{Gatherer: reg}, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	return h, reg
}

// errorBody is the JSON body of a failed request.
type errorBody struct {
	Error     string `json:"error"`
	Parameter string `json:"parameter"`
}

func do(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) errorBody {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not a JSON error: %v", rec.Body.String(), err)
	}
	return e
}

func TestRouting(t *testing.T) {
	h, _ := newTestHandler(t, Options{DefaultCluster: "prod", ReportsDir: t.TempDir()})
	tests := []struct {
		method, target string
		want           int
		body           string // in the body
	}{
		{"GET", "/healthz", 200, "ok\n"},
		{"GET", "/readyz", 503, "no store"},
		{"GET", "/metrics", 200, "tally_api_requests_total"},
		{"GET", "/api/v1/reports", 200, "[]"},
		{"GET", "/api/v1/costs", 503, "no ClickHouse store configured"},
		{"GET", "/api/v1/rightsizing", 503, "no ClickHouse store configured"},
		{"GET", "/api/v1/qos", 503, "no ClickHouse store configured"},
		{"GET", "/api/v1/nothing", 404, `"not found"`},
		{"GET", "/api/v2/costs", 404, `"not found"`},
		{"GET", "/api/v1/costs/", 404, `"not found"`},
		{"GET", "/", 404, `"not found"`},
		{"POST", "/api/v1/costs", 405, "method POST not allowed"},
		{"PUT", "/api/v1/rightsizing", 405, "not allowed"},
		{"DELETE", "/api/v1/reports/2026-W10/summary.csv", 405, "not allowed"},
		{"HEAD", "/api/v1/qos", 503, ""},
		{"HEAD", "/healthz", 200, ""},
		{"POST", "/healthz", 405, "not allowed"},
		{"PATCH", "/metrics", 405, "not allowed"},
		{"OPTIONS", "/api/v1/costs", 405, "method OPTIONS not allowed: use GET or HEAD"},
		{"POST", "/nowhere", 405, "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			rec := do(h, tc.method, tc.target)
			if rec.Code != tc.want || !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("status %d, body %q; want %d with %q", rec.Code, rec.Body.String(), tc.want, tc.body)
			}
			if tc.want == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q, want GET, HEAD", rec.Header().Get("Allow"))
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
		})
	}
}

// Every bad parameter is a 400 whose JSON body names the parameter, in the words of the
// CLI's flag errors, before anything touches the store.
func TestParameterValidation(t *testing.T) {
	h, _ := newTestHandler(t, Options{DefaultCluster: "prod"})
	tests := []struct {
		target, param, msg string
	}{
		// Unknown and repeated parameters, on every endpoint.
		{"/api/v1/costs?foo=1", "foo", `unknown parameter "foo"`},
		{"/api/v1/costs?window=7d&sql=SELECT+1", "sql", `unknown parameter "sql"`},
		{"/api/v1/costs?timeout=5s", "timeout", `unknown parameter "timeout"`},
		{"/api/v1/costs?clickhouse-dsn=x", "clickhouse-dsn", `unknown parameter "clickhouse-dsn"`},
		{"/api/v1/costs?Window=7d", "Window", `unknown parameter "Window"`},
		{"/api/v1/rightsizing?kill-order=3", "kill-order", `unknown parameter "kill-order"`},
		{"/api/v1/qos?backtest=true", "backtest", `unknown parameter "backtest"`},
		{"/api/v1/qos?top=3", "top", `unknown parameter "top"`},
		{"/api/v1/reports?week=2026-W10", "week", `unknown parameter "week"`},
		{"/api/v1/costs?by=namespace&by=app", "by", `parameter "by" is given 2 times`},
		{"/api/v1/costs?window=%zz", "", "malformed query string"},
		// costs: as `reporter costs`.
		{"/api/v1/costs?window=fortnight", "window", `window: unknown window "fortnight"`},
		{"/api/v1/costs?window=", "window", "window: no window"},
		{"/api/v1/costs?window=2026-03-02T00:00:00Z,2026-03-01T00:00:00Z", "window", "is empty"},
		{"/api/v1/costs?window=2026-03-01T00:30:00Z,2026-03-02T00:00:00Z", "window", "must start and end on the hour"},
		{"/api/v1/costs?by=namespace,team", "by", `by: unknown aggregation key "team"`},
		{"/api/v1/costs?by=", "by", "by: no aggregation key"},
		{"/api/v1/costs?idle=spread", "idle", `idle: unknown idle mode "spread"`},
		{"/api/v1/costs?share=fair", "share", `share: unknown share mode "fair"`},
		{"/api/v1/costs?share-monthly=-5", "share-monthly", "share-monthly: monthly shared cost -5"},
		{"/api/v1/costs?share-monthly=lots", "share-monthly", `share-monthly: "lots" is not a number`},
		{"/api/v1/costs?share-monthly=NaN", "share-monthly", `"NaN" is not a number`},
		{"/api/v1/costs?share-namespaces=kube-system,,monitoring", "share-namespaces", "share-namespaces: empty shared namespace name"},
		{"/api/v1/costs?format=table", "format", `format: unknown format "table" (want json or csv)`},
		{"/api/v1/costs?format=yaml", "format", `format: unknown format "yaml"`},
		{"/api/v1/costs?cluster=", "cluster", "cluster: required"},
		// rightsizing: as `reporter rightsize`, the policy by rightsizing.Policy.Validate.
		{"/api/v1/rightsizing?window=fortnight", "window", `window: unknown window "fortnight"`},
		{"/api/v1/rightsizing?format=xml", "format", `format: unknown format "xml" (want json, csv or yaml)`},
		{"/api/v1/rightsizing?format=yaml&backtest=true", "format", "not written for a backtest"},
		{"/api/v1/rightsizing?backtest=maybe", "backtest", `backtest: "maybe" is not true or false`},
		{"/api/v1/rightsizing?cpu-percentile=100", "cpu-percentile", "cpu-percentile: cpu percentile 100 is not in (0, 100)"},
		{"/api/v1/rightsizing?cpu-percentile=0", "cpu-percentile", "cpu percentile 0 is not in (0, 100)"},
		{"/api/v1/rightsizing?cpu-percentile=p95", "cpu-percentile", `cpu-percentile: "p95" is not a number`},
		{"/api/v1/rightsizing?memory-buffer=-5", "memory-buffer", "memory-buffer: memory buffer -5% is not in [0, 1000]"},
		{"/api/v1/rightsizing?memory-buffer=NaN", "memory-buffer", `memory-buffer: "NaN" is not a number`},
		{"/api/v1/rightsizing?memory-buffer=Inf", "memory-buffer", `"Inf" is not a number`},
		{"/api/v1/rightsizing?oom-factor=0.5", "oom-factor", "oom-factor: OOM limit factor 0.5 is below 1"},
		{"/api/v1/rightsizing?cpu-floor=-1", "cpu-floor", "cpu-floor: cpu floor -1 cores is negative"},
		{"/api/v1/rightsizing?memory-floor-mib=-1", "memory-floor-mib", "memory floor -1.048576e+06 bytes is negative"},
		{"/api/v1/rightsizing?throttle-ratio=2", "throttle-ratio", "throttle flag ratio 2 is not in [0, 1]"},
		{"/api/v1/rightsizing?min-samples=-1", "min-samples", "min-samples: minimum data"},
		{"/api/v1/rightsizing?min-samples=many", "min-samples", `"many" is not a whole number`},
		{"/api/v1/rightsizing?min-window=1d", "min-window", `min-window: "1d" is not a duration`},
		{"/api/v1/rightsizing?hours-per-month=0", "hours-per-month", "hours per month 0 is not positive"},
		{"/api/v1/rightsizing?guaranteed-cpu=yes", "guaranteed-cpu", `guaranteed-cpu: "yes" is not true or false`},
		{"/api/v1/rightsizing?top=-1", "top", `top: "-1" is not a whole number ≥ 0`},
		// qos: as `reporter qos`.
		{"/api/v1/qos?format=table", "format", `unknown format "table" (want json, csv or yaml)`},
		{"/api/v1/qos?kill-order=-2", "kill-order", `kill-order: "-2" is not a whole number ≥ 0`},
		{"/api/v1/qos?at=yesterday", "at", "at: \"yesterday\" is not an RFC 3339 time"},
		{"/api/v1/qos?cpu-percentile=120", "cpu-percentile", "cpu percentile 120 is not in (0, 100)"},
		{"/api/v1/qos?window=0h", "window", "is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			rec := do(h, "GET", tc.target)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, body %q; want 400", rec.Code, rec.Body.String())
			}
			e := decodeError(t, rec)
			if e.Parameter != tc.param || !strings.Contains(e.Error, tc.msg) {
				t.Errorf("error %q (parameter %q), want one with %q naming %q", e.Error, e.Parameter, tc.msg, tc.param)
			}
			if tc.param != "" && !strings.Contains(e.Error, tc.param) {
				t.Errorf("error %q does not name the parameter %q", e.Error, tc.param)
			}
		})
	}
}

// Good parameters pass validation and reach the store (here: none, so 503).
func TestValidParametersReachTheStore(t *testing.T) {
	h, _ := newTestHandler(t, Options{DefaultCluster: "prod"})
	for _, target := range []string{
		"/api/v1/costs",
		"/api/v1/costs?cluster=staging&window=7d&by=namespace,label:team&idle=share&share-namespaces=kube-system,+monitoring&share-monthly=73&share=even&format=csv",
		"/api/v1/costs?window=2026-03-01T00:00:00Z,2026-03-08T00:00:00Z&by=cluster,node,workload,app",
		"/api/v1/costs?window=lastweek&idle=hide&format=json",
		"/api/v1/rightsizing?namespace=shop,+payments&cpu-percentile=99&memory-buffer=30&guaranteed-cpu=true&top=10&format=yaml",
		"/api/v1/rightsizing?backtest=true&format=csv&window=7d&min-window=12h&min-samples=10&memory-floor-mib=128",
		"/api/v1/rightsizing?backtest=false&format=yaml",
		"/api/v1/qos?window=7d&namespace=shop&guaranteed-cpu=1&kill-order=0&at=2026-03-16T06:00:00Z&format=yaml",
		"/api/v1/qos?oom-factor=1.5&oom-headroom-mib=200&throttle-ratio=0.2&hours-per-month=720",
	} {
		rec := do(h, "GET", target)
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "no ClickHouse store configured") {
			t.Errorf("GET %s: status %d, body %q; want 503 from the missing store", target, rec.Code, rec.Body.String())
		}
	}
}

func TestClusterRequiredWithoutDefault(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	for _, path := range []string{"/api/v1/costs", "/api/v1/rightsizing", "/api/v1/qos"} {
		rec := do(h, "GET", path)
		if rec.Code != http.StatusBadRequest || decodeError(t, rec).Parameter != "cluster" {
			t.Errorf("GET %s: status %d, body %q; want 400 naming cluster", path, rec.Code, rec.Body.String())
		}
		if rec := do(h, "GET", path+"?cluster=prod"); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s?cluster=prod: status %d, body %q; want 503 from the missing store", path, rec.Code, rec.Body.String())
		}
	}
}

func TestBearerToken(t *testing.T) {
	const token = "s3cr3t-token-value"
	h, _ := newTestHandler(t, Options{DefaultCluster: "prod", Token: token, ReportsDir: t.TempDir()})
	tests := []struct {
		name, target, auth string
		want               int
		challenge          string // WWW-Authenticate, on 401
	}{
		{"no header", "/api/v1/reports", "", 401, `Bearer realm="tally"`},
		{"wrong token", "/api/v1/reports", "Bearer wrong", 401, `Bearer realm="tally", error="invalid_token"`},
		{"token prefix", "/api/v1/reports", "Bearer " + token[:5], 401, `Bearer realm="tally", error="invalid_token"`},
		{"token plus more", "/api/v1/reports", "Bearer " + token + "x", 401, `Bearer realm="tally", error="invalid_token"`},
		{"empty bearer", "/api/v1/reports", "Bearer ", 401, `Bearer realm="tally", error="invalid_token"`},
		{"basic scheme", "/api/v1/reports", "Basic " + token, 401, `Bearer realm="tally"`},
		{"bare token", "/api/v1/reports", token, 401, `Bearer realm="tally"`},
		{"right token", "/api/v1/reports", "Bearer " + token, 200, ""},
		{"scheme in lower case", "/api/v1/reports", "bearer " + token, 200, ""},
		{"costs without token", "/api/v1/costs?window=7d", "", 401, `Bearer realm="tally"`},
		{"bad parameter without token", "/api/v1/costs?foo=1", "", 401, `Bearer realm="tally"`},
		{"unknown api path without token", "/api/v1/secret", "", 401, `Bearer realm="tally"`},
		{"report file without token", "/api/v1/reports/2026-W10/summary.csv", "", 401, `Bearer realm="tally"`},
		{"costs with token", "/api/v1/costs?window=7d", "Bearer " + token, 503, ""},
		{"healthz stays open", "/healthz", "", 200, ""},
		{"readyz stays open", "/readyz", "", 503, ""},
		{"metrics stay open", "/metrics", "", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			if tc.auth == "" {
				rec = do(h, "GET", tc.target)
			} else {
				rec = do(h, "GET", tc.target, "Authorization", tc.auth)
			}
			if rec.Code != tc.want {
				t.Fatalf("status %d, body %q; want %d", rec.Code, rec.Body.String(), tc.want)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			if tc.want == 401 {
				if e := decodeError(t, rec); strings.Contains(e.Error, token) {
					t.Errorf("the error names the token: %q", e.Error)
				}
			}
		})
	}
}

func TestMetricsByRouteAndCode(t *testing.T) {
	h, reg := newTestHandler(t, Options{DefaultCluster: "prod", ReportsDir: t.TempDir()})
	do(h, "GET", "/api/v1/reports")
	do(h, "GET", "/api/v1/reports")
	do(h, "GET", "/api/v1/costs?foo=1")
	do(h, "POST", "/api/v1/costs")
	do(h, "GET", "/nowhere")
	do(h, "GET", "/api/v1/reports/2026-W10/summary.csv")
	want := `
# HELP tally_api_requests_total HTTP requests served, by route template and status code.
# TYPE tally_api_requests_total counter
tally_api_requests_total{code="200",route="/api/v1/reports"} 2
tally_api_requests_total{code="400",route="/api/v1/costs"} 1
tally_api_requests_total{code="404",route="/api/v1/reports/{week:[0-9]{4}-W[0-9]{2}}/{name}"} 1
tally_api_requests_total{code="404",route="unmatched"} 1
tally_api_requests_total{code="405",route="unmatched"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tally_api_requests_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "tally_api_request_duration_seconds"); n != 5 {
		t.Errorf("%d duration series, want 5 (one per route and code)", n)
	}
}

// What a client learns of a store failure: its kind and an id, never the error's text,
// which may name hosts, users or databases.
func TestStoreFailureMessages(t *testing.T) {
	a := &api{opts: Options{QueryTimeout: 30 * time.Second}, log: slog.New(slog.DiscardHandler)}
	secret := "dial tcp 10.1.2.3:9000 clickhouse://tally:hunter2@db:9000/tally"
	tests := []struct {
		name string
		err  error
		want int
		msg  string
	}{
		{"busy", errBusy, 503, "too many reports being computed"},
		{"timeout", fmt.Errorf("select cost rows: %s: %w", secret, context.DeadlineExceeded), 503, "ClickHouse did not answer within 30s"},
		{"refused", fmt.Errorf("connect %s: %w", secret, syscall.ECONNREFUSED), 503, "ClickHouse is unavailable"},
		{"network", fmt.Errorf("read %s: %w", secret, &net.OpError{Op: "read", Err: errors.New(secret)}), 503, "ClickHouse is unavailable"},
		{"query", fmt.Errorf("select cost rows: code 60: table %s doesn't exist", secret), 502, "ClickHouse query failed (error id "},
		{"render", fmt.Errorf("%w: %s", errRender, secret), 500, "rendering the report failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := a.storeFailure(httptest.NewRequest("GET", "/api/v1/costs", nil), tc.err)
			if e.status != tc.want || !strings.Contains(e.msg, tc.msg) {
				t.Errorf("%d %q, want %d with %q", e.status, e.msg, tc.want, tc.msg)
			}
			for _, leak := range []string{"hunter2", "10.1.2.3", "tally", "db:9000"} {
				if strings.Contains(e.msg, leak) {
					t.Errorf("message %q leaks %q", e.msg, leak)
				}
			}
		})
	}
}

func TestNewRejectsNegativeOptions(t *testing.T) {
	for _, o := range []Options{{QueryTimeout: -time.Second}, {CacheTTL: -time.Second}, {MaxConcurrentQueries: -1}, {ReadyTimeout: -1}} {
		if _, err := New(o, Deps{}, nil, nil); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Options{}, Deps{}, nil, reg); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{}, Deps{}, nil, reg); err == nil {
		t.Error("a second API on the same registry: no error about its metrics")
	}
}
