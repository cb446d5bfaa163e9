package faults

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"
)

// scenario is one fault, repeated reps times, each time on a fresh database.
type scenario struct {
	name, about string
	reps        int
	unit        string // what injected counts
	min         int    // at least this many injected in all
	skip        []string
	reports     func(file string) bool // the reports compared; nil: all
	run         func(t *testing.T, e *env, db string, rep int, rng *rand.Rand) (runs, injected int, err error)
}

// randomIn is a random duration in [lo, hi).
func randomIn(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}

// during waits d unless the run ends first; it reports whether the run is still going.
func during(p *process, d time.Duration) bool {
	select {
	case <-p.done:
		return false
	case <-time.After(d):
		return true
	}
}

// scenarios are the faults, given the uninterrupted catch-up's duration d0 to place them in.
func scenarios(e *env, d0 time.Duration) []scenario {
	return []scenario{
		{
			name: "kill", about: "collector killed (SIGKILL) at 20 random points of each 3-day catch-up (0.2 s to a twentieth of its uninterrupted time into each run), restarted each time",
			// The kills come early enough that 20 of them take less work than the catch-up
			// (a tenth of it let a fast machine finish after 17).
			reps: 2, unit: "kills", min: 36,
			run: func(t *testing.T, e *env, db string, rep int, rng *rand.Rand) (int, int, error) {
				kills := 0
				return e.untilDone(e.collectorArgs(db, e.chAddr(), e.promURL, "", asOf, history), 100, func(_ int, p *process) int {
					if kills >= 20 || !during(p, randomIn(rng, 200*time.Millisecond, d0/20)) {
						return 0
					}
					_ = p.cmd.Process.Kill()
					kills++
					return 1
				})
			},
		},
		{
			name: "clickhouse-hang", about: "ClickHouse hung (SIGSTOP) for 2–8 s, 3 times a catch-up, with a 3 s read timeout: inserts and queries time out mid-way",
			reps: 2, unit: "hangs", min: 4,
			run: func(t *testing.T, e *env, db string, rep int, rng *rand.Rand) (int, int, error) {
				params := withQuery(url.Values{"read_timeout": {"3s"}})
				return e.untilDone(e.collectorArgs(db, e.chAddr(), e.promURL, params, asOf, history), 20, func(n int, p *process) int {
					hangs := 0
					for n == 1 && hangs < 3 && during(p, randomIn(rng, time.Second, d0/3)) {
						if err := e.ch.hang(randomIn(rng, 2*time.Second, 8*time.Second)); err != nil {
							t.Errorf("hang ClickHouse: %v", err)
						}
						hangs++
					}
					return hangs
				})
			},
		},
		{
			name: "clickhouse-restart", about: "ClickHouse stopped (SIGTERM) and started again after 1–3 s, twice a catch-up (in its first third, then within a fifth of its time after, in whichever run is going)",
			// A run resumed from the watermarks may finish before the second restart: at
			// least 3 of the 4 (a CI run had 3).
			reps: 2, unit: "restarts", min: 3,
			run: func(t *testing.T, e *env, db string, rep int, rng *rand.Rand) (int, int, error) {
				defer e.reconnect(t)
				// A run may give up while the server is down (its retries spent) and the next
				// one goes on from the watermarks: the second restart falls in whichever run
				// is going, soon after the first.
				restarts := 0
				wait := randomIn(rng, d0/10, d0/3)
				return e.untilDone(e.collectorArgs(db, e.chAddr(), e.promURL, "", asOf, history), 20, func(n int, p *process) int {
					injected := 0
					for restarts < 2 && during(p, wait) {
						if err := e.ch.restart(randomIn(rng, time.Second, 3*time.Second)); err != nil {
							t.Errorf("restart ClickHouse: %v", err)
						}
						restarts++
						injected++
						wait = randomIn(rng, d0/20, d0/5)
					}
					return injected
				})
			},
		},
		{
			name: "prometheus-away", about: "Prometheus unreachable for 10 s (connections refused and dropped): at the start of the catch-up, then in its middle",
			reps: 2, unit: "outages", min: 2,
			run: func(t *testing.T, e *env, db string, rep int, rng *rand.Rand) (int, int, error) {
				px := startProxy(t, hostOf(e.promURL), rng.Uint64())
				url := "http://" + px.addr()
				if rep == 0 {
					px.setDown(true)
					time.AfterFunc(10*time.Second, func() { px.setDown(false) })
				}
				return e.untilDone(e.collectorArgs(db, e.chAddr(), url, "", asOf, history), 50, func(n int, p *process) int {
					if rep == 0 { // the outage started with the first run
						if n == 1 {
							return 1
						}
						return 0
					}
					if n != 1 || !during(p, randomIn(rng, time.Second, d0/2)) {
						return 0
					}
					px.setDown(true)
					time.Sleep(10 * time.Second)
					px.setDown(false)
					return 1
				})
			},
		},
		{
			name: "cut-connections", about: "a TCP proxy before ClickHouse and one before Prometheus cut each new connection after a random 1 B–256 KiB, in either direction (mid-insert, mid-answer), the first 8 of each",
			reps: 2, unit: "connections cut", min: 8,
			run: func(t *testing.T, e *env, db string, rep int, rng *rand.Rand) (int, int, error) {
				chp := startProxy(t, e.chAddr(), rng.Uint64())
				pp := startProxy(t, hostOf(e.promURL), rng.Uint64())
				chp.cutSome(1, 8)
				pp.cutSome(1, 8)
				runs, _, err := e.untilDone(e.collectorArgs(db, chp.addr(), "http://"+pp.addr(), "", asOf, history), 50, func(int, *process) int { return 0 })
				return runs, int(chp.cuts.Load() + pp.cuts.Load()), err
			},
		},
		{
			name: "cron", about: "cron mode: collector --once every simulated hour for the last 12 hours (the clock injected with --as-of) instead of one catch-up",
			reps: 1, unit: "hourly runs", min: 13,
			// Every run snapshots the API server's objects at its time: more snapshots than
			// one catch-up takes, by design. Costs, usage, prices and reports must not change.
			// Recommendations use the autoscalers of their window's last day, which only the
			// hourly runs saw (a catch-up has no history of them): not compared.
			skip: []string{"containers", "nodes", "namespaces", "volumes", "pod_claims", "autoscalers", "watermarks", "recommendations"},
			reports: func(f string) bool {
				return strings.HasPrefix(f, "costs")
			},
			run: func(t *testing.T, e *env, db string, rep int, rng *rand.Rand) (int, int, error) {
				runs := 0
				for i := 12; i >= 0; i-- {
					at := asOf.Add(-time.Duration(i) * time.Hour)
					// The first run catches up from the same start as the uninterrupted one.
					args := e.collectorArgs(db, e.chAddr(), e.promURL, "", at, history-asOf.Sub(at))
					n, _, err := e.untilDone(args, 1, nil)
					runs += n
					if err != nil {
						return runs, runs, fmt.Errorf("run as of %s: %w", at.Format(time.TimeOnly), err)
					}
				}
				return runs, runs, nil
			},
		},
	}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Host
}
