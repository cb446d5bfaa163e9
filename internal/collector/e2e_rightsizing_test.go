package collector

import (
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/store"
	"github.com/tally-finops/tally/internal/synthetic"
)

// buildReporter builds cmd/reporter into t's temporary directory.
func buildReporter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "reporter")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/reporter").CombinedOutput(); err != nil {
		t.Fatalf("build the reporter: %v\n%s", err, out)
	}
	return bin
}

// runReporter runs the reporter binary with args and returns its standard output.
func runReporter(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reporter %s: %v\n%s", args[0], err, stderr.String())
	}
	return out
}

// resourcesJSON and recommendationJSON are the contract of `reporter rightsize --format json`,
// spelled out here rather than taken from the renderer.
type resourcesJSON struct {
	CPURequest    *float64 `json:"cpuRequest"`
	CPULimit      *float64 `json:"cpuLimit"`
	MemoryRequest *float64 `json:"memoryRequest"`
	MemoryLimit   *float64 `json:"memoryLimit"`
}

type recommendationJSON struct {
	Cluster        string        `json:"cluster"`
	Namespace      string        `json:"namespace"`
	WorkloadKind   string        `json:"workloadKind"`
	Workload       string        `json:"workload"`
	Container      string        `json:"container"`
	Current        resourcesJSON `json:"current"`
	Recommended    resourcesJSON `json:"recommended"`
	MonthlySavings *float64      `json:"monthlySavings"`
	Risk           string        `json:"risk"`
	Evidence       string        `json:"evidence"`
	Flags          []string      `json:"flags"`
}

// checkRightsizing runs `reporter rightsize --format json` and `reporter qos --format json`
// over the synthetic cluster's whole window and compares them with what its profiles imply.
func checkRightsizing(t *testing.T, e *e2e, bin string) {
	// The window runs to the hour after End, as a window ending at the current hour would:
	// the collector ran at End + 5 min, and its live snapshot of the containers, nodes and
	// autoscalers is the latest one.
	window := e.exp.Start.Format(time.RFC3339) + "," + e.exp.End.Add(time.Hour).Format(time.RFC3339)

	t.Run("reporter rightsize matches the synthetic profiles", func(t *testing.T) {
		out := runReporter(t, bin, "rightsize", "--clickhouse-dsn", e.dsn, "--cluster", "e2e", "--window", window, "--format", "json")
		var recs []recommendationJSON
		if err := json.Unmarshal(out, &recs); err != nil {
			t.Fatalf("rightsize JSON: %v\n%s", err, out)
		}
		type key struct{ ns, wl, ctr string }
		got := map[key]recommendationJSON{}
		for _, r := range recs {
			got[key{r.Namespace, r.Workload, r.Container}] = r
		}
		var checked, young, oom int
		for _, w := range e.exp.Workloads {
			r, ok := got[key{w.Namespace, w.Workload.Name, w.Container}]
			if !ok {
				t.Errorf("%s/%s/%s: no recommendation", w.Namespace, w.Workload.Name, w.Container)
				continue
			}
			name := w.Namespace + "/" + w.Workload.Name + "/" + w.Container
			if r.Cluster != "e2e" || r.WorkloadKind != w.Workload.Kind || r.MonthlySavings == nil || r.Evidence == "" {
				t.Errorf("%s: cluster %q, kind %q (want %q), savings %v, evidence %q", name, r.Cluster, r.WorkloadKind, w.Workload.Kind, r.MonthlySavings, r.Evidence)
			}
			span := w.LastMinute.Sub(w.FirstMinute) + time.Minute
			if span < 24*time.Hour || w.Samples < 100 {
				// Too young (or too short-lived): no values, flagged.
				if !contains(r.Flags, "insufficient-data") || r.Recommended != (resourcesJSON{}) {
					t.Errorf("%s (%s of data, %d samples): flags %v, recommended %+v; want insufficient-data and no values",
						name, span, w.Samples, r.Flags, r.Recommended)
				}
				if w.Profile == synthetic.ProfileYoung {
					young++
				}
				continue
			}
			checked++
			if r.Recommended.CPURequest == nil || r.Recommended.MemoryRequest == nil || r.Recommended.MemoryLimit == nil {
				t.Errorf("%s: recommended %+v, want values", name, r.Recommended)
				continue
			}
			// CPU: the true nearest-rank p95 of the pooled 1-minute rates, at least 10m, as
			// the value of its bucket in the rollups: within 0.5%.
			wantCPU := math.Max(w.CPUUsageP95Cores, 0.010)
			if g := *r.Recommended.CPURequest; math.Abs(g-wantCPU) > 0.005*wantCPU {
				t.Errorf("%s: CPU request %.4f, want %.4f (true p95 %.4f) within 0.5%%", name, g, wantCPU, w.CPUUsageP95Cores)
			}
			if r.Recommended.CPULimit != nil {
				t.Errorf("%s: CPU limit %v, want none", name, *r.Recommended.CPULimit)
			}
			// Memory: peak × 1.15, at least 64 MiB; after an OOM kill at least
			// max(limit at the kill × 1.2, peak + 100 MiB).
			peak := float64(w.MemoryPeakBytes)
			wantMem := math.Max(peak*1.15, 64<<20)
			if w.OOMKills > 0 {
				oom++
				wantMem = math.Max(wantMem, math.Max(limitAtKill(e.exp, w)*1.2, peak+100<<20))
				if !contains(r.Flags, "oom-bump") || r.Risk != "high" {
					t.Errorf("%s: OOM-killed %d times, flags %v and risk %s; want oom-bump, high", name, w.OOMKills, r.Flags, r.Risk)
				}
			}
			for what, g := range map[string]float64{"memory request": *r.Recommended.MemoryRequest, "memory limit": *r.Recommended.MemoryLimit} {
				if math.Abs(g-wantMem) > 0.01*wantMem {
					t.Errorf("%s: %s %.0f, want %.0f (peak %.0f) within 1%%", name, what, g, wantMem, peak)
				}
			}
			if w.HPAResources != nil && !contains(r.Flags, "hpa") {
				t.Errorf("%s: scaled by an HPA on %v, flags %v; want hpa", name, w.HPAResources, r.Flags)
			}
		}
		if len(recs) != len(e.exp.Workloads) {
			t.Errorf("%d recommendations, want one per workload container: %d", len(recs), len(e.exp.Workloads))
		}
		if checked < 10 || young == 0 || oom == 0 {
			t.Errorf("checked %d sized workload containers, %d too young, %d OOM-killed; the synthetic cluster has more", checked, young, oom)
		}
		t.Logf("%d recommendations: %d sized, %d too young, %d OOM-bumped", len(recs), checked, young, oom)
	})

	t.Run("reporter qos lists the containers whose limits differ from their requests", func(t *testing.T) {
		out := runReporter(t, bin, "qos", "--clickhouse-dsn", e.dsn, "--cluster", "e2e", "--window", window, "--format", "json",
			"--at", e.now.Add(5*time.Minute).Format(time.RFC3339))
		var rep struct {
			Findings []struct {
				Namespace, WorkloadKind, Workload, Container string
			} `json:"findings"`
			Nodes []struct {
				Node string `json:"node"`
			} `json:"nodes"`
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("qos JSON: %v\n%s", err, out)
		}
		// The API server is shared (a demo may have loaded its own cluster): e2e- namespaces only.
		var got []string
		for _, f := range rep.Findings {
			if strings.HasPrefix(f.Namespace, "e2e-") {
				got = append(got, f.Namespace+"/"+f.Workload+"/"+f.Container)
			}
		}
		// Every workload container running at the end with a memory limit missing or unlike
		// its request (no workload opts in to CPU request = limit), BestEffort ones included.
		seen := map[string]bool{}
		var want []string
		for _, c := range e.exp.Containers {
			k := c.Namespace + "/" + c.Workload.Name + "/" + c.Container.Container
			if c.Init || !c.RunningUntil.IsZero() || c.ObservedAt.IsZero() || seen[k] {
				continue
			}
			if c.MemoryLimitBytes == 0 || c.MemoryLimitBytes != c.MemoryRequestBytes {
				seen[k] = true
				want = append(want, k)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("qos findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		nodes := 0
		for _, n := range rep.Nodes {
			for _, en := range e.exp.Nodes {
				if n.Node == en.Name {
					nodes++
				}
			}
		}
		if len(want) == 0 || nodes != len(e.exp.Nodes) {
			t.Errorf("%d findings expected, %d node reports for the %d nodes", len(want), nodes, len(e.exp.Nodes))
		}
	})

	t.Run("reporter rightsize --backtest counts what the samples show", func(t *testing.T) {
		// Advice from the first day [Start, Start+24h), scored against the second. A day of
		// data is just short of the default minimum (the first minute has no rate), so the
		// minimum is lowered to 12 h.
		mid := e.exp.Start.Add(24 * time.Hour)
		later := store.Window{Cluster: "e2e", From: mid, To: e.exp.End}
		out := runReporter(t, bin, "rightsize", "--clickhouse-dsn", e.dsn, "--cluster", "e2e", "--backtest", "--format", "json", "--min-window", "12h",
			"--window", later.From.Format(time.RFC3339)+","+later.To.Format(time.RFC3339))
		var bt struct {
			Containers []struct {
				Namespace, Workload, Container string
				Recommended                    resourcesJSON
				LaterSamples                   int      `json:"laterSamples"`
				CPUOver                        int      `json:"cpuOverRequestSamples"`
				MemOver                        int      `json:"memoryOverLimitSamples"`
				Verdict                        string   `json:"verdict"`
				Realised                       *float64 `json:"realisedMonthlySavings"`
			} `json:"containers"`
		}
		if err := json.Unmarshal(out, &bt); err != nil {
			t.Fatalf("backtest JSON: %v\n%s", err, out)
		}
		// The same counts, from the raw samples read back into Go. A sample within 1e-6 of a
		// threshold (the JSON rounds cores to 6 decimals) may fall either way.
		samples, err := e.store.UsageSamples(context.Background(), later)
		if err != nil {
			t.Fatal(err)
		}
		scored := 0
		for _, c := range bt.Containers {
			name := c.Namespace + "/" + c.Workload + "/" + c.Container
			if c.Recommended.CPURequest == nil {
				continue
			}
			cpuReq, memLim := *c.Recommended.CPURequest, *c.Recommended.MemoryLimit
			var n, cpuOver, memOver, ambiguous int
			for _, s := range samples {
				if s.Namespace != c.Namespace || s.Workload.Name != c.Workload || s.Container != c.Container {
					continue
				}
				n++
				if math.Abs(s.CPUUsageCores-cpuReq) < 1e-6 {
					ambiguous++
				} else if s.CPUUsageCores > cpuReq {
					cpuOver++
				}
				if float64(s.MemoryWorkingSetBytes) > memLim {
					memOver++
				}
			}
			if c.LaterSamples != n || c.MemOver != memOver || c.CPUOver < cpuOver || c.CPUOver > cpuOver+ambiguous {
				t.Errorf("%s: later samples %d, CPU over %d, memory over %d; the samples say %d, %d (+%d ambiguous), %d",
					name, c.LaterSamples, c.CPUOver, c.MemOver, n, cpuOver, ambiguous, memOver)
			}
			// Nobody changed a request between the windows: nothing was realised.
			if c.Realised != nil && *c.Realised != 0 {
				t.Errorf("%s: realised %v, want 0 (requests unchanged)", name, *c.Realised)
			}
			if n > 0 {
				scored++
				t.Logf("%s: %s, CPU over the request in %.1f%% of %d samples, memory over the limit in %d", name, c.Verdict,
					100*float64(c.CPUOver)/float64(n), n, c.MemOver)
			}
		}
		if scored < 5 {
			t.Errorf("only %d containers scored", scored)
		}
	})

	t.Run("history rebuilt from kube-state-metrics carries the live pods' labels", func(t *testing.T) {
		// kube-state-metrics has no pod labels; a pod the API server still has lends them to
		// its history, so cost by team covers the hours before the collector ran.
		rows, err := e.store.Allocations(context.Background(), store.Window{Cluster: "e2e", From: e.exp.Start, To: e.exp.End})
		if err != nil {
			t.Fatal(err)
		}
		live := map[string]string{}
		for _, c := range e.exp.Containers {
			if c.RunningUntil.IsZero() {
				live[c.Namespace+"/"+c.Pod] = c.Labels["team"]
			}
		}
		checked := 0
		for _, r := range rows {
			team, ok := live[r.Namespace+"/"+r.Pod]
			if r.Idle || !ok {
				continue
			}
			checked++
			if r.Labels["team"] != team {
				t.Errorf("%s/%s at %s: team %q, want %q", r.Namespace, r.Pod, r.Hour, r.Labels["team"], team)
				break
			}
		}
		if checked < 100 {
			t.Errorf("only %d cost rows of live pods", checked)
		}
	})

	t.Run("the daily recommendations are stored", func(t *testing.T) {
		// The collector ran at End + 5 min: the day starting at End has its recommendations,
		// made from the 14 days before it.
		day := e.exp.End.Truncate(24 * time.Hour)
		stored, err := e.store.Recommendations(context.Background(), store.Window{Cluster: "e2e", From: day, To: day.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(e.exp.Workloads) {
			t.Errorf("%d stored recommendations for %s, want %d", len(stored), day.Format(time.DateOnly), len(e.exp.Workloads))
		}
		for _, s := range stored {
			if !s.WindowEnd.Equal(day) || s.WindowEnd.Sub(s.WindowStart) != 14*24*time.Hour {
				t.Errorf("stored window [%s, %s), want the 14 days before %s", s.WindowStart, s.WindowEnd, day)
				break
			}
		}
	})
}

// limitAtKill is the largest memory limit any of w's containers was OOM-killed under.
func limitAtKill(e synthetic.Expected, w synthetic.ExpectedWorkload) float64 {
	var limit uint64
	for _, c := range e.Containers {
		if c.Namespace == w.Namespace && c.Workload == w.Workload && c.Container.Container == w.Container {
			for _, k := range c.OOMKills {
				limit = max(limit, k.MemoryLimitBytes)
			}
		}
	}
	return float64(limit)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
