package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/tally-finops/tally/internal/stacktest"
)

func TestOpenRejectsBadDSNWithoutLeakingThePassword(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	tests := []struct {
		name, dsn, want string
	}{
		{"empty", "", "dsn is empty"},
		{"http protocol", "http://u:" + secret + "@127.0.0.1:8123/db", "native protocol"},
		{"not a url", "clickhouse://u:" + secret + "@[::1/db", "is not a URL"},
		{"bad database name", "clickhouse://u:" + secret + "@127.0.0.1:9000/db;DROP", "letters, digits and underscores"},
		{"bad option", "clickhouse://u:" + secret + "@127.0.0.1:9000/db?dial_timeout=soon", "clickhouse dsn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), Options{DSN: tc.dsn}, nil)
			if err == nil {
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the password: %q", err)
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"clickhouse://tally:hunter2@ch:9000/tally":               "clickhouse://tally:xxxxx@ch:9000/tally",
		"clickhouse://ch:9000/tally?username=u&password=hunter2": "clickhouse://ch:9000/tally?password=xxxxx&username=u",
		"clickhouse://default@127.0.0.1:19000/default":           "clickhouse://default@127.0.0.1:19000/default",
	} {
		if got := redactDSN(in); got != want {
			t.Errorf("redactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTransient(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("read: %w", io.EOF), true},
		{&clickhouse.Exception{Code: 252, Message: "Too many parts"}, true},
		{&clickhouse.Exception{Code: 202, Message: "Too many simultaneous queries"}, true},
		{&clickhouse.Exception{Code: 193, Message: "Wrong password"}, false},
		{&clickhouse.Exception{Code: 62, Message: "Syntax error"}, false},
		{context.DeadlineExceeded, false},
		{errors.New("something else"), false},
	}
	for _, tc := range tests {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	p := RetryPolicy{Initial: 100 * time.Millisecond, Max: time.Second}.withDefaults()
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second, 40: time.Second} {
		got := p.backoff(n)
		if got < want*8/10 || got > want*12/10 {
			t.Errorf("backoff(%d) = %v, want %v ± 20%%", n, got, want)
		}
	}
}

// The real server, a wrong password: a clear error at once (no retries), without the password.
func TestOpenWrongPasswordFailsFastAndClearly(t *testing.T) {
	dsn := stacktest.ClickHouseDSN(t)
	user, password := stacktest.ClickHousePasswordUser(t)
	wrong := password + "-not"
	dsn = strings.Replace(dsn, "://default@", "://"+user+":"+wrong+"@", 1)
	start := time.Now()
	_, err := Open(context.Background(), Options{DSN: dsn, ConnectTimeout: 10 * time.Second}, nil)
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("Open with a wrong password succeeded")
	}
	if !strings.Contains(err.Error(), "authentication failed") || !strings.Contains(err.Error(), `user "`+user+`"`) {
		t.Errorf("error %q should say authentication failed and name the user", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("error leaks the password: %q", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("a wrong password took %v to report; it must not be retried", elapsed)
	}

	// And the right password works, so the failure above was the password's.
	ok := strings.Replace(dsn, wrong, password, 1)
	s, err := Open(context.Background(), Options{DSN: ok}, nil)
	if err != nil {
		t.Fatalf("Open with the right password: %v", err)
	}
	_ = s.Close()
}

// An unreachable host: retried, then a clear error within the connect deadline, never a hang.
func TestOpenUnreachableHostFailsWithinDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now

	// A listener that accepts and never answers: a hung server.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	for name, host := range map[string]string{"refused": addr, "silent": hung.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			const budget = 2 * time.Second
			start := time.Now()
			_, err := Open(context.Background(), Options{DSN: "clickhouse://u:pw-123@" + host + "/tally", ConnectTimeout: budget}, nil)
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("Open succeeded against nothing")
			}
			if !strings.Contains(err.Error(), "connect to clickhouse at "+host) {
				t.Errorf("error %q should name the host", err)
			}
			if strings.Contains(err.Error(), "pw-123") {
				t.Errorf("error leaks the password: %q", err)
			}
			if elapsed > budget+time.Second {
				t.Errorf("took %v, want at most the %v budget", elapsed, budget)
			}
		})
	}
}

// After Send, only an error that proves nothing was stored is retried. Before the fix, server
// exceptions such as 319 UNKNOWN_STATUS_OF_INSERT were retried as if nothing had landed.
func TestSendFailureClassified(t *testing.T) {
	for _, tc := range []struct {
		err   error
		retry bool
	}{
		{&clickhouse.Exception{Code: 319, Name: "UNKNOWN_STATUS_OF_INSERT"}, false},
		{&clickhouse.Exception{Code: 209, Name: "SOCKET_TIMEOUT"}, false},
		{&clickhouse.Exception{Code: 159, Name: "TIMEOUT_EXCEEDED"}, false},
		{&clickhouse.Exception{Code: 241, Name: "MEMORY_LIMIT_EXCEEDED"}, false},
		{&clickhouse.Exception{Code: 999, Name: "KEEPER_EXCEPTION"}, false},
		{&clickhouse.Exception{Code: 53, Name: "TYPE_MISMATCH"}, false},
		{io.ErrUnexpectedEOF, false},
		{syscall.ECONNRESET, false},
		{&clickhouse.Exception{Code: 252, Name: "TOO_MANY_PARTS"}, true},
		{&clickhouse.Exception{Code: 242, Name: "TABLE_IS_READ_ONLY"}, true},
	} {
		got := sendFailure(tc.err)
		if transient(got) != tc.retry {
			t.Errorf("Send failed with %v: retried %v, want %v", tc.err, transient(got), tc.retry)
		}
		if !tc.retry && !errors.Is(got, ErrInsertOutcomeUnknown) {
			t.Errorf("Send failed with %v: %v does not say the outcome is unknown", tc.err, got)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("%v does not wrap the cause %v", got, tc.err)
		}
	}
}

func TestSendFailureIsNotRetried(t *testing.T) {
	err := permanent{fmt.Errorf("%w: %w", ErrInsertOutcomeUnknown, io.ErrUnexpectedEOF)}
	if transient(err) {
		t.Error("a send that failed mid-way is retried; the rollups would count a landed batch twice")
	}
	if !errors.Is(err, ErrInsertOutcomeUnknown) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("%v should wrap ErrInsertOutcomeUnknown and the cause", err)
	}
}
