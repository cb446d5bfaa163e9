package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/stacktest"
	"github.com/tally-finops/tally/internal/store"
)

// The collector as a long-running process against the stack's real servers: it catches up,
// becomes ready, keeps running its schedule, serves its metrics, and exits 0 on SIGTERM.
func TestCollectorRunsUntilSIGTERM(t *testing.T) {
	dsn, promURL, kubeconfig := stacktest.ClickHouseDSN(t), stacktest.PrometheusURL(t), stacktest.Kubeconfig(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = fmt.Sprintf("/tally_cmd_%d_%d", time.Now().Unix(), rand.IntN(1e6))
	t.Cleanup(func() {
		s, err := store.Open(context.Background(), store.Options{DSN: u.String()}, nil)
		if err == nil {
			_ = s.DropDatabase(context.Background())
			s.Close()
		}
	})
	book := filepath.Join(t.TempDir(), "prices.yaml")
	if err := os.WriteFile(book, []byte("currency: USD\ndefaults: {cpuCoreHour: 0.031611, ramGiBHour: 0.004237, gpuHour: 0.95}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"--kubeconfig", kubeconfig, "--prometheus-url", promURL, "--clickhouse-dsn", u.String(),
			"--pricing", book, "--cluster", "cmdtest", "--backfill", "1h", "--listen", addr, "--log-level", "warn"},
			&stdout, &stderr, func(string) (string, bool) { return "", false })
	}()

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if code, _ := get("/readyz"); code == http.StatusOK {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("collector exited with %d before it was ready:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector not ready within 90s:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, metrics := get("/metrics")
	for _, want := range []string{`tally_collector_job_last_success_timestamp_seconds{job="inventory"}`,
		`tally_collector_job_last_success_timestamp_seconds{job="usage"}`, "tally_collector_prometheus_queries_total", "go_goroutines"} {
		if code != http.StatusOK || !strings.Contains(metrics, want) {
			t.Errorf("/metrics (%d) lacks %s", code, want)
		}
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code after SIGTERM = %d, want 0\n%s", code, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("collector did not exit within 60s of SIGTERM")
	}
}
