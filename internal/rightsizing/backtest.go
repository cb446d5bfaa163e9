package rightsizing

// Backtest verdicts, from best to worst.
const (
	VerdictHeld             = "held"              // memory stayed under the limit, CPU above the request no more than expected
	VerdictCPUTight         = "cpu-tight"         // CPU above the recommended request in more minutes than the percentile allows
	VerdictMemoryExceeded   = "memory-exceeded"   // the working set went over the recommended limit: an OOM kill
	VerdictNoLaterData      = "no-later-data"     // the container did not run in the later window
	VerdictNoRecommendation = "no-recommendation" // the earlier window gave no values (insufficient data)
)

// Outcome is what the later window's 1-minute samples of one workload container say about a
// recommendation, counted in ClickHouse.
type Outcome struct {
	Samples            int     // samples in the later window
	CPUOverRequest     int     // samples with CPU usage above the recommended CPU request
	MemoryOverLimit    int     // samples with a working set above the recommended memory limit
	MemoryPeakBytes    float64 // the largest working set in the later window
	CPURequestCores    float64 // the request set at the end of the later window; 0 unset
	MemoryRequestBytes float64
	HasLater           bool    // a container snapshot was found at the end of the later window
	Replicas           float64 // average replicas running in the later window
	CPUCoreHourCost    float64 // unit prices of the later window
	RAMGiBHourCost     float64
}

// Backtest is a recommendation made from an earlier window, scored against the window that
// followed it.
type Backtest struct {
	Recommendation Recommendation
	Outcome        Outcome
	// CPUOverShare is the share of the later window's samples with CPU usage above the
	// recommended request; for a p95 request about 0.05 is expected.
	CPUOverShare float64
	// MemoryExceeded says the working set went over the recommended limit at least once: the
	// container would have been OOM-killed.
	MemoryExceeded bool
	// RealisedMonthlySavings prices the change in requests actually made between the end of
	// the earlier window and the end of the later one, as MonthlySavings prices advice.
	RealisedMonthlySavings float64
	Verdict                string
}

// Score scores rec against the later window's outcome o. The CPU request "held" when the
// share of minutes above it is at most twice what the percentile allows (10% for p95).
func Score(rec Recommendation, o Outcome, p Policy) Backtest {
	b := Backtest{Recommendation: rec, Outcome: o}
	if o.Samples > 0 {
		b.CPUOverShare = float64(o.CPUOverRequest) / float64(o.Samples)
	}
	b.MemoryExceeded = o.MemoryOverLimit > 0
	if o.HasLater {
		cpu := (value(rec.Current.CPURequest) - o.CPURequestCores) * o.CPUCoreHourCost
		mem := (value(rec.Current.MemoryRequest) - o.MemoryRequestBytes) / gib * o.RAMGiBHourCost
		b.RealisedMonthlySavings = (cpu + mem) * o.Replicas * p.HoursPerMonth
	}
	allowed := 2 * (1 - p.CPUPercentile/100)
	switch {
	case rec.Recommended.CPURequest == nil || rec.Recommended.MemoryLimit == nil:
		b.Verdict = VerdictNoRecommendation
	case o.Samples == 0:
		b.Verdict = VerdictNoLaterData
	case b.MemoryExceeded:
		b.Verdict = VerdictMemoryExceeded
	case b.CPUOverShare > allowed+1e-12:
		b.Verdict = VerdictCPUTight
	default:
		b.Verdict = VerdictHeld
	}
	return b
}

// BacktestTotals sums a backtest over containers.
type BacktestTotals struct {
	Containers, Scored, Held, CPUTight, MemoryExceeded int
	// CPUOverShare is the share of all scored samples above their recommended request.
	CPUOverShare                                    float64
	PredictedMonthlySavings, RealisedMonthlySavings float64
}

// TotalsOf sums bs. Only recommendations with values and later data are scored.
func TotalsOf(bs []Backtest) BacktestTotals {
	var t BacktestTotals
	var samples, over int
	for _, b := range bs {
		t.Containers++
		t.RealisedMonthlySavings += b.RealisedMonthlySavings
		switch b.Verdict {
		case VerdictNoRecommendation, VerdictNoLaterData:
			continue
		case VerdictHeld:
			t.Held++
		case VerdictCPUTight:
			t.CPUTight++
		case VerdictMemoryExceeded:
			t.MemoryExceeded++
		}
		t.Scored++
		t.PredictedMonthlySavings += b.Recommendation.MonthlySavings
		samples += b.Outcome.Samples
		over += b.Outcome.CPUOverRequest
	}
	if samples > 0 {
		t.CPUOverShare = float64(over) / float64(samples)
	}
	return t
}
