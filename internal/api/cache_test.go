package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func noDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(ctx)
}

// Concurrent requests for one key share one computation; later ones within the TTL are
// hits; after it, the body is computed again.
func TestCacheSharesAndExpires(t *testing.T) {
	clock := time.Date(2026, 3, 16, 6, 30, 0, 0, time.UTC)
	var mu sync.Mutex
	c := newCache(time.Minute, func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
	var calls atomic.Int32
	release := make(chan struct{})
	fill := func(context.Context) ([]byte, error) {
		calls.Add(1)
		<-release
		return []byte("body"), nil
	}
	const n = 50
	var wg sync.WaitGroup
	results := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, result, err := c.get(context.Background(), "k", noDeadline, fill)
			if err != nil || string(body) != "body" {
				t.Errorf("get = %q, %v", body, err)
			}
			results <- result
		}()
	}
	// Wait until every caller waits on the one computation.
	for deadline := time.Now().Add(5 * time.Second); calls.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	close(results)
	count := map[string]int{}
	for r := range results {
		count[r]++
	}
	if calls.Load() != 1 || count[cacheMiss] != 1 || count[cacheShared]+count[cacheHit] != n-1 {
		t.Errorf("%d computations, results %v; want 1 computation, 1 miss and %d shared or hits", calls.Load(), count, n-1)
	}
	if _, result, _ := c.get(context.Background(), "k", noDeadline, fill); result != cacheHit {
		t.Errorf("within the TTL: %s, want hit", result)
	}
	if _, result, _ := c.get(context.Background(), "other", noDeadline, fill); result != cacheMiss || calls.Load() != 2 {
		t.Errorf("another key: %s after %d computations, want miss and 2", result, calls.Load())
	}
	mu.Lock()
	clock = clock.Add(time.Minute)
	mu.Unlock()
	if _, result, _ := c.get(context.Background(), "k", noDeadline, fill); result != cacheMiss || calls.Load() != 3 {
		t.Errorf("after the TTL: %s after %d computations, want miss and 3", result, calls.Load())
	}
	if len(c.entries) != 1 || c.bytes != len("body") {
		t.Errorf("%d entries of %d bytes kept, want the fresh one only", len(c.entries), c.bytes)
	}
}

func TestCacheKeepsNoFailure(t *testing.T) {
	c := newCache(time.Minute, time.Now)
	var calls int
	failing := func(context.Context) ([]byte, error) { calls++; return nil, errors.New("boom") }
	for range 3 {
		if _, _, err := c.get(context.Background(), "k", noDeadline, failing); err == nil || err.Error() != "boom" {
			t.Fatalf("err %v, want boom", err)
		}
	}
	if calls != 3 || len(c.entries) != 0 {
		t.Errorf("%d computations, %d entries; want 3 and none kept", calls, len(c.entries))
	}
}

func TestCacheWithoutTTLKeepsNothing(t *testing.T) {
	c := newCache(0, time.Now)
	var calls int
	fill := func(context.Context) ([]byte, error) { calls++; return []byte("x"), nil }
	for range 3 {
		if _, result, _ := c.get(context.Background(), "k", noDeadline, fill); result != cacheMiss {
			t.Errorf("result %s, want miss", result)
		}
	}
	if calls != 3 || len(c.entries) != 0 || c.bytes != 0 {
		t.Errorf("%d computations, %d entries, %d bytes; want 3, 0, 0", calls, len(c.entries), c.bytes)
	}
}

// A caller that goes away gets its context's error at once; the computation goes on for
// the others, under its own deadline.
func TestCacheCallerCancelled(t *testing.T) {
	c := newCache(time.Minute, time.Now)
	release := make(chan struct{})
	var fillErr atomic.Value
	fill := func(ctx context.Context) ([]byte, error) {
		<-release
		if ctx.Err() != nil {
			fillErr.Store(ctx.Err())
		}
		return []byte("body"), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, _, err := c.get(ctx, "k", noDeadline, fill); done <- err }()
	other := make(chan []byte)
	go func() {
		time.Sleep(10 * time.Millisecond)
		body, _, _ := c.get(context.Background(), "k", noDeadline, fill)
		other <- body
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v, want context.Canceled", err)
	}
	close(release)
	if body := <-other; string(body) != "body" {
		t.Errorf("the other caller got %q", body)
	}
	if err := fillErr.Load(); err != nil {
		t.Errorf("the computation saw %v: the first caller's cancellation reached it", err)
	}
}

func TestCacheEvictsOverBounds(t *testing.T) {
	c := newCache(time.Hour, time.Now)
	big := make([]byte, cacheMaxBody)
	for i := range 12 { // 12 × 8 MiB > 64 MiB
		key := string(rune('a' + i))
		if _, _, err := c.get(context.Background(), key, noDeadline, func(context.Context) ([]byte, error) { return big, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if c.bytes > cacheMaxBytes || len(c.entries) != cacheMaxBytes/cacheMaxBody {
		t.Errorf("%d bytes in %d entries, want at most %d bytes", c.bytes, len(c.entries), cacheMaxBytes)
	}
	if _, ok := c.entries["l"]; !ok {
		t.Error("the newest entry was evicted")
	}
	tooBig := make([]byte, cacheMaxBody+1)
	_, _, _ = c.get(context.Background(), "huge", noDeadline, func(context.Context) ([]byte, error) { return tooBig, nil })
	if _, ok := c.entries["huge"]; ok {
		t.Error("a body over cacheMaxBody was kept")
	}
}

// With every query slot taken, a request waits for one within the query timeout, then
// fails with 503; a slot coming free lets it through.
func TestQuerySlots(t *testing.T) {
	a := &api{opts: Options{QueryTimeout: 50 * time.Millisecond}, limit: make(chan struct{}, 1), log: slog.New(slog.DiscardHandler)}
	var err error
	if a.metrics, err = newMetrics(prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	release, err := a.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.QueryTimeout)
	defer cancel()
	if _, err := a.acquire(ctx); !errors.Is(err, errBusy) {
		t.Fatalf("with no free slot: %v, want errBusy", err)
	}
	e := a.storeFailure(httptest.NewRequest("GET", "/api/v1/costs", nil), errBusy)
	if e.status != http.StatusServiceUnavailable || !strings.Contains(e.msg, "try again") {
		t.Errorf("busy: %d %q", e.status, e.msg)
	}
	go func() { time.Sleep(10 * time.Millisecond); release() }()
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	release2, err := a.acquire(ctx2)
	if err != nil {
		t.Fatalf("a slot came free: %v", err)
	}
	release2()
}
