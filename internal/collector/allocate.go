package collector

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/store"
)

// allocate writes the cost rows of every hour whose usage is complete (before the usage
// watermark) and not yet allocated, hour by hour. An hour already in ClickHouse is not
// written again: the daily cost rollup would count it twice.
func (c *Collector) allocate(ctx context.Context, now time.Time, stop <-chan struct{}) error {
	usageDone, err := c.watermark(ctx, JobUsage)
	if err != nil || usageDone.IsZero() {
		return err
	}
	wm, err := c.watermark(ctx, JobAllocation)
	if err != nil {
		return err
	}
	start, _ := catchUpStart(wm, now, c.opts.Backfill, time.Hour)
	start = start.Truncate(time.Hour)
	end := usageDone.Truncate(time.Hour)
	if !start.Before(end) {
		return nil
	}
	snaps, err := c.deps.Store.Nodes(ctx, store.Window{Cluster: c.opts.Cluster, From: start.Add(-24 * time.Hour), To: now.Add(time.Hour)})
	if err != nil {
		return err
	}
	for h := start; h.Before(end); h = h.Add(time.Hour) {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := c.allocateHour(ctx, h, snaps); err != nil {
			return fmt.Errorf("allocate %s: %w", h.Format("2006-01-02T15Z"), err)
		}
		if err := c.setWatermark(ctx, JobAllocation, h.Add(time.Hour), end); err != nil {
			return err
		}
	}
	return nil
}

func (c *Collector) allocateHour(ctx context.Context, h time.Time, snaps []model.Node) error {
	w := store.Window{Cluster: c.opts.Cluster, From: h, To: h.Add(time.Hour)}
	if n, err := c.deps.Store.CountAllocations(ctx, w); err != nil || n > 0 {
		return err
	}
	containers, err := c.deps.Store.ContainerHours(ctx, c.opts.Cluster, h)
	if err != nil {
		return err
	}
	prices, err := c.deps.Store.NodePrices(ctx, w)
	if err != nil {
		return err
	}
	rows, warnings := allocation.Hourly(containers, nodeHours(c.opts.Cluster, h, snaps, prices))
	for _, msg := range warnings {
		c.log.Warn("allocation", "hour", h, "warning", msg)
	}
	if err := c.deps.Store.InsertAllocations(ctx, rows); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("cost_allocations").Add(float64(len(rows)))
	return nil
}

// nodeHours assembles the nodes of hour h: every node priced for the hour or seen in it.
// Capacity comes from the node's latest snapshot taken before the hour's end (else its
// earliest one); the minutes it existed are the minutes it was seen in the hour, or the whole
// hour when it was priced but not seen (hours before the collector ran, whose nodes the
// prices job took from the inventory).
func nodeHours(cluster string, h time.Time, snaps []model.Node, prices []model.NodePrice) []model.NodeHour {
	end := h.Add(time.Hour)
	type seen struct {
		capacity model.Node
		minutes  map[int64]bool
	}
	byNode := map[string]*seen{}
	for _, n := range snaps { // in time order per node
		s := byNode[n.Name]
		if s == nil {
			s = &seen{capacity: n, minutes: map[int64]bool{}}
			byNode[n.Name] = s
		}
		if n.ObservedAt.Before(end) {
			s.capacity = n
		}
		if !n.ObservedAt.Before(h) && n.ObservedAt.Before(end) {
			s.minutes[n.ObservedAt.Truncate(time.Minute).Unix()] = true
		}
	}
	priceOf := map[string]model.NodePrice{}
	for _, p := range prices {
		priceOf[p.Node] = p
	}
	names := map[string]bool{}
	for name := range priceOf {
		names[name] = true
	}
	for name, s := range byNode {
		if len(s.minutes) > 0 {
			names[name] = true
		}
	}
	var out []model.NodeHour
	for name := range names {
		nh := model.NodeHour{Cluster: cluster, Node: name, Hour: h}
		if s := byNode[name]; s != nil {
			nh.CPUCores, nh.RAMBytes, nh.GPUs = s.capacity.CPUCapacityCores, float64(s.capacity.MemoryCapacityBytes), s.capacity.GPUCapacity
			nh.Minutes = len(s.minutes)
		}
		if p, ok := priceOf[name]; ok {
			nh.Price, nh.Priced = p, true
			if nh.Minutes == 0 {
				nh.Minutes = 60
			}
		}
		out = append(out, nh)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}
