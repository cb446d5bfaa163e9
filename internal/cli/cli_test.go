package cli

import (
	"bytes"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"clickhouse-dsn": "TALLY_CLICKHOUSE_DSN",
		"once":           "TALLY_ONCE",
		"prometheus-url": "TALLY_PROMETHEUS_URL",
	} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseEnvironmentBacksFlags(t *testing.T) {
	env := map[string]string{"TALLY_DSN": "from-env", "TALLY_CLUSTER": "env-cluster", "TALLY_ONCE": "true"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name                 string
		args                 []string
		wantDSN, wantCluster string
		wantOnce             bool
	}{
		{"env fills unset flags", nil, "from-env", "env-cluster", true},
		{"command line wins", []string{"--dsn", "from-flag", "--once=false"}, "from-flag", "env-cluster", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			dsn := fs.String("dsn", "default", "")
			cluster := fs.String("cluster", "", "")
			once := fs.Bool("once", false, "")
			if err := Parse(fs, tc.args, lookup); err != nil {
				t.Fatal(err)
			}
			if *dsn != tc.wantDSN || *cluster != tc.wantCluster || *once != tc.wantOnce {
				t.Errorf("got dsn=%q cluster=%q once=%v, want %q %q %v", *dsn, *cluster, *once, tc.wantDSN, tc.wantCluster, tc.wantOnce)
			}
		})
	}
}

func TestParseBadEnvironmentValueNamesTheVariable(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Duration("backfill", 0, "")
	err := Parse(fs, nil, func(k string) (string, bool) { return "two weeks", k == "TALLY_BACKFILL" })
	if err == nil || !strings.Contains(err.Error(), "TALLY_BACKFILL") {
		t.Fatalf("err = %v, want an error naming TALLY_BACKFILL", err)
	}
}

func TestUsageNamesEnvironmentVariables(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.String("clickhouse-dsn", "", "ClickHouse `DSN`")
	fs.Usage = Usage(fs, "x — does things")
	fs.Usage()
	for _, want := range []string{"x — does things", "--clickhouse-dsn DSN", "[TALLY_CLICKHOUSE_DSN]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}

func TestNewLoggerRejectsBadValues(t *testing.T) {
	if _, err := NewLogger(&bytes.Buffer{}, "loud", "text"); err == nil {
		t.Error("level loud accepted")
	}
	if _, err := NewLogger(&bytes.Buffer{}, "info", "xml"); err == nil {
		t.Error("format xml accepted")
	}
	var buf bytes.Buffer
	l, err := NewLogger(&buf, "warn", "json")
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden")
	l.Warn("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), `"msg":"shown"`) {
		t.Errorf("log output %q: want only the warn line, as JSON", buf.String())
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"14d": 14 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1d12h": 36 * time.Hour,
		"36h": 36 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "0": 0, " 7d ": 7 * 24 * time.Hour,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	// NaN, Inf and huge values used to be accepted (and became whatever the conversion gave).
	for _, bad := range []string{"", "fortnight", "-1d", "-3h", "d", "NaNd", "Infd", "+Infd", "1e300d", "1.5d", "1e3d",
		"300000000y", "99999999999999999999d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	d := Duration(14 * 24 * time.Hour)
	if d.String() != "14d" {
		t.Errorf("String() = %q, want 14d", d.String())
	}
}
