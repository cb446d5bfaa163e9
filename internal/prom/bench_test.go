package prom

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/tally-finops/tally/internal/model"
)

// A large cluster's hour: 25,000 containers, 61 counter readings each.
const (
	benchContainers = 25_000
	benchPoints     = 61
)

// benchBody renders the answer of one range query over the benchmark hour.
func benchBody(b *testing.B, start time.Time, points int, value func(i int, ts int64) float64) []byte {
	b.Helper()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeMatrix(w, benchContainers, start.Unix(), 60, points, value)
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func cpuValue(i int, ts int64) float64 { return float64(ts-t0.Unix())*0.25 + float64(i)*1e-3 }

// BenchmarkUsageDecode decodes one 25,000-series × 61-point answer served over HTTP, the
// way Usage does: streamed into a flat table.
func BenchmarkUsageDecode(b *testing.B) {
	body := benchBody(b, t0, benchPoints, cpuValue)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	b.Cleanup(srv.Close)
	c := newTestClient(b, srv.URL, Options{})
	r := rangeRequest("cpu usage", queryCPUSeconds, t0, time.Minute, benchPoints)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		t, err := fetch[containerLabels](context.Background(), c, r, benchContainers)
		if err != nil {
			b.Fatal(err)
		}
		if t.rows() != benchContainers {
			b.Fatalf("%d rows", t.rows())
		}
	}
}

// BenchmarkClientGolangDecode decodes the same answer with client_golang's v1 API
// (model.Matrix: a label map and a []SamplePair per series, the whole body buffered first),
// for comparison.
func BenchmarkClientGolangDecode(b *testing.B) {
	body := benchBody(b, t0, benchPoints, cpuValue)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	b.Cleanup(srv.Close)
	client, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	promAPI := v1.NewAPI(client)
	rng := v1.Range{Start: t0, End: t0.Add(time.Hour), Step: time.Minute}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := promAPI.QueryRange(context.Background(), queryCPUSeconds, rng); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUsageHour runs Usage over one hour of 25,000 containers: the count query and
// five range queries, decoded and turned into 1.5 million samples.
func BenchmarkUsageHour(b *testing.B) {
	bodies := map[string][]byte{
		"cpu_usage":   benchBody(b, t0, benchPoints, cpuValue),
		"memory":      benchBody(b, t0.Add(time.Minute), benchPoints-1, func(i int, _ int64) float64 { return float64(100_000_000 + i) }),
		"throttled":   benchBody(b, t0, benchPoints, func(_ int, ts int64) float64 { return float64(ts-t0.Unix()) / 2 }),
		"cfs_periods": benchBody(b, t0, benchPoints, func(_ int, ts int64) float64 { return float64(ts-t0.Unix()) * 10 }),
		"start_time":  benchBody(b, t0, benchPoints, func(int, int64) float64 { return float64(t0.Unix() - 86400) }),
	}
	count := []byte(fmt.Sprintf(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%d,"%d"]}]}}`,
		t0.Add(time.Hour).Unix(), benchContainers))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("query")
		if r.URL.Path == pathQuery {
			_, _ = w.Write(count)
			return
		}
		for key, body := range bodies {
			if strings.Contains(q, key) {
				_, _ = w.Write(body)
				return
			}
		}
		http.Error(w, "unexpected query", http.StatusBadRequest)
	}))
	b.Cleanup(srv.Close)
	c := newTestClient(b, srv.URL, Options{})

	b.ReportAllocs()
	for b.Loop() {
		samples, err := c.Usage(context.Background(), t0, t0.Add(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		if len(samples) != benchContainers*60 {
			b.Fatalf("%d samples", len(samples))
		}
	}
	// Of the bytes allocated per run, this much is the returned slice itself.
	b.ReportMetric(float64(benchContainers*60*int(unsafe.Sizeof(model.UsageSample{})))/(1<<20), "result-MiB")
}
