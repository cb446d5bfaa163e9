// Command reporter is tally's read side: it answers questions about cost and sizing from
// what the collector stored in ClickHouse.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/version"

	"github.com/tally-finops/tally/internal/cli"
	"github.com/tally-finops/tally/internal/store"
)

const synopsis = `
reporter — answers who spends what and what the requests should be, from tally's ClickHouse.

Usage:
  reporter costs --clickhouse-dsn DSN --cluster NAME --window W --by KEYS
                                         who spends what over a window, as a table, CSV or JSON
  reporter rightsize --clickhouse-dsn DSN --cluster NAME [--window 14d] [--backtest]
                                         what the CPU and memory requests and limits should be,
                                         priced, with risk and evidence; backtested on demand
  reporter qos --clickhouse-dsn DSN --cluster NAME
                                         request = limit findings, node memory overcommit and
                                         OOM-kill order
  reporter weekly --clickhouse-dsn DSN --cluster NAME --out DIR [--week 2026-W47]
                                         the week's CSV reports, written atomically into DIR
  reporter serve --clickhouse-dsn DSN [--cluster NAME] [--listen :8080] [--reports-dir DIR]
                                         the reports over HTTP (JSON, CSV, YAML), the weekly
                                         CSV files on a schedule, /healthz, /readyz, /metrics
  reporter bill import --clickhouse-dsn DSN --focus FILE
                                         load a FOCUS bill (CSV, .csv.gz) into ClickHouse, idempotently
  reporter bill show --clickhouse-dsn DSN --window W --by provider|service|account|resource|day
                                         the bill's billed, effective and list cost
  reporter schema --clickhouse-dsn DSN    show which schema migrations are applied, pending or skipped
  reporter --version

Run "reporter COMMAND --help" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

func run(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	fs := flag.NewFlagSet("reporter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = cli.Usage(fs, synopsis)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Print("reporter"))
		return 0
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	switch cmd, rest := fs.Arg(0), fs.Args()[1:]; cmd {
	case "costs":
		return costs(rest, stdout, stderr, lookupEnv, time.Now())
	case "rightsize":
		return rightsize(rest, stdout, stderr, lookupEnv, time.Now())
	case "qos":
		return qosCommand(rest, stdout, stderr, lookupEnv, time.Now())
	case "weekly":
		return weeklyCommand(rest, stdout, stderr, lookupEnv, time.Now())
	case "serve":
		return serve(rest, stderr, lookupEnv)
	case "bill":
		return billCommand(rest, stdout, stderr, lookupEnv, time.Now())
	case "schema":
		return schema(rest, stdout, stderr, lookupEnv)
	default:
		fmt.Fprintf(stderr, "reporter: unknown command %q; see reporter --help\n", cmd)
		return 2
	}
}

func schema(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	fs := flag.NewFlagSet("reporter schema", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("clickhouse-dsn", "", "ClickHouse native-protocol `DSN`, e.g. clickhouse://user:password@host:9000/tally")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this `duration`")
	fs.Usage = cli.Usage(fs, "reporter schema — show which schema migrations are applied, pending or skipped.")
	if err := cli.Parse(fs, args, lookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "reporter schema:", err)
		return 2
	}
	if *dsn == "" {
		fmt.Fprintln(stderr, "reporter schema: --clickhouse-dsn is required")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	logger, _ := cli.NewLogger(stderr, "warn", "text")
	s, err := store.Open(ctx, store.Options{DSN: *dsn, ConnectTimeout: *timeout}, logger)
	if err != nil {
		fmt.Fprintln(stderr, "reporter schema:", err)
		return 1
	}
	defer s.Close()
	rep, err := s.MigrationStatus(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "reporter schema:", err)
		return 1
	}
	fmt.Fprintf(stdout, "database %s on ClickHouse %s\n\n", s.Database(), rep.Server)
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "MIGRATION\tSTATE\tNOTE")
	for _, m := range rep.Current {
		fmt.Fprintf(w, "%s\tapplied\t\n", m)
	}
	for _, m := range rep.Pending {
		fmt.Fprintf(w, "%s\tpending\trun collector --migrate\n", m)
	}
	for _, sk := range rep.Skipped {
		fmt.Fprintf(w, "%s\tskipped\t%s\n", sk.Migration, sk.Reason)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(stderr, "reporter schema:", err)
		return 1
	}
	return 0
}
