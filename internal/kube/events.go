package kube

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tally-finops/tally/internal/model"
)

// Reasons of Warning events that become model.ContainerEvents. Everything else is dropped.
//
//	OOMKilling  node-problem-detector's kernel monitor, on the Node
//	OOMKilled   emitted on pods by some OOM exporters
//	SystemOOM   the kubelet, on the Node, for an OOM kill outside a container's cgroup
//	Evicted     the kubelet's eviction manager, on the Pod
//
// Events on a Node carry the node only: they cannot be tied to a container. Events expire
// from the API server after an hour; container OOM kills are also read from pod status
// (state and lastState terminated with reason OOMKilled) and evictions from the pod's
// status.reason, which last as long as the pod.
func eventKind(reason string) string {
	switch reason {
	case "OOMKilling", "OOMKilled", "SystemOOM":
		return model.EventOOMKill
	case reasonEvicted:
		return model.EventEviction
	}
	return ""
}

// oomMatchWindow is how close an OOM Warning event on a pod must be to an OOM kill read from
// that pod's status for the two to count as one kill.
const oomMatchWindow = 2 * time.Minute

// maxEventRecords bounds the events kept; beyond it the oldest quarter is dropped.
const maxEventRecords = 20_000

// Sources of an event record; a higher one is preferred for timestamp, reason and message.
const (
	sourcePodStatus = iota
	sourceEventObject
)

// eventRecord is one OOM kill or eviction as recorded, before its workload is resolved.
type eventRecord struct {
	key      string
	ev       model.ContainerEvent
	source   int
	podUID   string
	podKnown bool                   // Node, Container limit and owner come from the pod
	owner    *metav1.OwnerReference // the pod's controller; nil for a bare pod
}

// podEventRecords reads OOM kills and an eviction from a pod's status. An OOM kill is keyed
// by pod, container and finish time, so seeing it first as the current state and later as
// the last state counts it once. seen stands in for the time of an eviction the pod does
// not date.
func podEventRecords(pod *corev1.Pod, cluster string, seen time.Time) []eventRecord {
	var out []eventRecord
	oom := func(statuses []corev1.ContainerStatus) {
		for i := range statuses {
			st := &statuses[i]
			for _, t := range []*corev1.ContainerStateTerminated{st.State.Terminated, st.LastTerminationState.Terminated} {
				if t == nil || t.Reason != reasonOOMKilled {
					continue
				}
				finished := t.FinishedAt.UTC()
				rec := eventRecord{
					key:    "oom/" + string(pod.UID) + "/" + st.Name + "/" + finished.Format(time.RFC3339),
					source: sourcePodStatus,
					podUID: string(pod.UID),
					ev: model.ContainerEvent{
						Cluster:   cluster,
						Timestamp: finished,
						Namespace: pod.Namespace,
						Pod:       pod.Name,
						Container: st.Name,
						Kind:      model.EventOOMKill,
						Reason:    t.Reason,
						Message:   t.Message,
						Count:     1,
					},
				}
				fillFromPod(&rec, pod)
				out = append(out, rec)
			}
		}
	}
	oom(pod.Status.InitContainerStatuses)
	oom(pod.Status.ContainerStatuses)
	if pod.Status.Reason == reasonEvicted {
		rec := eventRecord{
			source: sourcePodStatus,
			podUID: string(pod.UID),
			ev: model.ContainerEvent{
				Cluster:   cluster,
				Timestamp: evictionTime(pod, seen),
				Namespace: pod.Namespace,
				Pod:       pod.Name,
				Kind:      model.EventEviction,
				Reason:    pod.Status.Reason,
				Message:   pod.Status.Message,
				Count:     1,
			},
		}
		fillFromPod(&rec, pod)
		rec.key = evictionKey(rec)
		out = append(out, rec)
	}
	return out
}

// evictionTime dates an eviction: the DisruptionTarget condition, else the last container
// finish, else seen.
func evictionTime(pod *corev1.Pod, seen time.Time) time.Time {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.UTC()
		}
	}
	var last time.Time
	for _, st := range pod.Status.ContainerStatuses {
		if t := st.State.Terminated; t != nil && t.FinishedAt.After(last) {
			last = t.FinishedAt.UTC()
		}
	}
	if !last.IsZero() {
		return last
	}
	return seen.UTC()
}

// fillFromPod completes a record with what the pod knows: its node, its controller, the
// container's memory limit (from the spec: the limit the kill happened under). An event
// that names no container gets the pod's only container, if it has one.
func fillFromPod(rec *eventRecord, pod *corev1.Pod) {
	rec.podKnown = true
	rec.podUID = string(pod.UID)
	rec.ev.Node = pod.Spec.NodeName
	if c := controllerOf(pod.OwnerReferences); c != nil {
		ref := *c
		rec.owner = &ref
	}
	if rec.ev.Kind == model.EventEviction {
		return // an eviction is the pod's, not one container's
	}
	if rec.ev.Container == "" && len(pod.Spec.Containers) == 1 && len(pod.Spec.InitContainers) == 0 {
		rec.ev.Container = pod.Spec.Containers[0].Name
	}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == rec.ev.Container {
				rec.ev.MemoryLimitBytes = byteCount(list[i].Resources.Limits[corev1.ResourceMemory])
			}
		}
	}
}

// eventObjectRecord converts a Warning event that matters; ok is false for any other event.
// An eviction is keyed by the evicted pod, so the Evicted event and the pod's status count
// as one eviction.
func eventObjectRecord(e *corev1.Event, cluster string) (eventRecord, bool) {
	if e.Type != corev1.EventTypeWarning {
		return eventRecord{}, false
	}
	kind := eventKind(e.Reason)
	if kind == "" {
		return eventRecord{}, false
	}
	obj := e.InvolvedObject
	rec := eventRecord{
		key:    "event/" + string(e.UID),
		source: sourceEventObject,
		ev: model.ContainerEvent{
			Cluster:   cluster,
			Timestamp: eventTime(e),
			Kind:      kind,
			Reason:    e.Reason,
			Message:   e.Message,
			Count:     eventCount(e),
		},
	}
	if e.UID == "" {
		rec.key = "event/" + e.Namespace + "/" + e.Name
	}
	switch obj.Kind {
	case kindPod:
		rec.podUID = string(obj.UID)
		rec.ev.Namespace = obj.Namespace
		rec.ev.Pod = obj.Name
		rec.ev.Container = containerFromFieldPath(obj.FieldPath)
		if kind == model.EventEviction {
			rec.key = evictionKey(rec)
		}
	case kindNode:
		rec.ev.Node = obj.Name
		rec.podKnown = true // nothing more to learn: no pod, no workload
	default:
		return eventRecord{}, false
	}
	return rec, true
}

// evictionKey keys an eviction by its pod: by UID when known, else by namespace and name.
func evictionKey(r eventRecord) string {
	if r.podUID != "" {
		return "evict/" + r.podUID
	}
	return "evict/" + r.ev.Namespace + "/" + r.ev.Pod
}

// eventTime is when an event last happened.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.UTC()
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.UTC()
	case !e.EventTime.IsZero():
		return e.EventTime.UTC()
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.UTC()
	}
	return e.CreationTimestamp.UTC()
}

func eventCount(e *corev1.Event) uint32 {
	n := max(e.Count, 1)
	if e.Series != nil {
		n = max(n, e.Series.Count)
	}
	return uint32(n)
}

// containerFromFieldPath reads the container of an involvedObject.fieldPath such as
// "spec.containers{app}" or "spec.initContainers{migrate}".
func containerFromFieldPath(p string) string {
	for _, prefix := range []string{"spec.containers{", "spec.initContainers{", "spec.ephemeralContainers{"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			if name, _, ok := strings.Cut(rest, "}"); ok {
				return name
			}
		}
	}
	return ""
}

// mergeRecords combines two records with the same key. An Event object's record is
// preferred to one read from pod status; between two Event records (one Event updated as
// it repeats) the later; between two pod-status records the earlier, because the time an
// undated eviction was first seen is the best date it has. The preferred record gives
// timestamp, reason and message; the largest count wins; pod facts fill gaps.
func mergeRecords(a, b eventRecord) eventRecord {
	if !preferred(a, b) {
		a, b = b, a
	}
	out, other := b, a
	out.ev.Count = max(a.ev.Count, b.ev.Count)
	if !out.podKnown && other.podKnown {
		out.podKnown = true
		out.owner = other.owner
		out.podUID = cmp.Or(out.podUID, other.podUID)
	}
	out.ev.Node = cmp.Or(out.ev.Node, other.ev.Node)
	if out.ev.Container == "" {
		out.ev.Container = other.ev.Container
	}
	if out.ev.Container == other.ev.Container {
		out.ev.MemoryLimitBytes = max(out.ev.MemoryLimitBytes, other.ev.MemoryLimitBytes)
	}
	return out
}

// preferred reports whether b is preferred to a.
func preferred(a, b eventRecord) bool {
	switch {
	case a.source != b.source:
		return b.source > a.source
	case a.source == sourcePodStatus:
		return !b.ev.Timestamp.After(a.ev.Timestamp)
	}
	return !b.ev.Timestamp.Before(a.ev.Timestamp)
}

// eventStore holds the events seen so far, deduplicated by key.
type eventStore struct {
	mu      sync.Mutex
	records map[string]eventRecord
	max     int
}

func newEventStore() *eventStore {
	return &eventStore{records: map[string]eventRecord{}, max: maxEventRecords}
}

func (s *eventStore) add(recs ...eventRecord) {
	if len(recs) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.put(r)
	}
	if len(s.records) > s.max {
		s.dropOldest(len(s.records) - s.max*3/4)
	}
}

// put stores a record, merged with the one of the same key; s.mu is held. An eviction
// whose pod has become known moves from its name key to its UID key.
func (s *eventStore) put(r eventRecord) {
	if r.ev.Kind == model.EventEviction && r.ev.Pod != "" {
		if k := evictionKey(r); k != r.key {
			if old, ok := s.records[r.key]; ok {
				delete(s.records, r.key)
				r = mergeRecords(old, r)
			}
			r.key = k
		}
	}
	if old, ok := s.records[r.key]; ok {
		r = mergeRecords(old, r)
	}
	s.records[r.key] = r
}

// dropOldest removes the n oldest records; s.mu is held.
func (s *eventStore) dropOldest(n int) {
	keys := make([]string, 0, len(s.records))
	for k := range s.records {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int {
		return s.records[x].ev.Timestamp.Compare(s.records[y].ev.Timestamp)
	})
	for _, k := range keys[:n] {
		delete(s.records, k)
	}
}

// snapshot completes records whose pod was not known when they were recorded (podOf looks
// the pod up), drops OOM events that repeat a kill read from pod status, and returns the
// rest, each with its workload resolved, sorted by time.
func (s *eventStore) snapshot(podOf func(ns, name, uid string) *corev1.Pod, workload func(rec eventRecord) model.WorkloadRef) []model.ContainerEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var filled []eventRecord
	for _, r := range s.records {
		if r.podKnown {
			continue
		}
		if pod := podOf(r.ev.Namespace, r.ev.Pod, r.podUID); pod != nil {
			fillFromPod(&r, pod)
			filled = append(filled, r)
		}
	}
	for _, r := range filled {
		s.put(r)
	}
	kills := map[string][]eventRecord{} // status-read OOM kills by pod UID
	for _, r := range s.records {
		if r.source == sourcePodStatus && r.ev.Kind == model.EventOOMKill {
			kills[r.podUID] = append(kills[r.podUID], r)
		}
	}
	out := make([]model.ContainerEvent, 0, len(s.records))
	for _, r := range s.records {
		if r.source == sourceEventObject && r.ev.Kind == model.EventOOMKill && r.podUID != "" && repeatsKill(r, kills[r.podUID]) {
			continue
		}
		ev := r.ev
		ev.Workload = workload(r)
		out = append(out, ev)
	}
	slices.SortFunc(out, func(a, b model.ContainerEvent) int {
		return cmp.Or(
			a.Timestamp.Compare(b.Timestamp),
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Pod, b.Pod),
			cmp.Compare(a.Container, b.Container),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Node, b.Node),
		)
	})
	return out
}

func repeatsKill(r eventRecord, kills []eventRecord) bool {
	for _, k := range kills {
		if r.ev.Container != "" && r.ev.Container != k.ev.Container {
			continue
		}
		if d := r.ev.Timestamp.Sub(k.ev.Timestamp); d <= oomMatchWindow && d >= -oomMatchWindow {
			return true
		}
	}
	return false
}
