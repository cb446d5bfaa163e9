package collector

import "time"

// Interval is a half-open time range [From, To).
type Interval struct {
	From, To time.Time
}

func (iv Interval) String() string {
	return iv.From.UTC().Format("2006-01-02T15:04Z") + "–" + iv.To.UTC().Format("2006-01-02T15:04Z")
}

// chunks splits [from, to) into consecutive intervals of at most size that never cross a
// UTC midnight, so that each chunk's samples land in one daily partition and are written as
// one block (stored whole or not at all).
func chunks(from, to time.Time, size time.Duration) []Interval {
	var out []Interval
	for from.Before(to) {
		end := from.Add(size)
		if midnight := from.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour); end.After(midnight) {
			end = midnight
		}
		if end.After(to) {
			end = to
		}
		out = append(out, Interval{From: from, To: end})
		from = end
	}
	return out
}

// catchUpStart is where a job resumes: at its watermark, unless that is older than the
// backfill horizon (or there is none yet), where it starts at the horizon. The second result
// is the span that is given up for good (history beyond the horizon), zero when none.
func catchUpStart(watermark time.Time, now time.Time, backfill, align time.Duration) (time.Time, time.Duration) {
	horizon := now.Add(-backfill).Truncate(align)
	if watermark.IsZero() {
		return horizon, 0
	}
	if watermark.Before(horizon) {
		return horizon, horizon.Sub(watermark)
	}
	return watermark, 0
}
