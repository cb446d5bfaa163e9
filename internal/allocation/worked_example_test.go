package allocation

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/pricing"
)

// TestWorkedExample is the worked example of docs/cost-model.md: the same inputs, and the
// outputs derived there by hand. Nothing is read from the document; the printed figures of
// the document are repeated here (rounded as printed) and must match what the code computes.
func TestWorkedExample(t *testing.T) {
	// Step 1: the price. m5.xlarge on-demand, 4 cores, 16 GiB, $0.192/h; default rates
	// $0.031611/core-h and $0.004237/GiB-h. Weights: CPU 4×0.031611 = 0.126444,
	// RAM 16×0.004237 = 0.067792, together 0.194236. CPU part 0.192×0.126444/0.194236 =
	// $0.12498841/h, per core ÷4 = $0.03124710; RAM part 0.192×0.067792/0.194236 =
	// $0.06701159/h, per GiB ÷16 = $0.00418822.
	const (
		c = 0.192 * 0.126444 / 0.194236 / 4  // $ per core-hour
		m = 0.192 * 0.067792 / 0.194236 / 16 // $ per GiB-hour
	)
	book, err := pricing.Parse("example.yaml", []byte(`currency: USD
defaults: {cpuCoreHour: 0.031611, ramGiBHour: 0.004237, gpuHour: 0.95}
nodes:
  - match: {node.kubernetes.io/instance-type: m5.xlarge}
    hourly: 0.192
`))
	if err != nil {
		t.Fatal(err)
	}
	price := book.Price(model.Node{Cluster: "prod", Name: "ip-10-0-1-23", InstanceType: "m5.xlarge",
		CapacityType: model.CapacityOnDemand, CPUCapacityCores: 4, MemoryCapacityBytes: 16 * gib,
		Labels: map[string]string{"node.kubernetes.io/instance-type": "m5.xlarge"}})
	price.Hour = h0
	near(t, "price book CPU rate", price.CPUCoreHourCost, c)
	near(t, "price book RAM rate", price.RAMGiBHourCost, m)
	printed(t, "CPU rate", price.CPUCoreHourCost, "0.03124710")
	printed(t, "RAM rate", price.RAMGiBHourCost, "0.00418822")
	printed(t, "CPU part", 4*price.CPUCoreHourCost, "0.12498841")
	printed(t, "RAM part", 16*price.RAMGiBHourCost, "0.06701159")

	node := model.NodeHour{Cluster: "prod", Node: "ip-10-0-1-23", Hour: h0, Minutes: 60, CPUCores: 4, RAMBytes: 16 * gib,
		Price: price, Priced: true}
	team := func(v string) map[string]string { return map[string]string{"team": v} }
	containers := []model.ContainerHour{{
		// A, web: requests 1 core and 4 GiB; uses 0.6 cores and 3 GiB every minute of the hour.
		// Charged 60 × max(1, 0.6) = 60 core-min, 60 × max(4, 3) = 240 GiB-min.
		Cluster: "prod", Node: node.Node, Namespace: "shop", Pod: "web-7d9f-abcde", Container: "app",
		Workload: web, App: "web", Labels: team("payments"), Hour: h0, RunningMinutes: 60,
		CPURequestCores: 1, RAMRequestBytes: 4 * gib,
		CPUChargedCoreMinutes: 60, CPUUsageCoreMinutes: 60 * 0.6,
		RAMChargedByteMinutes: 240 * gib, RAMUsageByteMinutes: 60 * 3 * gib,
	}, {
		// B, api: requests 0.5 cores and 2 GiB; uses 0.3 cores for 50 minutes, 2 cores for 10;
		// 1.5 GiB throughout. Charged 50×0.5 + 10×2 = 45 core-min, 60 × 2 = 120 GiB-min;
		// used 50×0.3 + 10×2 = 35 core-min, 60 × 1.5 = 90 GiB-min.
		Cluster: "prod", Node: node.Node, Namespace: "shop", Pod: "api-5c8b-fghij", Container: "app",
		Workload: api, App: "api", Labels: team("checkout"), Hour: h0, RunningMinutes: 60,
		CPURequestCores: 0.5, RAMRequestBytes: 2 * gib,
		CPUChargedCoreMinutes: 50*0.5 + 10*2, CPUUsageCoreMinutes: 50*0.3 + 10*2,
		RAMChargedByteMinutes: 120 * gib, RAMUsageByteMinutes: 90 * gib,
	}, {
		// C, report: BestEffort (no requests), runs 30 minutes at 0.4 cores and 0.5 GiB.
		// Charged = used: 30 × 0.4 = 12 core-min, 30 × 0.5 = 15 GiB-min.
		Cluster: "prod", Node: node.Node, Namespace: "batch", Pod: "report-29131200-xk2lp", Container: "main",
		Workload: report, Hour: h0, RunningMinutes: 30,
		CPUChargedCoreMinutes: 12, CPUUsageCoreMinutes: 12,
		RAMChargedByteMinutes: 15 * gib, RAMUsageByteMinutes: 15 * gib,
	}}

	rows, warnings := Hourly(containers, []model.NodeHour{node})
	if len(warnings) > 0 {
		t.Fatalf("warnings: %q", warnings)
	}
	// Step 2: each container. Step 3: idle = capacity − Σ containers, per resource.
	checkRows(t, rows, []model.Allocation{
		// C: 0.5 h; 0.2 core-h × c = $0.00624942; 0.25 GiB-h × m = $0.00104706.
		{Cluster: "prod", Hour: h0, Node: node.Node, Namespace: "batch", Workload: report, Pod: "report-29131200-xk2lp",
			Container: "main", RunHours: 0.5, CPUCoreHours: 0.2, CPUUsageCoreHours: 0.2,
			RAMByteHours: 0.25 * gib, RAMUsageByteHours: 0.25 * gib, CPUCost: 0.2 * c, RAMCost: 0.25 * m},
		// B: 0.75 core-h × c = $0.02343533; 2 GiB-h × m = $0.00837645.
		{Cluster: "prod", Hour: h0, Node: node.Node, Namespace: "shop", Workload: api, App: "api", Pod: "api-5c8b-fghij",
			Container: "app", Labels: team("checkout"), RunHours: 1,
			CPUCoreHours: 0.75, CPURequestCoreHours: 0.5, CPUUsageCoreHours: 35.0 / 60,
			RAMByteHours: 2 * gib, RAMRequestByteHours: 2 * gib, RAMUsageByteHours: 1.5 * gib,
			CPUCost: 0.75 * c, RAMCost: 2 * m},
		// A: 1 core-h × c = $0.03124710; 4 GiB-h × m = $0.01675290; together exactly $0.048, a
		// quarter of the node for a quarter of its CPU and of its memory.
		{Cluster: "prod", Hour: h0, Node: node.Node, Namespace: "shop", Workload: web, App: "web", Pod: "web-7d9f-abcde",
			Container: "app", Labels: team("payments"), RunHours: 1,
			CPUCoreHours: 1, CPURequestCoreHours: 1, CPUUsageCoreHours: 0.6,
			RAMByteHours: 4 * gib, RAMRequestByteHours: 4 * gib, RAMUsageByteHours: 3 * gib,
			CPUCost: c, RAMCost: 4 * m},
		// Idle: CPU 4 − (1 + 0.75 + 0.2) = 2.05 core-h, 2.05c = $0.06405656;
		// RAM 16 − (4 + 2 + 0.25) = 9.75 GiB-h, 9.75m = $0.04083519.
		{Cluster: "prod", Hour: h0, Node: node.Node, Namespace: IdleName, Idle: true, RunHours: 1,
			CPUCoreHours: 2.05, RAMByteHours: 9.75 * gib, CPUCost: 2.05 * c, RAMCost: 9.75 * m},
	})
	if len(rows) == 4 {
		for _, f := range []struct {
			what string
			got  float64
			doc  string
		}{
			{"A CPU", rows[2].CPUCost, "0.03124710"}, {"A RAM", rows[2].RAMCost, "0.01675290"},
			{"B CPU", rows[1].CPUCost, "0.02343533"}, {"B RAM", rows[1].RAMCost, "0.00837645"},
			{"B used core-hours", rows[1].CPUUsageCoreHours, "0.58333333"},
			{"C CPU", rows[0].CPUCost, "0.00624942"}, {"C RAM", rows[0].RAMCost, "0.00104706"},
			{"containers CPU", rows[0].CPUCost + rows[1].CPUCost + rows[2].CPUCost, "0.06093185"},
			{"containers RAM", rows[0].RAMCost + rows[1].RAMCost + rows[2].RAMCost, "0.02617640"},
			{"containers", rows[0].TotalCost() + rows[1].TotalCost() + rows[2].TotalCost(), "0.08710825"},
			{"idle CPU", rows[3].CPUCost, "0.06405656"}, {"idle RAM", rows[3].RAMCost, "0.04083519"},
		} {
			printed(t, f.what, f.got, f.doc)
		}
		printed(t, "A total", rows[2].TotalCost(), "0.04800000")
		printed(t, "B total", rows[1].TotalCost(), "0.03181178")
		printed(t, "C total", rows[0].TotalCost(), "0.00729648")
		printed(t, "idle total", rows[3].TotalCost(), "0.10489175")
	}

	// Step 4: by namespace, idle separate.
	separate, err := Aggregate(rows, Options{By: []string{"namespace"}})
	if err != nil {
		t.Fatal(err)
	}
	shop := Total{Name: "shop",
		CPUCoreHours: 1.75, RAMByteHours: 6 * gib,
		CPURequestCoreHours: 1.5, CPUUsageCoreHours: 0.6 + 35.0/60, RAMRequestByteHours: 6 * gib, RAMUsageByteHours: 4.5 * gib,
		CPUCost: 1.75 * c, RAMCost: 6 * m, TotalCost: 1.75*c + 6*m,
		CPUEfficiency:   (0.6 + 35.0/60) / 1.5, // 1.18333 ÷ 1.5 = 0.788889
		RAMEfficiency:   4.5 / 6,               // 0.75
		TotalEfficiency: ((0.6+35.0/60)/1.5*1.75*c + 0.75*6*m) / (1.75*c + 6*m),
		// A: CPU (1 − 0.6) × c, RAM (4 − 3) × m; B: CPU max(0, 0.5 − 0.5833) = 0, RAM (2 − 1.5) × m.
		WasteCost: 0.4*c + 1.5*m,
	}
	batch := Total{Name: "batch", CPUCoreHours: 0.2, RAMByteHours: 0.25 * gib,
		CPUUsageCoreHours: 0.2, RAMUsageByteHours: 0.25 * gib,
		CPUCost: 0.2 * c, RAMCost: 0.25 * m, TotalCost: 0.2*c + 0.25*m}
	idle := Total{Name: IdleName, CPUCoreHours: 2.05, RAMByteHours: 9.75 * gib,
		CPUCost: 2.05 * c, RAMCost: 9.75 * m, TotalCost: 2.05*c + 9.75*m}
	checkTotals(t, "separate", separate, []Total{idle, shop, batch})
	if len(separate) == 3 {
		s := separate[1]
		printed(t, "shop CPU", s.CPUCost, "0.05468243")
		printed(t, "shop RAM", s.RAMCost, "0.02512935")
		printed(t, "shop total", s.TotalCost, "0.07981178")
		printed(t, "shop CPU efficiency × cost", s.CPUEfficiency*s.CPUCost, "0.04313836")
		printed(t, "shop RAM efficiency × cost", s.RAMEfficiency*s.RAMCost, "0.01884701")
		// Waste parts: CPU (1 − 0.6) core-h of A; RAM (4 − 3) GiB-h of A and (2 − 1.5) of B.
		printed(t, "shop CPU waste", 0.4*rows[2].CPUCost/rows[2].CPUCoreHours, "0.01249884")
		printed(t, "A RAM waste", 1*rows[2].RAMCost/4, "0.00418822")
		printed(t, "B RAM waste", 0.5*rows[1].RAMCost/2, "0.00209411")
		printed(t, "shop RAM waste", s.WasteCost-0.4*rows[2].CPUCost, "0.00628234")
		printed(t, "shop CPU efficiency", separate[1].CPUEfficiency, "0.78888889")
		printed(t, "shop total efficiency", separate[1].TotalEfficiency, "0.77664442")
		printed(t, "shop waste", separate[1].WasteCost, "0.01878118")
		printed(t, "batch total", separate[2].TotalCost, "0.00729648")
		near(t, "Σ separate", sumTotalCost(separate), 0.192)
	}

	// Step 5: by namespace, idle shared per resource: CPU idle 2.05c by CPU cost (shop 1.75 of
	// 1.95 core-h, batch 0.2), RAM idle 9.75m by RAM cost (shop 6 of 6.25 GiB-h, batch 0.25).
	shared, err := Aggregate(rows, Options{By: []string{"namespace"}, Idle: IdleShare})
	if err != nil {
		t.Fatal(err)
	}
	shop.IdleCost = 2.05*c*1.75/1.95 + 9.75*m*6/6.25
	shop.TotalCost += shop.IdleCost
	batch.IdleCost = 2.05*c*0.2/1.95 + 9.75*m*0.25/6.25
	batch.TotalCost += batch.IdleCost
	checkTotals(t, "share", shared, []Total{shop, batch})
	if len(shared) == 2 {
		// The CPU and RAM parts of the idle share, from the idle row and the shares of cost.
		printed(t, "shop idle CPU", rows[3].CPUCost*1.75/1.95, "0.05748665")
		printed(t, "shop idle RAM", rows[3].RAMCost*6/6.25, "0.03920178")
		printed(t, "batch idle CPU", rows[3].CPUCost*0.2/1.95, "0.00656990")
		printed(t, "batch idle RAM", rows[3].RAMCost*0.25/6.25, "0.00163341")
		printed(t, "shop idle share", shared[0].IdleCost, "0.09668844")
		printed(t, "shop total with idle", shared[0].TotalCost, "0.17650021")
		printed(t, "batch idle share", shared[1].IdleCost, "0.00820331")
		printed(t, "batch total with idle", shared[1].TotalCost, "0.01549979")
		near(t, "Σ share", sumTotalCost(shared), 0.192)
	}
}

func checkTotals(t *testing.T, what string, got, want []Total) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: totals %v, want %d", what, totalNames(got), len(want))
		return
	}
	for i := range want {
		if d := totalDiff(got[i], want[i]); len(d) > 0 {
			t.Errorf("%s: %s:\n  %s", what, want[i].Name, strings.Join(d, "\n  "))
		}
	}
}

// printed checks a figure as the document prints it, to 8 decimal places.
func printed(t *testing.T, what string, got float64, doc string) {
	t.Helper()
	if s := fmt.Sprintf("%.8f", got); s != doc {
		t.Errorf("%s = %s, the document prints %s", what, s, doc)
	}
}
