package kube

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appslisters "k8s.io/client-go/listers/apps/v1"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/metadata"

	"github.com/tally-finops/tally/internal/model"
)

// Owner-walk limits.
const (
	// maxOwnerDepth stops a walk through a cycle of ownerReferences.
	maxOwnerDepth = 10
	// lookupTimeout bounds one metadata read of an owner.
	lookupTimeout = 10 * time.Second
	// failureRetry is how long a failed owner read or an unknown kind is remembered before
	// it is tried again (with a fresh discovery for kinds).
	failureRetry = 10 * time.Minute
	// maxOwnerCache bounds the cache of owners read with the metadata client; when it is
	// full it starts over.
	maxOwnerCache = 50_000
)

// Kind names of the objects the walk knows.
const (
	kindPod         = "Pod"
	kindReplicaSet  = "ReplicaSet"
	kindJob         = "Job"
	kindDeployment  = "Deployment"
	kindStatefulSet = "StatefulSet"
	kindDaemonSet   = "DaemonSet"
	kindCronJob     = "CronJob"
	kindNode        = "Node"
)

// ownerLister reads the ownerReferences of an owner that an informer holds. It reports false
// when it does not hold the kind, and a nil slice with true when the object is not there.
type ownerLister func(ns string, ref metav1.OwnerReference) (owners []metav1.OwnerReference, found, handled bool)

// resolver walks ownerReferences from a pod up to its top-level workload.
//
// ReplicaSets and Jobs come from the informers (listers); Deployments, StatefulSets,
// DaemonSets and CronJobs of the built-in groups and Nodes (the owners of mirror pods) end
// the walk without a read. Any other kind — OpenKruise CloneSets, Argo Rollouts, an
// in-house operator's resource — is read with the metadata client, its resource found with
// the RESTMapper. Those reads are cached by owner UID, so a snapshot reads each custom owner
// once, not once per pod. A kind that cannot be mapped or an owner that cannot be read ends
// the walk: that owner becomes the workload. The walk never fails.
type resolver struct {
	logger   *slog.Logger
	listers  []ownerLister
	metadata metadata.Interface
	mapper   resettableMapper
	now      func() time.Time

	mu        sync.Mutex
	ctx       context.Context
	owners    map[string]ownerEntry // by owner UID (or kind/namespace/name without one)
	mappings  map[schema.GroupKind]mappingEntry
	lastReset time.Time
	reads     int // metadata reads issued, for tests
}

// resettableMapper is the part of restmapper.DeferredDiscoveryRESTMapper the walk uses.
type resettableMapper interface {
	RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error)
	Reset()
}

type ownerEntry struct {
	owners []metav1.OwnerReference
	ok     bool
	at     time.Time
}

type mappingEntry struct {
	mapping *meta.RESTMapping
	at      time.Time
}

func newResolver(logger *slog.Logger, m metadata.Interface, mapper resettableMapper, now func() time.Time, listers ...ownerLister) *resolver {
	return &resolver{
		logger:   logger,
		listers:  listers,
		metadata: m,
		mapper:   mapper,
		now:      now,
		ctx:      context.Background(),
		owners:   map[string]ownerEntry{},
		mappings: map[schema.GroupKind]mappingEntry{},
	}
}

// setContext sets the context metadata reads run under (the inventory's lifetime).
func (r *resolver) setContext(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ctx = ctx
}

// replicaSetLister and jobLister read owners from informer caches.
func replicaSetLister(l appslisters.ReplicaSetLister) ownerLister {
	return func(ns string, ref metav1.OwnerReference) ([]metav1.OwnerReference, bool, bool) {
		if ref.Kind != kindReplicaSet || apiGroup(ref.APIVersion) != "apps" {
			return nil, false, false
		}
		rs, err := l.ReplicaSets(ns).Get(ref.Name)
		if err != nil || (ref.UID != "" && rs.UID != ref.UID) {
			return nil, false, true
		}
		return rs.OwnerReferences, true, true
	}
}

func jobLister(l batchlisters.JobLister) ownerLister {
	return func(ns string, ref metav1.OwnerReference) ([]metav1.OwnerReference, bool, bool) {
		if ref.Kind != kindJob || apiGroup(ref.APIVersion) != "batch" {
			return nil, false, false
		}
		j, err := l.Jobs(ns).Get(ref.Name)
		if err != nil || (ref.UID != "" && j.UID != ref.UID) {
			return nil, false, true
		}
		return j.OwnerReferences, true, true
	}
}

func apiGroup(apiVersion string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return ""
	}
	return gv.Group
}

// topLevel reports whether a kind ends the walk without being read.
func topLevel(ref metav1.OwnerReference) bool {
	switch g := apiGroup(ref.APIVersion); ref.Kind {
	case kindDeployment, kindStatefulSet, kindDaemonSet:
		return g == "apps"
	case kindCronJob:
		return g == "batch"
	case kindNode:
		return g == ""
	}
	return false
}

// controllerOf returns the controlling owner reference, or nil.
func controllerOf(refs []metav1.OwnerReference) *metav1.OwnerReference {
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
	}
	return nil
}

// workloadOf returns the top-level workload of a pod (or any object) in namespace ns with
// the given name and ownerReferences. memo, when not nil, caches results by the UID of the
// object's controller for the duration of one snapshot.
func (r *resolver) workloadOf(ns, name string, refs []metav1.OwnerReference, memo map[string]model.WorkloadRef) model.WorkloadRef {
	ref := controllerOf(refs)
	if ref == nil {
		return model.WorkloadRef{Kind: kindPod, Name: name}
	}
	return r.resolve(ns, *ref, memo)
}

// resolve walks up from an owner reference to the top-level workload.
func (r *resolver) resolve(ns string, ref metav1.OwnerReference, memo map[string]model.WorkloadRef) model.WorkloadRef {
	key := string(ref.UID)
	if memo != nil && key != "" {
		if wl, ok := memo[key]; ok {
			return wl
		}
	}
	cur := ref
	for range maxOwnerDepth {
		if topLevel(cur) {
			break
		}
		owners, ok := r.ownersOf(ns, cur)
		if !ok {
			break
		}
		next := controllerOf(owners)
		if next == nil {
			break
		}
		cur = *next
	}
	wl := model.WorkloadRef{Kind: cur.Kind, Name: cur.Name}
	if memo != nil && key != "" {
		memo[key] = wl
	}
	return wl
}

// ownersOf returns the ownerReferences of the object ref points to, from an informer when
// one holds the kind, else from the metadata client.
func (r *resolver) ownersOf(ns string, ref metav1.OwnerReference) ([]metav1.OwnerReference, bool) {
	for _, l := range r.listers {
		if owners, found, handled := l(ns, ref); handled {
			return owners, found
		}
	}
	return r.readOwners(ns, ref)
}

// readOwners reads an owner with the metadata client, through the cache.
func (r *resolver) readOwners(ns string, ref metav1.OwnerReference) ([]metav1.OwnerReference, bool) {
	if r.metadata == nil || r.mapper == nil {
		return nil, false
	}
	key := string(ref.UID)
	if key == "" {
		key = ref.APIVersion + "/" + ref.Kind + "/" + ns + "/" + ref.Name
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if e, ok := r.owners[key]; ok && (e.ok || now.Sub(e.at) < failureRetry) {
		return e.owners, e.ok
	}
	owners, err := r.read(ns, ref)
	if err != nil {
		r.logger.Warn("cannot read owner: it is taken as the workload",
			"kind", ref.Kind, "apiVersion", ref.APIVersion, "namespace", ns, "name", ref.Name, "err", err)
	}
	if len(r.owners) >= maxOwnerCache {
		clear(r.owners)
	}
	r.owners[key] = ownerEntry{owners: owners, ok: err == nil, at: now}
	return owners, err == nil
}

// read issues one metadata GET; r.mu is held.
func (r *resolver) read(ns string, ref metav1.OwnerReference) ([]metav1.OwnerReference, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("parse apiVersion %q: %w", ref.APIVersion, err)
	}
	m, err := r.mapping(gv.WithKind(ref.Kind))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.ctx, lookupTimeout)
	defer cancel()
	var res metadata.ResourceInterface = r.metadata.Resource(m.Resource)
	if m.Scope != nil && m.Scope.Name() == meta.RESTScopeNameNamespace {
		res = r.metadata.Resource(m.Resource).Namespace(ns)
	}
	r.reads++
	obj, err := res.Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get %s %s/%s metadata: %w", m.Resource.String(), ns, ref.Name, err)
	}
	if ref.UID != "" && obj.UID != ref.UID {
		return nil, fmt.Errorf("get %s %s/%s metadata: uid %s, the reference names %s", m.Resource.String(), ns, ref.Name, obj.UID, ref.UID)
	}
	return obj.OwnerReferences, nil
}

// mapping resolves a kind to its resource, caching answers; r.mu is held. A kind the
// mapper does not know is looked for again after a fresh discovery, at most once per
// failureRetry, so a CRD installed after start is found without discovering on every pod.
func (r *resolver) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	gk := gvk.GroupKind()
	now := r.now()
	if e, ok := r.mappings[gk]; ok {
		if e.mapping != nil {
			return e.mapping, nil
		}
		if now.Sub(e.at) < failureRetry {
			return nil, fmt.Errorf("map kind %s: not served by the cluster", gk)
		}
	}
	m, err := r.mapper.RESTMapping(gk, gvk.Version)
	if err != nil && meta.IsNoMatchError(err) && (r.lastReset.IsZero() || now.Sub(r.lastReset) >= failureRetry) {
		r.lastReset = now
		r.mapper.Reset()
		m, err = r.mapper.RESTMapping(gk, gvk.Version)
	}
	if err != nil {
		r.mappings[gk] = mappingEntry{at: now}
		return nil, fmt.Errorf("map kind %s: %w", gk, err)
	}
	r.mappings[gk] = mappingEntry{mapping: m, at: now}
	return m, nil
}

// metadataReads is the number of metadata GETs issued so far.
func (r *resolver) metadataReads() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads
}
