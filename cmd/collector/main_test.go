package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestRun(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	badConfig := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(badConfig, []byte("basic_auth:\n  username: tally\n  passwrd: hunter-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// An address something else already listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().String()
	// Everything the collector needs but a reachable server: the Prometheus flags are checked
	// before anything is dialled.
	required := []string{"--clickhouse-dsn", "clickhouse://127.0.0.1:1/db", "--prometheus-url", "http://127.0.0.1:1", "--pricing", "/nonexistent", "--cluster", "c"}
	with := func(extra ...string) []string { return append(append([]string{}, required...), extra...) }
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
		{"NaN backfill", with("--backfill", "NaNd"), noEnv, 2, "", `invalid duration "NaNd"`},
		{"huge backfill", with("--backfill", "1e300d"), noEnv, 2, "", `invalid duration "1e300d"`},
		{"listen address in use", with("--listen", busy), noEnv, 1, "", "--listen: listen tcp " + busy},
		{"as-of without once", with("--as-of", "2026-03-02T10:05:00Z"), noEnv, 2, "", "--as-of needs --once"},
		{"bad as-of", with("--once", "--as-of", "yesterday"), noEnv, 2, "", `--as-of "yesterday": want an RFC 3339 time`},
		{"bad kube-state step", with("--kube-state-step", "90s"), noEnv, 2, "", "--kube-state-step 1m30s: must be a whole number of minutes"},
		{"bad log level", []string{"--migrate", "--log-level", "loud"}, noEnv, 2, "", "invalid log level"},
		{"bad env value", []string{"--migrate"}, func(k string) (string, bool) { return "soon", k == "TALLY_CLICKHOUSE_CONNECT_TIMEOUT" }, 2, "", "TALLY_CLICKHOUSE_CONNECT_TIMEOUT"},
		{"http dsn", []string{"--migrate", "--clickhouse-dsn", "http://u:secret@h:8123/db"}, noEnv, 1, "", "native protocol"},
		{"help names the prometheus flags", []string{"--help"}, noEnv, 0, "", "--prometheus-selector matchers"},
		{"help names the prometheus config variable", []string{"--help"}, noEnv, 0, "", "[TALLY_PROMETHEUS_CONFIG]"},
		{"bad selector", with("--prometheus-selector", `cluster=`), noEnv, 1, "", "--prometheus-selector: prometheus selector {cluster=}"},
		{"bad selector from env", required, func(k string) (string, bool) { return `__name__="up"`, k == "TALLY_PROMETHEUS_SELECTOR" }, 1, "", "--prometheus-selector"},
		{"bad prometheus config", with("--prometheus-config", badConfig), noEnv, 1, "", "--prometheus-config: read prometheus http config " + badConfig + ": yaml: unmarshal errors: line 3: field passwrd not found"},
		{"missing prometheus config", required, func(k string) (string, bool) { return "/nonexistent.yml", k == "TALLY_PROMETHEUS_CONFIG" }, 1, "", "--prometheus-config"},
		{"prometheus config and url credentials", with("--prometheus-url", "http://u:secret@127.0.0.1:1", "--prometheus-config", writeConfig(t, "authorization:\n  credentials: tok\n")), noEnv, 1, "", "use one of them"},
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
