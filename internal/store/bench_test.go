package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// benchSamples builds n usage samples the way the collector produces them: many containers,
// consecutive minutes, realistic name lengths.
func benchSamples(n, containers int) []model.UsageSample {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	out := make([]model.UsageSample, n)
	for i := range out {
		c := i % containers
		out[i] = model.UsageSample{
			Cluster:               "prod-eu-west-1",
			Timestamp:             start.Add(time.Duration(i/containers) * time.Minute),
			Namespace:             fmt.Sprintf("team-%02d", c%40),
			Workload:              model.WorkloadRef{Kind: "Deployment", Name: fmt.Sprintf("service-%04d", c/3)},
			Pod:                   fmt.Sprintf("service-%04d-7d9f8c6b5-%05d", c/3, c),
			Container:             []string{"app", "sidecar", "proxy"}[c%3],
			Node:                  fmt.Sprintf("ip-10-0-%d-%d.eu-west-1.compute.internal", c%8, c%200),
			CPUUsageCores:         float64(c%1000) / 997,
			MemoryWorkingSetBytes: uint64(64+c%512) << 20,
			CPUThrottledPeriods:   float64(c % 7),
			CPUPeriods:            600,
		}
	}
	return out
}

// BenchmarkInsertUsageSamples writes 1,000,000 usage samples (25,000 containers × 40
// minutes) in batches of 100,000 rows to the stack's ClickHouse and reports rows/s.
func BenchmarkInsertUsageSamples(b *testing.B) {
	const (
		rows  = 1_000_000
		batch = 100_000
	)
	s := openTestStore(b)
	samples := benchSamples(rows, 25_000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 { // the next 40 minutes: new rows, not replacements of the last ones
			b.StopTimer()
			for j := range samples {
				samples[j].Timestamp = samples[j].Timestamp.Add(40 * time.Minute)
			}
			b.StartTimer()
		}
		for off := 0; off < rows; off += batch {
			if err := s.InsertUsageSamples(ctx, samples[off:off+batch]); err != nil {
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
}
