package main

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/store/storetest"
)

// The volume worked example of docs/cost-model.md, section 6, through reporter costs on the
// stack's ClickHouse: the hour's volumes split by allocation.Volumes and written as the
// allocation job writes them, read back from the hourly rows and from the daily rollup. The
// figures are the document's.
func TestCostsVolumeWorkedExample(t *testing.T) {
	s, dsn := storetest.Open(t, "tally_reporter_test", nil)
	hour := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	minutes := func(from, to int) model.MinuteSet {
		var s model.MinuteSet
		for m := from; m < to; m++ {
			s |= 1 << m
		}
		return s
	}
	vol := func(name string, gib float64, claim string, exists model.MinuteSet, gibHour float64) model.VolumeHour {
		v := model.VolumeHour{Cluster: "prod", Volume: name, Hour: hour, Minutes: exists, CapacityBytes: gib * (1 << 30),
			Price: model.VolumePrice{GiBHourCost: gibHour}, Priced: true}
		if claim != "" {
			v.ClaimNamespace, v.ClaimName = "shop", claim
		}
		return v
	}
	pod := func(claim, name, workload string, running model.MinuteSet) model.ClaimPodHour {
		return model.ClaimPodHour{Cluster: "prod", Hour: hour, Namespace: "shop", Claim: claim, Pod: name, Node: "ip-10-0-1-23",
			Workload: model.WorkloadRef{Kind: "StatefulSet", Name: workload}, RunningMinutes: running}
	}
	rows, warnings := allocation.Volumes([]model.VolumeHour{
		vol("pv-data", 100, "data", model.AllMinutes, 0.073/730),
		vol("pv-cache", 20, "cache", model.AllMinutes, 0.0365/730),
		vol("pv-old", 50, "", minutes(0, 40), 0.073/730),
		vol("pv-logs", 10, "logs", model.AllMinutes, 0.073/730),
	}, []model.ClaimPodHour{
		pod("data", "web-0", "web", model.AllMinutes),
		pod("data", "web-1", "web", minutes(0, 30)),
		pod("logs", "logs-0", "logs", minutes(20, 60)),
	})
	if len(warnings) > 0 {
		t.Fatalf("warnings: %q", warnings)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.InsertVolumeAllocations(ctx, rows); err != nil {
		t.Fatal(err)
	}
	for _, window := range []string{"2026-03-02T10:00:00Z,2026-03-02T11:00:00Z", "2026-03-02T00:00:00Z,2026-03-03T00:00:00Z"} {
		for by, want := range map[string]map[string]float64{
			"namespace": {"shop": 0.012, "__unmounted__": 0.00333333},
			"workload":  {"StatefulSet/web": 0.01, "StatefulSet/logs": 0.00066667, "__unmounted__": 0.00466667},
		} {
			got := costsWith(t, dsn, window, "--by", by)
			if len(got) != len(want) {
				t.Errorf("%s by %s: %d totals %+v, want %v", window, by, len(got), got, want)
			}
			for _, tot := range got {
				w, ok := want[tot.Name]
				if !ok || math.Abs(tot.PVCost-w) > 5e-9 || math.Abs(tot.TotalCost-w) > 5e-9 {
					t.Errorf("%s by %s: %s pvCost %.8f, totalCost %.8f; want %.8f", window, by, tot.Name, tot.PVCost, tot.TotalCost, w)
				}
			}
		}
	}
}
