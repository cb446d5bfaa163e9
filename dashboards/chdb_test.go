//go:build chdb

// The dashboards on a modern ClickHouse engine (chDB, ClickHouse 26.x in-process): every
// panel query, $__timeInterval included, executed against the demo dataset.
//
//	CHDB_LIB_PATH=$(hack/chdb/fetch.sh) go test -tags chdb -run TestChDB -count=1 -v ./dashboards/
//
// chdb-go loads libchdb.so when its package initialises and panics when CHDB_LIB_PATH does
// not name it, hence the build tag. chDB allows one session per process: TestMain opens it.

package dashboards

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chdb-io/chdb-go/chdb"

	"github.com/tally-finops/tally/internal/model"
	tallysql "github.com/tally-finops/tally/sql"
)

var session *chdb.Session

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tally-chdb-dashboards-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chdb dashboards:", err)
		os.Exit(1)
	}
	session, err = chdb.NewSession(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, "chdb dashboards: open session:", err)
		os.Exit(1)
	}
	code := m.Run()
	session.Cleanup() // closes the session and removes dir
	os.Exit(code)
}

func chExec(t *testing.T, stmt string) {
	t.Helper()
	if _, err := session.Query(stmt); err != nil {
		t.Fatalf("%.200s: %v", stmt, err)
	}
}

// chQuery runs a query and reads its TSV answer with column names and types.
func chQuery(sql string) (*result, error) {
	out, err := session.Query(sql, "TSVWithNamesAndTypes")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("answer without column names and types: %q", out.String())
	}
	r := &result{names: strings.Split(lines[0], "\t"), types: strings.Split(lines[1], "\t")}
	for _, line := range lines[2:] {
		r.rows = append(r.rows, strings.Split(line, "\t"))
	}
	return r, nil
}

// TestChDBDashboards applies the migrations on chDB, loads the demo dataset with the store's
// insert statements (the materialized views fill the rollups), and executes every dashboard
// query under two session time zones: the answers must be the same, since the dashboards
// read UTC days and times whatever the server's zone.
func TestChDBDashboards(t *testing.T) {
	start := time.Now()
	chExec(t, "SET session_timezone = 'UTC'")
	chExec(t, "DROP DATABASE IF EXISTS tally_dashboards") // -count=2 reuses the session
	chExec(t, "CREATE DATABASE tally_dashboards")
	chExec(t, "USE tally_dashboards")
	migrations, err := tallysql.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations {
		for _, stmt := range m.Statements {
			chExec(t, stmt)
		}
	}
	d := newDemo(t)
	loadChDB(t, d)
	t.Logf("demo dataset loaded in %v (%d usage samples, %d cost rows)", time.Since(start).Round(time.Millisecond), len(d.samples), len(d.allocations))

	eng := engine{name: "chDB", run: chQuery}
	if v, err := chQuery("SELECT version() AS v"); err == nil && len(v.rows) == 1 {
		eng.name = "chDB " + v.rows[0][0]
	}
	utc := runDashboards(t, eng, d)
	chExec(t, "SET session_timezone = 'America/New_York'")
	defer chExec(t, "SET session_timezone = 'UTC'")
	newYork := runDashboards(t, eng, d)
	for name, r := range utc {
		if diff := r.diff(newYork[name]); diff != "" {
			t.Errorf("%s: the answer depends on the session time zone: UTC vs America/New_York: %s", name, diff)
		}
	}
	t.Logf("%d queries executed twice in %v", len(utc), time.Since(start).Round(time.Millisecond))
}

// canonical returns r's rows with numbers rounded to 9 significant digits, sorted: answers
// that differ only in row order within ORDER BY ties or in the last bits of float sums are
// the same.
func (r *result) canonical() []string {
	out := make([]string, len(r.rows))
	for i, row := range r.rows {
		cells := make([]string, len(row))
		for j, c := range row {
			cells[j] = c
			if f, err := strconv.ParseFloat(c, 64); err == nil {
				cells[j] = strconv.FormatFloat(f, 'g', 9, 64)
			}
		}
		out[i] = strings.Join(cells, "\t")
	}
	sort.Strings(out)
	return out
}

// diff describes how o's answer differs from r's, or returns "".
func (r *result) diff(o *result) string {
	switch {
	case o == nil:
		return "no second answer"
	case fmt.Sprint(r.names) != fmt.Sprint(o.names):
		return fmt.Sprintf("columns %v vs %v", r.names, o.names)
	case len(r.rows) != len(o.rows):
		return fmt.Sprintf("%d rows vs %d", len(r.rows), len(o.rows))
	}
	a, b := r.canonical(), o.canonical()
	for i := range a {
		if a[i] != b[i] {
			return fmt.Sprintf("row %q vs %q", a[i], b[i])
		}
	}
	return ""
}

// loadChDB inserts the demo dataset with the store's statements of sql/queries, as VALUES,
// each row in the statement's column order (as internal/store writes them).
func loadChDB(t *testing.T, d *demo) {
	insert(t, "insert_nodes", len(d.nodes), func(i int) []any {
		x := &d.nodes[i]
		keys, values := model.SortedLabels(x.Labels)
		return []any{x.Cluster, x.ObservedAt, x.Name, x.InstanceType, x.Region, x.Zone, x.CapacityType,
			x.CPUCapacityCores, x.CPUAllocatableCores, x.MemoryCapacityBytes, x.MemoryAllocatableBytes,
			x.GPUCapacity, x.GPUAllocatable, keys, values}
	})
	insert(t, "insert_containers", len(d.containers), func(i int) []any {
		x := &d.containers[i]
		keys, values := model.SortedLabels(x.Labels)
		return []any{x.Cluster, x.ObservedAt, x.Namespace, x.Pod, x.PodUID, x.Container, boolInt(x.Init),
			x.Node, x.Phase, x.QoSClass, x.Workload.Kind, x.Workload.Name,
			x.CPURequestCores, x.CPULimitCores, x.MemoryRequestBytes, x.MemoryLimitBytes, x.GPURequest,
			epochIfZero(x.StartedAt), epochIfZero(x.FinishedAt), x.RestartCount, x.LastTerminationReason, keys, values}
	})
	insert(t, "insert_usage_samples", len(d.samples), func(i int) []any {
		x := &d.samples[i]
		return []any{x.Cluster, x.Timestamp, x.Namespace, x.Workload.Kind, x.Workload.Name, x.Pod, x.Container,
			x.CPUUsageCores, x.MemoryWorkingSetBytes, x.CPUThrottledPeriods, x.CPUPeriods}
	})
	insert(t, "insert_container_events", len(d.events), func(i int) []any {
		x := &d.events[i]
		return []any{x.Cluster, x.Timestamp, x.Namespace, x.Workload.Kind, x.Workload.Name, x.Pod, x.Container,
			x.Node, x.Kind, x.Reason, x.Message, x.Count, x.MemoryLimitBytes}
	})
	insert(t, "insert_node_prices", len(d.prices), func(i int) []any {
		x := &d.prices[i]
		return []any{x.Cluster, x.Hour, x.Node, x.InstanceType, x.CapacityType, x.Currency,
			x.HourlyCost, x.CPUCoreHourCost, x.RAMGiBHourCost, x.GPUHourCost, x.Source}
	})
	insert(t, "insert_cost_allocations", len(d.allocations), func(i int) []any {
		x := &d.allocations[i]
		keys, values := model.SortedLabels(x.Labels)
		return []any{x.Cluster, x.Hour, x.Node, x.Namespace, x.Workload.Kind, x.Workload.Name, x.App, x.Pod,
			x.Container, boolInt(x.Idle), keys, values, x.RunHours,
			x.CPUCoreHours, x.CPURequestCoreHours, x.CPUUsageCoreHours,
			x.RAMByteHours, x.RAMRequestByteHours, x.RAMUsageByteHours,
			x.GPUHours, x.CPUCost, x.RAMCost, x.GPUCost}
	})
	insert(t, "insert_namespaces", len(d.namespaceSnapshots), func(i int) []any {
		x := &d.namespaceSnapshots[i]
		keys, values := model.SortedLabels(x.Labels)
		return []any{x.Cluster, x.ObservedAt, x.Name, keys, values}
	})
	for _, a := range d.autoscalers {
		insert(t, "insert_autoscalers", len(a.set), func(i int) []any {
			x := &a.set[i]
			return []any{x.Cluster, a.at, x.Namespace, x.Name, x.Target.Kind, x.Target.Name, x.MinReplicas, x.MaxReplicas, x.Resources}
		})
	}
	for _, day := range d.recommendations {
		insert(t, "insert_recommendations", len(day.recs), func(i int) []any {
			r := &day.recs[i]
			return []any{demoCluster, date(day.day), day.from, day.to, r.Namespace, r.Workload.Kind, r.Workload.Name, r.Container,
				r.Current.CPURequest, r.Current.CPULimit, r.Current.MemoryRequest, r.Current.MemoryLimit,
				r.Recommended.CPURequest, r.Recommended.CPULimit, r.Recommended.MemoryRequest, r.Recommended.MemoryLimit,
				r.MonthlySavings, r.Currency, r.Risk, r.Flags, r.Evidence, r.RiskNote}
		})
	}
}

var insertColumnsRE = regexp.MustCompile(`(?s)^INSERT INTO\s+\w+\s*\(([^)]*)\)$`)

// insertBatch is how many rows one INSERT carries.
const insertBatch = 50000

// insert runs the named insert statement with n rows as VALUES, in batches.
func insert(t *testing.T, name string, n int, row func(i int) []any) {
	t.Helper()
	stmt, err := tallysql.Query(name)
	if err != nil {
		t.Fatal(err)
	}
	m := insertColumnsRE.FindStringSubmatch(stmt)
	if m == nil {
		t.Fatalf("%s.sql: want `INSERT INTO table (columns...)`, got:\n%s", name, stmt)
	}
	ncols := len(strings.Split(m[1], ","))
	for lo := 0; lo < n; lo += insertBatch {
		var b strings.Builder
		b.WriteString(stmt)
		b.WriteString(" VALUES")
		for i := lo; i < min(lo+insertBatch, n); i++ {
			values := row(i)
			if len(values) != ncols {
				t.Fatalf("%s.sql has %d columns; row %d has %d values", name, ncols, i, len(values))
			}
			if i > lo {
				b.WriteByte(',')
			}
			b.WriteString(" (")
			for j, v := range values {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(literal(t, v))
			}
			b.WriteByte(')')
		}
		if _, err := session.Query(b.String()); err != nil {
			t.Fatalf("%s.sql: %v", name, err)
		}
	}
}

// date marks a time written to a Date column.
type date time.Time

func boolInt(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func epochIfZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t
}

// literal renders a Go value as a ClickHouse literal.
func literal(t *testing.T, v any) string {
	switch x := v.(type) {
	case string:
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(x) + "'"
	case uint8:
		return strconv.FormatUint(uint64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case *float64:
		if x == nil {
			return "NULL"
		}
		return literal(t, *x)
	case time.Time:
		return "'" + x.UTC().Format(time.DateTime) + "'" // parsed in the column's time zone, UTC
	case date:
		return "'" + time.Time(x).UTC().Format(time.DateOnly) + "'"
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = literal(t, s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	t.Fatalf("literal: unsupported %T", v)
	return ""
}
