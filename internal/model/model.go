// Package model holds the plain data types that flow between tally's sources, its pure
// computations (allocation, rightsizing) and its store. It does no I/O. Units are part of
// every numeric field's name; times are UTC.
package model

import (
	"sort"
	"time"
)

// CapacityType says how a node is bought.
const (
	CapacityOnDemand = "on-demand"
	CapacitySpot     = "spot"
)

// WorkloadRef names the top-level owner of a pod: a Deployment (not its ReplicaSet), a
// CronJob (not its Job), a StatefulSet, a DaemonSet, a custom controller, or, for a bare pod,
// Kind "Pod" and the pod's own name.
type WorkloadRef struct {
	Kind string
	Name string
}

// Node is one snapshot of a node: what it offers and how it is bought.
type Node struct {
	Cluster                string
	ObservedAt             time.Time
	Name                   string
	InstanceType           string
	Region                 string
	Zone                   string
	CapacityType           string // CapacityOnDemand, CapacitySpot or "" when unknown
	CPUCapacityCores       float64
	CPUAllocatableCores    float64
	MemoryCapacityBytes    uint64
	MemoryAllocatableBytes uint64
	GPUCapacity            float64
	GPUAllocatable         float64
	Labels                 map[string]string
}

// Container is one snapshot of a container of a pod: what it requested and where it ran.
// A zero request or limit means none is set.
type Container struct {
	Cluster               string
	ObservedAt            time.Time
	Namespace             string
	Pod                   string
	PodUID                string
	Container             string
	Init                  bool
	Node                  string
	Phase                 string // Pending, Running, Succeeded, Failed, Unknown
	QoSClass              string // Guaranteed, Burstable, BestEffort
	Workload              WorkloadRef
	CPURequestCores       float64
	CPULimitCores         float64
	MemoryRequestBytes    uint64
	MemoryLimitBytes      uint64
	GPURequest            float64
	StartedAt             time.Time // zero when not started
	FinishedAt            time.Time // zero while running
	RestartCount          uint32
	LastTerminationReason string // e.g. OOMKilled
	Labels                map[string]string
}

// Namespace is one snapshot of a namespace's labels. Cost reports fall back to them for a
// label a pod does not carry (teams are often labelled on the namespace).
type Namespace struct {
	Cluster    string
	ObservedAt time.Time
	Name       string
	Labels     map[string]string
}

// UsageSample is one container's usage during one minute starting at Timestamp.
type UsageSample struct {
	Cluster               string
	Timestamp             time.Time
	Namespace             string
	Workload              WorkloadRef
	Pod                   string
	Container             string
	CPUUsageCores         float64 // average rate over the minute
	MemoryWorkingSetBytes uint64
	CPUThrottledPeriods   float64 // CFS periods throttled during the minute
	CPUPeriods            float64 // CFS periods elapsed during the minute
}

// Event kinds of ContainerEvent.
const (
	EventOOMKill  = "oom-kill"
	EventEviction = "eviction"
	EventRestart  = "restart"
)

// ContainerEvent is something that happened to a container and matters for cost or sizing.
type ContainerEvent struct {
	Cluster          string
	Timestamp        time.Time
	Namespace        string
	Workload         WorkloadRef
	Pod              string
	Container        string
	Node             string
	Kind             string // EventOOMKill, EventEviction, EventRestart
	Reason           string
	Message          string
	Count            uint32
	MemoryLimitBytes uint64 // the container's memory limit when it happened; 0 when none
}

// NodePrice is what one node costs during one hour, and that price split into unit rates.
type NodePrice struct {
	Cluster         string
	Hour            time.Time
	Node            string
	InstanceType    string
	CapacityType    string
	Currency        string
	HourlyCost      float64
	CPUCoreHourCost float64
	RAMGiBHourCost  float64
	GPUHourCost     float64
	Source          string // which price-book rule set the price, or "defaults"
}

// Allocation is the cost of one container on one node during one hour, or, with Idle set,
// the unallocated remainder of one node during one hour.
type Allocation struct {
	Cluster             string
	Hour                time.Time
	Node                string
	Namespace           string
	Workload            WorkloadRef
	App                 string
	Pod                 string
	Container           string
	Idle                bool
	Labels              map[string]string
	RunHours            float64
	CPUCoreHours        float64
	CPURequestCoreHours float64
	CPUUsageCoreHours   float64
	RAMByteHours        float64
	RAMRequestByteHours float64
	RAMUsageByteHours   float64
	GPUHours            float64
	CPUCost             float64
	RAMCost             float64
	GPUCost             float64
	// A volume's row (allocation.Volumes) has Volume set and only the PV fields: the pod's
	// share of the volume's capacity, in byte-hours, and its cost. Its Container is empty.
	Volume      string
	PVByteHours float64
	PVCost      float64
}

// TotalCost is the sum of the allocation's resource costs.
func (a Allocation) TotalCost() float64 { return a.CPUCost + a.RAMCost + a.GPUCost + a.PVCost }

// NodeSeen is a node in one clock hour (Node.ObservedAt): the minutes it was seen in and
// the node as its latest snapshot of the hour has it.
type NodeSeen struct {
	Node    Node
	Minutes int
}

// JobAllocation is the collector job whose watermark marks the hours allocated: every cost
// row before it is written. Readers that must not publish a partial period wait for it.
const JobAllocation = "allocation"

// Watermark is how far a collector job has got for a cluster: every interval before Time
// has been collected.
type Watermark struct {
	Cluster string
	Job     string
	Time    time.Time
}

// UsageRollup is the usage of one workload's container during one hour or one UTC day
// (Start), its pods pooled. Sums, maxima and counts are exact; CPUUsageP95Cores is the value
// of the bucket that holds the nearest-rank p95, within 0.5% of it
// (sql/migrations/0011_cpu_buckets.sql).
type UsageRollup struct {
	Cluster                  string
	Start                    time.Time
	Namespace                string
	Workload                 WorkloadRef
	Container                string
	Samples                  uint64  // 1-minute samples, one per pod and minute
	CPUUsageCoreMinutes      float64 // sum of the samples' average rates
	CPUUsageMaxCores         float64
	CPUUsageP95Cores         float64
	MemoryWorkingSetSumBytes uint64
	MemoryWorkingSetMaxBytes uint64
	CPUThrottledPeriods      float64
	CPUPeriods               float64
}

// CostDay is the daily rollup of cost rows sharing a node, namespace, workload and app.
type CostDay struct {
	Cluster      string
	Day          time.Time
	Node         string
	Namespace    string
	Workload     WorkloadRef
	App          string
	Idle         bool
	RunHours     float64
	CPUCoreHours float64
	RAMByteHours float64
	GPUHours     float64
	CPUCost      float64
	RAMCost      float64
	GPUCost      float64
}

// SortedLabels returns a label map as two parallel slices sorted by key: the form the store
// keeps labels in.
func SortedLabels(labels map[string]string) (keys, values []string) {
	keys = make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	values = make([]string, len(keys))
	for i, k := range keys {
		values[i] = labels[k]
	}
	return keys, values
}

// LabelMap is the inverse of SortedLabels. It returns nil for no labels.
func LabelMap(keys, values []string) map[string]string {
	if len(keys) == 0 {
		return nil
	}
	m := make(map[string]string, len(keys))
	for i, k := range keys {
		if i < len(values) {
			m[k] = values[i]
		}
	}
	return m
}

// Autoscaler is a HorizontalPodAutoscaler: which workload it scales and on which resource
// metrics. Changing the requests of such a workload moves its scaling point.
type Autoscaler struct {
	Cluster     string
	Namespace   string
	Name        string
	Target      WorkloadRef
	MinReplicas int32
	MaxReplicas int32
	Resources   []string // resource metrics it scales on: "cpu", "memory"
}

// ContainerHour is what ClickHouse computes for one container on one node during one hour,
// from its 1-minute samples and the container's requests at each minute.
type ContainerHour struct {
	Cluster, Node, Namespace, Pod, Container string
	Workload                                 WorkloadRef
	App                                      string            // label app.kubernetes.io/name, else app
	Labels                                   map[string]string // pod labels; shared with the rows, not copied
	Hour                                     time.Time
	RunningMinutes                           int     // minutes of the hour the container ran (sample presence)
	CPURequestCores                          float64 // request (0 = none)
	RAMRequestBytes                          float64
	GPURequest                               float64
	CPUChargedCoreMinutes                    float64 // Σ over running minutes of max(cpuRequest, cpuUsage of that minute)
	RAMChargedByteMinutes                    float64 // Σ over running minutes of max(ramRequest, working set of that minute)
	CPUUsageCoreMinutes                      float64 // Σ usage over running minutes
	RAMUsageByteMinutes                      float64
}

// NodeHour is one node during one hour.
type NodeHour struct {
	Cluster, Node string
	Hour          time.Time
	Minutes       int     // minutes of the hour the node existed
	CPUCores      float64 // capacity
	RAMBytes      float64
	GPUs          float64
	Price         NodePrice // HourlyCost and the unit rates, already split by the price book
	Priced        bool      // false when no price is known for the node-hour
}

// AppOf is the app a pod belongs to: its label app.kubernetes.io/name, else its label app,
// else "".
func AppOf(labels map[string]string) string {
	if v := labels["app.kubernetes.io/name"]; v != "" {
		return v
	}
	return labels["app"]
}

// WorkloadUsage is what ClickHouse computes for one workload container (its pods pooled)
// over a window, for rightsizing. A zero request or limit is unset.
type WorkloadUsage struct {
	Cluster, Namespace              string
	Workload                        WorkloadRef
	Container                       string
	Samples                         int     // 1-minute samples, one per pod and minute
	CPUQuantileCores                float64 // the asked-for nearest-rank percentile of the samples, as its bucket's value (within 0.5%)
	CPUMaxCores                     float64
	MemoryPeakBytes                 float64 // the largest 1-minute working-set peak
	CPUThrottledPeriods, CPUPeriods float64
	Pods                            int       // distinct pods with samples in the window
	FirstSample, LastSample         time.Time // zero when unknown
	HasCurrent                      bool      // a container snapshot was found in the window's last day
	CPURequestCores, CPULimitCores  float64   // of the latest snapshot
	MemoryRequestBytes              float64
	MemoryLimitBytes                float64
	OOMKills                        int
	MemoryLimitAtOOMBytes           float64 // the largest limit an OOM kill happened under
	HPAResources                    []string
	CPUCoreHourCost                 float64 // the workload's cost per core-hour over the window; 0 when unknown
	RAMGiBHourCost                  float64
}

// UnitPrices are a cluster's average unit prices over a window, from its node prices.
type UnitPrices struct {
	Currency                        string
	CPUCoreHourCost, RAMGiBHourCost float64
}

// RunningContainer is a container of the latest inventory snapshot with its latest working set.
type RunningContainer struct {
	Container
	MemoryWorkingSetBytes float64 // 0 when no sample was found
}
