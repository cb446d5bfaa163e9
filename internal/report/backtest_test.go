package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/rightsizing"
)

var earlier = Window{From: fortnight.From.AddDate(0, 0, -14), To: fortnight.From}

// backtests score the recommendations by hand-made outcomes of the following 14 days
// (3 × 20,160 samples for web):
//
//  1. web app: 5% of the samples above 231m, never over 460Mi: held; requests were
//     changed to the recommendation, so the realised savings are the predicted ones;
//  2. web envoy: 25% above 13m: cpu-tight; nothing changed (realised 0);
//  3. trainer: 12 pod-minutes over 3.5Gi: memory-exceeded; no later snapshot;
//  4. toolbox: did not run later: no-later-data;
//  5. api: insufficient data in the earlier window: no-recommendation;
//  6. report: held.
func backtests() []rightsizing.Backtest {
	recs := recommendations()
	p := rightsizing.DefaultPolicy()
	later := func(samples, cpuOver, memOver int, peak, cpu, mem float64) rightsizing.Outcome {
		return rightsizing.Outcome{Samples: samples, CPUOverRequest: cpuOver, MemoryOverLimit: memOver, MemoryPeakBytes: peak,
			CPURequestCores: cpu, MemoryRequestBytes: mem, HasLater: true, Replicas: 3, CPUCoreHourCost: 0.04, RAMGiBHourCost: 0.005}
	}
	noSnapshot := later(40320, 1000, 12, 3.6*gib, 0, 0)
	noSnapshot.HasLater = false
	return []rightsizing.Backtest{
		rightsizing.Score(recs[0], later(60480, 3024, 0, 410*mib, 0.231, 482344960), p),
		rightsizing.Score(recs[1], later(60480, 15120, 0, 41*mib, 0.1, 128*mib), p),
		rightsizing.Score(recs[2], noSnapshot, p),
		rightsizing.Score(recs[3], rightsizing.Outcome{}, p),
		rightsizing.Score(recs[4], later(60480, 0, 0, 300*mib, 0.5, 512*mib), p),
		rightsizing.Score(recs[5], later(1300, 26, 0, 1200*mib, 0, 0), p),
	}
}

func TestBacktestGolden(t *testing.T) {
	tests := []struct {
		name string
		bt   Backtest
		bs   []rightsizing.Backtest
	}{
		{"backtest", Backtest{Cluster: "prod", Earlier: earlier, Later: fortnight, Currency: "USD"}, backtests()},
		{"backtest_empty", Backtest{Cluster: "prod", Earlier: earlier, Later: fortnight}, nil},
	}
	for _, tc := range tests {
		for _, format := range []string{FormatTable, FormatCSV, FormatJSON} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				var b bytes.Buffer
				if err := tc.bt.Render(&b, format, tc.bs); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", tc.name+"."+format), b.Bytes())
			})
		}
	}
}

func renderBacktest(t *testing.T, bt Backtest, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := bt.Render(&b, format, backtests()); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestBacktestVerdicts(t *testing.T) {
	var got []string
	for _, b := range backtests() {
		got = append(got, b.Verdict)
	}
	want := []string{rightsizing.VerdictHeld, rightsizing.VerdictCPUTight, rightsizing.VerdictMemoryExceeded,
		rightsizing.VerdictNoLaterData, rightsizing.VerdictNoRecommendation, rightsizing.VerdictHeld}
	if !slices.Equal(got, want) {
		t.Fatalf("the test's inputs give verdicts %v, want %v", got, want)
	}
}

func TestBacktestTable(t *testing.T) {
	table := renderBacktest(t, Backtest{Cluster: "prod", Earlier: earlier, Later: fortnight, Currency: "USD", Top: 3}, FormatTable)
	// Scored: web app, envoy, trainer, report: 3024 + 15120 + 1000 + 26 = 19,170 of
	// 60,480 + 60,480 + 40,320 + 1,300 = 162,580 samples above the request, 11.79%.
	// Predicted: 18.44 + 5.12 + 3 − 12.3 of the scored; realised: web app's alone.
	for _, want := range []string{
		"recommended from 2026-02-15T00:00:00Z to 2026-03-01T00:00:00Z (14d), scored against 2026-03-01T00:00:00Z to 2026-03-15T00:00:00Z (14d)",
		"TOTAL: 6 containers, 4 scored: 2 held, 1 cpu-tight, 1 memory-exceeded; CPU above the request in 11.8% of scored samples",
		"Savings per month: predicted 14.26 (scored containers), realised 18.44 USD",
		"(top 3 of 6; totals cover all 6)",
		"5.0%", "25.0%", "3.6Gi", "memory-exceeded",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table has no %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "toolbox") {
		t.Errorf("table shows more than the top 3:\n%s", table)
	}
}

func TestBacktestJSON(t *testing.T) {
	var got struct {
		Earlier    map[string]time.Time `json:"earlier"`
		Containers []map[string]any     `json:"containers"`
		Totals     map[string]any       `json:"totals"`
	}
	if err := json.Unmarshal([]byte(renderBacktest(t, Backtest{Top: 1}, FormatJSON)), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Containers) != 6 {
		t.Fatalf("%d containers, want all 6 whatever Top", len(got.Containers))
	}
	if got.Containers[2]["realisedMonthlySavings"] != nil {
		t.Errorf("no later snapshot: realised %v, want null", got.Containers[2]["realisedMonthlySavings"])
	}
	if v := got.Containers[0]["realisedMonthlySavings"]; v != 18.440142 {
		t.Errorf("web app realised %v, want 18.440142", v)
	}
	if got.Totals["scored"] != 4.0 || got.Totals["memoryExceeded"] != 1.0 {
		t.Errorf("totals %v", got.Totals)
	}
}

func TestBacktestCSV(t *testing.T) {
	recs, err := csv.NewReader(strings.NewReader(renderBacktest(t, Backtest{Top: 1}, FormatCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], BacktestCSVHeader) || len(recs) != 7 {
		t.Fatalf("header %v and %d rows, want %v and 6", recs[0], len(recs)-1, BacktestCSVHeader)
	}
	col := func(row int, name string) string { return recs[row][slices.Index(recs[0], name)] }
	if col(2, "cpu_over_share") != "0.25" || col(3, "realised_monthly_savings") != "" || col(3, "memory_over_limit_samples") != "12" {
		t.Errorf("rows %v", recs[1:])
	}
}
