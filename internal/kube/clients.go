// Package kube reads a Kubernetes cluster's inventory for tally: nodes, the containers of
// every pod with their requests and limits, the top-level workload that owns each pod, OOM
// kills and evictions, and HorizontalPodAutoscalers. It turns them into the plain structs of
// internal/model.
//
// It is the only package of tally that imports client-go. Objects are watched with shared
// informers whose transform functions drop everything tally does not read (managed fields,
// annotations, pod volumes and environment, node images, ...), so a cluster of 10,000 pods
// costs tens of megabytes, not gigabytes. The conversion from Kubernetes objects to model
// structs is done by pure functions (convert.go) that are tested without any client.
//
// Load creates objects in a cluster; it exists for tests and the demo, which run against an
// API server where nothing reconciles (no controllers, no scheduler, no kubelet).
package kube

import (
	"fmt"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// Client-side rate limits. Informers list and watch once per resource and metadata lookups
// are cached, so these bound bursts (start-up, the first snapshot after an operator with
// many custom owners appears), not steady traffic.
const (
	clientQPS   = 50
	clientBurst = 100
	userAgent   = "tally"
)

// Clients holds the Kubernetes clients tally uses: the typed clientset for informers and
// Load, the metadata client to walk ownerReferences through kinds tally does not know, and
// a discovery-backed RESTMapper that turns an owner's kind into the resource to read.
type Clients struct {
	kube     kubernetes.Interface
	metadata metadata.Interface
	mapper   *restmapper.DeferredDiscoveryRESTMapper
}

// NewClients connects to the cluster named by a kubeconfig file, or, when kubeconfig is
// empty, to the cluster the process runs in (service account token and CA).
func NewClients(kubeconfig string) (*Clients, error) {
	var (
		cfg *rest.Config
		err error
	)
	if kubeconfig == "" {
		cfg, err = rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("load in-cluster kubernetes config: %w", err)
		}
	} else {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
		}
	}
	cfg.QPS = clientQPS
	cfg.Burst = clientBurst
	cfg = rest.AddUserAgent(cfg, userAgent)

	metaClient, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create kubernetes metadata client: %w", err)
	}
	// Built-in types are read as protobuf: lists of thousands of pods decode several times
	// faster and with less garbage than JSON.
	typed := rest.CopyConfig(cfg)
	typed.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	typed.ContentType = "application/vnd.kubernetes.protobuf"
	kube, err := kubernetes.NewForConfig(typed)
	if err != nil {
		return nil, fmt.Errorf("create kubernetes client: %w", err)
	}
	return NewClientsFrom(kube, metaClient), nil
}

// NewClientsFrom wraps existing clients, such as the fakes of client-go's
// kubernetes/fake and metadata/fake packages. Kinds are resolved to resources with the
// discovery client of k (for the fake clientset: its Resources field).
func NewClientsFrom(k kubernetes.Interface, m metadata.Interface) *Clients {
	return &Clients{
		kube:     k,
		metadata: m,
		mapper:   newMapper(k.Discovery()),
	}
}

func newMapper(d discovery.DiscoveryInterface) *restmapper.DeferredDiscoveryRESTMapper {
	return restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(d))
}
