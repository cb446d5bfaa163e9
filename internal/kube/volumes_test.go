package kube

import (
	"context"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/tally-finops/tally/internal/model"
)

// volumeObjects: a gp3 class; pv-data bound to shop/data (CSI), pv-old Released (its claim
// deleted), pv-stale Bound by its status but naming a claim that was deleted and created
// again (another UID), pv-legacy an in-tree EBS volume with no class; a pod mounting data
// twice, an ephemeral volume and an emptyDir.
func volumeObjects() []runtime.Object {
	gib := func(n string) corev1.ResourceList {
		return corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(n)}
	}
	pv := func(name, class string, size string, phase corev1.PersistentVolumePhase, ref *corev1.ObjectReference, src corev1.PersistentVolumeSource) *corev1.PersistentVolume {
		return &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"topology.kubernetes.io/zone": "eu-west-1a"},
				Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com"}},
			Spec: corev1.PersistentVolumeSpec{Capacity: gib(size), StorageClassName: class, ClaimRef: ref, PersistentVolumeSource: src,
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}},
			Status: corev1.PersistentVolumeStatus{Phase: phase, Message: "long text"},
		}
	}
	csi := func(handle string) corev1.PersistentVolumeSource {
		return corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: handle, FSType: "ext4"}}
	}
	claim := func(name string, uid types.UID) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: uid},
			Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: gib("100Gi")}}}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-0"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}, Volumes: []corev1.Volume{
			{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
			{Name: "data-ro", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data", ReadOnly: true}}},
			{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
			{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		}},
	}
	return []runtime.Object{
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "gp3"}, Provisioner: "ebs.csi.aws.com",
			Parameters: map[string]string{"type": "gp3", "encrypted": "true"}},
		pv("pv-data", "gp3", "100Gi", corev1.VolumeBound, &corev1.ObjectReference{Namespace: "shop", Name: "data", UID: "u-data"}, csi("vol-0aaa")),
		pv("pv-old", "gp3", "50Gi", corev1.VolumeReleased, &corev1.ObjectReference{Namespace: "shop", Name: "gone", UID: "u-gone"}, csi("vol-0bbb")),
		pv("pv-stale", "gp3", "10Gi", corev1.VolumeBound, &corev1.ObjectReference{Namespace: "shop", Name: "again", UID: "u-first"}, csi("vol-0ccc")),
		pv("pv-legacy", "", "1Ti", corev1.VolumeAvailable, nil,
			corev1.PersistentVolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "aws://eu-west-1a/vol-0ddd"}}),
		claim("data", "u-data"),
		claim("again", "u-second"),
		pod,
	}
}

func TestInventoryVolumes(t *testing.T) {
	inv := NewInventory(NewClientsFrom(fake.NewClientset(volumeObjects()...), nil), "c1", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := inv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	zone := map[string]string{"topology.kubernetes.io/zone": "eu-west-1a"}
	gib := uint64(1 << 30)
	want := []model.Volume{
		{Cluster: "c1", ObservedAt: t0, Name: "pv-data", CapacityBytes: 100 * gib, StorageClass: "gp3", Provisioner: "ebs.csi.aws.com",
			Type: "gp3", VolumeHandle: "vol-0aaa", Phase: "Bound", ClaimNamespace: "shop", ClaimName: "data", Labels: zone},
		{Cluster: "c1", ObservedAt: t0, Name: "pv-legacy", CapacityBytes: 1024 * gib, VolumeHandle: "aws://eu-west-1a/vol-0ddd",
			Phase: "Available", Labels: zone},
		{Cluster: "c1", ObservedAt: t0, Name: "pv-old", CapacityBytes: 50 * gib, StorageClass: "gp3", Provisioner: "ebs.csi.aws.com",
			Type: "gp3", VolumeHandle: "vol-0bbb", Phase: "Released", Labels: zone},
		{Cluster: "c1", ObservedAt: t0, Name: "pv-stale", CapacityBytes: 10 * gib, StorageClass: "gp3", Provisioner: "ebs.csi.aws.com",
			Type: "gp3", VolumeHandle: "vol-0ccc", Phase: "Bound", Labels: zone},
	}
	if d := gocmp.Diff(want, inv.Volumes(t0)); d != "" {
		t.Errorf("Volumes (-want +got):\n%s", d)
	}
	wantClaims := []model.PodClaim{
		{Cluster: "c1", ObservedAt: t0, Namespace: "shop", Pod: "web-0", Claim: "data"},
		{Cluster: "c1", ObservedAt: t0, Namespace: "shop", Pod: "web-0", Claim: "web-0-scratch"},
	}
	if d := gocmp.Diff(wantClaims, inv.PodClaims(t0)); d != "" {
		t.Errorf("PodClaims (-want +got):\n%s", d)
	}
}

// The transform keeps what Volumes and PodClaims read, and applying it twice changes nothing.
func TestSlimVolumes(t *testing.T) {
	for _, o := range volumeObjects() {
		once, _ := slim(o.DeepCopyObject())
		twice, _ := slim(once.(runtime.Object).DeepCopyObject())
		if d := gocmp.Diff(once, twice); d != "" {
			t.Errorf("slim is not idempotent for %T (-once +twice):\n%s", o, d)
		}
		switch x := once.(type) {
		case *corev1.PersistentVolume:
			if x.Spec.AccessModes != nil || x.Status.Message != "" || x.Annotations != nil {
				t.Errorf("slim kept more of %s than it reads: %+v", x.Name, x)
			}
		case *storagev1.StorageClass:
			if len(x.Parameters) != 1 || x.Parameters["type"] != "gp3" {
				t.Errorf("slim StorageClass parameters = %v, want only type", x.Parameters)
			}
		case *corev1.Pod:
			if len(x.Spec.Volumes) != 3 || podClaimNames(x)[0] != "data" {
				t.Errorf("slim pod volumes = %+v, want the two claims' and the ephemeral one", x.Spec.Volumes)
			}
		}
	}
}
