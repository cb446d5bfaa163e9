package prom

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeProm is a stand-in Prometheus HTTP API for unit tests: it answers tally's usage
// queries for a number of generated containers and records what it was asked.
type fakeProm struct {
	containers int

	mu            sync.Mutex
	requests      int
	maxPoints     int // most points per series of one answer
	maxSamples    int // most series × points of one answer
	queriesByPath map[string]int
}

func newFakeProm(t testing.TB, containers int) (*fakeProm, *httptest.Server) {
	f := &fakeProm{containers: containers, queriesByPath: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := q.Get("query")
	f.mu.Lock()
	f.requests++
	f.queriesByPath[r.URL.Path]++
	f.mu.Unlock()

	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case pathQuery:
		t, _ := strconv.ParseFloat(q.Get("time"), 64)
		if strings.Contains(query, "count") {
			fmt.Fprintf(bw, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%s,"%d"]}]}}`,
				strconv.FormatFloat(t, 'f', -1, 64), f.containers)
			return
		}
		fmt.Fprint(bw, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	case pathQueryRange:
		start, _ := strconv.ParseFloat(q.Get("start"), 64)
		end, _ := strconv.ParseFloat(q.Get("end"), 64)
		step, _ := strconv.ParseFloat(q.Get("step"), 64)
		points := int((end-start)/step) + 1
		if points > maxPointsPerSeries {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(bw, `{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"}`)
			return
		}
		n := f.containers
		if !strings.Contains(query, "(container_") {
			n = 0 // kube-state-metrics: none here
		}
		f.mu.Lock()
		f.maxPoints = max(f.maxPoints, points)
		f.maxSamples = max(f.maxSamples, points*n)
		f.mu.Unlock()
		writeMatrix(bw, n, int64(start), int64(step), points, func(i int, ts int64) float64 {
			switch {
			case strings.Contains(query, "timestamp("):
				return float64(ts) // sampled at the evaluation time
			case strings.Contains(query, "start_time"):
				return float64(start - 86400) // started a day before
			case strings.Contains(query, "memory"):
				return float64(100_000_000 + i)
			case strings.Contains(query, "throttled"):
				return float64(ts/60) * 3
			case strings.Contains(query, "periods"):
				return float64(ts/60) * 600
			}
			return float64(ts) * 0.25 // cpu: a quarter core each
		})
	default:
		http.NotFound(w, r)
	}
}

// writeMatrix writes a range query answer of n containers (namespace ns-<i/100>, pod
// workload-<i/10>-<hash>-<i>, container app) with points values from start every step seconds.
func writeMatrix(w *bufio.Writer, n int, start, step int64, points int, value func(i int, ts int64) float64) {
	w.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	var num []byte
	for i := range n {
		if i > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, `{"metric":{"container":"app","namespace":"ns-%d","pod":"workload-%04d-5d8f7c9b6d-%05d"},"values":[`, i/100, i/10, i)
		for j := range points {
			if j > 0 {
				w.WriteByte(',')
			}
			ts := start + int64(j)*step
			w.WriteByte('[')
			num = strconv.AppendInt(num[:0], ts, 10)
			w.Write(num)
			w.WriteString(`,"`)
			num = strconv.AppendFloat(num[:0], value(i, ts), 'f', -1, 64)
			w.Write(num)
			w.WriteString(`"]`)
		}
		w.WriteString(`]}`)
	}
	w.WriteString(`]}}`)
}
