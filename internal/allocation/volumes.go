package allocation

import (
	"fmt"
	"sort"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// UnmountedName is the namespace of a volume no claim holds (a cluster cost) and the workload
// of a volume whose claim no running pod mounts (a cost of the claim's namespace).
const UnmountedName = "__unmounted__"

// claimKey identifies a claim during an hour.
type claimKey struct {
	cluster, namespace, claim string
	hour                      int64 // Unix seconds
}

// volumeKey identifies a volume-hour.
type volumeKey struct {
	cluster, volume string
	hour            int64
}

func (k volumeKey) String() string {
	return fmt.Sprintf("%s/%s at %s", k.cluster, k.volume, time.Unix(k.hour, 0).UTC().Format(time.RFC3339))
}

// Volumes returns the cost rows of persistent volumes: for each volume-hour, one row per pod
// that mounted the volume's claim and one UnmountedName row for the minutes nobody did.
//
// A volume costs, for every minute it existed, its capacity in GiB (2^30 bytes) × its GiB-hour
// rate ÷ 60 — the cloud bills the disk's size, not what is written on it. A minute's cost (and
// its capacity, in byte-hours: capacity ÷ 60) is split equally among the pods that mount the
// volume's claim and ran in that minute. A minute of a bound volume that no running pod
// mounts is charged to the claim's namespace, as a row whose workload is UnmountedName; a
// minute of a volume bound to no claim (Available, Released) is a row of the cluster whose
// namespace and workload are UnmountedName. So the rows of a volume-hour add up to its
// capacity × rate × minutes ÷ 60, to float rounding.
//
// A pod that mounts the same claim twice counts once. A row's PVByteHours and PVCost are the
// pod's share; its Volume names the volume; its Node is the pod's. Rows are sorted as
// Hourly's, then by volume.
//
// The warnings name volume-hours listed twice (the first is used), volumes without a price
// (their rows cost 0 and keep their byte-hours), and pods whose claim is bound to no volume
// in the hour (nothing to charge them).
func Volumes(volumes []model.VolumeHour, pods []model.ClaimPodHour) (rows []model.Allocation, warnings []string) {
	mounts := map[claimKey][]int{} // indices into pods, one per pod
	for i := range pods {
		p := &pods[i]
		k := claimKey{p.Cluster, p.Namespace, p.Claim, p.Hour.Unix()}
		dup := false
		for _, j := range mounts[k] {
			if pods[j].Pod == p.Pod {
				dup = true
				break
			}
		}
		if !dup {
			mounts[k] = append(mounts[k], i)
		}
	}

	seen := make(map[volumeKey]bool, len(volumes))
	bound := map[claimKey]bool{}
	for i := range volumes {
		v := &volumes[i]
		k := volumeKey{v.Cluster, v.Volume, v.Hour.Unix()}
		if seen[k] {
			warnings = append(warnings, fmt.Sprintf("volume %s is listed twice: its first entry is used", k))
			continue
		}
		seen[k] = true
		if v.Minutes.Len() == 0 {
			continue
		}
		if !v.Priced {
			warnings = append(warnings, fmt.Sprintf("volume %s has no price: its rows cost 0", k))
		}
		var claim []int
		if v.ClaimName != "" {
			ck := claimKey{v.Cluster, v.ClaimNamespace, v.ClaimName, v.Hour.Unix()}
			bound[ck] = true
			claim = mounts[ck]
		}
		rows = append(rows, volumeRows(v, pods, claim)...)
	}
	for k, idx := range mounts {
		if !bound[k] {
			warnings = append(warnings, fmt.Sprintf("claim %s/%s/%s at %s is mounted by %d pods but bound to no volume in the hour: nothing charged",
				k.cluster, k.namespace, k.claim, time.Unix(k.hour, 0).UTC().Format(time.RFC3339), len(idx)))
		}
	}
	sort.Strings(warnings)
	return sortRows(rows), warnings
}

// volumeRows splits volume-hour v over the pods of its claim (indices into pods), minute by
// minute, and returns one row per pod with a share and one unmounted row when some minute
// had no pod.
func volumeRows(v *model.VolumeHour, pods []model.ClaimPodHour, claim []int) []model.Allocation {
	share := make([]float64, len(claim)) // minutes, each split among the minute's pods
	unmounted := 0
	running := make([]int, 0, len(claim))
	for m := range 60 {
		if !v.Minutes.Has(m) {
			continue
		}
		running = running[:0]
		for i, j := range claim {
			if pods[j].RunningMinutes.Has(m) {
				running = append(running, i)
			}
		}
		if len(running) == 0 {
			unmounted++
			continue
		}
		for _, i := range running {
			share[i] += 1 / float64(len(running))
		}
	}

	rate := 0.0 // per minute, of the whole volume
	if v.Priced {
		rate = v.CapacityBytes / bytesPerGiB * v.Price.GiBHourCost / 60
	}
	row := func(minutes float64) model.Allocation {
		return model.Allocation{
			Cluster:     v.Cluster,
			Hour:        v.Hour.UTC(),
			Volume:      v.Volume,
			PVByteHours: v.CapacityBytes * minutes / 60,
			PVCost:      rate * minutes,
		}
	}
	out := make([]model.Allocation, 0, len(claim)+1)
	for i, j := range claim {
		if share[i] == 0 {
			continue
		}
		p := &pods[j]
		a := row(share[i])
		a.Node, a.Namespace, a.Workload, a.App, a.Pod, a.Labels = p.Node, p.Namespace, p.Workload, p.App, p.Pod, p.Labels
		out = append(out, a)
	}
	if unmounted > 0 {
		a := row(float64(unmounted))
		a.Workload = model.WorkloadRef{Name: UnmountedName}
		a.Namespace = v.ClaimNamespace
		if v.ClaimName == "" {
			a.Namespace = UnmountedName
		}
		out = append(out, a)
	}
	return out
}
