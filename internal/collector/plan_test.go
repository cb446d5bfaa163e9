package collector

import (
	"reflect"
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestChunks(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		size     time.Duration
		want     []string
	}{
		{"empty", "2026-03-02T10:00", "2026-03-02T10:00", time.Hour, nil},
		{"one short chunk", "2026-03-02T10:00", "2026-03-02T10:05", time.Hour, []string{"2026-03-02T10:00Z–2026-03-02T10:05Z"}},
		{"exact hours", "2026-03-02T10:00", "2026-03-02T12:00", time.Hour,
			[]string{"2026-03-02T10:00Z–2026-03-02T11:00Z", "2026-03-02T11:00Z–2026-03-02T12:00Z"}},
		{"remainder", "2026-03-02T10:00", "2026-03-02T11:30", time.Hour,
			[]string{"2026-03-02T10:00Z–2026-03-02T11:00Z", "2026-03-02T11:00Z–2026-03-02T11:30Z"}},
		{"split at midnight", "2026-03-02T23:30", "2026-03-03T01:00", time.Hour,
			[]string{"2026-03-02T23:30Z–2026-03-03T00:00Z", "2026-03-03T00:00Z–2026-03-03T01:00Z"}},
		{"large size still split at midnight", "2026-03-02T20:00", "2026-03-03T04:00", 24 * time.Hour,
			[]string{"2026-03-02T20:00Z–2026-03-03T00:00Z", "2026-03-03T00:00Z–2026-03-03T04:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range chunks(ts(tc.from), ts(tc.to), tc.size) {
				got = append(got, c.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("chunks = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCatchUpStart(t *testing.T) {
	now := ts("2026-03-15T10:07")
	day := 24 * time.Hour
	tests := []struct {
		name      string
		watermark time.Time
		wantStart time.Time
		wantLost  time.Duration
	}{
		{"first run starts at the backfill horizon", time.Time{}, ts("2026-03-01T10:07"), 0},
		{"resumes at its watermark", ts("2026-03-15T09:00"), ts("2026-03-15T09:00"), 0},
		{"an outage longer than backfill loses the excess", ts("2026-02-27T10:07"), ts("2026-03-01T10:07"), 2 * day},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, lost := catchUpStart(tc.watermark, now, 14*day, time.Minute)
			if !start.Equal(tc.wantStart) || lost != tc.wantLost {
				t.Errorf("catchUpStart = %v, %v; want %v, %v", start, lost, tc.wantStart, tc.wantLost)
			}
		})
	}
}
