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

// allocate writes the cost rows of every hour whose usage and node prices are complete
// (before the usage and the prices watermarks) and not yet allocated, hour by hour. An hour already in ClickHouse is not
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
	// An hour is allocated once, so only when its usage and its node prices are final: the
	// prices watermark is the first hour not priced for good (the prices job failed, or is
	// waiting for the hour's node history).
	pricesDone, err := c.watermark(ctx, JobPrices)
	if err != nil {
		return err
	}
	start, _ := catchUpStart(wm, now, c.opts.Backfill, time.Hour)
	start = start.Truncate(time.Hour)
	end := usageDone.Truncate(time.Hour)
	if pricesDone.Before(end) {
		end = pricesDone.Truncate(time.Hour)
	}
	if !start.Before(end) {
		return nil
	}
	live := c.deps.Inventory.Nodes(now)
	for h := start; h.Before(end); h = h.Add(time.Hour) {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := c.allocateHour(ctx, h, live); err != nil {
			return fmt.Errorf("allocate %s: %w", h.Format("2006-01-02T15Z"), err)
		}
		if err := c.setWatermark(ctx, JobAllocation, h.Add(time.Hour), end); err != nil {
			return err
		}
	}
	return nil
}

// allocateHour writes the cost rows of hour h: its volumes' (allocateVolumes), then its
// containers' and nodes' idle rows. Each kind is written once, as one block, when the hour
// has none of it yet, so an allocation killed between the two finishes the second next time.
func (c *Collector) allocateHour(ctx context.Context, h time.Time, live []model.Node) error {
	w := store.Window{Cluster: c.opts.Cluster, From: h, To: h.Add(time.Hour)}
	if err := c.allocateVolumes(ctx, w); err != nil {
		return err
	}
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
	seen, err := c.deps.Store.NodeHours(ctx, w)
	if err != nil {
		return err
	}
	rows, warnings := allocation.Hourly(containers, nodeHours(c.opts.Cluster, h, seen, prices, live))
	for _, msg := range warnings {
		c.log.Warn("allocation", "hour", h, "warning", msg)
	}
	if err := c.deps.Store.InsertAllocations(ctx, rows); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("cost_allocations").Add(float64(len(rows)))
	return nil
}

// nodeHours assembles the nodes of hour h: every node seen in it or priced for it. The
// minutes a node existed are the minutes it was seen in, counted in ClickHouse from the
// inventory's snapshots and kube-state-metrics' history alike — so a collector run hourly
// with --once, a restarted one and a continuously running one count the same minutes. A node
// priced but never seen in the hour (an hour without kube-state-metrics history before the
// collector ran, which the prices job priced with the nodes of the day) counts the whole
// hour, with its capacity from the inventory.
func nodeHours(cluster string, h time.Time, seen []model.NodeSeen, prices []model.NodePrice, live []model.Node) []model.NodeHour {
	byNode := map[string]model.NodeSeen{}
	for _, s := range seen {
		byNode[s.Node.Name] = s
	}
	liveNode := map[string]model.Node{}
	for _, n := range live {
		liveNode[n.Name] = n
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
		if s.Minutes > 0 {
			names[name] = true
		}
	}
	var out []model.NodeHour
	for name := range names {
		nh := model.NodeHour{Cluster: cluster, Node: name, Hour: h}
		capacity, ok := byNode[name]
		if ok {
			nh.Minutes = capacity.Minutes
		} else {
			capacity.Node, ok = liveNode[name]
		}
		if ok {
			nh.CPUCores, nh.RAMBytes, nh.GPUs = capacity.Node.CPUCapacityCores, float64(capacity.Node.MemoryCapacityBytes), capacity.Node.GPUCapacity
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

// allocateVolumes writes the volume cost rows of the hour w, unless it has some: each volume
// seen in the hour priced by the price book and split over the pods of its claim
// (allocation.Volumes).
func (c *Collector) allocateVolumes(ctx context.Context, w store.Window) error {
	if n, err := c.deps.Store.CountVolumeAllocations(ctx, w); err != nil || n > 0 {
		return err
	}
	seen, err := c.deps.Store.VolumeHours(ctx, w)
	if err != nil || len(seen) == 0 {
		return err
	}
	pods, err := c.deps.Store.ClaimPods(ctx, w.Cluster, w.From)
	if err != nil {
		return err
	}
	volumes := make([]model.VolumeHour, 0, len(seen))
	for _, s := range seen {
		v := s.Volume
		p, ok := c.deps.Prices.PriceVolume(v)
		p.Hour = w.From
		volumes = append(volumes, model.VolumeHour{Cluster: w.Cluster, Volume: v.Name, Hour: w.From, Minutes: s.Minutes,
			CapacityBytes: float64(v.CapacityBytes), ClaimNamespace: v.ClaimNamespace, ClaimName: v.ClaimName, Price: p, Priced: ok})
	}
	rows, warnings := allocation.Volumes(volumes, pods)
	// A price book without storage prices leaves every volume unpriced, every hour: a few
	// warnings say so, not one per volume.
	const shown = 3
	for i, msg := range warnings[:min(len(warnings), shown)] {
		if i == shown-1 && len(warnings) > shown {
			msg = fmt.Sprintf("%s (and %d more warnings this hour)", msg, len(warnings)-shown)
		}
		c.log.Warn("volume allocation", "hour", w.From, "warning", msg)
	}
	if err := c.deps.Store.InsertVolumeAllocations(ctx, rows); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("volume_allocations").Add(float64(len(rows)))
	return nil
}
