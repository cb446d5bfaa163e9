package synthetic

import "math"

// Time inside the profiles is Unix seconds (int64), so that every interval the generator and
// Expected use is exact: Start is minute-aligned and the scrape interval divides a minute.
const (
	secondsPerDay  = 86400
	secondsPerHour = 3600

	// Spiky bursts run from minute 29 to minute 31 of every UTC hour: 2 of 60 minutes (3.3 %
	// of the time), so the p95 of 1-minute rates is the baseline whatever percentile method is
	// used, while the maximum is the burst.
	burstOffsetSeconds = 29 * 60
	burstLengthSeconds = 2 * 60

	// cfsPeriodsPerSecond is the number of 100 ms CFS enforcement periods per second.
	cfsPeriodsPerSecond = 10
)

type cpuKind int

const (
	cpuConstant cpuKind = iota // rate = base
	cpuDiurnal                 // rate = base + amplitude·sin(2π t / 24h), t in Unix seconds
	cpuSpiky                   // rate = burst during bursts, base otherwise
)

// cpuProfile is a CPU usage rate in cores as a function of time. Its integral is closed-form,
// so the cumulative counter cAdvisor would report is exact.
type cpuProfile struct {
	kind      cpuKind
	base      float64 // cores
	amplitude float64 // cores, diurnal only
	burst     float64 // cores during bursts, spiky only
	// throttled is the share of CFS periods throttled during bursts (spiky only); outside
	// bursts no period is throttled.
	throttled float64
}

func constantCPU(cores float64) cpuProfile { return cpuProfile{kind: cpuConstant, base: cores} }

func diurnalCPU(mean, amplitude float64) cpuProfile {
	return cpuProfile{kind: cpuDiurnal, base: mean, amplitude: amplitude}
}

func spikyCPU(baseline, burst, throttled float64) cpuProfile {
	return cpuProfile{kind: cpuSpiky, base: baseline, burst: burst, throttled: throttled}
}

// rate is the usage in cores at Unix second t.
func (p cpuProfile) rate(t int64) float64 {
	switch p.kind {
	case cpuDiurnal:
		return p.base + p.amplitude*math.Sin(dayAngle(t))
	case cpuSpiky:
		if s := mod(t, secondsPerHour); s >= burstOffsetSeconds && s < burstOffsetSeconds+burstLengthSeconds {
			return p.burst
		}
		return p.base
	default:
		return p.base
	}
}

// cpuSeconds is the exact integral of the rate over [t0, t1]: the CPU seconds used.
func (p cpuProfile) cpuSeconds(t0, t1 int64) float64 {
	d := float64(t1 - t0)
	switch p.kind {
	case cpuDiurnal:
		// ∫ a + b·sin(ωt) dt = a·(t1−t0) − (b/ω)·(cos ωt1 − cos ωt0), ω = 2π/86400.
		return p.base*d - p.amplitude*secondsPerDay/(2*math.Pi)*(math.Cos(dayAngle(t1))-math.Cos(dayAngle(t0)))
	case cpuSpiky:
		return p.base*d + (p.burst-p.base)*float64(burstSeconds(t1)-burstSeconds(t0))
	default:
		return p.base * d
	}
}

// throttledPeriods is the number of CFS periods throttled in [t0, t1].
func (p cpuProfile) throttledPeriods(t0, t1 int64) float64 {
	if p.kind != cpuSpiky || p.throttled == 0 {
		return 0
	}
	return p.throttled * cfsPeriodsPerSecond * float64(burstSeconds(t1)-burstSeconds(t0))
}

// dayAngle is 2π·t/24h with t reduced modulo a day first, so that the angle keeps full
// precision for present-day Unix times.
func dayAngle(t int64) float64 {
	return 2 * math.Pi * float64(mod(t, secondsPerDay)) / secondsPerDay
}

// burstSeconds is the number of burst seconds in [0, t) for t ≥ 0.
func burstSeconds(t int64) int64 {
	s := mod(t, secondsPerHour) - burstOffsetSeconds
	return (t/secondsPerHour)*burstLengthSeconds + min(max(s, 0), burstLengthSeconds)
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

type memKind int

const (
	memConstant memKind = iota // bytes = base
	memDiurnal                 // bytes = base + amplitude·sin(2π t / 24h)
	memLinear                  // bytes = base + perHour·(t − container start)/1h
)

// memProfile is a working set in bytes as a function of time and of the start of the
// container (a restarted container starts again from base). Samples are whole bytes: the
// value is rounded down.
type memProfile struct {
	kind      memKind
	base      float64 // bytes
	amplitude float64 // bytes, diurnal only
	perHour   float64 // bytes per hour, linear only
}

func constantMemory(bytes float64) memProfile { return memProfile{kind: memConstant, base: bytes} }

func diurnalMemory(mean, amplitude float64) memProfile {
	return memProfile{kind: memDiurnal, base: mean, amplitude: amplitude}
}

func linearMemory(base, perHour float64) memProfile {
	return memProfile{kind: memLinear, base: base, perHour: perHour}
}

// bytes is the working set at Unix second t of a container started at containerStart.
func (p memProfile) bytes(t, containerStart int64) uint64 {
	v := p.base
	switch p.kind {
	case memDiurnal:
		v += p.amplitude * math.Sin(dayAngle(t))
	case memLinear:
		v += p.perHour * float64(t-containerStart) / secondsPerHour
	}
	return uint64(math.Floor(v))
}
