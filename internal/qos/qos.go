// Package qos says, for `reporter qos`, which workload containers should have request = limit
// and what to set (memory always; CPU only for workloads that opt in), and, per node, how far
// memory limits overcommit the node and which containers the kernel would OOM-kill first.
//
// It is pure: no I/O, no clock, no globals. Its inputs are the latest snapshot of running
// containers, the rightsizing recommendations and the nodes; see DESIGN.md, "Request = limit
// (QoS) semantics".
//
// Rules:
//
//   - A workload container (cluster, namespace, workload, container) gets a Finding when its
//     memory limit is missing or differs from its memory request, or, when it opts in to
//     CPU request = limit (Policy.GuaranteedCPU or Container.CPUOptIn), when its CPU limit
//     is missing or differs from its CPU request.
//   - Memory: request = limit = the recommended memory; without a recommendation,
//     max(current request, current limit), so that the container loses no memory.
//   - CPU, opted in: request = limit = the recommended CPU request; without one, the current
//     request (or, if unset, the current limit). Not opted in: CPU is left as it is.
//   - Values are compared with a relative tolerance of 1e-9, so a quantity converted to
//     float64 by two routes still compares equal.
package qos

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/rightsizing"
)

// QoS classes as Kubernetes reports them in a pod's status.
const (
	QoSGuaranteed = "Guaranteed"
	QoSBurstable  = "Burstable"
	QoSBestEffort = "BestEffort"
)

// Sources of a Finding's Set values.
const (
	// SourceRightsizing: every value changed in Set is the rightsizing recommendation.
	SourceRightsizing = "rightsizing"
	// SourceCurrent: at least one value changed in Set falls back on the current values
	// because the recommendation has none (insufficient data); the reasons say which.
	SourceCurrent = "current"
)

// oom_score_adj values the kubelet gives containers, from kubernetes/kubernetes
// pkg/kubelet/qos/policy.go (GetContainerOOMScoreAdjust):
//
//	guaranteedOOMScoreAdj int = -997
//	besteffortOOMScoreAdj int = 1000
//	Burstable: oomScoreAdjust := 1000 - (1000*containerMemReq)/memoryCapacity  (int64)
//	           below 1000 + guaranteedOOMScoreAdj (= 3) → 3; equal to 1000 → 999
//
// (node-critical pods also get -997; sidecar and pod-level-resources adjustments are not
// modelled.)
const (
	guaranteedOOMScoreAdj = -997
	besteffortOOMScoreAdj = 1000
)

const mib = 1 << 20

// Container is one running container (one pod's container) as of the latest snapshot.
type Container struct {
	Cluster, Namespace string
	Workload           model.WorkloadRef
	Pod, Container     string
	Node               string
	// QoSClass is the pod's QoS class as Kubernetes reports it: QoSGuaranteed,
	// QoSBurstable or QoSBestEffort. Any other value is treated as Burstable.
	QoSClass string
	// Current are the container's requests and limits; a nil pointer is unset.
	Current rightsizing.Resources
	// MemoryWorkingSetBytes is the latest working set, for the kill order.
	MemoryWorkingSetBytes float64
	// CPUOptIn says the workload opted in to CPU request = limit (by a label).
	CPUOptIn bool
}

// Key names a workload container: all the pods' containers of that name in one workload.
type Key struct {
	Cluster, Namespace string
	Workload           model.WorkloadRef
	Container          string
}

// Sizing is the rightsizing recommendation for a workload container; a nil value means
// insufficient data.
type Sizing struct {
	CPURequestCores *float64
	MemoryBytes     *float64
}

// Node is what the node report needs of a node.
type Node struct {
	Cluster, Name          string
	MemoryAllocatableBytes float64
	MemoryCapacityBytes    float64
}

// Policy holds the QoS choices that apply to every workload.
type Policy struct {
	// GuaranteedCPU opts every workload in to CPU request = limit.
	GuaranteedCPU bool
}

// Finding is one workload container whose request and limit should be made equal.
type Finding struct {
	Key Key
	// Pods is the number of the workload's pods running the container.
	Pods int
	// QoSClass and Current are the values most of the pods share; see Findings.
	QoSClass string
	Current  rightsizing.Resources
	// Set is the complete resources the container should have; values the finding does not
	// change (CPU when not opted in, memory when its request already equals its limit)
	// carry the current ones.
	Set rightsizing.Resources
	// Reasons say, in plain English, what is wrong and where the Set values come from.
	Reasons []string
	// Source is SourceRightsizing or SourceCurrent.
	Source string
}

// Findings returns one Finding per workload container whose memory limit is missing or
// differs from its memory request, or, when it opts in to CPU request = limit, whose CPU
// limit is missing or differs from its CPU request. sizing holds the recommendations by
// workload container; a missing entry is the same as insufficient data.
//
// The pods of a workload are pooled. When they disagree (QoS class, requests, limits or CPU
// opt-in, e.g. during a rollout), the values shared by the most pods are used; a tie goes to
// the values of the first pod in pod-name order, and a reason says how many pods had them.
// A pod listed twice for one container counts once.
//
// Findings are sorted by cluster, namespace, workload kind, workload name and container.
func Findings(containers []Container, sizing map[Key]Sizing, p Policy) []Finding {
	groups := map[Key][]Container{}
	for _, c := range containers {
		k := Key{Cluster: c.Cluster, Namespace: c.Namespace, Workload: c.Workload, Container: c.Container}
		groups[k] = append(groups[k], c)
	}
	var out []Finding
	for k, cs := range groups {
		rep, pods, agreeing := representative(cs)
		f, ok := finding(k, rep, sizing[k], p)
		if !ok {
			continue
		}
		f.Pods = pods
		if agreeing < pods {
			f.Reasons = append(f.Reasons, fmt.Sprintf(
				"pods disagree: the values shown are those of %d of %d pods", agreeing, pods))
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Key.Cluster, b.Key.Cluster),
			cmp.Compare(a.Key.Namespace, b.Key.Namespace),
			cmp.Compare(a.Key.Workload.Kind, b.Key.Workload.Kind),
			cmp.Compare(a.Key.Workload.Name, b.Key.Workload.Name),
			cmp.Compare(a.Key.Container, b.Key.Container),
		)
	})
	return out
}

// profile is what pods of one workload container may disagree on; comparable, so pods are
// counted by it.
type profile struct {
	qosClass               string
	cpuOptIn               bool
	cpuReq, cpuLim         optional
	memoryReq, memoryLimit optional
}

type optional struct {
	set   bool
	value float64
}

func optionalOf(v *float64) optional {
	if v == nil {
		return optional{}
	}
	return optional{set: true, value: *v}
}

func profileOf(c Container) profile {
	return profile{
		qosClass:    c.QoSClass,
		cpuOptIn:    c.CPUOptIn,
		cpuReq:      optionalOf(c.Current.CPURequest),
		cpuLim:      optionalOf(c.Current.CPULimit),
		memoryReq:   optionalOf(c.Current.MemoryRequest),
		memoryLimit: optionalOf(c.Current.MemoryLimit),
	}
}

// representative returns the container whose profile the most distinct pods share (ties:
// the first in pod-name order), the number of distinct pods and how many share it.
func representative(cs []Container) (rep Container, pods, agreeing int) {
	sorted := slices.Clone(cs)
	slices.SortStableFunc(sorted, func(a, b Container) int {
		return cmp.Or(cmp.Compare(a.Pod, b.Pod), cmp.Compare(a.Node, b.Node))
	})
	sorted = slices.CompactFunc(sorted, func(a, b Container) bool { return a.Pod == b.Pod })
	counts := map[profile]int{}
	for _, c := range sorted {
		counts[profileOf(c)]++
	}
	best := 0
	for i, c := range sorted {
		if n := counts[profileOf(c)]; n > counts[profileOf(sorted[best])] {
			best = i
		}
	}
	return sorted[best], len(sorted), counts[profileOf(sorted[best])]
}

// finding applies the rules to one workload container's representative values; ok is false
// when nothing needs to change.
func finding(k Key, rep Container, s Sizing, p Policy) (f Finding, ok bool) {
	cur := rep.Current
	f = Finding{Key: k, QoSClass: rep.QoSClass, Current: clone(cur), Set: clone(cur), Source: SourceRightsizing}
	fallback := false

	if r := mismatch("memory", cur.MemoryRequest, cur.MemoryLimit, mibString, ""); r != "" {
		f.Reasons = append(f.Reasons, r)
		switch v, have := larger(cur.MemoryRequest, cur.MemoryLimit); {
		case s.MemoryBytes != nil:
			f.Set.MemoryRequest, f.Set.MemoryLimit = ptr(*s.MemoryBytes), ptr(*s.MemoryBytes)
		case have:
			fallback = true
			f.Set.MemoryRequest, f.Set.MemoryLimit = ptr(v), ptr(v)
			f.Reasons = append(f.Reasons, fmt.Sprintf(
				"no memory recommendation: request = limit = %s, the larger of the current request and limit, so the container loses no memory",
				mibString(v)))
		default:
			fallback = true
			f.Reasons = append(f.Reasons,
				"no memory recommendation and no current memory value: nothing to set until rightsizing has data")
		}
	}

	if p.GuaranteedCPU || rep.CPUOptIn {
		if r := mismatch("CPU", cur.CPURequest, cur.CPULimit, coresString, " (opted in)"); r != "" {
			f.Reasons = append(f.Reasons, r)
			switch {
			case s.CPURequestCores != nil:
				f.Set.CPURequest, f.Set.CPULimit = ptr(*s.CPURequestCores), ptr(*s.CPURequestCores)
			case cur.CPURequest != nil:
				fallback = true
				v := *cur.CPURequest
				f.Set.CPURequest, f.Set.CPULimit = ptr(v), ptr(v)
				f.Reasons = append(f.Reasons, fmt.Sprintf(
					"no CPU recommendation: request = limit = the current request %s", coresString(v)))
			case cur.CPULimit != nil:
				fallback = true
				v := *cur.CPULimit
				f.Set.CPURequest, f.Set.CPULimit = ptr(v), ptr(v)
				f.Reasons = append(f.Reasons, fmt.Sprintf(
					"no CPU recommendation: request = limit = the current limit %s", coresString(v)))
			default:
				fallback = true
				f.Reasons = append(f.Reasons,
					"no CPU recommendation and no current CPU value: nothing to set until rightsizing has data")
			}
		}
	}

	if len(f.Reasons) == 0 {
		return Finding{}, false
	}
	if fallback {
		f.Source = SourceCurrent
	}
	return f, true
}

// mismatch says how a request and a limit fail to be equal, or "" when they are equal.
func mismatch(resource string, req, limit *float64, format func(float64) string, suffix string) string {
	switch {
	case req == nil && limit == nil:
		return resource + " request and limit missing" + suffix
	case limit == nil:
		return resource + " limit missing" + suffix
	case req == nil:
		return fmt.Sprintf("%s request missing, limit %s%s", resource, format(*limit), suffix)
	case equal(*req, *limit):
		return ""
	}
	l, r := format(*limit), format(*req)
	if l == r { // too close to tell apart once rounded
		l, r = strconv.FormatFloat(*limit, 'g', -1, 64), strconv.FormatFloat(*req, 'g', -1, 64)
	}
	return fmt.Sprintf("%s limit %s ≠ request %s%s", resource, l, r, suffix)
}

// equal compares with a relative tolerance of 1e-9.
func equal(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// larger returns the larger of the set values, and false when neither is set.
func larger(a, b *float64) (float64, bool) {
	switch {
	case a == nil && b == nil:
		return 0, false
	case a == nil:
		return *b, true
	case b == nil:
		return *a, true
	}
	return math.Max(*a, *b), true
}

// mibString formats bytes as MiB rounded to 0.1, e.g. "1024 MiB", "95.4 MiB".
func mibString(bytes float64) string {
	return strconv.FormatFloat(math.Round(bytes/mib*10)/10, 'f', -1, 64) + " MiB"
}

// coresString formats cores rounded to the millicore, e.g. "0.5 cores", "1 core".
func coresString(cores float64) string {
	rounded := math.Round(cores*1000) / 1000
	unit := " cores"
	if rounded == 1 {
		unit = " core"
	}
	return strconv.FormatFloat(rounded, 'f', -1, 64) + unit
}

func ptr(v float64) *float64 { return &v }

func clone(r rightsizing.Resources) rightsizing.Resources {
	c := func(v *float64) *float64 {
		if v == nil {
			return nil
		}
		return ptr(*v)
	}
	return rightsizing.Resources{
		CPURequest: c(r.CPURequest), CPULimit: c(r.CPULimit),
		MemoryRequest: c(r.MemoryRequest), MemoryLimit: c(r.MemoryLimit),
	}
}

// NodeReport is one node's memory overcommit and the containers its kernel would OOM-kill
// first.
type NodeReport struct {
	Cluster, Node          string
	MemoryAllocatableBytes float64
	MemoryCapacityBytes    float64
	// Containers is the number of the node's containers.
	Containers int
	// MemoryLimitsBytes is Σ memory limits of the containers that have one.
	MemoryLimitsBytes float64
	// UnboundedContainers is the number of containers without a memory limit: each may use
	// all the node's memory, and none of them is counted in MemoryLimitsBytes or Overcommit.
	UnboundedContainers int
	// MemoryRequestsBytes is Σ memory requests (an unset request counts as 0).
	MemoryRequestsBytes float64
	// Overcommit is MemoryLimitsBytes ÷ MemoryAllocatableBytes, 0 when allocatable is 0. It
	// counts only the limits that are set, so with UnboundedContainers > 0 the real
	// overcommit is higher than it says.
	Overcommit float64
	// KillOrder are the containers the kernel would OOM-kill first when the node runs out
	// of memory, most likely first; empty when the node's memory capacity is unknown (0).
	KillOrder []KillCandidate
}

// KillCandidate is one container in a node's kill order.
type KillCandidate struct {
	Namespace             string
	Workload              model.WorkloadRef
	Pod, Container        string
	QoSClass              string
	OOMScoreAdj           int     // as the kubelet sets it
	Score                 float64 // ≈ the kernel's badness, see Nodes
	MemoryWorkingSetBytes float64
}

// Nodes returns, for each node in nodes, its memory overcommit and, in KillOrder, the topN
// containers (all of them when topN ≤ 0) the kernel would OOM-kill first. Containers are
// matched to nodes by cluster and node name; containers on nodes not listed are left out.
//
// The kill order estimates what the kernel's oom_badness does on a node-wide OOM: each
// container gets the oom_score_adj the kubelet sets (see oomScoreAdj), and
//
//	Score = MemoryWorkingSetBytes ÷ MemoryCapacityBytes × 1000 + OOMScoreAdj
//
// ordered by Score descending, ties by namespace, pod, then container. It is an estimate:
// the kernel scores each process by its RSS, swap and page tables, not a container by its
// working set.
//
// Reports are sorted by Overcommit descending, then node name, then cluster.
func Nodes(containers []Container, nodes []Node, topN int) []NodeReport {
	type nodeKey struct{ cluster, name string }
	byNode := map[nodeKey][]Container{}
	for _, c := range containers {
		k := nodeKey{c.Cluster, c.Node}
		byNode[k] = append(byNode[k], c)
	}
	out := make([]NodeReport, 0, len(nodes))
	for _, n := range nodes {
		r := NodeReport{
			Cluster: n.Cluster, Node: n.Name,
			MemoryAllocatableBytes: n.MemoryAllocatableBytes,
			MemoryCapacityBytes:    n.MemoryCapacityBytes,
		}
		for _, c := range byNode[nodeKey{n.Cluster, n.Name}] {
			r.Containers++
			if c.Current.MemoryLimit != nil {
				r.MemoryLimitsBytes += *c.Current.MemoryLimit
			} else {
				r.UnboundedContainers++
			}
			if c.Current.MemoryRequest != nil {
				r.MemoryRequestsBytes += *c.Current.MemoryRequest
			}
			if n.MemoryCapacityBytes <= 0 {
				continue
			}
			var req float64
			if c.Current.MemoryRequest != nil {
				req = *c.Current.MemoryRequest
			}
			adj := oomScoreAdj(c.QoSClass, req, n.MemoryCapacityBytes)
			r.KillOrder = append(r.KillOrder, KillCandidate{
				Namespace: c.Namespace, Workload: c.Workload, Pod: c.Pod, Container: c.Container,
				QoSClass:              c.QoSClass,
				OOMScoreAdj:           adj,
				Score:                 c.MemoryWorkingSetBytes/n.MemoryCapacityBytes*1000 + float64(adj),
				MemoryWorkingSetBytes: c.MemoryWorkingSetBytes,
			})
		}
		if n.MemoryAllocatableBytes > 0 {
			r.Overcommit = r.MemoryLimitsBytes / n.MemoryAllocatableBytes
		}
		slices.SortFunc(r.KillOrder, func(a, b KillCandidate) int {
			return cmp.Or(
				cmp.Compare(b.Score, a.Score),
				cmp.Compare(a.Namespace, b.Namespace),
				cmp.Compare(a.Pod, b.Pod),
				cmp.Compare(a.Container, b.Container),
			)
		})
		if topN > 0 && len(r.KillOrder) > topN {
			r.KillOrder = r.KillOrder[:topN]
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b NodeReport) int {
		return cmp.Or(
			cmp.Compare(b.Overcommit, a.Overcommit),
			cmp.Compare(a.Node, b.Node),
			cmp.Compare(a.Cluster, b.Cluster),
		)
	})
	return out
}

// oomScoreAdj is the oom_score_adj the kubelet gives a container (GetContainerOOMScoreAdjust,
// see the constants above): Guaranteed -997, BestEffort 1000, otherwise
// 1000 − (1000 × request) ÷ capacity in integer bytes, at least 3 and at most 999.
// A capacity below one byte, which no node has, gives 999.
func oomScoreAdj(qosClass string, memoryRequestBytes, memoryCapacityBytes float64) int {
	switch qosClass {
	case QoSGuaranteed:
		return guaranteedOOMScoreAdj
	case QoSBestEffort:
		return besteffortOOMScoreAdj
	}
	// Quantity.Value() rounds a request up to whole bytes.
	req := int64(math.Ceil(memoryRequestBytes))
	capacity := int64(memoryCapacityBytes)
	if capacity <= 0 {
		return besteffortOOMScoreAdj - 1
	}
	adj := 1000 - (1000*req)/capacity
	if adj < 1000+guaranteedOOMScoreAdj {
		return 1000 + guaranteedOOMScoreAdj
	}
	if adj == besteffortOOMScoreAdj {
		return besteffortOOMScoreAdj - 1
	}
	return int(adj)
}
