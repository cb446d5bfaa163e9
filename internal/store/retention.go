package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// retainedTables are the tables retention may drop partitions of, with their partitioning:
// the raw, high-volume ones. Rollups, prices and costs are kept.
var retainedTables = map[string]partitioning{
	"usage_samples":    daily,
	"containers":       daily,
	"nodes":            monthly,
	"namespaces":       monthly,
	"container_events": monthly,
	"volumes":          monthly,
	"pod_claims":       daily,
}

type partitioning int

const (
	daily   partitioning = iota // partition id YYYYMMDD
	monthly                     // partition id YYYYMM
)

// partitionEnd is the first moment after a partition's time range.
func partitionEnd(id string, p partitioning) (time.Time, error) {
	switch p {
	case daily:
		d, err := time.Parse("20060102", id)
		return d.AddDate(0, 0, 1), err
	default:
		m, err := time.Parse("200601", id)
		return m.AddDate(0, 1, 0), err
	}
}

// DropPartitionsBefore drops the partitions of a raw table that hold only rows older than
// before, and returns their ids. A partition is dropped whole, never in part: retention is
// as coarse as the partitioning (a day for samples and inventory, a month for the rest).
func (s *Store) DropPartitionsBefore(ctx context.Context, table string, before time.Time) ([]string, error) {
	p, ok := retainedTables[table]
	if !ok {
		return nil, fmt.Errorf("retention of table %q: not a table retention may drop from", table)
	}
	var ids []string
	err := s.query(ctx, "list partitions of "+table, s.q.selectPartitions, []any{clickhouse.Named("table", table)},
		func() { ids = ids[:0] }, func(r driver.Rows) error {
			var id string
			if err := r.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
			return nil
		})
	if err != nil {
		return nil, err
	}
	stmt := strings.ReplaceAll(s.q.dropPartition, "{table}", table)
	var dropped []string
	for _, id := range ids {
		end, err := partitionEnd(id, p)
		if err != nil {
			s.log.Warn("retention: partition id not understood, kept", "table", table, "partition", id)
			continue
		}
		if end.After(before) {
			continue
		}
		if err := s.do(ctx, fmt.Sprintf("drop partition %s of %s", id, table), func(ctx context.Context) error {
			return s.conn.Exec(ctx, stmt, clickhouse.Named("partition", id))
		}); err != nil {
			return dropped, err
		}
		dropped = append(dropped, id)
	}
	return dropped, nil
}

// CountAllocations counts the cost rows of the hours in w: the allocation job's check
// whether an hour was already written.
func (s *Store) CountAllocations(ctx context.Context, w Window) (uint64, error) {
	var n uint64
	err := s.query(ctx, "count cost allocations", s.q.countCostAllocations, w.args(), func() { n = 0 }, func(r driver.Rows) error {
		return r.Scan(&n)
	})
	return n, err
}

// UsageMinutes lists the minutes of w that hold usage samples, in order: what an
// interrupted collection of w already wrote.
func (s *Store) UsageMinutes(ctx context.Context, w Window) ([]time.Time, error) {
	var out []time.Time
	err := s.query(ctx, "list written usage minutes", s.q.selectUsageWritten, w.args(), func() { out = out[:0] }, func(r driver.Rows) error {
		var ts time.Time
		if err := r.Scan(&ts); err != nil {
			return err
		}
		out = append(out, ts.UTC())
		return nil
	})
	return out, err
}

// CountUsageSamples counts the usage samples in w: the collector's check whether an
// interval was already written.
func (s *Store) CountUsageSamples(ctx context.Context, w Window) (uint64, error) {
	var n uint64
	err := s.query(ctx, "count usage samples", s.q.countUsageSamples, w.args(), func() { n = 0 }, func(r driver.Rows) error {
		return r.Scan(&n)
	})
	return n, err
}
