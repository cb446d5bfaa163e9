package allocation

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// generated is a deterministic random cluster: clusters × hours × nodes of five kinds
// (on-demand, spot, GPU, launched mid-hour, unpriced), each filled with containers whose
// charged CPU and memory stay within the node's capacity for the minutes it existed, so that
// the node's price is fully accounted for by its containers and its idle row.
func generated(clusters, hours, nodesPerKind int, seed uint64) ([]model.ContainerHour, []model.NodeHour) {
	rng := rand.New(rand.NewPCG(seed, 42))
	namespaces := []string{"shop", "jobs", "kube-system", "ml", "data", "monitoring"}
	teams := []string{"payments", "checkout", "research", ""}
	apps := []string{"web", "api", "worker", ""}
	var containers []model.ContainerHour
	var nodes []model.NodeHour
	for ci := range clusters {
		cluster := fmt.Sprintf("c%d", ci)
		for h := range hours {
			hour := h0.Add(time.Duration(h) * time.Hour)
			for k := range nodesPerKind {
				kinds := []model.NodeHour{
					priced(cluster, fmt.Sprintf("od-%d", k), 4, 16, 0, 0.04, 0.005, 0),
					priced(cluster, fmt.Sprintf("spot-%d", k), 8, 32, 0, 0.012, 0.0015, 0),
					priced(cluster, fmt.Sprintf("gpu-%d", k), 8, 32, 2, 0.04, 0.005, 0.5),
					priced(cluster, fmt.Sprintf("new-%d", k), 2, 8, 0, 0.04, 0.005, 0),
					{Cluster: cluster, Node: fmt.Sprintf("unpriced-%d", k), Minutes: 60, CPUCores: 2, RAMBytes: 8 * gib},
				}
				kinds[3].Minutes = 1 + rng.IntN(59)
				for _, n := range kinds {
					n.Hour, n.Price.Hour = hour, hour
					nodes = append(nodes, n)
					cpuLeft, ramLeft := n.CPUCores*float64(n.Minutes), n.RAMBytes*float64(n.Minutes)
					gpusLeft := n.GPUs
					for i := 0; ; i++ {
						minutes := 1 + rng.IntN(n.Minutes)
						reqCPU := []float64{0, 0.1, 0.25, 0.5, 1}[rng.IntN(5)]
						reqRAM := float64([]int{0, 256, 512, 1024, 2048}[rng.IntN(5)]) * (1 << 20)
						// Charged is the request plus what bursts above it; usage a part of charged.
						cpu := (reqCPU + rng.Float64()*0.3) * float64(minutes)
						ram := (reqRAM + rng.Float64()*512*(1<<20)) * float64(minutes)
						if cpu > cpuLeft || ram > ramLeft {
							break
						}
						cpuLeft, ramLeft = cpuLeft-cpu, ramLeft-ram
						ns := namespaces[rng.IntN(len(namespaces))]
						c := model.ContainerHour{Cluster: cluster, Node: n.Node, Namespace: ns,
							Pod: fmt.Sprintf("%s-%d", n.Node, i), Container: "app",
							Workload: model.WorkloadRef{Kind: "Deployment", Name: ns + "-" + apps[rng.IntN(len(apps))]},
							App:      apps[rng.IntN(len(apps))], Hour: hour, RunningMinutes: minutes,
							CPURequestCores: reqCPU, RAMRequestBytes: reqRAM,
							CPUChargedCoreMinutes: cpu, CPUUsageCoreMinutes: cpu * rng.Float64(),
							RAMChargedByteMinutes: ram, RAMUsageByteMinutes: ram * rng.Float64()}
						if team := teams[rng.IntN(len(teams))]; team != "" {
							c.Labels = map[string]string{"team": team}
						}
						if gpusLeft >= 1 && rng.IntN(2) == 0 {
							c.GPURequest, gpusLeft = 1, gpusLeft-1
						}
						containers = append(containers, c)
					}
				}
			}
		}
	}
	return containers, nodes
}

// Σ over groups + idle = the nodes' cost for the minutes they existed (+ the overhead), for
// every combination of options; and the idle and shared costs handed out equal the idle and
// shared costs taken in.
func TestConservation(t *testing.T) {
	containers, nodes := generated(2, 3, 2, 1)
	rows, warnings := Hourly(containers, nodes)

	// The nodes' cost from their prices alone: HourlyCost × minutes ÷ 60.
	nodeCost, unpriced := 0.0, 0
	for _, n := range nodes {
		if n.Priced {
			nodeCost += n.Price.HourlyCost * float64(n.Minutes) / 60
		} else {
			unpriced++
		}
	}
	if len(warnings) != unpriced {
		t.Errorf("%d warnings for %d unpriced node-hours: %q", len(warnings), unpriced, warnings)
	}
	var rowCost, idleCost, kubeSystemCost float64
	for _, r := range rows {
		rowCost += r.TotalCost()
		switch {
		case r.Idle:
			idleCost += r.TotalCost()
		case r.Namespace == "kube-system":
			kubeSystemCost += r.TotalCost()
		}
	}
	near(t, "Σ hourly rows", rowCost, nodeCost)
	if idleCost <= 0 || kubeSystemCost <= 0 || idleCost >= nodeCost {
		t.Fatalf("degenerate cluster: idle %g, kube-system %g of %g", idleCost, kubeSystemCost, nodeCost)
	}

	keySets := [][]string{{"namespace"}, {"cluster", "node"}, {"label:team"}, {"namespace", "workload"}, {"app"}, {"cluster"}, {"cluster", "label:team"}}
	namespaceLabels := []model.Namespace{
		{Cluster: "c0", Name: "jobs", Labels: map[string]string{"team": "data"}},
		{Cluster: "c1", Name: "jobs", Labels: map[string]string{"team": "batch"}},
		{Cluster: "c0", Name: "kube-system", Labels: map[string]string{"team": "platform"}},
		{Cluster: "c1", Name: "ml", Labels: map[string]string{"env": "research"}},
	}
	for _, by := range keySets {
		for _, idle := range []IdleMode{IdleSeparate, IdleShare, IdleHide} {
			for _, share := range []ShareMode{ShareWeighted, ShareEven} {
				for _, sharedNS := range [][]string{nil, {"kube-system"}, {"kube-system", "monitoring"}} {
					for _, monthly := range []float64{0, 73} {
						opts := Options{By: by, Idle: idle, Share: share, ShareNamespaces: sharedNS,
							ShareMonthly: monthly, WindowHours: 3}
						name := fmt.Sprintf("%s/%s/%s/%s/%g", strings.Join(by, ","), idle, share, strings.Join(sharedNS, "+"), monthly)
						checkConservation(t, name, rows, opts, nodeCost, idleCost)
						if NeedsNamespaceLabels(by) { // and with pods falling back to namespace labels
							opts.Namespaces = namespaceLabels
							checkConservation(t, name+"/namespace-labels", rows, opts, nodeCost, idleCost)
						}
					}
				}
			}
		}
	}
}

func checkConservation(t *testing.T, name string, rows []model.Allocation, opts Options, nodeCost, idleCost float64) {
	t.Helper()
	totals, err := Aggregate(rows, opts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	overhead := opts.ShareMonthly * opts.WindowHours / 730
	want := nodeCost + overhead
	if opts.Idle == IdleHide {
		want -= idleCost
	}
	var sum, idleOut, sharedOut float64
	for _, tt := range totals {
		sum += tt.TotalCost
		sharedOut += tt.SharedCost
		idleOut += tt.IdleCost
		if tt.Name == IdleName {
			idleOut += tt.CPUCost + tt.RAMCost + tt.GPUCost
		}
		for _, ns := range opts.ShareNamespaces {
			if tt.Keys["namespace"] == ns {
				t.Errorf("%s: shared namespace %s has a total of its own", name, ns)
			}
		}
	}
	if !closeTo(sum, want) {
		t.Errorf("%s: Σ totals = %.12g, want %.12g", name, sum, want)
	}
	// Idle and shared cost handed out: the idle rows' (unless hidden), the shared namespaces'
	// and the overhead. Shared namespaces pass their part of a shared idle on as shared cost.
	if opts.Idle == IdleHide {
		idleCost = 0
	}
	sharedCost := overhead
	for _, r := range rows {
		if !r.Idle && slices.Contains(opts.ShareNamespaces, r.Namespace) {
			sharedCost += r.TotalCost()
		}
	}
	if len(opts.ShareNamespaces) == 0 && !closeTo(idleOut, idleCost) {
		t.Errorf("%s: idle handed out %.12g, want %.12g", name, idleOut, idleCost)
	}
	if opts.Idle != IdleShare && !closeTo(sharedOut, sharedCost) {
		t.Errorf("%s: shared handed out %.12g, want %.12g", name, sharedOut, sharedCost)
	}
	if !closeTo(idleOut+sharedOut, idleCost+sharedCost) {
		t.Errorf("%s: idle and shared handed out %.12g, want %.12g", name, idleOut+sharedOut, idleCost+sharedCost)
	}
}
