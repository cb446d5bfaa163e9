package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tally-finops/tally/internal/recommend"
	"github.com/tally-finops/tally/internal/report"
	"github.com/tally-finops/tally/internal/rightsizing"
)

// policyParam is one policy number of `reporter rightsize` and `reporter qos`, by its flag
// name, and how it is read into a policy.
type policyParam struct {
	name string
	set  func(params, *rightsizing.Policy) *httpError
}

// policyParams are the policy numbers, as the CLI's flags.
var policyParams = []policyParam{
	number("cpu-percentile", func(p *rightsizing.Policy) *float64 { return &p.CPUPercentile }, 1),
	number("cpu-floor", func(p *rightsizing.Policy) *float64 { return &p.CPUFloorCores }, 1),
	number("memory-buffer", func(p *rightsizing.Policy) *float64 { return &p.MemoryBufferPercent }, 1),
	number("memory-floor-mib", func(p *rightsizing.Policy) *float64 { return &p.MemoryFloorBytes }, 1<<20),
	number("oom-factor", func(p *rightsizing.Policy) *float64 { return &p.OOMLimitFactor }, 1),
	number("oom-headroom-mib", func(p *rightsizing.Policy) *float64 { return &p.OOMHeadroomBytes }, 1<<20),
	number("throttle-ratio", func(p *rightsizing.Policy) *float64 { return &p.ThrottleFlagRatio }, 1),
	{"min-window", func(q params, p *rightsizing.Policy) (he *httpError) {
		p.MinWindow, he = q.duration("min-window", p.MinWindow)
		return he
	}},
	{"min-samples", func(q params, p *rightsizing.Policy) (he *httpError) {
		p.MinSamples, he = q.integer("min-samples", p.MinSamples)
		return he
	}},
	{"guaranteed-cpu", func(q params, p *rightsizing.Policy) (he *httpError) {
		p.GuaranteedCPU, he = q.boolean("guaranteed-cpu", p.GuaranteedCPU)
		return he
	}},
	number("hours-per-month", func(p *rightsizing.Policy) *float64 { return &p.HoursPerMonth }, 1),
}

// number is a policy number given in unit (MiB for the memory floors, stored in bytes).
func number(name string, field func(*rightsizing.Policy) *float64, unit float64) policyParam {
	return policyParam{name, func(q params, p *rightsizing.Policy) *httpError {
		v, he := q.float(name, *field(p)/unit)
		if he != nil {
			return he
		}
		*field(p) = v * unit
		return nil
	}}
}

// sizingRequest is a validated rightsizing, backtest or qos request; marshalled, it is the
// cache key.
type sizingRequest struct {
	Endpoint  string
	Req       recommend.Request
	Window    report.Window
	Format    string
	Top       int
	Backtest  bool
	KillOrder int
	At        time.Time
}

// sizingParams are the parameters rightsizing and qos share.
func sizingParams(extra ...string) []string {
	names := []string{"cluster", "window", "namespace", "format"}
	for _, pp := range policyParams {
		names = append(names, pp.name)
	}
	return append(names, extra...)
}

// sizingRequest checks the parameters rightsizing and qos share, as the CLI checks its
// flags: the policy numbers one by one (so an error names its parameter), then the whole
// request with recommend.Request.Validate.
func (a *api) sizingRequest(p params, formats ...string) (sizingRequest, *httpError) {
	cluster, he := a.cluster(p)
	if he != nil {
		return sizingRequest{}, he
	}
	window, he := a.window(p, "14d")
	if he != nil {
		return sizingRequest{}, he
	}
	f, he := format(p, formats...)
	if he != nil {
		return sizingRequest{}, he
	}
	policy := rightsizing.DefaultPolicy()
	for _, pp := range policyParams {
		alone := rightsizing.DefaultPolicy()
		if he := pp.set(p, &alone); he != nil {
			return sizingRequest{}, he
		}
		if err := alone.Validate(); err != nil {
			return sizingRequest{}, badParam(pp.name, err)
		}
		_ = pp.set(p, &policy)
	}
	namespaces, he := p.namespaces("namespace")
	if he != nil {
		return sizingRequest{}, he
	}
	req := recommend.Request{Cluster: cluster, From: window.From, To: window.To, Namespaces: namespaces, Policy: policy}
	if err := req.Validate(); err != nil {
		return sizingRequest{}, &httpError{status: http.StatusBadRequest, msg: oneLine(err.Error())}
	}
	return sizingRequest{Req: req, Window: window, Format: f}, nil
}

// rightsizing answers what `reporter rightsize` does; with backtest=true what
// `reporter rightsize --backtest` does. top=N keeps the first N rows (by savings).
func (a *api) rightsizing(w http.ResponseWriter, r *http.Request) *httpError {
	p, he := parseParams(r, sizingParams("top", "backtest")...)
	if he != nil {
		return he
	}
	backtest, he := p.boolean("backtest", false)
	if he != nil {
		return he
	}
	formats := []string{report.FormatJSON, report.FormatCSV, report.FormatYAML}
	if backtest {
		formats = formats[:2]
	}
	sr, he := a.sizingRequest(p, formats...)
	if he != nil {
		if backtest && he.param == "format" {
			he.msg += " (yaml patches are not written for a backtest)"
		}
		return he
	}
	if sr.Top, he = p.count("top", 0); he != nil {
		return he
	}
	sr.Endpoint, sr.Backtest = "rightsizing", backtest
	if backtest {
		return a.serveReport(w, r, sr, sr.Format, func(ctx context.Context) ([]byte, error) {
			earlier := report.Window{From: sr.Window.From.Add(-sr.Window.To.Sub(sr.Window.From)), To: sr.Window.From}
			req := sr.Req
			req.From, req.To = earlier.From, earlier.To
			bs, currency, err := recommend.Backtest(ctx, a.store, req, sr.Window.To)
			if err != nil {
				return nil, err
			}
			var b bytes.Buffer
			err = report.Backtest{Cluster: sr.Req.Cluster, Earlier: earlier, Later: sr.Window, Currency: currency}.Render(&b, sr.Format, first(bs, sr.Top))
			return b.Bytes(), renderErr(err)
		})
	}
	return a.serveReport(w, r, sr, sr.Format, func(ctx context.Context) ([]byte, error) {
		recs, currency, err := recommend.Rightsizing(ctx, a.store, sr.Req)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		err = report.Rightsizing{Cluster: sr.Req.Cluster, Window: sr.Window, Currency: currency}.Render(&b, sr.Format, first(recs, sr.Top))
		return b.Bytes(), renderErr(err)
	})
}

// qos answers what `reporter qos` does.
func (a *api) qos(w http.ResponseWriter, r *http.Request) *httpError {
	p, he := parseParams(r, sizingParams("kill-order", "at")...)
	if he != nil {
		return he
	}
	sr, he := a.sizingRequest(p, report.FormatJSON, report.FormatCSV, report.FormatYAML)
	if he != nil {
		return he
	}
	if sr.KillOrder, he = p.count("kill-order", 5); he != nil {
		return he
	}
	sr.Endpoint = "qos"
	// Without ?at= the containers running now are described; the cache key then holds no
	// time, so a cached answer is at most Options.CacheTTL old.
	if s := p.str("at", ""); s != "" {
		at, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return badParam("at", fmt.Errorf("%s is not an RFC 3339 time such as 2026-03-16T06:00:00Z", quote(s)))
		}
		if err := checkTime(at); err != nil {
			return badParam("at", err)
		}
		sr.At = at.UTC()
	}
	return a.serveReport(w, r, sr, sr.Format, func(ctx context.Context) ([]byte, error) {
		at := sr.At
		if at.IsZero() {
			at = a.opts.Now()
		}
		rep, err := recommend.QoS(ctx, a.store, sr.Req, recommend.QoSOptions{GuaranteedCPU: sr.Req.Policy.GuaranteedCPU, KillOrderTop: sr.KillOrder, At: at})
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		err = report.QoS{Cluster: sr.Req.Cluster, Window: sr.Window}.Render(&b, sr.Format, rep.Findings, rep.Nodes)
		return b.Bytes(), renderErr(err)
	})
}

// first returns the first n of s, or all of s when n is 0.
func first[T any](s []T, n int) []T {
	if n > 0 && n < len(s) {
		return s[:n]
	}
	return s
}

func renderErr(err error) error {
	if err != nil {
		return fmt.Errorf("%w: %w", errRender, err)
	}
	return nil
}
