package api

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

var (
	errBusy    = errors.New("no free query slot")
	errRender  = errors.New("render")
	errNoStore = errors.New("no store")
)

// Bounds of the cache: past them the entries closest to expiry go first.
const (
	cacheMaxEntries = 256
	cacheMaxBytes   = 64 << 20
	// Bodies larger than this are shared by requests in flight but not kept.
	cacheMaxBody = 8 << 20
)

// cache keeps report bodies for a TTL under their normalised request, and lets identical
// requests in flight share one computation.
type cache struct {
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]*entry
	bytes   int
}

type entry struct {
	done    chan struct{} // closed when body and err are set
	body    []byte
	err     error
	expires time.Time
}

func newCache(ttl time.Duration, now func() time.Time) *cache {
	return &cache{ttl: ttl, now: now, entries: map[string]*entry{}}
}

// Results of cache.get, the "result" label of tally_api_report_cache_total.
const (
	cacheHit    = "hit"
	cacheShared = "shared"
	cacheMiss   = "miss"
)

// get returns the body for key: a cached one, the one a computation in flight produces, or
// the one fill computes now. fill runs detached from ctx, under ctx's values, so a client
// that goes away does not fail the others waiting for the same body; start gives it its
// context (and deadline). A failed computation is not kept.
func (c *cache) get(ctx context.Context, key string, start func(context.Context) (context.Context, context.CancelFunc),
	fill func(context.Context) ([]byte, error)) ([]byte, string, error) {
	c.mu.Lock()
	result := cacheShared
	e, ok := c.entries[key]
	if ok {
		select {
		case <-e.done:
			if c.now().Before(e.expires) {
				c.mu.Unlock()
				return e.body, cacheHit, nil
			}
			c.remove(key, e)
			ok = false
		default:
		}
	}
	if !ok {
		result = cacheMiss
		e = &entry{done: make(chan struct{})}
		c.entries[key] = e
		go func() {
			fctx, cancel := start(context.WithoutCancel(ctx))
			defer cancel()
			body, err := fill(fctx)
			c.mu.Lock()
			defer c.mu.Unlock()
			e.body, e.err = body, err
			if err != nil || c.ttl <= 0 || len(body) > cacheMaxBody {
				c.remove(key, e)
			} else {
				e.expires = c.now().Add(c.ttl)
				c.bytes += len(body)
				c.evict()
			}
			close(e.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.body, result, e.err
	case <-ctx.Done():
		return nil, result, ctx.Err()
	}
}

// remove drops key's entry if it is still e. The caller holds c.mu.
func (c *cache) remove(key string, e *entry) {
	if c.entries[key] != e {
		return
	}
	delete(c.entries, key)
	if !e.expires.IsZero() {
		c.bytes -= len(e.body)
	}
}

// evict drops expired entries, then the ones closest to expiry while the cache is over its
// bounds. The caller holds c.mu.
func (c *cache) evict() {
	now := c.now()
	for k, e := range c.entries {
		if !e.expires.IsZero() && !now.Before(e.expires) {
			c.remove(k, e)
		}
	}
	for len(c.entries) > cacheMaxEntries || c.bytes > cacheMaxBytes {
		var (
			oldKey string
			old    *entry
		)
		for k, e := range c.entries {
			if !e.expires.IsZero() && (old == nil || e.expires.Before(old.expires)) {
				oldKey, old = k, e
			}
		}
		if old == nil {
			return // only computations in flight
		}
		c.remove(oldKey, old)
	}
}

// acquire takes one of the query slots, waiting at most as long as ctx.
func (a *api) acquire(ctx context.Context) (release func(), err error) {
	select {
	case a.limit <- struct{}{}: // a free slot wins over an ended context
	default:
		select {
		case a.limit <- struct{}{}:
		case <-ctx.Done():
			return nil, errBusy
		}
	}
	a.metrics.inFlight.Inc()
	return func() {
		a.metrics.inFlight.Dec()
		<-a.limit
	}, nil
}

// unavailable reports whether err says ClickHouse cannot be reached at all.
func unavailable(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}
