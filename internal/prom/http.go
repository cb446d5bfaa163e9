package prom

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTP API endpoints.
const (
	pathQuery      = "/api/v1/query"
	pathQueryRange = "/api/v1/query_range"
)

// request is one read: a range query when step > 0, else an instant query at start.
type request struct {
	what  string // what is read, for errors and logs: "cpu usage"
	query string
	start time.Time
	step  time.Duration
	n     int // points of a range query
}

// rangeRequest evaluates query at start, start+step, ... (points times).
func rangeRequest(what, query string, start time.Time, step time.Duration, points int) request {
	return request{what: what, query: query, start: start, step: step, n: points}
}

// instantRequest evaluates query once, at t.
func instantRequest(what, query string, t time.Time) request {
	return request{what: what, query: query, start: t, n: 1}
}

func (r request) end() time.Time { return r.start.Add(time.Duration(r.n-1) * r.step) }

// window names the time the request covers, for errors and logs.
func (r request) window() string {
	if r.step == 0 {
		return r.start.UTC().Format("2006-01-02T15:04:05Z")
	}
	return windowString(r.start, r.end())
}

// fetch runs r, retrying transient failures, and returns its answer as a table. seriesHint
// sizes the table up front.
func fetch[L any](ctx context.Context, c *Client, r request, seriesHint int) (*table[L], error) {
	began := time.Now()
	var t *table[L]
	err := c.do(ctx, r, func(body io.Reader) (apiBody, error) {
		t = newTable[L](r.start.UnixMilli(), r.step.Milliseconds(), r.n, seriesHint)
		return decodeInto(body, t)
	})
	if err != nil {
		return nil, fmt.Errorf("query %s %s: %w", r.what, r.window(), err)
	}
	c.log.Debug("query done", "what", r.what, "window", r.window(), "series", t.rows(),
		"points", r.n, "duration", time.Since(began).Round(time.Millisecond))
	return t, nil
}

// do runs r until it succeeds, fails for good, or runs out of attempts. r's query is
// restricted by the Client's selector first.
func (c *Client) do(ctx context.Context, r request, decode func(io.Reader) (apiBody, error)) error {
	q, err := c.scope.rewrite(r.query)
	if err != nil {
		return err
	}
	r.query = q
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, r, decode)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if !retryable(err) {
			return err
		}
		if attempt >= c.opts.Retry.Attempts {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		wait := c.backoff(attempt, err)
		c.log.Warn("prometheus query failed, retrying", "what", r.what, "window", r.window(),
			"attempt", attempt, "retry_in", wait, "err", err)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
	}
}

// attempt sends r once, holding one of the Client's query slots meanwhile.
func (c *Client) attempt(ctx context.Context, r request, decode func(io.Reader) (apiBody, error)) error {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.slots }()

	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, c.url(r), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	// Asked for by hand: prometheus/common's transport does not negotiate compression, and
	// answers are large JSON that shrinks about tenfold.
	req.Header.Set("Accept-Encoding", "gzip")
	if c.user != nil {
		password, _ := c.user.Password()
		req.SetBasicAuth(c.user.Username(), password)
	}
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(ctx, actx, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // lets the connection be reused
		_ = resp.Body.Close()
	}()
	var in io.Reader = resp.Body
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return c.transportError(ctx, actx, err)
		}
		defer zr.Close()
		in = zr
	}
	if resp.StatusCode != http.StatusOK {
		return statusError(resp.StatusCode, resp.Header, in)
	}
	body, err := decode(in)
	if err != nil {
		return c.transportError(ctx, actx, err)
	}
	if body.status != "success" {
		return &apiError{StatusCode: resp.StatusCode, Type: body.errorType, Message: body.errorMsg}
	}
	infos, warnings := body.infos, body.warnings[:0:0]
	for _, w := range body.warnings {
		if strings.HasPrefix(w, promQLInfo) { // Prometheus 2.x sends its infos as warnings
			infos = append(infos, w)
		} else {
			warnings = append(warnings, w)
		}
	}
	for _, info := range infos {
		c.log.Debug("prometheus info", "what", r.what, "window", r.window(), "info", info)
	}
	if body.partial || len(warnings) > 0 {
		return &incompleteError{partial: body.partial, warnings: warnings}
	}
	return nil
}

// promQLInfo starts the informational annotations of Prometheus's engine ("PromQL info:
// metric might not be a counter, ..."): notes on the query, not a sign of missing data.
const promQLInfo = "PromQL info:"

// incompleteError is an answer the server itself says may lack data: partial (VictoriaMetrics'
// isPartial, when storage nodes did not answer) or with warnings (Prometheus, Thanos and
// Mimir report missing stores and dropped data as warnings). Such an answer is never used as
// if it were complete; asking again usually gets a whole one.
type incompleteError struct {
	partial  bool
	warnings []string
}

func (e *incompleteError) Error() string {
	var b strings.Builder
	b.WriteString("prometheus answered")
	if e.partial {
		b.WriteString(" a partial result")
		if len(e.warnings) > 0 {
			b.WriteString(" and")
		}
	}
	if len(e.warnings) > 0 {
		fmt.Fprintf(&b, " with warnings: %s", strings.Join(e.warnings, "; "))
	}
	return b.String()
}

// url is r's request URL.
func (c *Client) url(r request) string {
	q := url.Values{}
	q.Set("query", r.query)
	q.Set("timeout", promDuration(c.opts.Timeout))
	u := *c.base
	if r.step > 0 {
		u.Path += pathQueryRange
		q.Set("start", apiTime(r.start))
		q.Set("end", apiTime(r.end()))
		q.Set("step", strconv.FormatFloat(r.step.Seconds(), 'f', -1, 64))
	} else {
		u.Path += pathQuery
		q.Set("time", apiTime(r.start))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// transportError makes a failure to send or read a request readable: without the request
// URL (long, and its query is in the caller's message already), and saying when the
// attempt's own deadline, not the caller's, cut it short.
func (c *Client) transportError(ctx, attemptCtx context.Context, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if ctx.Err() == nil && errors.Is(attemptCtx.Err(), context.DeadlineExceeded) {
		return &timeoutError{after: c.opts.Timeout, err: err}
	}
	return err
}

// timeoutError is an attempt that got no complete answer within Options.Timeout.
type timeoutError struct {
	after time.Duration
	err   error
}

func (e *timeoutError) Error() string { return fmt.Sprintf("no answer within %s: %v", e.after, e.err) }
func (e *timeoutError) Unwrap() error { return e.err }

// apiError is an answer other than success: an HTTP error status, or an error in the body.
type apiError struct {
	StatusCode int
	Type       string // Prometheus's errorType: bad_data, execution, timeout, internal, unavailable, ...
	Message    string
	RetryAfter time.Duration // from a Retry-After header; 0 when none
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "prometheus answered %d", e.StatusCode)
	if e.Type != "" {
		fmt.Fprintf(&b, " (%s)", e.Type)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		b.WriteString(" (check the credentials in the prometheus url or http config)")
	}
	return b.String()
}

// temporary reports whether asking again later may succeed: rate limiting, server errors,
// an unavailable or timed-out Prometheus. Bad queries (400) and queries that fail when
// executed (422, e.g. too many samples) fail again.
func (e *apiError) temporary() bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// statusError reads an HTTP error response: Prometheus's JSON error when it sent one, else
// the start of whatever came (a proxy's page).
func statusError(code int, h http.Header, r io.Reader) error {
	raw, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	e := &apiError{StatusCode: code, RetryAfter: retryAfter(h.Get("Retry-After"))}
	var body struct {
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && (body.Error != "" || body.ErrorType != "") {
		e.Type, e.Message = body.ErrorType, body.Error
		return e
	}
	msg := strings.Join(strings.Fields(string(raw)), " ")
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	e.Message = msg
	return e
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// retryable reports whether err may pass when the query is sent again.
func retryable(err error) bool {
	var (
		ae  *apiError
		ie  *incompleteError
		fe  *formatError
		qe  *queryError
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
		cve *tls.CertificateVerificationError
		uae x509.UnknownAuthorityError
		he  x509.HostnameError
		cie x509.CertificateInvalidError
		rhe tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &ae):
		return ae.temporary()
	case errors.As(err, &ie):
		return true
	case errors.As(err, &fe), errors.As(err, &qe), errors.As(err, &se), errors.As(err, &ute):
		return false
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &he), errors.As(err, &cie), errors.As(err, &rhe):
		return false // a certificate that does not verify, or TLS spoken to a plain HTTP port
	case errors.Is(err, context.Canceled):
		return false
	}
	return true // network errors, resets, truncated bodies, attempt timeouts
}

// backoff is the wait before retry number attempt: doubling from MinBackoff, capped at
// MaxBackoff, half of it random so that clients do not retry in step; at least what the
// server asked for in Retry-After, within MaxBackoff.
func (c *Client) backoff(attempt int, err error) time.Duration {
	r := c.opts.Retry
	d := r.MinBackoff
	for i := 1; i < attempt && d < r.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.MaxBackoff)
	d = d/2 + rand.N(d/2+1)
	var ae *apiError
	if errors.As(err, &ae) && ae.RetryAfter > d {
		d = min(ae.RetryAfter, r.MaxBackoff)
	}
	return d
}
