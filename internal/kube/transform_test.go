package kube

import (
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSlimPod(t *testing.T) {
	p := heavyPod("shop", "web-1", "pod-1", "node-a", ptr(ownerRef("apps/v1", "ReplicaSet", "web-5d9f", "rs-web")), ctr("app", res(map[string]string{"cpu": "1"}, nil)))
	p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "x", Command: []string{"sh"}, RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)}}
	p.Spec.Tolerations = []corev1.Toleration{{Key: "k"}}
	p.Finalizers = []string{"example.com/f"}
	p.Status.Reason = "Evicted"
	p.Status.Message = "low on memory"
	p.Status.PodIP = "10.0.0.1"
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodReady, Status: "False"},
		{Type: corev1.DisruptionTarget, Status: "True", Message: "m", LastTransitionTime: mt(t0)},
	}
	p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "OOMKilled", Message: strings.Repeat("x", 4096), FinishedAt: mt(t0)}

	want := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1", UID: "pod-1", Labels: map[string]string{"app": "web-1"},
			OwnerReferences: []metav1.OwnerReference{ownerRef("apps/v1", "ReplicaSet", "web-5d9f", "rs-web")}},
		Spec: corev1.PodSpec{NodeName: "node-a",
			Containers:     []corev1.Container{{Name: "app", Resources: res(map[string]string{"cpu": "1"}, nil)}},
			InitContainers: []corev1.Container{{Name: "init", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Reason: "Evicted", Message: "low on memory", StartTime: ptr(mt(t0.Add(-time.Hour))),
			Conditions: []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: "True", LastTransitionTime: mt(t0)}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app",
				State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: mt(t0.Add(-time.Hour))}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", FinishedAt: mt(t0)}}}}},
	}
	for range 2 { // idempotent
		if _, err := slim(p); err != nil {
			t.Fatal(err)
		}
		if d := gocmp.Diff(want, p); d != "" {
			t.Fatalf("slim pod (-want +got):\n%s", d)
		}
	}
}

func TestSlimOthers(t *testing.T) {
	n := node("n", map[string]string{"a": "b"}, "2", "4Gi")
	n.Status.Capacity["nvidia.com/gpu"] = resource.MustParse("1")
	n.Spec.Taints = []corev1.Taint{{Key: "k"}}
	slim(n)
	if len(n.Status.Capacity) != 3 || n.Status.Images != nil || n.Spec.Taints != nil || n.Labels["a"] != "b" {
		t.Fatalf("slim node: %+v", n)
	}

	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs", Labels: map[string]string{"a": "b"}, OwnerReferences: []metav1.OwnerReference{ownerRef("apps/v1", "Deployment", "d", "d")}},
		Spec: appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}}}
	slim(rs)
	if rs.Spec.Template.Spec.Containers != nil || rs.Labels != nil || len(rs.OwnerReferences) != 1 {
		t.Fatalf("slim replicaset: %+v", rs)
	}

	ns := &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "payments"},
			Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"big":"json"}`},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec:   corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive, Conditions: []corev1.NamespaceCondition{{Type: "NamespaceDeletionContentFailure"}}},
	}
	slim(ns)
	if d := gocmp.Diff(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "payments"}}}, ns); d != "" {
		t.Fatalf("slim namespace keeps its name and labels only (-want +got):\n%s", d)
	}

	noise := warning("e1", "BackOff", corev1.ObjectReference{Kind: "Pod", Name: "p"}, t0, 3)
	slim(noise)
	if d := gocmp.Diff(&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1", UID: "e1"}}, noise); d != "" {
		t.Fatalf("slim irrelevant event (-want +got):\n%s", d)
	}
	oom := warning("e2", "OOMKilling", corev1.ObjectReference{Kind: "Node", Name: "n"}, t0, 1)
	oom.Message = strings.Repeat("é", 1000)
	slim(oom)
	if len(oom.Message) > maxEventMessage || oom.Reason != "OOMKilling" || oom.InvolvedObject.Name != "n" || !strings.HasPrefix(oom.Message, "éé") {
		t.Fatalf("slim OOM event: %+v", oom)
	}
}
