package allocation

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// minutes is the set of minutes [from, to).
func minutes(from, to int) model.MinuteSet {
	var s model.MinuteSet
	for m := from; m < to; m++ {
		s |= 1 << m
	}
	return s
}

// volumeExample is the worked example of docs/cost-model.md ("Persistent volumes"), one
// hour of cluster c:
//
//   - pv-data, 100 GiB at 0.073 a GiB-month (0.0001 a GiB-hour: 0.01 an hour), bound to
//     shop/data, mounted by web-0 all hour and web-1 in minutes 0–29;
//   - pv-cache, 20 GiB at 0.0365 a GiB-month (0.00005 a GiB-hour), bound to shop/cache, which
//     no pod mounts;
//   - pv-old, 50 GiB at 0.0001 a GiB-hour, Released (no claim), deleted at minute 40;
//   - pv-logs, 10 GiB at 0.0001 a GiB-hour, bound to shop/logs, mounted by logs-0 from minute 20.
func volumeExample() ([]model.VolumeHour, []model.ClaimPodHour) {
	h := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	price := func(name string, gibHour float64) model.VolumePrice {
		return model.VolumePrice{Cluster: "c", Hour: h, Volume: name, Currency: "USD", GiBHourCost: gibHour}
	}
	vol := func(name string, gib float64, ns, claim string, exists model.MinuteSet, gibHour float64) model.VolumeHour {
		return model.VolumeHour{Cluster: "c", Volume: name, Hour: h, Minutes: exists, CapacityBytes: gib * bytesPerGiB,
			ClaimNamespace: ns, ClaimName: claim, Price: price(name, gibHour), Priced: true}
	}
	pod := func(claim, name, workload string, running model.MinuteSet) model.ClaimPodHour {
		return model.ClaimPodHour{Cluster: "c", Hour: h, Namespace: "shop", Claim: claim, Pod: name, Node: "n1",
			Workload: model.WorkloadRef{Kind: "StatefulSet", Name: workload}, App: workload, RunningMinutes: running}
	}
	return []model.VolumeHour{
			vol("pv-data", 100, "shop", "data", model.AllMinutes, 0.0001),
			vol("pv-cache", 20, "shop", "cache", model.AllMinutes, 0.0365/730),
			vol("pv-old", 50, "", "", minutes(0, 40), 0.0001),
			vol("pv-logs", 10, "shop", "logs", model.AllMinutes, 0.0001),
		}, []model.ClaimPodHour{
			pod("data", "web-0", "web", model.AllMinutes),
			pod("data", "web-1", "web", minutes(0, 30)),
			pod("data", "web-0", "web", model.AllMinutes), // a second volume of web-0 on the same claim
			pod("logs", "logs-0", "logs", minutes(20, 60)),
		}
}

func TestVolumesWorkedExample(t *testing.T) {
	volumes, pods := volumeExample()
	rows, warnings := Volumes(volumes, pods)
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	type want struct {
		ns, workload, pod, volume string
		gibHours, cost            float64
	}
	// Worked by hand: minutes 0–29 of pv-data are split between web-0 and web-1 (15 minutes
	// each), minutes 30–59 are web-0's (30): web-0 has 45 of 60 minutes, 75 GiB-hours,
	// 0.01 × 45/60 = 0.0075. pv-cache's hour is shop's unmounted cost: 20 × 0.00005 = 0.001.
	// pv-old's 40 minutes are the cluster's: 50 × 0.0001 × 40/60. pv-logs: logs-0 has 40
	// minutes (0.001 × 40/60), shop's unmounted row the first 20 (0.001 × 20/60).
	wants := []want{
		{"shop", "__unmounted__", "", "pv-cache", 20, 0.001},
		{"shop", "__unmounted__", "", "pv-logs", 10.0 * 20 / 60, 0.001 * 20 / 60},
		{"__unmounted__", "__unmounted__", "", "pv-old", 50.0 * 40 / 60, 0.005 * 40 / 60},
		{"shop", "StatefulSet/logs", "logs-0", "pv-logs", 10.0 * 40 / 60, 0.001 * 40 / 60},
		{"shop", "StatefulSet/web", "web-0", "pv-data", 75, 0.0075},
		{"shop", "StatefulSet/web", "web-1", "pv-data", 25, 0.0025},
	}
	if len(rows) != len(wants) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(wants), rows)
	}
	for _, w := range wants {
		i := slices.IndexFunc(rows, func(r model.Allocation) bool { return r.Volume == w.volume && r.Pod == w.pod })
		if i < 0 {
			t.Errorf("no row for %s of %q", w.volume, w.pod)
			continue
		}
		r := rows[i]
		workload := r.Workload.Name
		if r.Workload.Kind != "" {
			workload = r.Workload.Kind + "/" + r.Workload.Name
		}
		if r.Namespace != w.ns || workload != w.workload || r.TotalCost() != r.PVCost || r.Container != "" {
			t.Errorf("%s of %q: namespace %q, workload %q, total %v, container %q; want %q, %q, only PV cost, no container",
				w.volume, w.pod, r.Namespace, workload, r.TotalCost(), r.Container, w.ns, w.workload)
		}
		near(t, w.volume+" "+w.pod+" pvByteHours", r.PVByteHours, w.gibHours*bytesPerGiB)
		near(t, w.volume+" "+w.pod+" pvCost", r.PVCost, w.cost)
	}

	// Conservation: the rows add up to every volume's capacity × rate × minutes ÷ 60.
	total := 0.0
	for _, r := range rows {
		total += r.PVCost
	}
	near(t, "Σ pvCost", total, 0.01+0.001+0.005*40/60+0.001)

	byNamespace, err := Aggregate(rows, Options{By: []string{KeyNamespace}})
	if err != nil {
		t.Fatal(err)
	}
	checkPV(t, byNamespace, map[string]float64{"shop": 0.01 + 0.001 + 0.001, "__unmounted__": 0.005 * 40 / 60})
	byWorkload, err := Aggregate(rows, Options{By: []string{KeyWorkload}})
	if err != nil {
		t.Fatal(err)
	}
	checkPV(t, byWorkload, map[string]float64{
		"StatefulSet/web":  0.01,
		"StatefulSet/logs": 0.001 * 40 / 60,
		"__unmounted__":    0.001 + 0.001*20/60 + 0.005*40/60,
	})
}

// checkPV compares the totals' pvCost, which must also be their totalCost, with want.
func checkPV(t *testing.T, totals []Total, want map[string]float64) {
	t.Helper()
	if len(totals) != len(want) {
		t.Errorf("%d totals, want %d: %+v", len(totals), len(want), totals)
	}
	for _, tt := range totals {
		w, ok := want[tt.Name]
		if !ok {
			t.Errorf("unexpected total %q", tt.Name)
			continue
		}
		near(t, tt.Name+" pvCost", tt.PVCost, w)
		near(t, tt.Name+" totalCost", tt.TotalCost, w)
	}
}

func TestVolumesWarnings(t *testing.T) {
	volumes, pods := volumeExample()
	unpriced := volumes[0]
	unpriced.Volume, unpriced.Priced, unpriced.ClaimName, unpriced.ClaimNamespace = "pv-free", false, "", ""
	volumes = append(volumes, volumes[1], unpriced)
	pods = append(pods, model.ClaimPodHour{Cluster: "c", Hour: volumes[0].Hour, Namespace: "shop", Claim: "pending", Pod: "db-0", RunningMinutes: model.AllMinutes})
	rows, warnings := Volumes(volumes, pods)
	want := []string{
		"claim c/shop/pending at 2026-03-02T10:00:00Z is mounted by 1 pods but bound to no volume in the hour",
		"volume c/pv-cache at 2026-03-02T10:00:00Z is listed twice",
		"volume c/pv-free at 2026-03-02T10:00:00Z has no price",
	}
	if len(warnings) != len(want) {
		t.Fatalf("warnings %q, want %d", warnings, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(warnings[i], want[i]) {
			t.Errorf("warning %d = %q, want it to start with %q", i, warnings[i], want[i])
		}
	}
	i := slices.IndexFunc(rows, func(r model.Allocation) bool { return r.Volume == "pv-free" })
	if i < 0 || rows[i].PVCost != 0 || rows[i].PVByteHours != 100*bytesPerGiB || rows[i].Namespace != UnmountedName {
		t.Errorf("the unpriced volume's row: %+v; want 100 GiB-hours at no cost, unmounted", rows)
	}
	if n := len(rows); n != 7 {
		t.Errorf("%d rows, want the example's 6 and pv-free's", n)
	}
}

// Over random volumes, claims and pods, the rows of every volume-hour add up to its
// capacity × rate × minutes ÷ 60, and to its byte-hours; no row has a negative share.
func TestVolumesConserve(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	h := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	randomSet := func() model.MinuteSet { return model.MinuteSet(rng.Uint64()) & model.AllMinutes }
	for trial := range 200 {
		var volumes []model.VolumeHour
		var pods []model.ClaimPodHour
		want := map[string][2]float64{} // volume → cost, byte-hours
		for v := range 1 + rng.IntN(6) {
			name := fmt.Sprintf("pv-%d", v)
			claim := ""
			if rng.IntN(4) > 0 {
				claim = fmt.Sprintf("claim-%d", v)
			}
			exists := randomSet()
			gib, rate := float64(1+rng.IntN(500)), rng.Float64()/1000
			volumes = append(volumes, model.VolumeHour{Cluster: "c", Volume: name, Hour: h, Minutes: exists,
				CapacityBytes: gib * bytesPerGiB, ClaimNamespace: "ns", ClaimName: claim, Priced: true,
				Price: model.VolumePrice{GiBHourCost: rate}})
			m := float64(exists.Len())
			want[name] = [2]float64{gib * rate * m / 60, gib * bytesPerGiB * m / 60}
			for p := range rng.IntN(4) {
				pods = append(pods, model.ClaimPodHour{Cluster: "c", Hour: h, Namespace: "ns", Claim: claim,
					Pod: fmt.Sprintf("pod-%d-%d", v, p), RunningMinutes: randomSet()})
			}
		}
		rows, _ := Volumes(volumes, pods)
		got := map[string][2]float64{}
		for _, r := range rows {
			if r.PVCost < 0 || r.PVByteHours <= 0 {
				t.Fatalf("trial %d: row %+v", trial, r)
			}
			g := got[r.Volume]
			got[r.Volume] = [2]float64{g[0] + r.PVCost, g[1] + r.PVByteHours}
		}
		for name, w := range want {
			near(t, fmt.Sprintf("trial %d %s cost", trial, name), got[name][0], w[0])
			near(t, fmt.Sprintf("trial %d %s byte-hours", trial, name), got[name][1], w[1])
		}
	}
}
