package dashboards

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/tally-finops/tally/internal/store/storetest"
)

// TestDashboardsClickHouse18 executes every dashboard query on the local stack's ClickHouse
// 18.16 against the demo dataset, loaded with the store's own inserts (so the rollups fill as
// in production), except the queries that need a newer server ($__timeInterval), which it
// logs. Without the stack it skips, unless TALLY_REQUIRE_STACK=1.
func TestDashboardsClickHouse18(t *testing.T) {
	st, dsn := storetest.Open(t, "tally_dashboards", slog.New(slog.DiscardHandler))
	d := newDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	type step struct {
		what string
		do   func() error
	}
	load := []step{
		{"nodes", func() error { return st.InsertNodes(ctx, d.nodes) }},
		{"containers", func() error { return st.InsertContainers(ctx, d.containers) }},
		{"usage samples", func() error { return st.InsertUsageSamples(ctx, d.samples) }},
		{"container events", func() error { return st.InsertContainerEvents(ctx, d.events) }},
		{"node prices", func() error { return st.InsertNodePrices(ctx, d.prices) }},
		{"cost allocations", func() error { return st.InsertAllocations(ctx, d.allocations) }},
		{"namespaces", func() error { return st.InsertNamespaces(ctx, d.namespaceSnapshots) }},
	}
	for _, a := range d.autoscalers {
		load = append(load, step{"autoscalers", func() error { return st.InsertAutoscalers(ctx, a.at, a.set) }})
	}
	for _, r := range d.recommendations {
		load = append(load, step{"recommendations", func() error { return st.InsertRecommendations(ctx, demoCluster, r.day, r.from, r.to, r.recs) }})
	}
	start := time.Now()
	for _, l := range load {
		if err := l.do(); err != nil {
			t.Fatalf("insert %s: %v", l.what, err)
		}
	}
	t.Logf("demo dataset loaded in %v (%d usage samples, %d cost rows)", time.Since(start).Round(time.Millisecond), len(d.samples), len(d.allocations))

	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	opts.ReadTimeout = 2 * time.Minute
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	version, err := st.ServerVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine{name: "ClickHouse " + version, legacy: true, run: func(sql string) (*result, error) {
		return query18(ctx, conn, sql)
	}}
	runDashboards(t, eng, d)
}

// query18 runs a query through clickhouse-go and renders every cell as text.
func query18(ctx context.Context, conn clickhouse.Conn, sql string) (*result, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	r := &result{}
	cols := rows.ColumnTypes()
	for _, c := range cols {
		r.names = append(r.names, c.Name())
		r.types = append(r.types, c.DatabaseTypeName())
	}
	for rows.Next() {
		cells := make([]any, len(cols))
		for i, c := range cols {
			cells[i] = reflect.New(c.ScanType()).Interface()
		}
		if err := rows.Scan(cells...); err != nil {
			return nil, err
		}
		row := make([]string, len(cells))
		for i, c := range cells {
			row[i] = text(reflect.ValueOf(c).Elem())
		}
		r.rows = append(r.rows, row)
	}
	return r, rows.Err()
}

// text renders a scanned value as ClickHouse's TSV output would: NULL as \N.
func text(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return `\N`
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case time.Time:
		return x.UTC().Format(time.DateTime)
	}
	return fmt.Sprint(v.Interface())
}
