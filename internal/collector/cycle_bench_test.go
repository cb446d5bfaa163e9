package collector

// The cycle benchmark is the one place outside internal/kube that uses client-go: its fake
// clientset stands in for a 10,000-pod API server, as the issue that set the target asks.

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"

	"github.com/tally-finops/tally/internal/kube"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/pricing"
	"github.com/tally-finops/tally/internal/prom"
	"github.com/tally-finops/tally/internal/store"
	"github.com/tally-finops/tally/internal/store/storetest"
)

const (
	cyclePods       = 10_000
	cycleNodes      = 300
	cycleWorkloads  = 2_000 // five replicas each
	cycleContainers = 25_000
)

// cycleContainerNames gives pod p its containers: 2 or 3, 25,000 in all.
func cycleContainerNames(p int) []string {
	if p%2 == 0 {
		return []string{"app", "istio-proxy", "log-shipper"}
	}
	return []string{"app", "istio-proxy"}
}

// cycleObjects is a 10,000-pod cluster: 300 nodes, 2,000 Deployments (through ReplicaSets)
// of five replicas in 40 namespaces, 25,000 containers.
func cycleObjects() []k8sruntime.Object {
	var objs []k8sruntime.Object
	cap := corev1.ResourceList{"cpu": resource.MustParse("16"), "memory": resource.MustParse("64Gi")}
	for n := range cycleNodes {
		objs = append(objs, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%03d", n),
			Labels: map[string]string{"node.kubernetes.io/instance-type": "m5.4xlarge", "karpenter.sh/capacity-type": []string{"spot", "on-demand"}[n%2]}},
			Status: corev1.NodeStatus{Capacity: cap, Allocatable: cap}})
	}
	for w := range cycleWorkloads {
		objs = append(objs, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("team-%02d", w%40),
			Name: fmt.Sprintf("svc-%04d-5d9f", w), UID: types.UID(fmt.Sprintf("rs-%d", w)),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: fmt.Sprintf("svc-%04d", w),
				UID: types.UID(fmt.Sprintf("dep-%d", w)), Controller: ptr(true)}}}})
	}
	res := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{"cpu": resource.MustParse("250m"), "memory": resource.MustParse("256Mi")},
		Limits:   corev1.ResourceList{"memory": resource.MustParse("512Mi")},
	}
	for p := range cyclePods {
		w := p % cycleWorkloads
		var ctrs []corev1.Container
		var statuses []corev1.ContainerStatus
		for _, name := range cycleContainerNames(p) {
			ctrs = append(ctrs, corev1.Container{Name: name, Image: "registry.example.com/" + name + ":1.0", Resources: res})
			statuses = append(statuses, corev1.ContainerStatus{Name: name, Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))}}})
		}
		objs = append(objs, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("team-%02d", w%40), Name: fmt.Sprintf("svc-%04d-5d9f-%05d", w, p),
				UID:    types.UID(fmt.Sprintf("pod-%d", p)),
				Labels: map[string]string{"app.kubernetes.io/name": fmt.Sprintf("svc-%04d", w), "team": fmt.Sprintf("team-%02d", w%40)},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: fmt.Sprintf("svc-%04d-5d9f", w),
					UID: types.UID(fmt.Sprintf("rs-%d", w)), Controller: ptr(true)}}},
			Spec:   corev1.PodSpec{NodeName: fmt.Sprintf("node-%03d", p%cycleNodes), Containers: ctrs},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, QOSClass: corev1.PodQOSBurstable, ContainerStatuses: statuses},
		})
	}
	return objs
}

func ptr[T any](v T) *T { return &v }

// procStatusMB reads a memory figure (VmRSS, VmHWM) of this process, in MB.
func procStatusMB(tb testing.TB, field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb / 1024
		}
	}
	tb.Fatalf("%s not in /proc/self/status", field)
	return 0
}

// fakePrometheus answers the collector's queries for the cycle benchmark's 25,000
// containers with generated series, written straight to the response: CPU counters growing
// at a per-container rate, a working set per container, CFS counters, instance start times;
// kube-state-metrics is absent.
func fakePrometheus(tb testing.TB) *httptest.Server {
	type ctr struct{ ns, pod, name, id string }
	ctrs := make([]ctr, 0, cycleContainers)
	for p := range cyclePods {
		w := p % cycleWorkloads
		for _, name := range cycleContainerNames(p) {
			ctrs = append(ctrs, ctr{fmt.Sprintf("team-%02d", w%40), fmt.Sprintf("svc-%04d-5d9f-%05d", w, p), name, fmt.Sprintf("/kubepods/pod-%d/%s", p, name)})
		}
	}
	base := float64(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Unix())
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q := r.Form.Get("query")
		bw := bufio.NewWriterSize(w, 1<<16)
		defer bw.Flush()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/query") {
			fmt.Fprint(bw, `{"status":"success","data":{"resultType":"vector","result":[`)
			if strings.Contains(q, "count(") && strings.Contains(q, "container_cpu_usage_seconds_total") {
				fmt.Fprintf(bw, `{"metric":{},"value":[%s,"%d"]}`, r.Form.Get("time"), cycleContainers)
			}
			fmt.Fprint(bw, `]}}`)
			return
		}
		fmt.Fprint(bw, `{"status":"success","data":{"resultType":"matrix","result":[`)
		defer fmt.Fprint(bw, `]}}`)
		if strings.Contains(q, "kube_") {
			return // kube-state-metrics is not installed
		}
		start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
		end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
		step, _ := strconv.ParseFloat(strings.TrimSuffix(r.Form.Get("step"), "s"), 64)
		if step <= 0 {
			step = 60
		}
		for i, c := range ctrs {
			rate := 0.05 + float64(i%20)/40
			if i > 0 {
				bw.WriteByte(',')
			}
			fmt.Fprintf(bw, `{"metric":{"namespace":%q,"pod":%q,"container":%q,"id":%q},"values":[`, c.ns, c.pod, c.name, c.id)
			for t := start; t <= end; t += step {
				var v float64
				switch {
				case strings.Contains(q, "container_cpu_usage_seconds_total"):
					v = rate * (t - base)
				case strings.Contains(q, "container_memory_working_set_bytes"):
					v = float64((64 + i%512) << 20)
				case strings.Contains(q, "cfs_throttled"):
					v = (t - base) / 100
				case strings.Contains(q, "cfs_periods"):
					v = (t - base) * 10
				default: // container_start_time_seconds
					v = base
				}
				if t > start {
					bw.WriteByte(',')
				}
				fmt.Fprintf(bw, `[%s,"%s"]`, strconv.FormatFloat(t, 'f', -1, 64), strconv.FormatFloat(v, 'g', -1, 64))
			}
			bw.WriteString("]}")
		}
	}))
}

// BenchmarkCycle10kPods is one inventory + usage cycle of the collector for a cluster of
// 10,000 pods and 25,000 containers: the inventory snapshot from informers over a fake
// clientset, a 5-minute usage interval from a Prometheus stand-in (httptest, generated
// series), everything written to the stack's real ClickHouse. It reports the process's peak
// RSS, which also holds the fake API server's objects and the benchmark's own data.
func BenchmarkCycle10kPods(b *testing.B) {
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)

	objs := cycleObjects()
	clients := kube.NewClientsFrom(fake.NewClientset(objs...), metadatafake.NewSimpleMetadataClient(k8sruntime.NewScheme()))
	objs = nil
	inv := kube.NewInventory(clients, "bench", logger)
	if err := inv.Start(ctx); err != nil {
		b.Fatal(err)
	}
	srv := fakePrometheus(b)
	defer srv.Close()
	pc, err := prom.New(prom.Options{URL: srv.URL}, logger)
	if err != nil {
		b.Fatal(err)
	}
	s, _ := storetest.Open(b, "tally_bench", logger)
	book, err := pricing.Parse("bench.yaml", []byte(e2eBook))
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(Options{Cluster: "bench"}, Deps{Store: s, Prom: pc, Inventory: inv, Prices: book}, logger, prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	if err := s.SetWatermark(ctx, model.Watermark{Cluster: "bench", Job: JobUsage, Time: now.Add(-7 * time.Minute)}); err != nil {
		b.Fatal(err)
	}
	queries0 := pc.QueryCount()
	runtime.GC()
	debug.FreeOSMemory()
	baseline := procStatusMB(b, "VmRSS")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := now.Add(time.Duration(i) * 5 * time.Minute) // the next interval each time
		if err := c.inventory(ctx, now, nil); err != nil {
			b.Fatal(err)
		}
		if err := c.usage(ctx, now, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(procStatusMB(b, "VmHWM"), "peak-RSS-MB")
	b.ReportMetric(baseline, "RSS-before-cycles-MB")
	b.ReportMetric(float64(pc.QueryCount()-queries0)/float64(b.N), "prom-queries/cycle")

	n, err := s.CountUsageSamples(ctx, store.Window{Cluster: "bench", From: now.Add(-10 * time.Minute), To: now.Add(time.Duration(b.N) * 5 * time.Minute)})
	if err != nil {
		b.Fatal(err)
	}
	if want := uint64(cycleContainers * 5 * b.N); n != want {
		b.Fatalf("usage samples written: %d, want %d (25,000 containers × 5 minutes × %d cycles)", n, want, b.N)
	}
}
