package store

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
	tallysql "github.com/tally-finops/tally/sql"
)

// percentileSamples returns 3 days and 5 hours of 1-minute samples of two workloads from
// 2026-03-02T00:00Z: web with three pods whose CPU rates spread over two decades (a
// log-uniform 0.01–1 core, and a burst to 1–3 cores one minute in twenty), and a batch job
// with one pod at rates of a few millicores. The rates are arbitrary floats, as cAdvisor's
// are.
func percentileSamples() []model.UsageSample {
	rng := rand.New(rand.NewPCG(11, 12))
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	batch := model.WorkloadRef{Kind: "CronJob", Name: "report"}
	var out []model.UsageSample
	for m := range (3*24 + 5) * 60 {
		ts := start.Add(time.Duration(m) * time.Minute)
		for _, pod := range []string{"web-a", "web-b", "web-c"} {
			cpu := 0.01 * math.Pow(100, rng.Float64())
			if rng.IntN(20) == 0 {
				cpu = 1 + 2*rng.Float64()
			}
			out = append(out, model.UsageSample{Cluster: "prod", Timestamp: ts, Namespace: "shop", Workload: web,
				Pod: pod, Container: "app", CPUUsageCores: cpu, MemoryWorkingSetBytes: 100 * mib, CPUPeriods: 600})
		}
		out = append(out, model.UsageSample{Cluster: "prod", Timestamp: ts, Namespace: "shop", Workload: batch,
			Pod: "report-1", Container: "job", CPUUsageCores: 0.002 + 0.003*rng.Float64(), MemoryWorkingSetBytes: 10 * mib, CPUPeriods: 600})
	}
	return out
}

// nearestRank is the nearest-rank q-quantile of xs: the smallest value with at least ⌈q·n⌉
// values at or below it.
func nearestRank(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

// Defect 6 of the reliability review: the same samples, inserted in one block per day or in
// random blocks in random order (as a killed and restarted collector, a retry or a
// re-collection would insert them), must give bit-identical CPU percentiles in the rollups and
// in rightsizing. With t-digest states they differed in the fourth digit. The percentiles must
// also be within the buckets' 0.499% of the exact nearest-rank order statistic.
func TestCPUPercentilesDoNotDependOnInsertBlocks(t *testing.T) {
	ctx := context.Background()
	samples := percentileSamples()

	byDay := openTestStore(t)
	for day := range 4 {
		var block []model.UsageSample
		for _, s := range samples {
			if int(s.Timestamp.Sub(samples[0].Timestamp)/(24*time.Hour)) == day {
				block = append(block, s)
			}
		}
		if err := byDay.InsertUsageSamples(ctx, block); err != nil {
			t.Fatal(err)
		}
	}

	chunked := openTestStore(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var blocks [][]model.UsageSample
	for rest := samples; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(700))
		blocks, rest = append(blocks, rest[:n]), rest[n:]
	}
	rng.Shuffle(len(blocks), func(i, j int) { blocks[i], blocks[j] = blocks[j], blocks[i] })
	for _, b := range blocks {
		if err := chunked.InsertUsageSamples(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d samples: 4 blocks in one store, %d random blocks in random order in the other", len(samples), len(blocks))

	// The window [03-02T03:00, 03-05T05:00): two whole days from usage_daily, 26 hours from
	// usage_hourly.
	w := Window{Cluster: "prod", From: samples[0].Timestamp.Add(3 * time.Hour), To: samples[len(samples)-1].Timestamp.Add(time.Minute)}
	exact := map[string][]float64{}
	for _, s := range samples {
		if !s.Timestamp.Before(w.From) {
			exact[s.Workload.Name] = append(exact[s.Workload.Name], s.CPUUsageCores)
		}
	}
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
		a, err := byDay.WorkloadUsage(ctx, w, []string{"shop"}, q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := chunked.WorkloadUsage(ctx, w, []string{"shop"}, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != 2 || len(b) != 2 {
			t.Fatalf("q %v: %d and %d workload rows, want 2 each", q, len(a), len(b))
		}
		for i := range a {
			name := a[i].Workload.Name
			if a[i].CPUQuantileCores != b[i].CPUQuantileCores {
				t.Errorf("q %v %s: CPU percentile %v inserted by day, %v inserted in random blocks; want the same", q, name, a[i].CPUQuantileCores, b[i].CPUQuantileCores)
			}
			want := nearestRank(exact[name], q)
			if rel := math.Abs(a[i].CPUQuantileCores-want) / want; rel > 0.00499 {
				t.Errorf("q %v %s: CPU percentile %v, exact nearest rank %v: off by %.3f%%, want at most 0.499%%", q, name, a[i].CPUQuantileCores, want, 100*rel)
			}
		}
	}

	day := Window{Cluster: "prod", From: samples[0].Timestamp, To: samples[0].Timestamp.Add(4 * 24 * time.Hour)}
	for _, read := range []struct {
		name string
		fn   func(*Store, context.Context, Window) ([]model.UsageRollup, error)
	}{{"hourly", (*Store).UsageHourly}, {"daily", (*Store).UsageDaily}} {
		a, err := read.fn(byDay, ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		b, err := read.fn(chunked, ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) || len(a) == 0 {
			t.Fatalf("%s: %d and %d rows", read.name, len(a), len(b))
		}
		differ := 0
		for i := range a {
			if a[i].CPUUsageP95Cores != b[i].CPUUsageP95Cores {
				differ++
			}
		}
		if differ > 0 {
			t.Errorf("%s: %d of %d rows have another p95 when inserted in random blocks (e.g. %v vs %v)", read.name, differ, len(a),
				a[0].CPUUsageP95Cores, b[0].CPUUsageP95Cores)
		}
	}
}

// Migration 0011 rebuilds the rollups of a store written with t-digest states: afterwards
// every rollup and rightsizing figure equals that of a store that had the buckets from the
// start, and the same holds when its statements run a second time (a migration cut short
// is completed by the next run) and for samples written after it.
func TestCPUBucketsMigrationRebuildsRollups(t *testing.T) {
	ctx := context.Background()
	samples := percentileSamples()
	half := len(samples) / 2

	migrations, err := tallysql.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	old := openEmptyStore(t)
	server, err := old.ServerVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := tallysql.ParseServerVersion(server)
	if err != nil {
		t.Fatal(err)
	}
	var buckets tallysql.Migration
	for _, m := range migrations {
		if m.Version == 11 {
			buckets = m
		}
		if m.Version >= 11 || sv.Less(m.MinServer) {
			continue
		}
		for _, stmt := range m.Statements {
			if err := old.conn.Exec(ctx, stmt); err != nil {
				t.Fatalf("migration %d: %v", m.Version, err)
			}
		}
	}
	if buckets.Version != 11 {
		t.Fatal("no migration 0011")
	}
	if err := old.InsertUsageSamples(ctx, samples[:half]); err != nil {
		t.Fatal(err)
	}
	var digests uint64
	if err := old.conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = currentDatabase() AND table IN ('usage_hourly', 'usage_daily') AND name = 'cpu_usage_quantiles'").Scan(&digests); err != nil {
		t.Fatal(err)
	}
	if digests != 2 {
		t.Fatalf("before 0011: %d rollup tables with a t-digest column, want 2", digests)
	}
	if _, err := old.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	fresh := openTestStore(t)
	if err := fresh.InsertUsageSamples(ctx, samples[:half]); err != nil {
		t.Fatal(err)
	}
	sameRollups(t, "after 0011", old, fresh)

	for i, stmt := range buckets.Statements {
		if err := old.conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("0011 again, statement %d: %v", i+1, err)
		}
	}
	sameRollups(t, "after 0011 ran again", old, fresh)

	for _, s := range []*Store{old, fresh} {
		if err := s.InsertUsageSamples(ctx, samples[half:]); err != nil {
			t.Fatal(err)
		}
	}
	sameRollups(t, "samples written after 0011", old, fresh)
}

// sameRollups fails t unless a and b hold the same hourly and daily rollups and the same
// rightsizing statistics over percentileSamples' days.
func sameRollups(t *testing.T, what string, a, b *Store) {
	t.Helper()
	ctx := context.Background()
	w := Window{Cluster: "prod", From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)}
	for _, read := range []struct {
		name string
		fn   func(*Store, context.Context, Window) ([]model.UsageRollup, error)
	}{{"hourly", (*Store).UsageHourly}, {"daily", (*Store).UsageDaily}} {
		ra, err := read.fn(a, ctx, w)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		rb, err := read.fn(b, ctx, w)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		// Float sums are merged part by part, in an order that background merges change: to
		// 1e-12. Everything else, the percentile included, exactly.
		sums := func(rs []model.UsageRollup) [][3]float64 {
			out := make([][3]float64, len(rs))
			for i := range rs {
				out[i] = [3]float64{rs[i].CPUUsageCoreMinutes, rs[i].CPUThrottledPeriods, rs[i].CPUPeriods}
				rs[i].CPUUsageCoreMinutes, rs[i].CPUThrottledPeriods, rs[i].CPUPeriods = 0, 0, 0
			}
			return out
		}
		sa, sb := sums(ra), sums(rb)
		if len(ra) == 0 || !reflect.DeepEqual(ra, rb) || !nearSums(sa, sb) {
			t.Errorf("%s: %s rollups differ: %d rows vs %d, first %+v vs %+v", what, read.name, len(ra), len(rb), first(ra), first(rb))
		}
	}
	// From 03:00: whole days and hours.
	w.From = w.From.Add(3 * time.Hour)
	ua, err := a.WorkloadUsage(ctx, w, []string{"shop"}, 0.95)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	ub, err := b.WorkloadUsage(ctx, w, []string{"shop"}, 0.95)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var sa, sb [][3]float64
	for i := range ua {
		sa = append(sa, [3]float64{ua[i].CPUThrottledPeriods, ua[i].CPUPeriods})
		ua[i].CPUThrottledPeriods, ua[i].CPUPeriods = 0, 0
	}
	for i := range ub {
		sb = append(sb, [3]float64{ub[i].CPUThrottledPeriods, ub[i].CPUPeriods})
		ub[i].CPUThrottledPeriods, ub[i].CPUPeriods = 0, 0
	}
	if len(ua) != 2 || !reflect.DeepEqual(ua, ub) || !nearSums(sa, sb) {
		t.Errorf("%s: rightsizing statistics differ:\n%+v\n%+v", what, ua, ub)
	}
}

func first[T any](xs []T) any {
	if len(xs) == 0 {
		return nil
	}
	return xs[0]
}

func nearSums(a, b [][3]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		for j := range a[i] {
			if math.Abs(a[i][j]-b[i][j]) > 1e-12*math.Max(1, math.Abs(a[i][j])) {
				return false
			}
		}
	}
	return true
}
