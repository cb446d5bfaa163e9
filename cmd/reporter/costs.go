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

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/cli"
	"github.com/tally-finops/tally/internal/report"
	"github.com/tally-finops/tally/internal/store"
)

const costsSynopsis = `
reporter costs — who spends what: the cost of a cluster over a window, grouped by namespace,
workload, app, node, cluster or label (the pod's, else its namespace's), with idle and
shared costs.

Usage:
  reporter costs --clickhouse-dsn DSN --cluster NAME --window W --by KEYS
                 [--idle separate|share|hide] [--share-namespaces a,b] [--share-monthly AMOUNT]
                 [--share weighted|even] [--format table|csv|json|focus]

  W     24h, 7d (a duration of whole hours: the last that long, to the current hour), today,
        yesterday, thisweek, lastweek (ISO weeks, UTC), month, or START,END in RFC 3339 on the hour
  KEYS  cluster, node, namespace, workload, app, label:<key>, or several: namespace,label:team

  --format focus writes FOCUS 1.0 rows, one per group and UTC day of the window (the group's
  keys in Tags, its cost in every cost column), for FinOps tools that read FOCUS.
`

// costsFlags are the flags of reporter costs, once parsed.
type costsFlags struct {
	dsn, cluster, window, by, idle, shareNamespaces, share, format string
	shareMonthly                                                   float64
	timeout                                                        time.Duration
}

func costs(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool), now time.Time) int {
	fs := flag.NewFlagSet("reporter costs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f costsFlags
	fs.StringVar(&f.dsn, "clickhouse-dsn", "", "ClickHouse native-protocol `DSN`, e.g. clickhouse://user:password@host:9000/tally")
	fs.StringVar(&f.cluster, "cluster", "", "the `name` of the cluster, as its collector's --cluster")
	fs.StringVar(&f.window, "window", "24h", "the `window` to report: 24h, 7d, today, yesterday, thisweek, lastweek, month or START,END")
	fs.StringVar(&f.by, "by", "namespace", "aggregation `keys`: cluster, node, namespace, workload, app, label:<key>, comma-separated")
	fs.StringVar(&f.idle, "idle", "separate", "what to do with idle cost, `mode`: separate (a row __idle__), share (spread by cost) or hide")
	fs.StringVar(&f.shareNamespaces, "share-namespaces", "", "`namespaces` whose cost is spread over the others, comma-separated")
	fs.Float64Var(&f.shareMonthly, "share-monthly", 0, "a fixed monthly overhead `amount` spread over the groups (the window's part of it)")
	fs.StringVar(&f.share, "share", "weighted", "how shared costs are spread, `mode`: weighted (by cost) or even")
	fs.StringVar(&f.format, "format", report.FormatTable, "output `format`: table, csv, json or focus")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up after this `duration`")
	fs.Usage = cli.Usage(fs, costsSynopsis)
	if err := cli.Parse(fs, args, lookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "reporter costs:", oneLine(err))
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "reporter costs: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	window, opts, err := f.validate(now)
	if err != nil {
		fmt.Fprintln(stderr, "reporter costs:", oneLine(err))
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	// Retries are not logged: a failure is the one line below, naming what was tried.
	logger, _ := cli.NewLogger(stderr, "error", "text")
	s, err := store.Open(ctx, store.Options{DSN: f.dsn, ConnectTimeout: f.timeout}, logger)
	if err != nil {
		fmt.Fprintln(stderr, "reporter costs:", oneLine(err))
		return 1
	}
	defer s.Close()
	if allocation.NeedsNamespaceLabels(opts.By) {
		// A pod without the label takes its namespace's, as the namespace is at the window's end.
		w := store.Window{Cluster: f.cluster, From: window.From, To: window.To}
		if opts.Namespaces, err = s.NamespaceLabels(ctx, w); err != nil {
			fmt.Fprintln(stderr, "reporter costs:", oneLine(err))
			return 1
		}
	}
	if f.format == report.FormatFOCUS {
		// FOCUS needs the currency on every row: the node prices' of the window.
		prices, _, err := s.UnitPrices(ctx, store.Window{Cluster: f.cluster, From: window.From, To: window.To})
		if err != nil {
			fmt.Fprintln(stderr, "reporter costs:", oneLine(err))
			return 1
		}
		currency := prices.Currency
		if currency == "" {
			currency = defaultCurrency
		}
		days, err := costsByDay(ctx, s, f.cluster, opts, window)
		if err == nil {
			err = (report.FOCUS{Cluster: f.cluster, Currency: currency, Keys: opts.By}).Render(stdout, days)
		}
		if err != nil {
			fmt.Fprintln(stderr, "reporter costs:", oneLine(err))
			return 1
		}
		return 0
	}
	rows, err := s.CostRows(ctx, f.cluster, window.From, window.To)
	if err != nil {
		fmt.Fprintln(stderr, "reporter costs:", oneLine(err))
		return 1
	}
	totals, err := allocation.Aggregate(rows, opts)
	if err != nil {
		fmt.Fprintln(stderr, "reporter costs:", oneLine(err))
		return 1
	}
	if err := (report.Costs{Keys: opts.By}).Render(stdout, f.format, totals); err != nil {
		fmt.Fprintln(stderr, "reporter costs:", oneLine(err))
		return 1
	}
	return 0
}

// validate checks every flag before anything connects: a bad window, key or option is an
// error naming it.
func (f costsFlags) validate(now time.Time) (report.Window, allocation.Options, error) {
	if f.dsn == "" {
		return report.Window{}, allocation.Options{}, errors.New("--clickhouse-dsn is required")
	}
	if f.cluster == "" {
		return report.Window{}, allocation.Options{}, errors.New("--cluster is required")
	}
	window, err := report.ParseWindow(f.window, now)
	if err != nil {
		return report.Window{}, allocation.Options{}, fmt.Errorf("--window: %w", err)
	}
	keys, err := allocation.ParseKeys(f.by)
	if err != nil {
		return report.Window{}, allocation.Options{}, fmt.Errorf("--by: %w", err)
	}
	if err := report.CheckFormat(f.format); err != nil && f.format != report.FormatFOCUS {
		return report.Window{}, allocation.Options{}, fmt.Errorf("--format: %w (or focus)", err)
	}
	opts := allocation.Options{
		By:           keys,
		Idle:         allocation.IdleMode(f.idle),
		ShareMonthly: f.shareMonthly,
		WindowHours:  window.Hours(),
		Share:        allocation.ShareMode(f.share),
	}
	if f.shareNamespaces != "" {
		for _, ns := range strings.Split(f.shareNamespaces, ",") {
			opts.ShareNamespaces = append(opts.ShareNamespaces, strings.TrimSpace(ns))
		}
	}
	if err := opts.Validate(); err != nil {
		return report.Window{}, allocation.Options{}, err
	}
	return window, opts, nil
}

// oneLine keeps an error on one line of the terminal: joined errors and driver messages
// may hold newlines.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// defaultCurrency is the price book's default currency, for a window without node prices
// (and so without costs).
const defaultCurrency = "USD"

// costsByDay aggregates each UTC day of the window on its own, for --format focus: every day
// is a window of its own hours (read as reporter costs reads a window), so a monthly overhead
// is spread by the day's share of them. Days without cost rows are left out.
func costsByDay(ctx context.Context, s *store.Store, cluster string, opts allocation.Options, w report.Window) ([]report.DayTotals, error) {
	var out []report.DayTotals
	for d := w.From.UTC().Truncate(24 * time.Hour); d.Before(w.To); d = d.Add(24 * time.Hour) {
		from, to := maxTime(d, w.From), minTime(d.Add(24*time.Hour), w.To)
		rows, err := s.CostRows(ctx, cluster, from, to)
		if err != nil || len(rows) == 0 {
			if err != nil {
				return nil, err
			}
			continue
		}
		o := opts
		o.WindowHours = to.Sub(from).Hours()
		totals, err := allocation.Aggregate(rows, o)
		if err != nil {
			return nil, err
		}
		out = append(out, report.DayTotals{From: from, To: to, Totals: totals})
	}
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
