package collector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/prom"
	"github.com/tally-finops/tally/internal/store"
)

// A collector run from cron — `collector --once` every hour at :05 — snapshots the nodes from
// the API once an hour. The hours between its runs are still whole node-hours: their minutes
// come from kube-state-metrics' history, so each hour's container costs and idle add up to
// the nodes' prices, as with a continuously running collector. Before, a node counted the one
// minute the collector snapshotted it, and idle was under-reported by 59/60.
func TestCronCollectorCountsWholeNodeHours(t *testing.T) {
	e := setUpE2E(t, prom.Options{})
	ctx := context.Background()
	for i := 3; i >= 0; i-- {
		now := e2eEnd.Add(-time.Duration(i)*time.Hour + 5*time.Minute)
		e.c.now = func() time.Time { return now }
		if err := e.c.RunOnce(ctx); err != nil {
			t.Fatalf("collector --once at %s: %v", now.Format(time.TimeOnly), err)
		}
	}
	// The hours with one inventory snapshot each (at :05), allocated by the next run.
	first, last := e2eEnd.Add(-3*time.Hour), e2eEnd
	w := store.Window{Cluster: "e2e", From: first, To: last}
	cost, price := e.hourlyCostsAndPrices(t, w)
	if len(price) != 3 || len(cost) != 3 {
		t.Fatalf("%d priced hours, %d costed hours in [%s, %s); want 3", len(price), len(cost), first.Format(time.TimeOnly), last.Format(time.TimeOnly))
	}
	for h, p := range price {
		if d := cost[h] - p; d > 1e-9*p || d < -1e-9*p {
			t.Errorf("hour %s: costs and idle add up to %.9f, the nodes' prices to %.9f (%.1f%%)", h.Format("01-02T15"), cost[h], p, 100*cost[h]/p)
		}
	}
}

// hourlyCostsAndPrices sums, per hour of w, the cost rows (containers and idle) and the node
// prices of the synthetic cluster's nodes (e2e-…): conservation says they are equal.
func (e *e2e) hourlyCostsAndPrices(t *testing.T, w store.Window) (cost, price map[time.Time]float64) {
	t.Helper()
	ctx := context.Background()
	rows, err := e.store.Allocations(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	prices, err := e.store.NodePrices(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	cost, price = map[time.Time]float64{}, map[time.Time]float64{}
	for _, r := range rows {
		if strings.HasPrefix(r.Node, "e2e-") {
			cost[r.Hour] += r.TotalCost()
		}
	}
	for _, p := range prices {
		if strings.HasPrefix(p.Node, "e2e-") {
			price[p.Hour] += p.HourlyCost
		}
	}
	return cost, price
}
