package main

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/bill"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/store"
)

// reporter costs --format focus over two days of the worked example (TestCostsWorkedExample's
// hour, once on each day), read back with tally's own FOCUS reader: one row per namespace and
// day with the worked example's costs, the group in Tags, the node prices' currency.
func TestCostsFOCUS(t *testing.T) {
	dsn := testDatabase(t)
	const (
		gib = 1 << 30
		c   = 0.192 * 0.126444 / 0.194236 / 4
		m   = 0.192 * 0.067792 / 0.194236 / 16
	)
	var rows []model.Allocation
	for _, hour := range []time.Time{time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 5, 0, 0, 0, time.UTC)} {
		pod := func(ns, name string, cpu, ram float64) model.Allocation {
			return model.Allocation{Cluster: "prod", Hour: hour, Node: "ip-10-0-1-23", Namespace: ns,
				Workload: model.WorkloadRef{Kind: "Deployment", Name: name}, App: name, Pod: name + "-1", Container: "app",
				RunHours: 1, CPUCoreHours: cpu, RAMByteHours: ram * gib, CPUCost: cpu * c, RAMCost: ram * m}
		}
		rows = append(rows, pod("shop", "web", 1, 4), pod("shop", "api", 0.75, 2), pod("batch", "report", 0.2, 0.25),
			model.Allocation{Cluster: "prod", Hour: hour, Node: "ip-10-0-1-23", Idle: true, RunHours: 1,
				CPUCoreHours: 2.05, RAMByteHours: 9.75 * gib, CPUCost: 2.05 * c, RAMCost: 9.75 * m})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, store.Options{DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.InsertAllocations(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertNodePrices(ctx, []model.NodePrice{{Cluster: "prod", Hour: rows[0].Hour, Node: "ip-10-0-1-23", Currency: "EUR",
		HourlyCost: 0.192, CPUCoreHourCost: c, RAMGiBHourCost: m}}); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	if code := run([]string{"costs", "--clickhouse-dsn", dsn, "--cluster", "prod", "--window",
		"2026-03-02T00:00:00Z,2026-03-04T00:00:00Z", "--by", "namespace", "--format", "focus"}, &stdout, &stderr, noEnv); code != 0 {
		t.Fatalf("reporter costs --format focus = %d: %s", code, stderr.String())
	}
	res, err := bill.Read("costs.csv", &stdout, bill.Options{})
	if err != nil {
		t.Fatalf("tally's FOCUS does not read back: %v", err)
	}
	// The worked example's namespace costs (TestCostsWorkedExample), on each day.
	want := map[string]float64{"__idle__": 0.10489175, "shop": 0.07981178, "batch": 0.00729648}
	if len(res.Lines) != 6 || res.Repaired != 0 {
		t.Fatalf("%d FOCUS rows (%d repaired), want 6: 3 namespaces × 2 days", len(res.Lines), res.Repaired)
	}
	for i, l := range res.Lines {
		day := time.Date(2026, 3, 2+i/3, 0, 0, 0, 0, time.UTC)
		name := l.Tags["namespace"]
		if l.Tags["tally/kind"] == "idle" {
			name = "__idle__"
		}
		w, ok := want[name]
		if !ok || math.Abs(l.BilledCost-w) > 5e-9 || l.EffectiveCost != l.BilledCost || l.Currency != "EUR" ||
			!l.ChargePeriodStart.Equal(day) || !l.ChargePeriodEnd.Equal(day.Add(24*time.Hour)) ||
			l.ResourceID != "prod/"+name || l.Service != "Kubernetes" || l.Tags["tally/cluster"] != "prod" ||
			!l.BillingPeriodStart.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("row %d: %+v; want %s on %s at %.8f EUR", i, l, name, day.Format(time.DateOnly), w)
		}
	}
}
