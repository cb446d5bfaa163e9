package allocation

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tally-finops/tally/internal/model"
)

// IdleMode says what Aggregate does with the cost of idle capacity.
type IdleMode string

// Idle modes. The empty IdleMode is IdleSeparate.
const (
	// IdleSeparate shows idle cost as one total named IdleName.
	IdleSeparate IdleMode = "separate"
	// IdleShare spreads each cluster's idle cost of each resource over the allocations of that
	// cluster in proportion to their cost of that resource (OpenCost's shareIdle).
	IdleShare IdleMode = "share"
	// IdleHide leaves idle cost out.
	IdleHide IdleMode = "hide"
)

// ShareMode says how shared costs are spread over the groups.
type ShareMode string

// Share modes. The empty ShareMode is ShareWeighted.
const (
	// ShareWeighted spreads in proportion to each group's own cost (CPU + RAM + GPU).
	ShareWeighted ShareMode = "weighted"
	// ShareEven gives every group the same amount.
	ShareEven ShareMode = "even"
)

// Options says how Aggregate groups rows and what it does with idle and shared costs.
type Options struct {
	By              []string // keys: cluster, node, namespace, workload, app, label:<key>; combined in order
	Idle            IdleMode
	ShareNamespaces []string  // their cost is spread over the other allocations of their cluster
	ShareMonthly    float64   // a fixed monthly overhead; ShareMonthly × WindowHours ÷ 730 is spread
	WindowHours     float64   // length of the window the rows cover
	Share           ShareMode // how shared namespaces and the overhead are spread
	// Namespaces hold the namespace labels a label:<key> falls back to for a row whose pod
	// lacks the label (or has it empty): the pod's label wins, as in OpenCost. Matched by
	// cluster and name; a later entry for the same namespace wins. Callers read them from the
	// store (the latest snapshot before the window's end) when NeedsNamespaceLabels(By).
	Namespaces []model.Namespace `json:"-"`
}

// Validate reports the first option that Aggregate cannot use.
func (o Options) Validate() error {
	if err := checkKeys(o.By); err != nil {
		return err
	}
	switch o.Idle {
	case "", IdleSeparate, IdleShare, IdleHide:
	default:
		return fmt.Errorf("unknown idle mode %q (want separate, share or hide)", string(o.Idle))
	}
	switch o.Share {
	case "", ShareWeighted, ShareEven:
	default:
		return fmt.Errorf("unknown share mode %q (want weighted or even)", string(o.Share))
	}
	for _, ns := range o.ShareNamespaces {
		if ns == "" {
			return fmt.Errorf("empty shared namespace name")
		}
	}
	if !(o.ShareMonthly >= 0) || math.IsInf(o.ShareMonthly, 0) {
		return fmt.Errorf("monthly shared cost %v: want a non-negative amount", o.ShareMonthly)
	}
	if !(o.WindowHours >= 0) || math.IsInf(o.WindowHours, 0) {
		return fmt.Errorf("window of %v hours: want a non-negative number of hours", o.WindowHours)
	}
	if o.ShareMonthly > 0 && o.WindowHours == 0 {
		return fmt.Errorf("a monthly shared cost needs the window's length in hours")
	}
	return nil
}

// Total is the cost of one group of allocations over a window. JSON names follow OpenCost's
// allocation API where the concept is the same.
type Total struct {
	Name string            `json:"name"`       // key values joined by "/", or IdleName, SharedName
	Keys map[string]string `json:"properties"` // aggregation key → value

	CPUCoreHours float64 `json:"cpuCoreHours"` // charged: Σ max(request, usage) per minute
	RAMByteHours float64 `json:"ramByteHours"`
	GPUHours     float64 `json:"gpuHours"`
	PVByteHours  float64 `json:"pvByteHours"` // the volumes' capacity the group's pods mounted

	CPURequestCoreHours float64 `json:"cpuRequestCoreHours"`
	CPUUsageCoreHours   float64 `json:"cpuUsageCoreHours"`
	RAMRequestByteHours float64 `json:"ramRequestByteHours"`
	RAMUsageByteHours   float64 `json:"ramUsageByteHours"`

	CPUCost    float64 `json:"cpuCost"`
	RAMCost    float64 `json:"ramCost"`
	GPUCost    float64 `json:"gpuCost"`
	PVCost     float64 `json:"pvCost"`     // persistent volumes (allocation.Volumes)
	SharedCost float64 `json:"sharedCost"` // of shared namespaces and the monthly overhead
	IdleCost   float64 `json:"idleCost"`   // idle spread over the group (IdleShare only)
	TotalCost  float64 `json:"totalCost"`  // CPUCost + RAMCost + GPUCost + PVCost + SharedCost + IdleCost

	CPUEfficiency   float64 `json:"cpuEfficiency"`   // CPU usage ÷ request; 0 without request
	RAMEfficiency   float64 `json:"ramEfficiency"`   // RAM usage ÷ request; 0 without request
	TotalEfficiency float64 `json:"totalEfficiency"` // the two weighted by CPUCost and RAMCost
	WasteCost       float64 `json:"wasteCost"`       // cost of requested-but-unused CPU and RAM
}

// The resources, as indices of res.
const (
	cpu = iota
	ram
	gpu
	pv // persistent volumes: no idle, spread like the others when shared
	resources
)

// res holds one number per resource.
type res [resources]float64

func (r res) sum() float64 { return r[cpu] + r[ram] + r[gpu] + r[pv] }

// group is one Total in the making and what it costs in each cluster.
type group struct {
	t  Total
	in []clusterCost
}

// clusterCost is a group's own cost of each resource in one cluster.
type clusterCost struct {
	cluster int
	cost    res
}

// pool is what one cluster holds besides its groups.
type pool struct {
	idleQty, idleCost res     // idle rows: core-hours, byte-hours, GPU-hours; their costs
	groupCost         res     // Σ of the groups' own costs
	sharedCost        res     // Σ of the shared namespaces' costs
	sharedIdle        float64 // idle cost the shared namespaces took (IdleShare)
	groups            int     // groups with rows in the cluster
	idlePerCost       res     // idle spread per unit of cost (IdleShare)
}

type aggregator struct {
	opts      Options
	keyers    []keyer
	shared    map[string]bool
	groups    []*group
	byKey     map[string]*group
	pools     []pool
	clusterOf map[string]int
	nsLabels  map[namespaceKey]map[string]string // Options.Namespaces; nil when no key needs them
	sawIdle   bool                               // an idle row was seen
	showIdle  bool                               // the IdleName total is part of the result
	idle      Total                              // what goes into the IdleName total
	leftOver  float64
	buf       []byte
}

// Aggregate groups cost rows (Hourly's, or daily sums of them) by opts.By and returns one
// Total per group, plus an IdleName total for idle cost shown separately (or that could not
// be spread) and a SharedName total for shared cost no group could take, sorted by TotalCost
// descending, then by name.
//
// In order: idle cost is shown, spread (per cluster and resource, over the groups and the
// shared namespaces in proportion to their cost of the resource) or dropped; the shared
// namespaces' cost, with the idle cost they took, is spread over the groups of their cluster;
// the window's part of the monthly overhead is spread over all groups. A group's weight for
// both is its own cost (CPU + RAM + GPU + volumes); when every weight is 0 the spread is even.
// Volume rows (Volumes) are grouped like container rows; an UnmountedName row is its own
// workload (and, for a volume without a claim, its own namespace). Nothing is
// lost: the totals add up to the rows' cost plus the overhead, without idle when it is hidden.
func Aggregate(rows []model.Allocation, opts Options) ([]Total, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("aggregate costs: %w", err)
	}
	a := &aggregator{
		opts:      opts,
		keyers:    newKeyers(opts.By),
		shared:    make(map[string]bool, len(opts.ShareNamespaces)),
		byKey:     map[string]*group{},
		clusterOf: map[string]int{},
	}
	for _, ns := range opts.ShareNamespaces {
		a.shared[ns] = true
	}
	if len(opts.Namespaces) > 0 && NeedsNamespaceLabels(opts.By) {
		a.nsLabels = make(map[namespaceKey]map[string]string, len(opts.Namespaces))
		for _, ns := range opts.Namespaces {
			a.nsLabels[namespaceKey{ns.Cluster, ns.Name}] = ns.Labels
		}
	}
	for i := range rows {
		a.add(&rows[i])
	}
	switch opts.Idle {
	case IdleShare:
		a.shareIdle()
	case IdleHide:
	default:
		a.separateIdle()
	}
	a.shareNamespaces()
	a.shareOverhead()
	return a.totals(), nil
}

func (a *aggregator) add(r *model.Allocation) {
	ci, ok := a.clusterOf[r.Cluster]
	if !ok {
		ci = len(a.pools)
		a.clusterOf[r.Cluster] = ci
		a.pools = append(a.pools, pool{})
	}
	p := &a.pools[ci]
	cost := res{r.CPUCost, r.RAMCost, r.GPUCost, r.PVCost}
	switch {
	case r.Idle:
		a.sawIdle = true
		p.idleQty[cpu] += r.CPUCoreHours
		p.idleQty[ram] += r.RAMByteHours
		p.idleQty[gpu] += r.GPUHours
		addRes(&p.idleCost, cost)
		return
	case a.shared[r.Namespace]:
		addRes(&p.sharedCost, cost)
		return
	}

	g := a.group(r)
	t := &g.t
	t.CPUCoreHours += r.CPUCoreHours
	t.RAMByteHours += r.RAMByteHours
	t.GPUHours += r.GPUHours
	t.PVByteHours += r.PVByteHours
	t.CPURequestCoreHours += r.CPURequestCoreHours
	t.CPUUsageCoreHours += r.CPUUsageCoreHours
	t.RAMRequestByteHours += r.RAMRequestByteHours
	t.RAMUsageByteHours += r.RAMUsageByteHours
	t.CPUCost += r.CPUCost
	t.RAMCost += r.RAMCost
	t.GPUCost += r.GPUCost
	t.PVCost += r.PVCost
	t.WasteCost += waste(r.CPURequestCoreHours, r.CPUUsageCoreHours, r.CPUCoreHours, r.CPUCost) +
		waste(r.RAMRequestByteHours, r.RAMUsageByteHours, r.RAMByteHours, r.RAMCost)
	addRes(&p.groupCost, cost)

	for i := range g.in {
		if g.in[i].cluster == ci {
			addRes(&g.in[i].cost, cost)
			return
		}
	}
	g.in = append(g.in, clusterCost{cluster: ci, cost: cost})
	p.groups++
}

// waste is the cost of the requested-but-unused part of a row's charged quantity: the
// request minus the usage, at the row's own unit rate (cost ÷ charged quantity).
func waste(request, usage, charged, cost float64) float64 {
	unused := min(request-usage, charged)
	if unused <= 0 || charged <= 0 {
		return 0
	}
	return unused * cost / charged
}

func addRes(dst *res, v res) {
	dst[cpu] += v[cpu]
	dst[ram] += v[ram]
	dst[gpu] += v[gpu]
	dst[pv] += v[pv]
}

// group returns the row's group, creating it.
func (a *aggregator) group(r *model.Allocation) *group {
	b := a.buf[:0]
	for i, k := range a.keyers {
		if i > 0 {
			b = append(b, 0)
		}
		b = k.appendValue(b, r, a.nsLabels)
	}
	a.buf = b
	if g, ok := a.byKey[string(b)]; ok {
		return g
	}
	values := strings.Split(string(b), "\x00")
	keys := make(map[string]string, len(values))
	for i, v := range values {
		keys[a.opts.By[i]] = v
	}
	g := &group{t: Total{Name: strings.Join(values, "/"), Keys: keys}}
	a.byKey[string(b)] = g
	a.groups = append(a.groups, g)
	return g
}

// separateIdle puts all idle rows into the IdleName total.
func (a *aggregator) separateIdle() {
	a.showIdle = a.sawIdle
	for i := range a.pools {
		p := &a.pools[i]
		a.idle.CPUCoreHours += p.idleQty[cpu]
		a.idle.RAMByteHours += p.idleQty[ram]
		a.idle.GPUHours += p.idleQty[gpu]
		a.idle.CPUCost += p.idleCost[cpu]
		a.idle.RAMCost += p.idleCost[ram]
		a.idle.GPUCost += p.idleCost[gpu]
	}
}

// shareIdle spreads each cluster's idle cost of each resource over its groups and shared
// namespaces in proportion to their cost of that resource. A resource whose idle cost cannot
// be spread (nothing in the cluster has a cost of it, e.g. an unused GPU node) stays in the
// IdleName total.
func (a *aggregator) shareIdle() {
	for i := range a.pools {
		p := &a.pools[i]
		for r := range resources {
			if p.idleCost[r] <= 0 {
				continue
			}
			base := p.groupCost[r] + p.sharedCost[r]
			if base > 0 {
				p.idlePerCost[r] = p.idleCost[r] / base
				p.sharedIdle += p.sharedCost[r] * p.idlePerCost[r]
				continue
			}
			switch r {
			case cpu:
				a.idle.CPUCoreHours += p.idleQty[r]
				a.idle.CPUCost += p.idleCost[r]
			case ram:
				a.idle.RAMByteHours += p.idleQty[r]
				a.idle.RAMCost += p.idleCost[r]
			case gpu:
				a.idle.GPUHours += p.idleQty[r]
				a.idle.GPUCost += p.idleCost[r]
			}
		}
	}
	a.showIdle = a.idle.CPUCost+a.idle.RAMCost+a.idle.GPUCost > 0
	for _, g := range a.groups {
		for _, c := range g.in {
			f := &a.pools[c.cluster].idlePerCost
			g.t.IdleCost += c.cost[cpu]*f[cpu] + c.cost[ram]*f[ram] + c.cost[gpu]*f[gpu]
		}
	}
}

// shareNamespaces spreads each cluster's shared-namespace cost (with the idle cost they took)
// over the groups of that cluster.
func (a *aggregator) shareNamespaces() {
	perCost := make([]float64, len(a.pools)) // weighted: amount per unit of own cost
	perGroup := make([]float64, len(a.pools))
	spread := false
	for i := range a.pools {
		p := &a.pools[i]
		amount := p.sharedCost.sum() + p.sharedIdle
		switch {
		case amount == 0:
			continue
		case p.groups == 0:
			a.leftOver += amount
			continue
		case a.opts.Share != ShareEven && p.groupCost.sum() > 0:
			perCost[i] = amount / p.groupCost.sum()
		default:
			perGroup[i] = amount / float64(p.groups)
		}
		spread = true
	}
	if !spread {
		return
	}
	for _, g := range a.groups {
		for _, c := range g.in {
			g.t.SharedCost += c.cost.sum()*perCost[c.cluster] + perGroup[c.cluster]
		}
	}
}

// shareOverhead spreads the window's part of the monthly overhead over all groups.
func (a *aggregator) shareOverhead() {
	amount := a.opts.ShareMonthly * a.opts.WindowHours / model.HoursPerMonth
	if amount == 0 {
		return
	}
	if len(a.groups) == 0 {
		a.leftOver += amount
		return
	}
	base := 0.0
	for _, g := range a.groups {
		base += g.t.CPUCost + g.t.RAMCost + g.t.GPUCost + g.t.PVCost
	}
	for _, g := range a.groups {
		if a.opts.Share != ShareEven && base > 0 {
			g.t.SharedCost += amount * (g.t.CPUCost + g.t.RAMCost + g.t.GPUCost + g.t.PVCost) / base
		} else {
			g.t.SharedCost += amount / float64(len(a.groups))
		}
	}
}

// totals finishes the groups and the special totals and sorts them.
func (a *aggregator) totals() []Total {
	out := make([]Total, 0, len(a.groups)+2)
	for _, g := range a.groups {
		out = append(out, finish(g.t))
	}
	if a.showIdle {
		t := a.idle
		t.Name, t.Keys = IdleName, a.specialKeys(IdleName)
		out = append(out, finish(t))
	}
	if a.leftOver > 0 {
		out = append(out, finish(Total{Name: SharedName, Keys: a.specialKeys(SharedName), SharedCost: a.leftOver}))
	}
	slices.SortStableFunc(out, func(x, y Total) int {
		if x.TotalCost != y.TotalCost {
			if x.TotalCost > y.TotalCost {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Name, y.Name)
	})
	return out
}

func (a *aggregator) specialKeys(name string) map[string]string {
	keys := make(map[string]string, len(a.opts.By))
	for _, k := range a.opts.By {
		keys[k] = name
	}
	return keys
}

// finish sets the total cost and the efficiencies.
func finish(t Total) Total {
	t.TotalCost = t.CPUCost + t.RAMCost + t.GPUCost + t.PVCost + t.SharedCost + t.IdleCost
	t.CPUEfficiency = ratio(t.CPUUsageCoreHours, t.CPURequestCoreHours)
	t.RAMEfficiency = ratio(t.RAMUsageByteHours, t.RAMRequestByteHours)
	t.TotalEfficiency = ratio(t.CPUEfficiency*t.CPUCost+t.RAMEfficiency*t.RAMCost, t.CPUCost+t.RAMCost)
	return t
}

func ratio(x, y float64) float64 {
	if y <= 0 {
		return 0
	}
	return x / y
}
