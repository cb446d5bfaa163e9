package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// A request over a limit is refused with a one-line JSON error before anything reads it.
func TestRequestLimits(t *testing.T) {
	h, _ := newTestHandler(t, Options{DefaultCluster: "prod"})
	long := strings.Repeat("a", maxQueryBytes)
	params := make([]string, maxParams+1)
	for i := range params {
		params[i] = "x="
	}
	tests := []struct {
		name   string
		req    *http.Request
		status int
		msg    string
	}{
		{"query string over the limit", httptest.NewRequest("GET", "/api/v1/costs?window="+long, nil), 414,
			"the query string of 4103 bytes is over the limit of 4096"},
		{"query string at the limit", httptest.NewRequest("GET", "/api/v1/costs?x="+long[:maxQueryBytes-2], nil), 400,
			`unknown parameter "x"`},
		{"path over the limit", httptest.NewRequest("GET", "/api/v1/reports/"+strings.Repeat("b", maxPathBytes), nil), 414,
			"the path of 528 bytes is over the limit of 512"},
		{"too many parameters", httptest.NewRequest("GET", "/api/v1/costs?"+strings.Join(params, "&"), nil), 400,
			"the query string holds 33 parameters, over the limit of 32"},
		{"a body", httptest.NewRequest("GET", "/api/v1/costs", strings.NewReader("window=7d")), 413,
			"a request body is not accepted"},
		{"a chunked body", chunked(httptest.NewRequest("GET", "/healthz", strings.NewReader("x"))), 413,
			"a request body is not accepted"},
		{"a body on a POST", httptest.NewRequest("POST", "/api/v1/costs", strings.NewReader("window=7d")), 405,
			"method POST not allowed"},
		{"repeated parameter", httptest.NewRequest("GET", "/api/v1/rightsizing?namespace=a&top=1&namespace=b", nil), 400,
			`parameter "namespace" is given 2 times`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tc.req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, body %q; want %d", rec.Code, rec.Body.String(), tc.status)
			}
			e := decodeError(t, rec)
			if !strings.Contains(e.Error, tc.msg) || strings.Count(rec.Body.String(), "\n") != 1 {
				t.Errorf("error %q, want one line with %q", e.Error, tc.msg)
			}
			if len(rec.Body.String()) > 300 {
				t.Errorf("a %d-byte error body: the request is echoed", rec.Body.Len())
			}
		})
	}
}

func chunked(r *http.Request) *http.Request {
	r.ContentLength = -1
	r.TransferEncoding = []string{"chunked"}
	return r
}

// Hostile values — SQL, backslashes, NUL, newlines, oversized — are a 400 naming the
// parameter whose message quotes at most maxQuoteBytes of the value, on one line.
func TestHostileParameterValues(t *testing.T) {
	h, _ := newTestHandler(t, Options{DefaultCluster: "prod"})
	huge := strings.Repeat("x", 5000)
	hostile := []string{
		"' OR 1=1 --", "prod';DROP TABLE cost_daily;--", `prod\`, "prod\x00", "prod\nINFO forged log line", "a\rb",
		`"; SELECT 1`, "\xff\xfe", strings.Repeat("é", 70),
	}
	type target struct{ path, param, prefix, suffix string }
	targets := []target{
		{"/api/v1/costs", "cluster", "", ""},
		{"/api/v1/costs", "window", "", ""},
		{"/api/v1/costs", "window", "2026-03-01T00:00:00Z,", ""},
		{"/api/v1/costs", "by", "namespace,label:", ""},
		{"/api/v1/costs", "by", "", ""},
		{"/api/v1/costs", "idle", "", ""},
		{"/api/v1/costs", "share", "", ""},
		{"/api/v1/costs", "share-namespaces", "kube-system,", ""},
		{"/api/v1/costs", "share-monthly", "1", ""},
		{"/api/v1/costs", "format", "", ""},
		{"/api/v1/rightsizing", "namespace", "shop,", ""},
		{"/api/v1/rightsizing", "cpu-percentile", "95", ""},
		{"/api/v1/rightsizing", "min-window", "1h", ""},
		{"/api/v1/rightsizing", "min-samples", "10", ""},
		{"/api/v1/rightsizing", "guaranteed-cpu", "true", ""},
		{"/api/v1/rightsizing", "top", "5", ""},
		{"/api/v1/rightsizing", "backtest", "", ""},
		{"/api/v1/qos", "at", "2026-03-16T06:00:00Z", ""},
		{"/api/v1/qos", "kill-order", "", ""},
		{"/api/v1/qos", "cluster", "prod", ""},
	}
	for _, tg := range targets {
		for _, v := range append(hostile, huge, tg.prefix+huge) {
			value := tg.prefix + v + tg.suffix
			t.Run(tg.path+"?"+tg.param+"="+cut(value)[:min(len(cut(value)), 30)], func(t *testing.T) {
				req := httptest.NewRequest("GET", "/", nil)
				req.URL = &url.URL{Path: tg.path, RawQuery: url.Values{tg.param: {value}}.Encode()}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if len(req.URL.RawQuery) > maxQueryBytes {
					if rec.Code != 414 {
						t.Errorf("status %d, want 414", rec.Code)
					}
					return
				}
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("status %d, body %q; want 400", rec.Code, rec.Body.String())
				}
				e := decodeError(t, rec)
				if e.Parameter != tg.param || !strings.HasPrefix(e.Error, tg.param+": ") {
					t.Errorf("error %q (parameter %q), want one naming %q", e.Error, e.Parameter, tg.param)
				}
				if strings.ContainsAny(e.Error, "\x00\n\r") || !utf8.ValidString(e.Error) {
					t.Errorf("error %q holds a control character or is not UTF-8", e.Error)
				}
				if strings.Contains(e.Error, strings.Repeat("x", maxQuoteBytes+1)) {
					t.Errorf("error of %d bytes quotes over %d bytes of the value", len(e.Error), maxQuoteBytes)
				}
			})
		}
	}
}

// The value checks of each kind, beyond what the CLI's flags check.
func TestParameterSyntax(t *testing.T) {
	h, _ := newTestHandler(t, Options{DefaultCluster: "prod"})
	tests := []struct {
		target, param, msg string
	}{
		{"/api/v1/costs?cluster=prod_eu.1", "", ""},
		{"/api/v1/costs?cluster=-prod", "cluster", `cluster: "-prod" is not a cluster name: a valid label must be`},
		{"/api/v1/costs?cluster=" + strings.Repeat("c", 64), "cluster", "must be no more than 63"},
		{"/api/v1/costs?cluster=%20", "cluster", "cluster: required"},
		{"/api/v1/costs?by=namespace,label:app.kubernetes.io/name", "", ""},
		{"/api/v1/costs?by=label:team/a/b", "by", `by: aggregation key "label:team/a/b": "team/a/b" is not a label key`},
		{"/api/v1/costs?by=label:-team", "by", "is not a label key: name part must consist of alphanumeric characters"},
		{"/api/v1/costs?share-namespaces=kube-system,+monitoring", "", ""},
		{"/api/v1/costs?share-namespaces=Kube_System", "share-namespaces", `share-namespaces: "Kube_System" is not a namespace name: a lowercase RFC 1123 label`},
		{"/api/v1/rightsizing?namespace=shop,+pay", "", ""},
		{"/api/v1/rightsizing?namespace=shop," + strings.Repeat("n", 64), "namespace", "must be no more than 63 characters"},
		{"/api/v1/rightsizing?namespace=shop%3Bdrop", "namespace", `namespace: "shop;drop" is not a namespace name`},
		{"/api/v1/rightsizing?namespace=" + strings.Repeat("n", maxListBytes+1), "namespace", "(1025 bytes) is too long (at most 1024 bytes)"},
		{"/api/v1/rightsizing?top=1000000", "", ""},
		{"/api/v1/rightsizing?top=1000001", "top", "top: 1000001 is over 1000000"},
		{"/api/v1/rightsizing?top=99999999999999999999", "top", `top: "99999999999999999999" is not a whole number`},
		{"/api/v1/qos?kill-order=1000001", "kill-order", "kill-order: 1000001 is over 1000000"},
		{"/api/v1/rightsizing?cpu-percentile=1e400", "cpu-percentile", `cpu-percentile: "1e400" is not a number`},
		{"/api/v1/rightsizing?hours-per-month=-Inf", "hours-per-month", `"-Inf" is not a number`},
		{"/api/v1/costs?window=1969-12-31T00:00:00Z,1970-01-02T00:00:00Z", "window", "window: 1969-12-31T00:00:00Z is outside the times ClickHouse holds (1970-01-01 to 2106-02-07)"},
		{"/api/v1/costs?window=2106-02-07T00:00:00Z,2106-02-08T00:00:00Z", "window", "window: 2106-02-08T00:00:00Z is outside"},
		{"/api/v1/qos?at=9999-01-01T00:00:00Z", "at", "at: 9999-01-01T00:00:00Z is outside the times ClickHouse holds"},
		{"/api/v1/costs?window=" + strings.Repeat("7", maxValueBytes+1), "window", "window: value \"7777"},
		{"/api/v1/costs?window=7d%00", "window", "holds the control character U+0000"},
		{"/api/v1/costs?" + strings.Repeat("z", 100) + "=1", strings.Repeat("z", maxQuoteBytes), `unknown parameter "zzz`},
		{"/api/v1/costs?idle=" + strings.Repeat("i", 100), "idle", "… (100 bytes) (want separate, share or hide)"},
		{"/api/v1/costs?by=namespace," + strings.Repeat("k", 300), "by", `by: unknown aggregation key "kkk`},
		{"/api/v1/rightsizing?namespace=shop;drop", "", "malformed query string: invalid semicolon separator in query"},
	}
	for _, tc := range tests {
		t.Run(tc.target[:min(len(tc.target), 80)], func(t *testing.T) {
			rec := do(h, "GET", tc.target)
			if tc.msg == "" {
				if rec.Code != http.StatusServiceUnavailable {
					t.Errorf("status %d, body %q; want 503 from the missing store", rec.Code, rec.Body.String())
				}
				return
			}
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, body %q; want 400", rec.Code, rec.Body.String())
			}
			e := decodeError(t, rec)
			if e.Parameter != tc.param || !strings.Contains(e.Error, tc.msg) {
				t.Errorf("error %q (parameter %q), want one with %q naming %q", e.Error, e.Parameter, tc.msg, tc.param)
			}
			if len(e.Error) > 300 {
				t.Errorf("an error of %d bytes: %q", len(e.Error), e.Error)
			}
		})
	}
}

func TestNewRejectsABadDefaultCluster(t *testing.T) {
	if _, err := New(Options{DefaultCluster: "prod eu"}, Deps{}, nil, nil); err == nil || !strings.Contains(err.Error(), `"prod eu" is not a cluster name`) {
		t.Errorf("New with default cluster %q: %v", "prod eu", err)
	}
}
