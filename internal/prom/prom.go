// Package prom reads container usage and, for intervals whose pods may be gone, container
// inventory from Prometheus: cAdvisor series (CPU, working set, CFS throttling) and
// kube-state-metrics series (requests, limits, owners, phase, restarts, OOM kills). It is the
// only package that talks to Prometheus.
//
// Prometheus is protected: every read is a range query over a time chunk covering all
// containers at once, never a query per pod or container, so the number of queries depends
// on the length of the window alone. Chunks are bounded in time (Options.Chunk), in points
// per series (Prometheus's limit of 11,000) and in series × points (Options.MaxSamples,
// using one cheap count query to estimate the series); at most Options.Concurrency queries
// are in flight per Client, and transient failures are retried with exponential backoff.
//
// Answers are decoded as a stream, series by series, into flat per-series arrays: the JSON
// of a whole answer is never held in memory. An answer that is partial (some of the store's
// shards or replicas missing) or that carries warnings is not used: it is retried like a
// transient failure, and an error when that does not help.
//
// The connection is configured as Prometheus's own http_config (Options.HTTPConfig), and a
// selector (Options.Selector) can restrict every query to some of a shared store's series.
package prom

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultStep        = time.Minute
	DefaultChunk       = time.Hour
	DefaultMaxSamples  = 5_000_000
	DefaultConcurrency = 2
	DefaultTimeout     = 2 * time.Minute
	DefaultAttempts    = 4
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = 30 * time.Second
	// DefaultMaxGap takes scrape intervals up to 5 minutes, with a minute to spare for
	// jitter and missed scrapes.
	DefaultMaxGap = 6 * time.Minute
)

// lookbackDelta is how far back Prometheus looks for a series' latest sample when it
// evaluates a plain selector (its --query.lookback-delta, 5m unless changed).
const lookbackDelta = 5 * time.Minute

// Options configure a Client. Zero values take the defaults.
type Options struct {
	URL string // base URL of Prometheus, e.g. http://prometheus:9090 (user:password@ for basic auth)
	// HTTPConfig sets credentials, TLS, a proxy and extra headers (such as Mimir's
	// X-Scope-OrgID) for the connection; nil: plain HTTP(S) with the system's CAs.
	HTTPConfig *HTTPConfig
	// Selector is label matchers, such as `cluster="prod",env!="dev"` (braces optional),
	// added to every series selector of every query: on a store that holds several
	// clusters, tally reads only those series. Empty: none.
	Selector string

	Step        time.Duration // resolution of usage samples; default 1m
	Chunk       time.Duration // longest time range one query covers; default 1h
	MaxSamples  int           // most series × points one query may return; default 5,000,000
	Concurrency int           // queries in flight per Client; default 2
	Timeout     time.Duration // per query attempt, also sent to Prometheus; default 2m
	Retry       Retry
	// MaxGap is the longest time between two samples of a container that still means it ran
	// in between (see Usage); it must exceed the scrape interval. Default 6m.
	MaxGap time.Duration
}

// Retry bounds the retries of a query that failed for a reason that may pass: a network
// error, a timeout, HTTP 429 or 5xx. A query Prometheus rejects (HTTP 400, 422) is not
// retried. Waits double from MinBackoff up to MaxBackoff, with jitter, and are at least what
// a Retry-After header asks (up to MaxBackoff).
type Retry struct {
	Attempts   int           // tries per query, the first included; default 4; 1 disables retries
	MinBackoff time.Duration // wait before the first retry; default 1s
	MaxBackoff time.Duration // longest wait; default 30s
}

func (o Options) withDefaults() (Options, error) {
	if o.Step < 0 || o.Chunk < 0 || o.MaxSamples < 0 || o.Concurrency < 0 || o.Timeout < 0 ||
		o.Retry.Attempts < 0 || o.Retry.MinBackoff < 0 || o.Retry.MaxBackoff < 0 || o.MaxGap < 0 {
		return o, errors.New("prometheus options must not be negative")
	}
	if o.Step == 0 {
		o.Step = DefaultStep
	}
	if o.Chunk == 0 {
		o.Chunk = DefaultChunk
	}
	if o.MaxSamples == 0 {
		o.MaxSamples = DefaultMaxSamples
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxGap == 0 {
		o.MaxGap = DefaultMaxGap
	}
	if o.Retry.Attempts == 0 {
		o.Retry.Attempts = DefaultAttempts
	}
	if o.Retry.MinBackoff == 0 {
		o.Retry.MinBackoff = DefaultMinBackoff
	}
	if o.Retry.MaxBackoff == 0 {
		o.Retry.MaxBackoff = DefaultMaxBackoff
	}
	switch {
	case o.Step < time.Second || o.Step%time.Millisecond != 0:
		return o, fmt.Errorf("prometheus step %s: must be at least 1s and whole milliseconds", o.Step)
	case o.Chunk < o.Step:
		return o, fmt.Errorf("prometheus chunk %s: must be at least the step (%s)", o.Chunk, o.Step)
	case o.Timeout < time.Millisecond:
		return o, fmt.Errorf("prometheus timeout %s: must be at least 1ms", o.Timeout)
	}
	o.Retry.MaxBackoff = max(o.Retry.MaxBackoff, o.Retry.MinBackoff)
	return o, nil
}

// Client reads from one Prometheus server. It is safe for concurrent use.
type Client struct {
	opts     Options
	base     *url.URL // scheme, host and path prefix; no user info
	user     *url.Userinfo
	http     *http.Client
	scope    *scope // nil: queries are sent as written
	log      *slog.Logger
	slots    chan struct{} // one per query in flight
	requests atomic.Int64
}

// New returns a Client for the Prometheus at opts.URL. It checks the options but does not
// connect.
func New(opts Options, logger *slog.Logger) (*Client, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	base, err := parseBaseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	sc, err := parseSelector(opts.Selector)
	if err != nil {
		return nil, err
	}
	httpClient, err := newHTTPClient(opts.HTTPConfig, base.User != nil)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		opts:  opts,
		base:  base,
		user:  base.User,
		http:  httpClient,
		scope: sc,
		log:   logger.With("component", "prom"),
		slots: make(chan struct{}, opts.Concurrency),
	}
	c.base.User = nil
	if sc != nil {
		c.log.Info("every query restricted by a selector", "selector", sc.String())
	}
	return c, nil
}

// CheckSelector reports whether sel is a valid Options.Selector.
func CheckSelector(sel string) error {
	_, err := parseSelector(sel)
	return err
}

// parseBaseURL checks a Prometheus base URL. Its errors never repeat the URL: it may hold a
// password.
func parseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("prometheus url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("prometheus url: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("prometheus url: scheme %q, want http or https", u.Scheme)
	case u.Host == "":
		return nil, errors.New("prometheus url: no host")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("prometheus url: must not have a query or fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// QueryCount is the number of HTTP requests sent to Prometheus so far, retries included.
func (c *Client) QueryCount() int64 { return c.requests.Load() }
