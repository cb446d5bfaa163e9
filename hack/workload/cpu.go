package main

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// spinSlice is how long a worker burns before it checks the process's CPU time again.
const spinSlice = 5 * time.Millisecond

// cpuPlan is the closed-loop controller of the CPU burner: it compares the CPU time the process
// has used with cores × elapsed wall time and says how long to sleep to get back on target.
type cpuPlan struct {
	cores float64
	// maxDebt bounds how far behind target the process may fall (when the machine or a CPU
	// limit does not give it the CPU): older debt is forgiven instead of being paid back later
	// in a burst.
	maxDebt time.Duration
}

func newCPUPlan(cores float64) cpuPlan {
	return cpuPlan{cores: cores, maxDebt: time.Duration(cores * float64(2*time.Second))}
}

// next returns how long every worker should sleep now (0: keep burning) and how much CPU time
// to forgive (add to the used figure from now on) because the process fell too far behind.
func (p cpuPlan) next(used, elapsed time.Duration) (sleep, forgive time.Duration) {
	target := time.Duration(p.cores * float64(elapsed))
	if used >= target {
		// Sleeping d lets the target grow by cores × d while the workers use nothing.
		return time.Duration(float64(used-target) / p.cores), 0
	}
	if debt := target - used; debt > p.maxDebt {
		return 0, debt - p.maxDebt
	}
	return 0, 0
}

// workers is the number of goroutines needed to burn cores: one per started core.
func workers(cores float64) int {
	return max(1, int(math.Ceil(cores-1e-9)))
}

// processCPU is the CPU time (user + system) of every thread of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// burnCPU keeps the process's own CPU use at cores until ctx ends.
func burnCPU(ctx context.Context, cores float64) {
	plan := newCPUPlan(cores)
	var (
		mu       sync.Mutex
		start    = time.Now()
		cpu0     = processCPU()
		forgiven time.Duration
	)
	check := func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		sleep, forgive := plan.next(processCPU()-cpu0+forgiven, time.Since(start))
		forgiven += forgive
		return sleep
	}
	var wg sync.WaitGroup
	for range workers(cores) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One timer per worker: no allocation per sleep, so the Go heap (and with it the
			// container's working set) stays flat.
			timer := time.NewTimer(time.Hour)
			timer.Stop()
			for ctx.Err() == nil {
				spin(spinSlice)
				if d := check(); d > 0 {
					timer.Reset(d)
					select {
					case <-ctx.Done():
						timer.Stop()
					case <-timer.C:
					}
				}
			}
		}()
	}
	wg.Wait()
}

var spinSink atomic.Uint64

// spin keeps one thread busy for d of wall time.
func spin(d time.Duration) {
	x := uint64(time.Now().UnixNano()) | 1
	for t := time.Now(); time.Since(t) < d; {
		for range 1000 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	spinSink.Add(x) // keeps the loop from being optimised away
}
