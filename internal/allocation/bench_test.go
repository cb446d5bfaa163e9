package allocation

import (
	"fmt"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// benchCluster is one hour of 25,000 containers (10,000 pods) on 300 nodes of 16 cores and
// 64 GiB, in 40 namespaces and 20 teams.
func benchCluster() ([]model.ContainerHour, []model.NodeHour) {
	const nodes, pods, containersPerPod = 300, 10_000, 2.5
	ns := make([]model.NodeHour, nodes)
	for i := range ns {
		ns[i] = priced("prod", fmt.Sprintf("ip-10-0-%d-%d", i/256, i%256), 16, 64, 0, 0.031, 0.0042, 0)
	}
	cs := make([]model.ContainerHour, 0, int(pods*containersPerPod))
	for p := range pods {
		labels := map[string]string{"team": fmt.Sprintf("team-%d", p%20), "app.kubernetes.io/name": fmt.Sprintf("app-%d", p%500)}
		n := 2 + p%2 // 2 or 3 containers: 2.5 on average
		for c := range n {
			cs = append(cs, model.ContainerHour{Cluster: "prod", Node: ns[p%nodes].Node, Namespace: fmt.Sprintf("ns-%d", p%40),
				Pod: fmt.Sprintf("pod-%d", p), Container: fmt.Sprintf("c%d", c),
				Workload: model.WorkloadRef{Kind: "Deployment", Name: fmt.Sprintf("app-%d", p%500)},
				App:      fmt.Sprintf("app-%d", p%500), Labels: labels, Hour: h0, RunningMinutes: 60,
				CPURequestCores: 0.1, RAMRequestBytes: 256 << 20,
				CPUChargedCoreMinutes: 7, CPUUsageCoreMinutes: 3, RAMChargedByteMinutes: 60 * 300 << 20,
				RAMUsageByteMinutes: 60 * 200 << 20})
		}
	}
	return cs, ns
}

func BenchmarkHourly(b *testing.B) {
	containers, nodes := benchCluster()
	b.ReportAllocs()
	for b.Loop() {
		rows, _ := Hourly(containers, nodes)
		if len(rows) != len(containers)+len(nodes) {
			b.Fatalf("%d rows", len(rows))
		}
	}
	b.ReportMetric(float64(len(containers)), "containers")
}

// benchDays is 30 days of daily cost rows of 10,000 pods (one row per pod and day, as the
// daily rollup holds them: 300,000 rows) and one idle row per node and day (9,000).
func benchDays() []model.Allocation {
	const days, pods, nodes = 30, 10_000, 300
	day0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]model.Allocation, 0, days*(pods+nodes))
	labels := make([]map[string]string, pods)
	for p := range labels {
		labels[p] = map[string]string{"team": fmt.Sprintf("team-%d", p%20)}
		if p%10 == 0 {
			delete(labels[p], "team")
		}
	}
	for d := range days {
		day := day0.AddDate(0, 0, d)
		for p := range pods {
			rows = append(rows, model.Allocation{Cluster: "prod", Hour: day, Node: fmt.Sprintf("node-%d", p%nodes),
				Namespace: fmt.Sprintf("ns-%d", p%40), Workload: model.WorkloadRef{Kind: "Deployment", Name: fmt.Sprintf("app-%d", p%500)},
				App: fmt.Sprintf("app-%d", p%500), Labels: labels[p], RunHours: 24,
				CPUCoreHours: 2.4, CPURequestCoreHours: 2.4, CPUUsageCoreHours: 1.2,
				RAMByteHours: 24 << 30, RAMRequestByteHours: 24 << 30, RAMUsageByteHours: 12 << 30,
				CPUCost: 2.4 * 0.031, RAMCost: 24 * 0.0042})
		}
		for n := range nodes {
			rows = append(rows, model.Allocation{Cluster: "prod", Hour: day, Node: fmt.Sprintf("node-%d", n),
				Namespace: IdleName, Idle: true, RunHours: 24, CPUCoreHours: 100, RAMByteHours: 400 << 30,
				CPUCost: 3.1, RAMCost: 1.68})
		}
	}
	return rows
}

func BenchmarkAggregate(b *testing.B) {
	rows := benchDays()
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"namespace", Options{By: []string{"namespace"}}},
		{"label:team", Options{By: []string{"label:team"}}},
		{"namespace,label:team/idle=share/shared=ns-0/monthly", Options{By: []string{"namespace", "label:team"},
			Idle: IdleShare, ShareNamespaces: []string{"ns-0"}, ShareMonthly: 73, WindowHours: 720}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Aggregate(rows, bc.opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(rows)), "rows")
		})
	}
}
