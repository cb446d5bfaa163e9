package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
)

// NamespaceLabels returns each namespace's latest snapshot before the window's end: a
// relabelled namespace as it is at the end, a deleted one (or one last seen before the
// window) as it was last seen, a snapshot minute written twice as its later insert;
// snapshots of another cluster do not count. For a window before a namespace's first
// snapshot (history backfilled), its first snapshot.
func TestNamespaceLabelsAsOfTheWindow(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	from, to := t0, t0.Add(time.Hour)
	snap := func(cluster string, at time.Time, name string, labels map[string]string) model.Namespace {
		return model.Namespace{Cluster: cluster, ObservedAt: at, Name: name, Labels: labels}
	}
	team := func(v string) map[string]string { return map[string]string{"team": v} }
	batches := [][]model.Namespace{
		{
			snap("prod", from.Add(-time.Minute), "old", team("gone")), // before the window
			snap("prod", from, "shop", team("checkout")),
			snap("prod", from, "batch", team("data")), // deleted after this snapshot
			snap("prod", from.Add(30*time.Minute), "shop", team("payments")),
			snap("prod", to, "shop", team("future")), // at the window's end: outside
			snap("staging", from.Add(45*time.Minute), "shop", team("staging")),
		},
		// The 30-minute snapshot of shop written again with other labels: the later insert wins.
		{snap("prod", from.Add(30*time.Minute), "shop", map[string]string{"team": "payments", "env": "prod"})},
	}
	for _, b := range batches {
		if err := s.InsertNamespaces(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.NamespaceLabels(ctx, Window{Cluster: "prod", From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Namespace{
		snap("prod", from, "batch", team("data")),
		snap("prod", from.Add(-time.Minute), "old", team("gone")),
		snap("prod", from.Add(30*time.Minute), "shop", map[string]string{"team": "payments", "env": "prod"}),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NamespaceLabels =\n%+v\nwant\n%+v", got, want)
	}

	got, err = s.NamespaceLabels(ctx, Window{Cluster: "prod", From: to.Add(time.Hour), To: to.Add(2 * time.Hour)})
	want = []model.Namespace{
		snap("prod", from, "batch", team("data")),
		snap("prod", from.Add(-time.Minute), "old", team("gone")),
		snap("prod", to, "shop", team("future")),
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("NamespaceLabels of a later window without snapshots =\n%+v, %v\nwant the latest snapshots\n%+v", got, err, want)
	}

	got, err = s.NamespaceLabels(ctx, Window{Cluster: "prod", From: from.Add(-3 * time.Hour), To: from.Add(-2 * time.Hour)})
	want = []model.Namespace{
		snap("prod", from, "batch", team("data")),
		snap("prod", from.Add(-time.Minute), "old", team("gone")),
		snap("prod", from, "shop", team("checkout")),
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("NamespaceLabels of a window before every snapshot =\n%+v, %v\nwant the first snapshots\n%+v", got, err, want)
	}
}

// Cost rows and namespace labels read from ClickHouse, grouped by label:team as `reporter
// costs` does: the pod's team wins, a pod without one takes its namespace's, a pod in an
// unlabelled namespace is unallocated.
func TestCostRowsByTeamWithNamespaceLabels(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	from, to := t0, t0.Add(2*time.Hour)
	row := func(ns, pod string, labels map[string]string, cpuCost float64) model.Allocation {
		return model.Allocation{Cluster: "prod", Hour: t0, Node: "n1", Namespace: ns, Workload: model.WorkloadRef{Kind: "Deployment", Name: pod},
			Pod: pod, Container: "app", Labels: labels, RunHours: 1, CPUCoreHours: 1, CPUCost: cpuCost}
	}
	if err := s.InsertAllocations(ctx, []model.Allocation{
		row("shop", "web", map[string]string{"team": "payments"}, 0.5), // the pod's own team
		row("shop", "api", nil, 0.25),                                  // shop's team
		row("jobs", "report", map[string]string{"app": "report"}, 0.125),
		row("scratch", "debug", nil, 0.0625),
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertNamespaces(ctx, []model.Namespace{
		{Cluster: "prod", ObservedAt: t0, Name: "shop", Labels: map[string]string{"team": "shop-old"}},
		{Cluster: "prod", ObservedAt: t0.Add(time.Hour), Name: "shop", Labels: map[string]string{"team": "checkout"}}, // relabelled
		{Cluster: "prod", ObservedAt: t0, Name: "jobs", Labels: map[string]string{"team": "data"}},
		{Cluster: "prod", ObservedAt: t0, Name: "scratch"},
	}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.CostRows(ctx, "prod", from, to)
	if err != nil {
		t.Fatal(err)
	}
	namespaces, err := s.NamespaceLabels(ctx, Window{Cluster: "prod", From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	totals, err := allocation.Aggregate(rows, allocation.Options{By: []string{"label:team"}, Namespaces: namespaces})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, tt := range totals {
		got[tt.Name] = tt.TotalCost
	}
	// api's hour is charged to shop's team at the window's end (checkout), not the one it had then.
	want := map[string]float64{"payments": 0.5, "checkout": 0.25, "data": 0.125, allocation.UnallocatedName: 0.0625}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("by label:team = %v, want %v", got, want)
	}
}
