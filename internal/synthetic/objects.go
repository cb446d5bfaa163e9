package synthetic

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// GPUResource is the extended resource name of NVIDIA GPUs.
const GPUResource corev1.ResourceName = "nvidia.com/gpu"

// Objects returns the cluster's objects as they stand at End, in creation order: namespaces,
// nodes, top-level owners (Deployments, StatefulSets, DaemonSets, CronJobs), then their
// ReplicaSets and Jobs, pods (spec.nodeName and status filled in), the HPA, then Warning events for the OOM kills in
// the window. No controller runs in a test API server, so the full owner chains are returned,
// with ownerReferences pointing at deterministic UIDs.
//
// An API server assigns its own metadata.uid and creationTimestamp on create and resets a
// pod's status: a loader must map the UIDs of ownerReferences to the created owners' UIDs
// and write pod status with UpdateStatus. The Job has no selector, so the API server
// generates it.
func (c *Cluster) Objects() []runtime.Object {
	var out []runtime.Object
	for _, ns := range c.namespaces {
		out = append(out, &corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: c.meta(ns.name, "", ns.uid, ns.created, map[string]string{"team": ns.team}),
		})
	}
	for _, n := range c.nodes {
		out = append(out, c.nodeObject(n))
	}
	var mid []runtime.Object
	for _, w := range c.workloads {
		objs := c.ownerObjects(w)
		if len(objs) > 0 {
			out = append(out, objs[0])
			mid = append(mid, objs[1:]...)
		}
	}
	out = append(out, mid...)
	out = append(out, c.volumeObjects()...)
	for _, p := range c.pods {
		out = append(out, c.podObject(p))
	}
	for _, w := range c.workloads {
		if w.spec.hpa {
			out = append(out, c.hpaObject(w))
		}
	}
	for _, ct := range c.containers {
		for _, r := range ct.runs {
			if r.oomKilled && r.end >= c.start && r.end <= c.end {
				out = append(out, c.oomEvents(ct, r)...)
			}
		}
	}
	return out
}

func (c *Cluster) meta(name, namespace, uid string, created int64, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, UID: types.UID(uid),
		CreationTimestamp: metav1.NewTime(unixTime(created)), Labels: labels}
}

func ownerRef(apiVersion, kind, name, uid string) []metav1.OwnerReference {
	t := true
	return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID(uid),
		Controller: &t, BlockOwnerDeletion: &t}}
}

func (c *Cluster) nodeLabels(n *node) map[string]string {
	cl := n.class
	labels := map[string]string{
		"kubernetes.io/hostname":           n.name,
		"kubernetes.io/os":                 "linux",
		"kubernetes.io/arch":               "amd64",
		"node.kubernetes.io/instance-type": cl.instanceType,
		"topology.kubernetes.io/region":    region,
		"topology.kubernetes.io/zone":      cl.zone,
		"karpenter.sh/capacity-type":       cl.capacityType,
		"karpenter.sh/nodepool":            cl.nodePool,
	}
	if cl.gpus > 0 {
		labels["nvidia.com/gpu.present"] = "true"
	}
	return labels
}

func (c *Cluster) nodeObject(n *node) *corev1.Node {
	cl := n.class
	labels := c.nodeLabels(n)
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewMilliQuantity(cl.cpuMilli, resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(cl.memory, resource.BinarySI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(cl.storage, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(cl.pods, resource.DecimalSI),
	}
	allocatable := corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewMilliQuantity(cl.cpuAllocMill, resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(cl.memoryAlloc, resource.BinarySI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(cl.storageAlloc, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(cl.pods, resource.DecimalSI),
	}
	var taints []corev1.Taint
	if cl.gpus > 0 {
		capacity[GPUResource] = *resource.NewQuantity(cl.gpus, resource.DecimalSI)
		allocatable[GPUResource] = *resource.NewQuantity(cl.gpus, resource.DecimalSI)
		taints = []corev1.Taint{{Key: string(GPUResource), Value: "present", Effect: corev1.TaintEffectNoSchedule}}
	}
	since := metav1.NewTime(unixTime(n.created + 2*minute))
	return &corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: c.meta(n.name, "", n.uid, n.created, labels),
		Spec: corev1.NodeSpec{
			ProviderID: fmt.Sprintf("aws:///%s/i-%s", cl.zone, c.hexDigest(17, "instance", n.name)),
			Taints:     taints,
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: allocatable,
			Phase:       corev1.NodeRunning,
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
				Reason: "KubeletReady", Message: "kubelet is posting ready status",
				LastHeartbeatTime: metav1.NewTime(unixTime(c.end)), LastTransitionTime: since}},
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: n.ip},
				{Type: corev1.NodeHostName, Address: n.name},
				{Type: corev1.NodeInternalDNS, Address: n.name},
			},
			NodeInfo: corev1.NodeSystemInfo{
				MachineID:               c.hexDigest(32, "machine", n.name),
				SystemUUID:              c.uid("SystemUUID", "", n.name),
				BootID:                  c.uid("BootID", "", n.name),
				KernelVersion:           "6.1.119-129.201.amzn2023.x86_64",
				OSImage:                 "Amazon Linux 2023.6.20241212",
				ContainerRuntimeVersion: "containerd://1.7.23",
				KubeletVersion:          "v1.35.4",
				OperatingSystem:         "linux",
				Architecture:            "amd64",
			},
		},
	}
}

func (c *Cluster) selector(w *workload) map[string]string {
	return map[string]string{"app.kubernetes.io/name": w.spec.app}
}

func (c *Cluster) template(w *workload, extra map[string]string) corev1.PodTemplateSpec {
	labels := c.appLabels(w.spec)
	for k, v := range extra {
		labels[k] = v
	}
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: c.podSpec(w)}
}

func (c *Cluster) podSpec(w *workload) corev1.PodSpec {
	s := w.spec
	spec := corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways, HostNetwork: s.hostNet}
	for i := range s.containers {
		cs := &s.containers[i]
		if cs.restartPolicyNever {
			spec.RestartPolicy = corev1.RestartPolicyNever
		}
		spec.Containers = append(spec.Containers, corev1.Container{
			Name: cs.name, Image: cs.image, ImagePullPolicy: corev1.PullIfNotPresent, Resources: cs.resources()})
	}
	switch {
	case s.kind == KindDaemonSet:
		spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	case s.tolerate:
		spec.Tolerations = []corev1.Toleration{{Key: string(GPUResource), Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoSchedule}}
		spec.NodeSelector = map[string]string{"karpenter.sh/nodepool": "gpu"}
	}
	return spec
}

func (cs *containerSpec) resources() corev1.ResourceRequirements {
	var r corev1.ResourceRequirements
	set := func(l *corev1.ResourceList, name corev1.ResourceName, q *resource.Quantity) {
		if *l == nil {
			*l = corev1.ResourceList{}
		}
		(*l)[name] = *q
	}
	if cs.cpuRequestMilli > 0 {
		set(&r.Requests, corev1.ResourceCPU, resource.NewMilliQuantity(cs.cpuRequestMilli, resource.DecimalSI))
	}
	if cs.cpuLimitMilli > 0 {
		set(&r.Limits, corev1.ResourceCPU, resource.NewMilliQuantity(cs.cpuLimitMilli, resource.DecimalSI))
	}
	if cs.memRequest > 0 {
		set(&r.Requests, corev1.ResourceMemory, resource.NewQuantity(cs.memRequest, resource.BinarySI))
	}
	if cs.memLimit > 0 {
		set(&r.Limits, corev1.ResourceMemory, resource.NewQuantity(cs.memLimit, resource.BinarySI))
	}
	if cs.gpus > 0 {
		set(&r.Requests, GPUResource, resource.NewQuantity(cs.gpus, resource.DecimalSI))
		set(&r.Limits, GPUResource, resource.NewQuantity(cs.gpus, resource.DecimalSI))
	}
	return r
}

// ownerObjects returns a workload's top-level owner followed by its intermediate owner.
func (c *Cluster) ownerObjects(w *workload) []runtime.Object {
	s := w.spec
	n := int32(len(w.pods))
	labels := c.appLabels(s)
	sel := &metav1.LabelSelector{MatchLabels: c.selector(w)}
	switch s.kind {
	case KindDeployment:
		hash := w.pods[0].labels["pod-template-hash"]
		rsSel := &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": s.app, "pod-template-hash": hash}}
		revision := map[string]string{"deployment.kubernetes.io/revision": "1"}
		d := &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: KindDeployment},
			ObjectMeta: c.meta(s.name, w.namespace, w.uid, s.created, labels),
			Spec:       appsv1.DeploymentSpec{Replicas: &n, Selector: sel, Template: c.template(w, nil)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n,
				AvailableReplicas: n, Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable,
					Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
					LastUpdateTime: metav1.NewTime(unixTime(s.created)), LastTransitionTime: metav1.NewTime(unixTime(s.created))}}},
		}
		d.Generation, d.Annotations = 1, revision
		rsLabels := c.appLabels(s)
		rsLabels["pod-template-hash"] = hash
		rs := &appsv1.ReplicaSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
			ObjectMeta: c.meta(w.midName, w.namespace, w.midUID, w.midStart, rsLabels),
			Spec: appsv1.ReplicaSetSpec{Replicas: &n, Selector: rsSel,
				Template: c.template(w, map[string]string{"pod-template-hash": hash})},
			Status: appsv1.ReplicaSetStatus{ObservedGeneration: 1, Replicas: n, FullyLabeledReplicas: n,
				ReadyReplicas: n, AvailableReplicas: n},
		}
		rs.Generation, rs.Annotations = 1, revision
		rs.OwnerReferences = ownerRef("apps/v1", KindDeployment, s.name, w.uid)
		return []runtime.Object{d, rs}
	case KindStatefulSet:
		rev := w.pods[0].labels["controller-revision-hash"]
		ss := &appsv1.StatefulSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: KindStatefulSet},
			ObjectMeta: c.meta(s.name, w.namespace, w.uid, s.created, labels),
			Spec: appsv1.StatefulSetSpec{Replicas: &n, Selector: sel, ServiceName: s.name,
				Template: c.template(w, nil)},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: n, ReadyReplicas: n, CurrentReplicas: n,
				UpdatedReplicas: n, AvailableReplicas: n, CurrentRevision: rev, UpdateRevision: rev},
		}
		ss.Generation = 1
		return []runtime.Object{ss}
	case KindDaemonSet:
		ds := &appsv1.DaemonSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: KindDaemonSet},
			ObjectMeta: c.meta(s.name, w.namespace, w.uid, s.created, labels),
			Spec:       appsv1.DaemonSetSpec{Selector: sel, Template: c.template(w, nil)},
			Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, CurrentNumberScheduled: n, DesiredNumberScheduled: n,
				NumberReady: n, NumberAvailable: n, UpdatedNumberScheduled: n},
		}
		ds.Generation = 1
		return []runtime.Object{ds}
	case KindCronJob:
		return c.cronJobObjects(w, labels)
	}
	return nil // bare pods have no owner
}

func (c *Cluster) cronJobObjects(w *workload, labels map[string]string) []runtime.Object {
	s := w.spec
	n := int32(len(w.pods))
	backoff, history, utc := int32(0), int32(3), "Etc/UTC"
	finished := w.midStart + s.runFor
	jobSpec := batchv1.JobSpec{Parallelism: &n, Completions: &n, BackoffLimit: &backoff, Template: c.template(w, nil)}
	cj := &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: KindCronJob},
		ObjectMeta: c.meta(s.name, w.namespace, w.uid, s.created, labels),
		Spec: batchv1.CronJobSpec{Schedule: s.schedule, TimeZone: &utc, ConcurrencyPolicy: batchv1.ForbidConcurrent,
			SuccessfulJobsHistoryLimit: &history,
			JobTemplate:                batchv1.JobTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: jobSpec}},
		Status: batchv1.CronJobStatus{LastScheduleTime: ptrTime(w.midStart), LastSuccessfulTime: ptrTime(finished)},
	}
	jobLabels := c.appLabels(s)
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: c.meta(w.midName, w.namespace, w.midUID, w.midStart, jobLabels),
		Spec:       jobSpec,
		Status: batchv1.JobStatus{StartTime: ptrTime(w.midStart), CompletionTime: ptrTime(finished), Succeeded: n,
			Conditions: []batchv1.JobCondition{
				{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: "CompletionsReached",
					LastProbeTime: metav1.NewTime(unixTime(finished)), LastTransitionTime: metav1.NewTime(unixTime(finished))},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: "CompletionsReached",
					LastProbeTime: metav1.NewTime(unixTime(finished)), LastTransitionTime: metav1.NewTime(unixTime(finished))}}},
	}
	job.Annotations = map[string]string{"batch.kubernetes.io/cronjob-scheduled-timestamp": unixTime(w.midStart).Format("2006-01-02T15:04:05Z07:00")}
	job.OwnerReferences = ownerRef("batch/v1", KindCronJob, s.name, w.uid)
	return []runtime.Object{cj, job}
}

func ptrTime(s int64) *metav1.Time {
	t := metav1.NewTime(unixTime(s))
	return &t
}

// qosClass follows the Kubernetes rules on CPU and memory.
func qosClass(p *pod) corev1.PodQOSClass {
	guaranteed, some := true, false
	for _, ct := range p.containers {
		cs := ct.spec
		if cs.cpuRequestMilli > 0 || cs.cpuLimitMilli > 0 || cs.memRequest > 0 || cs.memLimit > 0 {
			some = true
		}
		if cs.cpuLimitMilli == 0 || cs.memLimit == 0 ||
			(cs.cpuRequestMilli != 0 && cs.cpuRequestMilli != cs.cpuLimitMilli) ||
			(cs.memRequest != 0 && cs.memRequest != cs.memLimit) {
			guaranteed = false
		}
	}
	switch {
	case !some:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

func (p *pod) finished() bool { return p.end != forever }

func (c *Cluster) imageID(image string) string {
	repo := image
	for i := len(image) - 1; i >= 0; i-- {
		if image[i] == ':' {
			repo = image[:i]
			break
		}
		if image[i] == '/' {
			break
		}
	}
	return repo + "@sha256:" + c.hexDigest(64, "image", image)
}

func (c *Cluster) podObject(p *pod) *corev1.Pod {
	w := p.w
	spec := c.podSpec(w)
	spec.NodeName = p.node.name
	if w.spec.kind == KindStatefulSet {
		spec.Hostname, spec.Subdomain = p.name, w.spec.name
	}
	for _, claim := range c.claimsOf(p) {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	}
	meta := c.meta(p.name, w.namespace, p.uid, p.start, copyLabels(p.labels))
	if p.ownerKind != "" {
		apiVersion := "apps/v1"
		if p.ownerKind == "Job" {
			apiVersion = "batch/v1"
		}
		meta.OwnerReferences = ownerRef(apiVersion, p.ownerKind, p.ownerName, p.ownerUID)
	}
	start := metav1.NewTime(unixTime(p.start))
	status := corev1.PodStatus{
		Phase: corev1.PodRunning, HostIP: p.node.ip, HostIPs: []corev1.HostIP{{IP: p.node.ip}},
		PodIP: p.ip, PodIPs: []corev1.PodIP{{IP: p.ip}}, StartTime: &start, QOSClass: qosClass(p),
	}
	cond := func(t corev1.PodConditionType, ok bool, at int64, reason string) corev1.PodCondition {
		s := corev1.ConditionTrue
		if !ok {
			s = corev1.ConditionFalse
		}
		return corev1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: metav1.NewTime(unixTime(at))}
	}
	if p.finished() {
		status.Phase = corev1.PodSucceeded
		status.Conditions = []corev1.PodCondition{
			cond(corev1.PodReadyToStartContainers, false, p.end, ""),
			cond(corev1.PodInitialized, true, p.start, "PodCompleted"),
			cond(corev1.PodReady, false, p.end, "PodCompleted"),
			cond(corev1.ContainersReady, false, p.end, "PodCompleted"),
			cond(corev1.PodScheduled, true, p.start, ""),
		}
	} else {
		ready := p.start
		for _, ct := range p.containers {
			ready = max(ready, ct.runs[len(ct.runs)-1].start)
		}
		status.Conditions = []corev1.PodCondition{
			cond(corev1.PodReadyToStartContainers, true, p.start, ""),
			cond(corev1.PodInitialized, true, p.start, ""),
			cond(corev1.PodReady, true, ready, ""),
			cond(corev1.ContainersReady, true, ready, ""),
			cond(corev1.PodScheduled, true, p.start, ""),
		}
	}
	for _, ct := range p.containers {
		status.ContainerStatuses = append(status.ContainerStatuses, c.containerStatus(ct))
	}
	return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: meta, Spec: spec, Status: status}
}

func (c *Cluster) containerStatus(ct *container) corev1.ContainerStatus {
	cur := ct.runs[len(ct.runs)-1]
	st := corev1.ContainerStatus{Name: ct.spec.name, Image: ct.spec.image, ImageID: c.imageID(ct.spec.image),
		ContainerID: "containerd://" + cur.id, RestartCount: int32(cur.restarts)}
	if ct.pod.finished() {
		st.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed",
			StartedAt: metav1.NewTime(unixTime(cur.start)), FinishedAt: metav1.NewTime(unixTime(cur.end)),
			ContainerID: st.ContainerID}
		return st
	}
	t := true
	st.Ready, st.Started = true, &t
	st.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(unixTime(cur.start))}
	if len(ct.runs) > 1 {
		prev := ct.runs[len(ct.runs)-2]
		st.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled",
			StartedAt: metav1.NewTime(unixTime(prev.start)), FinishedAt: metav1.NewTime(unixTime(prev.end)),
			ContainerID: "containerd://" + prev.id}
	}
	return st
}

func (c *Cluster) hpaObject(w *workload) *autoscalingv2.HorizontalPodAutoscaler {
	lo, hi, util := int32(2*c.opts.Scale), int32(6*c.opts.Scale), int32(70)
	n := int32(len(w.pods))
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: c.meta(w.spec.name, w.namespace, c.uid("HorizontalPodAutoscaler", w.namespace, w.spec.name), w.spec.created, nil),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: w.spec.kind, Name: w.spec.name},
			MinReplicas:    &lo, MaxReplicas: hi,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &util}}}},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: n, DesiredReplicas: n},
	}
}

// oomEvents are the Warning events of one OOM kill: one on the pod (naming the container) and
// the kubelet's SystemOOM event on the node (in namespace "default", as for every node event).
func (c *Cluster) oomEvents(ct *container, r run) []runtime.Object {
	p := ct.pod
	at := metav1.NewTime(unixTime(r.end))
	source := corev1.EventSource{Component: "kubelet", Host: p.node.name}
	podEvent := &corev1.Event{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta: c.meta(fmt.Sprintf("%s.%s", p.name, c.hexDigest(16, "event", p.uid, ct.spec.name, r.id)),
			p.w.namespace, c.uid("Event", p.w.namespace, p.name+"/"+r.id), r.end, nil),
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: p.w.namespace, Name: p.name, UID: types.UID(p.uid),
			APIVersion: "v1", FieldPath: fmt.Sprintf("spec.containers{%s}", ct.spec.name)},
		Reason: "OOMKilled",
		Message: fmt.Sprintf("Container %s was OOM-killed: its working set reached the memory limit of %d bytes",
			ct.spec.name, r.limitAtKill),
		Source: source, FirstTimestamp: at, LastTimestamp: at, Count: 1, Type: corev1.EventTypeWarning,
		ReportingController: "kubelet", ReportingInstance: p.node.name,
	}
	nodeEvent := &corev1.Event{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta: c.meta(fmt.Sprintf("%s.%s", p.node.name, c.hexDigest(16, "event", p.node.uid, r.id)),
			"default", c.uid("Event", "default", p.node.name+"/"+r.id), r.end, nil),
		InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: p.node.name, UID: types.UID(p.node.uid), APIVersion: "v1"},
		Reason:         "SystemOOM",
		Message:        fmt.Sprintf("System OOM encountered, victim process: %s, pid: %d", ct.spec.name, 4000+r.restarts),
		Source:         source, FirstTimestamp: at, LastTimestamp: at, Count: 1, Type: corev1.EventTypeWarning,
		ReportingController: "kubelet", ReportingInstance: p.node.name,
	}
	return []runtime.Object{podEvent, nodeEvent}
}
