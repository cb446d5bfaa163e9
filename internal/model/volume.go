package model

import (
	"math/bits"
	"time"
)

// HoursPerMonth is the length of the month a monthly price is for: 365 × 24 ÷ 12.
const HoursPerMonth = 730

// Volume is one snapshot of a PersistentVolume: what it holds, how it is provisioned, and
// the claim it is bound to.
type Volume struct {
	Cluster       string
	ObservedAt    time.Time
	Name          string
	CapacityBytes uint64
	StorageClass  string // spec.storageClassName; "" for a statically provisioned volume without one
	Provisioner   string // its StorageClass's provisioner, e.g. ebs.csi.aws.com
	Type          string // its StorageClass's parameters.type, e.g. gp3, pd-ssd
	VolumeHandle  string // the CSI volume handle: the cloud's disk ID, the bill's ResourceId
	Phase         string // Available, Bound, Released, Failed
	// The claim the volume is bound to (phase Bound); both empty when none. A Released volume
	// names its deleted claim in spec.claimRef, but no claim holds it: it is left empty.
	ClaimNamespace string
	ClaimName      string
	Labels         map[string]string
}

// VolumePrice is what one volume costs per GiB (2^30 bytes) of capacity and hour.
type VolumePrice struct {
	Cluster     string
	Hour        time.Time
	Volume      string
	Currency    string
	GiBHourCost float64
	Source      string // which price-book rule set the price, or "defaults"
}

// MinuteSet holds the minutes of one clock hour: bit m (0–59) is minute m.
type MinuteSet uint64

// AllMinutes is the set of every minute of an hour.
const AllMinutes MinuteSet = 1<<60 - 1

// Has reports whether minute m is in the set.
func (s MinuteSet) Has(m int) bool { return m >= 0 && m < 60 && s&(1<<m) != 0 }

// Len is the number of minutes in the set.
func (s MinuteSet) Len() int { return bits.OnesCount64(uint64(s & AllMinutes)) }

// VolumeHour is one PersistentVolume during one hour: the minutes it existed, its capacity
// and price, and the claim it was bound to (empty: none, or not for the whole hour).
type VolumeHour struct {
	Cluster, Volume string
	Hour            time.Time
	Minutes         MinuteSet // the minutes the volume existed
	CapacityBytes   float64
	ClaimNamespace  string
	ClaimName       string
	Price           VolumePrice
	Priced          bool // false when no price is known for the volume-hour
}

// ClaimPodHour is one pod that mounts a claim during one hour, with the minutes it ran.
type ClaimPodHour struct {
	Cluster        string
	Hour           time.Time
	Namespace      string // of the pod and the claim
	Claim          string
	Pod            string
	Node           string
	Workload       WorkloadRef
	App            string
	Labels         map[string]string
	RunningMinutes MinuteSet
}

// PodClaim is one snapshot of a pod mounting a PersistentVolumeClaim of its namespace.
type PodClaim struct {
	Cluster    string
	ObservedAt time.Time
	Namespace  string
	Pod        string
	Claim      string
}

// VolumeSeen is a volume in one clock hour (Volume.ObservedAt): the minutes it was seen in
// and the volume as its latest snapshot of the hour has it.
type VolumeSeen struct {
	Volume  Volume
	Minutes MinuteSet
}

// StorageClass is what the price book's volume rules read of a StorageClass.
type StorageClass struct {
	Name        string
	Provisioner string
	Type        string // parameters.type
}
