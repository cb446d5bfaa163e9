package synthetic

import (
	"math"
	"testing"
)

// TestCPUIntegrals checks each closed-form integral against a numerical integration of the
// rate with 1-second steps (trapezoids for the smooth profile; the spiky one is constant on
// every second, so its Riemann sum is exact).
func TestCPUIntegrals(t *testing.T) {
	start := testEnd.Unix() - 48*3600
	for _, tc := range []struct {
		name    string
		p       cpuProfile
		tol     float64
		stepped bool
	}{
		{"constant", constantCPU(0.3), 1e-9, true},
		{"diurnal", diurnalCPU(0.6, 0.4), 1e-6, false},
		{"spiky", spikyCPU(0.05, 0.9, 0.5), 1e-9, true},
	} {
		for _, iv := range [][2]int64{
			{start, start + 3600},                     // a clock hour
			{start + 29*60 + 17, start + 31*60 - 5},   // inside a burst
			{start + 23*3600 + 1234, start + 25*3600}, // across midnight
			{start - 2*3600 - 47*60, start + 37*3600 + 13*60},
		} {
			sum := 0.0
			for s := iv[0]; s < iv[1]; s++ {
				if tc.stepped {
					sum += tc.p.rate(s)
				} else {
					sum += (tc.p.rate(s) + tc.p.rate(s+1)) / 2
				}
			}
			if got := tc.p.cpuSeconds(iv[0], iv[1]); math.Abs(got-sum) > tc.tol*max(1, sum) {
				t.Errorf("%s over [%d, %d]: closed form %.9f, numeric %.9f", tc.name, iv[0], iv[1], got, sum)
			}
		}
	}
	// Throttling: half of the 10 periods a second during bursts only.
	p := spikyCPU(0.05, 0.9, 0.5)
	if got := p.throttledPeriods(start, start+3600); got != 600 {
		t.Errorf("throttled periods in an hour: %g, want 0.5·10·120 = 600", got)
	}
	if got := p.throttledPeriods(start, start+29*60); got != 0 {
		t.Errorf("throttled periods before the burst: %g", got)
	}
}

func TestMemoryProfiles(t *testing.T) {
	// The OOM profile reaches the limit exactly when the container is killed (20 h).
	oom := linearMemory(128<<20, float64(384<<20)/20)
	if got := oom.bytes(1000+20*3600, 1000); got != 512<<20 {
		t.Errorf("OOM working set after 20 h = %d, want the 512 MiB limit", got)
	}
	if got := oom.bytes(1000, 1000); got != 128<<20 {
		t.Errorf("OOM working set at start = %d", got)
	}
	// Diurnal memory peaks at 06:00 UTC and bottoms at 18:00.
	d := diurnalMemory(640<<20, 128<<20)
	day := testEnd.Unix()
	if d.bytes(day+6*3600, 0) != 768<<20 || d.bytes(day+18*3600, 0) != 512<<20 {
		t.Errorf("diurnal memory at 06:00 %d, at 18:00 %d", d.bytes(day+6*3600, 0), d.bytes(day+18*3600, 0))
	}
}
