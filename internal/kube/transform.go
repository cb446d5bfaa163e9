package kube

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/meta"
)

// maxEventMessage bounds the message kept of an event.
const maxEventMessage = 1024

// slim is the informers' transform function: it cuts every object down, in place, to what
// this package reads, before the object enters an informer cache. Managed fields,
// annotations (kubectl's last-applied-configuration alone often outweighs the rest) and
// finalizers go from every object; what else goes is listed per kind below. Applying it
// twice changes nothing, as client-go asks of transform functions.
func slim(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		slimPod(o)
	case *corev1.Node:
		slimNode(o)
	case *corev1.Namespace:
		o.Spec = corev1.NamespaceSpec{}
		o.Status = corev1.NamespaceStatus{}
	case *appsv1.ReplicaSet:
		// Only the ownerReferences are read; the pod template is the heavy part.
		o.Labels = nil
		o.Spec = appsv1.ReplicaSetSpec{}
		o.Status = appsv1.ReplicaSetStatus{}
	case *batchv1.Job:
		o.Labels = nil
		o.Spec = batchv1.JobSpec{}
		o.Status = batchv1.JobStatus{}
	case *autoscalingv2.HorizontalPodAutoscaler:
		o.Labels = nil
		o.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
	case *corev1.Event:
		slimEvent(o)
	case *corev1.PersistentVolume:
		slimVolume(o)
	case *corev1.PersistentVolumeClaim:
		// Only its name and UID are read: that it exists, and is the claim a volume names.
		o.Labels = nil
		o.Spec = corev1.PersistentVolumeClaimSpec{}
		o.Status = corev1.PersistentVolumeClaimStatus{}
	case *storagev1.StorageClass:
		slimStorageClass(o)
	}
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
		m.SetAnnotations(nil)
		m.SetFinalizers(nil)
	}
	return obj, nil
}

// slimPod keeps: labels and ownerReferences; spec.nodeName, pod-level resources, and per
// container its name, resources (requests and limits) and restartPolicy; status phase,
// reason, qosClass, startTime, and per container status its name, state, lastState and
// restart count, without messages; the volumes backed by a claim (name and claim only).
// Evicted pods keep their status message and DisruptionTarget condition. Gone: other
// volumes, env, commands, probes, affinity, tolerations, images, IPs, conditions.
func slimPod(p *corev1.Pod) {
	spec := &p.Spec
	*spec = corev1.PodSpec{
		NodeName:       spec.NodeName,
		Containers:     slimContainers(spec.Containers),
		InitContainers: slimContainers(spec.InitContainers),
		Resources:      spec.Resources,
		Volumes:        slimPodVolumes(spec.Volumes),
	}
	st := p.Status
	p.Status = corev1.PodStatus{
		Phase:                 st.Phase,
		Reason:                st.Reason,
		QOSClass:              st.QOSClass,
		StartTime:             st.StartTime,
		ContainerStatuses:     slimStatuses(st.ContainerStatuses),
		InitContainerStatuses: slimStatuses(st.InitContainerStatuses),
	}
	if st.Reason == reasonEvicted {
		p.Status.Message = st.Message
		for _, c := range st.Conditions {
			if c.Type == corev1.DisruptionTarget {
				c.Message = ""
				p.Status.Conditions = []corev1.PodCondition{c}
			}
		}
	}
}

func slimContainers(cs []corev1.Container) []corev1.Container {
	for i := range cs {
		c := &cs[i]
		*c = corev1.Container{
			Name: c.Name,
			Resources: corev1.ResourceRequirements{
				Requests: c.Resources.Requests,
				Limits:   c.Resources.Limits,
			},
			RestartPolicy: c.RestartPolicy,
		}
	}
	return cs
}

func slimStatuses(ss []corev1.ContainerStatus) []corev1.ContainerStatus {
	for i := range ss {
		s := &ss[i]
		*s = corev1.ContainerStatus{
			Name:                 s.Name,
			State:                slimState(s.State),
			LastTerminationState: slimState(s.LastTerminationState),
			RestartCount:         s.RestartCount,
		}
	}
	return ss
}

func slimState(s corev1.ContainerState) corev1.ContainerState {
	if s.Waiting != nil {
		s.Waiting = &corev1.ContainerStateWaiting{Reason: s.Waiting.Reason}
	}
	if s.Terminated != nil {
		t := *s.Terminated
		t.Message = ""
		t.ContainerID = ""
		s.Terminated = &t
	}
	return s
}

// slimNode keeps labels and the cpu, memory and GPU capacity and allocatable; the image
// list, conditions, addresses, taints and system info go.
func slimNode(n *corev1.Node) {
	n.Spec = corev1.NodeSpec{}
	n.Status = corev1.NodeStatus{
		Capacity:    slimResources(n.Status.Capacity),
		Allocatable: slimResources(n.Status.Allocatable),
	}
}

func slimResources(l corev1.ResourceList) corev1.ResourceList {
	for name := range l {
		switch name {
		case corev1.ResourceCPU, corev1.ResourceMemory, resourceNvidiaGPU, resourceAMDGPU:
		default:
			delete(l, name)
		}
	}
	return l
}

// slimEvent keeps a Warning event that becomes a model.ContainerEvent (its involved object,
// reason, message cut to maxEventMessage bytes, count and times) and empties every other
// event down to its name, which the informer needs to track it.
func slimEvent(e *corev1.Event) {
	e.Labels = nil
	e.Source = corev1.EventSource{}
	e.Related = nil
	e.ReportingController = ""
	e.ReportingInstance = ""
	e.Action = ""
	if e.Type != corev1.EventTypeWarning || eventKind(e.Reason) == "" {
		*e = corev1.Event{ObjectMeta: e.ObjectMeta}
		return
	}
	if len(e.Message) > maxEventMessage {
		e.Message = strings.ToValidUTF8(e.Message[:maxEventMessage], "")
	}
}
