package allocation

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/tally-finops/tally/internal/model"
)

// fixture is one hour of node n1 (4 cores, 16 GiB at $0.04/core-h and $0.005/GiB-h: $0.24)
// as Hourly would return it, written by hand:
//
//	row                      core-h  GiB-h  CPU $  RAM $  requested (core-h, GiB-h)  used
//	shop/web-1  team=payments   1      2    0.04   0.01   1,   2                      0.5, 1
//	shop/api-1  team=checkout   0.5    1    0.02   0.005  0.5, 1                      0.5, 0.5
//	jobs/report-1 (BestEffort)  0.5    1    0.02   0.005  0,   0                      0.5, 1
//	kube-system/kube-proxy-a    0.5    2    0.02   0.01   0.5, 2                      0.1, 1
//	idle                        1.5   10    0.06   0.05
//
// Idle: CPU 4 − 2.5 = 1.5 core-h, 0.16 − 0.10 = $0.06; RAM 16 − 6 = 10 GiB-h,
// 0.08 − 0.03 = $0.05. By namespace: shop $0.075 (CPU 0.06, RAM 0.015), kube-system $0.03,
// jobs $0.025, idle $0.11; together the node's $0.24.
func fixture() []model.Allocation {
	row := func(ns string, w model.WorkloadRef, app, pod, team string, cores, ramGiB, reqCores, reqGiB, useCores, useGiB float64) model.Allocation {
		a := model.Allocation{Cluster: "prod", Hour: h0, Node: "n1", Namespace: ns, Workload: w, App: app, Pod: pod,
			Container: "app", RunHours: 1, CPUCoreHours: cores, CPURequestCoreHours: reqCores, CPUUsageCoreHours: useCores,
			RAMByteHours: ramGiB * gib, RAMRequestByteHours: reqGiB * gib, RAMUsageByteHours: useGiB * gib,
			CPUCost: cores * 0.04, RAMCost: ramGiB * 0.005}
		if team != "" {
			a.Labels = map[string]string{"team": team}
		}
		return a
	}
	return []model.Allocation{
		row("shop", web, "web", "web-1", "payments", 1, 2, 1, 2, 0.5, 1),
		row("shop", api, "api", "api-1", "checkout", 0.5, 1, 0.5, 1, 0.5, 0.5),
		row("jobs", report, "", "report-1", "", 0.5, 1, 0, 0, 0.5, 1),
		row("kube-system", kubeProxy, "kube-proxy", "kube-proxy-a", "", 0.5, 2, 0.5, 2, 0.1, 1),
		{Cluster: "prod", Hour: h0, Node: "n1", Namespace: IdleName, Idle: true, RunHours: 1,
			CPUCoreHours: 1.5, RAMByteHours: 10 * gib, CPUCost: 0.06, RAMCost: 0.05},
	}
}

func TestAggregate(t *testing.T) {
	ks := []string{"kube-system"}
	idle := costs{IdleName, 0.06, 0.05, 0, 0, 0, 0.11}
	tests := []struct {
		name string
		opts Options
		want []costs // name, CPU, RAM, GPU, shared, idle, total
	}{{
		name: "namespace, idle separate",
		opts: Options{By: []string{"namespace"}, Idle: IdleSeparate},
		want: []costs{idle,
			{"shop", 0.06, 0.015, 0, 0, 0, 0.075},
			{"kube-system", 0.02, 0.01, 0, 0, 0, 0.03},
			{"jobs", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name: "idle mode defaults to separate",
		opts: Options{By: []string{"namespace"}},
		want: []costs{idle,
			{"shop", 0.06, 0.015, 0, 0, 0, 0.075},
			{"kube-system", 0.02, 0.01, 0, 0, 0, 0.03},
			{"jobs", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		// Idle CPU $0.06 over CPU costs shop 0.06, kube-system 0.02, jobs 0.02 (of 0.10);
		// idle RAM $0.05 over RAM costs 0.015, 0.01, 0.005 (of 0.03).
		// shop 0.06×0.6 + 0.05×0.5 = 0.036 + 0.025 = 0.061; kube-system 0.012 + 0.05/3;
		// jobs 0.012 + 0.05/6. Totals add up to 0.24.
		name: "namespace, idle shared per resource",
		opts: Options{By: []string{"namespace"}, Idle: IdleShare},
		want: []costs{
			{"shop", 0.06, 0.015, 0, 0, 0.061, 0.075 + 0.061},
			{"kube-system", 0.02, 0.01, 0, 0, 0.012 + 0.05/3, 0.03 + 0.012 + 0.05/3},
			{"jobs", 0.02, 0.005, 0, 0, 0.012 + 0.05/6, 0.025 + 0.012 + 0.05/6}},
	}, {
		name: "namespace, idle hidden",
		opts: Options{By: []string{"namespace"}, Idle: IdleHide},
		want: []costs{
			{"shop", 0.06, 0.015, 0, 0, 0, 0.075},
			{"kube-system", 0.02, 0.01, 0, 0, 0, 0.03},
			{"jobs", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name: "label with rows missing it",
		opts: Options{By: []string{"label:team"}},
		want: []costs{idle,
			{UnallocatedName, 0.04, 0.015, 0, 0, 0, 0.055}, // report-1 0.025 + kube-proxy-a 0.03
			{"payments", 0.04, 0.01, 0, 0, 0, 0.05},
			{"checkout", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name: "namespace and label combined; equal totals ordered by name",
		opts: Options{By: []string{"namespace", "label:team"}},
		want: []costs{idle,
			{"shop/payments", 0.04, 0.01, 0, 0, 0, 0.05},
			{"kube-system/" + UnallocatedName, 0.02, 0.01, 0, 0, 0, 0.03},
			{"jobs/" + UnallocatedName, 0.02, 0.005, 0, 0, 0, 0.025},
			{"shop/checkout", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name: "workload as kind/name",
		opts: Options{By: []string{"workload"}},
		want: []costs{idle,
			{"Deployment/web", 0.04, 0.01, 0, 0, 0, 0.05},
			{"DaemonSet/kube-proxy", 0.02, 0.01, 0, 0, 0, 0.03},
			{"CronJob/report", 0.02, 0.005, 0, 0, 0, 0.025},
			{"Deployment/api", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name: "app; rows without one are unallocated",
		opts: Options{By: []string{"app"}},
		want: []costs{idle,
			{"web", 0.04, 0.01, 0, 0, 0, 0.05},
			{"kube-proxy", 0.02, 0.01, 0, 0, 0, 0.03},
			{UnallocatedName, 0.02, 0.005, 0, 0, 0, 0.025},
			{"api", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name: "cluster and node",
		opts: Options{By: []string{"cluster", "node"}},
		want: []costs{{"prod/n1", 0.10, 0.03, 0, 0, 0, 0.13}, idle},
	}, {
		// kube-system's $0.03 over shop ($0.075) and jobs ($0.025) by cost: 0.03×0.75 = 0.0225
		// and 0.03×0.25 = 0.0075.
		name: "shared namespace, weighted",
		opts: Options{By: []string{"namespace"}, ShareNamespaces: ks},
		want: []costs{idle,
			{"shop", 0.06, 0.015, 0, 0.0225, 0, 0.0975},
			{"jobs", 0.02, 0.005, 0, 0.0075, 0, 0.0325}},
	}, {
		name: "shared namespace, even",
		opts: Options{By: []string{"namespace"}, ShareNamespaces: ks, Share: ShareEven},
		want: []costs{idle,
			{"shop", 0.06, 0.015, 0, 0.015, 0, 0.09},
			{"jobs", 0.02, 0.005, 0, 0.015, 0, 0.04}},
	}, {
		// kube-system takes its idle share first (0.012 + 0.05/3, see above), then its cost and
		// that idle, 0.03 + 0.012 + 0.05/3 = 0.0586667, go to shop and jobs by cost (0.75, 0.25).
		name: "shared namespace with idle shared",
		opts: Options{By: []string{"namespace"}, ShareNamespaces: ks, Idle: IdleShare},
		want: []costs{
			{"shop", 0.06, 0.015, 0, 0.75 * (0.042 + 0.05/3), 0.061, 0.075 + 0.061 + 0.75*(0.042+0.05/3)},
			{"jobs", 0.02, 0.005, 0, 0.25 * (0.042 + 0.05/3), 0.012 + 0.05/6, 0.025 + 0.012 + 0.05/6 + 0.25*(0.042+0.05/3)}},
	}, {
		name: "shared namespace with idle shared, even",
		opts: Options{By: []string{"namespace"}, ShareNamespaces: ks, Idle: IdleShare, Share: ShareEven},
		want: []costs{
			{"shop", 0.06, 0.015, 0, (0.042 + 0.05/3) / 2, 0.061, 0.075 + 0.061 + (0.042+0.05/3)/2},
			{"jobs", 0.02, 0.005, 0, (0.042 + 0.05/3) / 2, 0.012 + 0.05/6, 0.025 + 0.012 + 0.05/6 + (0.042+0.05/3)/2}},
	}, {
		// $73 a month (a managed control plane at $0.10/h) over a 1-hour window: 73×1/730 = $0.10,
		// by cost 0.075 : 0.03 : 0.025 (of 0.13).
		name: "monthly overhead, weighted",
		opts: Options{By: []string{"namespace"}, ShareMonthly: 73, WindowHours: 1},
		want: []costs{
			{"shop", 0.06, 0.015, 0, 0.1 * 0.075 / 0.13, 0, 0.075 + 0.1*0.075/0.13}, // 0.1327 > idle's 0.11
			idle,
			{"kube-system", 0.02, 0.01, 0, 0.1 * 0.03 / 0.13, 0, 0.03 + 0.1*0.03/0.13},
			{"jobs", 0.02, 0.005, 0, 0.1 * 0.025 / 0.13, 0, 0.025 + 0.1*0.025/0.13}},
	}, {
		name: "monthly overhead, even, idle hidden",
		opts: Options{By: []string{"namespace"}, ShareMonthly: 73, WindowHours: 1, Share: ShareEven, Idle: IdleHide},
		want: []costs{
			{"shop", 0.06, 0.015, 0, 0.1 / 3, 0, 0.075 + 0.1/3},
			{"kube-system", 0.02, 0.01, 0, 0.1 / 3, 0, 0.03 + 0.1/3},
			{"jobs", 0.02, 0.005, 0, 0.1 / 3, 0, 0.025 + 0.1/3}},
	}, {
		// Over 30 days: 73 × 720/730 = $72.
		name: "monthly overhead over 30 days",
		opts: Options{By: []string{"cluster"}, ShareMonthly: 73, WindowHours: 720},
		want: []costs{{"prod", 0.10, 0.03, 0, 72, 0, 72.13}, idle},
	}, {
		// kube-system's $0.03: 0.0225 and 0.0075 as above; overhead $0.10 by 0.075 : 0.025.
		name: "shared namespace and monthly overhead, weighted",
		opts: Options{By: []string{"namespace"}, ShareNamespaces: ks, ShareMonthly: 73, WindowHours: 1},
		want: []costs{
			{"shop", 0.06, 0.015, 0, 0.0225 + 0.075, 0, 0.1725},
			idle,
			{"jobs", 0.02, 0.005, 0, 0.0075 + 0.025, 0, 0.0575}},
	}, {
		name: "shared namespace and monthly overhead, even",
		opts: Options{By: []string{"namespace"}, ShareNamespaces: ks, ShareMonthly: 73, WindowHours: 1, Share: ShareEven},
		want: []costs{
			{"shop", 0.06, 0.015, 0, 0.015 + 0.05, 0, 0.14},
			idle,
			{"jobs", 0.02, 0.005, 0, 0.015 + 0.05, 0, 0.09}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Aggregate(fixture(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkCosts(t, got, tt.want)
			// Nothing is lost: the node's $0.24 (without idle when hidden) plus the overhead.
			want := 0.24 + tt.opts.ShareMonthly*tt.opts.WindowHours/730
			if tt.opts.Idle == IdleHide {
				want -= 0.11
			}
			near(t, "Σ total cost", sumTotalCost(got), want)
		})
	}
}

// Efficiency is usage ÷ request over the group; waste is the requested-but-unused part of
// each row at the row's unit rate.
func TestAggregateEfficiencyAndWaste(t *testing.T) {
	got, err := Aggregate(fixture(), Options{By: []string{"namespace"}, Idle: IdleHide})
	if err != nil {
		t.Fatal(err)
	}
	want := []Total{{
		Name: "shop", Keys: map[string]string{"namespace": "shop"},
		CPUCoreHours: 1.5, RAMByteHours: 3 * gib,
		CPURequestCoreHours: 1.5, CPUUsageCoreHours: 1, RAMRequestByteHours: 3 * gib, RAMUsageByteHours: 1.5 * gib,
		CPUCost: 0.06, RAMCost: 0.015, TotalCost: 0.075,
		CPUEfficiency: 1 / 1.5, // (0.5 + 0.5) ÷ (1 + 0.5)
		RAMEfficiency: 0.5,     // (1 + 0.5) ÷ (2 + 1)
		// By cost: (2/3 × 0.06 + 0.5 × 0.015) ÷ 0.075 = (0.04 + 0.0075) ÷ 0.075.
		TotalEfficiency: 0.0475 / 0.075,
		// web-1: CPU (1 − 0.5) × 0.04 = 0.02, RAM (2 − 1) × 0.005 = 0.005;
		// api-1: CPU (0.5 − 0.5) = 0, RAM (1 − 0.5) × 0.005 = 0.0025.
		WasteCost: 0.0275,
	}, {
		Name: "kube-system", CPUCoreHours: 0.5, RAMByteHours: 2 * gib,
		CPURequestCoreHours: 0.5, CPUUsageCoreHours: 0.1, RAMRequestByteHours: 2 * gib, RAMUsageByteHours: 1 * gib,
		CPUCost: 0.02, RAMCost: 0.01, TotalCost: 0.03,
		CPUEfficiency: 0.2, RAMEfficiency: 0.5,
		TotalEfficiency: 0.3,   // (0.2 × 0.02 + 0.5 × 0.01) ÷ 0.03 = 0.009 ÷ 0.03
		WasteCost:       0.021, // CPU 0.4 × 0.04 = 0.016; RAM 1 × 0.005 = 0.005
	}, {
		// BestEffort: usage without request: efficiencies 0, nothing requested, no waste.
		Name: "jobs", CPUCoreHours: 0.5, RAMByteHours: 1 * gib, CPUUsageCoreHours: 0.5, RAMUsageByteHours: 1 * gib,
		CPUCost: 0.02, RAMCost: 0.005, TotalCost: 0.025,
	}}
	if len(got) != len(want) {
		t.Fatalf("totals: %v", totalNames(got))
	}
	for i := range want {
		if d := totalDiff(got[i], want[i]); len(d) > 0 {
			t.Errorf("%s:\n  %s", want[i].Name, strings.Join(d, "\n  "))
		}
	}
}

func TestWaste(t *testing.T) {
	tests := []struct {
		name                                string
		request, usage, charged, cost, want float64
	}{
		{"half used", 1, 0.5, 1, 0.04, 0.5 * 0.04},
		// A 60-minute container, request 0.5, using 0.1 for 50 minutes and 2 for 10: charged
		// (50×0.5 + 10×2)/60 = 0.75 core-h at $0.04 ($0.03); used (5 + 20)/60 = 5/12; unused
		// 0.5 − 5/12 = 1/12 core-h at 0.03/0.75 = $0.04: $0.04/12.
		{"burst", 0.5, 25.0 / 60, 0.75, 0.03, 0.04 / 12},
		{"usage above request", 0.5, 32.5 / 60, 0.75, 0.03, 0},
		{"BestEffort", 0, 0.3, 0.3, 0.012, 0},
		{"nothing charged", 1, 0, 0, 0, 0},
		{"request above charged (inconsistent input) capped at the cost", 2, 0, 1, 0.04, 0.04},
	}
	for _, tt := range tests {
		if got := waste(tt.request, tt.usage, tt.charged, tt.cost); !closeTo(got, tt.want) {
			t.Errorf("%s: waste = %.12g, want %.12g", tt.name, got, tt.want)
		}
	}
}

func TestAggregateSpecialCases(t *testing.T) {
	cpuRow := func(cluster, ns string, cost float64) model.Allocation {
		return model.Allocation{Cluster: cluster, Hour: h0, Node: "n1", Namespace: ns, Pod: ns + "-0", Container: "c",
			RunHours: 1, CPUCoreHours: cost / 0.04, CPUCost: cost}
	}
	idleRow := func(cluster string, cpuCost, gpuHours, gpuCost float64) model.Allocation {
		return model.Allocation{Cluster: cluster, Hour: h0, Node: "n1", Namespace: IdleName, Idle: true, RunHours: 1,
			CPUCoreHours: cpuCost / 0.04, CPUCost: cpuCost, GPUHours: gpuHours, GPUCost: gpuCost}
	}
	tests := []struct {
		name string
		rows []model.Allocation
		opts Options
		want []costs
	}{{
		// Cluster a's idle $0.30 goes to its only allocation, x; cluster b's $0.10 half to x,
		// half to y (0.1 each). Spread over both clusters at once it would be 0.4×2/3 and 0.4/3.
		name: "idle shared within its cluster",
		rows: []model.Allocation{cpuRow("a", "x", 0.1), idleRow("a", 0.3, 0, 0),
			cpuRow("b", "x", 0.1), cpuRow("b", "y", 0.1), idleRow("b", 0.1, 0, 0)},
		opts: Options{By: []string{"namespace"}, Idle: IdleShare},
		want: []costs{{"x", 0.2, 0, 0, 0, 0.35, 0.55}, {"y", 0.1, 0, 0, 0, 0.05, 0.15}},
	}, {
		// An unused GPU ($0.50) cannot be spread by GPU cost: nothing has any; it stays idle.
		name: "idle of a resource nobody pays for stays idle",
		rows: []model.Allocation{cpuRow("prod", "shop", 0.04), idleRow("prod", 0.12, 1, 0.5)},
		opts: Options{By: []string{"namespace"}, Idle: IdleShare},
		want: []costs{{IdleName, 0, 0, 0.5, 0, 0, 0.5}, {"shop", 0.04, 0, 0, 0, 0.12, 0.16}},
	}, {
		name: "shared namespace alone in its cluster",
		rows: []model.Allocation{cpuRow("a", "kube-system", 0.02), cpuRow("b", "shop", 0.04)},
		opts: Options{By: []string{"namespace"}, ShareNamespaces: []string{"kube-system"}},
		want: []costs{{"shop", 0.04, 0, 0, 0, 0, 0.04}, {SharedName, 0, 0, 0, 0.02, 0, 0.02}},
	}, {
		name: "shared namespace spread within its cluster",
		rows: []model.Allocation{cpuRow("a", "kube-system", 0.02), cpuRow("a", "jobs", 0.01), cpuRow("b", "shop", 0.04),
			cpuRow("b", "kube-system", 0.04)},
		opts: Options{By: []string{"namespace"}, ShareNamespaces: []string{"kube-system"}},
		want: []costs{{"shop", 0.04, 0, 0, 0.04, 0, 0.08}, {"jobs", 0.01, 0, 0, 0.02, 0, 0.03}},
	}, {
		name: "overhead with no allocation",
		rows: []model.Allocation{idleRow("prod", 0.1, 0, 0)},
		opts: Options{By: []string{"namespace"}, ShareMonthly: 73, WindowHours: 1},
		want: []costs{{IdleName, 0.1, 0, 0, 0, 0, 0.1}, {SharedName, 0, 0, 0, 0.1, 0, 0.1}},
	}, {
		name: "weighted spread over groups that cost nothing is even",
		rows: []model.Allocation{cpuRow("prod", "shop", 0), cpuRow("prod", "jobs", 0), cpuRow("prod", "kube-system", 0.02)},
		opts: Options{By: []string{"namespace"}, ShareNamespaces: []string{"kube-system"}, ShareMonthly: 73, WindowHours: 1},
		want: []costs{{"jobs", 0, 0, 0, 0.01 + 0.05, 0, 0.06}, {"shop", 0, 0, 0, 0.01 + 0.05, 0, 0.06}},
	}, {
		name: "no rows",
		opts: Options{By: []string{"namespace"}},
	}, {
		name: "only idle, hidden",
		rows: []model.Allocation{idleRow("prod", 0.1, 0, 0)},
		opts: Options{By: []string{"namespace"}, Idle: IdleHide},
	}, {
		name: "idle rows that cost nothing are still shown",
		rows: []model.Allocation{idleRow("prod", 0, 0, 0)},
		opts: Options{By: []string{"namespace"}},
		want: []costs{{IdleName, 0, 0, 0, 0, 0, 0}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Aggregate(tt.rows, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkCosts(t, got, tt.want)
		})
	}
}

func TestAggregateKeys(t *testing.T) {
	got, err := Aggregate(fixture(), Options{By: []string{"namespace", "label:team"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		IdleName:                         {"namespace": IdleName, "label:team": IdleName},
		"shop/payments":                  {"namespace": "shop", "label:team": "payments"},
		"shop/checkout":                  {"namespace": "shop", "label:team": "checkout"},
		"jobs/" + UnallocatedName:        {"namespace": "jobs", "label:team": UnallocatedName},
		"kube-system/" + UnallocatedName: {"namespace": "kube-system", "label:team": UnallocatedName},
	}
	if len(got) != len(want) {
		t.Fatalf("totals: %v", totalNames(got))
	}
	for _, g := range got {
		if w, ok := want[g.Name]; !ok || !mapsEqual(g.Keys, w) {
			t.Errorf("%s: keys %v, want %v", g.Name, g.Keys, w)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// The JSON names are OpenCost's allocation API names where the concept is the same.
func TestTotalJSONNames(t *testing.T) {
	b, err := json.Marshal(Total{Name: "shop", Keys: map[string]string{"namespace": "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	want := []string{"cpuCoreHours", "cpuCost", "cpuEfficiency", "cpuRequestCoreHours", "cpuUsageCoreHours",
		"gpuCost", "gpuHours", "idleCost", "name", "properties", "pvByteHours", "pvCost", "ramByteHours", "ramCost", "ramEfficiency",
		"ramRequestByteHours", "ramUsageByteHours", "sharedCost", "totalCost", "totalEfficiency", "wasteCost"}
	if !slices.Equal(got, want) {
		t.Errorf("JSON names %q, want %q", got, want)
	}
}

func TestAggregateRejectsBadOptions(t *testing.T) {
	by := []string{"namespace"}
	tests := []struct {
		opts Options
		want string
	}{
		{Options{}, "no aggregation key"},
		{Options{By: []string{"team"}}, `unknown aggregation key "team"`},
		{Options{By: []string{"namespace", "namespace"}}, `aggregation key "namespace" is given twice`},
		{Options{By: by, Idle: "spread"}, `unknown idle mode "spread" (want separate, share or hide)`},
		{Options{By: by, Share: "proportional"}, `unknown share mode "proportional" (want weighted or even)`},
		{Options{By: by, ShareNamespaces: []string{""}}, "empty shared namespace"},
		{Options{By: by, ShareMonthly: -1, WindowHours: 1}, "monthly shared cost -1: want a non-negative amount"},
		{Options{By: by, ShareMonthly: math.NaN(), WindowHours: 1}, "monthly shared cost NaN"},
		{Options{By: by, ShareMonthly: math.Inf(1), WindowHours: 1}, "monthly shared cost +Inf"},
		{Options{By: by, WindowHours: -24}, "window of -24 hours"},
		{Options{By: by, ShareMonthly: 73}, "a monthly shared cost needs the window's length in hours"},
	}
	for _, tt := range tests {
		_, err := Aggregate(fixture(), tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want it to contain %q", tt.opts, err, tt.want)
		}
	}
}

func TestParseKeys(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"namespace", []string{"namespace"}, ""},
		{"namespace,label:team", []string{"namespace", "label:team"}, ""},
		{" cluster , node,workload,app ", []string{"cluster", "node", "workload", "app"}, ""},
		{"label:app.kubernetes.io/part-of", []string{"label:app.kubernetes.io/part-of"}, ""},
		{"", nil, "no aggregation key"},
		{"team", nil, `unknown aggregation key "team" (want cluster, node, namespace, workload, app or label:<key>)`},
		{"Namespace", nil, `unknown aggregation key "Namespace"`},
		{"namespace,", nil, "empty aggregation key"},
		{"label:", nil, `aggregation key "label:" names no label`},
		{"label:team name", nil, `aggregation key "label:team name": ' ' cannot be part of a label name`},
		{"app,namespace,app", nil, `aggregation key "app" is given twice`},
	}
	for _, tt := range tests {
		got, err := ParseKeys(tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseKeys(%q): %v", tt.in, err)
		case tt.wantErr == "" && !slices.Equal(got, tt.want):
			t.Errorf("ParseKeys(%q) = %q, want %q", tt.in, got, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseKeys(%q) error %v, want it to contain %q", tt.in, err, tt.wantErr)
		}
	}
}
