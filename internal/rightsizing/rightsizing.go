// Package rightsizing turns one workload container's usage statistics over a window into a
// recommendation: CPU and memory requests and limits, the monthly savings they bring, the risk
// they carry and the evidence behind them, so a user can check every number by hand.
//
// It is pure: no I/O, no clock, no globals. The statistics (percentiles, peaks, sample
// counts) are computed in ClickHouse; this package only applies the policy.
//
// Rules (every number is a Policy field; defaults in DefaultPolicy):
//
//   - Too little data — a window shorter than MinWindow or fewer than MinSamples samples —
//     gives no recommended values (all nil), zero savings, the flag "insufficient-data" and
//     high risk. No other rule applies.
//   - CPU request = the CPU percentile, at least CPUFloorCores. CPU limit: none, unless
//     the workload opts in to Guaranteed CPU (Policy.GuaranteedCPU for all, Stats.GuaranteedCPU
//     for one), then limit = request.
//   - A container throttled in more than ThrottleFlagRatio of its CFS periods is flagged
//     "throttled"; its CPU limit is removed, or, with Guaranteed CPU, request = limit =
//     max(percentile, current limit, CPU max) — the one answer `reporter qos` gives too.
//   - Memory request = limit = peak × (1 + MemoryBufferPercent/100), at least
//     MemoryFloorBytes. With an OOM kill in the window, at least
//     max(limit at the kill × OOMLimitFactor, peak + OOMHeadroomBytes), flag "oom-bump".
//   - An HPA scaling on cpu or memory gives the flag "hpa": changing requests moves its
//     scaling point.
//   - Monthly savings = ((current CPU request − recommended) × CPU core-hour rate +
//     (current memory request − recommended) ÷ 2^30 × RAM GiB-hour rate) × replicas ×
//     HoursPerMonth, replicas being the average number running; an unset current request counts as 0, so savings are negative when the
//     recommendation asks for more.
//   - A container with no snapshot in the window's last day (Stats.NotRunning: deleted,
//     scaled to zero, a CronJob running less than daily) has unknown current requests — not
//     unset ones: its recommendation gets the flag "not-running", zero savings (it is neither
//     a saving nor a raise) and at least medium risk.
//
// Risk is the highest that applies:
//
//   - high: insufficient data; an OOM bump; a new memory limit below half the current one.
//   - medium: throttled; scaled by an HPA on cpu or memory; a CPU request cut to below half
//     the current one; not running.
//   - low: otherwise.
package rightsizing

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// Flags a Recommendation may carry, in this order.
const (
	FlagInsufficientData = "insufficient-data"
	FlagOOMBump          = "oom-bump"
	FlagThrottled        = "throttled"
	FlagHPA              = "hpa"
	FlagNotRunning       = "not-running"
)

// Risk levels.
const (
	RiskLow    = "low"
	RiskMedium = "medium"
	RiskHigh   = "high"
)

const (
	mib = 1 << 20
	gib = 1 << 30
)

// Stats are one workload container's statistics over a window, computed in ClickHouse.
type Stats struct {
	Cluster, Namespace string
	Workload           model.WorkloadRef
	Container          string
	Window             time.Duration
	// Samples is the number of pooled 1-minute samples of all the workload's pods.
	Samples int
	// Pods is the number of distinct pods seen; Replicas is how many ran on average while
	// the workload ran (samples ÷ minutes from its first to its last sample). A rollout
	// raises Pods, not Replicas; savings are priced per running replica.
	Pods     int
	Replicas float64
	// CPUPercentileCores is the policy's CPU percentile (e.g. p95) of the 1-minute rates.
	CPUPercentileCores float64
	// CPUPercentile says which percentile that is, e.g. 95.
	CPUPercentile   float64
	CPUMaxCores     float64
	MemoryPeakBytes float64
	OOMKills        int
	// MemoryLimitAtOOMBytes is the (largest) memory limit when it was killed, 0 if none.
	MemoryLimitAtOOMBytes float64
	// ThrottledRatio is throttled ÷ total CFS periods.
	ThrottledRatio float64
	// HPAResources are the resources an HPA scales the workload on.
	HPAResources []string
	// Current are the current requests and limits; nil pointers are unset.
	Current Resources
	// GuaranteedCPU says the workload opted in to CPU request = limit (its pods' label, see
	// recommend.OptInLabel), as Policy.GuaranteedCPU does for every workload.
	GuaranteedCPU bool
	// NotRunning says no snapshot of the container was taken in the window's last day (a
	// deleted workload, one scaled to zero, a CronJob that runs less than daily): its current
	// requests are unknown, so the recommendation is not priced.
	NotRunning bool
	// CPUCoreHourCost and RAMGiBHourCost are the (average) unit prices of its nodes.
	CPUCoreHourCost, RAMGiBHourCost float64
	Currency                        string
}

// Resources are requests and limits in cores and bytes; a nil pointer is unset.
type Resources struct {
	CPURequest, CPULimit, MemoryRequest, MemoryLimit *float64
}

// Policy holds every number the rules use.
type Policy struct {
	CPUPercentile       float64       // which CPU percentile the request is, e.g. 95
	CPUFloorCores       float64       // least CPU request
	MemoryBufferPercent float64       // added to the memory peak
	MemoryFloorBytes    float64       // least memory request and limit
	OOMLimitFactor      float64       // after an OOM kill: at least the limit at the kill × this
	OOMHeadroomBytes    float64       // after an OOM kill: at least the peak + this
	ThrottleFlagRatio   float64       // throttled share of CFS periods above which it is flagged
	MinWindow           time.Duration // shorter windows are insufficient data
	MinSamples          int           // fewer samples are insufficient data
	GuaranteedCPU       bool          // CPU limit = request
	HoursPerMonth       float64       // for monthly savings
}

// DefaultPolicy returns the defaults of DESIGN.md.
func DefaultPolicy() Policy {
	return Policy{
		CPUPercentile:       95,
		CPUFloorCores:       0.010,
		MemoryBufferPercent: 15,
		MemoryFloorBytes:    64 * mib,
		OOMLimitFactor:      1.2,
		OOMHeadroomBytes:    100 * mib,
		ThrottleFlagRatio:   0.10,
		MinWindow:           24 * time.Hour,
		MinSamples:          100,
		HoursPerMonth:       730,
	}
}

// Recommendation is what to set for one workload container, and why.
type Recommendation struct {
	Cluster, Namespace string
	Workload           model.WorkloadRef
	Container          string
	Current            Resources
	// Recommended is all nil with insufficient data; CPULimit is nil when no limit is advised.
	Recommended    Resources
	MonthlySavings float64
	Currency       string
	Risk           string // low, medium or high
	RiskNote       string
	Evidence       string
	Flags          []string
}

// Recommend applies policy p to the statistics s.
func Recommend(s Stats, p Policy) Recommendation {
	r := Recommendation{
		Cluster:   s.Cluster,
		Namespace: s.Namespace,
		Workload:  s.Workload,
		Container: s.Container,
		Current:   s.Current.clone(),
		Currency:  s.Currency,
		Evidence:  evidence(s, p),
	}
	if s.Window < p.MinWindow || s.Samples < p.MinSamples {
		r.Flags = []string{FlagInsufficientData}
		r.Risk = RiskHigh
		r.RiskNote = fmt.Sprintf("insufficient data: %s and %s samples, need at least %s and %s samples",
			formatWindow(s.Window), thousands(s.Samples), formatWindow(p.MinWindow), thousands(p.MinSamples))
		return r
	}

	var high, medium []string

	cpu := math.Max(s.CPUPercentileCores, p.CPUFloorCores)
	throttled := s.ThrottledRatio > p.ThrottleFlagRatio
	guaranteed := p.GuaranteedCPU || s.GuaranteedCPU
	if throttled && guaranteed {
		// Request = limit, at a level the container is not throttled at: the p95 would
		// throttle it more than its current limit does.
		cpu = math.Max(cpu, math.Max(value(s.Current.CPULimit), s.CPUMaxCores))
	}
	r.Recommended.CPURequest = ptr(cpu)
	if guaranteed {
		r.Recommended.CPULimit = ptr(cpu)
	}

	mem := math.Max(s.MemoryPeakBytes*(1+p.MemoryBufferPercent/100), p.MemoryFloorBytes)
	if s.OOMKills > 0 {
		r.Flags = append(r.Flags, FlagOOMBump)
		mem = math.Max(mem, math.Max(s.MemoryLimitAtOOMBytes*p.OOMLimitFactor, s.MemoryPeakBytes+p.OOMHeadroomBytes))
		high = append(high, fmt.Sprintf("OOM-killed in the window: memory raised to %s", formatMiB(mem)))
	}
	r.Recommended.MemoryRequest = ptr(mem)
	r.Recommended.MemoryLimit = ptr(mem)
	if cur := s.Current.MemoryLimit; cur != nil && mem < *cur*0.5 {
		high = append(high, fmt.Sprintf("memory limit cut by more than half, %s → %s", formatMiB(*cur), formatMiB(mem)))
	}

	if throttled {
		r.Flags = append(r.Flags, FlagThrottled)
		action := "CPU limit removed"
		if guaranteed {
			action = "CPU request = limit raised to " + formatCores(*r.Recommended.CPULimit) + " cores"
		}
		medium = append(medium, fmt.Sprintf("throttled in %.1f%% of CFS periods: %s", s.ThrottledRatio*100, action))
	}
	if hpa := hpaOnRequests(s.HPAResources); len(hpa) > 0 {
		r.Flags = append(r.Flags, FlagHPA)
		medium = append(medium, fmt.Sprintf("scaled by an HPA on %s: changing requests moves its scaling point", strings.Join(hpa, " and ")))
	}
	if cur := s.Current.CPURequest; cur != nil && cpu < *cur*0.5 {
		medium = append(medium, fmt.Sprintf("CPU request cut by more than half, %s → %s cores", formatCores(*cur), formatCores(cpu)))
	}

	switch {
	case len(high) > 0:
		r.Risk = RiskHigh
	case len(medium) > 0:
		r.Risk = RiskMedium
	default:
		r.Risk = RiskLow
	}
	r.RiskNote = strings.Join(append(high, medium...), "; ")

	if s.NotRunning {
		// Unknown current requests are not "unset": pricing them as 0 would show the whole
		// recommended request as a raise.
		r.Flags = append(r.Flags, FlagNotRunning)
		r.RiskNote = strings.Join(append(high, append(medium,
			"not running in the window's last day (deleted, scaled to zero, or runs less than daily): current requests unknown, not priced")...), "; ")
		if r.Risk == RiskLow {
			r.Risk = RiskMedium
		}
		return r
	}
	cpuDelta := (value(s.Current.CPURequest) - cpu) * s.CPUCoreHourCost
	memDelta := (value(s.Current.MemoryRequest) - mem) / gib * s.RAMGiBHourCost
	r.MonthlySavings = (cpuDelta + memDelta) * s.Replicas * p.HoursPerMonth
	return r
}

// Sort orders recs by monthly savings, largest first; ties by cluster, namespace, workload
// and container.
func Sort(recs []Recommendation) {
	slices.SortStableFunc(recs, func(a, b Recommendation) int {
		return cmp.Or(
			cmp.Compare(b.MonthlySavings, a.MonthlySavings),
			cmp.Compare(a.Cluster, b.Cluster),
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Workload.Kind, b.Workload.Kind),
			cmp.Compare(a.Workload.Name, b.Workload.Name),
			cmp.Compare(a.Container, b.Container),
		)
	})
}

// Totals returns the sum of the monthly savings of recs. The recommendations are assumed to
// share one currency.
func Totals(recs []Recommendation) float64 {
	var sum float64
	for _, r := range recs {
		sum += r.MonthlySavings
	}
	return sum
}

// hpaOnRequests returns the resources among hpa that are computed from requests (cpu,
// memory), sorted and without duplicates.
func hpaOnRequests(hpa []string) []string {
	var out []string
	for _, res := range hpa {
		res = strings.ToLower(strings.TrimSpace(res))
		if (res == "cpu" || res == "memory") && !slices.Contains(out, res) {
			out = append(out, res)
		}
	}
	slices.Sort(out)
	return out
}

// evidence is the one-line summary of the numbers behind a recommendation, e.g.
// "cpu p95 0.231 cores over 14d, 60,480 samples, 3 pods; memory peak 612 MiB; 1 OOM kill",
// with "(2.40 running on average)" after the pods when fewer ran at a time.
func evidence(s Stats, p Policy) string {
	pct := s.CPUPercentile
	if pct == 0 {
		pct = p.CPUPercentile
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cpu p%s %s cores over %s, %s samples, %s; memory peak %s",
		strconv.FormatFloat(pct, 'f', -1, 64), formatCores(s.CPUPercentileCores), formatWindow(s.Window),
		thousands(s.Samples), plural(s.Pods, "pod")+replicasNote(s), formatMiB(s.MemoryPeakBytes))
	if s.OOMKills > 0 {
		fmt.Fprintf(&b, "; %s", plural(s.OOMKills, "OOM kill"))
	}
	if s.ThrottledRatio > 0 {
		fmt.Fprintf(&b, "; throttled %.1f%% of periods", s.ThrottledRatio*100)
	}
	return b.String()
}

// replicasNote is " (2.40 running on average)" when the average number of running replicas
// (which prices the savings) differs from the number of distinct pods.
func replicasNote(s Stats) string {
	if math.Abs(s.Replicas-float64(s.Pods)) < 0.005 {
		return ""
	}
	return " (" + strconv.FormatFloat(s.Replicas, 'f', 2, 64) + " running on average)"
}

func formatCores(c float64) string { return strconv.FormatFloat(c, 'f', 3, 64) }

func formatMiB(b float64) string {
	return strconv.FormatFloat(b/mib, 'f', 0, 64) + " MiB"
}

// formatWindow writes whole days as "14d", whole hours as "36h", anything else as
// time.Duration does.
func formatWindow(d time.Duration) string {
	switch {
	case d > 0 && d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d > 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	default:
		return d.String()
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

// thousands writes n with comma thousands separators: 20160 → "20,160".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func (r Resources) clone() Resources {
	c := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		return ptr(*p)
	}
	return Resources{CPURequest: c(r.CPURequest), CPULimit: c(r.CPULimit), MemoryRequest: c(r.MemoryRequest), MemoryLimit: c(r.MemoryLimit)}
}

func ptr(v float64) *float64 { return &v }

func value(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// Validate reports the first policy number that makes no sense (NaN and infinities included),
// naming its flag-like field.
func (p Policy) Validate() error {
	switch {
	case !(p.CPUPercentile > 0 && p.CPUPercentile < 100):
		return fmt.Errorf("cpu percentile %v is not in (0, 100)", p.CPUPercentile)
	case !(p.CPUFloorCores >= 0) || math.IsInf(p.CPUFloorCores, 0):
		return fmt.Errorf("cpu floor %v cores is negative", p.CPUFloorCores)
	case !(p.MemoryBufferPercent >= 0 && p.MemoryBufferPercent <= 1000):
		return fmt.Errorf("memory buffer %v%% is not in [0, 1000]", p.MemoryBufferPercent)
	case !(p.MemoryFloorBytes >= 0) || math.IsInf(p.MemoryFloorBytes, 0):
		return fmt.Errorf("memory floor %v bytes is negative", p.MemoryFloorBytes)
	case !(p.OOMLimitFactor >= 1) || math.IsInf(p.OOMLimitFactor, 0):
		return fmt.Errorf("OOM limit factor %v is below 1", p.OOMLimitFactor)
	case !(p.OOMHeadroomBytes >= 0) || math.IsInf(p.OOMHeadroomBytes, 0):
		return fmt.Errorf("OOM headroom %v bytes is negative", p.OOMHeadroomBytes)
	case !(p.ThrottleFlagRatio >= 0 && p.ThrottleFlagRatio <= 1):
		return fmt.Errorf("throttle flag ratio %v is not in [0, 1]", p.ThrottleFlagRatio)
	case p.MinSamples < 0 || p.MinWindow < 0:
		return fmt.Errorf("minimum data %s and %d samples must not be negative", p.MinWindow, p.MinSamples)
	case !(p.HoursPerMonth > 0) || math.IsInf(p.HoursPerMonth, 0):
		return fmt.Errorf("hours per month %v is not positive", p.HoursPerMonth)
	}
	return nil
}
