package store

import (
	"context"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tally-finops/tally/internal/model"
)

// Window is a half-open time range [From, To) of one cluster.
type Window struct {
	Cluster  string
	From, To time.Time
}

func (w Window) args() []any {
	return []any{
		clickhouse.Named("cluster", w.Cluster),
		clickhouse.Named("from", w.From.Unix()),
		clickhouse.Named("to", w.To.Unix()),
	}
}

// query runs a select with retries and hands every row to scan. Rows read before a failed
// attempt are dropped by reset, so a retry never duplicates them.
func (s *Store) query(ctx context.Context, op, stmt string, args []any, reset func(), scan func(driver.Rows) error) error {
	return s.do(ctx, op, func(ctx context.Context) error {
		reset()
		rows, err := s.conn.Query(ctx, stmt, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// selectAll runs a select over a window and collects one T per row.
func selectAll[T any](ctx context.Context, s *Store, op, stmt string, w Window, scan func(driver.Rows, *T) error) ([]T, error) {
	var out []T
	err := s.query(ctx, op, stmt, w.args(), func() { out = out[:0] }, func(r driver.Rows) error {
		var x T
		if err := scan(r, &x); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// Nodes returns the node snapshots taken in w.
func (s *Store) Nodes(ctx context.Context, w Window) ([]model.Node, error) {
	return selectAll(ctx, s, "select nodes", s.q.selectNodes, w, func(r driver.Rows, x *model.Node) error {
		var keys, values []string
		err := r.Scan(&x.Cluster, &x.ObservedAt, &x.Name, &x.InstanceType, &x.Region, &x.Zone, &x.CapacityType,
			&x.CPUCapacityCores, &x.CPUAllocatableCores, &x.MemoryCapacityBytes, &x.MemoryAllocatableBytes,
			&x.GPUCapacity, &x.GPUAllocatable, &keys, &values)
		x.ObservedAt = x.ObservedAt.UTC()
		x.Labels = model.LabelMap(keys, values)
		return err
	})
}

// NodeHours returns, per clock hour of w and node seen in it, the minutes it was seen in and
// the node as of its latest snapshot of the hour (ObservedAt the hour; attributes from the
// latest snapshot that has an instance type), ordered by hour and node.
func (s *Store) NodeHours(ctx context.Context, w Window) ([]model.NodeSeen, error) {
	return selectAll(ctx, s, "select node hours", s.q.selectNodeHours, w, func(r driver.Rows, x *model.NodeSeen) error {
		var (
			keys, values []string
			minutes      uint64
			n            = &x.Node
		)
		err := r.Scan(&n.ObservedAt, &n.Name, &minutes, &n.InstanceType, &n.Region, &n.Zone, &n.CapacityType,
			&n.CPUCapacityCores, &n.CPUAllocatableCores, &n.MemoryCapacityBytes, &n.MemoryAllocatableBytes,
			&n.GPUCapacity, &n.GPUAllocatable, &keys, &values)
		n.Cluster, n.ObservedAt = w.Cluster, n.ObservedAt.UTC()
		n.Labels = model.LabelMap(keys, values)
		x.Minutes = int(minutes)
		return err
	})
}

// NamespaceLabels returns each namespace of w's cluster as its latest snapshot before w's
// end had it (its first snapshot when all are later: history backfilled), sorted by name:
// the labels cost reports fall back to for a label a pod does not carry.
// Only the window's end matters: a snapshot before its start may still be the latest.
func (s *Store) NamespaceLabels(ctx context.Context, w Window) ([]model.Namespace, error) {
	var out []model.Namespace
	args := []any{clickhouse.Named("cluster", w.Cluster), clickhouse.Named("to", w.To.Unix())}
	err := s.query(ctx, "select namespace labels", s.q.selectNamespaceLabels, args, func() { out = out[:0] }, func(r driver.Rows) error {
		var (
			x            model.Namespace
			keys, values []string
		)
		if err := r.Scan(&x.Cluster, &x.ObservedAt, &x.Name, &keys, &values); err != nil {
			return err
		}
		x.ObservedAt = x.ObservedAt.UTC()
		x.Labels = model.LabelMap(keys, values)
		out = append(out, x)
		return nil
	})
	return out, err
}

// Containers returns the container snapshots taken in w.
func (s *Store) Containers(ctx context.Context, w Window) ([]model.Container, error) {
	return selectAll(ctx, s, "select containers", s.q.selectContainers, w, func(r driver.Rows, x *model.Container) error {
		var (
			keys, values []string
			init         uint8
		)
		err := r.Scan(&x.Cluster, &x.ObservedAt, &x.Namespace, &x.Pod, &x.PodUID, &x.Container, &init, &x.Node,
			&x.Phase, &x.QoSClass, &x.Workload.Kind, &x.Workload.Name, &x.CPURequestCores, &x.CPULimitCores,
			&x.MemoryRequestBytes, &x.MemoryLimitBytes, &x.GPURequest, &x.StartedAt, &x.FinishedAt,
			&x.RestartCount, &x.LastTerminationReason, &keys, &values)
		x.Init = init == 1
		x.ObservedAt, x.StartedAt, x.FinishedAt = x.ObservedAt.UTC(), zeroIfEpoch(x.StartedAt), zeroIfEpoch(x.FinishedAt)
		x.Labels = model.LabelMap(keys, values)
		return err
	})
}

// UsageSamples returns the 1-minute usage samples in w.
func (s *Store) UsageSamples(ctx context.Context, w Window) ([]model.UsageSample, error) {
	return selectAll(ctx, s, "select usage samples", s.q.selectUsageSamples, w, func(r driver.Rows, x *model.UsageSample) error {
		err := r.Scan(&x.Cluster, &x.Timestamp, &x.Namespace, &x.Workload.Kind, &x.Workload.Name, &x.Pod,
			&x.Container, &x.CPUUsageCores, &x.MemoryWorkingSetBytes, &x.CPUThrottledPeriods, &x.CPUPeriods)
		x.Timestamp = x.Timestamp.UTC()
		return err
	})
}

// ContainerEvents returns the container events in w.
func (s *Store) ContainerEvents(ctx context.Context, w Window) ([]model.ContainerEvent, error) {
	return selectAll(ctx, s, "select container events", s.q.selectContainerEvents, w, func(r driver.Rows, x *model.ContainerEvent) error {
		err := r.Scan(&x.Cluster, &x.Timestamp, &x.Namespace, &x.Workload.Kind, &x.Workload.Name, &x.Pod,
			&x.Container, &x.Node, &x.Kind, &x.Reason, &x.Message, &x.Count, &x.MemoryLimitBytes)
		x.Timestamp = x.Timestamp.UTC()
		return err
	})
}

// NodePrices returns the node prices of the hours in w.
func (s *Store) NodePrices(ctx context.Context, w Window) ([]model.NodePrice, error) {
	return selectAll(ctx, s, "select node prices", s.q.selectNodePrices, w, func(r driver.Rows, x *model.NodePrice) error {
		err := r.Scan(&x.Cluster, &x.Hour, &x.Node, &x.InstanceType, &x.CapacityType, &x.Currency,
			&x.HourlyCost, &x.CPUCoreHourCost, &x.RAMGiBHourCost, &x.GPUHourCost, &x.Source)
		x.Hour = x.Hour.UTC()
		return err
	})
}

// Allocations returns the hourly cost rows of the hours in w.
func (s *Store) Allocations(ctx context.Context, w Window) ([]model.Allocation, error) {
	return selectAll(ctx, s, "select cost allocations", s.q.selectCostAllocations, w, func(r driver.Rows, x *model.Allocation) error {
		var (
			keys, values []string
			idle         uint8
		)
		err := r.Scan(&x.Cluster, &x.Hour, &x.Node, &x.Namespace, &x.Workload.Kind, &x.Workload.Name, &x.App,
			&x.Pod, &x.Container, &idle, &keys, &values, &x.RunHours, &x.CPUCoreHours, &x.CPURequestCoreHours,
			&x.CPUUsageCoreHours, &x.RAMByteHours, &x.RAMRequestByteHours, &x.RAMUsageByteHours,
			&x.GPUHours, &x.CPUCost, &x.RAMCost, &x.GPUCost)
		x.Hour, x.Idle, x.Labels = x.Hour.UTC(), idle == 1, model.LabelMap(keys, values)
		return err
	})
}

// UsageHourly returns the hourly usage rollup of the hours in w.
func (s *Store) UsageHourly(ctx context.Context, w Window) ([]model.UsageRollup, error) {
	return selectAll(ctx, s, "select hourly usage", s.q.selectUsageHourly, w, scanUsageRollup)
}

// UsageDaily returns the daily usage rollup of the UTC days in w.
func (s *Store) UsageDaily(ctx context.Context, w Window) ([]model.UsageRollup, error) {
	return selectAll(ctx, s, "select daily usage", s.q.selectUsageDaily, w, scanUsageRollup)
}

func scanUsageRollup(r driver.Rows, x *model.UsageRollup) error {
	err := r.Scan(&x.Cluster, &x.Start, &x.Namespace, &x.Workload.Kind, &x.Workload.Name, &x.Container,
		&x.Samples, &x.CPUUsageCoreMinutes, &x.CPUUsageMaxCores, &x.CPUUsageP95Cores,
		&x.MemoryWorkingSetSumBytes, &x.MemoryWorkingSetMaxBytes, &x.CPUThrottledPeriods, &x.CPUPeriods)
	x.Start = time.Date(x.Start.Year(), x.Start.Month(), x.Start.Day(), x.Start.Hour(), 0, 0, 0, time.UTC)
	return err
}

// CostDaily returns the daily cost rollup of the days in w.
func (s *Store) CostDaily(ctx context.Context, w Window) ([]model.CostDay, error) {
	return selectAll(ctx, s, "select daily cost", s.q.selectCostDaily, w, func(r driver.Rows, x *model.CostDay) error {
		var idle uint8
		err := r.Scan(&x.Cluster, &x.Day, &x.Node, &x.Namespace, &x.Workload.Kind, &x.Workload.Name, &x.App, &idle,
			&x.RunHours, &x.CPUCoreHours, &x.RAMByteHours, &x.GPUHours, &x.CPUCost, &x.RAMCost, &x.GPUCost)
		x.Day, x.Idle = dateUTC(x.Day), idle == 1
		return err
	})
}

// Autoscalers returns the autoscalers seen in w, each as its latest snapshot had it.
func (s *Store) Autoscalers(ctx context.Context, w Window) ([]model.Autoscaler, error) {
	return selectAll(ctx, s, "select autoscalers", s.q.selectAutoscalers, w, func(r driver.Rows, x *model.Autoscaler) error {
		return r.Scan(&x.Cluster, &x.Namespace, &x.Name, &x.Target.Kind, &x.Target.Name, &x.MinReplicas, &x.MaxReplicas, &x.Resources)
	})
}

// ContainerHours returns the inputs of the hourly allocation for the hour starting at
// hour: per container, its node, running minutes, requests, and the per-minute sums of
// max(request, usage) and of usage (see sql/queries/select_container_hours.sql).
func (s *Store) ContainerHours(ctx context.Context, cluster string, hour time.Time) ([]model.ContainerHour, error) {
	hour = hour.UTC().Truncate(time.Hour)
	w := Window{Cluster: cluster, From: hour, To: hour.Add(time.Hour)}
	return selectAll(ctx, s, "select container hours", s.q.selectContainerHours, w, func(r driver.Rows, x *model.ContainerHour) error {
		var (
			keys, values []string
			minutes      uint64
			memRequest   uint64
		)
		err := r.Scan(&x.Namespace, &x.Pod, &x.Container, &x.Workload.Kind, &x.Workload.Name, &x.Node, &keys, &values,
			&minutes, &x.CPURequestCores, &memRequest, &x.GPURequest, &x.CPUChargedCoreMinutes, &x.RAMChargedByteMinutes,
			&x.CPUUsageCoreMinutes, &x.RAMUsageByteMinutes)
		x.Cluster, x.Hour, x.RunningMinutes, x.RAMRequestBytes = cluster, hour, int(minutes), float64(memRequest)
		x.Labels = model.LabelMap(keys, values)
		x.App = model.AppOf(x.Labels)
		return err
	})
}

// Watermarks returns the current watermark of every job of a cluster.
func (s *Store) Watermarks(ctx context.Context, cluster string) ([]model.Watermark, error) {
	var out []model.Watermark
	err := s.query(ctx, "select watermarks", s.q.selectWatermarks, []any{clickhouse.Named("cluster", cluster)},
		func() { out = out[:0] }, func(r driver.Rows) error {
			w := model.Watermark{Cluster: cluster}
			if err := r.Scan(&w.Job, &w.Time); err != nil {
				return err
			}
			w.Time = w.Time.UTC()
			out = append(out, w)
			return nil
		})
	return out, err
}

func zeroIfEpoch(t time.Time) time.Time {
	if t.Unix() == 0 {
		return time.Time{}
	}
	return t.UTC()
}

// dateUTC reads a Date column as midnight UTC, whatever zone the driver attached.
func dateUTC(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
