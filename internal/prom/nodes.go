package prom

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// The nodes' history. kube-state-metrics exports a node's capacity and allocatable for as
// long as the node exists; a deleted node's series end (Prometheus marks them stale at the
// next scrape).
const (
	queryNodeCapacity    = `max by (node, resource) (kube_node_status_capacity{resource=~"cpu|memory|nvidia_com_gpu"})`
	queryNodeAllocatable = `max by (node, resource) (kube_node_status_allocatable{resource=~"cpu|memory|nvidia_com_gpu"})`
)

type nodeResourceLabels struct {
	Node     string `json:"node"`
	Resource string `json:"resource"`
}

// NodeHistory returns, for every minute m of [from, to) (both minute-aligned), one
// model.Node per node kube-state-metrics reported at m, with its capacity and allocatable:
// which nodes existed in each minute, whether or not anything watched the Kubernetes API
// then. A reading at m is the latest sample within Prometheus's lookback, so a node exists
// from its first scrape to its last (to within a scrape interval). Only the name and the
// resources are known here: the caller adds the attributes it knows from the API (instance
// type, zone, labels). Two range queries per call, of nodes × 3 series.
func (c *Client) NodeHistory(ctx context.Context, from, to time.Time) ([]model.Node, error) {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) || !from.Truncate(time.Minute).Equal(from) || !to.Truncate(time.Minute).Equal(to) {
		return nil, fmt.Errorf("node history %s: want a non-empty window of whole minutes", windowString(from, to))
	}
	points := int(to.Sub(from) / time.Minute)
	var capacity, allocatable *table[nodeResourceLabels]
	err := runTasks(ctx, 2, c.opts.Concurrency, func(ctx context.Context, i int) error {
		var err error
		if i == 0 {
			capacity, err = fetch[nodeResourceLabels](ctx, c, rangeRequest("node capacity", queryNodeCapacity, from, time.Minute, points), 0)
		} else {
			allocatable, err = fetch[nodeResourceLabels](ctx, c, rangeRequest("node allocatable", queryNodeAllocatable, from, time.Minute, points), 0)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	type key struct {
		node string
		at   int
	}
	byKey := map[key]*model.Node{}
	var order []key
	set := func(t *table[nodeResourceLabels], alloc bool) {
		for i, l := range t.labels {
			for j := range points {
				v := t.at(i, j)
				if math.IsNaN(v) { // no reading at this minute
					continue
				}
				k := key{l.Node, j}
				n := byKey[k]
				if n == nil {
					if alloc {
						continue // a node exists where its capacity is reported
					}
					n = &model.Node{Name: l.Node, ObservedAt: from.Add(time.Duration(j) * time.Minute)}
					byKey[k] = n
					order = append(order, k)
				}
				switch {
				case l.Resource == "cpu" && !alloc:
					n.CPUCapacityCores = v
				case l.Resource == "cpu":
					n.CPUAllocatableCores = v
				case l.Resource == "memory" && !alloc:
					n.MemoryCapacityBytes = uint64(v)
				case l.Resource == "memory":
					n.MemoryAllocatableBytes = uint64(v)
				case l.Resource == "nvidia_com_gpu" && !alloc:
					n.GPUCapacity = v
				case l.Resource == "nvidia_com_gpu":
					n.GPUAllocatable = v
				}
			}
		}
	}
	set(capacity, false)
	set(allocatable, true)
	out := make([]model.Node, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	slices.SortFunc(out, func(a, b model.Node) int {
		if c := a.ObservedAt.Compare(b.ObservedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}
