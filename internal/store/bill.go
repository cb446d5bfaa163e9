package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tally-finops/tally/internal/model"
)

// billBatch is how many bill lines go in one block: a month of a large account's hourly
// lines is millions.
const billBatch = 100_000

// BillImportOutcome is what ImportBill did with one source and billing period.
type BillImportOutcome struct {
	Source             string
	BillingPeriodStart time.Time
	Lines              int
	BilledCost         float64
	Replaced           bool // an earlier import of the period existed and no longer counts
	Unchanged          bool // the same content was the current import already: nothing written
}

// ImportBill makes each group the current import of its source and billing period
// (sql/migrations/0012_bill.sql): it writes the lines of every group whose content differs
// from the current import's, then one bill_imports row per such group. A group already
// imported with the same checksum is left alone, so importing a file twice changes nothing.
// When writing fails part way, the error is returned and no group of the failed call is
// current: its lines, if any landed, are never read.
func (s *Store) ImportBill(ctx context.Context, file string, groups []model.BillGroup) ([]BillImportOutcome, error) {
	current, err := s.BillImports(ctx)
	if err != nil {
		return nil, err
	}
	type key struct {
		source string
		period int64
	}
	have := map[key]model.BillImport{}
	for _, imp := range current {
		have[key{imp.Source, imp.BillingPeriodStart.Unix()}] = imp
	}
	id := uint64(time.Now().UnixNano())
	now := time.Now().UTC().Truncate(time.Second)
	var (
		out     []BillImportOutcome
		imports []model.BillImport
		changed [][]model.BillLine // the lines of the groups to write, not copied
	)
	for _, g := range groups {
		o := BillImportOutcome{Source: g.Source, BillingPeriodStart: g.BillingPeriodStart, Lines: len(g.Lines)}
		for _, l := range g.Lines {
			o.BilledCost += l.BilledCost
		}
		prev, ok := have[key{g.Source, g.BillingPeriodStart.Unix()}]
		if ok && prev.ImportID >= id {
			return nil, fmt.Errorf("import bill: %s %s was imported at a later time (%d) than this machine's clock (%d)",
				g.Source, g.BillingPeriodStart.Format("2006-01"), prev.ImportID, id)
		}
		o.Unchanged, o.Replaced = ok && prev.Checksum == g.Checksum, ok && prev.Checksum != g.Checksum
		out = append(out, o)
		if o.Unchanged {
			continue
		}
		imports = append(imports, model.BillImport{Source: g.Source, BillingPeriodStart: g.BillingPeriodStart, ImportID: id,
			Checksum: g.Checksum, File: file, Lines: len(g.Lines), BilledCost: o.BilledCost, ImportedAt: now})
		changed = append(changed, g.Lines)
	}
	for _, lines := range changed {
		if err := s.insertBillLines(ctx, id, lines); err != nil {
			return nil, err
		}
	}
	if err := s.insertRows(ctx, "insert bill imports", s.q.insertBillImports, len(imports), func(i int) []any {
		x := &imports[i]
		return []any{x.Source, x.BillingPeriodStart, x.ImportID, x.Checksum, x.File, uint64(x.Lines), x.BilledCost, x.ImportedAt}
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// insertBillLines writes lines of import id in blocks of billBatch.
func (s *Store) insertBillLines(ctx context.Context, id uint64, lines []model.BillLine) error {
	for start := 0; start < len(lines); start += billBatch {
		batch := lines[start:min(start+billBatch, len(lines))]
		if err := s.insertRows(ctx, "insert bill lines", s.q.insertBillLines, len(batch), func(i int) []any {
			x := &batch[i]
			keys, values := model.SortedLabels(x.Tags)
			return []any{x.Source, x.BillingPeriodStart, id, uint32(x.Line), x.BillingPeriodEnd, x.ChargePeriodStart, x.ChargePeriodEnd,
				x.Provider, x.BillingAccountID, x.SubAccountID, x.Service, x.ChargeCategory, x.PricingCategory,
				x.ResourceID, x.ResourceType, x.Region, x.AvailabilityZone, x.SkuID, x.CommitmentDiscountID, x.CommitmentDiscountType,
				x.BilledCost, x.EffectiveCost, x.ListCost, x.ConsumedQuantity, x.ConsumedUnit, x.Currency, keys, values}
		}); err != nil {
			return err
		}
	}
	return nil
}

// BillImports returns the current import of every source and billing period.
func (s *Store) BillImports(ctx context.Context) ([]model.BillImport, error) {
	var out []model.BillImport
	err := s.query(ctx, "select bill imports", s.q.selectBillImports, nil, func() { out = out[:0] }, func(r driver.Rows) error {
		var (
			x     model.BillImport
			lines uint64
		)
		if err := r.Scan(&x.Source, &x.BillingPeriodStart, &x.ImportID, &x.Checksum, &x.File, &lines, &x.BilledCost, &x.ImportedAt); err != nil {
			return err
		}
		x.Lines = int(lines)
		out = append(out, x)
		return nil
	})
	return out, err
}

// BillKeys are what BillCosts groups by.
var BillKeys = []string{"provider", "service", "account", "resource", "day"}

// BillCosts sums the current imports' lines whose charge period starts in [from, to), per
// currency and per by (one of BillKeys), sorted by name (sql/queries/select_bill_costs.sql).
func (s *Store) BillCosts(ctx context.Context, from, to time.Time, by string) ([]model.BillCost, error) {
	valid := false
	for _, k := range BillKeys {
		valid = valid || k == by
	}
	if !valid {
		return nil, fmt.Errorf("select bill costs: cannot group by %q, want one of %v", by, BillKeys)
	}
	args := []any{clickhouse.Named("by", by), clickhouse.Named("from", from.Unix()), clickhouse.Named("to", to.Unix())}
	var out []model.BillCost
	err := s.query(ctx, "select bill costs", s.q.selectBillCosts, args, func() { out = out[:0] }, func(r driver.Rows) error {
		var x model.BillCost
		if err := r.Scan(&x.Name, &x.Currency, &x.BilledCost, &x.EffectiveCost, &x.ListCost); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}
