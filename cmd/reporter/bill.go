package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tally-finops/tally/internal/bill"
	"github.com/tally-finops/tally/internal/cli"
	"github.com/tally-finops/tally/internal/report"
	"github.com/tally-finops/tally/internal/store"
)

const billSynopsis = `
reporter bill — the cloud's bill, from FOCUS files (the FinOps Foundation's format, which AWS,
Azure, Google Cloud and Oracle export).

Usage:
  reporter bill import --clickhouse-dsn DSN --focus FILE [--source NAME]
  reporter bill show --clickhouse-dsn DSN --window W --by provider|service|account|resource|day
                     [--format table|csv|json]

  import loads a FOCUS 1.0 or 1.1 CSV file (.csv or .csv.gz) into ClickHouse. Importing the
  same file again changes nothing; a later export of a billing period replaces the earlier
  one, per source (default: each line's provider and billing account). A malformed line is
  reported with its line number, and nothing of that file is kept. It applies pending schema
  migrations first, as collector --migrate does.
  show sums BilledCost, EffectiveCost (amortised, discounts included) and ListCost of the lines
  whose charge period starts in the window, per currency. account is the sub-account (AWS
  linked account, Azure subscription, Google project), else the billing account.
`

func billCommand(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool), now time.Time) int {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stderr, strings.TrimPrefix(billSynopsis, "\n"))
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "import":
		return billImport(args[1:], stdout, stderr, lookupEnv)
	case "show":
		return billShow(args[1:], stdout, stderr, lookupEnv, now)
	}
	fmt.Fprintf(stderr, "reporter bill: unknown command %q; want import or show\n", args[0])
	return 2
}

func billImport(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	fs := flag.NewFlagSet("reporter bill import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("clickhouse-dsn", "", "ClickHouse native-protocol `DSN`, e.g. clickhouse://user:password@host:9000/tally")
	file := fs.String("focus", "", "the FOCUS `file` to import (.csv or .csv.gz)")
	source := fs.String("source", "", "the bill's source `name` (default: each line's ProviderName/BillingAccountId)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this `duration`")
	fs.Usage = cli.Usage(fs, billSynopsis)
	if err := cli.Parse(fs, args, lookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "reporter bill import:", oneLine(err))
		return 2
	}
	if *dsn == "" || *file == "" {
		fmt.Fprintln(stderr, "reporter bill import: --clickhouse-dsn and --focus are required")
		return 2
	}
	// The whole file is read and checked before anything connects: a malformed line stops
	// the import with nothing written.
	f, err := os.Open(*file)
	if err != nil {
		fmt.Fprintln(stderr, "reporter bill import:", oneLine(err))
		return 1
	}
	res, err := bill.Read(*file, f, bill.Options{Source: *source})
	f.Close()
	if err != nil {
		fmt.Fprintln(stderr, "reporter bill import:", oneLine(err))
		return 1
	}
	groups := bill.Groups(res.Lines)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	logger, _ := cli.NewLogger(stderr, "error", "text")
	s, err := store.Open(ctx, store.Options{DSN: *dsn, ConnectTimeout: 30 * time.Second, CreateDatabase: true}, logger)
	if err != nil {
		fmt.Fprintln(stderr, "reporter bill import:", oneLine(err))
		return 1
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		fmt.Fprintln(stderr, "reporter bill import:", oneLine(err))
		return 1
	}
	out, err := s.ImportBill(ctx, filepath.Base(*file), groups)
	if err != nil {
		fmt.Fprintln(stderr, "reporter bill import:", oneLine(err))
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d lines", *file, len(res.Lines))
	if res.Repaired > 0 {
		fmt.Fprintf(stdout, " (%d with EffectiveCost 0 or NULL and no commitment: taken as their BilledCost)", res.Repaired)
	}
	fmt.Fprintln(stdout)
	for _, o := range out {
		what := "imported"
		switch {
		case o.Unchanged:
			what = "unchanged (already imported)"
		case o.Replaced:
			what = "imported, replacing the earlier import"
		}
		fmt.Fprintf(stdout, "  %s %s: %d lines, billed %.2f: %s\n", o.Source, o.BillingPeriodStart.Format("2006-01"), o.Lines, o.BilledCost, what)
	}
	return 0
}

func billShow(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool), now time.Time) int {
	fs := flag.NewFlagSet("reporter bill show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("clickhouse-dsn", "", "ClickHouse native-protocol `DSN`, e.g. clickhouse://user:password@host:9000/tally")
	windowFlag := fs.String("window", "month", "the `window`: 24h, 7d, today, yesterday, thisweek, lastweek, month or START,END")
	by := fs.String("by", "service", "group by `key`: provider, service, account, resource or day")
	format := fs.String("format", report.FormatTable, "output `format`: table, csv or json")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this `duration`")
	fs.Usage = cli.Usage(fs, billSynopsis)
	if err := cli.Parse(fs, args, lookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "reporter bill show:", oneLine(err))
		return 2
	}
	window, err := report.ParseWindow(*windowFlag, now)
	switch {
	case *dsn == "":
		err = errors.New("--clickhouse-dsn is required")
	case err != nil:
		err = fmt.Errorf("--window: %w", err)
	case !slices.Contains(store.BillKeys, *by):
		err = fmt.Errorf("--by %q: want one of %s", *by, strings.Join(store.BillKeys, ", "))
	default:
		if err = report.CheckFormat(*format); err != nil {
			err = fmt.Errorf("--format: %w", err)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "reporter bill show:", oneLine(err))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	logger, _ := cli.NewLogger(stderr, "error", "text")
	s, err := store.Open(ctx, store.Options{DSN: *dsn, ConnectTimeout: *timeout}, logger)
	if err != nil {
		fmt.Fprintln(stderr, "reporter bill show:", oneLine(err))
		return 1
	}
	defer s.Close()
	rows, err := s.BillCosts(ctx, window.From, window.To, *by)
	if err != nil {
		fmt.Fprintln(stderr, "reporter bill show:", oneLine(err))
		return 1
	}
	if err := (report.Bill{By: *by}).Render(stdout, *format, rows); err != nil {
		fmt.Fprintln(stderr, "reporter bill show:", oneLine(err))
		return 1
	}
	return 0
}
