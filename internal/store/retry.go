package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// RetryPolicy says how often and how patiently a transient failure is retried. The
// context's deadline always wins.
type RetryPolicy struct {
	Attempts int           // total tries; default 5
	Initial  time.Duration // first backoff; default 200ms
	Max      time.Duration // backoff cap; default 5s
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	if p.Initial <= 0 {
		p.Initial = 200 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 5 * time.Second
	}
	return p
}

// backoff is the wait before try n+1 (n ≥ 1): exponential with ±20% jitter, capped.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.Initial << (n - 1)
	if d > p.Max || d <= 0 {
		d = p.Max
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// retry runs fn until it succeeds, fails permanently, runs out of attempts or ctx ends.
func (s *Store) retry(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	var err error
	for n := 1; ; n++ {
		if err = fn(ctx); err == nil {
			return nil
		}
		if !transient(err) || n >= s.opts.Retry.Attempts || ctx.Err() != nil {
			if n > 1 {
				return fmt.Errorf("%w (gave up after %d attempts)", err, n)
			}
			return err
		}
		wait := s.opts.Retry.backoff(n)
		s.log.Warn("clickhouse call failed, retrying", "op", op, "attempt", n, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up after %d attempts: %w)", err, n, ctx.Err())
		case <-t.C:
		}
	}
}

// transientCodes are ClickHouse error codes worth retrying: overload, network trouble,
// replicas catching up.
var transientCodes = map[int32]bool{
	3:   true, // UNEXPECTED_END_OF_FILE
	159: true, // TIMEOUT_EXCEEDED
	202: true, // TOO_MANY_SIMULTANEOUS_QUERIES
	203: true, // NO_FREE_CONNECTION
	209: true, // SOCKET_TIMEOUT
	210: true, // NETWORK_ERROR
	241: true, // MEMORY_LIMIT_EXCEEDED
	242: true, // TABLE_IS_READ_ONLY
	252: true, // TOO_MANY_PARTS
	319: true, // UNKNOWN_STATUS_OF_INSERT
	425: true, // SYSTEM_ERROR
	999: true, // KEEPER_EXCEPTION
}

// permanent wraps an error that must not be retried, whatever it wraps.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// transient reports whether err may go away when the call is repeated.
func transient(err error) bool {
	var p permanent
	if errors.As(err, &p) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		return transientCodes[ex.Code]
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, clickhouse.ErrAcquireConnTimeout)
}

// Authentication and database errors of old (18.x) and new servers.
const (
	codeUnknownDatabase      = 81
	codeUnknownUser          = 192
	codeWrongPassword        = 193
	codeRequiredPassword     = 194
	codeAuthenticationFailed = 516
)

// explain turns the driver's errors that users meet most often into a sentence that says
// what to check.
func explain(err error) error {
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		switch ex.Code {
		case codeUnknownUser, codeWrongPassword, codeRequiredPassword, codeAuthenticationFailed:
			return fmt.Errorf("authentication failed: check the user and password of the DSN (server said code %d)", ex.Code)
		case codeUnknownDatabase:
			return fmt.Errorf("database does not exist (create it, or let tally create it): %w", err)
		}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("server refused the connection: is ClickHouse running and listening on its native port (default 9000)? %w", err)
	}
	return err
}
