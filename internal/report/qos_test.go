package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/qos"
	"github.com/tally-finops/tally/internal/rightsizing"
)

// findings are built by hand, in qos.Findings' order:
//
//  1. batch CronJob/report worker: BestEffort, nothing to set (no data, no current value);
//  2. debug Pod/toolbox: memory request ≠ limit, set from the current limit (a bare Pod);
//  3. shop Deployment/web app: no memory limit, memory from rightsizing, CPU not opted in;
//  4. shop Deployment/web envoy: opted in to CPU request = limit, 12.3m rounded up to 13m.
func findings() []qos.Finding {
	key := func(ns, kind, name, container string) qos.Key {
		return qos.Key{Cluster: "prod", Namespace: ns, Workload: model.WorkloadRef{Kind: kind, Name: name}, Container: container}
	}
	return []qos.Finding{
		{Key: key("batch", "CronJob", "report", "worker"), Pods: 1, QoSClass: qos.QoSBestEffort, Source: qos.SourceCurrent,
			Reasons: []string{"memory request and limit missing",
				"no memory recommendation and no current memory value: nothing to set until rightsizing has data"}},
		{Key: key("debug", "Pod", "toolbox", "shell"), Pods: 1, QoSClass: qos.QoSBurstable, Source: qos.SourceCurrent,
			Current: rightsizing.Resources{MemoryRequest: f64(100 * mib), MemoryLimit: f64(200 * mib)},
			Set:     rightsizing.Resources{MemoryRequest: f64(200 * mib), MemoryLimit: f64(200 * mib)},
			Reasons: []string{"memory limit 200 MiB ≠ request 100 MiB",
				"no memory recommendation: request = limit = 200 MiB, the larger of the current request and limit, so the container loses no memory"}},
		{Key: key("shop", "Deployment", "web", "app"), Pods: 3, QoSClass: qos.QoSBurstable, Source: qos.SourceRightsizing,
			Current: rightsizing.Resources{CPURequest: f64(0.4), MemoryRequest: f64(800 * mib)},
			Set:     rightsizing.Resources{CPURequest: f64(0.4), MemoryRequest: f64(482344960), MemoryLimit: f64(482344960)},
			Reasons: []string{"memory limit missing"}},
		{Key: key("shop", "Deployment", "web", "envoy"), Pods: 3, QoSClass: qos.QoSBurstable, Source: qos.SourceRightsizing,
			Current: rightsizing.Resources{CPURequest: f64(0.1), CPULimit: f64(0.2), MemoryRequest: f64(128 * mib), MemoryLimit: f64(128 * mib)},
			Set:     rightsizing.Resources{CPURequest: f64(0.0123), CPULimit: f64(0.0123), MemoryRequest: f64(128 * mib), MemoryLimit: f64(128 * mib)},
			Reasons: []string{"CPU limit 0.2 cores ≠ request 0.1 cores (opted in)"}},
	}
}

// nodes: one overcommitted node with four kill candidates (the table names three), one whose
// memory capacity is unknown.
func nodes() []qos.NodeReport {
	kill := func(ns, pod, container, class string, adj int, score, ws float64) qos.KillCandidate {
		return qos.KillCandidate{Namespace: ns, Workload: model.WorkloadRef{Kind: "Deployment", Name: pod[:strings.LastIndex(pod, "-")]},
			Pod: pod, Container: container, QoSClass: class, OOMScoreAdj: adj, Score: score, MemoryWorkingSetBytes: ws}
	}
	return []qos.NodeReport{
		{Cluster: "prod", Node: "ip-10-0-1-23", MemoryAllocatableBytes: 15 * gib, MemoryCapacityBytes: 16 * gib, Containers: 12,
			MemoryLimitsBytes: 20 * gib, UnboundedContainers: 2, MemoryRequestsBytes: 10 * gib, Overcommit: 20.0 / 15,
			KillOrder: []qos.KillCandidate{
				kill("debug", "toolbox-x", "shell", qos.QoSBestEffort, 1000, 1000.48828125, 8*mib),
				kill("shop", "web-7d9f-abcde", "app", qos.QoSBurstable, 976, 1000.4, 400*mib),
				kill("shop", "web-7d9f-fghij", "app", qos.QoSBurstable, 976, 998.1, 360*mib),
				kill("db", "pg-0", "postgres", qos.QoSGuaranteed, -997, -747, 4*gib),
			}},
		{Cluster: "prod", Node: "ip-10-0-2-7", Containers: 3, UnboundedContainers: 3},
	}
}

func TestQoSGolden(t *testing.T) {
	tests := []struct {
		name     string
		findings []qos.Finding
		nodes    []qos.NodeReport
	}{
		{"qos", findings(), nodes()},
		{"qos_empty", nil, nil},
	}
	for _, tc := range tests {
		for _, format := range []string{FormatTable, FormatCSV, FormatJSON, FormatYAML} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				var b bytes.Buffer
				if err := (QoS{Cluster: "prod", Window: fortnight}).Render(&b, format, tc.findings, tc.nodes); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", tc.name+"."+format), b.Bytes())
			})
		}
	}
}

func renderQoS(t *testing.T, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := (QoS{Cluster: "prod"}).Render(&b, format, findings(), nodes()); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestQoSTable(t *testing.T) {
	table := renderQoS(t, FormatTable)
	for _, want := range []string{
		"800Mi/none", "400m/none", "460Mi", "unchanged", "13m", "?",
		"133%", "2 of 12", "debug/toolbox-x/shell (BestEffort, adj 1000), shop/web-7d9f-abcde/app (Burstable, adj 976), shop/web-7d9f-fghij/app (Burstable, adj 976), +1 more",
		"- (memory capacity unknown)", "15Gi", "20Gi",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table has no %q:\n%s", want, table)
		}
	}
}

func TestQoSJSON(t *testing.T) {
	var got struct {
		Findings []map[string]any `json:"findings"`
		Nodes    []map[string]any `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(renderQoS(t, FormatJSON)), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Findings) != 4 || len(got.Nodes) != 2 {
		t.Fatalf("%d findings and %d nodes, want 4 and 2", len(got.Findings), len(got.Nodes))
	}
	findingFields := sorted([]string{"cluster", "namespace", "workloadKind", "workload", "container", "pods", "qosClass",
		"current", "set", "source", "reasons"})
	for i, f := range got.Findings {
		if keys := sortedKeys(f); !slices.Equal(keys, findingFields) {
			t.Errorf("finding %d has fields %v, want %v", i, keys, findingFields)
		}
	}
	if set := got.Findings[0]["set"].(map[string]any); set["memoryRequest"] != nil || set["cpuLimit"] != nil {
		t.Errorf("worker sets %v, want nulls", set)
	}
	if set := got.Findings[3]["set"].(map[string]any); set["cpuLimit"] != 0.0123 {
		t.Errorf("envoy sets %v", set)
	}
	nodeFields := sorted([]string{"cluster", "node", "memoryAllocatableBytes", "memoryCapacityBytes", "containers",
		"memoryLimitsBytes", "memoryRequestsBytes", "unboundedContainers", "overcommit", "killOrder"})
	for i, n := range got.Nodes {
		if keys := sortedKeys(n); !slices.Equal(keys, nodeFields) {
			t.Errorf("node %d has fields %v, want %v", i, keys, nodeFields)
		}
	}
	if o := got.Nodes[0]["overcommit"]; o != 1.333333 {
		t.Errorf("overcommit %v, want 1.333333", o)
	}
	k := got.Nodes[0]["killOrder"].([]any)[0].(map[string]any)
	killFields := sorted([]string{"namespace", "workloadKind", "workload", "pod", "container", "qosClass", "oomScoreAdj", "score", "memoryWorkingSetBytes"})
	if keys := sortedKeys(k); !slices.Equal(keys, killFields) || k["oomScoreAdj"] != 1000.0 {
		t.Errorf("kill candidate %v, want fields %v", k, killFields)
	}
	if ko, ok := got.Nodes[1]["killOrder"].([]any); !ok || len(ko) != 0 {
		t.Errorf("node without capacity: killOrder %#v, want []", got.Nodes[1]["killOrder"])
	}
}

func TestQoSCSV(t *testing.T) {
	recs, err := csv.NewReader(strings.NewReader(renderQoS(t, FormatCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], QoSCSVHeader) || len(recs) != 5 {
		t.Fatalf("csv: header %v and %d records, want %v and 4 rows", recs[0], len(recs)-1, QoSCSVHeader)
	}
	for _, row := range recs {
		if len(row) != len(QoSCSVHeader) {
			t.Errorf("row of %d cells, want %d: %v", len(row), len(QoSCSVHeader), row)
		}
	}
	col := func(row int, name string) string { return recs[row][slices.Index(recs[0], name)] }
	if col(1, "set_memory_limit_bytes") != "" || col(3, "set_memory_limit_bytes") != "482344960" || col(4, "set_cpu_limit_cores") != "0.0123" {
		t.Errorf("set values: %v", recs)
	}
}

func TestQoSYAML(t *testing.T) {
	out := renderQoS(t, FormatYAML)
	docs := yamlDocs(t, out)
	if len(docs) != 1 {
		t.Fatalf("%d documents, want only web's:\n%s", len(docs), out)
	}
	cs := dig(t, docs[0], "spec", "template", "spec", "containers").([]any)
	if len(cs) != 2 {
		t.Fatalf("containers %v, want app and envoy", cs)
	}
	app, envoy := cs[0], cs[1]
	// app: memory to request = limit, CPU (not opted in) left alone.
	if dig(t, app, "resources", "requests", "memory") != "460Mi" || dig(t, app, "resources", "limits", "memory") != "460Mi" {
		t.Errorf("app: %v", app)
	}
	if _, ok := dig(t, app, "resources", "requests").(map[string]any)["cpu"]; ok {
		t.Errorf("app's CPU is set though it did not opt in: %v", app)
	}
	// envoy: CPU request = limit, both rounded up alike; memory, already equal, left alone.
	if dig(t, envoy, "resources", "requests", "cpu") != "13m" || dig(t, envoy, "resources", "limits", "cpu") != "13m" {
		t.Errorf("envoy: %v", envoy)
	}
	if _, ok := dig(t, envoy, "resources", "requests").(map[string]any)["memory"]; ok {
		t.Errorf("envoy's memory is set though it is equal already: %v", envoy)
	}
	for _, want := range []string{
		"prod: debug/Pod/toolbox: a bare Pod has no pod template to patch",
		"shell: requests.memory 200Mi, limits.memory 200Mi",
		"prod: batch/CronJob/report: nothing to set",
		"- memory limit missing",
		"# kubectl --context prod -n shop patch deployment web --type strategic --patch-file prod-shop-deployment-web.yaml\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("yaml has no %q:\n%s", want, out)
		}
	}
}

func TestQoSUnknownFormat(t *testing.T) {
	err := (QoS{}).Render(io.Discard, "xml", nil, nil)
	if err == nil || err.Error() != `unknown format "xml" (want table, csv, json or yaml)` {
		t.Errorf("error = %v", err)
	}
	if err := CheckQoSFormat(FormatYAML); err != nil {
		t.Errorf("CheckQoSFormat(yaml) = %v", err)
	}
}
