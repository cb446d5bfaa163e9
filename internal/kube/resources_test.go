package kube

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	appslisters "k8s.io/client-go/listers/apps/v1"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	metadatafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

// access is one (resource, verb) pair, as an API request uses it and an RBAC rule grants it.
type access struct {
	resource schema.GroupVersionResource
	verb     string
}

func accessOf(resources []schema.GroupVersionResource, verbs []string) []access {
	var out []access
	for _, r := range resources {
		for _, v := range verbs {
			out = append(out, access{r, v})
		}
	}
	return out
}

func sortedAccess(actions []k8stesting.Action) []access {
	var out []access
	for _, a := range actions {
		acc := access{a.GetResource(), a.GetVerb()}
		if !slices.Contains(out, acc) {
			out = append(out, acc)
		}
	}
	sortAccess(out)
	return out
}

func sortAccess(a []access) {
	slices.SortFunc(a, func(x, y access) int {
		return cmp.Or(cmp.Compare(x.resource.String(), y.resource.String()), cmp.Compare(x.verb, y.verb))
	})
}

// TestWatchedResourcesAreWhatTheInformersUse starts an Inventory on a fake clientset and
// compares every request its informers made with WatchedResources × WatchVerbs.
func TestWatchedResourcesAreWhatTheInformersUse(t *testing.T) {
	cs := fake.NewClientset()
	inv := NewInventory(NewClientsFrom(cs, nil), "c1", slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := inv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	got := sortedAccess(cs.Actions())
	want := accessOf(WatchedResources(), WatchVerbs())
	sortAccess(want)
	if d := gocmp.Diff(want, got, gocmp.AllowUnexported(access{})); d != "" {
		t.Fatalf("requests of the informers (-WatchedResources × WatchVerbs +made):\n%s", d)
	}
}

// builtInResources is the discovery of the built-in kinds that own pods, or own their owners.
func builtInResources() []*metav1.APIResourceList {
	get := []string{"get", "list", "watch"}
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Kind: "Pod", Namespaced: true, Verbs: get},
			{Name: "replicationcontrollers", Kind: "ReplicationController", Namespaced: true, Verbs: get},
			{Name: "nodes", Kind: "Node", Namespaced: false, Verbs: get},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "deployments", Kind: "Deployment", Namespaced: true, Verbs: get},
			{Name: "replicasets", Kind: "ReplicaSet", Namespaced: true, Verbs: get},
			{Name: "statefulsets", Kind: "StatefulSet", Namespaced: true, Verbs: get},
			{Name: "daemonsets", Kind: "DaemonSet", Namespaced: true, Verbs: get},
		}},
		{GroupVersion: "batch/v1", APIResources: []metav1.APIResource{
			{Name: "jobs", Kind: "Job", Namespaced: true, Verbs: get},
			{Name: "cronjobs", Kind: "CronJob", Namespaced: true, Verbs: get},
		}},
	}
}

// TestOwnerResourcesAreTheBuiltInOwnersRead walks from every built-in kind that can own a
// pod (or its owner) and compares the metadata reads the walk made with OwnerResources ×
// OwnerVerbs.
func TestOwnerResourcesAreTheBuiltInOwnersRead(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	meta := metadatafake.NewSimpleMetadataClient(scheme, partial("v1", "ReplicationController", "shop", "legacy", "rc-legacy"))
	disc := fake.NewClientset()
	disc.Resources = builtInResources()
	index := func() cache.Indexer {
		return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	r := newResolver(slog.New(slog.DiscardHandler), meta, newMapper(disc.Discovery()), func() time.Time { return t0 },
		replicaSetLister(appslisters.NewReplicaSetLister(index())), jobLister(batchlisters.NewJobLister(index())))
	for _, ref := range []metav1.OwnerReference{
		ownerRef("v1", "ReplicationController", "legacy", "rc-legacy"),
		ownerRef("apps/v1", "ReplicaSet", "web-5d9f", "rs-web"),
		ownerRef("apps/v1", "Deployment", "web", "dep-web"),
		ownerRef("apps/v1", "StatefulSet", "db", "sts-db"),
		ownerRef("apps/v1", "DaemonSet", "agent", "ds-agent"),
		ownerRef("batch/v1", "Job", "report-1", "job-report"),
		ownerRef("batch/v1", "CronJob", "report", "cj-report"),
		ownerRef("v1", "Node", "node-a", "node-a"),
	} {
		r.resolve("shop", ref, nil)
	}
	got := sortedAccess(meta.Actions())
	want := accessOf(OwnerResources(), OwnerVerbs())
	sortAccess(want)
	if d := gocmp.Diff(want, got, gocmp.AllowUnexported(access{})); d != "" {
		t.Fatalf("metadata reads of the owner walk (-OwnerResources × OwnerVerbs +made):\n%s", d)
	}
}
