package pricing

import (
	"reflect"
	"testing"

	"github.com/tally-finops/tally/internal/model"
)

const volumeHead = `currency: USD
defaults: {cpuCoreHour: 0.031611, ramGiBHour: 0.004237, gpuHour: 0.95, storageGiBMonth: 0.04}
volumes:
`

func TestParseVolumeRules(t *testing.T) {
	book, err := Parse("prices.yaml", []byte(volumeHead+`  - match: {storageClass: gp3, labels: {topology.kubernetes.io/zone: eu-west-1a}}
    gibMonth: 0.088
  - match: {storageClass: gp3}
    gibMonth: 0.08
  - match: {provisioner: pd.csi.storage.gke.io, type: pd-ssd}
    gibMonth: 0.17
`))
	if err != nil {
		t.Fatal(err)
	}
	if !book.Defaults.StorageSet || book.Defaults.StorageGiBMonth != 0.04 {
		t.Errorf("defaults = %+v, want storageGiBMonth 0.04 set", book.Defaults)
	}
	want := []VolumeRule{
		{Line: 4, StorageClass: "gp3", Labels: map[string]string{"topology.kubernetes.io/zone": "eu-west-1a"}, GiBMonth: 0.088},
		{Line: 6, StorageClass: "gp3", GiBMonth: 0.08},
		{Line: 8, Provisioner: "pd.csi.storage.gke.io", Type: "pd-ssd", GiBMonth: 0.17},
	}
	if !reflect.DeepEqual(book.Volumes, want) {
		t.Errorf("volumes = %+v\nwant %+v", book.Volumes, want)
	}

	// No storageGiBMonth: volumes no rule matches have no price.
	book, err = Parse("prices.yaml", []byte(head))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := book.PriceVolume(model.Volume{StorageClass: "gp3"}); ok || book.Defaults.StorageSet {
		t.Errorf("a book without storage prices priced a volume")
	}
}

func TestParseVolumeRuleErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"typo'd condition", volumeHead + "  - match: {storageclass: gp3}\n    gibMonth: 0.08\n",
			[]string{"bad.yaml:4: volumes[0].match.storageclass: unknown field (want storageClass, provisioner, type, labels)"}},
		{"no condition", volumeHead + "  - match: {}\n    gibMonth: 0.08\n",
			[]string{"bad.yaml:4: volumes[0].match: must name at least one of storageClass, provisioner, type or labels"}},
		{"monthly price missing", volumeHead + "  - match: {type: gp2}\n    hourly: 0.1\n", []string{
			"bad.yaml:4: volumes[0].gibMonth: required",
			"bad.yaml:5: volumes[0].hourly: unknown field (want match, gibMonth)",
		}},
		{"negative price", volumeHead + "  - match: {type: gp2}\n    gibMonth: -0.1\n",
			[]string{`bad.yaml:5: volumes[0].gibMonth: must be a number ≥ 0, got "-0.1"`}},
		{"empty storage class", volumeHead + "  - match: {storageClass: \"\"}\n    gibMonth: 0.1\n",
			[]string{`bad.yaml:4: volumes[0].match.storageClass: must be a non-empty string, got ""`}},
		{"labels not a mapping", volumeHead + "  - match: {labels: [zone]}\n    gibMonth: 0.1\n",
			[]string{"bad.yaml:4: volumes[0].match.labels: must be a mapping of volume labels to values, got a list"}},
		{"shadowed rule", volumeHead + "  - match: {storageClass: gp3}\n    gibMonth: 0.08\n  - match: {storageClass: gp3, type: gp3}\n    gibMonth: 0.1\n",
			[]string{"bad.yaml:6: volumes[1].match: never used: volumes[0] (line 4) comes first and matches every volume this rule matches"}},
		{"bad default", "currency: USD\ndefaults: {cpuCoreHour: 1, ramGiBHour: 1, gpuHour: 0, storageGiBMonth: .nan}\n",
			[]string{`bad.yaml:2: defaults.storageGiBMonth: must be a number ≥ 0, got ".nan"`}},
		{"volumes not a list", volumeHead[:len(volumeHead)-1] + " gp3\n",
			[]string{`bad.yaml:3: volumes: must be a list of rules, got "gp3"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantParseErrors(t, tt.yaml, tt.want) })
	}
}

func TestPriceVolume(t *testing.T) {
	book := &Book{Currency: "EUR", Defaults: Rates{StorageGiBMonth: 0.0365, StorageSet: true}, Volumes: []VolumeRule{
		{Line: 4, StorageClass: "gp3", Labels: map[string]string{"zone": "a"}, GiBMonth: 0.0876},
		{Line: 6, Provisioner: "ebs.csi.aws.com", Type: "io2", GiBMonth: 0.146},
	}}
	tests := []struct {
		name       string
		v          model.Volume
		wantHourly float64 // per GiB: the monthly price ÷ 730, worked out by hand
		wantSource string
	}{
		{"class and zone", model.Volume{StorageClass: "gp3", Labels: map[string]string{"zone": "a"}}, 0.00012, "volume rule 1 (line 4)"},
		{"class, other zone", model.Volume{StorageClass: "gp3", Labels: map[string]string{"zone": "b"}}, 0.00005, "defaults"},
		{"provisioner and type", model.Volume{StorageClass: "fast", Provisioner: "ebs.csi.aws.com", Type: "io2"}, 0.0002, "volume rule 2 (line 6)"},
		{"type only", model.Volume{Type: "io2"}, 0.00005, "defaults"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.v.Cluster, tt.v.Name = "c", "pv-1"
			got, ok := book.PriceVolume(tt.v)
			if !ok {
				t.Fatal("no price")
			}
			near(t, "GiBHourCost", got.GiBHourCost, tt.wantHourly)
			if got.Source != tt.wantSource || got.Currency != "EUR" || got.Volume != "pv-1" || got.Cluster != "c" {
				t.Errorf("price = %+v, want source %q, currency EUR, volume c/pv-1", got, tt.wantSource)
			}
		})
	}
}
