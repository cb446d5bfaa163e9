package realcluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tally-finops/tally/internal/collector"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/stacktest"
	"github.com/tally-finops/tally/internal/store"
)

// The price book of the suite: default rates only, so the node is priced from its capacity
// at these rates and its unit rates are these rates (DESIGN.md, "Cost").
const (
	cpuCoreHour = 0.031611
	ramGiBHour  = 0.004237
	priceBook   = "currency: USD\ndefaults: {cpuCoreHour: 0.031611, ramGiBHour: 0.004237, gpuHour: 0.95}\n"
)

const (
	clusterName = "real"
	// steadyMinutes is the length of the window in which the steady workloads' CPU and
	// memory are compared with their configuration.
	steadyMinutes = 3
)

// podKey names a pod.
type podKey struct{ namespace, pod string }

// life is when a pod's container ran, as the Kubernetes API reports it (end zero: still
// running when the suite stopped collecting).
type life struct{ start, end time.Time }

// run is what the checks need: the store the collector wrote, the window it covered, and
// what the API server said about the pods.
type run struct {
	st                   *store.Store
	from, to             time.Time // the collected window: every minute since before the first pod
	steadyFrom, steadyTo time.Time // all steady workloads running through it
	lives                map[podKey]life
	restarts             map[podKey]int32 // restart counts at the end, from the API
	deletedPod           podKey           // the pod deleted mid-window
}

// TestRealCluster runs the suite's workloads on the real node, the collector binary against
// them as a long-running process (the usage job every minute, one minute behind), and checks
// what it stored with the workloads' configuration. Wall time: about steadyMinutes + 3
// minutes.
func TestRealCluster(t *testing.T) {
	cl := stacktest.RealCluster(t)
	dsn := stacktest.ClickHouseDSN(t)
	ctx := context.Background()

	cfg, err := clientcmd.BuildConfigFromFlags("", cl.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if deleteNamespaces(t, kc) {
		// A previous run's pods had the same names (db-0, temp, ingest-…): their series end
		// when they are deleted. Collection starts at the minute the workloads are created,
		// so start in a minute of its own.
		sleepUntil(time.Now().Truncate(time.Minute).Add(time.Minute + 2*time.Second))
	}
	t.Cleanup(func() { deleteNamespaces(t, kc) })
	ensureCRD(t, dc)

	// A database of its own; dropped at the end.
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = fmt.Sprintf("/tally_real_%d_%d", time.Now().Unix(), rand.IntN(1e6))
	dir := t.TempDir()
	bin := buildCollector(t, dir)
	book := filepath.Join(dir, "prices.yaml")
	if err := os.WriteFile(book, []byte(priceBook), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--kubeconfig", cl.Kubeconfig, "--prometheus-url", cl.PrometheusURL, "--clickhouse-dsn", u.String(),
		"--pricing", book, "--cluster", clusterName}
	if out, err := exec.Command(bin, append(args, "--migrate")...).CombinedOutput(); err != nil {
		t.Fatalf("collector --migrate: %v\n%s", err, out)
	}
	st, err := store.Open(ctx, store.Options{DSN: u.String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the collector's database %s is kept for inspection", u.Path)
		} else {
			_ = st.DropDatabase(context.Background())
		}
		st.Close()
	})

	// The collector, as a user runs it: long-running, the usage job every minute.
	logPath := filepath.Join(dir, "collector.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	// Its history starts at the minute the workloads are created in (t0's), as if it had
	// collected up to then: its usage watermark.
	t0 := time.Now().UTC()
	if err := st.SetWatermark(ctx, model.Watermark{Cluster: clusterName, Job: collector.JobUsage, Time: t0.Truncate(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	proc := exec.Command(bin, append(args, "--backfill", "10m", "--usage-every", "1m", "--usage-delay", "1m", "--kube-state-step", "1m",
		"--listen", "", "--log-level", "info")...)
	proc.Stdout, proc.Stderr = logFile, logFile
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = proc.Process.Kill()
			<-exited
		}
	})
	logTail := func() string {
		b, _ := os.ReadFile(logPath)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		return strings.Join(lines[max(0, len(lines)-30):], "\n")
	}

	createWorkloads(t, kc, dc)
	starts := waitStarted(t, kc, 90*time.Second)
	var latest time.Time
	for k, at := range starts {
		if s, _ := specOf(k.namespace, k.pod); s.steady && at.After(latest) {
			latest = at
		}
	}
	r := &run{from: t0.Truncate(time.Minute), lives: map[podKey]life{}, restarts: map[podKey]int32{}}
	r.steadyFrom = latest.Add(10 * time.Second).Truncate(time.Minute).Add(time.Minute)
	r.steadyTo = r.steadyFrom.Add(steadyMinutes * time.Minute)
	t.Logf("workloads created at %s; steady window [%s, %s)", t0.Format(time.TimeOnly),
		r.steadyFrom.Format(time.TimeOnly), r.steadyTo.Format(time.TimeOnly))

	// The bare pod "temp" is deleted in the middle of the steady window.
	r.deletedPod = podKey{"e2e-shop", "temp"}
	sleepUntil(r.steadyFrom.Add(steadyMinutes * time.Minute / 2))
	deletedAt := time.Now().UTC()
	zero := int64(0)
	if err := kc.CoreV1().Pods("e2e-shop").Delete(ctx, "temp", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	r.lives[r.deletedPod] = life{start: starts[r.deletedPod], end: deletedAt}

	// Wait until the collector has collected the steady window.
	deadline := r.steadyTo.Add(3 * time.Minute)
	for {
		wm := usageWatermark(t, st)
		if !wm.Before(r.steadyTo) {
			r.to = wm
			break
		}
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("collector exited (%v) before collecting the window:\n%s", err, logTail())
		case <-time.After(2 * time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage watermark %s not past %s by %s:\n%s", wm.Format(time.TimeOnly), r.steadyTo.Format(time.TimeOnly),
				deadline.Format(time.TimeOnly), logTail())
		}
	}
	recordLives(t, kc, r)

	// SIGTERM: the collector finishes the job in flight and exits 0.
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("collector exit after SIGTERM: %v\n%s", err, logTail())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("collector did not exit within 60s of SIGTERM:\n%s", logTail())
	}
	if wm := usageWatermark(t, st); wm.After(r.to) {
		r.to = wm
	}
	r.st = st
	t.Logf("collected [%s, %s); collector log:\n%s", r.from.Format(time.TimeOnly), r.to.Format(time.TimeOnly), logTail())

	checkRun(t, r)
}

// buildCollector builds cmd/collector into dir.
func buildCollector(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "collector")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tally-finops/tally/cmd/collector")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/collector: %v\n%s", err, out)
	}
	return bin
}

// deleteNamespaces deletes the suite's namespaces and waits until they are gone, so that no
// pod of an earlier run burns CPU during this one.
// deleteNamespaces deletes the suite's namespaces and waits until they are gone. It reports
// whether any existed.
func deleteNamespaces(t *testing.T, kc kubernetes.Interface) bool {
	t.Helper()
	ctx := context.Background()
	zero := int64(0)
	existed := false
	for ns := range namespaces {
		err := kc.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", ns, err)
		}
		existed = existed || err == nil
	}
	deadline := time.Now().Add(2 * time.Minute)
	for ns := range namespaces {
		for {
			_, err := kc.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("namespace %s still there after 2m (err %v)", ns, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return existed
}

var cloneSets = schema.GroupVersionResource{Group: kruiseGroup, Version: kruiseVersion, Resource: "clonesets"}

// ensureCRD installs the CloneSet CRD once and waits until CloneSets can be listed.
func ensureCRD(t *testing.T, dc dynamic.Interface) {
	t.Helper()
	ctx := context.Background()
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := dc.Resource(crds).Create(ctx, cloneSetCRD(), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create the CloneSet CRD: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := dc.Resource(cloneSets).Namespace("default").List(ctx, metav1.ListOptions{})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("CloneSets not served 30s after the CRD: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// createWorkloads makes the namespaces (labelled with their team) and every workload.
func createWorkloads(t *testing.T, kc kubernetes.Interface, dc dynamic.Interface) {
	t.Helper()
	ctx := context.Background()
	for ns, team := range namespaces {
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"team": team}}}
		if _, err := kc.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Pods are refused until the namespace's default service account exists.
	for ns := range namespaces {
		waitFor(t, 30*time.Second, "service account default in "+ns, func() bool {
			_, err := kc.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
			return err == nil
		})
	}
	opts := metav1.CreateOptions{}
	for _, s := range specs {
		var err error
		switch s.kind {
		case "Deployment":
			_, err = kc.AppsV1().Deployments(s.namespace).Create(ctx, s.deployment(), opts)
		case "StatefulSet":
			_, err = kc.AppsV1().StatefulSets(s.namespace).Create(ctx, s.statefulSet(), opts)
		case "DaemonSet":
			_, err = kc.AppsV1().DaemonSets(s.namespace).Create(ctx, s.daemonSet(), opts)
		case "Job":
			_, err = kc.BatchV1().Jobs(s.namespace).Create(ctx, s.job(), opts)
		case "CronJob":
			_, err = kc.BatchV1().CronJobs(s.namespace).Create(ctx, s.cronJob(), opts)
		case "Pod":
			_, err = kc.CoreV1().Pods(s.namespace).Create(ctx, s.pod(s.name, nil), opts)
		case "CloneSet":
			cs, cerr := dc.Resource(cloneSets).Namespace(s.namespace).Create(ctx, s.cloneSet(), opts)
			if cerr != nil {
				t.Fatalf("create %s: %v", s, cerr)
			}
			yes := true
			owner := &metav1.OwnerReference{APIVersion: kruiseGroup + "/" + kruiseVersion, Kind: "CloneSet",
				Name: cs.GetName(), UID: cs.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}
			_, err = kc.CoreV1().Pods(s.namespace).Create(ctx, s.pod(s.name+"-x7k2p", owner), opts)
		default:
			t.Fatalf("unknown kind %s", s.kind)
		}
		if err != nil {
			t.Fatalf("create %s: %v", s, err)
		}
	}
}

// waitStarted waits until every pod of a workload that is not a CronJob has started its
// container, and returns when each did (the API's startedAt, to the second).
func waitStarted(t *testing.T, kc kubernetes.Interface, timeout time.Duration) map[podKey]time.Time {
	t.Helper()
	want := 0
	for _, s := range specs {
		switch s.kind {
		case "CronJob":
		case "Deployment", "StatefulSet":
			want += int(s.replicas)
		default:
			want++
		}
	}
	var starts map[podKey]time.Time
	waitFor(t, timeout, fmt.Sprintf("%d pods started", want), func() bool {
		starts = map[podKey]time.Time{}
		for _, p := range listPods(t, kc) {
			if s, ok := specOf(p.Namespace, p.Name); !ok || s.kind == "CronJob" {
				continue
			}
			if at, ok := startedAt(p); ok {
				starts[podKey{p.Namespace, p.Name}] = at
			}
		}
		return len(starts) == want
	})
	return starts
}

// recordLives notes, for every pod still in the API, when its container ran and how often
// it restarted.
func recordLives(t *testing.T, kc kubernetes.Interface, r *run) {
	t.Helper()
	for _, p := range listPods(t, kc) {
		k := podKey{p.Namespace, p.Name}
		for _, c := range p.Status.ContainerStatuses {
			r.restarts[k] = c.RestartCount
			l := life{}
			switch {
			case c.State.Running != nil:
				l.start = c.State.Running.StartedAt.UTC()
			case c.State.Terminated != nil:
				l.start, l.end = c.State.Terminated.StartedAt.UTC(), c.State.Terminated.FinishedAt.UTC()
			}
			if c.RestartCount == 0 && !l.start.IsZero() {
				r.lives[k] = l
			}
		}
	}
}

func listPods(t *testing.T, kc kubernetes.Interface) []corev1.Pod {
	t.Helper()
	var out []corev1.Pod
	for ns := range namespaces {
		list, err := kc.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, list.Items...)
	}
	slices.SortFunc(out, func(a, b corev1.Pod) int { return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name) })
	return out
}

// startedAt is when the pod's container started its current (or last) run.
func startedAt(p corev1.Pod) (time.Time, bool) {
	for _, c := range p.Status.ContainerStatuses {
		switch {
		case c.State.Running != nil:
			return c.State.Running.StartedAt.UTC(), true
		case c.State.Terminated != nil:
			return c.State.Terminated.StartedAt.UTC(), true
		}
	}
	return time.Time{}, false
}

func usageWatermark(t *testing.T, st *store.Store) time.Time {
	t.Helper()
	wms, err := st.Watermarks(context.Background(), clusterName)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wms {
		if w.Job == "usage" {
			return w.Time.UTC()
		}
	}
	return time.Time{}
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func sleepUntil(at time.Time) { time.Sleep(time.Until(at)) }
