package kube

import (
	"maps"
	"slices"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/tally-finops/tally/internal/model"
)

// GPU resources that count as GPUs in model.Container.GPURequest and model.Node.GPU*.
const (
	resourceNvidiaGPU corev1.ResourceName = "nvidia.com/gpu"
	resourceAMDGPU    corev1.ResourceName = "amd.com/gpu"
)

// Container-status reasons tally looks for.
const (
	reasonOOMKilled = "OOMKilled"
	reasonEvicted   = "Evicted"
)

// Node labels: the well-known ones first, then the deprecated beta labels older clusters
// still set.
const (
	labelInstanceType     = "node.kubernetes.io/instance-type"
	labelInstanceTypeBeta = "beta.kubernetes.io/instance-type"
	labelRegion           = "topology.kubernetes.io/region"
	labelRegionBeta       = "failure-domain.beta.kubernetes.io/region"
	labelZone             = "topology.kubernetes.io/zone"
	labelZoneBeta         = "failure-domain.beta.kubernetes.io/zone"
)

// appendContainers appends one model.Container per init container and container of pod to
// dst: init containers first, each list in spec order. All containers of the pod share one
// copy of the pod's labels. wl is the pod's top-level workload.
//
// A request that is not set but whose limit is counts as the limit: the API server defaults
// it so, and objects that did not go through an API server (fakes, files) get the same
// answer. Pod-level resources (spec.resources) are not spread over containers.
func appendContainers(dst []model.Container, pod *corev1.Pod, cluster string, at time.Time, wl model.WorkloadRef) []model.Container {
	labels := maps.Clone(pod.Labels)
	base := model.Container{
		Cluster:    cluster,
		ObservedAt: at,
		Namespace:  pod.Namespace,
		Pod:        pod.Name,
		PodUID:     string(pod.UID),
		Node:       pod.Spec.NodeName,
		Phase:      podPhase(pod),
		QoSClass:   podQOS(pod),
		Workload:   wl,
		Labels:     labels,
	}
	var podStart time.Time
	if pod.Status.StartTime != nil {
		podStart = pod.Status.StartTime.UTC()
	}
	add := func(c *corev1.Container, statuses []corev1.ContainerStatus, init bool) {
		m := base
		m.Container = c.Name
		m.Init = init
		m.CPURequestCores = cores(request(c.Resources, corev1.ResourceCPU))
		m.CPULimitCores = cores(c.Resources.Limits[corev1.ResourceCPU])
		m.MemoryRequestBytes = byteCount(request(c.Resources, corev1.ResourceMemory))
		m.MemoryLimitBytes = byteCount(c.Resources.Limits[corev1.ResourceMemory])
		m.GPURequest = gpus(c.Resources)
		m.StartedAt = podStart
		if st := findStatus(statuses, c.Name); st != nil {
			m.RestartCount = uint32(max(st.RestartCount, 0))
			switch {
			case st.State.Running != nil:
				m.StartedAt = st.State.Running.StartedAt.UTC()
			case st.State.Terminated != nil:
				if !st.State.Terminated.StartedAt.IsZero() {
					m.StartedAt = st.State.Terminated.StartedAt.UTC()
				}
				m.FinishedAt = st.State.Terminated.FinishedAt.UTC()
			}
			if t := st.LastTerminationState.Terminated; t != nil {
				m.LastTerminationReason = t.Reason
			} else if t := st.State.Terminated; t != nil {
				// A container that terminated and was not restarted (restartPolicy Never,
				// or a finished pod) has no last state: its current state is its last
				// termination.
				m.LastTerminationReason = t.Reason
			}
		}
		dst = append(dst, m)
	}
	for i := range pod.Spec.InitContainers {
		add(&pod.Spec.InitContainers[i], pod.Status.InitContainerStatuses, true)
	}
	for i := range pod.Spec.Containers {
		add(&pod.Spec.Containers[i], pod.Status.ContainerStatuses, false)
	}
	return dst
}

func podPhase(pod *corev1.Pod) string {
	if pod.Status.Phase == "" {
		return string(corev1.PodPending) // what the API server sets on create
	}
	return string(pod.Status.Phase)
}

func findStatus(statuses []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range statuses {
		if statuses[i].Name == name {
			return &statuses[i]
		}
	}
	return nil
}

// request is the effective request of a resource: the request, or the limit when only the
// limit is set.
func request(r corev1.ResourceRequirements, name corev1.ResourceName) resource.Quantity {
	if q, ok := r.Requests[name]; ok {
		return q
	}
	return r.Limits[name]
}

func gpus(r corev1.ResourceRequirements) float64 {
	var n float64
	for _, name := range []corev1.ResourceName{resourceNvidiaGPU, resourceAMDGPU} {
		q := request(r, name)
		n += float64(q.Value())
	}
	return n
}

func cores(q resource.Quantity) float64 { return float64(q.MilliValue()) / 1000 }

func byteCount(q resource.Quantity) uint64 {
	if v := q.Value(); v > 0 {
		return uint64(v)
	}
	return 0
}

// podQOS is the pod's QoS class as the API server recorded it in status.qosClass, or, when
// that is empty, computed by the rules of Kubernetes (pkg/apis/core/v1/helper/qos):
//
//   - only cpu and memory count, and only quantities above zero;
//   - no request and no limit anywhere → BestEffort;
//   - every container (init containers included) has cpu and memory limits, and the pod's
//     summed requests equal its summed limits for each resource → Guaranteed;
//   - otherwise Burstable.
//
// With pod-level resources (spec.resources), those alone decide. Requests missing where a
// limit is set are taken to equal the limit, as the API server's defaulting does.
func podQOS(pod *corev1.Pod) string {
	if pod.Status.QOSClass != "" {
		return string(pod.Status.QOSClass)
	}
	return string(computeQOS(pod))
}

func computeQOS(pod *corev1.Pod) corev1.PodQOSClass {
	requests := corev1.ResourceList{}
	limits := corev1.ResourceList{}
	guaranteed := true
	if pr := pod.Spec.Resources; pr != nil {
		addQOSResources(requests, withDefaultedRequests(*pr))
		if len(pr.Limits) > 0 {
			if addQOSResources(limits, pr.Limits) != 2 {
				guaranteed = false
			}
		}
	} else {
		for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
			for i := range list {
				r := list[i].Resources
				addQOSResources(requests, withDefaultedRequests(r))
				if addQOSResources(limits, r.Limits) != 2 {
					guaranteed = false
				}
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// withDefaultedRequests returns the requests of r with every missing cpu or memory request
// set to its limit.
func withDefaultedRequests(r corev1.ResourceRequirements) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := r.Requests[name]; ok {
			out[name] = q
		} else if q, ok := r.Limits[name]; ok {
			out[name] = q
		}
	}
	return out
}

// addQOSResources adds the positive cpu and memory quantities of list to sum and returns how
// many of the two it found.
func addQOSResources(sum, list corev1.ResourceList) int {
	found := 0
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		q, ok := list[name]
		if !ok || q.Sign() <= 0 {
			continue
		}
		found++
		if cur, ok := sum[name]; ok {
			q = q.DeepCopy()
			q.Add(cur)
		}
		sum[name] = q
	}
	return found
}

// nodeFromObject converts a node: what it offers, where it runs and how it is bought.
func nodeFromObject(n *corev1.Node, cluster string, at time.Time) model.Node {
	return model.Node{
		Cluster:                cluster,
		ObservedAt:             at,
		Name:                   n.Name,
		InstanceType:           firstLabel(n.Labels, labelInstanceType, labelInstanceTypeBeta),
		Region:                 firstLabel(n.Labels, labelRegion, labelRegionBeta),
		Zone:                   firstLabel(n.Labels, labelZone, labelZoneBeta),
		CapacityType:           capacityType(n.Labels),
		CPUCapacityCores:       cores(n.Status.Capacity[corev1.ResourceCPU]),
		CPUAllocatableCores:    cores(n.Status.Allocatable[corev1.ResourceCPU]),
		MemoryCapacityBytes:    byteCount(n.Status.Capacity[corev1.ResourceMemory]),
		MemoryAllocatableBytes: byteCount(n.Status.Allocatable[corev1.ResourceMemory]),
		GPUCapacity:            nodeGPUs(n.Status.Capacity),
		GPUAllocatable:         nodeGPUs(n.Status.Allocatable),
		Labels:                 maps.Clone(n.Labels),
	}
}

func nodeGPUs(list corev1.ResourceList) float64 {
	var n float64
	for _, name := range []corev1.ResourceName{resourceNvidiaGPU, resourceAMDGPU} {
		q := list[name]
		n += float64(q.Value())
	}
	return n
}

func firstLabel(labels map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := labels[k]; v != "" {
			return v
		}
	}
	return ""
}

// capacityType tells spot from on-demand nodes by the labels that provisioners and managed
// node groups set. The first label present with a known value decides, in this order:
//
//	karpenter.sh/capacity-type             spot → spot; on-demand, reserved → on-demand
//	eks.amazonaws.com/capacityType         SPOT → spot; ON_DEMAND, CAPACITY_BLOCK → on-demand
//	cloud.google.com/gke-spot              true → spot
//	cloud.google.com/gke-preemptible       true → spot
//	cloud.google.com/gke-provisioning      spot, preemptible → spot; standard → on-demand
//	kubernetes.azure.com/scalesetpriority  spot → spot; regular → on-demand
//	node.kubernetes.io/lifecycle           spot → spot; on-demand, normal → on-demand
//	spotinst.io/node-lifecycle             spot → spot; od → on-demand (Spot Ocean)
//
// Failing those, a node of a GKE node pool (cloud.google.com/gke-nodepool) or an AKS agent
// pool (kubernetes.azure.com/agentpool) is on-demand, because both clouds label spot nodes
// and leave regular ones unlabelled. Anything else is "" (unknown).
func capacityType(labels map[string]string) string {
	rules := []struct {
		label          string
		spot, onDemand []string
	}{
		{"karpenter.sh/capacity-type", []string{"spot"}, []string{"on-demand", "reserved"}},
		{"eks.amazonaws.com/capacityType", []string{"SPOT"}, []string{"ON_DEMAND", "CAPACITY_BLOCK"}},
		{"cloud.google.com/gke-spot", []string{"true"}, nil},
		{"cloud.google.com/gke-preemptible", []string{"true"}, nil},
		{"cloud.google.com/gke-provisioning", []string{"spot", "preemptible"}, []string{"standard"}},
		{"kubernetes.azure.com/scalesetpriority", []string{"spot"}, []string{"regular"}},
		{"node.kubernetes.io/lifecycle", []string{"spot"}, []string{"on-demand", "normal"}},
		{"spotinst.io/node-lifecycle", []string{"spot"}, []string{"od"}},
	}
	for _, r := range rules {
		v, ok := labels[r.label]
		if !ok {
			continue
		}
		if slices.Contains(r.spot, v) {
			return model.CapacitySpot
		}
		if slices.Contains(r.onDemand, v) {
			return model.CapacityOnDemand
		}
	}
	if labels["cloud.google.com/gke-nodepool"] != "" || labels["kubernetes.azure.com/agentpool"] != "" {
		return model.CapacityOnDemand
	}
	return ""
}

// autoscalerFromHPA converts a HorizontalPodAutoscaler whose scale target resolved to the
// workload target. Resources lists, sorted and once each, the resources of its Resource and
// ContainerResource metrics.
func autoscalerFromHPA(h *autoscalingv2.HorizontalPodAutoscaler, cluster string, target model.WorkloadRef) model.Autoscaler {
	a := model.Autoscaler{
		Cluster:     cluster,
		Namespace:   h.Namespace,
		Name:        h.Name,
		Target:      target,
		MinReplicas: 1, // the API's default
		MaxReplicas: h.Spec.MaxReplicas,
	}
	if h.Spec.MinReplicas != nil {
		a.MinReplicas = *h.Spec.MinReplicas
	}
	for _, m := range h.Spec.Metrics {
		var name corev1.ResourceName
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
			name = m.Resource.Name
		case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
			name = m.ContainerResource.Name
		default:
			continue
		}
		if !slices.Contains(a.Resources, string(name)) {
			a.Resources = append(a.Resources, string(name))
		}
	}
	slices.Sort(a.Resources)
	return a
}
