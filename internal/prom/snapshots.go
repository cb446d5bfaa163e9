package prom

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// containerState is what one step's readings say about a container.
type containerState struct {
	res      resources
	gpu      float64
	restarts float64 // NaN: not reported
	reason   string
	seen     bool
}

// podState is what one step's readings say about a pod.
type podState struct {
	node, uid, phase, qos string
}

// appendSnapshots appends to ks the snapshots and OOM kills of one chunk's steps (its points
// First+1 .. End; point First is only the previous reading of the first).
func appendSnapshots(ks *KubeState, ch *kubeStateChunk, origin time.Time, step time.Duration, own *owners, nodes map[objectKey]string) {
	// The chunk's containers in output order, and their pods.
	var keys []containerLabels
	addKeys(&keys, ch.requests, func(l resourceLabels) containerLabels { return containerLabels{l.Namespace, l.Pod, l.Container} })
	addKeys(&keys, ch.limits, func(l resourceLabels) containerLabels { return containerLabels{l.Namespace, l.Pod, l.Container} })
	addKeys(&keys, ch.restarts, func(l containerLabels) containerLabels { return l })
	addKeys(&keys, ch.reasons, func(l reasonLabels) containerLabels { return containerLabels{l.Namespace, l.Pod, l.Container} })
	slices.SortFunc(keys, compareContainers)
	keys = slices.Compact(keys)
	if len(keys) == 0 {
		return
	}
	index := make(map[containerLabels]int, len(keys))
	podIndex := map[objectKey]int{}
	podOf := make([]int, len(keys))
	var pods []objectKey
	for i, k := range keys {
		index[k] = i
		pk := objectKey{k.Namespace, k.Pod}
		p, ok := podIndex[pk]
		if !ok {
			p = len(pods)
			podIndex[pk] = p
			pods = append(pods, pk)
		}
		podOf[i] = p
	}
	workloads := make([]model.WorkloadRef, len(pods))
	for p, pk := range pods {
		workloads[p] = own.workload(pk.namespace, pk.name)
	}

	// For each row of each table, the container or pod it is about (-1: none of ours).
	containerOf := func(ns, pod, container string) int {
		if i, ok := index[containerLabels{ns, pod, container}]; ok {
			return i
		}
		return -1
	}
	podOfRow := func(ns, pod string) int {
		if p, ok := podIndex[objectKey{ns, pod}]; ok {
			return p
		}
		return -1
	}
	reqRows := rowTargets(ch.requests, func(l resourceLabels) int { return containerOf(l.Namespace, l.Pod, l.Container) })
	limRows := rowTargets(ch.limits, func(l resourceLabels) int { return containerOf(l.Namespace, l.Pod, l.Container) })
	restartRows := rowTargets(ch.restarts, func(l containerLabels) int { return containerOf(l.Namespace, l.Pod, l.Container) })
	reasonRows := rowTargets(ch.reasons, func(l reasonLabels) int { return containerOf(l.Namespace, l.Pod, l.Container) })
	infoRows := rowTargets(ch.podInfo, func(l podInfoLabels) int { return podOfRow(l.Namespace, l.Pod) })
	phaseRows := rowTargets(ch.phase, func(l phaseLabels) int { return podOfRow(l.Namespace, l.Pod) })
	oomRows := rowTargets(ch.oomEvents, func(l instanceLabels) int { return containerOf(l.Namespace, l.Pod, l.Container) })
	oomStartRow := matchRows(ch.oomEvents, ch.oomStarts)
	restartKills, oomKills := make([]float64, len(keys)), make([]float64, len(keys))

	cs := make([]containerState, len(keys))
	ps := make([]podState, len(pods))
	podRes := make([]resources, 0, 8)
	for p := 1; p <= ch.Len(); p++ {
		at := origin.Add(time.Duration(ch.First+p) * step)
		for i := range cs {
			cs[i] = containerState{restarts: math.NaN()}
		}
		for i := range ps {
			ps[i] = podState{}
		}
		eachValue(ch.requests, reqRows, p, func(l resourceLabels, i int, v float64) {
			cs[i].seen = true
			switch l.Resource {
			case resourceCPU:
				cs[i].res.cpuRequest = v
			case resourceMemory:
				cs[i].res.memRequest = v
			case resourceGPU:
				cs[i].gpu = v
			}
		})
		eachValue(ch.limits, limRows, p, func(l resourceLabels, i int, v float64) {
			cs[i].seen = true
			switch l.Resource {
			case resourceCPU:
				cs[i].res.cpuLimit = v
			case resourceMemory:
				cs[i].res.memLimit = v
			}
		})
		eachValue(ch.restarts, restartRows, p, func(_ containerLabels, i int, v float64) {
			cs[i].seen = true
			cs[i].restarts = v
		})
		eachValue(ch.reasons, reasonRows, p, func(l reasonLabels, i int, _ float64) {
			cs[i].seen = true
			cs[i].reason = l.Reason
		})
		eachValue(ch.podInfo, infoRows, p, func(l podInfoLabels, i int, _ float64) {
			if l.Node != "" || ps[i].node == "" { // a pending pod's series has node=""
				ps[i].node = l.Node
			}
			ps[i].uid = l.UID
		})
		eachValue(ch.phase, phaseRows, p, func(l phaseLabels, i int, _ float64) { ps[i].phase = l.Phase })
		// Containers of a pod are adjacent in key order.
		for i := 0; i < len(keys); {
			j := i
			podRes = podRes[:0]
			for ; j < len(keys) && podOf[j] == podOf[i]; j++ {
				if cs[j].seen {
					podRes = append(podRes, cs[j].res)
				}
			}
			ps[podOf[i]].qos = qosClass(podRes)
			i = j
		}

		for i, k := range keys {
			st := &cs[i]
			if !st.seen {
				continue
			}
			pod := &ps[podOf[i]]
			node := pod.node
			if node == "" {
				node = nodes[objectKey{k.Namespace, k.Pod}]
			}
			ks.Containers = append(ks.Containers, model.Container{
				ObservedAt:            at,
				Namespace:             k.Namespace,
				Pod:                   k.Pod,
				PodUID:                pod.uid,
				Container:             k.Container,
				Node:                  node,
				Phase:                 pod.phase,
				QoSClass:              pod.qos,
				Workload:              workloads[podOf[i]],
				CPURequestCores:       st.res.cpuRequest,
				CPULimitCores:         st.res.cpuLimit,
				MemoryRequestBytes:    toBytes(st.res.memRequest),
				MemoryLimitBytes:      toBytes(st.res.memLimit),
				GPURequest:            st.gpu,
				RestartCount:          toCount(st.restarts),
				LastTerminationReason: st.reason,
			})
		}

		// OOM kills: restarts after one, and cAdvisor's OOM events beyond those restarts.
		clear(restartKills)
		clear(oomKills)
		for r, i := range restartRows {
			if i < 0 || cs[i].reason != reasonOOM {
				continue
			}
			if inc, ok := counterIncrease(ch.restarts.at(r, p-1), ch.restarts.at(r, p)); ok && inc > 0 {
				restartKills[i] += inc
			}
		}
		prevAt := float64(at.Add(-step).UnixMilli()) / 1000
		for r, i := range oomRows {
			if i < 0 || !cs[i].seen {
				continue
			}
			prev, cur := ch.oomEvents.at(r, p-1), ch.oomEvents.at(r, p)
			if math.IsNaN(prev) && startedAfter(ch.oomStarts, oomStartRow[r], p, prevAt) {
				prev = 0 // an instance new since the previous step: its counter began at 0
			}
			if inc, ok := counterIncrease(prev, cur); ok && inc > 0 {
				oomKills[i] += inc
			}
		}
		event := func(i int, reason, msg string, n float64) {
			k := keys[i]
			node := ps[podOf[i]].node
			if node == "" {
				node = nodes[objectKey{k.Namespace, k.Pod}]
			}
			ks.Events = append(ks.Events, model.ContainerEvent{
				Timestamp: at, Namespace: k.Namespace, Workload: workloads[podOf[i]], Pod: k.Pod,
				Container: k.Container, Node: node, Kind: model.EventOOMKill, Reason: reason, Message: msg,
				Count: toCount(n), MemoryLimitBytes: toBytes(cs[i].res.memLimit),
			})
		}
		// One event per container and step (container_events keeps one row per key and
		// time). A kill of PID 1 may also be counted by the old instance's counter: only what
		// goes beyond the restarts is a process killed inside a running container.
		for i := range keys {
			restarted, processes := restartKills[i], max(oomKills[i]-restartKills[i], 0)
			switch {
			case restarted > 0 && processes > 0:
				event(i, reasonOOM, fmt.Sprintf("restarted after an OOM kill (restart count %d); %s OOM-killed while it ran (container_oom_events_total)",
					toCount(cs[i].restarts), plural(toCount(processes), "more process", "more processes")), restarted+processes)
			case restarted > 0:
				event(i, reasonOOM, fmt.Sprintf("restarted after an OOM kill (restart count %d)", toCount(cs[i].restarts)), restarted)
			case processes > 0:
				event(i, reasonProcessOOM, fmt.Sprintf("%s of the container OOM-killed while it kept running (container_oom_events_total)",
					plural(toCount(processes), "process", "processes")), processes)
			}
		}
	}
}

// matchRows maps each row of a to the row of b with the same labels (-1: none).
func matchRows(a, b *table[instanceLabels]) []int {
	if a == nil {
		return nil
	}
	in := map[instanceLabels]int{}
	if b != nil {
		for r, l := range b.labels {
			in[l] = r
		}
	}
	out := make([]int, a.rows())
	for r, l := range a.labels {
		out[r] = -1
		if rb, ok := in[l]; ok {
			out[r] = rb
		}
	}
	return out
}

// startedAfter reports whether row r of starts (container_start_time_seconds) reads at point
// p a start later than t (Unix seconds): the instance did not exist at t.
func startedAfter(starts *table[instanceLabels], r, p int, t float64) bool {
	if starts == nil || r < 0 {
		return false
	}
	v := starts.at(r, p)
	return !math.IsNaN(v) && v > t
}

func plural(n uint32, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// addKeys appends the container of every row of t to keys.
func addKeys[L any](keys *[]containerLabels, t *table[L], key func(L) containerLabels) {
	if t == nil {
		return
	}
	for _, l := range t.labels {
		*keys = append(*keys, key(l))
	}
}

// rowTargets maps every row of t to the index target returns for its labels.
func rowTargets[L any](t *table[L], target func(L) int) []int {
	if t == nil {
		return nil
	}
	out := make([]int, t.rows())
	for r, l := range t.labels {
		out[r] = target(l)
	}
	return out
}

// eachValue calls fn for every row of t that has a target and a value at point p.
func eachValue[L any](t *table[L], targets []int, p int, fn func(l L, target int, v float64)) {
	if t == nil {
		return
	}
	for r, i := range targets {
		if i < 0 {
			continue
		}
		if v := t.at(r, p); !math.IsNaN(v) {
			fn(t.labels[r], i, v)
		}
	}
}

// toCount converts a counter reading to a count; NaN or negative is 0.
func toCount(v float64) uint32 {
	if math.IsNaN(v) || v <= 0 {
		return 0
	}
	if v >= math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(math.Round(v))
}
