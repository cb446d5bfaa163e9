package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// benchSamples builds n usage samples shaped like a real cluster's: 10,000 pods of 3,334
// three-replica workloads in 40 namespaces, 25,000 containers (pods alternate between three
// containers and two), one sample per container and minute, realistic name lengths.
func benchSamples(n int) []model.UsageSample {
	type ctr struct {
		ns, workload, pod, name string
	}
	ctrs := make([]ctr, 0, 25_000)
	for p := 0; p < 10_000; p++ {
		w := p / 3
		names := []string{"app", "istio-proxy", "log-shipper"}
		if p%2 == 1 {
			names = names[:2]
		}
		for _, name := range names {
			ctrs = append(ctrs, ctr{
				ns:       fmt.Sprintf("team-%02d", w%40),
				workload: fmt.Sprintf("service-%04d", w),
				pod:      fmt.Sprintf("service-%04d-7d9f8c6b5-%05d", w, p),
				name:     name,
			})
		}
	}
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	out := make([]model.UsageSample, n)
	for i := range out {
		c := &ctrs[i%len(ctrs)]
		out[i] = model.UsageSample{
			Cluster:               "prod-eu-west-1",
			Timestamp:             start.Add(time.Duration(i/len(ctrs)) * time.Minute),
			Namespace:             c.ns,
			Workload:              model.WorkloadRef{Kind: "Deployment", Name: c.workload},
			Pod:                   c.pod,
			Container:             c.name,
			CPUUsageCores:         float64(i%1000) / 997,
			MemoryWorkingSetBytes: uint64(64+i%512) << 20,
			CPUThrottledPeriods:   float64(i % 7),
			CPUPeriods:            600,
		}
	}
	return out
}

// BenchmarkInsertUsageSamples writes 1,000,000 usage samples (25,000 containers × 40
// minutes) to the stack's ClickHouse and reports rows/s, for the batch sizes the collector
// uses: a 5-minute interval of a 25,000-container cluster (125,000 rows) and a 40-minute
// backfill chunk (1,000,000 rows). The samples come minute by minute, as a scrape sees them,
// and the store sorts them into the table's order; "presorted" hands them over in that order
// already. The rollup views run as in production; "rollups=off" drops them to show their cost.
func BenchmarkInsertUsageSamples(b *testing.B) {
	const rows = 1_000_000
	for _, bc := range []struct {
		name               string
		batch              int
		presorted, rollups bool
	}{
		{"batch=125000", 125_000, false, true},
		{"batch=1000000", 1_000_000, false, true},
		{"batch=1000000/presorted", 1_000_000, true, true},
		{"batch=125000/rollups=off", 125_000, false, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			samples := benchSamples(rows)
			if bc.presorted {
				slices.SortFunc(samples, func(a, b model.UsageSample) int { return compareUsageSamples(&a, &b) })
			}
			s := openTestStore(b)
			ctx := context.Background()
			if !bc.rollups {
				for _, mv := range []string{"usage_hourly_mv", "usage_daily_mv", "usage_daily_mv_legacy"} {
					if err := s.conn.Exec(ctx, "DROP TABLE "+mv); err != nil {
						b.Fatal(err)
					}
				}
			}
			waitForMerges(b, s)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i > 0 { // the next 40 minutes: new rows, not replacements of the last ones
					b.StopTimer()
					for j := range samples {
						samples[j].Timestamp = samples[j].Timestamp.Add(40 * time.Minute)
					}
					b.StartTimer()
				}
				for off := 0; off < rows; off += bc.batch {
					if err := s.InsertUsageSamples(ctx, samples[off:off+bc.batch]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")

			var n uint64
			if err := s.conn.QueryRow(ctx, "SELECT count() FROM usage_samples").Scan(&n); err != nil {
				b.Fatal(err)
			}
			if n != uint64(rows*b.N) {
				b.Fatalf("usage_samples holds %d rows, want %d", n, rows*b.N)
			}
			if bc.rollups {
				if err := s.conn.QueryRow(ctx, "SELECT countMerge(samples) FROM usage_daily").Scan(&n); err != nil {
					b.Fatal(err)
				}
				if n != uint64(rows*b.N) {
					b.Fatalf("usage_daily counts %d samples, want %d", n, rows*b.N)
				}
			}
		})
	}
}

// waitForMerges waits until the server runs no merges, so a measurement does not pay for
// the previous one's.
func waitForMerges(b *testing.B, s *Store) {
	b.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var n uint64
		if err := s.conn.QueryRow(context.Background(), "SELECT count() FROM system.merges").Scan(&n); err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}
