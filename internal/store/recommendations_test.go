package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/rightsizing"
)

func TestRecommendationsRoundTrip(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	day := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	from := day.Add(-14 * 24 * time.Hour)
	f := func(v float64) *float64 { return &v }
	recs := []rightsizing.Recommendation{
		{Cluster: "prod", Namespace: "shop", Workload: web, Container: "app",
			Current:        rightsizing.Resources{CPURequest: f(0.4), MemoryRequest: f(800 * mib), MemoryLimit: f(800 * mib)},
			Recommended:    rightsizing.Resources{CPURequest: f(0.231), MemoryRequest: f(460 * mib), MemoryLimit: f(460 * mib)},
			MonthlySavings: 18.44, Currency: "USD", Risk: rightsizing.RiskMedium, RiskNote: "scaled by an HPA on cpu",
			Evidence: "cpu p95 0.231 cores over 14d, 60,480 samples, 3 pods; memory peak 400 MiB", Flags: []string{rightsizing.FlagHPA}},
		{Cluster: "prod", Namespace: "shop", Workload: web, Container: "young", Currency: "USD",
			Risk: rightsizing.RiskHigh, RiskNote: "insufficient data", Flags: []string{rightsizing.FlagInsufficientData}},
	}
	if err := s.InsertRecommendations(ctx, "prod", day, from, day, recs); err != nil {
		t.Fatal(err)
	}
	w := Window{Cluster: "prod", From: day, To: day.Add(24 * time.Hour)}
	if n, err := s.CountRecommendations(ctx, w); err != nil || n != 2 {
		t.Errorf("CountRecommendations = %d, %v; want 2", n, err)
	}
	if n, err := s.CountRecommendations(ctx, Window{Cluster: "prod", From: day.Add(24 * time.Hour), To: day.Add(48 * time.Hour)}); err != nil || n != 0 {
		t.Errorf("CountRecommendations of the next day = %d, %v; want 0", n, err)
	}
	got, err := s.Recommendations(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	want := []StoredRecommendation{{Day: day, WindowStart: from, WindowEnd: day, Recommendation: recs[0]},
		{Day: day, WindowStart: from, WindowEnd: day, Recommendation: recs[1]}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Recommendations =\n%+v\nwant\n%+v", got, want)
	}
}
