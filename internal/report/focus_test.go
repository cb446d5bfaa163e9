package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/bill"
)

// A partial first day: its charge period is the window's hours of it; labels become tags.
func TestFOCUSRender(t *testing.T) {
	from := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	day := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	days := []DayTotals{
		{From: from, To: day, Totals: []allocation.Total{
			{Name: "shop/payments", Keys: map[string]string{"namespace": "shop", "label:team": "payments"}, CPUCost: 1.5, RAMCost: 0.25, TotalCost: 1.75},
			{Name: allocation.IdleName, TotalCost: 0.5},
		}},
		{From: day, To: day.Add(24 * time.Hour), Totals: []allocation.Total{
			{Name: "shop/payments", Keys: map[string]string{"namespace": "shop", "label:team": "payments"}, TotalCost: 2},
		}},
	}
	var b bytes.Buffer
	if err := (FOCUS{Cluster: "prod", Currency: "USD", Keys: []string{"namespace", "label:team"}}).Render(&b, days); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `""team"":""payments""`) {
		t.Errorf("no team tag in:\n%s", b.String())
	}
	res, err := bill.Read("out.csv", &b, bill.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Lines) != 3 {
		t.Fatalf("%d rows, want 3", len(res.Lines))
	}
	first, idle, second := res.Lines[0], res.Lines[1], res.Lines[2]
	if first.BilledCost != 1.75 || !first.ChargePeriodStart.Equal(from) || !first.ChargePeriodEnd.Equal(day) ||
		first.Tags["team"] != "payments" || first.Tags["namespace"] != "shop" || first.ResourceID != "prod/shop/payments" ||
		first.ResourceType != "namespace,label:team" {
		t.Errorf("first row: %+v", first)
	}
	if idle.Tags["tally/kind"] != "idle" || idle.BilledCost != 0.5 || idle.ResourceID != "prod/__idle__" {
		t.Errorf("idle row: %+v", idle)
	}
	if second.BilledCost != 2 || !second.ChargePeriodStart.Equal(day) || second.Source != "tally/prod" {
		t.Errorf("second row: %+v", second)
	}
}
