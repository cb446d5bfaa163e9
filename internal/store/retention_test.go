package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

func TestPartitionEnd(t *testing.T) {
	for _, tc := range []struct {
		id   string
		p    partitioning
		want time.Time
	}{
		{"20260301", daily, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"20261231", daily, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"202602", monthly, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := partitionEnd(tc.id, tc.p)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("partitionEnd(%q) = %v, %v; want %v", tc.id, got, err, tc.want)
		}
	}
	if _, err := partitionEnd("all", daily); err == nil {
		t.Error("partition id 'all' accepted")
	}
}

// Retention on the real server: samples of three days; a cutoff in the middle of the third
// day drops the first two days' partitions only, and leaves the rollups alone.
func TestDropPartitionsBefore(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var samples []model.UsageSample
	for d := 0; d < 3; d++ {
		for h := 0; h < 2; h++ {
			samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: day.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour),
				Namespace: "shop", Workload: web, Pod: "web-a", Container: "app", CPUUsageCores: 1})
		}
	}
	if err := s.InsertUsageSamples(ctx, samples); err != nil {
		t.Fatal(err)
	}
	dropped, err := s.DropPartitionsBefore(ctx, "usage_samples", day.AddDate(0, 0, 2).Add(12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"20260301", "20260302"}; !reflect.DeepEqual(dropped, want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}
	all := Window{Cluster: "prod", From: day, To: day.AddDate(0, 0, 3)}
	if n, err := s.CountUsageSamples(ctx, all); err != nil || n != 2 {
		t.Errorf("samples left = %d, %v; want the third day's 2", n, err)
	}
	rolled, err := s.UsageDaily(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(rolled) != 3 {
		t.Errorf("daily rollup has %d days after retention, want all 3 kept", len(rolled))
	}
	if _, err := s.DropPartitionsBefore(ctx, "cost_daily", day); err == nil {
		t.Error("retention accepted a table outside its list")
	}
}
