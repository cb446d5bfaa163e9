package store

import (
	"context"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tally-finops/tally/internal/rightsizing"
)

// StoredRecommendation is a recommendation as the daily job stored it: made on Day from the
// usage of [WindowStart, WindowEnd).
type StoredRecommendation struct {
	Day, WindowStart, WindowEnd time.Time
	rightsizing.Recommendation
}

// InsertRecommendations writes the recommendations of one day, made from the window
// [from, to), as one block.
func (s *Store) InsertRecommendations(ctx context.Context, cluster string, day, from, to time.Time, recs []rightsizing.Recommendation) error {
	return s.insertRows(ctx, "insert recommendations", s.q.insertRecommendations, len(recs), func(i int) []any {
		r := &recs[i]
		flags := r.Flags
		if flags == nil {
			flags = []string{}
		}
		return []any{cluster, day.UTC(), from.UTC(), to.UTC(), r.Namespace, r.Workload.Kind, r.Workload.Name, r.Container,
			r.Current.CPURequest, r.Current.CPULimit, r.Current.MemoryRequest, r.Current.MemoryLimit,
			r.Recommended.CPURequest, r.Recommended.CPULimit, r.Recommended.MemoryRequest, r.Recommended.MemoryLimit,
			r.MonthlySavings, r.Currency, r.Risk, flags, r.Evidence, r.RiskNote}
	})
}

// CountRecommendations counts the recommendations stored for the days in w.
func (s *Store) CountRecommendations(ctx context.Context, w Window) (uint64, error) {
	var n uint64
	err := s.query(ctx, "count recommendations", s.q.countRecommendations, w.args(), func() { n = 0 }, func(r driver.Rows) error {
		return r.Scan(&n)
	})
	return n, err
}

// Recommendations returns the recommendations stored for the days in w.
func (s *Store) Recommendations(ctx context.Context, w Window) ([]StoredRecommendation, error) {
	return selectAll(ctx, s, "select recommendations", s.q.selectRecommendations, w, func(r driver.Rows, x *StoredRecommendation) error {
		x.Cluster = w.Cluster
		err := r.Scan(&x.Day, &x.WindowStart, &x.WindowEnd, &x.Namespace, &x.Workload.Kind, &x.Workload.Name, &x.Container,
			&x.Current.CPURequest, &x.Current.CPULimit, &x.Current.MemoryRequest, &x.Current.MemoryLimit,
			&x.Recommended.CPURequest, &x.Recommended.CPULimit, &x.Recommended.MemoryRequest, &x.Recommended.MemoryLimit,
			&x.MonthlySavings, &x.Currency, &x.Risk, &x.Flags, &x.Evidence, &x.RiskNote)
		x.Day, x.WindowStart, x.WindowEnd = x.Day.UTC(), x.WindowStart.UTC(), x.WindowEnd.UTC()
		if len(x.Flags) == 0 {
			x.Flags = nil
		}
		return err
	})
}
