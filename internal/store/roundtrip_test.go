package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

var (
	t0  = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	win = Window{Cluster: "prod", From: t0.Add(-time.Hour), To: t0.Add(24 * time.Hour)}
	web = model.WorkloadRef{Kind: "Deployment", Name: "web"}
)

// roundTrip writes rows, reads them back through the typed query, and wants them equal.
func roundTrip[T any](t *testing.T, name string, write func(context.Context, []T) error, read func(context.Context, Window) ([]T, error), rows []T) {
	t.Run(name, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := write(ctx, rows); err != nil {
			t.Fatalf("write: %v", err)
		}
		// Writing the same rows again must not change what is read (ReplacingMergeTree + FINAL).
		if err := write(ctx, rows); err != nil {
			t.Fatalf("write again: %v", err)
		}
		got, err := read(ctx, win)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if !reflect.DeepEqual(got, rows) {
			t.Errorf("round trip differs\n got: %+v\nwant: %+v", got, rows)
		}
	})
}

func TestRoundTripEveryTable(t *testing.T) {
	s := openTestStore(t)

	roundTrip(t, "nodes", s.InsertNodes, s.Nodes, []model.Node{
		{Cluster: "prod", ObservedAt: t0, Name: "ip-10-0-0-1", InstanceType: "m5.xlarge", Region: "eu-west-1",
			Zone: "eu-west-1a", CapacityType: model.CapacitySpot, CPUCapacityCores: 4, CPUAllocatableCores: 3.92,
			MemoryCapacityBytes: 16 << 30, MemoryAllocatableBytes: 15 << 30, Labels: map[string]string{"pool": "general", "a": "b"}},
		{Cluster: "prod", ObservedAt: t0, Name: "ip-10-0-0-2", InstanceType: "p3.2xlarge", CapacityType: model.CapacityOnDemand,
			CPUCapacityCores: 8, CPUAllocatableCores: 7.9, MemoryCapacityBytes: 61 << 30, MemoryAllocatableBytes: 60 << 30,
			GPUCapacity: 1, GPUAllocatable: 1},
	})

	// One snapshot per namespace: NamespaceLabels returns each namespace's latest, by name.
	roundTrip(t, "namespaces", s.InsertNamespaces, s.NamespaceLabels, []model.Namespace{
		{Cluster: "prod", ObservedAt: t0, Name: "kube-system", Labels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
		{Cluster: "prod", ObservedAt: t0, Name: "scratch"},
		{Cluster: "prod", ObservedAt: t0.Add(time.Minute), Name: "shop", Labels: map[string]string{"team": "payments", "env": "prod"}},
	})

	roundTrip(t, "containers", s.InsertContainers, s.Containers, []model.Container{
		{Cluster: "prod", ObservedAt: t0, Namespace: "shop", Pod: "web-7d9f-abcde", PodUID: "uid-1", Container: "app",
			Node: "ip-10-0-0-1", Phase: "Running", QoSClass: "Burstable", Workload: web, CPURequestCores: 0.25,
			CPULimitCores: 1, MemoryRequestBytes: 256 << 20, MemoryLimitBytes: 512 << 20, StartedAt: t0.Add(-48 * time.Hour),
			RestartCount: 2, LastTerminationReason: "OOMKilled", Labels: map[string]string{"app": "web", "team": "payments"}},
		{Cluster: "prod", ObservedAt: t0, Namespace: "shop", Pod: "web-7d9f-abcde", PodUID: "uid-1", Container: "init-db",
			Init: true, Node: "ip-10-0-0-1", Phase: "Running", QoSClass: "Burstable", Workload: web,
			StartedAt: t0.Add(-48 * time.Hour), FinishedAt: t0.Add(-47 * time.Hour)},
	})

	roundTrip(t, "usage_samples", s.InsertUsageSamples, s.UsageSamples, []model.UsageSample{
		{Cluster: "prod", Timestamp: t0, Namespace: "shop", Workload: web, Pod: "web-7d9f-abcde", Container: "app",
			CPUUsageCores: 0.2125, MemoryWorkingSetBytes: 300 << 20, CPUThrottledPeriods: 12, CPUPeriods: 600},
		{Cluster: "prod", Timestamp: t0.Add(time.Minute), Namespace: "shop", Workload: web, Pod: "web-7d9f-abcde", Container: "app",
			CPUUsageCores: 0.5, MemoryWorkingSetBytes: 310 << 20, CPUPeriods: 600},
	})

	roundTrip(t, "container_events", s.InsertContainerEvents, s.ContainerEvents, []model.ContainerEvent{
		{Cluster: "prod", Timestamp: t0, Namespace: "shop", Workload: web, Pod: "web-7d9f-abcde", Container: "app",
			Node: "ip-10-0-0-1", Kind: model.EventOOMKill, Reason: "OOMKilled", Message: "container app was OOM-killed",
			Count: 1, MemoryLimitBytes: 512 << 20},
	})

	roundTrip(t, "node_prices", s.InsertNodePrices, s.NodePrices, []model.NodePrice{
		{Cluster: "prod", Hour: t0, Node: "ip-10-0-0-1", InstanceType: "m5.xlarge", CapacityType: model.CapacitySpot,
			Currency: "USD", HourlyCost: 0.0704, CPUCoreHourCost: 0.0122, RAMGiBHourCost: 0.00135, Source: "rule 1"},
	})

	// Rows come back in the query's order: hour, namespace ("__idle__" sorts first), ...
	roundTrip(t, "cost_allocations", s.InsertAllocations, s.Allocations, []model.Allocation{
		{Cluster: "prod", Hour: t0, Node: "ip-10-0-0-1", Namespace: "__idle__", Idle: true, RunHours: 1,
			CPUCoreHours: 3.62, RAMByteHours: 14 << 30, CPUCost: 0.0441, RAMCost: 0.0189},
		{Cluster: "prod", Hour: t0, Node: "ip-10-0-0-1", Namespace: "shop", Workload: web, App: "web", Pod: "web-7d9f-abcde",
			Container: "app", Labels: map[string]string{"team": "payments"}, RunHours: 1, CPUCoreHours: 0.3,
			CPURequestCoreHours: 0.25, CPUUsageCoreHours: 0.2, RAMByteHours: 300 << 20, RAMRequestByteHours: 256 << 20,
			RAMUsageByteHours: 290 << 20, CPUCost: 0.00366, RAMCost: 0.0004},
	})
}

func TestAutoscalersLatestSnapshotWins(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	hpa := model.Autoscaler{Cluster: "prod", Namespace: "shop", Name: "web", Target: web, MinReplicas: 2, MaxReplicas: 10, Resources: []string{"cpu"}}
	later := hpa
	later.MaxReplicas, later.Resources = 20, []string{"cpu", "memory"}
	other := model.Autoscaler{Cluster: "prod", Namespace: "shop", Name: "api", Target: model.WorkloadRef{Kind: "Deployment", Name: "api"},
		MinReplicas: 1, MaxReplicas: 3, Resources: []string{}}
	for _, snap := range []struct {
		at time.Time
		as []model.Autoscaler
	}{{t0, []model.Autoscaler{hpa, other}}, {t0.Add(time.Minute), []model.Autoscaler{later}}} {
		if err := s.InsertAutoscalers(ctx, snap.at, snap.as); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Autoscalers(ctx, win)
	if err != nil {
		t.Fatal(err)
	}
	// By namespace, target kind and name: api before web; web as its later snapshot has it.
	want := []model.Autoscaler{other, later}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("autoscalers = %+v, want %+v", got, want)
	}
}

func TestWatermarkLatestWins(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	for _, w := range []model.Watermark{
		{Cluster: "prod", Job: "usage", Time: t0},
		{Cluster: "prod", Job: "usage", Time: t0.Add(5 * time.Minute)},
		{Cluster: "prod", Job: "inventory", Time: t0.Add(time.Minute)},
		{Cluster: "prod", Job: "usage", Time: t0.Add(-time.Hour)}, // moved back on purpose: wins
		{Cluster: "staging", Job: "usage", Time: t0.Add(time.Hour)},
	} {
		if err := s.SetWatermark(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Watermarks(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Watermark{
		{Cluster: "prod", Job: "inventory", Time: t0.Add(time.Minute)},
		{Cluster: "prod", Job: "usage", Time: t0.Add(-time.Hour)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("watermarks = %+v, want %+v", got, want)
	}
}
