// Package report turns what tally computed into what people read: the time windows a report
// covers, parsed from the words people use for them, and renderers of cost totals as an
// aligned table, CSV for spreadsheets and JSON for tools. It does no I/O of its own beyond
// the writer it is given, and reads no clock: callers pass the current time in.
package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/tally-finops/tally/internal/cli"
)

// Window is the half-open time range [From, To) a report covers, in UTC.
type Window struct {
	From, To time.Time
}

// Hours is the window's length in hours.
func (w Window) Hours() float64 { return w.To.Sub(w.From).Hours() }

func (w Window) String() string {
	return w.From.Format(time.RFC3339) + "," + w.To.Format(time.RFC3339)
}

const windowsWanted = "24h, 7d, today, yesterday, thisweek, lastweek, month or START,END in RFC 3339"

// ParseWindow reads a report window relative to now:
//
//   - a duration ("24h", "7d", "2w"): the last that long, ending at the current hour boundary;
//   - "today", "thisweek" (ISO week, from Monday 00:00 UTC), "month" (the calendar month): from
//     their start to the current hour boundary;
//   - "yesterday", "lastweek": the whole previous day or ISO week;
//   - "START,END" in RFC 3339, e.g. "2026-03-01T00:00:00Z,2026-03-08T00:00:00Z".
//
// Days and weeks are UTC ones. Cost rows are hourly, so a window must start and end on the
// hour (a duration must be whole hours). A window that is empty, ends before it starts or
// cuts an hour is an error naming it.
func ParseWindow(s string, now time.Time) (Window, error) {
	s = strings.TrimSpace(s)
	now = now.UTC()
	hour := now.Truncate(time.Hour)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monday := midnight.AddDate(0, 0, -((int(now.Weekday()) + 6) % 7)) // Monday is day 0 of an ISO week

	var w Window
	switch strings.ToLower(s) {
	case "":
		return Window{}, fmt.Errorf("no window (want %s)", windowsWanted)
	case "today":
		w = Window{From: midnight, To: hour}
	case "yesterday":
		w = Window{From: midnight.AddDate(0, 0, -1), To: midnight}
	case "thisweek":
		w = Window{From: monday, To: hour}
	case "lastweek":
		w = Window{From: monday.AddDate(0, 0, -7), To: monday}
	case "month":
		w = Window{From: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), To: hour}
	default:
		if start, end, ok := strings.Cut(s, ","); ok {
			from, err := time.Parse(time.RFC3339, strings.TrimSpace(start))
			if err != nil {
				return Window{}, fmt.Errorf("window %q: start %q is not an RFC 3339 time such as 2026-03-01T00:00:00Z", s, start)
			}
			to, err := time.Parse(time.RFC3339, strings.TrimSpace(end))
			if err != nil {
				return Window{}, fmt.Errorf("window %q: end %q is not an RFC 3339 time such as 2026-03-08T00:00:00Z", s, end)
			}
			w = Window{From: from.UTC(), To: to.UTC()}
			break
		}
		d, err := cli.ParseDuration(s)
		if err != nil {
			return Window{}, fmt.Errorf("unknown window %q (want %s)", s, windowsWanted)
		}
		w = Window{From: hour.Add(-d), To: hour}
	}
	if !w.From.Equal(w.From.Truncate(time.Hour)) || !w.To.Equal(w.To.Truncate(time.Hour)) {
		return Window{}, fmt.Errorf("window %q: cost rows are hourly, so it must start and end on the hour: [%s, %s)",
			s, w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
	}
	if !w.From.Before(w.To) {
		return Window{}, fmt.Errorf("window %q is empty: [%s, %s)", s, w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
	}
	return w, nil
}
