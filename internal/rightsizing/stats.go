package rightsizing

import (
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// StatsFrom turns what ClickHouse computed for one workload container over a window of
// length window into Stats, for a CPU percentile such as 95:
//
//   - Window is the span of the container's own data, from its first to its last sample
//     plus the last sample's minute (a workload younger than the window has less); the
//     window's length when the span is unknown.
//   - Replicas = samples ÷ minutes of that span.
//   - A zero request or limit is unset; all are unset without a snapshot.
//   - Unit prices are the workload's own (its cost ÷ its core- and GiB-hours); without
//     allocated cost, the cluster's average, fallback.
func StatsFrom(u model.WorkloadUsage, window time.Duration, percentile float64, fallback model.UnitPrices) Stats {
	s := Stats{
		Cluster:               u.Cluster,
		Namespace:             u.Namespace,
		Workload:              u.Workload,
		Container:             u.Container,
		Window:                window,
		Samples:               u.Samples,
		Pods:                  u.Pods,
		CPUPercentileCores:    u.CPUQuantileCores,
		CPUPercentile:         percentile,
		CPUMaxCores:           u.CPUMaxCores,
		MemoryPeakBytes:       u.MemoryPeakBytes,
		OOMKills:              u.OOMKills,
		MemoryLimitAtOOMBytes: u.MemoryLimitAtOOMBytes,
		HPAResources:          u.HPAResources,
		CPUCoreHourCost:       u.CPUCoreHourCost,
		RAMGiBHourCost:        u.RAMGiBHourCost,
		Currency:              fallback.Currency,
	}
	if !u.FirstSample.IsZero() && !u.LastSample.Before(u.FirstSample) {
		s.Window = u.LastSample.Sub(u.FirstSample) + time.Minute
	}
	if minutes := s.Window.Minutes(); minutes > 0 {
		s.Replicas = float64(u.Samples) / minutes
	}
	if u.CPUPeriods > 0 {
		s.ThrottledRatio = u.CPUThrottledPeriods / u.CPUPeriods
	}
	s.NotRunning = !u.HasCurrent
	if u.HasCurrent {
		s.Current = Resources{
			CPURequest:    positive(u.CPURequestCores),
			CPULimit:      positive(u.CPULimitCores),
			MemoryRequest: positive(u.MemoryRequestBytes),
			MemoryLimit:   positive(u.MemoryLimitBytes),
		}
	}
	if s.CPUCoreHourCost == 0 && s.RAMGiBHourCost == 0 {
		s.CPUCoreHourCost, s.RAMGiBHourCost = fallback.CPUCoreHourCost, fallback.RAMGiBHourCost
	}
	return s
}

// positive returns a pointer to v, or nil when v is not above zero (unset).
func positive(v float64) *float64 {
	if v <= 0 {
		return nil
	}
	return ptr(v)
}
