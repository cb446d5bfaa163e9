package kube

import (
	"log/slog"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	appslisters "k8s.io/client-go/listers/apps/v1"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/tally-finops/tally/internal/model"
)

func ownerRef(apiVersion, kind, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: ptr(true)}
}

func partial(apiVersion, kind, ns, name string, uid types.UID, owners ...metav1.OwnerReference) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid, OwnerReferences: owners},
	}
}

// customResources is the discovery of a cluster with Argo Rollouts, OpenKruise and an
// in-house operator installed.
func customResources() []*metav1.APIResourceList {
	return []*metav1.APIResourceList{
		{GroupVersion: "argoproj.io/v1alpha1", APIResources: []metav1.APIResource{{Name: "rollouts", Kind: "Rollout", Namespaced: true, Verbs: []string{"get"}}}},
		{GroupVersion: "apps.kruise.io/v1alpha1", APIResources: []metav1.APIResource{{Name: "clonesets", Kind: "CloneSet", Namespaced: true, Verbs: []string{"get"}}}},
		{GroupVersion: "apps.kruise.io/v1beta1", APIResources: []metav1.APIResource{{Name: "statefulsets", Kind: "StatefulSet", Namespaced: true, Verbs: []string{"get"}}}},
		{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
			{Name: "apps", Kind: "App", Namespaced: true, Verbs: []string{"get"}},
			{Name: "platforms", Kind: "Platform", Namespaced: false, Verbs: []string{"get"}},
		}},
	}
}

type ownerFixture struct {
	resolver  *resolver
	discovery *fake.Clientset
	metadata  *metadatafake.FakeMetadataClient
	clock     *time.Time
}

func newOwnerFixture(t *testing.T) *ownerFixture {
	t.Helper()
	rsIndex := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	jobIndex := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, rs := range []*appsv1.ReplicaSet{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-5d9f", UID: "rs-web", OwnerReferences: []metav1.OwnerReference{ownerRef("apps/v1", "Deployment", "web", "dep-web")}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "orphan-77", UID: "rs-orphan"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "canary-6c8", UID: "rs-canary", OwnerReferences: []metav1.OwnerReference{ownerRef("argoproj.io/v1alpha1", "Rollout", "canary", "ro-canary")}}},
	} {
		if err := rsIndex.Add(rs); err != nil {
			t.Fatal(err)
		}
	}
	if err := jobIndex.Add(&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "report-2901", UID: "job-report",
		OwnerReferences: []metav1.OwnerReference{ownerRef("batch/v1", "CronJob", "report", "cj-report")}}}); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	meta := metadatafake.NewSimpleMetadataClient(scheme,
		partial("argoproj.io/v1alpha1", "Rollout", "shop", "canary", "ro-canary"),
		partial("apps.kruise.io/v1alpha1", "CloneSet", "shop", "api", "cs-api", ownerRef("example.com/v1", "App", "shop-api", "app-api")),
		partial("example.com/v1", "App", "shop", "shop-api", "app-api", ownerRef("example.com/v1", "Platform", "main", "plat-main")),
		partial("example.com/v1", "Platform", "", "main", "plat-main"),
		partial("apps.kruise.io/v1beta1", "StatefulSet", "shop", "db", "asts-db"),
	)
	disc := fake.NewClientset()
	disc.Resources = customResources()
	clock := t0
	f := &ownerFixture{discovery: disc, metadata: meta, clock: &clock}
	f.resolver = newResolver(slog.New(slog.DiscardHandler), meta, newMapper(disc.Discovery()), func() time.Time { return *f.clock },
		replicaSetLister(appslisters.NewReplicaSetLister(rsIndex)), jobLister(batchlisters.NewJobLister(jobIndex)))
	return f
}

func TestWorkloadOf(t *testing.T) {
	cases := []struct {
		name string
		refs []metav1.OwnerReference
		want model.WorkloadRef
	}{
		{"bare pod", nil, model.WorkloadRef{Kind: "Pod", Name: "p"}},
		{"owner that is not a controller", []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "cm", UID: "cm"}}, model.WorkloadRef{Kind: "Pod", Name: "p"}},
		{"deployment through its replicaset", []metav1.OwnerReference{ownerRef("apps/v1", "ReplicaSet", "web-5d9f", "rs-web")}, model.WorkloadRef{Kind: "Deployment", Name: "web"}},
		{"replicaset without owner", []metav1.OwnerReference{ownerRef("apps/v1", "ReplicaSet", "orphan-77", "rs-orphan")}, model.WorkloadRef{Kind: "ReplicaSet", Name: "orphan-77"}},
		{"replicaset not in the cache", []metav1.OwnerReference{ownerRef("apps/v1", "ReplicaSet", "gone-1", "rs-gone")}, model.WorkloadRef{Kind: "ReplicaSet", Name: "gone-1"}},
		{"replicaset recreated with another uid", []metav1.OwnerReference{ownerRef("apps/v1", "ReplicaSet", "web-5d9f", "rs-old")}, model.WorkloadRef{Kind: "ReplicaSet", Name: "web-5d9f"}},
		{"cronjob through its job", []metav1.OwnerReference{ownerRef("batch/v1", "Job", "report-2901", "job-report")}, model.WorkloadRef{Kind: "CronJob", Name: "report"}},
		{"statefulset", []metav1.OwnerReference{ownerRef("apps/v1", "StatefulSet", "pg", "sts-pg")}, model.WorkloadRef{Kind: "StatefulSet", Name: "pg"}},
		{"daemonset", []metav1.OwnerReference{ownerRef("apps/v1", "DaemonSet", "agent", "ds-agent")}, model.WorkloadRef{Kind: "DaemonSet", Name: "agent"}},
		{"mirror pod owned by its node", []metav1.OwnerReference{ownerRef("v1", "Node", "node-a", "node-a")}, model.WorkloadRef{Kind: "Node", Name: "node-a"}},
		{"argo rollout through its replicaset", []metav1.OwnerReference{ownerRef("apps/v1", "ReplicaSet", "canary-6c8", "rs-canary")}, model.WorkloadRef{Kind: "Rollout", Name: "canary"}},
		{"cloneset owned by an app owned by a cluster-scoped platform", []metav1.OwnerReference{ownerRef("apps.kruise.io/v1alpha1", "CloneSet", "api", "cs-api")}, model.WorkloadRef{Kind: "Platform", Name: "main"}},
		{"kruise advanced statefulset is read, not taken for apps/v1", []metav1.OwnerReference{ownerRef("apps.kruise.io/v1beta1", "StatefulSet", "db", "asts-db")}, model.WorkloadRef{Kind: "StatefulSet", Name: "db"}},
		{"unknown kind stops the walk", []metav1.OwnerReference{ownerRef("widgets.example.org/v1", "Widget", "w", "w-1")}, model.WorkloadRef{Kind: "Widget", Name: "w"}},
		{"served kind whose object cannot be read", []metav1.OwnerReference{ownerRef("apps.kruise.io/v1alpha1", "CloneSet", "missing", "cs-missing")}, model.WorkloadRef{Kind: "CloneSet", Name: "missing"}},
		{"uid of the read object differs", []metav1.OwnerReference{ownerRef("argoproj.io/v1alpha1", "Rollout", "canary", "ro-other")}, model.WorkloadRef{Kind: "Rollout", Name: "canary"}},
		{"bad apiVersion", []metav1.OwnerReference{ownerRef("a/b/c", "Thing", "t", "t-1")}, model.WorkloadRef{Kind: "Thing", Name: "t"}},
	}
	f := newOwnerFixture(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.resolver.workloadOf("shop", "p", tc.refs, nil); got != tc.want {
				t.Fatalf("workload = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOwnerReadsAreCached(t *testing.T) {
	f := newOwnerFixture(t)
	viaRollout := []metav1.OwnerReference{ownerRef("apps/v1", "ReplicaSet", "canary-6c8", "rs-canary")}
	unknown := []metav1.OwnerReference{ownerRef("widgets.example.org/v1", "Widget", "w", "w-1")}
	missing := []metav1.OwnerReference{ownerRef("apps.kruise.io/v1alpha1", "CloneSet", "missing", "cs-missing")}
	discoveries := func() int {
		n := 0
		for _, a := range f.discovery.Actions() {
			if a.GetVerb() == "get" && (a.GetResource().Resource == "group" || a.GetResource().Resource == "resource") {
				n++
			}
		}
		return n
	}

	for range 1000 {
		f.resolver.workloadOf("shop", "p", viaRollout, nil)
		f.resolver.workloadOf("shop", "p", unknown, nil)
		f.resolver.workloadOf("shop", "p", missing, nil)
	}
	// One read for the rollout, one failed read for the missing CloneSet; none for the kind
	// the cluster does not serve.
	if got := f.resolver.metadataReads(); got != 2 {
		t.Fatalf("metadata reads after 1000 snapshots = %d, want 2", got)
	}
	if got := len(f.metadata.Actions()); got != 2 {
		t.Fatalf("metadata client actions = %d, want 2", got)
	}
	// Discovery ran for the first mapping and once more, fresh, for the unknown kind.
	first := discoveries()
	if first == 0 {
		t.Fatal("no discovery request seen")
	}

	// After failureRetry the failed read and the unknown kind are tried again, once.
	*f.clock = f.clock.Add(failureRetry + time.Second)
	for range 10 {
		f.resolver.workloadOf("shop", "p", unknown, nil)
		f.resolver.workloadOf("shop", "p", missing, nil)
		f.resolver.workloadOf("shop", "p", viaRollout, nil)
	}
	if got := f.resolver.metadataReads(); got != 3 {
		t.Fatalf("metadata reads after the retry period = %d, want 3", got)
	}
	if got := discoveries(); got <= first {
		t.Fatalf("discovery requests = %d, want a fresh discovery after the retry period (had %d)", got, first)
	}
	again := discoveries()
	for range 10 {
		f.resolver.workloadOf("shop", "p", unknown, nil)
	}
	if got := discoveries(); got != again {
		t.Fatalf("discovery requests grew from %d to %d within the retry period", again, got)
	}
}

func TestWorkloadMemo(t *testing.T) {
	f := newOwnerFixture(t)
	memo := map[string]model.WorkloadRef{}
	refs := []metav1.OwnerReference{ownerRef("apps/v1", "ReplicaSet", "web-5d9f", "rs-web")}
	if got := f.resolver.workloadOf("shop", "p", refs, memo); got.Name != "web" {
		t.Fatalf("workload = %+v", got)
	}
	if memo["rs-web"] != (model.WorkloadRef{Kind: "Deployment", Name: "web"}) {
		t.Fatalf("memo = %v, want the replicaset's result under its uid", memo)
	}
	// The memo answers without a lookup: a planted answer is returned as is.
	memo["rs-web"] = model.WorkloadRef{Kind: "Planted", Name: "x"}
	if got := f.resolver.workloadOf("shop", "p", refs, memo); got.Kind != "Planted" {
		t.Fatalf("memo not used: %+v", got)
	}
}
