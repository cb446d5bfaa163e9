package store

import (
	"cmp"
	"context"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
)

// One hour of volumes through the store on the stack's ClickHouse (18.16): snapshots of a
// bound volume, an unbound one and the claim a pod mounts, the pod's usage samples, then the
// hour's volume rows (allocation.Volumes) written and read back by CostRows, against figures
// worked out by hand.
func TestVolumesThroughTheStore(t *testing.T) {
	s := openTestStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h := t0
	w := Window{Cluster: "prod", From: h, To: h.Add(time.Hour)}
	at := func(m int) time.Time { return h.Add(time.Duration(m) * time.Minute) }
	data := model.Volume{Cluster: "prod", Name: "pv-data", CapacityBytes: 100 << 30, StorageClass: "gp3", Provisioner: "ebs.csi.aws.com",
		Type: "gp3", VolumeHandle: "vol-0aaa", Phase: "Bound", ClaimNamespace: "shop", ClaimName: "data",
		Labels: map[string]string{"topology.kubernetes.io/zone": "eu-west-1a"}}
	old := model.Volume{Cluster: "prod", Name: "pv-old", CapacityBytes: 50 << 30, StorageClass: "gp3", Phase: "Released"}
	var volumes []model.Volume
	for m := range 60 { // pv-data all hour, pv-old until minute 30
		for _, v := range []model.Volume{data, old} {
			if v.Name == "pv-old" && m >= 30 {
				continue
			}
			v.ObservedAt = at(m)
			volumes = append(volumes, v)
		}
	}
	if err := s.InsertVolumes(ctx, volumes); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertPodClaims(ctx, []model.PodClaim{
		{Cluster: "prod", ObservedAt: at(0), Namespace: "shop", Pod: "web-0", Claim: "data"},
		{Cluster: "prod", ObservedAt: at(1), Namespace: "shop", Pod: "web-0", Claim: "data"},
	}); err != nil {
		t.Fatal(err)
	}
	var samples []model.UsageSample
	for m := 15; m < 60; m++ { // web-0 runs from minute 15
		samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: at(m), Namespace: "shop", Workload: web, Pod: "web-0",
			Container: "app", CPUUsageCores: 0.1, MemoryWorkingSetBytes: 1 << 20, CPUPeriods: 600})
	}
	if err := s.InsertUsageSamples(ctx, samples); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertContainers(ctx, []model.Container{{Cluster: "prod", ObservedAt: at(15), Namespace: "shop", Pod: "web-0",
		Container: "app", Node: "n1", Phase: "Running", Workload: web, Labels: map[string]string{"app": "web", "team": "payments"}}}); err != nil {
		t.Fatal(err)
	}

	seen, err := s.VolumeHours(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	wantData, wantOld := data, old
	wantData.ObservedAt, wantOld.ObservedAt = h, h
	want := []model.VolumeSeen{{Volume: wantData, Minutes: model.AllMinutes}, {Volume: wantOld, Minutes: 1<<30 - 1}}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("VolumeHours:\n got %+v\nwant %+v", seen, want)
	}
	pods, err := s.ClaimPods(ctx, "prod", h)
	if err != nil {
		t.Fatal(err)
	}
	wantPods := []model.ClaimPodHour{{Cluster: "prod", Hour: h, Namespace: "shop", Claim: "data", Pod: "web-0", Node: "n1", Workload: web,
		App: "web", Labels: map[string]string{"app": "web", "team": "payments"}, RunningMinutes: model.AllMinutes &^ (1<<15 - 1)}}
	if !reflect.DeepEqual(pods, wantPods) {
		t.Fatalf("ClaimPods:\n got %+v\nwant %+v", pods, wantPods)
	}

	// 0.0001 a GiB-hour. pv-data: web-0 has minutes 15–59 (100 × 0.0001 × 45/60 = 0.0075),
	// shop's unmounted row minutes 0–14 (0.0025); pv-old: the cluster's 30 minutes (0.0025).
	var hours []model.VolumeHour
	for _, v := range seen {
		hours = append(hours, model.VolumeHour{Cluster: "prod", Volume: v.Volume.Name, Hour: h, Minutes: v.Minutes,
			CapacityBytes: float64(v.Volume.CapacityBytes), ClaimNamespace: v.Volume.ClaimNamespace, ClaimName: v.Volume.ClaimName,
			Price: model.VolumePrice{GiBHourCost: 0.0001}, Priced: true})
	}
	rows, warnings := allocation.Volumes(hours, pods)
	if len(warnings) > 0 || len(rows) != 3 {
		t.Fatalf("allocation: %d rows, warnings %q", len(rows), warnings)
	}
	if err := s.InsertVolumeAllocations(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountVolumeAllocations(ctx, w); err != nil || n != 3 {
		t.Fatalf("CountVolumeAllocations = %d, %v; want 3", n, err)
	}
	back, err := s.VolumeAllocations(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	byVolume := func(a, b model.Allocation) int {
		return cmp.Or(cmp.Compare(a.Volume, b.Volume), cmp.Compare(a.Pod, b.Pod))
	}
	slices.SortFunc(back, byVolume)
	slices.SortFunc(rows, byVolume)
	if !reflect.DeepEqual(back, rows) {
		t.Errorf("VolumeAllocations:\n got %+v\nwant %+v", back, rows)
	}
	// A whole day holds the hour: CostRows reads it from the daily rollup.
	day := h.Truncate(24 * time.Hour)
	for _, span := range []Window{w, {From: day, To: day.Add(24 * time.Hour)}} {
		got, err := s.CostRows(ctx, "prod", span.From, span.To)
		if err != nil {
			t.Fatal(err)
		}
		totals, err := allocation.Aggregate(got, allocation.Options{By: []string{allocation.KeyNamespace, allocation.KeyWorkload}})
		if err != nil {
			t.Fatal(err)
		}
		wantCost := map[string]float64{"shop/Deployment/web": 0.0075, "shop/__unmounted__": 0.0025, "__unmounted__/__unmounted__": 0.0025}
		if len(totals) != len(wantCost) {
			t.Fatalf("[%s, %s): totals %+v, want %v", span.From, span.To, totals, wantCost)
		}
		for _, tt := range totals {
			if want, ok := wantCost[tt.Name]; !ok || math.Abs(tt.PVCost-want) > 1e-12 || tt.TotalCost != tt.PVCost {
				t.Errorf("[%s, %s): %s costs %v (total %v), want %v", span.From, span.To, tt.Name, tt.PVCost, tt.TotalCost, want)
			}
		}
	}
}
