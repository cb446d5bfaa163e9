package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/store/storetest"
)

// writeFOCUS writes a FOCUS 1.0 file of n hourly lines shaped like a month of a large AWS
// account: resources × hours, one line per resource and hour, EC2 instances and EBS volumes
// alternating, half of the instances covered by a savings plan (BilledCost 0, EffectiveCost
// the amortised rate), JSON tags, costs with 11 decimals. It returns the file's path.
func writeFOCUS(tb testing.TB, dir string, n int) string {
	tb.Helper()
	path := filepath.Join(dir, "focus-1m.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, `BilledCost,BillingAccountId,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargePeriodEnd,ChargePeriodStart,CommitmentDiscountId,CommitmentDiscountType,EffectiveCost,ListCost,PricingCategory,ProviderName,RegionId,ResourceId,ServiceName,SubAccountId,Tags`)
	const hours = 720 // March 2026 up to its 31st day: 30 days
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	resources := (n + hours - 1) / hours
	for i := 0; i < n; i++ {
		r, h := i%resources, i/resources
		from := start.Add(time.Duration(h) * time.Hour)
		to := from.Add(time.Hour)
		var id, service, commitment, kind, pricing string
		billed, effective, list := 0.192*float64(1+r%7), 0.0, 0.0
		list = billed
		effective = billed
		switch {
		case r%2 == 1:
			id, service, kind, pricing = fmt.Sprintf("vol-%017x", r), "Amazon Elastic Block Store", "", "Standard"
			billed, list, effective = 0.0109589041, 0.0109589041, 0.0109589041
		case r%4 == 0:
			id, service, pricing = fmt.Sprintf("i-%017x", r), "Amazon Elastic Compute Cloud", "Committed"
			commitment, kind = "arn:aws:savingsplans::111122223333:savingsplan/sp-0123", "Savings Plan"
			billed, effective = 0, billed*0.72
		default:
			id, service, pricing = fmt.Sprintf("i-%017x", r), "Amazon Elastic Compute Cloud", "Standard"
		}
		fmt.Fprintf(w, "%.11f,111122223333,USD,2026-04-01T00:00:00Z,2026-03-01T00:00:00Z,Usage,%s,%s,%s,%s,%.11f,%.11f,%s,AWS,eu-west-1,%s,%s,4444%08d,\"{\"\"team\"\":\"\"team-%02d\"\",\"\"kubernetes.io/cluster/prod\"\":\"\"owned\"\"}\"\n",
			billed, to.Format(time.RFC3339), from.Format(time.RFC3339), commitment, kind, effective, list, pricing, id, service, r%40, r%40)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkBillImport1M imports a FOCUS file of 1,000,000 lines (1,389 resources × 720
// hours) into a fresh database with `reporter bill import`, reading, checking and writing
// it whole, and reports lines/s and the process' peak heap. The target: under 30 s.
func BenchmarkBillImport1M(b *testing.B) {
	const lines = 1_000_000
	path := writeFOCUS(b, b.TempDir(), lines)
	if st, err := os.Stat(path); err == nil {
		b.Logf("%s: %d lines, %.0f MB", filepath.Base(path), lines, float64(st.Size())/1e6)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		_, dsn := storetest.Open(b, "tally_bill_bench", nil)
		runtime.GC()
		b.StartTimer()
		var stdout, stderr bytes.Buffer
		if code := run([]string{"bill", "import", "--clickhouse-dsn", dsn, "--focus", path}, &stdout, &stderr, noEnv); code != 0 {
			b.Fatalf("bill import: %d: %s", code, stderr.String())
		}
		b.StopTimer()
		if !strings.Contains(stdout.String(), fmt.Sprintf("%d lines", lines)) {
			b.Fatalf("bill import did not read %d lines:\n%s", lines, stdout.String())
		}
		rows := billShowJSON(b, dsn, "2026-03-01T00:00:00Z,2026-04-01T00:00:00Z", "provider")
		if len(rows) != 1 || rows[0].Name != "AWS" {
			b.Fatalf("bill show after the import: %+v", rows)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MiB")
}
