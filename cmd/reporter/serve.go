package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/version"

	"github.com/tally-finops/tally/internal/api"
	"github.com/tally-finops/tally/internal/cli"
	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/store"
)

const serveSynopsis = `
reporter serve — the reports over HTTP: /api/v1/costs, /api/v1/rightsizing, /api/v1/qos
(the parameters of the commands' flags; JSON, CSV or YAML), /api/v1/reports (the weekly CSV
files the schedule writes into --reports-dir/<YYYY-Www>/), /healthz, /readyz and /metrics.

Usage:
  reporter serve --clickhouse-dsn DSN [--cluster NAME] [--listen :8080] [--reports-dir DIR]
                 [--token TOKEN] [--weekly-schedule "30 0 * * 1"] [--query-timeout 30s]
                 [--tls-cert-file FILE --tls-key-file FILE]

  --cluster answers requests without ?cluster= and names the cluster of the weekly reports.
  With --token (better: its environment variable) every /api/ request needs the header
  "Authorization: Bearer TOKEN"; /healthz, /readyz and /metrics stay open.
  With --tls-cert-file and --tls-key-file (PEM; both or neither) it serves HTTPS only,
  TLS 1.2 or later, and reloads the files when they change.
  --weekly-schedule is a cron expression in UTC; "" writes no weekly reports.
  Limits: GET and HEAD only, no request body, a query string of at most 4 KiB, headers of at
  most 16 KiB; a request must be read within 10 s (its headers within 5 s), its answer
  written within --query-timeout + 15 s.
`

// serveFlags are the flags of reporter serve, once parsed.
type serveFlags struct {
	dsn, cluster, listen, reportsDir, token, schedule, logLevel, logFormat string
	tlsCertFile, tlsKeyFile                                                string
	queryTimeout, cacheTTL                                                 time.Duration
	maxQueries                                                             int
}

// Bounds of the HTTP server beyond the report work itself.
const (
	connectTimeout = 30 * time.Second
	// writeSlack is how much longer than --query-timeout a response may take to be written.
	writeSlack = 15 * time.Second
)

// serverTimeouts bound how long a client may hold a connection: to send its headers (the
// TLS handshake included), its whole request, to read the answer, and idle between requests.
type serverTimeouts struct {
	readHeader, read, write, idle time.Duration
}

func defaultTimeouts(queryTimeout time.Duration) serverTimeouts {
	return serverTimeouts{readHeader: 5 * time.Second, read: 10 * time.Second, write: queryTimeout + writeSlack, idle: 2 * time.Minute}
}

// newHTTPServer is the server of h: bounded in time by t, in header size by
// api.MaxHeaderBytes, HTTPS when tlsConfig is set. Its own errors (a TLS handshake that
// failed, ...) go to logger as warnings.
func newHTTPServer(h http.Handler, t serverTimeouts, tlsConfig *tls.Config, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		MaxHeaderBytes:    api.MaxHeaderBytes,
		TLSConfig:         tlsConfig,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

func serve(args []string, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	fs := flag.NewFlagSet("reporter serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serveFlags
	fs.StringVar(&f.dsn, "clickhouse-dsn", "", "ClickHouse native-protocol `DSN`, e.g. clickhouse://user:password@host:9000/tally")
	fs.StringVar(&f.cluster, "cluster", "", "the default cluster `name` of requests without ?cluster=, and the cluster of the weekly reports")
	fs.StringVar(&f.listen, "listen", ":8080", "`address` to serve HTTP on (HTTPS with --tls-cert-file)")
	fs.StringVar(&f.reportsDir, "reports-dir", "./reports", "`directory` of the weekly reports, one subdirectory per ISO week")
	fs.StringVar(&f.token, "token", "", "bearer `token` every /api/ request must present (empty: no authentication)")
	fs.StringVar(&f.schedule, "weekly-schedule", api.DefaultWeeklySchedule, "cron `expression` (UTC) of the weekly reports of the last complete week; empty: none")
	fs.DurationVar(&f.queryTimeout, "query-timeout", 30*time.Second, "give up a request's ClickHouse work after this `duration`, queueing included")
	fs.DurationVar(&f.cacheTTL, "cache-ttl", time.Minute, "reuse a report for the same parameters for this `duration` (0: only requests in flight share one)")
	fs.StringVar(&f.tlsCertFile, "tls-cert-file", "", "serve HTTPS with the certificate (chain) of this PEM `file`; needs --tls-key-file")
	fs.StringVar(&f.tlsKeyFile, "tls-key-file", "", "the private key of --tls-cert-file, a PEM `file`")
	fs.IntVar(&f.maxQueries, "max-queries", 4, "run at most this `many` report computations against ClickHouse at once; the others queue")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log `format`: text or json")
	fs.Usage = cli.Usage(fs, serveSynopsis)
	if err := cli.Parse(fs, args, lookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "reporter serve:", oneLine(err))
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "reporter serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	logger, err := f.validate(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "reporter serve:", oneLine(err))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := f.listenAndServe(ctx, logger); err != nil {
		logger.Error("reporter serve stopped", "component", "reporter", "err", oneLine(err))
		return 1
	}
	return 0
}

// validate checks every flag before anything connects and builds the logger.
func (f serveFlags) validate(stderr io.Writer) (*slog.Logger, error) {
	if f.dsn == "" {
		return nil, errors.New("--clickhouse-dsn is required")
	}
	if f.listen == "" {
		return nil, errors.New("--listen is required")
	}
	if f.queryTimeout <= 0 {
		return nil, fmt.Errorf("--query-timeout %s: want a positive duration", f.queryTimeout)
	}
	if f.cacheTTL < 0 {
		return nil, fmt.Errorf("--cache-ttl %s: want 0 or a positive duration", f.cacheTTL)
	}
	if f.maxQueries < 1 {
		return nil, fmt.Errorf("--max-queries %d: want at least 1", f.maxQueries)
	}
	if (f.tlsCertFile == "") != (f.tlsKeyFile == "") {
		return nil, errors.New("--tls-cert-file and --tls-key-file go together: give both or neither")
	}
	if f.cluster != "" {
		if err := api.CheckClusterName(f.cluster); err != nil {
			return nil, fmt.Errorf("--cluster: %w", err)
		}
	}
	if f.schedule != "" {
		if f.cluster == "" {
			return nil, errors.New("--weekly-schedule needs --cluster (or --weekly-schedule \"\" to write no weekly reports)")
		}
		if f.reportsDir == "" {
			return nil, errors.New("--weekly-schedule needs --reports-dir")
		}
		if err := api.CheckWeeklySchedule(f.schedule); err != nil {
			return nil, fmt.Errorf("--weekly-schedule: %w", err)
		}
	}
	logger, err := cli.NewLogger(stderr, f.logLevel, f.logFormat)
	if err != nil {
		return nil, fmt.Errorf("--log-level/--log-format: %w", err)
	}
	return logger, nil
}

// listenAndServe serves until ctx ends, then shuts down: the requests in flight finish
// (within the query timeout), a weekly run in progress is cancelled.
func (f serveFlags) listenAndServe(ctx context.Context, logger *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := logger.With("component", "reporter")
	var tlsConfig *tls.Config
	if f.tlsCertFile != "" {
		var err error
		if tlsConfig, err = api.TLSConfig(f.tlsCertFile, f.tlsKeyFile, logger); err != nil {
			return fmt.Errorf("--tls-cert-file/--tls-key-file: %w", err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s, err := store.Open(ctx, store.Options{DSN: f.dsn, ConnectTimeout: connectTimeout, QueryTimeout: f.queryTimeout}, logger)
	if err != nil {
		return err
	}
	defer s.Close()
	handler, err := api.New(api.Options{DefaultCluster: f.cluster, ReportsDir: f.reportsDir, Token: f.token,
		QueryTimeout: f.queryTimeout, CacheTTL: f.cacheTTL, MaxConcurrentQueries: f.maxQueries},
		api.Deps{Store: s, Gatherer: reg}, logger, reg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.listen, err)
	}
	srv := newHTTPServer(handler, defaultTimeouts(f.queryTimeout), tlsConfig, logger)
	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			served <- srv.ServeTLS(ln, "", "") // the certificate comes from tlsConfig
			return
		}
		served <- srv.Serve(ln)
	}()

	weeklyDone := make(chan struct{})
	if f.schedule != "" {
		job, err := api.NewWeekly(api.WeeklyOptions{Schedule: f.schedule, Cluster: f.cluster, Dir: f.reportsDir,
			Policy: rightsizing.DefaultPolicy()}, s, logger, reg)
		if err != nil {
			_ = srv.Close()
			return err
		}
		go func() { job.Run(ctx); close(weeklyDone) }()
	} else {
		close(weeklyDone)
	}
	if f.token == "" {
		log.Warn("no --token: the /api/ endpoints answer anyone who can reach " + ln.Addr().String())
	}
	log.Info("reporter serving", "addr", ln.Addr().String(), "tls", tlsConfig != nil, "cluster", f.cluster, "reports_dir", f.reportsDir,
		"weekly_schedule", f.schedule, "version", version.Version)

	select {
	case err := <-served:
		cancel()
		<-weeklyDone
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing the requests in flight")
	shutdown, stop := context.WithTimeout(context.Background(), f.queryTimeout+writeSlack)
	defer stop()
	err = srv.Shutdown(shutdown)
	<-weeklyDone
	if err != nil {
		return fmt.Errorf("shut down http: %w", err)
	}
	return nil
}
