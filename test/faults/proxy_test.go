package faults

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// proxy is a TCP proxy between tally and a server, the suite's way to make the network fail:
// it passes connections through, refuses them while down, and cuts some of them after a
// random number of bytes in either direction, so that an insert is cut while it is sent and
// an answer while it is read.
type proxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	down     bool
	cutEvery int // cut one connection in cutEvery (0: none)
	cutsLeft int
	rng      *rand.Rand
	conns    map[net.Conn]struct{}

	cuts, refused atomic.Int64
}

func startProxy(t *testing.T, target string, seed uint64) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, rng: rand.New(rand.NewPCG(seed, seed+1)), conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.closeAll() })
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

// setDown refuses (closes at once) every new connection and closes the open ones while down.
func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
	if down {
		p.closeAll()
	}
}

// cutSome cuts one connection in every, after a random number of bytes (1 to 256 KiB) in a
// random direction, until n connections have been cut.
func (p *proxy) cutSome(every, n int) {
	p.mu.Lock()
	p.cutEvery, p.cutsLeft = every, n
	p.mu.Unlock()
}

func (p *proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *proxy) handle(client net.Conn) {
	p.mu.Lock()
	down := p.down
	cutAfter, cutUp := int64(-1), false
	if !down && p.cutEvery > 0 && p.cutsLeft > 0 && p.rng.IntN(p.cutEvery) == 0 {
		p.cutsLeft--
		cutAfter, cutUp = 1+p.rng.Int64N(256<<10), p.rng.IntN(2) == 0
	}
	p.mu.Unlock()
	if down {
		p.refused.Add(1)
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, client)
		delete(p.conns, server)
		p.mu.Unlock()
	}()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn, limit int64) {
		defer wg.Done()
		if limit >= 0 {
			if n, _ := io.CopyN(dst, src, limit); n == limit {
				p.cuts.Add(1)
			}
		} else {
			_, _ = io.Copy(dst, src)
		}
		// One side ended (or was cut): end both, as a dropped connection does.
		client.Close()
		server.Close()
	}
	up, downLimit := int64(-1), int64(-1)
	if cutAfter >= 0 {
		if cutUp {
			up = cutAfter
		} else {
			downLimit = cutAfter
		}
	}
	wg.Add(2)
	go pipe(server, client, up)
	go pipe(client, server, downLimit)
	wg.Wait()
}
