package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tally-finops/tally/internal/model"
)

// ErrInsertOutcomeUnknown marks an insert whose batch was (partly) sent when the connection
// failed: the server may or may not have stored it. The store does not re-send such a batch,
// because the rollup views would count it twice if the first copy had landed; the caller
// checks what is there and re-sends only what is missing.
var ErrInsertOutcomeUnknown = errors.New("insert outcome unknown: the batch may or may not have been stored")

// insertColumns sends one batch built column by column: the columns, in the order of the
// statement's column list, as slices of equal length.
func (s *Store) insertColumns(ctx context.Context, op, stmt string, rows int, columns ...any) error {
	if rows == 0 {
		return nil
	}
	return s.sendBatch(ctx, op, stmt, func(b driver.Batch) error {
		for i, c := range columns {
			if err := b.Column(i).Append(c); err != nil {
				return fmt.Errorf("column %d: %w", i, err)
			}
		}
		return nil
	})
}

// insertRows sends one batch built row by row (for the tables that get a few thousand
// rows at a time); row(i) returns row i's values in the statement's column order.
func (s *Store) insertRows(ctx context.Context, op, stmt string, rows int, row func(i int) []any) error {
	if rows == 0 {
		return nil
	}
	return s.sendBatch(ctx, op, stmt, func(b driver.Batch) error {
		for i := 0; i < rows; i++ {
			if err := b.Append(row(i)...); err != nil {
				return fmt.Errorf("row %d: %w", i, err)
			}
		}
		return nil
	})
}

// sendBatch prepares a batch, fills it and sends it as one block, which the server stores
// whole or not at all within each partition. Failures before the send (no connection, server
// busy) are retried; a failure of the send is retried only when it proves nothing was stored
// (sendFailure), else reported as ErrInsertOutcomeUnknown.
func (s *Store) sendBatch(ctx context.Context, op, stmt string, fill func(driver.Batch) error) error {
	return s.do(ctx, op, func(ctx context.Context) error {
		b, err := s.conn.PrepareBatch(ctx, stmt)
		if err != nil {
			return err
		}
		if err := fill(b); err != nil {
			_ = b.Abort()
			return err
		}
		if err := b.Send(); err != nil {
			return sendFailure(err)
		}
		return nil
	})
}

// refusedBeforeStoring are the server errors that, raised after a batch was sent, prove
// that nothing of it was stored: the server checks them before it writes a part.
var refusedBeforeStoring = map[int32]bool{
	202: true, // TOO_MANY_SIMULTANEOUS_QUERIES
	242: true, // TABLE_IS_READ_ONLY
	252: true, // TOO_MANY_PARTS
}

// sendFailure classifies an error of Send. A block is never re-sent unless the error proves
// that it was not stored: a lost connection, a timeout, UNKNOWN_STATUS_OF_INSERT (319), a
// memory limit hit while writing, a materialized view that failed after the table's part was
// written — all may leave the block (or, when it spans partitions, part of it) stored, and a
// re-sent copy would be counted twice by the rollup views. Those are ErrInsertOutcomeUnknown,
// never retried here; the caller checks what is stored.
func sendFailure(err error) error {
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && refusedBeforeStoring[ex.Code] {
		return err // retried: nothing was stored
	}
	return permanent{fmt.Errorf("%w: %w", ErrInsertOutcomeUnknown, err)}
}

func boolToUInt8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// InsertNodes writes node snapshots.
func (s *Store) InsertNodes(ctx context.Context, nodes []model.Node) error {
	return s.insertRows(ctx, "insert nodes", s.q.insertNodes, len(nodes), func(i int) []any {
		x := &nodes[i]
		keys, values := model.SortedLabels(x.Labels)
		return []any{x.Cluster, x.ObservedAt, x.Name, x.InstanceType, x.Region, x.Zone, x.CapacityType,
			x.CPUCapacityCores, x.CPUAllocatableCores, x.MemoryCapacityBytes, x.MemoryAllocatableBytes,
			x.GPUCapacity, x.GPUAllocatable, keys, values}
	})
}

// InsertNamespaces writes namespace snapshots.
func (s *Store) InsertNamespaces(ctx context.Context, ns []model.Namespace) error {
	return s.insertRows(ctx, "insert namespaces", s.q.insertNamespaces, len(ns), func(i int) []any {
		x := &ns[i]
		keys, values := model.SortedLabels(x.Labels)
		return []any{x.Cluster, x.ObservedAt, x.Name, keys, values}
	})
}

// InsertContainers writes container snapshots.
func (s *Store) InsertContainers(ctx context.Context, cs []model.Container) error {
	return s.insertRows(ctx, "insert containers", s.q.insertContainers, len(cs), func(i int) []any {
		x := &cs[i]
		keys, values := model.SortedLabels(x.Labels)
		return []any{x.Cluster, x.ObservedAt, x.Namespace, x.Pod, x.PodUID, x.Container, boolToUInt8(x.Init),
			x.Node, x.Phase, x.QoSClass, x.Workload.Kind, x.Workload.Name,
			x.CPURequestCores, x.CPULimitCores, x.MemoryRequestBytes, x.MemoryLimitBytes, x.GPURequest,
			epochIfZero(x.StartedAt), epochIfZero(x.FinishedAt), x.RestartCount, x.LastTerminationReason, keys, values}
	})
}

// InsertUsageSamples writes 1-minute usage samples. This is the hot path: one call per
// collected interval. The rows are sent in the table's sort order (sorting an index here when
// the caller's order differs): ClickHouse then skips its own sort and the rollup views
// aggregate runs of equal keys, which doubles the insert rate on a 2-core 18.16 server
// (docs/benchmarks.md).
func (s *Store) InsertUsageSamples(ctx context.Context, samples []model.UsageSample) error {
	n := len(samples)
	order := usageSampleOrder(samples)
	var (
		cluster, ns, wkind, wname, pod, ctr = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ts                                  = make([]time.Time, n)
		cpu, throttled, periods             = make([]float64, n), make([]float64, n), make([]float64, n)
		mem                                 = make([]uint64, n)
	)
	for i := range samples {
		x := &samples[i]
		if order != nil {
			x = &samples[order[i]]
		}
		cluster[i], ts[i], ns[i], wkind[i], wname[i] = x.Cluster, x.Timestamp, x.Namespace, x.Workload.Kind, x.Workload.Name
		pod[i], ctr[i] = x.Pod, x.Container
		cpu[i], mem[i], throttled[i], periods[i] = x.CPUUsageCores, x.MemoryWorkingSetBytes, x.CPUThrottledPeriods, x.CPUPeriods
	}
	return s.insertColumns(ctx, "insert usage samples", s.q.insertUsageSamples, n,
		cluster, ts, ns, wkind, wname, pod, ctr, cpu, mem, throttled, periods)
}

// compareUsageSamples orders samples as usage_samples' sort key does: cluster, namespace,
// workload kind and name, container, pod, time.
func compareUsageSamples(a, b *model.UsageSample) int {
	if c := cmp.Compare(a.Cluster, b.Cluster); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Workload.Kind, b.Workload.Kind); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Workload.Name, b.Workload.Name); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Container, b.Container); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Pod, b.Pod); c != 0 {
		return c
	}
	return a.Timestamp.Compare(b.Timestamp)
}

// usageSampleOrder returns nil when samples are already in sort-key order, and otherwise
// the indexes of samples in that order. The caller's slice is left as it is.
func usageSampleOrder(samples []model.UsageSample) []int32 {
	sorted := true
	for i := 1; i < len(samples) && sorted; i++ {
		sorted = compareUsageSamples(&samples[i-1], &samples[i]) <= 0
	}
	if sorted {
		return nil
	}
	order := make([]int32, len(samples))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return compareUsageSamples(&samples[a], &samples[b]) })
	return order
}

// InsertContainerEvents writes container events.
func (s *Store) InsertContainerEvents(ctx context.Context, events []model.ContainerEvent) error {
	return s.insertRows(ctx, "insert container events", s.q.insertContainerEvents, len(events), func(i int) []any {
		x := &events[i]
		return []any{x.Cluster, x.Timestamp, x.Namespace, x.Workload.Kind, x.Workload.Name, x.Pod, x.Container,
			x.Node, x.Kind, x.Reason, x.Message, x.Count, x.MemoryLimitBytes}
	})
}

// InsertNodePrices writes hourly node prices.
func (s *Store) InsertNodePrices(ctx context.Context, prices []model.NodePrice) error {
	return s.insertRows(ctx, "insert node prices", s.q.insertNodePrices, len(prices), func(i int) []any {
		x := &prices[i]
		return []any{x.Cluster, x.Hour, x.Node, x.InstanceType, x.CapacityType, x.Currency,
			x.HourlyCost, x.CPUCoreHourCost, x.RAMGiBHourCost, x.GPUHourCost, x.Source}
	})
}

// InsertAllocations writes hourly cost rows (container rows and idle rows).
func (s *Store) InsertAllocations(ctx context.Context, rows []model.Allocation) error {
	return s.insertRows(ctx, "insert cost allocations", s.q.insertCostAllocations, len(rows), func(i int) []any {
		x := &rows[i]
		keys, values := model.SortedLabels(x.Labels)
		return []any{x.Cluster, x.Hour, x.Node, x.Namespace, x.Workload.Kind, x.Workload.Name, x.App, x.Pod,
			x.Container, boolToUInt8(x.Idle), keys, values, x.RunHours,
			x.CPUCoreHours, x.CPURequestCoreHours, x.CPUUsageCoreHours,
			x.RAMByteHours, x.RAMRequestByteHours, x.RAMUsageByteHours,
			x.GPUHours, x.CPUCost, x.RAMCost, x.GPUCost}
	})
}

// InsertAutoscalers writes a snapshot of the autoscalers taken at `at`.
func (s *Store) InsertAutoscalers(ctx context.Context, at time.Time, as []model.Autoscaler) error {
	return s.insertRows(ctx, "insert autoscalers", s.q.insertAutoscalers, len(as), func(i int) []any {
		x := &as[i]
		resources := x.Resources
		if resources == nil {
			resources = []string{}
		}
		return []any{x.Cluster, at, x.Namespace, x.Name, x.Target.Kind, x.Target.Name, x.MinReplicas, x.MaxReplicas, resources}
	})
}

// SetWatermark records that job has collected everything before w.Time. A later call wins,
// also when it moves the watermark back.
func (s *Store) SetWatermark(ctx context.Context, w model.Watermark) error {
	now := time.Now().UTC()
	return s.insertRows(ctx, "set watermark", s.q.insertWatermarks, 1, func(int) []any {
		return []any{w.Cluster, w.Job, w.Time, now, uint64(now.UnixNano())}
	})
}

// epochIfZero maps Go's zero time, which DateTime cannot hold, to the Unix epoch, which the
// reads map back to the zero time.
func epochIfZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t
}
