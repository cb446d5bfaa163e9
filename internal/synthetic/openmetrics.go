package synthetic

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// WriteOpenMetrics writes the cAdvisor and kube-state-metrics series of the whole history as
// OpenMetrics 1.0.0 text, ready for `promtool tsdb create-blocks-from openmetrics`: every
// family's samples grouped together, each series' samples in increasing time order, one
// sample per scrape time from Start to End inclusive while the object exists, and "# EOF" at
// the end. Counter families are declared without "_total"; values use strconv 'g' -1.
//
// It streams: memory does not grow with the history length, only with the number of series.
//
// cAdvisor series (labels container, id, image, instance, job, name, namespace, pod) are
// emitted per container instance: a container restarted after an OOM kill is a new series
// (new id and name) whose counters start again from 0 at its start. A container's last
// sample is the last scrape before it ended. The CFS series exist only for containers with a
// CPU limit, as in cAdvisor. kube-state-metrics series of a pod run from its start to End,
// including after it Succeeded. Options.ClusterLabel and Options.Duplicates add the labels
// and copies of a shared or duplicated Prometheus.
func (c *Cluster) WriteOpenMetrics(w io.Writer) error {
	ow := &omWriter{w: bufio.NewWriterSize(w, 256<<10), c: c}
	c.writeCAdvisor(ow)
	c.writeNodes(ow)
	c.writePods(ow)
	c.writeContainers(ow)
	c.writeVolumes(ow)
	if ow.err == nil {
		_, ow.err = ow.w.WriteString("# EOF\n")
	}
	if ow.err == nil {
		ow.err = ow.w.Flush()
	}
	if ow.err != nil {
		return fmt.Errorf("write openmetrics: %w", ow.err)
	}
	return nil
}

// omWriter writes families and series; the first write error stops all further output.
type omWriter struct {
	w      *bufio.Writer
	c      *Cluster
	prefix []byte
	line   []byte
	err    error
}

func (ow *omWriter) family(name, typ, help string) {
	if ow.err != nil {
		return
	}
	_, ow.err = fmt.Fprintf(ow.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// series writes one sample per scrape time in [from, to) clamped to the history; labels are
// name, value pairs. Options.ClusterLabel is added to the labels, and with
// Options.Duplicates the series is written once per replica of the HA pair.
func (ow *omWriter) series(name string, labels []string, from, to int64, value func(t int64) float64) {
	if ow.err != nil {
		return
	}
	first, last, ok := ow.c.window(from, to)
	if !ok {
		return
	}
	if ow.c.opts.ClusterLabel != "" {
		labels = append(labels[:len(labels):len(labels)], "cluster", ow.c.opts.ClusterLabel)
	}
	if !ow.c.opts.Duplicates {
		ow.samples(name, labels, first, last, value)
		return
	}
	for _, replica := range []string{"prometheus-0", "prometheus-1"} {
		ow.samples(name, append(labels[:len(labels):len(labels)], "prometheus_replica", replica), first, last, value)
	}
}

// samples writes the samples of one series at the scrape times from first to last.
func (ow *omWriter) samples(name string, labels []string, first, last int64, value func(t int64) float64) {
	ow.prefix = append(ow.prefix[:0], name...)
	ow.prefix = append(ow.prefix, '{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			ow.prefix = append(ow.prefix, ',')
		}
		ow.prefix = append(ow.prefix, labels[i]...)
		ow.prefix = append(ow.prefix, '=', '"')
		ow.prefix = appendEscaped(ow.prefix, labels[i+1])
		ow.prefix = append(ow.prefix, '"')
	}
	ow.prefix = append(ow.prefix, '}', ' ')
	for t := first; t <= last && ow.err == nil; t += ow.c.scrape {
		ow.line = append(ow.line[:0], ow.prefix...)
		ow.line = strconv.AppendFloat(ow.line, value(t), 'g', -1, 64)
		ow.line = append(ow.line, ' ')
		ow.line = strconv.AppendInt(ow.line, t, 10)
		ow.line = append(ow.line, '\n')
		_, ow.err = ow.w.Write(ow.line)
	}
}

func appendEscaped(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\\\"\n") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, s[i])
		}
	}
	return b
}

func constant(v float64) func(int64) float64 { return func(int64) float64 { return v } }

// cadvisorLabels are the labels the kubelet's cAdvisor endpoint gives a container instance
// (cgroupfs layout, containerd runtime), scraped by job.
func (c *Cluster) cadvisorLabels(ct *container, r run, job string) []string {
	p := ct.pod
	qos := ""
	switch qosClass(p) {
	case "Burstable":
		qos = "burstable/"
	case "BestEffort":
		qos = "besteffort/"
	}
	return []string{
		"container", ct.spec.name,
		"id", "/kubepods/" + qos + "pod" + p.uid + "/" + r.id,
		"image", ct.spec.image,
		"instance", p.node.name,
		"job", job,
		"name", r.id,
		"namespace", p.w.namespace,
		"pod", p.name,
	}
}

// cadvisorSeries writes one cAdvisor series of a container instance: from the kubelet job
// and, with Options.Duplicates, also from a second job scraping the same cAdvisor.
func (c *Cluster) cadvisorSeries(ow *omWriter, name string, ct *container, r run, value func(t int64) float64) {
	ow.series(name, c.cadvisorLabels(ct, r, "kubelet"), r.start, r.end, value)
	if c.opts.Duplicates {
		ow.series(name, c.cadvisorLabels(ct, r, "kubernetes-cadvisor"), r.start, r.end, value)
	}
}

// resourceSeries writes, with Options.Duplicates, a container's series as the kubelet's
// /metrics/resource endpoint exports it: no id, image or name label, so one series over all
// of the container's instances (a counter starts again from 0 after a restart).
func (c *Cluster) resourceSeries(ow *omWriter, name string, ct *container, value func(r run, t int64) float64) {
	if !c.opts.Duplicates || len(ct.runs) == 0 {
		return
	}
	labels := []string{"container", ct.spec.name, "instance", ct.pod.node.name, "job", "kubelet",
		"metrics_path", "/metrics/resource", "namespace", ct.pod.w.namespace, "pod", ct.pod.name}
	ow.series(name, labels, ct.runs[0].start, ct.runs[len(ct.runs)-1].end, func(t int64) float64 {
		for _, r := range ct.runs {
			if t < r.end {
				return value(r, t)
			}
		}
		return value(ct.runs[len(ct.runs)-1], t)
	})
}

func (c *Cluster) writeCAdvisor(ow *omWriter) {
	cpu := func(ct *container) func(r run, t int64) float64 {
		return func(r run, t int64) float64 { return ct.cpu.cpuSeconds(r.start, t) }
	}
	mem := func(ct *container) func(r run, t int64) float64 {
		return func(r run, t int64) float64 { return float64(ct.mem.bytes(t, r.start)) }
	}
	ow.family("container_cpu_usage_seconds", "counter", "Cumulative cpu time consumed in seconds.")
	for _, ct := range c.containers {
		for _, r := range ct.runs {
			c.cadvisorSeries(ow, "container_cpu_usage_seconds_total", ct, r, func(t int64) float64 { return cpu(ct)(r, t) })
		}
		c.resourceSeries(ow, "container_cpu_usage_seconds_total", ct, cpu(ct))
	}
	ow.family("container_memory_working_set_bytes", "gauge", "Current working set in bytes.")
	for _, ct := range c.containers {
		for _, r := range ct.runs {
			c.cadvisorSeries(ow, "container_memory_working_set_bytes", ct, r, func(t int64) float64 { return mem(ct)(r, t) })
		}
		c.resourceSeries(ow, "container_memory_working_set_bytes", ct, mem(ct))
	}
	ow.family("container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds.")
	for _, ct := range c.containers {
		for _, r := range ct.runs {
			c.cadvisorSeries(ow, "container_start_time_seconds", ct, r, func(int64) float64 { return float64(r.start) })
		}
	}
	ow.family("container_cpu_cfs_periods", "counter", "Number of elapsed enforcement period intervals.")
	for _, ct := range c.containers {
		if ct.spec.cpuLimitMilli == 0 {
			continue
		}
		for _, r := range ct.runs {
			c.cadvisorSeries(ow, "container_cpu_cfs_periods_total", ct, r,
				func(t int64) float64 { return float64(cfsPeriodsPerSecond * (t - r.start)) })
		}
	}
	ow.family("container_cpu_cfs_throttled_periods", "counter", "Number of throttled period intervals.")
	for _, ct := range c.containers {
		if ct.spec.cpuLimitMilli == 0 {
			continue
		}
		for _, r := range ct.runs {
			c.cadvisorSeries(ow, "container_cpu_cfs_throttled_periods_total", ct, r,
				func(t int64) float64 { return ct.cpu.throttledPeriods(r.start, t) })
		}
	}
}

type nodeResource struct {
	resource, unit  string
	capacity, alloc float64
}

func nodeResources(n *node) []nodeResource {
	cl := n.class
	rs := []nodeResource{
		{resource: "cpu", unit: "core", capacity: float64(cl.cpuMilli) / 1000, alloc: float64(cl.cpuAllocMill) / 1000},
		{resource: "ephemeral_storage", unit: "byte", capacity: float64(cl.storage), alloc: float64(cl.storageAlloc)},
		{resource: "memory", unit: "byte", capacity: float64(cl.memory), alloc: float64(cl.memoryAlloc)},
		{resource: "pods", unit: "integer", capacity: float64(cl.pods), alloc: float64(cl.pods)},
	}
	if cl.gpus > 0 {
		rs = append(rs, nodeResource{resource: "nvidia_com_gpu", unit: "integer", capacity: float64(cl.gpus), alloc: float64(cl.gpus)})
	}
	return rs
}

func (c *Cluster) writeNodes(ow *omWriter) {
	for _, f := range []struct {
		name, help  string
		allocatable bool
	}{
		{"kube_node_status_capacity", "The capacity for different resources of a node.", false},
		{"kube_node_status_allocatable", "The allocatable for different resources of a node that are available for scheduling.", true},
	} {
		ow.family(f.name, "gauge", f.help)
		for _, n := range c.nodes {
			for _, r := range nodeResources(n) {
				v := r.capacity
				if f.allocatable {
					v = r.alloc
				}
				ow.series(f.name, []string{"job", "kube-state-metrics", "node", n.name, "resource", r.resource, "unit", r.unit},
					n.created, forever, constant(v))
			}
		}
	}
}

// sortedPods returns the pods sorted by namespace and name.
func (c *Cluster) sortedPods() []*pod {
	ps := append([]*pod(nil), c.pods...)
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].w.namespace != ps[j].w.namespace {
			return ps[i].w.namespace < ps[j].w.namespace
		}
		return ps[i].name < ps[j].name
	})
	return ps
}

func podLabels(p *pod, more ...string) []string {
	return append([]string{"job", "kube-state-metrics", "namespace", p.w.namespace, "pod", p.name, "uid", p.uid}, more...)
}

func (c *Cluster) writePods(ow *omWriter) {
	pods := c.sortedPods()
	owner := func(p *pod) (kind, name, controller string) {
		if p.ownerKind == "" {
			return "<none>", "<none>", "<none>"
		}
		return p.ownerKind, p.ownerName, "true"
	}
	ow.family("kube_pod_info", "gauge", "Information about pod.")
	for _, p := range pods {
		kind, name, _ := owner(p)
		ow.series("kube_pod_info", podLabels(p, "created_by_kind", kind, "created_by_name", name,
			"host_ip", p.node.ip, "host_network", strconv.FormatBool(p.w.spec.hostNet), "node", p.node.name,
			"pod_ip", p.ip, "priority_class", ""), p.start, forever, constant(1))
	}
	ow.family("kube_pod_owner", "gauge", "Information about the Pod's owner.")
	for _, p := range pods {
		kind, name, controller := owner(p)
		ow.series("kube_pod_owner", podLabels(p, "owner_is_controller", controller, "owner_kind", kind, "owner_name", name),
			p.start, forever, constant(1))
	}
	ow.family("kube_pod_start_time", "gauge", "Start time in unix timestamp for a pod.")
	for _, p := range pods {
		ow.series("kube_pod_start_time", podLabels(p), p.start, forever, constant(float64(p.start)))
	}
	ow.family("kube_pod_completion_time", "gauge", "Completion time in unix timestamp for a pod.")
	for _, p := range pods {
		if p.finished() {
			ow.series("kube_pod_completion_time", podLabels(p), p.end, forever, constant(float64(p.end)))
		}
	}
	ow.family("kube_pod_status_phase", "gauge", "The pods current phase.")
	for _, p := range pods {
		for _, phase := range []string{"Pending", "Succeeded", "Failed", "Unknown", "Running"} {
			ow.series("kube_pod_status_phase", podLabels(p, "phase", phase), p.start, forever, func(t int64) float64 {
				current := "Running"
				if t >= p.end {
					current = "Succeeded"
				}
				if phase == current {
					return 1
				}
				return 0
			})
		}
	}
	ow.family("kube_replicaset_owner", "gauge", "Information about the ReplicaSet's owner.")
	for _, w := range c.workloads {
		if w.spec.kind == KindDeployment {
			ow.series("kube_replicaset_owner", []string{"job", "kube-state-metrics", "namespace", w.namespace,
				"owner_is_controller", "true", "owner_kind", KindDeployment, "owner_name", w.spec.name, "replicaset", w.midName},
				w.midStart, forever, constant(1))
		}
	}
	ow.family("kube_job_owner", "gauge", "Information about the Job's owner.")
	for _, w := range c.workloads {
		if w.spec.kind == KindCronJob {
			ow.series("kube_job_owner", []string{"job", "kube-state-metrics", "job_name", w.midName, "namespace", w.namespace,
				"owner_is_controller", "true", "owner_kind", KindCronJob, "owner_name", w.spec.name},
				w.midStart, forever, constant(1))
		}
	}
}

type containerResource struct {
	resource, unit string
	value          float64
}

func containerResources(cs *containerSpec, limits bool) []containerResource {
	cpu, mem := cs.cpuRequestMilli, cs.memRequest
	if limits {
		cpu, mem = cs.cpuLimitMilli, cs.memLimit
	}
	var out []containerResource
	if cpu > 0 {
		out = append(out, containerResource{"cpu", "core", float64(cpu) / 1000})
	}
	if mem > 0 {
		out = append(out, containerResource{"memory", "byte", float64(mem)})
	}
	if cs.gpus > 0 {
		out = append(out, containerResource{"nvidia_com_gpu", "integer", float64(cs.gpus)})
	}
	return out
}

func (c *Cluster) writeContainers(ow *omWriter) {
	for _, f := range []struct {
		name, help string
		limits     bool
	}{
		{"kube_pod_container_resource_requests", "The number of requested request resource by a container.", false},
		{"kube_pod_container_resource_limits", "The number of requested limit resource by a container.", true},
	} {
		ow.family(f.name, "gauge", f.help)
		for _, ct := range c.containers {
			p := ct.pod
			for _, r := range containerResources(ct.spec, f.limits) {
				ow.series(f.name, podLabels(p, "container", ct.spec.name, "node", p.node.name, "resource", r.resource, "unit", r.unit),
					p.start, forever, constant(r.value))
			}
		}
	}
	ow.family("kube_pod_container_status_restarts", "counter", "The number of container restarts per container.")
	for _, ct := range c.containers {
		ow.series("kube_pod_container_status_restarts_total", podLabels(ct.pod, "container", ct.spec.name),
			ct.pod.start, forever, func(t int64) float64 { return float64(ct.restartsAt(t)) })
	}
	ow.family("kube_pod_container_status_last_terminated_reason", "gauge", "Describes the last reason the container was in terminated state.")
	for _, ct := range c.containers {
		if len(ct.runs) > 1 {
			ow.series("kube_pod_container_status_last_terminated_reason", podLabels(ct.pod, "container", ct.spec.name, "reason", "OOMKilled"),
				ct.runs[0].end, forever, constant(1))
		}
	}
}

// restartsAt is the container's restart count at Unix second t.
func (ct *container) restartsAt(t int64) int {
	n := 0
	for _, r := range ct.runs {
		if r.oomKilled && r.end <= t {
			n++
		}
	}
	return n
}
