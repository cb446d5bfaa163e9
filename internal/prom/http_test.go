package prom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const emptyMatrix = `{"status":"success","data":{"resultType":"matrix","result":[]}}`

// scripted answers the n-th request (from 0) with script(n); past the script, with an empty
// result.
func scripted(t *testing.T, script ...func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1) - 1)
		if i < len(script) {
			script[i](w)
			return
		}
		if r.URL.Path == pathQuery {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
			return
		}
		fmt.Fprint(w, emptyMatrix)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func status(code int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

func oneQuery(c *Client) error {
	_, err := fetch[containerLabels](context.Background(), c,
		rangeRequest("cpu usage", queryCPUSeconds, t0, time.Minute, 61), 0)
	return err
}

func TestRetries(t *testing.T) {
	unavailable := status(http.StatusServiceUnavailable, `{"status":"error","errorType":"unavailable","error":"too busy"}`)
	for _, tc := range []struct {
		name     string
		script   []func(http.ResponseWriter)
		attempts int
		wantErr  string // "" for success
		requests int64
	}{
		{"503 then 200 is retried", []func(http.ResponseWriter){unavailable}, 4, "", 2},
		{"429 and 502 are retried", []func(http.ResponseWriter){status(429, "slow down"), status(502, "<html>bad gateway</html>")}, 4, "", 3},
		{"400 is not retried", []func(http.ResponseWriter){status(400, `{"status":"error","errorType":"bad_data","error":"parse error: unclosed left parenthesis"}`)}, 4,
			"query cpu usage 2026-01-01T00:00Z–01:00Z: prometheus answered 400 (bad_data): parse error: unclosed left parenthesis", 1},
		{"422 is not retried", []func(http.ResponseWriter){status(422, `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}`)}, 4,
			"prometheus answered 422 (execution): query processing would load too many samples", 1},
		{"malformed answer is not retried", []func(http.ResponseWriter){status(200, `{"status":"success","data":{"resultType":"string","result":[0,"x"]}}`)}, 4,
			"malformed prometheus response", 1},
		{"attempts are bounded", []func(http.ResponseWriter){unavailable, unavailable, unavailable, unavailable}, 3,
			"gave up after 3 attempts: prometheus answered 503 (unavailable): too busy", 3},
		{"one attempt", []func(http.ResponseWriter){unavailable}, 1, "gave up after 1 attempts", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := scripted(t, tc.script...)
			c := newTestClient(t, srv.URL, Options{Retry: Retry{Attempts: tc.attempts}})
			err := oneQuery(c)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if n.Load() != tc.requests || c.QueryCount() != tc.requests {
				t.Fatalf("%d requests served, QueryCount %d; want %d", n.Load(), c.QueryCount(), tc.requests)
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	srv, _ := scripted(t, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	c := newTestClient(t, srv.URL, Options{Retry: Retry{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Second}})
	began := time.Now()
	if err := oneQuery(c); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(began); waited < time.Second {
		t.Fatalf("retried after %s, Retry-After asked for 1s", waited)
	}
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	c := newTestClient(t, "http://"+addr, Options{Retry: Retry{Attempts: 3}})
	err = oneQuery(c)
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "query_range?") {
		t.Errorf("error repeats the request URL: %v", err)
	}
	if c.QueryCount() != 3 {
		t.Fatalf("QueryCount = %d, want 3", c.QueryCount())
	}
}

func TestAttemptTimeout(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select { // the first answer never comes
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		fmt.Fprint(w, emptyMatrix)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{Timeout: 100 * time.Millisecond})
	if err := oneQuery(c); err != nil {
		t.Fatalf("the retry after a timeout failed: %v", err)
	}
	if n.Load() != 2 {
		t.Fatalf("%d requests, want 2", n.Load())
	}
}

func TestCancelStopsRetrying(t *testing.T) {
	srv, n := scripted(t, status(503, "busy"), status(503, "busy"), status(503, "busy"))
	c := newTestClient(t, srv.URL, Options{Retry: Retry{MinBackoff: 10 * time.Second}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := fetch[containerLabels](ctx, c, rangeRequest("cpu usage", queryCPUSeconds, t0, time.Minute, 2), 0)
	if err == nil || time.Since(began) > 5*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(began))
	}
	if n.Load() != 1 {
		t.Fatalf("%d requests, want 1", n.Load())
	}
}

func TestUsageErrorStopsOtherQueries(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path == pathQuery {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
			return
		}
		w.WriteHeader(400)
		fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"nope"}`)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{Chunk: time.Hour})
	_, err := c.Usage(context.Background(), t0, t0.Add(24*time.Hour))
	var ae *apiError
	if !errors.As(err, &ae) || ae.StatusCode != 400 {
		t.Fatalf("err = %v", err)
	}
	if n.Load() > 1+int64(c.opts.Concurrency)+1 {
		t.Fatalf("%d requests after the first failure; want the rest cancelled", n.Load())
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts Options
		want string // "" for valid
	}{
		{"http://prometheus:9090", Options{}, ""},
		{"https://example.com/prometheus/", Options{}, ""},
		{"", Options{}, "empty"},
		{"prometheus:9090", Options{}, "scheme"},
		{"ftp://prometheus", Options{}, "scheme"},
		{"http://", Options{}, "no host"},
		{"http://p:9090/?x=1", Options{}, "query"},
		{"http://user:s3cret@p:9090\x7f", Options{}, "prometheus url"},
		{"http://p:9090", Options{Step: 500 * time.Millisecond}, "step"},
		{"http://p:9090", Options{Step: time.Hour, Chunk: time.Minute}, "chunk"},
		{"http://p:9090", Options{Concurrency: -1}, "negative"},
	} {
		tc.opts.URL = tc.url
		_, err := New(tc.opts, nil)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("New(%q): %v", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("New(%q) = %v, want an error about %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestBasicAuthAndPathPrefix(t *testing.T) {
	var gotUser, gotPass, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPass, _ = r.BasicAuth()
		gotPath = r.URL.Path
		fmt.Fprint(w, emptyMatrix)
	}))
	t.Cleanup(srv.Close)
	u := strings.Replace(srv.URL, "http://", "http://tally:s3cret@", 1) + "/prom/"
	c := newTestClient(t, u, Options{})
	if err := oneQuery(c); err != nil {
		t.Fatal(err)
	}
	if gotUser != "tally" || gotPass != "s3cret" || gotPath != "/prom"+pathQueryRange {
		t.Fatalf("user %q password %q path %q", gotUser, gotPass, gotPath)
	}
}
