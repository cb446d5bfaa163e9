package synthetic

import (
	"io"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
)

func TestScrapeIntervals(t *testing.T) {
	for _, tc := range []struct {
		scrape, duration time.Duration
		ok               bool
	}{
		{10 * time.Second, 24 * time.Hour, true},
		{time.Minute, 24 * time.Hour, true},
		{2 * time.Minute, 24 * time.Hour, true},
		{5 * time.Minute, 48 * time.Hour, true},
		{2 * time.Minute, 24*time.Hour + time.Minute, false}, // End would not be a scrape time
		{90 * time.Second, 24 * time.Hour, false},
		{6 * time.Minute, 24 * time.Hour, false},
		{7 * time.Second, 24 * time.Hour, false},
	} {
		_, err := New(Options{End: testEnd, Duration: tc.duration, Scrape: tc.scrape})
		if (err == nil) != tc.ok {
			t.Errorf("Scrape %s over %s: error %v, want ok=%v", tc.scrape, tc.duration, err, tc.ok)
		}
	}
}

// TestShapeSeries checks the duplicated and cluster-labelled series: every sample carries the
// cluster label; each container's CPU and working set exist in six copies (two HA replicas ×
// the kubelet's cAdvisor, a second cAdvisor job and /metrics/resource), its other cAdvisor
// series in four, every kube-state-metrics series in two; and all copies of a sample hold the
// same value.
func TestShapeSeries(t *testing.T) {
	c := newCluster(t, Options{Duration: 24 * time.Hour, Scrape: 2 * time.Minute, ClusterLabel: "prod", Duplicates: true})
	type key struct {
		name, identity string
		ts             int64
	}
	type copies struct {
		n      int
		value  float64
		values bool // all equal
	}
	seen := map[key]*copies{}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(c.WriteOpenMetrics(pw)) }()
	checkOpenMetrics(t, c, pr, func(s omSample) {
		if s.labels["cluster"] != "prod" {
			t.Fatalf("%s: cluster label %q, want prod", s.series, s.labels["cluster"])
		}
		if r := s.labels["prometheus_replica"]; r != "prometheus-0" && r != "prometheus-1" {
			t.Fatalf("%s: prometheus_replica %q", s.series, r)
		}
		// What identifies the measured object: the container (and its instance's start, for
		// cAdvisor series) or the kube-state-metrics labels without the replica.
		var id []string
		for _, l := range []string{"namespace", "pod", "container", "node", "resource", "phase", "reason", "replicaset", "job_name", "owner_name",
			"persistentvolume", "persistentvolumeclaim"} {
			id = append(id, s.labels[l])
		}
		k := key{s.name, strings.Join(id, "/"), s.ts}
		cp := seen[k]
		if cp == nil {
			cp = &copies{value: s.value, values: true}
			seen[k] = cp
		}
		cp.n++
		cp.values = cp.values && cp.value == s.value
	})
	wantCopies := func(name string) int {
		switch {
		case name == "container_cpu_usage_seconds_total" || name == "container_memory_working_set_bytes":
			return 6
		case strings.HasPrefix(name, "container_"):
			return 4
		default:
			return 2
		}
	}
	bad := 0
	for k, cp := range seen {
		// An OOM-killed container's two instances overlap in no scrape, so a key is one instance.
		if cp.n != wantCopies(k.name) || !cp.values {
			if bad++; bad < 10 {
				t.Errorf("%s %s at %d: %d copies (want %d), equal values %v", k.name, k.identity, k.ts, cp.n, wantCopies(k.name), cp.values)
			}
		}
	}
	if len(seen) < 1000 {
		t.Fatalf("only %d distinct samples", len(seen))
	}
}

func TestTeamsOnNamespaces(t *testing.T) {
	c := newCluster(t, Options{TeamsOnNamespaces: true})
	namespaces, pods := 0, 0
	for _, o := range c.Objects() {
		m, err := meta.Accessor(o)
		if err != nil {
			t.Fatal(err)
		}
		_, team := m.GetLabels()["team"]
		switch o.(type) {
		case *corev1.Namespace:
			namespaces++
			if !team {
				t.Errorf("namespace %s has no team label", m.GetName())
			}
		case *corev1.Pod:
			pods++
			if team {
				t.Errorf("pod %s/%s has a team label", m.GetNamespace(), m.GetName())
			}
		default:
			if team {
				t.Errorf("%T %s/%s has a team label", o, m.GetNamespace(), m.GetName())
			}
		}
	}
	if namespaces == 0 || pods == 0 {
		t.Fatalf("%d namespaces, %d pods", namespaces, pods)
	}
}

// The spiky profile bursts to 0.9 cores in minutes 29 and 30 of every hour (0.05 otherwise):
// 2 of 60 minutes, so its 1-minute p95 is the baseline. A 120 s scrape on even minutes reads
// [28, 30) and [30, 32) at (0.05 + 0.9) / 2 = 0.475 each: 4 minutes an hour, above 5%.
func TestP95AtACoarseScrape(t *testing.T) {
	for _, tc := range []struct {
		scrape       time.Duration
		p95, p95Seen float64
	}{
		{30 * time.Second, 0.05, 0.05},
		{2 * time.Minute, 0.05, 0.475},
	} {
		e := newCluster(t, Options{Scrape: tc.scrape}).Expected()
		found := false
		for _, w := range e.Workloads {
			if w.Workload.Name != "search" {
				continue
			}
			found = true
			if !near(w.CPUUsageP95Cores, tc.p95, 1e-9) || !near(w.CPUUsageP95ScrapeCores, tc.p95Seen, 1e-9) {
				t.Errorf("scrape %s: p95 %.6f, as scraped %.6f; want %.3f and %.3f", tc.scrape, w.CPUUsageP95Cores, w.CPUUsageP95ScrapeCores, tc.p95, tc.p95Seen)
			}
		}
		if !found {
			t.Fatal("no search workload")
		}
	}
}
