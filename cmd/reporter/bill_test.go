package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-finops/tally/internal/store/storetest"
)

type billRow struct {
	Name          string  `json:"name"`
	Currency      string  `json:"currency"`
	BilledCost    float64 `json:"billedCost"`
	EffectiveCost float64 `json:"effectiveCost"`
	ListCost      float64 `json:"listCost"`
}

func billShowJSON(t testing.TB, dsn, window, by string) []billRow {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"bill", "show", "--clickhouse-dsn", dsn, "--window", window, "--by", by, "--format", "json"},
		&stdout, &stderr, noEnv); code != 0 {
		t.Fatalf("bill show: %d: %s", code, stderr.String())
	}
	var rows []billRow
	if err := json.Unmarshal(stdout.Bytes(), &rows); err != nil {
		t.Fatalf("bill show --format json: %v\n%s", err, stdout.String())
	}
	return rows
}

// The import of internal/bill/testdata/quirks.csv, compressed, then again, then a malformed
// file; bill show's JSON against sums worked out by hand.
func TestBillImportAndShow(t *testing.T) {
	_, dsn := storetest.Open(t, "tally_bill_cli", nil)
	raw, err := os.ReadFile("../../internal/bill/testdata/quirks.csv")
	if err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(t.TempDir(), "march.csv.gz")
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(raw)
	zw.Close()
	if err := os.WriteFile(gz, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	imp := func(file string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"bill", "import", "--clickhouse-dsn", dsn, "--focus", file}, &stdout, &stderr, noEnv)
		return code, stdout.String(), stderr.String()
	}
	code, out, errOut := imp(gz)
	if code != 0 || !strings.Contains(out, "6 lines (2 with EffectiveCost 0 or NULL") || !strings.Contains(out, "AWS/111 2026-03: 5 lines, billed 2.77: imported\n") {
		t.Fatalf("first import: %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut = imp(gz); code != 0 || strings.Count(out, "unchanged (already imported)") != 2 {
		t.Fatalf("second import: %d\n%s%s", code, out, errOut)
	}
	// A malformed line: exit 1, the line named, nothing of the file written.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	broken := strings.Replace(string(raw), "-2.61370000000,", "-2.6137O,", 1)
	broken = strings.ReplaceAll(broken, "2026-03-", "2026-05-") // another billing period, so any line written would show
	broken = strings.ReplaceAll(broken, "2026-04-01", "2026-06-01")
	if err := os.WriteFile(bad, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut = imp(bad); code != 1 || !strings.Contains(errOut, bad+`:6: BilledCost "-2.6137O": not a finite number`) {
		t.Fatalf("malformed import: %d\n%s%s", code, out, errOut)
	}
	if rows := billShowJSON(t, dsn, "2026-05-01T00:00:00Z,2026-06-01T00:00:00Z", "provider"); len(rows) != 0 {
		t.Errorf("after a malformed import, May has %+v, want nothing", rows)
	}

	// By hand (internal/store's test works the same sums out): AWS billed 2.77030000002,
	// effective −2.49299999998, list −2.03769999997; Oracle 0.08, 0.08, 0.
	got := billShowJSON(t, dsn, "2026-03-01T00:00:00Z,2026-04-01T00:00:00Z", "provider")
	want := []billRow{{"AWS", "USD", 2.77030000002, -2.49299999998, -2.03769999997}, {"Oracle", "USD", 0.08, 0.08, 0}}
	if len(got) != len(want) {
		t.Fatalf("bill show: %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Currency != w.Currency || math.Abs(g.BilledCost-w.BilledCost) > 1e-9 ||
			math.Abs(g.EffectiveCost-w.EffectiveCost) > 1e-9 || math.Abs(g.ListCost-w.ListCost) > 1e-9 {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"bill", "show", "--clickhouse-dsn", dsn, "--window", "2026-03-01T00:00:00Z,2026-04-01T00:00:00Z", "--by", "service"},
		&stdout, &stderr, noEnv); code != 0 || !strings.Contains(stdout.String(), "TOTAL") || !strings.Contains(stdout.String(), "Savings Plans for AWS Compute usage") {
		t.Errorf("bill show table: %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

func TestBillRejectsBadFlagsBeforeConnecting(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bill"}, 2, "reporter bill import"},
		{[]string{"bill", "pay"}, 2, `unknown command "pay"`},
		{[]string{"bill", "import", "--clickhouse-dsn", "clickhouse://127.0.0.1:1/x"}, 2, "--focus are required"},
		{[]string{"bill", "import", "--clickhouse-dsn", "clickhouse://127.0.0.1:1/x", "--focus", "/nonexistent.csv"}, 1, "/nonexistent.csv"},
		{[]string{"bill", "show", "--clickhouse-dsn", "clickhouse://127.0.0.1:1/x", "--by", "team"}, 2, `--by "team": want one of provider, service, account, resource, day`},
		{[]string{"bill", "show", "--clickhouse-dsn", "clickhouse://127.0.0.1:1/x", "--window", "soon"}, 2, "--window"},
		{[]string{"bill", "show", "--clickhouse-dsn", "clickhouse://127.0.0.1:1/x", "--format", "xml"}, 2, "--format"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr, noEnv); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: %d %q, want %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}

// The FinOps Foundation's FOCUS 1.0 sample, when the shared data directory is there: its
// September 2024 totals as Python's decimal module sums them (internal/bill's test).
func TestBillImportFOCUSSample(t *testing.T) {
	const sample = "../../../shared/data/focus/focus_sample.csv"
	if _, err := os.Stat(sample); err != nil {
		t.Skip("the shared FOCUS sample is not on this machine")
	}
	_, dsn := storetest.Open(t, "tally_bill_sample", nil)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"bill", "import", "--clickhouse-dsn", dsn, "--focus", sample}, &stdout, &stderr, noEnv); code != 0 {
		t.Fatalf("import: %d %s", code, stderr.String())
	}
	var billed, effective, list float64
	for _, r := range billShowJSON(t, dsn, "2024-09-01T00:00:00Z,2024-10-01T00:00:00Z", "provider") {
		billed, effective, list = billed+r.BilledCost, effective+r.EffectiveCost, list+r.ListCost
	}
	if math.Abs(billed-20.52022672899) > 1e-9 || math.Abs(effective-22.45405705299) > 1e-9 || math.Abs(list-20.39090575119) > 1e-9 {
		t.Errorf("September 2024: billed %.11f effective %.11f list %.11f; want 20.52022672899 22.45405705299 20.39090575119\n%s", billed, effective, list, stdout.String())
	}
}
