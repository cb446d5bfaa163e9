package prom

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// answer writes a 200 with body.
func answer(body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { fmt.Fprint(w, body) }
}

const (
	oneSeries         = `"data":{"resultType":"matrix","result":[{"metric":{"namespace":"a","pod":"b","container":"c","id":"d"},"values":[[1767225600,"1"]]}]}`
	partialAfterData  = `{"status":"success",` + oneSeries + `,"isPartial":true}`
	partialBeforeData = `{"status":"success","isPartial":true,` + oneSeries + `}`
	notPartial        = `{"status":"success","isPartial":false,` + oneSeries + `}`
	withWarnings      = `{"status":"success",` + oneSeries + `,"warnings":["store 10.0.0.7:10901 is unavailable"]}`
	withInfos         = `{"status":"success",` + oneSeries + `,"infos":["PromQL info: metric might not be a counter"]}`
	complete          = `{"status":"success",` + oneSeries + `}`
)

func TestDecodePartial(t *testing.T) {
	for _, tc := range []struct {
		body     string
		partial  bool
		warnings int
		infos    int
	}{
		{partialAfterData, true, 0, 0},
		{partialBeforeData, true, 0, 0},
		{notPartial, false, 0, 0},
		{`{"status":"success","isPartial":null,` + oneSeries + `}`, false, 0, 0},
		{withWarnings, false, 1, 0},
		{withInfos, false, 0, 1},
		{complete, false, 0, 0},
	} {
		tab := newTable[instanceLabels](1767225600_000, 60_000, 2, 0)
		body, err := decodeInto(strings.NewReader(tc.body), tab)
		if err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		if body.partial != tc.partial || len(body.warnings) != tc.warnings || len(body.infos) != tc.infos || tab.rows() != 1 {
			t.Errorf("%s: partial %v, warnings %v, infos %v, rows %d", tc.body, body.partial, body.warnings, body.infos, tab.rows())
		}
	}
}

// logRecorder keeps the records a Client logs.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// find returns the attributes of the records with message msg.
func (l *logRecorder) find(msg string) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.records {
		if r.Message != msg {
			continue
		}
		attrs := map[string]string{"level": r.Level.String()}
		r.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, attrs)
	}
	return out
}

// Partial answers and answers with warnings are retried, with a warning that names the
// query; when they keep coming, the query fails. Informational notes are logged only.
func TestIncompleteAnswersAreRetried(t *testing.T) {
	partial := answer(partialAfterData)
	for _, tc := range []struct {
		name     string
		script   []func(http.ResponseWriter)
		attempts int
		wantErr  string // "" for success
		requests int64
	}{
		{"partial then complete", []func(http.ResponseWriter){partial, answer(complete)}, 4, "", 2},
		{"partial before data then complete", []func(http.ResponseWriter){answer(partialBeforeData), answer(complete)}, 4, "", 2},
		{"warnings then clean", []func(http.ResponseWriter){answer(withWarnings), answer(complete)}, 4, "", 2},
		{"infos are not refused", []func(http.ResponseWriter){answer(withInfos)}, 4, "", 1},
		{"infos as warnings are not refused", []func(http.ResponseWriter){answer(strings.Replace(withInfos, `"infos"`, `"warnings"`, 1))}, 4, "", 1},
		{"isPartial false is complete", []func(http.ResponseWriter){answer(notPartial)}, 4, "", 1},
		{"always partial", []func(http.ResponseWriter){partial, partial, partial, partial}, 3,
			"query cpu usage 2026-01-01T00:00Z–00:01Z: gave up after 3 attempts: prometheus answered a partial result", 3},
		{"always warnings", []func(http.ResponseWriter){answer(withWarnings), answer(withWarnings)}, 2,
			"gave up after 2 attempts: prometheus answered with warnings: store 10.0.0.7:10901 is unavailable", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := scripted(t, tc.script...)
			logs := &logRecorder{}
			c, err := New(Options{URL: srv.URL, Retry: Retry{Attempts: tc.attempts, MinBackoff: time.Millisecond}}, slog.New(logs))
			if err != nil {
				t.Fatal(err)
			}
			tab, err := fetch[instanceLabels](context.Background(), c, rangeRequest("cpu usage", queryCPUSeconds, t0, time.Minute, 2), 0)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantErr == "" && (tab == nil || tab.rows() != 1):
				t.Fatalf("table %+v, want the complete answer's one series", tab)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			case tc.wantErr != "" && tab != nil:
				t.Fatal("an incomplete answer was returned")
			}
			if n.Load() != tc.requests {
				t.Fatalf("%d requests, want %d", n.Load(), tc.requests)
			}
			retries := logs.find("prometheus query failed, retrying")
			if int64(len(retries)) != min(tc.requests, int64(tc.attempts)-1) && tc.wantErr != "" ||
				tc.wantErr == "" && int64(len(retries)) != tc.requests-1 {
				t.Fatalf("%d retry warnings for %d requests", len(retries), tc.requests)
			}
			for _, r := range retries {
				if r["level"] != "WARN" || r["what"] != "cpu usage" || r["window"] != "2026-01-01T00:00Z–00:01Z" {
					t.Errorf("retry logged as %v", r)
				}
			}
			if strings.Contains(tc.name, "infos") {
				infos := logs.find("prometheus info")
				if len(infos) != 1 || infos[0]["level"] != "DEBUG" || infos[0]["what"] != "cpu usage" {
					t.Errorf("infos logged as %v", infos)
				}
			}
		})
	}
}

// An incomplete answer fails Usage as a whole: no samples reach the caller.
func TestUsageRefusesPartialAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pathQuery {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767229200,"1"]}]}}`)
			return
		}
		if strings.Contains(r.URL.Query().Get("query"), "memory") {
			fmt.Fprint(w, `{"status":"success","isPartial":true,"data":{"resultType":"matrix","result":[]}}`)
			return
		}
		fmt.Fprint(w, emptyMatrix)
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{Retry: Retry{Attempts: 2}})
	samples, err := c.Usage(context.Background(), t0, t0.Add(time.Hour))
	if err == nil || samples != nil || !strings.Contains(err.Error(), "memory working set") || !strings.Contains(err.Error(), "partial") {
		t.Fatalf("samples %d, err %v; want none and an error naming the partial memory query", len(samples), err)
	}
}
