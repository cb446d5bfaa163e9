package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/report"
)

// Every parameter value is checked against what it may be: its length, then its syntax
// (a cluster name, a namespace name, a label key, one of an enumeration, a finite number in
// range, a time ClickHouse can hold). This is not what keeps SQL out of the queries: the
// store passes every value to ClickHouse as a bound parameter (clickhouse.Named), never
// formatted into SQL text, so `' OR 1=1 --` would only match nothing. The checks make such a
// value, an oversized one or one with control characters a clear 400 naming its parameter,
// rather than an empty report or a ClickHouse error.

// Bounds of the query string and its values. An error quotes at most maxQuoteBytes of a value.
const (
	maxParams      = 32
	maxValueBytes  = 128
	maxListBytes   = 1 << 10 // a comma-separated list: namespace, share-namespaces, by
	maxQuoteBytes  = 64
	maxCount       = 1_000_000 // top, kill-order
	minClickHouseT = 0         // DateTime holds 1970-01-01T00:00:00Z ...
	maxClickHouseT = 1<<32 - 1 // ... to 2106-02-07T06:28:15Z
)

// listParams are the parameters whose value is a comma-separated list.
var listParams = []string{"namespace", "share-namespaces", "by"}

// params are a request's query parameters, each known to the endpoint and given once.
type params struct {
	values url.Values
}

// parseParams reads the query string of r, rejecting more than maxParams parameters, a
// parameter that is not in known or is given twice, and a value that is too long, not UTF-8
// or holds a control character. Errors name the parameter.
func parseParams(r *http.Request, known ...string) (params, *httpError) {
	raw := r.URL.RawQuery
	if n := strings.Count(raw, "&") + 1; raw != "" && n > maxParams {
		return params{}, &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("the query string holds %d parameters, over the limit of %d", n, maxParams)}
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return params{}, &httpError{status: http.StatusBadRequest, msg: "malformed query string: " + oneLine(err.Error())}
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names) // the first offender is the same on every try
	for _, name := range names {
		if !slices.Contains(known, name) {
			return params{}, &httpError{status: http.StatusBadRequest, msg: "unknown parameter " + quote(name), param: cut(name)}
		}
		if len(values[name]) > 1 {
			return params{}, &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("parameter %q is given %d times", name, len(values[name])), param: name}
		}
		if err := checkValue(values[name][0], slices.Contains(listParams, name)); err != nil {
			return params{}, badParam(name, err)
		}
	}
	return params{values: values}, nil
}

// checkValue rejects a value that is too long, not UTF-8 or holds a control character
// (NUL, a newline, ...): no parameter has one.
func checkValue(v string, list bool) error {
	limit := maxValueBytes
	if list {
		limit = maxListBytes
	}
	if len(v) > limit {
		return fmt.Errorf("value %s is too long (at most %d bytes)", quote(v), limit)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("value %s is not UTF-8", quote(v))
	}
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(v[i:])
		return fmt.Errorf("value %s holds the control character %U", quote(v), r)
	}
	return nil
}

// quote is s quoted for an error message; longer than maxQuoteBytes, it is cut (at a rune
// boundary) and its length given: an error never echoes a huge value in full.
func quote(s string) string {
	if len(s) <= maxQuoteBytes {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q… (%d bytes)", cut(s), len(s))
}

// cut is the first maxQuoteBytes bytes of s, at a rune boundary.
func cut(s string) string {
	if len(s) <= maxQuoteBytes {
		return s
	}
	n := maxQuoteBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// quoted matches a Go-quoted string (%q) in an error message.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// shortenQuoted cuts every quoted string of msg longer than maxQuoteBytes as quote does.
func shortenQuoted(msg string) string {
	return quoted.ReplaceAllStringFunc(msg, func(q string) string {
		s, err := strconv.Unquote(q)
		if err != nil || len(s) <= maxQuoteBytes {
			return q
		}
		return quote(s)
	})
}

// k8sError is the first of apimachinery's validation messages, without its examples and
// regular expression.
func k8sError(errs []string) string {
	msg, _, _ := strings.Cut(errs[0], " (e.g. ")
	return msg
}

// str is the parameter's value, or def when it is absent. Present but empty is "".
func (p params) str(name, def string) string {
	if v, ok := p.values[name]; ok {
		return v[0]
	}
	return def
}

func (p params) has(name string) bool {
	_, ok := p.values[name]
	return ok
}

// float reads a finite number.
func (p params) float(name string, def float64) (float64, *httpError) {
	if !p.has(name) {
		return def, nil
	}
	s := p.str(name, "")
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, badParam(name, fmt.Errorf("%s is not a number", quote(s)))
	}
	return v, nil
}

// count reads a whole number in [0, maxCount].
func (p params) count(name string, def int) (int, *httpError) {
	if !p.has(name) {
		return def, nil
	}
	s := p.str(name, "")
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return 0, badParam(name, fmt.Errorf("%s is not a whole number ≥ 0", quote(s)))
	}
	if v > maxCount {
		return 0, badParam(name, fmt.Errorf("%d is over %d", v, maxCount))
	}
	return v, nil
}

// integer reads a whole number of any sign (the policy's own check judges it).
func (p params) integer(name string, def int) (int, *httpError) {
	if !p.has(name) {
		return def, nil
	}
	s := p.str(name, "")
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, badParam(name, fmt.Errorf("%s is not a whole number", quote(s)))
	}
	return v, nil
}

func (p params) boolean(name string, def bool) (bool, *httpError) {
	if !p.has(name) {
		return def, nil
	}
	s := p.str(name, "")
	v, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return false, badParam(name, fmt.Errorf("%s is not true or false", quote(s)))
	}
	return v, nil
}

func (p params) duration(name string, def time.Duration) (time.Duration, *httpError) {
	if !p.has(name) {
		return def, nil
	}
	s := p.str(name, "")
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, badParam(name, fmt.Errorf("%s is not a duration such as 24h or 90m", quote(s)))
	}
	return v, nil
}

// list reads a comma-separated list, spaces trimmed and empty items dropped.
func (p params) list(name string) []string {
	var out []string
	for _, s := range strings.Split(p.str(name, ""), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// cluster is ?cluster= or the server's default cluster.
func (a *api) cluster(p params) (string, *httpError) {
	c := strings.TrimSpace(p.str("cluster", a.opts.DefaultCluster))
	if c == "" {
		return "", badParam("cluster", errors.New("required: the server has no default cluster (reporter serve --cluster)"))
	}
	if err := CheckClusterName(c); err != nil {
		return "", badParam("cluster", err)
	}
	return c, nil
}

// CheckClusterName reports whether name can be a cluster's: a Kubernetes label value
// (letters, digits, '-', '_', '.'; at most 63), as clusters are named in Prometheus' labels.
func CheckClusterName(name string) error {
	if name == "" {
		return errors.New("empty cluster name")
	}
	if errs := validation.IsValidLabelValue(name); len(errs) > 0 {
		return fmt.Errorf("%s is not a cluster name: %s", quote(name), k8sError(errs))
	}
	return nil
}

// namespaces reads a comma-separated list of namespace names (spaces trimmed, empty items
// dropped), each a Kubernetes DNS label.
func (p params) namespaces(name string) ([]string, *httpError) {
	list := p.list(name)
	if err := checkNamespaces(list); err != nil {
		return nil, badParam(name, err)
	}
	return list, nil
}

func checkNamespaces(names []string) error {
	for _, ns := range names {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return fmt.Errorf("%s is not a namespace name: %s", quote(ns), k8sError(errs))
		}
	}
	return nil
}

// checkLabelKeys checks the label of every label:KEY aggregation key: a Kubernetes label
// key (a qualified name such as team or app.kubernetes.io/name).
func checkLabelKeys(keys []string) error {
	for _, k := range keys {
		label, ok := strings.CutPrefix(k, allocation.LabelPrefix)
		if !ok {
			continue
		}
		if errs := validation.IsQualifiedName(label); len(errs) > 0 {
			return fmt.Errorf("aggregation key %s: %s is not a label key: %s", quote(k), quote(label), k8sError(errs))
		}
	}
	return nil
}

// window resolves ?window= against the server's clock. Its ends must be times ClickHouse's
// DateTime holds.
func (a *api) window(p params, def string) (report.Window, *httpError) {
	w, err := report.ParseWindow(p.str("window", def), a.opts.Now())
	if err != nil {
		return report.Window{}, badParam("window", err)
	}
	for _, t := range []time.Time{w.From, w.To} {
		if err := checkTime(t); err != nil {
			return report.Window{}, badParam("window", err)
		}
	}
	return w, nil
}

// checkTime rejects a time outside ClickHouse's DateTime: 1970-01-01 to 2106-02-07.
func checkTime(t time.Time) error {
	if u := t.Unix(); u < minClickHouseT || u > maxClickHouseT {
		return fmt.Errorf("%s is outside the times ClickHouse holds (%s to %s)", t.UTC().Format(time.RFC3339),
			time.Unix(minClickHouseT, 0).UTC().Format(time.DateOnly), time.Unix(maxClickHouseT, 0).UTC().Format(time.DateOnly))
	}
	return nil
}

// format reads ?format=, one of want (the first is the default).
func format(p params, want ...string) (string, *httpError) {
	f := p.str("format", want[0])
	if !slices.Contains(want, f) {
		quoted := want[0]
		if len(want) > 1 {
			quoted = strings.Join(want[:len(want)-1], ", ") + " or " + want[len(want)-1]
		}
		return "", badParam("format", fmt.Errorf("unknown format %s (want %s)", quote(f), quoted))
	}
	return f, nil
}

// contentTypes are the media types of the formats the API writes.
var contentTypes = map[string]string{
	report.FormatJSON: "application/json",
	report.FormatCSV:  "text/csv; charset=utf-8",
	report.FormatYAML: "application/yaml",
}
