package synthetic

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Profile names, as reported in Expected.
const (
	ProfileDaemonSet  = "daemonset"
	ProfileSteady     = "steady"
	ProfileDiurnal    = "diurnal"
	ProfileSpiky      = "spiky"
	ProfileGrowth     = "memory-growth"
	ProfileOOM        = "oom-killed"
	ProfileBatch      = "finished-batch"
	ProfileGPU        = "gpu"
	ProfileYoung      = "too-young"
	ProfileBestEffort = "best-effort"
)

// Workload kinds (top-level owners), as in model.WorkloadRef.
const (
	KindDeployment  = "Deployment"
	KindStatefulSet = "StatefulSet"
	KindDaemonSet   = "DaemonSet"
	KindCronJob     = "CronJob"
	KindPod         = "Pod"
)

// workloadSpec describes one workload at Scale 1.
type workloadSpec struct {
	kind       string
	namespace  string // without Options.Prefix
	name       string
	app, team  string
	profile    string
	replicas   int   // at Scale 1; ignored for DaemonSets (one pod per node)
	slots      []int // node class of replica r is slots[r % len(slots)]
	created    int64
	podStart   func(replica int) int64
	runFor     int64 // > 0: the pod Succeeds this many seconds after it started
	oomEvery   int64 // > 0: the working set reaches the limit and the container is OOM-killed this often
	schedule   string
	hpa        bool
	hostNet    bool
	tolerate   bool // tolerates the GPU node's taint
	containers []containerSpec
}

type containerSpec struct {
	name, image        string
	cpuRequestMilli    int64
	cpuLimitMilli      int64
	memRequest         int64
	memLimit           int64
	gpus               int64
	cpu                func(replica int) cpuProfile
	mem                func(replica int) memProfile
	restartPolicyNever bool
}

func fixedCPU(p cpuProfile) func(int) cpuProfile { return func(int) cpuProfile { return p } }
func fixedMem(p memProfile) func(int) memProfile { return func(int) memProfile { return p } }

// catalog is the cluster at Scale 1. Times derive from Start and End only.
func (c *Cluster) catalog() []workloadSpec {
	created := func(k int) int64 { return c.start - 72*hour + int64(k)*7*minute }
	startAfter := func(k int) func(int) int64 {
		return func(r int) int64 { return created(k) + int64(1+r%60)*minute }
	}
	// The batch run starts at :40 of the hour in the middle of the window and runs 40
	// minutes, so it spans two clock hours (20 + 20 minutes).
	jobStart := (c.start+(c.end-c.start)/2)/hour*hour + 40*minute
	jobTime := unixTime(jobStart)
	oomStart := c.start - 2*hour - 47*minute
	youngStart := c.end - 6*hour

	return []workloadSpec{
		{kind: KindDaemonSet, namespace: "monitoring", name: "node-exporter", app: "node-exporter", team: "platform",
			profile: ProfileDaemonSet, created: created(0), podStart: startAfter(0), hostNet: true, tolerate: true,
			containers: []containerSpec{{name: "node-exporter", image: "quay.io/prometheus/node-exporter:v1.8.2",
				cpuRequestMilli: 50, memRequest: 64 * mib, memLimit: 128 * mib,
				cpu: func(r int) cpuProfile { return constantCPU(0.012 + 0.002*float64(r%5)) },
				mem: func(r int) memProfile { return constantMemory(float64(36*mib + 2*mib*int64(r%5))) }}}},
		{kind: KindDeployment, namespace: "platform", name: "ingress-nginx", app: "ingress-nginx", team: "platform",
			profile: ProfileSteady, replicas: 2, slots: []int{slotA, slotB}, created: created(1), podStart: startAfter(1),
			containers: []containerSpec{{name: "controller", image: "registry.k8s.io/ingress-nginx/controller:v1.11.3",
				cpuRequestMilli: 100, memRequest: 90 * mib,
				cpu: fixedCPU(constantCPU(0.04)),
				mem: func(r int) memProfile { return constantMemory(float64(120*mib + 4*mib*int64(r))) }}}},
		// Guaranteed: request = limit for every container.
		{kind: KindDeployment, namespace: "shop", name: "web", app: "web", team: "storefront",
			profile: ProfileSteady, replicas: 3, slots: []int{slotA, slotB, slotSpot}, created: created(2), podStart: startAfter(2),
			containers: []containerSpec{{name: "app", image: "registry.example.com/shop/web:1.14.2",
				cpuRequestMilli: 500, cpuLimitMilli: 500, memRequest: 512 * mib, memLimit: 512 * mib,
				cpu: func(r int) cpuProfile { return constantCPU(0.30 + 0.02*float64(r)) },
				mem: func(r int) memProfile { return constantMemory(float64(300*mib + 16*mib*int64(r))) }}}},
		// Burstable with request ≠ limit; scaled by an HPA on CPU; a steady sidecar.
		{kind: KindDeployment, namespace: "shop", name: "api", app: "api", team: "storefront",
			profile: ProfileDiurnal, replicas: 3, slots: []int{slotA, slotB, slotSpot}, created: created(3), podStart: startAfter(3), hpa: true,
			containers: []containerSpec{
				{name: "api", image: "registry.example.com/shop/api:3.2.0",
					cpuRequestMilli: 1000, cpuLimitMilli: 2000, memRequest: 1 * gib, memLimit: 1 * gib,
					cpu: fixedCPU(diurnalCPU(0.6, 0.4)),
					mem: fixedMem(diurnalMemory(float64(640*mib), float64(128*mib)))},
				{name: "proxy", image: "docker.io/envoyproxy/envoy:v1.31.2",
					cpuRequestMilli: 100, cpuLimitMilli: 100, memRequest: 128 * mib, memLimit: 128 * mib,
					cpu: fixedCPU(constantCPU(0.05)), mem: fixedMem(constantMemory(float64(90 * mib)))}}},
		{kind: KindDeployment, namespace: "shop", name: "search", app: "search", team: "storefront",
			profile: ProfileSpiky, replicas: 3, slots: []int{slotB, slotSpot, slotA}, created: created(4), podStart: startAfter(4),
			containers: []containerSpec{{name: "search", image: "registry.example.com/shop/search:0.9.7",
				cpuRequestMilli: 200, cpuLimitMilli: 1000, memRequest: 256 * mib, memLimit: 256 * mib,
				cpu: fixedCPU(spikyCPU(0.05, 0.9, 0.5)), mem: fixedMem(constantMemory(float64(180 * mib)))}}},
		{kind: KindStatefulSet, namespace: "data", name: "cache", app: "cache", team: "data",
			profile: ProfileGrowth, replicas: 2, slots: []int{slotA, slotB}, created: created(5), podStart: startAfter(5),
			containers: []containerSpec{{name: "cache", image: "docker.io/library/redis:7.4.1",
				cpuRequestMilli: 250, memRequest: 2 * gib, memLimit: 6 * gib,
				cpu: fixedCPU(constantCPU(0.15)),
				mem: func(r int) memProfile { return linearMemory(float64(gib), float64(4*mib+mib*int64(r))) }}}},
		// Working set 128 MiB → 512 MiB (the limit) in 20 h, then OOM-killed and restarted.
		{kind: KindDeployment, namespace: "data", name: "recommender", app: "recommender", team: "data",
			profile: ProfileOOM, replicas: 1, slots: []int{slotSpot}, created: oomStart - minute,
			podStart: func(int) int64 { return oomStart }, oomEvery: 20 * hour,
			containers: []containerSpec{{name: "model", image: "registry.example.com/data/recommender:2.0.1",
				cpuRequestMilli: 100, memRequest: 256 * mib, memLimit: 512 * mib,
				cpu: fixedCPU(constantCPU(0.1)),
				mem: fixedMem(linearMemory(float64(128*mib), float64(512*mib-128*mib)/20))}}},
		{kind: KindCronJob, namespace: "batch", name: "weekly-report", app: "weekly-report", team: "finance",
			profile: ProfileBatch, replicas: 1, slots: []int{slotSpot}, created: created(7),
			podStart: func(int) int64 { return jobStart }, runFor: 40 * minute,
			schedule: fmt.Sprintf("%d %d * * %d", jobTime.Minute(), jobTime.Hour(), int(jobTime.Weekday())),
			containers: []containerSpec{{name: "report", image: "registry.example.com/batch/report:5.1.0",
				cpuRequestMilli: 500, cpuLimitMilli: 1000, memRequest: 512 * mib, memLimit: 1 * gib,
				cpu: fixedCPU(constantCPU(0.8)), mem: fixedMem(constantMemory(float64(400 * mib))), restartPolicyNever: true}}},
		{kind: KindDeployment, namespace: "ml", name: "trainer", app: "trainer", team: "ml",
			profile: ProfileGPU, replicas: 1, slots: []int{slotGPU}, created: created(8), podStart: startAfter(8), tolerate: true,
			containers: []containerSpec{{name: "trainer", image: "registry.example.com/ml/trainer:cuda12-1.4",
				cpuRequestMilli: 2000, memRequest: 8 * gib, memLimit: 8 * gib, gpus: 1,
				cpu: fixedCPU(constantCPU(1.2)), mem: fixedMem(constantMemory(float64(6 * gib)))}}},
		{kind: KindDeployment, namespace: "shop", name: "promo", app: "promo", team: "storefront",
			profile: ProfileYoung, replicas: 1, slots: []int{slotB}, created: youngStart - minute,
			podStart: func(int) int64 { return youngStart },
			containers: []containerSpec{{name: "promo", image: "registry.example.com/shop/promo:0.1.0",
				cpuRequestMilli: 100, memRequest: 128 * mib,
				cpu: fixedCPU(constantCPU(0.08)), mem: fixedMem(constantMemory(float64(100 * mib)))}}},
		// A bare pod without requests or limits: BestEffort, Workload{Pod, debug}.
		{kind: KindPod, namespace: "platform", name: "debug", app: "debug", team: "platform",
			profile: ProfileBestEffort, replicas: 1, slots: []int{slotA}, created: created(10), podStart: startAfter(10),
			containers: []containerSpec{{name: "shell", image: "docker.io/library/busybox:1.36",
				cpu: fixedCPU(constantCPU(0.005)), mem: fixedMem(constantMemory(float64(12 * mib)))}}},
	}
}

// workload is a workloadSpec expanded at the cluster's Scale.
type workload struct {
	spec      workloadSpec
	namespace string
	uid       string
	midName   string // ReplicaSet of a Deployment, Job of a CronJob
	midUID    string
	midStart  int64
	pods      []*pod
}

type pod struct {
	w          *workload
	name, uid  string
	node       *node
	ip         string
	start, end int64 // end == forever: still running at End
	ownerKind  string
	ownerName  string
	ownerUID   string
	labels     map[string]string
	containers []*container
}

// container is one container of a pod over its whole life; runs are its container
// instances (a new one after each OOM kill).
type container struct {
	pod  *pod
	spec *containerSpec
	cpu  cpuProfile
	mem  memProfile
	runs []run
}

type run struct {
	start, end  int64 // [start, end); end == forever: running at End
	restarts    int   // restart count while this instance runs
	id          string
	oomKilled   bool // ended by an OOM kill (at end)
	limitAtKill int64
}

func (c *Cluster) expand(s workloadSpec) *workload {
	o := c.opts
	w := &workload{spec: s, namespace: o.Prefix + s.namespace}
	w.uid = c.uid(s.kind, w.namespace, s.name)
	var placements []*node
	switch s.kind {
	case KindDaemonSet:
		placements = c.nodes
	default:
		per := len(nodeClasses())
		for r := range s.replicas * o.Scale {
			cell := r / s.replicas
			placements = append(placements, c.nodes[cell*per+s.slots[r%len(s.slots)]])
		}
	}
	switch s.kind {
	case KindDeployment:
		hash := c.suffix(10, "pod-template-hash", w.namespace, s.name)
		w.midName = s.name + "-" + hash
		w.midUID = c.uid("ReplicaSet", w.namespace, w.midName)
		w.midStart = s.created
	case KindCronJob:
		start := s.podStart(0)
		w.midName = fmt.Sprintf("%s-%d", s.name, start/60) // the CronJob controller's naming
		w.midUID = c.uid("Job", w.namespace, w.midName)
		w.midStart = start
	}
	for r, n := range placements {
		// param selects the profile parameters: the replica's index at Scale 1, or for a
		// DaemonSet the node's class, so that every cell repeats the first.
		param := n.index % len(nodeClasses())
		if s.kind != KindDaemonSet {
			param = r % s.replicas
		}
		p := &pod{w: w, node: n, start: s.podStart(r), end: forever}
		if s.runFor > 0 {
			p.end = p.start + s.runFor
		}
		p.labels = c.appLabels(s)
		switch s.kind {
		case KindDeployment:
			p.name = w.midName + "-" + c.suffix(5, "pod", w.namespace, w.midName, fmt.Sprint(r))
			p.ownerKind, p.ownerName, p.ownerUID = "ReplicaSet", w.midName, w.midUID
			p.labels["pod-template-hash"] = strings.TrimPrefix(w.midName, s.name+"-")
		case KindStatefulSet:
			p.name = fmt.Sprintf("%s-%d", s.name, r)
			p.ownerKind, p.ownerName, p.ownerUID = KindStatefulSet, s.name, w.uid
			p.labels["statefulset.kubernetes.io/pod-name"] = p.name
			p.labels["controller-revision-hash"] = s.name + "-" + c.suffix(10, "revision", w.namespace, s.name)
		case KindDaemonSet:
			p.name = s.name + "-" + c.suffix(5, "pod", w.namespace, s.name, n.name)
			p.ownerKind, p.ownerName, p.ownerUID = KindDaemonSet, s.name, w.uid
			p.labels["controller-revision-hash"] = c.suffix(10, "revision", w.namespace, s.name)
		case KindCronJob:
			p.name = w.midName + "-" + c.suffix(5, "pod", w.namespace, w.midName, fmt.Sprint(r))
			p.ownerKind, p.ownerName, p.ownerUID = "Job", w.midName, w.midUID
			p.labels["batch.kubernetes.io/job-name"] = w.midName
			p.labels["job-name"] = w.midName
			p.labels["batch.kubernetes.io/controller-uid"] = w.midUID
		case KindPod:
			p.name = s.name
			if r > 0 {
				p.name = fmt.Sprintf("%s-%d", s.name, r)
			}
		}
		p.uid = c.uid("Pod", w.namespace, p.name)
		if s.hostNet {
			p.ip = n.ip
		} else {
			c.podIPs++
			seq := c.podIPs
			p.ip = fmt.Sprintf("10.%d.%d.%d", 128+(seq/65536)%128, (seq/256)%256, seq%256)
		}
		for i := range s.containers {
			cs := &w.spec.containers[i]
			ct := &container{pod: p, spec: cs, cpu: cs.cpu(param), mem: cs.mem(param)}
			ct.runs = c.runs(ct, s.oomEvery)
			p.containers = append(p.containers, ct)
		}
		w.pods = append(w.pods, p)
	}
	return w
}

// runs splits a container's life into container instances: one, or one per OOM cycle.
func (c *Cluster) runs(ct *container, oomEvery int64) []run {
	p := ct.pod
	mk := func(start, end int64, restarts int) run {
		id := c.hexDigest(64, "container", p.w.namespace, p.name, ct.spec.name, fmt.Sprint(restarts))
		return run{start: start, end: end, restarts: restarts, id: id}
	}
	if oomEvery <= 0 {
		return []run{mk(p.start, p.end, 0)}
	}
	var out []run
	t := p.start
	for t+oomEvery <= c.end {
		r := mk(t, t+oomEvery, len(out))
		r.oomKilled, r.limitAtKill = true, ct.spec.memLimit
		out = append(out, r)
		t += oomEvery
	}
	return append(out, mk(t, p.end, len(out)))
}

func sortContainers(cs []*container) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.pod.w.namespace != b.pod.w.namespace {
			return a.pod.w.namespace < b.pod.w.namespace
		}
		if a.pod.name != b.pod.name {
			return a.pod.name < b.pod.name
		}
		return a.spec.name < b.spec.name
	})
}

// appLabels are the labels of a workload's objects and pods: its app and, unless
// Options.TeamsOnNamespaces, its team.
func (c *Cluster) appLabels(s workloadSpec) map[string]string {
	if c.opts.TeamsOnNamespaces {
		return map[string]string{"app.kubernetes.io/name": s.app}
	}
	return map[string]string{"app.kubernetes.io/name": s.app, "team": s.team}
}

// digest hashes the cluster name and parts; every generated identifier derives from it.
func (c *Cluster) digest(parts ...string) [32]byte {
	return sha256.Sum256([]byte(c.opts.Cluster + "\x00" + strings.Join(parts, "\x00")))
}

// uid is an RFC 4122-shaped (version 5 style) UUID derived from the object's identity.
func (c *Cluster) uid(kind, namespace, name string) string {
	d := c.digest("uid", kind, namespace, name)
	d[6] = d[6]&0x0f | 0x50
	d[8] = d[8]&0x3f | 0x80
	h := hex.EncodeToString(d[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// suffix is an n-character name suffix in the alphabet Kubernetes controllers use.
func (c *Cluster) suffix(n int, parts ...string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	d := c.digest(parts...)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[int(d[i])%len(alphabet)]
	}
	return string(b)
}

func (c *Cluster) hexDigest(n int, parts ...string) string {
	d := c.digest(parts...)
	return hex.EncodeToString(d[:])[:n]
}

// window clamps [from, to) to the history [Start, End] and returns the first and last
// scrape times in it; ok is false when no scrape falls inside. to == forever includes End.
func (c *Cluster) window(from, to int64) (first, last int64, ok bool) {
	if from < c.start {
		from = c.start
	}
	first = c.start + (from-c.start+c.scrape-1)/c.scrape*c.scrape
	last = c.end
	if to <= c.end {
		last = c.start + (to-1-c.start)/c.scrape*c.scrape
		if to-1 < c.start {
			return 0, 0, false
		}
	}
	return first, last, first <= last
}
