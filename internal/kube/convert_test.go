package kube

import (
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tally-finops/tally/internal/model"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// res builds requirements from "name=quantity" pairs: requests first, then limits.
func res(requests, limits map[string]string) corev1.ResourceRequirements {
	list := func(m map[string]string) corev1.ResourceList {
		if m == nil {
			return nil
		}
		l := corev1.ResourceList{}
		for k, v := range m {
			l[corev1.ResourceName(k)] = resource.MustParse(v)
		}
		return l
	}
	return corev1.ResourceRequirements{Requests: list(requests), Limits: list(limits)}
}

func ctr(name string, r corev1.ResourceRequirements) corev1.Container {
	return corev1.Container{Name: name, Image: "registry/" + name, Resources: r}
}

func podOf(ns, name string, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name)},
		Spec:       corev1.PodSpec{Containers: containers, NodeName: "node-a"},
	}
}

func mt(t time.Time) metav1.Time { return metav1.NewTime(t) }

func TestPodQOS(t *testing.T) {
	guaranteed := res(map[string]string{"cpu": "500m", "memory": "1Gi"}, map[string]string{"cpu": "500m", "memory": "1Gi"})
	cases := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"status wins", func() *corev1.Pod {
			p := podOf("a", "p", ctr("c", corev1.ResourceRequirements{}))
			p.Status.QOSClass = corev1.PodQOSGuaranteed
			return p
		}(), "Guaranteed"},
		{"no resources", podOf("a", "p", ctr("c", corev1.ResourceRequirements{})), "BestEffort"},
		{"only a gpu is still best effort", podOf("a", "p", ctr("c", res(nil, map[string]string{"nvidia.com/gpu": "1"}))), "BestEffort"},
		{"zero quantities are ignored", podOf("a", "p", ctr("c", res(map[string]string{"cpu": "0"}, nil))), "BestEffort"},
		{"equal requests and limits", podOf("a", "p", ctr("c", guaranteed)), "Guaranteed"},
		{"limits only: requests default to them", podOf("a", "p", ctr("c", res(nil, map[string]string{"cpu": "1", "memory": "1Gi"}))), "Guaranteed"},
		{"request below limit", podOf("a", "p", ctr("c", res(map[string]string{"cpu": "250m", "memory": "1Gi"}, map[string]string{"cpu": "500m", "memory": "1Gi"}))), "Burstable"},
		{"memory limit missing", podOf("a", "p", ctr("c", res(map[string]string{"cpu": "1"}, map[string]string{"cpu": "1"}))), "Burstable"},
		{"one of two containers without limits", podOf("a", "p", ctr("c", guaranteed), ctr("d", res(map[string]string{"cpu": "100m"}, nil))), "Burstable"},
		{"init container without limits", func() *corev1.Pod {
			p := podOf("a", "p", ctr("c", guaranteed))
			p.Spec.InitContainers = []corev1.Container{ctr("init", corev1.ResourceRequirements{})}
			return p
		}(), "Burstable"},
		{"pod-level resources decide", func() *corev1.Pod {
			p := podOf("a", "p", ctr("c", corev1.ResourceRequirements{}))
			r := res(nil, map[string]string{"cpu": "2", "memory": "2Gi"})
			p.Spec.Resources = &r
			return p
		}(), "Guaranteed"},
		{"pod-level requests without limits", func() *corev1.Pod {
			p := podOf("a", "p", ctr("c", guaranteed))
			r := res(map[string]string{"cpu": "2"}, nil)
			p.Spec.Resources = &r
			return p
		}(), "Burstable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := podQOS(tc.pod); got != tc.want {
				t.Fatalf("podQOS = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAppendContainers(t *testing.T) {
	wl := model.WorkloadRef{Kind: "Deployment", Name: "web"}
	start := t0.Add(-time.Hour)
	cases := []struct {
		name string
		pod  func() *corev1.Pod
		want []model.Container
	}{
		{
			name: "requests, limits, gpu, labels, running",
			pod: func() *corev1.Pod {
				p := podOf("shop", "web-1", ctr("app", res(
					map[string]string{"cpu": "250m", "memory": "512Mi", "nvidia.com/gpu": "2"},
					map[string]string{"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "2"})))
				p.Labels = map[string]string{"app": "web", "team": "a"}
				p.Status = corev1.PodStatus{
					Phase: corev1.PodRunning, QOSClass: corev1.PodQOSBurstable, StartTime: ptr(mt(start)),
					ContainerStatuses: []corev1.ContainerStatus{{
						Name: "app", RestartCount: 3,
						State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: mt(start.Add(time.Minute))}},
						LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, FinishedAt: mt(start.Add(50 * time.Second))}},
					}},
				}
				return p
			},
			want: []model.Container{{
				Cluster: "c1", ObservedAt: t0, Namespace: "shop", Pod: "web-1", PodUID: "uid-shop-web-1", Container: "app",
				Node: "node-a", Phase: "Running", QoSClass: "Burstable", Workload: wl,
				CPURequestCores: 0.25, CPULimitCores: 1, MemoryRequestBytes: 512 << 20, MemoryLimitBytes: 1 << 30, GPURequest: 2,
				StartedAt: start.Add(time.Minute), RestartCount: 3, LastTerminationReason: "OOMKilled",
				Labels: map[string]string{"app": "web", "team": "a"},
			}},
		},
		{
			name: "init container first, limits stand in for requests, qos computed, pod start time",
			pod: func() *corev1.Pod {
				p := podOf("shop", "web-2", ctr("app", res(nil, map[string]string{"cpu": "2", "memory": "2Gi"})))
				p.Spec.InitContainers = []corev1.Container{ctr("migrate", res(nil, map[string]string{"cpu": "2", "memory": "2Gi"}))}
				p.Status = corev1.PodStatus{
					Phase: corev1.PodRunning, StartTime: ptr(mt(start)),
					InitContainerStatuses: []corev1.ContainerStatus{{
						Name:  "migrate",
						State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: mt(start.Add(time.Second)), FinishedAt: mt(start.Add(30 * time.Second))}},
					}},
					ContainerStatuses: []corev1.ContainerStatus{{
						Name:  "app",
						State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}},
					}},
				}
				return p
			},
			want: []model.Container{
				{
					Cluster: "c1", ObservedAt: t0, Namespace: "shop", Pod: "web-2", PodUID: "uid-shop-web-2", Container: "migrate", Init: true,
					Node: "node-a", Phase: "Running", QoSClass: "Guaranteed", Workload: wl,
					CPURequestCores: 2, CPULimitCores: 2, MemoryRequestBytes: 2 << 30, MemoryLimitBytes: 2 << 30,
					StartedAt: start.Add(time.Second), FinishedAt: start.Add(30 * time.Second), LastTerminationReason: "Completed",
				},
				{
					Cluster: "c1", ObservedAt: t0, Namespace: "shop", Pod: "web-2", PodUID: "uid-shop-web-2", Container: "app",
					Node: "node-a", Phase: "Running", QoSClass: "Guaranteed", Workload: wl,
					CPURequestCores: 2, CPULimitCores: 2, MemoryRequestBytes: 2 << 30, MemoryLimitBytes: 2 << 30,
					StartedAt: start,
				},
			},
		},
		{
			name: "pending pod without status: phase Pending, best effort, never started",
			pod: func() *corev1.Pod {
				p := podOf("shop", "web-3", ctr("app", corev1.ResourceRequirements{}))
				p.Spec.NodeName = ""
				return p
			},
			want: []model.Container{{
				Cluster: "c1", ObservedAt: t0, Namespace: "shop", Pod: "web-3", PodUID: "uid-shop-web-3", Container: "app",
				Phase: "Pending", QoSClass: "BestEffort", Workload: wl,
			}},
		},
		{
			name: "job pod killed by OOM without restart: the current state is the last termination",
			pod: func() *corev1.Pod {
				p := podOf("batch", "report-x", ctr("main", res(map[string]string{"memory": "256Mi"}, map[string]string{"memory": "256Mi"})))
				p.Status = corev1.PodStatus{
					Phase: corev1.PodFailed, QOSClass: corev1.PodQOSBurstable, StartTime: ptr(mt(start)),
					ContainerStatuses: []corev1.ContainerStatus{{
						Name:  "main",
						State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, StartedAt: mt(start), FinishedAt: mt(start.Add(5 * time.Minute))}},
					}},
				}
				return p
			},
			want: []model.Container{{
				Cluster: "c1", ObservedAt: t0, Namespace: "batch", Pod: "report-x", PodUID: "uid-batch-report-x", Container: "main",
				Node: "node-a", Phase: "Failed", QoSClass: "Burstable", Workload: wl,
				MemoryRequestBytes: 256 << 20, MemoryLimitBytes: 256 << 20,
				StartedAt: start, FinishedAt: start.Add(5 * time.Minute), LastTerminationReason: "OOMKilled",
			}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := appendContainers(nil, tc.pod(), "c1", t0, wl)
			if d := gocmp.Diff(tc.want, got); d != "" {
				t.Fatalf("containers (-want +got):\n%s", d)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestNodeFromObject(t *testing.T) {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "gpu-1", Labels: map[string]string{
			"node.kubernetes.io/instance-type": "g5.xlarge",
			"topology.kubernetes.io/region":    "eu-west-1",
			"topology.kubernetes.io/zone":      "eu-west-1a",
			"karpenter.sh/capacity-type":       "spot",
		}},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{"cpu": resource.MustParse("4"), "memory": resource.MustParse("16Gi"), "nvidia.com/gpu": resource.MustParse("1"), "pods": resource.MustParse("110")},
			Allocatable: corev1.ResourceList{"cpu": resource.MustParse("3920m"), "memory": resource.MustParse("15Gi"), "nvidia.com/gpu": resource.MustParse("1")},
		},
	}
	want := model.Node{
		Cluster: "c1", ObservedAt: t0, Name: "gpu-1", InstanceType: "g5.xlarge", Region: "eu-west-1", Zone: "eu-west-1a",
		CapacityType: model.CapacitySpot, CPUCapacityCores: 4, CPUAllocatableCores: 3.92,
		MemoryCapacityBytes: 16 << 30, MemoryAllocatableBytes: 15 << 30, GPUCapacity: 1, GPUAllocatable: 1,
		Labels: n.Labels,
	}
	if d := gocmp.Diff(want, nodeFromObject(n, "c1", t0)); d != "" {
		t.Fatalf("node (-want +got):\n%s", d)
	}

	// Deprecated beta labels are the fallback.
	old := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "old", Labels: map[string]string{
		"beta.kubernetes.io/instance-type":         "n1-standard-4",
		"failure-domain.beta.kubernetes.io/region": "us-central1",
		"failure-domain.beta.kubernetes.io/zone":   "us-central1-b",
	}}}
	got := nodeFromObject(old, "c1", t0)
	if got.InstanceType != "n1-standard-4" || got.Region != "us-central1" || got.Zone != "us-central1-b" || got.CapacityType != "" {
		t.Fatalf("beta labels: got %+v", got)
	}
}

func TestCapacityType(t *testing.T) {
	cases := []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"karpenter.sh/capacity-type": "spot"}, model.CapacitySpot},
		{map[string]string{"karpenter.sh/capacity-type": "on-demand"}, model.CapacityOnDemand},
		{map[string]string{"karpenter.sh/capacity-type": "reserved"}, model.CapacityOnDemand},
		{map[string]string{"eks.amazonaws.com/capacityType": "SPOT"}, model.CapacitySpot},
		{map[string]string{"eks.amazonaws.com/capacityType": "ON_DEMAND"}, model.CapacityOnDemand},
		{map[string]string{"cloud.google.com/gke-spot": "true", "cloud.google.com/gke-nodepool": "p"}, model.CapacitySpot},
		{map[string]string{"cloud.google.com/gke-preemptible": "true", "cloud.google.com/gke-nodepool": "p"}, model.CapacitySpot},
		{map[string]string{"cloud.google.com/gke-provisioning": "standard", "cloud.google.com/gke-nodepool": "p"}, model.CapacityOnDemand},
		{map[string]string{"cloud.google.com/gke-nodepool": "default-pool"}, model.CapacityOnDemand},
		{map[string]string{"cloud.google.com/gke-spot": "false", "cloud.google.com/gke-nodepool": "p"}, model.CapacityOnDemand},
		{map[string]string{"kubernetes.azure.com/scalesetpriority": "spot", "kubernetes.azure.com/agentpool": "spot1"}, model.CapacitySpot},
		{map[string]string{"kubernetes.azure.com/agentpool": "system"}, model.CapacityOnDemand},
		{map[string]string{"node.kubernetes.io/lifecycle": "spot"}, model.CapacitySpot},
		{map[string]string{"node.kubernetes.io/lifecycle": "normal"}, model.CapacityOnDemand},
		{map[string]string{"spotinst.io/node-lifecycle": "od"}, model.CapacityOnDemand},
		{map[string]string{"spotinst.io/node-lifecycle": "spot"}, model.CapacitySpot},
		{map[string]string{"karpenter.sh/capacity-type": "weird"}, ""},
		{map[string]string{"kubernetes.io/hostname": "kind-worker"}, ""},
		{nil, ""},
	}
	for _, tc := range cases {
		if got := capacityType(tc.labels); got != tc.want {
			t.Errorf("capacityType(%v) = %q, want %q", tc.labels, got, tc.want)
		}
	}
}

func TestAutoscalerFromHPA(t *testing.T) {
	h := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    10,
			Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "memory"}},
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "rps"}}},
				{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: "cpu", Container: "app"}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu"}},
			},
		},
	}
	target := model.WorkloadRef{Kind: "Deployment", Name: "web"}
	want := model.Autoscaler{Cluster: "c1", Namespace: "shop", Name: "web", Target: target, MinReplicas: 1, MaxReplicas: 10, Resources: []string{"cpu", "memory"}}
	if d := gocmp.Diff(want, autoscalerFromHPA(h, "c1", target)); d != "" {
		t.Fatalf("autoscaler (-want +got):\n%s", d)
	}
	h.Spec.MinReplicas = ptr(int32(3))
	h.Spec.Metrics = nil
	got := autoscalerFromHPA(h, "c1", target)
	if got.MinReplicas != 3 || got.Resources != nil {
		t.Fatalf("min replicas 3, no metrics: got %+v", got)
	}
}
