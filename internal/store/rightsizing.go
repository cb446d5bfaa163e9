package store

import (
	"context"
	"fmt"
	"slices"
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
		clickhouse.Named("ns_min", slices.Min(namespaces)),
		clickhouse.Named("ns_max", slices.Max(namespaces)),
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
		if !ok { // avg() of no rows is NaN: no price known is no price
			p = model.UnitPrices{}
		}
		return nil
	})
	return p, ok, err
}

// RunningContainers returns the containers of w's cluster running at the latest inventory
// snapshot in w (init containers and finished pods left out), each with its latest working
// set in w, sorted by namespace, pod and container.
func (s *Store) RunningContainers(ctx context.Context, w Window) ([]model.RunningContainer, error) {
	return selectAll(ctx, s, "select running containers", s.q.selectRunningContainers, w, func(r driver.Rows, x *model.RunningContainer) error {
		var keys, values []string
		err := r.Scan(&x.Namespace, &x.Pod, &x.Container.Container, &x.Node, &x.QoSClass, &x.Workload.Kind, &x.Workload.Name,
			&x.CPURequestCores, &x.CPULimitCores, &x.MemoryRequestBytes, &x.MemoryLimitBytes, &keys, &values, &x.MemoryWorkingSetBytes)
		x.Cluster, x.Phase = w.Cluster, "Running"
		x.Labels = model.LabelMap(keys, values)
		return err
	})
}

// Threshold is a recommendation to score: a workload container's recommended CPU request and
// memory limit.
type Threshold struct {
	Namespace        string
	Workload         model.WorkloadRef
	Container        string
	CPURequestCores  float64
	MemoryLimitBytes float64
}

// Exceedance is how a workload container's samples in a later window compare with its
// Threshold.
type Exceedance struct {
	Namespace               string
	Workload                model.WorkloadRef
	Container               string
	Samples, CPUOverRequest int
	MemoryOverLimit         int
	MemoryPeakBytes         float64
}

// Exceedances counts, over the 1-minute samples of w, how often each workload container went
// above its threshold (sql/queries/select_backtest.sql). The thresholds are one batch, sent
// with the query; they must be sorted by namespace.
func (s *Store) Exceedances(ctx context.Context, w Window, ts []Threshold) ([]Exceedance, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	n := len(ts)
	var (
		nss, kinds, names, ctrs = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		cpu, mem                = make([]float64, n), make([]float64, n)
	)
	for i, t := range ts {
		nss[i], kinds[i], names[i], ctrs[i], cpu[i], mem[i] = t.Namespace, t.Workload.Kind, t.Workload.Name, t.Container, t.CPURequestCores, t.MemoryLimitBytes
	}
	args := append(w.args(),
		clickhouse.Named("ns_min", nss[0]), clickhouse.Named("ns_max", nss[n-1]),
		clickhouse.Named("t_namespaces", nss), clickhouse.Named("t_kinds", kinds), clickhouse.Named("t_workloads", names),
		clickhouse.Named("t_containers", ctrs), clickhouse.Named("t_cpu", cpu), clickhouse.Named("t_mem", mem))
	// The thresholds travel in the query text: allow a large one.
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_query_size": 64 << 20}))
	var out []Exceedance
	err := s.query(ctx, "select backtest", s.q.selectBacktest, args, func() { out = out[:0] }, func(r driver.Rows) error {
		var (
			x                    Exceedance
			samples, over, mover uint64
		)
		if err := r.Scan(&x.Namespace, &x.Workload.Kind, &x.Workload.Name, &x.Container, &samples, &over, &mover, &x.MemoryPeakBytes); err != nil {
			return err
		}
		x.Samples, x.CPUOverRequest, x.MemoryOverLimit = int(samples), int(over), int(mover)
		out = append(out, x)
		return nil
	})
	return out, err
}
