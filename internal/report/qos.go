package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tally-finops/tally/internal/qos"
)

// CheckQoSFormat reports whether QoS.Render can write format: the formats of rightsizing.
func CheckQoSFormat(format string) error { return CheckRightsizingFormat(format) }

// QoS says how to render request = limit findings and the node report.
type QoS struct {
	Cluster string // shown in the table's title; a finding or node without a cluster gets it
	Window  Window // the window the recommendations behind the findings were computed from
}

// killShown is how many of a node's kill candidates the table names.
const killShown = 3

// Render writes findings and nodes, in the order given, as format:
//
//   - table: one line per finding — current memory and CPU as request/limit, what to set
//     ("unchanged" when the finding leaves it), the reasons — then one line per node with
//     its memory overcommit, its containers without a memory limit and the first kill
//     candidates.
//   - csv: the findings only, a header row then one row per finding in cores and bytes, an
//     empty cell when unset, reasons joined with "; ". The node report is in table and json.
//   - json: {"findings": [...], "nodes": [...]}; unset values are null.
//   - yaml: strategic merge patches for `kubectl patch` setting each finding's changed values,
//     one document per workload (see writePatches). Nodes are not in it.
func (q QoS) Render(w io.Writer, format string, findings []qos.Finding, nodes []qos.NodeReport) error {
	switch format {
	case FormatTable:
		return q.table(w, findings, nodes)
	case FormatCSV:
		return q.csv(w, findings)
	case FormatJSON:
		return q.json(w, findings, nodes)
	case FormatYAML:
		return q.yaml(w, findings)
	}
	return CheckQoSFormat(format)
}

func (q QoS) table(w io.Writer, findings []qos.Finding, nodes []qos.NodeReport) error {
	var b strings.Builder
	b.WriteString(title("Request = limit", q.Cluster, q.Window))
	b.WriteString("\n\n")
	if len(findings) == 0 {
		b.WriteString("No container needs its request and limit made equal.\n")
	} else {
		multi := false
		for _, f := range findings {
			multi = multi || cmp.Or(f.Key.Cluster, q.Cluster) != q.Cluster
		}
		header := []string{"NAMESPACE", "WORKLOAD", "CONTAINER", "PODS", "QOS", "MEMORY REQ/LIM", "CPU REQ/LIM", "SET MEMORY", "SET CPU", "REASONS"}
		right := map[int]bool{3: true}
		if multi {
			header = append([]string{"CLUSTER"}, header...)
			right = map[int]bool{4: true}
		}
		rows := make([][]string, 0, len(findings))
		for _, f := range findings {
			row := []string{nameCell(f.Key.Namespace), nameCell(workloadName(f.Key.Workload.Kind, f.Key.Workload.Name)), nameCell(f.Key.Container),
				strconv.Itoa(f.Pods), orDash(f.QoSClass),
				requestLimit(f.Current.MemoryRequest, f.Current.MemoryLimit, memoryText),
				requestLimit(f.Current.CPURequest, f.Current.CPULimit, cpuText),
				setText(f.Current.MemoryRequest, f.Current.MemoryLimit, f.Set.MemoryRequest, f.Set.MemoryLimit, memoryText, true),
				setText(f.Current.CPURequest, f.Current.CPULimit, f.Set.CPURequest, f.Set.CPULimit, cpuText, false),
				oneLine(strings.Join(f.Reasons, "; "))}
			if multi {
				row = append([]string{nameCell(cmp.Or(f.Key.Cluster, q.Cluster))}, row...)
			}
			rows = append(rows, row)
		}
		writeAligned(&b, header, rows, right)
		fmt.Fprintf(&b, "\nTOTAL: %s to change\n", count(len(findings), "container"))
	}

	b.WriteString("\nNodes (memory):\n\n")
	if len(nodes) == 0 {
		b.WriteString("No nodes.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	multi := false
	for _, n := range nodes {
		multi = multi || cmp.Or(n.Cluster, q.Cluster) != q.Cluster
	}
	header := []string{"NODE", "ALLOCATABLE", "Σ LIMITS", "OVERCOMMIT", "UNBOUNDED", "KILLED FIRST"}
	right := map[int]bool{1: true, 2: true, 3: true, 4: true}
	if multi {
		header = append([]string{"CLUSTER"}, header...)
		right = map[int]bool{2: true, 3: true, 4: true, 5: true}
	}
	rows := make([][]string, 0, len(nodes))
	for _, n := range nodes {
		over := "-"
		if n.MemoryAllocatableBytes > 0 {
			over = strconv.FormatFloat(math.Round(n.Overcommit*100), 'f', 0, 64) + "%"
		}
		alloc := "-"
		if n.MemoryAllocatableBytes > 0 {
			alloc = memoryText(n.MemoryAllocatableBytes)
		}
		row := []string{nameCell(n.Node), alloc, memoryText(n.MemoryLimitsBytes), over,
			fmt.Sprintf("%d of %d", n.UnboundedContainers, n.Containers), killText(n)}
		if multi {
			row = append([]string{nameCell(cmp.Or(n.Cluster, q.Cluster))}, row...)
		}
		rows = append(rows, row)
	}
	writeAligned(&b, header, rows, right)
	b.WriteString("\nOVERCOMMIT: Σ memory limits ÷ allocatable memory; UNBOUNDED containers have no memory limit and are not in it.\n" +
		"KILLED FIRST: the kernel's likely OOM-kill order, from oom_score_adj (set by QoS class) and working set.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// requestLimit is "request/limit" for the table: "800Mi/none", "-/1".
func requestLimit(req, limit *float64, format func(float64) string) string {
	r, l := "-", "none"
	if req != nil {
		r = format(*req)
	}
	if limit != nil {
		l = format(*limit)
	}
	return r + "/" + l
}

// setText is what the table says a finding sets: the value when request = limit,
// "unchanged", "?" when there is no value to set (memory always needs one), else
// "request/limit".
func setText(curReq, curLimit, req, limit *float64, format func(float64) string, needed bool) string {
	switch {
	case req == nil && limit == nil && (needed || !same(curReq, req) || !same(curLimit, limit)):
		return "?"
	case same(curReq, req) && same(curLimit, limit):
		return "unchanged"
	case req != nil && limit != nil && same(req, limit):
		return format(*req)
	}
	return requestLimit(req, limit, format)
}

// same says whether two optional values are both unset or equal within a relative 1e-9.
func same(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) <= 1e-9*math.Max(math.Abs(*a), math.Abs(*b))
}

// killText names the node's first kill candidates: "ns/pod/container (BestEffort, adj 1000)".
func killText(n qos.NodeReport) string {
	if len(n.KillOrder) == 0 {
		if n.MemoryCapacityBytes <= 0 {
			return "- (memory capacity unknown)"
		}
		return "-"
	}
	var parts []string
	for _, k := range n.KillOrder[:min(killShown, len(n.KillOrder))] {
		parts = append(parts, fmt.Sprintf("%s/%s/%s (%s, adj %d)", k.Namespace, k.Pod, k.Container, orDash(k.QoSClass), k.OOMScoreAdj))
	}
	s := strings.Join(parts, ", ")
	if more := len(n.KillOrder) - killShown; more > 0 {
		s += fmt.Sprintf(", +%d more", more)
	}
	return oneLine(s)
}

// QoSCSVHeader is the header row of the QoS findings CSV.
var QoSCSVHeader = []string{
	"cluster", "namespace", "workload_kind", "workload", "container", "pods", "qos_class",
	"current_cpu_request_cores", "current_cpu_limit_cores", "current_memory_request_bytes", "current_memory_limit_bytes",
	"set_cpu_request_cores", "set_cpu_limit_cores", "set_memory_request_bytes", "set_memory_limit_bytes",
	"source", "reasons",
}

func (q QoS) csv(w io.Writer, findings []qos.Finding) error {
	rows := make([][]string, 0, len(findings))
	for _, f := range findings {
		row := []string{cmp.Or(f.Key.Cluster, q.Cluster), f.Key.Namespace, f.Key.Workload.Kind, f.Key.Workload.Name, f.Key.Container,
			strconv.Itoa(f.Pods), f.QoSClass}
		row = append(row, resourceCells(f.Current)...)
		row = append(row, resourceCells(f.Set)...)
		row = append(row, f.Source, strings.Join(f.Reasons, "; "))
		rows = append(rows, row)
	}
	return writeCSV(w, "qos findings", QoSCSVHeader, rows)
}

type findingJSON struct {
	Cluster      string        `json:"cluster"`
	Namespace    string        `json:"namespace"`
	WorkloadKind string        `json:"workloadKind"`
	Workload     string        `json:"workload"`
	Container    string        `json:"container"`
	Pods         int           `json:"pods"`
	QoSClass     string        `json:"qosClass"`
	Current      resourcesJSON `json:"current"`
	Set          resourcesJSON `json:"set"`
	Source       string        `json:"source"`
	Reasons      []string      `json:"reasons"`
}

type nodeJSON struct {
	Cluster                string          `json:"cluster"`
	Node                   string          `json:"node"`
	MemoryAllocatableBytes float64         `json:"memoryAllocatableBytes"`
	MemoryCapacityBytes    float64         `json:"memoryCapacityBytes"`
	Containers             int             `json:"containers"`
	MemoryLimitsBytes      float64         `json:"memoryLimitsBytes"`
	MemoryRequestsBytes    float64         `json:"memoryRequestsBytes"`
	UnboundedContainers    int             `json:"unboundedContainers"`
	Overcommit             float64         `json:"overcommit"`
	KillOrder              []killCandidate `json:"killOrder"`
}

type killCandidate struct {
	Namespace             string  `json:"namespace"`
	WorkloadKind          string  `json:"workloadKind"`
	Workload              string  `json:"workload"`
	Pod                   string  `json:"pod"`
	Container             string  `json:"container"`
	QoSClass              string  `json:"qosClass"`
	OOMScoreAdj           int     `json:"oomScoreAdj"`
	Score                 float64 `json:"score"`
	MemoryWorkingSetBytes float64 `json:"memoryWorkingSetBytes"`
}

func (q QoS) json(w io.Writer, findings []qos.Finding, nodes []qos.NodeReport) error {
	fs := make([]findingJSON, 0, len(findings))
	for _, f := range findings {
		reasons := f.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		fs = append(fs, findingJSON{
			Cluster: cmp.Or(f.Key.Cluster, q.Cluster), Namespace: f.Key.Namespace,
			WorkloadKind: f.Key.Workload.Kind, Workload: f.Key.Workload.Name, Container: f.Key.Container,
			Pods: f.Pods, QoSClass: f.QoSClass, Current: resourcesOf(f.Current), Set: resourcesOf(f.Set),
			Source: f.Source, Reasons: reasons,
		})
	}
	ns := make([]nodeJSON, 0, len(nodes))
	for _, n := range nodes {
		kills := make([]killCandidate, 0, len(n.KillOrder))
		for _, k := range n.KillOrder {
			kills = append(kills, killCandidate{
				Namespace: k.Namespace, WorkloadKind: k.Workload.Kind, Workload: k.Workload.Name, Pod: k.Pod, Container: k.Container,
				QoSClass: k.QoSClass, OOMScoreAdj: k.OOMScoreAdj, Score: round(k.Score, 6),
				MemoryWorkingSetBytes: round(k.MemoryWorkingSetBytes, 0),
			})
		}
		ns = append(ns, nodeJSON{
			Cluster: cmp.Or(n.Cluster, q.Cluster), Node: n.Node,
			MemoryAllocatableBytes: round(n.MemoryAllocatableBytes, 0), MemoryCapacityBytes: round(n.MemoryCapacityBytes, 0),
			Containers: n.Containers, MemoryLimitsBytes: round(n.MemoryLimitsBytes, 0), MemoryRequestsBytes: round(n.MemoryRequestsBytes, 0),
			UnboundedContainers: n.UnboundedContainers, Overcommit: round(n.Overcommit, 6), KillOrder: kills,
		})
	}
	return writeJSON(w, "qos report", struct {
		Findings []findingJSON `json:"findings"`
		Nodes    []nodeJSON    `json:"nodes"`
	}{fs, ns})
}

func (q QoS) yaml(w io.Writer, findings []qos.Finding) error {
	head := []string{title("Request = limit patches", q.Cluster, q.Window)}
	var patches []workloadPatch
	index := map[workloadKey]int{}
	for _, f := range findings {
		k := workloadKey{cmp.Or(f.Key.Cluster, q.Cluster), f.Key.Namespace, f.Key.Workload.Kind, f.Key.Workload.Name}
		at, ok := index[k]
		if !ok {
			at = len(patches)
			index[k] = at
			patches = append(patches, workloadPatch{key: k})
		}
		c := containerPatch{name: f.Key.Container}
		source := "values from rightsizing"
		if f.Source == qos.SourceCurrent {
			source = "values from the current ones where rightsizing has none"
		}
		c.comments = append(c.comments, fmt.Sprintf("%s, %s; %s", orDash(f.QoSClass), count(f.Pods, "pod"), source))
		for _, r := range f.Reasons {
			c.comments = append(c.comments, "- "+r)
		}
		c.setEqual(&c.memoryRequest, &c.memoryLimit, f.Current.MemoryRequest, f.Current.MemoryLimit, f.Set.MemoryRequest, f.Set.MemoryLimit, memoryQuantity)
		c.setEqual(&c.cpuRequest, &c.cpuLimit, f.Current.CPURequest, f.Current.CPULimit, f.Set.CPURequest, f.Set.CPULimit, cpuQuantity)
		patches[at].containers = append(patches[at].containers, c)
	}
	return writePatches(w, head, patches)
}

// setEqual sets a container's request and limit of one resource to the Set values when they
// differ from the current ones; both are written, rounded alike, so they stay equal.
func (c *containerPatch) setEqual(req, limit *string, curReq, curLimit, setReq, setLimit *float64, quantity func(float64) string) {
	if same(curReq, setReq) && same(curLimit, setLimit) {
		return
	}
	if setReq != nil {
		*req = quantity(*setReq)
	}
	if setLimit != nil {
		*limit = quantity(*setLimit)
	}
}

// kubectl patches, written by hand (no YAML library), shared with Rightsizing.

// workloadKey names a workload; it is what a patch document applies to.
type workloadKey struct{ cluster, namespace, kind, name string }

// containerPatch is one container's entry in a workload's patch: quantities to set, ""
// leaving a value as it is and "null" deleting a limit, and comment lines.
type containerPatch struct {
	name                                             string
	cpuRequest, cpuLimit, memoryRequest, memoryLimit string
	comments                                         []string
}

func (c *containerPatch) empty() bool {
	return c.cpuRequest == "" && c.cpuLimit == "" && c.memoryRequest == "" && c.memoryLimit == ""
}

// describe is what the patch sets, e.g. "requests.cpu 231m, limits.cpu null".
func (c *containerPatch) describe() string {
	var parts []string
	for _, v := range []struct{ key, value string }{
		{"requests.cpu", c.cpuRequest}, {"requests.memory", c.memoryRequest},
		{"limits.cpu", c.cpuLimit}, {"limits.memory", c.memoryLimit},
	} {
		if v.value != "" {
			parts = append(parts, v.key+" "+v.value)
		}
	}
	return strings.Join(parts, ", ")
}

type workloadPatch struct {
	key        workloadKey
	containers []containerPatch
}

// podSpecPaths are where each kind keeps the pod spec its pods are made from.
var podSpecPaths = map[string][]string{
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
}

// kindNotes warn about kinds whose patch does not simply roll out.
var kindNotes = map[string]string{
	"Job": "note: a Job's pod template is immutable: the API server rejects this patch unless the Job is suspended " +
		"and the cluster allows resource changes to suspended Jobs (beta in Kubernetes 1.36); otherwise change what creates the Job",
	"ReplicaSet": "note: a ReplicaSet does not replace running pods: they keep their resources until they are deleted",
}

// writePatches writes the patches as a YAML stream: the head comments, the workloads that
// get no patch and why (a bare Pod, a kind without a known pod template, no values to set),
// then one document per workload, each preceded by the kubectl command that applies it
// (one file per document) and the comments of its containers. A container without values
// is named in comments only. Each document is a strategic merge patch: containers are
// merged by name, and a null limit deletes it.
func writePatches(w io.Writer, head []string, patches []workloadPatch) error {
	var b strings.Builder
	for _, h := range head {
		comment(&b, "", h)
	}
	comment(&b, "", "Strategic merge patches for kubectl patch, one document per workload: save each document")
	comment(&b, "", "in a file of its own and run the command above it. --context is the cluster's name in tally;")
	comment(&b, "", "change it if your kubeconfig names the context otherwise.")
	var docs []workloadPatch
	skipped := false
	for _, p := range patches {
		slices.SortStableFunc(p.containers, func(a, b containerPatch) int { return cmp.Compare(a.name, b.name) })
		anything := false
		for i := range p.containers {
			anything = anything || !p.containers[i].empty()
		}
		_, known := podSpecPaths[p.key.kind]
		if known && anything {
			docs = append(docs, p)
			continue
		}
		why := "nothing to set"
		switch {
		case p.key.kind == "Pod":
			why = "a bare Pod has no pod template to patch: recreate it (or what creates it) with the values below"
		case !known && anything:
			why = fmt.Sprintf("tally does not know where a %s keeps its pod template: set the values below there", orDash(p.key.kind))
		}
		if !skipped {
			comment(&b, "", "")
			comment(&b, "", "Not patched:")
			skipped = true
		}
		comment(&b, "  ", workloadIdent(p.key)+": "+why)
		for _, c := range p.containers {
			line := c.name
			if !c.empty() {
				line += ": " + c.describe()
			}
			comment(&b, "    ", line)
			for _, l := range c.comments {
				comment(&b, "      ", l)
			}
		}
	}
	if len(docs) == 0 {
		comment(&b, "", "")
		comment(&b, "", "No patches.")
	}
	for _, p := range docs {
		b.WriteString("---\n")
		comment(&b, "", patchCommand(p.key))
		if note := kindNotes[p.key.kind]; note != "" {
			comment(&b, "", note)
		}
		for _, c := range p.containers {
			comment(&b, "", c.name+":")
			for _, l := range c.comments {
				comment(&b, "  ", l)
			}
		}
		indent := ""
		for _, key := range podSpecPaths[p.key.kind] {
			b.WriteString(indent + key + ":\n")
			indent += "  "
		}
		b.WriteString(indent + "containers:\n")
		for _, c := range p.containers {
			if c.empty() {
				continue
			}
			b.WriteString(indent + "- name: " + yamlString(c.name) + "\n")
			b.WriteString(indent + "  resources:\n")
			for _, group := range []struct{ name, cpu, memory string }{
				{"requests", c.cpuRequest, c.memoryRequest}, {"limits", c.cpuLimit, c.memoryLimit},
			} {
				if group.cpu == "" && group.memory == "" {
					continue
				}
				b.WriteString(indent + "    " + group.name + ":\n")
				if group.cpu != "" {
					b.WriteString(indent + "      cpu: " + group.cpu + "\n")
				}
				if group.memory != "" {
					b.WriteString(indent + "      memory: " + group.memory + "\n")
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func workloadIdent(k workloadKey) string {
	s := k.namespace + "/" + workloadName(k.kind, k.name)
	if k.cluster != "" {
		s = k.cluster + ": " + s
	}
	return s
}

// patchCommand is the kubectl command that applies a workload's patch from its file.
func patchCommand(k workloadKey) string {
	var file []string
	for _, part := range []string{k.cluster, k.namespace, strings.ToLower(k.kind), k.name} {
		if part != "" {
			file = append(file, part)
		}
	}
	cmd := "kubectl"
	if k.cluster != "" {
		cmd += " --context " + shellWord(k.cluster)
	}
	if k.namespace != "" {
		cmd += " -n " + shellWord(k.namespace)
	}
	return cmd + " patch " + strings.ToLower(k.kind) + " " + shellWord(k.name) +
		" --type strategic --patch-file " + shellWord(strings.Join(file, "-")+".yaml")
}

// shellWord quotes s for a POSIX shell unless it is made of characters that need none.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// comment writes text as a YAML comment line (line breaks become spaces).
func comment(b *strings.Builder, indent, text string) {
	if text == "" {
		b.WriteString("#\n")
		return
	}
	b.WriteString("# " + indent + oneLine(text) + "\n")
}

// yamlString is s as a YAML scalar that reads back as the same string: plain when it is a
// lowercase name that no YAML version takes for a bool, null or number, else double-quoted
// (a JSON string is a valid YAML double-quoted scalar).
func yamlString(s string) string {
	plain := s != "" && s[0] >= 'a' && s[0] <= 'z' &&
		strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
	switch s {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
		plain = false
	}
	if plain {
		return s
	}
	q, _ := json.Marshal(s) // a string always encodes
	return string(q)
}
