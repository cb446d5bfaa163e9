package qos

import (
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/rightsizing"
)

const (
	MiB = 1 << 20
	GiB = 1 << 30
)

var web = model.WorkloadRef{Kind: "Deployment", Name: "web"}

// res builds Resources; nil arguments are unset.
func res(cpuReq, cpuLim, memReq, memLim *float64) rightsizing.Resources {
	return rightsizing.Resources{CPURequest: cpuReq, CPULimit: cpuLim, MemoryRequest: memReq, MemoryLimit: memLim}
}

func f(v float64) *float64 { return &v }

// pod is one container "app" of a pod of the Deployment shop/web in cluster c1.
func pod(name, qosClass string, current rightsizing.Resources) Container {
	return Container{
		Cluster: "c1", Namespace: "shop", Workload: web, Pod: name, Container: "app", Node: "n1",
		QoSClass: qosClass, Current: current,
	}
}

var webKey = Key{Cluster: "c1", Namespace: "shop", Workload: web, Container: "app"}

func TestFindings(t *testing.T) {
	optIn := pod("web-1", QoSBurstable, res(f(0.25), nil, f(1*GiB), f(1*GiB)))
	optIn.CPUOptIn = true
	optInNoRequest := pod("web-1", QoSBurstable, res(nil, f(2), f(1*GiB), f(1*GiB)))
	optInNoRequest.CPUOptIn = true
	tenth := 0.1 // a variable, so that tenth+0.2 is float64 arithmetic, not an exact constant

	tests := []struct {
		name       string
		containers []Container
		sizing     map[Key]Sizing
		policy     Policy
		want       []Finding
	}{
		{
			// 1024 MiB limit vs 512 MiB request → memory request = limit = the recommended
			// 768 MiB; CPU is not opted in, so 0.5 / 1 core stay as they are.
			name:       "burstable memory limit ≠ request takes the recommendation",
			containers: []Container{pod("web-1", QoSBurstable, res(f(0.5), f(1), f(512*MiB), f(1024*MiB)))},
			sizing:     map[Key]Sizing{webKey: {CPURequestCores: f(0.3), MemoryBytes: f(768 * MiB)}},
			want: []Finding{{
				Key: webKey, Pods: 1, QoSClass: QoSBurstable,
				Current: res(f(0.5), f(1), f(512*MiB), f(1024*MiB)),
				Set:     res(f(0.5), f(1), f(768*MiB), f(768*MiB)),
				Reasons: []string{"memory limit 1024 MiB ≠ request 512 MiB"},
				Source:  SourceRightsizing,
			}},
		},
		{
			// No limit, no recommendation: max(256 MiB request, unset limit) = 256 MiB.
			name:       "no memory limit and no sizing keeps the current request",
			containers: []Container{pod("web-1", QoSBurstable, res(f(0.1), nil, f(256*MiB), nil))},
			sizing:     map[Key]Sizing{},
			want: []Finding{{
				Key: webKey, Pods: 1, QoSClass: QoSBurstable,
				Current: res(f(0.1), nil, f(256*MiB), nil),
				Set:     res(f(0.1), nil, f(256*MiB), f(256*MiB)),
				Reasons: []string{
					"memory limit missing",
					"no memory recommendation: request = limit = 256 MiB, the larger of the current request and limit, so the container loses no memory",
				},
				Source: SourceCurrent,
			}},
		},
		{
			// Request missing, limit 1 GiB = 1024 MiB: max(unset, 1024 MiB) = 1024 MiB.
			name:       "memory request missing falls back to the limit",
			containers: []Container{pod("web-1", QoSBurstable, res(nil, nil, nil, f(1*GiB)))},
			want: []Finding{{
				Key: webKey, Pods: 1, QoSClass: QoSBurstable,
				Current: res(nil, nil, nil, f(1*GiB)),
				Set:     res(nil, nil, f(1*GiB), f(1*GiB)),
				Reasons: []string{
					"memory request missing, limit 1024 MiB",
					"no memory recommendation: request = limit = 1024 MiB, the larger of the current request and limit, so the container loses no memory",
				},
				Source: SourceCurrent,
			}},
		},
		{
			// 512 MiB request, 2048 MiB limit, sizing present but memory nil (insufficient
			// data): max(512, 2048) = 2048 MiB, so the container does not lose 1536 MiB.
			name:       "missing memory sizing falls back to max(request, limit)",
			containers: []Container{pod("web-1", QoSBurstable, res(f(0.5), nil, f(512*MiB), f(2048*MiB)))},
			sizing:     map[Key]Sizing{webKey: {CPURequestCores: f(0.2)}},
			want: []Finding{{
				Key: webKey, Pods: 1, QoSClass: QoSBurstable,
				Current: res(f(0.5), nil, f(512*MiB), f(2048*MiB)),
				Set:     res(f(0.5), nil, f(2048*MiB), f(2048*MiB)),
				Reasons: []string{
					"memory limit 2048 MiB ≠ request 512 MiB",
					"no memory recommendation: request = limit = 2048 MiB, the larger of the current request and limit, so the container loses no memory",
				},
				Source: SourceCurrent,
			}},
		},
		{
			name:       "best effort without sizing has nothing to set",
			containers: []Container{pod("web-1", QoSBestEffort, res(nil, nil, nil, nil))},
			want: []Finding{{
				Key: webKey, Pods: 1, QoSClass: QoSBestEffort,
				Current: res(nil, nil, nil, nil),
				Set:     res(nil, nil, nil, nil),
				Reasons: []string{
					"memory request and limit missing",
					"no memory recommendation and no current memory value: nothing to set until rightsizing has data",
				},
				Source: SourceCurrent,
			}},
		},
		{
			name:       "guaranteed container gives no finding, even opted in",
			containers: []Container{pod("web-1", QoSGuaranteed, res(f(1), f(1), f(1*GiB), f(1*GiB)))},
			sizing:     map[Key]Sizing{webKey: {CPURequestCores: f(0.5), MemoryBytes: f(512 * MiB)}},
			policy:     Policy{GuaranteedCPU: true},
		},
		{
			// Memory is already 1 GiB = 1 GiB, so only CPU changes: request = limit = the
			// recommended 0.4 core; the 2 GiB memory recommendation is not this report's job.
			name:       "CPU opt-in by label",
			containers: []Container{optIn},
			sizing:     map[Key]Sizing{webKey: {CPURequestCores: f(0.4), MemoryBytes: f(2 * GiB)}},
			want: []Finding{{
				Key: webKey, Pods: 1, QoSClass: QoSBurstable,
				Current: res(f(0.25), nil, f(1*GiB), f(1*GiB)),
				Set:     res(f(0.4), f(0.4), f(1*GiB), f(1*GiB)),
				Reasons: []string{"CPU limit missing (opted in)"},
				Source:  SourceRightsizing,
			}},
		},
		{
			name:       "CPU limit missing without opt-in gives no finding",
			containers: []Container{pod("web-1", QoSBurstable, res(f(0.25), nil, f(1*GiB), f(1*GiB)))},
			sizing:     map[Key]Sizing{webKey: {CPURequestCores: f(0.4), MemoryBytes: f(2 * GiB)}},
		},
		{
			// Opted in by policy, no CPU recommendation: request = limit = current request
			// 0.5 core (the 2-core limit goes).
			name:       "CPU opt-in by policy without CPU sizing keeps the current request",
			containers: []Container{pod("web-1", QoSBurstable, res(f(0.5), f(2), f(1*GiB), f(1*GiB)))},
			sizing:     map[Key]Sizing{webKey: {MemoryBytes: f(1 * GiB)}},
			policy:     Policy{GuaranteedCPU: true},
			want: []Finding{{
				Key: webKey, Pods: 1, QoSClass: QoSBurstable,
				Current: res(f(0.5), f(2), f(1*GiB), f(1*GiB)),
				Set:     res(f(0.5), f(0.5), f(1*GiB), f(1*GiB)),
				Reasons: []string{
					"CPU limit 2 cores ≠ request 0.5 cores (opted in)",
					"no CPU recommendation: request = limit = the current request 0.5 cores",
				},
				Source: SourceCurrent,
			}},
		},
		{
			// Opted in, no CPU request, no recommendation: request = limit = the 2-core limit.
			name:       "CPU request missing falls back to the limit",
			containers: []Container{optInNoRequest},
			want: []Finding{{
				Key: webKey, Pods: 1, QoSClass: QoSBurstable,
				Current: res(nil, f(2), f(1*GiB), f(1*GiB)),
				Set:     res(f(2), f(2), f(1*GiB), f(1*GiB)),
				Reasons: []string{
					"CPU request missing, limit 2 cores (opted in)",
					"no CPU recommendation: request = limit = the current limit 2 cores",
				},
				Source: SourceCurrent,
			}},
		},
		{
			// 0.1 + 0.2 computed at run time is 0.30000000000000004, not 0.3: equal within
			// the 1e-9 relative tolerance, so no finding.
			name:       "values equal within the tolerance",
			containers: []Container{pod("web-1", QoSGuaranteed, res(f(tenth+0.2), f(0.3), f(1*GiB), f(1*GiB)))},
			policy:     Policy{GuaranteedCPU: true},
		},
		{
			// Both problems at once: memory from the recommendation (600 MiB), CPU from it
			// too (0.75 core), so the source is rightsizing.
			name:       "memory and opted-in CPU together",
			containers: []Container{pod("web-1", QoSBurstable, res(f(0.5), f(1), f(512*MiB), nil))},
			sizing:     map[Key]Sizing{webKey: {CPURequestCores: f(0.75), MemoryBytes: f(600 * MiB)}},
			policy:     Policy{GuaranteedCPU: true},
			want: []Finding{{
				Key: webKey, Pods: 1, QoSClass: QoSBurstable,
				Current: res(f(0.5), f(1), f(512*MiB), nil),
				Set:     res(f(0.75), f(0.75), f(600*MiB), f(600*MiB)),
				Reasons: []string{"memory limit missing", "CPU limit 1 core ≠ request 0.5 cores (opted in)"},
				Source:  SourceRightsizing,
			}},
		},
		{
			name: "two pods of one workload pooled into one finding",
			containers: []Container{
				pod("web-b", QoSBurstable, res(nil, nil, f(512*MiB), f(1024*MiB))),
				pod("web-a", QoSBurstable, res(nil, nil, f(512*MiB), f(1024*MiB))),
			},
			sizing: map[Key]Sizing{webKey: {MemoryBytes: f(700 * MiB)}},
			want: []Finding{{
				Key: webKey, Pods: 2, QoSClass: QoSBurstable,
				Current: res(nil, nil, f(512*MiB), f(1024*MiB)),
				Set:     res(nil, nil, f(700*MiB), f(700*MiB)),
				Reasons: []string{"memory limit 1024 MiB ≠ request 512 MiB"},
				Source:  SourceRightsizing,
			}},
		},
		{
			// web-a (first by name) has 256 = 256 MiB, but web-b and web-c (2 of 3) have
			// 512 ≠ 1024 MiB: the majority wins, so there is a finding.
			name: "disagreeing pods: the majority's values",
			containers: []Container{
				pod("web-c", QoSBurstable, res(nil, nil, f(512*MiB), f(1024*MiB))),
				pod("web-a", QoSBurstable, res(nil, nil, f(256*MiB), f(256*MiB))),
				pod("web-b", QoSBurstable, res(nil, nil, f(512*MiB), f(1024*MiB))),
			},
			sizing: map[Key]Sizing{webKey: {MemoryBytes: f(700 * MiB)}},
			want: []Finding{{
				Key: webKey, Pods: 3, QoSClass: QoSBurstable,
				Current: res(nil, nil, f(512*MiB), f(1024*MiB)),
				Set:     res(nil, nil, f(700*MiB), f(700*MiB)),
				Reasons: []string{
					"memory limit 1024 MiB ≠ request 512 MiB",
					"pods disagree: the values shown are those of 2 of 3 pods",
				},
				Source: SourceRightsizing,
			}},
		},
		{
			// 1 pod each: the tie goes to web-a, first by name (given second), 256 ≠ 2048
			// MiB; no sizing → max(256, 2048) = 2048 MiB. A duplicate row of web-b counts once.
			name: "disagreeing pods, tie: the first pod by name",
			containers: []Container{
				pod("web-b", QoSBurstable, res(nil, nil, f(512*MiB), f(1024*MiB))),
				pod("web-a", QoSBurstable, res(nil, nil, f(256*MiB), f(2048*MiB))),
				pod("web-b", QoSBurstable, res(nil, nil, f(512*MiB), f(1024*MiB))),
			},
			want: []Finding{{
				Key: webKey, Pods: 2, QoSClass: QoSBurstable,
				Current: res(nil, nil, f(256*MiB), f(2048*MiB)),
				Set:     res(nil, nil, f(2048*MiB), f(2048*MiB)),
				Reasons: []string{
					"memory limit 2048 MiB ≠ request 256 MiB",
					"no memory recommendation: request = limit = 2048 MiB, the larger of the current request and limit, so the container loses no memory",
					"pods disagree: the values shown are those of 1 of 2 pods",
				},
				Source: SourceCurrent,
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Findings(tc.containers, tc.sizing, tc.policy)
			if d := gocmp.Diff(tc.want, got); d != "" {
				t.Errorf("Findings (-want +got):\n%s", d)
			}
		})
	}
}

func TestFindingsSorted(t *testing.T) {
	leaky := res(nil, nil, f(1*GiB), nil) // memory limit missing → always a finding
	c := func(cluster, ns, kind, name, container string) Container {
		return Container{
			Cluster: cluster, Namespace: ns, Workload: model.WorkloadRef{Kind: kind, Name: name},
			Pod: name + "-1", Container: container, QoSClass: QoSBurstable, Current: leaky,
		}
	}
	in := []Container{
		c("c2", "a", "Deployment", "a", "a"),
		c("c1", "b", "Deployment", "a", "a"),
		c("c1", "a", "StatefulSet", "a", "a"),
		c("c1", "a", "Deployment", "b", "a"),
		c("c1", "a", "Deployment", "a", "b"),
		c("c1", "a", "Deployment", "a", "a"),
	}
	want := []Key{
		{Cluster: "c1", Namespace: "a", Workload: model.WorkloadRef{Kind: "Deployment", Name: "a"}, Container: "a"},
		{Cluster: "c1", Namespace: "a", Workload: model.WorkloadRef{Kind: "Deployment", Name: "a"}, Container: "b"},
		{Cluster: "c1", Namespace: "a", Workload: model.WorkloadRef{Kind: "Deployment", Name: "b"}, Container: "a"},
		{Cluster: "c1", Namespace: "a", Workload: model.WorkloadRef{Kind: "StatefulSet", Name: "a"}, Container: "a"},
		{Cluster: "c1", Namespace: "b", Workload: model.WorkloadRef{Kind: "Deployment", Name: "a"}, Container: "a"},
		{Cluster: "c2", Namespace: "a", Workload: model.WorkloadRef{Kind: "Deployment", Name: "a"}, Container: "a"},
	}
	var got []Key
	for _, fd := range Findings(in, nil, Policy{}) {
		got = append(got, fd.Key)
	}
	if d := gocmp.Diff(want, got); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
}

func TestOOMScoreAdj(t *testing.T) {
	tests := []struct {
		name     string
		qosClass string
		reqBytes float64
		capBytes float64
		want     int
	}{
		{"guaranteed", QoSGuaranteed, 2 * GiB, 16 * GiB, -997},
		{"best effort", QoSBestEffort, 0, 16 * GiB, 1000},
		// 1000 − 1000×2/16 = 1000 − 125 = 875
		{"burstable 2 GiB of 16 GiB", QoSBurstable, 2 * GiB, 16 * GiB, 875},
		// 1000×3/16 = 187.5, integer division → 187; 1000 − 187 = 813
		{"burstable 3 GiB of 16 GiB truncates", QoSBurstable, 3 * GiB, 16 * GiB, 813},
		// 1000×4/12 = 333.3 → 333; 1000 − 333 = 667
		{"burstable 4 GiB of 12 GiB", QoSBurstable, 4 * GiB, 12 * GiB, 667},
		// 1000×100 MiB / 16384 MiB = 100000/16384 = 6.1 → 6; 1000 − 6 = 994
		{"burstable 100 MiB of 16 GiB", QoSBurstable, 100 * MiB, 16 * GiB, 994},
		// 1000×1/16384 = 0.06 → 0; 1000 − 0 = 1000 → 999, below best effort
		{"burstable 1 MiB of 16 GiB", QoSBurstable, 1 * MiB, 16 * GiB, 999},
		// no request: 1000 − 0 = 1000 → 999
		{"burstable without request", QoSBurstable, 0, 16 * GiB, 999},
		// 1000 − 1000×16/16 = 0 < 3 → 3
		{"burstable requesting all memory", QoSBurstable, 16 * GiB, 16 * GiB, 3},
		// 1000 − 1000×20/16 = 1000 − 1250 = −250 < 3 → 3
		{"burstable requesting more than capacity", QoSBurstable, 20 * GiB, 16 * GiB, 3},
		// unknown class is Burstable: 875 as above
		{"unknown class", "", 2 * GiB, 16 * GiB, 875},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := oomScoreAdj(tc.qosClass, tc.reqBytes, tc.capBytes); got != tc.want {
				t.Errorf("oomScoreAdj(%q, %g, %g) = %d, want %d", tc.qosClass, tc.reqBytes, tc.capBytes, got, tc.want)
			}
		})
	}
}

// onNode is a container "app" of pod in namespace ns on node c1/node.
func onNode(node, ns, pod, qosClass string, memReq, memLim *float64, workingSet float64) Container {
	return Container{
		Cluster: "c1", Namespace: ns, Workload: model.WorkloadRef{Kind: "Pod", Name: pod},
		Pod: pod, Container: "app", Node: node, QoSClass: qosClass,
		Current: res(nil, nil, memReq, memLim), MemoryWorkingSetBytes: workingSet,
	}
}

func cand(c Container, adj int, score float64) KillCandidate {
	return KillCandidate{
		Namespace: c.Namespace, Workload: c.Workload, Pod: c.Pod, Container: c.Container,
		QoSClass: c.QoSClass, OOMScoreAdj: adj, Score: score, MemoryWorkingSetBytes: c.MemoryWorkingSetBytes,
	}
}

func TestNodes(t *testing.T) {
	// Node c1/n1: capacity 16 GiB, allocatable 15 GiB. Score = ws ÷ 16 GiB × 1000 + adj.
	be := onNode("n1", "a", "be", QoSBestEffort, nil, nil, 1*GiB)
	// adj 1000; score 1/16×1000 + 1000 = 62.5 + 1000 = 1062.5
	b1 := onNode("n1", "a", "b1", QoSBurstable, f(2*GiB), f(4*GiB), 1*GiB)
	// adj 1000 − 2000/16 = 875; score 62.5 + 875 = 937.5
	b2 := onNode("n1", "a", "b2", QoSBurstable, f(4*GiB), f(8*GiB), 2*GiB)
	// adj 1000 − 4000/16 = 750; score 125 + 750 = 875
	b3 := onNode("n1", "a", "b3", QoSBurstable, f(1*GiB), nil, 0.5*GiB)
	// adj 1000 − 1000/16 = 1000 − 62 (62.5 truncated) = 938; score 31.25 + 938 = 969.25
	g := onNode("n1", "a", "g", QoSGuaranteed, f(6*GiB), f(6*GiB), 5*GiB)
	// adj −997; score 5/16×1000 − 997 = 312.5 − 997 = −684.5
	//
	// Σ limits = 4 + 8 + 6 = 18 GiB (be and b3 have none: 2 unbounded);
	// Σ requests = 2 + 4 + 1 + 6 = 13 GiB; overcommit = 18 ÷ 15 = 1.2.

	// Node c1/n2: capacity = allocatable = 4 GiB. x uses 3 GiB, over its 1 GiB request:
	// adj 1000 − 1000/4 = 750; score 3/4×1000 + 750 = 1500. Overcommit 2 ÷ 4 = 0.5.
	x := onNode("n2", "b", "x", QoSBurstable, f(1*GiB), f(2*GiB), 3*GiB)

	// Node c2/n1 (same name, other cluster): y is best effort, score 0 + 1000; no limits,
	// overcommit 0.
	y := onNode("n1", "b", "y", QoSBestEffort, nil, nil, 0)
	y.Cluster = "c2"

	// Node c1/n3 with unknown memory (0): overcommit 0, no kill order.
	z := onNode("n3", "b", "z", QoSBurstable, f(1*GiB), f(1*GiB), 1*GiB)

	// On a node not listed: left out.
	lost := onNode("n9", "b", "lost", QoSBestEffort, nil, nil, 1*GiB)

	containers := []Container{g, b2, x, be, y, b1, z, lost, b3}
	nodes := []Node{
		{Cluster: "c2", Name: "n1", MemoryAllocatableBytes: 2 * GiB, MemoryCapacityBytes: 2 * GiB},
		{Cluster: "c1", Name: "n3"},
		{Cluster: "c1", Name: "n2", MemoryAllocatableBytes: 4 * GiB, MemoryCapacityBytes: 4 * GiB},
		{Cluster: "c1", Name: "n1", MemoryAllocatableBytes: 15 * GiB, MemoryCapacityBytes: 16 * GiB},
	}
	// Sorted by overcommit descending (1.2, 0.5, 0, 0), then name: c2/n1 before c1/n3
	// (by name, not by cluster).
	want := []NodeReport{
		{
			Cluster: "c1", Node: "n1", MemoryAllocatableBytes: 15 * GiB, MemoryCapacityBytes: 16 * GiB,
			Containers: 5, MemoryLimitsBytes: 18 * GiB, UnboundedContainers: 2, MemoryRequestsBytes: 13 * GiB,
			Overcommit: 1.2,
			// Best effort first, burstable by score, guaranteed last.
			KillOrder: []KillCandidate{
				cand(be, 1000, 1062.5), cand(b3, 938, 969.25), cand(b1, 875, 937.5),
				cand(b2, 750, 875), cand(g, -997, -684.5),
			},
		},
		{
			Cluster: "c1", Node: "n2", MemoryAllocatableBytes: 4 * GiB, MemoryCapacityBytes: 4 * GiB,
			Containers: 1, MemoryLimitsBytes: 2 * GiB, MemoryRequestsBytes: 1 * GiB,
			Overcommit: 0.5,
			KillOrder:  []KillCandidate{cand(x, 750, 1500)},
		},
		{
			Cluster: "c2", Node: "n1", MemoryAllocatableBytes: 2 * GiB, MemoryCapacityBytes: 2 * GiB,
			Containers: 1, UnboundedContainers: 1,
			KillOrder: []KillCandidate{cand(y, 1000, 1000)},
		},
		{
			Cluster: "c1", Node: "n3",
			Containers: 1, MemoryLimitsBytes: 1 * GiB, MemoryRequestsBytes: 1 * GiB,
		},
	}
	if d := gocmp.Diff(want, Nodes(containers, nodes, 0)); d != "" {
		t.Errorf("Nodes (-want +got):\n%s", d)
	}
}

func TestNodesKillOrderTiesAndTopN(t *testing.T) {
	// Capacity 16 GiB. Best effort with 1 GiB: 1/16×1000 + 1000 = 1062.5 each (a tie).
	p := onNode("n1", "b", "p-1", QoSBestEffort, nil, nil, 1*GiB)
	q := onNode("n1", "a", "q-1", QoSBestEffort, nil, nil, 1*GiB)
	r := q
	r.Container = "aaa" // same pod as q, container "aaa" < "app"
	tt := onNode("n1", "a", "a-0", QoSBestEffort, nil, nil, 1*GiB)
	// Burstable over its request: adj 1000 − 2000/16 = 875; 4/16×1000 + 875 = 250 + 875 =
	// 1125, above every best-effort container.
	s := onNode("n1", "z", "s-1", QoSBurstable, f(2*GiB), nil, 4*GiB)

	nodes := []Node{{Cluster: "c1", Name: "n1", MemoryAllocatableBytes: 16 * GiB, MemoryCapacityBytes: 16 * GiB}}
	got := Nodes([]Container{p, q, r, tt, s}, nodes, 4)
	// Ties by namespace (a before b), pod (a-0 before q-1), container (aaa before app);
	// top 4 drops p (namespace b).
	want := []KillCandidate{cand(s, 875, 1125), cand(tt, 1000, 1062.5), cand(r, 1000, 1062.5), cand(q, 1000, 1062.5)}
	if len(got) != 1 {
		t.Fatalf("got %d node reports, want 1", len(got))
	}
	if d := gocmp.Diff(want, got[0].KillOrder); d != "" {
		t.Errorf("KillOrder (-want +got):\n%s", d)
	}
	if got[0].Containers != 5 {
		t.Errorf("Containers = %d, want 5 (top N trims only the kill order)", got[0].Containers)
	}
}
