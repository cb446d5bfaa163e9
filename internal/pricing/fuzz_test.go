package pricing

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tally-finops/tally/internal/model"
)

// errorLine is the form of every line of a Parse error.
var errorLine = regexp.MustCompile(`^fuzz\.yaml:[1-9][0-9]*: \S`)

// FuzzParse checks that Parse never panics, that every error it reports names a line, and
// that a book it accepts prices nodes with finite, non-negative numbers that add up.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("testdata/prices.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(exampleBook))
	for _, s := range []string{
		"", "---\n", "- a\n", "currency: USD\n",
		head + "  - match: {a: b}\n    hourley: O.19\n",
		head + "  - match: &m {a: b}\n    hourly: &h 1\n  - match: *m\n    hourly: *h\n",
		head + "  - match: {a: b, a: c}\n    hourly: -1\n---\n[\n",
		"currency: USD\ndefaults: {cpuCoreHour: 0x10, ramGiBHour: 1e-3, gpuHour: .inf}\n",
		"a: &x [*x]\n", "\xff", "x: \x01",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		book, err := Parse("fuzz.yaml", data)
		if err != nil {
			if book != nil {
				t.Fatalf("a book and an error: %v", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !errorLine.MatchString(line) {
					t.Fatalf("error line %q does not name file and line", line)
				}
			}
			return
		}
		if !currencyCode.MatchString(book.Currency) || !(book.Defaults.CPUCoreHour > 0) || !(book.Defaults.RAMGiBHour > 0) {
			t.Fatalf("accepted a book with bad currency or defaults: %+v", book)
		}
		for i, r := range book.Nodes {
			n := model.Node{CPUCapacityCores: 4, MemoryCapacityBytes: 16 << 30, GPUCapacity: 1, Labels: r.Match}
			p := book.Price(n)
			for _, x := range []float64{p.HourlyCost, p.CPUCoreHourCost, p.RAMGiBHourCost, p.GPUHourCost} {
				if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
					t.Fatalf("rule at line %d: price %+v", r.Line, p)
				}
			}
			// No earlier rule can take a node carrying exactly this rule's labels: Parse
			// rejects a rule that an earlier one hides.
			if p.HourlyCost != r.Hourly || p.Source != fmt.Sprintf("rule %d (line %d)", i+1, r.Line) {
				t.Fatalf("rule %d at line %d (%v) not applied to a node with its labels: %+v", i+1, r.Line, r.Match, p)
			}
			sum := 4*p.CPUCoreHourCost + 16*p.RAMGiBHourCost + p.GPUHourCost
			if math.Abs(sum-p.HourlyCost) > 1e-9*p.HourlyCost {
				t.Fatalf("rule %d: rates add up to %v, not %v", i+1, sum, p.HourlyCost)
			}
		}
	})
}
