package synthetic

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// testEnd is the end of the test data: the shared Prometheus fixture lives on 2026-01-01,
// this package's data on the two days before 2026-02-01.
var testEnd = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

func newCluster(t testing.TB, o Options) *Cluster {
	t.Helper()
	if o.End.IsZero() {
		o.End = testEnd
	}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New(%+v): %v", o, err)
	}
	return c
}

func TestNewOptions(t *testing.T) {
	c := newCluster(t, Options{})
	got := c.Options()
	want := Options{Cluster: "synthetic", End: testEnd, Duration: 48 * time.Hour, Scrape: 30 * time.Second, Scale: 1}
	if got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
	if !c.Start().Equal(testEnd.Add(-48 * time.Hour)) {
		t.Errorf("Start = %s", c.Start())
	}
	local := time.FixedZone("CET", 3600)
	c = newCluster(t, Options{End: testEnd.In(local)})
	if c.Options().End.Location() != time.UTC {
		t.Errorf("End not converted to UTC: %s", c.Options().End)
	}

	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no end", Options{}, "End is required"},
		{"end not minute-aligned", Options{End: testEnd.Add(30 * time.Second)}, "not minute-aligned"},
		{"too short", Options{End: testEnd, Duration: 23 * time.Hour}, "Duration"},
		{"too long", Options{End: testEnd, Duration: 36 * 24 * time.Hour}, "Duration"},
		{"partial minute", Options{End: testEnd, Duration: 30*time.Hour + 30*time.Second}, "whole number of minutes"},
		{"scrape 7s", Options{End: testEnd, Scrape: 7 * time.Second}, "Scrape"},
		{"scrape 90s", Options{End: testEnd, Scrape: 90 * time.Second}, "Scrape"},
		{"scrape 500ms", Options{End: testEnd, Scrape: 500 * time.Millisecond}, "Scrape"},
		{"negative scale", Options{End: testEnd, Scale: -1}, "Scale"},
		{"huge scale", Options{End: testEnd, Scale: MaxScale + 1}, "Scale"},
		{"long prefix", Options{End: testEnd, Prefix: strings.Repeat("p", 21)}, "Prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New(%+v) error = %v, want one containing %q", tc.opts, err, tc.want)
			}
		})
	}
}

// digestOf hashes everything the cluster produces.
func digestOf(t *testing.T, c *Cluster) (openMetrics, objects, expected [32]byte) {
	t.Helper()
	h := sha256.New()
	if err := c.WriteOpenMetrics(h); err != nil {
		t.Fatal(err)
	}
	copy(openMetrics[:], h.Sum(nil))
	b, err := json.Marshal(c.Objects())
	if err != nil {
		t.Fatal(err)
	}
	objects = sha256.Sum256(b)
	if b, err = json.Marshal(c.Expected()); err != nil {
		t.Fatal(err)
	}
	return openMetrics, objects, sha256.Sum256(b)
}

func TestDeterministic(t *testing.T) {
	a := newCluster(t, Options{})
	b := newCluster(t, Options{})
	am, ao, ae := digestOf(t, a)
	bm, bo, be := digestOf(t, b)
	if am != bm {
		t.Error("WriteOpenMetrics differs between two clusters with the same options")
	}
	if ao != bo {
		t.Error("Objects differ between two clusters with the same options")
	}
	if ae != be {
		t.Error("Expected differs between two clusters with the same options")
	}
	// The same cluster written twice is identical too (no hidden state).
	cm, _, _ := digestOf(t, a)
	if cm != am {
		t.Error("a second WriteOpenMetrics of the same cluster differs")
	}
	// Another cluster name changes identities, so the comparison above can fail.
	other := newCluster(t, Options{Cluster: "other"})
	om, oo, _ := digestOf(t, other)
	if om == am || oo == ao {
		t.Error("cluster name does not change the output")
	}
}

func TestObjectGraph(t *testing.T) {
	for _, scale := range []int{1, 3} {
		t.Run(fmt.Sprintf("scale=%d", scale), func(t *testing.T) {
			checkObjectGraph(t, newCluster(t, Options{Scale: scale, Prefix: "g-"}), scale)
		})
	}
}

func checkObjectGraph(t *testing.T, c *Cluster, scale int) {
	objs := c.Objects()
	type key struct{ kind, namespace, name string }
	uids := map[string]key{}
	byKey := map[key]runtime.Object{}
	namespaces := map[string]bool{"default": true} // exists in every API server
	nodes := map[string]*corev1.Node{}
	rank := map[string]int{"Namespace": 0, "Node": 1, "Deployment": 2, "StatefulSet": 2, "DaemonSet": 2, "CronJob": 2,
		"ReplicaSet": 3, "Job": 3, "StorageClass": 3, "PersistentVolumeClaim": 3, "PersistentVolume": 3,
		"Pod": 4, "HorizontalPodAutoscaler": 5, "Event": 6}
	last := 0
	for i, o := range objs {
		m, err := meta.Accessor(o)
		if err != nil {
			t.Fatal(err)
		}
		kind := o.GetObjectKind().GroupVersionKind().Kind
		r, ok := rank[kind]
		if !ok {
			t.Fatalf("object %d: unexpected kind %q", i, kind)
		}
		if r < last {
			t.Errorf("object %d (%s %s) out of creation order", i, kind, m.GetName())
		}
		last = r
		k := key{kind, m.GetNamespace(), m.GetName()}
		if _, dup := byKey[k]; dup {
			t.Errorf("duplicate object %v", k)
		}
		byKey[k] = o
		if prev, dup := uids[string(m.GetUID())]; dup || m.GetUID() == "" {
			t.Errorf("%v: UID %q empty or also used by %v", k, m.GetUID(), prev)
		}
		uids[string(m.GetUID())] = k
		if m.GetNamespace() != "" && !namespaces[m.GetNamespace()] {
			t.Errorf("%v: namespace not created before", k)
		}
		for _, ref := range m.GetOwnerReferences() {
			owner, ok := uids[string(ref.UID)]
			if !ok {
				t.Errorf("%v: owner %s/%s UID %s not created before", k, ref.Kind, ref.Name, ref.UID)
			} else if owner != (key{ref.Kind, m.GetNamespace(), ref.Name}) {
				t.Errorf("%v: ownerReference %s/%s points at %v", k, ref.Kind, ref.Name, owner)
			}
			if ref.Controller == nil || !*ref.Controller {
				t.Errorf("%v: ownerReference is not a controller reference", k)
			}
		}
		switch o := o.(type) {
		case *corev1.Namespace:
			namespaces[o.Name] = true
		case *corev1.Node:
			nodes[o.Name] = o
			for _, l := range []string{"node.kubernetes.io/instance-type", "topology.kubernetes.io/region",
				"topology.kubernetes.io/zone", "karpenter.sh/capacity-type", "kubernetes.io/hostname"} {
				if o.Labels[l] == "" {
					t.Errorf("node %s has no label %s", o.Name, l)
				}
			}
		case *corev1.Pod:
			checkPod(t, o, nodes)
			for _, v := range o.Spec.Volumes {
				if pvc := v.PersistentVolumeClaim; pvc != nil && byKey[key{"PersistentVolumeClaim", o.Namespace, pvc.ClaimName}] == nil {
					t.Errorf("pod %s mounts claim %s, not created before", o.Name, pvc.ClaimName)
				}
			}
		case *corev1.PersistentVolume:
			ref := o.Spec.ClaimRef
			claim, bound := byKey[key{"PersistentVolumeClaim", ref.Namespace, ref.Name}].(*corev1.PersistentVolumeClaim)
			switch {
			case o.Status.Phase == corev1.VolumeReleased && bound:
				t.Errorf("released volume %s: its claim %s/%s exists", o.Name, ref.Namespace, ref.Name)
			case o.Status.Phase == corev1.VolumeBound && (!bound || claim.UID != ref.UID || claim.Spec.VolumeName != o.Name):
				t.Errorf("bound volume %s: no claim %s/%s with its UID bound to it", o.Name, ref.Namespace, ref.Name)
			}
			if byKey[key{"StorageClass", "", o.Spec.StorageClassName}] == nil {
				t.Errorf("volume %s: StorageClass %q not created before", o.Name, o.Spec.StorageClassName)
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			ref := o.Spec.ScaleTargetRef
			if _, ok := byKey[key{ref.Kind, o.Namespace, ref.Name}]; !ok {
				t.Errorf("HPA %s targets missing %s/%s", o.Name, ref.Kind, ref.Name)
			}
		case *corev1.Event:
			io := o.InvolvedObject
			if got, ok := uids[string(io.UID)]; !ok || got != (key{io.Kind, io.Namespace, io.Name}) {
				t.Errorf("event %s involves unknown %s %s/%s", o.Name, io.Kind, io.Namespace, io.Name)
			}
		}
	}

	// One DaemonSet pod per node; the idle node runs nothing else; GPU pods on GPU nodes.
	perNode := map[string][]*corev1.Pod{}
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			perNode[p.Spec.NodeName] = append(perNode[p.Spec.NodeName], p)
		}
	}
	if len(nodes) != 5*scale {
		t.Errorf("%d nodes, want %d", len(nodes), 5*scale)
	}
	for name, n := range nodes {
		ds := 0
		var cpu, mem int64
		for _, p := range perNode[name] {
			if len(p.OwnerReferences) > 0 && p.OwnerReferences[0].Kind == "DaemonSet" {
				ds++
			}
			for _, ct := range p.Spec.Containers {
				cpu += ct.Resources.Requests.Cpu().MilliValue()
				mem += ct.Resources.Requests.Memory().Value()
				g, have := ct.Resources.Requests[GPUResource], n.Status.Allocatable[GPUResource]
				if g.Cmp(have) > 0 {
					t.Errorf("pod %s requests %s GPUs on node %s, which has %s", p.Name, g.String(), name, have.String())
				}
			}
		}
		if ds != 1 {
			t.Errorf("node %s runs %d DaemonSet pods, want 1", name, ds)
		}
		if n.Labels["node.kubernetes.io/instance-type"] == "m5.large" && len(perNode[name]) != 1 {
			t.Errorf("idle node %s runs %d pods, want only the DaemonSet's", name, len(perNode[name]))
		}
		if cpu > n.Status.Allocatable.Cpu().MilliValue() || mem > n.Status.Allocatable.Memory().Value() {
			t.Errorf("node %s: requests %dm / %d bytes exceed allocatable", name, cpu, mem)
		}
	}
	ds := byKey[key{"DaemonSet", "g-monitoring", "node-exporter"}].(*appsv1.DaemonSet)
	if int(ds.Status.DesiredNumberScheduled) != len(nodes) {
		t.Errorf("DaemonSet desires %d pods for %d nodes", ds.Status.DesiredNumberScheduled, len(nodes))
	}
	job := byKey[key{"CronJob", "g-batch", "weekly-report"}].(*batchv1.CronJob)
	if job.Spec.Schedule == "" || job.Status.LastSuccessfulTime == nil {
		t.Errorf("CronJob %+v has no schedule or last success", job.Spec)
	}
}

func checkPod(t *testing.T, p *corev1.Pod, nodes map[string]*corev1.Node) {
	t.Helper()
	if nodes[p.Spec.NodeName] == nil {
		t.Errorf("pod %s/%s: node %q not created before", p.Namespace, p.Name, p.Spec.NodeName)
	}
	if p.Labels["app.kubernetes.io/name"] == "" || p.Labels["team"] == "" {
		t.Errorf("pod %s/%s lacks app/team labels: %v", p.Namespace, p.Name, p.Labels)
	}
	if len(p.Status.ContainerStatuses) != len(p.Spec.Containers) || p.Status.StartTime == nil || p.Status.QOSClass == "" {
		t.Errorf("pod %s/%s: incomplete status", p.Namespace, p.Name)
	}
	for _, cs := range p.Status.ContainerStatuses {
		switch p.Status.Phase {
		case corev1.PodRunning:
			if cs.State.Running == nil || cs.State.Running.StartedAt.IsZero() {
				t.Errorf("pod %s/%s container %s: running without startedAt", p.Namespace, p.Name, cs.Name)
			}
			if (cs.RestartCount > 0) != (cs.LastTerminationState.Terminated != nil) {
				t.Errorf("pod %s/%s container %s: restarts %d but last state %+v", p.Namespace, p.Name, cs.Name,
					cs.RestartCount, cs.LastTerminationState)
			}
		case corev1.PodSucceeded:
			if cs.State.Terminated == nil || cs.State.Terminated.Reason != "Completed" {
				t.Errorf("pod %s/%s container %s: succeeded without terminated state", p.Namespace, p.Name, cs.Name)
			}
		default:
			t.Errorf("pod %s/%s: phase %s", p.Namespace, p.Name, p.Status.Phase)
		}
	}
}

// TestCoverage checks that the cluster contains every case the tests of other packages rely on.
func TestCoverage(t *testing.T) {
	c := newCluster(t, Options{})
	e := c.Expected()
	qos := map[string]int{}
	profiles := map[string]int{}
	restarted, finished, gpu := 0, 0, 0
	for _, ct := range e.Containers {
		qos[ct.QoSClass]++
		profiles[ct.Profile]++
		if len(ct.OOMKills) > 0 && ct.RestartCount > 0 && ct.LastTerminationReason == "OOMKilled" {
			restarted++
		}
		if ct.Finished && ct.Phase == "Succeeded" {
			finished++
		}
		if ct.GPURequest > 0 {
			gpu++
		}
	}
	if n := len(e.Containers); n < 25 || n > 40 {
		t.Errorf("%d containers at Scale 1, want 25 to 40", n)
	}
	for _, q := range []string{"Guaranteed", "Burstable", "BestEffort"} {
		if qos[q] == 0 {
			t.Errorf("no %s container", q)
		}
	}
	for _, p := range []string{ProfileDaemonSet, ProfileSteady, ProfileDiurnal, ProfileSpiky, ProfileGrowth, ProfileOOM,
		ProfileBatch, ProfileGPU, ProfileYoung, ProfileBestEffort} {
		if profiles[p] == 0 {
			t.Errorf("no container with profile %s", p)
		}
	}
	if restarted == 0 || finished == 0 || gpu == 0 || len(e.Autoscalers) == 0 {
		t.Errorf("restarted %d, finished %d, gpu %d, autoscalers %d: want at least one each",
			restarted, finished, gpu, len(e.Autoscalers))
	}
	// Scale multiplies replicas and nodes.
	s := newCluster(t, Options{Scale: 4}).Expected()
	if len(s.Containers) != 4*len(e.Containers) || len(s.Nodes) != 4*len(e.Nodes) {
		t.Errorf("Scale 4: %d containers, %d nodes; want %d, %d", len(s.Containers), len(s.Nodes),
			4*len(e.Containers), 4*len(e.Nodes))
	}
	if !reflect.DeepEqual(s.Workload("shop", "api", "api").CPUUsageP95Cores, e.Workload("shop", "api", "api").CPUUsageP95Cores) {
		t.Error("scaling changes the p95 of identical replicas")
	}
}

func TestWriteOpenMetricsError(t *testing.T) {
	c := newCluster(t, Options{})
	err := c.WriteOpenMetrics(&failingWriter{left: 1 << 20})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("error = %v, want the writer's error", err)
	}
}

var errDiskFull = errors.New("disk full")

// failingWriter fails once left bytes have been written.
type failingWriter struct{ left int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n := f.left
		f.left = 0
		return n, errDiskFull
	}
	f.left -= len(p)
	return len(p), nil
}
