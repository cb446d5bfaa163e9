package prom

import (
	"github.com/tally-finops/tally/internal/model"
)

// Owner kinds that resolve further up the chain.
const (
	kindReplicaSet = "ReplicaSet"
	kindJob        = "Job"
	kindPod        = "Pod"
	// noOwner is what kube-state-metrics writes in owner_kind and owner_name for an object
	// without an owner.
	noOwner = "<none>"
)

// objectKey names a namespaced object.
type objectKey struct{ namespace, name string }

// owners are the controller owners kube-state-metrics reported: of pods, of ReplicaSets and
// of Jobs. Owners never change during an object's life, so they are gathered over the whole
// window.
type owners struct {
	pods        map[objectKey]model.WorkloadRef
	replicaSets map[objectKey]model.WorkloadRef
	jobs        map[objectKey]model.WorkloadRef
}

func newOwners() *owners {
	return &owners{
		pods:        map[objectKey]model.WorkloadRef{},
		replicaSets: map[objectKey]model.WorkloadRef{},
		jobs:        map[objectKey]model.WorkloadRef{},
	}
}

// set records that obj is owned by kind/name in m, ignoring "no owner" entries when a real
// owner is known.
func setOwner(m map[objectKey]model.WorkloadRef, obj objectKey, kind, name string) {
	if kind == "" || kind == noOwner || name == "" || name == noOwner {
		return
	}
	m[obj] = model.WorkloadRef{Kind: kind, Name: name}
}

// workload resolves a pod's top-level owner: a ReplicaSet's Deployment (or whatever
// controls it, e.g. an Argo Rollout), a Job's CronJob, any other owner as it is
// (StatefulSet, DaemonSet, custom controllers), and for a pod without an owner the pod
// itself (Kind "Pod"). A ReplicaSet or Job whose own owner is unknown or absent is the
// workload itself.
func (o *owners) workload(namespace, pod string) model.WorkloadRef {
	ref, ok := o.pods[objectKey{namespace, pod}]
	if !ok {
		return model.WorkloadRef{Kind: kindPod, Name: pod}
	}
	var parents map[objectKey]model.WorkloadRef
	switch ref.Kind {
	case kindReplicaSet:
		parents = o.replicaSets
	case kindJob:
		parents = o.jobs
	default:
		return ref
	}
	if parent, ok := parents[objectKey{namespace, ref.Name}]; ok {
		return parent
	}
	return ref
}

// QoS classes, as Kubernetes names them.
const (
	qosGuaranteed = "Guaranteed"
	qosBurstable  = "Burstable"
	qosBestEffort = "BestEffort"
)

// resources are one container's requests and limits (zero: not set).
type resources struct {
	cpuRequest, cpuLimit, memRequest, memLimit float64
}

// qosClass derives a pod's QoS class from its containers' requests and limits, by
// Kubernetes's rules: Guaranteed when every container has CPU and memory limits equal to its
// requests, BestEffort when no container has any, else Burstable. Only regular containers
// are seen (kube-state-metrics reports init containers in other series), so a pod whose
// init containers alone set resources may be misclassified. No containers: "".
func qosClass(containers []resources) string {
	if len(containers) == 0 {
		return ""
	}
	guaranteed, set := true, false
	for _, c := range containers {
		if c.cpuRequest > 0 || c.cpuLimit > 0 || c.memRequest > 0 || c.memLimit > 0 {
			set = true
		}
		if c.cpuLimit <= 0 || c.memLimit <= 0 || c.cpuRequest != c.cpuLimit || c.memRequest != c.memLimit {
			guaranteed = false
		}
	}
	switch {
	case guaranteed:
		return qosGuaranteed
	case !set:
		return qosBestEffort
	}
	return qosBurstable
}
