package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
	}{
		{"version", []string{"--version"}, 0, "reporter, version", ""},
		{"help", []string{"--help"}, 0, "", "reporter schema --clickhouse-dsn DSN"},
		{"no command", nil, 2, "", "Usage:"},
		{"unknown command", []string{"costz"}, 2, "", `unknown command "costz"`},
		{"schema help", []string{"schema", "--help"}, 0, "", "[TALLY_CLICKHOUSE_DSN]"},
		{"schema without dsn", []string{"schema"}, 2, "", "--clickhouse-dsn is required"},
		{"schema with http dsn", []string{"schema", "--clickhouse-dsn", "http://u:secret@h:8123/db"}, 1, "", "native protocol"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr, func(string) (string, bool) { return "", false })
			if code != tc.wantCode || !strings.Contains(stdout.String(), tc.wantOut) || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("run(%q) = %d\nstdout: %s\nstderr: %s\nwant code %d, stdout with %q, stderr with %q",
					tc.args, code, stdout.String(), stderr.String(), tc.wantCode, tc.wantOut, tc.wantErr)
			}
			if strings.Contains(stderr.String(), "secret") {
				t.Errorf("stderr leaks the password: %s", stderr.String())
			}
		})
	}
}
