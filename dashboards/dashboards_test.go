package dashboards

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"gopkg.in/yaml.v3"

	tallysql "github.com/tally-finops/tally/sql"
)

// Every dashboard passes Grafana's dashboard schema, strictly: the foundation SDK's decoder
// rejects unknown fields, missing required ones and wrongly typed values, panel options
// included (it knows every core panel plugin). It does not know data source targets; those
// are checked by TestTargets.
func TestSchema(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			raw, err := File(name)
			if err != nil {
				t.Fatal(err)
			}
			var d dashboard.Dashboard
			if err := d.UnmarshalJSONStrict(raw); err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			if err := d.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if d.Uid == nil || *d.Uid+".json" != name {
				t.Errorf("uid %v: want the file name without .json", d.Uid)
			}
			if d.Title == nil || !strings.HasPrefix(*d.Title, "tally / ") {
				t.Errorf("title %v: want it to start with %q", d.Title, "tally / ")
			}
			if !slices.Contains(d.Tags, "tally") {
				t.Errorf("tags %v: want tag tally (the dashboards link to each other by it)", d.Tags)
			}
			if len(d.Panels) == 0 {
				t.Error("no panels")
			}
		})
	}
}

// The schema check can fail: a stat panel with an option its plugin does not have, or without
// a required one, and a dashboard without its required fields, are rejected.
func TestSchemaCatches(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	raw, err := File("tally-cost-overview.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, from, to string }{
		{"unknown stat option", `"graphMode": "none",`, `"graphMode": "none", "sparkle": true,`},
		{"missing stat option", `"reduceOptions": {`, `"reduceOptionz": {`},
		{"wrong type", `"schemaVersion": 41`, `"schemaVersion": "41"`},
		{"unknown panel field", `"type": "stat",`, `"type": "stat", "colour": "red",`},
	}
	for _, tc := range tests {
		bad := strings.Replace(string(raw), tc.from, tc.to, 1)
		if bad == string(raw) {
			t.Fatalf("%s: %q is not in the dashboard", tc.name, tc.from)
		}
		var d dashboard.Dashboard
		err := d.UnmarshalJSONStrict([]byte(bad))
		if err == nil {
			err = d.Validate()
		}
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// knownTables are the tables the migrations create.
func knownTables(t *testing.T) map[string]bool {
	t.Helper()
	migrations, err := tallysql.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?im)^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)`)
	tables := map[string]bool{}
	for _, m := range migrations {
		for _, stmt := range m.Statements {
			if sub := re.FindStringSubmatch(stmt); sub != nil {
				tables[sub[1]] = true
			}
		}
	}
	if len(tables) == 0 {
		t.Fatal("the migrations create no tables")
	}
	return tables
}

var (
	fromTableRE = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([A-Za-z_][\w.]*)`)
	keywordRE   = regexp.MustCompile(`(?i)\b(SELECT|JOIN)\b|[()]`)
	cteRE       = regexp.MustCompile(`(?i)\bWITH\s+\w+\s+AS\s*\(`)
	windowRE    = regexp.MustCompile(`(?i)\bOVER\s*\(`)
	timeAliasRE = regexp.MustCompile(`(?i)\bAS\s+time\b`)
)

// joinsPerSelect returns an error when a SELECT of q has more than one JOIN: ClickHouse
// 18.16 joins two tables per SELECT.
func joinsPerSelect(q string) error {
	joins := []int{0} // per parenthesis depth, the JOINs since that depth's last SELECT
	for _, m := range keywordRE.FindAllString(q, -1) {
		switch strings.ToUpper(m) {
		case "(":
			joins = append(joins, 0)
		case ")":
			if len(joins) > 1 {
				joins = joins[:len(joins)-1]
			}
		case "SELECT":
			joins[len(joins)-1] = 0
		case "JOIN":
			joins[len(joins)-1]++
			if joins[len(joins)-1] > 1 {
				return fmt.Errorf("more than one JOIN in a SELECT (ClickHouse 18.16 joins two tables per SELECT)")
			}
		}
	}
	return nil
}

// TestTargets checks what the schema cannot: every panel queries ClickHouse through the
// ${datasource} variable with a raw SQL target; variables exist; tables exist; the SQL keeps
// to what ClickHouse 18.16 can parse, apart from the $__timeInterval macro.
func TestTargets(t *testing.T) {
	tables := knownTables(t)
	for _, b := range loadBoards(t) {
		t.Run(b.file, func(t *testing.T) {
			defined := map[string]*variable{}
			for i, v := range b.Templating.List {
				if defined[v.Name] != nil {
					t.Errorf("variable $%s is defined twice", v.Name)
				}
				defined[v.Name] = &b.Templating.List[i]
				if v.Type == "query" && (v.Datasource == nil || v.Datasource.Type != pluginID || v.Datasource.UID != "${datasource}") {
					t.Errorf("variable $%s: datasource %+v, want type %s and uid ${datasource}", v.Name, v.Datasource, pluginID)
				}
			}
			if ds := defined["datasource"]; ds == nil || ds.Type != "datasource" || ds.sql() != pluginID {
				t.Errorf("want a variable $datasource of type datasource with query %s", pluginID)
			}
			if c := defined["cluster"]; c == nil || c.Type != "query" || c.Multi || c.IncludeAll {
				t.Error("want a single-value query variable $cluster")
			}

			ids, titles := map[int]bool{}, map[string]bool{}
			var boxes []panel
			for _, p := range b.panels() {
				where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
				if p.ID <= 0 || ids[p.ID] {
					t.Errorf("%s: id missing or not unique", where)
				}
				ids[p.ID] = true
				if p.Title == "" || titles[p.Title] {
					t.Errorf("%s: title missing or not unique in the dashboard", where)
				}
				titles[p.Title] = true
				if p.Datasource == nil || p.Datasource.Type != pluginID || p.Datasource.UID != "${datasource}" {
					t.Errorf("%s: panel datasource %+v, want type %s and uid ${datasource}", where, p.Datasource, pluginID)
				}
				if p.GridPos == nil || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
					t.Errorf("%s: gridPos %+v outside the 24-column grid", where, p.GridPos)
				} else {
					for _, o := range boxes {
						if overlap(*p.GridPos, *o.GridPos) {
							t.Errorf("%s overlaps panel %q", where, o.Title)
						}
					}
					boxes = append(boxes, p)
				}
				if len(p.Targets) == 0 {
					t.Errorf("%s: no targets", where)
				}
				refIDs := map[string]bool{}
				for _, tg := range p.Targets {
					if tg.RefID == "" || refIDs[tg.RefID] {
						t.Errorf("%s: refId %q missing or not unique in the panel", where, tg.RefID)
					}
					refIDs[tg.RefID] = true
					if tg.Datasource == nil || tg.Datasource.Type != pluginID || tg.Datasource.UID != "${datasource}" {
						t.Errorf("%s target %s: datasource %+v, want type %s and uid ${datasource}", where, tg.RefID, tg.Datasource, pluginID)
					}
					if tg.EditorType != "sql" {
						t.Errorf("%s target %s: editorType %q, want sql", where, tg.RefID, tg.EditorType)
					}
					wantFormat, wantType := 1, "table"
					if p.Type == "timeseries" {
						wantFormat, wantType = 0, "timeseries"
					}
					if tg.Format == nil || *tg.Format != wantFormat || tg.QueryType != wantType {
						t.Errorf("%s target %s: format %v, queryType %q; a %s panel wants format %d (%s)",
							where, tg.RefID, tg.Format, tg.QueryType, p.Type, wantFormat, wantType)
					}
				}
			}

			for _, q := range b.queries() {
				if strings.TrimSpace(q.sql) == "" {
					t.Errorf("%s: empty SQL", q)
					continue
				}
				for _, err := range checkSQL(q, defined, tables) {
					t.Errorf("%s: %v", q, err)
				}
			}
		})
	}
}

func overlap(a, b gridPos) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

// checkSQL returns what is wrong with one query's SQL.
func checkSQL(q query, defined map[string]*variable, tables map[string]bool) []error {
	var errs []error
	for _, m := range variableRE.FindAllStringSubmatch(q.sql, -1) {
		name := m[1] + m[2]
		if strings.HasPrefix(name, "__") {
			continue // a macro
		}
		if defined[name] == nil {
			errs = append(errs, fmt.Errorf("variable $%s is not defined", name))
		} else if q.panel == "" && name == q.refID {
			errs = append(errs, fmt.Errorf("variable $%s refers to itself", name))
		}
	}
	for _, m := range fromTableRE.FindAllStringSubmatch(q.sql, -1) {
		if !tables[m[1]] {
			errs = append(errs, fmt.Errorf("table %s: no migration creates it", m[1]))
		}
	}
	if !strings.Contains(q.sql, "cluster = '${cluster}'") && !(q.panel == "" && q.refID == "cluster") {
		errs = append(errs, fmt.Errorf("no filter cluster = '${cluster}': every row has a cluster"))
	}
	if cteRE.MatchString(q.sql) {
		errs = append(errs, fmt.Errorf("a CTE (WITH x AS (...)): ClickHouse 18.16 has none"))
	}
	if windowRE.MatchString(q.sql) {
		errs = append(errs, fmt.Errorf("a window function (OVER (...)): ClickHouse 18.16 has none"))
	}
	if strings.Contains(q.sql, "toStartOfInterval") {
		errs = append(errs, fmt.Errorf("toStartOfInterval: use $__timeInterval(col), which the plugin sizes to the panel"))
	}
	if err := joinsPerSelect(q.sql); err != nil {
		errs = append(errs, err)
	}
	if q.format == 0 && !timeAliasRE.MatchString(q.sql) {
		errs = append(errs, fmt.Errorf("a time series query without a column named time"))
	}
	// A multi-value variable is quoted and joined by the plugin; with All selected it would
	// expand to every value, so the dashboards only use one inside $__conditionalAll.
	e := expansion{from: time.Unix(0, 0), to: time.Unix(3600, 0), interval: time.Hour,
		values: map[string][]string{}, multi: map[string]bool{}}
	for name, v := range defined {
		e.values[name], e.multi[name] = []string{"x"}, v.Multi || v.IncludeAll
		if e.multi[name] {
			e.values[name] = []string{allValue}
		}
	}
	if _, err := e.expand(q.sql); err != nil {
		errs = append(errs, err)
	}
	return errs
}

func TestExpansion(t *testing.T) {
	from, to := time.Unix(1700000000, 0), time.Unix(1700086400, 0)
	e := expansion{from: from, to: to, interval: 2 * time.Hour,
		values: map[string][]string{"cluster": {"demo"}, "namespace": {"shop", "data"}, "workload": {allValue}},
		multi:  map[string]bool{"namespace": true, "workload": true}}
	tests := []struct{ in, want, err string }{
		{in: "WHERE $__timeFilter(ts)", want: "WHERE ts >= toDateTime(1700000000) AND ts <= toDateTime(1700086400)"},
		{in: "SELECT $__timeInterval(hour) AS time", want: "SELECT toStartOfInterval(toDateTime(hour), INTERVAL 7200 second) AS time"},
		{in: "toDate($__fromTime, 'UTC') .. $__toTime", want: "toDate(toDateTime(1700000000), 'UTC') .. toDateTime(1700086400)"},
		{in: "cluster = '${cluster}' AND c = '$cluster'", want: "cluster = 'demo' AND c = 'demo'"},
		{in: "$__conditionalAll(namespace IN (${namespace}), $namespace)", want: "namespace IN ('shop','data')"},
		{in: "$__conditionalAll(workload IN (${workload}), $workload) AND x", want: "1=1 AND x"},
		{in: "$__conditionalAll(f(a, ')'), $namespace)", want: "f(a, ')')"},
		{in: "c IN ('$cluster', '${cluster:raw}')", want: "c IN ('demo', 'demo')"},
		{in: "$__conditionalAll(ts > $__fromTime, ${namespace})", want: "ts > toDateTime(1700000000)"},
		{in: "workload IN (${workload})", err: "used outside $__conditionalAll"},
		{in: "x = '$nope'", err: "variable $nope has no value"},
		{in: "$__timeFilter_ms(ts)", err: "not one the tests expand"},
		{in: "$__timeFilter(a, b)", err: "2 arguments"},
		{in: "$__timeFilter(a", err: "unbalanced"},
		{in: "$__conditionalAll(a, b)", err: "not a variable"},
	}
	for _, tc := range tests {
		got, err := e.expand(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("expand(%q) = %q, %v; want error containing %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// The static checks can fail: each faulty query below is caught.
func TestCheckSQLCatches(t *testing.T) {
	tables := map[string]bool{"cost_daily": true}
	defined := map[string]*variable{"cluster": {Name: "cluster", Type: "query"}, "namespace": {Name: "namespace", Multi: true, IncludeAll: true}}
	b := &board{file: "test.json"}
	const ok = "SELECT 1 AS time FROM cost_daily WHERE cluster = '${cluster}'"
	tests := []struct{ sql, want string }{
		{ok + " AND x = '$team'", "variable $team is not defined"},
		{"SELECT 1 AS time FROM costs WHERE cluster = '${cluster}'", "table costs"},
		{"SELECT 1 AS time FROM cost_daily", "no filter cluster"},
		{"WITH x AS (SELECT 1) " + ok, "a CTE"},
		{"SELECT sum(1) OVER (PARTITION BY a) AS time FROM cost_daily WHERE cluster = '${cluster}'", "window function"},
		{ok + " AND toStartOfInterval(ts, INTERVAL 1 hour) > 0", "toStartOfInterval"},
		{"SELECT 1 AS time FROM cost_daily AS a JOIN cost_daily AS b USING x JOIN cost_daily AS c USING x WHERE cluster = '${cluster}'", "more than one JOIN"},
		{"SELECT 1 FROM cost_daily WHERE cluster = '${cluster}'", "without a column named time"},
		{ok + " AND namespace IN (${namespace})", "used outside $__conditionalAll"},
	}
	if errs := checkSQL(query{board: b, panel: "p", sql: ok}, defined, tables); len(errs) > 0 {
		t.Fatalf("a correct query: %v", errs)
	}
	for _, tc := range tests {
		errs := checkSQL(query{board: b, panel: "p", sql: tc.sql}, defined, tables)
		if !strings.Contains(fmt.Sprint(errs), tc.want) {
			t.Errorf("%s: errors %v, want one containing %q", tc.sql, errs, tc.want)
		}
	}
}

// TestProvisioning checks the files that load the data source and the dashboards into
// Grafana: the data source is the ClickHouse plugin over the native protocol, with its
// password taken from the environment, never written in the file; the dashboard provider
// reads files.
func TestProvisioning(t *testing.T) {
	read := func(path string, v any) {
		t.Helper()
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}

	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name           string            `yaml:"name"`
			UID            string            `yaml:"uid"`
			Type           string            `yaml:"type"`
			IsDefault      bool              `yaml:"isDefault"`
			Editable       bool              `yaml:"editable"`
			JSONData       map[string]any    `yaml:"jsonData"`
			SecureJSONData map[string]string `yaml:"secureJsonData"`
		} `yaml:"datasources"`
	}
	read(filepath.Join("provisioning", "datasources", "tally-clickhouse.yaml"), &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("datasources: apiVersion %d, %d data sources; want 1 and 1", ds.APIVersion, len(ds.Datasources))
	}
	d := ds.Datasources[0]
	if d.Type != pluginID || d.Name == "" || d.UID == "" {
		t.Errorf("data source %q (uid %q) has type %q, want %s", d.Name, d.UID, d.Type, pluginID)
	}
	var keys []string
	for k := range d.JSONData {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range []string{"defaultDatabase", "host", "port", "protocol", "username"} {
		if _, ok := d.JSONData[k]; !ok {
			t.Errorf("jsonData has %v, misses %s", keys, k)
		}
	}
	if p := d.JSONData["protocol"]; p != "native" {
		t.Errorf("jsonData.protocol %v, want native (ClickHouse 18.16 speaks no HTTP the driver accepts)", p)
	}
	if port, ok := d.JSONData["port"].(int); !ok || port <= 0 {
		t.Errorf("jsonData.port %v, want a port number", d.JSONData["port"])
	}
	if _, ok := d.JSONData["password"]; ok {
		t.Error("jsonData has a password: it belongs in secureJsonData")
	}
	if pw := d.SecureJSONData["password"]; !regexp.MustCompile(`^\$\{?[A-Z_][A-Z0-9_]*\}?$`).MatchString(pw) {
		t.Errorf("secureJsonData.password %q, want a reference to an environment variable such as $TALLY_CLICKHOUSE_PASSWORD", pw)
	}

	var prov struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name                  string `yaml:"name"`
			OrgID                 int    `yaml:"orgId"`
			Folder                string `yaml:"folder"`
			Type                  string `yaml:"type"`
			DisableDeletion       bool   `yaml:"disableDeletion"`
			AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
			UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
			Options               struct {
				Path                      string `yaml:"path"`
				FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	read(filepath.Join("provisioning", "dashboards", "tally.yaml"), &prov)
	if prov.APIVersion != 1 || len(prov.Providers) != 1 {
		t.Fatalf("dashboard providers: apiVersion %d, %d providers; want 1 and 1", prov.APIVersion, len(prov.Providers))
	}
	if p := prov.Providers[0]; p.Type != "file" || p.Options.Path == "" || p.Name == "" {
		t.Errorf("dashboard provider %+v: want a named file provider with a path", p)
	}
}
