package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Bad flags are errors naming the flag, with exit code 2, before anything connects (the DSN
// points at a port nothing listens on: reaching it would be exit 1).
func TestSizingCommandsRejectBadFlagsBeforeConnecting(t *testing.T) {
	dsn := []string{"--clickhouse-dsn", "clickhouse://u:secret@127.0.0.1:1/db", "--cluster", "prod"}
	tests := []struct {
		name string
		cmd  func([]string, *bytes.Buffer, *bytes.Buffer) int
		args []string
		want string
	}{
		{"rightsize without dsn", rs, []string{"--cluster", "prod"}, "--clickhouse-dsn is required"},
		{"rightsize without cluster", rs, []string{"--clickhouse-dsn", "clickhouse://h:9000/db"}, "--cluster is required"},
		{"bad window", rs, append(dsn, "--window", "fortnight"), "--window"},
		{"bad format", rs, append(dsn, "--format", "xml"), "--format"},
		{"yaml has no backtest", rs, append(dsn, "--format", "yaml", "--backtest"), "--format"},
		{"percentile 100", rs, append(dsn, "--cpu-percentile", "100"), "cpu percentile 100 is not in (0, 100)"},
		{"negative buffer", rs, append(dsn, "--memory-buffer", "-5"), "memory buffer -5% is not in [0, 1000]"},
		{"OOM factor below 1", rs, append(dsn, "--oom-factor", "0.5"), "OOM limit factor 0.5 is below 1"},
		{"unexpected argument", rs, append(dsn, "extra"), `unexpected argument "extra"`},
		{"qos bad format", qs, append(dsn, "--format", "xml"), "--format"},
		{"qos without cluster", qs, []string{"--clickhouse-dsn", "clickhouse://h:9000/db"}, "--cluster is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := tc.cmd(tc.args, &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tc.want)
			}
			if strings.Contains(stderr.String(), "secret") {
				t.Errorf("stderr leaks the password: %s", stderr.String())
			}
		})
	}
}

func rs(args []string, stdout, stderr *bytes.Buffer) int {
	return rightsize(args, stdout, stderr, noEnv, time.Date(2026, 3, 16, 6, 30, 0, 0, time.UTC))
}

func qs(args []string, stdout, stderr *bytes.Buffer) int {
	return qosCommand(args, stdout, stderr, noEnv, time.Date(2026, 3, 16, 6, 30, 0, 0, time.UTC))
}
