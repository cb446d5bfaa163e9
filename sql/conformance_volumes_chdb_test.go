//go:build chdb

package sql_test

import (
	"testing"
	"time"
)

// volumes runs the persistent-volume queries on a cluster of their own, cv: snapshots of two
// volumes and of the claim a pod mounts, the pod's usage samples and container snapshot, and
// volume cost rows over two days.
func (c *conformance) volumes(t *testing.T) {
	const gib = uint64(1 << 30)
	zone := []string{"topology.kubernetes.io/zone"}
	volume := func(ts time.Time, name string, size uint64, ns, claim string) []any {
		return []any{"cv", ts, name, size, "gp3", "ebs.csi.aws.com", "gp3", "vol-" + name, "Bound", ns, claim, zone, []string{"eu-west-1a"}}
	}
	// pv-a in minutes 0, 1, 5 and 59 of h10 (minute 1 written twice, the later with its new
	// size: FINAL keeps one), pv-b in minute 3 of h10 and minute 0 of h11, unbound.
	c.insert(t, "insert_volumes",
		volume(minute(h10, 0), "pv-a", 100*gib, "shop", "data"),
		volume(minute(h10, 1), "pv-a", 100*gib, "shop", "data"),
		volume(minute(h10, 5), "pv-a", 100*gib, "shop", "data"),
		volume(minute(h10, 3), "pv-b", 10*gib, "", ""),
		volume(minute(h11, 0), "pv-b", 10*gib, "", ""))
	c.insert(t, "insert_volumes", volume(minute(h10, 59), "pv-a", 200*gib, "shop", "data"))
	c.query(t, "select_volume_hours", window("cv", h10, h12)).wantRows(t,
		[]any{dt(h10), "pv-a", 1 | 1<<1 | 1<<5 | 1<<59, 200 * gib, "gp3", "ebs.csi.aws.com", "gp3", "vol-pv-a", "Bound", "shop", "data", zone, []string{"eu-west-1a"}},
		[]any{dt(h10), "pv-b", 1 << 3, 10 * gib, "gp3", "ebs.csi.aws.com", "gp3", "vol-pv-b", "Bound", "", "", zone, []string{"eu-west-1a"}},
		[]any{dt(h11), "pv-b", 1, 10 * gib, "gp3", "ebs.csi.aws.com", "gp3", "vol-pv-b", "Bound", "", "", zone, []string{"eu-west-1a"}})

	// web-a mounts shop/data (snapshots of h09, the day before h10, and of h10); it has
	// samples in minutes 0 (two containers) and 2 of h10 and in h11; web-b mounts nothing.
	c.insert(t, "insert_pod_claims",
		[]any{"cv", minute(h09, 30), "shop", "web-a", "data"},
		[]any{"cv", minute(h10, 0), "shop", "web-a", "data"})
	sample := func(ts time.Time, pod, container string) []any {
		return []any{"cv", ts, "shop", "StatefulSet", "web", pod, container, 0.1, uint64(1 << 20), 0.0, 600.0}
	}
	c.insert(t, "insert_usage_samples",
		sample(minute(h10, 0), "web-a", "app"), sample(minute(h10, 0), "web-a", "sidecar"),
		sample(minute(h10, 2), "web-a", "app"), sample(minute(h11, 0), "web-a", "app"),
		sample(minute(h10, 0), "web-b", "app"))
	c.insert(t, "insert_containers",
		[]any{"cv", minute(h09, 30), "shop", "web-a", "uid-a", "app", 0, "n0", "Running", "Burstable", "StatefulSet", "web",
			0.5, 1.0, gib, gib, 0.0, h09, epoch, 0, "", appLabelKeys, appLabelValues},
		[]any{"cv", minute(h10, 0), "shop", "web-a", "uid-a", "app", 0, "n1", "Running", "Burstable", "StatefulSet", "web",
			0.5, 1.0, gib, gib, 0.0, h09, epoch, 0, "", appLabelKeys, appLabelValues})
	res := c.query(t, "select_claim_pods", window("cv", h10, h11))
	res.wantRows(t, []any{"shop", "data", "web-a", "StatefulSet", "web", 1 | 1<<2, "n1", appLabelKeys, appLabelValues})

	// Cost rows: two of h10 (d1), one of d2's first hour.
	d2h0 := d2
	alloc := func(hour time.Time, pod, volume string, byteHours, cost float64) []any {
		return []any{"cv", hour, "n1", "shop", "StatefulSet", "web", "web", pod, volume, appLabelKeys, appLabelValues, byteHours, cost}
	}
	c.insert(t, "insert_volume_allocations",
		alloc(h10, "web-a", "pv-a", 75*float64(gib), 0.0075),
		alloc(h10, "", "pv-c", 25*float64(gib), 0.0025),
		alloc(d2h0, "web-a", "pv-a", 100*float64(gib), 0.01))
	c.query(t, "count_volume_allocations", window("cv", h10, h11)).wantRows(t, []any{2})
	c.query(t, "select_volume_allocations", window("cv", h10, h11)).wantRows(t,
		[]any{dt(h10), "n1", "shop", "StatefulSet", "web", "web", "", "pv-c", appLabelKeys, appLabelValues, 25 * float64(gib), 0.0025},
		[]any{dt(h10), "n1", "shop", "StatefulSet", "web", "web", "web-a", "pv-a", appLabelKeys, appLabelValues, 75 * float64(gib), 0.0075})
	c.query(t, "count_volume_allocations", window("cv", h11, d3)).wantRows(t, []any{1})

	rows := func(from, to, daysFrom, daysTo time.Time) map[string]any {
		return map[string]any{"cluster": "cv", "from": from.Unix(), "to": to.Unix(), "days_from": daysFrom.Unix(), "days_to": daysTo.Unix()}
	}
	want := []any{"n1", "shop", "StatefulSet", "web", "web", appLabelKeys, appLabelValues, 200 * float64(gib), 0.02}
	// From the hourly rows only (no whole day), then from the daily rollup (two whole days):
	// the same sums.
	c.query(t, "select_volume_cost_rows", rows(h10, d2.Add(time.Hour), h10, h10)).wantRows(t, want)
	c.query(t, "select_volume_cost_rows", rows(d1, d3, d1, d3)).wantRows(t, want)
	// Only d2's hour.
	c.query(t, "select_volume_cost_rows", rows(d2, d2.Add(time.Hour), d2, d2)).wantRows(t,
		[]any{"n1", "shop", "StatefulSet", "web", "web", appLabelKeys, appLabelValues, 100 * float64(gib), 0.01})
}
