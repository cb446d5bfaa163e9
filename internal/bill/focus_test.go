package bill

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func readFile(t *testing.T, name string, opts Options) Result {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Read(name, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// testdata/quirks.csv has the quirks of real exports, one per line (the header is line 1):
//
//	2: an EC2 hour, 11 decimals, Tags with a number in them;
//	3: the next hour, EffectiveCost 0 with no commitment: taken as its BilledCost;
//	4: an hour covered by a savings plan, BilledCost 0, EffectiveCost 0.123, Tags empty;
//	5: the savings plan's purchase, EffectiveCost 0 (amortised into the usage): kept 0;
//	6: a credit, negative, NULL region and resource;
//	7: an Oracle adjustment in RFC 3339 times, EffectiveCost NULL: taken as its BilledCost.
func TestReadQuirks(t *testing.T) {
	res := readFile(t, "testdata/quirks.csv", Options{})
	if len(res.Lines) != 6 || res.Repaired != 2 {
		t.Fatalf("%d lines, %d repaired; want 6 and 2", len(res.Lines), res.Repaired)
	}
	want := []struct {
		line                       int
		source, category, resource string
		billed, effective, list    float64
		tags                       map[string]string
	}{
		{2, "AWS/111", "Usage", "i-0aaa", 0.19200000001, 0.19200000001, 0.19200000001, map[string]string{"team": "payments", "cost-center": "42"}},
		{3, "AWS/111", "Usage", "i-0aaa", 0.19200000001, 0.19200000001, 0.19200000001, nil},
		{4, "AWS/111", "Usage", "i-0bbb", 0, 0.123, 0.19200000001, nil},
		{5, "AWS/111", "Purchase", "", 5, 0, 0, map[string]string{}},
		{6, "AWS/111", "Credit", "", -2.6137, -3, -2.6137, nil},
		{7, "Oracle/222", "Adjustment", "ocid1.volume.oc1..aaa", 0.08, 0.08, 0, nil},
	}
	for i, w := range want {
		l := res.Lines[i]
		if l.Line != w.line || l.Source != w.source || l.ChargeCategory != w.category || l.ResourceID != w.resource ||
			!near(l.BilledCost, w.billed) || !near(l.EffectiveCost, w.effective) || !near(l.ListCost, w.list) ||
			len(l.Tags) != len(w.tags) || (w.tags == nil) != (l.Tags == nil) {
			t.Errorf("line %d: %+v\nwant %+v", w.line, l, w)
		}
		for k, v := range w.tags {
			if l.Tags[k] != v {
				t.Errorf("line %d: tag %s = %q, want %q", w.line, k, l.Tags[k], v)
			}
		}
	}
	if got := res.Lines[5].ChargePeriodStart; !got.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("RFC 3339 ChargePeriodStart = %v", got)
	}
	if l := res.Lines[4]; l.Region != "" || l.CommitmentDiscountID != "" {
		t.Errorf("NULL fields read as %q and %q, want empty", l.Region, l.CommitmentDiscountID)
	}
	if got := readFile(t, "testdata/quirks.csv", Options{Source: "finance"}).Lines[5].Source; got != "finance" {
		t.Errorf("--source: line source %q", got)
	}
}

// The same lines compressed, with a byte-order mark, in another order, are the same bill.
func TestReadGzipAndChecksum(t *testing.T) {
	raw, err := os.ReadFile("testdata/quirks.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	lines = lines[:len(lines)-1] // the final "" after the last newline
	reordered := "\ufeff" + lines[0] + strings.Join(append(append([]string{}, lines[3:]...), lines[1:3]...), "")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(reordered))
	zw.Close()
	a, err := Read("quirks.csv", bytes.NewReader(raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Read("quirks.csv.gz", &gz, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ga, gb := Groups(a.Lines), Groups(b.Lines)
	if len(ga) != 2 || len(gb) != 2 {
		t.Fatalf("%d and %d groups, want 2 (AWS/111 and Oracle/222, one billing period each)", len(ga), len(gb))
	}
	for i := range ga {
		if ga[i].Checksum != gb[i].Checksum || ga[i].Source != gb[i].Source || len(ga[i].Lines) != len(gb[i].Lines) {
			t.Errorf("group %d: %s %s (%d lines) vs %s %s (%d lines)", i, ga[i].Source, ga[i].Checksum, len(ga[i].Lines), gb[i].Source, gb[i].Checksum, len(gb[i].Lines))
		}
	}
	changed := strings.Replace(string(raw), "0.12300000000", "0.12300000001", 1)
	c, err := Read("changed.csv", strings.NewReader(changed), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if Groups(c.Lines)[0].Checksum == ga[0].Checksum {
		t.Error("a changed cost kept the checksum")
	}
}

// A malformed line fails the read with its line number; nothing is returned.
func TestReadRejectsMalformedLines(t *testing.T) {
	raw, err := os.ReadFile("testdata/quirks.csv")
	if err != nil {
		t.Fatal(err)
	}
	header, body, _ := strings.Cut(string(raw), "\n")
	bodyLines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	tests := []struct {
		name, text, want string
	}{
		{"cost not a number", header + "\n" + strings.Replace(bodyLines[0], "0.19200000001", "0.19x", 1) + "\n", `bad.csv:2: BilledCost "0.19x": not a finite number`},
		{"NaN cost", header + "\n" + bodyLines[0] + "\n" + strings.Replace(bodyLines[1], "0.19200000001", "NaN", 1) + "\n", `bad.csv:3: BilledCost "NaN": not a finite number`},
		{"no billed cost", header + "\n" + strings.Replace(bodyLines[0], "0.19200000001,", "NULL,", 1) + "\n", "bad.csv:2: BilledCost: no value"},
		{"bad time", header + "\n" + strings.Replace(bodyLines[0], `"2026-03-02 00:00:00"`, `"yesterday"`, 1) + "\n", `bad.csv:2: ChargePeriodStart "yesterday": not a time`},
		{"bad tags", header + "\n" + bodyLines[0] + "\n" + bodyLines[1] + "\n" + strings.Replace(bodyLines[2], `,"Amazon Elastic Compute Cloud",`, `,"Amazon Elastic Compute Cloud",{team:`, 1) + "\n", "bad.csv:4: Tags"},
		{"short line", header + "\n" + bodyLines[0] + "\n" + `1,"111","USD"` + "\n", "bad.csv:3: 3 fields, the header has 18"},
		{"end before start", header + "\n" + strings.Replace(bodyLines[0], `"2026-03-02 01:00:00","2026-03-02 00:00:00"`, `"2026-03-01 01:00:00","2026-03-02 00:00:00"`, 1) + "\n", "bad.csv:2: ChargePeriodEnd 2026-03-01T01:00:00Z is before"},
		{"not FOCUS", "a,b,c\n1,2,3\n", "bad.csv:1: not a FOCUS header: missing columns BilledCost"},
		{"empty", "", "bad.csv: empty file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Read("bad.csv", strings.NewReader(tc.text), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line with %q", err, tc.want)
			}
			if len(res.Lines) != 0 {
				t.Errorf("%d lines returned with the error, want none", len(res.Lines))
			}
		})
	}
	// Many bad lines: the first ten are named, the rest counted.
	many := header + "\n" + strings.Repeat(strings.Replace(bodyLines[0], "0.19200000001", "x", 1)+"\n", 25)
	_, err = Read("bad.csv", strings.NewReader(many), Options{})
	if err == nil || !strings.Contains(err.Error(), "25 malformed lines") || !strings.Contains(err.Error(), "bad.csv:11:") ||
		strings.Contains(err.Error(), "bad.csv:12:") || !strings.Contains(err.Error(), "and 15 more") {
		t.Errorf("err = %v", err)
	}
}

// The FinOps Foundation's real, anonymised FOCUS 1.0 sample (1,000 lines of AWS, Microsoft
// and Oracle), when the shared data directory is there. Expected sums were worked out with
// Python's decimal module from the file, with the same repair rule.
func TestReadFOCUSSample(t *testing.T) {
	const sample = "../../../shared/data/focus/focus_sample.csv"
	if _, err := os.Stat(sample); err != nil {
		t.Skip("the shared FOCUS sample is not on this machine")
	}
	res := readFile(t, sample, Options{})
	if len(res.Lines) != 1000 || res.Repaired != 610 {
		t.Fatalf("%d lines, %d repaired; want 1000 and 610", len(res.Lines), res.Repaired)
	}
	var billed, effective, list float64
	for _, l := range res.Lines {
		billed += l.BilledCost
		effective += l.EffectiveCost
		list += l.ListCost
	}
	if !near(billed, 20.52022672899) || !near(effective, 22.45405705299) || !near(list, 20.39090575119) {
		t.Errorf("sums %.11f %.11f %.11f, want 20.52022672899 22.45405705299 20.39090575119", billed, effective, list)
	}
	groups := Groups(res.Lines)
	if len(groups) != 4 {
		t.Errorf("%d source-period groups, want 4 (AWS, Microsoft, Oracle in two billing periods)", len(groups))
	}
}
