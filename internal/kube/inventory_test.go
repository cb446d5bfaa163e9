package kube

import (
	"context"
	"log/slog"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"

	"github.com/tally-finops/tally/internal/model"
)

func node(name string, labels map[string]string, cpu, mem string) *corev1.Node {
	l := corev1.ResourceList{"cpu": resource.MustParse(cpu), "memory": resource.MustParse(mem), "pods": resource.MustParse("110")}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Status: corev1.NodeStatus{
			Capacity: l, Allocatable: l.DeepCopy(),
			Images: []corev1.ContainerImage{{Names: []string{"registry/big-image:1"}, SizeBytes: 1 << 30}},
		},
	}
}

// heavyPod is a pod as an API server stores it: managed fields, annotations, env, volumes.
func heavyPod(ns, name string, uid types.UID, nodeName string, owner *metav1.OwnerReference, containers ...corev1.Container) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, UID: uid, Labels: map[string]string{"app": name},
			Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"big":"json"}`},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
		},
		Spec: corev1.PodSpec{NodeName: nodeName, Containers: containers,
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: ptr(mt(t0.Add(-time.Hour)))},
	}
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].Env = []corev1.EnvVar{{Name: "A", Value: "b"}}
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: p.Spec.Containers[i].Name, Image: "registry/app:1", ImageID: "sha256:abc", ContainerID: "containerd://1",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: mt(t0.Add(-time.Hour))}},
		})
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return p
}

func inventoryObjects() []runtime.Object {
	small := res(map[string]string{"cpu": "100m", "memory": "128Mi"}, map[string]string{"memory": "256Mi"})
	killed := t0.Add(-30 * time.Minute)
	web1 := heavyPod("shop", "web-5d9f-a", "pod-web-a", "node-a", ptr(ownerRef("apps/v1", "ReplicaSet", "web-5d9f", "rs-web")), ctr("app", small))
	web1.Status.ContainerStatuses[0].RestartCount = 1
	web1.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, FinishedAt: mt(killed)}}
	evicted := heavyPod("shop", "web-5d9f-b", "pod-web-b", "node-b", ptr(ownerRef("apps/v1", "ReplicaSet", "web-5d9f", "rs-web")), ctr("app", small))
	evicted.Status.Phase = corev1.PodFailed
	evicted.Status.Reason = "Evicted"
	return []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "shop"}}},
		node("node-a", map[string]string{"node.kubernetes.io/instance-type": "m5.large", "eks.amazonaws.com/capacityType": "ON_DEMAND", "topology.kubernetes.io/zone": "eu-west-1a"}, "2", "8Gi"),
		node("node-b", map[string]string{"node.kubernetes.io/instance-type": "m5.xlarge", "karpenter.sh/capacity-type": "spot"}, "4", "16Gi"),
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-5d9f", UID: "rs-web", OwnerReferences: []metav1.OwnerReference{ownerRef("apps/v1", "Deployment", "web", "dep-web")}}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "canary-6c8", UID: "rs-canary", OwnerReferences: []metav1.OwnerReference{ownerRef("argoproj.io/v1alpha1", "Rollout", "canary", "ro-canary")}}},
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "report-2901", UID: "job-report", OwnerReferences: []metav1.OwnerReference{ownerRef("batch/v1", "CronJob", "report", "cj-report")}}},
		web1,
		evicted,
		heavyPod("shop", "canary-6c8-x", "pod-canary", "node-b", ptr(ownerRef("apps/v1", "ReplicaSet", "canary-6c8", "rs-canary")), ctr("app", small)),
		heavyPod("shop", "report-2901-q", "pod-report", "node-a", ptr(ownerRef("batch/v1", "Job", "report-2901", "job-report")), ctr("main", small)),
		heavyPod("shop", "agent-z", "pod-agent", "node-a", ptr(ownerRef("apps/v1", "DaemonSet", "agent", "ds-agent")), ctr("agent", small)),
		heavyPod("shop", "debug", "pod-debug", "node-b", nil, ctr("sh", corev1.ResourceRequirements{})),
		warning("ev-evicted", "Evicted", corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-5d9f-b", UID: "pod-web-b"}, t0.Add(-5*time.Minute), 1),
		warning("ev-oom-node", "OOMKilling", corev1.ObjectReference{Kind: "Node", Name: "node-b"}, t0.Add(-2*time.Minute), 2),
		warning("ev-backoff", "BackOff", corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "debug", UID: "pod-debug"}, t0, 9),
		&autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				MinReplicas:    ptr(int32(2)), MaxReplicas: 8,
				Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu"}}},
			},
		},
		&autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "old-rs"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d9f"},
				MaxReplicas:    3,
				Metrics:        []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "memory"}}},
			},
		},
	}
}

func TestInventoryFake(t *testing.T) {
	cs := fake.NewClientset(inventoryObjects()...)
	cs.Resources = customResources()
	scheme := runtime.NewScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	meta := metadatafake.NewSimpleMetadataClient(scheme, partial("argoproj.io/v1alpha1", "Rollout", "shop", "canary", "ro-canary"))
	inv := NewInventory(NewClientsFrom(cs, meta), "c1", slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := inv.Start(ctx); err != nil {
		t.Fatal(err)
	}

	t.Run("nodes", func(t *testing.T) {
		got := inv.Nodes(t0)
		want := []model.Node{
			{Cluster: "c1", ObservedAt: t0, Name: "node-a", InstanceType: "m5.large", Zone: "eu-west-1a", CapacityType: model.CapacityOnDemand,
				CPUCapacityCores: 2, CPUAllocatableCores: 2, MemoryCapacityBytes: 8 << 30, MemoryAllocatableBytes: 8 << 30,
				Labels: map[string]string{"node.kubernetes.io/instance-type": "m5.large", "eks.amazonaws.com/capacityType": "ON_DEMAND", "topology.kubernetes.io/zone": "eu-west-1a"}},
			{Cluster: "c1", ObservedAt: t0, Name: "node-b", InstanceType: "m5.xlarge", CapacityType: model.CapacitySpot,
				CPUCapacityCores: 4, CPUAllocatableCores: 4, MemoryCapacityBytes: 16 << 30, MemoryAllocatableBytes: 16 << 30,
				Labels: map[string]string{"node.kubernetes.io/instance-type": "m5.xlarge", "karpenter.sh/capacity-type": "spot"}},
		}
		if d := gocmp.Diff(want, got); d != "" {
			t.Fatalf("nodes (-want +got):\n%s", d)
		}
	})

	t.Run("containers", func(t *testing.T) {
		type row struct {
			Pod, Container, Node, Phase, QoS string
			Workload                         model.WorkloadRef
			Restarts                         uint32
			Last                             string
		}
		var got []row
		for _, c := range inv.Containers(t0) {
			if c.Cluster != "c1" || !c.ObservedAt.Equal(t0) || c.CPURequestCores != 0.1 && c.Container != "sh" {
				t.Errorf("container %s/%s: cluster %q, observed %v, cpu %v", c.Pod, c.Container, c.Cluster, c.ObservedAt, c.CPURequestCores)
			}
			got = append(got, row{c.Pod, c.Container, c.Node, c.Phase, c.QoSClass, c.Workload, c.RestartCount, c.LastTerminationReason})
		}
		want := []row{
			{"agent-z", "agent", "node-a", "Running", "Burstable", model.WorkloadRef{Kind: "DaemonSet", Name: "agent"}, 0, ""},
			{"canary-6c8-x", "app", "node-b", "Running", "Burstable", model.WorkloadRef{Kind: "Rollout", Name: "canary"}, 0, ""},
			{"debug", "sh", "node-b", "Running", "BestEffort", model.WorkloadRef{Kind: "Pod", Name: "debug"}, 0, ""},
			{"report-2901-q", "main", "node-a", "Running", "Burstable", model.WorkloadRef{Kind: "CronJob", Name: "report"}, 0, ""},
			{"web-5d9f-a", "app", "node-a", "Running", "Burstable", model.WorkloadRef{Kind: "Deployment", Name: "web"}, 1, "OOMKilled"},
			{"web-5d9f-b", "app", "node-b", "Failed", "Burstable", model.WorkloadRef{Kind: "Deployment", Name: "web"}, 0, ""},
		}
		if d := gocmp.Diff(want, got); d != "" {
			t.Fatalf("containers (-want +got):\n%s", d)
		}
	})

	t.Run("events", func(t *testing.T) {
		web := model.WorkloadRef{Kind: "Deployment", Name: "web"}
		want := []model.ContainerEvent{
			{Cluster: "c1", Timestamp: t0.Add(-30 * time.Minute), Namespace: "shop", Workload: web, Pod: "web-5d9f-a", Container: "app", Node: "node-a",
				Kind: model.EventOOMKill, Reason: "OOMKilled", Count: 1, MemoryLimitBytes: 256 << 20},
			{Cluster: "c1", Timestamp: t0.Add(-5 * time.Minute), Namespace: "shop", Workload: web, Pod: "web-5d9f-b", Node: "node-b",
				Kind: model.EventEviction, Reason: "Evicted", Message: "Evicted message", Count: 1},
			{Cluster: "c1", Timestamp: t0.Add(-2 * time.Minute), Node: "node-b", Kind: model.EventOOMKill, Reason: "OOMKilling", Message: "OOMKilling message", Count: 2},
		}
		if d := gocmp.Diff(want, inv.Events()); d != "" {
			t.Fatalf("events (-want +got):\n%s", d)
		}
	})

	t.Run("autoscalers", func(t *testing.T) {
		want := []model.Autoscaler{
			{Cluster: "c1", Namespace: "shop", Name: "old-rs", Target: model.WorkloadRef{Kind: "Deployment", Name: "web"}, MinReplicas: 1, MaxReplicas: 3, Resources: []string{"memory"}},
			{Cluster: "c1", Namespace: "shop", Name: "web", Target: model.WorkloadRef{Kind: "Deployment", Name: "web"}, MinReplicas: 2, MaxReplicas: 8, Resources: []string{"cpu"}},
		}
		if d := gocmp.Diff(want, inv.Autoscalers()); d != "" {
			t.Fatalf("autoscalers (-want +got):\n%s", d)
		}
	})

	t.Run("namespaces", func(t *testing.T) {
		want := []model.Namespace{{Cluster: "c1", ObservedAt: t0, Name: "shop", Labels: map[string]string{"team": "shop"}}}
		got := inv.Namespaces(t0)
		if d := gocmp.Diff(want, got); d != "" {
			t.Fatalf("namespaces (-want +got):\n%s", d)
		}
		got[0].Labels["team"] = "changed" // a copy: the cache keeps its labels
		if again := inv.Namespaces(t0); again[0].Labels["team"] != "shop" {
			t.Fatalf("changing a snapshot's labels changed the cache: %v", again[0].Labels)
		}
	})

	t.Run("namespace labels", func(t *testing.T) {
		if got := inv.NamespaceLabels("shop"); got["team"] != "shop" {
			t.Fatalf("labels of shop = %v", got)
		}
		if got := inv.NamespaceLabels("nope"); got != nil {
			t.Fatalf("labels of a missing namespace = %v", got)
		}
	})

	t.Run("caches hold slim objects", func(t *testing.T) {
		obj, ok, err := inv.pods.GetStore().GetByKey("shop/web-5d9f-a")
		if err != nil || !ok {
			t.Fatalf("pod not cached: %v", err)
		}
		p := obj.(*corev1.Pod)
		if p.ManagedFields != nil || p.Annotations != nil || p.Spec.Volumes != nil || p.Spec.Containers[0].Env != nil || p.Status.ContainerStatuses[0].Image != "" {
			t.Fatalf("pod not slimmed: %+v", p)
		}
		obj, _, _ = inv.nodes.GetStore().GetByKey("node-a")
		if n := obj.(*corev1.Node); n.Status.Images != nil || len(n.Status.Capacity) != 2 {
			t.Fatalf("node not slimmed: %+v", n.Status)
		}
	})

	t.Run("metadata reads are cached", func(t *testing.T) {
		for range 5 {
			inv.Containers(t0)
		}
		if got := len(meta.Actions()); got != 1 {
			t.Fatalf("metadata actions = %d, want 1 (the rollout, once)", got)
		}
	})
}

func TestInventoryStartHonoursContext(t *testing.T) {
	cs := fake.NewClientset()
	inv := NewInventory(NewClientsFrom(cs, nil), "c1", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := inv.Start(ctx); err == nil {
		t.Fatal("Start with a cancelled context returned nil")
	}
}
