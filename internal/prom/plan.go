package prom

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// maxPointsPerSeries is the most points Prometheus returns for one series of a range query;
// it rejects larger queries with "exceeded maximum resolution of 11,000 points per
// timeseries".
const maxPointsPerSeries = 11000

// span is a run of consecutive intervals [First, End) of a window cut into equal steps.
// Interval i runs from the window's point i to point i+1, so a span covers the points
// First..End inclusive: its first point is shared with the previous span's last one.
type span struct {
	First, End int
}

// Len is the number of intervals in the span.
func (s span) Len() int { return s.End - s.First }

// intervalsPerChunk is the most intervals one range query may cover: no more than chunk
// long, no more than Prometheus's points-per-series limit, and, with series series
// answering, no more than maxSamples series × points. The query of a span of k intervals
// returns up to k+1 points per series. The result is at least 1.
func intervalsPerChunk(step, chunk time.Duration, maxSamples, series int) int {
	k := int(chunk / step)
	k = min(k, maxPointsPerSeries-1)
	if series > 0 && maxSamples > 0 {
		k = min(k, maxSamples/series-1)
	}
	return max(k, 1)
}

// planSpans cuts n intervals into consecutive spans of at most per intervals each, all full
// but the last. The number of spans depends on n and per alone.
func planSpans(n, per int) []span {
	if n <= 0 {
		return nil
	}
	per = max(per, 1)
	spans := make([]span, 0, (n+per-1)/per)
	for first := 0; first < n; first += per {
		spans = append(spans, span{First: first, End: min(first+per, n)})
	}
	return spans
}

// counterIncrease is how much a counter grew from prev to cur, two of its readings one
// interval apart. A decrease is a counter reset (the process restarted and counted from
// zero), so the increase is cur itself, the most that can be known; Prometheus's increase()
// makes the same assumption but also extrapolates, which this does not. ok is false when
// either reading is missing (NaN).
func counterIncrease(prev, cur float64) (inc float64, ok bool) {
	if math.IsNaN(prev) || math.IsNaN(cur) {
		return 0, false
	}
	if cur < prev {
		return cur, true
	}
	return cur - prev, true
}

// promDuration formats d for PromQL and the HTTP API: whole seconds as "90s", anything finer
// in milliseconds ("59999ms").
func promDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// apiTime formats t for the HTTP API: Unix seconds, with milliseconds when t has them.
func apiTime(t time.Time) string {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.FormatInt(ms/1000, 10)
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
}

// windowString names a time range in errors and logs: "2026-01-01T00:00Z–01:00Z", the
// date repeated only when it changes, seconds only when there are some.
func windowString(from, to time.Time) string {
	from, to = from.UTC(), to.UTC()
	layout := func(t time.Time) string {
		if t.Second() != 0 || t.Nanosecond() != 0 {
			return "15:04:05Z"
		}
		return "15:04Z"
	}
	start := from.Format("2006-01-02T") + from.Format(layout(from))
	end := to.Format(layout(to))
	if to.Format(time.DateOnly) != from.Format(time.DateOnly) {
		end = to.Format("2006-01-02T") + end
	}
	return start + "–" + end
}

// checkAligned reports an error when t is not a whole multiple of step since the Unix epoch.
func checkAligned(name string, t time.Time, step time.Duration) error {
	if t.UnixNano()%int64(step) != 0 {
		return fmt.Errorf("%s %s is not aligned to the %s step", name, t.UTC().Format(time.RFC3339Nano), step)
	}
	return nil
}
