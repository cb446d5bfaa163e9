package dashboards

// The part of a dashboard the tests read, and the expansion of a panel query's macros and
// variables as Grafana and the ClickHouse data source plugin do it before sending the SQL.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// pluginID is the data source plugin every target and query variable must use.
const pluginID = "grafana-clickhouse-datasource"

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type gridPos struct {
	H, W, X, Y int
}

type target struct {
	Datasource *dsRef `json:"datasource"`
	RefID      string `json:"refId"`
	EditorType string `json:"editorType"`
	RawSQL     string `json:"rawSql"`
	Format     *int   `json:"format"`
	QueryType  string `json:"queryType"`
}

type panel struct {
	ID         int      `json:"id"`
	Type       string   `json:"type"`
	Title      string   `json:"title"`
	Datasource *dsRef   `json:"datasource"`
	GridPos    *gridPos `json:"gridPos"`
	Targets    []target `json:"targets"`
	Panels     []panel  `json:"panels"` // a collapsed row's panels
}

type variable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"`
	Datasource *dsRef          `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
}

// sql is a query variable's SQL: the query as a string, or the rawSql of a query object.
func (v variable) sql() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var obj struct {
		RawSQL string `json:"rawSql"`
	}
	_ = json.Unmarshal(v.Query, &obj)
	return obj.RawSQL
}

type board struct {
	file       string
	UID        string   `json:"uid"`
	Title      string   `json:"title"`
	Tags       []string `json:"tags"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

// loadBoards reads every embedded dashboard.
func loadBoards(t testing.TB) []board {
	t.Helper()
	names := Names()
	if len(names) == 0 {
		t.Fatal("no dashboards embedded")
	}
	boards := make([]board, 0, len(names))
	for _, name := range names {
		raw, err := File(name)
		if err != nil {
			t.Fatal(err)
		}
		b := board{file: name}
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		boards = append(boards, b)
	}
	return boards
}

// panels returns the dashboard's panels, those of collapsed rows included, rows left out.
func (b *board) panels() []panel {
	var out []panel
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type != "row" {
				out = append(out, p)
			}
			walk(p.Panels)
		}
	}
	walk(b.Panels)
	return out
}

// query is one SQL statement of a dashboard: a panel target or a query variable.
type query struct {
	board  *board
	panel  string // panel title; "" for a variable
	refID  string // target refId, or the variable's name
	format int    // 0 time series, 1 table
	sql    string
}

func (q query) String() string {
	if q.panel == "" {
		return fmt.Sprintf("%s variable $%s", q.board.file, q.refID)
	}
	return fmt.Sprintf("%s panel %q target %s", q.board.file, q.panel, q.refID)
}

// queries lists the dashboard's query variables and panel targets, in that order.
func (b *board) queries() []query {
	var out []query
	for _, v := range b.Templating.List {
		if v.Type == "query" {
			out = append(out, query{board: b, refID: v.Name, format: 1, sql: v.sql()})
		}
	}
	for _, p := range b.panels() {
		for _, tg := range p.Targets {
			f := -1
			if tg.Format != nil {
				f = *tg.Format
			}
			out = append(out, query{board: b, panel: p.Title, refID: tg.RefID, format: f, sql: tg.RawSQL})
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// Expansion.

// allValue is the value Grafana gives a variable whose "All" option is selected.
const allValue = "$__all"

// expansion stands in for Grafana and the ClickHouse plugin: it expands the macros
// $__timeFilter(col), $__timeInterval(col), $__fromTime, $__toTime and
// $__conditionalAll(condition, $var), and the variables $var and ${var}, for a time range, an
// interval and a selection of variable values. Any other macro is an error, and so is a
// variable without a value: the dashboards use nothing the expansion does not check.
type expansion struct {
	from, to time.Time
	interval time.Duration
	values   map[string][]string // the selected values of each variable; allValue for All
	multi    map[string]bool     // variables with several values or All: quoted, comma-separated
}

var (
	macroRE    = regexp.MustCompile(`\$__(\w+)`)
	variableRE = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)
)

// expand returns q with its macros and variables replaced.
func (e expansion) expand(q string) (string, error) {
	s, err := e.expandMacros(q)
	if err != nil {
		return "", err
	}
	var firstErr error
	out := variableRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := variableRE.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		v := e.values[name]
		switch {
		case len(v) == 0:
			firstErr = keepFirst(firstErr, fmt.Errorf("variable $%s has no value", name))
			return m
		case slices.Contains(v, allValue):
			firstErr = keepFirst(firstErr, fmt.Errorf("variable $%s (All selected) used outside $__conditionalAll", name))
			return m
		case e.multi[name]:
			quoted := make([]string, len(v))
			for i, s := range v {
				quoted[i] = "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
			}
			return strings.Join(quoted, ",")
		case len(v) > 1:
			firstErr = keepFirst(firstErr, fmt.Errorf("variable $%s has %d values but is not multi-value", name, len(v)))
		}
		return v[0]
	})
	return out, firstErr
}

// keepFirst returns first, or err when there is no first error.
func keepFirst(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func (e expansion) expandMacros(q string) (string, error) {
	var b strings.Builder
	for {
		loc := macroRE.FindStringSubmatchIndex(q)
		if loc == nil {
			b.WriteString(q)
			return b.String(), nil
		}
		b.WriteString(q[:loc[0]])
		name, rest := q[loc[2]:loc[3]], q[loc[1]:]
		switch name {
		case "fromTime", "toTime":
			t := e.from
			if name == "toTime" {
				t = e.to
			}
			fmt.Fprintf(&b, "toDateTime(%d)", t.Unix())
			q = rest
			continue
		case "timeFilter", "timeInterval", "conditionalAll":
		default:
			return "", fmt.Errorf("macro $__%s: not one the tests expand", name)
		}
		args, after, err := macroArgs(rest)
		if err != nil {
			return "", fmt.Errorf("macro $__%s: %w", name, err)
		}
		switch {
		case name == "timeFilter" && len(args) == 1:
			fmt.Fprintf(&b, "%s >= toDateTime(%d) AND %s <= toDateTime(%d)", args[0], e.from.Unix(), args[0], e.to.Unix())
		case name == "timeInterval" && len(args) == 1:
			fmt.Fprintf(&b, "toStartOfInterval(toDateTime(%s), INTERVAL %d second)", args[0], int(max(e.interval.Seconds(), 1)))
		case name == "conditionalAll" && len(args) == 2:
			sub := variableRE.FindStringSubmatch(args[1])
			if sub == nil || sub[0] != args[1] {
				return "", fmt.Errorf("macro $__conditionalAll: second argument %q is not a variable", args[1])
			}
			v := e.values[sub[1]+sub[2]]
			if len(v) == 0 {
				return "", fmt.Errorf("macro $__conditionalAll: variable %s has no value", args[1])
			}
			if slices.Contains(v, allValue) {
				b.WriteString("1=1")
				break
			}
			cond, err := e.expandMacros(args[0])
			if err != nil {
				return "", err
			}
			b.WriteString(cond)
		default:
			return "", fmt.Errorf("macro $__%s: %d arguments", name, len(args))
		}
		q = after
	}
}

// macroArgs splits "(a, f(b, c), 'x,y') rest" into its top-level arguments and the rest.
func macroArgs(s string) (args []string, rest string, err error) {
	if !strings.HasPrefix(s, "(") {
		return nil, "", fmt.Errorf("want arguments in parentheses")
	}
	depth, start := 0, 1
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '`' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')' || c == ',' && depth == 1:
			if c == ')' {
				depth--
				if depth > 0 {
					continue
				}
			}
			args = append(args, strings.TrimSpace(s[start:i]))
			start = i + 1
			if depth == 0 {
				return args, s[i+1:], nil
			}
		}
	}
	return nil, "", fmt.Errorf("unbalanced parentheses")
}

// ---------------------------------------------------------------------------------------------
// Selections: the values the execution tests give the variables.

// selection is one choice of variable values for every dashboard.
type selection struct {
	name   string
	values map[string][]string
}

// selections returns the variable values the tests run every query with: every multi-value
// variable on All, and two namespaces and workloads of the demo cluster chosen (one with OOM
// kills, one with savings).
func selections() []selection {
	return []selection{
		{"all", map[string][]string{"cluster": {demoCluster}, "namespace": {allValue}, "workload": {allValue}}},
		{"picked", map[string][]string{"cluster": {demoCluster}, "namespace": {"data", "shop"}, "workload": {"recommender", "api"}}},
	}
}

// expansionFor is the expansion of b's queries for the time range [from, to] and sel.
func expansionFor(b *board, sel selection, from, to time.Time) expansion {
	e := expansion{from: from, to: to, interval: time.Hour, values: map[string][]string{}, multi: map[string]bool{}}
	for _, v := range b.Templating.List {
		if val, ok := sel.values[v.Name]; ok {
			e.values[v.Name] = val
			e.multi[v.Name] = v.Multi || v.IncludeAll
		}
	}
	return e
}
