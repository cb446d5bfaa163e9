package collector

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/store"
)

// e2eGiBHour is e2eBook's price of a gp3 GiB for an hour: 0.073 a month ÷ 730 hours.
const e2eGiBHour = 0.073 / 730

// checkVolumeCosts holds the volume rows of the whole hours collected to the synthetic
// cluster's volumes, worked out here from their configuration: every volume exists for the
// whole window and costs its capacity in GiB × 0.0001 an hour; a StatefulSet pod, which runs
// all along, has its claim's volume to itself; data/backup's hours are the data namespace's
// unmounted cost, the Released volume's the cluster's. Then the conservation of the issue:
// namespaces + idle + unmounted = the nodes' cost + the volumes' cost.
func checkVolumeCosts(t *testing.T, e *e2e) {
	ctx := context.Background()
	first, last := e.from.Truncate(time.Hour).Add(time.Hour), e2eEnd
	hours := last.Sub(first).Hours()
	rows, err := e.store.VolumeAllocations(ctx, store.Window{Cluster: "e2e", From: first, To: last})
	if err != nil {
		t.Fatal(err)
	}
	type sum struct {
		cost, byteHours float64
		where           map[string]bool // namespace/workload/pod of its rows
	}
	got := map[string]*sum{}
	for _, r := range rows {
		if !strings.HasPrefix(r.Volume, "e2e-") {
			continue // the API server and Prometheus are shared with other tests
		}
		s := got[r.Volume]
		if s == nil {
			s = &sum{where: map[string]bool{}}
			got[r.Volume] = s
		}
		s.cost += r.PVCost
		s.byteHours += r.PVByteHours
		s.where[r.Namespace+"/"+workloadName(r.Workload)+"/"+r.Pod] = true
	}
	if len(e.exp.Volumes) < 3 {
		t.Fatalf("the synthetic cluster has %d volumes, want at least 3", len(e.exp.Volumes))
	}
	volumeCost := 0.0
	for _, v := range e.exp.Volumes {
		wantCost := float64(v.CapacityBytes) / (1 << 30) * e2eGiBHour * hours
		volumeCost += wantCost
		var where string
		switch {
		case v.Pod != "":
			if v.PodFrom.After(first) || !v.PodTo.IsZero() {
				t.Fatalf("volume %s: its pod %s does not run the whole window", v.Name, v.Pod)
			}
			where = v.ClaimNamespace + "/StatefulSet/cache/" + v.Pod
		case v.ClaimName != "":
			where = v.ClaimNamespace + "/" + allocation.UnmountedName + "/"
		default:
			where = allocation.UnmountedName + "/" + allocation.UnmountedName + "/"
		}
		s := got[v.Name]
		if s == nil {
			t.Errorf("volume %s has no cost rows", v.Name)
			continue
		}
		if math.Abs(s.cost-wantCost) > 1e-9*wantCost || math.Abs(s.byteHours-float64(v.CapacityBytes)*hours) > 1e-9*s.byteHours {
			t.Errorf("volume %s: %.9f over %.0f byte-hours, want %.9f over %.0f", v.Name, s.cost, s.byteHours, wantCost, float64(v.CapacityBytes)*hours)
		}
		if len(s.where) != 1 || !s.where[where] {
			t.Errorf("volume %s charged to %v, want only %s", v.Name, s.where, where)
		}
	}

	// What reporter costs reads (the daily rollup for whole days): the StatefulSet's volumes
	// are its own cost, data/backup is data's unmounted row.
	all, err := e.store.CostRows(ctx, "e2e", first, last)
	if err != nil {
		t.Fatal(err)
	}
	var mine []model.Allocation
	var nodesAndVolumes float64
	for _, r := range all {
		if strings.HasPrefix(r.Namespace, "e2e-") || r.Idle && strings.HasPrefix(r.Node, "e2e-") {
			mine = append(mine, r)
		}
	}
	totals, err := allocation.Aggregate(mine, allocation.Options{By: []string{allocation.KeyNamespace, allocation.KeyWorkload}})
	if err != nil {
		t.Fatal(err)
	}
	pv := map[string]float64{}
	reported := 0.0
	for _, tot := range totals {
		pv[tot.Name] = tot.PVCost
		reported += tot.TotalCost
	}
	cache := 2 * 20 * e2eGiBHour * hours // two pods, 20 GiB each
	if g := pv["e2e-data/StatefulSet/cache"]; math.Abs(g-cache) > 1e-9*cache {
		t.Errorf("e2e-data/StatefulSet/cache volumes cost %.9f in the report, want %.9f", g, cache)
	}
	backup := 50 * e2eGiBHour * hours
	if g := pv["e2e-data/"+allocation.UnmountedName]; math.Abs(g-backup) > 1e-9*backup {
		t.Errorf("e2e-data/%s costs %.9f in the report, want %.9f", allocation.UnmountedName, g, backup)
	}

	// Conservation: the e2e namespaces (volumes included), idle, data's unmounted claim and
	// the cluster's unmounted volume (from its rows, the cluster row holding other tests'
	// volumes too) add up to the nodes' prices plus the volumes' cost.
	reported += got["e2e-pv-released"].cost
	prices, err := e.store.NodePrices(ctx, store.Window{Cluster: "e2e", From: first, To: last})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range prices {
		if strings.HasPrefix(p.Node, "e2e-") {
			nodesAndVolumes += p.HourlyCost
		}
	}
	nodesAndVolumes += volumeCost
	if d := reported - nodesAndVolumes; math.Abs(d) > 1e-4*nodesAndVolumes {
		t.Errorf("namespaces + idle + unmounted = %.6f, nodes + volumes = %.6f (%+.4f%%)", reported, nodesAndVolumes, 100*d/nodesAndVolumes)
	}
}

func workloadName(w model.WorkloadRef) string {
	if w.Kind == "" {
		return w.Name
	}
	return w.Kind + "/" + w.Name
}
