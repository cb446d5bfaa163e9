package allocation

import (
	"testing"

	"github.com/tally-finops/tally/internal/model"
)

// label:<key> is the pod's label, else its namespace's (Options.Namespaces), else
// UnallocatedName. On fixture(): shop/web-1 team=payments ($0.05), shop/api-1 team=checkout
// ($0.025), jobs/report-1 and kube-system/kube-proxy-a without a team ($0.025, $0.03), idle
// $0.11.
func TestAggregateLabelFallsBackToNamespace(t *testing.T) {
	ns := func(cluster, name string, labels map[string]string) model.Namespace {
		return model.Namespace{Cluster: cluster, Name: name, Labels: labels}
	}
	team := func(v string) map[string]string { return map[string]string{"team": v} }
	idle := costs{IdleName, 0.06, 0.05, 0, 0, 0, 0.11}
	byTeam := []string{"label:team"}
	tests := []struct {
		name     string
		opts     Options
		emptyPod bool // report-1 carries team="" (an empty label names no team)
		want     []costs
	}{{
		name: "pod label wins over its namespace's",
		opts: Options{By: byTeam, Namespaces: []model.Namespace{ns("prod", "shop", team("shop"))}},
		want: []costs{idle,
			{UnallocatedName, 0.04, 0.015, 0, 0, 0, 0.055}, // report-1 0.025 + kube-proxy-a 0.03
			{"payments", 0.04, 0.01, 0, 0, 0, 0.05},
			{"checkout", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name: "namespace label when the pod lacks it",
		opts: Options{By: byTeam, Namespaces: []model.Namespace{
			ns("prod", "jobs", team("data")), ns("prod", "kube-system", team("platform")), ns("prod", "shop", team("shop"))}},
		want: []costs{idle,
			{"payments", 0.04, 0.01, 0, 0, 0, 0.05},
			{"platform", 0.02, 0.01, 0, 0, 0, 0.03},
			{"checkout", 0.02, 0.005, 0, 0, 0, 0.025},
			{"data", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name:     "an empty pod label falls back too",
		opts:     Options{By: byTeam, Namespaces: []model.Namespace{ns("prod", "jobs", team("data"))}},
		emptyPod: true,
		want: []costs{idle,
			{"payments", 0.04, 0.01, 0, 0, 0, 0.05},
			{UnallocatedName, 0.02, 0.01, 0, 0, 0, 0.03}, // kube-proxy-a
			{"checkout", 0.02, 0.005, 0, 0, 0, 0.025},
			{"data", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name: "neither pod nor namespace label: unallocated",
		opts: Options{By: byTeam, Namespaces: []model.Namespace{
			ns("prod", "jobs", map[string]string{"env": "prod"}), ns("prod", "kube-system", nil)}},
		want: []costs{idle,
			{UnallocatedName, 0.04, 0.015, 0, 0, 0, 0.055},
			{"payments", 0.04, 0.01, 0, 0, 0, 0.05},
			{"checkout", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name: "a namespace of the same name in another cluster does not apply",
		opts: Options{By: byTeam, Namespaces: []model.Namespace{ns("staging", "jobs", team("data"))}},
		want: []costs{idle,
			{UnallocatedName, 0.04, 0.015, 0, 0, 0, 0.055},
			{"payments", 0.04, 0.01, 0, 0, 0, 0.05},
			{"checkout", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name: "a later entry for a namespace wins",
		opts: Options{By: byTeam, Namespaces: []model.Namespace{ns("prod", "jobs", team("old")), ns("prod", "jobs", team("data"))}},
		want: []costs{idle,
			{"payments", 0.04, 0.01, 0, 0, 0, 0.05},
			{UnallocatedName, 0.02, 0.01, 0, 0, 0, 0.03},
			{"checkout", 0.02, 0.005, 0, 0, 0, 0.025},
			{"data", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		name: "combined with namespace",
		opts: Options{By: []string{"namespace", "label:team"}, Namespaces: []model.Namespace{ns("prod", "jobs", team("data"))}},
		want: []costs{idle,
			{"shop/payments", 0.04, 0.01, 0, 0, 0, 0.05},
			{"kube-system/" + UnallocatedName, 0.02, 0.01, 0, 0, 0, 0.03},
			{"jobs/data", 0.02, 0.005, 0, 0, 0, 0.025},
			{"shop/checkout", 0.02, 0.005, 0, 0, 0, 0.025}},
	}, {
		// kube-system is shared whatever its labels: its $0.03 goes to payments, checkout and
		// data by cost 0.05 : 0.025 : 0.025 (of 0.10): 0.015, 0.0075, 0.0075.
		name: "a shared namespace forms no group through its label",
		opts: Options{By: byTeam, ShareNamespaces: []string{"kube-system"}, Namespaces: []model.Namespace{
			ns("prod", "jobs", team("data")), ns("prod", "kube-system", team("platform"))}},
		want: []costs{idle,
			{"payments", 0.04, 0.01, 0, 0.015, 0, 0.065},
			{"checkout", 0.02, 0.005, 0, 0.0075, 0, 0.0325},
			{"data", 0.02, 0.005, 0, 0.0075, 0, 0.0325}},
	}, {
		name: "keys without a label ignore namespace labels",
		opts: Options{By: []string{"namespace"}, Namespaces: []model.Namespace{ns("prod", "jobs", team("data"))}},
		want: []costs{idle,
			{"shop", 0.06, 0.015, 0, 0, 0, 0.075},
			{"kube-system", 0.02, 0.01, 0, 0, 0, 0.03},
			{"jobs", 0.02, 0.005, 0, 0, 0, 0.025}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := fixture()
			if tt.emptyPod {
				rows[2].Labels = map[string]string{"team": ""}
			}
			got, err := Aggregate(rows, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkCosts(t, got, tt.want)
			near(t, "Σ total cost", sumTotalCost(got), 0.24)
			for _, g := range got {
				if tt.opts.By[len(tt.opts.By)-1] == "label:team" && g.Name == "data" && g.Keys["label:team"] != "data" {
					t.Errorf("properties of data = %v, want label:team=data", g.Keys)
				}
			}
		})
	}
}

func TestNeedsNamespaceLabels(t *testing.T) {
	for _, tc := range []struct {
		keys []string
		want bool
	}{
		{[]string{"namespace"}, false},
		{[]string{"cluster", "node", "workload", "app"}, false},
		{[]string{"label:team"}, true},
		{[]string{"namespace", "label:cost-center"}, true},
		{nil, false},
	} {
		if got := NeedsNamespaceLabels(tc.keys); got != tc.want {
			t.Errorf("NeedsNamespaceLabels(%q) = %t, want %t", tc.keys, got, tc.want)
		}
	}
}
