package kube

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/stacktest"
)

// clusterObjects is a small cluster as controllers would have left it: two nodes with cloud
// labels, Deployment web → ReplicaSet → two running pods (one OOM-killed once) and an
// evicted one, CronJob → Job → a finished pod, a DaemonSet pod, a bare pod, an HPA, and the
// Warning events of the eviction and of a kernel OOM on a node. ownerReferences carry no
// UIDs: Load fills them in.
func clusterObjects(ns string, base time.Time) []runtime.Object {
	nodeA, nodeB := ns+"-node-a", ns+"-node-b"
	labels := func(app string) map[string]string { return map[string]string{"app": app, "team": "kubetest"} }
	template := func(app string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels(app)},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.local/" + app + ":1"}}},
		}
	}
	owner := func(apiVersion, kind, name string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: "filled-by-load", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}
	}
	webRes := res(map[string]string{"cpu": "250m", "memory": "256Mi"}, map[string]string{"cpu": "500m", "memory": "512Mi"})
	pod := func(name, app, nodeName string, owners []metav1.OwnerReference, r corev1.ResourceRequirements) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels(app), OwnerReferences: owners},
			Spec: corev1.PodSpec{NodeName: nodeName, RestartPolicy: corev1.RestartPolicyAlways,
				Containers: []corev1.Container{{Name: "app", Image: "registry.local/" + app + ":1", Resources: r}}},
		}
	}
	running := func(p *corev1.Pod, started time.Time) *corev1.Pod {
		p.Status = corev1.PodStatus{
			Phase: corev1.PodRunning, StartTime: ptr(mt(started)),
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "app", Image: p.Spec.Containers[0].Image, ImageID: "sha256:0", Ready: true, Started: ptr(true),
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: mt(started.Add(2 * time.Second))}},
			}},
		}
		return p
	}

	webA := running(pod("web-5d9f-aaaaa", "web", nodeA, owner("apps/v1", "ReplicaSet", "web-5d9f"), webRes), base.Add(-2*time.Hour))
	webA.Status.ContainerStatuses[0].RestartCount = 1
	webA.Status.ContainerStatuses[0].State.Running.StartedAt = mt(base.Add(-40 * time.Minute))
	webA.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 137, Reason: "OOMKilled", StartedAt: mt(base.Add(-2 * time.Hour)), FinishedAt: mt(base.Add(-41 * time.Minute)),
	}}
	webB := running(pod("web-5d9f-bbbbb", "web", nodeB, owner("apps/v1", "ReplicaSet", "web-5d9f"), webRes), base.Add(-2*time.Hour))
	webC := pod("web-5d9f-ccccc", "web", nodeB, owner("apps/v1", "ReplicaSet", "web-5d9f"), webRes)
	webC.Status = corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted", Message: "The node was low on resource: memory.",
		StartTime: ptr(mt(base.Add(-3 * time.Hour)))}
	report := pod("report-29010000-xk2p9", "report", nodeA, owner("batch/v1", "Job", "report-29010000"), res(map[string]string{"cpu": "1", "memory": "1Gi"}, map[string]string{"cpu": "1", "memory": "1Gi"}))
	report.Spec.RestartPolicy = corev1.RestartPolicyNever
	report.Status = corev1.PodStatus{Phase: corev1.PodSucceeded, StartTime: ptr(mt(base.Add(-30 * time.Minute))),
		ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "registry.local/report:1", ImageID: "sha256:0",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed",
				StartedAt: mt(base.Add(-29 * time.Minute)), FinishedAt: mt(base.Add(-20 * time.Minute))}}}}}
	agent := running(pod("agent-7xq2m", "agent", nodeA, owner("apps/v1", "DaemonSet", "agent"), res(map[string]string{"cpu": "50m", "memory": "64Mi", "nvidia.com/gpu": "1"}, map[string]string{"nvidia.com/gpu": "1"})), base.Add(-5*time.Hour))
	debug := running(pod("debug", "debug", nodeB, nil, corev1.ResourceRequirements{}), base.Add(-10*time.Minute))

	jobTemplate := template("report")
	jobTemplate.Spec.RestartPolicy = corev1.RestartPolicyNever
	return []runtime.Object{
		// Pods first and owners last: Load puts them in order.
		webA, webB, webC, report, agent, debug,
		&autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				MinReplicas:    ptr(int32(2)), MaxReplicas: 6,
				Metrics: []autoscalingv2.MetricSpec{
					{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu",
						Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(70))}}},
					{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: "memory", Container: "app",
						Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(80))}}},
				},
			},
		},
		&corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: "web-5d9f-ccccc.evicted"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: ns, Name: "web-5d9f-ccccc"},
			Type:           corev1.EventTypeWarning, Reason: "Evicted", Message: "The node was low on resource: memory.",
			Source: corev1.EventSource{Component: "kubelet", Host: nodeB}, Count: 1,
			FirstTimestamp: mt(base.Add(-3 * time.Hour)), LastTimestamp: mt(base.Add(-3 * time.Hour)),
		},
		&corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: nodeB + ".oomkilling"},
			InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: nodeB},
			Type:           corev1.EventTypeWarning, Reason: "OOMKilling", Message: "Memory cgroup out of memory: Killed process 4242 (java)",
			Source: corev1.EventSource{Component: "kernel-monitor", Host: nodeB}, Count: 3,
			FirstTimestamp: mt(base.Add(-time.Hour)), LastTimestamp: mt(base.Add(-15 * time.Minute)),
		},
		&appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-5d9f", OwnerReferences: owner("apps/v1", "Deployment", "web")},
			Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: labels("web")}, Template: template("web")},
		},
		&batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "report-29010000", OwnerReferences: owner("batch/v1", "CronJob", "report")},
			Spec:       batchv1.JobSpec{Template: jobTemplate},
		},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: labels("web")}, Template: template("web")},
		},
		&batchv1.CronJob{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "report"},
			Spec:       batchv1.CronJobSpec{Schedule: "0 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: jobTemplate}}},
		},
		&appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent"},
			Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels("agent")}, Template: template("agent")},
		},
		&corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: nodeA, Labels: map[string]string{
				"node.kubernetes.io/instance-type": "m5.large", "topology.kubernetes.io/region": "eu-west-1",
				"topology.kubernetes.io/zone": "eu-west-1a", "eks.amazonaws.com/capacityType": "ON_DEMAND", "kubetest": ns,
			}},
			Status: corev1.NodeStatus{
				Capacity:    corev1.ResourceList{"cpu": resource.MustParse("2"), "memory": resource.MustParse("8Gi"), "pods": resource.MustParse("110")},
				Allocatable: corev1.ResourceList{"cpu": resource.MustParse("1930m"), "memory": resource.MustParse("7Gi"), "pods": resource.MustParse("110")},
			},
		},
		&corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: nodeB, Labels: map[string]string{
				"beta.kubernetes.io/instance-type": "g2-standard-4", "failure-domain.beta.kubernetes.io/region": "europe-west4",
				"failure-domain.beta.kubernetes.io/zone": "europe-west4-b", "cloud.google.com/gke-nodepool": "gpu",
				"cloud.google.com/gke-spot": "true", "kubetest": ns,
			}},
			Status: corev1.NodeStatus{
				Capacity:    corev1.ResourceList{"cpu": resource.MustParse("4"), "memory": resource.MustParse("16Gi"), "nvidia.com/gpu": resource.MustParse("1")},
				Allocatable: corev1.ResourceList{"cpu": resource.MustParse("3920m"), "memory": resource.MustParse("15Gi"), "nvidia.com/gpu": resource.MustParse("1")},
			},
		},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"team": "kubetest"}}},
	}
}

func TestIntegrationAPIServer(t *testing.T) {
	kubeconfig := stacktest.Kubeconfig(t)
	c, err := NewClients(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := fmt.Sprintf("kubetest-%06d", rand.IntN(1_000_000))
	base := time.Now().UTC().Truncate(time.Second)
	objs := clusterObjects(ns, base)
	t.Cleanup(func() { deleteTestObjects(t, c, ns, objs) })

	began := time.Now()
	if err := Load(ctx, c, objs); err != nil {
		t.Fatalf("first load: %v", err)
	}
	t.Logf("first load of %d objects took %v", len(objs), time.Since(began).Round(time.Millisecond))
	uids := podUIDs(ctx, t, c, ns)
	began = time.Now()
	if err := Load(ctx, c, objs); err != nil {
		t.Fatalf("second load: %v", err)
	}
	t.Logf("second load took %v", time.Since(began).Round(time.Millisecond))
	if again := podUIDs(ctx, t, c, ns); !gocmp.Equal(uids, again) {
		t.Fatalf("second load changed the pods: %v, then %v", uids, again)
	}
	rs, err := c.kube.AppsV1().ReplicaSets(ns).Get(ctx, "web-5d9f", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dep, err := c.kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rs.OwnerReferences[0].UID != dep.UID {
		t.Fatalf("replicaset owner uid %s, deployment uid %s: Load did not fill the owner's UID", rs.OwnerReferences[0].UID, dep.UID)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	inv := NewInventory(c, "stack", logger)
	invCtx, stop := context.WithCancel(ctx)
	defer stop()
	began = time.Now()
	if err := inv.Start(invCtx); err != nil {
		t.Fatal(err)
	}
	t.Logf("informers in sync after %v", time.Since(began).Round(time.Millisecond))
	at := base.Add(time.Minute)
	checkIntegrationInventory(t, inv, ns, base, at, uids)
}

func podUIDs(ctx context.Context, t *testing.T, c *Clients, ns string) map[string]string {
	t.Helper()
	pods, err := c.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pods.Items {
		out[p.Name] = string(p.UID)
	}
	return out
}

func checkIntegrationInventory(t *testing.T, inv *Inventory, ns string, base, at time.Time, uids map[string]string) {
	nodeA, nodeB := ns+"-node-a", ns+"-node-b"
	web := model.WorkloadRef{Kind: "Deployment", Name: "web"}
	labels := func(app string) map[string]string { return map[string]string{"app": app, "team": "kubetest"} }
	// The API server's PodTopologyLabels admission copies the node's topology labels (the GA
	// ones only) to a pod created bound to it.
	labelsA := func(app string) map[string]string {
		l := labels(app)
		l["topology.kubernetes.io/region"] = "eu-west-1"
		l["topology.kubernetes.io/zone"] = "eu-west-1a"
		return l
	}

	var nodes []model.Node
	for _, n := range inv.Nodes(at) {
		if strings.HasPrefix(n.Name, ns) {
			n.Labels = nil
			nodes = append(nodes, n)
		}
	}
	wantNodes := []model.Node{
		{Cluster: "stack", ObservedAt: at, Name: nodeA, InstanceType: "m5.large", Region: "eu-west-1", Zone: "eu-west-1a", CapacityType: model.CapacityOnDemand,
			CPUCapacityCores: 2, CPUAllocatableCores: 1.93, MemoryCapacityBytes: 8 << 30, MemoryAllocatableBytes: 7 << 30},
		{Cluster: "stack", ObservedAt: at, Name: nodeB, InstanceType: "g2-standard-4", Region: "europe-west4", Zone: "europe-west4-b", CapacityType: model.CapacitySpot,
			CPUCapacityCores: 4, CPUAllocatableCores: 3.92, MemoryCapacityBytes: 16 << 30, MemoryAllocatableBytes: 15 << 30, GPUCapacity: 1, GPUAllocatable: 1},
	}
	if d := gocmp.Diff(wantNodes, nodes); d != "" {
		t.Errorf("nodes (-want +got):\n%s", d)
	}

	var containers []model.Container
	for _, c := range inv.Containers(at) {
		if c.Namespace == ns {
			containers = append(containers, c)
		}
	}
	webC := func(pod, node, phase string, started time.Time) model.Container {
		return model.Container{Cluster: "stack", ObservedAt: at, Namespace: ns, Pod: pod, PodUID: uids[pod], Container: "app", Node: node,
			Phase: phase, QoSClass: "Burstable", Workload: web, CPURequestCores: 0.25, CPULimitCores: 0.5,
			MemoryRequestBytes: 256 << 20, MemoryLimitBytes: 512 << 20, StartedAt: started, Labels: labels("web")}
	}
	agent := model.Container{Cluster: "stack", ObservedAt: at, Namespace: ns, Pod: "agent-7xq2m", PodUID: uids["agent-7xq2m"], Container: "app", Node: nodeA,
		Phase: "Running", QoSClass: "Burstable", Workload: model.WorkloadRef{Kind: "DaemonSet", Name: "agent"},
		CPURequestCores: 0.05, MemoryRequestBytes: 64 << 20, GPURequest: 1, StartedAt: base.Add(-5*time.Hour + 2*time.Second), Labels: labelsA("agent")}
	debug := model.Container{Cluster: "stack", ObservedAt: at, Namespace: ns, Pod: "debug", PodUID: uids["debug"], Container: "app", Node: nodeB,
		Phase: "Running", QoSClass: "BestEffort", Workload: model.WorkloadRef{Kind: "Pod", Name: "debug"},
		StartedAt: base.Add(-10*time.Minute + 2*time.Second), Labels: labels("debug")}
	report := model.Container{Cluster: "stack", ObservedAt: at, Namespace: ns, Pod: "report-29010000-xk2p9", PodUID: uids["report-29010000-xk2p9"], Container: "app", Node: nodeA,
		Phase: "Succeeded", QoSClass: "Guaranteed", Workload: model.WorkloadRef{Kind: "CronJob", Name: "report"},
		CPURequestCores: 1, CPULimitCores: 1, MemoryRequestBytes: 1 << 30, MemoryLimitBytes: 1 << 30,
		StartedAt: base.Add(-29 * time.Minute), FinishedAt: base.Add(-20 * time.Minute), LastTerminationReason: "Completed", Labels: labelsA("report")}
	webA := webC("web-5d9f-aaaaa", nodeA, "Running", base.Add(-40*time.Minute))
	webA.RestartCount = 1
	webA.LastTerminationReason = "OOMKilled"
	webA.Labels = labelsA("web")
	wantContainers := []model.Container{
		agent, debug, report, webA,
		webC("web-5d9f-bbbbb", nodeB, "Running", base.Add(-2*time.Hour+2*time.Second)),
		webC("web-5d9f-ccccc", nodeB, "Failed", base.Add(-3*time.Hour)),
	}
	if d := gocmp.Diff(wantContainers, containers); d != "" {
		t.Errorf("containers (-want +got):\n%s", d)
	}

	var events []model.ContainerEvent
	for _, e := range inv.Events() {
		if e.Namespace == ns || e.Node == nodeA || e.Node == nodeB {
			events = append(events, e)
		}
	}
	wantEvents := []model.ContainerEvent{
		{Cluster: "stack", Timestamp: base.Add(-3 * time.Hour), Namespace: ns, Workload: web, Pod: "web-5d9f-ccccc", Node: nodeB,
			Kind: model.EventEviction, Reason: "Evicted", Message: "The node was low on resource: memory.", Count: 1},
		{Cluster: "stack", Timestamp: base.Add(-41 * time.Minute), Namespace: ns, Workload: web, Pod: "web-5d9f-aaaaa", Container: "app", Node: nodeA,
			Kind: model.EventOOMKill, Reason: "OOMKilled", Count: 1, MemoryLimitBytes: 512 << 20},
		{Cluster: "stack", Timestamp: base.Add(-15 * time.Minute), Node: nodeB,
			Kind: model.EventOOMKill, Reason: "OOMKilling", Message: "Memory cgroup out of memory: Killed process 4242 (java)", Count: 3},
	}
	if d := gocmp.Diff(wantEvents, events); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}

	var autoscalers []model.Autoscaler
	for _, a := range inv.Autoscalers() {
		if a.Namespace == ns {
			autoscalers = append(autoscalers, a)
		}
	}
	wantAutoscalers := []model.Autoscaler{{Cluster: "stack", Namespace: ns, Name: "web", Target: web, MinReplicas: 2, MaxReplicas: 6, Resources: []string{"cpu", "memory"}}}
	if d := gocmp.Diff(wantAutoscalers, autoscalers); d != "" {
		t.Errorf("autoscalers (-want +got):\n%s", d)
	}
	if got := inv.NamespaceLabels(ns); got["team"] != "kubetest" {
		t.Errorf("namespace labels = %v", got)
	}
	var namespaces []model.Namespace
	for _, n := range inv.Namespaces(base) {
		if n.Name == ns {
			namespaces = append(namespaces, n)
		}
	}
	if len(namespaces) != 1 || namespaces[0].Cluster != "stack" || !namespaces[0].ObservedAt.Equal(base) || namespaces[0].Labels["team"] != "kubetest" {
		t.Errorf("namespace snapshot of %s = %+v, want one with team=kubetest", ns, namespaces)
	}
}

// deleteTestObjects removes what the test created. Without controllers nothing cascades:
// every object is deleted by hand, pods with a zero grace period (no kubelet confirms a
// graceful deletion), and the namespace, which the namespace controller would finalize,
// is finalized here before its final deletion.
func deleteTestObjects(t *testing.T, c *Clients, ns string, objs []runtime.Object) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	all := metav1.ListOptions{}
	k := c.kube
	check := func(what string, err error) {
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: delete %s: %v", what, err)
		}
	}
	check("pods", k.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}, all))
	check("replicasets", k.AppsV1().ReplicaSets(ns).DeleteCollection(ctx, del, all))
	check("deployments", k.AppsV1().Deployments(ns).DeleteCollection(ctx, del, all))
	check("daemonsets", k.AppsV1().DaemonSets(ns).DeleteCollection(ctx, del, all))
	check("jobs", k.BatchV1().Jobs(ns).DeleteCollection(ctx, del, all))
	check("cronjobs", k.BatchV1().CronJobs(ns).DeleteCollection(ctx, del, all))
	check("hpas", k.AutoscalingV2().HorizontalPodAutoscalers(ns).DeleteCollection(ctx, del, all))
	check("events", k.CoreV1().Events(ns).DeleteCollection(ctx, del, all))
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Node:
			check("node "+o.Name, k.CoreV1().Nodes().Delete(ctx, o.Name, del))
		case *corev1.Event:
			if o.Namespace != ns {
				check("event "+o.Name, k.CoreV1().Events(o.Namespace).Delete(ctx, o.Name, del))
			}
		}
	}
	check("namespace", k.CoreV1().Namespaces().Delete(ctx, ns, del))
	nsObj, err := k.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil {
		nsObj.Spec.Finalizers = nil
		_, err = k.CoreV1().Namespaces().Finalize(ctx, nsObj, metav1.UpdateOptions{})
		check("namespace finalizers", err)
		check("namespace", k.CoreV1().Namespaces().Delete(ctx, ns, del))
	}
	if _, err := k.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("cleanup: namespace %s still exists (err %v)", ns, err)
	}
	pods, err := k.CoreV1().Pods(ns).List(ctx, all)
	if err == nil && len(pods.Items) > 0 {
		t.Errorf("cleanup: %d pods left in %s", len(pods.Items), ns)
	}
}
