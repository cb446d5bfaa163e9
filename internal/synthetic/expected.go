package synthetic

import (
	"sort"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// Expected is what a correct reader of the synthetic cluster must find. Every value comes
// from the workload profiles themselves: CPU from the closed-form integral of the usage rate,
// working sets by evaluating the profile at the emitted scrape times. The window is
// [Start, End): minutes and hours are those of the window; memory peaks also include the
// sample at End, which a Prometheus range [End−Duration, End] contains.
type Expected struct {
	Cluster     string
	Start       time.Time // first scrape: End − Duration
	End         time.Time // last scrape, exclusive end of the window
	Scrape      time.Duration
	Nodes       []model.Node        // as at End (ObservedAt = End)
	Containers  []ExpectedContainer // sorted by namespace, pod, container
	Workloads   []ExpectedWorkload  // one per workload container, pods pooled
	Autoscalers []model.Autoscaler
	Volumes     []ExpectedVolume // in layout order: the StatefulSet's, then data/backup, then the Released one
}

// ExpectedContainer is one container of one pod. The embedded model.Container is the
// container as an inventory reads it from the API at End (PodUID is the synthetic UID, the
// one kube-state-metrics' uid label carries; StartedAt is the current instance's start).
type ExpectedContainer struct {
	model.Container
	Profile string // one of the Profile* constants
	// RunningFrom is when the pod's container first started (it may be before Start);
	// RunningUntil is when it finished, zero when it runs at End. OOM restarts are immediate,
	// so the container runs without a gap in between.
	RunningFrom  time.Time
	RunningUntil time.Time
	Finished     bool // the pod Succeeded before End
	// RunningMinutes is the number of minutes of the window during which it ran.
	RunningMinutes int
	// CPUUsageCoreSeconds is the CPU used during the window.
	CPUUsageCoreSeconds float64
	// Hours holds the clock hours lying entirely inside the window in which it ran.
	Hours []ExpectedHour
	// MemoryPeakBytes is the largest working-set sample emitted at a scrape time in
	// [Start, End]; MemoryPeakAt is the first scrape with that value.
	MemoryPeakBytes uint64
	MemoryPeakAt    time.Time
	// CPUPeriods and CPUThrottledPeriods are the CFS periods elapsed and throttled during the
	// window; both are zero for containers without a CPU limit (no CFS series).
	CPUPeriods          float64
	CPUThrottledPeriods float64
	// OOMKills are the kills in [Start, End].
	OOMKills []OOMKill
}

// ExpectedHour is one clock hour of a container's usage.
type ExpectedHour struct {
	Hour           time.Time
	RunningMinutes int
	// CPUUsageCores is the CPU seconds used in the hour ÷ 3600: the counter's increase over
	// the hour divided by 3600, i.e. the hour's average (over the whole hour, not only the
	// running minutes).
	CPUUsageCores float64
	// CPUChargedCoreMinutes is Σ over the running minutes of max(CPU request, the minute's
	// rate); RAMChargedByteMinutes is Σ over them of max(memory request, the minute's working
	// set). These are what a container is charged for (DESIGN.md), as its scrapes show it:
	// the rate of minute [m, m+1m) is the CPU counter's increase between its readings at m
	// and m+1m (the latest scrape by then; a run's counter starts at 0 when it starts) ÷ 60 —
	// so the last moments of a run, after its last scrape, are not seen — and the working
	// set is the largest sample scraped in (m, m+1m]. A finished pod's last run is seen up
	// to its completion (kube_pod_completion_time bounds it), its minutes after the last
	// scrape at the run's real rate and with its last working set.
	CPUChargedCoreMinutes float64
	RAMChargedByteMinutes float64
}

// OOMKill is one OOM kill of a container.
type OOMKill struct {
	At               time.Time
	MemoryLimitBytes uint64 // the container's memory limit at the time
}

// ExpectedWorkload is one container of a workload over the window, its pods pooled: the
// unit of rightsizing.
type ExpectedWorkload struct {
	Namespace string
	Workload  model.WorkloadRef
	Container string
	Profile   string
	Pods      int
	// Samples is the number of pooled 1-minute samples: one per pod and minute of the window
	// in which it ran. FirstMinute and LastMinute are the first and last such minutes.
	Samples     int
	FirstMinute time.Time
	LastMinute  time.Time
	// The 1-minute rate of a minute is the CPU used in that minute ÷ 60 (the counter's
	// increase over the minute ÷ 60). CPUUsageP95Cores is the nearest-rank 95th percentile of
	// the pooled rates: the smallest rate at least 95 % of the samples are less than or equal
	// to (sorted ascending, index ⌈0.95·n⌉ − 1).
	CPUUsageP95Cores float64
	// CPUUsageP95ScrapeCores is the same percentile as the scrapes let a reader see it: with
	// a scrape coarser than a minute, each minute of a scrape interval at the interval's
	// average rate (docs/collector.md); the same as CPUUsageP95Cores for a scrape that
	// divides a minute. A burst shorter than two scrapes is smeared over them.
	CPUUsageP95ScrapeCores float64
	CPUUsageMaxCores       float64
	CPUUsageMeanCores      float64
	// MemoryPeakBytes is the largest working-set sample of any of its pods in [Start, End].
	MemoryPeakBytes     uint64
	OOMKills            int
	CPUPeriods          float64
	CPUThrottledPeriods float64
	CPURequestCores     float64
	CPULimitCores       float64
	MemoryRequestBytes  uint64
	MemoryLimitBytes    uint64
	// HPAResources lists the resources an HPA scales the workload on; nil without HPA.
	HPAResources []string
}

// Container returns the expected container, or nil.
func (e *Expected) Container(namespace, pod, container string) *ExpectedContainer {
	for i := range e.Containers {
		ct := &e.Containers[i]
		if ct.Namespace == namespace && ct.Pod == pod && ct.Container.Container == container {
			return ct
		}
	}
	return nil
}

// Workload returns the expected workload container, or nil.
func (e *Expected) Workload(namespace, workload, container string) *ExpectedWorkload {
	for i := range e.Workloads {
		w := &e.Workloads[i]
		if w.Namespace == namespace && w.Workload.Name == workload && w.Container == container {
			return w
		}
	}
	return nil
}

// Expected computes the expected values. It evaluates every profile at every scrape time of
// the window, so it costs about as much CPU as WriteOpenMetrics.
func (c *Cluster) Expected() Expected {
	e := Expected{Cluster: c.opts.Cluster, Start: unixTime(c.start), End: unixTime(c.end), Scrape: c.opts.Scrape}
	for _, n := range c.nodes {
		e.Nodes = append(e.Nodes, c.expectedNode(n))
	}
	byContainer := make(map[*container]*ExpectedContainer, len(c.containers))
	e.Containers = make([]ExpectedContainer, len(c.containers))
	for i, ct := range c.containers {
		e.Containers[i] = c.expectedContainer(ct)
		byContainer[ct] = &e.Containers[i]
	}
	var rates []float64 // reused across workloads: memory is bounded by the largest workload
	for _, w := range c.workloads {
		for i := range w.spec.containers {
			var ew ExpectedWorkload
			ew, rates = c.expectedWorkload(w, i, byContainer, rates[:0])
			e.Workloads = append(e.Workloads, ew)
		}
		if w.spec.hpa {
			e.Autoscalers = append(e.Autoscalers, model.Autoscaler{Cluster: c.opts.Cluster, Namespace: w.namespace,
				Name: w.spec.name, Target: model.WorkloadRef{Kind: w.spec.kind, Name: w.spec.name},
				MinReplicas: int32(2 * c.opts.Scale), MaxReplicas: int32(6 * c.opts.Scale), Resources: []string{"cpu"}})
		}
	}
	e.Volumes = c.expectedVolumes()
	return e
}

func (c *Cluster) expectedNode(n *node) model.Node {
	cl := n.class
	return model.Node{
		Cluster: c.opts.Cluster, ObservedAt: unixTime(c.end), Name: n.name,
		InstanceType: cl.instanceType, Region: region, Zone: cl.zone, CapacityType: cl.capacityType,
		CPUCapacityCores: float64(cl.cpuMilli) / 1000, CPUAllocatableCores: float64(cl.cpuAllocMill) / 1000,
		MemoryCapacityBytes: uint64(cl.memory), MemoryAllocatableBytes: uint64(cl.memoryAlloc),
		GPUCapacity: float64(cl.gpus), GPUAllocatable: float64(cl.gpus),
		Labels: c.nodeLabels(n),
	}
}

func (w *workload) ref() model.WorkloadRef {
	return model.WorkloadRef{Kind: w.spec.kind, Name: w.spec.name}
}

// running is the part of [Start, End) in which the container ran.
func (c *Cluster) running(ct *container) (from, to int64) {
	return max(ct.pod.start, c.start), min(ct.pod.end, c.end)
}

func (c *Cluster) expectedContainer(ct *container) ExpectedContainer {
	p, cs := ct.pod, ct.spec
	cur := ct.runs[len(ct.runs)-1]
	mc := model.Container{
		Cluster: c.opts.Cluster, ObservedAt: unixTime(c.end), Namespace: p.w.namespace, Pod: p.name, PodUID: p.uid,
		Container: cs.name, Node: p.node.name, Phase: "Running", QoSClass: string(qosClass(p)), Workload: p.w.ref(),
		CPURequestCores: float64(cs.cpuRequestMilli) / 1000, CPULimitCores: float64(cs.cpuLimitMilli) / 1000,
		MemoryRequestBytes: uint64(cs.memRequest), MemoryLimitBytes: uint64(cs.memLimit), GPURequest: float64(cs.gpus),
		StartedAt: unixTime(cur.start), RestartCount: uint32(cur.restarts), Labels: copyLabels(p.labels),
	}
	if cur.restarts > 0 {
		mc.LastTerminationReason = "OOMKilled"
	}
	e := ExpectedContainer{Container: mc, Profile: p.w.spec.profile, RunningFrom: unixTime(p.start)}
	if p.finished() {
		e.Phase, e.FinishedAt, e.RunningUntil, e.Finished = "Succeeded", unixTime(p.end), unixTime(p.end), true
	}
	from, to := c.running(ct)
	if to > from {
		e.RunningMinutes = int((to - from) / minute)
		e.CPUUsageCoreSeconds = ct.cpu.cpuSeconds(from, to)
		if cs.cpuLimitMilli > 0 {
			e.CPUPeriods = float64(cfsPeriodsPerSecond * (to - from))
			e.CPUThrottledPeriods = ct.cpu.throttledPeriods(from, to)
		}
	}
	// seenUntil is how far the readings of run k show it: its last scrape, or for a finished
	// pod's last run its completion.
	seenUntil := func(k int, last int64) int64 {
		if r := ct.runs[k]; k == len(ct.runs)-1 && p.finished() && r.end <= c.end {
			return r.end
		}
		return last
	}
	// The working set of each minute: the largest sample scraped in (m, m+1m]; a finished
	// pod's minutes after its last scrape hold its last sample.
	memOfMinute := map[int64]float64{}
	for k, r := range ct.runs {
		first, last, ok := c.window(r.start, r.end)
		for t := first; ok && t <= last; t += c.scrape {
			m := (t - 1) / minute * minute
			memOfMinute[m] = max(memOfMinute[m], float64(ct.mem.bytes(t, r.start)))
		}
		if until := seenUntil(k, last); ok && until > last {
			for m := last / minute * minute; m < until; m += minute {
				if _, sampled := memOfMinute[m]; !sampled || m >= last {
					memOfMinute[m] = max(memOfMinute[m], float64(ct.mem.bytes(last, r.start)))
				}
			}
		}
	}
	cpuRequest, memRequest := float64(cs.cpuRequestMilli)/1000, float64(cs.memRequest)
	// seenCPU is the CPU seconds the readings show for minute [m, m+1m), over all runs.
	seenCPU := func(m int64) float64 {
		sum := 0.0
		for k, r := range ct.runs {
			_, last, ok := c.window(r.start, r.end)
			if !ok {
				continue
			}
			last = seenUntil(k, last)
			lo, hi := min(max(m, r.start), last), min(max(m+minute, r.start), last)
			if hi > lo {
				sum += ct.cpu.cpuSeconds(lo, hi)
			}
		}
		return sum
	}
	for h := (c.start + hour - 1) / hour * hour; h+hour <= c.end; h += hour {
		a, b := max(h, from), min(h+hour, to)
		if b > a {
			eh := ExpectedHour{Hour: unixTime(h), RunningMinutes: int((b - a) / minute),
				CPUUsageCores: ct.cpu.cpuSeconds(a, b) / secondsPerHour}
			for m := a; m < b; m += minute {
				eh.CPUChargedCoreMinutes += max(cpuRequest, seenCPU(m)/60)
				eh.RAMChargedByteMinutes += max(memRequest, memOfMinute[m])
			}
			e.Hours = append(e.Hours, eh)
		}
	}
	for _, r := range ct.runs {
		first, last, ok := c.window(r.start, r.end)
		for t := first; ok && t <= last; t += c.scrape {
			if v := ct.mem.bytes(t, r.start); v > e.MemoryPeakBytes {
				e.MemoryPeakBytes, e.MemoryPeakAt = v, unixTime(t)
			}
		}
		if r.oomKilled && r.end >= c.start && r.end <= c.end {
			e.OOMKills = append(e.OOMKills, OOMKill{At: unixTime(r.end), MemoryLimitBytes: uint64(r.limitAtKill)})
		}
	}
	return e
}

func copyLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// expectedWorkload pools container i of all of w's pods; rates is scratch space.
func (c *Cluster) expectedWorkload(w *workload, i int, byContainer map[*container]*ExpectedContainer,
	rates []float64) (ExpectedWorkload, []float64) {
	cs := &w.spec.containers[i]
	e := ExpectedWorkload{Namespace: w.namespace, Workload: w.ref(), Container: cs.name, Profile: w.spec.profile,
		Pods: len(w.pods), CPURequestCores: float64(cs.cpuRequestMilli) / 1000, CPULimitCores: float64(cs.cpuLimitMilli) / 1000,
		MemoryRequestBytes: uint64(cs.memRequest), MemoryLimitBytes: uint64(cs.memLimit)}
	if w.spec.hpa {
		e.HPAResources = []string{"cpu"}
	}
	first, last := int64(forever), int64(-1)
	coreSeconds := 0.0
	var scraped []float64
	for _, p := range w.pods {
		ct := p.containers[i]
		from, to := c.running(ct)
		for m := from; m < to; m += minute {
			rates = append(rates, ct.cpu.cpuSeconds(m, m+minute)/60)
			first, last = min(first, m), max(last, m)
			if c.scrape > minute {
				s := c.start + (m-c.start)/c.scrape*c.scrape
				lo, hi := max(s, from), min(s+c.scrape, to)
				scraped = append(scraped, ct.cpu.cpuSeconds(lo, hi)/float64(hi-lo))
			}
		}
		ec := byContainer[ct]
		coreSeconds += ec.CPUUsageCoreSeconds
		e.MemoryPeakBytes = max(e.MemoryPeakBytes, ec.MemoryPeakBytes)
		e.OOMKills += len(ec.OOMKills)
		e.CPUPeriods += ec.CPUPeriods
		e.CPUThrottledPeriods += ec.CPUThrottledPeriods
	}
	e.Samples = len(rates)
	if e.Samples > 0 {
		sort.Float64s(rates)
		e.CPUUsageP95Cores = rates[(95*len(rates)+99)/100-1]
		e.CPUUsageP95ScrapeCores = e.CPUUsageP95Cores
		if len(scraped) > 0 {
			sort.Float64s(scraped)
			e.CPUUsageP95ScrapeCores = scraped[(95*len(scraped)+99)/100-1]
		}
		e.CPUUsageMaxCores = rates[len(rates)-1]
		e.CPUUsageMeanCores = coreSeconds / 60 / float64(len(rates))
		e.FirstMinute, e.LastMinute = unixTime(first), unixTime(last)
	}
	return e, rates
}
