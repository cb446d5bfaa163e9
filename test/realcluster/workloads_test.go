package realcluster

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const mib = 1 << 20

// The suite's namespaces and the team label each carries.
var namespaces = map[string]string{"e2e-shop": "shop", "e2e-data": "data", "e2e-ops": "ops"}

// spec is one workload of the suite: what it runs and what it is expected to use.
type spec struct {
	namespace, name string
	kind            string // Deployment, StatefulSet, DaemonSet, Job, CronJob, CloneSet or Pod
	replicas        int32
	args            []string
	podLabels       map[string]string

	cpuRequest, cpuLimit float64 // cores; 0: unset
	memRequest, memLimit float64 // bytes; 0: unset

	// What the container uses, from its arguments: CPU cores (the burn, or the CPU limit
	// when lower) and the memory it holds. Zero for workloads whose use is not steady.
	cpu, memory float64
	// steady: it runs through the whole check window; CPU, memory and cost are checked.
	steady bool
	// costed: its cost is checked against the hand computation (steady ones, the Job and
	// the pod deleted mid-window).
	costed bool
}

// specs is the suite's workloads. Requests are chosen so that the cost takes the request in
// some containers and the usage in others (web's CPU, db's memory).
var specs = []spec{
	{namespace: "e2e-shop", name: "web", kind: "Deployment", replicas: 2,
		args:       []string{"--cpu", "0.15", "--memory", "80Mi"},
		cpuRequest: 0.1, cpuLimit: 0.5, memRequest: 96 * mib, memLimit: 192 * mib,
		cpu: 0.15, memory: 80 * mib, steady: true, costed: true},
	{namespace: "e2e-shop", name: "db", kind: "StatefulSet", replicas: 1,
		args:       []string{"--cpu", "0.1", "--memory", "120Mi"},
		podLabels:  map[string]string{"team": "dba"}, // the pod's label wins over its namespace's
		cpuRequest: 0.2, cpuLimit: 0.4, memRequest: 96 * mib, memLimit: 256 * mib,
		cpu: 0.1, memory: 120 * mib, steady: true, costed: true},
	{namespace: "e2e-shop", name: "throttled", kind: "Deployment", replicas: 1,
		args:       []string{"--cpu", "0.4", "--memory", "64Mi"},
		cpuRequest: 0.1, cpuLimit: 0.2, memRequest: 96 * mib, memLimit: 128 * mib,
		cpu: 0.2, memory: 64 * mib, steady: true, costed: true},
	{namespace: "e2e-shop", name: "temp", kind: "Pod",
		args:       []string{"--cpu", "0.1", "--memory", "64Mi"},
		cpuRequest: 0.1, memRequest: 96 * mib,
		cpu: 0.1, memory: 64 * mib, costed: true},
	{namespace: "e2e-ops", name: "agent", kind: "DaemonSet",
		args:       []string{"--cpu", "0.05", "--memory", "64Mi"},
		cpuRequest: 0.05, memRequest: 96 * mib,
		cpu: 0.05, memory: 64 * mib, steady: true, costed: true},
	{namespace: "e2e-ops", name: "oom", kind: "Deployment", replicas: 1,
		// Grows 1 MiB/s from 16 MiB: killed at its 64 MiB limit after about 48 s, so that
		// cAdvisor (every 15 s) sees each instance a few times, as it sees a leak.
		args:       []string{"--memory", "16Mi", "--grow-memory", "1Mi"},
		cpuRequest: 0.01, cpuLimit: 0.1, memRequest: 64 * mib, memLimit: 64 * mib},
	{namespace: "e2e-ops", name: "childoom", kind: "Deployment", replicas: 1,
		args:       []string{"--cpu", "0.05", "--memory", "32Mi", "--child-oom", "--child-oom-interval", "30s"},
		cpuRequest: 0.05, cpuLimit: 0.5, memRequest: 64 * mib, memLimit: 160 * mib},
	{namespace: "e2e-data", name: "etl", kind: "Job",
		// 2 minutes: at least one whole minute to compare its usage in, and in at most 3
		// minutes (within 1 of its duration) whatever its start.
		args:       []string{"--cpu", "0.2", "--memory", "64Mi", "--duration", "120s"},
		cpuRequest: 0.25, memRequest: 96 * mib,
		cpu: 0.2, memory: 64 * mib, costed: true},
	{namespace: "e2e-data", name: "report", kind: "CronJob",
		args:       []string{"--cpu", "0.05", "--memory", "64Mi", "--duration", "20s"},
		cpuRequest: 0.05, memRequest: 96 * mib},
	{namespace: "e2e-data", name: "ingest", kind: "CloneSet",
		args:       []string{"--cpu", "0.1", "--memory", "64Mi"},
		cpuRequest: 0.1, memRequest: 96 * mib,
		cpu: 0.1, memory: 64 * mib, steady: true, costed: true},
}

// specOf returns the spec of a pod, from its namespace and name (pods are named after their
// workload: web-<hash>-<id>, db-0, report-<time>-<id>, ...).
func specOf(namespace, pod string) (spec, bool) {
	for _, s := range specs {
		if s.namespace == namespace && (pod == s.name || strings.HasPrefix(pod, s.name+"-")) {
			return s, true
		}
	}
	return spec{}, false
}

// The container's name in every workload.
const containerName = "main"

func quantity(v float64, unit string) resource.Quantity {
	if unit == "cpu" {
		return *resource.NewMilliQuantity(int64(v*1000+0.5), resource.DecimalSI)
	}
	return *resource.NewQuantity(int64(v), resource.BinarySI)
}

func (s spec) resources() corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for _, q := range []struct {
		v    float64
		name corev1.ResourceName
		list corev1.ResourceList
	}{
		{s.cpuRequest, corev1.ResourceCPU, r.Requests}, {s.cpuLimit, corev1.ResourceCPU, r.Limits},
		{s.memRequest, corev1.ResourceMemory, r.Requests}, {s.memLimit, corev1.ResourceMemory, r.Limits},
	} {
		if q.v > 0 {
			q.list[q.name] = quantity(q.v, string(q.name))
		}
	}
	return r
}

// podTemplate is the pod of every workload: the host's network (the cluster has no pod
// network), the locally built image, no probes (the kubelet would dial the machine's address).
func (s spec) podTemplate(restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	labels := map[string]string{"app": s.name}
	for k, v := range s.podLabels {
		labels[k] = v
	}
	grace := int64(2)
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{
			HostNetwork:                   true,
			RestartPolicy:                 restart,
			TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{
				Name: containerName, Image: "tally.local/workload:dev", ImagePullPolicy: corev1.PullNever,
				Args: s.args, Resources: s.resources(),
			}},
		},
	}
}

func (s spec) meta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: s.name, Namespace: s.namespace, Labels: map[string]string{"app": s.name}}
}

func (s spec) selector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": s.name}}
}

func (s spec) deployment() *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: s.meta(), Spec: appsv1.DeploymentSpec{
		Replicas: &s.replicas, Selector: s.selector(), Template: s.podTemplate(corev1.RestartPolicyAlways)}}
}

func (s spec) statefulSet() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: s.meta(), Spec: appsv1.StatefulSetSpec{
		Replicas: &s.replicas, Selector: s.selector(), ServiceName: s.name, Template: s.podTemplate(corev1.RestartPolicyAlways)}}
}

func (s spec) daemonSet() *appsv1.DaemonSet {
	return &appsv1.DaemonSet{ObjectMeta: s.meta(), Spec: appsv1.DaemonSetSpec{
		Selector: s.selector(), Template: s.podTemplate(corev1.RestartPolicyAlways)}}
}

func (s spec) jobSpec() batchv1.JobSpec {
	backoff := int32(0)
	return batchv1.JobSpec{BackoffLimit: &backoff, Template: s.podTemplate(corev1.RestartPolicyNever)}
}

func (s spec) job() *batchv1.Job {
	return &batchv1.Job{ObjectMeta: s.meta(), Spec: s.jobSpec()}
}

func (s spec) cronJob() *batchv1.CronJob {
	history := int32(5)
	return &batchv1.CronJob{ObjectMeta: s.meta(), Spec: batchv1.CronJobSpec{
		Schedule: "* * * * *", ConcurrencyPolicy: batchv1.ForbidConcurrent,
		SuccessfulJobsHistoryLimit: &history,
		JobTemplate:                batchv1.JobTemplateSpec{Spec: s.jobSpec()}}}
}

// pod is a bare pod of the spec, optionally owned by a controller (the CloneSet).
func (s spec) pod(name string, owner *metav1.OwnerReference) *corev1.Pod {
	tpl := s.podTemplate(corev1.RestartPolicyAlways)
	p := &corev1.Pod{ObjectMeta: tpl.ObjectMeta, Spec: tpl.Spec}
	p.Name, p.Namespace = name, s.namespace
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return p
}

// The OpenKruise CloneSet: its CRD (enough of it to store objects) and one object. No Kruise
// controller runs; the suite makes the CloneSet's pod itself, with the controller reference
// Kruise would set.
const (
	kruiseGroup   = "apps.kruise.io"
	kruiseVersion = "v1alpha1"
)

func cloneSetCRD() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "clonesets." + kruiseGroup},
		"spec": map[string]any{
			"group": kruiseGroup,
			"scope": "Namespaced",
			"names": map[string]any{"kind": "CloneSet", "listKind": "CloneSetList", "plural": "clonesets", "singular": "cloneset"},
			"versions": []any{map[string]any{
				"name": kruiseVersion, "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
}

func (s spec) cloneSet() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": kruiseGroup + "/" + kruiseVersion,
		"kind":       "CloneSet",
		"metadata":   map[string]any{"name": s.name, "namespace": s.namespace},
		"spec": map[string]any{
			"replicas": int64(1),
			"selector": map[string]any{"matchLabels": map[string]any{"app": s.name}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": s.name}}},
		},
	}}
}

func (s spec) String() string { return fmt.Sprintf("%s/%s %s", s.namespace, s.name, s.kind) }
