package pricing

import (
	"math"
	"testing"

	"github.com/tally-finops/tally/internal/model"
)

// exampleBook is the book of the package's documentation, plus a GPU rule and two rules that
// overlap without either containing the other, to show that the first match wins.
const exampleBook = `currency: USD
defaults: {cpuCoreHour: 0.031611, ramGiBHour: 0.004237, gpuHour: 0.95}
nodes:                       # first rule whose labels all match wins
  - match: {node.kubernetes.io/instance-type: m5.xlarge, karpenter.sh/capacity-type: spot}
    hourly: 0.0704
  - match: {node.kubernetes.io/instance-type: m5.xlarge}
    hourly: 0.192
  - match: {node.kubernetes.io/instance-type: g4dn.xlarge}
    hourly: 0.526
  - match: {karpenter.sh/nodepool: reserved}
    hourly: 0.107
  - match: {node.kubernetes.io/instance-type: c5.xlarge, karpenter.sh/capacity-type: spot}
    hourly: 0.0646
`

const (
	instanceType = "node.kubernetes.io/instance-type"
	capacityType = "karpenter.sh/capacity-type"
	nodePool     = "karpenter.sh/nodepool"
	gib          = 1 << 30
)

// node returns a node with the given capacity. Its allocatable resources are deliberately
// smaller, so that a price computed from them instead of the capacity would be caught.
func node(name string, cores float64, memGiB uint64, gpus float64, labels map[string]string) model.Node {
	return model.Node{
		Cluster:                "prod",
		Name:                   name,
		InstanceType:           labels[instanceType],
		CapacityType:           labels[capacityType],
		CPUCapacityCores:       cores,
		CPUAllocatableCores:    cores * 0.9,
		MemoryCapacityBytes:    memGiB * gib,
		MemoryAllocatableBytes: memGiB * gib * 9 / 10,
		GPUCapacity:            gpus,
		GPUAllocatable:         gpus,
		Labels:                 labels,
	}
}

func TestPrice(t *testing.T) {
	book, err := Parse("example.yaml", []byte(exampleBook))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		node model.Node
		want model.NodePrice // Cluster, Node, InstanceType, CapacityType, Currency are checked too
	}{
		{
			// Rule 1, P = 0.0704.
			// Weights: cpu 4×0.031611 = 0.126444, ram 16×0.004237 = 0.067792, total 0.194236.
			// CPU: 0.0704×0.126444 = 0.0089016576; /0.194236 = 0.045829082147490681439…; /4
			//      = 0.011457270536872670359768529006
			// RAM: 0.0704×0.067792 = 0.0047725568; /0.194236 = 0.024570917852509318560…; /16
			//      = 0.0015356823657818324100578677485
			name: "m5.xlarge spot: first rule",
			node: node("spot-1", 4, 16, 0, map[string]string{instanceType: "m5.xlarge", capacityType: "spot"}),
			want: model.NodePrice{HourlyCost: 0.0704, CPUCoreHourCost: 0.011457270536872670359768529006,
				RAMGiBHourCost: 0.0015356823657818324100578677485, Source: "rule 1 (line 4)"},
		},
		{
			// Rule 2, P = 0.192; same weights.
			// CPU: 0.192×0.126444 = 0.024277248; /0.194236 = 0.124988405856792767561…; /4
			//      = 0.031247101464198191890277806380
			// RAM: 0.192×0.067792 = 0.013016064; /0.194236 = 0.067011594143207232438…; /16
			//      = 0.0041882246339504520274305484050
			// Check: 0.124988405856792767561… + 0.067011594143207232438… = 0.192
			name: "m5.xlarge on demand: second rule",
			node: node("od-1", 4, 16, 0, map[string]string{instanceType: "m5.xlarge", capacityType: "on-demand"}),
			want: model.NodePrice{HourlyCost: 0.192, CPUCoreHourCost: 0.031247101464198191890277806380,
				RAMGiBHourCost: 0.0041882246339504520274305484050, Source: "rule 2 (line 6)"},
		},
		{
			// No rule: P = 4×0.031611 + 16×0.004237 = 0.126444 + 0.067792 = 0.194236, and
			// the rates are the default rates: 0.194236×0.126444/0.194236/4 = 0.031611.
			name: "unmatched: defaults",
			node: node("m6i-1", 4, 16, 0, map[string]string{instanceType: "m6i.xlarge"}),
			want: model.NodePrice{HourlyCost: 0.194236, CPUCoreHourCost: 0.031611,
				RAMGiBHourCost: 0.004237, Source: "defaults"},
		},
		{
			// Rule 3, P = 0.526, split three ways.
			// Weights: cpu 0.126444, ram 0.067792, gpu 1×0.95 = 0.95, total 1.144236.
			// CPU: 0.526×0.126444 = 0.066509544; /1.144236 = 0.058125722316025714974…; /4
			//      = 0.014531430579006428743720700974
			// RAM: 0.526×0.067792 = 0.035658592; /1.144236 = 0.031163669033311309904…; /16
			//      = 0.0019477293145819568690375062487
			// GPU: 0.526×0.95 = 0.4997; /1.144236 = 0.43671060865066297512051709612
			name: "g4dn.xlarge: three-way split",
			node: node("gpu-1", 4, 16, 1, map[string]string{instanceType: "g4dn.xlarge"}),
			want: model.NodePrice{HourlyCost: 0.526, CPUCoreHourCost: 0.014531430579006428743720700974,
				RAMGiBHourCost: 0.0019477293145819568690375062487, GPUHourCost: 0.43671060865066297512051709612,
				Source: "rule 3 (line 8)"},
		},
		{
			// Matches rule 4 (nodepool) and rule 5 (c5.xlarge spot): rule 4 comes first.
			// c5.xlarge: 4 cores, 8 GiB. Weights: cpu 0.126444, ram 8×0.004237 = 0.033896,
			// total 0.16034.
			// CPU: 0.107×0.126444 = 0.013529508; /0.16034 = 0.084380117250841960833…; /4
			//      = 0.021095029312710490208307346888
			// RAM: 0.107×0.033896 = 0.003626872; /0.16034 = 0.022619882749158039166…; /8
			//      = 0.0028274853436447548958463265561
			name: "two rules match: the first wins",
			node: node("c5-1", 4, 8, 0, map[string]string{instanceType: "c5.xlarge", capacityType: "spot", nodePool: "reserved"}),
			want: model.NodePrice{HourlyCost: 0.107, CPUCoreHourCost: 0.021095029312710490208307346888,
				RAMGiBHourCost: 0.0028274853436447548958463265561, Source: "rule 4 (line 10)"},
		},
		{
			name: "no labels: defaults",
			node: node("bare", 2, 8, 0, nil),
			// P = 2×0.031611 + 8×0.004237 = 0.063222 + 0.033896 = 0.097118
			want: model.NodePrice{HourlyCost: 0.097118, CPUCoreHourCost: 0.031611, RAMGiBHourCost: 0.004237, Source: "defaults"},
		},
		{
			name: "zero capacity, no rule: free, no NaN",
			node: node("empty", 0, 0, 0, map[string]string{instanceType: "unknown"}),
			want: model.NodePrice{Source: "defaults"},
		},
		{
			name: "zero capacity, a rule: its price, no unit rates",
			node: node("empty", 0, 0, 0, map[string]string{instanceType: "m5.xlarge"}),
			want: model.NodePrice{HourlyCost: 0.192, Source: "rule 2 (line 6)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := book.Price(tt.node)
			n := tt.node
			if got.Cluster != n.Cluster || got.Node != n.Name || got.InstanceType != n.InstanceType ||
				got.CapacityType != n.CapacityType || got.Currency != "USD" || !got.Hour.IsZero() {
				t.Errorf("identity = %q %q %q %q %q %v, want %q %q %q %q USD and no hour",
					got.Cluster, got.Node, got.InstanceType, got.CapacityType, got.Currency, got.Hour,
					n.Cluster, n.Name, n.InstanceType, n.CapacityType)
			}
			if got.Source != tt.want.Source {
				t.Errorf("Source = %q, want %q", got.Source, tt.want.Source)
			}
			near(t, "HourlyCost", got.HourlyCost, tt.want.HourlyCost)
			near(t, "CPUCoreHourCost", got.CPUCoreHourCost, tt.want.CPUCoreHourCost)
			near(t, "RAMGiBHourCost", got.RAMGiBHourCost, tt.want.RAMGiBHourCost)
			near(t, "GPUHourCost", got.GPUHourCost, tt.want.GPUHourCost)
		})
	}
}

func TestPriceFirstMatchWins(t *testing.T) {
	spot := Rule{Line: 10, Match: map[string]string{capacityType: "spot"}, Hourly: 0.05}
	large := Rule{Line: 20, Match: map[string]string{instanceType: "m5.large"}, Hourly: 0.096}
	defaults := Rates{CPUCoreHour: 0.031611, RAMGiBHour: 0.004237, GPUHour: 0.95}
	n := node("n", 2, 8, 0, map[string]string{instanceType: "m5.large", capacityType: "spot"})
	tests := []struct {
		name       string
		rules      []Rule
		wantHourly float64
		wantSource string
	}{
		{"spot rule first", []Rule{spot, large}, 0.05, "rule 1 (line 10)"},
		{"instance-type rule first", []Rule{large, spot}, 0.096, "rule 1 (line 20)"},
		{"only the second matches", []Rule{{Line: 5, Match: map[string]string{capacityType: "on-demand"}, Hourly: 1}, large}, 0.096, "rule 2 (line 20)"},
		{"all labels must match", []Rule{{Line: 5, Match: map[string]string{instanceType: "m5.large", capacityType: "on-demand"}, Hourly: 1}}, 0.097118, "defaults"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := (&Book{Currency: "EUR", Defaults: defaults, Nodes: tt.rules}).Price(n)
			if got.HourlyCost != tt.wantHourly && math.Abs(got.HourlyCost-tt.wantHourly) > 1e-12*tt.wantHourly {
				t.Errorf("HourlyCost = %v, want %v", got.HourlyCost, tt.wantHourly)
			}
			if got.Source != tt.wantSource || got.Currency != "EUR" {
				t.Errorf("Source, Currency = %q, %q, want %q, EUR", got.Source, got.Currency, tt.wantSource)
			}
		})
	}
}

// TestPriceSplitsExactly checks, for every rule of the example book and node shapes with
// and without GPUs, that the unit rates add back up to the node's price.
func TestPriceSplitsExactly(t *testing.T) {
	book, err := Load("testdata/prices.yaml")
	if err != nil {
		t.Fatal(err)
	}
	shapes := []struct{ cores, gib, gpus float64 }{{2, 8, 0}, {4, 16, 1}, {3.5, 15.3, 0}, {96, 768, 8}, {0, 4, 0}}
	for i, r := range book.Nodes {
		for _, s := range shapes {
			n := model.Node{CPUCapacityCores: s.cores, MemoryCapacityBytes: uint64(s.gib * gib), GPUCapacity: s.gpus, Labels: r.Match}
			p := book.Price(n)
			if p.Source == "defaults" {
				t.Fatalf("rule %d: node with its labels priced from defaults", i+1)
			}
			memGiB := float64(n.MemoryCapacityBytes) / gib
			sum := s.cores*p.CPUCoreHourCost + memGiB*p.RAMGiBHourCost + s.gpus*p.GPUHourCost
			if math.Abs(sum-p.HourlyCost) > 1e-12*p.HourlyCost {
				t.Errorf("rule %d, shape %v: rates add up to %v, want %v", i+1, s, sum, p.HourlyCost)
			}
		}
	}
}

// near fails the test unless got is within 1e-12 of want, relatively (exactly, for 0).
func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > 1e-12*math.Abs(want) {
		t.Errorf("%s = %.17g, want %.17g", what, got, want)
	}
}
