package collector

import (
	"context"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/prom"
	"github.com/tally-finops/tally/internal/store"
)

// An hour is allocated once, so it must wait for its node prices. When the prices job fails
// (ClickHouse restarting under it, found by the fault suite) the run goes on to the
// allocation job; before, that allocated every hour with usage at zero CPU, RAM and GPU cost
// for good, and the next run did not redo them.
func TestAllocationWaitsForNodePrices(t *testing.T) {
	e := setUpE2E(t, prom.Options{})
	ctx := context.Background()
	// The usage job catches up; the prices job has not run (it failed).
	if err := e.c.usage(ctx, e.now, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.c.allocate(ctx, e.now, nil); err != nil {
		t.Fatal(err)
	}
	w := store.Window{Cluster: "e2e", From: e.from.Truncate(time.Hour), To: e2eEnd}
	if n, err := e.store.CountAllocations(ctx, w); err != nil || n > 0 {
		t.Fatalf("%d cost rows written before any node price (err %v), want none", n, err)
	}
	// The next run prices and then allocates every hour: costs and idle add up to the prices.
	if err := e.c.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// The first hour's usage starts at the backfill's start, 5 minutes in: not whole.
	w.From = w.From.Add(time.Hour)
	costs, prices := e.hourlyCostsAndPrices(t, w)
	var cost, price float64
	for h := range prices {
		cost, price = cost+costs[h], price+prices[h]
	}
	for h := range costs {
		if _, ok := prices[h]; !ok {
			cost += costs[h]
		}
	}
	if price == 0 || cost < price*(1-1e-9) || cost > price*(1+1e-9) {
		t.Errorf("costs and idle add up to %.6f, the node prices to %.6f; want equal", cost, price)
	}
}
