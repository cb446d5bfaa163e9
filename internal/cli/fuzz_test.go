package cli

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseDuration checks that ParseDuration never panics, that an error is one line naming
// the input, and that an accepted duration is not negative and reads back the same from its
// String form.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"14d", "2w", "36h", "1h30m", "0", "90m", "1y", "NaNd", "Infd", "1e300d", "1.5d", "-1d",
		"300000000y", "99999999999999999999d", "", " ", "d", "1d1d", "5m30s100ms", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "invalid duration") {
				t.Fatalf("error %q is not one line naming the input", err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		v := Duration(d)
		back, err := ParseDuration(v.String())
		if err != nil || back != d {
			// time.Duration's String ("1h30m0s") is not always Prometheus syntax; the day form is.
			if d%(24*time.Hour) == 0 {
				t.Fatalf("%q → %v → %q → %v, %v", s, d, v.String(), back, err)
			}
		}
	})
}
