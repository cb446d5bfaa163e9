package allocation

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// The nodes of the hourly tests, one hour each. Rates are round so that costs can be checked
// by hand: n1 on-demand $0.04/core-h and $0.005/GiB-h (4×0.04 + 16×0.005 = $0.24/h); s1 the
// same machine bought spot, $0.012/core-h and $0.0015/GiB-h ($0.072/h); g1 with one GPU at
// $0.5/GPU-h ($0.74/h); u1 without a price.
var (
	n1 = priced("prod", "n1", 4, 16, 0, 0.04, 0.005, 0)
	s1 = priced("prod", "s1", 4, 16, 0, 0.012, 0.0015, 0)
	g1 = priced("prod", "g1", 4, 16, 1, 0.04, 0.005, 0.5)
	u1 = model.NodeHour{Cluster: "prod", Node: "u1", Hour: h0, Minutes: 60, CPUCores: 2, RAMBytes: 8 * gib}
)

var payments = map[string]string{"team": "payments"}

// webOn is shop/<pod>/app of Deployment web on node for a full hour at its request of 1 core
// and 2 GiB, using 0.5 cores and 1 GiB every minute: charged 60 × max(1, 0.5) = 60
// core-minutes and 60 × 2 = 120 GiB-minutes; used 30 core-minutes and 60 GiB-minutes.
func webOn(node, pod string) model.ContainerHour {
	return model.ContainerHour{Cluster: "prod", Node: node, Namespace: "shop", Pod: pod, Container: "app",
		Workload: web, App: "web", Labels: payments, Hour: h0, RunningMinutes: 60,
		CPURequestCores: 1, RAMRequestBytes: 2 * gib,
		CPUChargedCoreMinutes: 60, RAMChargedByteMinutes: 120 * gib,
		CPUUsageCoreMinutes: 30, RAMUsageByteMinutes: 60 * gib}
}

// webRow is the row of webOn before pricing: 1 core-hour, 2 GiB-hours, used 0.5 and 1.
func webRow(node, pod string, cpuCost, ramCost float64) model.Allocation {
	return model.Allocation{Cluster: "prod", Hour: h0, Node: node, Namespace: "shop", Workload: web, App: "web",
		Pod: pod, Container: "app", Labels: payments, RunHours: 1,
		CPUCoreHours: 1, CPURequestCoreHours: 1, CPUUsageCoreHours: 0.5,
		RAMByteHours: 2 * gib, RAMRequestByteHours: 2 * gib, RAMUsageByteHours: 1 * gib,
		CPUCost: cpuCost, RAMCost: ramCost}
}

// idleOf is the expected idle row of a node: hours it existed, what is left of each resource
// (core-hours, GiB-hours, GPU-hours) and its cost.
func idleOf(node string, hours, cores, ramGiB, gpus, cpuCost, ramCost, gpuCost float64) model.Allocation {
	return model.Allocation{Cluster: "prod", Hour: h0, Node: node, Namespace: IdleName, Idle: true, RunHours: hours,
		CPUCoreHours: cores, RAMByteHours: ramGiB * gib, GPUHours: gpus, CPUCost: cpuCost, RAMCost: ramCost, GPUCost: gpuCost}
}

func TestHourly(t *testing.T) {
	partial := n1
	partial.Minutes = 30 // launched at :30
	small := priced("prod", "small", 2, 4, 0, 0.04, 0.005, 0)
	long := n1
	long.Minutes = 75

	tests := []struct {
		name       string
		containers []model.ContainerHour
		nodes      []model.NodeHour
		want       []model.Allocation
		warnings   []string // substrings, one per warning, in order
	}{{
		name:       "at its request for the hour",
		containers: []model.ContainerHour{webOn("n1", "web-1")},
		nodes:      []model.NodeHour{n1},
		want: []model.Allocation{
			// 1 core-h × $0.04 = $0.04; 2 GiB-h × $0.005 = $0.01.
			webRow("n1", "web-1", 0.04, 0.01),
			// CPU 4 − 1 = 3 core-h, 4×0.04 − 0.04 = $0.12; RAM 16 − 2 = 14 GiB-h, 16×0.005 − 0.01 = $0.07.
			idleOf("n1", 1, 3, 14, 0, 0.12, 0.07, 0),
		},
	}, {
		name: "usage above request for 10 minutes",
		containers: []model.ContainerHour{{Cluster: "prod", Node: "n1", Namespace: "shop", Pod: "api-1", Container: "app",
			Workload: api, App: "api", Hour: h0, RunningMinutes: 60, CPURequestCores: 0.5, RAMRequestBytes: 1 * gib,
			// 50 minutes at 0.25 cores (below the 0.5 request), 10 minutes at 2 cores:
			// charged 50×0.5 + 10×2 = 45 core-minutes; used 50×0.25 + 10×2 = 32.5.
			CPUChargedCoreMinutes: 45, CPUUsageCoreMinutes: 32.5,
			// 1 GiB every minute, at the request: 60 GiB-minutes charged and used.
			RAMChargedByteMinutes: 60 * gib, RAMUsageByteMinutes: 60 * gib}},
		nodes: []model.NodeHour{n1},
		want: []model.Allocation{
			// 45/60 = 0.75 core-h (the hour's mean usage, 32.5/60 = 0.5417, would charge less
			// than the capacity the burst took); 0.75 × 0.04 = $0.03; 1 GiB-h × 0.005 = $0.005.
			{Cluster: "prod", Hour: h0, Node: "n1", Namespace: "shop", Workload: api, App: "api", Pod: "api-1",
				Container: "app", RunHours: 1, CPUCoreHours: 0.75, CPURequestCoreHours: 0.5,
				CPUUsageCoreHours: 32.5 / 60, RAMByteHours: 1 * gib, RAMRequestByteHours: 1 * gib,
				RAMUsageByteHours: 1 * gib, CPUCost: 0.03, RAMCost: 0.005},
			// CPU 4 − 0.75 = 3.25 core-h, 0.16 − 0.03 = $0.13; RAM 15 GiB-h, 0.08 − 0.005 = $0.075.
			idleOf("n1", 1, 3.25, 15, 0, 0.13, 0.075, 0),
		},
	}, {
		name: "BestEffort pod charged by its usage",
		containers: []model.ContainerHour{{Cluster: "prod", Node: "n1", Namespace: "jobs", Pod: "report-1", Container: "main",
			Workload: report, Hour: h0, RunningMinutes: 60,
			// No request: max(0, usage) = usage. 0.3 cores and 512 MiB for 60 minutes.
			CPUChargedCoreMinutes: 18, CPUUsageCoreMinutes: 18,
			RAMChargedByteMinutes: 30 * gib, RAMUsageByteMinutes: 30 * gib}},
		nodes: []model.NodeHour{n1},
		want: []model.Allocation{
			// 18/60 = 0.3 core-h × 0.04 = $0.012; 30/60 = 0.5 GiB-h × 0.005 = $0.0025.
			{Cluster: "prod", Hour: h0, Node: "n1", Namespace: "jobs", Workload: report, Pod: "report-1", Container: "main",
				RunHours: 1, CPUCoreHours: 0.3, CPUUsageCoreHours: 0.3, RAMByteHours: 0.5 * gib,
				RAMUsageByteHours: 0.5 * gib, CPUCost: 0.012, RAMCost: 0.0025},
			// CPU 3.7 core-h, 0.16 − 0.012 = $0.148; RAM 15.5 GiB-h, 0.08 − 0.0025 = $0.0775.
			idleOf("n1", 1, 3.7, 15.5, 0, 0.148, 0.0775, 0),
		},
	}, {
		name: "partial hours counted to the minute",
		containers: []model.ContainerHour{{Cluster: "prod", Node: "n1", Namespace: "jobs", Pod: "report-2", Container: "main",
			Workload: report, Hour: h0, RunningMinutes: 15, CPURequestCores: 2, RAMRequestBytes: 4 * gib,
			// 15 minutes at its request (using 1 core, 2 GiB): 15×2 = 30 core-minutes, 15×4 = 60 GiB-minutes.
			CPUChargedCoreMinutes: 30, CPUUsageCoreMinutes: 15,
			RAMChargedByteMinutes: 60 * gib, RAMUsageByteMinutes: 30 * gib}},
		nodes: []model.NodeHour{partial},
		want: []model.Allocation{
			// 15/60 = 0.25 h; 0.5 core-h × 0.04 = $0.02; 1 GiB-h × 0.005 = $0.005.
			{Cluster: "prod", Hour: h0, Node: "n1", Namespace: "jobs", Workload: report, Pod: "report-2", Container: "main",
				RunHours: 0.25, CPUCoreHours: 0.5, CPURequestCoreHours: 2 * 0.25, CPUUsageCoreHours: 0.25,
				RAMByteHours: 1 * gib, RAMRequestByteHours: 4 * gib * 0.25, RAMUsageByteHours: 0.5 * gib,
				CPUCost: 0.02, RAMCost: 0.005},
			// The node existed 30 minutes: CPU 4×0.5 − 0.5 = 1.5 core-h, 4×0.04×0.5 − 0.02 = $0.06;
			// RAM 16×0.5 − 1 = 7 GiB-h, 16×0.005×0.5 − 0.005 = $0.035.
			idleOf("n1", 0.5, 1.5, 7, 0, 0.06, 0.035, 0),
		},
	}, {
		name: "pod moves node mid-hour: a row on each, charged once",
		containers: []model.ContainerHour{
			// Minutes 20–59 on s1, minutes 0–19 on n1, at its request of 1 core and 2 GiB.
			{Cluster: "prod", Node: "s1", Namespace: "shop", Pod: "api-1", Container: "app", Workload: api, App: "api",
				Hour: h0, RunningMinutes: 40, CPURequestCores: 1, RAMRequestBytes: 2 * gib,
				CPUChargedCoreMinutes: 40, CPUUsageCoreMinutes: 20, RAMChargedByteMinutes: 80 * gib, RAMUsageByteMinutes: 40 * gib},
			{Cluster: "prod", Node: "n1", Namespace: "shop", Pod: "api-1", Container: "app", Workload: api, App: "api",
				Hour: h0, RunningMinutes: 20, CPURequestCores: 1, RAMRequestBytes: 2 * gib,
				CPUChargedCoreMinutes: 20, CPUUsageCoreMinutes: 10, RAMChargedByteMinutes: 40 * gib, RAMUsageByteMinutes: 20 * gib},
		},
		nodes: []model.NodeHour{s1, n1},
		want: []model.Allocation{
			// n1: 20/60 h; 1/3 core-h × 0.04 = $0.013333; 2/3 GiB-h × 0.005 = $0.0033333.
			{Cluster: "prod", Hour: h0, Node: "n1", Namespace: "shop", Workload: api, App: "api", Pod: "api-1", Container: "app",
				RunHours: 1.0 / 3, CPUCoreHours: 1.0 / 3, CPURequestCoreHours: 1.0 / 3, CPUUsageCoreHours: 1.0 / 6,
				RAMByteHours: 2.0 / 3 * gib, RAMRequestByteHours: 2.0 / 3 * gib, RAMUsageByteHours: 1.0 / 3 * gib,
				CPUCost: 0.04 / 3, RAMCost: 0.01 / 3},
			// CPU 4 − 1/3 = 11/3 core-h, 0.16 − 0.04/3 = $0.146667; RAM 16 − 2/3 = 46/3 GiB-h, 0.08 − 0.01/3.
			idleOf("n1", 1, 11.0/3, 46.0/3, 0, 0.16-0.04/3, 0.08-0.01/3, 0),
			// s1: 40/60 h; 2/3 core-h × 0.012 = $0.008; 4/3 GiB-h × 0.0015 = $0.002.
			{Cluster: "prod", Hour: h0, Node: "s1", Namespace: "shop", Workload: api, App: "api", Pod: "api-1", Container: "app",
				RunHours: 2.0 / 3, CPUCoreHours: 2.0 / 3, CPURequestCoreHours: 2.0 / 3, CPUUsageCoreHours: 1.0 / 3,
				RAMByteHours: 4.0 / 3 * gib, RAMRequestByteHours: 4.0 / 3 * gib, RAMUsageByteHours: 2.0 / 3 * gib,
				CPUCost: 0.008, RAMCost: 0.002},
			// CPU 10/3 core-h, 0.048 − 0.008 = $0.04; RAM 44/3 GiB-h, 0.024 − 0.002 = $0.022.
			idleOf("s1", 1, 10.0/3, 44.0/3, 0, 0.04, 0.022, 0),
		},
	}, {
		name:       "spot node: the same container at cheaper rates",
		containers: []model.ContainerHour{webOn("s1", "web-2"), webOn("n1", "web-1")},
		nodes:      []model.NodeHour{n1, s1},
		want: []model.Allocation{
			webRow("n1", "web-1", 0.04, 0.01),
			idleOf("n1", 1, 3, 14, 0, 0.12, 0.07, 0),
			// 1 core-h × 0.012 = $0.012; 2 GiB-h × 0.0015 = $0.003: $0.015 against $0.05 on-demand.
			webRow("s1", "web-2", 0.012, 0.003),
			// CPU 3 core-h, 4×0.012 − 0.012 = $0.036; RAM 14 GiB-h, 16×0.0015 − 0.003 = $0.021.
			idleOf("s1", 1, 3, 14, 0, 0.036, 0.021, 0),
		},
	}, {
		name: "GPU pod",
		containers: []model.ContainerHour{{Cluster: "prod", Node: "g1", Namespace: "ml", Pod: "train-0", Container: "trainer",
			Workload: train, App: "train", Hour: h0, RunningMinutes: 45,
			CPURequestCores: 2, RAMRequestBytes: 8 * gib, GPURequest: 1,
			// 45 minutes at its request, using 1.5 cores and 6 GiB: 45×2 = 90 core-minutes,
			// 45×8 = 360 GiB-minutes; used 67.5 core-minutes and 270 GiB-minutes.
			CPUChargedCoreMinutes: 90, CPUUsageCoreMinutes: 67.5,
			RAMChargedByteMinutes: 360 * gib, RAMUsageByteMinutes: 270 * gib}},
		nodes: []model.NodeHour{g1},
		want: []model.Allocation{
			// 1.5 core-h × 0.04 = $0.06; 6 GiB-h × 0.005 = $0.03; 1 GPU × 0.75 h × 0.5 = $0.375.
			{Cluster: "prod", Hour: h0, Node: "g1", Namespace: "ml", Workload: train, App: "train", Pod: "train-0",
				Container: "trainer", RunHours: 0.75, CPUCoreHours: 1.5, CPURequestCoreHours: 1.5, CPUUsageCoreHours: 1.125,
				RAMByteHours: 6 * gib, RAMRequestByteHours: 6 * gib, RAMUsageByteHours: 4.5 * gib, GPUHours: 0.75,
				CPUCost: 0.06, RAMCost: 0.03, GPUCost: 0.375},
			// CPU 2.5 core-h, 0.16 − 0.06 = $0.10; RAM 10 GiB-h, 0.08 − 0.03 = $0.05;
			// GPU 1 − 0.75 = 0.25 GPU-h, 0.5 − 0.375 = $0.125.
			idleOf("g1", 1, 2.5, 10, 0.25, 0.1, 0.05, 0.125),
		},
	}, {
		name:       "unpriced node: quantities without cost, and a warning",
		containers: []model.ContainerHour{webOn("u1", "web-2")},
		nodes:      []model.NodeHour{u1},
		want: []model.Allocation{
			webRow("u1", "web-2", 0, 0),
			// 2 − 1 = 1 core-h, 8 − 2 = 6 GiB-h, no cost.
			idleOf("u1", 1, 1, 6, 0, 0, 0, 0),
		},
		warnings: []string{"node prod/u1 at 2026-03-02T10:00:00Z has no price: its 1 container rows and its idle row cost 0"},
	}, {
		name:       "container on a node missing from the nodes",
		containers: []model.ContainerHour{webOn("gone", "web-3"), webOn("n1", "web-1")},
		nodes:      []model.NodeHour{n1},
		want: []model.Allocation{
			webRow("gone", "web-3", 0, 0), // no idle row for it
			webRow("n1", "web-1", 0.04, 0.01),
			idleOf("n1", 1, 3, 14, 0, 0.12, 0.07, 0),
		},
		warnings: []string{"node prod/gone at 2026-03-02T10:00:00Z is not among the hour's nodes: its 1 container rows cost 0"},
	}, {
		name: "overcommitted node: idle never below zero",
		containers: []model.ContainerHour{
			// Requests the whole node's 2 cores and 1 GiB, uses nothing: 120 core-minutes, 60 GiB-minutes.
			{Cluster: "prod", Node: "small", Namespace: "shop", Pod: "big", Container: "app", Workload: web, Hour: h0,
				RunningMinutes: 60, CPURequestCores: 2, RAMRequestBytes: 1 * gib,
				CPUChargedCoreMinutes: 120, RAMChargedByteMinutes: 60 * gib},
			// BestEffort, 1 core and 1 GiB all hour: 60 core-minutes, 60 GiB-minutes.
			{Cluster: "prod", Node: "small", Namespace: "jobs", Pod: "be", Container: "main", Workload: report, Hour: h0,
				RunningMinutes: 60, CPUChargedCoreMinutes: 60, CPUUsageCoreMinutes: 60,
				RAMChargedByteMinutes: 60 * gib, RAMUsageByteMinutes: 60 * gib},
		},
		nodes: []model.NodeHour{small},
		want: []model.Allocation{
			// 1 core-h × 0.04 = $0.04; 1 GiB-h × 0.005 = $0.005.
			{Cluster: "prod", Hour: h0, Node: "small", Namespace: "jobs", Workload: report, Pod: "be", Container: "main",
				RunHours: 1, CPUCoreHours: 1, CPUUsageCoreHours: 1, RAMByteHours: 1 * gib, RAMUsageByteHours: 1 * gib,
				CPUCost: 0.04, RAMCost: 0.005},
			// 2 core-h × 0.04 = $0.08; 1 GiB-h × 0.005 = $0.005.
			{Cluster: "prod", Hour: h0, Node: "small", Namespace: "shop", Workload: web, Pod: "big", Container: "app",
				RunHours: 1, CPUCoreHours: 2, CPURequestCoreHours: 2, RAMByteHours: 1 * gib, RAMRequestByteHours: 1 * gib,
				CPUCost: 0.08, RAMCost: 0.005},
			// CPU: 3 core-h charged on 2 cores: idle max(0, 2 − 3) = 0, max(0, 0.08 − 0.12) = $0.
			// RAM: 4 − 2 = 2 GiB-h, 4×0.005 − 0.01 = $0.01.
			idleOf("small", 1, 0, 2, 0, 0, 0.01, 0),
		},
	}, {
		name:       "container that did not run has no row",
		containers: []model.ContainerHour{{Cluster: "prod", Node: "n1", Namespace: "shop", Pod: "web-0", Container: "app", Hour: h0}},
		nodes:      []model.NodeHour{n1},
		want:       []model.Allocation{idleOf("n1", 1, 4, 16, 0, 0.16, 0.08, 0)},
	}, {
		name: "out-of-range minutes and a duplicate node",
		containers: []model.ContainerHour{func() model.ContainerHour {
			c := webOn("n1", "web-1")
			c.RunningMinutes = 61
			return c
		}()},
		nodes: []model.NodeHour{long, n1},
		want: []model.Allocation{
			webRow("n1", "web-1", 0.04, 0.01),        // 61 minutes counted as 60
			idleOf("n1", 1, 3, 14, 0, 0.12, 0.07, 0), // 75 minutes counted as 60
		},
		warnings: []string{
			"container shop/web-1/app on node prod/n1 at 2026-03-02T10:00:00Z ran 61 minutes in an hour: counted as 60",
			"node prod/n1 at 2026-03-02T10:00:00Z existed 75 minutes in an hour: counted as 60",
			"node prod/n1 at 2026-03-02T10:00:00Z is listed twice: its first entry is used",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, warnings := Hourly(tt.containers, tt.nodes)
			checkRows(t, rows, tt.want)
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings = %q, want %d", warnings, len(tt.warnings))
			}
			for i, w := range tt.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, warnings[i], w)
				}
			}
		})
	}
}

// Rows come out by cluster, hour, node, then the node's containers by namespace, pod and
// container, its idle row last; the same rows in any input order give the same output.
func TestHourlyOrder(t *testing.T) {
	h1 := h0.Add(time.Hour)
	at := func(n model.NodeHour, cluster string, h time.Time) model.NodeHour {
		n.Cluster, n.Hour = cluster, h
		return n
	}
	c := func(cluster, node string, h time.Time, ns, pod, container string) model.ContainerHour {
		return model.ContainerHour{Cluster: cluster, Node: node, Hour: h, Namespace: ns, Pod: pod, Container: container,
			RunningMinutes: 60, CPUChargedCoreMinutes: 6}
	}
	containers := []model.ContainerHour{
		c("prod", "s1", h0, "shop", "web-1", "app"),
		c("dev", "n1", h0, "shop", "web-1", "app"),
		c("prod", "n1", h1, "shop", "web-1", "app"),
		c("prod", "n1", h0, "shop", "web-1", "sidecar"),
		c("prod", "n1", h0, "shop", "web-1", "app"),
		c("prod", "n1", h0, "jobs", "report-1", "main"),
		c("prod", "n1", h0, "shop", "api-1", "app"),
	}
	nodes := []model.NodeHour{at(n1, "prod", h1), at(s1, "prod", h0), at(n1, "prod", h0), at(n1, "dev", h0)}
	want := []string{
		"dev/n1/shop/web-1/app@10",
		"dev/n1/__idle__@10",
		"prod/n1/jobs/report-1/main@10",
		"prod/n1/shop/api-1/app@10",
		"prod/n1/shop/web-1/app@10",
		"prod/n1/shop/web-1/sidecar@10",
		"prod/n1/__idle__@10",
		"prod/s1/shop/web-1/app@10",
		"prod/s1/__idle__@10",
		"prod/n1/shop/web-1/app@11",
		"prod/n1/__idle__@11",
	}
	rows, _ := Hourly(containers, nodes)
	var got []string
	for _, r := range rows {
		got = append(got, rowName(r)+"@"+r.Hour.Format("15"))
	}
	if !slices.Equal(got, want) {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	slices.Reverse(containers)
	slices.Reverse(nodes)
	again, _ := Hourly(containers, nodes)
	if !reflect.DeepEqual(again, rows) {
		t.Error("reversed input gives different rows")
	}
}

// Hours are compared as instants: a node-hour given in another time zone still matches, and
// rows come out in UTC.
func TestHourlyMatchesHoursAsInstants(t *testing.T) {
	c := webOn("n1", "web-1")
	c.Hour = h0.In(time.FixedZone("CET", 3600))
	rows, warnings := Hourly([]model.ContainerHour{c}, []model.NodeHour{n1})
	if len(warnings) != 0 {
		t.Fatalf("warnings: %q", warnings)
	}
	checkRows(t, rows, []model.Allocation{webRow("n1", "web-1", 0.04, 0.01), idleOf("n1", 1, 3, 14, 0, 0.12, 0.07, 0)})
	if rows[0].Hour.Location() != time.UTC {
		t.Errorf("hour in %s, want UTC", rows[0].Hour.Location())
	}
}
