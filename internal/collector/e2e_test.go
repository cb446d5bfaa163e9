package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/kube"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/pricing"
	"github.com/tally-finops/tally/internal/prom"
	"github.com/tally-finops/tally/internal/stacktest"
	"github.com/tally-finops/tally/internal/store"
	"github.com/tally-finops/tally/internal/store/storetest"
	"github.com/tally-finops/tally/internal/synthetic"
)

const e2eBook = `currency: USD
defaults: {cpuCoreHour: 0.031611, ramGiBHour: 0.004237, gpuHour: 0.95, storageGiBMonth: 0.0365}
nodes:
  - match: {node.kubernetes.io/instance-type: m5.xlarge, karpenter.sh/capacity-type: spot}
    hourly: 0.0704
  - match: {node.kubernetes.io/instance-type: m5.xlarge}
    hourly: 0.192
  - match: {node.kubernetes.io/instance-type: g4dn.xlarge}
    hourly: 0.526
volumes:
  - match: {type: gp3}
    gibMonth: 0.073
`

// e2e is the synthetic cluster loaded into the stack's Prometheus and kube-apiserver, and a
// collector writing to a fresh ClickHouse database.
type e2e struct {
	exp   synthetic.Expected
	store *store.Store
	dsn   string
	c     *Collector
	from  time.Time // where usage collection starts: now − backfill
	now   time.Time
}

// e2eEnd is the end of the synthetic history: fixed, so the data loaded into the shared
// Prometheus is the same on every run (identical samples merge).
var e2eEnd = time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC)

var (
	e2eLoadOnce sync.Once
	e2eSyn      *synthetic.Cluster
	e2eClients  *kube.Clients
	e2eLoadErr  error
)

// loadE2E loads the synthetic cluster — 48 hours of history ending at e2eEnd, under
// namespaces and nodes of its own — into the stack's Prometheus and kube-apiserver, once per
// test binary.
func loadE2E(t *testing.T, promURL, kubeconfig string) (*synthetic.Cluster, *kube.Clients) {
	t.Helper()
	e2eLoadOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		e2eSyn, e2eLoadErr = synthetic.New(synthetic.Options{Cluster: "e2e", End: e2eEnd, Duration: 48 * time.Hour, Prefix: "e2e-"})
		if e2eLoadErr != nil {
			return
		}
		dir, err := os.MkdirTemp("", "tally-e2e-")
		if err != nil {
			e2eLoadErr = err
			return
		}
		defer os.RemoveAll(dir)
		om := filepath.Join(dir, "e2e.om")
		f, err := os.Create(om)
		if err != nil {
			e2eLoadErr = err
			return
		}
		if err := e2eSyn.WriteOpenMetrics(f); err != nil {
			f.Close()
			e2eLoadErr = err
			return
		}
		if err := f.Close(); err != nil {
			e2eLoadErr = err
			return
		}
		if out, err := exec.CommandContext(ctx, "../../hack/stack/prom-load.sh", om).CombinedOutput(); err != nil {
			e2eLoadErr = fmt.Errorf("load the synthetic series into Prometheus: %w\n%s", err, out)
			return
		}
		if e2eClients, e2eLoadErr = kube.NewClients(kubeconfig); e2eLoadErr != nil {
			return
		}
		if err := kube.Load(ctx, e2eClients, e2eSyn.Objects()); err != nil {
			e2eLoadErr = fmt.Errorf("load the synthetic objects into the API server: %w", err)
		}
	})
	if e2eLoadErr != nil {
		t.Fatal(e2eLoadErr)
	}
	return e2eSyn, e2eClients
}

func testLogger() *slog.Logger {
	if os.Getenv("TALLY_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// setUpE2E loads the synthetic cluster and returns a collector over it writing to a fresh
// ClickHouse database, with its clock at e2eEnd + 5 minutes.
func setUpE2E(t *testing.T, promOpts prom.Options) *e2e {
	t.Helper()
	promURL, kubeconfig := stacktest.PrometheusURL(t), stacktest.Kubeconfig(t)
	syn, clients := loadE2E(t, promURL, kubeconfig)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	logger := testLogger()

	s, dsn := storetest.Open(t, "tally_e2e", logger)
	book, err := pricing.Parse("e2e-prices.yaml", []byte(e2eBook))
	if err != nil {
		t.Fatal(err)
	}
	if promOpts.URL == "" {
		promOpts.URL = promURL
	}
	pc, err := prom.New(promOpts, logger)
	if err != nil {
		t.Fatal(err)
	}
	inv := kube.NewInventory(clients, "e2e", logger)
	if err := inv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Cluster: "e2e", Backfill: 48 * time.Hour},
		Deps{Store: s, Prom: pc, Inventory: inv, Prices: book}, logger, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	now := e2eEnd.Add(5 * time.Minute)
	c.now = func() time.Time { return now }
	return &e2e{exp: syn.Expected(), store: s, dsn: dsn, c: c, from: now.Add(-48 * time.Hour), now: now}
}

type ctrKey struct{ ns, pod, ctr string }

// totals are sums that a second collection must leave unchanged.
type totals struct {
	samples, dailySamples, containers, events, prices, allocations int
	cpuCoreMinutes                                                 float64
}

func (e *e2e) totals(t *testing.T) totals {
	t.Helper()
	ctx := context.Background()
	w := store.Window{Cluster: "e2e", From: e.from.Add(-time.Hour), To: e.now.Add(time.Hour)}
	samples, err := e.store.UsageSamples(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	var tot totals
	tot.samples = len(samples)
	for _, s := range samples {
		tot.cpuCoreMinutes += s.CPUUsageCores
	}
	days, err := e.store.UsageDaily(ctx, store.Window{Cluster: "e2e", From: e.from.Truncate(24 * time.Hour), To: e.now.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range days {
		tot.dailySamples += int(d.Samples)
	}
	cs, err := e.store.Containers(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	tot.containers = len(cs)
	evs, err := e.store.ContainerEvents(ctx, store.Window{Cluster: "e2e", From: e.exp.Start.Add(-24 * time.Hour), To: e.now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	tot.events = len(evs)
	ps, err := e.store.NodePrices(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	tot.prices = len(ps)
	as, err := e.store.Allocations(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	tot.allocations = len(as)
	return tot
}

// endsIn reports whether a container instance stops during the hour starting at h.
func endsIn(c synthetic.ExpectedContainer, h time.Time) bool {
	in := func(t time.Time) bool { return !t.Before(h) && t.Before(h.Add(time.Hour)) }
	for _, k := range c.OOMKills {
		if in(k.At) {
			return true
		}
	}
	return !c.RunningUntil.IsZero() && in(c.RunningUntil)
}

func TestCollectorEndToEnd(t *testing.T) {
	e := setUpE2E(t, prom.Options{})
	ctx := context.Background()
	if err := e.c.RunOnce(ctx); err != nil {
		t.Fatalf("collector --once: %v", err)
	}
	w := store.Window{Cluster: "e2e", From: e.from.Add(-time.Hour), To: e.now.Add(time.Hour)}
	bin := buildReporter(t)
	checkRightsizing(t, e, bin)

	t.Run("exactly the expected containers", func(t *testing.T) {
		cs, err := e.store.Containers(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		got := map[ctrKey]bool{}
		for _, c := range cs {
			if strings.HasPrefix(c.Namespace, "e2e-") { // the API server is shared with other tests
				got[ctrKey{c.Namespace, c.Pod, c.Container}] = true
			}
		}
		want := map[ctrKey]bool{}
		for _, c := range e.exp.Containers {
			want[ctrKey{c.Namespace, c.Pod, c.Container.Container}] = true
		}
		for k := range want {
			if !got[k] {
				t.Errorf("container %v missing from ClickHouse", k)
			}
		}
		for k := range got {
			if !want[k] {
				t.Errorf("container %v in ClickHouse is not in the synthetic cluster", k)
			}
		}
	})

	samples, err := e.store.UsageSamples(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	type hourKey struct {
		ctrKey
		hour time.Time
	}
	cpuByHour := map[hourKey]float64{}
	peak := map[ctrKey]uint64{}
	for _, s := range samples {
		k := ctrKey{s.Namespace, s.Pod, s.Container}
		cpuByHour[hourKey{k, s.Timestamp.Truncate(time.Hour)}] += s.CPUUsageCores * 60 // core-seconds
		peak[k] = max(peak[k], s.MemoryWorkingSetBytes)
	}

	t.Run("hourly CPU averages within 0.5%", func(t *testing.T) {
		checked := 0
		for _, c := range e.exp.Containers {
			k := ctrKey{c.Namespace, c.Pod, c.Container.Container}
			for _, h := range c.Hours {
				if h.Hour.Before(e.from) { // collection starts at now − backfill, inside the first hour
					continue
				}
				got := cpuByHour[hourKey{k, h.Hour}] / 3600
				// In an hour where the container stops (finished, or OOM-killed and restarted),
				// the CPU of its last half minute is never scraped: no reader can see it.
				unseen := 0.0
				if endsIn(c, h.Hour) && h.RunningMinutes > 0 {
					unseen = e.exp.Scrape.Seconds() * (h.CPUUsageCores * 3600 / float64(h.RunningMinutes*60)) / 3600
				}
				if got > h.CPUUsageCores*1.005+1e-9 || got < h.CPUUsageCores*0.995-unseen-1e-9 {
					t.Errorf("%v %s: average CPU %.6f cores, want %.6f (%s profile)", k, h.Hour.Format("01-02T15"), got, h.CPUUsageCores, c.Profile)
				}
				checked++
			}
		}
		if checked < 100 {
			t.Errorf("checked only %d container-hours", checked)
		}
	})

	t.Run("memory peaks exact", func(t *testing.T) {
		for _, c := range e.exp.Containers {
			k := ctrKey{c.Namespace, c.Pod, c.Container.Container}
			if c.MemoryPeakBytes == 0 || !c.MemoryPeakAt.After(e.from) {
				continue // no memory series, or a peak before collection starts
			}
			if peak[k] != c.MemoryPeakBytes {
				t.Errorf("%v: memory peak %d bytes, want %d (at %s, %s profile)", k, peak[k], c.MemoryPeakBytes, c.MemoryPeakAt.Format(time.RFC3339), c.Profile)
			}
		}
	})

	t.Run("the OOM kill is recorded", func(t *testing.T) {
		evs, err := e.store.ContainerEvents(ctx, store.Window{Cluster: "e2e", From: e.exp.Start.Add(-24 * time.Hour), To: e.now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		kills := map[ctrKey]bool{}
		for _, ev := range evs {
			if ev.Kind == model.EventOOMKill {
				kills[ctrKey{ev.Namespace, ev.Pod, ev.Container}] = true
			}
		}
		n := 0
		for _, c := range e.exp.Containers {
			if len(c.OOMKills) > 0 {
				n++
				if !kills[ctrKey{c.Namespace, c.Pod, c.Container.Container}] {
					t.Errorf("OOM kill of %s/%s/%s not recorded; events: %+v", c.Namespace, c.Pod, c.Container.Container, evs)
				}
			}
		}
		if n == 0 {
			t.Fatal("the synthetic cluster has no OOM-killed container")
		}
	})

	t.Run("the finished Job is recorded", func(t *testing.T) {
		cs, err := e.store.Containers(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, exp := range e.exp.Containers {
			if !exp.Finished {
				continue
			}
			n++
			found := false
			for _, c := range cs {
				if c.Namespace == exp.Namespace && c.Pod == exp.Pod && c.Container == exp.Container.Container && c.Phase == "Succeeded" {
					found = found || c.Workload.Kind == "CronJob" || c.Workload.Kind == "Job"
				}
			}
			if !found {
				t.Errorf("finished %s/%s not recorded as Succeeded under its Job or CronJob", exp.Namespace, exp.Pod)
			}
		}
		if n == 0 {
			t.Fatal("the synthetic cluster has no finished Job")
		}
	})

	t.Run("a second run changes no totals", func(t *testing.T) {
		before := e.totals(t)
		if before.samples == 0 || before.prices == 0 || before.allocations == 0 {
			t.Fatalf("nothing collected: %+v", before)
		}
		if err := e.c.RunOnce(ctx); err != nil {
			t.Fatalf("second collector --once: %v", err)
		}
		after := e.totals(t)
		if after != before {
			t.Errorf("totals changed by a second run:\nbefore %+v\n after %+v", before, after)
		}
		if before.dailySamples != before.samples {
			t.Errorf("the daily rollup counts %d samples, the raw table holds %d", before.dailySamples, before.samples)
		}
	})

	t.Run("each hour's costs add up to its node prices", func(t *testing.T) {
		// Every full hour whose usage was collected: Σ container costs + Σ idle = Σ node hourly
		// prices (every node existed the whole hour, and none is overcommitted, so no idle is
		// clamped at zero).
		first, last := e.from.Truncate(time.Hour).Add(time.Hour), e2eEnd
		rows, err := e.store.Allocations(ctx, store.Window{Cluster: "e2e", From: first, To: last})
		if err != nil {
			t.Fatal(err)
		}
		prices, err := e.store.NodePrices(ctx, store.Window{Cluster: "e2e", From: first, To: last})
		if err != nil {
			t.Fatal(err)
		}
		cost, price := map[time.Time]float64{}, map[time.Time]float64{}
		containers := 0
		for _, r := range rows {
			if strings.HasPrefix(r.Node, "e2e-") {
				cost[r.Hour] += r.TotalCost()
				if !r.Idle {
					containers++
				}
			}
		}
		for _, p := range prices {
			if strings.HasPrefix(p.Node, "e2e-") {
				price[p.Hour] += p.HourlyCost
			}
		}
		hours := int(last.Sub(first) / time.Hour)
		if len(price) != hours || len(cost) != hours || containers == 0 {
			t.Fatalf("%d priced hours, %d costed hours, %d container rows; want %d hours", len(price), len(cost), containers, hours)
		}
		for h, p := range price {
			if d := cost[h] - p; d > 1e-9*p || d < -1e-9*p {
				t.Errorf("hour %s: costs add up to %.9f, node prices to %.9f", h.Format("01-02T15"), cost[h], p)
			}
		}
	})

	t.Run("the cost report by namespace adds up to the node cost", func(t *testing.T) {
		// What reporter costs reads (whole days from the daily rollup, the rest hourly), grouped
		// by namespace with idle separate: the namespaces plus idle equal the nodes' prices
		// over the window within 0.01%, and every synthetic namespace has a cost.
		first, last := e.from.Truncate(time.Hour).Add(time.Hour), e2eEnd
		all, err := e.store.CostRows(ctx, "e2e", first, last)
		if err != nil {
			t.Fatal(err)
		}
		var rows []model.Allocation // the API server is shared with other tests: this cluster's nodes only
		for _, r := range all {
			if strings.HasPrefix(r.Node, "e2e-") {
				rows = append(rows, r)
			}
		}
		totals, err := allocation.Aggregate(rows, allocation.Options{By: []string{"namespace"}, Idle: allocation.IdleSeparate,
			WindowHours: last.Sub(first).Hours()})
		if err != nil {
			t.Fatal(err)
		}
		prices, err := e.store.NodePrices(ctx, store.Window{Cluster: "e2e", From: first, To: last})
		if err != nil {
			t.Fatal(err)
		}
		var nodeCost, reported float64
		for _, r := range rows { // the volumes the pods mount, checked in "volume costs ..."
			reported -= r.PVCost
		}
		for _, p := range prices {
			if strings.HasPrefix(p.Node, "e2e-") {
				nodeCost += p.HourlyCost
			}
		}
		seen := map[string]bool{}
		for _, tot := range totals {
			if tot.Name == allocation.IdleName || strings.HasPrefix(tot.Name, "e2e-") {
				reported += tot.TotalCost
				seen[tot.Name] = tot.TotalCost > 0
			}
		}
		if d := reported - nodeCost; d > 1e-4*nodeCost || d < -1e-4*nodeCost {
			t.Errorf("namespaces + idle = %.6f, node cost of the window = %.6f", reported, nodeCost)
		}
		for _, c := range e.exp.Containers {
			if !seen[c.Namespace] {
				t.Errorf("namespace %s has no cost in the report", c.Namespace)
			}
		}
	})

	t.Run("namespace costs within 0.1% of the synthetic cluster's", func(t *testing.T) {
		// The expected cost of every container-hour, from the synthetic profiles' charged
		// quantities (Σ per minute of max(request, usage)) and each node's unit rates worked
		// out here from the price book (OpenCost's split), summed per namespace; against what
		// the cost report reads back (daily rollup + hourly rows) and groups by namespace.
		first, last := e.from.Truncate(time.Hour).Add(time.Hour), e2eEnd
		want := expectedNamespaceCosts(t, e.exp, first, last)
		// The reporter itself: reporter costs --by namespace --format json.
		cmd := exec.Command(bin, "costs", "--clickhouse-dsn", e.dsn, "--cluster", "e2e", "--by", "namespace", "--format", "json",
			"--window", first.Format(time.RFC3339)+","+last.Format(time.RFC3339))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("reporter costs: %v\n%s", err, stderr.String())
		}
		var totals []allocation.Total
		if err := json.Unmarshal(out, &totals); err != nil {
			t.Fatalf("reporter costs JSON: %v\n%s", err, out)
		}
		got := map[string]float64{}
		for _, tot := range totals {
			got[tot.Name] = tot.CPUCost + tot.RAMCost + tot.GPUCost
		}
		worst := 0.0
		for ns, w := range want {
			g := got[ns]
			if g < w*0.999 || g > w*1.001 {
				t.Errorf("namespace %s costs %.6f, want %.6f (%+.3f%%)", ns, g, w, 100*(g-w)/w)
			}
			worst = max(worst, math.Abs(g-w)/w)
		}
		t.Logf("%d namespaces, largest deviation %.4f%%", len(want), 100*worst)
		if len(want) < 5 {
			t.Errorf("only %d namespaces expected", len(want))
		}
	})

	t.Run("volume costs as worked out from the synthetic volumes", func(t *testing.T) { checkVolumeCosts(t, e) })

	t.Run("prices of every node and hour", func(t *testing.T) {
		ps, err := e.store.NodePrices(ctx, store.Window{Cluster: "e2e", From: e.from.Truncate(time.Hour), To: e.now.Truncate(time.Hour).Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		perNode := map[string]int{}
		for _, p := range ps {
			if strings.HasPrefix(p.Node, "e2e-") {
				perNode[p.Node]++
				if strings.Contains(p.InstanceType, "g4dn") && p.HourlyCost != 0.526 {
					t.Errorf("%s at %s costs %v, want the g4dn rule's 0.526", p.Node, p.Hour, p.HourlyCost)
				}
			}
		}
		hours := int(e.now.Truncate(time.Hour).Add(time.Hour).Sub(e.from.Truncate(time.Hour)) / time.Hour)
		var nodes []string
		for _, n := range e.exp.Nodes {
			nodes = append(nodes, n.Name)
			if perNode[n.Name] != hours {
				t.Errorf("node %s priced for %d hours, want %d", n.Name, perNode[n.Name], hours)
			}
		}
		sort.Strings(nodes)
		if len(nodes) == 0 {
			t.Fatal("no expected nodes")
		}
	})
}

// expectedNamespaceCosts is the expected CPU + RAM + GPU cost of every namespace over the
// hours [first, last), from the synthetic profiles' charged quantities (Σ per minute of
// max(request, usage)) and each node's unit rates worked out here from e2eBook (OpenCost's
// split) — independently of the allocator.
func expectedNamespaceCosts(t *testing.T, exp synthetic.Expected, first, last time.Time) map[string]float64 {
	t.Helper()
	type rates struct{ cpu, ramGiB, gpu float64 }
	nodeRates := map[string]rates{}
	for _, n := range exp.Nodes {
		price := 0.0
		switch {
		case n.InstanceType == "m5.xlarge" && n.CapacityType == model.CapacitySpot:
			price = 0.0704
		case n.InstanceType == "m5.xlarge":
			price = 0.192
		case n.InstanceType == "g4dn.xlarge":
			price = 0.526
		}
		cores, gib, gpus := n.CPUCapacityCores, float64(n.MemoryCapacityBytes)/(1<<30), n.GPUCapacity
		wCPU, wRAM, wGPU := cores*0.031611, gib*0.004237, gpus*0.95
		if price == 0 { // no rule: the defaults price the node
			price = wCPU + wRAM + wGPU
		}
		r := rates{cpu: price * wCPU / (wCPU + wRAM + wGPU) / cores, ramGiB: price * wRAM / (wCPU + wRAM + wGPU) / gib}
		if gpus > 0 {
			r.gpu = price * wGPU / (wCPU + wRAM + wGPU) / gpus
		}
		nodeRates[n.Name] = r
	}
	want := map[string]float64{}
	for _, c := range exp.Containers {
		r, ok := nodeRates[c.Node]
		if !ok {
			t.Fatalf("no rates for node %q", c.Node)
		}
		for _, h := range c.Hours {
			if h.Hour.Before(first) || !h.Hour.Before(last) {
				continue
			}
			want[c.Namespace] += h.CPUChargedCoreMinutes/60*r.cpu + h.RAMChargedByteMinutes/60/(1<<30)*r.ramGiB +
				c.GPURequest*float64(h.RunningMinutes)/60*r.gpu
		}
	}
	return want
}
