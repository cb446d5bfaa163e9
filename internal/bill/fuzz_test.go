package bill

import (
	"math"
	"os"
	"strings"
	"testing"
)

// FuzzRead: any bytes read as a FOCUS file give lines or a one-line error that names the
// file, never both and never a panic; every line read has finite costs and a charge period
// that does not end before it starts.
func FuzzRead(f *testing.F) {
	raw, err := os.ReadFile("testdata/quirks.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	header, body, _ := strings.Cut(string(raw), "\n")
	f.Add([]byte(header + "\n"))
	f.Add([]byte(header + "\n" + strings.Split(body, "\n")[0]))
	f.Add([]byte(header + "\n1e309,\"1\",\"USD\"\n"))
	f.Add([]byte("\x1f\x8b\x08\x00garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Read("fuzz.csv", strings.NewReader(string(data)), Options{})
		if err != nil {
			if len(res.Lines) > 0 || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q with %d lines", err, len(res.Lines))
			}
			return
		}
		for _, l := range res.Lines {
			for _, v := range []float64{l.BilledCost, l.EffectiveCost, l.ListCost, l.ConsumedQuantity} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("line %d: a cost of %v", l.Line, v)
				}
			}
			if l.ChargePeriodEnd.Before(l.ChargePeriodStart) || l.Source == "" {
				t.Fatalf("line %d: %+v", l.Line, l)
			}
		}
		_ = Groups(res.Lines)
	})
}
