package store

import (
	"context"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tally-finops/tally/internal/model"
)

// InsertVolumes writes persistent-volume snapshots.
func (s *Store) InsertVolumes(ctx context.Context, vs []model.Volume) error {
	return s.insertRows(ctx, "insert volumes", s.q.insertVolumes, len(vs), func(i int) []any {
		x := &vs[i]
		keys, values := model.SortedLabels(x.Labels)
		return []any{x.Cluster, x.ObservedAt, x.Name, x.CapacityBytes, x.StorageClass, x.Provisioner, x.Type,
			x.VolumeHandle, x.Phase, x.ClaimNamespace, x.ClaimName, keys, values}
	})
}

// InsertPodClaims writes snapshots of the claims pods mount.
func (s *Store) InsertPodClaims(ctx context.Context, cs []model.PodClaim) error {
	return s.insertRows(ctx, "insert pod claims", s.q.insertPodClaims, len(cs), func(i int) []any {
		x := &cs[i]
		return []any{x.Cluster, x.ObservedAt, x.Namespace, x.Pod, x.Claim}
	})
}

// InsertVolumeAllocations writes hourly volume cost rows (allocation.Volumes).
func (s *Store) InsertVolumeAllocations(ctx context.Context, rows []model.Allocation) error {
	return s.insertRows(ctx, "insert volume allocations", s.q.insertVolumeAllocations, len(rows), func(i int) []any {
		x := &rows[i]
		keys, values := model.SortedLabels(x.Labels)
		return []any{x.Cluster, x.Hour, x.Node, x.Namespace, x.Workload.Kind, x.Workload.Name, x.App, x.Pod,
			x.Volume, keys, values, x.PVByteHours, x.PVCost}
	})
}

// VolumeAllocations returns the hourly volume cost rows in w, each with its volume.
func (s *Store) VolumeAllocations(ctx context.Context, w Window) ([]model.Allocation, error) {
	return selectAll(ctx, s, "select volume allocations", s.q.selectVolumeAllocations, w, func(r driver.Rows, x *model.Allocation) error {
		var keys, values []string
		err := r.Scan(&x.Hour, &x.Node, &x.Namespace, &x.Workload.Kind, &x.Workload.Name, &x.App, &x.Pod, &x.Volume,
			&keys, &values, &x.PVByteHours, &x.PVCost)
		x.Cluster, x.Hour = w.Cluster, x.Hour.UTC()
		x.Labels = model.LabelMap(keys, values)
		return err
	})
}

// CountVolumeAllocations counts the volume cost rows in w.
func (s *Store) CountVolumeAllocations(ctx context.Context, w Window) (uint64, error) {
	var n uint64
	err := s.query(ctx, "count volume allocations", s.q.countVolumeAllocations, w.args(), func() { n = 0 }, func(r driver.Rows) error {
		return r.Scan(&n)
	})
	return n, err
}

// VolumeHours returns, per clock hour of w and volume, the minutes the volume was seen in
// and its latest snapshot of the hour (sql/queries/select_volume_hours.sql).
func (s *Store) VolumeHours(ctx context.Context, w Window) ([]model.VolumeSeen, error) {
	return selectAll(ctx, s, "select volume hours", s.q.selectVolumeHours, w, func(r driver.Rows, x *model.VolumeSeen) error {
		var (
			keys, values []string
			minutes      uint64
			v            = &x.Volume
		)
		err := r.Scan(&v.ObservedAt, &v.Name, &minutes, &v.CapacityBytes, &v.StorageClass, &v.Provisioner, &v.Type,
			&v.VolumeHandle, &v.Phase, &v.ClaimNamespace, &v.ClaimName, &keys, &values)
		v.Cluster, v.ObservedAt = w.Cluster, v.ObservedAt.UTC()
		v.Labels = model.LabelMap(keys, values)
		x.Minutes = model.MinuteSet(minutes) & model.AllMinutes
		return err
	})
}

// ClaimPods returns the pods that mount a claim during hour, with the minutes they ran
// (sql/queries/select_claim_pods.sql).
func (s *Store) ClaimPods(ctx context.Context, cluster string, hour time.Time) ([]model.ClaimPodHour, error) {
	hour = hour.UTC().Truncate(time.Hour)
	w := Window{Cluster: cluster, From: hour, To: hour.Add(time.Hour)}
	return selectAll(ctx, s, "select claim pods", s.q.selectClaimPods, w, func(r driver.Rows, x *model.ClaimPodHour) error {
		var (
			keys, values []string
			minutes      uint64
		)
		err := r.Scan(&x.Namespace, &x.Claim, &x.Pod, &x.Workload.Kind, &x.Workload.Name, &minutes, &x.Node, &keys, &values)
		x.Cluster, x.Hour, x.RunningMinutes = cluster, hour, model.MinuteSet(minutes)&model.AllMinutes
		x.Labels = model.LabelMap(keys, values)
		x.App = model.AppOf(x.Labels)
		return err
	})
}

// volumeCostRows returns the volume cost rows of a cluster for the window of args
// (rollupArgs), summed per node, namespace, workload, app and labels, whole days from the
// daily rollup (sql/queries/select_volume_cost_rows.sql).
func (s *Store) volumeCostRows(ctx context.Context, cluster string, args []any) ([]model.Allocation, error) {
	var out []model.Allocation
	err := s.query(ctx, "select volume cost rows", s.q.selectVolumeCostRows, args, func() { out = out[:0] }, func(r driver.Rows) error {
		var (
			x            = model.Allocation{Cluster: cluster}
			keys, values []string
		)
		if err := r.Scan(&x.Node, &x.Namespace, &x.Workload.Kind, &x.Workload.Name, &x.App, &keys, &values,
			&x.PVByteHours, &x.PVCost); err != nil {
			return err
		}
		x.Labels = model.LabelMap(keys, values)
		out = append(out, x)
		return nil
	})
	return out, err
}
