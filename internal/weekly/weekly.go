// Package weekly writes the weekly reports of one cluster for one ISO week (UTC, Monday to
// Monday) as CSV files a spreadsheet opens cleanly: a header row, ISO dates, plain numbers
// with a dot for decimals, and a stable column order (docs/reports.md). Each file is written
// to a temporary file and renamed into place, so a reader never sees half a report.
//
// The files:
//
//   - costs_by_namespace.csv, costs_by_team.csv: the week's cost per namespace and per `team`
//     label (the pod's, else its namespace's) against the week before, with idle cost shared in proportion to cost, efficiency
//     and waste;
//   - rightsizing.csv: the recommendations from the 14 days before the week's end;
//   - qos.csv: the request = limit findings at the week's end;
//   - summary.csv: one row with the totals, the change against the week before, the
//     cluster's CPU and memory utilisation and the potential monthly savings.
package weekly

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/recommend"
	"github.com/tally-finops/tally/internal/report"
	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/store"
)

// ErrNoData says the week has no cost rows.
var ErrNoData = errors.New("no cost data for the week")

// File names, in the order they are written.
const (
	FileCostsByNamespace = "costs_by_namespace.csv"
	FileCostsByTeam      = "costs_by_team.csv"
	FileRightsizing      = "rightsizing.csv"
	FileQoS              = "qos.csv"
	FileSummary          = "summary.csv"
)

// TeamLabel is the label costs_by_team.csv groups by: the pod's, else its namespace's.
const TeamLabel = "team"

// rightsizingWindow is how much usage the week's recommendations are made from.
const rightsizingWindow = 14 * 24 * time.Hour

// Options say which week of which cluster to report, and where.
type Options struct {
	Cluster string
	// Year and Week are the ISO week; zero means the last complete week before Now.
	Year, Week int
	Dir        string
	Now        time.Time
	Policy     rightsizing.Policy
}

// Result says what was written.
type Result struct {
	Year, Week int
	From, To   time.Time // the week [Monday 00:00 UTC, next Monday)
	Files      []string  // names of the files written, in Dir
}

var weekPattern = regexp.MustCompile(`^(\d{4})-W(\d{2})$`)

// ParseWeek reads an ISO week such as "2026-W47"; "" is (0, 0): the last complete week.
func ParseWeek(s string) (year, week int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	m := weekPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("%q is not an ISO week such as 2026-W47", s)
	}
	year, _ = strconv.Atoi(m[1])
	week, _ = strconv.Atoi(m[2])
	if y, w := WeekStart(year, week).ISOWeek(); week < 1 || y != year || w != week {
		return 0, 0, fmt.Errorf("%s has no week %d", m[1], week)
	}
	return year, week, nil
}

// WeekStart is the Monday 00:00 UTC that starts ISO week (year, week).
func WeekStart(year, week int) time.Time {
	// 4 January is always in week 1.
	jan4 := time.Date(year, 1, 4, 0, 0, 0, 0, time.UTC)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, 7*(week-1))
}

// LastCompleteWeek is the ISO week that ended last before now.
func LastCompleteWeek(now time.Time) (year, week int) {
	return now.UTC().AddDate(0, 0, -7).ISOWeek()
}

// Write computes the week's reports and writes them into o.Dir, creating it if needed.
func Write(ctx context.Context, st *store.Store, o Options) (Result, error) {
	if o.Year == 0 {
		o.Year, o.Week = LastCompleteWeek(o.Now)
	}
	from := WeekStart(o.Year, o.Week)
	res := Result{Year: o.Year, Week: o.Week, From: from, To: from.AddDate(0, 0, 7)}
	if res.To.After(o.Now) {
		return res, fmt.Errorf("week %d-W%02d ends %s, after now", o.Year, o.Week, res.To.Format(time.RFC3339))
	}
	weekName := fmt.Sprintf("%d-W%02d", o.Year, o.Week)

	rows, err := st.CostRows(ctx, o.Cluster, res.From, res.To)
	if err != nil {
		return res, err
	}
	if len(rows) == 0 {
		return res, fmt.Errorf("week %s of cluster %s: %w", weekName, o.Cluster, ErrNoData)
	}
	prevFrom := res.From.AddDate(0, 0, -7)
	prevRows, err := st.CostRows(ctx, o.Cluster, prevFrom, res.From)
	if err != nil {
		return res, err
	}
	prices, _, err := st.UnitPrices(ctx, store.Window{Cluster: o.Cluster, From: res.From, To: res.To})
	if err != nil {
		return res, err
	}
	req := recommend.Request{Cluster: o.Cluster, From: res.To.Add(-rightsizingWindow), To: res.To, Policy: o.Policy}
	recs, currency, err := recommend.Rightsizing(ctx, st, req)
	if err != nil {
		return res, err
	}
	if currency == "" {
		currency = prices.Currency
	}
	qos, err := recommend.QoSWith(ctx, st, req, recommend.QoSOptions{GuaranteedCPU: o.Policy.GuaranteedCPU, KillOrderTop: 5}, recs)
	if err != nil {
		return res, err
	}

	files := map[string][]byte{}
	week := weekInfo{name: weekName, currency: currency}
	// A pod without a team label takes its namespace's, as the namespace is at the end of
	// each week: the week before is reported as its own weekly report had it.
	namespaces, err := st.NamespaceLabels(ctx, store.Window{Cluster: o.Cluster, From: res.From, To: res.To})
	if err != nil {
		return res, err
	}
	prevNamespaces, err := st.NamespaceLabels(ctx, store.Window{Cluster: o.Cluster, From: prevFrom, To: res.From})
	if err != nil {
		return res, err
	}
	for _, g := range []struct {
		file, key, column string
	}{{FileCostsByNamespace, "namespace", "namespace"}, {FileCostsByTeam, "label:" + TeamLabel, "team"}} {
		cur, err := aggregate(rows, namespaces, g.key, res)
		if err != nil {
			return res, err
		}
		prev, err := aggregate(prevRows, prevNamespaces, g.key, res)
		if err != nil {
			return res, err
		}
		files[g.file] = costsCSV(week, g.column, cur, prev)
	}
	rw := report.Window{From: req.From, To: req.To}
	var b bytes.Buffer
	if err := (report.Rightsizing{Cluster: o.Cluster, Window: rw, Currency: currency}).Render(&b, report.FormatCSV, recs); err != nil {
		return res, err
	}
	files[FileRightsizing] = bytes.Clone(b.Bytes())
	b.Reset()
	if err := (report.QoS{Cluster: o.Cluster, Window: rw}).Render(&b, report.FormatCSV, qos.Findings, qos.Nodes); err != nil {
		return res, err
	}
	files[FileQoS] = bytes.Clone(b.Bytes())
	files[FileSummary] = summaryCSV(week, o.Cluster, res, summarize(rows, prevRows, recs, len(qos.Findings)))

	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return res, fmt.Errorf("create report directory: %w", err)
	}
	for _, name := range []string{FileCostsByNamespace, FileCostsByTeam, FileRightsizing, FileQoS, FileSummary} {
		if err := writeAtomic(filepath.Join(o.Dir, name), files[name]); err != nil {
			return res, err
		}
		res.Files = append(res.Files, name)
	}
	return res, nil
}

// aggregate groups cost rows by one key with idle cost shared in proportion to cost, so each
// group carries its part of the idle nodes; a label key falls back to the namespaces' labels.
func aggregate(rows []model.Allocation, namespaces []model.Namespace, key string, res Result) ([]allocation.Total, error) {
	keys, err := allocation.ParseKeys(key)
	if err != nil {
		return nil, err
	}
	return allocation.Aggregate(rows, allocation.Options{By: keys, Idle: allocation.IdleShare,
		WindowHours: res.To.Sub(res.From).Hours(), Namespaces: namespaces})
}

// writeAtomic writes data to a temporary file next to path, syncs it and renames it over path.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
