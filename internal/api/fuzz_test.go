package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParams sends the API's endpoints fuzzed query strings with no store behind it: every
// answer is a 400 (a 414 over the length limit) with a one-line JSON error, or the 503 of a
// request that passed validation and reached the missing store — never a panic, a 500, or a
// multi-line error.
func FuzzParams(f *testing.F) {
	for _, s := range []struct{ path, query string }{
		{"/api/v1/costs", "window=7d&by=namespace,label:team&idle=share"},
		{"/api/v1/costs", "window=1e300d&by=namespace%27;DROP%20TABLE%20x;--"},
		{"/api/v1/costs", "window=NaNd&share-monthly=Inf&share=even"},
		{"/api/v1/rightsizing", "cpu-percentile=99.999999999999999&memory-buffer=-0&top=99999999999999999999"},
		{"/api/v1/rightsizing", "min-window=-1h&min-samples=1e3&guaranteed-cpu=TRUE"},
		{"/api/v1/qos", "at=2026-03-16T06:00:00Z&kill-order=0&namespace=" + strings.Repeat("a", 300)},
		{"/api/v1/qos", "window=2026-03-08T00:00:00Z,2026-03-01T00:00:00Z"},
		{"/api/v1/costs", "%zz=1&window=%"},
	} {
		f.Add(s.path, s.query)
	}
	h, err := New(Options{DefaultCluster: "prod", Now: func() time.Time { return now }}, Deps{}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, query string) {
		switch path {
		case "/api/v1/costs", "/api/v1/rightsizing", "/api/v1/qos":
		default:
			path = "/api/v1/costs"
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL = &url.URL{Path: path, RawQuery: query}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusBadRequest, http.StatusRequestURITooLong:
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" || strings.Contains(e.Error, "\n") {
				t.Fatalf("%s?%s: %d with body %q, want a one-line JSON error", path, query, rec.Code, rec.Body.String())
			}
		case http.StatusServiceUnavailable, http.StatusBadGateway:
		default:
			t.Fatalf("%s?%s: status %d, body %q", path, query, rec.Code, rec.Body.String())
		}
	})
}
