package kube

import (
	"fmt"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tally-finops/tally/internal/model"
)

// oomPod is a pod of ReplicaSet web-5d9f whose container app (limit 1 GiB) was OOM-killed at
// killed and restarted.
func oomPod(killed time.Time) *corev1.Pod {
	p := podOf("shop", "web-1", ctr("app", res(map[string]string{"memory": "512Mi"}, map[string]string{"memory": "1Gi"})), ctr("sidecar", corev1.ResourceRequirements{}))
	p.OwnerReferences = []metav1.OwnerReference{ownerRef("apps/v1", "ReplicaSet", "web-5d9f", "rs-web")}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{
		{Name: "app", RestartCount: 1,
			State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: mt(killed.Add(time.Second))}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, FinishedAt: mt(killed)}}},
		{Name: "sidecar", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
	}
	return p
}

func TestPodEventRecords(t *testing.T) {
	killed := t0.Add(-10 * time.Minute)
	cases := []struct {
		name string
		pod  func() *corev1.Pod
		want []model.ContainerEvent
	}{
		{"no kills", func() *corev1.Pod { return podOf("shop", "ok", ctr("app", corev1.ResourceRequirements{})) }, nil},
		{"oom kill in lastState", func() *corev1.Pod { return oomPod(killed) }, []model.ContainerEvent{{
			Cluster: "c1", Timestamp: killed, Namespace: "shop", Pod: "web-1", Container: "app", Node: "node-a",
			Kind: model.EventOOMKill, Reason: "OOMKilled", Count: 1, MemoryLimitBytes: 1 << 30,
		}}},
		{"oom kill in the current state of an init container", func() *corev1.Pod {
			p := podOf("shop", "job-1", ctr("main", corev1.ResourceRequirements{}))
			p.Spec.InitContainers = []corev1.Container{ctr("init", res(nil, map[string]string{"memory": "64Mi"}))}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init",
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", FinishedAt: mt(killed)}}}}
			return p
		}, []model.ContainerEvent{{
			Cluster: "c1", Timestamp: killed, Namespace: "shop", Pod: "job-1", Container: "init", Node: "node-a",
			Kind: model.EventOOMKill, Reason: "OOMKilled", Count: 1, MemoryLimitBytes: 64 << 20,
		}}},
		{"evicted pod dated by its DisruptionTarget condition", func() *corev1.Pod {
			p := podOf("shop", "ev-1", ctr("app", res(nil, map[string]string{"memory": "1Gi"})))
			p.Status.Phase = corev1.PodFailed
			p.Status.Reason = "Evicted"
			p.Status.Message = "The node was low on resource: memory."
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: "True", LastTransitionTime: mt(killed)}}
			return p
		}, []model.ContainerEvent{{
			Cluster: "c1", Timestamp: killed, Namespace: "shop", Pod: "ev-1", Node: "node-a",
			Kind: model.EventEviction, Reason: "Evicted", Message: "The node was low on resource: memory.", Count: 1,
		}}},
		{"evicted pod without dates is dated when seen", func() *corev1.Pod {
			p := podOf("shop", "ev-2", ctr("app", corev1.ResourceRequirements{}))
			p.Status.Reason = "Evicted"
			return p
		}, []model.ContainerEvent{{
			Cluster: "c1", Timestamp: t0, Namespace: "shop", Pod: "ev-2", Node: "node-a", Kind: model.EventEviction, Reason: "Evicted", Count: 1,
		}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []model.ContainerEvent
			for _, r := range podEventRecords(tc.pod(), "c1", t0) {
				got = append(got, r.ev)
			}
			if d := gocmp.Diff(tc.want, got); d != "" {
				t.Fatalf("events (-want +got):\n%s", d)
			}
		})
	}
}

func warning(uid types.UID, reason string, obj corev1.ObjectReference, at time.Time, count int32) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: obj.Namespace, Name: string(uid), UID: uid},
		Type:           corev1.EventTypeWarning,
		Reason:         reason,
		Message:        reason + " message",
		InvolvedObject: obj,
		LastTimestamp:  mt(at),
		Count:          count,
	}
}

func TestEventObjectRecord(t *testing.T) {
	at := t0.Add(-time.Minute)
	pod := corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-1", UID: "uid-shop-web-1"}
	cases := []struct {
		name    string
		event   *corev1.Event
		wantKey string
		want    *model.ContainerEvent
	}{
		{"normal event", func() *corev1.Event {
			e := warning("e1", "Evicted", pod, at, 1)
			e.Type = corev1.EventTypeNormal
			return e
		}(), "", nil},
		{"warning of no interest", warning("e2", "BackOff", pod, at, 5), "", nil},
		{"eviction keyed by pod", warning("e3", "Evicted", pod, at, 1), "evict/uid-shop-web-1", &model.ContainerEvent{
			Cluster: "c1", Timestamp: at, Namespace: "shop", Pod: "web-1", Kind: model.EventEviction, Reason: "Evicted", Message: "Evicted message", Count: 1}},
		{"oom on a container of a pod, repeated", func() *corev1.Event {
			p := pod
			p.FieldPath = "spec.containers{app}"
			return warning("e4", "OOMKilled", p, at, 3)
		}(), "event/e4", &model.ContainerEvent{
			Cluster: "c1", Timestamp: at, Namespace: "shop", Pod: "web-1", Container: "app", Kind: model.EventOOMKill, Reason: "OOMKilled", Message: "OOMKilled message", Count: 3}},
		{"node-problem-detector OOM on a node", warning("e5", "OOMKilling", corev1.ObjectReference{Kind: "Node", Name: "node-a"}, at, 1), "event/e5", &model.ContainerEvent{
			Cluster: "c1", Timestamp: at, Node: "node-a", Kind: model.EventOOMKill, Reason: "OOMKilling", Message: "OOMKilling message", Count: 1}},
		{"oom on another kind of object", warning("e6", "OOMKilled", corev1.ObjectReference{Kind: "Deployment", Name: "x"}, at, 1), "", nil},
		{"series count and event time", func() *corev1.Event {
			e := warning("e7", "SystemOOM", corev1.ObjectReference{Kind: "Node", Name: "node-b"}, time.Time{}, 0)
			e.EventTime = metav1.NewMicroTime(at)
			e.Series = &corev1.EventSeries{Count: 7}
			return e
		}(), "event/e7", &model.ContainerEvent{
			Cluster: "c1", Timestamp: at, Node: "node-b", Kind: model.EventOOMKill, Reason: "SystemOOM", Message: "SystemOOM message", Count: 7}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, ok := eventObjectRecord(tc.event, "c1")
			if tc.want == nil {
				if ok {
					t.Fatalf("event kept: %+v", rec.ev)
				}
				return
			}
			if !ok {
				t.Fatal("event dropped")
			}
			if rec.key != tc.wantKey {
				t.Errorf("key = %q, want %q", rec.key, tc.wantKey)
			}
			if d := gocmp.Diff(*tc.want, rec.ev); d != "" {
				t.Fatalf("event (-want +got):\n%s", d)
			}
		})
	}
}

func TestEventStoreDeduplicates(t *testing.T) {
	killed := t0.Add(-10 * time.Minute)
	web := model.WorkloadRef{Kind: "Deployment", Name: "web"}
	resolve := func(r eventRecord) model.WorkloadRef {
		if r.podKnown && r.ev.Pod != "" {
			return web
		}
		return model.WorkloadRef{}
	}
	s := newEventStore()
	pod := oomPod(killed)
	// The same kill seen on three pod updates, first as the current state.
	before := pod.DeepCopy()
	before.Status.ContainerStatuses[0].State = before.Status.ContainerStatuses[0].LastTerminationState
	before.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{}
	s.add(podEventRecords(before, "c1", t0)...)
	s.add(podEventRecords(pod, "c1", t0)...)
	s.add(podEventRecords(pod, "c1", t0)...)
	// An exporter's OOMKilled event on the pod for the same kill, 20 s later; it repeats.
	ref := corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-1", UID: pod.UID, FieldPath: "spec.containers{app}"}
	dup, _ := eventObjectRecord(warning("oom-ev", "OOMKilled", ref, killed.Add(20*time.Second), 1), "c1")
	s.add(dup)
	// The eviction: the Evicted event arrives before the pod's status says so.
	evicted := pod.DeepCopy()
	evicted.Status.Reason = "Evicted"
	evicted.Status.Message = "status message"
	evRec, _ := eventObjectRecord(warning("ev-ev", "Evicted", corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-1", UID: pod.UID}, t0.Add(-time.Minute), 1), "c1")
	s.add(evRec)
	s.add(podEventRecords(evicted, "c1", t0)...)
	// A second, later kill of the same container is another event.
	later := oomPod(killed.Add(30 * time.Minute))
	s.add(podEventRecords(later, "c1", t0)...)

	podOf := func(ns, name, uid string) *corev1.Pod { return nil }
	got := s.snapshot(podOf, resolve)
	want := []model.ContainerEvent{
		{Cluster: "c1", Timestamp: killed, Namespace: "shop", Workload: web, Pod: "web-1", Container: "app", Node: "node-a",
			Kind: model.EventOOMKill, Reason: "OOMKilled", Count: 1, MemoryLimitBytes: 1 << 30},
		{Cluster: "c1", Timestamp: t0.Add(-time.Minute), Namespace: "shop", Workload: web, Pod: "web-1", Node: "node-a",
			Kind: model.EventEviction, Reason: "Evicted", Message: "Evicted message", Count: 1},
		{Cluster: "c1", Timestamp: killed.Add(30 * time.Minute), Namespace: "shop", Workload: web, Pod: "web-1", Container: "app", Node: "node-a",
			Kind: model.EventOOMKill, Reason: "OOMKilled", Count: 1, MemoryLimitBytes: 1 << 30},
	}
	if d := gocmp.Diff(want, got); d != "" {
		t.Fatalf("events (-want +got):\n%s", d)
	}
}

func TestEventStoreFillsPodLater(t *testing.T) {
	s := newEventStore()
	ref := corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web-1", UID: "uid-shop-web-1"}
	rec, _ := eventObjectRecord(warning("e", "OOMKilled", ref, t0, 2), "c1")
	s.add(rec)
	var lookups int
	pod := oomPod(t0.Add(-time.Hour))
	podOf := func(ns, name, uid string) *corev1.Pod {
		lookups++
		if ns == "shop" && name == "web-1" && uid == "uid-shop-web-1" {
			return pod
		}
		return nil
	}
	got := s.snapshot(podOf, func(r eventRecord) model.WorkloadRef {
		if r.owner == nil {
			return model.WorkloadRef{}
		}
		return model.WorkloadRef{Kind: r.owner.Kind, Name: r.owner.Name}
	})
	// The event names no container and the pod has two: the container stays unknown, the
	// node and the owner are filled.
	want := []model.ContainerEvent{{Cluster: "c1", Timestamp: t0, Namespace: "shop", Workload: model.WorkloadRef{Kind: "ReplicaSet", Name: "web-5d9f"},
		Pod: "web-1", Node: "node-a", Kind: model.EventOOMKill, Reason: "OOMKilled", Message: "OOMKilled message", Count: 2}}
	if d := gocmp.Diff(want, got); d != "" {
		t.Fatalf("events (-want +got):\n%s", d)
	}
	s.snapshot(podOf, func(eventRecord) model.WorkloadRef { return model.WorkloadRef{} })
	if lookups != 1 {
		t.Fatalf("pod looked up %d times, want once (then remembered)", lookups)
	}
}

func TestEventStoreBounded(t *testing.T) {
	s := newEventStore()
	s.max = 100
	for i := range 250 {
		s.add(eventRecord{key: fmt.Sprint(i), ev: model.ContainerEvent{Timestamp: t0.Add(time.Duration(i) * time.Second)}})
	}
	if len(s.records) > 100 {
		t.Fatalf("%d records kept, want at most 100", len(s.records))
	}
	if _, ok := s.records["249"]; !ok {
		t.Fatal("newest record dropped")
	}
	if _, ok := s.records["0"]; ok {
		t.Fatal("oldest record kept")
	}
}

func TestUndatedEvictionKeepsFirstSighting(t *testing.T) {
	s := newEventStore()
	p := podOf("shop", "ev", ctr("app", corev1.ResourceRequirements{}))
	p.Status.Reason = "Evicted"
	s.add(podEventRecords(p, "c1", t0)...)
	s.add(podEventRecords(p, "c1", t0.Add(time.Hour))...) // a re-list an hour later
	got := s.snapshot(func(string, string, string) *corev1.Pod { return nil }, func(eventRecord) model.WorkloadRef { return model.WorkloadRef{} })
	if len(got) != 1 || !got[0].Timestamp.Equal(t0) {
		t.Fatalf("events = %+v, want one eviction dated %v", got, t0)
	}
}

func TestRepeatedEventAndEvictionWithoutUID(t *testing.T) {
	s := newEventStore()
	node := corev1.ObjectReference{Kind: "Node", Name: "node-a"}
	first, _ := eventObjectRecord(warning("oom-node", "OOMKilling", node, t0, 1), "c1")
	again, _ := eventObjectRecord(warning("oom-node", "OOMKilling", node, t0.Add(5*time.Minute), 4), "c1")
	s.add(again)
	s.add(first) // an older version delivered late changes nothing

	// An Evicted event without the pod's UID, recorded before the pod is known, then the
	// pod's own status.
	ref := corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "ev"}
	evicted, _ := eventObjectRecord(warning("evicted", "Evicted", ref, t0.Add(-time.Hour), 1), "c1")
	s.add(evicted)
	p := podOf("shop", "ev", ctr("app", corev1.ResourceRequirements{}))
	p.Status.Reason = "Evicted"
	podOf := func(ns, name, uid string) *corev1.Pod {
		if ns == "shop" && name == "ev" {
			return p
		}
		return nil
	}
	s.snapshot(podOf, func(eventRecord) model.WorkloadRef { return model.WorkloadRef{} })
	s.add(podEventRecords(p, "c1", t0)...)

	got := s.snapshot(podOf, func(eventRecord) model.WorkloadRef { return model.WorkloadRef{} })
	want := []model.ContainerEvent{
		{Cluster: "c1", Timestamp: t0.Add(-time.Hour), Namespace: "shop", Pod: "ev", Node: "node-a", Kind: model.EventEviction, Reason: "Evicted", Message: "Evicted message", Count: 1},
		{Cluster: "c1", Timestamp: t0.Add(5 * time.Minute), Node: "node-a", Kind: model.EventOOMKill, Reason: "OOMKilling", Message: "OOMKilling message", Count: 4},
	}
	if d := gocmp.Diff(want, got); d != "" {
		t.Fatalf("events (-want +got):\n%s", d)
	}
}
