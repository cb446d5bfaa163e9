package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/tally-finops/tally/internal/cli"
	"github.com/tally-finops/tally/internal/weekly"
)

const weeklySynopsis = `
reporter weekly — the week's CSV reports for finance and the platform team: costs by namespace
and by team against the week before, rightsizing savings, request = limit findings and a
one-row summary, written atomically into a directory.

Usage:
  reporter weekly --clickhouse-dsn DSN --cluster NAME --out DIR [--week 2026-W47]

  --week is an ISO week (UTC, Monday to Monday); the default is the last complete one.
  The files and their columns are described in docs/reports.md.
`

func weeklyCommand(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool), now time.Time) int {
	fs := flag.NewFlagSet("reporter weekly", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f sizingFlags
	registerSizingFlags(fs, &f)
	out := fs.String("out", "", "the `directory` to write the reports into (created if missing)")
	week := fs.String("week", "", "the ISO `week` to report, e.g. 2026-W47 (default: the last complete week)")
	fs.Usage = cli.Usage(fs, weeklySynopsis)
	if code, ok := parseSizing(fs, args, stderr, lookupEnv); !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "reporter weekly: --out is required")
		return 2
	}
	year, wk, err := weekly.ParseWeek(*week)
	if err != nil {
		fmt.Fprintln(stderr, "reporter weekly: --week:", err)
		return 2
	}
	if f.dsn == "" || f.cluster == "" {
		fmt.Fprintln(stderr, "reporter weekly: --clickhouse-dsn and --cluster are required")
		return 2
	}
	p := f.policy
	p.MemoryFloorBytes, p.OOMHeadroomBytes = f.memoryFloorMiB*(1<<20), f.oomHeadroomMiB*(1<<20)
	if err := p.Validate(); err != nil {
		fmt.Fprintln(stderr, "reporter weekly:", err)
		return 2
	}
	ctx, s, done, err := openStore("reporter weekly", f, stderr)
	if err != nil {
		fmt.Fprintln(stderr, oneLine(err))
		return 1
	}
	defer done()
	res, err := weekly.Write(ctx, s, weekly.Options{Cluster: f.cluster, Year: year, Week: wk, Dir: *out, Now: now, Policy: p})
	if err != nil {
		if errors.Is(err, weekly.ErrNoData) {
			fmt.Fprintln(stderr, "reporter weekly:", oneLine(err))
			return 1
		}
		fmt.Fprintln(stderr, "reporter weekly:", oneLine(err))
		return 1
	}
	fmt.Fprintf(stdout, "week %d-W%02d (%s to %s) of cluster %s:\n", res.Year, res.Week,
		res.From.Format(time.DateOnly), res.To.Add(-time.Second).Format(time.DateOnly), f.cluster)
	for _, name := range res.Files {
		fmt.Fprintln(stdout, " ", name)
	}
	return 0
}
