package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/kube"
	"github.com/tally-finops/tally/internal/pricing"
	"github.com/tally-finops/tally/internal/prom"
	"github.com/tally-finops/tally/internal/stacktest"
	"github.com/tally-finops/tally/internal/store/storetest"
	"github.com/tally-finops/tally/internal/synthetic"
)

// The Prometheus shapes: one synthetic cluster (the same objects, the same workloads) as
// several Prometheus set-ups see it, all written into the stack's one Prometheus over the
// same two days, each under its own cluster label — itself the shape of a Prometheus shared
// by many clusters — beside another cluster with the same namespaces and different pods.
// Each is collected with --prometheus-selector cluster="<label>" into a database of its own.
var shapesEnd = time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)

const (
	shapesPrefix   = "sh-"
	shapesDuration = 48 * time.Hour
)

type shape struct {
	label    string // cluster label in Prometheus
	about    string
	scrape   time.Duration
	dup      bool
	costTol  float64 // namespace costs against the 30 s shape
	cpuTol   float64 // CPU recommendations against the 30 s shape
	expected bool    // the synthetic Expected's per-minute model holds (the scrape divides a minute)
}

var shapes = []shape{
	{label: "s30", about: "30 s scrape", scrape: 30 * time.Second, expected: true},
	{label: "s60", about: "60 s scrape", scrape: time.Minute, costTol: 0.005, cpuTol: 0.05, expected: true},
	{label: "s120", about: "120 s scrape", scrape: 2 * time.Minute, costTol: 0.01, cpuTol: 0.10},
	{label: "dup", about: "30 s, HA pair × two cAdvisor jobs + /metrics/resource", scrape: 30 * time.Second, dup: true,
		costTol: 0.005, cpuTol: 0.05, expected: true},
}

func (s shape) options() synthetic.Options {
	return synthetic.Options{Cluster: "shapes", End: shapesEnd, Duration: shapesDuration, Prefix: shapesPrefix,
		Scrape: s.scrape, ClusterLabel: s.label, Duplicates: s.dup, TeamsOnNamespaces: true}
}

// otherCluster shares the namespaces and nodes of the shapes but has pods of its own (another
// cluster name gives other pod names), so that a reader that merges clusters visibly
// mis-charges.
var otherCluster = synthetic.Options{Cluster: "other", End: shapesEnd, Duration: shapesDuration, Prefix: shapesPrefix,
	ClusterLabel: "other", TeamsOnNamespaces: true}

// loadShapes writes every shape and the other cluster into the stack's Prometheus in one
// backfill, and the shapes' objects (identical for every shape) into the API server.
func loadShapes(t *testing.T) (*kube.Clients, synthetic.Expected, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var files []string
	all := []synthetic.Options{otherCluster}
	for _, s := range shapes {
		all = append(all, s.options())
	}
	for _, o := range all {
		c, err := synthetic.New(o)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, o.ClusterLabel+".om")
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WriteOpenMetrics(f); err != nil {
			f.Close()
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	if out, err := exec.CommandContext(ctx, "../../hack/stack/prom-load.sh", files...).CombinedOutput(); err != nil {
		t.Fatalf("load the shapes into Prometheus: %v\n%s", err, out)
	}
	base, err := synthetic.New(shapes[0].options())
	if err != nil {
		t.Fatal(err)
	}
	clients, err := kube.NewClients(stacktest.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeShapes(t, base) })
	if err := kube.Load(ctx, clients, base.Objects()); err != nil {
		t.Fatalf("load the shapes' objects into the API server: %v", err)
	}
	teamOf := map[string]string{} // namespace → its team label
	for _, o := range base.Objects() {
		if ns, ok := o.(*corev1.Namespace); ok {
			teamOf[ns.Name] = ns.Labels["team"]
		}
	}
	return clients, base.Expected(), teamOf
}

// removeShapes deletes the shapes' nodes, pods and volumes from the API server, which other
// tests share: a collector there prices every node and volume it sees. (With no controller
// running, a namespace would stay Terminating; its pods, nodes and volumes are what a
// collector charges.)
func removeShapes(t *testing.T, c *synthetic.Cluster) {
	cfg, err := clientcmd.BuildConfigFromFlags("", stacktest.Kubeconfig(t))
	if err != nil {
		t.Error(err)
		return
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Error(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := metav1.DeleteOptions{GracePeriodSeconds: new(int64)}
	var volumes []runtime.Object // cluster-scoped, with the finalizer kube.Unload removes
	for _, o := range c.Objects() {
		switch o.(type) {
		case *corev1.PersistentVolume, *storagev1.StorageClass:
			volumes = append(volumes, o)
		}
	}
	if clients, err := kube.NewClients(stacktest.Kubeconfig(t)); err != nil {
		t.Error(err)
	} else if err := kube.Unload(ctx, clients, volumes); err != nil {
		t.Errorf("remove the shapes' volumes: %v", err)
	}
	for _, o := range c.Objects() {
		var err error
		switch o := o.(type) {
		case *corev1.Node:
			err = kc.CoreV1().Nodes().Delete(ctx, o.Name, now)
		case *corev1.Pod:
			err = kc.CoreV1().Pods(o.Namespace).Delete(ctx, o.Name, now)
		}
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("remove the shapes' objects: %v", err)
			return
		}
	}
}

// shapeResult is what the reporter says about one collection.
type shapeResult struct {
	costs map[string]float64 // namespace → CPU + RAM + GPU cost
	teams map[string]float64 // team → CPU + RAM + GPU cost
	cpu   map[string]float64 // namespace/workload/container → recommended CPU request, cores
	// smeared lists the containers whose CPU bursts are shorter than two scrapes, with the
	// request the scrapes imply (see cpuWant).
	smeared  []string
	cpuWorst float64 // the largest deviation of a CPU recommendation from its cpuWant
}

// collectShape runs the collector once over the shapes' Prometheus with selector, into a
// fresh database, and reads the reports back with the reporter binary.
func collectShape(t *testing.T, clients *kube.Clients, bin, selector string, first, last time.Time) shapeResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	logger := testLogger()
	s, dsn := storetest.Open(t, "tally_shapes", logger)
	book, err := pricing.Parse("e2e-prices.yaml", []byte(e2eBook))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := prom.New(prom.Options{URL: stacktest.PrometheusURL(t), Selector: selector}, logger)
	if err != nil {
		t.Fatal(err)
	}
	inv := kube.NewInventory(clients, "shapes", logger)
	if err := inv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Cluster: "shapes", Backfill: shapesDuration},
		Deps{Store: s, Prom: pc, Inventory: inv, Prices: book}, logger, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	now := shapesEnd.Add(5 * time.Minute)
	c.now = func() time.Time { return now }
	if err := c.RunOnce(ctx); err != nil {
		t.Fatalf("collector --once with selector %q: %v", selector, err)
	}

	res := shapeResult{costs: map[string]float64{}, teams: map[string]float64{}, cpu: map[string]float64{}}
	window := first.Format(time.RFC3339) + "," + last.Format(time.RFC3339)
	for by, into := range map[string]map[string]float64{"namespace": res.costs, "label:team": res.teams} {
		var totals []allocation.Total
		out := runReporter(t, bin, "costs", "--clickhouse-dsn", dsn, "--cluster", "shapes", "--by", by, "--format", "json", "--window", window)
		if err := json.Unmarshal(out, &totals); err != nil {
			t.Fatalf("reporter costs --by %s JSON: %v\n%s", by, err, out)
		}
		for _, tot := range totals {
			into[tot.Name] = tot.CPUCost + tot.RAMCost + tot.GPUCost
		}
	}
	var recs []recommendationJSON
	rwindow := shapesEnd.Add(-shapesDuration).Format(time.RFC3339) + "," + shapesEnd.Add(time.Hour).Format(time.RFC3339)
	out := runReporter(t, bin, "rightsize", "--clickhouse-dsn", dsn, "--cluster", "shapes", "--window", rwindow, "--format", "json")
	if err := json.Unmarshal(out, &recs); err != nil {
		t.Fatalf("rightsize JSON: %v\n%s", err, out)
	}
	for _, r := range recs {
		if r.Recommended.CPURequest != nil {
			res.cpu[r.Namespace+"/"+r.Workload+"/"+r.Container] = *r.Recommended.CPURequest
		}
	}
	return res
}

// cpuWant is the CPU request each container should be recommended at shape s: the one
// recommended at 30 s, except where a burst shorter than two scrapes makes the 1-minute
// percentile invisible to any reader of these samples. There it is the percentile the
// scrapes show, worked out from the profile (CPU request = p95, at least 10m).
func cpuWant(t *testing.T, s shape, base map[string]float64) (want map[string]float64, smeared []string) {
	t.Helper()
	seen := seenP95(t, s)
	want = map[string]float64{}
	for k, w := range base {
		if p, ok := seen[k]; ok && math.Abs(relDiff(p.scraped, p.minute)) > s.cpuTol {
			w = max(p.scraped, 0.010)
			smeared = append(smeared, fmt.Sprintf("%s: 1-minute p95 %.4f, as scraped %.4f", k, p.minute, p.scraped))
		}
		want[k] = w
	}
	sort.Strings(smeared)
	return want, smeared
}

// p95 is a workload container's CPU p95 of 1-minute rates, and as its scrapes show it.
type p95 struct{ minute, scraped float64 }

// seenP95 is, per namespace/workload/container, the CPU percentile the synthetic profiles
// give at 1-minute resolution and at the shape's scrape.
func seenP95(t *testing.T, s shape) map[string]p95 {
	t.Helper()
	c, err := synthetic.New(s.options())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]p95{}
	for _, w := range c.Expected().Workloads {
		out[w.Namespace+"/"+w.Workload.Name+"/"+w.Container] = p95{w.CPUUsageP95Cores, w.CPUUsageP95ScrapeCores}
	}
	return out
}

func relDiff(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return (got - want) / want
}

// TestE2EShapes collects the same synthetic cluster as each Prometheus shape sees it and
// compares: namespace costs against the synthetic profiles (where the per-minute model is
// exact) and against the 30 s shape, CPU recommendations against the 30 s shape, costs by
// team (labelled on the namespaces only) against the namespaces' teams, and the shared
// Prometheus read without a selector, which must not pass for the cluster.
func TestE2EShapes(t *testing.T) {
	clients, exp, teamOf := loadShapes(t)
	bin := buildReporter(t)
	first, last := shapesEnd.Add(-shapesDuration).Add(time.Hour), shapesEnd
	want := expectedNamespaceCosts(t, exp, first, last)

	results := map[string]shapeResult{}
	for _, s := range shapes {
		res := collectShape(t, clients, bin, fmt.Sprintf("cluster=%q", s.label), first, last)
		results[s.label] = res
		t.Run(s.label, func(t *testing.T) {
			if len(res.costs) < len(want) || len(res.cpu) < 10 {
				t.Fatalf("%d namespaces costed (want %d), %d CPU recommendations", len(res.costs), len(want), len(res.cpu))
			}
			if s.expected {
				for ns, w := range want {
					if d := relDiff(res.costs[ns], w); math.Abs(d) > 0.001 {
						t.Errorf("namespace %s costs %.6f, the synthetic profiles %.6f (%+.3f%%)", ns, res.costs[ns], w, 100*d)
					}
				}
			}
			if s.label != shapes[0].label {
				base := results[shapes[0].label]
				for ns, w := range base.costs {
					if d := relDiff(res.costs[ns], w); math.Abs(d) > s.costTol {
						t.Errorf("namespace %s costs %.6f, %.6f with a 30 s scrape (%+.3f%%, tolerance %.1f%%)", ns, res.costs[ns], w, 100*d, 100*s.costTol)
					}
				}
				cpuWants, smeared := cpuWant(t, s, base.cpu)
				res.smeared = smeared
				for k, w := range cpuWants {
					d := relDiff(res.cpu[k], w)
					res.cpuWorst = max(res.cpuWorst, math.Abs(d))
					if math.Abs(d) > s.cpuTol {
						t.Errorf("%s: CPU request %.4f recommended, want %.4f (%+.2f%%, tolerance %.0f%%)", k, res.cpu[k], w, 100*d, 100*s.cpuTol)
					}
				}
				results[s.label] = res
			}
			teams := map[string]float64{}
			for ns, cost := range res.costs {
				if team, ok := teamOf[ns]; ok {
					teams[team] += cost
				}
			}
			for team, w := range teams {
				if d := relDiff(res.teams[team], w); math.Abs(d) > 1e-9 {
					t.Errorf("team %s costs %.9f by label:team, its namespaces %.9f", team, res.teams[team], w)
				}
			}
			if len(teams) < 4 {
				t.Errorf("only %d teams: %v", len(teams), teams)
			}
		})
	}

	t.Run("without a selector the other cluster is merged in", func(t *testing.T) {
		// The check above is only worth something if the selector matters: read without one,
		// the other cluster's pods land in the same namespaces.
		res := collectShape(t, clients, bin, "", first, last)
		results[noSelector] = res
		base, worst := results[shapes[0].label], 0.0
		for ns, w := range base.costs {
			worst = max(worst, math.Abs(relDiff(res.costs[ns], w)))
		}
		if worst < 0.05 {
			t.Errorf("without --prometheus-selector the namespace costs differ from the 30 s shape by at most %.2f%%; the other cluster was not seen", 100*worst)
		}
	})

	if path := os.Getenv("TALLY_WRITE_VALIDATION_SHAPES"); path != "" {
		if err := os.WriteFile(path, []byte(shapesTable(want, results)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// noSelector keys the results of reading the shared Prometheus without a selector.
const noSelector = "no selector"

// shapesTable renders docs/validation-shapes.md.
func shapesTable(want map[string]float64, results map[string]shapeResult) string {
	var b strings.Builder
	b.WriteString("# Prometheus shapes: one synthetic cluster, read as each set-up stores it\n\n")
	b.WriteString("Generated by `TALLY_WRITE_VALIDATION_SHAPES=$PWD/docs/validation-shapes.md go test -run TestE2EShapes -v ./internal/collector/`\n")
	b.WriteString("on the local stack. The synthetic cluster (`internal/synthetic`, 48 h ending " + shapesEnd.Format("2006-01-02") + ")\n")
	b.WriteString("is written into one Prometheus once per shape, each under its own `cluster` label, beside\n")
	b.WriteString("another cluster with the same namespaces; each shape is collected with\n")
	b.WriteString("`--prometheus-selector 'cluster=\"<shape>\"'` into a database of its own. Costs are CPU + RAM + GPU\n")
	b.WriteString("over the 47 whole hours collected, in USD; \"profiles\" is the cost the synthetic profiles imply\n")
	b.WriteString("(computed in the test, not by tally). The last column reads the shared Prometheus without a\n")
	b.WriteString("selector, as a user who forgot it would: the other cluster's pods are charged to these namespaces.\n\n")
	columns := []string{}
	for _, s := range shapes {
		columns = append(columns, s.label)
	}
	columns = append(columns, noSelector)
	b.WriteString("| namespace | profiles |")
	for _, c := range columns {
		b.WriteString(" " + c + " |")
	}
	b.WriteString("\n|---|---:|")
	for range columns {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	var names []string
	for ns := range want {
		names = append(names, ns)
	}
	sort.Strings(names)
	for _, ns := range names {
		fmt.Fprintf(&b, "| %s | %.4f |", ns, want[ns])
		for _, c := range columns {
			fmt.Fprintf(&b, " %.4f (%+.3f%%) |", results[c].costs[ns], 100*relDiff(results[c].costs[ns], want[ns]))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nCPU request recommendations against the 30 s shape's, the largest deviation over every\n")
	b.WriteString("workload container. Where a CPU burst is shorter than two scrapes, no reader of the samples can\n")
	b.WriteString("see the 1-minute percentile: the want there is the percentile the scrapes show, worked out from\n")
	b.WriteString("the profile (each minute of a scrape interval at its average rate, `docs/collector.md`).\n\n")
	b.WriteString("| shape | set-up | containers | largest CPU deviation | bursts shorter than two scrapes |\n|---|---|---:|---:|---|\n")
	for _, s := range shapes {
		fmt.Fprintf(&b, "| %s | %s | %d | %.2f%% | %s |\n", s.label, s.about, len(results[s.label].cpu), 100*results[s.label].cpuWorst,
			strings.Join(results[s.label].smeared, "; "))
	}
	return b.String()
}
