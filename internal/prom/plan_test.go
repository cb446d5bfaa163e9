package prom

import (
	"math"
	"testing"
	"time"
)

func TestIntervalsPerChunk(t *testing.T) {
	for _, tc := range []struct {
		name       string
		step       time.Duration
		chunk      time.Duration
		maxSamples int
		series     int
		want       int
	}{
		{"chunk bounds", time.Minute, time.Hour, 5_000_000, 10, 60},
		{"series unknown", time.Minute, time.Hour, 5_000_000, 0, 60},
		{"ten thousand series fit", time.Minute, time.Hour, 5_000_000, 10_000, 60},
		{"max samples bound", time.Minute, time.Hour, 100_000, 10_000, 9}, // 10,000 × 10 points
		{"points per series bound", time.Second, 24 * time.Hour, 1 << 40, 1, 10_999},
		{"never below one", time.Minute, time.Hour, 10, 1_000, 1},
		{"chunk shorter than step", time.Hour, time.Minute, 5_000_000, 10, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := intervalsPerChunk(tc.step, tc.chunk, tc.maxSamples, tc.series)
			if got != tc.want {
				t.Fatalf("intervalsPerChunk = %d, want %d", got, tc.want)
			}
			if got > 1 && tc.series > 0 && tc.series*(got+1) > tc.maxSamples {
				t.Fatalf("%d series × %d points exceed %d", tc.series, got+1, tc.maxSamples)
			}
			if got+1 > maxPointsPerSeries {
				t.Fatalf("%d points exceed Prometheus's limit", got+1)
			}
		})
	}
}

func TestPlanSpans(t *testing.T) {
	for _, tc := range []struct {
		n, per int
		want   []span
	}{
		{0, 60, nil},
		{5, 60, []span{{0, 5}}},
		{180, 60, []span{{0, 60}, {60, 120}, {120, 180}}},
		{181, 60, []span{{0, 60}, {60, 120}, {120, 180}, {180, 181}}},
		{3, 0, []span{{0, 1}, {1, 2}, {2, 3}}},
	} {
		got := planSpans(tc.n, tc.per)
		if len(got) != len(tc.want) {
			t.Fatalf("planSpans(%d, %d) = %v, want %v", tc.n, tc.per, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("planSpans(%d, %d) = %v, want %v", tc.n, tc.per, got, tc.want)
			}
		}
	}
}

func TestCounterIncrease(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name      string
		prev, cur float64
		want      float64
		ok        bool
	}{
		{"growth", 100, 115, 15, true},
		{"flat", 42, 42, 0, true},
		{"reset counts the new value", 1000, 7.5, 7.5, true},
		{"reset to zero", 1000, 0, 0, true},
		{"missing start", nan, 10, 0, false},
		{"missing end", 10, nan, 0, false},
		{"both missing", nan, nan, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := counterIncrease(tc.prev, tc.cur)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("counterIncrease(%v, %v) = %v, %v; want %v, %v", tc.prev, tc.cur, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{promDuration(time.Minute), "60s"},
		{promDuration(time.Minute - time.Millisecond), "59999ms"},
		{promDuration(3 * time.Hour), "10800s"},
		{apiTime(time.Unix(1767225600, 0)), "1767225600"},
		{apiTime(time.UnixMilli(1767225600123)), "1767225600.123"},
		{windowString(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)), "2026-01-01T00:00Z–01:00Z"},
		{windowString(time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 1, 0, 30, 0, time.UTC)), "2026-01-01T23:00Z–2026-01-02T01:00:30Z"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if err := checkAligned("from", time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC), time.Minute); err == nil {
		t.Error("checkAligned accepted a time 30s past the minute")
	}
	if err := checkAligned("from", time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC), time.Minute); err != nil {
		t.Errorf("checkAligned: %v", err)
	}
}
