package prom

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/stacktest"
)

// Tests against the stack's other Prometheus-compatible servers: promauth (Prometheus 2.42
// behind TLS and basic auth) and victoria (single-node VictoriaMetrics). Both are these
// tests' alone; they hold the integration fixture (fixture_test.go), loaded when missing.

// markerLoaded reports whether c's server holds the series of marker (an instant selector).
func markerLoaded(c *Client, marker string) bool {
	tab, err := fetch[struct{}](context.Background(), c, instantRequest("fixture marker", marker, fxBase), 1)
	return err == nil && tab.rows() == 1
}

// waitLoaded waits until marker shows up on c's server.
func waitLoaded(t *testing.T, c *Client, marker, how string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !markerLoaded(c, marker) {
		if time.Now().After(deadline) {
			t.Fatalf("the fixture loaded with %s does not show up within 60s (%s)", how, marker)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func fixtureMarker(extra string) string {
	return `promtest_fixture_info{version="` + fixtureVersion + `"` + extra + `}`
}

// promAuthConfig is an http config file for the promauth server; with password set, that
// password instead of the password file.
func promAuthConfig(pa stacktest.PromAuthServer, withCA bool, password string) string {
	var b strings.Builder
	if withCA {
		fmt.Fprintf(&b, "tls_config:\n  ca_file: %s\n", pa.CAFile)
	}
	fmt.Fprintf(&b, "basic_auth:\n  username: %s\n", pa.User)
	if password != "" {
		fmt.Fprintf(&b, "  password: %s\n", password)
	} else {
		fmt.Fprintf(&b, "  password_file: %s\n", pa.PasswordFile)
	}
	return b.String()
}

// loadPromAuthFixture makes sure the promauth Prometheus holds the fixture, backfilling it
// with hack/stack/promauth-load.sh (which restarts that server) when it is not there yet.
func loadPromAuthFixture(t *testing.T, c *Client) {
	t.Helper()
	marker := fixtureMarker("")
	if markerLoaded(c, marker) {
		return
	}
	file := filepath.Join(t.TempDir(), "fixture.om")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeOpenMetrics(f, fixtureSeries()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "hack/stack/promauth-load.sh"), file)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promauth-load.sh: %v\n%s", err, out)
	}
	waitLoaded(t, c, marker, "promauth-load.sh")
}

// The Client reads a Prometheus that requires TLS and basic auth through an http config file
// (ca_file, basic_auth with password_file), and reads there the same usage as from the
// stack's plain Prometheus holding the same fixture. A wrong password and a missing CA are
// clear errors, not retried, that show no password.
func TestIntegrationPromAuth(t *testing.T) {
	pa := stacktest.PromAuth(t)
	plainURL := stacktest.PrometheusURL(t)
	password, err := os.ReadFile(pa.PasswordFile)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(password))
	ctx := context.Background()
	from, to := fxBase, fxBase.Add(3*time.Hour)

	c, err := configClient(t, pa.URL, promAuthConfig(pa, true, ""), Options{Chunk: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	loadPromAuthFixture(t, c)
	got, err := c.Usage(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	loadFixture(t, plainURL)
	want, err := newTestClient(t, plainURL, Options{Chunk: time.Hour}).Usage(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	namespaces := []string{fxNSWeb, fxNSBatch, fxNSAPI, fxNSOOM, fxNSJobs}
	g, w := byKey(got, namespaces...), byKey(want, namespaces...)
	if len(w) < 500 || !maps.Equal(g, w) {
		t.Fatalf("usage through TLS and basic auth: %d samples, from the plain Prometheus %d; want the same (and over 500)", len(g), len(w))
	}

	t.Run("wrong password", func(t *testing.T) {
		const wrong = "wrong-password-4711"
		c, err := configClient(t, pa.URL, promAuthConfig(pa, true, wrong), Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Usage(ctx, from, to)
		if err == nil || !strings.Contains(err.Error(), "401") || c.QueryCount() != 1 {
			t.Fatalf("err %v after %d requests, want a 401 at the first, not retried", err, c.QueryCount())
		}
		if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), secret) {
			t.Fatalf("error shows a password: %v", err)
		}
		t.Log(err)
	})
	t.Run("missing CA", func(t *testing.T) {
		c, err := configClient(t, pa.URL, promAuthConfig(pa, false, ""), Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Usage(ctx, from, to)
		if err == nil || !strings.Contains(err.Error(), "x509") || c.QueryCount() != 1 {
			t.Fatalf("err %v after %d requests, want a certificate error at the first, not retried", err, c.QueryCount())
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error shows the password: %v", err)
		}
		t.Log(err)
	})
	t.Run("no credentials", func(t *testing.T) {
		c, err := configClient(t, pa.URL, "tls_config:\n  ca_file: "+pa.CAFile+"\n", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Usage(ctx, from, to); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("err = %v, want a 401", err)
		}
	})
}

// writeImport writes series in the Prometheus text format with millisecond timestamps, as
// VictoriaMetrics' /api/v1/import/prometheus reads it.
func writeImport(w io.Writer, series []*fxSeries) error {
	bw := bufio.NewWriter(w)
	for _, s := range series {
		keys := slices.Sorted(maps.Keys(s.labels))
		var lb strings.Builder
		for i, k := range keys {
			if i > 0 {
				lb.WriteByte(',')
			}
			fmt.Fprintf(&lb, "%s=%q", k, s.labels[k])
		}
		for _, p := range s.points {
			fmt.Fprintf(bw, "%s{%s} %s %d\n", s.name, lb.String(), strconv.FormatFloat(p.v, 'g', -1, 64), p.ts*1000)
		}
	}
	return bw.Flush()
}

// importVictoria sends series to VictoriaMetrics and makes them searchable at once.
func importVictoria(t *testing.T, base string, series []*fxSeries) {
	t.Helper()
	var body bytes.Buffer
	if err := writeImport(&body, series); err != nil {
		t.Fatal(err)
	}
	post := func(path string, body io.Reader) {
		resp, err := http.Post(base+path, "text/plain", body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %s: %s", path, resp.Status, msg)
		}
	}
	post("/api/v1/import/prometheus", &body)
	post("/internal/force_flush", nil)
}

// twoClusters is the fixture twice, as two clusters scraped into one store: cluster="a" and
// cluster="b" labels on every series, namespaces promsel-* instead of promtest-*, and the
// pods of cluster b named <pod>-b.
func twoClusters() []*fxSeries {
	var out []*fxSeries
	for _, cluster := range []string{"a", "b"} {
		for _, s := range fixtureSeries() {
			c := *s
			c.labels = maps.Clone(s.labels)
			c.labels["cluster"] = cluster
			if ns, ok := c.labels["namespace"]; ok {
				c.labels["namespace"] = strings.Replace(ns, "promtest-", "promsel-", 1)
			}
			if pod, ok := c.labels["pod"]; ok && cluster == "b" {
				c.labels["pod"] = pod + "-b"
			}
			out = append(out, &c)
		}
	}
	return out
}

// keepNamespaces is ks with only the containers and events of the namespaces keep accepts.
func keepNamespaces(ks *KubeState, keep func(ns string) bool) KubeState {
	out := KubeState{Present: ks.Present}
	for _, c := range ks.Containers {
		if keep(c.Namespace) {
			out.Containers = append(out.Containers, c)
		}
	}
	for _, e := range ks.Events {
		if keep(e.Namespace) {
			out.Events = append(out.Events, e)
		}
	}
	return out
}

// sameUsage compares two readings of the same data: the same containers and minutes, CPU and
// the CFS counters within 1e-9 relative, working sets equal.
func sameUsage(t *testing.T, label string, got, want map[usageKey]model.UsageSample) {
	t.Helper()
	near := func(a, b float64) bool {
		return a == b || math.Abs(a-b) <= 1e-9*max(math.Abs(a), math.Abs(b))
	}
	var missing, extra, differ []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("%s/%s %s", k.ns, k.pod, k.at.Format(time.TimeOnly)))
		case !near(g.CPUUsageCores, w.CPUUsageCores) || g.MemoryWorkingSetBytes != w.MemoryWorkingSetBytes ||
			!near(g.CPUThrottledPeriods, w.CPUThrottledPeriods) || !near(g.CPUPeriods, w.CPUPeriods):
			differ = append(differ, fmt.Sprintf("%s/%s %s: %+v, want %+v", k.ns, k.pod, k.at.Format(time.TimeOnly), g, w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, fmt.Sprintf("%s/%s %s", k.ns, k.pod, k.at.Format(time.TimeOnly)))
		}
	}
	for _, l := range [][]string{missing, extra, differ} {
		sort.Strings(l)
	}
	head := func(l []string) []string { return l[:min(len(l), 10)] }
	if len(missing)+len(extra)+len(differ) > 0 {
		t.Errorf("%s: %d samples missing %v, %d extra %v, %d differ %v", label,
			len(missing), head(missing), len(extra), head(extra), len(differ), head(differ))
	}
}

// VictoriaMetrics holding the fixture answers tally's queries with the same usage as
// Prometheus; with a selector, the Client reads only one of two clusters in one store.
func TestIntegrationVictoriaMetrics(t *testing.T) {
	vmURL := stacktest.VictoriaURL(t)
	plainURL := stacktest.PrometheusURL(t)
	ctx := context.Background()
	from, to := fxBase, fxBase.Add(3*time.Hour)

	vm := newTestClient(t, vmURL, Options{Chunk: time.Hour})
	if marker := fixtureMarker(`,cluster=""`); !markerLoaded(vm, marker) {
		importVictoria(t, vmURL, fixtureSeries())
		waitLoaded(t, vm, marker, "/api/v1/import/prometheus")
	}
	if marker := fixtureMarker(`,cluster="b"`); !markerLoaded(vm, marker) {
		importVictoria(t, vmURL, twoClusters())
		waitLoaded(t, vm, marker, "/api/v1/import/prometheus")
	}
	loadFixture(t, plainURL)

	fromVM, err := vm.Usage(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	fromProm, err := newTestClient(t, plainURL, Options{Chunk: time.Hour}).Usage(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	namespaces := []string{fxNSWeb, fxNSBatch, fxNSAPI, fxNSOOM, fxNSJobs}
	want := byKey(fromProm, namespaces...)
	if len(want) < 500 {
		t.Fatalf("%d samples from Prometheus, want over 500", len(want))
	}
	sameUsage(t, "VictoriaMetrics vs Prometheus", byKey(fromVM, namespaces...), want)
	t.Logf("%d samples of the fixture from each", len(want))

	// The same minutes under the two-cluster names: cluster a keeps the pod names, b adds -b.
	renamed := func(cluster string) map[usageKey]model.UsageSample {
		out := map[usageKey]model.UsageSample{}
		for k, s := range want {
			k.ns = strings.Replace(k.ns, "promtest-", "promsel-", 1)
			if cluster == "b" {
				k.pod += "-b"
			}
			s.Namespace, s.Pod = k.ns, k.pod
			out[k] = s
		}
		return out
	}
	selNamespaces := make([]string, len(namespaces))
	for i, ns := range namespaces {
		selNamespaces[i] = strings.Replace(ns, "promtest-", "promsel-", 1)
	}
	for _, cluster := range []string{"a", "b"} {
		t.Run("selector cluster="+cluster, func(t *testing.T) {
			c := newTestClient(t, vmURL, Options{Chunk: time.Hour, Selector: `cluster="` + cluster + `"`})
			samples, err := c.Usage(ctx, from, to)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range samples {
				if !strings.HasPrefix(s.Namespace, "promsel-") {
					t.Fatalf("sample of %s/%s: the selector let another data set through", s.Namespace, s.Pod)
				}
				if strings.HasSuffix(s.Pod, "-b") != (cluster == "b") {
					t.Fatalf("sample of pod %s with cluster=%q: the other cluster's container", s.Pod, cluster)
				}
			}
			sameUsage(t, "cluster "+cluster, byKey(samples, selNamespaces...), renamed(cluster))
		})
	}
	t.Run("kube-state-metrics", func(t *testing.T) {
		const step = 5 * time.Minute
		fromVM, err := vm.KubeState(ctx, from, to, step)
		if err != nil {
			t.Fatal(err)
		}
		fromProm, err := newTestClient(t, plainURL, Options{Chunk: time.Hour}).KubeState(ctx, from, to, step)
		if err != nil {
			t.Fatal(err)
		}
		fixture := func(ns string) bool { return slices.Contains(namespaces, ns) }
		got, want := keepNamespaces(fromVM, fixture), keepNamespaces(fromProm, fixture)
		if len(want.Containers) < 100 || len(want.Events) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("KubeState from VictoriaMetrics: %d containers, %d events; from Prometheus %d, %d; want the same",
				len(got.Containers), len(got.Events), len(want.Containers), len(want.Events))
		}
		scoped, err := newTestClient(t, vmURL, Options{Chunk: time.Hour, Selector: `cluster="b"`}).KubeState(ctx, from, to, step)
		if err != nil {
			t.Fatal(err)
		}
		if len(scoped.Containers) != len(want.Containers) || len(scoped.Events) != len(want.Events) {
			t.Fatalf("cluster b: %d containers, %d events; want %d, %d", len(scoped.Containers), len(scoped.Events), len(want.Containers), len(want.Events))
		}
		for _, c := range scoped.Containers {
			if !strings.HasPrefix(c.Namespace, "promsel-") || !strings.HasSuffix(c.Pod, "-b") {
				t.Fatalf("cluster b: container of %s/%s", c.Namespace, c.Pod)
			}
		}
	})
	t.Run("no selector reads both clusters", func(t *testing.T) {
		both := byKey(fromVM, selNamespaces...)
		if a, b := len(renamed("a")), len(renamed("b")); len(both) != a+b {
			t.Fatalf("%d samples of the two-cluster data without a selector, want %d + %d", len(both), a, b)
		}
	})
}
