//go:build chdb

package sql_test

import (
	"testing"
	"time"
)

// billLine is a row of insert_bill_lines: source, billing period start, import id, line, and
// the charge's period, service, account, resource and costs.
func billLine(source string, importID uint64, line uint32, start time.Time, provider, account, sub, service, resource string,
	billed, effective, list float64, currency string) []any {
	period := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	return []any{source, period, importID, line, period.AddDate(0, 1, 0), start, start.Add(time.Hour),
		provider, account, sub, service, "Usage", "Standard", resource, "", "eu-west-1", "", "", "", "",
		billed, effective, list, 1.0, "Hours", currency, none, none}
}

// bill imports two sources' November bills: AWS/1 twice (import 200 replaces 100), GCP/9
// once, and lines of an AWS import (300) whose bill_imports row was never written (an import
// cut short). Only the current imports' lines count.
func (c *conformance) bill(t *testing.T) {
	period := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	h := func(d, hour int) time.Time { return time.Date(2026, 11, d, hour, 0, 0, 0, time.UTC) }
	c.insert(t, "insert_bill_lines",
		billLine("AWS/1", 100, 2, h(2, 10), "AWS", "1", "", "Amazon EC2", "i-a", 1.5, 1.2, 2.0, "USD"),
		billLine("AWS/1", 100, 3, h(2, 11), "AWS", "1", "", "Amazon EC2", "i-a", 1.5, 1.2, 2.0, "USD"),
		billLine("AWS/1", 100, 4, h(2, 10), "AWS", "1", "", "Amazon EC2", "", -0.5, -0.5, -0.5, "USD"),
		billLine("AWS/1", 200, 2, h(2, 10), "AWS", "1", "", "Amazon EC2", "i-a", 1.0, 1.0, 1.0, "USD"),
		billLine("GCP/9", 150, 2, h(3, 0), "Google Cloud", "9", "proj-x", "Compute Engine", "", 3.25, 3.0, 4.0, "EUR"),
		billLine("GCP/9", 150, 3, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "Google Cloud", "9", "proj-x", "Compute Engine", "", 100, 100, 100, "EUR"),
		billLine("AWS/1", 300, 2, h(2, 10), "AWS", "1", "", "Amazon EC2", "i-a", 99, 99, 99, "USD"))
	c.insert(t, "insert_bill_imports",
		[]any{"AWS/1", period, uint64(100), "sum-a", "aws-1.csv", uint64(3), 2.5, h(5, 0)},
		[]any{"GCP/9", period, uint64(150), "sum-g", "gcp.csv.gz", uint64(2), 103.25, h(5, 0)},
		[]any{"AWS/1", period, uint64(200), "sum-b", "aws-2.csv", uint64(1), 1.0, h(6, 0)})

	res := c.query(t, "select_bill_imports", nil)
	res.wantColumns(t, "source", "String", "billing_period_start", "DateTime('UTC')", "import_id", "UInt64", "checksum", "String",
		"file", "String", "lines", "UInt64", "billed_cost", "Float64", "imported_at", "DateTime('UTC')")
	res.wantRows(t,
		[]any{"AWS/1", dt(period), 200, "sum-b", "aws-2.csv", 1, 1.0, dt(h(6, 0))},
		[]any{"GCP/9", dt(period), 150, "sum-g", "gcp.csv.gz", 2, 103.25, dt(h(5, 0))})

	// November: AWS's import 200 (one line of 1/1/1 USD), GCP's line of 11-03 (the one of
	// 12-01 starts after the window); import 100's and the orphan 300's lines do not count.
	nov := map[string]any{"from": period.Unix(), "to": period.AddDate(0, 1, 0).Unix()}
	with := func(by string) map[string]any {
		p := map[string]any{"by": by}
		for k, v := range nov {
			p[k] = v
		}
		return p
	}
	res = c.query(t, "select_bill_costs", with("provider"))
	res.wantColumns(t, "name", "String", "currency", "String", "billed", "Float64", "effective", "Float64", "list", "Float64")
	res.wantRows(t, []any{"AWS", "USD", 1.0, 1.0, 1.0}, []any{"Google Cloud", "EUR", 3.25, 3.0, 4.0})
	c.query(t, "select_bill_costs", with("service")).wantRows(t,
		[]any{"Amazon EC2", "USD", 1.0, 1.0, 1.0}, []any{"Compute Engine", "EUR", 3.25, 3.0, 4.0})
	// account: the sub-account when there is one (proj-x), else the billing account (1).
	c.query(t, "select_bill_costs", with("account")).wantRows(t,
		[]any{"1", "USD", 1.0, 1.0, 1.0}, []any{"proj-x", "EUR", 3.25, 3.0, 4.0})
	c.query(t, "select_bill_costs", with("resource")).wantRows(t,
		[]any{"", "EUR", 3.25, 3.0, 4.0}, []any{"i-a", "USD", 1.0, 1.0, 1.0})
	c.query(t, "select_bill_costs", with("day")).wantRows(t,
		[]any{"2026-11-02", "USD", 1.0, 1.0, 1.0}, []any{"2026-11-03", "EUR", 3.25, 3.0, 4.0})
	// December holds GCP's line of 12-01 only.
	c.query(t, "select_bill_costs", map[string]any{"by": "provider", "from": period.AddDate(0, 1, 0).Unix(), "to": period.AddDate(0, 2, 0).Unix()}).
		wantRows(t, []any{"Google Cloud", "EUR", 100.0, 100.0, 100.0})
}
