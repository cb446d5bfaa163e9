package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Duration is a flag value for spans people write in days: "14d", "2w", "36h", "1h30m" —
// Prometheus's duration syntax (prometheus/common/model): whole numbers of y, w, d, h, m, s
// and ms, in that order. Fractions, signs, NaN, Inf and exponents are refused, and so is a
// span beyond time.Duration's range, rather than silently becoming something else.
type Duration time.Duration

// ParseDuration reads a duration in Prometheus's syntax ("14d", "2w", "36h", "90m").
func ParseDuration(s string) (time.Duration, error) {
	d, err := model.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want whole units such as 14d, 2w, 36h or 1h30m", s)
	}
	return time.Duration(d), nil
}

func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (d *Duration) String() string {
	v := time.Duration(*d)
	if v > 0 && v%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", v/(24*time.Hour))
	}
	return v.String()
}
