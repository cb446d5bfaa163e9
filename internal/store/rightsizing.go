package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tally-finops/tally/internal/model"
)

// NamespacesPerBatch is how many namespaces one rightsizing statistics query covers.
const NamespacesPerBatch = 64

// UsageNamespaces returns the namespaces of w's cluster with usage on the UTC days w
// touches, sorted.
func (s *Store) UsageNamespaces(ctx context.Context, w Window) ([]string, error) {
	return selectAll(ctx, s, "select usage namespaces", s.q.selectUsageNamespaces, w, func(r driver.Rows, ns *string) error {
		return r.Scan(ns)
	})
}

// WorkloadUsage returns the rightsizing statistics of every workload container of the given
// namespaces that has samples in w, with the CPU percentile at quantile (0.95 for p95), in
// one query (sql/queries/select_rightsizing_stats.sql). Sorted by namespace, workload and
// container.
func (s *Store) WorkloadUsage(ctx context.Context, w Window, namespaces []string, quantile float64) ([]model.WorkloadUsage, error) {
	from, to := w.From.UTC(), w.To.UTC()
	if !from.Before(to) {
		return nil, fmt.Errorf("select rightsizing stats: empty window [%s, %s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if quantile <= 0 || quantile >= 1 {
		return nil, fmt.Errorf("select rightsizing stats: quantile %v is not in (0, 1)", quantile)
	}
	if len(namespaces) == 0 {
		return nil, nil
	}
	daysFrom, daysTo := wholeDays(from, to)
	args := []any{
		clickhouse.Named("cluster", w.Cluster),
		clickhouse.Named("namespaces", namespaces),
		clickhouse.Named("from", from.Unix()),
		clickhouse.Named("to", to.Unix()),
		clickhouse.Named("days_from", daysFrom.Unix()),
		clickhouse.Named("days_to", daysTo.Unix()),
	}
	var out []model.WorkloadUsage
	// An aggregate function's parameter must be a literal: the validated level is written
	// into the statement.
	stmt := strings.ReplaceAll(s.q.selectRightsizingStats, "{quantile}", strconv.FormatFloat(quantile, 'g', -1, 64))
	err := s.query(ctx, "select rightsizing stats", stmt, args, func() { out = out[:0] }, func(r driver.Rows) error {
		var (
			x                    = model.WorkloadUsage{Cluster: w.Cluster}
			samples, pods, kills uint64
			first, last          uint32
			hasCurrent           uint8
		)
		if err := r.Scan(&x.Namespace, &x.Workload.Kind, &x.Workload.Name, &x.Container,
			&samples, &x.CPUQuantileCores, &x.CPUMaxCores, &x.MemoryPeakBytes, &x.CPUThrottledPeriods, &x.CPUPeriods,
			&pods, &first, &last,
			&hasCurrent, &x.CPURequestCores, &x.CPULimitCores, &x.MemoryRequestBytes, &x.MemoryLimitBytes,
			&kills, &x.MemoryLimitAtOOMBytes, &x.HPAResources, &x.CPUCoreHourCost, &x.RAMGiBHourCost); err != nil {
			return err
		}
		x.Samples, x.Pods, x.OOMKills, x.HasCurrent = int(samples), int(pods), int(kills), hasCurrent == 1
		if first > 0 && last >= first {
			x.FirstSample, x.LastSample = time.Unix(int64(first), 0).UTC(), time.Unix(int64(last), 0).UTC()
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// UnitPrices returns the average unit prices of w's cluster over w's node prices; ok is
// false when there are none.
func (s *Store) UnitPrices(ctx context.Context, w Window) (p model.UnitPrices, ok bool, err error) {
	err = s.query(ctx, "select unit prices", s.q.selectUnitPrices, w.args(), func() { p, ok = model.UnitPrices{}, false }, func(r driver.Rows) error {
		var n uint64
		if err := r.Scan(&p.Currency, &p.CPUCoreHourCost, &p.RAMGiBHourCost, &n); err != nil {
			return err
		}
		ok = n > 0
		return nil
	})
	return p, ok, err
}
