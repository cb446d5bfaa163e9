package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

func TestWholeDays(t *testing.T) {
	d := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name           string
		from, to       time.Time
		wantFrom, want time.Time
	}{
		{"partial day then whole day", d.Add(18 * time.Hour), d.Add(48 * time.Hour), d.Add(24 * time.Hour), d.Add(48 * time.Hour)},
		{"exactly one day", d, d.Add(24 * time.Hour), d, d.Add(24 * time.Hour)},
		{"hours inside one day", d.Add(2 * time.Hour), d.Add(20 * time.Hour), d.Add(2 * time.Hour), d.Add(2 * time.Hour)},
		{"across midnight, no whole day", d.Add(20 * time.Hour), d.Add(30 * time.Hour), d.Add(20 * time.Hour), d.Add(20 * time.Hour)},
		{"partial, whole, partial", d.Add(23 * time.Hour), d.Add(49 * time.Hour), d.Add(24 * time.Hour), d.Add(48 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, to := wholeDays(tc.from, tc.to)
			if !from.Equal(tc.wantFrom) || !to.Equal(tc.want) {
				t.Errorf("wholeDays(%s, %s) = [%s, %s), want [%s, %s)", tc.from, tc.to, from, to, tc.wantFrom, tc.want)
			}
		})
	}
}

// CostRows reads the whole day of the window from the daily rollup and the hours before it
// from the hourly rows; the expected sums are worked out by hand. Amounts are sums of powers
// of two, so they are exact.
func TestCostRowsSumsPartialAndWholeDays(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	d := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	from, to := d.Add(18*time.Hour), d.Add(48*time.Hour) // 18:00 of d (partial) and all of d+1

	team := map[string]string{"app": "web", "team": "shop"}
	row := func(cluster string, hour time.Time, node, pod string, run, cpu, cpuReq, cpuUse, ram, ramReq, ramUse, cpuCost, ramCost float64) model.Allocation {
		return model.Allocation{Cluster: cluster, Hour: hour, Node: node, Namespace: "shop", Workload: web, App: "web",
			Pod: pod, Container: "app", Labels: team, RunHours: run, CPUCoreHours: cpu, CPURequestCoreHours: cpuReq,
			CPUUsageCoreHours: cpuUse, RAMByteHours: ram, RAMRequestByteHours: ramReq, RAMUsageByteHours: ramUse,
			CPUCost: cpuCost, RAMCost: ramCost}
	}
	api := model.Allocation{Cluster: "prod", Hour: d.Add(31 * time.Hour), Node: "n2", Namespace: "shop",
		Workload: model.WorkloadRef{Kind: "StatefulSet", Name: "api"}, App: "api", Pod: "api-0", Container: "app",
		Labels: map[string]string{"app": "api"}, RunHours: 1, CPUCoreHours: 4, CPURequestCoreHours: 4, CPUUsageCoreHours: 2,
		RAMByteHours: 4096, RAMRequestByteHours: 4096, RAMUsageByteHours: 2048, GPUHours: 1, CPUCost: 2, RAMCost: 1, GPUCost: 4}
	idle := model.Allocation{Cluster: "prod", Hour: d.Add(30 * time.Hour), Node: "n1", Idle: true,
		RunHours: 1, CPUCoreHours: 2, RAMByteHours: 8192, CPUCost: 1, RAMCost: 0.5}
	rows := []model.Allocation{
		row("prod", d.Add(17*time.Hour), "n1", "web-a", 1, 64, 64, 64, 64, 64, 64, 64, 64), // before the window
		row("prod", d.Add(18*time.Hour), "n1", "web-a", 1, 1, 0.5, 0.25, 1024, 512, 256, 0.5, 0.25),
		row("prod", d.Add(23*time.Hour), "n1", "web-b", 0.5, 0.5, 0.25, 0.125, 512, 256, 128, 0.25, 0.125),
		row("prod", d.Add(29*time.Hour), "n1", "web-a", 1, 2, 1, 1.5, 2048, 1024, 1024, 1, 0.5),
		row("prod", d.Add(48*time.Hour), "n1", "web-a", 1, 64, 64, 64, 64, 64, 64, 64, 64),  // at the window's end
		row("other", d.Add(29*time.Hour), "n1", "web-a", 1, 64, 64, 64, 64, 64, 64, 64, 64), // another cluster
		idle, api,
	}
	// Two batches, as the allocation job writes hour by hour: the rollup sums both.
	if err := s.InsertAllocations(ctx, rows[:3]); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertAllocations(ctx, rows[3:]); err != nil {
		t.Fatal(err)
	}

	got, err := s.CostRows(ctx, "prod", from, to)
	if err != nil {
		t.Fatal(err)
	}
	// web on n1: 18:00 and 23:00 of d (hourly rows, two pods) + 05:00 of d+1 (rollup):
	//   run 1+0.5+1 = 2.5, cpu 1+0.5+2 = 3.5, req 0.5+0.25+1 = 1.75, used 0.25+0.125+1.5 = 1.875,
	//   ram 1024+512+2048 = 3584, req 512+256+1024 = 1792, used 256+128+1024 = 1408,
	//   cpu$ 0.5+0.25+1 = 1.75, ram$ 0.25+0.125+0.5 = 0.875
	// Order: namespace ("" of the idle row first), workload kind, workload, app, node.
	want := []model.Allocation{
		{Cluster: "prod", Node: "n1", Idle: true, RunHours: 1, CPUCoreHours: 2, RAMByteHours: 8192, CPUCost: 1, RAMCost: 0.5},
		{Cluster: "prod", Node: "n1", Namespace: "shop", Workload: web, App: "web", Labels: team,
			RunHours: 2.5, CPUCoreHours: 3.5, CPURequestCoreHours: 1.75, CPUUsageCoreHours: 1.875,
			RAMByteHours: 3584, RAMRequestByteHours: 1792, RAMUsageByteHours: 1408, CPUCost: 1.75, RAMCost: 0.875},
		{Cluster: "prod", Node: "n2", Namespace: "shop", Workload: api.Workload, App: "api", Labels: api.Labels,
			RunHours: 1, CPUCoreHours: 4, CPURequestCoreHours: 4, CPUUsageCoreHours: 2,
			RAMByteHours: 4096, RAMRequestByteHours: 4096, RAMUsageByteHours: 2048, GPUHours: 1, CPUCost: 2, RAMCost: 1, GPUCost: 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CostRows =\n%+v\nwant\n%+v", got, want)
	}

	// A window of hours inside one day reads only the hourly rows: 23:00 of d alone.
	got, err = s.CostRows(ctx, "prod", d.Add(23*time.Hour), d.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].CPUCost != 0.25 || got[0].RunHours != 0.5 {
		t.Errorf("CostRows of 23:00 = %+v, want web-b's row alone", got)
	}

	if _, err := s.CostRows(ctx, "prod", to, from); err == nil {
		t.Error("CostRows of an empty window: no error")
	}
}
