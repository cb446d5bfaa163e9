package pricing

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// head is the valid start of most test books: lines 1 to 3.
const head = `currency: USD
defaults: {cpuCoreHour: 0.031611, ramGiBHour: 0.004237, gpuHour: 0.95}
nodes:
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // the error's lines, in order; each must start with its string
	}{
		{"typo'd key", head + `  - match: {node.kubernetes.io/instance-type: m5.xlarge}
    hourley: 0.192
`, []string{
			"bad.yaml:4: nodes[0].hourly: required",
			"bad.yaml:5: nodes[0].hourley: unknown field (want match, hourly)",
		}},
		{"non-number", head + `  - match: {node.kubernetes.io/instance-type: m5.xlarge, karpenter.sh/capacity-type: spot}
    hourly: 0.0704
  - match: {node.kubernetes.io/instance-type: m5.xlarge}
    hourly: O.19
`, []string{`bad.yaml:7: nodes[1].hourly: must be a number ≥ 0, got "O.19"`}},
		{"quoted number", head + "  - match: {a: b}\n    hourly: \"0.19\"\n",
			[]string{`bad.yaml:5: nodes[0].hourly: must be a number ≥ 0, got "0.19"`}},
		{"negative price", head + "  - match: {a: b}\n    hourly: -0.1\n",
			[]string{`bad.yaml:5: nodes[0].hourly: must be a number ≥ 0, got "-0.1"`}},
		{"infinite price", head + "  - match: {a: b}\n    hourly: .inf\n",
			[]string{`bad.yaml:5: nodes[0].hourly: must be a number ≥ 0, got ".inf"`}},
		{"not-a-number price", head + "  - match: {a: b}\n    hourly: .nan\n",
			[]string{`bad.yaml:5: nodes[0].hourly: must be a number ≥ 0, got ".nan"`}},
		{"absurd price", head + "  - match: {a: b}\n    hourly: 1e300\n",
			[]string{`bad.yaml:5: nodes[0].hourly: must be at most 1e+12, got "1e300"`}},
		{"price is a list", head + "  - match: {a: b}\n    hourly: [1]\n",
			[]string{`bad.yaml:5: nodes[0].hourly: must be a number ≥ 0, got a list`}},
		{"missing currency", "defaults: {cpuCoreHour: 1, ramGiBHour: 1, gpuHour: 0}\n",
			[]string{"bad.yaml:1: currency: required"}},
		{"bad currency", "currency: usd\ndefaults: {cpuCoreHour: 1, ramGiBHour: 1, gpuHour: 0}\n",
			[]string{`bad.yaml:1: currency: must be an ISO 4217 code of 3 upper-case letters (e.g. USD), got "usd"`}},
		{"currency not a string", "currency: 978\ndefaults: {cpuCoreHour: 1, ramGiBHour: 1, gpuHour: 0}\n",
			[]string{`bad.yaml:1: currency: must be an ISO 4217 code`}},
		{"missing defaults", "currency: USD\n", []string{"bad.yaml:1: defaults: required"}},
		{"defaults not a mapping", "currency: USD\ndefaults: 0.03\n",
			[]string{`bad.yaml:2: defaults: must be a mapping with cpuCoreHour, ramGiBHour and gpuHour, got "0.03"`}},
		{"default rates", "currency: USD\ndefaults:\n  cpuCoreHour: 0\n  ramGiBHour: -1\n", []string{
			"bad.yaml:2: defaults.gpuHour: required",
			`bad.yaml:3: defaults.cpuCoreHour: must be a number > 0, got "0"`,
			`bad.yaml:4: defaults.ramGiBHour: must be a number > 0, got "-1"`,
		}},
		{"empty match", head + "  - match: {}\n    hourly: 0.1\n",
			[]string{"bad.yaml:4: nodes[0].match: must name at least one node label"}},
		{"missing match", head + "  - hourly: 0.1\n", []string{"bad.yaml:4: nodes[0].match: required"}},
		{"match value not a string", head + "  - match:\n      node.kubernetes.io/instance-type: [m5.large, m5.xlarge]\n      zone:\n    hourly: 0.1\n", []string{
			`bad.yaml:5: nodes[0].match["node.kubernetes.io/instance-type"]: must be a label value (a string), got a list`,
			`bad.yaml:6: nodes[0].match["zone"]: must be a label value (a string), got nothing`,
		}},
		{"rule not a mapping", head + "  - m5.xlarge\n", []string{`bad.yaml:4: nodes[0]: must be a mapping with match and hourly, got "m5.xlarge"`}},
		{"nodes not a list", head[:len(head)-1] + " {a: b}\n", []string{"bad.yaml:3: nodes: must be a list of rules, got a mapping"}},
		{"YAML syntax error", head + "  - match: {node.kubernetes.io/instance-type: m5.xlarge\n    hourly: 0.192\n",
			[]string{"bad.yaml:4: invalid YAML: did not find expected ',' or '}'"}},
		{"YAML indentation error", head + "  - match: {a: b}\n    hourly: 1\n  - match: {c: d}\n   hourly: 2\n",
			[]string{"bad.yaml:4: invalid YAML: did not find expected '-' indicator"}}, // the start of the list
		{"YAML scanner error", head + "  - match: {a: b}\n    hourly: 0.192: 3\n",
			[]string{"bad.yaml:5: invalid YAML: mapping values are not allowed in this context"}},
		{"unknown anchor", head + "  - match: {a: b}\n    hourly: *price\n",
			[]string{"bad.yaml:5: invalid YAML: unknown anchor 'price' referenced"}},
		{"control character", head + "  - match: {a: \x01}\n", []string{"bad.yaml:4: invalid YAML: control characters are not allowed"}},
		{"invalid UTF-8", head + "  - match: {a: \xff}\n", []string{"bad.yaml:4: invalid YAML: invalid leading UTF-8 octet"}},
		{"duplicate key", head + "  - match: {a: b}\n    hourly: 0.1\n    hourly: 0.2\n",
			[]string{"bad.yaml:6: nodes[0].hourly: duplicate key (first at line 5)"}},
		{"duplicate label", head + "  - match: {a: b, a: c}\n    hourly: 0.1\n",
			[]string{`bad.yaml:4: nodes[0].match["a"]: duplicate key (first at line 4)`}},
		{"duplicate top-level key", head + "currency: EUR\n", []string{"bad.yaml:4: currency: duplicate key (first at line 1)"}},
		{"empty file", "", []string{"bad.yaml:1: empty file"}},
		{"only comments", "# prices\n\n", []string{"bad.yaml:1: empty file"}},
		{"not a mapping", "- USD\n", []string{"bad.yaml:1: must be a mapping with currency, defaults and nodes, got a list"}},
		{"two documents", head + "---\ncurrency: EUR\n", []string{"bad.yaml:4: a second YAML document"}},
		{"unreachable rule", head + `  - match: {node.kubernetes.io/instance-type: m5.xlarge}
    hourly: 0.192
  - match: {node.kubernetes.io/instance-type: m5.xlarge, karpenter.sh/capacity-type: spot}
    hourly: 0.0704
`, []string{"bad.yaml:6: nodes[1].match: never used: nodes[0] (line 4) comes first and matches every node this rule matches"}},
		{"two errors", head + `  - match: {node.kubernetes.io/instance-type: m5.xlarge}
    hourly: O.19
  - match: {node.kubernetes.io/instance-type: m5.large}
    hourley: 0.096
`, []string{
			`bad.yaml:5: nodes[0].hourly: must be a number ≥ 0, got "O.19"`,
			"bad.yaml:6: nodes[1].hourly: required",
			"bad.yaml:7: nodes[1].hourley: unknown field (want match, hourly)",
		}},
		{"errors in line order", "currency: usd\nnodez: []\n", []string{
			`bad.yaml:1: currency: must be an ISO 4217 code`, // found after nodez
			"bad.yaml:1: defaults: required",
			"bad.yaml:2: nodez: unknown field (want currency, defaults, nodes, volumes)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantParseErrors(t, tt.yaml, tt.want) })
	}
}

// wantParseErrors parses yaml as bad.yaml and wants no book and an error of one line per
// want, each starting with its string, in order.
func wantParseErrors(t *testing.T, yaml string, want []string) {
	t.Helper()
	book, err := Parse("bad.yaml", []byte(yaml))
	if err == nil {
		t.Fatalf("no error, book %+v", book)
	}
	if book != nil {
		t.Errorf("a book with the error: %+v", book)
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(got), len(want), err)
	}
	for i := range got {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d = %q\nwant it to start with %q", i+1, got[i], want[i])
		}
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want Book
	}{
		{"no rules", "currency: EUR\ndefaults: {cpuCoreHour: 0.03, ramGiBHour: 0.004, gpuHour: 0}\n",
			Book{Currency: "EUR", Defaults: Rates{CPUCoreHour: 0.03, RAMGiBHour: 0.004, GPUHour: 0}}},
		{"nodes without rules", "currency: EUR\ndefaults: {cpuCoreHour: 1, ramGiBHour: 2, gpuHour: 3}\nnodes:\n",
			Book{Currency: "EUR", Defaults: Rates{CPUCoreHour: 1, RAMGiBHour: 2, GPUHour: 3}}},
		{"integers, unquoted label values, a general rule after a specific one", head + `  - match: {node.kubernetes.io/instance-type: m5.xlarge, example.com/reserved: true}
    hourly: 0
  - match: {node.kubernetes.io/instance-type: m5.xlarge}
    hourly: 1
`, Book{Currency: "USD", Defaults: Rates{CPUCoreHour: 0.031611, RAMGiBHour: 0.004237, GPUHour: 0.95}, Nodes: []Rule{
			{Line: 4, Match: map[string]string{"node.kubernetes.io/instance-type": "m5.xlarge", "example.com/reserved": "true"}, Hourly: 0},
			{Line: 6, Match: map[string]string{"node.kubernetes.io/instance-type": "m5.xlarge"}, Hourly: 1},
		}}},
		{"anchors and aliases", head + `  - match: &spot {karpenter.sh/capacity-type: spot}
    hourly: &cheap 0.05
  - match: {example.com/pool: batch}
    hourly: *cheap
`, Book{Currency: "USD", Defaults: Rates{CPUCoreHour: 0.031611, RAMGiBHour: 0.004237, GPUHour: 0.95}, Nodes: []Rule{
			{Line: 4, Match: map[string]string{"karpenter.sh/capacity-type": "spot"}, Hourly: 0.05},
			{Line: 6, Match: map[string]string{"example.com/pool": "batch"}, Hourly: 0.05},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("ok.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	book, err := Load("testdata/prices.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Rates{CPUCoreHour: 0.031611, RAMGiBHour: 0.004237, GPUHour: 0.95, StorageGiBMonth: 0.04, StorageSet: true}
	if book.Currency != "USD" || book.Defaults != want || len(book.Nodes) != 21 || len(book.Volumes) != 6 {
		t.Fatalf("book = %s, %+v, %d node rules, %d volume rules; want USD, OpenCost's default rates, 21 and 6",
			book.Currency, book.Defaults, len(book.Nodes), len(book.Volumes))
	}
	tests := []struct {
		labels     map[string]string
		wantHourly float64
		wantSource string
	}{
		{map[string]string{instanceType: "m5.xlarge", capacityType: "spot"}, 0.0704, "rule 4 (line 33)"},
		{map[string]string{instanceType: "m5.xlarge", "eks.amazonaws.com/capacityType": "SPOT"}, 0.0704, "rule 5 (line 35)"},
		{map[string]string{instanceType: "m5.xlarge", "eks.amazonaws.com/capacityType": "ON_DEMAND"}, 0.192, "rule 6 (line 37)"},
		{map[string]string{instanceType: "g4dn.xlarge", capacityType: "on-demand"}, 0.526, "rule 20 (line 72)"},
		{map[string]string{instanceType: "t3.micro"}, 4*0.031611 + 16*0.004237, "defaults"},
	}
	for _, tt := range tests {
		got := book.Price(node("n", 4, 16, 0, tt.labels))
		if math.Abs(got.HourlyCost-tt.wantHourly) > 1e-12*tt.wantHourly || got.Source != tt.wantSource {
			t.Errorf("%v: %v from %q, want %v from %q", tt.labels, got.HourlyCost, got.Source, tt.wantHourly, tt.wantSource)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prices.yaml")
	if err := os.WriteFile(path, []byte(head+"  - match: {a: b}\n    hourly: O.19\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + `:5: nodes[0].hourly: must be a number ≥ 0, got "O.19"`; err == nil || err.Error() != want {
		t.Errorf("Load(bad file) = %v, want %s", err, want)
	}
	missing := filepath.Join(dir, "missing.yaml")
	if _, err := Load(missing); err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing file) = %v, want a not-exist error naming %s", err, missing)
	}
}
