package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tally-finops/tally/internal/allocation"
)

// Formats Render writes.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json"
)

// CheckFormat reports whether Render can write format.
func CheckFormat(format string) error {
	switch format {
	case FormatTable, FormatCSV, FormatJSON:
		return nil
	}
	return fmt.Errorf("unknown format %q (want table, csv or json)", format)
}

// Costs says how to render cost totals.
type Costs struct {
	Keys     []string // the aggregation keys the totals are grouped by: CSV gives each a column
	Currency string   // ISO 4217 code of the amounts, "" when unknown
	Width    int      // the table's maximum width in columns; 0 means 100
}

// Render writes totals, in the order given, as format.
func (c Costs) Render(w io.Writer, format string, totals []allocation.Total) error {
	switch format {
	case FormatTable:
		return c.table(w, totals)
	case FormatCSV:
		return c.csv(w, totals)
	case FormatJSON:
		return c.json(w, totals)
	}
	return CheckFormat(format)
}

func (c Costs) json(w io.Writer, totals []allocation.Total) error {
	if totals == nil {
		totals = []allocation.Total{} // an empty array, not null
	}
	b, err := json.MarshalIndent(totals, "", "  ")
	if err != nil {
		return fmt.Errorf("encode costs as json: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// csvFields are the numeric columns of the CSV, named as in the JSON.
var csvFields = []struct {
	name  string
	value func(*allocation.Total) float64
}{
	{"cpuCoreHours", func(t *allocation.Total) float64 { return t.CPUCoreHours }},
	{"ramByteHours", func(t *allocation.Total) float64 { return t.RAMByteHours }},
	{"gpuHours", func(t *allocation.Total) float64 { return t.GPUHours }},
	{"pvByteHours", func(t *allocation.Total) float64 { return t.PVByteHours }},
	{"cpuRequestCoreHours", func(t *allocation.Total) float64 { return t.CPURequestCoreHours }},
	{"cpuUsageCoreHours", func(t *allocation.Total) float64 { return t.CPUUsageCoreHours }},
	{"ramRequestByteHours", func(t *allocation.Total) float64 { return t.RAMRequestByteHours }},
	{"ramUsageByteHours", func(t *allocation.Total) float64 { return t.RAMUsageByteHours }},
	{"cpuCost", func(t *allocation.Total) float64 { return t.CPUCost }},
	{"ramCost", func(t *allocation.Total) float64 { return t.RAMCost }},
	{"gpuCost", func(t *allocation.Total) float64 { return t.GPUCost }},
	{"pvCost", func(t *allocation.Total) float64 { return t.PVCost }},
	{"sharedCost", func(t *allocation.Total) float64 { return t.SharedCost }},
	{"idleCost", func(t *allocation.Total) float64 { return t.IdleCost }},
	{"totalCost", func(t *allocation.Total) float64 { return t.TotalCost }},
	{"cpuEfficiency", func(t *allocation.Total) float64 { return t.CPUEfficiency }},
	{"ramEfficiency", func(t *allocation.Total) float64 { return t.RAMEfficiency }},
	{"totalEfficiency", func(t *allocation.Total) float64 { return t.TotalEfficiency }},
	{"wasteCost", func(t *allocation.Total) float64 { return t.WasteCost }},
}

// csv writes a header row, then one row per total: its name, its value of each key, and the
// numbers in full precision. A currency, when known, is a column of its own.
func (c Costs) csv(w io.Writer, totals []allocation.Total) error {
	cw := csv.NewWriter(w)
	header := append([]string{"name"}, c.Keys...)
	for _, f := range csvFields {
		header = append(header, f.name)
	}
	if c.Currency != "" {
		header = append(header, "currency")
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write costs as csv: %w", err)
	}
	for i := range totals {
		t := &totals[i]
		rec := append(make([]string, 0, len(header)), t.Name)
		for _, k := range c.Keys {
			rec = append(rec, t.Keys[k])
		}
		for _, f := range csvFields {
			rec = append(rec, strconv.FormatFloat(f.value(t), 'f', -1, 64))
		}
		if c.Currency != "" {
			rec = append(rec, c.Currency)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write costs as csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write costs as csv: %w", err)
	}
	return nil
}

// column is one column of the table: its header, whether it is shown even when all its
// values are zero, and its cell of a total.
type column struct {
	header string
	always bool
	cell   func(*allocation.Total) string
	value  func(*allocation.Total) float64 // for optional columns: shown when any is non-zero
}

const (
	minNameWidth = 12
	gap          = 2
)

// table writes an aligned table, one line per total in the order given, then a TOTAL line,
// then the currency when it is known. Money has 2 decimals; columns of GPU, volume, shared and idle cost are left out when they are zero
// on every line; names too long for the width are shortened with "…".
func (c Costs) table(w io.Writer, totals []allocation.Total) error {
	money := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	pct := func(v float64) string { return strconv.FormatFloat(math.Round(v*100), 'f', 0, 64) + "%" }
	cols := []column{
		{header: "CPU", always: true, cell: func(t *allocation.Total) string { return money(t.CPUCost) }},
		{header: "RAM", always: true, cell: func(t *allocation.Total) string { return money(t.RAMCost) }},
		{header: "GPU", cell: func(t *allocation.Total) string { return money(t.GPUCost) }, value: func(t *allocation.Total) float64 { return t.GPUCost }},
		{header: "PV", cell: func(t *allocation.Total) string { return money(t.PVCost) }, value: func(t *allocation.Total) float64 { return t.PVCost }},
		{header: "SHARED", cell: func(t *allocation.Total) string { return money(t.SharedCost) }, value: func(t *allocation.Total) float64 { return t.SharedCost }},
		{header: "IDLE", cell: func(t *allocation.Total) string { return money(t.IdleCost) }, value: func(t *allocation.Total) float64 { return t.IdleCost }},
		{header: "TOTAL", always: true, cell: func(t *allocation.Total) string { return money(t.TotalCost) }},
		{header: "CPU EFF", always: true, cell: func(t *allocation.Total) string { return pct(t.CPUEfficiency) }},
		{header: "RAM EFF", always: true, cell: func(t *allocation.Total) string { return pct(t.RAMEfficiency) }},
		{header: "WASTE", always: true, cell: func(t *allocation.Total) string { return money(t.WasteCost) }},
	}
	shown := cols[:0:0]
	for _, col := range cols {
		keep := col.always
		for i := range totals {
			if !keep && col.value(&totals[i]) != 0 {
				keep = true
			}
		}
		if keep {
			shown = append(shown, col)
		}
	}

	sum := sumTotals(totals)
	lines := make([][]string, 0, len(totals)+2)
	lines = append(lines, nil) // header, below
	for i := 0; i <= len(totals); i++ {
		t := &sum
		if i < len(totals) {
			t = &totals[i]
		}
		line := []string{t.Name}
		for _, col := range shown {
			line = append(line, col.cell(t))
		}
		lines = append(lines, line)
	}
	header := []string{"NAME"}
	for _, col := range shown {
		header = append(header, col.header)
	}
	lines[0] = header

	widths := make([]int, len(header))
	for _, line := range lines {
		for i, cell := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	limit := c.Width
	if limit == 0 {
		limit = 100
	}
	rest := 0
	for _, wd := range widths[1:] {
		rest += gap + wd
	}
	widths[0] = max(minNameWidth, min(widths[0], limit-rest))

	var b strings.Builder
	for _, line := range lines {
		b.WriteString(pad(shorten(line[0], widths[0]), widths[0], false))
		for i, cell := range line[1:] {
			b.WriteString(strings.Repeat(" ", gap))
			b.WriteString(pad(cell, widths[i+1], true))
		}
		b.WriteString("\n")
	}
	if c.Currency != "" {
		fmt.Fprintf(&b, "(amounts in %s)\n", c.Currency)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sumTotals is the TOTAL line: the sums, with efficiencies of the summed usage and requests.
func sumTotals(totals []allocation.Total) allocation.Total {
	s := allocation.Total{Name: "TOTAL"}
	for _, t := range totals {
		s.CPUCoreHours += t.CPUCoreHours
		s.RAMByteHours += t.RAMByteHours
		s.GPUHours += t.GPUHours
		s.PVByteHours += t.PVByteHours
		s.CPURequestCoreHours += t.CPURequestCoreHours
		s.CPUUsageCoreHours += t.CPUUsageCoreHours
		s.RAMRequestByteHours += t.RAMRequestByteHours
		s.RAMUsageByteHours += t.RAMUsageByteHours
		s.CPUCost += t.CPUCost
		s.RAMCost += t.RAMCost
		s.GPUCost += t.GPUCost
		s.PVCost += t.PVCost
		s.SharedCost += t.SharedCost
		s.IdleCost += t.IdleCost
		s.TotalCost += t.TotalCost
		s.WasteCost += t.WasteCost
	}
	if s.CPURequestCoreHours > 0 {
		s.CPUEfficiency = s.CPUUsageCoreHours / s.CPURequestCoreHours
	}
	if s.RAMRequestByteHours > 0 {
		s.RAMEfficiency = s.RAMUsageByteHours / s.RAMRequestByteHours
	}
	if s.CPUCost+s.RAMCost > 0 {
		s.TotalEfficiency = (s.CPUEfficiency*s.CPUCost + s.RAMEfficiency*s.RAMCost) / (s.CPUCost + s.RAMCost)
	}
	return s
}

// shorten cuts s to width runes, the last being "…" when it had to cut.
func shorten(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

func pad(s string, width int, right bool) string {
	n := width - utf8.RuneCountInString(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}
