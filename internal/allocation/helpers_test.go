package allocation

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

const gib = 1 << 30

// h0 is the hour most tests allocate.
var h0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// Workloads used across the tests.
var (
	web       = model.WorkloadRef{Kind: "Deployment", Name: "web"}
	api       = model.WorkloadRef{Kind: "Deployment", Name: "api"}
	report    = model.WorkloadRef{Kind: "CronJob", Name: "report"}
	kubeProxy = model.WorkloadRef{Kind: "DaemonSet", Name: "kube-proxy"}
	train     = model.WorkloadRef{Kind: "Job", Name: "train"}
)

// close reports whether got equals want to 1e-9 relative (or 1e-12 absolute, near zero).
func closeTo(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12+1e-9*math.Abs(want)
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if !closeTo(got, want) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

// priced returns a priced node-hour of one full hour whose unit rates are cpu per core-hour,
// ram per GiB-hour and gpu per GPU-hour; its HourlyCost is its capacity at those rates.
func priced(cluster, node string, cores, ramGiB, gpus, cpu, ram, gpu float64) model.NodeHour {
	return model.NodeHour{Cluster: cluster, Node: node, Hour: h0, Minutes: 60,
		CPUCores: cores, RAMBytes: ramGiB * gib, GPUs: gpus, Priced: true,
		Price: model.NodePrice{Cluster: cluster, Node: node, Hour: h0,
			HourlyCost:      cores*cpu + ramGiB*ram + gpus*gpu,
			CPUCoreHourCost: cpu, RAMGiBHourCost: ram, GPUHourCost: gpu}}
}

// allocationDiff lists the fields in which got differs from want; numbers to 1e-9 relative.
func allocationDiff(got, want model.Allocation) []string {
	var d []string
	str := func(name, g, w string) {
		if g != w {
			d = append(d, fmt.Sprintf("%s = %q, want %q", name, g, w))
		}
	}
	num := func(name string, g, w float64) {
		if !closeTo(g, w) {
			d = append(d, fmt.Sprintf("%s = %.12g, want %.12g", name, g, w))
		}
	}
	str("Cluster", got.Cluster, want.Cluster)
	str("Node", got.Node, want.Node)
	str("Namespace", got.Namespace, want.Namespace)
	str("Workload", got.Workload.Kind+"/"+got.Workload.Name, want.Workload.Kind+"/"+want.Workload.Name)
	str("App", got.App, want.App)
	str("Pod", got.Pod, want.Pod)
	str("Container", got.Container, want.Container)
	str("Labels", fmt.Sprint(got.Labels), fmt.Sprint(want.Labels))
	if !got.Hour.Equal(want.Hour) {
		d = append(d, fmt.Sprintf("Hour = %s, want %s", got.Hour, want.Hour))
	}
	if got.Idle != want.Idle {
		d = append(d, fmt.Sprintf("Idle = %t, want %t", got.Idle, want.Idle))
	}
	num("RunHours", got.RunHours, want.RunHours)
	num("CPUCoreHours", got.CPUCoreHours, want.CPUCoreHours)
	num("CPURequestCoreHours", got.CPURequestCoreHours, want.CPURequestCoreHours)
	num("CPUUsageCoreHours", got.CPUUsageCoreHours, want.CPUUsageCoreHours)
	num("RAMByteHours", got.RAMByteHours, want.RAMByteHours)
	num("RAMRequestByteHours", got.RAMRequestByteHours, want.RAMRequestByteHours)
	num("RAMUsageByteHours", got.RAMUsageByteHours, want.RAMUsageByteHours)
	num("GPUHours", got.GPUHours, want.GPUHours)
	num("CPUCost", got.CPUCost, want.CPUCost)
	num("RAMCost", got.RAMCost, want.RAMCost)
	num("GPUCost", got.GPUCost, want.GPUCost)
	return d
}

func checkRows(t *testing.T, got, want []model.Allocation) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d rows, want %d:\n%s", len(got), len(want), rowNames(got))
		return
	}
	for i := range want {
		if d := allocationDiff(got[i], want[i]); len(d) > 0 {
			t.Errorf("row %d (%s):\n  %s", i, rowName(got[i]), strings.Join(d, "\n  "))
		}
	}
}

func rowName(a model.Allocation) string {
	if a.Idle {
		return a.Cluster + "/" + a.Node + "/" + IdleName
	}
	return a.Cluster + "/" + a.Node + "/" + a.Namespace + "/" + a.Pod + "/" + a.Container
}

func rowNames(rows []model.Allocation) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %s at %s\n", rowName(r), r.Hour.Format(time.RFC3339))
	}
	return b.String()
}

// totalDiff lists the fields in which got differs from want; numbers to 1e-9 relative.
// Keys are compared when want has any.
func totalDiff(got, want Total) []string {
	var d []string
	if got.Name != want.Name {
		d = append(d, fmt.Sprintf("Name = %q, want %q", got.Name, want.Name))
	}
	if want.Keys != nil && fmt.Sprint(got.Keys) != fmt.Sprint(want.Keys) {
		d = append(d, fmt.Sprintf("Keys = %v, want %v", got.Keys, want.Keys))
	}
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"CPUCoreHours", got.CPUCoreHours, want.CPUCoreHours},
		{"RAMByteHours", got.RAMByteHours, want.RAMByteHours},
		{"GPUHours", got.GPUHours, want.GPUHours},
		{"CPURequestCoreHours", got.CPURequestCoreHours, want.CPURequestCoreHours},
		{"CPUUsageCoreHours", got.CPUUsageCoreHours, want.CPUUsageCoreHours},
		{"RAMRequestByteHours", got.RAMRequestByteHours, want.RAMRequestByteHours},
		{"RAMUsageByteHours", got.RAMUsageByteHours, want.RAMUsageByteHours},
		{"CPUCost", got.CPUCost, want.CPUCost},
		{"RAMCost", got.RAMCost, want.RAMCost},
		{"GPUCost", got.GPUCost, want.GPUCost},
		{"SharedCost", got.SharedCost, want.SharedCost},
		{"IdleCost", got.IdleCost, want.IdleCost},
		{"TotalCost", got.TotalCost, want.TotalCost},
		{"CPUEfficiency", got.CPUEfficiency, want.CPUEfficiency},
		{"RAMEfficiency", got.RAMEfficiency, want.RAMEfficiency},
		{"TotalEfficiency", got.TotalEfficiency, want.TotalEfficiency},
		{"WasteCost", got.WasteCost, want.WasteCost},
	} {
		if !closeTo(f.got, f.want) {
			d = append(d, fmt.Sprintf("%s = %.12g, want %.12g", f.name, f.got, f.want))
		}
	}
	return d
}

// costs is the part of a Total that most aggregation tests check: the money, in order.
type costs struct {
	name                               string
	cpu, ram, gpu, shared, idle, total float64
}

func checkCosts(t *testing.T, got []Total, want []costs) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d totals, want %d: %v", len(got), len(want), totalNames(got))
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name {
			t.Errorf("total %d is %q, want %q (order: %v)", i, g.Name, w.name, totalNames(got))
			continue
		}
		for _, f := range []struct {
			field     string
			got, want float64
		}{
			{"CPUCost", g.CPUCost, w.cpu}, {"RAMCost", g.RAMCost, w.ram}, {"GPUCost", g.GPUCost, w.gpu},
			{"SharedCost", g.SharedCost, w.shared}, {"IdleCost", g.IdleCost, w.idle}, {"TotalCost", g.TotalCost, w.total},
		} {
			if !closeTo(f.got, f.want) {
				t.Errorf("%s: %s = %.12g, want %.12g", w.name, f.field, f.got, f.want)
			}
		}
	}
}

func totalNames(ts []Total) []string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = fmt.Sprintf("%s=%.6g", t.Name, t.TotalCost)
	}
	return names
}

func sumTotalCost(ts []Total) float64 {
	s := 0.0
	for _, t := range ts {
		s += t.TotalCost
	}
	return s
}
