package dashboards

// The demo dataset the dashboards' queries are executed against: two weeks of the synthetic
// cluster (internal/synthetic) as rows of every table the dashboards read. Inventory, usage
// and OOM kills come from the synthetic cluster's expected values; costs from the allocation
// engine over a price book; recommendations from the rightsizing engine.

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/pricing"
	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/synthetic"
)

const (
	demoCluster = "demo"
	// Two weeks, so that the week-over-week panel has a week before the last one.
	demoDuration = 14 * 24 * time.Hour
	// demoRecommendationDays are the days with stored recommendations, the last being the
	// history's end.
	demoRecommendationDays = 3
)

// demoBook prices the synthetic nodes: the on-demand m5.xlarge and the GPU node by rule, the
// spot m5.xlarge for less (and rising by the day, see newDemo), the idle m5.large at the
// default rates.
const demoBook = `currency: USD
defaults: {cpuCoreHour: 0.031611, ramGiBHour: 0.004237, gpuHour: 0.95}
nodes:
  - match: {node.kubernetes.io/instance-type: m5.xlarge, karpenter.sh/capacity-type: spot}
    hourly: 0.0704
  - match: {node.kubernetes.io/instance-type: m5.xlarge}
    hourly: 0.192
  - match: {node.kubernetes.io/instance-type: g4dn.xlarge}
    hourly: 0.526
`

// demoTeamOnNamespace is the namespace whose team is labelled on the namespace only.
const demoTeamOnNamespace = "data"

// demoEnd is the end of the demo history: the last midnight (UTC). It is recent, not fixed,
// because migration 0006 gives the raw tables a 400-day TTL on modern servers, which delete
// older rows right after the insert.
func demoEnd() time.Time { return time.Now().UTC().Truncate(24 * time.Hour) }

// recommendationDay is one day's stored recommendations, made from [from, to).
type recommendationDay struct {
	day, from, to time.Time
	recs          []rightsizing.Recommendation
}

type autoscalerSnapshot struct {
	at  time.Time
	set []model.Autoscaler
}

// demo is the dataset, as the model structs the store writes.
type demo struct {
	start, end      time.Time
	nodes           []model.Node // one snapshot per node and hour
	containers      []model.Container
	samples         []model.UsageSample
	events          []model.ContainerEvent
	prices          []model.NodePrice
	allocations     []model.Allocation
	autoscalers     []autoscalerSnapshot
	recommendations []recommendationDay
	// namespaceSnapshots are the namespaces with their team label, once a day. The pods of
	// demoTeamOnNamespace carry no team label of their own: the cost-by-team panel must take
	// their namespace's.
	namespaceSnapshots []model.Namespace
	// rightsized is the workload container whose requests were lowered between the first and
	// the last recommendation day: the realised savings.
	rightsized rightsizing.Recommendation
}

func newDemo(t testing.TB) *demo {
	t.Helper()
	syn, err := synthetic.New(synthetic.Options{Cluster: demoCluster, End: demoEnd(), Duration: demoDuration})
	if err != nil {
		t.Fatal(err)
	}
	exp := syn.Expected()
	d := &demo{start: exp.Start, end: exp.End}
	book, err := pricing.Parse("demo-prices.yaml", []byte(demoBook))
	if err != nil {
		t.Fatal(err)
	}

	// Nodes and their prices, every hour.
	var nodeHours []model.NodeHour
	for h := d.start; h.Before(d.end); h = h.Add(time.Hour) {
		for _, n := range exp.Nodes {
			n.ObservedAt = h
			d.nodes = append(d.nodes, n)
			p := book.Price(n)
			p.Hour = h
			if n.CapacityType == model.CapacitySpot {
				// Spot prices move: 3% up every day of the history, so that the weeks differ.
				f := 1 + 0.03*float64(h.Sub(d.start)/(24*time.Hour))
				p.HourlyCost, p.CPUCoreHourCost, p.RAMGiBHourCost, p.GPUHourCost =
					f*p.HourlyCost, f*p.CPUCoreHourCost, f*p.RAMGiBHourCost, f*p.GPUHourCost
			}
			d.prices = append(d.prices, p)
			nodeHours = append(nodeHours, model.NodeHour{Cluster: n.Cluster, Node: n.Name, Hour: h, Minutes: 60,
				CPUCores: n.CPUCapacityCores, RAMBytes: float64(n.MemoryCapacityBytes), GPUs: n.GPUCapacity,
				Price: p, Priced: true})
		}
	}

	// Containers: an inventory snapshot at the start of every hour they ran, a 1-minute
	// sample for every minute they ran, and what each hour charged them.
	var containerHours []model.ContainerHour
	teams := map[string]string{} // namespace → team
	for _, ct := range exp.Containers {
		if team := ct.Labels["team"]; team != "" {
			teams[ct.Namespace] = team
		}
		costLabels := ct.Labels
		if ct.Namespace == demoTeamOnNamespace {
			costLabels = maps.Clone(ct.Labels)
			delete(costLabels, "team")
		}
		from, to := maxTime(ct.RunningFrom, d.start), d.end
		if ct.Finished {
			to = ct.RunningUntil
		}
		var periods, throttled float64
		if ct.RunningMinutes > 0 {
			periods = ct.CPUPeriods / float64(ct.RunningMinutes)
			throttled = ct.CPUThrottledPeriods / float64(ct.RunningMinutes)
		}
		for _, h := range ct.Hours {
			a, b := maxTime(h.Hour, from), minTime(h.Hour.Add(time.Hour), to)
			minutes := int(b.Sub(a) / time.Minute)
			if minutes != h.RunningMinutes || minutes <= 0 {
				t.Fatalf("%s/%s/%s at %s: %d running minutes from its run, %d expected", ct.Namespace, ct.Pod,
					ct.Container.Container, h.Hour, minutes, h.RunningMinutes)
			}
			snap := ct.Container
			snap.ObservedAt, snap.Phase, snap.FinishedAt = h.Hour, "Running", time.Time{}
			d.containers = append(d.containers, snap)

			// The hour's CPU evenly over its running minutes; the working set is the hour's
			// average charged memory (max of request and working set) capped at the
			// container's peak, which is the working set whenever it stays under the request.
			cpu := h.CPUUsageCores * 60 / float64(minutes)
			ws := min(h.RAMChargedByteMinutes/float64(minutes), float64(ct.MemoryPeakBytes))
			for m := a; m.Before(b); m = m.Add(time.Minute) {
				d.samples = append(d.samples, model.UsageSample{Cluster: demoCluster, Timestamp: m,
					Namespace: ct.Namespace, Workload: ct.Workload, Pod: ct.Pod, Container: ct.Container.Container,
					CPUUsageCores: cpu, MemoryWorkingSetBytes: uint64(ws), CPUThrottledPeriods: throttled, CPUPeriods: periods})
			}
			containerHours = append(containerHours, model.ContainerHour{Cluster: demoCluster, Node: ct.Node,
				Namespace: ct.Namespace, Pod: ct.Pod, Container: ct.Container.Container, Workload: ct.Workload,
				App: model.AppOf(ct.Labels), Labels: costLabels, Hour: h.Hour, RunningMinutes: minutes,
				CPURequestCores: ct.CPURequestCores, RAMRequestBytes: float64(ct.MemoryRequestBytes), GPURequest: ct.GPURequest,
				CPUChargedCoreMinutes: h.CPUChargedCoreMinutes, RAMChargedByteMinutes: h.RAMChargedByteMinutes,
				CPUUsageCoreMinutes: cpu * float64(minutes), RAMUsageByteMinutes: ws * float64(minutes)})
		}
		for _, k := range ct.OOMKills {
			d.events = append(d.events, model.ContainerEvent{Cluster: demoCluster, Timestamp: k.At,
				Namespace: ct.Namespace, Workload: ct.Workload, Pod: ct.Pod, Container: ct.Container.Container,
				Node: ct.Node, Kind: model.EventOOMKill, Reason: "OOMKilled",
				Message: "container exceeded its memory limit", Count: 1, MemoryLimitBytes: k.MemoryLimitBytes})
		}
	}
	var warnings []string
	d.allocations, warnings = allocation.Hourly(containerHours, nodeHours)
	if len(warnings) > 0 {
		t.Fatalf("allocation warnings: %v", warnings)
	}

	if teams[demoTeamOnNamespace] == "" {
		t.Fatalf("the synthetic cluster has no team in namespace %s", demoTeamOnNamespace)
	}
	for day := d.start; day.Before(d.end); day = day.Add(24 * time.Hour) {
		d.autoscalers = append(d.autoscalers, autoscalerSnapshot{at: day, set: exp.Autoscalers})
		for _, ns := range slices.Sorted(maps.Keys(teams)) {
			d.namespaceSnapshots = append(d.namespaceSnapshots, model.Namespace{Cluster: demoCluster, ObservedAt: day,
				Name: ns, Labels: map[string]string{"team": teams[ns]}})
		}
	}
	d.recommend(t, exp)
	if len(d.samples) == 0 || len(d.allocations) == 0 || len(d.events) == 0 || len(d.autoscalers) == 0 {
		t.Fatalf("demo dataset misses rows: %d samples, %d allocations, %d OOM kills, %d autoscaler snapshots",
			len(d.samples), len(d.allocations), len(d.events), len(d.autoscalers))
	}
	return d
}

// recommend stores, for each of the last demoRecommendationDays days, the recommendations
// of every workload container over its data. On the first of those days, the workload
// container with the largest savings still had twice its CPU request and 1.5 times its
// memory request: it was rightsized since, which the realised-savings panel shows.
func (d *demo) recommend(t testing.TB, exp synthetic.Expected) {
	var cpuRate, ramRate float64
	for _, p := range d.prices {
		cpuRate += p.CPUCoreHourCost
		ramRate += p.RAMGiBHourCost
	}
	prices := model.UnitPrices{Currency: "USD", CPUCoreHourCost: cpuRate / float64(len(d.prices)),
		RAMGiBHourCost: ramRate / float64(len(d.prices))}
	oomLimit := map[string]float64{} // by namespace/workload/container
	for _, ct := range exp.Containers {
		for _, k := range ct.OOMKills {
			key := ct.Namespace + "/" + ct.Workload.Name + "/" + ct.Container.Container
			oomLimit[key] = max(oomLimit[key], float64(k.MemoryLimitBytes))
		}
	}
	usage := func(w synthetic.ExpectedWorkload, grown bool) model.WorkloadUsage {
		u := model.WorkloadUsage{Cluster: demoCluster, Namespace: w.Namespace, Workload: w.Workload, Container: w.Container,
			Samples: w.Samples, CPUQuantileCores: w.CPUUsageP95Cores, CPUMaxCores: w.CPUUsageMaxCores,
			MemoryPeakBytes: float64(w.MemoryPeakBytes), CPUThrottledPeriods: w.CPUThrottledPeriods, CPUPeriods: w.CPUPeriods,
			Pods: w.Pods, FirstSample: w.FirstMinute, LastSample: w.LastMinute, HasCurrent: true,
			CPURequestCores: w.CPURequestCores, CPULimitCores: w.CPULimitCores,
			MemoryRequestBytes: float64(w.MemoryRequestBytes), MemoryLimitBytes: float64(w.MemoryLimitBytes),
			OOMKills: w.OOMKills, MemoryLimitAtOOMBytes: oomLimit[w.Namespace+"/"+w.Workload.Name+"/"+w.Container],
			HPAResources: w.HPAResources}
		if grown {
			u.CPURequestCores *= 2
			u.MemoryRequestBytes *= 1.5
		}
		return u
	}
	policy := rightsizing.DefaultPolicy()
	recommendAll := func(grown int) []rightsizing.Recommendation {
		recs := make([]rightsizing.Recommendation, len(exp.Workloads))
		for i, w := range exp.Workloads {
			recs[i] = rightsizing.Recommend(rightsizing.StatsFrom(usage(w, i == grown), 14*24*time.Hour, policy.CPUPercentile, prices), policy)
		}
		return recs
	}
	current := recommendAll(-1)
	best := -1
	for i, r := range current {
		if r.MonthlySavings > 0 && (best < 0 || r.MonthlySavings > current[best].MonthlySavings) {
			best = i
		}
	}
	if best < 0 {
		t.Fatal("no recommendation of the demo saves money")
	}
	d.rightsized = current[best]
	for i := demoRecommendationDays - 1; i >= 0; i-- {
		day := d.end.AddDate(0, 0, -i)
		recs := current
		if i == demoRecommendationDays-1 {
			recs = recommendAll(best)
		}
		d.recommendations = append(d.recommendations, recommendationDay{day: day, from: day.AddDate(0, 0, -14), to: day, recs: recs})
	}
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

// ---------------------------------------------------------------------------------------------
// What the demo's key panels must show, worked out in Go from the rows themselves.

func (d *demo) totalCost() (total, idle float64) {
	for _, a := range d.allocations {
		total += a.TotalCost()
		if a.Idle {
			idle += a.TotalCost()
		}
	}
	return total, idle
}

// weekOverWeek is the cost of the 7 days before the end's day against the 7 before those.
func (d *demo) weekOverWeek() float64 {
	var this, last float64
	for _, a := range d.allocations {
		switch {
		case !a.Hour.Before(d.end.AddDate(0, 0, -7)):
			this += a.TotalCost()
		case !a.Hour.Before(d.end.AddDate(0, 0, -14)):
			last += a.TotalCost()
		}
	}
	return (this - last) / last
}

func (d *demo) namespaces() map[string]bool {
	out := map[string]bool{}
	for _, a := range d.allocations {
		out[a.Namespace] = true
	}
	return out
}

// potentialSavings sums the positive savings of the last recommendation day.
func (d *demo) potentialSavings() (sum float64, n int) {
	for _, r := range d.recommendations[len(d.recommendations)-1].recs {
		if r.MonthlySavings > 0 {
			sum += r.MonthlySavings
			n++
		}
	}
	return sum, n
}

func (d *demo) realisedSavings() float64 {
	first := d.recommendations[0].recs
	for _, r := range first {
		if r.Namespace == d.rightsized.Namespace && r.Workload == d.rightsized.Workload && r.Container == d.rightsized.Container {
			return r.MonthlySavings - d.rightsized.MonthlySavings
		}
	}
	return 0
}

func (d *demo) oomKills() int { return len(d.events) }

// requestNotLimit counts the running containers of the last snapshot whose memory limit
// differs from the request.
func (d *demo) requestNotLimit() int {
	var last time.Time
	for _, c := range d.containers {
		last = maxTime(last, c.ObservedAt)
	}
	n := 0
	for _, c := range d.containers {
		if c.ObservedAt.Equal(last) && c.MemoryLimitBytes != c.MemoryRequestBytes {
			n++
		}
	}
	return n
}

func (d *demo) nodeCost() float64 {
	var sum float64
	for _, p := range d.prices {
		sum += p.HourlyCost
	}
	return sum
}

func (d *demo) nodeNames() map[string]bool {
	out := map[string]bool{}
	for _, n := range d.nodes {
		out[n.Name] = true
	}
	return out
}
