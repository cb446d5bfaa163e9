package prom

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// The persistent volumes' history, from kube-state-metrics: a volume exists while its
// capacity is reported; it is bound to the claim its claim_ref names while that claim is
// reported bound to it (kube_persistentvolumeclaim_info's volumename), so a Released volume,
// whose claim_ref still names its deleted claim, is bound to nothing.
const (
	queryVolumeCapacity = `max by (persistentvolume) (kube_persistentvolume_capacity_bytes)`
	queryVolumeInfo     = `max by (persistentvolume, storageclass, csi_volume_handle, ebs_volume_id, gce_persistent_disk_name, azure_disk_name) (kube_persistentvolume_info)`
	queryVolumeClaimRef = `max by (persistentvolume, claim_namespace, name) (kube_persistentvolume_claim_ref)`
	queryClaimVolume    = `max by (namespace, persistentvolumeclaim, volumename) (kube_persistentvolumeclaim_info{volumename!=""})`
	queryPodClaims      = `max by (namespace, pod, persistentvolumeclaim) (kube_pod_spec_volumes_persistentvolumeclaims_info)`
)

// volumeQueries is the number of range queries per VolumeHistory call.
const volumeQueries = 5

type (
	volumeLabels struct {
		Volume string `json:"persistentvolume"`
	}
	volumeInfoLabels struct {
		Volume       string `json:"persistentvolume"`
		StorageClass string `json:"storageclass"`
		CSIHandle    string `json:"csi_volume_handle"`
		EBSVolume    string `json:"ebs_volume_id"`
		GCEDisk      string `json:"gce_persistent_disk_name"`
		AzureDisk    string `json:"azure_disk_name"`
	}
	claimRefLabels struct {
		Volume    string `json:"persistentvolume"`
		Namespace string `json:"claim_namespace"`
		Claim     string `json:"name"`
	}
	claimVolumeLabels struct {
		Namespace string `json:"namespace"`
		Claim     string `json:"persistentvolumeclaim"`
		Volume    string `json:"volumename"`
	}
	podClaimLabels struct {
		Namespace string `json:"namespace"`
		Pod       string `json:"pod"`
		Claim     string `json:"persistentvolumeclaim"`
	}
)

// VolumeHistory returns, for every minute m of [from, to) (both minute-aligned), one
// model.Volume per volume kube-state-metrics reported at m — its capacity, storage class, disk
// ID and bound claim — and one model.PodClaim per pod, claim it mounts and clock hour it was
// reported in, observed at the hour's start: the same rows however [from, to) is cut into
// chunks, so a re-collection replaces them (a pod's volumes never change). The caller adds what only the API
// knows (the StorageClass's provisioner and type, the volume's labels). Five range queries
// per call, of volumes × 3 + claims + pods' claims series.
func (c *Client) VolumeHistory(ctx context.Context, from, to time.Time) ([]model.Volume, []model.PodClaim, error) {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) || !from.Truncate(time.Minute).Equal(from) || !to.Truncate(time.Minute).Equal(to) {
		return nil, nil, fmt.Errorf("volume history %s: want a non-empty window of whole minutes", windowString(from, to))
	}
	points := int(to.Sub(from) / time.Minute)
	var (
		capacity *table[volumeLabels]
		info     *table[volumeInfoLabels]
		refs     *table[claimRefLabels]
		bound    *table[claimVolumeLabels]
		mounts   *table[podClaimLabels]
	)
	err := runTasks(ctx, volumeQueries, c.opts.Concurrency, func(ctx context.Context, i int) error {
		var err error
		switch i {
		case 0:
			capacity, err = fetch[volumeLabels](ctx, c, rangeRequest("volume capacity", queryVolumeCapacity, from, time.Minute, points), 0)
		case 1:
			info, err = fetch[volumeInfoLabels](ctx, c, rangeRequest("volume info", queryVolumeInfo, from, time.Minute, points), 0)
		case 2:
			refs, err = fetch[claimRefLabels](ctx, c, rangeRequest("volume claim refs", queryVolumeClaimRef, from, time.Minute, points), 0)
		case 3:
			bound, err = fetch[claimVolumeLabels](ctx, c, rangeRequest("claims' volumes", queryClaimVolume, from, time.Minute, points), 0)
		default:
			mounts, err = fetch[podClaimLabels](ctx, c, rangeRequest("pods' claims", queryPodClaims, from, time.Minute, points), 0)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return assembleVolumes(from, points, capacity, info, refs, bound), assemblePodClaims(from, points, mounts), nil
}

// assembleVolumes joins the volume tables minute by minute.
func assembleVolumes(from time.Time, points int, capacity *table[volumeLabels], info *table[volumeInfoLabels],
	refs *table[claimRefLabels], bound *table[claimVolumeLabels]) []model.Volume {
	type key struct {
		volume string
		at     int
	}
	type claim struct{ namespace, name string }
	infoAt := map[key]volumeInfoLabels{}
	for i, l := range info.labels {
		for j := range points {
			if !math.IsNaN(info.at(i, j)) {
				infoAt[key{l.Volume, j}] = l
			}
		}
	}
	refAt := map[key]claim{}
	for i, l := range refs.labels {
		for j := range points {
			if !math.IsNaN(refs.at(i, j)) {
				refAt[key{l.Volume, j}] = claim{l.Namespace, l.Claim}
			}
		}
	}
	type boundKey struct {
		claim claim
		at    int
	}
	boundTo := map[boundKey]string{} // the volume a claim is bound to at a minute
	for i, l := range bound.labels {
		for j := range points {
			if !math.IsNaN(bound.at(i, j)) {
				boundTo[boundKey{claim{l.Namespace, l.Claim}, j}] = l.Volume
			}
		}
	}
	var out []model.Volume
	for i, l := range capacity.labels {
		for j := range points {
			v := capacity.at(i, j)
			if math.IsNaN(v) || v < 0 {
				continue
			}
			k := key{l.Volume, j}
			in := infoAt[k]
			vol := model.Volume{
				ObservedAt:    from.Add(time.Duration(j) * time.Minute),
				Name:          l.Volume,
				CapacityBytes: uint64(v),
				StorageClass:  in.StorageClass,
				VolumeHandle:  cmp.Or(in.CSIHandle, in.EBSVolume, in.GCEDisk, in.AzureDisk),
			}
			if ref, ok := refAt[k]; ok && boundTo[boundKey{ref, j}] == l.Volume {
				vol.Phase, vol.ClaimNamespace, vol.ClaimName = "Bound", ref.namespace, ref.name
			}
			out = append(out, vol)
		}
	}
	slices.SortFunc(out, func(a, b model.Volume) int {
		return cmp.Or(a.ObservedAt.Compare(b.ObservedAt), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// assemblePodClaims returns each pod and claim once per clock hour it was reported in, at
// the hour's start.
func assemblePodClaims(from time.Time, points int, mounts *table[podClaimLabels]) []model.PodClaim {
	var out []model.PodClaim
	for i, l := range mounts.labels {
		var last time.Time
		for j := range points {
			if math.IsNaN(mounts.at(i, j)) {
				continue
			}
			if h := from.Add(time.Duration(j) * time.Minute).Truncate(time.Hour); !h.Equal(last) {
				out = append(out, model.PodClaim{ObservedAt: h, Namespace: l.Namespace, Pod: l.Pod, Claim: l.Claim})
				last = h
			}
		}
	}
	slices.SortFunc(out, func(a, b model.PodClaim) int {
		return cmp.Or(a.ObservedAt.Compare(b.ObservedAt), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Pod, b.Pod), cmp.Compare(a.Claim, b.Claim))
	})
	return out
}
