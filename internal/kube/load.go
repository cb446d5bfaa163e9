package kube

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// Load creates objects in a cluster, for tests and the demo. It is meant for an API server
// where nothing reconciles: it creates what controllers would have created, in dependency
// order — namespaces, nodes, top-level workloads (Deployments, StatefulSets, DaemonSets,
// CronJobs), ReplicaSets and Jobs, everything else, pods last — and then writes the status
// of pods (and nodes) with UpdateStatus, because creating a pod resets its status to
// Pending.
//
// An ownerReference that names an object of the same batch by kind and name gets the UID
// the server gave that object, so callers can build whole owner chains before any UID
// exists. The objects passed in are not modified.
//
// Load is idempotent: an object that already exists is updated (namespaces, nodes,
// workloads, ReplicaSets, HPAs) or left as it is (pods, whose spec is immutable; Jobs,
// whose selector the server generated; events), and pod and node status is written again.
// A PersistentVolume's claimRef that names a claim of the batch gets that claim's UID too,
// and claims and volumes get their status (phase) written like pods.
// Supported types: Namespace, Node, Pod, Event, Deployment, StatefulSet, DaemonSet,
// ReplicaSet, Job, CronJob, autoscaling/v2 HorizontalPodAutoscaler, StorageClass,
// PersistentVolumeClaim and PersistentVolume.
func Load(ctx context.Context, c *Clients, objs []runtime.Object) error {
	ordered := slices.Clone(objs)
	slices.SortStableFunc(ordered, func(a, b runtime.Object) int { return cmp.Compare(loadRank(a), loadRank(b)) })
	uids := map[ownerKey]types.UID{}
	for _, obj := range ordered {
		obj = obj.DeepCopyObject()
		m, err := meta.Accessor(obj)
		if err != nil {
			return fmt.Errorf("load %T: %w", obj, err)
		}
		group, kind := groupKind(obj)
		refs := m.GetOwnerReferences()
		for j := range refs {
			g := apiGroup(refs[j].APIVersion)
			uid, ok := uids[ownerKey{g, refs[j].Kind, m.GetNamespace(), refs[j].Name}]
			if !ok { // a cluster-scoped owner, such as the node of a mirror pod
				uid, ok = uids[ownerKey{g, refs[j].Kind, "", refs[j].Name}]
			}
			if ok {
				refs[j].UID = uid
			}
		}
		m.SetOwnerReferences(refs)
		if pv, ok := obj.(*corev1.PersistentVolume); ok && pv.Spec.ClaimRef != nil {
			ref := pv.Spec.ClaimRef
			if uid, ok := uids[ownerKey{"", "PersistentVolumeClaim", ref.Namespace, ref.Name}]; ok {
				ref.UID = uid
			}
		}
		uid, err := loadOne(ctx, c, obj)
		if err != nil {
			return fmt.Errorf("load %s %s/%s: %w", kind, m.GetNamespace(), m.GetName(), err)
		}
		uids[ownerKey{group, kind, m.GetNamespace(), m.GetName()}] = uid
	}
	return nil
}

type ownerKey struct{ group, kind, namespace, name string }

func loadRank(obj runtime.Object) int {
	switch obj.(type) {
	case *corev1.Namespace:
		return 0
	case *corev1.Node:
		return 1
	case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet, *batchv1.CronJob:
		return 2
	case *appsv1.ReplicaSet, *batchv1.Job:
		return 3
	case *corev1.Pod:
		return 5
	case *corev1.Event:
		return 6 // after the pods they are about
	}
	return 4
}

func groupKind(obj runtime.Object) (group, kind string) {
	switch obj.(type) {
	case *corev1.Namespace:
		return "", "Namespace"
	case *corev1.Node:
		return "", kindNode
	case *corev1.Pod:
		return "", kindPod
	case *corev1.Event:
		return "", "Event"
	case *appsv1.Deployment:
		return "apps", kindDeployment
	case *appsv1.StatefulSet:
		return "apps", kindStatefulSet
	case *appsv1.DaemonSet:
		return "apps", kindDaemonSet
	case *appsv1.ReplicaSet:
		return "apps", kindReplicaSet
	case *batchv1.Job:
		return "batch", kindJob
	case *batchv1.CronJob:
		return "batch", kindCronJob
	case *autoscalingv2.HorizontalPodAutoscaler:
		return "autoscaling", "HorizontalPodAutoscaler"
	case *storagev1.StorageClass:
		return "storage.k8s.io", "StorageClass"
	case *corev1.PersistentVolumeClaim:
		return "", "PersistentVolumeClaim"
	case *corev1.PersistentVolume:
		return "", "PersistentVolume"
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	return gvk.Group, cmp.Or(gvk.Kind, reflect.TypeOf(obj).String())
}

// loadOne creates or updates one object and returns its UID.
func loadOne(ctx context.Context, c *Clients, obj runtime.Object) (types.UID, error) {
	k := c.kube
	switch o := obj.(type) {
	case *corev1.Namespace:
		return upsert(ctx, k.CoreV1().Namespaces(), o, true)
	case *corev1.Node:
		uid, err := upsert(ctx, k.CoreV1().Nodes(), o, true)
		if err != nil || isZero(o.Status) {
			return uid, err
		}
		return uid, writeStatus(ctx, k.CoreV1().Nodes(), o, func(cur *corev1.Node) { cur.Status = o.Status })
	case *corev1.Pod:
		uid, err := upsert(ctx, k.CoreV1().Pods(o.Namespace), o, false)
		if err != nil || isZero(o.Status) {
			return uid, err
		}
		return uid, writeStatus(ctx, k.CoreV1().Pods(o.Namespace), o, func(cur *corev1.Pod) {
			qos := cur.Status.QOSClass // set by the server on create; immutable
			cur.Status = o.Status
			cur.Status.QOSClass = cmp.Or(cur.Status.QOSClass, qos)
		})
	case *corev1.Event:
		return upsert(ctx, k.CoreV1().Events(o.Namespace), o, false)
	case *appsv1.Deployment:
		return upsert(ctx, k.AppsV1().Deployments(o.Namespace), o, true)
	case *appsv1.StatefulSet:
		return upsert(ctx, k.AppsV1().StatefulSets(o.Namespace), o, true)
	case *appsv1.DaemonSet:
		return upsert(ctx, k.AppsV1().DaemonSets(o.Namespace), o, true)
	case *appsv1.ReplicaSet:
		return upsert(ctx, k.AppsV1().ReplicaSets(o.Namespace), o, true)
	case *batchv1.Job:
		return upsert(ctx, k.BatchV1().Jobs(o.Namespace), o, false)
	case *batchv1.CronJob:
		return upsert(ctx, k.BatchV1().CronJobs(o.Namespace), o, true)
	case *autoscalingv2.HorizontalPodAutoscaler:
		return upsert(ctx, k.AutoscalingV2().HorizontalPodAutoscalers(o.Namespace), o, true)
	case *storagev1.StorageClass:
		return upsert(ctx, k.StorageV1().StorageClasses(), o, false) // parameters are immutable
	case *corev1.PersistentVolumeClaim:
		uid, err := upsert(ctx, k.CoreV1().PersistentVolumeClaims(o.Namespace), o, false)
		if err != nil || isZero(o.Status) {
			return uid, err
		}
		return uid, writeStatus(ctx, k.CoreV1().PersistentVolumeClaims(o.Namespace), o,
			func(cur *corev1.PersistentVolumeClaim) { cur.Status = o.Status })
	case *corev1.PersistentVolume:
		uid, err := upsert(ctx, k.CoreV1().PersistentVolumes(), o, false)
		if err != nil || isZero(o.Status) {
			return uid, err
		}
		return uid, writeStatus(ctx, k.CoreV1().PersistentVolumes(), o, func(cur *corev1.PersistentVolume) { cur.Status = o.Status })
	}
	return "", fmt.Errorf("unsupported type %T", obj)
}

// typedClient is what every typed client of client-go offers for one resource.
type typedClient[T metav1.Object] interface {
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
}

type statusClient[T metav1.Object] interface {
	typedClient[T]
	UpdateStatus(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// upsert creates obj; when it exists already, it updates it (update) or leaves it.
func upsert[T metav1.Object](ctx context.Context, cl typedClient[T], obj T, update bool) (types.UID, error) {
	created, err := cl.Create(ctx, obj, metav1.CreateOptions{})
	if err == nil {
		return created.GetUID(), nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("create: %w", err)
	}
	cur, err := cl.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("get existing: %w", err)
	}
	if !update {
		return cur.GetUID(), nil
	}
	obj.SetUID(cur.GetUID())
	obj.SetResourceVersion(cur.GetResourceVersion())
	updated, err := cl.Update(ctx, obj, metav1.UpdateOptions{})
	if err != nil {
		return "", fmt.Errorf("update existing: %w", err)
	}
	return updated.GetUID(), nil
}

// writeStatus reads the stored object, lets set put the wanted status on it and writes it
// with UpdateStatus.
func writeStatus[T metav1.Object](ctx context.Context, cl statusClient[T], obj T, set func(cur T)) error {
	cur, err := cl.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get for status update: %w", err)
	}
	set(cur)
	if _, err := cl.UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	return nil
}

func isZero[T any](v T) bool { return reflect.ValueOf(&v).Elem().IsZero() }
