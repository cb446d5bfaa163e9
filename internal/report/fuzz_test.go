package report

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseWindow checks that ParseWindow never panics, that an error is one line that
// quotes the input, and that an accepted window is non-empty and on whole hours.
func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"7d", "30d", "24h", "today", "yesterday", "week", "month", "lastweek",
		"2026-03-01T00:00:00Z,2026-03-08T00:00:00Z", "2026-03-08T00:00:00Z,2026-03-01T00:00:00Z",
		"2026-03-01T00:30:00Z,2026-03-08T00:00:00Z", ",", "NaNd", "1e300d", "", "\xff", "2026-02-30T00:00:00Z,2026-03-01T00:00:00Z"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 16, 6, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s, now)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is more than one line", err)
			}
			return
		}
		if !w.From.Before(w.To) || !w.From.Equal(w.From.Truncate(time.Hour)) || !w.To.Equal(w.To.Truncate(time.Hour)) {
			t.Fatalf("ParseWindow(%q) = [%s, %s): not a non-empty window of whole hours", s, w.From, w.To)
		}
	})
}
