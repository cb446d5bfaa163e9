package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	tests := []struct {
		name     string
		args     []string
		env      func(string) (string, bool)
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
	}{
		{"version", []string{"--version"}, noEnv, 0, "collector, version", ""},
		{"help", []string{"--help"}, noEnv, 0, "", "--clickhouse-dsn DSN"},
		{"help names env vars", []string{"--help"}, noEnv, 0, "", "[TALLY_CLICKHOUSE_DSN]"},
		{"unknown flag", []string{"--nope"}, noEnv, 2, "", "flag provided but not defined"},
		{"missing flags", []string{"--clickhouse-dsn", "clickhouse://h:9000/db"}, noEnv, 2, "", "missing required flags: [--prometheus-url --pricing --cluster]"},
		{"migrate without dsn", []string{"--migrate"}, noEnv, 2, "", "missing required flags: [--clickhouse-dsn]"},
		{"bad backfill", []string{"--backfill", "two weeks"}, noEnv, 2, "", "invalid duration"},
		{"bad log level", []string{"--migrate", "--log-level", "loud"}, noEnv, 2, "", "invalid log level"},
		{"bad env value", []string{"--migrate"}, func(k string) (string, bool) { return "soon", k == "TALLY_CLICKHOUSE_CONNECT_TIMEOUT" }, 2, "", "TALLY_CLICKHOUSE_CONNECT_TIMEOUT"},
		{"http dsn", []string{"--migrate", "--clickhouse-dsn", "http://u:secret@h:8123/db"}, noEnv, 1, "", "native protocol"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr, tc.env)
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
