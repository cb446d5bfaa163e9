package synthetic

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// The cluster's persistent volumes, all of one gp3 StorageClass (EBS CSI): each pod of the
// data/cache StatefulSet mounts a 20 GiB claim data-<pod> of its own; data/backup is a 50 GiB
// claim that no pod mounts; and one 10 GiB volume is Released, its claim shop/uploads-old
// deleted. Every volume exists for the whole history.
const (
	storageClassType = "gp3"
	csiDriver        = "ebs.csi.aws.com"
)

// volume is one PersistentVolume and the claim that holds it.
type volume struct {
	name    string
	uid     string
	handle  string // the EBS volume ID
	bytes   int64
	zone    string
	created int64
	// The claim: the bound one, or for a Released volume the deleted one its claimRef names.
	claimNamespace, claimName, claimUID string
	released                            bool
	pod                                 *pod // the pod that mounts the claim, if any
}

// layoutVolumes adds the volumes, after the pods exist.
func (c *Cluster) layoutVolumes() {
	created := c.start - 72*hour
	add := func(v *volume) {
		v.uid = c.uid("PersistentVolume", "", v.name)
		v.handle = "vol-0" + c.hexDigest(16, "ebs", v.name)
		if !v.released {
			v.claimUID = c.uid("PersistentVolumeClaim", v.claimNamespace, v.claimName)
		} else {
			v.claimUID = c.uid("DeletedClaim", v.claimNamespace, v.claimName)
		}
		v.created = created
		c.volumes = append(c.volumes, v)
	}
	for _, w := range c.workloads {
		if w.spec.kind != KindStatefulSet {
			continue
		}
		for _, p := range w.pods {
			claim := "data-" + p.name
			add(&volume{name: c.opts.Prefix + "pv-" + claim, bytes: 20 * gib, zone: p.node.class.zone,
				claimNamespace: w.namespace, claimName: claim, pod: p})
		}
	}
	add(&volume{name: c.opts.Prefix + "pv-backup", bytes: 50 * gib, zone: region + "a",
		claimNamespace: c.opts.Prefix + "data", claimName: "backup"})
	add(&volume{name: c.opts.Prefix + "pv-released", bytes: 10 * gib, zone: region + "b",
		claimNamespace: c.opts.Prefix + "shop", claimName: "uploads-old", released: true})
}

// storageClassName is the cluster's one StorageClass, prefixed like the nodes: it is
// cluster-scoped, and several synthetic clusters may share an API server.
func (c *Cluster) storageClassName() string { return c.opts.Prefix + "gp3" }

// claimsOf returns the claims pod p mounts.
func (c *Cluster) claimsOf(p *pod) []string {
	var out []string
	for _, v := range c.volumes {
		if v.pod == p {
			out = append(out, v.claimName)
		}
	}
	return out
}

// volumeObjects are the StorageClass, the claims and the volumes.
func (c *Cluster) volumeObjects() []runtime.Object {
	out := []runtime.Object{&storagev1.StorageClass{
		TypeMeta:    metav1.TypeMeta{APIVersion: "storage.k8s.io/v1", Kind: "StorageClass"},
		ObjectMeta:  c.meta(c.storageClassName(), "", c.uid("StorageClass", "", c.storageClassName()), c.start-100*hour, nil),
		Provisioner: csiDriver,
		Parameters:  map[string]string{"type": storageClassType},
	}}
	for _, v := range c.volumes {
		size := *resource.NewQuantity(v.bytes, resource.BinarySI)
		class := c.storageClassName()
		if !v.released {
			out = append(out, &corev1.PersistentVolumeClaim{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
				ObjectMeta: c.meta(v.claimName, v.claimNamespace, v.claimUID, v.created, nil),
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
					StorageClassName: &class,
					VolumeName:       v.name,
				},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound,
					Capacity: corev1.ResourceList{corev1.ResourceStorage: size}},
			})
		}
		phase := corev1.VolumeBound
		if v.released {
			phase = corev1.VolumeReleased
		}
		out = append(out, &corev1.PersistentVolume{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolume"},
			ObjectMeta: c.meta(v.name, "", v.uid, v.created, map[string]string{"topology.kubernetes.io/zone": v.zone}),
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				StorageClassName:              class,
				PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
					Driver: csiDriver, VolumeHandle: v.handle, FSType: "ext4"}},
				ClaimRef: &corev1.ObjectReference{APIVersion: "v1", Kind: "PersistentVolumeClaim",
					Namespace: v.claimNamespace, Name: v.claimName, UID: types.UID(v.claimUID)},
			},
			Status: corev1.PersistentVolumeStatus{Phase: phase},
		})
	}
	return out
}

// writeVolumes writes kube-state-metrics' volume, claim and pod-claim series.
func (c *Cluster) writeVolumes(ow *omWriter) {
	ksm := func(more ...string) []string { return append([]string{"job", "kube-state-metrics"}, more...) }
	ow.family("kube_persistentvolume_capacity_bytes", "gauge", "Persistentvolume capacity in bytes.")
	for _, v := range c.volumes {
		ow.series("kube_persistentvolume_capacity_bytes", ksm("persistentvolume", v.name), v.created, forever, constant(float64(v.bytes)))
	}
	ow.family("kube_persistentvolume_info", "gauge", "Information about persistentvolume.")
	for _, v := range c.volumes {
		ow.series("kube_persistentvolume_info", ksm("persistentvolume", v.name, "storageclass", c.storageClassName(),
			"csi_driver", csiDriver, "csi_volume_handle", v.handle), v.created, forever, constant(1))
	}
	ow.family("kube_persistentvolume_claim_ref", "gauge", "Information about the Persistent Volume Claim Reference.")
	for _, v := range c.volumes {
		ow.series("kube_persistentvolume_claim_ref", ksm("persistentvolume", v.name, "name", v.claimName,
			"claim_namespace", v.claimNamespace), v.created, forever, constant(1))
	}
	ow.family("kube_persistentvolume_status_phase", "gauge", "The phase indicates if a volume is available, bound to a claim, or released by a claim.")
	for _, v := range c.volumes {
		for _, phase := range []string{"Available", "Bound", "Failed", "Pending", "Released"} {
			now := phase == "Bound" && !v.released || phase == "Released" && v.released
			ow.series("kube_persistentvolume_status_phase", ksm("persistentvolume", v.name, "phase", phase), v.created, forever, constant(b2f(now)))
		}
	}
	ow.family("kube_persistentvolumeclaim_info", "gauge", "Information about persistent volume claim.")
	for _, v := range c.volumes {
		if !v.released {
			ow.series("kube_persistentvolumeclaim_info", ksm("namespace", v.claimNamespace, "persistentvolumeclaim", v.claimName,
				"storageclass", c.storageClassName(), "volumename", v.name), v.created, forever, constant(1))
		}
	}
	ow.family("kube_persistentvolumeclaim_resource_requests_storage_bytes", "gauge", "The capacity of storage requested by the persistent volume claim.")
	for _, v := range c.volumes {
		if !v.released {
			ow.series("kube_persistentvolumeclaim_resource_requests_storage_bytes", ksm("namespace", v.claimNamespace,
				"persistentvolumeclaim", v.claimName), v.created, forever, constant(float64(v.bytes)))
		}
	}
	ow.family("kube_pod_spec_volumes_persistentvolumeclaims_info", "gauge", "Information about persistentvolumeclaim volumes in a pod.")
	for _, v := range c.volumes {
		if p := v.pod; p != nil {
			ow.series("kube_pod_spec_volumes_persistentvolumeclaims_info", podLabels(p, "volume", "data", "persistentvolumeclaim", v.claimName),
				p.start, forever, constant(1))
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ExpectedVolume is a persistent volume as a correct reader finds it, and the pod that mounts
// its claim.
type ExpectedVolume struct {
	Name           string
	CapacityBytes  uint64
	StorageClass   string
	Provisioner    string
	Type           string
	VolumeHandle   string
	ClaimNamespace string // the bound claim; "" for the Released volume
	ClaimName      string
	Pod            string    // the pod that mounts the claim; "" when none
	PodFrom        time.Time // when that pod runs: from its start
	PodTo          time.Time // to its end (zero: still running at End)
	Zone           string
}

func (c *Cluster) expectedVolumes() []ExpectedVolume {
	var out []ExpectedVolume
	for _, v := range c.volumes {
		e := ExpectedVolume{Name: v.name, CapacityBytes: uint64(v.bytes), StorageClass: c.storageClassName(), Provisioner: csiDriver,
			Type: storageClassType, VolumeHandle: v.handle, Zone: v.zone}
		if !v.released {
			e.ClaimNamespace, e.ClaimName = v.claimNamespace, v.claimName
		}
		if p := v.pod; p != nil {
			e.Pod, e.PodFrom = p.name, unixTime(p.start)
			if p.end != forever {
				e.PodTo = unixTime(p.end)
			}
		}
		out = append(out, e)
	}
	return out
}
