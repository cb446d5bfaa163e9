//go:build chdb

// How the chDB conformance test runs statements: binding parameters, inserting rows as
// VALUES, and reading JSON results with their column types.

package sql_test

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tallysql "github.com/tally-finops/tally/sql"
)

// ---------------------------------------------------------------------------------------------
// Running statements.

// exec runs a statement that returns nothing.
func exec(t *testing.T, stmt string) {
	t.Helper()
	if _, err := session.Query(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// scalar runs a query returning one String cell.
func scalar(t *testing.T, q string) string {
	t.Helper()
	res, err := session.Query(q, "TSVRaw")
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return strings.TrimSuffix(res.String(), "\n")
}

var insertColumnsRE = regexp.MustCompile(`(?s)^INSERT INTO\s+\w+\s*\(([^)]*)\)$`)

// insert appends rows to a named insert statement as VALUES and runs it: the same statement
// text the store hands to PrepareBatch, with every row in its column order.
func (c *conformance) insert(t *testing.T, name string, rows ...[]any) {
	t.Helper()
	stmt, err := tallysql.Query(name)
	if err != nil {
		t.Fatal(err)
	}
	m := insertColumnsRE.FindStringSubmatch(stmt)
	if m == nil {
		t.Fatalf("%s.sql: want `INSERT INTO table (columns...)` and nothing else, got:\n%s", name, stmt)
	}
	ncols := len(strings.Split(m[1], ","))
	var b strings.Builder
	b.WriteString(stmt)
	b.WriteString(" VALUES")
	for i, row := range rows {
		if len(row) != ncols {
			t.Fatalf("%s.sql has %d columns; test row %d has %d values", name, ncols, i, len(row))
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(" (")
		for j, v := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(literal(v))
		}
		b.WriteByte(')')
	}
	if _, err := session.Query(b.String()); err != nil {
		t.Fatalf("%s.sql: %v\n%s", name, err, b.String())
	}
	c.executed[name]++
}

// literal renders a Go value as a ClickHouse literal.
func literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(x) + "'"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return literal(dt(x)) // parsed in the column's time zone, UTC
	case []float64:
		parts := make([]string, len(x))
		for i, f := range x {
			parts[i] = literal(f)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = literal(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	panic(fmt.Sprintf("literal: unsupported %T", v))
}

// bind replaces every @name of a query with the literal of params[name], as clickhouse-go's
// client-side binding does for clickhouse.Named. Unknown and unused parameters are errors.
func bind(q string, params map[string]any) (string, error) {
	var (
		b    strings.Builder
		used = map[string]bool{}
	)
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case ch == '\'' || ch == '`' || ch == '"': // copy a quoted string or name whole
			j := i + 1
			for ; j < len(q) && q[j] != ch; j++ {
				if q[j] == '\\' {
					j++
				}
			}
			b.WriteString(q[i:min(j+1, len(q))])
			i = j
		case ch == '-' && i+1 < len(q) && q[i+1] == '-': // a comment, to the end of the line
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case ch == '@':
			j := i + 1
			for j < len(q) && (q[j] == '_' || q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z' || j > i+1 && q[j] >= '0' && q[j] <= '9') {
				j++
			}
			name := q[i+1 : j]
			v, ok := params[name]
			if name == "" || !ok {
				return "", fmt.Errorf("parameter @%s has no value", name)
			}
			used[name] = true
			b.WriteString(literal(v))
			i = j - 1
		default:
			b.WriteByte(ch)
		}
	}
	for name := range params {
		if !used[name] {
			return "", fmt.Errorf("parameter @%s is not used by the query", name)
		}
	}
	return b.String(), nil
}

// result is a query's answer in JSONCompactEachRowWithNamesAndTypes.
type result struct {
	name         string
	names, types []string
	rows         [][]any
}

// query binds params to a named select, runs it and decodes the answer.
func (c *conformance) query(t *testing.T, name string, params map[string]any) *result {
	t.Helper()
	return c.queryWith(t, name, nil, params)
}

// queryWith is query for a statement with {placeholders} the store fills in before binding
// (values it validated, where ClickHouse wants a literal).
func (c *conformance) queryWith(t *testing.T, name string, placeholders map[string]string, params map[string]any) *result {
	t.Helper()
	q, err := tallysql.Query(name)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range placeholders {
		q = strings.ReplaceAll(q, "{"+k+"}", v)
	}
	bound, err := bind(q, params)
	if err != nil {
		t.Fatalf("%s.sql: %v", name, err)
	}
	out, err := session.Query(bound, "JSONCompactEachRowWithNamesAndTypes")
	if err != nil {
		t.Fatalf("%s.sql: %v\n%s", name, err, bound)
	}
	c.executed[name]++
	res := &result{name: name}
	dec := json.NewDecoder(strings.NewReader(out.String()))
	dec.UseNumber()
	if err := dec.Decode(&res.names); err != nil {
		t.Fatalf("%s.sql: decode column names: %v in %q", name, err, out.String())
	}
	if err := dec.Decode(&res.types); err != nil {
		t.Fatalf("%s.sql: decode column types: %v", name, err)
	}
	for dec.More() {
		var row []any
		if err := dec.Decode(&row); err != nil {
			t.Fatalf("%s.sql: decode row %d: %v", name, len(res.rows), err)
		}
		res.rows = append(res.rows, row)
	}
	return res
}

// wantColumns checks the answer's column names and types, given as name, type pairs. The
// types are what internal/store scans into (UInt64 into uint64, Float64 into float64, ...).
func (r *result) wantColumns(t *testing.T, pairs ...string) {
	t.Helper()
	var want, got []string
	for i := 0; i+1 < len(pairs); i += 2 {
		want = append(want, pairs[i]+" "+pairs[i+1])
	}
	for i := range r.names {
		got = append(got, r.names[i]+" "+r.types[i])
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		for i := 0; i < max(len(got), len(want)); i++ {
			g, w := "(none)", "(none)"
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("%s.sql column %d: got %s, want %s", r.name, i+1, g, w)
			}
		}
	}
}

// wantRows checks the answer's rows, in order, against the expected ones.
func (r *result) wantRows(t *testing.T, want ...[]any) {
	t.Helper()
	if len(r.rows) != len(want) {
		t.Errorf("%s.sql: %d rows, want %d\n got: %s\nwant: %s", r.name, len(r.rows), len(want), show(r.rows), show(want))
		return
	}
	for i := range want {
		if len(r.rows[i]) != len(want[i]) {
			t.Errorf("%s.sql row %d: %d columns, want %d", r.name, i+1, len(r.rows[i]), len(want[i]))
			continue
		}
		for j := range want[i] {
			if !cellMatches(want[i][j], r.rows[i][j]) {
				col := fmt.Sprint(j + 1)
				if j < len(r.names) {
					col = r.names[j]
				}
				t.Errorf("%s.sql row %d %s: got %v, want %v\n got row: %v\nwant row: %v",
					r.name, i+1, col, r.rows[i][j], want[i][j], r.rows[i], want[i])
			}
		}
	}
}

func show(rows [][]any) string {
	var b strings.Builder
	for _, row := range rows {
		fmt.Fprintf(&b, "\n  %v", row)
	}
	return b.String()
}

// cellMatches compares an expected Go value with a decoded JSON cell. 64-bit integers may
// arrive as numbers or as strings, depending on output_format_json_quote_64bit_integers.
func cellMatches(want, got any) bool {
	num := func() (string, bool) {
		switch g := got.(type) {
		case json.Number:
			return g.String(), true
		case string:
			return g, true
		}
		return "", false
	}
	switch w := want.(type) {
	case nil: // NULL
		return got == nil
	case string:
		g, ok := got.(string)
		return ok && g == w
	case int, int64, uint32, uint64:
		g, ok := num()
		return ok && g == fmt.Sprint(w)
	case float64:
		g, ok := num()
		if !ok {
			return false
		}
		f, err := strconv.ParseFloat(g, 64)
		return err == nil && math.Abs(f-w) <= 1e-9*math.Max(1, math.Abs(w))
	case betweenMatcher:
		g, ok := num()
		if !ok {
			return false
		}
		f, err := strconv.ParseFloat(g, 64)
		return err == nil && f >= w.lo-1e-9 && f <= w.hi+1e-9
	case []string:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if s, ok := g[i].(string); !ok || s != w[i] {
				return false
			}
		}
		return true
	}
	return false
}

// queryTable runs a named statement whose {table} placeholder the store fills from its own
// list of tables.
func (c *conformance) queryTable(t *testing.T, name, table string, params map[string]any) {
	t.Helper()
	q, err := tallysql.Query(name)
	if err != nil {
		t.Fatal(err)
	}
	bound, err := bind(strings.ReplaceAll(q, "{table}", table), params)
	if err != nil {
		t.Fatalf("%s.sql: %v", name, err)
	}
	if _, err := session.Query(bound); err != nil {
		t.Fatalf("%s.sql: %v\n%s", name, err, bound)
	}
	c.executed[name]++
}
