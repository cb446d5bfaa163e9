package dashboards

// Executing every dashboard query, its macros expanded, against the demo dataset on one
// ClickHouse engine, and checking what the key panels show against the dataset.

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// result is a query's answer with every cell as text (NULL as \N).
type result struct {
	names, types []string
	rows         [][]string
}

func (r *result) col(name string) (int, error) {
	for i, n := range r.names {
		if n == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("no column %q in %v", name, r.names)
}

func (r *result) float(row int, name string) (float64, error) {
	i, err := r.col(name)
	if err != nil {
		return 0, err
	}
	if row >= len(r.rows) {
		return 0, fmt.Errorf("no row %d (%d rows)", row+1, len(r.rows))
	}
	f, err := strconv.ParseFloat(r.rows[row][i], 64)
	if err != nil {
		return 0, fmt.Errorf("column %s row %d: %w", name, row+1, err)
	}
	return f, nil
}

func (r *result) sum(name string) (float64, error) {
	var s float64
	for i := range r.rows {
		f, err := r.float(i, name)
		if err != nil {
			return 0, err
		}
		s += f
	}
	return s, nil
}

func (r *result) values(name string) (map[string]bool, error) {
	i, err := r.col(name)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, row := range r.rows {
		out[row[i]] = true
	}
	return out, nil
}

// engine runs SQL on one ClickHouse engine.
type engine struct {
	name string
	run  func(sql string) (*result, error)
	// legacy marks ClickHouse 18.16: queries needing a newer server are skipped.
	legacy bool
}

// modernOnly says why an expanded query needs a server newer than 18.16, or "".
func modernOnly(sql string) string {
	if strings.Contains(sql, "toStartOfInterval") {
		return "$__timeInterval expands to toStartOfInterval, which ClickHouse 18.16 lacks"
	}
	return ""
}

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want))
}

// keyCheck checks a key panel's answer.
type keyCheck func(d *demo, r *result) error

func wantNear(r *result, row int, col string, want float64) error {
	got, err := r.float(row, col)
	if err != nil {
		return err
	}
	if !near(got, want) {
		return fmt.Errorf("%s = %v, want %v", col, got, want)
	}
	return nil
}

func wantRows(r *result, n int) error {
	if len(r.rows) != n {
		return fmt.Errorf("%d rows, want %d", len(r.rows), n)
	}
	return nil
}

func wantSet(r *result, col string, want map[string]bool) error {
	got, err := r.values(col)
	if err != nil {
		return err
	}
	if fmt.Sprint(sortedKeys(got)) != fmt.Sprint(sortedKeys(want)) {
		return fmt.Errorf("%s values %v, want %v", col, sortedKeys(got), sortedKeys(want))
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// keyChecks are the checks of the key panels' answers for the All selection, by dashboard
// file and panel title.
var keyChecks = map[string]map[string]keyCheck{
	"tally-cost-overview.json": {
		"Total cost": func(d *demo, r *result) error {
			total, _ := d.totalCost()
			return wantNear(r, 0, "total_cost", total)
		},
		"Week over week": func(d *demo, r *result) error {
			want := d.weekOverWeek()
			if want < 0.001 {
				return fmt.Errorf("the demo's cost grows by %v a week, want a visible change", want)
			}
			return wantNear(r, 0, "week_over_week", want)
		},
		"Idle share": func(d *demo, r *result) error {
			total, idle := d.totalCost()
			return wantNear(r, 0, "idle_share", idle/total)
		},
		"Potential savings / month": func(d *demo, r *result) error {
			sum, _ := d.potentialSavings()
			return wantNear(r, 0, "potential_monthly_savings", sum)
		},
		"Realised savings / month": func(d *demo, r *result) error {
			want := d.realisedSavings()
			if want <= 0 {
				return fmt.Errorf("the demo realises no savings (%v)", want)
			}
			return wantNear(r, 0, "realised_monthly_savings", want)
		},
		"Cost by namespace": func(d *demo, r *result) error {
			if err := wantSet(r, "namespace", d.namespaces()); err != nil {
				return err
			}
			total, _ := d.totalCost()
			sum, err := r.sum("cost")
			if err == nil && !near(sum, total) {
				err = fmt.Errorf("costs sum to %v, want the total %v", sum, total)
			}
			return err
		},
		"Cost by team": func(d *demo, r *result) error {
			// data's pods have no team label: data is their namespace's team.
			if err := wantSet(r, "team", map[string]bool{"__idle__": true, "data": true, "finance": true,
				"ml": true, "platform": true, "storefront": true}); err != nil {
				return err
			}
			total, _ := d.totalCost()
			sum, err := r.sum("cost")
			if err == nil && !near(sum, total) {
				err = fmt.Errorf("costs sum to %v, want the total %v", sum, total)
			}
			return err
		},
		"Biggest savings": func(d *demo, r *result) error {
			_, n := d.potentialSavings()
			if err := wantRows(r, min(n, 10)); err != nil {
				return err
			}
			return wantNear(r, 0, "monthly_savings", d.rightsized.MonthlySavings)
		},
	},
	"tally-namespace-drilldown.json": {
		"Cost": func(d *demo, r *result) error {
			total, idle := d.totalCost()
			return wantNear(r, 0, "cost", total-idle)
		},
	},
	"tally-rightsizing.json": {
		"Top over-provisioned workloads": func(d *demo, r *result) error {
			_, n := d.potentialSavings()
			if err := wantRows(r, min(n, 20)); err != nil {
				return err
			}
			return wantNear(r, 0, "monthly_savings", d.rightsized.MonthlySavings)
		},
		"OOM kills": func(d *demo, r *result) error {
			return wantNear(r, 0, "oom_kills", float64(d.oomKills()))
		},
		"OOM-killed containers": func(d *demo, r *result) error {
			return wantRows(r, d.oomKills())
		},
		"Containers with request ≠ limit": func(d *demo, r *result) error {
			return wantNear(r, 0, "request_not_limit", float64(d.requestNotLimit()))
		},
		"Memory request ≠ limit": func(d *demo, r *result) error {
			return wantRows(r, d.requestNotLimit())
		},
	},
	"tally-nodes.json": {
		"Node cost": func(d *demo, r *result) error {
			return wantNear(r, 0, "node_cost", d.nodeCost())
		},
		"Cost per node": func(d *demo, r *result) error {
			if err := wantSet(r, "node", d.nodeNames()); err != nil {
				return err
			}
			total, _ := d.totalCost()
			sum, err := r.sum("total_cost")
			if err == nil && !near(sum, total) {
				err = fmt.Errorf("node costs sum to %v, want the total %v", sum, total)
			}
			return err
		},
	},
}

// pickedChecks are the checks of the picked selection's answers (namespaces data and shop,
// workloads recommender and api): the filters of the multi-value variables take effect.
var pickedChecks = map[string]map[string]keyCheck{
	"tally-namespace-drilldown.json": {
		"Cost": func(d *demo, r *result) error {
			var want float64
			for _, a := range d.allocations {
				if (a.Namespace == "data" || a.Namespace == "shop") && (a.Workload.Name == "recommender" || a.Workload.Name == "api") {
					want += a.TotalCost()
				}
			}
			return wantNear(r, 0, "cost", want)
		},
		"Cost by workload": func(d *demo, r *result) error {
			return wantSet(r, "workload", map[string]bool{"recommender": true, "api": true})
		},
	},
	"tally-rightsizing.json": {
		"Top over-provisioned workloads": func(d *demo, r *result) error {
			return wantSet(r, "namespace", map[string]bool{"shop": true})
		},
		"OOM-killed containers": func(d *demo, r *result) error {
			return wantRows(r, d.oomKills()) // all of them are data/recommender's
		},
	},
}

// runDashboards executes every query of every dashboard for every selection on eng, checks
// that each returns rows (the demo has data for every panel and both selections), that a
// time series starts with a DateTime column named time, and what the key panels show; it
// returns the answers by selection and query, for comparisons between runs.
func runDashboards(t *testing.T, eng engine, d *demo) map[string]*result {
	answers := map[string]*result{}
	checked := map[string]bool{}
	for _, b := range loadBoards(t) {
		for _, sel := range selections() {
			e := expansionFor(&b, sel, d.start, d.end)
			for _, q := range b.queries() {
				name := fmt.Sprintf("%s/%s", sel.name, q)
				sql, err := e.expand(q.sql)
				if err != nil {
					t.Errorf("%s: expand: %v", name, err)
					continue
				}
				if why := modernOnly(sql); eng.legacy && why != "" {
					t.Logf("%s: skipped on %s: %s", name, eng.name, why)
					continue
				}
				r, err := eng.run(sql)
				if err != nil {
					t.Errorf("%s on %s: %v\n%s", name, eng.name, err, sql)
					continue
				}
				answers[name] = r
				if len(r.rows) == 0 {
					t.Errorf("%s on %s: no rows\n%s", name, eng.name, sql)
				}
				if q.format == 0 && (len(r.types) == 0 || r.names[0] != "time" || !strings.HasPrefix(r.types[0], "DateTime")) {
					t.Errorf("%s on %s: a time series whose first column is %v %v, want time DateTime", name, eng.name, r.names, r.types)
				}
				checks := keyChecks
				if sel.name != "all" {
					checks = pickedChecks
				}
				if check := checks[b.file][q.panel]; check != nil {
					checked[sel.name+"/"+b.file+"/"+q.panel] = true
					if len(r.rows) > 0 {
						t.Logf("%s on %s: %v = %v (%d rows)", name, eng.name, r.names, r.rows[0], len(r.rows))
					}
					if err := check(d, r); err != nil {
						t.Errorf("%s on %s: %v", name, eng.name, err)
					}
				}
			}
		}
	}
	for sel, all := range map[string]map[string]map[string]keyCheck{"all": keyChecks, "picked": pickedChecks} {
		for file, checks := range all {
			for title := range checks {
				if !checked[sel+"/"+file+"/"+title] && !t.Failed() {
					t.Errorf("key panel %s %q was not checked for selection %s: renamed?", file, title, sel)
				}
			}
		}
	}
	return answers
}
