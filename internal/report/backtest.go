package report

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tally-finops/tally/internal/rightsizing"
)

// Backtest says how to render a backtest of rightsizing recommendations.
type Backtest struct {
	Cluster        string
	Earlier, Later Window // the recommendations are computed from Earlier and scored against Later
	Currency       string
	Top            int // the table shows the first Top rows (all when ≤ 0); totals, CSV and JSON cover all
}

// Render writes bs, in the order given, as table, csv or json. The table has one line per
// container and a TOTAL line from rightsizing.TotalsOf; CSV one row per container (no
// totals); JSON an object {"earlier", "later", "containers", "totals"}.
func (bt Backtest) Render(w io.Writer, format string, bs []rightsizing.Backtest) error {
	switch format {
	case FormatTable:
		return bt.table(w, bs)
	case FormatCSV:
		return bt.csv(w, bs)
	case FormatJSON:
		return bt.json(w, bs)
	}
	return CheckFormat(format)
}

func (bt Backtest) table(w io.Writer, bs []rightsizing.Backtest) error {
	var b strings.Builder
	b.WriteString(title("Backtest", bt.Cluster, Window{}))
	if bt.Earlier != (Window{}) || bt.Later != (Window{}) {
		fmt.Fprintf(&b, ": recommended from %s, scored against %s", windowText(bt.Earlier), windowText(bt.Later))
	}
	if bt.Currency != "" {
		fmt.Fprintf(&b, "; savings in %s per month", bt.Currency)
	}
	b.WriteString("\n\n")
	if len(bs) == 0 {
		b.WriteString("No recommendations to score.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	shown := bs
	if bt.Top > 0 && len(bs) > bt.Top {
		shown = bs[:bt.Top]
	}
	header := []string{"NAMESPACE", "WORKLOAD", "CONTAINER", "CPU REQUEST", "MEM LIMIT", "SAMPLES", "CPU OVER", "MEM OVER MIN", "LATER PEAK", "VERDICT", "PREDICTED/MO", "REALISED/MO"}
	right := map[int]bool{5: true, 6: true, 7: true, 8: true, 10: true, 11: true}
	rows := make([][]string, 0, len(shown))
	for _, x := range shown {
		rec, o := x.Recommendation, x.Outcome
		over, overMin, peak, realised := "-", "-", "-", "-"
		if o.Samples > 0 {
			peak = memoryText(o.MemoryPeakBytes)
		}
		if o.Samples > 0 && x.Verdict != rightsizing.VerdictNoRecommendation {
			over = strconv.FormatFloat(x.CPUOverShare*100, 'f', 1, 64) + "%"
			overMin = groupThousands(o.MemoryOverLimit)
		}
		if o.HasLater {
			realised = money(x.RealisedMonthlySavings)
		}
		rows = append(rows, []string{nameCell(rec.Namespace), nameCell(workloadName(rec.Workload.Kind, rec.Workload.Name)), nameCell(rec.Container),
			valueText(rec.Recommended.CPURequest, cpuText), valueText(rec.Recommended.MemoryLimit, memoryText),
			groupThousands(o.Samples), over, overMin, peak, x.Verdict, money(rec.MonthlySavings), realised})
	}
	writeAligned(&b, header, rows, right)

	t := rightsizing.TotalsOf(bs)
	fmt.Fprintf(&b, "\nTOTAL: %s, %d scored: %d held, %d cpu-tight, %d memory-exceeded; CPU above the request in %s of scored samples\n",
		count(t.Containers, "container"), t.Scored, t.Held, t.CPUTight, t.MemoryExceeded, strconv.FormatFloat(t.CPUOverShare*100, 'f', 1, 64)+"%")
	fmt.Fprintf(&b, "Savings per month: predicted %s (scored containers), realised %s%s\n",
		money(t.PredictedMonthlySavings), money(t.RealisedMonthlySavings), prefixed(" ", bt.Currency))
	if len(shown) < len(bs) {
		fmt.Fprintf(&b, "(top %d of %d; totals cover all %d)\n", len(shown), len(bs), len(bs))
	}
	b.WriteString("\nCPU OVER: share of the later samples above the recommended CPU request. MEM OVER MIN: pod-minutes over the\n" +
		"recommended memory limit (each an OOM kill risked). REALISED: the change in requests actually made, priced alike.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// BacktestCSVHeader is the header row of the backtest CSV.
var BacktestCSVHeader = []string{
	"cluster", "namespace", "workload_kind", "workload", "container",
	"recommended_cpu_request_cores", "recommended_cpu_limit_cores", "recommended_memory_request_bytes", "recommended_memory_limit_bytes",
	"later_samples", "cpu_over_request_samples", "cpu_over_share", "memory_over_limit_samples", "later_memory_peak_bytes",
	"verdict", "predicted_monthly_savings", "realised_monthly_savings", "currency",
}

func (bt Backtest) csv(w io.Writer, bs []rightsizing.Backtest) error {
	rows := make([][]string, 0, len(bs))
	for i := range bs {
		x := &bs[i]
		rec, o := &x.Recommendation, x.Outcome
		row := []string{cmp.Or(rec.Cluster, bt.Cluster), rec.Namespace, rec.Workload.Kind, rec.Workload.Name, rec.Container}
		row = append(row, resourceCells(rec.Recommended)...)
		realised := ""
		if o.HasLater {
			realised = number(x.RealisedMonthlySavings, 6)
		}
		row = append(row, strconv.Itoa(o.Samples), strconv.Itoa(o.CPUOverRequest), number(x.CPUOverShare, 6),
			strconv.Itoa(o.MemoryOverLimit), number(o.MemoryPeakBytes, 0), x.Verdict,
			number(rec.MonthlySavings, 6), realised, cmp.Or(rec.Currency, bt.Currency))
		rows = append(rows, row)
	}
	return writeCSV(w, "backtest", BacktestCSVHeader, rows)
}

type windowJSON struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

type backtestJSON struct {
	Cluster                 string        `json:"cluster"`
	Namespace               string        `json:"namespace"`
	WorkloadKind            string        `json:"workloadKind"`
	Workload                string        `json:"workload"`
	Container               string        `json:"container"`
	Recommended             resourcesJSON `json:"recommended"`
	Risk                    string        `json:"risk"`
	LaterSamples            int           `json:"laterSamples"`
	CPUOverRequestSamples   int           `json:"cpuOverRequestSamples"`
	CPUOverShare            float64       `json:"cpuOverShare"`
	MemoryOverLimitSamples  int           `json:"memoryOverLimitSamples"`
	MemoryExceeded          bool          `json:"memoryExceeded"`
	LaterMemoryPeakBytes    float64       `json:"laterMemoryPeakBytes"`
	Verdict                 string        `json:"verdict"`
	PredictedMonthlySavings float64       `json:"predictedMonthlySavings"`
	RealisedMonthlySavings  *float64      `json:"realisedMonthlySavings"` // null without a later snapshot
	Currency                string        `json:"currency"`
}

type backtestTotalsJSON struct {
	Containers              int     `json:"containers"`
	Scored                  int     `json:"scored"`
	Held                    int     `json:"held"`
	CPUTight                int     `json:"cpuTight"`
	MemoryExceeded          int     `json:"memoryExceeded"`
	CPUOverShare            float64 `json:"cpuOverShare"`
	PredictedMonthlySavings float64 `json:"predictedMonthlySavings"`
	RealisedMonthlySavings  float64 `json:"realisedMonthlySavings"`
}

func (bt Backtest) json(w io.Writer, bs []rightsizing.Backtest) error {
	rows := make([]backtestJSON, 0, len(bs))
	for i := range bs {
		x := &bs[i]
		rec, o := &x.Recommendation, x.Outcome
		var realised *float64
		if o.HasLater {
			v := round(x.RealisedMonthlySavings, 6)
			realised = &v
		}
		rows = append(rows, backtestJSON{
			Cluster: cmp.Or(rec.Cluster, bt.Cluster), Namespace: rec.Namespace, WorkloadKind: rec.Workload.Kind, Workload: rec.Workload.Name,
			Container: rec.Container, Recommended: resourcesOf(rec.Recommended), Risk: rec.Risk,
			LaterSamples: o.Samples, CPUOverRequestSamples: o.CPUOverRequest, CPUOverShare: round(x.CPUOverShare, 6),
			MemoryOverLimitSamples: o.MemoryOverLimit, MemoryExceeded: x.MemoryExceeded, LaterMemoryPeakBytes: round(o.MemoryPeakBytes, 0),
			Verdict: x.Verdict, PredictedMonthlySavings: round(rec.MonthlySavings, 6), RealisedMonthlySavings: realised,
			Currency: cmp.Or(rec.Currency, bt.Currency),
		})
	}
	t := rightsizing.TotalsOf(bs)
	return writeJSON(w, "backtest", struct {
		Earlier    windowJSON         `json:"earlier"`
		Later      windowJSON         `json:"later"`
		Containers []backtestJSON     `json:"containers"`
		Totals     backtestTotalsJSON `json:"totals"`
	}{
		Earlier: windowJSON(bt.Earlier), Later: windowJSON(bt.Later), Containers: rows,
		Totals: backtestTotalsJSON{Containers: t.Containers, Scored: t.Scored, Held: t.Held, CPUTight: t.CPUTight,
			MemoryExceeded: t.MemoryExceeded, CPUOverShare: round(t.CPUOverShare, 6),
			PredictedMonthlySavings: round(t.PredictedMonthlySavings, 6), RealisedMonthlySavings: round(t.RealisedMonthlySavings, 6)},
	})
}
