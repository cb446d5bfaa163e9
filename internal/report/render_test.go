package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// workedExample is the node of docs/cost-model.md, section 5: rates c per core-hour and m per
// GiB-hour, three pods and the node's idle row for one hour.
func workedExample() []model.Allocation {
	const (
		gib = 1 << 30
		c   = 0.192 * 0.126444 / 0.194236 / 4
		m   = 0.192 * 0.067792 / 0.194236 / 16
	)
	pod := func(ns, kind, name string, run, cpu, cpuReq, cpuUse, ram, ramReq, ramUse float64) model.Allocation {
		return model.Allocation{Cluster: "prod", Node: "ip-10-0-1-23", Namespace: ns, Workload: model.WorkloadRef{Kind: kind, Name: name},
			App: name, Labels: map[string]string{"team": ns}, RunHours: run,
			CPUCoreHours: cpu, CPURequestCoreHours: cpuReq, CPUUsageCoreHours: cpuUse,
			RAMByteHours: ram * gib, RAMRequestByteHours: ramReq * gib, RAMUsageByteHours: ramUse * gib,
			CPUCost: cpu * c, RAMCost: ram * m}
	}
	return []model.Allocation{
		pod("shop", "Deployment", "web", 1, 1, 1, 0.6, 4, 4, 3),
		pod("shop", "Deployment", "api", 1, 0.75, 0.5, 35.0/60, 2, 2, 1.5),
		pod("batch", "CronJob", "report", 0.5, 0.2, 0, 0.2, 0.25, 0, 0.25),
		{Cluster: "prod", Node: "ip-10-0-1-23", Idle: true, RunHours: 1, CPUCoreHours: 2.05, RAMByteHours: 9.75 * gib,
			CPUCost: 2.05 * c, RAMCost: 9.75 * m},
	}
}

func TestRenderGolden(t *testing.T) {
	gpuRow := model.Allocation{Cluster: "prod", Node: "gpu-node-with-a-rather-long-name-1", Namespace: "ml-training-and-inference-platform",
		Workload: model.WorkloadRef{Kind: "StatefulSet", Name: "trainer-with-a-very-long-workload-name"}, App: "trainer",
		RunHours: 1, CPUCoreHours: 8, CPURequestCoreHours: 8, CPUUsageCoreHours: 6, GPUHours: 1,
		CPUCost: 0.4, RAMCost: 0.1, GPUCost: 2.5}
	tests := []struct {
		name string
		rows []model.Allocation
		opts allocation.Options
		cost Costs
	}{
		{"namespace", workedExample(), allocation.Options{By: []string{"namespace"}}, Costs{Currency: "USD"}},
		{"namespace_share_idle", workedExample(), allocation.Options{By: []string{"namespace"}, Idle: allocation.IdleShare}, Costs{}},
		{"workload_shared_gpu", append(workedExample(), gpuRow),
			allocation.Options{By: []string{"namespace", "workload"}, Idle: allocation.IdleShare, ShareNamespaces: []string{"batch"},
				ShareMonthly: 73, WindowHours: 1},
			Costs{Currency: "EUR"}},
		{"empty", nil, allocation.Options{By: []string{"app"}}, Costs{}},
	}
	for _, tc := range tests {
		totals, err := allocation.Aggregate(tc.rows, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		tc.cost.Keys = tc.opts.By
		for _, format := range []string{FormatTable, FormatCSV, FormatJSON} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				var b bytes.Buffer
				if err := tc.cost.Render(&b, format, totals); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", tc.name+"."+format), b.Bytes())
				checkFormat(t, format, b.Bytes(), totals, tc.cost)
			})
		}
	}
}

// checkFormat checks what the golden files cannot say by themselves: the table fits its
// width and ends with the TOTAL line, the CSV is RFC 4180 with a row per total, and the JSON
// decodes back to the totals.
func checkFormat(t *testing.T, format string, out []byte, totals []allocation.Total, c Costs) {
	t.Helper()
	switch format {
	case FormatTable:
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if c.Currency != "" {
			if last := lines[len(lines)-1]; last != "(amounts in "+c.Currency+")" {
				t.Errorf("table ends with %q, want the currency", last)
			}
			lines = lines[:len(lines)-1]
		}
		if len(lines) != len(totals)+2 || !strings.HasPrefix(lines[len(lines)-1], "TOTAL ") {
			t.Errorf("table has %d lines, want a header, %d totals and TOTAL:\n%s", len(lines), len(totals), out)
		}
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > 100 {
				t.Errorf("line of %d columns, wider than 100: %q", n, l)
			}
		}
	case FormatCSV:
		recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(totals)+1 || recs[0][0] != "name" {
			t.Errorf("csv has %d records, want a header and %d", len(recs), len(totals))
		}
		for i, tot := range totals {
			if recs[i+1][0] != tot.Name {
				t.Errorf("csv row %d is %q, want %q", i+1, recs[i+1][0], tot.Name)
			}
		}
	case FormatJSON:
		var got []allocation.Total
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(totals) || (len(totals) > 0 && !reflect.DeepEqual(got, totals)) {
			t.Errorf("json decodes to %+v, want %+v", got, totals)
		}
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	if err := (Costs{}).Render(&bytes.Buffer{}, "yaml", nil); err == nil || !strings.Contains(err.Error(), `unknown format "yaml"`) {
		t.Errorf("error = %v", err)
	}
}

// The table keeps the order it is given (Aggregate's: by cost) and computes the TOTAL line's
// efficiencies from the summed usage and requests.
func TestTableTotalLine(t *testing.T) {
	totals := []allocation.Total{
		{Name: "b", CPUCost: 1, TotalCost: 1, CPURequestCoreHours: 2, CPUUsageCoreHours: 1, CPUEfficiency: 0.5, WasteCost: 0.5},
		{Name: "a", CPUCost: 3, TotalCost: 3, CPURequestCoreHours: 2, CPUUsageCoreHours: 2, CPUEfficiency: 1},
	}
	var b bytes.Buffer
	if err := (Costs{}).Render(&b, FormatTable, totals); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"NAME           CPU   RAM  TOTAL  CPU EFF  RAM EFF  WASTE\n" +
		"b             1.00  0.00   1.00      50%       0%   0.50\n" +
		"a             3.00  0.00   3.00     100%       0%   0.00\n" +
		"TOTAL         4.00  0.00   4.00      75%       0%   0.50\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}
