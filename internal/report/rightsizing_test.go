package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/rightsizing"
)

func f64(v float64) *float64 { return &v }

var fortnight = Window{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)}

// recommendations are built by hand, sorted by savings as rightsizing.Sort leaves them:
//
//  1. the worked example of docs/rightsizing.md, section 3;
//  2. a sidecar of the same Deployment with a CPU limit that goes (null in the patch) and a
//     CPU request of 12.3m (13m once rounded up);
//  3. a StatefulSet scaled by an HPA;
//  4. a bare Pod, which no patch can resize;
//  5. a Deployment with too little data;
//  6. a CronJob that needs more than it has (negative savings), over one core and 1Gi.
func recommendations() []rightsizing.Recommendation {
	rec := func(ns, kind, name, container string) rightsizing.Recommendation {
		return rightsizing.Recommendation{Cluster: "prod", Namespace: ns, Workload: model.WorkloadRef{Kind: kind, Name: name},
			Container: container, Currency: "USD", Risk: rightsizing.RiskLow}
	}
	web := rec("shop", "Deployment", "web", "app")
	web.Current = rightsizing.Resources{CPURequest: f64(0.4), MemoryRequest: f64(800 * mib), MemoryLimit: f64(800 * mib)}
	web.Recommended = rightsizing.Resources{CPURequest: f64(0.231), MemoryRequest: f64(482344960), MemoryLimit: f64(482344960)}
	web.MonthlySavings = 18.4401421875
	web.Evidence = "cpu p95 0.231 cores over 14d, 60,480 samples, 3 pods; memory peak 400 MiB"

	sidecar := rec("shop", "Deployment", "web", "envoy")
	sidecar.Current = rightsizing.Resources{CPURequest: f64(0.1), CPULimit: f64(0.2), MemoryRequest: f64(128 * mib), MemoryLimit: f64(256 * mib)}
	sidecar.Recommended = rightsizing.Resources{CPURequest: f64(0.0123), MemoryRequest: f64(64 * mib), MemoryLimit: f64(64 * mib)}
	sidecar.MonthlySavings = 5.123456789
	sidecar.Risk = rightsizing.RiskHigh
	sidecar.RiskNote = "memory limit cut by more than half, 256 MiB → 64 MiB; CPU request cut by more than half, 0.100 → 0.012 cores"
	sidecar.Evidence = "cpu p95 0.012 cores over 14d, 60,480 samples, 3 pods; memory peak 40 MiB"

	trainer := rec("ml", "StatefulSet", "trainer", "main")
	trainer.Current = rightsizing.Resources{CPURequest: f64(2), MemoryRequest: f64(4 * gib), MemoryLimit: f64(4 * gib)}
	trainer.Recommended = rightsizing.Resources{CPURequest: f64(1.87), MemoryRequest: f64(3.5 * gib), MemoryLimit: f64(3.5 * gib)}
	trainer.MonthlySavings = 3
	trainer.Risk = rightsizing.RiskMedium
	trainer.RiskNote = "scaled by an HPA on cpu: changing requests moves its scaling point"
	trainer.Evidence = "cpu p95 1.870 cores over 14d, 40,320 samples, 2 pods; memory peak 3117 MiB"
	trainer.Flags = []string{rightsizing.FlagHPA}

	pod := rec("debug", "Pod", "toolbox", "shell")
	pod.Current = rightsizing.Resources{CPURequest: f64(0.1), MemoryRequest: f64(256 * mib)}
	pod.Recommended = rightsizing.Resources{CPURequest: f64(0.01), MemoryRequest: f64(64 * mib), MemoryLimit: f64(64 * mib)}
	pod.MonthlySavings = 1
	pod.Evidence = "cpu p95 0.001 cores over 14d, 20,160 samples, 1 pod; memory peak 12 MiB"

	api := rec("shop", "Deployment", "api", "app")
	api.Current = rightsizing.Resources{CPURequest: f64(0.5), MemoryRequest: f64(512 * mib), MemoryLimit: f64(1 * gib)}
	api.Risk = rightsizing.RiskHigh
	api.RiskNote = "insufficient data: 6h and 1,080 samples, need at least 1d and 100 samples"
	api.Evidence = "cpu p95 0.000 cores over 6h, 1,080 samples, 3 pods; memory peak 0 MiB"
	api.Flags = []string{rightsizing.FlagInsufficientData}

	report := rec("batch", "CronJob", "report", "worker")
	report.Current = rightsizing.Resources{CPULimit: f64(1)}
	report.Recommended = rightsizing.Resources{CPURequest: f64(1.5), CPULimit: f64(1.5), MemoryRequest: f64(1.5 * gib), MemoryLimit: f64(1.5 * gib)}
	report.MonthlySavings = -12.3
	report.Risk = rightsizing.RiskHigh
	report.RiskNote = "OOM-killed in the window: memory raised to 1536 MiB; throttled in 31.0% of CFS periods: CPU limit set to 1.500 cores"
	report.Evidence = "cpu p95 1.100 cores over 14d, 1,200 samples, 2 pods (0.06 running on average); memory peak 1100 MiB; 2 OOM kills; throttled 31.0% of periods"
	report.Flags = []string{rightsizing.FlagOOMBump, rightsizing.FlagThrottled}

	return []rightsizing.Recommendation{web, sidecar, trainer, pod, api, report}
}

func TestRightsizingGolden(t *testing.T) {
	tests := []struct {
		name    string
		r       Rightsizing
		recs    []rightsizing.Recommendation
		formats []string
	}{
		{"rightsizing", Rightsizing{Cluster: "prod", Window: fortnight, Currency: "USD"}, recommendations(),
			[]string{FormatTable, FormatCSV, FormatJSON, FormatYAML}},
		{"rightsizing_top2", Rightsizing{Cluster: "prod", Window: fortnight, Currency: "USD", Top: 2}, recommendations(),
			[]string{FormatTable}},
		{"rightsizing_empty", Rightsizing{Cluster: "prod", Window: fortnight}, nil,
			[]string{FormatTable, FormatCSV, FormatJSON, FormatYAML}},
	}
	for _, tc := range tests {
		for _, format := range tc.formats {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				var b bytes.Buffer
				if err := tc.r.Render(&b, format, tc.recs); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", tc.name+"."+format), b.Bytes())
			})
		}
	}
}

// Top cuts the table only; the totals, CSV, JSON and YAML cover every recommendation.
func TestRightsizingTop(t *testing.T) {
	recs := recommendations()
	r := Rightsizing{Cluster: "prod", Currency: "USD", Top: 2}
	table := render(t, r, FormatTable, recs)
	if !strings.Contains(table, "(top 2 of 6; totals cover all 6)") {
		t.Errorf("table does not say it shows the top 2 of 6:\n%s", table)
	}
	if !strings.Contains(table, "TOTAL: 6 containers, savings 15.26 USD per month; risk: 3 high, 1 medium; 1 with insufficient data") {
		t.Errorf("table's TOTAL line does not cover all 6:\n%s", table)
	}
	if strings.Contains(table, "trainer") {
		t.Errorf("table shows the third row:\n%s", table)
	}
	for _, format := range []string{FormatCSV, FormatJSON, FormatYAML} {
		if out := render(t, r, format, recs); !strings.Contains(out, "report") {
			t.Errorf("%s was cut by Top: no CronJob report", format)
		}
	}
}

func TestRightsizingTableEvidence(t *testing.T) {
	table := render(t, Rightsizing{}, FormatTable, recommendations())
	for _, want := range []string{
		"400m → 231m", "none → none", "800Mi → 460Mi", "100m → 13m", "200m → none", "256Mi → 64Mi", "2 → 1.87", "4Gi → 3.5Gi",
		"- → 1.5", "1 → 1.5", "500m → ?", "1Gi → ?", "18.44", "-12.30",
		"1. cpu p95 0.231 cores over 14d, 60,480 samples, 3 pods; memory peak 400 MiB",
		"   risk high: memory limit cut by more than half",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table has no %q:\n%s", want, table)
		}
	}
	for i, l := range strings.Split(table, "\n") {
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %d ends in a space: %q", i+1, l)
		}
	}
}

// A recommendation of another cluster than the title's gets a CLUSTER column.
func TestRightsizingTableClusters(t *testing.T) {
	recs := recommendations()[:2]
	if table := render(t, Rightsizing{Cluster: "prod"}, FormatTable, recs); strings.Contains(table, "CLUSTER") {
		t.Errorf("one cluster, named in the title, has a CLUSTER column:\n%s", table)
	}
	recs[1].Cluster = "staging"
	table := render(t, Rightsizing{Cluster: "prod"}, FormatTable, recs)
	if !strings.Contains(table, "CLUSTER") || !strings.Contains(table, "staging") {
		t.Errorf("two clusters, no CLUSTER column:\n%s", table)
	}
}

func TestRightsizingJSON(t *testing.T) {
	var got []map[string]any
	if err := json.Unmarshal([]byte(render(t, Rightsizing{Currency: "EUR"}, FormatJSON, recommendations())), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("%d objects, want 6", len(got))
	}
	fields := []string{"cluster", "namespace", "workloadKind", "workload", "container", "current", "recommended",
		"monthlySavings", "currency", "risk", "riskNote", "evidence", "flags"}
	resources := []string{"cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit"}
	for i, o := range got {
		if keys := sortedKeys(o); !slices.Equal(keys, sorted(fields)) {
			t.Errorf("object %d has fields %v, want %v", i, keys, sorted(fields))
		}
		for _, k := range []string{"current", "recommended"} {
			if keys := sortedKeys(o[k].(map[string]any)); !slices.Equal(keys, sorted(resources)) {
				t.Errorf("object %d: %s has fields %v, want %v", i, k, keys, sorted(resources))
			}
		}
		if _, ok := o["flags"].([]any); !ok {
			t.Errorf("object %d: flags is %#v, want an array", i, o["flags"])
		}
	}
	web := got[0]
	cur, rec := web["current"].(map[string]any), web["recommended"].(map[string]any)
	if v, ok := cur["cpuLimit"]; !ok || v != nil {
		t.Errorf("unset current CPU limit is %#v, want null", v)
	}
	if rec["cpuRequest"] != 0.231 || rec["memoryRequest"] != 482344960.0 || web["monthlySavings"] != 18.440142 {
		t.Errorf("web: recommended %v, savings %v", rec, web["monthlySavings"])
	}
	if web["currency"] != "USD" {
		t.Errorf("currency %v, want the recommendation's USD over the renderer's EUR", web["currency"])
	}
	if f := web["flags"].([]any); len(f) != 0 {
		t.Errorf("web has flags %v, want []", f)
	}
	if rec := got[4]["recommended"].(map[string]any); rec["cpuRequest"] != nil || rec["memoryLimit"] != nil {
		t.Errorf("insufficient data: recommended %v, want nulls", rec)
	}
}

func TestRightsizingCSV(t *testing.T) {
	recs, err := csv.NewReader(strings.NewReader(render(t, Rightsizing{}, FormatCSV, recommendations()))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := "cluster,namespace,workload_kind,workload,container,current_cpu_request_cores,current_cpu_limit_cores," +
		"current_memory_request_bytes,current_memory_limit_bytes,recommended_cpu_request_cores,recommended_cpu_limit_cores," +
		"recommended_memory_request_bytes,recommended_memory_limit_bytes,monthly_savings,currency,risk,flags,evidence,risk_note"
	if got := strings.Join(recs[0], ","); got != want {
		t.Errorf("header\n%s\nwant\n%s", got, want)
	}
	if len(recs) != 7 {
		t.Fatalf("%d records, want a header and 6", len(recs))
	}
	col := func(row int, name string) string { return recs[row][slices.Index(recs[0], name)] }
	for _, c := range []struct {
		row        int
		name, want string
	}{
		{1, "current_cpu_limit_cores", ""},
		{1, "recommended_cpu_request_cores", "0.231"},
		{1, "recommended_memory_limit_bytes", "482344960"},
		{1, "monthly_savings", "18.440142"},
		{2, "current_cpu_limit_cores", "0.2"},
		{6, "flags", "oom-bump;throttled"},
		{6, "monthly_savings", "-12.3"},
		{5, "recommended_memory_request_bytes", ""},
	} {
		if got := col(c.row, c.name); got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.name, got, c.want)
		}
	}
}

// yamlDocs decodes the documents of a YAML stream.
func yamlDocs(t *testing.T, out string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(out))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%v in\n%s", err, out)
		}
		docs = append(docs, doc)
	}
}

// dig follows keys through maps and lists (an int key indexes a list).
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, k := range path {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: %#v is not a map", k, v)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("no %q in %#v", k, m)
			}
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %d: %#v is not a list that long", k, v)
			}
			v = l[k]
		}
	}
	return v
}

func TestRightsizingYAML(t *testing.T) {
	out := render(t, Rightsizing{Cluster: "prod", Window: fortnight}, FormatYAML, recommendations())
	docs := yamlDocs(t, out)
	// web (app and envoy), trainer, report; the Pod and the api (no values) get none.
	if len(docs) != 3 {
		t.Fatalf("%d documents, want 3:\n%s", len(docs), out)
	}
	containers := dig(t, docs[0], "spec", "template", "spec", "containers").([]any)
	if len(containers) != 2 || dig(t, containers, 0, "name") != "app" || dig(t, containers, 1, "name") != "envoy" {
		t.Fatalf("web's containers are %v, want app and envoy", containers)
	}
	app, envoy := containers[0], containers[1]
	for _, c := range []struct {
		container any
		path      []any
		want      any
	}{
		{app, []any{"resources", "requests", "cpu"}, "231m"},
		{app, []any{"resources", "requests", "memory"}, "460Mi"},
		{app, []any{"resources", "limits", "memory"}, "460Mi"},
		{envoy, []any{"resources", "requests", "cpu"}, "13m"}, // 12.3m rounded up
		{envoy, []any{"resources", "limits", "cpu"}, nil},     // null deletes the current limit
		{envoy, []any{"resources", "limits", "memory"}, "64Mi"},
	} {
		if got := dig(t, c.container, c.path...); got != c.want {
			t.Errorf("%v = %#v, want %#v", c.path, got, c.want)
		}
	}
	if _, ok := dig(t, app, "resources", "limits").(map[string]any)["cpu"]; ok {
		t.Errorf("app had no CPU limit, its patch sets one")
	}
	// The CronJob's pod spec is under its job template.
	worker := dig(t, docs[2], "spec", "jobTemplate", "spec", "template", "spec", "containers", 0)
	if dig(t, worker, "name") != "worker" || dig(t, worker, "resources", "limits", "cpu") != "1500m" ||
		dig(t, worker, "resources", "requests", "memory") != "1536Mi" {
		t.Errorf("CronJob worker: %v", worker)
	}
	for _, want := range []string{
		"# kubectl --context prod -n shop patch deployment web --type strategic --patch-file prod-shop-deployment-web.yaml\n",
		"# kubectl --context prod -n batch patch cronjob report --type strategic --patch-file prod-batch-cronjob-report.yaml\n",
		"prod: debug/Pod/toolbox: a bare Pod has no pod template to patch",
		"shell: requests.cpu 10m, requests.memory 64Mi, limits.memory 64Mi",
		"prod: shop/Deployment/api: nothing to set",
		"not patched: no recommended values (insufficient data)",
		"limits.cpu: null removes the current CPU limit 200m",
		"evidence: cpu p95 0.231 cores over 14d",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("yaml has no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "patch pod") {
		t.Errorf("yaml patches a Pod:\n%s", out)
	}
}

// A Job gets a patch with a note that its template is immutable; a name YAML would read as a
// bool is quoted; a kind tally does not know gets no patch.
func TestPatchKinds(t *testing.T) {
	rec := func(kind, name, container string) rightsizing.Recommendation {
		return rightsizing.Recommendation{Namespace: "ns", Workload: model.WorkloadRef{Kind: kind, Name: name}, Container: container,
			Recommended: rightsizing.Resources{CPURequest: f64(0.5), MemoryRequest: f64(mib + 1), MemoryLimit: f64(mib + 1)}}
	}
	recs := []rightsizing.Recommendation{rec("Job", "once", "on"), rec("Rollout", "canary", "app"), rec("DaemonSet", "agent", "0day")}
	out := render(t, Rightsizing{}, FormatYAML, recs)
	docs := yamlDocs(t, out)
	if len(docs) != 2 {
		t.Fatalf("%d documents, want the Job's and the DaemonSet's:\n%s", len(docs), out)
	}
	job := dig(t, docs[0], "spec", "template", "spec", "containers", 0)
	if dig(t, job, "name") != "on" || dig(t, job, "resources", "requests", "memory") != "2Mi" {
		t.Errorf("Job container: %v", job)
	}
	if got := dig(t, docs[1], "spec", "template", "spec", "containers", 0, "name"); got != "0day" {
		t.Errorf("DaemonSet container name %#v, want \"0day\"", got)
	}
	for _, want := range []string{"a Job's pod template is immutable", "ns/Rollout/canary: tally does not know where a Rollout keeps its pod template",
		"# kubectl -n ns patch job once --type strategic --patch-file ns-job-once.yaml\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("yaml has no %q:\n%s", want, out)
		}
	}
}

func TestQuantities(t *testing.T) {
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	f(cpuQuantity(0.231), "231m")
	f(cpuQuantity(0.0123), "13m") // rounded up
	f(cpuQuantity(0.2310001), "232m")
	f(cpuQuantity(0.4), "400m")
	f(cpuQuantity(0.07), "70m") // 0.07 × 1000 is 70.00000000000001 in float64
	f(cpuQuantity(1e-7), "1m")
	f(cpuQuantity(1.5), "1500m")
	f(memoryQuantity(482344960), "460Mi")
	f(memoryQuantity(460*mib+1), "461Mi")
	f(memoryQuantity(1e9), "954Mi")
	f(cpuText(0.999), "999m")
	f(cpuText(0.9991), "1")
	f(cpuText(2), "2")
	f(cpuText(1.875), "1.88")
	f(memoryText(1023*mib), "1023Mi")
	f(memoryText(1.5*gib), "1.5Gi")
	f(money(-0.001), "0.00")
	f(groupThousands(60480), "60,480")
	f(groupThousands(-1234567), "-1,234,567")
	f(yamlString("app"), "app")
	f(yamlString("off"), `"off"`)
	f(yamlString("my.container"), `"my.container"`)
	f(shellWord("prod-eu"), "prod-eu")
	f(shellWord("it's"), `'it'\''s'`)
}

func TestRightsizingUnknownFormat(t *testing.T) {
	err := (Rightsizing{}).Render(io.Discard, "xml", nil)
	if err == nil || err.Error() != `unknown format "xml" (want table, csv, json or yaml)` {
		t.Errorf("error = %v", err)
	}
	for _, f := range []string{FormatTable, FormatCSV, FormatJSON, FormatYAML} {
		if err := CheckRightsizingFormat(f); err != nil {
			t.Errorf("CheckRightsizingFormat(%q) = %v", f, err)
		}
	}
}

// render renders with r or fails the test.
func render(t *testing.T, r Rightsizing, format string, recs []rightsizing.Recommendation) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.Render(&b, format, recs); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return sorted(keys)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
