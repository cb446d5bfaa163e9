package kube

import "k8s.io/apimachinery/pkg/runtime/schema"

// What the collector reads from the Kubernetes API, and how. Its ClusterRole
// (deploy/kustomize/base/clusterrole.yaml) grants exactly this, read-only; the tests of
// package deploy hold the manifest to these lists and try them against a real API server
// with RBAC, and resources_test.go holds the lists to what the informers and the owner walk
// really do.

// WatchedResources returns the resources whose informers NewInventory creates, each listed
// and watched in all namespaces with the verbs of WatchVerbs.
func WatchedResources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{
		{Group: "", Version: "v1", Resource: "pods"},
		{Group: "", Version: "v1", Resource: "nodes"},
		{Group: "", Version: "v1", Resource: "namespaces"},
		{Group: "", Version: "v1", Resource: "events"},
		{Group: "apps", Version: "v1", Resource: "replicasets"},
		{Group: "batch", Version: "v1", Resource: "jobs"},
		{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
		{Group: "", Version: "v1", Resource: "persistentvolumes"},
		{Group: "", Version: "v1", Resource: "persistentvolumeclaims"},
		{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"},
	}
}

// WatchVerbs returns the verbs an informer uses on its resource: list fills the cache,
// watch keeps it current.
func WatchVerbs() []string { return []string{"list", "watch"} }

// OwnerResources returns the built-in resources whose objects the owner walk reads one by
// one, by name, with the metadata client (verbs of OwnerVerbs) to find their owners.
// Every other built-in owner of a pod is either held by an informer (ReplicaSets, Jobs) or
// ends the walk unread (Deployments, StatefulSets, DaemonSets, CronJobs, Nodes).
//
// Owners of custom kinds (Argo Rollouts, OpenKruise CloneSets, an operator's resources) are
// read the same way; which ones a cluster has cannot be known here. Without the right to
// read one, the walk stops at it and it becomes the workload (docs/deploy.md).
func OwnerResources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{
		{Group: "", Version: "v1", Resource: "replicationcontrollers"},
	}
}

// OwnerVerbs returns the verbs the owner walk uses on the resources of OwnerResources.
func OwnerVerbs() []string { return []string{"get"} }
