package prom

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// kube-state-metrics queries. Each keeps only the labels tally reads.
const (
	queryRequests = `max by (namespace, pod, container, resource) (kube_pod_container_resource_requests{resource=~"cpu|memory|nvidia_com_gpu"})`
	queryLimits   = `max by (namespace, pod, container, resource) (kube_pod_container_resource_limits{resource=~"cpu|memory|nvidia_com_gpu"})`
	queryPodInfo  = `max by (namespace, pod, uid, node) (kube_pod_info)`
	// queryPodPhase keeps the phase a pod is in: kube-state-metrics reports every phase, 1
	// for the current one and 0 for the others.
	queryPodPhase = `max by (namespace, pod, phase) (kube_pod_status_phase == 1)`
	// queryLastTerminated is the reason a container's previous run ended, when there was one.
	queryLastTerminated = `max by (namespace, pod, container, reason) (kube_pod_container_status_last_terminated_reason == 1)`
	queryRestarts       = `max by (namespace, pod, container) (kube_pod_container_status_restarts_total)`
	// queryOOMEvents is cAdvisor's count of OOM kills in each container's cgroup. A kill of
	// a process other than PID 1 leaves the container running: no restart, no termination
	// reason, only this counter. Kept per instance (id): a restart starts a new counter.
	queryOOMEvents = `max by (namespace, pod, container, id) (container_oom_events_total{container!="", container!="POD"})`
	// Owners never change, so they are read once per chunk, at its end, over the chunk's
	// time plus the lookback its first step sees (%s). owner_is_controller is "true" for a
	// controller and "<none>" for a pod without owner; "false" owners are not workloads.
	queryPodOwners        = `max by (namespace, pod, owner_kind, owner_name) (last_over_time(kube_pod_owner{owner_is_controller!="false"}[%s]))`
	queryReplicaSetOwners = `max by (namespace, replicaset, owner_kind, owner_name) (last_over_time(kube_replicaset_owner{owner_is_controller!="false"}[%s]))`
	queryJobOwners        = `max by (namespace, job_name, owner_kind, owner_name) (last_over_time(kube_job_owner{owner_is_controller!="false"}[%s]))`
	// queryKubeStateSeries is the largest number of series of the per-container metrics at
	// the instants %[2]s apart within the last %[1]s, to size the chunks.
	queryKubeStateSeries = `max_over_time(max(count by (__name__) ({__name__=~"kube_pod_container_resource_requests|kube_pod_container_resource_limits|kube_pod_container_status_restarts_total|kube_pod_info"}))[%s:%s])`
)

// kubeStateQueries is the number of queries per kube-state-metrics chunk: eight range queries
// (requests, limits, pod info, phase, last termination reason, restarts, cAdvisor's OOM
// events and its instances' start times) and three instant ones (owners of pods, ReplicaSets
// and Jobs).
const kubeStateQueries = 11

// Resources of kube_pod_container_resource_requests and _limits, and reasons.
const (
	resourceCPU    = "cpu"
	resourceMemory = "memory"
	resourceGPU    = "nvidia_com_gpu"
	reasonOOM      = "OOMKilled"
	// reasonProcessOOM marks an OOM kill that container_oom_events_total counted beyond the
	// restarts after an OOM kill: a process of the container died, the container did not.
	reasonProcessOOM = "ProcessOOMKilled"
)

// Label sets of the kube-state-metrics queries.
type (
	resourceLabels struct {
		Namespace string `json:"namespace"`
		Pod       string `json:"pod"`
		Container string `json:"container"`
		Resource  string `json:"resource"`
	}
	podInfoLabels struct {
		Namespace string `json:"namespace"`
		Pod       string `json:"pod"`
		UID       string `json:"uid"`
		Node      string `json:"node"`
	}
	phaseLabels struct {
		Namespace string `json:"namespace"`
		Pod       string `json:"pod"`
		Phase     string `json:"phase"`
	}
	reasonLabels struct {
		Namespace string `json:"namespace"`
		Pod       string `json:"pod"`
		Container string `json:"container"`
		Reason    string `json:"reason"`
	}
	podOwnerLabels struct {
		Namespace string `json:"namespace"`
		Pod       string `json:"pod"`
		OwnerKind string `json:"owner_kind"`
		OwnerName string `json:"owner_name"`
	}
	replicaSetOwnerLabels struct {
		Namespace  string `json:"namespace"`
		ReplicaSet string `json:"replicaset"`
		OwnerKind  string `json:"owner_kind"`
		OwnerName  string `json:"owner_name"`
	}
	jobOwnerLabels struct {
		Namespace string `json:"namespace"`
		Job       string `json:"job_name"`
		OwnerKind string `json:"owner_kind"`
		OwnerName string `json:"owner_name"`
	}
)

// KubeState is what kube-state-metrics reported about containers during a window.
type KubeState struct {
	// Present is true when kube-state-metrics series exist in the window at all; when false
	// the caller has to learn the inventory elsewhere (the Kubernetes API).
	Present bool
	// Containers holds one snapshot per container and step, ordered by ObservedAt (the step),
	// then namespace, pod and container. Cluster is left empty; StartedAt, FinishedAt and
	// Labels are not known; QoSClass is derived from the requests and limits seen.
	Containers []model.Container
	// Events are the OOM kills, stamped with their step and the memory limit then: a restart
	// counter that grew at a step while the container's last termination reason was
	// OOMKilled (reason OOMKilled), and what cAdvisor's container_oom_events_total grew by
	// beyond those restarts in the same step (reason ProcessOOMKilled: a child process
	// killed while PID 1 survived).
	Events []model.ContainerEvent
}

// kubeStateChunk holds the answers of one span's queries.
type kubeStateChunk struct {
	span
	requests, limits *table[resourceLabels]
	podInfo          *table[podInfoLabels]
	phase            *table[phaseLabels]
	reasons          *table[reasonLabels]
	restarts         *table[containerLabels]
	oomEvents        *table[instanceLabels]
	oomStarts        *table[instanceLabels] // start times of oomEvents' instances
	podOwners        *table[podOwnerLabels]
	rsOwners         *table[replicaSetOwnerLabels]
	jobOwners        *table[jobOwnerLabels]
}

// KubeState returns the containers kube-state-metrics knew at the multiples of step in
// [from, to), and the OOM kills at those steps. A step of 0 is Options.Step. Each step reads the
// series' latest samples within Prometheus's lookback, so a deleted pod whose series were
// not ended by staleness markers (backfilled data) is still seen up to five minutes later.
// The queries issued are 1 + 11 × chunks, chunks planned like Usage's with one more reading
// (the one before from).
func (c *Client) KubeState(ctx context.Context, from, to time.Time, step time.Duration) (*KubeState, error) {
	if step == 0 {
		step = c.opts.Step
	}
	if step < time.Second || step%time.Millisecond != 0 {
		return nil, fmt.Errorf("kube-state step %s: must be at least 1s and whole milliseconds", step)
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("window %s: from must be before to", windowString(from, to))
	}
	from, to = from.UTC(), to.UTC()
	// The steps are the multiples of step (since the Unix epoch) in [from, to), whatever the
	// window: consecutive windows then compare every step with the same previous step, so a
	// restart or an OOM kill is counted once however the collector cut its windows (a window
	// shorter than step may hold no step at all).
	first := from.Truncate(step)
	if first.Before(from) {
		first = first.Add(step)
	}
	if !first.Before(to) {
		return &KubeState{}, nil
	}
	steps := int((to.Sub(first) + step - 1) / step)
	// Point i (0..steps) is at origin + i·step. Point 0 comes before the window, so that a
	// restart counter can be compared with its previous reading at the window's first step.
	origin := first.Add(-step)
	last := origin.Add(time.Duration(steps) * step)

	series, err := c.countSeries(ctx, "kube-state-metrics series", queryKubeStateSeries, origin, last)
	if err != nil {
		return nil, err
	}
	spans := planSpans(steps, intervalsPerChunk(step, c.opts.Chunk, c.opts.MaxSamples, series))
	chunks := make([]kubeStateChunk, len(spans))
	for k, s := range spans {
		chunks[k].span = s
	}
	err = runTasks(ctx, len(spans)*kubeStateQueries, c.opts.Concurrency, func(ctx context.Context, i int) error {
		ch := &chunks[i/kubeStateQueries]
		start, end := origin.Add(time.Duration(ch.First)*step), origin.Add(time.Duration(ch.End)*step)
		points := ch.Len() + 1
		ranged := func(what, query string) request { return rangeRequest(what, query, start, step, points) }
		owned := func(what, query string) request {
			return instantRequest(what, fmt.Sprintf(query, promDuration(end.Sub(start)+lookbackDelta)), end)
		}
		var err error
		switch i % kubeStateQueries { // each task writes its own field of the chunk
		case 0:
			ch.requests, err = fetch[resourceLabels](ctx, c, ranged("container requests", queryRequests), series)
		case 1:
			ch.limits, err = fetch[resourceLabels](ctx, c, ranged("container limits", queryLimits), series)
		case 2:
			ch.podInfo, err = fetch[podInfoLabels](ctx, c, ranged("pod info", queryPodInfo), series)
		case 3:
			ch.phase, err = fetch[phaseLabels](ctx, c, ranged("pod phase", queryPodPhase), series)
		case 4:
			ch.reasons, err = fetch[reasonLabels](ctx, c, ranged("container termination reasons", queryLastTerminated), 0)
		case 5:
			ch.restarts, err = fetch[containerLabels](ctx, c, ranged("container restarts", queryRestarts), series)
		case 6:
			ch.podOwners, err = fetch[podOwnerLabels](ctx, c, owned("pod owners", queryPodOwners), series)
		case 7:
			ch.rsOwners, err = fetch[replicaSetOwnerLabels](ctx, c, owned("replicaset owners", queryReplicaSetOwners), 0)
		case 8:
			ch.jobOwners, err = fetch[jobOwnerLabels](ctx, c, owned("job owners", queryJobOwners), 0)
		case 9:
			ch.oomEvents, err = fetch[instanceLabels](ctx, c, ranged("container OOM events", queryOOMEvents), series)
		case 10:
			ch.oomStarts, err = fetch[instanceLabels](ctx, c, ranged("container start times", queryStartTime), series)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return assembleKubeState(origin, step, chunks), nil
}

// assembleKubeState turns the answers into snapshots and events.
func assembleKubeState(origin time.Time, step time.Duration, chunks []kubeStateChunk) *KubeState {
	ks := &KubeState{}
	own := newOwners()
	nodes := map[objectKey]string{} // a pod's node, from any step: pods never move
	for i := range chunks {
		ch := &chunks[i]
		// cAdvisor's OOM events are not kube-state-metrics: they do not count here.
		for _, n := range []int{rowsOf(ch.requests), rowsOf(ch.limits), rowsOf(ch.podInfo), rowsOf(ch.phase),
			rowsOf(ch.reasons), rowsOf(ch.restarts), rowsOf(ch.podOwners), rowsOf(ch.rsOwners), rowsOf(ch.jobOwners)} {
			ks.Present = ks.Present || n > 0
		}
		if t := ch.podOwners; t != nil {
			for r, l := range t.labels {
				if !math.IsNaN(t.at(r, 0)) {
					setOwner(own.pods, objectKey{l.Namespace, l.Pod}, l.OwnerKind, l.OwnerName)
				}
			}
		}
		if t := ch.rsOwners; t != nil {
			for r, l := range t.labels {
				if !math.IsNaN(t.at(r, 0)) {
					setOwner(own.replicaSets, objectKey{l.Namespace, l.ReplicaSet}, l.OwnerKind, l.OwnerName)
				}
			}
		}
		if t := ch.jobOwners; t != nil {
			for r, l := range t.labels {
				if !math.IsNaN(t.at(r, 0)) {
					setOwner(own.jobs, objectKey{l.Namespace, l.Job}, l.OwnerKind, l.OwnerName)
				}
			}
		}
		if t := ch.podInfo; t != nil {
			for r, l := range t.labels {
				if l.Node != "" && slices.ContainsFunc(t.row(r), func(v float64) bool { return !math.IsNaN(v) }) {
					nodes[objectKey{l.Namespace, l.Pod}] = l.Node
				}
			}
		}
	}
	for i := range chunks {
		appendSnapshots(ks, &chunks[i], origin, step, own, nodes)
	}
	// Events come in the answer's order within a step; put them in container order.
	slices.SortStableFunc(ks.Events, func(a, b model.ContainerEvent) int {
		return cmp.Or(a.Timestamp.Compare(b.Timestamp), compareContainers(
			containerLabels{a.Namespace, a.Pod, a.Container}, containerLabels{b.Namespace, b.Pod, b.Container}))
	})
	return ks
}

func rowsOf[L any](t *table[L]) int {
	if t == nil {
		return 0
	}
	return t.rows()
}
