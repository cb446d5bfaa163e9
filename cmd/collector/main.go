// Command collector keeps ClickHouse current with what a Kubernetes cluster requested, what
// it used and what its nodes cost. It wires flags to the collector's packages and runs it:
// on a schedule until SIGTERM, or once (--once) for everything due, catch-up included.
package main

import (
	"context"
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

	"github.com/tally-finops/tally/internal/cli"
	"github.com/tally-finops/tally/internal/collector"
	"github.com/tally-finops/tally/internal/kube"
	"github.com/tally-finops/tally/internal/pricing"
	"github.com/tally-finops/tally/internal/prom"
	"github.com/tally-finops/tally/internal/store"
)

const synopsis = `
collector — writes a Kubernetes cluster's requests, usage and node prices to ClickHouse.

Usage:
  collector --prometheus-url URL --clickhouse-dsn DSN --pricing FILE --cluster NAME
            [--prometheus-config FILE] [--prometheus-selector MATCHERS]
            [--kubeconfig PATH] [--once [--as-of TIME]] [--backfill 14d] [--listen :9464]
  collector --clickhouse-dsn DSN --migrate    apply the schema migrations and exit
  collector --version

Without --kubeconfig the collector uses its in-cluster service account.
--as-of runs --once as if the time were TIME (RFC 3339): it collects Prometheus's history up
to then, and stamps the inventory it reads from the API server now with TIME. For replaying
a recorded cluster (tests, demos); a cron job runs --once without it.
`

type options struct {
	kubeconfig, prometheusURL, dsn, pricing, cluster, listen string
	prometheusConfig, prometheusSelector                     string
	once, migrate                                            bool
	asOf                                                     string
	backfill, retention, usageDelay, usageEvery, kubeState   cli.Duration
	connectTimeout                                           time.Duration
	logLevel, logFormat                                      string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

func run(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	fs := flag.NewFlagSet("collector", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{backfill: cli.Duration(14 * 24 * time.Hour), retention: cli.Duration(35 * 24 * time.Hour),
		usageDelay: cli.Duration(2 * time.Minute), usageEvery: cli.Duration(5 * time.Minute), kubeState: cli.Duration(5 * time.Minute)}
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig `path`; empty: in-cluster config")
	fs.StringVar(&o.prometheusURL, "prometheus-url", "", "Prometheus base `URL`, e.g. http://prometheus:9090")
	fs.StringVar(&o.prometheusConfig, "prometheus-config", "", "Prometheus HTTP client config `file` (YAML, Prometheus's http_config: authorization, basic_auth, tls_config, proxy_url, http_headers)")
	fs.StringVar(&o.prometheusSelector, "prometheus-selector", "", "label `matchers` added to every Prometheus query, e.g. 'cluster=\"prod\"'")
	fs.StringVar(&o.dsn, "clickhouse-dsn", "", "ClickHouse native-protocol `DSN`, e.g. clickhouse://user:password@host:9000/tally")
	fs.StringVar(&o.pricing, "pricing", "", "price book `file` (YAML)")
	fs.StringVar(&o.cluster, "cluster", "", "`name` of this cluster in tally's data")
	fs.BoolVar(&o.once, "once", false, "run every job for all intervals due up to now (catch-up included), then exit")
	fs.StringVar(&o.asOf, "as-of", "", "with --once: run as if the current time were `TIME` (RFC 3339), to replay a recorded history")
	fs.Var(&o.backfill, "backfill", "how far back to catch up from Prometheus history (`duration`, e.g. 14d)")
	fs.Var(&o.usageDelay, "usage-delay", "collect a minute's usage this long after it ends (`duration`; at least the scrape interval + 1m)")
	fs.Var(&o.usageEvery, "usage-every", "run the usage job every `duration` (whole minutes dividing an hour)")
	fs.Var(&o.kubeState, "kube-state-step", "read kube-state-metrics and cAdvisor's OOM counter at multiples of this `duration` (whole minutes dividing an hour): the resolution of the history of pods gone before the inventory saw them and of OOM kills of processes")
	fs.Var(&o.retention, "retention", "drop raw samples and snapshots older than this (`duration`; 0 keeps all)")
	fs.StringVar(&o.listen, "listen", ":9464", "`address` of /metrics, /healthz and /readyz (empty: none)")
	fs.BoolVar(&o.migrate, "migrate", false, "apply the schema migrations and exit")
	fs.DurationVar(&o.connectTimeout, "clickhouse-connect-timeout", 10*time.Second, "give up connecting to ClickHouse after this `duration`")
	fs.StringVar(&o.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format`: text or json")
	showVersion := fs.Bool("version", false, "print the version and exit")
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
	logger, err := cli.NewLogger(stderr, o.logLevel, o.logFormat)
	if err != nil {
		fmt.Fprintln(stderr, "collector:", err)
		return 2
	}
	if err := o.validate(); err != nil {
		fmt.Fprintln(stderr, "collector:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.migrate {
		err = migrate(ctx, o, stdout, logger)
	} else {
		err = collect(ctx, o, logger)
	}
	if err != nil {
		fmt.Fprintln(stderr, "collector:", err)
		return 1
	}
	return 0
}

func (o options) validate() error {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"--clickhouse-dsn", o.dsn}, {"--prometheus-url", o.prometheusURL}, {"--pricing", o.pricing}, {"--cluster", o.cluster},
	} {
		if f.value == "" && (!o.migrate || f.name == "--clickhouse-dsn") {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing required flags: %v (see --help)", missing)
	}
	if k := time.Duration(o.kubeState); k <= 0 || k%time.Minute != 0 || time.Hour%k != 0 {
		return fmt.Errorf("--kube-state-step %s: must be a whole number of minutes that divides an hour", k)
	}
	if _, err := o.clock(); err != nil {
		return err
	}
	return nil
}

// clock is the collector's clock: nil (the real one) unless --as-of is set.
func (o options) clock() (func() time.Time, error) {
	if o.asOf == "" {
		return nil, nil
	}
	if !o.once {
		return nil, errors.New("--as-of needs --once: a long-running collector runs on the real clock")
	}
	t, err := time.Parse(time.RFC3339, o.asOf)
	if err != nil {
		return nil, fmt.Errorf("--as-of %q: want an RFC 3339 time such as 2026-03-02T10:05:00Z", o.asOf)
	}
	return func() time.Time { return t }, nil
}

func openStore(ctx context.Context, o options, logger *slog.Logger) (*store.Store, store.MigrationReport, error) {
	s, err := store.Open(ctx, store.Options{DSN: o.dsn, ConnectTimeout: o.connectTimeout, CreateDatabase: true}, logger)
	if err != nil {
		return nil, store.MigrationReport{}, err
	}
	rep, err := s.Migrate(ctx)
	if err != nil {
		s.Close()
		return nil, rep, err
	}
	return s, rep, nil
}

func migrate(ctx context.Context, o options, stdout io.Writer, logger *slog.Logger) error {
	s, rep, err := openStore(ctx, o, logger)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(stdout, "schema of database %s on ClickHouse %s: %d applied now, %d already applied, %d skipped\n",
		s.Database(), rep.Server, len(rep.Applied), len(rep.Current), len(rep.Skipped))
	for _, sk := range rep.Skipped {
		fmt.Fprintf(stdout, "  skipped %s: %s\n", sk.Migration, sk.Reason)
	}
	return nil
}

// promOptions reads the Prometheus flags; its errors name the flag.
func promOptions(o options) (prom.Options, error) {
	httpConfig, err := prom.LoadHTTPConfigFile(o.prometheusConfig)
	if err != nil {
		return prom.Options{}, fmt.Errorf("--prometheus-config: %w", err)
	}
	if err := prom.CheckSelector(o.prometheusSelector); err != nil {
		return prom.Options{}, fmt.Errorf("--prometheus-selector: %w", err)
	}
	return prom.Options{URL: o.prometheusURL, HTTPConfig: httpConfig, Selector: o.prometheusSelector}, nil
}

func collect(ctx context.Context, o options, logger *slog.Logger) error {
	// /metrics and /readyz are how the collector is watched: an address that cannot be bound
	// stops it here, before anything is dialled, rather than leaving it running unwatched.
	var ln net.Listener
	if !o.once && o.listen != "" {
		var err error
		if ln, err = net.Listen("tcp", o.listen); err != nil {
			return fmt.Errorf("--listen: %w", err)
		}
		defer ln.Close()
	}
	popts, err := promOptions(o)
	if err != nil {
		return err
	}
	promClient, err := prom.New(popts, logger)
	if err != nil {
		return err
	}
	book, err := pricing.Load(o.pricing)
	if err != nil {
		return err
	}
	clients, err := kube.NewClients(o.kubeconfig)
	if err != nil {
		return err
	}
	s, _, err := openStore(ctx, o, logger)
	if err != nil {
		return err
	}
	defer s.Close()
	// The informers live as long as ctx; only the wait for their first sync is bounded.
	inv := kube.NewInventory(clients, o.cluster, logger)
	synced := make(chan error, 1)
	go func() { synced <- inv.Start(ctx) }()
	select {
	case err := <-synced:
		if err != nil {
			return fmt.Errorf("watch the Kubernetes API: %w", err)
		}
	case <-time.After(2 * time.Minute):
		return errors.New("watch the Kubernetes API: informers not in sync after 2m")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	clock, err := o.clock()
	if err != nil {
		return err
	}
	c, err := collector.New(collector.Options{
		Cluster: o.cluster, Backfill: time.Duration(o.backfill), Retention: time.Duration(o.retention),
		UsageDelay: time.Duration(o.usageDelay), UsageEvery: time.Duration(o.usageEvery), KubeStateStep: time.Duration(o.kubeState),
		Clock: clock,
	}, collector.Deps{Store: s, Prom: promClient, Inventory: inv, Prices: book}, logger, reg)
	if err != nil {
		return err
	}
	if o.once {
		return c.RunOnce(ctx)
	}
	if ln != nil {
		srv := &http.Server{Handler: c.Handler(reg), ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		serveCtx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				cancel(fmt.Errorf("--listen %s: http server stopped: %w", o.listen, err))
			}
		}()
		defer func() {
			shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdown)
		}()
		logger.Info("collector running", "cluster", o.cluster, "listen", ln.Addr().String(), "version", version.Version)
		err := c.Run(serveCtx)
		if cause := context.Cause(serveCtx); ctx.Err() == nil && cause != nil {
			return cause // the server failed: the collector must not run unwatched
		}
		return err
	}
	logger.Info("collector running", "cluster", o.cluster, "listen", o.listen, "version", version.Version)
	return c.Run(ctx)
}
