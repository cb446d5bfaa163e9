package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/tally-finops/tally/internal/recommend"
	"github.com/tally-finops/tally/internal/store"
)

const day = 24 * time.Hour

// recommendations stores, for every day whose allocation is complete and that has none yet,
// the rightsizing recommendations made at the day's start from the RightsizingWindow before
// it: the history dashboards chart as potential savings over time. A day already stored is
// not written again.
func (c *Collector) recommendations(ctx context.Context, now time.Time, stop <-chan struct{}) error {
	allocated, err := c.watermark(ctx, JobAllocation)
	if err != nil || allocated.IsZero() {
		return err
	}
	wm, err := c.watermark(ctx, JobRecommendations)
	if err != nil {
		return err
	}
	start, _ := catchUpStart(wm, now, c.opts.Backfill, day)
	start = start.Truncate(day)
	last := allocated.Truncate(day) // the day's start must be allocated up to
	for d := start; !d.After(last); d = d.Add(day) {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := c.recommendDay(ctx, d); err != nil {
			return fmt.Errorf("recommendations of %s: %w", d.Format(time.DateOnly), err)
		}
		if err := c.setWatermark(ctx, JobRecommendations, d.Add(day), last.Add(day)); err != nil {
			return err
		}
	}
	return nil
}

func (c *Collector) recommendDay(ctx context.Context, d time.Time) error {
	if n, err := c.deps.Store.CountRecommendations(ctx, store.Window{Cluster: c.opts.Cluster, From: d, To: d.Add(day)}); err != nil || n > 0 {
		return err
	}
	from := d.Add(-c.opts.RightsizingWindow)
	recs, _, err := recommend.Rightsizing(ctx, c.deps.Store, recommend.Request{Cluster: c.opts.Cluster, From: from, To: d, Policy: c.opts.Rightsizing})
	if err != nil {
		return err
	}
	if err := c.deps.Store.InsertRecommendations(ctx, c.opts.Cluster, d, from, d, recs); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("recommendations").Add(float64(len(recs)))
	return nil
}
