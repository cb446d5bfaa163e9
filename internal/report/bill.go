package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/tally-finops/tally/internal/model"
)

// Bill says how to render bill sums.
type Bill struct {
	By string // what the rows are grouped by: provider, service, account, resource or day
}

// Render writes rows, in the order given, as format. The table ends with a total per
// currency; CSV and JSON have one record per row and no total.
func (b Bill) Render(w io.Writer, format string, rows []model.BillCost) error {
	switch format {
	case FormatTable:
		return b.table(w, rows)
	case FormatCSV:
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{b.By, "currency", "billedCost", "effectiveCost", "listCost"})
		for _, r := range rows {
			_ = cw.Write([]string{r.Name, r.Currency, strconv.FormatFloat(r.BilledCost, 'f', -1, 64),
				strconv.FormatFloat(r.EffectiveCost, 'f', -1, 64), strconv.FormatFloat(r.ListCost, 'f', -1, 64)})
		}
		cw.Flush()
		return cw.Error()
	case FormatJSON:
		type row struct {
			Name          string  `json:"name"`
			Currency      string  `json:"currency"`
			BilledCost    float64 `json:"billedCost"`
			EffectiveCost float64 `json:"effectiveCost"`
			ListCost      float64 `json:"listCost"`
		}
		out := make([]row, len(rows))
		for i, r := range rows {
			out[i] = row{r.Name, r.Currency, r.BilledCost, r.EffectiveCost, r.ListCost}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return CheckFormat(format)
}

func (b Bill) table(w io.Writer, rows []model.BillCost) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	money := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	fmt.Fprintf(tw, "%s\tCURRENCY\tBILLED\tEFFECTIVE\tLIST\t\n", upper(b.By))
	type total struct{ billed, effective, list float64 }
	totals := map[string]*total{}
	var currencies []string
	for _, r := range rows {
		name := r.Name
		if name == "" {
			name = "(none)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", name, r.Currency, money(r.BilledCost), money(r.EffectiveCost), money(r.ListCost))
		t, ok := totals[r.Currency]
		if !ok {
			t = &total{}
			totals[r.Currency] = t
			currencies = append(currencies, r.Currency)
		}
		t.billed, t.effective, t.list = t.billed+r.BilledCost, t.effective+r.EffectiveCost, t.list+r.ListCost
	}
	for _, c := range currencies {
		t := totals[c]
		fmt.Fprintf(tw, "TOTAL\t%s\t%s\t%s\t%s\t\n", c, money(t.billed), money(t.effective), money(t.list))
	}
	return tw.Flush()
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
