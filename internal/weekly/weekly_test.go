package weekly

import (
	"context"
	"encoding/csv"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/store/storetest"
)

func TestParseWeek(t *testing.T) {
	for in, want := range map[string][2]int{"": {0, 0}, "2026-W47": {2026, 47}, "2020-W53": {2020, 53}, "2026-W01": {2026, 1}} {
		y, w, err := ParseWeek(in)
		if err != nil || y != want[0] || w != want[1] {
			t.Errorf("ParseWeek(%q) = %d, %d, %v; want %v", in, y, w, err, want)
		}
	}
	for _, bad := range []string{"2026-47", "2026-W00", "2021-W53", "2026-W54", "26-W01", "2026-w01"} {
		if _, _, err := ParseWeek(bad); err == nil {
			t.Errorf("ParseWeek(%q): no error", bad)
		}
	}
	// 4 January 2026 is a Sunday: week 1 starts on Monday 29 December 2025.
	if got := WeekStart(2026, 1); !got.Equal(time.Date(2025, 12, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("WeekStart(2026, 1) = %s", got)
	}
	// Tuesday 24 November 2026 is in week 48; the last complete week is 47 (16-22 November).
	if y, w := LastCompleteWeek(time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC)); y != 2026 || w != 47 {
		t.Errorf("LastCompleteWeek = %d-W%d, want 2026-W47", y, w)
	}
	if got := WeekStart(2026, 47); !got.Equal(time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("WeekStart(2026, 47) = %s, want 16 November", got)
	}
}

// The week 2026-W10 (2 to 8 March) of a one-node cluster, worked out by hand:
//
//	row       ns/team        CPU h req use  cost   RAM GiB·h req use  cost
//	A         shop/shop          4   4  1    2         8     8   4     1
//	B         data/data          2   2  2    1         4     4   4     0.5
//	C         tools/(none)       2   2  0.5  1         4     4   1     0.5
//	idle n1                      8           4        16               2
//
// B's pod has no team label: its team is its namespace's (data). A's pod label (shop) wins over
// its namespace's (web). tools was labelled team=tools in the week before and unlabelled this week:
// (none) this week.
// legacy's pod, the week before, takes that week's label of its namespace (legacy).
//
// Idle is shared per resource in proportion to cost: CPU 4 over 4 → 1 per unit, RAM 2 over 2
// → 1 per unit: A takes 2 + 1 = 3, B 1 + 0.5 = 1.5, C 1.5. Totals: A 6, B 3, C 3; idle share
// 50% each. Efficiency: A CPU 25%, RAM 50%, both (0.25×2 + 0.5×1) / 3 = 33.3%; B 100%; C 25%.
// Waste: A (4−1)×2/4 + (8−4)×1/8 = 2; B 0; C 1.5×1/2 + 3×0.5/4 = 1.125.
// The week before: shop/shop 5, legacy/legacy 2 (total 7).
// Summary: total 12 (7 ... + idle 6), change (12−7)/7 = 71.4%, idle 50%; CPU utilisation
// 3.5 ÷ 16 = 21.875% → 21.9, memory 9 ÷ 32 = 28.125% → 28.1.
func TestWriteWorkedWeek(t *testing.T) {
	s, _ := storetest.Open(t, "tally_weekly", slog.New(slog.DiscardHandler))
	ctx := context.Background()
	const gib = 1 << 30
	h := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	prev := h.AddDate(0, 0, -7)
	row := func(hour time.Time, ns, team string, cpu, req, use, cpuCost, ram, ramReq, ramUse, ramCost float64) model.Allocation {
		a := model.Allocation{Cluster: "prod", Hour: hour, Node: "n1", Namespace: ns, Workload: model.WorkloadRef{Kind: "Deployment", Name: ns},
			Pod: ns + "-0", Container: "app", RunHours: 1, CPUCoreHours: cpu, CPURequestCoreHours: req, CPUUsageCoreHours: use, CPUCost: cpuCost,
			RAMByteHours: ram * gib, RAMRequestByteHours: ramReq * gib, RAMUsageByteHours: ramUse * gib, RAMCost: ramCost}
		if team != "" {
			a.Labels = map[string]string{"team": team}
		}
		return a
	}
	idle := model.Allocation{Cluster: "prod", Hour: h, Node: "n1", Idle: true, RunHours: 1, CPUCoreHours: 8, CPUCost: 4, RAMByteHours: 16 * gib, RAMCost: 2}
	if err := s.InsertAllocations(ctx, []model.Allocation{
		row(h, "shop", "shop", 4, 4, 1, 2, 8, 8, 4, 1),
		row(h, "data", "", 2, 2, 2, 1, 4, 4, 4, 0.5),
		row(h, "tools", "", 2, 2, 0.5, 1, 4, 4, 1, 0.5),
		idle,
		row(prev, "shop", "shop", 4, 4, 4, 4, 1, 1, 1, 1),
		row(prev, "legacy", "", 2, 2, 2, 1.5, 1, 1, 1, 0.5),
		row(h.AddDate(0, 0, 7), "shop", "shop", 64, 64, 64, 64, 64, 64, 64, 64), // the week after
	}); err != nil {
		t.Fatal(err)
	}
	team := func(at time.Time, ns, v string) model.Namespace {
		return model.Namespace{Cluster: "prod", ObservedAt: at, Name: ns, Labels: map[string]string{"team": v}}
	}
	if err := s.InsertNamespaces(ctx, []model.Namespace{
		team(h, "shop", "web"), team(h, "data", "data"),
		team(prev, "tools", "tools"), team(prev, "legacy", "legacy"),
		{Cluster: "prod", ObservedAt: h, Name: "tools"}, // its label removed
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertNodePrices(ctx, []model.NodePrice{{Cluster: "prod", Hour: h, Node: "n1", Currency: "USD", HourlyCost: 6,
		CPUCoreHourCost: 0.5, RAMGiBHourCost: 0.125}}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "2026-W10")
	res, err := Write(ctx, s, Options{Cluster: "prod", Year: 2026, Week: 10, Dir: dir, Now: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC),
		Policy: rightsizing.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if !res.From.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) || !res.To.Equal(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("week [%s, %s), want 2 to 9 March", res.From, res.To)
	}

	want := map[string][][]string{
		FileCostsByNamespace: {
			CostsHeader("namespace"),
			{"2026-W10", "shop", "6.0000", "5.0000", "20.0", "2.0000", "1.0000", "0.0000", "0.0000", "3.0000", "50.0", "25.0", "50.0", "33.3", "2.0000", "USD"},
			{"2026-W10", "data", "3.0000", "", "", "1.0000", "0.5000", "0.0000", "0.0000", "1.5000", "50.0", "100.0", "100.0", "100.0", "0.0000", "USD"},
			{"2026-W10", "tools", "3.0000", "", "", "1.0000", "0.5000", "0.0000", "0.0000", "1.5000", "50.0", "25.0", "25.0", "25.0", "1.1250", "USD"},
			{"2026-W10", "legacy", "0.0000", "2.0000", "-100.0", "0.0000", "0.0000", "0.0000", "0.0000", "0.0000", "", "", "", "", "0.0000", "USD"},
		},
		FileCostsByTeam: {
			CostsHeader("team"),
			{"2026-W10", "shop", "6.0000", "5.0000", "20.0", "2.0000", "1.0000", "0.0000", "0.0000", "3.0000", "50.0", "25.0", "50.0", "33.3", "2.0000", "USD"},
			{"2026-W10", "(none)", "3.0000", "", "", "1.0000", "0.5000", "0.0000", "0.0000", "1.5000", "50.0", "25.0", "25.0", "25.0", "1.1250", "USD"},
			{"2026-W10", "data", "3.0000", "", "", "1.0000", "0.5000", "0.0000", "0.0000", "1.5000", "50.0", "100.0", "100.0", "100.0", "0.0000", "USD"},
			{"2026-W10", "legacy", "0.0000", "2.0000", "-100.0", "0.0000", "0.0000", "0.0000", "0.0000", "0.0000", "", "", "", "", "0.0000", "USD"},
		},
		FileSummary: {
			SummaryHeader,
			{"2026-W10", "2026-03-02", "2026-03-08", "prod", "12.0000", "7.0000", "71.4", "6.0000", "50.0", "21.9", "28.1",
				"0.0000", "0.0000", "0", "0", "USD"},
		},
	}
	for name, rows := range want {
		got := readCSV(t, filepath.Join(dir, name))
		if !reflect.DeepEqual(got, rows) {
			t.Errorf("%s =\n%s\nwant\n%s", name, show(got), show(rows))
		}
	}
	// No usage, so no recommendations and no running containers: the header alone.
	for _, name := range []string{FileRightsizing, FileQoS} {
		if got := readCSV(t, filepath.Join(dir, name)); len(got) != 1 || len(got[0]) < 5 {
			t.Errorf("%s = %v, want its header alone", name, got)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{FileCostsByNamespace, FileCostsByTeam, FileQoS, FileRightsizing, FileSummary}; !reflect.DeepEqual(names, want) {
		t.Errorf("files %v, want %v (no temporary files left)", names, want)
	}

	// A week that has not ended, and a week without data, are errors; nothing is written.
	if _, err := Write(ctx, s, Options{Cluster: "prod", Year: 2026, Week: 11, Dir: t.TempDir(), Now: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("a week ending after now: no error")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if _, err := Write(ctx, s, Options{Cluster: "prod", Year: 2026, Week: 1, Dir: empty, Now: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC),
		Policy: rightsizing.DefaultPolicy()}); err == nil || !strings.Contains(err.Error(), "no cost data") {
		t.Errorf("a week without data: %v, want ErrNoData", err)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("a week without data created %s", empty)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func show(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	return b.String()
}
