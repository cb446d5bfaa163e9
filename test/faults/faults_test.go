package faults

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tally-finops/tally/internal/kube"
	"github.com/tally-finops/tally/internal/stacktest"
	"github.com/tally-finops/tally/internal/synthetic"
)

// The synthetic cluster of the suite: three days of history ending on a Monday at 03:00, so
// that its ISO week (2026-W03) is complete and allocated when the collector runs at 03:05.
var (
	historyEnd = time.Date(2026, 1, 19, 3, 0, 0, 0, time.UTC)
	history    = 72 * time.Hour
	asOf       = historyEnd.Add(5 * time.Minute)
	// window is what the reports cover: the hours every run allocated.
	window = historyEnd.Add(-71*time.Hour).Format(time.RFC3339) + "," + historyEnd.Format(time.RFC3339)
)

const (
	clusterName = "flt"
	priceBook   = `currency: USD
defaults: {cpuCoreHour: 0.031611, ramGiBHour: 0.004237, gpuHour: 0.95, storageGiBMonth: 0.0365}
nodes:
  - match: {node.kubernetes.io/instance-type: m5.xlarge, karpenter.sh/capacity-type: spot}
    hourly: 0.0704
  - match: {node.kubernetes.io/instance-type: m5.xlarge}
    hourly: 0.192
  - match: {node.kubernetes.io/instance-type: g4dn.xlarge}
    hourly: 0.526
`
)

// env is what every scenario shares: the binaries, the suite's ClickHouse, the stack's
// Prometheus and API server with the synthetic cluster in them.
type env struct {
	dir, collector, reporter string
	book, kubeconfig         string
	promURL                  string
	ch                       *chServer
	conn                     driver.Conn
	dbs                      int
}

func setUp(t *testing.T) *env {
	t.Helper()
	promURL, kubeconfig := stacktest.PrometheusURL(t), stacktest.Kubeconfig(t)
	e := &env{dir: t.TempDir(), promURL: promURL, kubeconfig: kubeconfig}
	for _, bin := range []string{"collector", "reporter"} {
		out := filepath.Join(e.dir, bin)
		cmd := exec.Command("go", "build", "-o", out, "github.com/tally-finops/tally/cmd/"+bin)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build cmd/%s: %v\n%s", bin, err, b)
		}
	}
	e.collector, e.reporter = filepath.Join(e.dir, "collector"), filepath.Join(e.dir, "reporter")
	e.book = filepath.Join(e.dir, "prices.yaml")
	if err := os.WriteFile(e.book, []byte(priceBook), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	syn, err := synthetic.New(synthetic.Options{Cluster: clusterName, End: historyEnd, Duration: history, Prefix: "flt-", ClusterLabel: clusterName})
	if err != nil {
		t.Fatal(err)
	}
	om := filepath.Join(e.dir, "history.om")
	f, err := os.Create(om)
	if err != nil {
		t.Fatal(err)
	}
	if err := syn.WriteOpenMetrics(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := run(ctx, "../../hack/stack/prom-load.sh", om); err != nil {
		t.Fatalf("load the synthetic series into Prometheus: %v\n%s", err, out)
	}
	clients, err := kube.NewClients(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := kube.Load(ctx, clients, syn.Objects()); err != nil {
		t.Fatalf("load the synthetic objects into the API server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := kube.Unload(ctx, clients, syn.Objects()); err != nil {
			t.Errorf("remove the synthetic objects from the API server: %v", err)
		}
	})

	e.ch = startClickHouse(t)
	opts, err := clickhouse.ParseDSN(e.ch.dsn("default"))
	if err != nil {
		t.Fatal(err)
	}
	opts.ReadTimeout = 2 * time.Minute
	if e.conn, err = clickhouse.Open(opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.conn.Close() })
	return e
}

// newDB names a fresh database for one run.
func (e *env) newDB(name string) string {
	e.dbs++
	return fmt.Sprintf("flt_%s_%d", strings.ReplaceAll(name, "-", "_"), e.dbs)
}

// collectorArgs are the flags of one collector --once run into db, through the given
// ClickHouse and Prometheus addresses (the suite's servers, or proxies in front of them).
func (e *env) collectorArgs(db, chAddr, promURL, dsnParams string, at time.Time, backfill time.Duration) []string {
	dsn := fmt.Sprintf("clickhouse://default@%s/%s%s", chAddr, db, dsnParams)
	return []string{"--once", "--as-of", at.Format(time.RFC3339), "--backfill", backfill.String(), "--retention", "0s",
		"--cluster", clusterName, "--prometheus-url", promURL, "--prometheus-selector", `cluster="` + clusterName + `"`,
		"--pricing", e.book, "--kubeconfig", e.kubeconfig, "--clickhouse-dsn", dsn, "--listen", "", "--log-format", "json"}
}

func (e *env) chAddr() string { return fmt.Sprintf("127.0.0.1:%d", e.ch.tcpPort) }

// process is one collector run.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	out  bytes.Buffer
}

func (e *env) start(args []string) (*process, error) {
	p := &process{done: make(chan struct{})}
	p.cmd = exec.Command(e.collector, args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	return p, nil
}

// tail is the end of a run's log, for failure messages.
func (p *process) tail() string {
	s := p.out.String()
	if len(s) > 3000 {
		s = "…" + s[len(s)-3000:]
	}
	return s
}

// untilDone runs the collector with args again and again, as cron would, until a run exits
// 0, at most maxRuns times; during each run, fault (if any) is called with the run's
// number and process and returns how many faults it injected. It returns the runs made.
func (e *env) untilDone(args []string, maxRuns int, fault func(n int, p *process) int) (runs, injected int, err error) {
	var last *process
	for runs < maxRuns {
		p, err := e.start(args)
		if err != nil {
			return runs, injected, err
		}
		last = p
		runs++
		if fault != nil {
			injected += fault(runs, p)
		}
		select {
		case <-p.done:
		case <-time.After(10 * time.Minute):
			_ = p.cmd.Process.Kill()
			<-p.done
			return runs, injected, fmt.Errorf("run %d did not end in 10 minutes:\n%s", runs, p.tail())
		}
		if p.err == nil {
			return runs, injected, nil
		}
		if fault == nil {
			return runs, injected, fmt.Errorf("run %d: %v\n%s", runs, p.err, p.tail())
		}
	}
	return runs, injected, fmt.Errorf("no run of %d succeeded; the last one's log:\n%s", maxRuns, last.tail())
}

// reports runs every report the suite compares on db into dir: costs by namespace and by
// workload, rightsizing and qos (JSON), and the week's CSV files.
func (e *env) reports(db, dir string) error {
	dsn := e.ch.dsn(db)
	common := []string{"--clickhouse-dsn", dsn, "--cluster", clusterName}
	runs := []struct {
		file string
		args []string
	}{
		{"costs-namespace.json", []string{"costs", "--window", window, "--by", "namespace", "--format", "json"}},
		{"costs-workload.json", []string{"costs", "--window", window, "--by", "workload", "--format", "json"}},
		{"rightsize.json", []string{"rightsize", "--window", window, "--format", "json"}},
		{"qos.json", []string{"qos", "--window", window, "--at", asOf.Add(time.Minute).Format(time.RFC3339), "--format", "json"}},
	}
	for _, r := range runs {
		args := append(append([]string{r.args[0]}, common...), r.args[1:]...)
		out, err := exec.Command(e.reporter, args...).Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			return fmt.Errorf("reporter %s: %v\n%s", strings.Join(r.args, " "), err, stderr)
		}
		if err := os.WriteFile(filepath.Join(dir, r.file), out, 0o644); err != nil {
			return err
		}
	}
	weekly := filepath.Join(dir, "weekly")
	if out, err := exec.Command(e.reporter, append([]string{"weekly"}, append(common, "--week", "2026-W03", "--out", weekly)...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("reporter weekly: %v\n%s", err, out)
	}
	return nil
}

// compareReports compares the reports in dir with the uninterrupted run's in base, those
// compared says.
func compareReports(base, dir string, compared func(string) bool) []string {
	var diffs []string
	for _, f := range []string{"costs-namespace.json", "costs-workload.json", "rightsize.json", "qos.json"} {
		if !compared(f) {
			continue
		}
		want, err := os.ReadFile(filepath.Join(base, f))
		if err != nil {
			return []string{err.Error()}
		}
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return []string{err.Error()}
		}
		if err := diffJSON(want, got); err != nil {
			diffs = append(diffs, f+": "+err.Error())
		}
	}
	if err := diffCSVDirs(filepath.Join(base, "weekly"), filepath.Join(dir, "weekly"), compared); err != nil {
		diffs = append(diffs, "weekly: "+err.Error())
	}
	return diffs
}

// result is one row of the fault table.
type result struct {
	fault       string
	reps        int
	injected    string
	runs        int
	differences int
	took        time.Duration
}

func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault suite takes minutes")
	}
	e := setUp(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(2026, 12))

	// The uninterrupted run.
	baseDB := e.newDB("baseline")
	start := time.Now()
	if _, _, err := e.untilDone(e.collectorArgs(baseDB, e.chAddr(), e.promURL, "", asOf, history), 1, nil); err != nil {
		t.Fatalf("uninterrupted run: %v", err)
	}
	d0 := time.Since(start)
	base, err := takeSnapshot(ctx, e.conn, baseDB)
	if err != nil {
		t.Fatal(err)
	}
	if len(base["usage_samples"]) == 0 || len(base["cost_allocations"]) == 0 {
		t.Fatalf("the uninterrupted run wrote no usage or no costs: %d and %d groups", len(base["usage_samples"]), len(base["cost_allocations"]))
	}
	if p := checkConsistent(ctx, e.conn, baseDB); len(p) > 0 {
		t.Fatalf("the uninterrupted run is not consistent: %v", p)
	}
	baseReports := filepath.Join(e.dir, "reports-baseline")
	if err := os.MkdirAll(baseReports, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := e.reports(baseDB, baseReports); err != nil {
		t.Fatal(err)
	}
	t.Logf("uninterrupted catch-up of %s: %v; %d usage sample groups", history, d0.Round(100*time.Millisecond), len(base["usage_samples"]))
	results := []result{{fault: "none (the uninterrupted run)", reps: 1, injected: "—", runs: 1, took: d0}}

	// verify compares one faulted run's database with the uninterrupted one.
	verify := func(t *testing.T, db string, compared func(string) bool, skip ...string) int {
		t.Helper()
		snap, err := takeSnapshot(ctx, e.conn, db, skip...)
		if err != nil {
			t.Fatal(err)
		}
		want := base
		if len(skip) > 0 {
			want = snapshot{}
			for k, v := range base {
				if !slices.Contains(skip, k) {
					want[k] = v
				}
			}
		}
		n, lines := want.diff(snap)
		for _, l := range lines {
			t.Errorf("%s: %s", db, l)
		}
		for _, p := range checkConsistent(ctx, e.conn, db) {
			n++
			t.Errorf("%s: %s", db, p)
		}
		dir := filepath.Join(e.dir, "reports-"+db)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := e.reports(db, dir); err != nil {
			t.Fatal(err)
		}
		for _, d := range compareReports(baseReports, dir, compared) {
			n++
			t.Errorf("%s: %s", db, d)
		}
		return n
	}

	for _, sc := range scenarios(e, d0) {
		t.Run(sc.name, func(t *testing.T) {
			r := result{fault: sc.about, reps: sc.reps}
			start := time.Now()
			injected := 0
			for rep := range sc.reps {
				db := e.newDB(sc.name)
				runs, n, err := sc.run(t, e, db, rep, rng)
				r.runs += runs
				injected += n
				if err != nil {
					t.Fatalf("repetition %d: %v", rep+1, err)
				}
				compared := sc.reports
				if compared == nil {
					compared = func(string) bool { return true }
				}
				r.differences += verify(t, db, compared, sc.skip...)
			}
			if sc.min > 0 && injected < sc.min {
				t.Errorf("%d %s injected, want at least %d", injected, sc.unit, sc.min)
			}
			r.injected = fmt.Sprintf("%d %s", injected, sc.unit)
			r.took = time.Since(start)
			results = append(results, r)
		})
	}

	var b strings.Builder
	b.WriteString("| fault | repetitions | faults injected | collector runs | differences | time |\n|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %d | %v |\n", r.fault, r.reps, r.injected, r.runs, r.differences, r.took.Round(time.Second))
	}
	t.Logf("fault table:\n%s", b.String())
	if out := os.Getenv("TALLY_WRITE_FAULTS"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// withQuery adds DSN parameters.
func withQuery(params url.Values) string {
	if len(params) == 0 {
		return ""
	}
	return "?" + params.Encode()
}

// reconnect replaces the suite's connection after ClickHouse restarted.
func (e *env) reconnect(t *testing.T) {
	t.Helper()
	opts, err := clickhouse.ParseDSN(e.ch.dsn("default"))
	if err != nil {
		t.Fatal(err)
	}
	opts.ReadTimeout = 2 * time.Minute
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.conn.Close()
	e.conn = conn
}
