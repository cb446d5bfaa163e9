package prom

import (
	"context"
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

// do runs r until it succeeds, fails for good, or runs out of attempts.
func (c *Client) do(ctx context.Context, r request, decode func(io.Reader) (apiBody, error)) error {
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
	if resp.StatusCode != http.StatusOK {
		return statusError(resp)
	}
	body, err := decode(resp.Body)
	if err != nil {
		return c.transportError(ctx, actx, err)
	}
	if body.status != "success" {
		return &apiError{StatusCode: resp.StatusCode, Type: body.errorType, Message: body.errorMsg}
	}
	for _, w := range body.warnings {
		c.log.Warn("prometheus warning", "what", r.what, "window", r.window(), "warning", w)
	}
	return nil
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
func statusError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &apiError{StatusCode: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
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
		fe  *formatError
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &ae):
		return ae.temporary()
	case errors.As(err, &fe), errors.As(err, &se), errors.As(err, &ute):
		return false
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
