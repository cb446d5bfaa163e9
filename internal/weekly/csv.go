package weekly

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/rightsizing"
)

// CostsHeader is the header of costs_by_namespace.csv and costs_by_team.csv; the group column
// ("namespace" or "team") comes second.
func CostsHeader(group string) []string {
	return []string{"week", group, "total_cost", "previous_week_cost", "change_percent",
		"cpu_cost", "ram_cost", "gpu_cost", "pv_cost", "shared_idle_cost", "idle_share_percent",
		"cpu_efficiency_percent", "ram_efficiency_percent", "efficiency_percent", "waste_cost", "currency"}
}

// SummaryHeader is the header of summary.csv.
var SummaryHeader = []string{"week", "from", "to", "cluster", "total_cost", "previous_week_cost", "change_percent",
	"idle_cost", "idle_share_percent", "cpu_utilisation_percent", "memory_utilisation_percent",
	"potential_monthly_savings", "monthly_cost_of_raises", "containers_to_resize", "request_limit_findings", "currency"}

type weekInfo struct {
	name, currency string
}

// costsCSV writes one row per group of cur, largest cost first, with the same group's cost in
// prev. A group named "" (no team label) is written as "(none)". A group that only existed in
// the previous week gets a row with a zero total.
func costsCSV(week weekInfo, group string, cur, prev []allocation.Total) []byte {
	before := map[string]float64{}
	for _, t := range prev {
		before[label(t.Name)] += t.TotalCost
	}
	seen := map[string]bool{}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(CostsHeader(group))
	rows := slices.Clone(cur)
	slices.SortStableFunc(rows, func(a, b allocation.Total) int {
		return cmp.Or(cmp.Compare(b.TotalCost, a.TotalCost), cmp.Compare(a.Name, b.Name))
	})
	for _, t := range rows {
		name := label(t.Name)
		seen[name] = true
		p, had := before[name]
		_ = w.Write([]string{week.name, name, money(t.TotalCost), moneyIf(p, had), change(t.TotalCost, p, had),
			money(t.CPUCost), money(t.RAMCost), money(t.GPUCost), money(t.PVCost), money(t.IdleCost), percent(t.IdleCost, t.TotalCost),
			ratio(t.CPUEfficiency), ratio(t.RAMEfficiency), ratio(t.TotalEfficiency), money(t.WasteCost), week.currency})
	}
	var gone []string
	for name := range before {
		if !seen[name] {
			gone = append(gone, name)
		}
	}
	slices.Sort(gone)
	for _, name := range gone {
		_ = w.Write([]string{week.name, name, money(0), money(before[name]), change(0, before[name], true),
			money(0), money(0), money(0), money(0), money(0), "", "", "", "", money(0), week.currency})
	}
	w.Flush()
	return b.Bytes()
}

// summary is the one row of summary.csv.
type summary struct {
	total, previous                float64
	hadPrevious                    bool
	idle                           float64
	cpuUsed, cpuCapacity           float64 // core-hours
	ramUsed, ramCapacity           float64 // byte-hours
	potentialSavings, costOfRaises float64 // per month
	toResize, requestLimitFindings int
}

// summarize adds up the week's cost rows: the total, the idle part, and the cluster's
// utilisation = usage ÷ capacity, capacity being what the containers were charged (max of
// request and usage each minute) plus what stayed idle on the nodes.
func summarize(rows, prevRows []model.Allocation, recs []rightsizing.Recommendation, findings int) summary {
	var s summary
	for _, r := range rows {
		cost := r.TotalCost()
		s.total += cost
		s.cpuCapacity += r.CPUCoreHours
		s.ramCapacity += r.RAMByteHours
		if r.Idle {
			s.idle += cost
			continue
		}
		s.cpuUsed += r.CPUUsageCoreHours
		s.ramUsed += r.RAMUsageByteHours
	}
	for _, r := range prevRows {
		s.previous += r.TotalCost()
		s.hadPrevious = true
	}
	for _, r := range recs {
		switch {
		case r.MonthlySavings > 0:
			s.potentialSavings += r.MonthlySavings
			s.toResize++
		case r.MonthlySavings < 0:
			s.costOfRaises -= r.MonthlySavings
			s.toResize++
		}
	}
	s.requestLimitFindings = findings
	return s
}

func summaryCSV(week weekInfo, cluster string, res Result, s summary) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(SummaryHeader)
	_ = w.Write([]string{week.name, res.From.Format(time.DateOnly), res.To.AddDate(0, 0, -1).Format(time.DateOnly), cluster,
		money(s.total), moneyIf(s.previous, s.hadPrevious), change(s.total, s.previous, s.hadPrevious),
		money(s.idle), percent(s.idle, s.total), percent(s.cpuUsed, s.cpuCapacity), percent(s.ramUsed, s.ramCapacity),
		money(s.potentialSavings), money(s.costOfRaises), strconv.Itoa(s.toResize), strconv.Itoa(s.requestLimitFindings),
		week.currency})
	w.Flush()
	return b.Bytes()
}

func label(name string) string {
	if name == "" || name == allocation.UnallocatedName {
		return "(none)"
	}
	return name
}

// money writes an amount with 4 decimals: cents survive summing a column.
func money(v float64) string { return strconv.FormatFloat(round(v, 4), 'f', 4, 64) }

func moneyIf(v float64, ok bool) string {
	if !ok {
		return ""
	}
	return money(v)
}

// change is the change from prev to cur in percent, empty without a previous week or from 0.
func change(cur, prev float64, ok bool) string {
	if !ok || prev == 0 {
		return ""
	}
	return strconv.FormatFloat(round((cur-prev)/prev*100, 1), 'f', 1, 64)
}

// percent is part ÷ whole in percent with one decimal, empty when whole is 0.
func percent(part, whole float64) string {
	if whole == 0 {
		return ""
	}
	return strconv.FormatFloat(round(part/whole*100, 1), 'f', 1, 64)
}

// ratio writes an efficiency (a ratio) in percent, empty when 0 (no request).
func ratio(r float64) string {
	if r == 0 {
		return ""
	}
	return strconv.FormatFloat(round(r*100, 1), 'f', 1, 64)
}

func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	r := math.Round(v*p) / p
	if r == 0 {
		return 0 // no "-0.0000"
	}
	return r
}
