package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/store"
)

// inventory writes a snapshot of the cluster's nodes, namespaces, containers, persistent
// volumes and the claims pods mount as the API shows them now, and the container events not
// written yet.
func (c *Collector) inventory(ctx context.Context, now time.Time, _ <-chan struct{}) error {
	at := now.Truncate(time.Minute)
	nodes := c.deps.Inventory.Nodes(at)
	if err := c.deps.Store.InsertNodes(ctx, nodes); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("nodes").Add(float64(len(nodes)))
	namespaces := c.deps.Inventory.Namespaces(at)
	if err := c.deps.Store.InsertNamespaces(ctx, namespaces); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("namespaces").Add(float64(len(namespaces)))
	containers := c.deps.Inventory.Containers(at)
	if err := c.deps.Store.InsertContainers(ctx, containers); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("containers").Add(float64(len(containers)))
	autoscalers := c.deps.Inventory.Autoscalers()
	if err := c.deps.Store.InsertAutoscalers(ctx, at, autoscalers); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("autoscalers").Add(float64(len(autoscalers)))
	volumes := c.deps.Inventory.Volumes(at)
	if err := c.deps.Store.InsertVolumes(ctx, volumes); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("volumes").Add(float64(len(volumes)))
	claims := c.deps.Inventory.PodClaims(at)
	if err := c.deps.Store.InsertPodClaims(ctx, claims); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("pod_claims").Add(float64(len(claims)))
	if err := c.writeEvents(ctx, c.deps.Inventory.Events()); err != nil {
		return err
	}
	return c.setWatermark(ctx, JobInventory, at.Add(time.Minute), at.Add(time.Minute))
}

// eventMemory is how long the collector remembers the events it wrote, by their time: the
// Kubernetes API keeps events for an hour (the kube-apiserver's default --event-ttl), so the
// inventory offers an event again for at most that long. An event offered again after it is
// forgotten (kube-state-metrics steps re-read during a catch-up) is written again, which is
// harmless: container_events replaces a row with the same key.
const eventMemory = 3 * time.Hour

// writeEvents writes the events this process has not written yet. Writing one again (after
// a restart) is harmless: container_events replaces a row with the same key. The memory of
// written events is bounded by eventMemory, so it does not grow for the life of the process.
func (c *Collector) writeEvents(ctx context.Context, events []model.ContainerEvent) error {
	var fresh []model.ContainerEvent
	for _, e := range events {
		if e.Cluster == "" {
			e.Cluster = c.opts.Cluster
		}
		if _, written := c.events[eventKey(e)]; !written {
			fresh = append(fresh, e)
		}
	}
	if err := c.deps.Store.InsertContainerEvents(ctx, fresh); err != nil {
		return err
	}
	for _, e := range fresh {
		c.events[eventKey(e)] = e.Timestamp
	}
	forgetEvents(c.events, c.now().Add(-eventMemory))
	c.metrics.rowsWritten.WithLabelValues("container_events").Add(float64(len(fresh)))
	return nil
}

// forgetEvents drops the written events older than cutoff.
func forgetEvents(written map[string]time.Time, cutoff time.Time) {
	for k, at := range written {
		if at.Before(cutoff) {
			delete(written, k)
		}
	}
}

// withoutKillsSeen takes from kube-state-metrics' OOM kill events (one per container and
// step, from the restart counter) the kills the Kubernetes API already reported: the
// inventory records each kill it sees at the container's finish time, so a kill in (step −
// step duration, step] would otherwise be counted twice. What the API did not see (the
// collector was down, or several kills between two looks) stays.
func withoutKillsSeen(events, stored []model.ContainerEvent, step time.Duration) []model.ContainerEvent {
	type key struct{ namespace, pod, container string }
	seen := map[key][]time.Time{}
	for _, e := range stored {
		// The API's kills are stamped with their finish time, never a step's multiple
		// (to the second) but by chance; the steps' own events are.
		if e.Kind == model.EventOOMKill && e.Reason == "OOMKilled" && !e.Timestamp.Equal(e.Timestamp.Truncate(step)) {
			k := key{e.Namespace, e.Pod, e.Container}
			seen[k] = append(seen[k], e.Timestamp)
		}
	}
	out := events[:0:0]
	for _, e := range events {
		if e.Kind == model.EventOOMKill && e.Reason == "OOMKilled" {
			n := uint32(0)
			for _, at := range seen[key{e.Namespace, e.Pod, e.Container}] {
				if at.After(e.Timestamp.Add(-step)) && !at.After(e.Timestamp) {
					n++
				}
			}
			if n >= max(e.Count, 1) {
				continue
			}
			e.Count = max(e.Count, 1) - n
		}
		out = append(out, e)
	}
	return out
}

func eventKey(e model.ContainerEvent) string {
	return fmt.Sprintf("%s/%s/%s/%s/%s/%d", e.Namespace, e.Pod, e.Container, e.Kind, e.Reason, e.Timestamp.Unix())
}

// usage writes the per-minute usage of every completed interval since the watermark, chunk
// by chunk, moving the watermark after each chunk. At shutdown it stops after the chunk in
// flight; the next start resumes at the watermark.
func (c *Collector) usage(ctx context.Context, now time.Time, stop <-chan struct{}) error {
	end := now.Add(-c.opts.UsageDelay).Truncate(c.opts.UsageEvery)
	wm, err := c.watermark(ctx, JobUsage)
	if err != nil {
		return err
	}
	start, lost := catchUpStart(wm, now, c.opts.Backfill, time.Minute)
	if lost > 0 {
		c.metrics.lostSeconds.WithLabelValues(JobUsage).Add(lost.Seconds())
		c.log.Warn("usage history older than --backfill is not collected", "from", wm, "to", start, "span", lost)
	}
	if !start.Before(end) {
		return nil
	}
	workloads := workloadIndex(c.deps.Inventory.Containers(now))
	for _, iv := range chunks(start, end, c.opts.Chunk) {
		select {
		case <-stop:
			c.log.Info("shutting down: usage stops at its watermark", "watermark", iv.From)
			return nil
		default:
		}
		if err := c.usageInterval(ctx, iv, workloads); err != nil {
			return fmt.Errorf("usage %s: %w", iv, err)
		}
		if err := c.setWatermark(ctx, JobUsage, iv.To, end); err != nil {
			return err
		}
	}
	return nil
}

// usageInterval writes one interval: the inventory kube-state-metrics knew then (pods that
// may be gone since), and the usage samples with their workloads.
func (c *Collector) usageInterval(ctx context.Context, iv Interval, workloads map[podKey]podInfo) error {
	ks, err := c.deps.Prom.KubeState(ctx, iv.From, iv.To, c.opts.KubeStateStep)
	if err != nil {
		return err
	}
	if ks.Present {
		for i := range ks.Containers {
			ct := &ks.Containers[i]
			ct.Cluster = c.opts.Cluster
			k := podKey{ct.Namespace, ct.Pod}
			// kube-state-metrics carries no pod labels unless allow-listed: a pod the API
			// server still has lends its labels (team, app) to its history.
			if live, ok := workloads[k]; ok && len(ct.Labels) == 0 {
				ct.Labels = live.labels
			}
			workloads[k] = podInfo{workload: ct.Workload, labels: ct.Labels}
		}
		if err := c.deps.Store.InsertContainers(ctx, ks.Containers); err != nil {
			return err
		}
		c.metrics.rowsWritten.WithLabelValues("containers").Add(float64(len(ks.Containers)))
		events := ks.Events
		if len(events) > 0 {
			stored, err := c.deps.Store.ContainerEvents(ctx, store.Window{Cluster: c.opts.Cluster, From: iv.From.Add(-c.opts.KubeStateStep), To: iv.To})
			if err != nil {
				return err
			}
			events = withoutKillsSeen(events, stored, c.opts.KubeStateStep)
		}
		if err := c.writeEvents(ctx, events); err != nil {
			return err
		}
	}

	// The nodes that existed in each minute, from kube-state-metrics: what the allocation
	// counts node minutes from, whether or not the collector watched the API then. The
	// attributes (instance type, zone, labels) are the inventory's, for the nodes it knows.
	if err := c.nodeHistory(ctx, iv); err != nil {
		return err
	}
	// The same for persistent volumes and the claims pods mount.
	if err := c.volumeHistory(ctx, iv); err != nil {
		return err
	}

	// An interval is written as one block, and a block lands whole within each partition (a
	// UTC day), so a minute is written whole or not at all. Minutes there mean an earlier run
	// wrote a chunk starting at the same watermark and stopped before moving it; that chunk
	// may have ended before this one. Its minutes are not written again (the rollups would
	// count them twice), the others are.
	written, err := c.deps.Store.UsageMinutes(ctx, store.Window{Cluster: c.opts.Cluster, From: iv.From, To: iv.To})
	if err != nil {
		return err
	}
	if len(written) == int(iv.To.Sub(iv.From)/time.Minute) {
		c.log.Warn("usage interval already written by an earlier run, not written again", "interval", iv.String())
		return nil
	}
	samples, err := c.deps.Prom.Usage(ctx, iv.From, iv.To)
	if err != nil {
		return err
	}
	if len(written) > 0 {
		done := make(map[int64]bool, len(written))
		for _, m := range written {
			done[m.Unix()] = true
		}
		kept := samples[:0]
		for _, s := range samples {
			if !done[s.Timestamp.Unix()] {
				kept = append(kept, s)
			}
		}
		c.log.Warn("usage interval partly written by an earlier run: only its other minutes are written",
			"interval", iv.String(), "minutes written", len(written), "samples dropped", len(samples)-len(kept))
		samples = kept
	}
	for i := range samples {
		s := &samples[i]
		s.Cluster = c.opts.Cluster
		if p, ok := workloads[podKey{s.Namespace, s.Pod}]; ok {
			s.Workload = p.workload
		} else {
			s.Workload = model.WorkloadRef{Kind: "Pod", Name: s.Pod}
		}
	}
	if err := c.deps.Store.InsertUsageSamples(ctx, samples); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("usage_samples").Add(float64(len(samples)))
	return nil
}

// nodeHistory writes a snapshot of every node kube-state-metrics reported in each minute of
// iv, with the attributes the inventory has for it (none for a node the API no longer has:
// the allocation then takes them from the node's earlier snapshots, see
// select_node_hours.sql).
func (c *Collector) nodeHistory(ctx context.Context, iv Interval) error {
	nodes, err := c.deps.Prom.NodeHistory(ctx, iv.From, iv.To)
	if err != nil || len(nodes) == 0 {
		return err
	}
	live := map[string]model.Node{}
	for _, n := range c.deps.Inventory.Nodes(iv.To) {
		live[n.Name] = n
	}
	for i := range nodes {
		n := &nodes[i]
		n.Cluster = c.opts.Cluster
		if l, ok := live[n.Name]; ok {
			n.InstanceType, n.Region, n.Zone, n.CapacityType, n.Labels = l.InstanceType, l.Region, l.Zone, l.CapacityType, l.Labels
		}
	}
	if err := c.deps.Store.InsertNodes(ctx, nodes); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("nodes").Add(float64(len(nodes)))
	return nil
}

// volumeHistory writes a snapshot of every volume kube-state-metrics reported in each minute
// of iv, with the provisioner and type of its StorageClass and the labels the inventory has
// for it, and the claims pods mounted (see prom.VolumeHistory).
func (c *Collector) volumeHistory(ctx context.Context, iv Interval) error {
	volumes, claims, err := c.deps.Prom.VolumeHistory(ctx, iv.From, iv.To)
	if err != nil || len(volumes)+len(claims) == 0 {
		return err
	}
	classes := c.deps.Inventory.StorageClasses()
	labels := map[string]map[string]string{}
	for _, v := range c.deps.Inventory.Volumes(iv.To) {
		labels[v.Name] = v.Labels
	}
	for i := range volumes {
		v := &volumes[i]
		v.Cluster, v.Labels = c.opts.Cluster, labels[v.Name]
		if sc, ok := classes[v.StorageClass]; ok {
			v.Provisioner, v.Type = sc.Provisioner, sc.Type
		}
	}
	for i := range claims {
		claims[i].Cluster = c.opts.Cluster
	}
	if err := c.deps.Store.InsertVolumes(ctx, volumes); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("volumes").Add(float64(len(volumes)))
	if err := c.deps.Store.InsertPodClaims(ctx, claims); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("pod_claims").Add(float64(len(claims)))
	return nil
}

type podKey struct{ namespace, pod string }

// podInfo is what the usage job knows of a pod: its workload and its labels.
type podInfo struct {
	workload model.WorkloadRef
	labels   map[string]string
}

func workloadIndex(containers []model.Container) map[podKey]podInfo {
	m := make(map[podKey]podInfo, len(containers))
	for _, ct := range containers {
		m[podKey{ct.Namespace, ct.Pod}] = podInfo{workload: ct.Workload, labels: ct.Labels}
	}
	return m
}

// prices writes the price of every node for every hour since the watermark, the current hour
// included. The watermark stops at the current hour, so the next run prices it again with the
// nodes that joined during it (a price row with the same key replaces the old one).
func (c *Collector) prices(ctx context.Context, now time.Time, _ <-chan struct{}) error {
	current := now.Truncate(time.Hour)
	wm, err := c.watermark(ctx, JobPrices)
	if err != nil {
		return err
	}
	start, _ := catchUpStart(wm, now, c.opts.Backfill, time.Hour)
	end := current.Add(time.Hour)
	seen, err := c.deps.Store.NodeHours(ctx, store.Window{Cluster: c.opts.Cluster, From: start.Truncate(time.Hour), To: end})
	if err != nil {
		return err
	}
	byHour := map[time.Time]map[string]model.Node{}
	for _, s := range seen {
		h := s.Node.ObservedAt
		if byHour[h] == nil {
			byHour[h] = map[string]model.Node{}
		}
		byHour[h][s.Node.Name] = s.Node // as its latest snapshot of the hour has it
	}
	usageDone, err := c.watermark(ctx, JobUsage)
	if err != nil {
		return err
	}
	currentNodes := c.deps.Inventory.Nodes(now)
	var rows []model.NodePrice
	priced := current
	for h := start.Truncate(time.Hour); h.Before(end); h = h.Add(time.Hour) {
		nodes := byHour[h]
		if len(nodes) == 0 && usageDone.Before(h.Add(time.Hour)) {
			// No snapshot of the hour yet, and its kube-state-metrics history is not read
			// yet (the usage job is behind, Prometheus down): wait for it rather than price
			// the hour with today's nodes for good.
			priced = h
			break
		}
		if len(nodes) == 0 {
			// No snapshot of that hour although its history was read: before the collector
			// ran, and no kube-state-metrics. Today's nodes stand in.
			nodes = map[string]model.Node{}
			for _, n := range currentNodes {
				nodes[n.Name] = n
			}
		}
		for _, n := range nodes {
			p := c.deps.Prices.Price(n)
			p.Cluster, p.Hour = c.opts.Cluster, h
			rows = append(rows, p)
		}
	}
	if err := c.deps.Store.InsertNodePrices(ctx, rows); err != nil {
		return err
	}
	c.metrics.rowsWritten.WithLabelValues("node_prices").Add(float64(len(rows)))
	return c.setWatermark(ctx, JobPrices, priced, current)
}

// retention drops raw partitions older than Options.Retention.
func (c *Collector) retention(ctx context.Context, now time.Time, _ <-chan struct{}) error {
	if c.opts.Retention <= 0 {
		return nil
	}
	before := now.Add(-c.opts.Retention)
	for _, table := range []string{"usage_samples", "containers", "nodes", "container_events", "namespaces", "volumes", "pod_claims"} {
		dropped, err := c.deps.Store.DropPartitionsBefore(ctx, table, before)
		if err != nil {
			return err
		}
		if len(dropped) > 0 {
			c.log.Info("retention dropped partitions", "table", table, "partitions", dropped)
		}
	}
	return nil
}
