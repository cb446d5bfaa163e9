package report

import (
	"strings"
	"testing"
	"time"
)

func TestParseWindow(t *testing.T) {
	// Thursday 2026-03-05 14:37 UTC; its ISO week started on Monday 2026-03-02.
	now := time.Date(2026, 3, 5, 14, 37, 12, 0, time.UTC)
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	tests := []struct {
		in       string
		from, to time.Time
	}{
		{"24h", at(4, 14), at(5, 14)},
		{"7d", time.Date(2026, 2, 26, 14, 0, 0, 0, time.UTC), at(5, 14)},
		{"36h", at(4, 2), at(5, 14)},
		{"1w", time.Date(2026, 2, 26, 14, 0, 0, 0, time.UTC), at(5, 14)},
		{"today", at(5, 0), at(5, 14)},
		{"Today", at(5, 0), at(5, 14)},
		{"yesterday", at(4, 0), at(5, 0)},
		{"thisweek", at(2, 0), at(5, 14)},
		{"lastweek", time.Date(2026, 2, 23, 0, 0, 0, 0, time.UTC), at(2, 0)},
		{"month", at(1, 0), at(5, 14)},
		{"2026-03-01T00:00:00Z,2026-03-03T06:00:00Z", at(1, 0), at(3, 6)},
		{" 2026-03-01T02:00:00+02:00 , 2026-03-02T00:00:00Z ", at(1, 0), at(2, 0)}, // read as UTC
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			w, err := ParseWindow(tc.in, now)
			if err != nil {
				t.Fatal(err)
			}
			if !w.From.Equal(tc.from) || !w.To.Equal(tc.to) || w.From.Location() != time.UTC || w.To.Location() != time.UTC {
				t.Errorf("ParseWindow(%q) = %s, want %s", tc.in, w, Window{tc.from, tc.to})
			}
		})
	}

	t.Run("hours", func(t *testing.T) {
		if w, _ := ParseWindow("7d", now); w.Hours() != 168 {
			t.Errorf("7d is %v hours, want 168", w.Hours())
		}
	})

	// On a Monday, thisweek starts that day and lastweek is the week before; on a Sunday,
	// thisweek started six days before.
	t.Run("monday and sunday", func(t *testing.T) {
		mon := time.Date(2026, 3, 9, 8, 5, 0, 0, time.UTC)
		if w, _ := ParseWindow("thisweek", mon); !w.From.Equal(at(9, 0)) || !w.To.Equal(at(9, 8)) {
			t.Errorf("thisweek on a Monday = %s", w)
		}
		if w, _ := ParseWindow("lastweek", mon); !w.From.Equal(at(2, 0)) || !w.To.Equal(at(9, 0)) {
			t.Errorf("lastweek on a Monday = %s", w)
		}
		sun := time.Date(2026, 3, 8, 23, 59, 0, 0, time.UTC)
		if w, _ := ParseWindow("thisweek", sun); !w.From.Equal(at(2, 0)) || !w.To.Equal(at(8, 23)) {
			t.Errorf("thisweek on a Sunday = %s", w)
		}
	})

	bad := []struct{ in, wantErr string }{
		{"", "no window"},
		{"fortnight", `unknown window "fortnight"`},
		{"-3d", `unknown window "-3d"`},
		{"0h", `window "0h" is empty`},
		{"90m", `window "90m": cost rows are hourly`},
		{"2026-03-01T00:30:00Z,2026-03-02T00:00:00Z", "must start and end on the hour"},
		{"2026-03-01,2026-03-02", `start "2026-03-01" is not an RFC 3339 time`},
		{"2026-03-01T00:00:00Z,soon", `end "soon" is not an RFC 3339 time`},
		{"2026-03-02T00:00:00Z,2026-03-01T00:00:00Z", "is empty"},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.in, func(t *testing.T) {
			_, err := ParseWindow(tc.in, now)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseWindow(%q) error = %v, want one with %q", tc.in, err, tc.wantErr)
			}
		})
	}
	t.Run("today at midnight is empty", func(t *testing.T) {
		if _, err := ParseWindow("today", time.Date(2026, 3, 5, 0, 20, 0, 0, time.UTC)); err == nil || !strings.Contains(err.Error(), `window "today" is empty`) {
			t.Errorf("error = %v", err)
		}
	})
}
