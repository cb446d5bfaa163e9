// Command demo loads tally's synthetic cluster into the local stack for `make demo`: its
// Kubernetes objects into the kube-apiserver and its cAdvisor and kube-state-metrics series
// (the history) into Prometheus. It is not part of tally; it stands in for a real cluster.
//
//	go run ./hack/demo --kubeconfig .stack/kubeconfig --state .stack/demo --end 2026-11-23T00:00:00Z
//
// The history ends at --end (default: the start of the current ISO week, Monday 00:00 UTC, so
// that the last complete week is covered) and lasts --days days. --objects-only creates the
// objects again for series loaded before; --unload deletes them, so that they stay out of
// other clusters' inventories on the shared API server (the tests').
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/tally-finops/tally/internal/kube"
	"github.com/tally-finops/tally/internal/synthetic"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "the local stack's kubeconfig")
	state := flag.String("state", ".stack/demo", "where to keep the generated series")
	endFlag := flag.String("end", "", "end of the history, RFC 3339 (default: this Monday 00:00 UTC)")
	days := flag.Int("days", 7, "length of the history in days")
	scale := flag.Int("scale", 2, "replica multiplier of the synthetic workloads")
	promLoad := flag.String("prom-load", "hack/stack/prom-load.sh", "the script that backfills Prometheus")
	objectsOnly := flag.Bool("objects-only", false, "only create the Kubernetes objects (the series are loaded)")
	unload := flag.Bool("unload", false, "delete the Kubernetes objects instead")
	flag.Parse()
	if err := run(*kubeconfig, *state, *endFlag, *days, *scale, *promLoad, *objectsOnly, *unload); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, state, endFlag string, days, scale int, promLoad string, objectsOnly, unload bool) error {
	end := thisMonday(time.Now())
	if endFlag != "" {
		var err error
		if end, err = time.Parse(time.RFC3339, endFlag); err != nil {
			return fmt.Errorf("--end: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	syn, err := synthetic.New(synthetic.Options{Cluster: "demo", End: end, Duration: time.Duration(days) * 24 * time.Hour, Scale: scale})
	if err != nil {
		return err
	}
	clients, err := kube.NewClients(kubeconfig)
	if err != nil {
		return err
	}
	switch {
	case unload:
		return kube.Unload(ctx, clients, syn.Objects())
	case objectsOnly:
		return kube.Load(ctx, clients, syn.Objects())
	}
	if err := os.MkdirAll(state, 0o755); err != nil {
		return err
	}
	exp := syn.Expected()
	fmt.Printf("      %d nodes, %d containers, %d workload containers, %s to %s\n", len(exp.Nodes), len(exp.Containers),
		len(exp.Workloads), exp.Start.Format(time.RFC3339), exp.End.Format(time.RFC3339))

	start := time.Now()
	om := filepath.Join(state, "demo.om")
	f, err := os.Create(om)
	if err != nil {
		return err
	}
	if err := syn.WriteOpenMetrics(f); err != nil {
		f.Close()
		return fmt.Errorf("write the series: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("      series written (%s); backfilling Prometheus...\n", time.Since(start).Round(100*time.Millisecond))
	start = time.Now()
	cmd := exec.CommandContext(ctx, promLoad, om)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("load the series into Prometheus: %w", err)
	}
	if err := os.Remove(om); err != nil {
		return err
	}
	fmt.Printf("      Prometheus loaded (%s); creating the Kubernetes objects...\n", time.Since(start).Round(100*time.Millisecond))
	if err := kube.Load(ctx, clients, syn.Objects()); err != nil {
		return fmt.Errorf("load the objects into the API server: %w", err)
	}
	return os.WriteFile(filepath.Join(state, "end"), []byte(end.UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// thisMonday is the Monday 00:00 UTC that starts now's ISO week.
func thisMonday(now time.Time) time.Time {
	d := now.UTC().Truncate(24 * time.Hour)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}
