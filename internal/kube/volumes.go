package kube

import (
	"cmp"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	"github.com/tally-finops/tally/internal/model"
)

// Volumes returns every PersistentVolume, sorted by name, observed at at: its capacity, its
// StorageClass's provisioner and parameters.type, the cloud's disk ID, and the claim it is
// bound to. A volume counts as bound to its spec.claimRef only while it is in phase Bound and
// the claim exists with the UID the reference names (or the reference names no UID): a
// Released volume still names its deleted claim, and a new claim of the same name is another.
// Each volume has its own copy of its labels.
func (i *Inventory) Volumes(at time.Time) []model.Volume {
	classes := i.StorageClasses()
	objs := i.volumes.GetStore().List()
	out := make([]model.Volume, 0, len(objs))
	for _, o := range objs {
		pv, ok := o.(*corev1.PersistentVolume)
		if !ok {
			continue
		}
		v := model.Volume{
			Cluster:      i.cluster,
			ObservedAt:   at,
			Name:         pv.Name,
			StorageClass: pv.Spec.StorageClassName,
			VolumeHandle: volumeHandle(pv),
			Phase:        string(pv.Status.Phase),
			Labels:       maps.Clone(pv.Labels),
		}
		if q, ok := pv.Spec.Capacity[corev1.ResourceStorage]; ok && q.Sign() > 0 {
			v.CapacityBytes = uint64(q.Value())
		}
		if sc, ok := classes[pv.Spec.StorageClassName]; ok {
			v.Provisioner, v.Type = sc.Provisioner, sc.Type
		}
		if ref := pv.Spec.ClaimRef; ref != nil && pv.Status.Phase == corev1.VolumeBound && i.claimExists(ref) {
			v.ClaimNamespace, v.ClaimName = ref.Namespace, ref.Name
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b model.Volume) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// StorageClasses returns every StorageClass's provisioner and parameters.type, by name.
func (i *Inventory) StorageClasses() map[string]model.StorageClass {
	out := map[string]model.StorageClass{}
	for _, o := range i.storageClasses.GetStore().List() {
		if sc, ok := o.(*storagev1.StorageClass); ok {
			out[sc.Name] = model.StorageClass{Name: sc.Name, Provisioner: sc.Provisioner, Type: sc.Parameters["type"]}
		}
	}
	return out
}

// claimExists reports whether the claim a volume's claimRef names is in the cache, with the
// UID the reference gives.
func (i *Inventory) claimExists(ref *corev1.ObjectReference) bool {
	obj, ok, err := i.claims.GetStore().GetByKey(ref.Namespace + "/" + ref.Name)
	if err != nil || !ok {
		return false
	}
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	return ok && (ref.UID == "" || pvc.UID == ref.UID)
}

// volumeHandle is the cloud's ID of a volume's disk: the CSI volume handle, or the in-tree
// AWS, GCE and Azure disk fields of volumes provisioned before CSI; "" for other sources
// (hostPath, local, NFS).
func volumeHandle(pv *corev1.PersistentVolume) string {
	s := pv.Spec.PersistentVolumeSource
	switch {
	case s.CSI != nil:
		return s.CSI.VolumeHandle
	case s.AWSElasticBlockStore != nil:
		return s.AWSElasticBlockStore.VolumeID
	case s.GCEPersistentDisk != nil:
		return s.GCEPersistentDisk.PDName
	case s.AzureDisk != nil:
		return s.AzureDisk.DataDiskURI
	}
	return ""
}

// PodClaims returns, observed at at, one model.PodClaim per pod and claim it mounts, sorted
// by namespace, pod and claim: spec.volumes' persistentVolumeClaim sources, and the claims
// Kubernetes creates for generic ephemeral volumes (named <pod>-<volume>). A claim mounted
// twice by one pod is listed once.
func (i *Inventory) PodClaims(at time.Time) []model.PodClaim {
	var out []model.PodClaim
	for _, o := range i.pods.GetStore().List() {
		p, ok := o.(*corev1.Pod)
		if !ok {
			continue
		}
		for _, claim := range podClaimNames(p) {
			out = append(out, model.PodClaim{Cluster: i.cluster, ObservedAt: at, Namespace: p.Namespace, Pod: p.Name, Claim: claim})
		}
	}
	slices.SortFunc(out, func(a, b model.PodClaim) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Pod, b.Pod), cmp.Compare(a.Claim, b.Claim))
	})
	return out
}

// podClaimNames returns the names of the claims pod p mounts, sorted, each once.
func podClaimNames(p *corev1.Pod) []string {
	var names []string
	for _, v := range p.Spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName != "":
			names = append(names, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			names = append(names, p.Name+"-"+v.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// slimPodVolumes keeps of a pod's volumes only those backed by a claim, each down to its
// name and claim.
func slimPodVolumes(vs []corev1.Volume) []corev1.Volume {
	var out []corev1.Volume
	for _, v := range vs {
		switch {
		case v.PersistentVolumeClaim != nil:
			out = append(out, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.PersistentVolumeClaim.ClaimName}}})
		case v.Ephemeral != nil:
			out = append(out, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}})
		}
	}
	return out
}

// slimVolume keeps of a PersistentVolume its labels, capacity, storage class, claim
// reference, the fields volumeHandle reads, and its phase.
func slimVolume(pv *corev1.PersistentVolume) {
	src := pv.Spec.PersistentVolumeSource
	keep := corev1.PersistentVolumeSource{}
	switch {
	case src.CSI != nil:
		keep.CSI = &corev1.CSIPersistentVolumeSource{Driver: src.CSI.Driver, VolumeHandle: src.CSI.VolumeHandle}
	case src.AWSElasticBlockStore != nil:
		keep.AWSElasticBlockStore = &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: src.AWSElasticBlockStore.VolumeID}
	case src.GCEPersistentDisk != nil:
		keep.GCEPersistentDisk = &corev1.GCEPersistentDiskVolumeSource{PDName: src.GCEPersistentDisk.PDName}
	case src.AzureDisk != nil:
		keep.AzureDisk = &corev1.AzureDiskVolumeSource{DiskName: src.AzureDisk.DiskName, DataDiskURI: src.AzureDisk.DataDiskURI}
	}
	var ref *corev1.ObjectReference
	if r := pv.Spec.ClaimRef; r != nil {
		ref = &corev1.ObjectReference{Namespace: r.Namespace, Name: r.Name, UID: r.UID}
	}
	pv.Spec = corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: pv.Spec.Capacity[corev1.ResourceStorage]},
		PersistentVolumeSource: keep,
		StorageClassName:       pv.Spec.StorageClassName,
		ClaimRef:               ref,
	}
	pv.Status = corev1.PersistentVolumeStatus{Phase: pv.Status.Phase}
}

// slimStorageClass keeps a StorageClass's provisioner and its parameters.type.
func slimStorageClass(sc *storagev1.StorageClass) {
	sc.Labels = nil
	t, ok := sc.Parameters["type"]
	sc.Parameters = nil
	if ok {
		sc.Parameters = map[string]string{"type": t}
	}
	sc.AllowedTopologies = nil
	sc.MountOptions = nil
}
