//go:build chdb

// Modern-engine conformance test: every SQL file of this package executed on chDB
// (ClickHouse 26.x as an in-process library), against a small hand-built dataset whose
// expected results are worked out by hand below.
//
//	CHDB_LIB_PATH=$(hack/chdb/fetch.sh) go test -tags chdb -count=1 -v ./sql/
//
// chdb-go loads libchdb.so when its package initialises and panics when CHDB_LIB_PATH does
// not name it, hence the build tag. chDB allows one session per process: TestMain opens it.

package sql_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chdb-io/chdb-go/chdb"

	tallysql "github.com/tally-finops/tally/sql"
)

var session *chdb.Session

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tally-chdb-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chdb conformance:", err)
		os.Exit(1)
	}
	session, err = chdb.NewSession(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "chdb conformance: open session:", err)
		os.Exit(1)
	}
	code := m.Run()
	session.Cleanup() // closes the session and removes dir
	os.Exit(code)
}

// ---------------------------------------------------------------------------------------------
// The dataset. Every time is UTC. The day under test, d1, is three days ago: recent, because
// migration 0006 gives the inventory and sample tables a 400-day TTL, and a modern server
// deletes older rows (in a TTL merge right after the insert), so a fixed date would age out.

var (
	d1  = time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)
	d2  = d1.Add(24 * time.Hour) // the next day
	d3  = d2.Add(24 * time.Hour)
	h09 = d1.Add(9 * time.Hour)
	h10 = d1.Add(10 * time.Hour)
	h11 = d1.Add(11 * time.Hour)
	h12 = d1.Add(12 * time.Hour)

	epoch = time.Unix(0, 0).UTC()
)

func minute(t time.Time, m int) time.Time { return t.Add(time.Duration(m) * time.Minute) }

// dt and day are how chDB prints a DateTime('UTC') and a Date.
func dt(t time.Time) string  { return t.UTC().Format("2006-01-02 15:04:05") }
func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// window is the parameters the store binds for a half-open window [from, to) of a cluster.
func window(cluster string, from, to time.Time) map[string]any {
	return map[string]any{"cluster": cluster, "from": from.Unix(), "to": to.Unix()}
}

var (
	appLabelKeys   = []string{"app", "team"}
	appLabelValues = []string{"web", "shop"}
	none           = []string{}
)

// node row: cluster, ts, node, instance_type, region, zone, capacity_type, cpu_capacity_cores,
// cpu_allocatable_cores, memory_capacity_bytes, memory_allocatable_bytes, gpu_capacity,
// gpu_allocatable, label_keys, label_values
func nodeRow(cluster string, ts time.Time, node string, cpuAlloc float64) []any {
	if node == "n2" {
		return []any{cluster, ts, node, "g4dn.xlarge", "eu-west-1", "eu-west-1b", "spot",
			4.0, cpuAlloc, uint64(17179869184), uint64(15032385536), 1.0, 1.0, none, none}
	}
	return []any{cluster, ts, node, "m5.xlarge", "eu-west-1", "eu-west-1a", "on-demand",
		4.0, cpuAlloc, uint64(17179869184), uint64(16106127360), 0.0, 0.0,
		[]string{"kubernetes.io/arch", "topology.kubernetes.io/zone"}, []string{"amd64", "eu-west-1a"}}
}

// container row: cluster, ts, namespace, pod, pod_uid, container, init_container, node, phase,
// qos_class, workload_kind, workload, cpu_request_cores, cpu_limit_cores, memory_request_bytes,
// memory_limit_bytes, gpu_request, started_at, finished_at, restart_count,
// last_termination_reason, label_keys, label_values
var (
	ctrWebAApp = func(cluster string, ts time.Time) []any {
		return []any{cluster, ts, "shop", "web-a", "uid-a", "app", 0, "n1", "Running", "Burstable", "Deployment", "web",
			0.5, 1.0, uint64(1073741824), uint64(2147483648), 0.0, h09, epoch, 0, "", appLabelKeys, appLabelValues}
	}
	ctrWebAProxy = []any{"c1", h10, "shop", "web-a", "uid-a", "proxy", 0, "n1", "Running", "Burstable", "Deployment", "web",
		0.125, 0.0, uint64(134217728), uint64(0), 0.0, h09, epoch, 0, "", appLabelKeys, appLabelValues}
	ctrWebBApp = []any{"c1", h10, "shop", "web-b", "uid-b", "app", 0, "n2", "Running", "Burstable", "Deployment", "web",
		0.5, 1.0, uint64(1073741824), uint64(2147483648), 0.0, minute(h09, 30), epoch, 3, "OOMKilled", appLabelKeys, appLabelValues}
	ctrMigrateInit = []any{"c1", h10, "shop", "migrate-x", "uid-m", "init-db", 1, "n2", "Succeeded", "BestEffort", "Job", "migrate",
		0.0, 0.0, uint64(0), uint64(0), 0.0, h09, minute(h09, 5), 0, "Completed", none, none}
)

// usage sample row: cluster, ts, namespace, workload_kind, workload, pod, container,
// cpu_usage_cores, memory_working_set_bytes, cpu_throttled_periods, cpu_periods
func sample(cluster string, ts time.Time, pod, container string, cpu float64, mem uint64, throttled, periods float64) []any {
	return []any{cluster, ts, "shop", "Deployment", "web", pod, container, cpu, mem, throttled, periods}
}

var (
	s1  = sample("c1", h10, "web-a", "app", 0.5, 1000, 0, 10)
	s2  = sample("c1", minute(h10, 1), "web-a", "app", 1.5, 3000, 3, 10)
	s3  = sample("c1", minute(h10, 2), "web-a", "app", 1.0, 2000, 1, 10)
	s4  = sample("c1", h11, "web-a", "app", 2.0, 4000, 2, 12)
	s5  = sample("c1", h12, "web-a", "app", 0.25, 1500, 0, 10) // outside [h10, h12)
	s6  = sample("c1", h10, "web-b", "app", 0.25, 500, 0, 5)
	s7  = sample("c1", h11, "web-b", "app", 0.75, 1500, 1, 5)
	s8  = sample("c1", minute(h11, 1), "web-b", "app", 0.5, 2500, 0, 5)
	s9  = sample("c1", h10, "web-a", "proxy", 0.125, 100, 0, 10)
	s10 = sample("c2", h10, "web-a", "app", 8, 9999, 9, 9)   // other cluster
	s11 = sample("c1", d2, "web-a", "app", 3.0, 5000, 0, 10) // the next day
)

// container event row: cluster, ts, namespace, workload_kind, workload, pod, container, node,
// kind, reason, message, count, memory_limit_bytes
const oomMessage = `OOM: "app" hit its 2Gi limit, it's restarting \ back-off`

var (
	ev1 = []any{"c1", minute(h10, 30), "shop", "Deployment", "web", "web-b", "app", "n2", "oom-kill", "OOMKilled", oomMessage, 1, uint64(2147483648)}
	ev2 = []any{"c1", minute(h11, 15), "shop", "Deployment", "web", "web-b", "app", "n2", "restart", "BackOff", "Back-off restarting failed container", 3, uint64(2147483648)}
	ev3 = []any{"c1", minute(h12, 5), "shop", "Deployment", "web", "web-b", "app", "n2", "restart", "BackOff", "later", 4, uint64(2147483648)}
	ev4 = []any{"c2", minute(h10, 30), "shop", "Deployment", "web", "web-b", "app", "n2", "oom-kill", "OOMKilled", "other cluster", 1, uint64(0)}
)

// node price row: cluster, hour, node, instance_type, capacity_type, currency, hourly_cost,
// cpu_core_hour_cost, ram_gib_hour_cost, gpu_hour_cost, source
var (
	priceN1H10      = []any{"c1", h10, "n1", "m5.xlarge", "on-demand", "USD", 0.25, 0.03125, 0.00390625, 0.0, "opencost"}
	priceN1H11      = []any{"c1", h11, "n1", "m5.xlarge", "on-demand", "USD", 0.25, 0.03125, 0.00390625, 0.0, "opencost"}
	priceN1H12      = []any{"c1", h12, "n1", "m5.xlarge", "on-demand", "USD", 0.25, 0.03125, 0.00390625, 0.0, "opencost"}
	priceN2H10      = []any{"c1", h10, "n2", "g4dn.xlarge", "spot", "USD", 0.5, 0.0625, 0.0078125, 0.25, "opencost"}
	priceN2H10Fixed = []any{"c1", h10, "n2", "g4dn.xlarge", "spot", "USD", 0.375, 0.046875, 0.005859375, 0.1875, "spot-feed"}
	priceC2         = []any{"c2", h10, "n1", "m5.xlarge", "on-demand", "EUR", 9.0, 9.0, 9.0, 9.0, "opencost"}
)

// cost allocation row: cluster, hour, node, namespace, workload_kind, workload, app, pod,
// container, is_idle, label_keys, label_values, run_hours, cpu_core_hours,
// cpu_request_core_hours, cpu_usage_core_hours, ram_byte_hours, ram_request_byte_hours,
// ram_usage_byte_hours, gpu_hours, cpu_cost, ram_cost, gpu_cost
func alloc(cluster string, hour time.Time, node, pod, container string, run, cpu, cpuReq, cpuUse, ram, ramReq, ramUse, gpu, cpuCost, ramCost, gpuCost float64) []any {
	return []any{cluster, hour, node, "shop", "Deployment", "web", "web", pod, container, 0, appLabelKeys, appLabelValues,
		run, cpu, cpuReq, cpuUse, ram, ramReq, ramUse, gpu, cpuCost, ramCost, gpuCost}
}

var (
	// After the container: run_hours, cpu_core_hours, cpu_request_core_hours, cpu_usage_core_hours,
	// ram_byte_hours, ram_request_byte_hours, ram_usage_byte_hours, gpu_hours, cpu_cost, ram_cost, gpu_cost.
	// The amounts are sums of powers of two, so the sums below are exact.
	a1 = alloc("c1", h10, "n1", "web-a", "app", 1, 1.5, 0.5, 1.0, 3000, 2000, 1500, 0, 0.75, 0.25, 0)
	a2 = alloc("c1", h10, "n2", "web-b", "app", 1, 0.5, 0.5, 0.25, 1000, 1000, 500, 0.5, 0.25, 0.125, 0.125)
	a3 = alloc("c1", h11, "n1", "web-a", "app", 1, 2.0, 0.5, 2.0, 4000, 2000, 4000, 0, 1.0, 0.5, 0)
	a4 = alloc("c1", h11, "n2", "web-b", "app", 0.5, 0.75, 0.25, 0.625, 2000, 1000, 2000, 0.5, 0.375, 0.0625, 0.125)
	a6 = alloc("c1", d2, "n1", "web-a", "app", 1, 1.0, 0.5, 1.0, 1000, 1000, 1000, 0, 0.5, 0.25, 0)           // next day
	a7 = alloc("c2", h10, "n1", "web-a", "app", 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9)                              // other cluster
	a8 = alloc("c1", h10, "n1", "web-a", "proxy", 1, 0.25, 0.125, 0.125, 500, 128, 100, 0, 0.125, 0.03125, 0) // second container, same app and node as a1
	// a5: the idle row of n1 at 10:00, with the empty workload the allocator writes for it.
	a5 = []any{"c1", h10, "n1", "", "", "", "", "", "", 1, none, none,
		1.0, 2.5, 0.0, 0.0, 8000.0, 0.0, 0.0, 0.0, 1.25, 0.5, 0.0}
)

// autoscaler row: cluster, ts, namespace, name, target_kind, target_name, min_replicas,
// max_replicas, resources
var (
	hpaWebH10 = []any{"c1", h10, "shop", "web", "Deployment", "web", 2, 10, []string{"cpu"}}
	hpaWebH11 = []any{"c1", h11, "shop", "web", "Deployment", "web", 3, 12, []string{"cpu", "memory"}} // later snapshot
	hpaWebH12 = []any{"c1", h12, "shop", "web", "Deployment", "web", 9, 99, []string{"memory"}}        // outside [10:00, 12:00)
	hpaAPI    = []any{"c1", h10, "shop", "api", "Deployment", "api", 1, 3, none}
	hpaOther  = []any{"c2", h10, "shop", "web", "Deployment", "web", 1, 1, none}
)

// watermark row: cluster, job, watermark, updated_at, version
var (
	wmUsageV1     = []any{"c1", "usage", h10, minute(h10, 1), uint64(1)}
	wmUsageV3Back = []any{"c1", "usage", h09, minute(h12, 1), uint64(3)} // moved back on purpose: highest version
	wmUsageV2     = []any{"c1", "usage", h12, minute(h11, 1), uint64(2)} // inserted last, but an older version
	wmInventory   = []any{"c1", "inventory", h11, h11, uint64(7)}
	wmOtherClust  = []any{"c2", "usage", d2, d2, uint64(9)}
)

// ---------------------------------------------------------------------------------------------

// conformance runs the files and records which named queries it executed.
type conformance struct {
	executed map[string]int
}

func TestChDBConformance(t *testing.T) {
	c := &conformance{executed: map[string]int{}}
	start := time.Now()
	exec(t, "SET session_timezone = 'UTC'")
	exec(t, "DROP DATABASE IF EXISTS tally_conformance") // -count=2 reuses the session
	exec(t, "CREATE DATABASE tally_conformance")
	exec(t, "USE tally_conformance")

	if !t.Run("server_version", c.serverVersion) {
		t.FailNow()
	}
	if !t.Run("migrations", c.migrations) {
		t.FailNow()
	}
	if !t.Run("load", c.load) {
		t.FailNow()
	}
	// The reads must give the same answers whatever the server's time zone: the window
	// bounds are Unix times and every stored DateTime is UTC, so the days of the rollups are
	// UTC days. New York is west of UTC, where a bound read as a local date moves back a day.
	for _, tz := range []struct{ name, zone string }{{"utc", "UTC"}, {"new_york", "America/New_York"}} {
		t.Run("reads_tz_"+tz.name, func(t *testing.T) {
			exec(t, "SET session_timezone = "+literal(tz.zone))
			defer exec(t, "SET session_timezone = 'UTC'")
			c.reads(t)
		})
	}
	t.Run("resent_batches", c.resentBatches)
	t.Run("retention", c.retention)
	t.Run("bill", c.bill)
	t.Run("volumes", c.volumes)
	t.Run("every_query_file_executed", c.coverage)
	t.Logf("chDB conformance took %v", time.Since(start).Round(time.Millisecond))
}

func (c *conformance) serverVersion(t *testing.T) {
	res := c.query(t, "select_server_version", nil)
	res.wantColumns(t, "version()", "String")
	if len(res.rows) != 1 {
		t.Fatalf("select_server_version: %d rows, want 1", len(res.rows))
	}
	s, _ := res.rows[0][0].(string)
	v, err := tallysql.ParseServerVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("chDB reports ClickHouse %s", s)
	if v.Major < 26 {
		t.Errorf("server version %s: want chDB on ClickHouse 26.x or newer", s)
	}
	migrations, err := tallysql.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations {
		if v.Less(m.MinServer) {
			t.Errorf("migration %04d_%s needs %s; chDB's %s would skip it, so this test would not cover it", m.Version, m.Name, m.MinServer, s)
		}
	}
}

// migrations applies the bookkeeping table and every migration, as Store.Migrate does on a
// new server, each twice in a row, then records them: a migration must be idempotent, since a
// runner that dies between a statement and the record of its migration re-runs it. (It need
// not survive re-running an earlier migration after a later one: the runner never does that,
// and 0011 replaces objects 0002 created.)
func (c *conformance) migrations(t *testing.T) {
	if _, err := session.Query(tallysql.Bookkeeping()); err != nil {
		t.Fatalf("schema_migrations.sql: %v\n%s", err, tallysql.Bookkeeping())
	}
	migrations, err := tallysql.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(migrations) == 0 {
		t.Fatal("no migrations")
	}
	for _, m := range migrations {
		file := fmt.Sprintf("migrations/%04d_%s.sql", m.Version, m.Name)
		for pass := 1; pass <= 2; pass++ {
			for i, stmt := range m.Statements {
				if _, err := session.Query(stmt); err != nil {
					t.Fatalf("%s statement %d of %d (pass %d): %v\n%s", file, i+1, len(m.Statements), pass, err, stmt)
				}
			}
		}
	}
	var rows [][]any
	for _, m := range migrations {
		rows = append(rows, []any{uint32(m.Version), m.Name, m.Checksum, h12})
	}
	c.insert(t, "insert_schema_migrations", rows...)
	// A runner that died after recording 0001 but before returning records it again.
	c.insert(t, "insert_schema_migrations", []any{uint32(migrations[0].Version), migrations[0].Name, migrations[0].Checksum, minute(h12, 5)})

	res := c.query(t, "select_schema_migrations", nil)
	res.wantColumns(t, "version", "UInt32", "name", "String", "checksum", "String")
	var want [][]any
	for _, m := range migrations { // one row per version, in version order
		want = append(want, []any{m.Version, m.Name, m.Checksum})
	}
	res.wantRows(t, want...)

	// 0006 really took effect on the modern engine.
	codec := scalar(t, "SELECT compression_codec FROM system.columns WHERE database = currentDatabase() AND table = 'usage_samples' AND name = 'cpu_usage_cores'")
	if !strings.HasPrefix(codec, "CODEC(Gorilla") || !strings.HasSuffix(codec, ", ZSTD(1))") { // 26.x prints Gorilla(8)
		t.Errorf("usage_samples.cpu_usage_cores codec = %q, want CODEC(Gorilla, ZSTD(1))", codec)
	}
	for _, table := range []string{"usage_samples", "containers", "nodes"} {
		engine := scalar(t, "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = "+literal(table))
		if !strings.Contains(engine, "TTL ts + toIntervalDay(400)") {
			t.Errorf("%s: engine %q has no TTL ts + toIntervalDay(400)", table, engine)
		}
	}
}

// load inserts the dataset through every insert_*.sql statement. Rows meant to be replaced
// or deduplicated arrive in a later batch, so they sit in another part, as they would after
// a re-collection.
func (c *conformance) load(t *testing.T) {
	c.insert(t, "insert_nodes",
		nodeRow("c1", h10, "n1", 3.5), nodeRow("c1", h11, "n1", 3.5), nodeRow("c1", h10, "n2", 3.75),
		nodeRow("c1", h12, "n1", 3.5), nodeRow("c2", h10, "n1", 3.5))
	c.insert(t, "insert_nodes", nodeRow("c1", h10, "n1", 3.8)) // re-collected snapshot: replaces 3.5

	c.insert(t, "insert_containers", ctrWebAApp("c1", h10), ctrWebAProxy, ctrWebBApp, ctrWebAApp("c1", h11),
		ctrMigrateInit, ctrWebAApp("c1", h12), ctrWebAApp("c2", h10))
	c.insert(t, "insert_containers", ctrWebBApp) // the same snapshot again

	c.insert(t, "insert_usage_samples", s1, s2, s3, s4, s5, s6, s7, s8, s9, s10)
	c.insert(t, "insert_usage_samples", s11) // a later batch, the next day

	c.insert(t, "insert_container_events", ev1, ev2, ev3, ev4)
	c.insert(t, "insert_container_events", ev1) // the same event again

	c.insert(t, "insert_node_prices", priceN1H10, priceN1H11, priceN1H12, priceN2H10, priceC2)
	c.insert(t, "insert_node_prices", priceN2H10Fixed) // corrected price: replaces priceN2H10

	c.insert(t, "insert_cost_allocations", a1, a2, a3, a4, a5, a7, a8)
	c.insert(t, "insert_cost_allocations", a6) // a later batch, the next day

	c.insert(t, "insert_autoscalers", hpaWebH10, hpaAPI, hpaOther)
	c.insert(t, "insert_autoscalers", hpaWebH11, hpaWebH12)

	c.insert(t, "insert_watermarks", wmUsageV1, wmInventory, wmOtherClust)
	c.insert(t, "insert_watermarks", wmUsageV3Back)
	c.insert(t, "insert_watermarks", wmUsageV2)

	c.insert(t, "insert_recommendations", recWebApp, recYoung, recOther)
	c.insert(t, "insert_recommendations", recWebAppAgain) // the day recomputed: replaces recWebApp

	c.loadNamespaces(t)
}

func (c *conformance) reads(t *testing.T) {
	t.Run("select_nodes", func(t *testing.T) {
		res := c.query(t, "select_nodes", window("c1", h10, h12))
		res.wantColumns(t,
			"cluster", "LowCardinality(String)", "ts", "DateTime('UTC')", "node", "String",
			"instance_type", "LowCardinality(String)", "region", "LowCardinality(String)",
			"zone", "LowCardinality(String)", "capacity_type", "LowCardinality(String)",
			"cpu_capacity_cores", "Float64", "cpu_allocatable_cores", "Float64",
			"memory_capacity_bytes", "UInt64", "memory_allocatable_bytes", "UInt64",
			"gpu_capacity", "Float64", "gpu_allocatable", "Float64",
			"label_keys", "Array(String)", "label_values", "Array(String)")
		// c1 in [10:00, 12:00), by node then ts: the 12:00 and c2 rows are out; n1 at 10:00
		// was inserted twice and FINAL keeps the later insert (allocatable 3.8, not 3.5).
		res.wantRows(t,
			rowOut(nodeRow("c1", h10, "n1", 3.8)),
			rowOut(nodeRow("c1", h11, "n1", 3.5)),
			rowOut(nodeRow("c1", h10, "n2", 3.75)))
	})

	t.Run("select_node_hours", func(t *testing.T) {
		// c1 in [10:00, 12:00), by hour then node: n1 seen in one minute of 10:00 (its snapshot
		// written twice: FINAL keeps allocatable 3.8) and one of 11:00, n2 in one of 10:00.
		hour := func(h time.Time, n []any) []any {
			return append([]any{dt(h), n[2], 1}, n[3:]...)
		}
		c.query(t, "select_node_hours", window("c1", h10, h12)).wantRows(t,
			hour(h10, nodeRow("c1", h10, "n1", 3.8)),
			hour(h10, nodeRow("c1", h10, "n2", 3.75)),
			hour(h11, nodeRow("c1", h11, "n1", 3.5)))
	})

	t.Run("select_containers", func(t *testing.T) {
		res := c.query(t, "select_containers", window("c1", h10, h12))
		res.wantColumns(t,
			"cluster", "LowCardinality(String)", "ts", "DateTime('UTC')", "namespace", "LowCardinality(String)",
			"pod", "String", "pod_uid", "String", "container", "LowCardinality(String)", "init_container", "UInt8",
			"node", "LowCardinality(String)", "phase", "LowCardinality(String)", "qos_class", "LowCardinality(String)",
			"workload_kind", "LowCardinality(String)", "workload", "String",
			"cpu_request_cores", "Float64", "cpu_limit_cores", "Float64",
			"memory_request_bytes", "UInt64", "memory_limit_bytes", "UInt64", "gpu_request", "Float64",
			"started_at", "DateTime('UTC')", "finished_at", "DateTime('UTC')", "restart_count", "UInt32",
			"last_termination_reason", "LowCardinality(String)", "label_keys", "Array(String)", "label_values", "Array(String)")
		// By namespace, pod, container, ts ("migrate-x" < "web-a" < "web-b"; "app" < "proxy");
		// web-b/app was inserted twice: one row. finished_at of a running container is the epoch.
		res.wantRows(t,
			rowOut(ctrMigrateInit),
			rowOut(ctrWebAApp("c1", h10)),
			rowOut(ctrWebAApp("c1", h11)),
			rowOut(ctrWebAProxy),
			rowOut(ctrWebBApp))
		if len(res.rows) == 5 && res.rows[4][18] != "1970-01-01 00:00:00" {
			t.Errorf("finished_at of a running container = %v, want the epoch 1970-01-01 00:00:00", res.rows[4][18])
		}
	})

	t.Run("select_usage_samples", func(t *testing.T) {
		res := c.query(t, "select_usage_samples", window("c1", h10, h12))
		res.wantColumns(t,
			"cluster", "String", "ts", "DateTime('UTC')", "namespace", "String",
			"workload_kind", "String", "workload", "String", "pod", "String", "container", "String",
			"cpu_usage_cores", "Float64", "memory_working_set_bytes", "UInt64",
			"cpu_throttled_periods", "Float64", "cpu_periods", "Float64")
		// By namespace, pod, container, ts; s5 (12:00), s10 (c2) and s11 (next day) are out.
		res.wantRows(t, rowOut(s1), rowOut(s2), rowOut(s3), rowOut(s4), rowOut(s9), rowOut(s6), rowOut(s7), rowOut(s8))
	})

	t.Run("select_usage_hourly", func(t *testing.T) {
		res := c.query(t, "select_usage_hourly", window("c1", h10, h12))
		res.wantColumns(t, usageRollupColumns("hour", "DateTime('UTC')")...)
		// Per hour and container of shop/Deployment/web, pods pooled, from the samples in
		// [10:00, 12:00) of c1:
		//   10:00 app   s1 s2 s3 (web-a) s6 (web-b): samples 4, cpu 0.5+1.5+1.0+0.25 = 3.25, max 1.5,
		//               mem 1000+3000+2000+500 = 6500, max 3000, throttled 0+3+1+0 = 4, periods 10+10+10+5 = 35
		//   10:00 proxy s9: samples 1, cpu 0.125, max 0.125, mem 100/100, throttled 0, periods 10
		//   11:00 app   s4 (web-a) s7 s8 (web-b): samples 3, cpu 2.0+0.75+0.5 = 3.25, max 2.0,
		//               mem 4000+1500+2500 = 8000, max 4000, throttled 2+1+0 = 3, periods 12+5+5 = 22
		// p95 is the nearest-rank one, the ⌈0.95 n⌉-th smallest sample: the 4th of 4 (1.5) at
		// 10:00, the 3rd of 3 (2.0) at 11:00, in its bucket's value clamped to the maximum (a
		// single value exactly).
		res.wantRows(t,
			rollup(dt(h10), "app", 4, 3.25, 1.5, atMax(1.5), 6500, 3000, 4, 35),
			rollup(dt(h10), "proxy", 1, 0.125, 0.125, 0.125, 100, 100, 0, 10),
			rollup(dt(h11), "app", 3, 3.25, 2.0, atMax(2.0), 8000, 4000, 3, 22))
	})

	t.Run("select_usage_daily", func(t *testing.T) {
		res := c.query(t, "select_usage_daily", window("c1", d1, d2))
		res.wantColumns(t, usageRollupColumns("day", "Date")...)
		// Day d1 of c1, per container, pods pooled (s5 at 12:00 counts, s11 is the next day).
		// The daily rows are rolled up from the hourly ones, so this also checks that exactly one
		// of the two chained views fires on this engine (none: no rows; both: doubled sums).
		//   app:   samples s1..s5 (5) + s6..s8 (3) = 8;
		//          cpu 0.5+1.5+1.0+2.0+0.25 = 5.25, + 0.25+0.75+0.5 = 1.5 -> 6.75; max 2.0;
		//          mem 1000+3000+2000+4000+1500 = 11500, + 500+1500+2500 = 4500 -> 16000, max 4000;
		//          throttled 0+3+1+2+0 + 0+1+0 = 7; periods 10+10+10+12+10 + 5+5+5 = 67
		//   proxy: samples 1, cpu 0.125, max 0.125, mem 100/100, throttled 0, periods 10
		day1 := [][]any{
			rollup(day(d1), "app", 8, 6.75, 2.0, atMax(2.0), 16000, 4000, 7, 67),
			rollup(day(d1), "proxy", 1, 0.125, 0.125, 0.125, 100, 100, 0, 10),
		}
		res.wantRows(t, day1...)

		// Two days: d2 adds s11 alone (samples 1, cpu 3.0, mem 5000, periods 10).
		res = c.query(t, "select_usage_daily", window("c1", d1, d3))
		res.wantRows(t, append(day1, rollup(day(d2), "app", 1, 3.0, 3.0, 3.0, 5000, 5000, 0, 10))...)
	})

	t.Run("select_container_events", func(t *testing.T) {
		res := c.query(t, "select_container_events", window("c1", h10, h12))
		res.wantColumns(t,
			"cluster", "LowCardinality(String)", "ts", "DateTime('UTC')", "namespace", "LowCardinality(String)",
			"workload_kind", "LowCardinality(String)", "workload", "String", "pod", "String",
			"container", "LowCardinality(String)", "node", "LowCardinality(String)",
			"kind", "LowCardinality(String)", "reason", "LowCardinality(String)", "message", "String",
			"count", "UInt32", "memory_limit_bytes", "UInt64")
		// ev1 (inserted twice: one row; its message survives quotes and a backslash), ev2;
		// ev3 is at 12:05 and ev4 in c2.
		res.wantRows(t, rowOut(ev1), rowOut(ev2))
	})

	t.Run("select_node_prices", func(t *testing.T) {
		res := c.query(t, "select_node_prices", window("c1", h10, h12))
		res.wantColumns(t,
			"cluster", "LowCardinality(String)", "hour", "DateTime('UTC')", "node", "String",
			"instance_type", "LowCardinality(String)", "capacity_type", "LowCardinality(String)",
			"currency", "LowCardinality(String)", "hourly_cost", "Float64", "cpu_core_hour_cost", "Float64",
			"ram_gib_hour_cost", "Float64", "gpu_hour_cost", "Float64", "source", "LowCardinality(String)")
		// By node, hour; n2 at 10:00 has the corrected price (the later insert).
		res.wantRows(t, rowOut(priceN1H10), rowOut(priceN1H11), rowOut(priceN2H10Fixed))
	})

	t.Run("select_cost_allocations", func(t *testing.T) {
		res := c.query(t, "select_cost_allocations", window("c1", h10, h12))
		res.wantColumns(t, costAllocationColumns...)
		// By hour, namespace ("" of the idle row first), kind, workload, pod, container, node,
		// is_idle; a6 is the next day, a7 in c2.
		res.wantRows(t, rowOut(a5), rowOut(a1), rowOut(a8), rowOut(a2), rowOut(a3), rowOut(a4))
	})

	t.Run("count_cost_allocations", func(t *testing.T) {
		// c1's hour 10:00 holds a1 a2 a5 a8; 11:00 a3 a4; a6 is the next day, a7 in c2.
		c.query(t, "count_cost_allocations", window("c1", h10, h11)).wantRows(t, []any{4})
		c.query(t, "count_cost_allocations", window("c1", h10, h12)).wantRows(t, []any{6})
		c.query(t, "count_cost_allocations", window("c1", h12, d2)).wantRows(t, []any{0})
	})

	t.Run("select_cost_daily", func(t *testing.T) {
		res := c.query(t, "select_cost_daily", window("c1", d1, d2))
		res.wantColumns(t, costDailyColumns...)
		// Day d1 of c1, per node, namespace, workload, app, is_idle:
		//   n1 idle (a5):        run 1, cpu 2.5, ram 8000, gpu 0, cpu$ 1.25, ram$ 0.5, gpu$ 0
		//   n1 shop/web (a1 a3 a8): run 1+1+1 = 3, cpu 1.5+2.0+0.25 = 3.75, ram 3000+4000+500 = 7500,
		//                        gpu 0, cpu$ 0.75+1.0+0.125 = 1.875, ram$ 0.25+0.5+0.03125 = 0.78125, gpu$ 0
		//   n2 shop/web (a2 a4): run 1+0.5 = 1.5, cpu 0.5+0.75 = 1.25, ram 1000+2000 = 3000,
		//                        gpu 0.5+0.5 = 1, cpu$ 0.25+0.375 = 0.625, ram$ 0.125+0.0625 = 0.1875,
		//                        gpu$ 0.125+0.125 = 0.25
		// Order: day, namespace ("" first), kind, workload, app, node, is_idle.
		day1 := [][]any{
			costDay(d1, "n1", true, 1, 2.5, 8000, 0, 1.25, 0.5, 0),
			costDay(d1, "n1", false, 3, 3.75, 7500, 0, 1.875, 0.78125, 0),
			costDay(d1, "n2", false, 1.5, 1.25, 3000, 1, 0.625, 0.1875, 0.25),
		}
		res.wantRows(t, day1...)

		// Two days: d2 adds a6 alone.
		res = c.query(t, "select_cost_daily", window("c1", d1, d3))
		res.wantRows(t, append(day1, costDay(d2, "n1", false, 1, 1.0, 1000, 0, 0.5, 0.25, 0))...)
	})

	t.Run("select_cost_rows", func(t *testing.T) {
		costRows := func(from, to, daysFrom, daysTo time.Time) map[string]any {
			p := window("c1", from, to)
			p["days_from"], p["days_to"] = daysFrom.Unix(), daysTo.Unix()
			return p
		}
		// [10:00, 12:00) of d1 holds no whole day (days_from = days_to): all from the hourly
		// rows, summed per node, namespace, workload, app, is_idle and labels:
		//   n1 idle (a5):            as inserted
		//   n1 shop/web (a1 a8 a3):  run 1+1+1 = 3, cpu 1.5+0.25+2.0 = 3.75, req 0.5+0.125+0.5 = 1.125,
		//                            used 1.0+0.125+2.0 = 3.125, ram 3000+500+4000 = 7500,
		//                            req 2000+128+2000 = 4128, used 1500+100+4000 = 5600, gpu 0,
		//                            cpu$ 0.75+0.125+1.0 = 1.875, ram$ 0.25+0.03125+0.5 = 0.78125, gpu$ 0
		//   n2 shop/web (a2 a4):     run 1+0.5 = 1.5, cpu 0.5+0.75 = 1.25, req 0.5+0.25 = 0.75,
		//                            used 0.25+0.625 = 0.875, ram 1000+2000 = 3000, req 1000+1000 = 2000,
		//                            used 500+2000 = 2500, gpu 0.5+0.5 = 1, cpu$ 0.25+0.375 = 0.625,
		//                            ram$ 0.125+0.0625 = 0.1875, gpu$ 0.125+0.125 = 0.25
		// Order: namespace ("" first), kind, workload, app, node, is_idle.
		res := c.query(t, "select_cost_rows", costRows(h10, h12, h10, h10))
		res.wantColumns(t, costRowColumns...)
		res.wantRows(t,
			[]any{"n1", "", "", "", "", 1, none, none, 1.0, 2.5, 0.0, 0.0, 8000.0, 0.0, 0.0, 0.0, 1.25, 0.5, 0.0},
			costRow("n1", 3, 3.75, 1.125, 3.125, 7500, 4128, 5600, 0, 1.875, 0.78125, 0),
			costRow("n2", 1.5, 1.25, 0.75, 0.875, 3000, 2000, 2500, 1, 0.625, 0.1875, 0.25))

		// [11:00 of d1, d3): the whole day d2 from the rollup (a6), the hours 11:00-24:00 of d1
		// from the hourly rows (a3 a4; a1 a2 a5 a8 are at 10:00, before the window):
		//   n1 shop/web (a3 + a6): run 1+1 = 2, cpu 2.0+1.0 = 3, req 0.5+0.5 = 1, used 2.0+1.0 = 3,
		//                          ram 4000+1000 = 5000, req 2000+1000 = 3000, used 4000+1000 = 5000,
		//                          gpu 0, cpu$ 1.0+0.5 = 1.5, ram$ 0.5+0.25 = 0.75, gpu$ 0
		//   n2 shop/web (a4):      as inserted
		res = c.query(t, "select_cost_rows", costRows(h11, d3, d2, d3))
		res.wantRows(t,
			costRow("n1", 2, 3, 1, 3, 5000, 3000, 5000, 0, 1.5, 0.75, 0),
			costRow("n2", 0.5, 0.75, 0.25, 0.625, 2000, 1000, 2000, 0.5, 0.375, 0.0625, 0.125))
	})

	t.Run("select_container_hours", func(t *testing.T) {
		res := c.query(t, "select_container_hours", window("c1", h10, h11))
		res.wantColumns(t, "namespace", "String", "pod", "String", "container", "String",
			"workload_kind", "String", "workload", "String", "node", "String",
			"label_keys", "Array(String)", "label_values", "Array(String)", "running_minutes", "UInt64",
			"cpu_request", "Float64", "memory_request", "UInt64", "gpu_requested", "Float64",
			"cpu_charged_core_minutes", "Float64", "ram_charged_byte_minutes", "Float64",
			"cpu_usage_core_minutes", "Float64", "ram_usage_byte_minutes", "Float64")
		// Hour 10:00 of c1, requests from each container's latest snapshot before 11:00:
		//   web-a/app   s1 s2 s3, request 0.5 cores and 1 GiB: CPU charged max(.5,.5)+max(.5,1.5)+max(.5,1) = 3.0,
		//               used 3.0; memory charged 3 × 1073741824 = 3221225472 (usage is bytes), used 1000+3000+2000 = 6000
		//   web-a/proxy s9, request 0.125 and 128 MiB: charged 0.125 and 134217728, used 0.125 and 100
		//   web-b/app   s6 on n2, request 0.5 and 1 GiB: charged max(0.5, 0.25) = 0.5 and 1073741824, used 0.25 and 500
		res.wantRows(t,
			[]any{"shop", "web-a", "app", "Deployment", "web", "n1", appLabelKeys, appLabelValues, 3, 0.5, 1073741824, 0, 3.0, 3221225472, 3.0, 6000},
			[]any{"shop", "web-a", "proxy", "Deployment", "web", "n1", appLabelKeys, appLabelValues, 1, 0.125, 134217728, 0, 0.125, 134217728, 0.125, 100},
			[]any{"shop", "web-b", "app", "Deployment", "web", "n2", appLabelKeys, appLabelValues, 1, 0.5, 1073741824, 0, 0.5, 1073741824, 0.25, 500})
	})

	c.sizingReads(t)
	c.namespaceReads(t)

	t.Run("select_autoscalers", func(t *testing.T) {
		res := c.query(t, "select_autoscalers", window("c1", h10, h12))
		res.wantColumns(t, "cluster", "LowCardinality(String)", "namespace", "LowCardinality(String)", "name", "String",
			"target_kind", "LowCardinality(String)", "target_name", "String",
			"min_replicas", "Int32", "max_replicas", "Int32", "resources", "Array(String)")
		// c1 in [10:00, 12:00): api, and web as its 11:00 snapshot has it (12:00 is out, c2 too).
		res.wantRows(t,
			[]any{"c1", "shop", "api", "Deployment", "api", 1, 3, none},
			[]any{"c1", "shop", "web", "Deployment", "web", 3, 12, []string{"cpu", "memory"}})
	})

	t.Run("select_watermarks", func(t *testing.T) {
		res := c.query(t, "select_watermarks", map[string]any{"cluster": "c1"})
		res.wantColumns(t, "job", "LowCardinality(String)", "watermark", "DateTime('UTC')")
		// usage: versions 1 (10:00), 3 (09:00, moved back) and 2 (12:00, inserted last) ->
		// the highest version wins: 09:00. inventory: its only row. c2's row is not c1's.
		res.wantRows(t,
			[]any{"inventory", dt(h11)},
			[]any{"usage", dt(h09)})
	})
}

// resentBatches re-sends a batch of usage samples and one of cost rows, as the store does
// when a send fails after the server has stored it. The source tables' FINAL reads return
// each row once. The rollups are fed by the materialized views at every insert, so they
// count the re-sent rows again: this test records that behaviour (update it if inserts
// become deduplicated).
func (c *conformance) resentBatches(t *testing.T) {
	c.insert(t, "insert_usage_samples", s2)
	c.insert(t, "insert_cost_allocations", a1)

	res := c.query(t, "select_usage_samples", window("c1", h10, h12))
	res.wantRows(t, rowOut(s1), rowOut(s2), rowOut(s3), rowOut(s4), rowOut(s9), rowOut(s6), rowOut(s7), rowOut(s8))
	res = c.query(t, "select_cost_allocations", window("c1", h10, h12))
	res.wantRows(t, rowOut(a5), rowOut(a1), rowOut(a8), rowOut(a2), rowOut(a3), rowOut(a4))

	// 10:00 app now counts s2 twice: samples 4+1 = 5, cpu 3.25+1.5 = 4.75, mem 6500+3000 = 9500,
	// throttled 4+3 = 7, periods 35+10 = 45; max unchanged.
	res = c.query(t, "select_usage_hourly", window("c1", h10, h11))
	res.wantRows(t,
		rollup(dt(h10), "app", 5, 4.75, 1.5, atMax(1.5), 9500, 3000, 7, 45),
		rollup(dt(h10), "proxy", 1, 0.125, 0.125, 0.125, 100, 100, 0, 10))
	// n1 shop/web on d1 now counts a1 twice: run 3+1 = 4, cpu 3.75+1.5 = 5.25,
	// ram 7500+3000 = 10500, cpu$ 1.875+0.75 = 2.625, ram$ 0.78125+0.25 = 1.03125.
	res = c.query(t, "select_cost_daily", window("c1", d1, d2))
	res.wantRows(t,
		costDay(d1, "n1", true, 1, 2.5, 8000, 0, 1.25, 0.5, 0),
		costDay(d1, "n1", false, 4, 5.25, 10500, 0, 2.625, 1.03125, 0),
		costDay(d1, "n2", false, 1.5, 1.25, 3000, 1, 0.625, 0.1875, 0.25))
}

// retention counts samples, lists the daily partitions of usage_samples and drops one, as
// the collector's presence check and retention job do.
func (c *conformance) retention(t *testing.T) {
	// c1 in [10:00, 12:00) of d1: s1 s2 s3 s4 (web-a/app), s6 s7 s8 (web-b/app), s9 (proxy) = 8;
	// the re-sent s2 of resent_batches is a ninth row until a merge replaces it: count() is
	// not FINAL, and the collector only asks whether an interval holds anything.
	res := c.query(t, "count_usage_samples", window("c1", h10, h12))
	if len(res.rows) != 1 || (fmt.Sprint(res.rows[0][0]) != "8" && fmt.Sprint(res.rows[0][0]) != "9") {
		t.Errorf("count_usage_samples = %v, want 8 (9 before the re-sent row is merged away)", res.rows)
	}
	res = c.query(t, "count_usage_samples", window("c1", d2, d3))
	res.wantRows(t, []any{1}) // s11

	// The minutes written: 10:00 (s1 s6 s9), 10:01, 10:02, 11:00 (s4 s7), 11:01 (s8).
	res = c.query(t, "select_usage_written", window("c1", h10, h12))
	res.wantRows(t, []any{dt(h10)}, []any{dt(minute(h10, 1))}, []any{dt(minute(h10, 2))}, []any{dt(h11)}, []any{dt(minute(h11, 1))})
	res = c.query(t, "select_usage_written", window("c1", d2, d3))
	res.wantRows(t, []any{dt(d2)}) // s11

	// Samples sit on d1 (s1..s10) and d2 (s11): one partition per UTC day.
	d1id, d2id := d1.Format("20060102"), d2.Format("20060102")
	res = c.query(t, "select_partitions", map[string]any{"table": "usage_samples"})
	res.wantRows(t, []any{d1id}, []any{d2id})

	q, err := tallysql.Query("drop_partition")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q, "{table}") {
		t.Fatalf("drop_partition.sql has no {table} placeholder: %s", q)
	}
	c.queryTable(t, "drop_partition", "usage_samples", map[string]any{"partition": d2id})
	res = c.query(t, "count_usage_samples", window("c1", d2, d3))
	res.wantRows(t, []any{0})
	res = c.query(t, "select_partitions", map[string]any{"table": "usage_samples"})
	res.wantRows(t, []any{d1id})
	// The daily rollup keeps d2: retention drops raw rows only.
	res = c.query(t, "select_usage_daily", window("c1", d2, d3))
	res.wantRows(t, rollup(day(d2), "app", 1, 3.0, 3.0, 3.0, 5000, 5000, 0, 10))
}

// coverage fails for every file of queries/ this test did not execute.
func (c *conformance) coverage(t *testing.T) {
	var missing []string
	for _, name := range tallysql.QueryNames() {
		if c.executed[name] == 0 {
			missing = append(missing, name+".sql")
		}
	}
	if len(missing) > 0 {
		t.Errorf("query files not executed by the chDB conformance test (add data and expected results for them): %s",
			strings.Join(missing, ", "))
	}
	var names []string
	for name, n := range c.executed {
		names = append(names, fmt.Sprintf("%s×%d", name, n))
	}
	sort.Strings(names)
	t.Logf("executed: %s", strings.Join(names, " "))
}

// ---------------------------------------------------------------------------------------------
// Expected rows and columns.

// usageRollupColumns are the columns of select_usage_hourly and select_usage_daily, whose
// second column is the hour or the day.
func usageRollupColumns(start, startType string) []string {
	return []string{
		"cluster", "String", start, startType, "namespace", "String",
		"workload_kind", "String", "workload", "String", "container", "String",
		"samples", "UInt64", "cpu_usage_sum", "Float64", "cpu_usage_max", "Float64",
		// internal/store scans cpu_usage_p95 into a float64; clickhouse-go refuses Float32 there.
		"cpu_usage_p95", "Float64",
		"memory_working_set_sum", "UInt64", "memory_working_set_max", "UInt64",
		"cpu_throttled_periods", "Float64", "cpu_periods", "Float64",
	}
}

// rollup is a row of select_usage_hourly or select_usage_daily for shop/Deployment/web.
func rollup(start, container string, samples int, cpuSum, cpuMax float64, p95 any, memSum, memMax int, throttled, periods float64) []any {
	return []any{"c1", start, "shop", "Deployment", "web", container, samples, cpuSum, cpuMax, p95, memSum, memMax, throttled, periods}
}

var costAllocationColumns = []string{
	"cluster", "LowCardinality(String)", "hour", "DateTime('UTC')", "node", "LowCardinality(String)",
	"namespace", "LowCardinality(String)", "workload_kind", "LowCardinality(String)", "workload", "String",
	"app", "LowCardinality(String)", "pod", "String", "container", "LowCardinality(String)", "is_idle", "UInt8",
	"label_keys", "Array(String)", "label_values", "Array(String)",
	"run_hours", "Float64", "cpu_core_hours", "Float64", "cpu_request_core_hours", "Float64",
	"cpu_usage_core_hours", "Float64", "ram_byte_hours", "Float64", "ram_request_byte_hours", "Float64",
	"ram_usage_byte_hours", "Float64", "gpu_hours", "Float64",
	"cpu_cost", "Float64", "ram_cost", "Float64", "gpu_cost", "Float64",
}

var costDailyColumns = []string{
	"cluster", "LowCardinality(String)", "day", "Date", "node", "LowCardinality(String)",
	"namespace", "LowCardinality(String)", "workload_kind", "LowCardinality(String)", "workload", "String",
	"app", "LowCardinality(String)", "is_idle", "UInt8",
	"run_hours", "Float64", "cpu_core_hours", "Float64", "ram_byte_hours", "Float64", "gpu_hours", "Float64",
	"cpu_cost", "Float64", "ram_cost", "Float64", "gpu_cost", "Float64",
}

func costDay(d time.Time, node string, idle bool, run, cpu, ram, gpu, cpuCost, ramCost, gpuCost float64) []any {
	if idle {
		return []any{"c1", day(d), node, "", "", "", "", 1, run, cpu, ram, gpu, cpuCost, ramCost, gpuCost}
	}
	return []any{"c1", day(d), node, "shop", "Deployment", "web", "web", 0, run, cpu, ram, gpu, cpuCost, ramCost, gpuCost}
}

// rowOut is an inserted row as a select of all its columns returns it.
func rowOut(in []any) []any {
	out := make([]any, len(in))
	for i, v := range in {
		if t, ok := v.(time.Time); ok {
			out[i] = dt(t)
		} else {
			out[i] = v
		}
	}
	return out
}

// between matches a number in [lo, hi] (an estimate).
type betweenMatcher struct{ lo, hi float64 }

func between(lo, hi float64) betweenMatcher { return betweenMatcher{lo, hi} }

// atMax matches a CPU percentile of the rollups whose nearest-rank order statistic is the
// samples' maximum x: the value of x's bucket, at most 0.499% below x, clamped to x
// (migrations/0011_cpu_buckets.sql).
func atMax(x float64) betweenMatcher { return betweenMatcher{x * (1 - 0.00499), x} }

var costRowColumns = []string{
	"node", "LowCardinality(String)", "namespace", "LowCardinality(String)",
	"workload_kind", "LowCardinality(String)", "workload", "String", "app", "LowCardinality(String)",
	"is_idle", "UInt8", "label_keys", "Array(String)", "label_values", "Array(String)",
	"run_hours", "Float64", "cpu_core_hours", "Float64", "cpu_request_core_hours", "Float64",
	"cpu_usage_core_hours", "Float64", "ram_byte_hours", "Float64", "ram_request_byte_hours", "Float64",
	"ram_usage_byte_hours", "Float64", "gpu_hours", "Float64",
	"cpu_cost", "Float64", "ram_cost", "Float64", "gpu_cost", "Float64",
}

// costRow is a row of select_cost_rows for shop/Deployment/web with the app's labels.
func costRow(node string, run, cpu, cpuReq, cpuUse, ram, ramReq, ramUse, gpu, cpuCost, ramCost, gpuCost float64) []any {
	return []any{node, "shop", "Deployment", "web", "web", 0, appLabelKeys, appLabelValues,
		run, cpu, cpuReq, cpuUse, ram, ramReq, ramUse, gpu, cpuCost, ramCost, gpuCost}
}
