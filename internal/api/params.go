package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tally-finops/tally/internal/report"
)

// params are a request's query parameters, each known to the endpoint and given once.
type params struct {
	values url.Values
}

// parseParams reads the query string of r, rejecting a parameter that is not in known or
// given twice. Errors name the parameter.
func parseParams(r *http.Request, known ...string) (params, *httpError) {
	values, err := url.ParseQuery(r.URL.RawQuery)
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
			return params{}, &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("unknown parameter %q", name), param: name}
		}
		if len(values[name]) > 1 {
			return params{}, &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("parameter %q is given %d times", name, len(values[name])), param: name}
		}
	}
	return params{values: values}, nil
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
		return 0, badParam(name, fmt.Errorf("%q is not a number", s))
	}
	return v, nil
}

// count reads a whole number ≥ 0.
func (p params) count(name string, def int) (int, *httpError) {
	if !p.has(name) {
		return def, nil
	}
	s := p.str(name, "")
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return 0, badParam(name, fmt.Errorf("%q is not a whole number ≥ 0", s))
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
		return 0, badParam(name, fmt.Errorf("%q is not a whole number", s))
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
		return false, badParam(name, fmt.Errorf("%q is not true or false", s))
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
		return 0, badParam(name, fmt.Errorf("%q is not a duration such as 24h or 90m", s))
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
	return c, nil
}

// window resolves ?window= against the server's clock.
func (a *api) window(p params, def string) (report.Window, *httpError) {
	w, err := report.ParseWindow(p.str("window", def), a.opts.Now())
	if err != nil {
		return report.Window{}, badParam("window", err)
	}
	return w, nil
}

// format reads ?format=, one of want (the first is the default).
func format(p params, want ...string) (string, *httpError) {
	f := p.str("format", want[0])
	if !slices.Contains(want, f) {
		quoted := want[0]
		if len(want) > 1 {
			quoted = strings.Join(want[:len(want)-1], ", ") + " or " + want[len(want)-1]
		}
		return "", badParam("format", fmt.Errorf("unknown format %q (want %s)", f, quoted))
	}
	return f, nil
}

// contentTypes are the media types of the formats the API writes.
var contentTypes = map[string]string{
	report.FormatJSON: "application/json",
	report.FormatCSV:  "text/csv; charset=utf-8",
	report.FormatYAML: "application/yaml",
}
