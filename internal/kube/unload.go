package kube

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Unload deletes what Load created from objs, for tests and the demo, on an API server
// where nothing cascades: every object of the namespaces in objs is deleted by hand (pods
// with a zero grace period, as no kubelet confirms a graceful deletion; claims without their
// protection finalizer), then the nodes, volumes and storage classes in objs, then the namespaces, finalized here as the namespace controller would. Objects
// already gone are not an error.
func Unload(ctx context.Context, c *Clients, objs []runtime.Object) error {
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	zero := int64(0)
	all := metav1.ListOptions{}
	k := c.kube
	var errs []error
	check := func(what string, err error) {
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", what, err))
		}
	}
	var namespaces []string
	for _, o := range objs {
		if ns, ok := o.(*corev1.Namespace); ok {
			namespaces = append(namespaces, ns.Name)
		}
	}
	for _, ns := range namespaces {
		check(ns+" pods", k.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, all))
		check(ns+" replicasets", k.AppsV1().ReplicaSets(ns).DeleteCollection(ctx, del, all))
		check(ns+" deployments", k.AppsV1().Deployments(ns).DeleteCollection(ctx, del, all))
		check(ns+" statefulsets", k.AppsV1().StatefulSets(ns).DeleteCollection(ctx, del, all))
		check(ns+" daemonsets", k.AppsV1().DaemonSets(ns).DeleteCollection(ctx, del, all))
		check(ns+" jobs", k.BatchV1().Jobs(ns).DeleteCollection(ctx, del, all))
		check(ns+" cronjobs", k.BatchV1().CronJobs(ns).DeleteCollection(ctx, del, all))
		check(ns+" hpas", k.AutoscalingV2().HorizontalPodAutoscalers(ns).DeleteCollection(ctx, del, all))
		check(ns+" events", k.CoreV1().Events(ns).DeleteCollection(ctx, del, all))
		// Claims carry the protection finalizer the API server adds; nothing here removes it.
		claims, err := k.CoreV1().PersistentVolumeClaims(ns).List(ctx, all)
		check(ns+" claims", err)
		if err == nil {
			for i := range claims.Items {
				pvc := &claims.Items[i]
				if len(pvc.Finalizers) > 0 {
					pvc.Finalizers = nil
					_, err := k.CoreV1().PersistentVolumeClaims(ns).Update(ctx, pvc, metav1.UpdateOptions{})
					check("claim "+ns+"/"+pvc.Name+" finalizers", err)
				}
				check("claim "+ns+"/"+pvc.Name, k.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, pvc.Name, del))
			}
		}
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Node:
			check("node "+o.Name, k.CoreV1().Nodes().Delete(ctx, o.Name, del))
		case *corev1.PersistentVolume:
			if cur, err := k.CoreV1().PersistentVolumes().Get(ctx, o.Name, metav1.GetOptions{}); err == nil && len(cur.Finalizers) > 0 {
				cur.Finalizers = nil
				_, err := k.CoreV1().PersistentVolumes().Update(ctx, cur, metav1.UpdateOptions{})
				check("volume "+o.Name+" finalizers", err)
			}
			check("volume "+o.Name, k.CoreV1().PersistentVolumes().Delete(ctx, o.Name, del))
		case *storagev1.StorageClass:
			check("storage class "+o.Name, k.StorageV1().StorageClasses().Delete(ctx, o.Name, del))
		}
	}
	for _, ns := range namespaces {
		check("namespace "+ns, k.CoreV1().Namespaces().Delete(ctx, ns, del))
		obj, err := k.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			check("namespace "+ns, err)
			continue
		}
		obj.Spec.Finalizers = nil
		_, err = k.CoreV1().Namespaces().Finalize(ctx, obj, metav1.UpdateOptions{})
		check("namespace "+ns+" finalizers", err)
		check("namespace "+ns, k.CoreV1().Namespaces().Delete(ctx, ns, del))
	}
	return errors.Join(errs...)
}
