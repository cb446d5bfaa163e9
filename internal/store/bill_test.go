package store

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/bill"
	"github.com/tally-finops/tally/internal/model"
)

func readBill(t *testing.T, name, text string) []model.BillGroup {
	t.Helper()
	res, err := bill.Read(name, strings.NewReader(text), bill.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return bill.Groups(res.Lines)
}

func countBillLines(t *testing.T, s *Store) uint64 {
	t.Helper()
	var n uint64
	if err := s.conn.QueryRow(context.Background(), "SELECT count() FROM bill_lines").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// wantBill checks BillCosts by provider over March 2026 against sums worked out by hand.
func wantBill(t *testing.T, s *Store, what string, want map[string][3]float64) {
	t.Helper()
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	got, err := s.BillCosts(context.Background(), march, march.AddDate(0, 1, 0), "provider")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %+v, want %v", what, got, want)
	}
	for _, g := range got {
		w, ok := want[g.Name]
		if !ok || g.Currency != "USD" || math.Abs(g.BilledCost-w[0]) > 1e-9 || math.Abs(g.EffectiveCost-w[1]) > 1e-9 || math.Abs(g.ListCost-w[2]) > 1e-9 {
			t.Errorf("%s: %s %s billed %.11f effective %.11f list %.11f, want %v", what, g.Name, g.Currency, g.BilledCost, g.EffectiveCost, g.ListCost, w)
		}
	}
}

// Importing internal/bill/testdata/quirks.csv: twice changes nothing; a later export of the
// AWS account's March replaces it and leaves Oracle's alone.
func TestImportBillIsIdempotentAndReplaces(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	raw, err := os.ReadFile("../bill/testdata/quirks.csv")
	if err != nil {
		t.Fatal(err)
	}
	// By hand, from the file's lines (EffectiveCost of line 3 and 7 taken as their BilledCost):
	//   AWS    billed 0.19200000001 × 2 + 0 + 5 − 2.6137 = 2.77030000002
	//          effective 0.19200000001 × 2 + 0.123 + 0 − 3 = −2.49299999998
	//          list 0.19200000001 × 3 + 0 − 2.6137 = −2.03769999997
	//   Oracle billed 0.08, effective 0.08, list 0
	first := map[string][3]float64{"AWS": {2.77030000002, -2.49299999998, -2.03769999997}, "Oracle": {0.08, 0.08, 0}}

	out, err := s.ImportBill(ctx, "quirks.csv", readBill(t, "quirks.csv", string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Unchanged || out[1].Unchanged || out[0].Lines != 5 || out[1].Lines != 1 {
		t.Fatalf("first import: %+v", out)
	}
	wantBill(t, s, "first import", first)
	lines := countBillLines(t, s)

	out, err = s.ImportBill(ctx, "quirks.csv", readBill(t, "quirks.csv", string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Unchanged || !out[1].Unchanged {
		t.Errorf("second import of the same file: %+v, want both unchanged", out)
	}
	if n := countBillLines(t, s); n != lines {
		t.Errorf("second import wrote lines: %d, want %d", n, lines)
	}
	wantBill(t, s, "second import", first)

	// A later export of AWS's March: the credit is −2 instead of −2.6137 (billed and list),
	// −2.4 effective instead of −3. Oracle's line is the same.
	later := strings.Replace(string(raw), "-2.61370000000,", "-2.00000000000,", 1)
	later = strings.Replace(later, "-3.00000000000,-2.61370000000", "-2.40000000000,-2.00000000000", 1)
	out, err = s.ImportBill(ctx, "quirks-later.csv", readBill(t, "quirks-later.csv", later))
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Replaced || out[0].Unchanged || !out[1].Unchanged {
		t.Errorf("later export: %+v, want AWS replaced and Oracle unchanged", out)
	}
	wantBill(t, s, "later export", map[string][3]float64{
		"AWS": {2.77030000002 + 0.6137, -2.49299999998 + 0.6, -2.03769999997 + 0.6137}, "Oracle": {0.08, 0.08, 0}})
	imports, err := s.BillImports(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) != 2 || imports[0].File != "quirks-later.csv" || imports[1].File != "quirks.csv" || imports[0].Lines != 5 {
		t.Errorf("current imports: %+v", imports)
	}

	// By resource and by day: the credit and the purchase have no resource.
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	byRes, err := s.BillCosts(ctx, march, march.AddDate(0, 1, 0), "resource")
	if err != nil {
		t.Fatal(err)
	}
	if len(byRes) != 4 || byRes[0].Name != "" || math.Abs(byRes[0].BilledCost-3) > 1e-9 || byRes[1].Name != "i-0aaa" ||
		math.Abs(byRes[1].BilledCost-0.38400000002) > 1e-9 {
		t.Errorf("by resource: %+v", byRes)
	}
	// One hour: only line 3 (i-0aaa, 01:00) starts in [01:00, 02:00) of March 2.
	hour := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	byDay, err := s.BillCosts(ctx, hour, hour.Add(time.Hour), "day")
	if err != nil {
		t.Fatal(err)
	}
	if len(byDay) != 1 || byDay[0].Name != "2026-03-02" || math.Abs(byDay[0].BilledCost-0.19200000001) > 1e-12 {
		t.Errorf("by day for 01:00: %+v", byDay)
	}
	if _, err := s.BillCosts(ctx, hour, hour.Add(time.Hour), "team"); err == nil {
		t.Error("by team: no error")
	}
}
