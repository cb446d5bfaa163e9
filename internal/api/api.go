// Package api is tally's HTTP surface, served by `reporter serve`: the cost, rightsizing and
// request = limit reports of the CLI as JSON, CSV or YAML, the weekly CSV reports written by
// a schedule, and the server's own health and metrics. It is the only package that imports
// gorilla/mux.
//
// Endpoints (GET and HEAD; any other method is 405):
//
//	/api/v1/costs         cluster, window (24h), by (namespace), idle, share-namespaces,
//	                      share-monthly, share, format json|csv — as `reporter costs`
//	/api/v1/rightsizing   cluster, window (14d), namespace, the policy numbers of
//	                      `reporter rightsize` (cpu-percentile, memory-buffer, guaranteed-cpu, ...),
//	                      top (the first N rows by savings; a backtest's totals then cover
//	                      those N), backtest, format json|csv|yaml (yaml only without backtest)
//	/api/v1/qos           cluster, window (14d), namespace, the policy numbers, kill-order, at,
//	                      format json|csv|yaml — as `reporter qos`
//	/api/v1/reports       the weekly report files: [{"week", "name", "size", "modified", "url"}]
//	/api/v1/reports/{week}/{name}   one of them, e.g. /api/v1/reports/2026-W47/summary.csv
//	/healthz /readyz /metrics
//
// The bodies are the CLI's renderings, byte for byte. An unknown or repeated parameter or a
// bad value is a 400 whose JSON body names the parameter: {"error": ..., "parameter": ...}.
// Every value is checked against what it may be (a cluster or namespace name, a label key,
// an enumeration, a finite number in range; params.go), and its length bounded; a path or
// query string over its limit is a 414, a request with a body a 413 (limits.go).
// A ClickHouse failure is a 502 or 503 whose message names no DSN, host or password (the
// details go to the server's log under the id the message gives). No parameter carries SQL.
//
// With Options.Token every /api/ path needs `Authorization: Bearer <token>`; /healthz,
// /readyz and /metrics stay open.
//
// Report bodies are cached for Options.CacheTTL under their normalised parameters (the
// window resolved to its hours), and identical requests in flight share one computation,
// so a burst of the same report costs ClickHouse one query. At most
// Options.MaxConcurrentQueries computations run at once; the others queue within their
// Options.QueryTimeout.
package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tally-finops/tally/internal/store"
)

// Options configure the API.
type Options struct {
	// DefaultCluster answers requests without ?cluster=; "" makes the parameter required.
	DefaultCluster string
	// ReportsDir holds the weekly reports, one directory per ISO week (2026-W47/*.csv).
	ReportsDir string
	// Token, when set, is the bearer token every /api/ request must present.
	Token string
	// QueryTimeout bounds each request's store work, queueing included. Default 30s.
	QueryTimeout time.Duration
	// ReadyTimeout bounds /readyz's ping of ClickHouse. Default 2s.
	ReadyTimeout time.Duration
	// CacheTTL is how long a report body is reused for the same normalised request; 0 keeps
	// nothing after it is sent (identical requests in flight still share one computation).
	CacheTTL time.Duration
	// MaxConcurrentQueries is how many report computations may run at once. Default 4.
	MaxConcurrentQueries int
	// Now is the clock windows such as "7d" are relative to. Default time.Now.
	Now func() time.Time
}

// Deps are what the API reads from.
type Deps struct {
	Store *store.Store
	// Gatherer serves /metrics; nil leaves /metrics out.
	Gatherer prometheus.Gatherer
}

// Route templates, also the "route" label of the request metrics.
const (
	routeCosts       = "/api/v1/costs"
	routeRightsizing = "/api/v1/rightsizing"
	routeQoS         = "/api/v1/qos"
	routeReports     = "/api/v1/reports"
	routeReport      = "/api/v1/reports/{week:[0-9]{4}-W[0-9]{2}}/{name}"
	routeHealthz     = "/healthz"
	routeReadyz      = "/readyz"
	routeMetrics     = "/metrics"
	routeUnmatched   = "unmatched"
)

type api struct {
	opts    Options
	store   *store.Store
	log     *slog.Logger
	cache   *cache
	limit   chan struct{}
	metrics *metrics
}

// New builds the API's handler. Its metrics are registered on reg.
func New(opts Options, deps Deps, logger *slog.Logger, reg prometheus.Registerer) (http.Handler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.QueryTimeout < 0 || opts.ReadyTimeout < 0 || opts.CacheTTL < 0 || opts.MaxConcurrentQueries < 0 {
		return nil, errors.New("api: timeouts, cache TTL and query concurrency must not be negative")
	}
	if opts.DefaultCluster != "" {
		if err := CheckClusterName(opts.DefaultCluster); err != nil {
			return nil, fmt.Errorf("api: default cluster: %w", err)
		}
	}
	if opts.QueryTimeout == 0 {
		opts.QueryTimeout = 30 * time.Second
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 2 * time.Second
	}
	if opts.MaxConcurrentQueries == 0 {
		opts.MaxConcurrentQueries = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	a := &api{
		opts:    opts,
		store:   deps.Store,
		log:     logger.With("component", "api"),
		cache:   newCache(opts.CacheTTL, time.Now),
		limit:   make(chan struct{}, opts.MaxConcurrentQueries),
		metrics: m,
	}

	r := mux.NewRouter()
	// Paths are matched as sent: no cleaning, so "/api/v1/reports/../x" matches nothing
	// rather than being redirected.
	r.SkipClean(true)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, &httpError{status: http.StatusNotFound, msg: "not found"})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allowedMethods)
		writeError(w, methodNotAllowed(r))
	})
	r.Use(recordRoute)
	get := func(path string, h func(http.ResponseWriter, *http.Request) *httpError) {
		r.Handle(path, errorHandler(h)).Methods(http.MethodGet, http.MethodHead)
	}
	get(routeCosts, a.costs)
	get(routeRightsizing, a.rightsizing)
	get(routeQoS, a.qos)
	get(routeReports, a.reports)
	get(routeReport, a.report)
	r.HandleFunc(routeHealthz, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	}).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(routeReadyz, a.readyz).Methods(http.MethodGet, http.MethodHead)
	if deps.Gatherer != nil {
		r.Handle(routeMetrics, promhttp.HandlerFor(deps.Gatherer, promhttp.HandlerOpts{})).Methods(http.MethodGet, http.MethodHead)
	}
	return a.instrument(bound(a.authenticate(r))), nil
}

// readyz answers 200 when ClickHouse answers within Options.ReadyTimeout.
func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if a.store == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("no store\n"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.ReadyTimeout)
	defer cancel()
	if _, err := a.store.ServerVersion(ctx); err != nil {
		a.log.Warn("readiness check: clickhouse does not answer", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("clickhouse unavailable\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// authenticate requires the bearer token on every /api/ path when one is configured.
func (a *api) authenticate(next http.Handler) http.Handler {
	if a.opts.Token == "" {
		return next
	}
	want := sha256.Sum256([]byte(a.opts.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		scheme, token, _ := strings.Cut(auth, " ")
		// Hashing both sides makes the comparison's time independent of the lengths too.
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			challenge := `Bearer realm="tally"`
			if strings.EqualFold(scheme, "Bearer") { // a token was presented (RFC 6750, 3.1)
				challenge += `, error="invalid_token"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
			writeError(w, &httpError{status: http.StatusUnauthorized, msg: "missing or invalid bearer token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// httpError is a failed request: its status and the message the client sees.
type httpError struct {
	status int
	msg    string
	param  string // the query parameter at fault, if any
}

func (e *httpError) Error() string { return e.msg }

// badParam is a 400 naming the parameter, with the CLI's wording for the flag's error. A
// value the error quotes is cut to maxQuoteBytes, whichever package wrote the message.
func badParam(name string, err error) *httpError {
	return &httpError{status: http.StatusBadRequest, msg: name + ": " + shortenQuoted(oneLine(err.Error())), param: name}
}

func writeError(w http.ResponseWriter, e *httpError) {
	body, _ := json.Marshal(struct {
		Error     string `json:"error"`
		Parameter string `json:"parameter,omitempty"`
	}{e.msg, e.param})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.status)
	_, _ = w.Write(append(body, '\n'))
}

func errorHandler(h func(http.ResponseWriter, *http.Request) *httpError) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := h(w, r); e != nil {
			writeError(w, e)
		}
	})
}

// storeFailure turns an error of the store work into what the client sees. The client
// learns the kind of failure and an id; the server's log has the error under that id.
func (a *api) storeFailure(r *http.Request, err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	if r.Context().Err() != nil { // the client has gone; nobody reads this
		a.log.Debug("request cancelled", "path", r.URL.Path, "err", err)
		return &httpError{status: http.StatusServiceUnavailable, msg: "request cancelled"}
	}
	id := errorID()
	e := &httpError{status: http.StatusBadGateway}
	switch {
	case errors.Is(err, errBusy):
		e.status, e.msg = http.StatusServiceUnavailable, fmt.Sprintf("too many reports being computed; no query slot came free within %s, try again", a.opts.QueryTimeout)
	case errors.Is(err, errRender):
		e.status, e.msg = http.StatusInternalServerError, "rendering the report failed (error id "+id+")"
	case errors.Is(err, errNoStore):
		e.status, e.msg = http.StatusServiceUnavailable, "no ClickHouse store configured"
	case errors.Is(err, context.DeadlineExceeded):
		e.status, e.msg = http.StatusServiceUnavailable, fmt.Sprintf("ClickHouse did not answer within %s (error id %s)", a.opts.QueryTimeout, id)
	case unavailable(err):
		e.status, e.msg = http.StatusServiceUnavailable, "ClickHouse is unavailable (error id "+id+")"
	default:
		e.msg = "ClickHouse query failed (error id " + id + ")"
	}
	a.log.Error("report failed", "path", r.URL.Path, "status", e.status, "error_id", id, "err", err)
	return e
}

func errorID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// routeKey is the context key of the matched route's template.
type routeKey struct{}

// recordRoute, a mux middleware, tells instrument which route matched.
func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := r.Context().Value(routeKey{}).(*string); ok {
			if t, err := mux.CurrentRoute(r).GetPathTemplate(); err == nil {
				*p = t
			}
		}
		next.ServeHTTP(w, r)
	})
}

// instrument counts and times every request by route and status code.
func (a *api) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := routeUnmatched
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		rec.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeKey{}, &route)))
		took := time.Since(start)
		code := strconv.Itoa(rec.status)
		a.metrics.requests.WithLabelValues(route, code).Inc()
		a.metrics.duration.WithLabelValues(route, code).Observe(took.Seconds())
		a.log.Debug("request", "method", r.Method, "route", route, "status", rec.status, "took", took)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	cache    *prometheus.CounterVec
	inFlight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_api_requests_total",
			Help: "HTTP requests served, by route template and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tally_api_request_duration_seconds",
			Help:    "How long HTTP requests took, by route template and status code.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"route", "code"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_api_report_cache_total",
			Help: "Report requests by how they were answered: hit (a cached body), shared (a computation in flight) or miss (computed).",
		}, []string{"result"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tally_api_report_computations_in_flight",
			Help: "Report computations running against ClickHouse.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.cache, m.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("api: register metrics: %w", err)
		}
	}
	return m, nil
}

// oneLine keeps a message on one line: joined errors and driver messages may hold newlines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
