package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tally-finops/tally/internal/allocation"
	"github.com/tally-finops/tally/internal/report"
	"github.com/tally-finops/tally/internal/store"
)

// costsRequest is a validated /api/v1/costs request; marshalled, it is the cache key.
type costsRequest struct {
	Endpoint string
	Cluster  string
	Window   report.Window
	Opts     allocation.Options
	Format   string
}

// costs answers what `reporter costs` does, with the same parameters as its flags.
func (a *api) costs(w http.ResponseWriter, r *http.Request) *httpError {
	p, he := parseParams(r, "cluster", "window", "by", "idle", "share-namespaces", "share-monthly", "share", "format")
	if he != nil {
		return he
	}
	req, he := a.costsRequest(p)
	if he != nil {
		return he
	}
	return a.serveReport(w, r, req, req.Format, func(ctx context.Context) ([]byte, error) {
		rows, err := a.store.CostRows(ctx, req.Cluster, req.Window.From, req.Window.To)
		if err != nil {
			return nil, err
		}
		opts := req.Opts
		if allocation.NeedsNamespaceLabels(opts.By) {
			// A pod without the label takes its namespace's, as the namespace is at the window's end.
			w := store.Window{Cluster: req.Cluster, From: req.Window.From, To: req.Window.To}
			if opts.Namespaces, err = a.store.NamespaceLabels(ctx, w); err != nil {
				return nil, err
			}
		}
		totals, err := allocation.Aggregate(rows, opts)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errRender, err)
		}
		var b bytes.Buffer
		if err := (report.Costs{Keys: req.Opts.By}).Render(&b, req.Format, totals); err != nil {
			return nil, fmt.Errorf("%w: %w", errRender, err)
		}
		return b.Bytes(), nil
	})
}

// costsRequest checks every parameter as `reporter costs` checks its flags, each error
// naming its parameter.
func (a *api) costsRequest(p params) (costsRequest, *httpError) {
	cluster, he := a.cluster(p)
	if he != nil {
		return costsRequest{}, he
	}
	window, he := a.window(p, "24h")
	if he != nil {
		return costsRequest{}, he
	}
	keys, err := allocation.ParseKeys(p.str("by", allocation.KeyNamespace))
	if err == nil {
		err = checkLabelKeys(keys)
	}
	if err != nil {
		return costsRequest{}, badParam("by", err)
	}
	f, he := format(p, report.FormatJSON, report.FormatCSV)
	if he != nil {
		return costsRequest{}, he
	}
	monthly, he := p.float("share-monthly", 0)
	if he != nil {
		return costsRequest{}, he
	}
	opts := allocation.Options{By: keys, WindowHours: window.Hours()}
	// Each option is checked on its own first, so that the error names its parameter.
	for _, c := range []struct {
		name string
		set  func(*allocation.Options)
	}{
		{"idle", func(o *allocation.Options) {
			o.Idle = allocation.IdleMode(p.str("idle", string(allocation.IdleSeparate)))
		}},
		{"share", func(o *allocation.Options) {
			o.Share = allocation.ShareMode(p.str("share", string(allocation.ShareWeighted)))
		}},
		{"share-monthly", func(o *allocation.Options) { o.ShareMonthly = monthly }},
		{"share-namespaces", func(o *allocation.Options) {
			if s := p.str("share-namespaces", ""); s != "" {
				for _, ns := range strings.Split(s, ",") {
					o.ShareNamespaces = append(o.ShareNamespaces, strings.TrimSpace(ns))
				}
			}
		}},
	} {
		alone := allocation.Options{By: keys, WindowHours: window.Hours()}
		c.set(&alone)
		if err := alone.Validate(); err != nil {
			return costsRequest{}, badParam(c.name, err)
		}
		c.set(&opts)
	}
	if err := checkNamespaces(opts.ShareNamespaces); err != nil {
		return costsRequest{}, badParam("share-namespaces", err)
	}
	if err := opts.Validate(); err != nil {
		return costsRequest{}, &httpError{status: http.StatusBadRequest, msg: oneLine(err.Error())}
	}
	return costsRequest{Endpoint: "costs", Cluster: cluster, Window: window, Opts: opts, Format: f}, nil
}

// serveReport answers with the body compute renders, from the cache when it holds the
// request's key. compute runs with a query slot and a deadline of Options.QueryTimeout.
func (a *api) serveReport(w http.ResponseWriter, r *http.Request, key any, format string, compute func(context.Context) ([]byte, error)) *httpError {
	if a.store == nil {
		return a.storeFailure(r, errNoStore)
	}
	k, err := json.Marshal(key)
	if err != nil {
		return a.storeFailure(r, fmt.Errorf("%w: cache key: %w", errRender, err))
	}
	start := func(ctx context.Context) (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, a.opts.QueryTimeout)
	}
	body, result, err := a.cache.get(r.Context(), string(k), start, func(ctx context.Context) ([]byte, error) {
		release, err := a.acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
		return compute(ctx)
	})
	a.metrics.cache.WithLabelValues(result).Inc()
	if err != nil {
		return a.storeFailure(r, err)
	}
	w.Header().Set("Content-Type", contentTypes[format])
	w.Header().Set("X-Tally-Cache", result)
	_, _ = w.Write(body)
	return nil
}
