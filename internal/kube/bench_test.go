package kube

import (
	"context"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

// Size of the benchmark cluster.
const (
	benchPods        = 10_000
	benchNodes       = 300
	benchDeployments = 400
	benchMaxHeapMB   = 500
)

// benchCluster builds a cluster of benchNodes nodes and benchPods pods with 25,000
// containers: every pod has two containers and every other pod an init container. Pods
// belong to Deployments (through ReplicaSets) 80%, StatefulSets 10%, DaemonSets 5% and
// CronJobs (through Jobs) 5%. Objects carry what an API server stores — managed fields,
// kubectl's last-applied annotation, env, volumes, probes, node images — so the transform
// functions have something to cut.
func benchCluster() []runtime.Object {
	objs := make([]runtime.Object, 0, benchPods+benchNodes+2*benchDeployments+600)
	fields := metav1.ManagedFieldsEntry{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate,
		APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{` + strings.Repeat(`"f:x":{},`, 150) + `"f:y":{}}}}`)}}
	lastApplied := strings.Repeat(`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[]}}`, 30)
	images := make([]corev1.ContainerImage, 50)
	for i := range images {
		images[i] = corev1.ContainerImage{Names: []string{fmt.Sprintf("registry.example.com/team/image-%d@sha256:%064d", i, i)}, SizeBytes: 1 << 28}
	}
	for n := range benchNodes {
		l := corev1.ResourceList{"cpu": resource.MustParse("16"), "memory": resource.MustParse("64Gi"), "pods": resource.MustParse("110"), "ephemeral-storage": resource.MustParse("100Gi")}
		objs = append(objs, &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%03d", n), UID: types.UID(fmt.Sprintf("node-%d", n)),
				ManagedFields: []metav1.ManagedFieldsEntry{fields}, Labels: map[string]string{
					"node.kubernetes.io/instance-type": "m5.4xlarge", "topology.kubernetes.io/zone": fmt.Sprintf("eu-west-1%c", 'a'+n%3),
					"karpenter.sh/capacity-type": []string{"spot", "on-demand"}[n%2], "kubernetes.io/hostname": fmt.Sprintf("node-%03d", n),
				}},
			Status: corev1.NodeStatus{Capacity: l, Allocatable: l.DeepCopy(), Images: images,
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Message: "kubelet is posting ready status"}}},
		})
	}
	for d := range benchDeployments {
		dep := fmt.Sprintf("app-%03d", d)
		objs = append(objs, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns-%02d", d%40), Name: dep + "-5d9f", UID: types.UID("rs-" + dep),
			ManagedFields:   []metav1.ManagedFieldsEntry{fields},
			OwnerReferences: []metav1.OwnerReference{ownerRef("apps/v1", "Deployment", dep, types.UID("dep-"+dep))}}})
	}
	for j := range 500 {
		objs = append(objs, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns-%02d", j%40), Name: fmt.Sprintf("cron-%03d-29010000", j), UID: types.UID(fmt.Sprintf("job-%d", j)),
			OwnerReferences: []metav1.OwnerReference{ownerRef("batch/v1", "CronJob", fmt.Sprintf("cron-%03d", j), types.UID(fmt.Sprintf("cj-%d", j)))}}})
	}
	r := res(map[string]string{"cpu": "250m", "memory": "256Mi"}, map[string]string{"cpu": "1", "memory": "512Mi"})
	container := func(name string) corev1.Container {
		c := ctr(name, r)
		c.Env = make([]corev1.EnvVar, 10)
		for i := range c.Env {
			c.Env[i] = corev1.EnvVar{Name: fmt.Sprintf("VAR_%d", i), Value: "some-configuration-value"}
		}
		c.Command = []string{"/bin/app", "--config=/etc/app/config.yaml", "--verbose"}
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}}
		c.VolumeMounts = []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app"}}
		return c
	}
	started := mt(t0.Add(-time.Hour))
	for p := range benchPods {
		ns := fmt.Sprintf("ns-%02d", p%40)
		var owner metav1.OwnerReference
		switch k := p % 20; {
		case k < 16:
			dep := fmt.Sprintf("app-%03d", (p/40)%(benchDeployments/40)*40+p%40)
			owner = ownerRef("apps/v1", "ReplicaSet", dep+"-5d9f", types.UID("rs-"+dep))
		case k < 18:
			owner = ownerRef("apps/v1", "StatefulSet", fmt.Sprintf("db-%d", p%50), types.UID(fmt.Sprintf("sts-%d", p%50)))
		case k < 19:
			owner = ownerRef("apps/v1", "DaemonSet", "agent", "ds-agent")
		default:
			j := p % 500
			owner = ownerRef("batch/v1", "Job", fmt.Sprintf("cron-%03d-29010000", j), types.UID(fmt.Sprintf("job-%d", j)))
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("pod-%05d", p), UID: types.UID(fmt.Sprintf("pod-%d", p)),
				Labels:          map[string]string{"app": owner.Name, "team": fmt.Sprintf("team-%d", p%12), "pod-template-hash": "5d9f"},
				Annotations:     map[string]string{"kubectl.kubernetes.io/last-applied-configuration": lastApplied},
				ManagedFields:   []metav1.ManagedFieldsEntry{fields},
				OwnerReferences: []metav1.OwnerReference{owner}},
			Spec: corev1.PodSpec{NodeName: fmt.Sprintf("node-%03d", p%benchNodes), Containers: []corev1.Container{container("app"), container("sidecar")},
				Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, QOSClass: corev1.PodQOSBurstable, StartTime: &started,
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}, PodIP: "10.0.0.1"},
		}
		if p%2 == 0 {
			pod.Spec.InitContainers = []corev1.Container{container("init")}
		}
		for _, c := range pod.Spec.Containers {
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{Name: c.Name, Image: "registry/app:1", ImageID: "sha256:0123456789abcdef",
				ContainerID: "containerd://0123456789abcdef", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}})
		}
		objs = append(objs, pod)
	}
	return objs
}

func heapInUse() uint64 {
	goruntime.GC()
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return m.HeapInuse
}

// BenchmarkSnapshot10kPods times Containers(at) over 10,000 pods (25,000 containers) on 300
// nodes after the informers are in sync, and reports the heap the informer caches take
// (inventory-MB: heap in use after sync minus before it, the fake clientset's own copies of
// the objects excluded) and the heap in use of the whole process (heap-MB).
func BenchmarkSnapshot10kPods(b *testing.B) {
	cs := fake.NewClientset(benchCluster()...)
	before := heapInUse()
	inv := NewInventory(NewClientsFrom(cs, nil), "bench", slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := inv.Start(ctx); err != nil {
		b.Fatal(err)
	}
	after := heapInUse()
	got := inv.Containers(t0)
	if len(got) != 25_000 {
		b.Fatalf("%d containers, want 25000", len(got))
	}
	if got[0].Workload.Kind == "" || len(inv.Nodes(t0)) != benchNodes {
		b.Fatalf("bad snapshot: %+v", got[0])
	}
	inventoryMB := float64(int64(after)-int64(before)) / (1 << 20)
	if inventoryMB > benchMaxHeapMB {
		b.Fatalf("informer caches take %.0f MB, want under %d MB", inventoryMB, benchMaxHeapMB)
	}

	b.ReportAllocs()
	for b.Loop() {
		if n := len(inv.Containers(t0)); n != 25_000 {
			b.Fatalf("%d containers", n)
		}
	}
	b.ReportMetric(inventoryMB, "inventory-MB")
	b.ReportMetric(float64(after)/(1<<20), "heap-MB")
}
