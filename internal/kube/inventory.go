package kube

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/tally-finops/tally/internal/model"
)

// Inventory watches a cluster with shared informers and answers snapshots of it as model
// structs. Create it with NewInventory, then call Start once; its methods are safe for
// concurrent use.
type Inventory struct {
	cluster string
	logger  *slog.Logger
	now     func() time.Time

	factory    informers.SharedInformerFactory
	pods       cache.SharedIndexInformer
	nodes      cache.SharedIndexInformer
	namespaces cache.SharedIndexInformer
	hpas       cache.SharedIndexInformer
	volumes    cache.SharedIndexInformer
	claims     cache.SharedIndexInformer
	podLister  corelisters.PodLister

	storageClasses cache.SharedIndexInformer
	handlers       []cache.ResourceEventHandlerRegistration

	owners *resolver
	events *eventStore
}

// NewInventory prepares the informers of a cluster (pods, nodes, namespaces, ReplicaSets,
// Jobs, HorizontalPodAutoscalers, PersistentVolumes, PersistentVolumeClaims, StorageClasses
// and Warning events) in one shared factory. cluster names
// the cluster in every model struct. Nothing is read until Start.
func NewInventory(c *Clients, cluster string, logger *slog.Logger) *Inventory {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "kube")
	factory := informers.NewSharedInformerFactoryWithOptions(c.kube, 0, informers.WithTransform(slim))
	i := &Inventory{
		cluster:    cluster,
		logger:     logger,
		now:        time.Now,
		factory:    factory,
		pods:       factory.Core().V1().Pods().Informer(),
		nodes:      factory.Core().V1().Nodes().Informer(),
		namespaces: factory.Core().V1().Namespaces().Informer(),
		hpas:       factory.Autoscaling().V2().HorizontalPodAutoscalers().Informer(),
		volumes:    factory.Core().V1().PersistentVolumes().Informer(),
		claims:     factory.Core().V1().PersistentVolumeClaims().Informer(),
		podLister:  factory.Core().V1().Pods().Lister(),

		storageClasses: factory.Storage().V1().StorageClasses().Informer(),
		events:         newEventStore(),
	}
	rs := factory.Apps().V1().ReplicaSets()
	jobs := factory.Batch().V1().Jobs()
	rs.Informer()
	jobs.Informer()
	// Only Warning events are listed and watched; the API server filters them.
	events := factory.InformerFor(&corev1.Event{}, func(client kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return coreinformers.NewFilteredEventInformer(client, metav1.NamespaceAll, resync, cache.Indexers{},
			func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("type", corev1.EventTypeWarning).String()
			})
	})
	i.owners = newResolver(logger, c.metadata, c.mapper, i.now, replicaSetLister(rs.Lister()), jobLister(jobs.Lister()))

	podHandler, err := i.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { i.recordPod(obj) },
		UpdateFunc: func(_, obj any) { i.recordPod(obj) },
	})
	if err != nil {
		logger.Error("cannot watch pods for OOM kills", "err", err)
	} else {
		i.handlers = append(i.handlers, podHandler)
	}
	eventHandler, err := events.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { i.recordEvent(obj) },
		UpdateFunc: func(_, obj any) { i.recordEvent(obj) },
	})
	if err != nil {
		logger.Error("cannot watch events", "err", err)
	} else {
		i.handlers = append(i.handlers, eventHandler)
	}
	return i
}

// Start starts the informers and waits until their caches hold the cluster's objects and
// the event handlers have seen them. The informers run until ctx is cancelled; Start
// returns an error when ctx ends before they are in sync. Owner reads of later snapshots
// run under ctx too.
func (i *Inventory) Start(ctx context.Context) error {
	i.owners.setContext(ctx)
	i.factory.Start(ctx.Done())
	go func() {
		<-ctx.Done()
		i.factory.Shutdown()
	}()
	began := i.now()
	var notSynced []string
	for typ, ok := range i.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			notSynced = append(notSynced, typ.String())
		}
	}
	if len(notSynced) > 0 {
		slices.Sort(notSynced)
		return fmt.Errorf("sync kubernetes informers (%s): %w", strings.Join(notSynced, ", "), context.Cause(ctx))
	}
	synced := make([]cache.InformerSynced, 0, len(i.handlers))
	for _, h := range i.handlers {
		synced = append(synced, h.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("sync kubernetes event handlers: %w", context.Cause(ctx))
	}
	i.logger.Info("kubernetes inventory in sync", "cluster", i.cluster,
		"pods", len(i.pods.GetStore().ListKeys()), "nodes", len(i.nodes.GetStore().ListKeys()),
		"namespaces", len(i.namespaces.GetStore().ListKeys()),
		"took", i.now().Sub(began).Round(time.Millisecond))
	return nil
}

func (i *Inventory) recordPod(obj any) {
	if pod, ok := obj.(*corev1.Pod); ok {
		i.events.add(podEventRecords(pod, i.cluster, i.now())...)
	}
}

func (i *Inventory) recordEvent(obj any) {
	e, ok := obj.(*corev1.Event)
	if !ok {
		return
	}
	rec, ok := eventObjectRecord(e, i.cluster)
	if !ok {
		return
	}
	if rec.ev.Pod != "" {
		if pod := i.podOf(rec.ev.Namespace, rec.ev.Pod, rec.podUID); pod != nil {
			fillFromPod(&rec, pod)
		}
	}
	i.events.add(rec)
}

// podOf returns the pod of that namespace and name from the cache, or nil when it is not
// there or has another UID.
func (i *Inventory) podOf(ns, name, uid string) *corev1.Pod {
	pod, err := i.podLister.Pods(ns).Get(name)
	if err != nil || (uid != "" && string(pod.UID) != uid) {
		return nil
	}
	return pod
}

// Nodes returns every node, sorted by name, observed at at.
func (i *Inventory) Nodes(at time.Time) []model.Node {
	objs := i.nodes.GetStore().List()
	out := make([]model.Node, 0, len(objs))
	for _, o := range objs {
		if n, ok := o.(*corev1.Node); ok {
			out = append(out, nodeFromObject(n, i.cluster, at))
		}
	}
	slices.SortFunc(out, func(a, b model.Node) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Containers returns one model.Container per container and init container of every pod,
// observed at at, sorted by namespace and pod (init containers first, then spec order),
// each with its pod's top-level workload. The containers of one pod share one copy of the
// pod's labels: treat Labels as read-only.
func (i *Inventory) Containers(at time.Time) []model.Container {
	objs := i.pods.GetStore().List()
	pods := make([]*corev1.Pod, 0, len(objs))
	n := 0
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			pods = append(pods, p)
			n += len(p.Spec.Containers) + len(p.Spec.InitContainers)
		}
	}
	slices.SortFunc(pods, func(a, b *corev1.Pod) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	memo := map[string]model.WorkloadRef{}
	out := make([]model.Container, 0, n)
	for _, p := range pods {
		wl := i.owners.workloadOf(p.Namespace, p.Name, p.OwnerReferences, memo)
		out = appendContainers(out, p, i.cluster, at, wl)
	}
	return out
}

// Events returns the OOM kills and evictions seen since Start, once each, sorted by time.
// Events on nodes carry the node only; events whose pod was never seen have no workload.
func (i *Inventory) Events() []model.ContainerEvent {
	memo := map[string]model.WorkloadRef{}
	return i.events.snapshot(i.podOf, func(r eventRecord) model.WorkloadRef {
		switch {
		case !r.podKnown || r.ev.Pod == "":
			return model.WorkloadRef{}
		case r.owner == nil:
			return model.WorkloadRef{Kind: kindPod, Name: r.ev.Pod}
		}
		return i.owners.resolve(r.ev.Namespace, *r.owner, memo)
	})
}

// Autoscalers returns every HorizontalPodAutoscaler, sorted by namespace and name, its scale
// target resolved to the top-level workload.
func (i *Inventory) Autoscalers() []model.Autoscaler {
	objs := i.hpas.GetStore().List()
	out := make([]model.Autoscaler, 0, len(objs))
	memo := map[string]model.WorkloadRef{}
	for _, o := range objs {
		h, ok := o.(*autoscalingv2.HorizontalPodAutoscaler)
		if !ok {
			continue
		}
		t := h.Spec.ScaleTargetRef
		target := i.owners.resolve(h.Namespace, metav1.OwnerReference{APIVersion: t.APIVersion, Kind: t.Kind, Name: t.Name}, memo)
		out = append(out, autoscalerFromHPA(h, i.cluster, target))
	}
	slices.SortFunc(out, func(a, b model.Autoscaler) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Namespaces returns every namespace with its labels, sorted by name, observed at at. Each
// namespace has its own copy of its labels.
func (i *Inventory) Namespaces(at time.Time) []model.Namespace {
	objs := i.namespaces.GetStore().List()
	out := make([]model.Namespace, 0, len(objs))
	for _, o := range objs {
		if ns, ok := o.(*corev1.Namespace); ok {
			out = append(out, model.Namespace{Cluster: i.cluster, ObservedAt: at, Name: ns.Name, Labels: maps.Clone(ns.Labels)})
		}
	}
	slices.SortFunc(out, func(a, b model.Namespace) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// NamespaceLabels returns a copy of the labels of a namespace, or nil when it has none or
// does not exist.
func (i *Inventory) NamespaceLabels(namespace string) map[string]string {
	obj, ok, err := i.namespaces.GetStore().GetByKey(namespace)
	if err != nil || !ok {
		return nil
	}
	if ns, ok := obj.(*corev1.Namespace); ok {
		return maps.Clone(ns.Labels)
	}
	return nil
}
