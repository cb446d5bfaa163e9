package faults

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// relTol is how far two costs (and any other float) may differ: sums computed in another
// order differ in their last bits.
const relTol = 1e-9

func near(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= relTol*math.Max(math.Abs(a), math.Abs(b)) || math.Abs(a-b) < 1e-12
}

// snapshot is what a database holds, table by table: for each group of rows with the same
// non-float columns, the number of rows and the sums of the float columns. Source tables are
// read with FINAL (as tally reads them); rollups are merged per key. So two snapshots are
// equal when the tables hold the same rows (floats to relTol), however they were inserted.
type snapshot map[string]map[string]group

type group struct {
	rows   int
	floats []float64
}

// wallClock are columns that hold the time a row was written, which no two runs share.
var wallClock = map[string]bool{"watermarks.updated_at": true, "watermarks.version": true}

// takeSnapshot reads every table of db except skip.
func takeSnapshot(ctx context.Context, conn driver.Conn, db string, skip ...string) (snapshot, error) {
	type column struct{ name, typ string }
	tables := map[string][]column{}
	engines := map[string]string{}
	rows, err := conn.Query(ctx, "SELECT name, engine FROM system.tables WHERE database = @db AND engine LIKE '%MergeTree'", clickhouse.Named("db", db))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var table, engine string
		if err := rows.Scan(&table, &engine); err != nil {
			return nil, err
		}
		engines[table] = engine
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	rows, err = conn.Query(ctx, "SELECT table, name, type FROM system.columns WHERE database = @db", clickhouse.Named("db", db))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var table, col, typ string
		if err := rows.Scan(&table, &col, &typ); err != nil {
			return nil, err
		}
		if _, ok := engines[table]; !ok || table == "schema_migrations" || slices.Contains(skip, table) || wallClock[table+"."+col] {
			continue
		}
		tables[table] = append(tables[table], column{col, typ})
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	snap := snapshot{}
	for table, cols := range tables {
		var keys, floats []string
		aggregating := strings.HasPrefix(engines[table], "Aggregating")
		for _, c := range cols {
			switch {
			case strings.HasPrefix(c.typ, "AggregateFunction("):
				fn := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(c.typ, "AggregateFunction("), ",", 2)[0])
				fn = strings.TrimSuffix(fn, ")")
				if fn == "quantileExactWeighted" {
					fn += "Merge(0.95)"
				} else {
					fn += "Merge"
				}
				floats = append(floats, fmt.Sprintf("toFloat64(%s(%s))", fn, c.name))
			case strings.HasPrefix(c.typ, "Float"):
				floats = append(floats, fmt.Sprintf("toFloat64(%s)", c.name))
			case strings.HasPrefix(c.typ, "Nullable(Float"):
				keys = append(keys, fmt.Sprintf("toString(isNull(%s))", c.name))
				floats = append(floats, fmt.Sprintf("toFloat64(ifNull(%s, 0))", c.name))
			case strings.HasPrefix(c.typ, "Array("):
				keys = append(keys, fmt.Sprintf("arrayStringConcat(arrayMap(x -> toString(x), %s), '\\x1f')", c.name))
			default:
				keys = append(keys, fmt.Sprintf("ifNull(toString(%s), '\\N')", c.name))
			}
		}
		key := "concat(" + strings.Join(append(keys, "''", "''"), ", '\\x1e', ") + ")"
		var q string
		if aggregating {
			q = fmt.Sprintf("SELECT %s AS k, toUInt64(1), [%s] FROM %s.%s GROUP BY k", key, strings.Join(floats, ", "), db, table)
		} else {
			sums := make([]string, len(floats))
			for i, f := range floats {
				sums[i] = "sum(" + f + ")"
			}
			final := "" // FINAL for the engines that replace rows, as tally reads them
			if strings.Contains(engines[table], "Replacing") {
				final = " FINAL"
			}
			q = fmt.Sprintf("SELECT %s AS k, count(), [%s] FROM %s.%s%s GROUP BY k", key, strings.Join(sums, ", "), db, table, final)
		}
		if len(floats) == 0 {
			q = strings.Replace(q, "[]", "CAST([] AS Array(Float64))", 1)
		}
		groups := map[string]group{}
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", table, err, q)
		}
		for rows.Next() {
			var (
				k string
				n uint64
				f []float64
			)
			if err := rows.Scan(&k, &n, &f); err != nil {
				return nil, fmt.Errorf("%s: %w", table, err)
			}
			groups[k] = group{rows: int(n), floats: f}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		snap[table] = groups
	}
	return snap, nil
}

// diff lists how got differs from want, at most a few lines per table, and counts the
// differing groups.
func (want snapshot) diff(got snapshot) (n int, lines []string) {
	tables := make([]string, 0, len(want))
	for t := range want {
		tables = append(tables, t)
	}
	for t := range got {
		if _, ok := want[t]; !ok {
			tables = append(tables, t)
		}
	}
	sort.Strings(tables)
	for _, t := range tables {
		w, g := want[t], got[t]
		shown := 0
		report := func(format string, args ...any) {
			n++
			if shown < 3 {
				lines = append(lines, t+": "+fmt.Sprintf(format, args...))
			}
			shown++
		}
		for k, wg := range w {
			gg, ok := g[k]
			switch {
			case !ok:
				report("missing %s", printable(k))
			case gg.rows != wg.rows:
				report("%s: %d rows, want %d", printable(k), gg.rows, wg.rows)
			default:
				for i := range wg.floats {
					if !near(gg.floats[i], wg.floats[i]) {
						report("%s: value %d is %v, want %v", printable(k), i, gg.floats[i], wg.floats[i])
						break
					}
				}
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				report("extra %s", printable(k))
			}
		}
		if shown > 3 {
			lines = append(lines, fmt.Sprintf("%s: … %d differences in all", t, shown))
		}
	}
	return n, lines
}

func printable(k string) string {
	return strings.NewReplacer("\x1e", " | ", "\x1f", ",").Replace(k)
}

// checkConsistent checks one database on its own: no minute of usage and no hour of cost
// written twice (the rollups count every row inserted, so a row inserted twice would show
// there), and the rollups equal their raw rows.
func checkConsistent(ctx context.Context, conn driver.Conn, db string) []string {
	var problems []string
	checks := []struct{ what, q string }{
		{"usage samples inserted twice", "SELECT toFloat64((SELECT count() FROM %[1]s.usage_samples) - (SELECT count() FROM %[1]s.usage_samples FINAL))"},
		{"cost rows inserted twice", "SELECT toFloat64((SELECT count() FROM %[1]s.cost_allocations) - (SELECT count() FROM %[1]s.cost_allocations FINAL))"},
		{"volume cost rows inserted twice", "SELECT toFloat64((SELECT count() FROM %[1]s.volume_allocations) - (SELECT count() FROM %[1]s.volume_allocations FINAL))"},
		{"volume_daily cost − raw volume cost", "SELECT (SELECT sum(pv_cost) FROM %[1]s.volume_daily) - (SELECT sum(pv_cost) FROM %[1]s.volume_allocations FINAL)"},
		{"usage_hourly samples − raw samples", "SELECT toFloat64((SELECT countMerge(samples) FROM %[1]s.usage_hourly) - (SELECT count() FROM %[1]s.usage_samples FINAL))"},
		{"usage_daily samples − raw samples", "SELECT toFloat64((SELECT countMerge(samples) FROM %[1]s.usage_daily) - (SELECT count() FROM %[1]s.usage_samples FINAL))"},
		{"usage_pods_daily samples − raw samples", "SELECT toFloat64((SELECT countMerge(samples) FROM %[1]s.usage_pods_daily) - (SELECT count() FROM %[1]s.usage_samples FINAL))"},
		{"usage_daily CPU − raw CPU (core-minutes)", "SELECT (SELECT sumMerge(cpu_usage_sum) FROM %[1]s.usage_daily) - (SELECT sum(cpu_usage_cores) FROM %[1]s.usage_samples FINAL)"},
		{"cost_daily cost − cost rows", "SELECT (SELECT sum(cpu_cost + ram_cost + gpu_cost) FROM %[1]s.cost_daily) - (SELECT sum(cpu_cost + ram_cost + gpu_cost) FROM %[1]s.cost_allocations FINAL)"},
	}
	for _, c := range checks {
		var d float64
		if err := conn.QueryRow(ctx, fmt.Sprintf(c.q, db)).Scan(&d); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", c.what, err))
			continue
		}
		if math.Abs(d) > 1e-6 {
			problems = append(problems, fmt.Sprintf("%s: %v, want 0", c.what, d))
		}
	}
	return problems
}

// diffJSON compares two JSON documents: the same structure and strings, numbers to relTol.
func diffJSON(want, got []byte) error {
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		return fmt.Errorf("the uninterrupted run's answer: %w", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return err
	}
	return diffValue("$", w, g)
}

func diffValue(path string, w, g any) error {
	switch w := w.(type) {
	case map[string]any:
		gm, ok := g.(map[string]any)
		if !ok || len(gm) != len(w) {
			return fmt.Errorf("%s: %v, want %v", path, g, w)
		}
		for k, v := range w {
			if err := diffValue(path+"."+k, v, gm[k]); err != nil {
				return err
			}
		}
	case []any:
		ga, ok := g.([]any)
		if !ok || len(ga) != len(w) {
			return fmt.Errorf("%s: %d elements, want %d", path, len(ga), len(w))
		}
		for i := range w {
			if err := diffValue(fmt.Sprintf("%s[%d]", path, i), w[i], ga[i]); err != nil {
				return err
			}
		}
	case float64:
		gf, ok := g.(float64)
		if !ok || !near(w, gf) {
			return fmt.Errorf("%s: %v, want %v", path, g, w)
		}
	default:
		if fmt.Sprint(w) != fmt.Sprint(g) {
			return fmt.Errorf("%s: %v, want %v", path, g, w)
		}
	}
	return nil
}

// diffCSVDirs compares the CSV files of two report directories cell by cell, numbers to
// relTol.
func diffCSVDirs(want, got string, compared func(string) bool) error {
	files, err := filepath.Glob(filepath.Join(want, "*.csv"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CSV files in %s (%v)", want, err)
	}
	gotFiles, _ := filepath.Glob(filepath.Join(got, "*.csv"))
	if len(gotFiles) != len(files) {
		return fmt.Errorf("%d CSV files, want %d", len(gotFiles), len(files))
	}
	for _, f := range files {
		if !compared(filepath.Base(f)) {
			continue
		}
		w, err := readCSV(f)
		if err != nil {
			return err
		}
		g, err := readCSV(filepath.Join(got, filepath.Base(f)))
		if err != nil {
			return err
		}
		if len(g) != len(w) {
			return fmt.Errorf("%s: %d lines, want %d", filepath.Base(f), len(g), len(w))
		}
		for i := range w {
			if len(g[i]) != len(w[i]) {
				return fmt.Errorf("%s line %d: %d fields, want %d", filepath.Base(f), i+1, len(g[i]), len(w[i]))
			}
			for j := range w[i] {
				wf, werr := strconv.ParseFloat(w[i][j], 64)
				gf, gerr := strconv.ParseFloat(g[i][j], 64)
				if werr == nil && gerr == nil && near(wf, gf) || w[i][j] == g[i][j] {
					continue
				}
				return fmt.Errorf("%s line %d field %d: %q, want %q", filepath.Base(f), i+1, j+1, g[i][j], w[i][j])
			}
		}
	}
	return nil
}

func readCSV(name string) ([][]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	return r.ReadAll()
}
