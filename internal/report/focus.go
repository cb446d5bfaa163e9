package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
)

// FormatFOCUS writes cost totals as FOCUS rows, one per group and UTC day (FOCUS.Render).
const FormatFOCUS = "focus"

// FOCUS renders tally's allocation as a FOCUS 1.0 bill, so that FinOps tools that read FOCUS
// can use tally's split of a cluster: one Usage row per group and day, the group's keys in
// Tags, tally's cost in every cost column (an estimate from the price book, or reconciled
// with the invoice where one was imported), and its parts in x_ columns (FOCUS's prefix for
// custom columns).
type FOCUS struct {
	Cluster  string
	Currency string
	Keys     []string // the aggregation keys, e.g. namespace or namespace,label:team
}

// DayTotals are the totals of one UTC day of a window, [From, To) within it.
type DayTotals struct {
	From, To time.Time
	Totals   []allocation.Total
}

var focusColumns = []string{"BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd",
	"ChargeCategory", "ChargeDescription", "ChargeFrequency", "ChargePeriodStart", "ChargePeriodEnd",
	"BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "PricingCategory",
	"ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceName", "ServiceCategory",
	"ResourceId", "ResourceName", "ResourceType", "SubAccountId", "SubAccountName", "Tags",
	"x_CpuCost", "x_RamCost", "x_GpuCost", "x_PvCost", "x_SharedCost", "x_IdleCost", "x_CpuCoreHours", "x_RamByteHours", "x_GpuHours",
	"x_PvByteHours"}

// Render writes the header and one row per group and day, in the order given.
func (f FOCUS) Render(w io.Writer, days []DayTotals) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(focusColumns)
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	keys := strings.Join(f.Keys, ",")
	for _, d := range days {
		month := time.Date(d.From.Year(), d.From.Month(), 1, 0, 0, 0, 0, time.UTC)
		for _, t := range d.Totals {
			tags := map[string]string{"tally/cluster": f.Cluster}
			for k, v := range t.Keys {
				tags[strings.TrimPrefix(k, "label:")] = v
			}
			if t.Name == allocation.IdleName || t.Name == allocation.SharedName {
				tags["tally/kind"] = strings.Trim(t.Name, "_")
			}
			tagJSON, err := json.Marshal(tags) // map keys are sorted: the same totals give the same text
			if err != nil {
				return err
			}
			cost := num(t.TotalCost)
			_ = cw.Write([]string{f.Cluster, f.Cluster, f.Currency, ts(month), ts(month.AddDate(0, 1, 0)),
				"Usage", "tally allocation by " + keys, "Usage-Based", ts(d.From), ts(d.To),
				cost, cost, cost, cost, "Standard",
				"tally", "tally", "tally", "Kubernetes", "Compute",
				f.Cluster + "/" + t.Name, t.Name, keys, f.Cluster, f.Cluster, string(tagJSON),
				num(t.CPUCost), num(t.RAMCost), num(t.GPUCost), num(t.PVCost), num(t.SharedCost), num(t.IdleCost),
				num(t.CPUCoreHours), num(t.RAMByteHours), num(t.GPUHours), num(t.PVByteHours)})
		}
	}
	cw.Flush()
	return cw.Error()
}
