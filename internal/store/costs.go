package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tally-finops/tally/internal/model"
)

const dayLength = 24 * time.Hour

// CostRows returns the cost rows of a cluster for the hours in [from, to), summed per node,
// namespace, workload, app, idle flag and labels (pod, container and hour are not kept):
// the containers' and idle rows, then the volumes' (PVByteHours and PVCost only). The
// whole UTC days of the window are read from the daily rollup, the hours outside them from
// the hourly rows, so a long window reads one row per group and day rather than per
// container and hour (see sql/queries/select_cost_rows.sql).
func (s *Store) CostRows(ctx context.Context, cluster string, from, to time.Time) ([]model.Allocation, error) {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, fmt.Errorf("select cost rows: empty window [%s, %s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	daysFrom, daysTo := wholeDays(from, to)
	args := rollupArgs(cluster, from, to, daysFrom, daysTo)
	var out []model.Allocation
	err := s.query(ctx, "select cost rows", s.q.selectCostRows, args, func() { out = out[:0] }, func(r driver.Rows) error {
		var (
			x            = model.Allocation{Cluster: cluster}
			keys, values []string
			idle         uint8
		)
		if err := r.Scan(&x.Node, &x.Namespace, &x.Workload.Kind, &x.Workload.Name, &x.App, &idle, &keys, &values,
			&x.RunHours, &x.CPUCoreHours, &x.CPURequestCoreHours, &x.CPUUsageCoreHours, &x.RAMByteHours,
			&x.RAMRequestByteHours, &x.RAMUsageByteHours, &x.GPUHours, &x.CPUCost, &x.RAMCost, &x.GPUCost); err != nil {
			return err
		}
		x.Idle, x.Labels = idle == 1, model.LabelMap(keys, values)
		out = append(out, x)
		return nil
	})
	if err != nil {
		return nil, err
	}
	volumes, err := s.volumeCostRows(ctx, cluster, args)
	if err != nil {
		return nil, err
	}
	return append(out, volumes...), nil
}

// rollupArgs are the parameters of a cost query over the hours [from, to) that reads the
// whole days [daysFrom, daysTo) from a daily rollup.
func rollupArgs(cluster string, from, to, daysFrom, daysTo time.Time) []any {
	return []any{
		clickhouse.Named("cluster", cluster),
		clickhouse.Named("from", from.Unix()),
		clickhouse.Named("to", to.Unix()),
		clickhouse.Named("days_from", daysFrom.Unix()),
		clickhouse.Named("days_to", daysTo.Unix()),
	}
}

// wholeDays returns the UTC days [daysFrom, daysTo) that lie wholly inside [from, to); when
// there is none, daysFrom = daysTo = from, an empty range.
func wholeDays(from, to time.Time) (daysFrom, daysTo time.Time) {
	daysFrom = from.Truncate(dayLength)
	if daysFrom.Before(from) {
		daysFrom = daysFrom.Add(dayLength)
	}
	daysTo = to.Truncate(dayLength)
	if !daysFrom.Before(daysTo) {
		return from, from
	}
	return daysFrom, daysTo
}
