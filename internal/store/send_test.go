package store

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// cuttingProxy forwards TCP connections to target and cuts each one once the client has
// sent more than limit bytes: a connection lost in the middle of an insert. It counts the
// connections it accepted.
func cuttingProxy(t *testing.T, target string, limit int64) (addr string, accepted *atomic.Int64) {
	accepted = new(atomic.Int64)
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			var sent atomic.Int64
			go func() { // server → client
				_, _ = io.Copy(client, server)
				client.Close()
			}()
			go func() { // client → server, cut past the limit
				buf := make([]byte, 32<<10)
				for {
					n, err := client.Read(buf)
					if n > 0 {
						if sent.Add(int64(n)) > limit {
							client.Close()
							server.Close()
							return
						}
						if _, werr := server.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						server.Close()
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String(), accepted
}

// A connection lost while a batch is sent: the store reports that the outcome is unknown and
// does not send the batch again (a landed copy would be counted twice by the rollups).
func TestInsertCutMidSendIsReportedNotRetried(t *testing.T) {
	s := openTestStore(t)
	u, err := url.Parse(withDatabase(t, s.opts.DSN, s.db))
	if err != nil {
		t.Fatal(err)
	}
	var accepted *atomic.Int64
	u.Host, accepted = cuttingProxy(t, u.Host, 1<<20) // handshake and query pass; the 100,000-row block does not
	u.RawQuery = "compress=none"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cut, err := Open(ctx, Options{DSN: u.String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cut.Close()

	err = cut.InsertUsageSamples(ctx, benchSamples(100_000))
	if !errors.Is(err, ErrInsertOutcomeUnknown) {
		t.Fatalf("insert through a cut connection: err = %v, want ErrInsertOutcomeUnknown", err)
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("the store opened %d connections: it tried the batch again", n)
	}
	var rows uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM usage_samples").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("usage_samples has %d rows after a cut insert; a half-sent block must not be stored", rows)
	}
}
