package allocation

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/tally-finops/tally/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (only when the hand-worked checks pass)")

// goldenCluster is one hour of a small cluster with every case at once:
//
//	node  price                                    containers
//	n1    on-demand $0.04/core-h $0.005/GiB-h      web-1, api-1 (first 30 min, bursting), report-1 (BestEffort), kube-proxy-a
//	s1    spot $0.012/core-h $0.0015/GiB-h         api-1 (last 30 min), kube-proxy-b
//	g1    + 1 GPU at $0.5/GPU-h                    train-0 (1 GPU)
//	u1    no price                                 web-2
//	gone  not among the nodes                      web-3
func goldenCluster() ([]model.ContainerHour, []model.NodeHour) {
	ch := func(node, ns, pod string, w model.WorkloadRef, app, team string, minutes int,
		reqCPU, reqGiB, gpus, chargedCoreMin, usedCoreMin, chargedGiBMin, usedGiBMin float64) model.ContainerHour {
		c := model.ContainerHour{Cluster: "prod", Node: node, Namespace: ns, Pod: pod, Container: "app", Workload: w, App: app,
			Hour: h0, RunningMinutes: minutes, CPURequestCores: reqCPU, RAMRequestBytes: reqGiB * gib, GPURequest: gpus,
			CPUChargedCoreMinutes: chargedCoreMin, CPUUsageCoreMinutes: usedCoreMin,
			RAMChargedByteMinutes: chargedGiBMin * gib, RAMUsageByteMinutes: usedGiBMin * gib}
		if team != "" {
			c.Labels = map[string]string{"team": team}
		}
		return c
	}
	return []model.ContainerHour{
		webOn("n1", "web-1"), // 1 core-h, 2 GiB-h: $0.04 + $0.01
		// Request 0.5 cores, 1 GiB. On n1 10 minutes at 2 cores and 20 at 0.5: 10×2 + 20×0.5 = 30
		// core-min = 0.5 core-h ($0.02); 0.5 GiB used, 30×1 = 30 GiB-min = 0.5 GiB-h ($0.0025).
		ch("n1", "shop", "api-1", api, "api", "checkout", 30, 0.5, 1, 0, 30, 30, 30, 15),
		// On s1 at 0.25 cores: 30×0.5 = 15 core-min = 0.25 core-h ($0.003); 0.5 GiB-h ($0.00075).
		ch("s1", "shop", "api-1", api, "api", "checkout", 30, 0.5, 1, 0, 15, 7.5, 30, 15),
		// BestEffort at 0.5 cores and 1 GiB: 0.5 core-h ($0.02), 1 GiB-h ($0.005).
		ch("n1", "jobs", "report-1", report, "", "", 60, 0, 0, 0, 30, 30, 60, 60),
		// Request 0.5 cores and 2 GiB, using 0.1 and 1: 0.5 core-h, 2 GiB-h; on n1 $0.02 + $0.01,
		// on s1 $0.006 + $0.003.
		ch("n1", "kube-system", "kube-proxy-a", kubeProxy, "kube-proxy", "", 60, 0.5, 2, 0, 30, 6, 120, 60),
		ch("s1", "kube-system", "kube-proxy-b", kubeProxy, "kube-proxy", "", 60, 0.5, 2, 0, 30, 6, 120, 60),
		// 1 GPU, request 2 cores and 8 GiB: 2 core-h ($0.08), 8 GiB-h ($0.04), 1 GPU-h ($0.50).
		ch("g1", "ml", "train-0", train, "train", "research", 60, 2, 8, 1, 120, 90, 480, 360),
		webOn("u1", "web-2"),   // no price: $0
		webOn("gone", "web-3"), // no node: $0
	}, []model.NodeHour{n1, s1, g1, u1}
}

// Node costs: n1 $0.24, s1 $0.072, g1 $0.74: $1.052. Containers: n1 0.05 + 0.0225 + 0.025 +
// 0.03 = 0.1275; s1 0.00375 + 0.009 = 0.01275; g1 0.62. Idle: n1 CPU 4 − 2.5 = 1.5 core-h,
// 0.16 − 0.10 = $0.06, RAM 16 − 5.5 = 10.5 GiB-h, 0.08 − 0.0275 = $0.0525; s1 CPU 3.25 core-h,
// 0.048 − 0.009 = $0.039, RAM 13.5 GiB-h, 0.024 − 0.00375 = $0.02025; g1 CPU 2 core-h $0.08,
// RAM 8 GiB-h $0.04, GPU 0. Idle CPU $0.179, RAM $0.11275: $0.29175; with the containers'
// $0.76025, $1.052.
//
// By namespace: shop CPU 0.04 + 0.02 + 0.003 = 0.063, RAM 0.01 + 0.0025 + 0.00075 = 0.01325;
// jobs 0.02, 0.005; kube-system 0.026, 0.013; ml 0.08, 0.04, GPU 0.5. CPU costs add up to
// 0.189, RAM costs to 0.07125: the bases of the idle share.
var goldenCases = []struct {
	name string
	opts Options
	want []costs
}{{
	name: "namespace, idle separate",
	opts: Options{By: []string{"namespace"}},
	want: []costs{
		{"ml", 0.08, 0.04, 0.5, 0, 0, 0.62},
		{IdleName, 0.179, 0.11275, 0, 0, 0, 0.29175},
		{"shop", 0.063, 0.01325, 0, 0, 0, 0.07625},
		{"kube-system", 0.026, 0.013, 0, 0, 0, 0.039},
		{"jobs", 0.02, 0.005, 0, 0, 0, 0.025},
	},
}, {
	name: "namespace, idle shared",
	opts: Options{By: []string{"namespace"}, Idle: IdleShare},
	want: []costs{
		{"ml", 0.08, 0.04, 0.5, 0, 0.179*0.08/0.189 + 0.11275*0.04/0.07125, 0.62 + 0.179*0.08/0.189 + 0.11275*0.04/0.07125},
		{"shop", 0.063, 0.01325, 0, 0, 0.179*0.063/0.189 + 0.11275*0.01325/0.07125, 0.07625 + 0.179*0.063/0.189 + 0.11275*0.01325/0.07125},
		{"kube-system", 0.026, 0.013, 0, 0, 0.179*0.026/0.189 + 0.11275*0.013/0.07125, 0.039 + 0.179*0.026/0.189 + 0.11275*0.013/0.07125},
		{"jobs", 0.02, 0.005, 0, 0, 0.179*0.02/0.189 + 0.11275*0.005/0.07125, 0.025 + 0.179*0.02/0.189 + 0.11275*0.005/0.07125},
	},
}, {
	name: "namespace, idle hidden",
	opts: Options{By: []string{"namespace"}, Idle: IdleHide},
	want: []costs{
		{"ml", 0.08, 0.04, 0.5, 0, 0, 0.62},
		{"shop", 0.063, 0.01325, 0, 0, 0, 0.07625},
		{"kube-system", 0.026, 0.013, 0, 0, 0, 0.039},
		{"jobs", 0.02, 0.005, 0, 0, 0, 0.025},
	},
}, {
	name: "node",
	opts: Options{By: []string{"node"}},
	want: []costs{
		{"g1", 0.08, 0.04, 0.5, 0, 0, 0.62},
		{IdleName, 0.179, 0.11275, 0, 0, 0, 0.29175},
		{"n1", 0.10, 0.0275, 0, 0, 0, 0.1275},
		{"s1", 0.009, 0.00375, 0, 0, 0, 0.01275},
		{"gone", 0, 0, 0, 0, 0, 0},
		{"u1", 0, 0, 0, 0, 0, 0},
	},
}, {
	// Groups: payments (web-1/2/3) $0.05, checkout (api-1) $0.02625, research $0.62, no team
	// (report-1) $0.025. kube-system's $0.039 evenly: 0.00975 each; $73/month for 1 h: $0.10,
	// evenly 0.025 each. Shared 0.03475 each; Σ = 1.052 + 0.1.
	name: "team, kube-system and a monthly fee shared evenly",
	opts: Options{By: []string{"label:team"}, ShareNamespaces: []string{"kube-system"}, ShareMonthly: 73, WindowHours: 1,
		Share: ShareEven},
	want: []costs{
		{"research", 0.08, 0.04, 0.5, 0.03475, 0, 0.65475},
		{IdleName, 0.179, 0.11275, 0, 0, 0, 0.29175},
		{"payments", 0.04, 0.01, 0, 0.03475, 0, 0.08475},
		{"checkout", 0.023, 0.00325, 0, 0.03475, 0, 0.061},
		{UnallocatedName, 0.02, 0.005, 0, 0.03475, 0, 0.05975},
	},
}}

// golden is the content of testdata/cluster.json: everything Hourly and Aggregate return
// for goldenCluster, as JSON, so that a change of a field, a name or an order shows.
type golden struct {
	Rows     []model.Allocation
	Warnings []string
	Totals   []goldenTotals
}

type goldenTotals struct {
	Name    string
	Options Options
	Totals  []Total
}

func TestGolden(t *testing.T) {
	containers, nodes := goldenCluster()
	rows, warnings := Hourly(containers, nodes)
	g := golden{Rows: rows, Warnings: warnings}
	for _, tc := range goldenCases {
		totals, err := Aggregate(rows, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(tc.name, func(t *testing.T) { checkCosts(t, totals, tc.want) })
		g.Totals = append(g.Totals, goldenTotals{Name: tc.name, Options: tc.opts, Totals: totals})
	}
	if len(warnings) != 2 {
		t.Errorf("warnings: %q, want one for u1 and one for gone", warnings)
	}
	got, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')

	path := filepath.Join("testdata", "cluster.json")
	if *update {
		if t.Failed() {
			t.Fatalf("not updating %s: the output disagrees with the hand-worked figures", path)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	// Numbers may differ in their last bits on another architecture (fused multiply-add).
	var gotV, wantV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &wantV); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, d := range jsonDiff("", gotV, wantV) {
		t.Error(d)
	}
}

// jsonDiff lists the differences between two decoded JSON values, numbers to 1e-9 relative.
func jsonDiff(path string, got, want any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %v, want an object", path, got)}
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var d []string
		for _, k := range keys {
			d = append(d, jsonDiff(path+"."+k, g[k], w[k])...)
		}
		return d
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: got %v, want %d elements", path, got, len(w))}
		}
		var d []string
		for i := range w {
			d = append(d, jsonDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i])...)
		}
		return d
	case float64:
		if g, ok := got.(float64); !ok || !closeTo(g, w) {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, got, w)}
		}
		return nil
	default:
		if got != want {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, got, want)}
		}
		return nil
	}
}
