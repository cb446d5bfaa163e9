package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tally-finops/tally/internal/cli"
	"github.com/tally-finops/tally/internal/recommend"
	"github.com/tally-finops/tally/internal/report"
	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/store"
)

const rightsizeSynopsis = `
reporter rightsize — what each workload container's CPU and memory requests and limits should
be, from its 1-minute usage over a window: current → recommended, monthly savings, risk, and
the evidence behind every number.

Usage:
  reporter rightsize --clickhouse-dsn DSN --cluster NAME [--window 14d|START,END]
                     [--namespace a,b] [--cpu-percentile 95] [--memory-buffer 15]
                     [--format table|csv|json|yaml] [--top N] [--backtest]

  CPU request = the percentile of the samples (at least --cpu-floor), no CPU limit unless
  --guaranteed-cpu; memory request = limit = peak × (1 + buffer/100), at least --memory-floor-mib;
  after an OOM kill at least max(limit × --oom-factor, peak + --oom-headroom-mib).
  --format yaml writes one kubectl patch per workload.
  --backtest computes the advice from the window before --window (as long as it) and scores it
  against --window: minutes above the CPU request, memory over the limit, savings realised.
`

const qosSynopsis = `
reporter qos — request = limit: the containers whose limits differ from their requests (or are
missing), what to set, and per node the memory overcommit and which containers the kernel would
OOM-kill first.

Usage:
  reporter qos --clickhouse-dsn DSN --cluster NAME [--window 14d] [--namespace a,b]
               [--guaranteed-cpu] [--kill-order 5] [--at TIME] [--format table|csv|json|yaml]

  Memory request = limit = the rightsizing recommendation over --window. CPU request = limit
  only with --guaranteed-cpu or for pods labelled ` + recommend.OptInLabel + `=true.
  Running containers and nodes are the latest inventory snapshot in the hour before --at (now).
`

// sizingFlags are the flags rightsize and qos share: where to read, what window, which
// namespaces, and every number of the policy.
type sizingFlags struct {
	dsn, cluster, window, namespaces, format string
	timeout                                  time.Duration
	policy                                   rightsizing.Policy
	memoryFloorMiB, oomHeadroomMiB           float64
}

func registerSizingFlags(fs *flag.FlagSet, f *sizingFlags) {
	d := rightsizing.DefaultPolicy()
	fs.StringVar(&f.dsn, "clickhouse-dsn", "", "ClickHouse native-protocol `DSN`, e.g. clickhouse://user:password@host:9000/tally")
	fs.StringVar(&f.cluster, "cluster", "", "the `name` of the cluster, as its collector's --cluster")
	fs.StringVar(&f.window, "window", "14d", "the `window` of usage: 14d, 7d, 24h, lastweek, ... or START,END")
	fs.StringVar(&f.namespaces, "namespace", "", "only these `namespaces`, comma-separated (default all)")
	fs.StringVar(&f.format, "format", report.FormatTable, "output `format`: table, csv, json or yaml")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up after this `duration`")
	fs.Float64Var(&f.policy.CPUPercentile, "cpu-percentile", d.CPUPercentile, "CPU request = this `percentile` of the 1-minute usage samples")
	fs.Float64Var(&f.policy.CPUFloorCores, "cpu-floor", d.CPUFloorCores, "the least CPU request, in `cores`")
	fs.Float64Var(&f.policy.MemoryBufferPercent, "memory-buffer", d.MemoryBufferPercent, "memory = peak working set plus this `percent`")
	fs.Float64Var(&f.memoryFloorMiB, "memory-floor-mib", d.MemoryFloorBytes/(1<<20), "the least memory request and limit, in `MiB`")
	fs.Float64Var(&f.policy.OOMLimitFactor, "oom-factor", d.OOMLimitFactor, "after an OOM kill, memory at least the limit at the kill × this `factor`")
	fs.Float64Var(&f.oomHeadroomMiB, "oom-headroom-mib", d.OOMHeadroomBytes/(1<<20), "after an OOM kill, memory at least the peak plus this many `MiB`")
	fs.Float64Var(&f.policy.ThrottleFlagRatio, "throttle-ratio", d.ThrottleFlagRatio, "flag a container throttled in more than this `share` of CFS periods")
	fs.DurationVar(&f.policy.MinWindow, "min-window", d.MinWindow, "less data than this `duration` is insufficient")
	fs.IntVar(&f.policy.MinSamples, "min-samples", d.MinSamples, "fewer 1-minute samples than this `number` is insufficient")
	fs.BoolVar(&f.policy.GuaranteedCPU, "guaranteed-cpu", false, "advise CPU limit = request (Guaranteed QoS) for every workload")
	fs.Float64Var(&f.policy.HoursPerMonth, "hours-per-month", d.HoursPerMonth, "`hours` a month has, for monthly savings")
}

// request checks the shared flags before anything connects.
func (f sizingFlags) request(now time.Time, checkFormat func(string) error) (recommend.Request, report.Window, error) {
	if f.dsn == "" {
		return recommend.Request{}, report.Window{}, errors.New("--clickhouse-dsn is required")
	}
	if f.cluster == "" {
		return recommend.Request{}, report.Window{}, errors.New("--cluster is required")
	}
	window, err := report.ParseWindow(f.window, now)
	if err != nil {
		return recommend.Request{}, report.Window{}, fmt.Errorf("--window: %w", err)
	}
	if err := checkFormat(f.format); err != nil {
		return recommend.Request{}, report.Window{}, fmt.Errorf("--format: %w", err)
	}
	p := f.policy
	p.MemoryFloorBytes = f.memoryFloorMiB * (1 << 20)
	p.OOMHeadroomBytes = f.oomHeadroomMiB * (1 << 20)
	r := recommend.Request{Cluster: f.cluster, From: window.From, To: window.To, Policy: p}
	for _, ns := range strings.Split(f.namespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			r.Namespaces = append(r.Namespaces, ns)
		}
	}
	if err := r.Validate(); err != nil {
		return recommend.Request{}, report.Window{}, err
	}
	return r, window, nil
}

// parseSizing parses a sizing command's flags; ok is false with the exit code to return.
func parseSizing(fs *flag.FlagSet, args []string, stderr io.Writer, lookupEnv func(string) (string, bool)) (code int, ok bool) {
	if err := cli.Parse(fs, args, lookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		fmt.Fprintf(stderr, "%s: %s\n", fs.Name(), oneLine(err))
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	return 0, true
}

// openStore connects for one command run, within its timeout.
func openStore(name string, f sizingFlags, stderr io.Writer) (context.Context, *store.Store, func(), error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	logger, _ := cli.NewLogger(stderr, "error", "text")
	s, err := store.Open(ctx, store.Options{DSN: f.dsn, ConnectTimeout: f.timeout, QueryTimeout: f.timeout}, logger)
	if err != nil {
		cancel()
		stop()
		return nil, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return ctx, s, func() { _ = s.Close(); cancel(); stop() }, nil
}

func rightsize(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool), now time.Time) int {
	fs := flag.NewFlagSet("reporter rightsize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f sizingFlags
	registerSizingFlags(fs, &f)
	top := fs.Int("top", 0, "show only the first `N` rows of the table (0: all; totals always cover all)")
	backtest := fs.Bool("backtest", false, "score advice from the window before --window against --window")
	fs.Usage = cli.Usage(fs, rightsizeSynopsis)
	if code, ok := parseSizing(fs, args, stderr, lookupEnv); !ok {
		return code
	}
	check := report.CheckRightsizingFormat
	if *backtest {
		check = report.CheckFormat // table, csv or json
	}
	req, window, err := f.request(now, check)
	if err != nil {
		fmt.Fprintln(stderr, "reporter rightsize:", oneLine(err))
		return 2
	}
	ctx, s, done, err := openStore("reporter rightsize", f, stderr)
	if err != nil {
		fmt.Fprintln(stderr, oneLine(err))
		return 1
	}
	defer done()

	if *backtest {
		earlier := report.Window{From: window.From.Add(-window.To.Sub(window.From)), To: window.From}
		req.From, req.To = earlier.From, earlier.To
		bs, currency, err := recommend.Backtest(ctx, s, req, window.To)
		if err == nil {
			err = report.Backtest{Cluster: f.cluster, Earlier: earlier, Later: window, Currency: currency, Top: *top}.Render(stdout, f.format, bs)
		}
		if err != nil {
			fmt.Fprintln(stderr, "reporter rightsize:", oneLine(err))
			return 1
		}
		return 0
	}
	recs, currency, err := recommend.Rightsizing(ctx, s, req)
	if err == nil {
		err = report.Rightsizing{Cluster: f.cluster, Window: window, Currency: currency, Top: *top}.Render(stdout, f.format, recs)
	}
	if err != nil {
		fmt.Fprintln(stderr, "reporter rightsize:", oneLine(err))
		return 1
	}
	return 0
}

func qosCommand(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool), now time.Time) int {
	fs := flag.NewFlagSet("reporter qos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f sizingFlags
	registerSizingFlags(fs, &f)
	killOrder := fs.Int("kill-order", 5, "show this `many` kill candidates per node (0: all)")
	atFlag := fs.String("at", "", "describe the containers running at this `time` (RFC 3339; default now)")
	fs.Usage = cli.Usage(fs, qosSynopsis)
	if code, ok := parseSizing(fs, args, stderr, lookupEnv); !ok {
		return code
	}
	req, window, err := f.request(now, report.CheckQoSFormat)
	if err != nil {
		fmt.Fprintln(stderr, "reporter qos:", oneLine(err))
		return 2
	}
	at := now
	if *atFlag != "" {
		if at, err = time.Parse(time.RFC3339, *atFlag); err != nil {
			fmt.Fprintln(stderr, "reporter qos: --at: want a time in RFC 3339, e.g. 2026-03-16T06:00:00Z")
			return 2
		}
	}
	ctx, s, done, err := openStore("reporter qos", f, stderr)
	if err != nil {
		fmt.Fprintln(stderr, oneLine(err))
		return 1
	}
	defer done()
	rep, err := recommend.QoS(ctx, s, req, recommend.QoSOptions{GuaranteedCPU: f.policy.GuaranteedCPU, KillOrderTop: *killOrder, At: at})
	if err == nil {
		err = report.QoS{Cluster: f.cluster, Window: window}.Render(stdout, f.format, rep.Findings, rep.Nodes)
	}
	if err != nil {
		fmt.Fprintln(stderr, "reporter qos:", oneLine(err))
		return 1
	}
	return 0
}
