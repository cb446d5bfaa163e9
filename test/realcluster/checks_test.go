package realcluster

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/recommend"
	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/store"
)

// Tolerances of the checks (issue: real clusters).
const (
	usageTolerance = 0.05 // CPU and working set vs the configured burn and memory
	costTolerance  = 0.01 // a container's cost vs the hand computation
)

// row is one container's line of the validation table.
type row struct {
	spec                      spec
	pod                       string
	cpu, memory               float64 // measured means in the steady window (or the pod's full minutes)
	minutes, realMinutes      float64 // running minutes: tally's and the API's
	cost, wantCost            float64
	recCPU, recMemory         float64
	flags                     []string
	usageChecked, costChecked bool
	wantRecCPU, wantRecMemory float64
	recommendationChecked     bool
	kills                     int
	restarts                  int32
}

func checkRun(t *testing.T, r *run) {
	ctx := context.Background()
	w := store.Window{Cluster: clusterName, From: r.from, To: r.to}
	containers, err := r.st.Containers(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := r.st.UsageSamples(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[podKey]*row{}
	rowOf := func(k podKey) *row {
		if rows[k] == nil {
			s, _ := specOf(k.namespace, k.pod)
			rows[k] = &row{spec: s, pod: k.pod}
		}
		return rows[k]
	}

	t.Run("owners", func(t *testing.T) { checkOwners(t, containers, samples) })
	t.Run("usage", func(t *testing.T) { checkUsage(t, r, samples, rowOf) })
	allocs := allocate(t, r)
	t.Run("cost", func(t *testing.T) { checkCost(t, r, allocs, samples, rowOf) })
	t.Run("oom", func(t *testing.T) { checkOOM(t, r, containers, rowOf) })
	t.Run("rightsizing", func(t *testing.T) { checkRightsizing(t, r, rows) })
	t.Run("teams", func(t *testing.T) { checkTeams(t, r, allocs) })

	if path := os.Getenv("TALLY_WRITE_VALIDATION"); path != "" {
		if err := os.WriteFile(path, []byte(validationTable(r, rows)), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
}

// wantWorkload is the top-level owner a pod of s has.
func (s spec) wantWorkload() model.WorkloadRef {
	return model.WorkloadRef{Kind: s.kind, Name: s.name}
}

// checkOwners: every pod is seen with the top of its real owner chain, in the inventory and
// in its usage.
func checkOwners(t *testing.T, containers []model.Container, samples []model.UsageSample) {
	seen := map[string]map[string]bool{} // spec → pods
	check := func(what, ns, pod string, got model.WorkloadRef) {
		s, ok := specOf(ns, pod)
		if !ok {
			t.Errorf("%s: pod %s/%s belongs to no workload of the suite", what, ns, pod)
			return
		}
		if got != s.wantWorkload() {
			t.Errorf("%s: pod %s/%s has workload %s/%s, want %s/%s", what, ns, pod, got.Kind, got.Name, s.kind, s.name)
		}
		if seen[s.String()] == nil {
			seen[s.String()] = map[string]bool{}
		}
		seen[s.String()][pod] = true
	}
	for _, c := range containers {
		if _, ours := namespaces[c.Namespace]; ours {
			check("inventory", c.Namespace, c.Pod, c.Workload)
		}
	}
	for _, s := range samples {
		if _, ours := namespaces[s.Namespace]; ours {
			check("usage", s.Namespace, s.Pod, s.Workload)
		}
	}
	for _, s := range specs {
		want := 1
		switch s.kind {
		case "Deployment", "StatefulSet":
			want = int(s.replicas)
		case "CronJob":
			want = 2 // it runs every minute; at least two of its Jobs fall in the window
		}
		if got := len(seen[s.String()]); got < want {
			t.Errorf("%s: %d pods seen, want at least %d", s, got, want)
		}
	}
}

// checkUsage: each steady container's mean CPU and working set in the steady window within
// 5% of its configuration; the Job's and the deleted pod's over their own full minutes.
func checkUsage(t *testing.T, r *run, samples []model.UsageSample, rowOf func(podKey) *row) {
	type acc struct{ cpu, mem, n float64 }
	sums := map[podKey]*acc{}
	for _, u := range samples {
		k := podKey{u.Namespace, u.Pod}
		s, ok := specOf(k.namespace, k.pod)
		if !ok || s.cpu == 0 || u.Container != containerName {
			continue
		}
		from, to := r.steadyFrom, r.steadyTo
		if !s.steady { // the Job and the deleted pod: the full minutes they ran
			l, ok := r.lives[k]
			if !ok {
				continue
			}
			from = l.start.Truncate(time.Minute).Add(time.Minute)
			to = l.end.Truncate(time.Minute)
		}
		if u.Timestamp.Before(from) || !u.Timestamp.Before(to) {
			continue
		}
		a := sums[k]
		if a == nil {
			a = &acc{}
			sums[k] = a
		}
		a.cpu += u.CPUUsageCores
		a.mem += float64(u.MemoryWorkingSetBytes)
		a.n++
	}
	for _, s := range specs {
		if s.cpu == 0 {
			continue
		}
		found := false
		for k, a := range sums {
			if ks, _ := specOf(k.namespace, k.pod); ks.String() != s.String() {
				continue
			}
			found = true
			rw := rowOf(k)
			rw.cpu, rw.memory, rw.usageChecked = a.cpu/a.n, a.mem/a.n, true
			if dev := rw.cpu/s.cpu - 1; math.Abs(dev) > usageTolerance {
				t.Errorf("%s: mean CPU %.4f cores over %v minutes, configured %.3f (%+.1f%%)", k.pod, rw.cpu, a.n, s.cpu, 100*dev)
			}
			if dev := rw.memory/s.memory - 1; math.Abs(dev) > usageTolerance {
				t.Errorf("%s: mean working set %.1f MiB, holds %.0f MiB (%+.1f%%)", k.pod, rw.memory/mib, s.memory/mib, 100*dev)
			}
		}
		if !found {
			t.Errorf("%s: no usage samples in its window", s)
		}
	}
}

// allocate runs the hourly allocation of every hour the run touched on what the collector
// stored (the current hour is not complete, so the collector has not allocated it itself):
// the container hours from ClickHouse, the node priced by the collector's prices job.
func allocate(t *testing.T, r *run) []model.Allocation {
	ctx := context.Background()
	var rows []model.Allocation
	for h := r.from.Truncate(time.Hour); h.Before(r.to); h = h.Add(time.Hour) {
		w := store.Window{Cluster: clusterName, From: h, To: h.Add(time.Hour)}
		containers, err := r.st.ContainerHours(ctx, clusterName, h)
		if err != nil {
			t.Fatal(err)
		}
		prices, err := r.st.NodePrices(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		nodes, err := r.st.Nodes(ctx, store.Window{Cluster: clusterName, From: r.from, To: r.to})
		if err != nil {
			t.Fatal(err)
		}
		if len(prices) != 1 || len(nodes) == 0 {
			t.Fatalf("hour %s: %d node prices and %d node snapshots, want the one node", h.Format(time.TimeOnly), len(prices), len(nodes))
		}
		p, n := prices[0], nodes[len(nodes)-1]
		// The book has default rates only: the node's unit rates are those rates.
		if math.Abs(p.CPUCoreHourCost/cpuCoreHour-1) > 1e-9 || math.Abs(p.RAMGiBHourCost/ramGiBHour-1) > 1e-9 {
			t.Errorf("node unit rates %v/core-hour, %v/GiB-hour; the price book says %v and %v", p.CPUCoreHourCost, p.RAMGiBHourCost, cpuCoreHour, ramGiBHour)
		}
		nh := model.NodeHour{Cluster: clusterName, Node: p.Node, Hour: h, Minutes: 60, CPUCores: n.CPUCapacityCores,
			RAMBytes: float64(n.MemoryCapacityBytes), Price: p, Priced: true}
		out, warnings := allocation.Hourly(containers, []model.NodeHour{nh})
		for _, w := range warnings {
			t.Logf("allocation %s: %s", h.Format(time.TimeOnly), w)
		}
		rows = append(rows, out...)
	}
	return rows
}

// expectedCost is a container's cost worked by hand from its configuration and the times
// the API says it ran: every minute of [from, to) it ran in, at least partly, is charged
// max(request, configured use × the share of the minute it ran) for CPU and max(request,
// memory held) for RAM, at the price book's rates.
func expectedCost(s spec, l life, from, to time.Time) (cost, minutes float64) {
	end := l.end
	if end.IsZero() || end.After(to) {
		end = to
	}
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		ov := earlier(end, m.Add(time.Minute)).Sub(later(l.start, m))
		if ov <= 0 {
			continue
		}
		f := ov.Seconds() / 60
		cpu := math.Max(s.cpuRequest, s.cpu*f)
		mem := math.Max(s.memRequest, s.memory)
		cost += (cpu*cpuCoreHour + mem/(1<<30)*ramGiBHour) / 60
		minutes++
	}
	return cost, minutes
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// checkCost: each container's cost within 1% of the hand computation; the Job's running
// minutes within one minute of its real duration.
func checkCost(t *testing.T, r *run, allocs []model.Allocation, samples []model.UsageSample, rowOf func(podKey) *row) {
	got := map[podKey]float64{}
	for _, a := range allocs {
		if !a.Idle && a.Container == containerName {
			got[podKey{a.Namespace, a.Pod}] += a.TotalCost()
		}
	}
	running := map[podKey]float64{}
	for _, u := range samples {
		running[podKey{u.Namespace, u.Pod}]++
	}
	checked := 0
	for k, l := range r.lives {
		s, ok := specOf(k.namespace, k.pod)
		if !ok || !s.costed {
			continue
		}
		checked++
		want, minutes := expectedCost(s, l, r.from, r.to)
		rw := rowOf(k)
		rw.cost, rw.wantCost, rw.minutes, rw.costChecked = got[k], want, running[k], true
		end := l.end
		if end.IsZero() || end.After(r.to) {
			end = r.to
		}
		rw.realMinutes = end.Sub(l.start).Minutes()
		if dev := got[k]/want - 1; !(math.Abs(dev) <= costTolerance) {
			t.Errorf("%s: cost %.7f, by hand %.7f over %v minutes (%+.2f%%)", k.pod, got[k], want, minutes, 100*dev)
		}
		if running[k] != minutes {
			t.Errorf("%s: %v running minutes, it ran in %v minutes of the window", k.pod, running[k], minutes)
		}
		if s.kind == "Job" {
			if d := math.Abs(running[k] - rw.realMinutes); d > 1 {
				t.Errorf("Job %s: %v running minutes, it ran %.2f minutes", k.pod, running[k], rw.realMinutes)
			}
		}
	}
	// web ×2, db, throttled, temp, agent, etl, ingest.
	if checked != 8 {
		t.Errorf("%d containers' costs checked, want 8 (lives %v)", checked, r.lives)
	}
}

// checkOOM: the container OOM-killed at its limit has OOM kill events and restarts; the one
// whose child processes are OOM-killed while PID 1 survives has kill events and no restart.
func checkOOM(t *testing.T, r *run, containers []model.Container, rowOf func(podKey) *row) {
	events, err := r.st.ContainerEvents(context.Background(), store.Window{Cluster: clusterName, From: r.from, To: r.to})
	if err != nil {
		t.Fatal(err)
	}
	kills := map[string]map[string]int{} // workload → reason → kills
	for _, e := range events {
		if _, ours := r.restarts[podKey{e.Namespace, e.Pod}]; e.Kind != model.EventOOMKill || !ours {
			continue // a previous run's pod may linger in kube-state-metrics' first step
		}
		if kills[e.Workload.Name] == nil {
			kills[e.Workload.Name] = map[string]int{}
		}
		kills[e.Workload.Name][e.Reason] += int(max(e.Count, 1))
		for k := range r.restarts {
			if k.namespace == e.Namespace && k.pod == e.Pod {
				rowOf(k).kills += int(max(e.Count, 1))
			}
		}
	}
	restarts := map[string]uint32{}
	for _, c := range containers {
		if c.Workload.Kind == "Deployment" {
			restarts[c.Workload.Name] = max(restarts[c.Workload.Name], c.RestartCount)
		}
	}
	for k, n := range r.restarts {
		rowOf(k).restarts = n
	}
	if kills["oom"]["OOMKilled"] == 0 || restarts["oom"] == 0 {
		t.Errorf("oom: %v kill events, %d restarts stored; want both", kills["oom"], restarts["oom"])
	}
	var apiRestarts int32
	for k, n := range r.restarts {
		if s, _ := specOf(k.namespace, k.pod); s.name == "oom" {
			apiRestarts = n
		}
	}
	if got := kills["oom"]["OOMKilled"]; got > int(apiRestarts)+1 {
		t.Errorf("oom: %d OOM kills recorded, the API counts %d restarts (each kill counted once)", got, apiRestarts)
	}
	// A child is killed every 30 s (after about 2 s of growth): at least two in the window.
	if got := kills["childoom"]["ProcessOOMKilled"]; got < 2 || restarts["childoom"] != 0 {
		t.Errorf("childoom: %v kill events and %d restarts; want ≥ 2 ProcessOOMKilled and no restart", kills["childoom"], restarts["childoom"])
	}
	if n := r.to.Sub(r.from).Seconds()/30 + 1; float64(kills["childoom"]["ProcessOOMKilled"]) > n {
		t.Errorf("childoom: %d kills in %s, more than one per 30 s", kills["childoom"]["ProcessOOMKilled"], r.to.Sub(r.from))
	}
}

// checkRightsizing: recommendations over the run (with the minimum data lowered to what a
// few minutes give; rightsizing reads hourly rollups, so the window starts on the hour):
// steady workloads get their configured use back, the OOM-killed ones
// are bumped and flagged, the throttled one flagged.
func checkRightsizing(t *testing.T, r *run, rows map[podKey]*row) {
	p := rightsizing.DefaultPolicy()
	p.MinWindow, p.MinSamples = time.Minute, 1
	recs, _, err := recommend.Rightsizing(context.Background(), r.st, recommend.Request{Cluster: clusterName, From: r.from.Truncate(time.Hour), To: r.to, Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]rightsizing.Recommendation{}
	for _, rec := range recs {
		if _, ours := namespaces[rec.Namespace]; ours && rec.Container == containerName {
			byName[rec.Workload.Name] = rec
		}
	}
	for k, rw := range rows {
		rec, ok := byName[rw.spec.name]
		if !ok {
			continue
		}
		rw.flags = rec.Flags
		if rec.Recommended.CPURequest != nil {
			rw.recCPU = *rec.Recommended.CPURequest
		}
		if rec.Recommended.MemoryRequest != nil {
			rw.recMemory = *rec.Recommended.MemoryRequest
		}
		_ = k
	}
	for _, s := range specs {
		rec, ok := byName[s.name]
		if !ok {
			if s.steady || s.name == "oom" || s.name == "childoom" {
				t.Errorf("%s: no recommendation", s)
			}
			continue
		}
		if !s.steady {
			continue
		}
		// CPU: the 95th percentile of a steady burn is the burn; memory: the peak working set
		// (what it holds) plus the 15% buffer, at least the 64 MiB floor.
		wantCPU, wantMem := math.Max(s.cpu, p.CPUFloorCores), math.Max(s.memory*(1+p.MemoryBufferPercent/100), p.MemoryFloorBytes)
		gotCPU, gotMem := deref(rec.Recommended.CPURequest), deref(rec.Recommended.MemoryRequest)
		for _, rw := range rows {
			if rw.spec.name == s.name {
				rw.wantRecCPU, rw.wantRecMemory, rw.recommendationChecked = wantCPU, wantMem, true
			}
		}
		if dev := gotCPU/wantCPU - 1; !(math.Abs(dev) <= usageTolerance) {
			t.Errorf("%s: recommended CPU %.4f, want %.4f (%+.1f%%); evidence: %s", s, gotCPU, wantCPU, 100*dev, rec.Evidence)
		}
		if dev := gotMem/wantMem - 1; !(math.Abs(dev) <= usageTolerance) {
			t.Errorf("%s: recommended memory %.1f MiB, want %.1f MiB (%+.1f%%); evidence: %s", s, gotMem/mib, wantMem/mib, 100*dev, rec.Evidence)
		}
		if slices.Contains(rec.Flags, rightsizing.FlagOOMBump) {
			t.Errorf("%s: flagged %v", s, rec.Flags)
		}
	}
	for name, flag := range map[string]string{"oom": rightsizing.FlagOOMBump, "childoom": rightsizing.FlagOOMBump, "throttled": rightsizing.FlagThrottled} {
		if rec := byName[name]; !slices.Contains(rec.Flags, flag) {
			t.Errorf("%s: flags %v, want %s (evidence: %s)", name, rec.Flags, flag, rec.Evidence)
		}
	}
	// The OOM bump: at least the limit at the kill × 1.2.
	if got := deref(byName["oom"].Recommended.MemoryRequest); got < 64*mib*p.OOMLimitFactor {
		t.Errorf("oom: recommended memory %.1f MiB, want at least 64 MiB × %.1f", got/mib, p.OOMLimitFactor)
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// checkTeams: --by label:team puts each namespace's costs under its namespace's team, and a
// pod's own team label wins.
func checkTeams(t *testing.T, r *run, allocs []model.Allocation) {
	nsLabels, err := r.st.NamespaceLabels(context.Background(), store.Window{Cluster: clusterName, From: r.from, To: r.to})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, a := range allocs {
		if a.Idle {
			continue
		}
		team := namespaces[a.Namespace]
		if s, ok := specOf(a.Namespace, a.Pod); ok && s.podLabels["team"] != "" {
			team = s.podLabels["team"]
		}
		if team == "" {
			team = allocation.UnallocatedName
		}
		want[team] += a.TotalCost()
	}
	totals, err := allocation.Aggregate(allocs, allocation.Options{By: []string{"label:team"}, Idle: allocation.IdleHide,
		WindowHours: r.to.Sub(r.from).Hours(), Namespaces: nsLabels})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, tot := range totals {
		got[tot.Name] = tot.TotalCost
	}
	for _, team := range []string{"shop", "data", "ops", "dba"} {
		if want[team] <= 0 || math.Abs(got[team]/want[team]-1) > 1e-9 {
			t.Errorf("team %s: %.7f, want %.7f (every cost of its namespaces)", team, got[team], want[team])
		}
	}
	if got[allocation.UnallocatedName] != want[allocation.UnallocatedName] {
		t.Errorf("__unallocated__ %.7f, want %.7f: %v", got[allocation.UnallocatedName], want[allocation.UnallocatedName], got)
	}
}

// validationTable is docs/validation-cluster.md: per container, configured vs measured.
func validationTable(r *run, rows map[podKey]*row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Real-cluster validation (generated)\n\n")
	fmt.Fprintf(&b, "Written by `TestRealCluster` (`test/realcluster`) with `TALLY_WRITE_VALIDATION=docs/validation-cluster.md`\n"+
		"on %s: Kubernetes v1.35.4 single node (hack/cluster), Prometheus 15 s scrape of `/metrics/cadvisor` and\n"+
		"`/metrics/resource`, the collector running with `--usage-every 1m --usage-delay 1m`. Collected window\n"+
		"[%s, %s) UTC; steady window [%s, %s). Rates: %.6f per core-hour, %.6f per GiB-hour.\n\n",
		r.to.Format("2006-01-02"), r.from.Format(time.TimeOnly), r.to.Format(time.TimeOnly),
		r.steadyFrom.Format(time.TimeOnly), r.steadyTo.Format(time.TimeOnly), cpuCoreHour, ramGiBHour)
	b.WriteString("| workload | pod | CPU configured → measured (cores) | memory held → working set (MiB) | running min: tally / API | cost: tally / by hand | recommended CPU / memory (MiB) | flags | OOM kills / restarts |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	keys := make([]podKey, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].namespace+keys[i].pod < keys[j].namespace+keys[j].pod })
	for _, k := range keys {
		rw := rows[k]
		s := rw.spec
		usage, cost, rec := "–", "–", "–"
		if rw.usageChecked {
			usage = fmt.Sprintf("%.3f → %.4f (%+.1f%%) | %.0f → %.1f (%+.1f%%)", s.cpu, rw.cpu, 100*(rw.cpu/s.cpu-1),
				s.memory/mib, rw.memory/mib, 100*(rw.memory/s.memory-1))
		} else {
			usage = "– | –"
		}
		minutes := "–"
		if rw.costChecked {
			minutes = fmt.Sprintf("%.0f / %.2f", rw.minutes, rw.realMinutes)
			cost = fmt.Sprintf("%.7f / %.7f (%+.2f%%)", rw.cost, rw.wantCost, 100*(rw.cost/rw.wantCost-1))
		}
		if rw.recCPU > 0 || rw.recMemory > 0 {
			rec = fmt.Sprintf("%.4f / %.1f", rw.recCPU, rw.recMemory/mib)
			if rw.recommendationChecked {
				rec += fmt.Sprintf(" (want %.3f / %.1f)", rw.wantRecCPU, rw.wantRecMemory/mib)
			}
		}
		fmt.Fprintf(&b, "| %s %s/%s | %s | %s | %s | %s | %s | %s | %d / %d |\n", s.kind, s.namespace, s.name, rw.pod, usage, minutes, cost,
			rec, strings.Join(rw.flags, ", "), rw.kills, rw.restarts)
	}
	return b.String()
}
