// Package synthetic generates a small, deterministic Kubernetes cluster for tests and the
// demo. From one set of workload profiles it produces three views that agree with each other:
//
//   - Objects: the k8s.io/api objects to create in an API server (namespaces, nodes, the full
//     owner chains with deterministic UIDs, pods with their status, an HPA, OOM-kill events);
//   - WriteOpenMetrics: the cAdvisor and kube-state-metrics series a Prometheus would have
//     scraped over the history, as OpenMetrics text for `promtool tsdb create-blocks-from`;
//   - Expected: the values a correct reader must find (running minutes, hourly CPU, memory
//     peaks, OOM kills, per-workload p95 of 1-minute CPU rates ...), computed from the
//     profiles' closed-form integrals and by evaluating the profile functions — never by
//     tally's own code.
//
// The profiles are steady, diurnal (a + b·sin(2πt/24h)), spiky (bursts above the request in
// the middle of every hour, CFS-throttled), slow memory growth, OOM-killed (working set climbs
// to the limit, the container is killed and restarted), a finished CronJob run, a DaemonSet on
// every node, a GPU workload, a too-young Deployment (6 h of data), a BestEffort bare pod, a
// Burstable pod with request ≠ limit and a Guaranteed one.
//
// Options give the same cluster the shapes of real Prometheus set-ups: scrapes from 1 s to
// 5 min, a cluster label (one Prometheus for many clusters), duplicated series (an HA pair,
// two jobs scraping cAdvisor, the kubelet's /metrics/resource) and teams labelled on the
// namespaces only (docs/validation.md). Nothing here reads a clock: all
// times derive from Options.End, and the same Options give byte-identical output.
package synthetic

import (
	"errors"
	"fmt"
	"time"
)

// Options shape the synthetic cluster.
type Options struct {
	Cluster  string        // cluster name; default "synthetic"
	End      time.Time     // exclusive end of the history, minute-aligned (required); converted to UTC
	Duration time.Duration // history length, whole minutes, 24h to 35 days; default 48h
	// Scrape is the scrape interval: whole seconds dividing one minute, or whole minutes up to
	// 5 dividing Duration; default 30s. Expected's per-minute model needs a divisor of a minute.
	Scrape time.Duration
	Scale  int // replica multiplier for load tests (1 to 10000); default 1
	// Prefix is prepended to every namespace and node name, so that several synthetic
	// clusters can share one Prometheus or API server over the same time range. Default "".
	Prefix string

	// The shapes of real Prometheus set-ups:

	// ClusterLabel, when set, adds cluster="<ClusterLabel>" to every series, as a Prometheus
	// (Thanos, Mimir, VictoriaMetrics) shared by several clusters stores them.
	ClusterLabel string
	// Duplicates emits every series twice, from an HA pair written into one store without
	// deduplication (prometheus_replica="prometheus-0" and "prometheus-1"); each cAdvisor
	// series also under a second scrape job (job="kubernetes-cadvisor"); and the kubelet's
	// /metrics/resource CPU and working-set series, which carry no id label. Every copy has
	// the same samples: a correct reader counts each container once.
	Duplicates bool
	// TeamsOnNamespaces puts the team label on namespaces only: pods and their owners carry
	// none (by default both do).
	TeamsOnNamespaces bool
}

// Limits of Options.
const (
	MinDuration = 24 * time.Hour
	MaxDuration = 35 * 24 * time.Hour
	MaxScale    = 10000
)

// Cluster is a generated synthetic cluster. It is immutable and safe for concurrent use.
type Cluster struct {
	opts       Options
	start      int64 // Unix seconds, first scrape
	end        int64 // Unix seconds, last scrape (Options.End)
	scrape     int64 // seconds
	nodes      []*node
	namespaces []namespace
	workloads  []*workload
	pods       []*pod       // in creation order
	containers []*container // sorted by namespace, pod, container
	volumes    []*volume
	podIPs     int // pod IPs handed out during layout
}

type namespace struct {
	name, team string
	uid        string
	created    int64
}

// New validates the options, fills in defaults and lays out the cluster.
func New(opts Options) (*Cluster, error) {
	if opts.Cluster == "" {
		opts.Cluster = "synthetic"
	}
	if opts.Duration == 0 {
		opts.Duration = 48 * time.Hour
	}
	if opts.Scrape == 0 {
		opts.Scrape = 30 * time.Second
	}
	if opts.Scale == 0 {
		opts.Scale = 1
	}
	opts.End = opts.End.UTC()
	switch {
	case opts.End.IsZero():
		return nil, errors.New("synthetic options: End is required")
	case !opts.End.Truncate(time.Minute).Equal(opts.End):
		return nil, fmt.Errorf("synthetic options: End %s is not minute-aligned", opts.End.Format(time.RFC3339Nano))
	case opts.Duration < MinDuration || opts.Duration > MaxDuration:
		return nil, fmt.Errorf("synthetic options: Duration %s is outside [%s, %s]", opts.Duration, MinDuration, MaxDuration)
	case opts.Duration%time.Minute != 0:
		return nil, fmt.Errorf("synthetic options: Duration %s is not a whole number of minutes", opts.Duration)
	case !validScrape(opts.Scrape, opts.Duration):
		return nil, fmt.Errorf("synthetic options: Scrape %s neither divides one minute into whole seconds nor is whole minutes up to 5 dividing Duration", opts.Scrape)
	case opts.Scale < 1 || opts.Scale > MaxScale:
		return nil, fmt.Errorf("synthetic options: Scale %d is outside [1, %d]", opts.Scale, MaxScale)
	case len(opts.Prefix) > 20:
		return nil, fmt.Errorf("synthetic options: Prefix %q is longer than 20 characters", opts.Prefix)
	}
	c := &Cluster{
		opts:   opts,
		end:    opts.End.Unix(),
		start:  opts.End.Add(-opts.Duration).Unix(),
		scrape: int64(opts.Scrape / time.Second),
	}
	c.layout()
	return c, nil
}

// validScrape reports whether scrape is whole seconds dividing a minute, or whole minutes up
// to 5 dividing the history (so that End is a scrape time).
func validScrape(scrape, duration time.Duration) bool {
	if scrape < time.Second || scrape%time.Second != 0 {
		return false
	}
	if scrape <= time.Minute {
		return time.Minute%scrape == 0
	}
	return scrape%time.Minute == 0 && scrape <= 5*time.Minute && duration%scrape == 0
}

// Options returns the options with defaults filled in.
func (c *Cluster) Options() Options { return c.opts }

// Start is the first scrape time: End − Duration.
func (c *Cluster) Start() time.Time { return unixTime(c.start) }

func unixTime(s int64) time.Time { return time.Unix(s, 0).UTC() }

const (
	minute = int64(60)
	hour   = int64(secondsPerHour)
	// forever marks a container or pod that still runs at End.
	forever = int64(1) << 62
)

// node is one node of the cluster; its class decides its shape and price labels.
type node struct {
	name    string
	uid     string
	class   nodeClass
	index   int // position in c.nodes
	ip      string
	created int64
}

type nodeClass struct {
	instanceType string
	zone         string
	capacityType string
	nodePool     string
	cpuMilli     int64
	cpuAllocMill int64
	memory       int64
	memoryAlloc  int64
	storage      int64
	storageAlloc int64
	pods         int64
	gpus         int64
}

const (
	gib    = int64(1) << 30
	mib    = int64(1) << 20
	region = "eu-west-1"
)

// nodeClasses are the nodes of one cell; Scale repeats the cell. The last one only ever
// runs DaemonSet pods (idle capacity).
func nodeClasses() []nodeClass {
	xlarge := nodeClass{instanceType: "m5.xlarge", capacityType: "on-demand", nodePool: "general",
		cpuMilli: 4000, cpuAllocMill: 3920, memory: 16 * gib, memoryAlloc: 15 * gib,
		storage: 80 * gib, storageAlloc: 76 * gib, pods: 58}
	a, b, spot := xlarge, xlarge, xlarge
	a.zone = region + "a"
	b.zone = region + "b"
	spot.zone, spot.capacityType = region+"c", "spot"
	gpu := nodeClass{instanceType: "g4dn.xlarge", zone: region + "a", capacityType: "on-demand",
		nodePool: "gpu", cpuMilli: 4000, cpuAllocMill: 3920, memory: 16 * gib, memoryAlloc: 15 * gib,
		storage: 125 * gib, storageAlloc: 119 * gib, pods: 29, gpus: 1}
	idle := nodeClass{instanceType: "m5.large", zone: region + "b", capacityType: "on-demand",
		nodePool: "general", cpuMilli: 2000, cpuAllocMill: 1930, memory: 8 * gib, memoryAlloc: 7 * gib,
		storage: 80 * gib, storageAlloc: 76 * gib, pods: 29}
	return []nodeClass{a, b, spot, gpu, idle}
}

// Node slots: indices into nodeClasses. No workload is placed on the last one, the idle
// m5.large.
const (
	slotA = iota
	slotB
	slotSpot
	slotGPU
)

func (c *Cluster) layout() {
	o := c.opts
	classes := nodeClasses()
	for cell := range o.Scale {
		for i, cl := range classes {
			ip := fmt.Sprintf("10.%d.%d.%d", cell/256, cell%256, 10+i)
			name := fmt.Sprintf("%sip-10-%d-%d-%d.%s.compute.internal", o.Prefix, cell/256, cell%256, 10+i, region)
			c.nodes = append(c.nodes, &node{
				name: name, uid: c.uid("Node", "", name), class: cl, index: len(c.nodes), ip: ip,
				created: c.start - 96*hour + int64(len(c.nodes)%60)*minute,
			})
		}
	}
	specs := c.catalog()
	seen := map[string]bool{}
	for _, s := range specs {
		if !seen[s.namespace] {
			seen[s.namespace] = true
			ns := o.Prefix + s.namespace
			c.namespaces = append(c.namespaces, namespace{name: ns, team: s.team,
				uid: c.uid("Namespace", "", ns), created: c.start - 100*hour})
		}
		c.workloads = append(c.workloads, c.expand(s))
	}
	for _, w := range c.workloads {
		c.pods = append(c.pods, w.pods...)
	}
	for _, p := range c.pods {
		c.containers = append(c.containers, p.containers...)
	}
	sortContainers(c.containers)
	c.layoutVolumes()
}
