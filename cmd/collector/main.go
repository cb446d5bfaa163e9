// Command collector keeps ClickHouse current with what a Kubernetes cluster requested, what
// it used and what its nodes cost. This version applies tally's schema (--migrate); the
// collection jobs build on it.
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
	"time"

	"github.com/prometheus/common/version"

	"github.com/tally-finops/tally/internal/cli"
	"github.com/tally-finops/tally/internal/store"
)

const synopsis = `
collector — writes a Kubernetes cluster's requests, usage and node prices to ClickHouse.

Usage:
  collector --clickhouse-dsn DSN --migrate    apply tally's schema migrations and exit
  collector --version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

func run(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	fs := flag.NewFlagSet("collector", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dsn         = fs.String("clickhouse-dsn", "", "ClickHouse native-protocol `DSN`, e.g. clickhouse://user:password@host:9000/tally")
		migrate     = fs.Bool("migrate", false, "apply the schema migrations and exit")
		connTimeout = fs.Duration("clickhouse-connect-timeout", 10*time.Second, "give up connecting to ClickHouse after this `duration`")
		logLevel    = fs.String("log-level", "info", "log `level`: debug, info, warn or error")
		logFormat   = fs.String("log-format", "text", "log `format`: text or json")
		showVersion = fs.Bool("version", false, "print the version and exit")
	)
	fs.Usage = cli.Usage(fs, synopsis)
	if err := cli.Parse(fs, args, lookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "collector:", err)
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Print("collector"))
		return 0
	}
	logger, err := cli.NewLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		fmt.Fprintln(stderr, "collector:", err)
		return 2
	}
	if !*migrate {
		fmt.Fprintln(stderr, "collector: nothing to do: this version only applies the schema (--migrate); see --help")
		return 2
	}
	if *dsn == "" {
		fmt.Fprintln(stderr, "collector: --clickhouse-dsn is required")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := store.Open(ctx, store.Options{DSN: *dsn, ConnectTimeout: *connTimeout, CreateDatabase: true}, logger)
	if err != nil {
		fmt.Fprintln(stderr, "collector:", err)
		return 1
	}
	defer s.Close()
	rep, err := s.Migrate(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "collector:", err)
		return 1
	}
	fmt.Fprintf(stdout, "schema of database %s on ClickHouse %s: %d applied now, %d already applied, %d skipped\n",
		s.Database(), rep.Server, len(rep.Applied), len(rep.Current), len(rep.Skipped))
	for _, sk := range rep.Skipped {
		fmt.Fprintf(stdout, "  skipped %s: %s\n", sk.Migration, sk.Reason)
	}
	return 0
}
