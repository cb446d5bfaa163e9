package store

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/report"
)

// BenchmarkCostReport30Days is what `reporter costs --window 30d --by namespace` does after
// parsing its flags, on the stack's ClickHouse: read 30 days of cost rows of a cluster of
// 10,000 pods (3,334 three-replica workloads in 40 namespaces, one container each, on 300
// nodes, each with an idle row every hour: 7.4 million hourly rows), aggregate them and render
// the table. The window starts and ends at 06:00, so 29 whole days come from the daily rollup
// and 24 hours from the hourly rows. Loading the rows takes a minute or so and is not timed.
func BenchmarkCostReport30Days(b *testing.B) {
	s := openTestStore(b)
	ctx := context.Background()
	const pods, nodes = 10_000, 300
	start := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	end := start.Add(30 * 24 * time.Hour)

	infos := make([]model.Allocation, 0, pods+nodes)
	for p := 0; p < pods; p++ {
		w := p / 3
		ns := fmt.Sprintf("team-%02d", w%40)
		name := fmt.Sprintf("service-%04d", w)
		infos = append(infos, model.Allocation{Cluster: "prod", Node: fmt.Sprintf("ip-10-0-%d-%d", p%nodes/250, p%nodes%250),
			Namespace: ns, Workload: model.WorkloadRef{Kind: "Deployment", Name: name}, App: name,
			Pod: fmt.Sprintf("%s-7d9f8c6b5-%05d", name, p), Container: "app",
			Labels:   map[string]string{"app.kubernetes.io/name": name, "team": ns},
			RunHours: 1, CPUCoreHours: 0.5, CPURequestCoreHours: 0.5, CPUUsageCoreHours: float64(p%10) / 20,
			RAMByteHours: 1 << 30, RAMRequestByteHours: 1 << 30, RAMUsageByteHours: float64(p%8) * (1 << 27),
			CPUCost: 0.5 * 0.0316, RAMCost: 0.0042})
	}
	for n := 0; n < nodes; n++ {
		infos = append(infos, model.Allocation{Cluster: "prod", Node: fmt.Sprintf("ip-10-0-%d-%d", n/250, n%250), Idle: true,
			RunHours: 1, CPUCoreHours: 2, RAMByteHours: 4 << 30, CPUCost: 2 * 0.0316, RAMCost: 4 * 0.0042})
	}
	// One insert per day, as far as the window goes.
	var rows []model.Allocation
	for day := start; day.Before(end); {
		next := day.Truncate(24 * time.Hour).Add(24 * time.Hour)
		if next.After(end) {
			next = end
		}
		rows = rows[:0]
		for h := day; h.Before(next); h = h.Add(time.Hour) {
			for _, a := range infos {
				a.Hour = h
				rows = append(rows, a)
			}
		}
		if err := s.InsertAllocations(ctx, rows); err != nil {
			b.Fatal(err)
		}
		day = next
	}
	opts := allocation.Options{By: []string{"namespace"}, WindowHours: end.Sub(start).Hours()}

	var got int
	for b.Loop() {
		rows, err := s.CostRows(ctx, "prod", start, end)
		if err != nil {
			b.Fatal(err)
		}
		totals, err := allocation.Aggregate(rows, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := (report.Costs{Keys: opts.By}).Render(io.Discard, report.FormatTable, totals); err != nil {
			b.Fatal(err)
		}
		got = len(rows)
		if len(totals) != 41 { // 40 namespaces and __idle__
			b.Fatalf("%d totals, want 41", len(totals))
		}
	}
	b.ReportMetric(float64(got), "rows/op")
}
